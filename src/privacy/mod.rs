//! Stage `privacy` (between `checks` and `render`): one redacted view per audience
//! (`SITE.md`, "Audiences").
//!
//! Input: the loaded stages, the findings, the config's `[privacy]` and `[[audience]]`. Output:
//! the audiences a build writes ([`plan`]: name, site root, profile, drill-down, `k`), and for
//! each a [`View`] — events, model, graph, ingest report and findings with the audience's profile
//! applied — which the renderer takes as its input. Redaction happens here, before any page, JSON
//! file, SVG or file name exists, so nothing the profile hides can reach one; what a page may show
//! beyond that (drill-down, small counts, original lines) is the [`crate::render::Exposure`] of
//! the audience.
//!
//! The default audiences, when the config has no `[[audience]]`: `internal` (everything),
//! `regulator` (the built-in `regulator` profile: people's identifiers and decision ids
//! pseudonymised, drill-down kept), `public` (the `public` profile: the same masked, no
//! drill-down, counts below 10 suppressed). Pseudonyms need a key: a default `regulator` without
//! `[privacy]` key is not built (a notice says why and how to enable it), while an audience the
//! config names, or `--audience NAME`, without its key is an error — never a fallback to an
//! unkeyed hash, which anyone could recompute from a guessed name.

mod findings;
pub mod key;
pub mod profile;
pub mod redact;
#[cfg(test)]
mod tests;
pub mod text;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::checks::Findings;
use crate::cli::Loaded;
use crate::config::Config;
use crate::graph::{self, LineageGraph};
use crate::ingest::Ingest;
use crate::model::Model;
pub use key::Key;
pub use profile::{Action, Detected, Profile};

/// What a masked value shows.
pub const MASK: &str = "[masked]";
/// What a dropped value shows where text quoted it (the field itself is removed).
pub const DROPPED: &str = "[dropped]";

/// Small counts are suppressed below this in audiences without drill-down, unless `k` says
/// otherwise.
pub const DEFAULT_K: u64 = 10;

/// The built-in audiences, in build order.
pub const DEFAULT_AUDIENCES: &[&str] = &["internal", "regulator", "public"];

/// One audience a build writes.
#[derive(Clone, Debug)]
pub struct Audience {
    pub name: String,
    /// Its site root.
    pub root: PathBuf,
    pub profile: Profile,
    pub drill_down: bool,
    /// Counts from 1 to `k - 1` are shown as "< k"; 0: every count is shown.
    pub k: u64,
}

impl Audience {
    /// Whether its view differs from the input (anything but an `internal` audience with an
    /// empty profile is redacted, if only PRV-01's matched values).
    pub fn redacts(&self) -> bool {
        self.name != "internal" || !self.profile.is_empty()
    }

    /// What pages may show beyond the redacted data.
    pub fn exposure(&self) -> crate::render::Exposure {
        crate::render::Exposure {
            drill_down: self.drill_down,
            k: self.k,
            original_lines: !self.redacts(),
            redactions: self.profile.describe(),
        }
    }
}

/// The audiences of a build and the pseudonym key they need.
#[derive(Debug)]
pub struct Plan {
    pub audiences: Vec<Audience>,
    /// Default audiences left out, each with the reason (printed by the build).
    pub notices: Vec<String>,
    pub key: Option<Key>,
}

/// The audiences of the config (or the defaults), with their site roots: an audience's `out`
/// (relative to the config file; default `site/NAME`), or with `--out DIR` that folder when one
/// audience is built and `DIR/NAME` when several are. `only` selects one by name.
pub fn plan(config: &Config, out: Option<&Path>, only: Option<&str>) -> anyhow::Result<Plan> {
    struct Entry {
        name: String,
        out: Option<String>,
        profile: String,
        drill_down: Option<bool>,
        k: Option<u64>,
        configured: bool,
    }
    let entries: Vec<Entry> = if config.audiences.is_empty() {
        DEFAULT_AUDIENCES
            .iter()
            .map(|n| Entry {
                name: n.to_string(),
                out: None,
                profile: n.to_string(),
                drill_down: None,
                k: None,
                configured: false,
            })
            .collect()
    } else {
        config
            .audiences
            .iter()
            .map(|a| Entry {
                name: a.name.clone(),
                out: a.out.clone(),
                profile: a.profile.clone().unwrap_or_else(|| a.name.clone()),
                drill_down: a.drill_down,
                k: a.k,
                configured: true,
            })
            .collect()
    };
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    if let Some(only) = only
        && !names.contains(&only)
    {
        bail!(
            "no audience `{only}`; the {} audiences are: {}",
            if config.audiences.is_empty() {
                "default"
            } else {
                "configured"
            },
            names.join(", ")
        );
    }
    let key = key::load(&config.privacy, &config.dir)?;
    let mut notices = Vec::new();
    let mut chosen = Vec::new();
    for e in entries {
        if only.is_some_and(|o| o != e.name) {
            continue;
        }
        let profile = Profile::resolve(config, &e.profile)?;
        if profile.needs_key() && key.is_none() {
            let why = format!(
                "audience `{}` pseudonymises identifiers (profile `{}`), which needs a pseudonym key: set `[privacy] key_env = \"VARIABLE\"` (or `key_file`) and `key_id`",
                e.name, e.profile
            );
            if e.configured || only.is_some() {
                bail!("{why}");
            }
            notices.push(format!("{why}; not built"));
            continue;
        }
        let drill_down = e.drill_down.unwrap_or(e.name != "public");
        chosen.push((e, profile, drill_down));
    }
    let one = chosen.len() == 1;
    let audiences = chosen
        .into_iter()
        .map(|(e, profile, drill_down)| {
            let root = match (out, &e.out) {
                (Some(dir), _) if one => dir.to_path_buf(),
                (Some(dir), _) => dir.join(&e.name),
                (None, Some(o)) => config.dir.join(o),
                (None, None) => config.dir.join("site").join(&e.name),
            };
            Audience {
                k: e.k.unwrap_or(if drill_down { 0 } else { DEFAULT_K }),
                name: e.name,
                root,
                profile,
                drill_down,
            }
        })
        .collect::<Vec<Audience>>();
    // Each root holds one audience's version chain and log: two audiences must not share one.
    for (i, a) in audiences.iter().enumerate() {
        if let Some(b) = audiences[..i].iter().find(|b| b.root == a.root) {
            bail!(
                "audiences `{}` and `{}` would write the same site root `{}`; give each its own `out`",
                b.name,
                a.name,
                a.root.display()
            );
        }
    }
    Ok(Plan {
        audiences,
        notices,
        key,
    })
}

/// The redacted stages of one audience, which the renderer reads instead of the loaded ones.
pub struct View {
    pub ingest: Ingest,
    pub model: Model,
    pub graph: LineageGraph,
    pub findings: Findings,
}

/// Builds the redacted view of `audience` (see the module documentation of `redact.rs`).
pub fn view(
    loaded: &Loaded,
    findings: &Findings,
    audience: &Audience,
    key: Option<&Key>,
) -> anyhow::Result<View> {
    let config = &loaded.config;
    let profile = &audience.profile;
    let detectors = crate::checks::privacy::detectors_for(config)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("`[policy.params.PRV-01]`")?;
    let skip = crate::checks::privacy::skip_fields_for(config)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("`[policy.params.PRV-01] skip_fields`")?;
    let mut timer = crate::cli::Timer::new();
    let ids = redact::entity_ids(&loaded.model, profile, key);
    timer.lap("ids");
    let mut scrub = text::Scrubber::new(&detectors, profile.detected, key);
    redact::hidden_values(&loaded.model.events, profile, key, &ids, &mut scrub);
    scrub.seal();
    timer.lap("hidden");
    let redactor = redact::Redactor {
        profile,
        key,
        ids: &ids,
        scrub: &scrub,
        skip: &skip,
    };
    let events = redact::events(&redactor, &loaded.model);
    timer.lap("events");
    let model = loaded
        .model
        .redacted(events, |n| ids.node(n), |t| scrub.scrub(t));
    let graph = graph::build(&model);
    let mut findings = findings::redact(findings, &ids, &scrub);
    if !audience.drill_down {
        findings::aggregate_only(&mut findings, audience.k);
    }
    Ok(View {
        ingest: redact::ingest(&loaded.ingest, &scrub),
        findings,
        model,
        graph,
    })
}
