//! `format = "mlflow-export"`: the JSON trees of mlflow-export-import (`model.json`,
//! `model_version.json`, `run.json`, `experiment.json`, bulk manifests), and the mapping of MLflow
//! runs and model versions to canonical events that `mlflow-filestore` shares.
//!
//! What becomes what (`docs/adapters/mlflow-export.md` has the full tables):
//! - a model version → `model.registered` (`MODEL@VERSION`, training run, code commit of that run
//!   when the run is in the same source, stage, aliases, tags, artifact source);
//! - its current stage → `model.promoted` from `development` (stage `None`, where every MLflow
//!   version starts) to `staging` / `production`, or `model.retired` for `Archived`;
//! - an alias → `model.promoted` to an environment named like the alias;
//! - a run → `run.completed` (status, times, experiment as job, params digest, metrics, git
//!   commit, dataset inputs), and each input dataset with a name and a digest →
//!   `dataset.registered`;
//! - the registered model and the experiment are folded into their versions and runs.
//!
//! Records and accounting (`records == events + quarantined + folded` per file): a record is a
//! unit that becomes one event (a version, its stage, an alias, a run, a dataset entry) or is
//! folded into others (the registered model into its versions, the experiment into its runs, an
//! alias listed both on the model and on its version). Files under an `artifacts/` folder are
//! artifacts (model binaries, notebooks), not records: 0 records.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::adapter::{self, Cx, FileOut, InputFile, Layout, LineIndex, Record};
use super::jsonl::Reject;
use crate::event::Origin;

// ---------------------------------------------------------------------------------------------
// Shared by mlflow-export and mlflow-filestore.

/// Collects one file's records, events and quarantine.
pub(super) struct Emit {
    source: u32,
    file: u32,
    pub out: FileOut,
}

impl Emit {
    pub(super) fn new(cx: &Cx<'_>, file: &InputFile<'_>) -> Emit {
        Emit {
            source: cx.source,
            file: file.index,
            out: FileOut::default(),
        }
    }

    pub(super) fn origin(&self, line: u64, offset: u64, len: u64) -> Origin {
        Origin {
            source: self.source,
            file: self.file,
            line,
            offset,
            len,
        }
    }

    /// A record that becomes the event `canonical` (or is quarantined when the event is invalid).
    pub(super) fn event(&mut self, canonical: &Value, origin: Origin) {
        self.out.records += 1;
        match adapter::event(canonical, origin) {
            Ok(e) => self.out.events.push(e),
            Err(r) => self.out.quarantine(origin, r),
        }
    }

    /// A record that cannot become an event.
    pub(super) fn reject(&mut self, origin: Origin, reject: Reject) {
        self.out.records += 1;
        self.out.quarantine(origin, reject);
    }

    /// A record merged into another record's event.
    pub(super) fn fold(&mut self) {
        self.out.records += 1;
        self.out.folded += 1;
    }
}

pub(super) fn reject(reason: impl Into<String>) -> Reject {
    Reject {
        column: 1,
        reason: reason.into(),
    }
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The first 12 hex digits of the SHA-256 of `bytes`: the part of an event id that keeps events
/// of different exports (or registries) of the same object apart.
pub(super) fn short_hash(bytes: &[u8]) -> String {
    let mut h = sha256_hex(bytes);
    h.truncate(12);
    h
}

/// `attrs.origin` of a record: its JSON pointer (when not empty) and the SHA-256 of its bytes.
pub(super) fn origin_attr(pointer: &str, bytes: &[u8]) -> Value {
    let mut m = Map::new();
    if !pointer.is_empty() {
        m.insert("pointer".into(), Value::String(pointer.to_string()));
    }
    m.insert("sha256".into(), Value::String(sha256_hex(bytes)));
    Value::Object(m)
}

/// An MLflow time: epoch milliseconds, as a JSON integer, an integral float or a digit string.
pub(super) fn ms_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty() && t.len() <= 16 && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse().ok())
                .flatten()
        }
        _ => None,
    }
}

/// Epoch milliseconds → RFC 3339.
pub(super) fn ms_time(ms: i64) -> Result<String, String> {
    Timestamp::from_millisecond(ms)
        .map(crate::time::fmt)
        .map_err(|e| format!("`{ms}` is not a time in epoch milliseconds: {e}"))
}

/// A string field, trimmed, `None` when absent, not a string or empty.
pub(super) fn text<'v>(m: &'v Map<String, Value>, key: &str) -> Option<&'v str> {
    m.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A string or number field as text (MLflow writes versions and ids both ways).
pub(super) fn text_or_num(m: &Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The actor of an MLflow user id. No user (empty, or MLflow's `unknown`) is not a person: the
/// adapter itself, type `system`. A UUID (a Databricks service principal's application id) and the
/// usual service accounts are `service`; any other user is `human`.
pub(super) fn actor(user: Option<&str>, fallback: &str) -> Value {
    let user = user.map(str::trim).filter(|u| !u.is_empty());
    match user {
        None => json!({"id": fallback, "type": "system"}),
        Some(u) if u.eq_ignore_ascii_case("unknown") => json!({"id": fallback, "type": "system"}),
        Some(u) if is_uuid(u) || SERVICE_ACCOUNTS.contains(&u) => {
            json!({"id": u, "type": "service"})
        }
        Some(u) => json!({"id": u, "type": "human"}),
    }
}

const SERVICE_ACCOUNTS: &[&str] = &[
    "root", "admin", "airflow", "docker", "ec2-user", "hadoop", "jenkins", "mlflow", "nobody",
    "runner", "spark", "ubuntu",
];

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `sha256:` + the SHA-256 of the params as canonical JSON: one object, keys sorted byte-wise,
/// values as strings, no whitespace (`{"alpha":"0.5","l1_ratio":"0.1"}`).
pub(super) fn params_digest(params: &BTreeMap<String, String>) -> String {
    let text = serde_json::to_string(params).unwrap_or_default();
    format!("sha256:{}", sha256_hex(text.as_bytes()))
}

/// What an MLflow stage becomes.
pub(super) enum Stage {
    /// `None` (or no stage): the version is registered, nothing more.
    Unassigned,
    /// `Staging` / `Production`: promoted to this environment.
    Env(&'static str),
    /// `Archived`: retired.
    Archived,
    Unknown(String),
}

pub(super) fn stage(s: Option<&str>) -> Stage {
    match s.map(str::trim) {
        None | Some("") => Stage::Unassigned,
        Some(x) if x.eq_ignore_ascii_case("none") => Stage::Unassigned,
        Some(x) if x.eq_ignore_ascii_case("staging") => Stage::Env("staging"),
        Some(x) if x.eq_ignore_ascii_case("production") => Stage::Env("production"),
        Some(x) if x.eq_ignore_ascii_case("archived") => Stage::Archived,
        Some(x) => Stage::Unknown(x.to_string()),
    }
}

/// The environment every new MLflow version starts in (stage `None`, no alias).
pub(super) const START_ENV: &str = "development";

/// A metric point.
#[derive(Clone, Debug)]
pub(super) struct Point {
    pub ts: Option<i64>,
    /// A number, or a string for a non-finite value (`NaN`, `Infinity`, `-Infinity`).
    pub value: Value,
    pub step: i64,
}

/// A dataset a run read, as MLflow names it.
#[derive(Clone, Debug, Default)]
pub(super) struct DatasetIn {
    pub name: String,
    pub digest: Option<String>,
    pub source_type: Option<String>,
    /// The dataset's source (a URI, or MLflow's JSON description of it).
    pub source: Option<Value>,
    pub schema: Option<Value>,
    pub profile: Option<Value>,
    /// `mlflow.data.context` (`train`, `eval`, …).
    pub context: Option<String>,
    /// Where it was found (`inputs`, tag `mlflow.datasets`, …).
    pub found_in: String,
    pub extra: Map<String, Value>,
    /// The JSON pointer of this dataset's own record in its file, when it has one (an export's
    /// `inputs.dataset_inputs` element); `None` when it is part of a tag.
    pub pointer: Option<String>,
}

impl DatasetIn {
    pub(super) fn node_id(&self) -> String {
        match &self.digest {
            Some(d) => format!("{}@{d}", self.name),
            None => self.name.clone(),
        }
    }
}

/// One MLflow run, read from an export or a file store.
#[derive(Clone, Debug, Default)]
pub(super) struct RunIn {
    pub run_id: String,
    pub experiment_id: Option<String>,
    /// MLflow's status name (`FINISHED`, `FAILED`, `KILLED`, `RUNNING`, `SCHEDULED`).
    pub status: Option<String>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub user_id: Option<String>,
    pub run_name: Option<String>,
    pub artifact_uri: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub params: BTreeMap<String, String>,
    pub metrics: BTreeMap<String, Vec<Point>>,
    pub tags: BTreeMap<String, String>,
    /// Datasets from the run's inputs (REST `inputs.dataset_inputs`, file store `inputs/`).
    pub inputs: Vec<DatasetIn>,
    /// Input references that name no dataset MLflow knows (a file store input whose dataset
    /// folder is missing).
    pub other_inputs: Vec<String>,
    /// The experiment: `{id, name, tags, artifact_location, lifecycle_stage, creation_ts}`.
    pub experiment: Option<Map<String, Value>>,
    /// Unmapped fields, kept under `attrs.raw_extra`.
    pub extra: Map<String, Value>,
    /// Export provenance (`attrs.export`).
    pub export: Option<Value>,
}

/// Tags of an MLflow run that are mapped to attributes of their own.
const MAPPED_RUN_TAGS: &[&str] = &[
    "mlflow.source.git.commit",
    "mlflow.source.git.repoURL",
    "mlflow.source.git.branch",
    "mlflow.databricks.gitRepoCommit",
    "mlflow.databricks.gitRepoUrl",
    "mlflow.databricks.gitRepoRelativePath",
    "mlflow.databricks.gitRepoReference",
    "mlflow.source.name",
    "mlflow.source.type",
    "mlflow.user",
    "mlflow.runName",
    "mlflow.parentRunId",
];

/// The git commit of a run: `mlflow.source.git.commit`, else `mlflow.databricks.gitRepoCommit`.
pub(super) fn run_commit(tags: &BTreeMap<String, String>) -> Option<&str> {
    [
        "mlflow.source.git.commit",
        "mlflow.databricks.gitRepoCommit",
    ]
    .iter()
    .find_map(|k| tags.get(*k).map(|s| s.trim()).filter(|s| !s.is_empty()))
}

pub(super) fn run_code(tags: &BTreeMap<String, String>) -> Option<Value> {
    let pick = |keys: &[&str]| {
        keys.iter().find_map(|k| {
            tags.get(*k)
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
    };
    let mut code = Map::new();
    if let Some(r) = pick(&["mlflow.source.git.repoURL", "mlflow.databricks.gitRepoUrl"]) {
        code.insert("repo".into(), Value::String(r));
    }
    if let Some(c) = run_commit(tags) {
        code.insert("commit".into(), Value::String(c.to_string()));
    }
    if let Some(p) = pick(&[
        "mlflow.databricks.gitRepoRelativePath",
        "mlflow.source.name",
    ]) {
        code.insert("path".into(), Value::String(p));
    }
    if let Some(b) = pick(&[
        "mlflow.source.git.branch",
        "mlflow.databricks.gitRepoReference",
    ]) {
        code.insert("branch".into(), Value::String(b));
    }
    (!code.is_empty()).then_some(Value::Object(code))
}

/// The datasets named by the tags `mlflow.datasets` (a JSON array of `{name, digest|hash, …}`)
/// and `sparkDatasourceInfo` (`path=…,version=…,format=…`, one per line). Returns the datasets
/// and the tags read whole (those are not repeated under `attrs.tags`).
pub(super) fn tag_datasets(tags: &BTreeMap<String, String>) -> (Vec<DatasetIn>, BTreeSet<String>) {
    let mut out = Vec::new();
    let mut read = BTreeSet::new();
    if let Some(v) = tags.get("mlflow.datasets")
        && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(v)
    {
        let mut all = true;
        let mut found = Vec::new();
        for item in items {
            match dataset_entry(item, "tag mlflow.datasets") {
                Some(d) => {
                    // An entry without a digest is only an input: the tag keeps the rest of it.
                    all &= d.digest.is_some();
                    found.push(d);
                }
                None => all = false,
            }
        }
        if all {
            read.insert("mlflow.datasets".to_string());
        }
        out.extend(found);
    }
    if let Some(v) = tags.get("sparkDatasourceInfo") {
        // The tag stays in `tags` (it also says the format): the inputs are read from it.
        for line in v.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let fields: BTreeMap<&str, &str> = line
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect();
            let Some(path) = fields.get("path").filter(|p| !p.is_empty()) else {
                continue;
            };
            let mut extra = Map::new();
            for (k, v) in &fields {
                if !["path", "version"].contains(k) {
                    extra.insert((*k).to_string(), Value::String((*v).to_string()));
                }
            }
            // A Delta version is a version, not a digest: the input names it, nothing registers it.
            let name = match fields.get("version").filter(|v| !v.is_empty()) {
                Some(ver) => format!("{path}@{ver}"),
                None => (*path).to_string(),
            };
            out.push(DatasetIn {
                name,
                found_in: "tag sparkDatasourceInfo".into(),
                extra,
                ..DatasetIn::default()
            });
        }
    }
    (out, read)
}

/// One dataset object (`{name, digest, source_type, source, schema, profile}`; `hash` is taken
/// as the digest, as older Databricks AutoML tags write it).
pub(super) fn dataset_entry(item: Value, found_in: &str) -> Option<DatasetIn> {
    let Value::Object(mut m) = item else {
        return None;
    };
    let name = text_or_num(&m, "name")?;
    m.remove("name");
    let digest = text_or_num(&m, "digest").or_else(|| text_or_num(&m, "hash"));
    if text_or_num(&m, "digest").is_some() {
        m.remove("digest");
    } else if digest.is_some() {
        m.remove("hash");
    }
    let take_str = |m: &mut Map<String, Value>, k: &str| match m.remove(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(Value::Null) | None => None,
        Some(other) => {
            m.insert(k.to_string(), other);
            None
        }
    };
    let source_type = take_str(&mut m, "source_type");
    // MLflow writes `source`, `schema` and `profile` as JSON inside a string.
    let json_in = |m: &mut Map<String, Value>, k: &str| match m.remove(k) {
        Some(Value::String(s)) if !s.is_empty() => {
            Some(serde_json::from_str::<Value>(&s).unwrap_or(Value::String(s)))
        }
        Some(Value::Null) | None => None,
        Some(other) => Some(other),
    };
    let source = json_in(&mut m, "source");
    let schema = json_in(&mut m, "schema");
    let profile = json_in(&mut m, "profile");
    Some(DatasetIn {
        name,
        digest,
        source_type,
        source,
        schema,
        profile,
        context: None,
        found_in: found_in.to_string(),
        extra: m,
        pointer: None,
    })
}

/// The datasets of a run: its inputs, then those named by its tags, each once (by node id).
pub(super) fn run_datasets(run: &RunIn) -> (Vec<DatasetIn>, BTreeSet<String>) {
    let (tagged, read) = tag_datasets(&run.tags);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for d in run.inputs.iter().cloned().chain(tagged) {
        if seen.insert(d.node_id()) {
            out.push(d);
        }
    }
    (out, read)
}

/// The canonical `run.completed` of a run. `id` is the event id, `fallback_actor` the actor id
/// when the run names no user, `origin` its `attrs.origin`.
pub(super) fn run_event(
    run: &RunIn,
    id: &str,
    fallback_actor: &str,
    origin: Value,
) -> Result<Value, Reject> {
    let status = match run
        .status
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("FINISHED") => "completed",
        Some("FAILED") => "failed",
        Some("KILLED") => "aborted",
        Some(s @ ("RUNNING" | "SCHEDULED")) => {
            return Err(reject(format!(
                "run `{}` is {s}: it has not ended, so there is no completed run to record yet (read it again after it ends; a run left RUNNING by a crashed process can be ended with `mlflow.tracking.MlflowClient().set_terminated`)",
                run.run_id
            )));
        }
        Some(other) => {
            return Err(reject(format!(
                "run `{}` has the unknown status `{other}` (expected FINISHED, FAILED or KILLED)",
                run.run_id
            )));
        }
        None => {
            return Err(reject(format!("run `{}` has no `status`", run.run_id)));
        }
    };
    let end = run.end.ok_or_else(|| {
        reject(format!(
            "run `{}` ended ({status}) but has no `end_time`: trailbook dates a run by its end",
            run.run_id
        ))
    })?;
    let ts = ms_time(end).map_err(|e| reject(format!("`end_time`: {e}")))?;

    let mut attrs = Map::new();
    let exp_name = run
        .experiment
        .as_ref()
        .and_then(|e| text(e, "name"))
        .map(str::to_string);
    let job = match (&exp_name, &run.experiment_id) {
        (Some(n), _) => n.clone(),
        (None, Some(id)) => format!("mlflow-experiment-{id}"),
        (None, None) => "mlflow-experiment-unknown".to_string(),
    };
    attrs.insert("job".into(), Value::String(job));
    attrs.insert("status".into(), Value::String(status.into()));
    if let Some(s) = run.start {
        attrs.insert(
            "started_ts".into(),
            Value::String(ms_time(s).map_err(|e| reject(format!("`start_time`: {e}")))?),
        );
    }
    let (datasets, tags_read) = run_datasets(run);
    let mut inputs: Vec<Value> = datasets
        .iter()
        .map(|d| Value::String(format!("dataset:{}", d.node_id())))
        .collect();
    inputs.extend(
        run.other_inputs
            .iter()
            .map(|i| Value::String(format!("dataset:{i}"))),
    );
    if !inputs.is_empty() {
        attrs.insert("inputs".into(), Value::Array(inputs));
        let contexts: Map<String, Value> = datasets
            .iter()
            .filter_map(|d| {
                d.context
                    .as_ref()
                    .map(|c| (d.node_id(), Value::String(c.clone())))
            })
            .collect();
        if !contexts.is_empty() {
            attrs.insert("input_contexts".into(), Value::Object(contexts));
        }
    }
    if let Some(code) = run_code(&run.tags) {
        attrs.insert("code".into(), code);
    }
    attrs.insert(
        "params_digest".into(),
        Value::String(params_digest(&run.params)),
    );
    if !run.params.is_empty() {
        attrs.insert("params".into(), json!(run.params));
    }
    let (metrics, history) = metrics_attrs(&run.metrics);
    if !metrics.is_empty() {
        attrs.insert("metrics".into(), Value::Object(metrics));
    }
    if !history.is_empty() {
        attrs.insert("metric_history".into(), Value::Object(history));
    }
    let mut experiment = run.experiment.clone().unwrap_or_default();
    if let Some(id) = &run.experiment_id {
        experiment
            .entry("id")
            .or_insert_with(|| Value::String(id.clone()));
    }
    if !experiment.is_empty() {
        attrs.insert("experiment".into(), Value::Object(experiment));
    }
    let name = run
        .run_name
        .clone()
        .or_else(|| run.tags.get("mlflow.runName").cloned());
    if let Some(n) = name {
        attrs.insert("run_name".into(), Value::String(n));
    }
    if let Some(u) = &run.user_id {
        attrs.insert("user".into(), Value::String(u.clone()));
    }
    if let Some(p) = run.tags.get("mlflow.parentRunId") {
        attrs.insert("parent_run".into(), Value::String(p.clone()));
    }
    if let Some(t) = run.tags.get("mlflow.source.type") {
        attrs.insert("source_type".into(), Value::String(t.clone()));
    }
    if let Some(a) = &run.artifact_uri {
        attrs.insert("artifact_uri".into(), Value::String(a.clone()));
    }
    if let Some(l) = &run.lifecycle_stage {
        attrs.insert("lifecycle_stage".into(), Value::String(l.clone()));
    }
    let mut tags_left = Map::new();
    let mut logged_models_read = false;
    if let Some(h) = run.tags.get("mlflow.log-model.history")
        && let Ok(v @ Value::Array(_)) = serde_json::from_str::<Value>(h)
    {
        attrs.insert("logged_models".into(), v);
        logged_models_read = true;
    }
    let mut imported = Map::new();
    let mut imported_tags = Map::new();
    for (k, v) in &run.tags {
        if MAPPED_RUN_TAGS.contains(&k.as_str())
            || tags_read.contains(k)
            || (logged_models_read && k == "mlflow.log-model.history")
        {
            continue;
        }
        if let Some(f) = k.strip_prefix("mlflow_exim.run_info.") {
            imported.insert(f.to_string(), Value::String(v.clone()));
        } else if let Some(f) = k.strip_prefix("mlflow_exim.mlflow_tag.") {
            imported_tags.insert(format!("mlflow.{f}"), Value::String(v.clone()));
        } else {
            tags_left.insert(k.clone(), Value::String(v.clone()));
        }
    }
    if !imported_tags.is_empty() {
        imported.insert("tags".into(), Value::Object(imported_tags));
    }
    if !imported.is_empty() {
        attrs.insert("imported_from".into(), Value::Object(imported));
    }
    if !tags_left.is_empty() {
        attrs.insert("tags".into(), Value::Object(tags_left));
    }
    if let Some(e) = &run.export {
        attrs.insert("export".into(), e.clone());
    }
    if !run.extra.is_empty() {
        attrs.insert("raw_extra".into(), Value::Object(run.extra.clone()));
    }
    attrs.insert("origin".into(), origin);

    let user = run
        .user_id
        .as_deref()
        .filter(|u| !u.trim().is_empty() && !u.trim().eq_ignore_ascii_case("unknown"))
        .or_else(|| run.tags.get("mlflow.user").map(String::as_str));
    Ok(json!({
        "id": id,
        "ts": ts,
        "kind": "run.completed",
        "actor": actor(user, fallback_actor),
        "subject": {"type": "run", "id": run.run_id},
        "attrs": attrs,
    }))
}

/// Metric histories longer than this are summarised in `metric_history` (count, first, last, min,
/// max); the metric file or export keeps every point.
const MAX_HISTORY: usize = 1000;

/// `metrics` (name → the last value: highest step, then latest time) and `metric_history`
/// (name → every point `{ts, value, step}`, for metrics with more than one point; `{summary}` for
/// more than [`MAX_HISTORY`] points).
fn metrics_attrs(
    metrics: &BTreeMap<String, Vec<Point>>,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut last = Map::new();
    let mut history = Map::new();
    for (name, points) in metrics {
        if let Some(p) = points
            .iter()
            .max_by_key(|p| (p.step, p.ts.unwrap_or(i64::MIN)))
        {
            last.insert(name.clone(), p.value.clone());
        }
        let point = |p: &Point| {
            let mut m = Map::new();
            if let Some(t) = p.ts.and_then(|t| ms_time(t).ok()) {
                m.insert("ts".into(), Value::String(t));
            }
            m.insert("value".into(), p.value.clone());
            m.insert("step".into(), json!(p.step));
            Value::Object(m)
        };
        if points.len() > MAX_HISTORY {
            // A training curve of many steps: its size, ends and range; the record keeps it all.
            let nums: Vec<f64> = points.iter().filter_map(|p| p.value.as_f64()).collect();
            let mut summary = Map::new();
            summary.insert("points".into(), json!(points.len()));
            if let (Some(first), Some(last)) = (points.first(), points.last()) {
                summary.insert("first".into(), point(first));
                summary.insert("last".into(), point(last));
            }
            if !nums.is_empty() {
                summary.insert(
                    "min".into(),
                    json!(nums.iter().copied().fold(f64::INFINITY, f64::min)),
                );
                summary.insert(
                    "max".into(),
                    json!(nums.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
                );
            }
            history.insert(name.clone(), json!({"summary": summary}));
        } else if points.len() > 1 {
            history.insert(
                name.clone(),
                Value::Array(points.iter().map(point).collect()),
            );
        }
    }
    (last, history)
}

/// The canonical `dataset.registered` of a dataset a run read (it must have a digest). Dated at
/// the run's start (the dataset existed when the run began), else its end.
pub(super) fn dataset_event(
    d: &DatasetIn,
    run: &RunIn,
    id: &str,
    fallback_actor: &str,
    origin: Value,
) -> Result<Value, Reject> {
    let digest = d
        .digest
        .as_deref()
        .ok_or_else(|| reject(format!("dataset `{}` has no digest", d.name)))?;
    let when = run.start.or(run.end).ok_or_else(|| {
        reject(format!(
            "dataset `{}`: its run `{}` has neither `start_time` nor `end_time` to date it by",
            d.name, run.run_id
        ))
    })?;
    let ts = ms_time(when).map_err(reject)?;
    let mut attrs = Map::new();
    attrs.insert("name".into(), Value::String(d.name.clone()));
    attrs.insert("version".into(), Value::String(digest.to_string()));
    attrs.insert("digest".into(), Value::String(digest.to_string()));
    if let Some(cols) = d.schema.as_ref().and_then(schema_columns) {
        attrs.insert("schema".into(), Value::Array(cols));
    } else if let Some(s) = &d.schema {
        attrs.insert("mlflow_schema".into(), s.clone());
    }
    if let Some(p) = &d.profile {
        attrs.insert("profile".into(), p.clone());
    }
    if let Some(t) = &d.source_type {
        attrs.insert("source_type".into(), Value::String(t.clone()));
    }
    if let Some(c) = &d.context {
        attrs.insert("context".into(), Value::String(c.clone()));
    }
    attrs.insert("first_run".into(), Value::String(run.run_id.clone()));
    attrs.insert("found_in".into(), Value::String(d.found_in.clone()));
    if !d.extra.is_empty() {
        attrs.insert("raw_extra".into(), Value::Object(d.extra.clone()));
    }
    // `attrs.origin` is both the dataset's provenance (`source`) and the record's location.
    let mut o = match origin {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(src) = &d.source {
        let s = match src {
            Value::Object(m) => ["uri", "url", "path", "table_name", "name"]
                .iter()
                .find_map(|k| m.get(*k).and_then(Value::as_str).map(str::to_string))
                .map_or_else(|| Value::Object(m.clone()), Value::String),
            other => other.clone(),
        };
        o.insert("source".into(), s);
        if matches!(src, Value::Object(_)) {
            o.insert("mlflow_source".into(), src.clone());
        }
    }
    attrs.insert("origin".into(), Value::Object(o));
    let user = run
        .user_id
        .as_deref()
        .filter(|u| !u.trim().is_empty() && !u.trim().eq_ignore_ascii_case("unknown"))
        .or_else(|| run.tags.get("mlflow.user").map(String::as_str));
    Ok(json!({
        "id": id,
        "ts": ts,
        "kind": "dataset.registered",
        "actor": actor(user, fallback_actor),
        "subject": {"type": "dataset", "id": format!("{}@{digest}", d.name)},
        "attrs": attrs,
    }))
}

/// MLflow's dataset schema (`{"mlflow_colspec": [{"name", "type"}]}`, or a bare column list) as
/// `[{name, type}]`.
fn schema_columns(schema: &Value) -> Option<Vec<Value>> {
    let cols = match schema {
        Value::Object(m) => m.get("mlflow_colspec").or_else(|| m.get("columns"))?,
        Value::Array(_) => schema,
        _ => return None,
    };
    let cols = cols.as_array()?;
    let out: Vec<Value> = cols
        .iter()
        .filter_map(|c| {
            let name = c.get("name")?.as_str()?;
            let ty = c.get("type").and_then(Value::as_str).unwrap_or("");
            Some(json!({"name": name, "type": ty}))
        })
        .collect();
    (out.len() == cols.len() && !out.is_empty()).then_some(out)
}

/// One model version, read from an export or a file store registry.
#[derive(Clone, Debug, Default)]
pub(super) struct VersionIn {
    pub name: String,
    pub version: String,
    pub creation: Option<i64>,
    pub last_updated: Option<i64>,
    pub stage: Option<String>,
    pub description: Option<String>,
    pub user_id: Option<String>,
    pub source: Option<String>,
    pub run_id: Option<String>,
    pub run_link: Option<String>,
    pub status: Option<String>,
    pub status_message: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub aliases: Vec<String>,
    pub experiment: Option<String>,
    /// The registered model (`{name, description, tags, creation_ts, user_id, …}`).
    pub registered_model: Map<String, Value>,
    /// The owner: the registered model's `user_id` (its creator; Databricks shows it as owner).
    pub owner: Option<String>,
    pub extra: Map<String, Value>,
    pub export: Option<Value>,
}

/// What other records of the same source tell about a version: its run's commit and user, the
/// logged model (MLmodel) it registers.
#[derive(Clone, Debug, Default)]
pub(super) struct Joined {
    pub code_commit: Option<String>,
    pub code: Option<Value>,
    pub logged_model: Option<Map<String, Value>>,
}

/// Everything of a version that is known before events are made.
pub(super) fn registered_event(
    v: &VersionIn,
    joined: &Joined,
    id: &str,
    fallback_actor: &str,
    origin: Value,
) -> Result<Value, Reject> {
    let created = v.creation.ok_or_else(|| {
        reject(format!(
            "model version `{}@{}` has no `creation_timestamp`",
            v.name, v.version
        ))
    })?;
    let ts = ms_time(created).map_err(|e| reject(format!("`creation_timestamp`: {e}")))?;
    let mut attrs = Map::new();
    attrs.insert("model".into(), Value::String(v.name.clone()));
    attrs.insert("version".into(), Value::String(v.version.clone()));
    if let Some(r) = &v.run_id {
        attrs.insert("training_run".into(), Value::String(r.clone()));
    }
    if let Some(o) = &v.owner {
        attrs.insert("owner".into(), Value::String(o.clone()));
    }
    if let Some(c) = &joined.code_commit {
        attrs.insert("code_commit".into(), Value::String(c.clone()));
    }
    if let Some(c) = &joined.code {
        attrs.insert("code".into(), c.clone());
    }
    if let Some(s) = &v.stage {
        attrs.insert("stage".into(), Value::String(s.clone()));
    }
    if !v.aliases.is_empty() {
        attrs.insert("aliases".into(), json!(v.aliases));
    }
    if let Some(d) = &v.description {
        attrs.insert("description".into(), Value::String(d.clone()));
    }
    if let Some(s) = &v.source {
        attrs.insert("source".into(), Value::String(s.clone()));
    }
    if let Some(s) = &v.status {
        attrs.insert("status".into(), Value::String(s.clone()));
    }
    if let Some(s) = &v.status_message {
        attrs.insert("status_message".into(), Value::String(s.clone()));
    }
    if let Some(s) = &v.run_link {
        attrs.insert("run_link".into(), Value::String(s.clone()));
    }
    if let Some(e) = &v.experiment {
        attrs.insert("experiment".into(), Value::String(e.clone()));
    }
    if let Some(u) = &v.user_id {
        attrs.insert("user".into(), Value::String(u.clone()));
    }
    if let Some(t) = v.last_updated.and_then(|t| ms_time(t).ok()) {
        attrs.insert("last_updated_ts".into(), Value::String(t));
    }
    let mut tags = Map::new();
    let mut imported = Map::new();
    for (k, val) in &v.tags {
        match k.strip_prefix("mlflow_exim.field.") {
            Some(f) => {
                imported.insert(f.to_string(), Value::String(val.clone()));
            }
            None => {
                tags.insert(k.clone(), Value::String(val.clone()));
            }
        }
    }
    if !tags.is_empty() {
        attrs.insert("tags".into(), Value::Object(tags));
    }
    if !imported.is_empty() {
        attrs.insert("imported_from".into(), Value::Object(imported));
    }
    if let Some(lm) = &joined.logged_model {
        for (k, val) in lm {
            if ["input_spec", "runtime"].contains(&k.as_str()) {
                attrs.insert(k.clone(), val.clone());
            }
        }
        attrs.insert("logged_model".into(), Value::Object(lm.clone()));
    }
    if !v.registered_model.is_empty() {
        attrs.insert(
            "registered_model".into(),
            Value::Object(v.registered_model.clone()),
        );
    }
    if let Some(e) = &v.export {
        attrs.insert("export".into(), e.clone());
    }
    if !v.extra.is_empty() {
        attrs.insert("raw_extra".into(), Value::Object(v.extra.clone()));
    }
    attrs.insert("origin".into(), origin);
    Ok(json!({
        "id": id,
        "ts": ts,
        "kind": "model.registered",
        "actor": actor(v.user_id.as_deref(), fallback_actor),
        "subject": {"type": "model_version", "id": format!("{}@{}", v.name, v.version)},
        "attrs": attrs,
    }))
}

/// The event of a version's current stage: `model.promoted` (`Staging`, `Production`) or
/// `model.retired` (`Archived`); `None` for stage `None`. Dated at the version's
/// `last_updated_timestamp` (MLflow does not export when the stage was set; a transition updates
/// that time).
pub(super) fn stage_event(
    v: &VersionIn,
    id: &str,
    fallback_actor: &str,
    origin: Value,
) -> Option<Result<Value, Reject>> {
    let (kind, mut attrs) = match stage(v.stage.as_deref()) {
        Stage::Unassigned => return None,
        Stage::Env(env) => {
            let mut a = Map::new();
            a.insert("from_env".into(), Value::String(START_ENV.into()));
            a.insert("to_env".into(), Value::String(env.into()));
            ("model.promoted", a)
        }
        Stage::Archived => {
            let mut a = Map::new();
            a.insert(
                "reason".into(),
                Value::String("MLflow stage set to Archived".into()),
            );
            ("model.retired", a)
        }
        Stage::Unknown(s) => {
            return Some(Err(reject(format!(
                "model version `{}@{}` has the unknown stage `{s}` (MLflow stages are None, Staging, Production, Archived)",
                v.name, v.version
            ))));
        }
    };
    let Some(when) = v.last_updated.or(v.creation) else {
        return Some(Err(reject(format!(
            "model version `{}@{}` has no `last_updated_timestamp` to date its stage by",
            v.name, v.version
        ))));
    };
    let ts = match ms_time(when) {
        Ok(t) => t,
        Err(e) => return Some(Err(reject(format!("`last_updated_timestamp`: {e}")))),
    };
    attrs.insert(
        "stage".into(),
        Value::String(v.stage.clone().unwrap_or_default()),
    );
    attrs.insert(
        "ts_basis".into(),
        Value::String(
            "the version's last_updated_timestamp: MLflow records the current stage, not when it was set"
                .into(),
        ),
    );
    attrs.insert("origin".into(), origin);
    Some(Ok(json!({
        "id": id,
        "ts": ts,
        "kind": kind,
        "actor": actor(v.user_id.as_deref(), fallback_actor),
        "subject": {"type": "model_version", "id": format!("{}@{}", v.name, v.version)},
        "attrs": attrs,
    })))
}

/// The `model.promoted` of an alias pointing at `name@version`, to the environment named like
/// the alias. `when` is the time of the version it points at (`last_updated_timestamp`, else its
/// creation); `None` when that version is not in the source.
#[allow(clippy::too_many_arguments)]
pub(super) fn alias_event(
    name: &str,
    version: &str,
    alias: &str,
    when: Option<i64>,
    user: Option<&str>,
    id: &str,
    fallback_actor: &str,
    origin: Value,
) -> Result<Value, Reject> {
    let when = when.ok_or_else(|| {
        reject(format!(
            "alias `{alias}` points at `{name}@{version}`, which is not in this source: the alias has no time to date it by (add the version to the export)"
        ))
    })?;
    let ts = ms_time(when).map_err(reject)?;
    Ok(json!({
        "id": id,
        "ts": ts,
        "kind": "model.promoted",
        "actor": actor(user, fallback_actor),
        "subject": {"type": "model_version", "id": format!("{name}@{version}")},
        "attrs": {
            "from_env": START_ENV,
            "to_env": alias,
            "alias": alias,
            "ts_basis": "the version's last_updated_timestamp: MLflow does not record when an alias was set",
            "origin": origin,
        },
    }))
}

/// Python's `json.dump` writes `NaN`, `Infinity` and `-Infinity`, which are not JSON. Replaces
/// each such token outside strings by a string of the same length (`"N"`, `"Infini"`,
/// `"-Infini"`), so byte offsets stay those of the file; [`nonfinite`] reads them back.
pub(super) fn sanitize_nonfinite(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut in_str = false;
    let mut esc = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_str = true;
            i += 1;
            continue;
        }
        let boundary_before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let rest = &bytes[i..];
        let (token, repl): (&[u8], &[u8]) = if rest.starts_with(b"-Infinity") {
            (b"-Infinity", b"\"-Infini\"")
        } else if rest.starts_with(b"Infinity") {
            (b"Infinity", b"\"Infini\"")
        } else if rest.starts_with(b"NaN") {
            (b"NaN", b"\"N\"")
        } else {
            (b"", b"")
        };
        let boundary_after = bytes
            .get(i + token.len())
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        if !token.is_empty() && boundary_before && boundary_after {
            let o = out.get_or_insert_with(|| bytes.to_vec());
            o[i..i + token.len()].copy_from_slice(repl);
            i += token.len();
            continue;
        }
        i += 1;
    }
    match out {
        Some(v) => std::borrow::Cow::Owned(v),
        None => std::borrow::Cow::Borrowed(bytes),
    }
}

/// A metric value back from [`sanitize_nonfinite`]: `NaN`, `Infinity`, `-Infinity` as strings.
pub(super) fn nonfinite(v: &Value) -> Value {
    match v {
        Value::String(s) if s == "N" || s.eq_ignore_ascii_case("nan") => {
            Value::String("NaN".into())
        }
        Value::String(s) if s == "Infini" || s.eq_ignore_ascii_case("inf") => {
            Value::String("Infinity".into())
        }
        Value::String(s) if s == "-Infini" || s.eq_ignore_ascii_case("-inf") => {
            Value::String("-Infinity".into())
        }
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// mlflow-export

const ACTOR: &str = "mlflow-export";

/// What an export file holds.
enum Shape {
    Model,
    Version,
    Run,
    Experiment,
    Manifest,
}

/// One export file, parsed.
struct Parsed<'a> {
    /// The file's text after [`sanitize_nonfinite`] (same length and offsets as the file).
    text: &'a str,
    root: Record<'a>,
    value: Map<String, Value>,
    /// Where the MLflow object lives (`/mlflow` or the root).
    base: &'static str,
    shape: Shape,
    hash: String,
}

enum FileKind<'a> {
    /// Not a record (an artifact, an empty file).
    Skip,
    Bad(Origin, Reject),
    Object(Box<Parsed<'a>>),
}

/// An exported experiment: (tracking URI, `attrs.experiment`, the run ids it lists).
type ExperimentIn = (Option<String>, Map<String, Value>, Vec<String>);

/// The experiment of a run exported from a tracking URI.
type ExperimentOf<'a> = dyn Fn(&RunIn, Option<&str>) -> Option<Map<String, Value>> + 'a;

/// Reads mlflow-export-import files (see the module documentation).
pub fn read_export(cx: &Cx<'_>, files: &[InputFile<'_>]) -> Vec<FileOut> {
    let texts: Vec<std::borrow::Cow<'_, [u8]>> =
        files.iter().map(|f| sanitize_nonfinite(f.bytes)).collect();
    let kinds: Vec<FileKind<'_>> = files
        .iter()
        .zip(&texts)
        .map(|(f, t)| classify(cx, f, t))
        .collect();

    // Joins across files: runs by id, experiments by (tracking URI, id) and by the runs they list.
    let mut runs: HashMap<String, RunIn> = HashMap::new();
    let mut experiments: Vec<ExperimentIn> = Vec::new();
    for k in &kinds {
        let FileKind::Object(p) = k else { continue };
        match p.shape {
            Shape::Run => {
                if let Ok(r) = export_run(p) {
                    runs.entry(r.run_id.clone()).or_insert(r);
                }
            }
            Shape::Experiment => {
                if let Some((exp, listed)) = export_experiment(p) {
                    experiments.push((tracking_uri(&p.value), exp, listed));
                }
            }
            _ => {}
        }
    }
    let run_ids: BTreeSet<&str> = runs.keys().map(String::as_str).collect();
    let experiment_of = |run: &RunIn, uri: Option<&str>| -> Option<Map<String, Value>> {
        experiments
            .iter()
            .find(|(_, _, listed)| listed.contains(&run.run_id))
            .or_else(|| {
                experiments.iter().find(|(u, e, _)| {
                    u.as_deref() == uri
                        && run.experiment_id.as_deref() == e.get("id").and_then(Value::as_str)
                })
            })
            .map(|(_, e, _)| e.clone())
    };

    let mut outs = Vec::with_capacity(files.len());
    for (file, kind) in files.iter().zip(&kinds) {
        let mut em = Emit::new(cx, file);
        match kind {
            FileKind::Skip => {}
            FileKind::Bad(origin, r) => em.reject(*origin, r.clone()),
            FileKind::Object(p) => {
                let index = LineIndex::new(p.text.as_bytes());
                export_failures(&mut em, file, p, &index);
                match p.shape {
                    Shape::Model => map_model(&mut em, file, p, &index, &runs),
                    Shape::Version => map_single_version(&mut em, file, p, &index, &runs),
                    Shape::Run => map_run(&mut em, file, p, &index, &experiment_of),
                    Shape::Experiment => map_experiment(&mut em, file, p, &run_ids, &runs),
                    Shape::Manifest => {}
                }
            }
        }
        outs.push(em.out);
    }
    outs
}

fn classify<'a>(cx: &Cx<'_>, file: &InputFile<'_>, bytes: &'a [u8]) -> FileKind<'a> {
    let whole = |line: u64, reject: Reject| {
        FileKind::Bad(
            Origin {
                source: cx.source,
                file: file.index,
                line,
                offset: 0,
                len: file.bytes.len() as u64,
            },
            reject,
        )
    };
    let parts: Vec<&str> = file.path.split('/').collect();
    if parts.iter().rev().skip(1).any(|p| *p == "artifacts") {
        return FileKind::Skip;
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return FileKind::Skip;
    }
    let name = parts.last().copied().unwrap_or("");
    let (layout, mut records) = adapter::split(bytes);
    let hint = if name == "MLmodel" || name == "registered_model_meta" || name.ends_with(".yaml") {
        " (this is MLflow YAML, not an export file: read `mlruns/` trees with format = \"mlflow-filestore\")"
    } else {
        ""
    };
    let first = match records.len() {
        0 => return FileKind::Skip,
        1 => records.remove(0),
        n => {
            return whole(
                1,
                reject(format!(
                    "{n} JSON values ({}): an mlflow-export-import file is one JSON object{hint}",
                    if layout == Layout::Lines {
                        "lines"
                    } else {
                        "array elements"
                    }
                )),
            );
        }
    };
    let record = match first {
        Ok(r) => r,
        Err(e) => {
            let origin = e.origin(cx, file);
            let mut r = e.reject;
            r.reason.push_str(hint);
            return FileKind::Bad(origin, r);
        }
    };
    if !record.pointer.is_empty() {
        return whole(
            record.line,
            reject("a JSON array: an mlflow-export-import file is one JSON object"),
        );
    }
    let origin = record.origin(cx, file);
    let value = match adapter::strict_value(record.text) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return whole(record.line, reject(format!("not a JSON object{hint}"))),
        Err(r) => return FileKind::Bad(origin, r),
    };
    let mut value = Value::Object(value);
    if let Some(r) = adapter::placeholder_reject(&value) {
        return FileKind::Bad(origin, r);
    }
    adapter::strip_credentials_value(&mut value);
    let Value::Object(value) = value else {
        return FileKind::Skip;
    };
    let obj = |key: &str| value.get(key).and_then(Value::as_object);
    let mlflow = obj("mlflow");
    let (base, inner) = match mlflow {
        Some(m) if !m.is_empty() => ("/mlflow", m),
        _ => ("", &value),
    };
    let has = |k: &str| inner.get(k).is_some_and(Value::is_object);
    let shape = if has("registered_model") {
        Shape::Model
    } else if has("model_version") {
        Shape::Version
    } else if has("experiment") {
        Shape::Experiment
    } else if inner
        .get("info")
        .and_then(Value::as_object)
        .is_some_and(|i| i.contains_key("run_id") || i.contains_key("run_uuid"))
    {
        Shape::Run
    } else if mlflow.is_some_and(Map::is_empty) || obj("info").is_some() {
        Shape::Manifest
    } else {
        return FileKind::Bad(
            origin,
            reject(format!(
                "not an mlflow-export-import object: no `mlflow.registered_model`, `mlflow.model_version`, `mlflow.info` (a run) or `mlflow.experiment`{hint}"
            )),
        );
    };
    // A text holding the sanitized bytes: valid UTF-8 since `split` parsed it.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return whole(1, reject("not UTF-8"));
    };
    let hash = short_hash(file.bytes);
    FileKind::Object(Box::new(Parsed {
        text,
        root: Record {
            text: record.text,
            offset: record.offset,
            line: record.line,
            pointer: String::new(),
        },
        value,
        base,
        shape,
        hash,
    }))
}

/// The MLflow object of a parsed file (`mlflow` member, or the root for old exports).
fn inner<'p>(p: &'p Parsed<'_>) -> &'p Map<String, Value> {
    if p.base.is_empty() {
        &p.value
    } else {
        p.value
            .get("mlflow")
            .and_then(Value::as_object)
            .unwrap_or(&p.value)
    }
}

fn tracking_uri(value: &Map<String, Value>) -> Option<String> {
    ["system", "export_info"]
        .iter()
        .filter_map(|k| value.get(*k).and_then(Value::as_object))
        .find_map(|s| text(s, "mlflow_tracking_uri").map(str::to_string))
}

/// `attrs.export`: who exported what from where, when.
fn export_info(value: &Map<String, Value>) -> Option<Value> {
    let sys = ["system", "export_info"]
        .iter()
        .find_map(|k| value.get(*k).and_then(Value::as_object))?;
    let mut m = Map::new();
    m.insert("tool".into(), Value::String("mlflow-export-import".into()));
    for (from, to) in [
        ("package_version", "package_version"),
        ("script", "script"),
        ("mlflow_version", "mlflow_version"),
        ("mlflow_tracking_uri", "tracking_uri"),
        ("user", "exported_by"),
    ] {
        if let Some(v) = sys.get(from) {
            m.insert(to.into(), v.clone());
        }
    }
    if let Some(t) = ms_of(sys.get("export_time")) {
        // Export times are epoch seconds.
        if let Ok(ts) = Timestamp::from_second(t) {
            m.insert("exported_ts".into(), Value::String(crate::time::fmt(ts)));
        }
    }
    let rest = super::mapped::unmapped(
        sys,
        &[
            "package_version",
            "script",
            "mlflow_version",
            "mlflow_tracking_uri",
            "user",
            "export_time",
        ],
    );
    if !rest.is_empty() {
        m.insert("raw_extra".into(), Value::Object(rest));
    }
    Some(Value::Object(m))
}

/// The sub-record at `pointer` (relative to the file root) with its offsets in the file.
fn locate<'a>(p: &Parsed<'a>, index: &LineIndex, pointer: &str) -> Option<Record<'a>> {
    let mut cur: &'a str = p.root.text;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let t = cur.trim_start();
        cur = if t.starts_with('{') {
            let members: BTreeMap<String, &'a RawValue> = serde_json::from_str(cur).ok()?;
            members.get(&token)?.get()
        } else if t.starts_with('[') {
            let items: Vec<&'a RawValue> = serde_json::from_str(cur).ok()?;
            items.get(token.parse::<usize>().ok()?)?.get()
        } else {
            return None;
        };
    }
    let offset = cur.as_ptr() as usize - p.text.as_ptr() as usize;
    Some(Record {
        text: cur,
        offset: offset as u64,
        line: index.line(offset),
        pointer: pointer.to_string(),
    })
}

/// The origin and `attrs.origin` of the sub-record at `pointer` (falls back to the whole file).
fn at(
    em: &Emit,
    file: &InputFile<'_>,
    p: &Parsed<'_>,
    index: &LineIndex,
    pointer: &str,
) -> (Origin, Value) {
    let r = locate(p, index, pointer).unwrap_or_else(|| Record {
        text: p.root.text,
        offset: p.root.offset,
        line: p.root.line,
        pointer: String::new(),
    });
    let start = r.offset as usize;
    let bytes = file
        .bytes
        .get(start..start + r.text.len())
        .unwrap_or_default();
    (
        em.origin(r.line, r.offset, r.text.len() as u64),
        origin_attr(&r.pointer, bytes),
    )
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// An export that reports objects it failed to export is incomplete: one quarantined record
/// naming what is missing.
fn export_failures(em: &mut Emit, file: &InputFile<'_>, p: &Parsed<'_>, index: &LineIndex) {
    let Some(info) = p.value.get("info").and_then(Value::as_object) else {
        return;
    };
    let mut found = Vec::new();
    fn walk(v: &Map<String, Value>, at: &str, found: &mut Vec<String>) {
        for (k, x) in v {
            let here = format!("{at}/{}", escape(k));
            let failed_key = k.contains("failed");
            match x {
                Value::Number(n) if failed_key && n.as_f64().is_some_and(|f| f > 0.0) => {
                    found.push(format!("`{here}` = {n}"));
                }
                Value::Array(a) if failed_key && !a.is_empty() => {
                    found.push(format!("`{here}` lists {}", a.len()));
                }
                Value::Object(m) => walk(m, &here, found),
                _ => {}
            }
        }
    }
    walk(info, "/info", &mut found);
    if found.is_empty() {
        return;
    }
    let (origin, _) = at(em, file, p, index, "/info");
    em.reject(
        origin,
        reject(format!(
            "the export reports objects it failed to export ({}): they are missing from this evidence; export them again",
            found.join(", ")
        )),
    );
}

fn str_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let to_s = |x: &Value| match x {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match v {
        Some(Value::Object(m)) => m.iter().map(|(k, x)| (k.clone(), to_s(x))).collect(),
        // Older exports and the REST API: `[{key, value}]`.
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| {
                let k = i.get("key")?.as_str()?;
                Some((k.to_string(), i.get("value").map(to_s).unwrap_or_default()))
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn export_run(p: &Parsed<'_>) -> Result<RunIn, Reject> {
    let m = inner(p);
    let info = m
        .get("info")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let run_id = text(&info, "run_id")
        .or_else(|| text(&info, "run_uuid"))
        .ok_or_else(|| reject("run without `info.run_id`"))?
        .to_string();
    let mut extra = Map::new();
    for (k, v) in &info {
        if ![
            "run_id",
            "run_uuid",
            "experiment_id",
            "status",
            "start_time",
            "end_time",
            "user_id",
            "run_name",
            "artifact_uri",
            "lifecycle_stage",
        ]
        .contains(&k.as_str())
        {
            extra.insert(format!("info.{k}"), v.clone());
        }
    }
    let mut metrics: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    match m.get("metrics") {
        Some(Value::Object(ms)) => {
            for (name, hist) in ms {
                let points = match hist {
                    Value::Array(items) => items
                        .iter()
                        .map(|i| Point {
                            ts: ms_of(i.get("timestamp")),
                            value: nonfinite(i.get("value").unwrap_or(&Value::Null)),
                            step: i.get("step").and_then(Value::as_i64).unwrap_or(0),
                        })
                        .collect(),
                    // Older exports: name → last value.
                    v => vec![Point {
                        ts: None,
                        value: nonfinite(v),
                        step: 0,
                    }],
                };
                metrics.insert(name.clone(), points);
            }
        }
        Some(Value::Array(items)) => {
            for i in items {
                if let Some(k) = i.get("key").and_then(Value::as_str) {
                    metrics.entry(k.to_string()).or_default().push(Point {
                        ts: ms_of(i.get("timestamp")),
                        value: nonfinite(i.get("value").unwrap_or(&Value::Null)),
                        step: i.get("step").and_then(Value::as_i64).unwrap_or(0),
                    });
                }
            }
        }
        _ => {}
    }
    let mut inputs = Vec::new();
    if let Some(Value::Array(items)) = m.get("inputs").and_then(|i| i.get("dataset_inputs")) {
        for (n, item) in items.iter().enumerate() {
            let Some(ds) = item.get("dataset").cloned() else {
                continue;
            };
            if let Some(mut d) = dataset_entry(ds, "inputs.dataset_inputs") {
                let tags = str_map(item.get("tags"));
                d.context = tags.get("mlflow.data.context").cloned();
                d.pointer = Some(format!("{}/inputs/dataset_inputs/{n}", p.base));
                inputs.push(d);
            }
        }
    }
    for (k, v) in m {
        if ![
            "info",
            "params",
            "metrics",
            "tags",
            "inputs",
            "system",
            "export_info",
        ]
        .contains(&k.as_str())
        {
            extra.insert(k.clone(), v.clone());
        }
    }
    if !p.base.is_empty() {
        for (k, v) in &p.value {
            if !["mlflow", "system", "export_info", "info"].contains(&k.as_str()) {
                extra.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(RunIn {
        run_id,
        experiment_id: text_or_num(&info, "experiment_id"),
        status: text(&info, "status").map(str::to_string),
        start: ms_of(info.get("start_time")),
        end: ms_of(info.get("end_time")),
        user_id: text(&info, "user_id").map(str::to_string),
        run_name: text(&info, "run_name").map(str::to_string),
        artifact_uri: text(&info, "artifact_uri").map(str::to_string),
        lifecycle_stage: text(&info, "lifecycle_stage").map(str::to_string),
        params: str_map(m.get("params")),
        metrics,
        tags: str_map(m.get("tags")),
        inputs,
        other_inputs: Vec::new(),
        experiment: None,
        extra,
        export: export_info(&p.value),
    })
}

fn map_run(
    em: &mut Emit,
    file: &InputFile<'_>,
    p: &Parsed<'_>,
    index: &LineIndex,
    experiment_of: &ExperimentOf<'_>,
) {
    let (origin, oattr) = at(em, file, p, index, "");
    let mut run = match export_run(p) {
        Ok(r) => r,
        Err(r) => return em.reject(origin, r),
    };
    run.experiment = experiment_of(&run, tracking_uri(&p.value).as_deref());
    let id = format!("mlflow:run:{}:{}", run.run_id, p.hash);
    let event = run_event(&run, &id, ACTOR, oattr);
    let ok = event.is_ok();
    match event {
        Ok(e) => em.event(&e, origin),
        Err(r) => em.reject(origin, r),
    }
    // Datasets with a digest are records of their own.
    let (datasets, _) = run_datasets(&run);
    for d in datasets.iter().filter(|d| d.digest.is_some()) {
        let pointer = match &d.pointer {
            Some(p) => p.clone(),
            None => format!("{}/tags/mlflow.datasets", p.base),
        };
        let (dorigin, dattr) = at(em, file, p, index, &pointer);
        if !ok {
            em.reject(
                dorigin,
                reject(format!(
                    "dataset `{}` of run `{}`: the run is quarantined, so the dataset is not registered from it",
                    d.node_id(),
                    run.run_id
                )),
            );
            continue;
        }
        let did = format!("mlflow:dataset:{}:{}:{}", d.node_id(), run.run_id, p.hash);
        match dataset_event(d, &run, &did, ACTOR, dattr) {
            Ok(e) => em.event(&e, dorigin),
            Err(r) => em.reject(dorigin, r),
        }
    }
}

fn export_experiment(p: &Parsed<'_>) -> Option<(Map<String, Value>, Vec<String>)> {
    let m = inner(p);
    let e = m.get("experiment")?.as_object()?;
    let mut exp = Map::new();
    if let Some(id) = text_or_num(e, "experiment_id") {
        exp.insert("id".into(), Value::String(id));
    }
    for k in ["name", "artifact_location", "lifecycle_stage"] {
        if let Some(v) = text(e, k) {
            exp.insert(k.into(), Value::String(v.to_string()));
        }
    }
    let tags = str_map(e.get("tags"));
    if !tags.is_empty() {
        exp.insert("tags".into(), json!(tags));
    }
    if let Some(t) = ms_of(e.get("creation_time")).and_then(|t| ms_time(t).ok()) {
        exp.insert("creation_ts".into(), Value::String(t));
    }
    let rest = super::mapped::unmapped(
        e,
        &[
            "experiment_id",
            "name",
            "artifact_location",
            "lifecycle_stage",
            "tags",
            "creation_time",
        ],
    );
    if !rest.is_empty() {
        exp.insert("raw_extra".into(), Value::Object(rest));
    }
    let listed: Vec<String> = match m.get("runs") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|r| match r {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => text(o, "run_id").map(str::to_string),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some((exp, listed))
}

/// The experiment is folded into its runs; when it lists runs and none of them is in the source,
/// it is quarantined (its metadata would otherwise be lost); with no runs at all, it is not a
/// record.
fn map_experiment(
    em: &mut Emit,
    _file: &InputFile<'_>,
    p: &Parsed<'_>,
    run_ids: &BTreeSet<&str>,
    runs: &HashMap<String, RunIn>,
) {
    let origin = em.origin(p.root.line, p.root.offset, p.root.text.len() as u64);
    let Some((exp, listed)) = export_experiment(p) else {
        return em.reject(origin, reject("experiment without an `experiment` object"));
    };
    let uri = tracking_uri(&p.value);
    let id = exp.get("id").and_then(Value::as_str);
    let by_id = runs.values().any(|r| {
        r.experiment_id.as_deref() == id
            && r.export
                .as_ref()
                .and_then(|e| e.get("tracking_uri"))
                .and_then(Value::as_str)
                == uri.as_deref()
    });
    if listed.iter().any(|r| run_ids.contains(r.as_str())) || by_id {
        em.fold();
    } else if !listed.is_empty() {
        em.reject(
            origin,
            reject(format!(
                "experiment `{}` lists {} run{}, none of which is in this source: its name and tags are kept only on its runs' events (add their run.json files to the source)",
                exp.get("name").and_then(Value::as_str).unwrap_or("?"),
                listed.len(),
                if listed.len() == 1 { "" } else { "s" }
            )),
        );
    }
}

/// The registered model's own fields, kept on each of its versions (`attrs.registered_model`).
fn registered_model_attrs(rm: &Map<String, Value>) -> (Map<String, Value>, Option<String>) {
    let mut out = Map::new();
    let mut exim = Map::new();
    for (k, v) in rm {
        match k.as_str() {
            "versions" | "latest_versions" | "aliases" => {}
            "tags" => {
                let tags = str_map(Some(v));
                let (imported, own): (BTreeMap<_, _>, BTreeMap<_, _>) = tags
                    .into_iter()
                    .partition(|(k, _)| k.starts_with("mlflow_exim.field."));
                if !own.is_empty() {
                    out.insert("tags".into(), json!(own));
                }
                for (k, v) in imported {
                    exim.insert(
                        k.trim_start_matches("mlflow_exim.field.").to_string(),
                        Value::String(v),
                    );
                }
            }
            "creation_timestamp" | "last_updated_timestamp" => {
                if let Some(t) = ms_of(Some(v)).and_then(|t| ms_time(t).ok()) {
                    let key = k.replace("_timestamp", "_ts");
                    out.insert(key, Value::String(t));
                }
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if !exim.is_empty() {
        out.insert("imported_from".into(), Value::Object(exim));
    }
    let owner = text(rm, "user_id").map(str::to_string);
    (out, owner)
}

fn version_in(
    vm: &Map<String, Value>,
    model: Option<&str>,
    rm_attrs: &Map<String, Value>,
    owner: Option<&String>,
    export: Option<&Value>,
) -> Result<VersionIn, Reject> {
    let name = text(vm, "name")
        .or(model)
        .ok_or_else(|| reject("model version without `name`"))?
        .to_string();
    let version = text_or_num(vm, "version")
        .ok_or_else(|| reject(format!("a version of model `{name}` without `version`")))?;
    let known = [
        "name",
        "version",
        "creation_timestamp",
        "last_updated_timestamp",
        "current_stage",
        "description",
        "user_id",
        "source",
        "run_id",
        "run_link",
        "status",
        "status_message",
        "tags",
        "aliases",
        "_experiment_name",
    ];
    let extra = super::mapped::unmapped(vm, &known);
    let aliases = match vm.get("aliases") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    Ok(VersionIn {
        name,
        version,
        creation: ms_of(vm.get("creation_timestamp")),
        last_updated: ms_of(vm.get("last_updated_timestamp")),
        stage: text(vm, "current_stage").map(str::to_string),
        description: text(vm, "description").map(str::to_string),
        user_id: text(vm, "user_id").map(str::to_string),
        source: text(vm, "source").map(str::to_string),
        run_id: text(vm, "run_id").map(str::to_string),
        run_link: text(vm, "run_link").map(str::to_string),
        status: text(vm, "status").map(str::to_string),
        status_message: text(vm, "status_message").map(str::to_string),
        tags: str_map(vm.get("tags")),
        aliases,
        experiment: text(vm, "_experiment_name").map(str::to_string),
        registered_model: rm_attrs.clone(),
        owner: owner.cloned(),
        extra,
        export: export.cloned(),
    })
}

fn joined_for(v: &VersionIn, runs: &HashMap<String, RunIn>) -> Joined {
    let run = v.run_id.as_ref().and_then(|r| runs.get(r));
    Joined {
        code_commit: run.and_then(|r| run_commit(&r.tags)).map(str::to_string),
        code: run.and_then(|r| run_code(&r.tags)),
        logged_model: None,
    }
}

/// Emits a version's events: `model.registered`, its stage, and its own aliases (those not
/// already listed on the registered model are events; the others are folded into them).
#[allow(clippy::too_many_arguments)]
fn emit_version(
    em: &mut Emit,
    file: &InputFile<'_>,
    p: &Parsed<'_>,
    index: &LineIndex,
    pointer: &str,
    v: Result<VersionIn, Reject>,
    model_aliases: &BTreeSet<(String, String)>,
    runs: &HashMap<String, RunIn>,
) {
    let (origin, oattr) = at(em, file, p, index, pointer);
    let v = match v {
        Ok(v) => v,
        Err(r) => {
            em.reject(origin, r);
            return;
        }
    };
    let key = format!("{}@{}", v.name, v.version);
    let id = format!("mlflow:{key}:registered:{}", p.hash);
    let ok = match registered_event(&v, &joined_for(&v, runs), &id, ACTOR, oattr) {
        Ok(e) => {
            em.event(&e, origin);
            true
        }
        Err(r) => {
            em.reject(origin, r);
            false
        }
    };
    let (sorigin, sattr) = at(em, file, p, index, &format!("{pointer}/current_stage"));
    let sid = format!("mlflow:{key}:stage:{}", p.hash);
    if let Some(e) = stage_event(&v, &sid, ACTOR, sattr) {
        match (ok, e) {
            (true, Ok(e)) => em.event(&e, sorigin),
            (true, Err(r)) => em.reject(sorigin, r),
            (false, _) => em.reject(
                sorigin,
                reject(format!(
                    "stage of `{key}`: its version record is quarantined"
                )),
            ),
        }
    }
    for (i, alias) in v.aliases.iter().enumerate() {
        if model_aliases.contains(&(alias.clone(), v.version.clone())) {
            em.fold();
            continue;
        }
        let (aorigin, aattr) = at(em, file, p, index, &format!("{pointer}/aliases/{i}"));
        let aid = format!("mlflow:{key}:alias:{alias}:{}", p.hash);
        match alias_event(
            &v.name,
            &v.version,
            alias,
            v.last_updated.or(v.creation),
            v.user_id.as_deref(),
            &aid,
            ACTOR,
            aattr,
        ) {
            Ok(e) => em.event(&e, aorigin),
            Err(r) => em.reject(aorigin, r),
        }
    }
}

fn map_model(
    em: &mut Emit,
    file: &InputFile<'_>,
    p: &Parsed<'_>,
    index: &LineIndex,
    runs: &HashMap<String, RunIn>,
) {
    let base = format!("{}/registered_model", p.base);
    let rm = inner(p)
        .get("registered_model")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let (origin, _) = at(em, file, p, index, &base);
    let Some(model) = text(&rm, "name").map(str::to_string) else {
        return em.reject(origin, reject("registered model without `name`"));
    };
    let (vkey, versions) = match (rm.get("versions"), rm.get("latest_versions")) {
        (Some(Value::Array(v)), _) => ("versions", v.clone()),
        (_, Some(Value::Array(v))) => ("latest_versions", v.clone()),
        _ => ("versions", Vec::new()),
    };
    // The registered model is folded into its versions; with none, it is not a record.
    if !versions.is_empty() {
        em.fold();
    }
    let (rm_attrs, owner) = registered_model_attrs(&rm);
    let export = export_info(&p.value);
    let aliases: Vec<(String, String)> = match rm.get("aliases") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                (
                    x.get("alias")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    x.get("version")
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            _ => String::new(),
                        })
                        .unwrap_or_default(),
                )
            })
            .collect(),
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let alias_set: BTreeSet<(String, String)> = aliases.iter().cloned().collect();
    let mut times: HashMap<String, (Option<i64>, Option<String>)> = HashMap::new();
    for (i, vv) in versions.iter().enumerate() {
        let pointer = format!("{base}/{vkey}/{i}");
        let v = match vv.as_object() {
            Some(vm) => version_in(vm, Some(&model), &rm_attrs, owner.as_ref(), export.as_ref()),
            None => Err(reject("a model version that is not an object")),
        };
        if let Ok(v) = &v {
            times.insert(
                v.version.clone(),
                (v.last_updated.or(v.creation), v.user_id.clone()),
            );
        }
        emit_version(em, file, p, index, &pointer, v, &alias_set, runs);
    }
    for (i, (alias, version)) in aliases.iter().enumerate() {
        let pointer = match rm.get("aliases") {
            Some(Value::Object(_)) => format!("{base}/aliases/{}", escape(alias)),
            _ => format!("{base}/aliases/{i}"),
        };
        let (aorigin, aattr) = at(em, file, p, index, &pointer);
        if alias.is_empty() || version.is_empty() {
            em.reject(
                aorigin,
                reject("an alias without `alias` or `version`: expected {\"alias\": NAME, \"version\": N}"),
            );
            continue;
        }
        let aid = format!("mlflow:{model}@{version}:alias:{alias}:{}", p.hash);
        let (when, user) = times.get(version).cloned().unwrap_or((None, None));
        match alias_event(
            &model,
            version,
            alias,
            when,
            user.as_deref(),
            &aid,
            ACTOR,
            aattr,
        ) {
            Ok(e) => em.event(&e, aorigin),
            Err(r) => em.reject(aorigin, r),
        }
    }
}

fn map_single_version(
    em: &mut Emit,
    file: &InputFile<'_>,
    p: &Parsed<'_>,
    index: &LineIndex,
    runs: &HashMap<String, RunIn>,
) {
    let pointer = format!("{}/model_version", p.base);
    let m = inner(p);
    let vm = m
        .get("model_version")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let (rm_attrs, owner) = m
        .get("registered_model")
        .and_then(Value::as_object)
        .map(registered_model_attrs)
        .unwrap_or_default();
    let v = version_in(
        &vm,
        None,
        &rm_attrs,
        owner.as_ref(),
        export_info(&p.value).as_ref(),
    );
    emit_version(em, file, p, index, &pointer, v, &BTreeSet::new(), runs);
}

#[cfg(test)]
mod tests;

/// Running a foreign-format reader on in-memory files, for the adapters' tests.
#[cfg(test)]
pub(super) mod testkit {
    use serde_json::Value;

    use crate::config::Source;
    use crate::ingest::adapter::{self, Cx, FileOut, InputFile};

    pub fn read(format: &str, files: &[(&str, &[u8])]) -> Vec<FileOut> {
        let source: Source = toml::from_str(&format!(
            "name = \"t\"\nformat = \"{format}\"\npaths = [\"x\"]\n"
        ))
        .expect("source parses");
        let cx = Cx {
            source: 0,
            config: &source,
        };
        let inputs: Vec<InputFile<'_>> = files
            .iter()
            .enumerate()
            .map(|(i, (path, bytes))| InputFile {
                index: i as u32,
                path,
                abs: std::path::Path::new(path),
                bytes,
            })
            .collect();
        let read = adapter::reader(format).expect("a foreign format");
        let outs = read(&cx, &inputs);
        assert_eq!(outs.len(), files.len(), "one result per file");
        for (out, (path, _)) in outs.iter().zip(files) {
            assert_eq!(
                out.records,
                out.events.len() as u64 + out.quarantine.len() as u64 + out.folded,
                "{path}: records = events + quarantined + folded"
            );
        }
        // Same input, same output.
        let again = read(&cx, &inputs);
        let ids = |o: &[FileOut]| -> Vec<String> {
            o.iter()
                .flat_map(|f| f.events.iter().map(|e| e.id.to_string()))
                .collect()
        };
        assert_eq!(ids(&outs), ids(&again), "deterministic");
        outs
    }

    /// Every event of every file as JSON (attrs parsed).
    pub fn events(outs: &[FileOut]) -> Vec<Value> {
        outs.iter()
            .flat_map(|o| o.events.iter())
            .map(|e| serde_json::to_value(e).expect("event serialises"))
            .collect()
    }

    /// The event with this kind and subject id.
    pub fn find<'a>(events: &'a [Value], kind: &str, subject: &str) -> &'a Value {
        events
            .iter()
            .find(|e| e["kind"] == kind && e["subject"]["id"] == subject)
            .unwrap_or_else(|| {
                let all: Vec<String> = events
                    .iter()
                    .map(|e| format!("{} {}", e["kind"], e["subject"]["id"]))
                    .collect();
                panic!("no {kind} of {subject}; events: {all:#?}")
            })
    }

    /// Every quarantine reason.
    pub fn reasons(outs: &[FileOut]) -> Vec<String> {
        outs.iter()
            .flat_map(|o| o.quarantine.iter().map(|q| q.reason.clone()))
            .collect()
    }

    /// (records, events, quarantined, folded) of one file.
    pub fn counts(out: &FileOut) -> (u64, usize, usize, u64) {
        (
            out.records,
            out.events.len(),
            out.quarantine.len(),
            out.folded,
        )
    }
}
