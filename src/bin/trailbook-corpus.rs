//! `trailbook-corpus DIR`: runs every source adapter over every file of a folder of real-world
//! samples laid out like `../shared/corpus/` (one subfolder per format) and prints, per file, the
//! format tried, records, events, quarantined records with their reasons, and folded records.
//!
//! The adapter of a subfolder is its name (`openlineage/` → `openlineage`, `mlflow/` →
//! `mlflow-export`, …), or `--format FOLDER=FORMAT`; formats are looked up with
//! `ingest::adapter::reader`, so every adapter this build has is tried. Folders with no adapter
//! (`prov-json/`, `inference-logs/`) and formats this build does not support are reported, not
//! failed.
//!
//! Exit 1 when an adapter panics (each run is caught; the panicking file is named), when a file's
//! counts do not add up (`records = events + quarantined + folded`), when a quarantined record
//! has no reason, or when a file with content gave no record at all (neither ingested nor
//! quarantined; `[]` and `{"Records": []}` hold no record). Exit 2 when DIR cannot be read.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use clap::Parser;
use trailbook::config::{ChainMode, Source};
use trailbook::ingest::adapter::{self, Cx, FileOut, InputFile};

/// Run every adapter over every file of a corpus folder and report what became of each record.
#[derive(Debug, Parser)]
#[command(name = "trailbook-corpus", version)]
struct Args {
    /// The corpus folder: one subfolder per format (openlineage/, mlflow/, k8s-audit/, …).
    dir: PathBuf,
    /// The format of a subfolder, overriding the default (repeatable): `--format mlflow=mlflow-export`.
    #[arg(long = "format", value_name = "FOLDER=FORMAT")]
    formats: Vec<String>,
    /// Also list every event (id, kind, subject).
    #[arg(long)]
    events: bool,
    /// Also print every event as JSON (implies --events).
    #[arg(long)]
    json: bool,
}

/// The default format of each corpus subfolder; `None`: no adapter reads it (yet).
fn default_format(folder: &str) -> Option<&'static str> {
    match folder {
        "openlineage" => Some("openlineage"),
        "mlflow" | "mlflow-export" => Some("mlflow-export"),
        "mlflow-filestore" | "mlruns" => Some("mlflow-filestore"),
        "k8s-audit" => Some("k8s-audit"),
        "cloudtrail" => Some("cloudtrail"),
        "model-card" => Some("model-card"),
        "csv" => Some("csv"),
        _ => None,
    }
}

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn main() -> ExitCode {
    let args = Args::parse();
    let mut overrides: BTreeMap<String, String> = BTreeMap::new();
    for f in &args.formats {
        match f.split_once('=') {
            Some((folder, format)) => {
                overrides.insert(folder.to_string(), format.to_string());
            }
            None => {
                eprintln!("trailbook-corpus: --format takes FOLDER=FORMAT, found `{f}`");
                return ExitCode::from(2);
            }
        }
    }
    // Panics are caught and reported per file; keep their messages, not the default print.
    panic::set_hook(Box::new(|info| {
        let msg = match info.payload().downcast_ref::<&str>() {
            Some(s) => (*s).to_string(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "panic".into()),
        };
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut p) = PANICS.lock() {
            p.push(format!("{msg}{at}"));
        }
    }));
    match run(&args, &overrides) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("trailbook-corpus: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[derive(Default)]
struct Totals {
    files: u64,
    records: u64,
    events: u64,
    quarantined: u64,
    folded: u64,
    failures: Vec<String>,
    unread: u64,
}

fn run(args: &Args, overrides: &BTreeMap<String, String>) -> anyhow::Result<bool> {
    let dir = &args.dir;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut t = Totals::default();
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !e.file_type()?.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        walk(&e.path(), &mut files)?;
        let format = overrides
            .get(&name)
            .map(String::as_str)
            .or_else(|| default_format(&name));
        let Some(format) = format else {
            println!(
                "{name}/: no adapter for this folder ({} files)",
                files.len()
            );
            t.unread += files.len() as u64;
            continue;
        };
        let Some(read) = adapter::reader(format) else {
            println!(
                "{name}/: format `{format}` not supported by this build ({} files)",
                files.len()
            );
            t.unread += files.len() as u64;
            continue;
        };
        println!("{name}/: format `{format}`");
        folder(
            dir,
            &name,
            format,
            read,
            &files,
            (args.events || args.json, args.json),
            &mut t,
        )?;
    }
    println!(
        "{} files read: {} records, {} events, {} quarantined, {} folded; {} files not read (no adapter)",
        t.files, t.records, t.events, t.quarantined, t.folded, t.unread
    );
    if t.failures.is_empty() {
        println!("corpus check: ok");
        Ok(true)
    } else {
        println!("corpus check: {} failures", t.failures.len());
        for f in &t.failures {
            println!("  FAIL {f}");
        }
        Ok(false)
    }
}

/// Runs `read` over the files of one folder (all at once, as one source); when it panics,
/// again file by file to name the file that panics.
fn folder(
    root: &Path,
    name: &str,
    format: &str,
    read: adapter::ReadFn,
    files: &[PathBuf],
    (list_events, as_json): (bool, bool),
    t: &mut Totals,
) -> anyhow::Result<()> {
    let source = Source {
        name: name.to_string(),
        format: format.to_string(),
        paths: vec![name.to_string()],
        chain: ChainMode::None,
        anchor: None,
        first_seq: 1,
        map: Default::default(),
    };
    let bytes: Vec<Vec<u8>> = files.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let shown: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(root)
                .unwrap_or(p)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    let cx = Cx {
        source: 0,
        config: &source,
    };
    let inputs = |which: &[usize]| -> Vec<InputFile<'_>> {
        which
            .iter()
            .map(|&i| InputFile {
                index: i as u32,
                path: &shown[i],
                abs: &files[i],
                bytes: &bytes[i],
            })
            .collect()
    };
    let all: Vec<usize> = (0..files.len()).collect();
    let outs: Vec<Result<FileOut, String>> = match catch(read, &cx, &inputs(&all)) {
        Ok(outs) if outs.len() == files.len() => outs.into_iter().map(Ok).collect(),
        Ok(outs) => {
            t.failures.push(format!(
                "{name}/: adapter `{format}` returned {} results for {} files",
                outs.len(),
                files.len()
            ));
            return Ok(());
        }
        Err(_) => {
            // Find the file(s) that panic on their own.
            all.iter()
                .map(|&i| match catch(read, &cx, &inputs(&[i])) {
                    Ok(mut o) if o.len() == 1 => Ok(o.remove(0)),
                    Ok(o) => Err(format!("returned {} results for 1 file", o.len())),
                    Err(msg) => Err(format!("panicked: {msg}")),
                })
                .collect()
        }
    };
    for (i, out) in outs.into_iter().enumerate() {
        let path = &shown[i];
        t.files += 1;
        let out = match out {
            Ok(o) => o,
            Err(msg) => {
                println!("  {path}: {msg}");
                t.failures.push(format!("{path}: adapter `{format}` {msg}"));
                continue;
            }
        };
        let q = out.quarantine.len() as u64;
        let ev = out.events.len() as u64;
        println!(
            "  {path}: records {}, events {ev}, quarantined {q}, folded {}",
            out.records, out.folded
        );
        t.records += out.records;
        t.events += ev;
        t.quarantined += q;
        t.folded += out.folded;
        for e in &out.quarantine {
            println!(
                "    quarantined line {} col {}: {}",
                e.origin.line, e.column, e.reason
            );
            if e.reason.trim().is_empty() {
                t.failures.push(format!(
                    "{path}:{}: quarantined without a reason",
                    e.origin.line
                ));
            }
        }
        if list_events {
            for e in &out.events {
                let subject = e
                    .subject
                    .as_ref()
                    .map(|s| s.node().to_string())
                    .unwrap_or_default();
                println!(
                    "    event {} {} {} line {}",
                    e.id, e.kind, subject, e.origin.line
                );
                if as_json {
                    println!("      {}", serde_json::to_string(e).unwrap_or_default());
                }
            }
        }
        if out.records != ev + q + out.folded {
            t.failures.push(format!(
                "{path}: records {} ≠ events {ev} + quarantined {q} + folded {}",
                out.records, out.folded
            ));
        }
        if out.records == 0 && !holds_no_record(&bytes[i]) {
            t.failures.push(format!(
                "{path}: a non-empty file gave no record: neither ingested nor quarantined"
            ));
        }
    }
    Ok(())
}

fn catch(
    read: adapter::ReadFn,
    cx: &Cx<'_>,
    inputs: &[InputFile<'_>],
) -> Result<Vec<FileOut>, String> {
    if let Ok(mut p) = PANICS.lock() {
        p.clear();
    }
    panic::catch_unwind(AssertUnwindSafe(|| read(cx, inputs))).map_err(|_| {
        PANICS
            .lock()
            .ok()
            .and_then(|p| p.first().cloned())
            .unwrap_or_else(|| "panic".into())
    })
}

/// Whether a file is empty of records by its shape: blank, `[]`, or an object whose members are
/// all empty arrays (`{"Records": []}`, `{"items": []}`).
fn holds_no_record(bytes: &[u8]) -> bool {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return true;
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Array(a)) => a.is_empty(),
        Ok(serde_json::Value::Object(m)) => {
            !m.is_empty()
                && m.values()
                    .all(|v| v.as_array().is_some_and(|a| a.is_empty()))
        }
        _ => false,
    }
}

/// Every file under `dir`, recursively, sorted, skipping hidden entries.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let ty = e.file_type()?;
        if ty.is_dir() {
            walk(&e.path(), out)?;
        } else if ty.is_file() {
            out.push(e.path());
        }
    }
    Ok(())
}
