//! Stage `config`: `trailbook.toml` → a validated [`Config`].
//!
//! Every problem in the file is collected with its span and reported at once, before any work
//! (`schema`); only then is the file deserialized into the typed structs below. Paths in the
//! config are relative to the config file's folder.

pub mod joins;
pub mod privacy;
pub mod schema;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::Timestamp;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::checks::catalogue;
use crate::diag;
use crate::time::{self, Duration};
use joins::{LINK, check_links, walk_map};
use schema::{Field, Problem, Ty, opt, req};

/// The validated configuration, with the file it came from.
#[derive(Debug)]
pub struct Config {
    /// The config file as given.
    pub path: PathBuf,
    /// The folder the config's relative paths start from.
    pub dir: PathBuf,
    pub report: Report,
    pub sources: Vec<Source>,
    pub policy: Policy,
    pub retention: Retention,
    /// `[privacy]`: redaction profiles and the pseudonym key (`privacy.rs`).
    pub privacy: privacy::Privacy,
    /// `[[audience]]`: the sites a build writes; empty means the defaults (`crate::privacy`).
    pub audiences: Vec<privacy::AudienceConfig>,
    /// `[[link]]` joins across sources (`SOURCES.md`, "Linking sources"), in file order.
    pub links: Vec<Link>,
    /// `[signing]`: absent → versions are sealed but unsigned.
    pub signing: Option<Signing>,
}

/// `[signing]` (`INTEGRITY.md` §3): the Ed25519 key that signs each version's `SHA256SUMS`
/// and the version log's checkpoint.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signing {
    /// OpenSSH private key file (Ed25519), relative to the config file.
    pub key: String,
    /// The signer identity regulators list in their `allowed_signers` file (`ssh-keygen -I`).
    pub identity: String,
    /// SSHSIG namespace of the manifest signature; the checkpoint uses `NAMESPACE-checkpoint`.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Environment variable holding the key's passphrase, for an encrypted key.
    #[serde(default)]
    pub passphrase_env: Option<String>,
    /// The version log's origin line in `log/checkpoint` (default: from the report title).
    #[serde(default)]
    pub origin: Option<String>,
}

fn default_namespace() -> String {
    "trailbook".to_string()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Report {
    pub title: String,
    pub organization: String,
    #[serde(deserialize_with = "de_opt_time")]
    pub as_of: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub name: String,
    pub format: String,
    pub paths: Vec<String>,
    #[serde(default)]
    pub chain: ChainMode,
    /// `prev` of the first line (default: 64 zeros).
    #[serde(default)]
    pub anchor: Option<String>,
    /// `seq` of the first line (for logs whose earlier part was disposed).
    #[serde(default = "one")]
    pub first_seq: u64,
    /// `[source.map]` of a `csv` source: canonical field path → CSV column or `'literal'`.
    #[serde(default, deserialize_with = "joins::de_map")]
    pub map: BTreeMap<String, String>,
}

/// The relations a `[[link]]` pattern rule may state, as the lineage graph names them.
pub const LINK_RELATIONS: &[&str] = &[
    "serves",
    "consumes",
    "produces",
    "trained_on",
    "derived_from",
    "describes",
    "decided_by",
    "affects",
    "parent_of",
];

/// One `[[link]]` entry: `same = [...]`, or `match` with relations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// Node ids naming one entity; the first is the canonical one.
    #[serde(default)]
    pub same: Vec<String>,
    /// A name for the rule, shown in findings.
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default, rename = "match")]
    pub pattern: Option<LinkMatch>,
    #[serde(default)]
    pub serves: Option<String>,
    #[serde(default)]
    pub consumes: Option<String>,
    #[serde(default)]
    pub produces: Option<String>,
    #[serde(default)]
    pub trained_on: Option<String>,
    #[serde(default)]
    pub derived_from: Option<String>,
    #[serde(default)]
    pub describes: Option<String>,
    #[serde(default)]
    pub decided_by: Option<String>,
    #[serde(default)]
    pub affects: Option<String>,
    #[serde(default)]
    pub parent_of: Option<String>,
    /// 1-based line of the entry in the config file.
    #[serde(skip)]
    pub line: usize,
}

impl Link {
    /// `(relation, template)` of a pattern rule, in [`LINK_RELATIONS`] order.
    pub fn relations(&self) -> Vec<(&'static str, &str)> {
        let all = [
            &self.serves,
            &self.consumes,
            &self.produces,
            &self.trained_on,
            &self.derived_from,
            &self.describes,
            &self.decided_by,
            &self.affects,
            &self.parent_of,
        ];
        LINK_RELATIONS
            .iter()
            .zip(all)
            .filter_map(|(r, t)| t.as_deref().map(|t| (*r, t)))
            .collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkMatch {
    #[serde(rename = "type")]
    pub kind: String,
    /// A regular expression over the entity id; named groups are captures for the templates.
    pub id: String,
}

fn one() -> u64 {
    1
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainMode {
    Required,
    #[default]
    Optional,
    None,
}

impl ChainMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ChainMode::Required => "required",
            ChainMode::Optional => "optional",
            ChainMode::None => "none",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub packs: Vec<String>,
    pub levels: BTreeMap<String, String>,
    pub params: BTreeMap<String, toml::Table>,
    pub production_envs: Vec<String>,
    pub env_ladder: Vec<String>,
    pub env_ladder_by_system: BTreeMap<String, Vec<String>>,
    #[serde(deserialize_with = "de_duration")]
    pub clock_skew: Duration,
    pub evidence_limit: usize,
    pub fria_points: Vec<String>,
    pub fria_systems: Vec<String>,
    pub nyc_jurisdictions: Vec<String>,
    pub aedt_systems: Vec<String>,
    pub pack: BTreeMap<String, PackOptions>,
    pub waiver: Vec<WaiverConfig>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            packs: vec!["baseline".into()],
            levels: BTreeMap::new(),
            params: BTreeMap::new(),
            production_envs: vec!["production".into()],
            env_ladder: vec!["development".into(), "staging".into(), "production".into()],
            env_ladder_by_system: BTreeMap::new(),
            clock_skew: Duration::Seconds(60),
            evidence_limit: 20,
            fria_points: vec!["5(b)".into(), "5(c)".into()],
            fria_systems: Vec::new(),
            nyc_jurisdictions: vec!["US-NY-NYC".into()],
            aedt_systems: Vec::new(),
            pack: BTreeMap::new(),
            waiver: Vec::new(),
        }
    }
}

impl Policy {
    /// The environment ladder for a system (`env_ladder_by_system`, else `env_ladder`).
    pub fn ladder(&self, system: Option<&str>) -> &[String] {
        system
            .and_then(|s| self.env_ladder_by_system.get(s))
            .unwrap_or(&self.env_ladder)
    }

    /// Whether `baseline` plus the configured packs include `pack`.
    pub fn enabled(&self, pack: &str) -> bool {
        pack == "baseline" || self.packs.iter().any(|p| p == pack)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PackOptions {
    pub systems: Option<Vec<String>>,
    #[serde(deserialize_with = "de_opt_date")]
    pub effective_from: Option<Timestamp>,
    #[serde(deserialize_with = "de_opt_date")]
    pub effective_from_annex_i: Option<Timestamp>,
    pub max_level: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiverConfig {
    pub id: String,
    pub rule: String,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub system: Option<String>,
    pub reason: String,
    pub approved_by: String,
    #[serde(default, deserialize_with = "de_opt_date")]
    pub granted: Option<Timestamp>,
    #[serde(deserialize_with = "de_date")]
    pub expires: Timestamp,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    pub classes: BTreeMap<String, ClassConfig>,
    pub assign: Vec<Assign>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassConfig {
    #[serde(deserialize_with = "de_opt_duration")]
    pub min: Option<Duration>,
    #[serde(deserialize_with = "de_opt_duration")]
    pub max: Option<Duration>,
    pub clock: Option<String>,
    pub personal: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    pub class: String,
    pub kinds: Vec<String>,
    #[serde(default)]
    pub systems: Vec<String>,
    #[serde(default)]
    pub data_classes: Vec<String>,
    #[serde(default)]
    pub doc_types: Vec<String>,
}

/// The formats this version reads (`SOURCES.md`).
pub const FORMATS: &[&str] = &[
    "trailbook-jsonl",
    "openlineage",
    "mlflow-export",
    "mlflow-filestore",
    "model-card",
    "k8s-audit",
    "cloudtrail",
    "csv",
];

fn check_duration(s: &str) -> Result<(), String> {
    s.parse::<Duration>().map(|_| ())
}
fn check_time(s: &str) -> Result<(), String> {
    time::parse_rfc3339(s).map(|_| ())
}
fn check_date(s: &str) -> Result<(), String> {
    time::parse_date_or_time(s).map(|_| ())
}
fn check_anchor(s: &str) -> Result<(), String> {
    if s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(format!("`{s}` is not 64 lowercase hex digits"))
    }
}
fn check_name(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        Ok(())
    } else {
        Err(format!(
            "`{s}` may hold only letters, digits, `.`, `_` and `-`"
        ))
    }
}
fn check_format(s: &str) -> Result<(), String> {
    if FORMATS.contains(&s) {
        return Ok(());
    }
    Err(format!(
        "unknown format `{s}`; supported: {}",
        FORMATS.join(", ")
    ))
}
fn check_pack(s: &str) -> Result<(), String> {
    if catalogue::pack(s).is_some() {
        Ok(())
    } else {
        let ids: Vec<&str> = catalogue::PACKS.iter().map(|p| p.id).collect();
        let hint = schema::suggest(s, &ids)
            .map(|x| format!("did you mean `{x}`? "))
            .unwrap_or_default();
        Err(format!(
            "unknown pack `{s}`; {hint}known packs: {}",
            ids.join(", ")
        ))
    }
}
fn check_rule(s: &str) -> Result<(), String> {
    if catalogue::RULE_IDS.contains(&s) {
        Ok(())
    } else {
        let hint = schema::suggest(s, catalogue::RULE_IDS)
            .map(|x| format!("; did you mean `{x}`?"))
            .unwrap_or_default();
        Err(format!("unknown rule `{s}`{hint}"))
    }
}
fn check_level(s: &str) -> Result<(), String> {
    if ["deny", "warn", "info", "off"].contains(&s) {
        Ok(())
    } else {
        Err(format!(
            "level must be `deny`, `warn`, `info` or `off`, found `{s}`"
        ))
    }
}
fn check_max_level(s: &str) -> Result<(), String> {
    if ["deny", "warn", "info"].contains(&s) {
        Ok(())
    } else {
        Err(format!("must be `deny`, `warn` or `info`, found `{s}`"))
    }
}
fn check_any(_: &str) -> Result<(), String> {
    Ok(())
}

/// `[policy.params.RULE]`: each table is checked against the rule's declared parameters.
fn walk_params(value: &Spanned<DeValue<'_>>, path: &str, out: &mut Vec<Problem>) {
    let DeValue::Table(rules) = value.get_ref() else {
        out.push(Problem {
            message: format!("`{path}` must be a table of rule ids"),
            span: value.span(),
        });
        return;
    };
    for (key, table) in rules.iter() {
        let rule = key.get_ref().as_ref();
        if let Err(e) = check_rule(rule) {
            out.push(Problem {
                message: format!("`{path}.{rule}`: {e}"),
                span: key.span(),
            });
            continue;
        }
        let Some(meta) = catalogue::rule(rule) else {
            out.push(Problem {
                message: format!("rule `{rule}` is not implemented in this version of trailbook, so it has no parameters to set"),
                span: key.span(),
            });
            continue;
        };
        let DeValue::Table(params) = table.get_ref() else {
            out.push(Problem {
                message: format!("`{path}.{rule}` must be a table"),
                span: table.span(),
            });
            continue;
        };
        for (pkey, pvalue) in params.iter() {
            let name = pkey.get_ref().as_ref();
            match meta.params.iter().find(|p| p.name == name) {
                Some(spec) => {
                    if let Err(e) = spec.kind.check(pvalue.get_ref()) {
                        out.push(Problem {
                            message: format!("`{path}.{rule}.{name}`: {e}"),
                            span: pvalue.span(),
                        });
                    }
                }
                None => {
                    let known: Vec<&str> = meta.params.iter().map(|p| p.name).collect();
                    let hint = match (schema::suggest(name, &known), known.is_empty()) {
                        (_, true) => format!("; {rule} has no parameters"),
                        (Some(s), _) => format!("; did you mean `{s}`?"),
                        (None, _) => format!("; its parameters are: {}", known.join(", ")),
                    };
                    out.push(Problem {
                        message: format!("unknown parameter `{name}` of {rule}{hint}"),
                        span: pkey.span(),
                    });
                }
            }
        }
    }
}

const SOURCE: &[Field] = &[
    req("name", Ty::Checked(check_name)),
    req("format", Ty::Checked(check_format)),
    req("paths", Ty::Strs),
    opt("chain", Ty::Enum(&["required", "optional", "none"])),
    opt("anchor", Ty::Checked(check_anchor)),
    opt("first_seq", Ty::Int { min: 1 }),
    opt("map", Ty::Custom(walk_map)),
];

const PACK_OPTIONS: &[Field] = &[
    opt("systems", Ty::Strs),
    opt("effective_from", Ty::Checked(check_date)),
    opt("effective_from_annex_i", Ty::Checked(check_date)),
    opt("max_level", Ty::Checked(check_max_level)),
];

const WAIVER: &[Field] = &[
    req("id", Ty::Str),
    req("rule", Ty::Checked(check_rule)),
    opt("target", Ty::Str),
    opt("system", Ty::Str),
    req("reason", Ty::Str),
    req("approved_by", Ty::Str),
    opt("granted", Ty::Checked(check_date)),
    req("expires", Ty::Checked(check_date)),
];

const POLICY: &[Field] = &[
    opt("packs", Ty::CheckedStrs(check_pack)),
    opt("levels", Ty::MapOf(check_rule, &Ty::Checked(check_level))),
    opt("params", Ty::Custom(walk_params)),
    opt("production_envs", Ty::Strs),
    opt("env_ladder", Ty::Strs),
    opt("env_ladder_by_system", Ty::MapOf(check_any, &Ty::Strs)),
    opt("clock_skew", Ty::Checked(check_duration)),
    opt("evidence_limit", Ty::Int { min: 1 }),
    opt("fria_points", Ty::Strs),
    opt("fria_systems", Ty::Strs),
    opt("nyc_jurisdictions", Ty::Strs),
    opt("aedt_systems", Ty::Strs),
    opt("pack", Ty::MapOf(check_pack, &Ty::Table(PACK_OPTIONS))),
    opt("waiver", Ty::Tables(WAIVER)),
];

const CLASS: &[Field] = &[
    opt("min", Ty::Checked(check_duration)),
    opt("max", Ty::Checked(check_duration)),
    opt(
        "clock",
        Ty::Enum(&["event", "placed_on_market", "effective_to"]),
    ),
    opt("personal", Ty::Bool),
];

const ASSIGN: &[Field] = &[
    req("class", Ty::Checked(check_name)),
    req("kinds", Ty::Strs),
    opt("systems", Ty::Strs),
    opt("data_classes", Ty::Strs),
    opt("doc_types", Ty::Strs),
];

const TOP: &[Field] = &[
    opt(
        "report",
        Ty::Table(&[
            opt("title", Ty::Str),
            opt("organization", Ty::Str),
            opt("as_of", Ty::Checked(check_time)),
        ]),
    ),
    req("source", Ty::Tables(SOURCE)),
    opt("link", Ty::Tables(LINK)),
    opt("policy", Ty::Table(POLICY)),
    opt(
        "retention",
        Ty::Table(&[
            opt("classes", Ty::MapOf(check_name, &Ty::Table(CLASS))),
            opt("assign", Ty::Tables(ASSIGN)),
        ]),
    ),
    opt(
        "signing",
        Ty::Table(&[
            req("key", Ty::Str),
            req("identity", Ty::Checked(check_identity)),
            opt("namespace", Ty::Checked(check_namespace)),
            opt("passphrase_env", Ty::Checked(check_env_name)),
            opt("origin", Ty::Checked(check_origin)),
        ]),
    ),
    opt("privacy", Ty::Table(privacy::PRIVACY)),
    opt("audience", Ty::Tables(privacy::AUDIENCE)),
];

fn check_identity(s: &str) -> Result<(), String> {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c == ',' || c == '"') {
        Err(format!(
            "`{s}` cannot be an `allowed_signers` principal: use a name without spaces, commas or quotes, such as evidence@bank.example"
        ))
    } else {
        Ok(())
    }
}
fn check_namespace(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
    {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a signature namespace: use letters, digits, `.`, `_`, `-` and `@` (such as trailbook or evidence@bank.example)"
        ))
    }
}
fn check_env_name(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(())
    } else {
        Err(format!("`{s}` is not an environment variable name"))
    }
}
fn check_origin(s: &str) -> Result<(), String> {
    if !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(())
    } else {
        Err(format!(
            "`{s}` cannot be a checkpoint origin: one line without spaces, such as bank.example/evidence/credit"
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    report: Report,
    source: Vec<Source>,
    #[serde(default)]
    link: Vec<Link>,
    #[serde(default)]
    policy: Policy,
    #[serde(default)]
    retention: Retention,
    #[serde(default)]
    signing: Option<Signing>,
    #[serde(default)]
    privacy: privacy::Privacy,
    #[serde(default)]
    audience: Vec<privacy::AudienceConfig>,
}

/// All problems of one config file, rendered with file, line, column and a snippet.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
    rendered: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "{n} problem{} in config `{}`; nothing was read:",
            if n == 1 { "" } else { "s" },
            self.path.display()
        )?;
        f.write_str(self.rendered.trim_end())
    }
}

impl std::error::Error for ConfigError {}

/// Reads and validates a config file.
pub fn load(path: &Path) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("cannot read config `{}` (give another with -c FILE, or create one with `trailbook init`)", path.display())
    })?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let config = parse(&text, path)?;
    Ok(Config {
        path: path.to_path_buf(),
        dir,
        ..config
    })
}

/// Validates config text; `path` names it in messages.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let fail = |problems: Vec<Problem>| {
        let rendered = diag::render_spans(
            &path.display().to_string(),
            text,
            problems
                .iter()
                .map(|p| (p.message.as_str(), p.span.clone())),
        );
        ConfigError {
            path: path.to_path_buf(),
            problems,
            rendered,
        }
    };
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(fail(
            errors
                .iter()
                .map(|e| Problem {
                    message: format!("invalid TOML: {}", e.message().trim()),
                    span: e.span().unwrap_or(0..0),
                })
                .collect(),
        ));
    }
    let mut problems = Vec::new();
    schema::walk_table(doc.get_ref(), 0..0, TOP, "", &mut problems);
    if problems.is_empty() {
        check_sources(doc.get_ref(), &mut problems);
        check_levels(doc.get_ref(), &mut problems);
        check_retention(doc.get_ref(), &mut problems);
        check_links(doc.get_ref(), &mut problems);
        privacy::check(doc.get_ref(), &mut problems);
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| (p.span.start, p.span.end));
        return Err(fail(problems));
    }
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        fail(vec![Problem {
            message: e.message().trim().to_string(),
            span: e.span().unwrap_or(0..0),
        }])
    })?;
    let mut links = raw.link;
    if let Some(DeValue::Array(items)) = doc.get_ref().get("link").map(Spanned::get_ref) {
        for (link, item) in links.iter_mut().zip(items.iter()) {
            link.line = text
                .get(..item.span().start)
                .map_or(0, |t| t.matches('\n').count())
                + 1;
        }
    }
    Ok(Config {
        path: path.to_path_buf(),
        dir: PathBuf::from("."),
        report: raw.report,
        sources: raw.source,
        policy: raw.policy,
        retention: raw.retention,
        signing: raw.signing,
        links,
        privacy: raw.privacy,
        audiences: raw.audience,
    })
}

/// Cross-field checks: source names are unique and every source has a path.
fn check_sources(doc: &DeTable<'_>, out: &mut Vec<Problem>) {
    let Some(DeValue::Array(sources)) = doc.get("source").map(Spanned::get_ref) else {
        return;
    };
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    for item in sources.iter() {
        let DeValue::Table(t) = item.get_ref() else {
            continue;
        };
        if let Some(name) = t.get("name")
            && let DeValue::String(s) = name.get_ref()
            && seen.insert(s.to_string(), ()).is_some()
        {
            out.push(Problem {
                message: format!("source name `{s}` is used twice; names must be unique"),
                span: name.span(),
            });
        }
        if let Some(paths) = t.get("paths")
            && let DeValue::Array(a) = paths.get_ref()
            && a.is_empty()
        {
            out.push(Problem {
                message: "`paths` is empty: give at least one file or glob".into(),
                span: paths.span(),
            });
        }
        joins::check_source_map(t, item.span(), out);
    }
}

/// `"off"` disables a rule, but the baseline pack (LOG, LINK) always runs (`RULES.md` §4.4).
fn check_levels(doc: &DeTable<'_>, out: &mut Vec<Problem>) {
    let Some(DeValue::Table(policy)) = doc.get("policy").map(Spanned::get_ref) else {
        return;
    };
    let Some(DeValue::Table(levels)) = policy.get("levels").map(Spanned::get_ref) else {
        return;
    };
    let baseline = catalogue::pack("baseline")
        .map(|p| p.rule_ids())
        .unwrap_or_default();
    for (rule, level) in levels.iter() {
        if let DeValue::String(l) = level.get_ref()
            && l == "off"
            && baseline.contains(&rule.get_ref().as_ref())
        {
            out.push(Problem {
                message: format!("`{}` is in the baseline pack, which always runs; it cannot be turned off (set `info` instead)", rule.get_ref()),
                span: level.span(),
            });
        }
    }
}

/// Every `[[retention.assign]]` names a built-in class or one defined under
/// `[retention.classes]` (`RULES.md` §5.2). A class whose `min` exceeds its `max` is not an error
/// here: RET-09 (a) reports it with the events it affects.
fn check_retention(doc: &DeTable<'_>, out: &mut Vec<Problem>) {
    let Some(DeValue::Table(retention)) = doc.get("retention").map(Spanned::get_ref) else {
        return;
    };
    let mut known: Vec<String> = crate::checks::classes::built_in_names()
        .map(str::to_string)
        .collect();
    if let Some(DeValue::Table(classes)) = retention.get("classes").map(Spanned::get_ref) {
        known.extend(classes.iter().map(|(k, _)| k.get_ref().to_string()));
    }
    let Some(DeValue::Array(assign)) = retention.get("assign").map(Spanned::get_ref) else {
        return;
    };
    for item in assign.iter() {
        let DeValue::Table(t) = item.get_ref() else {
            continue;
        };
        let Some(class) = t.get("class") else {
            continue;
        };
        let DeValue::String(name) = class.get_ref() else {
            continue;
        };
        if known.iter().any(|k| k == name.as_ref()) {
            continue;
        }
        let names: Vec<&str> = known.iter().map(String::as_str).collect();
        let hint = match schema::suggest(name, &names) {
            Some(s) => format!("; did you mean `{s}`?"),
            None => format!(
                "; define it under `[retention.classes.{name}]` or use one of: {}",
                names.join(", ")
            ),
        };
        out.push(Problem {
            message: format!(
                "`[[retention.assign]]` names class `{name}`, which is neither built in nor defined under `[retention.classes]`{hint}"
            ),
            span: class.span(),
        });
    }
}

fn de_opt_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| time::parse_rfc3339(&s).map_err(serde::de::Error::custom))
        .transpose()
}
fn de_opt_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| time::parse_date_or_time(&s).map_err(serde::de::Error::custom))
        .transpose()
}
fn de_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let s = String::deserialize(d)?;
    time::parse_date_or_time(&s).map_err(serde::de::Error::custom)
}
fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    String::deserialize(d)?
        .parse()
        .map_err(serde::de::Error::custom)
}
fn de_opt_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| s.parse().map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match parse(text, Path::new("t.toml")) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems.into_iter().map(|p| p.message).collect(),
        }
    }

    const OK: &str =
        "[[source]]\nname = \"a\"\nformat = \"trailbook-jsonl\"\npaths = [\"a.jsonl\"]\n";

    #[test]
    fn a_minimal_config_is_valid_with_defaults() {
        let c = parse(OK, Path::new("t.toml")).unwrap();
        assert_eq!(c.sources[0].chain, ChainMode::Optional);
        assert_eq!(c.policy.packs, ["baseline"]);
        assert_eq!(c.policy.evidence_limit, 20);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = format!(
            "{OK}chain = \"sometimes\"\n[report]\ntitel = \"x\"\nas_of = \"yesterday\"\n[policy]\npakcs = []\nlevels = {{ \"MOD-99\" = \"warn\", \"LOG-01\" = \"loud\" }}\n[policy.params.LOG-04]\nmax_gap = \"soon\"\nmax_gaps = \"1 h\"\n"
        );
        let p = problems(&text);
        let joined = p.join("\n");
        for needle in [
            "`source[0].chain` must be one of",
            "unknown key `titel` in `report`; did you mean `title`?",
            "`report.as_of`: `yesterday` is not an RFC 3339 time",
            "unknown key `pakcs` in `policy`; did you mean `packs`?",
            "unknown rule `MOD-99`",
            "level must be `deny`, `warn`, `info` or `off`, found `loud`",
            "`policy.params.LOG-04.max_gap`: `soon` is not a duration",
            "unknown parameter `max_gaps` of LOG-04; did you mean `max_gap`?",
        ] {
            assert!(joined.contains(needle), "missing {needle:?} in:\n{joined}");
        }
        assert_eq!(p.len(), 8, "{joined}");
    }

    #[test]
    fn the_rendered_error_names_file_line_and_column() {
        let err = parse(
            &format!("{OK}[policy]\npakcs = []\n"),
            Path::new("conf/t.toml"),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("1 problem in config `conf/t.toml`"), "{text}");
        assert!(text.contains("conf/t.toml:6:1"), "{text}");
    }

    #[test]
    fn duplicate_sources_and_unsupported_formats_are_errors() {
        let text = format!("{OK}{}", OK.replace("trailbook-jsonl", "prov-json"));
        let p = problems(&text).join("\n");
        assert!(
            p.contains("unknown format `prov-json`; supported: trailbook-jsonl, openlineage"),
            "{p}"
        );
        let p = problems(&format!("{OK}{OK}")).join("\n");
        assert!(p.contains("source name `a` is used twice"), "{p}");
    }

    #[test]
    fn baseline_rules_cannot_be_turned_off() {
        let p = problems(&format!(
            "{OK}[policy]\nlevels = {{ \"LOG-02\" = \"off\", \"MOD-01\" = \"off\" }}\n"
        ))
        .join("\n");
        assert!(p.contains("`LOG-02` is in the baseline pack"), "{p}");
        assert!(!p.contains("MOD-01"), "{p}");
    }

    #[test]
    fn retention_assign_names_a_known_class_and_clocks_are_checked() {
        let p = problems(&format!(
            "{OK}[retention.classes.bias_special]\nmax = \"18 months\"\nclock = \"event\"\n\
[retention.classes.odd]\nmin = \"2 years\"\nmax = \"1 year\"\n\
[[retention.assign]]\nclass = \"bias_special\"\nkinds = [\"dataset.registered\"]\n\
[[retention.assign]]\nclass = \"pci_audit\"\nkinds = [\"access\"]\n"
        ));
        assert!(
            p.is_empty(),
            "min > max is RET-09's, not a config error: {p:?}"
        );
        let p = problems(&format!(
            "{OK}[retention.classes.x]\nclock = \"market\"\n\
[[retention.assign]]\nclass = \"pci_audti\"\nkinds = [\"access\"]\n\
[[retention.assign]]\nclass = \"nowhere\"\nkinds = [\"access\"]\n"
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("clock"), "{p:?}");
        let p = problems(&format!(
            "{OK}[[retention.assign]]\nclass = \"pci_audti\"\nkinds = [\"access\"]\n\
[[retention.assign]]\nclass = \"nowhere\"\nkinds = [\"access\"]\n"
        ));
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].contains("`pci_audti`") && p[0].contains("did you mean `pci_audit`?"),
            "{p:?}"
        );
        assert!(
            p[1].contains("`nowhere`") && p[1].contains("[retention.classes.nowhere]"),
            "{p:?}"
        );
        let err = parse(
            &format!("{OK}[[retention.assign]]\nclass = \"nowhere\"\nkinds = [\"access\"]\n"),
            Path::new("t.toml"),
        )
        .unwrap_err();
        let text = OK.len() + "[[retention.assign]]\nclass = ".len();
        assert_eq!(err.problems[0].span.start, text, "span on the class value");
    }

    #[test]
    fn missing_sources_and_bad_toml_are_reported() {
        assert!(
            problems("")
                .join("")
                .contains("missing the required key `source`")
        );
        assert!(problems("[report\n").join("").contains("invalid TOML"));
    }
}
