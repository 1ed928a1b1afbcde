//! MOD-04 (limitations, input spec, oversight, instructions) and MOD-05 (inventory completeness).
//!
//! Both read each version's latest `model.registered`. MOD-04 looks at the versions in production
//! (deployed(V)); MOD-05 at every registered version not retired, or retired within
//! `recently_retired` before T. Discriminators are the check letter alone.

use super::super::catalogue::{ParamKind, param};
use super::super::facts::entities_of;
use super::super::models::{deployed_scope, missing, prod_evidence};
use super::super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use super::{in_use_evidence, registration, serving_at_t, version_events};
use crate::checks::ticks;
use crate::event::{EntityType, NodeId, present};
use crate::time;

// --- MOD-04 ---------------------------------------------------------------------------------

/// MOD-04 Limitations, input spec, oversight, instructions.
pub struct Mod04;

const DOCUMENTED: [&str; 3] = ["limitations", "input_spec", "oversight_measures"];

static MOD04: RuleMeta = RuleMeta {
    id: "MOD-04",
    title: "Limitations, input spec, oversight, instructions",
    levels: "`warn`",
    basis: "T",
    sources: &[
        "AI Act Art. 13(3)(b)(d), 14(3), Annex IV 2(e), 3 [V]",
        "SR 11-7 documentation [V]",
        "PRA SS1/23 P3 [V]",
        "NIST AI RMF MAP 2.2, MEASURE 2.9 [V]",
        "ISO/IEC 42001 A.6.2.7 [S]",
    ],
    needs: "`deployment.started`. Scope: model versions served by a production deployment at \
some time up to the as-of time.",
    checks: "For every model version V in production (subject `model_version:V`, read from its \
latest `model.registered`): (a) `limitations`, `input_spec` or `oversight_measures` missing; \
(b) when V's system S is high-risk: no `instructions_for_use` document effective at first_prod(V) \
(the first time a production deployment served V) that describes `model_version:V` or \
`system:S`.",
    why: "Those who run a model and those who oversee its output must know what it cannot do, \
what input it expects and which human oversight it relies on; for a high-risk system the \
instructions for use must exist before the system is put into service, not after.",
    example: "Fires: `credit-risk@1.4.0` in production without `limitations`. Passes: added by a \
correcting registration.",
    fix: "Complete the registration with a correcting `model.registered` (`supersedes`, \
`reason`) that carries `limitations`, `input_spec` and `oversight_measures`. For a high-risk \
system, register the `instructions_for_use` document (`describes` the version or the system, \
`effective_from` no later than the first production deployment) before deploying; a document \
registered afterwards does not cure (b) for a version already in production.",
    not_checked: "The content and adequacy of the limitations, the input specification, the \
oversight measures and the instructions.",
    params: &[],
};

impl Rule for Mod04 {
    fn meta(&self) -> &'static RuleMeta {
        &MOD04
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let facts = match deployed_scope(cx) {
            Ok(f) => f,
            Err(outcome) => return outcome,
        };
        let model = cx.model;
        let mut out = Vec::new();
        for (v, u) in facts.deployed_versions() {
            let node = NodeId::new(EntityType::ModelVersion, v);
            let system = facts.system_of_version(v);
            let subject = node.as_str();
            let since = time::fmt(u.first_prod);

            let reg = registration(model, v);
            let lacking = match &reg {
                Some((_, a)) => missing(a, DOCUMENTED),
                None => DOCUMENTED.to_vec(),
            };
            if !lacking.is_empty() {
                let (message, evidence) = match &reg {
                    Some((i, _)) => (
                        format!(
                            "`{v}`, in production since {since}, is registered without {}",
                            ticks(&lacking)
                        ),
                        vec![cx.evi(*i, Some(format!("lacks {}", lacking.join(", "))))],
                    ),
                    None => (
                        format!(
                            "`{v}`, in production since {since}, is not registered, so it documents none of {}",
                            ticks(&lacking)
                        ),
                        prod_evidence(cx, facts, v),
                    ),
                };
                out.push(
                    Draft::new(subject, "a", "a", Level::Warn, message)
                        .evidence(evidence)
                        .system(system),
                );
            }

            if facts.high_risk(system) {
                let ifu = Some("instructions_for_use");
                let system_node = system.map(|s| NodeId::new(EntityType::System, s));
                let nodes: Vec<&NodeId> = std::iter::once(&node).chain(&system_node).collect();
                let effective = |t| {
                    nodes
                        .iter()
                        .flat_map(|n| facts.effective_documents(n, ifu, t))
                        .map(|d| format!("`{}`", d.id))
                        .collect::<Vec<_>>()
                };
                if effective(u.first_prod).is_empty() {
                    let now = effective(cx.as_of());
                    let later = if now.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; {} is effective at the as-of time, but was not then",
                            now.join(", ")
                        )
                    };
                    out.push(
                        Draft::new(
                            subject,
                            "b",
                            "b",
                            Level::Warn,
                            format!(
                                "`{v}` of high-risk system `{}` went into production on {since} with no `instructions_for_use` document effective then that describes `{subject}` or `system:{}`{later}",
                                system.unwrap_or_default(),
                                system.unwrap_or_default(),
                            ),
                        )
                        .evidence(prod_evidence(cx, facts, v))
                        .at(u.first_prod)
                        .system(system),
                    );
                }
            }
        }
        Outcome::evaluated(out)
    }
}

// --- MOD-05 ---------------------------------------------------------------------------------

/// MOD-05 Inventory completeness.
pub struct Mod05;

static MOD05: RuleMeta = RuleMeta {
    id: "MOD-05",
    title: "Inventory completeness",
    levels: "`warn`; `deny` in `sr11-7`, `pra-ss1-23`",
    basis: "T",
    sources: &[
        "SR 11-7 inventory [V]",
        "PRA SS1/23 P1 [V]",
        "NIST AI RMF GOVERN 1.6 [V]",
    ],
    needs: "`model.registered`. Scope: registered model versions not retired, or whose latest \
`model.retired` lies within `recently_retired` before the as-of time.",
    checks: "For every model version V in scope (subject `model_version:V`, read from its latest \
`model.registered`): (a) developers(V) empty (no `developers`, and the registration was not \
made by a human actor) or `risk_tier` missing; (b) V is in use at the as-of time (a production \
deployment is active and serves it) and there is no `model.validated` of V; (c) V is in use and \
has no planned review date: neither the latest `model.validated` carries `next_review_due` nor \
the latest `review.periodic` carries `next_due`.",
    why: "A model inventory is the basis of model risk management: for every model in use, or \
recently retired, it must say who built it, how risky it is, that it was validated and when it \
is next reviewed. The inventory page derives the other fields (status, last update, validators \
and dates, open exceptions) from the events.",
    example: "Fires: a version in use with no `risk_tier`. Passes: `risk_tier: \"tier-2\"` \
added.",
    fix: "Register each version with `developers` and `risk_tier` (a correcting \
`model.registered` completes an existing registration), validate it before use \
(`model.validated`), and record the next review date (`next_review_due` on the validation, or \
`next_due` on each `review.periodic`).",
    not_checked: "Whether the risk tier is consistent with the organisation's tiering method.",
    params: &[param(
        "recently_retired",
        ParamKind::Duration,
        "\"12 months\"",
    )],
};

impl Rule for Mod05 {
    fn meta(&self) -> &'static RuleMeta {
        &MOD05
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        if !model.occurs("model.registered") {
            return Outcome::not_evaluable("no `model.registered` event");
        }
        let facts = cx.facts;
        let recent_from = cx.duration("recently_retired").before(cx.as_of());
        let events = version_events(model);
        let serving = serving_at_t(facts);
        let mut out = Vec::new();
        let mut in_scope = 0usize;
        for (node, ent) in entities_of(model, EntityType::ModelVersion) {
            let Some(&reg_i) = ent.registered.last() else {
                continue;
            };
            let v = node.id();
            let ve = events.get(v);
            let retired = ve.and_then(|e| e.retired.last()).map(|&i| model.event(i));
            if retired.is_some_and(|r| r.ts < recent_from) {
                continue;
            }
            in_scope += 1;
            let system = cx.facts.system_of_version(v);
            let subject = node.as_str();
            let reg = model.event(reg_i);
            let attrs = reg.attrs();
            let draft = |check: &'static str, message: String, evidence: Vec<Evidence>| {
                Draft::new(subject, check, check, Level::Warn, message)
                    .evidence(evidence)
                    .system(system)
            };
            let status = match retired {
                Some(r) => format!(" (retired {})", time::fmt(r.ts)),
                None => String::new(),
            };

            let mut lacking = Vec::new();
            if facts.developers(v).is_empty() {
                lacking.push("developers");
            }
            if !present(attrs.get("risk_tier")) {
                lacking.push("risk_tier");
            }
            if !lacking.is_empty() {
                out.push(draft(
                    "a",
                    format!("inventory entry of `{v}`{status} lacks {}", ticks(&lacking)),
                    vec![cx.ev(reg, Some(format!("lacks {}", lacking.join(", "))))],
                ));
            }

            let Some(witnesses) = serving.get(v) else {
                continue;
            };
            let validated: &[u32] = ve.map_or(&[], |e| &e.validated);
            let reviews: &[u32] = ve.map_or(&[], |e| &e.reviews);
            if validated.is_empty() {
                out.push(draft(
                    "b",
                    format!("`{v}` is in use at the as-of time and has never been validated (no `model.validated`)"),
                    in_use_evidence(cx, witnesses, v),
                ));
            }
            let last_validated = validated.last().map(|&i| (i, model.event(i)));
            let last_review = reviews.last().map(|&i| (i, model.event(i)));
            let planned = last_validated
                .is_some_and(|(_, e)| present(e.attrs().get("next_review_due")))
                || last_review.is_some_and(|(_, e)| present(e.attrs().get("next_due")));
            if !planned {
                let mut evidence = in_use_evidence(cx, witnesses, v);
                let mut found = Vec::new();
                if let Some((i, e)) = last_validated {
                    evidence.push(cx.evi(i, Some("latest validation: no next_review_due".into())));
                    found.push(format!(
                        "its latest validation `{}` has no `next_review_due`",
                        e.id
                    ));
                }
                if let Some((i, e)) = last_review {
                    evidence.push(cx.evi(i, Some("latest review: no next_due".into())));
                    found.push(format!("its latest review `{}` has no `next_due`", e.id));
                }
                if found.is_empty() {
                    found.push("it has neither a validation nor a periodic review".into());
                }
                out.push(draft(
                    "c",
                    format!(
                        "`{v}` is in use at the as-of time with no planned review date: {}",
                        found.join(" and ")
                    ),
                    evidence,
                ));
            }
        }
        if in_scope == 0 {
            return Outcome::not_applicable(
                "every registered model version was retired more than `recently_retired` before the as-of time",
            );
        }
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::checks::Status;
    use crate::testing::{check_events, ev, with};

    // --- MOD-04 -----------------------------------------------------------------------------

    #[test]
    fn mod04_a_fires_without_limitations_and_a_correction_fixes_it() {
        let bad = reg(
            "r1",
            "2026-01-01T00:00:00Z",
            "1.4.0",
            json!({"limitations": null}),
        );
        let d = dep(
            "d1",
            "2026-01-10T00:00:00Z",
            "started",
            "dep-7",
            Some("m@1.4.0"),
        );
        let case = check_events(&[bad.clone(), d.clone()], SR);
        assert_eq!(
            case.keys("MOD-04"),
            [k("model_version:m@1.4.0", "a", "warn")]
        );
        let f = case.of("MOD-04")[0];
        assert_eq!(locations(f), [loc("r1", 1)]);
        assert!(f.message.contains("`limitations`"), "{}", f.message);
        assert!(!f.message.contains("input_spec"), "{}", f.message);

        let fixed = with(
            with(
                reg("r1b", "2026-01-11T00:00:00Z", "1.4.0", json!({})),
                "supersedes",
                json!("r1"),
            ),
            "reason",
            json!("limitations documented"),
        );
        let case = check_events(&[bad, d, fixed], SR);
        assert!(case.keys("MOD-04").is_empty(), "{:?}", case.keys("MOD-04"));
    }

    #[test]
    fn mod04_a_fires_for_an_unregistered_version_in_production() {
        let d = dep(
            "d1",
            "2026-01-10T00:00:00Z",
            "started",
            "dep-7",
            Some("m@9"),
        );
        let case = check_events(&[d], SR);
        assert_eq!(case.keys("MOD-04"), [k("model_version:m@9", "a", "warn")]);
        assert_eq!(locations(case.of("MOD-04")[0]), [loc("d1", 1)]);
    }

    fn ifu(id: &str, ts: &str, describes: &str, effective_from: &str) -> serde_json::Value {
        ev(
            id,
            ts,
            "document.registered",
            &format!("document:{id}"),
            json!({"doc_type": "instructions_for_use", "describes": [describes],
                   "effective_from": effective_from}),
        )
    }

    #[test]
    fn mod04_b_needs_instructions_effective_at_first_production() {
        let base = || {
            vec![
                system("s1", "high", "provider"),
                reg("r1", "2026-01-01T00:00:00Z", "1", json!({})),
            ]
        };
        let d = || {
            dep(
                "d1",
                "2026-09-10T00:00:00Z",
                "started",
                "dep-1",
                Some("m@1"),
            )
        };

        // No instructions at all.
        let mut events = base();
        events.push(d());
        let case = check_events(&events, SR);
        assert_eq!(case.keys("MOD-04"), [k("model_version:m@1", "b", "warn")]);
        assert_eq!(locations(case.of("MOD-04")[0]), [loc("d1", 3)]);

        // Instructions describing the system, effective before production: passes.
        let mut events = base();
        events.push(ifu(
            "ifu-1",
            "2026-09-01T00:00:00Z",
            "system:credit",
            "2026-09-01",
        ));
        events.push(d());
        assert!(check_events(&events, SR).keys("MOD-04").is_empty());

        // Describing the version also counts.
        let mut events = base();
        events.push(ifu(
            "ifu-1",
            "2026-09-01T00:00:00Z",
            "model_version:m@1",
            "2026-09-01",
        ));
        events.push(d());
        assert!(check_events(&events, SR).keys("MOD-04").is_empty());

        // Effective only after the first production service: fires, and says so.
        let mut events = base();
        events.push(d());
        events.push(ifu(
            "ifu-1",
            "2026-09-20T00:00:00Z",
            "system:credit",
            "2026-09-20",
        ));
        let case = check_events(&events, SR);
        assert_eq!(case.keys("MOD-04"), [k("model_version:m@1", "b", "warn")]);
        assert!(
            case.of("MOD-04")[0]
                .message
                .contains("`ifu-1` is effective"),
            "{}",
            case.of("MOD-04")[0].message
        );

        // Not high-risk: no instructions needed.
        let mut events = vec![
            system("s1", "limited", "provider"),
            reg("r1", "2026-01-01T00:00:00Z", "1", json!({})),
        ];
        events.push(d());
        assert!(check_events(&events, SR).keys("MOD-04").is_empty());
    }

    #[test]
    fn mod04_b_time_is_first_production_for_pack_effective_dates() {
        // First production before the AI Act applies: info under the provider pack.
        let events = [
            system("s1", "high", "provider"),
            reg("r1", "2026-01-01T00:00:00Z", "1", json!({})),
            dep(
                "d1",
                "2026-03-01T00:00:00Z",
                "started",
                "dep-1",
                Some("m@1"),
            ),
        ];
        let extra = format!(
            "[policy]\npacks = [\"eu-ai-act-provider\"]\n{}",
            as_of("2026-10-01T00:00:00Z")
        );
        let case = check_events(&events, &extra);
        assert_eq!(case.keys("MOD-04"), [k("model_version:m@1", "b", "info")]);
        assert_eq!(case.of("MOD-04")[0].pre_effective, ["eu-ai-act-provider"]);
    }

    #[test]
    fn mod04_is_not_evaluable_without_deployments_and_not_applicable_without_production() {
        let case = check_events(&[reg("r1", "2026-01-01T00:00:00Z", "1", json!({}))], SR);
        assert!(matches!(
            case.status("MOD-04"),
            Some(Status::NotEvaluable(_))
        ));
        let staging = with(
            dep(
                "d1",
                "2026-01-10T00:00:00Z",
                "started",
                "dep-1",
                Some("m@1"),
            ),
            "env",
            json!("staging"),
        );
        let case = check_events(
            &[
                reg(
                    "r1",
                    "2026-01-01T00:00:00Z",
                    "1",
                    json!({"limitations": null}),
                ),
                staging,
            ],
            SR,
        );
        assert!(matches!(
            case.status("MOD-04"),
            Some(Status::NotApplicable(_))
        ));
        assert!(case.keys("MOD-04").is_empty());
    }

    // --- MOD-05 -----------------------------------------------------------------------------

    /// A version registered, validated with a next review date, and in use.
    fn in_use(
        reg_extra: serde_json::Value,
        val: Option<serde_json::Value>,
    ) -> Vec<serde_json::Value> {
        let mut events = vec![reg("r1", "2026-01-01T00:00:00Z", "1", reg_extra)];
        events.extend(val);
        events.push(dep(
            "d1",
            "2026-01-10T00:00:00Z",
            "started",
            "dep-1",
            Some("m@1"),
        ));
        events
    }

    fn planned() -> Option<serde_json::Value> {
        Some(validated(
            "v1",
            "2026-01-05T00:00:00Z",
            "1",
            json!({"next_review_due": "2027-01-05T00:00:00Z"}),
        ))
    }

    #[test]
    fn mod05_passes_for_a_complete_entry() {
        let case = check_events(&in_use(json!({}), planned()), SR);
        assert!(case.keys("MOD-05").is_empty(), "{:?}", case.keys("MOD-05"));
        assert_eq!(case.status("MOD-05"), Some(&Status::Evaluated));
    }

    #[test]
    fn mod05_a_fires_without_risk_tier_deny_in_sr11_7_warn_elsewhere() {
        let events = in_use(json!({"risk_tier": null}), planned());
        let case = check_events(&events, SR);
        assert_eq!(case.keys("MOD-05"), [k("model_version:m@1", "a", "deny")]);
        assert_eq!(locations(case.of("MOD-05")[0]), [loc("r1", 1)]);
        let case = check_events(&events, "[policy]\npacks = [\"pra-ss1-23\"]\n");
        assert_eq!(case.keys("MOD-05"), [k("model_version:m@1", "a", "deny")]);
        let case = check_events(&events, "[policy]\npacks = [\"nist-ai-rmf\"]\n");
        assert_eq!(case.keys("MOD-05"), [k("model_version:m@1", "a", "warn")]);
        // The example's fix.
        let fixed = in_use(json!({"risk_tier": "tier-2"}), planned());
        assert!(check_events(&fixed, SR).keys("MOD-05").is_empty());
    }

    #[test]
    fn mod05_a_reads_developers_or_a_human_registrant() {
        let events = in_use(json!({"developers": null}), planned());
        let case = check_events(&events, SR);
        assert_eq!(case.keys("MOD-05"), [k("model_version:m@1", "a", "deny")]);
        assert!(case.of("MOD-05")[0].message.contains("`developers`"));
        let mut events = events;
        events[0] = with(
            events[0].clone(),
            "actor",
            json!({"id": "ari", "type": "human"}),
        );
        assert!(check_events(&events, SR).keys("MOD-05").is_empty());
    }

    #[test]
    fn mod05_b_fires_in_use_without_validation() {
        let review = review(
            "p1",
            "2026-01-20T00:00:00Z",
            "1",
            json!({"next_due": "2027-01-20T00:00:00Z"}),
        );
        let mut events = in_use(json!({}), None);
        events.push(review);
        let case = check_events(&events, SR);
        assert_eq!(case.keys("MOD-05"), [k("model_version:m@1", "b", "deny")]);
        assert_eq!(locations(case.of("MOD-05")[0]), [loc("d1", 2)]);
        // Not in use (stopped): (b) does not apply.
        events.push(dep("d2", "2026-01-21T00:00:00Z", "stopped", "dep-1", None));
        assert!(check_events(&events, SR).keys("MOD-05").is_empty());
    }

    #[test]
    fn mod05_c_fires_in_use_without_a_planned_date() {
        let unplanned = Some(validated("v1", "2026-01-05T00:00:00Z", "1", json!({})));
        let case = check_events(&in_use(json!({}), unplanned.clone()), SR);
        assert_eq!(case.keys("MOD-05"), [k("model_version:m@1", "c", "deny")]);
        assert_eq!(
            locations(case.of("MOD-05")[0]),
            [loc("v1", 2), loc("d1", 3)]
        );
        // A review that states the next date plans it.
        let mut events = in_use(json!({}), unplanned);
        events.push(review(
            "p1",
            "2026-01-20T00:00:00Z",
            "1",
            json!({"next_due": "2027-01-20"}),
        ));
        assert!(check_events(&events, SR).keys("MOD-05").is_empty());
        // Only the latest validation counts.
        let mut events = in_use(json!({}), planned());
        events.push(validated("v2", "2026-01-20T00:00:00Z", "1", json!({})));
        assert_eq!(
            check_events(&events, SR).keys("MOD-05"),
            [k("model_version:m@1", "c", "deny")]
        );
    }

    #[test]
    fn mod05_scope_keeps_recently_retired_versions_only() {
        let retired = |ts: &str| {
            ev(
                "x1",
                ts,
                "model.retired",
                "model_version:m@1",
                json!({"reason": "replaced"}),
            )
        };
        let events = |ts: &str| {
            vec![
                reg(
                    "r1",
                    "2025-01-01T00:00:00Z",
                    "1",
                    json!({"risk_tier": null}),
                ),
                retired(ts),
            ]
        };
        let at = as_of("2026-06-01T00:00:00Z");
        let case = check_events(&events("2025-09-01T00:00:00Z"), &format!("{SR}{at}"));
        assert_eq!(case.keys("MOD-05"), [k("model_version:m@1", "a", "deny")]);
        let case = check_events(&events("2025-05-01T00:00:00Z"), &format!("{SR}{at}"));
        assert!(case.keys("MOD-05").is_empty());
        assert!(matches!(
            case.status("MOD-05"),
            Some(Status::NotApplicable(_))
        ));
        let longer = format!("{SR}{at}[policy.params.MOD-05]\nrecently_retired = \"2 years\"\n");
        let case = check_events(&events("2025-05-01T00:00:00Z"), &longer);
        assert_eq!(case.keys("MOD-05"), [k("model_version:m@1", "a", "deny")]);
    }

    #[test]
    fn mod05_is_not_evaluable_without_registrations() {
        let case = check_events(
            &[dep(
                "d1",
                "2026-01-10T00:00:00Z",
                "started",
                "dep-1",
                Some("m@1"),
            )],
            SR,
        );
        assert!(matches!(
            case.status("MOD-05"),
            Some(Status::NotEvaluable(_))
        ));
    }
}
