//! RET-01…RET-06: too-early disposals against each legal floor.

use serde_json::{Value, json};

use super::*;
use crate::checks::Status;
use crate::testing::{check_events, ev, with};

// --- RET-01 ---------------------------------------------------------------------------------

fn ret01_events(range_end: &str) -> Vec<Value> {
    vec![
        system("credit-scoring", "high", "provider", json!({})),
        decision("x1", "2026-04-20T00:00:00Z", Some("credit-scoring"), false),
        disposal(
            "disp-1",
            "2026-09-01T00:00:00Z",
            "ai_auto_log",
            Some("credit-scoring"),
            "2026-01-01T00:00:00Z",
            range_end,
        ),
    ]
}

#[test]
fn ret01_example_fires_on_a_disposal_of_logs_younger_than_6_months() {
    let cfg = config(PROVIDER, "2026-10-01T00:00:00Z", "");
    let case = check_events(&ret01_events("2026-05-01T00:00:00Z"), &cfg);
    assert_eq!(
        case.keys("RET-01"),
        [k("retention_class:ai_auto_log", "disp-1", "deny")]
    );
    assert_eq!(locs(&case, "RET-01"), [loc("disp-1", 3)]);
    let msg = &case.of("RET-01")[0].message;
    assert!(msg.contains("2026-11-01T00:00:00Z"), "{msg}");
    // The class's own `min` is the same 6 months: the floor takes it, RET-09 (c) does not.
    assert!(
        case.keys("RET-09")
            .iter()
            .all(|(_, d, _)| !d.starts_with('c'))
    );
}

#[test]
fn ret01_example_passes_when_the_range_ends_6_months_before() {
    let cfg = config(PROVIDER, "2026-10-01T00:00:00Z", "");
    let case = check_events(&ret01_events("2026-03-01T00:00:00Z"), &cfg);
    assert!(case.keys("RET-01").is_empty(), "{:?}", case.keys("RET-01"));
    assert_eq!(case.status("RET-01"), Some(&Status::Evaluated));
    assert!(
        case.keys("RET-09")
            .iter()
            .all(|(_, d, _)| !d.starts_with('c'))
    );
}

#[test]
fn ret01_reads_its_floor_param() {
    let cfg = config(
        PROVIDER,
        "2026-10-01T00:00:00Z",
        "[policy.params.RET-01]\nfloor = \"12 months\"\n",
    );
    let case = check_events(&ret01_events("2026-03-01T00:00:00Z"), &cfg);
    assert_eq!(
        case.keys("RET-01"),
        [k("retention_class:ai_auto_log", "disp-1", "deny")]
    );
}

#[test]
fn ret01_floor_applies_only_in_the_packs_systems_else_ret09_c_takes_the_class_min() {
    let cfg = config(
        PROVIDER,
        "2026-10-01T00:00:00Z",
        "[policy.pack.eu-ai-act-provider]\nsystems = [\"other\"]\n",
    );
    let case = check_events(&ret01_events("2026-05-01T00:00:00Z"), &cfg);
    assert!(case.keys("RET-01").is_empty(), "{:?}", case.keys("RET-01"));
    // The class's own `min` (6 months) is still violated; no pack covers the system, so the
    // default level stands.
    assert!(
        case.keys("RET-09")
            .contains(&k("retention_class:ai_auto_log", "c|disp-1", "warn")),
        "{:?}",
        case.keys("RET-09")
    );
}

#[test]
fn ret01_is_not_applicable_without_events_of_high_risk_systems() {
    let events = [
        system("credit-scoring", "limited", "provider", json!({})),
        decision("x1", "2026-04-20T00:00:00Z", Some("credit-scoring"), false),
    ];
    let case = check_events(&events, &config(PROVIDER, "2026-10-01T00:00:00Z", ""));
    assert!(
        not_applicable(&case, "RET-01"),
        "{:?}",
        case.status("RET-01")
    );
}

// --- RET-02 ---------------------------------------------------------------------------------

fn deploy(id: &str, ts: &str, kind: &str) -> Value {
    let attrs = if kind == "started" {
        json!({"model_version": "m@1"})
    } else {
        json!({})
    };
    with(
        on(
            ev(
                id,
                ts,
                &format!("deployment.{kind}"),
                "deployment:dep-1",
                attrs,
            ),
            "credit-scoring",
        ),
        "env",
        json!("production"),
    )
}

fn tech_doc() -> Value {
    on(
        ev(
            "doc-1",
            "2026-04-01T00:00:00Z",
            "document.registered",
            "document:td-1",
            json!({"doc_type": "tech_doc", "describes": ["system:credit-scoring"]}),
        ),
        "credit-scoring",
    )
}

fn ret02_events(stopped: Option<&str>, disposed: &str) -> Vec<Value> {
    let mut events = vec![
        system(
            "credit-scoring",
            "high",
            "provider",
            json!({"placed_on_market": "2026-03-01T00:00:00Z"}),
        ),
        deploy("dep-start", "2026-03-01T00:00:00Z", "started"),
        tech_doc(),
    ];
    if let Some(ts) = stopped {
        events.push(deploy("dep-stop", ts, "stopped"));
    }
    events.push(disposal(
        "disp-td",
        disposed,
        "tech_doc",
        Some("credit-scoring"),
        "2026-01-01T00:00:00Z",
        "2026-04-01T00:00:00Z",
    ));
    events
}

#[test]
fn ret02_a_example_fires_on_tech_doc_disposed_in_2030() {
    let events = ret02_events(Some("2026-06-01T00:00:00Z"), "2030-01-01T00:00:00Z");
    let case = check_events(&events, &config(PROVIDER, "2030-06-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-02"),
        [k("retention_class:tech_doc", "a|disp-td", "deny")]
    );
    assert_eq!(locs(&case, "RET-02"), [loc("disp-td", 5)]);
    let msg = &case.of("RET-02")[0].message;
    // c* is the end of production service, after the placing on the market and the range.
    assert!(
        msg.contains("2036-06-01T00:00:00Z") && msg.contains("production service"),
        "{msg}"
    );
}

#[test]
fn ret02_a_example_passes_after_2036_and_after_the_service_ended() {
    let events = ret02_events(Some("2026-06-01T00:00:00Z"), "2036-07-01T00:00:00Z");
    let case = check_events(&events, &config(PROVIDER, "2036-08-01T00:00:00Z", ""));
    assert!(case.keys("RET-02").is_empty(), "{:?}", case.keys("RET-02"));
    assert_eq!(case.status("RET-02"), Some(&Status::Evaluated));
}

/// §5.5 step 5 with the `placed_on_market` clock: a deployment of the system still serves at the
/// disposal, so the clock has not started and any disposal is too early.
#[test]
fn ret02_a_too_early_while_a_production_deployment_still_serves() {
    let events = ret02_events(None, "2037-01-01T00:00:00Z");
    let case = check_events(&events, &config(PROVIDER, "2037-02-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-02"),
        [k("retention_class:tech_doc", "a|disp-td", "deny")]
    );
    let msg = &case.of("RET-02")[0].message;
    assert!(msg.contains("still serving"), "{msg}");
    // Stopped before the disposal and ten years past: passes.
    let events = ret02_events(Some("2026-12-01T00:00:00Z"), "2037-01-01T00:00:00Z");
    let case = check_events(&events, &config(PROVIDER, "2037-02-01T00:00:00Z", ""));
    assert!(case.keys("RET-02").is_empty(), "{:?}", case.keys("RET-02"));
}

#[test]
fn ret02_b_fires_without_placed_on_market_once_in_production() {
    let events = [
        system("credit-scoring", "high", "provider", json!({})),
        deploy("dep-start", "2026-03-01T00:00:00Z", "started"),
    ];
    let case = check_events(&events, &config(PROVIDER, "2026-09-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-02"),
        [k("system:credit-scoring", "b", "warn")]
    );
    assert_eq!(
        locs(&case, "RET-02"),
        [loc("sys-credit-scoring", 1), loc("dep-start", 2)]
    );
    let events = [
        system(
            "credit-scoring",
            "high",
            "provider",
            json!({"placed_on_market": "2026-03-01T00:00:00Z"}),
        ),
        deploy("dep-start", "2026-03-01T00:00:00Z", "started"),
    ];
    let case = check_events(&events, &config(PROVIDER, "2026-09-01T00:00:00Z", ""));
    assert!(case.keys("RET-02").is_empty(), "{:?}", case.keys("RET-02"));
}

#[test]
fn ret02_is_not_applicable_without_a_high_risk_provider_system() {
    let events = [
        system("credit-scoring", "high", "deployer", json!({})),
        deploy("dep-start", "2026-03-01T00:00:00Z", "started"),
    ];
    let case = check_events(&events, &config(PROVIDER, "2026-09-01T00:00:00Z", ""));
    assert!(
        not_applicable(&case, "RET-02"),
        "{:?}",
        case.status("RET-02")
    );
}

// --- RET-03 ---------------------------------------------------------------------------------

fn ret03_events(range_end: &str) -> Vec<Value> {
    vec![
        access("acc-1", "2025-12-15T00:00:00Z", "card-fraud"),
        disposal(
            "disp-pci",
            "2026-10-01T00:00:00Z",
            "ai_auto_log",
            Some("card-fraud"),
            "2025-01-01T00:00:00Z",
            range_end,
        ),
    ]
}

#[test]
fn ret03_example_fires_on_nine_month_old_access_events_disposed() {
    let cfg = config(&["pci-dss"], "2026-10-02T00:00:00Z", "");
    let case = check_events(&ret03_events("2026-01-01T00:00:00Z"), &cfg);
    assert_eq!(
        case.keys("RET-03"),
        [k("retention_class:ai_auto_log", "disp-pci", "deny")]
    );
    assert_eq!(locs(&case, "RET-03"), [loc("disp-pci", 2)]);
}

#[test]
fn ret03_example_passes_when_the_range_ends_12_months_before() {
    let cfg = config(&["pci-dss"], "2026-10-02T00:00:00Z", "");
    let case = check_events(&ret03_events("2025-10-01T00:00:00Z"), &cfg);
    assert!(case.keys("RET-03").is_empty(), "{:?}", case.keys("RET-03"));
    // Outside the pack's systems the floor does not apply.
    let cfg = config(
        &["pci-dss"],
        "2026-10-02T00:00:00Z",
        "[policy.pack.pci-dss]\nsystems = [\"payments\"]\n",
    );
    let case = check_events(&ret03_events("2026-01-01T00:00:00Z"), &cfg);
    assert!(case.keys("RET-03").is_empty(), "{:?}", case.keys("RET-03"));
}

#[test]
fn ret03_is_not_applicable_without_audit_log_events() {
    let events = [system("card-fraud", "high", "provider", json!({}))];
    let case = check_events(&events, &config(&["pci-dss"], "2026-10-02T00:00:00Z", ""));
    assert!(
        not_applicable(&case, "RET-03"),
        "{:?}",
        case.status("RET-03")
    );
}

// --- RET-04 ---------------------------------------------------------------------------------

fn policy_doc() -> Value {
    ev(
        "pol-1",
        "2020-01-01T00:00:00Z",
        "document.registered",
        "document:privacy-policy",
        json!({"doc_type": "policy", "effective_to": "2025-12-31T00:00:00Z"}),
    )
}

#[test]
fn ret04_example_fires_on_a_policy_disposed_in_2029() {
    let events = [
        policy_doc(),
        disposal(
            "disp-pol",
            "2029-06-01T00:00:00Z",
            "hipaa_doc",
            None,
            "2020-01-01T00:00:00Z",
            "2025-12-31T00:00:00Z",
        ),
    ];
    let case = check_events(&events, &config(&["hipaa"], "2029-07-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-04"),
        [k("retention_class:hipaa_doc", "disp-pol", "deny")]
    );
    assert_eq!(locs(&case, "RET-04"), [loc("disp-pol", 2)]);
    assert!(
        case.of("RET-04")[0]
            .message
            .contains("2031-12-31T00:00:00Z")
    );
}

#[test]
fn ret04_example_passes_when_kept_until_2031_12_31() {
    let events = [
        policy_doc(),
        disposal(
            "disp-pol",
            "2031-12-31T00:00:00Z",
            "hipaa_doc",
            None,
            "2020-01-01T00:00:00Z",
            "2025-12-31T00:00:00Z",
        ),
    ];
    let case = check_events(&events, &config(&["hipaa"], "2032-01-01T00:00:00Z", ""));
    assert!(case.keys("RET-04").is_empty(), "{:?}", case.keys("RET-04"));
    assert_eq!(case.status("RET-04"), Some(&Status::Evaluated));
}

#[test]
fn ret04_audit_log_floor_applies_only_when_set() {
    let events = [
        access("acc-1", "2025-12-15T00:00:00Z", "ehr"),
        disposal(
            "disp-log",
            "2028-01-01T00:00:00Z",
            "ai_auto_log",
            Some("ehr"),
            "2025-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
        ),
    ];
    let case = check_events(&events, &config(&["hipaa"], "2028-02-01T00:00:00Z", ""));
    assert!(case.keys("RET-04").is_empty(), "{:?}", case.keys("RET-04"));
    assert!(not_applicable(&case, "RET-04"));
    let cfg = config(
        &["hipaa"],
        "2028-02-01T00:00:00Z",
        "[policy.params.RET-04]\naudit_log_floor = \"6 years\"\n",
    );
    let case = check_events(&events, &cfg);
    assert_eq!(
        case.keys("RET-04"),
        [k("retention_class:ai_auto_log", "disp-log", "deny")]
    );
}

// --- RET-05 ---------------------------------------------------------------------------------

fn ret05_events(class: &str, disposed: &str) -> Vec<Value> {
    vec![
        with(
            access("acc-1", "2023-12-01T00:00:00Z", "brokerage"),
            "retention_class",
            json!(class),
        ),
        disposal(
            "disp-sec",
            disposed,
            class,
            Some("brokerage"),
            "2023-01-01T00:00:00Z",
            "2024-01-01T00:00:00Z",
        ),
    ]
}

#[test]
fn ret05_example_fires_on_17a4_b_records_disposed_after_2_years() {
    let events = ret05_events("sec_17a4_b", "2026-01-01T00:00:00Z");
    let case = check_events(&events, &config(&["sec-17a4"], "2026-02-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-05"),
        [k("retention_class:sec_17a4_b", "disp-sec", "deny")]
    );
    assert_eq!(locs(&case, "RET-05"), [loc("disp-sec", 2)]);
    // The same two years are too short for 17a-4(a) records too.
    let events = ret05_events("sec_17a4_a", "2029-01-01T00:00:00Z");
    let case = check_events(&events, &config(&["sec-17a4"], "2029-02-01T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-05"),
        [k("retention_class:sec_17a4_a", "disp-sec", "deny")]
    );
}

#[test]
fn ret05_example_passes_after_3_years() {
    let events = ret05_events("sec_17a4_b", "2027-01-02T00:00:00Z");
    let case = check_events(&events, &config(&["sec-17a4"], "2027-02-01T00:00:00Z", ""));
    assert!(case.keys("RET-05").is_empty(), "{:?}", case.keys("RET-05"));
    assert_eq!(case.status("RET-05"), Some(&Status::Evaluated));
    let events = [access("acc-1", "2023-12-01T00:00:00Z", "brokerage")];
    let case = check_events(&events, &config(&["sec-17a4"], "2027-02-01T00:00:00Z", ""));
    assert!(
        not_applicable(&case, "RET-05"),
        "{:?}",
        case.status("RET-05")
    );
}

// --- RET-06 ---------------------------------------------------------------------------------

fn ret06_events(disposed: &str) -> Vec<Value> {
    vec![
        with(
            ev(
                "ev-1",
                "2019-06-01T00:00:00Z",
                "access",
                "resource:workpapers",
                json!({"action": "export", "recipient": "external-auditor"}),
            ),
            "retention_class",
            json!("sox_evidence"),
        ),
        disposal(
            "disp-sox",
            disposed,
            "sox_evidence",
            None,
            "2019-01-01T00:00:00Z",
            "2020-01-01T00:00:00Z",
        ),
    ]
}

#[test]
fn ret06_example_fires_on_audit_evidence_disposed_after_5_years() {
    let case = check_events(
        &ret06_events("2025-01-01T00:00:00Z"),
        &config(&["sox"], "2025-02-01T00:00:00Z", ""),
    );
    assert_eq!(
        case.keys("RET-06"),
        [k("retention_class:sox_evidence", "disp-sox", "warn")]
    );
    assert_eq!(locs(&case, "RET-06"), [loc("disp-sox", 2)]);
}

#[test]
fn ret06_example_passes_after_7_years() {
    let case = check_events(
        &ret06_events("2027-01-02T00:00:00Z"),
        &config(&["sox"], "2027-02-01T00:00:00Z", ""),
    );
    assert!(case.keys("RET-06").is_empty(), "{:?}", case.keys("RET-06"));
    let case = check_events(
        &[access("acc-1", "2023-12-01T00:00:00Z", "ledger")],
        &config(&["sox"], "2027-02-01T00:00:00Z", ""),
    );
    assert!(
        not_applicable(&case, "RET-06"),
        "{:?}",
        case.status("RET-06")
    );
}

#[test]
fn ret_rules_are_pre_effective_under_the_ai_act_before_2026_08_02() {
    let events = ret01_events("2026-05-01T00:00:00Z")
        .into_iter()
        .map(|e| {
            if e["id"] == "disp-1" {
                with(e, "ts", json!("2026-07-01T00:00:00Z"))
            } else {
                e
            }
        })
        .collect::<Vec<_>>();
    let case = check_events(&events, &config(PROVIDER, "2026-07-15T00:00:00Z", ""));
    assert_eq!(
        case.keys("RET-01"),
        [k("retention_class:ai_auto_log", "disp-1", "info")]
    );
}
