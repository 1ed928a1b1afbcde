//! `findings.html` (and `findings-N.html` beyond 1000 findings): the register of every finding,
//! in report order (level, rule, subject), with its evidence, waiver and first-seen version.

use serde::Serialize;

use super::{EvidenceRow, data, evidence, paged_path, write_list};
use crate::render::{Cx, Pages, links};

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
    paged_path("findings", n)
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let rows = cx
        .input
        .findings
        .findings
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
    write_list(cx, pages, "findings", "findings.html", "Findings", rows)
}
