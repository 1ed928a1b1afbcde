//! The parts of `trailbook.toml` that adapters and joins read: `[source.map]` of a `csv` source
//! and `[[link]]` entries (`SOURCES.md`, "Linking sources"). Each problem is reported with its
//! span, like every other config problem.

use std::collections::BTreeMap;
use std::ops::Range;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::LINK_RELATIONS;
use super::schema::{Field, Problem, Ty, opt, suggest};
use crate::event::{EntityType, NodeId};

/// The envelope fields a `[source.map]` key may name; `attrs.PATH` names an attribute.
pub const MAP_FIELDS: &[&str] = &[
    "id",
    "ts",
    "recorded_ts",
    "kind",
    "actor.id",
    "actor.type",
    "actor.role",
    "system",
    "env",
    "subject.type",
    "subject.id",
    "reason",
];

/// The keys a `csv` source's map must give.
pub const MAP_REQUIRED: &[&str] = &["ts", "kind", "actor.id", "actor.type"];

/// A `[source.map]` value: a CSV column, or a literal written in single quotes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapValue<'a> {
    Column(&'a str),
    Literal(&'a str),
}

pub fn map_value(s: &str) -> MapValue<'_> {
    match s
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
    {
        Some(lit) if s.len() >= 2 => MapValue::Literal(lit),
        _ => MapValue::Column(s),
    }
}

fn check_target(key: &str) -> Result<(), String> {
    if MAP_FIELDS.contains(&key) {
        return Ok(());
    }
    if let Some(path) = key.strip_prefix("attrs.") {
        if !path.is_empty() && path.split('.').all(|p| !p.is_empty()) {
            return Ok(());
        }
        return Err(format!(
            "`{key}`: an attribute path is `attrs.NAME` or `attrs.NAME.SUB`, without empty parts"
        ));
    }
    let hint = suggest(key, MAP_FIELDS)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    Err(format!(
        "unknown target field `{key}`; {hint}a map key is one of {} or `attrs.NAME`",
        MAP_FIELDS.join(", ")
    ))
}

/// The `(dotted key, value)` pairs of a map table, nested tables (`actor.id = "user"` written
/// without quotes) flattened into dotted keys.
fn flatten<'a, 'b>(
    table: &'b DeTable<'a>,
    prefix: &str,
    out: &mut Vec<(String, Range<usize>, &'b Spanned<DeValue<'a>>)>,
) {
    for (k, v) in table.iter() {
        let key = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        match v.get_ref() {
            DeValue::Table(t) => flatten(t, &key, out),
            _ => out.push((key, k.span(), v)),
        }
    }
}

/// `[source.map]`: every key a known target field, every value a column name or a `'literal'`.
pub fn walk_map(value: &Spanned<DeValue<'_>>, path: &str, out: &mut Vec<Problem>) {
    let DeValue::Table(t) = value.get_ref() else {
        out.push(Problem {
            message: format!("`{path}` must be a table of `field = \"column\"`"),
            span: value.span(),
        });
        return;
    };
    let mut items = Vec::new();
    flatten(t, "", &mut items);
    for (key, key_span, v) in items {
        if let Err(e) = check_target(&key) {
            out.push(Problem {
                message: format!("`{path}`: {e}"),
                span: key_span,
            });
            continue;
        }
        let DeValue::String(s) = v.get_ref() else {
            out.push(Problem {
                message: format!(
                    "`{path}.\"{key}\"` must be a string: a CSV column name, or a literal in single quotes (`'access'`)"
                ),
                span: v.span(),
            });
            continue;
        };
        let problem = match map_value(s) {
            MapValue::Column("") => Some("is empty: name a CSV column".to_string()),
            MapValue::Column(c) if c.starts_with('\'') => Some(format!(
                "`{c}` opens a quoted literal but does not close it with `'`"
            )),
            MapValue::Column(_) => None,
            MapValue::Literal(lit) => check_literal(&key, lit).err(),
        };
        if let Some(p) = problem {
            out.push(Problem {
                message: format!("`{path}.\"{key}\"` {p}"),
                span: v.span(),
            });
        }
    }
}

fn check_literal(key: &str, lit: &str) -> Result<(), String> {
    match key {
        "actor.type" if !["human", "service", "system"].contains(&lit) => Err(format!(
            "is `'{lit}'`: an actor type is 'human', 'service' or 'system'"
        )),
        "subject.type" if EntityType::parse(lit).is_none() => Err(format!(
            "is `'{lit}'`, which is not an entity type ({})",
            entity_types()
        )),
        "ts" | "recorded_ts" => {
            crate::ingest::adapter::parse_time_str(lit, crate::ingest::adapter::Zoneless::Reject)
                .map(|_| ())
                .map_err(|e| format!("is not a time: {e}"))
        }
        _ if lit.is_empty() => Err("is an empty literal".to_string()),
        _ => Ok(()),
    }
}

fn entity_types() -> String {
    EntityType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Cross-field checks of one `[[source]]`: a `csv` source has a map with the required fields;
/// other formats have none.
pub fn check_source_map(t: &DeTable<'_>, span: Range<usize>, out: &mut Vec<Problem>) {
    let format = match t.get("format").map(Spanned::get_ref) {
        Some(DeValue::String(f)) => f.as_ref(),
        _ => return,
    };
    let map = t.get("map");
    if format != "csv" {
        if let Some(m) = map {
            out.push(Problem {
                message: format!(
                    "`map` applies to `format = \"csv\"` sources only; this source is `{format}`"
                ),
                span: m.span(),
            });
        }
        return;
    }
    let Some(m) = map else {
        out.push(Problem {
            message: format!(
                "a `csv` source needs a `[source.map]` table naming the column (or a 'literal') of at least {}",
                MAP_REQUIRED.join(", ")
            ),
            span,
        });
        return;
    };
    let DeValue::Table(table) = m.get_ref() else {
        return;
    };
    let mut items = Vec::new();
    flatten(table, "", &mut items);
    let keys: Vec<&str> = items.iter().map(|(k, _, _)| k.as_str()).collect();
    let missing: Vec<&str> = MAP_REQUIRED
        .iter()
        .copied()
        .filter(|k| !keys.contains(k))
        .collect();
    if !missing.is_empty() {
        out.push(Problem {
            message: format!(
                "`[source.map]` lacks {}: every event needs them (write a column name, or a literal such as `\"actor.type\" = \"'service'\"`)",
                missing
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            span: m.span(),
        });
    }
    if keys.contains(&"subject.type") != keys.contains(&"subject.id") {
        out.push(Problem {
            message: "`subject.type` and `subject.id` go together: map both or neither".into(),
            span: m.span(),
        });
    }
}

/// Deserializes `[source.map]`, nested tables flattened into dotted keys.
pub fn de_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    fn walk(
        t: toml::Table,
        prefix: &str,
        out: &mut BTreeMap<String, String>,
    ) -> Result<(), String> {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(t, &key, out)?,
                toml::Value::String(s) => {
                    out.insert(key, s);
                }
                _ => return Err(format!("`map.{key}` must be a string")),
            }
        }
        Ok(())
    }
    let t = toml::Table::deserialize(d)?;
    let mut out = BTreeMap::new();
    walk(t, "", &mut out).map_err(serde::de::Error::custom)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// [[link]]

fn check_node_id(s: &str) -> Result<(), String> {
    match NodeId::parse(s) {
        Some(_) => Ok(()),
        None => Err(format!(
            "`{s}` is not a `TYPE:ID` node id with an entity type ({})",
            entity_types()
        )),
    }
}

fn check_entity_type(s: &str) -> Result<(), String> {
    match EntityType::parse(s) {
        Some(_) => Ok(()),
        None => Err(format!("`{s}` is not an entity type ({})", entity_types())),
    }
}

fn check_regex(s: &str) -> Result<(), String> {
    Regex::new(s)
        .map(|_| ())
        .map_err(|e| format!("not a valid regular expression: {e}"))
}

const MATCH: &[Field] = &[
    super::schema::req("type", Ty::Checked(check_entity_type)),
    super::schema::req("id", Ty::Checked(check_regex)),
];

pub const LINK: &[Field] = &[
    opt("same", Ty::CheckedStrs(check_node_id)),
    opt("rule", Ty::Str),
    opt("match", Ty::Table(MATCH)),
    opt("serves", Ty::Str),
    opt("consumes", Ty::Str),
    opt("produces", Ty::Str),
    opt("trained_on", Ty::Str),
    opt("derived_from", Ty::Str),
    opt("describes", Ty::Str),
    opt("decided_by", Ty::Str),
    opt("affects", Ty::Str),
    opt("parent_of", Ty::Str),
];

/// One piece of a relation template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    /// `{name}`: a named capture of the `match.id` expression.
    Capture(String),
    /// `{label:NAME}`: a label of the matched event (see `docs/links.md`).
    Label(String),
    /// `{attr:a.b}`: the attribute at this dotted path of the matched event's `attrs`.
    Attr(String),
}

/// Parses a relation template such as `model_version:{model}@{label:model-version}`; `{{` and
/// `}}` are literal braces.
pub fn parse_template(s: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(format!("`{{{name}` is not closed with `}}`"));
                }
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                let piece = match name.split_once(':') {
                    Some(("label", n)) if !n.is_empty() => Piece::Label(n.to_string()),
                    Some(("attr", p)) if !p.is_empty() && p.split('.').all(|x| !x.is_empty()) => {
                        Piece::Attr(p.to_string())
                    }
                    None if !name.is_empty() => Piece::Capture(name),
                    _ => {
                        return Err(format!(
                            "`{{{name}}}` is not a placeholder: use `{{CAPTURE}}`, `{{label:NAME}}` or `{{attr:PATH}}`"
                        ));
                    }
                };
                out.push(piece);
            }
            '}' => return Err("a lone `}` (write `}}` for a literal brace)".to_string()),
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Ok(out)
}

/// Cross-field checks of `[[link]]`: each entry is either `same` (two or more node ids, each in
/// one entry only) or a pattern rule (`match` and at least one relation whose template names only
/// captures of the expression and starts with an entity type).
pub fn check_links(doc: &DeTable<'_>, out: &mut Vec<Problem>) {
    let Some(DeValue::Array(items)) = doc.get("link").map(Spanned::get_ref) else {
        return;
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let DeValue::Table(t) = item.get_ref() else {
            continue;
        };
        let path = format!("link[{i}]");
        let mut problem = |message: String, span: Range<usize>| out.push(Problem { message, span });
        let same = t.get("same");
        let pattern = t.get("match");
        let rels: Vec<(&str, &Spanned<DeValue<'_>>)> = LINK_RELATIONS
            .iter()
            .filter_map(|r| t.get(*r).map(|v| (*r, v)))
            .collect();
        match (same, pattern) {
            (Some(s), Some(_)) => problem(
                format!(
                    "`{path}` has both `same` and `match`: a link is either a same-as list or a pattern rule; split it into two `[[link]]` entries"
                ),
                s.span(),
            ),
            (None, None) => problem(
                format!(
                    "`{path}` needs `same = [\"TYPE:ID\", …]` or `match = {{ type, id }}` with a relation ({})",
                    LINK_RELATIONS.join(", ")
                ),
                item.span(),
            ),
            _ => {}
        }
        if let Some(s) = same
            && let DeValue::Array(ids) = s.get_ref()
        {
            if ids.len() < 2 {
                problem(
                    format!(
                        "`{path}.same` must list at least two node ids (the first is the canonical one)"
                    ),
                    s.span(),
                );
            }
            let first_type = ids.iter().find_map(|id| match id.get_ref() {
                DeValue::String(v) => NodeId::parse(v).and_then(|n| n.entity_type()),
                _ => None,
            });
            for id in ids.iter() {
                let DeValue::String(v) = id.get_ref() else {
                    continue;
                };
                if let (Some(want), Some(ty)) =
                    (first_type, NodeId::parse(v).and_then(|n| n.entity_type()))
                    && ty != want
                {
                    problem(
                        format!(
                            "`{v}` is a `{ty}`, but `{path}.same` joins `{want}` ids: the ids of a `same` list name one entity, so they share its type"
                        ),
                        id.span(),
                    );
                }
                if let Some(prev) = seen.insert(v.to_string(), i) {
                    let msg = if prev == i {
                        format!("`{v}` is listed twice in `{path}.same`")
                    } else {
                        format!(
                            "`{v}` is already in `link[{prev}].same`: an id may be joined by one `same` list only (merge the two lists)"
                        )
                    };
                    problem(msg, id.span());
                }
            }
            for (r, v) in &rels {
                problem(
                    format!(
                        "`{path}.{r}` needs a `match`: relations belong to pattern rules, not to `same` lists"
                    ),
                    v.span(),
                );
            }
        }
        let Some(m) = pattern else {
            if same.is_none() {
                for (r, v) in &rels {
                    problem(
                        format!("`{path}.{r}` needs a `match = {{ type, id }}`"),
                        v.span(),
                    );
                }
            }
            continue;
        };
        if rels.is_empty() {
            problem(
                format!(
                    "`{path}` matches entities but states no relation; add one of {} (e.g. `serves = \"model_version:{{model}}@{{label:model-version}}\"`)",
                    LINK_RELATIONS.join(", ")
                ),
                m.span(),
            );
        }
        let names: Option<Vec<String>> = match m.get_ref() {
            DeValue::Table(mt) => match mt.get("id").map(Spanned::get_ref) {
                Some(DeValue::String(re)) => Regex::new(re)
                    .ok()
                    .map(|r| r.capture_names().flatten().map(str::to_string).collect()),
                _ => None,
            },
            _ => None,
        };
        for (r, v) in &rels {
            let DeValue::String(tpl) = v.get_ref() else {
                continue;
            };
            let pieces = match parse_template(tpl) {
                Ok(p) => p,
                Err(e) => {
                    problem(format!("`{path}.{r}`: {e}"), v.span());
                    continue;
                }
            };
            match pieces.first() {
                Some(Piece::Lit(l))
                    if l.split_once(':')
                        .is_some_and(|(ty, _)| EntityType::parse(ty).is_some()) => {}
                _ => problem(
                    format!(
                        "`{path}.{r}` = `{tpl}` must start with `TYPE:` naming an entity type ({})",
                        entity_types()
                    ),
                    v.span(),
                ),
            }
            if let Some(names) = &names {
                for p in &pieces {
                    if let Piece::Capture(c) = p
                        && !names.contains(c)
                    {
                        let known = if names.is_empty() {
                            "the expression has no named group; write one as `(?P<name>…)`"
                                .to_string()
                        } else {
                            format!("its named groups are {}", names.join(", "))
                        };
                        problem(
                            format!(
                                "`{path}.{r}` uses `{{{c}}}`, which is not a named group of `match.id`; {known}"
                            ),
                            v.span(),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn problems(text: &str) -> Vec<String> {
        match super::super::parse(text, Path::new("t.toml")) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems.into_iter().map(|p| p.message).collect(),
        }
    }

    const CSV: &str = "[[source]]\nname = \"a\"\nformat = \"csv\"\npaths = [\"a.csv\"]\n";

    #[test]
    fn csv_maps_are_checked_with_spans() {
        let ok = format!(
            "{CSV}[source.map]\nts = \"when\"\nkind = \"'access'\"\n\"actor.id\" = \"user\"\nactor.type = \"'human'\"\n\"attrs.action\" = \"op\"\n"
        );
        assert!(problems(&ok).is_empty(), "{:?}", problems(&ok));
        let c = super::super::parse(&ok, Path::new("t.toml")).unwrap();
        assert_eq!(c.sources[0].map["actor.type"], "'human'");
        assert_eq!(c.sources[0].map["attrs.action"], "op");

        let bad = format!(
            "{CSV}[source.map]\nts = \"when\"\nkind = \"'access'\"\n\"actor.id\" = \"user\"\n\"actor.type\" = \"'robot'\"\n\"actr.role\" = \"r\"\n"
        );
        let err = super::super::parse(&bad, Path::new("t.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown target field `actr.role`"), "{text}");
        assert!(text.contains("did you mean `actor.role`"), "{text}");
        assert!(
            text.contains("t.toml:10:1"),
            "file:line:column of the key: {text}"
        );
        assert!(text.contains("'human', 'service' or 'system'"), "{text}");
        let p = problems(&format!(
            "{CSV}[source.map]\nts = \"when\"\nkind = \"'access'\"\n\"actor.id\" = \"user\"\n\"actor.type\" = \"'human'\"\n\"subject.id\" = \"x\"\n"
        ))
        .join("\n");
        assert!(
            p.contains("`subject.type` and `subject.id` go together"),
            "{p}"
        );

        let p = problems(CSV).join("\n");
        assert!(p.contains("a `csv` source needs a `[source.map]`"), "{p}");
        let p = problems(&format!("{CSV}[source.map]\nts = \"t\"\n")).join("\n");
        assert!(p.contains("lacks `kind`, `actor.id`, `actor.type`"), "{p}");
        let p = problems(
            "[[source]]\nname = \"a\"\nformat = \"openlineage\"\npaths = [\"a\"]\n[source.map]\nts = \"t\"\n",
        )
        .join("\n");
        assert!(
            p.contains("`map` applies to `format = \"csv\"` sources only"),
            "{p}"
        );
    }

    const OK: &str =
        "[[source]]\nname = \"a\"\nformat = \"trailbook-jsonl\"\npaths = [\"a.jsonl\"]\n";

    #[test]
    fn links_are_checked_with_spans() {
        let good = format!(
            "{OK}[[link]]\nsame = [\"dataset:postgres://db/public.loans\", \"dataset:main.risk.loans\"]\n\n[[link]]\nrule = \"k8s deployment name → model\"\nmatch = {{ type = \"deployment\", id = \"^scoring-(?P<model>.+)$\" }}\nserves = \"model_version:{{model}}@{{label:model-version}}\"\n"
        );
        assert!(problems(&good).is_empty(), "{:?}", problems(&good));
        let c = super::super::parse(&good, Path::new("t.toml")).unwrap();
        assert_eq!(c.links.len(), 2);
        assert_eq!(c.links[0].line, 5);
        assert_eq!(c.links[1].line, 8);
        assert_eq!(
            c.links[1].relations(),
            [("serves", "model_version:{model}@{label:model-version}")]
        );

        let p = problems(&format!(
            "{OK}[[link]]\nsame = [\"dataset:a\", \"loans\"]\n[[link]]\nmatch = {{ type = \"depl\", id = \"(\" }}\nserves = \"x\"\n"
        ))
        .join("\n");
        for needle in [
            "`link[0].same`: `loans` is not a `TYPE:ID` node id",
            "`link[1].match.type`: `depl` is not an entity type",
            "`link[1].match.id`: not a valid regular expression",
        ] {
            assert!(p.contains(needle), "missing {needle:?} in:\n{p}");
        }
        let p = problems(&format!(
            "{OK}[[link]]\nsame = [\"dataset:a\"]\n[[link]]\nsame = [\"dataset:a\", \"dataset:b\"]\nserves = \"deployment:x\"\n[[link]]\nmatch = {{ type = \"deployment\", id = \"^scoring-(?P<model>.+)$\" }}\nserves = \"model_version:{{modle}}@1\"\nconsumes = \"{{model}}\"\n[[link]]\nrule = \"lonely\"\n[[link]]\nmatch = {{ type = \"run\", id = \".\" }}\n"
        ))
        .join("\n");
        for needle in [
            "`link[0].same` must list at least two node ids",
            "`dataset:a` is already in `link[0].same`",
            "`link[1].serves` needs a `match`",
            "uses `{modle}`, which is not a named group of `match.id`; its named groups are model",
            "`link[2].consumes` = `{model}` must start with `TYPE:`",
            "`link[3]` needs `same = [\"TYPE:ID\", …]` or `match",
            "`link[4]` matches entities but states no relation",
        ] {
            assert!(p.contains(needle), "missing {needle:?} in:\n{p}");
        }
    }

    #[test]
    fn templates_parse_into_pieces() {
        assert_eq!(
            parse_template("model_version:{m}@{label:v}-{attr:a.b}{{x}}").unwrap(),
            [
                Piece::Lit("model_version:".into()),
                Piece::Capture("m".into()),
                Piece::Lit("@".into()),
                Piece::Label("v".into()),
                Piece::Lit("-".into()),
                Piece::Attr("a.b".into()),
                Piece::Lit("{x}".into()),
            ]
        );
        assert!(parse_template("a:{b").is_err());
        assert!(parse_template("a:{label:}").is_err());
        assert!(parse_template("a:}").is_err());
    }

    #[test]
    fn map_values_are_columns_or_literals() {
        assert_eq!(map_value("'access'"), MapValue::Literal("access"));
        assert_eq!(map_value("user"), MapValue::Column("user"));
        assert_eq!(map_value("'"), MapValue::Column("'"));
    }
}
