//! DEP-02 Post-market monitoring and DEP-03 Threshold breaches handled.
//!
//! Input: production deployments and their active intervals ([`Facts`]), the versions'
//! `monitoring_thresholds`, and every `monitoring.metric` indexed once by (deployment, metric)
//! ([`metric_index`]); DEP-03 also reads `monitoring.alert`, `review.periodic`, `model.retired`
//! and the deployments' own events.
//! Output: DEP-02 (a) per system, (b) per model version, (c) per deployment, metric and gap in
//! time order; DEP-03 per deployment, metric and episode in time order, checks (a)–(c).
//!
//! Both rules never fire on a window that is still open at the as-of time T, and write times in
//! discriminators that do not move with T: a metric gap is named by the time it began, even when
//! only its part after T − `lookback` is measured.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::value::RawValue;

use super::super::catalogue::{ParamKind, param};
use super::super::facts::{DeploymentFacts, Facts, ref_id};
use super::super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use super::{
    Bounds, MetricIndex, Obs, ThresholdCache, after_one_and_a_half, metric_index, occurs, text,
    version_thresholds,
};
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
        if !occurs(model, "deployment.started") {
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
                    super::ticks(&names)
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
            super::human(cx.duration("lookback"))
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
            super::human(cadence),
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

/// Whether a raw value is present (§2.1): not `null`, `""`, `[]` or `{}`.
fn raw_present(raw: Option<&RawValue>) -> bool {
    raw.and_then(|r| serde_json::from_str::<serde_json::Value>(r.get()).ok())
        .is_some_and(|v| crate::event::present(Some(&v)))
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
            .entry(d.id.clone())
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
        if !occurs(model, "monitoring.metric") {
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
        let within = super::human(within);
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
        let within = super::human(within);
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
        let within = super::human(within);
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

    fn metric(id: &str, ts: &str, m: &str, value: f64, extra: Value) -> Value {
        ev(
            id,
            ts,
            "monitoring.metric",
            "deployment:dep-7",
            merge(json!({"metric": m, "value": value}), extra),
        )
    }

    fn alert(id: &str, ts: &str, m: &str, extra: Value) -> Value {
        ev(
            id,
            ts,
            "monitoring.alert",
            "deployment:dep-7",
            merge(json!({"metric": m, "severity": "high"}), extra),
        )
    }

    fn as_of(pack: &str, t: &str) -> String {
        format!("{pack}[report]\nas_of = \"{t}\"\n")
    }

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
            json!({"risk": "high", "role": "provider"}),
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
