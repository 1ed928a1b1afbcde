//! Acceptance scenario: a world written from `EVENT-SCHEMA.md` alone (events only, no knowledge of
//! the code), checked against the findings `RULES.md` says it must produce.
//!
//! `tests/scenario/expected.json` lists every finding (rule, subject, discriminator, level) and the
//! rules that must be `not_evaluable`; `tests/scenario/README.md` gives, for each planted
//! violation, the RULES.md text it relies on. The logs are produced by `author.py` + `chain.py`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

type Key = (String, String, String, String);

fn field(v: &Value, name: &str) -> String {
    match v.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn key(v: &Value) -> Key {
    (
        field(v, "rule"),
        field(v, "subject"),
        field(v, "discriminator"),
        field(v, "level"),
    )
}

fn multiset(items: &[Value]) -> BTreeMap<Key, usize> {
    let mut m = BTreeMap::new();
    for f in items {
        *m.entry(key(f)).or_insert(0) += 1;
    }
    m
}

fn show(k: &Key, n: usize) -> String {
    let times = if n > 1 {
        format!("  (x{n})")
    } else {
        String::new()
    };
    format!("  {:<8} {:<7} {}  [{}]{}", k.0, k.3, k.1, k.2, times)
}

/// Status per rule from `summary.rules` (an array of `{rule, status, ...}`; a map keyed by rule
/// id is accepted too).
fn rule_statuses(summary: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match summary.get("rules") {
        Some(Value::Array(rules)) => {
            for r in rules {
                out.insert(field(r, "rule"), field(r, "status"));
            }
        }
        Some(Value::Object(rules)) => {
            for (id, r) in rules {
                let status = match r {
                    Value::String(s) => s.clone(),
                    other => field(other, "status"),
                };
                out.insert(id.clone(), status);
            }
        }
        _ => {}
    }
    out
}

#[test]
fn scenario_findings_match_the_rule_catalogue() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenario");
    let config = dir.join("trailbook.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_trailbook"))
        .env_remove("SOURCE_DATE_EPOCH")
        .args(["check", "-c"])
        .arg(&config)
        .args(["--format", "json"])
        .output()
        .expect("trailbook runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "trailbook check could not run (exit {code:?})\nstderr:\n{stderr}"
    );

    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("check --format json is not JSON: {e}\nstdout:\n{stdout}\nstderr:\n{stderr}")
    });
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json is readable"),
    )
    .expect("expected.json is JSON");

    let got = multiset(
        report["findings"]
            .as_array()
            .expect("`findings` is an array"),
    );
    let want = multiset(
        expected["findings"]
            .as_array()
            .expect("expected `findings` is an array"),
    );

    let mut problems = Vec::new();

    let mut missing = Vec::new();
    for (k, &n) in &want {
        let have = got.get(k).copied().unwrap_or(0);
        if have < n {
            missing.push(show(k, n - have));
        }
    }
    let mut unexpected = Vec::new();
    for (k, &n) in &got {
        let exp = want.get(k).copied().unwrap_or(0);
        if n > exp {
            unexpected.push(show(k, n - exp));
        }
    }
    if !missing.is_empty() {
        problems.push(format!(
            "missing findings ({}): expected by RULES.md, not reported\n{}",
            missing.len(),
            missing.join("\n")
        ));
    }
    if !unexpected.is_empty() {
        problems.push(format!(
            "unexpected findings ({}): reported, not expected\n{}",
            unexpected.len(),
            unexpected.join("\n")
        ));
    }

    let statuses = rule_statuses(&report["summary"]);
    let mut wrong_status = Vec::new();
    for rule in expected["not_evaluable"]
        .as_array()
        .expect("expected `not_evaluable` is an array")
    {
        let rule = rule.as_str().expect("rule ids are strings");
        let status = statuses.get(rule).map(String::as_str).unwrap_or("(absent)");
        if status != "not_evaluable" {
            wrong_status.push(format!(
                "  {rule:<8} status {status}, expected not_evaluable"
            ));
        }
    }
    if !wrong_status.is_empty() {
        problems.push(format!(
            "rule status ({}):\n{}",
            wrong_status.len(),
            wrong_status.join("\n")
        ));
    }

    let has_deny = want.keys().any(|k| k.3 == "deny");
    if has_deny && code != Some(1) {
        problems.push(format!(
            "exit code {code:?}, expected 1 (unwaived deny findings remain)"
        ));
    }

    assert!(
        problems.is_empty(),
        "scenario disagrees with RULES.md (tests/scenario/README.md explains each expected finding)\n\n{}\n",
        problems.join("\n\n")
    );
}
