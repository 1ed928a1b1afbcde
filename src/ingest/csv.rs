//! `format = "csv"`: any comma-separated file with a header line, one event per row, mapped by
//! the source's `[source.map]` (`docs/adapters/csv.md`).
//!
//! A map key is a canonical field (`ts`, `kind`, `actor.id`, `subject.id`, `attrs.NAME`, …); its
//! value is a column of the header or a literal in single quotes (`'access'`). Cells are strings;
//! an empty cell leaves an optional field out. Columns the map does not name are kept under
//! `attrs.raw_extra`. A row that cannot become an event (a required cell empty, a time that is
//! not a time, a mapped column missing from the header) is quarantined with its line and reason.
//! `id` may be left out: it is then `csv:SOURCE:` and 16 hex digits of the SHA-256 of the source
//! name, the file path and the row's line number.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::adapter::{self, Cx, FileOut, InputFile, Zoneless};
use super::jsonl::Reject;
use crate::config::joins::{MapValue, map_value};
use crate::event::Origin;

pub fn read(cx: &Cx<'_>, files: &[InputFile<'_>]) -> Vec<FileOut> {
    files.iter().map(|f| read_file(cx, f)).collect()
}

/// Where a mapped value comes from.
enum Src {
    /// Index of the column in the header.
    Column(usize, String),
    Literal(String),
    /// The column is not in the header (every row is quarantined for it).
    Missing(String),
    /// The column is named twice in the header.
    Ambiguous(String),
}

fn read_file(cx: &Cx<'_>, file: &InputFile<'_>) -> FileOut {
    let mut out = FileOut::default();
    let bytes = file.bytes;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header: Vec<String> = match rdr.byte_headers() {
        Ok(h) => h
            .iter()
            .map(|c| String::from_utf8_lossy(c).trim().to_string())
            .collect(),
        Err(e) => {
            // The header itself cannot be read: the file is one quarantined record.
            out.records = 1;
            let line = e.position().map_or(1, |p| p.line());
            out.quarantine(
                Origin {
                    source: cx.source,
                    file: file.index,
                    line,
                    offset: 0,
                    len: first_line_len(bytes),
                },
                Reject {
                    column: 1,
                    reason: format!("the header line cannot be read as CSV: {e}"),
                },
            );
            return out;
        }
    };
    let map: Vec<(&str, Src)> = cx
        .config
        .map
        .iter()
        .map(|(target, value)| {
            let src = match map_value(value) {
                MapValue::Literal(l) => Src::Literal(l.to_string()),
                MapValue::Column(c) => {
                    let hits: Vec<usize> = header
                        .iter()
                        .enumerate()
                        .filter(|(_, h)| h.as_str() == c)
                        .map(|(i, _)| i)
                        .collect();
                    match hits.as_slice() {
                        [i] => Src::Column(*i, c.to_string()),
                        [] => Src::Missing(c.to_string()),
                        _ => Src::Ambiguous(c.to_string()),
                    }
                }
            };
            (target.as_str(), src)
        })
        .collect();
    // Every mapped column the header lacks (or names twice), said once for all rows.
    let mut header_problems: Vec<String> = Vec::new();
    for (target, src) in &map {
        match src {
            Src::Missing(c) => header_problems.push(format!("`{c}` (mapped to `{target}`) is not in it")),
            Src::Ambiguous(c) => header_problems.push(format!(
                "`{c}` (mapped to `{target}`) is named more than once, so which one is meant is unclear"
            )),
            _ => {}
        }
    }
    let header_problem = (!header_problems.is_empty()).then(|| {
        format!(
            "the header line does not fit `[source.map]`: {}; the header is {}. The first line of a CSV file must name its columns",
            header_problems.join("; "),
            header_list(&header)
        )
    });
    let mapped_columns: Vec<usize> = map
        .iter()
        .filter_map(|(_, s)| match s {
            Src::Column(i, _) => Some(*i),
            _ => None,
        })
        .collect();

    let mut record = csv::ByteRecord::new();
    loop {
        let start = rdr.position().clone();
        let result = rdr.read_byte_record(&mut record);
        let end = rdr.position().byte() as usize;
        match result {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                out.records += 1;
                let line = e.position().map_or(start.line(), |p| p.line());
                let origin = row_origin(cx, file, &start, end);
                out.quarantine(
                    Origin { line, ..origin },
                    Reject {
                        column: 1,
                        reason: format!("not a CSV row: {e}"),
                    },
                );
                if end <= start.byte() as usize {
                    break; // no progress: stop rather than loop
                }
                continue;
            }
        }
        out.records += 1;
        let pos = record.position().cloned().unwrap_or(start);
        let origin = row_origin(cx, file, &pos, end);
        let raw = row_bytes(bytes, &pos, end);
        if let Some(p) = &header_problem {
            out.quarantine(origin, reject(1, p.clone()));
            continue;
        }
        match map_row(
            cx,
            file,
            &header,
            &map,
            &mapped_columns,
            &record,
            raw,
            origin,
        ) {
            Ok(value) => match adapter::event(&value, origin) {
                Ok(e) => out.events.push(e),
                Err(r) => out.quarantine(origin, r),
            },
            Err(r) => out.quarantine(origin, r),
        }
    }
    out
}

fn first_line_len(bytes: &[u8]) -> u64 {
    memchr::memchr(b'\n', bytes).unwrap_or(bytes.len()) as u64
}

/// Where a row really starts: the csv reader's position can lie on the line terminator before
/// it (or on blank lines it skipped).
fn real_start(bytes: &[u8], pos: &csv::Position) -> (usize, u64) {
    let mut at = (pos.byte() as usize).min(bytes.len());
    let mut line = pos.line();
    while let Some(&b) = bytes.get(at) {
        match b {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
        at += 1;
    }
    (at, line)
}

/// The row's bytes, without its line terminator.
fn row_bytes<'a>(bytes: &'a [u8], pos: &csv::Position, end: usize) -> &'a [u8] {
    let start = real_start(bytes, pos).0;
    let end = end.clamp(start, bytes.len());
    let mut row = &bytes[start..end];
    while let Some(r) = row.strip_suffix(b"\n").or_else(|| row.strip_suffix(b"\r")) {
        row = r;
    }
    row
}

fn row_origin(cx: &Cx<'_>, file: &InputFile<'_>, pos: &csv::Position, end: usize) -> Origin {
    let (offset, line) = real_start(file.bytes, pos);
    let len = row_bytes(file.bytes, pos, end).len() as u64;
    Origin {
        source: cx.source,
        file: file.index,
        line,
        offset: offset as u64,
        len,
    }
}

fn reject(column: usize, reason: String) -> Reject {
    Reject { column, reason }
}

/// The 1-based byte column of field `i` in the raw row, when the row has no quoted field
/// (otherwise the unescaped lengths do not tell it): 1.
fn column_of(record: &csv::ByteRecord, raw: &[u8], i: usize) -> usize {
    if raw.contains(&b'"') {
        return 1;
    }
    record.iter().take(i).map(|f| f.len() + 1).sum::<usize>() + 1
}

#[allow(clippy::too_many_arguments)]
fn map_row(
    cx: &Cx<'_>,
    file: &InputFile<'_>,
    header: &[String],
    map: &[(&str, Src)],
    mapped_columns: &[usize],
    record: &csv::ByteRecord,
    raw: &[u8],
    origin: Origin,
) -> Result<Value, Reject> {
    let line = origin.line;
    let cell = |i: usize| -> Result<Option<String>, Reject> {
        let Some(bytes) = record.get(i) else {
            return Ok(None);
        };
        let s = std::str::from_utf8(bytes).map_err(|e| {
            reject(
                column_of(record, raw, i),
                format!(
                    "column `{}` is not valid UTF-8 (at byte {} of the cell)",
                    header.get(i).map_or("?", String::as_str),
                    e.valid_up_to() + 1
                ),
            )
        })?;
        let s = s.trim();
        if let Some(r) = adapter::placeholder_reject(&Value::String(s.to_string())) {
            return Err(reject(
                column_of(record, raw, i),
                format!(
                    "column `{}`: {}",
                    header.get(i).map_or("?", String::as_str),
                    r.reason.replace(" at ``", "")
                ),
            ));
        }
        Ok((!s.is_empty()).then(|| adapter::strip_credentials(s).into_owned()))
    };
    // Each mapped target's value (None: empty cell), in map order.
    let mut values: Vec<(&str, Option<String>, usize)> = Vec::new();
    for (target, src) in map {
        let (v, col) = match src {
            Src::Literal(l) => (Some(l.clone()), 1),
            Src::Column(i, _) => (cell(*i)?, column_of(record, raw, *i)),
            Src::Missing(c) | Src::Ambiguous(c) => {
                return Err(reject(
                    1,
                    format!("column `{c}` of `{target}` cannot be read"),
                ));
            }
        };
        values.push((target, v, col));
    }
    let get = |name: &str| values.iter().find(|(t, _, _)| *t == name);
    let column_name = |target: &str| {
        map.iter()
            .find_map(|(t, s)| match s {
                Src::Column(_, c) if *t == target => Some(format!("column `{c}`")),
                _ => None,
            })
            .unwrap_or_else(|| "the cell".to_string())
    };
    let required = |name: &str| -> Result<String, Reject> {
        match get(name) {
            Some((_, Some(v), _)) => Ok(v.clone()),
            Some((_, None, col)) => Err(reject(
                *col,
                format!(
                    "row {line}: {} (mapped to `{name}`) is empty, and every event needs one",
                    column_name(name)
                ),
            )),
            None => Err(reject(1, format!("`[source.map]` does not map `{name}`"))),
        }
    };
    let time = |name: &str| -> Result<Option<String>, Reject> {
        match get(name) {
            Some((_, Some(v), col)) => adapter::parse_time_str(v, Zoneless::Reject)
                .map(|t| Some(crate::time::fmt(t)))
                .map_err(|e| {
                    reject(
                        *col,
                        format!(
                            "row {line}: {} (mapped to `{name}`): {e}",
                            column_name(name)
                        ),
                    )
                }),
            _ => Ok(None),
        }
    };
    let Some(ts) = time("ts")? else {
        // Unmapped or empty: `required` says which.
        return Err(match required("ts") {
            Err(r) => r,
            Ok(_) => reject(1, format!("row {line}: no `ts`")),
        });
    };
    let mut event = Map::new();
    let row_digest = hex::encode(Sha256::digest(raw));
    let id = match get("id") {
        Some((_, Some(v), _)) => v.clone(),
        Some((_, None, col)) => {
            return Err(reject(
                *col,
                format!(
                    "row {line}: {} (mapped to `id`) is empty",
                    column_name("id")
                ),
            ));
        }
        None => {
            let h = hex::encode(Sha256::digest(
                format!("{}\n{}\n{line}", cx.config.name, file.path).as_bytes(),
            ));
            format!("csv:{}:{}", cx.config.name, &h[..16])
        }
    };
    event.insert("id".into(), json!(id));
    event.insert("ts".into(), json!(ts));
    if let Some(t) = time("recorded_ts")? {
        event.insert("recorded_ts".into(), json!(t));
    }
    event.insert("kind".into(), json!(required("kind")?));
    let mut actor = Map::new();
    actor.insert("id".into(), json!(required("actor.id")?));
    actor.insert("type".into(), json!(required("actor.type")?));
    if let Some((_, Some(role), _)) = get("actor.role") {
        actor.insert("role".into(), json!(role));
    }
    event.insert("actor".into(), Value::Object(actor));
    for key in ["system", "env", "reason"] {
        if let Some((_, Some(v), _)) = get(key) {
            event.insert(key.into(), json!(v));
        }
    }
    match (get("subject.type"), get("subject.id")) {
        (Some((_, Some(t), _)), Some((_, Some(i), _))) => {
            event.insert("subject".into(), json!({"type": t, "id": i}));
        }
        (Some((_, t, type_col)), Some((_, _, id_col))) => {
            let (empty, col) = if t.is_none() {
                ("subject.type", *type_col)
            } else {
                ("subject.id", *id_col)
            };
            return Err(reject(
                col,
                format!(
                    "row {line}: {} (mapped to `{empty}`) is empty",
                    column_name(empty)
                ),
            ));
        }
        // Config checks that both are mapped, or neither.
        _ => {}
    }
    let mut attrs = Map::new();
    for (target, v, _) in &values {
        if let (Some(path), Some(v)) = (target.strip_prefix("attrs."), v) {
            set_path(&mut attrs, path, json!(v));
        }
    }
    let mut extra = Map::new();
    for (i, _) in record.iter().enumerate() {
        if mapped_columns.contains(&i) {
            continue;
        }
        if let Some(v) = cell(i)? {
            let name = match header.get(i) {
                Some(h) if !h.is_empty() => h.clone(),
                _ => format!("column {}", i + 1),
            };
            extra.entry(name).or_insert(json!(v));
        }
    }
    let mut origin_attr = Map::new();
    origin_attr.insert("sha256".into(), json!(row_digest));
    attrs.insert("origin".into(), Value::Object(origin_attr));
    if !extra.is_empty() {
        attrs.insert("raw_extra".into(), Value::Object(extra));
    }
    event.insert("attrs".into(), Value::Object(attrs));
    Ok(Value::Object(event))
}

fn header_list(header: &[String]) -> String {
    let shown: Vec<String> = header
        .iter()
        .take(20)
        .map(|h| format!("`{}`", crate::time::clip(h, 40)))
        .collect();
    let more = if header.len() > 20 { ", …" } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// Sets `value` at a dotted `path` of `attrs`, creating objects on the way (a non-object in the
/// way is replaced).
fn set_path(attrs: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            attrs.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let slot = attrs
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(m) = slot {
                set_path(m, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests;
