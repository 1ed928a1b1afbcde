//! `trailbook rules` and `trailbook explain`: the catalogue, from the rules' own documentation.

use std::fmt::Write;

use anyhow::bail;
use serde::Serialize;

use crate::checks::{RuleMeta, catalogue, rules};

#[derive(Serialize)]
struct Param<'a> {
    name: &'a str,
    default: &'a str,
}

#[derive(Serialize)]
struct RuleJson<'a> {
    id: &'a str,
    title: &'a str,
    level: &'a str,
    basis: &'a str,
    packs: Vec<&'a str>,
    /// The rule's sources, each with its verification tag.
    clauses: &'a [&'a str],
    /// Per pack that covers the rule, the clauses of its instrument the rule gives evidence for
    /// (`RULES.md` §4.2; empty for supporting rules).
    pack_clauses: Vec<PackClauses>,
    params: Vec<Param<'a>>,
}

#[derive(Serialize)]
struct PackClauses {
    pack: &'static str,
    clauses: Vec<&'static str>,
}

/// The packs that cover a rule: list it, cite it for a clause, or run it as supporting evidence.
fn packs_of(id: &str) -> Vec<&'static str> {
    catalogue::PACKS
        .iter()
        .filter(|p| p.covers(id))
        .map(|p| p.id)
        .collect()
}

fn pack_clauses(id: &str) -> Vec<PackClauses> {
    catalogue::PACKS
        .iter()
        .filter(|p| p.covers(id))
        .map(|p| PackClauses {
            pack: p.id,
            clauses: p.clauses_of(id).collect(),
        })
        .collect()
}

/// Lists the implemented rules (of one pack, or all).
pub fn list(pack: Option<&str>, json: bool) -> anyhow::Result<String> {
    let selected: Vec<&RuleMeta> = match pack {
        Some(p) => {
            let Some(def) = catalogue::pack(p) else {
                let ids: Vec<&str> = catalogue::PACKS.iter().map(|p| p.id).collect();
                bail!("unknown pack `{p}`; known packs: {}", ids.join(", "));
            };
            rules()
                .iter()
                .map(|r| r.meta())
                .filter(|m| def.covers(m.id))
                .collect()
        }
        None => rules().iter().map(|r| r.meta()).collect(),
    };
    if json {
        let items: Vec<RuleJson<'_>> = selected
            .iter()
            .map(|m| RuleJson {
                id: m.id,
                title: m.title,
                level: m.levels,
                basis: m.basis,
                packs: packs_of(m.id),
                clauses: m.sources,
                pack_clauses: pack_clauses(m.id),
                params: m
                    .params
                    .iter()
                    .map(|p| Param {
                        name: p.name,
                        default: p.default,
                    })
                    .collect(),
            })
            .collect();
        let mut s = serde_json::to_string_pretty(&items)?;
        s.push('\n');
        return Ok(s);
    }
    let mut s = String::new();
    for m in selected {
        let _ = writeln!(s, "{}  {}", m.id, m.title);
        let _ = writeln!(
            s,
            "    level: {} · basis: {} · packs: {}",
            m.levels,
            m.basis,
            packs_of(m.id).join(", ")
        );
        let _ = writeln!(s, "    clauses: {}", m.sources.join("; "));
        if !m.params.is_empty() {
            let params: Vec<String> = m
                .params
                .iter()
                .map(|p| format!("{} = {}", p.name, p.default))
                .collect();
            let _ = writeln!(s, "    params: {}", params.join(", "));
        }
    }
    Ok(s)
}

/// The documentation of one rule, in fixed sections.
pub fn explain(id: &str) -> anyhow::Result<String> {
    let upper = id.to_ascii_uppercase();
    let Some(m) = catalogue::rule(&upper) else {
        if catalogue::RULE_IDS.contains(&upper.as_str()) {
            bail!(
                "rule `{upper}` is in the catalogue but not implemented in this version of trailbook"
            );
        }
        bail!("unknown rule `{id}`; `trailbook rules` lists them");
    };
    let mut s = String::new();
    let _ = writeln!(s, "{} {}\n", m.id, m.title);
    let _ = writeln!(s, "Level: {} · Basis: {}", m.levels, m.basis);
    let _ = writeln!(s, "Packs: {}", packs_of(m.id).join(", "));
    let _ = writeln!(s, "Sources: {}", m.sources.join("; "));
    for pc in pack_clauses(m.id) {
        if pc.clauses.is_empty() {
            let how = if catalogue::pack(pc.pack).is_some_and(|p| p.lists(m.id)) {
                "listed, no clause of its own"
            } else {
                "supporting evidence"
            };
            let _ = writeln!(s, "  in {}: {how}", pc.pack);
        } else {
            let _ = writeln!(s, "  in {}: {}", pc.pack, pc.clauses.join("; "));
        }
    }
    let _ = writeln!(s, "Needs: {}\n", m.needs);
    for (title, body) in [
        ("What it checks", m.checks),
        ("Why it matters", m.why),
        ("Example", m.example),
        ("How to fix", m.fix),
        ("Not checked", m.not_checked),
    ] {
        if body.trim().is_empty() {
            continue;
        }
        let _ = writeln!(s, "## {title}\n{}\n", body.trim());
    }
    if !m.params.is_empty() {
        let _ = writeln!(s, "## Parameters ([policy.params.{}])", m.id);
        for p in m.params {
            let _ = writeln!(s, "{} = {}", p.name, p.default);
        }
    }
    Ok(s)
}
