use serde_json::json;

use crate::event::{EntityType, NodeId};
use crate::render::links;
use crate::testing::{check_events, ev, page, with};

fn sys(e: serde_json::Value) -> serde_json::Value {
    with(e, "system", json!("credit"))
}

#[test]
fn a_dataset_page_shows_origin_runs_quality_and_consumers() {
    let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>";
    let events = [
        sys(ev(
            "d1",
            "2026-01-01T00:00:00Z",
            "dataset.registered",
            "dataset:raw/loans@1",
            json!({"name": "loans", "version": "1", "rows": 1200, "digest": "sha256:aa",
                   "origin": {"source": evil, "legal_basis": "contract"},
                   "schema": [{"name": "amount", "type": "decimal"}]}),
        )),
        sys(ev(
            "r1",
            "2026-01-02T00:00:00Z",
            "run.completed",
            "run:build-1",
            json!({"job": "build", "status": "completed",
                   "inputs": ["dataset:raw/loans@1"], "outputs": ["dataset:train@1"],
                   "code": {"repo": "git@x:y", "commit": "abc123", "path": "build.py"}}),
        )),
        sys(ev(
            "d2",
            "2026-01-02T01:00:00Z",
            "dataset.registered",
            "dataset:train@1",
            json!({"name": "train", "version": "1"}),
        )),
        sys(ev(
            "q1",
            "2026-01-03T00:00:00Z",
            "dataset.quality_assessed",
            "dataset:raw/loans@1",
            json!({"checks": [{"name": "nulls", "passed": false}], "bias_examined": true}),
        )),
        sys(ev(
            "m1",
            "2026-01-04T00:00:00Z",
            "model.registered",
            "model_version:m@1",
            json!({"model": "m", "version": "1", "datasets": [{"id": "raw/loans@1", "role": "test"}, {"id": "gone@1", "role": "train"}]}),
        )),
    ];
    let case = check_events(&events, "");
    let site = case.site();
    let href = |id: &str| links::href(&NodeId::new(EntityType::Dataset, id)).unwrap();
    let html = page(&site, &href("raw/loans@1"));
    assert!(html.contains("contract"), "{html}");
    assert!(!html.contains("<img src=x"), "log values are inert");
    assert!(!html.contains("<script>alert"), "log values are inert");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // Consumed by the run, with its code; quality check failed; trained into m@1 as test.
    assert!(
        html.contains("href=\"../lineage.html#run-build-1\""),
        "{html}"
    );
    assert!(html.contains("git@x:y @ abc123 (build.py)"));
    assert!(html.contains("nulls"));
    assert!(html.contains("st-fail"));
    assert!(html.contains("href=\"../models/m/1.html\""));
    assert!(html.contains(">test<"), "{html}");
    assert!(html.contains("1\u{202f}200"), "row count grouped");
    // The output dataset names the run that produced it.
    let train = page(&site, &href("train@1"));
    assert!(train.contains("href=\"../lineage.html#run-build-1\""));
    // An unregistered dataset still has a page that says so.
    let gone = page(&site, &href("gone@1"));
    assert!(gone.contains("not registered"), "{gone}");
    assert!(gone.contains("href=\"../events/1.html#e4\""), "{gone}");
    // The index lists all three.
    let index = page(&site, "datasets/index.html");
    for id in ["raw/loans@1", "train@1", "gone@1"] {
        assert!(
            index.contains(&format!("href=\"../{}\"", href(id))),
            "{index}"
        );
    }
}
