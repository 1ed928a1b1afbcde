//! A declarative schema for `trailbook.toml`, checked over the spanned TOML tree.
//!
//! serde stops at the first problem; a user fixing a config wants all of them at once, each with
//! its line and column. So the document is first parsed into toml's spanned tree and walked
//! against [`Field`] tables here, collecting every problem. Only a config without problems is then
//! deserialized into the typed [`super::Config`].

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One problem in the config file, at a byte span of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub span: Range<usize>,
}

pub type Check = fn(&str) -> Result<(), String>;
pub type Walk = fn(&Spanned<DeValue<'_>>, &str, &mut Vec<Problem>);

/// The expected shape of a value.
pub enum Ty {
    Str,
    Int {
        min: i64,
    },
    Bool,
    Strs,
    /// A string that a check function accepts.
    Checked(Check),
    /// An array of strings that each pass the check.
    CheckedStrs(Check),
    Enum(&'static [&'static str]),
    Table(&'static [Field]),
    /// An array of tables (`[[x]]`).
    Tables(&'static [Field]),
    /// A table whose keys are free (checked by the function) and whose values have one shape.
    MapOf(Check, &'static Ty),
    /// Anything: the value is walked by a function of its own.
    Custom(Walk),
}

pub struct Field {
    pub key: &'static str,
    pub ty: Ty,
    pub required: bool,
}

pub const fn opt(key: &'static str, ty: Ty) -> Field {
    Field {
        key,
        ty,
        required: false,
    }
}

pub const fn req(key: &'static str, ty: Ty) -> Field {
    Field {
        key,
        ty,
        required: true,
    }
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a TOML datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn push(out: &mut Vec<Problem>, span: Range<usize>, message: String) {
    out.push(Problem { message, span });
}

/// Checks a table against its fields; `path` names it in messages (`[policy]`).
pub fn walk_table(
    table: &DeTable<'_>,
    span: Range<usize>,
    fields: &[Field],
    path: &str,
    out: &mut Vec<Problem>,
) {
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        match fields.iter().find(|f| f.key == name) {
            Some(field) => walk_value(value, &field.ty, &join(path, name), out),
            None => {
                let known: Vec<&str> = fields.iter().map(|f| f.key).collect();
                let hint = suggest(name, &known)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("; expected one of: {}", known.join(", ")));
                push(
                    out,
                    key.span(),
                    format!("unknown key `{name}` in {}{hint}", describe(path)),
                );
            }
        }
    }
    for field in fields.iter().filter(|f| f.required) {
        if !table.contains_key(field.key) {
            push(
                out,
                span.clone(),
                format!(
                    "{} is missing the required key `{}`",
                    describe(path),
                    field.key
                ),
            );
        }
    }
}

fn describe(path: &str) -> String {
    if path.is_empty() {
        "the top level".to_string()
    } else {
        format!("`{path}`")
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else if key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        format!("{path}.{key}")
    } else {
        format!("{path}.\"{key}\"")
    }
}

/// Checks one value against its expected shape.
pub fn walk_value(value: &Spanned<DeValue<'_>>, ty: &Ty, path: &str, out: &mut Vec<Problem>) {
    let span = value.span();
    let v = value.get_ref();
    let wrong = |out: &mut Vec<Problem>, want: &str| {
        push(
            out,
            span.clone(),
            format!("`{path}` must be {want}, found {}", type_name(v)),
        );
    };
    match (ty, v) {
        (Ty::Str, DeValue::String(_)) | (Ty::Bool, DeValue::Boolean(_)) => {}
        (Ty::Str, _) => wrong(out, "a string"),
        (Ty::Bool, _) => wrong(out, "a boolean (true or false)"),
        (Ty::Int { min }, DeValue::Integer(i)) => {
            match i.as_str().replace('_', "").parse::<i64>() {
                Ok(n) if n >= *min => {}
                _ => push(out, span, format!("`{path}` must be an integer ≥ {min}")),
            }
        }
        (Ty::Int { .. }, _) => wrong(out, "an integer"),
        (Ty::Checked(check), DeValue::String(s)) => {
            if let Err(e) = check(s) {
                push(out, span, format!("`{path}`: {e}"));
            }
        }
        (Ty::Checked(_), _) => wrong(out, "a string"),
        (Ty::Enum(options), DeValue::String(s)) => {
            if !options.contains(&s.as_ref()) {
                let hint = suggest(s, options)
                    .map(|x| format!(" (did you mean `{x}`?)"))
                    .unwrap_or_default();
                push(
                    out,
                    span,
                    format!(
                        "`{path}` must be one of {}, found `{s}`{hint}",
                        quoted(options)
                    ),
                );
            }
        }
        (Ty::Enum(options), _) => wrong(out, &format!("one of {}", quoted(options))),
        (Ty::Strs, DeValue::Array(items)) | (Ty::CheckedStrs(_), DeValue::Array(items)) => {
            for item in items.iter() {
                match (ty, item.get_ref()) {
                    (Ty::CheckedStrs(check), DeValue::String(s)) => {
                        if let Err(e) = check(s) {
                            push(out, item.span(), format!("`{path}`: {e}"));
                        }
                    }
                    (_, DeValue::String(_)) => {}
                    (_, other) => push(
                        out,
                        item.span(),
                        format!(
                            "`{path}` must hold strings only, found {}",
                            type_name(other)
                        ),
                    ),
                }
            }
        }
        (Ty::Strs | Ty::CheckedStrs(_), _) => wrong(out, "an array of strings"),
        (Ty::Table(fields), DeValue::Table(t)) => walk_table(t, span, fields, path, out),
        (Ty::Table(_), _) => wrong(out, "a table"),
        (Ty::Tables(fields), DeValue::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item.get_ref() {
                    DeValue::Table(t) => {
                        walk_table(t, item.span(), fields, &format!("{path}[{i}]"), out)
                    }
                    other => push(
                        out,
                        item.span(),
                        format!("`{path}` must hold tables, found {}", type_name(other)),
                    ),
                }
            }
        }
        (Ty::Tables(_), _) => wrong(out, "an array of tables (`[[…]]`)"),
        (Ty::MapOf(check_key, inner), DeValue::Table(t)) => {
            for (key, item) in t.iter() {
                let name = key.get_ref().as_ref();
                if let Err(e) = check_key(name) {
                    push(out, key.span(), format!("`{}`: {e}", join(path, name)));
                    continue;
                }
                walk_value(item, inner, &join(path, name), out);
            }
        }
        (Ty::MapOf(..), _) => wrong(out, "a table"),
        (Ty::Custom(f), _) => f(value, path, out),
    }
}

fn quoted(options: &[&str]) -> String {
    options
        .iter()
        .map(|o| format!("`{o}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The closest known name within a small edit distance, for "did you mean".
pub fn suggest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    // Optimal string alignment: insertions, deletions, substitutions and adjacent transpositions.
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_names_only() {
        assert_eq!(suggest("pakcs", &["packs", "levels"]), Some("packs"));
        assert_eq!(suggest("zzzzzz", &["packs", "levels"]), None);
    }
}
