//! `models/index.html`, the model inventory (`SITE.md`): every model with its versions, each
//! version's status (development, in use, not in use, retired), owner, risk tier, last validation
//! and next review due; and `models/MODEL/VERSION.html`, one card per model version
//! ([`version`]). Also the helpers the dataset and incident pages share: findings about a
//! subject, focused lineage subgraphs, fields with completeness marks.

mod version;

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use petgraph::Direction;
use petgraph::stable_graph::NodeIndex;
use serde::Serialize;
use serde_json::Value;

use super::{EntityLink, EventRow};
use crate::checks::facts::{Facts, attr_time, entities_of};
use crate::event::{EntityType, NodeId, present};
use crate::model::Model;
use crate::render::{Cx, PAGE_ROWS, Pages, links};

/// Most nodes a focused lineage subgraph draws; beyond it the neighbourhood shrinks to depth 1,
/// then to the first nodes in id order (the page says so).
const LINEAGE_MAX: usize = 250;

/// Most events listed as "referenced by" for an entity that is never registered.
const REFERENCES_SHOWN: usize = 20;

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

/// A finding about a subject, linked to its row in the findings register.
#[derive(Clone, Serialize)]
pub(super) struct FindingLink {
    pub id: String,
    pub level: String,
    pub rule: String,
    pub title: String,
    pub message: String,
    pub href: String,
}

/// A field with its completeness mark.
#[derive(Clone, Serialize)]
pub(super) struct Field {
    pub name: String,
    pub value: Option<String>,
    /// `present` or `missing`.
    pub mark: String,
    /// Which rule requires it, if one does.
    pub required: Option<String>,
}

/// A focused lineage subgraph: the SVG and, for readers who cannot see it, its nodes.
#[derive(Serialize)]
pub(super) struct Lineage {
    pub svg: minijinja::Value,
    pub nodes: Vec<LineageNode>,
    pub depth: usize,
    /// Decision nodes of the neighbourhood left out of the drawing (one per decision).
    pub decisions: usize,
    /// Other nodes left out to keep the drawing legible.
    pub truncated: usize,
}

#[derive(Serialize)]
pub(super) struct LineageNode {
    pub kind: String,
    pub link: EntityLink,
    pub focus: bool,
}

/// The findings of the register by subject: subject → indices into the register (report order).
pub(super) fn findings_by_subject<'a>(cx: &Cx<'a>) -> BTreeMap<&'a str, Vec<usize>> {
    let mut out: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (n, f) in cx.input.findings.findings.iter().enumerate() {
        out.entry(f.subject.as_str()).or_default().push(n);
    }
    out
}

/// The findings about `subject`, linked to the page of the register that holds each.
pub(super) fn findings_about(
    cx: &Cx<'_>,
    index: &BTreeMap<&str, Vec<usize>>,
    subject: &str,
) -> Vec<FindingLink> {
    let all = &cx.input.findings.findings;
    index
        .get(subject)
        .into_iter()
        .flatten()
        .map(|&n| {
            let f = &all[n];
            FindingLink {
                id: f.id.clone(),
                level: f.level.clone(),
                rule: f.rule.clone(),
                title: f.title.clone(),
                message: f.message.clone(),
                href: format!("{}#f-{}", super::findings::page_of(n), f.id),
            }
        })
        .collect()
}

/// The lineage around `node` within two edges (the selection of `trailbook graph --focus NODE
/// --depth 2`), drawn for a page `base` below the version root. Decisions are left out (one node
/// per decision would swamp the drawing; `decisions.html` has them), and a neighbourhood over [`LINEAGE_MAX`] nodes shrinks to one edge, then to the first
/// nodes in id order.
pub(super) fn lineage(cx: &Cx<'_>, node: &NodeId, base: &str) -> Option<Lineage> {
    let graph = cx.input.graph;
    let focus = graph.node(node)?;
    let keep = |depth: usize| Some(neighbourhood(graph, focus, depth));
    let (mut nodes, mut decisions) = keep(2)?;
    let mut depth = 2;
    if nodes.len() > LINEAGE_MAX {
        (nodes, decisions) = keep(1)?;
        depth = 1;
    }
    let mut truncated = 0;
    if nodes.len() > LINEAGE_MAX {
        truncated = nodes.len() - LINEAGE_MAX;
        let mut first: BTreeSet<_> = nodes
            .iter()
            .copied()
            .filter(|&n| n != focus)
            .take(LINEAGE_MAX - 1)
            .collect();
        first.insert(focus);
        nodes = first;
    }
    let svg = crate::render::svg::lineage(graph, &nodes, Some(focus), base);
    let mut listed: Vec<LineageNode> = nodes
        .iter()
        .map(|&n| {
            let g = &graph.graph[n];
            LineageNode {
                kind: g.kind.clone(),
                link: EntityLink::new(cx, &g.id),
                focus: n == focus,
            }
        })
        .collect();
    listed.sort_by(|a, b| a.link.id.cmp(&b.link.id));
    Some(Lineage {
        svg: crate::render::safe(svg),
        nodes: listed,
        depth,
        decisions,
        truncated,
    })
}

/// What `LineageGraph::select(Some(node), Some(depth))` selects, without decision nodes, and how
/// many decisions it would have held. Decisions are neither kept nor walked through, so a page
/// costs a pass over the edges of the nodes it draws, not a set of every decision of a model.
fn neighbourhood(
    graph: &crate::graph::LineageGraph,
    start: NodeIndex,
    depth: usize,
) -> (BTreeSet<NodeIndex>, usize) {
    let is_decision = |n: NodeIndex| graph.graph[n].id.entity_type() == Some(EntityType::Decision);
    let mut seen = BTreeSet::from([start]);
    // Counted only (never iterated), so a hash set keeps it cheap.
    let mut decisions = std::collections::HashSet::new();
    let mut queue = std::collections::VecDeque::from([(start, 0usize)]);
    while let Some((n, d)) = queue.pop_front() {
        if d >= depth {
            continue;
        }
        for dir in [Direction::Outgoing, Direction::Incoming] {
            for m in graph.graph.neighbors_directed(n, dir) {
                if is_decision(m) {
                    decisions.insert(m);
                } else if seen.insert(m) {
                    queue.push_back((m, d + 1));
                }
            }
        }
    }
    (seen, decisions.len())
}

/// The first events that name an entity (for one that is never registered) and how many do.
pub(super) fn references(cx: &Cx<'_>, node: &NodeId) -> (Vec<EventRow>, usize) {
    let model = cx.model();
    let Some(ent) = model.entity(node) else {
        return (Vec::new(), 0);
    };
    let rows = ent
        .timeline
        .iter()
        .take(REFERENCES_SHOWN)
        .map(|&i| EventRow::new(cx, i))
        .collect();
    (rows, ent.timeline.len())
}

/// An attribute value as one line of text; `None` when not present (`RULES.md` §2.1).
pub(super) fn value_text(v: Option<&Value>) -> Option<String> {
    if !present(v) {
        return None;
    }
    Some(match v? {
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => a
            .iter()
            .map(super::overview::text)
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(v?).unwrap_or_default(),
        other => other.to_string(),
    })
}

/// A field of `attrs` with its completeness mark.
pub(super) fn field(
    attrs: &serde_json::Map<String, Value>,
    name: &str,
    required: Option<String>,
) -> Field {
    let value = value_text(attrs.get(name));
    Field {
        name: name.to_string(),
        mark: if value.is_some() {
            "present"
        } else {
            "missing"
        }
        .to_string(),
        value,
        required,
    }
}

/// Markdown from a log, rendered inert ([`crate::render::markdown`]); `None` when absent.
pub(super) fn markdown(v: Option<&Value>) -> Option<minijinja::Value> {
    let text = match v? {
        Value::String(s) if !s.trim().is_empty() => s.clone(),
        other if present(Some(other)) => value_text(Some(other))?,
        _ => return None,
    };
    Some(crate::render::safe(crate::render::markdown::to_html(&text)))
}

/// A rule's context for reading its parameters (configured value, else default) and calling the
/// helpers of the checks that take one.
pub(super) fn rule_cx<'a>(
    cx: &Cx<'a>,
    facts: &'a Facts<'a>,
    rule: &str,
) -> Option<crate::checks::Cx<'a>> {
    Some(crate::checks::Cx {
        model: cx.input.model,
        facts,
        graph: cx.input.graph,
        config: cx.input.config,
        ingest: cx.input.ingest,
        rule: crate::checks::catalogue::rule(rule)?,
    })
}

/// "3 d 4 h overdue" / "2 d left" for a date against T.
pub(super) fn due_status(due: Timestamp, t: Timestamp) -> (String, String) {
    if t > due {
        (
            "overdue".into(),
            format!("{} overdue", crate::time::fmt_span(due, t)),
        )
    } else {
        (
            "due".into(),
            format!("{} left", crate::time::fmt_span(t, due)),
        )
    }
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

/// At most [`PAGE_ROWS`] items, and how many were left out.
pub(super) fn cap<T>(mut items: Vec<T>) -> (Vec<T>, usize) {
    let more = items.len().saturating_sub(PAGE_ROWS);
    items.truncate(PAGE_ROWS);
    (items, more)
}

#[cfg(test)]
pub(super) mod tests;
