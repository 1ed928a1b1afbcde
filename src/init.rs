//! `trailbook init [DIR]`: a commented config and a tiny chained log to start from.
//!
//! Never overwrites: if either file exists, nothing is written.

use std::path::Path;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

const CONFIG: &str = r#"# trailbook configuration. Paths are relative to this file.
# Reference: the README's "Configuration" section; `trailbook rules` lists the checks.

[report]
title = "My AI system — model evidence"
organization = "Example Org"
# as_of = "2026-06-30T00:00:00Z"   # default: SOURCE_DATE_EPOCH, else the latest event time

# One [[source]] per log stream. `format` = "trailbook-jsonl" (hash-chained JSON Lines).
[[source]]
name = "app"
format = "trailbook-jsonl"
paths = ["logs/*.jsonl"]          # files or globs
chain = "required"                # required | optional | none

[policy]
# `baseline` (LOG, LINK) always runs; add packs such as "sr11-7", "eu-ai-act-provider", "gdpr".
packs = ["baseline"]
# levels = { "LOG-01" = "info" }  # override a rule's level: deny | warn | info | off

# [policy.params.LOG-04]          # rule parameters; `trailbook explain LOG-04` lists them
# max_gap = "1 h"

# Audiences (README, "Privacy and audiences"): `trailbook build` writes site/internal and
# site/public; the `regulator` site (people's identifiers pseudonymised) needs a key:
# [privacy]
# key_env = "TRAILBOOK_PSEUDONYM_KEY"   # a secret of 16 bytes or more; never written anywhere
# key_id = "k2026"                      # shown in every pseudonym: hmac:k2026:…
"#;

/// The events of the starter log; `seq` and `prev` are added when it is written.
const EVENTS: &[&str] = &[
    r#""id":"sys-1","ts":"2026-01-05T09:00:00Z","kind":"system.registered","actor":{"id":"owner","type":"human","role":"product-owner"},"subject":{"type":"system","id":"my-system"},"attrs":{"name":"My AI system","intended_purpose":"Describe it here","role":"provider","risk":"limited"}"#,
    r#""id":"ds-1","ts":"2026-01-06T09:00:00Z","kind":"dataset.registered","actor":{"id":"data-eng","type":"human"},"system":"my-system","subject":{"type":"dataset","id":"training-data@2026-01"},"attrs":{"name":"training-data","version":"2026-01","digest":"sha256:6f1ed002ab5595859014ebf0951522d9fdf4f1a5a3b0d6a1c1b2e4e1e2b3c4d5","origin":{"source":"warehouse","acquired_ts":"2026-01-05T00:00:00Z","method":"export","legal_basis":"contract"}}"#,
    r#""id":"run-1","ts":"2026-01-07T09:00:00Z","kind":"run.completed","actor":{"id":"pipeline","type":"service"},"system":"my-system","subject":{"type":"run","id":"train-001"},"attrs":{"job":"train","status":"completed","inputs":["dataset:training-data@2026-01"],"outputs":["model_version:my-model@1.0.0"],"code":{"repo":"git@example.org:ml/my-model.git","commit":"3f2a9c1"}}"#,
    r#""id":"mv-1","ts":"2026-01-07T10:00:00Z","kind":"model.registered","actor":{"id":"registry","type":"service"},"system":"my-system","subject":{"type":"model_version","id":"my-model@1.0.0"},"attrs":{"model":"my-model","version":"1.0.0","owner":"ml-team","training_run":"train-001","datasets":[{"id":"training-data@2026-01","role":"train"}]}"#,
];

pub fn run(dir: &Path) -> anyhow::Result<()> {
    let config = dir.join("trailbook.toml");
    let log = dir.join("logs").join("app.jsonl");
    for p in [&config, &log] {
        if p.exists() {
            bail!(
                "`{}` already exists; `trailbook init` never overwrites (choose another folder)",
                p.display()
            );
        }
    }
    std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("cannot create `{}`", dir.join("logs").display()))?;
    std::fs::write(&config, CONFIG)
        .with_context(|| format!("cannot write `{}`", config.display()))?;
    std::fs::write(&log, chained(EVENTS))
        .with_context(|| format!("cannot write `{}`", log.display()))?;
    Ok(())
}

/// Chains event bodies (JSON object contents without braces) into JSONL.
fn chained(bodies: &[&str]) -> String {
    let mut out = String::new();
    let mut prev = "0".repeat(64);
    for (i, body) in bodies.iter().enumerate() {
        let line = format!("{{\"seq\":{},\"prev\":\"{prev}\",{body}}}", i + 1);
        prev = hex::encode(Sha256::digest(line.as_bytes()));
        out.push_str(&line);
        out.push('\n');
    }
    out
}
