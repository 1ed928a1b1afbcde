use serde_json::{Value, json};

use super::super::fixtures::{GDPR, PROVIDER, decision, k, locations, merge, started};
use crate::checks::{self, Status};
use crate::testing::{Case, check_events, ev, with};

const DAY: &str = "2026-09-01";

fn at(h: u32) -> String {
    format!("{DAY}T{h:02}:00:00Z")
}

fn dec02(events: &[Value]) -> Vec<(String, String, String)> {
    check_events(events, PROVIDER).keys("DEC-02")
}

// --- DEC-02 ---------------------------------------------------------------------------------

#[test]
fn dec02_passes_on_a_complete_record() {
    let case = check_events(&[decision("x1", &at(10), json!({}))], PROVIDER);
    assert!(case.keys("DEC-02").is_empty(), "{:?}", case.keys("DEC-02"));
    assert_eq!(case.status("DEC-02"), Some(&Status::Evaluated));
}

#[test]
fn dec02_b_fires_on_the_example_with_deny_for_legal_effect() {
    let raw = decision("x1", &at(10), json!({"input_ref": "{\"income\": 52000}"}));
    let case = check_events(&[raw], PROVIDER);
    assert_eq!(
        case.keys("DEC-02"),
        [k("deployment:dep-7", "b|2026-09-01|true", "deny")]
    );
    let f = case.of("DEC-02")[0];
    assert_eq!(locations(f), [(Some("x1"), "main.jsonl", 1)]);
    assert!(
        !f.message.contains("52000"),
        "raw input is not echoed: {}",
        f.message
    );
    // An object is not a digest either.
    let object = decision("x1", &at(10), json!({"input_ref": {"income": 52000}}));
    assert_eq!(
        dec02(&[object]),
        [k("deployment:dep-7", "b|2026-09-01|true", "deny")]
    );
}

#[test]
fn dec02_levels_split_by_legal_effect_and_aggregate_per_day() {
    let raw = json!({"input_ref": "customer 88123"});
    let events = [
        decision("x1", &at(9), raw.clone()),
        decision(
            "x2",
            &at(10),
            merge(raw.clone(), json!({"legal_effect": false})),
        ),
        decision("x3", &at(11), raw.clone()),
        decision("x4", "2026-09-02T08:00:00Z", raw),
    ];
    let case = check_events(&events, PROVIDER);
    assert_eq!(
        case.keys("DEC-02"),
        [
            k("deployment:dep-7", "b|2026-09-01|false", "warn"),
            k("deployment:dep-7", "b|2026-09-01|true", "deny"),
            k("deployment:dep-7", "b|2026-09-02|true", "deny"),
        ]
    );
    let f = case
        .of("DEC-02")
        .into_iter()
        .find(|f| f.discriminator == "b|2026-09-01|true")
        .unwrap();
    assert_eq!(f.count, Some(2));
    assert_eq!(
        locations(f),
        [(Some("x1"), "main.jsonl", 1), (Some("x3"), "main.jsonl", 3)]
    );
}

#[test]
fn dec02_a_fires_on_missing_fields() {
    let case = check_events(
        &[decision(
            "x1",
            &at(10),
            json!({"mode": null, "legal_effect": null}),
        )],
        PROVIDER,
    );
    assert_eq!(
        case.keys("DEC-02"),
        [k("deployment:dep-7", "a|2026-09-01|false", "warn")]
    );
    let f = case.of("DEC-02")[0];
    assert_eq!(locations(f), [(Some("x1"), "main.jsonl", 1)]);
    assert!(
        f.message.contains("`legal_effect` (1)") && f.message.contains("`mode` (1)"),
        "{}",
        f.message
    );
    // `false` and `""`: present and missing.
    assert!(dec02(&[decision("x1", &at(10), json!({"legal_effect": false}))]).is_empty());
    assert_eq!(
        dec02(&[decision("x1", &at(10), json!({"output": ""}))]),
        [k("deployment:dep-7", "a|2026-09-01|true", "deny")]
    );
}

#[test]
fn dec02_c_fires_without_reason_codes_and_reads_the_rationale() {
    let bare = decision("x1", &at(10), json!({"reason_codes": []}));
    let case = check_events(std::slice::from_ref(&bare), PROVIDER);
    assert_eq!(
        case.keys("DEC-02"),
        [k("deployment:dep-7", "c|2026-09-01|true", "deny")]
    );
    assert_eq!(
        locations(case.of("DEC-02")[0]),
        [(Some("x1"), "main.jsonl", 1)]
    );
    let explained = with(bare.clone(), "rationale", json!({"reason_codes": ["RC07"]}));
    assert!(dec02(&[explained]).is_empty());
    // A human decision needs no reason codes.
    let human = decision(
        "x1",
        &at(10),
        json!({"reason_codes": null, "mode": "human"}),
    );
    assert!(dec02(&[human]).is_empty());
}

#[test]
fn dec02_d_fires_on_a_score_without_threshold() {
    let bare = decision("x1", &at(10), json!({"threshold": null}));
    let case = check_events(std::slice::from_ref(&bare), PROVIDER);
    assert_eq!(
        case.keys("DEC-02"),
        [k("deployment:dep-7", "d|2026-09-01|true", "deny")]
    );
    assert_eq!(
        locations(case.of("DEC-02")[0]),
        [(Some("x1"), "main.jsonl", 1)]
    );
    let in_rationale = with(bare.clone(), "rationale", json!({"threshold": 0.5}));
    assert!(dec02(&[in_rationale]).is_empty());
    // The deployment's threshold counts once it was set.
    let dep = started("d1", &at(8), json!({"decision_threshold": 0.5}));
    assert!(dec02(&[dep.clone(), bare.clone()]).is_empty());
    let late = started("d1", &at(11), json!({"decision_threshold": 0.5}));
    assert_eq!(
        dec02(&[bare, late]),
        [k("deployment:dep-7", "d|2026-09-01|true", "deny")]
    );
    // No score, nothing to compare.
    let unscored = decision("x1", &at(10), json!({"threshold": null, "score": null}));
    assert!(dec02(&[unscored]).is_empty());
}

#[test]
fn dec02_reads_the_input_ref_pattern() {
    let custom = decision("x1", &at(10), json!({"input_ref": "blake3:00ff"}));
    assert_eq!(
        dec02(std::slice::from_ref(&custom)),
        [k("deployment:dep-7", "b|2026-09-01|true", "deny")]
    );
    let params = format!("{PROVIDER}[policy.params.DEC-02]\ninput_ref_pattern = \"^blake3:\"\n");
    assert!(check_events(&[custom], &params).keys("DEC-02").is_empty());
}

#[test]
fn dec02_is_not_evaluable_without_decisions() {
    let case = check_events(&[started("d1", &at(8), json!({}))], PROVIDER);
    assert!(matches!(
        case.status("DEC-02"),
        Some(Status::NotEvaluable(_))
    ));
}

// --- DEC-03 ---------------------------------------------------------------------------------

fn dec03(events: &[Value]) -> Vec<(String, String, String)> {
    check_events(events, GDPR).keys("DEC-03")
}

#[test]
fn dec03_a_fires_on_the_example_and_passes_with_a_basis() {
    let decline = decision("x1", &at(10), json!({"art22_basis": null}));
    let case = check_events(&[decline], GDPR);
    assert_eq!(
        case.keys("DEC-03"),
        [k("deployment:dep-7", "a|2026-09-01", "deny")]
    );
    assert_eq!(
        locations(case.of("DEC-03")[0]),
        [(Some("x1"), "main.jsonl", 1)]
    );
    assert!(dec03(&[decision("x1", &at(10), json!({}))]).is_empty());
    // An escaped mode is still `automated` (the shortcut past non-automated decisions is exact).
    let bare = decision("x1", &at(10), json!({"art22_basis": null}));
    let line = crate::testing::chain(&[bare])
        .replace("\"mode\":\"automated\"", "\"mode\":\"\\u0061utomated\"");
    assert!(line.contains("\\u0061utomated"), "{line}");
    let case = crate::testing::check(&[("main", line)], GDPR);
    assert_eq!(
        case.keys("DEC-03"),
        [k("deployment:dep-7", "a|2026-09-01", "deny")]
    );
    assert_eq!(
        dec03(&[decision(
            "x1",
            &at(10),
            json!({"art22_basis": "legitimate_interest"})
        )]),
        [k("deployment:dep-7", "a|2026-09-01", "deny")]
    );
}

#[test]
fn dec03_skips_decisions_that_are_not_solely_automated() {
    let no_basis = json!({"art22_basis": null});
    for extra in [
        json!({"art22_basis": null, "legal_effect": false}),
        json!({"art22_basis": null, "mode": "advisory"}),
        json!({"art22_basis": null, "legal_effect": null}),
        json!({"art22_basis": null, "legal_effect": "true"}),
    ] {
        let case = check_events(&[decision("x1", &at(10), extra)], GDPR);
        assert!(case.keys("DEC-03").is_empty());
        assert!(matches!(
            case.status("DEC-03"),
            Some(Status::NotApplicable(_))
        ));
    }
    let reviewed = with(
        decision("x1", &at(10), no_basis),
        "rationale",
        json!({"human_involved": true}),
    );
    assert!(dec03(&[reviewed]).is_empty());
}

#[test]
fn dec03_b_fires_on_special_category_data_without_a_special_basis() {
    let special = |basis: &str| {
        with(
            decision("x1", &at(10), json!({"art22_basis": basis})),
            "data_classes",
            json!(["personal", "special_category"]),
        )
    };
    let case = check_events(&[special("contract")], GDPR);
    assert_eq!(
        case.keys("DEC-03"),
        [k("deployment:dep-7", "b|2026-09-01", "deny")]
    );
    assert_eq!(
        locations(case.of("DEC-03")[0]),
        [(Some("x1"), "main.jsonl", 1)]
    );
    assert!(dec03(&[special("explicit_consent")]).is_empty());
}

fn contest(id: &str, ts: &str, x: &str, rid: &str) -> Value {
    ev(
        id,
        ts,
        "dsr.received",
        "resource:dsr-inbox",
        json!({"request_id": rid, "type": "contest", "decision": x}),
    )
}

fn resolved(id: &str, ts: &str, rid: &str) -> Value {
    ev(
        id,
        ts,
        "dsr.resolved",
        "resource:dsr-inbox",
        json!({"request_id": rid, "outcome": "fulfilled"}),
    )
}

fn review(id: &str, ts: &str, x: &str) -> Value {
    super::super::fixtures::action(
        id,
        ts,
        x,
        json!({"action": "override", "reviewer": "rev-1",
        "reason": "manual check", "new_output": "approve"}),
    )
}

fn with_as_of(extra: &str, as_of: &str) -> String {
    format!("{extra}[report]\nas_of = \"{as_of}\"\n")
}

#[test]
fn dec03_c_contests_need_a_timely_human_review() {
    let x = decision("x1", &at(10), json!({}));
    let c = contest("c1", "2026-09-02T09:00:00Z", "x1", "req-1");
    let run = |events: &[Value], as_of: &str| {
        check_events(events, &with_as_of(GDPR, as_of)).keys("DEC-03")
    };
    let fires = [k("decision:x1", "c", "deny")];
    // Open, deadline (one month) not passed: a running clock, no finding.
    assert!(run(&[x.clone(), c.clone()], "2026-09-20T00:00:00Z").is_empty());
    // Open past the deadline: overdue at T, no time of its own.
    let case = check_events(
        &[x.clone(), c.clone()],
        &with_as_of(GDPR, "2026-10-03T00:00:00Z"),
    );
    assert_eq!(case.keys("DEC-03"), fires);
    let f = case.of("DEC-03")[0];
    assert_eq!(
        locations(f),
        [(Some("x1"), "main.jsonl", 1), (Some("c1"), "main.jsonl", 2)]
    );
    assert!(f.message.contains("req-1"), "{}", f.message);
    // Resolved in time with a human review between: passes.
    let ok = [
        x.clone(),
        c.clone(),
        review("o1", "2026-09-03T09:00:00Z", "x1"),
        resolved("r1", "2026-09-04T09:00:00Z", "req-1"),
    ];
    assert!(run(&ok, "2026-12-01T00:00:00Z").is_empty());
    // Resolved in time, no human review.
    let unreviewed = [
        x.clone(),
        c.clone(),
        resolved("r1", "2026-09-04T09:00:00Z", "req-1"),
    ];
    let case = check_events(&unreviewed, &with_as_of(GDPR, "2026-12-01T00:00:00Z"));
    assert_eq!(case.keys("DEC-03"), fires);
    assert_eq!(
        locations(case.of("DEC-03")[0]),
        [
            (Some("x1"), "main.jsonl", 1),
            (Some("c1"), "main.jsonl", 2),
            (Some("r1"), "main.jsonl", 3)
        ]
    );
    // The review by a service does not count.
    let by_service = with(
        review("o1", "2026-09-03T09:00:00Z", "x1"),
        "actor",
        json!({"id": "bot", "type": "service"}),
    );
    let events = [
        x.clone(),
        c.clone(),
        by_service,
        resolved("r1", "2026-09-04T09:00:00Z", "req-1"),
    ];
    assert_eq!(run(&events, "2026-12-01T00:00:00Z"), fires);
    // Resolved late, even with a review.
    let late = [
        x.clone(),
        c.clone(),
        review("o1", "2026-09-03T09:00:00Z", "x1"),
        resolved("r1", "2026-10-05T09:00:00Z", "req-1"),
    ];
    assert_eq!(run(&late, "2026-12-01T00:00:00Z"), fires);
    // A contest of a decision that is not solely automated is out of scope.
    let advisory = decision("x1", &at(10), json!({"mode": "advisory"}));
    assert!(run(&[advisory, c], "2026-12-01T00:00:00Z").is_empty());
}

/// Runs the checks again on a loaded case with a changed config (for parameters of rules that
/// config validation does not accept yet).
fn rerun(
    case: &mut Case,
    f: impl FnOnce(&mut crate::config::Config),
) -> Vec<(String, String, String)> {
    f(&mut case.loaded.config);
    case.findings = checks::run(
        &case.loaded.model,
        &case.loaded.graph,
        &case.loaded.config,
        &case.loaded.ingest,
    );
    case.keys("DEC-03")
}

#[test]
fn dec03_c_reads_prv03_deadline() {
    let events = [
        decision("x1", &at(10), json!({})),
        contest("c1", "2026-09-02T09:00:00Z", "x1", "req-1"),
    ];
    let mut case = check_events(&events, &with_as_of(GDPR, "2026-09-20T00:00:00Z"));
    assert!(case.keys("DEC-03").is_empty());
    let keys = rerun(&mut case, |c| {
        let mut t = toml::Table::new();
        t.insert("deadline".into(), toml::Value::String("2 weeks".into()));
        c.policy.params.insert("PRV-03".into(), t);
    });
    assert_eq!(keys, [k("decision:x1", "c", "deny")]);
}

#[test]
fn dec03_is_not_evaluable_without_decisions() {
    let case = check_events(&[contest("c1", &at(9), "x1", "req-1")], GDPR);
    assert!(matches!(
        case.status("DEC-03"),
        Some(Status::NotEvaluable(_))
    ));
}
