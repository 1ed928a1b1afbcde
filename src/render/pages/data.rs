//! The machine-readable files of a version: `findings.json` (the `check --format json` report),
//! `findings.sarif` (SARIF 2.1.0), and `state.json` (what the next version's diff reads: each
//! finding with its first-seen version, each entity with a digest of its timeline).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::render::publish::{State, StateFinding};
use crate::render::{Cx, Pages};
use crate::report::{self, Report};

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let input = cx.input;
    let config_name = input
        .config
        .path
        .file_name()
        .map_or_else(|| "trailbook.toml".into(), |n| n.to_string_lossy());
    let report = Report {
        config_path: &config_name,
        ingest: input.ingest,
        model: input.model,
        findings: input.findings,
        packs: input.packs.to_vec(),
        evidence_limit: input.config.policy.evidence_limit,
    };
    pages.add("findings.json", report.json().into_bytes());
    pages.add(
        "findings.sarif",
        report::sarif::render(&report).into_bytes(),
    );
    let mut json = serde_json::to_string_pretty(&state(cx))?;
    json.push('\n');
    pages.add("state.json", json.into_bytes());
    Ok(())
}

/// The version's state for the next version.
pub fn state(cx: &Cx<'_>) -> State {
    let model = cx.model();
    let findings = cx
        .input
        .findings
        .findings
        .iter()
        .map(|f| {
            (
                f.id.clone(),
                StateFinding {
                    rule: f.rule.clone(),
                    level: f.level.clone(),
                    subject: f.subject.clone(),
                    message: f.message.clone(),
                    first_seen: first_seen(cx, &f.id),
                },
            )
        })
        .collect();
    let entities: BTreeMap<String, String> = model
        .entities
        .iter()
        .map(|(node, entity)| {
            let mut h = Sha256::new();
            for &i in &entity.timeline {
                h.update(model.event(i).id.as_bytes());
                h.update(b"\n");
            }
            (node.0.to_string(), hex::encode(h.finalize()))
        })
        .collect();
    State {
        version: cx.version,
        as_of: cx.as_of(),
        findings,
        entities,
    }
}

/// The version a finding was first reported in: the previous version's record of it, else this one.
pub fn first_seen(cx: &Cx<'_>, id: &str) -> u32 {
    cx.previous
        .as_ref()
        .and_then(|p| p.findings.get(id))
        .and_then(|f| f.first_seen)
        .unwrap_or(cx.version)
}
