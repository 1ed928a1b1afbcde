//! `check --format text`: findings as codespan-style diagnostics pointing into the input files.
//!
//! For people in a terminal or a CI log. Findings come in report order (`RULES.md` §6.2), each as
//! one diagnostic: a header `RULE [level] subject: title` with the message on the next line, a
//! snippet of the input line of the first evidence (re-read from disk, labelled at the evidence
//! column), the other evidence as `path:line` up to `evidence_limit`, then the id, packs, clauses,
//! waiver and integrity as notes. After the findings: rules that could not be evaluated, rules not
//! implemented or turned off, the counts line and the result.
//!
//! The output is plain text (no colour codes) and depends only on the report and the input files.
//! Text taken from the logs is shown with control and bidi characters replaced, so a log line
//! cannot move the cursor, recolour the terminal or reorder what is shown. Nothing here panics: a
//! line that cannot be re-read is shown as `path:line` without a snippet.

use std::fmt::Write as _;
use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity};
use codespan_reporting::files::{self, Files, SimpleFile};
use codespan_reporting::term::{self, Config};

use super::{Report, plural};
use crate::checks::{Evidence, Finding, Status};

/// The widest snippet shown, in characters; longer lines are cut around the evidence column.
const SNIPPET_CHARS: usize = 200;
/// How many characters of context a cut snippet keeps before the evidence column.
const SNIPPET_BEFORE: usize = 60;

pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for f in &report.findings.findings {
        out.push_str(&finding(report, f));
    }
    out.push_str(&rules_section(report));
    let _ = writeln!(out, "{}", report.counts_line());
    let deny = report.findings.count("deny");
    if deny > 0 {
        let _ = writeln!(out, "result: FAIL ({deny} deny finding{})", plural(deny));
    } else {
        out.push_str("result: pass\n");
    }
    out
}

fn severity(level: &str) -> Severity {
    match level {
        "deny" => Severity::Error,
        "warn" => Severity::Warning,
        _ => Severity::Note,
    }
}

/// `path:line`, with `:col` when the evidence has a column.
pub(super) fn location(e: &Evidence) -> String {
    match e.column {
        Some(c) => format!("{}:{}:{c}", clean(&e.path), e.line),
        None => format!("{}:{}", clean(&e.path), e.line),
    }
}

/// One finding as a diagnostic, ending with a blank line.
fn finding(report: &Report<'_>, f: &Finding) -> String {
    let mut header = format!(
        "{} [{}] {}: {}",
        clean(&f.rule),
        clean(&f.level),
        clean(&f.subject),
        clean(&f.title)
    );
    if !f.message.is_empty() {
        header.push('\n');
        header.push_str(&clean(&f.message));
    }
    let limit = report.evidence_limit.max(1);
    let mut notes = Vec::new();
    let first = f.evidence.first();
    let snippet = first.and_then(|e| read_snippet(report, e).map(|s| (e, s)));
    if let (Some(e), None) = (first, &snippet) {
        // The line could not be re-read: its location alone.
        notes.push(match &e.note {
            Some(n) => format!("at {}: {}", location(e), clean(n)),
            None => format!("at {}", location(e)),
        });
    }
    for e in f.evidence.iter().take(limit).skip(1) {
        notes.push(match &e.note {
            Some(n) => format!("also at {}: {}", location(e), clean(n)),
            None => format!("also at {}", location(e)),
        });
    }
    if f.evidence.len() > limit {
        notes.push(format!("… and {} more", f.evidence.len() - limit));
    }
    if let Some(w) = &f.waiver {
        let by = format!("{} (approved by {})", clean(&w.id), clean(&w.approved_by));
        let expires = if w.expires.is_empty() {
            "unknown".to_string()
        } else {
            clean(&w.expires)
        };
        notes.push(if f.is_waived() {
            format!(
                "waived by {by}, expires {expires}; level without the waiver: {}",
                w.level.as_str()
            )
        } else {
            format!(
                "waiver {by} expired {expires}; the finding is back at {}",
                w.level.as_str()
            )
        });
    }
    if let Some(integrity) = f.integrity {
        notes.push(format!(
            "integrity: {integrity} (the evidence lies in a broken chain segment, LOG-02)"
        ));
    }
    if !f.pre_effective.is_empty() {
        notes.push(format!(
            "before the effective date of: {}",
            clean(&f.pre_effective.join(", "))
        ));
    }
    let mut id = format!("id: {}", clean(&f.id));
    if let Some(n) = f.count {
        let _ = write!(id, " · count: {n}");
    }
    if !f.packs.is_empty() {
        let _ = write!(id, " · packs: {}", clean(&f.packs.join(", ")));
    }
    notes.push(id);
    if !f.clauses.is_empty() {
        notes.push(format!("clauses: {}", clean(&f.clauses.join("; "))));
    }

    let sev = severity(&f.level);
    let mut text = match snippet {
        Some((e, (line_text, column))) => {
            let label = match (&e.note, &e.event) {
                (Some(n), _) => clean(n),
                (None, Some(ev)) => format!("event `{}`", clean(ev)),
                (None, None) => String::new(),
            };
            let name = clean(&e.path);
            let file = OneLine {
                name: &name,
                text: format!("{line_text}\n"),
                line: e.line,
                column: e.column,
            };
            let start = column.map_or(0, |c| c - 1).min(line_text.len());
            let end = file.text[start..]
                .chars()
                .next()
                .map_or(start, |c| start + c.len_utf8());
            let diagnostic = Diagnostic::new(sev)
                .with_message(&header)
                .with_labels(vec![Label::primary((), start..end).with_message(label)])
                .with_notes(notes.clone());
            let mut out = String::new();
            match term::emit_to_string(&mut out, &Config::default(), &file, &diagnostic) {
                Ok(()) => out,
                Err(_) => plain(sev, &header, notes),
            }
        }
        None => plain(sev, &header, notes),
    };
    if !text.ends_with("\n\n") {
        text.push('\n');
    }
    text
}

/// A diagnostic without a snippet, in the same layout.
fn plain(severity: Severity, header: &str, notes: Vec<String>) -> String {
    let file = SimpleFile::new("", "");
    let diagnostic = Diagnostic::new(severity)
        .with_message(header)
        .with_notes(notes.clone());
    let mut out = String::new();
    if term::emit_to_string(&mut out, &Config::default(), &file, &diagnostic).is_err() {
        out = format!("{header}\n");
        for n in notes {
            let _ = writeln!(out, "  = {n}");
        }
    }
    out
}

/// One input line as a codespan file: its real line number in the gutter and its real byte column
/// in `path:line:col`, whatever was cut or replaced for display.
struct OneLine<'a> {
    name: &'a str,
    /// The shown text and a final LF.
    text: String,
    line: u64,
    column: Option<usize>,
}

impl<'a> Files<'a> for OneLine<'a> {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, _: ()) -> Result<&'a str, files::Error> {
        Ok(self.name)
    }

    fn source(&'a self, _: ()) -> Result<&'a str, files::Error> {
        Ok(&self.text)
    }

    fn line_index(&'a self, _: (), _: usize) -> Result<usize, files::Error> {
        Ok(0)
    }

    fn line_number(&'a self, _: (), line_index: usize) -> Result<usize, files::Error> {
        Ok(usize::try_from(self.line)
            .unwrap_or(usize::MAX)
            .saturating_add(line_index))
    }

    fn line_range(&'a self, _: (), line_index: usize) -> Result<Range<usize>, files::Error> {
        match line_index {
            0 => Ok(0..self.text.len()),
            given => Err(files::Error::LineTooLarge { given, max: 0 }),
        }
    }

    fn column_number(&'a self, _: (), _: usize, byte_index: usize) -> Result<usize, files::Error> {
        Ok(self
            .column
            .unwrap_or_else(|| files::column_index(&self.text, 0..self.text.len(), byte_index) + 1))
    }
}

/// The evidence's line as ingest read it; `None` when it cannot be read again.
pub(super) fn line_bytes(report: &Report<'_>, e: &Evidence) -> Option<Vec<u8>> {
    let origin = &e.origin;
    // `line_bytes` indexes the file table: an origin from elsewhere must not panic here.
    report.ingest.files.get(origin.file as usize)?;
    report.ingest.line_bytes(origin).ok()
}

/// The evidence's input line, cleaned and cut to fit, with the evidence column moved to match;
/// `None` when the line cannot be re-read.
fn read_snippet(report: &Report<'_>, e: &Evidence) -> Option<(String, Option<usize>)> {
    let bytes = line_bytes(report, e)?;
    // The input record still holds what adapters keep out of events: credentials in URIs,
    // Kubernetes Secret and ConfigMap values.
    let format = report
        .ingest
        .sources
        .get(e.origin.source as usize)
        .map_or("", |s| s.format.as_str());
    let bytes = crate::ingest::adapter::shown_original(format, &bytes).unwrap_or(bytes);
    Some(snippet(&bytes, e.column))
}

/// Lossy UTF-8 of a line, controls replaced, cut to [`SNIPPET_CHARS`] around the 1-based byte
/// `column`; returns the text and the column's 1-based byte position in it.
pub(super) fn snippet(bytes: &[u8], column: Option<usize>) -> (String, Option<usize>) {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let target = column.map(|c| c.saturating_sub(1));
    // Decoded characters; `at` is the index of the character holding the column's byte.
    let mut chars: Vec<char> = Vec::new();
    let mut at = None;
    let mut offset = 0usize;
    for chunk in bytes.utf8_chunks() {
        for (i, c) in chunk.valid().char_indices() {
            if at.is_none() && target.is_some_and(|t| t < offset + i + c.len_utf8()) {
                at = Some(chars.len());
            }
            chars.push(shown(c));
        }
        offset += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            if at.is_none() && target.is_some_and(|t| t < offset + chunk.invalid().len()) {
                at = Some(chars.len());
            }
            chars.push(char::REPLACEMENT_CHARACTER);
            offset += chunk.invalid().len();
        }
    }
    // A column past the end points just after the last character.
    let at = target.map(|_| at.unwrap_or(chars.len()));
    let (start, end) = if chars.len() <= SNIPPET_CHARS {
        (0, chars.len())
    } else {
        let start = at
            .map_or(0, |a| a.saturating_sub(SNIPPET_BEFORE))
            .min(chars.len() - SNIPPET_CHARS);
        (start, start + SNIPPET_CHARS)
    };
    let mut text = String::new();
    if start > 0 {
        text.push('…');
    }
    let mut col = None;
    for (i, c) in chars[start..end].iter().enumerate() {
        if at == Some(start + i) {
            col = Some(text.len() + 1);
        }
        text.push(*c);
    }
    if at.is_some() && col.is_none() {
        col = Some(text.len() + 1);
    }
    if end < chars.len() {
        text.push('…');
    }
    (text, col)
}

/// How a character from the logs is shown: C0 controls as their Control Pictures, other
/// controls and bidi formatting characters as U+FFFD; tabs stay (codespan expands them).
fn shown(c: char) -> char {
    match c {
        '\t' => c,
        '\u{0}'..='\u{1f}' => {
            char::from_u32(0x2400 + c as u32).unwrap_or(char::REPLACEMENT_CHARACTER)
        }
        '\u{7f}' => '\u{2421}',
        '\u{80}'..='\u{9f}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061c}' => char::REPLACEMENT_CHARACTER,
        _ => c,
    }
}

/// Text from the report made safe for one terminal line.
pub(super) fn clean(s: &str) -> String {
    s.chars().map(shown).collect()
}

/// Rules not evaluable, not applicable, not implemented, and turned off.
fn rules_section(report: &Report<'_>) -> String {
    let f = report.findings;
    let mut out = String::new();
    let not_evaluable: Vec<(&str, &str)> = f
        .rules
        .iter()
        .filter_map(|r| match &r.status {
            Status::NotEvaluable(reason) => Some((r.rule, reason.as_str())),
            _ => None,
        })
        .collect();
    let not_applicable: Vec<(&str, &str)> = f
        .rules
        .iter()
        .filter_map(|r| match &r.status {
            Status::NotApplicable(reason) => Some((r.rule, reason.as_str())),
            _ => None,
        })
        .collect();
    for (title, list) in [
        ("not evaluable", &not_evaluable),
        ("not applicable", &not_applicable),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title} ({} rule{}):", list.len(), plural(list.len()));
        for (rule, reason) in list {
            let _ = writeln!(out, "  {rule}: {}", clean(reason));
        }
    }
    if !f.not_implemented.is_empty() {
        let n = f.not_implemented.len();
        let _ = writeln!(
            out,
            "not implemented ({n} rule{} listed by the enabled packs): {}",
            plural(n),
            clean(&f.not_implemented.join(", "))
        );
    }
    if !f.disabled.is_empty() {
        let _ = writeln!(
            out,
            "turned off in [policy] levels: {}",
            clean(&f.disabled.join(", "))
        );
    }
    out.push_str(&coverage_section(report));
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// One line per enabled pack that maps clauses: how many clauses pass, fail, are waived or
/// cannot be judged (`check --format json` has the full matrix).
fn coverage_section(report: &Report<'_>) -> String {
    use crate::checks::matrix::CoverageStatus;
    let mut out = String::new();
    for p in &report.findings.coverage {
        if p.clauses.is_empty() {
            continue;
        }
        let mut counts: Vec<(CoverageStatus, usize)> = Vec::new();
        for c in &p.clauses {
            match counts.iter_mut().find(|(s, _)| *s == c.status) {
                Some((_, n)) => *n += 1,
                None => counts.push((c.status, 1)),
            }
        }
        counts.sort();
        let parts: Vec<String> = counts
            .iter()
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "coverage {}: {} clause{}: {}",
            p.pack,
            p.clauses.len(),
            plural(p.clauses.len()),
            parts.join(" · ")
        );
    }
    out
}

/// A small report over real input files, shared by the renderers' tests.
#[cfg(test)]
pub(super) mod fixture {
    use serde_json::json;

    use crate::checks::{
        Evidence, Finding, Findings, Level, RuleRun, Status, WaiverRef, finding_id,
    };
    use crate::report::Report;
    use crate::testing::{Case, chain, check, ev};

    pub struct Fixture {
        pub case: Case,
        pub findings: Findings,
    }

    impl Fixture {
        pub fn report(&self, evidence_limit: usize) -> Report<'_> {
            Report {
                config_path: "trailbook.toml",
                ingest: &self.case.loaded.ingest,
                model: &self.case.loaded.model,
                findings: &self.findings,
                packs: vec!["baseline".into()],
                evidence_limit,
            }
        }
    }

    /// The rule's title: the catalogue's once the rule is implemented.
    pub fn title(rule: &str) -> String {
        crate::checks::catalogue::rule(rule)
            .map_or_else(|| format!("{rule} title"), |m| m.title.to_string())
    }

    fn finding(
        rule: &str,
        level: &str,
        subject: &str,
        disc: &str,
        message: &str,
        evidence: Vec<Evidence>,
    ) -> Finding {
        let effective = Level::parse(level).unwrap_or(Level::Deny);
        Finding {
            id: finding_id(rule, subject, disc),
            rule: rule.into(),
            level: level.into(),
            title: title(rule),
            message: message.into(),
            subject: subject.into(),
            discriminator: disc.into(),
            count: None,
            integrity: None,
            waiver: None,
            evidence,
            packs: vec!["baseline".into()],
            clauses: vec!["AI Act Art. 12(1) [V]".into()],
            pre_effective: Vec::new(),
            effective_level: effective,
            system: None,
        }
    }

    /// Source `main`: three chained events, the third with `"ts":"yesterday"` (quarantined);
    /// findings of every level pointing at those lines.
    pub fn build() -> Fixture {
        let reg = |id: &str, ts: &str, v: &str| {
            ev(
                id,
                ts,
                "model.registered",
                &format!("model_version:m@{v}"),
                json!({"model": "m", "version": v}),
            )
        };
        let events = [
            reg("e1", "2026-01-01T00:00:00Z", "1"),
            reg("e2", "2026-01-02T00:00:00Z", "2"),
            reg("e3", "yesterday", "3"),
        ];
        let case = check(&[("main", chain(&events))], "");
        let ingest = &case.loaded.ingest;
        let at = |line: u64, column: Option<usize>, note: Option<&str>| {
            let origin = ingest
                .quarantine
                .iter()
                .map(|q| q.origin)
                .chain(case.loaded.model.events.iter().map(|e| e.origin))
                .find(|o| o.line == line)
                .expect("fixture line");
            Evidence {
                event: None,
                source: "main".into(),
                path: "main.jsonl".into(),
                line,
                column,
                note: note.map(str::to_string),
                origin,
            }
        };
        let column = ingest
            .quarantine
            .iter()
            .find(|q| q.origin.line == 3)
            .expect("line 3 is quarantined")
            .column;
        let mut deny = finding(
            "LOG-06",
            "deny",
            "source:main",
            "",
            "1 line of source `main` is not an event",
            vec![
                at(3, Some(column), Some("not an RFC 3339 time")),
                at(1, None, None),
                at(2, None, None),
            ],
        );
        deny.integrity = Some("unverified");
        let mut warn = finding(
            "LOG-05",
            "warn",
            "event:e1",
            "",
            "ids <a&b> \"quoted\" 'single' \u{1b}[31mred\u{7}",
            vec![Evidence {
                event: Some("e1".into()),
                ..at(1, None, None)
            }],
        );
        warn.count = Some(2);
        let mut waived = finding(
            "LOG-02",
            "waived",
            "source:main",
            "a|2",
            "chain break at line 2",
            vec![at(2, Some(3), None)],
        );
        waived.waiver = Some(WaiverRef {
            id: "W-1".into(),
            expires: "2026-12-31T00:00:00Z".into(),
            approved_by: "head-of-risk".into(),
            level: Level::Deny,
        });
        let info = finding(
            "LOG-08",
            "info",
            "waiver:W-1",
            "e",
            "waiver `W-1` on LOG-02 is active but matches no finding",
            vec![],
        );
        let run = |rule: &'static str, status: Status, findings: usize| RuleRun {
            rule,
            status,
            packs: vec!["baseline".into()],
            findings,
        };
        let findings = Findings {
            findings: vec![deny, warn, info, waived],
            rules: vec![
                run("LOG-02", Status::Evaluated, 1),
                run(
                    "LOG-04",
                    Status::NotEvaluable("no `source.gap` events & no <coverage>".into()),
                    0,
                ),
                run("LOG-05", Status::Evaluated, 1),
                run("LOG-06", Status::Evaluated, 1),
                run("LOG-07", Status::NotApplicable("no corrections".into()), 0),
                run("LOG-08", Status::Evaluated, 1),
            ],
            not_implemented: vec!["LINK-01".into()],
            coverage: Vec::new(),
            disabled: Vec::new(),
        };
        Fixture { case, findings }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_never_show_uri_credentials() {
        let line =
            r#"{"id":"a","ts":"yesterday","kind":"access","src":"postgres://admin:hunter2@db/x"}"#;
        let case = crate::testing::check(&[("main", format!("{line}\n"))], "");
        let report = Report {
            config_path: "trailbook.toml",
            ingest: &case.loaded.ingest,
            model: &case.loaded.model,
            findings: &case.findings,
            packs: vec!["baseline".into()],
            evidence_limit: 5,
        };
        let text = render(&report);
        assert!(text.contains("postgres://db/x"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn findings_show_location_snippet_and_notes() {
        let fx = fixture::build();
        let text = render(&fx.report(2));
        // The deny finding: header, message, location with column, the quarantined line, label.
        let header = format!(
            "error: LOG-06 [deny] source:main: {}\n1 line of source `main` is not an event\n",
            fixture::title("LOG-06")
        );
        assert!(text.contains(&header), "{text}");
        let col = fx.case.loaded.ingest.quarantine[0].column;
        assert!(text.contains(&format!("┌─ main.jsonl:3:{col}")), "{text}");
        assert!(text.contains(r#""ts":"yesterday""#), "{text}");
        assert!(text.contains("^ not an RFC 3339 time"), "{text}");
        assert!(text.contains("= also at main.jsonl:1\n"), "{text}");
        assert!(text.contains("= … and 1 more"), "{text}");
        assert!(!text.contains("also at main.jsonl:2"), "{text}");
        assert!(text.contains("= integrity: unverified"), "{text}");
        assert!(text.contains("= clauses: AI Act Art. 12(1) [V]"), "{text}");
        assert!(
            text.contains(&format!("= id: {}", fx.findings.findings[0].id)),
            "{text}"
        );
        // Levels map to severities; the waived one says by whom and until when.
        assert!(text.contains("warning: LOG-05 [warn] event:e1"), "{text}");
        assert!(text.contains("note: LOG-08 [info] waiver:W-1"), "{text}");
        assert!(text.contains("note: LOG-02 [waived] source:main"), "{text}");
        assert!(
            text.contains("waived by W-1 (approved by head-of-risk), expires 2026-12-31T00:00:00Z"),
            "{text}"
        );
        // Evidence order follows the findings; the summary closes.
        assert!(
            text.contains(
                "not evaluable (1 rule):\n  LOG-04: no `source.gap` events & no <coverage>\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("not applicable (1 rule):\n  LOG-07: no corrections\n"),
            "{text}"
        );
        assert!(
            text.contains("not implemented (1 rule listed by the enabled packs): LINK-01\n"),
            "{text}"
        );
        assert!(
            text.contains("findings: 1 deny, 1 warn, 1 info, 1 waived\n"),
            "{text}"
        );
        assert!(text.ends_with("result: FAIL (1 deny finding)\n"), "{text}");
    }

    #[test]
    fn output_has_no_escape_codes_and_is_deterministic() {
        let fx = fixture::build();
        let a = render(&fx.report(20));
        assert_eq!(a, render(&fx.report(20)));
        assert!(!a.contains('\u{1b}') && !a.contains('\u{7}'), "{a}");
        assert!(a.contains("␛[31mred␇"), "{a}");
    }

    #[test]
    fn unreadable_lines_show_the_location_only() {
        let mut fx = fixture::build();
        std::fs::remove_file(fx.case.dir.path().join("main.jsonl")).unwrap();
        // An origin outside the file table must not panic either.
        fx.findings.findings[1].evidence[0].origin.file = 99;
        let text = render(&fx.report(20));
        let col = fx.case.loaded.ingest.quarantine[0].column;
        assert!(
            text.contains(&format!("= at main.jsonl:3:{col}: not an RFC 3339 time")),
            "{text}"
        );
        assert!(text.contains("= at main.jsonl:1\n"), "{text}");
        assert!(!text.contains("yesterday"), "{text}");
    }

    #[test]
    fn a_clean_run_passes() {
        let mut fx = fixture::build();
        fx.findings.findings.retain(|f| f.level != "deny");
        let text = render(&fx.report(20));
        assert!(text.ends_with("result: pass\n"), "{text}");
    }

    #[test]
    fn real_findings_point_into_the_input() {
        use serde_json::json;

        use crate::testing::{chain, check, ev};
        let reg = |id: &str, ts: &str, v: &str| {
            ev(
                id,
                ts,
                "model.registered",
                &format!("model_version:m@{v}"),
                json!({"model": "m", "version": v}),
            )
        };
        let events = [
            reg("e1", "2026-01-01T00:00:00Z", "1"),
            reg("e2", "2026-01-02T00:00:00Z", "2"),
            reg("e3", "yesterday", "3"),
        ];
        // One byte of line 2 edited: the chain breaks at line 3, which is also quarantined (LOG-06).
        let lines = chain(&events).replacen(r#""version":"2""#, r#""version":"X""#, 1);
        let case = check(&[("main", lines)], "");
        let report = Report {
            config_path: "trailbook.toml",
            ingest: &case.loaded.ingest,
            model: &case.loaded.model,
            findings: &case.findings,
            packs: vec!["baseline".into()],
            evidence_limit: 20,
        };
        let text = render(&report);
        let located: Vec<String> = case
            .findings
            .findings
            .iter()
            .filter(|f| f.rule == "LOG-02" || f.rule == "LOG-06")
            .filter_map(|f| f.evidence.first())
            .map(|e| format!("┌─ {}\n", location(e)))
            .collect();
        assert!(!located.is_empty(), "{text}");
        for l in &located {
            assert!(text.contains(l.as_str()), "{l}\n{text}");
        }
        // The line of each, re-read (LOG-02's evidence names the line by file and number only).
        let log02 = &text[text.find("LOG-02 [deny]").expect("LOG-02 fires")..];
        assert!(
            log02[..log02.find("\n\n").unwrap()].contains(r#"3 │ {"seq":3,"prev":""#),
            "{text}"
        );
        let log06 = &text[text.find("LOG-06 [deny]").expect("LOG-06 fires")..];
        assert!(
            log06[..log06.find("\n\n").unwrap()].contains(r#""ts":"yesterday"}"#),
            "{text}"
        );
        assert!(text.contains("result: FAIL"), "{text}");
    }

    #[test]
    fn snippets_decode_lossily_and_cut_around_the_column() {
        assert_eq!(
            snippet(b"ab\xffcd\r", Some(4)),
            ("ab\u{fffd}cd".to_string(), Some(6))
        );
        assert_eq!(
            snippet("é\u{1b}x".as_bytes(), Some(3)),
            ("é␛x".to_string(), Some(3))
        );
        assert_eq!(snippet(b"abc", Some(9)), ("abc".to_string(), Some(4)));
        assert_eq!(snippet(b"abc", None), ("abc".to_string(), None));
        let long = "x".repeat(500) + "HERE" + &"y".repeat(500);
        let (text, col) = snippet(long.as_bytes(), Some(501));
        let col = col.unwrap();
        assert!(text.starts_with('…') && text.ends_with('…'), "{text}");
        assert_eq!(&text[col - 1..col + 3], "HERE");
        assert_eq!(text.chars().count(), SNIPPET_CHARS + 2);
    }

    #[test]
    fn the_counts_line_names_records_and_folded() {
        let ol = concat!(
            "{\"eventType\":\"START\",\"eventTime\":\"2026-01-01T00:00:00Z\",\"run\":{\"runId\":\"r1\"},\"job\":{\"namespace\":\"etl\",\"name\":\"j\"}}\n",
            "{\"eventType\":\"COMPLETE\",\"eventTime\":\"2026-01-01T01:00:00Z\",\"run\":{\"runId\":\"r1\"},\"job\":{\"namespace\":\"etl\",\"name\":\"j\"}}\n",
            "{broken\n",
        );
        let case = crate::testing::check_config(
            &[("ol.ndjson", ol)],
            "[[source]]\nname = \"lineage\"\nformat = \"openlineage\"\npaths = [\"ol.ndjson\"]\n",
        );
        let report = Report {
            config_path: "trailbook.toml",
            ingest: &case.loaded.ingest,
            model: &case.loaded.model,
            findings: &case.findings,
            packs: vec!["baseline".into()],
            evidence_limit: 20,
        };
        let text = render(&report);
        assert!(
            text.contains(
                "read 3 records from 1 source (1 file): 1 events, 1 quarantined, 1 folded into other events; findings:"
            ),
            "{text}"
        );
        assert!(!text.contains("does not balance"), "{text}");
    }
}
