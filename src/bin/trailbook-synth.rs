//! `trailbook-synth`: writes a synthetic, hash-chained audit trail with planted violations
//! (see `trailbook::synth`). Exit 0 on success, 2 with the error chain on failure.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use trailbook::synth::{self, SynthOptions};

/// Write a synthetic audit trail (config, chained logs, planted.json) for tests and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "trailbook-synth", version)]
struct Args {
    /// Total number of log lines to write, planted violations included.
    #[arg(long, value_name = "N")]
    events: u64,
    /// PRNG seed; the same seed and N give byte-identical files.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Split each source into at most K files; its hash chain runs on across them.
    #[arg(long, value_name = "K", default_value_t = SynthOptions::DEFAULT_FILES_PER_SOURCE)]
    files_per_source: usize,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let opts = SynthOptions {
        events: args.events,
        seed: args.seed,
        out: args.out,
        files_per_source: args.files_per_source,
    };
    match synth::generate(&opts) {
        Ok(planted) => {
            let mut per_source: Vec<(String, u64, usize)> = Vec::new();
            for f in &planted.files {
                match per_source.iter_mut().find(|(s, _, _)| *s == f.source) {
                    Some(entry) => {
                        entry.1 += f.lines;
                        entry.2 += 1;
                    }
                    None => per_source.push((f.source.clone(), f.lines, 1)),
                }
            }
            let sources: Vec<String> = per_source
                .iter()
                .map(|(s, lines, files)| format!("{s} {lines} in {files}"))
                .collect();
            println!(
                "wrote {} lines ({}) and {} planted violations to `{}`, as of {}",
                planted.events,
                sources.join(", "),
                planted.violations.len(),
                opts.out.display(),
                planted.as_of
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("trailbook-synth: {e:#}");
            ExitCode::from(2)
        }
    }
}
