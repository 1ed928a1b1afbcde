//! INC-04: no alteration of the AI system concerned between awareness of a serious incident and
//! the first report to the authority; a closed incident states its root cause and corrective
//! actions.

use crate::checks::ticks;
use std::collections::BTreeSet;

use super::super::facts::ref_id;
use super::super::{Cx, Draft, Level, Outcome, Rule, RuleMeta};
use super::{Incident, opened_scope};
use crate::event::{EntityType, NodeId, present};
use crate::time::fmt_second;

/// INC-04 No alteration before notification; closure.
pub struct Inc04;

static INC04: RuleMeta = RuleMeta {
    id: "INC-04",
    title: "No alteration before notification; closure",
    levels: "`deny`; (b) `warn`",
    basis: "T",
    sources: &["AI Act Art. 20(1), 73(6) [V]"],
    needs: "`incident.opened`.",
    checks: "Affected: every node in the incident's merged `affects`, the version each affected \
deployment served at awareness, and the system (S(x)) of each of these. (a) For a serious \
incident I (merged `serious = true`), after awareness and up to the first `incident.notified` \
to the `authority` (or T): a `deployment.changed` of an affected deployment or of a deployment \
of an affected system, a `model.registered` whose `parent_version` or system is affected, or an \
`admin.change` of an affected system — subject `incident:I`, discriminator `a|` and that event's \
id (`deployment.suspended` and `.stopped` are allowed). (b) The latest `incident.closed` of I, \
with the attributes merged up to it, lacks `root_cause` or `corrective_actions`.",
    why: "Art. 73(6) forbids altering the AI system concerned in a way that may affect the \
later evaluation of the causes of a serious incident before the authorities are informed: the \
investigation needs the system as it was. Suspending or stopping it is the safe response. Art. \
20(1) asks the provider to take corrective action, which the closed incident must record.",
    example: "Fires: `dep-7` switched to a retrained version two days after awareness, before \
any notice. Passes: suspend `dep-7`, notify, then change.",
    fix: "After a serious incident, suspend or stop the affected deployments instead of \
changing them, notify the authority, and only then deploy a fix. Close every incident with its \
`root_cause` and `corrective_actions`.",
    not_checked: "The exemption for changes announced to the authority (no field); record it \
as a waiver.",
    params: &[],
};

/// The affected nodes of an incident (`RULES.md` INC-04).
struct Affected {
    deployments: BTreeSet<String>,
    versions: BTreeSet<String>,
    systems: BTreeSet<String>,
}

fn affected(cx: &Cx<'_>, inc: &Incident) -> Affected {
    let facts = cx.facts;
    let mut nodes: Vec<NodeId> = inc.affects();
    for n in inc.affects() {
        if n.entity_type() == Some(EntityType::Deployment)
            && let Some(v) = facts.serves(n.id(), inc.awareness)
        {
            nodes.push(NodeId::new(EntityType::ModelVersion, v));
        }
    }
    let mut a = Affected {
        deployments: BTreeSet::new(),
        versions: BTreeSet::new(),
        systems: BTreeSet::new(),
    };
    for n in &nodes {
        match n.entity_type() {
            Some(EntityType::Deployment) => {
                a.deployments.insert(n.id().to_string());
            }
            Some(EntityType::ModelVersion) => {
                a.versions.insert(n.id().to_string());
            }
            _ => {}
        }
        if let Some(s) = facts.system_of(n) {
            a.systems.insert(s.to_string());
        }
    }
    a
}

impl Rule for Inc04 {
    fn meta(&self) -> &'static RuleMeta {
        &INC04
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let incidents = match opened_scope(cx) {
            Ok(all) => all,
            Err(outcome) => return outcome,
        };
        let model = cx.model;
        let facts = cx.facts;
        // Candidate alterations, collected once: model registrations and administrative changes
        // (one pass over the kinds; decisions are only compared by kind).
        let any_serious = incidents.iter().any(Incident::serious);
        let mut registrations = Vec::new();
        let mut admin = Vec::new();
        if any_serious {
            for (i, e) in model.current() {
                match e.kind.as_str() {
                    "model.registered" => registrations.push(i),
                    "admin.change" => admin.push(i),
                    _ => {}
                }
            }
        }
        let t = cx.as_of();
        let mut out = Vec::new();
        for inc in &incidents {
            if inc.serious() {
                let first = inc.first_notice("authority");
                let end = first.map_or(t, |n| n.ts);
                let until = first.map_or_else(
                    || format!("no report to the authority by {}", fmt_second(t)),
                    |n| format!("first report to the authority {}", fmt_second(n.ts)),
                );
                let within = |ts| ts > inc.awareness && ts <= end;
                let a = affected(cx, inc);
                // (event, what it altered)
                let mut hits: Vec<(u32, String)> = Vec::new();
                for d in facts.deployments() {
                    let of_system = d.system.as_ref().is_some_and(|s| a.systems.contains(s));
                    if !(a.deployments.contains(&d.id) || of_system) {
                        continue;
                    }
                    for &i in &d.events {
                        let e = model.event(i);
                        if e.kind == "deployment.changed" && within(e.ts) {
                            let to = ref_id(e, "attrs.model_version")
                                .map(|v| format!(" to `{v}`"))
                                .unwrap_or_default();
                            hits.push((i, format!("deployment `{}` changed{to}", d.id)));
                        }
                    }
                }
                for &i in &registrations {
                    let e = model.event(i);
                    if !within(e.ts) {
                        continue;
                    }
                    let parent =
                        ref_id(e, "attrs.parent_version").filter(|p| a.versions.contains(*p));
                    let system = facts.system_of_event(e).filter(|s| a.systems.contains(*s));
                    let v = e.subject.as_ref().map_or("", |s| s.id.as_str());
                    if let Some(p) = parent {
                        hits.push((
                            i,
                            format!(
                                "model version `{v}` registered as a successor of affected `{p}`"
                            ),
                        ));
                    } else if let Some(s) = system {
                        hits.push((
                            i,
                            format!("model version `{v}` registered in affected system `{s}`"),
                        ));
                    }
                }
                for &i in &admin {
                    let e = model.event(i);
                    if within(e.ts)
                        && let Some(s) = facts.system_of_event(e).filter(|s| a.systems.contains(*s))
                    {
                        hits.push((i, format!("administrative change to affected system `{s}`")));
                    }
                }
                hits.sort_by_key(|(i, _)| *i);
                for (i, what) in hits {
                    let e = model.event(i);
                    out.push(
                        Draft::new(
                            inc.subject(),
                            format!("a|{}", e.id),
                            "a",
                            Level::Deny,
                            format!(
                                "{what} (`{}`, {}) after awareness of serious incident `{}` ({}) and before the authority was informed ({until}); suspend or stop instead, or record the authority's agreement as a waiver",
                                e.id,
                                fmt_second(e.ts),
                                inc.id(),
                                fmt_second(inc.awareness)
                            ),
                        )
                        .evidence([
                            inc.awareness_evidence(cx),
                            cx.ev(e, Some("alteration before notification".into())),
                        ])
                        .at(e.ts.max(model.event(inc.awareness_event).ts))
                        .system(inc.system()),
                    );
                }
            }
            if let Some((closed, attrs)) = inc.closure(model) {
                let lacking: Vec<&str> = ["root_cause", "corrective_actions"]
                    .into_iter()
                    .filter(|k| !present(attrs.get(*k)))
                    .collect();
                if !lacking.is_empty() {
                    let e = model.event(closed);
                    out.push(
                        Draft::new(
                            inc.subject(),
                            "b",
                            "b",
                            Level::Warn,
                            format!(
                                "incident `{}` closed on {} without {}",
                                inc.id(),
                                fmt_second(e.ts),
                                ticks(&lacking)
                            ),
                        )
                        .evidence([cx.ev(e, Some(format!("closed; no {}", lacking.join(", "))))])
                        .at(e.ts)
                        .system(inc.system()),
                    );
                }
            }
        }
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::testing::{check_events, ev, with};

    fn serious(ts: &str) -> serde_json::Value {
        opened(
            "i1",
            ts,
            json!({"serious": true, "category": "health", "widespread": false}),
        )
    }

    #[test]
    fn inc04_example_change_before_notice_fires_suspend_notify_change_passes() {
        let events = [
            provider_system(),
            deploy(
                "d1",
                "2026-09-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
            ),
            serious("2026-09-02T08:00:00Z"),
            deploy(
                "d2",
                "2026-09-04T08:00:00Z",
                "changed",
                "dep-7",
                Some("m@2"),
            ),
            notified("n1", "2026-09-05T08:00:00Z", "authority", json!({})),
        ];
        let case = check_events(&events, PROVIDER);
        assert_eq!(case.keys("INC-04"), [k("incident:inc-1", "a|d2", "deny")]);
        let f = case.of("INC-04")[0];
        assert_eq!(locs(f), [("i1", 3), ("d2", 4)]);
        assert!(
            f.message.contains("`dep-7` changed to `m@2`"),
            "{}",
            f.message
        );

        let events = [
            provider_system(),
            deploy(
                "d1",
                "2026-09-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
            ),
            serious("2026-09-02T08:00:00Z"),
            deploy("d2", "2026-09-02T09:00:00Z", "suspended", "dep-7", None),
            notified("n1", "2026-09-03T08:00:00Z", "authority", json!({})),
            deploy(
                "d3",
                "2026-09-04T08:00:00Z",
                "changed",
                "dep-7",
                Some("m@2"),
            ),
        ];
        assert!(check_events(&events, PROVIDER).keys("INC-04").is_empty());
    }

    #[test]
    fn inc04_a_covers_registrations_and_admin_changes_of_the_affected_system() {
        let reg =
            |id: &str, ts: &str, version: &str, parent: Option<&str>, system: Option<&str>| {
                let mut attrs = json!({"model": "m", "version": version});
                if let Some(p) = parent {
                    attrs["parent_version"] = json!(p);
                }
                let e = ev(
                    id,
                    ts,
                    "model.registered",
                    &format!("model_version:m@{version}"),
                    attrs,
                );
                match system {
                    Some(s) => with(e, "system", json!(s)),
                    None => e,
                }
            };
        let admin = with(
            ev(
                "a1",
                "2026-09-03T12:00:00Z",
                "admin.change",
                "resource:iam",
                json!({"target": "permissions"}),
            ),
            "system",
            json!("credit"),
        );
        let events = [
            provider_system(),
            reg("r1", "2026-08-01T00:00:00Z", "1", None, None),
            deploy(
                "d1",
                "2026-09-01T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1"),
            ),
            serious("2026-09-02T08:00:00Z"),
            // Successor of the version dep-7 served at awareness (no system of its own).
            reg("r2", "2026-09-03T08:00:00Z", "2", Some("1"), None),
            admin,
            // Another system's registration is not affected.
            reg("r3", "2026-09-03T13:00:00Z", "3", None, Some("other")),
        ];
        let case = check_events(&events, PROVIDER);
        assert_eq!(
            case.keys("INC-04"),
            [
                k("incident:inc-1", "a|a1", "deny"),
                k("incident:inc-1", "a|r2", "deny")
            ]
        );
        let r2 = case
            .of("INC-04")
            .into_iter()
            .find(|f| f.discriminator == "a|r2")
            .unwrap();
        assert_eq!(locs(r2), [("i1", 4), ("r2", 5)]);
        // Not serious: no (a).
        let mut calm = events.clone();
        calm[3] = opened("i1", "2026-09-02T08:00:00Z", json!({}));
        assert!(check_events(&calm, PROVIDER).keys("INC-04").is_empty());
        assert!(not_evaluable(
            &check_events(&[provider_system()], PROVIDER),
            "INC-04"
        ));
    }

    #[test]
    fn inc04_a_deployments_of_an_affected_system_and_the_window() {
        let events = [
            provider_system(),
            deploy(
                "d1",
                "2026-09-01T00:00:00Z",
                "started",
                "dep-8",
                Some("m@1"),
            ),
            opened(
                "i1",
                "2026-09-02T08:00:00Z",
                json!({"serious": true, "category": "health", "widespread": false,
                       "affects": ["system:credit"]}),
            ),
            deploy(
                "d2",
                "2026-09-02T08:00:00Z",
                "changed",
                "dep-8",
                Some("m@2"),
            ),
            deploy(
                "d3",
                "2026-09-03T08:00:00Z",
                "changed",
                "dep-8",
                Some("m@3"),
            ),
        ];
        let case = check_events(&events, PROVIDER);
        // d2 is at awareness, not after it.
        assert_eq!(case.keys("INC-04"), [k("incident:inc-1", "a|d3", "deny")]);
    }

    #[test]
    fn inc04_b_closed_without_root_cause() {
        let events = [
            opened("i1", "2026-09-01T08:00:00Z", json!({})),
            closed(
                "c1",
                "2026-09-10T08:00:00Z",
                json!({"corrective_actions": null}),
            ),
        ];
        let case = check_events(&events, PROVIDER);
        assert_eq!(case.keys("INC-04"), [k("incident:inc-1", "b", "warn")]);
        assert_eq!(locs(case.of("INC-04")[0]), [("c1", 2)]);
        assert!(
            case.of("INC-04")[0]
                .message
                .contains("`corrective_actions`")
        );
        let events = [
            opened("i1", "2026-09-01T08:00:00Z", json!({})),
            closed("c1", "2026-09-10T08:00:00Z", json!({})),
        ];
        assert!(check_events(&events, PROVIDER).keys("INC-04").is_empty());
    }
}
