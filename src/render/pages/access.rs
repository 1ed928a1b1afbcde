//! `access.html` (`SITE.md`, "Pages"): who read, exported, changed or deleted what — the `access`
//! events, with purpose, scope, result and recipient — and the privileged changes
//! (`admin.change`) with their approvers. Summarised per actor and action first; then the denied
//! attempts per actor; then (audiences with drill-down) the privileged changes and every record
//! one by one, 1000 a page (`access.html`, `access-N.html`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::decisions::{drill_down, raw_text};
use super::{EntityLink, PageLink, pager};
use crate::event::Event;
use crate::render::{Cx, PAGE_ROWS, Pages, links};
use crate::time;

#[derive(Deserialize, Default)]
struct AccessView<'a> {
    #[serde(borrow, default)]
    action: Option<&'a RawValue>,
    #[serde(borrow, default)]
    purpose: Option<&'a RawValue>,
    #[serde(borrow, default)]
    scope: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    recipient: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct AdminView<'a> {
    #[serde(borrow, default)]
    target: Option<&'a RawValue>,
    #[serde(borrow, default)]
    before_digest: Option<&'a RawValue>,
    #[serde(borrow, default)]
    after_digest: Option<&'a RawValue>,
    #[serde(borrow, default)]
    approved_by: Option<&'a RawValue>,
}

/// Counts of one actor and action.
#[derive(Clone, Debug, Default, Serialize)]
struct Tally {
    slug: String,
    actor: String,
    action: String,
    total: u64,
    success: u64,
    denied: u64,
    /// No `result`, or another value.
    other: u64,
    /// Without a `purpose` (for a change: without a reason).
    no_purpose: u64,
    first: String,
    last: String,
}

#[derive(Serialize)]
struct DeniedActor {
    slug: String,
    actor: String,
    count: u64,
    first: String,
    last: String,
}

#[derive(Serialize)]
struct Record {
    id: String,
    href: String,
    ts: String,
    actor: String,
    role: Option<String>,
    action: Option<String>,
    subject: Option<EntityLink>,
    purpose: Option<String>,
    scope: Option<String>,
    result: Option<String>,
    recipient: Option<String>,
    personal: bool,
}

#[derive(Serialize)]
struct Change {
    slug: String,
    id: String,
    href: String,
    ts: String,
    actor: String,
    role: Option<String>,
    target: Option<String>,
    resource: Option<EntityLink>,
    before: Option<String>,
    after: Option<String>,
    approved_by: Option<String>,
    /// `approved`, `self-approved` or `not recorded`.
    approval: &'static str,
    reason: Option<String>,
}

#[derive(Serialize)]
struct Page {
    /// `main` or `records` (a continuation of the record list).
    part: &'static str,
    drill_down: bool,
    summary: Vec<Tally>,
    summary_more: usize,
    access_total: u64,
    changes_total: usize,
    denied_total: u64,
    denied: Vec<DeniedActor>,
    denied_events: Vec<Record>,
    changes: Vec<Change>,
    records: Vec<Record>,
    record_pages: Vec<PageLink>,
    record_total: usize,
    record_first: usize,
}

fn record(cx: &Cx<'_>, i: u32, e: &Event) -> Record {
    let v = e.attrs_as::<AccessView>().unwrap_or_default();
    Record {
        id: e.id.to_string(),
        href: links::event_href(i),
        ts: time::fmt(e.ts),
        actor: e.actor.id.to_string(),
        role: e.actor.role.clone(),
        action: v.action.and_then(raw_text),
        subject: e.subject_node().map(|n| EntityLink::new(cx, &n)),
        purpose: v.purpose.and_then(raw_text),
        scope: v.scope.and_then(raw_text),
        result: v.result.and_then(raw_text),
        recipient: v.recipient.and_then(raw_text),
        personal: crate::checks::facts::personal(e),
    }
}

/// An `admin.change` as a record of the list: action `change`, the target as scope, the reason
/// as purpose.
fn change_record(cx: &Cx<'_>, i: u32, e: &Event) -> Record {
    let v = e.attrs_as::<AdminView>().unwrap_or_default();
    Record {
        id: e.id.to_string(),
        href: links::event_href(i),
        ts: time::fmt(e.ts),
        actor: e.actor.id.to_string(),
        role: e.actor.role.clone(),
        action: Some("change".to_string()),
        subject: e.subject_node().map(|n| EntityLink::new(cx, &n)),
        purpose: crate::checks::facts::reason(e),
        scope: v.target.and_then(raw_text),
        result: None,
        recipient: None,
        personal: crate::checks::facts::personal(e),
    }
}

fn change(cx: &Cx<'_>, i: u32, e: &Event) -> Change {
    let v = e.attrs_as::<AdminView>().unwrap_or_default();
    let approved_by = v.approved_by.and_then(raw_text);
    Change {
        slug: links::file_slug(&e.id),
        id: e.id.to_string(),
        href: links::event_href(i),
        ts: time::fmt(e.ts),
        actor: e.actor.id.to_string(),
        role: e.actor.role.clone(),
        target: v.target.and_then(raw_text),
        resource: e.subject_node().map(|n| EntityLink::new(cx, &n)),
        before: v.before_digest.and_then(raw_text),
        after: v.after_digest.and_then(raw_text),
        approval: match approved_by.as_deref() {
            None => "not recorded",
            Some(a) if a == e.actor.id => "self-approved",
            Some(_) => "approved",
        },
        approved_by,
        reason: crate::checks::facts::reason(e),
    }
}

fn records_path(n: usize) -> String {
    if n == 1 {
        "access.html#records".to_string()
    } else {
        format!("access-{n}.html")
    }
}

fn empty(part: &'static str, drill_down: bool) -> Page {
    Page {
        part,
        drill_down,
        summary: Vec::new(),
        summary_more: 0,
        access_total: 0,
        changes_total: 0,
        denied_total: 0,
        denied: Vec::new(),
        denied_events: Vec::new(),
        changes: Vec::new(),
        records: Vec::new(),
        record_pages: Vec::new(),
        record_total: 0,
        record_first: 1,
    }
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let model = cx.model();
    let drill = drill_down(cx);
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut denied: BTreeMap<String, DeniedActor> = BTreeMap::new();
    let mut denied_ids: Vec<u32> = Vec::new();
    let mut change_ids: Vec<u32> = Vec::new();
    let mut all: Vec<u32> = Vec::new();
    let mut access_total = 0u64;
    for (i, e) in model.current() {
        let (action, result, purpose) = match e.kind.as_str() {
            "access" => {
                access_total += 1;
                let v = e.attrs_as::<AccessView>().unwrap_or_default();
                (
                    v.action.and_then(raw_text).unwrap_or_default(),
                    v.result.and_then(raw_text),
                    v.purpose.and_then(raw_text).is_some(),
                )
            }
            "admin.change" => {
                change_ids.push(i);
                let v = e.attrs_as::<AdminView>().unwrap_or_default();
                let target = v.target.and_then(raw_text).unwrap_or_default();
                let reason = e.reason().is_some_and(|r| !r.is_empty())
                    || crate::checks::facts::reason(e).is_some();
                (format!("change: {target}"), None, reason)
            }
            _ => continue,
        };
        all.push(i);
        let ts = time::fmt(e.ts);
        let t = tallies
            .entry((e.actor.id.to_string(), action.clone()))
            .or_insert_with(|| Tally {
                slug: format!(
                    "{}-{}",
                    links::file_slug(&e.actor.id),
                    links::file_slug(&action)
                ),
                actor: e.actor.id.to_string(),
                action: if action.is_empty() {
                    "(action not recorded)".to_string()
                } else {
                    action
                },
                first: ts.clone(),
                ..Tally::default()
            });
        t.total += 1;
        t.last = ts.clone();
        t.no_purpose += u64::from(!purpose);
        match result.as_deref() {
            Some("success") => t.success += 1,
            Some("denied") => {
                t.denied += 1;
                denied_ids.push(i);
                let d = denied
                    .entry(e.actor.id.to_string())
                    .or_insert_with(|| DeniedActor {
                        slug: links::file_slug(&e.actor.id),
                        actor: e.actor.id.to_string(),
                        count: 0,
                        first: ts.clone(),
                        last: String::new(),
                    });
                d.count += 1;
                d.last = ts;
            }
            _ if e.kind == "access" => t.other += 1,
            _ => {}
        }
    }
    let summary_all: Vec<Tally> = tallies.into_values().collect();
    let summary_more = summary_all.len().saturating_sub(PAGE_ROWS);
    let summary: Vec<Tally> = summary_all.into_iter().take(PAGE_ROWS).collect();
    let denied_total = denied_ids.len() as u64;
    let changes_total = change_ids.len();

    let record_total = all.len();
    let chunks = links::paginate(record_total, PAGE_ROWS);
    let count = chunks.len();
    let as_record = |i: u32| {
        let e = model.event(i);
        if e.kind == "admin.change" {
            change_record(cx, i, e)
        } else {
            record(cx, i, e)
        }
    };
    let mut first_records = Vec::new();
    if drill {
        for (number, range) in chunks {
            let rows: Vec<Record> = all[range.clone()].iter().map(|&i| as_record(i)).collect();
            if number == 1 {
                first_records = rows;
                continue;
            }
            let path = format!("access-{number}.html");
            let mut page = empty("records", drill);
            page.records = rows;
            page.record_pages = pager(count, number, records_path);
            page.record_total = record_total;
            page.record_first = range.start + 1;
            let title = format!("Access records ({number} of {count})");
            pages.add(path.clone(), cx.render(&path, "access.html", &title, page)?);
        }
    }
    // The latest denied attempts and changes (lists of at most PAGE_ROWS).
    let latest = |ids: &[u32]| -> Vec<u32> { ids[ids.len().saturating_sub(PAGE_ROWS)..].to_vec() };
    let page = Page {
        part: "main",
        drill_down: drill,
        summary,
        summary_more,
        access_total,
        changes_total,
        denied_total,
        denied: denied.into_values().collect(),
        denied_events: if drill {
            latest(&denied_ids).into_iter().map(as_record).collect()
        } else {
            Vec::new()
        },
        changes: if drill {
            latest(&change_ids)
                .into_iter()
                .map(|i| change(cx, i, model.event(i)))
                .collect()
        } else {
            Vec::new()
        },
        records: first_records,
        record_pages: if drill {
            pager(count, 1, records_path)
        } else {
            Vec::new()
        },
        record_total,
        record_first: 1,
    };
    pages.add(
        "access.html",
        cx.render("access.html", "access.html", "Access", page)?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::testing::{check_events, ev, nums, page, row_of, with};

    fn access(id: &str, ts: &str, actor: &str, attrs: Value) -> Value {
        with(
            ev(id, ts, "access", "resource:decision-store", attrs),
            "actor",
            json!({"id": actor, "type": "human", "role": "analyst"}),
        )
    }

    #[test]
    fn summary_denied_attempts_and_privileged_changes() {
        let case = check_events(
            &[
                access(
                    "a1",
                    "2026-02-01T10:00:00Z",
                    "kim",
                    json!({"action": "read", "purpose": "monthly report", "scope": "Feb", "result": "success"}),
                ),
                access(
                    "a2",
                    "2026-02-02T10:00:00Z",
                    "kim",
                    json!({"action": "read", "result": "denied"}),
                ),
                access(
                    "a3",
                    "2026-02-03T10:00:00Z",
                    "\"><img src=x onerror=alert(1)>",
                    json!({"action": "export", "purpose": "<script>alert(1)</script>", "result": "success", "recipient": "auditor"}),
                ),
                with(
                    with(
                        ev(
                            "c1",
                            "2026-02-04T10:00:00Z",
                            "admin.change",
                            "resource:audit-log",
                            json!({"target": "logging_config", "before_digest": "sha256:aa", "after_digest": "sha256:bb", "approved_by": "ivo"}),
                        ),
                        "actor",
                        json!({"id": "ivo", "type": "human", "role": "sre"}),
                    ),
                    "reason",
                    json!("CHG-1"),
                ),
            ],
            "",
        );
        let html = page(&case.site(), "access.html");
        // Per actor and action: kim read twice, once denied, once without purpose.
        let kim = row_of(&html, "id=\"sum-kim-read\"");
        assert_eq!(nums(kim), ["2", "1", "1", "0", "1"], "{kim}");
        // Denied attempts per actor and one by one.
        assert!(row_of(&html, "id=\"denied-kim\"").contains(">1<"));
        assert!(html.contains("<code>a2</code>"));
        // The privileged change shows its approver, flagged as self-approved.
        let c1 = row_of(&html, "id=\"change-c1\"");
        assert!(
            c1.contains("self-approved") && c1.contains("sha256:bb"),
            "{c1}"
        );
        assert!(c1.contains("CHG-1"), "{c1}");
        // Hostile actor id and purpose are text.
        assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<img src=x"));
        assert!(!html.contains("<script>alert"));
        // Records link to their events and subjects.
        assert!(html.contains("href=\"events/1.html#e"));
    }

    #[test]
    fn records_are_paginated() {
        let events: Vec<Value> = (0..1002)
            .map(|n| {
                access(
                    &format!("a{n:04}"),
                    &format!(
                        "2026-02-01T{:02}:{:02}:{:02}Z",
                        n / 3600,
                        n / 60 % 60,
                        n % 60
                    ),
                    "kim",
                    json!({"action": "read", "purpose": "p", "result": "success"}),
                )
            })
            .collect();
        let site = check_events(&events, "").site();
        let first = page(&site, "access.html");
        let second = page(&site, "access-2.html");
        assert!(first.contains("<code>a0999</code>") && !first.contains("<code>a1000</code>"));
        assert!(second.contains("<code>a1001</code>"));
        assert!(second.contains("href=\"access.html#records\""));
        let kim = row_of(&first, "id=\"sum-kim-read\"");
        assert_eq!(nums(kim)[0], "1002");
    }
}
