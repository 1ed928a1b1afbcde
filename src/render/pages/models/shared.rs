//! Helpers the model, dataset and incident pages share: findings about a subject, focused
//! lineage subgraphs, attribute values with completeness marks, Markdown, rule parameters.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use jiff::Timestamp;
use petgraph::Direction;
use petgraph::stable_graph::NodeIndex;
use serde::Serialize;
use serde_json::Value;

use crate::checks::facts::Facts;
use crate::event::{EntityType, NodeId, present};
use crate::graph::LineageGraph;
use crate::render::pages::{EntityLink, EventRow};
use crate::render::{Cx, PAGE_ROWS};

/// Most nodes a focused lineage subgraph draws; beyond it the neighbourhood shrinks to depth 1,
/// then to the first nodes in id order (the page says so).
const LINEAGE_MAX: usize = 250;

/// Most events listed as "referenced by" for an entity that is never registered.
const REFERENCES_SHOWN: usize = 20;

/// A finding about a subject, linked to its row in the findings register.
#[derive(Clone, Serialize)]
pub(in crate::render::pages) struct FindingLink {
    pub id: String,
    pub level: String,
    pub rule: String,
    pub title: String,
    pub message: String,
    pub href: String,
}

/// A field with its completeness mark.
#[derive(Clone, Serialize)]
pub(in crate::render::pages) struct Field {
    pub name: String,
    pub value: Option<String>,
    /// `present` or `missing`.
    pub mark: String,
    /// Which rule requires it, if one does.
    pub required: Option<String>,
}

/// A focused lineage subgraph: the SVG and, for readers who cannot see it, its nodes.
#[derive(Serialize)]
pub(in crate::render::pages) struct Lineage {
    pub svg: minijinja::Value,
    pub nodes: Vec<LineageNode>,
    pub depth: usize,
    /// Decision nodes of the neighbourhood left out of the drawing (one per decision).
    pub decisions: usize,
    /// Other nodes left out to keep the drawing legible.
    pub truncated: usize,
}

#[derive(Serialize)]
pub(in crate::render::pages) struct LineageNode {
    pub kind: String,
    pub link: EntityLink,
    pub focus: bool,
}

/// The findings of the register by subject: subject → indices into the register (report order).
pub(in crate::render::pages) fn findings_by_subject<'a>(
    cx: &Cx<'a>,
) -> BTreeMap<&'a str, Vec<usize>> {
    let mut out: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (n, f) in cx.input.findings.findings.iter().enumerate() {
        out.entry(f.subject.as_str()).or_default().push(n);
    }
    out
}

/// The findings about `subject`, linked to the page of the register that holds each.
pub(in crate::render::pages) fn findings_about(
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
                href: format!("{}#f-{}", crate::render::pages::findings::page_of(n), f.id),
            }
        })
        .collect()
}

/// The lineage around `node` within two edges (the selection of `trailbook graph --focus NODE
/// --depth 2`), drawn for a page `base` below the version root. Decisions are left out (one node
/// per decision would swamp the drawing; `decisions.html` has them), and a neighbourhood over [`LINEAGE_MAX`] nodes shrinks to one edge, then to the first
/// nodes in id order.
pub(in crate::render::pages) fn lineage(cx: &Cx<'_>, node: &NodeId, base: &str) -> Option<Lineage> {
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
                kind: g.kind.to_string(),
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
    graph: &LineageGraph,
    start: NodeIndex,
    depth: usize,
) -> (BTreeSet<NodeIndex>, usize) {
    let is_decision = |n: NodeIndex| graph.graph[n].id.entity_type() == Some(EntityType::Decision);
    let mut seen = BTreeSet::from([start]);
    // Counted only (never iterated), so a hash set keeps it cheap.
    let mut decisions = HashSet::new();
    let mut queue = VecDeque::from([(start, 0usize)]);
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
pub(in crate::render::pages) fn references(cx: &Cx<'_>, node: &NodeId) -> (Vec<EventRow>, usize) {
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
pub(in crate::render::pages) fn value_text(v: Option<&Value>) -> Option<String> {
    if !present(v) {
        return None;
    }
    Some(match v? {
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => a
            .iter()
            .map(crate::render::pages::overview::text)
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(v?).unwrap_or_default(),
        other => other.to_string(),
    })
}

/// A field of `attrs` with its completeness mark.
pub(in crate::render::pages) fn field(
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
pub(in crate::render::pages) fn markdown(v: Option<&Value>) -> Option<minijinja::Value> {
    let text = match v? {
        Value::String(s) if !s.trim().is_empty() => s.clone(),
        other if present(Some(other)) => value_text(Some(other))?,
        _ => return None,
    };
    Some(crate::render::safe(crate::render::markdown::to_html(&text)))
}

/// A rule's context for reading its parameters (configured value, else default) and calling the
/// helpers of the checks that take one.
pub(in crate::render::pages) fn rule_cx<'a>(
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
pub(in crate::render::pages) fn due_status(due: Timestamp, t: Timestamp) -> (String, String) {
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

/// At most [`PAGE_ROWS`] items, and how many were left out.
pub(in crate::render::pages) fn cap<T>(mut items: Vec<T>) -> (Vec<T>, usize) {
    let more = items.len().saturating_sub(PAGE_ROWS);
    items.truncate(PAGE_ROWS);
    (items, more)
}

/// An attribute value as text, or "not recorded".
pub(in crate::render::pages) fn or_nr(v: Option<&Value>) -> String {
    value_text(v).unwrap_or_else(|| "not recorded".into())
}
