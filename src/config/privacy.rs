//! `[privacy]` and `[[audience]]`: redaction profiles, the pseudonym key and the audiences a build
//! writes (`SITE.md`, "Audiences"; `RULES.md` §2.5 for field paths).
//!
//! Kept apart from the rest of the config: the schema fields ([`PRIVACY`], [`AUDIENCE`]), the
//! typed tables and the cross-field checks ([`check`]), which run over the spanned tree so every
//! problem is reported with its line and column. The profiles themselves (built-ins, precedence,
//! what each action does) live in `crate::privacy`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::schema::{self, Field, Problem, Ty, opt, req};

/// `[privacy]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Privacy {
    /// The environment variable that holds the pseudonym key.
    pub key_env: Option<String>,
    /// A file holding the pseudonym key (relative to the config file).
    pub key_file: Option<String>,
    /// The key's id, written into every pseudonym (`hmac:KEY_ID:…`).
    pub key_id: Option<String>,
    /// Named profiles; a name of a built-in profile replaces it.
    pub profile: BTreeMap<String, ProfileConfig>,
}

impl Privacy {
    /// Whether a key source is configured.
    pub fn has_key(&self) -> bool {
        self.key_env.is_some() || self.key_file.is_some()
    }
}

/// `[privacy.profile.NAME]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileConfig {
    /// A profile whose rules this one starts from.
    pub extends: Option<String>,
    pub rules: Vec<RuleConfig>,
    /// What happens to values PRV-01's detectors find in any string: `pseudonymize`, `mask` or
    /// `keep` (default: the extended profile's, else `keep`).
    pub detected: Option<String>,
}

/// One rule of a profile: a field path or an entity type, and an action.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub entity: Option<String>,
    pub action: String,
}

/// `[[audience]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceConfig {
    pub name: String,
    /// The site root, relative to the config file (default `site/NAME`).
    #[serde(default)]
    pub out: Option<String>,
    /// The profile (default: the one named like the audience).
    #[serde(default)]
    pub profile: Option<String>,
    /// Event-level drill-down (default: off for `public`, on otherwise).
    #[serde(default)]
    pub drill_down: Option<bool>,
    /// Counts below `k` are shown as "< k" (default 10 without drill-down, none with it).
    #[serde(default)]
    pub k: Option<u64>,
}

/// The actions of a path rule.
pub const ACTIONS: &[&str] = &["drop", "mask", "pseudonymize", "generalize"];
/// The actions of an entity rule.
pub const ENTITY_ACTIONS: &[&str] = &["pseudonymize", "mask"];
/// The entity types whose ids an entity rule may replace: opaque names that may identify a
/// person (a decision named after its applicant, a resource or document about one, an incident
/// named after a complainant). Model versions, datasets, deployments, systems, runs and the
/// rest have ids that pages rebuild from other fields.
pub const ENTITY_TYPES: &[&str] = &["decision", "resource", "document", "incident"];
/// What a profile does with detector matches.
pub const DETECTED: &[&str] = &["pseudonymize", "mask", "keep"];
/// The built-in profiles (`crate::privacy::profile`).
pub const BUILT_IN_PROFILES: &[&str] = &["internal", "regulator", "public"];

fn check_name(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        Ok(())
    } else {
        Err(format!(
            "`{s}` may hold only letters, digits, `.`, `_` and `-`"
        ))
    }
}

fn check_env(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && !s.as_bytes()[0].is_ascii_digit()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an environment variable name (letters, digits and `_`)"
        ))
    }
}

fn check_any(_: &str) -> Result<(), String> {
    Ok(())
}

const RULE: &[Field] = &[
    opt("path", Ty::Str),
    opt("entity", Ty::Str),
    req("action", Ty::Enum(ACTIONS)),
];

const PROFILE: &[Field] = &[
    opt("extends", Ty::Checked(check_name)),
    opt("rules", Ty::Tables(RULE)),
    opt("detected", Ty::Enum(DETECTED)),
];

/// The fields of `[privacy]`.
pub const PRIVACY: &[Field] = &[
    opt("key_env", Ty::Checked(check_env)),
    opt("key_file", Ty::Str),
    opt("key_id", Ty::Checked(check_name)),
    opt("profile", Ty::MapOf(check_any, &Ty::Table(PROFILE))),
];

/// The fields of one `[[audience]]`.
pub const AUDIENCE: &[Field] = &[
    req("name", Ty::Checked(check_name)),
    opt("out", Ty::Str),
    opt("profile", Ty::Checked(check_name)),
    opt("drill_down", Ty::Bool),
    opt("k", Ty::Int { min: 1 }),
];

fn problem(out: &mut Vec<Problem>, span: std::ops::Range<usize>, message: String) {
    out.push(Problem { message, span });
}

fn str_of<'a>(t: &'a DeTable<'_>, key: &str) -> Option<(&'a str, std::ops::Range<usize>)> {
    let v = t.get(key)?;
    match v.get_ref() {
        DeValue::String(s) => Some((s.as_ref(), v.span())),
        _ => None,
    }
}

/// Cross-field checks of `[privacy]` and `[[audience]]` (the shapes are checked by the schema):
/// one key source at most, with a key id; rule paths parse and name fields that can be redacted;
/// entity rules name entity types; `extends` and `profile` name profiles, without cycles;
/// audience names are unique.
pub fn check(doc: &DeTable<'_>, out: &mut Vec<Problem>) {
    let privacy = match doc.get("privacy").map(Spanned::get_ref) {
        Some(DeValue::Table(t)) => Some(t),
        _ => None,
    };
    let mut profiles: Vec<String> = BUILT_IN_PROFILES.iter().map(|s| s.to_string()).collect();
    let mut extends: BTreeMap<String, (String, std::ops::Range<usize>)> = BTreeMap::new();
    if let Some(p) = privacy {
        let env = str_of(p, "key_env");
        let file = str_of(p, "key_file");
        let id = str_of(p, "key_id");
        if let (Some(_), Some((_, span))) = (&env, &file) {
            problem(
                out,
                span.clone(),
                "give the pseudonym key by `key_env` or by `key_file`, not both".into(),
            );
        }
        match (env.as_ref().or(file.as_ref()), &id) {
            (Some((_, span)), None) => problem(
                out,
                span.clone(),
                "a pseudonym key needs a `key_id` (written into every pseudonym, e.g. `k2026`)"
                    .into(),
            ),
            (None, Some((_, span))) => problem(
                out,
                span.clone(),
                "`key_id` without a key: set `key_env` or `key_file`".into(),
            ),
            _ => {}
        }
        if let Some(DeValue::Table(named)) = p.get("profile").map(Spanned::get_ref) {
            for (name, table) in named.iter() {
                let name_s = name.get_ref().to_string();
                if let Err(e) = check_name(&name_s) {
                    problem(out, name.span(), format!("profile name {e}"));
                }
                profiles.push(name_s.clone());
                let DeValue::Table(t) = table.get_ref() else {
                    continue;
                };
                if let Some((base, span)) = str_of(t, "extends") {
                    extends.insert(name_s.clone(), (base.to_string(), span));
                }
                if let Some(DeValue::Array(rules)) = t.get("rules").map(Spanned::get_ref) {
                    for rule in rules.iter() {
                        if let DeValue::Table(r) = rule.get_ref() {
                            check_rule(r, rule.span(), &name_s, out);
                        }
                    }
                }
            }
        }
    }
    for (name, (base, span)) in &extends {
        if !profiles.contains(base) {
            problem(out, span.clone(), unknown_profile(base, &profiles));
            continue;
        }
        // Follow `extends` from here: coming back to `name` is a cycle.
        let mut cur = base.clone();
        for _ in 0..=extends.len() {
            if &cur == name {
                problem(
                    out,
                    span.clone(),
                    format!("profile `{name}` extends itself (through `{base}`)"),
                );
                break;
            }
            match extends.get(&cur) {
                Some((next, _)) => cur = next.clone(),
                None => break,
            }
        }
    }
    let Some(DeValue::Array(audiences)) = doc.get("audience").map(Spanned::get_ref) else {
        return;
    };
    let mut seen: Vec<String> = Vec::new();
    for item in audiences.iter() {
        let DeValue::Table(t) = item.get_ref() else {
            continue;
        };
        let name = str_of(t, "name");
        if let Some((n, span)) = &name {
            if seen.iter().any(|s| s == n) {
                problem(
                    out,
                    span.clone(),
                    format!("audience name `{n}` is used twice; names must be unique"),
                );
            }
            seen.push(n.to_string());
        }
        match (str_of(t, "profile"), &name) {
            (Some((p, span)), _) if !profiles.iter().any(|x| x == p) => {
                problem(out, span, unknown_profile(p, &profiles));
            }
            (None, Some((n, span))) if !profiles.iter().any(|x| x == n) => problem(
                out,
                span.clone(),
                format!(
                    "audience `{n}` has no `profile` and no profile is named `{n}`; set `profile` to one of: {}",
                    profiles.join(", ")
                ),
            ),
            _ => {}
        }
    }
}

fn unknown_profile(name: &str, known: &[String]) -> String {
    let names: Vec<&str> = known.iter().map(String::as_str).collect();
    let hint = schema::suggest(name, &names)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    format!(
        "unknown profile `{name}`; {hint}profiles: {}",
        names.join(", ")
    )
}

/// The envelope fields a path rule may address; the others are structure (`id`, `kind`,
/// `actor.type`) or entity ids (`subject`, `system`: use an entity rule).
const ROOTS: &[&str] = &["actor", "attrs", "rationale", "reason", "ts", "recorded_ts"];

fn check_rule(
    r: &DeTable<'_>,
    span: std::ops::Range<usize>,
    profile: &str,
    out: &mut Vec<Problem>,
) {
    let action = str_of(r, "action").map(|(a, _)| a);
    match (str_of(r, "path"), str_of(r, "entity")) {
        (Some(_), Some(_)) | (None, None) => {
            let s = str_of(r, "entity").map_or(span, |(_, s)| s);
            problem(
                out,
                s,
                format!(
                    "a rule of profile `{profile}` names either a `path` or an `entity`, not {}",
                    if r.contains_key("path") {
                        "both"
                    } else {
                        "neither"
                    }
                ),
            );
        }
        (Some((path, pspan)), None) => {
            if let Err(e) = check_path(path) {
                problem(out, pspan, e);
            } else if matches!(path, "ts" | "recorded_ts")
                && let Some(a) = action
                && a != "generalize"
            {
                let span = r.get("action").map_or(pspan, Spanned::span);
                problem(
                    out,
                    span,
                    format!("`{path}` can only be generalized (to its UTC day), not `{a}`"),
                );
            }
        }
        (None, Some((entity, espan))) => {
            if !ENTITY_TYPES.contains(&entity) {
                let why = if crate::event::EntityType::parse(entity).is_some() {
                    "its ids are built from other fields (and name no person)"
                } else {
                    "it is not an entity type"
                };
                problem(
                    out,
                    espan,
                    format!(
                        "ids of `{entity}` cannot be replaced: {why}; entity rules take one of: {}",
                        ENTITY_TYPES.join(", ")
                    ),
                );
            } else if let Some(a) = action
                && !ENTITY_ACTIONS.contains(&a)
            {
                let span = r.get("action").map_or(espan, Spanned::span);
                problem(
                    out,
                    span,
                    format!(
                        "entity ids can be pseudonymized or masked, not `{a}` (ids hold the model together)"
                    ),
                );
            }
        }
    }
}

/// A rule path: a field path of `RULES.md` §2.5 under a field that can be redacted, and not a
/// reference to an entity (whose ids only an entity rule changes, everywhere at once).
pub fn check_path(path: &str) -> Result<(), String> {
    let pattern: crate::checks::privacy::PathPattern = path.parse()?;
    let segs = pattern.as_concrete();
    let root = match segs.first() {
        Some(crate::checks::privacy::Seg::Key(k)) => *k,
        _ => "",
    };
    if !ROOTS.contains(&root) {
        let hint = match root {
            "subject" | "system" => {
                " (entity ids: use `entity = \"TYPE\"`, which replaces them everywhere)"
            }
            _ => "",
        };
        return Err(format!(
            "`{path}` cannot be redacted{hint}; paths start with one of: {}",
            ROOTS.join(", ")
        ));
    }
    if path == "actor.type" {
        return Err("`actor.type` cannot be redacted (human, service or system)".into());
    }
    if crate::checks::privacy::is_reference_path(path) {
        return Err(format!(
            "`{path}` is a reference to an entity; its ids change only with an entity rule (`entity = \"TYPE\"`), which replaces them everywhere"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn problems(text: &str) -> Vec<String> {
        match super::super::parse(text, Path::new("t.toml")) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems.into_iter().map(|p| p.message).collect(),
        }
    }

    const OK: &str =
        "[[source]]\nname = \"a\"\nformat = \"trailbook-jsonl\"\npaths = [\"a.jsonl\"]\n";

    #[test]
    fn a_full_privacy_config_is_valid() {
        let text = format!(
            "{OK}[privacy]\nkey_env = \"TRAILBOOK_PSEUDONYM_KEY\"\nkey_id = \"k2026\"\n\
[privacy.profile.auditors]\nextends = \"regulator\"\ndetected = \"mask\"\n\
rules = [{{ path = \"attrs.raw_extra.\\\"mlflow.user\\\"\", action = \"drop\" }},\n\
 {{ path = \"attrs.*_name\", action = \"mask\" }},\n\
 {{ path = \"ts\", action = \"generalize\" }},\n\
 {{ entity = \"incident\", action = \"pseudonymize\" }}]\n\
[[audience]]\nname = \"internal\"\n[[audience]]\nname = \"auditors\"\nout = \"/srv/a\"\ndrill_down = false\nk = 5\n"
        );
        let c = super::super::parse(&text, Path::new("t.toml")).unwrap();
        assert_eq!(c.privacy.key_id.as_deref(), Some("k2026"));
        assert_eq!(c.privacy.profile["auditors"].rules.len(), 4);
        assert_eq!(c.audiences[1].k, Some(5));
        assert_eq!(c.audiences[1].profile, None);
    }

    #[test]
    fn every_privacy_problem_is_reported_with_its_place() {
        let text = format!(
            "{OK}[privacy]\nkey_env = \"X\"\nkey_file = \"k\"\nkey_idd = \"k1\"\n\
[privacy.profile.p]\nextends = \"regulater\"\n\
rules = [{{ path = \"subject.id\", action = \"mask\" }},\n\
 {{ path = \"attrs.model_version\", action = \"drop\" }},\n\
 {{ entity = \"person\", action = \"mask\" }},\n\
 {{ entity = \"model_version\", action = \"mask\" }},\n\
 {{ path = \"ts\", action = \"mask\" }},\n\
 {{ entity = \"decision\", action = \"drop\" }},\n\
 {{ path = \"attrs.x\", entity = \"decision\", action = \"mask\" }},\n\
 {{ path = \"attrs..x\", action = \"mask\" }},\n\
 {{ path = \"attrs.x\", action = \"hide\" }}]\n\
[[audience]]\nname = \"a\"\nprofile = \"p\"\n[[audience]]\nname = \"a\"\nprofile = \"p\"\n\
[[audience]]\nname = \"auditors\"\n"
        );
        let p = problems(&text);
        let joined = p.join("\n");
        for needle in [
            "unknown key `key_idd` in `privacy`; did you mean `key_id`?",
            "`privacy.profile.p.rules[8].action` must be one of `drop`, `mask`, `pseudonymize`, `generalize`, found `hide`",
        ] {
            assert!(joined.contains(needle), "missing {needle:?} in:\n{joined}");
        }
        // The schema problems come first; the cross-field ones once the shapes are right.
        let fixed = text
            .replace("key_idd", "key_id")
            .replace("action = \"hide\"", "action = \"mask\"");
        let p = problems(&fixed);
        let joined = p.join("\n");
        for needle in [
            "by `key_env` or by `key_file`, not both",
            "unknown profile `regulater`; did you mean `regulator`?",
            "`subject.id` cannot be redacted (entity ids: use `entity = \"TYPE\"`",
            "`attrs.model_version` is a reference to an entity",
            "ids of `person` cannot be replaced: it is not an entity type",
            "entity ids can be pseudonymized or masked, not `drop`",
            "names either a `path` or an `entity`, not both",
            "`attrs..x` is not a field path: empty key",
            "audience name `a` is used twice",
            "audience `auditors` has no `profile` and no profile is named `auditors`",
            "ids of `model_version` cannot be replaced: its ids are built from other fields",
            "`ts` can only be generalized (to its UTC day), not `mask`",
        ] {
            assert!(joined.contains(needle), "missing {needle:?} in:\n{joined}");
        }
        assert_eq!(p.len(), 12, "{joined}");
    }

    #[test]
    fn a_key_needs_an_id_and_an_id_needs_a_key_and_extends_has_no_cycles() {
        let p = problems(&format!("{OK}[privacy]\nkey_file = \"k\"\n")).join("\n");
        assert!(p.contains("needs a `key_id`"), "{p}");
        let p = problems(&format!("{OK}[privacy]\nkey_id = \"k\"\n")).join("\n");
        assert!(p.contains("`key_id` without a key"), "{p}");
        let p = problems(&format!(
            "{OK}[privacy.profile.a]\nextends = \"b\"\n[privacy.profile.b]\nextends = \"a\"\n"
        ))
        .join("\n");
        assert!(p.contains("profile `a` extends itself"), "{p}");
        let p = problems(&format!(
            "{OK}[privacy]\nkey_env = \"1X\"\nkey_id = \"k\"\n"
        ))
        .join("\n");
        assert!(p.contains("not an environment variable name"), "{p}");
    }
}
