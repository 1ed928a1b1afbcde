//! The canonical audit event (`EVENT-SCHEMA.md`, trailbook event v1) and the vocabulary around it.
//!
//! Every adapter produces [`Event`]s; every later stage reads only these. An event keeps its
//! origin (source, file, line, byte offset) so that every finding and page can point back at the
//! bytes it came from. `attrs` and `rationale` are kept as the exact JSON text of the input and
//! parsed on demand: this keeps a million-event model small. The references an event makes to
//! entities and other events are extracted once, at ingest, into [`Event::refs`].

use std::fmt;
use std::sync::Arc;

use compact_str::CompactString;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The entity types of `EVENT-SCHEMA.md` ("Entities and ids").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    System,
    Dataset,
    Job,
    Run,
    Feature,
    Model,
    ModelVersion,
    Deployment,
    Decision,
    Incident,
    Document,
    Resource,
}

impl EntityType {
    pub const ALL: [EntityType; 12] = [
        EntityType::System,
        EntityType::Dataset,
        EntityType::Job,
        EntityType::Run,
        EntityType::Feature,
        EntityType::Model,
        EntityType::ModelVersion,
        EntityType::Deployment,
        EntityType::Decision,
        EntityType::Incident,
        EntityType::Document,
        EntityType::Resource,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::System => "system",
            EntityType::Dataset => "dataset",
            EntityType::Job => "job",
            EntityType::Run => "run",
            EntityType::Feature => "feature",
            EntityType::Model => "model",
            EntityType::ModelVersion => "model_version",
            EntityType::Deployment => "deployment",
            EntityType::Decision => "decision",
            EntityType::Incident => "incident",
            EntityType::Document => "document",
            EntityType::Resource => "resource",
        }
    }

    pub fn parse(s: &str) -> Option<EntityType> {
        EntityType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A graph node id, `TYPE:ID` (`model_version:credit-risk@1.4.0`).
///
/// Shared, not copied: the entity map, the graph and every reference to a node hold the same
/// text, and ingest interns the ids that events reference (a million decisions name the same few
/// deployments and model versions).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub Arc<str>);

impl Default for NodeId {
    fn default() -> NodeId {
        NodeId(Arc::from(""))
    }
}

impl Serialize for NodeId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Lookups by `&str` in maps keyed by node id (no node id built to ask).
impl std::borrow::Borrow<str> for NodeId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<String> for NodeId {
    fn from(s: String) -> NodeId {
        NodeId(Arc::from(s))
    }
}

impl From<&str> for NodeId {
    fn from(s: &str) -> NodeId {
        NodeId(Arc::from(s))
    }
}

/// Writes `TYPE:ID` into `buf` (cleared first) and returns it: a lookup key without allocating.
pub fn node_key<'b>(buf: &'b mut String, ty: EntityType, id: &str) -> &'b str {
    buf.clear();
    buf.push_str(ty.as_str());
    buf.push(':');
    buf.push_str(id);
    buf
}

thread_local! {
    /// Node ids already made on this thread (bounded: cleared when it grows past its limit).
    static INTERNED: std::cell::RefCell<(rustc_hash::FxHashSet<Arc<str>>, String)> =
        std::cell::RefCell::default();
}

const INTERN_LIMIT: usize = 1 << 16;

impl NodeId {
    pub fn new(ty: EntityType, id: &str) -> NodeId {
        NodeId(Arc::from(format!("{}:{id}", ty.as_str())))
    }

    /// [`NodeId::new`], sharing the text with an equal id made before on this thread.
    pub fn interned(ty: EntityType, id: &str) -> NodeId {
        INTERNED.with(|cell| {
            let (set, buf) = &mut *cell.borrow_mut();
            let key = node_key(buf, ty, id);
            if let Some(found) = set.get(key) {
                return NodeId(found.clone());
            }
            if set.len() >= INTERN_LIMIT {
                set.clear();
            }
            let made: Arc<str> = Arc::from(key);
            set.insert(made.clone());
            NodeId(made)
        })
    }

    /// Parses `TYPE:ID` where TYPE is an entity type; `None` otherwise.
    pub fn parse(s: &str) -> Option<NodeId> {
        let (ty, id) = s.split_once(':')?;
        EntityType::parse(ty)?;
        (!id.is_empty()).then(|| NodeId::from(s))
    }

    pub fn entity_type(&self) -> Option<EntityType> {
        self.0
            .split_once(':')
            .and_then(|(t, _)| EntityType::parse(t))
    }

    /// The part after `TYPE:`.
    pub fn id(&self) -> &str {
        self.0.split_once(':').map_or(&*self.0, |(_, id)| id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `actor.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    Human,
    Service,
    System,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub id: CompactString,
    #[serde(rename = "type")]
    pub kind: ActorType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Subject {
    #[serde(rename = "type")]
    pub kind: EntityType,
    pub id: CompactString,
}

impl Subject {
    pub fn node(&self) -> NodeId {
        NodeId::new(self.kind, &self.id)
    }

    /// Whether this subject is `node`, without building its node id.
    pub fn is(&self, node: &NodeId) -> bool {
        node.entity_type() == Some(self.kind) && node.id() == self.id
    }
}

/// Where an event or a quarantined line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Origin {
    /// Index of the source in config order.
    pub source: u32,
    /// Index of the file in the ingest report's file table.
    pub file: u32,
    /// 1-based line number in the file.
    pub line: u64,
    /// Byte offset of the line's first byte in the file.
    pub offset: u64,
    /// Length of the line in bytes, without its LF.
    pub len: u64,
}

/// A reference from an event to an entity (`TYPE:ID`) or, for event references, to an event id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ref {
    /// The field that holds it, as a path (`attrs.model_version`, `system`, `subject`).
    pub field: &'static str,
    /// The node it names. A value that is not a valid `TYPE:ID` is kept as written.
    pub target: NodeId,
}

/// One canonical event.
///
/// Serialized as the envelope of `EVENT-SCHEMA.md`, in schema order, absent fields left out.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: CompactString,
    pub ts: Timestamp,
    pub kind: CompactString,
    pub actor: Actor,
    pub system: Option<CompactString>,
    pub subject: Option<Subject>,
    pub env: Option<CompactString>,
    pub attrs: Box<RawValue>,
    pub data_classes: Vec<String>,
    /// `seq` when the line carried one.
    pub seq: Option<u64>,
    pub origin: Origin,
    /// Entity references (`EVENT-SCHEMA.md`), in field order.
    pub refs: Vec<Ref>,
    /// The envelope fields most events leave out, boxed: a million decisions carry none of them,
    /// and inline they would be a third of each event (read them through the accessors).
    pub rare: Option<Box<Rare>>,
}

/// The rarely present envelope fields of an [`Event`].
#[derive(Clone, Debug, Default)]
pub struct Rare {
    pub recorded_ts: Option<Timestamp>,
    pub rationale: Option<Box<RawValue>>,
    pub retention_class: Option<String>,
    pub legal_holds: Vec<String>,
    pub supersedes: Option<String>,
    pub reason: Option<String>,
    /// Event-id references (`approval`, `evidence`, `supersedes`), as `(field, event id)`.
    pub event_refs: Vec<(&'static str, String)>,
}

impl Rare {
    /// `None` when every field is absent (no box for the common event).
    pub fn boxed(self) -> Option<Box<Rare>> {
        let empty = self.recorded_ts.is_none()
            && self.rationale.is_none()
            && self.retention_class.is_none()
            && self.legal_holds.is_empty()
            && self.supersedes.is_none()
            && self.reason.is_none()
            && self.event_refs.is_empty();
        (!empty).then(|| Box::new(self))
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("ts", &crate::time::fmt(self.ts))?;
        if let Some(t) = self.recorded_ts() {
            m.serialize_entry("recorded_ts", &crate::time::fmt(t))?;
        }
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("actor", &self.actor)?;
        if let Some(v) = &self.system {
            m.serialize_entry("system", v)?;
        }
        if let Some(v) = &self.subject {
            m.serialize_entry("subject", v)?;
        }
        if let Some(v) = &self.env {
            m.serialize_entry("env", v)?;
        }
        m.serialize_entry("attrs", &self.attrs)?;
        if let Some(v) = self.rationale_raw() {
            m.serialize_entry("rationale", v)?;
        }
        if !self.data_classes.is_empty() {
            m.serialize_entry("data_classes", &self.data_classes)?;
        }
        if let Some(v) = self.retention_class() {
            m.serialize_entry("retention_class", v)?;
        }
        if !self.legal_holds().is_empty() {
            m.serialize_entry("legal_holds", self.legal_holds())?;
        }
        if let Some(v) = self.supersedes() {
            m.serialize_entry("supersedes", v)?;
        }
        if let Some(v) = self.reason() {
            m.serialize_entry("reason", v)?;
        }
        if let Some(v) = self.seq {
            m.serialize_entry("seq", &v)?;
        }
        m.serialize_entry("origin", &self.origin)?;
        m.end()
    }
}

impl Event {
    pub fn recorded_ts(&self) -> Option<Timestamp> {
        self.rare.as_ref().and_then(|r| r.recorded_ts)
    }

    /// The `rationale` object as written (see [`Event::rationale`] for it parsed).
    pub fn rationale_raw(&self) -> Option<&RawValue> {
        self.rare.as_ref().and_then(|r| r.rationale.as_deref())
    }

    pub fn retention_class(&self) -> Option<&str> {
        self.rare
            .as_ref()
            .and_then(|r| r.retention_class.as_deref())
    }

    pub fn legal_holds(&self) -> &[String] {
        self.rare.as_ref().map_or(&[], |r| &r.legal_holds)
    }

    pub fn supersedes(&self) -> Option<&str> {
        self.rare.as_ref().and_then(|r| r.supersedes.as_deref())
    }

    pub fn reason(&self) -> Option<&str> {
        self.rare.as_ref().and_then(|r| r.reason.as_deref())
    }

    /// Event-id references (`approval`, `evidence`, `supersedes`), as `(field, event id)`.
    pub fn event_refs(&self) -> &[(&'static str, String)] {
        self.rare.as_ref().map_or(&[], |r| &r.event_refs)
    }

    /// The rare fields, for changing them (made empty when the event had none).
    pub fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// The `attrs` object, parsed. Ingest guarantees it is an object.
    pub fn attrs(&self) -> Map<String, Value> {
        serde_json::from_str(self.attrs.get()).unwrap_or_default()
    }

    /// Parses `attrs` into a typed view (for hot loops over many events).
    pub fn attrs_as<'a, T: serde::Deserialize<'a>>(&'a self) -> Option<T> {
        serde_json::from_str(self.attrs.get()).ok()
    }

    /// The `rationale` object, parsed (empty when absent).
    pub fn rationale(&self) -> Map<String, Value> {
        self.rationale_raw()
            .and_then(|r| serde_json::from_str(r.get()).ok())
            .unwrap_or_default()
    }

    pub fn subject_node(&self) -> Option<NodeId> {
        self.subject.as_ref().map(Subject::node)
    }

    pub fn spec(&self) -> Option<&'static KindSpec> {
        kind_spec(&self.kind)
    }

    /// Whether this event registers its subject (`RULES.md` LINK-01).
    pub fn is_registering(&self) -> bool {
        self.spec().is_some_and(|k| k.registers)
    }

    /// The time used for "who and when" of a record: `recorded_ts`, else `ts`.
    pub fn written_ts(&self) -> Timestamp {
        self.recorded_ts().unwrap_or(self.ts)
    }
}

/// "Present" (`RULES.md` §2.1): the value exists and is not `null`, `""`, `[]` or `{}`.
pub fn present(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

/// What the schema says of one kind.
#[derive(Debug)]
pub struct KindSpec {
    pub name: &'static str,
    /// The subject type the kind requires; `None`: any entity type.
    pub subject: Option<EntityType>,
    /// `attrs` fields marked `*` (missing = malformed event).
    pub required: &'static [&'static str],
    /// Whether the kind registers its subject (LINK-01's list).
    pub registers: bool,
}

const fn k(
    name: &'static str,
    subject: Option<EntityType>,
    required: &'static [&'static str],
    registers: bool,
) -> KindSpec {
    KindSpec {
        name,
        subject,
        required,
        registers,
    }
}

use EntityType as T;

/// Every kind of trailbook event v1, in schema order.
pub static KINDS: &[KindSpec] = &[
    k("system.registered", Some(T::System), &["name"], true),
    k(
        "document.registered",
        Some(T::Document),
        &["doc_type"],
        true,
    ),
    k(
        "dataset.registered",
        Some(T::Dataset),
        &["name", "version"],
        true,
    ),
    k("run.completed", Some(T::Run), &["job", "status"], true),
    k("dataset.quality_assessed", Some(T::Dataset), &[], false),
    k("feature.registered", Some(T::Feature), &["name"], true),
    k(
        "model.registered",
        Some(T::ModelVersion),
        &["model", "version"],
        true,
    ),
    k(
        "model.evaluated",
        Some(T::ModelVersion),
        &["metrics"],
        false,
    ),
    k(
        "model.validated",
        Some(T::ModelVersion),
        &["validator", "decision"],
        false,
    ),
    k(
        "model.promoted",
        Some(T::ModelVersion),
        &["from_env", "to_env"],
        false,
    ),
    k("model.retired", Some(T::ModelVersion), &[], false),
    k(
        "deployment.started",
        Some(T::Deployment),
        &["model_version"],
        true,
    ),
    k(
        "deployment.changed",
        Some(T::Deployment),
        &["model_version"],
        false,
    ),
    k("deployment.suspended", Some(T::Deployment), &[], false),
    k("deployment.stopped", Some(T::Deployment), &[], false),
    k(
        "decision.made",
        Some(T::Decision),
        &["deployment", "model_version"],
        true,
    ),
    k(
        "decision.batch",
        Some(T::Deployment),
        &["model_version", "window_start", "window_end", "count"],
        false,
    ),
    k(
        "oversight.action",
        Some(T::Decision),
        &["action", "reviewer"],
        false,
    ),
    k(
        "monitoring.metric",
        Some(T::Deployment),
        &["metric", "value"],
        false,
    ),
    k("monitoring.alert", Some(T::Deployment), &[], false),
    k(
        "review.periodic",
        Some(T::ModelVersion),
        &["reviewer"],
        false,
    ),
    k("incident.opened", Some(T::Incident), &["title"], true),
    k("incident.updated", Some(T::Incident), &["title"], false),
    k("incident.closed", Some(T::Incident), &["title"], false),
    k(
        "incident.notified",
        Some(T::Incident),
        &["recipient"],
        false,
    ),
    k("access", None, &["action"], false),
    k("admin.change", Some(T::Resource), &["target"], false),
    k("logging.state", Some(T::Resource), &["state"], false),
    k(
        "retention.disposed",
        Some(T::Resource),
        &["retention_class", "count"],
        false,
    ),
    k("legal_hold.set", Some(T::Resource), &["hold_id"], false),
    k(
        "legal_hold.released",
        Some(T::Resource),
        &["hold_id"],
        false,
    ),
    k("dsr.received", Some(T::Resource), &["request_id"], false),
    k("dsr.resolved", Some(T::Resource), &["request_id"], false),
    k(
        "waiver.granted",
        None,
        &["rule", "reason", "approved_by", "expires"],
        false,
    ),
];

pub fn kind_spec(kind: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|k| k.name == kind)
}

/// The members of an `attrs` object, borrowed from the input line: what ingest reads of `attrs`
/// (required fields, references) without building a `serde_json::Map` for every event. When a
/// key repeats, the last member counts, as in [`Event::attrs`].
#[derive(Debug, Default)]
pub struct RawAttrs<'a> {
    pub members: Vec<(std::borrow::Cow<'a, str>, &'a RawValue)>,
}

impl<'a> RawAttrs<'a> {
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.members
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }

    /// A non-empty string member (`Value::as_str` of the parsed value, not `""`).
    pub fn str_of(&self, key: &str) -> Option<std::borrow::Cow<'a, str>> {
        raw_str(self.get(key)?).filter(|s| !s.is_empty())
    }

    /// A member parsed as a JSON value (for the rarer, structured references).
    fn value(&self, key: &str) -> Option<Value> {
        serde_json::from_str(self.get(key)?.get()).ok()
    }
}

/// A raw JSON string's text, borrowed unless it holds escapes; `None` for any other type.
pub fn raw_str(raw: &RawValue) -> Option<std::borrow::Cow<'_, str>> {
    if !raw.get().starts_with('"') {
        return None;
    }
    match serde_json::from_str::<&str>(raw.get()) {
        Ok(s) => Some(std::borrow::Cow::Borrowed(s)),
        Err(_) => serde_json::from_str::<String>(raw.get())
            .ok()
            .map(std::borrow::Cow::Owned),
    }
}

/// Extracts the entity and event references of one event (`EVENT-SCHEMA.md`, "Entities and ids").
pub fn extract_refs(
    kind: &str,
    system: Option<&str>,
    subject: Option<&Subject>,
    supersedes: Option<&str>,
    attrs: &RawAttrs<'_>,
) -> (Vec<Ref>, Vec<(&'static str, String)>) {
    let mut refs = Vec::new();
    let mut erefs = Vec::new();
    if let Some(s) = system {
        refs.push(Ref {
            field: "system",
            target: NodeId::interned(T::System, s),
        });
    }
    let spec = kind_spec(kind);
    if let (Some(spec), Some(subject)) = (spec, subject)
        && !spec.registers
    {
        refs.push(Ref {
            field: "subject",
            target: NodeId::interned(subject.kind, &subject.id),
        });
    }
    let str_of = |key: &str| attrs.str_of(key);
    let typed = |field: &'static str, key: &str, refs: &mut Vec<Ref>| {
        for v in as_str_list(attrs.value(key).as_ref()) {
            let target = NodeId::parse(v).unwrap_or_else(|| NodeId::from(v));
            refs.push(Ref { field, target });
        }
    };
    let one = |field: &'static str,
               ty: EntityType,
               v: Option<std::borrow::Cow<'_, str>>,
               refs: &mut Vec<Ref>| {
        if let Some(v) = v {
            refs.push(Ref {
                field,
                target: NodeId::interned(ty, &v),
            });
        }
    };
    let dataset_list = |field: &'static str, refs: &mut Vec<Ref>| {
        if let Some(Value::Array(items)) = attrs.value("datasets") {
            for item in &items {
                if let Some(id) = item
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                {
                    refs.push(Ref {
                        field,
                        target: NodeId::interned(T::Dataset, id),
                    });
                }
            }
        }
    };
    match kind {
        "dataset.registered" => one(
            "attrs.datasheet",
            T::Document,
            str_of("datasheet"),
            &mut refs,
        ),
        "run.completed" => {
            typed("attrs.inputs", "inputs", &mut refs);
            typed("attrs.outputs", "outputs", &mut refs);
            // The run this one is a part of (OpenLineage `parent` facet): a run id.
            one("attrs.parent_run", T::Run, str_of("parent_run"), &mut refs);
        }
        "feature.registered" => typed("attrs.derived_from", "derived_from", &mut refs),
        "model.registered" => {
            if let (Some(model), Some(parent)) = (str_of("model"), str_of("parent_version")) {
                let id = format!("{model}@{parent}");
                refs.push(Ref {
                    field: "attrs.parent_version",
                    target: NodeId::interned(T::ModelVersion, &id),
                });
            }
            one(
                "attrs.training_run",
                T::Run,
                str_of("training_run"),
                &mut refs,
            );
            dataset_list("attrs.datasets[].id", &mut refs);
        }
        "model.evaluated" => dataset_list("attrs.datasets[].id", &mut refs),
        "model.promoted" => {
            if let Some(a) = str_of("approval") {
                erefs.push(("attrs.approval", a.to_string()));
            }
        }
        "decision.made" => {
            one(
                "attrs.deployment",
                T::Deployment,
                str_of("deployment"),
                &mut refs,
            );
            one(
                "attrs.model_version",
                T::ModelVersion,
                str_of("model_version"),
                &mut refs,
            );
        }
        "decision.batch" => one(
            "attrs.model_version",
            T::ModelVersion,
            str_of("model_version"),
            &mut refs,
        ),
        "monitoring.alert" => one("attrs.incident", T::Incident, str_of("incident"), &mut refs),
        "document.registered" => typed("attrs.describes", "describes", &mut refs),
        "legal_hold.set" => typed("attrs.scope", "scope", &mut refs),
        "dsr.received" | "dsr.resolved" => {
            one("attrs.decision", T::Decision, str_of("decision"), &mut refs)
        }
        "waiver.granted" => {
            if let Some(t) = str_of("target").and_then(|t| NodeId::parse(&t)) {
                refs.push(Ref {
                    field: "attrs.target",
                    target: t,
                });
            }
        }
        _ => {}
    }
    if kind.starts_with("deployment.") {
        one(
            "attrs.model_version",
            T::ModelVersion,
            str_of("model_version"),
            &mut refs,
        );
        if let Some(a) = str_of("approval") {
            erefs.push(("attrs.approval", a.to_string()));
        }
    }
    if kind.starts_with("incident.") {
        typed("attrs.affects", "affects", &mut refs);
        for e in as_str_list(attrs.value("evidence").as_ref()) {
            erefs.push(("attrs.evidence", e.to_string()));
        }
    }
    if let Some(s) = supersedes {
        erefs.push(("supersedes", s.to_string()));
    }
    (refs, erefs)
}

/// A string or an array of strings, as a list; anything else is empty.
pub fn as_str_list(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => vec![s.as_str()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// "Present" (`RULES.md` §2.1) for a raw value: not absent, `null`, `""`, `[]` or `{}`.
pub fn raw_present(r: Option<&RawValue>) -> bool {
    let Some(r) = r else { return false };
    let text = r.get().trim();
    match text.as_bytes().first() {
        Some(b'[' | b'{') => !text[1..text.len() - 1].trim().is_empty(),
        _ => !(text == "null" || text == "\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_parse_only_entity_types() {
        assert_eq!(
            NodeId::parse("dataset:loans@1").unwrap().entity_type(),
            Some(T::Dataset)
        );
        assert_eq!(NodeId::parse("model_version:a:b@1").unwrap().id(), "a:b@1");
        assert!(NodeId::parse("source:serving").is_none());
        assert!(NodeId::parse("dataset:").is_none());
        assert!(NodeId::parse("loans").is_none());
    }

    #[test]
    fn refs_follow_the_schema() {
        let text = r#"{"model":"m","version":"2","parent_version":"1","training_run":"r\u0031",
                "datasets":[{"id":"d@1","role":"train"},{"role":"test"}]}"#;
        let members: Vec<(std::borrow::Cow<'_, str>, &RawValue)> =
            serde_json::from_str::<std::collections::BTreeMap<String, &RawValue>>(text)
                .unwrap()
                .into_iter()
                .map(|(k, v)| (std::borrow::Cow::Owned(k), v))
                .collect();
        let attrs = RawAttrs { members };
        let subject = Subject {
            kind: T::ModelVersion,
            id: "m@2".into(),
        };
        let (refs, erefs) =
            extract_refs("model.registered", Some("s"), Some(&subject), None, &attrs);
        let got: Vec<_> = refs.iter().map(|r| (r.field, r.target.as_str())).collect();
        assert_eq!(
            got,
            [
                ("system", "system:s"),
                ("attrs.parent_version", "model_version:m@1"),
                ("attrs.training_run", "run:r1"),
                ("attrs.datasets[].id", "dataset:d@1"),
            ]
        );
        assert!(erefs.is_empty());
    }

    #[test]
    fn every_kind_has_a_unique_name() {
        let mut names: Vec<_> = KINDS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
    }
}
