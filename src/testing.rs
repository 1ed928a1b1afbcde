//! Test support: build a case from event lines, run the pipeline and the checks on it.
//!
//! Used by unit tests of every rule family. Lines are written to a temporary folder with a config,
//! so a case goes through exactly the stages a user's run does.

use std::fmt::Write as _;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::checks::{self, Finding, Findings};
use crate::cli::{Loaded, load};

/// A checked case; the folder lives as long as the case.
pub struct Case {
    pub dir: tempfile::TempDir,
    pub loaded: Loaded,
    pub findings: Findings,
}

impl Case {
    /// The findings of one rule.
    pub fn of(&self, rule: &str) -> Vec<&Finding> {
        self.findings
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .collect()
    }

    /// `(subject, discriminator, level)` of one rule's findings, sorted.
    pub fn keys(&self, rule: &str) -> Vec<(String, String, String)> {
        let mut v: Vec<_> = self
            .of(rule)
            .iter()
            .map(|f| (f.subject.clone(), f.discriminator.clone(), f.level.clone()))
            .collect();
        v.sort();
        v
    }

    /// Runs `f` with the render context of this case as version `version` of an `audience` site
    /// whose previous version said `previous`.
    pub fn with_cx<R>(
        &self,
        version: u32,
        audience: &str,
        previous: Option<crate::render::Previous>,
        f: impl FnOnce(&mut crate::render::Cx<'_>) -> R,
    ) -> R {
        let packs: Vec<String> = checks::catalogue::PACKS
            .iter()
            .filter(|p| self.loaded.config.policy.enabled(p.id))
            .map(|p| p.id.to_string())
            .collect();
        let input = crate::render::Input {
            config: &self.loaded.config,
            ingest: &self.loaded.ingest,
            model: &self.loaded.model,
            graph: &self.loaded.graph,
            findings: &self.findings,
            packs: &packs,
            exposure: if audience == "public" {
                crate::render::Exposure {
                    drill_down: false,
                    k: 10,
                    original_lines: false,
                    redactions: Vec::new(),
                }
            } else {
                crate::render::Exposure::internal()
            },
        };
        let mut cx = crate::render::Cx::new(&input, version, audience, previous, None)
            .expect("templates parse");
        f(&mut cx)
    }

    /// Renders this case as version 1 of an `internal` site, in memory (no files written).
    pub fn site(&self) -> crate::render::Pages {
        self.with_cx(1, "internal", None, |cx| {
            crate::render::render(cx).unwrap_or_else(|e| panic!("site does not render: {e:#}"))
        })
    }

    /// The status of a rule in this run (`evaluated`, `not_evaluable`, `not_applicable`).
    pub fn status(&self, rule: &str) -> Option<&checks::Status> {
        self.findings
            .rules
            .iter()
            .find(|r| r.rule == rule)
            .map(|r| &r.status)
    }
}

/// An event with the envelope filled in: `id`, `ts`, `kind`, an actor, and the given fields
/// (which override the defaults). `subject` is given as `"TYPE:ID"`.
pub fn ev(id: &str, ts: &str, kind: &str, subject: &str, attrs: Value) -> Value {
    let (ty, sid) = subject.split_once(':').expect("subject is TYPE:ID");
    json!({
        "id": id,
        "ts": ts,
        "kind": kind,
        "actor": {"id": "svc", "type": "service"},
        "subject": {"type": ty, "id": sid},
        "attrs": attrs,
    })
}

/// Sets a top-level field of an event.
pub fn with(mut e: Value, key: &str, value: Value) -> Value {
    e.as_object_mut()
        .expect("event is an object")
        .insert(key.to_string(), value);
    e
}

/// Serialises events as chained JSONL lines (`seq`, `prev` first).
pub fn chain(events: &[Value]) -> String {
    let mut out = String::new();
    let mut prev = "0".repeat(64);
    for (i, e) in events.iter().enumerate() {
        let mut line = format!("{{\"seq\":{},\"prev\":\"{prev}\"", i + 1);
        for (k, v) in e.as_object().expect("event is an object") {
            let _ = write!(line, ",{}:{}", serde_json::to_string(k).unwrap(), v);
        }
        line.push('}');
        prev = hex::encode(Sha256::digest(line.as_bytes()));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Writes each `(source, jsonl text)` as `SOURCE.jsonl` with `chain = "required"`, a config
/// with `extra` appended (e.g. `[policy]\npacks = [...]`), and checks it.
pub fn check(sources: &[(&str, String)], extra: &str) -> Case {
    try_check(sources, extra).unwrap_or_else(|e| panic!("case does not run: {e:#}"))
}

pub fn try_check(sources: &[(&str, String)], extra: &str) -> anyhow::Result<Case> {
    let dir = tempfile::tempdir()?;
    let mut config = String::new();
    for (name, text) in sources {
        std::fs::write(dir.path().join(format!("{name}.jsonl")), text)?;
        let _ = writeln!(
            config,
            "[[source]]\nname = \"{name}\"\nformat = \"trailbook-jsonl\"\npaths = [\"{name}.jsonl\"]\nchain = \"required\"\n"
        );
    }
    config.push_str(extra);
    let path = dir.path().join("trailbook.toml");
    std::fs::write(&path, config)?;
    let loaded = load(&path, None)?;
    let findings = checks::run(&loaded.model, &loaded.graph, &loaded.config, &loaded.ingest);
    Ok(Case {
        dir,
        loaded,
        findings,
    })
}

/// A one-source case of chained events.
pub fn check_events(events: &[Value], extra: &str) -> Case {
    check(&[("main", chain(events))], extra)
}

/// Parses one event value with the ingest line parser (panics on a rejected line).
pub fn parse_event(v: &Value) -> crate::event::Event {
    let line = serde_json::to_string(v).expect("event serialises");
    crate::ingest::jsonl::parse_line(line.as_bytes(), crate::event::Origin::default())
        .result
        .unwrap_or_else(|r| panic!("event rejected: {}", r.reason))
}

/// A finding key as [`Case::keys`] returns it: `(subject, discriminator, level)`.
pub fn k(subject: &str, discriminator: &str, level: &str) -> (String, String, String) {
    (subject.into(), discriminator.into(), level.into())
}

/// `base` with the keys of `extra` set, and those set to `null` removed.
pub fn merge(mut base: Value, extra: Value) -> Value {
    for (key, v) in extra.as_object().expect("extra is an object") {
        if v.is_null() {
            base.as_object_mut().expect("base is an object").remove(key);
        } else {
            base[key] = v.clone();
        }
    }
    base
}

/// The text of one page of a rendered site (panics, listing the pages, when it is missing).
pub fn page(pages: &crate::render::Pages, path: &str) -> String {
    let bytes = pages.files.get(path).unwrap_or_else(|| {
        panic!(
            "no page `{path}`; pages: {:?}",
            pages.files.keys().collect::<Vec<_>>()
        )
    });
    String::from_utf8(bytes.clone()).expect("pages are UTF-8")
}

/// The text of the table row of a page that contains `needle` (from `<tr` to `</tr>`).
pub fn row_of<'a>(html: &'a str, needle: &str) -> &'a str {
    let at = html
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not on the page"));
    let start = html[..at].rfind("<tr").expect("in a row");
    let end = at + html[at..].find("</tr>").expect("row ends");
    &html[start..end]
}

/// The numbers of the `td class="num"` cells of a row, thin spaces removed.
pub fn nums(row: &str) -> Vec<String> {
    row.split("<td class=\"num\">")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().replace('\u{202f}', ""))
        .collect()
}

/// Writes `files` (`(relative path, content)`) and `config` (a whole `trailbook.toml`) into a
/// temporary folder and checks it: for sources of any format.
pub fn check_config(files: &[(&str, &str)], config: &str) -> Case {
    let run = || -> anyhow::Result<Case> {
        let dir = tempfile::tempdir()?;
        for (name, text) in files {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, text)?;
        }
        let path = dir.path().join("trailbook.toml");
        std::fs::write(&path, config)?;
        let loaded = load(&path, None)?;
        let findings = checks::run(&loaded.model, &loaded.graph, &loaded.config, &loaded.ingest);
        Ok(Case {
            dir,
            loaded,
            findings,
        })
    };
    run().unwrap_or_else(|e| panic!("case does not run: {e:#}"))
}
