//! Writing a version into a site root without ever touching an earlier one (`INTEGRITY.md`,
//! "Safe publishing").
//!
//! A site root holds `v1/`, `v2/`, …, the root `index.html` and `versions.json`. The next version
//! is written into a hidden staging folder `.staging-vN/`, its files flushed to disk, and only
//! then renamed to `vN/`; a build killed at any moment leaves either no `vN` or a complete one. A
//! staging folder left by a killed build is removed by the next build. An OS lock on `.lock`
//! keeps two builds from writing the same root at once. The root `index.html` and `versions.json` are
//! rebuilt from the versions on disk and replaced atomically (write, then rename).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Pages, PrevFinding, Previous};

/// The versions present in `root`, ascending.
pub fn versions(root: &Path) -> anyhow::Result<Vec<u32>> {
    let mut out = Vec::new();
    if !root.exists() {
        return Ok(out);
    }
    for entry in
        fs::read_dir(root).with_context(|| format!("cannot read site root `{}`", root.display()))?
    {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name.strip_prefix('v').and_then(|n| n.parse::<u32>().ok())
            && name == format!("v{n}")
        {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The machine state a version keeps for the next one (`state.json`).
#[derive(Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub as_of: String,
    pub findings: std::collections::BTreeMap<String, StateFinding>,
    /// Entity node id → SHA-256 over its timeline's event ids.
    pub entities: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
pub struct StateFinding {
    pub rule: String,
    pub level: String,
    pub subject: String,
    pub message: String,
    pub first_seen: u32,
}

/// Reads what version `n` of `root` said, for the diff against it. A version without a readable
/// `state.json` (tampered, or from another tool) is an error: the diff would be wrong.
pub fn previous(root: &Path, n: u32) -> anyhow::Result<Previous> {
    let path = root.join(format!("v{n}/state.json"));
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let state: State = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not a trailbook state file", path.display()))?;
    Ok(Previous {
        version: state.version,
        as_of: state.as_of,
        findings: state
            .findings
            .into_iter()
            .map(|(id, f)| {
                (
                    id,
                    PrevFinding {
                        rule: f.rule,
                        level: f.level,
                        subject: f.subject,
                        message: f.message,
                        first_seen: Some(f.first_seen),
                    },
                )
            })
            .collect(),
        entities: state.entities,
        sums_sha256: fs::read(root.join(format!("v{n}/SHA256SUMS")))
            .ok()
            .map(|b| hex::encode(Sha256::digest(&b))),
    })
}

/// Holds the root's lock while a build writes into it: an OS file lock on `ROOT/.lock`, which the
/// system releases when the process ends, however it ends, so a killed build never blocks the next.
pub struct Lock {
    _file: File,
}

impl Lock {
    pub fn take(root: &Path) -> anyhow::Result<Lock> {
        fs::create_dir_all(root)
            .with_context(|| format!("cannot create site root `{}`", root.display()))?;
        let path = root.join(".lock");
        let file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open lock `{}`", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Lock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => bail!(
                "site root `{}` is being written by another build; wait for it to finish",
                root.display()
            ),
            Err(fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock `{}`", path.display()))
            }
        }
    }
}

/// Writes `pages` as version `n` of `root`: staging folder, flush, rename. Fails, writing
/// nothing visible, if `vN` exists.
pub fn write_version(root: &Path, n: u32, pages: &Pages) -> anyhow::Result<PathBuf> {
    let target = root.join(format!("v{n}"));
    if target.exists() {
        bail!(
            "version folder `{}` already exists; versions are never overwritten",
            target.display()
        );
    }
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(".staging-") {
            fs::remove_dir_all(entry.path()).with_context(|| {
                format!(
                    "cannot remove stale staging folder `{}`",
                    entry.path().display()
                )
            })?;
        }
    }
    let staging = root.join(format!(".staging-v{n}"));
    fs::create_dir(&staging).with_context(|| format!("cannot create `{}`", staging.display()))?;
    for (path, bytes) in &pages.files {
        let file = staging.join(path);
        if let Some(dir) = file.parent() {
            fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
        }
        write_synced(&file, bytes)?;
    }
    sync_dir(&staging);
    fs::rename(&staging, &target).with_context(|| {
        format!(
            "cannot move `{}` to `{}`",
            staging.display(),
            target.display()
        )
    })?;
    sync_dir(root);
    Ok(target)
}

/// Replaces `path` with `bytes` atomically.
pub fn replace(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    write_synced(&tmp, bytes)?;
    fs::rename(&tmp, path).with_context(|| format!("cannot replace `{}`", path.display()))
}

/// Creates `path` with `bytes`, flushed to disk.
pub fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = File::create(path).with_context(|| format!("cannot write `{}`", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

pub fn sync_dir(dir: &Path) {
    // Directory fsync makes the rename durable; not every platform supports it, and a failure
    // here loses durability, not correctness.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Each version of `root` with the SHA-256 of its `SHA256SUMS`, ascending.
pub fn manifests(root: &Path) -> anyhow::Result<Vec<(u32, String)>> {
    versions(root)?
        .into_iter()
        .map(|n| {
            let sums = root.join(format!("v{n}/SHA256SUMS"));
            let bytes =
                fs::read(&sums).with_context(|| format!("cannot read `{}`", sums.display()))?;
            Ok((n, hex::encode(Sha256::digest(&bytes))))
        })
        .collect()
}

/// Brings the version log `log/entries` up to the versions on disk: one line per version,
/// `<sha256 of vN/SHA256SUMS>  vN/SHA256SUMS`, in version order (`INTEGRITY.md` §3). Existing
/// lines are never rewritten: a line that no longer matches its version's manifest is an error
/// (the version or the log was altered), and a version missing from the log (a build killed
/// between publishing and logging) is appended.
pub fn append_log(root: &Path, manifests: &[(u32, String)]) -> anyhow::Result<()> {
    let path = root.join("log/entries");
    let old = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    };
    let mut text = old.clone();
    let logged = old.lines().count();
    for (i, (n, digest)) in manifests.iter().enumerate() {
        let line = format!("{digest}  v{n}/SHA256SUMS");
        if i < logged {
            let found = old.lines().nth(i).unwrap_or_default();
            if found != line {
                bail!(
                    "`{}` line {}: `{found}` does not match version v{n} (expected `{line}`); the version or the log was altered, so no new version is logged",
                    path.display(),
                    i + 1
                );
            }
        } else {
            text.push_str(&line);
            text.push('\n');
        }
    }
    if text != old {
        fs::create_dir_all(root.join("log"))
            .with_context(|| format!("cannot create `{}`", root.join("log").display()))?;
        replace(&path, text.as_bytes())?;
    }
    Ok(())
}

/// One line of `versions.json`.
#[derive(Serialize)]
pub struct VersionEntry {
    pub version: u32,
    pub as_of: String,
    /// SHA-256 of the version's `SHA256SUMS`.
    pub manifest_sha256: String,
    pub findings: Counts,
    pub passed: bool,
}

#[derive(Serialize, Deserialize, Default, Clone, Copy)]
pub struct Counts {
    pub deny: usize,
    pub warn: usize,
    pub info: usize,
    pub waived: usize,
}

#[derive(Deserialize)]
struct FindingsFile {
    summary: FindingsSummary,
}

#[derive(Deserialize)]
struct FindingsSummary {
    as_of: String,
    findings: Counts,
    passed: bool,
}

/// The entries of `versions.json`, newest first, read back from the versions' findings reports;
/// `manifests` as [`manifests`] gives them.
pub fn entries(root: &Path, manifests: &[(u32, String)]) -> anyhow::Result<Vec<VersionEntry>> {
    let mut out = Vec::new();
    for (n, digest) in manifests.iter().rev() {
        let dir = root.join(format!("v{n}"));
        let findings = fs::read_to_string(dir.join("findings.json"))
            .with_context(|| format!("cannot read `{}`", dir.join("findings.json").display()))?;
        let f: FindingsFile = serde_json::from_str(&findings).with_context(|| {
            format!(
                "`{}` is not a findings report",
                dir.join("findings.json").display()
            )
        })?;
        out.push(VersionEntry {
            version: *n,
            as_of: f.summary.as_of,
            manifest_sha256: digest.clone(),
            findings: f.summary.findings,
            passed: f.summary.passed,
        });
    }
    Ok(out)
}

/// `SHA256SUMS` of a version: `<sha256>  <path>` per file, byte-sorted by path, LF endings
/// (`sha256sum -c --strict` reads it).
pub fn sha256sums(digests: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (path, digest) in digests {
        out.push_str(digest);
        out.push_str("  ");
        out.push_str(path);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_folders_only() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["v1", "v10", "v2", "v02", "vx", ".staging-v3", "assets"] {
            fs::create_dir(dir.path().join(d)).unwrap();
        }
        assert_eq!(versions(dir.path()).unwrap(), vec![1, 2, 10]);
    }

    #[test]
    fn a_version_is_never_overwritten_and_staging_is_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let mut pages = Pages::default();
        pages.add("index.html", b"one".to_vec());
        fs::create_dir_all(dir.path().join(".staging-v1/half")).unwrap();
        write_version(dir.path(), 1, &pages).unwrap();
        assert!(!dir.path().join(".staging-v1").exists());
        assert_eq!(fs::read(dir.path().join("v1/index.html")).unwrap(), b"one");
        pages.add("index.html", b"two".to_vec());
        let err = write_version(dir.path(), 1, &pages).unwrap_err();
        assert!(format!("{err:#}").contains("never overwritten"), "{err:#}");
        assert_eq!(fs::read(dir.path().join("v1/index.html")).unwrap(), b"one");
    }

    #[test]
    fn the_log_appends_and_refuses_a_rewritten_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut pages = Pages::default();
        pages.add("SHA256SUMS", b"a\n".to_vec());
        write_version(dir.path(), 1, &pages).unwrap();
        append_log(dir.path(), &manifests(dir.path()).unwrap()).unwrap();
        pages.add("SHA256SUMS", b"b\n".to_vec());
        write_version(dir.path(), 2, &pages).unwrap();
        append_log(dir.path(), &manifests(dir.path()).unwrap()).unwrap();
        let log = fs::read_to_string(dir.path().join("log/entries")).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            format!("{}  v1/SHA256SUMS", hex::encode(Sha256::digest(b"a\n")))
        );
        assert!(lines[1].ends_with("  v2/SHA256SUMS"));
        // Replacing v1's manifest is caught on the next build.
        fs::write(dir.path().join("v1/SHA256SUMS"), b"forged\n").unwrap();
        let err = append_log(dir.path(), &manifests(dir.path()).unwrap()).unwrap_err();
        assert!(
            format!("{err:#}").contains("does not match version v1"),
            "{err:#}"
        );
    }

    #[test]
    fn a_second_build_on_a_locked_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let lock = Lock::take(dir.path()).unwrap();
        let err = Lock::take(dir.path()).err().unwrap();
        assert!(format!("{err:#}").contains("another build"), "{err:#}");
        drop(lock);
        Lock::take(dir.path()).unwrap();
    }

    #[test]
    fn manifest_is_sorted_sha256sum_format() {
        let mut pages = Pages::default();
        pages.add("b.html", b"b".to_vec());
        pages.add("a/z.html", b"".to_vec());
        let digests: BTreeMap<String, String> = pages
            .files
            .iter()
            .map(|(p, b)| (p.clone(), hex::encode(Sha256::digest(b))))
            .collect();
        let sums = sha256sums(&digests);
        assert_eq!(
            sums,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a/z.html\n\
             3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b.html\n"
        );
    }
}
