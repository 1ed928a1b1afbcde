//! Event builders shared by the DEP tests.

pub use crate::testing::{k, merge};
use serde_json::{Value, json};

use crate::testing::{Case, ev, with};

pub const SR: &str = "[policy]\npacks = [\"sr11-7\"]\n";
pub const EU: &str = "[policy]\npacks = [\"eu-ai-act-provider\"]\n";
pub const NYC: &str = "[policy]\npacks = [\"nyc-ll144\"]\n";

/// `system.registered` of `credit`.
pub fn system(id: &str, ts: &str, attrs: Value) -> Value {
    let attrs = merge(json!({"name": "Credit"}), attrs);
    with(
        ev(id, ts, "system.registered", "system:credit", attrs),
        "system",
        json!("credit"),
    )
}

/// `model.registered` of `m@VERSION` in `credit`.
pub fn reg(id: &str, ts: &str, version: &str, extra: Value) -> Value {
    let attrs = merge(
        json!({"model": "m", "version": version, "owner": "risk-team", "developers": ["ari"],
               "monitoring_thresholds": {"auc": {"min": 0.7}}}),
        extra,
    );
    with(
        ev(
            id,
            ts,
            "model.registered",
            &format!("model_version:m@{version}"),
            attrs,
        ),
        "system",
        json!("credit"),
    )
}

/// A `deployment.KIND` of deployment `d` in production, system `credit`.
pub fn dep(id: &str, ts: &str, kind: &str, d: &str, version: Option<&str>, extra: Value) -> Value {
    let base = match version {
        Some(v) => json!({"model_version": v}),
        None => json!({}),
    };
    let e = ev(
        id,
        ts,
        &format!("deployment.{kind}"),
        &format!("deployment:{d}"),
        merge(base, extra),
    );
    with(
        with(e, "env", json!("production")),
        "system",
        json!("credit"),
    )
}

/// A `document.registered` of `doc` describing `describes`.
pub fn doc(
    id: &str,
    ts: &str,
    doc: &str,
    doc_type: &str,
    describes: &[&str],
    extra: Value,
) -> Value {
    let attrs = merge(json!({"doc_type": doc_type, "describes": describes}), extra);
    ev(
        id,
        ts,
        "document.registered",
        &format!("document:{doc}"),
        attrs,
    )
}

/// `(event id, path, line)` of one rule's findings' evidence, finding by finding.
pub fn evidence(case: &Case, rule: &str) -> Vec<Vec<(String, String, u64)>> {
    case.of(rule)
        .iter()
        .map(|f| {
            f.evidence
                .iter()
                .map(|e| (e.event.clone().unwrap_or_default(), e.path.clone(), e.line))
                .collect()
        })
        .collect()
}

/// `(event id, line)` in `main.jsonl`, for short assertions.
pub fn at(id: &str, line: u64) -> (String, String, u64) {
    (id.into(), "main.jsonl".into(), line)
}

/// A `monitoring.metric` of `dep-7`.
pub fn metric(id: &str, ts: &str, m: &str, value: f64, extra: Value) -> Value {
    ev(
        id,
        ts,
        "monitoring.metric",
        "deployment:dep-7",
        merge(json!({"metric": m, "value": value}), extra),
    )
}

/// The pack config with `[report] as_of`.
pub fn as_of(pack: &str, t: &str) -> String {
    format!("{pack}[report]\nas_of = \"{t}\"\n")
}
