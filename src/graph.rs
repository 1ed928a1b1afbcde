//! Stage `graph`: the model's entities → the lineage graph (petgraph `StableDiGraph`).
//!
//! Nodes are inserted in node-id byte order and edges in (from, to, rel) order, so the graph, its
//! JSON and its DOT are the same for the same model whatever the thread count. Edges point
//! downstream, from what came first to what it fed:
//!
//! | rel | from → to | stated by |
//! |---|---|---|
//! | `consumes` | input → run | `run.completed.inputs` |
//! | `produces` | run → output | `run.completed.outputs` |
//! | `trained_on` | dataset or training run → model version | `model.registered.datasets`, `.training_run` |
//! | `derived_from` | source → feature; parent version → version | `feature.registered.derived_from`, `model.registered.parent_version` |
//! | `serves` | model version → deployment | `deployment.started`/`.changed.model_version` |
//! | `decided_by` | deployment or model version → decision | `decision.made.deployment`, `.model_version` |
//! | `affects` | affected node → incident | `incident.*.affects` |
//! | `describes` | document → described node | `document.registered.describes`, `dataset.registered.datasheet` |
//! | `parent_of` | parent run → run | `run.completed.parent_run` |
//!
//! A `[[link]]` pattern rule adds references named `link.REL` to the events of the entities it
//! matches (`crate::link`); they make edges of that relation, in the direction the relation has
//! above (the matched entity is the event's subject).

use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write;

use petgraph::Direction;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use rayon::prelude::*;
use serde::Serialize;

use crate::event::{EntityType, NodeId, node_key};
use crate::model::Model;

/// The typed edges of the lineage graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rel {
    Consumes,
    Produces,
    TrainedOn,
    DerivedFrom,
    Serves,
    DecidedBy,
    Affects,
    Describes,
    ParentOf,
}

impl Rel {
    pub fn as_str(self) -> &'static str {
        match self {
            Rel::Consumes => "consumes",
            Rel::Produces => "produces",
            Rel::TrainedOn => "trained_on",
            Rel::DerivedFrom => "derived_from",
            Rel::Serves => "serves",
            Rel::DecidedBy => "decided_by",
            Rel::Affects => "affects",
            Rel::Describes => "describes",
            Rel::ParentOf => "parent_of",
        }
    }

    pub fn parse(s: &str) -> Option<Rel> {
        [
            Rel::Consumes,
            Rel::Produces,
            Rel::TrainedOn,
            Rel::DerivedFrom,
            Rel::Serves,
            Rel::DecidedBy,
            Rel::Affects,
            Rel::Describes,
            Rel::ParentOf,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Whether the subject of a sentence "SUBJECT REL TARGET" is the edge's source: true for
    /// `produces`, `describes` and `parent_of` (the run produces the dataset), false for the
    /// others (the deployment serves — is served by — the model version).
    pub fn subject_first(self) -> bool {
        matches!(self, Rel::Produces | Rel::Describes | Rel::ParentOf)
    }
}

/// Serialized as `{id, type, label, unresolved, aliases?}` (`ARCHITECTURE.md`).
#[derive(Clone, Debug)]
pub struct Node {
    pub id: NodeId,
    /// The entity type's name (`unknown` for an id of no entity type).
    pub kind: &'static str,
    /// A system's registered name, else the id after `TYPE:` (see [`Node::label`]).
    pub label: Label,
    pub unresolved: bool,
    /// Other ids joined to this node by `[[link]] same`.
    pub aliases: Vec<NodeId>,
}

impl Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Node", 5)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("type", self.kind)?;
        st.serialize_field("label", self.label())?;
        st.serialize_field("unresolved", &self.unresolved)?;
        if !self.aliases.is_empty() {
            st.serialize_field("aliases", &self.aliases)?;
        }
        st.end()
    }
}

/// A node's label without a copy of its id for the common case (a million decision nodes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Label {
    /// The node id's part after `TYPE:`.
    Id,
    Name(String),
}

impl Node {
    pub fn label(&self) -> &str {
        match &self.label {
            Label::Id => self.id.id(),
            Label::Name(n) => n,
        }
    }
}

/// An edge with the index of the event that states it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Edge {
    pub rel: Rel,
    /// The event stating the edge (index into `Model::events`).
    pub event: u32,
}

#[derive(Debug)]
pub struct LineageGraph {
    pub graph: StableDiGraph<Node, Edge>,
    // Nodes are added once, in node-id byte order, and never removed: node index k is the k-th
    // node id, so a lookup is a binary search over the nodes (no map beside them).
}

/// Builds the graph from the latest state of every entity.
pub fn build(model: &Model) -> LineageGraph {
    let mut graph = StableDiGraph::with_capacity(model.entities.len(), model.entities.len());
    // Entities iterate in node-id byte order, so node indices follow it too.
    for (id, ent) in &model.entities {
        let ty = id.entity_type();
        let label = match ty {
            Some(EntityType::System) => model.state(id).and_then(|e| {
                e.attrs()
                    .get("name")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            }),
            _ => None,
        }
        .filter(|name| name != id.id())
        .map_or(Label::Id, Label::Name);
        let ix = graph.add_node(Node {
            id: id.clone(),
            kind: ty.map_or("unknown", EntityType::as_str),
            label,
            unresolved: ent.unresolved,
            aliases: ent.aliases.clone(),
        });
        debug_assert_eq!(model.entities.at(ix.index()).node, *id);
    }
    // (from, to, rel, event) by node index; indices follow node-id order, so sorting them sorts ids.
    let mut edges: Vec<(u32, u32, Rel, u32)> = Vec::new();
    let mut buf = String::new();
    // Keyed by the address of a reference's node id text, which lives as long as the model.
    let mut by_address: rustc_hash::FxHashMap<usize, Option<usize>> = Default::default();
    for (i, e) in model.current() {
        let Some(subject) = e.subject.as_ref() else {
            continue;
        };
        let known = model
            .subject_rank
            .get(i as usize)
            .copied()
            .filter(|&r| r != u32::MAX);
        let Some(me) = known.map(|r| r as usize).or_else(|| {
            model
                .entities
                .position(node_key(&mut buf, subject.kind, &subject.id))
        }) else {
            continue;
        };
        // Event ids are unique in the model, so "this event is the state" is an index test.
        let me: NodeIndex = NodeIndex::new(me);
        let is_state =
            e.is_registering() && model.entities.at(me.index()).registered.last() == Some(&i);
        for r in &e.refs {
            // References share interned ids: remember each id's node by its address.
            let Some(other) = *by_address
                .entry(r.target.0.as_ptr() as usize)
                .or_insert_with(|| model.entities.position(r.target.as_str()))
            else {
                continue;
            };
            let other: NodeIndex = NodeIndex::new(other);
            let (from, to, rel, needs_state) = match (e.kind.as_str(), r.field) {
                ("run.completed", "attrs.inputs") => (other, me, Rel::Consumes, true),
                ("run.completed", "attrs.outputs") => (me, other, Rel::Produces, true),
                ("model.registered", "attrs.datasets[].id" | "attrs.training_run") => {
                    (other, me, Rel::TrainedOn, true)
                }
                ("model.registered", "attrs.parent_version")
                | ("feature.registered", "attrs.derived_from") => {
                    (other, me, Rel::DerivedFrom, true)
                }
                ("deployment.started" | "deployment.changed", "attrs.model_version") => {
                    (other, me, Rel::Serves, false)
                }
                ("decision.made", "attrs.deployment" | "attrs.model_version") => {
                    (other, me, Rel::DecidedBy, true)
                }
                ("document.registered", "attrs.describes") => (me, other, Rel::Describes, true),
                ("dataset.registered", "attrs.datasheet") => (other, me, Rel::Describes, true),
                (k, "attrs.affects") if k.starts_with("incident.") => {
                    (other, me, Rel::Affects, false)
                }
                ("run.completed", "attrs.parent_run") => (other, me, Rel::ParentOf, true),
                (_, f) => match f.strip_prefix("link.").and_then(Rel::parse) {
                    Some(rel) if rel.subject_first() => (me, other, rel, false),
                    Some(rel) => (other, me, rel, false),
                    None => continue,
                },
            };
            // Registration edges come from the entity's current state only.
            if needs_state && !is_state {
                continue;
            }
            edges.push((from.index() as u32, to.index() as u32, rel, i));
        }
    }
    // One edge per (from, to, rel): the first event that states it.
    edges.par_sort_unstable();
    edges.dedup_by_key(|(from, to, rel, _)| (*from, *to, *rel));
    for (from, to, rel, event) in edges {
        graph.add_edge(
            NodeIndex::new(from as usize),
            NodeIndex::new(to as usize),
            Edge { rel, event },
        );
    }
    LineageGraph { graph }
}

/// The JSON shape of `trailbook graph --format json` (`ARCHITECTURE.md`).
#[derive(Serialize)]
pub struct GraphJson<'a> {
    pub nodes: Vec<&'a Node>,
    pub edges: Vec<EdgeJson<'a>>,
}

#[derive(Serialize)]
pub struct EdgeJson<'a> {
    pub from: &'a NodeId,
    pub to: &'a NodeId,
    pub rel: Rel,
}

impl LineageGraph {
    fn index_of(&self, id: &NodeId) -> Option<NodeIndex> {
        let (mut lo, mut hi) = (0, self.graph.node_count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.graph[NodeIndex::new(mid)].id.cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(NodeIndex::new(mid)),
            }
        }
        None
    }

    /// The nodes within `depth` edges (either direction) of `focus`, or all nodes.
    pub fn select(
        &self,
        focus: Option<&NodeId>,
        depth: Option<usize>,
    ) -> anyhow::Result<BTreeSet<NodeIndex>> {
        let Some(focus) = focus else {
            return Ok(self.graph.node_indices().collect());
        };
        let start = self.index_of(focus).ok_or_else(|| {
            anyhow::anyhow!("`{focus}` is not a node of the lineage graph (node ids are TYPE:ID, e.g. model_version:credit-risk@1.4.0)")
        })?;
        let mut seen = BTreeSet::from([start]);
        let mut queue = VecDeque::from([(start, 0usize)]);
        while let Some((n, d)) = queue.pop_front() {
            if depth.is_some_and(|max| d >= max) {
                continue;
            }
            for dir in [Direction::Outgoing, Direction::Incoming] {
                for m in self.graph.neighbors_directed(n, dir) {
                    if seen.insert(m) {
                        queue.push_back((m, d + 1));
                    }
                }
            }
        }
        Ok(seen)
    }

    pub fn to_json(&self, nodes: &BTreeSet<NodeIndex>) -> GraphJson<'_> {
        let mut out = GraphJson {
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        let mut ordered: Vec<&Node> = nodes.iter().map(|&n| &self.graph[n]).collect();
        ordered.sort_by(|a, b| a.id.cmp(&b.id));
        out.nodes = ordered;
        for e in (&self.graph).edge_references() {
            if nodes.contains(&e.source()) && nodes.contains(&e.target()) {
                out.edges.push(EdgeJson {
                    from: &self.graph[e.source()].id,
                    to: &self.graph[e.target()].id,
                    rel: e.weight().rel,
                });
            }
        }
        out.edges
            .sort_by(|a, b| (a.from, a.to, a.rel).cmp(&(b.from, b.to, b.rel)));
        out
    }

    pub fn to_dot(&self, nodes: &BTreeSet<NodeIndex>) -> String {
        let json = self.to_json(nodes);
        let mut s = String::from(
            "digraph lineage {\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n",
        );
        for n in &json.nodes {
            let style = if n.unresolved {
                ", style=dashed, color=red"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "  {} [label={}{style}];",
                dot_str(n.id.as_str()),
                dot_str(&format!("{}\n{}", n.kind, n.label()))
            );
        }
        for e in &json.edges {
            let _ = writeln!(
                s,
                "  {} -> {} [label={}];",
                dot_str(e.from.as_str()),
                dot_str(e.to.as_str()),
                dot_str(e.rel.as_str())
            );
        }
        s.push_str("}\n");
        s
    }

    /// U(V) of `RULES.md` DATA-01: everything upstream of `node` through lineage edges
    /// (`consumes`, `produces`, `trained_on`, and `derived_from` into a feature), without `node`
    /// itself and without parent versions (a version's parent is not its training data). In
    /// node-id order; empty when `node` is not in the graph.
    pub fn upstream(&self, node: &NodeId) -> BTreeSet<NodeId> {
        let Some(start) = self.index_of(node) else {
            return BTreeSet::new();
        };
        let mut seen = BTreeSet::from([start]);
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            for e in self.graph.edges_directed(n, Direction::Incoming) {
                let follow = match e.weight().rel {
                    Rel::Consumes | Rel::Produces | Rel::TrainedOn => true,
                    Rel::DerivedFrom => {
                        self.graph[e.target()].id.entity_type() == Some(EntityType::Feature)
                    }
                    _ => false,
                };
                if follow && seen.insert(e.source()) {
                    queue.push_back(e.source());
                }
            }
        }
        seen.remove(&start);
        seen.into_iter().map(|n| self.graph[n].id.clone()).collect()
    }

    pub fn node(&self, id: &NodeId) -> Option<NodeIndex> {
        self.index_of(id)
    }
}

/// A DOT string literal: quotes and backslashes escaped, newlines as `\n`.
fn dot_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
