//! PRV — privacy and redaction: PRV-01 … PRV-05.
//!
//! Input: the effective events of the as-of view (PRV-01 scans every one of them, in parallel
//! chunks), the derived facts (systems, documents) and, for PRV-05, an audience's rendered output
//! (which `check` does not produce). Output per rule: findings keyed as `RULES.md` §3.10 says;
//! the engine sorts them.
//!
//! - PRV-01 ([`Prv01`]): detector matches in event values, one finding per (source, concrete
//!   path, detector). Its level depends on which audiences redact the path ([`prv01_level`] over
//!   [`AudienceProfile`]s). The matched value never appears in a message or note.
//! - PRV-02, PRV-03, PRV-04: `records.rs`.
//! - PRV-05: not evaluable under `check`; `leaks.rs` holds the scan a build runs over an
//!   audience's files.

mod detect;
// The site stage calls these for PRV-05 under `build`; until it exists only tests do.
#[allow(dead_code)]
mod leaks;
mod records;

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::catalogue::{ParamKind, param};
use super::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use crate::config::Config;
use crate::time;
pub use detect::{
    DEFAULT_NATIONAL_ID, Detectors, PathPattern, Seg, fmt_path, is_node_id, is_reference_path,
    is_sha256, reference_field,
};
#[allow(unused_imports)]
pub use leaks::{Form, Hidden, Leak, leak_drafts, scan_output};

pub static RULES: &[&dyn Rule] = &[
    &Prv01,
    &records::Prv02,
    &records::Prv03,
    &records::Prv04,
    &Prv05,
];

// --- audiences -------------------------------------------------------------------------------

/// What an audience hides, as PRV-01 reads it: an audience redacts a path when it has no event
/// drill-down (then every path), or when one of its `redacts` patterns (`[privacy] drop` and
/// `pseudonymize`, which apply to every audience but `internal`) matches it. Nothing else counts
/// as redaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudienceProfile {
    pub name: String,
    pub drill_down: bool,
    pub redacts: Vec<PathPattern>,
}

impl AudienceProfile {
    pub fn redacts(&self, path: &[Seg<'_>]) -> bool {
        !self.drill_down || self.redacts.iter().any(|p| p.matches(path))
    }
}

/// The default audiences of `SITE.md`: `internal` (everything), `regulator` (drill-down kept),
/// `public` (aggregates only, no drill-down).
pub fn default_audiences() -> Vec<AudienceProfile> {
    let a = |name: &str, drill_down| AudienceProfile {
        name: name.to_string(),
        drill_down,
        redacts: Vec::new(),
    };
    vec![
        a("internal", true),
        a("regulator", true),
        a("public", false),
    ]
}

/// The audiences of a run: the `[[audience]]` entries, or the defaults without any, each with
/// the paths its profile drops, masks or pseudonymises (`crate::privacy::profile`; a generalised
/// field is still shown, and detector matches scrubbed from text are a safety net, not a
/// declared redaction). A default audience counts even when a build leaves it out for want of a
/// key.
pub fn audiences(config: &Config) -> Vec<AudienceProfile> {
    let entries: Vec<(String, String, Option<bool>)> = if config.audiences.is_empty() {
        crate::privacy::DEFAULT_AUDIENCES
            .iter()
            .map(|n| (n.to_string(), n.to_string(), None))
            .collect()
    } else {
        config
            .audiences
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    a.profile.clone().unwrap_or_else(|| a.name.clone()),
                    a.drill_down,
                )
            })
            .collect()
    };
    entries
        .into_iter()
        .map(|(name, profile, drill_down)| AudienceProfile {
            drill_down: drill_down.unwrap_or(name != "public"),
            redacts: crate::privacy::Profile::resolve(config, &profile)
                .map(|p| p.redacting_patterns())
                .unwrap_or_default(),
            name,
        })
        .collect()
}

/// PRV-01's level for a path: `warn` when every audience other than `internal` redacts it,
/// else `deny`; with the audiences that show it.
pub fn prv01_level<'a>(
    path: &[Seg<'_>],
    audiences: &'a [AudienceProfile],
) -> (Level, Vec<&'a str>) {
    let showing: Vec<&str> = audiences
        .iter()
        .filter(|a| a.name != "internal" && !a.redacts(path))
        .map(|a| a.name.as_str())
        .collect();
    let level = if showing.is_empty() {
        Level::Warn
    } else {
        Level::Deny
    };
    (level, showing)
}

// --- PRV-01 ----------------------------------------------------------------------------------

/// PRV-01 Identifiers in event values.
pub struct Prv01;

static PRV01: RuleMeta = RuleMeta {
    id: "PRV-01",
    title: "Identifiers in event values",
    levels: "`deny`; `warn` where every non-internal audience redacts the field",
    basis: "T/D",
    sources: &[
        "GDPR Art. 5(1)(c), 9, 25(1), 32(1)(a) [V]",
        "PCI DSS Req. 3 (no PAN in logs) [U]",
        "NIST AI RMF MEASURE 2.10 [V]",
    ],
    needs: "Any event.",
    checks: "Scans every string in `actor`, `attrs` (unknown keys included, such as the \
adapters' `raw_extra`), `rationale` and the envelope `reason` of every effective event. Not \
scanned: entity ids and references (`subject.id`, envelope `system`, `attrs.model`, \
`attrs.version`, the reference fields of `EVENT-SCHEMA.md`, and any value that is a `TYPE:ID` of \
an entity type), values matching `^sha256:[0-9a-f]{64}$`, and fields matching `skip_fields` \
(field paths: `[]` for array elements, `*` within one key, quoted keys; a pattern also drops what \
the field holds). Detectors: `email`; `phone` (E.164: `+` and 8–15 digits, no separators); `pan` \
(13–19 digits starting 2–6, spaces or dashes between groups of three or more digits, Luhn-valid); \
`iban` (country length and mod-97); `national_id` (`national_id_patterns`); `cloud_key` (AWS, \
Google, GitHub, Slack, Stripe and Azure key formats, private key blocks); `uri_credentials` \
(`scheme://user:password@`); plus the user's `detectors`. One finding per (source, concrete \
field path, detector): subject `source:NAME`, discriminator `path|detector` (e.g. \
`attrs.note|email`), evidence every event with a match, each with the values matched there \
(shown in the `internal` audience only; other audiences see the detector and the path), count \
the number of those events. Level: `warn` when every audience other than `internal` redacts the \
path (no event drill-down, or a `drop`, `mask` or `pseudonymize` rule of its profile matches \
the path), else `deny`; with the default audiences that is `warn` for the fields the built-in \
`regulator` profile pseudonymises (`actor.id`, `attrs.subject_ref`, `attrs.reviewer`, \
`attrs.validator`, `attrs.approved_by`, `attrs.signed_by`, `attrs.developers[]`, \
`rationale.policy_overrides[].by`) and `deny` elsewhere.",
    why: "An audit log is kept for years and shown to auditors and regulators. Personal data, \
card numbers and credentials written into it are copied everywhere the log goes, outlive every \
erasure request, and break data minimisation, privacy by design and PCI DSS's ban on card \
numbers in logs.",
    example: "Fires: `actor.id: \"dana@example.com\"` (`actor.id|email`; `warn` with the default \
audiences, whose `regulator` pseudonymises `actor.id`), or `attrs.note: \"call \
dana@example.com\"` (`deny`). Passes: the adapter maps users to pseudonymous ids (pseudonymising \
a field in every non-internal audience only lowers the finding to `warn`).",
    fix: "Stop writing the identifier: map people to pseudonymous ids at the adapter, keep card \
numbers and credentials out of logs, and reference inputs by digest (`input_ref`). Where a field \
must keep the value, drop or pseudonymise it in the profile of every non-internal audience \
(`[privacy.profile.NAME] rules`). If the detector \
matched something that is not personal data, add the field to `skip_fields` or narrow the \
pattern. Matched values are shown only in the `internal` audience.",
    not_checked: "Personal names and raw biometric templates (no reliable detector); numbers, \
booleans and keys (only string values are scanned).",
    params: &[
        param("detectors", ParamKind::Detectors, "[]"),
        param(
            "national_id_patterns",
            ParamKind::Regexes,
            r#"["\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b"]"#,
        ),
        param(
            "skip_fields",
            ParamKind::Strs,
            r#"["attrs.digest", "attrs.*_digest", "attrs.*.*_digest", "attrs.code_commit", "attrs.code.commit", "attrs.input_ref"]"#,
        ),
    ],
};

/// The detectors PRV-01 (and PRV-05 (b)) run: built-ins, `national_id_patterns`, `detectors`.
fn configured_detectors(cx: &Cx<'_>) -> Result<Detectors, String> {
    let custom: Vec<(String, String)> = match cx.param("detectors") {
        toml::Value::Array(items) => items
            .iter()
            .filter_map(|t| {
                Some((
                    t.get("name")?.as_str()?.to_string(),
                    t.get("regex")?.as_str()?.to_string(),
                ))
            })
            .collect(),
        _ => Vec::new(),
    };
    Detectors::new(&cx.strs("national_id_patterns"), &custom)
}

/// A parameter of PRV-01 as configured, else its default (what [`Cx::param`] reads, without a
/// rule context).
fn prv01_param(config: &Config, name: &str) -> toml::Value {
    config
        .policy
        .params
        .get(PRV01.id)
        .and_then(|t| t.get(name))
        .cloned()
        .unwrap_or_else(|| {
            let spec = PRV01
                .params
                .iter()
                .find(|p| p.name == name)
                .expect("a declared PRV-01 parameter");
            super::default_value(spec)
        })
}

/// PRV-01's detectors as configured (built-ins, `national_id_patterns`, `detectors`): what a
/// redacted view scrubs from text. The config was validated, so the patterns compile.
pub fn detectors_for(config: &Config) -> Result<Detectors, String> {
    let strs = |v: toml::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let custom: Vec<(String, String)> = match prv01_param(config, "detectors") {
        toml::Value::Array(items) => items
            .iter()
            .filter_map(|t| {
                Some((
                    t.get("name")?.as_str()?.to_string(),
                    t.get("regex")?.as_str()?.to_string(),
                ))
            })
            .collect(),
        _ => Vec::new(),
    };
    Detectors::new(&strs(prv01_param(config, "national_id_patterns")), &custom)
}

/// PRV-01's `skip_fields` as configured: fields whose detector matches are not personal data.
pub fn skip_fields_for(config: &Config) -> Result<Vec<PathPattern>, String> {
    match prv01_param(config, "skip_fields") {
        toml::Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str())
            .map(str::parse)
            .collect(),
        _ => Ok(Vec::new()),
    }
}

/// Events per parallel chunk: large enough to amortise a walker, small enough to balance.
const CHUNK: usize = 8192;

/// The hits of one (source, path, detector): events in event order with the values matched in
/// each, and the number of matches.
#[derive(Default)]
struct Group {
    events: Vec<(u32, Vec<String>)>,
    matches: u64,
}

/// The longest matched value a note quotes in full.
const MAX_VALUE: usize = 120;

impl Rule for Prv01 {
    fn meta(&self) -> &'static RuleMeta {
        &PRV01
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        if model.current().next().is_none() {
            return Outcome::not_evaluable("no events in the as-of view");
        }
        let detectors = match configured_detectors(cx) {
            Ok(d) => d,
            Err(e) => return Outcome::not_evaluable(format!("cannot compile detectors: {e}")),
        };
        let skip: Vec<PathPattern> = match cx
            .strs("skip_fields")
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, String>>()
        {
            Ok(s) => s,
            Err(e) => return Outcome::not_evaluable(format!("`skip_fields`: {e}")),
        };

        // Chunks come back in order, so the merge below sees events in event order.
        let view = &model.events[..model.in_view];
        let parts: Vec<Vec<(u32, detect::Hit)>> = view
            .par_chunks(CHUNK)
            .enumerate()
            .map_init(
                || detect::Walker::new(&detectors, &skip),
                |walker, (c, chunk)| {
                    let events: Vec<(u32, &crate::event::Event)> = chunk
                        .iter()
                        .enumerate()
                        .map(|(j, e)| ((c * CHUNK + j) as u32, e))
                        .filter(|(i, _)| model.superseded_by[*i as usize].is_none())
                        .collect();
                    walker.chunk(&events)
                },
            )
            .collect();

        let mut groups: BTreeMap<(u32, String, String), Group> = BTreeMap::new();
        for (i, hit) in parts.into_iter().flatten() {
            let source = model.event(i).origin.source;
            let name = detectors.name(hit.detector).to_string();
            let g = groups.entry((source, hit.path, name)).or_default();
            match g.events.last_mut() {
                Some((last, values)) if *last == i => {
                    for v in hit.values {
                        if !values.contains(&v) {
                            values.push(v);
                        }
                    }
                }
                _ => g.events.push((i, hit.values)),
            }
            g.matches += u64::from(hit.matches);
        }

        let audiences = audiences(cx.config);
        let mut out = Vec::new();
        for ((source, path, detector), g) in groups {
            let source = &cx.ingest.sources[source as usize].name;
            let concrete: PathPattern = path.parse().expect("concrete paths parse");
            let (level, showing) = prv01_level(&concrete.as_concrete(), &audiences);
            let (first, last) = (
                model.event(g.events[0].0),
                model.event(g.events.last().expect("a group has an event").0),
            );
            let n = g.events.len();
            let span = if n == 1 {
                format!("at {}", time::fmt(first.ts))
            } else {
                format!("from {} to {}", time::fmt(first.ts), time::fmt(last.ts))
            };
            let shown = if showing.is_empty() {
                "every non-internal audience redacts the field".to_string()
            } else {
                format!(
                    "audience {} shows the field",
                    showing
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let message = format!(
                "detector `{detector}` matched {} value{} in `{path}` of {n} event{} from source \
`{source}` ({span}); {shown}. The values are listed with each event, in the internal audience \
only",
                g.matches,
                plural(g.matches as usize),
                plural(n),
            );
            let evidence = g
                .events
                .iter()
                .map(|(i, values)| {
                    let values: Vec<String> = values
                        .iter()
                        .map(|v| format!("`{}`", time::clip(v, MAX_VALUE)))
                        .collect();
                    let note = format!("{detector} in {path}: {}", values.join(", "));
                    cx.evi(*i, Some(note))
                })
                .collect::<Vec<_>>();
            let latest = g.events.iter().map(|(i, _)| model.event(*i).ts).max();
            let mut d = Draft::new(
                format!("source:{source}"),
                format!("{path}|{detector}"),
                "",
                level,
                message,
            )
            .evidence(evidence)
            .count(n as u64);
            if let Some(t) = latest {
                d = d.at(t);
            }
            out.push(d);
        }
        Outcome::evaluated(out)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

// --- PRV-05 ----------------------------------------------------------------------------------

/// PRV-05 Audience build leaks.
pub struct Prv05;

static PRV05: RuleMeta = RuleMeta {
    id: "PRV-05",
    title: "Audience build leaks",
    levels: "`deny`",
    basis: "D",
    sources: &[
        "GDPR Art. 5(1)(c), 25(2) [V]",
        "CJEU C-413/23 P [S]",
        "6 RCNY §5-301 [S]",
        "NIST AI RMF MEASURE 2.10 [V]",
    ],
    needs: "A `build` of a non-internal audience (with `check` alone: not evaluable).",
    checks: "Runs after rendering, over every output file of a non-internal audience (subject \
`build:AUDIENCE`, discriminator = check letter and file path, e.g. `a|v3/findings.html`): \
(a) a value of a field the audience's profile drops, masks or pseudonymises appears in a file, \
verbatim or HTML-entity, URL (percent or `+`) or JSON-escaped; (b) in an audience without \
drill-down, a PRV-01 detector match or a pseudonym token (`hmac:KEY:HEX`, the form PRV-02 \
expects). Evidence: each occurrence's line, with the field or detector and the form, never the \
value. A `deny` keeps that audience's version from being moved into place.",
    why: "Redaction that happens in one place and not another is no redaction: a dropped field \
can still reach a page through a chart title, a search index, an escaped attribute or a JSON \
file. Checking the rendered bytes is the only way to know that an audience sees what it may see \
and nothing more.",
    example: "Fires: a pseudonymised `subject_ref` appears URL-escaped in a link of the public \
`decisions.html`. Passes: the link built from the pseudonym, not the original value.",
    fix: "Apply the audience's redactions before rendering (to the events, not to pages), so \
every page, data file and index is built from redacted data. Suppress identifiers and small \
counts in aggregate-only audiences.",
    not_checked: "Check (c), counts and rates from fewer than `k` records in an audience without \
drill-down (and NYC LL144 tables leaving out categories under `ll144_min_share`), needs the \
site's page data and is not implemented yet. With `check` alone nothing is built, so the rule \
is not evaluable; findings come from `build`.",
    params: &[
        param("k", ParamKind::Int, "10"),
        param("ll144_min_share", ParamKind::Float, "0.02"),
    ],
};

impl Rule for Prv05 {
    fn meta(&self) -> &'static RuleMeta {
        &PRV05
    }

    fn run(&self, _cx: &Cx<'_>) -> Outcome {
        Outcome::not_evaluable("needs a `build` of a non-internal audience")
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::k;
    use serde_json::{Value, json};

    use super::*;
    use crate::checks::Status;
    use crate::testing::{chain, check, check_events, ev, with};

    const GDPR: &str = "[policy]\npacks = [\"gdpr\"]\n";

    fn access(id: &str, ts: &str, actor: &str, attrs: Value) -> Value {
        let e = ev(id, ts, "access", "resource:loans", attrs);
        with(e, "actor", json!({"id": actor, "type": "human"}))
    }

    #[test]
    fn prv01_fires_on_the_rules_md_example_and_passes_with_a_pseudonymous_id() {
        let events = [
            access(
                "a1",
                "2026-01-01T00:00:00Z",
                "u-7f3a",
                json!({"action": "read"}),
            ),
            access(
                "a2",
                "2026-01-02T00:00:00Z",
                "dana@example.com",
                json!({"action": "read"}),
            ),
            access(
                "a3",
                "2026-01-03T00:00:00Z",
                "dana@example.com",
                json!({"action": "read"}),
            ),
        ];
        let case = check_events(&events, GDPR);
        // The default `regulator` pseudonymises `actor.id` and `public` has no drill-down: every
        // audience but `internal` redacts the field, so the finding is a warning.
        assert_eq!(
            case.keys("PRV-01"),
            [k("source:main", "actor.id|email", "warn")]
        );
        let f = case.of("PRV-01")[0];
        let locs: Vec<_> = f
            .evidence
            .iter()
            .map(|e| (e.event.as_deref(), e.path.as_str(), e.line))
            .collect();
        assert_eq!(
            locs,
            [(Some("a2"), "main.jsonl", 2), (Some("a3"), "main.jsonl", 3)]
        );
        assert_eq!(f.count, Some(2));
        assert!(f.message.contains("`email`") && f.message.contains("`actor.id`"));
        assert!(
            f.message
                .contains("every non-internal audience redacts the field"),
            "{}",
            f.message
        );
        // The value is in no message; each evidence note lists it (the internal view).
        assert!(!f.message.contains("dana"), "{}", f.message);
        for e in &f.evidence {
            assert_eq!(
                e.note.as_deref(),
                Some("email in actor.id: `dana@example.com`")
            );
        }
        // A field the regulator shows: `deny`, naming the audience.
        let shown = [access(
            "a1",
            "2026-01-01T00:00:00Z",
            "u-7f3a",
            json!({"action": "read", "purpose": "asked by dana@example.com, dana@example.org"}),
        )];
        let case = check_events(&shown, GDPR);
        assert_eq!(
            case.keys("PRV-01"),
            [k("source:main", "attrs.purpose|email", "deny")]
        );
        let f = case.of("PRV-01")[0];
        assert!(f.message.contains("`regulator`"), "{}", f.message);
        assert_eq!(
            f.evidence[0].note.as_deref(),
            Some("email in attrs.purpose: `dana@example.com`, `dana@example.org`")
        );

        let fixed = [
            access(
                "a1",
                "2026-01-01T00:00:00Z",
                "u-7f3a",
                json!({"action": "read"}),
            ),
            access(
                "a2",
                "2026-01-02T00:00:00Z",
                "u-9c1e",
                json!({"action": "read"}),
            ),
        ];
        let case = check_events(&fixed, GDPR);
        assert!(case.keys("PRV-01").is_empty());
        assert_eq!(case.status("PRV-01"), Some(&Status::Evaluated));
    }

    #[test]
    fn prv01_one_finding_per_source_path_and_detector() {
        let d = |id: &str, ts: &str, attrs: Value| {
            ev(id, ts, "decision.made", &format!("decision:{id}"), attrs)
        };
        let a = d(
            "x1",
            "2026-01-01T00:00:00Z",
            json!({"deployment": "dep", "model_version": "m@1",
                   "raw_extra": {"mlflow.user": "bo@example.org", "phone": "+4915123456789"},
                   "reason_codes": ["R1", "card 4111 1111 1111 1111"]}),
        );
        let b = with(
            d(
                "x2",
                "2026-01-02T00:00:00Z",
                json!({"deployment": "dep", "model_version": "m@1",
                   "input_ref": "carol@example.org", "code_digest": "carol@example.org"}),
            ),
            "reason",
            json!("asked by carol@example.org"),
        );
        let other = access(
            "o1",
            "2026-01-03T00:00:00Z",
            "eve@example.net",
            json!({"action": "read"}),
        );
        let case = check(
            &[("serving", chain(&[a, b])), ("audit", chain(&[other]))],
            GDPR,
        );
        assert_eq!(
            case.keys("PRV-01"),
            [
                k("source:audit", "actor.id|email", "warn"),
                k(
                    "source:serving",
                    "attrs.raw_extra.\"mlflow.user\"|email",
                    "deny"
                ),
                k("source:serving", "attrs.raw_extra.phone|phone", "deny"),
                k("source:serving", "attrs.reason_codes[]|pan", "deny"),
                k("source:serving", "reason|email", "deny"),
            ]
        );
        let f = case
            .of("PRV-01")
            .into_iter()
            .find(|f| f.discriminator == "reason|email")
            .unwrap();
        assert_eq!(f.evidence[0].path, "serving.jsonl");
        assert_eq!(f.evidence[0].line, 2);
        assert_eq!(f.subject, "source:serving");
    }

    #[test]
    fn prv01_params_skip_fields_and_user_detectors() {
        let e = access(
            "a1",
            "2026-01-01T00:00:00Z",
            "svc",
            json!({"action": "read", "purpose": "case EMP-12345", "recipient": "dana@example.com"}),
        );
        let extra = format!(
            "{GDPR}[policy.params.PRV-01]\nskip_fields = [\"attrs.recipient\"]\n\
             detectors = [{{name = \"employee_no\", regex = \"EMP-[0-9]{{5}}\"}}]\n"
        );
        let case = check_events(std::slice::from_ref(&e), &extra);
        assert_eq!(
            case.keys("PRV-01"),
            [k("source:main", "attrs.purpose|employee_no", "deny")]
        );
        let bad = format!("{GDPR}[policy.params.PRV-01]\ndetectors = [{{name = \"x\"}}]\n");
        let err = crate::testing::try_check(&[("main", chain(std::slice::from_ref(&e)))], &bad)
            .err()
            .expect("a detector without regex is a config error");
        assert!(format!("{err:#}").contains("lacks `regex`"), "{err:#}");
        let bad = format!("{GDPR}[policy.params.PRV-01]\nnational_id_patterns = [\"(\"]\n");
        let err = crate::testing::try_check(&[("main", chain(&[e]))], &bad)
            .err()
            .expect("a bad national_id pattern is a config error");
        assert!(format!("{err:#}").contains("not a valid regex"), "{err:#}");
    }

    #[test]
    fn prv01_skips_references_node_ids_and_digests() {
        let e = ev(
            "i1",
            "2026-01-01T00:00:00Z",
            "incident.opened",
            "incident:inc-1",
            json!({"title": "t", "affects": ["resource:dana@example.com"],
                   "evidence": ["ops@example.com"],
                   "note": format!("sha256:{}", "0".repeat(64))}),
        );
        let case = check_events(&[e], GDPR);
        assert!(case.keys("PRV-01").is_empty(), "{:?}", case.keys("PRV-01"));
    }

    #[test]
    fn prv01_is_capped_at_warn_by_nist_and_not_evaluable_without_events() {
        let e = access(
            "a1",
            "2026-01-01T00:00:00Z",
            "dana@example.com",
            json!({"action": "read"}),
        );
        let case = check_events(&[e], "[policy]\npacks = [\"nist-ai-rmf\"]\n");
        assert_eq!(
            case.keys("PRV-01"),
            [k("source:main", "actor.id|email", "warn")]
        );
        let e = access(
            "a1",
            "2026-01-01T00:00:00Z",
            "svc",
            json!({"action": "read"}),
        );
        let late = format!("{GDPR}[report]\nas_of = \"2025-01-01T00:00:00Z\"\n");
        let case = check_events(&[e], &late);
        assert!(matches!(
            case.status("PRV-01"),
            Some(Status::NotEvaluable(_))
        ));
    }

    #[test]
    fn prv01_level_follows_the_audience_profiles() {
        let path: PathPattern = "actor.id".parse().unwrap();
        let path = path.as_concrete();
        let defaults = default_audiences();
        assert_eq!(
            prv01_level(&path, &defaults),
            (Level::Deny, vec!["regulator"])
        );
        let mut pseudonymised = default_audiences();
        pseudonymised[1].redacts.push("actor".parse().unwrap());
        assert_eq!(prv01_level(&path, &pseudonymised), (Level::Warn, vec![]));
        let other: PathPattern = "attrs.note".parse().unwrap();
        assert_eq!(
            prv01_level(&other.as_concrete(), &pseudonymised).0,
            Level::Deny
        );
    }

    #[test]
    fn the_shipped_national_id_default_is_the_gated_pattern() {
        let spec = PRV01
            .params
            .iter()
            .find(|p| p.name == "national_id_patterns")
            .unwrap();
        let v = crate::checks::default_value(spec);
        assert_eq!(
            v.as_array().unwrap()[0].as_str(),
            Some(detect::DEFAULT_NATIONAL_ID)
        );
    }

    #[test]
    fn prv05_is_not_evaluable_under_check() {
        let e = access(
            "a1",
            "2026-01-01T00:00:00Z",
            "svc",
            json!({"action": "read"}),
        );
        let case = check_events(&[e], GDPR);
        assert_eq!(
            case.status("PRV-05"),
            Some(&Status::NotEvaluable(
                "needs a `build` of a non-internal audience".into()
            ))
        );
        assert!(case.of("PRV-05").is_empty());
    }
}
