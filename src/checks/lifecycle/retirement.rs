//! DEP-05 (retirement): a retired version is no longer deployed or used.
//!
//! r = the time of V's first effective `model.retired` (a later one does not reset the clock; a
//! correction replaces the event). Decisions naming V are read from V's timeline (every event
//! that references it), so the cost is that of the retired versions' own decisions; only a
//! `decision.batch` has its `attrs` parsed (for `window_end`). (b) is aggregated per UTC day, in
//! day order.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;

use super::super::catalogue::{ParamKind, param};
use super::super::facts::{reason, ref_id};
use super::super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use super::version_events;
use crate::event::{EntityType, NodeId};
use crate::time;

/// DEP-05 Retirement.
pub struct Dep05;

static DEP05: RuleMeta = RuleMeta {
    id: "DEP-05",
    title: "Retirement",
    levels: "`deny`; (a) `warn`",
    basis: "T",
    sources: &[
        "NIST AI RMF GOVERN 1.7, MANAGE 2.4 [V]",
        "SR 11-7 inventory (\"recently retired\") [V]",
        "PRA SS1/23 P3 [V]",
    ],
    needs: "`model.retired`. Scope: every retired model version; r = the time of its first \
`model.retired`.",
    checks: "For every retired version V (subject `model_version:V`): (a) the retirement gives no \
reason (`attrs.reason`, the envelope `reason` or `rationale.summary`); (b) a `decision.made` \
(at its `ts`) or a `decision.batch` (at its `window_end`) names V after r + `grace` — one finding \
per UTC day (discriminator `b|YYYY-MM-DD`), aggregated; (c) a `deployment.started` or \
`deployment.changed` to V after r; (d) a deployment still serves V at r + `grace` (judged once \
r + `grace` is not after the as-of time).",
    why: "Retiring a model must actually take it out of service: a retired model that still \
decides, or is deployed again, is a model in use outside the inventory, validation and \
monitoring that apply to models in use. The reason for retirement is part of the record.",
    example: "Fires: `dep-7` still serves `1.3.2` a day after its retirement. Passes: `dep-7` \
changed to `1.4.0` before the retirement.",
    fix: "Switch or stop every deployment serving the version before (or within `grace` of) its \
`model.retired`, give the retirement a `reason`, and do not deploy a retired version again; to \
bring one back, register it as a new version.",
    not_checked: "Whether the artifact was removed from serving infrastructure beyond what the \
deployment events show.",
    params: &[param("grace", ParamKind::Duration, "\"0 s\"")],
};

#[derive(Deserialize)]
struct BatchWindow<'a> {
    #[serde(borrow)]
    window_end: Option<Cow<'a, str>>,
}

impl Rule for Dep05 {
    fn meta(&self) -> &'static RuleMeta {
        &DEP05
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        let retired: Vec<(&str, u32)> = version_events(model)
            .into_iter()
            .filter_map(|(v, e)| Some((v, *e.retired.first()?)))
            .collect();
        if retired.is_empty() {
            return Outcome::not_evaluable("no `model.retired` event");
        }
        let grace = cx.duration("grace");
        let t = cx.as_of();
        let mut out = Vec::new();
        for (v, ri) in retired {
            let node = NodeId::new(EntityType::ModelVersion, v);
            let subject = node.as_str();
            let system = facts.system_of_version(v);
            let ret = model.event(ri);
            let r = ret.ts;
            let cutoff = grace.after(r);
            let retired_ev = || cx.evi(ri, Some(format!("`{v}` retired")));
            let draft = |check: &'static str, level: Level, message: String| {
                Draft::new(subject, check, check, level, message).system(system)
            };
            let after = if grace == time::Duration::Seconds(0) {
                format!("its retirement at {}", time::fmt(r))
            } else {
                format!(
                    "its retirement at {} and the grace of {grace} ({})",
                    time::fmt(r),
                    time::fmt(cutoff)
                )
            };

            if reason(ret).is_none() {
                out.push(
                    draft(
                        "a",
                        Level::Warn,
                        format!("the retirement of `{v}`, `{}`, gives no reason", ret.id),
                    )
                    .evidence([cx.evi(ri, Some("no reason".into()))]),
                );
            }

            // (b) and (c) from V's timeline: the events that name V.
            let mut days: BTreeMap<String, Vec<u32>> = BTreeMap::new();
            let mut redeploys = Vec::new();
            let timeline = model.entity(&node).map_or(&[][..], |e| &e.timeline[..]);
            for &i in timeline {
                let e = model.event(i);
                let at = match e.kind.as_str() {
                    "decision.made" => e.ts,
                    "decision.batch" => e
                        .attrs_as::<BatchWindow>()
                        .and_then(|b| b.window_end)
                        .and_then(|w| time::parse_date_or_time(&w).ok())
                        .unwrap_or(e.ts),
                    "deployment.started" | "deployment.changed" => {
                        if e.ts > r && ref_id(e, "attrs.model_version") == Some(v) {
                            redeploys.push(i);
                        }
                        continue;
                    }
                    _ => continue,
                };
                if at > cutoff && ref_id(e, "attrs.model_version") == Some(v) {
                    days.entry(time::utc_day(at)).or_default().push(i);
                }
            }
            for (day, uses) in days {
                let latest = uses.iter().map(|&i| model.event(i).ts).max();
                let n = uses.len();
                let mut evidence: Vec<Evidence> = Vec::with_capacity(n + 1);
                evidence.push(retired_ev());
                evidence.extend(uses.iter().map(|&i| cx.evi(i, None)));
                let d = Draft::new(
                    subject,
                    format!("b|{day}"),
                    "b",
                    Level::Deny,
                    format!(
                        "{n} decision record{} on {day} name `{v}` after {after}",
                        if n == 1 { "" } else { "s" }
                    ),
                )
                .evidence(evidence)
                .count(n as u64)
                .system(system);
                out.push(match latest {
                    Some(ts) => d.at(ts),
                    None => d,
                });
            }

            if let Some(&last) = redeploys.last() {
                let names: Vec<String> = redeploys
                    .iter()
                    .map(|&i| {
                        let e = model.event(i);
                        let d = e.subject.as_ref().map_or("", |s| s.id.as_str());
                        format!("`{d}` ({}, {})", e.kind, time::fmt(e.ts))
                    })
                    .collect();
                let mut evidence = vec![retired_ev()];
                evidence.extend(
                    redeploys
                        .iter()
                        .map(|&i| cx.evi(i, Some(format!("deploys retired `{v}`")))),
                );
                out.push(
                    draft(
                        "c",
                        Level::Deny,
                        format!(
                            "`{v}` is deployed again after its retirement at {}: {}",
                            time::fmt(r),
                            names.join(", ")
                        ),
                    )
                    .evidence(evidence)
                    .at(model.event(last).ts),
                );
            }

            if cutoff <= t {
                let still: Vec<(&str, u32)> = facts
                    .deployments()
                    .filter_map(|d| {
                        d.intervals
                            .iter()
                            .find(|iv| iv.version == v && iv.contains(cutoff))
                            .map(|iv| (d.id.as_str(), iv.opened_by))
                    })
                    .collect();
                if !still.is_empty() {
                    let names: Vec<String> = still.iter().map(|(d, _)| format!("`{d}`")).collect();
                    let mut evidence = vec![retired_ev()];
                    evidence.extend(
                        still
                            .iter()
                            .map(|(d, i)| cx.evi(*i, Some(format!("`{d}` starts serving `{v}`")))),
                    );
                    out.push(
                        draft(
                            "d",
                            Level::Deny,
                            format!(
                                "{} still serve{} `{v}` at {} ({}), after {after}; switch or stop {}",
                                names.join(", "),
                                if still.len() == 1 { "s" } else { "" },
                                time::fmt(cutoff),
                                if grace == time::Duration::Seconds(0) { "the retirement" } else { "the end of the grace period" },
                                if still.len() == 1 { "it" } else { "them" },
                            ),
                        )
                        .evidence(evidence)
                        .at(cutoff),
                    );
                }
            }
        }
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::*;
    use crate::checks::Status;
    use crate::testing::{check_events, ev, with};

    fn retire(id: &str, ts: &str, version: &str, extra: Value) -> Value {
        ev(
            id,
            ts,
            "model.retired",
            &format!("model_version:m@{version}"),
            merged(json!({"reason": "replaced by 1.4.0"}), extra),
        )
    }

    fn decision(id: &str, ts: &str, version: &str) -> Value {
        ev(
            id,
            ts,
            "decision.made",
            &format!("decision:{id}"),
            json!({"deployment": "dep-7", "model_version": version}),
        )
    }

    fn base() -> Vec<Value> {
        vec![
            reg("r1", "2026-01-01T00:00:00Z", "1.3.2", json!({})),
            reg(
                "r2",
                "2026-02-01T00:00:00Z",
                "1.4.0",
                json!({"parent_version": "1.3.2"}),
            ),
            dep(
                "d1",
                "2026-01-10T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1.3.2"),
            ),
        ]
    }

    #[test]
    fn dep05_d_fires_when_still_serving_a_day_after_retirement() {
        // The example.
        let mut events = base();
        events.push(retire("x1", "2026-03-01T00:00:00Z", "1.3.2", json!({})));
        events.push(dep(
            "d2",
            "2026-03-02T00:00:00Z",
            "changed",
            "dep-7",
            Some("m@1.4.0"),
        ));
        let case = check_events(&events, SR);
        assert_eq!(
            case.keys("DEP-05"),
            [k("model_version:m@1.3.2", "d", "deny")]
        );
        let f = case.of("DEP-05")[0];
        assert_eq!(locations(f), [loc("d1", 3), loc("x1", 4)]);
        assert!(f.message.contains("`dep-7`"), "{}", f.message);

        // Changed before the retirement: passes.
        let mut events = base();
        events.push(dep(
            "d2",
            "2026-02-28T00:00:00Z",
            "changed",
            "dep-7",
            Some("m@1.4.0"),
        ));
        events.push(retire("x1", "2026-03-01T00:00:00Z", "1.3.2", json!({})));
        let case = check_events(&events, SR);
        assert!(case.keys("DEP-05").is_empty(), "{:?}", case.keys("DEP-05"));
        assert_eq!(case.status("DEP-05"), Some(&Status::Evaluated));
    }

    #[test]
    fn dep05_d_respects_grace_and_waits_for_it_to_end() {
        let mut events = base();
        events.push(retire("x1", "2026-03-01T00:00:00Z", "1.3.2", json!({})));
        events.push(dep(
            "d2",
            "2026-03-02T00:00:00Z",
            "changed",
            "dep-7",
            Some("m@1.4.0"),
        ));
        let grace = "[policy.params.DEP-05]\ngrace = \"2 days\"\n";
        let case = check_events(&events, &format!("{SR}{grace}"));
        assert!(case.keys("DEP-05").is_empty(), "{:?}", case.keys("DEP-05"));
        // Grace not over at T: nothing yet, even though it still serves.
        let events = &events[..4];
        let case = check_events(
            events,
            &format!("{SR}{grace}{}", as_of("2026-03-02T00:00:00Z")),
        );
        assert!(case.keys("DEP-05").is_empty(), "{:?}", case.keys("DEP-05"));
        let case = check_events(
            events,
            &format!("{SR}{grace}{}", as_of("2026-03-03T00:00:00Z")),
        );
        assert_eq!(
            case.keys("DEP-05"),
            [k("model_version:m@1.3.2", "d", "deny")]
        );
    }

    #[test]
    fn dep05_a_warns_without_a_reason() {
        let mut events = base();
        events.push(dep(
            "d2",
            "2026-02-28T00:00:00Z",
            "changed",
            "dep-7",
            Some("m@1.4.0"),
        ));
        events.push(retire(
            "x1",
            "2026-03-01T00:00:00Z",
            "1.3.2",
            json!({"reason": null}),
        ));
        let case = check_events(&events, SR);
        assert_eq!(
            case.keys("DEP-05"),
            [k("model_version:m@1.3.2", "a", "warn")]
        );
        assert_eq!(locations(case.of("DEP-05")[0]), [loc("x1", 5)]);
        // The envelope reason counts.
        let n = events.len() - 1;
        events[n] = with(events[n].clone(), "reason", json!("superseded"));
        assert!(check_events(&events, SR).keys("DEP-05").is_empty());
    }

    #[test]
    fn dep05_b_aggregates_decisions_after_retirement_per_utc_day() {
        let mut events = base();
        events.push(dep(
            "d2",
            "2026-02-28T00:00:00Z",
            "changed",
            "dep-7",
            Some("m@1.4.0"),
        ));
        events.push(decision("y0", "2026-02-28T12:00:00Z", "m@1.3.2")); // before: fine
        events.push(retire("x1", "2026-03-01T00:00:00Z", "1.3.2", json!({})));
        events.push(decision("y1", "2026-03-01T09:00:00Z", "m@1.3.2"));
        events.push(decision("y2", "2026-03-01T23:00:00Z", "m@1.3.2"));
        events.push(decision("y3", "2026-03-02T01:00:00Z", "m@1.4.0")); // other version
        events.push(ev(
            "b1",
            "2026-03-03T00:10:00Z",
            "decision.batch",
            "deployment:dep-7",
            json!({"model_version": "m@1.3.2", "window_start": "2026-03-02T00:00:00Z",
                   "window_end": "2026-03-02T23:59:59Z", "count": 40}),
        ));
        let case = check_events(&events, SR);
        assert_eq!(
            case.keys("DEP-05"),
            [
                k("model_version:m@1.3.2", "b|2026-03-01", "deny"),
                k("model_version:m@1.3.2", "b|2026-03-02", "deny"),
            ]
        );
        let day1 = case
            .of("DEP-05")
            .into_iter()
            .find(|f| f.discriminator == "b|2026-03-01")
            .unwrap();
        assert_eq!(day1.count, Some(2));
        assert_eq!(locations(day1), [loc("x1", 6), loc("y1", 7), loc("y2", 8)]);
        let day2 = case
            .of("DEP-05")
            .into_iter()
            .find(|f| f.discriminator == "b|2026-03-02")
            .unwrap();
        assert_eq!(day2.count, Some(1));
        assert_eq!(locations(day2), [loc("x1", 6), loc("b1", 10)]);

        // Within the grace period: nothing.
        let grace = "[policy.params.DEP-05]\ngrace = \"3 days\"\n";
        let case = check_events(&events, &format!("{SR}{grace}"));
        assert!(case.keys("DEP-05").is_empty(), "{:?}", case.keys("DEP-05"));
    }

    #[test]
    fn dep05_c_fires_on_a_deployment_to_a_retired_version() {
        let mut events = base();
        events.push(dep(
            "d2",
            "2026-02-28T00:00:00Z",
            "changed",
            "dep-7",
            Some("m@1.4.0"),
        ));
        events.push(retire("x1", "2026-03-01T00:00:00Z", "1.3.2", json!({})));
        let mut staging = dep(
            "d3",
            "2026-03-05T00:00:00Z",
            "started",
            "dep-s",
            Some("m@1.3.2"),
        );
        staging = with(staging, "env", json!("staging"));
        events.push(staging);
        events.push(dep("d4", "2026-03-06T00:00:00Z", "stopped", "dep-s", None));
        let case = check_events(&events, SR);
        assert_eq!(
            case.keys("DEP-05"),
            [k("model_version:m@1.3.2", "c", "deny")]
        );
        assert_eq!(
            locations(case.of("DEP-05")[0]),
            [loc("x1", 5), loc("d3", 6)]
        );
        // Deployed before the retirement only: passes (the base case above).
        events.truncate(5);
        assert!(check_events(&events, SR).keys("DEP-05").is_empty());
    }

    #[test]
    fn dep05_is_not_evaluable_without_retirements() {
        let case = check_events(&base(), SR);
        assert!(matches!(
            case.status("DEP-05"),
            Some(Status::NotEvaluable(_))
        ));
    }
}
