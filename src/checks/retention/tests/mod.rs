//! RET-01…RET-09 over small fixtures (`floors`: RET-01…RET-06, `records`: RET-07…RET-09): each rule's `RULES.md` example, each lettered check firing
//! and passing, with evidence locations (`main.jsonl`, line = the event's position).

mod floors;
mod records;

use crate::testing::k;
use serde_json::{Value, json};

use crate::checks::Status;
use crate::testing::{Case, ev, with};

const PROVIDER: &[&str] = &["eu-ai-act-provider"];
const GDPR: &[&str] = &["gdpr"];

/// Evidence of the first finding of a rule: (event id, file, line).
fn locs(case: &Case, rule: &str) -> Vec<(String, String, u64)> {
    case.of(rule)[0]
        .evidence
        .iter()
        .map(|e| (e.event.clone().unwrap_or_default(), e.path.clone(), e.line))
        .collect()
}

fn loc(id: &str, line: u64) -> (String, String, u64) {
    (id.into(), "main.jsonl".into(), line)
}

fn config(packs: &[&str], as_of: &str, extra: &str) -> String {
    let packs: Vec<String> = packs.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        "[report]\nas_of = \"{as_of}\"\n[policy]\npacks = [{}]\n{extra}",
        packs.join(", ")
    )
}

fn on(e: Value, system: &str) -> Value {
    with(e, "system", json!(system))
}

/// `system.registered` of `id` on 2025-01-01.
fn system(id: &str, risk: &str, role: &str, extra: Value) -> Value {
    let mut attrs = json!({"name": id, "risk": risk, "role": role, "annex_iii_point": "5(b)"});
    for (k, v) in extra.as_object().unwrap() {
        attrs[k] = v.clone();
    }
    on(
        ev(
            &format!("sys-{id}"),
            "2025-01-01T00:00:00Z",
            "system.registered",
            &format!("system:{id}"),
            attrs,
        ),
        id,
    )
}

fn decision(id: &str, ts: &str, system: Option<&str>, personal: bool) -> Value {
    let mut e = ev(
        id,
        ts,
        "decision.made",
        &format!("decision:{id}"),
        json!({"deployment": "dep-1", "model_version": "m@1"}),
    );
    if let Some(s) = system {
        e = on(e, s);
    }
    if personal {
        e = with(e, "data_classes", json!(["personal"]));
    }
    e
}

fn access(id: &str, ts: &str, system: &str) -> Value {
    on(
        ev(
            id,
            ts,
            "access",
            "resource:cards",
            json!({"action": "read"}),
        ),
        system,
    )
}

/// A complete `retention.disposed` of `class` over `[from, to]`.
fn disposal(id: &str, ts: &str, class: &str, system: Option<&str>, from: &str, to: &str) -> Value {
    let e = ev(
        id,
        ts,
        "retention.disposed",
        "resource:audit-log",
        json!({"retention_class": class, "count": 10, "range_start": from, "range_end": to,
               "basis": "schedule", "removed_ids_digest": "sha256:aa"}),
    );
    match system {
        Some(s) => on(e, s),
        None => e,
    }
}

fn hold_set(id: &str, ts: &str, hold: &str, scope: Value) -> Value {
    ev(
        id,
        ts,
        "legal_hold.set",
        "resource:holds",
        json!({"hold_id": hold, "scope": scope, "reason": "litigation"}),
    )
}

fn hold_released(id: &str, ts: &str, hold: &str) -> Value {
    ev(
        id,
        ts,
        "legal_hold.released",
        "resource:holds",
        json!({"hold_id": hold}),
    )
}

fn not_applicable(case: &Case, rule: &str) -> bool {
    matches!(case.status(rule), Some(Status::NotApplicable(_)))
}

fn not_evaluable(case: &Case, rule: &str) -> bool {
    matches!(case.status(rule), Some(Status::NotEvaluable(_)))
}
