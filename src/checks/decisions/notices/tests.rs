use std::collections::BTreeSet;

use jiff::civil::Date;
use serde_json::{Value, json};

use super::super::fixtures::{DEPLOYER, NYC, decision, k, locations, started, system};
use super::business_days_before;
use crate::checks::Status;
use crate::testing::{check_events, ev, with};

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

#[test]
fn business_days_follow_the_worked_example() {
    let none = BTreeSet::new();
    // 10 business days before Monday 2026-03-16 is Monday 2026-03-02.
    assert_eq!(
        business_days_before(date("2026-03-16"), 10, &none),
        date("2026-03-02")
    );
    assert_eq!(
        business_days_before(date("2026-03-16"), 1, &none),
        date("2026-03-13"),
        "the Friday before"
    );
    assert_eq!(
        business_days_before(date("2026-03-16"), 0, &none),
        date("2026-03-16")
    );
    // A holiday in between moves the date back by one business day.
    let holidays = BTreeSet::from([date("2026-03-10")]);
    assert_eq!(
        business_days_before(date("2026-03-16"), 10, &holidays),
        date("2026-02-27")
    );
}

fn notice(id: &str, ts: &str, system: &str, effective_from: Option<&str>) -> Value {
    let mut attrs = json!({"doc_type": "notice", "describes": [format!("system:{system}")]});
    if let Some(f) = effective_from {
        attrs["effective_from"] = json!(f);
    }
    ev(
        id,
        ts,
        "document.registered",
        &format!("document:{id}"),
        attrs,
    )
}

fn hiring() -> Value {
    system(
        "hiring",
        "2026-01-05T00:00:00Z",
        json!({"annex_iii_point": "4(a)", "jurisdictions": ["US-NY-NYC"]}),
    )
}

fn screen(id: &str, ts: &str) -> Value {
    with(
        decision(id, ts, json!({"output": "advance", "mode": "advisory"})),
        "system",
        json!("hiring"),
    )
}

#[test]
fn dec06_c_fires_on_the_example_and_passes_with_an_earlier_notice() {
    let first_use = "2026-03-16T14:00:00Z";
    let late = [
        hiring(),
        notice("n1", "2026-03-09T09:00:00Z", "hiring", None),
        screen("x1", first_use),
    ];
    let case = check_events(&late, NYC);
    assert_eq!(case.keys("DEC-06"), [k("system:hiring", "c", "warn")]);
    let f = case.of("DEC-06")[0];
    assert_eq!(
        locations(f),
        [(Some("n1"), "main.jsonl", 2), (Some("x1"), "main.jsonl", 3)]
    );
    assert!(f.message.contains("2026-03-02"), "{}", f.message);
    // Dated by `effective_from`, even when registered later.
    let on_time = [
        hiring(),
        notice("n1", "2026-03-09T09:00:00Z", "hiring", Some("2026-03-02")),
        screen("x1", first_use),
    ];
    assert!(check_events(&on_time, NYC).keys("DEC-06").is_empty());
    let one_day_late = [
        hiring(),
        notice("n1", "2026-03-09T09:00:00Z", "hiring", Some("2026-03-03")),
        screen("x1", first_use),
    ];
    assert_eq!(
        check_events(&one_day_late, NYC).keys("DEC-06"),
        [k("system:hiring", "c", "warn")]
    );
    // With a holiday the notice is due a business day earlier.
    let holiday = format!("{NYC}[policy.params.DEC-06]\nholidays = [\"2026-03-10\"]\n");
    assert_eq!(
        check_events(&on_time, &holiday).keys("DEC-06"),
        [k("system:hiring", "c", "warn")]
    );
    let fewer = format!("{NYC}[policy.params.DEC-06]\nnotice_business_days = 5\n");
    assert!(
        check_events(&one_day_late, &fewer)
            .keys("DEC-06")
            .is_empty()
    );
    // A notice about another system does not count.
    let other = [
        hiring(),
        notice("n1", "2026-02-01T09:00:00Z", "credit", None),
        screen("x1", first_use),
    ];
    assert_eq!(
        check_events(&other, NYC).keys("DEC-06"),
        [k("system:hiring", "c", "warn")]
    );
}

#[test]
fn dec06_c_reads_aedt_systems_and_ignores_later_decisions() {
    // Not in NYC, but named as an AEDT in config.
    let tool = system(
        "screen",
        "2026-01-05T00:00:00Z",
        json!({"annex_iii_point": "4(a)"}),
    );
    let use_ = |id: &str, ts: &str| with(screen(id, ts), "system", json!("screen"));
    let events = [
        tool,
        use_("x1", "2026-03-16T14:00:00Z"),
        notice("n1", "2026-03-20T09:00:00Z", "screen", None),
        use_("x2", "2026-04-16T14:00:00Z"),
    ];
    let config = format!("{NYC}\naedt_systems = [\"screen\"]\n");
    let case = check_events(&events, &config);
    assert_eq!(case.keys("DEC-06"), [k("system:screen", "c", "warn")]);
    assert_eq!(
        locations(case.of("DEC-06")[0]),
        [(Some("x1"), "main.jsonl", 2), (Some("n1"), "main.jsonl", 3)]
    );
    assert!(check_events(&events, NYC).keys("DEC-06").is_empty());
}

#[test]
fn dec06_b_needs_a_notice_before_the_first_production_deployment() {
    let dep = with(
        started(
            "d1",
            "2026-09-10T00:00:00Z",
            json!({"model_version": "screen@1"}),
        ),
        "system",
        json!("hiring"),
    );
    let events = [hiring(), dep.clone()];
    let case = check_events(&events, DEPLOYER);
    assert_eq!(case.keys("DEC-06"), [k("system:hiring", "b", "warn")]);
    assert_eq!(
        locations(case.of("DEC-06")[0]),
        [(Some("d1"), "main.jsonl", 2)]
    );
    let told = [
        hiring(),
        notice("n1", "2026-09-01T09:00:00Z", "hiring", None),
        dep.clone(),
    ];
    assert!(check_events(&told, DEPLOYER).keys("DEC-06").is_empty());
    // A staging deployment is not production.
    let staging = with(dep, "env", json!("staging"));
    let case = check_events(&[hiring(), staging], DEPLOYER);
    assert!(case.keys("DEC-06").is_empty());
    assert!(matches!(
        case.status("DEC-06"),
        Some(Status::NotApplicable(_))
    ));
}

fn benefits() -> Value {
    system(
        "benefits",
        "2026-08-01T00:00:00Z",
        json!({"risk": "high", "role": "deployer", "annex_iii_point": "5(a)"}),
    )
}

fn claim(id: &str, ts: &str, extra: Value) -> Value {
    with(decision(id, ts, extra), "system", json!("benefits"))
}

#[test]
fn dec06_a_needs_a_notice_before_decisions_on_people() {
    let events = [
        benefits(),
        claim("x0", "2026-09-01T09:00:00Z", json!({"subject_ref": null})),
        claim("x1", "2026-09-02T09:00:00Z", json!({})),
    ];
    let case = check_events(&events, DEPLOYER);
    assert_eq!(case.keys("DEC-06"), [k("system:benefits", "a", "warn")]);
    let f = case.of("DEC-06")[0];
    assert_eq!(locations(f), [(Some("x1"), "main.jsonl", 3)]);
    assert!(f.message.contains("`x1`"), "{}", f.message);
    let told = [
        benefits(),
        notice("n1", "2026-09-01T12:00:00Z", "benefits", None),
        events[1].clone(),
        events[2].clone(),
    ];
    assert!(check_events(&told, DEPLOYER).keys("DEC-06").is_empty());
    // Without `subject_ref` the decisions are not about identified people: out of scope.
    let case = check_events(&events[..2], DEPLOYER);
    assert!(matches!(
        case.status("DEC-06"),
        Some(Status::NotApplicable(_))
    ));
    // A provider's system is not in scope of (a).
    let provider = system(
        "benefits",
        "2026-08-01T00:00:00Z",
        json!({"risk": "high", "role": "provider", "annex_iii_point": "5(a)"}),
    );
    assert!(
        check_events(&[provider, events[2].clone()], DEPLOYER)
            .keys("DEC-06")
            .is_empty()
    );
}

#[test]
fn dec06_is_not_evaluable_without_systems() {
    let case = check_events(&[screen("x1", "2026-03-16T14:00:00Z")], NYC);
    assert!(matches!(
        case.status("DEC-06"),
        Some(Status::NotEvaluable(_))
    ));
}
