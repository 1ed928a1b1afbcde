//! DEC-01 Decision matches deployment state.
//!
//! One pass over the effective `decision.made` and `decision.batch` events in event order. A
//! decision's deployment and version come from the ingest references; its deployment's
//! intervals ([`Interval`], active(D, t) and serves(D, t)) are searched by binary search. Output:
//! one draft per (check, deployment, UTC day), in that order.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::{DeploymentCache, attrs, day_number, decisions, deployment_of, disc, ticks};
use crate::checks::catalogue::{ParamKind, param};
use crate::checks::facts::{DeploymentFacts, Interval, ref_id};
use crate::checks::{Cx, Draft, Level, Outcome, RuleMeta};
use crate::event::{EntityType, NodeId};
use crate::model::Model;
use crate::time::{self, Duration};

/// DEC-01 Decision matches deployment state.
pub struct Dec01;

static DEC01: RuleMeta = RuleMeta {
    id: "DEC-01",
    title: "Decision matches deployment state",
    levels: "`deny`",
    basis: "T/D",
    sources: &[
        "AI Act Art. 12(2)(a)(c), 26(1), 26(5) [V]",
        "SR 11-7 use of unapproved models [V]",
        "PRA SS1/23 P3 [V]",
        "ISO/IEC 42001 A.9.4 [S]",
    ],
    needs: "`deployment.started` and (`decision.made` or `decision.batch`).",
    checks: "Subject `deployment:D`, discriminator = check letter and UTC day (`a|2026-04-03`), \
aggregated: (a) a `decision.made` naming D at a time when D is not active (never started, \
suspended or stopped); (b) D is active but serves a version other than the decision's \
`model_version`; (c) a `decision.batch` of D whose window `[window_start, window_end]` is not \
inside one active stretch of D, during which the served version changes, or whose \
`model_version` differs from it. Interval bounds widen by `boundary_tolerance` (for a batch: \
its window shrinks by it at both ends). A batch window is read as `[window_start, \
window_end)`, like the intervals: one that ends when the version switches or D stops is \
inside. The day of a batch is the UTC day of its `ts`. A decision naming a version that was \
never registered is left to LINK-01.",
    why: "A decision must be traceable to the model that actually made it, and only an \
approved, running deployment may make decisions. A decision logged against a deployment that \
was stopped, or naming a version other than the one served, means either the log or the \
deployment records are wrong, or an unapproved model was in use.",
    example: "Fires: a decision at 12:05 naming `credit-risk@1.4.0` while `dep-7` switched to \
`1.4.1` at 12:00. Passes: the decision names `credit-risk@1.4.1`.",
    fix: "Log every start, version change, suspension and stop of a deployment as \
`deployment.*` events, and have the serving code write the version it actually loaded into \
each `decision.made`. If clocks of two systems disagree by a known margin, set \
`boundary_tolerance`.",
    not_checked: "Whether the named version is registered (LINK-01, which reports decisions \
naming unregistered versions instead of this rule), approved (DEP-01, LINK-03) or retired \
(DEP-05).",
    params: &[param("boundary_tolerance", ParamKind::Duration, "\"0 s\"")],
};

/// The intervals of D whose bounds, widened by `tol`, contain `t`: at most a few, latest first.
fn covering(ivs: &[Interval], t: Timestamp, tol: Duration) -> impl Iterator<Item = &Interval> {
    let (lo, hi) = (tol.before(t), tol.after(t));
    let k = ivs.partition_point(|iv| iv.start <= hi);
    // Intervals are disjoint and in time order, so their ends increase too.
    ivs[..k]
        .iter()
        .rev()
        .take_while(move |iv| iv.end.is_none_or(|end| end > lo))
}

/// Whether a version named by a decision was never registered: that is LINK-01's finding, not a
/// mismatch with what the deployment served.
fn unregistered(model: &Model, version: &str) -> bool {
    let node = NodeId::new(EntityType::ModelVersion, version);
    model.entity(&node).is_none_or(|e| e.registered.is_empty())
}

/// Why D was not active at `t`: what the last deployment event before it did.
fn inactive_context(d: Option<&DeploymentFacts>, t: Timestamp) -> String {
    let Some(d) = d else {
        return "it has no `deployment.*` event".into();
    };
    let before = d.intervals.partition_point(|iv| iv.start <= t);
    match d.intervals[..before].last() {
        Some(iv) => format!(
            "its last active interval ended at {}",
            iv.end.map(time::fmt).unwrap_or_default()
        ),
        None => match d.intervals.first() {
            Some(iv) => format!("it was first active at {}", time::fmt(iv.start)),
            None => "it was never active".into(),
        },
    }
}

/// One aggregated group of DEC-01.
#[derive(Default)]
struct Group {
    /// `(event index, note)`.
    items: Vec<(u32, String)>,
    latest: Option<Timestamp>,
    /// (a): why D was not active, for the first decision.
    context: Option<String>,
    /// (b), (c): (named, served) pairs.
    pairs: BTreeSet<(String, String)>,
    /// (c): problems other than a version mismatch.
    problems: BTreeSet<String>,
}

impl Group {
    fn add(&mut self, i: u32, ts: Timestamp, note: String) {
        self.items.push((i, note));
        self.latest = Some(self.latest.map_or(ts, |l| l.max(ts)));
    }
}

/// What the versions served in a batch window say: `Ok(version)` when one version was served
/// throughout, else the problem.
fn batch_service(
    d: Option<&DeploymentFacts>,
    ws: Timestamp,
    we: Timestamp,
    tol: Duration,
) -> Result<&str, String> {
    let (mut lo, mut hi) = (tol.after(ws), tol.before(we));
    if lo > hi {
        // A window shorter than twice the tolerance: judge its middle.
        let mid =
            Timestamp::from_nanosecond((ws.as_nanosecond() + we.as_nanosecond()) / 2).unwrap_or(ws);
        (lo, hi) = (mid, mid);
    }
    let Some(d) = d else {
        return Err("the deployment has no `deployment.*` event".into());
    };
    // The window is read as `[lo, hi)`, like the intervals: one that ends when the version
    // switches or D stops is inside. A window of one instant is judged at that instant.
    let ivs: Vec<&Interval> = d
        .intervals
        .iter()
        .filter(|iv| {
            if lo == hi {
                iv.contains(lo)
            } else {
                iv.start < hi && iv.end.is_none_or(|end| end > lo)
            }
        })
        .collect();
    let (Some(first), Some(last)) = (ivs.first(), ivs.last()) else {
        return Err("the deployment was not active during the window".into());
    };
    let gap = ivs.windows(2).find(|w| w[0].end != Some(w[1].start));
    if first.start > lo || last.end.is_some_and(|end| end < hi) || gap.is_some() {
        return Err(
            "the window is not inside one active stretch of the deployment (it was inactive for part of it)"
                .into(),
        );
    }
    let versions: BTreeSet<&str> = ivs.iter().map(|iv| iv.version.as_str()).collect();
    if versions.len() > 1 {
        let list: Vec<&str> = versions.into_iter().collect();
        return Err(format!(
            "the served version changed during the window ({})",
            ticks(&list, 4)
        ));
    }
    Ok(first.version.as_str())
}

impl crate::checks::Rule for Dec01 {
    fn meta(&self) -> &'static RuleMeta {
        &DEC01
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        if !model.occurs("deployment.started") {
            return Outcome::not_evaluable("no `deployment.started` event");
        }
        let tol = cx.duration("boundary_tolerance");
        let mut deployments = DeploymentCache::new(cx.facts);
        // (check, deployment, day) → group
        let mut groups: BTreeMap<(&str, &str, i64), Group> = BTreeMap::new();
        let mut seen = false;
        for (i, e) in model.current() {
            match e.kind.as_str() {
                "decision.made" => {
                    seen = true;
                    let Some(d) = deployment_of(e) else { continue };
                    let version = ref_id(e, "attrs.model_version").unwrap_or_default();
                    let facts = deployments.get(d);
                    let ivs = facts.map_or(&[][..], |f| f.intervals.as_slice());
                    let mut cover = covering(ivs, e.ts, tol).peekable();
                    let Some(&current) = cover.peek() else {
                        let g = groups.entry(("a", d, day_number(e.ts))).or_default();
                        if g.context.is_none() {
                            g.context = Some(inactive_context(facts, e.ts));
                        }
                        g.add(i, e.ts, format!("`{d}` not active at {}", time::fmt(e.ts)));
                        continue;
                    };
                    if cover.any(|iv| iv.version == version) || unregistered(model, version) {
                        continue;
                    }
                    let g = groups.entry(("b", d, day_number(e.ts))).or_default();
                    g.pairs
                        .insert((version.to_string(), current.version.clone()));
                    g.add(
                        i,
                        e.ts,
                        format!(
                            "names `{version}`; `{d}` serves `{}` since {}",
                            current.version,
                            time::fmt(current.start)
                        ),
                    );
                }
                "decision.batch" => {
                    seen = true;
                    let Some(d) = e
                        .subject
                        .as_ref()
                        .filter(|s| s.kind == EntityType::Deployment)
                        .map(|s| s.id.as_str())
                    else {
                        continue;
                    };
                    let version = ref_id(e, "attrs.model_version").unwrap_or_default();
                    let [ws, we] = attrs(e, &["window_start", "window_end"]);
                    let window = ws
                        .as_str()
                        .and_then(|s| time::parse_date_or_time(s).ok())
                        .zip(we.as_str().and_then(|s| time::parse_date_or_time(s).ok()));
                    let problem = match window {
                        None => Some(format!(
                            "its window (`window_start` {}, `window_end` {}) cannot be read as times",
                            ws.describe(),
                            we.describe()
                        )),
                        Some((a, b)) if a > b => {
                            Some("its `window_start` is after its `window_end`".into())
                        }
                        Some((a, b)) => match batch_service(deployments.get(d), a, b, tol) {
                            Err(p) => Some(p),
                            Ok(served) if served != version => {
                                let g = groups.entry(("c", d, day_number(e.ts))).or_default();
                                g.pairs.insert((version.to_string(), served.to_string()));
                                g.add(
                                    i,
                                    e.ts,
                                    format!("names `{version}`; `{d}` served `{served}`"),
                                );
                                None
                            }
                            Ok(_) => None,
                        },
                    };
                    if let Some(p) = problem {
                        let g = groups.entry(("c", d, day_number(e.ts))).or_default();
                        g.problems.insert(p.clone());
                        g.add(i, e.ts, p);
                    }
                }
                _ => {}
            }
        }
        if !seen {
            return Outcome::not_evaluable("no `decision.made` or `decision.batch` event");
        }

        let mut out = Vec::new();
        for ((check, d, _), g) in groups {
            let latest = g.latest.expect("a group has an event");
            let day = time::utc_day(latest);
            let n = g.items.len();
            let pairs: Vec<String> = g
                .pairs
                .iter()
                .map(|(named, served)| format!("`{named}` while it served `{served}`"))
                .collect();
            let message = match check {
                "a" => format!(
                    "{} of {day} named `deployment:{d}` at times when it was not active ({}); \
                     a decision can only come from a running deployment",
                    decisions(n),
                    g.context.as_deref().unwrap_or_default()
                ),
                "b" => format!(
                    "{} of {day} named a model version other than the one `deployment:{d}` \
                     served: {}",
                    decisions(n),
                    pairs.join("; ")
                ),
                _ => {
                    let mut what: Vec<String> = g.problems.iter().cloned().collect();
                    if !pairs.is_empty() {
                        what.push(format!("it names {}", pairs.join("; ")));
                    }
                    format!(
                        "{} of {day} of `deployment:{d}` do not match its deployment state: {}",
                        if n == 1 {
                            "1 `decision.batch`".to_string()
                        } else {
                            format!("{n} `decision.batch` events")
                        },
                        what.join("; ")
                    )
                }
            };
            let system = cx.facts.deployment(d).and_then(|f| f.system.as_deref());
            let system = system.or_else(|| model.event(g.items[0].0).system.as_deref());
            out.push(
                Draft::new(
                    format!("deployment:{d}"),
                    disc(check, &day),
                    check,
                    Level::Deny,
                    message,
                )
                .evidence(g.items.into_iter().map(|(i, note)| cx.evi(i, Some(note))))
                .count(n as u64)
                .at(latest)
                .system(system),
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

    const PROVIDER: &str = "[policy]\npacks = [\"eu-ai-act-provider\"]\n";

    /// Checks `events` with every version they name registered (appended: lines stay put), so
    /// that version mismatches are DEC-01's and not LINK-01's.
    fn check(events: &[Value], extra: &str) -> Case {
        let mut all = events.to_vec();
        for v in ["credit-risk@1.4.0", "credit-risk@1.4.1", "m@1", "m@2"] {
            let (m, ver) = v.split_once('@').unwrap();
            all.push(ev(
                &format!("reg-{v}"),
                "2026-01-01T00:00:00Z",
                "model.registered",
                &format!("model_version:{v}"),
                json!({"model": m, "version": ver}),
            ));
        }
        check_events(&all, extra)
    }

    fn dep(id: &str, ts: &str, kind: &str, v: Option<&str>) -> Value {
        let attrs = v.map_or(json!({}), |v| json!({"model_version": v}));
        let e = ev(
            id,
            ts,
            &format!("deployment.{kind}"),
            "deployment:dep-7",
            attrs,
        );
        with(
            with(e, "env", json!("production")),
            "system",
            json!("credit"),
        )
    }

    fn decision(id: &str, ts: &str, v: &str) -> Value {
        ev(
            id,
            ts,
            "decision.made",
            &format!("decision:{id}"),
            json!({"deployment": "dep-7", "model_version": v}),
        )
    }

    fn batch(id: &str, ts: &str, v: &str, ws: &str, we: &str) -> Value {
        ev(
            id,
            ts,
            "decision.batch",
            "deployment:dep-7",
            json!({"model_version": v, "window_start": ws, "window_end": we, "count": 10}),
        )
    }

    fn base() -> Vec<Value> {
        vec![
            dep(
                "d1",
                "2026-09-01T08:00:00Z",
                "started",
                Some("credit-risk@1.4.0"),
            ),
            dep(
                "d2",
                "2026-09-01T12:00:00Z",
                "changed",
                Some("credit-risk@1.4.1"),
            ),
            dep("d3", "2026-09-01T18:00:00Z", "stopped", None),
        ]
    }

    #[test]
    fn b_fires_on_the_example_and_passes_with_the_served_version() {
        let mut events = base();
        events.push(decision("x1", "2026-09-01T12:05:00Z", "credit-risk@1.4.0"));
        let case = check(&events, PROVIDER);
        assert_eq!(
            case.keys("DEC-01"),
            [k("deployment:dep-7", "b|2026-09-01", "deny")]
        );
        let f = case.of("DEC-01")[0];
        assert_eq!(f.count, Some(1));
        let ev: Vec<_> = f
            .evidence
            .iter()
            .map(|e| (e.event.as_deref(), e.path.as_str(), e.line))
            .collect();
        assert_eq!(ev, [(Some("x1"), "main.jsonl", 4)]);
        assert!(f.message.contains("`credit-risk@1.4.1`"), "{}", f.message);

        events[3] = decision("x1", "2026-09-01T12:05:00Z", "credit-risk@1.4.1");
        let case = check(&events, PROVIDER);
        assert!(case.keys("DEC-01").is_empty());
        assert_eq!(case.status("DEC-01"), Some(&Status::Evaluated));
    }

    #[test]
    fn b_respects_the_boundary_tolerance() {
        let mut events = base();
        events.push(decision("x1", "2026-09-01T12:05:00Z", "credit-risk@1.4.0"));
        let tolerant =
            format!("{PROVIDER}[policy.params.DEC-01]\nboundary_tolerance = \"10 min\"\n");
        assert!(check(&events, &tolerant).keys("DEC-01").is_empty());
        let tight = format!("{PROVIDER}[policy.params.DEC-01]\nboundary_tolerance = \"1 min\"\n");
        assert_eq!(
            check(&events, &tight).keys("DEC-01"),
            [k("deployment:dep-7", "b|2026-09-01", "deny")]
        );
    }

    #[test]
    fn a_fires_when_not_active_and_aggregates_per_day() {
        let mut events = base();
        events.push(decision("x1", "2026-09-01T07:00:00Z", "credit-risk@1.4.0"));
        events.push(decision("x2", "2026-09-01T19:00:00Z", "credit-risk@1.4.1"));
        events.push(decision("x3", "2026-09-02T01:00:00Z", "credit-risk@1.4.1"));
        events.push(decision("x4", "2026-09-01T09:00:00Z", "credit-risk@1.4.0"));
        let case = check(&events, PROVIDER);
        assert_eq!(
            case.keys("DEC-01"),
            [
                k("deployment:dep-7", "a|2026-09-01", "deny"),
                k("deployment:dep-7", "a|2026-09-02", "deny"),
            ]
        );
        let day1 = case
            .of("DEC-01")
            .into_iter()
            .find(|f| f.discriminator == "a|2026-09-01")
            .unwrap();
        assert_eq!(day1.count, Some(2));
        let lines: Vec<_> = day1.evidence.iter().map(|e| e.line).collect();
        // x1 (07:00, before the start) and x2 (19:00, after the stop), lines 4 and 5.
        assert_eq!(lines, [4, 5]);
    }

    #[test]
    fn a_fires_for_a_deployment_never_started() {
        let mut events = base();
        events.push(ev(
            "x1",
            "2026-09-01T09:00:00Z",
            "decision.made",
            "decision:x1",
            json!({"deployment": "dep-9", "model_version": "credit-risk@1.4.0"}),
        ));
        let case = check(&events, PROVIDER);
        assert_eq!(
            case.keys("DEC-01"),
            [k("deployment:dep-9", "a|2026-09-01", "deny")]
        );
        assert!(case.of("DEC-01")[0].message.contains("no `deployment.*`"));
    }

    #[test]
    fn c_checks_batch_windows() {
        let run = |b: Value| {
            let mut events = base();
            events.push(b);
            check(&events, PROVIDER).keys("DEC-01")
        };
        let fires = [k("deployment:dep-7", "c|2026-09-02", "deny")];
        // Inside the 1.4.1 interval, right version: passes (ending at the stop counts).
        let ok = batch(
            "b1",
            "2026-09-02T00:00:00Z",
            "credit-risk@1.4.1",
            "2026-09-01T12:00:00Z",
            "2026-09-01T18:00:00Z",
        );
        assert!(run(ok).is_empty());
        // Ending when the version switches: inside the 1.4.0 interval.
        let until_switch = batch(
            "b1",
            "2026-09-02T00:00:00Z",
            "credit-risk@1.4.0",
            "2026-09-01T08:00:00Z",
            "2026-09-01T12:00:00Z",
        );
        assert!(run(until_switch).is_empty());
        // Version changes during the window.
        let changes = batch(
            "b1",
            "2026-09-02T00:00:00Z",
            "credit-risk@1.4.1",
            "2026-09-01T08:00:00Z",
            "2026-09-01T18:00:00Z",
        );
        assert_eq!(run(changes), fires);
        // Outlives the deployment.
        let outside = batch(
            "b1",
            "2026-09-02T00:00:00Z",
            "credit-risk@1.4.1",
            "2026-09-01T12:00:00Z",
            "2026-09-02T00:00:00Z",
        );
        assert_eq!(run(outside), fires);
        // Wrong version.
        let wrong = batch(
            "b1",
            "2026-09-02T00:00:00Z",
            "credit-risk@1.4.0",
            "2026-09-01T13:00:00Z",
            "2026-09-01T14:00:00Z",
        );
        let mut events = base();
        events.push(wrong);
        let case = check(&events, PROVIDER);
        assert_eq!(case.keys("DEC-01"), fires);
        let f = case.of("DEC-01")[0];
        assert_eq!(f.evidence[0].event.as_deref(), Some("b1"));
        assert_eq!(f.evidence[0].line, 4);
        assert!(
            f.message
                .contains("`credit-risk@1.4.0` while it served `credit-risk@1.4.1`")
        );
    }

    #[test]
    fn b_leaves_unregistered_versions_to_link01() {
        let mut events = base();
        events.push(decision("x1", "2026-09-01T12:05:00Z", "credit-risk@9.9.9"));
        let case = check(&events, PROVIDER);
        assert!(case.keys("DEC-01").is_empty());
        assert!(
            case.keys("LINK-01")
                .contains(&k("model_version:credit-risk@9.9.9", "a", "deny"))
        );
    }

    #[test]
    fn is_info_before_the_ai_act_applies() {
        let events = [
            dep("d1", "2026-03-01T08:00:00Z", "started", Some("m@2")),
            decision("x1", "2026-03-01T09:00:00Z", "m@1"),
        ];
        assert_eq!(
            check(&events, PROVIDER).keys("DEC-01"),
            [k("deployment:dep-7", "b|2026-03-01", "info")]
        );
    }

    #[test]
    fn is_not_evaluable_without_deployments_or_decisions() {
        let case = check(&[decision("x1", "2026-09-01T09:00:00Z", "m@1")], PROVIDER);
        assert!(matches!(
            case.status("DEC-01"),
            Some(Status::NotEvaluable(_))
        ));
        let case = check(&base(), PROVIDER);
        assert!(matches!(
            case.status("DEC-01"),
            Some(Status::NotEvaluable(_))
        ));
    }
}
