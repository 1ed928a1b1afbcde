//! What the `k8s-audit` and `cloudtrail` adapters share: a per-record outcome table that becomes
//! one [`FileOut`] per file in record order (whatever order the records were mapped in), the
//! `attrs.origin` object, and taking mapped members out of a record so that the rest can go to
//! `attrs.raw_extra`.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::adapter::{self, FileOut};
use super::jsonl::Reject;
use crate::event::{Event, Origin};

/// What became of one record.
pub enum Outcome {
    Event(Box<Event>),
    Quarantine(Reject),
    /// Merged into the event of another record.
    Folded,
    /// Not decided yet (a slot waiting for the mapping pass).
    Pending,
}

/// One record's slot: its file, where it is, and its outcome.
pub struct Slot {
    pub file: usize,
    pub origin: Origin,
    pub outcome: Outcome,
}

/// The records of all files of a source, in (file, record) order.
#[derive(Default)]
pub struct Slots(pub Vec<Slot>);

impl Slots {
    pub fn push(&mut self, file: usize, origin: Origin, outcome: Outcome) -> usize {
        self.0.push(Slot {
            file,
            origin,
            outcome,
        });
        self.0.len() - 1
    }

    pub fn quarantine(&mut self, file: usize, origin: Origin, reject: Reject) {
        self.push(file, origin, Outcome::Quarantine(reject));
    }

    pub fn set(&mut self, slot: usize, outcome: Outcome) {
        if let Some(s) = self.0.get_mut(slot) {
            s.outcome = outcome;
        }
    }

    /// Maps a canonical event object through the native validator into slot `slot`.
    pub fn emit(&mut self, slot: usize, canonical: &Value) {
        let Some(origin) = self.0.get(slot).map(|s| s.origin) else {
            return;
        };
        let outcome = match adapter::event(canonical, origin) {
            Ok(e) => Outcome::Event(Box::new(e)),
            Err(r) => Outcome::Quarantine(r),
        };
        self.set(slot, outcome);
    }

    /// One [`FileOut`] per file (`files` of them), records in slot order. A slot still pending
    /// is an adapter bug; it is quarantined rather than lost.
    pub fn into_outs(self, files: usize) -> Vec<FileOut> {
        let mut outs: Vec<FileOut> = (0..files).map(|_| FileOut::default()).collect();
        for slot in self.0 {
            let Some(out) = outs.get_mut(slot.file) else {
                continue;
            };
            out.records += 1;
            match slot.outcome {
                Outcome::Event(e) => out.events.push(*e),
                Outcome::Quarantine(r) => out.quarantine(slot.origin, r),
                Outcome::Folded => out.folded += 1,
                Outcome::Pending => out.quarantine(
                    slot.origin,
                    reject("internal: this record was read but not mapped (please report)"),
                ),
            }
        }
        outs
    }
}

pub fn reject(reason: impl Into<String>) -> Reject {
    Reject {
        column: 1,
        reason: reason.into(),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `attrs.origin`: the record's JSON pointer in its file (when not the whole file or line) and
/// the SHA-256 of its original bytes.
pub fn origin_attr(pointer: &str, sha256: &str) -> Value {
    if pointer.is_empty() {
        json!({ "sha256": sha256 })
    } else {
        json!({ "pointer": pointer, "sha256": sha256 })
    }
}

/// Removes `key` from `rest` and, when it is an object, takes `fields` out of it; what is left of
/// the object goes back into `rest` (for `raw_extra`). Returns the taken fields.
pub fn take_fields(
    rest: &mut Map<String, Value>,
    key: &str,
    fields: &[&str],
) -> Map<String, Value> {
    let mut taken = Map::new();
    match rest.remove(key) {
        Some(Value::Object(mut m)) => {
            for f in fields {
                if let Some(v) = m.remove(*f) {
                    taken.insert((*f).to_string(), v);
                }
            }
            if !m.is_empty() {
                rest.insert(key.to_string(), Value::Object(m));
            }
        }
        Some(other) => {
            rest.insert(key.to_string(), other);
        }
        None => {}
    }
    taken
}

/// A non-empty string member.
pub fn str_of<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The non-empty string at a path of object keys.
pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for k in path {
        cur = cur.get(*k)?;
    }
    cur.as_str().filter(|s| !s.is_empty())
}

/// The members of `m` whose keys are not in `mapped`: what goes to `raw_extra`.
pub fn unmapped(m: &Map<String, Value>, mapped: &[&str]) -> Map<String, Value> {
    m.iter()
        .filter(|(k, _)| !mapped.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Moves each `(from, to)` member of `rest` into `attrs` under its new name (see [`put`]).
pub fn move_fields(
    rest: &mut Map<String, Value>,
    attrs: &mut Map<String, Value>,
    pairs: &[(&str, &str)],
) {
    for (from, to) in pairs {
        if let Some(v) = rest.remove(*from) {
            put(attrs, to, v);
        }
    }
}

/// Inserts `value` under `key` unless it is null or empty.
pub fn put(attrs: &mut Map<String, Value>, key: &str, value: Value) {
    if crate::event::present(Some(&value)) {
        attrs.insert(key.to_string(), value);
    }
}

/// Test support: runs the reader of `format` over `(path, text)` files and checks
/// `records = events + quarantined + folded` for each.
#[cfg(test)]
pub fn run_format<T: AsRef<[u8]>>(format: &str, files: &[(&str, T)]) -> Vec<FileOut> {
    let source = crate::config::Source {
        name: "s".into(),
        format: format.into(),
        paths: Vec::new(),
        chain: crate::config::ChainMode::None,
        anchor: None,
        first_seq: 1,
        map: Default::default(),
    };
    let cx = adapter::Cx {
        source: 0,
        config: &source,
    };
    let inputs: Vec<adapter::InputFile<'_>> = files
        .iter()
        .enumerate()
        .map(|(i, (p, t))| adapter::InputFile {
            index: i as u32,
            path: p,
            abs: std::path::Path::new(p),
            bytes: t.as_ref(),
        })
        .collect();
    let outs = adapter::reader(format).expect("registered")(&cx, &inputs);
    assert_eq!(outs.len(), files.len());
    for (o, (p, _)) in outs.iter().zip(files) {
        assert_eq!(
            o.records,
            o.events.len() as u64 + o.quarantine.len() as u64 + o.folded,
            "{p}: records = events + quarantined + folded"
        );
    }
    outs
}
