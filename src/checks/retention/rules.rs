//! RET-01…RET-09: the rules' documentation and how each turns the retention evaluation of the
//! engine into findings. Findings have subject `retention_class:C` and the disposal's event id as
//! discriminator unless a check says otherwise (`RULES.md` §3.9).

use jiff::Timestamp;

use super::{Early, Engine};
use crate::checks::catalogue::{ParamKind, param};
use crate::checks::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use crate::event::{EntityType, NodeId};
use crate::time;

pub static RULES: &[&dyn Rule] = &[
    &Ret01, &Ret02, &Ret03, &Ret04, &Ret05, &Ret06, &Ret07, &Ret08, &Ret09,
];

const FLOOR_NOT_CHECKED: &str = "Disposals that were not recorded (LOG-03 compares versions of \
the log), and whether the storage keeps what the log says it keeps.";

const FLOOR_FIX: &str = "Keep the events until the floor has elapsed: restore them from a \
backup if you can, correct the retention schedule that disposed of them, and record what was \
lost. A disposal's `range_end` must lie a full floor before the disposal.";

/// A time for messages; `Timestamp::MAX` means the clock has not started.
fn when(t: Timestamp) -> String {
    if t == Timestamp::MAX {
        "an open date (the clock has not started)".to_string()
    } else {
        time::fmt(t)
    }
}

/// The finding of a too-early disposal (§5.5 step 5).
fn early_draft(
    cx: &Cx<'_>,
    eng: &Engine<'_>,
    x: &Early,
    discriminator: String,
    check: &'static str,
    level: Level,
) -> Draft {
    let d = &eng.disposals[x.disposal];
    let e = cx.model.event(d.event);
    let of_system = d
        .system
        .as_deref()
        .map_or(String::new(), |s| format!(" of system `{s}`"));
    let rule = if x.floor.is_empty() {
        format!(
            "class `{}` keeps its events for its own `min` of {} from {} (no legal floor is violated)",
            d.class,
            x.min,
            super::clock_name(x.clock)
        )
    } else {
        x.floor.clone()
    };
    let message = format!(
        "disposal `{}` ({}) removed `{}` events{of_system} up to {}; {rule}. The youngest of \
them starts its clock at {} ({}), so it had to be kept until {}",
        e.id,
        time::fmt(d.ts),
        d.class,
        time::fmt(d.to),
        when(x.start),
        x.why,
        when(x.until),
    );
    Draft::new(
        format!("retention_class:{}", d.class),
        discriminator,
        check,
        level,
        message,
    )
    .evidence([cx.ev(e, Some(format!("disposal before {}", when(x.until))))])
    .at(d.ts)
    .system(d.system.as_deref())
}

/// RET-01…RET-06: too-early disposals against the rule's floors.
fn run_floor(cx: &Cx<'_>, rule: &'static str, check: &'static str, level: Level) -> Outcome {
    floor_outcome(cx, &Engine::new(cx), rule, check, level)
}

fn floor_outcome(
    cx: &Cx<'_>,
    eng: &Engine<'_>,
    rule: &'static str,
    check: &'static str,
    level: Level,
) -> Outcome {
    let findings: Vec<Draft> = eng
        .too_early()
        .iter()
        .filter(|x| x.rule == rule)
        .map(|x| {
            let id = &cx.model.event(eng.disposals[x.disposal].event).id;
            let disc = if check.is_empty() {
                id.to_string()
            } else {
                format!("{check}|{id}")
            };
            early_draft(cx, eng, x, disc, check, level)
        })
        .collect();
    if findings.is_empty() && !eng.floor_in_scope(rule) {
        return Outcome::not_applicable(format!(
            "no event is in the scope of the {rule} floor, and no disposal could have removed one"
        ));
    }
    Outcome::evaluated(findings)
}

// --- RET-01 ---------------------------------------------------------------------------------

/// RET-01 AI Act logs at least 6 months.
pub struct Ret01;

pub(super) static RET01: RuleMeta = RuleMeta {
    id: "RET-01",
    title: "AI Act logs at least 6 months",
    levels: "`deny`",
    basis: "T",
    sources: &["AI Act Art. 19(1), 26(6) [V]"],
    needs: "Events in the floor's scope: `decision.*`, `oversight.action`, `monitoring.*`, \
`logging.state` and `access` events of high-risk systems (none: not applicable). Without any \
`retention.disposed`, nothing was removed by the log's own account and the rule passes.",
    checks: "Floor: `floor` from the event's `ts`, on `decision.*`, `oversight.action`, \
`monitoring.*`, `logging.state` and `access` events of high-risk systems (in the enabled packs' \
`systems`). Fires on a `retention.disposed` that removed events of its scope before the floor \
elapsed (§5.5 step 5: the youngest event it could have removed has `ts` = `range_end`), when this \
is the latest floor the disposal violates. Subject `retention_class:C`, discriminator the \
disposal's event id.",
    why: "Providers and deployers of high-risk AI systems must keep the logs the system \
generates for at least six months, so that its operation can be traced and incidents \
investigated. Disposing of them earlier destroys the evidence the Act requires.",
    example: "Fires: a disposal on 2026-09-01 of class `ai_auto_log` for a high-risk system with \
`range_end` 2026-05-01. Passes: `range_end` ≤ 2026-03-01.",
    fix: FLOOR_FIX,
    not_checked: FLOOR_NOT_CHECKED,
    params: &[param("floor", ParamKind::Duration, "\"6 months\"")],
};

impl Rule for Ret01 {
    fn meta(&self) -> &'static RuleMeta {
        &RET01
    }
    fn run(&self, cx: &Cx<'_>) -> Outcome {
        run_floor(cx, "RET-01", "", Level::Deny)
    }
}

// --- RET-02 ---------------------------------------------------------------------------------

/// RET-02 Technical documentation 10 years.
pub struct Ret02;

pub(super) static RET02: RuleMeta = RuleMeta {
    id: "RET-02",
    title: "Technical documentation 10 years",
    levels: "`deny`; (b) `warn`",
    basis: "T (clock D)",
    sources: &["AI Act Art. 18(1) [V]"],
    needs: "Events in the floor's scope, or a high-risk system of which the organisation is \
provider (none: not applicable).",
    checks: "Floor: 10 years, clock `placed_on_market`, on `document.registered` with `doc_type` \
in `doc_types` and on `system.registered`, `model.*`, `dataset.*`, `feature.registered`, \
`run.completed`, `deployment.*` events of provider ∧ high-risk systems. (a) A disposal removed \
such events before the floor elapsed (§5.5 step 5; discriminator `a|` + the disposal's id); \
(b) subject `system:S`: S is provider and high-risk, a production deployment exists and \
`placed_on_market` is missing (the clock falls back to the first production deployment).",
    why: "The provider must keep the technical documentation, the quality-management records \
and the declaration of conformity for ten years after the system was placed on the market. \
That period cannot start while a version is still in service.",
    example: "Fires: `tech_doc` events of a system placed on the market in 2026 disposed of in \
2030. Passes: no disposal before 2036 and before the last version leaves service.",
    fix: "Keep technical documentation for ten years after the system was placed on the \
market and after its last version left service. Record `placed_on_market` in the system's \
registration (a correcting `system.registered`).",
    not_checked: FLOOR_NOT_CHECKED,
    params: &[param(
        "doc_types",
        ParamKind::Strs,
        "[\"tech_doc\", \"eu_declaration\", \"instructions_for_use\", \"pmm_plan\", \"eval_report\", \"datasheet\", \"policy\"]",
    )],
};

impl Rule for Ret02 {
    fn meta(&self) -> &'static RuleMeta {
        &RET02
    }
    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let eng = Engine::new(cx);
        let floor_systems = eng.floors_of("RET-02").next().map(|f| f.systems.clone());
        let mut out = Vec::new();
        let mut providers = false;
        for (s, info) in &eng.systems {
            let in_pack = floor_systems
                .as_ref()
                .is_none_or(|set| set.as_ref().is_none_or(|set| set.contains(s)));
            if !(info.provider && info.high_risk && in_pack) {
                continue;
            }
            providers = true;
            let Some((first, first_event)) = info.first_prod else {
                continue;
            };
            if info.placed_on_market.is_some() {
                continue;
            }
            let mut evidence = Vec::new();
            if let Some(reg) = eng.facts.system(s).and_then(|x| x.registered) {
                evidence.push(cx.evi(reg, Some("no placed_on_market".into())));
            }
            evidence.push(cx.evi(first_event, Some("first production deployment".into())));
            out.push(
                Draft::new(
                    NodeId::new(EntityType::System, s).0.to_string(),
                    "b",
                    "b",
                    Level::Warn,
                    format!(
                        "system `{s}` is high-risk, its provider deploys it in production (since {}), \
but its registration has no `placed_on_market`; the ten-year clock falls back to that first \
production deployment",
                        time::fmt(first)
                    ),
                )
                .evidence(evidence)
                .system(Some(s)),
            );
        }
        let floor = floor_outcome(cx, &eng, "RET-02", "a", Level::Deny);
        if !providers && out.is_empty() {
            return floor;
        }
        out.extend(floor.findings);
        Outcome::evaluated(out)
    }
}

// --- RET-03 ---------------------------------------------------------------------------------

/// RET-03 PCI DSS audit logs 12 months.
pub struct Ret03;

static RET03: RuleMeta = RuleMeta {
    id: "RET-03",
    title: "PCI DSS audit logs 12 months",
    levels: "`deny`",
    basis: "T",
    sources: &["PCI DSS 10.5.1 [V]"],
    needs: "Events in the floor's scope: audit-log events of the systems in the `pci-dss` scope \
(none: not applicable).",
    checks: "Floor: 12 months from the event's `ts`, on `access`, `admin.change`, \
`logging.state`, `decision.*`, `oversight.action`, `monitoring.*` events of the systems in the \
`pci-dss` pack's `systems` (every system when unset). Fires on a disposal that removed such \
events before the floor elapsed (§5.5 step 5).",
    why: "PCI DSS requires audit-log history to be retained for at least twelve months, so that \
a compromise of cardholder data can be investigated after the fact.",
    example: "Fires: nine-month-old `access` events of `card-fraud` disposed of. Passes: the \
disposal's range ends at least 12 months before the disposal.",
    fix: FLOOR_FIX,
    not_checked: "\"The most recent three months immediately available\" (a storage \
property); disposals that were not recorded.",
    params: &[],
};

impl Rule for Ret03 {
    fn meta(&self) -> &'static RuleMeta {
        &RET03
    }
    fn run(&self, cx: &Cx<'_>) -> Outcome {
        run_floor(cx, "RET-03", "", Level::Deny)
    }
}

// --- RET-04 ---------------------------------------------------------------------------------

/// RET-04 HIPAA documentation 6 years.
pub struct Ret04;

pub(super) static RET04: RuleMeta = RuleMeta {
    id: "RET-04",
    title: "HIPAA documentation 6 years",
    levels: "`deny`",
    basis: "T",
    sources: &["HIPAA 45 CFR 164.316(b)(2)(i) [V]"],
    needs: "Events in the floor's scope in the `hipaa` scope (none: not applicable).",
    checks: "Floor: 6 years, clock `effective_to`, on `document.registered` with `doc_type` in \
`doc_types` and on events of class `hipaa_doc`, in the `hipaa` pack's `systems`. \
`audit_log_floor`, when set (not `\"0 d\"`), adds a floor of that length from the event's `ts` \
on the audit-log kinds of RET-03. Fires on a disposal that removed such events before the floor \
elapsed (§5.5 step 5: a removed document's `effective_to` cannot be known, so the clock starts \
at `range_end`).",
    why: "HIPAA requires the security rule's policies, procedures and required documentation to \
be kept for six years from their creation or the date they were last in effect, whichever is \
later.",
    example: "Fires: a policy in effect until 2025-12-31 disposed of in 2029. Passes: kept until \
2031-12-31.",
    fix: FLOOR_FIX,
    not_checked: "The HIPAA text sets no period for audit logs (six years is common practice); \
set `audit_log_floor` to check one.",
    params: &[
        param("doc_types", ParamKind::Strs, "[\"policy\"]"),
        param("audit_log_floor", ParamKind::Duration, "\"0 d\""),
    ],
};

impl Rule for Ret04 {
    fn meta(&self) -> &'static RuleMeta {
        &RET04
    }
    fn run(&self, cx: &Cx<'_>) -> Outcome {
        run_floor(cx, "RET-04", "", Level::Deny)
    }
}

// --- RET-05 ---------------------------------------------------------------------------------

/// RET-05 SEC 17a-4 records.
pub struct Ret05;

static RET05: RuleMeta = RuleMeta {
    id: "RET-05",
    title: "SEC 17a-4 records",
    levels: "`deny`",
    basis: "T",
    sources: &["SEC 17a-4(a), (b) [S], (f)(2)(i) [V]"],
    needs: "Events of class `sec_17a4_a` or `sec_17a4_b` (none: not applicable).",
    checks: "Floors: 6 years on class `sec_17a4_a`, 3 years on `sec_17a4_b`, from the event's \
`ts`. Fires on a disposal that removed such events before the floor elapsed (§5.5 step 5).",
    why: "Broker-dealers must preserve the records of Rule 17a-4(a) for six years and those of \
(b) for three.",
    example: "Fires: `sec_17a4_b` events disposed of after 2 years. Passes: after 3.",
    fix: FLOOR_FIX,
    not_checked: "WORM or audit-trail storage, the first two years \"easily accessible\", the \
third-party undertaking (storage properties; record them as documents). LOG-02, LOG-03 and \
LOG-07 give the audit-trail content.",
    params: &[],
};

impl Rule for Ret05 {
    fn meta(&self) -> &'static RuleMeta {
        &RET05
    }
    fn run(&self, cx: &Cx<'_>) -> Outcome {
        run_floor(cx, "RET-05", "", Level::Deny)
    }
}

// --- RET-06 ---------------------------------------------------------------------------------

/// RET-06 SOX / PCAOB 7 years.
pub struct Ret06;

static RET06: RuleMeta = RuleMeta {
    id: "RET-06",
    title: "SOX / PCAOB 7 years",
    levels: "`warn`",
    basis: "T (D for issuers' own copies)",
    sources: &["17 CFR 210.2-06 [V]", "PCAOB AS 1215.14 [V]"],
    needs: "Events of class `sox_evidence` (none: not applicable).",
    checks: "Floor: 7 years on class `sox_evidence`, from the event's `ts` (the report release \
date is not in the schema). Fires on a disposal that removed such events before the floor \
elapsed (§5.5 step 5).",
    why: "Records relevant to the audit or review of financial statements must be kept for \
seven years; evidence supplied to the auditors falls under it.",
    example: "Fires: evidence supplied to auditors disposed of after 5 years. Passes: after 7.",
    fix: FLOOR_FIX,
    not_checked: "The audit report's release date, from which the period formally runs.",
    params: &[],
};

impl Rule for Ret06 {
    fn meta(&self) -> &'static RuleMeta {
        &RET06
    }
    fn run(&self, cx: &Cx<'_>) -> Outcome {
        run_floor(cx, "RET-06", "", Level::Warn)
    }
}

// --- RET-07 ---------------------------------------------------------------------------------

/// RET-07 Storage limitation.
pub struct Ret07;

static RET07: RuleMeta = RuleMeta {
    id: "RET-07",
    title: "Storage limitation",
    levels: "`deny`; (b), (d) `warn`; (c) `info`",
    basis: "T",
    sources: &[
        "GDPR Art. 5(1)(e), 25(2), 30(1)(f) [V]",
        "ISO/IEC 42001 A.5.3 [S]",
    ],
    needs: "A class with `max`, or `retention.disposed`.",
    checks: "(a) Aggregated per class and system (subject `retention_class:C`, discriminator \
`a|` + the system, empty if none; count and the oldest `ts`): personal events past their class's \
`max` and their effective minimum (§5.5) and not under a hold active at the as-of time — \
disposal overdue; (b) subject `event:ID`, discriminator `b|ID` (the disposal's id, §3.9): a \
`retention.disposed` without `range_start`, `range_end`, `basis` or `removed_ids_digest`; (c) as \
(a) for events that are not personal; (d) subject `event:ID` of a disposal, discriminator `d|ID`: \
events of its class and system (any system when it has \
none), not under a hold active at the disposal, with `ts` inside its range (and not after the \
disposal), are still in the input — disposal incomplete.",
    why: "Personal data may be kept no longer than its purpose needs: once a class's maximum \
has passed and no legal minimum or hold requires the data, it must be deleted. A disposal that \
left covered records behind did not do what its record says.",
    example: "Fires: class `ai_auto_log` with `max = \"3 years\"`, personal decisions from \
2023-06 present at T = 2026-09-30. Passes: disposed of, or placed under a hold.",
    fix: "Dispose of overdue events and record a `retention.disposed` with its class, system, \
range, basis and the digest of the removed ids; or place them under a legal hold when they must \
be kept. Complete a disposal's record, or finish a disposal that left events behind.",
    not_checked: "Whether data outside the audit log (copies, backups) was deleted.",
    params: &[],
};

impl Rule for Ret07 {
    fn meta(&self) -> &'static RuleMeta {
        &RET07
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let eng = Engine::new(cx);
        if eng.classes.iter().all(|c| c.max.is_none()) && eng.disposals.is_empty() {
            return Outcome::not_evaluable("no class has a `max` and no `retention.disposed`");
        }
        let scan = eng.scan(cx.config.policy.evidence_limit);
        let mut out = Vec::new();
        for ((class, system, personal), agg) in &scan.due {
            let (check, level, what) = if *personal {
                ("a", Level::Deny, "personal events")
            } else {
                ("c", Level::Info, "events that are not personal")
            };
            let max = eng.classes.get(class).and_then(|c| c.max);
            let of_system = if system.is_empty() {
                " without a system".to_string()
            } else {
                format!(" of system `{system}`")
            };
            let message = format!(
                "{} {what} of class `{class}`{of_system} are past the class's max ({}) and their \
minimum, and under no active hold: their disposal is overdue (the oldest is from {}). Dispose of \
them and record a `retention.disposed`, or place them under a legal hold",
                agg.count,
                max.map(|d| d.to_string()).unwrap_or_default(),
                agg.oldest.map(time::fmt).unwrap_or_default(),
            );
            out.push(
                Draft::new(
                    format!("retention_class:{class}"),
                    format!("{check}|{system}"),
                    check,
                    level,
                    message,
                )
                .evidence(agg.events.iter().map(|&i| cx.evi(i, None)))
                .count(agg.count)
                .system((!system.is_empty()).then_some(*system)),
            );
        }
        for (k, d) in eng.disposals.iter().enumerate() {
            let e = cx.model.event(d.event);
            if !d.missing.is_empty() {
                out.push(
                    Draft::new(
                        format!("event:{}", e.id),
                        format!("b|{}", e.id),
                        "b",
                        Level::Warn,
                        format!(
                            "disposal `{}` ({}) of class `{}` lacks {}: the record does not show \
what was removed and why",
                            e.id,
                            time::fmt(e.ts),
                            d.class,
                            d.missing.join(", ")
                        ),
                    )
                    .evidence([cx.ev(e, Some(format!("lacks {}", d.missing.join(", "))))])
                    .at(e.ts)
                    .system(d.system.as_deref()),
                );
            }
            let left = &scan.incomplete[k];
            if left.count > 0 {
                let of_system = d
                    .system
                    .as_deref()
                    .map_or(String::new(), |s| format!(" of system `{s}`"));
                let from = if d.from == Timestamp::MIN {
                    "the beginning".to_string()
                } else {
                    time::fmt(d.from)
                };
                let mut evidence = vec![cx.ev(e, Some("disposal".into()))];
                evidence.extend(
                    left.events
                        .iter()
                        .map(|&i| cx.evi(i, Some("still present".into()))),
                );
                out.push(
                    Draft::new(
                        format!("event:{}", e.id),
                        format!("d|{}", e.id),
                        "d",
                        Level::Warn,
                        format!(
                            "disposal `{}` ({}) covers `{}` events{of_system} from {from} to {}, \
but {} of them, under no hold, are still in the input (the oldest from {}): the disposal is \
incomplete",
                            e.id,
                            time::fmt(e.ts),
                            d.class,
                            time::fmt(d.to.min(d.ts)),
                            left.count,
                            left.oldest.map(time::fmt).unwrap_or_default(),
                        ),
                    )
                    .evidence(evidence)
                    .count(left.count)
                    .at(e.ts)
                    .system(d.system.as_deref()),
                );
            }
        }
        Outcome::evaluated(out)
    }
}

// --- RET-08 ---------------------------------------------------------------------------------

/// RET-08 Legal holds.
pub struct Ret08;

static RET08: RuleMeta = RuleMeta {
    id: "RET-08",
    title: "Legal holds",
    levels: "`deny`; (b), (c) `warn`",
    basis: "D",
    sources: &[
        "AI Act Art. 73(6) [V]",
        "GDPR Art. 17(3)(e) [V]",
        "18 U.S.C. §1519 [U]",
    ],
    needs: "`legal_hold.set` or envelope `legal_holds`.",
    checks: "Subject `legal_hold:H`, discriminator the check letter and the disposal's id. \
(a) A disposal ran while H was active (from its `legal_hold.set` to the first later \
`legal_hold.released`, inclusive) and H's scope is empty or contains the disposal's system \
node, or the disposal has no system; (b) a disposal ran while H was active and H's scope names \
entities of the disposal's system — confirm that the held records were excluded (a waiver \
records the confirmation); (c) discriminator `c`: envelope `legal_holds` names H but no \
`legal_hold.set` exists (H is then active from the first such event, never released, and holds \
the events that name it).",
    why: "Records under a legal hold (an investigation, litigation, a serious incident) must \
not be altered or destroyed until the hold is released; destroying them can be obstruction.",
    example: "Fires: hold `H-12` on `system:credit-scoring` set 2026-05-01, a disposal for that \
system on 2026-06-01. Passes: the disposal after `legal_hold.released`.",
    fix: "Suspend disposals in a hold's scope while it is active; record each hold with \
`legal_hold.set` (and its scope) and its end with `legal_hold.released`. Where a disposal ran \
under a hold that names other entities of the system, confirm that the held records were \
excluded and record it as a waiver.",
    not_checked: "Holds that were never recorded in the log.",
    params: &[],
};

impl Rule for Ret08 {
    fn meta(&self) -> &'static RuleMeta {
        &RET08
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let eng = Engine::new(cx);
        if !eng.holds_occur {
            return Outcome::not_evaluable("no `legal_hold.set` and no envelope `legal_holds`");
        }
        let mut out = Vec::new();
        for d in &eng.disposals {
            let e = cx.model.event(d.event);
            for h in &eng.holds {
                let Some(span) = h.span_at(d.ts) else {
                    continue;
                };
                let system_node = d
                    .system
                    .as_deref()
                    .map(|s| NodeId::new(EntityType::System, s));
                let names_system = system_node.as_ref().is_some_and(|n| span.scope.contains(n));
                let (check, level, why) = if span.scope.is_empty() {
                    ("a", Level::Deny, "its scope is everything".to_string())
                } else if d.system.is_none() {
                    (
                        "a",
                        Level::Deny,
                        "the disposal names no system, so it may have reached held records"
                            .to_string(),
                    )
                } else if names_system {
                    (
                        "a",
                        Level::Deny,
                        format!(
                            "its scope contains `system:{}`",
                            d.system.as_deref().unwrap_or_default()
                        ),
                    )
                } else if span
                    .scope
                    .iter()
                    .any(|n| eng.facts.system_of(n) == d.system.as_deref())
                {
                    (
                        "b",
                        Level::Warn,
                        format!(
                            "its scope names entities of system `{}`: confirm that the held records were excluded",
                            d.system.as_deref().unwrap_or_default()
                        ),
                    )
                } else {
                    continue;
                };
                let set = span.set.map_or_else(
                    || {
                        format!(
                            "named in `legal_holds` since {}, never set",
                            time::fmt(span.from)
                        )
                    },
                    |_| format!("set {}", time::fmt(span.from)),
                );
                let mut evidence = vec![cx.ev(e, Some("disposal under the hold".into()))];
                if let Some(s) = span.set {
                    evidence.push(cx.evi(s, Some(format!("hold `{}` set", h.id))));
                } else if let Some(&first) = h.named_by.first() {
                    evidence.push(cx.evi(first, Some(format!("names hold `{}`", h.id))));
                }
                out.push(
                    Draft::new(
                        format!("legal_hold:{}", h.id),
                        format!("{check}|{}", e.id),
                        check,
                        level,
                        format!(
                            "disposal `{}` of class `{}` ran on {} while hold `{}` was active ({set}); {why}",
                            e.id,
                            d.class,
                            time::fmt(d.ts),
                            h.id
                        ),
                    )
                    .evidence(evidence)
                    .at(d.ts)
                    .system(d.system.as_deref()),
                );
            }
        }
        for h in eng.holds.iter().filter(|h| h.implied) {
            let newest = h.named_by.iter().map(|&i| cx.model.event(i).ts).max();
            let mut d = Draft::new(
                format!("legal_hold:{}", h.id),
                "c",
                "c",
                Level::Warn,
                format!(
                    "{} event(s) name hold `{}` in `legal_holds` (the first on {}), but no \
`legal_hold.set` records it: its scope, reason and release are unknown; it is treated as active \
from then and never released",
                    h.named_by.len(),
                    h.id,
                    time::fmt(h.spans[0].from)
                ),
            )
            .evidence(
                h.named_by
                    .iter()
                    .map(|&i| cx.evi(i, Some(format!("names `{}`", h.id)))),
            )
            .count(h.named_by.len() as u64);
            if let Some(t) = newest {
                d = d.at(t);
            }
            out.push(d);
        }
        Outcome::evaluated(out)
    }
}

// --- RET-09 ---------------------------------------------------------------------------------

/// RET-09 Retention policy conflicts.
pub struct Ret09;

static RET09: RuleMeta = RuleMeta {
    id: "RET-09",
    title: "Retention policy conflicts",
    levels: "`deny`; (b), (c), (d) `warn`",
    basis: "D",
    sources: &[
        "AI Act Art. 19(1), 26(6) [V]",
        "GDPR Art. 5(1)(e), 17(3)(b) [V]",
    ],
    needs: "Any event (it reads the class table).",
    checks: "(a) Events of a class whose effective minimum (§5.5: the latest end of the class's \
`min` and of every enabled floor containing the event, each from its own clock) is above the \
class's `max`, aggregated per binding floor (subject `retention_class:C`, discriminator `a|` + \
the floor's rule id, on a tie the lowest, or `a|min` when the class's own `min` alone sets it); \
(b) discriminator `b`: a class holding personal events (or `personal = true`) has no `max` \
(count, and the first `evidence_limit` events as evidence); \
(c) discriminator `c|` + the disposal's id: a disposal earlier than the class's own `min` where \
no legal floor is violated; (d) subject `retention_class:NAME`, discriminator `d`: an envelope \
`retention_class` names no configured class (its events are treated as `unclassified`).",
    why: "A class cannot both keep events for a legal minimum and delete them by a shorter \
maximum: one of the two rules is broken whichever way it goes, and the resolution must be \
decided and recorded. Personal data without a maximum is kept indefinitely by default.",
    example: "Fires: `ai_auto_log` with `max = \"3 months\"` while RET-01's floor is 6 months. \
Passes: `max = \"12 months\"`.",
    fix: "Raise the class's `max` above every floor that applies to it, or restrict the events \
(access, pseudonymisation) until the floor ends and then delete them, and record that \
resolution as a waiver on the (a) or (b) finding. Give every class holding personal data a \
`max`. Define every class that events name, or correct the events.",
    not_checked: "Whether a recorded resolution (restriction, pseudonymisation) was applied.",
    params: &[],
};

impl Rule for Ret09 {
    fn meta(&self) -> &'static RuleMeta {
        &RET09
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        if cx.model.current().next().is_none() {
            return Outcome::not_evaluable("no event");
        }
        let eng = Engine::new(cx);
        let limit = cx.config.policy.evidence_limit;
        let scan = eng.scan(limit);
        let mut out = Vec::new();
        for ((class, binding), conflict) in &scan.conflicts {
            let c = eng.classes.get(class);
            let max = c
                .and_then(|c| c.max)
                .map(|d| d.to_string())
                .unwrap_or_default();
            let by = if *binding == "min" {
                format!(
                    "the class's own `min` ({})",
                    c.and_then(|c| c.min)
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                )
            } else {
                eng.floors_of(binding)
                    .map(|f| format!("the {} floor ({})", f.rule, f.min))
                    .next()
                    .unwrap_or_default()
            };
            let example = conflict
                .example
                .map(|(i, max_end, keep)| {
                    format!(
                        "; e.g. `{}`: restrict it from {} until {}, then dispose of it",
                        cx.model.event(i).id,
                        when(max_end),
                        when(keep)
                    )
                })
                .unwrap_or_default();
            out.push(
                Draft::new(
                    format!("retention_class:{class}"),
                    format!("a|{binding}"),
                    "a",
                    Level::Deny,
                    format!(
                        "{} events of class `{class}` must be kept longer than the class's max \
({max}) allows, because of {by}: restrict them until the minimum ends, then dispose of them, \
and record the resolution as a waiver{example}",
                        conflict.agg.count
                    ),
                )
                .evidence(conflict.agg.events.iter().map(|&i| cx.evi(i, None)))
                .count(conflict.agg.count),
            );
        }
        for class in eng.classes.iter().filter(|c| c.max.is_none()) {
            let agg = scan.personal.get(class.name.as_str());
            if agg.is_none() && !class.personal {
                continue;
            }
            let held = agg.map_or_else(
                || "is marked `personal = true`".to_string(),
                |a| format!("holds {} personal events", a.count),
            );
            let mut d = Draft::new(
                format!("retention_class:{}", class.name),
                "b",
                "b",
                Level::Warn,
                format!(
                    "class `{}` {held} but has no `max`: personal data would be kept \
indefinitely. Set `[retention.classes.{}] max` to how long the purpose needs it",
                    class.name, class.name
                ),
            );
            if let Some(a) = agg {
                d = d
                    .evidence(a.events.iter().map(|&i| cx.evi(i, Some("personal".into()))))
                    .count(a.count);
            }
            out.push(d);
        }
        for x in eng.too_early().iter().filter(|x| x.rule == "RET-09") {
            let id = &cx.model.event(eng.disposals[x.disposal].event).id;
            out.push(early_draft(
                cx,
                &eng,
                x,
                format!("c|{id}"),
                "c",
                Level::Warn,
            ));
        }
        for (name, agg) in &scan.unknown {
            let mut d = Draft::new(
                format!("retention_class:{name}"),
                "d",
                "d",
                Level::Warn,
                format!(
                    "{} event(s) name retention class `{name}` in their envelope, which is not \
configured; they are treated as `unclassified`. Define `[retention.classes.{name}]` or correct \
the events",
                    agg.count
                ),
            )
            .evidence(
                agg.events
                    .iter()
                    .map(|&i| cx.evi(i, Some(format!("class `{name}`")))),
            )
            .count(agg.count);
            if let Some(t) = agg.newest {
                d = d.at(t);
            }
            out.push(d);
        }
        Outcome::evaluated(out)
    }
}
