//! Diagnostics for people: codespan-style snippets that point into a file.
//!
//! Config problems and findings both render here, as plain text (no colour codes, so output is
//! the same in a terminal, a CI log and a test snapshot).

use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

/// Renders one error diagnostic per `(message, span)` over `text`, named `name`.
pub fn render_spans<'a>(name: &str, text: &str, items: impl Iterator<Item = (&'a str, Range<usize>)>) -> String {
    let file = SimpleFile::new(name, text);
    let config = Config::default();
    let mut out = String::new();
    for (message, span) in items {
        let span = clamp(span, text);
        let diagnostic = Diagnostic::error().with_message(message).with_labels(vec![Label::primary((), span)]);
        if term::emit_to_string(&mut out, &config, &file, &diagnostic).is_err() {
            out.push_str(&format!("error: {message}\n"));
        }
    }
    out
}

/// Renders one diagnostic over a single line of an input file, with its line number kept.
///
/// `line_text` is the line's text (lossily decoded when it was not UTF-8), `line` its 1-based
/// number in `path`, `column` a 1-based byte column inside it.
pub fn render_line(
    severity: Severity,
    header: &str,
    path: &str,
    line_text: &str,
    line: u64,
    column: Option<usize>,
    label: &str,
    notes: Vec<String>,
) -> String {
    // A file of `line - 1` empty lines and then the line gives codespan the right line number
    // without reading the whole input again.
    let pad = usize::try_from(line.saturating_sub(1)).unwrap_or(0);
    let shown = crate::time::clip(line_text, 400);
    let mut source = String::with_capacity(pad + shown.len() + 1);
    source.extend(std::iter::repeat_n('\n', pad));
    source.push_str(&shown);
    source.push('\n');
    let start = pad + column.map_or(0, |c| c.saturating_sub(1)).min(shown.len());
    let start = floor_char_boundary(&source, start);
    let end = next_char_boundary(&source, start);
    let file = SimpleFile::new(path, source.as_str());
    let diagnostic = Diagnostic::new(severity)
        .with_message(header)
        .with_labels(vec![Label::primary((), start..end).with_message(label)])
        .with_notes(notes);
    let mut out = String::new();
    if term::emit_to_string(&mut out, &Config::default(), &file, &diagnostic).is_err() {
        out = format!("{header}\n  --> {path}:{line}\n");
    }
    out
}

fn clamp(span: Range<usize>, text: &str) -> Range<usize> {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let end = floor_char_boundary(text, span.end.clamp(start, text.len()));
    start..end
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn next_char_boundary(s: &str, i: usize) -> usize {
    let mut j = (i + 1).min(s.len());
    while !s.is_char_boundary(j) {
        j += 1;
    }
    j
}
