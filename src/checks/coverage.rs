//! LOG-04 Logging coverage: silent gaps in what an active production deployment logs, and
//! logging streams switched off.
//!
//! Input: the effective events of the as-of view and [`Facts`] (production deployments and their
//! active intervals). One pass over the events sorts each attributable event into its
//! deployment's list (events are already in time order, so the lists are sorted as they fill);
//! `logging.state` events are kept per envelope `system` and merged into each deployment's list
//! when it is walked. Only `logging.state` events have their `attrs` parsed.
//!
//! Output: (a) findings in deployment id order, then time; (b) findings in event order of the
//! `stop`/`pause` events.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde_json::Value;

use super::catalogue::{ParamKind, param};
use super::facts::{DeploymentFacts, reason};
use super::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use crate::event::{EntityType, Event};
use crate::time::{self, Duration};

/// LOG-04 Logging coverage.
pub struct Log04;

static LOG04: RuleMeta = RuleMeta {
    id: "LOG-04",
    title: "Logging coverage",
    levels: "`warn`; (b) with a reason `info`",
    basis: "T/D",
    sources: &[
        "AI Act Art. 12(1) [V]",
        "PCI DSS 10.2.1 (start, stop, pause of audit logs) [S]",
        "HIPAA 45 CFR 164.312(b) [V]",
        "ISO/IEC 42001 A.6.2.8 [S]",
    ],
    needs: "`deployment.started` for (a); `logging.state` for (b).",
    checks: "Events attributable to a deployment D: `decision.made` with `attrs.deployment` = D; \
`decision.batch`, `monitoring.*` and `deployment.*` with subject D; `logging.state` (heartbeats \
included) with D's system or with no system. A logging-off interval runs from a `logging.state` \
`stop` or `pause` to the next `start` or `resume` of the same stream (`attrs.stream`, else the \
subject id). (a) Silent gap: while a production deployment is active, a stretch longer than \
`max_gap` (or its system's entry in `max_gap_by_system`) with no attributable event and not inside \
a logging-off interval — subject `deployment:D`, discriminator `a|` and the time the gap starts \
(`YYYY-MM-DDTHH:MM:SSZ`). A gap still open at the as-of time counts from its start to T. \
(b) Logging off: a `stop` or `pause` not followed by a `start` or `resume` of its stream within \
`max_off`, or still off at T — subject = the `logging.state` subject (`resource:ID`), \
discriminator `b|` and the stop event's id; `warn` without a reason, `info` with one (`attrs.reason`, the envelope `reason` or `rationale.summary`).",
    why: "A system in service must record events automatically over its whole lifetime: a log \
that falls silent, or is switched off, leaves decisions no one can reconstruct. Audit-log \
standards ask in particular that starting, stopping and pausing the logs be itself recorded and \
explained.",
    example: "Fires: `deployment:dep-7` active all day in production with decisions at 09:00 and \
13:30 only — among others, a silent gap of 4 h 30 min from 09:00 (`a|…T09:00:00Z`). Passes: an \
hourly `logging.state` `heartbeat` for its system. A `pause` with a reason at 09:05 and a \
`resume` at 13:25 also closes the gap, but is itself reported under (b) as `info`, being longer \
than `max_off`.",
    fix: "Make the serving path log every decision, or emit `logging.state` heartbeats for quiet \
systems; record planned outages as `pause`/`resume` with a reason; resume stopped streams, or \
stop the deployment when it no longer serves. Raise `max_gap` for a low-traffic system with \
`max_gap_by_system`.",
    not_checked: "Whether each individual decision was logged (only gaps in the stream are \
visible), and logging by components that write no events.",
    params: &[
        param("max_gap", ParamKind::Duration, "\"1 h\""),
        param("max_off", ParamKind::Duration, "\"1 h\""),
        param("max_gap_by_system", ParamKind::DurationMap, "{}"),
    ],
};

impl Rule for Log04 {
    fn meta(&self) -> &'static RuleMeta {
        &LOG04
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        run(cx)
    }
}

/// A logging-off interval: a `stop`/`pause` and the next `start`/`resume` of its stream.
struct Off {
    stop: u32,
    resume: Option<u32>,
}

/// Merged logging-off intervals that apply to one deployment: `[start, end]`, `end = None` while
/// still off at T, with the events at their bounds.
struct OffSpan {
    start: Timestamp,
    end: Option<Timestamp>,
    start_ev: u32,
    end_ev: Option<u32>,
}

fn run(cx: &Cx<'_>) -> Outcome {
    let model = cx.model;
    let t = cx.as_of();
    let facts = cx.facts;
    let prod: Vec<&DeploymentFacts> = facts
        .deployments()
        .filter(|d| d.production && !d.intervals.is_empty())
        .collect();
    let slot: HashMap<&str, usize> = prod
        .iter()
        .enumerate()
        .map(|(k, d)| (d.id.as_str(), k))
        .collect();

    // One pass: attributable events per production deployment, logging events per system,
    // logging-off intervals per stream.
    let mut has_started = false;
    let mut has_logging = false;
    let mut own: Vec<Vec<u32>> = vec![Vec::new(); prod.len()];
    let mut logging: BTreeMap<Option<&str>, Vec<u32>> = BTreeMap::new();
    let mut offs: Vec<Off> = Vec::new();
    let mut pending: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, e) in model.current() {
        let deployment = match e.kind.as_str() {
            "decision.made" => e
                .refs
                .iter()
                .find(|r| r.field == "attrs.deployment")
                .map(|r| r.target.id()),
            "decision.batch"
            | "monitoring.metric"
            | "monitoring.alert"
            | "deployment.started"
            | "deployment.changed"
            | "deployment.suspended"
            | "deployment.stopped" => {
                has_started |= e.kind == "deployment.started";
                e.subject
                    .as_ref()
                    .filter(|s| s.kind == EntityType::Deployment)
                    .map(|s| s.id.as_str())
            }
            "logging.state" => {
                has_logging = true;
                logging.entry(e.system.as_deref()).or_default().push(i);
                logging_state(e, i, &mut offs, &mut pending);
                None
            }
            _ => None,
        };
        if let Some(&k) = deployment.and_then(|d| slot.get(d)) {
            own[k].push(i);
        }
    }
    if !has_started && !has_logging {
        return Outcome::not_evaluable("no `deployment.started` or `logging.state` event");
    }
    if prod.is_empty() && offs.is_empty() {
        return Outcome::not_applicable(
            "no production deployment was active and no logging stream was stopped or paused",
        );
    }

    let max_gap = cx.duration("max_gap");
    let by_system = cx.durations("max_gap_by_system");
    let mut out = Vec::new();
    for (k, d) in prod.iter().enumerate() {
        let system = d.system.as_deref();
        let max = system
            .and_then(|s| by_system.get(s))
            .copied()
            .unwrap_or(max_gap);
        let none: &[u32] = &[];
        let points = merge(
            &own[k],
            logging.get(&system).map_or(none, Vec::as_slice),
            if system.is_some() {
                logging.get(&None).map_or(none, Vec::as_slice)
            } else {
                none
            },
        );
        let spans = off_spans(cx, &offs, system);
        gaps(cx, d, &points, &spans, max, t, &mut out);
    }

    let max_off = cx.duration("max_off");
    for off in &offs {
        let stop = model.event(off.stop);
        let subject = stop
            .subject_node()
            .map_or_else(|| format!("event:{}", stop.id), |n| n.0.to_string());
        let resumed = off.resume.map(|r| model.event(r));
        let late = match resumed {
            None => true,
            Some(r) => r.ts > max_off.after(stop.ts),
        };
        if !late {
            continue;
        }
        let why = reason(stop);
        let level = if why.is_some() {
            Level::Info
        } else {
            Level::Warn
        };
        let what = state_of(stop);
        let because = why.map_or_else(
            || " and gives no reason".to_string(),
            |r| format!(" (reason: {})", time::clip(&r, 120)),
        );
        let mut evidence = vec![cx.ev(stop, Some(format!("logging {what}")))];
        let mut draft = match resumed {
            None => Draft::new(
                subject,
                format!("b|{}", stop.id),
                "b",
                level,
                format!(
                    "logging {what} at {} is still off at the as-of time {} ({}){because}",
                    time::fmt(stop.ts),
                    time::fmt(t),
                    time::fmt_span(stop.ts, t),
                ),
            ),
            Some(r) => {
                evidence.push(cx.ev(r, Some(format!("logging {}", state_of(r)))));
                Draft::new(
                    subject,
                    format!("b|{}", stop.id),
                    "b",
                    level,
                    format!(
                        "logging {what} at {} for {} until {}, longer than max_off = {max_off}{because}",
                        time::fmt(stop.ts),
                        time::fmt_span(stop.ts, r.ts),
                        time::fmt(r.ts),
                    ),
                )
                .at(r.ts)
            }
        };
        draft = draft.evidence(evidence).system(stop.system.as_deref());
        out.push(draft);
    }
    Outcome::evaluated(out)
}

/// `attrs.state` of a `logging.state` event.
fn state_of(e: &Event) -> String {
    e.attrs()
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or("state change")
        .to_string()
}

/// Pairs `stop`/`pause` events with the next `start`/`resume` of their stream.
fn logging_state(
    e: &Event,
    i: u32,
    offs: &mut Vec<Off>,
    pending: &mut HashMap<String, Vec<usize>>,
) {
    let attrs = e.attrs();
    let stream = attrs
        .get("stream")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| e.subject.as_ref().map(|s| s.id.as_str()))
        .unwrap_or_default();
    match attrs.get("state").and_then(Value::as_str) {
        Some("stop" | "pause") => {
            pending
                .entry(stream.to_string())
                .or_default()
                .push(offs.len());
            offs.push(Off {
                stop: i,
                resume: None,
            });
        }
        Some("start" | "resume") => {
            for k in pending.remove(stream).unwrap_or_default() {
                offs[k].resume = Some(i);
            }
        }
        _ => {}
    }
}

/// Merges three ascending lists of event indices (event order is time order).
fn merge(a: &[u32], b: &[u32], c: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len() + c.len());
    out.extend_from_slice(a);
    out.extend_from_slice(b);
    out.extend_from_slice(c);
    // Three ascending runs: the stable sort finds and merges runs, in linear time for three.
    out.sort();
    out
}

/// The union of the logging-off intervals attributable to a deployment of `system` (the stop
/// event with that system or with none), in time order.
fn off_spans(cx: &Cx<'_>, offs: &[Off], system: Option<&str>) -> Vec<OffSpan> {
    let mut spans: Vec<OffSpan> = Vec::new();
    for off in offs {
        let stop = cx.model.event(off.stop);
        if stop.system.is_some() && stop.system.as_deref() != system {
            continue;
        }
        let end = off.resume.map(|r| cx.model.event(r).ts);
        if let Some(last) = spans.last_mut()
            && last.end.is_none_or(|e| e >= stop.ts)
        {
            if last.end.is_some() && end.is_none_or(|x| last.end.is_some_and(|l| x > l)) {
                last.end = end;
                last.end_ev = off.resume;
            }
            continue;
        }
        spans.push(OffSpan {
            start: stop.ts,
            end,
            start_ev: off.stop,
            end_ev: off.resume,
        });
    }
    spans
}

/// One maximal stretch without attributable events and outside logging-off intervals.
struct Stretch {
    from: Timestamp,
    to: Timestamp,
    from_ev: Option<u32>,
    /// `None` when the stretch runs to the as-of time.
    to_ev: Option<u32>,
}

/// LOG-04 (a) for one production deployment.
fn gaps(
    cx: &Cx<'_>,
    d: &DeploymentFacts,
    points: &[u32],
    spans: &[OffSpan],
    max: Duration,
    t: Timestamp,
    out: &mut Vec<Draft>,
) {
    let model = cx.model;
    let mut found: BTreeMap<String, Stretch> = BTreeMap::new();
    let mut p = 0;
    let mut j = 0;
    let mut check = |from: Timestamp, to: Timestamp, from_ev: Option<u32>, to_ev: Option<u32>| {
        for s in stretches(from, to, from_ev, to_ev, spans, &mut j) {
            if s.to > max.after(s.from) {
                found
                    .entry(format!("a|{}", time::fmt_second(s.from)))
                    .or_insert(s);
            }
        }
    };
    for (start, end, opened_by) in active_ranges(d) {
        let until = end.unwrap_or(t);
        while p < points.len() && model.event(points[p]).ts < start {
            p += 1;
        }
        let (mut prev, mut prev_ev) = (start, Some(opened_by));
        while p < points.len() && model.event(points[p]).ts <= until {
            let ts = model.event(points[p]).ts;
            check(prev, ts, prev_ev, Some(points[p]));
            (prev, prev_ev) = (ts, Some(points[p]));
            p += 1;
        }
        if end.is_none() {
            check(prev, t, prev_ev, None);
        }
    }
    let subject = format!("deployment:{}", d.id);
    for (disc, s) in found {
        let span = time::fmt_span(s.from, s.to);
        let mut evidence = Vec::new();
        if let Some(i) = s.from_ev {
            evidence.push(cx.evi(i, Some("last attributable event before the gap".into())));
        }
        let draft = match s.to_ev {
            Some(i) => {
                evidence.push(cx.evi(i, Some("next attributable event".into())));
                Draft::new(
                    subject.clone(),
                    disc,
                    "a",
                    Level::Warn,
                    format!(
                        "no attributable event for {span}, from {} to {}, while the production deployment was active (max_gap = {max})",
                        time::fmt(s.from),
                        time::fmt(s.to)
                    ),
                )
                .at(s.to)
            }
            None => Draft::new(
                subject.clone(),
                disc,
                "a",
                Level::Warn,
                format!(
                    "no attributable event since {} ({span} at the as-of time {}) while the production deployment is active (max_gap = {max})",
                    time::fmt(s.from),
                    time::fmt(t)
                ),
            ),
        };
        out.push(draft.evidence(evidence).system(d.system.as_deref()));
    }
}

/// A deployment's active time as `[start, end)` ranges: intervals that touch (a `changed` that
/// switched the version) are one range. `end = None`: active at T.
fn active_ranges(d: &DeploymentFacts) -> Vec<(Timestamp, Option<Timestamp>, u32)> {
    let mut out: Vec<(Timestamp, Option<Timestamp>, u32)> = Vec::new();
    for iv in &d.intervals {
        if let Some(last) = out.last_mut()
            && last.1 == Some(iv.start)
        {
            last.1 = iv.end;
            continue;
        }
        out.push((iv.start, iv.end, iv.opened_by));
    }
    out
}

/// The parts of `[from, to]` outside every logging-off span. `j` is the first span that may
/// still overlap a later stretch (stretches come in time order).
fn stretches(
    from: Timestamp,
    to: Timestamp,
    from_ev: Option<u32>,
    to_ev: Option<u32>,
    spans: &[OffSpan],
    j: &mut usize,
) -> Vec<Stretch> {
    let mut out = Vec::new();
    while *j < spans.len() && spans[*j].end.is_some_and(|e| e <= from) {
        *j += 1;
    }
    let (mut cur, mut cur_ev) = (from, from_ev);
    for s in spans[*j..].iter().take_while(|s| s.start < to) {
        if s.start > cur {
            out.push(Stretch {
                from: cur,
                to: s.start,
                from_ev: cur_ev,
                to_ev: Some(s.start_ev),
            });
        }
        match s.end {
            None => return out,
            Some(e) if e > cur => (cur, cur_ev) = (e, s.end_ev),
            Some(_) => {}
        }
    }
    if cur < to {
        out.push(Stretch {
            from: cur,
            to,
            from_ev: cur_ev,
            to_ev,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::k;
    use serde_json::{Value, json};

    use crate::checks::Status;
    use crate::testing::{Case, check_events, ev, with};

    /// LOG-04's `(subject, discriminator, level)` keys in a case.
    fn keys(case: &Case) -> Vec<(String, String, String)> {
        case.keys("LOG-04")
    }

    fn started(id: &str, ts: &str) -> Value {
        let e = ev(
            id,
            ts,
            "deployment.started",
            "deployment:dep-7",
            json!({"model_version": "m@1"}),
        );
        with(
            with(e, "env", json!("production")),
            "system",
            json!("credit"),
        )
    }

    fn decision(id: &str, ts: &str) -> Value {
        ev(
            id,
            ts,
            "decision.made",
            &format!("decision:{id}"),
            json!({"deployment": "dep-7", "model_version": "m@1"}),
        )
    }

    fn logging(id: &str, ts: &str, state: &str, system: Option<&str>) -> Value {
        let e = ev(
            id,
            ts,
            "logging.state",
            "resource:serving-log",
            json!({"state": state}),
        );
        match system {
            Some(s) => with(e, "system", json!(s)),
            None => e,
        }
    }

    const AS_OF: &str = "[report]\nas_of = \"2026-03-02T17:00:00Z\"\n";

    fn day(extra: Vec<Value>) -> Vec<Value> {
        let mut events = vec![
            started("d0", "2026-03-02T08:00:00Z"),
            decision("x1", "2026-03-02T09:00:00Z"),
            decision("x2", "2026-03-02T09:30:00Z"),
            decision("x3", "2026-03-02T13:30:00Z"),
            decision("x4", "2026-03-02T14:00:00Z"),
            ev(
                "stop",
                "2026-03-02T14:30:00Z",
                "deployment.stopped",
                "deployment:dep-7",
                json!({}),
            ),
        ];
        events.extend(extra);
        events
    }

    #[test]
    fn a_fires_on_a_silent_gap_with_evidence_on_both_sides() {
        let case = check_events(&day(vec![]), AS_OF);
        assert_eq!(
            keys(&case),
            [k("deployment:dep-7", "a|2026-03-02T09:30:00Z", "warn")]
        );
        let finding = case.of("LOG-04")[0];
        let ev: Vec<_> = finding
            .evidence
            .iter()
            .map(|e| (e.event.as_deref(), e.path.as_str(), e.line))
            .collect();
        assert_eq!(
            ev,
            [(Some("x2"), "main.jsonl", 3), (Some("x3"), "main.jsonl", 4)]
        );
        assert!(finding.message.contains("4 h"), "{}", finding.message);
    }

    #[test]
    fn a_passes_with_heartbeats_of_its_system_or_of_none() {
        let hb = |id: &str, ts: &str, s| logging(id, ts, "heartbeat", s);
        let with_hb = day(vec![
            hb("h1", "2026-03-02T10:15:00Z", Some("credit")),
            hb("h2", "2026-03-02T11:15:00Z", None),
            hb("h3", "2026-03-02T12:15:00Z", Some("credit")),
            hb("h4", "2026-03-02T13:15:00Z", None),
        ]);
        assert!(keys(&check_events(&with_hb, AS_OF)).is_empty());
        // A heartbeat of another system does not count.
        let other = day(vec![
            hb("h1", "2026-03-02T10:15:00Z", Some("other")),
            hb("h2", "2026-03-02T11:15:00Z", Some("other")),
            hb("h3", "2026-03-02T12:15:00Z", Some("other")),
        ]);
        assert_eq!(
            keys(&check_events(&other, AS_OF)),
            [k("deployment:dep-7", "a|2026-03-02T09:30:00Z", "warn")]
        );
    }

    #[test]
    fn a_skips_logging_off_intervals_suspensions_and_non_production() {
        let paused = day(vec![
            with(
                logging("p1", "2026-03-02T09:35:00Z", "pause", Some("credit")),
                "reason",
                json!("maintenance"),
            ),
            logging("p2", "2026-03-02T13:25:00Z", "resume", Some("credit")),
        ]);
        // The pause itself lasts longer than max_off: only (b), at info since it has a reason.
        assert_eq!(
            keys(&check_events(&paused, AS_OF)),
            [k("resource:serving-log", "b|p1", "info")]
        );
        let suspended = day(vec![
            ev(
                "s1",
                "2026-03-02T09:40:00Z",
                "deployment.suspended",
                "deployment:dep-7",
                json!({}),
            ),
            started("s2", "2026-03-02T13:20:00Z"),
        ]);
        assert!(keys(&check_events(&suspended, AS_OF)).is_empty());
        let staging: Vec<Value> = day(vec![])
            .into_iter()
            .map(|e| {
                if e["kind"] == "deployment.started" {
                    with(e, "env", json!("staging"))
                } else {
                    e
                }
            })
            .collect();
        let case = check_events(&staging, AS_OF);
        assert!(matches!(
            case.status("LOG-04"),
            Some(Status::NotApplicable(_))
        ));
    }

    #[test]
    fn a_counts_an_open_gap_to_the_as_of_time_and_honours_max_gap_by_system() {
        let events = vec![
            started("d0", "2026-03-02T08:00:00Z"),
            decision("x1", "2026-03-02T08:30:00Z"),
        ];
        assert_eq!(
            keys(&check_events(&events, AS_OF)),
            [k("deployment:dep-7", "a|2026-03-02T08:30:00Z", "warn")]
        );
        let relaxed =
            format!("{AS_OF}[policy.params.LOG-04]\nmax_gap_by_system = {{ credit = \"12 h\" }}\n");
        assert!(keys(&check_events(&events, &relaxed)).is_empty());
        let other =
            format!("{AS_OF}[policy.params.LOG-04]\nmax_gap_by_system = {{ other = \"12 h\" }}\n");
        assert_eq!(keys(&check_events(&events, &other)).len(), 1);
    }

    #[test]
    fn b_fires_when_logging_stays_off_and_passes_when_resumed_in_time() {
        let events = |resume_at: Option<&str>| {
            let mut v = vec![logging("l1", "2026-03-02T10:00:00Z", "stop", None)];
            if let Some(ts) = resume_at {
                v.push(logging("l2", ts, "start", None));
            }
            v
        };
        let late = check_events(&events(Some("2026-03-02T11:30:00Z")), AS_OF);
        assert_eq!(keys(&late), [k("resource:serving-log", "b|l1", "warn")]);
        let got: Vec<_> = late.of("LOG-04")[0]
            .evidence
            .iter()
            .map(|e| (e.event.as_deref(), e.line))
            .collect();
        assert_eq!(got, [(Some("l1"), 1), (Some("l2"), 2)]);
        assert_eq!(
            keys(&check_events(&events(None), AS_OF)),
            [k("resource:serving-log", "b|l1", "warn")]
        );
        assert!(keys(&check_events(&events(Some("2026-03-02T10:45:00Z")), AS_OF)).is_empty());
        // Another stream's start does not end the stop.
        let other = vec![
            logging("l1", "2026-03-02T10:00:00Z", "stop", None),
            ev(
                "l2",
                "2026-03-02T10:10:00Z",
                "logging.state",
                "resource:other",
                json!({"state": "start"}),
            ),
        ];
        assert_eq!(
            keys(&check_events(&other, AS_OF)),
            [k("resource:serving-log", "b|l1", "warn")]
        );
    }

    #[test]
    fn needs_deployment_started_or_logging_state() {
        let case = check_events(&[decision("x1", "2026-03-02T09:00:00Z")], AS_OF);
        assert!(matches!(
            case.status("LOG-04"),
            Some(Status::NotEvaluable(_))
        ));
    }
}
