//! The retention records of the log: legal holds (`RULES.md` §5.4) and disposals
//! (`retention.disposed`, §5.5 step 4).

use crate::checks::facts::attr_time;
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use crate::checks::Cx;
use crate::checks::facts::Facts;
use crate::event::{EntityType, Event, NodeId, present};

/// One `legal_hold.set` … `legal_hold.released` stretch (§5.4); bounds inclusive (§2.1).
#[derive(Clone, Debug)]
pub struct HoldSpan {
    pub from: Timestamp,
    pub until: Option<Timestamp>,
    /// The `legal_hold.set` that opened it (`None` for a hold only named in `legal_holds`).
    pub set: Option<u32>,
    pub released: Option<u32>,
    /// `attrs.scope`; empty covers everything.
    pub scope: Vec<NodeId>,
}

/// A legal hold.
#[derive(Clone, Debug)]
pub struct Hold {
    pub id: String,
    pub spans: Vec<HoldSpan>,
    /// Named in envelope `legal_holds` but never set (RET-08 (c)): active from the first naming
    /// event, never released. It holds the events that name it; for disposals its scope is the
    /// systems of those events (everything when one has none).
    pub implied: bool,
    /// Events naming it in their envelope `legal_holds`, in event order.
    pub named_by: Vec<u32>,
}

impl Hold {
    pub fn span_at(&self, t: Timestamp) -> Option<&HoldSpan> {
        self.spans
            .iter()
            .find(|s| s.from <= t && s.until.is_none_or(|u| t <= u))
    }
}

/// A `retention.disposed` record.
#[derive(Clone, Debug)]
pub struct Disposal {
    pub event: u32,
    pub ts: Timestamp,
    pub class: String,
    pub system: Option<String>,
    /// The range as used by the checks: a missing bound is −∞ / the disposal's ts (§5.5 step 4).
    pub from: Timestamp,
    pub to: Timestamp,
    /// RET-07 (b): the fields that are missing (or not a time).
    pub missing: Vec<String>,
}

/// Whether a hold scope covers an event: empty, or it names the event's subject, a node it
/// references, or its system.
pub(super) fn scope_covers(scope: &[NodeId], e: &Event, s: Option<&str>) -> bool {
    scope.is_empty()
        || scope.iter().any(|n| {
            e.subject.as_ref().is_some_and(|x| x.is(n))
                || e.refs.iter().any(|r| r.target == *n)
                || (n.entity_type() == Some(EntityType::System) && Some(n.id()) == s)
        })
}

fn hold_id(e: &Event) -> Option<String> {
    e.attrs()
        .get("hold_id")
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Holds from `legal_hold.set`/`.released` (in event order) and envelope `legal_holds`.
pub(super) fn build_holds(
    cx: &Cx<'_>,
    sets: &[u32],
    releases: &[u32],
    named: BTreeMap<&str, Vec<u32>>,
) -> Vec<Hold> {
    let model = cx.model;
    let mut holds: BTreeMap<String, Hold> = BTreeMap::new();
    // Sets and releases merged in event order (indices are event order).
    let mut marks: Vec<(u32, bool)> = sets
        .iter()
        .map(|&i| (i, true))
        .chain(releases.iter().map(|&i| (i, false)))
        .collect();
    marks.sort_unstable();
    for (i, is_set) in marks {
        let e = model.event(i);
        let Some(id) = hold_id(e) else { continue };
        let hold = holds.entry(id.clone()).or_insert_with(|| Hold {
            id,
            spans: Vec::new(),
            implied: false,
            named_by: Vec::new(),
        });
        let open = hold.spans.last_mut().filter(|s| s.until.is_none());
        match (is_set, open) {
            (true, None) => hold.spans.push(HoldSpan {
                from: e.ts,
                until: None,
                set: Some(i),
                released: None,
                scope: e
                    .refs
                    .iter()
                    .filter(|r| r.field == "attrs.scope")
                    .map(|r| r.target.clone())
                    .collect(),
            }),
            (false, Some(span)) => {
                span.until = Some(e.ts);
                span.released = Some(i);
            }
            // A second set while active, or a release of a hold not active: no change.
            _ => {}
        }
    }
    holds.retain(|_, h| !h.spans.is_empty());
    for (id, events) in named {
        match holds.get_mut(id) {
            Some(h) => h.named_by = events,
            None => {
                let first = model.event(events[0]);
                let systems: Option<BTreeSet<&str>> = events
                    .iter()
                    .map(|&i| cx.facts.system_of_event(model.event(i)))
                    .collect();
                let scope = systems
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| NodeId::new(EntityType::System, s))
                    .collect();
                holds.insert(
                    id.to_string(),
                    Hold {
                        id: id.to_string(),
                        spans: vec![HoldSpan {
                            from: first.ts,
                            until: None,
                            set: None,
                            released: None,
                            scope,
                        }],
                        implied: true,
                        named_by: events,
                    },
                );
            }
        }
    }
    holds.into_values().collect()
}

/// Reads one `retention.disposed`.
pub(super) fn disposal(e: &Event, i: u32, facts: &Facts<'_>) -> Disposal {
    let a = e.attrs();
    let mut missing = Vec::new();
    for key in ["range_start", "range_end", "basis", "removed_ids_digest"] {
        if !present(a.get(key)) {
            missing.push(format!("`{key}`"));
        }
    }
    let bound = |key: &str, missing: &mut Vec<String>| {
        let t = attr_time(&a, key);
        if t.is_none() && present(a.get(key)) {
            missing.push(format!("`{key}` (not a time)"));
        }
        t
    };
    let from = bound("range_start", &mut missing).unwrap_or(Timestamp::MIN);
    let to = bound("range_end", &mut missing).unwrap_or(e.ts);
    Disposal {
        event: i,
        ts: e.ts,
        class: a
            .get("retention_class")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string(),
        system: facts.system_of_event(e).map(str::to_string),
        from,
        to,
        missing,
    }
}
