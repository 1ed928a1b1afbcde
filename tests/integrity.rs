//! Issue 5 acceptance, as a regulator would try it: build the signed example twice, verify with
//! `trailbook verify`, `examples/verify.sh` and `ssh-keygen`; tamper with a version in every way
//! and see each one named; truncate an input between builds; kill builds with SIGKILL.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trailbook"));
    c.env_remove("SOURCE_DATE_EPOCH");
    c
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed by a signal")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the signed example (without any site built in the checkout).
fn example(dir: &Path) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_name() == "site" {
                continue;
            }
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).unwrap();
            }
        }
    }
    let to = dir.join("example");
    copy(&repo().join("examples/credit-risk"), &to);
    to
}

fn build(config: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("build")
        .arg("-c")
        .arg(config)
        .args(extra)
        .output()
        .unwrap()
}

fn verify(site: &Path, extra: &[&str]) -> Output {
    bin().arg("verify").arg(site).args(extra).output().unwrap()
}

fn verify_sh(site: &Path, extra: &[&str]) -> Output {
    Command::new("sh")
        .arg(repo().join("examples/verify.sh"))
        .args(extra)
        .arg(site)
        .output()
        .unwrap()
}

const IDENTITY: &str = "evidence@example-bank.test";

/// Both verifiers, with the example's allowed signers: (trailbook, verify.sh).
fn both(site: &Path, ex: &Path, extra: &[&str]) -> (Output, Output) {
    let allowed = ex.join("allowed_signers");
    let allowed = allowed.to_str().unwrap();
    let mut a = vec!["--allowed-signers", allowed];
    let mut b = vec!["-s", allowed, "-I", IDENTITY];
    for pair in extra.chunks(2) {
        if pair[0] == "--checkpoint" {
            a.extend(pair);
            b.extend(["-c", pair[1]]);
        }
    }
    (verify(site, &a), verify_sh(site, &b))
}

fn two_versions() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ex = example(dir.path());
    let config = ex.join("trailbook.toml");
    for _ in 0..2 {
        let o = build(&config, &[]);
        assert!(matches!(code(&o), 0 | 1), "{}", out(&o));
    }
    let site = ex.join("site/internal");
    (dir, ex, site)
}

#[test]
fn two_signed_versions_verify_with_trailbook_verify_sh_and_ssh_keygen() {
    let (_dir, ex, site) = two_versions();
    let (a, b) = both(&site, &ex, &[]);
    assert_eq!(code(&a), 0, "{}", out(&a));
    assert!(out(&a).contains("intact: 2 versions"), "{}", out(&a));
    assert!(out(&a).contains("2 signed"), "{}", out(&a));
    assert_eq!(code(&b), 0, "{}", out(&b));
    // Without an allowed signers file the signatures are still checked, with a note.
    let a = verify(&site, &[]);
    assert_eq!(code(&a), 0, "{}", out(&a));
    assert!(out(&a).contains("--allowed-signers"), "{}", out(&a));
    // ssh-keygen alone, as the integrity page says.
    let v2 = site.join("v2");
    let o = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(ex.join("allowed_signers"))
        .args(["-I", IDENTITY, "-n", "trailbook", "-s"])
        .arg(v2.join("SHA256SUMS.sig"))
        .stdin(std::fs::File::open(v2.join("SHA256SUMS")).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("Good \"trailbook\" signature"),
        "{}",
        out(&o)
    );
    let log = site.join("log");
    let o = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(ex.join("allowed_signers"))
        .args(["-I", IDENTITY, "-n", "trailbook-checkpoint", "-s"])
        .arg(log.join("checkpoint.sig"))
        .stdin(std::fs::File::open(log.join("checkpoint")).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    // The version carries its lock and provenance, listed in the manifest.
    let sums = std::fs::read_to_string(v2.join("SHA256SUMS")).unwrap();
    assert!(sums.contains("  inputs.lock\n") && sums.contains("  provenance.json\n"));
    assert!(!sums.contains("SHA256SUMS.sig"));
    let prov: serde_json::Value =
        serde_json::from_slice(&std::fs::read(v2.join("provenance.json")).unwrap()).unwrap();
    assert_eq!(prov["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(prov["predicateType"], "https://slsa.dev/provenance/v1");
    let deps = prov["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    assert_eq!(deps.len(), 5, "one per input file");
    let subjects = prov["subject"].as_array().unwrap();
    assert!(subjects.iter().any(|s| s["name"] == "index.html"));
    assert!(!subjects.iter().any(|s| s["name"] == "provenance.json"));
}

#[test]
fn every_kind_of_tampering_is_named_by_both_verifiers() {
    type Tamper = fn(&Path);
    let cases: &[(&str, Tamper, &str)] = &[
        (
            "one byte changed",
            |s| {
                let p = s.join("v1/findings.html");
                let mut b = std::fs::read(&p).unwrap();
                b[100] ^= 1;
                std::fs::write(p, b).unwrap();
            },
            "v1/findings.html",
        ),
        (
            "file added",
            |s| std::fs::write(s.join("v1/models/extra.html"), "<p>new</p>").unwrap(),
            "v1/models/extra.html",
        ),
        (
            "file deleted",
            |s| std::fs::remove_file(s.join("v1/lineage.html")).unwrap(),
            "v1/lineage.html",
        ),
        (
            "signature replaced by another key's",
            |s| {
                // ssh-keygen wants a private key only its owner can read.
                use std::os::unix::fs::PermissionsExt;
                let key = s.join("other_key");
                std::fs::copy(repo().join("tests/fixtures/keys/test_ed25519"), &key).unwrap();
                std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
                std::fs::remove_file(s.join("v1/SHA256SUMS.sig")).unwrap();
                let o = Command::new("ssh-keygen")
                    .args(["-Y", "sign", "-n", "trailbook", "-f"])
                    .arg(&key)
                    .arg(s.join("v1/SHA256SUMS"))
                    .output()
                    .unwrap();
                assert!(o.status.success(), "{}", out(&o));
                std::fs::remove_file(&key).unwrap();
            },
            "v1/SHA256SUMS.sig",
        ),
        (
            "a version removed",
            |s| std::fs::remove_dir_all(s.join("v1")).unwrap(),
            "v1",
        ),
    ];
    for (what, tamper, named) in cases {
        let (_dir, ex, site) = two_versions();
        tamper(&site);
        let (a, b) = both(&site, &ex, &[]);
        assert_eq!(code(&a), 1, "{what}: trailbook verify: {}", out(&a));
        assert!(
            out(&a).contains(named),
            "{what}: names {named}: {}",
            out(&a)
        );
        assert_eq!(code(&b), 1, "{what}: verify.sh: {}", out(&b));
        assert!(
            out(&b).contains(named),
            "{what}: verify.sh names {named}: {}",
            out(&b)
        );
    }
}

#[test]
fn a_wholesale_resigned_rewrite_is_caught_by_a_kept_checkpoint() {
    let (dir, ex, site) = two_versions();
    let kept = dir.path().join("kept-checkpoint");
    std::fs::copy(site.join("log/checkpoint"), &kept).unwrap();
    let kept = kept.to_str().unwrap().to_string();
    let (a, b) = both(&site, &ex, &["--checkpoint", &kept]);
    assert_eq!(code(&a), 0, "{}", out(&a));
    assert_eq!(code(&b), 0, "{}", out(&b));
    // The publisher's key signs a different history: v1 rebuilt from altered inputs, then v2,
    // with consistent manifests, PREVIOUS, log and checkpoint.
    let forged = dir.path().join("forged");
    std::fs::create_dir(&forged).unwrap();
    let ex2 = example(&forged);
    let serving = ex2.join("logs/serving");
    let first = std::fs::read_dir(&serving)
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    let text = std::fs::read_to_string(&first).unwrap();
    let kept_lines: Vec<&str> = text.lines().take(text.lines().count() - 5).collect();
    std::fs::write(&first, kept_lines.join("\n") + "\n").unwrap();
    for _ in 0..2 {
        build(&ex2.join("trailbook.toml"), &[]);
    }
    std::fs::remove_dir_all(&site).unwrap();
    std::fs::rename(ex2.join("site/internal"), &site).unwrap();
    let (a, b) = both(&site, &ex, &[]);
    assert_eq!(
        code(&a),
        0,
        "a consistent forgery by the key holder verifies on its own: {}",
        out(&a)
    );
    assert_eq!(code(&b), 0, "{}", out(&b));
    let (a, b) = both(&site, &ex, &["--checkpoint", &kept]);
    assert_eq!(code(&a), 1, "{}", out(&a));
    assert!(out(&a).contains("history was rewritten"), "{}", out(&a));
    assert_eq!(code(&b), 1, "{}", out(&b));
    assert!(out(&b).contains("history was rewritten"), "{}", out(&b));
}

#[test]
fn a_truncated_input_tail_is_reported_by_the_next_build() {
    let dir = tempfile::tempdir().unwrap();
    let ex = example(dir.path());
    let config = ex.join("trailbook.toml");
    let o = build(&config, &[]);
    assert!(!out(&o).contains("LOG-03"), "{}", out(&o));
    let v1: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ex.join("site/internal/v1/findings.json")).unwrap())
            .unwrap();
    assert!(!v1.to_string().contains("\"LOG-03\",\"level\":\"deny\""));
    // Remove the last 3 lines of the last serving file: the chain itself stays intact.
    let serving = ex.join("logs/serving");
    let last = std::fs::read_dir(&serving)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let text = std::fs::read_to_string(&last).unwrap();
    let n = text.lines().count();
    let kept: Vec<&str> = text.lines().take(n - 3).collect();
    std::fs::write(&last, kept.join("\n") + "\n").unwrap();
    let o = build(&config, &[]);
    assert_eq!(code(&o), 1, "{}", out(&o));
    let findings = std::fs::read_to_string(ex.join("site/internal/v2/findings.json")).unwrap();
    let name = last.file_name().unwrap().to_str().unwrap();
    let v: serde_json::Value = serde_json::from_str(&findings).unwrap();
    let log03: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "LOG-03")
        .collect();
    assert_eq!(log03.len(), 1, "{findings}");
    let msg = log03[0]["message"].as_str().unwrap();
    assert!(msg.contains("truncated") && msg.contains(name), "{msg}");
    assert!(msg.contains(&format!("had {n} lines")), "{msg}");
    assert_eq!(log03[0]["level"], "deny");
    // The site itself is intact: the finding is about the input, not the evidence.
    let (a, _) = both(&ex.join("site/internal"), &ex, &[]);
    assert_eq!(code(&a), 0, "{}", out(&a));
}

#[test]
fn builds_killed_at_any_moment_leave_a_verifiable_site() {
    let dir = tempfile::tempdir().unwrap();
    let ex = example(dir.path());
    let config = ex.join("trailbook.toml");
    let site = ex.join("site/internal");
    let o = build(&config, &[]);
    assert!(matches!(code(&o), 0 | 1), "{}", out(&o));
    // Kill builds after delays that sweep the whole build (a debug build of the example takes
    // about a second): early, during render, while writing, around the rename and the log.
    let full = {
        let t = std::time::Instant::now();
        build(&config, &[]);
        t.elapsed()
    };
    let steps = 24u32;
    for i in 0..steps {
        let delay = full * i / steps + std::time::Duration::from_millis(u64::from(i % 3) * 7);
        let mut child = bin()
            .arg("build")
            .arg("-c")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        let (a, b) = both(&site, &ex, &[]);
        assert_eq!(code(&a), 0, "after a kill at {delay:?}: {}", out(&a));
        assert_eq!(code(&b), 0, "after a kill at {delay:?}: {}", out(&b));
        for e in std::fs::read_dir(&site).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let versionish =
                name.starts_with('v') && name[1..].starts_with(|c: char| c.is_ascii_digit());
            assert!(
                !versionish || name[1..].parse::<u32>().is_ok(),
                "only whole versions are visible: {name}"
            );
        }
    }
    // The next build completes whatever a kill interrupted, and the site still verifies.
    let o = build(&config, &[]);
    assert!(matches!(code(&o), 0 | 1), "{}", out(&o));
    let (a, b) = both(&site, &ex, &[]);
    assert_eq!(code(&a), 0, "{}", out(&a));
    assert!(
        !out(&a).contains("note      v"),
        "every version logged: {}",
        out(&a)
    );
    assert_eq!(code(&b), 0, "{}", out(&b));
}

#[test]
fn verify_that_cannot_run_says_why_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = verify(&dir.path().join("nowhere"), &[]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(out(&o).contains("is not a folder"), "{}", out(&o));
    let o = verify(dir.path(), &[]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(out(&o).contains("holds no site version"), "{}", out(&o));
    let o = verify_sh(dir.path(), &[]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    let (_dir, _ex, site) = two_versions();
    let bad = dir.path().join("not-a-checkpoint");
    std::fs::write(&bad, "hello\n").unwrap();
    let o = verify(&site, &["--checkpoint", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(
        out(&o).contains("not a trailbook log checkpoint"),
        "{}",
        out(&o)
    );
    let o = verify(&site, &["--version", "7"]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(out(&o).contains("v1, v2"), "{}", out(&o));
}
