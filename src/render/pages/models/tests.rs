use serde_json::{Value, json};

use crate::testing::{Case, check_events, ev, merge, page, with};

const EVIL: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>";
const SR: &str = "[policy]\npacks = [\"sr11-7\"]\n[report]\nas_of = \"2026-06-01T00:00:00Z\"\n";

/// The table row (`<tr>…</tr>`) of `html` that contains `needle`.
pub fn row<'h>(html: &'h str, needle: &str) -> &'h str {
    html.split("<tr")
        .skip(1)
        .find(|r| r.contains(needle))
        .map(|r| r.split("</tr>").next().unwrap_or(r))
        .unwrap_or_else(|| panic!("no row with {needle:?} in {html}"))
}

fn reg(id: &str, ts: &str, version: &str, extra: Value) -> Value {
    let attrs = merge(
        json!({
            "model": "m", "version": version, "owner": "risk", "intended_purpose": "credit",
            "artifact_digest": "sha256:aa", "code_commit": "abc123", "risk_tier": "tier-2",
            "datasets": [{"id": "train@1", "role": "train"}],
            "runtime": {"language": "python", "version": "3.11"},
            "changelog": "First", "justification": "Needed",
        }),
        extra,
    );
    with(
        ev(
            id,
            ts,
            "model.registered",
            &format!("model_version:m@{version}"),
            attrs,
        ),
        "system",
        json!("credit"),
    )
}

fn case() -> Case {
    let events = [
        reg("r1", "2026-01-01T00:00:00Z", "1", json!({})),
        ev(
            "v1",
            "2026-01-02T00:00:00Z",
            "model.validated",
            "model_version:m@1",
            json!({"validator": "carol", "decision": "approve", "next_review_due": "2026-05-01"}),
        ),
        with(
            ev(
                "p1",
                "2026-01-03T00:00:00Z",
                "model.promoted",
                "model_version:m@1",
                json!({"from_env": "staging", "to_env": "production",
                       "artifact_digest": "sha256:aa", "approval": "v1"}),
            ),
            "system",
            json!("credit"),
        ),
        with(
            ev(
                "d1",
                "2026-01-04T00:00:00Z",
                "deployment.started",
                "deployment:prod",
                json!({"model_version": "m@1"}),
            ),
            "env",
            json!("production"),
        ),
        reg(
            "r2",
            "2026-02-01T00:00:00Z",
            "2",
            json!({
                "parent_version": "1", "owner": "risk-team",
                "artifact_digest": null,
                "runtime": {"language": "python", "version": "3.12"},
                "datasets": [{"id": "train@1", "role": "train"}, {"id": "test@1", "role": "test"}],
                "changelog": format!("**Retrained** on new data {EVIL}"),
            }),
        ),
        ev(
            "e2",
            "2026-02-02T00:00:00Z",
            "model.evaluated",
            "model_version:m@2",
            json!({"metrics": [{"name": "auc", "value": 0.81, "ci_low": 0.8, "ci_high": 0.82}],
                   "datasets": [{"id": "test@1", "n": 12345}],
                   "subgroups": [{"group": "age<25", "metric": "auc", "value": 0.77, "n": 1500}],
                   "passed": true}),
        ),
        ev(
            "x1",
            "2026-03-01T00:00:00Z",
            "model.retired",
            "model_version:m@2",
            json!({"reason": "superseded"}),
        ),
        with(
            ev(
                "d2",
                "2026-03-02T00:00:00Z",
                "deployment.started",
                "deployment:shadow",
                json!({"model_version": "m@9"}),
            ),
            "env",
            json!("staging"),
        ),
    ];
    check_events(&events, SR)
}

#[test]
fn the_inventory_lists_models_versions_status_and_review_dates() {
    let site = case().site();
    let html = page(&site, "models/index.html");
    assert!(
        html.contains("id=\"model-m\""),
        "the model's anchor: {html}"
    );
    assert!(html.contains("href=\"../models/m/1.html\""));
    assert!(html.contains("href=\"../models/m/2.html\""));
    assert!(html.contains("href=\"../models/m/9.html\""));
    let v1 = row(&html, "models/m/1.html");
    assert!(v1.contains(">in use<"), "{v1}");
    assert!(v1.contains("approve by carol"), "{v1}");
    // The review stated for 2026-05-01 has passed at the as-of time (2026-06-01).
    assert!(
        v1.contains(">overdue<") && v1.contains("31 d overdue"),
        "{v1}"
    );
    let v2 = row(&html, "models/m/2.html");
    assert!(v2.contains(">retired<"), "{v2}");
    let v9 = row(&html, "models/m/9.html");
    assert!(
        v9.contains("unregistered") && v9.contains(">development<"),
        "{v9}"
    );
    assert!(
        v9.contains("shadow"),
        "served by a deployment outside production: {v9}"
    );
}

#[test]
fn a_version_card_renders_markdown_inert_and_marks_completeness() {
    let case = case();
    let site = case.site();
    let html = page(&site, "models/m/2.html");
    // The changelog is Markdown; the planted markup stays text.
    assert!(html.contains("<strong>Retrained</strong>"), "{html}");
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    // artifact_digest is required by MOD-01 and missing; the MOD-01 finding is linked.
    let digest = row(&html, "<code>artifact_digest</code>");
    assert!(
        digest.contains("st-missing") && digest.contains("MOD-01 (a)"),
        "{digest}"
    );
    let owner = row(&html, "<code>owner</code>");
    assert!(
        owner.contains("st-present") && owner.contains("risk-team"),
        "{owner}"
    );
    let f = case
        .of("MOD-01")
        .into_iter()
        .find(|f| f.subject == "model_version:m@2" && f.discriminator == "a")
        .expect("MOD-01 (a) fires");
    assert!(
        html.contains(&format!("href=\"../../findings.html#f-{}\"", f.id)),
        "{html}"
    );
    // Evaluation with sample sizes and subgroups; retirement; datasets by role.
    assert!(
        html.contains("12\u{202f}345") && html.contains("1\u{202f}500"),
        "{html}"
    );
    assert!(html.contains("age&lt;25"));
    assert!(html.contains("0.8 – 0.82"));
    assert!(html.contains("superseded"));
    assert!(html.contains(">retired<"));
}

#[test]
fn a_version_card_diffs_against_its_parent() {
    let site = case().site();
    let html = page(&site, "models/m/2.html");
    let diff = &html[html.find("id=\"diff\"").expect("diff section")..];
    assert!(diff.contains("href=\"../../models/m/1.html\""), "{diff}");
    let owner = row(diff, "<code>owner</code>");
    assert!(
        owner.contains(">risk<") && owner.contains(">risk-team<"),
        "{owner}"
    );
    let runtime = row(diff, "<code>runtime.version</code>");
    assert!(
        runtime.contains(">3.11<") && runtime.contains(">3.12<"),
        "{runtime}"
    );
    let digest = row(diff, "<code>artifact_digest</code>");
    assert!(
        digest.contains("sha256:aa") && digest.contains("not recorded"),
        "{digest}"
    );
    assert!(
        !diff.contains("<code>runtime.language</code>"),
        "unchanged keys are not rows"
    );
    assert!(!diff.contains("<code>intended_purpose</code>"));
    let added = row(diff, ">added<");
    assert!(
        added.contains("test@1") && added.contains(">test<"),
        "{added}"
    );
    assert!(!diff.contains(">removed<"), "{diff}");
}

#[test]
fn a_version_card_shows_promotions_deployments_and_lineage() {
    let site = case().site();
    let html = page(&site, "models/m/1.html");
    assert!(html.contains("Path: staging → production"), "{html}");
    let p = row(&html, "staging → production</td>");
    assert!(p.contains("matches"), "{p}");
    assert!(
        p.contains("href=\"../../events/1.html#e1\"") && p.contains("approve by carol"),
        "{p}"
    );
    assert!(html.contains("href=\"../../deployments.html#deployment-prod\""));
    assert!(html.contains("still serving at the as-of time"));
    assert!(html.contains("<svg"), "the lineage drawing");
    assert!(html.contains("(this page)"));
    // The first version has no parent.
    assert!(html.contains("No parent version is recorded"));
}

#[test]
fn an_unregistered_version_has_a_card_that_says_so() {
    let site = case().site();
    let html = page(&site, "models/m/9.html");
    assert!(
        html.contains("This model version is not registered"),
        "{html}"
    );
    assert!(
        html.contains("href=\"../../events/1.html#e7\""),
        "the referring event: {html}"
    );
    assert!(html.contains("Not registered: there is nothing to compare."));
}
