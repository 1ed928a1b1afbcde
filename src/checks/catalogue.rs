//! The catalogue as data: every rule id of `RULES.md`, the policy packs that group them, and the
//! parameter declarations rules read. Rule documentation lives with each rule's code (the
//! `RuleMeta` of its family file); this module only indexes it.

use toml::de::DeValue;

use super::{Level, RuleMeta};
use crate::time::Duration;

/// Every rule id of the catalogue (`RULES.md` §3), implemented or not, in catalogue order.
pub const RULE_IDS: &[&str] = &[
    "LOG-01", "LOG-02", "LOG-03", "LOG-04", "LOG-05", "LOG-06", "LOG-07", "LOG-08", "LINK-01",
    "LINK-02", "LINK-03", "LINK-04", "LINK-05", "MOD-01", "MOD-02", "MOD-03", "MOD-04", "MOD-05",
    "MOD-06", "DATA-01", "DATA-02", "DATA-03", "DEC-01", "DEC-02", "DEC-03", "DEC-04", "DEC-05",
    "DEC-06", "DEP-01", "DEP-02", "DEP-03", "DEP-04", "DEP-05", "DEP-06", "DEP-07", "INC-01",
    "INC-02", "INC-03", "INC-04", "INC-05", "INC-06", "ACC-01", "ACC-02", "ACC-03", "ACC-04",
    "RET-01", "RET-02", "RET-03", "RET-04", "RET-05", "RET-06", "RET-07", "RET-08", "RET-09",
    "PRV-01", "PRV-02", "PRV-03", "PRV-04", "PRV-05",
];

/// A policy pack (`RULES.md` §4.1).
#[derive(Debug)]
pub struct PackDef {
    pub id: &'static str,
    pub label: &'static str,
    /// The rules it lists beyond baseline, with ranges written as in `RULES.md` (`MOD-01–04`).
    pub rules: &'static str,
    /// Level changes: `(rule, check letter or "", level)`.
    pub levels: &'static [(&'static str, &'static str, Level)],
    pub max_level: Option<Level>,
    pub effective_from: Option<&'static str>,
    /// The clauses of the pack's instrument mapped to rules (§4.2), one per line:
    /// `CLAUSE [TAG] | RULES`.
    pub clauses: &'static str,
    /// Rules that run in the pack without a clause of their own.
    pub supporting: &'static str,
    /// What the pack's instrument asks that no rule covers.
    pub not_covered: &'static str,
}

/// A clause of a pack's instrument and the rules that give evidence for it.
#[derive(Debug)]
pub struct Clause {
    /// The clause with its verification tag, e.g. `AI Act Art. 12(1) [V]`.
    pub clause: String,
    pub rules: Vec<&'static str>,
}

/// A pack with its lists expanded once.
#[derive(Debug)]
pub struct PackIndex {
    pub def: &'static PackDef,
    /// The rules the pack lists beyond baseline (§4.1).
    pub listed: Vec<&'static str>,
    pub clauses: Vec<Clause>,
    pub supporting: Vec<&'static str>,
    /// Every rule the pack covers: listed, mapped to a clause, or supporting; catalogue order.
    pub covers: Vec<&'static str>,
}

const fn def(
    id: &'static str,
    label: &'static str,
    rules: &'static str,
    levels: &'static [(&'static str, &'static str, Level)],
    max_level: Option<Level>,
    effective_from: Option<&'static str>,
) -> PackDef {
    PackDef {
        id,
        label,
        rules,
        levels,
        max_level,
        effective_from,
        clauses: "",
        supporting: "",
        not_covered: "",
    }
}

impl PackDef {
    const fn map(
        mut self,
        clauses: &'static str,
        supporting: &'static str,
        not_covered: &'static str,
    ) -> PackDef {
        self.clauses = clauses;
        self.supporting = supporting;
        self.not_covered = not_covered;
        self
    }
}

const SR11_7_RULES: &str = "MOD-01–06, DEP-01, DEP-03–05, DEC-01, ACC-02";
const SR_LEVELS: &[(&str, &str, Level)] =
    &[("MOD-05", "", Level::Deny), ("DEP-04", "", Level::Deny)];
const UNCHAINED_WARN: &[(&str, &str, Level)] = &[("LOG-02", "e", Level::Warn)];

pub static PACKS: &[PackDef] = &[
    def(
        "baseline",
        "Evidence integrity and graph consistency",
        "LOG-01–08, LINK-01–05",
        &[],
        None,
        None,
    ),
    def(
        "eu-ai-act-provider",
        "EU AI Act, provider of a high-risk system",
        "MOD-01–04, MOD-06, DATA-01–03, DEC-01, DEC-02, DEC-04, DEC-05, DEP-01–03, DEP-05, INC-01–04, ACC-01, RET-01, RET-02, RET-08, RET-09",
        &[],
        None,
        Some("2026-08-02"),
    )
    .map(
        "AI Act Art. 3(49) [S] | INC-02\n\
AI Act Art. 3(23), 43(4) [U] | MOD-06\n\
AI Act Art. 9(8) [V] | MOD-02\n\
AI Act Art. 10(2)(b)(c) [V] | DATA-01, MOD-03\n\
AI Act Art. 10(2)(e)–(h), 10(3) [V] | DATA-02\n\
AI Act Art. 10(5)(c)–(f) / 4a [V] | DATA-03, ACC-01\n\
AI Act Art. 11(1) [V] | DEP-01\n\
AI Act Art. 12(1) [V] | LOG-01, LOG-04, LOG-06\n\
AI Act Art. 12(2) [V] | LOG-01, LOG-05, DEC-01, DEC-02, INC-01, LINK-01\n\
AI Act Art. 12(3) [V] | DEC-05\n\
AI Act Art. 13(3)(b)(d) [V] | MOD-04, DEP-01\n\
AI Act Art. 14(3), 14(4) [V] | MOD-04, DEC-04\n\
AI Act Art. 14(5) [V] | DEC-05\n\
AI Act Art. 18(1) [V] | RET-02\n\
AI Act Art. 19(1) [V] | RET-01, RET-09\n\
AI Act Art. 20 [V] | DEP-03, INC-04\n\
AI Act Art. 72 [V] | DEP-02, DEP-03\n\
AI Act Art. 73(1)–(5) [V] | INC-02, INC-03\n\
AI Act Art. 73(6) [V] | INC-01, INC-04, RET-08\n\
AI Act Annex IV 1(a), 1(c) [V] | MOD-01, LINK-04\n\
AI Act Annex IV 2(d) [V] | MOD-03, LINK-01\n\
AI Act Annex IV 2(e), 3 [V] | MOD-04\n\
AI Act Annex IV 2(f), 6 [V] | MOD-06\n\
AI Act Annex IV 2(g) [V] | MOD-02\n\
AI Act Annex IV 8, 9 [V] | DEP-01, DEP-02",
        "LOG-02, LOG-03, LOG-07, LOG-08, LINK-02, LINK-03, LINK-05",
        "Deployer duties of Art. 26 (the `eu-ai-act-deployer` pack); the quality management system of Art. 17 beyond its records; conformity assessment (Art. 43) beyond MOD-06 (c).",
    ),
    def(
        "eu-ai-act-deployer",
        "EU AI Act, deployer of a high-risk system",
        "DEC-01, DEC-02, DEC-04–06, DEP-01, DEP-06, INC-05, RET-01, RET-08, RET-09, PRV-04",
        &[],
        None,
        Some("2026-08-02"),
    )
    .map(
        "AI Act Art. 12(1) [V] | LOG-01, LOG-04, LOG-06\n\
AI Act Art. 12(2) [V] | LOG-01, LOG-05, DEC-01, DEC-02, LINK-01\n\
AI Act Art. 12(3), 14(5) [V] | DEC-05\n\
AI Act Art. 14(4), 26(2) [V] | DEC-04\n\
AI Act Art. 26(1) [V] | DEC-01\n\
AI Act Art. 26(5) [V] | DEC-01, DEP-06, INC-05\n\
AI Act Art. 26(6) [V] | RET-01, RET-09\n\
AI Act Art. 26(7), 26(11) [V] | DEC-06\n\
AI Act Art. 26(9) [V] | PRV-04\n\
AI Act Art. 27 [S] | DEP-01\n\
AI Act Art. 73(6) [V] | RET-08\n\
AI Act Art. 86(1) [V] | DEC-02",
        "LOG-02, LOG-03, LOG-07, LOG-08, LINK-02–05",
        "Provider obligations (the `eu-ai-act-provider` pack); overseers' competence and training (Art. 26(2)).",
    ),
    def(
        "gdpr",
        "GDPR",
        "DEC-02, DEC-03, INC-06, ACC-04, RET-07–09, PRV-01–05",
        &[],
        None,
        Some("2018-05-25"),
    )
    .map(
        "GDPR Art. 4(5) [V] | ACC-04, PRV-02\n\
GDPR Art. 5(1)(c) [V] | PRV-01, PRV-05\n\
GDPR Art. 5(1)(e) [V] | RET-07, RET-09\n\
GDPR Art. 9 [V] | PRV-01\n\
GDPR Art. 12(3) [U] | PRV-03\n\
GDPR Art. 15(1)(h) [V] | DEC-02\n\
GDPR Art. 17(1), 17(3), 18 [V] | PRV-03\n\
GDPR Art. 17(3)(b) [V] | RET-09\n\
GDPR Art. 17(3)(e) [V] | RET-08\n\
GDPR Art. 22(1)–(4) [V] | DEC-03\n\
GDPR Art. 22(3) [V] | DEC-02\n\
GDPR Art. 25(1) [V] | ACC-04, PRV-01\n\
GDPR Art. 25(2) [V] | RET-07, PRV-05\n\
GDPR Art. 30(1) [V] | PRV-04\n\
GDPR Art. 30(1)(f) [V] | RET-07\n\
GDPR Art. 32(1)(a) [V] | ACC-04, PRV-01, PRV-02\n\
GDPR Art. 33(1), 33(5) [S] | INC-06\n\
GDPR Art. 35 [V] | PRV-04",
        "",
        "Lawfulness of processing (Art. 6) and the contents of RoPA and DPIA documents.",
    ),
    def(
        "sr11-7",
        "SR 11-7 (legacy baseline)",
        SR11_7_RULES,
        SR_LEVELS,
        None,
        Some("2011-04-04"),
    )
    .map(
        "SR 11-7 inventory [V] | MOD-01, MOD-03, MOD-05, DEP-05\n\
SR 11-7 documentation [V] | MOD-04\n\
SR 11-7 validation core elements [V] | MOD-02\n\
SR 11-7 validation before implementation and of material changes [V] | DEP-01, MOD-06, LINK-03\n\
SR 11-7 independence and effective challenge [V] | ACC-02\n\
SR 11-7 ongoing monitoring and outcomes analysis [V] | DEP-03\n\
SR 11-7 periodic review at least annually [V] | DEP-04\n\
SR 11-7 change control [V] | MOD-06, LINK-04\n\
SR 11-7 use of unapproved models [V] | DEC-01\n\
SR 11-7 exceptions to policy [V] | LOG-08",
        "",
        "Governance, policies and board oversight; the SR 26-2 mapping is pending review of its primary text.",
    ),
    def(
        "pra-ss1-23",
        "PRA SS1/23",
        SR11_7_RULES,
        SR_LEVELS,
        None,
        Some("2024-05-17"),
    )
    .map(
        "PRA SS1/23 P1 model identification and classification [V] | MOD-01, MOD-05\n\
PRA SS1/23 P3 development, implementation and use [V] | MOD-02, MOD-03, MOD-04, MOD-06, DEC-01, DEP-05\n\
PRA SS1/23 P4 independent validation [V] | DEP-01, DEP-04, ACC-02, LINK-03\n\
PRA SS1/23 P5 model risk mitigants [V] | DEP-03, LOG-08",
        "",
        "P2 (governance, accountable SMF).",
    ),
    def(
        "nist-ai-rmf",
        "NIST AI RMF 1.0 (informative)",
        "MOD-01, MOD-02, MOD-04, MOD-05, DATA-01, DATA-02, DEC-02–04, DEP-02–06, INC-01–03, ACC-02, PRV-01–05",
        &[],
        Some(Level::Warn),
        None,
    )
    .map(
        "NIST AI RMF GOVERN 1.5 [V] | DEP-04\n\
NIST AI RMF GOVERN 1.6 [V] | MOD-01, MOD-05\n\
NIST AI RMF GOVERN 1.7 [V] | DEP-05\n\
NIST AI RMF GOVERN 2.1, 3.2 [V] | ACC-02, DEC-04\n\
NIST AI RMF GOVERN 4.3 [V] | INC-01\n\
NIST AI RMF MAP 2.2 [V] | MOD-04\n\
NIST AI RMF MAP 2.3 [V] | DATA-02\n\
NIST AI RMF MAP 3.5 [V] | DEC-04\n\
NIST AI RMF MAP 4.1 [V] | DATA-01, LINK-02, LINK-05\n\
NIST AI RMF MEASURE 1.3 [V] | ACC-02\n\
NIST AI RMF MEASURE 2.1, 2.3 [V] | MOD-02\n\
NIST AI RMF MEASURE 2.4 [V] | DEP-02\n\
NIST AI RMF MEASURE 2.8, 2.9 [V] | DEC-02, MOD-04\n\
NIST AI RMF MEASURE 2.10 [V] | PRV-01–05\n\
NIST AI RMF MEASURE 2.11 [V] | MOD-02, DATA-02\n\
NIST AI RMF MEASURE 3.1 [V] | DEP-03\n\
NIST AI RMF MEASURE 3.3 [V] | DEC-03\n\
NIST AI RMF MANAGE 2.4 [V] | DEC-04, DEP-05, DEP-06\n\
NIST AI RMF MANAGE 4.1 [V] | DEP-02, INC-01\n\
NIST AI RMF MANAGE 4.3 [V] | INC-01, INC-02, INC-03",
        "",
        "Informative framework: subcategories not listed have no event-based evidence.",
    ),
    def(
        "iso-42001",
        "ISO/IEC 42001:2023 Annex A (informative)",
        "MOD-01–04, DATA-01, DATA-02, DEC-01, DEP-01–03, INC-01, RET-07, PRV-04",
        &[],
        Some(Level::Warn),
        None,
    )
    .map(
        "ISO/IEC 42001 A.5.3 [S] | RET-07, PRV-04\n\
ISO/IEC 42001 A.6.2.3 [S] | MOD-01\n\
ISO/IEC 42001 A.6.2.4 [S] | MOD-02\n\
ISO/IEC 42001 A.6.2.5 [S] | DEP-01, LINK-03\n\
ISO/IEC 42001 A.6.2.6 [S] | DEP-02, DEP-03\n\
ISO/IEC 42001 A.6.2.7 [S] | MOD-01, MOD-04\n\
ISO/IEC 42001 A.6.2.8 [S] | LOG-01, LOG-04\n\
ISO/IEC 42001 A.7.2 [S] | MOD-03\n\
ISO/IEC 42001 A.7.3 [S] | DATA-01, MOD-03\n\
ISO/IEC 42001 A.7.4 [S] | DATA-02\n\
ISO/IEC 42001 A.7.5 [S] | DATA-01, MOD-03, LINK-01, LINK-02, LINK-05\n\
ISO/IEC 42001 A.7.6 [S] | DATA-01, LINK-05\n\
ISO/IEC 42001 A.8.4 [S] | INC-01\n\
ISO/IEC 42001 A.9.4 [S] | DEC-01",
        "",
        "Management-system clauses 4–10; Annex A controls not listed. Control titles [V], wording [S].",
    ),
    def(
        "pci-dss",
        "PCI DSS v4.0.1, Requirement 10",
        "ACC-01, ACC-03, RET-03, PRV-01",
        UNCHAINED_WARN,
        None,
        None,
    )
    .map(
        "PCI DSS 10.2.1 [S] | LOG-04, ACC-01, ACC-03\n\
PCI DSS 10.2.2 [S] | LOG-01, ACC-01\n\
PCI DSS 10.3.1 [V] | ACC-01\n\
PCI DSS 10.3.2–10.3.4 [V] | LOG-02, LOG-03, LOG-06\n\
PCI DSS 10.5.1 [V] | RET-03\n\
PCI DSS 10.6 [S] | LOG-01\n\
PCI DSS Req. 3 [U] | PRV-01",
        "",
        "10.5.1's three months immediately available (a storage property).",
    ),
    def(
        "hipaa",
        "HIPAA Security Rule",
        "ACC-01, RET-04",
        &[],
        None,
        None,
    )
    .map(
        "HIPAA 45 CFR 164.312(b) [V] | LOG-01, LOG-04, ACC-01\n\
HIPAA 45 CFR 164.316(b)(2)(i) [V] | RET-04",
        "LOG-02, LOG-03",
        "",
    ),
    def(
        "sec-17a4",
        "SEC Rule 17a-4 (broker-dealers)",
        "RET-05",
        UNCHAINED_WARN,
        None,
        Some("2023-05-03"),
    )
    .map(
        "SEC 17a-4(f)(2)(i)(A) [V] | LOG-03, LOG-05, LOG-07\n\
SEC 17a-4(f)(2)(i)(A)/(B) [V] | LOG-02\n\
SEC 17a-4(a), (b) [S] | RET-05",
        "",
        "Storage-system conditions of (f): WORM or audit-trail storage, the third-party undertaking.",
    ),
    def(
        "sox",
        "SOX / PCAOB audit evidence",
        "RET-06, ACC-02, ACC-03, MOD-06",
        &[],
        None,
        None,
    )
    .map(
        "17 CFR 210.2-06 [V] | RET-06\n\
PCAOB AS 1215.14 [V] | RET-06\n\
PCAOB AS 1215.16 [V] | LOG-03, LOG-07\n\
SOX ITGC change management [U] | ACC-03, MOD-06\n\
SOX ITGC segregation of duties [U] | ACC-02",
        "",
        "",
    ),
    def(
        "nyc-ll144",
        "NYC Local Law 144 (AEDT)",
        "DEP-07, DEC-06, PRV-05",
        &[],
        None,
        Some("2023-07-05"),
    )
    .map(
        "NYC Admin Code §20-871(a) [S] | DEP-07\n\
NYC Admin Code §20-871(b) [S] | DEC-06\n\
6 RCNY §5-301 [S] | DEP-07, PRV-05\n\
6 RCNY §5-303 [S] | DEP-07\n\
6 RCNY §5-304 [S] | DEC-06",
        "",
        "",
    ),
];

pub fn pack(id: &str) -> Option<&'static PackDef> {
    PACKS.iter().find(|p| p.id == id)
}

/// Expands a rule list written as in `RULES.md` (`MOD-01–04, DEC-01`) to catalogue ids, in
/// catalogue order. Panics on an id outside the catalogue (the lists are static data; a test
/// expands every one).
fn expand(list: &str) -> Vec<&'static str> {
    let mut listed = Vec::new();
    for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item.split_once('–') {
            Some((first, last)) => {
                let (family, from) = first
                    .rsplit_once('-')
                    .expect("pack rule range has a family");
                let (from, to): (u32, u32) = (
                    from.parse().expect("range start"),
                    last.parse().expect("range end"),
                );
                for n in from..=to {
                    listed.push(format!("{family}-{n:02}"));
                }
            }
            None => listed.push(item.to_string()),
        }
    }
    for l in &listed {
        assert!(
            RULE_IDS.contains(&l.as_str()),
            "unknown rule `{l}` in a pack list"
        );
    }
    RULE_IDS
        .iter()
        .copied()
        .filter(|id| listed.iter().any(|l| l == id))
        .collect()
}

static INDEX: std::sync::LazyLock<Vec<PackIndex>> = std::sync::LazyLock::new(|| {
    PACKS
        .iter()
        .map(|def| {
            let listed = expand(def.rules);
            let clauses: Vec<Clause> = def
                .clauses
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let (clause, rules) = l.split_once(" | ").expect("clause line has ` | `");
                    Clause {
                        clause: clause.trim().to_string(),
                        rules: expand(rules),
                    }
                })
                .collect();
            let supporting = expand(def.supporting);
            let covers = RULE_IDS
                .iter()
                .copied()
                .filter(|id| {
                    listed.contains(id)
                        || supporting.contains(id)
                        || clauses.iter().any(|c| c.rules.contains(id))
                })
                .collect();
            PackIndex {
                def,
                listed,
                clauses,
                supporting,
                covers,
            }
        })
        .collect()
});

/// Every pack with its lists expanded, in catalogue order.
pub fn packs() -> &'static [PackIndex] {
    &INDEX
}

impl PackDef {
    fn index(&self) -> &'static PackIndex {
        INDEX
            .iter()
            .find(|p| p.def.id == self.id)
            .expect("every pack is indexed")
    }

    /// The rule ids the pack lists beyond baseline (§4.1), ranges expanded, in catalogue order.
    pub fn rule_ids(&self) -> &'static [&'static str] {
        &self.index().listed
    }

    /// Whether the pack lists the rule (§4.1 table).
    pub fn lists(&self, rule: &str) -> bool {
        self.rule_ids().contains(&rule)
    }

    /// Whether the pack covers the rule: lists it, maps it to a clause, or runs it as supporting
    /// evidence (the baseline rules the AI Act packs cite). A covering pack contributes the
    /// rule's level and its clauses to the rule's findings (§4.4, §6.1).
    pub fn covers(&self, rule: &str) -> bool {
        self.index().covers.contains(&rule)
    }

    /// The pack's clauses that cite the rule, with their tags.
    pub fn clauses_of(&self, rule: &str) -> impl Iterator<Item = &'static str> {
        self.index()
            .clauses
            .iter()
            .filter(move |c| c.rules.contains(&rule))
            .map(|c| c.clause.as_str())
    }
}

/// The implemented rule with this id.
pub fn rule(id: &str) -> Option<&'static RuleMeta> {
    super::rules().iter().map(|r| r.meta()).find(|m| m.id == id)
}

/// The type of a rule parameter, checked against the config value.
#[derive(Clone, Copy, Debug)]
pub enum ParamKind {
    Duration,
    Str,
    Strs,
    Int,
    Float,
    Bool,
    Regex,
    Enum(&'static [&'static str]),
    /// A table from names to durations (`max_gap_by_system`).
    DurationMap,
    /// An array of regular expressions (`national_id_patterns`).
    Regexes,
    /// An array of `{name, regex}` tables (PRV-01 `detectors`).
    Detectors,
}

impl ParamKind {
    pub fn check(self, v: &DeValue<'_>) -> Result<(), String> {
        let s = |v: &DeValue<'_>| match v {
            DeValue::String(s) => Ok(s.to_string()),
            _ => Err("must be a string".to_string()),
        };
        match self {
            ParamKind::Duration => s(v)?.parse::<Duration>().map(|_| ()),
            ParamKind::Str => s(v).map(|_| ()),
            ParamKind::Regex => regex::Regex::new(&s(v)?)
                .map(|_| ())
                .map_err(|e| format!("not a valid regex: {e}")),
            ParamKind::Enum(options) => {
                let x = s(v)?;
                if options.contains(&x.as_str()) {
                    Ok(())
                } else {
                    Err(format!("must be one of {}", options.join(", ")))
                }
            }
            ParamKind::Strs => match v {
                DeValue::Array(a)
                    if a.iter().all(|i| matches!(i.get_ref(), DeValue::String(_))) =>
                {
                    Ok(())
                }
                _ => Err("must be an array of strings".into()),
            },
            ParamKind::Int => match v {
                DeValue::Integer(_) => Ok(()),
                _ => Err("must be an integer".into()),
            },
            ParamKind::Float => match v {
                DeValue::Integer(_) | DeValue::Float(_) => Ok(()),
                _ => Err("must be a number".into()),
            },
            ParamKind::Bool => match v {
                DeValue::Boolean(_) => Ok(()),
                _ => Err("must be true or false".into()),
            },
            ParamKind::DurationMap => match v {
                DeValue::Table(t) => {
                    for (k, d) in t.iter() {
                        s(d.get_ref())?
                            .parse::<Duration>()
                            .map_err(|e| format!("`{}`: {e}", k.get_ref()))?;
                    }
                    Ok(())
                }
                _ => Err("must be a table of durations".into()),
            },
            ParamKind::Regexes => match v {
                DeValue::Array(a) => {
                    for item in a.iter() {
                        regex::Regex::new(&s(item.get_ref())?)
                            .map_err(|e| format!("not a valid regex: {e}"))?;
                    }
                    Ok(())
                }
                _ => Err("must be an array of regular expressions".into()),
            },
            ParamKind::Detectors => {
                let DeValue::Array(a) = v else {
                    return Err("must be an array of `{name, regex}` tables".into());
                };
                for item in a.iter() {
                    let DeValue::Table(t) = item.get_ref() else {
                        return Err("each detector must be a `{name, regex}` table".into());
                    };
                    let field = |key: &str| t.iter().find(|(k, _)| k.get_ref() == key);
                    if let Some((k, _)) = t
                        .iter()
                        .find(|(k, _)| !["name", "regex"].contains(&k.get_ref().as_ref()))
                    {
                        return Err(format!(
                            "unknown detector key `{}` (keys: name, regex)",
                            k.get_ref()
                        ));
                    }
                    let name = match field("name") {
                        Some((_, n)) => s(n.get_ref())?,
                        None => return Err("a detector lacks `name`".into()),
                    };
                    if name.is_empty() {
                        return Err("a detector's `name` is empty".into());
                    }
                    match field("regex") {
                        Some((_, r)) => regex::Regex::new(&s(r.get_ref())?)
                            .map(|_| ())
                            .map_err(|e| format!("detector `{name}`: not a valid regex: {e}"))?,
                        None => return Err(format!("detector `{name}` lacks `regex`")),
                    }
                }
                Ok(())
            }
        }
    }
}

/// A parameter a rule reads, with its default written as TOML (`"1 h"`, `["a"]`, `20`).
#[derive(Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: &'static str,
}

pub const fn param(name: &'static str, kind: ParamKind, default: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_59_rules_and_packs_expand_ranges() {
        assert_eq!(RULE_IDS.len(), 59);
        let provider = pack("eu-ai-act-provider").unwrap().rule_ids();
        assert!(
            provider.contains(&"MOD-04")
                && !provider.contains(&"MOD-05")
                && provider.contains(&"INC-04")
        );
        assert_eq!(pack("baseline").unwrap().rule_ids().len(), 13);
        for p in PACKS {
            for id in p.rule_ids() {
                assert!(RULE_IDS.contains(id));
            }
            // Every listed item expands to a known id.
            let items = p.rules.split(',').count();
            assert!(p.rule_ids().len() >= items, "{}", p.id);
        }
    }

    #[test]
    fn pack_clauses_follow_the_coverage_matrix() {
        let provider = pack("eu-ai-act-provider").unwrap();
        assert_eq!(
            provider.clauses_of("LOG-01").collect::<Vec<_>>(),
            ["AI Act Art. 12(1) [V]", "AI Act Art. 12(2) [V]"]
        );
        // Supporting rules are covered without a clause; deployer duties are not the provider's.
        assert!(provider.covers("LOG-02") && provider.clauses_of("LOG-02").next().is_none());
        assert!(!provider.covers("DEC-06") && !provider.covers("PRV-01"));
        let nist = pack("nist-ai-rmf").unwrap();
        assert_eq!(
            nist.clauses_of("PRV-03").collect::<Vec<_>>(),
            ["NIST AI RMF MEASURE 2.10 [V]"]
        );
        // pci-dss covers LOG-02 through 10.3.2–10.3.4, so its LOG-02 (e) level change applies.
        assert!(pack("pci-dss").unwrap().covers("LOG-02"));
        for p in packs() {
            // Every listed rule is cited by a clause or runs as supporting evidence, except
            // these, which RULES.md §4.2 lists in the pack without a clause of its instrument
            // (the coverage matrix shows them with the supporting rules).
            let unmapped: Vec<&str> = p
                .listed
                .iter()
                .copied()
                .filter(|r| {
                    !p.supporting.contains(r) && !p.clauses.iter().any(|c| c.rules.contains(r))
                })
                .collect();
            let expected: &[&str] = match p.def.id {
                "baseline" => &p.listed,
                "eu-ai-act-provider" => &["DEP-05"],
                "eu-ai-act-deployer" => &[],
                _ => &[],
            };
            assert_eq!(unmapped, expected, "{}", p.def.id);
            for c in &p.clauses {
                assert!(
                    c.clause.ends_with(']'),
                    "{}: {} has no tag",
                    p.def.id,
                    c.clause
                );
                assert!(!c.rules.is_empty());
            }
        }
    }
}
