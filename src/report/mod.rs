//! Reports of `trailbook check`: text for people, JSON, SARIF 2.1.0 and JUnit XML for machines.
//!
//! Every format is rendered from the same [`Report`], sorted at the checks boundary, so the same
//! inputs and as-of time give the same bytes.

pub mod junit;
pub mod sarif;
pub mod text;

use serde::Serialize;

use crate::checks::{Finding, Findings, RuleRun};
use crate::ingest::Ingest;
use crate::model::Model;

/// What a check run says, for every output format.
pub struct Report<'a> {
    pub config_path: &'a str,
    pub ingest: &'a Ingest,
    pub model: &'a Model,
    pub findings: &'a Findings,
    pub packs: Vec<String>,
    pub evidence_limit: usize,
}

#[derive(Serialize)]
struct SourceSummary<'a> {
    name: &'a str,
    format: &'a str,
    chain: &'static str,
    files: usize,
    lines: u64,
    events: u64,
    quarantined: u64,
    /// Records merged into another record's event (foreign formats).
    #[serde(skip_serializing_if = "is_zero")]
    folded: u64,
    chained_lines: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    head: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seq: Option<u64>,
}

#[derive(Serialize)]
struct Counts {
    deny: usize,
    warn: usize,
    info: usize,
    waived: usize,
}

#[derive(Serialize)]
struct Summary<'a> {
    tool: &'static str,
    version: &'static str,
    as_of: String,
    as_of_source: &'static str,
    packs: &'a [String],
    lines: u64,
    events: u64,
    quarantined: u64,
    #[serde(skip_serializing_if = "is_zero")]
    folded: u64,
    duplicates: usize,
    events_after_as_of: usize,
    sources: Vec<SourceSummary<'a>>,
    findings: Counts,
    rules: &'a [RuleRun],
    not_implemented: &'a [String],
    disabled: &'a [String],
    passed: bool,
}

/// The check JSON of `ARCHITECTURE.md`: `{"summary": {...}, "findings": [...]}`.
#[derive(Serialize)]
struct CheckJson<'a> {
    summary: Summary<'a>,
    findings: Vec<CheckFinding<'a>>,
    /// Per enabled pack: each clause with its rules, their status and finding ids.
    coverage: &'a [crate::checks::matrix::PackCoverage],
}

/// A finding as `check --format json` writes it (`RULES.md` §6.1): evidence without column and note.
#[derive(Serialize)]
struct CheckFinding<'a> {
    id: &'a str,
    rule: &'a str,
    level: &'a str,
    title: &'a str,
    message: &'a str,
    subject: &'a str,
    discriminator: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    integrity: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<&'a crate::checks::WaiverRef>,
    evidence: Vec<CheckEvidence<'a>>,
    packs: &'a [String],
    clauses: &'a [String],
}

#[derive(Serialize)]
struct CheckEvidence<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'a str>,
    source: &'a str,
    path: &'a str,
    line: u64,
}

impl<'a> From<&'a Finding> for CheckFinding<'a> {
    fn from(f: &'a Finding) -> Self {
        CheckFinding {
            id: &f.id,
            rule: &f.rule,
            level: &f.level,
            title: &f.title,
            message: &f.message,
            subject: &f.subject,
            discriminator: &f.discriminator,
            count: f.count,
            integrity: f.integrity,
            waiver: f.waiver.as_ref(),
            evidence: f
                .evidence
                .iter()
                .map(|e| CheckEvidence {
                    event: e.event.as_deref(),
                    source: &e.source,
                    path: &e.path,
                    line: e.line,
                })
                .collect(),
            packs: &f.packs,
            clauses: &f.clauses,
        }
    }
}

impl Report<'_> {
    fn summary(&self) -> Summary<'_> {
        let f = self.findings;
        Summary {
            tool: "trailbook",
            version: env!("CARGO_PKG_VERSION"),
            as_of: crate::time::fmt(self.model.as_of),
            as_of_source: self.model.as_of_source,
            packs: &self.packs,
            lines: self.ingest.lines(),
            events: self.ingest.sources.iter().map(|s| s.events).sum(),
            quarantined: self.ingest.quarantine.len() as u64,
            folded: self.ingest.folded(),
            duplicates: self.model.duplicates.len(),
            events_after_as_of: self.model.events.len() - self.model.in_view,
            sources: self
                .ingest
                .sources
                .iter()
                .map(|s| SourceSummary {
                    name: &s.name,
                    format: &s.format,
                    chain: s.chain_mode.as_str(),
                    files: s.files.len(),
                    lines: s.lines,
                    events: s.events,
                    quarantined: s.quarantined,
                    folded: s.folded,
                    chained_lines: s.chain.chained_lines,
                    head: s.chain.head.as_deref(),
                    last_seq: s.chain.last_seq,
                })
                .collect(),
            findings: Counts {
                deny: f.count("deny"),
                warn: f.count("warn"),
                info: f.count("info"),
                waived: f.count("waived"),
            },
            rules: &f.rules,
            not_implemented: &f.not_implemented,
            disabled: &f.disabled,
            passed: !f.failed(),
        }
    }

    /// `check --format json`.
    pub fn json(&self) -> String {
        let doc = CheckJson {
            summary: self.summary(),
            findings: self
                .findings
                .findings
                .iter()
                .map(CheckFinding::from)
                .collect(),
            coverage: &self.findings.coverage,
        };
        let mut s = serde_json::to_string_pretty(&doc).expect("report serializes");
        s.push('\n');
        s
    }

    /// One line of counts, printed after every run.
    /// The counts line. Native sources count lines; foreign formats count records (an event
    /// object, a dataset object, a CSV row) and may fold some into another's event: the line
    /// says `lines`, `records` or `lines and records`, names the folded count when there is one,
    /// and says so when `read = events + quarantined + folded` does not hold.
    pub fn counts_line(&self) -> String {
        let i = self.ingest;
        let f = self.findings;
        let events: u64 = i.sources.iter().map(|s| s.events).sum();
        let quarantined = i.quarantine.len() as u64;
        let folded = i.folded();
        let native = |s: &crate::ingest::SourceReport| s.format == "trailbook-jsonl";
        let unit = match (
            i.sources.iter().any(native),
            i.sources.iter().any(|s| !native(s)),
        ) {
            (_, false) => "lines",
            (false, true) => "records",
            (true, true) => "lines and records",
        };
        let folded_part = if folded > 0 {
            format!(", {folded} folded into other events")
        } else {
            String::new()
        };
        let balance = if i.lines() == events + quarantined + folded {
            String::new()
        } else {
            format!(
                " (does not balance: {} read ≠ {} events + {quarantined} quarantined + {folded} folded)",
                i.lines(),
                events
            )
        };
        format!(
            "read {} {unit} from {} source{} ({} file{}): {} events, {} quarantined{folded_part}{balance}; findings: {} deny, {} warn, {} info, {} waived",
            i.lines(),
            i.sources.len(),
            plural(i.sources.len()),
            i.files.len(),
            plural(i.files.len()),
            events,
            quarantined,
            f.count("deny"),
            f.count("warn"),
            f.count("info"),
            f.count("waived"),
        )
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub mod rules;
