//! `events/N.html` and `events/index.html`: the event drill-down. The events of the as-of view
//! in model order, 1000 a page (`links::event_href`: event `i` is `events/{i/1000+1}.html#e{i}`),
//! each with its envelope, where it was logged, the original line's bytes, its hash-chain links
//! and its corrections.
//!
//! The original lines are read again from the input files: per page, each file is opened once
//! and read in one span when the page's lines of it lie close together (the common case: events
//! are in time order and files are appended in time order), else line by line. Pages are built
//! in parallel and added in page order, so the output does not depend on scheduling. A page that
//! would exceed [`BUDGET`] clips its longest lines (never silently: the note gives the full
//! length and where the full line is).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::EventRow;
use crate::config::ChainMode;
use crate::event::Origin;
use crate::ingest::Ingest;
use crate::render::{Cx, PAGE_ROWS, Pages, links};

/// The size a drill-down page aims to stay under (the hard limit is `MAX_PAGE_BYTES`).
const BUDGET: usize = 1_900_000;

/// Clip lengths tried, longest first, when a page is over its budget.
const CLIPS: &[usize] = &[4096, 2048, 1024, 512, 256, 128];

/// The data of either template use: a drill-down page or the index.
#[derive(Serialize)]
struct Wrap<'a> {
    drill: Option<&'a Page>,
    index: Option<&'a Index>,
}

#[derive(Serialize)]
struct Page {
    number: usize,
    count: usize,
    first: usize,
    last: usize,
    total: usize,
    nav: Nav,
    events: Vec<Row>,
    clipped: usize,
    /// The audience sees redacted events, not the logged lines.
    redacted: bool,
}

/// The pager of a drill-down page: first, previous, next, last and the index.
#[derive(Clone, Serialize)]
struct Nav {
    first: Option<String>,
    previous: Option<String>,
    next: Option<String>,
    last: Option<String>,
}

#[derive(Serialize)]
struct Row {
    /// Model index: the anchor is `e{index}`.
    index: u32,
    event: EventRow,
    recorded: Option<String>,
    source: String,
    offset: u64,
    bytes: u64,
    /// The original line as text (lossy when not UTF-8), possibly clipped.
    line: String,
    not_utf8: bool,
    /// The line is shown without secret values or URI credentials (the SHA-256 is of the line
    /// as logged).
    withheld: bool,
    clipped: Option<usize>,
    /// Why the line could not be read again.
    unreadable: Option<String>,
    chain: Chain,
    supersedes: Option<Link>,
    superseded_by: Option<Link>,
}

#[derive(Serialize)]
struct Chain {
    chained: bool,
    seq: Option<u64>,
    prev: Option<String>,
    sha256: Option<String>,
    unverified: bool,
}

#[derive(Serialize)]
struct Link {
    id: String,
    href: Option<String>,
}

#[derive(Serialize)]
struct Index {
    redacted: bool,
    total: usize,
    after_view: usize,
    pages: Vec<IndexRow>,
}

#[derive(Serialize)]
struct IndexRow {
    number: usize,
    href: String,
    first: usize,
    last: usize,
    from: String,
    to: String,
}

fn page_path(number: usize) -> String {
    format!("events/{number}.html")
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let chunks = links::paginate(model.in_view, PAGE_ROWS);
    let count = chunks.len();
    let rendered: Vec<anyhow::Result<Vec<u8>>> = chunks
        .par_iter()
        .map(|(number, range)| render_page(cx, *number, count, range.clone(), BUDGET))
        .collect();
    for ((number, _), bytes) in chunks.iter().zip(rendered) {
        pages.add(page_path(*number), bytes?);
    }
    let index = Index {
        redacted: !cx.input.exposure.original_lines,
        total: model.in_view,
        after_view: model.events.len() - model.in_view,
        pages: chunks
            .iter()
            .filter(|(_, r)| !r.is_empty())
            .map(|(number, r)| IndexRow {
                number: *number,
                href: page_path(*number),
                first: r.start,
                last: r.end - 1,
                from: crate::time::fmt(model.events[r.start].ts),
                to: crate::time::fmt(model.events[r.end - 1].ts),
            })
            .collect(),
    };
    pages.add(
        "events/index.html",
        cx.render(
            "events/index.html",
            "events.html",
            "Events",
            Wrap {
                drill: None,
                index: Some(&index),
            },
        )?,
    );
    Ok(())
}

/// Renders one drill-down page, clipping long lines when it would exceed `budget` bytes.
fn render_page(
    cx: &Cx<'_>,
    number: usize,
    count: usize,
    range: std::ops::Range<usize>,
    budget: usize,
) -> anyhow::Result<Vec<u8>> {
    let ingest = cx.input.ingest;
    let model = cx.model();
    let origins: Vec<Origin> = model.events[range.clone()]
        .iter()
        .map(|e| e.origin)
        .collect();
    let lines = read_lines(ingest, &origins);
    let path = page_path(number);
    let title = format!("Events, page {number} of {count}");
    let nav = Nav {
        first: (number > 1).then(|| page_path(1)),
        previous: (number > 1).then(|| page_path(number - 1)),
        next: (number < count).then(|| page_path(number + 1)),
        last: (number < count).then(|| page_path(count)),
    };
    let mut clips = CLIPS.iter().copied();
    let mut clip = None;
    loop {
        let rows: Vec<Row> = range
            .clone()
            .zip(&lines)
            .map(|(i, line)| row(cx, i as u32, line, clip))
            .collect();
        let page = Page {
            number,
            count,
            first: range.start,
            last: range.end.saturating_sub(1),
            total: model.in_view,
            nav: nav.clone(),
            clipped: rows.iter().filter(|r| r.clipped.is_some()).count(),
            redacted: !cx.input.exposure.original_lines,
            events: rows,
        };
        let html = cx.render(
            &path,
            "events.html",
            &title,
            Wrap {
                drill: Some(&page),
                index: None,
            },
        )?;
        if html.len() <= budget {
            return Ok(html);
        }
        match clips.next() {
            Some(c) => clip = Some(c),
            // Over budget even so: `render` refuses a page over the hard limit.
            None => return Ok(html),
        }
    }
}

/// `prev` of a line, read from its JSON (the line of an event is a valid object).
#[derive(Deserialize)]
struct PrevField {
    #[serde(default)]
    prev: Option<String>,
}

fn row(cx: &Cx<'_>, i: u32, bytes: &std::io::Result<Vec<u8>>, clip: Option<usize>) -> Row {
    let ingest = cx.input.ingest;
    let model = cx.model();
    let e = model.event(i);
    let source = &ingest.sources[e.origin.source as usize];
    let link = |j: u32| Link {
        id: model.event(j).id.to_string(),
        href: ((j as usize) < model.in_view).then(|| links::event_href(j)),
    };
    let supersedes = e.supersedes().map(|id| Link {
        id: id.to_string(),
        href: super::event_link(cx, id),
    });
    let (line, not_utf8, clipped, unreadable, sha256, prev, withheld) = match bytes {
        Ok(b) => {
            let sha = hex::encode(Sha256::digest(b));
            let prev = serde_json::from_slice::<PrevField>(b)
                .ok()
                .and_then(|p| p.prev);
            // A redacting audience sees the redacted event, never the logged bytes; the line's
            // SHA-256 and `prev` (digests) still let it follow the chain.
            let redacted = (!cx.input.exposure.original_lines).then(|| redacted_line(cx, i));
            let b: &[u8] = redacted.as_deref().unwrap_or(b);
            let not_utf8 = std::str::from_utf8(b).is_err();
            // Never what the adapter withheld from the event, nor a URI password.
            let withheld = crate::ingest::adapter::shown_original(&source.format, b);
            let b = withheld.as_deref().unwrap_or(b);
            let (shown, clipped) = match clip {
                Some(max) if b.len() > max => {
                    let mut end = max;
                    // Cut at a character boundary: back off over continuation bytes.
                    while end > 0 && (b[end] & 0xC0) == 0x80 {
                        end -= 1;
                    }
                    (&b[..end], Some(end))
                }
                _ => (b, None),
            };
            (
                String::from_utf8_lossy(shown).into_owned(),
                not_utf8,
                clipped,
                None,
                Some(sha),
                prev,
                withheld.is_some(),
            )
        }
        Err(err) => (
            String::new(),
            false,
            None,
            Some(err.to_string()),
            None,
            None,
            false,
        ),
    };
    Row {
        index: i,
        event: EventRow::new(cx, i),
        recorded: e.recorded_ts().map(crate::time::fmt),
        source: source.name.clone(),
        offset: e.origin.offset,
        bytes: e.origin.len,
        line,
        not_utf8,
        withheld,
        clipped,
        unreadable,
        chain: Chain {
            prev: prev.clone(),
            chained: source.chain_mode != ChainMode::None && prev.is_some(),
            seq: e.seq,
            sha256,
            unverified: ingest.unverified(e.origin.source, e.origin.file, e.origin.line),
        },
        supersedes,
        superseded_by: model.superseded_by[i as usize].map(link),
    }
}

/// The event as the redacted model holds it, as one line of JSON in the canonical layout
/// (envelope fields in schema order, `seq` first; keys inside `attrs` and `rationale` sorted).
fn redacted_line(cx: &Cx<'_>, i: u32) -> Vec<u8> {
    use serde_json::{Map, Value};
    let e = cx.model().event(i);
    let mut o = Map::new();
    let mut put = |k: &str, v: Value| {
        o.insert(k.to_string(), v);
    };
    if let Some(seq) = e.seq {
        put("seq", seq.into());
    }
    put("id", e.id.as_str().into());
    put("ts", crate::time::fmt(e.ts).into());
    if let Some(t) = e.recorded_ts() {
        put("recorded_ts", crate::time::fmt(t).into());
    }
    put("kind", e.kind.as_str().into());
    put(
        "actor",
        serde_json::to_value(&e.actor).unwrap_or(Value::Null),
    );
    if let Some(s) = &e.system {
        put("system", s.as_str().into());
    }
    if let Some(s) = &e.subject {
        put("subject", serde_json::to_value(s).unwrap_or(Value::Null));
    }
    if let Some(env) = &e.env {
        put("env", env.as_str().into());
    }
    put(
        "attrs",
        serde_json::from_str(e.attrs.get()).unwrap_or(Value::Null),
    );
    if let Some(r) = e.rationale_raw() {
        put(
            "rationale",
            serde_json::from_str(r.get()).unwrap_or(Value::Null),
        );
    }
    if !e.data_classes.is_empty() {
        put("data_classes", e.data_classes.clone().into());
    }
    if let Some(c) = e.retention_class() {
        put("retention_class", c.into());
    }
    if !e.legal_holds().is_empty() {
        put("legal_holds", e.legal_holds().to_vec().into());
    }
    if let Some(s) = e.supersedes() {
        put("supersedes", s.into());
    }
    if let Some(r) = e.reason() {
        put("reason", r.into());
    }
    // serde_json's map keeps keys sorted; write the envelope in schema order by hand.
    const ORDER: &[&str] = &[
        "seq",
        "id",
        "ts",
        "recorded_ts",
        "kind",
        "actor",
        "system",
        "subject",
        "env",
        "attrs",
        "rationale",
        "data_classes",
        "retention_class",
        "legal_holds",
        "supersedes",
        "reason",
    ];
    let mut out = String::from("{");
    for k in ORDER {
        if let Some(v) = o.get(*k) {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(&format!("{}:{}", Value::from(*k), v));
        }
    }
    out.push('}');
    out.into_bytes()
}

/// A span read in one piece may be this many times the bytes actually wanted (plus slack).
const SPAN_FACTOR: u64 = 4;
const SPAN_SLACK: u64 = 1 << 20;

/// Reads the lines at `origins` (any order, any files), each file opened once.
fn read_lines(ingest: &Ingest, origins: &[Origin]) -> Vec<std::io::Result<Vec<u8>>> {
    let mut out: Vec<Option<std::io::Result<Vec<u8>>>> = (0..origins.len()).map(|_| None).collect();
    let mut by_file: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for (k, o) in origins.iter().enumerate() {
        by_file.entry(o.file).or_default().push(k);
    }
    for (file, mut ks) in by_file {
        ks.sort_by_key(|&k| origins[k].offset);
        let path = &ingest.files[file as usize].abs;
        let mut f = match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                for k in ks {
                    out[k] = Some(Err(std::io::Error::new(e.kind(), e.to_string())));
                }
                continue;
            }
        };
        let start = origins[ks[0]].offset;
        let end = ks
            .iter()
            .map(|&k| origins[k].offset + origins[k].len)
            .max()
            .unwrap_or(start);
        let wanted: u64 = ks.iter().map(|&k| origins[k].len).sum();
        let span = if end - start <= wanted * SPAN_FACTOR + SPAN_SLACK {
            read_at(&mut f, start, end - start).ok()
        } else {
            None
        };
        for k in ks {
            let o = &origins[k];
            out[k] = Some(match &span {
                Some(buf) => {
                    let a = (o.offset - start) as usize;
                    Ok(buf[a..a + o.len as usize].to_vec())
                }
                None => read_at(&mut f, o.offset, o.len),
            });
        }
    }
    out.into_iter()
        .map(|r| r.expect("every origin is read"))
        .collect()
}

fn read_at(f: &mut File, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0; usize::try_from(len).unwrap_or(0)];
    f.read_exact(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::render::links;
    use crate::testing::{check_events, ev, page, with};

    #[test]
    fn event_page_shows_the_escaped_original_line_and_its_anchor() {
        let case = check_events(
            &[
                ev(
                    "s1",
                    "2026-01-01T00:00:00Z",
                    "system.registered",
                    "system:credit",
                    json!({"name": "<script>alert(1)</script>", "owner": "\"><img src=x onerror=alert(1)>"}),
                ),
                with(
                    ev(
                        "s2",
                        "2026-01-02T00:00:00Z",
                        "system.registered",
                        "system:credit",
                        json!({"name": "Credit"}),
                    ),
                    "supersedes",
                    json!("s1"),
                ),
            ],
            "",
        );
        let pages = case.site();
        let html = page(&pages, "events/1.html");
        assert!(!html.contains("<script>alert"), "raw line escaped");
        assert!(!html.contains("<img src=x"), "raw line escaped");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        // Anchors match links::event_href.
        for i in 0..2u32 {
            let href = links::event_href(i);
            let (file, anchor) = href.split_once('#').unwrap();
            assert_eq!(file, "events/1.html");
            assert!(html.contains(&format!("id=\"{anchor}\"")), "{anchor}");
        }
        // Chain links: the first line's prev is the anchor, and its SHA-256 is line 2's prev.
        let text = std::fs::read_to_string(case.dir.path().join("main.jsonl")).unwrap();
        let first = text.lines().next().unwrap();
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(first.as_bytes()));
        // Line 1's SHA-256, line 2's prev, and line 2's original text.
        assert_eq!(html.matches(&digest).count(), 3, "{html}");
        assert!(html.contains(&"0".repeat(64)));
        // Corrections both ways.
        assert!(html.contains("superseded by"), "{html}");
        assert!(html.contains("href=\"../events/1.html#e1\""));
        assert!(html.contains("href=\"../events/1.html#e0\""));
        assert!(html.contains("main.jsonl:1"));
        let index = page(&pages, "events/index.html");
        assert!(index.contains("href=\"../events/1.html\""), "{index}");
        assert!(index.contains("2026-01-02T00:00:00Z"));
    }

    #[test]
    fn events_are_paged_by_a_thousand() {
        let events: Vec<_> = (0..1001)
            .map(|n| {
                ev(
                    &format!("d{n:04}"),
                    &format!("2026-01-01T00:{:02}:{:02}Z", n / 60 % 60, n % 60),
                    "system.registered",
                    &format!("system:s{n}"),
                    json!({"name": "x"}),
                )
            })
            .collect();
        let case = check_events(&events, "");
        let pages = case.site();
        let last = page(&pages, "events/2.html");
        assert!(last.contains("id=\"e1000\""), "event 1000 on page 2");
        assert!(!last.contains("id=\"e999\""));
        assert!(page(&pages, "events/1.html").contains("id=\"e999\""));
        assert_eq!(links::event_href(1000), "events/2.html#e1000");
        assert!(
            last.contains("href=\"../events/1.html\""),
            "pager back to page 1"
        );
        assert!(!pages.files.contains_key("events/3.html"));
    }

    #[test]
    fn long_lines_are_clipped_with_a_note_when_a_page_is_over_budget() {
        let long = "y".repeat(10_000);
        let case = check_events(
            &[ev(
                "s1",
                "2026-01-01T00:00:00Z",
                "system.registered",
                "system:credit",
                json!({"name": long}),
            )],
            "",
        );
        case.with_cx(1, "internal", None, |cx| {
            let full =
                String::from_utf8(super::render_page(cx, 1, 1, 0..1, super::BUDGET).unwrap())
                    .unwrap();
            assert!(full.contains(&long), "no clipping under budget");
            let budget = full.len() - 2000;
            let small =
                String::from_utf8(super::render_page(cx, 1, 1, 0..1, budget).unwrap()).unwrap();
            assert!(small.len() <= budget);
            assert!(!small.contains(&long));
            assert!(small.contains(&"y".repeat(1000)));
            assert!(small.contains("clipped"), "{small}");
            assert!(
                small.contains("main.jsonl:1"),
                "says where the full line is"
            );
        });
    }
}
