//! `findings.html` (and `findings-N.html` beyond 1000 findings): the register of every finding,
//! in report order (level, rule, subject), with its evidence, waiver and first-seen version.

use serde::Serialize;

use super::{EvidenceRow, PageLink, data, evidence, pager};
use crate::render::{Cx, PAGE_ROWS, Pages, links};

#[derive(Serialize)]
struct Page {
    total: usize,
    rows: Vec<Row>,
    pages: Vec<PageLink>,
    first: usize,
}

#[derive(Serialize)]
pub struct Row {
    pub id: String,
    pub level: String,
    pub rule: String,
    pub title: String,
    pub subject: String,
    pub subject_href: Option<String>,
    pub message: String,
    pub evidence: Vec<EvidenceRow>,
    pub more_evidence: u64,
    pub clauses: Vec<String>,
    pub waiver: Option<Waiver>,
    pub first_seen: u32,
}

#[derive(Serialize)]
pub struct Waiver {
    pub id: String,
    pub expires: String,
    pub approved_by: String,
    pub level: String,
}

/// The page holding finding number `n` (0-based) of the register.
pub fn page_of(n: usize) -> String {
    match n / PAGE_ROWS {
        0 => "findings.html".to_string(),
        p => format!("findings-{}.html", p + 1),
    }
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let all = &cx.input.findings.findings;
    let chunks = links::paginate(all.len(), PAGE_ROWS);
    let count = chunks.len();
    for (number, range) in chunks {
        let first = range.start;
        let rows = all[range]
            .iter()
            .map(|f| Row {
                id: f.id.clone(),
                level: f.level.clone(),
                rule: f.rule.clone(),
                title: f.title.clone(),
                subject_href: crate::event::NodeId::parse(&f.subject)
                    .as_ref()
                    .and_then(links::href),
                subject: f.subject.clone(),
                message: f.message.clone(),
                evidence: evidence(cx, f),
                more_evidence: f.count.unwrap_or(0).saturating_sub(f.evidence.len() as u64),
                clauses: f.clauses.clone(),
                waiver: f.waiver.as_ref().map(|w| Waiver {
                    id: w.id.clone(),
                    expires: w.expires.clone(),
                    approved_by: w.approved_by.clone(),
                    level: w.level.as_str().to_string(),
                }),
                first_seen: data::first_seen(cx, &f.id),
            })
            .collect();
        let path = page_of(first);
        let page = Page {
            total: all.len(),
            rows,
            pages: pager(count, number, |n| page_of((n - 1) * PAGE_ROWS)),
            first: first + 1,
        };
        let title = if count > 1 {
            format!("Findings ({number} of {count})")
        } else {
            "Findings".to_string()
        };
        pages.add(
            path.clone(),
            cx.render(&path, "findings.html", &title, page)?,
        );
    }
    Ok(())
}
