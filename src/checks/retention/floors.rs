//! The legal floors of RET-01…RET-06 (`RULES.md` §3.9, §5.5 step 2): which events each keeps,
//! for how long and from which clock, in the enabled packs' `systems`.

use std::collections::BTreeSet;

use super::{SysInfo, clock_name, rules};
use crate::checks::classes::{Clock, kind_glob};
use crate::checks::{Cx, RuleMeta, catalogue};
use crate::event::Event;
use crate::time::Duration;

/// Which systems a floor's events must belong to (besides the pack's `systems`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SysPred {
    Any,
    HighRisk,
    ProviderHighRisk,
}

/// What a floor covers.
#[derive(Clone, Debug)]
pub(super) enum Scope {
    /// Events of these kinds (globs).
    Kinds(&'static [&'static str]),
    /// `document.registered` events with `doc_type` in the list.
    Docs(Vec<String>),
    /// Events of one class.
    Class(&'static str),
}

/// A legal floor of an enabled RET-01…RET-06 (§3.9): scope, minimum and clock.
#[derive(Clone, Debug)]
pub struct Floor {
    pub rule: &'static str,
    pub min: Duration,
    pub clock: Clock,
    pub(super) scope: Scope,
    pub(super) pred: SysPred,
    /// The enabled packs' `systems`; `None`: every subject.
    pub(super) systems: Option<BTreeSet<String>>,
}

/// RET-01's audit kinds.
const RET01_KINDS: &[&str] = &[
    "decision.*",
    "oversight.action",
    "monitoring.*",
    "logging.state",
    "access",
];
/// RET-02's technical-documentation kinds (besides documents).
const RET02_KINDS: &[&str] = &[
    "system.registered",
    "model.*",
    "dataset.*",
    "feature.registered",
    "run.completed",
    "deployment.*",
];
/// RET-03's audit-log kinds (also RET-04's `audit_log_floor`).
const AUDIT_KINDS: &[&str] = &[
    "access",
    "admin.change",
    "logging.state",
    "decision.*",
    "oversight.action",
    "monitoring.*",
];

impl Floor {
    /// What the floor keeps, for messages.
    pub fn describe(&self) -> String {
        let systems = match self.pred {
            SysPred::Any => "",
            SysPred::HighRisk => " of high-risk systems",
            SysPred::ProviderHighRisk => {
                " of high-risk systems of which the organisation is provider"
            }
        };
        let what = match &self.scope {
            Scope::Kinds(k) => format!("{} events{systems}", k.join(", ")),
            Scope::Docs(d) => format!("`document.registered` of type {}{systems}", d.join(", ")),
            Scope::Class(c) => format!("events of class `{c}`"),
        };
        format!(
            "{} keeps {what} for {} from {}",
            self.rule,
            self.min,
            clock_name(self.clock)
        )
    }

    pub(super) fn system_ok(&self, s: Option<&str>, info: Option<&SysInfo>) -> bool {
        let in_pack = match &self.systems {
            None => true,
            Some(set) => s.is_some_and(|s| set.contains(s)),
        };
        in_pack
            && match self.pred {
                SysPred::Any => true,
                SysPred::HighRisk => info.is_some_and(|i| i.high_risk),
                SysPred::ProviderHighRisk => info.is_some_and(|i| i.high_risk && i.provider),
            }
    }

    /// Whether event `e` (of class `class`, system `s`) is in the floor's scope.
    pub(super) fn contains(
        &self,
        e: &Event,
        class: &str,
        doc_type: Option<&str>,
        s: Option<&str>,
        info: Option<&SysInfo>,
    ) -> bool {
        let scope_ok = match &self.scope {
            Scope::Kinds(kinds) => kinds.iter().any(|g| kind_glob(g, &e.kind)),
            Scope::Docs(types) => {
                e.kind == "document.registered"
                    && doc_type.is_some_and(|d| types.iter().any(|t| t == d))
            }
            Scope::Class(c) => *c == class,
        };
        scope_ok && self.system_ok(s, info)
    }

    /// Whether an event of class `class` (whose kinds may be `kinds`) in system `s` could be in
    /// the floor's scope (§5.5 step 5).
    pub(super) fn could_contain(
        &self,
        class: &str,
        kinds: &[String],
        s: Option<&str>,
        info: Option<&SysInfo>,
    ) -> bool {
        let scope_ok = match &self.scope {
            Scope::Kinds(fk) => fk.iter().any(|f| kinds.iter().any(|k| globs_overlap(f, k))),
            Scope::Docs(_) => kinds
                .iter()
                .any(|k| globs_overlap(k, "document.registered")),
            Scope::Class(c) => *c == class,
        };
        scope_ok && self.system_ok(s, info)
    }
}

/// Whether two kind globs (`model.*`, `access`) match a common kind.
fn globs_overlap(a: &str, b: &str) -> bool {
    match (a.strip_suffix('*'), b.strip_suffix('*')) {
        (None, None) => a == b,
        (Some(p), None) => b.starts_with(p),
        (None, Some(p)) => a.starts_with(p),
        (Some(p), Some(q)) => p.starts_with(q) || q.starts_with(p),
    }
}

/// A `Cx` reading the parameters of another RET rule.
fn cx_of<'a>(cx: &Cx<'a>, rule: &'static RuleMeta) -> Cx<'a> {
    Cx {
        model: cx.model,
        facts: cx.facts,
        graph: cx.graph,
        config: cx.config,
        ingest: cx.ingest,
        rule,
    }
}

/// `None` when no enabled pack lists `rule` (or it is turned off); else the union of the listing
/// packs' `systems` (`None` inside: every system).
fn floor_systems(cx: &Cx<'_>, rule: &str) -> Option<Option<BTreeSet<String>>> {
    let policy = &cx.config.policy;
    if policy.levels.get(rule).map(String::as_str) == Some("off") {
        return None;
    }
    let packs: Vec<_> = catalogue::PACKS
        .iter()
        .filter(|p| policy.enabled(p.id) && p.lists(rule))
        .collect();
    if packs.is_empty() {
        return None;
    }
    let mut set = BTreeSet::new();
    for p in packs {
        match policy.pack.get(p.id).and_then(|o| o.systems.as_ref()) {
            None => return Some(None),
            Some(s) => set.extend(s.iter().cloned()),
        }
    }
    Some(Some(set))
}

fn is_zero(d: Duration) -> bool {
    matches!(d, Duration::Seconds(0) | Duration::Months(0))
}

/// The floors of the enabled RET-01…RET-06, in rule order.
pub(super) fn build_floors(cx: &Cx<'_>) -> Vec<Floor> {
    let mut out = Vec::new();
    let years = |n: i64| Duration::Months(12 * n);
    let mut push = |rule, min, clock, scope, pred, systems: &Option<BTreeSet<String>>| {
        out.push(Floor {
            rule,
            min,
            clock,
            scope,
            pred,
            systems: systems.clone(),
        })
    };
    if let Some(sys) = floor_systems(cx, "RET-01") {
        let p = cx_of(cx, &rules::RET01);
        let min = p.duration("floor");
        push(
            "RET-01",
            min,
            Clock::Event,
            Scope::Kinds(RET01_KINDS),
            SysPred::HighRisk,
            &sys,
        );
    }
    if let Some(sys) = floor_systems(cx, "RET-02") {
        let p = cx_of(cx, &rules::RET02);
        let docs = Scope::Docs(p.strs("doc_types"));
        for scope in [docs, Scope::Kinds(RET02_KINDS)] {
            push(
                "RET-02",
                years(10),
                Clock::PlacedOnMarket,
                scope,
                SysPred::ProviderHighRisk,
                &sys,
            );
        }
    }
    if let Some(sys) = floor_systems(cx, "RET-03") {
        push(
            "RET-03",
            Duration::Months(12),
            Clock::Event,
            Scope::Kinds(AUDIT_KINDS),
            SysPred::Any,
            &sys,
        );
    }
    if let Some(sys) = floor_systems(cx, "RET-04") {
        let p = cx_of(cx, &rules::RET04);
        let docs = Scope::Docs(p.strs("doc_types"));
        for scope in [docs, Scope::Class("hipaa_doc")] {
            push(
                "RET-04",
                years(6),
                Clock::EffectiveTo,
                scope,
                SysPred::Any,
                &sys,
            );
        }
        let audit = p.duration("audit_log_floor");
        if !is_zero(audit) {
            push(
                "RET-04",
                audit,
                Clock::Event,
                Scope::Kinds(AUDIT_KINDS),
                SysPred::Any,
                &sys,
            );
        }
    }
    if let Some(sys) = floor_systems(cx, "RET-05") {
        for (class, n) in [("sec_17a4_a", 6), ("sec_17a4_b", 3)] {
            push(
                "RET-05",
                years(n),
                Clock::Event,
                Scope::Class(class),
                SysPred::Any,
                &sys,
            );
        }
    }
    if let Some(sys) = floor_systems(cx, "RET-06") {
        push(
            "RET-06",
            years(7),
            Clock::Event,
            Scope::Class("sox_evidence"),
            SysPred::Any,
            &sys,
        );
    }
    out
}
