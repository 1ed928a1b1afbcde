//! PRV-01's machinery: identifier detectors, field-path patterns (`RULES.md` §2.5) and the walk
//! over the strings of one event.
//!
//! Cost model (a log holds a million events, most of them `decision.made`): each event's `attrs`
//! and `rationale` are walked once over their raw JSON text (no `Value` tree, no allocation per
//! key or string); each string is classified in one byte pass (digits, `@`, `+`, `:`, upper case)
//! and only the detectors it can satisfy run on it; the detectors that cannot be prefiltered run
//! once per chunk of events over their joined strings. Cheap exemptions (digests, `TYPE:ID`
//! values, top-level reference fields) skip a string before any detector; the others
//! (`skip_fields`, nested reference fields) are decided only for strings a detector hit, which
//! are rare, so the concrete path of a string is only ever built for a hit.

use std::fmt::Write as _;
use std::ops::Range;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

use crate::event::{EntityType, Event};

// --- detectors -----------------------------------------------------------------------------

/// The built-in detectors, in the order `RULES.md` lists them; their index is their id.
pub const BUILTIN: [&str; 7] = [
    "email",
    "phone",
    "pan",
    "iban",
    "national_id",
    "cloud_key",
    "uri_credentials",
];
const EMAIL: u16 = 0;
const PHONE: u16 = 1;
const PAN: u16 = 2;
const IBAN: u16 = 3;
const NATIONAL_ID: u16 = 4;
const CLOUD_KEY: u16 = 5;
const URI_CREDENTIALS: u16 = 6;

fn re(s: &str) -> Regex {
    Regex::new(s).expect("static regex")
}

// ASCII word boundaries `(?-u:\b)`: Unicode ones would keep the lazy DFA off non-ASCII text.
static EMAIL_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?-u:\b)"));
static PHONE_RE: LazyLock<Regex> = LazyLock::new(|| re(r"\+[1-9][0-9]{7,14}"));
static PAN_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u:\b)[2-6](?:[ -]?[0-9]){12,18}(?-u:\b)"));
static IBAN_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?-u:\b)"));
static CLOUD_KEY_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?-u:\b)(?:(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}",
        r"|AIza[0-9A-Za-z_-]{35}",
        r"|gh[pousr]_[A-Za-z0-9]{36,255}",
        r"|github_pat_[A-Za-z0-9_]{22,255}",
        r"|xox[abposr]-[A-Za-z0-9-]{10,}",
        r"|sk_live_[0-9A-Za-z]{24,}",
        r"|AccountKey=[A-Za-z0-9+/=]{40,})",
        r"|-----BEGIN [A-Z ]*PRIVATE KEY-----",
    ))
});
static URI_CREDENTIALS_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:]+:[^/?#@\s]+@"));

/// The shortest string a cloud key pattern can match (`xox?-` + 10).
const CLOUD_KEY_MIN_LEN: usize = 15;

/// IBAN lengths by country (ISO 13616 registry), for a check beyond mod-97: a random
/// `[A-Z]{2}[0-9]{2}…` identifier passes mod-97 once in 97.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// The Luhn checksum of a digit string.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// ISO 13616 validity: the country's length and the mod-97 check (`s` without spaces).
pub fn iban_valid(s: &[u8]) -> bool {
    let Some(country) = s.get(..2).and_then(|c| std::str::from_utf8(c).ok()) else {
        return false;
    };
    if !IBAN_LENGTHS
        .iter()
        .any(|(c, n)| *c == country && *n == s.len())
    {
        return false;
    }
    let mut rem = 0u32;
    for &c in s[4..].iter().chain(&s[..4]) {
        match c {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return false,
        }
    }
    rem == 1
}

/// The most digits in a run of digits, spaces and dashes (a card number needs 13): hex digests
/// and pseudonyms have many digits, but not in one run.
fn longest_number(b: &[u8]) -> usize {
    let (mut run, mut best) = (0, 0);
    for &c in b {
        match c {
            b'0'..=b'9' => {
                run += 1;
                best = best.max(run);
            }
            b' ' | b'-' => {}
            _ => run = 0,
        }
    }
    best
}

/// A card number candidate: 13–19 digits, separators (when any) only between groups of at least
/// three digits (so dates such as `2026-01-01` are never read as one number), Luhn-valid.
fn pan_valid(m: &str) -> bool {
    let digits: Vec<u8> = m.bytes().filter(u8::is_ascii_digit).collect();
    (13..=19).contains(&digits.len()) && m.split([' ', '-']).all(|g| g.len() >= 3) && luhn(&digits)
}

/// The shipped `national_id_patterns` (US SSN form). A string it can match has nine digits and a
/// dash, which lets PRV-01 leave every other string out of its joint search.
pub const DEFAULT_NATIONAL_ID: &str = r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b";

/// What one byte pass over a string tells the prefilters.
#[derive(Clone, Copy, Debug, Default)]
pub struct Profile {
    digits: u32,
    upper: bool,
    plus: bool,
    colon: bool,
    at: bool,
    dash: bool,
}

impl Profile {
    pub fn of(b: &[u8]) -> Profile {
        // Branch-free counts, so the loop vectorises: most strings hit nothing.
        let (mut digits, mut upper, mut plus, mut colon, mut at, mut dash) =
            (0u32, 0u8, 0u8, 0u8, 0u8, 0u8);
        for &c in b {
            digits += u32::from(c.wrapping_sub(b'0') < 10);
            upper |= u8::from(c.wrapping_sub(b'A') < 26);
            plus |= u8::from(c == b'+');
            colon |= u8::from(c == b':');
            at |= u8::from(c == b'@');
            dash |= u8::from(c == b'-');
        }
        Profile {
            digits,
            upper: upper != 0,
            plus: plus != 0,
            colon: colon != 0,
            at: at != 0,
            dash: dash != 0,
        }
    }
}

/// Which strings may match a pattern of the rest group (a necessary condition).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gate {
    Always,
    /// At least this many bytes.
    MinLen(usize),
    /// [`DEFAULT_NATIONAL_ID`]: nine digits and a dash.
    Ssn,
}

impl Gate {
    fn admits(self, s: &str, p: &Profile) -> bool {
        match self {
            Gate::Always => true,
            Gate::MinLen(n) => s.len() >= n,
            Gate::Ssn => p.digits >= 9 && p.dash,
        }
    }
}

/// The detectors of one run: the built-ins, the `national_id_patterns` and the user's
/// `detectors`. A user detector with the name of a built-in (or of another user detector) shares
/// its id, so one (path, detector) never yields two findings.
///
/// Two groups, for speed: the *cheap* built-ins (`email`, `phone`, `pan`, `iban`,
/// `uri_credentials`) run on a string only when its bytes can satisfy them (an `@` before a
/// `.letter`, a `+` and eight digits, …); the *rest* (`national_id`, `cloud_key`, user detectors)
/// cannot be prefiltered that way, so [`Walker::chunk`] first runs each once over the strings of
/// a chunk of events joined by `\n` (in multi-line mode, so `^` and `$` still match at each
/// string's edges; only strings its [`Gate`] admits) and per string only in the events that
/// joint text marks.
#[derive(Debug)]
pub struct Detectors {
    names: Vec<String>,
    national: Vec<Regex>,
    custom: Vec<(u16, Regex)>,
    /// The rest, compiled for the joined text, each with the strings it may match.
    joint: Vec<(Regex, Gate)>,
    /// A pattern anchors at the absolute start or end (`\A`, `\z`): no joint prefilter.
    per_string: bool,
}

impl Detectors {
    /// Compiles the configured patterns; the error names the bad one.
    pub fn new(national: &[String], custom: &[(String, String)]) -> Result<Detectors, String> {
        let mut names: Vec<String> = BUILTIN.iter().map(|s| s.to_string()).collect();
        let mut joint = vec![(CLOUD_KEY_RE.clone(), Gate::MinLen(CLOUD_KEY_MIN_LEN))];
        let mut per_string = false;
        let mut joined = |p: &str| -> Result<(), String> {
            per_string |= p.contains("\\A") || p.contains("\\z");
            let gate = if p == DEFAULT_NATIONAL_ID {
                Gate::Ssn
            } else {
                Gate::Always
            };
            joint.push((
                Regex::new(&format!("(?m:{p})")).map_err(|e| e.to_string())?,
                gate,
            ));
            Ok(())
        };
        let mut nat = Vec::new();
        for p in national {
            let err = |e: String| format!("national_id pattern `{p}`: {e}");
            nat.push(Regex::new(p).map_err(|e| err(e.to_string()))?);
            joined(p).map_err(err)?;
        }
        let mut compiled = Vec::new();
        for (name, pattern) in custom {
            let err = |e: String| format!("detector `{name}`: {e}");
            let r = Regex::new(pattern).map_err(|e| err(e.to_string()))?;
            joined(pattern).map_err(err)?;
            let id = match names.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    names.push(name.clone());
                    names.len() - 1
                }
            };
            compiled.push((id as u16, r));
        }
        Ok(Detectors {
            names,
            national: nat,
            custom: compiled,
            joint,
            per_string,
        })
    }

    /// The name of a detector id.
    pub fn name(&self, id: u16) -> &str {
        &self.names[id as usize]
    }

    /// Calls `hit(detector, range)` for every match of every detector in `s`.
    pub fn scan(&self, s: &str, mut hit: impl FnMut(u16, Range<usize>)) {
        self.scan_cheap(s, &Profile::of(s.as_bytes()), &mut hit);
        self.scan_rest(s, &mut hit);
    }

    /// Marks the parts of `joined` in which joint pattern `k` may match: `bounds[j]` is where
    /// part `j` starts. A part is marked when a match starts in it or overlaps it. Every
    /// per-string match lies in a marked part: the search resumes where the last reported match
    /// ended, so a match at `p` is either reported or overlapped by one.
    fn rest_marks(&self, k: usize, joined: &str, bounds: &[usize], marks: &mut [bool]) {
        if self.per_string {
            marks.fill(true);
            return;
        }
        let part = |at: usize| bounds.partition_point(|&b| b <= at).saturating_sub(1);
        for m in self.joint[k].0.find_iter(joined) {
            let last = part(m.end().saturating_sub(1).max(m.start()));
            marks[part(m.start())..=last].fill(true);
        }
    }

    /// The prefiltered built-ins (`uri_credentials` first).
    fn scan_cheap(&self, s: &str, p: &Profile, hit: &mut impl FnMut(u16, Range<usize>)) {
        let b = s.as_bytes();
        let digits = p.digits;
        // `scheme://user:password@host` also reads as an email (`password@host`): that part
        // of a credentials match is not reported twice.
        let mut credentials: Vec<Range<usize>> = Vec::new();
        if p.colon && p.at && memchr::memmem::find(b, b"://").is_some() {
            for m in URI_CREDENTIALS_RE.find_iter(s) {
                credentials.push(m.range());
                hit(URI_CREDENTIALS, m.range());
            }
        }
        // An email needs `@` and, after it, a `.` followed by a letter (the last label).
        if p.at
            && let Some(at) = memchr::memchr(b'@', b)
            && b[at..]
                .windows(2)
                .any(|w| w[0] == b'.' && w[1].is_ascii_alphabetic())
        {
            for m in EMAIL_RE.find_iter(s) {
                if !credentials.iter().any(|c| c.contains(&m.start())) {
                    hit(EMAIL, m.range());
                }
            }
        }
        if p.plus && digits >= 8 {
            for m in PHONE_RE.find_iter(s) {
                // E.164 has at most 15 digits: a longer run is something else.
                if !b.get(m.end()).is_some_and(u8::is_ascii_digit) {
                    hit(PHONE, m.range());
                }
            }
        }
        if digits >= 13 && longest_number(b) >= 13 {
            for m in PAN_RE.find_iter(s) {
                if pan_valid(m.as_str()) {
                    hit(PAN, m.range());
                }
            }
        }
        if p.upper && digits >= 4 {
            for m in IBAN_RE.find_iter(s) {
                let compact: Vec<u8> = m.as_str().bytes().filter(|c| *c != b' ').collect();
                if iban_valid(&compact) {
                    hit(IBAN, m.range());
                }
            }
        }
    }

    /// `national_id`, `cloud_key` and the user's detectors.
    fn scan_rest(&self, s: &str, hit: &mut impl FnMut(u16, Range<usize>)) {
        // An empty match is no identifier (a user pattern such as `x*` matches everywhere).
        for r in &self.national {
            for m in r.find_iter(s).filter(|m| !m.is_empty()) {
                hit(NATIONAL_ID, m.range());
            }
        }
        if s.len() >= CLOUD_KEY_MIN_LEN {
            for m in CLOUD_KEY_RE.find_iter(s) {
                hit(CLOUD_KEY, m.range());
            }
        }
        for (id, r) in &self.custom {
            for m in r.find_iter(s).filter(|m| !m.is_empty()) {
                hit(*id, m.range());
            }
        }
    }
}

// --- field paths (§2.5) ----------------------------------------------------------------------

/// One segment of a concrete path: an object key, or "an element of an array" (`[]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(&'a str),
    Elements,
}

/// Writes a concrete path: keys joined by `.`, `[]` for array elements, and a key holding `.`,
/// `[`, `]`, `*` or `"` (or empty) as a JSON string.
pub fn fmt_path<'a>(segs: impl IntoIterator<Item = Seg<'a>>) -> String {
    let mut out = String::new();
    for (i, seg) in segs.into_iter().enumerate() {
        match seg {
            Seg::Elements => out.push_str("[]"),
            Seg::Key(k) => {
                if i > 0 {
                    out.push('.');
                }
                if k.is_empty() || k.contains(['.', '[', ']', '*', '"']) {
                    let _ = write!(out, "{}", serde_json::Value::from(k));
                } else {
                    out.push_str(k);
                }
            }
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PatSeg {
    /// A key written plainly or quoted: matches that key only.
    Key(String),
    /// A key with `*`: `*` matches any characters within one key.
    Glob(String),
    Elements,
}

/// A field-path pattern of `skip_fields` and `[privacy]` (`RULES.md` §2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPattern {
    segs: Vec<PatSeg>,
}

impl FromStr for PathPattern {
    type Err = String;

    fn from_str(s: &str) -> Result<PathPattern, String> {
        let bad = |why: &str| format!("`{s}` is not a field path: {why}");
        let mut segs = Vec::new();
        let mut rest = s;
        loop {
            if let Some(quoted) = rest.strip_prefix('"') {
                // A JSON string: find its closing quote, skipping escapes.
                let mut end = None;
                let mut escaped = false;
                for (i, c) in quoted.char_indices() {
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '"' => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let end = end.ok_or_else(|| bad("unterminated quoted key"))?;
                let key: String = serde_json::from_str(&rest[..end + 2])
                    .map_err(|e| bad(&format!("bad quoted key: {e}")))?;
                segs.push(PatSeg::Key(key));
                rest = &quoted[end + 1..];
            } else {
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                let key = &rest[..end];
                if key.is_empty() {
                    return Err(bad("empty key"));
                }
                if key.contains([']', '"']) {
                    return Err(bad("quote a key holding `]` or `\"`"));
                }
                segs.push(if key.contains('*') {
                    PatSeg::Glob(key.to_string())
                } else {
                    PatSeg::Key(key.to_string())
                });
                rest = &rest[end..];
            }
            while let Some(r) = rest.strip_prefix("[]") {
                segs.push(PatSeg::Elements);
                rest = r;
            }
            if rest.is_empty() {
                return Ok(PathPattern { segs });
            }
            rest = rest
                .strip_prefix('.')
                .ok_or_else(|| bad("expected `.` or `[]` after a key"))?;
        }
    }
}

/// `*` matches any run of characters (within one key).
fn glob(pattern: &str, key: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return pattern == key;
    }
    if key.len() < first.len() + last.len() || !key.starts_with(first) || !key.ends_with(last) {
        return false;
    }
    let mut rest = &key[first.len()..key.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

impl PathPattern {
    /// The segments of a concrete path (as [`fmt_path`] writes it) parsed as a pattern.
    pub fn as_concrete(&self) -> Vec<Seg<'_>> {
        self.segs
            .iter()
            .map(|s| match s {
                PatSeg::Key(k) | PatSeg::Glob(k) => Seg::Key(k),
                PatSeg::Elements => Seg::Elements,
            })
            .collect()
    }

    /// Whether the pattern matches the path or one of its prefixes (dropping an object drops
    /// what it holds).
    pub fn matches(&self, path: &[Seg<'_>]) -> bool {
        self.segs.len() <= path.len()
            && self.segs.iter().zip(path).all(|(p, s)| match (p, s) {
                (PatSeg::Elements, Seg::Elements) => true,
                (PatSeg::Key(k), Seg::Key(x)) => k == x,
                (PatSeg::Glob(g), Seg::Key(x)) => glob(g, x),
                _ => false,
            })
    }
}

// --- exemptions ------------------------------------------------------------------------------

/// The reference fields of `EVENT-SCHEMA.md` ("Entities and ids") beyond the envelope, as
/// concrete paths (a field holding one id or an array of them), plus `attrs.model` and
/// `attrs.version` (entity ids) on every kind.
fn reference_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "dataset.registered" => &["attrs.datasheet"],
        "run.completed" => &[
            "attrs.inputs[]",
            "attrs.outputs[]",
            "attrs.inputs",
            "attrs.outputs",
        ],
        "feature.registered" => &["attrs.derived_from[]", "attrs.derived_from"],
        "model.registered" => &[
            "attrs.parent_version",
            "attrs.training_run",
            "attrs.datasets[].id",
        ],
        "model.evaluated" => &["attrs.datasets[].id"],
        "model.promoted" => &["attrs.approval"],
        "decision.made" => &["attrs.model_version", "attrs.deployment"],
        "decision.batch" => &["attrs.model_version"],
        "monitoring.alert" => &["attrs.incident"],
        "document.registered" => &["attrs.describes[]", "attrs.describes"],
        "legal_hold.set" => &["attrs.scope[]", "attrs.scope"],
        "dsr.received" | "dsr.resolved" => &["attrs.decision"],
        "waiver.granted" => &["attrs.target"],
        k if k.starts_with("deployment.") => &["attrs.model_version", "attrs.approval"],
        k if k.starts_with("incident.") => &[
            "attrs.affects[]",
            "attrs.affects",
            "attrs.evidence[]",
            "attrs.evidence",
        ],
        _ => &[],
    }
}

/// Whether a concrete path is a reference field of some kind and means nothing else in the
/// schema (`attrs.decision`, `attrs.target`, `attrs.version` and `attrs.model` also name plain
/// values of other kinds, so they are not reported).
pub fn is_reference_path(path: &str) -> bool {
    const AMBIGUOUS: &[&str] = &["attrs.decision", "attrs.target"];
    !AMBIGUOUS.contains(&path)
        && crate::event::KINDS
            .iter()
            .any(|k| reference_fields(k.name).contains(&path))
}

/// Whether `path` is a reference field of events of `kind` (concrete path, as [`fmt_path`]
/// writes it), `attrs.model` and `attrs.version` included.
pub fn reference_field(kind: &str, path: &str) -> bool {
    matches!(path, "attrs.model" | "attrs.version") || reference_fields(kind).contains(&path)
}

/// A node id `TYPE:ID` of an entity type.
pub fn is_node_id(s: &str) -> bool {
    s.split_once(':')
        .is_some_and(|(ty, id)| !id.is_empty() && EntityType::parse(ty).is_some())
}

/// `^sha256:[0-9a-f]{64}$`.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 71
        && s.starts_with("sha256:")
        && s.as_bytes()[7..]
            .iter()
            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

// --- the walk over one event -----------------------------------------------------------------

/// A detector hit in one event: the concrete path, the detector, how many matches and the
/// distinct values matched (in first-seen order; PRV-01 shows them in the internal audience).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub path: String,
    pub detector: u16,
    pub matches: u32,
    pub values: Vec<String>,
}

/// Scans events; one per worker thread (it keeps its buffers between events).
pub struct Walker<'s> {
    detectors: &'s Detectors,
    skip: &'s [PathPattern],
    kind: String,
    /// The top-level `attrs` keys that are references of this kind (exempt without a path).
    top_refs: Vec<&'static str>,
    /// The key text of the current path, segments delimited by `segs`.
    keys: String,
    /// `None`: array elements; `Some(range)`: a key in `keys`.
    segs: Vec<Option<Range<u32>>>,
    /// First pass: per joint pattern, the strings of the chunk's events it admits, joined by
    /// `\n`, and where each event's part starts.
    joined: Vec<String>,
    bounds: Vec<Vec<usize>>,
    /// Second pass: run every detector on each string.
    full: bool,
    hits: Vec<Hit>,
}

impl<'s> Walker<'s> {
    pub fn new(detectors: &'s Detectors, skip: &'s [PathPattern]) -> Walker<'s> {
        Walker {
            detectors,
            skip,
            kind: String::new(),
            top_refs: Vec::new(),
            keys: String::new(),
            segs: Vec::new(),
            joined: vec![String::new(); detectors.joint.len()],
            bounds: vec![Vec::new(); detectors.joint.len()],
            full: false,
            hits: Vec::new(),
        }
    }

    /// The hits of a chunk of events `(index, event)`: every string of `actor`, `attrs`,
    /// `rationale` and `reason`, after the exemptions; per event, hits on one (path, detector)
    /// are merged, in first-seen order. Output in the order of `events`.
    ///
    /// A first pass runs the cheap detectors and joins the strings; a second pass runs every
    /// detector on each string, only for the events whose joined strings the rest group marks.
    pub fn chunk(&mut self, events: &[(u32, &Event)]) -> Vec<(u32, Hit)> {
        for (j, b) in self.joined.iter_mut().zip(&mut self.bounds) {
            j.clear();
            b.clear();
        }
        let mut cheap: Vec<(u32, Hit)> = Vec::new();
        let mut ranges = Vec::with_capacity(events.len());
        for &(i, e) in events {
            for (j, b) in self.joined.iter().zip(&mut self.bounds) {
                b.push(j.len());
            }
            self.pass(e, false);
            let start = cheap.len();
            cheap.extend(self.hits.drain(..).map(|h| (i, h)));
            ranges.push(start..cheap.len());
        }
        let mut marks = vec![false; events.len()];
        for (k, (joined, bounds)) in self.joined.iter().zip(&self.bounds).enumerate() {
            if !joined.is_empty() {
                self.detectors.rest_marks(k, joined, bounds, &mut marks);
            }
        }
        let mut out = Vec::with_capacity(cheap.len());
        for (k, &(i, e)) in events.iter().enumerate() {
            if marks[k] {
                self.pass(e, true);
                out.extend(self.hits.drain(..).map(|h| (i, h)));
            } else {
                out.extend(cheap[ranges[k].clone()].iter().cloned());
            }
        }
        out
    }

    /// The hits of one event (a chunk of one).
    #[cfg(test)]
    pub fn event(&mut self, e: &Event) -> Vec<Hit> {
        self.chunk(&[(0, e)]).into_iter().map(|(_, h)| h).collect()
    }

    /// One walk over an event into `hits`: with `full`, every detector on each string; else the
    /// cheap ones, and the strings appended to `joined`.
    fn pass(&mut self, e: &Event, full: bool) {
        self.hits.clear();
        self.kind.clear();
        self.kind.push_str(&e.kind);
        self.top_refs.clear();
        self.top_refs.extend(["model", "version"]);
        self.top_refs.extend(
            reference_fields(&e.kind)
                .iter()
                .filter_map(|f| f.strip_prefix("attrs."))
                .filter(|k| !k.contains(['.', '['])),
        );
        self.full = full;
        self.walk(e);
    }

    fn walk(&mut self, e: &Event) {
        self.segs.clear();
        self.keys.clear();
        self.push_key("actor");
        self.push_key("id");
        self.string(&e.actor.id);
        self.pop();
        if let Some(role) = &e.actor.role {
            self.push_key("role");
            self.string(role);
            self.pop();
        }
        self.pop();
        self.json("attrs", e.attrs.get());
        if let Some(r) = e.rationale_raw() {
            self.json("rationale", r.get());
        }
        if let Some(r) = e.reason() {
            self.push_key("reason");
            self.string(r);
            self.pop();
        }
    }

    fn json(&mut self, root: &str, text: &str) {
        self.push_key(root);
        let mut at = 0;
        // Ingest validated the JSON; on anything unexpected the walk just stops.
        let _ = self.value(text, &mut at);
        self.segs.clear();
        self.keys.clear();
    }

    /// Walks the JSON value at `*at` (a hand-written descent over text ingest already validated:
    /// strings are found with `memchr` and borrowed unless they hold escapes, numbers and
    /// literals skipped unparsed; about twice as fast as a serde visitor). `None`: malformed.
    fn value(&mut self, t: &str, at: &mut usize) -> Option<()> {
        let b = t.as_bytes();
        skip_ws(b, at);
        match *b.get(*at)? {
            b'"' => {
                let s = json_string(t, at)?;
                self.string(&s);
            }
            b'{' => {
                *at += 1;
                loop {
                    skip_ws(b, at);
                    match *b.get(*at)? {
                        b'}' => break,
                        b',' => *at += 1,
                        b'"' => {
                            let k = json_string(t, at)?;
                            skip_ws(b, at);
                            (*b.get(*at)? == b':').then_some(())?;
                            *at += 1;
                            self.push_key(&k);
                            let r = self.value(t, at);
                            self.pop();
                            r?;
                        }
                        _ => return None,
                    }
                }
                *at += 1;
            }
            b'[' => {
                *at += 1;
                self.segs.push(None);
                let r = loop {
                    skip_ws(b, at);
                    match *b.get(*at)? {
                        b']' => break Some(()),
                        b',' => *at += 1,
                        _ => {
                            if self.value(t, at).is_none() {
                                break None;
                            }
                        }
                    }
                };
                self.segs.pop();
                r?;
                *at += 1;
            }
            _ => {
                // A number, `true`, `false` or `null`: nothing to scan.
                let len = b[*at..]
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .unwrap_or(b.len() - *at);
                if len == 0 {
                    return None;
                }
                *at += len;
            }
        }
        Some(())
    }

    fn push_key(&mut self, k: &str) {
        let start = self.keys.len() as u32;
        self.keys.push_str(k);
        self.segs.push(Some(start..self.keys.len() as u32));
    }

    fn pop(&mut self) {
        if let Some(Some(r)) = self.segs.pop() {
            self.keys.truncate(r.start as usize);
        }
    }

    fn seg(&self, i: usize) -> Seg<'_> {
        match &self.segs[i] {
            Some(r) => Seg::Key(&self.keys[r.start as usize..r.end as usize]),
            None => Seg::Elements,
        }
    }

    /// Exemptions decided from the value and the innermost key alone (before any detector).
    fn exempt_early(&self, s: &str, p: &Profile) -> bool {
        if is_sha256(s) || (p.colon && is_node_id(s)) {
            return true;
        }
        self.segs.len() == 2
            && self.seg(0) == Seg::Key("attrs")
            && matches!(self.seg(1), Seg::Key(k) if self.top_refs.contains(&k))
    }

    fn string(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        let profile = Profile::of(s.as_bytes());
        if self.exempt_early(s, &profile) {
            return;
        }
        let mut found: Vec<(u16, u32, Vec<String>)> = Vec::new();
        let mut count = |d: u16, r: Range<usize>| {
            let value = &s[r];
            match found.iter_mut().find(|(x, _, _)| *x == d) {
                Some((_, n, values)) => {
                    *n += 1;
                    if !values.iter().any(|v| v == value) {
                        values.push(value.to_string());
                    }
                }
                None => found.push((d, 1, vec![value.to_string()])),
            }
        };
        if self.full {
            self.detectors.scan(s, &mut count);
        } else {
            self.detectors.scan_cheap(s, &profile, &mut count);
            for ((_, gate), joined) in self.detectors.joint.iter().zip(&mut self.joined) {
                if gate.admits(s, &profile) {
                    joined.push_str(s);
                    joined.push('\n');
                }
            }
        }
        if found.is_empty() {
            return;
        }
        let segs: Vec<Seg<'_>> = (0..self.segs.len()).map(|i| self.seg(i)).collect();
        if self.skip.iter().any(|p| p.matches(&segs)) {
            return;
        }
        let path = fmt_path(segs);
        if reference_field(&self.kind, &path) {
            return;
        }
        for (detector, n, values) in found {
            match self
                .hits
                .iter_mut()
                .find(|h| h.detector == detector && h.path == path)
            {
                Some(h) => {
                    h.matches += n;
                    for v in values {
                        if !h.values.contains(&v) {
                            h.values.push(v);
                        }
                    }
                }
                None => self.hits.push(Hit {
                    path: path.clone(),
                    detector,
                    matches: n,
                    values,
                }),
            }
        }
    }
}

fn skip_ws(b: &[u8], at: &mut usize) {
    while b
        .get(*at)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        *at += 1;
    }
}

/// The JSON string starting at `*at` (its opening quote), unescaped; `*at` moves past its
/// closing quote. Borrowed when it holds no escape.
fn json_string<'t>(t: &'t str, at: &mut usize) -> Option<std::borrow::Cow<'t, str>> {
    let b = t.as_bytes();
    let start = *at;
    let mut i = start + 1;
    let mut escaped = false;
    loop {
        let k = memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[i + k] == b'\\' {
            escaped = true;
            i += k + 2;
        } else {
            i += k;
            break;
        }
    }
    *at = i + 1;
    if escaped {
        serde_json::from_str::<String>(t.get(start..=i)?)
            .ok()
            .map(std::borrow::Cow::Owned)
    } else {
        t.get(start + 1..i).map(std::borrow::Cow::Borrowed)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::{ev, parse_event, with};

    fn names(d: &Detectors, s: &str) -> Vec<String> {
        let mut v = Vec::new();
        d.scan(s, |id, r| v.push(format!("{}:{}", d.name(id), &s[r])));
        v
    }

    fn defaults() -> Detectors {
        Detectors::new(&[DEFAULT_NATIONAL_ID.to_string()], &[]).unwrap()
    }

    #[test]
    fn builtin_detectors_match_what_rules_md_describes() {
        let d = defaults();
        assert_eq!(names(&d, "dana@example.com"), ["email:dana@example.com"]);
        assert!(names(&d, "credit-risk@1.4.0").is_empty());
        assert!(names(&d, "user@localhost").is_empty());
        assert_eq!(names(&d, "call +4915123456789"), ["phone:+4915123456789"]);
        assert!(names(&d, "+49 151 2345 6789").is_empty(), "separators");
        assert!(names(&d, "+1234567890123456").is_empty(), "16 digits");
        // 4111 1111 1111 1111 is the Luhn-valid Visa test number; change a digit and it is not.
        assert_eq!(
            names(&d, "card 4111 1111 1111 1111"),
            ["pan:4111 1111 1111 1111"]
        );
        assert_eq!(
            names(&d, "4111-1111-1111-1111"),
            ["pan:4111-1111-1111-1111"]
        );
        assert!(names(&d, "4111 1111 1111 1112").is_empty());
        assert!(names(&d, "2026-01-01-2026-12-31").is_empty(), "dates");
        assert!(
            names(&d, "16e89d34e31df0404111111111111111b8a159").is_empty(),
            "in hex"
        );
        assert_eq!(
            names(&d, "IBAN DE89 3704 0044 0532 0130 00"),
            ["iban:DE89 3704 0044 0532 0130 00"]
        );
        assert_eq!(
            names(&d, "GB82WEST12345698765432"),
            ["iban:GB82WEST12345698765432"]
        );
        assert!(names(&d, "GB82WEST12345698765433").is_empty(), "mod-97");
        assert_eq!(names(&d, "ssn 078-05-1120"), ["national_id:078-05-1120"]);
        assert_eq!(
            names(&d, "key=AKIAIOSFODNN7EXAMPLE"),
            ["cloud_key:AKIAIOSFODNN7EXAMPLE"]
        );
        assert_eq!(
            names(&d, "postgres://svc:hunter2@db.internal/x"),
            ["uri_credentials:postgres://svc:hunter2@"]
        );
        assert!(names(&d, "https://credit.example-bank.eu/v1/score").is_empty());
        assert!(names(&d, "hmac:k2026:16e89d34e31df040b6b8a159").is_empty());
        assert!(names(&d, "RC06_LOAN_TO_INCOME").is_empty());
    }

    #[test]
    fn user_detectors_get_their_own_ids_and_share_builtin_names() {
        let d = Detectors::new(
            &[],
            &[
                ("employee_no".into(), "EMP-[0-9]{5}".into()),
                ("email".into(), "[a-z]+ at corp".into()),
            ],
        )
        .unwrap();
        assert_eq!(
            names(&d, "EMP-12345 and dana at corp"),
            ["employee_no:EMP-12345", "email:dana at corp"]
        );
        assert!(Detectors::new(&["(".into()], &[]).is_err());
    }

    #[test]
    fn luhn_and_iban_checks() {
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"79927398710"));
        assert!(iban_valid(b"NO9386011117947"));
        assert!(!iban_valid(b"NO938601111794"));
    }

    fn p(s: &str) -> PathPattern {
        s.parse().unwrap()
    }

    #[test]
    fn path_patterns_follow_section_2_5() {
        use Seg::{Elements as E, Key as K};
        let path = [K("attrs"), K("datasets"), E, K("id")];
        assert!(p("attrs.datasets[].id").matches(&path));
        assert!(
            p("attrs.datasets").matches(&path),
            "a prefix drops what it holds"
        );
        assert!(p("attrs.*").matches(&path));
        assert!(!p("attrs.datasets.id").matches(&path));
        assert!(!p("attrs.datasets[].id.x").matches(&path));
        assert!(p("attrs.*_digest").matches(&[K("attrs"), K("params_digest")]));
        assert!(!p("attrs.*_digest").matches(&[K("attrs"), K("digest_of")]));
        assert!(p("attrs.*.*_digest").matches(&[K("attrs"), K("runtime"), K("lockfile_digest")]));
        assert!(p("attrs.a*b*c").matches(&[K("attrs"), K("axxbyyc")]));
        assert!(!p("attrs.a*b*c").matches(&[K("attrs"), K("axxcyyb")]));
        let quoted = p(r#"attrs.raw_extra."mlflow.user""#);
        assert!(quoted.matches(&[K("attrs"), K("raw_extra"), K("mlflow.user")]));
        assert!(!quoted.matches(&[K("attrs"), K("raw_extra"), K("mlflow")]));
        assert!(p(r#""a*b".c[][]"#).matches(&[K("a*b"), K("c"), E, E]));
        assert!(
            !p(r#""a*b""#).matches(&[K("axb")]),
            "a quoted `*` is literal"
        );
        for bad in ["", "a..b", "a.", "\"a", "a]b", "a[0]"] {
            assert!(bad.parse::<PathPattern>().is_err(), "{bad}");
        }
        assert_eq!(
            fmt_path([K("attrs"), K("raw_extra"), K("mlflow.user"), E]),
            r#"attrs.raw_extra."mlflow.user"[]"#
        );
    }

    fn hits(e: serde_json::Value, skip: &[&str]) -> Vec<(String, String, u32)> {
        let d = defaults();
        let skip: Vec<PathPattern> = skip.iter().map(|s| p(s)).collect();
        let mut w = Walker::new(&d, &skip);
        let e = parse_event(&e);
        w.event(&e)
            .iter()
            .map(|h| (h.path.clone(), d.name(h.detector).to_string(), h.matches))
            .collect()
    }

    #[test]
    fn the_walk_reports_concrete_paths_and_applies_exemptions() {
        let e = ev(
            "e1",
            "2026-01-01T00:00:00Z",
            "decision.made",
            "decision:x",
            json!({
                "deployment": "a@b.example.com",
                "model_version": "m@1",
                "note": "mail dana@example.com or bo@example.org",
                "reason_codes": ["ok", "x@y.example.com"],
                "raw_extra": {"mlflow.user": "dana@example.com", "sub": {"d": "resource:dana@example.com"}},
                "input_ref": "dana@example.com",
                "sha": format!("sha256:{}", "ab".repeat(32)),
            }),
        );
        let e = with(
            e,
            "actor",
            json!({"id": "dana@example.com", "type": "human", "role": "+4915123456789"}),
        );
        let e = with(e, "rationale", json!({"summary": "call +4915123456789"}));
        let e = with(e, "reason", json!("4111111111111111"));
        let got = hits(e, &["attrs.input_ref"]);
        let k = |p: &str, d: &str, n| (p.to_string(), d.to_string(), n);
        assert_eq!(
            got,
            [
                k("actor.id", "email", 1),
                k("actor.role", "phone", 1),
                k("attrs.note", "email", 2),
                k(r#"attrs.raw_extra."mlflow.user""#, "email", 1),
                k("attrs.reason_codes[]", "email", 1),
                k("rationale.summary", "phone", 1),
                k("reason", "pan", 1),
            ]
        );
    }

    #[test]
    fn chunks_find_the_rest_group_in_the_right_events_only() {
        let custom = [
            ("anchored".to_string(), "^EMP-[0-9]{5}$".to_string()),
            ("spanning".to_string(), r"Z[\s\S]*Q".to_string()),
        ];
        let d = Detectors::new(&[r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b".to_string()], &custom).unwrap();
        let mk = |id: &str, attrs: serde_json::Value| {
            parse_event(&ev(
                id,
                "2026-01-01T00:00:00Z",
                "access",
                "resource:r",
                attrs,
            ))
        };
        let events = [
            mk("e0", json!({"action": "read", "note": "plain"})),
            mk(
                "e1",
                json!({"action": "read", "a": "x", "b": "EMP-12345", "c": "ssn 078-05-1120"}),
            ),
            // `Z` here and `Q` in the next event: the joint match spans both; neither has a
            // per-string match.
            mk("e2", json!({"action": "read", "z": "Z"})),
            mk(
                "e3",
                json!({"action": "read", "q": "Q", "k": "AKIAIOSFODNN7EXAMPLE"}),
            ),
            mk(
                "e4",
                json!({"action": "read", "note": "EMP-12345 trailing"}),
            ),
        ];
        let refs: Vec<(u32, &Event)> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u32, e))
            .collect();
        let mut w = Walker::new(&d, &[]);
        let got: Vec<(u32, String, String)> = w
            .chunk(&refs)
            .into_iter()
            .map(|(i, h)| (i, h.path, d.name(h.detector).to_string()))
            .collect();
        let k = |i, p: &str, n: &str| (i, p.to_string(), n.to_string());
        assert_eq!(
            got,
            [
                k(1, "attrs.b", "anchored"),
                k(1, "attrs.c", "national_id"),
                k(3, "attrs.k", "cloud_key"),
            ]
        );
        // One at a time gives the same.
        let mut one = Vec::new();
        for &(i, e) in &refs {
            for h in w.event(e) {
                one.push((i, h.path, d.name(h.detector).to_string()));
            }
        }
        assert_eq!(one, got);
    }

    /// The hand-written walk sees exactly the strings a JSON parser sees, at the same paths.
    #[test]
    fn the_walk_agrees_with_serde_json_on_generated_documents() {
        use serde_json::Value;
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        const WORDS: [&str; 8] = [
            "a",
            "b c",
            "é\u{1f600}",
            "q\"uote",
            "back\\slash",
            "new\nline",
            "",
            "tab\t",
        ];
        const KEYS: [&str; 6] = ["k", "a.b", "x*", "quo\"te", "", "deep"];
        fn generate(next: &mut dyn FnMut(u64) -> u64, depth: u32) -> Value {
            match next(if depth > 3 { 6 } else { 8 }) {
                0 => Value::Null,
                1 => Value::Bool(next(2) == 0),
                2 => json!(next(1000) as i64 - 500),
                3 => json!(-1.5e-3),
                4 | 5 => Value::String(WORDS[next(8) as usize].to_string()),
                6 => Value::Array((0..next(4)).map(|_| generate(next, depth + 1)).collect()),
                _ => Value::Object(
                    (0..next(4))
                        .map(|_| {
                            (
                                KEYS[next(6) as usize].to_string(),
                                generate(next, depth + 1),
                            )
                        })
                        .collect(),
                ),
            }
        }
        fn strings(v: &Value, path: &mut Vec<Option<String>>, out: &mut Vec<(String, u32)>) {
            match v {
                Value::String(s) if !s.is_empty() => {
                    let segs: Vec<Seg<'_>> = path
                        .iter()
                        .map(|p| p.as_deref().map_or(Seg::Elements, Seg::Key))
                        .collect();
                    let p = fmt_path(segs);
                    match out.iter_mut().find(|(x, _)| *x == p) {
                        Some((_, n)) => *n += 1,
                        None => out.push((p, 1)),
                    }
                }
                Value::Array(a) => {
                    path.push(None);
                    a.iter().for_each(|x| strings(x, path, out));
                    path.pop();
                }
                Value::Object(o) => {
                    for (k, x) in o {
                        path.push(Some(k.clone()));
                        strings(x, path, out);
                        path.pop();
                    }
                }
                _ => {}
            }
        }
        let d = Detectors::new(&[], &[("any".into(), "(?s).+".into())]).unwrap();
        let mut w = Walker::new(&d, &[]);
        for round in 0..300 {
            let mut attrs = serde_json::Map::new();
            for k in KEYS {
                attrs.insert(k.to_string(), generate(&mut next, 0));
            }
            let attrs = Value::Object(attrs);
            let mut want = vec![("actor.id".to_string(), 1)];
            strings(&attrs, &mut vec![Some("attrs".into())], &mut want);
            let mut e = parse_event(&ev(
                "e",
                "2026-01-01T00:00:00Z",
                "access",
                "resource:r",
                json!({"action": "read"}),
            ));
            // Every other round with whitespace between tokens, as a pretty-printed source has.
            let text = if round % 2 == 1 {
                serde_json::to_string_pretty(&attrs).unwrap()
            } else {
                serde_json::to_string(&attrs).unwrap()
            };
            e.attrs = serde_json::value::RawValue::from_string(text).unwrap();
            let got: Vec<(String, u32)> = w
                .event(&e)
                .into_iter()
                .map(|h| (h.path, h.matches))
                .collect();
            assert_eq!(got, want, "{}", e.attrs.get());
        }
    }

    #[test]
    fn skip_fields_drop_subtrees_and_escaped_strings_are_scanned_unescaped() {
        let e = ev(
            "e1",
            "2026-01-01T00:00:00Z",
            "access",
            "resource:r",
            json!({"action": "read", "recipient": {"x": "dana@example.com"}, "q": "l1\ndana@example.com"}),
        );
        assert_eq!(
            hits(e.clone(), &[]),
            [
                ("attrs.q".into(), "email".into(), 1),
                ("attrs.recipient.x".into(), "email".into(), 1),
            ]
        );
        assert_eq!(hits(e, &["attrs.recipient", "attrs.q"]), []);
    }
}
