//! `inputs.lock` (`INTEGRITY.md` §2): what each version read, so the next build can tell a log
//! that only grew from one whose tail was cut or whose lines were rewritten (LOG-03).
//!
//! Per source and file: path, SHA-256, size, record count, first and last event time, first and
//! last `seq`, the head (SHA-256 of the last line) and the RFC 6962 root over the file's lines.
//! A leaf is the 32-byte SHA-256 of one line's exact bytes (without its LF), so the root is
//! `MTH(SHA-256(line 1), …, SHA-256(line N))`; the line digests are the ones the hash chain
//! already computes.
//!
//! The next build recomputes, for each file of the previous lock, the root of its first N lines
//! (N = the recorded count) and compares — the consistency check of Certificate Transparency
//! clients, by recomputation. Formats without lines (foreign adapters) compare bytes instead: the
//! previous file must be a byte prefix of the current one.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::merkle::Tree;
use crate::ingest::Ingest;

pub const FORMAT: &str = "trailbook-inputs-lock/1";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputsLock {
    pub format: String,
    pub sources: Vec<LockSource>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockSource {
    pub name: String,
    pub format: String,
    /// Files in stream order.
    pub files: Vec<LockFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    /// Lines (native format) or records.
    pub records: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_ts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_ts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_seq: Option<u64>,
    /// SHA-256 of the last line (native format).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub head: Option<String>,
    /// RFC 6962 root over the lines' SHA-256 digests (native format).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub merkle_root: Option<String>,
}

/// RFC 6962 root of the first `n` digests.
fn root_of(digests: &[[u8; 32]]) -> [u8; 32] {
    let mut t = Tree::new();
    for d in digests {
        t.push(d);
    }
    t.root()
}

/// The lock of what `ingest` read.
pub fn build(ingest: &Ingest) -> InputsLock {
    let sources = ingest
        .sources
        .iter()
        .map(|s| LockSource {
            name: s.name.clone(),
            format: s.format.clone(),
            files: s
                .files
                .iter()
                .map(|&i| {
                    let f = &ingest.files[i as usize];
                    let native = s.format == "trailbook-jsonl";
                    let t = f.ts_range;
                    LockFile {
                        path: f.path.clone(),
                        sha256: f.sha256.clone(),
                        bytes: f.bytes,
                        records: f.lines,
                        first_ts: t.map(|t| crate::time::fmt(t.0)),
                        last_ts: t.map(|t| crate::time::fmt(t.1)),
                        first_seq: f.seqs.map(|s| s.0),
                        last_seq: f.seqs.map(|s| s.1),
                        head: f.line_digests.last().map(hex::encode),
                        merkle_root: native.then(|| hex::encode(root_of(&f.line_digests))),
                    }
                })
                .collect(),
        })
        .collect();
    InputsLock {
        format: FORMAT.to_string(),
        sources,
    }
}

/// The lock as written into a version: pretty JSON, LF-terminated.
pub fn to_bytes(lock: &InputsLock) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(lock).expect("a lock always serializes");
    s.push('\n');
    s.into_bytes()
}

/// Reads a version's `inputs.lock`; `None` when the version has none (built before locks).
pub fn read(path: &Path) -> anyhow::Result<Option<InputsLock>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    };
    let lock: InputsLock = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "`{}` is not an inputs lock of this version of trailbook",
            path.display()
        )
    })?;
    anyhow::ensure!(
        lock.format == FORMAT,
        "`{}` has format `{}`, expected `{FORMAT}`",
        path.display(),
        lock.format
    );
    Ok(Some(lock))
}

/// What LOG-03 found wrong with one file of the previous lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// (a) the line at the recorded count no longer hashes to the recorded head.
    HeadRewritten {
        line: u64,
        expected: String,
        found: String,
    },
    /// (b) fewer lines (or bytes) than recorded.
    Truncated {
        recorded: u64,
        now: u64,
        unit: &'static str,
    },
    /// (b) the root of the first N lines (or the first bytes) differs.
    Rewritten { recorded: String, now: String },
    /// (c) the file is gone.
    Gone,
}

#[derive(Clone, Debug)]
pub struct Break {
    pub source: String,
    pub file: LockFile,
    pub problem: Problem,
}

/// Compares what `ingest` read against the previous lock. Sources that are no longer configured
/// are not compared (a config change, shown on the diff page), and files that grew are fine.
pub fn compare(previous: &InputsLock, ingest: &Ingest) -> Vec<Break> {
    let mut out = Vec::new();
    for old in &previous.sources {
        let Some(now) = ingest.sources.iter().find(|s| s.name == old.name) else {
            continue;
        };
        for file in &old.files {
            let current = now
                .files
                .iter()
                .map(|&i| &ingest.files[i as usize])
                .find(|f| f.path == file.path);
            let problem = match current {
                None => Some(Problem::Gone),
                Some(f) if f.sha256 == file.sha256 => None,
                Some(f) => match &file.merkle_root {
                    Some(root) if now.format == "trailbook-jsonl" => lines(file, root, f),
                    _ => bytes_prefix(file, f),
                },
            };
            if let Some(problem) = problem {
                out.push(Break {
                    source: old.name.clone(),
                    file: file.clone(),
                    problem,
                });
            }
        }
    }
    out
}

fn lines(old: &LockFile, root: &str, now: &crate::ingest::FileReport) -> Option<Problem> {
    let n = old.records as usize;
    if now.line_digests.len() < n {
        return Some(Problem::Truncated {
            recorded: old.records,
            now: now.line_digests.len() as u64,
            unit: "lines",
        });
    }
    if let (Some(head), Some(last)) = (&old.head, n.checked_sub(1)) {
        let found = hex::encode(now.line_digests[last]);
        if &found != head {
            return Some(Problem::HeadRewritten {
                line: old.records,
                expected: head.clone(),
                found,
            });
        }
    }
    let found = hex::encode(root_of(&now.line_digests[..n]));
    (found != root).then(|| Problem::Rewritten {
        recorded: root.to_string(),
        now: found,
    })
}

fn bytes_prefix(old: &LockFile, now: &crate::ingest::FileReport) -> Option<Problem> {
    if now.bytes < old.bytes {
        return Some(Problem::Truncated {
            recorded: old.bytes,
            now: now.bytes,
            unit: "bytes",
        });
    }
    let digest = std::fs::File::open(&now.abs).and_then(|f| {
        let mut h = Sha256::new();
        let mut take = f.take(old.bytes);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = take.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(hex::encode(h.finalize()))
    });
    match digest {
        Ok(d) if d == old.sha256 => None,
        Ok(d) => Some(Problem::Rewritten {
            recorded: old.sha256.clone(),
            now: format!("{d} (SHA-256 of the first {} bytes)", old.bytes),
        }),
        Err(e) => Some(Problem::Rewritten {
            recorded: old.sha256.clone(),
            now: format!("unreadable: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::{chain, check, ev};

    fn events(n: usize) -> Vec<serde_json::Value> {
        (0..n)
            .map(|i| {
                ev(
                    &format!("e{i}"),
                    &format!("2026-01-{:02}T00:00:00Z", i + 1),
                    "access",
                    "resource:r",
                    json!({"action": "read"}),
                )
            })
            .collect()
    }

    fn lock_of(text: String) -> (InputsLock, crate::testing::Case) {
        let case = check(&[("main", text)], "");
        (build(&case.loaded.ingest), case)
    }

    #[test]
    fn growth_passes_and_every_kind_of_loss_is_told_apart() {
        let (old, _) = lock_of(chain(&events(5)));
        let file = &old.sources[0].files[0];
        assert_eq!(file.records, 5);
        assert_eq!((file.first_seq, file.last_seq), (Some(1), Some(5)));
        assert_eq!(file.first_ts.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(file.last_ts.as_deref(), Some("2026-01-05T00:00:00Z"));
        let round: InputsLock = serde_json::from_slice(&to_bytes(&old)).unwrap();
        assert_eq!(round, old);

        let (_, grown) = lock_of(chain(&events(7)));
        assert!(
            compare(&old, &grown.loaded.ingest).is_empty(),
            "appending is fine"
        );

        let (_, cut) = lock_of(chain(&events(3)));
        let b = compare(&old, &cut.loaded.ingest);
        assert_eq!(
            b[0].problem,
            Problem::Truncated {
                recorded: 5,
                now: 3,
                unit: "lines"
            }
        );

        // Line 5 rewritten (same count): the head no longer matches.
        let mut changed = events(6);
        changed[4]["attrs"]["action"] = json!("write");
        let (_, edited) = lock_of(chain(&changed));
        let b = compare(&old, &edited.loaded.ingest);
        assert!(
            matches!(b[0].problem, Problem::HeadRewritten { line: 5, .. }),
            "{b:?}"
        );

        // Line 2 rewritten, head intact: the root differs.
        let mut changed = events(5);
        changed[1]["attrs"]["action"] = json!("write");
        let text = chain(&changed);
        let original = chain(&events(5));
        let line5 = original.lines().nth(4).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[4] = line5;
        let (_, edited) = lock_of(lines.join("\n") + "\n");
        let b = compare(&old, &edited.loaded.ingest);
        assert!(matches!(b[0].problem, Problem::Rewritten { .. }), "{b:?}");
    }

    #[test]
    fn a_file_gone_is_a_break_to_be_judged_against_disposals() {
        let (mut old, case) = lock_of(chain(&events(2)));
        let mut gone = old.sources[0].files[0].clone();
        gone.path = "rotated-2025.jsonl".into();
        old.sources[0].files.insert(0, gone);
        let b = compare(&old, &case.loaded.ingest);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].problem, Problem::Gone);
        assert_eq!(b[0].file.path, "rotated-2025.jsonl");
    }
}
