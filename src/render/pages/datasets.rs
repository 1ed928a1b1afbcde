//! `datasets/index.html` (paginated as `index-N.html`) and `datasets/ID.html`: the provenance of
//! every dataset (`SITE.md`): its registration and origin with completeness marks, its other
//! versions, schema, datasheet, the runs that produced and consumed it (with their code), its
//! quality assessments, what was trained or evaluated on it, its lineage and findings about it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::models::{
    Field, FindingLink, Lineage, cap, field, findings_about, findings_by_subject, lineage, or_nr,
    references, value_text,
};
use super::{EntityLink, EventRow, write_list};
use crate::checks::facts::entities_of;
use crate::event::{EntityType, NodeId};
use crate::render::{Cx, Pages, links};
use crate::time;

#[derive(Serialize)]
struct IndexRow {
    link: EntityLink,
    name: String,
    version: String,
    rows: String,
    owner: String,
    source: String,
    legal_basis: String,
    datasheet: bool,
    assessments: usize,
    producers: usize,
    consumers: usize,
    findings: usize,
}

#[derive(Serialize)]
struct Page {
    id: String,
    name: String,
    version: String,
    unresolved: bool,
    /// Other ids joined to this one by `[[link]] same`.
    aliases: Vec<String>,
    references: Vec<EventRow>,
    reference_count: usize,
    registration: Option<EventRow>,
    registrations: usize,
    data_classes: Vec<String>,
    facts: Vec<Field>,
    origin: Vec<Field>,
    versions: Vec<Sibling>,
    schema: Vec<(String, String)>,
    schema_digest: Option<String>,
    documents: Vec<Document>,
    produced_by: Vec<Run>,
    consumed_by: Vec<Run>,
    more_runs: usize,
    quality: Vec<Quality>,
    models: Vec<ModelUse>,
    evaluations: Vec<EvalUse>,
    features: Vec<EntityLink>,
    findings: Vec<FindingLink>,
    lineage: Option<Lineage>,
}

#[derive(Serialize)]
struct Sibling {
    link: EntityLink,
    version: String,
    digest: String,
    rows: String,
    registered: String,
    current: bool,
}

#[derive(Serialize)]
struct Document {
    link: EntityLink,
    how: String,
    doc_type: String,
    version: String,
    digest: String,
    uri: String,
    effective_from: String,
    registration: Option<EventRow>,
}

#[derive(Serialize)]
struct Run {
    link: EntityLink,
    event: EventRow,
    job: String,
    status: String,
    started: String,
    code: String,
    pipeline_version: String,
    inputs: Vec<EntityLink>,
    outputs: Vec<EntityLink>,
    anomalies: Vec<String>,
}

#[derive(Serialize)]
struct Quality {
    event: EventRow,
    checks: Vec<(String, String)>,
    bias_examined: String,
    bias_corrected: String,
    representativeness: String,
    gaps: String,
}

#[derive(Serialize)]
struct ModelUse {
    link: EntityLink,
    role: String,
    registration: String,
}

#[derive(Serialize)]
struct EvalUse {
    link: EntityLink,
    n: String,
    event: EventRow,
}

/// The attributes of `dataset.registered` shown as facts (origin and schema apart).
const FACTS: &[&str] = &[
    "name",
    "version",
    "digest",
    "rows",
    "owner",
    "usage_rules",
    "datasheet",
];

/// The keys of `origin` (`EVENT-SCHEMA.md`).
const ORIGIN: &[&str] = &[
    "source",
    "acquired_ts",
    "method",
    "legal_basis",
    "original_purpose",
];

fn rows_text(v: Option<&Value>) -> String {
    match v.and_then(Value::as_i64) {
        Some(n) => links::thousands(n),
        None => or_nr(v),
    }
}

/// The dataset's name part (`risk/credit-train` of `risk/credit-train@2026-01`).
fn base(id: &str) -> &str {
    id.rsplit_once('@').map_or(id, |(b, _)| b)
}

/// Whether event `i` is the current registration of its subject (graph edges come from it).
fn is_state(cx: &Cx<'_>, i: u32) -> bool {
    let model = cx.model();
    let e = model.event(i);
    e.subject_node()
        .and_then(|n| model.entity(&n)?.registered.last().copied())
        == Some(i)
}

fn targets(cx: &Cx<'_>, e: &crate::event::Event, field: &str) -> Vec<EntityLink> {
    e.refs
        .iter()
        .filter(|r| r.field == field)
        .map(|r| EntityLink::new(cx, &r.target))
        .collect()
}

fn run(cx: &Cx<'_>, i: u32) -> Run {
    let e = cx.model().event(i);
    let a = e.attrs();
    let code = match a.get("code") {
        Some(Value::Object(c)) => {
            let part = |k: &str| value_text(c.get(k));
            let mut s = part("repo").unwrap_or_else(|| "repository not recorded".into());
            s.push_str(&format!(
                " @ {}",
                part("commit").unwrap_or_else(|| "commit not recorded".into())
            ));
            if let Some(p) = part("path") {
                s.push_str(&format!(" ({p})"));
            }
            s
        }
        other => or_nr(other),
    };
    let anomalies = match a.get("anomalies") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|x| {
                format!(
                    "{} — handling: {}",
                    or_nr(x.get("description")),
                    or_nr(x.get("handling"))
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    Run {
        link: EntityLink::new(cx, &e.subject_node().unwrap_or_default()),
        event: EventRow::new(cx, i),
        job: or_nr(a.get("job")),
        status: or_nr(a.get("status")),
        started: or_nr(a.get("started_ts")),
        code,
        pipeline_version: or_nr(a.get("pipeline_version")),
        inputs: targets(cx, e, "attrs.inputs"),
        outputs: targets(cx, e, "attrs.outputs"),
        anomalies,
    }
}

fn quality(cx: &Cx<'_>, i: u32) -> Quality {
    let a = cx.model().event(i).attrs();
    let checks = match a.get("checks") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|c| {
                let status = match c.get("passed").and_then(Value::as_bool) {
                    Some(true) => "pass",
                    Some(false) => "fail",
                    None => "unknown",
                };
                (or_nr(c.get("name")), status.to_string())
            })
            .collect(),
        _ => Vec::new(),
    };
    Quality {
        event: EventRow::new(cx, i),
        checks,
        bias_examined: match a.get("bias_examined").and_then(Value::as_bool) {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => "not recorded".into(),
        },
        bias_corrected: or_nr(a.get("bias_corrected_ts")),
        representativeness: or_nr(a.get("representativeness")),
        gaps: or_nr(a.get("gaps")),
    }
}

fn document(cx: &Cx<'_>, node: &NodeId, how: &str) -> Document {
    let model = cx.model();
    let reg = model
        .entity(node)
        .and_then(|e| e.registered.last().copied());
    let a: Map<String, Value> = reg.map(|i| model.event(i).attrs()).unwrap_or_default();
    Document {
        link: EntityLink::new(cx, node),
        how: how.to_string(),
        doc_type: or_nr(a.get("doc_type")),
        version: or_nr(a.get("version")),
        digest: or_nr(a.get("digest")),
        uri: or_nr(a.get("uri")),
        effective_from: or_nr(a.get("effective_from")),
        registration: reg.map(|i| EventRow::new(cx, i)),
    }
}

/// Everything the pages say about one dataset.
fn page(
    cx: &Cx<'_>,
    index: &BTreeMap<&str, Vec<usize>>,
    node: &NodeId,
    siblings: &[&NodeId],
) -> Page {
    let model = cx.model();
    let ent = model.entity(node);
    let reg = ent.and_then(|e| e.registered.last().copied());
    let attrs = reg.map(|i| model.event(i).attrs()).unwrap_or_default();
    let origin_attrs = match attrs.get("origin") {
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    let mut produced_by = Vec::new();
    let mut consumed_by = Vec::new();
    let mut quality_events = Vec::new();
    let mut models = Vec::new();
    let mut evaluations = Vec::new();
    let mut features = Vec::new();
    let mut documents: Vec<Document> = Vec::new();
    if let Some(sheet) = value_text(attrs.get("datasheet")) {
        documents.push(document(
            cx,
            &NodeId::new(EntityType::Document, &sheet),
            "the registration's datasheet",
        ));
    }
    for &i in ent.map_or(&[][..], |e| &e.timeline[..]) {
        let e = model.event(i);
        let names = |field: &str| e.refs.iter().any(|r| r.field == field && &r.target == node);
        match e.kind.as_str() {
            "run.completed" if is_state(cx, i) => {
                if names("attrs.outputs") {
                    produced_by.push(i);
                }
                if names("attrs.inputs") {
                    consumed_by.push(i);
                }
            }
            "dataset.quality_assessed" if e.subject.as_ref().is_some_and(|s| s.is(node)) => {
                quality_events.push(i)
            }
            "model.registered" if is_state(cx, i) && names("attrs.datasets[].id") => {
                let a = e.attrs();
                let roles: Vec<String> = match a.get("datasets") {
                    Some(Value::Array(items)) => items
                        .iter()
                        .filter(|d| d.get("id").and_then(Value::as_str) == Some(node.id()))
                        .map(|d| or_nr(d.get("role")))
                        .collect(),
                    _ => Vec::new(),
                };
                models.push(ModelUse {
                    link: EntityLink::new(cx, &e.subject_node().unwrap_or_default()),
                    role: roles.join(", "),
                    registration: links::event_href(i),
                });
            }
            "model.evaluated" if names("attrs.datasets[].id") => {
                let a = e.attrs();
                let n = match a.get("datasets") {
                    Some(Value::Array(items)) => items
                        .iter()
                        .find(|d| d.get("id").and_then(Value::as_str) == Some(node.id()))
                        .map(|d| rows_text(d.get("n")))
                        .unwrap_or_else(|| "not recorded".into()),
                    _ => "not recorded".into(),
                };
                evaluations.push(EvalUse {
                    link: EntityLink::new(cx, &e.subject_node().unwrap_or_default()),
                    n,
                    event: EventRow::new(cx, i),
                });
            }
            "feature.registered" if is_state(cx, i) && names("attrs.derived_from") => {
                if let Some(f) = e.subject_node() {
                    features.push(EntityLink::new(cx, &f));
                }
            }
            "document.registered" if is_state(cx, i) && names("attrs.describes") => {
                if let Some(d) = e.subject_node()
                    && !documents.iter().any(|x| *x.link.id == *d.0)
                {
                    documents.push(document(cx, &d, "describes this dataset"));
                }
            }
            _ => {}
        }
    }
    let (produced_by, more_p) = cap(produced_by);
    let (consumed_by, more_c) = cap(consumed_by);
    let schema = match attrs.get("schema") {
        Some(Value::Array(cols)) => cols
            .iter()
            .map(|c| (or_nr(c.get("name")), or_nr(c.get("type"))))
            .collect(),
        _ => Vec::new(),
    };
    let versions = siblings
        .iter()
        .map(|n| {
            let a = model.state(n).map(|e| e.attrs()).unwrap_or_default();
            Sibling {
                link: EntityLink::new(cx, n),
                version: n.id().rsplit_once('@').map_or("", |(_, v)| v).to_string(),
                digest: or_nr(a.get("digest")),
                rows: rows_text(a.get("rows")),
                registered: model
                    .first_registration(n)
                    .map_or_else(|| "not registered".into(), |e| time::fmt(e.ts)),
                current: *n == node,
            }
        })
        .collect();
    let (references, reference_count) = if reg.is_none() {
        references(cx, node)
    } else {
        (Vec::new(), 0)
    };
    Page {
        id: node.id().to_string(),
        name: value_text(attrs.get("name")).unwrap_or_else(|| base(node.id()).to_string()),
        version: value_text(attrs.get("version")).unwrap_or_else(|| {
            node.id()
                .rsplit_once('@')
                .map_or("", |(_, v)| v)
                .to_string()
        }),
        unresolved: ent.is_none_or(|e| e.unresolved),
        aliases: ent.map_or_else(Vec::new, |e| {
            e.aliases.iter().map(|a| a.to_string()).collect()
        }),
        references,
        reference_count,
        registration: reg.map(|i| EventRow::new(cx, i)),
        registrations: ent.map_or(0, |e| e.registered.len()),
        data_classes: reg.map_or_else(Vec::new, |i| model.event(i).data_classes.clone()),
        facts: FACTS
            .iter()
            .map(|k| {
                let mut f = field(&attrs, k, None);
                if *k == "rows" && f.value.is_some() {
                    f.value = Some(rows_text(attrs.get("rows")));
                }
                f
            })
            .collect(),
        origin: ORIGIN
            .iter()
            .map(|k| field(&origin_attrs, k, None))
            .collect(),
        versions,
        schema,
        schema_digest: value_text(attrs.get("schema_digest")),
        documents,
        produced_by: produced_by.into_iter().map(|i| run(cx, i)).collect(),
        consumed_by: consumed_by.into_iter().map(|i| run(cx, i)).collect(),
        more_runs: more_p + more_c,
        quality: quality_events.into_iter().map(|i| quality(cx, i)).collect(),
        models,
        evaluations,
        features,
        findings: findings_about(cx, index, node.as_str()),
        lineage: lineage(cx, node, "../"),
    }
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let index = findings_by_subject(cx);
    let nodes: Vec<&NodeId> = entities_of(model, EntityType::Dataset)
        .map(|(n, _)| n)
        .collect();
    let mut by_base: BTreeMap<&str, Vec<&NodeId>> = BTreeMap::new();
    for n in &nodes {
        by_base.entry(base(n.id())).or_default().push(n);
    }
    let mut rows = Vec::with_capacity(nodes.len());
    for node in &nodes {
        let p = page(cx, &index, node, &by_base[base(node.id())]);
        let origin = |k: &str| {
            p.origin
                .iter()
                .find(|f| f.name == k)
                .and_then(|f| f.value.clone())
                .unwrap_or_else(|| "not recorded".into())
        };
        let fact = |k: &str| {
            p.facts
                .iter()
                .find(|f| f.name == k)
                .and_then(|f| f.value.clone())
                .unwrap_or_else(|| "not recorded".into())
        };
        rows.push(IndexRow {
            link: EntityLink::new(cx, node),
            name: p.name.clone(),
            version: p.version.clone(),
            rows: p
                .versions
                .iter()
                .find(|s| s.current)
                .map_or_else(|| "not recorded".into(), |s| s.rows.clone()),
            owner: fact("owner"),
            source: origin("source"),
            legal_basis: origin("legal_basis"),
            datasheet: !p.documents.is_empty(),
            assessments: p.quality.len(),
            producers: p.produced_by.len(),
            consumers: p.consumed_by.len() + p.models.len() + p.features.len(),
            findings: p.findings.len(),
        });
        let Some(path) = links::href(node) else {
            continue;
        };
        let title = format!("Dataset {}", node.id());
        pages.add(path.clone(), cx.render(&path, "dataset.html", &title, p)?);
    }
    write_list(
        cx,
        pages,
        "datasets/index",
        "datasets.html",
        "Datasets",
        rows,
    )
}

#[cfg(test)]
mod tests;
