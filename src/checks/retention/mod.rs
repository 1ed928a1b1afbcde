//! RET — retention minimums and maximums (`RULES.md` §3.9, §5): the evaluation engine.
//!
//! Input: the effective events of the as-of view, the derived facts, the class table of
//! [`Classes`] and the enabled packs. The engine gathers, in one pass over the events, the
//! disposal records (`retention.disposed`) and the holds (`legal_hold.set`/`.released` and
//! envelope `legal_holds`); it builds the legal floors of the enabled RET-01…RET-06 (§5.5 step 2)
//! and the clock facts of each system (§5.3). From these:
//! - [`Engine::too_early`] judges every disposal (§5.5 step 5) for RET-01…RET-06 and RET-09 (c);
//! - [`Engine::scan`] is the per-event pass (§5.5 steps 1–4) for RET-07 and RET-09: class, clock
//!   start, effective minimum, status at T, and the disposals that should have removed the event.
//!
//! Cost: building an engine reads every event's kind once and parses the `attrs` of disposals,
//! holds, systems and documents only (few). The scan assigns each event its class (memoised by
//! kind when no `[[retention.assign]]` is configured) and computes clocks and floors only for
//! events of a class with a `max` or named by a disposal. RET-07 and RET-09 each run the scan;
//! the other RET rules never do.
//!
//! Every map is a `BTreeMap` and every list is in event order, so findings do not depend on
//! hashing or thread scheduling.

mod floors;
mod records;
mod rules;
#[cfg(test)]
mod tests;

pub use floors::Floor;
use floors::{Scope, build_floors};
pub use records::{Disposal, Hold};
use records::{build_holds, disposal, scope_covers};
pub use rules::RULES;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use serde::Deserialize;

use super::Cx;
use super::classes::{Class, Classes, Clock, kind_glob};
use super::facts::{self, Facts};
use crate::event::{EntityType, Event};
use crate::time::{self, Duration};

pub fn clock_name(c: Clock) -> &'static str {
    match c {
        Clock::Event => "the event's time",
        Clock::PlacedOnMarket => "placing on the market (end of production service)",
        Clock::EffectiveTo => "the end of the document's effect (`effective_to`)",
    }
}

/// Clock facts of one system (§5.3).
#[derive(Clone, Debug, Default)]
struct SysInfo {
    high_risk: bool,
    provider: bool,
    /// `attrs.placed_on_market` of its registration.
    placed_on_market: Option<Timestamp>,
    /// The first production `deployment.started` of its deployments: (ts, event).
    first_prod: Option<(Timestamp, u32)>,
    /// Production service `[start, end)` of the system's deployments (`end` `None`: open at T).
    service: Vec<(Timestamp, Option<Timestamp>)>,
}

impl SysInfo {
    /// `placed_on_market`, else the first production `deployment.started` (§5.3), with which.
    fn placed(&self) -> Option<(Timestamp, &'static str)> {
        self.placed_on_market
            .map(|t| (t, "placed_on_market"))
            .or(self
                .first_prod
                .map(|(t, _)| (t, "first production deployment")))
    }
}

/// A disposal that ran before a minimum elapsed (§5.5 step 5).
#[derive(Clone, Debug)]
pub struct Early {
    /// Index into [`Engine::disposals`].
    pub disposal: usize,
    /// `RET-01`…`RET-06`, or `RET-09` for the class's own `min`.
    pub rule: &'static str,
    /// The minimum violated, its clock and the start c*.
    pub min: Duration,
    pub clock: Clock,
    pub start: Timestamp,
    pub until: Timestamp,
    /// Why c* is what it is.
    pub why: String,
    /// The floor's description (empty for the class's `min`).
    pub floor: String,
}

/// Events aggregated into one finding: count, the oldest ts, the events (capped where stated).
#[derive(Clone, Debug, Default)]
pub struct Agg {
    pub count: u64,
    pub oldest: Option<Timestamp>,
    pub newest: Option<Timestamp>,
    pub events: Vec<u32>,
}

impl Agg {
    fn add(&mut self, i: u32, ts: Timestamp, cap: usize) {
        self.count += 1;
        self.oldest = Some(self.oldest.map_or(ts, |o| o.min(ts)));
        self.newest = Some(self.newest.map_or(ts, |o| o.max(ts)));
        if self.events.len() < cap {
            self.events.push(i);
        }
    }
}

/// RET-09 (a): events whose effective minimum is above their class's `max`.
#[derive(Clone, Debug, Default)]
pub struct Conflict {
    pub agg: Agg,
    /// The first conflicting event: (event, c + max, c + min).
    pub example: Option<(u32, Timestamp, Timestamp)>,
}

/// What the per-event pass finds (§5.5 steps 1–4).
#[derive(Debug, Default)]
pub struct Scan<'e> {
    /// RET-07 (a)/(c): (class, system or "", personal) → events due for disposal.
    pub due: BTreeMap<(&'e str, &'e str, bool), Agg>,
    /// RET-09 (a): (class, binding floor or `min`) → conflicting events.
    pub conflicts: BTreeMap<(&'e str, &'static str), Conflict>,
    /// RET-09 (b): class without `max` → its personal events (the first `evidence_limit`).
    pub personal: BTreeMap<&'e str, Agg>,
    /// RET-09 (d): unknown envelope class → its events.
    pub unknown: BTreeMap<&'e str, Agg>,
    /// RET-07 (d): per disposal, the covered events still present and not held.
    pub incomplete: Vec<Agg>,
}

/// `document.registered` attributes the clocks and floors read.
#[derive(Deserialize, Default)]
struct DocView {
    doc_type: Option<String>,
    effective_to: Option<String>,
}

/// The retention evaluation of one run.
pub struct Engine<'a> {
    pub cx: &'a Cx<'a>,
    pub facts: &'a Facts<'a>,
    pub classes: Classes<'a>,
    pub floors: Vec<Floor>,
    pub holds: Vec<Hold>,
    pub disposals: Vec<Disposal>,
    systems: BTreeMap<String, SysInfo>,
    /// Per model version: the end of its last production service (`Timestamp::MAX`: in use).
    version_end: BTreeMap<String, Timestamp>,
    /// Whether any `legal_hold.set` or envelope `legal_holds` occurs.
    pub holds_occur: bool,
    pub t: Timestamp,
}

impl<'a> Engine<'a> {
    pub fn new(cx: &'a Cx<'a>) -> Engine<'a> {
        let model = cx.model;
        let facts = cx.facts;
        let mut disposals = Vec::new();
        let mut sets: Vec<u32> = Vec::new();
        let mut releases: Vec<u32> = Vec::new();
        let mut named: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (i, e) in model.current() {
            for h in e.legal_holds() {
                named.entry(h.as_str()).or_default().push(i);
            }
            match e.kind.as_str() {
                "retention.disposed" => disposals.push(i),
                "legal_hold.set" => sets.push(i),
                "legal_hold.released" => releases.push(i),
                _ => {}
            }
        }
        let holds_occur = !sets.is_empty() || !named.is_empty();
        let holds = build_holds(cx, &sets, &releases, named);
        let disposals = disposals
            .into_iter()
            .map(|i| disposal(model.event(i), i, facts))
            .collect();

        let mut systems: BTreeMap<String, SysInfo> = BTreeMap::new();
        for s in facts.systems() {
            let sys = Some(s.id.as_str());
            systems.insert(
                s.id.clone(),
                SysInfo {
                    high_risk: facts.high_risk(sys),
                    provider: facts.provider(sys),
                    placed_on_market: s.placed_on_market,
                    first_prod: None,
                    service: Vec::new(),
                },
            );
        }
        let mut version_end: BTreeMap<String, Timestamp> = BTreeMap::new();
        for d in facts.deployments().filter(|d| d.production) {
            for iv in &d.intervals {
                if !iv.version.is_empty() {
                    let end = iv.end.unwrap_or(Timestamp::MAX);
                    let v = version_end.entry(iv.version.clone()).or_insert(end);
                    *v = (*v).max(end);
                }
            }
            let Some(s) = &d.system else { continue };
            let info = systems.entry(s.clone()).or_default();
            info.service
                .extend(d.intervals.iter().map(|iv| (iv.start, iv.end)));
            let first_start = d
                .events
                .iter()
                .copied()
                .find(|&i| model.event(i).kind == "deployment.started")
                .map(|i| (model.event(i).ts, i));
            if let Some(first) = first_start
                && info.first_prod.is_none_or(|f| first < f)
            {
                info.first_prod = Some(first);
            }
        }
        Engine {
            cx,
            facts,
            classes: Classes::new(cx.config),
            floors: build_floors(cx),
            holds,
            disposals,
            systems,
            version_end,
            holds_occur,
            t: cx.as_of(),
        }
    }

    fn info(&self, s: Option<&str>) -> Option<&SysInfo> {
        s.and_then(|s| self.systems.get(s))
    }

    /// The floors of one rule.
    pub fn floors_of(&self, rule: &str) -> impl Iterator<Item = &Floor> {
        self.floors.iter().filter(move |f| f.rule == rule)
    }

    // --- clocks (§5.3) ----------------------------------------------------------------------

    /// c(e) for a clock; `Timestamp::MAX` when it has not started (a version still in use).
    fn clock_start(&self, e: &Event, s: Option<&str>, clock: Clock, doc: &DocView) -> Timestamp {
        match clock {
            Clock::Event => e.ts,
            Clock::EffectiveTo => doc
                .effective_to
                .as_deref()
                .and_then(|t| time::parse_date_or_time(t).ok())
                .map_or(e.ts, |t| t.max(e.ts)),
            Clock::PlacedOnMarket => {
                let mut c = e.ts;
                if let Some((p, _)) = self.info(s).and_then(SysInfo::placed) {
                    c = c.max(p);
                }
                let subject = e
                    .subject
                    .as_ref()
                    .filter(|s| s.kind == EntityType::ModelVersion)
                    .map(|s| s.id.as_str());
                let refs = e
                    .refs
                    .iter()
                    .filter(|r| r.field == "attrs.model_version" || r.field == "attrs.describes")
                    .filter(|r| r.target.entity_type() == Some(EntityType::ModelVersion))
                    .map(|r| r.target.id());
                for v in subject.into_iter().chain(refs) {
                    if let Some(&end) = self.version_end.get(v) {
                        c = c.max(end);
                    }
                }
                c
            }
        }
    }

    /// c* for a disposal (§5.5 step 5): the clock start of the youngest event it could have
    /// removed, an event of system `s` with ts = `b`; with why.
    fn clock_star(
        &self,
        clock: Clock,
        b: Timestamp,
        s: Option<&str>,
        at: Timestamp,
    ) -> (Timestamp, String) {
        let mut c = b;
        let mut why = format!("the range ends {}", time::fmt(b));
        if clock != Clock::PlacedOnMarket {
            return (c, why);
        }
        let (Some(s), Some(info)) = (s, self.info(s)) else {
            return (c, why);
        };
        if let Some((p, how)) = info.placed()
            && p > c
        {
            c = p;
            why = format!(
                "system `{s}` was placed on the market {} ({how})",
                time::fmt(p)
            );
        }
        if info
            .service
            .iter()
            .any(|&(from, to)| from <= at && to.is_none_or(|to| at < to))
        {
            return (
                Timestamp::MAX,
                format!(
                    "a production deployment of `{s}` was still serving at the disposal, so the clock had not started"
                ),
            );
        }
        if let Some(end) = info
            .service
            .iter()
            .filter_map(|&(from, to)| to.filter(|_| from <= at))
            .filter(|&to| to <= at)
            .max()
            && end > c
        {
            c = end;
            why = format!("the production service of `{s}` ended {}", time::fmt(end));
        }
        (c, why)
    }

    // --- holds (§5.4) -----------------------------------------------------------------------

    /// Whether event `e` (system `s`) is under a hold active at `t`.
    pub fn held(&self, e: &Event, s: Option<&str>, t: Timestamp) -> bool {
        self.holds.iter().any(|h| {
            h.span_at(t).is_some_and(|span| {
                e.legal_holds().contains(&h.id) || (!h.implied && scope_covers(&span.scope, e, s))
            })
        })
    }

    // --- disposals (§5.5 steps 5) -----------------------------------------------------------

    /// The kinds events of a class can have: the table's and `[[retention.assign]]`'s globs, and
    /// the kinds of events that carry it as their envelope `retention_class`.
    fn class_kinds(&self) -> BTreeMap<&str, Vec<String>> {
        let mut out: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for d in &self.disposals {
            out.entry(d.class.as_str()).or_insert_with(|| {
                self.classes
                    .kinds_of(&d.class)
                    .into_iter()
                    .map(str::to_string)
                    .collect()
            });
        }
        if !out.is_empty() {
            for (_, e) in self.cx.model.current() {
                if let Some(c) = e.retention_class()
                    && let Some(kinds) = out.get_mut(c)
                    && !kinds.iter().any(|k| k == e.kind.as_str())
                {
                    kinds.insert(e.kind.to_string());
                }
            }
        }
        out.into_iter()
            .map(|(c, k)| (c, k.into_iter().collect()))
            .collect()
    }

    /// §5.5 step 5 for every disposal: at most one finding each, to the RET rule with the
    /// latest violated floor (ties: the lowest rule id), else to RET-09 (c) when only the class's
    /// own `min` is violated.
    pub fn too_early(&self) -> Vec<Early> {
        let kinds = self.class_kinds();
        let mut out = Vec::new();
        for (k, d) in self.disposals.iter().enumerate() {
            let Some(class) = self.classes.get(&d.class) else {
                continue;
            };
            let class_kinds = kinds.get(d.class.as_str()).map_or(&[][..], Vec::as_slice);
            let candidates: Vec<Option<&str>> = match &d.system {
                Some(s) => vec![Some(s.as_str())],
                None => self
                    .systems
                    .keys()
                    .map(|s| Some(s.as_str()))
                    .chain([None])
                    .collect(),
            };
            // The latest end over the candidate systems, with its c* and why.
            let end_of = |clock: Clock, min: Duration, ok: &dyn Fn(Option<&str>) -> bool| {
                candidates
                    .iter()
                    .filter(|s| ok(**s))
                    .map(|&s| {
                        let (c, why) = self.clock_star(clock, d.to, s, d.ts);
                        (min.after(c), c, why)
                    })
                    .max_by_key(|(end, ..)| *end)
            };
            let mut best: Option<Early> = None;
            for f in &self.floors {
                let ok =
                    |s: Option<&str>| f.could_contain(&class.name, class_kinds, s, self.info(s));
                let Some((until, start, why)) = end_of(f.clock, f.min, &ok) else {
                    continue;
                };
                if d.ts < until && best.as_ref().is_none_or(|b| until > b.until) {
                    best = Some(Early {
                        disposal: k,
                        rule: f.rule,
                        min: f.min,
                        clock: f.clock,
                        start,
                        until,
                        why,
                        floor: f.describe(),
                    });
                }
            }
            if best.is_none()
                && let Some(min) = class.min
                && let Some((until, start, why)) = end_of(class.clock, min, &|_| true)
                && d.ts < until
            {
                best = Some(Early {
                    disposal: k,
                    rule: "RET-09",
                    min,
                    clock: class.clock,
                    start,
                    until,
                    why,
                    floor: String::new(),
                });
            }
            out.extend(best);
        }
        out
    }

    /// Whether any effective event is in the scope of `rule`'s floors, or a disposal could have
    /// removed such events (RET-01…RET-06 are otherwise not applicable).
    pub fn floor_in_scope(&self, rule: &str) -> bool {
        let floors: Vec<&Floor> = self.floors_of(rule).collect();
        if floors.is_empty() {
            return false;
        }
        let kinds = self.class_kinds();
        for d in &self.disposals {
            let Some(class) = self.classes.get(&d.class) else {
                continue;
            };
            let ks = kinds.get(d.class.as_str()).map_or(&[][..], Vec::as_slice);
            let s = d.system.as_deref();
            let any_system = s.is_none();
            if floors.iter().any(|f| {
                if any_system {
                    self.systems
                        .keys()
                        .map(|x| Some(x.as_str()))
                        .chain([None])
                        .any(|x| f.could_contain(&class.name, ks, x, self.info(x)))
                } else {
                    f.could_contain(&class.name, ks, s, self.info(s))
                }
            }) {
                return true;
            }
        }
        // A class-keyed floor needs a class only when events can be assigned to it other than
        // by their envelope; kind floors need none. Each floor first looks at the kind (or the
        // envelope class), and only then at the system.
        let need_class = floors.iter().any(|f| match f.scope {
            Scope::Class(c) => !self.classes.kinds_of(c).is_empty(),
            _ => false,
        });
        let mut memo = ClassMemo::new(&self.classes, self.cx.config);
        self.cx.model.current().any(|(_, e)| {
            let class = if need_class {
                match memo.class_of(e, None) {
                    Some(c) => c.name.as_str(),
                    None => return false,
                }
            } else {
                e.retention_class().unwrap_or("")
            };
            let maybe = floors.iter().any(|f| match &f.scope {
                Scope::Kinds(kinds) => kinds.iter().any(|g| kind_glob(g, &e.kind)),
                Scope::Docs(_) => e.kind == "document.registered",
                Scope::Class(c) => *c == class,
            });
            if !maybe || e.spec().is_none() {
                return false;
            }
            let doc = doc_view(e);
            let class = if need_class {
                memo.class_of(e, doc.doc_type.as_deref())
                    .map_or("", |c| c.name.as_str())
            } else {
                class
            };
            let s = self.facts.system_of_event(e);
            floors
                .iter()
                .any(|f| f.contains(e, class, doc.doc_type.as_deref(), s, self.info(s)))
        })
    }

    // --- the per-event pass (§5.5 steps 1–4) -----------------------------------------------

    /// The effective minimum of an event: the latest end over its class's `min` (from the
    /// class's clock) and every floor containing it (from the floor's clock), with the binding
    /// source (floor rule id, or `min`); and c(e) for the class's clock.
    fn minimum(
        &self,
        e: &Event,
        class: &Class,
        s: Option<&str>,
        doc: &DocView,
    ) -> (Timestamp, &'static str, Timestamp) {
        let c = self.clock_start(e, s, class.clock, doc);
        let mut keep = class.min.map_or(c, |m| m.after(c));
        let mut binding = "min";
        let info = self.info(s);
        for f in &self.floors {
            if !f.contains(e, &class.name, doc.doc_type.as_deref(), s, info) {
                continue;
            }
            let start = if f.clock == class.clock {
                c
            } else {
                self.clock_start(e, s, f.clock, doc)
            };
            let end = f.min.after(start);
            // A floor that ties the class's own `min` binds; among floors the first (lowest id).
            if end > keep || (end == keep && binding == "min") {
                keep = end;
                binding = f.rule;
            }
        }
        (keep, binding, c)
    }

    /// The per-event pass for RET-07 and RET-09. `evidence_cap` limits the events kept for
    /// RET-09 (b) (every other aggregate keeps all).
    pub fn scan(&self, evidence_cap: usize) -> Scan<'_> {
        let model = self.cx.model;
        let t = self.t;
        let mut scan = Scan {
            incomplete: vec![Agg::default(); self.disposals.len()],
            ..Scan::default()
        };
        let mut by_class: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (k, d) in self.disposals.iter().enumerate() {
            by_class.entry(d.class.as_str()).or_default().push(k);
        }
        let mut memo = ClassMemo::new(&self.classes, self.cx.config);
        let all = usize::MAX;
        for (i, e) in model.current() {
            let doc = doc_view(e);
            let Some(class) = memo.class_of(e, doc.doc_type.as_deref()) else {
                continue;
            };
            if let Some(unknown) = self.classes.unknown_envelope_class(e) {
                scan.unknown.entry(unknown).or_default().add(i, e.ts, all);
            }
            let personal = class.personal || facts::personal(e);
            if personal && class.max.is_none() {
                scan.personal
                    .entry(class.name.as_str())
                    .or_default()
                    .add(i, e.ts, evidence_cap);
            }
            let disposals = by_class.get(class.name.as_str());
            if class.max.is_none() && disposals.is_none() {
                continue;
            }
            let s = self.facts.system_of_event(e);
            if let Some(max) = class.max {
                let (keep, binding, c) = self.minimum(e, class, s, &doc);
                let max_end = max.after(c);
                if max_end < keep {
                    let conflict = scan
                        .conflicts
                        .entry((class.name.as_str(), binding))
                        .or_default();
                    conflict.agg.add(i, e.ts, all);
                    conflict.example.get_or_insert((i, max_end, keep));
                }
                if t >= max_end && t >= keep && !self.held(e, s, t) {
                    scan.due
                        .entry((class.name.as_str(), s.unwrap_or(""), personal))
                        .or_default()
                        .add(i, e.ts, all);
                }
            }
            for &k in disposals.into_iter().flatten() {
                let d = &self.disposals[k];
                if d.event != i
                    && d.system.as_deref().is_none_or(|x| Some(x) == s)
                    && d.from <= e.ts
                    && e.ts <= d.to.min(d.ts)
                    && !self.held(e, s, d.ts)
                {
                    scan.incomplete[k].add(i, e.ts, all);
                }
            }
        }
        scan
    }
}

/// Class assignment per event, memoised by kind: whether the kind is known (events of unknown
/// kinds are LOG-01's; no other rule reads them), and the class when only the kind decides it (no
/// `[[retention.assign]]` and no envelope class). Consecutive events mostly share a kind, so the
/// last kind is tried first: a million decisions cost a million short string comparisons.
struct ClassMemo<'c, 'e> {
    classes: &'c Classes<'c>,
    by_kind_only: bool,
    last: Option<(&'e str, Option<&'c Class>)>,
    seen: HashMap<&'e str, Option<&'c Class>>,
}

impl<'c, 'e> ClassMemo<'c, 'e> {
    fn new(classes: &'c Classes<'c>, config: &crate::config::Config) -> ClassMemo<'c, 'e> {
        ClassMemo {
            classes,
            by_kind_only: config.retention.assign.is_empty(),
            last: None,
            seen: HashMap::new(),
        }
    }

    /// The class of `e`, `None` for an unknown kind.
    fn class_of(&mut self, e: &'e Event, doc_type: Option<&str>) -> Option<&'c Class> {
        let kind = e.kind.as_str();
        let by_kind = match self.last {
            Some((k, c)) if k == kind => c,
            _ => {
                let classes = self.classes;
                let c = *self
                    .seen
                    .entry(kind)
                    .or_insert_with(|| e.spec().map(|_| classes.built_in_class(kind)));
                self.last = Some((kind, c));
                c
            }
        };
        let by_kind = by_kind?;
        if self.by_kind_only && e.retention_class().is_none() {
            Some(by_kind)
        } else {
            Some(self.classes.class_of(e, doc_type))
        }
    }
}

/// The `doc_type` and `effective_to` of a document (other kinds: none; their `attrs` is not read).
fn doc_view(e: &Event) -> DocView {
    if e.kind == "document.registered" {
        e.attrs_as::<DocView>().unwrap_or_default()
    } else {
        DocView::default()
    }
}
