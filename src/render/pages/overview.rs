//! `index.html`, the overview (`SITE.md`): the system cards, the scorecard of every enabled pack,
//! open findings by level, what changed since the previous version, and what was read.

use serde::Serialize;
use serde_json::Value;

use super::EntityLink;
use crate::checks::matrix::CoverageStatus;
use crate::event::EntityType;
use crate::render::{Cx, Pages, links};

#[derive(Serialize)]
struct Page {
    systems: Vec<SystemCard>,
    packs: Vec<Scorecard>,
    levels: Vec<(String, usize)>,
    open: usize,
    passed: bool,
    changes: Option<Changes>,
    previous: Option<u32>,
    inputs: Inputs,
}

#[derive(Serialize)]
struct SystemCard {
    anchor: String,
    link: EntityLink,
    name: String,
    facts: Vec<(String, String)>,
}

#[derive(Serialize)]
struct Scorecard {
    pack: String,
    label: String,
    href: String,
    status: String,
    clauses: usize,
    /// What the counts count: "clauses", or "rules" for a pack without clauses.
    unit: &'static str,
    counts: Vec<(String, usize)>,
}

#[derive(Serialize)]
struct Changes {
    new: usize,
    resolved: usize,
    unchanged: usize,
}

#[derive(Serialize)]
struct Inputs {
    sources: usize,
    files: usize,
    lines: u64,
    events: u64,
    quarantined: usize,
    first: Option<String>,
    last: Option<String>,
    chains_intact: usize,
    chains_broken: usize,
}

const SYSTEM_FACTS: &[(&str, &str)] = &[
    ("intended_purpose", "Purpose"),
    ("role", "Role"),
    ("risk", "Risk class"),
    ("annex_iii_point", "Annex III point"),
    ("owner", "Owner"),
    ("jurisdictions", "Jurisdictions"),
    ("placed_on_market", "Placed on the market"),
];

/// A value of an attribute as one line of text.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let findings = cx.input.findings;
    let systems = model
        .entities
        .iter()
        .filter(|(node, _)| node.entity_type() == Some(EntityType::System))
        .map(|(node, _)| {
            let attrs = model.state(node).map(|e| e.attrs()).unwrap_or_default();
            SystemCard {
                anchor: links::anchor(node),
                link: EntityLink::new(cx, node),
                name: attrs
                    .get("name")
                    .map(text)
                    .unwrap_or_else(|| node.id().to_string()),
                facts: SYSTEM_FACTS
                    .iter()
                    .map(|(k, label)| {
                        (
                            label.to_string(),
                            attrs
                                .get(*k)
                                .map(text)
                                .filter(|s| !s.is_empty())
                                .unwrap_or_else(|| "not recorded".into()),
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let packs = findings
        .coverage
        .iter()
        .map(|p| {
            let mut counts: Vec<(String, usize)> = Vec::new();
            for status in [
                CoverageStatus::Fail,
                CoverageStatus::Waived,
                CoverageStatus::Pass,
                CoverageStatus::NotApplicable,
                CoverageStatus::NotEvaluable,
                CoverageStatus::Disabled,
            ] {
                // A pack without clauses of its own (baseline) is scored by its rules.
                let n = if p.clauses.is_empty() {
                    p.supporting.iter().filter(|r| r.status == status).count()
                } else {
                    p.clauses.iter().filter(|c| c.status == status).count()
                };
                if n > 0 {
                    counts.push((status.as_str().to_string(), n));
                }
            }
            Scorecard {
                pack: p.pack.to_string(),
                label: p.label.to_string(),
                href: format!("packs/{}.html", p.pack),
                status: p.status.as_str().to_string(),
                clauses: if p.clauses.is_empty() {
                    p.supporting.len()
                } else {
                    p.clauses.len()
                },
                unit: if p.clauses.is_empty() {
                    "rules"
                } else {
                    "clauses"
                },
                counts,
            }
        })
        .collect();
    let levels: Vec<(String, usize)> = ["deny", "warn", "info", "waived"]
        .iter()
        .map(|l| (l.to_string(), findings.count(l)))
        .collect();
    let changes = cx.previous.as_ref().map(|p| {
        let now: std::collections::BTreeSet<&str> =
            findings.findings.iter().map(|f| f.id.as_str()).collect();
        let unchanged = now
            .iter()
            .filter(|id| p.findings.contains_key(**id))
            .count();
        Changes {
            new: now.len() - unchanged,
            resolved: p
                .findings
                .keys()
                .filter(|id| !now.contains(id.as_str()))
                .count(),
            unchanged,
        }
    });
    let ingest = cx.input.ingest;
    let view = &model.events[..model.in_view];
    let inputs = Inputs {
        sources: ingest.sources.len(),
        files: ingest.files.len(),
        lines: ingest.lines(),
        events: ingest.sources.iter().map(|s| s.events).sum(),
        quarantined: ingest.quarantine.len(),
        first: view.iter().map(|e| e.ts).min().map(crate::time::fmt),
        last: view.iter().map(|e| e.ts).max().map(crate::time::fmt),
        chains_intact: ingest
            .sources
            .iter()
            .filter(|s| s.chain.issues.is_empty())
            .count(),
        chains_broken: ingest
            .sources
            .iter()
            .filter(|s| !s.chain.issues.is_empty())
            .count(),
    };
    let page = Page {
        systems,
        packs,
        open: findings.count("deny") + findings.count("warn"),
        levels,
        passed: !findings.failed(),
        changes,
        previous: cx.previous.as_ref().map(|p| p.version),
        inputs,
    };
    pages.add(
        "index.html",
        cx.render("index.html", "overview.html", "Overview", page)?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::{check_events, ev, page};

    #[test]
    fn overview_shows_the_system_card_and_scorecards() {
        let case = check_events(
            &[ev(
                "s1",
                "2026-01-01T00:00:00Z",
                "system.registered",
                "system:credit",
                json!({"name": "Credit <b>scoring</b>", "intended_purpose": "loan decisions", "risk": "high", "role": "provider", "owner": "cro"}),
            )],
            "[policy]\npacks = [\"baseline\", \"gdpr\"]\n",
        );
        let html = page(&case.site(), "index.html");
        assert!(html.contains("Credit &lt;b&gt;scoring&lt;"), "{html}");
        assert!(!html.contains("<b>scoring"), "log values are escaped");
        assert!(html.contains("loan decisions"));
        assert!(html.contains("href=\"packs/gdpr.html\""));
        assert!(html.contains("href=\"packs/baseline.html\""));
        assert!(html.contains("first version of this site"));
    }
}
