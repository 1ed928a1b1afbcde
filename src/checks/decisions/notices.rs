//! DEC-06 Notices before use.
//!
//! Reads the `document.registered` notices (few), each system's facts, the first production
//! `deployment.started` of each system, and one pass over the decisions that stops as soon as
//! every system in scope has its first decision (and its first decision with `subject_ref`).
//! Output: drafts per system in id order, (a) before (b) before (c).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

use super::{DeploymentCache, attrs, decision_system};
use crate::checks::catalogue::{ParamKind, param};
use crate::checks::facts::entities_of;
use crate::checks::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use crate::event::EntityType;
use crate::time;

/// DEC-06 Notices before use.
pub struct Dec06;

static DEC06: RuleMeta = RuleMeta {
    id: "DEC-06",
    title: "Notices before use",
    levels: "`warn`",
    basis: "T",
    sources: &[
        "AI Act Art. 26(7), 26(11) [V]",
        "NYC Admin Code §20-871(b) [S]",
        "6 RCNY §5-304 [S]",
    ],
    needs: "`system.registered`. A notice is a `document.registered` with \
`doc_type = \"notice\"` describing `system:S`, dated by its `effective_from`, else its `ts`.",
    checks: "Subject `system:S`, discriminator = check letter: (a) S is a high-risk system of \
a deployer with an `annex_iii_point`, its decisions carry `subject_ref`, and no notice is dated \
on or before the first decision of S carrying one; (b) employment(S) (`annex_iii_point` \
starting with `4`) and no notice is dated on or before S's first production \
`deployment.started` (workers' representatives); (c) nyc_aedt(S) and no notice is dated at \
least `notice_business_days` business days before S's first decision: counting business days \
(Monday to Friday, UTC dates, minus `holidays`) back from the UTC date of that decision, that \
date not counted, the notice's UTC date must be on or before the `notice_business_days`-th \
one (with 10 and a first decision on Monday 2026-03-16: Monday 2026-03-02).",
    why: "People subject to a high-risk system's decisions must be told that such a system is \
used on them, workers and their representatives must be told before one is used at the \
workplace, and in New York City candidates must be notified at least ten business days before \
an automated employment decision tool is used on them.",
    example: "Fires: an AEDT first used Monday 2026-03-16 with a notice dated 2026-03-09. \
Passes: a notice dated by 2026-03-02.",
    fix: "Register each notice as a `document.registered` with `doc_type = \"notice\"`, \
`describes: [\"system:S\"]` and the date it was given in `effective_from`, before the system \
is first used (for NYC AEDTs, the set number of business days before).",
    not_checked: "The notice's content and how it reached the people concerned; holidays \
other than those configured.",
    params: &[
        param("notice_business_days", ParamKind::Int, "10"),
        param("holidays", ParamKind::Strs, "[]"),
    ],
};

/// The UTC date of a time.
fn utc_date(ts: Timestamp) -> Date {
    ts.to_zoned_datetime(TimeZone::UTC).date()
}

/// The `n`-th business day before `day` (`day` not counted): Monday to Friday, not a holiday
/// (`RULES.md` §2.3). `n = 0` is `day` itself.
pub(super) fn business_days_before(day: Date, n: i64, holidays: &BTreeSet<Date>) -> Date {
    let mut d = day;
    let mut counted = 0;
    while counted < n {
        let Ok(prev) = d.yesterday() else { break };
        d = prev;
        if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) && !holidays.contains(&d) {
            counted += 1;
        }
    }
    d
}

/// A notice: its date and event.
#[derive(Clone, Copy)]
struct Notice {
    dated: Timestamp,
    event: u32,
}

/// What DEC-06 looks for in the decisions of one system.
#[derive(Default)]
struct FirstUse {
    /// Looking for the first decision carrying `subject_ref` (check (a)).
    want_subject_ref: bool,
    /// Looking for the first decision (check (c)).
    want_first: bool,
    first: Option<u32>,
    first_with_subject_ref: Option<u32>,
}

impl FirstUse {
    fn done(&self) -> bool {
        (!self.want_first || self.first.is_some())
            && (!self.want_subject_ref || self.first_with_subject_ref.is_some())
    }
}

impl Rule for Dec06 {
    fn meta(&self) -> &'static RuleMeta {
        &DEC06
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        if !model.occurs("system.registered") {
            return Outcome::not_evaluable("no `system.registered` event");
        }
        let n_days = cx.int("notice_business_days").max(0);
        let holidays: BTreeSet<Date> = cx
            .strs("holidays")
            .iter()
            .filter_map(|h| h.parse::<Date>().ok())
            .collect();

        // Notices by system id, in event order.
        let mut notices: BTreeMap<&str, Vec<Notice>> = BTreeMap::new();
        for (_, ent) in entities_of(model, EntityType::Document) {
            for &i in &ent.registered {
                let e = model.event(i);
                let [doc_type, from] = attrs(e, &["doc_type", "effective_from"]);
                if doc_type.as_str() != Some("notice") {
                    continue;
                }
                let dated = from
                    .as_str()
                    .and_then(|s| time::parse_date_or_time(s).ok())
                    .unwrap_or(e.ts);
                for r in e.refs.iter().filter(|r| r.field == "attrs.describes") {
                    if r.target.entity_type() == Some(EntityType::System) {
                        notices
                            .entry(r.target.id())
                            .or_default()
                            .push(Notice { dated, event: i });
                    }
                }
            }
        }
        let earliest = |s: &str| -> Option<Notice> {
            notices
                .get(s)?
                .iter()
                .copied()
                .min_by_key(|n| (n.dated, n.event))
        };

        // The systems in scope of (a) and (c), and their first decisions.
        let mut uses: BTreeMap<&str, FirstUse> = BTreeMap::new();
        for s in facts.systems().filter(|s| s.registered.is_some()) {
            let id = Some(s.id.as_str());
            let a = facts.deployer(id) && facts.high_risk(id) && s.annex_iii_point.is_some();
            let c = facts.nyc_aedt(id);
            if a || c {
                uses.insert(
                    s.id.as_str(),
                    FirstUse {
                        want_subject_ref: a,
                        want_first: c,
                        ..FirstUse::default()
                    },
                );
            }
        }
        if !uses.is_empty() {
            let mut pending = uses.len();
            let mut deployments = DeploymentCache::new(facts);
            for (i, e) in model.of_kind("decision.made") {
                let Some(u) = decision_system(e, &mut deployments).and_then(|s| uses.get_mut(s))
                else {
                    continue;
                };
                if u.done() {
                    continue;
                }
                u.first.get_or_insert(i);
                if u.want_subject_ref && u.first_with_subject_ref.is_none() {
                    let [sr] = attrs(e, &["subject_ref"]);
                    if sr.present() {
                        u.first_with_subject_ref = Some(i);
                    }
                }
                if u.done() {
                    pending -= 1;
                    if pending == 0 {
                        break;
                    }
                }
            }
        }

        let mut out = Vec::new();
        let mut in_scope = false;
        for s in facts.systems().filter(|s| s.registered.is_some()) {
            let sid = s.id.as_str();
            let id = Some(sid);
            let notice = earliest(sid);
            let notice_note = |n: &Notice| {
                format!(
                    "the earliest notice `{}` is dated {}",
                    model
                        .event(n.event)
                        .subject
                        .as_ref()
                        .map_or("", |s| s.id.as_str()),
                    time::fmt(n.dated)
                )
            };
            let mut fire = |check: &'static str, trigger: u32, message: String| {
                let mut evidence = vec![cx.evi(trigger, Some("first use".into()))];
                let mut at = model.event(trigger).ts;
                if let Some(n) = notice {
                    evidence.push(cx.evi(
                        n.event,
                        Some(format!("notice dated {}", time::fmt(n.dated))),
                    ));
                    at = at.max(model.event(n.event).ts);
                }
                out.push(
                    Draft::new(format!("system:{sid}"), check, check, Level::Warn, message)
                        .evidence(evidence)
                        .at(at)
                        .system(id),
                );
            };
            let why_not = |dated_by: &str| match notice {
                Some(n) => format!("{}, after {dated_by}", notice_note(&n)),
                None => "no notice describes it".into(),
            };

            if let Some(first) = uses.get(sid).and_then(|u| u.first_with_subject_ref) {
                in_scope = true;
                let e = model.event(first);
                if notice.is_none_or(|n| n.dated > e.ts) {
                    fire(
                        "a",
                        first,
                        format!(
                            "high-risk system `{sid}` (Annex III point {}) is used by a deployer \
                             on natural persons: its first decision with `subject_ref`, `{}` at \
                             {}, was not preceded by a notice ({}); inform the people concerned \
                             before use",
                            s.annex_iii_point.as_deref().unwrap_or_default(),
                            e.id,
                            time::fmt(e.ts),
                            why_not("that decision")
                        ),
                    );
                }
            }

            if facts.employment(id) {
                let first_prod = facts
                    .deployments()
                    .filter(|d| d.production && d.system.as_deref() == id)
                    .filter_map(|d| {
                        d.events
                            .iter()
                            .copied()
                            .find(|&i| model.event(i).kind == "deployment.started")
                    })
                    .min_by_key(|&i| (model.event(i).ts, i));
                if let Some(first) = first_prod {
                    in_scope = true;
                    let e = model.event(first);
                    if notice.is_none_or(|n| n.dated > e.ts) {
                        fire(
                            "b",
                            first,
                            format!(
                                "employment system `{sid}` went into production with `{}` at {} \
                                 without a prior notice to workers' representatives and the \
                                 workers affected ({})",
                                e.id,
                                time::fmt(e.ts),
                                why_not("that deployment")
                            ),
                        );
                    }
                }
            }

            if let Some(first) = uses
                .get(sid)
                .and_then(|u| u.want_first.then_some(u.first))
                .flatten()
            {
                in_scope = true;
                let e = model.event(first);
                let used = utc_date(e.ts);
                let deadline = business_days_before(used, n_days, &holidays);
                if notice.is_none_or(|n| utc_date(n.dated) > deadline) {
                    fire(
                        "c",
                        first,
                        format!(
                            "automated employment decision tool `{sid}` was first used on {used} \
                             ({:?}, decision `{}`); a notice must be dated at least {n_days} \
                             business days before, on or before {deadline} ({:?}), but {}",
                            used.weekday(),
                            e.id,
                            deadline.weekday(),
                            match notice {
                                Some(n) => notice_note(&n),
                                None => "no notice describes it".into(),
                            }
                        ),
                    );
                }
            }
        }
        if !in_scope {
            return Outcome::not_applicable(
                "no system that needs a notice: none is a deployer's high-risk system whose \
                 decisions carry `subject_ref`, an employment system in production, or a NYC \
                 AEDT with decisions",
            );
        }
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
mod tests;
