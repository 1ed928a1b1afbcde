//! Stage `checks`: `(&Model, &LineageGraph, &Config)` → [`Findings`].
//!
//! Each rule (one file per family) has a stable id, documentation in fixed sections
//! ([`RuleMeta`]) and a `run` that returns an [`Outcome`]: whether it could be evaluated, and its
//! draft findings at the rule's own default level per check. The engine then
//! 1. resolves each finding's level from the enabled packs (`RULES.md` §4.4) and `[policy] levels`,
//! 2. marks findings whose evidence lies in a broken chain segment (`integrity = "unverified"`),
//! 3. applies waivers and runs LOG-08 over them (`waivers`),
//! 4. gives every finding its stable id (§6.3) and sorts them (§6.2).
//!
//! Rules run in parallel; their output is collected in catalogue order and sorted, so the result
//! never depends on thread scheduling.

mod access;
pub mod catalogue;
pub mod classes;
pub mod coverage;
mod data;
mod decisions;
mod deploy;
pub mod facts;
pub(crate) mod incidents;
mod lifecycle;
mod link;
mod log;
pub mod matrix;
mod models;
pub mod privacy;
pub(crate) mod retention;
pub mod waivers;

use std::collections::BTreeMap;

use jiff::Timestamp;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::event::{Event, NodeId, Origin};
use crate::graph::LineageGraph;
use crate::ingest::Ingest;
use crate::model::Model;
use crate::time::Duration;
use catalogue::{ParamKind, ParamSpec};

/// A finding's level. Ordered so that `max` is the most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warn,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "info" => Some(Level::Info),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }
}

/// A rule's documentation and metadata: the single source of `trailbook rules`, `explain` and the
/// site's methodology page.
#[derive(Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub title: &'static str,
    /// The default level of the rule's checks, as the catalogue's status line writes it.
    pub levels: &'static str,
    /// `T`, `D`, or a mix such as `T (tolerances D)`.
    pub basis: &'static str,
    /// Sources with their verification tags, e.g. `AI Act Art. 12(1), 12(2) [V]`.
    pub sources: &'static [&'static str],
    /// The event kinds that define the rule's scope.
    pub needs: &'static str,
    /// What it checks: the firing conditions.
    pub checks: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// An example that fires, and the change that makes it pass.
    pub example: &'static str,
    /// How to fix a finding.
    pub fix: &'static str,
    /// What the events cannot show.
    pub not_checked: &'static str,
    pub params: &'static [ParamSpec],
}

/// A check: one rule of the catalogue.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn run(&self, cx: &Cx<'_>) -> Outcome;
}

/// Whether a rule could judge anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum Status {
    /// The rule evaluated at least one subject.
    Evaluated,
    /// Events of its kinds occur, but no subject is in scope.
    NotApplicable(String),
    /// The events it needs are absent: it cannot say pass or fail.
    NotEvaluable(String),
}

/// What one rule returns.
#[derive(Debug)]
pub struct Outcome {
    pub status: Status,
    pub findings: Vec<Draft>,
}

impl Outcome {
    pub fn evaluated(findings: Vec<Draft>) -> Outcome {
        Outcome {
            status: Status::Evaluated,
            findings,
        }
    }

    pub fn not_evaluable(reason: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::NotEvaluable(reason.into()),
            findings: Vec::new(),
        }
    }

    pub fn not_applicable(reason: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::NotApplicable(reason.into()),
            findings: Vec::new(),
        }
    }
}

/// A finding as a rule drafts it, before levels, waivers and ids.
#[derive(Clone, Debug)]
pub struct Draft {
    /// `TYPE:ID` or one of the other subject forms of `RULES.md` §6.1.
    pub subject: String,
    /// The rule's discriminator, check letter first when the rule has several checks.
    pub discriminator: String,
    /// The check letter (`a`, `b`, …), or `""`; pack level changes may target it.
    pub check: &'static str,
    /// The rule's default level for this check.
    pub level: Level,
    pub message: String,
    pub evidence: Vec<Evidence>,
    /// For aggregated findings: how many occurrences.
    pub count: Option<u64>,
    /// The finding's time (§4.3): the latest ts of its evidence, or `None` for "missing at T".
    pub time: Option<Timestamp>,
    /// The system the subject belongs to, when the rule knows it (pack `systems`, waivers).
    pub system: Option<String>,
}

impl Draft {
    pub fn new(
        subject: impl Into<String>,
        discriminator: impl Into<String>,
        check: &'static str,
        level: Level,
        message: impl Into<String>,
    ) -> Draft {
        Draft {
            subject: subject.into(),
            discriminator: discriminator.into(),
            check,
            level,
            message: message.into(),
            evidence: Vec::new(),
            count: None,
            time: None,
            system: None,
        }
    }

    pub fn evidence(mut self, evidence: impl IntoIterator<Item = Evidence>) -> Draft {
        self.evidence.extend(evidence);
        self
    }

    pub fn count(mut self, n: u64) -> Draft {
        self.count = Some(n);
        self
    }

    pub fn at(mut self, t: Timestamp) -> Draft {
        self.time = Some(t);
        self
    }

    pub fn system(mut self, s: Option<&str>) -> Draft {
        self.system = s.map(str::to_string);
        self
    }
}

/// A location a finding rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    pub source: String,
    pub path: String,
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Indices into the ingest tables (for integrity marks and snippets).
    #[serde(skip)]
    pub origin: Origin,
}

/// Everything a rule may read.
pub struct Cx<'a> {
    pub model: &'a Model,
    /// The derived facts of `RULES.md` §2.2, computed once per run.
    pub facts: &'a facts::Facts<'a>,
    pub graph: &'a LineageGraph,
    pub config: &'a Config,
    pub ingest: &'a Ingest,
    pub rule: &'static RuleMeta,
}

impl Cx<'_> {
    pub fn as_of(&self) -> Timestamp {
        self.model.as_of
    }

    /// Evidence pointing at an event's line.
    pub fn ev(&self, event: &Event, note: Option<String>) -> Evidence {
        let mut e = self.at(&event.origin, None, note);
        e.event = Some(event.id.to_string());
        e
    }

    /// Evidence pointing at an event by index.
    pub fn evi(&self, i: u32, note: Option<String>) -> Evidence {
        self.ev(self.model.event(i), note)
    }

    /// Evidence pointing at an input line (no event: a quarantined or raw line).
    pub fn at(&self, origin: &Origin, column: Option<usize>, note: Option<String>) -> Evidence {
        Evidence {
            event: None,
            source: self.ingest.sources[origin.source as usize].name.clone(),
            path: self.ingest.files[origin.file as usize].path.clone(),
            line: origin.line,
            column,
            note,
            origin: *origin,
        }
    }

    /// A parameter of the running rule: the configured value, else its declared default.
    pub fn param(&self, name: &str) -> toml::Value {
        let spec = self
            .rule
            .params
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{} reads undeclared parameter `{name}`", self.rule.id));
        if let Some(v) = self
            .config
            .policy
            .params
            .get(self.rule.id)
            .and_then(|t| t.get(name))
        {
            return v.clone();
        }
        default_value(spec)
    }

    pub fn duration(&self, name: &str) -> Duration {
        self.param(name)
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(Duration::Seconds(0))
    }

    pub fn strs(&self, name: &str) -> Vec<String> {
        match self.param(name) {
            toml::Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn string(&self, name: &str) -> String {
        self.param(name).as_str().unwrap_or_default().to_string()
    }

    pub fn int(&self, name: &str) -> i64 {
        self.param(name).as_integer().unwrap_or(0)
    }

    pub fn float(&self, name: &str) -> f64 {
        match self.param(name) {
            toml::Value::Float(f) => f,
            toml::Value::Integer(i) => i as f64,
            _ => 0.0,
        }
    }

    pub fn flag(&self, name: &str) -> bool {
        self.param(name).as_bool().unwrap_or(false)
    }

    pub fn durations(&self, name: &str) -> BTreeMap<String, Duration> {
        match self.param(name) {
            toml::Value::Table(t) => t
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.parse().ok()?)))
                .collect(),
            _ => BTreeMap::new(),
        }
    }
}

/// Names in backticks, comma-separated (`` `a`, `b` ``), for messages.
pub(crate) fn ticks<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A parameter's declared default as a TOML value.
pub fn default_value(spec: &ParamSpec) -> toml::Value {
    let doc: toml::Table = toml::from_str(&format!("v = {}", spec.default))
        .unwrap_or_else(|e| panic!("default of `{}` is not TOML: {e}", spec.name));
    let v = doc.get("v").cloned().expect("parsed default");
    debug_assert!(!matches!(spec.kind, ParamKind::DurationMap) || v.is_table());
    v
}

/// Every implemented rule, in catalogue order.
pub fn rules() -> &'static [&'static dyn Rule] {
    static RULES: std::sync::LazyLock<Vec<&'static dyn Rule>> = std::sync::LazyLock::new(|| {
        let mut all: Vec<&'static dyn Rule> = Vec::new();
        all.extend_from_slice(log::RULES);
        all.push(&waivers::Log08);
        all.extend_from_slice(link::RULES);
        all.extend_from_slice(models::RULES);
        all.extend_from_slice(lifecycle::RULES);
        all.extend_from_slice(incidents::RULES);
        all.extend_from_slice(data::RULES);
        all.extend_from_slice(access::RULES);
        all.extend_from_slice(retention::RULES);
        all.extend_from_slice(decisions::RULES);
        all.extend_from_slice(deploy::RULES);
        all.extend_from_slice(privacy::RULES);
        all.sort_by_key(|r| {
            catalogue::RULE_IDS
                .iter()
                .position(|id| *id == r.meta().id)
                .unwrap_or(usize::MAX)
        });
        all
    });
    &RULES
}

/// The waiver that applies to a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaiverRef {
    pub id: String,
    pub expires: String,
    pub approved_by: String,
    /// The finding's level without the waiver.
    pub level: Level,
}

/// A finding as reported (`RULES.md` §6.1).
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub id: String,
    pub rule: String,
    /// `deny`, `warn`, `info`, or `waived`.
    pub level: String,
    pub title: String,
    pub message: String,
    pub subject: String,
    pub discriminator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<WaiverRef>,
    pub evidence: Vec<Evidence>,
    pub packs: Vec<String>,
    pub clauses: Vec<String>,
    #[serde(skip)]
    pub pre_effective: Vec<String>,
    /// The level before waivers.
    #[serde(skip)]
    pub effective_level: Level,
    #[serde(skip)]
    pub system: Option<String>,
}

impl Finding {
    pub fn is_waived(&self) -> bool {
        self.level == "waived"
    }

    /// An unwaived deny: fails the run.
    pub fn fails(&self) -> bool {
        self.level == "deny"
    }
}

/// The stable id of a finding (`RULES.md` §6.3).
pub fn finding_id(rule: &str, subject: &str, discriminator: &str) -> String {
    let digest = Sha256::digest(format!("{rule}|{subject}|{discriminator}").as_bytes());
    hex::encode(&digest[..8])
}

/// Per-rule status in a run.
#[derive(Clone, Debug, Serialize)]
pub struct RuleRun {
    pub rule: &'static str,
    #[serde(flatten)]
    pub status: Status,
    pub packs: Vec<String>,
    pub findings: usize,
}

/// The result of the checks stage.
#[derive(Debug, Serialize)]
pub struct Findings {
    pub findings: Vec<Finding>,
    pub rules: Vec<RuleRun>,
    /// Rules that enabled packs list but this version does not implement.
    pub not_implemented: Vec<String>,
    /// Rules turned off in `[policy] levels`.
    pub disabled: Vec<String>,
    /// The coverage matrix of every enabled pack (§4.2).
    pub coverage: Vec<matrix::PackCoverage>,
}

impl Findings {
    pub fn count(&self, level: &str) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }

    pub fn failed(&self) -> bool {
        self.findings.iter().any(Finding::fails)
    }
}

/// The enabled packs that cover a rule: list it, cite it for a clause, or run it as supporting
/// evidence (baseline lists LOG and LINK).
fn listing_packs(config: &Config, rule: &str) -> Vec<&'static catalogue::PackDef> {
    catalogue::PACKS
        .iter()
        .filter(|p| config.policy.enabled(p.id) && p.covers(rule))
        .collect()
}

/// The AI Act packs, whose Annex I systems have their own application date (§4.3).
const AI_ACT_PACKS: [&str; 2] = ["eu-ai-act-provider", "eu-ai-act-deployer"];

/// The Annex I default application date of the AI Act packs (§4.3).
const ANNEX_I_FROM: &str = "2027-08-02";

/// A high-risk system without `annex_iii_point`: an Annex I product (§4.3).
fn annex_i(facts: &facts::Facts<'_>, system: Option<&str>) -> bool {
    facts.high_risk(system)
        && system
            .and_then(|s| facts.system(s))
            .is_some_and(|s| s.annex_iii_point.is_none())
}

/// Runs every rule that an enabled pack lists.
pub fn run(model: &Model, graph: &LineageGraph, config: &Config, ingest: &Ingest) -> Findings {
    let mut disabled = Vec::new();
    let mut selected: Vec<&'static dyn Rule> = Vec::new();
    for rule in rules() {
        let id = rule.meta().id;
        if listing_packs(config, id).is_empty() {
            continue;
        }
        if config.policy.levels.get(id).map(String::as_str) == Some("off") {
            disabled.push(id.to_string());
            continue;
        }
        selected.push(*rule);
    }
    let mut not_implemented: Vec<String> = catalogue::RULE_IDS
        .iter()
        .filter(|id| !listing_packs(config, id).is_empty() && catalogue::rule(id).is_none())
        .map(|id| id.to_string())
        .collect();
    not_implemented.sort();

    // LOG-08 reads the other rules' findings: it runs after them.
    let (first, last): (Vec<_>, Vec<_>) =
        selected.into_iter().partition(|r| r.meta().id != "LOG-08");
    let mut timer = crate::cli::Timer::new();
    let facts = facts::Facts::compute(model, config);
    timer.lap("  facts");
    let facts = &facts;
    let outcomes: Vec<(&'static dyn Rule, Outcome, std::time::Duration)> = first
        .par_iter()
        .map(|r| {
            let started = std::time::Instant::now();
            let outcome = r.run(&Cx {
                model,
                facts,
                graph,
                config,
                ingest,
                rule: r.meta(),
            });
            (*r, outcome, started.elapsed())
        })
        .collect();
    if timer.on() {
        // The slowest rules (CPU time of each; they run in parallel).
        let mut slow: Vec<_> = outcomes.iter().map(|(r, _, t)| (*t, r.meta().id)).collect();
        slow.sort_by(|a, b| b.cmp(a));
        for (t, id) in slow.iter().take(8) {
            eprintln!("timing:   {id:<8} {:>8.3} s", t.as_secs_f64());
        }
    }
    let outcomes: Vec<(&'static dyn Rule, Outcome)> =
        outcomes.into_iter().map(|(r, o, _)| (r, o)).collect();

    let mut findings = Vec::new();
    let mut runs = Vec::new();
    for (rule, outcome) in outcomes {
        let meta = rule.meta();
        runs.push(RuleRun {
            rule: meta.id,
            status: outcome.status,
            packs: listing_packs(config, meta.id)
                .iter()
                .map(|p| p.id.to_string())
                .collect(),
            findings: outcome.findings.len(),
        });
        for d in outcome.findings {
            findings.push(finalize(meta, d, model, facts, config, ingest));
        }
    }
    let waiver_set = waivers::collect(model, config, ingest);
    waivers::apply(&waiver_set, &mut findings, model);
    for rule in last {
        let meta = rule.meta();
        let outcome = waivers::log08(
            &waiver_set,
            &findings,
            &Cx {
                model,
                facts,
                graph,
                config,
                ingest,
                rule: meta,
            },
        );
        runs.push(RuleRun {
            rule: meta.id,
            status: outcome.status,
            packs: listing_packs(config, meta.id)
                .iter()
                .map(|p| p.id.to_string())
                .collect(),
            findings: outcome.findings.len(),
        });
        for d in outcome.findings {
            findings.push(finalize(meta, d, model, facts, config, ingest));
        }
    }
    runs.sort_by_key(|r| catalogue::RULE_IDS.iter().position(|id| *id == r.rule));
    sort(&mut findings);
    let coverage = matrix::coverage(&findings, &runs, config);
    Findings {
        findings,
        rules: runs,
        not_implemented,
        disabled,
        coverage,
    }
}

/// Level, integrity mark and id of one draft (§4.4, §6.1, §6.3).
fn finalize(
    meta: &'static RuleMeta,
    d: Draft,
    model: &Model,
    facts: &facts::Facts<'_>,
    config: &Config,
    ingest: &Ingest,
) -> Finding {
    let system = d
        .system
        .clone()
        .or_else(|| subject_system(model, &d.subject));
    let time = d.time.unwrap_or(model.as_of);
    let mut level: Option<Level> = None;
    let mut packs = Vec::new();
    let mut clauses: Vec<String> = Vec::new();
    let mut pre_effective = Vec::new();
    for pack in listing_packs(config, meta.id) {
        let options = config.policy.pack.get(pack.id);
        if let Some(systems) = options.and_then(|o| o.systems.as_ref())
            && let Some(s) = &system
            && !systems.contains(s)
        {
            continue;
        }
        let mut l = pack
            .levels
            .iter()
            .find(|(rule, check, _)| *rule == meta.id && (check.is_empty() || *check == d.check))
            .map_or(d.level, |(_, _, l)| *l);
        let max = options
            .and_then(|o| o.max_level.as_deref())
            .and_then(Level::parse)
            .or(pack.max_level);
        if let Some(max) = max {
            l = l.min(max);
        }
        let from = if AI_ACT_PACKS.contains(&pack.id) && annex_i(facts, system.as_deref()) {
            options
                .and_then(|o| o.effective_from_annex_i)
                .or_else(|| crate::time::parse_date_or_time(ANNEX_I_FROM).ok())
        } else {
            options.and_then(|o| o.effective_from).or_else(|| {
                pack.effective_from
                    .and_then(|s| crate::time::parse_date_or_time(s).ok())
            })
        };
        if from.is_some_and(|from| time < from) {
            l = Level::Info;
            pre_effective.push(pack.id.to_string());
        }
        level = Some(level.map_or(l, |x: Level| x.max(l)));
        packs.push(pack.id.to_string());
        for c in pack.clauses_of(meta.id) {
            if !clauses.iter().any(|x| x == c) {
                clauses.push(c.to_string());
            }
        }
    }
    let mut level = level.unwrap_or(d.level);
    if let Some(forced) = config
        .policy
        .levels
        .get(meta.id)
        .and_then(|s| Level::parse(s))
    {
        level = forced;
    }
    let mut evidence = d.evidence;
    evidence.sort_by(|a, b| (&a.path, a.line, &a.event).cmp(&(&b.path, b.line, &b.event)));
    evidence.dedup();
    let integrity = evidence
        .iter()
        .any(|e| ingest.unverified(e.origin.source, e.origin.file, e.origin.line))
        .then_some("unverified");
    Finding {
        id: finding_id(meta.id, &d.subject, &d.discriminator),
        rule: meta.id.to_string(),
        level: level.as_str().to_string(),
        title: meta.title.to_string(),
        message: d.message,
        subject: d.subject,
        discriminator: d.discriminator,
        count: d.count,
        integrity,
        waiver: None,
        evidence,
        packs,
        clauses,
        pre_effective,
        effective_level: level,
        system,
    }
}

/// The system a finding's subject belongs to, when the subject is a node with a registered state.
fn subject_system(model: &Model, subject: &str) -> Option<String> {
    let node = NodeId::parse(subject)?;
    if node.entity_type() == Some(crate::event::EntityType::System) {
        return Some(node.id().to_string());
    }
    model
        .state(&node)
        .and_then(|e| e.system.as_deref().map(str::to_string))
}

/// §6.2: level, rule, subject, first evidence location, discriminator.
pub fn sort(findings: &mut [Finding]) {
    fn rank(level: &str) -> u8 {
        match level {
            "deny" => 0,
            "warn" => 1,
            "info" => 2,
            _ => 3,
        }
    }
    findings.sort_by(|a, b| {
        let loc = |f: &Finding| f.evidence.first().map(|e| (e.path.clone(), e.line));
        (
            rank(&a.level),
            &a.rule,
            &a.subject,
            loc(a),
            &a.discriminator,
        )
            .cmp(&(
                rank(&b.level),
                &b.rule,
                &b.subject,
                loc(b),
                &b.discriminator,
            ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_match_the_rules_test_vectors() {
        assert_eq!(
            finding_id("MOD-02", "model_version:credit-risk@1.4.0", "a"),
            "4657d5bf696f3f55"
        );
        assert_eq!(
            finding_id("LOG-02", "source:serving", "a|42"),
            "10d62ffe2c9f77be"
        );
        assert_eq!(
            finding_id("LOG-06", "source:serving", ""),
            "6b0985d56e61b590"
        );
    }

    #[test]
    fn every_implemented_rule_is_in_the_catalogue_with_valid_defaults() {
        for r in rules() {
            let m = r.meta();
            assert!(catalogue::RULE_IDS.contains(&m.id), "{}", m.id);
            for p in m.params {
                let v = default_value(p);
                let text = format!("v = {}", p.default);
                let doc = toml::de::DeTable::parse(&text).unwrap();
                let dv = doc.get_ref().get("v").unwrap();
                assert!(
                    p.kind.check(dv.get_ref()).is_ok(),
                    "{} {} default {v:?}",
                    m.id,
                    p.name
                );
            }
            for section in [m.checks, m.why, m.example, m.fix] {
                assert!(!section.trim().is_empty(), "{} lacks a doc section", m.id);
            }
        }
    }

    #[test]
    fn annex_i_systems_apply_the_ai_act_from_their_own_date() {
        use crate::testing::{check_events, ev, with};
        use serde_json::json;
        let run = |system_attrs: serde_json::Value, extra: &str| {
            let events = [
                ev(
                    "s1",
                    "2026-01-01T00:00:00Z",
                    "system.registered",
                    "system:credit",
                    system_attrs,
                ),
                with(
                    ev(
                        "m1",
                        "2026-09-01T00:00:00Z",
                        "model.registered",
                        "model_version:m@1",
                        json!({"model": "m", "version": "1"}),
                    ),
                    "system",
                    json!("credit"),
                ),
            ];
            let case = check_events(
                &events,
                &format!("[policy]\npacks = [\"eu-ai-act-provider\"]\n{extra}"),
            );
            let f = case.of("MOD-01")[0];
            (f.level.clone(), f.pre_effective.clone())
        };
        let annex_iii = json!({"name": "c", "risk": "high", "annex_iii_point": "5(b)"});
        let annex_i = json!({"name": "c", "risk": "high"});
        assert_eq!(run(annex_iii, ""), ("deny".to_string(), vec![]));
        assert_eq!(
            run(annex_i.clone(), ""),
            ("info".to_string(), vec!["eu-ai-act-provider".to_string()])
        );
        let moved = "[policy.pack.eu-ai-act-provider]\neffective_from_annex_i = \"2026-06-01\"\n";
        assert_eq!(run(annex_i, moved), ("deny".to_string(), vec![]));
    }
}
