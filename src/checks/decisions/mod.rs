//! DEC — decisions and oversight: DEC-01 … DEC-06 (`RULES.md` §3.5).
//!
//! Input: the effective events of the as-of view, read through [`Facts`](super::facts::Facts)
//! (deployment intervals, systems and their flags). Output per rule: drafts in a deterministic
//! order (every grouping is a `BTreeMap`), check letters first in discriminators.
//!
//! These rules are the hot path: `decision.made` is most of a large input. Each rule walks the
//! decisions once, in event order, and reads the few `attrs` it needs with [`pick`], a borrowed,
//! shallow reader that builds no nested values and never fails on an object (repeated keys: the
//! last wins, as in a full parse). A decision's deployment and model version come from the
//! references extracted at ingest, without reading `attrs` at all. Aggregated checks group by
//! (check, deployment, UTC day) on the day number, and format the day only for a finding.

mod notices;
mod oversight;
mod record;
mod state;

use std::borrow::Cow;
use std::fmt;

use jiff::Timestamp;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::Rule;
use super::facts::{DeploymentFacts, Facts, ref_id};
use crate::event::Event;

pub static RULES: &[&dyn Rule] = &[
    &state::Dec01,
    &record::Dec02,
    &record::Dec03,
    &oversight::Dec04,
    &oversight::Dec05,
    &notices::Dec06,
];

/// The UTC day number of a time (days since 1970-01-01), the aggregation key of §2.4.
fn day_number(ts: Timestamp) -> i64 {
    ts.as_second().div_euclid(86_400)
}

/// `a`, `b`, … followed by `|` and what the rule names (`RULES.md` §1).
fn disc(check: &str, rest: &str) -> String {
    format!("{check}|{rest}")
}

/// "N decision(s)".
fn decisions(n: usize) -> String {
    if n == 1 {
        "1 decision".to_string()
    } else {
        format!("{n} decisions")
    }
}

/// A list of names as `` `a`, `b` ``, at most `max` and then "and N more".
fn ticks<S: AsRef<str>>(names: &[S], max: usize) -> String {
    let mut out: Vec<String> = names
        .iter()
        .take(max)
        .map(|n| format!("`{}`", n.as_ref()))
        .collect();
    if names.len() > max {
        out.push(format!("and {} more", names.len() - max));
    }
    out.join(", ")
}

/// Looks deployments up by id, remembering the last one: decisions come in runs of one
/// deployment, so most lookups are one string comparison.
struct DeploymentCache<'f> {
    facts: &'f Facts<'f>,
    last: Option<(&'f str, Option<&'f DeploymentFacts>)>,
}

impl<'f> DeploymentCache<'f> {
    fn new(facts: &'f Facts<'f>) -> Self {
        DeploymentCache { facts, last: None }
    }

    fn get(&mut self, id: &'f str) -> Option<&'f DeploymentFacts> {
        if let Some((last, d)) = self.last
            && last == id
        {
            return d;
        }
        let d = self.facts.deployment(id);
        self.last = Some((id, d));
        d
    }
}

/// The deployment a decision names (`attrs.deployment`), from the ingest references.
fn deployment_of(e: &Event) -> Option<&str> {
    ref_id(e, "attrs.deployment")
}

/// S(decision): its envelope `system`, else its deployment's (§2.2), without reading `attrs`.
fn decision_system<'f>(e: &'f Event, deployments: &mut DeploymentCache<'f>) -> Option<&'f str> {
    if let Some(s) = e.system.as_deref() {
        return Some(s);
    }
    deployments
        .get(deployment_of(e)?)
        .and_then(|d| d.system.as_deref())
}

// --- shallow attribute reader -----------------------------------------------------------------

/// A JSON value read shallowly: enough to tell "present" (§2.1), compare a string or read a
/// bool, without building nested values. Strings borrow from the input unless they hold escapes.
#[derive(Clone, Debug, Default, PartialEq)]
enum Shallow<'a> {
    /// The key does not occur.
    #[default]
    Absent,
    Null,
    Bool(bool),
    Number,
    Str(Cow<'a, str>),
    /// An array; `true` when it has an element.
    Array(bool),
    /// An object; `true` when it has a key.
    Object(bool),
}

impl Shallow<'_> {
    /// "Present": exists and is not `null`, `""`, `[]` or `{}`.
    fn present(&self) -> bool {
        match self {
            Shallow::Absent | Shallow::Null => false,
            Shallow::Str(s) => !s.is_empty(),
            Shallow::Array(n) | Shallow::Object(n) => *n,
            Shallow::Bool(_) | Shallow::Number => true,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Shallow::Str(s) => Some(s),
            _ => None,
        }
    }

    fn is_true(&self) -> bool {
        *self == Shallow::Bool(true)
    }

    /// The value as a message shows it: the string, else its JSON type.
    fn describe(&self) -> String {
        match self {
            Shallow::Absent => "missing".into(),
            Shallow::Null => "null".into(),
            Shallow::Bool(b) => b.to_string(),
            Shallow::Number => "a number".into(),
            Shallow::Str(s) => format!("`{}`", crate::time::clip(s, 40)),
            Shallow::Array(_) => "an array".into(),
            Shallow::Object(_) => "an object".into(),
        }
    }
}

struct ShallowVisitor;

impl<'de> Visitor<'de> for ShallowVisitor {
    type Value = Shallow<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Shallow::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Shallow::Number)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Shallow::Number)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Shallow::Number)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Shallow::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Shallow::Str(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Shallow::Str(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Shallow::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Shallow::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut any = false;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            any = true;
        }
        Ok(Shallow::Array(any))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut any = false;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
            any = true;
        }
        Ok(Shallow::Object(any))
    }
}

/// Reads a key and answers its position among the wanted names, without allocating.
struct KeySeed<'n>(&'n [&'n str]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|n| *n == v))
    }
}

struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Shallow<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ShallowVisitor)
    }
}

/// Reads an object's wanted keys (the rest skipped).
struct Pick<'n, const N: usize>(&'n [&'n str; N]);

impl<'de, const N: usize> Visitor<'de> for Pick<'_, N> {
    type Value = [Shallow<'de>; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: [Shallow<'de>; N] = std::array::from_fn(|_| Shallow::Absent);
        while let Some(k) = map.next_key_seed(KeySeed(self.0))? {
            match k {
                Some(i) => out[i] = map.next_value_seed(ValueSeed)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// The values of `names` in a JSON object (an `attrs` or a `rationale`), each [`Shallow`]. A
/// text that is not an object reads as every key absent (ingest guarantees `attrs` is one).
fn pick<'a, const N: usize>(raw: &'a str, names: &[&str; N]) -> [Shallow<'a>; N] {
    let mut de = serde_json::Deserializer::from_str(raw);
    de.deserialize_map(Pick(names))
        .unwrap_or_else(|_| std::array::from_fn(|_| Shallow::Absent))
}

/// [`pick`] over an event's `attrs`.
fn attrs<'a, const N: usize>(e: &'a Event, names: &[&str; N]) -> [Shallow<'a>; N] {
    pick(e.attrs.get(), names)
}

/// [`pick`] over an event's `rationale` (every key absent without one).
fn rationale<'a, const N: usize>(e: &'a Event, names: &[&str; N]) -> [Shallow<'a>; N] {
    match e.rationale_raw() {
        Some(r) => pick(RawValue::get(r), names),
        None => std::array::from_fn(|_| Shallow::Absent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_reads_wanted_keys_shallowly_and_last_wins() {
        let raw = r#"{"a":"x","skip":{"deep":[1,2,{"z":null}]},"b":[],"c":{"k":1},"d":null,
                      "e":"esc\"aped","f":false,"g":0.5,"a":"y"}"#;
        let [a, b, c, d, e, f, g, h] = pick(raw, &["a", "b", "c", "d", "e", "f", "g", "h"]);
        assert_eq!(a.as_str(), Some("y"), "the last of a repeated key wins");
        assert!(matches!(a, Shallow::Str(Cow::Borrowed(_))));
        assert_eq!(b, Shallow::Array(false));
        assert!(!b.present());
        assert_eq!(c, Shallow::Object(true));
        assert!(c.present());
        assert_eq!(d, Shallow::Null);
        assert!(!d.present());
        assert_eq!(e.as_str(), Some("esc\"aped"));
        assert_eq!(f, Shallow::Bool(false));
        assert!(f.present() && !f.is_true());
        assert_eq!(g, Shallow::Number);
        assert_eq!(h, Shallow::Absent);
        let [x] = pick("[1]", &["x"]);
        assert_eq!(x, Shallow::Absent);
        let [x] = pick(r#"{"x":""}"#, &["x"]);
        assert!(!x.present());
    }

    #[test]
    fn ticks_cut_long_lists() {
        assert_eq!(ticks(&["a", "b", "c"], 2), "`a`, `b`, and 1 more");
        assert_eq!(ticks(&["a"], 2), "`a`");
    }
}

/// Events shared by the family's tests.
#[cfg(test)]
mod fixtures {
    pub use crate::testing::{k, merge};
    use serde_json::{Value, json};

    use crate::testing::{ev, with};

    pub const PROVIDER: &str = "[policy]\npacks = [\"eu-ai-act-provider\"]\n";
    pub const DEPLOYER: &str = "[policy]\npacks = [\"eu-ai-act-deployer\"]\n";
    pub const GDPR: &str = "[policy]\npacks = [\"gdpr\"]\n";
    pub const NYC: &str = "[policy]\npacks = [\"nyc-ll144\"]\n";

    /// A complete, solely automated `decision.made` of `dep-7` with legal effect.
    pub fn decision(id: &str, ts: &str, extra: Value) -> Value {
        let attrs = json!({
            "deployment": "dep-7", "model_version": "credit-risk@1.4.1",
            "input_ref": format!("sha256:{}", "ab".repeat(32)), "output": "decline",
            "score": 0.31, "threshold": 0.5, "mode": "automated", "legal_effect": true,
            "reason_codes": ["RC07_DEBT_RATIO"], "art22_basis": "contract",
            "subject_ref": "hmac:k2026:9c1e00ff00ff00ff",
        });
        ev(
            id,
            ts,
            "decision.made",
            &format!("decision:{id}"),
            merge(attrs, extra),
        )
    }

    /// `deployment.started` of `dep-7` in production for system `credit`.
    pub fn started(id: &str, ts: &str, extra: Value) -> Value {
        let attrs = merge(json!({"model_version": "credit-risk@1.4.1"}), extra);
        let e = ev(id, ts, "deployment.started", "deployment:dep-7", attrs);
        with(
            with(e, "env", json!("production")),
            "system",
            json!("credit"),
        )
    }

    /// `system.registered` of `id` with the given attrs (plus a name).
    pub fn system(id: &str, ts: &str, extra: Value) -> Value {
        let attrs = merge(json!({"name": id}), extra);
        with(
            ev(
                &format!("sys-{id}"),
                ts,
                "system.registered",
                &format!("system:{id}"),
                attrs,
            ),
            "system",
            json!(id),
        )
    }

    /// An `oversight.action` on decision `x` by a human.
    pub fn action(id: &str, ts: &str, x: &str, attrs: Value) -> Value {
        with(
            ev(id, ts, "oversight.action", &format!("decision:{x}"), attrs),
            "actor",
            json!({"id": "rev", "type": "human", "role": "credit-officer"}),
        )
    }

    /// `(event, path, line)` of a finding's evidence.
    pub fn locations(f: &crate::checks::Finding) -> Vec<(Option<&str>, &str, u64)> {
        f.evidence
            .iter()
            .map(|e| (e.event.as_deref(), e.path.as_str(), e.line))
            .collect()
    }
}
