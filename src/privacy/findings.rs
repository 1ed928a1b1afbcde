//! Findings in a redacted view: subjects mapped to replaced entity ids, and messages,
//! discriminators, notes and waiver approvers scrubbed (`text.rs`). PRV-01's evidence notes,
//! which carry the matched values in the internal view, keep only the detector and the path
//! (`RULES.md` PRV-01: other audiences see location and detector).
//!
//! A finding whose subject or discriminator changed gets the stable id of what it now says
//! (`RULES.md` §6.3 over the redacted text): the id of `decision:cust-88123` could be recovered by
//! hashing guesses, the id of its pseudonym cannot. Findings that become the same (masked
//! subjects) are merged into one that counts them, so no report holds one id twice. The coverage
//! matrix follows the new ids. Output is sorted as §6.2 says.

use std::collections::{BTreeMap, BTreeSet};

use super::redact::Ids;
use super::text::Scrubber;
use crate::checks::{self, Finding, Findings};

/// Findings for an audience without drill-down (`public`: aggregates only): each keeps its
/// rule, title, level, subject and clauses, but not its message or evidence, which name events
/// and small counts; aggregated counts below `k` are dropped.
pub fn aggregate_only(findings: &mut Findings, k: u64) {
    for f in &mut findings.findings {
        f.message = format!(
            "{} (the details and evidence of this finding are in the versions for audiences with drill-down)",
            f.title
        );
        f.evidence.clear();
        if f.count.is_some_and(|c| c < k) {
            f.count = None;
        }
    }
}

/// The findings of a redacted view.
pub fn redact(findings: &Findings, ids: &Ids, scrub: &Scrubber<'_>) -> Findings {
    let mut by_id: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut renamed: BTreeMap<&str, String> = BTreeMap::new();
    for f in &findings.findings {
        let mut g = f.clone();
        g.subject = ids
            .node_str(&f.subject)
            .unwrap_or_else(|| scrub.scrub(&f.subject));
        g.discriminator = scrub.scrub(&f.discriminator);
        g.message = scrub.scrub(&f.message);
        let prv01 = (f.rule == "PRV-01")
            .then(|| f.discriminator.rsplit_once('|'))
            .flatten()
            .map(|(path, detector)| format!("{detector} in {path}"));
        for e in &mut g.evidence {
            e.note = match &prv01 {
                Some(n) => Some(n.clone()),
                None => e.note.as_deref().map(|n| scrub.scrub(n)),
            };
        }
        if let Some(w) = &mut g.waiver {
            w.approved_by = scrub.scrub(&w.approved_by);
        }
        if g.subject != f.subject || g.discriminator != f.discriminator {
            g.id = checks::finding_id(&g.rule, &g.subject, &g.discriminator);
        }
        renamed.insert(&f.id, g.id.clone());
        if !by_id.contains_key(&g.id) {
            order.push(g.id.clone());
        }
        by_id.entry(g.id.clone()).or_default().push(g);
    }
    let mut out: Vec<Finding> = order
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .map(merge)
        .collect();
    checks::sort(&mut out);
    let mut coverage = findings.coverage.clone();
    for pack in &mut coverage {
        let rules = pack
            .clauses
            .iter_mut()
            .flat_map(|c| c.rules.iter_mut())
            .chain(pack.supporting.iter_mut());
        for rule in rules {
            let mut seen = BTreeSet::new();
            rule.findings = rule
                .findings
                .iter()
                .map(|id| {
                    renamed
                        .get(id.as_str())
                        .cloned()
                        .unwrap_or_else(|| id.clone())
                })
                .filter(|id| seen.insert(id.clone()))
                .collect();
            rule.reason = rule.reason.as_deref().map(|r| scrub.scrub(r));
        }
    }
    let mut rules = findings.rules.clone();
    for r in &mut rules {
        r.findings = out.iter().filter(|f| f.rule == r.rule).count();
    }
    Findings {
        findings: out,
        rules,
        not_implemented: findings.not_implemented.clone(),
        disabled: findings.disabled.clone(),
        coverage,
    }
}

/// One finding from findings that redaction made the same (they arrive in report order, most
/// severe first): the first's level and message, the counts summed, the evidence joined.
fn merge(mut group: Vec<Finding>) -> Finding {
    let n = group.len();
    let mut first = group.remove(0);
    if n == 1 {
        return first;
    }
    let mut count = first.count.unwrap_or(1);
    for g in group {
        count += g.count.unwrap_or(1);
        first.evidence.extend(g.evidence);
    }
    first
        .evidence
        .sort_by(|a, b| (&a.path, a.line, &a.event).cmp(&(&b.path, b.line, &b.event)));
    first.evidence.dedup();
    first.count = Some(count);
    first.message = format!(
        "{} (and {} more finding{} of this rule whose subjects this audience does not show)",
        first.message,
        n - 1,
        if n == 2 { "" } else { "s" }
    );
    first
}
