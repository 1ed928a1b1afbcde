//! The multi-source example (`examples/multi-source/`): OpenLineage, MLflow and Kubernetes audit
//! files joined by `[[link]]` into one lineage graph, run through the `trailbook` binary as its
//! README says.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The password planted in the OpenLineage `dataSource` facet.
const PASSWORD: &str = "s3cr3t";

const LOANS: &str = "dataset:postgres://db.internal:5432/lending.public.loans@ol-c91c34fd56b9";
const SPARK_RUN: &str = "run:01950b8f-0a77-7b33-8a61-c5d9e0f1a2b3";
const DAG_RUN: &str = "run:01950b8e-3c1a-7d42-9f7e-2a4c6b8d0e11";
const TRAINING_SET: &str = "dataset:s3://acme-lake/features/credit_training@7";
const MLFLOW_RUN: &str = "run:7c0f3b9e2d4a4e1f8b6c5a2d9e3f1b07";
const MODEL_VERSION: &str = "model_version:credit_risk@3";
const DEPLOYMENT: &str = "deployment:risk-serving/scoring-credit-risk";

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/multi-source")
}

fn config() -> String {
    example().join("trailbook.toml").display().to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trailbook"))
        .env_remove("SOURCE_DATE_EPOCH")
        .args(args)
        .output()
        .expect("trailbook runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit code, after checking that neither stream holds the password.
fn checked(o: &Output, what: &str) -> i32 {
    for (name, s) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        assert!(
            !text(s).contains(PASSWORD),
            "{what}: the password is on {name}"
        );
    }
    o.status.code().expect("exited, not killed by a signal")
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("JSON on stdout ({e}); stderr: {}", text(&o.stderr)))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            // A site a user built in the example is not part of it.
            if entry.file_name() != "site" {
                copy_tree(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            files_under(&entry.path(), out);
        } else {
            out.push(entry.path());
        }
    }
}

#[test]
fn the_password_is_in_the_fixture() {
    // Otherwise the tests below that look for it prove nothing.
    let ol =
        std::fs::read_to_string(example().join("logs/openlineage/credit_features.ndjson")).unwrap();
    assert!(ol.contains(&format!(
        "postgres://etl:{PASSWORD}@db.internal:5432/lending"
    )));
}

#[test]
fn graph_joins_the_dataset_to_the_run_the_model_and_the_deployment() {
    let o = run(&["graph", "-c", &config(), "--format", "json"]);
    assert_eq!(checked(&o, "graph --format json"), 0, "{}", text(&o.stderr));
    let g = json_of(&o);

    let nodes: BTreeSet<&str> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    let expected = [
        LOANS,
        SPARK_RUN,
        DAG_RUN,
        TRAINING_SET,
        MLFLOW_RUN,
        MODEL_VERSION,
        DEPLOYMENT,
    ];
    assert_eq!(nodes, expected.into_iter().collect(), "exactly these nodes");
    for n in g["nodes"].as_array().unwrap() {
        assert_eq!(n["unresolved"], false, "{n}");
    }
    // The same-as list keeps the Kubernetes name as an alias of the registry's.
    let mv = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == MODEL_VERSION)
        .unwrap();
    assert_eq!(
        mv["aliases"],
        serde_json::json!(["model_version:credit-risk@3"])
    );

    let edges: BTreeSet<(&str, &str, &str)> = g["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap(),
                e["rel"].as_str().unwrap(),
                e["to"].as_str().unwrap(),
            )
        })
        .collect();
    let expected = [
        // OpenLineage alone.
        (LOANS, "consumes", SPARK_RUN),
        (SPARK_RUN, "produces", TRAINING_SET),
        (DAG_RUN, "parent_of", SPARK_RUN),
        // [[link]] 0: the MLflow run's tags name the OpenLineage dataset.
        (TRAINING_SET, "consumes", MLFLOW_RUN),
        // MLflow alone: the version's run_id.
        (MLFLOW_RUN, "trained_on", MODEL_VERSION),
        // [[link]] 1: the Deployment's labels name `credit-risk@3`, joined to `credit_risk@3`.
        (MODEL_VERSION, "serves", DEPLOYMENT),
    ];
    assert_eq!(edges, expected.into_iter().collect(), "exactly these edges");

    // And so the raw table reaches the deployment, through every system.
    let mut seen = BTreeSet::from([LOANS]);
    let mut queue = VecDeque::from([LOANS]);
    while let Some(n) = queue.pop_front() {
        for (from, _, to) in &edges {
            if *from == n && seen.insert(to) {
                queue.push_back(to);
            }
        }
    }
    assert!(seen.contains(DEPLOYMENT), "reached only {seen:?}");

    let dot = run(&["graph", "-c", &config(), "--format", "dot"]);
    assert_eq!(checked(&dot, "graph --format dot"), 0);
    assert!(text(&dot.stdout).contains(&format!(
        "\"{MODEL_VERSION}\" -> \"{DEPLOYMENT}\" [label=\"serves\"]"
    )));
}

#[test]
fn check_exits_as_documented() {
    let o = run(&["check", "-c", &config()]);
    assert_eq!(
        checked(&o, "check"),
        0,
        "no deny finding: {}",
        text(&o.stdout)
    );
    assert!(text(&o.stdout).contains(
        "read 16 records from 3 sources (5 files): 8 events, 0 quarantined, 8 folded into other events"
    ));

    let o = run(&["check", "-c", &config(), "--format", "json"]);
    assert_eq!(checked(&o, "check --format json"), 0);
    let v = json_of(&o);
    let mut found: Vec<(String, String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("rule"), s("level"), s("subject"), s("id"))
        })
        .collect();
    found.sort();
    let readme = [
        ("LINK-05", "warn", DAG_RUN, "d501fa673b4336f0"),
        ("LOG-02", "info", "source:cluster-audit", "15b0fddb2c510372"),
        ("LOG-02", "info", "source:lineage", "b9b09a1d1996f15d"),
        ("LOG-02", "info", "source:mlflow", "fab5eea34ab87554"),
    ];
    let readme: Vec<(String, String, String, String)> = readme
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(found, readme, "the findings the README lists");

    // Every entry joined something and reports no problem (no LINK-01 (c)).
    let o = run(&["check", "-c", &config(), "--emit", "model"]);
    assert_eq!(checked(&o, "check --emit model"), 0);
    let m = json_of(&o);
    let links = m["ingest"]["links"].as_array().unwrap();
    assert_eq!(links.len(), 2);
    for l in links {
        assert!(l["matched"].as_u64().unwrap() > 0, "{l}");
        assert_eq!(l["problems"], serde_json::json!([]), "{l}");
    }
}

#[test]
fn every_quarantined_record_says_why() {
    let o = run(&["check", "-c", &config(), "--emit", "model"]);
    assert_eq!(checked(&o, "check --emit model"), 0);
    let m = json_of(&o);
    let quarantine = m["ingest"]["quarantine"].as_array().unwrap();
    for q in quarantine {
        let reason = q["reason"].as_str().unwrap_or_default();
        assert!(!reason.trim().is_empty(), "no reason: {q}");
    }
    // The example's files are all read: records = events + folded, per file.
    for f in m["ingest"]["files"].as_array().unwrap() {
        let n = |k: &str| f[k].as_u64().unwrap();
        assert_eq!(
            n("lines"),
            n("events") + n("quarantined") + n("folded"),
            "{f}"
        );
    }
    assert!(quarantine.is_empty(), "{quarantine:?}");
}

#[test]
fn no_output_of_a_build_of_every_audience_holds_the_password() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("example");
    copy_tree(&example(), &dir);
    // A pseudonym key, so the regulator's site is built too.
    let cfg = dir.join("trailbook.toml");
    let mut toml = std::fs::read_to_string(&cfg).unwrap();
    toml.push_str("\n[privacy]\nkey_env = \"TRAILBOOK_TEST_KEY\"\nkey_id = \"k-test\"\n");
    std::fs::write(&cfg, toml).unwrap();
    let out = tmp.path().join("sites");
    let o = Command::new(env!("CARGO_BIN_EXE_trailbook"))
        .env_remove("SOURCE_DATE_EPOCH")
        .env("TRAILBOOK_TEST_KEY", "multi-source-test-key-0123456789")
        .args([
            "build",
            "-c",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(checked(&o, "build"), 0, "{}", text(&o.stderr));

    for audience in ["internal", "regulator", "public"] {
        assert!(
            out.join(audience).join("v1/index.html").is_file(),
            "{audience} built"
        );
    }
    let mut files = Vec::new();
    files_under(&out, &mut files);
    assert!(files.len() > 30, "a whole site: {} files", files.len());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !bytes
                .windows(PASSWORD.len())
                .any(|w| w == PASSWORD.as_bytes()),
            "{} holds the password",
            f.display()
        );
    }
    // The stripped URI is still shown: only the credentials went.
    let internal_events = out.join("internal/v1/events");
    let mut pages = Vec::new();
    files_under(&internal_events, &mut pages);
    assert!(pages.iter().any(|p| {
        std::fs::read_to_string(p)
            .unwrap()
            .contains("postgres://db.internal:5432/lending")
    }));
}
