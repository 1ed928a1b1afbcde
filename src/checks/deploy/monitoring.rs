//! DEP-02 Post-market monitoring.
//!
//! Input: production deployments and their active intervals ([`Facts`]), the versions'
//! `monitoring_thresholds`, the `pmm_plan` documents effective at T, and every
//! `monitoring.metric` indexed once by (deployment, metric) ([`metric_index`]).
//! Output: (a) per system, (b) per model version, (c) per deployment, metric and gap in time
//! order.
//!
//! A gap still open at the as-of time T is reported as missing at T. A gap is named by the time
//! it began, even when only its part after T − `lookback` is measured, so the discriminator does
//! not move with T.

use crate::checks::ticks;
use std::collections::BTreeMap;

use jiff::Timestamp;

use super::super::catalogue::{ParamKind, param};
use super::super::facts::{DeploymentFacts, Facts};
use super::super::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use super::{Obs, ThresholdCache, after_one_and_a_half, metric_index, version_thresholds};
use crate::event::{EntityType, NodeId};
use crate::time::{self, Duration, fmt_second};

// --- DEP-02 ---------------------------------------------------------------------------------

/// DEP-02 Post-market monitoring.
pub struct Dep02;

static DEP02: RuleMeta = RuleMeta {
    id: "DEP-02",
    title: "Post-market monitoring",
    levels: "`warn`; (a) `deny`",
    basis: "T/D",
    sources: &[
        "AI Act Art. 72(1)–(3), Annex IV 9 [V]",
        "SR 11-7 ongoing monitoring [V]",
        "NIST AI RMF MEASURE 2.4, MANAGE 4.1 [V]",
        "ISO/IEC 42001 A.6.2.6 [S]",
    ],
    needs: "`deployment.started`.",
    checks: "(a) subject `system:S`: provider(S) ∧ high_risk(S), a production deployment of S \
active at T, and no `pmm_plan` document effective at T describing `system:S`; (b) subject \
`model_version:V`: V served in production with `monitoring_thresholds` missing from its latest \
`model.registered`; (c) subject `deployment:D`, discriminator `c|METRIC|GAP START`: for a metric \
m of the served version's `monitoring_thresholds`, inside D's active intervals (touching \
intervals whose versions both monitor m count as one stretch) clipped to [T − `lookback`, T], a \
stretch longer than 1.5 × `cadence` (`cadence_by_system` for D's system, else `cadence`) \
without a `monitoring.metric` of D for m. The gap start is the last metric before the gap, or \
the start of the interval when there was none; a gap reaching T is open and is reported \
as missing at T.",
    why: "A provider must actively and systematically collect and analyse data on how its \
high-risk system performs throughout its lifetime, following a post-market monitoring plan \
(AI Act Art. 72); model risk guidance expects ongoing monitoring against set thresholds (SR \
11-7). Monitoring that has no plan, no thresholds, or silently stops cannot show that the \
model still works as validated.",
    example: "Fires: daily `auc` metric for `dep-7` missing 2026-04-03 to 2026-04-06. Passes: \
the metrics for those days present.",
    fix: "Register a `pmm_plan` document describing each high-risk system while it is in \
service; set `monitoring_thresholds` in every version's `model.registered` (a correcting \
registration adds them); emit a `monitoring.metric` for each monitored metric at least every \
`cadence` while the deployment is active, and set `cadence_by_system` where the plan sets \
another cadence.",
    not_checked: "The plan's contents (its cadence and SLAs go into these parameters).",
    params: &[
        param("cadence", ParamKind::Duration, "\"1 day\""),
        param("cadence_by_system", ParamKind::DurationMap, "{}"),
        param("lookback", ParamKind::Duration, "\"12 months\""),
    ],
};

impl Rule for Dep02 {
    fn meta(&self) -> &'static RuleMeta {
        &DEP02
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        if !model.occurs("deployment.started") {
            return Outcome::not_evaluable("no `deployment.started` event");
        }
        let prod: Vec<&DeploymentFacts> = facts.deployments().filter(|d| d.production).collect();
        if prod.is_empty() {
            return Outcome::not_applicable(
                "no production deployment (`[policy] production_envs`)",
            );
        }
        let mut out = Vec::new();
        dep02_plan(cx, facts, &prod, &mut out);
        dep02_thresholds(cx, facts, &mut out);
        dep02_gaps(cx, &prod, &mut out);
        Outcome::evaluated(out)
    }
}

/// DEP-02 (a): a pmm_plan for each high-risk provider system in service at T.
fn dep02_plan(cx: &Cx<'_>, facts: &Facts<'_>, prod: &[&DeploymentFacts], out: &mut Vec<Draft>) {
    let t = cx.as_of();
    let mut active: BTreeMap<&str, Vec<(&str, u32)>> = BTreeMap::new();
    for d in prod {
        if let (Some(s), Some(iv)) = (
            d.system.as_deref(),
            d.intervals.last().filter(|iv| iv.end.is_none()),
        ) {
            active.entry(s).or_default().push((&d.id, iv.opened_by));
        }
    }
    for (s, deps) in active {
        let sys = Some(s);
        if !(facts.provider(sys) && facts.high_risk(sys)) {
            continue;
        }
        let node = NodeId::new(EntityType::System, s);
        if facts
            .effective_documents(&node, Some("pmm_plan"), t)
            .next()
            .is_some()
        {
            continue;
        }
        let names: Vec<&str> = deps.iter().map(|(d, _)| *d).collect();
        out.push(
            Draft::new(
                node.as_str(),
                "a",
                "a",
                Level::Deny,
                format!(
                    "high-risk system `{s}` (provider) is in service at {} through {}, with no `pmm_plan` document effective then describing `{node}`",
                    time::fmt(t),
                    ticks(&names)
                ),
            )
            .evidence(
                deps.iter()
                    .map(|(d, i)| cx.evi(*i, Some(format!("`{d}` active since")))),
            )
            .system(sys),
        );
    }
}

/// DEP-02 (b): monitoring thresholds of every version served in production.
fn dep02_thresholds(cx: &Cx<'_>, facts: &Facts<'_>, out: &mut Vec<Draft>) {
    let model = cx.model;
    for (v, u) in facts.deployed_versions() {
        if version_thresholds(model, v).is_some() {
            continue;
        }
        let node = NodeId::new(EntityType::ModelVersion, v);
        let reg = model
            .entity(&node)
            .and_then(|e| e.registered.last().copied());
        let mut evidence = vec![cx.evi(
            u.first_event,
            Some(format!("first production service of `{v}`")),
        )];
        let message = match reg {
            Some(i) => {
                evidence.push(cx.evi(i, Some("no monitoring_thresholds".into())));
                format!(
                    "`{v}` is served in production (since {}) but its registration sets no `monitoring_thresholds`",
                    time::fmt(u.first_prod)
                )
            }
            None => format!(
                "`{v}` is served in production (since {}) but is not registered, so it has no `monitoring_thresholds`",
                time::fmt(u.first_prod)
            ),
        };
        let system = facts.system_of_version(v).or_else(|| {
            u.deployments
                .first()
                .and_then(|d| facts.deployment(d))
                .and_then(|d| d.system.as_deref())
        });
        out.push(
            Draft::new(node.as_str(), "b", "b", Level::Warn, message)
                .evidence(evidence)
                .system(system),
        );
    }
}

/// A stretch of active service in which one metric is monitored: `[start, end]`.
struct Segment {
    start: Timestamp,
    end: Timestamp,
    opened_by: u32,
    /// What ended it before T: a `suspended`/`stopped`, or a `changed` to a version that does
    /// not monitor the metric; `None` while it runs at T.
    closed_by: Option<u32>,
}

/// DEP-02 (c): gaps in each monitored metric of each production deployment.
fn dep02_gaps(cx: &Cx<'_>, prod: &[&DeploymentFacts], out: &mut Vec<Draft>) {
    let model = cx.model;
    let t = cx.as_of();
    let cadence = cx.duration("cadence");
    let by_system = cx.durations("cadence_by_system");
    let lookback = cx.duration("lookback");
    let window_start = lookback.before(t);
    let index = metric_index(model);
    let mut thresholds = ThresholdCache::new(model);
    for d in prod {
        let cadence = d
            .system
            .as_deref()
            .and_then(|s| by_system.get(s).copied())
            .unwrap_or(cadence);
        let mut segments: BTreeMap<String, Vec<Segment>> = BTreeMap::new();
        for iv in &d.intervals {
            let Some(metrics) = thresholds.get(&iv.version) else {
                continue; // DEP-02 (b)
            };
            let end = iv.end.unwrap_or(t).min(t);
            for m in metrics.keys() {
                let list = segments.entry(m.clone()).or_default();
                match list.last_mut() {
                    Some(last) if last.closed_by.is_some() && last.end == iv.start => {
                        last.end = end;
                        last.closed_by = iv.closed_by;
                    }
                    _ => list.push(Segment {
                        start: iv.start,
                        end,
                        opened_by: iv.opened_by,
                        closed_by: iv.closed_by,
                    }),
                }
            }
        }
        let subject = format!("deployment:{}", d.id);
        for (m, segs) in &segments {
            let obs: &[Obs] = index
                .get(&d.id)
                .and_then(|x| x.get(m))
                .map_or(&[], Vec::as_slice);
            for seg in segs.iter().filter(|s| s.end >= window_start) {
                let lo = obs.partition_point(|o| o.ts < seg.start);
                let hi = obs.partition_point(|o| o.ts <= seg.end);
                // Points bounding the stretches: the segment's start, each metric, its end.
                let mut prev: (Timestamp, Option<&Obs>) = (seg.start, None);
                let ends = obs[lo..hi]
                    .iter()
                    .map(|o| (o.ts, Some(o)))
                    .chain([(seg.end, None)]);
                for next in ends {
                    let (from, to) = (prev.0.max(window_start), next.0.min(t));
                    if to > after_one_and_a_half(cadence, from) {
                        out.push(gap_draft(
                            cx, d, &subject, m, seg, prev, next, cadence, from,
                        ));
                    }
                    prev = next;
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn gap_draft(
    cx: &Cx<'_>,
    d: &DeploymentFacts,
    subject: &str,
    m: &str,
    seg: &Segment,
    (start, before): (Timestamp, Option<&Obs>),
    (end, after): (Timestamp, Option<&Obs>),
    cadence: Duration,
    measured_from: Timestamp,
) -> Draft {
    let model = cx.model;
    let mut evidence = vec![match before {
        Some(o) => cx.evi(o.event, Some(format!("last `{m}` before the gap"))),
        None => cx.evi(
            seg.opened_by,
            Some(format!("active from here; no `{m}` since")),
        ),
    }];
    let closing = match after {
        Some(o) => Some(cx.evi(o.event, Some(format!("next `{m}`")))),
        None => seg
            .closed_by
            .map(|i| cx.evi(i, Some(format!("ends the stretch monitoring `{m}`")))),
    };
    let open = closing.is_none();
    evidence.extend(closing);
    let to = if open {
        format!("the as-of time {}", time::fmt(cx.as_of()))
    } else {
        time::fmt(end)
    };
    let clipped = if measured_from > start {
        format!(
            ", counted from {} (the lookback of `{}`)",
            time::fmt(measured_from),
            cx.duration("lookback")
        )
    } else {
        String::new()
    };
    let draft = Draft::new(
        subject,
        format!("c|{m}|{}", fmt_second(start)),
        "c",
        Level::Warn,
        format!(
            "no `{m}` metric of `{}` from {} to {to} ({}{clipped}) while it was active; expected one at least every {} (a gap may last up to 1.5 × cadence)",
            d.id,
            time::fmt(start),
            time::fmt_span(measured_from, end.min(cx.as_of())),
            cadence,
        ),
    )
    .evidence(evidence)
    .system(d.system.as_deref());
    if open {
        draft
    } else {
        let last =
            model.event(after.map_or_else(|| seg.closed_by.unwrap_or(seg.opened_by), |o| o.event));
        draft.at(last.ts)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::*;
    use crate::checks::Status;
    use crate::testing::{check_events, with};

    // --- DEP-02 -----------------------------------------------------------------------------

    /// `m@1` monitoring `auc`, deployed to `dep-7` on 2026-04-01, daily `auc` on the given days
    /// of April 2026 at 00:00.
    fn daily(days: &[u32]) -> Vec<Value> {
        let mut v = vec![
            reg("r1", "2026-03-01T00:00:00Z", "1", json!({})),
            dep(
                "d1",
                "2026-04-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
                json!({}),
            ),
        ];
        for day in days {
            v.push(metric(
                &format!("x{day}"),
                &format!("2026-04-{day:02}T00:00:00Z"),
                "auc",
                0.8,
                json!({}),
            ));
        }
        v
    }

    #[test]
    fn dep02_c_fires_on_a_metric_gap_and_passes_when_daily() {
        // The catalogue's example: 2026-04-03 to 2026-04-06 missing.
        let events = daily(&[1, 2, 7, 8]);
        let case = check_events(&events, &as_of(EU, "2026-04-08T12:00:00Z"));
        assert_eq!(
            case.keys("DEP-02"),
            [k("deployment:dep-7", "c|auc|2026-04-02T00:00:00Z", "info")]
        );
        assert_eq!(evidence(&case, "DEP-02"), [vec![at("x2", 4), at("x7", 5)]]);
        let f = case.of("DEP-02")[0];
        assert!(f.message.contains("5 d"), "{}", f.message);
        // Deny-free: DEP-02 (c) is a warn; under nist-ai-rmf it stays warn.
        let nist = "[policy]\npacks = [\"nist-ai-rmf\"]\n";
        let case = check_events(&events, &as_of(nist, "2026-04-08T12:00:00Z"));
        assert_eq!(
            case.keys("DEP-02"),
            [k("deployment:dep-7", "c|auc|2026-04-02T00:00:00Z", "warn")]
        );

        let events = daily(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let case = check_events(&events, &as_of(nist, "2026-04-08T12:00:00Z"));
        assert!(case.keys("DEP-02").is_empty(), "{:?}", case.keys("DEP-02"));
        assert_eq!(case.status("DEP-02"), Some(&Status::Evaluated));
    }

    #[test]
    fn dep02_c_gap_at_the_start_and_open_at_t() {
        let nist = "[policy]\npacks = [\"nist-ai-rmf\"]\n";
        // Nothing for three days after the start, then a metric; then silence up to T.
        let events = daily(&[4]);
        let case = check_events(&events, &as_of(nist, "2026-04-07T00:00:00Z"));
        assert_eq!(
            case.keys("DEP-02"),
            [
                k("deployment:dep-7", "c|auc|2026-04-01T00:00:00Z", "warn"),
                k("deployment:dep-7", "c|auc|2026-04-04T00:00:00Z", "warn"),
            ]
        );
        let ev = evidence(&case, "DEP-02");
        assert!(ev.contains(&vec![at("d1", 2), at("x4", 3)]), "{ev:?}");
        assert!(ev.contains(&vec![at("x4", 3)]), "{ev:?}");
        // 1.5 × cadence is allowed: 36 h after the last metric is not yet a gap.
        let case = check_events(&daily(&[1]), &as_of(nist, "2026-04-02T12:00:00Z"));
        assert!(case.keys("DEP-02").is_empty(), "{:?}", case.keys("DEP-02"));
        let case = check_events(&daily(&[1]), &as_of(nist, "2026-04-02T12:00:01Z"));
        assert_eq!(
            case.keys("DEP-02"),
            [k("deployment:dep-7", "c|auc|2026-04-01T00:00:00Z", "warn")]
        );
    }

    #[test]
    fn dep02_c_reads_cadence_by_system_suspensions_and_lookback() {
        let nist = "[policy]\npacks = [\"nist-ai-rmf\"]\n";
        let weekly =
            format!("{nist}[policy.params.DEP-02]\ncadence_by_system = {{ credit = \"1 w\" }}\n");
        let case = check_events(
            &daily(&[1, 2, 7, 8]),
            &as_of(&weekly, "2026-04-08T12:00:00Z"),
        );
        assert!(case.keys("DEP-02").is_empty(), "{:?}", case.keys("DEP-02"));

        // Suspended from 04-03 to 04-06: no gap while inactive.
        let mut events = daily(&[1, 2, 7, 8]);
        events.insert(
            4,
            dep(
                "d2",
                "2026-04-02T12:00:00Z",
                "suspended",
                "dep-7",
                None,
                json!({}),
            ),
        );
        events.insert(
            5,
            dep(
                "d3",
                "2026-04-06T12:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
                json!({}),
            ),
        );
        let case = check_events(&events, &as_of(nist, "2026-04-08T12:00:00Z"));
        assert!(case.keys("DEP-02").is_empty(), "{:?}", case.keys("DEP-02"));

        // The gap lies before T − lookback: not reported.
        let short = format!("{nist}[policy.params.DEP-02]\nlookback = \"2 d\"\n");
        let case = check_events(
            &daily(&[1, 2, 7, 8]),
            &as_of(&short, "2026-04-08T12:00:00Z"),
        );
        assert!(case.keys("DEP-02").is_empty(), "{:?}", case.keys("DEP-02"));
        // Partly inside: measured from T − lookback, named by its real start.
        let mid = format!("{nist}[policy.params.DEP-02]\nlookback = \"4 d\"\n");
        let case = check_events(&daily(&[1, 2, 7, 8]), &as_of(&mid, "2026-04-08T12:00:00Z"));
        assert_eq!(
            case.keys("DEP-02"),
            [k("deployment:dep-7", "c|auc|2026-04-02T00:00:00Z", "warn")]
        );
    }

    #[test]
    fn dep02_c_spans_a_version_change_when_both_monitor_the_metric() {
        let nist = "[policy]\npacks = [\"nist-ai-rmf\"]\n";
        let mut events = daily(&[1, 2, 5, 6]);
        events.insert(1, reg("r2", "2026-03-02T00:00:00Z", "2", json!({})));
        events.push(dep(
            "d2",
            "2026-04-03T00:00:00Z",
            "changed",
            "dep-7",
            Some("m@2"),
            json!({}),
        ));
        let case = check_events(&events, &as_of(nist, "2026-04-06T12:00:00Z"));
        assert_eq!(
            case.keys("DEP-02"),
            [k("deployment:dep-7", "c|auc|2026-04-02T00:00:00Z", "warn")]
        );
        // A version that does not monitor `auc` ends the stretch.
        let mut events = daily(&[1, 2]);
        events.insert(
            1,
            reg(
                "r2",
                "2026-03-02T00:00:00Z",
                "2",
                json!({"monitoring_thresholds": {"psi": {"max": 0.2}}}),
            ),
        );
        events.push(dep(
            "d2",
            "2026-04-03T00:00:00Z",
            "changed",
            "dep-7",
            Some("m@2"),
            json!({}),
        ));
        let case = check_events(&events, &as_of(nist, "2026-04-03T06:00:00Z"));
        assert!(case.keys("DEP-02").is_empty(), "{:?}", case.keys("DEP-02"));
    }

    #[test]
    fn dep02_b_fires_without_monitoring_thresholds() {
        let nist = "[policy]\npacks = [\"nist-ai-rmf\"]\n";
        let events = [
            reg(
                "r1",
                "2026-03-01T00:00:00Z",
                "1",
                json!({"monitoring_thresholds": null}),
            ),
            dep(
                "d1",
                "2026-04-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
                json!({}),
            ),
        ];
        let case = check_events(&events, &as_of(nist, "2026-04-01T12:00:00Z"));
        assert_eq!(case.keys("DEP-02"), [k("model_version:m@1", "b", "warn")]);
        assert_eq!(evidence(&case, "DEP-02"), [vec![at("r1", 1), at("d1", 2)]]);
        let case = check_events(&daily(&[1]), &as_of(nist, "2026-04-01T12:00:00Z"));
        assert!(case.keys("DEP-02").is_empty(), "{:?}", case.keys("DEP-02"));
    }

    #[test]
    fn dep02_a_fires_without_a_pmm_plan_for_a_high_risk_provider_system() {
        let hr = system(
            "s1",
            "2026-01-01T00:00:00Z",
            json!({"risk": "high", "role": "provider", "annex_iii_point": "5(b)"}),
        );
        let mut events = vec![hr.clone()];
        events.extend(daily(&[1]));
        let case = check_events(&events, &as_of(EU, "2026-09-01T00:00:00Z"));
        let a: Vec<_> = case
            .keys("DEP-02")
            .into_iter()
            .filter(|x| x.1 == "a")
            .collect();
        assert_eq!(a, [k("system:credit", "a", "deny")]);
        let f = case
            .of("DEP-02")
            .into_iter()
            .find(|f| f.discriminator == "a")
            .unwrap();
        let ev: Vec<_> = f
            .evidence
            .iter()
            .map(|e| (e.event.clone().unwrap(), e.line))
            .collect();
        assert_eq!(ev, [("d1".to_string(), 3)]);

        events.push(doc(
            "p1",
            "2026-04-01T00:00:00Z",
            "pmm-1",
            "pmm_plan",
            &["system:credit"],
            json!({}),
        ));
        let case = check_events(&events, &as_of(EU, "2026-09-01T00:00:00Z"));
        assert!(!case.keys("DEP-02").iter().any(|x| x.1 == "a"));
        // Not in service at T: no plan needed.
        let mut events = vec![hr];
        events.extend(daily(&[1]));
        events.push(dep(
            "d9",
            "2026-04-02T00:00:00Z",
            "stopped",
            "dep-7",
            None,
            json!({}),
        ));
        let case = check_events(&events, &as_of(EU, "2026-09-01T00:00:00Z"));
        assert!(!case.keys("DEP-02").iter().any(|x| x.1 == "a"));
    }

    #[test]
    fn dep02_not_evaluable_and_not_applicable() {
        let case = check_events(&[reg("r1", "2026-03-01T00:00:00Z", "1", json!({}))], EU);
        assert!(matches!(
            case.status("DEP-02"),
            Some(Status::NotEvaluable(_))
        ));
        let staging = with(
            dep(
                "d1",
                "2026-04-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
                json!({}),
            ),
            "env",
            json!("staging"),
        );
        let case = check_events(&[staging], EU);
        assert!(matches!(
            case.status("DEP-02"),
            Some(Status::NotApplicable(_))
        ));
    }
}
