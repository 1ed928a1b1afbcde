//! `models/MODEL/VERSION.html`: the card of one model version (`SITE.md`): its registration with
//! completeness marks, changelog and justification, training data, evaluations, validations and
//! reviews, the environments it reached, the deployments that served it, incidents and findings
//! about it, its lineage, and what changed against its parent version.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::diff::{DatasetUse, Diff, datasets, diff};
use super::{
    Field, FindingLink, Lineage, NextReview, Status, VersionEvents, field, findings_about, lineage,
    markdown, or_nr, references, rule_cx, split_version, status, value_text,
};
use crate::checks::facts::Facts;
use crate::event::{EntityType, NodeId};
use crate::render::pages::{EntityLink, EventRow};
use crate::render::{Cx, Pages, links};
use crate::time;

/// The attributes of `model.registered` (`EVENT-SCHEMA.md`), in schema order.
const FIELDS: &[&str] = &[
    "model",
    "version",
    "parent_version",
    "owner",
    "developers",
    "intended_purpose",
    "artifact_digest",
    "code_commit",
    "training_run",
    "datasets",
    "training_data_cutoff",
    "changelog",
    "justification",
    "change_type",
    "hyperparameters",
    "hardware",
    "runtime",
    "limitations",
    "input_spec",
    "oversight_measures",
    "monitoring_thresholds",
    "risk_tier",
    "predetermined_changes",
];

/// Fields shown in a section of their own rather than in the metadata table.
const SHOWN_BELOW: &[&str] = &["changelog", "justification", "datasets"];

#[derive(Serialize)]
struct Page {
    id: String,
    model: String,
    model_href: String,
    version: String,
    unresolved: bool,
    /// Other ids joined to this one by `[[link]] same`.
    aliases: Vec<String>,
    references: Vec<EventRow>,
    reference_count: usize,
    status: Status,
    registration: Option<EventRow>,
    first_registered: Option<String>,
    registrations: usize,
    required: Vec<String>,
    fields: Vec<Field>,
    other_fields: Vec<Field>,
    changelog: Option<minijinja::Value>,
    justification: Option<minijinja::Value>,
    cutoff: Option<String>,
    training_run: Option<EntityLink>,
    datasets: Vec<DatasetUse>,
    evaluations: Vec<Evaluation>,
    validations: Vec<Validation>,
    reviews: Vec<Review>,
    next_review: Option<NextReview>,
    envs: Vec<String>,
    production_reached: bool,
    promotions: Vec<Promotion>,
    deployments: Vec<Deployment>,
    decisions: usize,
    incidents: Vec<IncidentRow>,
    retirements: Vec<Retirement>,
    findings: Vec<FindingLink>,
    lineage: Option<Lineage>,
    diff: Diff,
}

#[derive(Serialize)]
struct Evaluation {
    event: EventRow,
    passed: String,
    metrics: Vec<Metric>,
    datasets: Vec<(EntityLink, String)>,
    subgroups: Vec<Subgroup>,
    thresholds: Vec<(String, String)>,
    facts: Vec<(String, String)>,
}

#[derive(Serialize)]
struct Metric {
    name: String,
    value: String,
    ci: String,
}

#[derive(Serialize)]
struct Subgroup {
    group: String,
    metric: String,
    value: String,
    n: String,
}

#[derive(Serialize)]
struct Validation {
    event: EventRow,
    validator: String,
    decision: String,
    scope: String,
    conditions: String,
    next_review_due: String,
    rationale: Option<minijinja::Value>,
}

#[derive(Serialize)]
struct Review {
    event: EventRow,
    reviewer: String,
    outcomes_analysis: String,
    benchmark: String,
    findings: String,
    next_due: String,
}

#[derive(Serialize)]
struct Promotion {
    event: EventRow,
    from: String,
    to: String,
    digest: String,
    /// `matches` / `differs` / `missing`: the promoted digest against the registered one.
    digest_check: String,
    approval: Option<Approval>,
    reason: Option<String>,
}

#[derive(Serialize)]
struct Approval {
    id: String,
    href: Option<String>,
    what: String,
}

#[derive(Serialize)]
struct Deployment {
    link: EntityLink,
    env: String,
    production: bool,
    from: String,
    until: Option<String>,
    opened: String,
    closed: Option<String>,
}

#[derive(Serialize)]
pub(in crate::render::pages) struct IncidentRow {
    pub link: EntityLink,
    pub title: String,
    pub status: String,
}

#[derive(Serialize)]
struct Retirement {
    event: EventRow,
    reason: String,
}

/// The incident's title and whether it is open or closed, from its latest lifecycle event.
pub(in crate::render::pages) fn incident_row(cx: &Cx<'_>, node: &NodeId) -> IncidentRow {
    let model = cx.model();
    let latest = model.entity(node).and_then(|ent| {
        ent.timeline.iter().rev().copied().find(|&i| {
            let e = model.event(i);
            matches!(
                e.kind.as_str(),
                "incident.opened" | "incident.updated" | "incident.closed"
            ) && e.subject.as_ref().is_some_and(|s| s.is(node))
        })
    });
    let (title, status) = match latest.map(|i| model.event(i)) {
        Some(e) => (
            or_nr(e.attrs().get("title")),
            if e.kind == "incident.closed" {
                "closed"
            } else {
                "open"
            },
        ),
        None => ("not recorded".to_string(), "unknown"),
    };
    IncidentRow {
        link: EntityLink::new(cx, node),
        title,
        status: status.to_string(),
    }
}

fn evaluation(cx: &Cx<'_>, i: u32) -> Evaluation {
    let a = cx.model().event(i).attrs();
    let list = |k: &str| match a.get(k) {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let metrics = list("metrics")
        .iter()
        .map(|m| Metric {
            name: or_nr(m.get("name")),
            value: or_nr(m.get("value")),
            ci: match (value_text(m.get("ci_low")), value_text(m.get("ci_high"))) {
                (Some(l), Some(h)) => format!("{l} – {h}"),
                _ => "not recorded".into(),
            },
        })
        .collect();
    let n_text = |v: Option<&Value>| match v.and_then(Value::as_i64) {
        Some(n) => links::thousands(n),
        None => or_nr(v),
    };
    let datasets = list("datasets")
        .iter()
        .filter_map(|d| {
            let id = d
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())?;
            Some((
                EntityLink::new(cx, &NodeId::new(EntityType::Dataset, id)),
                n_text(d.get("n")),
            ))
        })
        .collect();
    let subgroups = list("subgroups")
        .iter()
        .map(|s| Subgroup {
            group: or_nr(s.get("group")),
            metric: or_nr(s.get("metric")),
            value: or_nr(s.get("value")),
            n: n_text(s.get("n")),
        })
        .collect();
    let thresholds = match a.get("thresholds") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), value_text(Some(v)).unwrap_or_default()))
            .collect(),
        _ => Vec::new(),
    };
    let facts = [
        ("thresholds_set_ts", "Thresholds set"),
        ("report_digest", "Report digest"),
        ("signed_by", "Signed by"),
        ("signed_ts", "Signed"),
    ]
    .iter()
    .map(|(k, label)| (label.to_string(), or_nr(a.get(*k))))
    .collect();
    Evaluation {
        event: EventRow::new(cx, i),
        passed: match a.get("passed").and_then(Value::as_bool) {
            Some(true) => "pass",
            Some(false) => "fail",
            None => "not recorded",
        }
        .to_string(),
        metrics,
        datasets,
        subgroups,
        thresholds,
        facts,
    }
}

fn promotion(cx: &Cx<'_>, i: u32, registered_digest: Option<&str>) -> Promotion {
    let model = cx.model();
    let e = model.event(i);
    let a = e.attrs();
    let digest = value_text(a.get("artifact_digest"));
    let digest_check = match (digest.as_deref(), registered_digest) {
        (None, _) => "missing",
        (Some(_), None) => "not registered",
        (Some(d), Some(r)) if d == r => "matches",
        (Some(_), Some(_)) => "differs",
    }
    .to_string();
    let approval = value_text(a.get("approval")).map(|id| match model.by_id(&id) {
        Some(j) => {
            let ap = model.event(j);
            let aa = ap.attrs();
            let what = if ap.kind == "model.validated" {
                format!(
                    "{} by {} on {}",
                    or_nr(aa.get("decision")),
                    or_nr(aa.get("validator")),
                    time::fmt(ap.ts)
                )
            } else {
                format!("a `{}` event, not a validation", ap.kind)
            };
            Approval {
                id,
                href: Some(links::event_href(j)),
                what,
            }
        }
        None => Approval {
            id,
            href: None,
            what: "not an event of this report".into(),
        },
    });
    Promotion {
        event: EventRow::new(cx, i),
        from: or_nr(a.get("from_env")),
        to: or_nr(a.get("to_env")),
        digest: digest.unwrap_or_else(|| "not recorded".into()),
        digest_check,
        approval,
        reason: e.reason().map(str::to_string),
    }
}

/// Whether a version of the same model was first registered before `node` (MOD-01 (b) then
/// requires `parent_version`).
fn has_earlier(cx: &Cx<'_>, node: &NodeId, model_name: &str) -> bool {
    let model = cx.model();
    let Some(&first) = model.entity(node).and_then(|e| e.registered.first()) else {
        return false;
    };
    crate::checks::facts::entities_of(model, EntityType::ModelVersion).any(|(n, e)| {
        n != node
            && split_version(n.id()).0 == model_name
            && e.registered.first().is_some_and(|&f| f < first)
    })
}

pub fn write(
    cx: &Cx<'_>,
    pages: &mut Pages,
    facts: &Facts<'_>,
    index: &BTreeMap<&str, Vec<usize>>,
    node: &NodeId,
) -> anyhow::Result<()> {
    let Some(path) = links::href(node) else {
        return Ok(());
    };
    let model = cx.model();
    let ent = model.entity(node);
    let unresolved = ent.is_none_or(|e| e.unresolved);
    let (model_name, version) = split_version(node.id());
    let ev = VersionEvents::of(model, node);
    let reg = ent.and_then(|e| e.registered.last().copied());
    let attrs = reg.map(|i| model.event(i).attrs()).unwrap_or_default();

    let mut required: Vec<String> =
        rule_cx(cx, facts, "MOD-01").map_or_else(Vec::new, |r| r.strs("required"));
    let parent_required = has_earlier(cx, node, model_name);
    let why = |k: &str| {
        if required.iter().any(|r| r == k) {
            Some("MOD-01 (a)".to_string())
        } else if k == "parent_version" && parent_required {
            Some("MOD-01 (b): an earlier version of the model is registered".to_string())
        } else {
            None
        }
    };
    let fields: Vec<Field> = FIELDS
        .iter()
        .map(|k| {
            let mut f = field(&attrs, k, why(k));
            if SHOWN_BELOW.contains(k) && f.value.is_some() {
                f.value = Some("shown below".into());
            }
            f
        })
        .collect();
    let other_fields = attrs
        .keys()
        .filter(|k| !FIELDS.contains(&k.as_str()))
        .map(|k| field(&attrs, k, None))
        .collect();
    if parent_required {
        required.push("parent_version".into());
    }

    let registered_digest = value_text(attrs.get("artifact_digest"));
    let promotions: Vec<Promotion> = ev
        .promoted
        .iter()
        .map(|&i| promotion(cx, i, registered_digest.as_deref()))
        .collect();
    let mut envs: Vec<String> = Vec::new();
    for p in &promotions {
        for env in [&p.from, &p.to] {
            if envs.last() != Some(env) {
                envs.push(env.clone());
            }
        }
    }
    let production_envs = &cx.input.config.policy.production_envs;
    let production_reached = promotions.iter().any(|p| production_envs.contains(&p.to));

    let mut deployments = Vec::new();
    for d in facts.deployments() {
        for iv in d.intervals.iter().filter(|iv| iv.version == node.id()) {
            deployments.push(Deployment {
                link: EntityLink::new(cx, &NodeId::new(EntityType::Deployment, &d.id)),
                env: iv.env.clone().unwrap_or_else(|| "not recorded".into()),
                production: d.production,
                from: time::fmt(iv.start),
                until: iv.end.map(time::fmt),
                opened: links::event_href(iv.opened_by),
                closed: iv.closed_by.map(links::event_href),
            });
        }
    }
    deployments.sort_by(|a, b| (&a.from, &a.link.id).cmp(&(&b.from, &b.link.id)));

    let validations = ev
        .validated
        .iter()
        .map(|&i| {
            let e = model.event(i);
            let a = e.attrs();
            Validation {
                event: EventRow::new(cx, i),
                validator: or_nr(a.get("validator")),
                decision: or_nr(a.get("decision")),
                scope: or_nr(a.get("scope")),
                conditions: or_nr(a.get("conditions")),
                next_review_due: or_nr(a.get("next_review_due")),
                rationale: markdown(e.rationale().get("summary")),
            }
        })
        .collect();
    let reviews = ev
        .reviews
        .iter()
        .map(|&i| {
            let a = model.event(i).attrs();
            Review {
                event: EventRow::new(cx, i),
                reviewer: or_nr(a.get("reviewer")),
                outcomes_analysis: or_nr(a.get("outcomes_analysis")),
                benchmark: or_nr(a.get("benchmark")),
                findings: or_nr(a.get("findings")),
                next_due: or_nr(a.get("next_due")),
            }
        })
        .collect();
    let retirements = ev
        .retired
        .iter()
        .map(|&i| Retirement {
            event: EventRow::new(cx, i),
            reason: or_nr(model.event(i).attrs().get("reason")),
        })
        .collect();
    let (references, reference_count) = if reg.is_none() {
        references(cx, node)
    } else {
        (Vec::new(), 0)
    };
    let model_node = NodeId::new(EntityType::Model, model_name);
    let page = Page {
        id: node.id().to_string(),
        model: model_name.to_string(),
        model_href: links::href(&model_node).unwrap_or_default(),
        version: version.to_string(),
        unresolved,
        aliases: ent.map_or_else(Vec::new, |e| {
            e.aliases.iter().map(|a| a.to_string()).collect()
        }),
        references,
        reference_count,
        status: status(cx, facts, node.id(), &ev),
        registration: reg.map(|i| EventRow::new(cx, i)),
        first_registered: model.first_registration(node).map(|e| time::fmt(e.ts)),
        registrations: ent.map_or(0, |e| e.registered.len()),
        required,
        fields,
        other_fields,
        changelog: markdown(attrs.get("changelog")),
        justification: markdown(attrs.get("justification")),
        cutoff: value_text(attrs.get("training_data_cutoff")),
        training_run: value_text(attrs.get("training_run"))
            .map(|r| EntityLink::new(cx, &NodeId::new(EntityType::Run, &r))),
        datasets: datasets(cx, &attrs),
        evaluations: ev.evaluated.iter().map(|&i| evaluation(cx, i)).collect(),
        validations,
        reviews,
        next_review: ev.next_review(cx),
        envs,
        production_reached,
        promotions,
        deployments,
        decisions: ev.decisions,
        incidents: ev.incidents.iter().map(|n| incident_row(cx, n)).collect(),
        retirements,
        findings: findings_about(cx, index, node.as_str()),
        lineage: lineage(cx, node, "../../"),
        diff: if reg.is_some() {
            diff(cx, &attrs, model_name)
        } else {
            Diff {
                state: "unregistered-self".into(),
                ..Diff::default()
            }
        },
    };
    let title = format!("Model version {}", node.id());
    pages.add(
        path.clone(),
        cx.render(&path, "model_version.html", &title, page)?,
    );
    Ok(())
}
