//! ACC — access and separation of duties: ACC-01 … ACC-04.
//!
//! Input: the effective events of the as-of view. `access` events may be numerous: they are read
//! once per rule through a typed, borrowing view of their `attrs` ([`AccessView`]), never parsed
//! into a map; registrations, validations and `admin.change` events (few) are parsed.
//!
//! Output per rule, in the order the rule walks its subjects: ACC-01 (a) by accessed node then UTC
//! day, (b) by run id, (c) by actor then event order; ACC-02 by validation, then by production
//! deployment event; ACC-03 and ACC-04 in event order, check letters in order within an event.

use crate::checks::ticks;
use crate::event::raw_present;
use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::catalogue::{ParamKind, param};
use super::data::{latest_ts, read_window, reading_runs};
use super::facts::{entities_of, logged_read, personal};
use super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use crate::event::{ActorType, EntityType, Event, NodeId};
use crate::time;

pub static RULES: &[&dyn Rule] = &[&Acc01, &Acc02, &Acc03, &Acc04];

/// The `attrs` of an `access` event as the rules read them, borrowed from the event. Values are
/// kept raw so that a field of an unexpected type never hides the others.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AccessView<'a> {
    #[serde(borrow, default)]
    pub action: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub purpose: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub recipient: Option<&'a RawValue>,
}

/// A raw JSON value as a string, when it is one (borrowed unless it holds escapes).
pub(super) fn raw_str(r: Option<&RawValue>) -> Option<Cow<'_, str>> {
    let text = r?.get().trim();
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(text).ok().map(Cow::Owned)
}

/// Events of one kind in the as-of view, with their index.
fn of_kind<'m>(cx: &Cx<'m>, kind: &'m str) -> impl Iterator<Item = (u32, &'m Event)> {
    cx.model.of_kind(kind)
}

/// The subject of an event as a finding subject: its node id, else `event:ID`.
fn subject_of(e: &Event) -> String {
    e.subject_node()
        .map_or_else(|| format!("event:{}", e.id), |n| n.0.to_string())
}

// --- ACC-01 ---------------------------------------------------------------------------------

/// ACC-01 Access records.
pub struct Acc01;

static ACC01: RuleMeta = RuleMeta {
    id: "ACC-01",
    title: "Access records",
    levels: "`deny`; (c) `warn`",
    basis: "T",
    sources: &[
        "PCI DSS 10.2.1, 10.2.2 [S], 10.3.1 [V]",
        "HIPAA 45 CFR 164.312(b) [V]",
        "AI Act Art. 10(5)(c) [V]",
    ],
    needs: "`access`. A target is personal when the `access` event or its subject's registering \
event is personal (`data_classes`).",
    checks: "(a) Subject = the accessed node, discriminator `a|` and the UTC day, aggregated: an \
`access` without `result`; without `purpose` on a `read`, `export` or `reidentify` of a personal \
target; without `recipient` on an `export`. (b) Subject `run:ID`: the run's latest \
`run.completed` lists in `inputs` a dataset whose registration's `data_classes` meet \
`logged_read_classes`, and no `access` logs the read: none on the dataset with `action = \
\"read\"`, `result = \"success\"`, the run's `actor.id` and `ts` in [`started_ts` (else the \
run's ts − `access_window`, 1 h by default), the run's ts], as DATA-03 (b) matches it. \
(c) Subject `actor:ID`, `warn`: a burst of denied accesses — walking an actor's `access` events \
with `result = \"denied\"` in event order, at a denied access e, at least `burst_count` of them \
have `ts` in [e's ts, e's ts + `burst_window`]; discriminator `c|` and e's event id; the search \
resumes after that window.",
    why: "Access to personal, health and cardholder data must leave a record of who did what, \
when, with what outcome and why; reads by pipelines are accesses too. A run of refused accesses \
is how credential guessing and probing show up in an audit trail.",
    example: "Fires: an `export` of `dataset:loans@2026-01` with no `recipient`. Passes: \
`recipient: \"external-auditor\"` recorded.",
    fix: "Log every access with its `result`; give a `purpose` for reads, exports and \
re-identifications of personal data and a `recipient` for every export; have pipelines log \
their reads of PHI and cardholder data as `access` events under the run's actor; investigate \
bursts of denied accesses.",
    not_checked: "That every real access was logged, reads of the audit logs themselves \
included.",
    params: &[
        param(
            "logged_read_classes",
            ParamKind::Strs,
            "[\"phi\", \"cardholder\"]",
        ),
        param("burst_count", ParamKind::Int, "5"),
        param("burst_window", ParamKind::Duration, "\"15 min\""),
        param("access_window", ParamKind::Duration, "\"1 h\""),
    ],
};

/// One `access` event as ACC-01 reads it.
struct Row<'m> {
    i: u32,
    e: &'m Event,
    action: Option<Cow<'m, str>>,
    result: Option<Cow<'m, str>>,
    has_result: bool,
    has_purpose: bool,
    has_recipient: bool,
}

/// An `access` event with what ACC-01 (a) found missing in it.
type Flagged = (u32, Vec<&'static str>);

/// A run's `run.completed` and the datasets it read without a logged access.
type UnloggedRun<'m> = (u32, Vec<(&'m NodeId, &'m Event)>);

impl Rule for Acc01 {
    fn meta(&self) -> &'static RuleMeta {
        &ACC01
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let rows: Vec<Row<'_>> = of_kind(cx, "access")
            .map(|(i, e)| {
                let v = e.attrs_as::<AccessView>().unwrap_or_default();
                Row {
                    i,
                    e,
                    action: raw_str(v.action),
                    result: raw_str(v.result),
                    has_result: raw_present(v.result),
                    has_purpose: raw_present(v.purpose),
                    has_recipient: raw_present(v.recipient),
                }
            })
            .collect();
        if rows.is_empty() {
            return Outcome::not_evaluable("no `access` event");
        }
        let mut out = Vec::new();
        self.incomplete(cx, &rows, &mut out);
        self.unlogged_reads(cx, &mut out);
        self.bursts(cx, &rows, &mut out);
        Outcome::evaluated(out)
    }
}

impl Acc01 {
    /// (a) incomplete access records, per accessed node and UTC day.
    fn incomplete(&self, cx: &Cx<'_>, rows: &[Row<'_>], out: &mut Vec<Draft>) {
        let model = cx.model;
        // Whether a subject's registering event is personal, by subject (looked up once).
        let mut personal_subject: BTreeMap<(EntityType, &str), bool> = BTreeMap::new();
        // (subject, day) → (events, their problems)
        let mut found: BTreeMap<(String, String), Vec<Flagged>> = BTreeMap::new();
        for r in rows {
            let mut problems = Vec::new();
            if !r.has_result {
                problems.push("no `result`");
            }
            let action = r.action.as_deref();
            if matches!(action, Some("read" | "export" | "reidentify")) && !r.has_purpose {
                let target_personal = personal(r.e)
                    || r.e.subject.as_ref().is_some_and(|s| {
                        *personal_subject
                            .entry((s.kind, s.id.as_str()))
                            .or_insert_with(|| model.state(&s.node()).is_some_and(personal))
                    });
                if target_personal {
                    problems.push("no `purpose` on a personal target");
                }
            }
            if action == Some("export") && !r.has_recipient {
                problems.push("`export` without `recipient`");
            }
            if !problems.is_empty() {
                found
                    .entry((subject_of(r.e), time::utc_day(r.e.ts)))
                    .or_default()
                    .push((r.i, problems));
            }
        }
        for ((subject, day), events) in found {
            let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
            for (_, ps) in &events {
                for p in ps {
                    *tally.entry(p).or_default() += 1;
                }
            }
            let n = events.len();
            let summary = tally
                .iter()
                .map(|(p, k)| format!("{k} with {p}"))
                .collect::<Vec<_>>()
                .join(", ");
            let idx: Vec<u32> = events.iter().map(|(i, _)| *i).collect();
            let system = NodeId::parse(&subject)
                .and_then(|n| cx.facts.system_of(&n).map(str::to_string))
                .or_else(|| model.event(idx[0]).system.as_deref().map(str::to_string));
            let evidence: Vec<Evidence> = events
                .iter()
                .map(|(i, ps)| cx.evi(*i, Some(ps.join("; "))))
                .collect();
            let mut d = Draft::new(
                subject.as_str(),
                format!("a|{day}"),
                "a",
                Level::Deny,
                format!(
                    "{n} `access` event{} on `{subject}` on {day} {} incomplete: {summary}",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "is" } else { "are" },
                ),
            )
            .evidence(evidence)
            .count(n as u64)
            .system(system.as_deref());
            if let Some(t) = latest_ts(model, &idx) {
                d = d.at(t);
            }
            out.push(d);
        }
    }

    /// (b) runs reading datasets of `logged_read_classes` without a logged read.
    fn unlogged_reads(&self, cx: &Cx<'_>, out: &mut Vec<Draft>) {
        let model = cx.model;
        let classes = cx.strs("logged_read_classes");
        let window = cx.duration("access_window");
        // run id → (its run.completed, the datasets read without a logged access)
        let mut found: BTreeMap<&str, UnloggedRun<'_>> = BTreeMap::new();
        for (node, _) in entities_of(model, EntityType::Dataset) {
            let Some(reg) = model.state(node) else {
                continue;
            };
            if !reg.data_classes.iter().any(|c| classes.contains(c)) {
                continue;
            }
            for (ri, run) in reading_runs(model, node) {
                if logged_read(model, run, node, window).is_some() {
                    continue;
                }
                let id = run
                    .subject
                    .as_ref()
                    .map_or(run.id.as_str(), |s| s.id.as_str());
                found
                    .entry(id)
                    .or_insert((ri, Vec::new()))
                    .1
                    .push((node, reg));
            }
        }
        for (id, (ri, datasets)) in found {
            let run = model.event(ri);
            let (from, to) = read_window(run, window);
            let list = ticks(
                &datasets
                    .iter()
                    .map(|(n, reg)| {
                        let cls: Vec<&str> = reg
                            .data_classes
                            .iter()
                            .filter(|c| classes.contains(c))
                            .map(String::as_str)
                            .collect();
                        format!("{} ({})", n.id(), cls.join(", "))
                    })
                    .collect::<Vec<_>>(),
            );
            let mut evidence = vec![cx.evi(ri, Some("reads without a logged access".into()))];
            evidence.extend(
                datasets
                    .iter()
                    .map(|(_, reg)| cx.ev(reg, Some("registration with data_classes".into()))),
            );
            let t = datasets
                .iter()
                .map(|(_, reg)| reg.ts)
                .chain([run.ts])
                .max()
                .unwrap_or(run.ts);
            out.push(
                Draft::new(
                    format!("run:{id}"),
                    "b",
                    "b",
                    Level::Deny,
                    format!(
                        "run `{id}` (`{}`, by `{}`) reads {list} but no `access` (`read`, `success`, by `{}`) on it is logged between {} and {}",
                        run.id,
                        run.actor.id,
                        run.actor.id,
                        time::fmt(from),
                        time::fmt(to)
                    ),
                )
                .evidence(evidence)
                .system(cx.facts.system_of_event(run))
                .at(t),
            );
        }
    }

    /// (c) bursts of denied accesses per actor.
    fn bursts(&self, cx: &Cx<'_>, rows: &[Row<'_>], out: &mut Vec<Draft>) {
        let count = cx.int("burst_count").max(1) as usize;
        let window = cx.duration("burst_window");
        let mut denied: BTreeMap<&str, Vec<&Row<'_>>> = BTreeMap::new();
        for r in rows
            .iter()
            .filter(|r| r.result.as_deref() == Some("denied"))
        {
            denied.entry(r.e.actor.id.as_str()).or_default().push(r);
        }
        for (actor, list) in denied {
            let mut k = 0;
            while k < list.len() {
                let start = list[k].e.ts;
                let end = window.after(start);
                let j = k + list[k..].partition_point(|r| r.e.ts <= end);
                if j - k < count {
                    k += 1;
                    continue;
                }
                let burst = &list[k..j];
                let first = burst[0].e;
                let last = burst[burst.len() - 1].e;
                out.push(
                    Draft::new(
                        format!("actor:{actor}"),
                        format!("c|{}", first.id),
                        "c",
                        Level::Warn,
                        format!(
                            "`{actor}` was denied access {} times between {} and {} (at least {count} within {window})",
                            burst.len(),
                            time::fmt(first.ts),
                            time::fmt(last.ts)
                        ),
                    )
                    .evidence(burst.iter().map(|r| cx.evi(r.i, Some("denied".into()))))
                    .count(burst.len() as u64)
                    .at(last.ts),
                );
                // Resume after the window.
                k = j;
            }
        }
    }
}

// --- ACC-02 ---------------------------------------------------------------------------------

/// ACC-02 Separation of duties.
pub struct Acc02;

static ACC02: RuleMeta = RuleMeta {
    id: "ACC-02",
    title: "Separation of duties",
    levels: "`deny`",
    basis: "T",
    sources: &[
        "SR 11-7 independence, effective challenge [V]",
        "PRA SS1/23 P4 [V]",
        "NIST AI RMF GOVERN 2.1, MEASURE 1.3 [V]",
        "SOX ITGC segregation of duties [U]",
    ],
    needs: "`model.validated`.",
    checks: "Subject `model_version:V`, discriminator the check letter and the event id: \
(a) an approving `model.validated` (`decision = \"approve\"`) whose `validator` is one of \
developers(V) (the `developers` of V's latest `model.registered`, plus its `actor.id` when the \
actor is human); (b) a `deployment.started` or `.changed` of a production deployment whose human \
`actor.id` equals the `validator` of the `model.validated` its `approval` cites (V = the version \
it deploys).",
    why: "Validation is only an effective challenge when done by someone independent of the \
model's development, and an approval only controls a deployment when the approver is not the \
one who carries it out.",
    example: "Fires: `validator: \"ari\"` while the version's `developers: [\"ari\", \"bo\"]`. \
Passes: validated by `carol`.",
    fix: "Have versions validated by someone outside their development team and deployed by \
someone other than the validator. Small teams record their compensating control as a waiver.",
    not_checked: "Reporting lines (no organisation data).",
    params: &[],
};

#[derive(Deserialize)]
struct ValidationView<'a> {
    #[serde(borrow, default)]
    validator: Option<&'a RawValue>,
    #[serde(borrow, default)]
    decision: Option<&'a RawValue>,
}

impl Rule for Acc02 {
    fn meta(&self) -> &'static RuleMeta {
        &ACC02
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        let validations: Vec<(u32, &Event)> = of_kind(cx, "model.validated").collect();
        if validations.is_empty() {
            return Outcome::not_evaluable("no `model.validated` event");
        }
        let mut out = Vec::new();
        for &(i, e) in &validations {
            let Some(view) = e.attrs_as::<ValidationView>() else {
                continue;
            };
            if raw_str(view.decision).as_deref() != Some("approve") {
                continue;
            }
            let (Some(validator), Some(subject)) = (raw_str(view.validator), e.subject.as_ref())
            else {
                continue;
            };
            let v = subject.id.as_str();
            if !facts.developers(v).iter().any(|d| *d == validator) {
                continue;
            }
            let node = NodeId::new(EntityType::ModelVersion, v);
            let mut idx = vec![i];
            let mut evidence = vec![cx.evi(i, Some(format!("validator `{validator}`")))];
            if let Some(&r) = model.entity(&node).and_then(|ent| ent.registered.last()) {
                idx.push(r);
                evidence.push(cx.evi(r, Some("developers".into())));
            }
            let mut d = Draft::new(
                node.as_str(),
                format!("a|{}", e.id),
                "a",
                Level::Deny,
                format!(
                    "`{v}` is approved by `{validator}` (`{}`, {}), one of its developers ({})",
                    e.id,
                    time::fmt(e.ts),
                    ticks(facts.developers(v))
                ),
            )
            .evidence(evidence)
            .system(facts.system_of_version(v));
            if let Some(t) = latest_ts(model, &idx) {
                d = d.at(t);
            }
            out.push(d);
        }

        for dep in facts.deployments().filter(|d| d.production) {
            for &i in &dep.events {
                let e = model.event(i);
                if !matches!(e.kind.as_str(), "deployment.started" | "deployment.changed")
                    || e.actor.kind != ActorType::Human
                {
                    continue;
                }
                let Some(approval) = e
                    .event_refs()
                    .iter()
                    .find(|(f, _)| *f == "attrs.approval")
                    .and_then(|(_, id)| model.by_id(id))
                else {
                    continue;
                };
                // A corrected approval is read as corrected.
                let ai = model.effective(approval);
                let a = model.event(ai);
                if a.kind != "model.validated" {
                    continue;
                }
                let Some(validator) = a
                    .attrs_as::<ValidationView>()
                    .and_then(|v| raw_str(v.validator).map(Cow::into_owned))
                else {
                    continue;
                };
                if validator != e.actor.id {
                    continue;
                }
                let v = super::facts::ref_id(e, "attrs.model_version")
                    .or_else(|| a.subject.as_ref().map(|s| s.id.as_str()))
                    .unwrap_or_default();
                let node = NodeId::new(EntityType::ModelVersion, v);
                out.push(
                    Draft::new(
                        node.as_str(),
                        format!("b|{}", e.id),
                        "b",
                        Level::Deny,
                        format!(
                            "`{}` of production deployment `{}` ({}, serving `{v}`) is carried out by `{validator}`, who gave the approval it cites (`{}`)",
                            e.kind,
                            dep.id,
                            time::fmt(e.ts),
                            a.id
                        ),
                    )
                    .evidence([
                        cx.evi(i, Some(format!("deployed by `{validator}`"))),
                        cx.evi(ai, Some(format!("approved by `{validator}`"))),
                    ])
                    .system(dep.system.as_deref().or(facts.system_of_version(v)))
                    .at(e.ts.max(a.ts)),
                );
            }
        }
        Outcome::evaluated(out)
    }
}

// --- ACC-03 ---------------------------------------------------------------------------------

/// ACC-03 Privileged changes.
pub struct Acc03;

static ACC03: RuleMeta = RuleMeta {
    id: "ACC-03",
    title: "Privileged changes",
    levels: "`deny`",
    basis: "T/D",
    sources: &[
        "PCI DSS 10.2.1.2, 10.2.1.5 [S]",
        "SEC 17a-4(f)(2)(i)(A)(3) [V]",
        "SOX ITGC change management [U]",
    ],
    needs: "`admin.change`.",
    checks: "For every `admin.change` (subject = the changed resource, discriminator the check \
letter and the event id): (a) `before_digest`, `after_digest` or `approved_by` missing; \
(b) `approved_by` equals the actor's `actor.id`.",
    why: "Changes to roles, permissions, retention, logging and keys can hide or destroy \
evidence. Each must show what it changed (digests of the before and after state) and that \
someone other than the person making it approved it.",
    example: "Fires: `target: \"retention_policy\"` changed by `ops-1` with `approved_by: \
\"ops-1\"`. Passes: approved by `sec-2`.",
    fix: "Record every privileged change with the digests of the configuration before and \
after, and have a second person approve it (`approved_by`).",
    not_checked: "Whether the approval was given before the change, and whether the digests \
match the real configurations.",
    params: &[],
};

#[derive(Default, Deserialize)]
struct AdminView<'a> {
    #[serde(borrow, default)]
    target: Option<&'a RawValue>,
    #[serde(borrow, default)]
    before_digest: Option<&'a RawValue>,
    #[serde(borrow, default)]
    after_digest: Option<&'a RawValue>,
    #[serde(borrow, default)]
    approved_by: Option<&'a RawValue>,
}

impl Rule for Acc03 {
    fn meta(&self) -> &'static RuleMeta {
        &ACC03
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let changes: Vec<(u32, &Event)> = of_kind(cx, "admin.change").collect();
        if changes.is_empty() {
            return Outcome::not_evaluable("no `admin.change` event");
        }
        let mut out = Vec::new();
        for (i, e) in changes {
            let v = e.attrs_as::<AdminView>().unwrap_or_default();
            let subject = subject_of(e);
            let target = raw_str(v.target)
                .map(|t| format!(" of `{t}`"))
                .unwrap_or_default();
            let what = format!(
                "change{target} `{}` by `{}` ({})",
                e.id,
                e.actor.id,
                time::fmt(e.ts)
            );
            let system = cx.facts.system_of_event(e);
            let lacks: Vec<&str> = [
                ("before_digest", v.before_digest),
                ("after_digest", v.after_digest),
                ("approved_by", v.approved_by),
            ]
            .into_iter()
            .filter(|(_, r)| !raw_present(*r))
            .map(|(k, _)| k)
            .collect();
            if !lacks.is_empty() {
                out.push(
                    Draft::new(
                        subject.as_str(),
                        format!("a|{}", e.id),
                        "a",
                        Level::Deny,
                        format!("privileged {what} lacks {}", ticks(&lacks)),
                    )
                    .evidence([cx.evi(i, Some(format!("lacks {}", lacks.join(", "))))])
                    .system(system)
                    .at(e.ts),
                );
            }
            if raw_str(v.approved_by).as_deref() == Some(e.actor.id.as_str()) {
                out.push(
                    Draft::new(
                        subject.as_str(),
                        format!("b|{}", e.id),
                        "b",
                        Level::Deny,
                        format!(
                            "privileged {what} is approved by its own actor (`approved_by: \"{}\"`)",
                            e.actor.id
                        ),
                    )
                    .evidence([cx.evi(i, Some("self-approved".into()))])
                    .system(system)
                    .at(e.ts),
                );
            }
        }
        Outcome::evaluated(out)
    }
}

// --- ACC-04 ---------------------------------------------------------------------------------

/// ACC-04 Re-identification.
pub struct Acc04;

static ACC04: RuleMeta = RuleMeta {
    id: "ACC-04",
    title: "Re-identification",
    levels: "`deny`",
    basis: "T/D",
    sources: &[
        "GDPR Art. 4(5), 25(1), 32(1)(a) [V]",
        "EDPB Guidelines 01/2025 [S]",
    ],
    needs: "`access` with `action = \"reidentify\"`, or on a resource in `reid_resources` \
(written `resource:ID`, `TYPE:ID`, or a bare resource id).",
    checks: "For every such `access` (subject = the accessed node, discriminator the check \
letter and the event id): (a) `purpose` missing, or, when `case_ref_pattern` is set, not \
matching it (a regular expression; anchor it with `^…$` to match the whole value); \
(b) `actor.role` missing, or, when `reid_roles` is set, not one of them.",
    why: "Pseudonymised data stays personal data because it can be re-identified. Linking it \
back to a person must be exceptional, tied to a documented case, and reserved to the roles \
authorised to do it.",
    example: "Fires: a `reidentify` with `purpose: \"check\"` where `case_ref_pattern = \
\"^CASE-[0-9]+$\"`. Passes: `purpose: \"CASE-1042\"`.",
    fix: "Route re-identification through a case process: log each one with the case reference \
as its `purpose` and the actor's `role`; restrict it to the roles in `reid_roles`.",
    not_checked: "Whether the case justified the re-identification, and re-identification done \
outside logged access paths.",
    params: &[
        param("reid_resources", ParamKind::Strs, "[]"),
        param("reid_roles", ParamKind::Strs, "[]"),
        param("case_ref_pattern", ParamKind::Regex, "\"\""),
    ],
};

impl Rule for Acc04 {
    fn meta(&self) -> &'static RuleMeta {
        &ACC04
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let resources = cx.strs("reid_resources");
        let roles = cx.strs("reid_roles");
        let pattern = cx.string("case_ref_pattern");
        let pattern = (!pattern.is_empty())
            .then(|| regex::Regex::new(&pattern).ok())
            .flatten();
        let on_listed = |e: &Event| {
            e.subject.as_ref().is_some_and(|s| {
                resources.iter().any(|r| {
                    s.is(&NodeId::from(r.as_str()))
                        || (s.kind == EntityType::Resource && *r == s.id)
                })
            })
        };
        let mut any = false;
        let mut out = Vec::new();
        for (i, e) in of_kind(cx, "access") {
            let v = e.attrs_as::<AccessView>().unwrap_or_default();
            let action = raw_str(v.action);
            if action.as_deref() != Some("reidentify") && !on_listed(e) {
                continue;
            }
            any = true;
            let subject = subject_of(e);
            let what = format!(
                "`{}` of `{subject}` (`{}`, by `{}`, {})",
                action.as_deref().unwrap_or("access"),
                e.id,
                e.actor.id,
                time::fmt(e.ts)
            );
            let system = cx.facts.system_of_event(e);
            let purpose_problem = if !raw_present(v.purpose) {
                Some("has no `purpose`".to_string())
            } else {
                match (&pattern, raw_str(v.purpose)) {
                    (Some(re), Some(p)) if !re.is_match(&p) => Some(format!(
                        "has `purpose: \"{}\"`, which does not match `case_ref_pattern` (`{}`)",
                        time::clip(&p, 80),
                        re.as_str()
                    )),
                    (Some(re), None) => Some(format!(
                        "has a `purpose` that is not a string, so it cannot match `case_ref_pattern` (`{}`)",
                        re.as_str()
                    )),
                    _ => None,
                }
            };
            if let Some(p) = purpose_problem {
                out.push(
                    Draft::new(
                        subject.as_str(),
                        format!("a|{}", e.id),
                        "a",
                        Level::Deny,
                        format!("re-identification {what} {p}"),
                    )
                    .evidence([cx.evi(i, Some(p.clone()))])
                    .system(system)
                    .at(e.ts),
                );
            }
            let role = e.actor.role.as_deref().filter(|r| !r.is_empty());
            let role_problem = match role {
                None => Some("is by an actor without `actor.role`".to_string()),
                Some(r) if !roles.is_empty() && !roles.iter().any(|x| x == r) => Some(format!(
                    "is by an actor with role `{r}`, not one of `reid_roles` ({})",
                    ticks(&roles)
                )),
                _ => None,
            };
            if let Some(p) = role_problem {
                out.push(
                    Draft::new(
                        subject.as_str(),
                        format!("b|{}", e.id),
                        "b",
                        Level::Deny,
                        format!("re-identification {what} {p}"),
                    )
                    .evidence([cx.evi(i, Some(p.clone()))])
                    .system(system)
                    .at(e.ts),
                );
            }
        }
        if !any {
            return Outcome::not_evaluable(
                "no `access` with `action = \"reidentify\"` or on a resource in `reid_resources`",
            );
        }
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::k;
    use serde_json::{Value, json};

    use crate::checks::Status;
    use crate::testing::{Case, check_events, ev, with};

    const PCI: &str = "[policy]\npacks = [\"pci-dss\"]\n";
    const SOX: &str = "[policy]\npacks = [\"sox\"]\n";
    const SR: &str = "[policy]\npacks = [\"sr11-7\"]\n";
    const GDPR: &str = "[policy]\npacks = [\"gdpr\"]\n";

    /// Evidence of the first finding of a rule: (event id, file, line).
    fn evidence(case: &Case, rule: &str) -> Vec<(String, String, u64)> {
        case.of(rule)[0]
            .evidence
            .iter()
            .map(|e| (e.event.clone().unwrap_or_default(), e.path.clone(), e.line))
            .collect()
    }

    fn actor(e: Value, id: &str, role: Option<&str>) -> Value {
        let mut a = json!({"id": id, "type": "human"});
        if let Some(r) = role {
            a["role"] = json!(r);
        }
        with(e, "actor", a)
    }

    fn access(id: &str, ts: &str, subject: &str, attrs: Value) -> Value {
        actor(ev(id, ts, "access", subject, attrs), "ana", Some("analyst"))
    }

    fn dataset(id: &str, ds: &str, classes: &[&str]) -> Value {
        let (name, version) = ds.split_once('@').unwrap();
        with(
            ev(
                id,
                "2026-01-01T00:00:00Z",
                "dataset.registered",
                &format!("dataset:{ds}"),
                json!({"name": name, "version": version}),
            ),
            "data_classes",
            json!(classes),
        )
    }

    // --- ACC-01 -----------------------------------------------------------------------------

    #[test]
    fn acc01_a_fires_on_an_export_without_recipient_and_passes_with_one() {
        let reg = dataset("d1", "loans@2026-01", &["personal"]);
        let export = |extra: Value| {
            let mut attrs = json!({"action": "export", "purpose": "audit", "result": "success"});
            for (key, v) in extra.as_object().unwrap() {
                attrs[key] = v.clone();
            }
            access("x1", "2026-04-03T10:00:00Z", "dataset:loans@2026-01", attrs)
        };
        let case = check_events(&[reg.clone(), export(json!({}))], PCI);
        assert_eq!(
            case.keys("ACC-01"),
            [k("dataset:loans@2026-01", "a|2026-04-03", "deny")]
        );
        let f = case.of("ACC-01")[0];
        assert_eq!(f.count, Some(1));
        assert!(f.message.contains("`recipient`"), "{}", f.message);
        assert_eq!(
            evidence(&case, "ACC-01"),
            [("x1".into(), "main.jsonl".into(), 2)]
        );
        let fixed = export(json!({"recipient": "external-auditor"}));
        let case = check_events(&[reg, fixed], PCI);
        assert!(case.keys("ACC-01").is_empty(), "{:?}", case.keys("ACC-01"));
        assert_eq!(case.status("ACC-01"), Some(&Status::Evaluated));
    }

    #[test]
    fn acc01_a_aggregates_per_node_and_day_and_asks_purpose_of_personal_targets() {
        let events = [
            dataset("d1", "loans@1", &["personal"]),
            // Personal through the dataset's registration: no purpose.
            access(
                "x1",
                "2026-04-03T10:00:00Z",
                "dataset:loans@1",
                json!({"action": "read", "result": "success"}),
            ),
            // No result.
            access(
                "x2",
                "2026-04-03T11:00:00Z",
                "dataset:loans@1",
                json!({"action": "write", "result": ""}),
            ),
            // Another day.
            access(
                "x3",
                "2026-04-04T11:00:00Z",
                "dataset:loans@1",
                json!({"action": "write"}),
            ),
            // Not personal: no purpose needed.
            access(
                "x4",
                "2026-04-03T12:00:00Z",
                "resource:wiki",
                json!({"action": "read", "result": "success"}),
            ),
            // Personal through the access event itself.
            with(
                access(
                    "x5",
                    "2026-04-03T13:00:00Z",
                    "resource:crm",
                    json!({"action": "reidentify", "result": "success"}),
                ),
                "data_classes",
                json!(["phi"]),
            ),
        ];
        let case = check_events(&events, PCI);
        assert_eq!(
            case.keys("ACC-01"),
            [
                k("dataset:loans@1", "a|2026-04-03", "deny"),
                k("dataset:loans@1", "a|2026-04-04", "deny"),
                k("resource:crm", "a|2026-04-03", "deny"),
            ]
        );
        let f = case
            .of("ACC-01")
            .into_iter()
            .find(|f| f.discriminator == "a|2026-04-03" && f.subject == "dataset:loans@1")
            .unwrap();
        assert_eq!(f.count, Some(2));
        let lines: Vec<u64> = f.evidence.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3]);
    }

    fn fit(started: &str) -> Value {
        with(
            ev(
                "r1",
                "2026-04-03T11:00:00Z",
                "run.completed",
                "run:fit-1",
                json!({"job": "fit", "status": "completed", "started_ts": started,
                       "inputs": ["dataset:claims@1"], "outputs": []}),
            ),
            "actor",
            json!({"id": "trainer", "type": "service"}),
        )
    }

    fn logged_read(ts: &str) -> Value {
        with(
            ev(
                "x1",
                ts,
                "access",
                "dataset:claims@1",
                json!({"action": "read", "result": "success", "purpose": "training"}),
            ),
            "actor",
            json!({"id": "trainer", "type": "service"}),
        )
    }

    #[test]
    fn acc01_b_fires_on_an_unlogged_read_of_phi() {
        let reg = dataset("d1", "claims@1", &["phi"]);
        // An unrelated, complete access: ACC-01 needs one to be evaluable at all.
        let other = access(
            "x0",
            "2026-04-03T12:00:00Z",
            "resource:wiki",
            json!({"action": "read", "result": "success"}),
        );
        let case = check_events(
            &[reg.clone(), fit("2026-04-03T10:00:00Z"), other.clone()],
            "[policy]\npacks = [\"hipaa\"]\n",
        );
        assert_eq!(case.keys("ACC-01"), [k("run:fit-1", "b", "deny")]);
        assert_eq!(
            evidence(&case, "ACC-01"),
            [
                ("d1".into(), "main.jsonl".into(), 1),
                ("r1".into(), "main.jsonl".into(), 2)
            ]
        );
        let events = [
            reg.clone(),
            logged_read("2026-04-03T10:30:00Z"),
            fit("2026-04-03T10:00:00Z"),
        ];
        assert!(check_events(&events, PCI).keys("ACC-01").is_empty());
        // Without started_ts the window is access_window before the run's ts.
        let events = [reg.clone(), logged_read("2026-04-03T09:30:00Z"), fit("")];
        assert_eq!(
            check_events(&events, PCI).keys("ACC-01"),
            [k("run:fit-1", "b", "deny")]
        );
        let wide = "[policy.params.ACC-01]\naccess_window = \"2 h\"\n";
        assert!(
            check_events(&events, &format!("{PCI}{wide}"))
                .keys("ACC-01")
                .is_empty()
        );
        // Personal data outside logged_read_classes: no (b).
        let events = [
            dataset("d1", "claims@1", &["personal"]),
            fit("2026-04-03T10:00:00Z"),
            other,
        ];
        assert!(check_events(&events, PCI).keys("ACC-01").is_empty());
    }

    fn denied(n: usize, minute: u32) -> Value {
        access(
            &format!("n{n:02}"),
            &format!("2026-04-03T10:{minute:02}:00Z"),
            "resource:vault",
            json!({"action": "read", "result": "denied", "purpose": "x"}),
        )
    }

    #[test]
    fn acc01_c_finds_bursts_of_denied_accesses_and_resumes_after_the_window() {
        let four: Vec<Value> = (0..4).map(|i| denied(i, i as u32)).collect();
        let case = check_events(&four, PCI);
        assert!(case.keys("ACC-01").is_empty(), "{:?}", case.keys("ACC-01"));

        // n00…n05 at 10:00…10:05, n06…n09 at 10:16…10:19. The window of n00 (to 10:15) holds
        // six: one burst. The search resumes at n06, whose window holds four: no second burst
        // (n01's window, to 10:16, would have held six).
        let mut events: Vec<Value> = (0..6).map(|i| denied(i, i as u32)).collect();
        events.extend((6..10).map(|i| denied(i, 10 + i as u32)));
        let case = check_events(&events, PCI);
        assert_eq!(case.keys("ACC-01"), [k("actor:ana", "c|n00", "warn")]);
        let f = case.of("ACC-01")[0];
        assert_eq!(f.count, Some(6));
        let lines: Vec<u64> = f.evidence.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5, 6]);

        let mut events: Vec<Value> = (0..5).map(|i| denied(i, i as u32)).collect();
        events.extend((5..10).map(|i| denied(i, 20 + i as u32)));
        let case = check_events(&events, PCI);
        assert_eq!(
            case.keys("ACC-01"),
            [
                k("actor:ana", "c|n00", "warn"),
                k("actor:ana", "c|n05", "warn")
            ]
        );
        let strict = "[policy.params.ACC-01]\nburst_count = 6\n";
        assert!(
            check_events(&events, &format!("{PCI}{strict}"))
                .keys("ACC-01")
                .is_empty()
        );
    }

    #[test]
    fn acc01_is_not_evaluable_without_access_events() {
        let case = check_events(&[dataset("d1", "claims@1", &["phi"])], PCI);
        assert!(matches!(
            case.status("ACC-01"),
            Some(Status::NotEvaluable(_))
        ));
    }

    // --- ACC-02 -----------------------------------------------------------------------------

    fn registered() -> Value {
        with(
            ev(
                "m1",
                "2026-01-01T00:00:00Z",
                "model.registered",
                "model_version:m@1",
                json!({"model": "m", "version": "1", "developers": ["ari", "bo"]}),
            ),
            "system",
            json!("credit"),
        )
    }

    fn validated(id: &str, validator: &str, decision: &str) -> Value {
        ev(
            id,
            "2026-01-05T00:00:00Z",
            "model.validated",
            "model_version:m@1",
            json!({"validator": validator, "decision": decision}),
        )
    }

    #[test]
    fn acc02_a_fires_when_a_developer_approves() {
        let case = check_events(&[registered(), validated("v1", "ari", "approve")], SR);
        assert_eq!(
            case.keys("ACC-02"),
            [k("model_version:m@1", "a|v1", "deny")]
        );
        assert_eq!(
            evidence(&case, "ACC-02"),
            [
                ("m1".into(), "main.jsonl".into(), 1),
                ("v1".into(), "main.jsonl".into(), 2)
            ]
        );
        let case = check_events(&[registered(), validated("v1", "carol", "approve")], SR);
        assert!(case.keys("ACC-02").is_empty());
        assert_eq!(case.status("ACC-02"), Some(&Status::Evaluated));
        // A rejection by a developer is no approval.
        let case = check_events(&[registered(), validated("v1", "bo", "reject")], SOX);
        assert!(case.keys("ACC-02").is_empty());
        // The registering human counts as a developer.
        let by_cy = actor(registered(), "cy", None);
        let case = check_events(&[by_cy, validated("v1", "cy", "approve")], SOX);
        assert_eq!(
            case.keys("ACC-02"),
            [k("model_version:m@1", "a|v1", "deny")]
        );
    }

    fn deployed(env: &str, by: &str) -> Value {
        actor(
            with(
                ev(
                    "dp1",
                    "2026-01-10T00:00:00Z",
                    "deployment.started",
                    "deployment:dep-1",
                    json!({"model_version": "m@1", "approval": "v1"}),
                ),
                "env",
                json!(env),
            ),
            by,
            None,
        )
    }

    #[test]
    fn acc02_b_fires_when_the_validator_deploys_to_production() {
        let events = [
            registered(),
            validated("v1", "carol", "approve"),
            deployed("production", "carol"),
        ];
        let case = check_events(&events, SR);
        assert_eq!(
            case.keys("ACC-02"),
            [k("model_version:m@1", "b|dp1", "deny")]
        );
        assert_eq!(
            evidence(&case, "ACC-02"),
            [
                ("v1".into(), "main.jsonl".into(), 2),
                ("dp1".into(), "main.jsonl".into(), 3)
            ]
        );
        for (env, by) in [("production", "dave"), ("staging", "carol")] {
            let events = [
                registered(),
                validated("v1", "carol", "approve"),
                deployed(env, by),
            ];
            assert!(
                check_events(&events, SR).keys("ACC-02").is_empty(),
                "{env} {by}"
            );
        }
    }

    #[test]
    fn acc02_is_not_evaluable_without_validations() {
        let case = check_events(&[registered()], SR);
        assert!(matches!(
            case.status("ACC-02"),
            Some(Status::NotEvaluable(_))
        ));
    }

    // --- ACC-03 -----------------------------------------------------------------------------

    fn change(approved_by: Option<&str>, before: bool) -> Value {
        let mut attrs = json!({"target": "retention_policy", "after_digest": "sha256:bb"});
        if before {
            attrs["before_digest"] = json!("sha256:aa");
        }
        if let Some(a) = approved_by {
            attrs["approved_by"] = json!(a);
        }
        actor(
            ev(
                "c1",
                "2026-04-01T00:00:00Z",
                "admin.change",
                "resource:retention",
                attrs,
            ),
            "ops-1",
            Some("sre"),
        )
    }

    #[test]
    fn acc03_b_fires_on_self_approval_and_passes_with_a_second_person() {
        let case = check_events(&[change(Some("ops-1"), true)], PCI);
        assert_eq!(
            case.keys("ACC-03"),
            [k("resource:retention", "b|c1", "deny")]
        );
        assert_eq!(
            evidence(&case, "ACC-03"),
            [("c1".into(), "main.jsonl".into(), 1)]
        );
        let case = check_events(&[change(Some("sec-2"), true)], SOX);
        assert!(case.keys("ACC-03").is_empty());
        assert_eq!(case.status("ACC-03"), Some(&Status::Evaluated));
    }

    #[test]
    fn acc03_a_fires_on_missing_digests_or_approval() {
        let case = check_events(&[change(Some("sec-2"), false)], PCI);
        assert_eq!(
            case.keys("ACC-03"),
            [k("resource:retention", "a|c1", "deny")]
        );
        assert!(case.of("ACC-03")[0].message.contains("`before_digest`"));
        assert_eq!(
            evidence(&case, "ACC-03"),
            [("c1".into(), "main.jsonl".into(), 1)]
        );
        let case = check_events(&[change(None, true)], PCI);
        assert_eq!(
            case.keys("ACC-03"),
            [k("resource:retention", "a|c1", "deny")]
        );
        let case = check_events(
            &[access(
                "x",
                "2026-04-01T00:00:00Z",
                "resource:r",
                json!({"action": "read"}),
            )],
            PCI,
        );
        assert!(matches!(
            case.status("ACC-03"),
            Some(Status::NotEvaluable(_))
        ));
    }

    // --- ACC-04 -----------------------------------------------------------------------------

    fn reid(purpose: Option<&str>, role: Option<&str>) -> Value {
        let mut attrs = json!({"action": "reidentify", "result": "success"});
        if let Some(p) = purpose {
            attrs["purpose"] = json!(p);
        }
        actor(
            ev(
                "x1",
                "2026-04-01T00:00:00Z",
                "access",
                "resource:pseudonyms",
                attrs,
            ),
            "ana",
            role,
        )
    }

    const CASE_REF: &str = "[policy.params.ACC-04]\ncase_ref_pattern = \"^CASE-[0-9]+$\"\n";

    #[test]
    fn acc04_a_fires_on_a_purpose_that_is_no_case_reference() {
        let case = check_events(
            &[reid(Some("check"), Some("dpo"))],
            &format!("{GDPR}{CASE_REF}"),
        );
        assert_eq!(
            case.keys("ACC-04"),
            [k("resource:pseudonyms", "a|x1", "deny")]
        );
        assert_eq!(
            evidence(&case, "ACC-04"),
            [("x1".into(), "main.jsonl".into(), 1)]
        );
        let case = check_events(
            &[reid(Some("CASE-1042"), Some("dpo"))],
            &format!("{GDPR}{CASE_REF}"),
        );
        assert!(case.keys("ACC-04").is_empty());
        assert_eq!(case.status("ACC-04"), Some(&Status::Evaluated));
        // Without a pattern any purpose does; none does not.
        assert!(
            check_events(&[reid(Some("check"), Some("dpo"))], GDPR)
                .keys("ACC-04")
                .is_empty()
        );
        assert_eq!(
            check_events(&[reid(None, Some("dpo"))], GDPR).keys("ACC-04"),
            [k("resource:pseudonyms", "a|x1", "deny")]
        );
    }

    #[test]
    fn acc04_b_checks_the_actors_role() {
        assert_eq!(
            check_events(&[reid(Some("CASE-1"), None)], GDPR).keys("ACC-04"),
            [k("resource:pseudonyms", "b|x1", "deny")]
        );
        let roles = "[policy.params.ACC-04]\nreid_roles = [\"dpo\"]\n";
        let case = check_events(
            &[reid(Some("CASE-1"), Some("analyst"))],
            &format!("{GDPR}{roles}"),
        );
        assert_eq!(
            case.keys("ACC-04"),
            [k("resource:pseudonyms", "b|x1", "deny")]
        );
        assert_eq!(
            evidence(&case, "ACC-04"),
            [("x1".into(), "main.jsonl".into(), 1)]
        );
        let case = check_events(
            &[reid(Some("CASE-1"), Some("dpo"))],
            &format!("{GDPR}{roles}"),
        );
        assert!(case.keys("ACC-04").is_empty());
    }

    #[test]
    fn acc04_scope_is_reidentify_or_listed_resources() {
        let read = access(
            "x1",
            "2026-04-01T00:00:00Z",
            "resource:pseudonyms",
            json!({"action": "read", "result": "success"}),
        );
        let case = check_events(std::slice::from_ref(&read), GDPR);
        assert!(matches!(
            case.status("ACC-04"),
            Some(Status::NotEvaluable(_))
        ));
        let listed = "[policy.params.ACC-04]\nreid_resources = [\"pseudonyms\"]\n";
        let case = check_events(std::slice::from_ref(&read), &format!("{GDPR}{listed}"));
        assert_eq!(
            case.keys("ACC-04"),
            [k("resource:pseudonyms", "a|x1", "deny")]
        );
        let listed = "[policy.params.ACC-04]\nreid_resources = [\"resource:pseudonyms\"]\n";
        let case = check_events(&[read], &format!("{GDPR}{listed}"));
        assert_eq!(
            case.keys("ACC-04"),
            [k("resource:pseudonyms", "a|x1", "deny")]
        );
    }
}
