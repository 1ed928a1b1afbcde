//! What every foreign-format adapter shares (`SOURCES.md`): splitting a file into JSON records
//! (one object, an array, or NDJSON) with their byte offsets and lines, strict JSON values
//! (duplicate keys are an error naming the key), tolerant timestamps, placeholder detection,
//! stripping credentials from URIs, and turning a canonical event object into an [`Event`]
//! through the same validation as the native format.
//!
//! An adapter reads all files of one source at once (OpenLineage folds START…COMPLETE of one run
//! across files) and returns one [`FileOut`] per file. Every record of a file is accounted for:
//! `records == events + quarantined + folded`, where a folded record went into another record's
//! event (an OpenLineage START into its run's COMPLETE, a Kubernetes `RequestReceived` stage into
//! its `ResponseComplete`).

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use regex::Regex;
use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Quarantined;
use super::jsonl::{self, Reject};
use crate::config::Source;
use crate::event::{Event, Origin};

/// One input file of a source, read whole.
pub struct InputFile<'a> {
    /// Index of the file in the ingest report's file table (goes into [`Origin::file`]).
    pub index: u32,
    /// The path as shown to users (relative to the config folder, `/`-separated).
    pub path: &'a str,
    pub abs: &'a Path,
    pub bytes: &'a [u8],
}

/// The source being read.
pub struct Cx<'a> {
    /// Index of the source in config order (goes into [`Origin::source`]).
    pub source: u32,
    pub config: &'a Source,
}

/// What an adapter made of one file.
#[derive(Debug, Default)]
pub struct FileOut {
    /// Records found in the file (lines for line formats, array elements or objects otherwise).
    pub records: u64,
    pub events: Vec<Event>,
    pub quarantine: Vec<Quarantined>,
    /// Records merged into the event of another record (see the module documentation).
    pub folded: u64,
}

impl FileOut {
    pub fn quarantine(&mut self, origin: Origin, reject: Reject) {
        self.quarantine.push(Quarantined {
            origin,
            column: reject.column,
            reason: reject.reason,
        });
    }
}

/// A format reader. `read` returns one [`FileOut`] per input file, in the order given.
pub type ReadFn = fn(&Cx<'_>, &[InputFile<'_>]) -> Vec<FileOut>;

/// The reader of a `format`, when it is a foreign format.
pub fn reader(format: &str) -> Option<ReadFn> {
    // Each adapter adds itself here.
    match format {
        "openlineage" => Some(super::openlineage::read),
        "csv" => Some(super::csv::read),
        "mlflow-export" => Some(super::mlflow::read_export),
        "mlflow-filestore" => Some(super::mlflow_filestore::read_filestore),
        "model-card" => Some(super::model_card::read),
        "k8s-audit" => Some(super::k8s_audit::read),
        "cloudtrail" => Some(super::cloudtrail::read),
        _ => None,
    }
}

/// The original bytes of a record as pages show them: what the format's adapter withholds from
/// its events (Kubernetes Secret and ConfigMap values) removed, and credentials in URIs
/// stripped. `None`: show the bytes as they are.
pub fn shown_original(format: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    let withheld = match format {
        "k8s-audit" => super::k8s_audit::withhold(bytes),
        _ => None,
    };
    let base: &[u8] = withheld.as_deref().unwrap_or(bytes);
    match std::str::from_utf8(base).map(strip_credentials) {
        Ok(Cow::Owned(clean)) => Some(clean.into_bytes()),
        _ => withheld,
    }
}

/// One JSON record of a file: its text, where it starts, and its JSON pointer in the file
/// (empty for a whole-file object or an NDJSON line).
#[derive(Clone, Debug)]
pub struct Record<'a> {
    pub text: &'a str,
    pub offset: u64,
    /// 1-based line of the record's first byte.
    pub line: u64,
    pub pointer: String,
}

impl Record<'_> {
    pub fn origin(&self, cx: &Cx<'_>, file: &InputFile<'_>) -> Origin {
        Origin {
            source: cx.source,
            file: file.index,
            line: self.line,
            offset: self.offset,
            len: self.text.len() as u64,
        }
    }
}

/// Byte offset → 1-based line, by binary search over newline positions.
pub struct LineIndex(Vec<usize>);

impl LineIndex {
    pub fn new(bytes: &[u8]) -> LineIndex {
        LineIndex(memchr::memchr_iter(b'\n', bytes).collect())
    }
    pub fn line(&self, offset: usize) -> u64 {
        self.0.partition_point(|&nl| nl < offset) as u64 + 1
    }
    /// 1-based column of `offset` in its line.
    pub fn column(&self, offset: usize) -> usize {
        let before = self.0.partition_point(|&nl| nl < offset);
        match before {
            0 => offset + 1,
            n => offset - self.0[n - 1],
        }
    }
}

/// How a file's records are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One JSON value per non-blank line.
    Lines,
    /// One JSON value, the whole file (an array is split into its elements).
    Whole,
}

/// A record that could not even be split out: quarantine it with this location.
#[derive(Debug)]
pub struct SplitError {
    pub line: u64,
    pub offset: u64,
    pub len: u64,
    pub reject: Reject,
}

impl SplitError {
    pub fn origin(&self, cx: &Cx<'_>, file: &InputFile<'_>) -> Origin {
        Origin {
            source: cx.source,
            file: file.index,
            line: self.line,
            offset: self.offset,
            len: self.len,
        }
    }
}

/// Splits a file into JSON records. A file that parses as one JSON value is [`Layout::Whole`]
/// (an array becomes its elements, pointers `/0`, `/1`, …); otherwise each non-blank line is a
/// record ([`Layout::Lines`]), and a line that is not JSON is a [`SplitError`] for that line only.
pub fn split(bytes: &[u8]) -> (Layout, Vec<Result<Record<'_>, SplitError>>) {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => {
            // Lines before the bad byte may still be good NDJSON; split per line then.
            return (Layout::Lines, split_lines_bytes(bytes));
        }
    };
    let index = LineIndex::new(bytes);
    let trimmed = text.trim_start();
    let start = text.len() - trimmed.len();
    if trimmed.is_empty() {
        return (Layout::Whole, Vec::new());
    }
    if serde_json::from_str::<&RawValue>(text).is_ok() {
        if trimmed.starts_with('[') {
            return (Layout::Whole, array_elements(text, trimmed, &index, ""));
        }
        let t = trimmed.trim_end();
        return (
            Layout::Whole,
            vec![Ok(Record {
                text: t,
                offset: start as u64,
                line: index.line(start),
                pointer: String::new(),
            })],
        );
    }
    // Not one JSON value: NDJSON when the first line alone is one; otherwise report the whole
    // file's JSON error where it is.
    let first_line = trimmed.lines().next().unwrap_or("");
    if serde_json::from_str::<&RawValue>(first_line).is_ok() {
        return (Layout::Lines, split_lines_bytes(bytes));
    }
    let e = serde_json::from_str::<&RawValue>(text).expect_err("checked above");
    (
        Layout::Whole,
        vec![Err(SplitError {
            line: e.line() as u64,
            offset: start as u64,
            len: (text.len() - start) as u64,
            reject: Reject {
                column: e.column().max(1),
                reason: json_error("invalid JSON", &e),
            },
        })],
    )
}

fn json_error(what: &str, e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "truncated JSON",
        _ => what,
    };
    let msg = e.to_string();
    let msg = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => &msg,
    };
    format!("{what}: {msg}")
}

/// The elements of the JSON array `array` (a slice of `text`), as records with pointers
/// `{prefix}/N`. The array must be valid JSON.
pub fn array_elements<'a>(
    text: &'a str,
    array: &'a str,
    index: &LineIndex,
    prefix: &str,
) -> Vec<Result<Record<'a>, SplitError>> {
    let items: Vec<&RawValue> = serde_json::from_str(array).unwrap_or_default();
    items
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
            Ok(Record {
                text: raw.get(),
                offset: offset as u64,
                line: index.line(offset),
                pointer: format!("{prefix}/{i}"),
            })
        })
        .collect()
}

/// The elements of the array under `key` of a whole-file object (CloudTrail `{"Records":[…]}`),
/// or `None` when the record has no such array.
pub fn member_array<'a>(
    file_text: &'a str,
    record: &Record<'a>,
    key: &str,
    index: &LineIndex,
) -> Option<Vec<Result<Record<'a>, SplitError>>> {
    let members: std::collections::BTreeMap<String, &'a RawValue> =
        serde_json::from_str(record.text).ok()?;
    let raw = members.get(key)?;
    if !raw.get().starts_with('[') {
        return None;
    }
    let prefix = format!(
        "{}/{}",
        record.pointer,
        key.replace('~', "~0").replace('/', "~1")
    );
    Some(array_elements(file_text, raw.get(), index, &prefix))
}

fn split_lines_bytes(bytes: &[u8]) -> Vec<Result<Record<'_>, SplitError>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut line = 0u64;
    while pos < bytes.len() {
        line += 1;
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        let raw = &bytes[pos..end];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let at = pos;
        pos = end + 1;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let err = |column: usize, reason: String| SplitError {
            line,
            offset: at as u64,
            len: raw.len() as u64,
            reject: Reject { column, reason },
        };
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                out.push(Err(err(
                    e.valid_up_to() + 1,
                    format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1),
                )));
                continue;
            }
        };
        match serde_json::from_str::<&RawValue>(text) {
            Ok(_) => out.push(Ok(Record {
                text,
                offset: at as u64,
                line,
                pointer: String::new(),
            })),
            Err(e) => out.push(Err(err(e.column().max(1), json_error("invalid JSON", &e)))),
        }
    }
    out
}

/// A JSON value parsed strictly: a repeated key in any object is an error naming the key, with
/// the key's 1-based byte column in `text`.
pub fn strict_value(text: &str) -> Result<Value, Reject> {
    let checked: Checked = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        if let Some(key) = msg
            .strip_prefix("duplicate key `")
            .and_then(|m| m.split('`').next())
        {
            let column = text
                .match_indices(&format!("\"{key}\""))
                .nth(1)
                .map_or(1, |(i, _)| i + 1);
            return Reject {
                column,
                reason: format!("duplicate key `{key}`: a record may name each key once"),
            };
        }
        Reject {
            column: if e.line() <= 1 { e.column().max(1) } else { 1 },
            reason: json_error("invalid JSON", &e),
        }
    })?;
    Ok(checked.0)
}

struct Checked(Value);

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Checked;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Checked, E> {
                Ok(Checked(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Checked, E> {
                Ok(Checked(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Checked, E> {
                Ok(Checked(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Checked, E> {
                Ok(Checked(Value::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Checked, E> {
                Ok(Checked(Value::String(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Checked, E> {
                Ok(Checked(Value::String(v)))
            }
            fn visit_unit<E>(self) -> Result<Checked, E> {
                Ok(Checked(Value::Null))
            }
            fn visit_none<E>(self) -> Result<Checked, E> {
                Ok(Checked(Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
                let mut out = Vec::new();
                while let Some(Checked(v)) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Checked(Value::Array(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
                let mut out = Map::new();
                while let Some(k) = map.next_key::<String>()? {
                    let Checked(v) = map.next_value()?;
                    if out.contains_key(&k) {
                        return Err(de::Error::custom(format!("duplicate key `{k}`")));
                    }
                    out.insert(k, v);
                }
                Ok(Checked(Value::Object(out)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Turns a canonical event object (`EVENT-SCHEMA.md` envelope) into an [`Event`] with the
/// native format's validation, located at `origin` (the original record's bytes).
pub fn event(canonical: &Value, origin: Origin) -> Result<Event, Reject> {
    let text = serde_json::to_string(canonical).map_err(|e| Reject {
        column: 1,
        reason: format!("cannot encode the mapped event: {e}"),
    })?;
    let parsed = jsonl::parse_line(text.as_bytes(), origin);
    parsed.result.map_err(|r| Reject {
        // The column points into the mapped event, not the record: report the reason only.
        column: 1,
        reason: format!("mapped event is not valid: {}", r.reason),
    })
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{.*?\}\}|\$\{[^}]*\}").expect("static regex"));

/// The first template placeholder (`{{ … }}`, `${…}`) in any string of `value`, with its JSON
/// pointer.
pub fn placeholder(value: &Value) -> Option<(String, String)> {
    fn walk(v: &Value, at: &mut String) -> Option<(String, String)> {
        match v {
            Value::String(s) => PLACEHOLDER
                .find(s)
                .map(|m| (at.clone(), m.as_str().to_string())),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, x)| {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                let r = walk(x, at);
                at.truncate(len);
                r
            }),
            Value::Object(m) => m.iter().find_map(|(k, x)| {
                let len = at.len();
                at.push('/');
                at.push_str(&k.replace('~', "~0").replace('/', "~1"));
                let r = walk(x, at);
                at.truncate(len);
                r
            }),
            _ => None,
        }
    }
    walk(value, &mut String::new())
}

/// The reject for a record holding a template placeholder.
pub fn placeholder_reject(value: &Value) -> Option<Reject> {
    placeholder(value).map(|(at, p)| Reject {
        column: 1,
        reason: format!(
            "template placeholder `{}` at `{at}`: this is a template, not a record",
            crate::time::clip(&p, 60)
        ),
    })
}

static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#@\s]*@").expect("static regex")
});

/// `s` with the user-information part (`user:pass@`) of every URI removed.
pub fn strip_credentials(s: &str) -> Cow<'_, str> {
    USERINFO.replace_all(s, "$1")
}

/// Removes credentials from every string (and key) of `value`, in place.
pub fn strip_credentials_value(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Cow::Owned(clean) = strip_credentials(s) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_credentials_value),
        Value::Object(m) => {
            let dirty = m
                .keys()
                .any(|k| matches!(strip_credentials(k), Cow::Owned(_)));
            if dirty {
                let old = std::mem::take(m);
                for (k, v) in old {
                    m.insert(strip_credentials(&k).into_owned(), v);
                }
            }
            m.values_mut().for_each(strip_credentials_value);
        }
        _ => {}
    }
}

/// How a zone-less time is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zoneless {
    /// The format documents its zone-less times as UTC (MLflow `utc_time_created`).
    Utc,
    /// A zone-less time is ambiguous: an error.
    Reject,
}

/// Parses the time forms real logs use: RFC 3339 / ISO 8601 with any offset (`Z`, `±HH:MM`,
/// `±HHMM`, `±HH`) and 0–9 fractional digits, a space or `T` between date and time, a date alone
/// (00:00 UTC), epoch seconds or milliseconds (as a JSON number or digit string), and zone-less
/// date-times when `zoneless` allows them.
pub fn parse_time(value: &Value, zoneless: Zoneless) -> Result<Timestamp, String> {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                epoch(i)
            } else if let Some(f) = n.as_f64() {
                epoch_f(f)
            } else {
                Err(format!("`{n}` is not a time"))
            }
        }
        Value::String(s) => parse_time_str(s, zoneless),
        other => Err(format!("expected a time, found {other}")),
    }
}

fn epoch(i: i64) -> Result<Timestamp, String> {
    // Seconds up to year 5138, then milliseconds, then microseconds.
    let r = if i.abs() < 100_000_000_000 {
        Timestamp::from_second(i)
    } else if i.abs() < 100_000_000_000_000 {
        Timestamp::from_millisecond(i)
    } else {
        Timestamp::from_microsecond(i)
    };
    r.map_err(|e| format!("`{i}` is not a time: {e}"))
}

fn epoch_f(f: f64) -> Result<Timestamp, String> {
    if !f.is_finite() || f.abs() >= 100_000_000_000.0 {
        return Err(format!("`{f}` is not an epoch time in seconds"));
    }
    let nanos = (f * 1e9).round() as i128;
    Timestamp::from_nanosecond(nanos).map_err(|e| format!("`{f}` is not a time: {e}"))
}

static ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?)?\s*([Zz]|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)?$",
    )
    .expect("static regex")
});

/// See [`parse_time`].
pub fn parse_time_str(s: &str, zoneless: Zoneless) -> Result<Timestamp, String> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && t.len() <= 16 {
        return epoch(t.parse::<i64>().map_err(|e| e.to_string())?);
    }
    let Some(c) = ISO.captures(t) else {
        return Err(format!(
            "`{}` is not a time trailbook can read unambiguously (expected ISO 8601, e.g. 2026-01-10T09:00:00Z, or epoch seconds)",
            crate::time::clip(s, 60)
        ));
    };
    let num = |i: usize| {
        c.get(i)
            .map_or(0, |m| m.as_str().parse::<i32>().unwrap_or(0))
    };
    let frac = c.get(7).map_or(0, |m| {
        let digits = m.as_str();
        digits.parse::<i32>().unwrap_or(0) * 10i32.pow(9 - digits.len() as u32)
    });
    let has_time = c.get(4).is_some();
    let dt = jiff::civil::DateTime::new(
        num(1) as i16,
        num(2) as i8,
        num(3) as i8,
        num(4) as i8,
        num(5) as i8,
        num(6) as i8,
        frac,
    )
    .map_err(|e| format!("`{}` is not a valid time: {e}", crate::time::clip(s, 60)))?;
    let offset = match c.get(8).map(|m| m.as_str()) {
        None if has_time && zoneless == Zoneless::Reject => {
            return Err(format!(
                "`{}` has no time zone, and this format does not say which one it means",
                crate::time::clip(s, 60)
            ));
        }
        None | Some("Z" | "z" | "UTC" | "GMT") => jiff::tz::Offset::UTC,
        Some(o) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let digits: String = o[1..].chars().filter(char::is_ascii_digit).collect();
            let h: i32 = digits[..2].parse().unwrap_or(0);
            let m: i32 = digits.get(2..4).map_or(0, |x| x.parse().unwrap_or(0));
            if h > 23 || m > 59 {
                return Err(format!(
                    "`{}` has an impossible offset",
                    crate::time::clip(s, 60)
                ));
            }
            jiff::tz::Offset::from_seconds(sign * (h * 3600 + m * 60))
                .map_err(|e| format!("`{o}`: {e}"))?
        }
    };
    TimeZone::fixed(offset)
        .to_timestamp(dt)
        .map_err(|e| format!("`{}` is not a valid time: {e}", crate::time::clip(s, 60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> String {
        parse_time_str(s, Zoneless::Reject).map_or_else(|e| format!("ERR {e}"), |t| t.to_string())
    }

    #[test]
    fn times_in_every_real_form() {
        assert_eq!(ts("2026-01-10T09:00:00Z"), "2026-01-10T09:00:00Z");
        assert_eq!(
            ts("2026-01-10T09:00:00.12+01:00"),
            "2026-01-10T08:00:00.12Z"
        );
        assert_eq!(
            ts("2026-01-10T09:00:00.123456789Z"),
            "2026-01-10T09:00:00.123456789Z"
        );
        assert_eq!(ts("2026-01-10 09:00:00+0200"), "2026-01-10T07:00:00Z");
        assert_eq!(ts("2026-01-10T09:00:00-05"), "2026-01-10T14:00:00Z");
        assert_eq!(ts("2026-01-10"), "2026-01-10T00:00:00Z");
        assert_eq!(ts("1768035600"), "2026-01-10T09:00:00Z");
        assert_eq!(ts("1768035600123"), "2026-01-10T09:00:00.123Z");
        assert!(
            ts("2026-01-10T09:00:00").starts_with("ERR"),
            "zone-less is ambiguous"
        );
        assert_eq!(
            parse_time_str("2026-01-10 09:00:00.5", Zoneless::Utc)
                .unwrap()
                .to_string(),
            "2026-01-10T09:00:00.5Z"
        );
        assert!(
            ts("2026-02-30T00:00:00Z").starts_with("ERR"),
            "impossible date"
        );
        assert!(
            ts("10/01/2026").starts_with("ERR"),
            "day/month order is ambiguous"
        );
        assert_eq!(
            parse_time(&serde_json::json!(1768035600000i64), Zoneless::Reject)
                .unwrap()
                .to_string(),
            "2026-01-10T09:00:00Z"
        );
    }

    #[test]
    fn split_finds_objects_arrays_and_lines() {
        let (layout, recs) = split(b"{\"a\":1}\n");
        assert_eq!(layout, Layout::Whole);
        assert_eq!(recs.len(), 1);
        let text = b"[\n {\"a\":1},\n {\"b\":2}\n]";
        let (layout, recs) = split(text);
        assert_eq!(layout, Layout::Whole);
        let r: Vec<_> = recs.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            (r[1].text, r[1].line, r[1].pointer.as_str()),
            ("{\"b\":2}", 3, "/1")
        );
        assert_eq!(&text[r[1].offset as usize..][..7], b"{\"b\":2}");
        let (layout, recs) = split(b"{\"a\":1}\n\n{bad\n{\"c\":3}\n");
        assert_eq!(layout, Layout::Lines);
        assert_eq!(recs.len(), 3);
        let bad = recs[1].as_ref().unwrap_err();
        assert_eq!(bad.line, 3);
        assert!(bad.reject.reason.contains("JSON"), "{:?}", bad.reject);
        assert_eq!(recs[2].as_ref().unwrap().line, 4);
        let (_, recs) = split(b"{\"a\":1}\n\xff\xfe\n");
        assert!(
            recs[1]
                .as_ref()
                .unwrap_err()
                .reject
                .reason
                .contains("UTF-8")
        );
        let (_, recs) = split(b"{\"a\": [1,");
        assert!(
            recs[0]
                .as_ref()
                .unwrap_err()
                .reject
                .reason
                .contains("truncated")
        );
    }

    #[test]
    fn member_arrays_keep_offsets_and_pointers() {
        let text = "{\"Records\": [{\"x\":1},\n{\"y\":2}]}";
        let idx = LineIndex::new(text.as_bytes());
        let (_, recs) = split(text.as_bytes());
        let whole = recs[0].as_ref().unwrap();
        let inner = member_array(text, whole, "Records", &idx).unwrap();
        let r = inner[1].as_ref().unwrap();
        assert_eq!(
            (r.text, r.line, r.pointer.as_str()),
            ("{\"y\":2}", 2, "/Records/1")
        );
        assert_eq!(&text[r.offset as usize..][..7], "{\"y\":2}");
    }

    #[test]
    fn duplicate_keys_are_named() {
        let e = strict_value(r#"{"a":{"k":1,"k":2}}"#).unwrap_err();
        assert!(e.reason.contains("duplicate key `k`"), "{e:?}");
        assert_eq!(e.column, 13);
        assert!(strict_value(r#"{"a":[{"k":1},{"k":2}]}"#).is_ok());
    }

    #[test]
    fn placeholders_and_credentials() {
        let v = serde_json::json!({"run": {"id": "${json-unit.any-string}"}});
        let r = placeholder_reject(&v).unwrap();
        assert!(r.reason.contains("/run/id"), "{}", r.reason);
        assert!(placeholder_reject(&serde_json::json!({"a": "{{ .Site }}"})).is_some());
        assert!(placeholder_reject(&serde_json::json!({"a": "$5 {x}"})).is_none());
        assert_eq!(
            strip_credentials("postgres://admin:s3cret@db:5432/x and https://u@h/p"),
            "postgres://db:5432/x and https://h/p"
        );
        let mut v = serde_json::json!({"uri": ["jdbc:mysql://root:pw@h/db"], "k": "mailto:a@b.c"});
        strip_credentials_value(&mut v);
        assert_eq!(v["uri"][0], "jdbc:mysql://h/db");
        assert_eq!(v["k"], "mailto:a@b.c", "not a scheme://userinfo URI");
    }
}
