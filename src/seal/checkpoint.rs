//! The version log's checkpoint (`INTEGRITY.md` §3): `log/checkpoint` holds the C2SP checkpoint
//! body `ORIGIN\nSIZE\nBASE64(ROOT)\n`, where ROOT is the RFC 6962 root over the first SIZE lines
//! of `log/entries` (each line without its LF is one leaf). `log/checkpoint.sig` signs it in the
//! namespace `NAMESPACE-checkpoint`.
//!
//! The pair is replaced through `log/.pending/`: both new files are written and flushed there
//! first, then renamed into `log/` one after the other, then the folder is removed. A build killed
//! between the two renames leaves the other half of the new pair in `log/.pending/`; verification
//! accepts a pair taken from either place when it verifies, and the next build completes the move.

use std::fs;
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::merkle::Tree;
use super::sign::{CHECKPOINT_SUFFIX, Signer};
use crate::render::publish::{sync_dir, write_synced};

/// A parsed checkpoint body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: [u8; 32],
}

impl Checkpoint {
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parses a checkpoint body (extension lines after the root are allowed, as in C2SP).
    pub fn parse(text: &str) -> Result<Checkpoint, String> {
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or("no origin line")?;
        let size = lines
            .next()
            .and_then(|l| l.parse::<u64>().ok())
            .ok_or("line 2 is not a tree size")?;
        let root = lines
            .next()
            .and_then(|l| STANDARD.decode(l).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or("line 3 is not a base64 SHA-256 root")?;
        if !text.ends_with('\n') {
            return Err("the body does not end with a newline".into());
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

/// The root over the first `n` lines of `entries`, or `None` when it has fewer.
pub fn root_of(entries: &str, n: u64) -> Option<[u8; 32]> {
    let mut t = Tree::new();
    for line in entries.lines().take(usize::try_from(n).ok()?) {
        t.push(line.as_bytes());
    }
    (t.len() == n).then(|| t.root())
}

/// The checkpoint over all of `entries`.
pub fn of(origin: &str, entries: &str) -> Checkpoint {
    let size = entries.lines().count() as u64;
    Checkpoint {
        origin: origin.to_string(),
        size,
        root: root_of(entries, size).expect("all lines are there"),
    }
}

/// Finishes a pair move that a killed build left in `log/.pending/`.
pub fn complete_pending(root: &Path) -> anyhow::Result<()> {
    let pending = root.join("log/.pending");
    if !pending.is_dir() {
        return Ok(());
    }
    for name in ["checkpoint.sig", "checkpoint"] {
        let from = pending.join(name);
        if from.is_file() {
            fs::rename(&from, root.join("log").join(name))
                .with_context(|| format!("cannot move `{}`", from.display()))?;
        }
    }
    fs::remove_dir_all(&pending).with_context(|| format!("cannot remove `{}`", pending.display()))
}

/// Rewrites `log/checkpoint` (and its signature when a signer is given) over `log/entries`.
/// Unsigned sites get no `checkpoint.sig`, and a stale one is removed.
pub fn write(root: &Path, origin: &str, signer: Option<&Signer>) -> anyhow::Result<()> {
    let log = root.join("log");
    let entries_path = log.join("entries");
    let entries = fs::read_to_string(&entries_path)
        .with_context(|| format!("cannot read `{}`", entries_path.display()))?;
    let body = of(origin, &entries).body();
    let sig = signer
        .map(|s| {
            s.sign(
                &format!("{}{CHECKPOINT_SUFFIX}", s.namespace),
                body.as_bytes(),
            )
        })
        .transpose()?;
    if fs::read_to_string(log.join("checkpoint")).ok().as_deref() == Some(body.as_str())
        && fs::read_to_string(log.join("checkpoint.sig")).ok() == sig
    {
        return Ok(());
    }
    complete_pending(root)?;
    let pending = log.join(".pending");
    fs::create_dir_all(&pending)
        .with_context(|| format!("cannot create `{}`", pending.display()))?;
    write_synced(&pending.join("checkpoint"), body.as_bytes())?;
    if let Some(sig) = &sig {
        write_synced(&pending.join("checkpoint.sig"), sig.as_bytes())?;
    }
    sync_dir(&pending);
    if sig.is_none() {
        match fs::remove_file(log.join("checkpoint.sig")) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).context("cannot remove the stale `log/checkpoint.sig`"),
        }
    }
    complete_pending(root)?;
    sync_dir(&log);
    Ok(())
}

/// The default origin line: `trailbook/<organization>/<title>/<audience>`, each part reduced to
/// `[a-z0-9.-]`.
pub fn default_origin(organization: &str, title: &str, audience: &str) -> String {
    let slug = |s: &str| {
        let mut out = String::new();
        for c in s.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() || c == '.' {
                out.push(c);
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        let t = out.trim_matches(['-', '.']).to_string();
        if t.is_empty() {
            "untitled".to_string()
        } else {
            t
        }
    };
    format!(
        "trailbook/{}/{}/{}",
        slug(organization),
        slug(title),
        slug(audience)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_and_roots_cover_prefixes() {
        let entries = "aa  v1/SHA256SUMS\nbb  v2/SHA256SUMS\ncc  v3/SHA256SUMS\n";
        let cp = of("trailbook/acme/credit/internal", entries);
        assert_eq!(cp.size, 3);
        assert_eq!(Checkpoint::parse(&cp.body()).unwrap(), cp);
        assert_eq!(
            root_of(entries, 3).unwrap(),
            super::super::merkle::root(&[
                "aa  v1/SHA256SUMS",
                "bb  v2/SHA256SUMS",
                "cc  v3/SHA256SUMS"
            ])
        );
        assert_eq!(
            root_of(entries, 2),
            Some(of("o", "aa  v1/SHA256SUMS\nbb  v2/SHA256SUMS\n").root)
        );
        assert_eq!(root_of(entries, 4), None);
        assert!(Checkpoint::parse("o\nx\nAAAA\n").is_err());
        assert!(Checkpoint::parse("o\n1\nAAAA\n").is_err(), "not 32 bytes");
    }

    #[test]
    fn origins_are_one_clean_line() {
        assert_eq!(
            default_origin("Acme Bank, S.A.", "Credit  risk!", "internal"),
            "trailbook/acme-bank-s.a/credit-risk/internal"
        );
        assert_eq!(
            default_origin("", "", "public"),
            "trailbook/untitled/untitled/public"
        );
    }
}
