//! `format = "mlflow-filestore"`: an MLflow file store (`mlruns/`), given as a folder.
//!
//! Layout read (MLflow 1.x–3.x `FileStore` and the file model registry):
//!
//! ```text
//! <exp>/meta.yaml, <exp>/tags/<key>                      experiment → folded into its runs
//! <exp>/<run>/meta.yaml                                  run → run.completed
//! <exp>/<run>/params/<key>, tags/<key>                   → folded into the run
//! <exp>/<run>/metrics/<key>                              lines `timestamp value step` → folded
//! <exp>/<run>/inputs/<id>/meta.yaml                      run input → folded (input reference)
//! <exp>/datasets/<id>/meta.yaml                          dataset → dataset.registered
//! <exp>/<run>/artifacts/**/MLmodel                       logged model → model.registered
//! <exp>/<run>/artifacts/**/registered_model_meta         → folded into its MLmodel
//! <exp>/models/<model_id>/…                              MLflow 3 logged model (meta, params,
//!                                                        tags, metrics folded into its MLmodel)
//! models/<name>/meta.yaml, tags/<key>                    registered model → folded into versions
//! models/<name>/version-<n>/meta.yaml                    → model.registered (+ its stage)
//! models/<name>/version-<n>/tags/<key>                   → folded into the version
//! models/<name>/aliases/<alias>                          → model.promoted
//! ```
//!
//! Every file is accounted for (`records == events + quarantined + folded`): the files above are
//! one record each (a version's `meta.yaml` two when its stage is not `None`; a run's
//! `mlflow.datasets` tag one more per dataset with a digest). Other artifacts (model binaries,
//! environments, input examples), traces, and containers with nothing in them (an experiment
//! without runs, a registered model without versions) hold no record: 0 records. A file outside
//! this layout is quarantined. `docs/adapters/mlflow-filestore.md` has the details.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::adapter::{self, Cx, FileOut, InputFile, Zoneless};
use super::jsonl::Reject;
use super::mlflow::{
    self as m, Emit, Joined, Point, RunIn, VersionIn, ms_of, ms_time, reject, text, text_or_num,
};
use crate::event::Origin;

const ACTOR: &str = "mlflow-filestore";

/// What one file of the tree is.
#[derive(Clone, Debug)]
enum Role {
    /// Holds no record.
    Skip,
    Bad(Reject),
    ExperimentMeta,
    ExperimentTag {
        exp: usize,
    },
    RunMeta,
    Param {
        run: usize,
        key: String,
    },
    Metric {
        run: usize,
        key: String,
    },
    Tag {
        run: usize,
        key: String,
    },
    RunInput {
        run: usize,
    },
    Dataset,
    MlModel {
        run: Option<usize>,
        artifact_path: String,
    },
    RegisteredModelMeta,
    ModelMeta,
    ModelTag {
        model: usize,
    },
    VersionMeta,
    VersionTag {
        version: usize,
    },
    Alias {
        model: usize,
        alias: String,
    },
    LoggedModelMeta,
    LoggedModelPart {
        logged: usize,
    },
}

/// A parsed YAML `meta.yaml` (or MLmodel) of one file.
struct Yaml {
    map: Map<String, Value>,
}

/// The reader. Files, their path components, roles and parsed YAML are parallel tables indexed
/// by file.
#[allow(clippy::needless_range_loop)]
pub fn read_filestore(cx: &Cx<'_>, files: &[InputFile<'_>]) -> Vec<FileOut> {
    let n = files.len();
    let comps: Vec<Vec<&str>> = files.iter().map(|f| f.path.split('/').collect()).collect();
    let dir_of = |i: usize| comps[i][..comps[i].len().saturating_sub(1)].join("/");
    let under_artifacts = |i: usize| comps[i].iter().rev().skip(1).any(|c| *c == "artifacts");

    // Pass 1: every meta.yaml outside artifacts, parsed and classified.
    let mut roles: Vec<Role> = vec![Role::Skip; n];
    let mut yamls: Vec<Option<Yaml>> = (0..n).map(|_| None).collect();
    let mut run_dirs: BTreeMap<String, usize> = BTreeMap::new();
    let mut exp_dirs: BTreeMap<String, usize> = BTreeMap::new();
    let mut model_dirs: BTreeMap<String, usize> = BTreeMap::new();
    let mut version_dirs: BTreeMap<String, usize> = BTreeMap::new();
    let mut logged_dirs: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..n {
        let c = &comps[i];
        if c.last() != Some(&"meta.yaml") || under_artifacts(i) {
            continue;
        }
        let map = match yaml(files[i].bytes) {
            Ok(map) => map,
            Err(r) => {
                roles[i] = Role::Bad(r);
                continue;
            }
        };
        let parent = |k: usize| c.len().checked_sub(k + 1).and_then(|j| c.get(j)).copied();
        let has = |k: &str| map.contains_key(k);
        let role = if parent(1).is_some_and(|p| p.starts_with("version-"))
            && parent(3) == Some("models")
            && has("version")
        {
            version_dirs.insert(dir_of(i), i);
            Role::VersionMeta
        } else if parent(2) == Some("models") && has("model_id") {
            logged_dirs.insert(dir_of(i), i);
            Role::LoggedModelMeta
        } else if parent(2) == Some("models") && has("name") && !has("experiment_id") {
            model_dirs.insert(dir_of(i), i);
            Role::ModelMeta
        } else if has("run_uuid") || has("run_id") {
            run_dirs.insert(dir_of(i), i);
            Role::RunMeta
        } else if parent(2) == Some("datasets") && (has("digest") || has("name")) {
            Role::Dataset
        } else if parent(2) == Some("inputs") && has("source_id") {
            // Attached to its run below.
            Role::Skip
        } else if has("experiment_id") && has("name") {
            exp_dirs.insert(dir_of(i), i);
            Role::ExperimentMeta
        } else {
            Role::Bad(reject(
                "a meta.yaml that is none of an MLflow experiment, run, dataset, run input, registered model or model version",
            ))
        };
        roles[i] = role;
        yamls[i] = Some(Yaml { map });
    }

    // Pass 2: every other file, by the nearest folder that is a run, version, model, logged
    // model or experiment.
    for i in 0..n {
        let c = &comps[i];
        let name = c.last().copied().unwrap_or("");
        let is_input_meta = name == "meta.yaml" && c.len() >= 3 && c[c.len() - 3] == "inputs";
        if !matches!(roles[i], Role::Skip)
            || (name == "meta.yaml" && !under_artifacts(i) && !is_input_meta)
        {
            continue;
        }
        let mut owner = None;
        for k in (1..c.len()).rev() {
            let dir = c[..k].join("/");
            let rest: Vec<&str> = c[k..].to_vec();
            if let Some(&r) = run_dirs.get(&dir) {
                owner = Some(("run", r, rest));
            } else if let Some(&v) = version_dirs.get(&dir) {
                owner = Some(("version", v, rest));
            } else if let Some(&l) = logged_dirs.get(&dir) {
                owner = Some(("logged", l, rest));
            } else if let Some(&mm) = model_dirs.get(&dir) {
                owner = Some(("model", mm, rest));
            } else if let Some(&e) = exp_dirs.get(&dir) {
                owner = Some(("experiment", e, rest));
            }
            if owner.is_some() {
                break;
            }
        }
        let key = |rest: &[&str]| rest.get(1..).map(|r| r.join("/")).unwrap_or_default();
        roles[i] = match owner {
            Some(("run", r, rest)) => match rest.first().copied() {
                Some("params") if rest.len() >= 2 => Role::Param {
                    run: r,
                    key: key(&rest),
                },
                Some("metrics") if rest.len() >= 2 => Role::Metric {
                    run: r,
                    key: key(&rest),
                },
                Some("tags") if rest.len() >= 2 => Role::Tag {
                    run: r,
                    key: key(&rest),
                },
                Some("inputs") if is_input_meta && rest.len() == 3 => Role::RunInput { run: r },
                Some("artifacts") => artifact_role(name, Some(r), &rest[1..]),
                _ => Role::Bad(reject(
                    "a file in a run folder outside params/, metrics/, tags/, inputs/ and artifacts/",
                )),
            },
            Some(("version", v, rest)) => match rest.first().copied() {
                Some("tags") if rest.len() >= 2 => Role::VersionTag { version: v },
                _ => Role::Bad(reject("a file in a model version folder outside tags/")),
            },
            Some(("logged", l, rest)) => match rest.first().copied() {
                Some("artifacts") => artifact_role(name, None, &rest[1..]),
                Some("params" | "metrics" | "tags") if rest.len() >= 2 => {
                    Role::LoggedModelPart { logged: l }
                }
                _ => Role::Bad(reject(
                    "a file in a logged model folder outside params/, metrics/, tags/ and artifacts/",
                )),
            },
            Some(("model", mm, rest)) => match rest.first().copied() {
                Some("tags") if rest.len() >= 2 => Role::ModelTag { model: mm },
                Some("aliases") if rest.len() >= 2 => Role::Alias {
                    model: mm,
                    alias: key(&rest),
                },
                _ => Role::Bad(reject(
                    "a file in a registered model folder outside tags/, aliases/ and version-N/",
                )),
            },
            Some(("experiment", e, rest)) => match rest.first().copied() {
                Some("tags") if rest.len() >= 2 => Role::ExperimentTag { exp: e },
                // MLflow 3 traces are not read by this adapter.
                Some("traces") => Role::Skip,
                Some(_) if rest.len() >= 3 && ["params", "metrics", "tags"].contains(&rest[1]) => {
                    Role::Bad(reject(format!(
                        "folder `{}` has no readable meta.yaml: its params, metrics and tags belong to no run",
                        rest[0]
                    )))
                }
                Some(_) if rest.contains(&"artifacts") => artifact_role(name, None, &[]),
                _ => Role::Bad(reject(
                    "a file in an experiment folder that is not part of an mlruns layout",
                )),
            },
            _ if under_artifacts(i) => artifact_role(name, None, &[]),
            _ => match c
                .iter()
                .position(|p| ["params", "metrics", "tags"].contains(p))
                .filter(|&k| k >= 1 && k + 1 < c.len())
            {
                Some(k) => Role::Bad(reject(format!(
                    "folder `{}` has no readable meta.yaml: its params, metrics and tags belong to no run",
                    c[k - 1]
                ))),
                None => Role::Bad(reject(
                    "not part of an mlruns layout (expected <experiment>/<run>/…, <experiment>/meta.yaml or models/<name>/…)",
                )),
            },
        };
    }
    // MLmodel and registered_model_meta files need their YAML too.
    for i in 0..n {
        if matches!(roles[i], Role::MlModel { .. } | Role::RegisteredModelMeta) {
            match yaml(files[i].bytes) {
                Ok(map) => yamls[i] = Some(Yaml { map }),
                Err(r) => roles[i] = Role::Bad(r),
            }
        }
    }

    let tree = Tree::build(files, &comps, &roles, &yamls, &exp_dirs);
    let mut outs = Vec::with_capacity(n);
    for i in 0..n {
        let mut em = Emit::new(cx, &files[i]);
        tree.emit(&mut em, i);
        outs.push(em.out);
    }
    outs
}

fn artifact_role(name: &str, run: Option<usize>, path_in_artifacts: &[&str]) -> Role {
    match name {
        "MLmodel" => Role::MlModel {
            run,
            artifact_path: path_in_artifacts
                .get(..path_in_artifacts.len().saturating_sub(1))
                .map(|p| p.join("/"))
                .unwrap_or_default(),
        },
        "registered_model_meta" => Role::RegisteredModelMeta,
        _ => Role::Skip,
    }
}

/// A YAML mapping, strictly (duplicate keys are an error), with credentials stripped.
fn yaml(bytes: &[u8]) -> Result<Map<String, Value>, Reject> {
    let text = std::str::from_utf8(bytes).map_err(|e| Reject {
        column: 1,
        reason: format!("not UTF-8 (at byte {})", e.valid_up_to() + 1),
    })?;
    let opts = serde_saphyr::options! { with_snippet: false };
    let mut v: Value = serde_saphyr::from_str_with_options(text, opts).map_err(|e| {
        let msg = e.to_string();
        let msg = match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        let msg = msg
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or("")
            .to_string();
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        Reject {
            column: 1,
            reason: if line > 0 {
                format!("invalid YAML at line {line}, column {column}: {msg}")
            } else {
                format!("invalid YAML: {msg}")
            },
        }
    })?;
    if let Some(r) = adapter::placeholder_reject(&v) {
        return Err(r);
    }
    adapter::strip_credentials_value(&mut v);
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Err(reject("empty YAML: expected a mapping")),
        _ => Err(reject("YAML that is not a mapping")),
    }
}

/// A small text file's value (a param, a tag, an alias), credentials stripped.
fn value_of(bytes: &[u8]) -> Result<String, Reject> {
    let s = std::str::from_utf8(bytes).map_err(|e| Reject {
        column: 1,
        reason: format!("not UTF-8 (at byte {})", e.valid_up_to() + 1),
    })?;
    Ok(adapter::strip_credentials(s).into_owned())
}

/// A metric file: lines `timestamp value step` (`step` absent in MLflow < 1.0).
fn metric_points(bytes: &[u8]) -> Result<Vec<Point>, (u64, u64, u64, Reject)> {
    let mut out = Vec::new();
    let mut offset = 0u64;
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let at = offset;
        offset += raw.len() as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let bad = |reason: String| (line_no, at, raw.len() as u64, Reject { column: 1, reason });
        let Ok(line) = std::str::from_utf8(raw) else {
            return Err(bad(format!("metric line {line_no} is not UTF-8")));
        };
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let parsed = match f.as_slice() {
            [t, v] => Some((*t, *v, "0")),
            [t, v, s] => Some((*t, *v, *s)),
            _ => None,
        };
        let point = parsed.and_then(|(t, v, s)| {
            let ts: i64 = t.parse().ok()?;
            let value: f64 = v.parse().ok()?;
            let step: i64 = s.parse().ok()?;
            let value = match serde_json::Number::from_f64(value) {
                Some(n) => Value::Number(n),
                None if value.is_nan() => Value::String("NaN".into()),
                None if value > 0.0 => Value::String("Infinity".into()),
                None => Value::String("-Infinity".into()),
            };
            Some(Point {
                ts: Some(ts),
                value,
                step,
            })
        });
        match point {
            Some(p) => out.push(p),
            None => {
                return Err(bad(format!(
                    "metric line {line_no} is not `timestamp value step` (epoch ms, a number, an integer): `{}`",
                    crate::time::clip(line, 60)
                )));
            }
        }
    }
    Ok(out)
}

/// The line of `key:` at the start of a line of a YAML file: (line, offset, len).
fn yaml_key_line(bytes: &[u8], key: &str) -> Option<(u64, u64, u64)> {
    let mut offset = 0u64;
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let at = offset;
        offset += raw.len() as u64 + 1;
        if raw.starts_with(key.as_bytes()) && raw.get(key.len()) == Some(&b':') {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            return Some((i as u64 + 1, at, raw.len() as u64));
        }
    }
    None
}

/// What the tree says, joined across files.
struct Tree<'a> {
    files: &'a [InputFile<'a>],
    roles: &'a [Role],
    yamls: &'a [Option<Yaml>],
    /// Runs by the index of their meta.yaml: the run, or why it cannot be read.
    runs: BTreeMap<usize, Result<RunIn, Reject>>,
    /// Runs (meta.yaml index) that become events.
    runs_ok: BTreeSet<usize>,
    /// Parts of a run that could not be read (quarantined on their own).
    bad_parts: BTreeMap<usize, (u64, u64, u64, Reject)>,
    /// Experiments (meta.yaml index) that have at least one run.
    experiments_with_runs: BTreeSet<usize>,
    /// Datasets (meta.yaml index) → the runs that read them (meta.yaml indices).
    dataset_runs: BTreeMap<usize, Vec<usize>>,
    /// Versions (meta.yaml index) → their data.
    versions: BTreeMap<usize, Result<VersionIn, Reject>>,
    /// Registered models (meta.yaml index) with at least one version.
    models_with_versions: BTreeSet<usize>,
    /// MLmodel file → the versions it is folded into.
    mlmodel_versions: BTreeMap<usize, Vec<usize>>,
    /// registered_model_meta file → its MLmodel file.
    rmm_of: BTreeMap<usize, usize>,
    /// MLmodel file → its registered_model_meta (model name, version).
    rmm_names: BTreeMap<usize, (String, String)>,
    /// Logged model meta.yaml → its MLmodel file.
    logged_mlmodel: BTreeMap<usize, usize>,
}

impl<'a> Tree<'a> {
    #[allow(clippy::needless_range_loop)]
    fn build(
        files: &'a [InputFile<'a>],
        comps: &[Vec<&str>],
        roles: &'a [Role],
        yamls: &'a [Option<Yaml>],
        exp_dirs: &BTreeMap<String, usize>,
    ) -> Tree<'a> {
        let n = files.len();
        let dir_of = |i: usize| comps[i][..comps[i].len().saturating_sub(1)].join("/");
        let map = |i: usize| yamls[i].as_ref().map(|y| &y.map);
        // Experiments by id and by folder.
        let mut exp_by_id: BTreeMap<String, usize> = BTreeMap::new();
        for &e in exp_dirs.values() {
            if let Some(id) = map(e).and_then(|m| text_or_num(m, "experiment_id")) {
                exp_by_id.entry(id).or_insert(e);
            }
        }
        let mut exp_tags: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
        for i in 0..n {
            if let Role::ExperimentTag { exp } = &roles[i]
                && let Ok(v) = value_of(files[i].bytes)
            {
                let key = comps[i]
                    .iter()
                    .skip_while(|c| **c != "tags")
                    .skip(1)
                    .copied()
                    .collect::<Vec<_>>()
                    .join("/");
                exp_tags.entry(*exp).or_default().insert(key, v);
            }
        }
        // Datasets by id (their folder name), for run inputs.
        let mut dataset_by_id: BTreeMap<(String, String), usize> = BTreeMap::new();
        for i in 0..n {
            if matches!(roles[i], Role::Dataset) {
                let c = &comps[i];
                let exp_dir = c[..c.len().saturating_sub(3)].join("/");
                let id = c.get(c.len().saturating_sub(2)).copied().unwrap_or("");
                dataset_by_id.insert((exp_dir, id.to_string()), i);
            }
        }

        let mut runs: BTreeMap<usize, Result<RunIn, Reject>> = BTreeMap::new();
        let mut experiments_with_runs = BTreeSet::new();
        for i in 0..n {
            if !matches!(roles[i], Role::RunMeta) {
                continue;
            }
            let Some(mm) = map(i) else { continue };
            let run_dir = dir_of(i);
            let exp_dir = run_dir
                .rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default();
            let exp = exp_dirs.get(&exp_dir).copied().or_else(|| {
                text_or_num(mm, "experiment_id").and_then(|id| exp_by_id.get(&id).copied())
            });
            if let Some(e) = exp {
                experiments_with_runs.insert(e);
            }
            runs.insert(
                i,
                run_in(mm, exp.and_then(map), exp.and_then(|e| exp_tags.get(&e))),
            );
        }
        // Params, metrics, tags and inputs into their runs.
        let mut bad_parts = BTreeMap::new();
        let mut dataset_runs: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..n {
            let bytes = files[i].bytes;
            match &roles[i] {
                Role::Param { run, key } | Role::Tag { run, key } => {
                    let is_param = matches!(roles[i], Role::Param { .. });
                    match value_of(bytes) {
                        Ok(v) => {
                            if let Some(Ok(r)) = runs.get_mut(run) {
                                let key = adapter::strip_credentials(key).into_owned();
                                if is_param {
                                    r.params.insert(key, v);
                                } else {
                                    r.tags.insert(key, v);
                                }
                            }
                        }
                        Err(e) => {
                            bad_parts.insert(i, (1, 0, bytes.len() as u64, e));
                        }
                    }
                }
                Role::Metric { run, key } => match metric_points(bytes) {
                    Ok(points) => {
                        if let Some(Ok(r)) = runs.get_mut(run) {
                            r.metrics.insert(key.clone(), points);
                        }
                    }
                    Err(bad) => {
                        bad_parts.insert(i, bad);
                    }
                },
                Role::RunInput { run } => {
                    let Some(im) = map(i) else { continue };
                    let source_id = text(im, "source_id").unwrap_or("").to_string();
                    let run_dir = dir_of(*run);
                    let exp_dir = run_dir
                        .rsplit_once('/')
                        .map(|(d, _)| d.to_string())
                        .unwrap_or_default();
                    let context = im
                        .get("tags")
                        .and_then(Value::as_object)
                        .and_then(|t| text(t, "mlflow.data.context"))
                        .map(str::to_string);
                    let found = dataset_by_id.get(&(exp_dir, source_id.clone())).copied();
                    let Some(Ok(r)) = runs.get_mut(run) else {
                        continue;
                    };
                    match found.and_then(|d| map(d).map(|dm| (d, dm))) {
                        Some((d, dm)) => {
                            if let Some(mut ds) =
                                m::dataset_entry(Value::Object(dm.clone()), "inputs")
                            {
                                ds.context = context;
                                // Registered from its own meta.yaml: the run only names it.
                                r.inputs.push(ds);
                                dataset_runs.entry(d).or_default().push(*run);
                            }
                        }
                        None => r.other_inputs.push(format!("mlflow-dataset-{source_id}")),
                    }
                }
                _ => {}
            }
        }
        for v in dataset_runs.values_mut() {
            v.sort_unstable();
            v.dedup();
        }

        // The registry: registered models, their tags, versions, version tags, aliases.
        let mut model_tags: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
        let mut version_tags: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
        let mut aliases: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
        for i in 0..n {
            let key_after = |folder: &str| {
                comps[i]
                    .iter()
                    .rev()
                    .take_while(|c| **c != folder)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .copied()
                    .collect::<Vec<_>>()
                    .join("/")
            };
            match &roles[i] {
                Role::ModelTag { model } => {
                    if let Ok(v) = value_of(files[i].bytes) {
                        model_tags
                            .entry(*model)
                            .or_default()
                            .insert(key_after("tags"), v);
                    }
                }
                Role::VersionTag { version } => {
                    if let Ok(v) = value_of(files[i].bytes) {
                        version_tags
                            .entry(*version)
                            .or_default()
                            .insert(key_after("tags"), v);
                    }
                }
                Role::Alias { model, alias } => {
                    if let Ok(v) = value_of(files[i].bytes) {
                        aliases
                            .entry((*model, v.trim().to_string()))
                            .or_default()
                            .push(alias.clone());
                    }
                }
                _ => {}
            }
        }
        let model_dir_index: BTreeMap<String, usize> = (0..n)
            .filter(|&i| matches!(roles[i], Role::ModelMeta))
            .map(|i| (dir_of(i), i))
            .collect();
        let mut versions = BTreeMap::new();
        let mut models_with_versions = BTreeSet::new();
        for i in 0..n {
            if !matches!(roles[i], Role::VersionMeta) {
                continue;
            }
            let Some(vm) = map(i) else { continue };
            let model_dir = dir_of(i)
                .rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default();
            let model = model_dir_index.get(&model_dir).copied();
            if let Some(mm) = model {
                models_with_versions.insert(mm);
            }
            let v = version_in(
                vm,
                model.and_then(map),
                model.and_then(|mm| model_tags.get(&mm)),
                version_tags.get(&i),
                |ver| {
                    model
                        .and_then(|mm| aliases.get(&(mm, ver.to_string())))
                        .cloned()
                        .unwrap_or_default()
                },
            );
            versions.insert(i, v);
        }

        // MLmodel files: their registered_model_meta, their logged model, the versions they are.
        let mut rmm_of = BTreeMap::new();
        let mut rmm_names = BTreeMap::new();
        let mut logged_mlmodel = BTreeMap::new();
        let mlmodels: Vec<usize> = (0..n)
            .filter(|&i| matches!(roles[i], Role::MlModel { .. }) && yamls[i].is_some())
            .collect();
        let by_dir: BTreeMap<String, usize> = mlmodels.iter().map(|&i| (dir_of(i), i)).collect();
        for i in 0..n {
            if matches!(roles[i], Role::RegisteredModelMeta)
                && let Some(&ml) = by_dir.get(&dir_of(i))
            {
                rmm_of.insert(i, ml);
                if let Some(rm) = map(i)
                    && let (Some(name), Some(ver)) =
                        (text(rm, "model_name"), text_or_num(rm, "model_version"))
                {
                    rmm_names.insert(ml, (name.to_string(), ver));
                }
            }
            if matches!(roles[i], Role::LoggedModelMeta) {
                let d = dir_of(i);
                if let Some(&ml) = mlmodels
                    .iter()
                    .find(|&&ml| dir_of(ml).starts_with(&format!("{d}/artifacts")))
                {
                    logged_mlmodel.insert(i, ml);
                }
            }
        }
        let mut mlmodel_versions: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &ml in &mlmodels {
            let Some(mlm) = map(ml) else { continue };
            let (run_id, artifact_path) = mlmodel_identity(roles, &runs, ml, mlm);
            let model_id = text(mlm, "model_id");
            let mut hits: Vec<usize> = versions
                .iter()
                .filter_map(|(&vi, v)| {
                    let v = v.as_ref().ok()?;
                    let by_meta = rmm_names
                        .get(&ml)
                        .is_some_and(|(n, ver)| *n == v.name && *ver == v.version);
                    let src = v.source.as_deref().unwrap_or("").trim_end_matches('/');
                    let by_source = run_id.as_deref().is_some_and(|r| {
                        v.run_id.as_deref() == Some(r)
                            && (src.ends_with(&format!("/artifacts/{artifact_path}"))
                                || src == format!("runs:/{r}/{artifact_path}"))
                    }) || model_id.is_some_and(|id| src == format!("models:/{id}"));
                    (by_meta || by_source).then_some(vi)
                })
                .collect();
            hits.sort_unstable();
            if !hits.is_empty() {
                mlmodel_versions.insert(ml, hits);
            }
        }
        let runs_ok = runs
            .iter()
            .filter(
                |(_, r)| matches!(r, Ok(run) if m::run_event(run, "x", ACTOR, Value::Null).is_ok()),
            )
            .map(|(&i, _)| i)
            .collect();
        Tree {
            files,
            roles,
            yamls,
            runs,
            runs_ok,
            bad_parts,
            experiments_with_runs,
            dataset_runs,
            versions,
            models_with_versions,
            mlmodel_versions,
            rmm_of,
            rmm_names,
            logged_mlmodel,
        }
    }

    fn map(&self, i: usize) -> Option<&Map<String, Value>> {
        self.yamls.get(i)?.as_ref().map(|y| &y.map)
    }

    fn whole(&self, em: &Emit, i: usize) -> Origin {
        em.origin(1, 0, self.files[i].bytes.len() as u64)
    }

    fn hash(&self, i: usize) -> String {
        m::short_hash(self.files[i].bytes)
    }

    fn oattr(&self, i: usize) -> Value {
        m::origin_attr("", self.files[i].bytes)
    }

    /// Whether the run of `run` (its meta.yaml index) becomes an event.
    fn run_ok(&self, run: usize) -> bool {
        self.runs_ok.contains(&run)
    }

    fn run_id(&self, run: usize) -> String {
        match self.runs.get(&run) {
            Some(Ok(r)) => r.run_id.clone(),
            _ => self.files[run].path.to_string(),
        }
    }

    /// Folds a part of a run into it, or quarantines it when the run is not an event.
    fn part_of_run(&self, em: &mut Emit, i: usize, run: usize) {
        if let Some((line, offset, len, r)) = self.bad_parts.get(&i) {
            return em.reject(em.origin(*line, *offset, *len), r.clone());
        }
        if self.run_ok(run) {
            em.fold();
        } else {
            em.reject(
                self.whole(em, i),
                reject(format!(
                    "part of run `{}`, which is quarantined (see its meta.yaml)",
                    self.run_id(run)
                )),
            );
        }
    }

    fn emit(&self, em: &mut Emit, i: usize) {
        let origin = self.whole(em, i);
        match &self.roles[i] {
            Role::Skip => {}
            Role::Bad(r) => em.reject(origin, r.clone()),
            Role::ExperimentMeta | Role::ExperimentTag { .. } => {
                let exp = match &self.roles[i] {
                    Role::ExperimentTag { exp } => *exp,
                    _ => i,
                };
                if self.experiments_with_runs.contains(&exp) {
                    em.fold();
                }
            }
            Role::RunMeta => self.emit_run(em, i),
            Role::Param { run, .. } | Role::Metric { run, .. } | Role::RunInput { run } => {
                self.part_of_run(em, i, *run)
            }
            Role::Tag { run, key } => {
                self.part_of_run(em, i, *run);
                if key == "mlflow.datasets" && !self.bad_parts.contains_key(&i) {
                    self.emit_tag_datasets(em, i, *run);
                }
            }
            Role::Dataset => self.emit_dataset(em, i),
            Role::MlModel { .. } => self.emit_mlmodel(em, i),
            Role::RegisteredModelMeta => match self.rmm_of.get(&i) {
                Some(_) => em.fold(),
                None => em.reject(
                    origin,
                    reject("registered_model_meta without an MLmodel in the same folder: it names a version of no logged model"),
                ),
            },
            Role::ModelMeta | Role::ModelTag { .. } => {
                let model = match &self.roles[i] {
                    Role::ModelTag { model } => *model,
                    _ => i,
                };
                if self.models_with_versions.contains(&model) {
                    em.fold();
                }
            }
            Role::VersionMeta => self.emit_version(em, i),
            Role::VersionTag { version } => match self.versions.get(version) {
                Some(Ok(_)) => em.fold(),
                _ => em.reject(
                    origin,
                    reject("a tag of a model version that is quarantined (see its meta.yaml)"),
                ),
            },
            Role::Alias { model, alias } => self.emit_alias(em, i, *model, alias),
            Role::LoggedModelMeta => match self.logged_mlmodel.get(&i) {
                Some(_) => em.fold(),
                None => em.reject(
                    origin,
                    reject("an MLflow 3 logged model without its artifacts/MLmodel: nothing says what was logged"),
                ),
            },
            Role::LoggedModelPart { logged } => match self.logged_mlmodel.get(logged) {
                Some(_) => em.fold(),
                None => em.reject(
                    origin,
                    reject("part of an MLflow 3 logged model without its artifacts/MLmodel"),
                ),
            },
        }
    }

    fn emit_run(&self, em: &mut Emit, i: usize) {
        let origin = self.whole(em, i);
        match self.runs.get(&i) {
            Some(Ok(run)) => {
                let id = format!("mlflow:run:{}:{}", run.run_id, self.hash(i));
                match m::run_event(run, &id, ACTOR, self.oattr(i)) {
                    Ok(e) => em.event(&e, origin),
                    Err(r) => em.reject(origin, r),
                }
            }
            Some(Err(r)) => em.reject(origin, r.clone()),
            None => em.reject(origin, reject("run meta.yaml could not be read")),
        }
    }

    /// The datasets with a digest in a run's `mlflow.datasets` tag: one record each.
    fn emit_tag_datasets(&self, em: &mut Emit, i: usize, run: usize) {
        let Some(Ok(r)) = self.runs.get(&run) else {
            return;
        };
        let (datasets, _) = m::tag_datasets(&r.tags);
        let ok = self.run_ok(run);
        for d in datasets.iter().filter(|d| d.digest.is_some()) {
            let origin = self.whole(em, i);
            if !ok {
                em.reject(
                    origin,
                    reject(format!(
                        "dataset `{}`: its run `{}` is quarantined",
                        d.node_id(),
                        r.run_id
                    )),
                );
                continue;
            }
            let id = format!(
                "mlflow:dataset:{}:{}:{}",
                d.node_id(),
                r.run_id,
                self.hash(i)
            );
            match m::dataset_event(d, r, &id, ACTOR, self.oattr(i)) {
                Ok(e) => em.event(&e, origin),
                Err(rj) => em.reject(origin, rj),
            }
        }
    }

    fn emit_dataset(&self, em: &mut Emit, i: usize) {
        let origin = self.whole(em, i);
        let Some(dm) = self.map(i) else {
            return em.reject(origin, reject("dataset meta.yaml could not be read"));
        };
        let Some(d) = m::dataset_entry(Value::Object(dm.clone()), "datasets") else {
            return em.reject(origin, reject("dataset without `name`"));
        };
        if d.digest.is_none() {
            return em.reject(
                origin,
                reject(format!(
                    "dataset `{}` has no `digest`: its version cannot be named",
                    d.name
                )),
            );
        }
        // Dated by the earliest run that read it.
        let first = self
            .dataset_runs
            .get(&i)
            .into_iter()
            .flatten()
            .filter_map(|r| match self.runs.get(r) {
                Some(Ok(run)) => Some(run),
                _ => None,
            })
            .filter(|run| run.start.or(run.end).is_some())
            .min_by_key(|run| (run.start.or(run.end), run.run_id.clone()));
        let Some(run) = first else {
            return em.reject(
                origin,
                reject(format!(
                    "dataset `{}` is not an input of any run in this tree: MLflow records no time for a dataset, and no run dates it",
                    d.node_id()
                )),
            );
        };
        let id = format!("mlflow:dataset:{}:{}", d.node_id(), self.hash(i));
        match m::dataset_event(&d, run, &id, ACTOR, self.oattr(i)) {
            Ok(e) => em.event(&e, origin),
            Err(r) => em.reject(origin, r),
        }
    }

    fn logged_model_attrs(&self, ml: usize) -> Option<Map<String, Value>> {
        let mlm = self.map(ml)?;
        let mut lm = mlm.clone();
        // Signatures are JSON inside strings.
        if let Some(Value::Object(sig)) = lm.get_mut("signature") {
            for v in sig.values_mut() {
                if let Value::String(s) = v
                    && let Ok(parsed) = serde_json::from_str::<Value>(s)
                {
                    *v = parsed;
                }
            }
        }
        if let Some(t) = mlm
            .get("utc_time_created")
            .and_then(|v| adapter::parse_time(v, Zoneless::Utc).ok())
        {
            lm.insert("created_ts".into(), Value::String(crate::time::fmt(t)));
        }
        lm.insert(
            "path".into(),
            Value::String(self.files[ml].path.to_string()),
        );
        let mut out = Map::new();
        if let Some(inputs) = lm
            .get("signature")
            .and_then(|s| s.get("inputs"))
            .filter(|v| !v.is_null())
        {
            out.insert("input_spec".into(), inputs.clone());
        }
        if let Some(pv) = mlm
            .get("flavors")
            .and_then(|f| f.get("python_function"))
            .and_then(|p| p.get("python_version"))
            .and_then(Value::as_str)
        {
            out.insert(
                "runtime".into(),
                serde_json::json!({"language": "python", "version": pv}),
            );
        }
        // Parts of an MLflow 3 logged model folder.
        if let Some((&meta, _)) = self.logged_mlmodel.iter().find(|(_, m)| **m == ml)
            && let Some(meta_map) = self.map(meta)
        {
            lm.insert("logged_model_meta".into(), Value::Object(meta_map.clone()));
        }
        for (k, v) in out {
            lm.insert(k, v);
        }
        Some(lm)
    }

    fn emit_mlmodel(&self, em: &mut Emit, i: usize) {
        let origin = self.whole(em, i);
        if self.mlmodel_versions.contains_key(&i) {
            return em.fold();
        }
        let Some(mlm) = self.map(i) else {
            return em.reject(origin, reject("MLmodel could not be read"));
        };
        let (run_id, artifact_path) = mlmodel_identity(self.roles, &self.runs, i, mlm);
        let model_id = text(mlm, "model_id");
        let run = match &self.roles[i] {
            Role::MlModel { run: Some(r), .. } => match self.runs.get(r) {
                Some(Ok(run)) => Some(run),
                _ => None,
            },
            _ => None,
        }
        .or_else(|| {
            self.runs.values().find_map(|r| match r {
                Ok(run) if Some(&run.run_id) == run_id.as_ref() => Some(run),
                _ => None,
            })
        });
        let (model, version) = match (self.rmm_names.get(&i), model_id, &run_id) {
            (Some((n, v)), _, _) => (n.clone(), v.clone()),
            (None, Some(id), _) => (
                format!("models:/{id}"),
                text(mlm, "model_uuid").unwrap_or(id).to_string(),
            ),
            (None, None, Some(r)) => {
                let model = if artifact_path.is_empty() {
                    format!("runs:/{r}")
                } else {
                    format!("runs:/{r}/{artifact_path}")
                };
                let version = text(mlm, "model_uuid")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("sha256-{}", self.hash(i)));
                (model, version)
            }
            (None, None, None) => {
                return em.reject(
                    origin,
                    reject("MLmodel without `run_id`, outside a run folder: it cannot be tied to the run that logged it"),
                );
            }
        };
        let Some(created) = mlm.get("utc_time_created") else {
            return em.reject(
                origin,
                reject(format!(
                    "logged model `{model}@{version}` has no `utc_time_created`: no time to date it by"
                )),
            );
        };
        let ts = match adapter::parse_time(created, Zoneless::Utc) {
            Ok(t) => crate::time::fmt(t),
            Err(e) => return em.reject(origin, reject(format!("`utc_time_created`: {e}"))),
        };
        let Some(lm) = self.logged_model_attrs(i) else {
            return em.reject(origin, reject("MLmodel could not be read"));
        };
        let mut attrs = Map::new();
        attrs.insert("model".into(), Value::String(model.clone()));
        attrs.insert("version".into(), Value::String(version.clone()));
        if let Some(r) = &run_id {
            attrs.insert("training_run".into(), Value::String(r.clone()));
        }
        if let Some(c) = run.and_then(|r| m::run_commit(&r.tags)) {
            attrs.insert("code_commit".into(), Value::String(c.to_string()));
        }
        for k in ["input_spec", "runtime"] {
            if let Some(v) = lm.get(k) {
                attrs.insert(k.into(), v.clone());
            }
        }
        attrs.insert("artifact_path".into(), Value::String(artifact_path));
        attrs.insert("logged_model".into(), Value::Object(lm));
        attrs.insert("origin".into(), self.oattr(i));
        let user = run.and_then(|r| {
            r.user_id
                .as_deref()
                .filter(|u| !u.trim().is_empty())
                .or_else(|| r.tags.get("mlflow.user").map(String::as_str))
        });
        let canonical = serde_json::json!({
            "id": format!("mlflow:{model}@{version}:logged:{}", self.hash(i)),
            "ts": ts,
            "kind": "model.registered",
            "actor": m::actor(user, ACTOR),
            "subject": {"type": "model_version", "id": format!("{model}@{version}")},
            "attrs": attrs,
        });
        em.event(&canonical, origin);
    }

    fn emit_version(&self, em: &mut Emit, i: usize) {
        let origin = self.whole(em, i);
        let v = match self.versions.get(&i) {
            Some(Ok(v)) => v,
            Some(Err(r)) => return em.reject(origin, r.clone()),
            None => return em.reject(origin, reject("model version meta.yaml could not be read")),
        };
        let run = self.runs.values().find_map(|r| match r {
            Ok(run) if Some(&run.run_id) == v.run_id.as_ref() => Some(run),
            _ => None,
        });
        let logged = self
            .mlmodel_versions
            .iter()
            .filter(|(_, vs)| vs.contains(&i))
            .map(|(&ml, _)| ml)
            .min()
            .and_then(|ml| self.logged_model_attrs(ml));
        let joined = Joined {
            code_commit: run.and_then(|r| m::run_commit(&r.tags)).map(str::to_string),
            code: run.and_then(|r| m::run_code(&r.tags)),
            logged_model: logged,
        };
        let key = format!("{}@{}", v.name, v.version);
        let h = self.hash(i);
        let id = format!("mlflow:{key}:registered:{h}");
        let ok = match m::registered_event(v, &joined, &id, ACTOR, self.oattr(i)) {
            Ok(e) => {
                em.event(&e, origin);
                true
            }
            Err(r) => {
                em.reject(origin, r);
                false
            }
        };
        let (line, offset, len) = yaml_key_line(self.files[i].bytes, "current_stage").unwrap_or((
            1,
            0,
            self.files[i].bytes.len() as u64,
        ));
        let sorigin = em.origin(line, offset, len);
        let bytes = self.files[i]
            .bytes
            .get(offset as usize..(offset + len) as usize)
            .unwrap_or_default();
        let sattr = m::origin_attr("", bytes);
        if let Some(e) = m::stage_event(v, &format!("mlflow:{key}:stage:{h}"), ACTOR, sattr) {
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
    }

    fn emit_alias(&self, em: &mut Emit, i: usize, model: usize, alias: &str) {
        let origin = self.whole(em, i);
        let version = match value_of(self.files[i].bytes) {
            Ok(v) => v.trim().to_string(),
            Err(r) => return em.reject(origin, r),
        };
        let Some(name) = self.map(model).and_then(|mm| text(mm, "name")) else {
            return em.reject(origin, reject("alias of a registered model without `name`"));
        };
        if version.is_empty() {
            return em.reject(origin, reject(format!("alias `{alias}` names no version")));
        }
        let target = self.versions.values().find_map(|v| match v {
            Ok(v) if v.name == name && v.version == version => Some(v),
            _ => None,
        });
        let id = format!("mlflow:{name}@{version}:alias:{alias}:{}", self.hash(i));
        match m::alias_event(
            name,
            &version,
            alias,
            target.and_then(|v| v.last_updated.or(v.creation)),
            target.and_then(|v| v.user_id.as_deref()),
            &id,
            ACTOR,
            self.oattr(i),
        ) {
            Ok(e) => em.event(&e, origin),
            Err(r) => em.reject(origin, r),
        }
    }
}

/// The run id and artifact path of an MLmodel: its own `run_id` and `artifact_path`, else the
/// run folder it lies in and its folder under `artifacts/`.
fn mlmodel_identity(
    roles: &[Role],
    runs: &BTreeMap<usize, Result<RunIn, Reject>>,
    ml: usize,
    mlm: &Map<String, Value>,
) -> (Option<String>, String) {
    let (run_dir, path) = match &roles[ml] {
        Role::MlModel { run, artifact_path } => (*run, artifact_path.clone()),
        _ => (None, String::new()),
    };
    let run_id = text(mlm, "run_id").map(str::to_string).or_else(|| {
        run_dir.and_then(|r| match runs.get(&r) {
            Some(Ok(run)) => Some(run.run_id.clone()),
            _ => None,
        })
    });
    let artifact_path = text(mlm, "artifact_path").map_or(path, str::to_string);
    (run_id, artifact_path)
}

/// A run from its meta.yaml (params, metrics, tags and inputs are added from their files).
fn run_in(
    mm: &Map<String, Value>,
    exp: Option<&Map<String, Value>>,
    exp_tags: Option<&BTreeMap<String, String>>,
) -> Result<RunIn, Reject> {
    let run_id = text(mm, "run_id")
        .or_else(|| text(mm, "run_uuid"))
        .ok_or_else(|| reject("run meta.yaml without `run_id`"))?
        .to_string();
    let status = match mm.get("status") {
        // `RunStatus` as stored by the file store.
        Some(Value::Number(n)) => Some(
            match n.as_i64() {
                Some(1) => "RUNNING",
                Some(2) => "SCHEDULED",
                Some(3) => "FINISHED",
                Some(4) => "FAILED",
                Some(5) => "KILLED",
                _ => {
                    return Err(reject(format!(
                        "run `{run_id}` has the unknown status code {n} (1 RUNNING, 2 SCHEDULED, 3 FINISHED, 4 FAILED, 5 KILLED)"
                    )));
                }
            }
            .to_string(),
        ),
        Some(Value::String(s)) => Some(s.clone()),
        // No status: MLflow reads it as RUNNING.
        _ => Some("RUNNING".to_string()),
    };
    let known = [
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
    ];
    let extra = super::mapped::unmapped(mm, &known);
    let experiment = exp.map(|e| {
        let mut x = Map::new();
        if let Some(id) = text_or_num(e, "experiment_id") {
            x.insert("id".into(), Value::String(id));
        }
        for k in ["name", "artifact_location", "lifecycle_stage"] {
            if let Some(v) = text(e, k) {
                x.insert(k.into(), Value::String(v.to_string()));
            }
        }
        if let Some(t) = ms_of(e.get("creation_time")).and_then(|t| ms_time(t).ok()) {
            x.insert("creation_ts".into(), Value::String(t));
        }
        if let Some(tags) = exp_tags.filter(|t| !t.is_empty()) {
            x.insert("tags".into(), serde_json::json!(tags));
        }
        x
    });
    Ok(RunIn {
        run_id,
        experiment_id: text_or_num(mm, "experiment_id"),
        status,
        start: ms_of(mm.get("start_time")),
        end: ms_of(mm.get("end_time")),
        user_id: text(mm, "user_id").map(str::to_string),
        run_name: text(mm, "run_name").map(str::to_string),
        artifact_uri: text(mm, "artifact_uri").map(str::to_string),
        lifecycle_stage: text(mm, "lifecycle_stage").map(str::to_string),
        experiment,
        extra,
        ..RunIn::default()
    })
}

fn version_in(
    vm: &Map<String, Value>,
    model: Option<&Map<String, Value>>,
    model_tags: Option<&BTreeMap<String, String>>,
    tags: Option<&BTreeMap<String, String>>,
    aliases_of: impl Fn(&str) -> Vec<String>,
) -> Result<VersionIn, Reject> {
    let name = text(vm, "name")
        .or_else(|| model.and_then(|mm| text(mm, "name")))
        .ok_or_else(|| reject("model version meta.yaml without `name`"))?
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
    ];
    let extra = super::mapped::unmapped(vm, &known);
    let mut rm = Map::new();
    if let Some(mm) = model {
        for (k, v) in mm {
            match k.as_str() {
                "creation_timestamp" | "last_updated_timestamp" => {
                    if let Some(t) = ms_of(Some(v)).and_then(|t| ms_time(t).ok()) {
                        rm.insert(k.replace("_timestamp", "_ts"), Value::String(t));
                    }
                }
                _ => {
                    rm.insert(k.clone(), v.clone());
                }
            }
        }
    }
    if let Some(t) = model_tags.filter(|t| !t.is_empty()) {
        rm.insert("tags".into(), serde_json::json!(t));
    }
    let mut aliases = aliases_of(&version);
    aliases.sort();
    Ok(VersionIn {
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
        tags: tags.cloned().unwrap_or_default(),
        aliases,
        owner: model.and_then(|mm| text(mm, "user_id")).map(str::to_string),
        registered_model: rm,
        extra,
        name,
        version,
        experiment: None,
        export: None,
    })
}

#[cfg(test)]
mod tests;
