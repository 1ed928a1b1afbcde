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

/// Every file of a folder tree, by path relative to it (`/` separators), with its bytes.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                let rel = entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    out
}

fn build(config: &Path, out: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = bin();
    c.args([
        "build",
        "-c",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--audience",
        "internal",
    ]);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("trailbook runs")
}

#[test]
fn build_writes_numbered_versions_and_never_touches_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let config = example().join("trailbook.toml");
    let o = build(&config, &site, &[]);
    assert_eq!(code(&o), 1, "the example has deny findings: {}", stderr(&o));
    assert!(
        stderr(&o).contains("wrote version v1 of the site"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains(&site.join("v1/index.html").display().to_string()));
    let v1 = tree(&site.join("v1"));
    for page in [
        "index.html",
        "findings.html",
        "models/index.html",
        "datasets/index.html",
        "lineage.html",
        "deployments.html",
        "decisions.html",
        "monitoring.html",
        "incidents/index.html",
        "access.html",
        "retention.html",
        "sources.html",
        "events/1.html",
        "integrity.html",
        "methodology.html",
        "diff.html",
        "packs/eu-ai-act-provider.html",
        "assets/style.css",
        "findings.json",
        "findings.sarif",
        "SHA256SUMS",
    ] {
        assert!(v1.contains_key(page), "v1 has no {page}");
    }
    assert!(
        v1.iter()
            .all(|(p, b)| !p.ends_with(".html") || b.len() < 2 * 1024 * 1024)
    );

    let o = build(&config, &site, &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(tree(&site.join("v1")), v1, "building v2 changed v1");
    let v2_full = tree(&site.join("v2"));
    let mut v2 = v2_full.clone();
    // v2 is chained to v1: `PREVIOUS` holds v1's manifest digest, `sha256sum -c` checks it.
    let previous = v2.remove("PREVIOUS").expect("v2 has PREVIOUS");
    assert_eq!(
        String::from_utf8(previous).unwrap(),
        format!(
            "{}  ../v1/SHA256SUMS\n",
            hex::encode(Sha256::digest(&v1["SHA256SUMS"]))
        )
    );
    assert!(!v1.contains_key("PREVIOUS"), "v1 has no previous version");
    let o = Command::new("sha256sum")
        .args(["-c", "--strict", "PREVIOUS"])
        .current_dir(site.join("v2"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let log = std::fs::read_to_string(site.join("log/entries")).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(log.lines().nth(1).unwrap().ends_with("  v2/SHA256SUMS"));
    assert_eq!(v1.keys().collect::<Vec<_>>(), v2.keys().collect::<Vec<_>>());
    // The same input and as-of: pages differ only in the version number and the links between
    // versions (the overview's and the diff's comparison with the previous version, and the
    // state's version). v2 and v3 are compared: from v2 on, LOG-03 has a previous
    // `inputs.lock` to compare with, so v1's coverage (LOG-03 not evaluable) differs by design.
    let o = build(&config, &site, &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v3 = tree(&site.join("v3"));
    assert_eq!(tree(&site.join("v2")), v2_full, "building v3 changed v2");
    let v2 = v2_full;
    for (path, bytes) in &v2 {
        if [
            "index.html",
            "diff.html",
            "integrity.html",
            "state.json",
            "SHA256SUMS",
            "SHA256SUMS.sig",
            "provenance.json",
            "PREVIOUS",
        ]
        .contains(&path.as_str())
        {
            continue;
        }
        // "first seen v1" stays v1 in v3: a reference between versions too.
        let a = String::from_utf8_lossy(bytes)
            .replace("v3", "vN")
            .replace("v2", "vN")
            .replace("v1", "vN");
        let b = String::from_utf8_lossy(&v3[path])
            .replace("v3", "vN")
            .replace("v2", "vN")
            .replace("v1", "vN");
        assert!(
            a == b,
            "{path} differs between v2 and v3 beyond the version number"
        );
    }
    let versions: Value =
        serde_json::from_slice(&std::fs::read(site.join("versions.json")).unwrap()).unwrap();
    let list = versions["versions"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["version"], 3, "newest first");
    assert_eq!(list[0]["as_of"], "2026-03-31T23:59:59Z");
    assert_eq!(
        list[2]["manifest_sha256"],
        hex::encode(Sha256::digest(&v1["SHA256SUMS"]))
    );
    assert_eq!(list[0]["findings"]["deny"], 4);
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("href=\"v2/index.html\"") && index.contains("href=\"v1/index.html\""));
    let diff = String::from_utf8_lossy(&v2["diff.html"]).into_owned();
    assert!(diff.contains("v1"), "v2's diff compares with v1");
    let integrity = String::from_utf8_lossy(&v2["integrity.html"]).into_owned();
    assert!(
        integrity.contains(&hex::encode(Sha256::digest(&v1["SHA256SUMS"]))),
        "v2's integrity page names v1's manifest digest"
    );
}

#[test]
fn the_manifest_checks_with_sha256sum() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    build(&example().join("trailbook.toml"), &site, &[]);
    let o = Command::new("sha256sum")
        .args(["-c", "--strict", "--quiet", "SHA256SUMS"])
        .current_dir(site.join("v1"))
        .output()
        .expect("sha256sum runs");
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let sums = String::from_utf8(std::fs::read(site.join("v1/SHA256SUMS")).unwrap()).unwrap();
    let files = tree(&site.join("v1"));
    assert_eq!(
        sums.lines().count(),
        files.len() - 2,
        "every file but SHA256SUMS and its signature is listed"
    );
    assert!(
        files.contains_key("SHA256SUMS.sig"),
        "the example is signed"
    );
    let paths: Vec<&str> = sums.lines().map(|l| &l[66..]).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted, "byte-sorted");
}

#[test]
fn the_same_input_gives_byte_identical_versions_whatever_threads_zone_and_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    copy_tree(&example(), &a);
    // The same logs with the files of a source listed one by one, in reverse order.
    let b = dir.path().join("b");
    copy_tree(&example(), &b);
    let mut files: Vec<String> = std::fs::read_dir(b.join("logs/pipeline"))
        .unwrap()
        .map(|e| {
            format!(
                "\"logs/pipeline/{}\"",
                e.unwrap().file_name().to_string_lossy()
            )
        })
        .collect();
    files.sort();
    files.reverse();
    assert!(files.len() > 1);
    let text = std::fs::read_to_string(b.join("trailbook.toml")).unwrap();
    let listed = text.replace(
        "paths = [\"logs/pipeline/*.jsonl\"]",
        &format!("paths = [{}]", files.join(", ")),
    );
    assert_ne!(listed, text);
    std::fs::write(b.join("trailbook.toml"), listed).unwrap();
    build(
        &a.join("trailbook.toml"),
        &dir.path().join("site-a"),
        &[("RAYON_NUM_THREADS", "1"), ("TZ", "UTC"), ("LC_ALL", "C")],
    );
    build(
        &b.join("trailbook.toml"),
        &dir.path().join("site-b"),
        &[
            ("RAYON_NUM_THREADS", "4"),
            ("TZ", "America/Los_Angeles"),
            ("LC_ALL", "de_DE.UTF-8"),
        ],
    );
    let ta = tree(&dir.path().join("site-a/v1"));
    let tb = tree(&dir.path().join("site-b/v1"));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(*bytes == tb[path], "{path} differs between the two builds");
    }
}

#[test]
fn hostile_log_values_render_as_inert_text_in_every_page() {
    let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    let md = "Changed <script>alert(3)</script> [click](javascript:alert(4)) ![x](https://tracker.example/p.png)";
    let events = vec![
        json!({"id": "s1", "ts": "2026-01-01T00:00:00Z", "kind": "system.registered",
               "actor": {"id": evil, "type": "human"}, "subject": {"type": "system", "id": "sys"},
               "attrs": {"name": evil, "intended_purpose": evil, "risk": "high", "role": "provider"}}),
        json!({"id": "d1", "ts": "2026-01-02T00:00:00Z", "kind": "dataset.registered",
               "actor": {"id": "dana", "type": "human"}, "system": "sys",
               "subject": {"type": "dataset", "id": "loans\"><script>alert(5)</script>"},
               "attrs": {"name": evil, "version": "1", "origin": {"source": evil}}}),
        json!({"id": "m1", "ts": "2026-01-03T00:00:00Z", "kind": "model.registered",
               "actor": {"id": "ml", "type": "human"}, "system": "sys",
               "subject": {"type": "model_version", "id": "risk@1.0.0"},
               "attrs": {"model": "risk", "version": "1.0.0", "changelog": md, "justification": md,
                         "datasets": [{"id": "loans\"><script>alert(5)</script>", "role": "train"}]},
               "rationale": {"summary": md}}),
        json!({"id": "i1", "ts": "2026-01-04T00:00:00Z", "kind": "incident.opened",
               "actor": {"id": "ops", "type": "human"}, "system": "sys",
               "subject": {"type": "incident", "id": "INC-<b>1</b>"},
               "attrs": {"title": evil, "serious": true, "affects": ["model_version:risk@1.0.0"],
                         "corrective_actions": md}}),
        json!({"id": "x1", "ts": "2026-01-05T00:00:00Z", "kind": "access",
               "actor": {"id": evil, "type": "human"}, "subject": {"type": "resource", "id": "javascript:alert(6)"},
               "attrs": {"action": "read", "result": "success", "purpose": evil}}),
    ];
    let dir = fixture(chain(&events).as_bytes());
    let site = dir.path().join("site");
    let o = build(&dir.path().join("trailbook.toml"), &site, &[]);
    assert!(code(&o) < 2, "{}", stderr(&o));
    let files = tree(&site.join("v1"));
    let tag_re = regex::Regex::new(r"<[a-z][^<>]*>").unwrap();
    let handler_re = regex::Regex::new(r"\son[a-z]+\s*=").unwrap();
    let mut checked = 0;
    for (path, bytes) in &files {
        if !(path.ends_with(".html") || path.ends_with(".svg")) {
            continue;
        }
        checked += 1;
        let text = String::from_utf8_lossy(bytes).to_lowercase();
        for bad in ["<script>alert", "<img", "<b>1</b>"] {
            assert!(!text.contains(bad), "{path} contains a live `{bad}`");
        }
        // No tag carries an event handler or a javascript: URL, and nothing is fetched.
        for tag in tag_re.find_iter(&text) {
            let tag = tag.as_str();
            assert!(!handler_re.is_match(tag), "{path}: live handler in {tag}");
            assert!(
                !tag.contains("javascript:"),
                "{path}: javascript: URL in {tag}"
            );
            assert!(
                !tag.contains("tracker.example"),
                "{path}: external resource in {tag}"
            );
        }
    }
    assert!(checked > 10);
    for path in files.keys() {
        assert!(
            path.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._/-".contains(&b)),
            "file name {path} is not restricted to [A-Za-z0-9._/-]"
        );
    }
    let findings = String::from_utf8_lossy(&files["index.html"]).into_owned();
    assert!(
        findings.contains("&lt;script&gt;alert(1)&lt;"),
        "the value is shown, as text"
    );
}

#[test]
fn a_build_that_cannot_run_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let o = build(&dir.path().join("missing.toml"), &site, &[]);
    assert_eq!(code(&o), 2);
    assert!(!site.join("v1").exists());
    let o = bin()
        .args([
            "build",
            "-c",
            example().join("trailbook.toml").to_str().unwrap(),
            "--out",
        ])
        .arg(&site)
        .args(["--audience", "internal"])
        .arg("--templates")
        .arg(dir.path().join("no-such-folder"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("no-such-folder"), "{}", stderr(&o));
    assert!(!site.join("v1").exists());
}

#[test]
fn a_template_folder_overrides_one_page() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tpl")).unwrap();
    std::fs::write(
        dir.path().join("tpl/methodology.html"),
        "{% extends \"base.html\" %}{% block content %}<p>House methodology</p>{% endblock %}",
    )
    .unwrap();
    let site = dir.path().join("site");
    let o = bin()
        .args([
            "build",
            "-c",
            example().join("trailbook.toml").to_str().unwrap(),
            "--out",
        ])
        .arg(&site)
        .args(["--audience", "internal"])
        .arg("--templates")
        .arg(dir.path().join("tpl"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let page = std::fs::read_to_string(site.join("v1/methodology.html")).unwrap();
    assert!(page.contains("House methodology"));
    let other = std::fs::read_to_string(site.join("v1/findings.html")).unwrap();
    assert!(
        other.contains("findings.json"),
        "other pages keep the built-in templates"
    );
}
