//! Retention classes (`RULES.md` §5.1, §5.2): the built-in table merged with
//! `[retention.classes.*]`, and the class each event is assigned to.
//!
//! Assignment order: the envelope `retention_class`; the first matching `[[retention.assign]]`;
//! the built-in table by kind; `unclassified`. An envelope class that names no configured class is
//! treated as `unclassified` (RET-09 (d) reports it).

use std::collections::BTreeMap;

use crate::config::Config;
use crate::event::Event;
use crate::time::Duration;

/// When a class's retention clock starts (§5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    Event,
    PlacedOnMarket,
    EffectiveTo,
}

impl Clock {
    pub fn parse(s: &str) -> Option<Clock> {
        match s {
            "event" => Some(Clock::Event),
            "placed_on_market" => Some(Clock::PlacedOnMarket),
            "effective_to" => Some(Clock::EffectiveTo),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Clock::Event => "event",
            Clock::PlacedOnMarket => "placed_on_market",
            Clock::EffectiveTo => "effective_to",
        }
    }
}

/// One retention class after config overrides.
#[derive(Clone, Debug)]
pub struct Class {
    pub name: String,
    pub min: Option<Duration>,
    pub max: Option<Duration>,
    pub clock: Clock,
    /// Holds personal data even where events are untagged.
    pub personal: bool,
    /// The basis the table gives (empty for classes defined in config).
    pub basis: &'static str,
}

/// A built-in class: name, min, clock, kinds assigned by default, basis.
type BuiltIn = (
    &'static str,
    Option<&'static str>,
    Clock,
    &'static [&'static str],
    &'static str,
);

/// Built-in classes (§5.1). None has a `max`.
const BUILT_IN: &[BuiltIn] = &[
    (
        "ai_auto_log",
        Some("6 months"),
        Clock::Event,
        &[
            "decision.made",
            "decision.batch",
            "oversight.action",
            "monitoring.metric",
            "monitoring.alert",
            "access",
            "logging.state",
            "admin.change",
        ],
        "AI Act Art. 19(1), 26(6) [V]",
    ),
    (
        "tech_doc",
        Some("10 years"),
        Clock::PlacedOnMarket,
        &[
            "system.registered",
            "document.registered",
            "dataset.registered",
            "dataset.quality_assessed",
            "feature.registered",
            "run.completed",
            "model.*",
            "deployment.*",
            "review.periodic",
        ],
        "AI Act Art. 18(1), 72(3) [V]",
    ),
    (
        "incident_file",
        Some("10 years"),
        Clock::Event,
        &["incident.*"],
        "D: kept with QMS records (Art. 17(1)(k), 73(6)); the Act sets no period",
    ),
    (
        "governance_record",
        Some("10 years"),
        Clock::Event,
        &[
            "retention.disposed",
            "legal_hold.set",
            "legal_hold.released",
            "waiver.granted",
            "dsr.received",
            "dsr.resolved",
        ],
        "D: disposal and hold records outlive what they cover",
    ),
    (
        "pci_audit",
        Some("12 months"),
        Clock::Event,
        &[],
        "PCI DSS 10.5.1 [V]",
    ),
    (
        "hipaa_doc",
        Some("6 years"),
        Clock::EffectiveTo,
        &[],
        "45 CFR 164.316(b)(2)(i) [V]",
    ),
    (
        "sec_17a4_a",
        Some("6 years"),
        Clock::Event,
        &[],
        "17 CFR 240.17a-4(a) [S]",
    ),
    (
        "sec_17a4_b",
        Some("3 years"),
        Clock::Event,
        &[],
        "17 CFR 240.17a-4(b) [S]",
    ),
    (
        "sox_evidence",
        Some("7 years"),
        Clock::Event,
        &[],
        "17 CFR 210.2-06 [V]; AS 1215.14 [V]",
    ),
    ("unclassified", None, Clock::Event, &[], "—"),
];

pub const UNCLASSIFIED: &str = "unclassified";

/// The names of the built-in classes (§5.1), in table order.
pub fn built_in_names() -> impl Iterator<Item = &'static str> {
    BUILT_IN.iter().map(|(name, ..)| *name)
}

/// `true` when `kind` matches a kind glob (`model.*`, `access`).
pub fn kind_glob(glob: &str, kind: &str) -> bool {
    match glob.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => glob == kind,
    }
}

/// The class table of one config, with the assignment rules.
#[derive(Debug)]
pub struct Classes<'c> {
    classes: BTreeMap<String, Class>,
    config: &'c Config,
}

impl<'c> Classes<'c> {
    pub fn new(config: &'c Config) -> Classes<'c> {
        let mut classes = BTreeMap::new();
        for &(name, min, clock, _, basis) in BUILT_IN {
            classes.insert(
                name.to_string(),
                Class {
                    name: name.to_string(),
                    min: min.map(|m| m.parse().expect("built-in duration")),
                    max: None,
                    clock,
                    personal: false,
                    basis,
                },
            );
        }
        for (name, c) in &config.retention.classes {
            let class = classes.entry(name.clone()).or_insert_with(|| Class {
                name: name.clone(),
                min: None,
                max: None,
                clock: Clock::Event,
                personal: false,
                basis: "",
            });
            if c.min.is_some() {
                class.min = c.min;
            }
            if c.max.is_some() {
                class.max = c.max;
            }
            if let Some(clock) = c.clock.as_deref().and_then(Clock::parse) {
                class.clock = clock;
            }
            if let Some(p) = c.personal {
                class.personal = p;
            }
        }
        Classes { classes, config }
    }

    /// Every class, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Class> {
        self.classes.values()
    }

    pub fn get(&self, name: &str) -> Option<&Class> {
        self.classes.get(name)
    }

    /// The class of an event's envelope `retention_class` when it names no configured class.
    pub fn unknown_envelope_class<'e>(&self, e: &'e Event) -> Option<&'e str> {
        e.retention_class()
            .filter(|c| !self.classes.contains_key(*c))
    }

    /// The class an event is assigned to (§5.2). `doc_type` is the event's `attrs.doc_type`
    /// (for `[[retention.assign]] doc_types`), read by the caller only for documents.
    pub fn class_of(&self, e: &Event, doc_type: Option<&str>) -> &Class {
        if let Some(c) = e.retention_class() {
            return self
                .classes
                .get(c)
                .unwrap_or_else(|| &self.classes[UNCLASSIFIED]);
        }
        for a in &self.config.retention.assign {
            let kind_ok = a.kinds.iter().any(|g| kind_glob(g, &e.kind));
            let system_ok = a.systems.is_empty()
                || e.system
                    .as_ref()
                    .is_some_and(|s| a.systems.iter().any(|x| x == s.as_str()));
            let classes_ok = a.data_classes.is_empty()
                || e.data_classes.iter().any(|c| a.data_classes.contains(c));
            let doc_ok = a.doc_types.is_empty()
                || (e.kind == "document.registered"
                    && doc_type.is_some_and(|d| a.doc_types.iter().any(|x| x == d)));
            if kind_ok
                && system_ok
                && classes_ok
                && doc_ok
                && let Some(c) = self.classes.get(&a.class)
            {
                return c;
            }
        }
        self.built_in_class(&e.kind)
    }

    /// The built-in class of a kind (§5.1), `unclassified` for kinds the table does not list.
    pub fn built_in_class(&self, kind: &str) -> &Class {
        BUILT_IN
            .iter()
            .find(|(_, _, _, kinds, _)| kinds.iter().any(|g| kind_glob(g, kind)))
            .and_then(|(name, ..)| self.classes.get(*name))
            .unwrap_or_else(|| &self.classes[UNCLASSIFIED])
    }

    /// The kind globs the built-in table assigns to a class, plus those of `[[retention.assign]]`
    /// entries naming it (which kinds a class can hold).
    pub fn kinds_of(&self, class: &str) -> Vec<&str> {
        let mut kinds: Vec<&str> = BUILT_IN
            .iter()
            .filter(|(name, ..)| *name == class)
            .flat_map(|(_, _, _, kinds, _)| kinds.iter().copied())
            .collect();
        for a in &self.config.retention.assign {
            if a.class == class {
                kinds.extend(a.kinds.iter().map(String::as_str));
            }
        }
        kinds
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    fn cfg(extra: &str) -> Config {
        let text = format!(
            "[[source]]\nname = \"s\"\nformat = \"trailbook-jsonl\"\npaths = [\"s.jsonl\"]\n{extra}"
        );
        config::parse(&text, std::path::Path::new("/x/trailbook.toml")).expect("config parses")
    }

    fn event(kind: &str, class: Option<&str>, system: Option<&str>, dc: &[&str]) -> Event {
        let mut v = serde_json::json!({
            "id": "e", "ts": "2026-01-01T00:00:00Z", "kind": "access",
            "actor": {"id": "a", "type": "service"},
            "subject": {"type": "resource", "id": "r"}, "attrs": {"action": "read"},
            "data_classes": dc,
        });
        if let Some(c) = class {
            v["retention_class"] = c.into();
        }
        if let Some(s) = system {
            v["system"] = s.into();
        }
        let mut e = crate::testing::parse_event(&v);
        // Only the kind matters for assignment.
        e.kind = kind.into();
        e
    }

    #[test]
    fn assignment_follows_envelope_then_config_then_table() {
        let c = cfg(r#"
[retention.classes.ai_auto_log]
max = "3 years"

[retention.classes.bias_special]
max = "18 months"
personal = true

[[retention.assign]]
class = "pci_audit"
kinds = ["access", "admin.*"]
systems = ["card-fraud"]

[[retention.assign]]
class = "bias_special"
kinds = ["dataset.registered"]
data_classes = ["special_category"]
"#);
        let classes = Classes::new(&c);
        let of = |e: &Event| classes.class_of(e, None).name.clone();
        assert_eq!(
            of(&event("access", None, Some("card-fraud"), &[])),
            "pci_audit"
        );
        assert_eq!(
            of(&event("admin.change", None, Some("card-fraud"), &[])),
            "pci_audit"
        );
        assert_eq!(
            of(&event("access", None, Some("other"), &[])),
            "ai_auto_log"
        );
        assert_eq!(
            of(&event(
                "access",
                Some("sox_evidence"),
                Some("card-fraud"),
                &[]
            )),
            "sox_evidence"
        );
        assert_eq!(
            of(&event("access", Some("nope"), None, &[])),
            "unclassified"
        );
        assert_eq!(
            of(&event(
                "dataset.registered",
                None,
                None,
                &["special_category"]
            )),
            "bias_special"
        );
        assert_eq!(
            of(&event("dataset.registered", None, None, &[])),
            "tech_doc"
        );
        assert_eq!(of(&event("model.retired", None, None, &[])), "tech_doc");
        assert_eq!(
            of(&event("incident.notified", None, None, &[])),
            "incident_file"
        );
        assert_eq!(of(&event("frobnicate", None, None, &[])), "unclassified");
        let ai = classes.get("ai_auto_log").unwrap();
        assert_eq!(ai.min.unwrap().to_string(), "6 months");
        assert_eq!(ai.max.unwrap().to_string(), "3 years");
        let b = classes.get("bias_special").unwrap();
        assert!(b.personal && b.min.is_none() && b.clock == Clock::Event);
        assert!(classes.kinds_of("pci_audit").contains(&"admin.*"));
    }
}
