//! PRV-02 (keyed pseudonyms), PRV-03 (data-subject requests) and PRV-04 (RoPA and DPIA): the
//! privacy rules over particular kinds and documents.
//!
//! PRV-02 parses the `subject_ref` of every `decision.made` (a typed, borrowed view, in parallel
//! chunks); PRV-03 and PRV-04 read few events (`dsr.*`, and each event's `data_classes`, which
//! ingest already parsed).

use std::collections::BTreeMap;

use rayon::prelude::*;
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::plural;
use crate::checks::catalogue::{ParamKind, param};
use crate::checks::facts::{personal, ref_id};
use crate::checks::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use crate::event::{EntityType, Event, NodeId, present};
use crate::time;

// --- PRV-02 ----------------------------------------------------------------------------------

/// PRV-02 Keyed pseudonyms and key rotation.
pub struct Prv02;

static PRV02: RuleMeta = RuleMeta {
    id: "PRV-02",
    title: "Keyed pseudonyms and key rotation",
    levels: "`warn`; (a) `deny`",
    basis: "D",
    sources: &[
        "GDPR Art. 4(5), 32(1)(a) [V]",
        "EDPB Guidelines 01/2025 [S]",
        "NIST AI RMF MEASURE 2.10 [V]",
    ],
    needs: "`decision.made` with `subject_ref`.",
    checks: "(a) Aggregated per deployment and UTC day (subject `deployment:D`, discriminator \
`a|YYYY-MM-DD`): decisions whose `subject_ref` does not match `subject_ref_pattern` (a keyed \
pseudonym `hmac:KEY_ID:HEX`). (b) Per system S whose decisions carry `subject_ref` (subject \
`system:S`, discriminator `b`): the newest `admin.change` with `target = \"key\"` of S, or with no \
system, is older than `rotation_max_age` at the as-of time, or there is none.",
    why: "A pseudonym is only a safeguard when it cannot be reversed without a separately kept \
secret: a customer number or a plain hash of one is still identifying. A keyed hash (HMAC) with \
a named key, rotated on a schedule and recorded when it is, lets the organisation show that the \
key exists, is controlled and limits how long old pseudonyms can be linked.",
    example: "Fires: `subject_ref: \"customer-88123\"`. Passes: `subject_ref: \
\"hmac:k2026:9c1e…\"`, and an `admin.change` with `target = \"key\"` in the last 12 months.",
    fix: "Pseudonymise data subjects with a keyed hash and write it as `hmac:KEY_ID:HEX` (or set \
`subject_ref_pattern` to your format). Rotate the key at least every `rotation_max_age` and \
record each rotation as an `admin.change` with `target = \"key\"` (envelope `system` for a \
per-system key).",
    not_checked: "Whether the key is really secret and kept apart from the data, and whether \
the hash is keyed at all: the pattern only shows the declared form.",
    params: &[
        param(
            "subject_ref_pattern",
            ParamKind::Regex,
            r#""^hmac:[A-Za-z0-9._-]+:[0-9a-f]{16,}$""#,
        ),
        param("rotation_max_age", ParamKind::Duration, "\"12 months\""),
    ],
};

/// The index of the closing quote of a JSON string whose contents start at `i`.
fn string_end(b: &[u8], mut i: usize) -> usize {
    loop {
        match memchr::memchr2(b'"', b'\\', &b[i.min(b.len())..]) {
            Some(k) if b[i + k] == b'\\' => i += k + 2,
            Some(k) => return i + k,
            None => return b.len(),
        }
    }
}

/// The text from the value of a top-level `key` of a JSON object to the end of the object, or
/// `None` when the object has no such key (the first one counts). Scans the text without parsing
/// it: strings are skipped with `memchr`, so a million decisions cost a fraction of a full parse.
/// `obj` is valid JSON (ingest parsed it).
fn top_level_value<'a>(obj: &'a str, key: &str) -> Option<&'a str> {
    let b = obj.as_bytes();
    let (mut depth, mut expect_key, mut i) = (0u32, false, 0);
    while i < b.len() {
        match b[i] {
            b'"' => {
                let end = string_end(b, i + 1);
                if depth == 1 && expect_key {
                    expect_key = false;
                    let raw = &obj[i + 1..end];
                    let same = if raw.contains('\\') {
                        serde_json::from_str::<String>(&obj[i..=end]).is_ok_and(|k| k == key)
                    } else {
                        raw == key
                    };
                    if same {
                        let rest = obj[end + 1..].trim_start();
                        return Some(rest.strip_prefix(':').unwrap_or(rest).trim_start());
                    }
                }
                i = end + 1;
                continue;
            }
            b'{' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' => expect_key = depth == 1,
            _ => {}
        }
        i += 1;
    }
    None
}

static SUBJECT_REF_KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"subject_ref\""));

/// [`top_level_value`] for `subject_ref`, with a fast path for the usual shape: the first
/// `"subject_ref"` in the text is unescaped (so it is a string token, not inside one), followed
/// by `:` (a key), and nothing before it opens a nested object or array (so it is top-level).
fn subject_ref_raw(obj: &str) -> Option<&str> {
    let b = obj.as_bytes();
    match SUBJECT_REF_KEY.find(b) {
        Some(p) => {
            let escaped = b[..p].iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1;
            let after = obj[p + "\"subject_ref\"".len()..].trim_start();
            if !escaped
                && b.first() == Some(&b'{')
                && after.starts_with(':')
                && memchr::memchr2(b'{', b'[', &b[1..p]).is_none()
            {
                return Some(after[1..].trim_start());
            }
        }
        // The key can only be written differently with an escape (`subject\u005fref`).
        None if memchr::memchr(b'\\', b).is_none() => return None,
        None => {}
    }
    top_level_value(obj, "subject_ref")
}

/// The shipped `subject_ref_pattern`.
const DEFAULT_SUBJECT_REF: &str = "^hmac:[A-Za-z0-9._-]+:[0-9a-f]{16,}$";

/// `subject_ref_pattern`, with the shipped default matched by hand: a regex search per decision
/// costs more than everything else PRV-02 does with it.
enum RefPattern {
    Default,
    Custom(Regex),
}

impl RefPattern {
    fn new(p: &str) -> Result<RefPattern, regex::Error> {
        if p == DEFAULT_SUBJECT_REF {
            Ok(RefPattern::Default)
        } else {
            Regex::new(p).map(RefPattern::Custom)
        }
    }

    fn is_match(&self, s: &str) -> bool {
        match self {
            RefPattern::Custom(r) => r.is_match(s),
            RefPattern::Default => s
                .strip_prefix("hmac:")
                .and_then(|rest| rest.split_once(':'))
                .is_some_and(|(key, hex)| {
                    !key.is_empty()
                        && key
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
                        && hex.len() >= 16
                        && hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                }),
        }
    }
}

/// Whether `attrs.subject_ref` is present and, if so, whether it matches `pattern` (a value that
/// is not a string never does).
fn subject_ref_matches(e: &Event, pattern: &RefPattern) -> Option<bool> {
    let v = subject_ref_raw(e.attrs.get())?;
    let b = v.as_bytes();
    match b.first()? {
        b'"' => {
            let end = string_end(b, 1);
            let inner = &v[1..end];
            if inner.is_empty() {
                None
            } else if inner.contains('\\') {
                let s: String = serde_json::from_str(&v[..=end]).ok()?;
                Some(pattern.is_match(&s))
            } else {
                Some(pattern.is_match(inner))
            }
        }
        b'n' => None,
        open @ (b'[' | b'{') => {
            let close = if *open == b'[' { ']' } else { '}' };
            (!v[1..].trim_start().starts_with(close)).then_some(false)
        }
        _ => Some(false),
    }
}

const CHUNK: usize = 8192;

impl Rule for Prv02 {
    fn meta(&self) -> &'static RuleMeta {
        &PRV02
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        let pattern = match RefPattern::new(&cx.string("subject_ref_pattern")) {
            Ok(r) => r,
            Err(e) => return Outcome::not_evaluable(format!("`subject_ref_pattern`: {e}")),
        };
        let decisions: Vec<u32> = model.of_kind("decision.made").map(|(i, _)| i).collect();
        // Per decision with a subject_ref: (index, matches the pattern).
        let refs: Vec<(u32, bool)> = decisions
            .par_chunks(CHUNK)
            .flat_map_iter(|chunk| {
                chunk
                    .iter()
                    .filter_map(|&i| Some((i, subject_ref_matches(model.event(i), &pattern)?)))
            })
            .collect();
        if refs.is_empty() {
            return Outcome::not_evaluable("no `decision.made` with `subject_ref`");
        }

        let mut out = Vec::new();
        // (a) by (deployment, UTC day), events in event order.
        let mut bad: BTreeMap<(&str, String), Vec<u32>> = BTreeMap::new();
        // (b) the latest decision with a subject_ref of each system (few systems: a list).
        let mut systems: Vec<(&str, u32)> = Vec::new();
        for &(i, ok) in &refs {
            let e = model.event(i);
            if !ok {
                let d = ref_id(e, "attrs.deployment").unwrap_or_default();
                bad.entry((d, time::utc_day(e.ts))).or_default().push(i);
            }
            if let Some(s) = facts.system_of_event(e) {
                match systems.iter_mut().find(|(x, _)| *x == s) {
                    Some(entry) => entry.1 = i,
                    None => systems.push((s, i)),
                }
            }
        }
        let shown = cx.string("subject_ref_pattern");
        for ((d, day), events) in bad {
            let n = events.len();
            let system = facts.deployment(d).and_then(|f| f.system.as_deref());
            let last = model.event(*events.last().expect("non-empty"));
            let evidence = events.iter().map(|&i| {
                cx.evi(
                    i,
                    Some("subject_ref does not match subject_ref_pattern".into()),
                )
            });
            out.push(
                Draft::new(
                    NodeId::new(EntityType::Deployment, d).0.to_string(),
                    format!("a|{day}"),
                    "a",
                    Level::Deny,
                    format!(
                        "{n} decision{} of deployment `{d}` on {day} carr{} a `subject_ref` that \
is not a keyed pseudonym (does not match `{shown}`)",
                        plural(n),
                        if n == 1 { "ies" } else { "y" },
                    ),
                )
                .evidence(evidence.collect::<Vec<_>>())
                .count(n as u64)
                .system(system)
                .at(last.ts),
            );
        }

        // (b) key rotations: `admin.change` with target "key", by system (None: every system).
        #[derive(Deserialize)]
        struct Target<'a> {
            target: Option<&'a str>,
        }
        let rotations: Vec<(u32, Option<&str>)> = model
            .of_kind("admin.change")
            .filter(|(_, e)| e.attrs_as::<Target<'_>>().and_then(|a| a.target) == Some("key"))
            .map(|(i, e)| (i, facts.system_of_event(e)))
            .collect();
        let max_age = cx.duration("rotation_max_age");
        let t = cx.as_of();
        systems.sort_unstable();
        for (s, latest_decision) in systems {
            let newest = rotations
                .iter()
                .filter(|(_, rs)| rs.is_none_or(|rs| rs == s))
                .map(|(i, _)| *i)
                .max_by_key(|&i| (model.event(i).ts, i));
            let decision = cx.evi(
                latest_decision,
                Some("latest decision with a subject_ref".into()),
            );
            let message = match newest {
                Some(r) => {
                    let re = model.event(r);
                    let due = max_age.after(re.ts);
                    if due >= t {
                        continue;
                    }
                    format!(
                        "the newest pseudonymisation key rotation for system `{s}` is `{}` ({}); \
it is older than `rotation_max_age` ({max_age}) at {} (next rotation was due {})",
                        re.id,
                        time::fmt(re.ts),
                        time::fmt(t),
                        time::fmt(due),
                    )
                }
                None => format!(
                    "decisions of system `{s}` carry `subject_ref`, but no `admin.change` with \
`target = \"key\"` records a key rotation for it (or for all systems)"
                ),
            };
            let mut evidence = vec![decision];
            if let Some(r) = newest {
                evidence.push(cx.evi(r, Some("newest key rotation".into())));
            }
            out.push(
                Draft::new(
                    NodeId::new(EntityType::System, s).0.to_string(),
                    "b",
                    "b",
                    Level::Warn,
                    message,
                )
                .evidence(evidence)
                .system(Some(s)),
            );
        }
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
#[test]
fn top_level_value_agrees_with_a_parse() {
    let cases = [
        r#"{"subject_ref":"hmac:k:0123456789abcdef"}"#,
        r#"{ "a" : {"subject_ref": "inner"}, "b": ["subject_ref", {"x": "}"}], "subject_ref" : "top" }"#,
        r#"{"a":"\"subject_ref\":\"no\"","subject\u005fref":"esc\u0041ped"}"#,
        r#"{"a":1,"b":[1,2,{"c":[]}]}"#,
        r#"{"subject_ref":null}"#,
        r#"{"subject_ref":[ ]}"#,
        r#"{"subject_ref":{"k":1}}"#,
        r#"{"subject_ref":42}"#,
        r#"{"subject_ref":""}"#,
        r#"{"a":"x\\","subject_ref":"after an escaped backslash"}"#,
        r#"{"a":"\"subject_ref\": 1","subject_ref":"second"}"#,
        r#"{"a":["subject_ref"],"subject_ref":"after nesting"}"#,
    ];
    for c in cases {
        let parsed: serde_json::Map<String, Value> = serde_json::from_str(c).unwrap();
        let want = parsed.get("subject_ref").filter(|v| present(Some(v)));
        let got = top_level_value(c, "subject_ref");
        assert_eq!(subject_ref_raw(c), got, "{c}");
        match (want, got) {
            (None, None) => {}
            (Some(w), Some(g)) => {
                let mut de = serde_json::Deserializer::from_str(g);
                let v = Value::deserialize(&mut de).unwrap();
                assert_eq!(&v, w, "{c}");
            }
            (None, Some(g)) => {
                let mut de = serde_json::Deserializer::from_str(g);
                assert!(!present(Some(&Value::deserialize(&mut de).unwrap())), "{c}");
            }
            (w, g) => panic!("{c}: {w:?} vs {g:?}"),
        }
    }
    let pattern = RefPattern::new("^esc").unwrap();
    let e = crate::testing::parse_event(&serde_json::json!({
        "id": "x", "ts": "2026-01-01T00:00:00Z", "kind": "decision.made",
        "actor": {"id": "a", "type": "service"}, "subject": {"type": "decision", "id": "x"},
        "attrs": {"deployment": "d", "model_version": "m@1", "subject_ref": "esc\"aped"},
    }));
    assert_eq!(subject_ref_matches(&e, &pattern), Some(true));
}

#[cfg(test)]
#[test]
fn the_default_subject_ref_pattern_is_matched_by_hand_as_the_regex_would() {
    let regex = Regex::new(DEFAULT_SUBJECT_REF).unwrap();
    let hand = RefPattern::new(DEFAULT_SUBJECT_REF).unwrap();
    assert!(matches!(hand, RefPattern::Default));
    for s in [
        "hmac:k2026:9c1e0123456789ab",
        "hmac:k.2026_a-b:0123456789abcdef0",
        "hmac::0123456789abcdef",
        "hmac:k:0123456789abcde",
        "hmac:k:0123456789ABCDEF",
        "hmac:k:x:0123456789abcdef",
        "hmac:k:0123456789abcdef\n",
        "xhmac:k:0123456789abcdef",
        "hmac:k é:0123456789abcdef",
        "customer-88123",
        "",
    ] {
        assert_eq!(hand.is_match(s), regex.is_match(s), "{s:?}");
    }
}

// --- PRV-03 ----------------------------------------------------------------------------------

/// PRV-03 Data-subject requests.
pub struct Prv03;

static PRV03: RuleMeta = RuleMeta {
    id: "PRV-03",
    title: "Data-subject requests",
    levels: "`deny`",
    basis: "T",
    sources: &[
        "GDPR Art. 12(3) [U], 17(1), 17(3), 18 [V]",
        "NIST AI RMF MEASURE 2.10 [V]",
    ],
    needs: "`dsr.received`.",
    checks: "For each request (the first `dsr.received` of a `request_id`; subject = its subject \
node, discriminator = check letter and `request_id`, e.g. `a|DSR-17`): (a) no `dsr.resolved` \
with the same `request_id` within `deadline` of receipt (calendar months, end-of-month clamped): \
resolved late, or still open at the as-of time after the deadline; (b) resolved, but no \
`outcome`; (c) `outcome` in `ground_required` without a `ground`. Several `dsr.resolved` of one \
request merge in order: a later present `outcome` or `ground` replaces an earlier one. Suggested \
outcomes: `fulfilled`, `erased`, `key_destroyed`, `restricted`, `refused`.",
    why: "Data subjects have the right to have their data erased or its processing restricted, \
and to an answer without undue delay, within one month of the request. A refusal or restriction \
must rest on a stated ground (for example a legal obligation to keep the record), or it is \
simply a request ignored.",
    example: "Fires: an erasure request resolved with `outcome: \"refused\"` and no `ground`. \
Passes: `ground: \"Art. 17(3)(b)\"`.",
    fix: "Resolve every request within the deadline and record a `dsr.resolved` with the same \
`request_id`, its `outcome`, and for a refusal or restriction the `ground` (the article and \
point relied on).",
    not_checked: "Scheduled severance of restricted records (no field); the retention page lists \
restricted requests next to their classes. Extensions of the deadline under Art. 12(3) are not \
read: an extended request shows as late.",
    params: &[
        param("deadline", ParamKind::Duration, "\"1 month\""),
        param(
            "ground_required",
            ParamKind::Strs,
            r#"["refused", "restricted"]"#,
        ),
    ],
};

/// A present string attribute.
fn attr<'m>(attrs: &'m serde_json::Map<String, Value>, key: &str) -> Option<&'m str> {
    attrs
        .get(key)
        .filter(|v| present(Some(v)))
        .map(|v| v.as_str().unwrap_or("(not a string)"))
}

impl Rule for Prv03 {
    fn meta(&self) -> &'static RuleMeta {
        &PRV03
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let request_id = |e: &Event| {
            e.attrs()
                .get("request_id")
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .or_else(|| Some(v.to_string()))
                })
                .filter(|s| !s.is_empty())
        };
        let mut received: BTreeMap<String, u32> = BTreeMap::new();
        let mut any = false;
        for (i, e) in model.of_kind("dsr.received") {
            any = true;
            if let Some(id) = request_id(e) {
                received.entry(id).or_insert(i);
            }
        }
        if !any {
            return Outcome::not_evaluable("no `dsr.received` event");
        }
        if received.is_empty() {
            return Outcome::not_applicable("no `dsr.received` carries a `request_id`");
        }
        let mut resolved: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for (i, e) in model.of_kind("dsr.resolved") {
            if let Some(id) = request_id(e) {
                resolved.entry(id).or_default().push(i);
            }
        }
        let deadline = cx.duration("deadline");
        let ground_required = cx.strs("ground_required");
        let t = cx.as_of();
        let mut out = Vec::new();
        for (id, r) in &received {
            let rec = model.event(*r);
            let subject = rec
                .subject_node()
                .map(|n| n.0.to_string())
                .unwrap_or_default();
            let system = cx.facts.system_of_event(rec);
            let due = deadline.after(rec.ts);
            let resolutions = resolved.get(id).map_or(&[][..], Vec::as_slice);
            let draft = |check: &'static str, message: String| {
                Draft::new(
                    &subject,
                    format!("{check}|{id}"),
                    check,
                    Level::Deny,
                    message,
                )
                .system(system)
            };
            let received_ev = || cx.evi(*r, Some(format!("request `{id}` received")));

            if !resolutions.iter().any(|&x| model.event(x).ts <= due) {
                match resolutions.first() {
                    Some(&late) => {
                        let le = model.event(late);
                        out.push(
                            draft(
                                "a",
                                format!(
                                    "request `{id}` received {} was resolved {}, after the \
deadline {} (`deadline` = {deadline})",
                                    time::fmt(rec.ts),
                                    time::fmt(le.ts),
                                    time::fmt(due)
                                ),
                            )
                            .evidence([received_ev(), cx.evi(late, Some("resolved late".into()))])
                            .at(le.ts),
                        );
                    }
                    None if t > due => out.push(
                        draft(
                            "a",
                            format!(
                                "request `{id}` received {} has no `dsr.resolved`; the deadline \
{} (`deadline` = {deadline}) has passed",
                                time::fmt(rec.ts),
                                time::fmt(due)
                            ),
                        )
                        .evidence([received_ev()]),
                    ),
                    None => {}
                }
            }

            let Some(&last) = resolutions.last() else {
                continue;
            };
            // Merge the resolutions in order: a later present value replaces an earlier one.
            let (mut outcome, mut ground) = (None, None);
            for &x in resolutions {
                let a = model.event(x).attrs();
                if let Some(o) = attr(&a, "outcome") {
                    outcome = Some((o.to_string(), x));
                }
                if let Some(g) = attr(&a, "ground") {
                    ground = Some(g.to_string());
                }
            }
            match outcome {
                None => out.push(
                    draft(
                        "b",
                        format!(
                            "request `{id}` is resolved ({}) without an `outcome`",
                            time::fmt(model.event(last).ts)
                        ),
                    )
                    .evidence([received_ev(), cx.evi(last, Some("no outcome".into()))])
                    .at(model.event(last).ts),
                ),
                Some((o, x)) if ground.is_none() && ground_required.contains(&o) => out.push(
                    draft(
                        "c",
                        format!(
                            "request `{id}` was resolved with outcome `{o}` ({}) without a \
`ground`; `ground_required` lists `{o}`",
                            time::fmt(model.event(x).ts)
                        ),
                    )
                    .evidence([
                        received_ev(),
                        cx.evi(x, Some(format!("outcome {o}, no ground"))),
                    ])
                    .at(model.event(x).ts.max(model.event(last).ts)),
                ),
                Some(_) => {}
            }
        }
        Outcome::evaluated(out)
    }
}

// --- PRV-04 ----------------------------------------------------------------------------------

/// PRV-04 RoPA and DPIA.
pub struct Prv04;

static PRV04: RuleMeta = RuleMeta {
    id: "PRV-04",
    title: "RoPA and DPIA",
    levels: "`warn`",
    basis: "T",
    sources: &[
        "GDPR Art. 30(1), 35 [V]",
        "AI Act Art. 26(9) [V]",
        "CJEU C-413/23 P [S]",
        "ISO/IEC 42001 A.5.3 [S]",
        "NIST AI RMF MEASURE 2.10 [V]",
    ],
    needs: "Personal events (`data_classes` with `personal`, `special_category`, `biometric`, \
`phi` or `cardholder`).",
    checks: "For each system S with personal events (the event's system, §2.2; subject \
`system:S`): (a) no `document.registered` with `doc_type = \"ropa\"` effective at the as-of \
time describing `system:S`; (b) S is high-risk and no `dpia` is effective at the as-of time \
describing `system:S`.",
    why: "Processing personal data must be recorded in the records of processing activities, \
and processing likely to result in a high risk to people, as a high-risk AI system's is, needs a \
data protection impact assessment first. A deployer of a high-risk AI system uses the provider's \
instructions to carry out that assessment.",
    example: "Fires: `credit-scoring` logs personal decisions and no RoPA is registered. \
Passes: a `ropa` registered with `describes: [\"system:credit-scoring\"]`.",
    fix: "Register the RoPA entry (and for high-risk systems the DPIA) as `document.registered` \
with `doc_type` `ropa` / `dpia`, `describes` naming the system, and `effective_from`; register a \
new version before the old one's `effective_to`.",
    not_checked: "Contents (recipients including auditors and regulators, erasure time limits, \
security measures); personal events without a system.",
    params: &[],
};

/// Personal events of one system: how many, the first and the latest.
struct PersonalUse {
    count: u64,
    first: u32,
    last: u32,
}

impl Rule for Prv04 {
    fn meta(&self) -> &'static RuleMeta {
        &PRV04
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let (model, facts) = (cx.model, cx.facts);
        let mut any = false;
        // A handful of systems: a list, sorted afterwards.
        let mut by_system: Vec<(&str, PersonalUse)> = Vec::new();
        for (i, e) in model.current() {
            if !personal(e) {
                continue;
            }
            any = true;
            if let Some(s) = facts.system_of_event(e) {
                match by_system.iter_mut().find(|(x, _)| *x == s) {
                    Some((_, u)) => {
                        u.count += 1;
                        u.last = i;
                    }
                    None => by_system.push((
                        s,
                        PersonalUse {
                            count: 1,
                            first: i,
                            last: i,
                        },
                    )),
                }
            }
        }
        by_system.sort_by(|a, b| a.0.cmp(b.0));
        if !any {
            return Outcome::not_evaluable("no personal events (`data_classes`)");
        }
        if by_system.is_empty() {
            return Outcome::not_applicable("no personal event belongs to a system");
        }
        let t = cx.as_of();
        let mut out = Vec::new();
        for (s, u) in by_system {
            let node = NodeId::new(EntityType::System, s);
            let effective = |ty: &'static str| {
                facts
                    .effective_documents(&node, Some(ty), t)
                    .next()
                    .is_some()
            };
            let evidence = || {
                let mut ev = vec![cx.evi(u.first, Some("first personal event".into()))];
                if u.last != u.first {
                    ev.push(cx.evi(u.last, Some("latest personal event".into())));
                }
                ev
            };
            let uses = format!(
                "system `{s}` has {} personal event{} ({} to {})",
                u.count,
                plural(u.count as usize),
                time::fmt(model.event(u.first).ts),
                time::fmt(model.event(u.last).ts)
            );
            if !effective("ropa") {
                out.push(
                    Draft::new(
                        node.as_str(),
                        "a",
                        "a",
                        Level::Warn,
                        format!(
                            "{uses} but no `ropa` document describing `system:{s}` is effective \
at {}",
                            time::fmt(t)
                        ),
                    )
                    .evidence(evidence())
                    .system(Some(s)),
                );
            }
            if facts.high_risk(Some(s)) && !effective("dpia") {
                let mut ev = evidence();
                if let Some(reg) = facts.system(s).and_then(|f| f.registered) {
                    ev.push(cx.evi(reg, Some("registered with risk = high".into())));
                }
                out.push(
                    Draft::new(
                        node.as_str(),
                        "b",
                        "b",
                        Level::Warn,
                        format!(
                            "{uses} and is high-risk, but no `dpia` document describing \
`system:{s}` is effective at {}",
                            time::fmt(t)
                        ),
                    )
                    .evidence(ev)
                    .system(Some(s)),
                );
            }
        }
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::k;
    use serde_json::{Value, json};

    use crate::checks::Status;
    use crate::testing::{Case, check_events, ev, with};

    const GDPR: &str = "[policy]\npacks = [\"gdpr\"]\n";

    fn lines(case: &Case, rule: &str, i: usize) -> Vec<(String, u64)> {
        case.of(rule)[i]
            .evidence
            .iter()
            .map(|e| (e.path.clone(), e.line))
            .collect()
    }

    fn sys(e: Value) -> Value {
        with(e, "system", json!("credit-scoring"))
    }

    fn decision(id: &str, ts: &str, subject_ref: Option<&str>) -> Value {
        let mut attrs = json!({"deployment": "dep-1", "model_version": "m@1"});
        if let Some(r) = subject_ref {
            attrs["subject_ref"] = json!(r);
        }
        sys(ev(
            id,
            ts,
            "decision.made",
            &format!("decision:{id}"),
            attrs,
        ))
    }

    fn key_rotation(id: &str, ts: &str) -> Value {
        ev(
            id,
            ts,
            "admin.change",
            "resource:kms",
            json!({"target": "key"}),
        )
    }

    const GOOD: &str = "hmac:k2026:9c1e0123456789ab";

    // --- PRV-02 -----------------------------------------------------------------------------

    #[test]
    fn prv02_fires_on_the_rules_md_example_and_passes_with_a_keyed_pseudonym() {
        let events = [
            key_rotation("k1", "2026-01-01T00:00:00Z"),
            decision("d1", "2026-03-01T10:00:00Z", Some(GOOD)),
            decision("d2", "2026-03-01T11:00:00Z", Some("customer-88123")),
            decision("d3", "2026-03-01T12:00:00Z", Some("customer-1")),
            decision("d4", "2026-03-02T12:00:00Z", Some("customer-2")),
        ];
        let case = check_events(&events, GDPR);
        assert_eq!(
            case.keys("PRV-02"),
            [
                k("deployment:dep-1", "a|2026-03-01", "deny"),
                k("deployment:dep-1", "a|2026-03-02", "deny"),
            ]
        );
        let f = case
            .of("PRV-02")
            .into_iter()
            .find(|f| f.discriminator == "a|2026-03-01")
            .unwrap();
        assert_eq!(f.count, Some(2));
        let ev: Vec<_> = f
            .evidence
            .iter()
            .map(|e| (e.path.as_str(), e.line))
            .collect();
        assert_eq!(ev, [("main.jsonl", 3), ("main.jsonl", 4)]);
        assert!(!f.message.contains("customer"), "{}", f.message);

        let fixed = [
            key_rotation("k1", "2026-01-01T00:00:00Z"),
            decision("d1", "2026-03-01T10:00:00Z", Some(GOOD)),
        ];
        let case = check_events(&fixed, GDPR);
        assert!(case.keys("PRV-02").is_empty(), "{:?}", case.keys("PRV-02"));
        assert_eq!(case.status("PRV-02"), Some(&Status::Evaluated));
    }

    #[test]
    fn prv02_b_fires_without_a_recent_key_rotation() {
        let none = [decision("d1", "2026-03-01T10:00:00Z", Some(GOOD))];
        let case = check_events(&none, GDPR);
        assert_eq!(
            case.keys("PRV-02"),
            [k("system:credit-scoring", "b", "warn")]
        );
        assert_eq!(lines(&case, "PRV-02", 0), [("main.jsonl".to_string(), 1)]);

        let old = [
            key_rotation("k1", "2025-02-01T00:00:00Z"),
            decision("d1", "2026-03-01T10:00:00Z", Some(GOOD)),
        ];
        let case = check_events(&old, GDPR);
        assert_eq!(
            case.keys("PRV-02"),
            [k("system:credit-scoring", "b", "warn")]
        );
        assert_eq!(
            lines(&case, "PRV-02", 0),
            [("main.jsonl".to_string(), 1), ("main.jsonl".to_string(), 2)]
        );
        assert!(case.of("PRV-02")[0].message.contains("`k1`"));

        // A rotation of another system's key does not count; a longer max age does.
        let other = [
            with(
                key_rotation("k1", "2026-02-01T00:00:00Z"),
                "system",
                json!("other"),
            ),
            decision("d1", "2026-03-01T10:00:00Z", Some(GOOD)),
        ];
        assert_eq!(
            check_events(&other, GDPR).keys("PRV-02"),
            [k("system:credit-scoring", "b", "warn")]
        );
        let longer = format!("{GDPR}[policy.params.PRV-02]\nrotation_max_age = \"2 years\"\n");
        assert!(check_events(&old, &longer).keys("PRV-02").is_empty());
    }

    #[test]
    fn prv02_is_not_evaluable_without_subject_refs() {
        let case = check_events(&[decision("d1", "2026-03-01T10:00:00Z", None)], GDPR);
        assert!(matches!(
            case.status("PRV-02"),
            Some(Status::NotEvaluable(_))
        ));
    }

    // --- PRV-03 -----------------------------------------------------------------------------

    fn dsr(id: &str, ts: &str, kind: &str, attrs: Value) -> Value {
        ev(id, ts, kind, "resource:dsr-queue", attrs)
    }

    fn received(id: &str, ts: &str, request: &str) -> Value {
        dsr(
            id,
            ts,
            "dsr.received",
            json!({"request_id": request, "type": "erasure"}),
        )
    }

    #[test]
    fn prv03_c_fires_on_the_rules_md_example_and_passes_with_a_ground() {
        let events = [
            received("r1", "2026-01-10T09:00:00Z", "DSR-1"),
            dsr(
                "s1",
                "2026-01-20T09:00:00Z",
                "dsr.resolved",
                json!({"request_id": "DSR-1", "outcome": "refused"}),
            ),
        ];
        let case = check_events(&events, GDPR);
        assert_eq!(
            case.keys("PRV-03"),
            [k("resource:dsr-queue", "c|DSR-1", "deny")]
        );
        assert_eq!(
            lines(&case, "PRV-03", 0),
            [("main.jsonl".to_string(), 1), ("main.jsonl".to_string(), 2)]
        );
        let fixed = [
            events[0].clone(),
            dsr(
                "s1",
                "2026-01-20T09:00:00Z",
                "dsr.resolved",
                json!({"request_id": "DSR-1", "outcome": "refused", "ground": "Art. 17(3)(b)"}),
            ),
        ];
        let case = check_events(&fixed, GDPR);
        assert!(case.keys("PRV-03").is_empty());
        assert_eq!(case.status("PRV-03"), Some(&Status::Evaluated));
    }

    #[test]
    fn prv03_a_uses_calendar_months_and_b_needs_an_outcome() {
        // Received 31 Jan: one month later is 28 Feb (end-of-month clamping).
        let resolved = |ts: &str| {
            dsr(
                "s1",
                ts,
                "dsr.resolved",
                json!({"request_id": "DSR-2", "outcome": "erased"}),
            )
        };
        let r = received("r1", "2026-01-31T10:00:00Z", "DSR-2");
        let on_time = [r.clone(), resolved("2026-02-28T10:00:00Z")];
        assert!(check_events(&on_time, GDPR).keys("PRV-03").is_empty());
        let late = [r.clone(), resolved("2026-02-28T10:00:01Z")];
        let case = check_events(&late, GDPR);
        assert_eq!(
            case.keys("PRV-03"),
            [k("resource:dsr-queue", "a|DSR-2", "deny")]
        );
        assert!(
            case.of("PRV-03")[0]
                .message
                .contains("2026-02-28T10:00:00Z")
        );

        // Still open: fires only once T is past the deadline.
        let open = [r.clone()];
        let before = format!("{GDPR}[report]\nas_of = \"2026-02-20T00:00:00Z\"\n");
        assert!(check_events(&open, &before).keys("PRV-03").is_empty());
        let after = format!("{GDPR}[report]\nas_of = \"2026-03-01T00:00:00Z\"\n");
        let case = check_events(&open, &after);
        assert_eq!(
            case.keys("PRV-03"),
            [k("resource:dsr-queue", "a|DSR-2", "deny")]
        );
        assert_eq!(lines(&case, "PRV-03", 0), [("main.jsonl".to_string(), 1)]);

        let no_outcome = [
            r,
            dsr(
                "s1",
                "2026-02-01T00:00:00Z",
                "dsr.resolved",
                json!({"request_id": "DSR-2"}),
            ),
        ];
        let case = check_events(&no_outcome, GDPR);
        assert_eq!(
            case.keys("PRV-03"),
            [k("resource:dsr-queue", "b|DSR-2", "deny")]
        );
        assert_eq!(
            lines(&case, "PRV-03", 0),
            [("main.jsonl".to_string(), 1), ("main.jsonl".to_string(), 2)]
        );
    }

    #[test]
    fn prv03_is_not_evaluable_without_requests() {
        let case = check_events(&[decision("d1", "2026-03-01T10:00:00Z", None)], GDPR);
        assert!(matches!(
            case.status("PRV-03"),
            Some(Status::NotEvaluable(_))
        ));
    }

    // --- PRV-04 -----------------------------------------------------------------------------

    fn system(risk: &str) -> Value {
        sys(ev(
            "s0",
            "2026-01-01T00:00:00Z",
            "system.registered",
            "system:credit-scoring",
            json!({"name": "Credit scoring", "risk": risk, "role": "deployer"}),
        ))
    }

    fn personal_decision(id: &str, ts: &str) -> Value {
        with(
            decision(id, ts, Some(GOOD)),
            "data_classes",
            json!(["personal"]),
        )
    }

    fn doc(id: &str, doc_type: &str) -> Value {
        ev(
            id,
            "2026-01-02T00:00:00Z",
            "document.registered",
            &format!("document:{id}"),
            json!({"doc_type": doc_type, "describes": ["system:credit-scoring"]}),
        )
    }

    #[test]
    fn prv04_fires_on_the_rules_md_example_and_passes_with_ropa_and_dpia() {
        let events = [
            system("high"),
            personal_decision("d1", "2026-03-01T10:00:00Z"),
            personal_decision("d2", "2026-03-02T10:00:00Z"),
        ];
        let case = check_events(&events, GDPR);
        assert_eq!(
            case.keys("PRV-04"),
            [
                k("system:credit-scoring", "a", "warn"),
                k("system:credit-scoring", "b", "warn"),
            ]
        );
        let by = |disc: &str| {
            let f = case
                .of("PRV-04")
                .into_iter()
                .find(|f| f.discriminator == disc)
                .unwrap();
            f.evidence
                .iter()
                .map(|e| (e.path.clone(), e.line))
                .collect::<Vec<_>>()
        };
        let l = |n| ("main.jsonl".to_string(), n);
        assert_eq!(by("a"), [l(2), l(3)]);
        assert_eq!(by("b"), [l(1), l(2), l(3)]);
        let with_ropa = [events[0].clone(), doc("ropa-1", "ropa"), events[1].clone()];
        let case = check_events(&with_ropa, GDPR);
        assert_eq!(
            case.keys("PRV-04"),
            [k("system:credit-scoring", "b", "warn")]
        );
        let both = [
            events[0].clone(),
            doc("ropa-1", "ropa"),
            doc("dpia-1", "dpia"),
            events[1].clone(),
        ];
        assert!(check_events(&both, GDPR).keys("PRV-04").is_empty());
        // Not high-risk: no DPIA needed.
        let limited = [system("limited"), doc("ropa-1", "ropa"), events[1].clone()];
        assert!(check_events(&limited, GDPR).keys("PRV-04").is_empty());
    }

    #[test]
    fn prv04_is_not_evaluable_without_personal_events_and_pre_effective_for_deployers() {
        let case = check_events(&[decision("d1", "2026-03-01T10:00:00Z", None)], GDPR);
        assert!(matches!(
            case.status("PRV-04"),
            Some(Status::NotEvaluable(_))
        ));

        let events = [
            system("limited"),
            personal_decision("d1", "2026-03-01T10:00:00Z"),
        ];
        let deployer = "[policy]\npacks = [\"eu-ai-act-deployer\"]\n";
        let case = check_events(&events, deployer);
        assert_eq!(
            case.keys("PRV-04"),
            [k("system:credit-scoring", "a", "info")]
        );
        let later = format!("{deployer}[report]\nas_of = \"2026-09-01T00:00:00Z\"\n");
        assert_eq!(
            check_events(&events, &later).keys("PRV-04"),
            [k("system:credit-scoring", "a", "warn")]
        );
    }
}
