//! `deployments.html` (`SITE.md`, "Pages"): per deployment (a section whose id is
//! `links::anchor` of the deployment node, so `links::href` of a deployment lands on it) the
//! timeline of its `deployment.*` events — which model version, configuration, decision
//! threshold, image and approval were live, in which environment, from when to when — and an
//! *as-of* table: what each deployment served on the first day of each month from the first
//! deployment event to the as-of time, and at the as-of time itself.
//!
//! The state at a time `t` is that after every deployment event up to and including `t`
//! (`RULES.md` §2.2, as the checks read it). A `deployment.changed` that leaves a field out
//! keeps the value in force before it; the page says which event a carried value comes from.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

use super::overview::text;
use super::{EntityLink, event_link};
use crate::checks::facts::{self, ApprovalIssue, Facts, entities_of};
use crate::event::{EntityType, Event, NodeId};
use crate::render::{Cx, Pages, links};
use crate::time;

/// Timeline rows shown per deployment (the latest); earlier ones are counted and left to the
/// event drill-down.
const TIMELINE_ROWS: usize = 500;

/// At most this many month starts in the as-of table (plus the as-of time itself).
const MAX_DATES: usize = 23;

#[derive(Serialize)]
struct Page {
    deployments: Vec<Deployment>,
    live: Vec<LiveRow>,
    dates: Vec<String>,
}

/// One deployment's row of the "live at the as-of time" summary.
#[derive(Serialize)]
struct LiveRow {
    anchor: String,
    link: EntityLink,
    env: String,
    state: Option<State>,
    since: Option<String>,
    events: usize,
}

#[derive(Serialize)]
struct Deployment {
    anchor: String,
    link: EntityLink,
    system: Option<String>,
    env: String,
    production: bool,
    timeline: Vec<Step>,
    earlier: usize,
    asof: Vec<AsOf>,
}

/// A value in force, and the event it was recorded by when that is not the row's own event.
#[derive(Clone, Debug, Serialize)]
struct Field {
    value: Option<String>,
    from: Option<String>,
}

impl Field {
    fn none() -> Field {
        Field {
            value: None,
            from: None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
struct Approval {
    id: String,
    href: Option<String>,
    status: String,
    note: String,
}

/// What a deployment event leaves in force.
#[derive(Clone, Debug, Serialize)]
struct State {
    /// `serving`, `suspended` or `stopped`.
    status: String,
    version: Option<EntityLink>,
    config_digest: Field,
    threshold: Field,
    image_digest: Field,
    image: Field,
    artifact_digest: Field,
    endpoint: Field,
    env: Option<String>,
    approval: Option<Approval>,
}

#[derive(Serialize)]
struct Step {
    id: String,
    href: String,
    kind: String,
    actor: String,
    from: String,
    /// `None`: still in force at the as-of time.
    until: Option<String>,
    duration: String,
    reason: Option<String>,
    state: State,
}

#[derive(Serialize)]
struct AsOf {
    date: String,
    day: String,
    is_as_of: bool,
    state: Option<State>,
    since: Option<String>,
    since_href: Option<String>,
}

fn attr_text(a: &Map<String, Value>, key: &str) -> Option<String> {
    a.get(key)
        .filter(|v| crate::event::present(Some(v)))
        .map(text)
}

/// The field of `a` (or of its `target` object), else the previous state's value, carried.
fn field(
    a: &Map<String, Value>,
    key: &str,
    in_target: bool,
    prev: Option<&Field>,
    prev_event: &str,
) -> Field {
    let own = if in_target {
        a.get("target")
            .and_then(Value::as_object)
            .and_then(|t| attr_text(t, key))
    } else {
        attr_text(a, key)
    };
    match (own, prev) {
        (Some(v), _) => Field {
            value: Some(v),
            from: None,
        },
        (None, Some(p)) if p.value.is_some() => Field {
            value: p.value.clone(),
            from: Some(p.from.clone().unwrap_or_else(|| prev_event.to_string())),
        },
        _ => Field::none(),
    }
}

fn approval(
    cx: &Cx<'_>,
    e: &Event,
    a: &Map<String, Value>,
    version: Option<&NodeId>,
) -> Option<Approval> {
    let id = attr_text(a, "approval")?;
    let href = event_link(cx, &id);
    let (status, note) = match version {
        Some(v) if e.kind == "deployment.started" || e.kind == "deployment.changed" => {
            match facts::check_approval(cx.model(), Some(&id), v, e.ts) {
                Ok(_) => (
                    "pass",
                    "an approving validation of this version".to_string(),
                ),
                Err(ApprovalIssue::Unknown | ApprovalIssue::Missing) => {
                    ("missing", "names no event of this report".to_string())
                }
                Err(ApprovalIssue::NotValidation(i)) => (
                    "fail",
                    format!("a `{}`, not a `model.validated`", cx.model().event(i).kind),
                ),
                Err(ApprovalIssue::OtherVersion(_)) => {
                    ("fail", "a validation of another version".to_string())
                }
                Err(ApprovalIssue::NotApproved(_)) => {
                    ("fail", "a validation that does not approve".to_string())
                }
                Err(ApprovalIssue::Later(_)) => {
                    ("late", "a validation recorded after this event".to_string())
                }
            }
        }
        _ if href.is_none() => ("missing", "names no event of this report".to_string()),
        _ => ("present", String::new()),
    };
    Some(Approval {
        id,
        href,
        status: status.to_string(),
        note,
    })
}

/// The state after event `e`, given the state before it (`prev`, with the id of the event that
/// left it).
fn next_state(cx: &Cx<'_>, e: &Event, prev: Option<(&State, &str)>) -> State {
    let a = e.attrs();
    let kind = e.kind.as_str();
    // A `started` is a fresh start; a `changed` keeps what it does not say; a suspension or stop
    // keeps the last values for reference.
    let carry = match kind {
        "deployment.started" => None,
        _ => prev,
    };
    let f = |key: &str, in_target: bool| {
        field(
            &a,
            key,
            in_target,
            carry.map(|(s, _)| match key {
                "config_digest" => &s.config_digest,
                "decision_threshold" => &s.threshold,
                "image_digest" => &s.image_digest,
                "container_image" => &s.image,
                "artifact_digest" => &s.artifact_digest,
                _ => &s.endpoint,
            }),
            carry.map_or("", |(_, id)| id),
        )
    };
    let version = facts::ref_id(e, "attrs.model_version")
        .map(|v| NodeId::new(EntityType::ModelVersion, v))
        .or_else(|| {
            carry
                .and_then(|(s, _)| s.version.as_ref())
                .and_then(|l| NodeId::parse(&l.id))
        });
    let status = match kind {
        "deployment.suspended" => "suspended",
        "deployment.stopped" => "stopped",
        _ => "serving",
    };
    State {
        status: status.to_string(),
        config_digest: f("config_digest", false),
        threshold: f("decision_threshold", false),
        image_digest: f("image_digest", true),
        image: f("container_image", true),
        artifact_digest: f("artifact_digest", false),
        endpoint: f("endpoint", true),
        env: e
            .env
            .as_deref()
            .map(str::to_string)
            .or_else(|| carry.and_then(|(s, _)| s.env.as_deref().map(str::to_string))),
        approval: approval(cx, e, &a, version.as_ref()),
        version: version.as_ref().map(|v| EntityLink::new(cx, v)),
    }
}

/// The first day of each month after `from` up to `to`, at most [`MAX_DATES`] of them (evenly
/// spaced back from the latest when there are more).
pub(super) fn month_starts(from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
    let index = |t: Timestamp| {
        let d = t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        i64::from(d.year()) * 12 + i64::from(d.month()) - 1
    };
    if to < from {
        return Vec::new();
    }
    let (first, last) = (index(from) + 1, index(to));
    if last < first {
        return Vec::new();
    }
    let n = (last - first + 1) as usize;
    let step = n.div_ceil(MAX_DATES).max(1) as i64;
    let mut out: Vec<Timestamp> = (first..=last)
        .filter(|m| (last - m) % step == 0)
        .filter_map(|m| {
            let (y, mo) = (m.div_euclid(12), m.rem_euclid(12) + 1);
            time::parse_date_or_time(&format!("{y:04}-{mo:02}-01")).ok()
        })
        .filter(|t| *t <= to)
        .collect();
    out.sort();
    out
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let facts = Facts::compute(model, cx.input.config);
    let t = model.as_of;
    let first_event = facts
        .deployments()
        .filter_map(|d| d.events.first())
        .map(|&i| model.event(i).ts)
        .min();
    let mut dates: Vec<(Timestamp, bool)> = first_event
        .map(|f| month_starts(f, t))
        .unwrap_or_default()
        .into_iter()
        .filter(|d| *d != t)
        .map(|d| (d, false))
        .collect();
    dates.push((t, true));

    let mut deployments = Vec::new();
    let mut live = Vec::new();
    for (node, _) in entities_of(model, EntityType::Deployment) {
        let anchor = links::anchor(node);
        let link = EntityLink::new(cx, node);
        let d = facts.deployment(node.id());
        let events: &[u32] = d.map_or(&[], |d| d.events.as_slice());
        // States in event order, with the event that produced each.
        let mut states: Vec<(u32, State)> = Vec::with_capacity(events.len());
        for &i in events {
            let e = model.event(i);
            let prev = states.last().map(|(j, s)| (s, model.event(*j).id.as_str()));
            let s = next_state(cx, e, prev);
            states.push((i, s));
        }
        let steps: Vec<Step> = states
            .iter()
            .enumerate()
            .map(|(k, (i, s))| {
                let e = model.event(*i);
                let end = states.get(k + 1).map(|(j, _)| model.event(*j).ts);
                Step {
                    id: e.id.to_string(),
                    href: links::event_href(*i),
                    kind: e
                        .kind
                        .strip_prefix("deployment.")
                        .unwrap_or(&e.kind)
                        .to_string(),
                    actor: e.actor.id.to_string(),
                    from: time::fmt(e.ts),
                    until: end.map(time::fmt),
                    duration: time::fmt_span(e.ts, end.unwrap_or(t)),
                    reason: facts::reason(e),
                    state: s.clone(),
                }
            })
            .collect();
        let earlier = steps.len().saturating_sub(TIMELINE_ROWS);
        let timeline: Vec<Step> = steps.into_iter().skip(earlier).collect();
        let at = |when: Timestamp| -> Option<&(u32, State)> {
            let n = states.partition_point(|(i, _)| model.event(*i).ts <= when);
            n.checked_sub(1).map(|k| &states[k])
        };
        let asof = dates
            .iter()
            .map(|&(date, is_as_of)| {
                let s = at(date);
                AsOf {
                    date: time::fmt(date),
                    day: time::utc_day(date),
                    is_as_of,
                    state: s.map(|(_, s)| s.clone()),
                    since: s.map(|(i, _)| {
                        let e = model.event(*i);
                        format!("{} ({})", time::fmt(e.ts), e.id)
                    }),
                    since_href: s.map(|(i, _)| links::event_href(*i)),
                }
            })
            .collect();
        let env = d
            .and_then(|d| d.env.clone())
            .unwrap_or_else(|| "not recorded".to_string());
        let now = at(t);
        live.push(LiveRow {
            anchor: anchor.clone(),
            link: link.clone(),
            env: env.clone(),
            state: now.map(|(_, s)| s.clone()),
            since: now.map(|(i, _)| time::fmt(model.event(*i).ts)),
            events: events.len(),
        });
        deployments.push(Deployment {
            anchor,
            link,
            system: d.and_then(|d| d.system.clone()),
            env,
            production: d.is_some_and(|d| d.production),
            timeline,
            earlier,
            asof,
        });
    }
    let page = Page {
        deployments,
        live,
        dates: dates.iter().map(|(d, _)| time::fmt(*d)).collect(),
    };
    pages.add(
        "deployments.html",
        cx.render("deployments.html", "deployments.html", "Deployments", page)?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::{check_events, ev, page, row_of, with};

    fn ts(s: &str) -> Timestamp {
        time::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn month_starts_are_capped_and_end_at_the_as_of_time() {
        let d = month_starts(ts("2026-01-10T00:00:00Z"), ts("2026-03-20T00:00:00Z"));
        let d: Vec<String> = d.into_iter().map(time::fmt).collect();
        assert_eq!(d, ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"]);
        let long = month_starts(ts("2000-01-10T00:00:00Z"), ts("2026-03-20T00:00:00Z"));
        assert!(long.len() <= MAX_DATES, "{}", long.len());
        assert_eq!(time::fmt(*long.last().unwrap()), "2026-03-01T00:00:00Z");
        assert!(month_starts(ts("2026-03-02T00:00:00Z"), ts("2026-03-20T00:00:00Z")).is_empty());
    }

    fn cases() -> crate::testing::Case {
        let reg = |id: &str, v: &str| {
            ev(
                id,
                "2026-01-01T00:00:00Z",
                "model.registered",
                &format!("model_version:m@{v}"),
                json!({"model": "m", "version": v}),
            )
        };
        let val = |id: &str, v: &str| {
            ev(
                id,
                "2026-01-02T00:00:00Z",
                "model.validated",
                &format!("model_version:m@{v}"),
                json!({"validator": "carol", "decision": "approve"}),
            )
        };
        check_events(
            &[
                reg("r1", "1"),
                reg("r2", "2"),
                val("v1", "1"),
                val("v2", "2"),
                with(
                    ev(
                        "d1",
                        "2026-01-10T00:00:00Z",
                        "deployment.started",
                        "deployment:dep-1",
                        json!({"model_version": "m@1", "config_digest": "sha256:cfg1", "decision_threshold": 0.6, "approval": "v1", "target": {"image_digest": "sha256:img1"}}),
                    ),
                    "env",
                    json!("production"),
                ),
                with(
                    ev(
                        "d2",
                        "2026-02-15T00:00:00Z",
                        "deployment.changed",
                        "deployment:dep-1",
                        json!({"model_version": "m@2", "decision_threshold": 0.7, "approval": "v1"}),
                    ),
                    "reason",
                    json!("<script>alert(1)</script>"),
                ),
                ev(
                    "d3",
                    "2026-03-10T00:00:00Z",
                    "deployment.suspended",
                    "deployment:dep-1",
                    json!({}),
                ),
                ev(
                    "x",
                    "2026-03-20T00:00:00Z",
                    "logging.state",
                    "resource:log",
                    json!({"state": "heartbeat"}),
                ),
            ],
            "",
        )
    }

    #[test]
    fn as_of_table_chooses_the_version_live_at_each_date() {
        let html = page(&cases().site(), "deployments.html");
        let node = NodeId::new(EntityType::Deployment, "dep-1");
        assert!(html.contains(&format!("id=\"{}\"", links::anchor(&node))));
        // 1 February: version 1 (started 10 January), threshold 0.6.
        let feb = row_of(&html, "id=\"asof-deployment-dep-1-2026-02-01\"");
        assert!(feb.contains("m@1") && !feb.contains("m@2"), "{feb}");
        assert!(feb.contains("0.6") && feb.contains("sha256:cfg1"), "{feb}");
        // 1 March: version 2; its config digest is carried from d1, its threshold is its own.
        let mar = row_of(&html, "id=\"asof-deployment-dep-1-2026-03-01\"");
        assert!(mar.contains("m@2") && mar.contains("0.7"), "{mar}");
        assert!(
            mar.contains("sha256:cfg1") && mar.contains("from d1"),
            "{mar}"
        );
        // At the as-of time the deployment is suspended.
        let now = row_of(&html, "id=\"asof-deployment-dep-1-as-of\"");
        assert!(now.contains("suspended"), "{now}");
        // Versions link to their pages; the approval links to its event and is judged.
        assert!(html.contains("href=\"models/m/2.html\""));
        let d2 = row_of(&html, "<code>d2</code>");
        assert!(d2.contains("validation of another version"), "{d2}");
        assert!(d2.contains("href=\"events/1.html#e"), "{d2}");
        // The envelope reason is escaped.
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>alert(1)"));
    }

    #[test]
    fn a_deployment_without_deployment_events_is_listed_as_such() {
        let case = check_events(
            &[ev(
                "b1",
                "2026-01-02T00:00:00Z",
                "decision.batch",
                "deployment:ghost",
                json!({"model_version": "m@1", "window_start": "2026-01-01T00:00:00Z", "window_end": "2026-01-02T00:00:00Z", "count": 5}),
            )],
            "",
        );
        let html = page(&case.site(), "deployments.html");
        assert!(html.contains("ghost"));
        assert!(
            html.contains("No <code>deployment.*</code> event"),
            "{html}"
        );
    }
}
