//! The redacted view of one audience: events, model, graph, ingest report and findings with the
//! profile applied, built before anything is rendered.
//!
//! 1. *Entity ids* of the profile's entity types are collected from every event (subjects and
//!    references) and the model, and given their replacement: the keyed pseudonym, or
//!    `masked-N` (N numbering the sorted ids of this build only).
//! 2. *Hidden values*: one parallel pass collects the values the path rules drop, mask or
//!    pseudonymise, so that free text quoting them is scrubbed too (`text.rs`).
//! 3. *Events*, in parallel: path rules applied field by field (the strongest matching action),
//!    reference fields and subjects mapped to the replaced entity ids, every other string
//!    scrubbed (dictionary, then detectors). The model is rebuilt around them with the same
//!    order and indices, and the graph from the model, so pages, file names and SVG titles only
//!    ever see replaced ids.
//! 4. *Findings* (`findings.rs`) and quarantine reasons are scrubbed the same way.
//!
//! Nothing here reads the clock or iterates a hash map into output; the result is the same for
//! the same inputs and key.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;
use serde_json::{Map, Value};

use super::key::Key;
use super::profile::{Action, Profile};
use super::text::Scrubber;
use super::{DROPPED, MASK};
use crate::checks::privacy::{PathPattern, Seg, fmt_path, is_node_id, is_sha256, reference_field};
use crate::event::{EntityType, Event, NodeId};
use crate::ingest::Ingest;
use crate::model::Model;

/// Replaced entity ids: (type, id) → replacement id.
#[derive(Default)]
pub struct Ids {
    map: HashMap<(EntityType, String), String>,
    types: BTreeMap<EntityType, Action>,
}

impl Ids {
    /// The replacement of an id of type `ty`, when that type is replaced.
    pub fn get(&self, ty: EntityType, id: &str) -> Option<&str> {
        self.map.get(&(ty, id.to_string())).map(String::as_str)
    }

    /// `node` with its id replaced when its type is.
    pub fn node(&self, node: &NodeId) -> NodeId {
        match node.entity_type() {
            Some(ty) if self.types.contains_key(&ty) => match self.get(ty, node.id()) {
                Some(r) => NodeId::new(ty, r),
                None => node.clone(),
            },
            _ => node.clone(),
        }
    }

    /// A `TYPE:ID` string with its id replaced (other strings as they are).
    pub fn node_str(&self, s: &str) -> Option<String> {
        let node = NodeId::parse(s)?;
        let mapped = self.node(&node);
        (mapped != node).then_some(mapped.0.to_string())
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    #[cfg(test)]
    pub fn insert_for_test(&mut self, ty: EntityType, id: &str, replacement: &str) {
        self.types.insert(ty, Action::Mask);
        self.map
            .insert((ty, id.to_string()), replacement.to_string());
    }
}

/// The entity type of a plain id in a reference field (`EVENT-SCHEMA.md`), for fields that hold
/// an id rather than a `TYPE:ID`, among the types an entity rule may replace
/// (`config::privacy::ENTITY_TYPES`).
fn plain_ref_type(path: &str) -> Option<EntityType> {
    Some(match path {
        "attrs.decision" => EntityType::Decision,
        "attrs.incident" => EntityType::Incident,
        "attrs.datasheet" => EntityType::Document,
        _ => return None,
    })
}

/// Step 1: every id of the replaced types, from the events and the model, and its replacement.
pub fn entity_ids(model: &Model, profile: &Profile, key: Option<&Key>) -> Ids {
    let mut ids = Ids {
        map: HashMap::new(),
        types: profile.entities.clone(),
    };
    if profile.entities.is_empty() {
        return ids;
    }
    let mut found: BTreeMap<EntityType, BTreeSet<String>> = BTreeMap::new();
    let mut note = |node: &NodeId| {
        if let Some(ty) = node.entity_type()
            && profile.entities.contains_key(&ty)
        {
            found.entry(ty).or_default().insert(node.id().to_string());
        }
    };
    for node in model.entities.keys() {
        note(node);
    }
    for e in &model.events {
        if let Some(s) = &e.subject {
            note(&s.node());
        }
        for r in &e.refs {
            note(&r.target);
        }
    }
    for (ty, action) in &profile.entities {
        let Some(set) = found.get(ty) else { continue };
        for (n, id) in set.iter().enumerate() {
            let replacement = match (action, key) {
                (Action::Pseudonymize, Some(key)) => key.token(id),
                _ => format!("masked-{}", n + 1),
            };
            ids.map.insert((*ty, id.clone()), replacement);
        }
    }
    ids
}

/// What redacts one audience's events.
pub struct Redactor<'a> {
    pub profile: &'a Profile,
    pub key: Option<&'a Key>,
    pub ids: &'a Ids,
    pub scrub: &'a Scrubber<'a>,
    /// PRV-01's `skip_fields`: strings there are not scanned by the detectors.
    pub skip: &'a [PathPattern],
}

/// The replacement of a hidden value in free text.
fn replacement(action: Action, value: &str, key: Option<&Key>) -> Option<String> {
    match (action, key) {
        (Action::Drop, _) => Some(DROPPED.to_string()),
        (Action::Mask, _) => Some(MASK.to_string()),
        (Action::Pseudonymize, Some(key)) => Some(key.token(value)),
        (Action::Pseudonymize, None) => Some(MASK.to_string()),
        // A generalised value is still shown (less precisely): not searched for in text.
        (Action::Generalize, _) => None,
    }
}

/// Step 2: the values the path rules hide, with their replacements, and the replaced entity
/// ids, as a text dictionary.
pub fn hidden_values(
    events: &[Event],
    profile: &Profile,
    key: Option<&Key>,
    ids: &Ids,
    scrub: &mut Scrubber<'_>,
) {
    for ((_, id), r) in &ids.map {
        scrub.add(id, r);
    }
    if profile.paths.is_empty() {
        return;
    }
    let parts: Vec<Vec<(String, String)>> = events
        .par_chunks(4096)
        .map(|chunk| {
            // Distinct values only: a log repeats the same actors and references many times,
            // and each replacement may cost an HMAC.
            let mut seen: HashMap<(String, Action), ()> = HashMap::new();
            let mut out = Vec::new();
            for e in chunk {
                let mut add = |action: Action, v: &str| {
                    if seen.insert((v.to_string(), action), ()).is_none()
                        && let Some(r) = replacement(action, v, key)
                    {
                        out.push((v.to_string(), r));
                    }
                };
                for (k, v) in [
                    ("id", Some(e.actor.id.as_str())),
                    ("role", e.actor.role.as_deref()),
                ] {
                    if let (Some(v), Some(a)) =
                        (v, profile.action(&[Seg::Key("actor"), Seg::Key(k)]))
                    {
                        add(a, v);
                    }
                }
                if let (Some(v), Some(a)) = (e.reason(), profile.action(&[Seg::Key("reason")])) {
                    add(a, v);
                }
                let attrs = Value::Object(e.attrs());
                let mut path = vec![Seg::Key("attrs")];
                collect(&e.kind, &attrs, &mut path, profile, &mut add);
                let rationale = Value::Object(e.rationale());
                let mut path = vec![Seg::Key("rationale")];
                collect(&e.kind, &rationale, &mut path, profile, &mut add);
            }
            out
        })
        .collect();
    for part in parts {
        for (v, r) in part {
            scrub.add(&v, &r);
        }
    }
}

/// The string leaves (and numbers) under the nodes a path rule matches.
fn collect<'v>(
    kind: &str,
    v: &'v Value,
    path: &mut Vec<Seg<'v>>,
    profile: &Profile,
    add: &mut impl FnMut(Action, &str),
) {
    if path.len() > 1 && reference_field(kind, &fmt_path(path.iter().copied())) {
        return;
    }
    if let Some(action) = profile.action(path) {
        leaves(v, &mut |s| add(action, s));
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                path.push(Seg::Key(k));
                collect(kind, x, path, profile, add);
                path.pop();
            }
        }
        Value::Array(a) => {
            path.push(Seg::Elements);
            for x in a {
                collect(kind, x, path, profile, add);
            }
            path.pop();
        }
        _ => {}
    }
}

fn leaves(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        // Long numbers (account or card numbers logged as numbers) are searched for too.
        Value::Number(n) => {
            let t = n.to_string();
            if t.len() >= 6 {
                f(&t);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| leaves(x, f)),
        Value::Object(m) => m.values().for_each(|x| leaves(x, f)),
        _ => {}
    }
}

impl Redactor<'_> {
    /// Step 3 for one event.
    pub fn event(&self, e: &Event) -> Event {
        let mut out = e.clone();
        let actor = |k: &'static str, v: &str| {
            self.string(&[Seg::Key("actor"), Seg::Key(k)], v)
                .unwrap_or_else(|| DROPPED.to_string())
        };
        out.actor.id = actor("id", &e.actor.id).into();
        out.actor.role = e.actor.role.as_deref().map(|r| actor("role", r));
        if let Some(s) = &mut out.subject
            && let Some(r) = self.ids.get(s.kind, &s.id)
        {
            s.id = r.into();
        }
        if self.profile.action(&[Seg::Key("ts")]) == Some(Action::Generalize) {
            out.ts = day(out.ts);
        }
        if self.profile.action(&[Seg::Key("recorded_ts")]) == Some(Action::Generalize)
            && let Some(t) = out.recorded_ts()
        {
            out.rare_mut().recorded_ts = Some(day(t));
        }
        if let Some(r) = e.reason() {
            out.rare_mut().reason = self.string(&[Seg::Key("reason")], r);
        }
        let mut path = vec![Seg::Key("attrs")];
        let attrs = Value::Object(e.attrs());
        let attrs = self
            .value(&e.kind, &attrs, &mut path)
            .unwrap_or_else(|| Value::Object(Map::new()));
        out.attrs = serde_json::value::to_raw_value(&attrs).expect("JSON values serialise");
        if let Some(r) = e.rationale_raw() {
            let v: Value = serde_json::from_str(r.get()).unwrap_or(Value::Null);
            let mut path = vec![Seg::Key("rationale")];
            out.rare_mut().rationale = self
                .value(&e.kind, &v, &mut path)
                .map(|v| serde_json::value::to_raw_value(&v).expect("JSON values serialise"));
        }
        for r in &mut out.refs {
            r.target = self.ids.node(&r.target);
        }
        out
    }

    /// An envelope string at `path`: its rule, else scrubbed. `None`: dropped.
    fn string(&self, path: &[Seg<'_>], v: &str) -> Option<String> {
        match self.profile.action(path) {
            Some(a) => apply_string(a, v, self.key, Some(self.scrub)),
            None => Some(self.scrub_at(path, v)),
        }
    }

    fn scrub_at(&self, path: &[Seg<'_>], v: &str) -> String {
        if v.is_empty() || is_sha256(v) || is_node_id(v) && self.ids.node_str(v).is_none() {
            return v.to_string();
        }
        if let Some(mapped) = self.ids.node_str(v) {
            return mapped;
        }
        if self.skip.iter().any(|p| p.matches(path)) {
            return self.scrub.scrub_dictionary_only(v);
        }
        self.scrub.scrub(v)
    }

    /// A JSON value at `path`: `None` when dropped.
    fn value<'v>(&self, kind: &str, v: &'v Value, path: &mut Vec<Seg<'v>>) -> Option<Value> {
        if path.len() > 1 {
            let p = fmt_path(path.iter().copied());
            if reference_field(kind, &p) {
                return Some(self.reference(&p, v));
            }
        }
        if let Some(action) = self.profile.action(path) {
            return apply_with(action, v, self.key, Some(self.scrub));
        }
        Some(match v {
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    path.push(Seg::Key(k));
                    if let Some(y) = self.value(kind, x, path) {
                        out.insert(k.clone(), y);
                    }
                    path.pop();
                }
                Value::Object(out)
            }
            Value::Array(a) => {
                path.push(Seg::Elements);
                let out = a.iter().filter_map(|x| self.value(kind, x, path)).collect();
                path.pop();
                Value::Array(out)
            }
            Value::String(s) => Value::String(self.scrub_at(path, s)),
            other => other.clone(),
        })
    }

    /// A reference field: ids of replaced types mapped, everything else as it is (references
    /// are entity ids, which only entity rules change).
    fn reference(&self, path: &str, v: &Value) -> Value {
        let plain = plain_ref_type(path.trim_end_matches("[]"));
        let one = |s: &str| -> String {
            if let Some(m) = self.ids.node_str(s) {
                return m;
            }
            match plain.and_then(|ty| self.ids.get(ty, s)) {
                Some(r) => r.to_string(),
                None => s.to_string(),
            }
        };
        match v {
            Value::String(s) => Value::String(one(s)),
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| match x {
                        Value::String(s) => Value::String(one(s)),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The UTC day a time falls on, as a time (its midnight).
fn day(ts: jiff::Timestamp) -> jiff::Timestamp {
    let s = ts.as_second();
    jiff::Timestamp::from_second(s - s.rem_euclid(86_400)).unwrap_or(ts)
}

/// A rule's action on a string. `None`: dropped.
fn apply_string(
    action: Action,
    v: &str,
    key: Option<&Key>,
    known: Option<&Scrubber<'_>>,
) -> Option<String> {
    match apply_with(action, &Value::String(v.to_string()), key, known)? {
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// A rule's action on a value (and everything under it). `None`: dropped.
pub fn apply(action: Action, v: &Value, key: Option<&Key>) -> Option<Value> {
    apply_with(action, v, key, None)
}

/// [`apply`], taking pseudonyms already computed from `known` (the text dictionary).
fn apply_with(
    action: Action,
    v: &Value,
    key: Option<&Key>,
    known: Option<&Scrubber<'_>>,
) -> Option<Value> {
    let token = |k: &Key, s: &str| -> String {
        match known.and_then(|d| d.get(s)) {
            Some(t) if t.starts_with("hmac:") => t.to_string(),
            _ => k.token(s),
        }
    };
    Some(match action {
        Action::Drop => return None,
        Action::Mask => Value::String(MASK.into()),
        Action::Pseudonymize => map_leaves(v, &|leaf| match (leaf, key) {
            (Value::Null, _) => Value::Null,
            (Value::String(s), Some(k)) => Value::String(token(k, s)),
            (other, Some(k)) => Value::String(token(k, &other.to_string())),
            (_, None) => Value::String(MASK.into()),
        }),
        Action::Generalize => map_leaves(v, &|leaf| match leaf {
            Value::String(s) => Value::String(generalize_str(s)),
            Value::Number(n) => match n.as_f64() {
                Some(x) => Value::String(range(x)),
                None => Value::String(MASK.into()),
            },
            other => other.clone(),
        }),
    })
}

fn map_leaves(v: &Value, f: &impl Fn(&Value) -> Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), map_leaves(x, f)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| map_leaves(x, f)).collect()),
        leaf => f(leaf),
    }
}

/// A time to its UTC day (`YYYY-MM-DD`); any other text masked.
fn generalize_str(s: &str) -> String {
    match crate::time::parse_rfc3339(s) {
        Ok(t) => crate::time::utc_day(t),
        Err(_) => MASK.to_string(),
    }
}

/// The range of one significant digit holding `x`, half-open: `[4000, 5000)`, `[0.7, 0.8)`,
/// `[-5000, -4000)`; `0` stays `0`.
pub fn range(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".into() } else { MASK.into() };
    }
    let e = x.abs().log10().floor() as i32;
    let scale = 10f64.powi(e);
    let mut d = (x / scale).floor();
    // Guard the float division at exact powers (1000 / 1000 = 0.9999…).
    if (d + 1.0) * scale <= x {
        d += 1.0;
    }
    let fmt = |digit: f64| -> String {
        if e >= 0 {
            format!("{}", (digit as i128) * 10i128.pow(e as u32))
        } else {
            format!("{:.*}", (-e) as usize, digit * scale)
        }
    };
    format!("[{}, {})", fmt(d), fmt(d + 1.0))
}

/// Step 3 for every event, in parallel (output in event order).
pub fn events(redactor: &Redactor<'_>, model: &Model) -> Vec<Event> {
    model
        .events
        .par_iter()
        .with_min_len(256)
        .map(|e| redactor.event(e))
        .collect()
}

/// The ingest report with quarantine reasons scrubbed (the events were moved into the model).
pub fn ingest(ingest: &Ingest, scrub: &Scrubber<'_>) -> Ingest {
    Ingest {
        sources: ingest.sources.clone(),
        files: ingest.files.clone(),
        events: Vec::new(),
        quarantine: ingest
            .quarantine
            .par_iter()
            .map(|q| crate::ingest::Quarantined {
                reason: scrub.scrub(&q.reason),
                ..q.clone()
            })
            .collect(),
        // Link reports and aliases name configured joins of datasets, models and deployments;
        // the lock holds file paths and digests: none of it is about people.
        links: ingest.links.clone(),
        aliases: ingest.aliases.clone(),
        previous_lock: ingest.previous_lock.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_have_one_significant_digit() {
        assert_eq!(range(4321.0), "[4000, 5000)");
        assert_eq!(range(1000.0), "[1000, 2000)");
        assert_eq!(range(0.734), "[0.7, 0.8)");
        assert_eq!(range(0.05), "[0.05, 0.06)");
        assert_eq!(range(-4321.0), "[-5000, -4000)");
        assert_eq!(range(7.0), "[7, 8)");
        assert_eq!(range(0.0), "0");
    }

    #[test]
    fn actions_on_values() {
        let key = Key::new("k1", b"0123456789abcdef");
        let v: Value = serde_json::json!({"name": "Jane", "n": 42, "when": "2026-03-04T10:11:12+02:00", "ok": true});
        assert_eq!(apply(Action::Drop, &v, Some(&key)), None);
        assert_eq!(
            apply(Action::Mask, &v, Some(&key)),
            Some(Value::String(MASK.into()))
        );
        let p = apply(Action::Pseudonymize, &v, Some(&key)).unwrap();
        assert_eq!(p["name"], key.token("Jane"));
        assert_eq!(p["n"], key.token("42"));
        assert_eq!(p["ok"], key.token("true"));
        let g = apply(Action::Generalize, &v, None).unwrap();
        assert_eq!(g["when"], "2026-03-04");
        assert_eq!(g["n"], "[40, 50)");
        assert_eq!(g["name"], MASK);
        assert_eq!(g["ok"], true);
        assert_eq!(
            day("2026-03-04T23:59:59Z".parse().unwrap()),
            "2026-03-04T00:00:00Z".parse::<jiff::Timestamp>().unwrap()
        );
    }
}
