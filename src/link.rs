//! `[[link]]` joins across sources (`SOURCES.md`, "Linking sources"; `docs/links.md`), applied
//! to the ingested events before the model is built.
//!
//! - `same = ["TYPE:A", "TYPE:B", …]`: the ids name one entity; the first is canonical. Every
//!   subject and reference naming another id of the list is rewritten to the canonical one. An id
//!   written without `@VERSION` also joins the versions: `dataset:B@v` becomes `dataset:A@v` when
//!   both `A` and `B` are listed without a version. The ids an entity was also named by are kept
//!   ([`Ingest::aliases`]) and shown with it.
//! - `rule = "…"`, `match = { type, id = REGEX }` and relations such as
//!   `serves = "model_version:{model}@{label:model-version}"`: for every event whose subject is
//!   of that type and whose id the expression matches, each relation's template is filled from
//!   the named groups of the match and from that event's own attributes, and the event gains a
//!   reference `link.REL` to the resulting node. The graph turns it into an edge of that relation
//!   (`graph.rs`); a target that nothing registers is an unresolved node (LINK-01 (a)).
//! - An entry that changes nothing, or whose templates cannot be filled for a matched entity,
//!   is reported ([`LinkReport::problems`]) and becomes LINK-01 (c) for subject `config:link[N]`.
//!
//! Events are visited in ingest order and every collection is ordered, so the result is the same
//! for the same input.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regex::Regex;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::joins::{Piece, parse_template};
use crate::config::{Config, Link};
use crate::event::{EntityType, NodeId, Ref};
use crate::ingest::Ingest;

/// What one `[[link]]` entry did.
#[derive(Clone, Debug, Serialize)]
pub struct LinkReport {
    /// Position in config order (`link[N]`).
    pub index: usize,
    /// 1-based line of the entry in the config file.
    pub line: usize,
    /// `same`, or the rule's `rule` name (else `match`).
    pub name: String,
    /// `same`: subjects and references rewritten; rules: entities matched.
    pub matched: usize,
    /// Rules: distinct `(entity, relation, target)` stated.
    pub stated: usize,
    /// Why the entry did nothing, or less than it says (LINK-01 (c)); empty when it worked.
    pub problems: Vec<String>,
    /// Ids of the events where the problems show (of matched entities), at most
    /// [`MAX_EVIDENCE`].
    #[serde(skip)]
    pub evidence: Vec<String>,
}

const MAX_EVIDENCE: usize = 20;
/// How many failing entities a problem lists by id.
const MAX_LISTED: usize = 10;

/// The reference field of a link relation.
fn field_of(rel: &str) -> &'static str {
    match rel {
        "serves" => "link.serves",
        "consumes" => "link.consumes",
        "produces" => "link.produces",
        "trained_on" => "link.trained_on",
        "derived_from" => "link.derived_from",
        "describes" => "link.describes",
        "decided_by" => "link.decided_by",
        "affects" => "link.affects",
        "parent_of" => "link.parent_of",
        _ => "link",
    }
}

/// Applies the config's `[[link]]` entries to `ingest.events`; fills `ingest.links` and
/// `ingest.aliases`.
pub fn apply(config: &Config, ingest: &mut Ingest) {
    let mut reports: Vec<LinkReport> = config
        .links
        .iter()
        .enumerate()
        .map(|(i, l)| LinkReport {
            index: i,
            line: l.line,
            name: if l.same.is_empty() {
                l.rule.clone().unwrap_or_else(|| "match".to_string())
            } else {
                "same".to_string()
            },
            matched: 0,
            stated: 0,
            problems: Vec::new(),
            evidence: Vec::new(),
        })
        .collect();
    let same = Same::new(&config.links);
    if !same.map.is_empty() {
        same.apply(ingest, &mut reports);
    }
    for (i, link) in config.links.iter().enumerate() {
        if link.pattern.is_some() {
            apply_rule(link, &same, ingest, &mut reports[i]);
        }
    }
    for (i, link) in config.links.iter().enumerate() {
        if !link.same.is_empty() && reports[i].matched == 0 {
            let others = link.same.get(1..).unwrap_or_default();
            reports[i].problems.push(format!(
                "no event names {}: the join matched nothing (check the ids against the events' subjects and references, e.g. with `trailbook graph`)",
                others
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    ingest.links = reports;
}

/// The `same` lists: alias node id → (canonical node id, entry index).
struct Same {
    map: HashMap<String, (String, usize)>,
}

impl Same {
    fn new(links: &[Link]) -> Same {
        let mut map = HashMap::new();
        for (i, l) in links.iter().enumerate() {
            let Some((canon, rest)) = l.same.split_first() else {
                continue;
            };
            for a in rest {
                map.entry(a.clone()).or_insert((canon.clone(), i));
            }
        }
        Same { map }
    }

    /// The canonical node of `node`, with the entry that joins it.
    fn resolve(&self, node: &str) -> Option<(String, usize)> {
        if let Some((c, i)) = self.map.get(node) {
            return Some((c.clone(), *i));
        }
        // `TYPE:NAME@VERSION` with `TYPE:NAME` listed without a version.
        let (base, version) = node.rsplit_once('@')?;
        let (c, i) = self.map.get(base)?;
        (!c.contains('@')).then(|| (format!("{c}@{version}"), *i))
    }

    fn apply(&self, ingest: &mut Ingest, reports: &mut [LinkReport]) {
        for e in &mut ingest.events {
            if let Some(subject) = &mut e.subject {
                let node = subject.node();
                if let Some((canon, i)) = self.resolve(node.as_str()) {
                    let canon = NodeId::from(canon);
                    if canon.entity_type() == Some(subject.kind) {
                        subject.id = canon.id().into();
                        ingest.aliases.insert(node, canon);
                        reports[i].matched += 1;
                    }
                }
            }
            for r in &mut e.refs {
                if let Some((canon, i)) = self.resolve(r.target.as_str()) {
                    let canon = NodeId::from(canon);
                    ingest
                        .aliases
                        .insert(std::mem::replace(&mut r.target, canon.clone()), canon);
                    reports[i].matched += 1;
                }
            }
        }
    }
}

/// One pattern rule over the events.
fn apply_rule(link: &Link, same: &Same, ingest: &mut Ingest, report: &mut LinkReport) {
    let Some(pattern) = &link.pattern else {
        return;
    };
    let (Some(ty), Ok(re)) = (EntityType::parse(&pattern.kind), Regex::new(&pattern.id)) else {
        report
            .problems
            .push("its `match` cannot be used (config validation should have said why)".into());
        return;
    };
    let relations: Vec<(&'static str, Vec<Piece>)> = link
        .relations()
        .into_iter()
        .filter_map(|(rel, t)| parse_template(t).ok().map(|p| (field_of(rel), p)))
        .collect();
    let mut seen_ids: BTreeSet<String> = BTreeSet::new();
    let mut matched: BTreeSet<NodeId> = BTreeSet::new();
    let mut ok: BTreeSet<NodeId> = BTreeSet::new();
    // Per matched entity that no event could fill: the first reason and its event's origin.
    let mut failed: BTreeMap<NodeId, (String, String)> = BTreeMap::new();
    let mut stated: BTreeSet<(NodeId, &'static str, NodeId)> = BTreeSet::new();
    for e in &mut ingest.events {
        let Some(subject) = &e.subject else {
            continue;
        };
        if subject.kind != ty {
            continue;
        }
        seen_ids.insert(subject.id.to_string());
        let Some(caps) = re.captures(&subject.id) else {
            continue;
        };
        let node = subject.node();
        matched.insert(node.clone());
        let attrs = e.attrs();
        let mut new_refs = Vec::new();
        for (field, pieces) in &relations {
            match fill(pieces, &caps, &attrs) {
                Ok(target) => {
                    let target = same.resolve(&target).map_or(target, |(c, _)| c);
                    match NodeId::parse(&target) {
                        Some(t) => new_refs.push(Ref { field, target: t }),
                        None => {
                            failed.entry(node.clone()).or_insert((
                                format!("`{target}` is not a `TYPE:ID` node id"),
                                e.id.to_string(),
                            ));
                        }
                    }
                }
                Err(why) => {
                    failed
                        .entry(node.clone())
                        .or_insert((why, e.id.to_string()));
                }
            }
        }
        for r in new_refs {
            stated.insert((node.clone(), r.field, r.target.clone()));
            ok.insert(node.clone());
            if !e.refs.contains(&r) {
                e.refs.push(r);
            }
        }
    }
    report.matched = matched.len();
    report.stated = stated.len();
    if matched.is_empty() {
        let examples: Vec<String> = seen_ids
            .iter()
            .take(5)
            .map(|s| format!("`{}`", crate::time::clip(s, 60)))
            .collect();
        report.problems.push(if examples.is_empty() {
            format!(
                "no event has a `{}` subject, so `{}` matched nothing",
                pattern.kind, pattern.id
            )
        } else {
            format!(
                "no `{}` id matches `{}` ({} `{}` id{} seen, e.g. {})",
                pattern.kind,
                pattern.id,
                seen_ids.len(),
                pattern.kind,
                if seen_ids.len() == 1 { "" } else { "s" },
                examples.join(", ")
            )
        });
        return;
    }
    let unfilled: Vec<(&NodeId, &(String, String))> =
        failed.iter().filter(|(n, _)| !ok.contains(*n)).collect();
    if !unfilled.is_empty() {
        let listed: Vec<String> = unfilled
            .iter()
            .take(MAX_LISTED)
            .map(|(n, (why, _))| format!("`{n}`: {why}"))
            .collect();
        let more = if unfilled.len() > MAX_LISTED {
            format!("; and {} more", unfilled.len() - MAX_LISTED)
        } else {
            String::new()
        };
        report.problems.push(format!(
            "{} of {} matched `{}` entit{} states no relation, because no event of it fills the template: {}{more}",
            unfilled.len(),
            matched.len(),
            pattern.kind,
            if matched.len() == 1 { "y" } else { "ies" },
            listed.join("; ")
        ));
        report.evidence = unfilled
            .iter()
            .take(MAX_EVIDENCE)
            .map(|(_, (_, id))| id.clone())
            .collect();
    }
}

/// Fills a template from the match's named groups and the event's attributes.
fn fill(
    pieces: &[Piece],
    caps: &regex::Captures<'_>,
    attrs: &Map<String, Value>,
) -> Result<String, String> {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Lit(s) => out.push_str(s),
            Piece::Capture(name) => match caps.name(name) {
                Some(m) => out.push_str(m.as_str()),
                None => return Err(format!("the group `{name}` did not take part in the match")),
            },
            Piece::Label(name) => match label(attrs, name) {
                Some(v) => out.push_str(&v),
                None => {
                    return Err(format!(
                        "no label `{name}` (looked in every `labels` object of its attributes, then `tags`)"
                    ));
                }
            },
            Piece::Attr(path) => match attr(attrs, path) {
                Some(v) => out.push_str(&v),
                None => return Err(format!("no attribute `{path}` (a string or number)")),
            },
        }
    }
    Ok(out)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `{attr:a.b}`: the value at the dotted path of `attrs`.
fn attr(attrs: &Map<String, Value>, path: &str) -> Option<String> {
    let mut parts = path.split('.');
    let mut cur = attrs.get(parts.next()?)?;
    for p in parts {
        cur = cur.get(p)?;
    }
    scalar(cur)
}

/// `{label:NAME}`: NAME in the first `labels` object of `attrs` that has it, searched breadth
/// first (shallower objects first, keys in byte order at each level); failing that, the same
/// over `tags` objects (MLflow tags).
fn label(attrs: &Map<String, Value>, name: &str) -> Option<String> {
    for container in ["labels", "tags"] {
        let mut level: Vec<&Map<String, Value>> = vec![attrs];
        while !level.is_empty() {
            let mut next = Vec::new();
            for m in &level {
                if let Some(Value::Object(labels)) = m.get(container)
                    && let Some(v) = labels.get(name).and_then(scalar)
                {
                    return Some(v);
                }
                for v in m.values() {
                    if let Value::Object(child) = v {
                        next.push(child);
                    }
                }
            }
            level = next;
        }
    }
    None
}

#[cfg(test)]
mod tests;
