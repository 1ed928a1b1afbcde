use serde_json::{Value, json};

use super::testkit::{counts, events, find, read, reasons};
use super::*;

const SYSTEM: &str = r#""system": {"package_version": "1.2.0", "script": "export_model.py",
    "export_time": 1767960000, "mlflow_version": "2.16.2",
    "mlflow_tracking_uri": "http://tracking.internal:5000", "user": "ops"}"#;

/// A registered model with four versions (one per stage), model-level aliases and a version
/// that repeats one of them.
fn model_json() -> String {
    format!(
        r#"{{
  {SYSTEM},
  "info": {{"num_src_versions": 4, "failed_versions": []}},
  "mlflow": {{
    "registered_model": {{
      "name": "fraud-detector",
      "creation_timestamp": 1767960000000,
      "last_updated_timestamp": 1768200000000,
      "description": "Card fraud scores",
      "user_id": "rita@bank.example",
      "aliases": [{{"alias": "champion", "version": "2"}}, {{"alias": "shadow", "version": "3"}}],
      "tags": [{{"key": "domain", "value": "payments"}}],
      "versions": [
        {{"name": "fraud-detector", "version": "1", "creation_timestamp": 1767960100000,
          "last_updated_timestamp": 1767970000000, "current_stage": "Archived",
          "run_id": "aaaa0000aaaa0000aaaa0000aaaa0000", "source": "s3://models/1", "status": "READY",
          "tags": {{}}, "user_id": "", "aliases": []}},
        {{"name": "fraud-detector", "version": "2", "creation_timestamp": 1768000000000,
          "last_updated_timestamp": 1768100000000, "current_stage": "Production",
          "run_id": "bbbb1111bbbb1111bbbb1111bbbb1111",
          "source": "s3://deploy:Sup3rSecret@models.internal/2/model", "status": "READY",
          "tags": {{"approved": "yes"}}, "user_id": "rita@bank.example", "aliases": ["champion"]}},
        {{"name": "fraud-detector", "version": "3", "creation_timestamp": 1768100000000,
          "last_updated_timestamp": 1768150000000, "current_stage": "Staging",
          "run_id": "cccc2222cccc2222cccc2222cccc2222", "status": "READY", "tags": {{}},
          "user_id": "4f3c2b1a-0000-4a5b-8c9d-0123456789ab", "aliases": ["shadow", "canary"]}},
        {{"name": "fraud-detector", "version": "4", "creation_timestamp": 1768200000000,
          "last_updated_timestamp": 1768200000000, "current_stage": "None",
          "run_id": "dddd3333dddd3333dddd3333dddd3333", "status": "READY", "tags": {{}}}}
      ]
    }}
  }}
}}"#
    )
}

fn run_json(run_id: &str, extra_tags: &str, status: &str) -> String {
    format!(
        r#"{{
  {SYSTEM},
  "mlflow": {{
    "info": {{"run_id": "{run_id}", "run_uuid": "{run_id}", "experiment_id": "7",
      "user_id": "", "status": "{status}", "start_time": 1767999000000,
      "end_time": 1767999900000, "lifecycle_stage": "active", "run_name": "train",
      "artifact_uri": "s3://runs/{run_id}/artifacts", "_start_time": "2026-01-09 23:50:00"}},
    "params": {{"max_depth": "5", "alpha": "0.5"}},
    "metrics": {{
      "auc": [{{"value": 0.91, "timestamp": 1767999100000, "step": 0}},
              {{"value": 0.93, "timestamp": 1767999800000, "step": 1}}],
      "loss": [{{"value": NaN, "timestamp": 1767999800000, "step": 0}}],
      "gain": [{{"value": -Infinity, "timestamp": 1767999800000, "step": 0}}]
    }},
    "tags": {{
      "mlflow.user": "ana",
      "mlflow.source.name": "notebooks/train",
      "mlflow.databricks.gitRepoUrl": "https://ana:ghp_NotForYou@github.com/bank/fraud.git",
      "mlflow.databricks.gitRepoCommit": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
      "mlflow.runName": "train",
      "owner_team": "fraud"{extra_tags}
    }}
  }}
}}"#
    )
}

#[test]
fn versions_stages_and_aliases() {
    let model = model_json();
    let outs = read(
        "mlflow-export",
        &[("export/models/fraud/model.json", model.as_bytes())],
    );
    let ev = events(&outs);
    // Records: the registered model (folded), 4 versions, 3 stages (not None), 2 model aliases,
    // version aliases: `champion` on v2 and `shadow` on v3 repeat the model's (folded), `canary`
    // is new.
    assert_eq!(counts(&outs[0]), (1 + 4 + 3 + 2 + 3, 10, 0, 3));

    let v2 = find(&ev, "model.registered", "fraud-detector@2");
    assert_eq!(v2["ts"], "2026-01-09T23:06:40Z");
    assert_eq!(v2["attrs"]["model"], "fraud-detector");
    assert_eq!(v2["attrs"]["version"], "2");
    assert_eq!(
        v2["attrs"]["training_run"],
        "bbbb1111bbbb1111bbbb1111bbbb1111"
    );
    assert_eq!(v2["attrs"]["owner"], "rita@bank.example");
    assert_eq!(v2["attrs"]["stage"], "Production");
    assert_eq!(v2["attrs"]["tags"], json!({"approved": "yes"}));
    assert_eq!(
        v2["attrs"]["registered_model"]["tags"],
        json!({"domain": "payments"})
    );
    assert_eq!(
        v2["actor"],
        json!({"id": "rita@bank.example", "type": "human"})
    );
    assert_eq!(
        v2["attrs"]["origin"]["pointer"],
        "/mlflow/registered_model/versions/1"
    );
    assert_eq!(v2["attrs"]["source"], "s3://models.internal/2/model");

    let p2 = ev
        .iter()
        .find(|e| e["id"].as_str().is_some_and(|i| i.contains("@2:stage")))
        .expect("stage of v2");
    assert_eq!(p2["kind"], "model.promoted");
    assert_eq!(p2["attrs"]["from_env"], "development");
    assert_eq!(p2["attrs"]["to_env"], "production");
    assert_eq!(p2["ts"], "2026-01-11T02:53:20Z", "last_updated_timestamp");
    let p3 = ev
        .iter()
        .find(|e| e["id"].as_str().is_some_and(|i| i.contains("@3:stage")))
        .expect("stage of v3");
    assert_eq!(p3["attrs"]["to_env"], "staging");
    assert_eq!(
        p3["actor"]["type"], "service",
        "a UUID user is a service principal"
    );
    let r1 = find(&ev, "model.retired", "fraud-detector@1");
    assert_eq!(r1["attrs"]["stage"], "Archived");
    assert_eq!(r1["actor"]["type"], "system", "no user: the adapter");
    assert!(
        !ev.iter()
            .any(|e| e["id"].as_str().is_some_and(|i| i.contains("@4:stage"))),
        "stage None is no promotion"
    );

    let aliases: Vec<(&str, &str)> = ev
        .iter()
        .filter(|e| e["attrs"]["alias"].is_string())
        .map(|e| {
            (
                e["attrs"]["to_env"].as_str().unwrap(),
                e["subject"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        aliases,
        [
            ("canary", "fraud-detector@3"),
            ("champion", "fraud-detector@2"),
            ("shadow", "fraud-detector@3")
        ]
    );
    let text = serde_json::to_string(&ev).unwrap();
    assert!(!text.contains("Sup3rSecret"), "credentials are stripped");
}

#[test]
fn runs_map_params_metrics_code_and_actor() {
    let run = run_json("bbbb1111bbbb1111bbbb1111bbbb1111", "", "FINISHED");
    let outs = read("mlflow-export", &[("runs/bbbb/run.json", run.as_bytes())]);
    assert_eq!(counts(&outs[0]), (1, 1, 0, 0));
    let ev = events(&outs);
    let r = find(&ev, "run.completed", "bbbb1111bbbb1111bbbb1111bbbb1111");
    let a = &r["attrs"];
    assert_eq!(r["ts"], "2026-01-09T23:05:00Z");
    assert_eq!(a["status"], "completed");
    assert_eq!(a["started_ts"], "2026-01-09T22:50:00Z");
    assert_eq!(
        a["job"], "mlflow-experiment-7",
        "no experiment file: its id"
    );
    // SHA-256 of {"alpha":"0.5","max_depth":"5"}.
    let expected = format!(
        "sha256:{}",
        sha256_hex(br#"{"alpha":"0.5","max_depth":"5"}"#)
    );
    assert_eq!(a["params_digest"], expected.as_str());
    assert_eq!(a["params"], json!({"alpha": "0.5", "max_depth": "5"}));
    assert_eq!(a["metrics"]["auc"], 0.93, "the last step");
    assert_eq!(a["metrics"]["loss"], "NaN");
    assert_eq!(a["metrics"]["gain"], "-Infinity");
    assert_eq!(a["metric_history"]["auc"].as_array().unwrap().len(), 2);
    assert_eq!(
        a["code"],
        json!({"repo": "https://github.com/bank/fraud.git",
               "commit": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
               "path": "notebooks/train"})
    );
    assert_eq!(
        a["tags"],
        json!({"owner_team": "fraud"}),
        "mapped tags leave"
    );
    assert_eq!(a["raw_extra"]["info._start_time"], "2026-01-09 23:50:00");
    assert_eq!(a["export"]["tracking_uri"], "http://tracking.internal:5000");
    assert_eq!(
        r["actor"],
        json!({"id": "ana", "type": "human"}),
        "empty user_id: the mlflow.user tag"
    );
    assert!(
        !serde_json::to_string(&ev)
            .unwrap()
            .contains("ghp_NotForYou")
    );
}

#[test]
fn unknown_user_is_the_system_and_unfinished_runs_wait() {
    let run = run_json("eeee", "", "FINISHED")
        .replace(r#""user_id": """#, r#""user_id": "unknown""#)
        .replace(r#""mlflow.user": "ana","#, "");
    let running = run_json("ffff", "", "RUNNING");
    let outs = read(
        "mlflow-export",
        &[
            ("a/run.json", run.as_bytes()),
            ("b/run.json", running.as_bytes()),
        ],
    );
    let ev = events(&outs);
    assert_eq!(
        find(&ev, "run.completed", "eeee")["actor"],
        json!({"id": "mlflow-export", "type": "system"})
    );
    assert_eq!(counts(&outs[1]), (1, 0, 1, 0));
    assert!(
        reasons(&outs)[0].contains("is RUNNING"),
        "{:?}",
        reasons(&outs)
    );
}

#[test]
fn joins_across_files_experiment_and_commit() {
    let model = model_json();
    let run = run_json("bbbb1111bbbb1111bbbb1111bbbb1111", "", "FINISHED");
    let exp = format!(
        r#"{{ {SYSTEM}, "info": {{"num_total_runs": 1, "failed_runs": []}},
          "mlflow": {{"experiment": {{"experiment_id": "7", "name": "/Shared/fraud",
            "tags": {{"team": "fraud"}}, "creation_time": 1767900000000}},
            "runs": ["bbbb1111bbbb1111bbbb1111bbbb1111"]}} }}"#
    );
    let orphan_exp = exp
        .replace("bbbb1111bbbb1111bbbb1111bbbb1111", "9999")
        .replace(r#""experiment_id": "7""#, r#""experiment_id": "8""#);
    let empty_exp = exp
        .replace(r#"["bbbb1111bbbb1111bbbb1111bbbb1111"]"#, "[]")
        .replace(r#""experiment_id": "7""#, r#""experiment_id": "9""#);
    let outs = read(
        "mlflow-export",
        &[
            ("exp/experiment.json", exp.as_bytes()),
            ("exp/bbbb/run.json", run.as_bytes()),
            ("models/model.json", model.as_bytes()),
            ("other/experiment.json", orphan_exp.as_bytes()),
            ("third/experiment.json", empty_exp.as_bytes()),
        ],
    );
    let ev = events(&outs);
    assert_eq!(counts(&outs[0]), (1, 0, 0, 1), "folded into its run");
    let r = find(&ev, "run.completed", "bbbb1111bbbb1111bbbb1111bbbb1111");
    assert_eq!(r["attrs"]["job"], "/Shared/fraud");
    assert_eq!(r["attrs"]["experiment"]["tags"], json!({"team": "fraud"}));
    let v2 = find(&ev, "model.registered", "fraud-detector@2");
    assert_eq!(
        v2["attrs"]["code_commit"], "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
        "the training run's commit"
    );
    assert!(
        find(&ev, "model.registered", "fraud-detector@1")["attrs"]["code_commit"].is_null(),
        "run not exported: no commit"
    );
    assert_eq!(counts(&outs[3]), (1, 0, 1, 0));
    assert!(
        outs[3].quarantine[0]
            .reason
            .contains("none of which is in this source")
    );
    assert_eq!(counts(&outs[4]), (0, 0, 0, 0), "no runs: not a record");
}

#[test]
fn dataset_inputs_from_tags_and_run_inputs() {
    let datasets = r#"[{\"name\":\"loans\",\"hash\":\"1a2b3c4d\",\"model\":\"m1\"},{\"name\":\"bureau\",\"digest\":\"99ff\"}]"#;
    let run = run_json(
        "abab",
        &format!(
            r#", "mlflow.datasets": "{datasets}", "sparkDatasourceInfo": "path=dbfs:/delta/scores,version=12,format=delta""#
        ),
        "FINISHED",
    )
    .replace(
        r#""params": "#,
        r#""inputs": {"dataset_inputs": [{"tags": [{"key": "mlflow.data.context", "value": "train"}],
            "dataset": {"name": "features", "digest": "f00d", "source_type": "delta",
              "source": "{\"uri\": \"jdbc:postgresql://etl:pw123@db.internal/feat\"}",
              "schema": "{\"mlflow_colspec\": [{\"type\": \"double\", \"name\": \"x\"}]}"}}]},
          "params": "#,
    );
    let outs = read("mlflow-export", &[("run.json", run.as_bytes())]);
    let ev = events(&outs);
    // The run, and three datasets with a digest (the Delta table has a version, no digest).
    assert_eq!(counts(&outs[0]), (4, 4, 0, 0));
    let r = find(&ev, "run.completed", "abab");
    assert_eq!(
        r["attrs"]["inputs"],
        json!([
            "dataset:features@f00d",
            "dataset:loans@1a2b3c4d",
            "dataset:bureau@99ff",
            "dataset:dbfs:/delta/scores@12"
        ])
    );
    assert_eq!(
        r["attrs"]["input_contexts"],
        json!({"features@f00d": "train"})
    );
    assert!(
        r["attrs"]["tags"]["sparkDatasourceInfo"].is_string(),
        "kept: it also names the format"
    );
    assert!(
        r["attrs"]["tags"]["mlflow.datasets"].is_null(),
        "read whole"
    );
    let f = find(&ev, "dataset.registered", "features@f00d");
    assert_eq!(f["attrs"]["version"], "f00d");
    assert_eq!(
        f["attrs"]["schema"],
        json!([{"name": "x", "type": "double"}])
    );
    assert_eq!(
        f["attrs"]["origin"]["source"],
        "jdbc:postgresql://db.internal/feat"
    );
    assert_eq!(
        f["attrs"]["origin"]["pointer"],
        "/mlflow/inputs/dataset_inputs/0"
    );
    assert_eq!(f["ts"], "2026-01-09T22:50:00Z", "dated at its run's start");
    let l = find(&ev, "dataset.registered", "loans@1a2b3c4d");
    assert_eq!(l["attrs"]["raw_extra"], json!({"model": "m1"}));
    assert_eq!(
        l["attrs"]["origin"]["pointer"],
        "/mlflow/tags/mlflow.datasets"
    );
    assert!(!serde_json::to_string(&ev).unwrap().contains("pw123"));
}

#[test]
fn nan_tokens_keep_offsets() {
    let text = r#"{"a": [NaN, -Infinity, "NaN in a string", Infinity], "b": {"c": 1}}"#;
    let clean = sanitize_nonfinite(text.as_bytes());
    assert_eq!(clean.len(), text.len());
    let v: Value = serde_json::from_slice(&clean).unwrap();
    assert_eq!(nonfinite(&v["a"][0]), "NaN");
    assert_eq!(nonfinite(&v["a"][1]), "-Infinity");
    assert_eq!(v["a"][2], "NaN in a string");
    assert_eq!(nonfinite(&v["a"][3]), "Infinity");
    let at = std::str::from_utf8(&clean)
        .unwrap()
        .find(r#"{"c""#)
        .unwrap();
    assert_eq!(&text[at..at + 4], r#"{"c""#);
}

#[test]
fn bad_files_are_quarantined_with_reasons() {
    let dup = r#"{"mlflow": {"info": {"run_id": "x", "run_id": "y"}}}"#;
    let broken = "{\n  \"mlflow\": {\n    \"info\": {\"run_id\": \"x\",}\n  }\n}";
    let template = run_json("{{ run_id }}", "", "FINISHED");
    let mlmodel = "artifact_path: model\nflavors:\n  sklearn: {}\n";
    let unknown = r#"{"hello": "world"}"#;
    let array = r#"[{"mlflow": {}}, {"mlflow": {}}]"#;
    let outs = read(
        "mlflow-export",
        &[
            ("dup/run.json", dup.as_bytes()),
            ("broken/run.json", broken.as_bytes()),
            ("template/run.json", template.as_bytes()),
            ("x/MLmodel", mlmodel.as_bytes()),
            ("unknown.json", unknown.as_bytes()),
            ("array.json", array.as_bytes()),
            ("run/artifacts/model/model.pkl", b"\x80\x04binary"),
            ("run/artifacts/model/MLmodel", mlmodel.as_bytes()),
            ("empty.json", b"  \n"),
        ],
    );
    let r = reasons(&outs);
    assert!(r[0].contains("duplicate key `run_id`"), "{}", r[0]);
    assert!(r[1].contains("invalid JSON"), "{}", r[1]);
    assert_eq!(outs[1].quarantine[0].origin.line, 3, "where the error is");
    assert!(r[2].contains("template placeholder"), "{}", r[2]);
    assert!(r[3].contains("mlflow-filestore"), "{}", r[3]);
    assert!(
        r[4].contains("not an mlflow-export-import object"),
        "{}",
        r[4]
    );
    assert!(r[5].contains("one JSON object"), "{}", r[5]);
    for (i, o) in outs.iter().enumerate().skip(6) {
        assert_eq!(counts(o), (0, 0, 0, 0), "{i}: not a record");
    }
}

#[test]
fn bulk_manifest_reports_failed_exports() {
    let ok = format!(
        r#"{{ {SYSTEM}, "info": {{"model_names": "a,b", "models": {{"num_failed_models": 0, "failed_models": []}},
            "experiments": {{"failed_runs": 0}}}}, "mlflow": {{}} }}"#
    );
    let failed = ok.replace(r#""failed_runs": 0"#, r#""failed_runs": 2"#);
    let outs = read(
        "mlflow-export",
        &[
            ("ok/manifest.json", ok.as_bytes()),
            ("bad/manifest.json", failed.as_bytes()),
        ],
    );
    assert_eq!(counts(&outs[0]), (0, 0, 0, 0));
    assert_eq!(counts(&outs[1]), (1, 0, 1, 0));
    assert!(
        outs[1].quarantine[0]
            .reason
            .contains("`/info/experiments/failed_runs` = 2"),
        "{}",
        outs[1].quarantine[0].reason
    );
}

#[test]
fn older_and_single_version_shapes() {
    // mlflow-export-import 1.0: `export_info`, run members at the root, metrics as last values,
    // tags as a list; `latest_versions` in model exports.
    let old_run = r#"{"export_info": {"mlflow_version": "1.20", "mlflow_tracking_uri": "databricks"},
      "info": {"run_id": "old1", "experiment_id": "3", "user_id": "bo", "status": "FAILED",
               "start_time": 1600000000000, "end_time": 1600000100000},
      "params": {"k": "1"}, "metrics": {"rmse": 0.7}, "tags": [{"key": "mlflow.source.git.commit", "value": "abc123"}]}"#;
    let latest = r#"{"mlflow": {"registered_model": {"name": "m", "latest_versions": [
        {"version": 7, "creation_timestamp": 1600000200000, "current_stage": "Staging", "run_id": "old1"}]}}}"#;
    let single = r#"{"mlflow": {"model_version": {"name": "m2", "version": "3",
        "creation_timestamp": "1600000300000", "current_stage": "Production", "aliases": ["prod"]}}}"#;
    let no_time = r#"{"mlflow": {"model_version": {"name": "m3", "version": "1"}}}"#;
    let outs = read(
        "mlflow-export",
        &[
            ("old/run.json", old_run.as_bytes()),
            ("m/model.json", latest.as_bytes()),
            ("m2/model_version.json", single.as_bytes()),
            ("m3/model_version.json", no_time.as_bytes()),
        ],
    );
    let ev = events(&outs);
    let r = find(&ev, "run.completed", "old1");
    assert_eq!(r["attrs"]["status"], "failed");
    assert_eq!(r["attrs"]["metrics"]["rmse"], 0.7);
    assert_eq!(r["attrs"]["code"]["commit"], "abc123");
    let v = find(&ev, "model.registered", "m@7");
    assert_eq!(v["attrs"]["code_commit"], "abc123");
    assert_eq!(
        v["attrs"]["origin"]["pointer"],
        "/mlflow/registered_model/latest_versions/0"
    );
    let single = find(&ev, "model.registered", "m2@3");
    assert_eq!(
        single["ts"], "2020-09-13T12:31:40Z",
        "digit-string epoch ms"
    );
    assert!(ev.iter().any(|e| e["attrs"]["to_env"] == "prod"));
    assert_eq!(counts(&outs[3]), (1, 0, 1, 0));
    assert!(
        outs[3].quarantine[0]
            .reason
            .contains("no `creation_timestamp`")
    );
}

#[test]
fn imported_copies_keep_their_source() {
    let model = r#"{"mlflow": {"registered_model": {"name": "w",
      "tags": [{"key": "mlflow_exim.field.name", "value": "w"}],
      "versions": [{"version": "1", "creation_timestamp": 1700000000000, "current_stage": "None",
        "run_id": "dst1", "tags": {"mlflow_exim.field.run_id": "src1", "info": "x"}}]}}}"#;
    let run = r#"{"mlflow": {"info": {"run_id": "dst1", "status": "FINISHED", "user_id": "unknown",
      "start_time": 1700000000000, "end_time": 1700000001000},
      "tags": {"mlflow_exim.run_info.run_id": "src1", "mlflow_exim.mlflow_tag.user": "ana"}}}"#;
    let outs = read(
        "mlflow-export",
        &[
            ("model.json", model.as_bytes()),
            ("run.json", run.as_bytes()),
        ],
    );
    let ev = events(&outs);
    let v = find(&ev, "model.registered", "w@1");
    assert_eq!(v["attrs"]["imported_from"]["run_id"], "src1");
    assert_eq!(v["attrs"]["tags"], json!({"info": "x"}));
    assert_eq!(v["attrs"]["registered_model"]["imported_from"]["name"], "w");
    let r = find(&ev, "run.completed", "dst1");
    assert_eq!(r["attrs"]["imported_from"]["run_id"], "src1");
    assert_eq!(r["attrs"]["imported_from"]["tags"]["mlflow.user"], "ana");
    assert_eq!(r["actor"]["type"], "system");
}
