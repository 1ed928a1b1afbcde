//! `format = "openlineage"`: OpenLineage RunEvent, JobEvent and DatasetEvent records (a JSON
//! object per file, a JSON array, or NDJSON) → `run.completed` and `dataset.registered`
//! (`SOURCES.md`; the mapping is documented in `docs/adapters/openlineage.md`).
//!
//! - The records of one `runId` (across all files of the source) fold into one `run.completed`,
//!   stated by its terminal record (COMPLETE, FAIL or ABORT; the latest when there are several);
//!   START gives `started_ts`, every record contributes inputs, outputs and facets. A run without
//!   a terminal record is quarantined at its last record, the others folded into that entry.
//! - Every input and output dataset object is a record of its own (it has its own bytes, pointer
//!   and SHA-256): it becomes a `dataset.registered` of `NAMESPACE/NAME@VERSION`, or is folded
//!   into the registration of the same dataset version, or is quarantined when it has no name.
//!   So `records = events + quarantined + folded` counts event objects and dataset objects.
//! - Versions: the `version` (`datasetVersion`) facet; else an output's version is a digest of
//!   the dataset and the run that wrote it, and an input's is the version the latest run of this
//!   source wrote before the reading run started, else a digest of the dataset and its schema.
//!
//! Everything is sorted before it is emitted, so the events are the same whatever the order in
//! which files are listed or the thread count.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::adapter::{self, Cx, FileOut, InputFile, Record, Zoneless};
use super::jsonl::Reject;
use crate::event::Origin;

/// The actor of records that name nobody.
const DEFAULT_ACTOR: &str = "openlineage";
/// At most this many records of one run are listed in its `attrs.records`.
const MAX_LISTED: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventType {
    Start,
    Running,
    Complete,
    Abort,
    Fail,
    Other,
}

impl EventType {
    fn parse(s: &str) -> Option<EventType> {
        Some(match s {
            "START" => EventType::Start,
            "RUNNING" => EventType::Running,
            "COMPLETE" => EventType::Complete,
            "ABORT" => EventType::Abort,
            "FAIL" => EventType::Fail,
            "OTHER" => EventType::Other,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            EventType::Start => "START",
            EventType::Running => "RUNNING",
            EventType::Complete => "COMPLETE",
            EventType::Abort => "ABORT",
            EventType::Fail => "FAIL",
            EventType::Other => "OTHER",
        }
    }

    fn status(self) -> Option<&'static str> {
        match self {
            EventType::Complete => Some("completed"),
            EventType::Fail => Some("failed"),
            EventType::Abort => Some("aborted"),
            _ => None,
        }
    }
}

#[derive(Debug)]
enum Kind {
    Run {
        run_id: String,
        event_type: EventType,
        /// The record had no `eventType` (read as COMPLETE).
        untyped: bool,
    },
    Job,
    Dataset,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Input,
    Output,
    /// A dataset of a JobEvent or DatasetEvent (no run).
    Static,
}

/// One dataset object (an element of `inputs`/`outputs`, or the `dataset` of a DatasetEvent).
struct Entry {
    role: Role,
    origin: Origin,
    pointer: String,
    sha256: String,
    value: Map<String, Value>,
    namespace: String,
    name: String,
}

impl Entry {
    fn id(&self) -> String {
        dataset_id(&self.namespace, &self.name)
    }
}

/// One parsed record.
struct Rec {
    /// Index of the file in the adapter's input slice.
    file: usize,
    path: String,
    origin: Origin,
    pointer: String,
    sha256: String,
    value: Map<String, Value>,
    time: Timestamp,
    kind: Kind,
    job: String,
    entries: Vec<Entry>,
    /// `inputs`/`outputs` present but not arrays.
    warnings: Vec<String>,
}

impl Rec {
    fn sort_key(&self) -> (Timestamp, u32, u64) {
        (self.time, self.origin.file, self.origin.offset)
    }
}

/// `NAMESPACE/NAME`, without a second `/` when the name starts with one.
pub fn dataset_id(namespace: &str, name: &str) -> String {
    if name.starts_with('/') {
        format!("{namespace}{name}")
    } else {
        format!("{namespace}/{name}")
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn digest_version(parts: &[&str]) -> String {
    let h = sha256_hex(parts.join("\n").as_bytes());
    format!("ol-{}", &h[..12])
}

pub fn read(cx: &Cx<'_>, files: &[InputFile<'_>]) -> Vec<FileOut> {
    let mut outs: Vec<FileOut> = files.iter().map(|_| FileOut::default()).collect();
    let mut recs: Vec<Rec> = Vec::new();
    for (fi, file) in files.iter().enumerate() {
        let (_, records) = adapter::split(file.bytes);
        for r in records {
            let out = &mut outs[fi];
            out.records += 1;
            match r {
                Err(e) => out.quarantine(e.origin(cx, file), e.reject),
                Ok(rec) => match parse_record(cx, fi, file, &rec, out) {
                    Ok(parsed) => recs.push(parsed),
                    Err(reject) => out.quarantine(rec.origin(cx, file), reject),
                },
            }
        }
    }
    Mapper {
        recs: &recs,
        outs: &mut outs,
    }
    .run();
    for out in &mut outs {
        out.events
            .sort_by(|a, b| (a.origin, &a.id).cmp(&(b.origin, &b.id)));
        out.quarantine.sort_by_key(|q| q.origin);
    }
    outs
}

fn reject(reason: String) -> Reject {
    Reject { column: 1, reason }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().filter(|s| !s.is_empty())
}

/// Parses, checks and classifies one record; its dataset objects are counted in `out`.
fn parse_record(
    cx: &Cx<'_>,
    fi: usize,
    file: &InputFile<'_>,
    rec: &Record<'_>,
    out: &mut FileOut,
) -> Result<Rec, Reject> {
    let mut value = adapter::strict_value(rec.text)?;
    if let Some(r) = adapter::placeholder_reject(&value) {
        return Err(r);
    }
    adapter::strip_credentials_value(&mut value);
    let Value::Object(map) = value else {
        return Err(reject(format!(
            "expected a JSON object (an OpenLineage RunEvent, JobEvent or DatasetEvent), found {}",
            kind_of(&value)
        )));
    };
    if map.contains_key("$schema")
        || map.contains_key("$defs")
        || (map.contains_key("definitions") && map.contains_key("properties"))
    {
        return Err(reject(
            "this is a JSON Schema document (it has `$schema`/`$defs`), not an OpenLineage event: remove it from the source's `paths`".to_string(),
        ));
    }
    let whole = Value::Object(map);
    let time = match whole.get("eventTime") {
        None | Some(Value::Null) => {
            return Err(reject(
                "no `eventTime`: every OpenLineage event (RunEvent, JobEvent, DatasetEvent) says when it happened; this record is not one, or its producer dropped the field".to_string(),
            ));
        }
        Some(t) => adapter::parse_time(t, Zoneless::Reject)
            .map_err(|e| reject(format!("bad `eventTime`: {e}")))?,
    };
    let Value::Object(map) = whole else {
        return Err(reject("expected a JSON object".to_string()));
    };
    let has = |k: &str| map.get(k).is_some_and(|v| !v.is_null());
    let job_name = |map: &Map<String, Value>| -> Result<String, Reject> {
        let job = Value::Object(map.clone());
        match (
            str_at(&job, &["job", "namespace"]),
            str_at(&job, &["job", "name"]),
        ) {
            (Some(ns), Some(name)) => Ok(format!("{ns}/{name}")),
            _ => Err(reject(
                "`job` needs a `namespace` and a `name` (strings): without them the run cannot be named".to_string(),
            )),
        }
    };
    let kind;
    let mut job = String::new();
    if has("run") {
        let run_id = map
            .get("run")
            .and_then(|r| r.get("runId"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                reject("RunEvent without `run.runId` (a non-empty string): the run cannot be identified".to_string())
            })?
            .to_string();
        job = job_name(&map)?;
        let (event_type, untyped) = match map.get("eventType") {
            None | Some(Value::Null) => (EventType::Complete, true),
            Some(Value::String(s)) => match EventType::parse(s) {
                Some(t) => (t, false),
                None => {
                    return Err(reject(format!(
                        "unknown `eventType` `{}`: expected START, RUNNING, COMPLETE, ABORT, FAIL or OTHER",
                        crate::time::clip(s, 40)
                    )));
                }
            },
            Some(other) => {
                return Err(reject(format!(
                    "`eventType` must be a string, found {}",
                    kind_of(other)
                )));
            }
        };
        kind = Kind::Run {
            run_id,
            event_type,
            untyped,
        };
    } else if has("job") {
        job = job_name(&map)?;
        kind = Kind::Job;
    } else if has("dataset") {
        kind = Kind::Dataset;
    } else {
        return Err(reject(
            "neither `run`, `job` nor `dataset`: not an OpenLineage RunEvent, JobEvent or DatasetEvent".to_string(),
        ));
    }
    let origin = rec.origin(cx, file);
    let sha256 = sha256_hex(rec.text.as_bytes());
    let mut warnings = Vec::new();
    let mut entries = Vec::new();
    match kind {
        Kind::Dataset => {
            let ds = map.get("dataset").cloned().unwrap_or(Value::Null);
            let entry = entry_of(
                Role::Static,
                ds,
                origin,
                rec.pointer.clone(),
                sha256.clone(),
            )
            .map_err(|e| reject(format!("`dataset` {e}")))?;
            entries.push(entry);
        }
        Kind::Run { .. } | Kind::Job => {
            for (key, role) in [("inputs", Role::Input), ("outputs", Role::Output)] {
                match map.get(key) {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(items)) => {
                        let located = sub_records(rec, key);
                        for (i, item) in items.iter().enumerate() {
                            out.records += 1;
                            let (pointer, sub_origin, sha) = match located.get(i) {
                                Some(s) => (
                                    s.pointer.clone(),
                                    Origin {
                                        source: cx.source,
                                        file: file.index,
                                        line: s.line,
                                        offset: s.offset,
                                        len: s.text.len() as u64,
                                    },
                                    sha256_hex(s.text.as_bytes()),
                                ),
                                None => {
                                    (format!("{}/{key}/{i}", rec.pointer), origin, sha256.clone())
                                }
                            };
                            match entry_of(role, item.clone(), sub_origin, pointer.clone(), sha) {
                                Ok(e) => entries.push(e),
                                Err(e) => out.quarantine(
                                    sub_origin,
                                    reject(format!(
                                        "dataset `{pointer}` {e}; the rest of the event is read"
                                    )),
                                ),
                            }
                        }
                    }
                    Some(other) => warnings.push(format!(
                        "`{key}` is {}, not an array of datasets: kept under `raw_extra`",
                        kind_of(other)
                    )),
                }
            }
        }
    }
    Ok(Rec {
        file: fi,
        path: file.path.to_string(),
        origin,
        pointer: rec.pointer.clone(),
        sha256,
        value: map,
        time,
        kind,
        job,
        entries,
        warnings,
    })
}

fn entry_of(
    role: Role,
    value: Value,
    origin: Origin,
    pointer: String,
    sha256: String,
) -> Result<Entry, String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "must be an object with `namespace` and `name`, found {}",
            kind_of(&value)
        ));
    };
    let get = |k: &str| {
        map.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    match (get("namespace"), get("name")) {
        (Some(namespace), Some(name)) => Ok(Entry {
            role,
            origin,
            pointer,
            sha256,
            value: map,
            namespace,
            name,
        }),
        _ => Err(
            "has no `namespace` and `name` (non-empty strings), so it names no dataset".to_string(),
        ),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An element of the array under `key` of a record, located in the file.
struct Sub<'a> {
    text: &'a str,
    offset: u64,
    line: u64,
    pointer: String,
}

fn sub_records<'a>(rec: &Record<'a>, key: &str) -> Vec<Sub<'a>> {
    let text: &'a str = rec.text;
    let Ok(members) = serde_json::from_str::<BTreeMap<String, &'a RawValue>>(text) else {
        return Vec::new();
    };
    let Some(raw) = members.get(key) else {
        return Vec::new();
    };
    let Ok(items) = serde_json::from_str::<Vec<&'a RawValue>>(raw.get()) else {
        return Vec::new();
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let rel = (item.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            let before = text.get(..rel).unwrap_or("");
            Sub {
                text: item.get(),
                offset: rec.offset + rel as u64,
                line: rec.line + before.matches('\n').count() as u64,
                pointer: format!("{}/{key}/{i}", rec.pointer),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Mapping

/// A dataset version about to be registered: one dataset object of a run (its appearances in
/// the run's records merged), or of a static event.
struct Cand {
    id: String,
    namespace: String,
    version: String,
    basis: String,
    /// The record and entry that state it.
    rec: usize,
    entry: usize,
    /// The other appearances folded into it.
    others: Vec<(usize, usize)>,
    /// The actor of the run that read or wrote it.
    actor: Value,
    ts: Timestamp,
}

struct Run {
    id: String,
    /// Record indices, sorted.
    recs: Vec<usize>,
    terminal: usize,
    started: Option<Timestamp>,
    end: Timestamp,
}

struct Mapper<'a> {
    recs: &'a [Rec],
    outs: &'a mut [FileOut],
}

/// A version written by a run: `(terminal time, run id, version)`.
type Produced = BTreeMap<String, Vec<(Timestamp, String, String)>>;

impl Mapper<'_> {
    fn run(mut self) {
        let recs = self.recs;
        // Group run records by runId; static records apart.
        let mut by_run: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut statics: Vec<usize> = Vec::new();
        for (i, r) in recs.iter().enumerate() {
            match &r.kind {
                Kind::Run { run_id, .. } => by_run.entry(run_id).or_default().push(i),
                _ => statics.push(i),
            }
        }
        let mut runs: Vec<Run> = Vec::new();
        for (id, mut idx) in by_run {
            idx.sort_by_key(|&i| recs[i].sort_key());
            let terminal = idx
                .iter()
                .rev()
                .copied()
                .find(|&i| matches!(&recs[i].kind, Kind::Run { event_type, .. } if event_type.status().is_some()));
            let Some(terminal) = terminal else {
                self.unfinished(id, &idx);
                continue;
            };
            let started = idx
                .iter()
                .filter(|&&i| {
                    matches!(
                        &recs[i].kind,
                        Kind::Run {
                            event_type: EventType::Start,
                            ..
                        }
                    )
                })
                .map(|&i| recs[i].time)
                .min();
            runs.push(Run {
                id: id.to_string(),
                recs: idx,
                terminal,
                started,
                end: recs[terminal].time,
            });
        }

        // Datasets of each run, merged per (dataset, role), versions of outputs first.
        let mut cands: Vec<Cand> = Vec::new();
        let mut run_sets: Vec<(Vec<usize>, Vec<usize>)> = Vec::new(); // cand indices: inputs, outputs
        let mut produced: Produced = BTreeMap::new();
        let mut pending_inputs: Vec<(usize, usize)> = Vec::new(); // (run, cand)
        for (ri, run) in runs.iter().enumerate() {
            let actor = actor_of(&merged_facets(recs, &run.recs, "run"));
            let mut inputs = Vec::new();
            let mut outputs = Vec::new();
            for role in [Role::Input, Role::Output] {
                // dataset id → appearances in record order
                let mut seen: Vec<(String, Vec<(usize, usize)>)> = Vec::new();
                for &r in &run.recs {
                    for (e, entry) in recs[r].entries.iter().enumerate() {
                        if entry.role != role {
                            continue;
                        }
                        let id = entry.id();
                        match seen.iter_mut().find(|(d, _)| *d == id) {
                            Some((_, apps)) => apps.push((r, e)),
                            None => seen.push((id, vec![(r, e)])),
                        }
                    }
                }
                for (id, apps) in seen {
                    let chosen = apps
                        .iter()
                        .copied()
                        .find(|(r, _)| *r == run.terminal)
                        .unwrap_or(apps[0]);
                    let others: Vec<(usize, usize)> =
                        apps.into_iter().filter(|a| *a != chosen).collect();
                    let data = merge_entries(recs, chosen, &others);
                    let entry = &recs[chosen.0].entries[chosen.1];
                    let explicit = explicit_version(&data);
                    let (version, basis) = match (explicit, role) {
                        (Some(v), _) => (v.0, v.1),
                        (None, Role::Output) => (
                            digest_version(&[&entry.namespace, &entry.name, &run.id]),
                            format!(
                                "no version facet: a digest of the dataset and run `{}`, which wrote it",
                                run.id
                            ),
                        ),
                        (None, _) => (String::new(), String::new()),
                    };
                    let ci = cands.len();
                    if role == Role::Output {
                        produced.entry(id.clone()).or_default().push((
                            run.end,
                            run.id.clone(),
                            version.clone(),
                        ));
                        outputs.push(ci);
                    } else {
                        inputs.push(ci);
                        if version.is_empty() {
                            pending_inputs.push((ri, ci));
                        }
                    }
                    cands.push(Cand {
                        id,
                        namespace: entry.namespace.clone(),
                        version,
                        basis,
                        rec: chosen.0,
                        entry: chosen.1,
                        others,
                        actor: actor.clone(),
                        ts: recs[chosen.0].time,
                    });
                }
            }
            run_sets.push((inputs, outputs));
        }
        for list in produced.values_mut() {
            list.sort();
        }
        for (ri, ci) in pending_inputs {
            let run = &runs[ri];
            let read_at = run.started.unwrap_or(run.end);
            let (version, basis) =
                self.input_version(&cands[ci], &produced, read_at, Some(&run.id));
            cands[ci].version = version;
            cands[ci].basis = basis;
        }
        // Static events: JobEvent datasets and DatasetEvents.
        for &r in &statics {
            let rec = &recs[r];
            if matches!(rec.kind, Kind::Job) {
                let out = &mut self.outs[rec.file];
                if rec.entries.is_empty() {
                    out.quarantine(
                        rec.origin,
                        reject(format!(
                            "JobEvent for job `{}` lists no input or output dataset: trailbook has no job registration kind, so there is nothing to record",
                            rec.job
                        )),
                    );
                } else {
                    // The job record goes into the registrations of its datasets.
                    out.folded += 1;
                }
            }
            for (e, entry) in rec.entries.iter().enumerate() {
                let data = merge_entries(recs, (r, e), &[]);
                let mut cand = Cand {
                    id: entry.id(),
                    namespace: entry.namespace.clone(),
                    version: String::new(),
                    basis: String::new(),
                    rec: r,
                    entry: e,
                    others: Vec::new(),
                    actor: actor_of(&Map::new()),
                    ts: rec.time,
                };
                match explicit_version(&data) {
                    Some((v, b)) => {
                        cand.version = v;
                        cand.basis = b;
                    }
                    None => {
                        let (v, b) = self.input_version(&cand, &produced, rec.time, None);
                        cand.version = v;
                        cand.basis = b;
                    }
                }
                cands.push(cand);
            }
        }

        // One registration per dataset version: the earliest statement; the rest folded.
        let mut order: Vec<usize> = (0..cands.len()).collect();
        order.sort_by(|&a, &b| {
            let key = |c: &Cand| {
                let o = recs[c.rec].entries[c.entry].origin;
                (c.id.clone(), c.version.clone(), c.ts, o.file, o.offset)
            };
            key(&cands[a]).cmp(&key(&cands[b]))
        });
        let mut i = 0;
        while i < order.len() {
            let first = &cands[order[i]];
            let mut j = i + 1;
            while j < order.len()
                && cands[order[j]].id == first.id
                && cands[order[j]].version == first.version
            {
                j += 1;
            }
            let group: Vec<usize> = order[i..j].to_vec();
            self.register(&cands, &group);
            i = j;
        }

        // The runs.
        for (ri, run) in runs.iter().enumerate() {
            let (inputs, outputs) = &run_sets[ri];
            let node = |ci: &usize| format!("dataset:{}@{}", cands[*ci].id, cands[*ci].version);
            let inputs: Vec<String> = inputs.iter().map(node).collect();
            let outputs: Vec<String> = outputs.iter().map(node).collect();
            self.emit_run(run, inputs, outputs);
        }
    }

    fn input_version(
        &self,
        cand: &Cand,
        produced: &Produced,
        read_at: Timestamp,
        reader: Option<&str>,
    ) -> (String, String) {
        let latest = produced.get(&cand.id).and_then(|list| {
            // Sorted by time: the writes up to `read_at`, latest first, not the reader's own.
            let upto = list.partition_point(|(t, _, _)| *t <= read_at);
            list[..upto]
                .iter()
                .rev()
                .find(|(_, run, _)| Some(run.as_str()) != reader)
        });
        if let Some((_, run, version)) = latest {
            return (
                version.clone(),
                format!(
                    "no version facet: the version run `{run}` wrote, the latest one written before it was read"
                ),
            );
        }
        let entry = &self.recs[cand.rec].entries[cand.entry];
        let schema = entry
            .value
            .get("facets")
            .and_then(|f| f.get("schema"))
            .and_then(|s| s.get("fields"))
            .map(|f| f.to_string())
            .unwrap_or_default();
        (
            digest_version(&[&entry.namespace, &entry.name, &schema]),
            "no version facet and no run of this source wrote it before: a digest of the dataset and its schema".to_string(),
        )
    }

    /// A run without a terminal record: quarantined at its last record, the rest folded into it.
    fn unfinished(&mut self, id: &str, idx: &[usize]) {
        let recs = self.recs;
        let Some((&last, rest)) = idx.split_last() else {
            return;
        };
        let types: BTreeSet<&str> = idx
            .iter()
            .filter_map(|&i| match &recs[i].kind {
                Kind::Run { event_type, .. } => Some(event_type.as_str()),
                _ => None,
            })
            .collect();
        let others = if rest.is_empty() {
            String::new()
        } else {
            let at: Vec<String> = rest
                .iter()
                .take(5)
                .map(|&i| format!("{}:{}", recs[i].path, recs[i].origin.line))
                .collect();
            format!(
                "; its {} other record{} ({}{}) are counted as folded into this entry",
                rest.len(),
                if rest.len() == 1 { "" } else { "s" },
                at.join(", "),
                if rest.len() > 5 { ", …" } else { "" }
            )
        };
        let r = &recs[last];
        self.outs[r.file].quarantine(
            r.origin,
            reject(format!(
                "run `{id}` of job `{}` has {} record{} ({}) but no COMPLETE, FAIL or ABORT in this source: it had not finished when the log was written, or its terminal event is in a file not listed in `paths`, so no `run.completed` is recorded{others}",
                r.job,
                idx.len(),
                if idx.len() == 1 { "" } else { "s" },
                types.into_iter().collect::<Vec<_>>().join(", "),
            )),
        );
        self.outs[r.file].folded += r.entries.len() as u64;
        for &i in rest {
            let f = &mut self.outs[recs[i].file];
            f.folded += 1 + recs[i].entries.len() as u64;
        }
    }

    /// Registers the first candidate of a group of the same dataset version; folds the rest.
    fn register(&mut self, cands: &[Cand], group: &[usize]) {
        let recs = self.recs;
        let Some((&first, rest)) = group.split_first() else {
            return;
        };
        let c = &cands[first];
        let mut apps: Vec<(usize, usize)> = c.others.clone();
        for &o in rest {
            apps.push((cands[o].rec, cands[o].entry));
            apps.extend(cands[o].others.iter().copied());
        }
        for &(r, _) in &apps {
            self.outs[recs[r].file].folded += 1;
        }
        let data = merge_entries(recs, (c.rec, c.entry), &apps);
        let rec = &recs[c.rec];
        let entry = &rec.entries[c.entry];
        let mut attrs = Map::new();
        attrs.insert("name".into(), json!(c.id));
        attrs.insert("version".into(), json!(c.version));
        attrs.insert("namespace".into(), json!(c.namespace));
        attrs.insert("version_basis".into(), json!(c.basis));
        let mut raw = Map::new();
        let mut facets = data.facets;
        let mut input_facets = data.input_facets;
        let mut output_facets = data.output_facets;
        // Version facets whose `datasetVersion` was read into `version`.
        for name in ["version", "datasetVersion"] {
            if facets
                .get(name)
                .and_then(|f| f.get("datasetVersion"))
                .and_then(scalar)
                .is_some()
            {
                take_facet(&mut facets, name, &["datasetVersion"]);
            }
        }
        if facets
            .get("schema")
            .and_then(|f| f.get("fields"))
            .is_some_and(Value::is_array)
            && let Some(schema) = take_facet(&mut facets, "schema", &["fields"])
            && let Some(fields) = schema.get("fields")
        {
            attrs.insert("schema".into(), fields.clone());
        }
        let mut origin = Map::new();
        if !entry.pointer.is_empty() {
            origin.insert("pointer".into(), json!(entry.pointer));
        }
        origin.insert("sha256".into(), json!(entry.sha256));
        if let Some(ds) = take_facet(&mut facets, "dataSource", &["name", "uri"]) {
            if let Some(src) = ds
                .get("uri")
                .and_then(Value::as_str)
                .or_else(|| ds.get("name").and_then(Value::as_str))
                .filter(|s| !s.is_empty())
            {
                origin.insert("source".into(), json!(src));
            }
            attrs.insert("data_source".into(), Value::Object(without_meta(ds)));
        }
        if let Some(own) = take_facet(&mut facets, "ownership", &["owners"]) {
            let owners = owner_names(&own);
            if let Some(first) = owners.first() {
                attrs.insert("owner".into(), json!(first));
            }
            if owners.len() > 1 {
                attrs.insert("owners".into(), json!(owners));
            }
            if owners.is_empty()
                && let Some(o) = own.get("owners")
            {
                facets.insert("ownership".into(), json!({"owners": o}));
            }
        }
        if let Some(cl) = take_facet(&mut facets, "columnLineage", &["fields", "dataset"]) {
            attrs.insert("column_lineage".into(), Value::Object(without_meta(cl)));
        }
        if let Some(doc) = take_facet(&mut facets, "documentation", &["description"])
            && let Some(d) = doc.get("description")
        {
            attrs.insert("description".into(), d.clone());
        }
        if let Some(lc) = take_facet(
            &mut facets,
            "lifecycleStateChange",
            &["lifecycleStateChange"],
        ) && let Some(s) = lc.get("lifecycleStateChange")
        {
            attrs.insert("lifecycle".into(), s.clone());
        }
        let rows = output_facets
            .get("outputStatistics")
            .and_then(|s| s.get("rowCount"))
            .or_else(|| {
                input_facets
                    .get("dataQualityMetrics")
                    .and_then(|s| s.get("rowCount"))
            })
            .filter(|v| v.is_u64())
            .cloned();
        if let Some(rows) = rows {
            attrs.insert("rows".into(), rows);
        }
        attrs.insert("origin".into(), Value::Object(origin));
        if matches!(rec.kind, Kind::Job) {
            attrs.insert(
                "declared_by".into(),
                json!({"job": rec.job, "role": match entry.role { Role::Output => "output", _ => "input" }}),
            );
        }
        strip_meta(&mut facets);
        strip_meta(&mut input_facets);
        strip_meta(&mut output_facets);
        if !facets.is_empty() {
            raw.insert("facets".into(), Value::Object(facets));
        }
        if !input_facets.is_empty() {
            raw.insert("inputFacets".into(), Value::Object(input_facets));
        }
        if !output_facets.is_empty() {
            raw.insert("outputFacets".into(), Value::Object(output_facets));
        }
        for (k, v) in data.extra {
            raw.insert(k, v);
        }
        if !raw.is_empty() {
            attrs.insert("raw_extra".into(), Value::Object(raw));
        }
        let actor = c.actor.clone();
        let event = json!({
            "id": format!("ol:dataset:{}@{}", c.id, c.version),
            "ts": crate::time::fmt(c.ts),
            "kind": "dataset.registered",
            "actor": actor,
            "subject": {"type": "dataset", "id": format!("{}@{}", c.id, c.version)},
            "attrs": attrs,
        });
        self.emit(rec.file, &event, entry.origin);
    }

    fn emit(&mut self, file: usize, event: &Value, origin: Origin) {
        let out = &mut self.outs[file];
        match adapter::event(event, origin) {
            Ok(e) => out.events.push(e),
            Err(r) => out.quarantine(origin, r),
        }
    }

    fn emit_run(&mut self, run: &Run, inputs: Vec<String>, outputs: Vec<String>) {
        let recs = self.recs;
        let term = &recs[run.terminal];
        let Kind::Run { event_type, .. } = term.kind else {
            return;
        };
        let mut warnings: Vec<String> = Vec::new();
        let mut listed = Vec::new();
        let mut terminals = Vec::new();
        let mut jobs: BTreeSet<&str> = BTreeSet::new();
        for &r in &run.recs {
            let rec = &recs[r];
            jobs.insert(&rec.job);
            let Kind::Run {
                event_type: et,
                untyped,
                ..
            } = rec.kind
            else {
                continue;
            };
            if untyped {
                warnings.push(format!(
                    "{}:{} has no `eventType`: read as COMPLETE",
                    rec.path, rec.origin.line
                ));
            }
            if et.status().is_some() {
                terminals.push(et.as_str());
            }
            for w in &rec.warnings {
                warnings.push(format!("{}:{}: {w}", rec.path, rec.origin.line));
            }
            if listed.len() < MAX_LISTED {
                let mut item = Map::new();
                item.insert("path".into(), json!(rec.path));
                item.insert("line".into(), json!(rec.origin.line));
                if !rec.pointer.is_empty() {
                    item.insert("pointer".into(), json!(rec.pointer));
                }
                item.insert("event_type".into(), json!(et.as_str()));
                item.insert("event_time".into(), json!(crate::time::fmt(rec.time)));
                item.insert("sha256".into(), json!(rec.sha256));
                listed.push(Value::Object(item));
            }
            // Folded: every record of the run but the terminal one (its datasets are
            // accounted for by their registrations).
            if r != run.terminal {
                self.outs[rec.file].folded += 1;
            }
        }
        if terminals.len() > 1 {
            warnings.push(format!(
                "{} terminal records ({}): the latest, {}, gives the status",
                terminals.len(),
                terminals.join(", "),
                event_type.as_str()
            ));
        }
        if jobs.len() > 1 {
            warnings.push(format!(
                "the records of this run name {} jobs ({}); the terminal record's is used",
                jobs.len(),
                jobs.iter().copied().collect::<Vec<_>>().join(", ")
            ));
        }
        let mut run_facets = merged_facets(recs, &run.recs, "run");
        let mut job_facets = merged_facets(recs, &run.recs, "job");
        let actor = actor_of(&run_facets);
        let mut attrs = Map::new();
        attrs.insert("job".into(), json!(term.job));
        attrs.insert(
            "status".into(),
            json!(event_type.status().unwrap_or("completed")),
        );
        if let Some(s) = run.started {
            attrs.insert("started_ts".into(), json!(crate::time::fmt(s)));
        }
        attrs.insert("inputs".into(), json!(inputs));
        attrs.insert("outputs".into(), json!(outputs));
        let mut reason = None;
        if let Some(p) = take_facet(&mut run_facets, "parent", &["run", "job", "root"]) {
            let mut parent = Map::new();
            if let Some(id) = str_at(&Value::Object(p.clone()), &["run", "runId"]) {
                if id == run.id {
                    warnings.push("the `parent` facet names the run itself: ignored".into());
                } else {
                    attrs.insert("parent_run".into(), json!(id));
                    parent.insert("run".into(), json!(id));
                }
            }
            let pv = Value::Object(p);
            if let (Some(ns), Some(n)) = (
                str_at(&pv, &["job", "namespace"]),
                str_at(&pv, &["job", "name"]),
            ) {
                parent.insert("job".into(), json!(format!("{ns}/{n}")));
            }
            if let Some(id) = str_at(&pv, &["root", "run", "runId"]) {
                parent.insert("root_run".into(), json!(id));
            }
            if let (Some(ns), Some(n)) = (
                str_at(&pv, &["root", "job", "namespace"]),
                str_at(&pv, &["root", "job", "name"]),
            ) {
                parent.insert("root_job".into(), json!(format!("{ns}/{n}")));
            }
            if !parent.is_empty() {
                attrs.insert("parent".into(), Value::Object(parent));
            }
        }
        if let Some(err) = take_facet(
            &mut run_facets,
            "errorMessage",
            &["message", "programmingLanguage"],
        ) {
            let mut e = Map::new();
            match err.get("message") {
                Some(Value::String(m)) if !m.is_empty() => {
                    e.insert("message".into(), json!(m));
                    reason = Some(m.to_string());
                }
                Some(other) => {
                    e.insert("message".into(), other.clone());
                }
                None => {}
            }
            if let Some(l) = err.get("programmingLanguage") {
                e.insert("language".into(), l.clone());
            }
            if !e.is_empty() {
                attrs.insert("error".into(), Value::Object(e));
            }
        }
        let has_repo = job_facets
            .get("sourceCodeLocation")
            .and_then(|f| f.get("repoUrl"))
            .is_some();
        let code_keys: &[&str] = if has_repo {
            &["repoUrl", "version", "path"]
        } else {
            &["url", "version", "path"]
        };
        if let Some(src) = take_facet(&mut job_facets, "sourceCodeLocation", code_keys) {
            let sv = Value::Object(src);
            let mut code = Map::new();
            if let Some(repo) = str_at(&sv, &["repoUrl"]).or_else(|| str_at(&sv, &["url"])) {
                code.insert("repo".into(), json!(repo));
            }
            if let Some(c) = str_at(&sv, &["version"]) {
                code.insert("commit".into(), json!(c));
            }
            if let Some(p) = str_at(&sv, &["path"]) {
                code.insert("path".into(), json!(p));
            }
            if !code.is_empty() {
                attrs.insert("code".into(), Value::Object(code));
            }
        }
        if let Some(own) = take_facet(&mut job_facets, "ownership", &["owners"]) {
            let owners = owner_names(&own);
            if let Some(first) = owners.first() {
                attrs.insert("owner".into(), json!(first));
            }
            if owners.len() > 1 {
                attrs.insert("owners".into(), json!(owners));
            }
            if owners.is_empty()
                && let Some(o) = own.get("owners")
            {
                job_facets.insert("ownership".into(), json!({"owners": o}));
            }
        }
        if run_facets
            .get("processing_engine")
            .is_some_and(|pe| str_at(pe, &["name"]).is_some())
            && let Some(pe) = take_facet(&mut run_facets, "processing_engine", &["name", "version"])
            && let Some(name) = pe.get("name").and_then(Value::as_str)
        {
            let pe = Value::Object(pe.clone());
            let mut engine = Map::new();
            engine.insert("name".into(), json!(name));
            if let Some(v) = str_at(&pe, &["version"]) {
                engine.insert("version".into(), json!(v));
            }
            attrs.insert("engine".into(), Value::Object(engine));
        }
        if let Some(p) = term.value.get("producer").and_then(Value::as_str) {
            attrs.insert("producer".into(), json!(p));
        }
        attrs.insert("records".into(), Value::Array(listed));
        if run.recs.len() > MAX_LISTED {
            attrs.insert("records_total".into(), json!(run.recs.len()));
        }
        if !warnings.is_empty() {
            attrs.insert("warnings".into(), json!(warnings));
        }
        let mut origin = Map::new();
        if !term.pointer.is_empty() {
            origin.insert("pointer".into(), json!(term.pointer));
        }
        origin.insert("sha256".into(), json!(term.sha256));
        attrs.insert("origin".into(), Value::Object(origin));
        // raw_extra: unmapped facets and top-level keys.
        let mut raw = Map::new();
        strip_meta(&mut run_facets);
        strip_meta(&mut job_facets);
        if !run_facets.is_empty() {
            raw.insert("run".into(), json!({"facets": run_facets}));
        }
        if !job_facets.is_empty() {
            raw.insert("job".into(), json!({"facets": job_facets}));
        }
        for &r in &run.recs {
            for (k, v) in &recs[r].value {
                let mapped = matches!(
                    k.as_str(),
                    "eventType" | "eventTime" | "run" | "job" | "producer"
                ) || ((k == "inputs" || k == "outputs") && v.is_array());
                if !(mapped || raw.contains_key(k) || (k == "schemaURL" && r != run.terminal)) {
                    raw.insert(k.clone(), v.clone());
                }
            }
        }
        if !raw.is_empty() {
            attrs.insert("raw_extra".into(), Value::Object(raw));
        }
        let mut event = json!({
            "id": format!("ol:{}", run.id),
            "ts": crate::time::fmt(run.end),
            "kind": "run.completed",
            "actor": actor,
            "subject": {"type": "run", "id": run.id},
            "attrs": attrs,
        });
        if let Some(r) = reason
            && let Some(obj) = event.as_object_mut()
        {
            obj.insert("reason".into(), json!(r));
        }
        self.emit(term.file, &event, term.origin);
    }
}

/// The merged data of a dataset's appearances: `chosen` first, the others fill in what it lacks.
struct DsData {
    facets: Map<String, Value>,
    input_facets: Map<String, Value>,
    output_facets: Map<String, Value>,
    /// Keys of the dataset object other than namespace, name and the facet maps.
    extra: Map<String, Value>,
}

fn merge_entries(recs: &[Rec], chosen: (usize, usize), others: &[(usize, usize)]) -> DsData {
    let mut d = DsData {
        facets: Map::new(),
        input_facets: Map::new(),
        output_facets: Map::new(),
        extra: Map::new(),
    };
    for &(r, e) in std::iter::once(&chosen).chain(others) {
        let Some(entry) = recs.get(r).and_then(|rec| rec.entries.get(e)) else {
            continue;
        };
        for (k, v) in &entry.value {
            let target = match k.as_str() {
                "namespace" | "name" => continue,
                "facets" => &mut d.facets,
                "inputFacets" => &mut d.input_facets,
                "outputFacets" => &mut d.output_facets,
                _ => {
                    d.extra.entry(k.clone()).or_insert_with(|| v.clone());
                    continue;
                }
            };
            match v {
                Value::Object(m) => {
                    for (fk, fv) in m {
                        target.entry(fk.clone()).or_insert_with(|| fv.clone());
                    }
                }
                other => {
                    d.extra.entry(k.clone()).or_insert_with(|| other.clone());
                }
            }
        }
    }
    d
}

/// The explicit version of a dataset: the `version` facet's `datasetVersion` (also accepted under
/// a facet named `datasetVersion`), else a `version` string on the dataset object.
fn explicit_version(d: &DsData) -> Option<(String, String)> {
    for facet in ["version", "datasetVersion"] {
        if let Some(v) = d
            .facets
            .get(facet)
            .and_then(|f| f.get("datasetVersion"))
            .and_then(scalar)
        {
            return Some((v, format!("the `{facet}` facet's `datasetVersion`")));
        }
    }
    d.extra
        .get("version")
        .and_then(scalar)
        .map(|v| (v, "the dataset's `version`".to_string()))
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The facets under `key` (`run` or `job`) of a run's records, merged: a later record's facet
/// replaces an earlier one of the same name.
fn merged_facets(recs: &[Rec], idx: &[usize], key: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for &i in idx {
        if let Some(Value::Object(f)) = recs[i].value.get(key).and_then(|v| v.get("facets")) {
            for (k, v) in f {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// Removes facet `name` from `facets` and returns it (an object). The keys in `mapped` are what
/// the caller maps; anything else of the facet (besides `_producer`, `_schemaURL`) is put back
/// under the same name, so it lands in `raw_extra`.
fn take_facet(
    facets: &mut Map<String, Value>,
    name: &str,
    mapped: &[&str],
) -> Option<Map<String, Value>> {
    // A facet that is not an object stays where it is, so it lands in `raw_extra`.
    if !facets.get(name).is_some_and(Value::is_object) {
        return None;
    }
    let Value::Object(f) = facets.remove(name)? else {
        return None;
    };
    let rest: Map<String, Value> = f
        .iter()
        .filter(|(k, _)| !mapped.contains(&k.as_str()) && !k.starts_with('_'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !rest.is_empty() {
        facets.insert(name.to_string(), Value::Object(rest));
    }
    Some(f)
}

/// Drops the `_producer` and `_schemaURL` of facets (which producer wrote a facet, and its schema
/// document: provenance of the record, kept in the original bytes, not facts of the run).
fn strip_meta(facets: &mut Map<String, Value>) {
    facets.retain(|_, v| {
        if let Value::Object(m) = v {
            m.remove("_producer");
            m.remove("_schemaURL");
            m.remove("_deleted");
            !m.is_empty()
        } else {
            true
        }
    });
}

/// A facet without its `_producer`, `_schemaURL` (see [`strip_meta`]).
fn without_meta(mut facet: Map<String, Value>) -> Map<String, Value> {
    facet.retain(|k, _| !k.starts_with('_'));
    facet
}

/// Owner names of an ownership facet, masked ones (`***`) left out.
fn owner_names(own: &Map<String, Value>) -> Vec<String> {
    match own.get("owners") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|o| o.get("name").and_then(Value::as_str))
            .filter(|n| !n.trim().is_empty() && !n.chars().all(|c| c == '*'))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The actor: the user a Spark application ran as (`spark_applicationDetails.userName`, a
/// service account as far as the record tells), else the format itself.
fn actor_of(run_facets: &Map<String, Value>) -> Value {
    match run_facets
        .get("spark_applicationDetails")
        .and_then(|f| f.get("userName"))
        .and_then(Value::as_str)
        .filter(|u| !u.trim().is_empty() && !u.chars().all(|c| c == '*'))
    {
        Some(user) => json!({"id": user, "type": "service", "role": "spark user"}),
        None => json!({"id": DEFAULT_ACTOR, "type": "system"}),
    }
}

#[cfg(test)]
mod tests;
