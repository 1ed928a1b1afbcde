//! INC — incidents and reporting deadlines: INC-01 … INC-06, and DEP-06 (deployer response to
//! risk), which reads the same incident model and the INC-03 deadline.
//!
//! Input: the effective events of the as-of view whose subject is an incident
//! (`incident.opened`/`.updated`/`.closed`/`.notified`), the derived facts (S(I), the systems'
//! roles, the deployments' state machines) and, for INC-04 and DEP-06, the deployment, model and
//! administration events that may follow an incident. Each rule builds the [`Incident`] model once
//! per run ([`incidents`]); incidents are few, so every incident event's `attrs` is parsed.
//! Output per rule: findings in incident id order (DEP-06: incidents, then alerts in event
//! order), check letters in order within a subject.
//!
//! Clocks: a deadline is a UTC time; "within X of t" means at or before t + X. A deadline that
//! has not passed at T fires nothing, except INC-03 (c), which reports the running clock. Messages
//! state the deadline to the second and how late, overdue or how much time is left
//! ([`time::fmt_span`]); discriminators never hold such as-of-dependent values.

mod alteration;
pub(crate) mod breach;
mod clocks;
mod record;
mod response;

#[cfg(test)]
mod fixtures;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::facts::{Facts, entities_of};
use super::{Cx, Evidence, Outcome, Rule};
use crate::event::{EntityType, NodeId, as_str_list, present};
use crate::model::Model;
use crate::time::{self, Duration, fmt_second, fmt_span};

pub static RULES: &[&dyn Rule] = &[
    &response::Dep06,
    &record::Inc01,
    &record::Inc02,
    &clocks::Inc03,
    &alteration::Inc04,
    &clocks::Inc05,
    &breach::Inc06,
];

/// The default of INC-03 `immediate`, which INC-05 (b) also reads for "the INC-03 deadline".
const INC03_IMMEDIATE: &str = "\"24 h\"";

/// One `incident.notified` of an incident.
#[derive(Clone, Debug)]
pub(crate) struct Notice {
    pub event: u32,
    pub ts: Timestamp,
    pub recipient: Option<String>,
    pub report_type: Option<String>,
}

/// An incident as the rules read it (`RULES.md` §2.1, §3.7).
#[derive(Debug)]
pub(crate) struct Incident {
    pub node: NodeId,
    /// S(I) (§2.2): its registration's system, else the first system reached through `affects`.
    pub system: Option<String>,
    /// Its effective `incident.opened`/`.updated`/`.closed`, in event order.
    pub lifecycle: Vec<u32>,
    /// The `attrs` of each lifecycle event, in the same order.
    parts: Vec<Map<String, Value>>,
    /// Every effective event whose subject is the incident (lifecycle and notices), in order.
    pub events: Vec<u32>,
    /// Its first `incident.opened` (else its first lifecycle event).
    pub opened: u32,
    /// Whether an `incident.opened` exists at all.
    pub has_opened: bool,
    /// The merged attributes: a later present value replaces an earlier one.
    pub attrs: Map<String, Value>,
    /// Awareness: `awareness_ts`, else the `incident.opened` ts.
    pub awareness: Timestamp,
    /// Whether `awareness_ts` is present and a time.
    pub awareness_given: bool,
    /// The event that set the awareness: the last lifecycle event carrying the `awareness_ts`
    /// in force, else the opening event.
    pub awareness_event: u32,
    /// Its `incident.notified`, in event order.
    pub notices: Vec<Notice>,
}

const LIFECYCLE: [&str; 3] = ["incident.opened", "incident.updated", "incident.closed"];

/// A time value of `attrs`.
fn time_of(v: Option<&Value>) -> Option<Timestamp> {
    v.and_then(Value::as_str)
        .and_then(|s| time::parse_date_or_time(s).ok())
}

fn merge(parts: &[Map<String, Value>]) -> Map<String, Value> {
    let mut merged = Map::new();
    for a in parts {
        for (k, v) in a {
            if present(Some(v)) {
                merged.insert(k.clone(), v.clone());
            }
        }
    }
    merged
}

/// Builds every incident with at least one lifecycle event, in incident id order.
pub(crate) fn incidents(model: &Model, facts: &Facts<'_>) -> Vec<Incident> {
    #[derive(serde::Deserialize)]
    struct NoticeView {
        recipient: Option<String>,
        report_type: Option<String>,
    }
    let mut out = Vec::new();
    for (node, ent) in entities_of(model, EntityType::Incident) {
        let mut lifecycle = Vec::new();
        let mut events = Vec::new();
        let mut notices = Vec::new();
        for &i in &ent.timeline {
            let e = model.event(i);
            if !e.subject.as_ref().is_some_and(|s| s.is(node)) {
                continue;
            }
            events.push(i);
            if LIFECYCLE.contains(&e.kind.as_str()) {
                lifecycle.push(i);
            } else if e.kind == "incident.notified" {
                let view = e.attrs_as::<NoticeView>();
                notices.push(Notice {
                    event: i,
                    ts: e.ts,
                    recipient: view.as_ref().and_then(|v| v.recipient.clone()),
                    report_type: view.and_then(|v| v.report_type),
                });
            }
        }
        let Some(&first) = lifecycle.first() else {
            continue;
        };
        let parts: Vec<Map<String, Value>> =
            lifecycle.iter().map(|&i| model.event(i).attrs()).collect();
        let attrs = merge(&parts);
        let opened_event = lifecycle
            .iter()
            .copied()
            .find(|&i| model.event(i).kind == "incident.opened");
        let opened = opened_event.unwrap_or(first);
        let given = time_of(attrs.get("awareness_ts"));
        let awareness_event = match given {
            Some(_) => lifecycle
                .iter()
                .zip(&parts)
                .rev()
                .find(|(_, a)| present(a.get("awareness_ts")))
                .map_or(opened, |(&i, _)| i),
            None => opened,
        };
        out.push(Incident {
            node: node.clone(),
            system: facts.system_of(node).map(str::to_string),
            lifecycle,
            parts,
            events,
            opened,
            has_opened: opened_event.is_some(),
            awareness: given.unwrap_or(model.event(opened).ts),
            awareness_given: given.is_some(),
            awareness_event,
            attrs,
            notices,
        });
    }
    out
}

impl Incident {
    pub fn id(&self) -> &str {
        self.node.id()
    }

    pub fn subject(&self) -> &str {
        self.node.as_str()
    }

    pub fn system(&self) -> Option<&str> {
        self.system.as_deref()
    }

    /// Whether a merged attribute is present.
    pub fn has(&self, key: &str) -> bool {
        present(self.attrs.get(key))
    }

    pub fn flag(&self, key: &str) -> Option<bool> {
        self.attrs.get(key).and_then(Value::as_bool)
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        self.attrs
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn serious(&self) -> bool {
        self.flag("serious") == Some(true)
    }

    /// The nodes of the merged `affects` that are `TYPE:ID` of an entity type.
    pub fn affects(&self) -> Vec<NodeId> {
        as_str_list(self.attrs.get("affects"))
            .into_iter()
            .filter_map(NodeId::parse)
            .collect()
    }

    /// The latest `incident.closed`, with the attributes merged up to and including it.
    pub fn closure(&self, model: &Model) -> Option<(u32, Map<String, Value>)> {
        let k = self
            .lifecycle
            .iter()
            .rposition(|&i| model.event(i).kind == "incident.closed")?;
        Some((self.lifecycle[k], merge(&self.parts[..=k])))
    }

    /// The earliest notice to `recipient`.
    pub fn first_notice(&self, recipient: &str) -> Option<&Notice> {
        self.notices
            .iter()
            .find(|n| n.recipient.as_deref() == Some(recipient))
    }

    /// Whether one of the incident's events has a reason (§2.1).
    pub fn any_reason(&self, model: &Model) -> bool {
        self.events
            .iter()
            .any(|&i| super::facts::reason(model.event(i)).is_some())
    }

    /// Evidence for the incident's record: its opening event and its latest lifecycle event
    /// (where the merged state comes from).
    pub fn record_evidence(&self, cx: &Cx<'_>, note: &str) -> Vec<Evidence> {
        let mut ev = vec![cx.evi(self.opened, Some(note.to_string()))];
        if let Some(&last) = self.lifecycle.last()
            && last != self.opened
        {
            ev.push(cx.evi(last, Some("latest incident record".into())));
        }
        ev
    }

    /// Evidence for the awareness time.
    pub fn awareness_evidence(&self, cx: &Cx<'_>) -> Evidence {
        let note = if self.awareness_given {
            format!("aware {}", time::fmt_second(self.awareness))
        } else {
            format!(
                "opened {} (no awareness_ts)",
                time::fmt_second(self.awareness)
            )
        };
        cx.evi(self.awareness_event, Some(note))
    }

    /// "aware 2026-03-01T08:00:00Z" or "opened … (no `awareness_ts`)", for messages.
    pub fn awareness_phrase(&self) -> String {
        if self.awareness_given {
            format!("aware {}", time::fmt_second(self.awareness))
        } else {
            format!(
                "opened {}, no `awareness_ts`",
                time::fmt_second(self.awareness)
            )
        }
    }
}

/// Whether the as-of view holds an `incident.opened` (the Needs of most INC rules).
pub(super) fn any_opened(incidents: &[Incident]) -> bool {
    incidents.iter().any(|i| i.has_opened)
}

/// The outcome of a reporting clock.
#[derive(Debug)]
pub(crate) enum Clock<'a> {
    /// Reported at or before the deadline.
    Met,
    /// First reported after the deadline.
    Late(&'a Notice),
    /// Not reported, and T is past the deadline.
    Overdue,
    /// Not reported, and the deadline is still ahead (or now).
    Running,
}

/// The clock of a first notice against a deadline at T.
pub(crate) fn clock(first: Option<&Notice>, deadline: Timestamp, t: Timestamp) -> Clock<'_> {
    match first {
        Some(n) if n.ts <= deadline => Clock::Met,
        Some(n) => Clock::Late(n),
        None if t > deadline => Clock::Overdue,
        None => Clock::Running,
    }
}

/// The INC-03 deadline of a serious incident (`RULES.md` INC-03): awareness + limit, or
/// `causal_link_ts` + `immediate` when earlier. Returns the deadline and how it was reached.
pub(crate) fn art73_deadline(inc: &Incident, immediate: &Limit) -> (Timestamp, String) {
    let category = inc.text("category");
    let (days, why) = if inc.flag("widespread") == Some(true) {
        (2, "widespread".to_string())
    } else if category == Some("critical_infrastructure") {
        (2, "category `critical_infrastructure`".to_string())
    } else if category == Some("death") {
        (10, "category `death`".to_string())
    } else {
        (15, "serious incident".to_string())
    };
    let by_limit = Duration::Seconds(days * 86_400).after(inc.awareness);
    let mut out = (
        by_limit,
        format!(
            "{days} days from awareness {} ({why})",
            time::fmt_second(inc.awareness)
        ),
    );
    if let Some(link) = time_of(inc.attrs.get("causal_link_ts")) {
        let by_link = immediate.after(link);
        if by_link < by_limit {
            out = (
                by_link,
                format!(
                    "{immediate} from the causal link established {}",
                    time::fmt_second(link)
                ),
            );
        }
    }
    out
}

/// A duration parameter with the text it was written as ("72 h", not "3 d"), for messages.
#[derive(Clone, Debug)]
pub(crate) struct Limit {
    pub duration: Duration,
    pub text: String,
}

impl Limit {
    pub fn after(&self, t: Timestamp) -> Timestamp {
        self.duration.after(t)
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A duration parameter of the running rule.
pub(crate) fn limit(cx: &Cx<'_>, name: &str) -> Limit {
    Limit {
        duration: cx.duration(name),
        text: cx.string(name).trim().to_string(),
    }
}

/// INC-03's `immediate`, as configured (INC-05 (b) uses "the INC-03 deadline").
pub(super) fn inc03_immediate(cx: &Cx<'_>) -> Limit {
    let text = cx
        .config
        .policy
        .params
        .get("INC-03")
        .and_then(|t| t.get("immediate"))
        .and_then(|v| v.as_str())
        .filter(|s| s.parse::<Duration>().is_ok())
        .unwrap_or(INC03_IMMEDIATE.trim_matches('"'))
        .trim()
        .to_string();
    Limit {
        duration: text.parse().expect("checked duration"),
        text,
    }
}

/// The common preamble: not evaluable without an `incident.opened`; else the incidents.
pub(super) fn opened_scope(cx: &Cx<'_>) -> Result<Vec<Incident>, Outcome> {
    let all = incidents(cx.model, cx.facts);
    if !any_opened(&all) {
        return Err(Outcome::not_evaluable("no `incident.opened` event"));
    }
    Ok(all)
}

/// "first report `n1` on X, Y after the deadline Z".
fn late_phrase(what: &str, n: &Notice, cx: &Cx<'_>, deadline: Timestamp) -> String {
    format!(
        "{what} `{}` on {}, {} after the deadline {}",
        cx.model.event(n.event).id,
        fmt_second(n.ts),
        fmt_span(deadline, n.ts),
        fmt_second(deadline)
    )
}

/// "no notice; due X, Y overdue at T".
fn overdue_phrase(what: &str, deadline: Timestamp, t: Timestamp) -> String {
    format!(
        "no {what}; due {}, {} overdue at {}",
        fmt_second(deadline),
        fmt_span(deadline, t),
        fmt_second(t)
    )
}

fn notice_evidence(cx: &Cx<'_>, n: &Notice, note: &str) -> Evidence {
    cx.evi(n.event, Some(note.to_string()))
}

/// The ts of the event that set the incident's awareness (for a finding's time).
fn inc_ts(cx: &Cx<'_>, inc: &Incident) -> Timestamp {
    cx.model.event(inc.awareness_event).ts
}
