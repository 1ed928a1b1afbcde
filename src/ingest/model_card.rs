//! `format = "model-card"`: Model Card Toolkit cards, JSON (schema 0.0.2), one card per file (or
//! an array of cards, or one per line).
//!
//! A card becomes `model.registered` for `model_details.name` @ `model_details.version.name` (the
//! card names no registry id in a machine form; a card without both is quarantined), with owners,
//! version date and diff, limitations, use cases (intended purpose), users, tradeoffs, ethical
//! considerations, licences, references, model parameters; its performance metrics become
//! `model.evaluated` (unsliced or `overall` → `metrics`, sliced → `subgroups`). Records: the card,
//! plus its `quantitative_analysis.performance_metrics` when there are any.
//!
//! The event's time is the version date. Dates are read only when unambiguous: ISO 8601,
//! `YYYY/MM/DD`, `YYYYMMDD`, a month (`2021-03`, `March 2021`: the first of the month, precision
//! kept), month names (`March 3, 2021`, `3 Mar 2021`). Numeric day/month orders (`02/03/2021`) are
//! never guessed: a card without a readable date is quarantined, the text quoted in the reason.
//! Base64 graphics are kept by digest (`image_sha256`, `image_bytes`); the file keeps the image.

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::DateTime;
use regex::Regex;
use serde_json::{Map, Value, json};

use super::adapter::{self, Cx, FileOut, InputFile, Zoneless};
use super::jsonl::Reject;
use super::mlflow::{Emit, origin_attr, reject, sha256_hex, short_hash};

const ACTOR: &str = "model-card";

/// Reads Model Card Toolkit JSON cards.
pub fn read(cx: &Cx<'_>, files: &[InputFile<'_>]) -> Vec<FileOut> {
    files.iter().map(|f| read_file(cx, f)).collect()
}

fn read_file(cx: &Cx<'_>, file: &InputFile<'_>) -> FileOut {
    let mut em = Emit::new(cx, file);
    let whole = em.origin(1, 0, file.bytes.len() as u64);
    if file.bytes.iter().all(u8::is_ascii_whitespace) {
        return em.out;
    }
    if let Some(reason) = not_json_card(file.bytes) {
        em.reject(whole, reject(reason));
        return em.out;
    }
    let (_, records) = adapter::split(file.bytes);
    for rec in records {
        match rec {
            Ok(r) => card(&mut em, file, &r),
            Err(e) => em.reject(e.origin(cx, file), e.reject),
        }
    }
    em.out
}

/// Files that are about model cards but are not JSON cards: a clear reason instead of a JSON
/// syntax error.
fn not_json_card(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        return None;
    }
    let code: Vec<&str> = t
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .collect();
    if code.iter().any(|l| {
        l.starts_with("syntax =") || l.starts_with("message ") || l.starts_with("package ")
    }) {
        return Some(
            "a protobuf schema (.proto), not a model card: point the source at the cards (JSON)"
                .into(),
        );
    }
    if t.starts_with("# proto-message") || code.iter().any(|l| l.starts_with("model_details")) {
        return Some(
            "a model card in text protobuf (.pbtxt), which trailbook does not read: export the card as JSON (Model Card Toolkit `model_card.to_json()`)"
                .into(),
        );
    }
    None
}

fn card(em: &mut Emit, file: &InputFile<'_>, r: &adapter::Record<'_>) {
    let origin = em.origin(r.line, r.offset, r.text.len() as u64);
    let bytes = file
        .bytes
        .get(r.offset as usize..r.offset as usize + r.text.len())
        .unwrap_or_default();
    let mut value = match adapter::strict_value(r.text) {
        Ok(v) => v,
        Err(rj) => return em.reject(origin, rj),
    };
    if let Some(rj) = adapter::placeholder_reject(&value) {
        return em.reject(origin, rj);
    }
    adapter::strip_credentials_value(&mut value);
    let Value::Object(mut c) = value else {
        return em.reject(
            origin,
            reject("not a JSON object: a model card is one object"),
        );
    };
    if c.contains_key("$schema") || (c.contains_key("properties") && c.contains_key("definitions"))
    {
        return em.reject(
            origin,
            reject("a JSON schema, not a model card: point the source at the cards"),
        );
    }
    images_by_digest(&mut c);
    let has_metrics = c
        .get("quantitative_analysis")
        .and_then(|q| q.get("performance_metrics"))
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let metrics_origin = |em: &Emit| {
        let ptr = format!("{}/quantitative_analysis/performance_metrics", r.pointer);
        (
            locate(r, &ptr[r.pointer.len()..])
                .map(|(off, len, line)| em.origin(line, off, len))
                .unwrap_or(origin),
            ptr,
        )
    };
    let ident = identity(&c);
    let (model, version, ts, date_attrs) = match ident {
        Ok(x) => x,
        Err(reason) => {
            em.reject(origin, reject(reason));
            if has_metrics {
                let (o, _) = metrics_origin(em);
                em.reject(
                    o,
                    reject("performance metrics of a card that is quarantined (see the card)"),
                );
            }
            return;
        }
    };
    let h = short_hash(bytes);
    let subject = format!("{model}@{version}");
    let card_digest = format!("sha256:{}", sha256_hex(bytes));

    // model.evaluated first, from the quantitative analysis (removed from the card).
    let evaluated = c
        .get_mut("quantitative_analysis")
        .and_then(Value::as_object_mut)
        .and_then(|q| q.remove("performance_metrics"));
    let registered = registered(
        &mut c, &model, &version, &ts, date_attrs, &subject, &h, r, bytes,
    );
    em.event(&registered, origin);
    if let (true, Some(Value::Array(pm))) = (has_metrics, evaluated) {
        let (o, ptr) = metrics_origin(em);
        let pbytes = file
            .bytes
            .get(o.offset as usize..(o.offset + o.len) as usize)
            .unwrap_or_default();
        match evaluated_event(
            &pm,
            &subject,
            &ts,
            &h,
            &card_digest,
            origin_attr(&ptr, pbytes),
        ) {
            Ok(e) => em.event(&e, o),
            Err(rj) => em.reject(o, rj),
        }
    }
}

/// (offset, len, line) of the value at `pointer` inside the record.
fn locate(r: &adapter::Record<'_>, pointer: &str) -> Option<(u64, u64, u64)> {
    use serde_json::value::RawValue;
    use std::collections::BTreeMap;
    let mut cur: &str = r.text;
    for token in pointer.split('/').skip(1) {
        let members: BTreeMap<String, &RawValue> = serde_json::from_str(cur).ok()?;
        cur = members.get(token)?.get();
    }
    let rel = cur.as_ptr() as usize - r.text.as_ptr() as usize;
    let lines = r.text[..rel].matches('\n').count() as u64;
    Some((r.offset + rel as u64, cur.len() as u64, r.line + lines))
}

type Ident = (String, String, String, Map<String, Value>);

/// The card's model version (`name@version`) and time.
fn identity(c: &Map<String, Value>) -> Result<Ident, String> {
    let Some(md) = c.get("model_details").and_then(Value::as_object) else {
        return Err("not a Model Card Toolkit card: no `model_details` object".into());
    };
    let s = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let name = s(md.get("name"));
    let ver = md.get("version").and_then(Value::as_object);
    // Drift seen in hand-written cards: a version name as a number, or `version` as a string.
    let version = match md.get("version") {
        Some(Value::String(v)) => s(Some(&Value::String(v.clone()))),
        _ => match ver.and_then(|v| v.get("name")) {
            Some(Value::Number(n)) => Some(n.to_string()),
            other => s(other),
        },
    };
    let (model, version) = match (name, version) {
        (Some(n), Some(v)) => (n, v),
        (n, v) => {
            let missing: Vec<&str> = [
                n.is_none().then_some("`model_details.name`"),
                v.is_none().then_some("`model_details.version.name`"),
            ]
            .into_iter()
            .flatten()
            .collect();
            return Err(format!(
                "the card names no model version ({} missing): trailbook identifies the version it describes as `model_details.name`@`model_details.version.name`; add them",
                missing.join(" and ")
            ));
        }
    };
    let Some(date) = s(ver.and_then(|v| v.get("date"))) else {
        return Err(format!(
            "the card of `{model}@{version}` has no `model_details.version.date`: an event needs a time; add the release date (ISO 8601, e.g. 2021-03-02)"
        ));
    };
    let (ts, precision) = parse_card_date(&date).map_err(|e| {
        format!(
            "the card of `{model}@{version}`: {e}; write `model_details.version.date` as ISO 8601 (e.g. 2021-03-02)"
        )
    })?;
    let mut attrs = Map::new();
    attrs.insert("version_date".into(), Value::String(date));
    if precision != "day" {
        attrs.insert(
            "version_date_precision".into(),
            Value::String(precision.into()),
        );
    }
    Ok((model, version, crate::time::fmt(ts), attrs))
}

/// Replaces every base64 `image` of a graphic by its SHA-256 and size.
fn images_by_digest(c: &mut Map<String, Value>) {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(img)) = m.get("image") {
                    let digest = format!("sha256:{}", sha256_hex(img.as_bytes()));
                    let len = img.len();
                    m.remove("image");
                    m.insert("image_sha256".into(), Value::String(digest));
                    m.insert("image_bytes".into(), json!(len));
                }
                m.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    c.values_mut().for_each(walk);
}

/// Removes `key` from an object.
fn take(m: &mut Map<String, Value>, key: &str) -> Option<Value> {
    m.remove(key).filter(|v| !v.is_null())
}

/// The `description`s of a list of `{description}` objects (strings are taken as they are).
fn descriptions(v: &Value) -> Vec<Value> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| match x {
            Value::String(s) => Some(Value::String(s.clone())),
            Value::Object(o) => o.get("description").cloned(),
            _ => None,
        })
        .collect()
}

/// Moves a list field of `from` into `attrs[to]` when every element is read; otherwise keeps it
/// in `from` (it then lands under `raw_extra`).
fn move_list(
    from: &mut Map<String, Value>,
    key: &str,
    attrs: &mut Map<String, Value>,
    to: &str,
    read: fn(&Value) -> Vec<Value>,
) {
    let Some(v) = from.get(key) else { return };
    let items = read(v);
    let n = v.as_array().map_or(usize::MAX, Vec::len);
    if items.len() == n {
        if !items.is_empty() {
            attrs.insert(to.into(), Value::Array(items));
        }
        from.remove(key);
    }
}

fn field_of(name: &'static str) -> impl Fn(&Value) -> Option<Value> {
    move |x: &Value| match x {
        Value::String(s) => Some(Value::String(s.clone())),
        Value::Object(o) => o.get(name).cloned(),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn registered(
    c: &mut Map<String, Value>,
    model: &str,
    version: &str,
    ts: &str,
    date_attrs: Map<String, Value>,
    subject: &str,
    h: &str,
    r: &adapter::Record<'_>,
    bytes: &[u8],
) -> Value {
    let mut attrs = Map::new();
    attrs.insert("model".into(), Value::String(model.into()));
    attrs.insert("version".into(), Value::String(version.into()));
    attrs.extend(date_attrs);
    if let Some(v) = take(c, "schema_version") {
        attrs.insert("card_schema_version".into(), v);
    }
    let mut md = match c.remove("model_details") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    md.remove("name");
    if let Some(Value::Object(mut ver)) = md.remove("version") {
        ver.remove("name");
        ver.remove("date");
        if let Some(d) = take(&mut ver, "diff") {
            attrs.insert("changelog".into(), d);
        }
        if !ver.is_empty() {
            md.insert("version".into(), Value::Object(ver));
        }
    }
    if let Some(Value::Array(owners)) = md.get("owners") {
        let names: Vec<Value> = owners
            .iter()
            .filter_map(|o| o.get("name").and_then(Value::as_str))
            .filter(|n| !n.trim().is_empty())
            .map(|n| Value::String(n.to_string()))
            .collect();
        match names.len() {
            0 => {}
            1 => {
                attrs.insert("owner".into(), names[0].clone());
            }
            _ => {
                attrs.insert("owner".into(), Value::Array(names));
            }
        }
        if let Some(o) = md.remove("owners") {
            attrs.insert("owners".into(), o);
        }
    }
    for (from, to) in [
        ("overview", "description"),
        ("documentation", "documentation"),
        ("path", "path"),
    ] {
        if let Some(v) = take(&mut md, from) {
            attrs.insert(to.into(), v);
        }
    }
    let lists: [(&str, &str, &'static str); 3] = [
        ("licenses", "licenses", "identifier"),
        ("references", "references", "reference"),
        ("citations", "citations", "citation"),
    ];
    for (from, to, field) in lists {
        if let Some(v) = md.get(from) {
            let f = field_of(field);
            let alt = field_of("custom_text");
            let items: Vec<Value> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| f(x).or_else(|| alt(x)))
                .collect();
            if v.as_array().is_some_and(|a| a.len() == items.len()) {
                if !items.is_empty() {
                    attrs.insert(to.into(), Value::Array(items));
                }
                md.remove(from);
            }
        }
    }

    let mut mp = match c.remove("model_parameters") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if let Some(v) = take(&mut mp, "model_architecture") {
        attrs.insert("architecture".into(), v);
    }
    if let Some(v) = take(&mut mp, "data") {
        attrs.insert("data".into(), v);
    }
    for (fmt, map, to) in [
        ("input_format", "input_format_map", "input_spec"),
        ("output_format", "output_format_map", "output_spec"),
    ] {
        match (take(&mut mp, fmt), take(&mut mp, map)) {
            (Some(f), None) => {
                attrs.insert(to.into(), f);
            }
            (None, Some(m)) => {
                attrs.insert(to.into(), m);
            }
            (Some(f), Some(m)) => {
                attrs.insert(to.into(), json!({"format": f, "map": m}));
            }
            (None, None) => {}
        }
    }

    let mut cons = match c.remove("considerations") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if let Some(v) = cons.get("use_cases") {
        let uses = descriptions(v);
        if v.as_array().is_some_and(|a| a.len() == uses.len()) {
            let texts: Vec<&str> = uses.iter().filter_map(Value::as_str).collect();
            if !texts.is_empty() {
                attrs.insert("intended_purpose".into(), Value::String(texts.join("; ")));
                attrs.insert("use_cases".into(), Value::Array(uses.clone()));
            }
            cons.remove("use_cases");
        }
    }
    move_list(
        &mut cons,
        "limitations",
        &mut attrs,
        "limitations",
        descriptions,
    );
    move_list(
        &mut cons,
        "users",
        &mut attrs,
        "intended_users",
        descriptions,
    );
    move_list(
        &mut cons,
        "tradeoffs",
        &mut attrs,
        "tradeoffs",
        descriptions,
    );
    if let Some(v) = take(&mut cons, "ethical_considerations") {
        attrs.insert("ethical_considerations".into(), v);
    }

    // What is left of the card (unknown fields, schema drift such as a singular `citation`).
    let mut extra = Map::new();
    for (k, rest) in [
        ("model_details", md),
        ("model_parameters", mp),
        ("considerations", cons),
    ] {
        if !rest.is_empty() {
            extra.insert(k.into(), Value::Object(rest));
        }
    }
    if let Some(Value::Object(q)) = c.remove("quantitative_analysis")
        && !q.is_empty()
    {
        extra.insert("quantitative_analysis".into(), Value::Object(q));
    }
    for (k, v) in std::mem::take(c) {
        extra.insert(k, v);
    }
    if !extra.is_empty() {
        attrs.insert("raw_extra".into(), Value::Object(extra));
    }
    attrs.insert("origin".into(), origin_attr(&r.pointer, bytes));
    json!({
        "id": format!("model-card:{subject}:registered:{h}"),
        "ts": ts,
        "kind": "model.registered",
        "actor": {"id": ACTOR, "type": "system"},
        "subject": {"type": "model_version", "id": subject},
        "attrs": attrs,
    })
}

/// A metric value: a JSON number, or a string holding one (the schema makes values strings).
fn number(v: Option<&Value>) -> Option<Value> {
    match v? {
        Value::Number(n) => Some(Value::Number(n.clone())),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        _ => None,
    }
}

fn evaluated_event(
    pm: &[Value],
    subject: &str,
    ts: &str,
    h: &str,
    card_digest: &str,
    origin: Value,
) -> Result<Value, Reject> {
    let mut metrics = Vec::new();
    let mut subgroups = Vec::new();
    let mut unread = Vec::new();
    for (i, m) in pm.iter().enumerate() {
        let Some(o) = m.as_object() else {
            unread.push(json!({"index": i, "entry": m, "why": "not an object"}));
            continue;
        };
        let name = o
            .get("type")
            .or_else(|| o.get("name"))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty());
        let (Some(name), Some(value)) = (name, number(o.get("value"))) else {
            unread.push(
                json!({"index": i, "entry": m, "why": "no metric `type` or no numeric `value`"}),
            );
            continue;
        };
        let slice = o
            .get("slice")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("overall"));
        let mut entry = Map::new();
        let ci = o.get("confidence_interval");
        let rest = super::mapped::unmapped(
            o,
            &["type", "name", "value", "slice", "confidence_interval"],
        );
        match slice {
            None => {
                entry.insert("name".into(), Value::String(name.into()));
                entry.insert("value".into(), value);
            }
            Some(s) => {
                entry.insert("group".into(), Value::String(s.into()));
                entry.insert("metric".into(), Value::String(name.into()));
                entry.insert("value".into(), value);
            }
        }
        if let Some(lo) = number(ci.and_then(|c| c.get("lower_bound"))) {
            entry.insert("ci_low".into(), lo);
        }
        if let Some(hi) = number(ci.and_then(|c| c.get("upper_bound"))) {
            entry.insert("ci_high".into(), hi);
        }
        if !rest.is_empty() {
            entry.insert("raw_extra".into(), Value::Object(rest));
        }
        if slice.is_some() {
            subgroups.push(Value::Object(entry));
        } else {
            metrics.push(Value::Object(entry));
        }
    }
    if metrics.is_empty() {
        return Err(reject(if subgroups.is_empty() {
            "no performance metric with a `type` and a numeric `value`".to_string()
        } else {
            format!(
                "{} sliced metric{} but no overall value (no entry without `slice` or with slice `overall`): `model.evaluated` needs the overall metrics",
                subgroups.len(),
                if subgroups.len() == 1 { "" } else { "s" }
            )
        }));
    }
    let mut attrs = Map::new();
    attrs.insert("metrics".into(), Value::Array(metrics));
    if !subgroups.is_empty() {
        attrs.insert("subgroups".into(), Value::Array(subgroups));
    }
    attrs.insert("report_digest".into(), Value::String(card_digest.into()));
    if !unread.is_empty() {
        attrs.insert("raw_extra".into(), json!({"performance_metrics": unread}));
    }
    attrs.insert("origin".into(), origin);
    Ok(json!({
        "id": format!("model-card:{subject}:evaluated:{h}"),
        "ts": ts,
        "kind": "model.evaluated",
        "actor": {"id": ACTOR, "type": "system"},
        "subject": {"type": "model_version", "id": subject},
        "attrs": attrs,
    }))
}

static YMD_SEP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([0-9]{4})[/.]([0-9]{1,2})[/.]([0-9]{1,2})$").expect("static regex")
});
static YM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([0-9]{4})[-/]([0-9]{1,2})$").expect("static regex"));
static MDY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^([a-z]+)\.?\s+([0-9]{1,2})(?:st|nd|rd|th)?,?\s+([0-9]{4})$")
        .expect("static regex")
});
static DMY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^([0-9]{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+([0-9]{4})$")
        .expect("static regex")
});
static MY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^([a-z]+)\.?,?\s+([0-9]{4})$").expect("static regex"));
static NUMERIC_DM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9]{1,2}[/.\-][0-9]{1,2}[/.\-][0-9]{2,4}$").expect("static regex")
});

fn month(name: &str) -> Option<i8> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let n = name.to_ascii_lowercase();
    if n.len() < 3 {
        return None;
    }
    let n = if n == "sept" { "sep".to_string() } else { n };
    MONTHS
        .iter()
        .position(|m| *m == n || (n.len() == 3 && m.starts_with(&n)))
        .map(|i| i as i8 + 1)
}

/// A card date, read only when unambiguous: `(time, precision)` with precision `time`, `day` or
/// `month`.
pub fn parse_card_date(s: &str) -> Result<(Timestamp, &'static str), String> {
    let t = s.trim();
    let day = |y: &str, m: i8, d: &str| -> Result<Timestamp, String> {
        let y: i16 = y.parse().map_err(|_| format!("`{t}` has no valid year"))?;
        let d: i8 = d.parse().map_err(|_| format!("`{t}` has no valid day"))?;
        let dt = DateTime::new(y, m, d, 0, 0, 0, 0)
            .map_err(|e| format!("`{t}` is not a valid date: {e}"))?;
        jiff::tz::TimeZone::UTC
            .to_timestamp(dt)
            .map_err(|e| format!("`{t}`: {e}"))
    };
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        // ISO 8601 basic format.
        let m: i8 = t[4..6].parse().unwrap_or(0);
        return day(&t[..4], m, &t[6..]).map(|ts| (ts, "day"));
    }
    if !t.bytes().all(|b| b.is_ascii_digit())
        && let Ok(ts) = adapter::parse_time_str(t, Zoneless::Reject)
    {
        let precision = if t.len() == 10 { "day" } else { "time" };
        return Ok((ts, precision));
    }
    if let Some(c) = YMD_SEP.captures(t) {
        let m: i8 = c[2].parse().unwrap_or(0);
        return day(&c[1], m, &c[3]).map(|ts| (ts, "day"));
    }
    if let Some(c) = YM.captures(t) {
        let m: i8 = c[2].parse().unwrap_or(0);
        return day(&c[1], m, "1").map(|ts| (ts, "month"));
    }
    if let Some(c) = MDY.captures(t)
        && let Some(m) = month(&c[1])
    {
        return day(&c[3], m, &c[2]).map(|ts| (ts, "day"));
    }
    if let Some(c) = DMY.captures(t)
        && let Some(m) = month(&c[2])
    {
        return day(&c[3], m, &c[1]).map(|ts| (ts, "day"));
    }
    if let Some(c) = MY.captures(t)
        && let Some(m) = month(&c[1])
    {
        return day(&c[2], m, "1").map(|ts| (ts, "month"));
    }
    if NUMERIC_DM.is_match(t) {
        return Err(format!(
            "the date `{}` is ambiguous (day/month order depends on the writer's locale), so it is not guessed",
            crate::time::clip(t, 40)
        ));
    }
    Err(format!(
        "the date `{}` is not a form trailbook reads unambiguously",
        crate::time::clip(t, 40)
    ))
}

#[cfg(test)]
mod tests;
