//! Model lifecycle: MOD-04 … MOD-06 (documentation, inventory, change control) and DEP-04,
//! DEP-05 (periodic review, retirement).
//!
//! Input: the effective events of the as-of view, each model version's latest `model.registered`
//! (its entity state), the deployments' active intervals and the versions in production
//! ([`Facts`]). Output per rule: findings in model-version id order, check letters in order within
//! a version; DEP-05 (b) emits one finding per UTC day in day order.
//!
//! Cost: the events about versions (`model.retired`, `model.validated`, `review.periodic`) are
//! collected in one pass over the effective events that compares kinds only
//! ([`version_events`]). Decisions are read only for retired versions (DEP-05 (b)), from those
//! versions' timelines, and only a `decision.batch` has its `attrs` parsed (for `window_end`).

mod change;
mod inventory;
mod retirement;
mod review;

use crate::checks::facts::attr_time;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::facts::Facts;
use super::{Cx, Evidence, Rule};
use crate::event::{EntityType, NodeId};
use crate::model::Model;

pub static RULES: &[&dyn Rule] = &[
    &inventory::Mod04,
    &inventory::Mod05,
    &change::Mod06,
    &review::Dep04,
    &retirement::Dep05,
];

/// The events of one model version that the lifecycle rules read, each list in event order.
#[derive(Debug, Default)]
struct VersionEvents {
    retired: Vec<u32>,
    validated: Vec<u32>,
    reviews: Vec<u32>,
}

/// `model.retired`, `model.validated` and `review.periodic` of each version, by version id, in one
/// pass that compares kinds only.
fn version_events(model: &Model) -> BTreeMap<&str, VersionEvents> {
    let mut out: BTreeMap<&str, VersionEvents> = BTreeMap::new();
    for (i, e) in model.current() {
        let slot = match e.kind.as_str() {
            "model.retired" | "model.validated" | "review.periodic" => e.kind.as_str(),
            _ => continue,
        };
        let Some(s) = e
            .subject
            .as_ref()
            .filter(|s| s.kind == EntityType::ModelVersion)
        else {
            continue;
        };
        let v = out.entry(s.id.as_str()).or_default();
        match slot {
            "model.retired" => v.retired.push(i),
            "model.validated" => v.validated.push(i),
            _ => v.reviews.push(i),
        }
    }
    out
}

/// A version's latest `model.registered` (index and parsed `attrs`), if it is registered.
fn registration(model: &Model, v: &str) -> Option<(u32, Map<String, Value>)> {
    let node = NodeId::new(EntityType::ModelVersion, v);
    let i = *model.entity(&node)?.registered.last()?;
    Some((i, model.event(i).attrs()))
}

/// in_use(V) with its witnesses: for each version, the events that opened the production
/// intervals still open at T (`(deployment id, opening event)`, in deployment id order).
fn serving_at_t<'f>(facts: &'f Facts<'_>) -> BTreeMap<&'f str, Vec<(&'f str, u32)>> {
    let mut out: BTreeMap<&str, Vec<(&str, u32)>> = BTreeMap::new();
    for d in facts.deployments().filter(|d| d.production) {
        if let Some(iv) = d
            .intervals
            .last()
            .filter(|iv| iv.end.is_none() && !iv.version.is_empty())
        {
            out.entry(iv.version.as_str())
                .or_default()
                .push((d.id.as_str(), iv.opened_by));
        }
    }
    out
}

/// Evidence that V is in use at T: the events that started its open production intervals.
fn in_use_evidence(cx: &Cx<'_>, serving: &[(&str, u32)], v: &str) -> Vec<Evidence> {
    serving
        .iter()
        .map(|(d, i)| cx.evi(*i, Some(format!("`{d}` serves `{v}` at the as-of time"))))
        .collect()
}

#[cfg(test)]
mod fixtures {
    //! Events shared by the lifecycle tests: a high-risk provider system `credit`, registrations
    //! of `m@VERSION`, production deployments of `dep-1`.

    pub use crate::testing::k;
    use serde_json::{Value, json};

    use crate::testing::{ev, with};

    pub const SR: &str = "[policy]\npacks = [\"sr11-7\"]\n";

    /// `attrs` with `extra` merged in; a `null` in `extra` removes the key.
    pub fn merged(mut attrs: Value, extra: Value) -> Value {
        for (k, v) in extra.as_object().expect("extra is an object") {
            if v.is_null() {
                attrs.as_object_mut().unwrap().remove(k);
            } else {
                attrs[k] = v.clone();
            }
        }
        attrs
    }

    /// A registration of `m@VERSION` for system `credit`, complete for every lifecycle rule.
    pub fn reg(id: &str, ts: &str, version: &str, extra: Value) -> Value {
        let attrs = merged(
            json!({
                "model": "m", "version": version, "owner": "risk", "intended_purpose": "credit",
                "artifact_digest": "sha256:aa", "code_commit": "abc123",
                "developers": ["ari"], "risk_tier": "tier-2",
                "limitations": "Not for business loans", "input_spec": "Bureau fields v3",
                "oversight_measures": "Analyst review of declines",
                "changelog": "Retrained", "change_type": "minor",
            }),
            extra,
        );
        let e = ev(
            id,
            ts,
            "model.registered",
            &format!("model_version:m@{version}"),
            attrs,
        );
        with(e, "system", json!("credit"))
    }

    /// `system.registered` of `credit` with `risk` and `role`.
    pub fn system(id: &str, risk: &str, role: &str) -> Value {
        with(
            ev(
                id,
                "2025-01-01T00:00:00Z",
                "system.registered",
                "system:credit",
                json!({"name": "Credit", "risk": risk, "role": role}),
            ),
            "system",
            json!("credit"),
        )
    }

    /// A production `deployment.KIND` of deployment `d` (to `version` when given).
    pub fn dep(id: &str, ts: &str, kind: &str, d: &str, version: Option<&str>) -> Value {
        let attrs = match version {
            Some(v) => json!({"model_version": v}),
            None => json!({}),
        };
        let e = ev(
            id,
            ts,
            &format!("deployment.{kind}"),
            &format!("deployment:{d}"),
            attrs,
        );
        with(e, "env", json!("production"))
    }

    pub fn validated(id: &str, ts: &str, version: &str, extra: Value) -> Value {
        ev(
            id,
            ts,
            "model.validated",
            &format!("model_version:m@{version}"),
            merged(json!({"validator": "val", "decision": "approve"}), extra),
        )
    }

    pub fn review(id: &str, ts: &str, version: &str, extra: Value) -> Value {
        ev(
            id,
            ts,
            "review.periodic",
            &format!("model_version:m@{version}"),
            merged(
                json!({"reviewer": "val", "benchmark": "challenger v2",
                       "outcomes_analysis": "back-test 2025"}),
                extra,
            ),
        )
    }

    pub fn as_of(t: &str) -> String {
        format!("[report]\nas_of = \"{t}\"\n")
    }

    /// `(event id, path, line)` of a finding's evidence.
    pub fn locations(f: &crate::checks::Finding) -> Vec<(String, String, u64)> {
        f.evidence
            .iter()
            .map(|e| (e.event.clone().unwrap_or_default(), e.path.clone(), e.line))
            .collect()
    }

    pub fn loc(id: &str, line: u64) -> (String, String, u64) {
        (id.into(), "main.jsonl".into(), line)
    }
}
