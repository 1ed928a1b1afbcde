//! `diff.html`: what changed since the previous version of the same site root. Findings new,
//! resolved (shown with what the previous version said of them) and unchanged, with level
//! changes; entities added, changed (the digest of their timeline differs, computed as
//! `state.json` records it: [`data::state`]) and removed, counted per entity type.
//!
//! Order: findings in report order (resolved ones by id, as the previous state lists them),
//! entities by node id. Long lists stop at 1000 rows with the total and where the rest is.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{EntityLink, data, findings};
use crate::checks::Finding;
use crate::event::NodeId;
use crate::render::{Cx, PAGE_ROWS, Pages, links};

#[derive(Serialize)]
struct Page {
    previous: Option<Prev>,
    findings: Option<FindingsDiff>,
    entities: Option<EntitiesDiff>,
}

#[derive(Serialize)]
struct Prev {
    version: u32,
    as_of: String,
}

#[derive(Serialize)]
struct FindingsDiff {
    new: List<Row>,
    resolved: List<OldRow>,
    unchanged: List<Row>,
    level_changes: List<LevelChange>,
}

/// At most [`PAGE_ROWS`] rows of a list, and how many there are in all.
#[derive(Serialize)]
struct List<T> {
    rows: Vec<T>,
    total: usize,
}

impl<T> List<T> {
    fn new(all: impl IntoIterator<Item = T>) -> List<T> {
        let mut rows = Vec::new();
        let mut total = 0;
        for item in all {
            if rows.len() < PAGE_ROWS {
                rows.push(item);
            }
            total += 1;
        }
        List { rows, total }
    }
}

#[derive(Serialize)]
struct Row {
    id: String,
    level: String,
    rule: String,
    title: String,
    subject: String,
    subject_href: Option<String>,
    message: String,
    href: String,
    first_seen: u32,
}

#[derive(Serialize)]
struct OldRow {
    id: String,
    level: String,
    rule: String,
    subject: String,
    message: String,
    first_seen: Option<u32>,
}

#[derive(Serialize)]
struct LevelChange {
    id: String,
    rule: String,
    subject: String,
    subject_href: Option<String>,
    href: String,
    old: String,
    new: String,
}

#[derive(Serialize)]
struct EntitiesDiff {
    by_type: Vec<TypeCounts>,
    added: List<EntityRow>,
    changed: List<EntityRow>,
    removed: List<EntityRow>,
}

#[derive(Serialize, Default)]
struct TypeCounts {
    entity_type: String,
    added: usize,
    changed: usize,
    removed: usize,
    unchanged: usize,
}

#[derive(Serialize)]
struct EntityRow {
    entity_type: String,
    label: String,
    id: String,
    href: Option<String>,
}

fn subject_href(subject: &str) -> Option<String> {
    NodeId::parse(subject).as_ref().and_then(links::href)
}

pub fn write(cx: &Cx<'_>, pages: &mut Pages) -> anyhow::Result<()> {
    let page = match &cx.previous {
        None => Page {
            previous: None,
            findings: None,
            entities: None,
        },
        Some(prev) => Page {
            previous: Some(Prev {
                version: prev.version,
                as_of: prev.as_of.clone(),
            }),
            findings: Some(findings_diff(cx)),
            entities: Some(entities_diff(cx)),
        },
    };
    pages.add(
        "diff.html",
        cx.render("diff.html", "diff.html", "Changes", page)?,
    );
    Ok(())
}

fn findings_diff(cx: &Cx<'_>) -> FindingsDiff {
    let prev = cx.previous.as_ref().expect("a previous version");
    let all = &cx.input.findings.findings;
    let row = |n: usize, f: &Finding| Row {
        id: f.id.clone(),
        level: f.level.clone(),
        rule: f.rule.clone(),
        title: f.title.clone(),
        subject_href: subject_href(&f.subject),
        subject: f.subject.clone(),
        message: f.message.clone(),
        href: format!("{}#f-{}", findings::page_of(n), f.id),
        first_seen: data::first_seen(cx, &f.id),
    };
    let now: BTreeSet<&str> = all.iter().map(|f| f.id.as_str()).collect();
    FindingsDiff {
        new: List::new(
            all.iter()
                .enumerate()
                .filter(|(_, f)| !prev.findings.contains_key(&f.id))
                .map(|(n, f)| row(n, f)),
        ),
        resolved: List::new(
            prev.findings
                .iter()
                .filter(|(id, _)| !now.contains(id.as_str()))
                .map(|(id, f)| OldRow {
                    id: id.clone(),
                    level: f.level.clone(),
                    rule: f.rule.clone(),
                    subject: f.subject.clone(),
                    message: f.message.clone(),
                    first_seen: f.first_seen,
                }),
        ),
        unchanged: List::new(
            all.iter()
                .enumerate()
                .filter(|(_, f)| prev.findings.contains_key(&f.id))
                .map(|(n, f)| row(n, f)),
        ),
        level_changes: List::new(all.iter().enumerate().filter_map(|(n, f)| {
            let old = prev.findings.get(&f.id)?;
            (old.level != f.level).then(|| LevelChange {
                id: f.id.clone(),
                rule: f.rule.clone(),
                subject_href: subject_href(&f.subject),
                subject: f.subject.clone(),
                href: format!("{}#f-{}", findings::page_of(n), f.id),
                old: old.level.clone(),
                new: f.level.clone(),
            })
        })),
    }
}

fn entities_diff(cx: &Cx<'_>) -> EntitiesDiff {
    let prev = cx.previous.as_ref().expect("a previous version");
    let now = data::state(cx).entities;
    let type_of = |id: &str| {
        NodeId::from(id)
            .entity_type()
            .map_or_else(|| "other".to_string(), |t| t.as_str().to_string())
    };
    let mut counts: BTreeMap<String, TypeCounts> = BTreeMap::new();
    let mut count = |id: &str, f: fn(&mut TypeCounts)| {
        let ty = type_of(id);
        f(counts.entry(ty.clone()).or_insert_with(|| TypeCounts {
            entity_type: ty,
            ..TypeCounts::default()
        }));
    };
    let (mut added, mut changed, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for (id, digest) in &now {
        match prev.entities.get(id) {
            None => {
                count(id, |c| c.added += 1);
                added.push(id);
            }
            Some(old) if old != digest => {
                count(id, |c| c.changed += 1);
                changed.push(id);
            }
            Some(_) => count(id, |c| c.unchanged += 1),
        }
    }
    for id in prev.entities.keys() {
        if !now.contains_key(id) {
            count(id, |c| c.removed += 1);
            removed.push(id);
        }
    }
    let current = |id: &&String| {
        let node = NodeId::from(id.as_str());
        let link = EntityLink::new(cx, &node);
        EntityRow {
            entity_type: type_of(id),
            label: link.label,
            id: link.id,
            href: link.href,
        }
    };
    EntitiesDiff {
        by_type: counts.into_values().collect(),
        added: List::new(added.iter().map(current)),
        changed: List::new(changed.iter().map(current)),
        removed: List::new(removed.iter().map(|id| EntityRow {
            entity_type: type_of(id),
            label: NodeId::from(id.as_str()).id().to_string(),
            id: id.to_string(),
            href: None,
        })),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::render::{PrevFinding, Previous, render};
    use crate::testing::{check_events, ev, page};

    fn case() -> crate::testing::Case {
        check_events(
            &[
                ev(
                    "s1",
                    "2026-01-01T00:00:00Z",
                    "system.registered",
                    "system:credit",
                    json!({"name": "Credit"}),
                ),
                ev(
                    "d1",
                    "2026-01-02T00:00:00Z",
                    "deployment.started",
                    "deployment:prod",
                    json!({"model_version": "model_version:ghost@1.0", "env": "production"}),
                ),
                ev(
                    "d2",
                    "2026-01-03T00:00:00Z",
                    "deployment.started",
                    "deployment:test",
                    json!({"model_version": "model_version:spook@2.0", "env": "test"}),
                ),
            ],
            "",
        )
    }

    fn prev_finding(rule: &str, level: &str, subject: &str, message: &str) -> PrevFinding {
        PrevFinding {
            rule: rule.into(),
            level: level.into(),
            subject: subject.into(),
            message: message.into(),
            first_seen: Some(2),
        }
    }

    #[test]
    fn first_version_says_so() {
        let html = page(&case().site(), "diff.html");
        assert!(html.contains("first version"), "{html}");
    }

    #[test]
    fn diff_against_a_previous_version() {
        let case = case();
        let current = &case.findings.findings;
        assert!(current.len() >= 2, "{current:#?}");
        let kept = &current[0];
        let mut previous = Previous {
            version: 3,
            as_of: "2025-12-31T00:00:00Z".into(),
            ..Previous::default()
        };
        // Kept with another level; the others are new; one old one is resolved.
        let other = if kept.level == "deny" { "info" } else { "deny" };
        previous.findings.insert(
            kept.id.clone(),
            prev_finding(&kept.rule, other, &kept.subject, &kept.message),
        );
        previous.findings.insert(
            "gone-1".into(),
            prev_finding(
                "MOD-01",
                "warn",
                "model_version:old@<b>1</b>",
                "was <i>missing</i>",
            ),
        );
        // Entities: one the same, one changed, one removed; the rest added.
        let state = case.with_cx(4, "internal", None, |cx| {
            crate::render::pages::data::state(cx).entities
        });
        let system = state["system:credit"].clone();
        previous.entities.insert("system:credit".into(), system);
        previous
            .entities
            .insert("deployment:prod".into(), "0".repeat(64));
        previous
            .entities
            .insert("dataset:retired".into(), "1".repeat(64));

        let html = case.with_cx(4, "internal", Some(previous), |cx| {
            page(&render(cx).unwrap(), "diff.html")
        });
        let section = |from: &str, to: &str| {
            let a = html
                .find(from)
                .unwrap_or_else(|| panic!("no {from}: {html}"));
            let b = html[a..].find(to).map_or(html.len(), |b| a + b);
            html[a..b].to_string()
        };
        let new = section("id=\"new\"", "id=\"resolved\"");
        let resolved = section("id=\"resolved\"", "id=\"unchanged\"");
        let unchanged = section("id=\"unchanged\"", "id=\"entities\"");
        assert!(html.contains("../v3/index.html"));
        for f in &current[1..] {
            assert!(new.contains(&format!("#f-{}", f.id)), "{} is new", f.id);
        }
        assert!(!new.contains(&format!("#f-{}\"", kept.id)));
        assert!(unchanged.contains(&format!("#f-{}", kept.id)));
        assert!(
            unchanged.contains(&format!("lv-{other}\">{other}</span> → ")),
            "{unchanged}"
        );
        assert!(resolved.contains("gone-1"));
        assert!(
            resolved.contains("was &lt;i&gt;missing&lt;/i&gt;"),
            "old message, escaped"
        );
        assert!(!html.contains("<i>missing"));
        let entities = section("id=\"entities\"", "</main>");
        assert!(entities.contains("dataset:retired"), "removed");
        assert!(
            entities.contains("deployments.html#deployment-prod"),
            "changed, linked"
        );
        let changed = section("id=\"entities-changed\"", "id=\"entities-removed\"");
        assert!(changed.contains("deployment:prod"));
        assert!(!changed.contains("system:credit"), "same digest: unchanged");
        let added = section("id=\"entities-added\"", "id=\"entities-changed\"");
        assert!(added.contains("model_version:ghost@1.0"), "{added}");
    }
}
