use serde_json::json;

use crate::ingest::mlflow::testkit::{counts, events, find, read, reasons};

const RUN: &str = "0123456789abcdef0123456789abcdef";

fn run_meta(run: &str, status: &str) -> String {
    format!(
        "artifact_uri: file:///data/mlruns/5/{run}/artifacts\nend_time: 1768000060000\nexperiment_id: '5'\nlifecycle_stage: active\nrun_id: {run}\nrun_name: r\nrun_uuid: {run}\nstart_time: 1768000000000\nstatus: {status}\ntags: []\nuser_id: lee\n"
    )
}

const EXP: &str = "artifact_location: file:///data/mlruns/5\ncreation_time: 1767990000000\nexperiment_id: '5'\nlast_update_time: 1767990000000\nlifecycle_stage: active\nname: churn\n";

const MLMODEL: &str = "artifact_path: model\nflavors:\n  python_function:\n    python_version: 3.12.1\nmodel_uuid: 1111aaaa3333bbbb5555cccc7777dddd\nrun_id: 0123456789abcdef0123456789abcdef\nsignature:\n  inputs: '[{\"name\": \"tenure\", \"type\": \"long\"}]'\n  outputs: null\nutc_time_created: '2026-01-10 08:00:00.250000'\n";

/// The committed fixture tree, through the whole pipeline as a user runs it.
#[test]
fn fixture_tree_through_the_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let tree = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mlflow-filestore/mlruns");
    let config = dir.path().join("trailbook.toml");
    std::fs::write(
        &config,
        format!(
            "[[source]]\nname = \"mlruns\"\nformat = \"mlflow-filestore\"\npaths = [{:?}]\n",
            tree.to_string_lossy()
        ),
    )
    .unwrap();
    let loaded = crate::cli::load(&config, None).unwrap();
    let ingest = &loaded.ingest;
    assert_eq!(ingest.files.len(), 34, "every file of the tree is listed");
    for f in &ingest.files {
        assert_eq!(
            f.lines,
            f.events + f.quarantined + f.folded,
            "{}: records = events + quarantined + folded",
            f.path
        );
    }
    let of = |suffix: &str| {
        let f = ingest
            .files
            .iter()
            .find(|f| f.path.ends_with(suffix))
            .unwrap_or_else(|| panic!("no file {suffix}"));
        (f.lines, f.events, f.quarantined, f.folded)
    };
    assert_eq!(of("mlruns/0/meta.yaml"), (0, 0, 0, 0), "no runs");
    assert_eq!(of("mlruns/3/meta.yaml"), (1, 0, 0, 1));
    assert_eq!(of("model/model.pkl"), (0, 0, 0, 0), "an artifact");
    assert_eq!(
        of("model/MLmodel"),
        (1, 0, 0, 1),
        "folded into credit-risk@1"
    );
    assert_eq!(of("challenger/MLmodel"), (1, 1, 0, 0), "a logged model");
    assert_eq!(of("version-1/meta.yaml"), (2, 2, 0, 0), "version and stage");
    assert_eq!(
        of("a3b4c5d6e7f84a9b8c7d6e5f4a3b2c1d/meta.yaml"),
        (1, 0, 1, 0)
    );
    assert_eq!(
        of("a3b4c5d6e7f84a9b8c7d6e5f4a3b2c1d/params/max_depth"),
        (1, 0, 1, 0)
    );
    let q: Vec<&str> = ingest
        .quarantine
        .iter()
        .map(|q| q.reason.as_str())
        .collect();
    assert!(q[0].contains("is RUNNING"), "{q:?}");

    let m = &loaded.model;
    let ev: Vec<serde_json::Value> = m
        .events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    let text = serde_json::to_string(&ev).unwrap();
    assert!(!text.contains("lakepass42") && !text.contains("ghp_fixtureToken123"));
    let run = find(&ev, "run.completed", "7c1f4e2a9b3d4c5e8f6a1b2c3d4e5f60");
    assert_eq!(run["attrs"]["job"], "credit-risk-training");
    assert_eq!(
        run["attrs"]["inputs"],
        json!(["dataset:loans-train@5f3a9c1e"])
    );
    assert_eq!(
        run["attrs"]["params"],
        json!({"learning_rate": "0.05", "max_depth": "6", "preprocess/scaler": "standard"})
    );
    assert_eq!(run["attrs"]["metrics"]["train_loss"], "NaN");
    assert_eq!(
        run["attrs"]["code"]["repo"],
        "https://git.example.com/risk/credit-model.git"
    );
    let v = find(&ev, "model.registered", "credit-risk@1");
    assert_eq!(
        v["attrs"]["training_run"],
        "7c1f4e2a9b3d4c5e8f6a1b2c3d4e5f60"
    );
    assert_eq!(
        v["attrs"]["code_commit"],
        "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"
    );
    assert_eq!(
        v["attrs"]["logged_model"]["model_uuid"],
        "0e5b8c2d4f6a4b1c9d7e3f5a2b4c6d8e"
    );
    assert_eq!(
        v["attrs"]["runtime"],
        json!({"language": "python", "version": "3.11.9"})
    );
    assert_eq!(v["attrs"]["aliases"], json!(["champion"]));
    assert_eq!(
        v["attrs"]["tags"],
        json!({"validation_ticket": "VAL-2026-014"})
    );
    let eval = find(&ev, "run.completed", "9d2e5b7c1a4f4e3d9c8b7a6f5e4d3c2b");
    assert_eq!(eval["attrs"]["status"], "failed");
    assert_eq!(
        eval["attrs"]["parent_run"],
        "7c1f4e2a9b3d4c5e8f6a1b2c3d4e5f60"
    );
    assert_eq!(eval["actor"]["type"], "system", "user `unknown` is nobody");
    let ds = find(&ev, "dataset.registered", "loans-train@5f3a9c1e");
    assert_eq!(
        ds["attrs"]["origin"]["source"],
        "s3://datalake.internal/risk/loans/2026-01"
    );

    // The graph: dataset → run → model version.
    let up = loaded
        .graph
        .upstream(&crate::event::NodeId("model_version:credit-risk@1".into()));
    let up: Vec<&str> = up.iter().map(|n| n.as_str()).collect();
    assert!(
        up.contains(&"run:7c1f4e2a9b3d4c5e8f6a1b2c3d4e5f60"),
        "{up:?}"
    );
    assert!(up.contains(&"dataset:loans-train@5f3a9c1e"), "{up:?}");
}

#[test]
fn run_parts_fold_into_the_run() {
    let meta = run_meta(RUN, "3");
    let outs = read(
        "mlflow-filestore",
        &[
            ("mlruns/5/meta.yaml", EXP.as_bytes()),
            ("mlruns/5/tags/owner", b"growth"),
            (&format!("mlruns/5/{RUN}/meta.yaml"), meta.as_bytes()),
            (&format!("mlruns/5/{RUN}/params/C"), b"1.0"),
            (
                &format!("mlruns/5/{RUN}/metrics/acc"),
                b"1768000001000 0.8 0\n1768000002000 0.85 1\n",
            ),
            (
                &format!("mlruns/5/{RUN}/metrics/old"),
                b"1768000001000 3.5\n",
            ),
            (
                &format!("mlruns/5/{RUN}/tags/mlflow.source.git.commit"),
                b"deadbeef",
            ),
            (
                &format!("mlruns/5/{RUN}/artifacts/model/MLmodel"),
                MLMODEL.as_bytes(),
            ),
        ],
    );
    let ev = events(&outs);
    assert_eq!(counts(&outs[0]), (1, 0, 0, 1));
    assert_eq!(counts(&outs[1]), (1, 0, 0, 1));
    assert_eq!(counts(&outs[2]), (1, 1, 0, 0));
    for o in &outs[3..7] {
        assert_eq!(counts(o), (1, 0, 0, 1));
    }
    let r = find(&ev, "run.completed", RUN);
    assert_eq!(r["attrs"]["job"], "churn");
    assert_eq!(r["attrs"]["experiment"]["tags"], json!({"owner": "growth"}));
    assert_eq!(r["attrs"]["metrics"], json!({"acc": 0.85, "old": 3.5}));
    assert_eq!(r["attrs"]["code"]["commit"], "deadbeef");
    assert_eq!(r["actor"], json!({"id": "lee", "type": "human"}));
    // An MLmodel no registry version points at: a logged model of its run.
    let lm = find(
        &ev,
        "model.registered",
        &format!("runs:/{RUN}/model@1111aaaa3333bbbb5555cccc7777dddd"),
    );
    assert_eq!(
        lm["ts"], "2026-01-10T08:00:00.25Z",
        "zone-less utc_time_created is UTC"
    );
    assert_eq!(lm["attrs"]["training_run"], RUN);
    assert_eq!(lm["attrs"]["code_commit"], "deadbeef");
    assert_eq!(
        lm["attrs"]["input_spec"],
        json!([{"name": "tenure", "type": "long"}])
    );
}

#[test]
fn registry_versions_stages_aliases_and_logged_models() {
    let meta = run_meta(RUN, "3");
    let version = |n: u32, stage: &str| {
        format!(
            "creation_timestamp: 17680001{n}0000\ncurrent_stage: {stage}\ndescription: ''\nlast_updated_timestamp: 17680002{n}0000\nname: churn-model\nrun_id: {RUN}\nrun_link: ''\nsource: file:///data/mlruns/5/{RUN}/artifacts/model\nstatus: READY\nstatus_message: ''\nuser_id: ''\nversion: {n}\n"
        )
    };
    let v1 = version(1, "Archived");
    let v2 = version(2, "Staging");
    let rmm = "model_name: churn-model\nmodel_version: '2'\n";
    let outs = read(
        "mlflow-filestore",
        &[
            (&format!("mlruns/5/{RUN}/meta.yaml"), meta.as_bytes()),
            (&format!("mlruns/5/{RUN}/artifacts/model/MLmodel"), MLMODEL.as_bytes()),
            (&format!("mlruns/5/{RUN}/artifacts/model/registered_model_meta"), rmm.as_bytes()),
            ("mlruns/models/churn-model/meta.yaml", b"creation_timestamp: 1768000100000\nlast_updated_timestamp: 1768000100000\nname: churn-model\n"),
            ("mlruns/models/churn-model/aliases/challenger", b"2"),
            ("mlruns/models/churn-model/aliases/ghost", b"9"),
            ("mlruns/models/churn-model/version-1/meta.yaml", v1.as_bytes()),
            ("mlruns/models/churn-model/version-2/meta.yaml", v2.as_bytes()),
            ("mlruns/models/churn-model/version-2/tags/reviewed", b"yes"),
            ("mlruns/models/empty/meta.yaml", b"creation_timestamp: 1768000100000\nname: empty\n"),
        ],
    );
    let ev = events(&outs);
    assert_eq!(
        counts(&outs[1]),
        (1, 0, 0, 1),
        "MLmodel folded into the versions"
    );
    assert_eq!(
        counts(&outs[2]),
        (1, 0, 0, 1),
        "registered_model_meta folded"
    );
    assert_eq!(counts(&outs[3]), (1, 0, 0, 1), "registered model folded");
    assert_eq!(counts(&outs[4]), (1, 1, 0, 0));
    assert_eq!(
        counts(&outs[5]),
        (1, 0, 1, 0),
        "alias of a version not in the tree"
    );
    assert_eq!(counts(&outs[6]), (2, 2, 0, 0));
    assert_eq!(counts(&outs[9]), (0, 0, 0, 0), "a model without versions");
    let v2 = find(&ev, "model.registered", "churn-model@2");
    assert_eq!(
        v2["attrs"]["logged_model"]["model_uuid"],
        "1111aaaa3333bbbb5555cccc7777dddd"
    );
    assert_eq!(v2["attrs"]["tags"], json!({"reviewed": "yes"}));
    assert_eq!(v2["attrs"]["aliases"], json!(["challenger"]));
    assert_eq!(v2["actor"]["type"], "system");
    assert_eq!(
        find(&ev, "model.retired", "churn-model@1")["attrs"]["stage"],
        "Archived"
    );
    let stage = ev
        .iter()
        .find(|e| {
            e["id"]
                .as_str()
                .is_some_and(|i| i.contains("churn-model@2:stage"))
        })
        .unwrap();
    assert_eq!(stage["attrs"]["to_env"], "staging");
    // The stage record is the `current_stage:` line of the meta.yaml.
    let o = outs[7].events[1].origin;
    assert_eq!((o.line, o.offset), (2, 34));
    assert!(reasons(&outs)[0].contains("`churn-model@9`, which is not in this source"));
}

#[test]
fn broken_files_are_quarantined_where_they_break() {
    let meta = run_meta(RUN, "3");
    let dup = "name: a\nexperiment_id: '6'\nname: b\n";
    let outs = read(
        "mlflow-filestore",
        &[
            ("mlruns/6/meta.yaml", dup.as_bytes()),
            ("mlruns/7/meta.yaml", b"name: [unclosed\n"),
            (&format!("mlruns/5/{RUN}/meta.yaml"), meta.as_bytes()),
            (
                &format!("mlruns/5/{RUN}/metrics/acc"),
                b"1768000001000 0.8 0\nnot a metric\n",
            ),
            (&format!("mlruns/5/{RUN}/params/p"), b"\xff\xfe"),
            (&format!("mlruns/5/{RUN}/notes.txt"), b"hello"),
            ("mlruns/5/ffff0000ffff0000ffff0000ffff0000/params/x", b"1"),
            ("mlruns/README.md", b"# my runs"),
            (
                "mlruns/8/meta.yaml",
                b"name: x\nexperiment_id: '8'\nnote: ${SECRET}\n",
            ),
            (
                &format!("mlruns/9/{RUN}x/meta.yaml"),
                run_meta("zz", "9").as_bytes(),
            ),
        ],
    );
    let r = reasons(&outs);
    assert!(
        r[0].contains("duplicate mapping key") && r[0].contains("line 3"),
        "{}",
        r[0]
    );
    assert!(r[1].contains("invalid YAML"), "{}", r[1]);
    assert_eq!(counts(&outs[3]), (1, 0, 1, 0));
    assert_eq!(outs[3].quarantine[0].origin.line, 2, "the bad line");
    assert!(r[2].contains("metric line 2"), "{}", r[2]);
    assert!(r[3].contains("not UTF-8"), "{}", r[3]);
    assert!(r[4].contains("outside params/"), "{}", r[4]);
    assert!(r[5].contains("has no readable meta.yaml"), "{}", r[5]);
    assert!(r[6].contains("not part of an mlruns layout"), "{}", r[6]);
    assert!(r[7].contains("template placeholder"), "{}", r[7]);
    assert!(r[8].contains("unknown status code 9"), "{}", r[8]);
    // The run itself is fine: a broken metric file is quarantined on its own.
    assert_eq!(counts(&outs[2]), (1, 1, 0, 0));
}

#[test]
fn mlflow3_logged_model_folders() {
    let mlmodel = "artifact_path: null\nflavors:\n  python_function:\n    python_version: 3.12.1\nmodel_id: m-4b1d\nmodel_uuid: 9999aaaa9999aaaa9999aaaa9999aaaa\nrun_id: 0123456789abcdef0123456789abcdef\nutc_time_created: '2026-02-01 10:00:00.000000'\n";
    let meta = "artifact_location: file:///data/mlruns/5/models/m-4b1d/artifacts\ncreation_timestamp: 1769940000000\nexperiment_id: '5'\nmodel_id: m-4b1d\nname: churn\nsource_run_id: 0123456789abcdef0123456789abcdef\nstatus: READY\n";
    let outs = read(
        "mlflow-filestore",
        &[
            ("mlruns/5/meta.yaml", EXP.as_bytes()),
            ("mlruns/5/models/m-4b1d/meta.yaml", meta.as_bytes()),
            ("mlruns/5/models/m-4b1d/params/C", b"1"),
            (
                "mlruns/5/models/m-4b1d/artifacts/MLmodel",
                mlmodel.as_bytes(),
            ),
            ("mlruns/5/models/m-4b1d/artifacts/model.pkl", b"\x80"),
            (
                "mlruns/5/models/m-9/meta.yaml",
                b"model_id: m-9\nexperiment_id: '5'\nname: lost\n",
            ),
            (
                "mlruns/5/traces/tr-1/trace_info.yaml",
                b"request_id: tr-1\n",
            ),
        ],
    );
    let ev = events(&outs);
    assert_eq!(counts(&outs[0]), (0, 0, 0, 0), "an experiment without runs");
    assert_eq!(counts(&outs[1]), (1, 0, 0, 1));
    assert_eq!(counts(&outs[2]), (1, 0, 0, 1));
    let lm = find(
        &ev,
        "model.registered",
        "models:/m-4b1d@9999aaaa9999aaaa9999aaaa9999aaaa",
    );
    assert_eq!(
        lm["attrs"]["logged_model"]["logged_model_meta"]["name"],
        "churn"
    );
    assert_eq!(counts(&outs[4]), (0, 0, 0, 0));
    assert_eq!(counts(&outs[5]), (1, 0, 1, 0), "no MLmodel");
    assert_eq!(counts(&outs[6]), (0, 0, 0, 0), "traces are not read");
}

#[test]
fn long_metric_histories_are_summarised() {
    let meta = run_meta(RUN, "3");
    let curve: String = (0..1500)
        .map(|i| format!("{} {} {i}\n", 1768000000000i64 + i, 1.0 / (i as f64 + 1.0)))
        .collect();
    let outs = read(
        "mlflow-filestore",
        &[
            (&format!("mlruns/5/{RUN}/meta.yaml"), meta.as_bytes()),
            (&format!("mlruns/5/{RUN}/metrics/loss"), curve.as_bytes()),
        ],
    );
    let ev = events(&outs);
    let r = find(&ev, "run.completed", RUN);
    assert_eq!(r["attrs"]["metrics"]["loss"], 1.0 / 1500.0);
    let s = &r["attrs"]["metric_history"]["loss"]["summary"];
    assert_eq!(s["points"], 1500);
    assert_eq!(s["max"], 1.0);
    assert_eq!(s["first"]["step"], 0);
    assert_eq!(s["last"]["step"], 1499);
}
