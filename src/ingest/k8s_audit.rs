//! `format = "k8s-audit"`: Kubernetes API server audit events (`audit.k8s.io/v1` and
//! `v1beta1`) as the log backend writes them (JSON lines), one event or an array per file, or an
//! `EventList` (`{"kind":"EventList","items":[…]}`). A missing `apiVersion` is tolerated.
//!
//! One request is several records, one per stage, sharing an `auditID`: only the final stage
//! (`ResponseComplete`, or `Panic`) becomes an event; `RequestReceived` and `ResponseStarted` are
//! folded into it. A request with no final stage in the source is mapped from its most advanced
//! stage, with a note and without claiming an outcome the log does not show.
//!
//! What each request becomes (`docs/adapters/k8s-audit.md` has the full table):
//! - create / update / patch / delete of a Deployment, StatefulSet or InferenceService-like
//!   resource (KServe `inferenceservices`, Seldon `seldondeployments`) that names the model
//!   version it serves → `deployment.started` / `.changed` / `.stopped`;
//! - a serving resource (InferenceService-like) that does not say which model version it serves,
//!   or a workload whose labels name a model but no version → quarantined with the reason: the
//!   record cannot become the deployment event it is, and `deployment.*` requires the version;
//! - RBAC writes → `admin.change` (`role` / `permissions`); dynamic audit sinks → `logging_config`;
//! - everything else (secrets, configmaps, `pods/exec`, plain workloads without a model) →
//!   `access` with `action` from the verb and `result` from the response code.
//!
//! Secret and ConfigMap values never reach an event: `data`, `stringData`, `binaryData` and the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation of those objects are dropped at
//! ingest and only their key names are kept (`attrs.data_keys`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use jiff::Timestamp;
use regex::Regex;
use serde_json::{Map, Value, json};

use super::adapter::{self, Cx, FileOut, InputFile, LineIndex, Record, Zoneless};
use super::jsonl::Reject;
use super::mapped::{
    Outcome, Slots, move_fields, origin_attr, put, reject, sha256_hex, str_at, str_of, take_fields,
};

const FORMAT: &str = "k8s-audit";

/// The stage of one audit record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    RequestReceived,
    ResponseStarted,
    ResponseComplete,
    Panic,
    /// No `stage` member: taken as final, with a note.
    Unstated,
}

impl Stage {
    fn parse(s: &str) -> Option<Stage> {
        Some(match s {
            "RequestReceived" => Stage::RequestReceived,
            "ResponseStarted" => Stage::ResponseStarted,
            "ResponseComplete" => Stage::ResponseComplete,
            "Panic" => Stage::Panic,
            _ => return None,
        })
    }

    fn rank(self) -> u8 {
        match self {
            Stage::RequestReceived => 1,
            Stage::ResponseStarted => 2,
            Stage::ResponseComplete | Stage::Panic | Stage::Unstated => 3,
        }
    }

    fn is_final(self) -> bool {
        self.rank() == 3
    }

    fn name(self) -> &'static str {
        match self {
            Stage::RequestReceived => "RequestReceived",
            Stage::ResponseStarted => "ResponseStarted",
            Stage::ResponseComplete => "ResponseComplete",
            Stage::Panic => "Panic",
            Stage::Unstated => "",
        }
    }
}

/// One audit record that parsed, waiting for the mapping pass.
struct Audit {
    slot: usize,
    pointer: String,
    sha256: String,
    rec: Map<String, Value>,
    data_keys: BTreeSet<String>,
    notes: Vec<String>,
    stage: Stage,
    audit_id: Option<String>,
    ts: Timestamp,
    /// `stageTimestamp` was missing and `timestamp` (v1beta1) was used.
    ts_key: &'static str,
    folded: Vec<Value>,
}

/// Reads the files of one `k8s-audit` source.
pub fn read(cx: &Cx<'_>, files: &[InputFile<'_>]) -> Vec<FileOut> {
    let mut slots = Slots::default();
    let mut audits: Vec<Audit> = Vec::new();
    for (fi, file) in files.iter().enumerate() {
        let (_, recs) = adapter::split(file.bytes);
        let text = std::str::from_utf8(file.bytes).ok();
        let index = LineIndex::new(file.bytes);
        for r in recs {
            let rec = match r {
                Ok(rec) => rec,
                Err(e) => {
                    slots.quarantine(fi, e.origin(cx, file), e.reject);
                    continue;
                }
            };
            match event_list(&rec, text, &index) {
                None => take(cx, file, fi, &rec, &mut slots, &mut audits),
                Some(Err(r)) => slots.quarantine(fi, rec.origin(cx, file), r),
                Some(Ok(items)) => {
                    for item in items {
                        match item {
                            Ok(r) => take(cx, file, fi, &r, &mut slots, &mut audits),
                            Err(e) => slots.quarantine(fi, e.origin(cx, file), e.reject),
                        }
                    }
                }
            }
        }
    }
    fold_stages(files, &mut slots, &mut audits);
    map_all(&mut slots, &audits);
    slots.into_outs(files.len())
}

type Items<'a> = Vec<Result<Record<'a>, adapter::SplitError>>;

/// The items of an `EventList` record; `None` when the record is not one.
fn event_list<'a>(
    rec: &Record<'a>,
    text: Option<&'a str>,
    index: &LineIndex,
) -> Option<Result<Items<'a>, Reject>> {
    if !rec.text.contains("\"EventList\"") {
        return None;
    }
    let v: Value = serde_json::from_str(rec.text).ok()?;
    if v.get("kind").and_then(Value::as_str) != Some("EventList") {
        return None;
    }
    let Some(text) = text else {
        return Some(Err(reject(
            "an EventList in a file that is not valid UTF-8: fix the file's encoding",
        )));
    };
    Some(adapter::member_array(text, rec, "items", index).ok_or_else(|| {
        reject("`kind` is `EventList` but there is no `items` array: expected {\"kind\":\"EventList\",\"items\":[…]}")
    }))
}

/// Parses one record into an [`Audit`] (or quarantines it).
fn take(
    cx: &Cx<'_>,
    file: &InputFile<'_>,
    fi: usize,
    rec: &Record<'_>,
    slots: &mut Slots,
    audits: &mut Vec<Audit>,
) {
    let origin = rec.origin(cx, file);
    let q = |slots: &mut Slots, r: Reject| slots.quarantine(fi, origin, r);
    let mut value = match adapter::strict_value(rec.text) {
        Ok(v) => v,
        Err(r) => return q(slots, r),
    };
    adapter::strip_credentials_value(&mut value);
    let Value::Object(mut m) = value else {
        return q(
            slots,
            reject(format!(
                "expected a JSON object (a Kubernetes audit Event), found {}",
                json_type(&value)
            )),
        );
    };
    match m.get("kind") {
        None => {}
        Some(Value::String(k)) if k == "Event" => {}
        Some(k) => {
            return q(
                slots,
                reject(format!(
                    "`kind` is {}, not \"Event\": this is not a Kubernetes audit event",
                    crate::time::clip(&k.to_string(), 40)
                )),
            );
        }
    }
    match m.get("apiVersion") {
        None => {}
        Some(Value::String(v)) if v.starts_with("audit.k8s.io/") => {}
        Some(v) => {
            return q(
                slots,
                reject(format!(
                    "`apiVersion` is {}, not audit.k8s.io/v1 or audit.k8s.io/v1beta1",
                    crate::time::clip(&v.to_string(), 40)
                )),
            );
        }
    }
    // Secret and ConfigMap values go before anything else looks at the record.
    let oref = |k: &str| {
        m.get("objectRef")
            .and_then(|o| o.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let sensitive =
        matches!(oref("resource"), "secrets" | "configmaps") && oref("apiGroup").is_empty();
    let mut hidden = Scrub::default();
    for key in ["requestObject", "responseObject"] {
        if let Some(obj) = m.get_mut(key) {
            scrub(obj, sensitive, &mut hidden);
        }
    }
    let data_keys = hidden.keys;
    let mut notes = Vec::new();
    if hidden.dropped {
        notes.push(
            "Secret/ConfigMap values (data, stringData, binaryData, last-applied-configuration) \
             were dropped at ingest; their key names are in data_keys"
                .to_string(),
        );
    }
    // Placeholders: in the audit envelope only. Request and response bodies are the user's
    // objects, where `{{ … }}` is often legitimate (Helm, Prometheus alert templates).
    let bodies: Vec<(String, Value)> = ["requestObject", "responseObject"]
        .iter()
        .filter_map(|k| m.remove(*k).map(|v| (k.to_string(), v)))
        .collect();
    let envelope = Value::Object(m);
    if let Some(r) = adapter::placeholder_reject(&envelope) {
        return q(slots, r);
    }
    let Value::Object(mut m) = envelope else {
        return;
    };
    m.extend(bodies);
    let stage = match m.get("stage") {
        None => {
            notes.push("no `stage`: taken as the request's final record".into());
            Stage::Unstated
        }
        Some(Value::String(s)) => match Stage::parse(s) {
            Some(st) => st,
            None => {
                return q(
                    slots,
                    reject(format!(
                        "unknown `stage` `{}` (expected RequestReceived, ResponseStarted, ResponseComplete or Panic)",
                        crate::time::clip(s, 40)
                    )),
                );
            }
        },
        Some(v) => {
            return q(
                slots,
                reject(format!("`stage` must be a string, found {v}")),
            );
        }
    };
    let audit_id = str_of(&m, "auditID").map(str::to_string);
    let (ts_key, ts_value) = match (m.get("stageTimestamp"), m.get("timestamp")) {
        (Some(v), _) => ("stageTimestamp", v),
        (None, Some(v)) => ("timestamp", v),
        (None, None) => {
            return q(
                slots,
                reject(
                    "no `stageTimestamp` (or v1beta1 `timestamp`): the record says not when it happened",
                ),
            );
        }
    };
    let ts = match adapter::parse_time(ts_value, Zoneless::Reject) {
        Ok(t) => t,
        Err(e) => return q(slots, reject(format!("bad `{ts_key}`: {e}"))),
    };
    if ts_key == "timestamp" {
        notes
            .push("no `stageTimestamp`: `ts` is the v1beta1 `timestamp` (second precision)".into());
    }
    let slot = slots.push(fi, origin, Outcome::Pending);
    audits.push(Audit {
        slot,
        pointer: rec.pointer.clone(),
        sha256: sha256_hex(rec.text.as_bytes()),
        rec: m,
        data_keys,
        notes,
        stage,
        audit_id,
        ts,
        ts_key,
        folded: Vec::new(),
    });
}

/// The record re-encoded with its Secret and ConfigMap values (what [`take`] drops) replaced by
/// `(withheld by trailbook)`, for pages that show original records; `None` when it holds none
/// (or is not JSON).
pub fn withhold(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut v: Value = serde_json::from_slice(bytes).ok()?;
    let m = v.as_object_mut()?;
    let oref = |k: &str| {
        m.get("objectRef")
            .and_then(|o| o.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let sensitive = matches!(oref("resource").as_str(), "secrets" | "configmaps")
        && oref("apiGroup").is_empty();
    let mut hidden = Scrub {
        mask: true,
        ..Scrub::default()
    };
    for key in ["requestObject", "responseObject"] {
        if let Some(obj) = m.get_mut(key) {
            scrub(obj, sensitive, &mut hidden);
        }
    }
    hidden
        .dropped
        .then(|| serde_json::to_vec(&v).unwrap_or_default())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What [`scrub`] found and how it hides values.
#[derive(Default)]
struct Scrub {
    /// Key names of the values hidden.
    keys: BTreeSet<String>,
    dropped: bool,
    /// Replace each value by [`WITHHELD`] (for showing a record) instead of removing it.
    mask: bool,
}

const WITHHELD: &str = "(withheld by trailbook)";

impl Scrub {
    fn hide(&mut self, slot: &mut Value) {
        self.dropped = true;
        if let Value::Object(d) = slot {
            self.keys.extend(d.keys().cloned());
            if self.mask {
                d.values_mut().for_each(|v| *v = json!(WITHHELD));
            }
        } else if self.mask {
            *slot = json!(WITHHELD);
        }
    }
}

/// Hides Secret and ConfigMap values in a request or response body, keeping key names.
/// `sensitive`: this value is a Secret or ConfigMap (or a patch of one, or a list of them) even
/// if it does not say so with `kind`.
fn scrub(v: &mut Value, sensitive: bool, s: &mut Scrub) {
    match v {
        Value::Object(o) => {
            let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
            let list = matches!(kind, "SecretList" | "ConfigMapList")
                || (sensitive && o.get("items").is_some_and(Value::is_array));
            let is_secret = matches!(kind, "Secret" | "ConfigMap") || (sensitive && !list);
            if is_secret {
                for field in ["data", "stringData", "binaryData"] {
                    if s.mask {
                        if let Some(x) = o.get_mut(field) {
                            s.hide(x);
                        }
                    } else if let Some(mut x) = o.remove(field) {
                        s.hide(&mut x);
                    }
                }
                if let Some(Value::Object(ann)) = o
                    .get_mut("metadata")
                    .and_then(|md| md.get_mut("annotations"))
                    && let Some(last) = ann.remove(LAST_APPLIED)
                {
                    s.dropped = true;
                    if let Some(Value::Object(prev)) = last
                        .as_str()
                        .and_then(|t| serde_json::from_str::<Value>(t).ok())
                    {
                        for field in ["data", "stringData", "binaryData"] {
                            if let Some(Value::Object(d)) = prev.get(field) {
                                s.keys.extend(d.keys().cloned());
                            }
                        }
                    }
                    if s.mask {
                        ann.insert(LAST_APPLIED.into(), json!(WITHHELD));
                    }
                }
            }
            for (k, child) in o.iter_mut() {
                scrub(child, list && k == "items", s);
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                // A JSON patch of a Secret: keep each operation and path, hide its value.
                if sensitive
                    && let Value::Object(op) = item
                    && op.contains_key("op")
                    && op.contains_key("path")
                {
                    if let Some(value) = op.get_mut("value") {
                        if s.mask {
                            *value = json!(WITHHELD);
                        } else {
                            op.remove("value");
                        }
                        s.dropped = true;
                        if let Some(p) = op.get("path").and_then(Value::as_str) {
                            let key = p.rsplit('/').next().unwrap_or(p);
                            s.keys.insert(key.replace("~1", "/").replace("~0", "~"));
                        }
                    }
                    continue;
                }
                scrub(item, sensitive, s);
            }
        }
        _ => {}
    }
}

/// Folds the non-final stages of each `auditID` into its final record.
fn fold_stages(files: &[InputFile<'_>], slots: &mut Slots, audits: &mut [Audit]) {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, a) in audits.iter().enumerate() {
        if let Some(id) = &a.audit_id {
            groups.entry(id.as_str()).or_default().push(i);
        }
    }
    let mut folds: Vec<(usize, usize)> = Vec::new(); // (folded, into)
    let mut incomplete: Vec<usize> = Vec::new();
    for members in groups.values() {
        let finals: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| audits[i].stage.is_final())
            .collect();
        let target = match finals.first() {
            Some(&t) => t,
            None => {
                // The most advanced stage; the first of equals.
                let mut best = members[0];
                for &i in members {
                    if audits[i].stage.rank() > audits[best].stage.rank() {
                        best = i;
                    }
                }
                incomplete.push(best);
                best
            }
        };
        for &i in members {
            if i != target && !audits[i].stage.is_final() {
                folds.push((i, target));
            }
        }
    }
    for a in audits.iter_mut() {
        if a.audit_id.is_none() && !a.stage.is_final() {
            a.notes.push(format!(
                "stage {} without an `auditID`: no final stage can be matched to it; the outcome is not known",
                a.stage.name()
            ));
        }
    }
    for i in incomplete {
        let a = &mut audits[i];
        a.notes.push(format!(
            "no ResponseComplete stage of this auditID in the source: mapped from its {} stage; the outcome is not known",
            a.stage.name()
        ));
    }
    for (i, into) in folds {
        let info = {
            let a = &audits[i];
            let o = slots.0.get(a.slot).map(|s| (s.file, s.origin.line));
            let (file, line) = o.unwrap_or((0, 0));
            json!({
                "stage": a.stage.name(),
                "file": files.get(file).map_or("", |f| f.path),
                "line": line,
                "sha256": a.sha256,
            })
        };
        slots.set(audits[i].slot, Outcome::Folded);
        audits[into].folded.push(info);
    }
}

/// What kind of resource a request is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Deployments and StatefulSets: a model deployment when they name a model version.
    Workload,
    /// InferenceService-like resources: always a model deployment.
    Serving,
    /// RBAC objects and audit sinks: `admin.change` with this target.
    Admin(&'static str),
    Other,
}

fn class(resource: &str, group: &str) -> Class {
    match (resource, group) {
        ("deployments", "apps" | "extensions" | "") | ("statefulsets", "apps") => Class::Workload,
        ("inferenceservices", "serving.kserve.io" | "serving.kubeflow.org")
        | ("seldondeployments", "machinelearning.seldon.io")
        | ("models", "mlops.seldon.io") => Class::Serving,
        ("roles" | "clusterroles", "rbac.authorization.k8s.io") => Class::Admin("role"),
        ("rolebindings" | "clusterrolebindings", "rbac.authorization.k8s.io") => {
            Class::Admin("permissions")
        }
        ("auditsinks", "auditregistration.k8s.io") => Class::Admin("logging_config"),
        _ => Class::Other,
    }
}

/// What a resource object says about the model version it serves.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Hint {
    None,
    Full { mv: String, from: String },
    Partial(String),
    Conflict(String),
}

const VERSION_KEYS: &[&str] = &["model-version", "model_version"];
const NAME_KEYS: &[&str] = &["model-name", "model_name", "model"];

static MODELS_URI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^models:/([^/@]+)(?:/([^/]+)|@(.+))/?$").expect("static regex"));

/// The model version a Deployment, StatefulSet or serving resource names: a label or annotation
/// whose last path segment is `model-version` (`MODEL@VERSION`, or a version with a
/// `model-name` / `model` label beside it), or an MLflow registry URI `models:/NAME/VERSION`
/// anywhere in its `spec` (KServe `storageUri`, Seldon `modelUri`).
fn hint(obj: &Value) -> Hint {
    let mut versions: BTreeMap<String, String> = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let places: [(&str, &[&str]); 4] = [
        ("label", &["metadata", "labels"]),
        ("annotation", &["metadata", "annotations"]),
        ("pod label", &["spec", "template", "metadata", "labels"]),
        (
            "pod annotation",
            &["spec", "template", "metadata", "annotations"],
        ),
    ];
    for (what, path) in places {
        let mut cur = obj;
        let mut found = true;
        for k in path {
            match cur.get(*k) {
                Some(v) => cur = v,
                None => {
                    found = false;
                    break;
                }
            }
        }
        let Some(map) = cur.as_object().filter(|_| found) else {
            continue;
        };
        for (k, v) in map {
            let Some(v) = v.as_str().map(str::trim).filter(|s| !s.is_empty()) else {
                continue;
            };
            let last = k.rsplit('/').next().unwrap_or(k);
            if VERSION_KEYS.contains(&last) {
                versions
                    .entry(v.to_string())
                    .or_insert_with(|| format!("{what} `{k}`"));
            } else if NAME_KEYS.contains(&last) {
                names
                    .entry(v.to_string())
                    .or_insert_with(|| format!("{what} `{k}`"));
            }
        }
    }
    let mut full: BTreeMap<String, String> = BTreeMap::new();
    let mut partial: Vec<String> = Vec::new();
    if versions.len() > 1 {
        return Hint::Conflict(format!(
            "its labels and annotations name different model versions ({})",
            versions
                .iter()
                .map(|(v, from)| format!("`{v}` in {from}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if names.len() > 1 {
        return Hint::Conflict(format!(
            "its labels and annotations name different models ({})",
            names
                .iter()
                .map(|(v, from)| format!("`{v}` in {from}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let name = names.iter().next();
    match versions.iter().next() {
        Some((v, from)) => match v.split_once('@') {
            Some((m, ver)) if !m.is_empty() && !ver.is_empty() => {
                if let Some((n, nfrom)) = name
                    && n != m
                {
                    return Hint::Conflict(format!(
                        "{from} names model `{m}` but {nfrom} names `{n}`"
                    ));
                }
                full.insert(v.clone(), from.clone());
            }
            Some(_) => partial.push(format!("{from} `{v}` is not MODEL@VERSION")),
            None => match name {
                Some((n, nfrom)) => {
                    full.insert(format!("{n}@{v}"), format!("{nfrom} and {from}"));
                }
                None => partial.push(format!(
                    "{from} names version `{v}` but no label or annotation names the model (add `model-name`, or write MODEL@VERSION)"
                )),
            },
        },
        None => {
            if let Some((n, nfrom)) = name {
                partial.push(format!(
                    "{nfrom} names model `{n}` but no label or annotation names its version (add `model-version`)"
                ));
            }
        }
    }
    if let Some(spec) = obj.get("spec") {
        let mut uris = Vec::new();
        strings(spec, &mut String::from("/spec"), &mut uris);
        for (at, s) in uris {
            let Some(c) = MODELS_URI.captures(&s) else {
                continue;
            };
            let model = c.get(1).map_or("", |m| m.as_str());
            match c.get(2).map(|m| m.as_str()) {
                Some(v) if v.bytes().all(|b| b.is_ascii_digit()) => {
                    full.entry(format!("{model}@{v}"))
                        .or_insert_with(|| format!("`{at}` = `{s}`"));
                }
                _ => partial.push(format!(
                    "`{at}` = `{s}` names a registry stage or alias, not a version"
                )),
            }
        }
    }
    if full.len() > 1 {
        return Hint::Conflict(format!(
            "it names different model versions ({})",
            full.iter()
                .map(|(v, from)| format!("`{v}` from {from}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some((mv, from)) = full.into_iter().next() {
        return Hint::Full { mv, from };
    }
    if partial.is_empty() {
        Hint::None
    } else {
        Hint::Partial(partial.join("; "))
    }
}

/// Every string under `v` with its JSON pointer.
fn strings(v: &Value, at: &mut String, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((at.clone(), s.clone())),
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                strings(x, at, out);
                at.truncate(len);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                let len = at.len();
                at.push('/');
                at.push_str(&k.replace('~', "~0").replace('/', "~1"));
                strings(x, at, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// The resource object a request shows: the response (the object as stored) when it is one,
/// else the request body (for a patch, only the patch).
fn object_of(rec: &Map<String, Value>) -> Option<&Value> {
    let is_object = |v: &&Value| {
        v.is_object()
            && v.get("kind").and_then(Value::as_str) != Some("Status")
            && v.get("metadata").is_some()
    };
    rec.get("responseObject")
        .filter(is_object)
        .or_else(|| rec.get("requestObject").filter(|v| v.is_object()))
}

/// The facts of a request the mapping needs, read once.
struct Req {
    verb: String,
    resource: String,
    group: String,
    subresource: String,
    namespace: String,
    name: String,
    code: Option<i64>,
    decision: Option<String>,
    class: Class,
    hint: Hint,
}

impl Req {
    fn of(a: &Audit) -> Req {
        let r = &a.rec;
        let oref = r.get("objectRef");
        let s = |k: &str| {
            oref.and_then(|o| o.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let obj = object_of(r);
        let meta = |k: &str| {
            obj.and_then(|o| str_at(o, &["metadata", k]))
                .unwrap_or("")
                .to_string()
        };
        let resource = s("resource");
        let group = s("apiGroup");
        let mut name = s("name");
        if name.is_empty() {
            name = meta("name");
        }
        let mut namespace = s("namespace");
        if namespace.is_empty() && resource != "namespaces" {
            namespace = meta("namespace");
        }
        let class = class(&resource, &group);
        let hint = match (class, obj) {
            (Class::Workload | Class::Serving, Some(o)) => hint(o),
            _ => Hint::None,
        };
        Req {
            verb: str_of(r, "verb").unwrap_or("").to_string(),
            resource,
            group,
            subresource: s("subresource"),
            namespace,
            name,
            code: r
                .get("responseStatus")
                .and_then(|s| s.get("code"))
                .and_then(Value::as_i64),
            decision: r
                .get("annotations")
                .and_then(|a| a.get("authorization.k8s.io/decision"))
                .and_then(Value::as_str)
                .map(str::to_string),
            class,
            hint,
        }
    }

    fn deployment_id(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }

    /// `k8s:RESOURCE[.GROUP]/[NAMESPACE/]NAME`, `…/NAMESPACE/*` or `…/*` for a collection.
    fn resource_id(&self, rec: &Map<String, Value>) -> String {
        if self.resource.is_empty() {
            let uri = str_of(rec, "requestURI").unwrap_or("/");
            let path = uri.split('?').next().unwrap_or(uri);
            return format!("k8s:nonresource:{path}");
        }
        let res = if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        let ns = (!self.namespace.is_empty() && self.resource != "namespaces")
            .then_some(self.namespace.as_str());
        match (ns, self.name.is_empty()) {
            (Some(ns), false) => format!("k8s:{res}/{ns}/{}", self.name),
            (None, false) => format!("k8s:{res}/{}", self.name),
            (Some(ns), true) => format!("k8s:{res}/{ns}/*"),
            (None, true) => format!("k8s:{res}/*"),
        }
    }

    fn mutating(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection"
        )
    }

    fn action(&self) -> &'static str {
        if matches!(
            self.subresource.as_str(),
            "exec" | "attach" | "portforward" | "proxy"
        ) {
            return "write";
        }
        match self.verb.as_str() {
            "get" | "list" | "watch" => "read",
            "delete" | "deletecollection" => "delete",
            _ => "write",
        }
    }
}

/// `result` from the stage, the authorization decision and the response code.
fn result(stage: Stage, decision: Option<&str>, code: Option<i64>) -> Option<&'static str> {
    if stage == Stage::Panic {
        return Some("failed");
    }
    if decision == Some("forbid") {
        return Some("denied");
    }
    match code {
        Some(100..=399) => Some("success"),
        Some(401 | 403) => Some("denied"),
        Some(_) => Some("failed"),
        None => None,
    }
}

/// `user.username` → actor.
fn actor(rec: &Map<String, Value>) -> Value {
    let Some(name) = rec
        .get("user")
        .and_then(|u| u.get("username"))
        .and_then(Value::as_str)
    else {
        return json!({"id": FORMAT, "type": "system"});
    };
    if name == "system:anonymous" {
        json!({"id": name, "type": "system", "role": "anonymous"})
    } else if name.starts_with("system:serviceaccount:") {
        json!({"id": name, "type": "service", "role": "serviceaccount"})
    } else if name.starts_with("system:") {
        json!({"id": name, "type": "system"})
    } else {
        json!({"id": name, "type": "human"})
    }
}

/// Maps every pending record, in time order (a change without a model version carries over the
/// version of the deployment's previous event).
fn map_all(slots: &mut Slots, audits: &[Audit]) {
    let emitted: Vec<usize> = (0..audits.len())
        .filter(|&i| {
            slots
                .0
                .get(audits[i].slot)
                .is_some_and(|s| matches!(s.outcome, Outcome::Pending))
        })
        .collect();
    let reqs: HashMap<usize, Req> = emitted.iter().map(|&i| (i, Req::of(&audits[i]))).collect();
    // Deployments that some record of the source shows serving a model.
    let model_subjects: BTreeSet<String> = reqs
        .values()
        .filter(|r| matches!(r.hint, Hint::Full { .. }))
        .map(Req::deployment_id)
        .collect();
    let mut order = emitted;
    order.sort_by_key(|&i| (audits[i].ts, audits[i].slot));
    let mut last_mv: HashMap<String, (String, String)> = HashMap::new();
    for i in order {
        let (a, Some(req)) = (&audits[i], reqs.get(&i)) else {
            continue;
        };
        match map_one(a, req, &model_subjects, &mut last_mv) {
            Ok(canonical) => slots.emit(a.slot, &canonical),
            Err(r) => slots.set(a.slot, Outcome::Quarantine(r)),
        }
    }
}

fn map_one(
    a: &Audit,
    req: &Req,
    model_subjects: &BTreeSet<String>,
    last_mv: &mut HashMap<String, (String, String)>,
) -> Result<Value, Reject> {
    if req.verb.is_empty() {
        return Err(reject(
            "no `verb`: the record does not say what was requested",
        ));
    }
    let id = match &a.audit_id {
        Some(id) => format!("k8s:{id}"),
        None => format!("k8s:sha256:{}", a.sha256),
    };
    let mut notes = a.notes.clone();
    let res = result(a.stage, req.decision.as_deref(), req.code);
    if a.stage == Stage::Panic {
        notes.push("the API server panicked while handling this request (stage Panic)".into());
    }
    let succeeded = a.stage.is_final() && res == Some("success");
    let what = if req.group.is_empty() {
        req.resource.clone()
    } else {
        format!("{}.{}", req.resource, req.group)
    };

    let mut kind = "access";
    let mut subject = json!({"type": "resource", "id": req.resource_id(&a.rec)});
    let mut attrs = Map::new();

    let deploying = matches!(req.class, Class::Workload | Class::Serving)
        && req.subresource.is_empty()
        && matches!(req.verb.as_str(), "create" | "update" | "patch" | "delete");
    if deploying && succeeded {
        if req.name.is_empty() {
            return Err(reject(format!(
                "a {} {} names no object (no objectRef.name or metadata.name)",
                req.verb, what
            )));
        }
        let dep = req.deployment_id();
        let obj = object_of(&a.rec);
        let serving_word = if req.class == Class::Serving {
            "a model-serving resource"
        } else {
            "this workload"
        };
        let mut model_version: Option<(String, String)> = None;
        match &req.hint {
            Hint::Full { mv, from } => model_version = Some((mv.clone(), from.clone())),
            Hint::Conflict(why) if req.verb != "delete" => {
                return Err(reject(format!(
                    "{} `{dep}` ({what}): {why}; trailbook cannot tell which model version is deployed — make them agree",
                    req.verb
                )));
            }
            Hint::Partial(why) if req.verb != "delete" => {
                return Err(reject(format!(
                    "{} `{dep}` ({what}): {why}; deployment events need MODEL@VERSION — label the workload with both `model-name` and `model-version` (or give a `models:/NAME/VERSION` URI), see docs/adapters/k8s-audit.md",
                    req.verb
                )));
            }
            _ => {}
        }
        // A change that shows no whole object (audit level Metadata, or only a patch body)
        // keeps the version the deployment had; a whole object that names none does not.
        let whole = a.rec.get("responseObject").is_some_and(|r| {
            r.get("metadata").is_some() && r.get("kind").and_then(Value::as_str) != Some("Status")
        }) || (req.verb == "update"
            && a.rec.get("requestObject").is_some_and(Value::is_object));
        let carried = if model_version.is_none() && req.verb != "create" && !whole {
            last_mv.get(&dep).cloned()
        } else {
            None
        };
        let is_model = model_version.is_some()
            || carried.is_some()
            || req.class == Class::Serving
            || (req.verb == "delete" && model_subjects.contains(&dep));
        if is_model {
            kind = match req.verb.as_str() {
                "create" => "deployment.started",
                "delete" => "deployment.stopped",
                _ => "deployment.changed",
            };
            if let Some((mv, from)) = &model_version {
                attrs.insert("model_version".into(), json!(mv));
                put(&mut attrs, "model_version_from", json!(from));
                last_mv.insert(dep.clone(), (mv.clone(), id.clone()));
            } else if let Some((mv, from_event)) = &carried {
                attrs.insert("model_version".into(), json!(mv));
                notes.push(format!(
                    "model_version carried over from event {from_event}: this {} does not name one",
                    req.verb
                ));
            } else if req.verb != "delete" {
                let level = str_of(&a.rec, "level").unwrap_or("?");
                let why = if obj.is_none() {
                    format!(
                        "the record holds no object (audit level {level}: log {what} at level Request or RequestResponse)"
                    )
                } else {
                    "no `model-version` label or annotation and no `models:/NAME/VERSION` URI"
                        .to_string()
                };
                return Err(reject(format!(
                    "{} of {serving_word} `{dep}` ({what}) that does not say which model version it serves: {why}",
                    req.verb
                )));
            }
            subject = json!({"type": "deployment", "id": dep});
            let mut target = Map::new();
            put(&mut target, "namespace", json!(req.namespace));
            if let Some(o) = obj {
                let containers = containers(o);
                if let Some((_, image)) = containers.first() {
                    put(&mut target, "container_image", json!(image));
                    if let Some(d) = image.split_once("@sha256:").map(|(_, h)| h) {
                        put(&mut target, "image_digest", json!(format!("sha256:{d}")));
                    }
                }
                if containers.len() > 1 {
                    attrs.insert(
                        "containers".into(),
                        Value::Array(
                            containers
                                .iter()
                                .map(|(n, i)| json!({"name": n, "image": i}))
                                .collect(),
                        ),
                    );
                }
                if let Some(url) = str_at(o, &["status", "url"]) {
                    put(&mut target, "endpoint", json!(url));
                }
                for (key, path) in [
                    ("labels", &["metadata", "labels"][..]),
                    (
                        "pod_labels",
                        &["spec", "template", "metadata", "labels"][..],
                    ),
                ] {
                    let mut cur = Some(o);
                    for k in path {
                        cur = cur.and_then(|c| c.get(*k));
                    }
                    if let Some(l) = cur {
                        put(&mut attrs, key, l.clone());
                    }
                }
            }
            put(&mut attrs, "target", Value::Object(target));
        } else {
            notes.push(format!(
                "{what} `{dep}` names no model version (no `model-version` label or annotation, no `models:/NAME/VERSION` URI): mapped as a plain write, not a deployment event"
            ));
        }
    } else if let Class::Admin(target) = req.class
        && req.mutating()
        && succeeded
    {
        kind = "admin.change";
        attrs.insert("target".into(), json!(target));
        if let Some(o) = object_of(&a.rec) {
            if let (Some(k), Some(n)) = (
                str_at(o, &["roleRef", "kind"]),
                str_at(o, &["roleRef", "name"]),
            ) {
                attrs.insert("role_ref".into(), json!(format!("{k}/{n}")));
            }
            if let Some(Value::Array(subjects)) = o.get("subjects") {
                let members: Vec<String> = subjects
                    .iter()
                    .map(|s| {
                        let k = s.get("kind").and_then(Value::as_str).unwrap_or("?");
                        let n = s.get("name").and_then(Value::as_str).unwrap_or("?");
                        match s.get("namespace").and_then(Value::as_str) {
                            Some(ns) if !ns.is_empty() => format!("{k}/{ns}/{n}"),
                            _ => format!("{k}/{n}"),
                        }
                    })
                    .collect();
                put(&mut attrs, "members", json!(members));
            }
            // What the role grants or the binding binds, independent of object metadata.
            let content: Map<String, Value> = ["rules", "roleRef", "subjects", "aggregationRule"]
                .iter()
                .filter_map(|k| o.get(*k).map(|v| ((*k).to_string(), v.clone())))
                .collect();
            if !content.is_empty() && req.verb != "delete" && req.verb != "patch" {
                let text = serde_json::to_string(&content).unwrap_or_default();
                attrs.insert(
                    "after_digest".into(),
                    json!(format!("sha256:{}", sha256_hex(text.as_bytes()))),
                );
            }
        }
    }

    if kind == "access" {
        attrs.insert("action".into(), json!(req.action()));
        if let Some(r) = res {
            attrs.insert("result".into(), json!(r));
        }
        put(&mut attrs, "scope", json!(req.subresource));
    } else if kind == "admin.change" || kind.starts_with("deployment.") {
        attrs.insert("action".into(), json!(req.verb));
    }

    // The request's own facts, then what is left of the record.
    let mut rest = a.rec.clone();
    rest.remove("kind");
    rest.remove(a.ts_key);
    move_fields(
        &mut rest,
        &mut attrs,
        &[
            ("apiVersion", "api_version"),
            ("auditID", "audit_id"),
            ("stage", "stage"),
            ("level", "level"),
            ("requestURI", "request_uri"),
            ("userAgent", "user_agent"),
            ("sourceIPs", "source_ips"),
            ("requestReceivedTimestamp", "request_received_ts"),
        ],
    );
    rest.remove("verb");
    put(&mut attrs, "verb", json!(req.verb));
    let oref = take_fields(
        &mut rest,
        "objectRef",
        &["resource", "apiGroup", "subresource", "namespace", "name"],
    );
    if !oref.is_empty() {
        put(&mut attrs, "resource", json!(what));
    }
    put(&mut attrs, "subresource", json!(req.subresource));
    put(&mut attrs, "namespace", json!(req.namespace));
    put(&mut attrs, "name", json!(req.name));
    let status = take_fields(&mut rest, "responseStatus", &["code"]);
    if let Some(c) = status.get("code") {
        attrs.insert("response_code".into(), c.clone());
    }
    let user = take_fields(&mut rest, "user", &["username"]);
    if user.is_empty() {
        notes.push("no `user.username`: the actor is the adapter".into());
    }
    if let Some(imp) = rest.remove("impersonatedUser") {
        if let Some(n) = imp.get("username") {
            attrs.insert("impersonated_user".into(), n.clone());
        }
        rest.insert("impersonatedUser".into(), imp);
    }
    let authz = take_fields(
        &mut rest,
        "annotations",
        &[
            "authorization.k8s.io/decision",
            "authorization.k8s.io/reason",
        ],
    );
    if let Some(d) = authz.get("authorization.k8s.io/decision") {
        put(&mut attrs, "authorization_decision", d.clone());
    }
    if let Some(r) = authz.get("authorization.k8s.io/reason") {
        put(&mut attrs, "authorization_reason", r.clone());
    }
    if !a.data_keys.is_empty() {
        attrs.insert("data_keys".into(), json!(a.data_keys));
    }
    if !a.folded.is_empty() {
        attrs.insert("folded".into(), Value::Array(a.folded.clone()));
    }
    if !notes.is_empty() {
        attrs.insert("notes".into(), json!(notes));
    }
    attrs.insert("origin".into(), origin_attr(&a.pointer, &a.sha256));
    if !rest.is_empty() {
        attrs.insert("raw_extra".into(), Value::Object(rest));
    }
    Ok(json!({
        "id": id,
        "ts": crate::time::fmt(a.ts),
        "kind": kind,
        "actor": actor(&a.rec),
        "subject": subject,
        "attrs": attrs,
    }))
}

/// `(name, image)` of the containers of a workload's pod template, or of the first `containers`
/// array anywhere in a serving resource's `spec`.
fn containers(obj: &Value) -> Vec<(String, String)> {
    fn find(v: &Value) -> Option<&Vec<Value>> {
        match v {
            Value::Object(m) => {
                if let Some(Value::Array(c)) = m.get("containers")
                    && c.iter().any(|x| x.get("image").is_some())
                {
                    return Some(c);
                }
                m.values().find_map(find)
            }
            Value::Array(items) => items.iter().find_map(find),
            _ => None,
        }
    }
    let spec = obj
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("spec"))
        .or_else(|| obj.get("spec"));
    spec.and_then(find)
        .map(|c| {
            c.iter()
                .filter_map(|x| {
                    let image = x.get("image")?.as_str()?.to_string();
                    let name = x.get("name").and_then(Value::as_str).unwrap_or("");
                    Some((name.to_string(), image))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::event::Event;
    use crate::ingest::mapped::run_format;

    fn run(files: &[(&str, String)]) -> Vec<FileOut> {
        run_format(FORMAT, files)
    }

    /// An audit event shaped like the API server's log backend writes them.
    fn audit(id: &str, verb: &str, oref: Value, extra: Value) -> Value {
        let mut e = json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "RequestResponse",
            "auditID": id,
            "stage": "ResponseComplete",
            "requestURI": "/apis/apps/v1/namespaces/risk/deployments",
            "verb": verb,
            "user": {"username": "ana@example.org", "groups": ["devs"]},
            "sourceIPs": ["10.0.0.7"],
            "userAgent": "kubectl/v1.30.1",
            "objectRef": oref,
            "responseStatus": {"metadata": {}, "code": 200},
            "requestReceivedTimestamp": "2026-03-02T10:00:00.100000Z",
            "stageTimestamp": "2026-03-02T10:00:00.250000Z",
            "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""}
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                e.as_object_mut().unwrap().remove(k);
            } else {
                e[k] = v.clone();
            }
        }
        e
    }

    fn deploy_ref(name: &str) -> Value {
        json!({"resource": "deployments", "apiGroup": "apps", "apiVersion": "v1", "namespace": "risk", "name": name})
    }

    fn deployment(name: &str, labels: Value, image: &str) -> Value {
        json!({
            "kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": {"name": name, "namespace": "risk", "labels": labels},
            "spec": {"replicas": 2, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "server", "image": image, "env": [{"name": "DB", "value": "postgres://svc:hunter2@db:5432/x"}]}]}
            }}
        })
    }

    fn lines(events: &[Value]) -> String {
        events.iter().map(|e| format!("{e}\n")).collect()
    }

    fn attrs(e: &Event) -> Map<String, Value> {
        e.attrs()
    }

    #[test]
    fn deployments_fold_stages_and_carry_the_model_version() {
        let image = "registry.example/scoring@sha256:aaaabbbb";
        let labels = json!({"app": "scoring", "model-name": "credit-risk", "model-version": "15"});
        let received = audit(
            "a1",
            "create",
            deploy_ref("scoring-api"),
            json!({"stage": "RequestReceived", "stageTimestamp": "2026-03-02T10:00:00.100000Z", "responseStatus": null}),
        );
        let created = audit(
            "a1",
            "create",
            deploy_ref("scoring-api"),
            json!({"requestObject": deployment("scoring-api", labels.clone(), image),
                   "responseObject": deployment("scoring-api", labels, image),
                   "responseStatus": {"code": 201}}),
        );
        let patched = audit(
            "a2",
            "patch",
            deploy_ref("scoring-api"),
            json!({"level": "Metadata", "stageTimestamp": "2026-03-03T08:00:00Z"}),
        );
        let deleted = audit(
            "a3",
            "delete",
            deploy_ref("scoring-api"),
            json!({"level": "Metadata", "stageTimestamp": "2026-03-04T08:00:00+02:00"}),
        );
        let outs = run(&[
            ("a.log", lines(&[received])),
            ("b.log", lines(&[patched, created, deleted])),
        ]);
        assert_eq!((outs[0].records, outs[0].folded), (1, 1));
        let evs = &outs[1].events;
        let kinds: Vec<&str> = evs.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "deployment.changed",
                "deployment.started",
                "deployment.stopped"
            ]
        );
        let started = &evs[1];
        assert_eq!(started.id, "k8s:a1");
        assert_eq!(
            started.subject_node().unwrap().as_str(),
            "deployment:risk/scoring-api"
        );
        assert_eq!(crate::time::fmt(started.ts), "2026-03-02T10:00:00.25Z");
        let a = attrs(started);
        assert_eq!(a["model_version"], "credit-risk@15");
        assert_eq!(a["target"]["namespace"], "risk");
        assert_eq!(a["target"]["container_image"], image);
        assert_eq!(a["target"]["image_digest"], "sha256:aaaabbbb");
        assert_eq!(a["folded"][0]["stage"], "RequestReceived");
        assert_eq!(a["folded"][0]["file"], "a.log");
        assert_eq!(a["request_received_ts"], "2026-03-02T10:00:00.100000Z");
        assert_eq!(started.actor.kind, crate::event::ActorType::Human);
        let changed = attrs(&evs[0]);
        assert_eq!(changed["model_version"], "credit-risk@15", "carried over");
        assert!(
            changed["notes"][0]
                .as_str()
                .unwrap()
                .contains("carried over from event k8s:a1")
        );
        assert_eq!(crate::time::fmt(evs[2].ts), "2026-03-04T06:00:00Z");
        // Credentials in URIs are stripped wherever they are.
        let all = serde_json::to_string(&outs[1].events).unwrap();
        assert!(!all.contains("hunter2"), "{all}");
    }

    #[test]
    fn workloads_without_a_model_are_writes_and_serving_resources_must_name_one() {
        let nginx = audit(
            "n1",
            "create",
            deploy_ref("nginx"),
            json!({"responseObject": deployment("nginx", json!({"app": "nginx"}), "nginx:1.27")}),
        );
        let nginx_gone = audit(
            "n2",
            "delete",
            deploy_ref("nginx"),
            json!({"level": "Metadata"}),
        );
        let half = audit(
            "h1",
            "create",
            deploy_ref("half"),
            json!({"responseObject": deployment("half", json!({"model-version": "15"}), "x:1")}),
        );
        let isvc_ref = json!({"resource": "inferenceservices", "apiGroup": "serving.kserve.io", "namespace": "risk", "name": "fraud"});
        let isvc = |spec: Value| {
            json!({"kind": "InferenceService", "apiVersion": "serving.kserve.io/v1beta1",
                   "metadata": {"name": "fraud", "namespace": "risk"}, "spec": spec,
                   "status": {"url": "http://fraud.risk.example"}})
        };
        let ok = audit(
            "i1",
            "create",
            isvc_ref.clone(),
            json!({"responseObject": isvc(json!({"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "models:/fraud-model/3"}}}))}),
        );
        let unnamed = audit(
            "i2",
            "update",
            isvc_ref.clone(),
            json!({"responseObject": isvc(json!({"predictor": {"model": {"storageUri": "s3://bucket/fraud"}}}))}),
        );
        let alias = audit(
            "i3",
            "create",
            json!({"resource": "inferenceservices", "apiGroup": "serving.kserve.io", "namespace": "risk", "name": "other"}),
            json!({"level": "Metadata"}),
        );
        let outs = run(&[(
            "x.log",
            lines(&[nginx, nginx_gone, half, ok, unnamed, alias]),
        )]);
        let o = &outs[0];
        let kinds: Vec<(&str, &str)> = o
            .events
            .iter()
            .map(|e| (e.id.as_str(), e.kind.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("k8s:n1", "access"),
                ("k8s:n2", "access"),
                ("k8s:i1", "deployment.started")
            ]
        );
        assert_eq!(attrs(&o.events[0])["action"], "write");
        assert_eq!(attrs(&o.events[1])["action"], "delete");
        let isvc_ev = attrs(&o.events[2]);
        assert_eq!(isvc_ev["model_version"], "fraud-model@3");
        assert_eq!(isvc_ev["target"]["endpoint"], "http://fraud.risk.example");
        let reasons: Vec<&str> = o.quarantine.iter().map(|q| q.reason.as_str()).collect();
        assert_eq!(reasons.len(), 3, "{reasons:#?}");
        assert!(
            reasons[0].contains("names version `15` but no label"),
            "{}",
            reasons[0]
        );
        assert!(
            reasons[1].contains("does not say which model version"),
            "{}",
            reasons[1]
        );
        assert!(
            reasons[2].contains("audit level Metadata"),
            "{}",
            reasons[2]
        );
    }

    #[test]
    fn secret_and_configmap_values_never_reach_an_event() {
        let last = json!({"kind": "Secret", "data": {"password": "c2VjcmV0LXZhbHVl"}}).to_string();
        let secret = json!({
            "kind": "Secret", "apiVersion": "v1", "type": "Opaque",
            "metadata": {"name": "db", "namespace": "risk",
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last}},
            "data": {"password": "c2VjcmV0LXZhbHVl"},
            "stringData": {"token": "plain-token-value"}
        });
        let sref =
            json!({"resource": "secrets", "namespace": "risk", "name": "db", "apiVersion": "v1"});
        let create = audit(
            "s1",
            "create",
            sref.clone(),
            json!({"requestObject": secret.clone(), "responseObject": secret}),
        );
        let patch = audit(
            "s2",
            "patch",
            sref.clone(),
            json!({"requestObject": [{"op": "replace", "path": "/data/api-key", "value": "QUtJQS1zZWNyZXQ="}]}),
        );
        let list = audit(
            "s3",
            "list",
            json!({"resource": "secrets", "namespace": "risk"}),
            json!({"responseObject": {"kind": "SecretList", "items": [{"metadata": {"name": "x"}, "data": {"k": "dmFsdWUtaW4tbGlzdA=="}}]}}),
        );
        let cm = audit(
            "c1",
            "update",
            json!({"resource": "configmaps", "namespace": "risk", "name": "settings"}),
            json!({"requestObject": {"data": {"access.properties": "aws_secret_access_key = SEKRET-1", "alert.tmpl": "{{ $labels.pod }}"}}}),
        );
        let cm_record = cm.clone();
        let outs = run(&[("s.log", lines(&[create, patch, list, cm]))]);
        let o = &outs[0];
        assert_eq!(o.events.len(), 4, "{:?}", o.quarantine);
        let text = serde_json::to_string(&o.events).unwrap();
        for secret in [
            "c2VjcmV0LXZhbHVl",
            "plain-token-value",
            "QUtJQS1zZWNyZXQ=",
            "dmFsdWUtaW4tbGlzdA==",
            "SEKRET-1",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert_eq!(
            attrs(&o.events[0])["data_keys"],
            json!(["password", "token"])
        );
        assert_eq!(attrs(&o.events[1])["data_keys"], json!(["api-key"]));
        assert_eq!(attrs(&o.events[2])["data_keys"], json!(["k"]));
        assert_eq!(attrs(&o.events[2])["action"], "read");
        assert_eq!(
            o.events[2].subject_node().unwrap().as_str(),
            "resource:k8s:secrets/risk/*"
        );
        // Pages that show the original record show it without the values.
        let line = serde_json::to_vec(&cm_record).unwrap();
        let shown = adapter::shown_original(FORMAT, &line).expect("withheld");
        let shown = String::from_utf8(shown).unwrap();
        assert!(
            !shown.contains("SEKRET-1") && shown.contains("\"settings\""),
            "{shown}"
        );
        assert!(adapter::shown_original(FORMAT, b"{\"verb\":\"get\"}").is_none());
        assert_eq!(
            attrs(&o.events[3])["data_keys"],
            json!(["access.properties", "alert.tmpl"])
        );
    }

    #[test]
    fn access_admin_stages_and_actors() {
        let exec = audit(
            "e1",
            "create",
            json!({"resource": "pods", "subresource": "exec", "namespace": "risk", "name": "scoring-0"}),
            json!({"responseStatus": {"code": 403}, "annotations": {"authorization.k8s.io/decision": "forbid"},
                   "user": {"username": "system:serviceaccount:ci:deployer"}}),
        );
        let crb = audit(
            "r1",
            "create",
            json!({"resource": "clusterrolebindings", "apiGroup": "rbac.authorization.k8s.io", "name": "ops-admin"}),
            json!({"user": {"username": "system:anonymous"}, "responseStatus": {"code": 201},
                   "requestObject": {"kind": "ClusterRoleBinding", "metadata": {"name": "ops-admin"},
                                     "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
                                     "subjects": [{"kind": "User", "name": "eve"}]}}),
        );
        let role_fail = audit(
            "r2",
            "patch",
            json!({"resource": "roles", "apiGroup": "rbac.authorization.k8s.io", "namespace": "risk", "name": "reader"}),
            json!({"responseStatus": {"code": 422}}),
        );
        let only_received = audit(
            "w1",
            "get",
            json!({"resource": "configmaps", "namespace": "risk", "name": "settings"}),
            json!({"stage": "RequestReceived", "responseStatus": null,
                   "user": {"username": "system:kube-scheduler"}}),
        );
        let panic = audit(
            "p1",
            "update",
            json!({"resource": "services", "namespace": "risk", "name": "api"}),
            json!({"stage": "Panic", "responseStatus": {"code": 500}}),
        );
        let outs = run(&[(
            "x.log",
            lines(&[exec, crb, role_fail, only_received, panic]),
        )]);
        let e = &outs[0].events;
        assert_eq!(e.len(), 5, "{:?}", outs[0].quarantine);
        let a = attrs(&e[0]);
        assert_eq!(
            (
                a["action"].as_str(),
                a["result"].as_str(),
                a["scope"].as_str()
            ),
            (Some("write"), Some("denied"), Some("exec"))
        );
        assert_eq!(e[0].actor.kind, crate::event::ActorType::Service);
        assert_eq!(
            e[0].subject_node().unwrap().as_str(),
            "resource:k8s:pods/risk/scoring-0"
        );
        assert_eq!(e[1].kind, "admin.change");
        let a = attrs(&e[1]);
        assert_eq!(a["target"], "permissions");
        assert_eq!(a["role_ref"], "ClusterRole/cluster-admin");
        assert_eq!(a["members"], json!(["User/eve"]));
        assert!(a["after_digest"].as_str().unwrap().starts_with("sha256:"));
        assert_eq!(e[1].actor.id, "system:anonymous");
        assert_eq!(e[1].actor.role.as_deref(), Some("anonymous"));
        assert_eq!(e[2].kind, "access", "a failed RBAC patch changed nothing");
        assert_eq!(attrs(&e[2])["result"], "failed");
        let a = attrs(&e[3]);
        assert!(a.get("result").is_none(), "outcome unknown");
        assert!(
            a["notes"][0]
                .as_str()
                .unwrap()
                .contains("no ResponseComplete")
        );
        assert_eq!(e[3].actor.kind, crate::event::ActorType::System);
        let a = attrs(&e[4]);
        assert_eq!(a["result"], "failed");
        assert!(a["notes"][0].as_str().unwrap().contains("panicked"));
    }

    #[test]
    fn layouts_versions_and_bad_records() {
        let one = |id: &str| {
            audit(
                id,
                "get",
                json!({"resource": "configmaps", "namespace": "risk", "name": "settings"}),
                json!({}),
            )
        };
        // A pretty-printed single object, an array, and an EventList.
        let single = serde_json::to_string_pretty(&one("o1")).unwrap();
        let array = serde_json::to_string(&json!([one("o2"), one("o3")])).unwrap();
        let list = serde_json::to_string(&json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [one("o4"), one("o5")]})).unwrap();
        // v1beta1 without stageTimestamp, no apiVersion at all, nanoseconds with an offset.
        let beta = audit(
            "b1",
            "get",
            json!({"resource": "pods"}),
            json!({"apiVersion": "audit.k8s.io/v1beta1", "stageTimestamp": null, "timestamp": "2026-03-02T10:00:00Z"}),
        );
        let bare = audit(
            "b2",
            "get",
            json!({"resource": "pods"}),
            json!({"apiVersion": null, "stageTimestamp": "2026-03-02T11:00:00.123456789+01:00"}),
        );
        let dup = r#"{"kind":"Event","auditID":"d1","verb":"get","verb":"list","stageTimestamp":"2026-03-02T10:00:00Z"}"#;
        let placeholder = audit(
            "t1",
            "get",
            json!({"resource": "pods"}),
            json!({"user": {"username": "{{ .User }}"}}),
        );
        let not_event = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "x"}});
        let bad_time = audit(
            "t2",
            "get",
            json!({"resource": "pods"}),
            json!({"stageTimestamp": "02/03/2026 10:00"}),
        );
        let ndjson = format!(
            "{}\n{}\n{dup}\n{{\"kind\": \"Event\",\n{}\n{}\n{}\n",
            beta, bare, placeholder, not_event, bad_time
        );
        let outs = run(&[
            ("single.json", single),
            ("array.json", array),
            ("list.json", list),
            ("mixed.log", ndjson),
            ("empty.log", String::new()),
        ]);
        assert_eq!(outs[0].events.len(), 1);
        assert_eq!(outs[1].events.len(), 2);
        assert_eq!(attrs(&outs[1].events[1])["origin"]["pointer"], "/1");
        assert_eq!(outs[2].events.len(), 2);
        assert_eq!(attrs(&outs[2].events[0])["origin"]["pointer"], "/items/0");
        let m = &outs[3];
        assert_eq!(m.records, 7);
        assert_eq!(m.events.len(), 2);
        assert_eq!(
            crate::time::fmt(m.events[1].ts),
            "2026-03-02T10:00:00.123456789Z"
        );
        assert!(
            attrs(&m.events[0])["notes"][0]
                .as_str()
                .unwrap()
                .contains("v1beta1 `timestamp`")
        );
        let reasons: Vec<(u64, &str)> = m
            .quarantine
            .iter()
            .map(|q| (q.origin.line, q.reason.as_str()))
            .collect();
        assert!(reasons[0].1.contains("duplicate key `verb`"), "{reasons:?}");
        assert_eq!(reasons[1].0, 4);
        assert!(reasons[1].1.contains("JSON"), "{reasons:?}");
        assert!(reasons[2].1.contains("placeholder"), "{reasons:?}");
        assert!(
            reasons[3].1.contains("not a Kubernetes audit event"),
            "{reasons:?}"
        );
        assert!(reasons[4].1.contains("bad `stageTimestamp`"), "{reasons:?}");
        assert_eq!(outs[4].records, 0);
    }
}

#[cfg(test)]
mod pipeline {
    use serde_json::json;

    use crate::checks;

    /// A folder of audit logs read through the whole pipeline, as a user's config would.
    #[test]
    fn a_deployment_without_its_model_registered_is_a_link_finding() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("audit")).unwrap();
        let event = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
            "auditID": "p-1", "stage": "ResponseComplete", "verb": "create",
            "user": {"username": "ana"},
            "objectRef": {"resource": "deployments", "apiGroup": "apps", "namespace": "risk", "name": "scoring-api"},
            "responseStatus": {"code": 201},
            "requestObject": {"kind": "Deployment", "metadata": {"name": "scoring-api", "labels": {"model-version": "credit-risk@15"}},
                              "spec": {"template": {"spec": {"containers": [{"name": "s", "image": "scoring:15"}]}}}},
            "stageTimestamp": "2026-03-02T10:00:00Z"
        });
        let configmap = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
            "auditID": "p-2", "stage": "ResponseComplete", "verb": "create",
            "user": {"username": "ana"},
            "objectRef": {"resource": "configmaps", "namespace": "risk", "name": "settings"},
            "responseStatus": {"code": 201},
            "requestObject": {"kind": "ConfigMap", "metadata": {"name": "settings"},
                              "data": {"aws.properties": "aws_secret_access_key = SEKRET-9"}},
            "requestURI": "/api/v1/namespaces/risk/configmaps?src=https://ana:pa55word@git.example/x",
            "stageTimestamp": "2026-03-02T10:05:00Z"
        });
        std::fs::write(
            dir.path().join("audit/a.log"),
            format!("{event}\n{configmap}\n"),
        )
        .unwrap();
        let path = dir.path().join("trailbook.toml");
        std::fs::write(
            &path,
            "[[source]]\nname = \"k8s\"\nformat = \"k8s-audit\"\npaths = [\"audit\"]\nchain = \"none\"\n",
        )
        .unwrap();
        let loaded = crate::cli::load(&path, None).unwrap();
        assert_eq!(
            loaded.ingest.files[0].events, 2,
            "{:?}",
            loaded.ingest.quarantine
        );
        assert_eq!(loaded.ingest.files[0].path, "audit/a.log");
        let findings = checks::run(&loaded.model, &loaded.graph, &loaded.config, &loaded.ingest);
        let unresolved: Vec<&str> = findings
            .findings
            .iter()
            .filter(|f| f.rule == "LINK-01")
            .map(|f| f.subject.as_str())
            .collect();
        assert_eq!(unresolved, ["model_version:credit-risk@15"]);
        // No page of the site shows the ConfigMap's value or the URI's password, not even the
        // event drill-down that shows original records.
        let case = crate::testing::Case {
            dir,
            loaded,
            findings,
        };
        let pages = case.site();
        for (path, bytes) in &pages.files {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains("SEKRET-9") && !text.contains("pa55word"),
                "{path} leaks a secret"
            );
        }
        let events = crate::testing::page(&pages, "events/1.html");
        assert!(events.contains("aws.properties"), "key names stay visible");
    }
}
