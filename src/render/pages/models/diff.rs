//! What a version's registration changed against its parent's, and the datasets of a
//! registration with their roles.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{or_nr, value_text};
use crate::event::{EntityType, NodeId, present};
use crate::render::pages::EntityLink;
use crate::render::{Cx, links};

#[derive(Clone, Serialize)]
pub(super) struct DatasetUse {
    pub link: EntityLink,
    pub role: String,
}

impl DatasetUse {
    pub(super) fn key(&self) -> (&str, &str) {
        (&self.link.id, &self.role)
    }
}

#[derive(Serialize, Default)]
pub(super) struct Diff {
    /// `none` (no parent recorded), `unregistered` (the parent is not registered),
    /// `unregistered-self` (this version is not registered), `ok`.
    pub state: String,
    pub parent: Option<EntityLink>,
    pub parent_registration: Option<String>,
    pub rows: Vec<DiffRow>,
    pub added: Vec<DatasetUse>,
    pub removed: Vec<DatasetUse>,
    pub same: usize,
}

#[derive(Serialize)]
pub(super) struct DiffRow {
    pub field: String,
    pub parent: String,
    pub this: String,
}

/// The datasets of a registration with their roles, in the order given.
pub(super) fn datasets(cx: &Cx<'_>, attrs: &Map<String, Value>) -> Vec<DatasetUse> {
    let Some(Value::Array(items)) = attrs.get("datasets") else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|d| {
            let id = d
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())?;
            Some(DatasetUse {
                link: EntityLink::new(cx, &NodeId::new(EntityType::Dataset, id)),
                role: value_text(d.get("role")).unwrap_or_else(|| "not recorded".into()),
            })
        })
        .collect()
}

/// The registration of `node` against that of its parent.
pub(super) fn diff(cx: &Cx<'_>, attrs: &Map<String, Value>, model_name: &str) -> Diff {
    let Some(parent) = value_text(attrs.get("parent_version")) else {
        return Diff {
            state: "none".into(),
            ..Diff::default()
        };
    };
    let model = cx.model();
    let pnode = NodeId::new(EntityType::ModelVersion, &format!("{model_name}@{parent}"));
    let link = EntityLink::new(cx, &pnode);
    let Some(preg) = model.state(&pnode) else {
        return Diff {
            state: "unregistered".into(),
            parent: Some(link),
            ..Diff::default()
        };
    };
    let pattrs = preg.attrs();
    let (mut flat_p, mut flat_t) = (BTreeMap::new(), BTreeMap::new());
    for (k, v) in &pattrs {
        flatten(k, v, &mut flat_p);
    }
    for (k, v) in attrs {
        flatten(k, v, &mut flat_t);
    }
    let mut keys: Vec<&String> = flat_p.keys().chain(flat_t.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut rows = Vec::new();
    let mut same = 0;
    for k in keys {
        if matches!(k.as_str(), "model" | "version" | "parent_version")
            || k == "datasets"
            || k.starts_with("datasets.")
        {
            continue;
        }
        let (p, t) = (flat_p.get(k).copied(), flat_t.get(k).copied());
        let differs = match (present(p), present(t)) {
            (false, false) => false,
            (true, true) => p != t,
            _ => true,
        };
        if differs {
            rows.push(DiffRow {
                field: k.clone(),
                parent: or_nr(p),
                this: or_nr(t),
            });
        } else {
            same += 1;
        }
    }
    let mine = datasets(cx, attrs);
    let theirs = datasets(cx, &pattrs);
    Diff {
        state: "ok".into(),
        parent: Some(link),
        parent_registration: model.by_id(&preg.id).map(links::event_href),
        rows,
        added: mine
            .iter()
            .filter(|d| !theirs.iter().any(|t| t.key() == d.key()))
            .cloned()
            .collect(),
        removed: theirs
            .iter()
            .filter(|d| !mine.iter().any(|t| t.key() == d.key()))
            .cloned()
            .collect(),
        same,
    }
}

/// An attribute with its nested objects spread into dotted keys (`runtime.version`), so that a
/// diff names the part of an object that changed.
pub(super) fn flatten<'v>(key: &str, v: &'v Value, out: &mut BTreeMap<String, &'v Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                flatten(&format!("{key}.{k}"), x, out);
            }
        }
        _ => {
            out.insert(key.to_string(), v);
        }
    }
}
