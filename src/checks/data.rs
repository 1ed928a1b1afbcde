//! DATA — data provenance: DATA-01 … DATA-03.
//!
//! Input: the effective events of the as-of view, the entity state of datasets, runs and model
//! versions, the lineage graph's upstream sets U(V) ([`LineageGraph::upstream`]) and the derived
//! facts (versions in production, systems, effective documents). Registrations are parsed (few);
//! `access` events are read through the typed view of [`super::access`].
//!
//! Output per rule: findings in subject order (node id byte order), check letters in order within
//! a subject, then the discriminator's run or event id in event order. DATA-01 and DATA-02 give at
//! most one finding per subject and check (the discriminator is the check letter); DATA-03 (b) is
//! per run and (c) per `access` event.
//!
//! [`LineageGraph::upstream`]: crate::graph::LineageGraph::upstream

use crate::checks::ticks;
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use petgraph::Direction;
use serde_json::{Map, Value};

use super::access::{AccessView, raw_str};
use super::catalogue::{ParamKind, param};
use super::classes::{Classes, Clock};
use super::facts::{Facts, entities_of, personal};
use super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use crate::event::raw_present;
use crate::event::{EntityType, Event, NodeId, present};
use crate::graph::Rel;
use crate::model::Model;
use crate::time;

pub static RULES: &[&dyn Rule] = &[&Data01, &Data02, &Data03];

/// `data_classes` that make a dataset special-category data under AI Act Art. 10(5).
const SPECIAL_CLASSES: &[&str] = &["special_category", "biometric"];

/// The latest `ts` of some events (a finding's time, `RULES.md` §4.3).
pub(super) fn latest_ts(model: &Model, events: &[u32]) -> Option<Timestamp> {
    events.iter().map(|&i| model.event(i).ts).max()
}

/// The model versions that list `node` in `datasets[].id` of their registration, by id.
fn listed_by(model: &Model, version: &NodeId) -> BTreeSet<NodeId> {
    model
        .state(version)
        .into_iter()
        .flat_map(|e| e.refs.iter())
        .filter(|r| r.field == "attrs.datasets[].id")
        .map(|r| r.target.clone())
        .collect()
}

/// The evidence that ties a subject to the versions it serves: each version's registration.
fn version_evidence(cx: &Cx<'_>, versions: &[&str], what: &str) -> Vec<Evidence> {
    versions
        .iter()
        .filter_map(|v| {
            let reg = cx.model.state(&NodeId::new(EntityType::ModelVersion, v))?;
            Some(cx.ev(reg, Some(format!("`{v}` {what}"))))
        })
        .collect()
}

fn names(versions: &[&str]) -> String {
    ticks(versions)
}

// --- DATA-01 --------------------------------------------------------------------------------

/// DATA-01 Lineage to acquired sources.
pub struct Data01;

static DATA01: RuleMeta = RuleMeta {
    id: "DATA-01",
    title: "Lineage to acquired sources",
    levels: "`deny`",
    basis: "T",
    sources: &[
        "AI Act Art. 10(2)(b)(c) [V]",
        "ISO/IEC 42001 A.7.3, A.7.5, A.7.6 [S]",
        "NIST AI RMF MAP 4.1 [V]",
    ],
    needs: "`deployment.started` and `model.registered`. Scope: the upstream set U(V) of every \
model version V served by a production deployment up to the as-of time.",
    checks: "U(V): the datasets V's registration lists (`datasets[].id`) and its `training_run`; \
then, until nothing is added, the `inputs` of every run in U, every run whose `outputs` contain a \
node of U, and the `derived_from` of every feature in U (parent versions are not followed). A \
root dataset is a dataset of U produced by no run (no `run.completed` lists it in `outputs`). \
(a) Subject `dataset:ID`, a root: its `origin` lacks `source`, `acquired_ts`, `method` or \
`legal_basis`, or lacks `original_purpose` when its `dataset.registered` is personal \
(`data_classes`). (b) Subject `run:ID` in U: `code.repo` or `code.commit` missing, or `inputs` \
missing. (c) Subject `dataset:ID` in U that V does not list directly in its registration (those \
are MOD-03 (b)): `digest` missing. Each check reads the subject's latest registration and gives \
one finding per subject, naming every version in production that depends on it.",
    why: "Training data must be traceable back to where it was acquired, how, on what legal \
basis and for what original purpose, through every processing step with the code that ran it. \
Without an unbroken lineage no one can judge whether the data was fit and lawful to use, or \
rebuild the model.",
    example: "Fires: root dataset `loans@2026-01` upstream of a model in production has an \
`origin` without `legal_basis`. Passes: a correcting `dataset.registered` with `legal_basis: \
\"contract\"` added.",
    fix: "Register every acquired dataset with a complete `origin` (`source`, `acquired_ts`, \
`method`, `legal_basis`, and `original_purpose` for personal data); record every processing run \
with `code.repo`, `code.commit` and its `inputs`; give every intermediate dataset a `digest`. \
Complete a registration with a correcting event (`supersedes` and a `reason`).",
    not_checked: "Whether the recorded origin is true, and lineage steps that were never \
logged. Unresolved nodes are LINK-01, cycles LINK-02 and failed runs LINK-05.",
    params: &[],
};

impl Rule for Data01 {
    fn meta(&self) -> &'static RuleMeta {
        &DATA01
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let lacking: Vec<&str> = ["deployment.started", "model.registered"]
            .into_iter()
            .filter(|k| !model.occurs(k))
            .collect();
        if !lacking.is_empty() {
            return Outcome::not_evaluable(format!("no {} event", ticks(&lacking)));
        }
        let facts = cx.facts;
        // Node of U → the versions in production whose U holds it; and the datasets in U(V)
        // that V does not list directly.
        let mut reach: BTreeMap<NodeId, Vec<&str>> = BTreeMap::new();
        let mut indirect: BTreeMap<NodeId, Vec<&str>> = BTreeMap::new();
        let mut any = false;
        for (v, _) in facts.deployed_versions() {
            any = true;
            let vnode = NodeId::new(EntityType::ModelVersion, v);
            let direct = listed_by(model, &vnode);
            for n in cx.graph.upstream(&vnode) {
                match n.entity_type() {
                    Some(EntityType::Dataset) => {
                        if !direct.contains(&n) {
                            indirect.entry(n.clone()).or_default().push(v);
                        }
                    }
                    Some(EntityType::Run) => {}
                    _ => continue,
                }
                reach.entry(n).or_default().push(v);
            }
        }
        if !any {
            return Outcome::not_applicable(
                "no model version has been served by a production deployment (`production_envs`)",
            );
        }

        let mut out = Vec::new();
        for (node, versions) in &reach {
            // Unregistered nodes are LINK-01's.
            let Some(state) = model.state(node) else {
                continue;
            };
            let id = node.id();
            let attrs = state.attrs();
            let system = state
                .system
                .as_deref()
                .or_else(|| facts.system_of_version(versions[0]));
            let by = names(versions);
            let draft = |check: &'static str, message: String, note: String| {
                let mut evidence = vec![cx.ev(state, Some(note))];
                evidence.extend(version_evidence(
                    cx,
                    versions,
                    "in production depends on it",
                ));
                Draft::new(node.as_str(), check, check, Level::Deny, message)
                    .evidence(evidence)
                    .system(system)
            };
            match node.entity_type() {
                Some(EntityType::Dataset) => {
                    if is_root(cx, node) {
                        let lacks = origin_lacks(&attrs, personal(state));
                        if !lacks.is_empty() {
                            let what = if present(attrs.get("origin")) {
                                format!("has an `origin` without {}", ticks(&lacks))
                            } else {
                                format!("has no `origin` ({} missing)", ticks(&lacks))
                            };
                            out.push(draft(
                                "a",
                                format!(
                                    "root dataset `{id}` (produced by no recorded run, upstream of {by} in production) {what}"
                                ),
                                format!("origin lacks {}", lacks.join(", ")),
                            ));
                        }
                    }
                    if let Some(vs) = indirect.get(node)
                        && !present(attrs.get("digest"))
                    {
                        out.push(draft(
                            "c",
                            format!(
                                "dataset `{id}`, upstream of {} in production but not listed in its registration, has no `digest`",
                                names(vs)
                            ),
                            "no digest".into(),
                        ));
                    }
                }
                Some(EntityType::Run) => {
                    let lacks = run_lacks(&attrs);
                    if !lacks.is_empty() {
                        out.push(draft(
                            "b",
                            format!(
                                "run `{id}`, upstream of {by} in production, lacks {}",
                                ticks(&lacks)
                            ),
                            format!("lacks {}", lacks.join(", ")),
                        ));
                    }
                }
                _ => {}
            }
        }
        Outcome::evaluated(out)
    }
}

/// A root dataset: no `produces` edge into it (no run lists it in `outputs`).
fn is_root(cx: &Cx<'_>, node: &NodeId) -> bool {
    let Some(ix) = cx.graph.node(node) else {
        return true;
    };
    !cx.graph
        .graph
        .edges_directed(ix, Direction::Incoming)
        .any(|e| e.weight().rel == Rel::Produces)
}

/// DATA-01 (a): the `origin` fields missing from a root dataset's registration.
fn origin_lacks(attrs: &Map<String, Value>, personal: bool) -> Vec<&'static str> {
    let origin = attrs.get("origin");
    let mut keys = vec!["source", "acquired_ts", "method", "legal_basis"];
    if personal {
        keys.push("original_purpose");
    }
    keys.into_iter()
        .filter(|k| !present(origin.and_then(|o| o.get(*k))))
        .collect()
}

/// DATA-01 (b): `code.repo`, `code.commit`, `inputs` missing from a run's registration.
fn run_lacks(attrs: &Map<String, Value>) -> Vec<&'static str> {
    let code = attrs.get("code");
    let mut lacks = Vec::new();
    for (key, name) in [("repo", "code.repo"), ("commit", "code.commit")] {
        if !present(code.and_then(|c| c.get(key))) {
            lacks.push(name);
        }
    }
    if !present(attrs.get("inputs")) {
        lacks.push("inputs");
    }
    lacks
}

// --- DATA-02 --------------------------------------------------------------------------------

/// DATA-02 Quality and bias assessment before deployment.
pub struct Data02;

static DATA02: RuleMeta = RuleMeta {
    id: "DATA-02",
    title: "Quality and bias assessment before deployment",
    levels: "`deny`",
    basis: "T",
    sources: &[
        "AI Act Art. 10(2)(e)–(h), 10(3) [V]",
        "ISO/IEC 42001 A.7.4 [S]",
        "NIST AI RMF MAP 2.3, MEASURE 2.11 [V]",
    ],
    needs: "`deployment.started`. Scope: the datasets that a model version served by a \
production deployment lists with a role in `roles` (its latest `model.registered`); due = the \
earliest first production service among those versions.",
    checks: "For every dataset in scope (subject `dataset:ID`): (a) no `dataset.quality_assessed` \
with `ts` ≤ due; (b) on the latest such assessment: `checks` missing, `bias_examined` not \
`true`, or `representativeness` or `gaps` missing.",
    why: "Training data must be examined for quality, possible biases, representativeness and \
gaps before the model trained on it is put into service: an assessment made afterwards cannot \
have informed the decision to deploy.",
    example: "Fires: the first assessment of `loans@2026-01` is dated after the deployment of \
the model trained on it. Passes: an assessment before that deployment.",
    fix: "Record a `dataset.quality_assessed` for each training dataset before the first \
production deployment of any model trained on it, with the `checks` run, `bias_examined: true`, \
and what was found on `representativeness` and `gaps`.",
    not_checked: "Bias mitigation measures (no field), and whether the assessment's conclusions \
are sound.",
    params: &[param("roles", ParamKind::Strs, "[\"train\"]")],
};

/// A dataset in DATA-02's scope.
struct Due<'a> {
    due: Timestamp,
    /// The event of the earliest first production service (the deadline's evidence).
    due_event: u32,
    /// The version of that service.
    due_version: &'a str,
    versions: Vec<&'a str>,
}

impl Rule for Data02 {
    fn meta(&self) -> &'static RuleMeta {
        &DATA02
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        if !model.occurs("deployment.started") {
            return Outcome::not_evaluable("no `deployment.started` event");
        }
        let facts = cx.facts;
        let roles = cx.strs("roles");
        let mut scope: BTreeMap<String, Due<'_>> = BTreeMap::new();
        for (v, u) in facts.deployed_versions() {
            let Some(reg) = model.state(&NodeId::new(EntityType::ModelVersion, v)) else {
                continue;
            };
            let attrs = reg.attrs();
            let Some(Value::Array(entries)) = attrs.get("datasets") else {
                continue;
            };
            for entry in entries {
                let role = entry.get("role").and_then(Value::as_str);
                let Some(id) = entry
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                else {
                    continue;
                };
                if !role.is_some_and(|r| roles.iter().any(|x| x == r)) {
                    continue;
                }
                let d = scope.entry(id.to_string()).or_insert_with(|| Due {
                    due: u.first_prod,
                    due_event: u.first_event,
                    due_version: v,
                    versions: Vec::new(),
                });
                if (u.first_prod, u.first_event) < (d.due, d.due_event) {
                    d.due = u.first_prod;
                    d.due_event = u.first_event;
                    d.due_version = v;
                }
                if !d.versions.contains(&v) {
                    d.versions.push(v);
                }
            }
        }
        if scope.is_empty() {
            return Outcome::not_applicable(format!(
                "no model version in production lists a dataset with a role in `roles` ({})",
                ticks(&roles)
            ));
        }

        let mut out = Vec::new();
        for (id, d) in &scope {
            let node = NodeId::new(EntityType::Dataset, id);
            let system = model
                .state(&node)
                .and_then(|e| e.system.as_deref())
                .or_else(|| facts.system_of_version(d.due_version));
            let assessments: Vec<(u32, &Event)> =
                model.about(&node, "dataset.quality_assessed").collect();
            let before = assessments.iter().rev().find(|(_, e)| e.ts <= d.due);
            let due_note = format!("first production service of `{}`", d.due_version);
            let by = names(&d.versions);
            let Some(&(ai, a)) = before else {
                let mut evidence = vec![cx.evi(d.due_event, Some(due_note))];
                let late = assessments.first();
                let mut message = format!(
                    "dataset `{id}`, trained on by {by}, had no `dataset.quality_assessed` by the first production deployment ({})",
                    time::fmt(d.due)
                );
                let mut draft_at = None;
                match late {
                    Some(&(li, l)) => {
                        message.push_str(&format!(
                            "; the first assessment, `{}`, is dated {}, after it",
                            l.id,
                            time::fmt(l.ts)
                        ));
                        evidence.push(cx.evi(li, Some("first assessment, too late".into())));
                        draft_at = latest_ts(model, &[d.due_event, li]);
                    }
                    None => message.push_str("; none is recorded"),
                }
                let draft = Draft::new(node.as_str(), "a", "a", Level::Deny, message)
                    .evidence(evidence)
                    .system(system);
                out.push(match draft_at {
                    Some(t) => draft.at(t),
                    None => draft,
                });
                continue;
            };
            let attrs = a.attrs();
            let mut problems = Vec::new();
            if !present(attrs.get("checks")) {
                problems.push("no `checks`".to_string());
            }
            match attrs.get("bias_examined") {
                Some(Value::Bool(true)) => {}
                None | Some(Value::Null) => problems.push("no `bias_examined`".to_string()),
                Some(other) => problems.push(format!("`bias_examined` is {other}, not `true`")),
            }
            for key in ["representativeness", "gaps"] {
                if !present(attrs.get(key)) {
                    problems.push(format!("no `{key}`"));
                }
            }
            if !problems.is_empty() {
                out.push(
                    Draft::new(
                        node.as_str(),
                        "b",
                        "b",
                        Level::Deny,
                        format!(
                            "the latest assessment of dataset `{id}` before the first production deployment of {by} ({}), `{}` ({}), has {}",
                            time::fmt(d.due),
                            a.id,
                            time::fmt(a.ts),
                            problems.join(", ")
                        ),
                    )
                    .evidence([cx.evi(ai, Some(problems.join("; ")))])
                    .system(system),
                );
            }
        }
        Outcome::evaluated(out)
    }
}

// --- DATA-03 --------------------------------------------------------------------------------

/// DATA-03 Special-category data used for bias detection.
pub struct Data03;

static DATA03: RuleMeta = RuleMeta {
    id: "DATA-03",
    title: "Special-category data used for bias detection",
    levels: "`deny`; (d) without any trigger `warn`",
    basis: "T",
    sources: &["AI Act Art. 10(5)(c)–(f) [V], cited \"Art. 10(5) / 4a\" [U]"],
    needs: "`dataset.registered` whose `data_classes` contain `special_category` or \
`biometric`. Scope: such a dataset D (its latest registration) in the upstream set U(V) \
(DATA-01) of some registered model version V whose system is high-risk.",
    checks: "The tool cannot tell bias-detection use from other use, so every such use in a \
high-risk system is treated as Art. 10(5) processing. Subject `dataset:D`: (a) no `ropa` \
document effective at the as-of time describes `dataset:D` or the system of D or of a high-risk \
V using it (10(5)(f)); (b) a run whose `run.completed` lists D in `inputs` has no `access` on D \
with `action = \"read\"`, `result = \"success\"`, the run's `actor.id` and `ts` in \
[`started_ts` (else the run's ts − `access_window`), the run's ts] (10(5)(c)) — discriminator \
`b|` and the run id; (c) an `access` on D with `action = \"export\"`, or with a `recipient` not \
in `internal_recipients` (10(5)(d)) — discriminator `c|` and the event id; (d) deletion due = \
the earlier of the `bias_corrected_ts` of the latest assessment of D that has one and the end \
of the `max` of the retention class of D's registration (from its clock start, §5.3): fires \
when the as-of time is past due and no `access` on D with `action = \"delete\"`, \
`result = \"success\"` and `ts` ≤ due exists (10(5)(e)); with neither a `bias_corrected_ts` \
nor a class `max`, (d) fires `warn` (no deletion point recorded).",
    why: "Special categories of personal data may be processed to detect and correct bias in a \
high-risk system only under strict safeguards: recorded processing, logged and limited access, \
no transmission to others, and deletion once the bias is corrected or the retention period \
ends.",
    example: "Fires: special-category dataset `health-bias@3`, upstream of a high-risk model, \
is read by a training run with no `access` event. Passes: the run's read logged as an `access` \
(`read`, `success`, by the run's actor, within the run).",
    fix: "Describe the processing in a `ropa` document that names the dataset or the system; \
log every read of the data as an `access` by the reading actor; do not export it or hand it to \
external recipients; record `bias_corrected_ts` when the bias is corrected, give the data a \
retention class with a `max`, and log its deletion as an `access` with `action = \"delete\"`.",
    not_checked: "Whether the processing was strictly necessary and whether synthetic or \
anonymised data would have served (10(5)(a)), and state-of-the-art security and \
pseudonymisation (10(5)(b)).",
    params: &[
        param("access_window", ParamKind::Duration, "\"1 h\""),
        param("internal_recipients", ParamKind::Strs, "[]"),
    ],
};

/// A dataset in DATA-03's scope.
struct Special<'a> {
    /// The latest registration of D.
    reg: &'a Event,
    /// High-risk versions whose U holds D, with their systems.
    users: Vec<(&'a str, &'a str)>,
}

fn is_special(e: &Event) -> bool {
    e.data_classes
        .iter()
        .any(|c| SPECIAL_CLASSES.contains(&c.as_str()))
}

impl Rule for Data03 {
    fn meta(&self) -> &'static RuleMeta {
        &DATA03
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        let datasets: Vec<(&NodeId, &crate::model::Entity)> =
            entities_of(model, EntityType::Dataset).collect();
        let any_special = datasets
            .iter()
            .flat_map(|(_, ent)| ent.registered.iter())
            .any(|&i| is_special(model.event(i)));
        if !any_special {
            return Outcome::not_evaluable(
                "no `dataset.registered` with `data_classes` `special_category` or `biometric`",
            );
        }
        let mut scope: BTreeMap<NodeId, Special<'_>> = BTreeMap::new();
        for (vnode, ent) in entities_of(model, EntityType::ModelVersion) {
            if ent.registered.is_empty() {
                continue;
            }
            let v = vnode.id();
            let Some(system) = facts
                .system_of_version(v)
                .filter(|s| facts.high_risk(Some(s)))
            else {
                continue;
            };
            for n in cx.graph.upstream(vnode) {
                if n.entity_type() != Some(EntityType::Dataset) {
                    continue;
                }
                let Some(reg) = model.state(&n).filter(|e| is_special(e)) else {
                    continue;
                };
                scope
                    .entry(n)
                    .or_insert_with(|| Special {
                        reg,
                        users: Vec::new(),
                    })
                    .users
                    .push((v, system));
            }
        }
        if scope.is_empty() {
            return Outcome::not_applicable(
                "no special-category or biometric dataset is upstream of a model version of a high-risk system",
            );
        }

        let window = cx.duration("access_window");
        let internal = cx.strs("internal_recipients");
        let classes = Classes::new(cx.config);
        let t = cx.as_of();
        let mut out = Vec::new();
        for (node, s) in &scope {
            let id = node.id();
            let system = s.reg.system.as_deref().or(Some(s.users[0].1));
            let versions: Vec<&str> = s.users.iter().map(|(v, _)| *v).collect();
            let used = format!(
                "special-category dataset `{id}` (upstream of {} of high-risk system {})",
                names(&versions),
                ticks(
                    &s.users
                        .iter()
                        .map(|(_, s)| *s)
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect::<Vec<_>>()
                )
            );
            let draft = |check: &'static str, disc: String, level: Level, message: String| {
                Draft::new(node.as_str(), disc, check, level, message).system(system)
            };

            // (a) a record of processing activities.
            let mut systems: Vec<&str> = s.users.iter().map(|(_, s)| *s).collect();
            systems.extend(s.reg.system.as_deref());
            systems.sort_unstable();
            systems.dedup();
            let ropa = facts
                .effective_documents(node, Some("ropa"), t)
                .next()
                .is_some()
                || systems.iter().any(|sys| {
                    facts
                        .effective_documents(&NodeId::new(EntityType::System, sys), Some("ropa"), t)
                        .next()
                        .is_some()
                });
            if !ropa {
                out.push(
                    draft(
                        "a",
                        "a".into(),
                        Level::Deny,
                        format!(
                            "{used} is described by no `ropa` document effective at {} (describing `{}` or {})",
                            time::fmt(t),
                            node,
                            ticks(
                                &systems
                                    .iter()
                                    .map(|s| format!("system:{s}"))
                                    .collect::<Vec<_>>()
                            )
                        ),
                    )
                    .evidence([cx.ev(s.reg, Some("special-category dataset".into()))]),
                );
            }

            let timeline: &[u32] = model
                .entity(node)
                .map_or(&[], |ent| ent.timeline.as_slice());

            // (b) reads by runs, logged as `access`.
            for (ri, run) in reading_runs(model, node) {
                if super::facts::logged_read(model, run, node, window).is_some() {
                    continue;
                }
                let (from, to) = read_window(run, window);
                out.push(
                    draft(
                        "b",
                        format!("b|{}", run_id(run)),
                        Level::Deny,
                        format!(
                            "run `{}` (`{}`, by `{}`) read {used} with no `access` on it (`read`, `success`, by `{}`) between {} and {}",
                            run_id(run),
                            run.id,
                            run.actor.id,
                            run.actor.id,
                            time::fmt(from),
                            time::fmt(to)
                        ),
                    )
                    .evidence([
                        cx.evi(ri, Some(format!("reads `{id}`; no logged access"))),
                        cx.ev(s.reg, Some("special-category dataset".into())),
                    ])
                    .at(run.ts.max(s.reg.ts)),
                );
            }

            // (c) exports and external recipients.
            let accesses: Vec<(u32, &Event, AccessView<'_>)> = timeline
                .iter()
                .map(|&i| (i, model.event(i)))
                .filter(|(_, e)| {
                    e.kind == "access" && e.subject.as_ref().is_some_and(|s| s.is(node))
                })
                .map(|(i, e)| (i, e, e.attrs_as::<AccessView>().unwrap_or_default()))
                .collect();
            for (ai, a, view) in &accesses {
                let action = raw_str(view.action);
                let recipient = raw_str(view.recipient);
                let external = raw_present(view.recipient)
                    && !recipient
                        .as_deref()
                        .is_some_and(|r| internal.iter().any(|x| x == r));
                let is_export = action.as_deref() == Some("export");
                if !is_export && !external {
                    continue;
                }
                let mut what = Vec::new();
                if is_export {
                    what.push("an `export`".to_string());
                }
                if external {
                    what.push(format!(
                        "recipient `{}` is not in `internal_recipients`",
                        recipient.as_deref().unwrap_or("(not a string)")
                    ));
                }
                out.push(
                    draft(
                        "c",
                        format!("c|{}", a.id),
                        Level::Deny,
                        format!(
                            "`access` `{}` on {used} by `{}` at {}: {}",
                            a.id,
                            a.actor.id,
                            time::fmt(a.ts),
                            what.join("; ")
                        ),
                    )
                    .evidence([cx.evi(*ai, Some(what.join("; ")))])
                    .at(a.ts),
                );
            }

            // (d) deletion.
            if let Some(d) = deletion(cx, &classes, node, s.reg, &accesses, t) {
                out.push(
                    draft("d", "d".into(), d.level, format!("{used} {}", d.message))
                        .evidence(d.evidence),
                );
            }
        }
        Outcome::evaluated(out)
    }
}

/// The run id of a `run.completed` (its subject id).
fn run_id(run: &Event) -> &str {
    run.subject
        .as_ref()
        .map_or(run.id.as_str(), |s| s.id.as_str())
}

/// The runs whose latest `run.completed` lists `dataset` in `inputs`, in event order.
pub(super) fn reading_runs<'m>(model: &'m Model, dataset: &NodeId) -> Vec<(u32, &'m Event)> {
    let Some(ent) = model.entity(dataset) else {
        return Vec::new();
    };
    let mut runs: Vec<(u32, &Event)> = ent
        .timeline
        .iter()
        .map(|&i| (i, model.event(i)))
        .filter(|(_, e)| {
            e.kind == "run.completed"
                && e.refs
                    .iter()
                    .any(|r| r.field == "attrs.inputs" && r.target == *dataset)
        })
        .filter(|(_, e)| {
            e.subject_node()
                .and_then(|n| model.state(&n))
                .is_some_and(|s| s.id == e.id)
        })
        .collect();
    runs.dedup_by_key(|(i, _)| *i);
    runs
}

/// The window in which a run's read must be logged: [`started_ts` (else ts − window), ts].
pub(super) fn read_window(run: &Event, window: time::Duration) -> (Timestamp, Timestamp) {
    #[derive(serde::Deserialize)]
    struct Started<'a> {
        #[serde(borrow)]
        started_ts: Option<&'a serde_json::value::RawValue>,
    }
    let start = run
        .attrs_as::<Started>()
        .and_then(|a| raw_str(a.started_ts).map(|s| s.into_owned()))
        .and_then(|s| time::parse_date_or_time(&s).ok())
        .unwrap_or_else(|| window.before(run.ts));
    (start, run.ts)
}

struct DeletionFinding {
    level: Level,
    message: String,
    evidence: Vec<Evidence>,
}

/// DATA-03 (d): the deletion point of D and whether it was kept.
fn deletion(
    cx: &Cx<'_>,
    classes: &Classes<'_>,
    node: &NodeId,
    reg: &Event,
    accesses: &[(u32, &Event, AccessView<'_>)],
    t: Timestamp,
) -> Option<DeletionFinding> {
    let model = cx.model;
    // The latest assessment of D that records a `bias_corrected_ts`.
    let corrected: Option<(u32, Timestamp)> = model
        .about(node, "dataset.quality_assessed")
        .filter_map(|(i, e)| {
            let a = e.attrs();
            let ts = a
                .get("bias_corrected_ts")
                .and_then(Value::as_str)
                .and_then(|s| time::parse_date_or_time(s).ok())?;
            Some((i, ts))
        })
        .last();
    let class = classes.class_of(reg, None);
    let max_end = class
        .max
        .map(|max| max.after(clock_start(cx.facts, reg, class.clock)));
    let reg_ev = cx.ev(
        reg,
        Some(format!("registration; retention class `{}`", class.name)),
    );
    let deleted = |until: Option<Timestamp>| {
        accesses.iter().find(|(_, a, v)| {
            raw_str(v.action).as_deref() == Some("delete")
                && raw_str(v.result).as_deref() == Some("success")
                && until.is_none_or(|u| a.ts <= u)
        })
    };
    let due = match (corrected, max_end) {
        (None, None) => {
            let mut message = format!(
                "has no deletion point recorded: no assessment gives a `bias_corrected_ts` and its retention class `{}` has no `max`",
                class.name
            );
            let mut evidence = vec![reg_ev];
            if let Some((di, d, _)) = deleted(None) {
                message.push_str(&format!(
                    " (it was deleted by `{}` at {})",
                    d.id,
                    time::fmt(d.ts)
                ));
                evidence.push(cx.evi(*di, Some("deletion".into())));
            }
            return Some(DeletionFinding {
                level: Level::Warn,
                message,
                evidence,
            });
        }
        (Some((_, c)), Some(m)) => c.min(m),
        (Some((_, c)), None) => c,
        (None, Some(m)) => m,
    };
    if t <= due || deleted(Some(due)).is_some() {
        return None;
    }
    let mut because = Vec::new();
    let mut evidence = vec![reg_ev];
    if let Some((ci, c)) = corrected {
        because.push(format!("bias corrected at {}", time::fmt(c)));
        evidence.push(cx.evi(ci, Some("bias_corrected_ts".into())));
    }
    if let (Some(m), Some(max)) = (max_end, class.max) {
        because.push(format!(
            "class `{}` keeps it for at most {max}, until {}",
            class.name,
            time::fmt(m)
        ));
    }
    let mut message = format!(
        "was due for deletion at {} ({}), but no `access` with `action = \"delete\"` and `result = \"success\"` is recorded by then",
        time::fmt(due),
        because.join("; ")
    );
    if let Some((di, d, _)) = deleted(None) {
        message.push_str(&format!(
            "; it was deleted late, by `{}` at {}",
            d.id,
            time::fmt(d.ts)
        ));
        evidence.push(cx.evi(*di, Some("late deletion".into())));
    }
    Some(DeletionFinding {
        level: Level::Deny,
        message,
        evidence,
    })
}

/// The clock start of an event's retention (`RULES.md` §5.3) for an event that concerns no model
/// version (a dataset registration): `event` its ts; `effective_to` the later of its ts and its
/// `attrs.effective_to`; `placed_on_market` the later of its ts and its system's
/// `placed_on_market` (fallback: the system's first production `deployment.started`).
fn clock_start(facts: &Facts<'_>, e: &Event, clock: Clock) -> Timestamp {
    match clock {
        Clock::Event => e.ts,
        Clock::EffectiveTo => e
            .attrs()
            .get("effective_to")
            .and_then(Value::as_str)
            .and_then(|s| time::parse_date_or_time(s).ok())
            .map_or(e.ts, |to| to.max(e.ts)),
        Clock::PlacedOnMarket => {
            let Some(system) = facts.system_of_event(e) else {
                return e.ts;
            };
            let placed = facts
                .system(system)
                .and_then(|s| s.placed_on_market)
                .or_else(|| {
                    facts
                        .deployments()
                        .filter(|d| d.production && d.system.as_deref() == Some(system))
                        .filter_map(|d| {
                            d.events
                                .iter()
                                .map(|&i| facts.model().event(i))
                                .find(|e| e.kind == "deployment.started")
                                .map(|e| e.ts)
                        })
                        .min()
                });
            placed.map_or(e.ts, |p| p.max(e.ts))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{k, merge};
    use serde_json::{Value, json};

    use crate::checks::Status;
    use crate::testing::{Case, check_events, ev, with};

    /// The AI Act provider pack; fixtures are dated after its effective date (2026-08-02).
    const EU: &str = "[policy]\npacks = [\"eu-ai-act-provider\"]\n";

    /// Evidence of the first finding of a rule: (event id, file, line).
    fn evidence(case: &Case, rule: &str) -> Vec<(String, String, u64)> {
        case.of(rule)[0]
            .evidence
            .iter()
            .map(|e| (e.event.clone().unwrap_or_default(), e.path.clone(), e.line))
            .collect()
    }

    fn sys(e: Value) -> Value {
        with(e, "system", json!("credit"))
    }

    fn system(risk: &str) -> Value {
        sys(ev(
            "s1",
            "2026-08-03T00:00:00Z",
            "system.registered",
            "system:credit",
            json!({"name": "Credit", "risk": risk, "role": "provider", "annex_iii_point": "5(b)"}),
        ))
    }

    fn origin() -> Value {
        json!({"source": "core-banking", "acquired_ts": "2026-08-01T00:00:00Z",
               "method": "nightly export", "legal_basis": "contract",
               "original_purpose": "loan servicing"})
    }

    fn dataset(id: &str, ts: &str, ds: &str, extra: Value) -> Value {
        let (name, version) = ds.split_once('@').unwrap();
        let attrs = merge(
            json!({"name": name, "version": version, "digest": "sha256:aa", "origin": origin()}),
            extra,
        );
        sys(ev(
            id,
            ts,
            "dataset.registered",
            &format!("dataset:{ds}"),
            attrs,
        ))
    }

    fn run(id: &str, ts: &str, r: &str, inputs: &[&str], outputs: &[&str], extra: Value) -> Value {
        let attrs = merge(
            json!({"job": "build", "status": "completed", "inputs": inputs, "outputs": outputs,
                   "code": {"repo": "git@x:data.git", "commit": "abc123"}}),
            extra,
        );
        sys(ev(id, ts, "run.completed", &format!("run:{r}"), attrs))
    }

    fn model(id: &str, ts: &str, datasets: Value, training_run: Option<&str>) -> Value {
        let mut attrs = json!({"model": "m", "version": "1", "datasets": datasets});
        if let Some(r) = training_run {
            attrs["training_run"] = json!(r);
        }
        sys(ev(id, ts, "model.registered", "model_version:m@1", attrs))
    }

    fn deploy(id: &str, ts: &str, env: &str) -> Value {
        with(
            sys(ev(
                id,
                ts,
                "deployment.started",
                "deployment:dep-1",
                json!({"model_version": "m@1"}),
            )),
            "env",
            json!(env),
        )
    }

    // --- DATA-01 ----------------------------------------------------------------------------

    /// loans@2026-01 (root) → build-1 → clean@1 → build-2 → train@1 → m@1 (training run fit-1).
    fn lineage(loans: Value, build1: Value, clean: Value) -> Vec<Value> {
        vec![
            loans,
            build1,
            clean,
            run(
                "r2",
                "2026-08-05T00:00:00Z",
                "build-2",
                &["dataset:clean@1"],
                &["dataset:train@1"],
                json!({}),
            ),
            dataset(
                "d3",
                "2026-08-05T00:00:00Z",
                "train@1",
                json!({"origin": null}),
            ),
            run(
                "r3",
                "2026-08-06T00:00:00Z",
                "fit-1",
                &["dataset:train@1"],
                &[],
                json!({}),
            ),
            model(
                "m1",
                "2026-08-07T00:00:00Z",
                json!([{"id": "train@1", "role": "train"}]),
                Some("fit-1"),
            ),
            deploy("dp1", "2026-08-10T00:00:00Z", "production"),
        ]
    }

    fn loans(extra: Value) -> Value {
        dataset("d1", "2026-08-03T00:00:00Z", "loans@2026-01", extra)
    }

    fn build1(extra: Value) -> Value {
        run(
            "r1",
            "2026-08-04T00:00:00Z",
            "build-1",
            &["dataset:loans@2026-01"],
            &["dataset:clean@1"],
            extra,
        )
    }

    fn clean(extra: Value) -> Value {
        let mut changes = json!({"origin": null});
        for (key, v) in extra.as_object().unwrap() {
            changes[key] = v.clone();
        }
        dataset("d2", "2026-08-04T00:00:00Z", "clean@1", changes)
    }

    #[test]
    fn data01_a_fires_on_a_root_origin_without_legal_basis_and_passes_with_it() {
        let no_basis = merge(origin(), json!({"legal_basis": null}));
        let events = lineage(
            loans(json!({"origin": no_basis})),
            build1(json!({})),
            clean(json!({})),
        );
        let case = check_events(&events, EU);
        assert_eq!(
            case.keys("DATA-01"),
            [k("dataset:loans@2026-01", "a", "deny")]
        );
        let f = case.of("DATA-01")[0];
        assert!(f.message.contains("`legal_basis`"), "{}", f.message);
        assert!(f.message.contains("`m@1`"), "{}", f.message);
        assert_eq!(
            evidence(&case, "DATA-01"),
            [
                ("d1".into(), "main.jsonl".into(), 1),
                ("m1".into(), "main.jsonl".into(), 7)
            ]
        );

        let events = lineage(loans(json!({})), build1(json!({})), clean(json!({})));
        let case = check_events(&events, EU);
        assert!(
            case.keys("DATA-01").is_empty(),
            "{:?}",
            case.keys("DATA-01")
        );
        assert_eq!(case.status("DATA-01"), Some(&Status::Evaluated));
    }

    #[test]
    fn data01_a_asks_for_original_purpose_of_personal_data_only() {
        let no_purpose = merge(origin(), json!({"original_purpose": null}));
        let events = lineage(
            loans(json!({"origin": no_purpose.clone()})),
            build1(json!({})),
            clean(json!({})),
        );
        assert!(check_events(&events, EU).keys("DATA-01").is_empty());
        let personal = with(
            loans(json!({"origin": no_purpose})),
            "data_classes",
            json!(["personal"]),
        );
        let events = lineage(personal, build1(json!({})), clean(json!({})));
        let case = check_events(&events, EU);
        assert_eq!(
            case.keys("DATA-01"),
            [k("dataset:loans@2026-01", "a", "deny")]
        );
        assert!(case.of("DATA-01")[0].message.contains("`original_purpose`"));
    }

    #[test]
    fn data01_b_fires_on_a_run_without_commit_or_inputs() {
        let events = lineage(
            loans(json!({})),
            build1(json!({"code": {"repo": "git@x:data.git"}})),
            clean(json!({})),
        );
        let case = check_events(&events, EU);
        assert_eq!(case.keys("DATA-01"), [k("run:build-1", "b", "deny")]);
        assert_eq!(
            evidence(&case, "DATA-01")[0],
            ("r1".into(), "main.jsonl".into(), 2)
        );
        assert!(case.of("DATA-01")[0].message.contains("`code.commit`"));
        // The training run is in U too.
        let mut events = lineage(loans(json!({})), build1(json!({})), clean(json!({})));
        events[5] = run("r3", "2026-08-06T00:00:00Z", "fit-1", &[], &[], json!({}));
        let case = check_events(&events, EU);
        assert_eq!(case.keys("DATA-01"), [k("run:fit-1", "b", "deny")]);
    }

    #[test]
    fn data01_c_fires_on_an_intermediate_dataset_without_digest() {
        let events = lineage(
            loans(json!({})),
            build1(json!({})),
            clean(json!({"digest": null})),
        );
        let case = check_events(&events, EU);
        assert_eq!(case.keys("DATA-01"), [k("dataset:clean@1", "c", "deny")]);
        assert_eq!(
            evidence(&case, "DATA-01")[0],
            ("d2".into(), "main.jsonl".into(), 3)
        );
        // A dataset the version lists directly is MOD-03's.
        let mut events = lineage(loans(json!({})), build1(json!({})), clean(json!({})));
        events[4] = dataset(
            "d3",
            "2026-08-05T00:00:00Z",
            "train@1",
            json!({"digest": null}),
        );
        assert!(check_events(&events, EU).keys("DATA-01").is_empty());
    }

    #[test]
    fn data01_is_not_evaluable_without_deployments_and_not_applicable_without_production() {
        let mut events = lineage(loans(json!({})), build1(json!({})), clean(json!({})));
        events.pop();
        let case = check_events(&events, EU);
        assert!(matches!(
            case.status("DATA-01"),
            Some(Status::NotEvaluable(_))
        ));
        events.push(deploy("dp1", "2026-08-10T00:00:00Z", "staging"));
        let case = check_events(&events, EU);
        assert!(matches!(
            case.status("DATA-01"),
            Some(Status::NotApplicable(_))
        ));
    }

    #[test]
    fn data01_is_capped_at_warn_by_nist() {
        let no_basis = merge(origin(), json!({"legal_basis": null}));
        let events = lineage(
            loans(json!({"origin": no_basis})),
            build1(json!({})),
            clean(json!({})),
        );
        let case = check_events(&events, "[policy]\npacks = [\"nist-ai-rmf\"]\n");
        assert_eq!(
            case.keys("DATA-01"),
            [k("dataset:loans@2026-01", "a", "warn")]
        );
    }

    // --- DATA-02 ----------------------------------------------------------------------------

    fn assessed(id: &str, ts: &str, extra: Value) -> Value {
        let attrs = merge(
            json!({"checks": [{"name": "nulls", "passed": true}], "bias_examined": true,
                   "representativeness": "age within 2 pts", "gaps": "thin files"}),
            extra,
        );
        sys(ev(
            id,
            ts,
            "dataset.quality_assessed",
            "dataset:loans@2026-01",
            attrs,
        ))
    }

    fn data02(assessments: Vec<Value>, extra: &str) -> Case {
        let mut events = vec![
            loans(json!({})),
            dataset("d2", "2026-08-03T00:00:00Z", "test@1", json!({})),
            model(
                "m1",
                "2026-08-04T00:00:00Z",
                json!([{"id": "loans@2026-01", "role": "train"}, {"id": "test@1", "role": "test"}]),
                None,
            ),
        ];
        events.extend(assessments);
        events.push(deploy("dp1", "2026-08-10T00:00:00Z", "production"));
        events.sort_by_key(|e| e["ts"].as_str().unwrap().to_string());
        check_events(&events, &format!("{EU}{extra}"))
    }

    #[test]
    fn data02_a_fires_when_the_first_assessment_comes_after_the_deployment() {
        let case = data02(vec![assessed("q1", "2026-08-12T00:00:00Z", json!({}))], "");
        assert_eq!(
            case.keys("DATA-02"),
            [k("dataset:loans@2026-01", "a", "deny")]
        );
        assert_eq!(
            evidence(&case, "DATA-02"),
            [
                ("dp1".into(), "main.jsonl".into(), 4),
                ("q1".into(), "main.jsonl".into(), 5)
            ]
        );
        assert!(case.of("DATA-02")[0].message.contains("`q1`"));
        let case = data02(vec![assessed("q1", "2026-08-09T00:00:00Z", json!({}))], "");
        assert!(
            case.keys("DATA-02").is_empty(),
            "{:?}",
            case.keys("DATA-02")
        );
        assert_eq!(case.status("DATA-02"), Some(&Status::Evaluated));
        // None at all.
        let case = data02(vec![], "");
        assert_eq!(
            case.keys("DATA-02"),
            [k("dataset:loans@2026-01", "a", "deny")]
        );
        assert!(case.of("DATA-02")[0].message.contains("none is recorded"));
    }

    #[test]
    fn data02_b_reads_the_latest_assessment_before_the_deployment() {
        for change in [
            json!({"checks": null}),
            json!({"bias_examined": false}),
            json!({"bias_examined": null}),
            json!({"representativeness": ""}),
            json!({"gaps": null}),
        ] {
            let case = data02(
                vec![assessed("q1", "2026-08-09T00:00:00Z", change.clone())],
                "",
            );
            assert_eq!(
                case.keys("DATA-02"),
                [k("dataset:loans@2026-01", "b", "deny")],
                "{change}"
            );
            assert_eq!(
                evidence(&case, "DATA-02"),
                [("q1".into(), "main.jsonl".into(), 4)]
            );
        }
        // A complete earlier one is replaced by an incomplete later one; one after the
        // deployment does not count.
        let case = data02(
            vec![
                assessed("q0", "2026-08-05T00:00:00Z", json!({})),
                assessed("q1", "2026-08-09T00:00:00Z", json!({"gaps": null})),
                assessed("q2", "2026-08-11T00:00:00Z", json!({})),
            ],
            "",
        );
        assert_eq!(
            case.keys("DATA-02"),
            [k("dataset:loans@2026-01", "b", "deny")]
        );
    }

    #[test]
    fn data02_follows_roles() {
        let params = "[policy.params.DATA-02]\nroles = [\"train\", \"test\"]\n";
        let case = data02(
            vec![assessed("q1", "2026-08-09T00:00:00Z", json!({}))],
            params,
        );
        assert_eq!(case.keys("DATA-02"), [k("dataset:test@1", "a", "deny")]);
    }

    #[test]
    fn data02_is_not_evaluable_without_deployments() {
        let events = [loans(json!({}))];
        let case = check_events(&events, EU);
        assert!(matches!(
            case.status("DATA-02"),
            Some(Status::NotEvaluable(_))
        ));
    }

    // --- DATA-03 ----------------------------------------------------------------------------

    /// A high-risk system with a ROPA, special-category `health-bias@3` read by training run
    /// `fit-1` (actor `trainer`, 10:00–11:00) of `m@1`, and a class `max` far away.
    fn data03_events() -> Vec<Value> {
        vec![
            system("high"),
            sys(ev(
                "doc1",
                "2026-08-03T00:00:00Z",
                "document.registered",
                "document:ropa-1",
                json!({"doc_type": "ropa", "describes": ["system:credit"]}),
            )),
            with(
                dataset("d1", "2026-08-04T00:00:00Z", "health-bias@3", json!({})),
                "data_classes",
                json!(["special_category"]),
            ),
            with(
                run(
                    "r1",
                    "2026-08-05T11:00:00Z",
                    "fit-1",
                    &["dataset:health-bias@3"],
                    &[],
                    json!({"started_ts": "2026-08-05T10:00:00Z"}),
                ),
                "actor",
                json!({"id": "trainer", "type": "service"}),
            ),
            model(
                "m1",
                "2026-08-06T00:00:00Z",
                json!([{"id": "health-bias@3", "role": "train"}]),
                Some("fit-1"),
            ),
        ]
    }

    const MAX: &str = "[retention.classes.bias_special]\nmax = \"2 years\"\n\n[[retention.assign]]\nclass = \"bias_special\"\nkinds = [\"dataset.registered\"]\ndata_classes = [\"special_category\"]\n";

    fn access(id: &str, ts: &str, actor: &str, attrs: Value) -> Value {
        with(
            ev(id, ts, "access", "dataset:health-bias@3", attrs),
            "actor",
            json!({"id": actor, "type": "service"}),
        )
    }

    fn read(id: &str, ts: &str) -> Value {
        access(
            id,
            ts,
            "trainer",
            json!({"action": "read", "result": "success", "purpose": "bias"}),
        )
    }

    fn data03(extra_events: Vec<Value>, extra: &str) -> Case {
        let mut events = data03_events();
        events.extend(extra_events);
        events.sort_by_key(|e| e["ts"].as_str().unwrap().to_string());
        check_events(&events, &format!("{EU}{MAX}{extra}"))
    }

    #[test]
    fn data03_b_fires_on_a_read_without_access_and_passes_when_logged() {
        let case = data03(vec![], "");
        assert_eq!(
            case.keys("DATA-03"),
            [k("dataset:health-bias@3", "b|fit-1", "deny")]
        );
        assert_eq!(
            evidence(&case, "DATA-03"),
            [
                ("d1".into(), "main.jsonl".into(), 3),
                ("r1".into(), "main.jsonl".into(), 4)
            ]
        );
        let case = data03(vec![read("a1", "2026-08-05T10:05:00Z")], "");
        assert!(
            case.keys("DATA-03").is_empty(),
            "{:?}",
            case.keys("DATA-03")
        );
        // Outside the run, by another actor, or denied: not a logged read.
        for a in [
            read("a1", "2026-08-05T09:59:00Z"),
            access(
                "a1",
                "2026-08-05T10:05:00Z",
                "someone",
                json!({"action": "read", "result": "success"}),
            ),
            access(
                "a1",
                "2026-08-05T10:05:00Z",
                "trainer",
                json!({"action": "read", "result": "denied"}),
            ),
        ] {
            assert_eq!(
                data03(vec![a.clone()], "").keys("DATA-03"),
                [k("dataset:health-bias@3", "b|fit-1", "deny")],
                "{a}"
            );
        }
    }

    #[test]
    fn data03_a_fires_without_an_effective_ropa() {
        let mut events = data03_events();
        events.remove(1);
        events.push(read("a1", "2026-08-05T10:05:00Z"));
        events.sort_by_key(|e| e["ts"].as_str().unwrap().to_string());
        let case = check_events(&events, &format!("{EU}{MAX}"));
        assert_eq!(
            case.keys("DATA-03"),
            [k("dataset:health-bias@3", "a", "deny")]
        );
        assert_eq!(
            evidence(&case, "DATA-03"),
            [("d1".into(), "main.jsonl".into(), 2)]
        );
        // A ROPA describing the dataset, effective at T, also passes.
        events.push(ev(
            "doc2",
            "2026-08-07T00:00:00Z",
            "document.registered",
            "document:ropa-2",
            json!({"doc_type": "ropa", "describes": ["dataset:health-bias@3"]}),
        ));
        assert!(
            check_events(&events, &format!("{EU}{MAX}"))
                .keys("DATA-03")
                .is_empty()
        );
        // One that ended before T does not.
        let last = events.len() - 1;
        events[last]["attrs"]["effective_to"] = json!("2026-08-07T12:00:00Z");
        events.push(ev(
            "x",
            "2026-08-08T00:00:00Z",
            "access",
            "resource:r",
            json!({"action": "read"}),
        ));
        let case = check_events(&events, &format!("{EU}{MAX}"));
        assert_eq!(
            case.keys("DATA-03"),
            [k("dataset:health-bias@3", "a", "deny")]
        );
    }

    #[test]
    fn data03_c_fires_on_exports_and_external_recipients() {
        let read_ok = read("a1", "2026-08-05T10:05:00Z");
        let export = access(
            "a2",
            "2026-08-07T00:00:00Z",
            "ana",
            json!({"action": "export", "result": "success", "recipient": "bias-lab"}),
        );
        let case = data03(vec![read_ok.clone(), export], "");
        assert_eq!(
            case.keys("DATA-03"),
            [k("dataset:health-bias@3", "c|a2", "deny")]
        );
        assert_eq!(
            evidence(&case, "DATA-03"),
            [("a2".into(), "main.jsonl".into(), 7)]
        );
        let shared = access(
            "a2",
            "2026-08-07T00:00:00Z",
            "ana",
            json!({"action": "read", "result": "success", "recipient": "partner-x"}),
        );
        let case = data03(vec![read_ok.clone(), shared.clone()], "");
        assert_eq!(
            case.keys("DATA-03"),
            [k("dataset:health-bias@3", "c|a2", "deny")]
        );
        let internal = "[policy.params.DATA-03]\ninternal_recipients = [\"partner-x\"]\n";
        assert!(
            data03(vec![read_ok, shared], internal)
                .keys("DATA-03")
                .is_empty()
        );
    }

    fn corrected(ts: &str, at: &str) -> Value {
        sys(ev(
            "q1",
            ts,
            "dataset.quality_assessed",
            "dataset:health-bias@3",
            json!({"bias_examined": true, "bias_corrected_ts": at}),
        ))
    }

    fn delete(id: &str, ts: &str) -> Value {
        access(
            id,
            ts,
            "dpo",
            json!({"action": "delete", "result": "success"}),
        )
    }

    #[test]
    fn data03_d_fires_when_deletion_is_overdue_after_bias_correction() {
        let read_ok = read("a1", "2026-08-05T10:05:00Z");
        let q = corrected("2026-08-20T00:00:00Z", "2026-08-20T00:00:00Z");
        let later = ev(
            "z",
            "2026-09-01T00:00:00Z",
            "access",
            "resource:r",
            json!({"action": "read", "result": "success"}),
        );
        let case = data03(vec![read_ok.clone(), q.clone(), later.clone()], "");
        assert_eq!(
            case.keys("DATA-03"),
            [k("dataset:health-bias@3", "d", "deny")]
        );
        assert_eq!(
            evidence(&case, "DATA-03"),
            [
                ("d1".into(), "main.jsonl".into(), 3),
                ("q1".into(), "main.jsonl".into(), 7)
            ]
        );
        // Deleted in time.
        let del = delete("del", "2026-08-19T00:00:00Z");
        let case = data03(vec![read_ok.clone(), q.clone(), del, later.clone()], "");
        assert!(
            case.keys("DATA-03").is_empty(),
            "{:?}",
            case.keys("DATA-03")
        );
        // Deleted late: still a finding, naming the deletion.
        let del = delete("del", "2026-08-25T00:00:00Z");
        let case = data03(vec![read_ok.clone(), q.clone(), del, later], "");
        assert_eq!(
            case.keys("DATA-03"),
            [k("dataset:health-bias@3", "d", "deny")]
        );
        assert!(case.of("DATA-03")[0].message.contains("deleted late"));
        // Not yet due at T.
        let q = corrected("2026-08-10T00:00:00Z", "2026-08-20T00:00:00Z");
        let case = data03(
            vec![read_ok, q],
            "[report]\nas_of = \"2026-08-19T00:00:00Z\"\n",
        );
        assert!(
            case.keys("DATA-03").is_empty(),
            "{:?}",
            case.keys("DATA-03")
        );
    }

    #[test]
    fn data03_d_reads_the_class_max_and_warns_without_a_deletion_point() {
        let read_ok = read("a1", "2026-08-05T10:05:00Z");
        let later = ev(
            "z",
            "2026-09-10T00:00:00Z",
            "access",
            "resource:r",
            json!({"action": "read", "result": "success"}),
        );
        // Registered 2026-08-04 with a one-month max: due 2026-09-04.
        let short = "[retention.classes.bias_special]\nmax = \"1 month\"\n\n[[retention.assign]]\nclass = \"bias_special\"\nkinds = [\"dataset.registered\"]\ndata_classes = [\"special_category\"]\n";
        let mut events = data03_events();
        events.extend([read_ok.clone(), later.clone()]);
        events.sort_by_key(|e| e["ts"].as_str().unwrap().to_string());
        let case = check_events(&events, &format!("{EU}{short}"));
        assert_eq!(
            case.keys("DATA-03"),
            [k("dataset:health-bias@3", "d", "deny")]
        );
        assert!(
            case.of("DATA-03")[0]
                .message
                .contains("2026-09-04T00:00:00Z"),
            "{}",
            case.of("DATA-03")[0].message
        );
        // No class max and no bias_corrected_ts: warn, whatever T.
        let case = check_events(&events, EU);
        assert_eq!(
            case.keys("DATA-03"),
            [k("dataset:health-bias@3", "d", "warn")]
        );
        assert_eq!(
            evidence(&case, "DATA-03"),
            [("d1".into(), "main.jsonl".into(), 3)]
        );
    }

    #[test]
    fn data03_scope_needs_special_data_upstream_of_a_high_risk_system() {
        let mut events = data03_events();
        events[2] = dataset("d1", "2026-08-04T00:00:00Z", "health-bias@3", json!({}));
        let case = check_events(&events, EU);
        assert!(matches!(
            case.status("DATA-03"),
            Some(Status::NotEvaluable(_))
        ));
        let mut events = data03_events();
        events[0] = system("limited");
        let case = check_events(&events, EU);
        assert!(matches!(
            case.status("DATA-03"),
            Some(Status::NotApplicable(_))
        ));
        assert!(case.keys("DATA-03").is_empty());
    }
}
