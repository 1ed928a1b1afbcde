//! MOD — model version metadata: MOD-01 … MOD-03.
//!
//! Input: the effective events of the as-of view, the latest `model.registered` of each version
//! (its entity state) and, for MOD-02 and MOD-03, the versions in production ([`Facts`]).
//! Output per rule: findings in subject order (model versions, then datasets), check letters in
//! order within a subject. Discriminators are the check letter alone: each check gives at most
//! one finding per subject and lists everything it found in its message.

use crate::checks::ticks;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::catalogue::{ParamKind, param};
use super::facts::{Facts, entities_of};
use super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use crate::event::{EntityType, Event, NodeId, present};
use crate::model::Model;
use crate::time;

pub static RULES: &[&dyn Rule] = &[&Mod01, &Mod02, &Mod03];

pub(super) fn missing<'a>(
    attrs: &Map<String, Value>,
    keys: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    keys.into_iter()
        .filter(|k| !present(attrs.get(*k)))
        .collect()
}

/// The first event of a correction chain: following `supersedes` back from an effective event
/// through the corrections that were applied. A correction amends what a registration says, not
/// when the entity was first registered.
fn original_of(model: &Model, mut i: u32) -> u32 {
    for _ in 0..model.events.len() {
        let Some(target) = model.event(i).supersedes().and_then(|t| model.by_id(t)) else {
            break;
        };
        if model.superseded_by[target as usize] != Some(i) {
            break;
        }
        i = target;
    }
    i
}

/// The "not evaluable / not applicable" preamble of MOD-02 and MOD-03: they need
/// `deployment.started` and look only at deployed(V).
pub(super) fn deployed_scope<'c>(cx: &Cx<'c>) -> Result<&'c Facts<'c>, Outcome> {
    if !cx.model.occurs("deployment.started") {
        return Err(Outcome::not_evaluable("no `deployment.started` event"));
    }
    let facts = cx.facts;
    if facts.deployed_versions().next().is_none() {
        return Err(Outcome::not_applicable(
            "no model version has been served by a production deployment (`production_envs`)",
        ));
    }
    Ok(facts)
}

/// Evidence that V is in production: the event that started its first production service.
pub(super) fn prod_evidence(cx: &Cx<'_>, facts: &Facts<'_>, v: &str) -> Vec<Evidence> {
    facts
        .version_use(v)
        .map(|u| {
            let note = format!("first production service of `{v}`");
            cx.evi(u.first_event, Some(note))
        })
        .into_iter()
        .collect()
}

// --- MOD-01 ---------------------------------------------------------------------------------

/// MOD-01 Version identity.
pub struct Mod01;

static MOD01: RuleMeta = RuleMeta {
    id: "MOD-01",
    title: "Version identity",
    levels: "`deny`",
    basis: "T",
    sources: &[
        "AI Act Annex IV 1(a), 1(c) [V]",
        "SR 11-7 inventory [V]",
        "PRA SS1/23 P1 [V]",
        "NIST AI RMF GOVERN 1.6 [V]",
        "ISO/IEC 42001 A.6.2.3, A.6.2.7 [S]",
    ],
    needs: "`model.registered`.",
    checks: "For every registered model version V (subject `model_version:V`, read from its \
latest `model.registered`): (a) a field named in `required` is missing; (b) no `parent_version` \
while another version of the same `model` was registered earlier; (c) used before registration: \
the earliest `model.promoted`, `deployment.started`/`.changed`, `decision.made` or \
`decision.batch` naming V comes before V's first `model.registered` (a correction of the \
registration keeps the time of the original).",
    why: "Every model in use must be identifiable: who owns it, what it is for, which artifact \
and which code it is, and which version it replaced. Without that, no decision can be traced \
back to the model that made it, and no inventory or technical documentation can be trusted.",
    example: "Fires: `credit-risk@1.4.0` registered without `artifact_digest`. Passes: a \
correcting `model.registered` (`supersedes` the original, with a `reason`) that carries the \
digest.",
    fix: "Register every version before it is promoted, deployed or used, with each field of \
`required` and, after the first version of a model, its `parent_version`. To complete a \
registration, write a correcting `model.registered` with `supersedes` and a `reason`.",
    not_checked: "Whether the recorded digest and commit are those of the artifact and code \
actually built.",
    params: &[param(
        "required",
        ParamKind::Strs,
        "[\"owner\", \"intended_purpose\", \"artifact_digest\", \"code_commit\"]",
    )],
};

impl Rule for Mod01 {
    fn meta(&self) -> &'static RuleMeta {
        &MOD01
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let required = cx.strs("required");
        // (node, version id, effective registration, first position of its registration)
        let mut versions = Vec::new();
        for (node, ent) in entities_of(model, EntityType::ModelVersion) {
            let (Some(&first), Some(&last)) = (ent.registered.first(), ent.registered.last())
            else {
                continue;
            };
            versions.push((node, node.id(), last, original_of(model, first)));
        }
        if versions.is_empty() {
            return Outcome::not_evaluable("no `model.registered` event");
        }
        let attrs: Vec<Map<String, Value>> =
            versions.iter().map(|v| model.event(v.2).attrs()).collect();
        // Versions of each model by first registration (event order).
        let mut by_model: BTreeMap<&str, Vec<(u32, &str)>> = BTreeMap::new();
        for ((_, v, _, first), a) in versions.iter().zip(&attrs) {
            if let Some(m) = a.get("model").and_then(Value::as_str) {
                by_model.entry(m).or_default().push((*first, v));
            }
        }
        for list in by_model.values_mut() {
            list.sort_unstable();
        }

        let mut out = Vec::new();
        for ((node, v, reg, first), a) in versions.iter().zip(&attrs) {
            let reg_event = model.event(*reg);
            let system = reg_event.system.as_deref();
            let subject = node.as_str();
            let draft = |check: &'static str, message: String, evidence: Vec<Evidence>| {
                Draft::new(subject, check, check, Level::Deny, message)
                    .evidence(evidence)
                    .system(system)
            };

            let lacking = missing(a, required.iter().map(String::as_str));
            if !lacking.is_empty() {
                out.push(draft(
                    "a",
                    format!("`{v}` is registered without {}", ticks(&lacking)),
                    vec![cx.ev(reg_event, Some(format!("lacks {}", lacking.join(", "))))],
                ));
            }

            if !present(a.get("parent_version"))
                && let Some(m) = a.get("model").and_then(Value::as_str)
                && let Some(&(earlier, earlier_v)) =
                    by_model[m].iter().take_while(|(pos, _)| pos < first).last()
            {
                let e = model.event(earlier);
                out.push(draft(
                    "b",
                    format!(
                        "`{v}` has no `parent_version`, but `{earlier_v}` of model `{m}` was registered before it ({})",
                        time::fmt(e.ts)
                    ),
                    vec![
                        cx.ev(reg_event, Some("no parent_version".into())),
                        cx.ev(e, Some(format!("earlier version `{earlier_v}`"))),
                    ],
                ));
            }

            let use_before = model
                .entity(node)
                .into_iter()
                .flat_map(|ent| ent.timeline.iter().copied())
                .take_while(|i| i < first)
                .find(|&i| {
                    matches!(
                        model.event(i).kind.as_str(),
                        "model.promoted"
                            | "deployment.started"
                            | "deployment.changed"
                            | "decision.made"
                            | "decision.batch"
                    )
                });
            if let Some(u) = use_before {
                let (used, registered) = (model.event(u), model.event(*first));
                out.push(
                    draft(
                        "c",
                        format!(
                            "`{v}` is named by `{}` ({}, {}) before its first `model.registered` ({})",
                            used.id,
                            used.kind,
                            time::fmt(used.ts),
                            time::fmt(registered.ts)
                        ),
                        vec![
                            cx.ev(used, Some("first use".into())),
                            cx.ev(registered, Some("registration".into())),
                        ],
                    )
                    .at(used.ts.max(registered.ts)),
                );
            }
        }
        Outcome::evaluated(out)
    }
}

// --- MOD-02 ---------------------------------------------------------------------------------

/// MOD-02 Evaluation evidence.
pub struct Mod02;

static MOD02: RuleMeta = RuleMeta {
    id: "MOD-02",
    title: "Evaluation evidence",
    levels: "`deny`",
    basis: "T",
    sources: &[
        "AI Act Art. 9(8), Annex IV 2(g) [V]",
        "SR 11-7 validation core elements [V]",
        "PRA SS1/23 P3 [V]",
        "NIST AI RMF MEASURE 2.1, 2.3, 2.11 [V]",
        "ISO/IEC 42001 A.6.2.4 [S]",
    ],
    needs: "`deployment.started`. Scope: model versions served by a production deployment at \
some time up to the as-of time.",
    checks: "For every model version V in production (subject `model_version:V`): (a) no \
`model.evaluated` of V. On the latest evaluation: (b) a name in `required_metrics` is absent \
from `metrics`; (c) `datasets` missing, or an entry without `n`; (d) when V's system is \
high-risk (or `subgroups = \"always\"`; never with `\"never\"`), `subgroups` missing or an entry \
without `n`; (e) `thresholds` or `thresholds_set_ts` missing, or `thresholds_set_ts` later than \
the evaluation's `ts`; (f) `passed` missing; (g) `report_digest`, `signed_by` or `signed_ts` \
missing.",
    why: "A model may only be relied on once it has been tested against metrics and thresholds \
fixed in advance, on data of known size, including the groups it may treat differently, with a \
signed report of the result. Thresholds chosen after seeing the results prove nothing.",
    example: "Fires: the only evaluation of `credit-risk@1.4.0` has `thresholds_set_ts` after \
its `ts`. Passes: thresholds set before the evaluation ran.",
    fix: "Record a `model.evaluated` for every version before it goes into production, with the \
metrics, the test datasets and their sizes, subgroup results for high-risk systems, the \
thresholds and when they were set, the outcome, and the digest and signature of the report. \
A new evaluation replaces an incomplete one (the latest is checked).",
    not_checked: "Main characteristics of the test data beyond MOD-03, and whether the metrics \
actually meet the thresholds.",
    params: &[
        param("required_metrics", ParamKind::Strs, "[]"),
        param(
            "subgroups",
            ParamKind::Enum(&["always", "high_risk", "never"]),
            "\"high_risk\"",
        ),
    ],
};

impl Rule for Mod02 {
    fn meta(&self) -> &'static RuleMeta {
        &MOD02
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let facts = match deployed_scope(cx) {
            Ok(f) => f,
            Err(outcome) => return outcome,
        };
        let model = cx.model;
        let required_metrics = cx.strs("required_metrics");
        let subgroups_mode = cx.string("subgroups");
        let mut out = Vec::new();
        for (v, _) in facts.deployed_versions() {
            let node = NodeId::new(EntityType::ModelVersion, v);
            let system = facts.system_of_version(v);
            let subject = node.as_str();
            let draft = |check: &'static str, message: String, evidence: Vec<Evidence>| {
                Draft::new(subject, check, check, Level::Deny, message)
                    .evidence(evidence)
                    .system(system)
            };
            let Some((ei, eval)) = model.about(&node, "model.evaluated").last() else {
                let mut evidence = prod_evidence(cx, facts, v);
                if let Some(reg) = model.state(&node) {
                    evidence.push(cx.ev(reg, Some("registration".into())));
                }
                out.push(draft(
                    "a",
                    format!(
                        "`{v}` has been in production since {} without a `model.evaluated`",
                        facts.first_prod(v).map(time::fmt).unwrap_or_default()
                    ),
                    evidence,
                ));
                continue;
            };
            let a = eval.attrs();
            let what = format!(
                "the latest evaluation of `{v}`, `{}` ({}),",
                eval.id,
                time::fmt(eval.ts)
            );
            let ev = |note: String| vec![cx.evi(ei, Some(note))];

            let names: Vec<&str> = match a.get("metrics") {
                Some(Value::Array(ms)) => ms
                    .iter()
                    .filter_map(|m| m.get("name").and_then(Value::as_str))
                    .collect(),
                _ => Vec::new(),
            };
            let absent: Vec<&str> = required_metrics
                .iter()
                .map(String::as_str)
                .filter(|m| !names.contains(m))
                .collect();
            if !absent.is_empty() {
                out.push(draft(
                    "b",
                    format!("{what} lacks required metrics {}", ticks(&absent)),
                    ev(format!("no {}", absent.join(", "))),
                ));
            }

            if let Some(problem) = entries_with_n(&a, "datasets", "id") {
                out.push(draft("c", format!("{what} {problem}"), ev(problem.clone())));
            }

            let want_subgroups = match subgroups_mode.as_str() {
                "always" => true,
                "never" => false,
                _ => facts.high_risk(system),
            };
            if want_subgroups && let Some(problem) = entries_with_n(&a, "subgroups", "group") {
                let because = if subgroups_mode == "always" {
                    "subgroups = \"always\"".to_string()
                } else {
                    format!("system `{}` is high-risk", system.unwrap_or_default())
                };
                out.push(draft(
                    "d",
                    format!("{what} {problem} ({because})"),
                    ev(problem.clone()),
                ));
            }

            if let Some((problem, late)) = thresholds_problem(&a, eval) {
                let d = draft("e", format!("{what} {problem}"), ev(problem.clone()));
                out.push(if late { d.at(eval.ts) } else { d });
            }

            if !present(a.get("passed")) {
                out.push(draft(
                    "f",
                    format!("{what} does not record whether it `passed`"),
                    ev("no passed".into()),
                ));
            }

            let unsigned = missing(&a, ["report_digest", "signed_by", "signed_ts"]);
            if !unsigned.is_empty() {
                out.push(draft(
                    "g",
                    format!("{what} lacks {}", ticks(&unsigned)),
                    ev(format!("no {}", unsigned.join(", "))),
                ));
            }
        }
        Outcome::evaluated(out)
    }
}

/// MOD-02 (c), (d): `key` missing, or entries without `n`, named by their `label` field.
fn entries_with_n(a: &Map<String, Value>, key: &str, label: &str) -> Option<String> {
    if !present(a.get(key)) {
        return Some(format!("has no `{key}`"));
    }
    let entries: &[Value] = match a.get(key) {
        Some(Value::Array(xs)) => xs,
        _ => return Some(format!("has a `{key}` that is not a list")),
    };
    let without: Vec<String> = entries
        .iter()
        .enumerate()
        .filter(|(_, x)| !present(x.get("n")))
        .map(|(k, x)| {
            x.get(label)
                .and_then(Value::as_str)
                .map_or_else(|| format!("entry {}", k + 1), |s| format!("`{s}`"))
        })
        .collect();
    (!without.is_empty()).then(|| format!("lists {key} without `n`: {}", without.join(", ")))
}

/// MOD-02 (e): the problem, and whether it is a late `thresholds_set_ts` (an event-time finding)
/// rather than something missing.
fn thresholds_problem(a: &Map<String, Value>, eval: &Event) -> Option<(String, bool)> {
    let lacking = missing(a, ["thresholds", "thresholds_set_ts"]);
    if !lacking.is_empty() {
        return Some((format!("has no {}", ticks(&lacking)), false));
    }
    let raw = a.get("thresholds_set_ts").and_then(Value::as_str);
    let set: Option<Timestamp> = raw.and_then(|s| time::parse_rfc3339(s).ok());
    match set {
        None => Some((
            format!(
                "has a `thresholds_set_ts` that is not an RFC 3339 time ({})",
                a.get("thresholds_set_ts")
                    .map(Value::to_string)
                    .unwrap_or_default()
            ),
            false,
        )),
        Some(set) if set > eval.ts => Some((
            format!(
                "sets its thresholds at {}, after the evaluation ran ({})",
                time::fmt(set),
                time::fmt(eval.ts)
            ),
            true,
        )),
        Some(_) => None,
    }
}

// --- MOD-03 ---------------------------------------------------------------------------------

/// MOD-03 Datasets and datasheets.
pub struct Mod03;

static MOD03: RuleMeta = RuleMeta {
    id: "MOD-03",
    title: "Datasets and datasheets",
    levels: "`deny`",
    basis: "T",
    sources: &[
        "AI Act Art. 10(2)(b)(c), Annex IV 2(d) [V]",
        "SR 11-7 inventory (type and source of inputs) [V]",
        "PRA SS1/23 P3 [V]",
        "ISO/IEC 42001 A.7.2, A.7.3, A.7.5 [S]",
    ],
    needs: "`deployment.started`. Scope: model versions served by a production deployment at \
some time up to the as-of time, and the datasets their registrations list.",
    checks: "(a) For every model version V in production (subject `model_version:V`, read from \
its latest `model.registered`): `datasets` missing, no entry with role `train`, or (with \
`require_holdout`) none with role `validation` or `test`. For every dataset those versions list \
(subject `dataset:ID`, read from its latest `dataset.registered`): (b) `digest` missing; \
(c) `datasheet` missing, or not the document id (the `subject.id`, not the event id) of a \
registered document whose `doc_type` is `\"datasheet\"`. A listed dataset that is not registered \
at all has neither.",
    why: "A model is only as good as the data it learned from and was tested on. Each dataset a \
model in service relied on must be pinned to exact content by a digest, and described by a \
datasheet (origin, collection, preparation, known gaps), so that its suitability can be judged \
and the model reproduced.",
    example: "Fires: `loans@2026-01` registered without `datasheet`. Passes: a `datasheet` \
document registered and named in a correcting `dataset.registered`.",
    fix: "List the training data and a held-out validation or test set (`datasets` with `id` \
and `role`) in each `model.registered`; register every dataset with its `digest`; register its \
datasheet as a `document.registered` with `doc_type = \"datasheet\"` and name that document's id \
in the dataset's `datasheet`.",
    not_checked: "Datasheet contents.",
    params: &[param("require_holdout", ParamKind::Bool, "true")],
};

impl Rule for Mod03 {
    fn meta(&self) -> &'static RuleMeta {
        &MOD03
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let facts = match deployed_scope(cx) {
            Ok(f) => f,
            Err(outcome) => return outcome,
        };
        let model = cx.model;
        let require_holdout = cx.flag("require_holdout");
        let mut out = Vec::new();
        // Dataset id → (version, its registration event) that list it, in version order.
        let mut listed: BTreeMap<String, Vec<(&str, u32)>> = BTreeMap::new();
        for (v, _) in facts.deployed_versions() {
            let node = NodeId::new(EntityType::ModelVersion, v);
            let system = facts.system_of_version(v);
            let reg = model
                .entity(&node)
                .and_then(|e| e.registered.last().copied());
            let attrs = reg.map(|i| model.event(i).attrs()).unwrap_or_default();
            let mut roles: Vec<&str> = Vec::new();
            if let Some(Value::Array(entries)) = attrs.get("datasets") {
                for entry in entries {
                    if let Some(role) = entry.get("role").and_then(Value::as_str) {
                        roles.push(role);
                    }
                    if let (Some(id), Some(reg)) = (
                        entry
                            .get("id")
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty()),
                        reg,
                    ) {
                        let users = listed.entry(id.to_string()).or_default();
                        if !users.iter().any(|(u, _)| *u == v) {
                            users.push((v, reg));
                        }
                    }
                }
            }
            let mut problems = Vec::new();
            if reg.is_none() {
                problems.push(
                    "is in production but not registered, so it lists no `datasets`".to_string(),
                );
            } else if !present(attrs.get("datasets")) {
                problems.push("lists no `datasets`".to_string());
            } else {
                if !roles.contains(&"train") {
                    problems.push("lists no dataset with role `train`".to_string());
                }
                if require_holdout && !roles.iter().any(|r| *r == "validation" || *r == "test") {
                    problems.push(
                        "lists no dataset with role `validation` or `test` (require_holdout)"
                            .to_string(),
                    );
                }
            }
            if !problems.is_empty() {
                let evidence = match reg {
                    Some(i) => vec![cx.evi(i, Some("registration".into()))],
                    None => prod_evidence(cx, facts, v),
                };
                out.push(
                    Draft::new(
                        node.as_str(),
                        "a",
                        "a",
                        Level::Deny,
                        format!("`{v}` {}", problems.join("; ")),
                    )
                    .evidence(evidence)
                    .system(system),
                );
            }
        }

        for (id, users) in &listed {
            let node = NodeId::new(EntityType::Dataset, id);
            let state = model.state(&node);
            let attrs = state.map(Event::attrs).unwrap_or_default();
            let by = users
                .iter()
                .map(|(v, _)| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let system = state
                .and_then(|e| e.system.as_deref())
                .or_else(|| users.iter().find_map(|(v, _)| facts.system_of_version(v)));
            let evidence = |note: &str| {
                let mut ev: Vec<Evidence> = state
                    .map(|e| cx.ev(e, Some(note.to_string())))
                    .into_iter()
                    .collect();
                ev.extend(
                    users
                        .iter()
                        .map(|(v, i)| cx.evi(*i, Some(format!("`{v}` lists `{id}`")))),
                );
                ev
            };
            let draft = |check: &'static str, message: String, note: &str| {
                Draft::new(node.as_str(), check, check, Level::Deny, message)
                    .evidence(evidence(note))
                    .system(system)
            };
            if state.is_none() {
                let msg = |what: &str| {
                    format!(
                        "dataset `{id}`, used by {by} in production, is not registered, so it has no {what}"
                    )
                };
                out.push(draft("b", msg("`digest`"), "not registered"));
                out.push(draft("c", msg("`datasheet`"), "not registered"));
                continue;
            }
            if !present(attrs.get("digest")) {
                out.push(draft(
                    "b",
                    format!("dataset `{id}`, used by {by} in production, has no `digest`"),
                    "no digest",
                ));
            }
            if let Some(problem) = datasheet_problem(model, &attrs) {
                out.push(draft(
                    "c",
                    format!("dataset `{id}`, used by {by} in production, {problem}"),
                    "datasheet",
                ));
            }
        }
        Outcome::evaluated(out)
    }
}

/// MOD-03 (c): `datasheet` missing, or not the id of a registered `datasheet` document.
fn datasheet_problem(model: &Model, attrs: &Map<String, Value>) -> Option<String> {
    if !present(attrs.get("datasheet")) {
        return Some("has no `datasheet`".into());
    }
    let Some(doc) = attrs.get("datasheet").and_then(Value::as_str) else {
        return Some("has a `datasheet` that is not a document id".into());
    };
    let node = NodeId::new(EntityType::Document, doc);
    let Some(reg) = model.state(&node) else {
        return Some(format!(
            "names datasheet `{doc}`, which is not a registered document (a document is named by its `subject.id`, not its event id)"
        ));
    };
    let doc_type = reg
        .attrs()
        .get("doc_type")
        .and_then(Value::as_str)
        .map(str::to_string);
    (doc_type.as_deref() != Some("datasheet")).then(|| {
        format!(
            "names `{doc}` as its datasheet, but that document's `doc_type` is {}",
            doc_type.map_or("missing".to_string(), |t| format!("`{t}`"))
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::k;
    use serde_json::{Value, json};

    use crate::testing::{check_events, ev, with};

    const SR: &str = "[policy]\npacks = [\"sr11-7\"]\n";

    /// A complete registration of `m@VERSION` for `credit`.
    fn reg(id: &str, ts: &str, version: &str, extra: Value) -> Value {
        let mut attrs = json!({
            "model": "m", "version": version, "owner": "risk", "intended_purpose": "credit",
            "artifact_digest": "sha256:aa", "code_commit": "abc123",
            "datasets": [{"id": "loans@1", "role": "train"}, {"id": "loans@2", "role": "test"}],
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                attrs.as_object_mut().unwrap().remove(k);
            } else {
                attrs[k] = v.clone();
            }
        }
        let e = ev(
            id,
            ts,
            "model.registered",
            &format!("model_version:m@{version}"),
            attrs,
        );
        with(e, "system", json!("credit"))
    }

    fn deploy(id: &str, ts: &str, version: &str) -> Value {
        let e = ev(
            id,
            ts,
            "deployment.started",
            "deployment:dep-1",
            json!({"model_version": version}),
        );
        with(e, "env", json!("production"))
    }

    fn decision(id: &str, ts: &str, version: &str) -> Value {
        ev(
            id,
            ts,
            "decision.made",
            &format!("decision:{id}"),
            json!({"deployment": "dep-1", "model_version": version}),
        )
    }

    // --- MOD-01 -----------------------------------------------------------------------------

    #[test]
    fn mod01_a_fires_on_missing_required_fields_and_a_correction_fixes_it() {
        let bad = reg(
            "r1",
            "2026-01-01T00:00:00Z",
            "1",
            json!({"artifact_digest": null}),
        );
        let case = check_events(std::slice::from_ref(&bad), SR);
        assert_eq!(case.keys("MOD-01"), [k("model_version:m@1", "a", "deny")]);
        let f = case.of("MOD-01")[0];
        let ev: Vec<_> = f
            .evidence
            .iter()
            .map(|e| (e.event.as_deref(), e.path.as_str(), e.line))
            .collect();
        assert_eq!(ev, [(Some("r1"), "main.jsonl", 1)]);
        assert!(f.message.contains("`artifact_digest`"), "{}", f.message);

        let fixed = with(
            with(
                reg("r1b", "2026-01-02T00:00:00Z", "1", json!({})),
                "supersedes",
                json!("r1"),
            ),
            "reason",
            json!("artifact digest added"),
        );
        let case = check_events(&[bad, fixed], SR);
        assert!(case.keys("MOD-01").is_empty(), "{:?}", case.keys("MOD-01"));
    }

    #[test]
    fn mod01_a_reads_the_required_param() {
        let extra = format!("{SR}[policy.params.MOD-01]\nrequired = [\"owner\", \"risk_tier\"]\n");
        let case = check_events(&[reg("r1", "2026-01-01T00:00:00Z", "1", json!({}))], &extra);
        assert_eq!(case.keys("MOD-01"), [k("model_version:m@1", "a", "deny")]);
    }

    #[test]
    fn mod01_b_fires_without_parent_after_an_earlier_version() {
        let v1 = reg("r1", "2026-01-01T00:00:00Z", "1", json!({}));
        let v2 = reg("r2", "2026-02-01T00:00:00Z", "2", json!({}));
        let case = check_events(&[v1.clone(), v2], SR);
        assert_eq!(case.keys("MOD-01"), [k("model_version:m@2", "b", "deny")]);
        let v2 = reg(
            "r2",
            "2026-02-01T00:00:00Z",
            "2",
            json!({"parent_version": "1"}),
        );
        assert!(check_events(&[v1, v2], SR).keys("MOD-01").is_empty());
    }

    #[test]
    fn mod01_c_fires_on_use_before_registration() {
        let events = [
            deploy("d1", "2026-01-01T00:00:00Z", "m@1"),
            decision("x1", "2026-01-01T01:00:00Z", "m@1"),
            reg("r1", "2026-01-02T00:00:00Z", "1", json!({})),
        ];
        let case = check_events(&events, SR);
        assert_eq!(case.keys("MOD-01"), [k("model_version:m@1", "c", "deny")]);
        let ids: Vec<_> = case.of("MOD-01")[0]
            .evidence
            .iter()
            .map(|e| e.event.clone().unwrap())
            .collect();
        assert_eq!(ids, ["d1", "r1"]);
        let ordered = [events[2].clone(), events[0].clone(), events[1].clone()];
        let ordered: Vec<Value> = ordered
            .into_iter()
            .enumerate()
            .map(|(i, e)| with(e, "ts", json!(format!("2026-01-0{}T00:00:00Z", i + 1))))
            .collect();
        assert!(check_events(&ordered, SR).keys("MOD-01").is_empty());
    }

    #[test]
    fn mod01_is_not_evaluable_without_registrations() {
        let case = check_events(&[deploy("d1", "2026-01-01T00:00:00Z", "m@1")], SR);
        assert!(matches!(
            case.status("MOD-01"),
            Some(crate::checks::Status::NotEvaluable(_))
        ));
    }

    #[test]
    fn mod01_is_pre_effective_under_the_eu_ai_act_before_2026_08_02() {
        let bad = reg("r1", "2026-01-01T00:00:00Z", "1", json!({"owner": null}));
        let extra = "[policy]\npacks = [\"eu-ai-act-provider\"]\n[report]\nas_of = \"2026-06-01T00:00:00Z\"\n";
        let case = check_events(std::slice::from_ref(&bad), extra);
        assert_eq!(case.keys("MOD-01"), [k("model_version:m@1", "a", "info")]);
        assert_eq!(case.of("MOD-01")[0].pre_effective, ["eu-ai-act-provider"]);
        let extra = "[policy]\npacks = [\"eu-ai-act-provider\"]\n[report]\nas_of = \"2026-09-01T00:00:00Z\"\n";
        assert_eq!(
            check_events(&[bad], extra).keys("MOD-01"),
            [k("model_version:m@1", "a", "deny")]
        );
    }

    // --- MOD-02 -----------------------------------------------------------------------------

    fn eval(id: &str, ts: &str, extra: Value) -> Value {
        let mut attrs = json!({
            "metrics": [{"name": "auc", "value": 0.81}],
            "datasets": [{"id": "loans@2", "n": 5000}],
            "subgroups": [{"group": "age<25", "metric": "auc", "value": 0.78, "n": 400}],
            "thresholds": {"auc": 0.8}, "thresholds_set_ts": "2026-01-01T00:00:00Z",
            "passed": true, "report_digest": "sha256:bb", "signed_by": "val", "signed_ts": ts,
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                attrs.as_object_mut().unwrap().remove(k);
            } else {
                attrs[k] = v.clone();
            }
        }
        ev(id, ts, "model.evaluated", "model_version:m@1", attrs)
    }

    fn high_risk() -> Value {
        with(
            ev(
                "s1",
                "2025-12-01T00:00:00Z",
                "system.registered",
                "system:credit",
                json!({"name": "Credit", "risk": "high"}),
            ),
            "system",
            json!("credit"),
        )
    }

    fn mod02(evaluation: Option<Value>, extra: &str) -> Vec<(String, String, String)> {
        let mut events = vec![
            high_risk(),
            reg("r1", "2026-01-01T00:00:00Z", "1", json!({})),
        ];
        events.extend(evaluation);
        events.push(deploy("d1", "2026-01-10T00:00:00Z", "m@1"));
        check_events(&events, &format!("{SR}{extra}")).keys("MOD-02")
    }

    #[test]
    fn mod02_a_fires_without_evaluation_with_evidence() {
        let events = [
            reg("r1", "2026-01-01T00:00:00Z", "1", json!({})),
            deploy("d1", "2026-01-10T00:00:00Z", "m@1"),
        ];
        let case = check_events(&events, SR);
        assert_eq!(case.keys("MOD-02"), [k("model_version:m@1", "a", "deny")]);
        let ev: Vec<_> = case.of("MOD-02")[0]
            .evidence
            .iter()
            .map(|e| (e.event.as_deref(), e.path.as_str(), e.line))
            .collect();
        assert_eq!(
            ev,
            [(Some("r1"), "main.jsonl", 1), (Some("d1"), "main.jsonl", 2)]
        );
    }

    #[test]
    fn mod02_passes_on_a_complete_evaluation() {
        let ok = eval("e1", "2026-01-05T00:00:00Z", json!({}));
        assert!(
            mod02(
                Some(ok),
                "[policy.params.MOD-02]\nrequired_metrics = [\"auc\"]\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn mod02_b_to_g_fire_on_the_latest_evaluation() {
        let ts = "2026-01-05T00:00:00Z";
        let cases = [
            ("b", json!({"metrics": [{"name": "ks", "value": 0.4}]})),
            ("c", json!({"datasets": [{"id": "loans@2"}]})),
            ("c", json!({"datasets": null})),
            ("d", json!({"subgroups": null})),
            (
                "d",
                json!({"subgroups": [{"group": "age<25", "metric": "auc", "value": 0.7}]}),
            ),
            ("e", json!({"thresholds_set_ts": "2026-01-06T00:00:00Z"})),
            ("e", json!({"thresholds": null})),
            ("f", json!({"passed": null})),
            ("g", json!({"signed_by": null})),
        ];
        let params = "[policy.params.MOD-02]\nrequired_metrics = [\"auc\"]\n";
        for (check, change) in cases {
            let keys = mod02(Some(eval("e1", ts, change.clone())), params);
            assert_eq!(keys, [k("model_version:m@1", check, "deny")], "{change}");
        }
        // An earlier, incomplete evaluation is replaced by the latest.
        let mut events = vec![
            high_risk(),
            reg("r1", "2026-01-01T00:00:00Z", "1", json!({})),
            eval("e0", "2026-01-02T00:00:00Z", json!({"passed": null})),
            eval("e1", ts, json!({})),
            deploy("d1", "2026-01-10T00:00:00Z", "m@1"),
        ];
        assert!(check_events(&events, SR).keys("MOD-02").is_empty());
        events[2] = with(events[2].clone(), "ts", json!("2026-01-06T00:00:00Z"));
        assert_eq!(
            check_events(&events, SR).keys("MOD-02"),
            [k("model_version:m@1", "f", "deny")]
        );
    }

    #[test]
    fn mod02_d_follows_the_subgroups_param_and_the_systems_risk() {
        let no_subgroups = || {
            Some(eval(
                "e1",
                "2026-01-05T00:00:00Z",
                json!({"subgroups": null}),
            ))
        };
        assert!(
            mod02(
                no_subgroups(),
                "[policy.params.MOD-02]\nsubgroups = \"never\"\n"
            )
            .is_empty()
        );
        // Not high-risk: no subgroups needed unless "always".
        let events = |extra: &str| {
            let ev = [
                reg("r1", "2026-01-01T00:00:00Z", "1", json!({})),
                no_subgroups().unwrap(),
                deploy("d1", "2026-01-10T00:00:00Z", "m@1"),
            ];
            check_events(&ev, &format!("{SR}{extra}")).keys("MOD-02")
        };
        assert!(events("").is_empty());
        assert_eq!(
            events("[policy.params.MOD-02]\nsubgroups = \"always\"\n"),
            [k("model_version:m@1", "d", "deny")]
        );
    }

    #[test]
    fn mod02_is_not_applicable_without_production_and_not_evaluable_without_deployments() {
        let staging = with(
            deploy("d1", "2026-01-10T00:00:00Z", "m@1"),
            "env",
            json!("staging"),
        );
        let case = check_events(
            &[reg("r1", "2026-01-01T00:00:00Z", "1", json!({})), staging],
            SR,
        );
        assert!(matches!(
            case.status("MOD-02"),
            Some(crate::checks::Status::NotApplicable(_))
        ));
        assert!(matches!(
            case.status("MOD-03"),
            Some(crate::checks::Status::NotApplicable(_))
        ));
        let case = check_events(&[reg("r1", "2026-01-01T00:00:00Z", "1", json!({}))], SR);
        assert!(matches!(
            case.status("MOD-02"),
            Some(crate::checks::Status::NotEvaluable(_))
        ));
        assert!(matches!(
            case.status("MOD-03"),
            Some(crate::checks::Status::NotEvaluable(_))
        ));
    }

    // --- MOD-03 -----------------------------------------------------------------------------

    fn dataset(id: &str, name: &str, extra: Value) -> Value {
        let mut attrs = json!({"name": "loans", "version": name, "digest": "sha256:cc", "datasheet": "ds-loans"});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                attrs.as_object_mut().unwrap().remove(k);
            } else {
                attrs[k] = v.clone();
            }
        }
        ev(
            id,
            "2025-12-01T00:00:00Z",
            "dataset.registered",
            &format!("dataset:loans@{name}"),
            attrs,
        )
    }

    fn datasheet(doc_type: &str) -> Value {
        ev(
            "doc1",
            "2025-12-01T00:00:00Z",
            "document.registered",
            "document:ds-loans",
            json!({"doc_type": doc_type}),
        )
    }

    fn mod03(model: Value, d1: Value, doc_type: &str, extra: &str) -> crate::testing::Case {
        let events = [
            datasheet(doc_type),
            d1,
            dataset("ds2", "2", json!({})),
            model,
            deploy("d1", "2026-01-10T00:00:00Z", "m@1"),
        ];
        check_events(&events, &format!("{SR}{extra}"))
    }

    #[test]
    fn mod03_passes_when_complete() {
        let case = mod03(
            reg("r1", "2026-01-01T00:00:00Z", "1", json!({})),
            dataset("ds1", "1", json!({})),
            "datasheet",
            "",
        );
        assert!(case.keys("MOD-03").is_empty(), "{:?}", case.keys("MOD-03"));
    }

    #[test]
    fn mod03_a_fires_on_missing_roles() {
        let train_only = json!({"datasets": [{"id": "loans@1", "role": "train"}]});
        let case = mod03(
            reg("r1", "2026-01-01T00:00:00Z", "1", train_only.clone()),
            dataset("ds1", "1", json!({})),
            "datasheet",
            "",
        );
        assert_eq!(case.keys("MOD-03"), [k("model_version:m@1", "a", "deny")]);
        let f = case.of("MOD-03")[0];
        let ev: Vec<_> = f
            .evidence
            .iter()
            .map(|e| (e.event.as_deref(), e.path.as_str(), e.line))
            .collect();
        assert_eq!(ev, [(Some("r1"), "main.jsonl", 4)]);
        let relaxed = "[policy.params.MOD-03]\nrequire_holdout = false\n";
        let case = mod03(
            reg("r1", "2026-01-01T00:00:00Z", "1", train_only),
            dataset("ds1", "1", json!({})),
            "datasheet",
            relaxed,
        );
        assert!(case.keys("MOD-03").is_empty());
        let test_only = json!({"datasets": [{"id": "loans@2", "role": "test"}]});
        let case = mod03(
            reg("r1", "2026-01-01T00:00:00Z", "1", test_only),
            dataset("ds1", "1", json!({})),
            "datasheet",
            "",
        );
        assert_eq!(case.keys("MOD-03"), [k("model_version:m@1", "a", "deny")]);
    }

    #[test]
    fn mod03_b_and_c_fire_per_dataset() {
        let model = || reg("r1", "2026-01-01T00:00:00Z", "1", json!({}));
        let case = mod03(
            model(),
            dataset("ds1", "1", json!({"digest": null})),
            "datasheet",
            "",
        );
        assert_eq!(case.keys("MOD-03"), [k("dataset:loans@1", "b", "deny")]);
        let case = mod03(
            model(),
            dataset("ds1", "1", json!({"datasheet": null})),
            "datasheet",
            "",
        );
        assert_eq!(case.keys("MOD-03"), [k("dataset:loans@1", "c", "deny")]);
        // Named by the event id instead of the document id.
        let case = mod03(
            model(),
            dataset("ds1", "1", json!({"datasheet": "doc1"})),
            "datasheet",
            "",
        );
        assert_eq!(case.keys("MOD-03"), [k("dataset:loans@1", "c", "deny")]);
        // A document of another type.
        let case = mod03(model(), dataset("ds1", "1", json!({})), "policy", "");
        assert_eq!(
            case.keys("MOD-03"),
            [
                k("dataset:loans@1", "c", "deny"),
                k("dataset:loans@2", "c", "deny")
            ]
        );
    }
}
