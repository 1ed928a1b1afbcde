//! Test fixtures shared by the INC and DEP-06 tests: a system `credit`, incident `inc-1`,
//! production deployment `dep-7`. Lines are numbered from 1 in `main.jsonl`.

pub use crate::testing::{k, merge};
use serde_json::{Value, json};

use crate::checks::{Finding, Status};
use crate::testing::{Case, ev, with};

pub const PROVIDER: &str = "[policy]\npacks = [\"eu-ai-act-provider\"]\n";
pub const DEPLOYER: &str = "[policy]\npacks = [\"eu-ai-act-deployer\"]\n";
pub const GDPR: &str = "[policy]\npacks = [\"gdpr\"]\n";

/// `(event id, line)` of a finding's evidence, all in `main.jsonl`.
pub fn locs(f: &Finding) -> Vec<(&str, u64)> {
    f.evidence
        .iter()
        .map(|e| {
            assert_eq!(e.path.rsplit('/').next(), Some("main.jsonl"), "{e:?}");
            (e.event.as_deref().unwrap_or(""), e.line)
        })
        .collect()
}

pub fn not_evaluable(case: &Case, rule: &str) -> bool {
    matches!(case.status(rule), Some(Status::NotEvaluable(_)))
}

pub fn not_applicable(case: &Case, rule: &str) -> bool {
    matches!(case.status(rule), Some(Status::NotApplicable(_)))
}

pub fn system(name: &str, role: &str, risk: &str) -> Value {
    with(
        ev(
            &format!("sys-{name}"),
            "2025-01-01T00:00:00Z",
            "system.registered",
            &format!("system:{name}"),
            json!({"name": name, "role": role, "risk": risk, "annex_iii_point": "5(b)"}),
        ),
        "system",
        json!(name),
    )
}

pub fn provider_system() -> Value {
    system("credit", "provider", "high")
}

pub fn deployer_system() -> Value {
    system("credit", "deployer", "high")
}

/// An event of incident `inc` in system `credit`.
pub fn incident(id: &str, ts: &str, kind: &str, inc: &str, attrs: Value) -> Value {
    with(
        ev(id, ts, kind, &format!("incident:{inc}"), attrs),
        "system",
        json!("credit"),
    )
}

/// `incident.opened` of `inc-1`, complete and not serious, aware at `ts`, affecting `dep-7`.
pub fn opened(id: &str, ts: &str, extra: Value) -> Value {
    let base = json!({
        "title": "Score drift", "severity": "high", "serious": false, "awareness_ts": ts,
        "affects": ["deployment:dep-7"], "evidence": ["x1"], "personal_data_breach": false,
    });
    incident(id, ts, "incident.opened", "inc-1", merge(base, extra))
}

pub fn updated(id: &str, ts: &str, extra: Value) -> Value {
    incident(
        id,
        ts,
        "incident.updated",
        "inc-1",
        merge(json!({"title": "Score drift"}), extra),
    )
}

pub fn closed(id: &str, ts: &str, extra: Value) -> Value {
    let base = json!({
        "title": "Score drift", "root_cause": "bureau changed its scale",
        "corrective_actions": "rescaled the feed",
    });
    incident(id, ts, "incident.closed", "inc-1", merge(base, extra))
}

pub fn notified(id: &str, ts: &str, recipient: &str, extra: Value) -> Value {
    incident(
        id,
        ts,
        "incident.notified",
        "inc-1",
        merge(json!({"recipient": recipient}), extra),
    )
}

/// A production `deployment.KIND` of `dep` (`version` on started/changed).
pub fn deploy(id: &str, ts: &str, kind: &str, dep: &str, version: Option<&str>) -> Value {
    let attrs = version.map_or_else(|| json!({}), |v| json!({"model_version": v}));
    let e = ev(
        id,
        ts,
        &format!("deployment.{kind}"),
        &format!("deployment:{dep}"),
        attrs,
    );
    with(
        with(e, "env", json!("production")),
        "system",
        json!("credit"),
    )
}

/// `[report] as_of`.
pub fn as_of(config: &str, t: &str) -> String {
    format!("{config}[report]\nas_of = \"{t}\"\n")
}
