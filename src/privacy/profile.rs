//! Redaction profiles: what an audience's view drops, masks, pseudonymises or generalises.
//!
//! A profile is a list of path rules (`RULES.md` §2.5 patterns under `actor`, `attrs`,
//! `rationale`, `reason`, `ts`, `recorded_ts`), entity rules (the ids of an entity type, replaced
//! everywhere they occur) and what to do with values PRV-01's detectors find in any string.
//! Where several path rules match a field, the strongest action wins (drop > mask > pseudonymize >
//! generalize), so the order of rules never matters and `extends` can only add redaction.
//!
//! Built-in profiles (a `[privacy.profile.NAME]` of the same name replaces one):
//! - `internal`: nothing.
//! - `regulator`: the identifiers of people — [`PEOPLE`] and decision ids — pseudonymised, and
//!   detector matches in any string pseudonymised.
//! - `public`: the same fields and decision ids masked, detector matches masked.

use std::collections::BTreeMap;

use anyhow::bail;

use crate::checks::privacy::{PathPattern, Seg};
use crate::config::Config;
use crate::config::privacy::RuleConfig;
use crate::event::EntityType;

/// What a rule does to a value; ordered by strength.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Times to their UTC day, numbers to a range, anything else masked.
    Generalize,
    /// The keyed token of the value (`key.rs`).
    Pseudonymize,
    /// A fixed placeholder.
    Mask,
    /// The field is removed.
    Drop,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "drop" => Action::Drop,
            "mask" => Action::Mask,
            "pseudonymize" => Action::Pseudonymize,
            "generalize" => Action::Generalize,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Drop => "drop",
            Action::Mask => "mask",
            Action::Pseudonymize => "pseudonymize",
            Action::Generalize => "generalize",
        }
    }
}

/// What happens to detector matches (e-mail addresses, card numbers, …) inside any string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    Keep,
    Pseudonymize,
    Mask,
}

/// One path rule.
#[derive(Clone, Debug)]
pub struct PathRule {
    /// As written in the config.
    pub path: String,
    pub pattern: PathPattern,
    pub action: Action,
}

/// A resolved profile.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    pub paths: Vec<PathRule>,
    /// Entity types whose ids are replaced everywhere: `Pseudonymize` or `Mask`.
    pub entities: BTreeMap<EntityType, Action>,
    pub detected: Detected,
}

/// The fields of the schema that name people (`EVENT-SCHEMA.md`): who acted, reviewed,
/// validated, approved or signed, the developers of a version, the pseudonymous reference to a
/// decision's data subject, and who overrode a policy.
pub const PEOPLE: &[&str] = &[
    "actor.id",
    "attrs.subject_ref",
    "attrs.reviewer",
    "attrs.validator",
    "attrs.approved_by",
    "attrs.signed_by",
    "attrs.developers[]",
    "rationale.policy_overrides[].by",
];

/// The rules of a built-in profile: (path rules, entity rules, detected).
fn built_in(name: &str) -> Option<(Vec<RuleConfig>, Detected)> {
    let rules = |action: &str| -> Vec<RuleConfig> {
        PEOPLE
            .iter()
            .map(|p| RuleConfig {
                path: Some(p.to_string()),
                entity: None,
                action: action.to_string(),
            })
            .chain([RuleConfig {
                path: None,
                entity: Some("decision".into()),
                action: action.to_string(),
            }])
            .collect()
    };
    Some(match name {
        "internal" => (Vec::new(), Detected::Keep),
        "regulator" => (rules("pseudonymize"), Detected::Pseudonymize),
        "public" => (rules("mask"), Detected::Mask),
        _ => return None,
    })
}

impl Profile {
    /// The profile named `name`: from `[privacy.profile.NAME]` (with what it extends), else a
    /// built-in one. The config was validated, so names resolve and rules parse; this still
    /// checks rather than panics.
    pub fn resolve(config: &Config, name: &str) -> anyhow::Result<Profile> {
        let mut chain: Vec<&str> = Vec::new();
        let mut cur = name;
        let mut rules: Vec<RuleConfig> = Vec::new();
        let mut detected: Option<Detected> = None;
        loop {
            if chain.contains(&cur) || chain.len() > 64 {
                bail!("profile `{name}` extends itself");
            }
            chain.push(cur);
            if let Some(p) = config.privacy.profile.get(cur) {
                rules.extend(p.rules.iter().cloned());
                if detected.is_none() {
                    detected = p.detected.as_deref().map(|d| match d {
                        "pseudonymize" => Detected::Pseudonymize,
                        "mask" => Detected::Mask,
                        _ => Detected::Keep,
                    });
                }
                match &p.extends {
                    Some(base) => cur = base,
                    None => break,
                }
            } else if let Some((base, d)) = built_in(cur) {
                rules.extend(base);
                detected.get_or_insert(d);
                break;
            } else {
                bail!("unknown profile `{cur}`");
            }
        }
        let mut profile = Profile {
            name: name.to_string(),
            paths: Vec::new(),
            entities: BTreeMap::new(),
            detected: detected.unwrap_or(Detected::Keep),
        };
        for r in rules {
            let Some(action) = Action::parse(&r.action) else {
                bail!("profile `{name}`: unknown action `{}`", r.action);
            };
            if let Some(path) = &r.path {
                let pattern: PathPattern = path
                    .parse()
                    .map_err(|e| anyhow::anyhow!("profile `{name}`: {e}"))?;
                profile.paths.push(PathRule {
                    path: path.clone(),
                    pattern,
                    action,
                });
            } else if let Some(ty) = r.entity.as_deref().and_then(EntityType::parse) {
                let a = profile.entities.entry(ty).or_insert(action);
                *a = (*a).max(action);
            }
        }
        Ok(profile)
    }

    /// The strongest action of the path rules that match `path` (a pattern matches a path or a
    /// prefix of it).
    pub fn action(&self, path: &[Seg<'_>]) -> Option<Action> {
        self.paths
            .iter()
            .filter(|r| r.pattern.matches(path))
            .map(|r| r.action)
            .max()
    }

    /// Whether anything is pseudonymised (then a key is needed).
    pub fn needs_key(&self) -> bool {
        self.detected == Detected::Pseudonymize
            || self.paths.iter().any(|r| r.action == Action::Pseudonymize)
            || self.entities.values().any(|a| *a == Action::Pseudonymize)
    }

    /// Whether the profile changes nothing.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.entities.is_empty() && self.detected == Detected::Keep
    }

    /// The patterns PRV-01 counts as redaction: drop, mask and pseudonymize rules (a generalised
    /// value is still shown).
    pub fn redacting_patterns(&self) -> Vec<PathPattern> {
        self.paths
            .iter()
            .filter(|r| r.action != Action::Generalize)
            .map(|r| r.pattern.clone())
            .collect()
    }

    /// One line per rule, for the methodology page.
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .entities
            .iter()
            .map(|(ty, a)| match a {
                Action::Pseudonymize => format!(
                    "ids of `{ty}` entities are pseudonymised everywhere (ids, references, findings, file names)"
                ),
                _ => format!(
                    "ids of `{ty}` entities are masked everywhere: each is shown as `masked-N`, numbered in this version only"
                ),
            })
            .collect();
        let mut paths: Vec<&PathRule> = self.paths.iter().collect();
        paths.sort_by(|a, b| a.path.cmp(&b.path).then(a.action.cmp(&b.action)));
        for r in paths {
            out.push(match r.action {
                Action::Drop => format!("`{}` is dropped", r.path),
                Action::Mask => format!("`{}` is masked as `{}`", r.path, super::MASK),
                Action::Pseudonymize => format!("`{}` is pseudonymised", r.path),
                Action::Generalize => format!(
                    "`{}` is generalised: times to their UTC day, numbers to a range of one significant digit (`[4000, 5000)`), other values masked",
                    r.path
                ),
            });
        }
        match self.detected {
            Detected::Keep => {}
            Detected::Pseudonymize => out.push(
                "values that PRV-01's detectors find in any text (e-mail addresses, phone numbers, card numbers, IBANs, national ids, keys, credentials in URIs) are pseudonymised".into(),
            ),
            Detected::Mask => out.push(
                "values that PRV-01's detectors find in any text (e-mail addresses, phone numbers, card numbers, IBANs, national ids, keys, credentials in URIs) are masked as `[DETECTOR]`".into(),
            ),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!(
            "[[source]]\nname = \"a\"\nformat = \"trailbook-jsonl\"\npaths = [\"a.jsonl\"]\n{extra}"
        );
        crate::config::parse(&text, Path::new("t.toml")).unwrap()
    }

    fn path(s: &str) -> PathPattern {
        s.parse().unwrap()
    }

    #[test]
    fn built_in_profiles_name_people_and_decisions() {
        let c = config("");
        let internal = Profile::resolve(&c, "internal").unwrap();
        assert!(internal.is_empty() && !internal.needs_key());
        let regulator = Profile::resolve(&c, "regulator").unwrap();
        assert!(regulator.needs_key());
        assert_eq!(
            regulator.action(&path("actor.id").as_concrete()),
            Some(Action::Pseudonymize)
        );
        assert_eq!(
            regulator.action(&path("attrs.developers[]").as_concrete()),
            Some(Action::Pseudonymize)
        );
        assert_eq!(
            regulator.action(&path("attrs.developers").as_concrete()),
            None
        );
        assert_eq!(
            regulator.entities.get(&EntityType::Decision),
            Some(&Action::Pseudonymize)
        );
        let public = Profile::resolve(&c, "public").unwrap();
        assert!(
            !public.needs_key(),
            "the public profile masks: no key needed"
        );
        assert_eq!(public.detected, Detected::Mask);
    }

    #[test]
    fn the_strongest_matching_rule_wins_and_extends_adds_rules() {
        let c = config(
            "[privacy.profile.p]\nextends = \"public\"\nrules = [\
             { path = \"attrs.*\", action = \"generalize\" },\
             { path = \"attrs.note\", action = \"drop\" },\
             { path = \"attrs.note.inner\", action = \"pseudonymize\" },\
             { entity = \"decision\", action = \"pseudonymize\" }]\n",
        );
        let p = Profile::resolve(&c, "p").unwrap();
        assert_eq!(
            p.action(&path("attrs.score").as_concrete()),
            Some(Action::Generalize)
        );
        assert_eq!(
            p.action(&path("attrs.note").as_concrete()),
            Some(Action::Drop)
        );
        assert_eq!(
            p.action(&path("attrs.note.inner").as_concrete()),
            Some(Action::Drop),
            "dropping an object drops what it holds"
        );
        assert_eq!(
            p.action(&path("actor.id").as_concrete()),
            Some(Action::Mask)
        );
        assert_eq!(p.action(&path("reason").as_concrete()), None);
        assert_eq!(
            p.entities.get(&EntityType::Decision),
            Some(&Action::Mask),
            "mask is stronger than the profile's own pseudonymize"
        );
        assert_eq!(p.detected, Detected::Mask, "inherited");
        assert!(p.needs_key());
        let patterns = p.redacting_patterns();
        assert!(
            !patterns.contains(&path("attrs.*")),
            "generalize does not count"
        );
        assert!(patterns.contains(&path("attrs.note")));
    }
}
