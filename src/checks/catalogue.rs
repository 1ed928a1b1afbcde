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
    ),
    def(
        "eu-ai-act-deployer",
        "EU AI Act, deployer of a high-risk system",
        "DEC-01, DEC-02, DEC-04–06, DEP-01, DEP-06, INC-05, RET-01, RET-08, RET-09, PRV-04",
        &[],
        None,
        Some("2026-08-02"),
    ),
    def(
        "gdpr",
        "GDPR",
        "DEC-02, DEC-03, INC-06, ACC-04, RET-07–09, PRV-01–05",
        &[],
        None,
        Some("2018-05-25"),
    ),
    def(
        "sr11-7",
        "SR 11-7 (legacy baseline)",
        SR11_7_RULES,
        SR_LEVELS,
        None,
        Some("2011-04-04"),
    ),
    def(
        "pra-ss1-23",
        "PRA SS1/23",
        SR11_7_RULES,
        SR_LEVELS,
        None,
        Some("2024-05-17"),
    ),
    def(
        "nist-ai-rmf",
        "NIST AI RMF 1.0 (informative)",
        "MOD-01, MOD-02, MOD-04, MOD-05, DATA-01, DATA-02, DEC-02–04, DEP-02–06, INC-01–03, ACC-02, PRV-01–05",
        &[],
        Some(Level::Warn),
        None,
    ),
    def(
        "iso-42001",
        "ISO/IEC 42001:2023 Annex A (informative)",
        "MOD-01–04, DATA-01, DATA-02, DEC-01, DEP-01–03, INC-01, RET-07, PRV-04",
        &[],
        Some(Level::Warn),
        None,
    ),
    def(
        "pci-dss",
        "PCI DSS v4.0.1, Requirement 10",
        "ACC-01, ACC-03, RET-03, PRV-01",
        UNCHAINED_WARN,
        None,
        None,
    ),
    def(
        "hipaa",
        "HIPAA Security Rule",
        "ACC-01, RET-04",
        &[],
        None,
        None,
    ),
    def(
        "sec-17a4",
        "SEC Rule 17a-4 (broker-dealers)",
        "RET-05",
        UNCHAINED_WARN,
        None,
        Some("2023-05-03"),
    ),
    def(
        "sox",
        "SOX / PCAOB audit evidence",
        "RET-06, ACC-02, ACC-03, MOD-06",
        &[],
        None,
        None,
    ),
    def(
        "nyc-ll144",
        "NYC Local Law 144 (AEDT)",
        "DEP-07, DEC-06, PRV-05",
        &[],
        None,
        Some("2023-07-05"),
    ),
];

pub fn pack(id: &str) -> Option<&'static PackDef> {
    PACKS.iter().find(|p| p.id == id)
}

impl PackDef {
    /// The rule ids the pack lists, ranges expanded, in catalogue order.
    pub fn rule_ids(&self) -> Vec<&'static str> {
        let mut listed = Vec::new();
        for item in self.rules.split(',').map(str::trim) {
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
        RULE_IDS
            .iter()
            .copied()
            .filter(|id| listed.iter().any(|l| l == id))
            .collect()
    }

    pub fn lists(&self, rule: &str) -> bool {
        self.rule_ids().contains(&rule)
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
                assert!(RULE_IDS.contains(&id));
            }
            // Every listed item expands to a known id.
            let items = p.rules.split(',').count();
            assert!(p.rule_ids().len() >= items, "{}", p.id);
        }
    }
}
