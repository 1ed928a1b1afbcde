//! INC-03 (serious-incident clocks) and INC-05 (deployer informs provider): reporting deadlines
//! computed from the incident's awareness.

use super::super::catalogue::{ParamKind, param};
use super::super::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use super::{
    Clock, INC03_IMMEDIATE, Incident, art73_deadline, clock, inc_ts, inc03_immediate, late_phrase,
    limit, notice_evidence, opened_scope, overdue_phrase,
};
use crate::time::{fmt_second, fmt_span};

// --- INC-03 ---------------------------------------------------------------------------------

/// INC-03 Serious-incident clocks.
pub struct Inc03;

static INC03: RuleMeta = RuleMeta {
    id: "INC-03",
    title: "Serious-incident clocks",
    levels: "`deny`; (c) `info`; (d) `warn`",
    basis: "T (tolerances D)",
    sources: &["AI Act Art. 73(2)–(5) [V]", "NIST AI RMF MANAGE 4.3 [V]"],
    needs: "`incident.opened` with `serious = true` in a provider(S) system (also deployer(S) \
with `deployer_clocks`).",
    checks: "For every serious incident I (merged `serious = true`) of a provider system \
(subject `incident:I`). Limit: 2 days if `widespread = true` or `category = \
\"critical_infrastructure\"`; else 10 days if `category = \"death\"`; else 15 days. Deadline = \
awareness + limit, or `causal_link_ts` + `immediate` when earlier; days are 24-hour periods. \
First report = the earliest `incident.notified` of I with `recipient = \"authority\"`. (a) the \
first report came after the deadline; (b) no first report and T is past the deadline; (c) no \
first report yet and the deadline is still ahead: the running clock, with the deadline and the \
time left; (d) the first report is `initial` and no `complete` report to the authority followed \
within `complete_within` of it, T past that.",
    why: "Art. 73 obliges providers of high-risk AI systems to report a serious incident to the \
market surveillance authority immediately after establishing a causal link, and at the latest \
15 days after becoming aware of it (10 days for a death, 2 days for a widespread infringement or \
a serious disruption of critical infrastructure). An initial incomplete report must be \
completed.",
    example: "Fires: `category: \"death\"`, `awareness_ts` 2026-03-01T08:00Z, authority \
notified 2026-03-12. Passes: notified by 2026-03-11T08:00Z.",
    fix: "Notify the authority (`incident.notified` with `recipient: \"authority\"`) before the \
deadline the finding states; when the first report is `initial`, follow it with a `complete` \
report. Record `awareness_ts` and, once established, `causal_link_ts` as they happened.",
    not_checked: "The content of the reports and whether the authority was the competent one. \
Days count as 24-hour periods from awareness (our reading).",
    params: &[
        param("immediate", ParamKind::Duration, INC03_IMMEDIATE),
        param("complete_within", ParamKind::Duration, "\"30 days\""),
        param("deployer_clocks", ParamKind::Bool, "false"),
    ],
};

impl Rule for Inc03 {
    fn meta(&self) -> &'static RuleMeta {
        &INC03
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let incidents = match opened_scope(cx) {
            Ok(all) => all,
            Err(outcome) => return outcome,
        };
        let deployer_clocks = cx.flag("deployer_clocks");
        let in_scope: Vec<&Incident> = incidents
            .iter()
            .filter(|i| i.serious())
            .filter(|i| {
                cx.facts.provider(i.system()) || (deployer_clocks && cx.facts.deployer(i.system()))
            })
            .collect();
        if in_scope.is_empty() {
            // The rule needs such incidents (RULES.md INC-03 "Needs"); without one it cannot
            // say whether clocks are kept.
            return Outcome::not_evaluable(if deployer_clocks {
                "no serious incident of a provider or deployer system"
            } else {
                "no serious incident of a provider system"
            });
        }
        let immediate = limit(cx, "immediate");
        let complete_within = limit(cx, "complete_within");
        let t = cx.as_of();
        let mut out = Vec::new();
        for inc in in_scope {
            let (deadline, how) = art73_deadline(inc, &immediate);
            let first = inc.first_notice("authority");
            let aware = inc.awareness_evidence(cx);
            let draft = |check: &'static str, level: Level, message: String| {
                Draft::new(inc.subject(), check, check, level, message).system(inc.system())
            };
            let head = format!(
                "serious incident `{}` ({})",
                inc.id(),
                inc.awareness_phrase()
            );
            match clock(first, deadline, t) {
                Clock::Met => {}
                Clock::Late(n) => out.push(
                    draft(
                        "a",
                        Level::Deny,
                        format!(
                            "{head}: {} ({how})",
                            late_phrase("first report to the authority", n, cx, deadline)
                        ),
                    )
                    .evidence([aware.clone(), notice_evidence(cx, n, "first report, late")])
                    .at(n.ts.max(inc_ts(cx, inc))),
                ),
                Clock::Overdue => out.push(
                    draft(
                        "b",
                        Level::Deny,
                        format!(
                            "{head}: {} ({how})",
                            overdue_phrase("report to the authority", deadline, t)
                        ),
                    )
                    .evidence([aware.clone()]),
                ),
                Clock::Running => out.push(
                    draft(
                        "c",
                        Level::Info,
                        format!(
                            "{head}: report to the authority due {}, {} left ({how})",
                            fmt_second(deadline),
                            fmt_span(t, deadline)
                        ),
                    )
                    .evidence([aware.clone()]),
                ),
            }
            if let Some(n) = first
                && n.report_type.as_deref() == Some("initial")
            {
                let due = complete_within.after(n.ts);
                let complete = inc.notices.iter().find(|c| {
                    c.recipient.as_deref() == Some("authority")
                        && c.report_type.as_deref() == Some("complete")
                        && c.ts >= n.ts
                });
                let initial = notice_evidence(cx, n, "initial report");
                let what = format!(
                    "serious incident `{}`: initial report `{}` to the authority on {}",
                    inc.id(),
                    cx.model.event(n.event).id,
                    fmt_second(n.ts)
                );
                match complete {
                    Some(c) if c.ts <= due => {}
                    Some(c) => out.push(
                        draft(
                            "d",
                            Level::Warn,
                            format!(
                                "{what}; {} ({complete_within} after the initial report)",
                                late_phrase("complete report", c, cx, due)
                            ),
                        )
                        .evidence([initial, notice_evidence(cx, c, "complete report, late")])
                        .at(c.ts),
                    ),
                    None if t > due => out.push(
                        draft(
                            "d",
                            Level::Warn,
                            format!(
                                "{what}; {} ({complete_within} after the initial report)",
                                overdue_phrase("complete report", due, t)
                            ),
                        )
                        .evidence([initial]),
                    ),
                    None => {}
                }
            }
        }
        Outcome::evaluated(out)
    }
}

// --- INC-05 ---------------------------------------------------------------------------------

/// INC-05 Deployer informs provider.
pub struct Inc05;

static INC05: RuleMeta = RuleMeta {
    id: "INC-05",
    title: "Deployer informs provider",
    levels: "`deny`",
    basis: "T (tolerance D)",
    sources: &["AI Act Art. 26(5) [V]"],
    needs: "`incident.opened` with `serious = true` in a deployer(S) system.",
    checks: "For every serious incident I (merged `serious = true`) of a deployer system \
(subject `incident:I`): (a) no `incident.notified` with `recipient = \"provider\"` within \
`immediate` of awareness; (b) no `incident.notified` with `recipient = \"authority\"` by the \
INC-03 deadline (computed with INC-03's `immediate`). A clock still running at T fires nothing.",
    why: "A deployer that identifies a serious incident must immediately inform first the \
provider, and then the importer or distributor and the market surveillance authority (Art. \
26(5)); the provider's own Art. 73 clock depends on it.",
    example: "Fires: provider told 3 days after awareness. Passes: within 24 h.",
    fix: "Inform the provider (`incident.notified` with `recipient: \"provider\"`) within \
`immediate` of becoming aware, and the authority (`recipient: \"authority\"`) before the Art. 73 \
deadline.",
    not_checked: "Notices to importers and distributors (no recipient value for them).",
    params: &[param("immediate", ParamKind::Duration, "\"24 h\"")],
};

impl Rule for Inc05 {
    fn meta(&self) -> &'static RuleMeta {
        &INC05
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let incidents = match opened_scope(cx) {
            Ok(all) => all,
            Err(outcome) => return outcome,
        };
        let in_scope: Vec<&Incident> = incidents
            .iter()
            .filter(|i| i.serious() && cx.facts.deployer(i.system()))
            .collect();
        if in_scope.is_empty() {
            return Outcome::not_evaluable("no serious incident of a deployer system");
        }
        let immediate = limit(cx, "immediate");
        let art73 = inc03_immediate(cx);
        let t = cx.as_of();
        let mut out = Vec::new();
        for inc in in_scope {
            let head = format!(
                "serious incident `{}` ({})",
                inc.id(),
                inc.awareness_phrase()
            );
            let aware = inc.awareness_evidence(cx);
            let checks = [
                (
                    "a",
                    "provider",
                    immediate.after(inc.awareness),
                    format!("{immediate} after awareness"),
                ),
                {
                    let (deadline, how) = art73_deadline(inc, &art73);
                    (
                        "b",
                        "authority",
                        deadline,
                        format!("INC-03 deadline: {how}"),
                    )
                },
            ];
            for (check, recipient, deadline, how) in checks {
                let draft = |message: String| {
                    Draft::new(inc.subject(), check, check, Level::Deny, message)
                        .system(inc.system())
                };
                match clock(inc.first_notice(recipient), deadline, t) {
                    Clock::Met | Clock::Running => {}
                    Clock::Late(n) => out.push(
                        draft(format!(
                            "{head}: {} ({how})",
                            late_phrase(
                                &format!("first notice to the {recipient}"),
                                n,
                                cx,
                                deadline
                            )
                        ))
                        .evidence([aware.clone(), notice_evidence(cx, n, "late notice")])
                        .at(n.ts.max(inc_ts(cx, inc))),
                    ),
                    Clock::Overdue => out.push(
                        draft(format!(
                            "{head}: {} ({how})",
                            overdue_phrase(&format!("notice to the {recipient}"), deadline, t)
                        ))
                        .evidence([aware.clone()]),
                    ),
                }
            }
        }
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::testing::check_events;

    /// The provider pack in force from 2026-01-01, so March fixtures are `deny`.
    fn provider_from_jan() -> String {
        format!("{PROVIDER}[policy.pack.eu-ai-act-provider]\neffective_from = \"2026-01-01\"\n")
    }

    fn death(ts: &str) -> serde_json::Value {
        opened(
            "i1",
            ts,
            json!({"serious": true, "category": "death", "widespread": false,
                   "awareness_ts": "2026-03-01T08:00:00Z"}),
        )
    }

    // --- INC-03 -----------------------------------------------------------------------------

    #[test]
    fn inc03_example_a_late_report_and_the_passing_change() {
        let events = [
            provider_system(),
            death("2026-03-01T09:00:00Z"),
            notified(
                "n1",
                "2026-03-12T00:00:00Z",
                "authority",
                json!({"report_type": "complete"}),
            ),
        ];
        let case = check_events(&events, &provider_from_jan());
        assert_eq!(case.keys("INC-03"), [k("incident:inc-1", "a", "deny")]);
        let f = case.of("INC-03")[0];
        assert_eq!(locs(f), [("i1", 2), ("n1", 3)]);
        assert!(
            f.message.contains("2026-03-11T08:00:00Z") && f.message.contains("16 h after"),
            "{}",
            f.message
        );
        // Before the pack's effective date the late report is information.
        let case = check_events(&events, PROVIDER);
        assert_eq!(case.keys("INC-03"), [k("incident:inc-1", "a", "info")]);

        let mut events = events;
        events[2] = notified(
            "n1",
            "2026-03-11T08:00:00Z",
            "authority",
            json!({"report_type": "complete"}),
        );
        assert!(
            check_events(&events, &provider_from_jan())
                .keys("INC-03")
                .is_empty()
        );
    }

    #[test]
    fn inc03_b_overdue_and_c_running_clock_state_the_deadline() {
        let events = [provider_system(), death("2026-03-01T09:00:00Z")];
        let case = check_events(
            &events,
            &as_of(&provider_from_jan(), "2026-03-08T04:00:00Z"),
        );
        assert_eq!(case.keys("INC-03"), [k("incident:inc-1", "c", "info")]);
        let f = case.of("INC-03")[0];
        assert!(
            f.message.contains("due 2026-03-11T08:00:00Z, 3 d 4 h left"),
            "{}",
            f.message
        );
        assert_eq!(locs(f), [("i1", 2)]);

        let case = check_events(
            &events,
            &as_of(&provider_from_jan(), "2026-03-13T08:00:00Z"),
        );
        assert_eq!(case.keys("INC-03"), [k("incident:inc-1", "b", "deny")]);
        let f = case.of("INC-03")[0];
        assert!(
            f.message.contains("due 2026-03-11T08:00:00Z, 2 d overdue"),
            "{}",
            f.message
        );
        assert_eq!(locs(f), [("i1", 2)]);
    }

    #[test]
    fn inc03_limits_and_the_causal_link() {
        let run = |attrs: serde_json::Value, t: &str| {
            let events = [
                provider_system(),
                opened("i1", "2026-03-01T08:00:00Z", attrs),
            ];
            check_events(&events, &as_of(&provider_from_jan(), t)).keys("INC-03")
        };
        let serious = |extra: serde_json::Value| {
            let mut a = json!({"serious": true, "category": "health", "widespread": false});
            for (k, v) in extra.as_object().unwrap() {
                a[k] = v.clone();
            }
            a
        };
        // 15 days by default.
        assert_eq!(run(serious(json!({})), "2026-03-16T08:00:00Z")[0].1, "c");
        assert_eq!(run(serious(json!({})), "2026-03-16T08:00:01Z")[0].1, "b");
        // 2 days when widespread or critical infrastructure.
        assert_eq!(
            run(serious(json!({"widespread": true})), "2026-03-03T08:00:01Z")[0].1,
            "b"
        );
        assert_eq!(
            run(
                serious(json!({"category": "critical_infrastructure"})),
                "2026-03-03T08:00:00Z"
            )[0]
            .1,
            "c"
        );
        // The causal link + 24 h when earlier.
        let linked = serious(json!({"causal_link_ts": "2026-03-02T00:00:00Z"}));
        assert_eq!(run(linked.clone(), "2026-03-03T00:00:00Z")[0].1, "c");
        assert_eq!(run(linked, "2026-03-03T00:00:01Z")[0].1, "b");
        // Not serious: the serious incidents the rule needs are absent.
        let events = [
            provider_system(),
            opened("i1", "2026-03-01T08:00:00Z", json!({})),
        ];
        let case = check_events(&events, PROVIDER);
        assert!(not_evaluable(&case, "INC-03"));
        assert!(not_evaluable(
            &check_events(&[provider_system()], PROVIDER),
            "INC-03"
        ));
    }

    #[test]
    fn inc03_scope_is_provider_unless_deployer_clocks() {
        let events = [deployer_system(), death("2026-03-01T09:00:00Z")];
        let t = "2026-03-20T00:00:00Z";
        assert!(
            check_events(&events, &as_of(&provider_from_jan(), t))
                .keys("INC-03")
                .is_empty()
        );
        let cfg = format!(
            "{}[policy.params.INC-03]\ndeployer_clocks = true\n",
            provider_from_jan()
        );
        assert_eq!(
            check_events(&events, &as_of(&cfg, t)).keys("INC-03"),
            [k("incident:inc-1", "b", "deny")]
        );
    }

    #[test]
    fn inc03_d_initial_report_needs_a_complete_one() {
        let initial = notified(
            "n1",
            "2026-03-05T00:00:00Z",
            "authority",
            json!({"report_type": "initial"}),
        );
        let events = [
            provider_system(),
            death("2026-03-01T09:00:00Z"),
            initial.clone(),
        ];
        let case = check_events(
            &events,
            &as_of(&provider_from_jan(), "2026-04-05T00:00:00Z"),
        );
        assert_eq!(case.keys("INC-03"), [k("incident:inc-1", "d", "warn")]);
        let f = case.of("INC-03")[0];
        assert_eq!(locs(f), [("n1", 3)]);
        assert!(
            f.message.contains("due 2026-04-04T00:00:00Z, 1 d overdue"),
            "{}",
            f.message
        );
        // Still within 30 days: nothing.
        let case = check_events(
            &events,
            &as_of(&provider_from_jan(), "2026-04-04T00:00:00Z"),
        );
        assert!(case.keys("INC-03").is_empty());
        // A complete report in time passes; a late one fires with its time.
        let complete =
            |ts: &str| notified("n2", ts, "authority", json!({"report_type": "complete"}));
        let ok = [
            provider_system(),
            death("2026-03-01T09:00:00Z"),
            initial.clone(),
            complete("2026-04-01T00:00:00Z"),
        ];
        assert!(
            check_events(&ok, &as_of(&provider_from_jan(), "2026-05-01T00:00:00Z"))
                .keys("INC-03")
                .is_empty()
        );
        let late = [
            provider_system(),
            death("2026-03-01T09:00:00Z"),
            initial,
            complete("2026-04-10T00:00:00Z"),
        ];
        let case = check_events(&late, &as_of(&provider_from_jan(), "2026-05-01T00:00:00Z"));
        assert_eq!(case.keys("INC-03"), [k("incident:inc-1", "d", "warn")]);
        assert_eq!(locs(case.of("INC-03")[0]), [("n1", 3), ("n2", 4)]);
    }

    // --- INC-05 -----------------------------------------------------------------------------

    fn serious_deployer(extra: serde_json::Value) -> Vec<serde_json::Value> {
        let mut v = vec![
            deployer_system(),
            opened(
                "i1",
                "2026-09-01T09:00:00Z",
                json!({"serious": true, "category": "health", "widespread": false}),
            ),
        ];
        if let Some(extra) = extra.as_array() {
            v.extend(extra.iter().cloned());
        }
        v
    }

    #[test]
    fn inc05_example_provider_told_three_days_later() {
        let events = serious_deployer(json!([
            notified("n1", "2026-09-04T09:00:00Z", "provider", json!({})),
            notified("n2", "2026-09-05T09:00:00Z", "authority", json!({})),
        ]));
        let case = check_events(&events, DEPLOYER);
        assert_eq!(case.keys("INC-05"), [k("incident:inc-1", "a", "deny")]);
        let f = case.of("INC-05")[0];
        assert_eq!(locs(f), [("i1", 2), ("n1", 3)]);
        assert!(
            f.message
                .contains("2 d after the deadline 2026-09-02T09:00:00Z"),
            "{}",
            f.message
        );

        let events = serious_deployer(json!([
            notified("n1", "2026-09-02T09:00:00Z", "provider", json!({})),
            notified("n2", "2026-09-05T09:00:00Z", "authority", json!({})),
        ]));
        assert!(check_events(&events, DEPLOYER).keys("INC-05").is_empty());
    }

    #[test]
    fn inc05_b_authority_by_the_inc03_deadline() {
        let events = serious_deployer(json!([notified(
            "n1",
            "2026-09-01T10:00:00Z",
            "provider",
            json!({})
        ),]));
        // Running: nothing yet.
        let case = check_events(&events, &as_of(DEPLOYER, "2026-09-16T09:00:00Z"));
        assert!(case.keys("INC-05").is_empty());
        let case = check_events(&events, &as_of(DEPLOYER, "2026-09-17T09:00:00Z"));
        assert_eq!(case.keys("INC-05"), [k("incident:inc-1", "b", "deny")]);
        let f = case.of("INC-05")[0];
        assert!(
            f.message.contains("due 2026-09-16T09:00:00Z, 1 d overdue"),
            "{}",
            f.message
        );
        assert_eq!(locs(f), [("i1", 2)]);
        // The INC-03 `immediate` shortens it when a causal link is recorded.
        let mut events = events;
        events.push(updated(
            "u1",
            "2026-09-02T00:00:00Z",
            json!({"causal_link_ts": "2026-09-02T00:00:00Z"}),
        ));
        let cfg = format!("{DEPLOYER}[policy.params.INC-03]\nimmediate = \"48 h\"\n");
        let case = check_events(&events, &as_of(&cfg, "2026-09-04T00:00:01Z"));
        assert_eq!(case.keys("INC-05"), [k("incident:inc-1", "b", "deny")]);
        let case = check_events(&events, &as_of(&cfg, "2026-09-04T00:00:00Z"));
        assert!(case.keys("INC-05").is_empty());
    }

    #[test]
    fn inc05_scope() {
        let events = [
            provider_system(),
            opened("i1", "2026-09-01T09:00:00Z", json!({"serious": true})),
        ];
        assert!(not_evaluable(&check_events(&events, DEPLOYER), "INC-05"));
        assert!(not_evaluable(
            &check_events(&[deployer_system()], DEPLOYER),
            "INC-05"
        ));
    }
}
