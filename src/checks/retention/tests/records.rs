//! RET-07…RET-09: retained events, disposal records, holds and conflicts.

use serde_json::{Value, json};

use super::*;
use crate::checks::Status;
use crate::testing::{check_events, ev, with};

// --- RET-07 ---------------------------------------------------------------------------------

const MAX_3Y: &str = "[retention.classes.ai_auto_log]\nmax = \"3 years\"\n";

fn ret07_events() -> Vec<Value> {
    vec![
        decision("x1", "2023-06-01T00:00:00Z", Some("credit-scoring"), true),
        decision("x2", "2023-06-02T00:00:00Z", Some("credit-scoring"), true),
        decision("x3", "2023-06-03T00:00:00Z", Some("credit-scoring"), false),
        decision("x4", "2023-06-04T00:00:00Z", None, true),
        // Not past the max at T.
        decision("x5", "2026-01-01T00:00:00Z", Some("credit-scoring"), true),
    ]
}

#[test]
fn ret07_a_and_c_example_fire_on_decisions_past_their_max() {
    let cfg = config(&["gdpr"], "2026-09-30T00:00:00Z", MAX_3Y);
    let case = check_events(&ret07_events(), &cfg);
    assert_eq!(
        case.keys("RET-07"),
        [
            k("retention_class:ai_auto_log", "a|", "deny"),
            k("retention_class:ai_auto_log", "a|credit-scoring", "deny"),
            k("retention_class:ai_auto_log", "c|credit-scoring", "info"),
        ]
    );
    let f = case
        .of("RET-07")
        .into_iter()
        .find(|f| f.discriminator == "a|credit-scoring")
        .unwrap();
    assert_eq!(f.count, Some(2));
    let ev: Vec<_> = f
        .evidence
        .iter()
        .map(|e| (e.event.clone().unwrap(), e.line))
        .collect();
    assert_eq!(ev, [("x1".to_string(), 1), ("x2".to_string(), 2)]);
    assert!(f.message.contains("2023-06-01T00:00:00Z"), "{}", f.message);
}

#[test]
fn ret07_a_passes_when_disposed_or_held() {
    let cfg = config(&["gdpr"], "2026-09-30T00:00:00Z", MAX_3Y);
    // Disposed: only the recent decision is left.
    let case = check_events(&ret07_events()[4..], &cfg);
    assert!(case.keys("RET-07").is_empty(), "{:?}", case.keys("RET-07"));
    assert_eq!(case.status("RET-07"), Some(&Status::Evaluated));
    // Held: a hold on the system, and an envelope hold on the decision without a system.
    let mut events = ret07_events();
    events[3] = with(events[3].clone(), "legal_holds", json!(["H-1"]));
    events.push(hold_set(
        "h1",
        "2026-02-01T00:00:00Z",
        "H-1",
        json!(["system:credit-scoring"]),
    ));
    let case = check_events(&events, &cfg);
    assert!(case.keys("RET-07").is_empty(), "{:?}", case.keys("RET-07"));
    // A released hold holds nothing.
    events.push(hold_released("h2", "2026-03-01T00:00:00Z", "H-1"));
    let case = check_events(&events, &cfg);
    assert_eq!(case.keys("RET-07").len(), 3, "{:?}", case.keys("RET-07"));
}

#[test]
fn ret07_a_waits_for_the_effective_minimum() {
    // max 3 months, but RET-01 keeps logs of high-risk systems 6 months.
    let cfg = config(
        PROVIDER,
        "2026-11-01T00:00:00Z",
        "[retention.classes.ai_auto_log]\nmax = \"3 months\"\n",
    );
    let events = [
        system("credit-scoring", "high", "provider", json!({})),
        decision("x1", "2026-06-01T00:00:00Z", Some("credit-scoring"), true),
    ];
    let case = check_events(&events, &cfg);
    assert!(
        case.status("RET-07").is_none(),
        "RET-07 is not in the provider pack"
    );
    let cfg = format!("{cfg}\n");
    let cfg = cfg.replace(
        "packs = [\"eu-ai-act-provider\"]",
        "packs = [\"eu-ai-act-provider\", \"gdpr\"]",
    );
    let case = check_events(&events, &cfg);
    assert!(case.keys("RET-07").is_empty(), "{:?}", case.keys("RET-07"));
    let late = cfg.replace("2026-11-01T00:00:00Z", "2026-12-02T00:00:00Z");
    let case = check_events(&events, &late);
    assert_eq!(
        case.keys("RET-07"),
        [k("retention_class:ai_auto_log", "a|credit-scoring", "deny")]
    );
}

#[test]
fn ret07_b_fires_on_an_incomplete_disposal_record() {
    let bad = ev(
        "disp-1",
        "2026-01-01T00:00:00Z",
        "retention.disposed",
        "resource:audit-log",
        json!({"retention_class": "ai_auto_log", "count": 3, "range_end": "2025-01-01T00:00:00Z"}),
    );
    let case = check_events(&[bad], &config(&["gdpr"], "2026-02-01T00:00:00Z", ""));
    assert_eq!(case.keys("RET-07"), [k("event:disp-1", "b|disp-1", "warn")]);
    assert_eq!(locs(&case, "RET-07"), [loc("disp-1", 1)]);
    let msg = &case.of("RET-07")[0].message;
    assert!(
        msg.contains("`range_start`")
            && msg.contains("`basis`")
            && msg.contains("`removed_ids_digest`"),
        "{msg}"
    );
    let good = disposal(
        "disp-1",
        "2026-01-01T00:00:00Z",
        "ai_auto_log",
        None,
        "2024-01-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
    );
    let case = check_events(&[good], &config(&["gdpr"], "2026-02-01T00:00:00Z", ""));
    assert!(case.keys("RET-07").is_empty(), "{:?}", case.keys("RET-07"));
}

fn ret07_d_events(left: Value) -> Vec<Value> {
    vec![
        left,
        decision("x2", "2024-03-01T00:00:00Z", Some("credit-scoring"), true),
        disposal(
            "disp-1",
            "2024-06-01T00:00:00Z",
            "ai_auto_log",
            Some("credit-scoring"),
            "2023-01-01T00:00:00Z",
            "2023-12-31T00:00:00Z",
        ),
    ]
}

#[test]
fn ret07_d_fires_when_covered_events_remain() {
    let left = decision("x1", "2023-06-01T00:00:00Z", Some("credit-scoring"), true);
    let case = check_events(
        &ret07_d_events(left),
        &config(&["gdpr"], "2024-07-01T00:00:00Z", ""),
    );
    assert_eq!(case.keys("RET-07"), [k("event:disp-1", "d|disp-1", "warn")]);
    assert_eq!(locs(&case, "RET-07"), [loc("x1", 1), loc("disp-1", 3)]);
    assert_eq!(case.of("RET-07")[0].count, Some(1));
}

#[test]
fn ret07_d_passes_for_held_or_uncovered_events() {
    let cfg = config(&["gdpr"], "2024-07-01T00:00:00Z", "");
    // Another system.
    let other = decision("x1", "2023-06-01T00:00:00Z", Some("fraud"), true);
    assert!(
        check_events(&ret07_d_events(other), &cfg)
            .keys("RET-07")
            .is_empty()
    );
    // Held at the disposal (the hold makes RET-08 look at the disposal, not RET-07).
    let held = with(
        decision("x1", "2023-06-01T00:00:00Z", Some("credit-scoring"), true),
        "legal_holds",
        json!(["H-1"]),
    );
    let mut events = vec![hold_set(
        "h1",
        "2023-01-01T00:00:00Z",
        "H-1",
        json!(["decision:x1"]),
    )];
    events.extend(ret07_d_events(held));
    let case = check_events(&events, &cfg);
    assert!(case.keys("RET-07").is_empty(), "{:?}", case.keys("RET-07"));
}

#[test]
fn ret07_is_not_evaluable_without_a_max_or_a_disposal() {
    let case = check_events(
        &ret07_events(),
        &config(&["gdpr"], "2026-09-30T00:00:00Z", ""),
    );
    assert!(
        not_evaluable(&case, "RET-07"),
        "{:?}",
        case.status("RET-07")
    );
}

// --- RET-08 ---------------------------------------------------------------------------------

fn ret08_events(scope: Value, released: Option<&str>) -> Vec<Value> {
    let mut events = vec![
        with(
            ev(
                "mv-1",
                "2026-01-01T00:00:00Z",
                "model.registered",
                "model_version:m@1",
                json!({"model": "m", "version": "1"}),
            ),
            "system",
            json!("credit-scoring"),
        ),
        hold_set("hold-1", "2026-05-01T00:00:00Z", "H-12", scope),
    ];
    if let Some(ts) = released {
        events.push(hold_released("hold-2", ts, "H-12"));
    }
    events.push(disposal(
        "disp-1",
        "2026-06-01T00:00:00Z",
        "ai_auto_log",
        Some("credit-scoring"),
        "2025-01-01T00:00:00Z",
        "2025-06-01T00:00:00Z",
    ));
    events
}

#[test]
fn ret08_a_example_fires_on_a_disposal_under_a_hold_on_its_system() {
    let events = ret08_events(json!(["system:credit-scoring"]), None);
    let case = check_events(&events, &config(GDPR, "2026-07-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-08"),
        [k("legal_hold:H-12", "a|disp-1", "deny")]
    );
    assert_eq!(locs(&case, "RET-08"), [loc("hold-1", 2), loc("disp-1", 3)]);
    // An empty scope covers everything.
    let events = ret08_events(json!([]), None);
    let case = check_events(&events, &config(GDPR, "2026-07-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-08"),
        [k("legal_hold:H-12", "a|disp-1", "deny")]
    );
}

#[test]
fn ret08_a_example_passes_after_the_release() {
    let events = ret08_events(
        json!(["system:credit-scoring"]),
        Some("2026-05-20T00:00:00Z"),
    );
    let case = check_events(&events, &config(GDPR, "2026-07-01T00:00:00Z", ""));
    assert!(case.keys("RET-08").is_empty(), "{:?}", case.keys("RET-08"));
    assert_eq!(case.status("RET-08"), Some(&Status::Evaluated));
    // A hold on another system does not reach the disposal.
    let events = ret08_events(json!(["system:fraud"]), None);
    let case = check_events(&events, &config(GDPR, "2026-07-01T00:00:00Z", ""));
    assert!(case.keys("RET-08").is_empty(), "{:?}", case.keys("RET-08"));
}

#[test]
fn ret08_b_fires_when_the_hold_names_entities_of_the_disposals_system() {
    let events = ret08_events(json!(["model_version:m@1"]), None);
    let case = check_events(&events, &config(GDPR, "2026-07-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-08"),
        [k("legal_hold:H-12", "b|disp-1", "warn")]
    );
    assert!(case.of("RET-08")[0].message.contains("confirm"));
}

#[test]
fn ret08_c_fires_on_a_hold_named_but_never_set() {
    let named = with(
        decision("x1", "2026-03-01T00:00:00Z", Some("credit-scoring"), false),
        "legal_holds",
        json!(["H-9"]),
    );
    let case = check_events(&[named], &config(GDPR, "2026-07-01T00:00:00Z", ""));
    assert_eq!(case.keys("RET-08"), [k("legal_hold:H-9", "c", "warn")]);
    assert_eq!(locs(&case, "RET-08"), [loc("x1", 1)]);
    // Set: no (c).
    let named = with(
        decision("x1", "2026-03-01T00:00:00Z", Some("credit-scoring"), false),
        "legal_holds",
        json!(["H-9"]),
    );
    let set = hold_set("h1", "2026-02-01T00:00:00Z", "H-9", json!(["decision:x1"]));
    let case = check_events(&[set, named], &config(GDPR, "2026-07-01T00:00:00Z", ""));
    assert!(case.keys("RET-08").is_empty(), "{:?}", case.keys("RET-08"));
}

#[test]
fn ret08_is_not_evaluable_without_holds() {
    let events = [disposal(
        "disp-1",
        "2026-06-01T00:00:00Z",
        "ai_auto_log",
        None,
        "2025-01-01T00:00:00Z",
        "2025-06-01T00:00:00Z",
    )];
    let case = check_events(&events, &config(GDPR, "2026-07-01T00:00:00Z", ""));
    assert!(
        not_evaluable(&case, "RET-08"),
        "{:?}",
        case.status("RET-08")
    );
}

// --- RET-09 ---------------------------------------------------------------------------------

fn ret09_events() -> Vec<Value> {
    vec![
        system("credit-scoring", "high", "provider", json!({})),
        decision("x1", "2026-08-10T00:00:00Z", Some("credit-scoring"), false),
        decision("x2", "2026-08-11T00:00:00Z", Some("credit-scoring"), false),
    ]
}

#[test]
fn ret09_a_example_fires_when_the_max_is_below_the_ret01_floor() {
    let cfg = config(
        PROVIDER,
        "2026-10-01T00:00:00Z",
        "[retention.classes.ai_auto_log]\nmax = \"3 months\"\n",
    );
    let case = check_events(&ret09_events(), &cfg);
    assert_eq!(
        case.keys("RET-09"),
        [k("retention_class:ai_auto_log", "a|RET-01", "deny")]
    );
    let f = case.of("RET-09")[0];
    assert_eq!(f.count, Some(2));
    assert_eq!(locs(&case, "RET-09"), [loc("x1", 2), loc("x2", 3)]);
    assert!(
        f.message
            .contains("restrict it from 2026-11-10T00:00:00Z until 2027-02-10T00:00:00Z"),
        "{}",
        f.message
    );
}

#[test]
fn ret09_a_example_passes_with_a_12_month_max() {
    let cfg = config(
        PROVIDER,
        "2026-10-01T00:00:00Z",
        "[retention.classes.ai_auto_log]\nmax = \"12 months\"\n",
    );
    let case = check_events(&ret09_events(), &cfg);
    assert!(case.keys("RET-09").is_empty(), "{:?}", case.keys("RET-09"));
    assert_eq!(case.status("RET-09"), Some(&Status::Evaluated));
}

#[test]
fn ret09_a_names_min_when_the_classs_own_min_binds() {
    // No legal floor under gdpr; the class's own min (6 months) is above its max.
    let cfg = config(
        GDPR,
        "2026-10-01T00:00:00Z",
        "[retention.classes.ai_auto_log]\nmin = \"6 months\"\nmax = \"3 months\"\n",
    );
    let case = check_events(&ret09_events(), &cfg);
    assert_eq!(
        case.keys("RET-09"),
        [k("retention_class:ai_auto_log", "a|min", "deny")]
    );
}

#[test]
fn ret09_b_fires_on_personal_events_in_a_class_without_max() {
    let events = [decision(
        "x1",
        "2026-08-10T00:00:00Z",
        Some("credit-scoring"),
        true,
    )];
    let case = check_events(&events, &config(GDPR, "2026-10-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-09"),
        [k("retention_class:ai_auto_log", "b", "warn")]
    );
    assert_eq!(locs(&case, "RET-09"), [loc("x1", 1)]);
    let case = check_events(
        &events,
        &config(
            GDPR,
            "2026-10-01T00:00:00Z",
            "[retention.classes.ai_auto_log]\nmax = \"2 years\"\n",
        ),
    );
    assert!(case.keys("RET-09").is_empty(), "{:?}", case.keys("RET-09"));
    // A class marked personal needs a max even without events.
    let case = check_events(
        &events,
        &config(
            GDPR,
            "2026-10-01T00:00:00Z",
            "[retention.classes.ai_auto_log]\nmax = \"2 years\"\n[retention.classes.bias_special]\npersonal = true\n",
        ),
    );
    assert_eq!(
        case.keys("RET-09"),
        [k("retention_class:bias_special", "b", "warn")]
    );
}

#[test]
fn ret09_c_fires_on_a_disposal_before_the_classs_own_min() {
    let events = [disposal(
        "disp-1",
        "2026-03-01T00:00:00Z",
        "ai_auto_log",
        None,
        "2025-12-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
    )];
    let case = check_events(&events, &config(GDPR, "2026-04-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-09"),
        [k("retention_class:ai_auto_log", "c|disp-1", "warn")]
    );
    assert_eq!(locs(&case, "RET-09"), [loc("disp-1", 1)]);
    let events = [disposal(
        "disp-1",
        "2026-07-01T00:00:00Z",
        "ai_auto_log",
        None,
        "2025-12-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
    )];
    let case = check_events(&events, &config(GDPR, "2026-08-01T00:00:00Z", ""));
    assert!(case.keys("RET-09").is_empty(), "{:?}", case.keys("RET-09"));
}

#[test]
fn ret09_d_fires_on_an_unknown_envelope_class() {
    let events = [
        decision("x1", "2026-08-10T00:00:00Z", None, false),
        with(
            decision("x2", "2026-08-11T00:00:00Z", None, false),
            "retention_class",
            json!("nope"),
        ),
    ];
    let case = check_events(&events, &config(GDPR, "2026-10-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-09"),
        [k("retention_class:nope", "d", "warn")]
    );
    assert_eq!(locs(&case, "RET-09"), [loc("x2", 2)]);
    let events = [with(
        decision("x2", "2026-08-11T00:00:00Z", None, false),
        "retention_class",
        json!("sox_evidence"),
    )];
    let case = check_events(&events, &config(GDPR, "2026-10-01T00:00:00Z", ""));
    assert!(case.keys("RET-09").is_empty(), "{:?}", case.keys("RET-09"));
}

#[test]
fn ret09_is_not_evaluable_without_events() {
    let case = check_events(&[], &config(GDPR, "2026-10-01T00:00:00Z", ""));
    assert!(
        not_evaluable(&case, "RET-09"),
        "{:?}",
        case.status("RET-09")
    );
}
