//! `packs/PACK.html`: the coverage matrix of each enabled pack (`RULES.md` §4.2): clause → rules
//! → status → evidence links, the supporting rules, the applicability decisions (why a rule is
//! not applicable or not evaluable) and what the pack does not cover.

use serde::Serialize;

use crate::checks::catalogue;
use crate::checks::matrix::RuleCoverage;
use crate::render::{Cx, Pages};

#[derive(Serialize)]
struct Page {
    pack: String,
    label: String,
    status: String,
    effective: Option<String>,
    clauses: Vec<Clause>,
    supporting: Vec<Rule>,
    not_covered: String,
}

#[derive(Serialize)]
struct Clause {
    clause: String,
    status: String,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Rule {
    rule: String,
    title: String,
    status: String,
    reason: Option<String>,
    findings: Vec<FindingLink>,
}

#[derive(Serialize)]
struct FindingLink {
    id: String,
    level: String,
    subject: String,
    href: String,
}

fn rule(cx: &Cx<'_>, r: &RuleCoverage) -> Rule {
    let all = &cx.input.findings.findings;
    Rule {
        rule: r.rule.to_string(),
        title: catalogue::rule(r.rule).map_or_else(String::new, |m| m.title.to_string()),
        status: r.status.as_str().to_string(),
        reason: r.reason.clone(),
        findings: r
            .findings
            .iter()
            .filter_map(|id| {
                let n = all.iter().position(|f| &f.id == id)?;
                let f = &all[n];
                Some(FindingLink {
                    id: id.clone(),
                    level: f.level.clone(),
                    subject: f.subject.clone(),
                    href: format!("{}#f-{id}", super::findings::page_of(n)),
                })
            })
            .collect(),
    }
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    for p in &cx.input.findings.coverage {
        let def = catalogue::pack(p.pack);
        let page = Page {
            pack: p.pack.to_string(),
            label: p.label.to_string(),
            status: p.status.as_str().to_string(),
            effective: def.and_then(|d| d.effective_from).map(str::to_string),
            clauses: p
                .clauses
                .iter()
                .map(|c| Clause {
                    clause: c.clause.to_string(),
                    status: c.status.as_str().to_string(),
                    rules: c.rules.iter().map(|r| rule(cx, r)).collect(),
                })
                .collect(),
            supporting: p.supporting.iter().map(|r| rule(cx, r)).collect(),
            not_covered: p.not_covered.to_string(),
        };
        let path = format!("packs/{}.html", p.pack);
        let title = format!("Coverage: {}", p.label);
        pages.add(path.clone(), cx.render(&path, "pack.html", &title, page)?);
    }
    Ok(())
}
