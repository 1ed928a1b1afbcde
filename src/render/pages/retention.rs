//! `retention.html` (`SITE.md`, "Pages"): per retention class (the built-in table merged with
//! `[retention.classes.*]`, `checks::classes`) its minimum, maximum, clock start and basis, the
//! records the log holds in it (events assigned by `Classes::class_of`, `RULES.md` §5.2) and the
//! oldest of them, the records due for disposal at the as-of time (the RET-07 evaluation of
//! `checks::retention::Engine`), the legal floors of the enabled packs, the legal holds, the
//! disposals performed (with the RET verdict on each), and the data-subject requests (`dsr.*`)
//! with their outcomes and deadlines (PRV-03's `deadline`).

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::decisions::drill_down;
use super::overview::text;
use super::{EntityLink, event_link};
use crate::checks::classes::{Class, Classes, Clock};
use crate::checks::facts::Facts;
use crate::checks::retention::{Engine, clock_name};
use crate::checks::{self, catalogue};
use crate::event::Event;
use crate::render::{Cx, PAGE_ROWS, Pages, links};
use crate::time;

#[derive(Serialize)]
struct Page {
    classes: Vec<ClassRow>,
    unknown: Vec<(String, u64)>,
    floors: Vec<FloorRow>,
    holds: Vec<HoldRow>,
    disposals: Vec<DisposalRow>,
    disposals_total: usize,
    requests: Vec<RequestRow>,
    requests_total: usize,
    request_counts: Vec<(String, u64)>,
    deadline: String,
    drill_down: bool,
}

#[derive(Serialize)]
struct ClassRow {
    name: String,
    min: Option<String>,
    max: Option<String>,
    clock: String,
    basis: String,
    personal: bool,
    held: u64,
    oldest: Option<String>,
    due: u64,
    due_oldest: Option<String>,
    /// For classes with a `max` whose clock is the event's time: when the oldest record held
    /// reaches the maximum.
    first_due: Option<String>,
    disposals: usize,
    disposed: u64,
    findings: usize,
    findings_href: Option<String>,
}

#[derive(Serialize)]
struct FloorRow {
    rule: String,
    min: String,
    clock: String,
    text: String,
}

#[derive(Serialize)]
struct HoldRow {
    id: String,
    active: bool,
    implied: bool,
    spans: Vec<SpanRow>,
    named_by: usize,
}

#[derive(Serialize)]
struct SpanRow {
    from: String,
    set: Option<Link>,
    until: Option<String>,
    released: Option<Link>,
    scope: Vec<EntityLink>,
    reason: Option<String>,
}

#[derive(Serialize)]
struct Link {
    id: String,
    href: Option<String>,
}

#[derive(Serialize)]
struct DisposalRow {
    id: String,
    href: String,
    ts: String,
    class: String,
    system: Option<String>,
    from: Option<String>,
    to: Option<String>,
    count: Option<String>,
    basis: Option<String>,
    missing: Vec<String>,
    /// The RET rule a too-early disposal violates, with the date it had to wait for.
    early: Option<(String, String)>,
    /// Events the disposal covers that are still in the log and not held.
    left: u64,
}

#[derive(Serialize)]
struct RequestRow {
    id: String,
    kind: Option<String>,
    subject: Option<EntityLink>,
    decision: Option<Link>,
    received: String,
    received_href: String,
    deadline: String,
    resolved: Option<String>,
    resolved_href: Option<String>,
    outcome: Option<String>,
    ground: Option<String>,
    /// `on time`, `late`, `open` or `overdue`.
    status: &'static str,
}

fn link(cx: &Cx<'_>, i: u32) -> Link {
    let id = cx.model().event(i).id.clone();
    Link {
        href: event_link(cx, &id),
        id: id.to_string(),
    }
}

fn attr(a: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    a.get(key)
        .filter(|v| crate::event::present(Some(v)))
        .map(text)
}

/// Records held per class: (count, oldest), assigning each effective event its class once
/// (memoised by kind where only the kind decides).
fn held<'c>(cx: &Cx<'_>, classes: &'c Classes<'c>) -> BTreeMap<&'c str, (u64, Timestamp)> {
    let by_kind_only = cx.input.config.retention.assign.is_empty();
    let mut memo: HashMap<&str, &Class> = HashMap::new();
    let mut out: BTreeMap<&str, (u64, Timestamp)> = BTreeMap::new();
    for (_, e) in cx.model().current() {
        let class = if by_kind_only && e.retention_class().is_none() {
            *memo
                .entry(e.kind.as_str())
                .or_insert_with(|| classes.built_in_class(&e.kind))
        } else {
            let doc_type = (e.kind == "document.registered")
                .then(|| {
                    e.attrs()
                        .get("doc_type")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .flatten();
            classes.class_of(e, doc_type.as_deref())
        };
        let h = out.entry(class.name.as_str()).or_insert((0, e.ts));
        h.0 += 1;
        h.1 = h.1.min(e.ts);
    }
    out
}

fn request_id(e: &Event) -> Option<String> {
    e.attrs()
        .get("request_id")
        .and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| Some(v.to_string()))
        })
        .filter(|s| !s.is_empty())
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let config = cx.input.config;
    let facts = Facts::compute(model, config);
    let meta =
        |id: &str| catalogue::rule(id).unwrap_or_else(|| panic!("rule {id} is in the catalogue"));
    let ccx = checks::Cx {
        model,
        facts: &facts,
        graph: cx.input.graph,
        config,
        ingest: cx.input.ingest,
        rule: meta("RET-07"),
    };
    let eng = Engine::new(&ccx);
    let scan = eng.scan(config.policy.evidence_limit);
    let early: BTreeMap<usize, (String, String)> = eng
        .too_early()
        .into_iter()
        .map(|x| {
            let until = if x.until == Timestamp::MAX {
                "an open date (the clock had not started)".to_string()
            } else {
                time::fmt(x.until)
            };
            (x.disposal, (x.rule.to_string(), until))
        })
        .collect();
    let classes = &eng.classes;
    let held = held(cx, classes);
    let mut due: BTreeMap<&str, (u64, Option<Timestamp>)> = BTreeMap::new();
    for ((class, _, _), agg) in &scan.due {
        let d = due.entry(class).or_default();
        d.0 += agg.count;
        d.1 = match (d.1, agg.oldest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    let mut disposed: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
    for d in &eng.disposals {
        let n = model
            .event(d.event)
            .attrs()
            .get("count")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let x = disposed.entry(d.class.as_str()).or_default();
        x.0 += 1;
        x.1 += n;
    }
    // RET findings by class subject, with the first one's place in the register.
    let mut findings: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (n, f) in cx.input.findings.findings.iter().enumerate() {
        if let Some(c) = f.subject.strip_prefix("retention_class:") {
            findings.entry(c.to_string()).or_insert((0, n)).0 += 1;
        }
    }
    let class_rows: Vec<ClassRow> = classes
        .iter()
        .map(|c| {
            let h = held.get(c.name.as_str());
            let d = due.get(c.name.as_str());
            let f = findings.get(&c.name);
            ClassRow {
                name: c.name.clone(),
                min: c.min.map(|m| m.to_string()),
                max: c.max.map(|m| m.to_string()),
                clock: clock_name(c.clock).to_string(),
                basis: c.basis.to_string(),
                personal: c.personal,
                held: h.map_or(0, |h| h.0),
                oldest: h.map(|h| time::fmt(h.1)),
                due: d.map_or(0, |d| d.0),
                due_oldest: d.and_then(|d| d.1).map(time::fmt),
                first_due: match (c.max, c.clock, h) {
                    (Some(max), Clock::Event, Some(h)) => Some(time::fmt(max.after(h.1))),
                    _ => None,
                },
                disposals: disposed.get(c.name.as_str()).map_or(0, |x| x.0),
                disposed: disposed.get(c.name.as_str()).map_or(0, |x| x.1),
                findings: f.map_or(0, |f| f.0),
                findings_href: f.map(|f| {
                    let id = &cx.input.findings.findings[f.1].id;
                    format!("{}#f-{id}", super::findings::page_of(f.1))
                }),
            }
        })
        .collect();
    let unknown = scan
        .unknown
        .iter()
        .map(|(c, agg)| (c.to_string(), agg.count))
        .collect();
    let floors = eng
        .floors
        .iter()
        .map(|f| FloorRow {
            rule: f.rule.to_string(),
            min: f.min.to_string(),
            clock: clock_name(f.clock).to_string(),
            text: f.describe(),
        })
        .collect();

    let t = model.as_of;
    let holds = eng
        .holds
        .iter()
        .map(|h| HoldRow {
            id: h.id.clone(),
            active: h.span_at(t).is_some(),
            implied: h.implied,
            named_by: h.named_by.len(),
            spans: h
                .spans
                .iter()
                .map(|s| SpanRow {
                    from: time::fmt(s.from),
                    set: s.set.map(|i| link(cx, i)),
                    until: s.until.map(time::fmt),
                    released: s.released.map(|i| link(cx, i)),
                    scope: s.scope.iter().map(|n| EntityLink::new(cx, n)).collect(),
                    reason: s.set.and_then(|i| {
                        let e = model.event(i);
                        attr(&e.attrs(), "reason").or_else(|| e.reason().map(str::to_string))
                    }),
                })
                .collect(),
        })
        .collect();

    let drill = drill_down(cx);
    let disposals_total = eng.disposals.len();
    let first_shown = disposals_total.saturating_sub(PAGE_ROWS);
    let disposals = eng
        .disposals
        .iter()
        .enumerate()
        .skip(first_shown)
        .map(|(k, d)| {
            let e = model.event(d.event);
            let a = e.attrs();
            DisposalRow {
                id: e.id.to_string(),
                href: links::event_href(d.event),
                ts: time::fmt(d.ts),
                class: d.class.clone(),
                system: d.system.clone(),
                from: attr(&a, "range_start"),
                to: attr(&a, "range_end"),
                count: attr(&a, "count"),
                basis: attr(&a, "basis"),
                missing: d.missing.clone(),
                early: early.get(&k).cloned(),
                left: scan.incomplete.get(k).map_or(0, |a| a.count),
            }
        })
        .collect();

    // Data-subject requests: the first `dsr.received` of each id, its resolutions in order.
    let prv = checks::Cx {
        rule: meta("PRV-03"),
        ..ccx
    };
    let deadline = prv.duration("deadline");
    let mut received: BTreeMap<String, u32> = BTreeMap::new();
    for (i, e) in model.of_kind("dsr.received") {
        if let Some(id) = request_id(e) {
            received.entry(id).or_insert(i);
        }
    }
    let mut resolved: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (i, e) in model.of_kind("dsr.resolved") {
        if let Some(id) = request_id(e) {
            resolved.entry(id).or_default().push(i);
        }
    }
    let mut requests: Vec<(Timestamp, RequestRow)> = received
        .iter()
        .map(|(id, &r)| {
            let rec = model.event(r);
            let a = rec.attrs();
            let due = deadline.after(rec.ts);
            let res = resolved.get(id).map_or(&[][..], Vec::as_slice);
            let (mut outcome, mut ground) = (None, None);
            for &x in res {
                let ra = model.event(x).attrs();
                outcome = attr(&ra, "outcome").or(outcome);
                ground = attr(&ra, "ground").or(ground);
            }
            let first = res.first().map(|&x| model.event(x));
            let status = match first {
                Some(f) if f.ts <= due => "on time",
                Some(_) => "late",
                None if t > due => "overdue",
                None => "open",
            };
            let decision = rec
                .refs
                .iter()
                .find(|r| r.field == "attrs.decision")
                .map(|r| {
                    let reg = model
                        .entity(&r.target)
                        .and_then(|e| e.registered.last().copied());
                    Link {
                        id: r.target.id().to_string(),
                        href: reg.map(links::event_href),
                    }
                });
            (
                rec.ts,
                RequestRow {
                    id: id.clone(),
                    kind: attr(&a, "type"),
                    subject: rec.subject_node().map(|n| EntityLink::new(cx, &n)),
                    decision,
                    received: time::fmt(rec.ts),
                    received_href: links::event_href(r),
                    deadline: time::fmt(due),
                    resolved: first.map(|f| time::fmt(f.ts)),
                    resolved_href: res.first().map(|&x| links::event_href(x)),
                    outcome,
                    ground,
                    status,
                },
            )
        })
        .collect();
    requests.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    let mut request_counts: BTreeMap<String, u64> = BTreeMap::new();
    for (_, r) in &requests {
        *request_counts.entry(r.status.to_string()).or_default() += 1;
    }
    let requests_total = requests.len();
    let requests: Vec<RequestRow> = if drill {
        requests
            .into_iter()
            .skip(requests_total.saturating_sub(PAGE_ROWS))
            .map(|(_, r)| r)
            .collect()
    } else {
        Vec::new()
    };

    let page = Page {
        classes: class_rows,
        unknown,
        floors,
        holds,
        disposals,
        disposals_total,
        requests,
        requests_total,
        request_counts: request_counts.into_iter().collect(),
        deadline: deadline.to_string(),
        drill_down: drill,
    };
    pages.add(
        "retention.html",
        cx.render("retention.html", "retention.html", "Retention", page)?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::testing::{check_events, ev, nums, page, row_of, with};

    fn access(id: &str, ts: &str) -> Value {
        ev(
            id,
            ts,
            "access",
            "resource:store",
            json!({"action": "read", "purpose": "p", "result": "success"}),
        )
    }

    #[test]
    fn classes_hold_records_and_show_due_disposals_holds_and_requests() {
        let case = check_events(
            &[
                access("a1", "2024-01-01T00:00:00Z"),
                access("a2", "2026-01-01T00:00:00Z"),
                with(
                    access("a3", "2026-01-02T00:00:00Z"),
                    "retention_class",
                    json!("sox_evidence"),
                ),
                ev(
                    "h1",
                    "2026-01-03T00:00:00Z",
                    "legal_hold.set",
                    "resource:holds",
                    json!({"hold_id": "LH-1", "scope": ["resource:store"], "reason": "<script>alert(1)</script>"}),
                ),
                ev(
                    "x1",
                    "2026-01-04T00:00:00Z",
                    "retention.disposed",
                    "resource:store",
                    json!({"retention_class": "ai_auto_log", "count": 5, "range_start": "2023-01-01T00:00:00Z", "range_end": "2023-06-30T00:00:00Z", "basis": "schedule", "removed_ids_digest": "sha256:ff"}),
                ),
                ev(
                    "q1",
                    "2026-01-05T00:00:00Z",
                    "dsr.received",
                    "resource:dsr",
                    json!({"request_id": "DSR-<b>1</b>", "type": "erasure"}),
                ),
                ev(
                    "q2",
                    "2026-03-10T00:00:00Z",
                    "dsr.resolved",
                    "resource:dsr",
                    json!({"request_id": "DSR-<b>1</b>", "outcome": "refused", "ground": "Art. 17(3)(b)"}),
                ),
                ev(
                    "q3",
                    "2026-03-20T00:00:00Z",
                    "dsr.received",
                    "resource:dsr",
                    json!({"request_id": "DSR-2", "type": "access"}),
                ),
            ],
            "[retention.classes.ai_auto_log]\nmax = \"1 year\"\n",
        );
        let html = page(&case.site(), "retention.html");
        // ai_auto_log: a1 and a2 (a3 is sox_evidence); a1 is past its 1-year max at T
        // (2026-03-20), but it is under the hold, so nothing is due.
        let ai = row_of(&html, "id=\"class-ai_auto_log\"");
        assert_eq!(nums(ai)[0], "2", "{ai}");
        assert_eq!(nums(ai)[1], "0", "held, so not due: {ai}");
        assert!(ai.contains("2024-01-01T00:00:00Z"), "oldest: {ai}");
        assert!(ai.contains("1 year") && ai.contains("6 months"), "{ai}");
        let sox = row_of(&html, "id=\"class-sox_evidence\"");
        assert_eq!(nums(sox)[0], "1", "{sox}");
        // The hold, its scope and escaped reason.
        let hold = row_of(&html, "<code>LH-1</code>");
        assert!(
            hold.contains("active") && hold.contains("resource:store"),
            "{hold}"
        );
        assert!(hold.contains("&lt;script&gt;"), "{hold}");
        assert!(!html.contains("<script>alert"));
        // The disposal is listed with its class and count.
        let x1 = row_of(&html, "<code>x1</code>");
        assert!(x1.contains("ai_auto_log") && x1.contains(">5<"), "{x1}");
        // Requests: the first resolved late (over a month), the second still open.
        let q1 = row_of(&html, "DSR-&lt;b&gt;1&lt;/b&gt;");
        assert!(q1.contains(">late<") && q1.contains("refused"), "{q1}");
        let q3 = row_of(&html, "<code>DSR-2</code>");
        assert!(q3.contains(">open<"), "{q3}");
    }

    #[test]
    fn records_past_the_maximum_are_due() {
        let case = check_events(
            &[
                access("a1", "2024-01-01T00:00:00Z"),
                access("a2", "2026-01-01T00:00:00Z"),
            ],
            "[retention.classes.ai_auto_log]\nmax = \"1 year\"\n",
        );
        let html = page(&case.site(), "retention.html");
        let ai = row_of(&html, "id=\"class-ai_auto_log\"");
        // Held 2; due 1 (a1, older than a year at T = 2026-01-01).
        assert_eq!(nums(ai), ["2", "1", "0"], "{ai}");
        assert!(ai.contains("2025-01-01T00:00:00Z"), "first due: {ai}");
    }
}
