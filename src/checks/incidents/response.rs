//! DEP-06: a deployer's response to a risk — suspend the affected production deployments and
//! inform the provider and the authority. Triggers are incidents of a deployer system with a
//! risk severity (at awareness) and `monitoring.alert`s disposed of as `suspended`.

use jiff::Timestamp;

use super::super::catalogue::{ParamKind, param};
use super::super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use super::{Clock, Incident, Limit, any_opened, clock, incidents, limit};
use crate::time::{fmt_second, fmt_span};

/// DEP-06 Deployer response to risk.
pub struct Dep06;

static DEP06: RuleMeta = RuleMeta {
    id: "DEP-06",
    title: "Deployer response to risk",
    levels: "`deny`",
    basis: "T (deadlines D)",
    sources: &["AI Act Art. 26(5) [V]", "NIST AI RMF MANAGE 2.4 [V]"],
    needs: "`incident.opened` or `monitoring.alert` of a deployer(S) system.",
    checks: "Triggers: an incident I of a deployer system whose merged `severity` is in \
`risk_severities` (time = awareness; trigger event = I's first `incident.opened`); a \
`monitoring.alert` of a deployer system with `disposition = \"suspended\"` (time and trigger \
event = the alert). Subject `incident:I`, or `deployment:D` for an alert; discriminator = check \
letter and the trigger event's id. (a) A production deployment listed in the incident's \
`affects`, or the alert's subject, is neither suspended nor stopped within `suspend_within` \
(one finding per trigger, naming every such deployment; a deployment not active at the \
trigger time needs nothing); (b) for an incident: no `incident.notified` to the `provider`, or \
none to the `authority`, within `notify_within`. A window still open at T fires nothing.",
    why: "A deployer that has reason to consider that using a high-risk AI system presents a \
risk must inform the provider and the market surveillance authority without undue delay and \
suspend the use of the system (Art. 26(5)). Continuing to serve decisions from a system known \
to be risky is the harm the rule guards against.",
    example: "Fires: critical incident affecting `dep-7`, still active two days later. Passes: \
`deployment.suspended` within 24 h and both notifications within 72 h.",
    fix: "On a critical incident or an alert disposed of as `suspended`, record a \
`deployment.suspended` (or `.stopped`) of each affected production deployment within \
`suspend_within`, and notify the provider and the authority (`incident.notified`) within \
`notify_within`.",
    not_checked: "Whether the deployer had reason to consider a risk without an incident or \
alert being recorded; notices to importers and distributors.",
    params: &[
        param("risk_severities", ParamKind::Strs, "[\"critical\"]"),
        param("suspend_within", ParamKind::Duration, "\"24 h\""),
        param("notify_within", ParamKind::Duration, "\"72 h\""),
    ],
};

/// A trigger of DEP-06.
struct Trigger<'a> {
    subject: String,
    event: u32,
    t: Timestamp,
    system: Option<&'a str>,
    /// The production deployments it concerns, in id order.
    deployments: Vec<String>,
    incident: Option<&'a Incident>,
    /// "critical incident `I` (aware …)" or "alert `x` (… `suspended`)".
    head: String,
}

#[derive(serde::Deserialize)]
struct AlertView<'a> {
    #[serde(borrow)]
    disposition: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    metric: Option<std::borrow::Cow<'a, str>>,
}

impl Rule for Dep06 {
    fn meta(&self) -> &'static RuleMeta {
        &DEP06
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        let all = incidents(model, facts);
        let alerts: Vec<u32> = model
            .current()
            .filter(|(_, e)| e.kind == "monitoring.alert")
            .map(|(i, _)| i)
            .collect();
        if !any_opened(&all) && alerts.is_empty() {
            return Outcome::not_evaluable("no `incident.opened` or `monitoring.alert` event");
        }
        let severities = cx.strs("risk_severities");
        let suspend_within = limit(cx, "suspend_within");
        let notify_within = limit(cx, "notify_within");

        let mut in_scope = false;
        let mut triggers = Vec::new();
        for inc in all.iter().filter(|i| facts.deployer(i.system())) {
            in_scope = true;
            let Some(severity) = inc
                .text("severity")
                .filter(|s| severities.iter().any(|x| x == s))
            else {
                continue;
            };
            let mut deployments: Vec<String> = inc
                .affects()
                .iter()
                .filter(|n| n.entity_type() == Some(crate::event::EntityType::Deployment))
                .map(|n| n.id().to_string())
                .filter(|d| facts.production(d))
                .collect();
            deployments.sort();
            deployments.dedup();
            triggers.push(Trigger {
                subject: inc.subject().to_string(),
                event: inc.opened,
                t: inc.awareness,
                system: inc.system(),
                deployments,
                incident: Some(inc),
                head: format!(
                    "{severity} incident `{}` ({})",
                    inc.id(),
                    inc.awareness_phrase()
                ),
            });
        }
        for &i in &alerts {
            let e = model.event(i);
            let system = facts.system_of_event(e);
            if !facts.deployer(system) {
                continue;
            }
            in_scope = true;
            let Some(view) = e.attrs_as::<AlertView>() else {
                continue;
            };
            if view.disposition.as_deref() != Some("suspended") {
                continue;
            }
            let Some(d) = e
                .subject
                .as_ref()
                .filter(|s| s.kind == crate::event::EntityType::Deployment)
            else {
                continue;
            };
            let metric = view
                .metric
                .map(|m| format!(" on `{m}`"))
                .unwrap_or_default();
            triggers.push(Trigger {
                subject: format!("deployment:{}", d.id),
                event: i,
                t: e.ts,
                system,
                deployments: facts
                    .production(&d.id)
                    .then(|| d.id.to_string())
                    .into_iter()
                    .collect(),
                incident: None,
                head: format!(
                    "alert `{}`{metric} ({}) disposed of as `suspended`",
                    e.id,
                    fmt_second(e.ts)
                ),
            });
        }
        if !in_scope {
            return Outcome::not_applicable("no incident or alert of a deployer system");
        }

        let mut out = Vec::new();
        for tr in &triggers {
            out.extend(suspension(cx, tr, &suspend_within));
            if let Some(inc) = tr.incident {
                out.extend(notification(cx, tr, inc, &notify_within));
            }
        }
        Outcome::evaluated(out)
    }
}

/// DEP-06 (a) for one trigger.
fn suspension(cx: &Cx<'_>, tr: &Trigger<'_>, within: &Limit) -> Option<Draft> {
    let facts = cx.facts;
    let model = cx.model;
    let t = cx.as_of();
    let due = within.after(tr.t);
    if t <= due {
        return None;
    }
    let trigger = model.event(tr.event);
    let mut evidence = vec![cx.ev(trigger, Some("trigger".into()))];
    let mut parts = Vec::new();
    let mut all_late = true;
    let mut latest = trigger.ts;
    for d in &tr.deployments {
        let Some(iv) = facts.interval_at(d, tr.t) else {
            continue; // not active when the risk arose
        };
        let stops = facts.deployment(d).map_or(&[][..], |f| f.events.as_slice());
        let mut stop_after = stops.iter().copied().filter(|&i| {
            let e = model.event(i);
            matches!(
                e.kind.as_str(),
                "deployment.suspended" | "deployment.stopped"
            ) && e.ts >= tr.t
        });
        match stop_after.next() {
            Some(i) if model.event(i).ts <= due => {}
            Some(i) => {
                let e = model.event(i);
                let verb = e.kind.trim_start_matches("deployment.");
                parts.push(format!(
                    "`{d}` {verb} only {} ({} late)",
                    fmt_second(e.ts),
                    fmt_span(due, e.ts)
                ));
                evidence.push(cx.ev(e, Some(format!("{verb}, late"))));
                latest = latest.max(e.ts);
            }
            None => {
                all_late = false;
                let state = if facts.active(d, t) {
                    format!("still active at {}", fmt_second(t))
                } else {
                    "never suspended or stopped".to_string()
                };
                parts.push(format!("`{d}` {state}"));
                evidence.push(cx.evi(
                    iv.opened_by,
                    Some(format!("`{d}` serving `{}`", iv.version)),
                ));
            }
        }
    }
    if parts.is_empty() {
        return None;
    }
    let draft = Draft::new(
        tr.subject.as_str(),
        format!("a|{}", trigger.id),
        "a",
        Level::Deny,
        format!(
            "{}: production deployments must be suspended or stopped by {} ({within} after {}); {}",
            tr.head,
            fmt_second(due),
            fmt_second(tr.t),
            parts.join("; ")
        ),
    )
    .evidence(evidence)
    .system(tr.system);
    Some(if all_late { draft.at(latest) } else { draft })
}

/// DEP-06 (b) for an incident trigger.
fn notification(cx: &Cx<'_>, tr: &Trigger<'_>, inc: &Incident, within: &Limit) -> Option<Draft> {
    let model = cx.model;
    let t = cx.as_of();
    let due = within.after(tr.t);
    if t <= due {
        return None;
    }
    let trigger = model.event(tr.event);
    let mut evidence: Vec<Evidence> = vec![cx.ev(trigger, Some("trigger".into()))];
    let mut parts = Vec::new();
    let mut all_late = true;
    let mut latest = trigger.ts;
    for recipient in ["provider", "authority"] {
        match clock(inc.first_notice(recipient), due, t) {
            Clock::Met | Clock::Running => {}
            Clock::Late(n) => {
                let e = model.event(n.event);
                parts.push(format!(
                    "the {recipient} informed only {} by `{}` ({} late)",
                    fmt_second(n.ts),
                    e.id,
                    fmt_span(due, n.ts)
                ));
                evidence.push(cx.ev(e, Some(format!("notice to the {recipient}, late"))));
                latest = latest.max(n.ts);
            }
            Clock::Overdue => {
                all_late = false;
                parts.push(format!(
                    "no notice to the {recipient} ({} overdue at {})",
                    fmt_span(due, t),
                    fmt_second(t)
                ));
            }
        }
    }
    if parts.is_empty() {
        return None;
    }
    let draft = Draft::new(
        tr.subject.as_str(),
        format!("b|{}", trigger.id),
        "b",
        Level::Deny,
        format!(
            "{}: provider and authority must be informed by {} ({within} after awareness); {}",
            tr.head,
            fmt_second(due),
            parts.join("; ")
        ),
    )
    .evidence(evidence)
    .system(tr.system);
    Some(if all_late { draft.at(latest) } else { draft })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::testing::{check_events, ev, with};

    fn critical(ts: &str) -> serde_json::Value {
        opened("i1", ts, json!({"severity": "critical"}))
    }

    #[test]
    fn dep06_example_critical_incident_still_active_two_days_later() {
        let events = [
            deployer_system(),
            deploy(
                "d1",
                "2026-09-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
            ),
            critical("2026-09-02T08:00:00Z"),
        ];
        let case = check_events(&events, &as_of(DEPLOYER, "2026-09-04T08:00:00Z"));
        assert_eq!(case.keys("DEP-06"), [k("incident:inc-1", "a|i1", "deny")]);
        let f = case.of("DEP-06")[0];
        assert_eq!(locs(f), [("d1", 2), ("i1", 3)]);
        assert!(
            f.message.contains("by 2026-09-03T08:00:00Z")
                && f.message.contains("`dep-7` still active"),
            "{}",
            f.message
        );
        // Past 72 h the notices are due too.
        let case = check_events(&events, &as_of(DEPLOYER, "2026-09-05T08:00:01Z"));
        assert_eq!(
            case.keys("DEP-06"),
            [
                k("incident:inc-1", "a|i1", "deny"),
                k("incident:inc-1", "b|i1", "deny")
            ]
        );

        let events = [
            deployer_system(),
            deploy(
                "d1",
                "2026-09-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
            ),
            critical("2026-09-02T08:00:00Z"),
            deploy("d2", "2026-09-02T20:00:00Z", "suspended", "dep-7", None),
            notified("n1", "2026-09-03T08:00:00Z", "provider", json!({})),
            notified("n2", "2026-09-04T08:00:00Z", "authority", json!({})),
        ];
        let case = check_events(&events, &as_of(DEPLOYER, "2026-09-30T00:00:00Z"));
        assert!(case.keys("DEP-06").is_empty(), "{:?}", case.keys("DEP-06"));
    }

    #[test]
    fn dep06_a_late_suspension_and_b_late_authority_notice() {
        let events = [
            deployer_system(),
            deploy(
                "d1",
                "2026-09-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
            ),
            critical("2026-09-02T08:00:00Z"),
            notified("n1", "2026-09-02T09:00:00Z", "provider", json!({})),
            deploy("d2", "2026-09-03T20:00:00Z", "stopped", "dep-7", None),
            notified("n2", "2026-09-06T08:00:00Z", "authority", json!({})),
        ];
        let case = check_events(&events, &as_of(DEPLOYER, "2026-09-30T00:00:00Z"));
        assert_eq!(
            case.keys("DEP-06"),
            [
                k("incident:inc-1", "a|i1", "deny"),
                k("incident:inc-1", "b|i1", "deny")
            ]
        );
        let a = case
            .of("DEP-06")
            .into_iter()
            .find(|f| f.discriminator == "a|i1")
            .unwrap();
        assert_eq!(locs(a), [("i1", 3), ("d2", 5)]);
        assert!(
            a.message
                .contains("stopped only 2026-09-03T20:00:00Z (12 h late)"),
            "{}",
            a.message
        );
        let b = case
            .of("DEP-06")
            .into_iter()
            .find(|f| f.discriminator == "b|i1")
            .unwrap();
        assert_eq!(locs(b), [("i1", 3), ("n2", 6)]);
        assert!(
            b.message
                .contains("authority informed only 2026-09-06T08:00:00Z by `n2` (1 d late)"),
            "{}",
            b.message
        );
    }

    #[test]
    fn dep06_severity_scope_and_alerts() {
        // A high (not critical) incident triggers nothing; with the param it does.
        let events = [
            deployer_system(),
            deploy(
                "d1",
                "2026-09-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
            ),
            opened("i1", "2026-09-02T08:00:00Z", json!({"severity": "high"})),
        ];
        let t = "2026-09-10T00:00:00Z";
        assert!(
            check_events(&events, &as_of(DEPLOYER, t))
                .keys("DEP-06")
                .is_empty()
        );
        let cfg = format!(
            "{DEPLOYER}[policy.params.DEP-06]\nrisk_severities = [\"high\", \"critical\"]\n"
        );
        assert_eq!(
            check_events(&events, &as_of(&cfg, t)).keys("DEP-06").len(),
            2
        );

        // An alert disposed of as suspended, on a deployment that keeps running.
        let alert = |disposition: &str| {
            with(
                ev(
                    "al1",
                    "2026-09-03T06:00:00Z",
                    "monitoring.alert",
                    "deployment:dep-7",
                    json!({"metric": "psi", "disposition": disposition}),
                ),
                "system",
                json!("credit"),
            )
        };
        let events = [
            deployer_system(),
            deploy(
                "d1",
                "2026-09-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
            ),
            alert("suspended"),
        ];
        let case = check_events(&events, &as_of(DEPLOYER, t));
        assert_eq!(
            case.keys("DEP-06"),
            [k("deployment:dep-7", "a|al1", "deny")]
        );
        assert_eq!(locs(case.of("DEP-06")[0]), [("d1", 2), ("al1", 3)]);
        let events = [
            deployer_system(),
            deploy(
                "d1",
                "2026-09-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
            ),
            alert("suspended"),
            deploy("d2", "2026-09-03T07:00:00Z", "suspended", "dep-7", None),
        ];
        assert!(
            check_events(&events, &as_of(DEPLOYER, t))
                .keys("DEP-06")
                .is_empty()
        );
        let events = [
            deployer_system(),
            deploy(
                "d1",
                "2026-09-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
            ),
            alert("remediated"),
        ];
        let case = check_events(&events, &as_of(DEPLOYER, t));
        assert!(case.keys("DEP-06").is_empty());
        assert!(matches!(
            case.status("DEP-06"),
            Some(crate::checks::Status::Evaluated)
        ));

        // A provider system is out of scope; no incident or alert at all is not evaluable.
        let events = [provider_system(), critical("2026-09-02T08:00:00Z")];
        assert!(not_applicable(&check_events(&events, DEPLOYER), "DEP-06"));
        assert!(not_evaluable(
            &check_events(&[deployer_system()], DEPLOYER),
            "DEP-06"
        ));
    }
}
