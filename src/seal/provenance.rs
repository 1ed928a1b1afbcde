//! `provenance.json` (`INTEGRITY.md` §3): an in-toto Statement v1 with an SLSA provenance v1
//! predicate. Subjects: the version's files (all but the manifest, its signature and this file).
//! Resolved dependencies: every input file with its SHA-256. External parameters: the config's
//! digest, the as-of time, the audience and the digests of overriding templates. Builder:
//! trailbook and its version. No build times and no invocation id: the statement must be the
//! same for the same inputs, so that rebuilds are byte-identical.

use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::ingest::Ingest;

pub const BUILD_TYPE: &str = "urn:trailbook:build-type:evidence-site:v1";
pub const BUILDER_ID: &str = "urn:trailbook:builder:cli";

/// What the statement says; `files` are the version's files as (path, SHA-256 hex), sorted.
pub struct Params<'a> {
    pub files: &'a [(String, String)],
    pub ingest: &'a Ingest,
    pub config_path: &'a Path,
    pub as_of: &'a str,
    pub audience: &'a str,
    pub templates: Option<&'a Path>,
}

/// The config as canonical JSON: what it says, not how it is written — comments, layout, key
/// order, and whether a source names its files by a glob or one by one, in whatever order, do not
/// change it (the site does not depend on them either): each source's `paths` is replaced by the
/// sorted list of files it resolved to.
fn canonical_config(path: &Path, ingest: &Ingest) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config `{}`", path.display()))?;
    let mut value: toml::Value = toml::from_str(&text)
        .with_context(|| format!("config `{}` is not TOML", path.display()))?;
    if let Some(toml::Value::Array(sources)) = value.get_mut("source") {
        for source in sources {
            let name = source.get("name").and_then(toml::Value::as_str);
            let Some(report) = ingest
                .sources
                .iter()
                .find(|s| Some(s.name.as_str()) == name)
            else {
                continue;
            };
            let mut files: Vec<String> = report
                .files
                .iter()
                .map(|&i| ingest.files[i as usize].path.clone())
                .collect();
            files.sort();
            if let Some(table) = source.as_table_mut() {
                table.insert(
                    "paths".into(),
                    toml::Value::Array(files.into_iter().map(toml::Value::String).collect()),
                );
            }
        }
    }
    let json: Value = serde_json::to_value(&value).context("cannot encode the config")?;
    serde_json::to_vec(&json).context("cannot encode the config")
}

pub fn statement(p: &Params<'_>) -> anyhow::Result<Vec<u8>> {
    let config = canonical_config(p.config_path, p.ingest)?;
    let mut templates = Vec::new();
    if let Some(dir) = p.templates {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read templates folder `{}`", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".html"))
            .collect();
        names.sort();
        for name in names {
            let bytes = std::fs::read(dir.join(&name))
                .with_context(|| format!("cannot read template `{name}`"))?;
            templates.push(
                json!({"name": name, "digest": {"sha256": hex::encode(Sha256::digest(&bytes))}}),
            );
        }
    }
    let dependencies: Vec<Value> = p
        .ingest
        .sources
        .iter()
        .flat_map(|s| {
            s.files.iter().map(move |&i| {
                let f = &p.ingest.files[i as usize];
                json!({
                    "uri": format!("file:{}", f.path),
                    "name": format!("{}/{}", s.name, f.path),
                    "digest": {"sha256": f.sha256},
                    "annotations": {"source": s.name, "format": s.format, "bytes": f.bytes, "records": f.lines},
                })
            })
        })
        .collect();
    let mut external = json!({
        "config": {
            "uri": format!("file:{}", p.config_path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())),
            "digest": {"sha256": hex::encode(Sha256::digest(&config))},
            "canonicalization": "JSON of the parsed TOML, keys sorted, each [[source]]'s paths replaced by the sorted files they resolved to",
        },
        "as_of": p.as_of,
        "audience": p.audience,
    });
    if !templates.is_empty() {
        external["templates"] = Value::Array(templates);
    }
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": p.files.iter().map(|(name, sha)| json!({"name": name, "digest": {"sha256": sha}})).collect::<Vec<_>>(),
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": external,
                "internalParameters": {},
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {
                    "id": BUILDER_ID,
                    "version": {"trailbook": env!("CARGO_PKG_VERSION")},
                },
                "metadata": {},
            },
        },
    });
    let mut text = serde_json::to_string_pretty(&statement).context("cannot encode provenance")?;
    text.push('\n');
    Ok(text.into_bytes())
}
