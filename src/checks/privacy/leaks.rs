//! PRV-05's scan over one audience's rendered output: what a build runs after rendering and
//! before moving a version into place. `check` builds nothing, so the rule itself reports not
//! evaluable; the site stage calls [`scan_output`] and [`leak_drafts`].
//!
//! Each file is searched in up to four views: its bytes, and the bytes with HTML entities, URL
//! escapes (`%HH`, `+`) or JSON string escapes decoded. Each decoded byte keeps the offset of the
//! input byte it came from, so an occurrence is located in the file as written. An occurrence
//! found in several views is reported once, in the first view's form (verbatim before escaped).
//! Output: leaks sorted by file, offset, then what was found.

use std::collections::{BTreeMap, HashMap};

use regex::Regex;
use regex::bytes::RegexBuilder;

use super::detect::Detectors;
use crate::checks::{Draft, Evidence, Level};
use crate::event::Origin;

/// A value the audience hides, with the field it comes from (for messages: never the value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hidden {
    pub path: String,
    pub value: String,
}

/// How an occurrence was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Form {
    Verbatim,
    HtmlEntity,
    UrlEscaped,
    JsonEscaped,
}

impl Form {
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Verbatim => "verbatim",
            Form::HtmlEntity => "HTML-entity-escaped",
            Form::UrlEscaped => "URL-escaped",
            Form::JsonEscaped => "JSON-escaped",
        }
    }
}

/// One occurrence in an output file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Leak {
    /// The file path as the audience's output names it.
    pub file: String,
    /// Byte offset in the file.
    pub offset: usize,
    /// `a` (a hidden value) or `b` (a detector match or pseudonym token).
    pub check: &'static str,
    /// (a) the field path of the hidden value; (b) the detector name, or `pseudonym`.
    pub what: String,
    pub form: Form,
    /// 1-based line and column (in bytes) of `offset`.
    pub line: u64,
    pub column: usize,
}

/// A decoded view of a file: the bytes and, for each, the offset in the file it came from.
struct View {
    form: Form,
    bytes: Vec<u8>,
    origin: Vec<u32>,
}

fn push_char(out: &mut View, c: char, at: usize) {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        out.bytes.push(b);
        out.origin.push(at as u32);
    }
}

fn view(form: Form, cap: usize) -> View {
    View {
        form,
        bytes: Vec::with_capacity(cap),
        origin: Vec::with_capacity(cap),
    }
}

/// HTML character references: `&#NN;`, `&#xHH;` and the named ones a renderer emits.
fn html_decode(b: &[u8]) -> View {
    let mut out = view(Form::HtmlEntity, b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'&'
            && let Some(len) = b[i..].iter().take(12).position(|&c| c == b';')
        {
            let name = &b[i + 1..i + len];
            let c = match name {
                b"amp" => Some('&'),
                b"lt" => Some('<'),
                b"gt" => Some('>'),
                b"quot" => Some('"'),
                b"apos" => Some('\''),
                b"nbsp" => Some('\u{a0}'),
                [b'#', b'x' | b'X', hex @ ..] => std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32),
                [b'#', dec @ ..] => std::str::from_utf8(dec)
                    .ok()
                    .and_then(|d| d.parse().ok())
                    .and_then(char::from_u32),
                _ => None,
            };
            if let Some(c) = c {
                push_char(&mut out, c, i);
                i += len + 1;
                continue;
            }
        }
        out.bytes.push(b[i]);
        out.origin.push(i as u32);
        i += 1;
    }
    out
}

/// URL escapes: `%HH` and `+` for a space (form encoding).
fn url_decode(b: &[u8]) -> View {
    let mut out = view(Form::UrlEscaped, b.len());
    let mut i = 0;
    while i < b.len() {
        let (byte, len) = match b[i] {
            b'%' => match b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(v) => (v, 3),
                None => (b'%', 1),
            },
            b'+' => (b' ', 1),
            c => (c, 1),
        };
        out.bytes.push(byte);
        out.origin.push(i as u32);
        i += len;
    }
    out
}

/// JSON string escapes: `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX` (with pairs).
fn json_unescape(b: &[u8]) -> View {
    let mut out = view(Form::JsonEscaped, b.len());
    let hex4 = |at: usize| {
        b.get(at..at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let simple = match b[i + 1] {
                b'"' => Some(b'"'),
                b'\\' => Some(b'\\'),
                b'/' => Some(b'/'),
                b'b' => Some(8),
                b'f' => Some(12),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                _ => None,
            };
            if let Some(c) = simple {
                out.bytes.push(c);
                out.origin.push(i as u32);
                i += 2;
                continue;
            }
            if b[i + 1] == b'u'
                && let Some(hi) = hex4(i + 2)
            {
                let pair = (0xD800..0xDC00).contains(&hi)
                    && b.get(i + 6..i + 8) == Some(b"\\u")
                    && hex4(i + 8).is_some_and(|lo| (0xDC00..0xE000).contains(&lo));
                let (code, len) = if pair {
                    let lo = hex4(i + 8).expect("checked");
                    (0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00), 12)
                } else {
                    (hi, 6)
                };
                if let Some(c) = char::from_u32(code) {
                    push_char(&mut out, c, i);
                    i += len;
                    continue;
                }
            }
        }
        out.bytes.push(b[i]);
        out.origin.push(i as u32);
        i += 1;
    }
    out
}

/// The views of a file worth searching: the bytes, and each decoding that changes something.
fn views(b: &[u8]) -> Vec<View> {
    let mut out = vec![View {
        form: Form::Verbatim,
        bytes: b.to_vec(),
        origin: (0..b.len() as u32).collect(),
    }];
    if memchr::memchr(b'&', b).is_some() {
        out.push(html_decode(b));
    }
    if memchr::memchr2(b'%', b'+', b).is_some() {
        out.push(url_decode(b));
    }
    if memchr::memchr(b'\\', b).is_some() {
        out.push(json_unescape(b));
    }
    out
}

/// Searches many literal values at once (one regex over the escaped literals, which the regex
/// crate runs as an Aho-Corasick/Teddy search), longest first so a value is not cut short by a
/// hidden prefix of it. Falls back to one search per value if the set is too large to compile.
enum Finder {
    Set(regex::bytes::Regex),
    Each(Vec<Vec<u8>>),
    Empty,
}

impl Finder {
    fn new(values: &[&str]) -> Finder {
        if values.is_empty() {
            return Finder::Empty;
        }
        let pattern = values
            .iter()
            .map(|v| regex::escape(v))
            .collect::<Vec<_>>()
            .join("|");
        match RegexBuilder::new(&pattern)
            .unicode(false)
            .size_limit(1 << 30)
            .build()
        {
            Ok(r) => Finder::Set(r),
            Err(_) => Finder::Each(values.iter().map(|v| v.as_bytes().to_vec()).collect()),
        }
    }

    /// Every (start, matched bytes) in `hay`.
    fn find<'h>(&self, hay: &'h [u8]) -> Vec<(usize, &'h [u8])> {
        match self {
            Finder::Set(r) => r
                .find_iter(hay)
                .map(|m| (m.start(), m.as_bytes()))
                .collect(),
            Finder::Each(values) => {
                let mut out = Vec::new();
                for v in values {
                    for at in memchr::memmem::find_iter(hay, v) {
                        out.push((at, &hay[at..at + v.len()]));
                    }
                }
                out
            }
            Finder::Empty => Vec::new(),
        }
    }
}

/// Line and column (1-based, bytes) of an offset.
fn locate(b: &[u8], offset: usize) -> (u64, usize) {
    let before = &b[..offset.min(b.len())];
    let line = memchr::memchr_iter(b'\n', before).count() as u64 + 1;
    let col = offset - memchr::memrchr(b'\n', before).map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// PRV-05 (a) and (b) over one audience's output files.
///
/// - (a) every occurrence of a `hidden` value (empty values are ignored), in any of the four
///   forms;
/// - (b) when the audience has no drill-down: every detector match and every `pseudonym` token in
///   the file's text and its HTML-decoded text (files that are not UTF-8 are not searched for
///   (b)).
pub fn scan_output(
    files: &[(String, Vec<u8>)],
    hidden: &[Hidden],
    drill_down: bool,
    detectors: &Detectors,
    pseudonym: Option<&Regex>,
) -> Vec<Leak> {
    let mut by_value: HashMap<&[u8], Vec<&str>> = HashMap::new();
    for h in hidden.iter().filter(|h| !h.value.is_empty()) {
        let paths = by_value.entry(h.value.as_bytes()).or_default();
        if !paths.contains(&h.path.as_str()) {
            paths.push(&h.path);
        }
    }
    let mut values: Vec<&str> = by_value
        .keys()
        .map(|v| std::str::from_utf8(v).expect("from a String"))
        .collect();
    values.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    let finder = Finder::new(&values);

    let mut out = Vec::new();
    for (file, bytes) in files {
        // (offset, check, what) → first form found.
        let mut found: BTreeMap<(usize, &'static str, String), Form> = BTreeMap::new();
        for v in views(bytes) {
            for (start, m) in finder.find(&v.bytes) {
                for path in by_value.get(m).into_iter().flatten() {
                    found
                        .entry((v.origin[start] as usize, "a", path.to_string()))
                        .or_insert(v.form);
                }
            }
            if !drill_down && matches!(v.form, Form::Verbatim | Form::HtmlEntity) {
                let Ok(text) = std::str::from_utf8(&v.bytes) else {
                    continue;
                };
                detectors.scan(text, |d, r| {
                    found
                        .entry((
                            v.origin[r.start] as usize,
                            "b",
                            detectors.name(d).to_string(),
                        ))
                        .or_insert(v.form);
                });
                for m in pseudonym.into_iter().flat_map(|p| p.find_iter(text)) {
                    found
                        .entry((v.origin[m.start()] as usize, "b", "pseudonym".to_string()))
                        .or_insert(v.form);
                }
            }
        }
        for ((offset, check, what), form) in found {
            let (line, column) = locate(bytes, offset);
            out.push(Leak {
                file: file.clone(),
                offset,
                check,
                what,
                form,
                line,
                column,
            });
        }
    }
    out.sort();
    out
}

/// PRV-05 findings from the leaks of one audience: one per (check, file), subject
/// `build:AUDIENCE`, discriminator `CHECK|FILE`, evidence every occurrence (line, column, the
/// field or detector and the form; never the value).
pub fn leak_drafts(audience: &str, leaks: &[Leak]) -> Vec<Draft> {
    let mut groups: BTreeMap<(&str, &str), Vec<&Leak>> = BTreeMap::new();
    for l in leaks {
        groups.entry((l.check, &l.file)).or_default().push(l);
    }
    let mut out = Vec::new();
    for ((check, file), ls) in groups {
        // what → (count, forms)
        let mut what: BTreeMap<&str, (usize, Vec<Form>)> = BTreeMap::new();
        for l in &ls {
            let w = what.entry(&l.what).or_default();
            w.0 += 1;
            if !w.1.contains(&l.form) {
                w.1.push(l.form);
            }
        }
        let list = what
            .iter()
            .map(|(w, (n, forms))| {
                let forms: Vec<&str> = forms.iter().map(|f| f.as_str()).collect();
                format!("`{w}` ×{n} ({})", forms.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let message = if check == "a" {
            format!(
                "`{file}` of audience `{audience}` contains values of fields the audience \
hides: {list}"
            )
        } else {
            format!(
                "`{file}` of audience `{audience}` (no event drill-down) contains identifiers: \
{list}"
            )
        };
        let evidence: Vec<Evidence> = ls
            .iter()
            .map(|l| Evidence {
                event: None,
                source: format!("build:{audience}"),
                path: l.file.clone(),
                line: l.line,
                column: Some(l.column),
                note: Some(format!("{}, {}", l.what, l.form.as_str())),
                origin: Origin::default(),
            })
            .collect();
        out.push(
            Draft::new(
                format!("build:{audience}"),
                format!("{check}|{file}"),
                check,
                Level::Deny,
                message,
            )
            .evidence(evidence)
            .count(ls.len() as u64),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detectors() -> Detectors {
        Detectors::new(&[r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b".to_string()], &[]).unwrap()
    }

    fn hidden(path: &str, value: &str) -> Hidden {
        Hidden {
            path: path.into(),
            value: value.into(),
        }
    }

    fn summary(leaks: &[Leak]) -> Vec<(&str, u64, &str, &str, Form)> {
        leaks
            .iter()
            .map(|l| (l.file.as_str(), l.line, l.check, l.what.as_str(), l.form))
            .collect()
    }

    #[test]
    fn hidden_values_are_found_verbatim_and_in_each_escaped_form() {
        let files = vec![
            (
                "v1/a.html".to_string(),
                b"<p>x</p>\n<td>O'Brien &amp; Co</td>\n".to_vec(),
            ),
            (
                "v1/b.html".to_string(),
                b"<p>ok</p>\n<td>O&#39;Brien &amp; Co</td>\n<a href=\"?q=O%27Brien+%26+Co\">"
                    .to_vec(),
            ),
            (
                "v1/c.json".to_string(),
                b"{\"n\":\"O\\u0027Brien & Co\",\n\"s\":\"hmac:k1:0123456789abcdef\"}".to_vec(),
            ),
            (
                "v1/clean.html".to_string(),
                b"<p>nothing here, O'Brian</p>".to_vec(),
            ),
        ];
        let h = [
            hidden("attrs.raw_extra.name", "O'Brien & Co"),
            hidden("attrs.subject_ref", "hmac:k1:0123456789abcdef"),
            hidden("attrs.empty", ""),
        ];
        let leaks = scan_output(&files, &h, true, &detectors(), None);
        assert_eq!(
            summary(&leaks),
            [
                (
                    "v1/a.html",
                    2,
                    "a",
                    "attrs.raw_extra.name",
                    Form::HtmlEntity
                ),
                (
                    "v1/b.html",
                    2,
                    "a",
                    "attrs.raw_extra.name",
                    Form::HtmlEntity
                ),
                (
                    "v1/b.html",
                    3,
                    "a",
                    "attrs.raw_extra.name",
                    Form::UrlEscaped
                ),
                (
                    "v1/c.json",
                    1,
                    "a",
                    "attrs.raw_extra.name",
                    Form::JsonEscaped
                ),
                ("v1/c.json", 2, "a", "attrs.subject_ref", Form::Verbatim),
            ]
        );
        assert_eq!(leaks[0].column, 5);

        let drafts = leak_drafts("public", &leaks);
        let keys: Vec<_> = drafts
            .iter()
            .map(|d| {
                (
                    d.subject.as_str(),
                    d.discriminator.as_str(),
                    d.level,
                    d.count,
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("build:public", "a|v1/a.html", Level::Deny, Some(1)),
                ("build:public", "a|v1/b.html", Level::Deny, Some(2)),
                ("build:public", "a|v1/c.json", Level::Deny, Some(2)),
            ]
        );
        for d in &drafts {
            assert!(
                !d.message.contains("Brien") && !d.message.contains("hmac:"),
                "{}",
                d.message
            );
            assert!(
                d.evidence
                    .iter()
                    .all(|e| !e.note.as_deref().unwrap_or("").contains("Brien"))
            );
        }
        assert_eq!(drafts[1].evidence[1].line, 3);
        assert_eq!(drafts[1].evidence[1].path, "v1/b.html");
    }

    #[test]
    fn detectors_and_pseudonyms_only_where_there_is_no_drill_down() {
        let files = vec![(
            "v2/decisions.html".to_string(),
            b"<h1>Decisions</h1>\n<td>dana&#64;example.com</td><td>hmac:k2026:9c1e0123456789ab</td>\n<p>credit-risk@1.4.0 sha256:0123</p>".to_vec(),
        )];
        let pseudonym = Regex::new(r"hmac:[A-Za-z0-9._-]+:[0-9a-f]{16,}").unwrap();
        let leaks = scan_output(&files, &[], false, &detectors(), Some(&pseudonym));
        assert_eq!(
            summary(&leaks),
            [
                ("v2/decisions.html", 2, "b", "email", Form::HtmlEntity),
                ("v2/decisions.html", 2, "b", "pseudonym", Form::Verbatim),
            ]
        );
        let drafts = leak_drafts("public", &leaks);
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].discriminator, "b|v2/decisions.html");
        assert!(!drafts[0].message.contains("dana"));
        // With drill-down (the regulator) the same file passes (b).
        assert!(scan_output(&files, &[], true, &detectors(), Some(&pseudonym)).is_empty());
    }

    #[test]
    fn decoders_map_back_to_input_offsets() {
        let v = json_unescape(br#"a\u00e9\ud83d\ude00\n"#);
        assert_eq!(
            String::from_utf8(v.bytes.clone()).unwrap(),
            "a\u{e9}\u{1f600}\n"
        );
        assert_eq!(v.origin[1], 1);
        assert_eq!(*v.origin.last().unwrap(), 19);
        let v = url_decode(b"a%40b+c%zz");
        assert_eq!(v.bytes, b"a@b c%zz");
        let v = html_decode(b"&lt;&#x40;&bogus;&");
        assert_eq!(v.bytes, b"<@&bogus;&");
        assert_eq!(locate(b"ab\ncd", 4), (2, 2));
    }
}
