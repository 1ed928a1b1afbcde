use serde_json::json;

use super::parse_card_date;
use crate::ingest::mlflow::testkit::{counts, events, find, read, reasons};

/// A card shaped like the Model Card Toolkit's own test data, written for trailbook.
const CARD: &str = r#"{
  "schema_version": "0.0.2",
  "model_details": {
    "name": "loan-default",
    "overview": "Predicts 90-day default of consumer loans.",
    "owners": [{"name": "Risk Analytics", "contact": "risk@bank.example"}],
    "version": {"name": "2.1.0", "date": "March 3, 2026", "diff": "Added bureau features."},
    "licenses": [{"identifier": "proprietary"}],
    "references": [{"reference": "https://reviewer:Pa55word@wiki.bank.example/loan-default"}],
    "citation": {"citation": "internal report RA-17"}
  },
  "model_parameters": {
    "model_architecture": "gradient boosted trees",
    "data": [{"name": "loans-2025", "link": "s3://lake/loans/2025",
              "graphics": {"collection": [{"name": "histogram", "image": "iVBORw0KGgoAAAANSUhEUg=="}]}}],
    "input_format": "bureau fields v3"
  },
  "quantitative_analysis": {
    "performance_metrics": [
      {"type": "auc", "value": "0.84", "confidence_interval": {"lower_bound": "0.82", "upper_bound": "0.86"}},
      {"type": "auc", "value": "0.79", "slice": "age<25"},
      {"type": "notes", "value": "see report"}
    ]
  },
  "considerations": {
    "users": [{"description": "credit officers"}],
    "use_cases": [{"description": "pre-screening of consumer loan applications"}],
    "limitations": [{"description": "not for business loans"}, {"description": "not validated outside the EU"}],
    "ethical_considerations": [{"name": "proxy discrimination", "mitigation_strategy": "subgroup monitoring"}]
  }
}"#;

#[test]
fn a_card_registers_and_evaluates_its_version() {
    let outs = read(
        "model-card",
        &[("cards/loan-default.json", CARD.as_bytes())],
    );
    assert_eq!(counts(&outs[0]), (2, 2, 0, 0));
    let ev = events(&outs);
    let reg = find(&ev, "model.registered", "loan-default@2.1.0");
    let a = &reg["attrs"];
    assert_eq!(reg["ts"], "2026-03-03T00:00:00Z");
    assert_eq!(reg["actor"], json!({"id": "model-card", "type": "system"}));
    assert_eq!(a["model"], "loan-default");
    assert_eq!(a["version"], "2.1.0");
    assert_eq!(a["version_date"], "March 3, 2026");
    assert_eq!(a["owner"], "Risk Analytics");
    assert_eq!(a["changelog"], "Added bureau features.");
    assert_eq!(
        a["intended_purpose"],
        "pre-screening of consumer loan applications"
    );
    assert_eq!(
        a["limitations"],
        json!(["not for business loans", "not validated outside the EU"])
    );
    assert_eq!(a["intended_users"], json!(["credit officers"]));
    assert_eq!(a["architecture"], "gradient boosted trees");
    assert_eq!(a["input_spec"], "bureau fields v3");
    assert_eq!(a["licenses"], json!(["proprietary"]));
    assert_eq!(
        a["references"],
        json!(["https://wiki.bank.example/loan-default"])
    );
    // Schema drift: a singular `citation` object is kept, not dropped.
    assert_eq!(
        a["raw_extra"]["model_details"]["citation"],
        json!({"citation": "internal report RA-17"})
    );
    let img = &a["data"][0]["graphics"]["collection"][0];
    assert!(img["image"].is_null());
    assert_eq!(img["image_bytes"], 24);
    assert!(img["image_sha256"].as_str().unwrap().starts_with("sha256:"));

    let eval = find(&ev, "model.evaluated", "loan-default@2.1.0");
    let e = &eval["attrs"];
    assert_eq!(
        e["metrics"],
        json!([{"name": "auc", "value": 0.84, "ci_low": 0.82, "ci_high": 0.86}])
    );
    assert_eq!(
        e["subgroups"],
        json!([{"group": "age<25", "metric": "auc", "value": 0.79}])
    );
    assert_eq!(
        e["raw_extra"]["performance_metrics"][0]["entry"]["value"],
        "see report"
    );
    assert_eq!(
        e["origin"]["pointer"],
        "/quantitative_analysis/performance_metrics"
    );
    assert!(e["report_digest"].as_str().unwrap().starts_with("sha256:"));
    let o = outs[0].events[1].origin;
    assert_eq!(o.line, 19, "the performance metrics' line");
    assert!(!serde_json::to_string(&ev).unwrap().contains("Pa55word"));
}

#[test]
fn dates_are_read_only_when_unambiguous() {
    let ok = |s: &str| {
        parse_card_date(s)
            .map(|(t, p)| format!("{} {p}", crate::time::fmt(t)))
            .unwrap_or_else(|e| format!("ERR {e}"))
    };
    assert_eq!(ok("2020-01-01"), "2020-01-01T00:00:00Z day");
    assert_eq!(ok("2020/02/02"), "2020-02-02T00:00:00Z day");
    assert_eq!(ok("20200202"), "2020-02-02T00:00:00Z day");
    assert_eq!(ok("2021-03"), "2021-03-01T00:00:00Z month");
    assert_eq!(ok("March 2021"), "2021-03-01T00:00:00Z month");
    assert_eq!(ok("March 3, 2021"), "2021-03-03T00:00:00Z day");
    assert_eq!(ok("Mar. 3rd 2021"), "2021-03-03T00:00:00Z day");
    assert_eq!(ok("3 Sept 2021"), "2021-09-03T00:00:00Z day");
    assert_eq!(ok("2021-03-02T10:00:00+01:00"), "2021-03-02T09:00:00Z time");
    assert!(
        ok("02/03/2021").contains("ambiguous"),
        "{}",
        ok("02/03/2021")
    );
    assert!(ok("2021-03-02 10:00").starts_with("ERR"), "no zone");
    assert!(ok("Marchember 3, 2021").starts_with("ERR"));
    assert!(ok("2021/02/30").starts_with("ERR"), "impossible date");
    assert!(
        ok("1614729600").starts_with("ERR"),
        "a bare number is not a card date"
    );
}

#[test]
fn cards_that_cannot_name_a_version_or_a_time() {
    let no_version = CARD.replace(r#""name": "2.1.0", "#, "");
    let ambiguous = CARD.replace("March 3, 2026", "03/04/2026");
    let no_date = CARD.replace(r#""date": "March 3, 2026", "#, "");
    let sliced_only = CARD
        .replace(r#"{"type": "auc", "value": "0.84", "confidence_interval": {"lower_bound": "0.82", "upper_bound": "0.86"}},"#, "")
        .replace(r#",
      {"type": "notes", "value": "see report"}"#, "");
    let outs = read(
        "model-card",
        &[
            ("a.json", no_version.as_bytes()),
            ("b.json", ambiguous.as_bytes()),
            ("c.json", no_date.as_bytes()),
            ("d.json", sliced_only.as_bytes()),
        ],
    );
    let r = reasons(&outs);
    assert_eq!(counts(&outs[0]), (2, 0, 2, 0), "card and its metrics");
    assert!(
        r[0].contains("`model_details.version.name` missing"),
        "{}",
        r[0]
    );
    assert!(r[1].contains("quarantined"), "{}", r[1]);
    assert!(r[2].contains("`03/04/2026` is ambiguous"), "{}", r[2]);
    assert!(
        r[4].contains("has no `model_details.version.date`"),
        "{}",
        r[4]
    );
    assert_eq!(counts(&outs[3]), (2, 1, 1, 0));
    assert!(r[6].contains("no overall value"), "{}", r[6]);
}

#[test]
fn not_cards_and_broken_cards() {
    let pbtxt = "# proto-message: ModelCard\n\nmodel_details: {\n  name: \"x\"\n}\n";
    let proto = "syntax = \"proto2\";\n\npackage x.proto;\n\nmessage Owner {\n  optional string name = 1;\n}\n";
    let schema = r#"{"$schema": "http://json-schema.org/draft-07/schema#", "title": "Model Card", "properties": {}}"#;
    let dup = r#"{"model_details": {"name": "a", "name": "b"}}"#;
    let template = CARD.replace("loan-default", "{{ model_name }}");
    let broken = "{\n  \"model_details\": {\n    \"name\": \"x\",\n  }\n}";
    let not_card = r#"{"title": "a report"}"#;
    let two = format!(
        "[{CARD}, {}]",
        CARD.replace(r#""name": "2.1.0""#, r#""name": 22"#)
    );
    let outs = read(
        "model-card",
        &[
            ("full.pbtxt", pbtxt.as_bytes()),
            ("model_card.proto", proto.as_bytes()),
            ("schema.json", schema.as_bytes()),
            ("dup.json", dup.as_bytes()),
            ("template.json", template.as_bytes()),
            ("broken.json", broken.as_bytes()),
            ("other.json", not_card.as_bytes()),
            ("two.json", two.as_bytes()),
            ("empty.json", b""),
        ],
    );
    let r = reasons(&outs);
    assert!(
        r[0].contains("text protobuf") && r[0].contains("export the card as JSON"),
        "{}",
        r[0]
    );
    assert!(r[1].contains("protobuf schema"), "{}", r[1]);
    assert!(r[2].contains("a JSON schema, not a model card"), "{}", r[2]);
    assert!(r[3].contains("duplicate key `name`"), "{}", r[3]);
    assert!(r[4].contains("template placeholder"), "{}", r[4]);
    assert!(r[5].contains("invalid JSON"), "{}", r[5]);
    assert_eq!(outs[5].quarantine[0].origin.line, 4);
    assert!(r[6].contains("no `model_details`"), "{}", r[6]);
    assert_eq!(counts(&outs[7]), (4, 4, 0, 0));
    let ev = events(&outs);
    assert_eq!(
        find(&ev, "model.registered", "loan-default@22")["attrs"]["origin"]["pointer"],
        "/1"
    );
    assert_eq!(counts(&outs[8]), (0, 0, 0, 0));
}
