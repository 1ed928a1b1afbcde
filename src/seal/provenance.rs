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

pub fn statement(p: &Params<'_>) -> anyhow::Result<Vec<u8>> {
    let config = std::fs::read(p.config_path)
        .with_context(|| format!("cannot read config `{}`", p.config_path.display()))?;
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
