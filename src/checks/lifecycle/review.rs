//! DEP-04 (periodic review) of the versions in use at T.
//!
//! The review clock of V starts at its latest `review.periodic`, else at first_prod(V); it runs
//! for the cadence of V's `risk_tier` (`cadence_by_tier`, else `cadence`), cut short by a next
//! date stated on a later-carrying `review.periodic.next_due` or `model.validated.next_review_due`.
//! Discriminators are the check letter alone.

use crate::checks::ticks;
use jiff::Timestamp;

use super::super::catalogue::{ParamKind, param};

use super::super::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use super::{attr_time, in_use_evidence, registration, serving_at_t, version_events};
use crate::event::{EntityType, NodeId, present};
use crate::time;

/// DEP-04 Periodic review.
pub struct Dep04;

static DEP04: RuleMeta = RuleMeta {
    id: "DEP-04",
    title: "Periodic review",
    levels: "`warn`; `deny` in `sr11-7`, `pra-ss1-23`",
    basis: "T",
    sources: &[
        "SR 11-7 periodic review \"at least annually\", three core elements [V]",
        "PRA SS1/23 P4 [V]",
        "NIST AI RMF GOVERN 1.5 [V]",
    ],
    needs: "`deployment.started`. Scope: model versions in use at the as-of time (a production \
deployment is active and serves them).",
    checks: "For every version V in use (subject `model_version:V`): (a) overdue: last = the \
time of V's latest `review.periodic`, else first_prod(V); stated = among the \
`review.periodic.next_due` and `model.validated.next_review_due` values of V later than last, \
the one carried by the latest event (both kinds together, in event order); due = the earlier of \
last + cadence (the `cadence_by_tier` entry for V's `risk_tier`, else `cadence`) and stated; \
fires when the as-of time is after due. (b) V has a `review.periodic` and the latest one lacks \
`benchmark`, or `outcomes_analysis` when `require_outcomes_analysis` (a version never reviewed \
is only subject to (a)).",
    why: "A model in use must be reviewed at least annually, or more often as its risk requires, \
to confirm it still works as intended; a review without benchmarking or outcomes analysis \
lacks the core elements that make it one.",
    example: "Fires: in production since 2025-06-01, no review, as-of time 2026-09-30. Passes: a \
`review.periodic` in 2026-05.",
    fix: "Record a `review.periodic` of each version in use at least once per cadence (and by \
any earlier date you stated), with `benchmark` and `outcomes_analysis`, and its `next_due`.",
    not_checked: "The quality of the review; whether the cadence fits the model's risk beyond \
the configured tiers.",
    params: &[
        param("cadence", ParamKind::Duration, "\"12 months\""),
        param("cadence_by_tier", ParamKind::DurationMap, "{}"),
        param("require_outcomes_analysis", ParamKind::Bool, "true"),
    ],
};

impl Rule for Dep04 {
    fn meta(&self) -> &'static RuleMeta {
        &DEP04
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        if !model.occurs("deployment.started") {
            return Outcome::not_evaluable("no `deployment.started` event");
        }
        let facts = cx.facts;
        let serving = serving_at_t(facts);
        if serving.is_empty() {
            return Outcome::not_applicable(
                "no model version is in use at the as-of time (served by an active production deployment)",
            );
        }
        let cadence = cx.duration("cadence");
        let by_tier = cx.durations("cadence_by_tier");
        let require_outcomes = cx.flag("require_outcomes_analysis");
        let events = version_events(model);
        let t = cx.as_of();
        let mut out = Vec::new();
        for (&v, witnesses) in &serving {
            let Some(first_prod) = facts.first_prod(v) else {
                continue;
            };
            let node = NodeId::new(EntityType::ModelVersion, v);
            let subject = node.as_str();
            let system = facts.system_of_version(v);
            let ve = events.get(v);
            let reviews: &[u32] = ve.map_or(&[], |e| &e.reviews);
            let validated: &[u32] = ve.map_or(&[], |e| &e.validated);
            let last_review = reviews.last().copied();
            let last = last_review.map_or(first_prod, |i| model.event(i).ts);

            let tier = registration(model, v).and_then(|(_, a)| {
                a.get("risk_tier")
                    .and_then(|x| x.as_str())
                    .map(str::to_string)
            });
            let (cad, cad_src) = match tier.as_deref().and_then(|t| by_tier.get(t)) {
                Some(d) => (
                    *d,
                    format!(
                        "`cadence_by_tier` for `{}`",
                        tier.as_deref().unwrap_or_default()
                    ),
                ),
                None => (cadence, "`cadence`".to_string()),
            };
            let by_cadence = cad.after(last);
            let stated = stated_due(model, reviews, validated, last);
            let (due, due_src) = match stated {
                Some((s, i)) if s < by_cadence => {
                    (s, format!("the date stated by `{}`", model.event(i).id))
                }
                _ => (by_cadence, format!("last + {cad} ({cad_src})")),
            };
            if t > due {
                let mut evidence = in_use_evidence(cx, witnesses, v);
                let since = match last_review {
                    Some(i) => {
                        evidence.push(cx.evi(i, Some("latest periodic review".into())));
                        format!("was last reviewed on {}", time::fmt(last))
                    }
                    None => {
                        // The first service is evidence unless it is the one still running.
                        let first = facts.version_use(v).map(|u| u.first_event);
                        if let Some(i) = first.filter(|i| !witnesses.iter().any(|w| w.1 == *i)) {
                            evidence.push(
                                cx.evi(i, Some(format!("first production service of `{v}`"))),
                            );
                        }
                        format!(
                            "has been in production since {} and never reviewed",
                            time::fmt(last)
                        )
                    }
                };
                if let Some((_, i)) = stated {
                    evidence.push(cx.evi(i, Some("stated next review date".into())));
                }
                out.push(
                    Draft::new(
                        subject,
                        "a",
                        "a",
                        Level::Warn,
                        format!(
                            "`{v}` is in use and {since}: its review was due by {} ({due_src}) and is overdue at the as-of time; record a `review.periodic`",
                            time::fmt(due)
                        ),
                    )
                    .evidence(evidence)
                    .system(system),
                );
            }

            if let Some(i) = last_review {
                let a = model.event(i).attrs();
                let mut lacking = Vec::new();
                if !present(a.get("benchmark")) {
                    lacking.push("benchmark");
                }
                if require_outcomes && !present(a.get("outcomes_analysis")) {
                    lacking.push("outcomes_analysis");
                }
                if !lacking.is_empty() {
                    out.push(
                        Draft::new(
                            subject,
                            "b",
                            "b",
                            Level::Warn,
                            format!(
                                "the latest periodic review of `{v}`, `{}` ({}), lacks {}",
                                model.event(i).id,
                                time::fmt(model.event(i).ts),
                                ticks(&lacking)
                            ),
                        )
                        .evidence([cx.evi(i, Some(format!("lacks {}", lacking.join(", "))))])
                        .system(system),
                    );
                }
            }
        }
        Outcome::evaluated(out)
    }
}

/// "stated" of DEP-04 (a): among the `next_due` of V's reviews and the `next_review_due` of its
/// validations that are later than `last`, the one carried by the latest event; with that event.
fn stated_due(
    model: &crate::model::Model,
    reviews: &[u32],
    validated: &[u32],
    last: Timestamp,
) -> Option<(Timestamp, u32)> {
    let mut carriers: Vec<(u32, &str)> = reviews
        .iter()
        .map(|&i| (i, "next_due"))
        .chain(validated.iter().map(|&i| (i, "next_review_due")))
        .collect();
    // Event indices are in event order (§2.1): the latest carrier is the highest index.
    carriers.sort_unstable_by_key(|c| std::cmp::Reverse(c.0));
    carriers.into_iter().find_map(|(i, key)| {
        attr_time(&model.event(i).attrs(), key)
            .filter(|d| *d > last)
            .map(|d| (d, i))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::*;
    use crate::checks::Status;
    use crate::testing::check_events;

    fn prod(ts: &str) -> Vec<Value> {
        vec![
            reg("r1", "2025-05-01T00:00:00Z", "1", json!({})),
            dep("d1", ts, "started", "dep-1", Some("m@1")),
        ]
    }

    #[test]
    fn dep04_a_fires_when_never_reviewed_past_the_cadence() {
        // The example: in production since 2025-06-01, no review, T = 2026-09-30.
        let at = as_of("2026-09-30T00:00:00Z");
        let case = check_events(&prod("2025-06-01T00:00:00Z"), &format!("{SR}{at}"));
        assert_eq!(case.keys("DEP-04"), [k("model_version:m@1", "a", "deny")]);
        let f = case.of("DEP-04")[0];
        assert_eq!(locations(f), [loc("d1", 2)]);
        assert!(f.message.contains("2026-06-01T00:00:00Z"), "{}", f.message);
        // warn where no pack raises it.
        let case = check_events(
            &prod("2025-06-01T00:00:00Z"),
            &format!("[policy]\npacks = [\"nist-ai-rmf\"]\n{at}"),
        );
        assert_eq!(case.keys("DEP-04"), [k("model_version:m@1", "a", "warn")]);
        let case = check_events(
            &prod("2025-06-01T00:00:00Z"),
            &format!("[policy]\npacks = [\"pra-ss1-23\"]\n{at}"),
        );
        assert_eq!(case.keys("DEP-04"), [k("model_version:m@1", "a", "deny")]);
    }

    #[test]
    fn dep04_a_passes_after_a_review_in_2026_05() {
        let mut events = prod("2025-06-01T00:00:00Z");
        events.push(review("p1", "2026-05-15T00:00:00Z", "1", json!({})));
        let case = check_events(&events, &format!("{SR}{}", as_of("2026-09-30T00:00:00Z")));
        assert!(case.keys("DEP-04").is_empty(), "{:?}", case.keys("DEP-04"));
        // ... until 12 months after it.
        let case = check_events(&events, &format!("{SR}{}", as_of("2027-05-16T00:00:00Z")));
        assert_eq!(case.keys("DEP-04"), [k("model_version:m@1", "a", "deny")]);
        assert_eq!(
            locations(case.of("DEP-04")[0]),
            [loc("d1", 2), loc("p1", 3)]
        );
    }

    #[test]
    fn dep04_a_an_earlier_stated_date_shortens_the_clock() {
        let mut events = prod("2026-01-01T00:00:00Z");
        events.insert(
            1,
            validated(
                "v1",
                "2025-12-01T00:00:00Z",
                "1",
                json!({"next_review_due": "2026-04-01"}),
            ),
        );
        let at = |t: &str| format!("{SR}{}", as_of(t));
        let case = check_events(&events, &at("2026-04-02T00:00:00Z"));
        assert_eq!(case.keys("DEP-04"), [k("model_version:m@1", "a", "deny")]);
        assert_eq!(
            locations(case.of("DEP-04")[0]),
            [loc("v1", 2), loc("d1", 3)]
        );
        assert!(
            check_events(&events, &at("2026-03-31T00:00:00Z"))
                .keys("DEP-04")
                .is_empty()
        );
        // A later event states a later date: it is the one that counts (still capped by cadence).
        events.push(validated(
            "v2",
            "2026-02-01T00:00:00Z",
            "1",
            json!({"next_review_due": "2026-08-01"}),
        ));
        assert!(
            check_events(&events, &at("2026-04-02T00:00:00Z"))
                .keys("DEP-04")
                .is_empty()
        );
        assert_eq!(
            check_events(&events, &at("2026-08-02T00:00:00Z")).keys("DEP-04"),
            [k("model_version:m@1", "a", "deny")]
        );
        // A stated date not later than `last` is ignored.
        let mut events = prod("2026-01-01T00:00:00Z");
        events.push(validated(
            "v1",
            "2026-02-01T00:00:00Z",
            "1",
            json!({"next_review_due": "2025-12-01"}),
        ));
        assert!(
            check_events(&events, &at("2026-06-01T00:00:00Z"))
                .keys("DEP-04")
                .is_empty()
        );
    }

    #[test]
    fn dep04_a_cadence_by_tier() {
        let events = prod("2026-01-01T00:00:00Z");
        let cfg = |tiers: &str| {
            format!(
                "{SR}{}[policy.params.DEP-04]\ncadence_by_tier = {{ {tiers} }}\n",
                as_of("2026-04-15T00:00:00Z")
            )
        };
        assert_eq!(
            check_events(&events, &cfg("\"tier-2\" = \"3 months\"")).keys("DEP-04"),
            [k("model_version:m@1", "a", "deny")]
        );
        assert!(
            check_events(&events, &cfg("\"tier-1\" = \"3 months\""))
                .keys("DEP-04")
                .is_empty()
        );
    }

    #[test]
    fn dep04_b_fires_on_an_incomplete_latest_review() {
        let at = format!("{SR}{}", as_of("2026-06-01T00:00:00Z"));
        let with_review = |extra: Value| {
            let mut events = prod("2025-06-01T00:00:00Z");
            events.push(review("p1", "2026-05-15T00:00:00Z", "1", extra));
            check_events(&events, &at)
        };
        for extra in [
            json!({"benchmark": null}),
            json!({"outcomes_analysis": null}),
        ] {
            let case = with_review(extra.clone());
            assert_eq!(
                case.keys("DEP-04"),
                [k("model_version:m@1", "b", "deny")],
                "{extra}"
            );
            assert_eq!(locations(case.of("DEP-04")[0]), [loc("p1", 3)]);
        }
        let relaxed = format!("{at}[policy.params.DEP-04]\nrequire_outcomes_analysis = false\n");
        let mut events = prod("2025-06-01T00:00:00Z");
        events.push(review(
            "p1",
            "2026-05-15T00:00:00Z",
            "1",
            json!({"outcomes_analysis": null}),
        ));
        assert!(check_events(&events, &relaxed).keys("DEP-04").is_empty());
    }

    #[test]
    fn dep04_status() {
        let case = check_events(&[reg("r1", "2025-05-01T00:00:00Z", "1", json!({}))], SR);
        assert!(matches!(
            case.status("DEP-04"),
            Some(Status::NotEvaluable(_))
        ));
        let mut events = prod("2025-06-01T00:00:00Z");
        events.push(dep("d2", "2025-07-01T00:00:00Z", "stopped", "dep-1", None));
        let case = check_events(&events, &format!("{SR}{}", as_of("2026-09-30T00:00:00Z")));
        assert!(matches!(
            case.status("DEP-04"),
            Some(Status::NotApplicable(_))
        ));
        assert!(case.keys("DEP-04").is_empty());
    }
}
