//! `trailbook verify SITE` (`INTEGRITY.md` §3): everything a regulator checks, by the same rules
//! as `examples/verify.sh`.
//!
//! Per version: every file listed in `SHA256SUMS` has its digest, no file is added or missing, the
//! manifest is well formed (byte-sorted, `sha256sum` lines), its signature verifies (and, given
//! `allowed_signers`, was made by an allowed key in its namespace), and `PREVIOUS` names the
//! previous version's manifest digest. For the site: versions are numbered 1…N without a hole,
//! `log/entries` has one line per version with its manifest digest, `log/checkpoint` is the
//! RFC 6962 root of the log and its signature verifies, and a checkpoint kept from earlier is a
//! prefix of today's log (history was only appended to).
//!
//! Problems are collected, never stopping at the first, so a report names every bad file.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::checkpoint::{self, Checkpoint};
use super::sign::{self, Allowed, CHECKPOINT_SUFFIX};

pub struct Options {
    pub version: Option<u32>,
    pub allowed_signers: Option<PathBuf>,
    pub checkpoint: Option<PathBuf>,
}

/// The outcome: `problems` are tampering (exit 1); `notes` are facts the reader should know.
#[derive(Debug, Default)]
pub struct Report {
    pub versions: Vec<u32>,
    pub checked_files: u64,
    pub signed: Vec<u32>,
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Errors here mean the check could not run (exit 2): no site, unreadable options.
pub fn run(site: &Path, opts: &Options) -> anyhow::Result<Report> {
    if !site.is_dir() {
        anyhow::bail!(
            "`{}` is not a folder: give the site root (the folder holding `versions.json`, `log/` and `v1/`, `v2/`, …)",
            site.display()
        );
    }
    let allowed = opts
        .allowed_signers
        .as_ref()
        .map(sign::read_allowed_signers)
        .transpose()?;
    let kept = opts
        .checkpoint
        .as_ref()
        .map(|p| {
            let text = fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read checkpoint `{}`: {e}", p.display()))?;
            Checkpoint::parse(&text).map_err(|e| {
                anyhow::anyhow!("`{}` is not a trailbook log checkpoint: {e}", p.display())
            })
        })
        .transpose()?;
    let mut r = Report::default();
    let mut versions = Vec::new();
    for entry in fs::read_dir(site)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(n) = name.strip_prefix('v').and_then(|n| n.parse::<u32>().ok())
            && n >= 1
            && format!("v{n}") == name
            && entry.file_type()?.is_dir()
        {
            versions.push(n);
        }
    }
    versions.sort_unstable();
    let entries_text = fs::read_to_string(site.join("log/entries")).ok();
    if versions.is_empty() && entries_text.is_none() {
        anyhow::bail!(
            "`{}` holds no site version (no `v1/` folder and no `log/entries`): give the site root",
            site.display()
        );
    }
    if let Some(n) = opts.version
        && !versions.contains(&n)
    {
        anyhow::bail!(
            "version v{n} is not in `{}` (versions present: {})",
            site.display(),
            list(&versions)
        );
    }
    r.versions = versions.clone();
    for (i, &n) in versions.iter().enumerate() {
        if n != i as u32 + 1 {
            r.problems.push(format!(
                "v{}: missing (versions present: {}); a published version was removed",
                i + 1,
                list(&versions)
            ));
            break;
        }
    }

    // Each version's manifest digest, for PREVIOUS and the log.
    let mut digests: Vec<(u32, Option<String>)> = Vec::new();
    let mut signer_keys: BTreeSet<String> = BTreeSet::new();
    let mut namespace: Option<String> = None;
    for &n in &versions {
        let dir = site.join(format!("v{n}"));
        let sums = fs::read(dir.join("SHA256SUMS")).ok();
        digests.push((n, sums.as_ref().map(|b| hex::encode(Sha256::digest(b)))));
        let Some(sums) = sums else {
            r.problems.push(format!(
                "v{n}/SHA256SUMS: missing; the version cannot be checked"
            ));
            continue;
        };
        if opts.version.is_none_or(|v| v == n) {
            check_files(&dir, n, &sums, &mut r);
        }
        match fs::read_to_string(dir.join("SHA256SUMS.sig")) {
            Ok(sig) => match sign::verify_any(&sig, &sums) {
                Ok((ns, v)) => {
                    if ns.ends_with(CHECKPOINT_SUFFIX) {
                        r.problems.push(format!(
                            "v{n}/SHA256SUMS.sig: signed in the checkpoint namespace `{ns}`, not a manifest signature"
                        ));
                        continue;
                    }
                    if let Some(ns0) = &namespace
                        && *ns0 != ns
                    {
                        r.notes.push(format!(
                            "v{n}/SHA256SUMS.sig: namespace `{ns}` differs from earlier versions' `{ns0}`"
                        ));
                    }
                    namespace.get_or_insert(ns.clone());
                    if let Some(allowed) = &allowed {
                        let who = sign::allowed_principals(allowed, &v.public, &ns);
                        if who.is_empty() {
                            r.problems.push(format!(
                                "v{n}/SHA256SUMS.sig: made by key {}, which the allowed signers file does not accept in namespace `{ns}`",
                                v.fingerprint
                            ));
                            continue;
                        }
                    }
                    signer_keys.insert(v.fingerprint);
                    r.signed.push(n);
                }
                Err(e) => r.problems.push(format!("v{n}/SHA256SUMS.sig: {e}")),
            },
            Err(_) if allowed.is_some() => r.problems.push(format!(
                "v{n}: unsigned, but an allowed signers file was given: every version must be signed by an allowed key"
            )),
            Err(_) => {}
        }
        // PREVIOUS
        let prev = fs::read_to_string(dir.join("PREVIOUS")).ok();
        match (n, prev) {
            (1, None) => {}
            (1, Some(_)) => r
                .problems
                .push("v1/PREVIOUS: the first version cannot have a previous one".into()),
            (_, None) => r.problems.push(format!(
                "v{n}/PREVIOUS: missing; the version is not chained to v{}",
                n - 1
            )),
            (_, Some(text)) => {
                let expected = digests
                    .iter()
                    .find(|(v, _)| *v == n - 1)
                    .and_then(|(_, d)| d.clone());
                let want = expected
                    .as_ref()
                    .map(|d| format!("{d}  ../v{}/SHA256SUMS\n", n - 1));
                if want.as_deref() != Some(text.as_str()) {
                    r.problems.push(format!(
                        "v{n}/PREVIOUS: names manifest digest `{}`, but ../v{}/SHA256SUMS has {}: v{} was changed after v{n} was built (or v{n}/PREVIOUS was)",
                        text.split_whitespace().next().unwrap_or(""),
                        n - 1,
                        expected.as_deref().unwrap_or("no manifest"),
                        n - 1
                    ));
                }
            }
        }
    }
    match signer_keys.len() {
        0 if r.signed.is_empty() => r.notes.push(
            "no version is signed: the manifests prove the files unchanged relative to digests you hold, not who published them".into(),
        ),
        1 if allowed.is_none() => r.notes.push(format!(
            "signatures verify with key {}; give --allowed-signers FILE to check that it is the publisher's key",
            signer_keys.first().map_or("", String::as_str)
        )),
        k if k > 1 => r.notes.push(format!(
            "versions are signed by {k} different keys: {}",
            signer_keys.iter().cloned().collect::<Vec<_>>().join(", ")
        )),
        _ => {}
    }
    if !r.signed.is_empty() && r.signed.len() < versions.len() && allowed.is_none() {
        let unsigned: Vec<u32> = versions
            .iter()
            .copied()
            .filter(|v| !r.signed.contains(v))
            .collect();
        r.notes
            .push(format!("unsigned versions: {}", list(&unsigned)));
    }

    // The version log.
    let entries = entries_text.unwrap_or_default();
    check_log(&entries, &digests, &mut r);
    check_checkpoint(
        site,
        &entries,
        namespace.as_deref(),
        allowed.as_deref(),
        &mut r,
    );
    if let Some(kept) = kept {
        match checkpoint::root_of(&entries, kept.size) {
            None => r.problems.push(format!(
                "log/entries: has {} lines, fewer than the {} of the checkpoint you kept: history was truncated",
                entries.lines().count(),
                kept.size
            )),
            Some(root) if root != kept.root => r.problems.push(format!(
                "log/entries: the first {} lines are not the ones of the checkpoint you kept: history was rewritten",
                kept.size
            )),
            Some(_) => r.notes.push(format!(
                "the checkpoint you kept ({} entries) is a prefix of today's log: history was only appended to",
                kept.size
            )),
        }
        let today = fs::read_to_string(site.join("log/checkpoint"))
            .ok()
            .and_then(|t| Checkpoint::parse(&t).ok());
        if let Some(today) = today
            && today.origin != kept.origin
        {
            r.problems.push(format!(
                "log/checkpoint: origin `{}` is not the origin `{}` of the checkpoint you kept",
                today.origin, kept.origin
            ));
        }
    }
    Ok(r)
}

fn list(versions: &[u32]) -> String {
    if versions.is_empty() {
        return "none".into();
    }
    versions
        .iter()
        .map(|v| format!("v{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Digests, added and missing files of one version.
fn check_files(dir: &Path, n: u32, sums: &[u8], r: &mut Report) {
    let Ok(text) = std::str::from_utf8(sums) else {
        r.problems.push(format!("v{n}/SHA256SUMS: not UTF-8 text"));
        return;
    };
    let mut listed: Vec<&str> = Vec::new();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let Some(line) = line.strip_suffix('\n') else {
            r.problems.push(format!(
                "v{n}/SHA256SUMS line {}: not terminated by a newline",
                i + 1
            ));
            continue;
        };
        let parsed = line.split_once("  ").filter(|(d, p)| {
            d.len() == 64
                && d.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                && !p.is_empty()
        });
        let Some((digest, path)) = parsed else {
            r.problems.push(format!(
                "v{n}/SHA256SUMS line {}: not `<sha256>  <path>`",
                i + 1
            ));
            continue;
        };
        if !crate::render::links::valid_path(path) || path.split('/').any(|c| c == "..") {
            r.problems.push(format!(
                "v{n}/SHA256SUMS line {}: `{path}` is not a file name a site may hold",
                i + 1
            ));
            continue;
        }
        if listed.last().is_some_and(|last| *last >= path) {
            r.problems.push(format!(
                "v{n}/SHA256SUMS line {}: `{path}` is out of byte order or repeated",
                i + 1
            ));
        }
        listed.push(path);
        r.checked_files += 1;
        match fs::read(dir.join(path)) {
            Ok(bytes) => {
                if hex::encode(Sha256::digest(&bytes)) != digest {
                    r.problems.push(format!(
                        "v{n}/{path}: content differs from its SHA-256 in SHA256SUMS (modified)"
                    ));
                }
            }
            Err(_) => r
                .problems
                .push(format!("v{n}/{path}: listed in SHA256SUMS but missing")),
        }
    }
    let listed: BTreeSet<&str> = listed.into_iter().collect();
    let mut present = Vec::new();
    walk(dir, "", &mut present);
    for path in present {
        if path != "SHA256SUMS" && path != "SHA256SUMS.sig" && !listed.contains(path.as_str()) {
            r.problems
                .push(format!("v{n}/{path}: not listed in SHA256SUMS (added)"));
        }
    }
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&e.path(), &path, out),
            _ => out.push(path),
        }
    }
}

/// `log/entries` against the versions present.
fn check_log(entries: &str, digests: &[(u32, Option<String>)], r: &mut Report) {
    let lines: Vec<&str> = entries.lines().collect();
    if !entries.is_empty() && !entries.ends_with('\n') {
        r.problems
            .push("log/entries: the last line is not terminated by a newline".into());
    }
    for (i, line) in lines.iter().enumerate() {
        let n = i as u32 + 1;
        let want_path = format!("v{n}/SHA256SUMS");
        let Some((digest, path)) = line.split_once("  ") else {
            r.problems.push(format!(
                "log/entries line {n}: not `<sha256>  v{n}/SHA256SUMS`"
            ));
            continue;
        };
        if path != want_path {
            r.problems.push(format!(
                "log/entries line {n}: names `{path}`, expected `{want_path}`"
            ));
            continue;
        }
        match digests.iter().find(|(v, _)| *v == n) {
            None => r.problems.push(format!(
                "log/entries line {n}: v{n} is logged but its folder is missing: a published version was removed"
            )),
            Some((_, Some(d))) if d != digest => r.problems.push(format!(
                "log/entries line {n}: v{n}/SHA256SUMS has SHA-256 {d}, the log recorded {digest}: v{n} was replaced after it was published"
            )),
            _ => {}
        }
    }
    let logged = lines.len() as u32;
    for (v, _) in digests {
        if *v > logged {
            if *v == logged + 1 && digests.last().is_some_and(|(last, _)| last == v) {
                r.notes.push(format!(
                    "v{v} is not in log/entries yet: the build that published it was interrupted before logging it; the next build logs it"
                ));
            } else {
                r.problems.push(format!(
                    "v{v}: not in log/entries: the version was not published by a build of this site"
                ));
            }
        }
    }
}

/// `log/checkpoint` (+ signature), tolerating a pair left half-moved by a killed build.
fn check_checkpoint(
    site: &Path,
    entries: &str,
    namespace: Option<&str>,
    allowed: Option<&[Allowed]>,
    r: &mut Report,
) {
    let log = site.join("log");
    let bodies: Vec<String> = [log.join("checkpoint"), log.join(".pending/checkpoint")]
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .collect();
    let sigs: Vec<String> = [
        log.join("checkpoint.sig"),
        log.join(".pending/checkpoint.sig"),
    ]
    .iter()
    .filter_map(|p| fs::read_to_string(p).ok())
    .collect();
    let Some(live) = bodies.first() else {
        if !entries.is_empty() {
            r.problems.push("log/checkpoint: missing".into());
        }
        return;
    };
    let cp = match Checkpoint::parse(live) {
        Ok(cp) => cp,
        Err(e) => {
            r.problems.push(format!("log/checkpoint: {e}"));
            return;
        }
    };
    let logged = entries.lines().count() as u64;
    match checkpoint::root_of(entries, cp.size) {
        None => r.problems.push(format!(
            "log/checkpoint: covers {} entries but log/entries has {logged}: the log was truncated",
            cp.size
        )),
        Some(root) if root != cp.root => r.problems.push(format!(
            "log/checkpoint: its root is not the root of the first {} lines of log/entries: the log was rewritten",
            cp.size
        )),
        Some(_) if cp.size < logged => r.notes.push(format!(
            "log/checkpoint covers {} of {logged} entries (a build was interrupted before updating it)",
            cp.size
        )),
        Some(_) => {}
    }
    if sigs.is_empty() {
        if namespace.is_some() || allowed.is_some() {
            r.problems
                .push("log/checkpoint.sig: missing, but the versions are signed".into());
        }
        return;
    }
    // The pair: any signature that verifies over any body found, preferring the live ones.
    let mut errors = Vec::new();
    for body in &bodies {
        for sig in &sigs {
            match sign::verify_any(sig, body.as_bytes()) {
                Ok((ns, v)) => {
                    if let Some(manifest_ns) = namespace
                        && ns != format!("{manifest_ns}{CHECKPOINT_SUFFIX}")
                    {
                        errors.push(format!(
                            "signed in namespace `{ns}`, expected `{manifest_ns}{CHECKPOINT_SUFFIX}`"
                        ));
                        continue;
                    }
                    if let Some(allowed) = allowed
                        && sign::allowed_principals(allowed, &v.public, &ns).is_empty()
                    {
                        errors.push(format!(
                            "made by key {}, which the allowed signers file does not accept in namespace `{ns}`",
                            v.fingerprint
                        ));
                        continue;
                    }
                    if body != live {
                        if let Ok(pending) = Checkpoint::parse(body)
                            && checkpoint::root_of(entries, pending.size) != Some(pending.root)
                        {
                            r.problems.push(
                                "log/.pending/checkpoint: not the root of log/entries".into(),
                            );
                        }
                        r.notes.push(
                            "log/checkpoint: a build was interrupted while replacing it; the signed checkpoint in log/.pending was checked (the next build completes the move)".into(),
                        );
                    }
                    return;
                }
                Err(e) => errors.push(e),
            }
        }
    }
    errors.dedup();
    r.problems
        .push(format!("log/checkpoint.sig: {}", errors.join("; ")));
}
