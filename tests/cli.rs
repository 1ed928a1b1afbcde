//! End-to-end tests: the `trailbook` binary over fixture folders, as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trailbook"));
    c.env_remove("SOURCE_DATE_EPOCH");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("trailbook runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed by a signal")
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/credit-risk")
}

/// Copies a folder tree (for tests that alter an example's files).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Chained JSONL from event objects.
fn chain(events: &[Value]) -> String {
    let mut out = String::new();
    let mut prev = "0".repeat(64);
    for (i, e) in events.iter().enumerate() {
        let mut obj = serde_json::Map::new();
        obj.insert("seq".into(), json!(i + 1));
        obj.insert("prev".into(), json!(prev));
        for (k, v) in e.as_object().unwrap() {
            obj.insert(k.clone(), v.clone());
        }
        // serde_json's map sorts keys; order does not matter to the chain, only the bytes do.
        let line = serde_json::to_string(&obj).unwrap();
        prev = hex::encode(Sha256::digest(line.as_bytes()));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn access(id: &str, hour: u32) -> Value {
    json!({"id": id, "ts": format!("2026-03-01T{hour:02}:00:00Z"), "kind": "access",
           "actor": {"id": "dana", "type": "human"}, "subject": {"type": "resource", "id": "loans-table"},
           "attrs": {"action": "read", "result": "success"}})
}

/// A folder with `trailbook.toml` and `logs/a.jsonl` holding `text`.
fn fixture(text: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    std::fs::write(dir.path().join("logs/a.jsonl"), text).unwrap();
    std::fs::write(
        dir.path().join("trailbook.toml"),
        "[[source]]\nname = \"a\"\nformat = \"trailbook-jsonl\"\npaths = [\"logs/*.jsonl\"]\nchain = \"required\"\n",
    )
    .unwrap();
    dir
}

fn check_json(dir: &Path) -> (i32, Value, String) {
    let config = dir.join("trailbook.toml");
    let o = run(&["check", "-c", config.to_str().unwrap(), "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(&o), stderr(&o)));
    (code(&o), v, stderr(&o))
}

fn findings_of<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn a_clean_log_passes_with_exit_0_and_counts() {
    let dir = fixture(chain(&[access("e1", 1), access("e2", 2)]).as_bytes());
    let (code, v, err) = check_json(dir.path());
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["summary"]["lines"], 2);
    assert_eq!(v["summary"]["events"], 2);
    assert_eq!(v["summary"]["quarantined"], 0);
    assert!(
        err.contains("read 2 lines from 1 source (1 file): 2 events, 0 quarantined"),
        "{err}"
    );
}

#[test]
fn editing_one_byte_breaks_the_chain_at_the_next_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&example(), dir.path());
    let log = dir.path().join("logs/serving/serving.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let k = 5;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Change one character inside line k's event id.
    let at = lines[k - 1].find("\"id\":\"").unwrap() + 6;
    let mut bytes = lines[k - 1].clone().into_bytes();
    bytes[at] = if bytes[at] == b'X' { b'Y' } else { b'X' };
    lines[k - 1] = String::from_utf8(bytes).unwrap();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let (code, v, _) = check_json(dir.path());
    assert_eq!(code, 1);
    let breaks: Vec<_> = findings_of(&v, "LOG-02");
    let found: Vec<(String, String)> = breaks
        .iter()
        .map(|f| {
            (
                f["discriminator"].as_str().unwrap().to_string(),
                f["evidence"][0]["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [(
            format!("a|{}", k + 1),
            "logs/serving/serving.jsonl".to_string()
        )],
        "{v:#}"
    );
    assert_eq!(breaks[0]["evidence"][0]["line"], k + 1);
    assert_eq!(breaks[0]["level"], "deny");

    // Deleting a line instead: a seq gap at the line after it (and the chain break with it).
    copy_tree(&example(), dir.path());
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(k - 1);
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let (code, v, _) = check_json(dir.path());
    assert_eq!(code, 1);
    let discs: Vec<&str> = findings_of(&v, "LOG-02")
        .iter()
        .map(|f| f["discriminator"].as_str().unwrap())
        .collect();
    assert!(discs.contains(&format!("b|{k}").as_str()), "{discs:?}");
    assert!(discs.contains(&format!("a|{k}").as_str()), "{discs:?}");
}

#[test]
fn a_misspelled_config_key_exits_2_naming_key_file_and_line() {
    let dir = fixture(chain(&[access("e1", 1)]).as_bytes());
    let config = dir.path().join("trailbook.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("[policy]\npakcs = [\"baseline\"]\n");
    std::fs::write(&config, text).unwrap();
    let o = run(&["check", "-c", config.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("unknown key `pakcs` in `policy`; did you mean `packs`?"),
        "{err}"
    );
    assert!(err.contains("trailbook.toml:7:1"), "{err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn a_missing_input_file_exits_2_naming_it() {
    let dir = fixture(b"");
    let config = dir.path().join("trailbook.toml");
    std::fs::write(&config, "[[source]]\nname = \"a\"\nformat = \"trailbook-jsonl\"\npaths = [\"logs/nope.jsonl\", \"other/*.jsonl\"]\n").unwrap();
    let o = run(&["check", "-c", config.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("file `logs/nope.jsonl` not found"), "{err}");
    assert!(err.contains("no file matches `other/*.jsonl`"), "{err}");
    let o = run(&["check", "-c", "/nonexistent/trailbook.toml"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot read config `/nonexistent/trailbook.toml`"));
}

#[test]
fn garbage_never_panics_and_every_bad_line_is_counted_and_located() {
    let mut text = chain(&[access("e1", 1)]).into_bytes();
    // Random bytes (deterministic), including NUL, invalid UTF-8 and stray newlines.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push((x >> 24) as u8);
    }
    text.push(b'\n');
    // A 50 MB line, and truncated JSON at the end without a final LF.
    text.extend_from_slice(b"{\"id\":\"huge\",\"attrs\":{\"blob\":\"");
    text.extend(std::iter::repeat_n(b'a', 50 << 20));
    text.extend_from_slice(b"\"}}\n");
    text.extend_from_slice(b"{\"id\":\"e9\",\"ts\":\"2026-03-01T09:00:00Z\",\"ki");
    let lines = text.split(|b| *b == b'\n').count() as u64;
    let dir = fixture(&text);
    let (code, v, err) = check_json(dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(v["summary"]["lines"], lines);
    assert_eq!(
        v["summary"]["events"].as_u64().unwrap() + v["summary"]["quarantined"].as_u64().unwrap(),
        lines
    );
    assert_eq!(v["summary"]["events"], 1);
    let q = findings_of(&v, "LOG-06");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["count"].as_u64().unwrap(), lines - 1);
    let located: Vec<u64> = q[0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(located, (2..=lines).collect::<Vec<_>>());
}

#[test]
fn empty_files_are_fine() {
    let dir = fixture(b"");
    let (code, v, _) = check_json(dir.path());
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["lines"], 0);
}

#[test]
fn emit_dumps_each_stage_as_json() {
    let dir = fixture(chain(&[access("e1", 1), access("e1", 2)]).as_bytes());
    let config = dir.path().join("trailbook.toml");
    for stage in ["model", "graph", "findings"] {
        let o = run(&["check", "-c", config.to_str().unwrap(), "--emit", stage]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{stage}: {e}"));
        match stage {
            "model" => assert_eq!(v["model"]["duplicates"][0]["id"], "e1"),
            "graph" => assert_eq!(v["nodes"][0]["id"], "resource:loans-table"),
            _ => assert_eq!(v["findings"][0]["rule"], "LOG-05"),
        }
        assert_eq!(code(&o), 1, "{stage}");
    }
}

#[test]
fn output_is_the_same_whatever_the_thread_count_and_file_order() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&example(), dir.path());
    let config = dir.path().join("trailbook.toml");
    let outputs: Vec<Vec<u8>> = ["1", "2", "4"]
        .iter()
        .map(|n| {
            bin()
                .args(["check", "-c", config.to_str().unwrap(), "--format", "json"])
                .env("RAYON_NUM_THREADS", n)
                .env("TZ", "Asia/Tokyo")
                .output()
                .unwrap()
                .stdout
        })
        .collect();
    assert!(!outputs[0].is_empty());
    assert!(outputs.iter().all(|o| *o == outputs[0]));
}

#[test]
fn graph_exports_json_and_dot_with_focus() {
    let config = example().join("trailbook.toml");
    let o = run(&["graph", "-c", config.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    let edges = v["edges"].as_array().unwrap();
    assert!(nodes.iter().all(|n| n["id"].is_string()
        && n["type"].is_string()
        && n["label"].is_string()
        && n["unresolved"].is_boolean()));
    assert!(edges.iter().any(|e| e["rel"] == "trained_on"));
    assert!(edges.iter().any(|e| e["rel"] == "serves"));
    let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);

    let version = edges.iter().find(|e| e["rel"] == "serves").unwrap()["from"]
        .as_str()
        .unwrap()
        .to_string();
    let o = run(&[
        "graph",
        "-c",
        config.to_str().unwrap(),
        "--focus",
        &version,
        "--depth",
        "1",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let focused = v["nodes"].as_array().unwrap();
    assert!(focused.len() < nodes.len());
    assert!(focused.iter().any(|n| n["id"] == version.as_str()));
    // Every node shown is the focus or one edge away from it, and edges join shown nodes only.
    let edges_out = v["edges"].as_array().unwrap();
    let shown: Vec<&str> = focused.iter().map(|n| n["id"].as_str().unwrap()).collect();
    for id in &shown {
        let adjacent = edges_out.iter().any(|e| {
            (e["from"] == *id && e["to"] == version.as_str())
                || (e["to"] == *id && e["from"] == version.as_str())
        });
        assert!(*id == version || adjacent, "{id} is not next to {version}");
    }
    for e in edges_out {
        assert!(
            shown.contains(&e["from"].as_str().unwrap())
                && shown.contains(&e["to"].as_str().unwrap()),
            "{e}"
        );
    }
    let o = run(&["graph", "-c", config.to_str().unwrap(), "--format", "dot"]);
    assert!(stdout(&o).starts_with("digraph lineage {"));
    let o = run(&[
        "graph",
        "-c",
        config.to_str().unwrap(),
        "--focus",
        "model_version:nope@0",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("is not a node of the lineage graph"));
}

#[test]
fn rules_and_explain_document_the_catalogue() {
    let o = run(&["rules", "--format", "json"]);
    assert_eq!(code(&o), 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    // Every rule of the catalogue, in catalogue order, each with its clauses.
    assert_eq!(ids.len(), 59, "{ids:?}");
    assert_eq!(ids.first(), Some(&"LOG-01"));
    assert_eq!(ids.last(), Some(&"PRV-05"));
    for r in v.as_array().unwrap() {
        assert!(!r["clauses"].as_array().unwrap().is_empty(), "{}", r["id"]);
    }
    let inc03 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "INC-03")
        .unwrap();
    let provider = inc03["pack_clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pack"] == "eu-ai-act-provider")
        .unwrap();
    assert_eq!(provider["clauses"][0], "AI Act Art. 73(1)–(5) [V]");
    let log02 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "LOG-02")
        .unwrap();
    assert_eq!(log02["clauses"][0], "PCI DSS 10.3.2–10.3.4 [V]");
    assert_eq!(log02["packs"][0], "baseline");
    let o = run(&["explain", "log-02"]);
    let text = stdout(&o);
    for section in [
        "## What it checks",
        "## Why it matters",
        "## Example",
        "## How to fix",
    ] {
        assert!(text.contains(section), "{section}");
    }
    let o = run(&["explain", "XYZ-01"]);
    assert_eq!(code(&o), 2);
    let o = run(&["rules", "--pack", "nope"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown pack `nope`"));
}

#[test]
fn init_writes_a_working_start_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new");
    let o = run(&["init", target.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (code1, v, _) = check_json(&target);
    assert_eq!(code1, 0, "{v:#}");
    assert_eq!(v["summary"]["events"], 4);
    let o = run(&["init", target.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("already exists"));
}

#[test]
fn as_of_comes_from_the_flag_then_config_then_source_date_epoch_then_data() {
    let dir = fixture(chain(&[access("e1", 1), access("e2", 5)]).as_bytes());
    let config = dir.path().join("trailbook.toml");
    let c = config.to_str().unwrap();
    let as_of = |o: Output| -> Value {
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["summary"].clone()
    };
    let s = as_of(run(&["check", "-c", c, "--format", "json"]));
    assert_eq!(
        (
            s["as_of"].as_str().unwrap(),
            s["as_of_source"].as_str().unwrap()
        ),
        ("2026-03-01T05:00:00Z", "latest event")
    );
    let s = as_of(
        bin()
            .args(["check", "-c", c, "--format", "json"])
            .env("SOURCE_DATE_EPOCH", "1772341200")
            .output()
            .unwrap(),
    );
    assert_eq!(s["as_of"], "2026-03-01T05:00:00Z");
    assert_eq!(s["as_of_source"], "SOURCE_DATE_EPOCH");
    let s = as_of(run(&[
        "check",
        "-c",
        c,
        "--format",
        "json",
        "--as-of",
        "2026-03-01T02:00:00Z",
    ]));
    assert_eq!(s["as_of"], "2026-03-01T02:00:00Z");
    assert_eq!(s["events_after_as_of"], 1);
}

/// The example's documented gaps (examples/credit-risk/README.md): rule, subject, discriminator,
/// level and the first evidence location.
#[test]
fn the_example_reports_its_documented_gaps_and_only_them() {
    let (code, v, _) = check_json(&example());
    assert_eq!(code, 1);
    let mut got: Vec<(String, String, String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let e = &f["evidence"][0];
            (
                f["rule"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
                f["discriminator"].as_str().unwrap().into(),
                f["level"].as_str().unwrap().into(),
                format!("{}:{}", e["path"].as_str().unwrap(), e["line"]),
            )
        })
        .collect();
    got.sort();
    let s = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        (
            a.to_string(),
            b.to_string(),
            c.to_string(),
            d.to_string(),
            e.to_string(),
        )
    };
    let want = vec![
        s(
            "DEC-01",
            "deployment:credit-scoring-canary",
            "a|2026-03-26",
            "deny",
            "logs/serving/serving.jsonl:381",
        ),
        s(
            "DEC-04",
            "system:credit-scoring",
            "c",
            "info",
            "logs/registry/registry.jsonl:1",
        ),
        s(
            "LINK-01",
            "deployment:credit-scoring-canary",
            "a",
            "deny",
            "logs/serving/serving.jsonl:381",
        ),
        s(
            "LINK-03",
            "model_version:credit-risk@1.1.1",
            "b|reg-0048",
            "deny",
            "logs/registry/registry.jsonl:48",
        ),
        s(
            "LOG-01",
            "source:serving",
            "b|2026-03-12",
            "warn",
            "logs/serving/serving.jsonl:273",
        ),
        s(
            "LOG-07",
            "event:reg-0041",
            "a",
            "warn",
            "logs/registry/registry.jsonl:38",
        ),
        s(
            "MOD-01",
            "model_version:collections-priority@1.1.0",
            "a",
            "waived",
            "logs/registry/registry.jsonl:53",
        ),
        s(
            "MOD-03",
            "dataset:collections/collections-train@2026-01",
            "c",
            "deny",
            "logs/registry/registry.jsonl:17",
        ),
        s(
            "MOD-06",
            "model_version:credit-risk@1.1.0",
            "c",
            "info",
            "logs/registry/registry.jsonl:24",
        ),
        s(
            "MOD-06",
            "model_version:credit-risk@1.2.0",
            "c",
            "info",
            "logs/registry/registry.jsonl:49",
        ),
        s(
            "PRV-02",
            "system:collections-prioritisation",
            "b",
            "warn",
            "logs/serving/serving.jsonl:296",
        ),
        s(
            "PRV-02",
            "system:credit-scoring",
            "b",
            "warn",
            "logs/serving/serving.jsonl:409",
        ),
        s(
            "PRV-04",
            "system:collections-prioritisation",
            "a",
            "warn",
            "logs/registry/registry.jsonl:15",
        ),
        s(
            "PRV-04",
            "system:credit-scoring",
            "a",
            "warn",
            "logs/registry/registry.jsonl:7",
        ),
        s(
            "RET-09",
            "retention_class:ai_auto_log",
            "b",
            "warn",
            "logs/serving/serving.jsonl:15",
        ),
        s(
            "RET-09",
            "retention_class:tech_doc",
            "b",
            "warn",
            "logs/registry/registry.jsonl:7",
        ),
    ];
    assert_eq!(got, want);
    let readme = std::fs::read_to_string(example().join("README.md")).unwrap();
    for (rule, subject, ..) in &want {
        assert!(
            readme.contains(rule.as_str()) && readme.contains(subject.as_str()),
            "README documents {rule} {subject}"
        );
    }
}

/// The generator's planted violations are exactly what `check` finds.
#[test]
fn check_finds_exactly_what_the_generator_planted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("synth");
    let planted = trailbook::synth::generate(&trailbook::synth::SynthOptions {
        events: 12_345,
        seed: 7,
        out: out.clone(),
        files_per_source: 3,
    })
    .unwrap();
    assert!(planted.violations.len() >= 5);
    let (code, v, err) = check_json(&out);
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["summary"]["lines"], 12_345);
    let mut found: Vec<(String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
                f["discriminator"].as_str().unwrap().into(),
            )
        })
        .collect();
    found.sort();
    let mut want: Vec<(String, String, String)> = planted
        .violations
        .iter()
        .map(|p| (p.rule.clone(), p.subject.clone(), p.discriminator.clone()))
        .collect();
    want.sort();
    want.dedup();
    assert_eq!(found, want);
}
