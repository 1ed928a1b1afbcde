//! `models/index.html`, the model inventory (`SITE.md`): every model with its versions, each
//! version's status (development, in use, not in use, retired), owner, risk tier, last validation
//! and next review due; and `models/MODEL/VERSION.html`, one card per model version
//! ([`version`]). Also the helpers the dataset and incident pages share: findings about a
//! subject, focused lineage subgraphs, fields with completeness marks.

mod diff;
mod shared;
mod version;

pub(super) use shared::{
    Field, FindingLink, Lineage, cap, due_status, field, findings_about, findings_by_subject,
    lineage, markdown, or_nr, references, rule_cx, value_text,
};

use std::collections::BTreeMap;

use serde::Serialize;

use super::EntityLink;
use crate::checks::facts::{Facts, attr_time, entities_of};
use crate::event::{EntityType, NodeId, present};
use crate::model::Model;
use crate::render::{Cx, Pages, links};

#[derive(Serialize)]
struct Page {
    models: Vec<ModelCard>,
    versions: usize,
}

#[derive(Serialize)]
struct ModelCard {
    anchor: String,
    name: String,
    status: String,
    owner: String,
    risk_tier: String,
    registered: bool,
    versions: Vec<VersionRow>,
    findings: Vec<FindingLink>,
}

#[derive(Serialize)]
struct VersionRow {
    link: EntityLink,
    version: String,
    status: Status,
    owner: String,
    risk_tier: String,
    registered: Option<String>,
    validation: Option<ValidationRef>,
    next_review: Option<NextReview>,
    findings: usize,
}

/// A version's status with the reason for it.
#[derive(Clone, Serialize)]
pub(super) struct Status {
    pub status: String,
    pub note: String,
}

/// The latest validation of a version.
#[derive(Clone, Serialize)]
pub(super) struct ValidationRef {
    pub ts: String,
    pub decision: String,
    pub validator: String,
    pub href: String,
}

/// The next review date a version's latest validation or periodic review states, against T.
#[derive(Clone, Serialize)]
pub(super) struct NextReview {
    pub due: String,
    /// `overdue` or `due`.
    pub status: String,
    pub detail: String,
    pub source: String,
    pub href: String,
}

/// The events of one model version the pages read, each list in event order. Collected from
/// the version's timeline in one pass that compares kinds only (decisions are counted).
#[derive(Default)]
pub(super) struct VersionEvents {
    pub evaluated: Vec<u32>,
    pub validated: Vec<u32>,
    pub promoted: Vec<u32>,
    pub retired: Vec<u32>,
    pub reviews: Vec<u32>,
    /// Incidents whose `affects` names the version, in order of first mention.
    pub incidents: Vec<NodeId>,
    pub decisions: usize,
}

impl VersionEvents {
    pub fn of(model: &Model, node: &NodeId) -> VersionEvents {
        let mut out = VersionEvents::default();
        let Some(ent) = model.entity(node) else {
            return out;
        };
        for &i in &ent.timeline {
            let e = model.event(i);
            let about = || e.subject.as_ref().is_some_and(|s| s.is(node));
            match e.kind.as_str() {
                "decision.made" | "decision.batch" => out.decisions += 1,
                "model.evaluated" if about() => out.evaluated.push(i),
                "model.validated" if about() => out.validated.push(i),
                "model.promoted" if about() => out.promoted.push(i),
                "model.retired" if about() => out.retired.push(i),
                "review.periodic" if about() => out.reviews.push(i),
                k if k.starts_with("incident.") => {
                    if let Some(inc) = e.subject_node()
                        && e.refs
                            .iter()
                            .any(|r| r.field == "attrs.affects" && &r.target == node)
                        && !out.incidents.contains(&inc)
                    {
                        out.incidents.push(inc);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The latest validation.
    pub fn last_validation(&self, cx: &Cx<'_>) -> Option<ValidationRef> {
        let &i = self.validated.last()?;
        let e = cx.model().event(i);
        let a = e.attrs();
        Some(ValidationRef {
            ts: crate::time::fmt(e.ts),
            decision: value_text(a.get("decision")).unwrap_or_else(|| "not recorded".into()),
            validator: value_text(a.get("validator")).unwrap_or_else(|| "not recorded".into()),
            href: links::event_href(i),
        })
    }

    /// The next review date stated by the latest validation (`next_review_due`) or periodic
    /// review (`next_due`) that carries one.
    pub fn next_review(&self, cx: &Cx<'_>) -> Option<NextReview> {
        let model = cx.model();
        let mut carriers: Vec<(u32, &str)> = self
            .validated
            .iter()
            .map(|&i| (i, "next_review_due"))
            .chain(self.reviews.iter().map(|&i| (i, "next_due")))
            .collect();
        carriers.sort_unstable();
        let (i, key, due) = carriers.iter().rev().find_map(|&(i, key)| {
            let a = model.event(i).attrs();
            present(a.get(key)).then(|| (i, key, attr_time(&a, key)))
        })?;
        let e = model.event(i);
        let source = format!("{key} of {} {}", e.kind, e.id);
        Some(match due {
            Some(due) => {
                let (status, detail) = due_status(due, model.as_of);
                NextReview {
                    due: crate::time::fmt(due),
                    status,
                    detail,
                    source,
                    href: links::event_href(i),
                }
            }
            None => NextReview {
                due: value_text(e.attrs().get(key)).unwrap_or_default(),
                status: "unknown".into(),
                detail: "not a readable date".into(),
                source,
                href: links::event_href(i),
            },
        })
    }
}

/// A version's status at T: retired (a `model.retired`), in use (an active production deployment
/// serves it), not in use (production served it before), or development.
pub(super) fn status(cx: &Cx<'_>, facts: &Facts<'_>, v: &str, ev: &VersionEvents) -> Status {
    let model = cx.model();
    let retired = ev
        .retired
        .first()
        .map(|&i| crate::time::fmt(model.event(i).ts));
    let serving: Vec<&str> = facts
        .deployments()
        .filter(|d| {
            d.intervals
                .last()
                .is_some_and(|iv| iv.end.is_none() && iv.version == v)
        })
        .map(|d| d.id.as_str())
        .collect();
    let (prod, other): (Vec<&str>, Vec<&str>) =
        serving.into_iter().partition(|d| facts.production(d));
    let list = |ds: &[&str]| {
        ds.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (status, note) = match (retired, prod.is_empty()) {
        (Some(r), false) => (
            "in use",
            format!(
                "retired on {r} but still served by production deployment {}",
                list(&prod)
            ),
        ),
        (Some(r), true) => ("retired", format!("retired on {r}")),
        (None, false) => (
            "in use",
            format!("served by production deployment {}", list(&prod)),
        ),
        (None, true) => match facts.version_use(v) {
            Some(u) => (
                "not in use",
                format!(
                    "served in production from {}; no production deployment serves it at the as-of time",
                    crate::time::fmt(u.first_prod)
                ),
            ),
            None if !other.is_empty() => (
                "development",
                format!(
                    "never served in production; served by {} (not production)",
                    list(&other)
                ),
            ),
            None => ("development", "never served in production".to_string()),
        },
    };
    Status {
        status: status.to_string(),
        note,
    }
}

/// The model of a version id (`MODEL@VERSION`) and its version part.
pub(super) fn split_version(id: &str) -> (&str, &str) {
    id.rsplit_once('@').unwrap_or((id, ""))
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let facts = Facts::compute(model, cx.input.config);
    let index = findings_by_subject(cx);
    // Model name → its versions (node ids), in id order.
    let mut by_model: BTreeMap<String, Vec<&NodeId>> = BTreeMap::new();
    for (node, _) in entities_of(model, EntityType::Model) {
        by_model.entry(node.id().to_string()).or_default();
    }
    let versions: Vec<&NodeId> = entities_of(model, EntityType::ModelVersion)
        .map(|(n, _)| n)
        .collect();
    for node in &versions {
        by_model
            .entry(split_version(node.id()).0.to_string())
            .or_default()
            .push(node);
    }
    let mut cards = Vec::new();
    for (name, nodes) in &by_model {
        let mut rows = Vec::new();
        for node in nodes {
            let ev = VersionEvents::of(model, node);
            let attrs = model.state(node).map(|e| e.attrs()).unwrap_or_default();
            let text = |k: &str| value_text(attrs.get(k)).unwrap_or_else(|| "not recorded".into());
            rows.push(VersionRow {
                link: EntityLink::new(cx, node),
                version: split_version(node.id()).1.to_string(),
                status: status(cx, &facts, node.id(), &ev),
                owner: text("owner"),
                risk_tier: text("risk_tier"),
                registered: model
                    .first_registration(node)
                    .map(|e| crate::time::fmt(e.ts)),
                validation: ev.last_validation(cx),
                next_review: ev.next_review(cx),
                findings: index.get(node.as_str()).map_or(0, Vec::len),
            });
        }
        // Owner and risk tier of the model: those of its latest registered version.
        let latest = nodes
            .iter()
            .filter_map(|n| model.entity(n)?.registered.last().map(|&i| (i, *n)))
            .max()
            .map(|(i, _)| model.event(i).attrs())
            .unwrap_or_default();
        let text = |k: &str| value_text(latest.get(k)).unwrap_or_else(|| "not recorded".into());
        let statuses: Vec<&str> = rows.iter().map(|r| r.status.status.as_str()).collect();
        let model_status = if statuses.contains(&"in use") {
            "in use"
        } else if !statuses.is_empty() && statuses.iter().all(|s| *s == "retired") {
            "retired"
        } else if statuses.contains(&"not in use") {
            "not in use"
        } else {
            "development"
        };
        let model_node = NodeId::new(EntityType::Model, name);
        cards.push(ModelCard {
            anchor: links::anchor(&model_node),
            name: name.clone(),
            status: model_status.to_string(),
            owner: text("owner"),
            risk_tier: text("risk_tier"),
            registered: rows.iter().any(|r| !r.link.unresolved),
            versions: rows,
            findings: findings_about(cx, &index, model_node.as_str()),
        });
    }
    let page = Page {
        versions: versions.len(),
        models: cards,
    };
    pages.add(
        "models/index.html",
        cx.render("models/index.html", "models.html", "Models", page)?,
    );
    for node in versions {
        version::write(cx, pages, &facts, &index, node)?;
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests;
