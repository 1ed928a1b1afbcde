//! DEP-07 NYC AEDT bias audit and summary.
//!
//! Input: one pass over the effective events collecting the decisions (`decision.made` at its
//! ts, `decision.batch` at its `window_end`) of systems with nyc_aedt(S) and every
//! `model.evaluated`; the versions' registrations (developers, owner, model) and the
//! `eval_report` documents.
//! Output: (a) per deployment and UTC day (aggregated), in deployment then day order; (b) per
//! system, in id order.
//!
//! Cost: decisions are many, audits few. Each audit is judged once per served version (the
//! signer test depends on the version); what remains per decision is a time test against the
//! version's sorted qualifying `signed_ts`. Decisions are grouped by (deployment, version, UTC
//! day), and a whole day is decided at once when its earliest and latest decision agree; only
//! a day in which an audit starts or stops qualifying is tested decision by decision. The test
//! is exact: `signed_ts ∈ [t − audit_max_age, t]` with calendar arithmetic, never a day
//! approximation.

use crate::checks::ticks;
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::Value;
use serde_json::value::RawValue;

use super::super::catalogue::{ParamKind, param};
use super::super::facts::{Facts, entities_of};
use super::super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use super::text;
use crate::event::{EntityType, NodeId, as_str_list, present};
use crate::model::Model;
use crate::time::{self, Duration};

/// DEP-07 NYC AEDT bias audit and summary.
pub struct Dep07;

static DEP07: RuleMeta = RuleMeta {
    id: "DEP-07",
    title: "NYC AEDT bias audit and summary",
    levels: "`deny`",
    basis: "T",
    sources: &["NYC Admin Code §20-871(a) [S]", "6 RCNY §§5-301, 5-303 [S]"],
    needs: "a system with nyc_aedt(S): listed in `[policy] aedt_systems`, or an employment \
system (`annex_iii_point` starting with `4`) whose `jurisdictions` meet `[policy] \
nyc_jurisdictions`. Scope: the decisions of such systems (`decision.made` at its ts, \
`decision.batch` at its `window_end`).",
    checks: "Qualifying audit for a decision at t served by V (the decision's `model_version`): \
a `model.evaluated` of V or of another version of the same `model`, `signed_ts` in \
[t − `audit_max_age`, t], `signed_by` neither in developers(V) nor V's `owner`, whose \
`subgroups` hold, for each group of `required_groups` and for `unknown`, an entry with a metric \
in `rate_metrics` and one with metric `impact_ratio`, each with `n`. (a) subject \
`deployment:D`, discriminator `a|UTC day`, aggregated: decisions of S without a qualifying \
audit; (b) subject `system:S`: no `eval_report` document describing `system:S` with `uri`, \
`effective_from` (else its registration time) ≤ S's first decision and `effective_to` missing \
or ≥ its last decision + `summary_after_last_use`.",
    why: "New York City's Local Law 144 forbids using an automated employment decision tool \
unless it has had an independent bias audit within the year before its use, with selection or \
scoring rates and impact ratios per category (including individuals of unknown category), \
and a summary of the results is publicly available before use and for a period after the \
tool was last used.",
    example: "Fires: decisions in 2026-04 with the latest audit signed 2025-03-01. Passes: a \
new audit signed 2026-03-20.",
    fix: "Have an independent auditor (not a developer or the owner of the version) evaluate \
the model at least every `audit_max_age`, and record it as a `model.evaluated` with \
`signed_by`, `signed_ts` and `subgroups` giving, for every required category and `unknown`, \
the selection or scoring rate and the impact ratio with their `n`. Publish the summary and \
register it as an `eval_report` document with its `uri`, describing the system, effective from \
before first use and until at least `summary_after_last_use` after last use.",
    not_checked: "Auditor independence beyond the name comparison.",
    params: &[
        param("audit_max_age", ParamKind::Duration, "\"1 year\""),
        param(
            "rate_metrics",
            ParamKind::Strs,
            "[\"selection_rate\", \"scoring_rate\"]",
        ),
        param("required_groups", ParamKind::Strs, "[]"),
        param(
            "summary_after_last_use",
            ParamKind::Duration,
            "\"6 months\"",
        ),
    ],
};

const DAY: i64 = 86_400;

/// The `attrs` of a `decision.batch` DEP-07 reads.
#[derive(serde::Deserialize)]
struct BatchView<'a> {
    #[serde(borrow, default)]
    window_end: Option<&'a RawValue>,
}

/// The decisions of one deployment, served version and system, with their times (a batch's
/// `window_end`).
struct Group<'a> {
    d: &'a str,
    v: &'a str,
    s: &'a str,
    times: Vec<(Timestamp, u32)>,
}

/// The decisions of one AEDT system, as (b) needs them.
struct SystemUse {
    first: (Timestamp, u32),
    last: (Timestamp, u32),
}

/// A `model.evaluated`, judged as far as it does not depend on the served version.
struct Audit {
    event: u32,
    /// The `model` of the evaluated version.
    model: String,
    signed_ts: Option<Timestamp>,
    signed_by: Option<String>,
    /// What its `subgroups` lack; empty when complete.
    lacks: Vec<String>,
}

/// The audits as one served version sees them.
struct VersionAudits {
    model: String,
    /// `signed_ts` of the qualifying audits, sorted, with their events.
    quals: Vec<(Timestamp, u32)>,
    /// Audits of the model that never qualify for this version, with why.
    rejected: Vec<(u32, String)>,
}

impl Rule for Dep07 {
    fn meta(&self) -> &'static RuleMeta {
        &DEP07
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        let aedt: BTreeSet<&str> = facts
            .systems()
            .map(|s| s.id.as_str())
            .filter(|s| facts.nyc_aedt(Some(s)))
            .collect();
        if aedt.is_empty() {
            return Outcome::not_evaluable(
                "no system with nyc_aedt(S): none is in `[policy] aedt_systems`, and no employment system (`annex_iii_point` 4…) lists a jurisdiction of `[policy] nyc_jurisdictions`",
            );
        }

        // One pass: decisions of AEDT systems by (deployment, version, system), and every
        // evaluation. Decisions come in long runs of one deployment and version, so the last
        // group and the last system verdict are tried first.
        let mut groups: Vec<Group<'_>> = Vec::new();
        let mut last_group: Option<usize> = None;
        let mut last_system: Option<(&str, bool)> = None;
        let mut evaluations: Vec<u32> = Vec::new();
        for (i, e) in model.current() {
            let batch = match e.kind.as_str() {
                "decision.made" => false,
                "decision.batch" => true,
                "model.evaluated" => {
                    evaluations.push(i);
                    continue;
                }
                _ => continue,
            };
            let (mut d, mut v) = (None, None);
            for r in &e.refs {
                match r.field {
                    "attrs.deployment" => d = Some(r.target.id()),
                    "attrs.model_version" => v = Some(r.target.id()),
                    _ => {}
                }
            }
            let mut t = e.ts;
            if batch {
                d = e
                    .subject
                    .as_ref()
                    .filter(|s| s.kind == EntityType::Deployment)
                    .map(|s| s.id.as_str());
                if let Some(end) = e
                    .attrs_as::<BatchView>()
                    .and_then(|b| text(b.window_end).map(|s| s.into_owned()))
                    .and_then(|s| time::parse_rfc3339(&s).ok())
                {
                    t = end;
                }
            }
            let Some(d) = d else { continue };
            let Some(s) = e
                .system
                .as_deref()
                .or_else(|| facts.deployment(d).and_then(|x| x.system.as_deref()))
            else {
                continue;
            };
            let in_scope = match last_system {
                Some((ls, verdict)) if ls == s => verdict,
                _ => {
                    let verdict = aedt.contains(s);
                    last_system = Some((s, verdict));
                    verdict
                }
            };
            if !in_scope {
                continue;
            }
            let Some(v) = v.or_else(|| facts.serves(d, t)) else {
                continue;
            };
            let same = |g: &Group<'_>| g.d == d && g.v == v && g.s == s;
            let k = match last_group.filter(|&k| same(&groups[k])) {
                Some(k) => k,
                None => match groups.iter().position(same) {
                    Some(k) => k,
                    None => {
                        groups.push(Group {
                            d,
                            v,
                            s,
                            times: Vec::new(),
                        });
                        groups.len() - 1
                    }
                },
            };
            last_group = Some(k);
            groups[k].times.push((t, i));
        }
        let mut uses: BTreeMap<&str, SystemUse> = BTreeMap::new();
        for g in &mut groups {
            g.times.sort_unstable();
            let (first, last) = (g.times[0], g.times[g.times.len() - 1]);
            uses.entry(g.s)
                .and_modify(|u| {
                    u.first = u.first.min(first);
                    u.last = u.last.max(last);
                })
                .or_insert(SystemUse { first, last });
        }
        if uses.is_empty() {
            return Outcome::not_applicable(format!(
                "no decision of an AEDT system ({})",
                ticks(&aedt.iter().collect::<Vec<_>>())
            ));
        }

        let audits = judge_audits(cx, &evaluations);
        let mut out = Vec::new();
        missing_audits(cx, facts, groups, &audits, &mut out);
        missing_summaries(cx, &uses, &mut out);
        Outcome::evaluated(out)
    }
}

/// The `model` of a version: its registration's `model`, else the part of its id before `@`.
fn model_of(model: &Model, v: &str) -> String {
    let node = NodeId::new(EntityType::ModelVersion, v);
    model
        .state(&node)
        .and_then(|r| {
            r.attrs()
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| v.rsplit_once('@').map_or(v, |(m, _)| m).to_string())
}

/// Reads each evaluation once: its model, signature and what its subgroups lack.
fn judge_audits(cx: &Cx<'_>, evaluations: &[u32]) -> Vec<Audit> {
    let model = cx.model;
    let rate_metrics = cx.strs("rate_metrics");
    let mut groups = cx.strs("required_groups");
    if !groups.iter().any(|g| g == "unknown") {
        groups.push("unknown".into());
    }
    evaluations
        .iter()
        .filter_map(|&i| {
            let e = model.event(i);
            let v = e
                .subject
                .as_ref()
                .filter(|s| s.kind == EntityType::ModelVersion)?;
            let a = e.attrs();
            let s = |k: &str| a.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
            let entries: &[Value] = match a.get("subgroups") {
                Some(Value::Array(xs)) => xs,
                _ => &[],
            };
            let has = |g: &str, metric_ok: &dyn Fn(&str) -> bool| {
                entries.iter().any(|x| {
                    x.get("group").and_then(Value::as_str) == Some(g)
                        && x.get("metric")
                            .and_then(Value::as_str)
                            .is_some_and(metric_ok)
                        && present(x.get("n"))
                })
            };
            let mut lacks = Vec::new();
            for g in &groups {
                if !has(g, &|m| rate_metrics.iter().any(|r| r == m)) {
                    let rates: Vec<String> =
                        rate_metrics.iter().map(|r| format!("`{r}`")).collect();
                    lacks.push(format!("`{g}`: no {} entry with `n`", rates.join(" or ")));
                }
                if !has(g, &|m| m == "impact_ratio") {
                    lacks.push(format!("`{g}`: no `impact_ratio` entry with `n`"));
                }
            }
            Some(Audit {
                event: i,
                model: model_of(model, &v.id),
                signed_ts: s("signed_ts").and_then(|t| time::parse_rfc3339(t).ok()),
                signed_by: s("signed_by").map(str::to_string),
                lacks,
            })
        })
        .collect()
}

/// The audits of V's model that qualify for V (apart from their time), and why the others do
/// not.
fn version_audits(model: &Model, facts: &Facts<'_>, audits: &[Audit], v: &str) -> VersionAudits {
    let m = model_of(model, v);
    let node = NodeId::new(EntityType::ModelVersion, v);
    let owner: Vec<String> = model
        .state(&node)
        .map(|r| {
            as_str_list(r.attrs().get("owner"))
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let developers = facts.developers(v);
    let mut quals = Vec::new();
    let mut rejected = Vec::new();
    for a in audits.iter().filter(|a| a.model == m) {
        let mut why = Vec::new();
        match a.signed_by.as_deref() {
            None => why.push("no `signed_by`".to_string()),
            Some(by) if developers.iter().any(|d| d == by) => {
                why.push(format!("signed by `{by}`, a developer of `{v}`"))
            }
            Some(by) if owner.iter().any(|o| o == by) => {
                why.push(format!("signed by `{by}`, the owner of `{v}`"))
            }
            Some(_) => {}
        }
        if a.signed_ts.is_none() {
            why.push("no readable `signed_ts`".into());
        }
        if !a.lacks.is_empty() {
            why.push(format!("subgroups lack {}", a.lacks.join("; ")));
        }
        match (why.is_empty(), a.signed_ts) {
            (true, Some(ts)) => quals.push((ts, a.event)),
            _ => rejected.push((a.event, why.join("; "))),
        }
    }
    quals.sort_unstable();
    VersionAudits {
        model: m,
        quals,
        rejected,
    }
}

/// Whether some qualifying `signed_ts` lies in `[t − max_age, t]`: the latest one at or before
/// t is the only candidate.
fn covered(quals: &[(Timestamp, u32)], max_age: Duration, t: Timestamp) -> bool {
    let k = quals.partition_point(|q| q.0 <= t);
    k > 0 && quals[k - 1].0 >= max_age.before(t)
}

/// The decisions of one deployment on one UTC day that lack a qualifying audit.
#[derive(Default)]
struct DayGap<'a> {
    /// Decision time (§ DEP-07: a batch's `window_end`) and event.
    decisions: Vec<(Timestamp, u32)>,
    versions: BTreeSet<&'a str>,
    /// S of the decisions (the first group's, when they disagree).
    system: Option<&'a str>,
}

/// DEP-07 (a).
fn missing_audits<'a>(
    cx: &Cx<'_>,
    facts: &Facts<'_>,
    groups: Vec<Group<'a>>,
    audits: &[Audit],
    out: &mut Vec<Draft>,
) {
    let model = cx.model;
    let max_age = cx.duration("audit_max_age");
    let mut per_version: BTreeMap<&str, VersionAudits> = BTreeMap::new();
    let mut gaps: BTreeMap<(&str, i64), DayGap<'_>> = BTreeMap::new();
    for Group { d, v, s, times } in groups {
        let va = per_version
            .entry(v)
            .or_insert_with(|| version_audits(model, facts, audits, v));
        let quals = va.quals.as_slice();
        for day in times
            .chunk_by(|a, b| a.0.as_second().div_euclid(DAY) == b.0.as_second().div_euclid(DAY))
        {
            let (t_min, t_max) = (day[0].0, day[day.len() - 1].0);
            let k = quals.partition_point(|q| q.0 <= t_min);
            if k > 0 && quals[k - 1].0 >= max_age.before(t_max) {
                continue; // one audit covers the whole day's decisions
            }
            let from = max_age.before(t_min);
            let j = quals.partition_point(|q| q.0 < from);
            let none_near = quals.get(j).is_none_or(|q| q.0 > t_max);
            let failing: Vec<(Timestamp, u32)> = if none_near {
                day.to_vec()
            } else {
                day.iter()
                    .filter(|x| !covered(quals, max_age, x.0))
                    .copied()
                    .collect()
            };
            if failing.is_empty() {
                continue;
            }
            let gap = gaps
                .entry((d, t_min.as_second().div_euclid(DAY)))
                .or_default();
            gap.decisions.extend(failing);
            gap.versions.insert(v);
            gap.system.get_or_insert(s);
        }
    }

    for ((d, day), mut gap) in gaps {
        gap.decisions.sort_unstable();
        let day = time::utc_day(Timestamp::from_second(day * DAY).unwrap_or(cx.as_of()));
        // The audits as they stood at the last decision that lacked one.
        let bound = gap
            .decisions
            .iter()
            .map(|x| x.0)
            .max()
            .unwrap_or(cx.as_of());
        let mut at = Timestamp::MIN;
        let mut evidence: Vec<Evidence> = Vec::with_capacity(gap.decisions.len() + 4);
        for &(_, i) in &gap.decisions {
            at = at.max(model.event(i).ts);
            evidence.push(cx.evi(i, None));
        }
        let mut why = Vec::new();
        for v in &gap.versions {
            let va = &per_version[v];
            let prior = va.quals.iter().rev().find(|q| q.0 <= bound);
            let mut text = match prior {
                Some(&(s, i)) => {
                    at = at.max(model.event(i).ts);
                    evidence.push(cx.evi(i, Some("latest qualifying audit".into())));
                    format!(
                        "for `{v}`, the latest independent audit of model `{}` with the required subgroups is `{}`, signed {}",
                        va.model,
                        model.event(i).id,
                        time::fmt(s)
                    )
                }
                None => format!(
                    "for `{v}`, no independent audit of model `{}` with the required subgroups",
                    va.model
                ),
            };
            let rejected: Vec<&(u32, String)> = va
                .rejected
                .iter()
                .filter(|(i, _)| model.event(*i).ts <= bound)
                .rev()
                .take(3)
                .collect();
            if !rejected.is_empty() {
                text.push_str(" (not qualifying: ");
                text.push_str(
                    &rejected
                        .iter()
                        .map(|(i, why)| format!("`{}` {why}", model.event(*i).id))
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                text.push(')');
                for (i, _) in &rejected {
                    at = at.max(model.event(*i).ts);
                    evidence.push(cx.evi(*i, Some("audit that does not qualify".into())));
                }
            }
            why.push(text);
        }
        let n = gap.decisions.len();
        let system = gap.system;
        out.push(
            Draft::new(
                format!("deployment:{d}"),
                format!("a|{day}"),
                "a",
                Level::Deny,
                format!(
                    "{n} decision{} of AEDT deployment `{d}` on {day} without a qualifying bias audit signed within {} before: {}",
                    if n == 1 { "" } else { "s" },
                    max_age,
                    why.join("; ")
                ),
            )
            .evidence(evidence)
            .count(n as u64)
            .at(at)
            .system(system),
        );
    }
}

/// DEP-07 (b): the published summary of each AEDT system that made decisions.
fn missing_summaries(cx: &Cx<'_>, uses: &BTreeMap<&str, SystemUse>, out: &mut Vec<Draft>) {
    let model = cx.model;
    let after = cx.duration("summary_after_last_use");
    // Every registration of an `eval_report`, with what (b) reads.
    struct Report {
        event: u32,
        describes: Vec<NodeId>,
        uri: bool,
        from: Timestamp,
        to: Option<Timestamp>,
    }
    let mut reports = Vec::new();
    for (_, ent) in entities_of(model, EntityType::Document) {
        for &i in &ent.registered {
            let e = model.event(i);
            let a = e.attrs();
            if a.get("doc_type").and_then(Value::as_str) != Some("eval_report") {
                continue;
            }
            let at = |k: &str| {
                a.get(k)
                    .and_then(Value::as_str)
                    .and_then(|s| time::parse_date_or_time(s).ok())
            };
            reports.push(Report {
                event: i,
                describes: e
                    .refs
                    .iter()
                    .filter(|r| r.field == "attrs.describes")
                    .map(|r| r.target.clone())
                    .collect(),
                uri: present(a.get("uri")),
                from: at("effective_from").unwrap_or(e.ts),
                to: at("effective_to"),
            });
        }
    }
    for (s, u) in uses {
        let node = NodeId::new(EntityType::System, s);
        let (first, last) = (u.first.0, u.last.0);
        let until = after.after(last);
        let mine: Vec<&Report> = reports
            .iter()
            .filter(|r| r.describes.contains(&node))
            .collect();
        let mut problems = Vec::new();
        for r in &mine {
            let mut p = Vec::new();
            if !r.uri {
                p.push("no `uri`".to_string());
            }
            if r.from > first {
                p.push(format!("effective only from {}", time::fmt(r.from)));
            }
            if let Some(to) = r.to.filter(|to| *to < until) {
                p.push(format!("effective only to {}", time::fmt(to)));
            }
            if p.is_empty() {
                problems.clear();
                break;
            }
            problems.push((r.event, p.join(", ")));
        }
        if !mine.is_empty() && problems.is_empty() {
            continue;
        }
        let mut evidence = vec![
            cx.evi(u.first.1, Some("first decision".into())),
            cx.evi(u.last.1, Some("last decision".into())),
        ];
        evidence.extend(problems.iter().map(|(i, p)| cx.evi(*i, Some(p.clone()))));
        let found = if problems.is_empty() {
            "none is registered".to_string()
        } else {
            problems
                .iter()
                .map(|(i, p)| format!("`{}` has {p}", model.event(*i).id))
                .collect::<Vec<_>>()
                .join("; ")
        };
        out.push(
            Draft::new(
                node.as_str(),
                "b",
                "b",
                Level::Deny,
                format!(
                    "AEDT system `{s}` made decisions from {} to {}, but no `eval_report` document describing `{node}` has a `uri` and is effective from before its first decision until at least {until} ({} after its last): {found}",
                    time::fmt(first),
                    time::fmt(last),
                    after,
                ),
            )
            .evidence(evidence)
            .system(Some(s)),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::*;
    use crate::checks::Status;
    use crate::testing::{check_events, ev, with};

    fn aedt_system() -> Value {
        system(
            "s1",
            "2025-01-01T00:00:00Z",
            json!({"annex_iii_point": "4(a)", "jurisdictions": ["US-NY-NYC"], "role": "deployer"}),
        )
    }

    fn audit(id: &str, version: &str, signed_ts: &str, extra: Value) -> Value {
        let attrs = merge(
            json!({
                "metrics": [{"name": "auc", "value": 0.8}],
                "subgroups": [
                    {"group": "unknown", "metric": "selection_rate", "value": 0.3, "n": 40},
                    {"group": "unknown", "metric": "impact_ratio", "value": 0.9, "n": 40},
                    {"group": "female", "metric": "scoring_rate", "value": 0.3, "n": 400},
                    {"group": "female", "metric": "impact_ratio", "value": 0.95, "n": 400},
                ],
                "signed_by": "auditor-x", "signed_ts": signed_ts,
            }),
            extra,
        );
        ev(
            id,
            signed_ts,
            "model.evaluated",
            &format!("model_version:m@{version}"),
            attrs,
        )
    }

    fn decision(id: &str, ts: &str) -> Value {
        with(
            ev(
                id,
                ts,
                "decision.made",
                &format!("decision:{id}"),
                json!({"deployment": "dep-7", "model_version": "m@1"}),
            ),
            "system",
            json!("credit"),
        )
    }

    fn summary(extra: Value) -> Value {
        doc(
            "sum1",
            "2025-06-01T00:00:00Z",
            "bias-summary",
            "eval_report",
            &["system:credit"],
            merge(
                json!({"uri": "https://example.com/bias", "effective_from": "2025-06-01"}),
                extra,
            ),
        )
    }

    /// System, registration, summary, deployment, then the audits, then decisions on
    /// 2026-04-10 (two) and 2026-04-11 (one). Lines: audits from 5, decisions after them.
    fn case(audits: Vec<Value>, extra: &str) -> crate::testing::Case {
        let mut events = vec![
            aedt_system(),
            reg("r1", "2025-01-02T00:00:00Z", "1", json!({})),
            summary(json!({})),
            dep(
                "d1",
                "2025-07-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
                json!({}),
            ),
        ];
        events.extend(audits);
        events.push(decision("x1", "2026-04-10T09:00:00Z"));
        events.push(decision("x2", "2026-04-10T15:00:00Z"));
        events.push(decision("x3", "2026-04-11T09:00:00Z"));
        check_events(&events, &format!("{NYC}{extra}"))
    }

    #[test]
    fn a_fires_on_an_old_audit_and_passes_with_a_recent_one() {
        // The catalogue's example.
        let c = case(
            vec![audit("au1", "1", "2025-03-01T00:00:00Z", json!({}))],
            "",
        );
        assert_eq!(
            c.keys("DEP-07"),
            [
                k("deployment:dep-7", "a|2026-04-10", "deny"),
                k("deployment:dep-7", "a|2026-04-11", "deny"),
            ]
        );
        let by_day: Vec<_> = c.of("DEP-07").iter().map(|f| f.count).collect();
        assert_eq!(by_day, [Some(2), Some(1)]);
        let ev = evidence(&c, "DEP-07");
        assert_eq!(
            ev,
            [
                vec![at("au1", 5), at("x1", 6), at("x2", 7)],
                vec![at("au1", 5), at("x3", 8)],
            ]
        );
        let msg = &c.of("DEP-07")[0].message;
        assert!(msg.contains("2025-03-01T00:00:00Z"), "{msg}");

        let c = case(
            vec![audit("au2", "1", "2026-03-20T00:00:00Z", json!({}))],
            "",
        );
        assert!(c.keys("DEP-07").is_empty(), "{:?}", c.keys("DEP-07"));
        assert_eq!(c.status("DEP-07"), Some(&Status::Evaluated));
        // Another version of the same model counts.
        let c = case(
            vec![audit("au2", "0", "2026-03-20T00:00:00Z", json!({}))],
            "",
        );
        assert!(c.keys("DEP-07").is_empty(), "{:?}", c.keys("DEP-07"));
    }

    #[test]
    fn a_rejects_audits_by_developers_owners_or_without_subgroups() {
        let fires = [
            k("deployment:dep-7", "a|2026-04-10", "deny"),
            k("deployment:dep-7", "a|2026-04-11", "deny"),
        ];
        let recent = |extra: Value| vec![audit("au", "1", "2026-03-20T00:00:00Z", extra)];
        for (extra, why) in [
            (json!({"signed_by": "ari"}), "a developer"),
            (json!({"signed_by": "risk-team"}), "the owner"),
            (json!({"signed_by": null}), "no `signed_by`"),
            (
                json!({"subgroups": [{"group": "unknown", "metric": "selection_rate", "value": 0.3, "n": 40}]}),
                "`unknown`: no `impact_ratio`",
            ),
            (
                json!({"subgroups": [
                    {"group": "unknown", "metric": "selection_rate", "value": 0.3},
                    {"group": "unknown", "metric": "impact_ratio", "value": 0.9, "n": 40},
                ]}),
                "`unknown`: no `selection_rate`",
            ),
        ] {
            let c = case(recent(extra), "");
            assert_eq!(c.keys("DEP-07"), fires, "{why}");
            let msg = &c.of("DEP-07")[0].message;
            assert!(msg.contains(why), "{why}: {msg}");
        }
        // required_groups.
        let params = |groups: &str| format!("[policy.params.DEP-07]\nrequired_groups = {groups}\n");
        let c = case(recent(json!({})), &params("[\"female\"]"));
        assert!(c.keys("DEP-07").is_empty(), "{:?}", c.keys("DEP-07"));
        let c = case(recent(json!({})), &params("[\"female\", \"hispanic\"]"));
        assert_eq!(c.keys("DEP-07"), fires);
    }

    #[test]
    fn a_is_exact_at_day_boundaries() {
        // Signed 2025-04-10T12:00: covers the 09:00 decision of 2026-04-10 (within one year),
        // not the 15:00 one, nor 2026-04-11.
        let c = case(
            vec![audit("au1", "1", "2025-04-10T12:00:00Z", json!({}))],
            "",
        );
        assert_eq!(
            c.keys("DEP-07"),
            [
                k("deployment:dep-7", "a|2026-04-10", "deny"),
                k("deployment:dep-7", "a|2026-04-11", "deny"),
            ]
        );
        assert_eq!(
            evidence(&c, "DEP-07")[0],
            [at("au1", 5), at("x2", 7)],
            "only the 15:00 decision"
        );
        assert_eq!(c.of("DEP-07")[0].count, Some(1));
        // An audit that starts qualifying in the middle of the day: 09:00 lacks one, 15:00
        // and the next day are covered.
        let c = case(
            vec![
                audit("au1", "1", "2025-03-01T00:00:00Z", json!({})),
                audit("au2", "1", "2026-04-10T12:00:00Z", json!({})),
            ],
            "",
        );
        assert_eq!(
            c.keys("DEP-07"),
            [k("deployment:dep-7", "a|2026-04-10", "deny")]
        );
        assert_eq!(
            evidence(&c, "DEP-07")[0],
            [at("au1", 5), at("x1", 7)],
            "only the 09:00 decision"
        );
    }

    #[test]
    fn b_fires_without_a_published_summary() {
        let recent = || vec![audit("au2", "1", "2026-03-20T00:00:00Z", json!({}))];
        let run = |summary_doc: Option<Value>| {
            let mut events = vec![
                aedt_system(),
                reg("r1", "2025-01-02T00:00:00Z", "1", json!({})),
                dep(
                    "d1",
                    "2025-07-01T00:00:00Z",
                    "started",
                    "dep-7",
                    Some("m@1"),
                    json!({}),
                ),
            ];
            events.extend(summary_doc);
            events.extend(recent());
            events.push(decision("x1", "2026-04-10T09:00:00Z"));
            events.push(decision("x2", "2026-04-11T09:00:00Z"));
            check_events(&events, NYC)
        };
        let c = run(None);
        assert_eq!(c.keys("DEP-07"), [k("system:credit", "b", "deny")]);
        assert_eq!(evidence(&c, "DEP-07"), [vec![at("x1", 5), at("x2", 6)]]);
        assert!(run(Some(summary(json!({})))).keys("DEP-07").is_empty());
        // Ends too soon after the last use (2026-04-11 + 6 months).
        let c = run(Some(summary(json!({"effective_to": "2026-06-01"}))));
        assert_eq!(c.keys("DEP-07"), [k("system:credit", "b", "deny")]);
        assert_eq!(
            evidence(&c, "DEP-07"),
            [vec![at("sum1", 4), at("x1", 6), at("x2", 7)]]
        );
        assert!(
            run(Some(summary(
                json!({"effective_to": "2026-10-11T09:00:00Z"})
            )))
            .keys("DEP-07")
            .is_empty()
        );
        // Published after first use, or without a uri.
        for extra in [
            json!({"effective_from": "2026-04-10T10:00:00Z"}),
            json!({"uri": null}),
        ] {
            let c = run(Some(summary(extra.clone())));
            assert_eq!(
                c.keys("DEP-07"),
                [k("system:credit", "b", "deny")],
                "{extra}"
            );
        }
    }

    #[test]
    fn scope_follows_nyc_aedt() {
        // Not an AEDT system: not evaluable.
        let mut events = vec![
            system(
                "s1",
                "2025-01-01T00:00:00Z",
                json!({"annex_iii_point": "4(a)"}),
            ),
            reg("r1", "2025-01-02T00:00:00Z", "1", json!({})),
            decision("x1", "2026-04-10T09:00:00Z"),
        ];
        let c = check_events(&events, NYC);
        assert!(matches!(c.status("DEP-07"), Some(Status::NotEvaluable(_))));
        // Named in aedt_systems: in scope.
        let extra = format!("{NYC}aedt_systems = [\"credit\"]\n");
        let c = check_events(&events, &extra);
        assert_eq!(
            c.keys("DEP-07"),
            [
                k("deployment:dep-7", "a|2026-04-10", "deny"),
                k("system:credit", "b", "deny"),
            ]
        );
        // The decision's own system, though `dep-7` has no deployment events.
        assert!(
            c.of("DEP-07")
                .iter()
                .all(|f| f.system.as_deref() == Some("credit"))
        );
        // In scope, but no decisions: not applicable.
        events.pop();
        let c = check_events(&events, &extra);
        assert!(matches!(c.status("DEP-07"), Some(Status::NotApplicable(_))));
    }

    #[test]
    fn batches_count_at_their_window_end() {
        let batch = with(
            ev(
                "b1",
                "2026-04-12T00:05:00Z",
                "decision.batch",
                "deployment:dep-7",
                json!({"model_version": "m@1", "window_start": "2026-04-11T00:00:00Z",
                       "window_end": "2026-04-11T23:59:59Z", "count": 120}),
            ),
            "system",
            json!("credit"),
        );
        let c = case(
            vec![audit("au1", "1", "2025-03-01T00:00:00Z", json!({})), batch],
            "",
        );
        assert_eq!(
            c.keys("DEP-07"),
            [
                k("deployment:dep-7", "a|2026-04-10", "deny"),
                k("deployment:dep-7", "a|2026-04-11", "deny"),
            ]
        );
        assert_eq!(c.of("DEP-07")[1].count, Some(2));
    }
}
