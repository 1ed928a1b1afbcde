//! Stage `model`: events → entities with their timelines, at the report's as-of time.
//!
//! - Duplicate ids (LOG-05): the first occurrence (sources in config order, then line) is the
//!   event; the others are kept as evidence only.
//! - Events sort by `ts`, then `recorded_ts` (missing first), then source, file and line
//!   (`RULES.md` §2.1); the sort is stable over ingest order, which is source, file, line.
//! - The as-of view is the prefix of events with `ts ≤ T`.
//! - Corrections (`supersedes`, LOG-07) are overlays: the original stays in `events`, marked as
//!   superseded, and every rule outside LOG reads the correcting event instead.
//! - Entities are keyed by node id in a `BTreeMap`, so every walk over them is in byte order.
//!   Anything referenced but never registered is an entity marked unresolved.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

mod entities;
pub use entities::Entities;

use jiff::Timestamp;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::event::{EntityType, Event, NodeId, Origin, node_key};
use crate::ingest::Ingest;

/// An entity: a node of the lineage graph with the events that register, concern or name it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Entity {
    pub node: NodeId,
    /// Registering events (indices into `Model::events`), in event order.
    pub registered: EventList,
    /// Every effective event whose subject is this entity or that references it, in event order.
    pub timeline: EventList,
    pub unresolved: bool,
    /// Other ids that name this entity (`[[link]] same`), in byte order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<NodeId>,
}

/// Indices into `Model::events`. Most entities are one decision with one event: the first few
/// indices are held inline (same size as a `Vec`), so a million decisions make no allocation here.
pub type EventList = smallvec::SmallVec<[u32; 4]>;

/// Another line carrying an id already taken (LOG-05).
#[derive(Clone, Debug, Serialize)]
pub struct Duplicate {
    pub id: String,
    /// The event that holds the id.
    pub first: Origin,
    pub other: Origin,
    /// The content (canonical JSON without `seq`, `prev`) is the same.
    pub identical: bool,
}

/// A correction that is not applied cleanly (LOG-07).
#[derive(Clone, Debug, Serialize)]
pub struct CorrectionIssue {
    /// Index of the correcting event.
    pub event: u32,
    /// LOG-07 check letter.
    pub check: &'static str,
    pub message: String,
    /// Another event of the evidence (the target, or the competing correction).
    pub other: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct Model {
    #[serde(serialize_with = "ser_ts")]
    pub as_of: Timestamp,
    /// Where the as-of time came from.
    pub as_of_source: &'static str,
    /// Every event, sorted.
    pub events: Vec<Event>,
    /// Number of events with `ts ≤ as_of` (they are a prefix of `events`).
    pub in_view: usize,
    /// For each event, the event that replaces it (corrections), if any.
    pub superseded_by: Vec<Option<u32>>,
    /// For each event of the view, the rank in `entities` of its subject when the event is on
    /// that entity's timeline (`u32::MAX` otherwise); empty when not computed (a redacted
    /// model). Spares the graph a search per event.
    #[serde(skip)]
    pub subject_rank: Vec<u32>,
    pub duplicates: Vec<Duplicate>,
    pub corrections: Vec<CorrectionIssue>,
    pub entities: Entities,
    #[serde(skip)]
    by_id: IdIndex,
}

/// Event id → index into `Model::events`, holding only the indices: the ids stay in the events.
#[derive(Clone, Debug, Default)]
struct IdIndex {
    table: hashbrown::HashTable<u32>,
}

fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

impl IdIndex {
    /// Ids are unique (duplicates were set aside before).
    fn new(events: &[Event]) -> IdIndex {
        let mut table = hashbrown::HashTable::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            table.insert_unique(id_hash(&e.id), i as u32, |&j| {
                id_hash(&events[j as usize].id)
            });
        }
        IdIndex { table }
    }

    fn get(&self, events: &[Event], id: &str) -> Option<u32> {
        self.table
            .find(id_hash(id), |&i| events[i as usize].id == id)
            .copied()
    }
}

/// Reorders `items` so that position k holds what was at `order[k]` (a permutation), in place.
pub(crate) fn permute<T>(items: &mut [T], order: &[u32]) {
    debug_assert_eq!(items.len(), order.len());
    let mut placed = vec![false; items.len()];
    for start in 0..items.len() {
        if placed[start] {
            continue;
        }
        placed[start] = true;
        let mut cur = start;
        loop {
            let next = order[cur] as usize;
            if next == start {
                break;
            }
            // `cur` takes what belongs there; what it held moves on to `next`, whose own
            // element is taken in the next step.
            items.swap(cur, next);
            placed[next] = true;
            cur = next;
        }
    }
}

fn ser_ts<S: serde::Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::time::fmt(*ts))
}

/// Where T came from, in precedence order (`RULES.md` §2.1): never the wall clock.
pub fn resolve_as_of(
    flag: Option<Timestamp>,
    config: Option<Timestamp>,
    latest_event: Option<Timestamp>,
) -> anyhow::Result<(Timestamp, &'static str)> {
    if let Some(t) = flag {
        return Ok((t, "--as-of"));
    }
    if let Some(t) = config {
        return Ok((t, "[report] as_of"));
    }
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        let secs: i64 = epoch.trim().parse().map_err(|_| {
            anyhow::anyhow!("SOURCE_DATE_EPOCH=`{epoch}` is not a number of seconds")
        })?;
        let t = Timestamp::from_second(secs)
            .map_err(|e| anyhow::anyhow!("SOURCE_DATE_EPOCH=`{epoch}`: {e}"))?;
        return Ok((t, "SOURCE_DATE_EPOCH"));
    }
    Ok((
        latest_event.unwrap_or(Timestamp::UNIX_EPOCH),
        "latest event",
    ))
}

impl Model {
    /// Builds the model; takes the events out of `ingest`.
    pub fn build(
        ingest: &mut Ingest,
        as_of_flag: Option<Timestamp>,
        as_of_config: Option<Timestamp>,
    ) -> anyhow::Result<Model> {
        let mut events = std::mem::take(&mut ingest.events);
        // Duplicates: the first in ingest order keeps the id. The map borrows the ids; the
        // events are filtered in place (at a million events, a copy is half a gigabyte).
        let mut dups = Vec::new();
        let mut keep = vec![true; events.len()];
        {
            let mut first: FxHashMap<&str, u32> =
                FxHashMap::with_capacity_and_hasher(events.len(), Default::default());
            for (i, e) in events.iter().enumerate() {
                match first.entry(e.id.as_str()) {
                    std::collections::hash_map::Entry::Occupied(o) => {
                        let orig = events[*o.get() as usize].origin;
                        dups.push((e.id.clone(), orig, e.origin));
                        keep[i] = false;
                    }
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(i as u32);
                    }
                }
            }
        }
        if !dups.is_empty() {
            let mut flags = keep.iter();
            events.retain(|_| *flags.next().expect("one flag per event"));
        }
        drop(keep);
        let mut timer = crate::cli::Timer::new();
        let duplicates = dups
            .into_par_iter()
            .map(|(id, first, other)| {
                let identical = same_content(ingest, &first, &other);
                Duplicate {
                    id: id.to_string(),
                    first,
                    other,
                    identical,
                }
            })
            .collect();

        // Sort keys, not the (large) events, then move each event into place along the cycles of
        // the permutation; the index breaks ties in ingest order (stable).
        timer.lap("  dups");
        let mut keys: Vec<(Timestamp, Option<Timestamp>, u32)> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.ts, e.recorded_ts(), i as u32))
            .collect();
        keys.par_sort_unstable();
        let order: Vec<u32> = keys.into_iter().map(|k| k.2).collect();
        permute(&mut events, &order);
        drop(order);
        let latest = events.iter().map(|e| e.ts).max();
        let (as_of, as_of_source) = resolve_as_of(as_of_flag, as_of_config, latest)?;
        let in_view = events.partition_point(|e| e.ts <= as_of);
        timer.lap("  sort");
        let by_id = IdIndex::new(&events);
        timer.lap("  by_id");

        let mut model = Model {
            as_of,
            as_of_source,
            superseded_by: vec![None; events.len()],
            subject_rank: Vec::new(),
            events,
            in_view,
            duplicates,
            corrections: Vec::new(),
            entities: Entities::default(),
            by_id,
        };
        model.apply_corrections();
        timer.lap("  correct");
        model.build_entities();
        timer.lap("  entities");
        for (alias, canonical) in &ingest.aliases {
            if let Some(ent) = model.entities.get_mut(canonical) {
                ent.aliases.push(alias.clone());
            }
        }
        Ok(model)
    }

    /// The events of the as-of view, originals of corrections included (what LOG rules read).
    pub fn view_all(&self) -> impl Iterator<Item = (u32, &Event)> {
        self.events[..self.in_view]
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u32, e))
    }

    /// The effective events of the as-of view: corrections applied (what other rules read).
    pub fn current(&self) -> impl Iterator<Item = (u32, &Event)> {
        self.view_all()
            .filter(|(i, _)| self.superseded_by[*i as usize].is_none())
    }

    /// The effective events of one kind.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (u32, &'a Event)> {
        self.current().filter(move |(_, e)| e.kind == kind)
    }

    /// Whether the as-of view holds an effective event of `kind` (a rule's "Needs").
    pub fn occurs(&self, kind: &str) -> bool {
        self.of_kind(kind).next().is_some()
    }

    /// The event in effect for event `i`: the correction that replaced it (following chains of
    /// corrections), or `i` itself.
    pub fn effective(&self, mut i: u32) -> u32 {
        // Applied corrections form no cycle; the bound guards anyway.
        for _ in 0..self.events.len() {
            match self.superseded_by[i as usize] {
                Some(next) if next != i => i = next,
                _ => break,
            }
        }
        i
    }

    pub fn event(&self, i: u32) -> &Event {
        &self.events[i as usize]
    }

    /// An event of the as-of view by id.
    pub fn by_id(&self, id: &str) -> Option<u32> {
        self.by_id
            .get(&self.events, id)
            .filter(|&i| (i as usize) < self.in_view)
    }

    pub fn entity(&self, node: &NodeId) -> Option<&Entity> {
        self.entities.get(node)
    }

    /// The latest registering event of an entity ("entity state", `RULES.md` §2.1).
    pub fn state(&self, node: &NodeId) -> Option<&Event> {
        self.entities
            .get(node)
            .and_then(|e| e.registered.last())
            .map(|&i| self.event(i))
    }

    /// The first registering event of an entity.
    pub fn first_registration(&self, node: &NodeId) -> Option<&Event> {
        self.entities
            .get(node)
            .and_then(|e| e.registered.first())
            .map(|&i| self.event(i))
    }

    /// Effective events of `kind` whose subject is `node`, in event order.
    pub fn about<'a>(
        &'a self,
        node: &'a NodeId,
        kind: &'a str,
    ) -> impl Iterator<Item = (u32, &'a Event)> {
        self.entities
            .get(node)
            .into_iter()
            .flat_map(|e| e.timeline.iter())
            .map(|&i| (i, self.event(i)))
            .filter(move |(_, e)| e.kind == kind && e.subject.as_ref().is_some_and(|s| s.is(node)))
    }

    /// The system of an event (`RULES.md` §2.2, first clause): its envelope `system`, else that of
    /// its subject's registering event.
    pub fn system_of_event<'a>(&'a self, e: &'a Event) -> Option<&'a str> {
        e.system.as_deref().or_else(|| {
            let node = e.subject_node()?;
            self.state(&node).and_then(|r| r.system.as_deref())
        })
    }

    /// The same model over redacted events (`crate::privacy`): `events` replace this model's
    /// one for one (same order, same event ids), entity keys go through `node` (entities whose
    /// keys meet are merged), and correction messages through `text`.
    pub fn redacted(
        &self,
        events: Vec<Event>,
        node: impl Fn(&NodeId) -> NodeId,
        text: impl Fn(&str) -> String,
    ) -> Model {
        assert_eq!(
            events.len(),
            self.events.len(),
            "one redacted event per event"
        );
        let mut entities: BTreeMap<NodeId, Entity> = BTreeMap::new();
        for (key, ent) in &self.entities {
            let key = node(key);
            match entities.get_mut(&key) {
                Some(into) => {
                    for (a, b) in [
                        (&mut into.registered, &ent.registered),
                        (&mut into.timeline, &ent.timeline),
                    ] {
                        a.extend_from_slice(b);
                        a.sort_unstable();
                        a.dedup();
                    }
                    into.unresolved &= ent.unresolved;
                }
                None => {
                    let mut ent = ent.clone();
                    ent.node = key.clone();
                    entities.insert(key, ent);
                }
            }
        }
        let entities = Entities::from_unsorted(entities.into_values().collect());
        Model {
            as_of: self.as_of,
            as_of_source: self.as_of_source,
            events,
            in_view: self.in_view,
            superseded_by: self.superseded_by.clone(),
            subject_rank: Vec::new(),
            duplicates: self.duplicates.clone(),
            corrections: self
                .corrections
                .iter()
                .map(|c| CorrectionIssue {
                    message: text(&c.message),
                    ..c.clone()
                })
                .collect(),
            entities,
            by_id: self.by_id.clone(),
        }
    }

    fn apply_corrections(&mut self) {
        let n = self.in_view;
        let mut target_of: Vec<Option<u32>> = vec![None; n];
        for (i, e) in self.events[..n].iter().enumerate() {
            let Some(t) = e.supersedes() else {
                continue;
            };
            let issue = |check, message: String, other| CorrectionIssue {
                event: i as u32,
                check,
                message,
                other,
            };
            if t == e.id {
                self.corrections.push(issue(
                    "d",
                    format!("`{}` supersedes itself; not applied", e.id),
                    None,
                ));
                continue;
            }
            let Some(ti) = self.by_id(t) else {
                self.corrections.push(issue(
                    "b",
                    format!("`{}` supersedes `{t}`, which is not an event of this report (unknown, quarantined or after the as-of time); not applied", e.id),
                    None,
                ));
                continue;
            };
            let target = &self.events[ti as usize];
            if target.kind != e.kind {
                self.corrections.push(issue(
                    "c",
                    format!(
                        "`{}` ({}) supersedes `{t}` of another kind ({}); not applied",
                        e.id, e.kind, target.kind
                    ),
                    Some(ti),
                ));
                continue;
            }
            target_of[i] = Some(ti);
        }
        // Cycles: following `supersedes` from a correction comes back to it.
        for start in 0..n {
            if target_of[start].is_none() {
                continue;
            }
            let mut seen = vec![start];
            let mut cur = start;
            while let Some(t) = target_of[cur] {
                let t = t as usize;
                if t == start {
                    for &c in &seen {
                        let e = &self.events[c];
                        self.corrections.push(CorrectionIssue {
                            event: c as u32,
                            check: "d",
                            message: format!(
                                "`{}` is part of a cycle of corrections; not applied",
                                e.id
                            ),
                            other: None,
                        });
                    }
                    for &c in &seen {
                        target_of[c] = None;
                    }
                    break;
                }
                if seen.contains(&t) {
                    break;
                }
                seen.push(t);
                cur = t;
            }
        }
        for (i, target) in target_of.iter().enumerate() {
            let Some(t) = *target else { continue };
            let e = &self.events[i];
            if e.reason().is_none_or(str::is_empty) {
                self.corrections.push(CorrectionIssue {
                    event: i as u32,
                    check: "a",
                    message: format!(
                        "correction `{}` of `{}` gives no `reason` (it is still applied)",
                        e.id, self.events[t as usize].id
                    ),
                    other: Some(t),
                });
            }
            // Events are in order, so a later correction of the same original replaces the earlier.
            if let Some(prev) = self.superseded_by[t as usize] {
                self.corrections.push(CorrectionIssue {
                    event: i as u32,
                    check: "e",
                    message: format!(
                        "`{}` is corrected twice, by `{}` and later by `{}`; the later applies",
                        self.events[t as usize].id, self.events[prev as usize].id, e.id
                    ),
                    other: Some(prev),
                });
                self.superseded_by[prev as usize] = Some(i as u32);
            }
            self.superseded_by[t as usize] = Some(i as u32);
        }
        self.corrections.sort_by_key(|c| (c.event, c.check));
        self.corrections.dedup_by_key(|c| (c.event, c.check));
    }

    fn build_entities(&mut self) {
        // A hash map while collecting (lookups only), then one sort into the ordered map.
        // Entities in a vector, found through a map of small entries (node id → position): at a
        // million decisions, a map holding the entities themselves is rehashed and copied while
        // it grows. Lookups take `&str`; a node id is made (and shared by key and entity) only
        // for a new entity, and a reference's interned id is shared rather than copied.
        // Most events have a subject of their own (decisions): room for one entity each, so the
        // vector is not copied while it grows (untouched capacity costs no memory).
        let mut list: Vec<Entity> = Vec::with_capacity(self.in_view);
        let mut at: FxHashMap<NodeId, u32> =
            FxHashMap::with_capacity_and_hasher(self.in_view, Default::default());
        let mut subject_of: Vec<u32> = vec![u32::MAX; self.in_view];
        let mut touch = |key: &str,
                         made: Option<&NodeId>,
                         known: Option<u32>,
                         i: u32,
                         registers: bool|
         -> u32 {
            let k = match known.or_else(|| at.get(key).copied()) {
                Some(k) => k as usize,
                None => {
                    let node = made.cloned().unwrap_or_else(|| NodeId::from(key));
                    at.insert(node.clone(), list.len() as u32);
                    list.push(Entity {
                        node,
                        ..Entity::default()
                    });
                    list.len() - 1
                }
            };
            let ent = &mut list[k];
            if registers {
                ent.registered.push(i);
            }
            if ent.timeline.last() != Some(&i) {
                ent.timeline.push(i);
            }
            k as u32
        };
        let mut buf = String::new();
        let mut by_address: FxHashMap<usize, u32> = FxHashMap::default();
        for (i, e) in self.events[..self.in_view].iter().enumerate() {
            // Unknown kinds are kept and shown (LOG-01 (a)), but no other rule reads them.
            if self.superseded_by[i].is_some() || e.spec().is_none() {
                continue;
            }
            if let Some(s) = &e.subject {
                subject_of[i] = touch(
                    node_key(&mut buf, s.kind, &s.id),
                    None,
                    None,
                    i as u32,
                    e.is_registering(),
                );
            }
            let i = i as u32;
            for r in &e.refs {
                // References share interned ids: their entity is remembered by the id's address
                // (the events, and so the ids, outlive this loop).
                let addr = r.target.0.as_ptr() as usize;
                let known = by_address.get(&addr).copied();
                let k = touch(r.target.as_str(), Some(&r.target), known, i, false);
                by_address.insert(addr, k);
            }
        }
        drop(at);
        let registered_models: std::collections::BTreeSet<&str> = list
            .iter()
            .filter(|e| {
                e.node.entity_type() == Some(EntityType::ModelVersion) && !e.registered.is_empty()
            })
            .filter_map(|e| e.node.id().rsplit_once('@').map(|(m, _)| m))
            .collect();
        let unresolved: Vec<bool> = list
            .iter()
            .map(|ent| match ent.node.entity_type() {
                Some(EntityType::Job | EntityType::Resource) => false,
                Some(EntityType::Model) => !registered_models.contains(ent.node.id()),
                Some(_) => ent.registered.is_empty(),
                None => true,
            })
            .collect();
        drop(registered_models);
        for (ent, u) in list.iter_mut().zip(unresolved) {
            ent.unresolved = u;
        }
        self.entities = Entities::from_unsorted(list);
        // Each event on its subject's timeline learns that entity's rank.
        for (rank, ent) in self.entities.values().enumerate() {
            for &i in &ent.timeline {
                let e = &self.events[i as usize];
                if subject_of[i as usize] != u32::MAX
                    && e.subject.as_ref().is_some_and(|s| s.is(&ent.node))
                {
                    subject_of[i as usize] = rank as u32;
                }
            }
        }
        self.subject_rank = subject_of;
    }
}

/// Same content per LOG-05: the objects without `seq` and `prev`, keys sorted (serde_json's map
/// is ordered), compared as canonical JSON.
fn same_content(ingest: &Ingest, a: &Origin, b: &Origin) -> bool {
    let canon = |o: &Origin| -> Option<String> {
        let bytes = ingest.line_bytes(o).ok()?;
        let mut v: Value = serde_json::from_slice(&bytes).ok()?;
        let obj = v.as_object_mut()?;
        obj.remove("seq");
        obj.remove("prev");
        serde_json::to_string(&v).ok()
    };
    match (canon(a), canon(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn permute_moves_each_item_to_its_place() {
        // Position k must receive what was at order[k]: cycles, fixed points, a reversal.
        for order in [
            vec![0u32, 1, 2, 3, 4],
            vec![4, 3, 2, 1, 0],
            vec![1, 2, 0, 4, 3],
            vec![2, 0, 1, 3, 5, 4],
            vec![],
        ] {
            let mut items: Vec<String> = (0..order.len()).map(|i| format!("e{i}")).collect();
            let want: Vec<String> = order.iter().map(|&i| format!("e{i}")).collect();
            permute(&mut items, &order);
            assert_eq!(items, want, "order {order:?}");
        }
    }
}
