//! Stage `render`: the checked model → the files of one site version (`SITE.md`).
//!
//! Input: the loaded stages ([`Input`]) and the version number. Output: [`Pages`], a map from a
//! version-relative path (`models/credit-risk/1.4.0.html`) to its bytes, byte-sorted by path.
//! Nothing here reads the clock, iterates a hash map into output, or depends on thread order:
//! the same inputs and as-of time give the same bytes.
//!
//! Pages are minijinja templates from `templates/` (compiled in, `--templates DIR` overrides single
//! files) over serialisable page data. HTML escaping is on for every `.html` template, so every
//! value taken from a log is inert text; SVG is built in Rust ([`svg`]) with its own escaping and
//! passed to templates as already-safe markup. Markdown from logs goes through [`markdown`], which
//! renders raw HTML as text and keeps only safe link targets.

pub mod links;
pub mod markdown;
pub mod pages;
pub mod publish;
pub mod svg;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::checks::Findings;
use crate::config::Config;
use crate::graph::LineageGraph;
use crate::ingest::Ingest;
use crate::model::Model;

pub use links::{file_slug, href};

/// Everything a site version is rendered from.
pub struct Input<'a> {
    pub config: &'a Config,
    pub ingest: &'a Ingest,
    pub model: &'a Model,
    pub graph: &'a LineageGraph,
    pub findings: &'a Findings,
    /// The enabled packs, in catalogue order.
    pub packs: &'a [String],
    /// What the audience may see beyond the (already redacted) data above.
    pub exposure: Exposure,
}

/// What an audience may see beyond its data, which `crate::privacy` has already redacted
/// (`SITE.md`, "Audiences").
#[derive(Clone, Debug)]
pub struct Exposure {
    /// Event-level drill-down: `events/`, the decision, access and request lists. Without it no
    /// event page is written and no page links to one.
    pub drill_down: bool,
    /// Counts of records from 1 to `k - 1` are shown as "< k"; 0: every count is shown.
    pub k: u64,
    /// Event pages may show input lines byte for byte; otherwise they show the redacted event.
    pub original_lines: bool,
    /// What the audience's profile redacts, one line each (the methodology page lists them).
    pub redactions: Vec<String>,
}

impl Exposure {
    /// Everything: the internal audience.
    pub fn internal() -> Exposure {
        Exposure {
            drill_down: true,
            k: 0,
            original_lines: true,
            redactions: Vec::new(),
        }
    }

    /// Whether a count of `n` records is too small to show.
    pub fn suppressed(&self, n: u64) -> bool {
        n > 0 && n < self.k
    }

    /// A count as pages show it: the number, or `< k` when it is suppressed.
    pub fn count(&self, n: u64) -> Count {
        if self.suppressed(n) {
            Count::Below(self.k)
        } else {
            Count::Shown(n)
        }
    }
}

/// A count of records, or the bound below which it is suppressed (`< k`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Shown(u64),
    Below(u64),
}

impl Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Shown(n) => s.serialize_u64(*n),
            Count::Below(k) => s.serialize_str(&format!("< {k}")),
        }
    }
}

/// What the previous version of the same site root said (for `diff.html` and first-seen
/// versions); read from its `findings.json` and `entities.json`.
#[derive(Debug, Default)]
pub struct Previous {
    pub version: u32,
    pub as_of: String,
    /// Finding id → (level, rule, subject, message, first-seen version).
    pub findings: BTreeMap<String, PrevFinding>,
    /// Entity node id → digest of its timeline (event ids), to tell added from changed.
    pub entities: BTreeMap<String, String>,
    /// SHA-256 of its `SHA256SUMS`, when that file could be read.
    pub sums_sha256: Option<String>,
}

#[derive(Clone, Debug, serde::Deserialize)]
pub struct PrevFinding {
    pub rule: String,
    pub level: String,
    pub subject: String,
    pub message: String,
    #[serde(default)]
    pub first_seen: Option<u32>,
}

/// The files of one version, path → bytes, byte-sorted by path.
#[derive(Default)]
pub struct Pages {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Pages {
    pub fn add(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        let path = path.into();
        debug_assert!(links::valid_path(&path), "bad site path {path}");
        self.files.insert(path, bytes);
    }
}

/// The largest page a build writes (`SITE.md`: no page over 2 MB); lists are paginated below it.
pub const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// Rows per page of any long list (events, decisions, findings); `SITE.md`: ≤ 1000 events a page.
pub const PAGE_ROWS: usize = 1000;

/// The render context of one version: the inputs, the template environment and what every page
/// carries in its header.
pub struct Cx<'a> {
    pub input: &'a Input<'a>,
    pub version: u32,
    pub audience: String,
    pub previous: Option<Previous>,
    /// The key that signs this version, when `[signing]` is configured.
    pub signing: Option<SigningInfo>,
    env: Environment<'static>,
}

/// What the integrity page says about the signature of a version.
#[derive(Clone, Debug, Serialize)]
pub struct SigningInfo {
    pub identity: String,
    pub namespace: String,
    pub checkpoint_namespace: String,
    /// `SHA256:…`
    pub fingerprint: String,
    /// The line for a regulator's `allowed_signers` file.
    pub allowed_signers: String,
    /// The `origin` line of `log/checkpoint`.
    pub origin: String,
}

/// What every page's header and footer show (`site` in templates).
#[derive(Serialize)]
struct SiteHeader<'a> {
    title: &'a str,
    report_title: &'a str,
    organization: &'a str,
    version: u32,
    as_of: String,
    audience: &'a str,
    /// Counts of records below this are suppressed (`|count(site.k)`); 0: none are.
    k: u64,
    base: String,
    path: &'a str,
    nav: Vec<Nav>,
    tool: &'static str,
}

/// One entry of the navigation bar.
#[derive(Serialize)]
struct Nav {
    href: &'static str,
    label: &'static str,
    current: bool,
}

const NAV: &[(&str, &str)] = &[
    ("index.html", "Overview"),
    ("findings.html", "Findings"),
    ("models/index.html", "Models"),
    ("datasets/index.html", "Datasets"),
    ("lineage.html", "Lineage"),
    ("deployments.html", "Deployments"),
    ("decisions.html", "Decisions"),
    ("monitoring.html", "Monitoring"),
    ("incidents/index.html", "Incidents"),
    ("access.html", "Access"),
    ("retention.html", "Retention"),
    ("sources.html", "Sources"),
    ("integrity.html", "Integrity"),
    ("methodology.html", "Methodology"),
    ("diff.html", "Changes"),
];

impl<'a> Cx<'a> {
    pub fn new(
        input: &'a Input<'a>,
        version: u32,
        audience: &str,
        previous: Option<Previous>,
        templates: Option<&Path>,
    ) -> anyhow::Result<Cx<'a>> {
        Ok(Cx {
            input,
            version,
            audience: audience.to_string(),
            previous,
            signing: None,
            env: environment(templates)?,
        })
    }

    pub fn model(&self) -> &'a Model {
        self.input.model
    }

    /// The as-of time as pages show it.
    pub fn as_of(&self) -> String {
        crate::time::fmt(self.input.model.as_of)
    }

    /// Renders `template` for the page at `path` (version-relative) with `page` as its data.
    /// Templates see `site` (header data, `site.base` = the prefix back to the version root) and
    /// `page`.
    pub fn render(
        &self,
        path: &str,
        template: &str,
        title: &str,
        page: impl Serialize,
    ) -> anyhow::Result<Vec<u8>> {
        let depth = path.matches('/').count();
        let base = "../".repeat(depth);
        let section = NAV
            .iter()
            .find(|(href, _)| {
                *href == path
                    || href
                        .strip_suffix("index.html")
                        .is_some_and(|dir| !dir.is_empty() && path.starts_with(dir))
            })
            .map(|(href, _)| *href);
        let nav: Vec<Nav> = NAV
            .iter()
            .map(|&(href, label)| Nav {
                href,
                label,
                current: Some(href) == section,
            })
            .collect();
        let report = &self.input.config.report;
        let site = SiteHeader {
            title,
            report_title: &report.title,
            organization: &report.organization,
            version: self.version,
            as_of: self.as_of(),
            audience: &self.audience,
            k: self.input.exposure.k,
            base,
            path,
            nav,
            tool: concat!("trailbook ", env!("CARGO_PKG_VERSION")),
        };
        let tmpl = self
            .env
            .get_template(template)
            .with_context(|| format!("no template `{template}`"))?;
        let html = tmpl
            .render(
                context! { site => Value::from(Serde(&site)), page => Value::from(Serde(&page)) },
            )
            .map_err(|e| anyhow::anyhow!("{e:#}"))
            .with_context(|| format!("cannot render `{path}` from template `{template}`"))?;
        Ok(html.into_bytes())
    }
}

/// Marks a string of markup built in Rust (SVG, Markdown output) as safe for templates.
pub fn safe(markup: String) -> Value {
    Value::from_safe_string(markup)
}

/// Escapes text for HTML and XML content and attribute values (SVG built in Rust).
pub fn esc(s: &str) -> String {
    escape(s, true)
}

/// Escapes text for HTML element content (not attribute values): `&`, `<`, `>`.
pub fn esc_text(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quotes => out.push_str("&quot;"),
            '\'' if quotes => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The built-in templates, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    (
        "overview.html",
        include_str!("../../templates/overview.html"),
    ),
    (
        "findings.html",
        include_str!("../../templates/findings.html"),
    ),
    ("pack.html", include_str!("../../templates/pack.html")),
    (
        "versions.html",
        include_str!("../../templates/versions.html"),
    ),
    ("models.html", include_str!("../../templates/models.html")),
    (
        "model_version.html",
        include_str!("../../templates/model_version.html"),
    ),
    (
        "datasets.html",
        include_str!("../../templates/datasets.html"),
    ),
    ("dataset.html", include_str!("../../templates/dataset.html")),
    ("lineage.html", include_str!("../../templates/lineage.html")),
    (
        "deployments.html",
        include_str!("../../templates/deployments.html"),
    ),
    (
        "decisions.html",
        include_str!("../../templates/decisions.html"),
    ),
    (
        "monitoring.html",
        include_str!("../../templates/monitoring.html"),
    ),
    (
        "incidents.html",
        include_str!("../../templates/incidents.html"),
    ),
    (
        "incident.html",
        include_str!("../../templates/incident.html"),
    ),
    ("access.html", include_str!("../../templates/access.html")),
    (
        "retention.html",
        include_str!("../../templates/retention.html"),
    ),
    ("sources.html", include_str!("../../templates/sources.html")),
    ("events.html", include_str!("../../templates/events.html")),
    (
        "integrity.html",
        include_str!("../../templates/integrity.html"),
    ),
    (
        "methodology.html",
        include_str!("../../templates/methodology.html"),
    ),
    ("diff.html", include_str!("../../templates/diff.html")),
];

/// The static assets every version carries (`site/`), by version-relative path.
pub const ASSETS: &[(&str, &[u8])] = &[
    ("assets/style.css", include_bytes!("../../site/style.css")),
    ("assets/filter.js", include_bytes!("../../site/filter.js")),
];

/// The template environment: the built-in templates, then any file of `dir` with the same name
/// (or a new name) in its place. Undefined values are errors, not silent blanks.
fn environment(dir: Option<&Path>) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| anyhow::anyhow!("{e:#}"))?,
    );
    let mut sources: BTreeMap<String, String> = TEMPLATES
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read templates folder `{}`", dir.display()))?;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".html") {
                continue;
            }
            let text = std::fs::read_to_string(entry.path())
                .with_context(|| format!("cannot read template `{}`", entry.path().display()))?;
            sources.insert(name, text);
        }
    }
    for (name, text) in sources {
        env.add_template_owned(name.clone(), text)
            .map_err(|e| anyhow::anyhow!("{e:#}"))
            .with_context(|| format!("template `{name}` does not parse"))?;
    }
    // HTML escaping of & < > " ' (as `esc` does for SVG); minijinja's default also turns `/`
    // into `&#x2f;`, which is safe but makes every link in the page source unreadable.
    env.set_formatter(|out, state, value| {
        if matches!(state.auto_escape(), minijinja::AutoEscape::Html)
            && !value.is_safe()
            && !value.is_undefined()
            && !value.is_none()
        {
            let text = value.to_string();
            return out.write_str(&esc(&text)).map_err(minijinja::Error::from);
        }
        minijinja::escape_formatter(out, state, value)
    });
    // Element content only (`<pre>` of original log lines): quotes need no escaping there, and
    // escaping them made event pages a quarter larger.
    env.add_filter("text", |s: String| Value::from_safe_string(esc_text(&s)));
    env.add_filter("num", |n: i64| crate::render::links::thousands(n));
    // A count of records about people (decisions, oversight, accesses, requests): shown as
    // `< k` from 1 to k - 1 in audiences that suppress small counts (`site.k`).
    env.add_filter("count", |n: i64, k: i64| {
        if k > 1 && n > 0 && n < k {
            format!("< {k}")
        } else {
            crate::render::links::thousands(n)
        }
    });
    Ok(env)
}

/// Renders every file of one version (pages, assets, findings.json, findings.sarif,
/// entities.json), in memory.
pub fn render(cx: &Cx<'_>) -> anyhow::Result<Pages> {
    let mut pages = Pages::default();
    for (path, bytes) in ASSETS {
        pages.add(*path, bytes.to_vec());
    }
    pages::all(cx, &mut pages)?;
    if !cx.input.exposure.drill_down {
        unlink_events(&mut pages);
    }
    for (path, bytes) in &pages.files {
        if path.ends_with(".html") && bytes.len() > MAX_PAGE_BYTES {
            anyhow::bail!(
                "page `{path}` is {} bytes, over the {MAX_PAGE_BYTES}-byte limit (a list is not paginated)",
                bytes.len()
            );
        }
    }
    Ok(pages)
}

/// Without drill-down there are no event pages: links to them become their text. Pages build
/// links from `links::event_href` in many places; removing them here, after rendering, is one
/// rule for all of them (and a test checks that no `events/` link is left).
fn unlink_events(pages: &mut Pages) {
    static LINK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"<a href="(?:\.\./)*events/[^"]*"[^>]*>((?s:.*?))</a>"#)
            .expect("static regex")
    });
    for (path, bytes) in pages.files.iter_mut() {
        if !path.ends_with(".html") {
            continue;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        if let std::borrow::Cow::Owned(t) = LINK.replace_all(text, "$1") {
            *bytes = t.into_bytes();
        }
    }
}

/// What [`write_site`] published.
pub struct Built {
    pub version: u32,
    /// The version folder.
    pub dir: std::path::PathBuf,
}

/// Renders the next version of the site at `root` and publishes it: `vN/` (staged, then renamed
/// into place), then the root `index.html` and `versions.json`. Earlier versions are read (for
/// the diff) and never written.
pub fn write_site(
    input: &Input<'_>,
    root: &Path,
    audience: &str,
    templates: Option<&Path>,
) -> anyhow::Result<Built> {
    use crate::seal::{checkpoint, lock, provenance, sign};
    // A signing key that cannot be used stops the build before anything is written.
    let signer = sign::Signer::from_config(input.config)?;
    let report = &input.config.report;
    let origin = input
        .config
        .signing
        .as_ref()
        .and_then(|s| s.origin.clone())
        .unwrap_or_else(|| {
            checkpoint::default_origin(&report.organization, &report.title, audience)
        });
    let _lock = publish::Lock::take(root)?;
    checkpoint::complete_pending(root)?;
    let existing = publish::versions(root)?;
    // The version number follows the log, not the folders alone: a logged version whose folder
    // is gone was removed, and numbering past it would hide that.
    let logged = std::fs::read_to_string(root.join("log/entries"))
        .map(|t| t.lines().count() as u32)
        .unwrap_or(0);
    let last = existing.last().copied().unwrap_or(0);
    if logged > last {
        anyhow::bail!(
            "`{}` records {logged} versions but the last version folder is v{last}: a published version was removed; restore it from a copy (`trailbook verify {}` lists what is missing)",
            root.join("log/entries").display(),
            root.display()
        );
    }
    let version = last + 1;
    let previous = existing
        .last()
        .map(|&v| publish::previous(root, v))
        .transpose()?;
    // `PREVIOUS` chains this version to the last one (`INTEGRITY.md` §3); a previous version
    // without a readable manifest cannot be chained to, so nothing is published.
    let chain = previous
        .as_ref()
        .map(|p| {
            p.sums_sha256
                .clone()
                .map(|digest| format!("{digest}  ../v{}/SHA256SUMS\n", p.version))
                .with_context(|| {
                    format!(
                        "cannot read `{}`: the previous version has no manifest to chain to",
                        root.join(format!("v{}/SHA256SUMS", p.version)).display()
                    )
                })
        })
        .transpose()?;
    let mut cx = Cx::new(input, version, audience, previous, templates)?;
    cx.signing = signer.as_ref().map(|s| SigningInfo {
        identity: s.identity.clone(),
        namespace: s.namespace.clone(),
        checkpoint_namespace: format!("{}{}", s.namespace, sign::CHECKPOINT_SUFFIX),
        fingerprint: s.fingerprint.clone(),
        allowed_signers: s.allowed_signers_line(),
        origin: origin.clone(),
    });
    let mut pages = render(&cx)?;
    if let Some(chain) = chain {
        pages.add("PREVIOUS", chain.into_bytes());
    }
    pages.add("inputs.lock", lock::to_bytes(&lock::build(input.ingest)));
    let files: Vec<(String, String)> = pages
        .files
        .iter()
        .map(|(path, bytes)| (path.clone(), hex::encode(Sha256::digest(bytes))))
        .collect();
    let as_of = crate::time::fmt(input.model.as_of);
    pages.add(
        "provenance.json",
        provenance::statement(&provenance::Params {
            files: &files,
            ingest: input.ingest,
            config_path: &input.config.path,
            as_of: &as_of,
            audience,
            templates,
        })?,
    );
    let mut digests: BTreeMap<String, String> = files.into_iter().collect();
    if let Some(bytes) = pages.files.get("provenance.json") {
        digests.insert("provenance.json".into(), hex::encode(Sha256::digest(bytes)));
    }
    let sums = publish::sha256sums(&digests);
    if let Some(s) = &signer {
        pages.add(
            "SHA256SUMS.sig",
            s.sign(&s.namespace, sums.as_bytes())?.into_bytes(),
        );
    }
    pages.add("SHA256SUMS", sums.into_bytes());
    let dir = publish::write_version(root, version, &pages)?;
    let manifests = publish::manifests(root)?;
    publish::append_log(root, &manifests)?;
    checkpoint::write(root, &origin, signer.as_ref())?;
    write_root(&cx, root, &publish::entries(root, &manifests)?)?;
    Ok(Built { version, dir })
}

/// The root `index.html` (the versions, newest first) and `versions.json`, rebuilt from disk.
fn write_root(cx: &Cx<'_>, root: &Path, entries: &[publish::VersionEntry]) -> anyhow::Result<()> {
    let mut json = serde_json::to_string_pretty(&serde_json::json!({ "versions": entries }))?;
    json.push('\n');
    let latest = entries.first().map_or(0, |e| e.version);
    let report = &cx.input.config.report;
    let html = cx
        .env
        .get_template("versions.html")?
        .render(context! {
            page => context! {
                title => report.title.as_str(),
                organization => report.organization.as_str(),
                latest => latest,
                versions => Value::from(Serde(entries)),
            }
        })
        .map_err(|e| anyhow::anyhow!("{e:#}"))
        .context("cannot render the site's root index.html")?;
    publish::replace(&root.join("versions.json"), json.as_bytes())?;
    publish::replace(&root.join("index.html"), html.as_bytes())
}
