//! Synthetic audit trails for tests and benchmarks (`trailbook-synth`).
//!
//! [`generate`] writes `OUT/trailbook.toml`, chained `trailbook-jsonl` logs under
//! `OUT/logs/<source>/<source>-NNN.jsonl` for the sources `registry`, `pipeline` and `serving`,
//! and `OUT/planted.json`, the violations it planted on purpose.
//!
//! The trail has the shape of `examples/credit-risk`: a fixed skeleton (systems, documents,
//! datasets with origins and datasheets, runs, model versions with parents, evaluations,
//! validations, promotions along development → staging → production, deployments) followed by
//! the bulk, one UTC day after another: `decision.made` records (most lines), a `decision.batch`
//! and `monitoring.metric` (`auc`, `psi`) per production deployment and day, a `logging.state`
//! heartbeat every six hours and a few `access` events.
//!
//! Invariants the tests pin:
//! - exactly `events` lines across all files, planted lines included; a smaller `events` gives a
//!   prefix of the skeleton, whose events only name what came before them, so every prefix is
//!   coherent;
//! - the same options give byte-identical files: a hand-written PRNG, no hash-map iteration, no
//!   clock;
//! - every source is one hash chain (`INTEGRITY.md` §1) running across its files in name order;
//! - apart from the planted lines, the trail passes the `baseline` rules and MOD-01 to MOD-03;
//! - streaming: memory does not grow with `events` (one line buffer per source).

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Total number of lines across all files, planted lines included.
    pub events: u64,
    /// PRNG seed; the same seed and `events` give byte-identical output.
    pub seed: u64,
    /// Output folder (created if missing).
    pub out: PathBuf,
    /// Each source is split into at most this many files (1..=999).
    pub files_per_source: usize,
}

impl SynthOptions {
    /// The default of `files_per_source`.
    pub const DEFAULT_FILES_PER_SOURCE: usize = 4;
}

/// The result of [`generate`], also written to `OUT/planted.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Planted {
    pub seed: u64,
    pub events: u64,
    /// The `as_of` written to `trailbook.toml`: the latest event time, rounded up to the second.
    pub as_of: String,
    pub files: Vec<SynthFile>,
    pub violations: Vec<PlantedViolation>,
}

/// One written log file.
#[derive(Debug, Clone, Serialize)]
pub struct SynthFile {
    pub source: String,
    /// Relative to the output folder, `/`-separated.
    pub path: String,
    pub lines: u64,
    pub first_seq: u64,
    /// SHA-256 of the file's last line (the `prev` the next line would carry).
    pub head: String,
}

/// A violation planted on purpose, as trailbook should report it.
///
/// LOG-06 and LOG-01 (b) aggregate: several planted lines can share one finding (the same
/// rule, subject and discriminator).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlantedViolation {
    pub rule: String,
    pub subject: String,
    pub discriminator: String,
    pub file: String,
    pub line: u64,
    pub note: String,
}

/// Writes the synthetic trail described by `opts`.
pub fn generate(opts: &SynthOptions) -> Result<Planted> {
    if opts.events == 0 {
        bail!("--events must be at least 1");
    }
    if !(1..=999).contains(&opts.files_per_source) {
        bail!("--files-per-source must be between 1 and 999");
    }
    let skeleton = skeleton();
    let n = opts.events;
    let skel_len = (skeleton.len() as u64).min(n);
    let bulk = n - skel_len;
    let plants = plan_plants(opts.seed, n, bulk);

    // Lines per source are known before writing, so the files can be split evenly.
    let mut per_source = [0u64; 3];
    for ev in &skeleton[..skel_len as usize] {
        per_source[ev.src as usize] += 1;
    }
    let to_registry = plants
        .iter()
        .filter(|p| p.kind == PlantKind::MissingDigest)
        .count() as u64;
    per_source[Src::Registry as usize] += to_registry;
    per_source[Src::Serving as usize] += bulk - to_registry;

    let logs = opts.out.join("logs");
    let mut sinks = Vec::with_capacity(3);
    for src in [Src::Registry, Src::Pipeline, Src::Serving] {
        let dir = logs.join(src.name());
        fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
        remove_stale(&dir, src.name())?;
        sinks.push(Sink::new(
            src,
            dir,
            per_source[src as usize],
            opts.files_per_source,
        ));
    }
    let mut sinks: [Sink; 3] = sinks
        .try_into()
        .map_err(|_| anyhow::anyhow!("three sinks"))?;

    let mut max_ts = i64::MIN;
    for ev in &skeleton[..skel_len as usize] {
        sinks[ev.src as usize].write(&ev.body)?;
        max_ts = max_ts.max(ev.t);
    }
    let mut violations = Vec::new();
    if bulk > 0 {
        let mut b = Bulk::new(opts.seed, bulk, plants, &mut sinks, &mut violations);
        b.run()?;
        max_ts = max_ts.max(b.max_ts);
    }

    violations.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let mut files = Vec::new();
    for sink in sinks {
        files.extend(sink.finish()?);
    }
    let as_of = if max_ts == i64::MIN {
        ts(0, 0, 0)
    } else {
        max_ts
    };
    let as_of = fmt_ts((as_of + 999).div_euclid(1000) * 1000, false);
    write_config(&opts.out, &files, &as_of, opts.seed, n)?;
    let planted = Planted {
        seed: opts.seed,
        events: n,
        as_of,
        files,
        violations,
    };
    let path = opts.out.join("planted.json");
    let mut text = serde_json::to_string_pretty(&planted)?;
    text.push('\n');
    fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(planted)
}

// ---------------------------------------------------------------------------------------------
// Time: milliseconds since the Unix epoch, UTC. Day 0 is 2026-01-05.

const MS_PER_DAY: i64 = 86_400_000;
const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_MIN: i64 = 60_000;
const EPOCH_DAY: i64 = days_from_civil(2026, 1, 5);
/// Day of the first bulk day (2026-02-01); the skeleton ends before it.
const BULK_DAY: i64 = 27;
/// The bulk never spans more than this many days.
const MAX_DAYS: u64 = 365;
/// Bulk lines per day aimed at before `MAX_DAYS` is reached.
const LINES_PER_DAY: u64 = 2_750;

const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Day `day` (0 = 2026-01-05) at `h:m` UTC.
fn ts(day: i64, h: i64, m: i64) -> i64 {
    (EPOCH_DAY + day) * MS_PER_DAY + h * MS_PER_HOUR + m * MS_PER_MIN
}

fn push_digits(out: &mut String, v: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut x = v;
    for i in (0..width).rev() {
        buf[i] = b'0' + (x % 10) as u8;
        x /= 10;
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[..width]).unwrap_or("0"));
}

/// RFC 3339 in UTC with `Z`: `2026-02-01T08:12:33Z`, or with `.mmm` when `millis`.
fn push_ts(out: &mut String, ms: i64, millis: bool) {
    let (y, mo, d) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let r = ms.rem_euclid(MS_PER_DAY);
    push_digits(out, y as u32, 4);
    out.push('-');
    push_digits(out, mo, 2);
    out.push('-');
    push_digits(out, d, 2);
    out.push('T');
    push_digits(out, (r / MS_PER_HOUR) as u32, 2);
    out.push(':');
    push_digits(out, (r % MS_PER_HOUR / MS_PER_MIN) as u32, 2);
    out.push(':');
    push_digits(out, (r % MS_PER_MIN / 1000) as u32, 2);
    if millis {
        out.push('.');
        push_digits(out, (r % 1000) as u32, 3);
    }
    out.push('Z');
}

fn fmt_ts(ms: i64, millis: bool) -> String {
    let mut s = String::with_capacity(24);
    push_ts(&mut s, ms, millis);
    s
}

// ---------------------------------------------------------------------------------------------
// Randomness: splitmix64, one independent stream per purpose.

struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn push_hex(&mut self, out: &mut String, chars: usize) {
        let mut left = chars;
        while left > 0 {
            let take = left.min(16);
            let v = self.next_u64() >> (64 - 4 * take as u32);
            let _ = write!(out, "{v:0take$x}");
            left -= take;
        }
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A stable stand-in digest: `sha256:` + SHA-256 of a label.
fn digest(label: &str) -> String {
    format!("sha256:{}", sha256_hex(label.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Output: one hash chain per source, split across files.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    Registry = 0,
    Pipeline = 1,
    Serving = 2,
}

impl Src {
    fn name(self) -> &'static str {
        match self {
            Src::Registry => "registry",
            Src::Pipeline => "pipeline",
            Src::Serving => "serving",
        }
    }

    fn id_prefix(self) -> &'static str {
        match self {
            Src::Registry => "reg",
            Src::Pipeline => "pl",
            Src::Serving => "srv",
        }
    }
}

/// Removes files a previous run left under the names this run writes, so a glob over the
/// folder never mixes two runs.
fn remove_stale(dir: &Path, source: &str) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot read `{}`", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(source).and_then(|r| r.strip_prefix('-')) else {
            continue;
        };
        let Some(num) = rest.strip_suffix(".jsonl") else {
            continue;
        };
        if num.len() == 3 && num.bytes().all(|b| b.is_ascii_digit()) {
            fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove `{}`", entry.path().display()))?;
        }
    }
    Ok(())
}

struct Sink {
    src: Src,
    dir: PathBuf,
    /// Lines per file, decided up front.
    plan: Vec<u64>,
    out: Option<BufWriter<File>>,
    in_file: u64,
    /// `seq` of the next line.
    seq: u64,
    /// `prev` of the next line: lowercase hex SHA-256 of the last line.
    prev: [u8; 64],
    line: Vec<u8>,
    files: Vec<SynthFile>,
}

impl Sink {
    fn new(src: Src, dir: PathBuf, lines: u64, max_files: usize) -> Self {
        let k = (max_files as u64).min(lines);
        let plan = (0..k)
            .map(|i| lines * (i + 1) / k - lines * i / k)
            .collect();
        Sink {
            src,
            dir,
            plan,
            out: None,
            in_file: 0,
            seq: 1,
            prev: [b'0'; 64],
            line: Vec::with_capacity(1024),
            files: Vec::new(),
        }
    }

    fn rel_path(&self, idx: usize) -> String {
        format!("logs/{0}/{0}-{1:03}.jsonl", self.src.name(), idx + 1)
    }

    /// The id the next line's event gets: `reg-000001`, `pl-000001`, `srv-00000001`.
    fn next_id(&self, out: &mut String) {
        out.push_str(self.src.id_prefix());
        out.push('-');
        let width = if self.src == Src::Serving { 8 } else { 6 };
        let _ = write!(out, "{:0width$}", self.seq);
    }

    /// Writes one line: `{"seq":N,"prev":"HEX",` + `body` (which starts with `"id":` and ends
    /// with `}`). Returns the file (index into `files`) and the line number in it.
    fn write(&mut self, body: &str) -> Result<(usize, u64)> {
        if self.out.is_none()
            || self.plan.get(self.files.len().wrapping_sub(1)) == Some(&self.in_file)
        {
            self.rotate()?;
        }
        self.line.clear();
        self.line.extend_from_slice(b"{\"seq\":");
        let _ = write!(self.line, "{}", self.seq);
        self.line.extend_from_slice(b",\"prev\":\"");
        self.line.extend_from_slice(&self.prev);
        self.line.extend_from_slice(b"\",");
        self.line.extend_from_slice(body.as_bytes());
        let hash = Sha256::digest(&self.line);
        hex::encode_to_slice(hash, &mut self.prev).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (Some(out), Some(file)) = (self.out.as_mut(), self.files.last_mut()) else {
            bail!("internal error: no open file");
        };
        out.write_all(&self.line)
            .and_then(|()| out.write_all(b"\n"))
            .with_context(|| format!("cannot write `{}`", file.path))?;
        self.seq += 1;
        self.in_file += 1;
        file.lines += 1;
        Ok((self.files.len() - 1, self.in_file))
    }

    fn rotate(&mut self) -> Result<()> {
        self.close()?;
        let idx = self.files.len();
        if idx >= self.plan.len() {
            bail!(
                "internal error: more {} lines than planned",
                self.src.name()
            );
        }
        let rel = self.rel_path(idx);
        let path = self
            .dir
            .join(Path::new(&rel).file_name().unwrap_or_default());
        let file =
            File::create(&path).with_context(|| format!("cannot create `{}`", path.display()))?;
        self.out = Some(BufWriter::with_capacity(1 << 20, file));
        self.in_file = 0;
        self.files.push(SynthFile {
            source: self.src.name().to_owned(),
            path: rel,
            lines: 0,
            first_seq: self.seq,
            head: String::new(),
        });
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if let Some(mut out) = self.out.take() {
            out.flush()
                .with_context(|| format!("cannot write `{}`", self.dir.display()))?;
            if let Some(f) = self.files.last_mut() {
                f.head = String::from_utf8_lossy(&self.prev).into_owned();
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<SynthFile>> {
        self.close()?;
        let planned: u64 = self.plan.iter().sum();
        if self.seq - 1 != planned {
            bail!(
                "internal error: {} lines planned for {}, {} written",
                planned,
                self.src.name(),
                self.seq - 1
            );
        }
        Ok(self.files)
    }
}

fn write_config(out: &Path, files: &[SynthFile], as_of: &str, seed: u64, n: u64) -> Result<()> {
    let mut t = String::new();
    t.push_str("# Written by trailbook-synth; see planted.json for the violations it planted.\n\n");
    t.push_str("[report]\n");
    let _ = writeln!(
        t,
        "title = \"Synthetic audit trail ({n} events, seed {seed})\""
    );
    t.push_str("organization = \"trailbook-synth\"\n");
    let _ = writeln!(t, "as_of = \"{as_of}\"\n");
    for src in [Src::Registry, Src::Pipeline, Src::Serving] {
        if !files.iter().any(|f| f.source == src.name()) {
            continue;
        }
        t.push_str("[[source]]\n");
        let _ = writeln!(t, "name = \"{}\"", src.name());
        t.push_str("format = \"trailbook-jsonl\"\n");
        let _ = writeln!(t, "paths = [\"logs/{}/*.jsonl\"]", src.name());
        t.push_str("chain = \"required\"\n\n");
    }
    t.push_str("[policy]\npacks = [\"baseline\", \"eu-ai-act-provider\"]\n\n");
    t.push_str("[policy.params.LOG-04]\nmax_gap = \"1 day\"\n\n");
    // Classes that hold personal data need a maximum (RET-09 (b)).
    t.push_str("[retention.classes.ai_auto_log]\nmax = \"3 years\"\n\n");
    t.push_str("[retention.classes.tech_doc]\nmax = \"15 years\"\n");
    let path = out.join("trailbook.toml");
    fs::write(&path, t).with_context(|| format!("cannot write `{}`", path.display()))
}

// ---------------------------------------------------------------------------------------------
// The skeleton: everything before the bulk, in time order, each event naming only earlier ones.

struct SkelEvent {
    t: i64,
    src: Src,
    body: String,
}

#[derive(Clone, Copy)]
struct Actor {
    id: &'static str,
    kind: &'static str,
    role: Option<&'static str>,
}

const fn human(id: &'static str, role: &'static str) -> Actor {
    Actor {
        id,
        kind: "human",
        role: Some(role),
    }
}

const fn service(id: &'static str) -> Actor {
    Actor {
        id,
        kind: "service",
        role: None,
    }
}

const DANA: Actor = human("dana.m", "data-engineer");
const ELI: Actor = human("eli.s", "data-scientist");
const CAROL: Actor = human("carol.v", "validator");
const FARID: Actor = human("farid.o", "validator");
const GUS: Actor = human("gus.t", "release-manager");
const JO: Actor = human("jo.w", "compliance-officer");
const MLFLOW: Actor = service("mlflow-registry");
const AIRFLOW: Actor = service("airflow");
const ARGO: Actor = service("argocd");
const AUDIT_LOGGER: Actor = Actor {
    id: "audit-logger",
    kind: "system",
    role: None,
};

const CS: &str = "credit-scoring";
const CP: &str = "collections-prioritisation";
/// When the evaluation thresholds were set (model risk policy): day 0, 10:00.
const THRESHOLDS_SET: i64 = 10 * MS_PER_HOUR;

/// What the two models share across their versions.
struct ModelSpec {
    system: &'static str,
    /// Training set, then the holdout; both listed by every version.
    sets: [(&'static str, &'static str); 2],
    sheet: &'static str,
    developers: &'static [&'static str],
    repo: &'static str,
    owner: &'static str,
    purpose: &'static str,
    tier: &'static str,
}

const CREDIT: ModelSpec = ModelSpec {
    system: CS,
    sets: [
        ("risk/credit-train@2026-01", "train"),
        ("risk/credit-holdout@2026-01", "validation"),
    ],
    sheet: "datasheet-credit-modelling-2026-01",
    developers: &["ari.k", "bo.n"],
    repo: "git.example-bank.eu/risk/credit-pipelines",
    owner: "retail-credit-risk",
    purpose: "Probability-of-repayment score for consumer loan applications",
    tier: "tier-1",
};

const COLLECTIONS: ModelSpec = ModelSpec {
    system: CP,
    sets: [
        ("collections/collections-train@2026-01", "train"),
        ("collections/collections-test@2026-01", "test"),
    ],
    sheet: "datasheet-collections-2026-01",
    developers: &["eli.s"],
    repo: "git.example-bank.eu/collections/priority-model",
    owner: "collections-analytics",
    purpose: "Rank overdue accounts by expected recovery from a collections call",
    tier: "tier-3",
};

fn spec(version: &str) -> &'static ModelSpec {
    if version.starts_with("credit-risk@") {
        &CREDIT
    } else {
        &COLLECTIONS
    }
}

struct Skel {
    events: Vec<SkelEvent>,
    counts: [u64; 3],
}

/// The envelope of a skeleton event besides id, ts, kind and attrs.
struct Env<'a> {
    src: Src,
    actor: Actor,
    subject: (&'a str, &'a str),
    system: Option<&'a str>,
    env: Option<&'a str>,
    personal: bool,
}

fn env<'a>(src: Src, actor: Actor, subject: (&'a str, &'a str), system: &'a str) -> Env<'a> {
    Env {
        src,
        actor,
        subject,
        system: Some(system),
        env: None,
        personal: false,
    }
}

impl Skel {
    /// Appends an event (in time order) and returns its id.
    fn push(&mut self, t: i64, kind: &str, e: Env<'_>, attrs: Value) -> String {
        debug_assert!(
            self.events.last().is_none_or(|last| last.t <= t),
            "skeleton out of order at {kind}"
        );
        self.counts[e.src as usize] += 1;
        let n = self.counts[e.src as usize];
        let id = match e.src {
            Src::Serving => format!("srv-{n:08}"),
            src => format!("{}-{n:06}", src.id_prefix()),
        };
        let q = |s: &str| Value::from(s).to_string();
        let mut b = String::with_capacity(512);
        let _ = write!(
            b,
            "\"id\":{},\"ts\":\"{}\",\"kind\":{}",
            q(&id),
            fmt_ts(t, false),
            q(kind)
        );
        let _ = write!(
            b,
            ",\"actor\":{{\"id\":{},\"type\":{}",
            q(e.actor.id),
            q(e.actor.kind)
        );
        if let Some(role) = e.actor.role {
            let _ = write!(b, ",\"role\":{}", q(role));
        }
        b.push('}');
        if let Some(system) = e.system {
            let _ = write!(b, ",\"system\":{}", q(system));
        }
        let (ty, sid) = e.subject;
        let _ = write!(b, ",\"subject\":{{\"type\":{},\"id\":{}}}", q(ty), q(sid));
        if let Some(env) = e.env {
            let _ = write!(b, ",\"env\":{}", q(env));
        }
        let _ = write!(b, ",\"attrs\":{attrs}");
        if e.personal {
            b.push_str(",\"data_classes\":[\"personal\"]");
        }
        b.push('}');
        self.events.push(SkelEvent {
            t,
            src: e.src,
            body: b,
        });
        id
    }

    /// A document; `describes` is left out for datasheets, which their datasets name instead
    /// (so no prefix of the skeleton has a forward reference).
    fn document(&mut self, t: i64, doc: &str, doc_type: &str, system: &str) {
        let mut attrs = json!({
            "doc_type": doc_type, "version": "1.0", "digest": digest(&format!("doc:{doc}")),
            "uri": format!("https://docs.internal.example-bank.eu/ai/{doc}.pdf"),
            "effective_from": fmt_ts(t, false),
        });
        if doc_type != "datasheet" {
            attrs["describes"] = json!([format!("system:{system}")]);
            attrs["signed_by"] = json!("head-of-model-risk");
        }
        let actor = if doc_type == "datasheet" { DANA } else { JO };
        self.push(
            t,
            "document.registered",
            env(Src::Registry, actor, ("document", doc), system),
            attrs,
        );
    }

    /// A dataset `NS/NAME@VERSION` with digest, origin and datasheet.
    fn dataset(&mut self, t: i64, id: &str, rows: u64, origin: Value, sheet: &str, system: &str) {
        let (path, version) = id.split_once('@').unwrap_or((id, ""));
        let (ns, name) = path.split_once('/').unwrap_or(("", path));
        let actor = if ns == "core" || ns == "bureau" {
            DANA
        } else {
            AIRFLOW
        };
        let attrs = json!({
            "name": name, "version": version, "digest": digest(&format!("data:{id}")), "rows": rows,
            "schema_digest": digest(&format!("schema:{path}")), "origin": origin,
            "owner": if actor.kind == "human" { actor.id } else { "data-platform" },
            "datasheet": sheet, "usage_rules": "Internal model development and monitoring only",
        });
        let mut e = env(Src::Registry, actor, ("dataset", id), system);
        e.personal = true;
        self.push(t, "dataset.registered", e, attrs);
    }

    /// A raw extract from an operational system, with its own datasheet (5 minutes earlier).
    fn extract(
        &mut self,
        t: i64,
        id: &str,
        rows: u64,
        origin: [&str; 4],
        acquired: i64,
        system: &str,
    ) {
        let sheet = format!("datasheet-{}", id.replace(['/', '@'], "-"));
        self.document(t - 5 * MS_PER_MIN, &sheet, "datasheet", system);
        let [source, method, legal_basis, purpose] = origin;
        let origin = json!({
            "source": source, "acquired_ts": fmt_ts(acquired, false), "method": method,
            "legal_basis": legal_basis, "original_purpose": purpose,
        });
        self.dataset(t, id, rows, origin, &sheet, system);
    }

    /// A completed pipeline run at `t` that started `minutes` earlier.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        t: i64,
        minutes: i64,
        id: &str,
        job: &str,
        ins: &[&str],
        outs: &[String],
        m: &ModelSpec,
        path: &str,
    ) {
        let attrs = json!({
            "job": job, "status": "completed", "started_ts": fmt_ts(t - minutes * MS_PER_MIN, false),
            "inputs": ins, "outputs": outs,
            "code": {"repo": m.repo, "commit": commit(id), "path": path},
            "pipeline_version": "2.3.0", "params_digest": digest(&format!("params:{id}")),
        });
        self.push(
            t,
            "run.completed",
            env(Src::Pipeline, AIRFLOW, ("run", id), m.system),
            attrs,
        );
    }

    /// Builds a model's training and holdout sets from raw extracts at `t`: the datasheet and the
    /// outputs are registered as the run writes them, before its completion record, then quality
    /// is assessed.
    fn build(&mut self, t: i64, run_id: &str, inputs: &[&str], m: &ModelSpec, rows: [u64; 2]) {
        self.document(t - 15 * MS_PER_MIN, m.sheet, "datasheet", m.system);
        for (i, ((id, role), rows)) in m.sets.iter().zip(rows).enumerate() {
            let origin = derived(t - 15 * MS_PER_MIN, &format!("model {role} set"));
            self.dataset(
                t - (14 - i as i64) * MS_PER_MIN,
                id,
                rows,
                origin,
                m.sheet,
                m.system,
            );
        }
        let outs: Vec<String> = m
            .sets
            .iter()
            .map(|(id, _)| format!("dataset:{id}"))
            .collect();
        let job = if m.system == CS {
            "credit-dataset-build"
        } else {
            "collections-dataset-build"
        };
        self.run(
            t,
            35,
            run_id,
            job,
            inputs,
            &outs,
            m,
            "jobs/build_dataset.py",
        );
        let attrs = json!({
            "checks": [{"name": "schema_conformance", "passed": true},
                       {"name": "null_rate_below_1pct", "passed": true},
                       {"name": "duplicate_records", "passed": true}],
            "bias_examined": true,
            "representativeness": "age, sex and region within 2 pts of the population",
            "gaps": "thin-file applicants under-represented",
        });
        let e = env(Src::Pipeline, AIRFLOW, ("dataset", m.sets[0].0), m.system);
        self.push(t + 30 * MS_PER_MIN, "dataset.quality_assessed", e, attrs);
    }

    /// Trains `version` in a run completing at `t`: the scored holdout it writes (registered 5
    /// minutes before, so the run has an output in every prefix, LINK-05), the run, the
    /// registration 2 h later and the evaluation 18 h later. `passed = false` gives a subgroup
    /// gap above the policy's 3 points.
    #[allow(clippy::too_many_arguments)]
    fn train(
        &mut self,
        t: i64,
        version: &str,
        parent: Option<&str>,
        run_id: &str,
        actor: Actor,
        auc: f64,
        passed: bool,
    ) {
        let m = spec(version);
        let (model, ver) = version.split_once('@').unwrap_or((version, ""));
        let scores = format!("scores/{model}-scores@{ver}");
        let origin = derived(t - 5 * MS_PER_MIN, "evaluation of the trained model");
        self.dataset(
            t - 5 * MS_PER_MIN,
            &scores,
            20_000,
            origin,
            m.sheet,
            m.system,
        );
        let ins: Vec<String> = m
            .sets
            .iter()
            .map(|(id, _)| format!("dataset:{id}"))
            .collect();
        let ins: Vec<&str> = ins.iter().map(String::as_str).collect();
        self.run(
            t,
            150,
            run_id,
            &format!("{model}-train"),
            &ins,
            &[format!("dataset:{scores}")],
            m,
            "train.py",
        );

        let datasets: Vec<Value> = m
            .sets
            .iter()
            .map(|(id, role)| json!({"id": id, "role": role}))
            .collect();
        let image = image(version);
        let mut attrs = json!({
            "model": model, "version": ver, "owner": m.owner, "developers": m.developers,
            "intended_purpose": m.purpose, "artifact_digest": artifact(version),
            "code_commit": commit(run_id), "training_run": run_id, "datasets": datasets,
            "training_data_cutoff": "2025-12-31T23:59:59Z",
            "changelog": if parent.is_some() { "Retrained with tuned hyperparameters" } else { "First version" },
            "change_type": "minor", "justification": "Better discrimination on the holdout",
            "runtime": {
                "language": "python", "version": "3.11.9", "lockfile_digest": digest(&format!("lock:{version}")),
                "container_image": format!("registry.example-bank.eu/{model}/serving@sha256:{image}"),
            },
            "limitations": "Not validated outside consumer lending in the EU",
            "input_spec": format!("feature view {model}-v1"),
            "oversight_measures": "Referrals and declines are reviewed by a credit officer",
            "monitoring_thresholds": {"auc": {"min": 0.70}, "psi": {"max": 0.25}},
            "risk_tier": m.tier,
        });
        if let Some(p) = parent {
            attrs["parent_version"] = json!(p);
        }
        let t = t + 2 * MS_PER_HOUR;
        self.push(
            t,
            "model.registered",
            env(Src::Registry, actor, ("model_version", version), m.system),
            attrs,
        );

        let n = 36_841_u32;
        let young = if passed { -0.02 } else { -0.052 };
        let subgroups: Vec<Value> = [
            ("age<25", young, 0.09),
            ("age 25-59", 0.004, 0.74),
            ("age>=60", -0.006, 0.17),
        ]
        .iter()
        .map(|(g, d, share)| {
            let value = ((auc + d) * 1000.0).round() / 1000.0;
            json!({"group": g, "metric": "auc", "value": value, "n": (f64::from(n) * share) as u64})
        })
        .collect();
        let t = t + 16 * MS_PER_HOUR;
        let attrs = json!({
            "metrics": [{"name": "auc", "value": auc}, {"name": "ks", "value": ((auc - 0.39) * 1000.0).round() / 1000.0}],
            "datasets": [{"id": m.sets[1].0, "n": n}], "subgroups": subgroups,
            "thresholds": {"auc": 0.75, "subgroup_auc_gap": 0.03},
            "thresholds_set_ts": fmt_ts(THRESHOLDS_SET, false), "passed": passed,
            "report_digest": digest(&format!("eval:{version}")), "signed_by": "kim.l",
            "signed_ts": fmt_ts(t + MS_PER_HOUR, false),
        });
        self.push(
            t,
            "model.evaluated",
            env(Src::Registry, MLFLOW, ("model_version", version), m.system),
            attrs,
        );
    }

    fn validate(
        &mut self,
        t: i64,
        who: Actor,
        version: &str,
        decision: &str,
        scope: &str,
    ) -> String {
        let attrs = json!({
            "validator": who.id, "decision": decision, "scope": scope,
            "next_review_due": fmt_ts(t + 365 * MS_PER_DAY, false),
        });
        let e = env(
            Src::Registry,
            who,
            ("model_version", version),
            spec(version).system,
        );
        self.push(t, "model.validated", e, attrs)
    }

    fn promote(&mut self, t: i64, version: &str, from: &str, to: &str, approval: &str) {
        let attrs = json!({
            "from_env": from, "to_env": to, "artifact_digest": artifact(version), "approval": approval,
        });
        let e = env(
            Src::Registry,
            GUS,
            ("model_version", version),
            spec(version).system,
        );
        self.push(t, "model.promoted", e, attrs);
    }

    #[allow(clippy::too_many_arguments)]
    fn deploy(
        &mut self,
        t: i64,
        kind: &str,
        dep: &str,
        version: &str,
        stage: &str,
        approval: &str,
        threshold: u32,
    ) {
        let model = version.split('@').next().unwrap_or(version);
        let attrs = json!({
            "model_version": version,
            "target": {
                "cluster": if stage == "production" { "eu-central-prod-1" } else { "eu-central-stg-1" },
                "namespace": model,
                "container_image": format!("registry.example-bank.eu/{model}/serving"),
                "image_digest": format!("sha256:{}", image(version)),
                "endpoint": format!("https://{dep}.internal.example-bank.eu/v1/score"),
            },
            "artifact_digest": artifact(version),
            "config_digest": digest(&format!("config:{dep}:{version}")),
            "decision_threshold": f64::from(threshold) / 1000.0,
            "approval": approval,
        });
        let mut e = env(
            Src::Serving,
            ARGO,
            ("deployment", dep),
            spec(version).system,
        );
        e.env = Some(stage);
        self.push(t, kind, e, attrs);
    }
}

fn commit(label: &str) -> String {
    sha256_hex(format!("commit:{label}").as_bytes())[..40].to_owned()
}

fn image(version: &str) -> String {
    sha256_hex(format!("image:{version}").as_bytes())
}

fn artifact(version: &str) -> String {
    digest(&format!("artifact:{version}"))
}

fn derived(acquired: i64, purpose: &str) -> Value {
    json!({
        "source": "feature pipeline (derived)", "acquired_ts": fmt_ts(acquired, false),
        "method": "derived by a registered pipeline run",
        "legal_basis": "contract (GDPR Art. 6(1)(b)); compatible further processing",
        "original_purpose": purpose,
    })
}

/// The deployments that serve decisions in the bulk: id, system, version, decision threshold
/// (thousandths), share of decisions (percent).
const DEPLOYMENTS: [(&str, &str, &str, u32, u64); 3] = [
    ("credit-scoring-prod-de", CS, "credit-risk@1.2.0", 620, 45),
    ("credit-scoring-prod-at", CS, "credit-risk@1.2.0", 620, 25),
    (
        "collections-prod",
        CP,
        "collections-priority@1.0.0",
        500,
        30,
    ),
];
/// When each of `DEPLOYMENTS` started (hour, minute of `DEPLOY_DAY`).
const DEPLOYED_AT: [(i64, i64); 3] = [(10, 0), (10, 30), (11, 0)];
/// The production deployments start on the last skeleton day (2026-01-31).
const DEPLOY_DAY: i64 = BULK_DAY - 1;

fn skeleton() -> Vec<SkelEvent> {
    let mut k = Skel {
        events: Vec::new(),
        counts: [0; 3],
    };
    let r = Src::Registry;

    // Day 0: systems and their technical documentation.
    let attrs = json!({
        "name": "Retail credit scoring", "role": "provider", "risk": "high", "annex_iii_point": "5(b)",
        "intended_purpose": "Assess the creditworthiness of natural persons applying for consumer loans",
        "jurisdictions": ["EU", "DE", "AT"], "owner": "head-of-retail-credit-risk",
        "placed_on_market": fmt_ts(ts(25, 0, 0), false),
    });
    k.push(
        ts(0, 9, 0),
        "system.registered",
        env(r, JO, ("system", CS), CS),
        attrs,
    );
    let attrs = json!({
        "name": "Collections prioritisation", "role": "provider", "risk": "limited",
        "intended_purpose": "Rank overdue accounts for outreach by collections agents (advisory)",
        "jurisdictions": ["EU", "DE"], "owner": "head-of-collections",
    });
    k.push(
        ts(0, 9, 5),
        "system.registered",
        env(r, JO, ("system", CP), CP),
        attrs,
    );
    k.document(ts(0, 10, 0), "tech-doc-credit-scoring", "tech_doc", CS);
    k.document(ts(0, 10, 5), "tech-doc-collections", "tech_doc", CP);

    // Day 1: raw extracts with their origins.
    let core = "contract (GDPR Art. 6(1)(b))";
    let loans = [
        "core-banking",
        "nightly CDC snapshot export",
        core,
        "loan origination and servicing",
    ];
    k.extract(
        ts(1, 7, 30),
        "core/loan-applications@2025-12",
        184_220,
        loans,
        ts(-4, 2, 0),
        CS,
    );
    let bureau = [
        "CrediRef credit bureau",
        "monthly batch API pull",
        "legitimate interest (GDPR Art. 6(1)(f))",
        "creditworthiness assessment",
    ];
    k.extract(
        ts(1, 7, 40),
        "bureau/credit-reports@2025-12",
        176_904,
        bureau,
        ts(-3, 6, 0),
        CS,
    );
    let payments = [
        "core-banking",
        "nightly CDC snapshot export",
        core,
        "loan servicing and collections",
    ];
    k.extract(
        ts(1, 7, 50),
        "core/payment-events@2025-12",
        2_410_377,
        payments,
        ts(-1, 2, 0),
        CP,
    );

    // Days 2-3: modelling sets, a feature.
    let raw = [
        "dataset:core/loan-applications@2025-12",
        "dataset:bureau/credit-reports@2025-12",
    ];
    k.build(
        ts(2, 4, 35),
        "run-credit-build-20260107",
        &raw,
        &CREDIT,
        [128_954, 36_841],
    );
    let attrs = json!({
        "name": "debt_to_income", "derived_from": [raw[0]], "owner": "ari.k",
        "transformation": "monthly debt service / verified net monthly income, capped at 2.0",
    });
    let e = env(
        Src::Pipeline,
        AIRFLOW,
        ("feature", "credit.debt_to_income"),
        CS,
    );
    k.push(ts(2, 5, 20), "feature.registered", e, attrs);
    let raw = ["dataset:core/payment-events@2025-12"];
    k.build(
        ts(3, 3, 40),
        "run-coll-build-20260108",
        &raw,
        &COLLECTIONS,
        [61_230, 15_310],
    );

    // credit-risk 1.0.0 is rejected; 1.1.0 goes to staging; collections-priority 1.0.0.
    k.train(
        ts(3, 14, 10),
        "credit-risk@1.0.0",
        None,
        "run-credit-train-20260108",
        MLFLOW,
        0.801,
        false,
    );
    k.validate(
        ts(7, 15, 0),
        CAROL,
        "credit-risk@1.0.0",
        "reject",
        "pre-staging review",
    );
    k.train(
        ts(7, 18, 20),
        "credit-risk@1.1.0",
        Some("1.0.0"),
        "run-credit-train-20260112",
        MLFLOW,
        0.806,
        true,
    );
    let coll = "collections-priority@1.0.0";
    k.train(
        ts(9, 13, 30),
        coll,
        None,
        "run-coll-train-20260114",
        MLFLOW,
        0.781,
        true,
    );
    let v110 = k.validate(
        ts(10, 14, 0),
        CAROL,
        "credit-risk@1.1.0",
        "approve",
        "staging shadow run",
    );
    k.promote(
        ts(11, 9, 0),
        "credit-risk@1.1.0",
        "development",
        "staging",
        &v110,
    );
    let attrs = json!({"state": "start", "stream": "serving-audit"});
    let mut e = env(
        Src::Serving,
        AUDIT_LOGGER,
        ("resource", "serving-audit-log"),
        CS,
    );
    e.system = None;
    k.push(ts(11, 10, 0), "logging.state", e, attrs);
    let staging = "credit-scoring-staging";
    k.deploy(
        ts(11, 11, 0),
        "deployment.started",
        staging,
        "credit-risk@1.1.0",
        "staging",
        &v110,
        620,
    );

    // credit-risk 1.2.0 through staging.
    k.train(
        ts(13, 9, 0),
        "credit-risk@1.2.0",
        Some("1.1.0"),
        "run-credit-train-20260118",
        MLFLOW,
        0.812,
        true,
    );
    let vcp = k.validate(
        ts(15, 11, 0),
        FARID,
        coll,
        "approve",
        "staging and production",
    );
    let v120s = k.validate(
        ts(15, 14, 0),
        CAROL,
        "credit-risk@1.2.0",
        "approve",
        "staging shadow run",
    );
    k.promote(ts(16, 9, 0), coll, "development", "staging", &vcp);
    k.promote(
        ts(16, 10, 0),
        "credit-risk@1.2.0",
        "development",
        "staging",
        &v120s,
    );
    k.deploy(
        ts(16, 11, 0),
        "deployment.changed",
        staging,
        "credit-risk@1.2.0",
        "staging",
        &v120s,
        620,
    );
    let attrs = json!({"reason": "Rejected by validation; superseded by 1.1.0"});
    let e = env(r, GUS, ("model_version", "credit-risk@1.0.0"), CS);
    k.push(ts(17, 9, 0), "model.retired", e, attrs);

    // Production release.
    let v120p = k.validate(
        ts(22, 16, 0),
        CAROL,
        "credit-risk@1.2.0",
        "approve",
        "production release",
    );
    k.document(
        ts(23, 10, 0),
        "instructions-for-use-credit-scoring",
        "instructions_for_use",
        CS,
    );
    k.document(ts(23, 10, 5), "pmm-plan-credit-scoring", "pmm_plan", CS);
    k.document(
        ts(23, 10, 10),
        "eu-declaration-credit-scoring",
        "eu_declaration",
        CS,
    );
    k.promote(
        ts(24, 9, 0),
        "credit-risk@1.2.0",
        "staging",
        "production",
        &v120p,
    );
    k.promote(ts(24, 9, 30), coll, "staging", "production", &vcp);

    // A challenger, registered and evaluated but never deployed.
    let challenger = "collections-priority@1.1.0";
    k.train(
        ts(25, 15, 30),
        challenger,
        Some("1.0.0"),
        "run-coll-train-20260130",
        ELI,
        0.788,
        true,
    );

    // The production deployments, the day before the bulk (LOG-04: no silent day).
    for (i, (dep, system, version, threshold, _)) in DEPLOYMENTS.iter().enumerate() {
        let approval = if *system == CS { &v120p } else { &vcp };
        let (h, m) = DEPLOYED_AT[i];
        k.deploy(
            ts(DEPLOY_DAY, h, m),
            "deployment.started",
            dep,
            version,
            "production",
            approval,
            *threshold,
        );
    }
    k.events
}

// ---------------------------------------------------------------------------------------------
// Planted violations.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlantKind {
    /// LOG-06: `"ts":"yesterday"` (still chained).
    Quarantined,
    /// LOG-05 (a): an earlier decision's id with different content.
    DuplicateId,
    /// LOG-01 (b): a decision recorded 20 to 30 minutes after it was made.
    LateRecord,
    /// LINK-01 (a): a decision naming a model version that was never registered.
    UnregisteredVersion,
    /// MOD-01 (a): a version registered without `artifact_digest` (never used).
    MissingDigest,
}

const PLANT_KINDS: [PlantKind; 5] = [
    PlantKind::Quarantined,
    PlantKind::DuplicateId,
    PlantKind::LateRecord,
    PlantKind::UnregisteredVersion,
    PlantKind::MissingDigest,
];

struct Plant {
    /// Index among the bulk lines at which it is written (or as soon after as possible).
    pos: u64,
    kind: PlantKind,
}

/// About one violation per 100,000 lines, at least one of each kind from 1,000 lines on. Each
/// gets its own stratum of the bulk (about 100,000 lines); kinds rotate in shuffled rounds and
/// never repeat in neighbouring strata, so two plants of one kind are over 120,000 lines apart,
/// more than a day of bulk below about 40 million lines: LOG-01 (b), aggregated per UTC day,
/// then reports each late record on its own.
fn plan_plants(seed: u64, n: u64, bulk: u64) -> Vec<Plant> {
    if n < 1000 || bulk < 100 {
        return Vec::new();
    }
    let count = (n / 100_000).max(PLANT_KINDS.len() as u64);
    let mut rng = Rng::new(seed, 0x0050_4C41_4E54);
    let mut kinds = Vec::with_capacity(count as usize);
    while (kinds.len() as u64) < count {
        let mut round = PLANT_KINDS;
        for i in (1..round.len()).rev() {
            round.swap(i, rng.below(i as u64 + 1) as usize);
        }
        if kinds.last() == Some(&round[0]) {
            round.swap(0, 1);
        }
        kinds.extend(round);
    }
    kinds.truncate(count as usize);
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| {
            let i = i as u64;
            let at = i * 1000 + 100 + rng.below(800);
            Plant {
                pos: (u128::from(bulk) * u128::from(at) / (u128::from(count) * 1000)) as u64,
                kind,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The bulk: one day after another, lines in time order.

const REASONS: [&str; 6] = [
    "RC01_DEBT_TO_INCOME",
    "RC02_RECENT_DELINQUENCY",
    "RC03_SHORT_CREDIT_HISTORY",
    "RC04_HIGH_UTILISATION",
    "RC05_INCOME_STABILITY",
    "RC06_LOAN_TO_INCOME",
];

/// Fixed lines of a day besides decisions.
#[derive(Clone, Copy)]
enum Fixed {
    Heartbeat,
    Batch(usize),
    Metric(usize, bool),
    Access(u32),
    /// A quarterly test of the stop function on a credit decision (DEC-04 (c)).
    StopTest,
}

#[derive(Default, Clone, Copy)]
struct DayStats {
    count: u64,
    automated: u64,
    hist: [u64; 10],
}

/// Where a written line is: file (index into the sink's files) and line number.
type At = (usize, u64);

/// The subject id of a serving line.
#[derive(Clone, Copy)]
enum SubjectId<'s> {
    Named(&'s str),
    /// `dec-NNNNNNNN`, numbered like the serving line that registers it.
    Decision(u64),
}

struct Bulk<'a> {
    rng: Rng,
    sinks: &'a mut [Sink; 3],
    violations: &'a mut Vec<PlantedViolation>,
    plants: Vec<Plant>,
    next_plant: usize,
    /// Bulk lines not yet written.
    remaining: u64,
    /// Bulk lines written.
    written: u64,
    days: u64,
    per_day: u64,
    max_ts: i64,
    today: [DayStats; 3],
    yesterday: [DayStats; 3],
    /// Serving seq and deployment of the last regular decision (the LOG-05 plant repeats it).
    last: Option<(u64, usize)>,
    /// Number of the last regular credit-scoring decision (the stop test acts on it).
    last_credit: Option<u64>,
    /// Plants written so far, per kind (numbers the planted versions).
    counters: [u64; 5],
    body: String,
}

impl<'a> Bulk<'a> {
    fn new(
        seed: u64,
        bulk: u64,
        plants: Vec<Plant>,
        sinks: &'a mut [Sink; 3],
        violations: &'a mut Vec<PlantedViolation>,
    ) -> Self {
        let days = bulk.div_ceil(LINES_PER_DAY).clamp(1, MAX_DAYS);
        Bulk {
            rng: Rng::new(seed, 0x4255_4C4B),
            sinks,
            violations,
            plants,
            next_plant: 0,
            remaining: bulk,
            written: 0,
            days,
            per_day: bulk.div_ceil(days),
            max_ts: i64::MIN,
            today: [DayStats::default(); 3],
            yesterday: [DayStats::default(); 3],
            last: None,
            last_credit: None,
            counters: [0; 5],
            body: String::with_capacity(1024),
        }
    }

    fn run(&mut self) -> Result<()> {
        for d in 0..self.days as i64 {
            let day = BULK_DAY + d;
            let start = ts(day, 0, 0);
            self.yesterday = self.today;
            self.today = [DayStats::default(); 3];
            let mut fixed: Vec<(i64, Fixed)> = Vec::with_capacity(16);
            for h in [0, 6, 12, 18] {
                fixed.push((ts(day, h, 0), Fixed::Heartbeat));
            }
            for i in 0..DEPLOYMENTS.len() {
                let i64_i = i as i64;
                fixed.push((ts(day, 0, 15) + i64_i * 1000, Fixed::Batch(i)));
                fixed.push((ts(day, 0, 30) + i64_i * 2000, Fixed::Metric(i, true)));
                fixed.push((
                    ts(day, 0, 30) + i64_i * 2000 + 1000,
                    Fixed::Metric(i, false),
                ));
            }
            let three_hours = 3 * MS_PER_HOUR as u64;
            fixed.push((
                ts(day, 9, 0) + self.rng.below(three_hours) as i64,
                Fixed::Access(0),
            ));
            fixed.push((
                ts(day, 14, 0) + self.rng.below(three_hours) as i64,
                Fixed::Access(1),
            ));
            if d % 90 == 0 {
                fixed.push((ts(day, 11, 0), Fixed::StopTest));
            }
            fixed.sort_by_key(|&(t, f)| (t, fixed_rank(f)));

            // The last day takes whatever is left (its end is cut when the budget runs out);
            // earlier days get an even share.
            let decisions = if d as u64 + 1 == self.days {
                self.remaining
            } else {
                self.per_day.saturating_sub(fixed.len() as u64).max(1)
            };
            let spacing = (MS_PER_DAY as u64 / decisions).max(1);
            let mut fi = 0;
            for j in 0..decisions {
                let t = start + (j * spacing + self.rng.below(spacing)) as i64;
                if t >= start + MS_PER_DAY {
                    break;
                }
                while fi < fixed.len() && fixed[fi].0 <= t {
                    if !self.fixed(fixed[fi], start)? {
                        return Ok(());
                    }
                    fi += 1;
                }
                if !self.before_regular(t)? {
                    return Ok(());
                }
                let dep = self.pick_deployment();
                self.decision(t, dep, None)?;
            }
            while fi < fixed.len() {
                if !self.fixed(fixed[fi], start)? {
                    return Ok(());
                }
                fi += 1;
            }
        }
        // Only reached if the last day could not hold what was left (more than a line per ms).
        let t = ts(BULK_DAY + self.days as i64, 0, 0) - 1;
        while self.before_regular(t)? {
            self.heartbeat(t)?;
        }
        Ok(())
    }

    fn fixed(&mut self, (t, f): (i64, Fixed), day_start: i64) -> Result<bool> {
        if !self.before_regular(t)? {
            return Ok(false);
        }
        match f {
            Fixed::Heartbeat => self.heartbeat(t)?,
            Fixed::Batch(i) => self.batch(t, i, day_start)?,
            Fixed::Metric(i, auc) => self.metric(t, i, auc, day_start)?,
            Fixed::Access(k) => {
                let analyst = if k == 0 {
                    human("kim.l", "risk-analyst")
                } else {
                    human("lena.h", "risk-analyst")
                };
                let subject = ("resource", SubjectId::Named("decision-store"));
                self.head(
                    None,
                    Some(t),
                    None,
                    "access",
                    analyst,
                    Some(CS),
                    subject,
                    false,
                );
                self.body.push_str(
                    "{\"action\":\"read\",\"purpose\":\"daily monitoring report\",\
                     \"scope\":\"decisions of the previous day\",\"result\":\"success\"}}",
                );
                self.emit(Src::Serving, Some(t))?;
            }
            Fixed::StopTest => {
                let Some(n) = self.last_credit else {
                    return Ok(true);
                };
                let officer = human("mara.t", "credit-officer");
                let subject = ("decision", SubjectId::Decision(n));
                self.head(
                    None,
                    Some(t),
                    None,
                    "oversight.action",
                    officer,
                    Some(CS),
                    subject,
                    true,
                );
                self.body.push_str(
                    "{\"action\":\"stop\",\"reviewer\":\"mara.t\",\
                     \"reason\":\"quarterly test of the stop function\"}}",
                );
                self.emit(Src::Serving, Some(t))?;
            }
        }
        Ok(true)
    }

    /// Writes the plants that are due; false when the line budget is spent.
    fn before_regular(&mut self, now: i64) -> Result<bool> {
        loop {
            if self.remaining == 0 {
                return Ok(false);
            }
            let Some(p) = self.plants.get(self.next_plant) else {
                return Ok(true);
            };
            if p.pos > self.written || (p.kind == PlantKind::DuplicateId && self.last.is_none()) {
                return Ok(true);
            }
            let kind = p.kind;
            self.next_plant += 1;
            self.plant(kind, now)?;
        }
    }

    fn pick_deployment(&mut self) -> usize {
        let mut x = self.rng.below(100);
        for (i, d) in DEPLOYMENTS.iter().enumerate() {
            if x < d.4 {
                return i;
            }
            x -= d.4;
        }
        0
    }

    /// Starts `self.body` with the envelope of a serving line, up to and including `"attrs":`.
    /// `id` is the serving line number its id carries (default: the next line's); `t = None`
    /// writes the unreadable `"ts":"yesterday"`.
    #[allow(clippy::too_many_arguments)]
    fn head(
        &mut self,
        id: Option<u64>,
        t: Option<i64>,
        recorded: Option<i64>,
        kind: &str,
        actor: Actor,
        system: Option<&str>,
        subject: (&str, SubjectId<'_>),
        env: bool,
    ) {
        let b = &mut self.body;
        b.clear();
        let id = id.unwrap_or(self.sinks[Src::Serving as usize].seq);
        let _ = write!(b, "\"id\":\"srv-{id:08}\",\"ts\":\"");
        match t {
            Some(t) => push_ts(b, t, true),
            None => b.push_str("yesterday"),
        }
        if let Some(r) = recorded {
            b.push_str("\",\"recorded_ts\":\"");
            push_ts(b, r, true);
        }
        let _ = write!(
            b,
            "\",\"kind\":\"{kind}\",\"actor\":{{\"id\":\"{}\",\"type\":\"{}\"",
            actor.id, actor.kind
        );
        if let Some(role) = actor.role {
            let _ = write!(b, ",\"role\":\"{role}\"");
        }
        b.push('}');
        if let Some(s) = system {
            let _ = write!(b, ",\"system\":\"{s}\"");
        }
        let _ = write!(b, ",\"subject\":{{\"type\":\"{}\",\"id\":\"", subject.0);
        match subject.1 {
            SubjectId::Named(s) => b.push_str(s),
            SubjectId::Decision(n) => {
                let _ = write!(b, "dec-{n:08}");
            }
        }
        b.push_str("\"}");
        if env {
            b.push_str(",\"env\":\"production\"");
        }
        b.push_str(",\"attrs\":");
    }

    fn emit(&mut self, src: Src, t: Option<i64>) -> Result<At> {
        let at = self.sinks[src as usize].write(&self.body)?;
        self.remaining -= 1;
        self.written += 1;
        if let Some(t) = t {
            self.max_ts = self.max_ts.max(t);
        }
        Ok(at)
    }

    fn heartbeat(&mut self, t: i64) -> Result<()> {
        let subject = ("resource", SubjectId::Named("serving-audit-log"));
        self.head(
            None,
            Some(t),
            None,
            "logging.state",
            AUDIT_LOGGER,
            None,
            subject,
            false,
        );
        self.body
            .push_str("{\"state\":\"heartbeat\",\"stream\":\"serving-audit\"}}");
        self.emit(Src::Serving, Some(t))?;
        Ok(())
    }

    /// The window a daily aggregate of deployment `i` covers: the previous UTC day, or from the
    /// deployment's start.
    fn window(day_start: i64, i: usize) -> (i64, i64) {
        let (h, m) = DEPLOYED_AT[i];
        (ts(DEPLOY_DAY, h, m).max(day_start - MS_PER_DAY), day_start)
    }

    fn batch(&mut self, t: i64, i: usize, day_start: i64) -> Result<()> {
        let (dep, system, version, _, _) = DEPLOYMENTS[i];
        let (w0, w1) = Self::window(day_start, i);
        let s = self.yesterday[i];
        let subject = ("deployment", SubjectId::Named(dep));
        let actor = service("decision-aggregator");
        self.head(
            None,
            Some(t),
            None,
            "decision.batch",
            actor,
            Some(system),
            subject,
            true,
        );
        let b = &mut self.body;
        let _ = write!(b, "{{\"model_version\":\"{version}\",\"window_start\":\"");
        push_ts(b, w0, false);
        b.push_str("\",\"window_end\":\"");
        push_ts(b, w1, false);
        let _ = write!(
            b,
            "\",\"count\":{},\"automated\":{},\"overridden\":0,\"score_histogram\":[",
            s.count, s.automated
        );
        for (k, h) in s.hist.iter().enumerate() {
            if k > 0 {
                b.push(',');
            }
            let _ = write!(b, "{h}");
        }
        b.push_str("]}}");
        self.emit(Src::Serving, Some(t))?;
        Ok(())
    }

    fn metric(&mut self, t: i64, i: usize, auc: bool, day_start: i64) -> Result<()> {
        let (dep, system, _, _, _) = DEPLOYMENTS[i];
        let (w0, w1) = Self::window(day_start, i);
        let value = if auc {
            760 + self.rng.below(50)
        } else {
            10 + self.rng.below(60)
        };
        let subject = ("deployment", SubjectId::Named(dep));
        let actor = service("model-monitor");
        self.head(
            None,
            Some(t),
            None,
            "monitoring.metric",
            actor,
            Some(system),
            subject,
            true,
        );
        let b = &mut self.body;
        let name = if auc { "auc" } else { "psi" };
        let _ = write!(
            b,
            "{{\"metric\":\"{name}\",\"value\":0.{value:03},\"window_start\":\""
        );
        push_ts(b, w0, false);
        b.push_str("\",\"window_end\":\"");
        push_ts(b, w1, false);
        b.push_str(if auc {
            "\",\"threshold_min\":0.7"
        } else {
            "\",\"threshold_max\":0.25"
        });
        b.push_str(",\"status\":\"ok\"}}");
        self.emit(Src::Serving, Some(t))?;
        Ok(())
    }

    /// A `decision.made` of deployment `dep` at `t`, shaped by `plant` when it is one. Returns
    /// where it was written and its `ts` (`None` for the quarantined line).
    fn decision(
        &mut self,
        t: i64,
        dep: usize,
        plant: Option<PlantKind>,
    ) -> Result<(At, Option<i64>)> {
        let (dep_id, system, served, threshold, _) = DEPLOYMENTS[dep];
        let credit = system == CS;
        let score = if credit {
            let sum = self.rng.below(1000) + self.rng.below(1000) + self.rng.below(1000);
            (sum / 3 + 150).min(999) as u32
        } else {
            self.rng.below(1000) as u32
        };
        let (output, mode, legal) = match (credit, score >= threshold) {
            (true, true) => ("approve", "automated", true),
            (true, false) if score >= 450 => ("refer", "advisory", false),
            (true, false) => ("decline", "automated", true),
            (false, true) => ("priority-high", "advisory", false),
            (false, false) => ("priority-low", "advisory", false),
        };
        let seq = self.sinks[Src::Serving as usize].seq;
        // The line's own number, or for LOG-05 that of the decision it repeats.
        let number = match (plant, self.last) {
            (Some(PlantKind::DuplicateId), Some((n, _))) => n,
            _ => seq,
        };
        let (at_ts, recorded) = match plant {
            Some(PlantKind::LateRecord) => {
                // Written when recorded, 20 to 30 minutes after `ts`, within one UTC day.
                let lag = 20 * MS_PER_MIN + self.rng.below(10 * MS_PER_MIN as u64) as i64;
                if t - lag >= t.div_euclid(MS_PER_DAY) * MS_PER_DAY {
                    (Some(t - lag), Some(t))
                } else {
                    (Some(t), Some(t + lag))
                }
            }
            Some(PlantKind::Quarantined) => (None, None),
            _ => (Some(t), None),
        };
        let unregistered;
        let version = if plant == Some(PlantKind::UnregisteredVersion) {
            unregistered = format!("credit-risk@9.{}.0", self.counters[3]);
            unregistered.as_str()
        } else {
            served
        };
        let subject = ("decision", SubjectId::Decision(number));
        let actor = service("scoring-api");
        self.head(
            Some(number),
            at_ts,
            recorded,
            "decision.made",
            actor,
            Some(system),
            subject,
            true,
        );
        let b = &mut self.body;
        let _ = write!(
            b,
            "{{\"deployment\":\"{dep_id}\",\"model_version\":\"{version}\",\"input_ref\":\"sha256:"
        );
        self.rng.push_hex(b, 64);
        let _ = write!(
            b,
            "\",\"output\":\"{output}\",\"score\":0.{score:03},\"threshold\":0.{threshold:03},\
             \"mode\":\"{mode}\",\"legal_effect\":{legal},\"subject_ref\":\"hmac:k2026:"
        );
        self.rng.push_hex(b, 24);
        b.push_str("\",\"reason_codes\":[");
        if output == "approve" {
            b.push_str("\"RC00_ABOVE_THRESHOLD\"");
        } else if credit {
            let n = REASONS.len() as u64;
            let a = self.rng.below(n) as usize;
            let c = (a + 1 + self.rng.below(n - 1) as usize) % REASONS.len();
            let _ = write!(b, "\"{}\",\"{}\"", REASONS[a], REASONS[c]);
        } else {
            b.push_str("\"CP01_PROMISE_BROKEN\",\"CP03_BALANCE_RISING\"");
        }
        b.push(']');
        if legal {
            b.push_str(",\"art22_basis\":\"contract\"");
        }
        b.push_str("},\"data_classes\":[\"personal\"]}");
        let at = self.emit(Src::Serving, at_ts)?;
        // Events the decision.batch counts: the regular ones and the late one.
        if matches!(plant, None | Some(PlantKind::LateRecord)) {
            let s = &mut self.today[dep];
            s.count += 1;
            s.automated += u64::from(mode == "automated");
            s.hist[(score / 100) as usize] += 1;
            self.last = Some((seq, dep));
            if credit && plant.is_none() {
                self.last_credit = Some(seq);
            }
        }
        Ok((at, at_ts))
    }

    fn plant(&mut self, kind: PlantKind, now: i64) -> Result<()> {
        let idx = PLANT_KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        self.counters[idx] += 1;
        let nth = self.counters[idx];
        let (rule, subject, discriminator, at, src, note) = match kind {
            PlantKind::Quarantined => {
                let dep = self.pick_deployment();
                let (at, _) = self.decision(now, dep, Some(kind))?;
                let note =
                    "`ts` is \"yesterday\", not RFC 3339 (LOG-06 reports one finding per source)";
                (
                    "LOG-06",
                    "source:serving".to_owned(),
                    String::new(),
                    at,
                    Src::Serving,
                    note,
                )
            }
            PlantKind::DuplicateId => {
                let Some((n, dep)) = self.last else {
                    bail!("internal error: no decision to repeat");
                };
                // Same id, same subject; a new ts and input digest make the content differ.
                let (at, _) = self.decision(now, dep, Some(kind))?;
                let note = "repeats the id of an earlier decision.made with different content";
                (
                    "LOG-05",
                    format!("event:srv-{n:08}"),
                    "a".to_owned(),
                    at,
                    Src::Serving,
                    note,
                )
            }
            PlantKind::LateRecord => {
                let dep = self.pick_deployment();
                let (at, t) = self.decision(now, dep, Some(kind))?;
                let day = fmt_ts(t.unwrap_or(now), false)[..10].to_owned();
                let note = "decision.made recorded 20 to 30 minutes after its ts";
                (
                    "LOG-01",
                    "source:serving".to_owned(),
                    format!("b|{day}"),
                    at,
                    Src::Serving,
                    note,
                )
            }
            PlantKind::UnregisteredVersion => {
                let (at, _) = self.decision(now, 0, Some(kind))?;
                let subject = format!("model_version:credit-risk@9.{nth}.0");
                let note = "decision.made names a model version that was never registered";
                ("LINK-01", subject, "a".to_owned(), at, Src::Serving, note)
            }
            PlantKind::MissingDigest => {
                let version = format!("collections-priority@2.{nth}.0");
                let at = self.registration_without_digest(now, &version)?;
                let note = "model.registered without artifact_digest; never promoted or deployed";
                (
                    "MOD-01",
                    format!("model_version:{version}"),
                    "a".to_owned(),
                    at,
                    Src::Registry,
                    note,
                )
            }
        };
        let sink = &self.sinks[src as usize];
        self.violations.push(PlantedViolation {
            rule: rule.to_owned(),
            subject,
            discriminator,
            file: sink.files[at.0].path.clone(),
            line: at.1,
            note: note.to_owned(),
        });
        Ok(())
    }

    fn registration_without_digest(&mut self, t: i64, version: &str) -> Result<At> {
        let (model, ver) = version.split_once('@').unwrap_or((version, ""));
        let b = &mut self.body;
        b.clear();
        b.push_str("\"id\":\"");
        self.sinks[Src::Registry as usize].next_id(b);
        b.push_str("\",\"ts\":\"");
        push_ts(b, t, true);
        let _ = write!(
            b,
            "\",\"kind\":\"model.registered\",\
             \"actor\":{{\"id\":\"eli.s\",\"type\":\"human\",\"role\":\"data-scientist\"}},\
             \"system\":\"{CP}\",\"subject\":{{\"type\":\"model_version\",\"id\":\"{version}\"}},\
             \"attrs\":{{\"model\":\"{model}\",\"version\":\"{ver}\",\"parent_version\":\"1.1.0\",\
             \"owner\":\"collections-analytics\",\"developers\":[\"eli.s\"],\
             \"intended_purpose\":\"Rank overdue accounts by expected recovery from a collections call\",\
             \"code_commit\":\"{}\",\"training_run\":\"run-coll-train-20260130\",\
             \"datasets\":[{{\"id\":\"collections/collections-train@2026-01\",\"role\":\"train\"}},\
             {{\"id\":\"collections/collections-test@2026-01\",\"role\":\"test\"}}],\
             \"changelog\":\"Notebook experiment\",\"change_type\":\"minor\"}}}}",
            commit(version)
        );
        self.emit(Src::Registry, Some(t))
    }
}

/// Tie-break for fixed lines at the same time: heartbeat first, then batches, metrics, access.
fn fixed_rank(f: Fixed) -> (u8, usize) {
    match f {
        Fixed::Heartbeat => (0, 0),
        Fixed::Batch(i) => (1, i),
        Fixed::Metric(i, auc) => (2, i * 2 + usize::from(!auc)),
        Fixed::Access(k) => (3, k as usize),
        Fixed::StopTest => (4, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn make(dir: &Path, n: u64, seed: u64, k: usize) -> Planted {
        let opts = SynthOptions {
            events: n,
            seed,
            out: dir.to_path_buf(),
            files_per_source: k,
        };
        generate(&opts).expect("generate")
    }

    /// Every log line of the output, by source, in chain order: (path, line number, text).
    fn lines(dir: &Path) -> BTreeMap<String, Vec<(String, u64, String)>> {
        let mut out = BTreeMap::new();
        for src in ["registry", "pipeline", "serving"] {
            let d = dir.join("logs").join(src);
            let Ok(entries) = fs::read_dir(&d) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            let mut v = Vec::new();
            for name in names {
                let text = fs::read_to_string(d.join(&name)).unwrap();
                assert!(
                    text.is_empty() || text.ends_with('\n'),
                    "{name} must end with LF"
                );
                for (i, l) in text.lines().enumerate() {
                    v.push((format!("logs/{src}/{name}"), i as u64 + 1, l.to_owned()));
                }
            }
            out.insert(src.to_owned(), v);
        }
        out
    }

    fn all_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                    out.insert(rel, fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(fmt_ts(0, false), "1970-01-01T00:00:00Z");
        assert_eq!(fmt_ts(ts(0, 9, 5), false), "2026-01-05T09:05:00Z");
        assert_eq!(
            fmt_ts(ts(BULK_DAY, 0, 0) + 1, true),
            "2026-02-01T00:00:00.001Z"
        );
        assert_eq!(fmt_ts(ts(55, 23, 59), false), "2026-03-01T23:59:00Z");
        assert_eq!(
            fmt_ts(ts(BULK_DAY + 364, 0, 0), false),
            "2027-01-31T00:00:00Z"
        );
        for day in [-800_000, -1, 0, 1, 59, 60, 20_454, 20_513, 2_000_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), day);
        }
    }

    #[test]
    fn same_seed_same_bytes() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        make(a.path(), 5000, 7, 3);
        make(b.path(), 5000, 7, 3);
        make(c.path(), 5000, 8, 3);
        assert_eq!(all_files(a.path()), all_files(b.path()));
        assert_ne!(all_files(a.path()), all_files(c.path()));
    }

    #[test]
    fn exact_line_counts_valid_json_and_chains() {
        for (n, k) in [
            (1, 4),
            (10, 4),
            (56, 2),
            (70, 4),
            (1000, 4),
            (12_345, 3),
            (30_000, 1),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let planted = make(dir.path(), n, 42, k);
            let by_src = lines(dir.path());
            let total: usize = by_src.values().map(Vec::len).sum();
            assert_eq!(total as u64, n, "line count for n = {n}");
            assert_eq!(planted.files.iter().map(|f| f.lines).sum::<u64>(), n);
            let mut ids = BTreeSet::new();
            for (src, ls) in &by_src {
                let mut prev = "0".repeat(64);
                for (i, (path, line, text)) in ls.iter().enumerate() {
                    let v: Value = serde_json::from_str(text)
                        .unwrap_or_else(|e| panic!("{path}:{line}: not JSON ({e})"));
                    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
                    assert!(
                        keys.contains(&&"seq".to_owned()) && keys.contains(&&"prev".to_owned())
                    );
                    assert!(text.starts_with("{\"seq\":"), "{path}:{line}: seq first");
                    assert_eq!(
                        v["seq"].as_u64(),
                        Some(i as u64 + 1),
                        "{src} {path}:{line}: seq"
                    );
                    assert_eq!(
                        v["prev"].as_str(),
                        Some(prev.as_str()),
                        "{src} {path}:{line}: prev"
                    );
                    prev = sha256_hex(text.as_bytes());
                    ids.insert(v["id"].as_str().unwrap().to_owned());
                }
                if let Some(f) = planted.files.iter().rfind(|f| &f.source == src) {
                    assert_eq!(f.head, prev);
                }
            }
            let dups = planted
                .violations
                .iter()
                .filter(|v| v.rule == "LOG-05")
                .count();
            assert_eq!(
                ids.len() as u64 + dups as u64,
                n,
                "ids unique except planted duplicates"
            );
            let config = fs::read_to_string(dir.path().join("trailbook.toml")).unwrap();
            assert!(config.contains("max_gap = \"1 day\""));
            assert_eq!(
                config.matches("[[source]]").count(),
                by_src.values().filter(|v| !v.is_empty()).count()
            );
        }
    }

    #[test]
    fn small_outputs_are_a_prefix_of_the_skeleton() {
        let dir = tempfile::tempdir().unwrap();
        let planted = make(dir.path(), 10, 1, 4);
        assert!(planted.violations.is_empty());
        let by_src = lines(dir.path());
        assert_eq!(by_src["registry"].len(), 10, "registry events come first");
        let skel = skeleton();
        assert!(
            skel.windows(2).all(|w| w[0].t <= w[1].t),
            "skeleton in time order"
        );
        assert!(skel.iter().all(|e| e.t < ts(BULK_DAY, 0, 0)));
    }

    #[test]
    fn planted_json_lists_what_was_planted() {
        let dir = tempfile::tempdir().unwrap();
        let planted = make(dir.path(), 12_345, 3, 4);
        let on_disk: Value =
            serde_json::from_str(&fs::read_to_string(dir.path().join("planted.json")).unwrap())
                .unwrap();
        assert_eq!(
            on_disk["violations"].as_array().unwrap().len(),
            planted.violations.len()
        );
        let rules: BTreeSet<&str> = planted.violations.iter().map(|v| v.rule.as_str()).collect();
        assert_eq!(
            rules,
            BTreeSet::from(["LINK-01", "LOG-01", "LOG-05", "LOG-06", "MOD-01"])
        );

        // Index every line, then check each planted entry and that nothing else looks planted.
        let by_src = lines(dir.path());
        let mut at = BTreeMap::new();
        for ls in by_src.values() {
            for (path, line, text) in ls {
                at.insert(
                    (path.clone(), *line),
                    serde_json::from_str::<Value>(text).unwrap(),
                );
            }
        }
        let registered: BTreeSet<String> = at
            .values()
            .filter(|v| v["kind"] == "model.registered")
            .map(|v| v["subject"]["id"].as_str().unwrap().to_owned())
            .collect();
        let mut seen_ids = BTreeMap::new();
        let mut found = BTreeSet::new();
        for ls in by_src.values() {
            for (path, line, _) in ls {
                let v = &at[&(path.clone(), *line)];
                let id = v["id"].as_str().unwrap().to_owned();
                let key = (path.clone(), *line);
                if v["ts"] == "yesterday" {
                    found.insert(("LOG-06", key.clone()));
                }
                if seen_ids.insert(id, key.clone()).is_some() {
                    found.insert(("LOG-05", key.clone()));
                }
                if v.get("recorded_ts").is_some() {
                    found.insert(("LOG-01", key.clone()));
                }
                if v["kind"] == "decision.made"
                    && !registered.contains(v["attrs"]["model_version"].as_str().unwrap())
                {
                    found.insert(("LINK-01", key.clone()));
                }
                if v["kind"] == "model.registered" && v["attrs"].get("artifact_digest").is_none() {
                    found.insert(("MOD-01", key.clone()));
                }
            }
        }
        let listed: BTreeSet<(&str, (String, u64))> = planted
            .violations
            .iter()
            .map(|v| (v.rule.as_str(), (v.file.clone(), v.line)))
            .collect();
        assert_eq!(found, listed);
        for v in &planted.violations {
            let line = &at[&(v.file.clone(), v.line)];
            match v.rule.as_str() {
                "LOG-01" => {
                    assert_eq!(
                        v.discriminator,
                        format!("b|{}", &line["ts"].as_str().unwrap()[..10])
                    );
                    assert_eq!(
                        line["recorded_ts"].as_str().unwrap()[..10],
                        line["ts"].as_str().unwrap()[..10]
                    );
                }
                "LINK-01" => assert_eq!(
                    v.subject,
                    format!(
                        "model_version:{}",
                        line["attrs"]["model_version"].as_str().unwrap()
                    )
                ),
                "MOD-01" => assert_eq!(
                    v.subject,
                    format!("model_version:{}", line["subject"]["id"].as_str().unwrap())
                ),
                "LOG-05" => {
                    assert_eq!(v.subject, format!("event:{}", line["id"].as_str().unwrap()))
                }
                _ => {}
            }
        }
    }

    #[test]
    fn plants_scale_with_size() {
        assert!(plan_plants(1, 999, 900).is_empty());
        assert_eq!(plan_plants(1, 1000, 940).len(), 5);
        assert_eq!(plan_plants(1, 1_000_000, 999_940).len(), 10);
        let p = plan_plants(9, 10_000_000, 9_999_940);
        assert_eq!(p.len(), 100);
        assert!(
            p.windows(2)
                .all(|w| w[0].pos < w[1].pos && w[0].kind != w[1].kind)
        );
        for kind in PLANT_KINDS {
            assert_eq!(p.iter().filter(|x| x.kind == kind).count(), 20);
        }
    }
}
