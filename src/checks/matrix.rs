//! The coverage matrix (`RULES.md` §4.2, §4.4): for each enabled pack, each clause of its
//! instrument with the rules that give evidence for it, their status and finding ids.
//!
//! Status of a rule within a pack: *fail* when an unwaived `deny` or `warn` finding of the rule
//! lies in the pack's scope (the pack contributed to it); else *waived* when it has waived
//! findings only; else the rule's run status: *pass* (it evaluated a subject; `info` findings,
//! such as a running incident clock, do not fail a clause), *not applicable*, *not evaluable*,
//! *disabled* (`[policy] levels`) or *not implemented*. A clause takes the first of fail, waived,
//! pass, not applicable, not evaluable, disabled among its rules.

use serde::Serialize;

use super::{Finding, RuleRun, Status, catalogue};
use crate::config::Config;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageStatus {
    Fail,
    Waived,
    Pass,
    NotApplicable,
    NotEvaluable,
    Disabled,
    NotImplemented,
}

impl CoverageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Fail => "fail",
            CoverageStatus::Waived => "waived",
            CoverageStatus::Pass => "pass",
            CoverageStatus::NotApplicable => "not applicable",
            CoverageStatus::NotEvaluable => "not evaluable",
            CoverageStatus::Disabled => "disabled",
            CoverageStatus::NotImplemented => "not implemented",
        }
    }
}

/// One rule's standing within a pack.
#[derive(Clone, Debug, Serialize)]
pub struct RuleCoverage {
    pub rule: &'static str,
    pub status: CoverageStatus,
    /// Why the rule passed nothing and failed nothing (not applicable / not evaluable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Ids of the rule's findings in the pack's scope, in report order.
    pub findings: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClauseCoverage {
    /// The clause with its verification tag, e.g. `AI Act Art. 12(1) [V]`.
    pub clause: &'static str,
    pub status: CoverageStatus,
    pub rules: Vec<RuleCoverage>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PackCoverage {
    pub pack: &'static str,
    pub label: &'static str,
    /// The pack's overall status: the clause statuses and supporting rules combined.
    pub status: CoverageStatus,
    pub clauses: Vec<ClauseCoverage>,
    /// Rules the pack runs without a clause of their own (for `baseline`: all its rules).
    pub supporting: Vec<RuleCoverage>,
    /// What the instrument asks that no rule covers.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub not_covered: &'static str,
}

/// Combines statuses: the most telling one wins (fail first).
fn combine(statuses: impl IntoIterator<Item = CoverageStatus>) -> CoverageStatus {
    statuses
        .into_iter()
        .min()
        .unwrap_or(CoverageStatus::NotEvaluable)
}

fn rule_coverage(
    pack: &str,
    rule: &'static str,
    findings: &[Finding],
    runs: &[RuleRun],
    config: &Config,
) -> RuleCoverage {
    let mine: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == rule && f.packs.iter().any(|p| p == pack))
        .collect();
    let ids = mine.iter().map(|f| f.id.clone()).collect();
    let fails = mine.iter().any(|f| f.level == "deny" || f.level == "warn");
    let waived = mine.iter().any(|f| f.is_waived());
    let (status, reason) = if fails {
        (CoverageStatus::Fail, None)
    } else if waived {
        (CoverageStatus::Waived, None)
    } else if config.policy.levels.get(rule).map(String::as_str) == Some("off") {
        (CoverageStatus::Disabled, None)
    } else {
        match runs.iter().find(|r| r.rule == rule).map(|r| &r.status) {
            Some(Status::Evaluated) => (CoverageStatus::Pass, None),
            Some(Status::NotApplicable(why)) => (CoverageStatus::NotApplicable, Some(why.clone())),
            Some(Status::NotEvaluable(why)) => (CoverageStatus::NotEvaluable, Some(why.clone())),
            None => (
                CoverageStatus::NotImplemented,
                Some("not implemented in this version of trailbook".to_string()),
            ),
        }
    };
    RuleCoverage {
        rule,
        status,
        reason,
        findings: ids,
    }
}

/// The coverage matrix of every enabled pack, in catalogue order.
pub fn coverage(findings: &[Finding], runs: &[RuleRun], config: &Config) -> Vec<PackCoverage> {
    catalogue::packs()
        .iter()
        .filter(|p| config.policy.enabled(p.def.id))
        .map(|p| {
            let id = p.def.id;
            let clauses: Vec<ClauseCoverage> = p
                .clauses
                .iter()
                .map(|c| {
                    let rules: Vec<RuleCoverage> = c
                        .rules
                        .iter()
                        .map(|r| rule_coverage(id, r, findings, runs, config))
                        .collect();
                    ClauseCoverage {
                        clause: c.clause.as_str(),
                        status: combine(rules.iter().map(|r| r.status)),
                        rules,
                    }
                })
                .collect();
            let supporting: Vec<RuleCoverage> = p
                .covers
                .iter()
                .filter(|r| !p.clauses.iter().any(|c| c.rules.contains(r)))
                .map(|r| rule_coverage(id, r, findings, runs, config))
                .collect();
            let status = combine(
                clauses
                    .iter()
                    .map(|c| c.status)
                    .chain(supporting.iter().map(|r| r.status)),
            );
            PackCoverage {
                pack: id,
                label: p.def.label,
                status,
                clauses,
                supporting,
                not_covered: p.def.not_covered,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::{Case, check_events, ev};

    fn clause<'a>(case: &'a Case, pack: &str, clause: &str) -> &'a ClauseCoverage {
        case.findings
            .coverage
            .iter()
            .find(|p| p.pack == pack)
            .and_then(|p| p.clauses.iter().find(|c| c.clause == clause))
            .unwrap_or_else(|| panic!("{pack} has no clause {clause}"))
    }

    #[test]
    fn clauses_fail_on_findings_and_pass_when_evaluated() {
        // An unknown kind: LOG-01 (a) warns, so the PCI DSS clauses citing LOG-01 fail.
        let events = [ev(
            "e1",
            "2026-09-01T00:00:00Z",
            "frobnicate",
            "resource:r",
            json!({}),
        )];
        let case = check_events(&events, "[policy]\npacks = [\"pci-dss\"]\n");
        let c = clause(&case, "pci-dss", "PCI DSS 10.2.2 [S]");
        assert_eq!(c.status, CoverageStatus::Fail);
        let log01 = c.rules.iter().find(|r| r.rule == "LOG-01").unwrap();
        assert_eq!(log01.findings, [case.of("LOG-01")[0].id.clone()]);
        // LOG-02 evaluated without findings: the chain clause passes.
        let chain = clause(&case, "pci-dss", "PCI DSS 10.3.2–10.3.4 [V]");
        let log02 = chain.rules.iter().find(|r| r.rule == "LOG-02").unwrap();
        assert_eq!(log02.status, CoverageStatus::Pass);
        // Findings carry the pack's clauses for their rule.
        assert_eq!(
            case.of("LOG-01")[0].clauses,
            ["PCI DSS 10.2.2 [S]", "PCI DSS 10.6 [S]"]
        );
        // Baseline alone maps no clauses: its rules are listed as supporting.
        let baseline = &case.findings.coverage[0];
        assert_eq!(baseline.pack, "baseline");
        assert!(baseline.clauses.is_empty() && baseline.supporting.len() == 13);
    }

    #[test]
    fn pci_dss_raises_an_unchained_source_to_warn() {
        let line = serde_json::to_string(&ev(
            "e1",
            "2026-09-01T00:00:00Z",
            "access",
            "resource:r",
            json!({"action": "read"}),
        ))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.jsonl"), format!("{line}\n")).unwrap();
        let run = |packs: &str| {
            let cfg = format!(
                "[[source]]\nname = \"main\"\nformat = \"trailbook-jsonl\"\npaths = [\"main.jsonl\"]\nchain = \"none\"\n[policy]\npacks = [{packs}]\n"
            );
            let path = dir.path().join("trailbook.toml");
            std::fs::write(&path, cfg).unwrap();
            let l = crate::cli::load(&path, None).unwrap();
            let f = crate::checks::run(&l.model, &l.graph, &l.config, &l.ingest);
            f.findings
                .iter()
                .filter(|f| f.rule == "LOG-02")
                .map(|f| (f.discriminator.clone(), f.level.clone(), f.packs.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            run(""),
            [("e".into(), "info".into(), vec!["baseline".to_string()])]
        );
        assert_eq!(
            run("\"pci-dss\""),
            [(
                "e".into(),
                "warn".into(),
                vec!["baseline".to_string(), "pci-dss".to_string()]
            )]
        );
    }
}
