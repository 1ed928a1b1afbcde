//! DEP-01 Pre-deployment gate.
//!
//! Input: each production deployment's `deployment.*` events in event order ([`Facts`]), the
//! approvals they name, the versions' evaluations and the documents effective at the deployment
//! time. Output: per deployment (id order), per gated event (event order), checks (a)–(d).

use crate::checks::facts::{ApprovalIssue, check_approval};
use crate::checks::ticks;
use serde_json::Value;

use super::super::catalogue::{ParamKind, param};
use super::super::facts::{Facts, ref_id};
use super::super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use crate::event::{EntityType, Event, NodeId};
use crate::model::Model;
use crate::time;

/// DEP-01 Pre-deployment gate.
pub struct Dep01;

static DEP01: RuleMeta = RuleMeta {
    id: "DEP-01",
    title: "Pre-deployment gate",
    levels: "`deny`",
    basis: "T",
    sources: &[
        "SR 11-7 validation before use [V]",
        "PRA SS1/23 P4 [V]",
        "ISO/IEC 42001 A.6.2.5 [S]",
        "AI Act Art. 11(1), 13, Annex IV 8, 9 [V]",
        "AI Act Art. 27 [S]",
    ],
    needs: "`deployment.started`.",
    checks: "For every `deployment.started`, and every version-changing `deployment.changed` \
(its `model_version` differs from that of the deployment's previous `started`/`changed`), of a \
production deployment D (V = its `model_version`, t = its ts) — subject `deployment:D`, \
discriminator = check letter and that event's id: (a) `approval` missing, or not a \
`model.validated` of V with `decision = \"approve\"` and ts ≤ t (an approval that a correction \
replaced is read as corrected); (b) no `model.evaluated` of V with ts ≤ t, or the latest such \
has `passed = false`; (c) provider(S) ∧ high_risk(S): for some type in `provider_docs`, no \
document of that type effective at t describing `system:S` or `model_version:V`; \
(d) fria_scope(S): no `fria` document effective at t describing `system:S`.",
    why: "A model version may be put into production only once it has been validated and \
approved, and its evaluation passed (SR 11-7, PRA SS1/23). A provider of a high-risk AI system \
must have its technical documentation, EU declaration of conformity, post-market monitoring \
plan and instructions for use in place before the system is placed on the market or put into \
service; a deployer in scope of Art. 27 must have assessed the impact on fundamental rights \
before first use.",
    example: "Fires: `deployment.started` of `dep-7` with no `approval`. Passes: `approval` \
naming the approving `model.validated` event.",
    fix: "Name the approving `model.validated` (with `decision = \"approve\"`, recorded before \
the deployment) in the `approval` of each `deployment.started` and version-changing \
`deployment.changed`; evaluate the version before deploying it; register the required documents \
(`document.registered` with `describes` naming the system or the version, effective from before \
the deployment). A wrong deployment record is corrected with `supersedes` and a `reason`.",
    not_checked: "Independence of the approver (ACC-02), the environment path (LINK-03), and \
what the documents say.",
    params: &[param(
        "provider_docs",
        ParamKind::Strs,
        "[\"tech_doc\", \"eu_declaration\", \"pmm_plan\", \"instructions_for_use\"]",
    )],
};

impl Rule for Dep01 {
    fn meta(&self) -> &'static RuleMeta {
        &DEP01
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        if !model.occurs("deployment.started") {
            return Outcome::not_evaluable("no `deployment.started` event");
        }
        let provider_docs = cx.strs("provider_docs");
        let mut out = Vec::new();
        let mut any = false;
        for d in facts.deployments().filter(|d| d.production) {
            any = true;
            let mut previous: Option<&str> = None;
            for &i in &d.events {
                let e = model.event(i);
                let started = e.kind == "deployment.started";
                if !started && e.kind != "deployment.changed" {
                    continue;
                }
                let Some(v) = ref_id(e, "attrs.model_version") else {
                    continue;
                };
                if previous.replace(v) == Some(v) && !started {
                    continue; // a change that keeps the version
                }
                gate(cx, facts, &d.id, i, e, v, &provider_docs, &mut out);
            }
        }
        if !any {
            return Outcome::not_applicable(
                "no production deployment (`[policy] production_envs`)",
            );
        }
        Outcome::evaluated(out)
    }
}

/// Checks (a)–(d) at one gated deployment event `e` (index `i`) of deployment `d` serving `v`.
#[allow(clippy::too_many_arguments)]
fn gate(
    cx: &Cx<'_>,
    facts: &Facts<'_>,
    d: &str,
    i: u32,
    e: &Event,
    v: &str,
    provider_docs: &[String],
    out: &mut Vec<Draft>,
) {
    let model = cx.model;
    let t = e.ts;
    let system = facts.system_of_event(e);
    let subject = format!("deployment:{d}");
    let version = NodeId::new(EntityType::ModelVersion, v);
    let what = format!(
        "`{}` ({}, {}) puts `{v}` into production",
        e.id,
        e.kind,
        time::fmt(t)
    );
    let here = |note: &str| cx.evi(i, Some(note.to_string()));
    let push = |out: &mut Vec<Draft>, check: &'static str, msg: String, ev: Vec<Evidence>, at| {
        out.push(
            Draft::new(
                subject.as_str(),
                format!("{check}|{}", e.id),
                check,
                Level::Deny,
                msg,
            )
            .evidence(ev)
            .at(at)
            .system(system),
        );
    };

    // (a) approval
    if let Some((problem, other)) = approval_problem(model, e, &version) {
        let mut ev = vec![here("deployment")];
        let mut at = t;
        if let Some(o) = other {
            ev.push(cx.evi(o, Some("named approval".into())));
            at = at.max(model.event(o).ts);
        }
        push(
            out,
            "a",
            format!(
                "{what}: {problem}. Name the approving `model.validated` of `{v}` in `approval`"
            ),
            ev,
            at,
        );
    }

    // (b) evaluation before t
    // The version's timeline is in event order and holds every decision naming it: stop at t.
    let latest = model
        .entity(&version)
        .into_iter()
        .flat_map(|ent| ent.timeline.iter().copied())
        .map(|j| (j, model.event(j)))
        .take_while(|(_, x)| x.ts <= t)
        .filter(|(_, x)| {
            x.kind == "model.evaluated" && x.subject.as_ref().is_some_and(|s| s.is(&version))
        })
        .last();
    match latest {
        None => push(
            out,
            "b",
            format!("{what} without a `model.evaluated` of `{v}` recorded at or before it"),
            vec![here("no prior evaluation")],
            t,
        ),
        Some((ei, eval)) if eval.attrs().get("passed") == Some(&Value::Bool(false)) => push(
            out,
            "b",
            format!(
                "{what}, but the latest evaluation of `{v}` before it, `{}` ({}), has `passed = false`",
                eval.id,
                time::fmt(eval.ts)
            ),
            vec![
                here("deployment"),
                cx.evi(ei, Some("passed = false".into())),
            ],
            t,
        ),
        Some(_) => {}
    }

    let system_node = system.map(|s| NodeId::new(EntityType::System, s));

    // (c) provider documents
    if facts.provider(system) && facts.high_risk(system) {
        let lacking: Vec<&str> = provider_docs
            .iter()
            .map(String::as_str)
            .filter(|ty| {
                let on = |n: &NodeId| facts.effective_documents(n, Some(ty), t).next().is_some();
                !(system_node.as_ref().is_some_and(on) || on(&version))
            })
            .collect();
        if !lacking.is_empty() {
            push(
                out,
                "c",
                format!(
                    "{what} for high-risk system `{}` (provider) with no document of type {} effective at that time describing `system:{}` or `{version}`",
                    system.unwrap_or_default(),
                    ticks(&lacking),
                    system.unwrap_or_default()
                ),
                vec![here(&format!("no {}", lacking.join(", ")))],
                t,
            );
        }
    }

    // (d) fundamental rights impact assessment
    if facts.fria_scope(system)
        && let Some(node) = &system_node
        && facts
            .effective_documents(node, Some("fria"), t)
            .next()
            .is_none()
    {
        push(
            out,
            "d",
            format!(
                "{what} for `{node}`, in scope of a fundamental rights impact assessment, with no `fria` document effective at that time describing it"
            ),
            vec![here("no fria")],
            t,
        );
    }
}

/// Why `e`'s `approval` does not show an approving validation of `version` at or before `e`,
/// with the named event when there is one.
fn approval_problem(model: &Model, e: &Event, version: &NodeId) -> Option<(String, Option<u32>)> {
    let approval = e
        .event_refs()
        .iter()
        .find(|(f, _)| *f == "attrs.approval")
        .map(|(_, id)| id.as_str());
    let issue = check_approval(model, approval, version, e.ts).err()?;
    let problem = match issue {
        ApprovalIssue::Missing => "it has no `approval`".to_string(),
        ApprovalIssue::Unknown => format!(
            "its approval `{}` is not an event of this report",
            approval.unwrap_or_default()
        ),
        ApprovalIssue::NotValidation(i) => {
            let a = model.event(i);
            format!(
                "its approval `{}` is a `{}`, not a `model.validated`",
                a.id, a.kind
            )
        }
        ApprovalIssue::OtherVersion(i) => {
            let a = model.event(i);
            let other = a.subject_node().map(|n| n.to_string()).unwrap_or_default();
            format!(
                "its approval `{}` validates `{other}`, not `{version}`",
                a.id
            )
        }
        ApprovalIssue::NotApproved(i) => {
            let a = model.event(i);
            let decision = a.attrs().get("decision").cloned().unwrap_or(Value::Null);
            format!(
                "its approval `{}` has decision {decision}, not \"approve\"",
                a.id
            )
        }
        ApprovalIssue::Later(i) => {
            let a = model.event(i);
            format!(
                "its approval `{}` is recorded later ({})",
                a.id,
                time::fmt(a.ts)
            )
        }
    };
    Some((problem, issue.event()))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::*;
    use crate::checks::Status;
    use crate::testing::{check_events, ev, with};

    fn validated(id: &str, ts: &str, version: &str, decision: &str) -> Value {
        ev(
            id,
            ts,
            "model.validated",
            &format!("model_version:m@{version}"),
            json!({"validator": "carol", "decision": decision}),
        )
    }

    fn evaluated(id: &str, ts: &str, version: &str, passed: bool) -> Value {
        ev(
            id,
            ts,
            "model.evaluated",
            &format!("model_version:m@{version}"),
            json!({"metrics": [{"name": "auc", "value": 0.8}], "passed": passed}),
        )
    }

    /// Registration, validation and a passing evaluation of `m@1`, then `extra`.
    fn base(extra: Vec<Value>) -> Vec<Value> {
        let mut v = vec![
            reg("r1", "2026-01-01T00:00:00Z", "1", json!({})),
            validated("val1", "2026-01-02T00:00:00Z", "1", "approve"),
            evaluated("ev1", "2026-01-02T00:00:00Z", "1", true),
        ];
        v.extend(extra);
        v
    }

    fn approved(id: &str, ts: &str, kind: &str, version: &str, approval: &str) -> Value {
        dep(
            id,
            ts,
            kind,
            "dep-7",
            Some(&format!("m@{version}")),
            json!({"approval": approval}),
        )
    }

    #[test]
    fn a_fires_without_approval_and_passes_with_it() {
        // The catalogue's example.
        let events = base(vec![dep(
            "d1",
            "2026-01-10T00:00:00Z",
            "started",
            "dep-7",
            Some("m@1"),
            json!({}),
        )]);
        let case = check_events(&events, SR);
        assert_eq!(case.keys("DEP-01"), [k("deployment:dep-7", "a|d1", "deny")]);
        assert_eq!(evidence(&case, "DEP-01"), [vec![at("d1", 4)]]);
        let msg = &case.of("DEP-01")[0].message;
        assert!(msg.contains("no `approval`"), "{msg}");

        let events = base(vec![approved(
            "d1",
            "2026-01-10T00:00:00Z",
            "started",
            "1",
            "val1",
        )]);
        let case = check_events(&events, SR);
        assert!(case.keys("DEP-01").is_empty(), "{:?}", case.keys("DEP-01"));
        assert_eq!(case.status("DEP-01"), Some(&Status::Evaluated));
    }

    #[test]
    fn a_fires_on_wrong_approvals() {
        let cases = [
            // A rejection.
            (
                validated("val2", "2026-01-03T00:00:00Z", "1", "reject"),
                "decision",
            ),
            // Another version.
            (
                validated("val2", "2026-01-03T00:00:00Z", "2", "approve"),
                "validates",
            ),
            // Recorded after the deployment.
            (
                validated("val2", "2026-01-11T00:00:00Z", "1", "approve"),
                "later",
            ),
            // Not a validation.
            (
                evaluated("val2", "2026-01-03T00:00:00Z", "1", true),
                "not a `model.validated`",
            ),
        ];
        for (approval, why) in cases {
            let events = base(vec![
                approval,
                approved("d1", "2026-01-10T00:00:00Z", "started", "1", "val2"),
            ]);
            let case = check_events(&events, SR);
            assert_eq!(
                case.keys("DEP-01"),
                [k("deployment:dep-7", "a|d1", "deny")],
                "{why}"
            );
            let f = case.of("DEP-01")[0];
            assert!(f.message.contains(why), "{why}: {}", f.message);
            let lines: Vec<u64> = f.evidence.iter().map(|e| e.line).collect();
            assert_eq!(lines, [4, 5], "{why}");
        }
        // Unknown approval id.
        let events = base(vec![approved(
            "d1",
            "2026-01-10T00:00:00Z",
            "started",
            "1",
            "nope",
        )]);
        let case = check_events(&events, SR);
        assert_eq!(case.keys("DEP-01"), [k("deployment:dep-7", "a|d1", "deny")]);
    }

    #[test]
    fn a_reads_a_corrected_approval() {
        let fixed = with(
            with(
                validated("val1b", "2026-01-02T01:00:00Z", "1", "approve"),
                "supersedes",
                json!("val0"),
            ),
            "reason",
            json!("decision mistyped"),
        );
        let events = base(vec![
            validated("val0", "2026-01-02T00:00:00Z", "1", "reject"),
            fixed,
            approved("d1", "2026-01-10T00:00:00Z", "started", "1", "val0"),
        ]);
        let case = check_events(&events, SR);
        assert!(case.keys("DEP-01").is_empty(), "{:?}", case.keys("DEP-01"));
    }

    #[test]
    fn gates_every_started_and_version_changing_changed_only() {
        let events = base(vec![
            approved("d1", "2026-01-10T00:00:00Z", "started", "1", "val1"),
            // Keeps the version: not gated.
            dep(
                "d2",
                "2026-01-11T00:00:00Z",
                "changed",
                "dep-7",
                Some("m@1"),
                json!({}),
            ),
            reg("r2", "2026-01-12T00:00:00Z", "2", json!({})),
            // Changes the version, without approval: gated (a) and no evaluation (b).
            dep(
                "d3",
                "2026-01-13T00:00:00Z",
                "changed",
                "dep-7",
                Some("m@2"),
                json!({}),
            ),
            dep(
                "d4",
                "2026-01-14T00:00:00Z",
                "suspended",
                "dep-7",
                None,
                json!({}),
            ),
            // A restart of the same version is a `started`: gated.
            dep(
                "d5",
                "2026-01-15T00:00:00Z",
                "started",
                "dep-7",
                Some("m@2"),
                json!({}),
            ),
        ]);
        let case = check_events(&events, SR);
        assert_eq!(
            case.keys("DEP-01"),
            [
                k("deployment:dep-7", "a|d3", "deny"),
                k("deployment:dep-7", "a|d5", "deny"),
                k("deployment:dep-7", "b|d3", "deny"),
                k("deployment:dep-7", "b|d5", "deny"),
            ]
        );
        // A staging deployment is not gated.
        let staging = with(
            dep(
                "s1",
                "2026-01-10T00:00:00Z",
                "started",
                "dep-s",
                Some("m@1"),
                json!({}),
            ),
            "env",
            json!("staging"),
        );
        let case = check_events(&base(vec![staging]), SR);
        assert!(matches!(
            case.status("DEP-01"),
            Some(Status::NotApplicable(_))
        ));
    }

    #[test]
    fn b_fires_without_a_prior_or_on_a_failed_evaluation() {
        let events = vec![
            reg("r1", "2026-01-01T00:00:00Z", "1", json!({})),
            validated("val1", "2026-01-02T00:00:00Z", "1", "approve"),
            approved("d1", "2026-01-10T00:00:00Z", "started", "1", "val1"),
            // After the deployment: does not count.
            evaluated("ev1", "2026-01-11T00:00:00Z", "1", true),
        ];
        let case = check_events(&events, SR);
        assert_eq!(case.keys("DEP-01"), [k("deployment:dep-7", "b|d1", "deny")]);
        assert_eq!(evidence(&case, "DEP-01"), [vec![at("d1", 3)]]);

        let events = base(vec![
            evaluated("ev2", "2026-01-05T00:00:00Z", "1", false),
            approved("d1", "2026-01-10T00:00:00Z", "started", "1", "val1"),
        ]);
        let case = check_events(&events, SR);
        assert_eq!(case.keys("DEP-01"), [k("deployment:dep-7", "b|d1", "deny")]);
        assert_eq!(evidence(&case, "DEP-01"), [vec![at("ev2", 4), at("d1", 5)]]);
        // A later passing evaluation, still before the deployment, replaces it.
        let events = base(vec![
            evaluated("ev2", "2026-01-05T00:00:00Z", "1", false),
            evaluated("ev3", "2026-01-06T00:00:00Z", "1", true),
            approved("d1", "2026-01-10T00:00:00Z", "started", "1", "val1"),
        ]);
        assert!(check_events(&events, SR).keys("DEP-01").is_empty());
    }

    fn high_risk(role: &str, point: &str) -> Value {
        system(
            "s1",
            "2025-12-01T00:00:00Z",
            json!({"risk": "high", "role": role, "annex_iii_point": point}),
        )
    }

    #[test]
    fn c_fires_on_missing_provider_documents() {
        let d = || approved("d1", "2026-09-10T00:00:00Z", "started", "1", "val1");
        let docs = |types: &[&str]| -> Vec<Value> {
            types
                .iter()
                .enumerate()
                .map(|(n, ty)| {
                    let on: &[&str] = if n % 2 == 0 {
                        &["system:credit"]
                    } else {
                        &["model_version:m@1"]
                    };
                    doc(
                        &format!("doc{n}"),
                        "2026-09-01T00:00:00Z",
                        &format!("{ty}-1"),
                        ty,
                        on,
                        json!({}),
                    )
                })
                .collect()
        };
        let mut events = base(vec![high_risk("provider", "5(b)")]);
        events.extend(docs(&["tech_doc", "eu_declaration"]));
        events.push(d());
        let case = check_events(&events, EU);
        assert_eq!(case.keys("DEP-01"), [k("deployment:dep-7", "c|d1", "deny")]);
        let f = case.of("DEP-01")[0];
        assert!(
            f.message.contains("`pmm_plan`, `instructions_for_use`"),
            "{}",
            f.message
        );
        assert_eq!(evidence(&case, "DEP-01"), [vec![at("d1", 7)]]);

        let mut events = base(vec![high_risk("provider", "5(b)")]);
        events.extend(docs(&[
            "tech_doc",
            "eu_declaration",
            "pmm_plan",
            "instructions_for_use",
        ]));
        events.push(d());
        assert!(check_events(&events, EU).keys("DEP-01").is_empty());

        // A document no longer effective at the deployment time does not count.
        let mut events = base(vec![high_risk("provider", "5(b)")]);
        events.extend(docs(&["tech_doc", "eu_declaration", "pmm_plan"]));
        events.push(doc(
            "doc9",
            "2026-09-01T00:00:00Z",
            "ifu-1",
            "instructions_for_use",
            &["system:credit"],
            json!({"effective_to": "2026-09-05T00:00:00Z"}),
        ));
        events.push(d());
        assert_eq!(
            check_events(&events, EU).keys("DEP-01"),
            [k("deployment:dep-7", "c|d1", "deny")]
        );

        // Not a provider: no documents needed.
        let mut events = base(vec![high_risk("deployer", "4(a)")]);
        events.push(d());
        assert!(check_events(&events, EU).keys("DEP-01").is_empty());
    }

    #[test]
    fn d_fires_without_a_fria_in_scope() {
        let d = || approved("d1", "2026-09-10T00:00:00Z", "started", "1", "val1");
        let events = base(vec![high_risk("deployer", "5(b)"), d()]);
        let extra = "[policy]\npacks = [\"eu-ai-act-deployer\"]\n";
        let case = check_events(&events, extra);
        assert_eq!(case.keys("DEP-01"), [k("deployment:dep-7", "d|d1", "deny")]);
        assert_eq!(evidence(&case, "DEP-01"), [vec![at("d1", 5)]]);

        let events = base(vec![
            high_risk("deployer", "5(b)"),
            doc(
                "f1",
                "2026-09-01T00:00:00Z",
                "fria-1",
                "fria",
                &["system:credit"],
                json!({}),
            ),
            d(),
        ]);
        assert!(check_events(&events, extra).keys("DEP-01").is_empty());
        // Outside fria_points.
        let events = base(vec![high_risk("deployer", "4(a)"), d()]);
        assert!(check_events(&events, extra).keys("DEP-01").is_empty());
    }

    #[test]
    fn is_pre_effective_under_the_eu_ai_act_and_not_evaluable_without_deployments() {
        let events = base(vec![dep(
            "d1",
            "2026-01-10T00:00:00Z",
            "started",
            "dep-7",
            Some("m@1"),
            json!({}),
        )]);
        let case = check_events(&events, EU);
        assert_eq!(case.keys("DEP-01"), [k("deployment:dep-7", "a|d1", "info")]);
        let case = check_events(&base(vec![]), SR);
        assert!(matches!(
            case.status("DEP-01"),
            Some(Status::NotEvaluable(_))
        ));
    }
}
