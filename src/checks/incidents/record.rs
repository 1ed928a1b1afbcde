//! INC-01 (linkage) and INC-02 (classification): what an incident's merged record must say.

use super::super::catalogue::{ParamKind, param};
use super::super::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use super::{Incident, opened_scope};
use crate::checks::ticks;
use crate::event::EntityType;

// --- INC-01 ---------------------------------------------------------------------------------

/// INC-01 Incident linkage.
pub struct Inc01;

static INC01: RuleMeta = RuleMeta {
    id: "INC-01",
    title: "Incident linkage",
    levels: "`warn`",
    basis: "D",
    sources: &[
        "AI Act Art. 12(2)(a), 73(6) [V]",
        "NIST AI RMF GOVERN 4.3, MANAGE 4.1, 4.3 [V]",
        "ISO/IEC 42001 A.8.4 [S]",
    ],
    needs: "`incident.opened`.",
    checks: "For every incident I (subject `incident:I`, attributes merged over its \
`incident.opened`, `.updated` and `.closed` in event order, a later present value replacing an \
earlier one): (a) `affects` names no `system`, `deployment` or `model_version` node; (b) \
`evidence` is missing. A reason (`attrs.reason`, the envelope `reason` or `rationale.summary`) on \
any event of I silences both.",
    why: "An incident must be traceable to the AI system, deployment or model version it \
concerns, and to the log events that show what happened: that is what lets the provider \
investigate, assess the risk and preserve the evidence, and what an authority asks for first.",
    example: "Fires: an incident opened with `affects: []`. Passes: `affects: \
[\"deployment:dep-7\"]`.",
    fix: "Record in `affects` the system, deployment or model version concerned, and in \
`evidence` the ids of the events that show the incident (an `incident.updated` adds them). If an \
incident concerns none of them or has no log evidence, say why in a `reason`.",
    not_checked: "Whether the linked nodes and events are the right ones. The incident page \
shows the evidence-set digest (SHA-256 of the sorted evidence ids joined by LF) and its time \
window.",
    params: &[],
};

/// Whether `affects` names a system, deployment or model version.
fn linked(inc: &Incident) -> bool {
    inc.affects().iter().any(|n| {
        matches!(
            n.entity_type(),
            Some(EntityType::System | EntityType::Deployment | EntityType::ModelVersion)
        )
    })
}

impl Rule for Inc01 {
    fn meta(&self) -> &'static RuleMeta {
        &INC01
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let incidents = match opened_scope(cx) {
            Ok(all) => all,
            Err(outcome) => return outcome,
        };
        let mut out = Vec::new();
        for inc in &incidents {
            let no_link = !linked(inc);
            let no_evidence = !inc.has("evidence");
            if !(no_link || no_evidence) || inc.any_reason(cx.model) {
                continue;
            }
            let draft = |check: &'static str, message: String, note: &str| {
                Draft::new(inc.subject(), check, check, Level::Warn, message)
                    .evidence(inc.record_evidence(cx, note))
                    .system(inc.system())
            };
            if no_link {
                let named = inc.affects();
                let found = if named.is_empty() {
                    "names nothing".to_string()
                } else {
                    let names: Vec<&str> = named.iter().map(|n| n.as_str()).collect();
                    format!("names only {}", ticks(&names))
                };
                out.push(draft(
                    "a",
                    format!(
                        "incident `{}`: `affects` {found}; expected a `system`, `deployment` or `model_version` node",
                        inc.id()
                    ),
                    "affects names no system, deployment or model version",
                ));
            }
            if no_evidence {
                out.push(draft(
                    "b",
                    format!(
                        "incident `{}` lists no `evidence` (ids of the events that show it)",
                        inc.id()
                    ),
                    "no evidence",
                ));
            }
        }
        Outcome::evaluated(out)
    }
}

// --- INC-02 ---------------------------------------------------------------------------------

/// INC-02 Incident classification.
pub struct Inc02;

static INC02: RuleMeta = RuleMeta {
    id: "INC-02",
    title: "Incident classification",
    levels: "`deny`",
    basis: "T",
    sources: &[
        "AI Act Art. 3(49) [S], 73(1)–(4) [V]",
        "NIST AI RMF MANAGE 4.3 [V]",
    ],
    needs: "`incident.opened` of a high-risk system (any system with `all_incidents`).",
    checks: "For every incident I of a high-risk system S(I) (every incident with \
`all_incidents = true`), on its merged attributes (subject `incident:I`): (a) `awareness_ts` or \
`serious` missing (an `awareness_ts` that is not a time counts as missing; awareness then falls \
back to the `incident.opened` time); (b) `serious = true` with `category` or `widespread` \
missing.",
    why: "The reporting deadlines of Art. 73 run from the moment the provider became aware of \
a serious incident, and their length depends on whether the incident is serious, widespread or \
involves a death or critical infrastructure. Without these fields no clock can be checked.",
    example: "Fires: `serious: true` without `category`. Passes: `category: \"health\"` (and \
`widespread` recorded).",
    fix: "Classify every incident of a high-risk system: record when you became aware \
(`awareness_ts`) and whether it is `serious`; for a serious incident its `category` (`death`, \
`health`, `critical_infrastructure`, `fundamental_rights`, `property`) and whether it is \
`widespread`. An `incident.updated` completes the record.",
    not_checked: "Member States affected (no field). The reporter's role is \
`system.registered.role`.",
    params: &[param("all_incidents", ParamKind::Bool, "false")],
};

impl Rule for Inc02 {
    fn meta(&self) -> &'static RuleMeta {
        &INC02
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let incidents = match opened_scope(cx) {
            Ok(all) => all,
            Err(outcome) => return outcome,
        };
        let all = cx.flag("all_incidents");
        let in_scope: Vec<&Incident> = incidents
            .iter()
            .filter(|i| all || cx.facts.high_risk(i.system()))
            .collect();
        if in_scope.is_empty() {
            return Outcome::not_evaluable("no incident of a high-risk system");
        }
        let mut out = Vec::new();
        for inc in in_scope {
            let draft = |check: &'static str, message: String, note: String| {
                Draft::new(inc.subject(), check, check, Level::Deny, message)
                    .evidence(inc.record_evidence(cx, &note))
                    .system(inc.system())
            };
            let mut lacking = Vec::new();
            if !inc.awareness_given {
                lacking.push("awareness_ts");
            }
            if !inc.has("serious") {
                lacking.push("serious");
            }
            if !lacking.is_empty() {
                let fallback = if inc.awareness_given {
                    String::new()
                } else {
                    format!(
                        "; awareness is taken as the opening time {}",
                        crate::time::fmt_second(inc.awareness)
                    )
                };
                let bad_time = if !inc.awareness_given && inc.has("awareness_ts") {
                    " (`awareness_ts` is not a time)"
                } else {
                    ""
                };
                out.push(draft(
                    "a",
                    format!(
                        "incident `{}` does not record {}{bad_time}{fallback}",
                        inc.id(),
                        ticks(&lacking)
                    ),
                    format!("no {}", lacking.join(", ")),
                ));
            }
            if inc.serious() {
                let lacking: Vec<&str> = ["category", "widespread"]
                    .into_iter()
                    .filter(|k| !inc.has(k))
                    .collect();
                if !lacking.is_empty() {
                    out.push(draft(
                        "b",
                        format!(
                            "serious incident `{}` does not record {}: the Art. 73 deadline depends on them",
                            inc.id(),
                            ticks(&lacking)
                        ),
                        format!("serious, no {}", lacking.join(", ")),
                    ));
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

    // --- INC-01 -----------------------------------------------------------------------------

    #[test]
    fn inc01_example_fires_on_empty_affects_and_passes_with_a_deployment() {
        let events = [opened(
            "i1",
            "2026-09-01T08:00:00Z",
            json!({"affects": [], "evidence": ["x1"]}),
        )];
        let case = check_events(&events, PROVIDER);
        assert_eq!(case.keys("INC-01"), [k("incident:inc-1", "a", "warn")]);
        assert_eq!(locs(case.of("INC-01")[0]), [("i1", 1)]);
        assert!(case.of("INC-01")[0].message.contains("names nothing"));

        let events = [opened(
            "i1",
            "2026-09-01T08:00:00Z",
            json!({"affects": ["deployment:dep-7"], "evidence": ["x1"]}),
        )];
        assert!(check_events(&events, PROVIDER).keys("INC-01").is_empty());
    }

    #[test]
    fn inc01_a_reads_node_types_and_b_fires_without_evidence() {
        let events = [
            opened(
                "i1",
                "2026-09-01T08:00:00Z",
                json!({"affects": ["dataset:loans@1"], "evidence": null}),
            ),
            updated("u1", "2026-09-02T08:00:00Z", json!({"severity": "low"})),
        ];
        let case = check_events(&events, PROVIDER);
        assert_eq!(
            case.keys("INC-01"),
            [
                k("incident:inc-1", "a", "warn"),
                k("incident:inc-1", "b", "warn")
            ]
        );
        let b = case
            .of("INC-01")
            .into_iter()
            .find(|f| f.discriminator == "b")
            .unwrap();
        assert_eq!(locs(b), [("i1", 1), ("u1", 2)]);
        assert!(case.of("INC-01")[0].message.contains("`dataset:loans@1`"));

        // A later update adds what was missing: merged state passes.
        let events = [
            opened(
                "i1",
                "2026-09-01T08:00:00Z",
                json!({"affects": ["dataset:loans@1"], "evidence": null}),
            ),
            updated(
                "u1",
                "2026-09-02T08:00:00Z",
                json!({"affects": ["model_version:m@1"], "evidence": ["x1"]}),
            ),
        ];
        assert!(check_events(&events, PROVIDER).keys("INC-01").is_empty());
    }

    #[test]
    fn inc01_a_reason_silences_both() {
        let events = [
            opened(
                "i1",
                "2026-09-01T08:00:00Z",
                json!({"affects": [], "evidence": null}),
            ),
            crate::testing::with(
                updated("u1", "2026-09-02T08:00:00Z", json!({})),
                "reason",
                json!("phishing report; no AI system involved"),
            ),
        ];
        assert!(check_events(&events, PROVIDER).keys("INC-01").is_empty());
    }

    #[test]
    fn inc01_is_not_evaluable_without_incident_opened() {
        let case = check_events(&[provider_system()], PROVIDER);
        assert!(not_evaluable(&case, "INC-01"));
    }

    // --- INC-02 -----------------------------------------------------------------------------

    #[test]
    fn inc02_example_serious_without_category() {
        let events = [
            provider_system(),
            opened(
                "i1",
                "2026-09-01T08:00:00Z",
                json!({"serious": true, "category": null, "widespread": false}),
            ),
        ];
        let case = check_events(&events, PROVIDER);
        assert_eq!(case.keys("INC-02"), [k("incident:inc-1", "b", "deny")]);
        assert_eq!(locs(case.of("INC-02")[0]), [("i1", 2)]);
        assert!(case.of("INC-02")[0].message.contains("`category`"));

        let events = [
            provider_system(),
            opened(
                "i1",
                "2026-09-01T08:00:00Z",
                json!({"serious": true, "category": "health", "widespread": false}),
            ),
        ];
        assert!(check_events(&events, PROVIDER).keys("INC-02").is_empty());
    }

    #[test]
    fn inc02_a_fires_without_awareness_or_serious() {
        let events = [
            provider_system(),
            opened(
                "i1",
                "2026-09-01T08:00:00Z",
                json!({"awareness_ts": null, "serious": null}),
            ),
        ];
        let case = check_events(&events, PROVIDER);
        assert_eq!(case.keys("INC-02"), [k("incident:inc-1", "a", "deny")]);
        let m = &case.of("INC-02")[0].message;
        assert!(
            m.contains("`awareness_ts`, `serious`") && m.contains("2026-09-01T08:00:00Z"),
            "{m}"
        );
        assert_eq!(locs(case.of("INC-02")[0]), [("i1", 2)]);
        // `serious: false` is present.
        let events = [
            provider_system(),
            opened("i1", "2026-09-01T08:00:00Z", json!({"serious": false})),
        ];
        assert!(check_events(&events, PROVIDER).keys("INC-02").is_empty());
    }

    #[test]
    fn inc02_scope_is_high_risk_unless_all_incidents() {
        let events = [
            system("other", "provider", "minimal"),
            crate::testing::with(
                opened("i1", "2026-09-01T08:00:00Z", json!({"serious": null})),
                "system",
                json!("other"),
            ),
        ];
        let case = check_events(&events, PROVIDER);
        assert!(case.keys("INC-02").is_empty());
        assert!(matches!(
            case.status("INC-02"),
            Some(crate::checks::Status::NotEvaluable(_))
        ));
        let all = format!("{PROVIDER}[policy.params.INC-02]\nall_incidents = true\n");
        assert_eq!(
            check_events(&events, &all).keys("INC-02"),
            [k("incident:inc-1", "a", "deny")]
        );
        assert!(not_evaluable(
            &check_events(&[provider_system()], PROVIDER),
            "INC-02"
        ));
    }
}
