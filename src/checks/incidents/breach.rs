//! INC-06 (personal-data breach): the GDPR Art. 33 notice within 72 hours of awareness, and the
//! Art. 33(5) documentation of a closed breach.

use super::super::catalogue::{ParamKind, param};
use super::super::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use super::{Clock, Incident, clock, inc_ts, late_phrase, limit, overdue_phrase};
use crate::checks::ticks;
use crate::event::present;
use crate::time::{self, fmt_second};

/// INC-06 Personal-data breach.
pub struct Inc06;

static INC06: RuleMeta = RuleMeta {
    id: "INC-06",
    title: "Personal-data breach",
    levels: "`deny`; (b) late with reasons `warn`",
    basis: "T",
    sources: &["GDPR Art. 33(1), 33(5) [S]"],
    needs: "incidents with `personal_data_breach = true` (schema addition \
`incident.*.attrs.personal_data_breach`, bool). Not evaluable when no incident records the \
field at all.",
    checks: "For every incident I whose merged `personal_data_breach = true` (subject \
`incident:I`): (a) closed (its latest `incident.closed`, attributes merged up to it) with \
`affects`, `root_cause` or `corrective_actions` missing; (b) no `incident.notified` with \
`recipient = \"supervisory_authority\"` within `notify_within` of awareness, unless an event of \
I has `rationale.reason_codes` containing `no_risk_code`. A late notice that carries a reason \
is `warn`; a late notice without one, or none at all once the deadline has passed, is `deny`.",
    why: "GDPR Art. 33(1) requires the controller to notify a personal-data breach to the \
supervisory authority without undue delay and, where feasible, within 72 hours of becoming aware \
of it, unless it is unlikely to result in a risk; a later notification must give the reasons for \
the delay. Art. 33(5) requires every breach to be documented: its facts, effects and the remedial \
action taken.",
    example: "Fires: breach aware Mon 09:00, notice Fri 10:00 without reason. Passes: notice \
by Thu 09:00.",
    fix: "Notify the supervisory authority (`incident.notified` with `recipient: \
\"supervisory_authority\"`) within 72 hours of awareness; if late, give the reasons for the \
delay in the notice (`reason`). If the breach is unlikely to result in a risk, record that \
assessment with the reason code (`rationale.reason_codes`). Close breaches with `affects`, \
`root_cause` and `corrective_actions`.",
    not_checked: "Whether the breach was in fact unlikely to result in a risk, and the \
notification's content (Art. 33(3)); communication to data subjects (Art. 34).",
    params: &[
        param("notify_within", ParamKind::Duration, "\"72 h\""),
        param("no_risk_code", ParamKind::Str, "\"unlikely_risk\""),
    ],
};

/// Whether an event of I carries `code` in `rationale.reason_codes`.
pub(crate) fn has_reason_code(cx: &Cx<'_>, inc: &Incident, code: &str) -> Option<u32> {
    inc.events.iter().copied().find(|&i| {
        let e = cx.model.event(i);
        e.rationale_raw().is_some()
            && e.rationale()
                .get("reason_codes")
                .and_then(|v| v.as_array())
                .is_some_and(|codes| codes.iter().any(|c| c.as_str() == Some(code)))
    })
}

impl Rule for Inc06 {
    fn meta(&self) -> &'static RuleMeta {
        &INC06
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let incidents = super::incidents(cx.model, cx.facts);
        if incidents.is_empty() {
            return Outcome::not_evaluable("no incident event");
        }
        if !incidents.iter().any(|i| {
            i.parts
                .iter()
                .any(|a| present(a.get("personal_data_breach")))
        }) {
            return Outcome::not_evaluable("no incident records `personal_data_breach`");
        }
        let in_scope: Vec<&Incident> = incidents
            .iter()
            .filter(|i| i.flag("personal_data_breach") == Some(true))
            .collect();
        if in_scope.is_empty() {
            return Outcome::not_evaluable("no incident is a personal-data breach");
        }
        let notify_within = limit(cx, "notify_within");
        let no_risk_code = cx.string("no_risk_code");
        let t = cx.as_of();
        let mut out = Vec::new();
        for inc in in_scope {
            let draft = |check: &'static str, level: Level, message: String| {
                Draft::new(inc.subject(), check, check, level, message).system(inc.system())
            };
            if let Some((closed, attrs)) = inc.closure(cx.model) {
                let lacking: Vec<&str> = ["affects", "root_cause", "corrective_actions"]
                    .into_iter()
                    .filter(|k| !present(attrs.get(*k)))
                    .collect();
                if !lacking.is_empty() {
                    let e = cx.model.event(closed);
                    out.push(
                        draft(
                            "a",
                            Level::Deny,
                            format!(
                                "personal-data breach `{}` closed on {} without {} (Art. 33(5) documentation)",
                                inc.id(),
                                fmt_second(e.ts),
                                ticks(&lacking)
                            ),
                        )
                        .evidence([cx.ev(e, Some(format!("closed; no {}", lacking.join(", "))))])
                        .at(e.ts),
                    );
                }
            }
            if has_reason_code(cx, inc, &no_risk_code).is_some() {
                continue;
            }
            let deadline = notify_within.after(inc.awareness);
            let head = format!(
                "personal-data breach `{}` ({}): notice to the supervisory authority due within {notify_within}",
                inc.id(),
                inc.awareness_phrase()
            );
            let aware = inc.awareness_evidence(cx);
            match clock(inc.first_notice("supervisory_authority"), deadline, t) {
                Clock::Met | Clock::Running => {}
                Clock::Late(n) => {
                    let e = cx.model.event(n.event);
                    let why = super::super::facts::reason(e);
                    let (level, tail) = match &why {
                        Some(r) => (
                            Level::Warn,
                            format!("; reasons for the delay given: \"{}\"", time::clip(r, 80)),
                        ),
                        None => (
                            Level::Deny,
                            "; the notice gives no reasons for the delay".to_string(),
                        ),
                    };
                    out.push(
                        draft(
                            "b",
                            level,
                            format!(
                                "{head}; {}{tail}",
                                late_phrase("first notice", n, cx, deadline)
                            ),
                        )
                        .evidence([aware, cx.ev(e, Some("late notice".into()))])
                        .at(n.ts.max(inc_ts(cx, inc))),
                    );
                }
                Clock::Overdue => out.push(
                    draft(
                        "b",
                        Level::Deny,
                        format!(
                            "{head}; {}; if the breach is unlikely to result in a risk, record reason code `{no_risk_code}`",
                            overdue_phrase("notice", deadline, t)
                        ),
                    )
                    .evidence([aware]),
                ),
            }
        }
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::testing::{check_events, with};

    /// Breach aware Monday 2026-03-02 09:00.
    fn breach(extra: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
        let mut v = vec![opened(
            "i1",
            "2026-03-02T09:00:00Z",
            json!({"personal_data_breach": true}),
        )];
        v.extend(extra);
        v
    }

    #[test]
    fn inc06_example_friday_notice_without_reason() {
        let events = breach(vec![notified(
            "n1",
            "2026-03-06T10:00:00Z",
            "supervisory_authority",
            json!({}),
        )]);
        let case = check_events(&events, GDPR);
        assert_eq!(case.keys("INC-06"), [k("incident:inc-1", "b", "deny")]);
        let f = case.of("INC-06")[0];
        assert_eq!(locs(f), [("i1", 1), ("n1", 2)]);
        assert!(
            f.message
                .contains("1 d 1 h after the deadline 2026-03-05T09:00:00Z"),
            "{}",
            f.message
        );
        let events = breach(vec![notified(
            "n1",
            "2026-03-05T09:00:00Z",
            "supervisory_authority",
            json!({}),
        )]);
        assert!(check_events(&events, GDPR).keys("INC-06").is_empty());
    }

    #[test]
    fn inc06_b_late_with_reason_is_warn_none_is_deny_and_no_risk_exempts() {
        let late = with(
            notified(
                "n1",
                "2026-03-06T10:00:00Z",
                "supervisory_authority",
                json!({}),
            ),
            "reason",
            json!("forensics needed to establish the scope"),
        );
        let case = check_events(&breach(vec![late]), GDPR);
        assert_eq!(case.keys("INC-06"), [k("incident:inc-1", "b", "warn")]);

        let case = check_events(&breach(vec![]), &as_of(GDPR, "2026-03-05T09:00:00Z"));
        assert!(case.keys("INC-06").is_empty(), "clock running");
        let case = check_events(&breach(vec![]), &as_of(GDPR, "2026-03-06T09:00:00Z"));
        assert_eq!(case.keys("INC-06"), [k("incident:inc-1", "b", "deny")]);
        let f = case.of("INC-06")[0];
        assert!(
            f.message.contains("within 72 h")
                && f.message.contains("due 2026-03-05T09:00:00Z, 1 d overdue"),
            "{}",
            f.message
        );
        assert_eq!(locs(f), [("i1", 1)]);

        let assessed = with(
            updated("u1", "2026-03-03T09:00:00Z", json!({})),
            "rationale",
            json!({"reason_codes": ["unlikely_risk"]}),
        );
        let case = check_events(
            &breach(vec![assessed]),
            &as_of(GDPR, "2026-03-09T09:00:00Z"),
        );
        assert!(case.keys("INC-06").is_empty());
    }

    #[test]
    fn inc06_a_closed_without_documentation() {
        let notice = notified(
            "n1",
            "2026-03-03T09:00:00Z",
            "supervisory_authority",
            json!({}),
        );
        let events = breach(vec![
            notice.clone(),
            closed("c1", "2026-03-10T09:00:00Z", json!({"root_cause": null})),
        ]);
        let case = check_events(&events, GDPR);
        assert_eq!(case.keys("INC-06"), [k("incident:inc-1", "a", "deny")]);
        assert_eq!(locs(case.of("INC-06")[0]), [("c1", 3)]);
        assert!(case.of("INC-06")[0].message.contains("`root_cause`"));
        // The root cause recorded by an earlier update counts.
        let events = breach(vec![
            notice,
            updated(
                "u1",
                "2026-03-04T09:00:00Z",
                json!({"root_cause": "misconfigured bucket"}),
            ),
            closed("c1", "2026-03-10T09:00:00Z", json!({"root_cause": null})),
        ]);
        assert!(check_events(&events, GDPR).keys("INC-06").is_empty());
    }

    #[test]
    fn inc06_needs_the_breach_flag() {
        let none = [opened(
            "i1",
            "2026-03-02T09:00:00Z",
            json!({"personal_data_breach": null}),
        )];
        assert!(not_evaluable(&check_events(&none, GDPR), "INC-06"));
        let no = [opened("i1", "2026-03-02T09:00:00Z", json!({}))];
        assert!(not_evaluable(&check_events(&no, GDPR), "INC-06"));
    }
}
