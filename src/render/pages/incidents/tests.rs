use serde_json::{Value, json};

use crate::render::pages::models::tests::row;
use crate::testing::{check_events, ev, page, with};

const EVIL: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>";

fn sys(e: Value) -> Value {
    with(e, "system", json!("credit"))
}

fn provider() -> Value {
    sys(ev(
        "s1",
        "2025-01-01T00:00:00Z",
        "system.registered",
        "system:credit",
        json!({"name": "Credit", "role": "provider", "risk": "high", "annex_iii_point": "5(b)"}),
    ))
}

fn inc_event(id: &str, ts: &str, kind: &str, inc: &str, attrs: Value) -> Value {
    sys(ev(id, ts, kind, &format!("incident:{inc}"), attrs))
}

#[test]
fn a_late_serious_incident_report_shows_on_the_clock() {
    let events = [
        provider(),
        sys(ev(
            "a1",
            "2026-03-01T07:00:00Z",
            "monitoring.alert",
            "deployment:prod",
            json!({"metric": "psi", "severity": "high", "disposition": "incident", "incident": "i1"}),
        )),
        inc_event(
            "o1",
            "2026-03-01T09:00:00Z",
            "incident.opened",
            "i1",
            json!({"title": format!("Harm {EVIL}"), "serious": true, "category": "death",
                   "awareness_ts": "2026-03-01T08:00:00Z",
                   "affects": ["model_version:m@1", "deployment:prod"],
                   "evidence": ["a1", "nope"],
                   "root_cause": format!("*Bad* data {EVIL}")}),
        ),
        inc_event(
            "n1",
            "2026-03-12T00:00:00Z",
            "incident.notified",
            "i1",
            json!({"recipient": "authority", "report_type": "complete", "reference": "MSA-1"}),
        ),
    ];
    let extra = "[policy]\npacks = [\"eu-ai-act-provider\"]\n[policy.pack.eu-ai-act-provider]\neffective_from = \"2026-01-01\"\n[report]\nas_of = \"2026-04-01T00:00:00Z\"\n";
    let case = check_events(&events, extra);
    let site = case.site();
    let html = page(&site, "incidents/i1.html");
    // The title and root cause carry planted markup, rendered as text.
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(html.contains("Harm &lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x"));
    assert!(
        html.contains("<em>Bad</em> data"),
        "root cause is Markdown: {html}"
    );
    // Death: 10 days from awareness; notified 16 h after the deadline.
    let clock = row(&html, "Art. 73)");
    assert!(clock.contains("2026-03-11T08:00:00Z"), "{clock}");
    assert!(
        clock.contains("st-late") && clock.contains("16 h after the deadline"),
        "{clock}"
    );
    assert!(
        clock.contains("href=\"../events/1.html#e3\""),
        "the notice: {clock}"
    );
    assert!(clock.contains("INC-03"), "{clock}");
    // Affected entities, evidence, the alert that raised it, and the INC-03 finding.
    assert!(html.contains("href=\"../models/m/1.html\""));
    assert!(html.contains("href=\"../deployments.html#deployment-prod\""));
    let a1 = row(&html, ">a1</a>");
    assert!(a1.contains("monitoring.alert"), "{a1}");
    assert!(row(&html, "<code>nope</code>").contains("not an event of this report"));
    assert!(html.contains("disposition") || html.contains(">incident<"));
    let f = &case.of("INC-03")[0];
    assert!(
        html.contains(&format!("href=\"../findings.html#f-{}\"", f.id)),
        "{html}"
    );
    let index = page(&site, "incidents/index.html");
    let r = row(&index, "incidents/i1.html");
    assert!(r.contains("st-late") && !r.contains("<img src=x"), "{r}");
}

#[test]
fn breach_clocks_show_overdue_due_and_not_required() {
    let breach = |id: &str, inc: &str, aware: &str, extra: Value| {
        let mut attrs = json!({"title": inc, "personal_data_breach": true, "awareness_ts": aware});
        for (k, v) in extra.as_object().unwrap() {
            attrs[k] = v.clone();
        }
        inc_event(id, aware, "incident.opened", inc, attrs)
    };
    let events = [
        breach("b1", "late-one", "2026-03-01T09:00:00Z", json!({})),
        breach("b2", "running", "2026-03-04T12:00:00Z", json!({})),
        with(
            breach("b3", "harmless", "2026-03-04T13:00:00Z", json!({})),
            "rationale",
            json!({"reason_codes": ["unlikely_risk"]}),
        ),
    ];
    let case = check_events(
        &events,
        "[policy]\npacks = [\"gdpr\"]\n[report]\nas_of = \"2026-03-05T00:00:00Z\"\n",
    );
    let site = case.site();
    let overdue = page(&site, "incidents/late-one.html");
    let c = row(&overdue, "GDPR Art. 33");
    assert!(
        c.contains("2026-03-04T09:00:00Z"),
        "72 h after awareness: {c}"
    );
    assert!(
        c.contains("st-overdue") && c.contains("15 h past the deadline"),
        "{c}"
    );
    let running = page(&site, "incidents/running.html");
    let c = row(&running, "GDPR Art. 33");
    assert!(c.contains("st-due") && c.contains("2 d 12 h left"), "{c}");
    let harmless = page(&site, "incidents/harmless.html");
    let c = row(&harmless, "GDPR Art. 33");
    assert!(
        c.contains("not required") && c.contains("unlikely_risk"),
        "{c}"
    );
    let index = page(&site, "incidents/index.html");
    assert!(row(&index, "late-one.html").contains("st-overdue"));
    assert!(row(&index, "running.html").contains("st-due"));
}

#[test]
fn an_unrecorded_incident_named_by_an_alert_has_a_page_that_says_so() {
    let events = [sys(ev(
        "a1",
        "2026-03-01T07:00:00Z",
        "monitoring.alert",
        "deployment:prod",
        json!({"metric": "psi", "disposition": "incident", "incident": "ghost", "note": "drift"}),
    ))];
    let case = check_events(&events, "");
    let site = case.site();
    let html = page(&site, "incidents/ghost.html");
    assert!(html.contains("This incident is not recorded"), "{html}");
    assert!(row(&html, "drift").contains("href=\"../deployments.html#deployment-prod\""));
    assert!(html.contains("href=\"../events/1.html#e0\""));
    let index = page(&site, "incidents/index.html");
    assert!(
        index.contains("href=\"../incidents/ghost.html\""),
        "{index}"
    );
}

#[test]
fn the_incident_index_is_paginated() {
    let events: Vec<Value> = (0..1001)
        .map(|n| {
            inc_event(
                &format!("o{n}"),
                "2026-03-01T09:00:00Z",
                "incident.opened",
                &format!("inc-{n:04}"),
                json!({"title": "t"}),
            )
        })
        .collect();
    let site = check_events(&events, "").site();
    let first = page(&site, "incidents/index.html");
    let second = page(&site, "incidents/index-2.html");
    assert!(first.contains("Incidents 1–1000 of 1001"), "{first}");
    assert!(second.contains("Incidents 1001–1001 of 1001"), "{second}");
    assert!(second.contains("href=\"../incidents/inc-1000.html\""));
    assert!(!first.contains("href=\"../incidents/inc-1000.html\""));
    assert!(
        first.contains("href=\"../incidents/index-2.html\""),
        "pager"
    );
    assert!(!site.files.contains_key("incidents/index-3.html"));
}
