//! The native adapter, `format = "trailbook-jsonl"`: one line → one [`Event`] or one quarantine
//! entry (`RULES.md` LOG-06), plus the line's chain fields (`seq`, `prev`) for LOG-02.
//!
//! Validation is strict (`EVENT-SCHEMA.md`): unknown top-level keys, duplicate keys, a missing or
//! mistyped envelope field, a time that is not RFC 3339, the wrong subject type for the kind, or a
//! missing `*` attribute all quarantine the line with the column of the offending value.

use std::borrow::Cow;
use std::fmt;

use compact_str::CompactString;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::event::{
    Actor, ActorType, EntityType, Event, Origin, Rare, RawAttrs, Subject, extract_refs, kind_spec,
    raw_present,
};
use crate::time;

/// The chain fields of one line, as far as they could be read.
#[derive(Clone, Debug, Default)]
pub struct ChainFields {
    /// `seq`, when present and a positive integer.
    pub seq: Option<u64>,
    /// `prev`, when present and 64 lowercase hex digits, with its 1-based byte column.
    pub prev: Option<([u8; 32], usize)>,
}

/// Why a line is not an event: a reason and a 1-based byte column in the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub column: usize,
    pub reason: String,
}

/// The outcome of one line.
pub struct Parsed {
    pub chain: ChainFields,
    pub result: Result<Event, Reject>,
}

const ENVELOPE: &[&str] = &[
    "seq",
    "prev",
    "id",
    "ts",
    "recorded_ts",
    "kind",
    "actor",
    "system",
    "subject",
    "env",
    "attrs",
    "rationale",
    "data_classes",
    "retention_class",
    "legal_holds",
    "supersedes",
    "reason",
];

/// A JSON object's members, borrowed from the line, in order, with duplicates detected.
struct Members<'a> {
    items: Vec<(Cow<'a, str>, &'a RawValue)>,
    duplicate: Option<String>,
}

struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut items: Vec<(Cow<'de, str>, &'de RawValue)> = Vec::with_capacity(12);
                let mut duplicate = None;
                while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                    let v: &'de RawValue = map.next_value()?;
                    if duplicate.is_none() && items.iter().any(|(seen, _)| *seen == k) {
                        duplicate = Some(k.to_string());
                    }
                    items.push((k, v));
                }
                Ok(Members { items, duplicate })
            }
        }
        d.deserialize_map(V)
    }
}

impl<'a> Members<'a> {
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.items.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// Byte column (1-based) of a value borrowed from `line`.
fn col(line: &str, raw: &RawValue) -> usize {
    (raw.get().as_ptr() as usize).saturating_sub(line.as_ptr() as usize) + 1
}

fn reject(column: usize, reason: impl Into<String>) -> Reject {
    Reject {
        column,
        reason: reason.into(),
    }
}

/// Parses one line (without its LF).
pub fn parse_line(bytes: &[u8], origin: Origin) -> Parsed {
    let mut chain = ChainFields::default();
    let result = parse_inner(bytes, origin, &mut chain);
    Parsed { chain, result }
}

fn parse_inner(bytes: &[u8], origin: Origin, chain: &mut ChainFields) -> Result<Event, Reject> {
    let line = std::str::from_utf8(bytes).map_err(|e| {
        reject(
            e.valid_up_to() + 1,
            format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1),
        )
    })?;
    if line.trim().is_empty() {
        return Err(reject(1, "empty line: expected one JSON object"));
    }
    let members: Members<'_> = serde_json::from_str(line).map_err(|e| {
        let column = if e.line() <= 1 {
            e.column().max(1)
        } else {
            line.len()
        };
        let what = match e.classify() {
            serde_json::error::Category::Eof => "truncated JSON",
            _ => "invalid JSON",
        };
        reject(
            column,
            format!("{what}: {}", strip_position(&e.to_string())),
        )
    })?;
    // The chain fields first: LOG-02 reads them even when the rest of the line is bad.
    if let Some(raw) = members.get("seq") {
        chain.seq = serde_json::from_str::<u64>(raw.get())
            .ok()
            .filter(|s| *s >= 1);
    }
    if let Some(raw) = members.get("prev")
        && let Ok(s) = serde_json::from_str::<&str>(raw.get())
        && s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        let mut h = [0u8; 32];
        if hex::decode_to_slice(s, &mut h).is_ok() {
            chain.prev = Some((h, col(line, raw)));
        }
    }
    if let Some(k) = &members.duplicate {
        let at = members
            .items
            .iter()
            .filter(|(key, _)| key == k)
            .nth(1)
            .map_or(1, |(_, v)| key_col(line, k, v));
        return Err(reject(at, format!("duplicate key `{k}`")));
    }
    for (k, v) in &members.items {
        if !ENVELOPE.contains(&k.as_ref()) {
            return Err(reject(
                key_col(line, k, v),
                format!("unknown top-level key `{k}` (unknown keys belong in `attrs`)"),
            ));
        }
    }
    let field = |name: &str| members.get(name);
    let missing = |name: &str| reject(1, format!("missing required field `{name}`"));
    let string = |name: &str, raw: &RawValue| -> Result<CompactString, Reject> {
        // Short strings (ids, kinds, names) stay inline: no allocation for most of them.
        match serde_json::from_str::<CompactString>(raw.get()) {
            Ok(s) if !s.is_empty() => Ok(s),
            Ok(_) => Err(reject(col(line, raw), format!("`{name}` is empty"))),
            Err(_) => Err(reject(
                col(line, raw),
                format!("`{name}` must be a string, found {}", json_type(raw)),
            )),
        }
    };
    let opt_string = |name: &str| -> Result<Option<CompactString>, Reject> {
        match field(name) {
            None => Ok(None),
            Some(raw) if raw.get() == "null" => Ok(None),
            Some(raw) => string(name, raw).map(Some),
        }
    };
    let opt_strings = |name: &str| -> Result<Vec<String>, Reject> {
        match field(name) {
            None => Ok(Vec::new()),
            Some(raw) => serde_json::from_str::<Option<Vec<String>>>(raw.get())
                .map(Option::unwrap_or_default)
                .map_err(|_| {
                    reject(
                        col(line, raw),
                        format!("`{name}` must be an array of strings"),
                    )
                }),
        }
    };
    let time_of = |name: &str, raw: &RawValue| -> Result<jiff::Timestamp, Reject> {
        let s = string(name, raw)?;
        time::parse_rfc3339(&s).map_err(|e| reject(col(line, raw), format!("bad `{name}`: {e}")))
    };

    let id = string("id", field("id").ok_or_else(|| missing("id"))?)?;
    let ts = time_of("ts", field("ts").ok_or_else(|| missing("ts"))?)?;
    let recorded_ts = match field("recorded_ts") {
        Some(raw) if raw.get() != "null" => Some(time_of("recorded_ts", raw)?),
        _ => None,
    };
    let kind = string("kind", field("kind").ok_or_else(|| missing("kind"))?)?;
    let actor = parse_actor(line, field("actor").ok_or_else(|| missing("actor"))?)?;
    let system = opt_string("system")?;
    let env = opt_string("env")?;
    let subject = match field("subject") {
        Some(raw) if raw.get() != "null" => Some(parse_subject(line, raw)?),
        _ => None,
    };
    // `attrs` is read as borrowed members: the line parsed as valid JSON already, so a value
    // that opens with `{` is an object, and only its keys are needed here.
    let (attrs_raw, attrs): (Box<RawValue>, RawAttrs<'_>) = match field("attrs") {
        None => (
            RawValue::from_string("{}".into()).expect("valid JSON"),
            RawAttrs::default(),
        ),
        Some(raw) => match serde_json::from_str::<Members<'_>>(raw.get()) {
            Ok(m) => (raw.to_owned(), RawAttrs { members: m.items }),
            Err(_) => {
                return Err(reject(
                    col(line, raw),
                    format!("`attrs` must be an object, found {}", json_type(raw)),
                ));
            }
        },
    };
    let rationale = match field("rationale") {
        Some(raw) if raw.get() != "null" => {
            if !raw.get().starts_with('{') {
                return Err(reject(
                    col(line, raw),
                    format!("`rationale` must be an object, found {}", json_type(raw)),
                ));
            }
            Some(raw.to_owned())
        }
        _ => None,
    };
    let data_classes = opt_strings("data_classes")?;
    let legal_holds = opt_strings("legal_holds")?;
    let retention_class = opt_string("retention_class")?.map(String::from);
    let supersedes = opt_string("supersedes")?.map(String::from);
    let reason = opt_string("reason")?.map(String::from);

    if let Some(spec) = kind_spec(&kind) {
        let subject_col = field("subject").map_or(1, |r| col(line, r));
        match (&subject, spec.subject) {
            (None, Some(want)) => {
                return Err(reject(
                    1,
                    format!("`{kind}` needs a `subject` of type `{want}`"),
                ));
            }
            (None, None) => return Err(reject(1, format!("`{kind}` needs a `subject`"))),
            (Some(s), Some(want)) if s.kind != want => {
                return Err(reject(
                    subject_col,
                    format!(
                        "`{kind}` needs a subject of type `{want}`, found `{}`",
                        s.kind
                    ),
                ));
            }
            _ => {}
        }
        for name in spec.required {
            if !raw_present(attrs.get(name)) {
                let at = field("attrs").map_or(1, |r| col(line, r));
                return Err(reject(at, format!("`{kind}` requires `attrs.{name}`")));
            }
        }
    }

    let (refs, event_refs) = extract_refs(
        &kind,
        system.as_deref(),
        subject.as_ref(),
        supersedes.as_deref(),
        &attrs,
    );
    Ok(Event {
        id,
        ts,
        kind,
        actor,
        system,
        subject,
        env,
        attrs: attrs_raw,
        data_classes,
        seq: chain.seq,
        origin,
        refs,
        rare: Rare {
            recorded_ts,
            rationale,
            retention_class,
            legal_holds,
            supersedes,
            reason,
            event_refs,
        }
        .boxed(),
    })
}

fn parse_actor(line: &str, raw: &RawValue) -> Result<Actor, Reject> {
    let at = col(line, raw);
    let members: Members<'_> = serde_json::from_str(raw.get()).map_err(|_| {
        reject(
            at,
            format!(
                "`actor` must be an object {{id, type, role?}}, found {}",
                json_type(raw)
            ),
        )
    })?;
    for (k, v) in &members.items {
        if !["id", "type", "role"].contains(&k.as_ref()) {
            return Err(reject(
                col(line, v),
                format!("unknown key `{k}` in `actor` (expected id, type, role)"),
            ));
        }
    }
    let id = members
        .get("id")
        .and_then(|r| serde_json::from_str::<CompactString>(r.get()).ok())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| reject(at, "`actor.id` is missing or not a string"))?;
    let ty = members
        .get("type")
        .ok_or_else(|| reject(at, "`actor.type` is missing"))?;
    let kind = match serde_json::from_str::<&str>(ty.get()) {
        Ok("human") => ActorType::Human,
        Ok("service") => ActorType::Service,
        Ok("system") => ActorType::System,
        _ => {
            return Err(reject(
                col(line, ty),
                format!(
                    "`actor.type` must be \"human\", \"service\" or \"system\", found {}",
                    time::clip(ty.get(), 40)
                ),
            ));
        }
    };
    let role = match members.get("role") {
        None => None,
        Some(r) if r.get() == "null" => None,
        Some(r) => Some(
            serde_json::from_str::<String>(r.get())
                .map_err(|_| reject(col(line, r), "`actor.role` must be a string"))?,
        ),
    };
    Ok(Actor { id, kind, role })
}

fn parse_subject(line: &str, raw: &RawValue) -> Result<Subject, Reject> {
    let at = col(line, raw);
    let members: Members<'_> = serde_json::from_str(raw.get()).map_err(|_| {
        reject(
            at,
            format!(
                "`subject` must be an object {{type, id}}, found {}",
                json_type(raw)
            ),
        )
    })?;
    for (k, v) in &members.items {
        if !["type", "id"].contains(&k.as_ref()) {
            return Err(reject(
                col(line, v),
                format!("unknown key `{k}` in `subject` (expected type, id)"),
            ));
        }
    }
    let ty = members
        .get("type")
        .ok_or_else(|| reject(at, "`subject.type` is missing"))?;
    let kind = serde_json::from_str::<&str>(ty.get())
        .ok()
        .and_then(EntityType::parse)
        .ok_or_else(|| {
            let names: Vec<&str> = EntityType::ALL.iter().map(|t| t.as_str()).collect();
            reject(
                col(line, ty),
                format!(
                    "`subject.type` must be one of {}, found {}",
                    names.join(", "),
                    time::clip(ty.get(), 40)
                ),
            )
        })?;
    let id = members
        .get("id")
        .and_then(|r| serde_json::from_str::<CompactString>(r.get()).ok())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| reject(at, "`subject.id` is missing or not a non-empty string"))?;
    Ok(Subject { kind, id })
}

/// The column of a key: its quoted name just before its value.
fn key_col(line: &str, key: &str, value: &RawValue) -> usize {
    let end = col(line, value) - 1;
    let quoted = format!("\"{key}\"");
    line[..end].rfind(&quoted).map_or(end + 1, |i| i + 1)
}

fn json_type(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// serde_json appends " at line L column C"; the location is reported separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"id":"e1","ts":"2026-01-10T09:00:00+01:00","kind":"access","actor":{"id":"dana","type":"human"},"subject":{"type":"resource","id":"r"},"attrs":{"action":"read"}}"#;

    fn parse(line: &str) -> Parsed {
        parse_line(
            line.as_bytes(),
            Origin {
                source: 0,
                file: 0,
                line: 1,
                offset: 0,
                len: line.len() as u64,
            },
        )
    }

    fn reason(line: &str) -> Reject {
        parse(line).result.expect_err("should be quarantined")
    }

    #[test]
    fn a_valid_line_becomes_an_event() {
        let e = parse(OK).result.unwrap();
        assert_eq!(e.id, "e1");
        assert_eq!(time::fmt(e.ts), "2026-01-10T08:00:00Z");
        assert_eq!(e.attrs().get("action").unwrap(), "read");
        assert_eq!(e.refs[0].target.as_str(), "resource:r");
    }

    #[test]
    fn bad_lines_are_located() {
        let r = reason(&OK.replace("2026-01-10T09:00:00+01:00", "yesterday"));
        assert!(r.reason.contains("bad `ts`"), "{r:?}");
        assert_eq!(r.column, OK.find("\"2026").unwrap() + 1);
        let r = reason(
            &OK.replace("\"env_x\"", "")
                .replace("{\"id\":\"e1\"", "{\"id\":\"e1\",\"colour\":1"),
        );
        assert_eq!(
            r.reason,
            "unknown top-level key `colour` (unknown keys belong in `attrs`)"
        );
        assert_eq!(r.column, 12);
        assert!(reason(&OK[..50]).reason.starts_with("truncated JSON"));
        assert!(reason("[1,2]").reason.starts_with("invalid JSON"));
        assert!(reason("").reason.starts_with("empty line"));
        assert_eq!(
            reason(&OK.replace("\"kind\":\"access\"", "\"kind\":\"access\",\"kind\":\"x\"")).reason,
            "duplicate key `kind`"
        );
        let r = reason(&OK.replace("\"human\"", "\"robot\""));
        assert!(r.reason.starts_with("`actor.type` must be"), "{r:?}");
        let r = reason(&OK.replace("{\"action\":\"read\"}", "{}"));
        assert_eq!(r.reason, "`access` requires `attrs.action`");
        let r = reason(&OK.replace("\"kind\":\"access\"", "\"kind\":\"model.registered\""));
        assert!(
            r.reason.contains("needs a subject of type `model_version`"),
            "{r:?}"
        );
    }

    #[test]
    fn invalid_utf8_is_quarantined_with_its_byte() {
        let mut bytes = OK.as_bytes().to_vec();
        bytes[5] = 0xff;
        let p = parse_line(
            &bytes,
            Origin {
                source: 0,
                file: 0,
                line: 1,
                offset: 0,
                len: 0,
            },
        );
        assert_eq!(
            p.result.unwrap_err(),
            Reject {
                column: 6,
                reason: "invalid UTF-8 at byte 6".into()
            }
        );
    }

    #[test]
    fn chain_fields_are_read_even_from_bad_lines() {
        let line = format!(r#"{{"seq":7,"prev":"{}","id":"x"}}"#, "ab".repeat(32));
        let p = parse(&line);
        assert!(p.result.is_err());
        assert_eq!(p.chain.seq, Some(7));
        assert_eq!(p.chain.prev.unwrap().1, 17);
    }

    #[test]
    fn unknown_kinds_are_kept() {
        let e = parse(&OK.replace("\"kind\":\"access\"", "\"kind\":\"custom.thing\""))
            .result
            .unwrap();
        assert_eq!(e.kind, "custom.thing");
    }
}
