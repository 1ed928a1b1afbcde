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
///
/// Memory: every event is written once, into its slot of one vector sized before parsing (the
/// native files' lines are counted first), so a million-event ingest never holds two copies of
/// its events; files are then put in stream order and quarantined slots closed up, in place.
pub fn run(config: &Config) -> anyhow::Result<Ingest> {
    let resolved = resolve(config)?;
    let mut jobs = Vec::new();
    for (s, files) in resolved.iter().enumerate() {
        for (display, abs) in files {
            jobs.push((s as u32, display.clone(), abs.clone()));
        }
    }
    let native = |s: u32| adapter::reader(&config.sources[s as usize].format).is_none();
    // A foreign format's adapter reads all files of its source at once.
    let mut foreign: Vec<Option<(FileData, Vec<Event>)>> = (0..jobs.len()).map(|_| None).collect();
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
            let data = FileData {
                sha256: hex::encode(Sha256::digest(b)),
                bytes: b.len() as u64,
                records: out.records,
                folded: out.folded,
                chain: Vec::new(),
                events: out.events.len() as u64,
                ts_range: ts_range(out.events.iter()),
                quarantine: out.quarantine,
            };
            foreign[i] = Some((data, out.events));
        }
    }
    // One slot per native line and per foreign event, in job order.
    let counts: Vec<u64> = jobs
        .par_iter()
        .enumerate()
        .map(|(i, (s, _, abs))| match &foreign[i] {
            Some((_, events)) => Ok(events.len() as u64),
            None if native(*s) => count_lines(abs),
            None => Ok(0),
        })
        .collect::<anyhow::Result<_>>()?;
    let total = counts.iter().sum::<u64>();
    anyhow::ensure!(
        u32::try_from(total).is_ok(),
        "{total} input lines: one report reads at most {} (split the sources into several reports)",
        u32::MAX
    );
    let total = total as usize;
    // Filled on every thread: the first touch of half a gigabyte of fresh pages is itself a
    // measurable part of a million-event ingest.
    let mut slots: Vec<Option<Event>> = Vec::new();
    (0..total)
        .into_par_iter()
        .with_min_len(1 << 14)
        .map(|_| None)
        .collect_into_vec(&mut slots);
    let mut regions: Vec<&mut [Option<Event>]> = Vec::with_capacity(jobs.len());
    let mut rest = slots.as_mut_slice();
    for &n in &counts {
        let (region, tail) = rest.split_at_mut(n as usize);
        regions.push(region);
        rest = tail;
    }
    let read: Vec<anyhow::Result<FileData>> = jobs
        .par_iter()
        .zip(regions.into_par_iter())
        .zip(foreign.par_iter_mut())
        .enumerate()
        .map(
            |(i, (((s, _, abs), region), foreign))| match foreign.take() {
                Some((data, events)) => {
                    for (slot, e) in region.iter_mut().zip(events) {
                        *slot = Some(e);
                    }
                    Ok(data)
                }
                None => read_file(abs, *s, i as u32, region),
            },
        )
        .collect();
    let datas: Vec<FileData> = read.into_iter().collect::<anyhow::Result<_>>()?;

    let mut ingest = Ingest::default();
    for (job, data) in jobs.iter().zip(&datas) {
        ingest.files.push(FileReport {
            source: job.0,
            path: job.1.clone(),
            abs: job.2.clone(),
            sha256: data.sha256.clone(),
            bytes: data.bytes,
            lines: data.records,
            events: data.events,
            quarantined: data.quarantine.len() as u64,
            folded: data.folded,
            line_digests: data.chain_lines().map(|l| l.hash).collect(),
            seqs: data
                .chain_lines()
                .find_map(|l| l.fields.seq)
                .zip(data.chain_lines().rev().find_map(|l| l.fields.seq)),
            ts_range: data.ts_range,
        });
    }
    for (s, source) in config.sources.iter().enumerate() {
        // Stream order: by the first readable seq, then path (`INTEGRITY.md` §1).
        let mut order: Vec<u32> = (0..jobs.len() as u32)
            .filter(|&i| jobs[i as usize].0 == s as u32)
            .collect();
        // The first seq was found once, for the file report.
        order.sort_by_key(|&i| {
            let f = &ingest.files[i as usize];
            (f.seqs.map_or(u64::MAX, |(first, _)| first), f.path.as_str())
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
    // Events and quarantine in (source, stream order, line) order. The slots are in job order,
    // which differs only where a source's files do not sort by path as they do by first seq.
    let order: Vec<u32> = ingest
        .sources
        .iter()
        .flat_map(|s| s.files.clone())
        .collect();
    if order.iter().enumerate().any(|(k, &i)| k != i as usize) {
        let mut start = Vec::with_capacity(counts.len());
        let mut at = 0u64;
        for &n in &counts {
            start.push(at);
            at += n;
        }
        let moves: Vec<u32> = order
            .iter()
            .flat_map(|&i| {
                let from = start[i as usize] as u32;
                from..from + counts[i as usize] as u32
            })
            .collect();
        crate::model::permute(&mut slots, &moves);
    }
    // Closing up the quarantined lines' slots reuses the vector (same size, same alignment).
    // `filter_map`, not `flatten`: only the former collects in place (measured: `flatten` holds
    // both vectors at once, half a gigabyte more at a million events).
    #[allow(clippy::filter_map_identity)]
    {
        ingest.events = slots.into_iter().filter_map(|e| e).collect();
    }
    let mut datas: Vec<Option<FileData>> = datas.into_iter().map(Some).collect();
    for i in order {
        let data = datas[i as usize].take().expect("each file once");
        ingest.quarantine.extend(data.quarantine);
    }
    debug_assert_eq!(
        ingest.lines(),
        ingest.events.len() as u64
            + ingest.quarantine.len() as u64
            + ingest.sources.iter().map(|s| s.folded).sum::<u64>()
    );
    Ok(ingest)
}

/// The earliest and latest `ts` of some events.
fn ts_range<'a>(
    events: impl Iterator<Item = &'a Event> + Clone,
) -> Option<(jiff::Timestamp, jiff::Timestamp)> {
    let min = events.clone().map(|e| e.ts).min()?;
    Some((min, events.map(|e| e.ts).max()?))
}

/// One file as read: its lines' chain fields in blocks (nothing large is copied while a file is
/// read), what became of its lines, and its quarantined lines in line order.
struct FileData {
    sha256: String,
    bytes: u64,
    records: u64,
    folded: u64,
    chain: Vec<Vec<ChainLine>>,
    events: u64,
    ts_range: Option<(jiff::Timestamp, jiff::Timestamp)>,
    quarantine: Vec<Quarantined>,
}

impl FileData {
    fn chain_lines(&self) -> impl DoubleEndedIterator<Item = &ChainLine> {
        self.chain.iter().flatten()
    }
}

/// Block size for reading: large enough to amortise, small enough to stream.
const BLOCK: usize = 8 << 20;

/// The lines `read_file` will find: one per LF, and a last line without LF.
fn count_lines(path: &Path) -> anyhow::Result<u64> {
    let mut f = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        last = buf[n - 1];
    }
    Ok(lines + u64::from(last != b'\n'))
}

fn changed(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "`{}` changed while it was read (its line count differs between two reads); run again once nothing is writing to it",
        path.display()
    )
}

/// Reads one native file: each line's event goes into its slot of `slots` (one per line;
/// quarantined lines leave theirs empty).
fn read_file(
    path: &Path,
    source: u32,
    file: u32,
    slots: &mut [Option<Event>],
) -> anyhow::Result<FileData> {
    let mut f = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let mut hasher = Sha256::new();
    let mut out = FileData {
        sha256: String::new(),
        bytes: 0,
        records: 0,
        folded: 0,
        chain: Vec::new(),
        events: 0,
        ts_range: None,
        quarantine: Vec::new(),
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
        let here = slots
            .get_mut(first as usize..line_no as usize)
            .ok_or_else(|| changed(path))?;
        let (chain, quarantined): (Vec<ChainLine>, Vec<Option<Quarantined>>) = spans
            .par_iter()
            .zip(here.par_iter_mut())
            .enumerate()
            .with_min_len(256)
            .map(|(j, (&(a, b), slot))| {
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
                let quarantined = match p.result {
                    Ok(e) => {
                        *slot = Some(e);
                        None
                    }
                    Err(r) => Some(Quarantined {
                        origin,
                        column: r.column,
                        reason: r.reason,
                    }),
                };
                (
                    ChainLine {
                        file,
                        line: origin.line,
                        offset: origin.offset,
                        len: origin.len,
                        hash,
                        fields: p.chain,
                    },
                    quarantined,
                )
            })
            .unzip();
        out.records += chain.len() as u64;
        out.chain.push(chain);
        out.quarantine.extend(quarantined.into_iter().flatten());
        offset += cut as u64;
        buf.drain(..cut);
    }
    if line_no as usize != slots.len() {
        return Err(changed(path));
    }
    out.sha256 = hex::encode(hasher.finalize());
    let events = slots.iter().flatten();
    out.events = events.clone().count() as u64;
    out.ts_range = ts_range(events);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Native lines chained from the zero anchor: (`seq`, `id`) each.
    fn chained(items: &[(u64, &str)]) -> Vec<String> {
        let mut prev = "0".repeat(64);
        items
            .iter()
            .map(|(seq, id)| {
                let line = format!(
                    r#"{{"seq":{seq},"prev":"{prev}","id":"{id}","ts":"2026-01-01T00:00:00Z","kind":"access","actor":{{"id":"dana","type":"human"}},"subject":{{"type":"resource","id":"r"}},"attrs":{{"action":"read"}}}}"#
                );
                prev = hex::encode(Sha256::digest(line.as_bytes()));
                line
            })
            .collect()
    }

    #[test]
    fn files_are_read_in_stream_order_whatever_their_names() {
        // `a.jsonl` sorts first by path but continues the chain that `b.jsonl` starts. One `ts`
        // for all: the model keeps ingest order among equal times, so it shows ingest order.
        let lines = chained(&[(1, "e1"), (2, "e2"), (3, "e3"), (4, "e4")]);
        let b = format!("{}\n{}\n", lines[0], lines[1]);
        // A bad line in the middle of `a.jsonl`, and no LF after its last line.
        let a = format!("{}\nnot json\n{}", lines[2], lines[3]);
        let case = crate::testing::check_config(
            &[("logs/a.jsonl", &a), ("logs/b.jsonl", &b)],
            "[[source]]\nname = \"app\"\nformat = \"trailbook-jsonl\"\npaths = [\"logs/*.jsonl\"]\nchain = \"optional\"\n",
        );
        let ingest = &case.loaded.ingest;
        let paths: Vec<&str> = ingest.sources[0]
            .files
            .iter()
            .map(|&f| ingest.files[f as usize].path.as_str())
            .collect();
        assert_eq!(paths, ["logs/b.jsonl", "logs/a.jsonl"]);
        let ids: Vec<&str> = case
            .loaded
            .model
            .events
            .iter()
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(ids, ["e1", "e2", "e3", "e4"]);
        let lines_of: Vec<(u64, u64, u64)> = ingest
            .files
            .iter()
            .map(|f| (f.lines, f.events, f.quarantined))
            .collect();
        assert_eq!(lines_of, [(3, 2, 1), (2, 2, 0)]);
        assert_eq!(ingest.quarantine.len(), 1);
        assert_eq!(ingest.quarantine[0].origin.line, 2);
        assert_eq!(
            ingest.files[ingest.quarantine[0].origin.file as usize].path,
            "logs/a.jsonl"
        );
        // The chain runs b then a: the only problem is the unparsable line's link.
        let issues: Vec<(u64, &str)> = ingest.sources[0]
            .chain
            .issues
            .iter()
            .map(|i| (i.line, ingest.files[i.file as usize].path.as_str()))
            .collect();
        assert!(
            issues.iter().all(|(_, p)| *p == "logs/a.jsonl"),
            "{issues:?}"
        );
    }

    #[test]
    fn lines_are_counted_as_they_are_read() {
        let dir = tempfile::tempdir().unwrap();
        for (text, want) in [
            ("", 0),
            ("\n", 1),
            ("a", 1),
            ("a\n", 1),
            ("a\nb", 2),
            ("a\n\n\nb\n", 4),
        ] {
            let path = dir.path().join("f.jsonl");
            std::fs::write(&path, text).unwrap();
            assert_eq!(count_lines(&path).unwrap(), want, "{text:?}");
        }
    }
}
