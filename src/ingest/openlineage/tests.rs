use std::path::Path;

use serde_json::{Value, json};

use super::*;
use crate::config::{ChainMode, Source};
use crate::event::Event;

fn source() -> Source {
    Source {
        name: "lineage".into(),
        format: "openlineage".into(),
        paths: vec![],
        chain: ChainMode::Optional,
        anchor: None,
        first_seq: 1,
        map: Default::default(),
    }
}

/// Reads `(path, text)` files as one source.
fn read_files(files: &[(&str, &str)]) -> Vec<FileOut> {
    let config = source();
    let cx = Cx {
        source: 0,
        config: &config,
    };
    let inputs: Vec<InputFile<'_>> = files
        .iter()
        .enumerate()
        .map(|(i, (path, text))| InputFile {
            index: i as u32,
            path,
            abs: Path::new(path),
            bytes: text.as_bytes(),
        })
        .collect();
    let outs = read(&cx, &inputs);
    for (out, (path, _)) in outs.iter().zip(files) {
        assert_eq!(
            out.records,
            out.events.len() as u64 + out.quarantine.len() as u64 + out.folded,
            "{path}: records = events + quarantined + folded ({out:?})"
        );
    }
    outs
}

fn attrs(e: &Event) -> Value {
    serde_json::from_str(e.attrs.get()).unwrap()
}

fn events(outs: &[FileOut]) -> Vec<&Event> {
    outs.iter().flat_map(|o| &o.events).collect()
}

fn runs(outs: &[FileOut]) -> Vec<&Event> {
    events(outs)
        .into_iter()
        .filter(|e| e.kind == "run.completed")
        .collect()
}

fn datasets(outs: &[FileOut]) -> Vec<&Event> {
    events(outs)
        .into_iter()
        .filter(|e| e.kind == "dataset.registered")
        .collect()
}

fn reasons(outs: &[FileOut]) -> Vec<String> {
    outs.iter()
        .flat_map(|o| &o.quarantine)
        .map(|q| q.reason.clone())
        .collect()
}

fn ev(run: &str, ty: Option<&str>, time: &str, extra: Value) -> Value {
    let mut e = json!({
        "eventTime": time,
        "producer": "https://example.org/etl/1.0",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run, "facets": {}},
        "job": {"namespace": "etl", "name": "build_loans", "facets": {}},
    });
    if let Some(t) = ty {
        e["eventType"] = json!(t);
    }
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

fn ds(ns: &str, name: &str, facets: Value) -> Value {
    json!({"namespace": ns, "name": name, "facets": facets})
}

fn ndjson(items: &[Value]) -> String {
    items
        .iter()
        .map(|v| serde_json::to_string(v).unwrap() + "\n")
        .collect()
}

#[test]
fn start_running_complete_fold_into_one_run_with_its_datasets() {
    let input = ds(
        "postgres://db:5432",
        "public.applications",
        json!({
            "schema": {"_producer": "x", "fields": [{"name": "id", "type": "INT"}]}
        }),
    );
    let output = ds("s3://lake", "curated/loans", json!({}));
    let text = ndjson(&[
        ev(
            "r1",
            Some("START"),
            "2026-01-10T09:00:00.123456+01:00",
            json!({"inputs": [input.clone()], "outputs": [output.clone()]}),
        ),
        ev("r1", Some("RUNNING"), "2026-01-10T08:30:00Z", json!({})),
        ev(
            "r1",
            Some("COMPLETE"),
            "2026-01-10T08:45:00.5Z",
            json!({"inputs": [input], "outputs": [output]}),
        ),
    ]);
    let outs = read_files(&[("etl.ndjson", &text)]);
    let out = &outs[0];
    assert_eq!(out.records, 3 + 4, "3 events and their 4 dataset objects");
    assert_eq!(
        (out.events.len(), out.quarantine.len(), out.folded),
        (3, 0, 4)
    );
    let run = runs(&outs)[0];
    let a = attrs(run);
    assert_eq!(run.id, "ol:r1");
    assert_eq!(run.subject.as_ref().unwrap().id, "r1");
    assert_eq!(crate::time::fmt(run.ts), "2026-01-10T08:45:00.5Z");
    assert_eq!(a["status"], "completed");
    assert_eq!(a["job"], "etl/build_loans");
    assert_eq!(a["started_ts"], "2026-01-10T08:00:00.123456Z");
    let inputs = a["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1);
    assert!(
        inputs[0]
            .as_str()
            .unwrap()
            .starts_with("dataset:postgres://db:5432/public.applications@ol-")
    );
    assert!(
        a["outputs"][0]
            .as_str()
            .unwrap()
            .starts_with("dataset:s3://lake/curated/loans@ol-")
    );
    assert_eq!(a["records"].as_array().unwrap().len(), 3);
    assert_eq!(a["origin"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(run.origin.line, 3, "the terminal record states the run");
    // One registration per dataset version, stated by the terminal record's object.
    let ds = datasets(&outs);
    assert_eq!(ds.len(), 2);
    let input_reg = ds
        .iter()
        .find(|e| attrs(e)["name"] == "postgres://db:5432/public.applications")
        .unwrap();
    assert_eq!(
        attrs(input_reg)["schema"],
        json!([{"name": "id", "type": "INT"}])
    );
    assert_eq!(attrs(input_reg)["origin"]["pointer"], "/inputs/0");
    assert_eq!(
        format!("dataset:{}", input_reg.subject.as_ref().unwrap().id),
        inputs[0].as_str().unwrap()
    );
    // The dataset object's own bytes are its origin.
    let o = input_reg.origin;
    let bytes = &text.as_bytes()[o.offset as usize..(o.offset + o.len) as usize];
    assert!(
        bytes.starts_with(b"{\"facets\"") || bytes.starts_with(b"{\"name\""),
        "{}",
        String::from_utf8_lossy(bytes)
    );
    assert_eq!(o.line, 3);
}

#[test]
fn layouts_object_array_and_ndjson_read_the_same() {
    let one = ev("r2", Some("COMPLETE"), "2026-02-01T00:00:00Z", json!({}));
    let object = serde_json::to_string_pretty(&one).unwrap();
    let array = serde_json::to_string_pretty(&json!([
        one.clone(),
        ev("r3", Some("FAIL"), "2026-02-01T00:00:01Z", json!({}))
    ]))
    .unwrap();
    let outs = read_files(&[
        ("a.json", &object),
        ("b.json", &array),
        ("c.ndjson", &ndjson(std::slice::from_ref(&one))),
    ]);
    // r2 is in all three files: the last copy (by time, then file order) states it.
    assert_eq!((outs[0].events.len(), outs[0].folded), (0, 1));
    assert_eq!(outs[2].events.len(), 1);
    assert_eq!(outs[1].events.len(), 1, "r3 is an event; r2 is folded");
    assert_eq!(outs[1].records, 2);
    let r3 = outs[1].events.iter().find(|e| e.id == "ol:r3").unwrap();
    assert_eq!(attrs(r3)["origin"]["pointer"], "/1");
    let o = r3.origin;
    let element: Value =
        serde_json::from_str(&array[o.offset as usize..(o.offset + o.len) as usize]).unwrap();
    assert_eq!(
        element["run"]["runId"], "r3",
        "the origin is the element's bytes"
    );
    assert_eq!(
        o.line as usize,
        array[..o.offset as usize].matches('\n').count() + 1
    );
    assert_eq!(attrs(r3)["status"], "failed");
    let r2 = runs(&outs).into_iter().find(|e| e.id == "ol:r2").unwrap();
    let warnings = attrs(r2)["warnings"].to_string();
    assert!(warnings.contains("3 terminal records"), "{warnings}");
}

#[test]
fn fail_abort_error_message_and_untyped_events() {
    let fail = ev(
        "f1",
        Some("FAIL"),
        "2026-03-01T10:00:00Z",
        json!({
            "run": {"runId": "f1", "facets": {"errorMessage": {
                "_producer": "p", "message": "OutOfMemoryError in stage 3",
                "programmingLanguage": "JAVA", "stackTrace": "at org.example.Main"}}}
        }),
    );
    let abort = ev("a1", Some("ABORT"), "2026-03-01T10:00:00Z", json!({}));
    let untyped = ev("u1", None, "2026-03-01T10:00:00.641499Z", json!({}));
    let outs = read_files(&[("x.ndjson", &ndjson(&[fail, abort, untyped]))]);
    let by = |id: &str| runs(&outs).into_iter().find(|e| e.id == id).unwrap();
    let f = by("ol:f1");
    assert_eq!(attrs(f)["status"], "failed");
    assert_eq!(f.reason(), Some("OutOfMemoryError in stage 3"));
    assert_eq!(
        attrs(f)["error"],
        json!({"message": "OutOfMemoryError in stage 3", "language": "JAVA"})
    );
    assert_eq!(
        attrs(f)["raw_extra"]["run"]["facets"]["errorMessage"],
        json!({"stackTrace": "at org.example.Main"}),
        "the unmapped part of a facet is kept"
    );
    assert_eq!(attrs(by("ol:a1"))["status"], "aborted");
    let u = attrs(by("ol:u1"));
    assert_eq!(u["status"], "completed");
    assert!(
        u["warnings"][0]
            .as_str()
            .unwrap()
            .contains("has no `eventType`: read as COMPLETE")
    );
}

#[test]
fn a_run_without_terminal_event_is_quarantined_once() {
    let text = ndjson(&[
        ev(
            "s1",
            Some("START"),
            "2026-01-01T00:00:00Z",
            json!({"inputs": [ds("db", "t", json!({}))]}),
        ),
        ev("s1", Some("RUNNING"), "2026-01-01T00:01:00Z", json!({})),
    ]);
    let outs = read_files(&[("s.ndjson", &text)]);
    assert!(outs[0].events.is_empty());
    assert_eq!(outs[0].quarantine.len(), 1);
    assert_eq!(outs[0].quarantine[0].origin.line, 2, "at its last record");
    let r = &outs[0].quarantine[0].reason;
    assert!(
        r.contains("run `s1`") && r.contains("no COMPLETE, FAIL or ABORT"),
        "{r}"
    );
    assert!(r.contains("s.ndjson:1"), "names the folded records: {r}");
    assert_eq!(outs[0].folded, 2, "the START and its dataset object");
}

#[test]
fn a_run_folds_across_files() {
    let start = ndjson(&[ev("x1", Some("START"), "2026-01-01T00:00:00Z", json!({}))]);
    let done = ndjson(&[ev(
        "x1",
        Some("COMPLETE"),
        "2026-01-01T01:00:00Z",
        json!({}),
    )]);
    let outs = read_files(&[("a-start.ndjson", &start), ("b-done.ndjson", &done)]);
    assert_eq!((outs[0].events.len(), outs[0].folded), (0, 1));
    assert_eq!(outs[1].events.len(), 1);
    assert_eq!(
        attrs(&outs[1].events[0])["started_ts"],
        "2026-01-01T00:00:00Z"
    );
    // Listing the files in the other order changes nothing.
    let again = read_files(&[("b-done.ndjson", &done), ("a-start.ndjson", &start)]);
    assert_eq!(
        again[0].events[0].attrs.get(),
        outs[1].events[0].attrs.get()
    );
}

#[test]
fn bad_records_are_quarantined_with_reasons_and_places() {
    let good = serde_json::to_string(&ev(
        "g1",
        Some("COMPLETE"),
        "2026-01-01T00:00:00Z",
        json!({}),
    ))
    .unwrap();
    let dup = r#"{"eventType":"COMPLETE","eventType":"FAIL","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"d"},"job":{"namespace":"n","name":"j"}}"#;
    let placeholder = r#"{"eventType":"FAIL","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"${json-unit.any-string}"},"job":{"namespace":"n","name":"j"}}"#;
    let zoneless = r#"{"eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00","run":{"runId":"z"},"job":{"namespace":"n","name":"j"}}"#;
    let no_time =
        r#"{"eventType":"COMPLETE","run":{"runId":"t"},"job":{"namespace":"n","name":"j"}}"#;
    let no_job =
        r#"{"eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"j"}}"#;
    let weird_type = r#"{"eventType":"DONE","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"w"},"job":{"namespace":"n","name":"j"}}"#;
    let nameless = r#"{"eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"nl"},"job":{"namespace":"n","name":"j"},"inputs":[{"namespace":"db"}]}"#;
    let text = [
        good.as_str(),
        "{not json",
        dup,
        placeholder,
        zoneless,
        no_time,
        no_job,
        weird_type,
        nameless,
        "[1,2]",
    ]
    .join("\n");
    let outs = read_files(&[("bad.ndjson", &text)]);
    let q: Vec<(u64, String)> = outs[0]
        .quarantine
        .iter()
        .map(|q| (q.origin.line, q.reason.clone()))
        .collect();
    let find = |line: u64| {
        q.iter()
            .find(|(l, _)| *l == line)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("line {line} not quarantined: {q:?}"))
    };
    assert!(find(2).contains("invalid JSON"));
    assert!(find(3).contains("duplicate key `eventType`"));
    assert!(find(4).contains("template placeholder `${json-unit.any-string}` at `/run/runId`"));
    assert!(find(5).contains("no time zone"));
    assert!(find(6).contains("no `eventTime`"));
    assert!(find(7).contains("`job` needs a `namespace` and a `name`"));
    assert!(find(8).contains("unknown `eventType` `DONE`"));
    assert!(find(9).contains("dataset `/inputs/0` has no `namespace` and `name`"));
    assert!(find(10).contains("expected a JSON object"));
    assert_eq!(
        runs(&outs).len(),
        2,
        "g1, and nl without its nameless dataset"
    );
}

#[test]
fn a_json_schema_is_quarantined_not_read() {
    let schema = r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": {"RunEvent": {"type": "object"}}}"#;
    let outs = read_files(&[("OpenLineage.json", schema)]);
    assert!(reasons(&outs)[0].contains("JSON Schema document"));
}

#[test]
fn credentials_in_uris_appear_nowhere() {
    let input = ds(
        "postgres://etl_user:S3cretPassw0rd@db.internal:5432",
        "public.loans",
        json!({
            "dataSource": {"_producer": "p", "name": "warehouse", "uri": "postgres://etl_user:S3cretPassw0rd@db.internal:5432/risk"}
        }),
    );
    let e = ev(
        "c1",
        Some("COMPLETE"),
        "2026-01-01T00:00:00Z",
        json!({
            "inputs": [input],
            "job": {"namespace": "etl", "name": "j", "facets": {"sourceCodeLocation": {"type": "git", "url": "https://bot:ghp_S3cretPassw0rd@github.com/acme/etl"}}}
        }),
    );
    let outs = read_files(&[("c.ndjson", &ndjson(&[e]))]);
    let all = serde_json::to_string(&events(&outs)).unwrap();
    assert!(!all.contains("S3cretPassw0rd"), "{all}");
    let d = datasets(&outs)[0];
    assert_eq!(
        attrs(d)["data_source"],
        json!({"name": "warehouse", "uri": "postgres://db.internal:5432/risk"})
    );
    assert_eq!(
        attrs(d)["origin"]["source"],
        "postgres://db.internal:5432/risk"
    );
    assert_eq!(attrs(d)["name"], "postgres://db.internal:5432/public.loans");
    assert_eq!(
        attrs(runs(&outs)[0])["code"]["repo"],
        "https://github.com/acme/etl"
    );
}

#[test]
fn versions_link_outputs_to_later_readers_and_registrations_are_unique() {
    let table = |facets: Value| ds("warehouse", "loans", facets);
    let text = ndjson(&[
        // r1 writes loans with an explicit version; r2 writes it without one; r3 reads it after r2.
        ev(
            "r1",
            Some("COMPLETE"),
            "2026-01-01T00:00:00Z",
            json!({"outputs": [table(json!({"version": {"datasetVersion": "v1"}}))]}),
        ),
        ev(
            "r2",
            Some("START"),
            "2026-01-02T00:00:00Z",
            json!({"inputs": [table(json!({}))]}),
        ),
        ev(
            "r2",
            Some("COMPLETE"),
            "2026-01-02T01:00:00Z",
            json!({"inputs": [table(json!({}))], "outputs": [table(json!({}))]}),
        ),
        ev("r3", Some("START"), "2026-01-03T00:00:00Z", json!({})),
        ev(
            "r3",
            Some("COMPLETE"),
            "2026-01-03T01:00:00Z",
            json!({"inputs": [table(json!({}))]}),
        ),
        ev(
            "r4",
            Some("COMPLETE"),
            "2026-01-04T00:00:00Z",
            json!({"inputs": [table(json!({"version": {"datasetVersion": "v1"}}))]}),
        ),
    ]);
    let outs = read_files(&[("v.ndjson", &text)]);
    let by = |id: &str| attrs(runs(&outs).into_iter().find(|e| e.id == id).unwrap());
    assert_eq!(
        by("ol:r1")["outputs"],
        json!(["dataset:warehouse/loans@v1"])
    );
    assert_eq!(
        by("ol:r2")["inputs"],
        json!(["dataset:warehouse/loans@v1"]),
        "r2 started after r1 wrote v1"
    );
    let r2_out = by("ol:r2")["outputs"][0].as_str().unwrap().to_string();
    assert!(
        r2_out.starts_with("dataset:warehouse/loans@ol-"),
        "{r2_out}"
    );
    assert_eq!(
        by("ol:r3")["inputs"][0],
        r2_out.as_str(),
        "r3 reads what r2 wrote"
    );
    assert_eq!(by("ol:r4")["inputs"], json!(["dataset:warehouse/loans@v1"]));
    let mut ids: Vec<String> = datasets(&outs)
        .iter()
        .map(|e| e.subject.as_ref().unwrap().id.to_string())
        .collect();
    ids.sort();
    assert_eq!(ids.len(), 2, "one registration per version: {ids:?}");
    let v1 = datasets(&outs)
        .into_iter()
        .find(|e| e.subject.as_ref().unwrap().id == "warehouse/loans@v1")
        .unwrap();
    assert_eq!(
        crate::time::fmt(v1.ts),
        "2026-01-01T00:00:00Z",
        "registered when first written"
    );
    assert!(
        attrs(v1)["version_basis"]
            .as_str()
            .unwrap()
            .contains("`version` facet")
    );
}

#[test]
fn facets_map_to_attributes_and_vendor_facets_are_kept() {
    let output = ds(
        "bigquery",
        "proj.ds.scores",
        json!({
            "schema": {"fields": [{"name": "score", "type": "FLOAT"}]},
            "columnLineage": {"_producer": "p", "fields": {"score": {"inputFields": [{"namespace": "bigquery", "name": "proj.ds.raw", "field": "x"}]}}},
            "ownership": {"owners": [{"name": "***"}, {"name": "team:risk"}]},
            "acme_quality": {"grade": "A"}
        }),
    );
    let mut e = ev(
        "v1",
        Some("COMPLETE"),
        "2026-01-01T00:00:00Z",
        json!({"outputs": [output]}),
    );
    e["run"]["facets"] = json!({
        "parent": {"run": {"runId": "dag-run-1"}, "job": {"namespace": "airflow", "name": "dag"}},
        "spark_applicationDetails": {"userName": "svc-spark", "appName": "scoring"},
        "processing_engine": {"name": "spark", "version": "3.5.1"},
        "acme_cost": {"usd": 3}
    });
    e["job"]["facets"] = json!({"ownership": {"owners": [{"name": "alice", "type": "MAINTAINER"}]}, "sql": {"query": "SELECT 1"}});
    e["dataset"] = json!({"stray": true});
    let outs = read_files(&[("f.json", &serde_json::to_string(&e).unwrap())]);
    let run = runs(&outs)[0];
    let a = attrs(run);
    assert_eq!(a["parent_run"], "dag-run-1");
    assert_eq!(a["parent"]["job"], "airflow/dag");
    assert_eq!(a["owner"], "alice");
    assert_eq!(a["engine"], json!({"name": "spark", "version": "3.5.1"}));
    assert_eq!(run.actor.id, "svc-spark");
    assert_eq!(run.actor.kind, crate::event::ActorType::Service);
    assert_eq!(
        a["raw_extra"]["run"]["facets"]["acme_cost"],
        json!({"usd": 3})
    );
    assert_eq!(
        a["raw_extra"]["job"]["facets"]["sql"],
        json!({"query": "SELECT 1"})
    );
    assert_eq!(
        a["raw_extra"]["dataset"],
        json!({"stray": true}),
        "a stray top-level key"
    );
    let refs: Vec<&str> = run.refs.iter().map(|r| r.target.as_str()).collect();
    assert!(refs.contains(&"run:dag-run-1"), "{refs:?}");
    let d = attrs(datasets(&outs)[0]);
    assert_eq!(d["owner"], "team:risk", "masked owners are left out");
    assert_eq!(
        d["column_lineage"]["fields"]["score"]["inputFields"][0]["field"],
        "x"
    );
    assert!(d["column_lineage"].get("_producer").is_none());
    assert_eq!(
        d["raw_extra"]["facets"]["acme_quality"],
        json!({"grade": "A"})
    );
}

#[test]
fn static_dataset_and_job_events() {
    let dataset_event = json!({
        "eventTime": "2026-01-01T00:00:00+10:00",
        "dataset": ds("warehouse", "customers", json!({"schema": {"fields": [{"name": "id", "type": "INT"}]}})),
        "producer": "p"
    });
    let job_event = json!({
        "eventTime": "2026-01-01T00:00:00Z",
        "job": {"namespace": "etl", "name": "nightly"},
        "inputs": [ds("warehouse", "customers", json!({"schema": {"fields": [{"name": "id", "type": "INT"}]}}))],
        "outputs": [ds("warehouse", "report", json!({}))],
    });
    let empty_job =
        json!({"eventTime": "2026-01-01T00:00:00Z", "job": {"namespace": "etl", "name": "idle"}});
    let outs = read_files(&[
        ("d.json", &serde_json::to_string(&dataset_event).unwrap()),
        ("j.json", &serde_json::to_string(&job_event).unwrap()),
        ("e.json", &serde_json::to_string(&empty_job).unwrap()),
    ]);
    assert!(runs(&outs).is_empty());
    let ds = datasets(&outs);
    assert_eq!(
        ds.len(),
        2,
        "customers once (same schema, same version), report"
    );
    let customers = ds
        .iter()
        .find(|e| attrs(e)["name"] == "warehouse/customers")
        .unwrap();
    assert_eq!(crate::time::fmt(customers.ts), "2025-12-31T14:00:00Z");
    let report = ds
        .iter()
        .find(|e| attrs(e)["name"] == "warehouse/report")
        .unwrap();
    assert_eq!(
        attrs(report)["declared_by"],
        json!({"job": "etl/nightly", "role": "output"})
    );
    assert_eq!(outs[1].folded, 2, "the job record and its customers object");
    assert!(reasons(&outs)[0].contains("JobEvent for job `etl/idle` lists no input or output"));
}

#[test]
fn the_pipeline_nests_runs_and_connects_datasets() {
    let text = ndjson(&[
        ev("dag", Some("START"), "2026-01-01T00:00:00Z", json!({})),
        {
            let mut e = ev(
                "task",
                Some("COMPLETE"),
                "2026-01-01T00:10:00Z",
                json!({"outputs": [ds("lake", "loans", json!({}))]}),
            );
            e["run"]["facets"] = json!({"parent": {"run": {"runId": "dag"}, "job": {"namespace": "etl", "name": "dag"}}});
            e
        },
        ev("dag", Some("COMPLETE"), "2026-01-01T00:20:00Z", json!({})),
        ev(
            "train",
            Some("COMPLETE"),
            "2026-01-02T00:00:00Z",
            json!({"inputs": [ds("lake", "loans", json!({}))]}),
        ),
    ]);
    let case = crate::testing::check_config(
        &[("ol/events.ndjson", &text)],
        "[[source]]\nname = \"lineage\"\nformat = \"openlineage\"\npaths = [\"ol\"]\n",
    );
    let g = &case.loaded.graph;
    let all = g.select(None, None).unwrap();
    let json = serde_json::to_value(g.to_json(&all)).unwrap();
    let edges: Vec<String> = json["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["from"].as_str().unwrap(),
                e["rel"].as_str().unwrap(),
                e["to"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        edges.contains(&"run:dag parent_of run:task".to_string()),
        "{edges:?}"
    );
    let produced = edges
        .iter()
        .find(|e| e.starts_with("run:task produces dataset:lake/loans@"))
        .unwrap();
    let version = produced.rsplit(' ').next().unwrap();
    assert!(
        edges.contains(&format!("{version} consumes run:train")),
        "{edges:?}"
    );
    let s = &case.loaded.ingest.sources[0];
    assert_eq!((s.lines, s.events, s.quarantined, s.folded), (6, 4, 0, 2));
    assert!(
        case.keys("LINK-01").is_empty(),
        "{:?}",
        case.keys("LINK-01")
    );
}

#[test]
fn malformed_facets_are_kept_under_raw_extra() {
    let text = r#"{"eventTime": 1767225600, "eventType": "COMPLETE", "run": {"runId": "m", "facets": {"parent": "x", "errorMessage": {"message": 5}}}, "job": {"namespace": "n", "name": "j", "facets": {"sourceCodeLocation": "y"}}, "outputs": [{"namespace": "n", "name": "t", "facets": {"version": {"datasetVersion": {"x": 1}}, "schema": {"fields": "nope"}, "columnLineage": 4}}], "inputs": {"a": 1}}"#;
    let outs = read_files(&[("m.json", text)]);
    let run = attrs(runs(&outs)[0]);
    assert_eq!(run["raw_extra"]["run"]["facets"]["parent"], "x");
    assert_eq!(run["raw_extra"]["job"]["facets"]["sourceCodeLocation"], "y");
    assert_eq!(run["raw_extra"]["inputs"], json!({"a": 1}));
    assert_eq!(run["error"]["message"], 5);
    assert!(
        run["warnings"][0]
            .as_str()
            .unwrap()
            .contains("`inputs` is an object")
    );
    let d = attrs(datasets(&outs)[0]);
    assert_eq!(d["raw_extra"]["facets"]["columnLineage"], 4);
    assert_eq!(
        d["raw_extra"]["facets"]["schema"],
        json!({"fields": "nope"})
    );
    assert_eq!(
        d["raw_extra"]["facets"]["version"],
        json!({"datasetVersion": {"x": 1}})
    );
    assert!(d.get("schema").is_none());
    assert_eq!(
        crate::time::fmt(runs(&outs)[0].ts),
        "2026-01-01T00:00:00Z",
        "epoch seconds"
    );
}
