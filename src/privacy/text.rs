//! Free text of a redacted view: finding messages, notes, quarantine reasons, rationales,
//! changelogs. Two passes over each string:
//!
//! 1. the *dictionary*: every value a path rule hides and every replaced entity id, with its
//!    replacement, found where it stands as a whole word (not inside a longer word, so the actor
//!    `bo` is replaced in "`bo` approved" and not in "board"); the longest value wins at a place;
//! 2. the *detectors* (PRV-01's, with the configured patterns): each match replaced by its
//!    pseudonym or by `[DETECTOR]`, as the profile says.
//!
//! The dictionary is a hash map probed at word boundaries, so its cost does not grow with the
//! number of hidden values (a million pseudonymised subject references are a million entries).

use std::collections::HashMap;

use super::key::Key;
use super::profile::Detected;
use crate::checks::privacy::Detectors;

/// Values at most this long are looked up at every word boundary; longer ones (rare: a dropped
/// free-text field quoted whole) are searched for directly.
const MAX_PROBE: usize = 160;

/// Word characters: a dictionary value must not continue into one of these on either side.
fn word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Replaces hidden values and detector matches in text.
#[derive(Default)]
pub struct Scrubber<'a> {
    dict: HashMap<String, String>,
    long: Vec<(String, String)>,
    max_len: usize,
    /// The byte lengths of the dictionary's values, and their first bytes: most places in a
    /// text are then rejected without hashing anything.
    lengths: Vec<bool>,
    first: Vec<bool>,
    detectors: Option<&'a Detectors>,
    detected: Option<Detected>,
    key: Option<&'a Key>,
}

impl<'a> Scrubber<'a> {
    pub fn new(detectors: &'a Detectors, detected: Detected, key: Option<&'a Key>) -> Scrubber<'a> {
        Scrubber {
            detectors: (detected != Detected::Keep).then_some(detectors),
            detected: Some(detected),
            key,
            ..Scrubber::default()
        }
    }

    /// Adds a value and its replacement. Values shorter than two characters are not searched
    /// for in text (a one-letter value would rewrite every article).
    pub fn add(&mut self, value: &str, replacement: &str) {
        if value.chars().count() < 2 || value == replacement {
            return;
        }
        if value.len() > MAX_PROBE {
            if !self.long.iter().any(|(v, _)| v == value) {
                self.long.push((value.to_string(), replacement.to_string()));
            }
            return;
        }
        self.max_len = self.max_len.max(value.len());
        if self.lengths.is_empty() {
            self.lengths = vec![false; MAX_PROBE + 1];
            self.first = vec![false; 256];
        }
        self.lengths[value.len()] = true;
        self.first[usize::from(value.as_bytes()[0])] = true;
        self.dict
            .entry(value.to_string())
            .or_insert_with(|| replacement.to_string());
    }

    /// Takes the entries of another scrubber (built in parallel).
    pub fn merge(&mut self, other: Scrubber<'_>) {
        for (v, r) in other.dict {
            self.add(&v, &r);
        }
        for (v, r) in other.long {
            self.add(&v, &r);
        }
    }

    /// Orders the long values (longest first) once all are added.
    pub fn seal(&mut self) {
        self.long
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    }

    pub fn len(&self) -> usize {
        self.dict.len() + self.long.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The replacement of a whole value, if the dictionary holds it.
    pub fn get(&self, value: &str) -> Option<&str> {
        self.dict.get(value).map(String::as_str).or_else(|| {
            self.long
                .iter()
                .find(|(v, _)| v == value)
                .map(|(_, r)| r.as_str())
        })
    }

    /// The text with every dictionary value and detector match replaced.
    pub fn scrub(&self, text: &str) -> String {
        let text = self.dictionary(text);
        self.detect(&text)
    }

    /// The text with dictionary values replaced, detectors not run (for PRV-01's
    /// `skip_fields`, whose matches are declared not personal).
    pub fn scrub_dictionary_only(&self, text: &str) -> String {
        self.dictionary(text)
    }

    fn dictionary(&self, text: &str) -> String {
        let mut text = std::borrow::Cow::Borrowed(text);
        for (v, r) in &self.long {
            if text.contains(v.as_str()) {
                text = std::borrow::Cow::Owned(replace_words(&text, v, r));
            }
        }
        if self.dict.is_empty() {
            return text.into_owned();
        }
        // Word edges: where a word starts or ends, and every place inside non-word text.
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let n = chars.len();
        let at = |i: usize| if i < n { chars[i].0 } else { text.len() };
        let is_word = |i: usize| i < n && word(chars[i].1);
        let starts = |i: usize| i == 0 || !is_word(i - 1) || !is_word(i);
        let ends = |j: usize| j == n || !is_word(j) || !is_word(j - 1);
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < n {
            let mut hit = None;
            let a = at(i);
            if starts(i) && self.first[usize::from(bytes[a])] {
                // Longest candidate first: from the farthest end in reach back to i + 1, trying
                // only lengths some value has.
                let mut j = i + 1;
                while j < n && at(j + 1) - a <= self.max_len {
                    j += 1;
                }
                while j > i {
                    let len = at(j) - a;
                    if len <= self.max_len
                        && self.lengths[len]
                        && ends(j)
                        && let Some(r) = self.dict.get(&text[a..at(j)])
                    {
                        hit = Some((j, r));
                        break;
                    }
                    j -= 1;
                }
            }
            match hit {
                Some((j, r)) => {
                    out.push_str(r);
                    i = j;
                }
                None => {
                    out.push(chars[i].1);
                    i += 1;
                }
            }
        }
        out
    }

    fn detect(&self, text: &str) -> String {
        let (Some(detectors), Some(detected)) = (self.detectors, self.detected) else {
            return text.to_string();
        };
        let mut hits: Vec<(std::ops::Range<usize>, u16)> = Vec::new();
        detectors.scan(text, |d, r| hits.push((r, d)));
        if hits.is_empty() {
            return text.to_string();
        }
        hits.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for (r, d) in hits {
            if r.start < pos {
                continue; // inside a match already replaced
            }
            out.push_str(&text[pos..r.start]);
            let value = &text[r.clone()];
            match (detected, self.key) {
                (Detected::Pseudonymize, Some(key)) => out.push_str(&key.token(value)),
                _ => {
                    out.push('[');
                    out.push_str(detectors.name(d));
                    out.push(']');
                }
            }
            pos = r.end;
        }
        out.push_str(&text[pos..]);
        out
    }
}

/// `text` with each whole-word occurrence of `value` replaced.
fn replace_words(text: &str, value: &str, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (at, _) in text.match_indices(value) {
        if at < pos {
            continue;
        }
        let end = at + value.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        let first = value.chars().next();
        let last = value.chars().next_back();
        let edge_ok = |outer: Option<char>, inner: Option<char>| {
            !(outer.is_some_and(word) && inner.is_some_and(word))
        };
        if edge_ok(before, first) && edge_ok(after, last) {
            out.push_str(&text[pos..at]);
            out.push_str(replacement);
            pos = end;
        }
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detectors() -> Detectors {
        Detectors::new(
            &[crate::checks::privacy::DEFAULT_NATIONAL_ID.to_string()],
            &[],
        )
        .unwrap()
    }

    #[test]
    fn dictionary_values_are_replaced_as_whole_words_longest_first() {
        let d = detectors();
        let mut s = Scrubber::new(&d, Detected::Keep, None);
        s.add("bo", "P1");
        s.add("bo smith", "P2");
        s.add("cust-7", "P3");
        s.add("x", "never");
        assert_eq!(
            s.scrub("`bo` approved; bo smith signed; board, bob and abo stay"),
            "`P1` approved; P2 signed; board, bob and abo stay"
        );
        assert_eq!(
            s.scrub("decision:cust-7 and cust-77"),
            "decision:P3 and cust-77"
        );
        assert_eq!(
            s.scrub("x marks"),
            "x marks",
            "one-letter values are not searched"
        );
        let long = "l".repeat(200);
        s.add(&long, "P4");
        s.seal();
        assert_eq!(s.scrub(&format!("<{long}>")), "<P4>");
        assert_eq!(s.get("bo"), Some("P1"));
    }

    #[test]
    fn detector_matches_are_pseudonymised_or_masked() {
        let d = detectors();
        let key = Key::new("k1", b"0123456789abcdef");
        let s = Scrubber::new(&d, Detected::Pseudonymize, Some(&key));
        let out = s.scrub("mail dana@example.com, card 4111 1111 1111 1111, ssn 123-45-6789");
        assert_eq!(
            out,
            format!(
                "mail {}, card {}, ssn {}",
                key.token("dana@example.com"),
                key.token("4111 1111 1111 1111"),
                key.token("123-45-6789")
            )
        );
        let s = Scrubber::new(&d, Detected::Mask, None);
        assert_eq!(
            s.scrub("to dana@example.com or +4915123456789"),
            "to [email] or [phone]"
        );
        let s = Scrubber::new(&d, Detected::Keep, None);
        assert_eq!(s.scrub("dana@example.com"), "dana@example.com");
    }
}
