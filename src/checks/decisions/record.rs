//! DEC-02 Decision record content and DEC-03 Solely automated decisions.
//!
//! Each rule walks the effective `decision.made` events once, in event order, reading the few
//! `attrs` it needs with one shallow [`attrs`](super::attrs) pass per decision and the
//! `rationale` only when a check depends on it. Output: one draft per (check, deployment, UTC
//! day[, legal_effect]) in that order; DEC-03 (c) then one draft per contested decision, in
//! decision id order.

use std::collections::BTreeMap;

use jiff::Timestamp;
use regex::Regex;

use super::{Shallow, attrs, day_number, decisions, deployment_of, disc, rationale, ticks};
use crate::checks::catalogue::{ParamKind, param};
use crate::checks::facts::ref_id;
use crate::checks::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use crate::event::{ActorType, EntityType, Event, NodeId};
use crate::model::Model;
use crate::time::{self, Duration};

/// One aggregated group: the decisions that fail a check on one day of one deployment.
#[derive(Default)]
struct Group {
    /// `(event index, note)`, in event order.
    items: Vec<(u32, String)>,
    latest: Option<Timestamp>,
    /// DEC-02 (a): how many decisions lack each field.
    fields: BTreeMap<&'static str, usize>,
}

impl Group {
    fn add(&mut self, i: u32, ts: Timestamp, note: String) {
        self.items.push((i, note));
        self.latest = Some(self.latest.map_or(ts, |l| l.max(ts)));
    }

    fn evidence(self, cx: &Cx<'_>) -> Vec<Evidence> {
        self.items
            .into_iter()
            .map(|(i, note)| cx.evi(i, Some(note)))
            .collect()
    }
}

/// The system of a deployment's findings: the deployment's, else the first decision's envelope.
fn group_system<'a>(cx: &'a Cx<'_>, d: &str, first: u32) -> Option<&'a str> {
    cx.facts
        .deployment(d)
        .and_then(|f| f.system.as_deref())
        .or_else(|| cx.model.event(first).system.as_deref())
}

// --- DEC-02 ---------------------------------------------------------------------------------

/// DEC-02 Decision record content.
pub struct Dec02;

static DEC02: RuleMeta = RuleMeta {
    id: "DEC-02",
    title: "Decision record content",
    levels: "`deny` for decisions with `legal_effect = true`, else `warn`",
    basis: "T/D",
    sources: &[
        "AI Act Art. 12(2), 86(1) [V]",
        "GDPR Art. 15(1)(h), 22(3) [V]",
        "CJEU C-203/22 [S]",
        "ICO \"Explaining decisions made with AI\" [V]",
        "NIST AI RMF MEASURE 2.8, 2.9 [V]",
    ],
    needs: "`decision.made`.",
    checks: "Subject `deployment:D` (the decision's `attrs.deployment`), discriminator = check \
letter, UTC day and whether `legal_effect` is `true` (`a|2026-04-03|true`), aggregated, so \
each finding has one level: `deny` for decisions with `legal_effect = true`, else `warn`. \
(a) `input_ref`, `output`, `mode` or `legal_effect` missing; (b) `input_ref` not matching \
`input_ref_pattern` (raw input suspected); (c) `mode` `automated` or `advisory` with neither \
`attrs.reason_codes` nor `rationale.reason_codes`; (d) `score` present and no threshold in \
`attrs.threshold`, `rationale.threshold`, or the `decision_threshold` of a \
`deployment.started`/`.changed` of D at or before the decision.",
    why: "Each decision must be reconstructable and explainable: what went in (by digest, \
never the raw input), what came out, whether a human was involved, whether it had legal \
effect, and the main reasons and threshold behind it. A data subject can ask for exactly \
that, and the provider's logs must let it be traced.",
    example: "Fires: `input_ref: \"{\\\"income\\\": 52000}\"` (raw input). Passes: \
`input_ref: \"sha256:<64 hex>\"`.",
    fix: "Have the serving code write a digest of the input (`sha256:…`), the output, the \
`mode`, `legal_effect`, the reason codes for automated and advisory decisions, and the \
threshold a score was compared with (on the decision, in its rationale, or once as the \
deployment's `decision_threshold`).",
    not_checked: "The input schema version (no field); whether the reason codes are \
meaningful to the person concerned.",
    params: &[param(
        "input_ref_pattern",
        ParamKind::Regex,
        "\"^sha256:[0-9a-f]{64}$\"",
    )],
};

/// The earliest `deployment.started`/`.changed` of a deployment carrying a present
/// `decision_threshold`, by deployment id, computed on first use.
struct Thresholds<'m> {
    model: &'m Model,
    known: BTreeMap<&'m str, Option<Timestamp>>,
}

impl<'m> Thresholds<'m> {
    /// Whether D has a `decision_threshold` in force at `t`.
    fn at(&mut self, cx: &'m Cx<'m>, d: &'m str, t: Timestamp) -> bool {
        let model = self.model;
        let since = *self.known.entry(d).or_insert_with(|| {
            let f = cx.facts.deployment(d)?;
            f.events
                .iter()
                .map(|&i| model.event(i))
                .filter(|e| matches!(e.kind.as_str(), "deployment.started" | "deployment.changed"))
                .find(|e| {
                    let [th] = attrs(e, &["decision_threshold"]);
                    th.present()
                })
                .map(|e| e.ts)
        });
        since.is_some_and(|s| s <= t)
    }
}

impl Rule for Dec02 {
    fn meta(&self) -> &'static RuleMeta {
        &DEC02
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let pattern = Regex::new(&cx.string("input_ref_pattern"))
            .unwrap_or_else(|_| Regex::new("^sha256:[0-9a-f]{64}$").expect("static regex"));
        let mut thresholds = Thresholds {
            model,
            known: BTreeMap::new(),
        };
        // (check, deployment, day, legal_effect) → group
        let mut groups: BTreeMap<(&str, &str, i64, bool), Group> = BTreeMap::new();
        let mut seen = false;
        for (i, e) in model.of_kind("decision.made") {
            seen = true;
            let Some(d) = deployment_of(e) else { continue };
            let [
                input_ref,
                output,
                mode,
                legal_effect,
                reason_codes,
                score,
                threshold,
            ] = attrs(
                e,
                &[
                    "input_ref",
                    "output",
                    "mode",
                    "legal_effect",
                    "reason_codes",
                    "score",
                    "threshold",
                ],
            );
            let legal = legal_effect.is_true();
            let day = day_number(e.ts);
            let key = |check: &'static str| (check, d, day, legal);

            let lacking: Vec<&'static str> = [
                ("input_ref", &input_ref),
                ("output", &output),
                ("mode", &mode),
                ("legal_effect", &legal_effect),
            ]
            .into_iter()
            .filter(|(_, v)| !v.present())
            .map(|(name, _)| name)
            .collect();
            if !lacking.is_empty() {
                let g = groups.entry(key("a")).or_default();
                for f in &lacking {
                    *g.fields.entry(f).or_default() += 1;
                }
                g.add(i, e.ts, format!("lacks {}", lacking.join(", ")));
            }

            if input_ref.present() && !input_ref.as_str().is_some_and(|s| pattern.is_match(s)) {
                let what = match &input_ref {
                    Shallow::Str(_) => "a string",
                    Shallow::Object(_) => "an object",
                    Shallow::Array(_) => "an array",
                    _ => "not a string",
                };
                groups.entry(key("b")).or_default().add(
                    i,
                    e.ts,
                    format!("`input_ref` ({what}) does not match `input_ref_pattern`"),
                );
            }

            let explained = matches!(mode.as_str(), Some("automated" | "advisory"));
            if explained && !reason_codes.present() {
                let [rc] = rationale(e, &["reason_codes"]);
                if !rc.present() {
                    groups.entry(key("c")).or_default().add(
                        i,
                        e.ts,
                        format!(
                            "`mode` {} without `reason_codes`",
                            mode.as_str().unwrap_or_default()
                        ),
                    );
                }
            }

            if score.present() && !threshold.present() {
                let [th] = rationale(e, &["threshold"]);
                if !th.present() && !thresholds.at(cx, d, e.ts) {
                    groups.entry(key("d")).or_default().add(
                        i,
                        e.ts,
                        "`score` without a threshold".into(),
                    );
                }
            }
        }
        if !seen {
            return Outcome::not_evaluable("no `decision.made` event");
        }

        let mut out = Vec::new();
        for ((check, d, _, legal), g) in groups {
            let latest = g.latest.expect("a group has an event");
            let day = time::utc_day(latest);
            let n = g.items.len();
            let which = if legal {
                "with `legal_effect = true`"
            } else {
                "without `legal_effect = true`"
            };
            let head = format!("{} of `deployment:{d}` on {day} {which}", decisions(n));
            let message = match check {
                "a" => {
                    let fields: Vec<String> = g
                        .fields
                        .iter()
                        .map(|(f, k)| format!("`{f}` ({k})"))
                        .collect();
                    format!(
                        "{head}: required record fields missing: {}",
                        fields.join(", ")
                    )
                }
                "b" => format!(
                    "{head}: `input_ref` does not match `input_ref_pattern` \
                     (`{}`): raw input suspected; log a digest of the input, never the input",
                    pattern.as_str()
                ),
                "c" => format!(
                    "{head}: automated or advisory, but no reason codes \
                     (`attrs.reason_codes` or `rationale.reason_codes`)"
                ),
                _ => format!(
                    "{head}: a `score` but no threshold (`attrs.threshold`, \
                     `rationale.threshold`, or `decision_threshold` on the deployment)"
                ),
            };
            let level = if legal { Level::Deny } else { Level::Warn };
            let system = group_system(cx, d, g.items[0].0).map(str::to_string);
            out.push(
                Draft::new(
                    format!("deployment:{d}"),
                    disc(check, &format!("{day}|{legal}")),
                    check,
                    level,
                    message,
                )
                .count(n as u64)
                .at(latest)
                .system(system.as_deref())
                .evidence(g.evidence(cx)),
            );
        }
        Outcome::evaluated(out)
    }
}

// --- DEC-03 ---------------------------------------------------------------------------------

/// DEC-03 Solely automated decisions.
pub struct Dec03;

static DEC03: RuleMeta = RuleMeta {
    id: "DEC-03",
    title: "Solely automated decisions",
    levels: "`deny`",
    basis: "T",
    sources: &["GDPR Art. 22(1)–(4) [V]", "NIST AI RMF MEASURE 3.3 [V]"],
    needs: "`decision.made`. Solely automated: `legal_effect = true`, `mode = \"automated\"`, \
and `rationale.human_involved` is not `true`.",
    checks: "For solely automated decisions: (a) subject `deployment:D`, discriminator \
`a|UTC day`, aggregated: `art22_basis` missing or not in `bases`; (b) the same (`b|UTC day`) \
for decisions whose `data_classes` contain `special_category` or `biometric` and whose \
`art22_basis` is not in `special_bases`; (c) subject `decision:X` (discriminator `c`): a \
`dsr.received` with `type = \"contest\"` and `attrs.decision` = X, for a solely automated X, \
without a `dsr.resolved` of the same `request_id` within the deadline of receipt (late, or \
the as-of time past the deadline), or resolved in time without an `oversight.action` on X by \
a `human` actor between receipt and resolution. The deadline is PRV-03's `deadline` \
parameter (`[policy.params.PRV-03] deadline`), `\"1 month\"` when it is not configured.",
    why: "A decision with legal or similarly significant effect may be taken by a machine \
alone only on a contract, a law or explicit consent (for special-category data only on \
explicit consent or a law), and the person must be able to contest it and obtain human \
intervention.",
    example: "Fires: an automated credit decline with `legal_effect: true` and no \
`art22_basis`. Passes: `art22_basis: \"contract\"`.",
    fix: "Record the Art. 22(2) basis of every solely automated decision in `art22_basis`; \
for special-category or biometric data use explicit consent or a law. Answer each contest \
within the deadline, with a human reviewer's `oversight.action` on the decision before the \
`dsr.resolved`.",
    not_checked: "Whether the basis recorded actually holds (the contract, the law, the \
consent); the suitable safeguards beyond human review.",
    params: &[
        param(
            "bases",
            ParamKind::Strs,
            "[\"contract\", \"law\", \"explicit_consent\"]",
        ),
        param(
            "special_bases",
            ParamKind::Strs,
            "[\"explicit_consent\", \"law\"]",
        ),
    ],
};

/// `data_classes` that call for a special basis (DEC-03 (b)).
const SPECIAL_CLASSES: &[&str] = &["special_category", "biometric"];

/// Whether a `decision.made` is solely automated, with its `art22_basis`.
fn solely_automated(e: &Event) -> Option<Shallow<'_>> {
    // Most decisions are advisory or human in many logs: skip them without parsing. Exact, since
    // a JSON string equal to "automated" holds those letters unless it uses `\u` escapes.
    let raw = e.attrs.get();
    if !raw.contains("automated") && !raw.contains("\\u") {
        return None;
    }
    let [legal, mode, basis] = attrs(e, &["legal_effect", "mode", "art22_basis"]);
    if !legal.is_true() || mode.as_str() != Some("automated") {
        return None;
    }
    let [human] = rationale(e, &["human_involved"]);
    (!human.is_true()).then_some(basis)
}

/// The deadline of a contest: PRV-03's `deadline` when configured, else one month; with its
/// text as configured, for messages.
fn contest_deadline(cx: &Cx<'_>) -> (Duration, String) {
    cx.config
        .policy
        .params
        .get("PRV-03")
        .and_then(|t| t.get("deadline"))
        .and_then(|v| v.as_str())
        .and_then(|s| Some((s.parse().ok()?, s.to_string())))
        .unwrap_or((Duration::Months(1), "1 month".to_string()))
}

impl Rule for Dec03 {
    fn meta(&self) -> &'static RuleMeta {
        &DEC03
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let bases = cx.strs("bases");
        let special = cx.strs("special_bases");
        let mut groups: BTreeMap<(&str, &str, i64), Group> = BTreeMap::new();
        let mut seen = false;
        let mut in_scope = false;
        for (i, e) in model.of_kind("decision.made") {
            seen = true;
            let Some(basis) = solely_automated(e) else {
                continue;
            };
            in_scope = true;
            let Some(d) = deployment_of(e) else { continue };
            let day = day_number(e.ts);
            let b = basis.as_str();
            if !b.is_some_and(|b| bases.iter().any(|x| x == b)) {
                let note = match b {
                    Some(b) if !b.is_empty() => format!("`art22_basis` `{b}` not in `bases`"),
                    _ => "no `art22_basis`".to_string(),
                };
                groups.entry(("a", d, day)).or_default().add(i, e.ts, note);
            }
            if e.data_classes
                .iter()
                .any(|c| SPECIAL_CLASSES.contains(&c.as_str()))
                && !b.is_some_and(|b| special.iter().any(|x| x == b))
            {
                let note = format!(
                    "{} data with `art22_basis` {}",
                    e.data_classes.join(", "),
                    basis.describe()
                );
                groups.entry(("b", d, day)).or_default().add(i, e.ts, note);
            }
        }
        if !seen {
            return Outcome::not_evaluable("no `decision.made` event");
        }

        let mut out = Vec::new();
        for ((check, d, _), g) in groups {
            let latest = g.latest.expect("a group has an event");
            let day = time::utc_day(latest);
            let n = g.items.len();
            let message = if check == "a" {
                format!(
                    "{} of `deployment:{d}` on {day}: solely automated with legal effect, but no \
                     `art22_basis` among `bases` ({})",
                    decisions(n),
                    ticks(&bases, 5)
                )
            } else {
                format!(
                    "{} of `deployment:{d}` on {day}: solely automated on special-category or \
                     biometric data, but `art22_basis` not among `special_bases` ({})",
                    decisions(n),
                    ticks(&special, 5)
                )
            };
            let system = group_system(cx, d, g.items[0].0).map(str::to_string);
            out.push(
                Draft::new(
                    format!("deployment:{d}"),
                    disc(check, &day),
                    check,
                    Level::Deny,
                    message,
                )
                .count(n as u64)
                .at(latest)
                .system(system.as_deref())
                .evidence(g.evidence(cx)),
            );
        }

        let (contests, contested) = contests(cx, contest_deadline(cx));
        out.extend(contests);
        if !in_scope && !contested {
            return Outcome::not_applicable(
                "no solely automated decision (`legal_effect = true`, `mode = \"automated\"`, \
                 no human involvement)",
            );
        }
        Outcome::evaluated(out)
    }
}

/// One problem with a contest of a decision.
struct ContestProblem {
    text: String,
    /// Evidence: `(event index, note)`.
    events: Vec<(u32, String)>,
    /// Overdue at T (the finding has no time of its own).
    overdue: bool,
}

/// DEC-03 (c): findings per contested solely automated decision, and whether any contest of
/// such a decision occurs.
fn contests(cx: &Cx<'_>, (deadline, deadline_text): (Duration, String)) -> (Vec<Draft>, bool) {
    let model = cx.model;
    let mut resolved: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (i, e) in model.of_kind("dsr.resolved") {
        let [rid] = attrs(e, &["request_id"]);
        if let Some(r) = rid.as_str() {
            resolved.entry(r.to_string()).or_default().push(i);
        }
    }
    let mut by_decision: BTreeMap<String, Vec<ContestProblem>> = BTreeMap::new();
    let mut any = false;
    for (i, rec) in model.of_kind("dsr.received") {
        let [ty, rid, dec] = attrs(rec, &["type", "request_id", "decision"]);
        if ty.as_str() != Some("contest") {
            continue;
        }
        let Some(x) = ref_id(rec, "attrs.decision")
            .or(dec.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
        else {
            continue;
        };
        let node = NodeId::new(EntityType::Decision, &x);
        let Some(decision) = model
            .state(&node)
            .filter(|d| d.kind == "decision.made" && solely_automated(d).is_some())
        else {
            continue;
        };
        any = true;
        let rid = rid.as_str().unwrap_or_default();
        let due = deadline.after(rec.ts);
        let resolution = resolved
            .get(rid)
            .into_iter()
            .flatten()
            .map(|&r| (r, model.event(r)))
            .find(|(_, r)| r.ts >= rec.ts);
        let decision_i = model.by_id(&decision.id);
        let mut events = vec![(i, format!("contest `{rid}` received"))];
        let problem = match resolution {
            Some((r, res)) if res.ts <= due => {
                let reviewed = model.about(&node, "oversight.action").any(|(_, o)| {
                    o.actor.kind == ActorType::Human && o.ts >= rec.ts && o.ts <= res.ts
                });
                if reviewed {
                    continue;
                }
                events.push((r, "resolved without a human review".into()));
                ContestProblem {
                    text: format!(
                        "contest `{rid}` was resolved at {} without an `oversight.action` on the \
                         decision by a human actor since its receipt ({})",
                        time::fmt(res.ts),
                        time::fmt(rec.ts)
                    ),
                    events,
                    overdue: false,
                }
            }
            Some((r, res)) => {
                events.push((r, format!("resolved after the deadline {}", time::fmt(due))));
                ContestProblem {
                    text: format!(
                        "contest `{rid}` received {} was resolved at {}, after the deadline of \
                         {deadline_text} ({})",
                        time::fmt(rec.ts),
                        time::fmt(res.ts),
                        time::fmt(due)
                    ),
                    events,
                    overdue: false,
                }
            }
            None if cx.as_of() > due => ContestProblem {
                text: format!(
                    "contest `{rid}` received {} has no `dsr.resolved`, and its deadline of \
                     {deadline_text} passed at {}",
                    time::fmt(rec.ts),
                    time::fmt(due)
                ),
                events,
                overdue: true,
            },
            None => continue,
        };
        let mut problem = problem;
        if let Some(di) = decision_i {
            problem.events.push((di, "the contested decision".into()));
        }
        by_decision.entry(x).or_default().push(problem);
    }

    let mut out = Vec::new();
    for (x, problems) in by_decision {
        let overdue = problems.iter().any(|p| p.overdue);
        let text = problems
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let mut latest: Option<Timestamp> = None;
        let mut evidence = Vec::new();
        for (i, note) in problems.into_iter().flat_map(|p| p.events) {
            let ts = model.event(i).ts;
            latest = Some(latest.map_or(ts, |l| l.max(ts)));
            evidence.push(cx.evi(i, Some(note)));
        }
        let node = NodeId::new(EntityType::Decision, &x);
        let system = cx.facts.system_of(&node).map(str::to_string);
        let message = format!(
            "solely automated decision `{x}` was contested: {}; Art. 22(3) calls for human \
             intervention",
            text
        );
        let mut draft = Draft::new(node.as_str(), "c", "c", Level::Deny, message)
            .evidence(evidence)
            .system(system.as_deref());
        if !overdue && let Some(t) = latest {
            draft = draft.at(t);
        }
        out.push(draft);
    }
    (out, any)
}

#[cfg(test)]
mod tests;
