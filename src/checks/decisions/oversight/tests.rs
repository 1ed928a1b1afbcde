use serde_json::{Value, json};

use super::super::fixtures::{PROVIDER, action, decision, k, locations, started, system};
use crate::checks::Status;
use crate::testing::{check_events, with};

fn keys(events: &[Value], extra: &str, rule: &str) -> Vec<(String, String, String)> {
    check_events(events, &format!("{PROVIDER}{extra}")).keys(rule)
}

fn override_(id: &str, ts: &str, extra: Value) -> Value {
    let mut attrs = json!({"action": "override", "reviewer": "rev-1",
        "reason": "income verified manually", "new_output": "approve"});
    for (key, v) in extra.as_object().unwrap() {
        if v.is_null() {
            attrs.as_object_mut().unwrap().remove(key);
        } else {
            attrs[key] = v.clone();
        }
    }
    action(id, ts, "x1", attrs)
}

// --- DEC-04 ---------------------------------------------------------------------------------

#[test]
fn dec04_a_fires_on_the_example_and_passes_with_a_reason() {
    let x = decision("x1", "2026-09-01T10:00:00Z", json!({}));
    let bare = override_("o1", "2026-09-01T11:00:00Z", json!({"reason": null}));
    let case = check_events(&[x.clone(), bare.clone()], PROVIDER);
    assert_eq!(case.keys("DEC-04"), [k("decision:x1", "a", "warn")]);
    assert_eq!(
        locations(case.of("DEC-04")[0]),
        [(Some("o1"), "main.jsonl", 2)]
    );
    let fixed = override_("o1", "2026-09-01T11:00:00Z", json!({}));
    assert!(keys(&[x.clone(), fixed], "", "DEC-04").is_empty());
    // The envelope reason and the rationale summary count as reasons too.
    let envelope = with(bare.clone(), "reason", json!("income verified manually"));
    assert!(keys(&[x.clone(), envelope], "", "DEC-04").is_empty());
    let summary = with(bare, "rationale", json!({"summary": "income verified"}));
    assert!(keys(&[x.clone(), summary], "", "DEC-04").is_empty());
    // No new output on an override; a stop without a reason.
    let no_output = override_("o1", "2026-09-01T11:00:00Z", json!({"new_output": null}));
    assert_eq!(
        keys(&[x.clone(), no_output], "", "DEC-04"),
        [k("decision:x1", "a", "warn")]
    );
    let stop = override_(
        "o1",
        "2026-09-01T11:00:00Z",
        json!({"action": "stop", "reason": null, "new_output": null}),
    );
    assert_eq!(
        keys(&[x.clone(), stop], "", "DEC-04"),
        [k("decision:x1", "a", "warn")]
    );
    // A confirm needs neither.
    let confirm = override_(
        "o1",
        "2026-09-01T11:00:00Z",
        json!({"action": "confirm", "reason": null, "new_output": null}),
    );
    assert!(keys(&[x, confirm], "", "DEC-04").is_empty());
}

#[test]
fn dec04_b_checks_the_actor_role() {
    let x = decision("x1", "2026-09-01T10:00:00Z", json!({}));
    let o = override_("o1", "2026-09-01T11:00:00Z", json!({}));
    let no_role = with(o.clone(), "actor", json!({"id": "rev", "type": "human"}));
    let case = check_events(&[x.clone(), no_role], PROVIDER);
    assert_eq!(case.keys("DEC-04"), [k("decision:x1", "b", "warn")]);
    assert_eq!(
        locations(case.of("DEC-04")[0]),
        [(Some("o1"), "main.jsonl", 2)]
    );
    let roles = "[policy.params.DEC-04]\noversight_roles = [\"risk-officer\"]\n";
    assert_eq!(
        keys(&[x.clone(), o.clone()], roles, "DEC-04"),
        [k("decision:x1", "b", "warn")]
    );
    let roles = "[policy.params.DEC-04]\noversight_roles = [\"credit-officer\"]\n";
    assert!(keys(&[x, o], roles, "DEC-04").is_empty());
}

fn high_risk_in_production() -> Vec<Value> {
    vec![
        system(
            "credit",
            "2026-08-01T00:00:00Z",
            json!({"risk": "high", "role": "provider", "annex_iii_point": "5(b)"}),
        ),
        started("d1", "2026-08-10T00:00:00Z", json!({})),
        decision("x1", "2026-09-01T10:00:00Z", json!({})),
    ]
}

#[test]
fn dec04_c_fires_without_a_recent_stop_test() {
    let events = high_risk_in_production();
    let case = check_events(
        &events,
        &format!("{PROVIDER}[report]\nas_of = \"2026-10-01T00:00:00Z\"\n"),
    );
    assert_eq!(case.keys("DEC-04"), [k("system:credit", "c", "warn")]);
    assert_eq!(
        locations(case.of("DEC-04")[0]),
        [
            (Some("sys-credit"), "main.jsonl", 1),
            (Some("d1"), "main.jsonl", 2)
        ]
    );
    let mut tested = events.clone();
    tested.push(override_(
        "o1",
        "2026-09-02T10:00:00Z",
        json!({"action": "stop", "reason": "quarterly stop test", "new_output": null}),
    ));
    let as_of = |t: &str| format!("[report]\nas_of = \"{t}\"\n");
    assert!(keys(&tested, &as_of("2026-10-01T00:00:00Z"), "DEC-04").is_empty());
    // More than 12 months later the test is too old.
    assert_eq!(
        keys(&tested, &as_of("2027-09-03T00:00:00Z"), "DEC-04"),
        [k("system:credit", "c", "warn")]
    );
    // Not high-risk: out of scope.
    let mut limited = events;
    limited[0] = system("credit", "2026-08-01T00:00:00Z", json!({"risk": "limited"}));
    let case = check_events(&limited, PROVIDER);
    assert!(case.keys("DEC-04").is_empty());
    assert!(matches!(
        case.status("DEC-04"),
        Some(Status::NotApplicable(_))
    ));
}

#[test]
fn dec04_d_flags_reviewers_who_confirm_nearly_everything() {
    // The actions' system comes from the decision's deployment.
    let mut events = vec![
        started("d1", "2026-08-10T00:00:00Z", json!({})),
        decision("x1", "2026-09-01T10:00:00Z", json!({})),
    ];
    for i in 0..3 {
        events.push(override_(
            &format!("o{i}"),
            &format!("2026-09-0{}T11:00:00Z", i + 2),
            json!({"action": "confirm"}),
        ));
    }
    let params = "[policy.params.DEC-04]\nmin_n = 3\n";
    let case = check_events(&events, &format!("{PROVIDER}{params}"));
    assert_eq!(case.keys("DEC-04"), [k("system:credit", "d|rev-1", "info")]);
    let f = case.of("DEC-04")[0];
    assert_eq!(f.count, Some(3));
    assert_eq!(
        locations(f),
        [
            (Some("o0"), "main.jsonl", 3),
            (Some("o1"), "main.jsonl", 4),
            (Some("o2"), "main.jsonl", 5)
        ]
    );
    // Outside the window (90 days before the as-of time): not counted.
    let later = "[report]\nas_of = \"2026-12-15T00:00:00Z\"\n";
    assert!(keys(&events, &format!("{params}{later}"), "DEC-04").is_empty());
    // One override among three: below the share.
    events[4] = override_("o2", "2026-09-04T11:00:00Z", json!({}));
    assert!(keys(&events, params, "DEC-04").is_empty());
    // Fewer than min_n actions.
    assert!(keys(&events[..4], params, "DEC-04").is_empty());
}

#[test]
fn dec04_is_not_evaluable_without_actions_or_systems() {
    let case = check_events(
        &[decision("x1", "2026-09-01T10:00:00Z", json!({}))],
        PROVIDER,
    );
    assert!(matches!(
        case.status("DEC-04"),
        Some(Status::NotEvaluable(_))
    ));
}

// --- DEC-05 ---------------------------------------------------------------------------------

fn faces() -> Value {
    system(
        "faces",
        "2026-08-01T00:00:00Z",
        json!({"risk": "high", "annex_iii_point": "1(a)"}),
    )
}

fn search(extra: Value) -> Value {
    let base =
        json!({"output": "match", "reference_db": {"id": "watchlist", "version": "2026-08"}});
    let mut attrs = base;
    for (key, v) in extra.as_object().unwrap() {
        attrs[key] = v.clone();
    }
    let e = decision("x1", "2026-09-01T10:00:00Z", attrs);
    with(e, "system", json!("faces"))
}

fn strip(e: Value, key: &str) -> Value {
    let mut e = e;
    e["attrs"].as_object_mut().unwrap().remove(key);
    e
}

fn verify(id: &str, ts: &str, reviewer: &str) -> Value {
    action(
        id,
        ts,
        "x1",
        json!({"action": "verify", "reviewer": reviewer}),
    )
}

fn confirm(id: &str, ts: &str) -> Value {
    action(
        id,
        ts,
        "x1",
        json!({"action": "confirm", "reviewer": "rev-3"}),
    )
}

#[test]
fn dec05_a_fires_without_input_ref_or_reference_db() {
    let ok = search(json!({}));
    assert!(keys(&[faces(), ok.clone()], "", "DEC-05").is_empty());
    let case = check_events(&[faces(), strip(ok.clone(), "reference_db")], PROVIDER);
    assert_eq!(case.keys("DEC-05"), [k("decision:x1", "a", "deny")]);
    assert_eq!(
        locations(case.of("DEC-05")[0]),
        [(Some("x1"), "main.jsonl", 2)]
    );
    assert_eq!(
        keys(&[faces(), strip(ok.clone(), "input_ref")], "", "DEC-05"),
        [k("decision:x1", "a", "deny")]
    );
    let no_version = search(json!({"reference_db": {"id": "watchlist"}}));
    assert_eq!(
        keys(&[faces(), no_version], "", "DEC-05"),
        [k("decision:x1", "a", "deny")]
    );
    let a_string = search(json!({"reference_db": "watchlist"}));
    assert_eq!(
        keys(&[faces(), a_string], "", "DEC-05"),
        [k("decision:x1", "a", "deny")]
    );
    // Not a match: nothing to trace.
    let no_match = strip(search(json!({"output": "no_match"})), "reference_db");
    let case = check_events(&[faces(), no_match], PROVIDER);
    assert!(case.keys("DEC-05").is_empty());
    assert!(matches!(
        case.status("DEC-05"),
        Some(Status::NotApplicable(_))
    ));
}

#[test]
fn dec05_b_fires_on_the_example_and_passes_with_a_second_verifier() {
    let events = [
        faces(),
        search(json!({})),
        verify("v1", "2026-09-01T10:05:00Z", "rev-1"),
        confirm("c1", "2026-09-01T10:10:00Z"),
    ];
    let case = check_events(&events, PROVIDER);
    assert_eq!(case.keys("DEC-05"), [k("decision:x1", "b", "deny")]);
    assert_eq!(
        locations(case.of("DEC-05")[0]),
        [
            (Some("x1"), "main.jsonl", 2),
            (Some("v1"), "main.jsonl", 3),
            (Some("c1"), "main.jsonl", 4)
        ]
    );
    let mut fixed = events.to_vec();
    fixed.insert(3, verify("v2", "2026-09-01T10:06:00Z", "rev-2"));
    assert!(keys(&fixed, "", "DEC-05").is_empty());
    // The same reviewer twice, or a verify after the confirm, does not count.
    let mut same = events.to_vec();
    same.insert(3, verify("v2", "2026-09-01T10:06:00Z", "rev-1"));
    assert_eq!(keys(&same, "", "DEC-05"), [k("decision:x1", "b", "deny")]);
    let mut after = events.to_vec();
    after.push(verify("v2", "2026-09-01T10:20:00Z", "rev-2"));
    assert_eq!(keys(&after, "", "DEC-05"), [k("decision:x1", "b", "deny")]);
    // Without a confirm, nothing was acted on.
    assert!(keys(&events[..3], "", "DEC-05").is_empty());
}

#[test]
fn dec05_is_not_evaluable_without_a_biometric_system() {
    let case = check_events(&[search(json!({}))], PROVIDER);
    assert!(matches!(
        case.status("DEC-05"),
        Some(Status::NotEvaluable(_))
    ));
}
