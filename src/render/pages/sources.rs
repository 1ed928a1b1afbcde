//! `sources.html` (and `sources-N.html` for quarantine lists beyond 1000 lines): every input
//! source with its files and their SHA-256, the balance `lines = events + quarantined` (for
//! foreign formats `records = events + quarantined + folded`, `folded` shown when not zero), the
//! time span of its events, its hash-chain status (every break, gap and repeat with the expected
//! and found value), its chain head; duplicate ids and correction problems; events after the
//! as-of time; and the quarantined lines with their location and reason.
//!
//! Order: sources in config order, files in stream order, problems and quarantined lines in
//! ingest order (source, file, line), duplicates and corrections in model order.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{PageLink, event_link, pager};
use crate::config::ChainMode;
use crate::ingest::chain::{ChainIssue, ChainProblem};
use crate::render::{Cx, PAGE_ROWS, Pages, links};

#[derive(Serialize)]
struct Page {
    /// The source tables (first page only).
    summary: Option<Summary>,
    quarantine: Vec<QuarantineRow>,
    quarantine_total: usize,
    first: usize,
    pages: Vec<PageLink>,
}

#[derive(Serialize)]
struct Summary {
    totals: Counts,
    in_view: usize,
    after_view: usize,
    sources: Vec<SourceView>,
    duplicates: Vec<DuplicateRow>,
    duplicates_total: usize,
    corrections: Vec<CorrectionRow>,
    corrections_total: usize,
    superseded: usize,
    /// `[[link]]` entries and what they did.
    links: Vec<LinkRow>,
}

/// Lines (native format) or records (foreign formats) read, events, quarantined, folded, and
/// whether they balance.
#[derive(Serialize)]
struct Counts {
    /// `lines`, `records`, or `lines and records` (totals over both kinds of source).
    unit: &'static str,
    lines: u64,
    events: u64,
    quarantined: u64,
    folded: u64,
    balanced: bool,
}

impl Counts {
    fn new(unit: &'static str, lines: u64, events: u64, quarantined: u64, folded: u64) -> Counts {
        Counts {
            unit,
            lines,
            events,
            quarantined,
            folded,
            balanced: lines == events + quarantined + folded,
        }
    }
}

/// What a native source reads is lines; a foreign format's adapter reads records.
fn unit_of(format: &str) -> &'static str {
    if format == "trailbook-jsonl" {
        "lines"
    } else {
        "records"
    }
}

#[derive(Serialize)]
struct LinkRow {
    index: usize,
    line: usize,
    name: String,
    matched: usize,
    stated: usize,
    /// LINK-01 (c) when not empty.
    problems: Vec<String>,
}

#[derive(Serialize)]
struct SourceView {
    anchor: String,
    name: String,
    format: String,
    chain_mode: String,
    counts: Counts,
    files: Vec<FileView>,
    first: Option<String>,
    last: Option<String>,
    in_view: usize,
    after_view: usize,
    chain: ChainView,
}

#[derive(Serialize)]
struct FileView {
    path: String,
    sha256: String,
    bytes: u64,
    counts: Counts,
}

#[derive(Serialize)]
struct ChainView {
    /// A status word for `m.status` (`pass`, `fail`, `not applicable`, `not evaluable`).
    status: String,
    label: String,
    chained_lines: u64,
    head: Option<String>,
    last_seq: Option<u64>,
    unverified_lines: usize,
    issues: Vec<IssueRow>,
    issues_total: usize,
}

#[derive(Serialize)]
struct IssueRow {
    problem: String,
    letter: String,
    path: String,
    line: u64,
    column: usize,
    expected: String,
    found: String,
    href: Option<String>,
}

#[derive(Serialize)]
struct QuarantineRow {
    source: String,
    path: String,
    line: u64,
    column: usize,
    reason: String,
}

#[derive(Serialize)]
struct DuplicateRow {
    id: String,
    first_path: String,
    first_line: u64,
    first_href: Option<String>,
    other_path: String,
    other_line: u64,
    identical: bool,
}

#[derive(Serialize)]
struct CorrectionRow {
    id: String,
    href: String,
    check: String,
    message: String,
    other: Option<String>,
    other_href: Option<String>,
}

/// The longest reason shown in full: a reason can quote a key from the log, which may be long.
const MAX_REASON: usize = 500;

/// The page holding quarantined line number `n` (0-based).
fn page_of(n: usize) -> String {
    super::paged_path("sources", n)
}

fn problem_name(p: ChainProblem) -> &'static str {
    match p {
        ChainProblem::Break => "chain break",
        ChainProblem::Gap => "seq gap",
        ChainProblem::Repeat => "seq repeat",
        ChainProblem::Unchained => "unchained line",
    }
}

/// Text clipped to `max` bytes at a character boundary, marked when clipped.
fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… (clipped; {} bytes in full)", &s[..end], s.len())
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let ingest = cx.input.ingest;
    let chunks = links::paginate(ingest.quarantine.len(), PAGE_ROWS);
    let count = chunks.len();
    let mut summary = Some(summary(cx));
    for (number, range) in chunks {
        let first = range.start;
        let quarantine = ingest.quarantine[range]
            .iter()
            .map(|q| QuarantineRow {
                source: ingest.sources[q.origin.source as usize].name.clone(),
                path: ingest.files[q.origin.file as usize].path.clone(),
                line: q.origin.line,
                column: q.column,
                reason: clip(&q.reason, MAX_REASON),
            })
            .collect();
        let path = page_of(first);
        let page = Page {
            summary: summary.take(),
            quarantine,
            quarantine_total: ingest.quarantine.len(),
            first: first + 1,
            pages: pager(count, number, |n| page_of((n - 1) * PAGE_ROWS)),
        };
        let title = if number > 1 {
            format!("Sources: quarantined lines ({number} of {count})")
        } else {
            "Sources".to_string()
        };
        pages.add(
            path.clone(),
            cx.render(&path, "sources.html", &title, page)?,
        );
    }
    Ok(())
}

/// Per source: first and last event time, events in view and after the as-of time.
#[derive(Default)]
struct Span {
    first: Option<jiff::Timestamp>,
    last: Option<jiff::Timestamp>,
    in_view: usize,
    after: usize,
}

fn summary(cx: &Cx<'_>) -> Summary {
    let ingest = cx.input.ingest;
    let model = cx.model();
    let mut spans: Vec<Span> = (0..ingest.sources.len()).map(|_| Span::default()).collect();
    for (i, e) in model.events.iter().enumerate() {
        let Some(s) = spans.get_mut(e.origin.source as usize) else {
            continue;
        };
        s.first = Some(s.first.map_or(e.ts, |t| t.min(e.ts)));
        s.last = Some(s.last.map_or(e.ts, |t| t.max(e.ts)));
        if i < model.in_view {
            s.in_view += 1;
        } else {
            s.after += 1;
        }
    }
    // The events at chain problems, for links: one pass over the view.
    let at_issues: BTreeSet<(u32, u64)> = ingest
        .sources
        .iter()
        .flat_map(|s| s.chain.issues.iter().take(PAGE_ROWS))
        .map(|i| (i.file, i.line))
        .collect();
    let mut event_at: BTreeMap<(u32, u64), u32> = BTreeMap::new();
    if !at_issues.is_empty() {
        for (i, e) in model.view_all() {
            let key = (e.origin.file, e.origin.line);
            if at_issues.contains(&key) {
                event_at.insert(key, i);
            }
        }
    }
    let issue_row = |i: &ChainIssue| IssueRow {
        problem: problem_name(i.problem).to_string(),
        letter: i.problem.letter().to_string(),
        path: ingest.files[i.file as usize].path.clone(),
        line: i.line,
        column: i.column,
        expected: i.expected.clone(),
        found: i.found.clone(),
        href: event_at
            .get(&(i.file, i.line))
            .map(|&e| links::event_href(e)),
    };
    let sources = ingest
        .sources
        .iter()
        .zip(spans)
        .map(|(s, span)| {
            let chain = &s.chain;
            let (status, label) = match s.chain_mode {
                ChainMode::None => (
                    "not applicable",
                    "not chained (chain = \"none\"): edits cannot be detected".to_string(),
                ),
                ChainMode::Optional if chain.chained_lines == 0 => (
                    "not evaluable",
                    "no line carries seq and prev: edits cannot be detected".to_string(),
                ),
                _ if chain.issues.is_empty() => (
                    "pass",
                    format!(
                        "intact: {} of {} lines chained, no break, gap or repeat",
                        links::thousands(chain.chained_lines as i64),
                        links::thousands(s.lines as i64)
                    ),
                ),
                _ => (
                    "fail",
                    format!(
                        "{} problem{} (breaks, gaps, repeats, unchained lines)",
                        links::thousands(chain.issues.len() as i64),
                        if chain.issues.len() == 1 { "" } else { "s" }
                    ),
                ),
            };
            SourceView {
                anchor: format!("source-{}", links::file_slug(&s.name)),
                name: s.name.clone(),
                format: s.format.clone(),
                chain_mode: s.chain_mode.as_str().to_string(),
                counts: Counts::new(
                    unit_of(&s.format),
                    s.lines,
                    s.events,
                    s.quarantined,
                    s.folded,
                ),
                files: s
                    .files
                    .iter()
                    .map(|&f| {
                        let f = &ingest.files[f as usize];
                        FileView {
                            path: f.path.clone(),
                            sha256: f.sha256.clone(),
                            bytes: f.bytes,
                            counts: Counts::new(
                                unit_of(&s.format),
                                f.lines,
                                f.events,
                                f.quarantined,
                                f.folded,
                            ),
                        }
                    })
                    .collect(),
                first: span.first.map(crate::time::fmt),
                last: span.last.map(crate::time::fmt),
                in_view: span.in_view,
                after_view: span.after,
                chain: ChainView {
                    status: status.to_string(),
                    label,
                    chained_lines: chain.chained_lines,
                    head: chain.head.clone(),
                    last_seq: chain.last_seq,
                    unverified_lines: chain.unverified.len(),
                    issues: chain.issues.iter().take(PAGE_ROWS).map(issue_row).collect(),
                    issues_total: chain.issues.len(),
                },
            }
        })
        .collect();
    let origin_path = |o: &crate::event::Origin| ingest.files[o.file as usize].path.clone();
    let duplicates = model
        .duplicates
        .iter()
        .take(PAGE_ROWS)
        .map(|d| DuplicateRow {
            id: d.id.clone(),
            first_path: origin_path(&d.first),
            first_line: d.first.line,
            first_href: event_link(cx, &d.id),
            other_path: origin_path(&d.other),
            other_line: d.other.line,
            identical: d.identical,
        })
        .collect();
    let corrections = model
        .corrections
        .iter()
        .take(PAGE_ROWS)
        .map(|c| CorrectionRow {
            id: model.event(c.event).id.to_string(),
            href: links::event_href(c.event),
            check: c.check.to_string(),
            message: c.message.clone(),
            other: c.other.map(|o| model.event(o).id.to_string()),
            other_href: c.other.map(links::event_href),
        })
        .collect();
    let events: u64 = ingest.sources.iter().map(|s| s.events).sum();
    let quarantined: u64 = ingest.sources.iter().map(|s| s.quarantined).sum();
    let units: BTreeSet<&str> = ingest.sources.iter().map(|s| unit_of(&s.format)).collect();
    let unit = match units.len() {
        0 | 1 => units.into_iter().next().unwrap_or("lines"),
        _ => "lines and records",
    };
    let links = ingest
        .links
        .iter()
        .map(|l| LinkRow {
            index: l.index,
            line: l.line,
            name: l.name.clone(),
            matched: l.matched,
            stated: l.stated,
            problems: l.problems.iter().map(|p| clip(p, MAX_REASON)).collect(),
        })
        .collect();
    Summary {
        links,
        totals: Counts::new(unit, ingest.lines(), events, quarantined, ingest.folded()),
        in_view: model.in_view,
        after_view: model.events.len() - model.in_view,
        sources,
        duplicates,
        duplicates_total: model.duplicates.len(),
        corrections,
        corrections_total: model.corrections.len(),
        superseded: model.superseded_by[..model.in_view]
            .iter()
            .filter(|s| s.is_some())
            .count(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::{chain, check, ev, page};

    fn events() -> Vec<serde_json::Value> {
        vec![
            ev(
                "s1",
                "2026-01-01T00:00:00Z",
                "system.registered",
                "system:credit",
                json!({"name": "Credit"}),
            ),
            ev(
                "s2",
                "2026-01-02T00:00:00Z",
                "system.registered",
                "system:other",
                json!({"name": "Other"}),
            ),
        ]
    }

    #[test]
    fn sources_page_lists_files_balance_and_quarantined_lines_with_reasons() {
        let mut text = chain(&events());
        text.push_str("{\"id\": \"broken\", <script>alert(1)</script>\n");
        let case = check(&[("main", text)], "");
        let pages = case.site();
        let html = page(&pages, "sources.html");
        let file = &case.loaded.ingest.files[0];
        assert!(html.contains(&file.sha256), "file digest shown");
        assert!(
            html.contains("main.jsonl:3:"),
            "quarantined line located: {html}"
        );
        assert!(html.contains("invalid JSON"), "reason shown");
        // 3 lines = 2 events + 1 quarantined, shown as such.
        assert!(html.contains("3 lines = 2 + 1"), "{html}");
        // The chain is intact (the bad line carries no prev, but the source is `required`).
        assert!(html.contains("2026-01-01T00:00:00Z"), "time span shown");
        assert!(!html.contains("<script>alert"), "log bytes are escaped");
        assert!(!pages.files.contains_key("sources-2.html"));
    }

    #[test]
    fn a_chain_break_is_listed_with_expected_and_found_hash() {
        let text = chain(&events());
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        // Edit the first line after it was chained: line 2's prev no longer matches.
        lines[0] = lines[0].replace("Credit", "Cr3dit");
        let text = lines.join("\n") + "\n";
        let case = check(&[("main", text)], "");
        let html = page(&case.site(), "sources.html");
        let issue = &case.loaded.ingest.sources[0].chain.issues[0];
        assert!(html.contains("chain break"), "{html}");
        assert!(html.contains(&issue.expected) && html.contains(&issue.found));
        assert!(
            html.contains("href=\"events/1.html#e1\""),
            "links the event at the break"
        );
    }

    #[test]
    fn quarantine_beyond_a_page_is_paginated() {
        let mut text = chain(&events());
        for _ in 0..1001 {
            text.push_str("not json\n");
        }
        let case = check(&[("main", text)], "");
        let pages = case.site();
        let first = page(&pages, "sources.html");
        let second = page(&pages, "sources-2.html");
        assert!(first.contains("href=\"sources-2.html\""));
        assert!(second.contains("main.jsonl:1003:"), "{second}");
        assert!(!second.contains("main.jsonl:1002:"));
        assert!(first.contains("main.jsonl:1002:"));
    }

    #[test]
    fn foreign_sources_show_records_folded_and_joins() {
        let ol = concat!(
            "{\"eventType\":\"START\",\"eventTime\":\"2026-01-01T00:00:00Z\",\"run\":{\"runId\":\"r1\"},\"job\":{\"namespace\":\"etl\",\"name\":\"j\"}}\n",
            "{\"eventType\":\"COMPLETE\",\"eventTime\":\"2026-01-01T01:00:00Z\",\"run\":{\"runId\":\"r1\"},\"job\":{\"namespace\":\"etl\",\"name\":\"j\"}}\n",
        );
        let case = crate::testing::check_config(
            &[("ol.ndjson", ol)],
            "[[source]]\nname = \"lineage\"\nformat = \"openlineage\"\npaths = [\"ol.ndjson\"]\n\n[[link]]\nsame = [\"run:r1\", \"run:legacy-r1\"]\n",
        );
        let pages = case.site();
        let html = page(&pages, "sources.html");
        assert!(html.contains("2 records = 1 + 0 + 1 folded"), "{html}");
        assert!(!html.contains("does not balance"), "{html}");
        assert!(html.contains("Joins across sources"), "{html}");
        assert!(html.contains("no event names `run:legacy-r1`"), "{html}");
    }
}
