//! MOD-06 (change control): what a version's registration says about its change from its parent.
//!
//! Reads each version's latest `model.registered` and that of its `parent_version` P (the node
//! `model_version:MODEL@PARENT` extracted at ingest). Scope: V with a parent where V or P has been
//! in production. Discriminators are the check letter alone.

use super::super::facts::{entities_of, ref_id};
use super::super::models::missing;
use super::super::{Cx, Draft, Evidence, Level, Outcome, Rule, RuleMeta};
use super::registration;
use crate::checks::ticks;
use crate::event::{EntityType, present};

/// MOD-06 Change control.
pub struct Mod06;

static MOD06: RuleMeta = RuleMeta {
    id: "MOD-06",
    title: "Change control",
    levels: "`deny`; (c) `info`",
    basis: "T",
    sources: &[
        "AI Act Annex IV 2(f), 6 [V]",
        "AI Act Art. 3(23), 43(4) [U]",
        "SR 11-7 change control, validation of material changes [V]",
        "PRA SS1/23 P3 [V]",
        "SOX ITGC change management [U]",
    ],
    needs: "`model.registered` with `parent_version`. Scope: versions V with a parent P where P \
or V has been served by a production deployment.",
    checks: "For every version V in scope (subject `model_version:V`, read from its latest \
`model.registered`): (a) `changelog` or `change_type` missing, or `justification` missing when \
`change_type = \"material\"`; (b) `change_type = \"predetermined\"` while P's latest registration \
has no `predetermined_changes` (or P is not registered); (c) `change_type = \"material\"` and V's \
system is a high-risk system of a provider: an observation that the change may be a substantial \
modification, whose conformity assessment should be reviewed. Evaluation and approval before \
deployment are enforced for every version by DEP-01.",
    why: "Every change to a model in service must be recorded, classified and, when material, \
justified, so that its validation can be scoped to the change. A change announced as \
predetermined must have been foreseen by the version it changes; for a high-risk AI system a \
material change may be a substantial modification that calls for a new conformity assessment.",
    example: "Fires: `credit-risk@1.4.1` says `change_type: \"predetermined\"`, but `1.4.0` lists \
no `predetermined_changes`. Passes: `change_type: \"material\"` with a `justification` (and \
DEP-01's approval).",
    fix: "Record `changelog` and `change_type` (`predetermined`, `material` or `minor`) on every \
version that has a parent, with a `justification` for material changes (a correcting \
`model.registered` completes a registration). Declare `predetermined_changes` on the parent \
before relying on them, or classify the change as material. For a material change of a \
high-risk system you provide, review whether the conformity assessment must be repeated.",
    not_checked: "Whether the declared change type matches the actual change, and whether a \
predetermined change stays within what the parent declared.",
    params: &[],
};

impl Rule for Mod06 {
    fn meta(&self) -> &'static RuleMeta {
        &MOD06
    }

    fn run(&self, cx: &Cx<'_>) -> Outcome {
        let model = cx.model;
        let facts = cx.facts;
        // (version, parent, its latest registration) for every registration naming a parent.
        let mut children = Vec::new();
        for (node, ent) in entities_of(model, EntityType::ModelVersion) {
            let Some(&i) = ent.registered.last() else {
                continue;
            };
            if let Some(p) = ref_id(model.event(i), "attrs.parent_version") {
                children.push((node, p, i));
            }
        }
        if children.is_empty() {
            return Outcome::not_evaluable("no `model.registered` with `parent_version`");
        }
        let mut in_scope = 0usize;
        let mut out = Vec::new();
        for (node, p, i) in children {
            let v = node.id();
            if !facts.deployed(v) && !facts.deployed(p) {
                continue;
            }
            in_scope += 1;
            let system = facts.system_of_version(v);
            let subject = node.as_str();
            let reg = model.event(i);
            let a = reg.attrs();
            let change_type = a.get("change_type").and_then(|t| t.as_str());
            let draft =
                |check: &'static str, level: Level, message: String, evidence: Vec<Evidence>| {
                    Draft::new(subject, check, check, level, message)
                        .evidence(evidence)
                        .system(system)
                };

            let mut lacking = missing(&a, ["changelog", "change_type"]);
            if change_type == Some("material") && !present(a.get("justification")) {
                lacking.push("justification");
            }
            if !lacking.is_empty() {
                let material = if lacking.contains(&"justification") {
                    " (required for a material change)"
                } else {
                    ""
                };
                out.push(draft(
                    "a",
                    Level::Deny,
                    format!(
                        "`{v}`, a change of `{p}`, is registered without {}{material}",
                        ticks(&lacking)
                    ),
                    vec![cx.ev(reg, Some(format!("lacks {}", lacking.join(", "))))],
                ));
            }

            if change_type == Some("predetermined") {
                let parent = registration(model, p);
                let declared = parent
                    .as_ref()
                    .is_some_and(|(_, pa)| present(pa.get("predetermined_changes")));
                if !declared {
                    let mut evidence = vec![cx.ev(reg, Some("change_type = predetermined".into()))];
                    let why = match &parent {
                        Some((pi, _)) => {
                            evidence.push(cx.evi(*pi, Some("no predetermined_changes".into())));
                            format!("`{p}` lists no `predetermined_changes`")
                        }
                        None => format!("`{p}` is not registered, so it declares none"),
                    };
                    out.push(draft(
                        "b",
                        Level::Deny,
                        format!(
                            "`{v}` is registered as a predetermined change of `{p}`, but {why}; record the change as material (with a `justification`) or declare the change on the parent"
                        ),
                        evidence,
                    ));
                }
            }

            if change_type == Some("material") && facts.provider(system) && facts.high_risk(system)
            {
                out.push(draft(
                    "c",
                    Level::Info,
                    format!(
                        "`{v}` is a material change of `{p}` in high-risk system `{}`, which you provide: possible substantial modification: review the conformity assessment",
                        system.unwrap_or_default()
                    ),
                    vec![cx.ev(reg, Some("change_type = material".into()))],
                ));
            }
        }
        if in_scope == 0 {
            return Outcome::not_applicable(
                "no version with a parent has been served by a production deployment, nor has its parent",
            );
        }
        Outcome::evaluated(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::*;
    use crate::checks::Status;
    use crate::testing::check_events;

    /// `m@1.4.0` (with `parent_extra`) in production, and its child `m@1.4.1` (with `extra`).
    fn case(parent_extra: Value, extra: Value) -> crate::testing::Case {
        let events = [
            system("s1", "high", "provider"),
            reg("r1", "2026-01-01T00:00:00Z", "1.4.0", parent_extra),
            dep(
                "d1",
                "2026-01-10T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1.4.0"),
            ),
            reg(
                "r2",
                "2026-02-01T00:00:00Z",
                "1.4.1",
                merged(extra, json!({"parent_version": "1.4.0"})),
            ),
        ];
        check_events(&events, SR)
    }

    #[test]
    fn mod06_passes_for_a_documented_minor_change() {
        let c = case(json!({}), json!({}));
        assert!(c.keys("MOD-06").is_empty(), "{:?}", c.keys("MOD-06"));
        assert_eq!(c.status("MOD-06"), Some(&Status::Evaluated));
    }

    #[test]
    fn mod06_a_fires_on_missing_changelog_type_or_justification() {
        for extra in [
            json!({"changelog": null}),
            json!({"change_type": null}),
            json!({"change_type": "material"}),
        ] {
            let c = case(json!({}), extra.clone());
            let mut keys = c.keys("MOD-06");
            keys.retain(|k| k.1 == "a");
            assert_eq!(keys, [k("model_version:m@1.4.1", "a", "deny")], "{extra}");
            let f = c
                .of("MOD-06")
                .into_iter()
                .find(|f| f.discriminator == "a")
                .unwrap();
            assert_eq!(locations(f), [loc("r2", 4)]);
        }
        let c = case(json!({}), json!({"change_type": "material"}));
        let a = c
            .of("MOD-06")
            .into_iter()
            .find(|f| f.discriminator == "a")
            .unwrap();
        assert!(a.message.contains("`justification`"), "{}", a.message);
    }

    #[test]
    fn mod06_b_fires_on_predetermined_without_parent_declaration() {
        let c = case(json!({}), json!({"change_type": "predetermined"}));
        assert_eq!(c.keys("MOD-06"), [k("model_version:m@1.4.1", "b", "deny")]);
        assert_eq!(locations(c.of("MOD-06")[0]), [loc("r1", 2), loc("r2", 4)]);
        let c = case(
            json!({"predetermined_changes": "Quarterly retrain on the same features"}),
            json!({"change_type": "predetermined"}),
        );
        assert!(c.keys("MOD-06").is_empty(), "{:?}", c.keys("MOD-06"));
    }

    #[test]
    fn mod06_c_is_info_for_a_material_change_of_a_high_risk_provider_system() {
        // The example's pass: material with a justification; (c) remains an observation.
        let c = case(
            json!({}),
            json!({"change_type": "material", "justification": "Reduce false declines"}),
        );
        assert_eq!(c.keys("MOD-06"), [k("model_version:m@1.4.1", "c", "info")]);
        assert_eq!(locations(c.of("MOD-06")[0]), [loc("r2", 4)]);
        assert!(
            c.of("MOD-06")[0]
                .message
                .contains("review the conformity assessment")
        );
        // A deployer's system: no observation.
        let events = [
            system("s1", "high", "deployer"),
            reg("r1", "2026-01-01T00:00:00Z", "1.4.0", json!({})),
            dep(
                "d1",
                "2026-01-10T00:00:00Z",
                "started",
                "dep-7",
                Some("m@1.4.0"),
            ),
            reg(
                "r2",
                "2026-02-01T00:00:00Z",
                "1.4.1",
                json!({"parent_version": "1.4.0", "change_type": "material",
                       "justification": "Reduce false declines"}),
            ),
        ];
        assert!(check_events(&events, SR).keys("MOD-06").is_empty());
    }

    #[test]
    fn mod06_scope_and_status() {
        // Neither version in production: not applicable.
        let events = [
            reg("r1", "2026-01-01T00:00:00Z", "1.4.0", json!({})),
            reg(
                "r2",
                "2026-02-01T00:00:00Z",
                "1.4.1",
                json!({"parent_version": "1.4.0", "changelog": null}),
            ),
        ];
        let c = check_events(&events, SR);
        assert!(c.keys("MOD-06").is_empty());
        assert!(matches!(c.status("MOD-06"), Some(Status::NotApplicable(_))));
        // No parent anywhere: not evaluable.
        let c = check_events(&events[..1], SR);
        assert!(matches!(c.status("MOD-06"), Some(Status::NotEvaluable(_))));
        // Only the child in production is enough.
        let mut events = events.to_vec();
        events.push(dep(
            "d1",
            "2026-02-10T00:00:00Z",
            "started",
            "dep-7",
            Some("m@1.4.1"),
        ));
        assert_eq!(
            check_events(&events, SR).keys("MOD-06"),
            [k("model_version:m@1.4.1", "a", "deny")]
        );
    }
}
