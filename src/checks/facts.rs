//! Derived facts of `RULES.md` §2.2, computed once from the model.
//!
//! Input: the model's effective events of the as-of view (corrections applied, `ts ≤ T`) and the
//! global `[policy]` parameters. Output: [`Facts`], read by every rule family that needs the system
//! of a thing, the systems' flags, the deployments' state machines or the versions in production.
//!
//! Cost: one pass over the effective events that only compares kinds (no `attrs` is parsed, so a
//! log of a million `decision.made` costs a million string comparisons), plus one parse of the
//! `attrs` of each registered system, model version and document (few). Decisions are never
//! parsed: their `deployment` comes from the references extracted at ingest ([`Event::refs`]).
//!
//! Every map is a `BTreeMap` keyed by id, so every walk over facts is in byte order.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;

use crate::config::Config;
use crate::event::{EntityType, Event, NodeId, as_str_list, present};
use crate::model::Model;
use crate::time;

/// `data_classes` values that make an event personal (`personal(e)`).
pub const PERSONAL_CLASSES: &[&str] = &[
    "personal",
    "special_category",
    "biometric",
    "phi",
    "cardholder",
];

/// What a system's latest `system.registered` says (its entity state).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemFacts {
    /// The system id (`subject.id` of its registration).
    pub id: String,
    /// The latest registering event, if the system is registered.
    pub registered: Option<u32>,
    /// `attrs.risk`: `high`, `limited`, `minimal`.
    pub risk: Option<String>,
    /// `attrs.role`: `provider` or `deployer`.
    pub role: Option<String>,
    /// `attrs.annex_iii_point`, e.g. `5(b)`.
    pub annex_iii_point: Option<String>,
    /// `attrs.jurisdictions`.
    pub jurisdictions: Vec<String>,
    /// `attrs.placed_on_market`, when it is a readable time.
    pub placed_on_market: Option<Timestamp>,
}

/// One stretch during which a deployment is active and serves one version: `[start, end)`.
///
/// The state at `t` is that after every event of the deployment up to and including `t`, so an
/// interval includes its start (the `started`/`changed` event) and excludes its end (the
/// `suspended`/`stopped`, or the `changed` that switched the version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interval {
    pub start: Timestamp,
    /// `None`: still active at T.
    pub end: Option<Timestamp>,
    /// The model version id served (`MODEL@VERSION`).
    pub version: String,
    /// `env` of the event that opened it, else that of the deployment's first `started`.
    pub env: Option<String>,
    /// The `deployment.started`/`.changed` that opened it.
    pub opened_by: u32,
    /// The event that closed it; `None` while open.
    pub closed_by: Option<u32>,
}

impl Interval {
    /// Whether `t` falls in `[start, end)`.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && self.end.is_none_or(|end| t < end)
    }
}

/// A deployment's facts.
#[derive(Clone, Debug, Default)]
pub struct DeploymentFacts {
    pub id: String,
    /// S(D): the system of its latest `deployment.started`, else that of the first version it
    /// served.
    pub system: Option<String>,
    /// production(D): `env` of D's first `deployment.started` is in `production_envs`.
    pub production: bool,
    /// `env` of D's first `deployment.started`.
    pub env: Option<String>,
    /// Its effective `deployment.started`/`.changed`/`.suspended`/`.stopped` events, in event
    /// order.
    pub events: Vec<u32>,
    /// active(D, t) and serves(D, t) as intervals, in time order, disjoint, none empty. Two
    /// intervals touch when a `changed` switched the version.
    pub intervals: Vec<Interval>,
}

/// How production deployments served one model version (deployed(V), first_prod(V), in_use(V)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionUse {
    /// first_prod(V): the earliest time a production deployment served V.
    pub first_prod: Timestamp,
    /// The event that started that service (a `deployment.started` or `.changed`).
    pub first_event: u32,
    /// in_use(V): a production deployment is active at T and serves V.
    pub in_use: bool,
    /// The production deployments that served V at some time, by id.
    pub deployments: Vec<String>,
}

/// One `document.registered` event, as "effective at t" reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentReg {
    /// The event index.
    pub event: u32,
    /// The document id (`subject.id`).
    pub id: String,
    pub doc_type: Option<String>,
    pub ts: Timestamp,
    pub effective_from: Option<Timestamp>,
    pub effective_to: Option<Timestamp>,
}

impl DocumentReg {
    /// "Effective at t": registered at or before t, `effective_from` missing or ≤ t,
    /// `effective_to` missing or > t.
    pub fn effective_at(&self, t: Timestamp) -> bool {
        self.ts <= t
            && self.effective_from.is_none_or(|f| f <= t)
            && self.effective_to.is_none_or(|to| to > t)
    }
}

/// The derived facts of `RULES.md` §2.2 for one model and config.
#[derive(Debug)]
pub struct Facts<'m> {
    model: &'m Model,
    production_envs: Vec<String>,
    fria_points: Vec<String>,
    fria_systems: Vec<String>,
    nyc_jurisdictions: Vec<String>,
    aedt_systems: Vec<String>,
    systems: BTreeMap<String, SystemFacts>,
    deployments: BTreeMap<String, DeploymentFacts>,
    incident_systems: BTreeMap<String, String>,
    versions: BTreeMap<String, VersionUse>,
    developers: BTreeMap<String, Vec<String>>,
    documents: BTreeMap<NodeId, Vec<DocumentReg>>,
}

const DEPLOYMENT_KINDS: [&str; 4] = [
    "deployment.started",
    "deployment.changed",
    "deployment.suspended",
    "deployment.stopped",
];

/// The entities of one type, in id order (node ids sort by `TYPE:` prefix first), without a walk
/// over the others (decisions are most of them).
pub fn entities_of(
    model: &Model,
    ty: EntityType,
) -> impl Iterator<Item = (&NodeId, &crate::model::Entity)> {
    model.entities.of_type(ty)
}

/// The id part of an entity reference held in `field` of `e` (`attrs.model_version`, …), from
/// the references extracted at ingest (no `attrs` parse).
pub fn ref_id<'e>(e: &'e Event, field: &str) -> Option<&'e str> {
    e.refs
        .iter()
        .find(|r| r.field == field)
        .map(|r| r.target.id())
}

fn attr_str(attrs: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    attrs
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A time attribute of `attrs` (`YYYY-MM-DD` or RFC 3339); `None` when missing or unreadable.
pub fn attr_time(attrs: &serde_json::Map<String, Value>, key: &str) -> Option<Timestamp> {
    attrs
        .get(key)
        .and_then(Value::as_str)
        .and_then(|s| time::parse_date_or_time(s).ok())
}

impl<'m> Facts<'m> {
    /// Computes every fact of §2.2 from the effective events of the as-of view. Reads
    /// `[policy] production_envs`, `fria_points`, `fria_systems`, `nyc_jurisdictions` and
    /// `aedt_systems`.
    pub fn compute(model: &'m Model, config: &Config) -> Facts<'m> {
        let policy = &config.policy;
        let mut facts = Facts {
            model,
            production_envs: policy.production_envs.clone(),
            fria_points: policy.fria_points.clone(),
            fria_systems: policy.fria_systems.clone(),
            nyc_jurisdictions: policy.nyc_jurisdictions.clone(),
            aedt_systems: policy.aedt_systems.clone(),
            systems: BTreeMap::new(),
            deployments: BTreeMap::new(),
            incident_systems: BTreeMap::new(),
            versions: BTreeMap::new(),
            developers: BTreeMap::new(),
            documents: BTreeMap::new(),
        };
        facts.compute_systems();
        facts.compute_deployments();
        facts.compute_versions();
        facts.compute_incidents();
        facts.compute_documents();
        facts
    }

    fn compute_systems(&mut self) {
        let model = self.model;
        for (node, ent) in entities_of(model, EntityType::System) {
            let mut s = SystemFacts {
                id: node.id().to_string(),
                ..SystemFacts::default()
            };
            if let Some(&i) = ent.registered.last() {
                let a = model.event(i).attrs();
                s.registered = Some(i);
                s.risk = attr_str(&a, "risk");
                s.role = attr_str(&a, "role");
                s.annex_iii_point = attr_str(&a, "annex_iii_point");
                s.jurisdictions = as_str_list(a.get("jurisdictions"))
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                s.placed_on_market = attr_time(&a, "placed_on_market");
            }
            self.systems.insert(s.id.clone(), s);
        }
    }

    /// The deployment state machine (§2.2 active(D, t), serves(D, t)) over each deployment's
    /// events in event order.
    fn compute_deployments(&mut self) {
        let model = self.model;
        let mut events: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (i, e) in model.current() {
            if !e.kind.starts_with("deployment.") || !DEPLOYMENT_KINDS.contains(&e.kind.as_str()) {
                continue;
            }
            if let Some(s) = e
                .subject
                .as_ref()
                .filter(|s| s.kind == EntityType::Deployment)
            {
                events.entry(s.id.as_str()).or_default().push(i);
            }
        }
        for (id, evs) in events {
            let first_started = evs
                .iter()
                .map(|&i| model.event(i))
                .find(|e| e.kind == "deployment.started");
            let env = first_started.and_then(|e| e.env.as_deref().map(str::to_string));
            let production = env
                .as_ref()
                .is_some_and(|env| self.production_envs.iter().any(|p| p == env.as_str()));
            let node = NodeId::new(EntityType::Deployment, id);
            let system = model
                .state(&node)
                .and_then(|r| r.system.as_deref().map(str::to_string))
                .or_else(|| {
                    let first_version = evs
                        .iter()
                        .map(|&i| model.event(i))
                        .filter(|e| {
                            e.kind == "deployment.started" || e.kind == "deployment.changed"
                        })
                        .find_map(|e| ref_id(e, "attrs.model_version"))?;
                    let v = NodeId::new(EntityType::ModelVersion, first_version);
                    model
                        .state(&v)
                        .and_then(|r| r.system.as_deref().map(str::to_string))
                });
            let intervals = state_machine(model, &evs, env.as_deref());
            self.deployments.insert(
                id.to_string(),
                DeploymentFacts {
                    id: id.to_string(),
                    system,
                    production,
                    env,
                    events: evs,
                    intervals,
                },
            );
        }
    }

    fn compute_versions(&mut self) {
        let model = self.model;
        for d in self.deployments.values().filter(|d| d.production) {
            for iv in d.intervals.iter().filter(|iv| !iv.version.is_empty()) {
                let u = self
                    .versions
                    .entry(iv.version.clone())
                    .or_insert_with(|| VersionUse {
                        first_prod: iv.start,
                        first_event: iv.opened_by,
                        in_use: false,
                        deployments: Vec::new(),
                    });
                // Earliest in event order: time first, then the events' own order.
                if (iv.start, iv.opened_by) < (u.first_prod, u.first_event) {
                    u.first_prod = iv.start;
                    u.first_event = iv.opened_by;
                }
                u.in_use |= iv.end.is_none();
                if u.deployments.last() != Some(&d.id) {
                    u.deployments.push(d.id.clone());
                }
            }
        }
        for (node, ent) in entities_of(model, EntityType::ModelVersion) {
            let Some(&i) = ent.registered.last() else {
                continue;
            };
            let e = model.event(i);
            let a = e.attrs();
            let mut devs: Vec<String> = as_str_list(a.get("developers"))
                .into_iter()
                .map(str::to_string)
                .collect();
            if e.actor.kind == crate::event::ActorType::Human
                && !devs.iter().any(|d| d == e.actor.id.as_str())
            {
                devs.push(e.actor.id.to_string());
            }
            self.developers.insert(node.id().to_string(), devs);
        }
    }

    /// S(incident): its registration's system, else the first system reached through the
    /// `affects` of its merged state (the latest `incident.opened`/`.updated`/`.closed` with a
    /// present `affects`).
    fn compute_incidents(&mut self) {
        let model = self.model;
        let mut found = BTreeMap::new();
        for (node, ent) in entities_of(model, EntityType::Incident) {
            if let Some(s) = model.state(node).and_then(|r| r.system.clone()) {
                found.insert(node.id().to_string(), s.to_string());
                continue;
            }
            let latest = ent
                .timeline
                .iter()
                .rev()
                .map(|&i| model.event(i))
                .filter(|e| {
                    matches!(
                        e.kind.as_str(),
                        "incident.opened" | "incident.updated" | "incident.closed"
                    )
                })
                .filter(|e| e.subject.as_ref().is_some_and(|s| s.is(node)))
                .find(|e| e.refs.iter().any(|r| r.field == "attrs.affects"));
            let Some(latest) = latest else { continue };
            let system = latest
                .refs
                .iter()
                .filter(|r| r.field == "attrs.affects")
                .find_map(|r| match r.target.entity_type() {
                    Some(EntityType::System) => Some(r.target.id()),
                    Some(EntityType::Incident) | None => None,
                    Some(ty) => self.system_of_typed(ty, &r.target),
                });
            if let Some(s) = system {
                found.insert(node.id().to_string(), s.to_string());
            }
        }
        self.incident_systems = found;
    }

    fn compute_documents(&mut self) {
        let model = self.model;
        for (node, ent) in entities_of(model, EntityType::Document) {
            for &i in &ent.registered {
                let e = model.event(i);
                let a = e.attrs();
                let reg = DocumentReg {
                    event: i,
                    id: node.id().to_string(),
                    doc_type: attr_str(&a, "doc_type"),
                    ts: e.ts,
                    effective_from: attr_time(&a, "effective_from"),
                    effective_to: attr_time(&a, "effective_to"),
                };
                for r in e.refs.iter().filter(|r| r.field == "attrs.describes") {
                    self.documents
                        .entry(r.target.clone())
                        .or_default()
                        .push(reg.clone());
                }
            }
        }
    }

    /// The model the facts were computed from.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    // --- S(x) -------------------------------------------------------------------------------

    /// S(x) for a node: the envelope `system` of its registering event (entity state); else for
    /// a decision its deployment's, for a deployment the system of the first version it served,
    /// for an incident the first system reached through `affects`; else none. A `system:` node is
    /// its own system.
    pub fn system_of<'a>(&'a self, node: &'a NodeId) -> Option<&'a str> {
        match node.entity_type()? {
            EntityType::System => Some(node.id()),
            ty => self.system_of_typed(ty, node),
        }
    }

    /// S(x) for an event: its envelope `system`, else that of its subject.
    pub fn system_of_event<'a>(&'a self, e: &'a Event) -> Option<&'a str> {
        if let Some(s) = e.system.as_deref() {
            return Some(s);
        }
        let subject = e.subject.as_ref()?;
        match subject.kind {
            EntityType::System => Some(subject.id.as_str()),
            ty => self.system_of_typed(ty, &subject.node()),
        }
    }

    /// S(V) for a model version id (`MODEL@VERSION`).
    pub fn system_of_version(&self, version: &str) -> Option<&str> {
        let node = NodeId::new(EntityType::ModelVersion, version);
        self.system_of_typed(EntityType::ModelVersion, &node)
    }

    /// S(x) for a node that is not a system; the result never borrows from `node`.
    fn system_of_typed(&self, ty: EntityType, node: &NodeId) -> Option<&str> {
        let state = self.model.state(node);
        if let Some(s) = state.and_then(|r| r.system.as_deref()) {
            return Some(s);
        }
        match ty {
            EntityType::Decision => {
                let d = state.and_then(|r| ref_id(r, "attrs.deployment"))?;
                self.deployments.get(d)?.system.as_deref()
            }
            EntityType::Deployment => self.deployments.get(node.id())?.system.as_deref(),
            EntityType::Incident => self.incident_systems.get(node.id()).map(String::as_str),
            _ => None,
        }
    }

    // --- systems ----------------------------------------------------------------------------

    /// The registered facts of system S (its latest `system.registered`).
    pub fn system(&self, s: &str) -> Option<&SystemFacts> {
        self.systems.get(s)
    }

    /// Every system node (registered or only referenced), in id order.
    pub fn systems(&self) -> impl Iterator<Item = &SystemFacts> {
        self.systems.values()
    }

    fn system_attr(&self, s: Option<&str>, f: impl Fn(&SystemFacts) -> bool) -> bool {
        s.and_then(|s| self.systems.get(s)).is_some_and(f)
    }

    /// high_risk(S): `system.registered.attrs.risk = "high"`.
    pub fn high_risk(&self, s: Option<&str>) -> bool {
        self.system_attr(s, |x| x.risk.as_deref() == Some("high"))
    }

    /// provider(S): `system.registered.attrs.role = "provider"`.
    pub fn provider(&self, s: Option<&str>) -> bool {
        self.system_attr(s, |x| x.role.as_deref() == Some("provider"))
    }

    /// deployer(S): `system.registered.attrs.role = "deployer"`.
    pub fn deployer(&self, s: Option<&str>) -> bool {
        self.system_attr(s, |x| x.role.as_deref() == Some("deployer"))
    }

    /// rbi(S): `annex_iii_point = "1(a)"` (remote biometric identification).
    pub fn rbi(&self, s: Option<&str>) -> bool {
        self.system_attr(s, |x| x.annex_iii_point.as_deref() == Some("1(a)"))
    }

    /// employment(S): `annex_iii_point` starts with `4`.
    pub fn employment(&self, s: Option<&str>) -> bool {
        self.system_attr(s, |x| {
            x.annex_iii_point
                .as_deref()
                .is_some_and(|p| p.starts_with('4'))
        })
    }

    /// fria_scope(S): deployer(S) ∧ high_risk(S) ∧ (`annex_iii_point` ∈ `fria_points` or
    /// S ∈ `fria_systems`).
    pub fn fria_scope(&self, s: Option<&str>) -> bool {
        self.deployer(s)
            && self.high_risk(s)
            && (self.system_attr(s, |x| {
                x.annex_iii_point
                    .as_ref()
                    .is_some_and(|p| self.fria_points.contains(p))
            }) || s.is_some_and(|s| self.fria_systems.iter().any(|x| x == s)))
    }

    /// nyc_aedt(S): S ∈ `aedt_systems`, or `jurisdictions` ∩ `nyc_jurisdictions` ≠ ∅ ∧
    /// employment(S).
    pub fn nyc_aedt(&self, s: Option<&str>) -> bool {
        s.is_some_and(|s| self.aedt_systems.iter().any(|x| x == s))
            || (self.employment(s)
                && self.system_attr(s, |x| {
                    x.jurisdictions
                        .iter()
                        .any(|j| self.nyc_jurisdictions.contains(j))
                }))
    }

    // --- deployments ------------------------------------------------------------------------

    /// A deployment's facts, by id (without `deployment:`).
    pub fn deployment(&self, id: &str) -> Option<&DeploymentFacts> {
        self.deployments.get(id)
    }

    /// Every deployment with at least one effective `deployment.*` event, in id order.
    pub fn deployments(&self) -> impl Iterator<Item = &DeploymentFacts> {
        self.deployments.values()
    }

    /// production(D): `env` of D's first `deployment.started` is in `production_envs`.
    pub fn production(&self, d: &str) -> bool {
        self.deployments.get(d).is_some_and(|d| d.production)
    }

    /// The interval of D that contains `t`, if D is active at `t`.
    pub fn interval_at(&self, d: &str, t: Timestamp) -> Option<&Interval> {
        let ivs = &self.deployments.get(d)?.intervals;
        let k = ivs.partition_point(|iv| iv.start <= t);
        ivs[..k].last().filter(|iv| iv.contains(t))
    }

    /// active(D, t): the state machine over D's events up to and including `t` is active.
    pub fn active(&self, d: &str, t: Timestamp) -> bool {
        self.interval_at(d, t).is_some()
    }

    /// serves(D, t): while active, the `model_version` of D's latest `started`/`changed` at or
    /// before `t`.
    pub fn serves(&self, d: &str, t: Timestamp) -> Option<&str> {
        self.interval_at(d, t).map(|iv| iv.version.as_str())
    }

    // --- model versions ---------------------------------------------------------------------

    /// deployed(V): some production deployment served V at some t ≤ T.
    pub fn deployed(&self, v: &str) -> bool {
        self.versions.contains_key(v)
    }

    /// first_prod(V): the earliest t at which a production deployment served V.
    pub fn first_prod(&self, v: &str) -> Option<Timestamp> {
        self.versions.get(v).map(|u| u.first_prod)
    }

    /// in_use(V): some production deployment is active at T and serves V.
    pub fn in_use(&self, v: &str) -> bool {
        self.versions.get(v).is_some_and(|u| u.in_use)
    }

    /// How production deployments served V, if they did.
    pub fn version_use(&self, v: &str) -> Option<&VersionUse> {
        self.versions.get(v)
    }

    /// Every deployed(V), in version id order.
    pub fn deployed_versions(&self) -> impl Iterator<Item = (&str, &VersionUse)> {
        self.versions.iter().map(|(v, u)| (v.as_str(), u))
    }

    /// developers(V): the latest `model.registered` of V's `attrs.developers`, plus its
    /// `actor.id` when `actor.type = "human"`; in that order, without repeats. Empty when V is
    /// not registered.
    pub fn developers(&self, v: &str) -> &[String] {
        self.developers.get(v).map_or(&[], Vec::as_slice)
    }

    // --- documents --------------------------------------------------------------------------

    /// The `document.registered` events effective at `t` (§2.2) that describe `node`, optionally
    /// of one `doc_type`, in event order.
    pub fn effective_documents<'a>(
        &'a self,
        node: &NodeId,
        doc_type: Option<&'a str>,
        t: Timestamp,
    ) -> impl Iterator<Item = &'a DocumentReg> {
        self.documents
            .get(node)
            .into_iter()
            .flatten()
            .filter(move |d| d.effective_at(t))
            .filter(move |d| doc_type.is_none_or(|ty| d.doc_type.as_deref() == Some(ty)))
    }
}

/// The §2.2 state machine over one deployment's events (in event order): `started` → active;
/// `changed` → active with the version updated; `suspended` → suspended; `stopped` → stopped; a
/// `started` or `changed` after `suspended`/`stopped` → active again. A `started`/`changed` that
/// keeps the version and env continues the open interval. Intervals that would be empty (two
/// events at one time) are dropped: at that time the later event's state holds.
fn state_machine(model: &Model, events: &[u32], first_env: Option<&str>) -> Vec<Interval> {
    let mut out = Vec::new();
    let mut open: Option<Interval> = None;
    let close = |open: &mut Option<Interval>, out: &mut Vec<Interval>, t: Timestamp, by: u32| {
        if let Some(mut iv) = open.take()
            && iv.start < t
        {
            iv.end = Some(t);
            iv.closed_by = Some(by);
            out.push(iv);
        }
    };
    for &i in events {
        let e = model.event(i);
        match e.kind.as_str() {
            "deployment.started" | "deployment.changed" => {
                let version = ref_id(e, "attrs.model_version")
                    .map(str::to_string)
                    .or_else(|| open.as_ref().map(|iv| iv.version.clone()))
                    .unwrap_or_default();
                let env = e.env.as_deref().or(first_env).map(str::to_string);
                if open
                    .as_ref()
                    .is_some_and(|iv| iv.version == version && iv.env == env)
                {
                    continue;
                }
                close(&mut open, &mut out, e.ts, i);
                open = Some(Interval {
                    start: e.ts,
                    end: None,
                    version,
                    env,
                    opened_by: i,
                    closed_by: None,
                });
            }
            "deployment.suspended" | "deployment.stopped" => close(&mut open, &mut out, e.ts, i),
            _ => {}
        }
    }
    out.extend(open);
    out
}

/// Whether the read of `dataset` by the run whose `run.completed` is `run` was logged
/// (`RULES.md` DATA-03 (b), ACC-01 (b)): an effective `access` on `dataset` with
/// `action = "read"`, `result = "success"`, the run's `actor.id`, and `ts` in
/// [`started_ts` (else the run's ts − `window`), the run's ts]. Returns the matching access.
pub fn logged_read(
    model: &Model,
    run: &Event,
    dataset: &NodeId,
    window: time::Duration,
) -> Option<u32> {
    let end = run.ts;
    let start = run
        .attrs_as::<RunTimes>()
        .and_then(|a| a.started_ts)
        .and_then(|s| time::parse_date_or_time(&s).ok())
        .unwrap_or_else(|| window.before(end));
    let ent = model.entity(dataset)?;
    ent.timeline.iter().copied().find(|&i| {
        let e = model.event(i);
        e.kind == "access"
            && e.subject.as_ref().is_some_and(|s| s.is(dataset))
            && e.actor.id == run.actor.id
            && e.ts >= start
            && e.ts <= end
            && e.attrs_as::<AccessView>().is_some_and(|a| {
                a.action.as_deref() == Some("read") && a.result.as_deref() == Some("success")
            })
    })
}

#[derive(serde::Deserialize)]
struct RunTimes {
    started_ts: Option<String>,
}

#[derive(serde::Deserialize)]
struct AccessView {
    action: Option<String>,
    result: Option<String>,
}

/// Why an `approval` (an event id) does not show an approving validation of `version` at or
/// before `at` (DEP-01 (a), LINK-03 (c)). The named event is read in its corrected form.
#[derive(Debug)]
pub enum ApprovalIssue {
    /// No `approval` at all.
    Missing,
    /// The id names no event of the as-of view.
    Unknown,
    /// The event (by index) is not a `model.validated`.
    NotValidation(u32),
    /// A `model.validated` of another version.
    OtherVersion(u32),
    /// A validation whose `decision` is not `approve`.
    NotApproved(u32),
    /// An approving validation recorded after `at`.
    Later(u32),
}

impl ApprovalIssue {
    /// The named event, when there is one.
    pub fn event(&self) -> Option<u32> {
        match *self {
            ApprovalIssue::Missing | ApprovalIssue::Unknown => None,
            ApprovalIssue::NotValidation(i)
            | ApprovalIssue::OtherVersion(i)
            | ApprovalIssue::NotApproved(i)
            | ApprovalIssue::Later(i) => Some(i),
        }
    }
}

/// The approving validation an `approval` names, or why it is not one.
pub fn check_approval(
    model: &Model,
    approval: Option<&str>,
    version: &NodeId,
    at: Timestamp,
) -> Result<u32, ApprovalIssue> {
    let approval = approval.ok_or(ApprovalIssue::Missing)?;
    let i = model.effective(model.by_id(approval).ok_or(ApprovalIssue::Unknown)?);
    let a = model.event(i);
    if a.kind != "model.validated" {
        Err(ApprovalIssue::NotValidation(i))
    } else if a.subject_node().as_ref() != Some(version) {
        Err(ApprovalIssue::OtherVersion(i))
    } else if a.attrs().get("decision").and_then(Value::as_str) != Some("approve") {
        Err(ApprovalIssue::NotApproved(i))
    } else if a.ts > at {
        Err(ApprovalIssue::Later(i))
    } else {
        Ok(i)
    }
}

/// personal(e): the event's `data_classes` contains `personal`, `special_category`, `biometric`,
/// `phi` or `cardholder`.
pub fn personal(e: &Event) -> bool {
    e.data_classes
        .iter()
        .any(|c| PERSONAL_CLASSES.contains(&c.as_str()))
}

/// "Reason" (`RULES.md` §2.1): the first present of the kind's `attrs.reason`, the envelope
/// `reason` and `rationale.summary`. Parses the event's `attrs`: call it on the few events a
/// rule reports, not in a loop over every decision.
pub fn reason(e: &Event) -> Option<String> {
    let attrs = e.attrs();
    if let Some(r) = attrs.get("reason").filter(|v| present(Some(v))) {
        return Some(r.as_str().map_or_else(|| r.to_string(), str::to_string));
    }
    if let Some(r) = e.reason().filter(|r| !r.is_empty()) {
        return Some(r.to_string());
    }
    let rationale = e.rationale();
    rationale
        .get("summary")
        .filter(|v| present(Some(v)))
        .map(|r| r.as_str().map_or_else(|| r.to_string(), str::to_string))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::{Case, check_events, ev, with};

    fn t(s: &str) -> Timestamp {
        time::parse_rfc3339(s).unwrap()
    }

    fn dep(id: &str, ts: &str, kind: &str, d: &str, v: Option<&str>) -> Value {
        let attrs = match v {
            Some(v) => json!({"model_version": v}),
            None => json!({}),
        };
        with(
            ev(
                id,
                ts,
                &format!("deployment.{kind}"),
                &format!("deployment:{d}"),
                attrs,
            ),
            "env",
            json!("production"),
        )
    }

    fn facts_of(case: &Case) -> Facts<'_> {
        Facts::compute(&case.loaded.model, &case.loaded.config)
    }

    #[test]
    fn state_machine_suspends_resumes_switches_and_stops() {
        let case = check_events(
            &[
                dep(
                    "d1",
                    "2026-01-01T00:00:00Z",
                    "started",
                    "dep-1",
                    Some("m@1"),
                ),
                dep("d2", "2026-01-02T00:00:00Z", "suspended", "dep-1", None),
                dep(
                    "d3",
                    "2026-01-03T00:00:00Z",
                    "started",
                    "dep-1",
                    Some("m@1"),
                ),
                dep(
                    "d4",
                    "2026-01-04T00:00:00Z",
                    "changed",
                    "dep-1",
                    Some("m@2"),
                ),
                dep("d5", "2026-01-05T00:00:00Z", "stopped", "dep-1", None),
                // Same version and env again: the open interval continues.
                dep(
                    "d6",
                    "2026-01-06T00:00:00Z",
                    "started",
                    "dep-1",
                    Some("m@2"),
                ),
                dep(
                    "d7",
                    "2026-01-07T00:00:00Z",
                    "changed",
                    "dep-1",
                    Some("m@2"),
                ),
            ],
            "",
        );
        let f = facts_of(&case);
        let d = f.deployment("dep-1").unwrap();
        let got: Vec<_> = d
            .intervals
            .iter()
            .map(|iv| {
                (
                    time::fmt(iv.start),
                    iv.end.map(time::fmt),
                    iv.version.as_str(),
                    case.loaded.model.event(iv.opened_by).id.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "2026-01-01T00:00:00Z".into(),
                    Some("2026-01-02T00:00:00Z".into()),
                    "m@1",
                    "d1"
                ),
                (
                    "2026-01-03T00:00:00Z".into(),
                    Some("2026-01-04T00:00:00Z".into()),
                    "m@1",
                    "d3"
                ),
                (
                    "2026-01-04T00:00:00Z".into(),
                    Some("2026-01-05T00:00:00Z".into()),
                    "m@2",
                    "d4"
                ),
                ("2026-01-06T00:00:00Z".into(), None, "m@2", "d6"),
            ]
        );
        assert!(d.production);
        assert!(f.active("dep-1", t("2026-01-01T00:00:00Z")));
        assert!(
            !f.active("dep-1", t("2026-01-02T00:00:00Z")),
            "suspended at its own time"
        );
        assert!(!f.active("dep-1", t("2026-01-02T12:00:00Z")));
        assert_eq!(f.serves("dep-1", t("2026-01-03T12:00:00Z")), Some("m@1"));
        assert_eq!(
            f.serves("dep-1", t("2026-01-04T00:00:00Z")),
            Some("m@2"),
            "changed at t"
        );
        assert_eq!(
            f.serves("dep-1", t("2026-01-05T12:00:00Z")),
            None,
            "stopped"
        );
        assert_eq!(f.serves("dep-1", t("2026-01-07T12:00:00Z")), Some("m@2"));
        assert_eq!(
            f.serves("dep-1", t("2025-12-31T00:00:00Z")),
            None,
            "before start"
        );
        assert_eq!(f.serves("dep-9", t("2026-01-03T00:00:00Z")), None);
    }

    #[test]
    fn deployed_first_prod_and_in_use() {
        let staging = |e: Value| with(e, "env", json!("staging"));
        let case = check_events(
            &[
                staging(dep(
                    "s1",
                    "2026-01-01T00:00:00Z",
                    "started",
                    "dep-s",
                    Some("m@3"),
                )),
                dep(
                    "p1",
                    "2026-01-02T00:00:00Z",
                    "started",
                    "dep-p",
                    Some("m@1"),
                ),
                dep(
                    "p2",
                    "2026-01-03T00:00:00Z",
                    "changed",
                    "dep-p",
                    Some("m@2"),
                ),
                dep(
                    "q1",
                    "2026-01-04T00:00:00Z",
                    "started",
                    "dep-q",
                    Some("m@2"),
                ),
                dep("q2", "2026-01-05T00:00:00Z", "stopped", "dep-q", None),
                // Served in production, but only after the as-of time.
                dep(
                    "p3",
                    "2026-02-01T00:00:00Z",
                    "changed",
                    "dep-p",
                    Some("m@4"),
                ),
            ],
            "[report]\nas_of = \"2026-01-10T00:00:00Z\"\n",
        );
        let f = facts_of(&case);
        assert!(!f.production("dep-s") && f.production("dep-p") && f.production("dep-q"));
        assert!(f.deployed("m@1") && f.deployed("m@2"));
        assert!(!f.deployed("m@3"), "staging only");
        assert!(!f.deployed("m@4"), "after T");
        assert_eq!(f.first_prod("m@1"), Some(t("2026-01-02T00:00:00Z")));
        assert_eq!(f.first_prod("m@2"), Some(t("2026-01-03T00:00:00Z")));
        let u = f.version_use("m@2").unwrap();
        assert_eq!(case.loaded.model.event(u.first_event).id, "p2");
        assert_eq!(u.deployments, ["dep-p", "dep-q"]);
        assert!(!f.in_use("m@1"), "replaced by m@2");
        assert!(f.in_use("m@2"), "dep-p still serves it at T");
        let vs: Vec<_> = f.deployed_versions().map(|(v, _)| v).collect();
        assert_eq!(vs, ["m@1", "m@2"]);
    }

    #[test]
    fn production_envs_come_from_config() {
        let case = check_events(
            &[with(
                dep(
                    "p1",
                    "2026-01-02T00:00:00Z",
                    "started",
                    "dep-p",
                    Some("m@1"),
                ),
                "env",
                json!("prod-eu"),
            )],
            "[policy]\nproduction_envs = [\"prod-eu\"]\n",
        );
        assert!(facts_of(&case).deployed("m@1"));
    }

    #[test]
    fn systems_follow_the_fallbacks() {
        let case = check_events(
            &[
                with(
                    ev(
                        "s1",
                        "2026-01-01T00:00:00Z",
                        "system.registered",
                        "system:credit",
                        json!({"name": "Credit", "risk": "high", "role": "provider",
                               "annex_iii_point": "4(a)", "jurisdictions": ["US-NY-NYC"]}),
                    ),
                    "system",
                    json!("credit"),
                ),
                with(
                    ev(
                        "r1",
                        "2026-01-01T01:00:00Z",
                        "model.registered",
                        "model_version:m@1",
                        json!({"model": "m", "version": "1", "developers": ["ari", "bo"]}),
                    ),
                    "system",
                    json!("credit"),
                ),
                with(
                    ev(
                        "r2",
                        "2026-01-01T01:00:00Z",
                        "model.registered",
                        "model_version:m@2",
                        json!({"model": "m", "version": "2", "developers": "ari"}),
                    ),
                    "actor",
                    json!({"id": "cy", "type": "human"}),
                ),
                dep(
                    "d1",
                    "2026-01-02T00:00:00Z",
                    "started",
                    "dep-1",
                    Some("m@1"),
                ),
                ev(
                    "x1",
                    "2026-01-02T01:00:00Z",
                    "decision.made",
                    "decision:x1",
                    json!({"deployment": "dep-1", "model_version": "m@1"}),
                ),
                ev(
                    "i1",
                    "2026-01-03T00:00:00Z",
                    "incident.opened",
                    "incident:inc-1",
                    json!({"title": "t", "affects": ["dataset:a@1", "deployment:dep-1"]}),
                ),
                ev(
                    "o1",
                    "2026-01-03T01:00:00Z",
                    "oversight.action",
                    "decision:x1",
                    json!({"action": "confirm", "reviewer": "r"}),
                ),
            ],
            "",
        );
        let f = facts_of(&case);
        let m = &case.loaded.model;
        let node = |s: &str| NodeId::parse(s).unwrap();
        assert_eq!(
            f.system_of(&node("deployment:dep-1")),
            Some("credit"),
            "first version's"
        );
        assert_eq!(
            f.system_of(&node("decision:x1")),
            Some("credit"),
            "its deployment's"
        );
        assert_eq!(
            f.system_of(&node("incident:inc-1")),
            Some("credit"),
            "through affects"
        );
        assert_eq!(f.system_of(&node("system:other")), Some("other"));
        assert_eq!(f.system_of(&node("model_version:m@2")), None);
        assert_eq!(f.system_of(&node("dataset:a@1")), None);
        let o1 = m.event(m.by_id("o1").unwrap());
        assert_eq!(f.system_of_event(o1), Some("credit"));
        assert_eq!(f.system_of_version("m@1"), Some("credit"));
        let s = Some("credit");
        assert!(f.high_risk(s) && f.provider(s) && !f.deployer(s) && f.employment(s));
        assert!(f.nyc_aedt(s) && !f.rbi(s) && !f.fria_scope(s));
        assert!(!f.high_risk(None) && !f.high_risk(Some("other")));
        assert_eq!(f.developers("m@1"), ["ari", "bo"]);
        assert_eq!(f.developers("m@2"), ["ari", "cy"]);
        assert!(f.developers("m@9").is_empty());
    }

    #[test]
    fn documents_are_effective_in_their_window() {
        let case = check_events(
            &[ev(
                "doc1",
                "2026-01-01T00:00:00Z",
                "document.registered",
                "document:ifu-1",
                json!({"doc_type": "instructions_for_use", "describes": ["system:credit"],
                       "effective_from": "2026-02-01", "effective_to": "2026-03-01T00:00:00Z"}),
            )],
            "",
        );
        let f = facts_of(&case);
        let node = NodeId::parse("system:credit").unwrap();
        let at = |s: &str| {
            f.effective_documents(&node, Some("instructions_for_use"), t(s))
                .map(|d| d.id.clone())
                .collect::<Vec<_>>()
        };
        assert!(at("2026-01-15T00:00:00Z").is_empty());
        assert_eq!(at("2026-02-01T00:00:00Z"), ["ifu-1"]);
        assert!(
            at("2026-03-01T00:00:00Z").is_empty(),
            "effective_to is exclusive"
        );
        assert_eq!(
            f.effective_documents(&node, Some("datasheet"), t("2026-02-10T00:00:00Z"))
                .count(),
            0
        );
    }
}
