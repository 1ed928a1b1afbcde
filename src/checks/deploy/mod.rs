//! DEP — deployment and monitoring: DEP-01, DEP-02, DEP-03 and DEP-07.
//!
//! Input: the effective events of the as-of view and the derived facts of `RULES.md` §2.2
//! (deployments with their active intervals, systems' flags, documents effective at a time).
//! Output per rule: findings in subject order, check letters in order within a subject; the
//! discriminators are those `RULES.md` §3.6 names, check letter first.
//!
//! - [`gate`]: DEP-01, the pre-deployment gate at each production `deployment.started` and
//!   version-changing `deployment.changed`.
//! - [`monitoring`]: DEP-02, post-market monitoring (plan, thresholds, metric gaps).
//! - [`breaches`]: DEP-03, breach episodes and what followed them.
//!   Both read `monitoring.metric` through one index by (deployment, metric) built with a small
//!   typed view of `attrs` ([`metric_index`]).
//! - [`aedt`]: DEP-07, the NYC bias audit behind every decision of an AEDT system, evaluated per
//!   (deployment, served version, UTC day) rather than per decision where the answer cannot
//!   differ.

mod aedt;
mod breaches;
mod gate;
mod monitoring;

use std::borrow::Cow;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;
use serde_json::value::RawValue;

use super::Rule;
use crate::event::{EntityType, NodeId, present};
use crate::model::Model;
use crate::time::Duration;

pub static RULES: &[&dyn Rule] = &[
    &gate::Dep01,
    &monitoring::Dep02,
    &breaches::Dep03,
    &aedt::Dep07,
];

/// A number held in a raw JSON value (a JSON number; anything else is none).
fn num(raw: Option<&RawValue>) -> Option<f64> {
    raw.and_then(|r| serde_json::from_str::<f64>(r.get()).ok())
}

/// A non-empty string held in a raw JSON value.
fn text(raw: Option<&RawValue>) -> Option<Cow<'_, str>> {
    raw.and_then(|r| serde_json::from_str::<Cow<'_, str>>(r.get()).ok())
        .filter(|s| !s.is_empty())
}

/// The time after `t` by 1.5 × `cadence` (calendar arithmetic for months, then half of that
/// span again).
fn after_one_and_a_half(cadence: Duration, t: Timestamp) -> Timestamp {
    let one = cadence.after(t);
    let half = t.duration_until(one) / 2;
    one.checked_add(half).unwrap_or(Timestamp::MAX)
}

/// One metric's bounds in a version's `monitoring_thresholds`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Bounds {
    min: Option<f64>,
    max: Option<f64>,
}

impl Bounds {
    /// Whether `value` lies outside `[min, max]` (a missing bound does not limit).
    fn outside(self, value: f64) -> bool {
        self.min.is_some_and(|m| value < m) || self.max.is_some_and(|m| value > m)
    }
}

/// `monitoring_thresholds` of a version's latest `model.registered`: `None` when the version is
/// not registered or the field is missing (§2.1 "present"); metric → bounds otherwise.
fn version_thresholds(model: &Model, version: &str) -> Option<BTreeMap<String, Bounds>> {
    let node = NodeId::new(EntityType::ModelVersion, version);
    let reg = model.state(&node)?;
    let attrs = reg.attrs();
    let t = attrs.get("monitoring_thresholds");
    if !present(t) {
        return None;
    }
    let mut out = BTreeMap::new();
    if let Some(Value::Object(map)) = t {
        for (metric, b) in map {
            let f = |k: &str| b.get(k).and_then(Value::as_f64);
            out.insert(
                metric.clone(),
                Bounds {
                    min: f("min"),
                    max: f("max"),
                },
            );
        }
    }
    Some(out)
}

/// Caches [`version_thresholds`] per version (versions are few, metrics many).
struct ThresholdCache<'m> {
    model: &'m Model,
    cache: BTreeMap<String, Option<BTreeMap<String, Bounds>>>,
}

impl<'m> ThresholdCache<'m> {
    fn new(model: &'m Model) -> Self {
        ThresholdCache {
            model,
            cache: BTreeMap::new(),
        }
    }

    fn get(&mut self, version: &str) -> Option<&BTreeMap<String, Bounds>> {
        if !self.cache.contains_key(version) {
            let t = version_thresholds(self.model, version);
            self.cache.insert(version.to_string(), t);
        }
        self.cache.get(version).and_then(Option::as_ref)
    }
}

/// One `monitoring.metric`, as DEP-02 and DEP-03 read it.
#[derive(Clone, Debug)]
struct Obs {
    event: u32,
    ts: Timestamp,
    value: Option<f64>,
    /// The event's own `threshold_min` / `threshold_max`.
    own: Bounds,
    /// `status = "breach"`.
    status_breach: bool,
}

/// The `attrs` of a `monitoring.metric`, borrowed: parsed without building a map.
#[derive(serde::Deserialize)]
struct MetricView<'a> {
    #[serde(borrow, default)]
    metric: Option<&'a RawValue>,
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
    #[serde(borrow, default)]
    threshold_min: Option<&'a RawValue>,
    #[serde(borrow, default)]
    threshold_max: Option<&'a RawValue>,
    #[serde(borrow, default)]
    status: Option<&'a RawValue>,
}

/// Every effective `monitoring.metric` by deployment id, then metric name, in event order (so in
/// time order).
type MetricIndex = BTreeMap<String, BTreeMap<String, Vec<Obs>>>;

fn metric_index(model: &Model) -> MetricIndex {
    let mut index: MetricIndex = BTreeMap::new();
    for (i, e) in model.of_kind("monitoring.metric") {
        let Some(d) = e
            .subject
            .as_ref()
            .filter(|s| s.kind == EntityType::Deployment)
        else {
            continue;
        };
        let Some(view) = e.attrs_as::<MetricView>() else {
            continue;
        };
        let Some(metric) = text(view.metric) else {
            continue;
        };
        let obs = Obs {
            event: i,
            ts: e.ts,
            value: num(view.value),
            own: Bounds {
                min: num(view.threshold_min),
                max: num(view.threshold_max),
            },
            status_breach: text(view.status).as_deref() == Some("breach"),
        };
        let by_metric = match index.get_mut(d.id.as_str()) {
            Some(m) => m,
            None => index.entry(d.id.to_string()).or_default(),
        };
        match by_metric.get_mut(metric.as_ref()) {
            Some(list) => list.push(obs),
            None => {
                by_metric.insert(metric.into_owned(), vec![obs]);
            }
        }
    }
    index
}

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_rfc3339;

    #[test]
    fn one_and_a_half_cadences() {
        let t = parse_rfc3339("2026-01-31T00:00:00Z").unwrap();
        let day: Duration = "1 day".parse().unwrap();
        assert_eq!(
            crate::time::fmt(after_one_and_a_half(day, t)),
            "2026-02-01T12:00:00Z"
        );
        let month: Duration = "1 month".parse().unwrap();
        // 2026-01-31 + 1 month = 2026-02-28 (28 days), + 14 days.
        assert_eq!(
            crate::time::fmt(after_one_and_a_half(month, t)),
            "2026-03-14T00:00:00Z"
        );
    }

    #[test]
    fn bounds_limit_only_where_set() {
        let b = Bounds {
            min: Some(0.7),
            max: None,
        };
        assert!(b.outside(0.69) && !b.outside(0.7) && !b.outside(9.0));
        assert!(!Bounds::default().outside(-1.0));
    }
}
