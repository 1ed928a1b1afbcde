//! LINK — graph consistency (baseline): LINK-01 … LINK-05 (`RULES.md` §3.2).
//!
//! Inputs: the model's effective events of the as-of view (corrections applied), its entities
//! (with the unresolved mark), the lineage graph and `[policy]` (`clock_skew`, the environment
//! ladder). Outputs: one draft per subject and discriminator; drafts that several events would
//! raise (a promotion on the path of several deployments, a missing event named twice) are merged
//! into one, with every event as evidence.
//!
//! Every walk is over `BTreeMap`s, sorted vectors or the events in model order, so the drafts come
//! out in the same order for the same input; the engine sorts them again anyway (§6.2).

use crate::checks::facts::{ApprovalIssue, check_approval};
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::catalogue::{ParamKind, param};
use super::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use crate::event::{EntityType, Event, KINDS, NodeId, present};
use crate::graph::{LineageGraph, Rel};
use crate::model::Model;
use crate::time;

pub static RULES: &[&dyn Rule] = &[&Link01, &Link02, &Link03, &Link04, &Link05];

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// A finding being assembled from one or more events: one per (subject, discriminator).
struct Pending {
    check: &'static str,
    level: Level,
    /// Distinct messages, in the order they were first raised.
    messages: Vec<String>,
    /// Evidence: event index → notes.
    evidence: BTreeMap<u32, BTreeSet<String>>,
    system: Option<String>,
    /// Whether the finding's time is its latest evidence (else: something missing at T).
    timed: bool,
}

impl Pending {
    fn say(&mut self, message: String) -> &mut Pending {
        if !self.messages.contains(&message) {
            self.messages.push(message);
        }
        self
    }

    fn note(&mut self, event: u32, note: impl Into<String>) -> &mut Pending {
        self.evidence.entry(event).or_default().insert(note.into());
        self
    }
}

/// Pending findings keyed by (subject, discriminator), so that a repeat merges into one.
#[derive(Default)]
struct Pendings(BTreeMap<(String, String), Pending>);

impl Pendings {
    fn raise(
        &mut self,
        subject: String,
        discriminator: String,
        check: &'static str,
        level: Level,
        system: Option<String>,
        timed: bool,
    ) -> &mut Pending {
        let p = self
            .0
            .entry((subject, discriminator))
            .or_insert_with(|| Pending {
                check,
                level,
                messages: Vec::new(),
                evidence: BTreeMap::new(),
                system: None,
                timed,
            });
        if p.system.is_none() {
            p.system = system;
        }
        p
    }

    fn finish(self, cx: &Cx<'_>) -> Vec<Draft> {
        let m = cx.model;
        self.0
            .into_iter()
            .map(|((subject, discriminator), p)| {
                let latest = p.evidence.keys().map(|&i| m.event(i).ts).max();
                let evidence = p.evidence.iter().map(|(&i, notes)| {
                    let note = (!notes.is_empty())
                        .then(|| notes.iter().cloned().collect::<Vec<_>>().join("; "));
                    cx.evi(i, note)
                });
                let mut d = Draft::new(
                    subject,
                    discriminator,
                    p.check,
                    p.level,
                    p.messages.join("; "),
                )
                .evidence(evidence)
                .system(p.system.as_deref());
                if p.timed
                    && let Some(t) = latest
                {
                    d = d.at(t);
                }
                d
            })
            .collect()
    }
}

/// A present string attribute.
fn attr_str<'a>(a: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    a.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The one system all these events belong to, if they agree.
fn common_system<'a>(m: &'a Model, events: impl Iterator<Item = &'a Event>) -> Option<String> {
    let systems: BTreeSet<&str> = events.filter_map(|e| m.system_of_event(e)).collect();
    (systems.len() == 1).then(|| systems.into_iter().next().unwrap_or_default().to_string())
}

/// A model version's node from the `MODEL@VERSION` written in an attribute.
fn version_node(v: &str) -> NodeId {
    NodeId::new(EntityType::ModelVersion, v)
}

/// An event as messages name it: `id` (kind, ts).
fn describe(e: &Event) -> String {
    format!("`{}` ({}, {})", e.id, e.kind, time::fmt(e.ts))
}

// ---------------------------------------------------------------------------------------------
// LINK-01 Unresolved reference

pub struct Link01;

static LINK01: RuleMeta = RuleMeta {
    id: "LINK-01",
    title: "Unresolved reference",
    levels: "`warn`; `deny` for node types in `deny_types`",
    basis: "D",
    sources: &[
        "AI Act Art. 12(2), Annex IV 2(d) [V]",
        "ISO/IEC 42001 A.7.5 [S]",
    ],
    needs: "Any event.",
    checks: "Every reference an event makes must name something the log registers. (a) A node referenced but never registered — subject = that node, evidence = every event that names it. The registering kinds are `system.registered` (system), `document.registered` (document), `dataset.registered` (dataset), `run.completed` (run), `feature.registered` (feature), `model.registered` (model_version), `deployment.started` (deployment), `decision.made` (decision) and `incident.opened` (incident); `job` and `resource` nodes have no registering kind and are never unresolved, and `model:M` resolves when any version of M is registered. References are the entity references of the event schema: the envelope `system`, the `subject` of every non-registering kind (`waiver.granted` included), `dataset.registered.datasheet`, `run.completed.inputs` and `.outputs`, `feature.registered.derived_from`, `model.registered.parent_version` (naming `model_version:MODEL@PARENT`), `.training_run` and `.datasets[].id`, `model.evaluated.datasets[].id`, `deployment.*.model_version`, `decision.made.model_version` and `.deployment`, `decision.batch.model_version`, `monitoring.alert.incident`, `incident.*.affects`, `document.registered.describes`, `legal_hold.set.scope`, `dsr.*.decision`, and `waiver.granted.target` when its TYPE is an entity type. A value that should be a `TYPE:ID` node id but is not one is reported the same way. (b) An event-id reference (`deployment.*.approval`, `model.promoted.approval`, `incident.*.evidence`) that matches no event at or before the as-of time — subject `event:ID` of the missing id. (c) A `[[link]]` join that matched nothing, or a pattern rule that matched entities but could fill its relation for none of some of them — subject `config:link[N]`, evidence = the events of those entities. Joins apply before everything else: `same` lists rewrite the ids they join to the canonical one, and a pattern rule's relations are references `link.REL` of the matched events, so a relation whose target nothing registers is (a). References also include `run.completed.parent_run` (a run id). Level `warn`; (a) is `deny` for node types listed in `deny_types`.",
    why: "An audit trail is only as good as its joins. A decision that names a model version nobody registered cannot be traced to its training data, evaluation or approval, which is what traceability of an AI system's functioning (AI Act Art. 12(2)) and the description of the data used (Annex IV 2(d)) rest on. An unresolved reference usually means a missing export, a typo, or two systems naming the same thing differently.",
    example: "Fires: a `decision.made` with `model_version: \"credit-risk@1.5.0\"`, which no `model.registered` registers. Passes: the `model.registered` of `credit-risk@1.5.0` is added, or the reference is corrected.",
    fix: "Add the missing registering event (export it from the registry or pipeline that holds it), or correct the referring event with a correcting event (`supersedes`, `reason`) that names the right id. Write node references as `TYPE:ID` (`dataset:loans@2026-01`).",
    not_checked: "That a registered entity is the one the referring system meant (the same id used for two different things). An unknown `supersedes` target is LOG-07 (b), not LINK-01.",
    params: &[param(
        "deny_types",
        ParamKind::Strs,
        "[\"model_version\", \"deployment\"]",
    )],
};

/// What registers a node of this type, for messages.
fn registering_kind(node: &NodeId) -> String {
    match node.entity_type() {
        Some(EntityType::Model) => {
            format!("no `model.registered` of any version of `{}`", node.id())
        }
        Some(ty) => KINDS
            .iter()
            .find(|k| k.registers && k.subject == Some(ty))
            .map_or_else(
                || format!("`{ty}` nodes have no registering kind"),
                |k| format!("no `{}` with this subject", k.name),
            ),
        None => "no registering kind".to_string(),
    }
}

impl Rule for Link01 {
    fn meta(&self) -> &'static RuleMeta {
        &LINK01
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let m = cx.model;
        if m.current().next().is_none() {
            return Outcome::not_evaluable("no event at or before the as-of time");
        }
        let deny: BTreeSet<String> = cx.strs("deny_types").into_iter().collect();
        let mut out = Pendings::default();

        // (a) unresolved nodes, in node-id order.
        for (node, entity) in &m.entities {
            if !entity.unresolved {
                continue;
            }
            let valid = NodeId::parse(node.as_str()).is_some();
            let ty = node.entity_type().filter(|_| valid);
            let level = if ty.is_some_and(|t| deny.contains(t.as_str())) {
                Level::Deny
            } else {
                Level::Warn
            };
            // Events of unknown kinds are LOG-01 (a)'s alone: no other rule reads them.
            let referring: Vec<u32> = entity
                .timeline
                .iter()
                .copied()
                .filter(|&i| m.event(i).spec().is_some())
                .collect();
            if referring.is_empty() {
                continue;
            }
            let system = match ty {
                Some(EntityType::System) => Some(node.id().to_string()),
                _ => common_system(m, referring.iter().map(|&i| m.event(i))),
            };
            let mut fields: BTreeSet<&str> = BTreeSet::new();
            let n = referring.len();
            let p = out.raise(node.to_string(), "a".into(), "a", level, system, false);
            for &i in &referring {
                let e = m.event(i);
                let named: Vec<&str> = e
                    .refs
                    .iter()
                    .filter(|r| r.target == *node)
                    .map(|r| r.field)
                    .collect();
                fields.extend(named.iter().copied());
                p.note(
                    i,
                    format!("`{}` names it in `{}`", e.kind, named.join("`, `")),
                );
            }
            let fields = fields.into_iter().collect::<Vec<_>>().join("`, `");
            let plural = if n == 1 { "" } else { "s" };
            let message = if valid {
                format!(
                    "`{node}` is named by {n} event{plural} (`{fields}`) but never registered: {}",
                    registering_kind(node)
                )
            } else {
                format!(
                    "`{}` (in `{fields}`, {n} event{plural}) is not a `TYPE:ID` node id with an entity type (e.g. `dataset:loans@2026-01`), so it names nothing",
                    time::clip(node.as_str(), 80)
                )
            };
            p.say(message);
        }

        // (b) event-id references matching no event of the view; `supersedes` is LOG-07.
        let mut missing: BTreeMap<&str, Vec<(u32, &'static str)>> = BTreeMap::new();
        for (i, e) in m.current() {
            for (field, id) in e.event_refs() {
                if *field != "supersedes" && m.by_id(id).is_none() {
                    missing.entry(id.as_str()).or_default().push((i, field));
                }
            }
        }
        for (id, refs) in missing {
            let system = common_system(m, refs.iter().map(|&(i, _)| m.event(i)));
            let p = out.raise(
                format!("event:{id}"),
                "b".into(),
                "b",
                Level::Warn,
                system,
                false,
            );
            for &(i, field) in &refs {
                p.note(i, format!("`{}` names it in `{field}`", m.event(i).kind));
            }
            let n = refs.len();
            p.say(format!(
                "event `{id}` is named by {n} event{} but is not an event of this report (unknown, quarantined or after the as-of time)",
                if n == 1 { "" } else { "s" }
            ));
        }
        // (c) `[[link]]` entries that matched nothing or could not state their relations.
        for l in &cx.ingest.links {
            if l.problems.is_empty() {
                continue;
            }
            let p = out.raise(
                format!("config:link[{}]", l.index),
                "c".into(),
                "c",
                Level::Warn,
                None,
                false,
            );
            for id in &l.evidence {
                if let Some(i) = m.by_id(id) {
                    p.note(i, "an event of a matched entity");
                }
            }
            p.say(format!(
                "`[[link]]` entry {} (`{}`, line {} of `{}`): {}",
                l.index,
                l.name,
                l.line,
                cx.config.path.display(),
                l.problems.join("; ")
            ));
        }
        Outcome::evaluated(out.finish(cx))
    }
}

// ---------------------------------------------------------------------------------------------
// LINK-02 Lineage cycle and time order

pub struct Link02;

static LINK02: RuleMeta = RuleMeta {
    id: "LINK-02",
    title: "Lineage cycle and time order",
    levels: "`deny`; (b) `warn`",
    basis: "D",
    sources: &["ISO/IEC 42001 A.7.5 [S]", "NIST AI RMF MAP 4.1 [V]"],
    needs: "`run.completed`, `feature.registered` or `model.registered`.",
    checks: "Over the lineage edges — `consumes` (run input → run), `produces` (run → output), `derived_from` (`feature.registered.derived_from` → feature; parent version → version) and `trained_on` (`datasets[].id` and `training_run` → version), as stated by each entity's current registering event: (a) a cycle, i.e. a strongly connected component of more than one node, or a node with an edge to itself — subject = the byte-wise smallest node id of the cycle, discriminator = the first 16 hex digits of the SHA-256 of its sorted node ids joined by LF; (b) time order: a `consumes`, `derived_from` or `trained_on` edge u → w where u's first registering event is later than the event stating the edge (w's current `run.completed`, `feature.registered` or `model.registered`) plus `[policy] clock_skew` — subject = w, discriminator = u, level `warn`. `training_run` edges are exempt (a version may be registered before its run completes), `produces` edges are not checked, and an unresolved u is LINK-01.",
    why: "Lineage is how an auditor follows a model back to the data it learnt from (ISO/IEC 42001 A.7.5 data provenance; NIST AI RMF MAP 4.1). Data cannot be its own ancestor, and a run cannot read a dataset that did not exist yet: a cycle or an input registered after its consumer means that ids were reused, versions overwritten or events mis-keyed, and the recorded provenance cannot be trusted.",
    example: "Fires: run `r1` consumes `dataset:a@1` and produces `dataset:b@1`; run `r2` consumes `dataset:b@1` and produces `dataset:a@1`. Passes: `r2` produces `dataset:a@2`.",
    fix: "Give each new data version its own id instead of overwriting an existing one, and correct mis-keyed inputs or outputs with a correcting event (`supersedes`, `reason`). For time order, register inputs when they are created (or correct their `ts` to when they were created), or check the clocks of the systems writing the events.",
    not_checked: "That the recorded inputs are all the inputs a run actually read; lineage stated outside the events (for example only in a pipeline's code).",
    params: &[],
};

/// The lineage relations of LINK-02.
fn is_lineage(rel: Rel) -> bool {
    matches!(
        rel,
        Rel::Consumes | Rel::Produces | Rel::DerivedFrom | Rel::TrainedOn
    )
}

/// A lineage edge with the event that states it, in (from, to, rel) order.
struct LineageEdge<'g> {
    from: &'g NodeId,
    to: &'g NodeId,
    rel: Rel,
    event: u32,
}

fn lineage_edges(g: &LineageGraph) -> Vec<LineageEdge<'_>> {
    let mut edges: Vec<LineageEdge<'_>> = (&g.graph)
        .edge_references()
        .filter(|e| is_lineage(e.weight().rel))
        .map(|e| LineageEdge {
            from: &g.graph[e.source()].id,
            to: &g.graph[e.target()].id,
            rel: e.weight().rel,
            event: e.weight().event,
        })
        .collect();
    edges.sort_by(|a, b| (a.from, a.to, a.rel, a.event).cmp(&(b.from, b.to, b.rel, b.event)));
    edges
}

/// The discriminator of a cycle: first 16 hex of SHA-256 of the sorted node ids joined by LF.
fn cycle_hash(sorted: &[&NodeId]) -> String {
    let joined = sorted
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    hex::encode(&Sha256::digest(joined.as_bytes())[..8])
}

impl Rule for Link02 {
    fn meta(&self) -> &'static RuleMeta {
        &LINK02
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let m = cx.model;
        let kinds = ["run.completed", "feature.registered", "model.registered"];
        if !m.current().any(|(_, e)| kinds.contains(&e.kind.as_str())) {
            return Outcome::not_evaluable(
                "no `run.completed`, `feature.registered` or `model.registered` event",
            );
        }
        let edges = lineage_edges(cx.graph);
        if edges.is_empty() {
            return Outcome::not_applicable(
                "no run, feature or model version states a lineage edge (`inputs`, `outputs`, `derived_from`, `parent_version`, `datasets`, `training_run`)",
            );
        }
        let mut out = Pendings::default();

        // (a) cycles: strongly connected components of the lineage edges, nodes in byte order.
        let nodes: BTreeSet<&NodeId> = edges.iter().flat_map(|e| [e.from, e.to]).collect();
        let mut g: DiGraph<&NodeId, ()> = DiGraph::new();
        let ix: BTreeMap<&NodeId, NodeIndex> = nodes.iter().map(|&n| (n, g.add_node(n))).collect();
        for e in &edges {
            g.add_edge(ix[e.from], ix[e.to], ());
        }
        for scc in petgraph::algo::tarjan_scc(&g) {
            let self_loop = scc.len() == 1 && g.contains_edge(scc[0], scc[0]);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let mut members: Vec<&NodeId> = scc.iter().map(|&n| g[n]).collect();
            members.sort();
            let subject = members[0];
            let inside: BTreeSet<&NodeId> = members.iter().copied().collect();
            let p = out.raise(
                subject.to_string(),
                format!("a|{}", cycle_hash(&members)),
                "a",
                Level::Deny,
                cx.facts.system_of(subject).map(str::to_string),
                true,
            );
            for e in edges
                .iter()
                .filter(|e| inside.contains(e.from) && inside.contains(e.to))
            {
                p.note(
                    e.event,
                    format!("{} → {} ({})", e.from, e.to, e.rel.as_str()),
                );
            }
            let list = members
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            p.say(if self_loop {
                format!("lineage cycle: `{subject}` is stated to be its own upstream")
            } else {
                format!(
                    "lineage cycle through {} nodes, each upstream of itself: {list}",
                    members.len()
                )
            });
        }

        // (b) time order of consumes, derived_from and trained_on edges (training_run exempt).
        let skew = cx.config.policy.clock_skew;
        for e in &edges {
            let exempt = e.rel == Rel::TrainedOn && e.from.entity_type() == Some(EntityType::Run);
            if e.rel == Rel::Produces || exempt {
                continue;
            }
            let Some(first) = m
                .entities
                .get(e.from)
                .and_then(|ent| ent.registered.first())
            else {
                continue; // unresolved (LINK-01), or a job, resource or model node
            };
            let (u_reg, stating) = (m.event(*first), m.event(e.event));
            if u_reg.ts <= skew.after(stating.ts) {
                continue;
            }
            let verb = match e.rel {
                Rel::Consumes => "consume",
                Rel::DerivedFrom => "be derived from",
                _ => "be trained on",
            };
            let p = out.raise(
                e.to.to_string(),
                format!("b|{}", e.from),
                "b",
                Level::Warn,
                cx.facts.system_of(e.to).map(str::to_string),
                true,
            );
            p.note(
                e.event,
                format!("states {} → {} ({})", e.from, e.to, e.rel.as_str()),
            );
            p.note(*first, format!("first registration of `{}`", e.from));
            p.say(format!(
                "`{}` is stated by {} to {verb} `{}`, which is first registered {} later, by {} (beyond clock_skew = {skew})",
                e.to,
                describe(stating),
                e.from,
                time::fmt_span(stating.ts, u_reg.ts),
                describe(u_reg),
            ));
        }
        Outcome::evaluated(out.finish(cx))
    }
}

// ---------------------------------------------------------------------------------------------
// LINK-03 Promotion path

pub struct Link03;

static LINK03: RuleMeta = RuleMeta {
    id: "LINK-03",
    title: "Promotion path",
    levels: "`deny`",
    basis: "D",
    sources: &[
        "SR 11-7 validation before implementation [V]",
        "PRA SS1/23 P4 [V]",
        "ISO/IEC 42001 A.6.2.5 [S]",
    ],
    needs: "`deployment.started` in an `env` above the first rung of the ladder L (`[policy] env_ladder`, or `env_ladder_by_system`).",
    checks: "For each deployment event X — a `deployment.started`, or a `deployment.changed` that changes the version — of a deployment D serving V in E = L[k], k > 0 (E = X's `env`, else the `env` of D's first `deployment.started`); subject `model_version:V`. X's path: P_k = the latest `model.promoted` of V with `to_env` = L[k] and `ts` ≤ X; then, while P_j exists and j > 1, P_(j−1) = the latest `model.promoted` of V with `to_env` = L[j−1] and `ts` ≤ P_j. Fires: (a) no P_k — discriminator = X's id; (b) a P_j whose `from_env` ≠ L[j−1] (a rung skipped), or, for j > 1, no P_(j−1) (V never reached `from_env`) — discriminator = P_j's id; (c) a P_j of the path (every rung, not only the last) whose `approval` is missing or is not a `model.validated` of V with `decision = \"approve\"` and `ts` ≤ P_j; with `validation_env_required`, that event's `env` must also equal P_j's `from_env` or `to_env` — discriminator = P_j's id. A promotion on the path of several deployment events gives one finding. Environments outside L are ignored. That the same artifact moves up the ladder is LINK-04 (a).",
    why: "Model risk guidance expects a model to be validated before it is used (SR 11-7 validation before implementation; PRA SS1/23 Principle 4), and ISO/IEC 42001 A.6.2.5 expects deployment to follow documented, approved steps. A version that reaches production without passing each environment of the ladder, or whose promotions carry no approving validation, was put into use without the evidence that it was checked.",
    example: "Fires: `credit-risk@1.4.0` promoted from development directly to production and deployed there. Passes: promoted development → staging → production, each step with an `approval` naming an approving `model.validated` of the version.",
    fix: "Promote through every environment of the ladder, each `model.promoted` naming its approving `model.validated` in `approval`. If the ladder of a system differs, declare it in `[policy] env_ladder_by_system`. If a promotion was recorded wrongly, correct it with a correcting event (`supersedes`, `reason`).",
    not_checked: "What the validation covered (its `scope` and `conditions`), and whether the validator was independent of the developers (ACC-02).",
    params: &[param("validation_env_required", ParamKind::Bool, "false")],
};

/// A `model.promoted` of one version, with the attributes the path walk reads.
struct Promotion {
    event: u32,
    ts: Timestamp,
    from_env: Option<String>,
    to_env: Option<String>,
    approval: Option<String>,
}

/// The latest promotion to `env` with `ts ≤ until` (promotions are in event order).
fn latest_to<'p>(promos: &'p [Promotion], env: &str, until: Timestamp) -> Option<&'p Promotion> {
    promos
        .iter()
        .rev()
        .find(|p| p.to_env.as_deref() == Some(env) && p.ts <= until)
}

/// Why a promotion's `approval` does not show an approving validation of `version`, if it does
/// not; with the approval event when there is one.
fn approval_problem(
    m: &Model,
    p: &Promotion,
    version: &NodeId,
    env_required: bool,
) -> Option<(String, Option<u32>)> {
    let pid = &m.event(p.event).id;
    let approval = p.approval.as_deref();
    let issue = match check_approval(m, approval, version, p.ts) {
        Ok(i) => {
            let a = m.event(i);
            if env_required
                && (a.env.is_none()
                    || (a.env.as_deref() != p.from_env.as_deref()
                        && a.env.as_deref() != p.to_env.as_deref()))
            {
                let problem = format!(
                    "promotion `{pid}` ({} → {}) names approval `{}`, validated in env `{}` (validation_env_required)",
                    p.from_env.as_deref().unwrap_or("?"),
                    p.to_env.as_deref().unwrap_or("?"),
                    a.id,
                    a.env.as_deref().unwrap_or("(none)")
                );
                return Some((problem, Some(i)));
            }
            return None;
        }
        Err(issue) => issue,
    };
    let problem = match issue {
        ApprovalIssue::Missing => format!("promotion `{pid}` has no `approval`"),
        ApprovalIssue::Unknown => format!(
            "promotion `{pid}` names approval `{}`, which is not an event of this report",
            approval.unwrap_or_default()
        ),
        ApprovalIssue::NotValidation(i) => {
            let a = m.event(i);
            format!(
                "promotion `{pid}` names approval `{}`, a `{}`, not a `model.validated`",
                a.id, a.kind
            )
        }
        ApprovalIssue::OtherVersion(i) => {
            let a = m.event(i);
            let other = a.subject_node().map(|n| n.to_string()).unwrap_or_default();
            format!(
                "promotion `{pid}` names approval `{}`, which validates `{other}`, not `{version}`",
                a.id
            )
        }
        ApprovalIssue::NotApproved(i) => {
            let a = m.event(i);
            let decision = attr_str(&a.attrs(), "decision")
                .unwrap_or("(none)")
                .to_string();
            format!(
                "promotion `{pid}` names approval `{}`, whose decision is `{decision}`, not `approve`",
                a.id
            )
        }
        ApprovalIssue::Later(i) => {
            let a = m.event(i);
            format!(
                "promotion `{pid}` ({}) names approval `{}`, which comes later ({})",
                time::fmt(p.ts),
                a.id,
                time::fmt(a.ts)
            )
        }
    };
    Some((problem, issue.event()))
}

impl Rule for Link03 {
    fn meta(&self) -> &'static RuleMeta {
        &LINK03
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let m = cx.model;
        let policy = &cx.config.policy;
        let env_required = cx.flag("validation_env_required");

        // The deployment events X in scope, in event order.
        struct X {
            event: u32,
            deployment: NodeId,
            version: NodeId,
            ladder: Vec<String>,
            k: usize,
            system: Option<String>,
        }
        let mut xs: Vec<X> = Vec::new();
        let mut serving: BTreeMap<NodeId, String> = BTreeMap::new();
        let mut any_started = false;
        for (i, e) in m.current() {
            let started = e.kind == "deployment.started";
            if !started && e.kind != "deployment.changed" {
                continue;
            }
            any_started |= started;
            let Some(d) = e.subject_node() else { continue };
            let a = e.attrs();
            let Some(v) = attr_str(&a, "model_version") else {
                continue;
            };
            let before = serving.insert(d.clone(), v.to_string());
            if !started && before.as_deref() == Some(v) {
                continue; // a change that keeps the version
            }
            let env = e
                .env
                .clone()
                .or_else(|| m.first_registration(&d).and_then(|f| f.env.clone()));
            let version = version_node(v);
            // The ladder is the deployment's system's; the finding's system is the version's.
            let deployed_in = e
                .system
                .as_deref()
                .map(str::to_string)
                .or_else(|| cx.facts.system_of(&d).map(str::to_string))
                .or_else(|| cx.facts.system_of(&version).map(str::to_string));
            let ladder = policy.ladder(deployed_in.as_deref()).to_vec();
            let system = cx
                .facts
                .system_of(&version)
                .map(str::to_string)
                .or(deployed_in);
            let Some(k) = env.and_then(|env| ladder.iter().position(|r| *r == env)) else {
                continue; // environments outside the ladder are ignored
            };
            if k > 0 {
                xs.push(X {
                    event: i,
                    deployment: d,
                    version,
                    ladder,
                    k,
                    system,
                });
            }
        }
        if xs.is_empty() {
            return Outcome::not_evaluable(if any_started {
                "no `deployment.started` in an environment above the first rung of its ladder (`[policy] env_ladder`, `env_ladder_by_system`)"
            } else {
                "no `deployment.started` event"
            });
        }

        let mut promotions: BTreeMap<NodeId, Vec<Promotion>> = BTreeMap::new();
        let mut out = Pendings::default();
        for x in &xs {
            let xe = m.event(x.event);
            let promos = promotions.entry(x.version.clone()).or_insert_with(|| {
                m.about(&x.version, "model.promoted")
                    .map(|(i, e)| {
                        let a = e.attrs();
                        let s = |k: &str| attr_str(&a, k).map(str::to_string);
                        Promotion {
                            event: i,
                            ts: e.ts,
                            from_env: s("from_env"),
                            to_env: s("to_env"),
                            approval: s("approval"),
                        }
                    })
                    .collect()
            });
            let subject = x.version.to_string();
            let v = x.version.id();
            let ladder = &x.ladder;
            let on_path = format!(
                "`{}` deploys `{v}` to `{}` (`{}`)",
                xe.kind, ladder[x.k], x.deployment
            );
            let Some(mut p) = latest_to(promos, &ladder[x.k], xe.ts) else {
                out.raise(subject, format!("a|{}", xe.id), "a", Level::Deny, x.system.clone(), true)
                    .note(x.event, on_path)
                    .say(format!(
                        "{} deploys `{v}` to `{}` with no `model.promoted` of it to `{}` at or before that time",
                        describe(xe),
                        ladder[x.k],
                        ladder[x.k]
                    ));
                continue;
            };
            let mut j = x.k;
            loop {
                let pe = m.event(p.event);
                let rungs = ladder.join(" → ");
                // (c) every promotion of the path needs an approving validation of V.
                if let Some((problem, approval)) = approval_problem(m, p, &x.version, env_required)
                {
                    let f = out.raise(
                        subject.clone(),
                        format!("c|{}", pe.id),
                        "c",
                        Level::Deny,
                        x.system.clone(),
                        true,
                    );
                    f.note(p.event, "promotion on the path")
                        .note(x.event, on_path.clone());
                    if let Some(a) = approval {
                        f.note(a, "the named approval");
                    }
                    f.say(problem);
                }
                // (b) the promotion comes from the rung below, and V reached that rung before.
                let below = &ladder[j - 1];
                let next = if j > 1 {
                    latest_to(promos, below, p.ts)
                } else {
                    None
                };
                let mut reasons = Vec::new();
                if p.from_env.as_deref() != Some(below.as_str()) {
                    reasons.push(format!(
                        "`{}` promotes `{v}` from `{}` to `{}`, skipping `{below}` (ladder {rungs})",
                        pe.id,
                        p.from_env.as_deref().unwrap_or("(none)"),
                        ladder[j]
                    ));
                }
                if j > 1 && next.is_none() {
                    reasons.push(format!(
                        "`{v}` was never promoted to `{below}` at or before `{}` ({})",
                        pe.id,
                        time::fmt(pe.ts)
                    ));
                }
                if !reasons.is_empty() {
                    let f = out.raise(
                        subject.clone(),
                        format!("b|{}", pe.id),
                        "b",
                        Level::Deny,
                        x.system.clone(),
                        true,
                    );
                    f.note(p.event, "promotion on the path")
                        .note(x.event, on_path.clone());
                    for r in reasons {
                        f.say(r);
                    }
                }
                match next {
                    Some(n) => {
                        p = n;
                        j -= 1;
                    }
                    None => break,
                }
            }
        }
        Outcome::evaluated(out.finish(cx))
    }
}

// ---------------------------------------------------------------------------------------------
// LINK-04 Artifact digest reconciliation

pub struct Link04;

static LINK04: RuleMeta = RuleMeta {
    id: "LINK-04",
    title: "Artifact digest reconciliation",
    levels: "`deny`",
    basis: "D",
    sources: &["SR 11-7 change control [V]", "AI Act Annex IV 1(a) [V]"],
    needs: "`model.registered` with `artifact_digest`, or `dataset.registered` with `digest`.",
    checks: "Subject `model_version:V` or `dataset:ID`, discriminator = the disagreeing event's id: (a) a `model.promoted` whose `artifact_digest` differs from V's registered `artifact_digest`; (b) a `deployment.started` or `.changed` whose `artifact_digest` differs from the registered digest of the version it serves; (c) a deployment's `target.image_digest` that differs from the digest pinned in V's `runtime.container_image` (`…@sha256:…`); (d) two registrations of one model version, or of one dataset id, with different digests and no `supersedes` between them (the later registration is the disagreeing event). V's registered digest is that of its current registration (corrections applied). Digests compare ignoring case and a leading `sha256:`; an event without the digest is not compared.",
    why: "Change control means that what was validated is what was promoted and what runs (SR 11-7), and the technical documentation identifies the version of the system (AI Act Annex IV 1(a)). A digest that changes along the way means the artifact in production may not be the one the evidence is about.",
    example: "Fires: a promotion to production with `artifact_digest: \"sha256:aa…\"` while `model.registered` says `\"sha256:51ab…\"`. Passes: the registered artifact is promoted.",
    fix: "Promote and deploy the registered artifact; if the artifact legitimately changed, register a new version (or correct the registration with `supersedes` and a `reason`) and validate it. Pin container images by digest in `runtime.container_image` and deploy that image.",
    not_checked: "That the digests match the artifact bytes themselves: trailbook compares recorded digests, it does not fetch artifacts.",
    params: &[],
};

/// A model version's current registration, as LINK-04 reads it.
#[derive(Clone)]
struct Registration {
    event: u32,
    /// `artifact_digest`.
    digest: Option<String>,
    /// `runtime.container_image`.
    image: Option<String>,
}

/// Digests compare ignoring case and a leading `sha256:`.
fn same_digest(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        s.strip_prefix("sha256:").map(str::to_string).unwrap_or(s)
    };
    norm(a) == norm(b)
}

/// The digest pinned in a container image reference (`repo/image@sha256:…`).
fn pinned_digest(image: &str) -> Option<&str> {
    image
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| d.to_ascii_lowercase().starts_with("sha256:"))
}

impl Rule for Link04 {
    fn meta(&self) -> &'static RuleMeta {
        &LINK04
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let m = cx.model;
        let digest_key = |kind: &str| match kind {
            "model.registered" => Some("artifact_digest"),
            "dataset.registered" => Some("digest"),
            _ => None,
        };
        let has_digest = m
            .current()
            .any(|(_, e)| digest_key(&e.kind).is_some_and(|k| attr_str(&e.attrs(), k).is_some()));
        if !has_digest {
            return Outcome::not_evaluable(
                "no `model.registered` with `artifact_digest` and no `dataset.registered` with `digest`",
            );
        }
        let mut out = Pendings::default();

        // V's current registration and its digests, once per version.
        let mut registered: BTreeMap<NodeId, Option<Registration>> = BTreeMap::new();
        let mut registration = |v: &NodeId| {
            registered
                .entry(v.clone())
                .or_insert_with(|| {
                    let &i = m.entity(v)?.registered.last()?;
                    let a = m.event(i).attrs();
                    let digest = attr_str(&a, "artifact_digest").map(str::to_string);
                    let image = a
                        .get("runtime")
                        .and_then(|r| r.get("container_image"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    Some(Registration {
                        event: i,
                        digest,
                        image,
                    })
                })
                .clone()
        };

        for (i, e) in m.current() {
            let is_deploy = matches!(e.kind.as_str(), "deployment.started" | "deployment.changed");
            if e.kind != "model.promoted" && !is_deploy {
                continue;
            }
            let a = e.attrs();
            let version = if is_deploy {
                match attr_str(&a, "model_version") {
                    Some(v) => version_node(v),
                    None => continue,
                }
            } else {
                match e.subject_node() {
                    Some(n) => n,
                    None => continue,
                }
            };
            let Some(Registration {
                event: reg,
                digest: reg_digest,
                image,
            }) = registration(&version)
            else {
                continue;
            };
            let reg_e = m.event(reg);
            let system = cx.facts.system_of(&version).map(str::to_string);
            let check = if is_deploy { "b" } else { "a" };
            if let (Some(found), Some(want)) = (attr_str(&a, "artifact_digest"), &reg_digest)
                && !same_digest(found, want)
            {
                out.raise(
                    version.to_string(),
                    format!("{check}|{}", e.id),
                    check,
                    Level::Deny,
                    system.clone(),
                    true,
                )
                .note(i, format!("`artifact_digest` {found}"))
                .note(reg, format!("registered `artifact_digest` {want}"))
                .say(format!(
                    "{} carries `artifact_digest` `{found}`, but `{version}` is registered by `{}` with `{want}`",
                    describe(e),
                    reg_e.id
                ));
            }
            if !is_deploy {
                continue;
            }
            let found = a
                .get("target")
                .and_then(|t| t.get("image_digest"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty());
            let pinned = image
                .as_deref()
                .and_then(|img| pinned_digest(img).map(|d| (img, d)));
            if let (Some(found), Some((img, want))) = (found, pinned)
                && !same_digest(found, want)
            {
                out.raise(
                    version.to_string(),
                    format!("c|{}", e.id),
                    "c",
                    Level::Deny,
                    system.clone(),
                    true,
                )
                .note(i, format!("`target.image_digest` {found}"))
                .note(reg, format!("`runtime.container_image` {img}"))
                .say(format!(
                    "{} runs image digest `{found}`, but `{version}` pins `{want}` in `runtime.container_image` (`{}`)",
                    describe(e),
                    reg_e.id
                ));
            }
        }

        // (d) registrations of one version or dataset whose digest changes without a correction.
        for (node, entity) in &m.entities {
            let ty = node.entity_type();
            let key = match ty {
                Some(EntityType::ModelVersion) => "artifact_digest",
                Some(EntityType::Dataset) => "digest",
                _ => continue,
            };
            let mut previous: Option<(u32, String)> = None;
            for &i in &entity.registered {
                let e = m.event(i);
                let Some(digest) = attr_str(&e.attrs(), key).map(str::to_string) else {
                    continue;
                };
                if let Some((pi, pd)) = &previous
                    && !same_digest(pd, &digest)
                {
                    let pe = m.event(*pi);
                    out.raise(
                        node.to_string(),
                        format!("d|{}", e.id),
                        "d",
                        Level::Deny,
                        cx.facts.system_of(node).map(str::to_string),
                        true,
                    )
                    .note(*pi, format!("`{key}` {pd}"))
                    .note(i, format!("`{key}` {digest}"))
                    .say(format!(
                        "`{node}` is registered by `{}` with `{key}` `{pd}` and again by `{}` with `{digest}`, without `supersedes` between them",
                        pe.id, e.id
                    ));
                }
                previous = Some((i, digest));
            }
        }
        Outcome::evaluated(out.finish(cx))
    }
}

// ---------------------------------------------------------------------------------------------
// LINK-05 Orphan and failed runs

pub struct Link05;

static LINK05: RuleMeta = RuleMeta {
    id: "LINK-05",
    title: "Orphan and failed runs",
    levels: "`warn`; (b) `deny`",
    basis: "D",
    sources: &["ISO/IEC 42001 A.7.5, A.7.6 [S]", "NIST AI RMF MAP 4.1 [V]"],
    needs: "`run.completed`.",
    checks: "For each run (subject `run:ID`, read from its current `run.completed`): (a) `status = \"completed\"`, no `outputs`, and not any model version's `training_run` — an orphan run whose result the log does not show (`warn`); (b) `status` `failed` or `aborted` while one of its outputs is consumed by another run or listed in a `model.registered.datasets`, or it is a version's `training_run` (`deny`).",
    why: "Provenance must show where each artifact came from and that it is fit for use (ISO/IEC 42001 A.7.5, A.7.6; NIST AI RMF MAP 4.1). A run that completed but produced nothing traceable leaves a gap in the lineage; an output of a failed or aborted run that is used downstream means a model may have been built on incomplete or corrupt data.",
    example: "Fires: failed run `r9` outputs `dataset:features@9`, which `credit-risk@1.5.0` lists for training. Passes: the version is retrained on the output of a completed run.",
    fix: "For (a), record the run's `outputs` (or link the model version that it trained through `training_run`). For (b), rebuild downstream artifacts from a completed run; if the status was recorded wrongly, correct the `run.completed` with a correcting event (`supersedes`, `reason`).",
    not_checked: "Whether a completed run's outputs are correct, and uses of its outputs that the events do not record.",
    params: &[],
};

impl Rule for Link05 {
    fn meta(&self) -> &'static RuleMeta {
        &LINK05
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let m = cx.model;
        if m.of_kind("run.completed").next().is_none() {
            return Outcome::not_evaluable("no `run.completed` event");
        }
        let g = &cx.graph.graph;
        let mut out = Pendings::default();
        for (node, entity) in &m.entities {
            if node.entity_type() != Some(EntityType::Run) {
                continue;
            }
            let Some(&state) = entity.registered.last() else {
                continue;
            };
            let a = m.event(state).attrs();
            let status = attr_str(&a, "status").unwrap_or_default();
            let system = cx.facts.system_of(node).map(str::to_string);
            // Uses of the run, from the lineage graph (stated by current registrations): the
            // versions it trained (`training_run`), and its outputs consumed by another run or
            // listed in a version's `datasets`.
            let mut trained: Vec<(u32, String)> = Vec::new();
            let mut used: Vec<(u32, String)> = Vec::new();
            if let Some(r) = cx.graph.node(node) {
                for edge in g.edges(r) {
                    let target = &g[edge.target()].id;
                    match edge.weight().rel {
                        Rel::TrainedOn => trained.push((
                            edge.weight().event,
                            format!("`{target}` names it as `training_run`"),
                        )),
                        Rel::Produces => {
                            for next in g.edges(edge.target()) {
                                let by = &g[next.target()].id;
                                let note = match next.weight().rel {
                                    Rel::Consumes if by != node => {
                                        format!("`{by}` consumes its output `{target}`")
                                    }
                                    Rel::TrainedOn => {
                                        format!("`{by}` is trained on its output `{target}`")
                                    }
                                    _ => continue,
                                };
                                used.push((next.weight().event, note));
                            }
                        }
                        _ => {}
                    }
                }
            }
            match status {
                "completed" if !present(a.get("outputs")) && trained.is_empty() => {
                    out.raise(node.to_string(), "a".into(), "a", Level::Warn, system, false)
                        .note(state, "completed, no `outputs`")
                        .say(format!(
                            "run `{}` completed with no `outputs`, and no model version names it as `training_run`",
                            node.id()
                        ));
                }
                "failed" | "aborted" if !(trained.is_empty() && used.is_empty()) => {
                    let mut uses: Vec<(u32, String)> = trained.into_iter().chain(used).collect();
                    uses.sort();
                    uses.dedup();
                    let p = out.raise(node.to_string(), "b".into(), "b", Level::Deny, system, true);
                    p.note(state, format!("status `{status}`"));
                    for (i, note) in &uses {
                        p.note(*i, note.clone());
                    }
                    let list = uses
                        .iter()
                        .map(|(_, n)| n.as_str())
                        .collect::<Vec<_>>()
                        .join("; ");
                    p.say(format!(
                        "run `{}` has status `{status}`, yet {list}",
                        node.id()
                    ));
                }
                _ => {}
            }
        }
        Outcome::evaluated(out.finish(cx))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use sha2::{Digest, Sha256};

    use crate::checks::Status;
    use crate::testing::{Case, check_events, ev, with};

    type Keys = Vec<(String, String, String)>;

    fn keys(items: &[(&str, &str, &str)]) -> Keys {
        let mut v: Keys = items
            .iter()
            .map(|(s, d, l)| (s.to_string(), d.to_string(), l.to_string()))
            .collect();
        v.sort();
        v
    }

    /// `(path, line)` of each evidence entry of the only finding of `rule`.
    fn evidence(case: &Case, rule: &str) -> Vec<(String, u64)> {
        let found = case.of(rule);
        assert_eq!(found.len(), 1, "{rule}: {:?}", case.keys(rule));
        found[0]
            .evidence
            .iter()
            .map(|e| (e.path.clone(), e.line))
            .collect()
    }

    fn at(env: &str, e: Value) -> Value {
        with(e, "env", json!(env))
    }

    fn model(id: &str, ts: &str, v: &str, extra: Value) -> Value {
        let (name, version) = v.split_once('@').unwrap();
        let mut attrs = json!({"model": name, "version": version});
        for (k, x) in extra.as_object().unwrap() {
            attrs[k] = x.clone();
        }
        ev(
            id,
            ts,
            "model.registered",
            &format!("model_version:{v}"),
            attrs,
        )
    }

    fn dataset(id: &str, ts: &str, d: &str, extra: Value) -> Value {
        let (name, version) = d.split_once('@').unwrap();
        let mut attrs = json!({"name": name, "version": version});
        for (k, x) in extra.as_object().unwrap() {
            attrs[k] = x.clone();
        }
        ev(id, ts, "dataset.registered", &format!("dataset:{d}"), attrs)
    }

    fn run(id: &str, ts: &str, r: &str, status: &str, inputs: &[&str], outputs: &[&str]) -> Value {
        let mut attrs = json!({"job": "train", "status": status});
        if !inputs.is_empty() {
            attrs["inputs"] = json!(inputs);
        }
        if !outputs.is_empty() {
            attrs["outputs"] = json!(outputs);
        }
        ev(id, ts, "run.completed", &format!("run:{r}"), attrs)
    }

    fn deploy(id: &str, ts: &str, kind: &str, d: &str, v: &str, extra: Value) -> Value {
        let mut attrs = json!({"model_version": v});
        for (k, x) in extra.as_object().unwrap() {
            attrs[k] = x.clone();
        }
        ev(id, ts, kind, &format!("deployment:{d}"), attrs)
    }

    fn validated(id: &str, ts: &str, v: &str, decision: &str) -> Value {
        ev(
            id,
            ts,
            "model.validated",
            &format!("model_version:{v}"),
            json!({"validator": "carol", "decision": decision}),
        )
    }

    fn promoted(
        id: &str,
        ts: &str,
        v: &str,
        from: &str,
        to: &str,
        approval: Option<&str>,
    ) -> Value {
        let mut attrs = json!({"from_env": from, "to_env": to});
        if let Some(a) = approval {
            attrs["approval"] = json!(a);
        }
        ev(
            id,
            ts,
            "model.promoted",
            &format!("model_version:{v}"),
            attrs,
        )
    }

    // ---- LINK-01 ----

    fn link01_case(register_150: bool) -> Case {
        let mut events = vec![
            model(
                "reg-140",
                "2026-01-10T09:00:00Z",
                "credit-risk@1.4.0",
                json!({}),
            ),
            at(
                "production",
                deploy(
                    "dep-1",
                    "2026-01-11T09:00:00Z",
                    "deployment.started",
                    "dep-7",
                    "credit-risk@1.4.0",
                    json!({}),
                ),
            ),
        ];
        if register_150 {
            events.push(model(
                "reg-150",
                "2026-01-11T10:00:00Z",
                "credit-risk@1.5.0",
                json!({}),
            ));
        }
        events.push(ev(
            "dec-1",
            "2026-01-12T09:00:00Z",
            "decision.made",
            "decision:d1",
            json!({"deployment": "dep-7", "model_version": "credit-risk@1.5.0"}),
        ));
        check_events(&events, "")
    }

    #[test]
    fn link01_unregistered_model_version_is_deny_with_every_referring_event() {
        let case = link01_case(false);
        assert_eq!(
            case.keys("LINK-01"),
            keys(&[("model_version:credit-risk@1.5.0", "a", "deny")])
        );
        assert_eq!(evidence(&case, "LINK-01"), [("main.jsonl".to_string(), 3)]);
        let f = case.of("LINK-01")[0];
        assert!(f.message.contains("no `model.registered`"), "{}", f.message);
        assert_eq!(
            f.evidence[0].note.as_deref(),
            Some("`decision.made` names it in `attrs.model_version`")
        );
    }

    #[test]
    fn link01_passes_once_the_version_is_registered() {
        let case = link01_case(true);
        assert_eq!(case.keys("LINK-01"), keys(&[]));
        assert_eq!(case.status("LINK-01"), Some(&Status::Evaluated));
    }

    #[test]
    fn link01_levels_follow_deny_types_and_raw_values_are_reported() {
        let events = [
            run(
                "r-1",
                "2026-01-10T09:00:00Z",
                "r1",
                "completed",
                &["dataset:loans@1", "loans"],
                &[],
            ),
            // `model:M` resolves through any registered version; jobs and resources never dangle.
            model(
                "reg-1",
                "2026-01-10T10:00:00Z",
                "credit-risk@1.0.0",
                json!({}),
            ),
            ev(
                "acc-1",
                "2026-01-10T11:00:00Z",
                "access",
                "model:credit-risk",
                json!({"action": "read"}),
            ),
            ev(
                "acc-2",
                "2026-01-10T11:00:00Z",
                "access",
                "model:fraud",
                json!({"action": "read"}),
            ),
            ev(
                "acc-3",
                "2026-01-10T11:00:00Z",
                "access",
                "job:nightly",
                json!({"action": "read"}),
            ),
        ];
        let case = check_events(&events, "");
        assert_eq!(
            case.keys("LINK-01"),
            keys(&[
                ("dataset:loans@1", "a", "warn"),
                ("loans", "a", "warn"),
                ("model:fraud", "a", "warn")
            ])
        );
        let raw = case
            .of("LINK-01")
            .into_iter()
            .find(|f| f.subject == "loans")
            .unwrap();
        assert!(raw.message.contains("not a `TYPE:ID`"), "{}", raw.message);

        let case = check_events(
            &events,
            "[policy.params.LINK-01]\ndeny_types = [\"dataset\"]\n",
        );
        assert_eq!(
            case.keys("LINK-01"),
            keys(&[
                ("dataset:loans@1", "a", "deny"),
                ("loans", "a", "warn"),
                ("model:fraud", "a", "warn")
            ])
        );
    }

    #[test]
    fn link01_dangling_event_ids_but_not_supersedes() {
        let events = [
            model("reg-1", "2026-01-10T09:00:00Z", "m@1", json!({})),
            promoted(
                "p-1",
                "2026-01-11T09:00:00Z",
                "m@1",
                "development",
                "staging",
                Some("val-9"),
            ),
            with(
                with(
                    model("reg-1b", "2026-01-12T09:00:00Z", "m@1", json!({})),
                    "supersedes",
                    json!("nope"),
                ),
                "reason",
                json!("typo"),
            ),
            ev(
                "inc-1",
                "2026-01-13T09:00:00Z",
                "incident.opened",
                "incident:i1",
                json!({"title": "t", "evidence": ["p-1", "val-9"]}),
            ),
        ];
        let case = check_events(&events, "");
        assert_eq!(case.keys("LINK-01"), keys(&[("event:val-9", "b", "warn")]));
        let lines: Vec<u64> = case.of("LINK-01")[0]
            .evidence
            .iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, [2, 4]);
    }

    // ---- LINK-02 ----

    fn sha16(ids: &[&str]) -> String {
        hex::encode(&Sha256::digest(ids.join("\n").as_bytes())[..8])
    }

    fn link02_example(r2_output: &str) -> Case {
        check_events(
            &[
                dataset("ds-a", "2026-01-10T09:00:00Z", "a@1", json!({})),
                run(
                    "run-1",
                    "2026-01-10T10:00:00Z",
                    "r1",
                    "completed",
                    &["dataset:a@1"],
                    &["dataset:b@1"],
                ),
                dataset("ds-b", "2026-01-10T10:00:00Z", "b@1", json!({})),
                run(
                    "run-2",
                    "2026-01-10T11:00:00Z",
                    "r2",
                    "completed",
                    &["dataset:b@1"],
                    &[r2_output],
                ),
                dataset("ds-a2", "2026-01-10T11:00:00Z", "a@2", json!({})),
            ],
            "",
        )
    }

    #[test]
    fn link02_cycle_of_the_example() {
        let case = link02_example("dataset:a@1");
        let hash = sha16(&["dataset:a@1", "dataset:b@1", "run:r1", "run:r2"]);
        assert_eq!(
            case.keys("LINK-02"),
            keys(&[("dataset:a@1", &format!("a|{hash}"), "deny")])
        );
        assert_eq!(
            evidence(&case, "LINK-02"),
            [("main.jsonl".to_string(), 2), ("main.jsonl".to_string(), 4)]
        );
    }

    #[test]
    fn link02_passes_when_r2_produces_a_new_version() {
        let case = link02_example("dataset:a@2");
        assert_eq!(case.keys("LINK-02"), keys(&[]));
        assert_eq!(case.status("LINK-02"), Some(&Status::Evaluated));
    }

    #[test]
    fn link02_self_loop_is_a_cycle() {
        let case = check_events(
            &[ev(
                "f-1",
                "2026-01-10T09:00:00Z",
                "feature.registered",
                "feature:income",
                json!({"name": "income", "derived_from": ["feature:income"]}),
            )],
            "",
        );
        let hash = sha16(&["feature:income"]);
        assert_eq!(
            case.keys("LINK-02"),
            keys(&[("feature:income", &format!("a|{hash}"), "deny")])
        );
    }

    fn link02_time_order(extra: &str) -> Case {
        check_events(
            &[
                run(
                    "run-9",
                    "2026-01-10T08:00:00Z",
                    "r9",
                    "completed",
                    &[],
                    &["dataset:late@1"],
                ),
                model(
                    "reg-1",
                    "2026-01-10T09:00:00Z",
                    "m@1",
                    json!({"datasets": [{"id": "late@1", "role": "train"}, {"id": "ok@1", "role": "test"}],
                           "training_run": "r-after"}),
                ),
                // 30 s after the model: within the default clock skew of 1 min.
                dataset("ds-ok", "2026-01-10T09:00:30Z", "ok@1", json!({})),
                dataset("ds-late", "2026-01-10T09:30:00Z", "late@1", json!({})),
                // training_run edges are exempt.
                run(
                    "run-a",
                    "2026-01-10T10:00:00Z",
                    "r-after",
                    "completed",
                    &[],
                    &[],
                ),
            ],
            extra,
        )
    }

    #[test]
    fn link02_time_order_beyond_clock_skew() {
        let case = link02_time_order("");
        assert_eq!(
            case.keys("LINK-02"),
            keys(&[("model_version:m@1", "b|dataset:late@1", "warn")])
        );
        assert_eq!(
            evidence(&case, "LINK-02"),
            [("main.jsonl".to_string(), 2), ("main.jsonl".to_string(), 4)]
        );
        let case = link02_time_order("[policy]\nclock_skew = \"1 h\"\n");
        assert_eq!(case.keys("LINK-02"), keys(&[]));
    }

    #[test]
    fn link02_is_not_evaluable_without_lineage_kinds() {
        let case = check_events(
            &[dataset("ds-a", "2026-01-10T09:00:00Z", "a@1", json!({}))],
            "",
        );
        assert!(matches!(
            case.status("LINK-02"),
            Some(Status::NotEvaluable(_))
        ));
    }

    // ---- LINK-03 ----

    const V: &str = "credit-risk@1.4.0";
    const SUBJECT: &str = "model_version:credit-risk@1.4.0";

    fn ladder_case(steps: &[Value], extra: &str) -> Case {
        let mut events = vec![model("reg-1", "2026-01-10T09:00:00Z", V, json!({}))];
        events.extend_from_slice(steps);
        check_events(&events, extra)
    }

    fn prod_start(id: &str, ts: &str) -> Value {
        at(
            "production",
            deploy(id, ts, "deployment.started", "dep-7", V, json!({})),
        )
    }

    #[test]
    fn link03_example_skipping_staging() {
        let case = ladder_case(
            &[
                validated("val-1", "2026-01-11T09:00:00Z", V, "approve"),
                promoted(
                    "p-1",
                    "2026-01-12T09:00:00Z",
                    V,
                    "development",
                    "production",
                    Some("val-1"),
                ),
                prod_start("dep-1", "2026-01-13T09:00:00Z"),
            ],
            "",
        );
        assert_eq!(case.keys("LINK-03"), keys(&[(SUBJECT, "b|p-1", "deny")]));
        assert_eq!(
            evidence(&case, "LINK-03"),
            [("main.jsonl".to_string(), 3), ("main.jsonl".to_string(), 4)]
        );
        let f = case.of("LINK-03")[0];
        assert!(
            f.message.contains("skipping `staging`")
                && f.message.contains("never promoted to `staging`"),
            "{}",
            f.message
        );
    }

    #[test]
    fn link03_passes_through_every_rung_with_approvals() {
        let case = ladder_case(
            &[
                validated("val-1", "2026-01-11T09:00:00Z", V, "approve"),
                promoted(
                    "p-1",
                    "2026-01-12T09:00:00Z",
                    V,
                    "development",
                    "staging",
                    Some("val-1"),
                ),
                validated("val-2", "2026-01-12T10:00:00Z", V, "approve"),
                promoted(
                    "p-2",
                    "2026-01-12T11:00:00Z",
                    V,
                    "staging",
                    "production",
                    Some("val-2"),
                ),
                prod_start("dep-1", "2026-01-13T09:00:00Z"),
            ],
            "",
        );
        assert_eq!(case.keys("LINK-03"), keys(&[]));
        assert_eq!(case.status("LINK-03"), Some(&Status::Evaluated));
    }

    #[test]
    fn link03_no_promotion_and_bad_approvals() {
        let case = ladder_case(
            &[
                // Staging deployment with no promotion to staging: (a).
                at(
                    "staging",
                    deploy(
                        "dep-s",
                        "2026-01-11T08:00:00Z",
                        "deployment.started",
                        "dep-s",
                        V,
                        json!({}),
                    ),
                ),
                validated("val-1", "2026-01-11T09:00:00Z", V, "reject"),
                promoted(
                    "p-1",
                    "2026-01-12T09:00:00Z",
                    V,
                    "development",
                    "staging",
                    Some("val-1"),
                ),
                promoted(
                    "p-2",
                    "2026-01-12T11:00:00Z",
                    V,
                    "staging",
                    "production",
                    None,
                ),
                prod_start("dep-1", "2026-01-13T09:00:00Z"),
                // The same version again (no change): no second path; a new start is one, but
                // gives the same findings (one finding per promotion).
                deploy(
                    "dep-2",
                    "2026-01-14T09:00:00Z",
                    "deployment.changed",
                    "dep-7",
                    V,
                    json!({}),
                ),
                prod_start("dep-3", "2026-01-15T09:00:00Z"),
            ],
            "",
        );
        assert_eq!(
            case.keys("LINK-03"),
            keys(&[
                (SUBJECT, "a|dep-s", "deny"),
                (SUBJECT, "c|p-1", "deny"),
                (SUBJECT, "c|p-2", "deny")
            ])
        );
        let p2 = case
            .of("LINK-03")
            .into_iter()
            .find(|f| f.discriminator == "c|p-2")
            .unwrap();
        let lines: Vec<u64> = p2.evidence.iter().map(|e| e.line).collect();
        assert_eq!(lines, [5, 6, 8]);
    }

    #[test]
    fn link03_validation_env_required_and_env_from_the_first_start() {
        let steps = [
            at(
                "development",
                validated("val-1", "2026-01-11T09:00:00Z", V, "approve"),
            ),
            promoted(
                "p-1",
                "2026-01-12T09:00:00Z",
                V,
                "development",
                "staging",
                Some("val-1"),
            ),
            at(
                "development",
                validated("val-2", "2026-01-12T10:00:00Z", V, "approve"),
            ),
            promoted(
                "p-2",
                "2026-01-12T11:00:00Z",
                V,
                "staging",
                "production",
                Some("val-2"),
            ),
            at(
                "production",
                deploy(
                    "dep-1",
                    "2026-01-13T09:00:00Z",
                    "deployment.started",
                    "dep-7",
                    "other@1",
                    json!({}),
                ),
            ),
            // No env: production, from the deployment's first start.
            deploy(
                "dep-2",
                "2026-01-14T09:00:00Z",
                "deployment.changed",
                "dep-7",
                V,
                json!({}),
            ),
        ];
        let case = ladder_case(
            &steps,
            "[policy.params.LINK-03]\nvalidation_env_required = true\n",
        );
        let mut expected = vec![(SUBJECT, "c|p-2", "deny")];
        // `other@1` is deployed to production without any promotion.
        expected.push(("model_version:other@1", "a|dep-1", "deny"));
        assert_eq!(case.keys("LINK-03"), keys(&expected));
        let case = ladder_case(&steps, "");
        assert_eq!(
            case.keys("LINK-03"),
            keys(&[("model_version:other@1", "a|dep-1", "deny")])
        );
    }

    #[test]
    fn link03_not_evaluable_below_the_first_rung() {
        let case = ladder_case(
            &[at(
                "development",
                deploy(
                    "dep-1",
                    "2026-01-13T09:00:00Z",
                    "deployment.started",
                    "dep-7",
                    V,
                    json!({}),
                ),
            )],
            "",
        );
        assert!(matches!(
            case.status("LINK-03"),
            Some(Status::NotEvaluable(_))
        ));
        assert_eq!(case.keys("LINK-03"), keys(&[]));
    }

    // ---- LINK-04 ----

    fn link04_example(promoted_digest: &str) -> Case {
        let mut p = promoted(
            "p-1",
            "2026-01-12T09:00:00Z",
            V,
            "staging",
            "production",
            None,
        );
        p["attrs"]["artifact_digest"] = json!(promoted_digest);
        let registered = json!({"artifact_digest": "sha256:51AB"});
        check_events(
            &[model("reg-1", "2026-01-10T09:00:00Z", V, registered), p],
            "",
        )
    }

    #[test]
    fn link04_example_promotion_digest_differs() {
        let case = link04_example("sha256:aa");
        assert_eq!(case.keys("LINK-04"), keys(&[(SUBJECT, "a|p-1", "deny")]));
        assert_eq!(
            evidence(&case, "LINK-04"),
            [("main.jsonl".to_string(), 1), ("main.jsonl".to_string(), 2)]
        );
    }

    #[test]
    fn link04_passes_with_the_registered_artifact() {
        // Digests compare ignoring case.
        let case = link04_example("sha256:51ab");
        assert_eq!(case.keys("LINK-04"), keys(&[]));
        assert_eq!(case.status("LINK-04"), Some(&Status::Evaluated));
    }

    #[test]
    fn link04_is_not_evaluable_without_registered_digests() {
        let mut p = promoted(
            "p-1",
            "2026-01-12T09:00:00Z",
            V,
            "staging",
            "production",
            None,
        );
        p["attrs"]["artifact_digest"] = json!("sha256:aa");
        let case = ladder_case(&[p], "");
        assert!(matches!(
            case.status("LINK-04"),
            Some(Status::NotEvaluable(_))
        ));
    }

    #[test]
    fn link04_deployments_images_and_re_registrations() {
        let runtime = json!({"artifact_digest": "sha256:51ab",
                             "runtime": {"container_image": "reg.io/credit@sha256:cc"}});
        let case = check_events(
            &[
                model("reg-1", "2026-01-10T09:00:00Z", V, runtime),
                deploy(
                    "dep-1",
                    "2026-01-11T09:00:00Z",
                    "deployment.started",
                    "dep-7",
                    V,
                    json!({"artifact_digest": "sha256:ff", "target": {"image_digest": "sha256:dd"}}),
                ),
                deploy(
                    "dep-2",
                    "2026-01-12T09:00:00Z",
                    "deployment.changed",
                    "dep-7",
                    V,
                    json!({"artifact_digest": "sha256:51ab", "target": {"image_digest": "sha256:cc"}}),
                ),
                dataset(
                    "ds-1",
                    "2026-01-10T09:00:00Z",
                    "loans@1",
                    json!({"digest": "sha256:01"}),
                ),
                dataset(
                    "ds-2",
                    "2026-01-13T09:00:00Z",
                    "loans@1",
                    json!({"digest": "sha256:02"}),
                ),
                // A correction between two registrations is not (d).
                dataset(
                    "ds-3",
                    "2026-01-10T09:00:00Z",
                    "loans@2",
                    json!({"digest": "sha256:01"}),
                ),
                with(
                    with(
                        dataset(
                            "ds-4",
                            "2026-01-13T09:00:00Z",
                            "loans@2",
                            json!({"digest": "sha256:02"}),
                        ),
                        "supersedes",
                        json!("ds-3"),
                    ),
                    "reason",
                    json!("digest mistyped"),
                ),
            ],
            "",
        );
        assert_eq!(
            case.keys("LINK-04"),
            keys(&[
                ("dataset:loans@1", "d|ds-2", "deny"),
                (SUBJECT, "b|dep-1", "deny"),
                (SUBJECT, "c|dep-1", "deny")
            ])
        );
    }

    // ---- LINK-05 ----

    fn link05_example(trained_on: &str) -> Case {
        check_events(
            &[
                run(
                    "run-9",
                    "2026-01-10T09:00:00Z",
                    "r9",
                    "failed",
                    &[],
                    &["dataset:features@9"],
                ),
                dataset("ds-9", "2026-01-10T09:00:00Z", "features@9", json!({})),
                run(
                    "run-10",
                    "2026-01-10T10:00:00Z",
                    "r10",
                    "completed",
                    &[],
                    &["dataset:features@10"],
                ),
                dataset("ds-10", "2026-01-10T10:00:00Z", "features@10", json!({})),
                model(
                    "reg-150",
                    "2026-01-11T09:00:00Z",
                    "credit-risk@1.5.0",
                    json!({"datasets": [{"id": trained_on, "role": "train"}]}),
                ),
            ],
            "",
        )
    }

    #[test]
    fn link05_example_failed_run_feeds_training() {
        let case = link05_example("features@9");
        assert_eq!(case.keys("LINK-05"), keys(&[("run:r9", "b", "deny")]));
        assert_eq!(
            evidence(&case, "LINK-05"),
            [("main.jsonl".to_string(), 1), ("main.jsonl".to_string(), 5)]
        );
    }

    #[test]
    fn link05_passes_when_retrained_on_a_completed_run() {
        let case = link05_example("features@10");
        assert_eq!(case.keys("LINK-05"), keys(&[]));
        assert_eq!(case.status("LINK-05"), Some(&Status::Evaluated));
    }

    #[test]
    fn link05_orphans_and_failed_training_runs() {
        let case = check_events(
            &[
                run(
                    "run-1",
                    "2026-01-10T09:00:00Z",
                    "orphan",
                    "completed",
                    &[],
                    &[],
                ),
                run(
                    "run-2",
                    "2026-01-10T09:00:00Z",
                    "trainer",
                    "completed",
                    &[],
                    &[],
                ),
                run(
                    "run-3",
                    "2026-01-10T09:00:00Z",
                    "broken",
                    "aborted",
                    &[],
                    &[],
                ),
                run(
                    "run-4",
                    "2026-01-10T09:00:00Z",
                    "feeder",
                    "failed",
                    &[],
                    &["dataset:x@1"],
                ),
                run(
                    "run-5",
                    "2026-01-10T10:00:00Z",
                    "reader",
                    "completed",
                    &["dataset:x@1"],
                    &["dataset:y@1"],
                ),
                model(
                    "reg-1",
                    "2026-01-11T09:00:00Z",
                    "m@1",
                    json!({"training_run": "trainer"}),
                ),
                model(
                    "reg-2",
                    "2026-01-11T09:00:00Z",
                    "m@2",
                    json!({"training_run": "broken"}),
                ),
            ],
            "",
        );
        assert_eq!(
            case.keys("LINK-05"),
            keys(&[
                ("run:broken", "b", "deny"),
                ("run:feeder", "b", "deny"),
                ("run:orphan", "a", "warn")
            ])
        );
    }

    #[test]
    fn every_link_rule_is_in_the_registry() {
        let ids: Vec<&str> = super::RULES.iter().map(|r| r.meta().id).collect();
        assert_eq!(ids, ["LINK-01", "LINK-02", "LINK-03", "LINK-04", "LINK-05"]);
    }
}
