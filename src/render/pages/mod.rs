//! The pages of a version (`SITE.md`, "Pages"), one module per page or page family. Each module
//! has `write(cx, pages)`, which turns the model into page data (plain serialisable structs,
//! sorted) and renders it through its template. Shared row types live here.

mod access;
pub mod data;
mod datasets;
mod decisions;
mod deployments;
mod diff;
mod events;
mod findings;
mod incidents;
mod integrity;
mod lineage;
mod methodology;
mod models;
mod monitoring;
mod overview;
mod packs;
mod retention;
mod sources;

use serde::Serialize;

use super::{Cx, PAGE_ROWS, Pages, links};
use crate::checks::Finding;
use crate::event::{Event, NodeId};

/// Renders every page and data file of the version into `pages`.
pub fn all(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    overview::write(cx, pages)?;
    findings::write(cx, pages)?;
    packs::write(cx, pages)?;
    models::write(cx, pages)?;
    datasets::write(cx, pages)?;
    lineage::write(cx, pages)?;
    deployments::write(cx, pages)?;
    decisions::write(cx, pages)?;
    monitoring::write(cx, pages)?;
    incidents::write(cx, pages)?;
    access::write(cx, pages)?;
    retention::write(cx, pages)?;
    sources::write(cx, pages)?;
    if cx.input.exposure.drill_down {
        events::write(cx, pages)?;
    }
    integrity::write(cx, pages)?;
    methodology::write(cx, pages)?;
    diff::write(cx, pages)?;
    data::write(cx, pages)?;
    Ok(())
}

/// An evidence location as pages show it: `path:line`, linked to the event's drill-down page.
#[derive(Clone, Debug, Serialize)]
pub struct EvidenceRow {
    pub event: Option<String>,
    pub path: String,
    pub line: u64,
    pub href: Option<String>,
    /// The rule's note on this location (for PRV-01 in the internal audience: the values found).
    pub note: Option<String>,
}

/// The evidence of a finding, linked to drill-down pages where the event is in view.
pub fn evidence(cx: &Cx<'_>, f: &Finding) -> Vec<EvidenceRow> {
    f.evidence
        .iter()
        .map(|e| EvidenceRow {
            event: e.event.clone(),
            path: e.path.clone(),
            line: e.line,
            href: e.event.as_deref().and_then(|id| event_link(cx, id)),
            note: e.note.clone(),
        })
        .collect()
}

/// The drill-down link of an event of the as-of view, by id.
pub fn event_link(cx: &Cx<'_>, id: &str) -> Option<String> {
    cx.model().by_id(id).map(links::event_href)
}

/// An event as a row of a table: when, what, who, where it was logged, with its drill-down link.
#[derive(Clone, Debug, Serialize)]
pub struct EventRow {
    pub id: String,
    pub ts: String,
    pub kind: String,
    pub actor: String,
    pub subject: Option<String>,
    pub subject_href: Option<String>,
    pub href: String,
    pub path: String,
    pub line: u64,
}

impl EventRow {
    pub fn new(cx: &Cx<'_>, i: u32) -> EventRow {
        let e: &Event = cx.model().event(i);
        let file = &cx.input.ingest.files[e.origin.file as usize];
        let subject = e.subject_node();
        EventRow {
            id: e.id.to_string(),
            ts: crate::time::fmt(e.ts),
            kind: e.kind.to_string(),
            actor: e.actor.id.to_string(),
            subject_href: subject.as_ref().and_then(links::href),
            subject: subject.map(|s| s.0.to_string()),
            href: links::event_href(i),
            path: file.path.clone(),
            line: e.origin.line,
        }
    }
}

/// A reference to an entity with its page, for tables.
#[derive(Clone, Debug, Serialize)]
pub struct EntityLink {
    pub id: String,
    pub label: String,
    pub href: Option<String>,
    pub unresolved: bool,
}

impl EntityLink {
    pub fn new(cx: &Cx<'_>, node: &NodeId) -> EntityLink {
        EntityLink {
            id: node.0.to_string(),
            label: node.id().to_string(),
            href: links::href(node),
            unresolved: cx.model().entity(node).is_none_or(|e| e.unresolved),
        }
    }
}

/// One link of a pager.
#[derive(Serialize)]
pub struct PageLink {
    pub number: usize,
    pub href: String,
    pub current: bool,
}

/// The pager of a list split into `count` pages named by `name(page number)`.
pub fn pager(count: usize, current: usize, name: impl Fn(usize) -> String) -> Vec<PageLink> {
    (1..=count)
        .map(|n| PageLink {
            number: n,
            href: name(n),
            current: n == current,
        })
        .collect()
}

/// The page of a list paginated at [`PAGE_ROWS`] that holds row `row` (0-based): `STEM.html`,
/// then `STEM-2.html`, `STEM-3.html`, …
pub fn paged_path(stem: &str, row: usize) -> String {
    match row / PAGE_ROWS {
        0 => format!("{stem}.html"),
        p => format!("{stem}-{}.html", p + 1),
    }
}

/// One page of a paginated list, as list templates read it.
#[derive(Serialize)]
struct ListPage<T> {
    total: usize,
    /// The number of the first row on this page, from 1.
    first: usize,
    rows: Vec<T>,
    pages: Vec<PageLink>,
}

/// Writes `rows` through `template` as pages of [`PAGE_ROWS`] rows at [`paged_path`]`(stem, …)`;
/// with more than one page, each title says which it is (`Findings (2 of 3)`).
pub fn write_list<T: Serialize>(
    cx: &Cx<'_>,
    pages: &mut Pages,
    stem: &str,
    template: &str,
    title: &str,
    rows: Vec<T>,
) -> anyhow::Result<()> {
    let total = rows.len();
    let chunks = links::paginate(total, PAGE_ROWS);
    let count = chunks.len();
    let mut rows = rows.into_iter();
    for (number, range) in chunks {
        let path = paged_path(stem, range.start);
        let page = ListPage {
            total,
            first: range.start + 1,
            rows: rows.by_ref().take(range.len()).collect(),
            pages: pager(count, number, |n| paged_path(stem, (n - 1) * PAGE_ROWS)),
        };
        let title = if count > 1 {
            format!("{title} ({number} of {count})")
        } else {
            title.to_string()
        };
        pages.add(path.clone(), cx.render(&path, template, &title, page)?);
    }
    Ok(())
}
