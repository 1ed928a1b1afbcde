//! Stage `ingest`: sources → events + quarantine + per-source chain reports.
//!
//! Files are read in blocks of whole lines and parsed in parallel (rayon), files in parallel with
//! each other. Every input byte is hashed (file SHA-256, line SHA-256 for the chain). A line that
//! is not a valid event is quarantined with its location and reason, never dropped:
//! `lines == events + quarantined` holds per file, per source and in total.
//!
//! Output order is deterministic whatever the thread count: events and quarantine entries are in
//! (source in config order, file in stream order, line) order.

pub mod adapter;
pub mod chain;
pub mod cloudtrail;
pub mod csv;
pub mod jsonl;
pub mod k8s_audit;
pub mod mapped;
pub mod mlflow;
pub mod mlflow_filestore;
pub mod model_card;
pub mod openlineage;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{ChainMode, Config};
use crate::event::{Event, Origin};
use chain::{ChainLine, ChainResult};

/// One input file.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub source: u32,
    /// The path as shown to users: relative to the config folder when under it, `/`-separated.
    pub path: String,
    #[serde(skip)]
    pub abs: PathBuf,
    pub sha256: String,
    pub bytes: u64,
    /// Lines (native format) or records (foreign formats) read.
    pub lines: u64,
    pub events: u64,
    pub quarantined: u64,
    /// Records merged into another record's event (`adapter` module documentation).
    pub folded: u64,
    /// Native format: the SHA-256 of each line's exact bytes, in file order — the leaves of the
    /// file's RFC 6962 root in `inputs.lock` (`seal::lock`).
    #[serde(skip)]
    pub line_digests: Vec<[u8; 32]>,
    /// Native format: the first and last readable `seq`.
    #[serde(skip)]
    pub seqs: Option<(u64, u64)>,
    /// The earliest and latest `ts` of the file's events (for `inputs.lock`).
    #[serde(skip)]
    pub ts_range: Option<(jiff::Timestamp, jiff::Timestamp)>,
}

/// One source of the config, after ingest.
#[derive(Clone, Debug, Serialize)]
pub struct SourceReport {
    pub name: String,
    pub format: String,
    pub chain_mode: ChainMode,
    /// File indices in stream order.
    pub files: Vec<u32>,
    pub lines: u64,
    pub events: u64,
    pub quarantined: u64,
    pub folded: u64,
    pub chain: ChainResult,
}

/// A line that is not an event.
#[derive(Clone, Debug, Serialize)]
pub struct Quarantined {
    pub origin: Origin,
    pub column: usize,
    pub reason: String,
}

/// Everything ingest produced.
#[derive(Debug, Default, Serialize)]
pub struct Ingest {
    pub sources: Vec<SourceReport>,
    pub files: Vec<FileReport>,
    #[serde(skip)]
    pub events: Vec<Event>,
    pub quarantine: Vec<Quarantined>,
    /// The previous site version's `inputs.lock`, when a build has one (LOG-03).
    #[serde(skip)]
    pub previous_lock: Option<crate::seal::lock::InputsLock>,
    /// What each `[[link]]` entry did (`crate::link`), in config order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<crate::link::LinkReport>,
    /// Node ids rewritten by `same` joins: alias → canonical node.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub aliases: std::collections::BTreeMap<crate::event::NodeId, crate::event::NodeId>,
}

impl Ingest {
    pub fn lines(&self) -> u64 {
        self.sources.iter().map(|s| s.lines).sum()
    }

    /// Records folded into another record's event, over all sources.
    pub fn folded(&self) -> u64 {
        self.sources.iter().map(|s| s.folded).sum()
    }

    /// Reads the exact bytes of one input line again (for drill-down and duplicate comparison).
    pub fn line_bytes(&self, origin: &Origin) -> std::io::Result<Vec<u8>> {
        use std::io::{Seek, SeekFrom};
        let mut f = File::open(&self.files[origin.file as usize].abs)?;
        f.seek(SeekFrom::Start(origin.offset))?;
        let mut buf = vec![0; usize::try_from(origin.len).unwrap_or(0)];
        f.read_exact(&mut buf)?;
        Ok(buf)
    }

    /// Whether the line lies in a broken chain segment (LOG-02 effect).
    pub fn unverified(&self, source: u32, file: u32, line: u64) -> bool {
        self.sources
            .get(source as usize)
            .is_some_and(|s| s.chain.unverified.binary_search(&(file, line)).is_ok())
    }
}

/// The files of each source, resolved from its paths and globs; every missing file is reported.
pub fn resolve(config: &Config) -> anyhow::Result<Vec<Vec<(String, PathBuf)>>> {
    let mut missing = Vec::new();
    let mut all = Vec::new();
    for source in &config.sources {
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for pattern in &source.paths {
            let full = config.dir.join(pattern);
            let full_s = full.to_string_lossy().into_owned();
            if pattern.contains(['*', '?', '[']) {
                let matches = glob::glob(&full_s)
                    .with_context(|| format!("source `{}`: bad glob `{pattern}`", source.name))?;
                let mut n = 0;
                for m in matches {
                    let path = m.with_context(|| {
                        format!(
                            "source `{}`: cannot read a match of `{pattern}`",
                            source.name
                        )
                    })?;
                    if path.is_file() {
                        n += 1;
                        files.push((display(&config.dir, &path), path));
                    }
                }
                if n == 0 {
                    missing.push(format!(
                        "source `{}`: no file matches `{pattern}` (looked for `{full_s}`)",
                        source.name
                    ));
                }
            } else if full.is_file() {
                files.push((display(&config.dir, &full), full));
            } else if full.is_dir() && adapter::reader(&source.format).is_some() {
                // A folder (an `mlruns/` tree, an export folder): every file under it.
                let mut found = Vec::new();
                walk(&full, &mut found)
                    .with_context(|| format!("source `{}`: cannot list `{full_s}`", source.name))?;
                if found.is_empty() {
                    missing.push(format!(
                        "source `{}`: folder `{pattern}` holds no file (looked in `{full_s}`)",
                        source.name
                    ));
                }
                for path in found {
                    files.push((display(&config.dir, &path), path));
                }
            } else {
                missing.push(format!(
                    "source `{}`: file `{pattern}` not found (looked for `{full_s}`)",
                    source.name
                ));
            }
        }
        files.sort();
        files.dedup();
        all.push(files);
    }
    if !missing.is_empty() {
        bail!(
            "{} input path{} of `{}` cannot be read:\n  {}\nfix the `paths` of these sources, or remove them",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            config.path.display(),
            missing.join("\n  ")
        );
    }
    Ok(all)
}

/// Every file under `dir`, recursively, skipping hidden entries (`.git`, `.trash`).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        let ty = e.file_type()?;
        if ty.is_dir() {
            walk(&path, out)?;
        } else if ty.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// `path` relative to `dir` when it lies under it, with `/` separators.
fn display(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    let rel = rel.strip_prefix("./").unwrap_or(rel);
    let parts: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, std::path::Component::RootDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let joined = parts.join("/");
    if rel.has_root() {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Reads every source of the config.
pub fn run(config: &Config) -> anyhow::Result<Ingest> {
    let resolved = resolve(config)?;
    let mut jobs = Vec::new();
    for (s, files) in resolved.iter().enumerate() {
        for (display, abs) in files {
            jobs.push((s as u32, display.clone(), abs.clone()));
        }
    }
    // Native files are read on their own, in parallel; a foreign format's adapter reads all
    // files of its source at once. Results keep their job order.
    let native = |s: u32| adapter::reader(&config.sources[s as usize].format).is_none();
    let read: Vec<Option<anyhow::Result<FileData>>> = jobs
        .par_iter()
        .enumerate()
        .map(|(i, (s, _, abs))| native(*s).then(|| read_file(abs, *s, i as u32)))
        .collect();
    let mut datas: Vec<Option<FileData>> = Vec::with_capacity(read.len());
    for r in read {
        datas.push(r.transpose()?);
    }
    for (s, source) in config.sources.iter().enumerate() {
        let Some(read) = adapter::reader(&source.format) else {
            continue;
        };
        let mine: Vec<usize> = (0..jobs.len()).filter(|&i| jobs[i].0 == s as u32).collect();
        let bytes: Vec<Vec<u8>> = mine
            .par_iter()
            .map(|&i| {
                std::fs::read(&jobs[i].2)
                    .with_context(|| format!("cannot read `{}`", jobs[i].2.display()))
            })
            .collect::<anyhow::Result<_>>()?;
        let inputs: Vec<adapter::InputFile<'_>> = mine
            .iter()
            .zip(&bytes)
            .map(|(&i, b)| adapter::InputFile {
                index: i as u32,
                path: &jobs[i].1,
                abs: &jobs[i].2,
                bytes: b,
            })
            .collect();
        let cx = adapter::Cx {
            source: s as u32,
            config: source,
        };
        let outs = read(&cx, &inputs);
        anyhow::ensure!(
            outs.len() == inputs.len(),
            "adapter `{}` returned {} results for {} files",
            source.format,
            outs.len(),
            inputs.len()
        );
        for ((&i, b), out) in mine.iter().zip(&bytes).zip(outs) {
            debug_assert_eq!(
                out.records,
                out.events.len() as u64 + out.quarantine.len() as u64 + out.folded,
                "{}: records = events + quarantined + folded",
                jobs[i].1
            );
            let lines: Vec<Result<Event, Quarantined>> = out
                .events
                .into_iter()
                .map(Ok)
                .chain(out.quarantine.into_iter().map(Err))
                .collect();
            datas[i] = Some(FileData {
                sha256: hex::encode(Sha256::digest(b)),
                bytes: b.len() as u64,
                records: out.records,
                folded: out.folded,
                chain: Vec::new(),
                blocks: vec![lines],
            });
        }
    }
    let datas: Vec<FileData> = datas
        .into_iter()
        .map(|d| d.expect("every file is read by its source's reader"))
        .collect();

    let mut ingest = Ingest::default();
    for (job, data) in jobs.iter().zip(&datas) {
        let events = || data.lines().filter_map(|r| r.as_ref().ok());
        let total_events = events().count() as u64;
        ingest.files.push(FileReport {
            source: job.0,
            path: job.1.clone(),
            abs: job.2.clone(),
            sha256: data.sha256.clone(),
            bytes: data.bytes,
            lines: data.records,
            events: total_events,
            quarantined: data.lines().count() as u64 - total_events,
            folded: data.folded,
            line_digests: data.chain_lines().map(|l| l.hash).collect(),
            seqs: data.chain_lines().find_map(|l| l.fields.seq).zip(
                data.chain
                    .iter()
                    .rev()
                    .flat_map(|b| b.iter().rev())
                    .find_map(|l| l.fields.seq),
            ),
            ts_range: events()
                .map(|e| e.ts)
                .min()
                .zip(events().map(|e| e.ts).max()),
        });
    }
    for (s, source) in config.sources.iter().enumerate() {
        // Stream order: by the first readable seq, then path (`INTEGRITY.md` §1).
        let mut order: Vec<u32> = (0..jobs.len() as u32)
            .filter(|&i| jobs[i as usize].0 == s as u32)
            .collect();
        order.sort_by(|&a, &b| {
            let key = |i: u32| {
                let d = &datas[i as usize];
                (
                    d.chain_lines()
                        .find_map(|l| l.fields.seq)
                        .unwrap_or(u64::MAX),
                    jobs[i as usize].1.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        let anchor = match &source.anchor {
            Some(hex_anchor) => {
                let mut a = [0u8; 32];
                hex::decode_to_slice(hex_anchor, &mut a)
                    .context("anchor was validated as 64 hex digits")?;
                a
            }
            None => [0u8; 32],
        };
        let chain = if source.chain == ChainMode::None || adapter::reader(&source.format).is_some()
        {
            ChainResult::default()
        } else {
            let lines = order.iter().flat_map(|&i| datas[i as usize].chain_lines());
            chain::verify(
                lines,
                anchor,
                source.first_seq,
                source.chain == ChainMode::Required,
            )
        };
        let (mut lines, mut events, mut quarantined, mut folded) = (0, 0, 0, 0);
        for &i in &order {
            let f = &ingest.files[i as usize];
            lines += f.lines;
            events += f.events;
            quarantined += f.quarantined;
            folded += f.folded;
        }
        ingest.sources.push(SourceReport {
            name: source.name.clone(),
            format: source.format.clone(),
            chain_mode: source.chain,
            files: order,
            lines,
            events,
            quarantined,
            folded,
            chain,
        });
    }
    // Move events and quarantine out in (source, stream order, line) order.
    let order: Vec<u32> = ingest
        .sources
        .iter()
        .flat_map(|s| s.files.clone())
        .collect();
    // Each event moves once, into a vector of its final size: at a million events, every
    // reallocation of the event vector is half a gigabyte copied into fresh pages.
    ingest.events = Vec::with_capacity(ingest.files.iter().map(|f| f.events as usize).sum());
    let mut datas: Vec<Option<FileData>> = datas.into_iter().map(Some).collect();
    for i in order {
        let data = datas[i as usize].take().expect("each file once");
        for line in data.blocks.into_iter().flatten() {
            match line {
                Ok(e) => ingest.events.push(e),
                Err(q) => ingest.quarantine.push(q),
            }
        }
    }
    debug_assert_eq!(
        ingest.lines(),
        ingest.events.len() as u64
            + ingest.quarantine.len() as u64
            + ingest.sources.iter().map(|s| s.folded).sum::<u64>()
    );
    Ok(ingest)
}

/// One file as read: its lines' chain fields and outcomes in blocks, in line order (blocks are
/// kept apart so that nothing large is copied while a file is read).
struct FileData {
    sha256: String,
    bytes: u64,
    records: u64,
    folded: u64,
    chain: Vec<Vec<ChainLine>>,
    blocks: Vec<Vec<Result<Event, Quarantined>>>,
}

impl FileData {
    fn chain_lines(&self) -> impl DoubleEndedIterator<Item = &ChainLine> {
        self.chain.iter().flatten()
    }

    fn lines(&self) -> impl Iterator<Item = &Result<Event, Quarantined>> {
        self.blocks.iter().flatten()
    }
}

/// Block size for reading: large enough to amortise, small enough to stream.
const BLOCK: usize = 8 << 20;

fn read_file(path: &Path, source: u32, file: u32) -> anyhow::Result<FileData> {
    let mut f = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let mut hasher = Sha256::new();
    let mut out = FileData {
        sha256: String::new(),
        bytes: 0,
        records: 0,
        folded: 0,
        chain: Vec::new(),
        blocks: Vec::new(),
    };
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK);
    let mut line_no = 0u64;
    let mut offset = 0u64; // file offset of buf[0]
    let mut eof = false;
    while !eof {
        // Fill the buffer up to BLOCK more bytes.
        let start = buf.len();
        buf.resize(start + BLOCK, 0);
        let mut filled = start;
        while filled < buf.len() {
            let n = f
                .read(&mut buf[filled..])
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            if n == 0 {
                eof = true;
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        hasher.update(&buf[start..]);
        out.bytes += (filled - start) as u64;
        // Whole lines in this block; at EOF the remainder is a last line without LF.
        let cut = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                None => continue, // a line longer than the buffer: read on
            }
        };
        let block = &buf[..cut];
        let mut spans = Vec::new();
        let mut pos = 0usize;
        for nl in memchr::memchr_iter(b'\n', block) {
            spans.push((pos, nl));
            pos = nl + 1;
        }
        if pos < block.len() {
            spans.push((pos, block.len())); // last line without LF
        }
        let first = line_no;
        line_no += spans.len() as u64;
        let (chain, lines): (Vec<ChainLine>, Vec<Result<Event, Quarantined>>) = spans
            .par_iter()
            .enumerate()
            .with_min_len(256)
            .map(|(j, &(a, b))| {
                let bytes = &block[a..b];
                let origin = Origin {
                    source,
                    file,
                    line: first + j as u64 + 1,
                    offset: offset + a as u64,
                    len: (b - a) as u64,
                };
                let hash: [u8; 32] = Sha256::digest(bytes).into();
                let p = jsonl::parse_line(bytes, origin);
                let result = p.result.map_err(|r| Quarantined {
                    origin,
                    column: r.column,
                    reason: r.reason,
                });
                (
                    ChainLine {
                        file,
                        line: origin.line,
                        offset: origin.offset,
                        len: origin.len,
                        hash,
                        fields: p.chain,
                    },
                    result,
                )
            })
            .unzip();
        out.records += chain.len() as u64;
        out.chain.push(chain);
        out.blocks.push(lines);
        offset += cut as u64;
        buf.drain(..cut);
    }
    out.sha256 = hex::encode(hasher.finalize());
    Ok(out)
}
