//! Diagnostics for people: codespan-style snippets that point into a file.
//!
//! Config problems render here, as plain text (no colour codes, so output is the same in a
//! terminal, a CI log and a test snapshot). Findings render in `report::text`.

use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

/// Renders one error diagnostic per `(message, span)` over `text`, named `name`.
pub fn render_spans<'a>(
    name: &str,
    text: &str,
    items: impl Iterator<Item = (&'a str, Range<usize>)>,
) -> String {
    let file = SimpleFile::new(name, text);
    let config = Config::default();
    let mut out = String::new();
    for (message, span) in items {
        let span = clamp(span, text);
        let diagnostic = Diagnostic::error()
            .with_message(message)
            .with_labels(vec![Label::primary((), span)]);
        if term::emit_to_string(&mut out, &config, &file, &diagnostic).is_err() {
            out.push_str(&format!("error: {message}\n"));
        }
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
