//! Waivers (`RULES.md` §6.4) and LOG-08, which judges them.
//!
//! Waivers come from `waiver.granted` events (effective ones: a correcting `waiver.granted`
//! replaces the original) and from `[[policy.waiver]]` in config. An active waiver turns a matching
//! finding's level into `waived` and keeps the original level in `waiver.level`; an expired one
//! leaves the finding at its level and is itself reported (LOG-08 (a)). Waivers never apply to
//! LOG-08 and never clear the integrity mark.

use jiff::Timestamp;

use super::catalogue::{self, ParamKind, param};
use super::{Cx, Draft, Finding, Level, Outcome, Rule, RuleMeta, WaiverRef};
use crate::config::Config;
use crate::event::Origin;
use crate::ingest::Ingest;
use crate::model::Model;
use crate::time;

/// One waiver, from an event or from config.
#[derive(Clone, Debug)]
pub struct Waiver {
    pub id: String,
    pub rule: String,
    pub target: Option<String>,
    pub system: Option<String>,
    pub reason: String,
    pub approved_by: String,
    /// `None`: granted before anything (a config waiver without `granted`).
    pub granted: Option<Timestamp>,
    /// `None`: not a readable time (LOG-08 reports it; the waiver applies to nothing).
    pub expires: Option<Timestamp>,
    /// The granting event: its index and actor.
    pub event: Option<(u32, String)>,
    /// For config waivers, no input line.
    pub origin: Option<Origin>,
}

impl Waiver {
    fn active(&self, t: Timestamp) -> bool {
        self.granted.is_none_or(|g| g <= t) && self.expires.is_some_and(|e| t < e)
    }

    fn expired(&self, t: Timestamp) -> bool {
        self.expires.is_some_and(|e| e <= t)
    }

    fn matches(&self, f: &Finding) -> bool {
        if self.rule != f.rule || f.rule == "LOG-08" {
            return false;
        }
        match (&self.target, &self.system) {
            (Some(target), _) => *target == f.subject,
            (None, Some(system)) => f.system.as_deref() == Some(system.as_str()),
            (None, None) => true,
        }
    }

    fn as_ref(&self, level: Level) -> WaiverRef {
        WaiverRef {
            id: self.id.clone(),
            expires: self.expires.map(time::fmt).unwrap_or_default(),
            approved_by: self.approved_by.clone(),
            level,
        }
    }
}

/// Every waiver of the report: events first (in event order), then config (in file order).
pub fn collect(model: &Model, config: &Config, _ingest: &Ingest) -> Vec<Waiver> {
    let mut out = Vec::new();
    for (i, e) in model.of_kind("waiver.granted") {
        let a = e.attrs();
        let s = |k: &str| a.get(k).and_then(|v| v.as_str()).map(str::to_string);
        out.push(Waiver {
            id: e.id.to_string(),
            rule: s("rule").unwrap_or_default(),
            target: s("target"),
            system: e.system.as_deref().map(str::to_string),
            reason: s("reason").unwrap_or_default(),
            approved_by: s("approved_by").unwrap_or_default(),
            granted: Some(e.ts),
            expires: s("expires").and_then(|x| time::parse_date_or_time(&x).ok()),
            event: Some((i, e.actor.id.to_string())),
            origin: Some(e.origin),
        });
    }
    for w in &config.policy.waiver {
        out.push(Waiver {
            id: w.id.clone(),
            rule: w.rule.clone(),
            target: w.target.clone(),
            system: w.system.clone(),
            reason: w.reason.clone(),
            approved_by: w.approved_by.clone(),
            granted: w.granted,
            expires: Some(w.expires),
            event: None,
            origin: None,
        });
    }
    out
}

/// Applies active waivers to findings and attaches expired ones.
pub fn apply(waivers: &[Waiver], findings: &mut [Finding], model: &Model) {
    let t = model.as_of;
    for f in findings.iter_mut() {
        let mut matching: Vec<&Waiver> = waivers.iter().filter(|w| w.matches(f)).collect();
        // The active waiver that lasts longest applies; else the most recently expired is shown.
        matching.sort_by(|a, b| (b.expires, &a.id).cmp(&(a.expires, &b.id)));
        if let Some(w) = matching.iter().find(|w| w.active(t)) {
            f.waiver = Some(w.as_ref(f.effective_level));
            f.level = "waived".into();
        } else if let Some(w) = matching.iter().find(|w| w.expired(t)) {
            f.waiver = Some(w.as_ref(f.effective_level));
        }
    }
}

pub struct Log08;

static LOG08: RuleMeta = RuleMeta {
    id: "LOG-08",
    title: "Waivers",
    levels: "`warn`; (e) `info`",
    basis: "D",
    sources: &[
        "SR 11-7 inventory (\"exceptions to policy\") [V]",
        "PRA SS1/23 P5 [V]",
    ],
    needs: "`waiver.granted` events or `[[policy.waiver]]` in config.",
    checks: "For every waiver (subject `waiver:ID`, the event id or the config `id`): (a) expired: `expires` ≤ T — the findings it covered return at their level and the message lists their ids; (b) `rule` is not an id of the catalogue, or `expires` is not a time; (c) `approved_by` equals the granting event's `actor.id`; (d) `expires` more than `max_duration` after the grant; (e) active but matching no finding (`info`). LOG-08 findings cannot be waived.",
    why: "A waiver is an exception to policy. Regulators expect exceptions to be approved by someone other than the requester, time-limited, and revisited when they lapse; a silent, expired or self-approved exception is a control failure of its own.",
    example: "Fires: a waiver on MOD-02 for `model_version:credit-risk@1.3.2` expiring 2026-06-30, with as-of 2026-09-30. Passes: a renewed waiver (a correcting `waiver.granted` with a later `expires`), or the finding fixed.",
    fix: "Renew an expired waiver with a correcting `waiver.granted` (`supersedes` the old one, with a `reason`) approved by a second person, or fix what it covered; remove waivers that no longer match anything.",
    not_checked: "Whether the approver had the authority to grant the exception.",
    params: &[param("max_duration", ParamKind::Duration, "\"12 months\"")],
};

impl Rule for Log08 {
    fn meta(&self) -> &'static RuleMeta {
        &LOG08
    }

    /// LOG-08 needs the other rules' findings; the engine calls [`log08`] instead.
    fn run(&self, _cx: &Cx<'_>) -> Outcome {
        Outcome::not_evaluable("LOG-08 runs after the other rules")
    }
}

/// LOG-08 over the collected waivers and the findings they may cover.
pub fn log08(waivers: &[Waiver], findings: &[Finding], cx: &Cx<'_>) -> Outcome {
    if waivers.is_empty() {
        return Outcome::not_evaluable(
            "no `waiver.granted` event and no `[[policy.waiver]]` in config",
        );
    }
    let t = cx.as_of();
    let max = cx.duration("max_duration");
    let mut out = Vec::new();
    for w in waivers {
        let subject = format!("waiver:{}", w.id);
        let evidence: Vec<_> = w.event.iter().map(|(i, _)| cx.evi(*i, None)).collect();
        let from = if w.event.is_some() {
            "event"
        } else {
            "config waiver"
        };
        let draft = |check: &'static str, level: Level, message: String| {
            Draft::new(subject.clone(), check, check, level, message)
                .evidence(evidence.clone())
                .system(w.system.as_deref())
        };
        if !catalogue::RULE_IDS.contains(&w.rule.as_str()) {
            out.push(draft(
                "b",
                Level::Warn,
                format!(
                    "{from} `{}` waives `{}`, which is not a rule of the catalogue",
                    w.id, w.rule
                ),
            ));
            continue;
        }
        let Some(expires) = w.expires else {
            out.push(draft(
                "b",
                Level::Warn,
                format!(
                    "{from} `{}` has no readable `expires` time; it waives nothing",
                    w.id
                ),
            ));
            continue;
        };
        let covered: Vec<&str> = findings
            .iter()
            .filter(|f| w.matches(f))
            .map(|f| f.id.as_str())
            .collect();
        if w.expired(t) {
            let list = if covered.is_empty() {
                "no finding".to_string()
            } else {
                covered.join(", ")
            };
            out.push(
                draft(
                    "a",
                    Level::Warn,
                    format!("waiver `{}` on {} expired {}; the findings it covered are back at their level: {list}", w.id, w.rule, time::fmt(expires)),
                )
                .at(expires),
            );
        }
        if let Some((_, actor)) = &w.event
            && *actor == w.approved_by
        {
            out.push(draft(
                "c",
                Level::Warn,
                format!(
                    "waiver `{}` is approved by `{actor}`, who also granted it",
                    w.id
                ),
            ));
        }
        if let Some(granted) = w.granted
            && expires > max.after(granted)
        {
            out.push(draft(
                "d",
                Level::Warn,
                format!(
                    "waiver `{}` runs from {} to {}, longer than max_duration = {max}",
                    w.id,
                    time::fmt(granted),
                    time::fmt(expires)
                ),
            ));
        }
        if w.active(t) && covered.is_empty() {
            out.push(draft(
                "e",
                Level::Info,
                format!(
                    "waiver `{}` on {} is active but matches no finding",
                    w.id, w.rule
                ),
            ));
        }
    }
    Outcome::evaluated(out)
}
