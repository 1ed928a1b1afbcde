//! DEC-04 Human oversight and DEC-05 Remote biometric identification.
//!
//! DEC-04 walks the effective `oversight.action` events once (few next to decisions); DEC-05
//! walks the decisions once but reads `attrs` only for those of remote-biometric systems.
//! Output: DEC-04 drafts by check (a), (b) per decision, (c), (d) per system, each in id order;
//! DEC-05 drafts per matching decision in event order, (a) before (b).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::Value;

use super::{DeploymentCache, Shallow, attrs, decision_system, disc, rationale, ticks};
use crate::checks::catalogue::{ParamKind, param};
use crate::checks::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use crate::event::{EntityType, Event, NodeId, present};
use crate::time;

/// The latest time of some events.
fn latest(cx: &Cx<'_>, events: impl IntoIterator<Item = u32>) -> Option<Timestamp> {
    events.into_iter().map(|i| cx.model.event(i).ts).max()
}

/// "Reason" (§2.1) of an oversight action whose `attrs.reason` was already read.
fn has_reason(e: &Event, attrs_reason: &Shallow<'_>) -> bool {
    attrs_reason.present()
        || e.reason().is_some_and(|r| !r.is_empty())
        || rationale(e, &["summary"])[0].present()
}

// --- DEC-04 ---------------------------------------------------------------------------------

/// DEC-04 Human oversight.
pub struct Dec04;

static DEC04: RuleMeta = RuleMeta {
    id: "DEC-04",
    title: "Human oversight",
    levels: "`warn`; (d) `info`",
    basis: "T (indicators D)",
    sources: &[
        "AI Act Art. 14(4)(b)(d)(e), 26(2) [V]",
        "NIST AI RMF GOVERN 2.1, 3.2, MAP 3.5, MANAGE 2.4 [V]",
    ],
    needs: "`oversight.action` for (a), (b), (d); `system.registered` for (c).",
    checks: "(a) subject `decision:X` (the action's subject), discriminator `a`: an \
`override`, `reverse` or `stop` without a reason (`attrs.reason`, the envelope `reason` or \
`rationale.summary`), or an `override` or `reverse` without `new_output`; (b) subject \
`decision:X`, discriminator `b`: the action's `actor.role` missing, or not in \
`oversight_roles` when that list is set; (c) subject `system:S`, discriminator `c`: S is \
high-risk and has a production deployment, and no `oversight.action` `stop` on any decision \
of S (any env; tests count) lies within `stop_test_max_age` before the as-of time; (d) \
subject `system:S`, discriminator `d|REVIEWER` (`info`): a reviewer with at least `min_n` \
actions on decisions of S in the last `window`, of which a share of at least `confirm_share` \
are `confirm` (an automation-bias indicator). Every action of a decision with a problem is \
evidence of one finding per check.",
    why: "People overseeing a high-risk system must be able to disregard, override or reverse \
its output and to stop it, and must do so deliberately: an override without a reason or a \
new output cannot be reviewed, an overseer without an assigned role may not be entitled, a \
stop function never exercised may not work, and a reviewer who confirms nearly everything \
may be relying on the machine.",
    example: "Fires: an `override` with no `reason`. Passes: `reason: \"income verified \
manually\"`.",
    fix: "Record a reason and the new output with every override or reversal, and a reason \
with every stop; give overseers a role (and list the roles in `oversight_roles`); test the \
stop function at least once per `stop_test_max_age` and log it as an `oversight.action` \
`stop`; look into reviewers who confirm nearly everything.",
    not_checked: "Overseers' competence and training; role-assignment history \
(`admin.change` carries digests only).",
    params: &[
        param("oversight_roles", ParamKind::Strs, "[]"),
        param("stop_test_max_age", ParamKind::Duration, "\"12 months\""),
        param("window", ParamKind::Duration, "\"90 days\""),
        param("min_n", ParamKind::Int, "100"),
        param("confirm_share", ParamKind::Float, "0.99"),
    ],
};

/// Problems of one decision's actions for one check.
#[derive(Default)]
struct PerDecision<'a> {
    system: Option<&'a str>,
    items: Vec<(u32, String)>,
}

/// A reviewer's actions on one system within the window.
#[derive(Default)]
struct ReviewerStats {
    actions: Vec<u32>,
    confirms: usize,
}

impl Rule for Dec04 {
    fn meta(&self) -> &'static RuleMeta {
        &DEC04
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        let has_actions = model.occurs("oversight.action");
        if !has_actions && !model.occurs("system.registered") {
            return Outcome::not_evaluable("no `oversight.action` or `system.registered` event");
        }
        let roles = cx.strs("oversight_roles");
        let t = cx.as_of();
        // Durations are shown as configured ("12 months"), not re-rendered.
        let max_age_text = cx.string("stop_test_max_age");
        let window_text = cx.string("window");
        let max_age = cx.duration("stop_test_max_age");
        let stop_since = max_age.before(t);
        let window = cx.duration("window");
        let window_start = window.before(t);
        let min_n = cx.int("min_n").max(0) as usize;
        let share = cx.float("confirm_share");

        let mut a: BTreeMap<&str, PerDecision<'_>> = BTreeMap::new();
        let mut b: BTreeMap<&str, PerDecision<'_>> = BTreeMap::new();
        // system → (latest stop, a stop within the age)
        let mut stops: BTreeMap<&str, (u32, bool)> = BTreeMap::new();
        let mut reviewers: BTreeMap<(&str, String), ReviewerStats> = BTreeMap::new();
        for (i, o) in model.of_kind("oversight.action") {
            let Some(x) = o.subject.as_ref().map(|s| s.id.as_str()) else {
                continue;
            };
            let [action, reviewer, reason, new_output] =
                attrs(o, &["action", "reviewer", "reason", "new_output"]);
            let act = action.as_str().unwrap_or_default();
            let system = facts.system_of_event(o);

            let mut problems = Vec::new();
            if matches!(act, "override" | "reverse" | "stop") && !has_reason(o, &reason) {
                problems.push(format!("`{act}` without a reason"));
            }
            if matches!(act, "override" | "reverse") && !new_output.present() {
                problems.push(format!("`{act}` without `new_output`"));
            }
            if !problems.is_empty() {
                let p = a.entry(x).or_default();
                p.system = p.system.or(system);
                p.items.push((i, problems.join("; ")));
            }

            let role = o.actor.role.as_deref().filter(|r| !r.is_empty());
            let role_problem = match role {
                None => Some(format!("`{act}` by `{}` without `actor.role`", o.actor.id)),
                Some(r) if !roles.is_empty() && !roles.iter().any(|x| x == r) => Some(format!(
                    "`{act}` by `{}` in role `{r}`, not in `oversight_roles`",
                    o.actor.id
                )),
                Some(_) => None,
            };
            if let Some(p) = role_problem {
                let d = b.entry(x).or_default();
                d.system = d.system.or(system);
                d.items.push((i, p));
            }

            let Some(s) = system else { continue };
            if act == "stop" {
                let recent = o.ts >= stop_since;
                let entry = stops.entry(s).or_insert((i, false));
                entry.0 = i;
                entry.1 |= recent;
            }
            if o.ts >= window_start
                && let Some(r) = reviewer.as_str().filter(|r| !r.is_empty())
            {
                let st = reviewers.entry((s, r.to_string())).or_default();
                st.actions.push(i);
                st.confirms += usize::from(act == "confirm");
            }
        }

        let mut out = Vec::new();
        for (check, map) in [("a", a), ("b", b)] {
            for (x, p) in map {
                let n = p.items.len();
                let what: Vec<&str> = p.items.iter().map(|(_, s)| s.as_str()).collect();
                let message = if check == "a" {
                    format!(
                        "oversight of decision `{x}` cannot be reviewed: {}; record why it was \
                         overridden, reversed or stopped, and the new output",
                        what.join("; ")
                    )
                } else if roles.is_empty() {
                    format!(
                        "{n} oversight action(s) on decision `{x}` by actors without a role: {}",
                        what.join("; ")
                    )
                } else {
                    format!(
                        "{n} oversight action(s) on decision `{x}` by actors outside \
                         `oversight_roles` ({}): {}",
                        ticks(&roles, 5),
                        what.join("; ")
                    )
                };
                let time = latest(cx, p.items.iter().map(|(i, _)| *i));
                let mut d = Draft::new(format!("decision:{x}"), check, check, Level::Warn, message)
                    .evidence(p.items.into_iter().map(|(i, note)| cx.evi(i, Some(note))))
                    .system(p.system);
                if let Some(t) = time {
                    d = d.at(t);
                }
                out.push(d);
            }
        }

        let mut in_scope = has_actions;
        for s in facts.systems() {
            let id = Some(s.id.as_str());
            if !facts.high_risk(id) {
                continue;
            }
            let first_prod = facts
                .deployments()
                .filter(|d| d.production && d.system.as_deref() == id)
                .filter_map(|d| d.intervals.first())
                .min_by_key(|iv| (iv.start, iv.opened_by));
            let Some(first_prod) = first_prod else {
                continue;
            };
            in_scope = true;
            let last_stop = stops.get(s.id.as_str());
            if last_stop.is_some_and(|(_, recent)| *recent) {
                continue;
            }
            let mut evidence: Vec<Evidence> = s
                .registered
                .map(|r| cx.evi(r, Some("high-risk system".into())))
                .into_iter()
                .collect();
            evidence.push(cx.evi(
                first_prod.opened_by,
                Some("first production deployment".into()),
            ));
            let last = match last_stop {
                Some((i, _)) => {
                    evidence.push(cx.evi(*i, Some("latest `stop`, too old".into())));
                    format!("the latest was at {}", time::fmt(model.event(*i).ts))
                }
                None => "none is recorded".into(),
            };
            out.push(
                Draft::new(
                    format!("system:{}", s.id),
                    "c",
                    "c",
                    Level::Warn,
                    format!(
                        "high-risk system `{}` runs in production, but no `oversight.action` \
                         `stop` on any of its decisions lies within {max_age_text} before {} \
                         ({last}); test the stop function and log it",
                        s.id,
                        time::fmt(t)
                    ),
                )
                .evidence(evidence)
                .system(id),
            );
        }

        for ((s, reviewer), st) in reviewers {
            let n = st.actions.len();
            if n == 0 || n < min_n || (st.confirms as f64) < share * n as f64 {
                continue;
            }
            let time = latest(cx, st.actions.iter().copied());
            let mut d = Draft::new(
                format!("system:{s}"),
                disc("d", &reviewer),
                "d",
                Level::Info,
                format!(
                    "reviewer `{reviewer}` confirmed {} of {n} oversight actions on decisions of \
                     `{s}` in the {window_text} before {} ({:.1}%, threshold {:.1}%): a possible sign \
                     of automation bias",
                    st.confirms,
                    time::fmt(t),
                    100.0 * st.confirms as f64 / n as f64,
                    100.0 * share
                ),
            )
            .count(n as u64)
            .evidence(st.actions.into_iter().map(|i| cx.evi(i, None)))
            .system(Some(s));
            if let Some(t) = time {
                d = d.at(t);
            }
            out.push(d);
        }

        if !in_scope {
            return Outcome::not_applicable(
                "no `oversight.action`, and no high-risk system with a production deployment",
            );
        }
        Outcome::evaluated(out)
    }
}

// --- DEC-05 ---------------------------------------------------------------------------------

/// DEC-05 Remote biometric identification.
pub struct Dec05;

static DEC05: RuleMeta = RuleMeta {
    id: "DEC-05",
    title: "Remote biometric identification",
    levels: "`deny`",
    basis: "T",
    sources: &["AI Act Art. 12(3)(a)–(d), 14(5) [V]"],
    needs: "A system with rbi(S) (`annex_iii_point = \"1(a)\"`). A match is a `decision.made` \
of S whose `output` is in `match_outputs`.",
    checks: "Subject `decision:X`: (a) a match without `input_ref`, or without a \
`reference_db` that is an object with `id` and `version`; (b) a match with an \
`oversight.action` `confirm` but fewer than `min_verifiers` distinct `reviewer` values among \
the `verify` actions on it at or before that confirm. Use periods (Art. 12(3)(a)) are the \
active intervals of S's deployments, which DEC-01 checks.",
    why: "For remote biometric identification the logs must show each use, the reference \
database each search was checked against, the input that led to a match, and who verified \
the result; no action may follow a match unless at least two people verified it separately.",
    example: "Fires: a match confirmed after one `verify` by `rev-1`. Passes: a second \
`verify` by `rev-2` before the confirm.",
    fix: "Log the input digest and the reference database (`{id, version}`) with every \
search, and record a `verify` by each of at least `min_verifiers` reviewers before a match \
is confirmed. Where the Art. 14(5) exemption applies, record it as a waiver.",
    not_checked: "That the verifiers are distinct natural persons with the necessary \
competence (reviewer ids are compared as given).",
    params: &[
        param("match_outputs", ParamKind::Strs, "[\"match\"]"),
        param("min_verifiers", ParamKind::Int, "2"),
    ],
};

/// DEC-05 (a): what a match's record lacks.
fn record_gaps(e: &Event, input_ref: &Shallow<'_>, reference_db: &Shallow<'_>) -> Vec<String> {
    let mut gaps = Vec::new();
    if !input_ref.present() {
        gaps.push("no `input_ref`".to_string());
    }
    match reference_db {
        Shallow::Object(true) => {
            let a = e.attrs();
            let db = a.get("reference_db").and_then(Value::as_object);
            let lacking: Vec<&str> = ["id", "version"]
                .into_iter()
                .filter(|k| !present(db.and_then(|db| db.get(*k))))
                .collect();
            if !lacking.is_empty() {
                gaps.push(format!("`reference_db` without {}", lacking.join(", ")));
            }
        }
        v if !v.present() => gaps.push("no `reference_db`".into()),
        v => gaps.push(format!(
            "`reference_db` is {}, not `{{id, version}}`",
            v.describe()
        )),
    }
    gaps
}

impl Rule for Dec05 {
    fn meta(&self) -> &'static RuleMeta {
        &DEC05
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        let rbi: BTreeSet<&str> = facts
            .systems()
            .filter(|s| facts.rbi(Some(&s.id)))
            .map(|s| s.id.as_str())
            .collect();
        if rbi.is_empty() {
            return Outcome::not_evaluable(
                "no system with `annex_iii_point = \"1(a)\"` (remote biometric identification)",
            );
        }
        let outputs = cx.strs("match_outputs");
        let min = cx.int("min_verifiers").max(0) as usize;
        let mut deployments = DeploymentCache::new(facts);
        let mut matches = 0usize;
        let mut out = Vec::new();
        for (i, e) in model.of_kind("decision.made") {
            let Some(s) = decision_system(e, &mut deployments).filter(|s| rbi.contains(s)) else {
                continue;
            };
            let [output, input_ref, reference_db] =
                attrs(e, &["output", "input_ref", "reference_db"]);
            let Some(o) = output.as_str().filter(|o| outputs.iter().any(|x| x == o)) else {
                continue;
            };
            matches += 1;
            let Some(x) = e.subject.as_ref().map(|s| s.id.as_str()) else {
                continue;
            };
            let subject = format!("decision:{x}");

            let gaps = record_gaps(e, &input_ref, &reference_db);
            if !gaps.is_empty() {
                out.push(
                    Draft::new(
                        &subject,
                        "a",
                        "a",
                        Level::Deny,
                        format!(
                            "biometric identification match `{x}` (output `{o}`) of `{s}` is \
                             logged with {}: the input and the reference database checked must \
                             be traceable",
                            gaps.join(" and ")
                        ),
                    )
                    .evidence([cx.evi(i, Some(gaps.join("; ")))])
                    .at(e.ts)
                    .system(Some(s)),
                );
            }

            let node = NodeId::new(EntityType::Decision, x);
            // (index, ts, action, reviewer), in event order.
            let actions: Vec<(u32, Timestamp, String, String)> = model
                .about(&node, "oversight.action")
                .map(|(j, a)| {
                    let [action, reviewer] = attrs(a, &["action", "reviewer"]);
                    let text = |v: &Shallow<'_>| v.as_str().unwrap_or_default().to_string();
                    (j, a.ts, text(&action), text(&reviewer))
                })
                .collect();
            let mut failing: Vec<(u32, usize)> = Vec::new();
            let mut verifies: BTreeSet<u32> = BTreeSet::new();
            for (j, ts, act, _) in &actions {
                if act != "confirm" {
                    continue;
                }
                let before: Vec<&(u32, Timestamp, String, String)> = actions
                    .iter()
                    .filter(|(_, vts, vact, _)| vact == "verify" && vts <= ts)
                    .collect();
                let verifiers: BTreeSet<&str> = before
                    .iter()
                    .map(|(_, _, _, r)| r.as_str())
                    .filter(|r| !r.is_empty())
                    .collect();
                if verifiers.len() < min {
                    failing.push((*j, verifiers.len()));
                    verifies.extend(before.iter().map(|(vj, ..)| *vj));
                }
            }
            let Some(&(_, found)) = failing.first() else {
                continue;
            };
            let mut evidence = vec![cx.evi(i, Some("the match".into()))];
            for (j, k) in &failing {
                evidence.push(cx.evi(*j, Some(format!("confirm after {k} verifier(s)"))));
            }
            for vj in &verifies {
                evidence.push(cx.evi(*vj, Some("verify".into())));
            }
            let involved = failing
                .iter()
                .map(|(j, _)| *j)
                .chain(verifies.iter().copied());
            let time = latest(cx, involved.chain([i]));
            let mut d = Draft::new(
                &subject,
                "b",
                "b",
                Level::Deny,
                format!(
                    "biometric identification match `{x}` of `{s}` was confirmed after {found} \
                     distinct verifier(s); at least {min} must verify it separately before it \
                     is acted on"
                ),
            )
            .evidence(evidence)
            .system(Some(s));
            if let Some(t) = time {
                d = d.at(t);
            }
            out.push(d);
        }
        if matches == 0 {
            return Outcome::not_applicable(format!(
                "no decision of a remote biometric identification system has an output in \
                 `match_outputs` ({})",
                ticks(&outputs, 5)
            ));
        }
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
mod tests;
