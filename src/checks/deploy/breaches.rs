//! DEP-03 Threshold breaches handled.
//!
//! Input: every `monitoring.metric` indexed once by (deployment, metric) ([`metric_index`]), the
//! served versions' `monitoring_thresholds`, `monitoring.alert` indexed the same way,
//! `review.periodic` and `model.retired` of the served versions, and the deployments' own
//! events. Output: per deployment, metric and breach episode in time order, checks (a)–(c).
//! A window still open at the as-of time T fires nothing.

use crate::event::raw_present;
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::value::RawValue;

use super::super::catalogue::{ParamKind, param};
use super::super::facts::{DeploymentFacts, ref_id};
use super::super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use super::{Bounds, MetricIndex, Obs, ThresholdCache, metric_index, text};
use crate::event::{EntityType, NodeId};
use crate::time::{self, fmt_second};

// --- DEP-03 ---------------------------------------------------------------------------------

/// DEP-03 Threshold breaches handled.
pub struct Dep03;

static DEP03: RuleMeta = RuleMeta {
    id: "DEP-03",
    title: "Threshold breaches handled",
    levels: "`warn`",
    basis: "T/D",
    sources: &[
        "SR 11-7 outcomes analysis (\"consistently outside\") [V]",
        "PRA SS1/23 P5 [V]",
        "AI Act Art. 20, 72(2) [V]",
        "NIST AI RMF MEASURE 3.1 [V]",
        "ISO/IEC 42001 A.6.2.6 [S]",
    ],
    needs: "`monitoring.metric`.",
    checks: "Breach: a `monitoring.metric` with `status = \"breach\"`, or a `value` outside the \
event's `threshold_min`/`threshold_max`, else (neither set) outside the served version's \
`monitoring_thresholds[metric]`. Episode: a maximal run of consecutive breaching metrics of one \
deployment D and metric m, in event order. Subject `deployment:D`, discriminator \
`CHECK|m|EPISODE START` (the ts of its first metric): (a) no `monitoring.alert` of D for m \
within `alert_within` of the episode start; (b) no alert of (D, m) with a `disposition` within \
`disposition_within` of the episode start; or, for the latest such, `accepted` without `note`, \
`suspended` without a `deployment.suspended` of D in that window, or `incident` without \
`attrs.incident`; (c) an episode of at least `consecutive_breaches` metrics followed, within \
`redevelopment_within` of the N-th, by none of: `review.periodic` of the served version, its \
`model.retired`, `deployment.suspended`/`.stopped` of D, a `deployment.changed` of D to another \
version. Windows still open at T fire nothing.",
    why: "Monitoring only protects anyone if a breach is noticed and acted on: an alert raised \
promptly, a recorded decision on what to do about it, and, when a model is consistently \
outside its limits, a review, redevelopment or withdrawal (SR 11-7 outcomes analysis; AI Act \
Art. 20 corrective actions).",
    example: "Fires: `psi` breach at 06:00, alert at 06:20, no disposition after 7 days. \
Passes: the alert updated with `disposition: \"remediated\"`.",
    fix: "Raise a `monitoring.alert` naming the deployment and metric as soon as a breach is \
seen; record its `disposition` (a correcting alert, or a new one) within the window: \
`accepted` with a `note` saying why, `remediated`, `incident` with the incident id, or \
`suspended` with the deployment's `deployment.suspended`. After repeated breaches, review the \
version (`review.periodic`), retire it, or take the deployment out of service.",
    not_checked: "Whether the thresholds are adequate, and what a remediation did.",
    params: &[
        param("alert_within", ParamKind::Duration, "\"1 h\""),
        param("disposition_within", ParamKind::Duration, "\"7 days\""),
        param("consecutive_breaches", ParamKind::Int, "3"),
        param("redevelopment_within", ParamKind::Duration, "\"30 days\""),
    ],
};

/// The `attrs` of a `monitoring.alert`, borrowed.
#[derive(serde::Deserialize)]
struct AlertView<'a> {
    #[serde(borrow, default)]
    metric: Option<&'a RawValue>,
    #[serde(borrow, default)]
    disposition: Option<&'a RawValue>,
    #[serde(borrow, default)]
    note: Option<&'a RawValue>,
    #[serde(borrow, default)]
    incident: Option<&'a RawValue>,
}

struct Alert {
    event: u32,
    ts: Timestamp,
    disposition: Option<String>,
    note: bool,
    incident: bool,
}

/// Alerts by deployment id, then metric, in event order.
fn alert_index(cx: &Cx<'_>) -> BTreeMap<String, BTreeMap<String, Vec<Alert>>> {
    let mut index: BTreeMap<String, BTreeMap<String, Vec<Alert>>> = BTreeMap::new();
    for (i, e) in cx.model.of_kind("monitoring.alert") {
        let Some(d) = e
            .subject
            .as_ref()
            .filter(|s| s.kind == EntityType::Deployment)
        else {
            continue;
        };
        let Some(view) = e.attrs_as::<AlertView>() else {
            continue;
        };
        let Some(metric) = text(view.metric) else {
            continue;
        };
        index
            .entry(d.id.to_string())
            .or_default()
            .entry(metric.into_owned())
            .or_default()
            .push(Alert {
                event: i,
                ts: e.ts,
                disposition: text(view.disposition).map(|s| s.into_owned()),
                note: raw_present(view.note),
                incident: raw_present(view.incident),
            });
    }
    index
}

/// The version D served at `t`, or, while it was not active, the last one it served before.
fn served_at(d: Option<&DeploymentFacts>, t: Timestamp) -> Option<&str> {
    let ivs = &d?.intervals;
    let k = ivs.partition_point(|iv| iv.start <= t);
    ivs[..k].last().map(|iv| iv.version.as_str())
}

/// Why a metric is a breach, if it is (given the served version's bounds for its metric).
fn breach(o: &Obs, version: Option<Bounds>) -> Option<String> {
    let range = |b: Bounds| {
        format!(
            "[{}, {}]",
            b.min.map_or("−∞".into(), |v| v.to_string()),
            b.max.map_or("+∞".into(), |v| v.to_string())
        )
    };
    if o.status_breach {
        return Some("status breach".into());
    }
    let value = o.value?;
    if o.own.min.is_some() || o.own.max.is_some() {
        return o
            .own
            .outside(value)
            .then(|| format!("{value} outside its thresholds {}", range(o.own)));
    }
    let b = version?;
    b.outside(value)
        .then(|| format!("{value} outside the version's thresholds {}", range(b)))
}

impl Rule for Dep03 {
    fn meta(&self) -> &'static RuleMeta {
        &DEP03
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        if !model.occurs("monitoring.metric") {
            return Outcome::not_evaluable("no `monitoring.metric` event");
        }
        let index = metric_index(model);
        if index.is_empty() {
            return Outcome::not_applicable("no `monitoring.metric` names a deployment and metric");
        }
        let alerts = alert_index(cx);
        let mut out = Vec::new();
        episodes(cx, &index, &alerts, &mut out);
        Outcome::evaluated(out)
    }
}

/// One breach episode: `obs[start..end]` of one (deployment, metric), with the breach reasons.
struct Episode<'o> {
    obs: &'o [Obs],
    why: Vec<String>,
}

fn episodes(
    cx: &Cx<'_>,
    index: &MetricIndex,
    alerts: &BTreeMap<String, BTreeMap<String, Vec<Alert>>>,
    out: &mut Vec<Draft>,
) {
    let model = cx.model;
    let facts = cx.facts;
    let mut thresholds = ThresholdCache::new(model);
    let mut version_events: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let n_required = usize::try_from(cx.int("consecutive_breaches").max(1)).unwrap_or(1);
    for (d, metrics) in index {
        let df = facts.deployment(d);
        let system = df.and_then(|x| x.system.as_deref());
        let subject = format!("deployment:{d}");
        for (m, obs) in metrics {
            let mut found: Vec<Episode<'_>> = Vec::new();
            let mut run_start: Option<usize> = None;
            let mut why = Vec::new();
            for (k, o) in obs.iter().enumerate() {
                let bounds = served_at(df, o.ts)
                    .map(str::to_string)
                    .and_then(|v| thresholds.get(&v).and_then(|t| t.get(m).copied()));
                match breach(o, bounds) {
                    Some(reason) => {
                        run_start.get_or_insert(k);
                        why.push(reason);
                    }
                    None => {
                        if let Some(s) = run_start.take() {
                            found.push(Episode {
                                obs: &obs[s..k],
                                why: std::mem::take(&mut why),
                            });
                        }
                    }
                }
            }
            if let Some(s) = run_start {
                found.push(Episode {
                    obs: &obs[s..],
                    why,
                });
            }
            let none = Vec::new();
            let alerts = alerts.get(d).and_then(|x| x.get(m)).unwrap_or(&none);
            let mut seen = BTreeSet::new();
            for ep in &found {
                let start = ep.obs[0].ts;
                if !seen.insert(fmt_second(start)) {
                    continue; // two episodes starting within one second: one finding
                }
                let cx2 = EpisodeCx {
                    cx,
                    subject: &subject,
                    d,
                    m,
                    system,
                    ep,
                };
                cx2.alerted(alerts, out);
                cx2.disposed(alerts, df, out);
                if ep.obs.len() >= n_required {
                    let served = served_at(df, ep.obs[n_required - 1].ts);
                    let evs = served.map(|v| {
                        version_events
                            .entry(v.to_string())
                            .or_insert_with(|| review_or_retirement(cx, v))
                            .as_slice()
                    });
                    cx2.followed_up(n_required, served, evs.unwrap_or(&[]), df, out);
                }
            }
        }
    }
}

/// `review.periodic` and `model.retired` of version `v`, in event order.
fn review_or_retirement(cx: &Cx<'_>, v: &str) -> Vec<u32> {
    let node = NodeId::new(EntityType::ModelVersion, v);
    let mut evs: Vec<u32> = cx
        .model
        .about(&node, "review.periodic")
        .map(|(i, _)| i)
        .chain(cx.model.about(&node, "model.retired").map(|(i, _)| i))
        .collect();
    evs.sort_unstable();
    evs
}

struct EpisodeCx<'a, 'c> {
    cx: &'a Cx<'c>,
    subject: &'a str,
    d: &'a str,
    m: &'a str,
    system: Option<&'a str>,
    ep: &'a Episode<'a>,
}

impl EpisodeCx<'_, '_> {
    fn start(&self) -> Timestamp {
        self.ep.obs[0].ts
    }

    fn draft(&self, check: &'static str, message: String, evidence: Vec<Evidence>) -> Draft {
        let at = evidence
            .iter()
            .filter_map(|e| e.event.as_deref())
            .filter_map(|id| self.cx.model.by_id(id))
            .map(|i| self.cx.model.event(i).ts)
            .max()
            .unwrap_or(self.start());
        Draft::new(
            self.subject,
            format!("{check}|{}|{}", self.m, fmt_second(self.start())),
            check,
            Level::Warn,
            message,
        )
        .evidence(evidence)
        .at(at)
        .system(self.system)
    }

    fn first_breach(&self) -> Evidence {
        let o = &self.ep.obs[0];
        self.cx
            .evi(o.event, Some(format!("breach starts: {}", self.ep.why[0])))
    }

    fn what(&self) -> String {
        format!(
            "`{}` of `{}` breached from {} ({} consecutive breaching metric{})",
            self.m,
            self.d,
            time::fmt(self.start()),
            self.ep.obs.len(),
            if self.ep.obs.len() == 1 { "" } else { "s" }
        )
    }

    /// (a) an alert within `alert_within` of the start.
    fn alerted(&self, alerts: &[Alert], out: &mut Vec<Draft>) {
        let within = self.cx.duration("alert_within");
        let start = self.start();
        let deadline = within.after(start);
        let within = within.to_string();
        if alerts.iter().any(|a| a.ts >= start && a.ts <= deadline) || self.cx.as_of() < deadline {
            return;
        }
        let mut evidence = vec![self.first_breach()];
        let late = alerts.iter().find(|a| a.ts > deadline);
        if let Some(a) = late {
            evidence.push(self.cx.evi(a.event, Some("first alert, late".into())));
        }
        out.push(self.draft(
            "a",
            format!(
                "{}, and no `monitoring.alert` of `{}` for `{}` followed within {within} (by {}){}",
                self.what(),
                self.d,
                self.m,
                time::fmt(deadline),
                late.map_or(String::new(), |a| format!(
                    "; the first came at {}",
                    time::fmt(a.ts)
                ))
            ),
            evidence,
        ));
    }

    /// (b) a disposition within `disposition_within` of the start, and what it requires.
    fn disposed(&self, alerts: &[Alert], df: Option<&DeploymentFacts>, out: &mut Vec<Draft>) {
        let cx = self.cx;
        let within = cx.duration("disposition_within");
        let start = self.start();
        let deadline = within.after(start);
        let within = within.to_string();
        if cx.as_of() < deadline {
            return;
        }
        let in_window: Vec<&Alert> = alerts
            .iter()
            .filter(|a| a.ts >= start && a.ts <= deadline)
            .collect();
        let mut evidence = vec![self.first_breach()];
        let Some(last) = in_window.iter().rev().find(|a| a.disposition.is_some()) else {
            evidence.extend(
                in_window
                    .iter()
                    .map(|a| cx.evi(a.event, Some("alert without disposition".into()))),
            );
            out.push(self.draft(
                "b",
                format!(
                    "{}, and no alert of `{}` for `{}` records a `disposition` within {within} (by {})",
                    self.what(),
                    self.d,
                    self.m,
                    time::fmt(deadline)
                ),
                evidence,
            ));
            return;
        };
        let disposition = last.disposition.as_deref().unwrap_or_default();
        let problem = match disposition {
            "accepted" if !last.note => Some("`accepted` without a `note`".to_string()),
            "incident" if !last.incident => {
                Some("`incident` without the incident id (`attrs.incident`)".to_string())
            }
            "suspended" => {
                let suspended = df.into_iter().flat_map(|x| x.events.iter()).any(|&i| {
                    let e = cx.model.event(i);
                    e.kind == "deployment.suspended" && e.ts >= start && e.ts <= deadline
                });
                (!suspended).then(|| {
                    format!(
                        "`suspended`, but no `deployment.suspended` of `{}` between {} and {}",
                        self.d,
                        time::fmt(start),
                        time::fmt(deadline)
                    )
                })
            }
            _ => None,
        };
        if let Some(problem) = problem {
            evidence.push(cx.evi(last.event, Some(format!("disposition {disposition}"))));
            out.push(self.draft(
                "b",
                format!(
                    "{}; the alert `{}` records the disposition {problem}",
                    self.what(),
                    cx.model.event(last.event).id
                ),
                evidence,
            ));
        }
    }

    /// (c) after `n` consecutive breaches, a review, retirement, suspension, stop or change of
    /// version within `redevelopment_within` of the n-th.
    fn followed_up(
        &self,
        n: usize,
        served: Option<&str>,
        version_events: &[u32],
        df: Option<&DeploymentFacts>,
        out: &mut Vec<Draft>,
    ) {
        let cx = self.cx;
        let model = cx.model;
        let within = cx.duration("redevelopment_within");
        let nth = &self.ep.obs[n - 1];
        let deadline = within.after(nth.ts);
        let within = within.to_string();
        if cx.as_of() < deadline {
            return;
        }
        let in_window = |i: &u32| {
            let ts = model.event(*i).ts;
            ts >= nth.ts && ts <= deadline
        };
        if version_events.iter().any(in_window) {
            return;
        }
        let acted = df
            .into_iter()
            .flat_map(|x| x.events.iter())
            .filter(|i| in_window(i))
            .any(|&i| {
                let e = model.event(i);
                match e.kind.as_str() {
                    "deployment.suspended" | "deployment.stopped" => true,
                    "deployment.changed" => {
                        ref_id(e, "attrs.model_version").is_some_and(|v| Some(v) != served)
                    }
                    _ => false,
                }
            });
        if acted {
            return;
        }
        let served_text = served.map_or("the served version".to_string(), |v| format!("`{v}`"));
        out.push(self.draft(
            "c",
            format!(
                "{}; within {within} of the {n}th ({}) there is no `review.periodic` or `model.retired` of {served_text}, and `{}` was not suspended, stopped or changed to another version",
                self.what(),
                time::fmt(nth.ts),
                self.d
            ),
            vec![
                self.first_breach(),
                cx.evi(nth.event, Some(format!("breach {n} in a row"))),
            ],
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::*;
    use crate::checks::Status;
    use crate::testing::{check_events, ev, with};

    fn alert(id: &str, ts: &str, m: &str, extra: Value) -> Value {
        ev(
            id,
            ts,
            "monitoring.alert",
            "deployment:dep-7",
            merge(json!({"metric": m, "severity": "high"}), extra),
        )
    }

    // --- DEP-03 -----------------------------------------------------------------------------

    fn psi_base() -> Vec<Value> {
        vec![
            reg(
                "r1",
                "2026-03-01T00:00:00Z",
                "1",
                json!({"monitoring_thresholds": {"psi": {"max": 0.2}}}),
            ),
            dep(
                "d1",
                "2026-04-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
                json!({}),
            ),
        ]
    }

    fn dep03(events: &[Value], t: &str) -> crate::testing::Case {
        check_events(events, &as_of(SR, t))
    }

    #[test]
    fn dep03_b_fires_without_disposition_and_passes_when_remediated() {
        // The catalogue's example.
        let mut events = psi_base();
        events.push(metric("x1", "2026-04-03T06:00:00Z", "psi", 0.31, json!({})));
        events.push(alert("al1", "2026-04-03T06:20:00Z", "psi", json!({})));
        let case = dep03(&events, "2026-04-11T00:00:00Z");
        assert_eq!(
            case.keys("DEP-03"),
            [k("deployment:dep-7", "b|psi|2026-04-03T06:00:00Z", "warn")]
        );
        assert_eq!(evidence(&case, "DEP-03"), [vec![at("x1", 3), at("al1", 4)]]);
        // Within the window at T: nothing yet.
        assert!(
            dep03(&events, "2026-04-09T00:00:00Z")
                .keys("DEP-03")
                .is_empty()
        );

        // Updated by a later alert, or by a correction of the first.
        let mut later = events.clone();
        later.push(alert(
            "al2",
            "2026-04-04T09:00:00Z",
            "psi",
            json!({"disposition": "remediated"}),
        ));
        let case = dep03(&later, "2026-04-11T00:00:00Z");
        assert!(case.keys("DEP-03").is_empty(), "{:?}", case.keys("DEP-03"));
        let corrected = with(
            with(
                alert(
                    "al1b",
                    "2026-04-03T06:20:00Z",
                    "psi",
                    json!({"disposition": "remediated"}),
                ),
                "supersedes",
                json!("al1"),
            ),
            "reason",
            json!("disposition recorded"),
        );
        events.push(corrected);
        let case = dep03(&events, "2026-04-11T00:00:00Z");
        assert!(case.keys("DEP-03").is_empty(), "{:?}", case.keys("DEP-03"));
    }

    #[test]
    fn dep03_b_checks_what_the_disposition_requires() {
        let run = |disposition: Value, extra: Vec<Value>| {
            let mut events = psi_base();
            events.push(metric("x1", "2026-04-03T06:00:00Z", "psi", 0.31, json!({})));
            events.push(alert("al1", "2026-04-03T06:20:00Z", "psi", disposition));
            events.extend(extra);
            dep03(&events, "2026-04-11T00:00:00Z").keys("DEP-03")
        };
        let fires = [k("deployment:dep-7", "b|psi|2026-04-03T06:00:00Z", "warn")];
        assert_eq!(run(json!({"disposition": "accepted"}), vec![]), fires);
        assert!(
            run(
                json!({"disposition": "accepted", "note": "known seasonal shift"}),
                vec![]
            )
            .is_empty()
        );
        assert_eq!(run(json!({"disposition": "incident"}), vec![]), fires);
        assert!(
            run(
                json!({"disposition": "incident", "incident": "inc-1"}),
                vec![]
            )
            .is_empty()
        );
        assert_eq!(run(json!({"disposition": "suspended"}), vec![]), fires);
        let suspended = dep(
            "d2",
            "2026-04-03T07:00:00Z",
            "suspended",
            "dep-7",
            None,
            json!({}),
        );
        assert!(run(json!({"disposition": "suspended"}), vec![suspended]).is_empty());
    }

    #[test]
    fn dep03_a_fires_on_a_late_alert() {
        let mut events = psi_base();
        events.push(metric("x1", "2026-04-03T06:00:00Z", "psi", 0.31, json!({})));
        events.push(alert(
            "al1",
            "2026-04-03T08:00:00Z",
            "psi",
            json!({"disposition": "remediated"}),
        ));
        let case = dep03(&events, "2026-04-11T00:00:00Z");
        assert_eq!(
            case.keys("DEP-03"),
            [k("deployment:dep-7", "a|psi|2026-04-03T06:00:00Z", "warn")]
        );
        assert_eq!(evidence(&case, "DEP-03"), [vec![at("x1", 3), at("al1", 4)]]);
        // Window open at T.
        assert!(
            dep03(&events[..3], "2026-04-03T06:30:00Z")
                .keys("DEP-03")
                .is_empty()
        );
        // An alert for another metric does not count.
        let mut events = psi_base();
        events.push(metric("x1", "2026-04-03T06:00:00Z", "psi", 0.31, json!({})));
        events.push(alert(
            "al1",
            "2026-04-03T06:10:00Z",
            "auc",
            json!({"disposition": "remediated"}),
        ));
        let keys = dep03(&events, "2026-04-03T08:00:00Z").keys("DEP-03");
        assert_eq!(
            keys,
            [k("deployment:dep-7", "a|psi|2026-04-03T06:00:00Z", "warn")]
        );
    }

    #[test]
    fn dep03_breach_reads_status_own_bounds_then_the_versions() {
        let one = |m: Value| {
            let mut events = psi_base();
            events.push(m);
            dep03(&events, "2026-04-03T08:00:00Z").keys("DEP-03")
        };
        let fires = [k("deployment:dep-7", "a|psi|2026-04-03T06:00:00Z", "warn")];
        // Outside the version's max 0.2.
        assert_eq!(
            one(metric("x1", "2026-04-03T06:00:00Z", "psi", 0.31, json!({}))),
            fires
        );
        // Own bounds replace the version's.
        assert!(
            one(metric(
                "x1",
                "2026-04-03T06:00:00Z",
                "psi",
                0.31,
                json!({"threshold_max": 0.5})
            ))
            .is_empty()
        );
        assert_eq!(
            one(metric(
                "x1",
                "2026-04-03T06:00:00Z",
                "psi",
                0.1,
                json!({"threshold_min": 0.15})
            )),
            fires
        );
        // status = breach.
        assert_eq!(
            one(metric(
                "x1",
                "2026-04-03T06:00:00Z",
                "psi",
                0.1,
                json!({"status": "breach"})
            )),
            fires
        );
        assert!(one(metric("x1", "2026-04-03T06:00:00Z", "psi", 0.1, json!({}))).is_empty());
    }

    #[test]
    fn dep03_c_fires_after_consecutive_breaches_without_follow_up() {
        let mut events = psi_base();
        for (n, day) in [3, 4, 5].iter().enumerate() {
            let ts = format!("2026-04-{day:02}T06:00:00Z");
            events.push(metric(&format!("x{n}"), &ts, "psi", 0.31, json!({})));
            events.push(alert(
                &format!("al{n}"),
                &format!("2026-04-{day:02}T06:10:00Z"),
                "psi",
                json!({"disposition": "accepted", "note": "watching"}),
            ));
        }
        let case = dep03(&events, "2026-05-06T00:00:00Z");
        assert_eq!(
            case.keys("DEP-03"),
            [k("deployment:dep-7", "c|psi|2026-04-03T06:00:00Z", "warn")]
        );
        assert_eq!(evidence(&case, "DEP-03"), [vec![at("x0", 3), at("x2", 7)]]);
        // Window still open.
        assert!(
            dep03(&events, "2026-05-04T00:00:00Z")
                .keys("DEP-03")
                .is_empty()
        );
        // A periodic review of the served version within 30 days.
        let mut reviewed = events.clone();
        reviewed.push(ev(
            "rv1",
            "2026-04-20T00:00:00Z",
            "review.periodic",
            "model_version:m@1",
            json!({"reviewer": "carol"}),
        ));
        assert!(
            dep03(&reviewed, "2026-05-06T00:00:00Z")
                .keys("DEP-03")
                .is_empty()
        );
        // A change to another version.
        let mut changed = events.clone();
        changed.push(dep(
            "d2",
            "2026-04-20T00:00:00Z",
            "changed",
            "dep-7",
            Some("m@2"),
            json!({}),
        ));
        assert!(
            dep03(&changed, "2026-05-06T00:00:00Z")
                .keys("DEP-03")
                .is_empty()
        );
        // A non-breaching metric in between splits the episode.
        let mut split = events.clone();
        split.insert(
            5,
            metric("ok", "2026-04-04T00:00:00Z", "psi", 0.1, json!({})),
        );
        let keys = dep03(&split, "2026-05-06T00:00:00Z").keys("DEP-03");
        assert!(keys.is_empty(), "{keys:?}");
    }

    #[test]
    fn dep03_not_evaluable_without_metrics() {
        let case = dep03(&psi_base(), "2026-04-03T08:00:00Z");
        assert!(matches!(
            case.status("DEP-03"),
            Some(Status::NotEvaluable(_))
        ));
    }
}
