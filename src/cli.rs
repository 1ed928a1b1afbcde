//! The command line (`ARCHITECTURE.md`, "Command line"): flags → one resolved run → exit code.
//!
//! Exit codes: 0 success (no unwaived deny finding), 1 deny-level findings, 2 could not run. A
//! closed pipe on stdout (`trailbook check | head`) counts as success.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use jiff::Timestamp;

use crate::checks::{self, Findings, catalogue};
use crate::config::{self, Config};
use crate::event::NodeId;
use crate::graph::{self, LineageGraph};
use crate::ingest::{self, Ingest};
use crate::model::Model;
use crate::report::{self, Report};

#[derive(Parser)]
#[command(
    name = "trailbook",
    version,
    about = "Machine-learning audit logs → evidence a regulator can trust"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a commented trailbook.toml and a tiny chained example log into DIR.
    Init {
        /// The folder (created if needed).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Read the sources, check them against the enabled policy packs; no site is written.
    Check {
        /// The config file.
        #[arg(short, long, default_value = "trailbook.toml")]
        config: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Dump one stage as JSON instead of the report.
        #[arg(long, value_enum)]
        emit: Option<Emit>,
        /// The report's as-of time (RFC 3339); default: `[report] as_of`, SOURCE_DATE_EPOCH, else the latest event.
        #[arg(long, value_parser = parse_time)]
        as_of: Option<Timestamp>,
    },
    /// Check, then write the next version `vN` of the evidence site.
    Build {
        #[arg(short, long, default_value = "trailbook.toml")]
        config: PathBuf,
        /// The site root when one audience is built; the folder of one root per audience
        /// (`DIR/NAME`) when several are (default: each audience's `out`, else `site/NAME`
        /// beside the config file).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Build only this audience (default: every configured audience, else `internal`,
        /// `regulator` and `public`).
        #[arg(long)]
        audience: Option<String>,
        /// The report's as-of time (RFC 3339); default: `[report] as_of`, SOURCE_DATE_EPOCH, else the latest event.
        #[arg(long, value_parser = parse_time)]
        as_of: Option<Timestamp>,
        /// A folder of templates that replace built-in ones of the same name.
        #[arg(long)]
        templates: Option<PathBuf>,
    },
    /// Check a published site: digests, file lists, signatures, the version chain and the log.
    /// Exit 0 intact, 1 tampered (each bad file or version is named), 2 could not run.
    Verify {
        /// The site root (the folder holding `versions.json`, `log/` and `v1/`, `v2/`, …).
        site: PathBuf,
        /// Check the files of this version only (the chain and the log are always checked).
        #[arg(long)]
        version: Option<u32>,
        /// An OpenSSH `allowed_signers` file: every version must be signed by a key it accepts.
        #[arg(long)]
        allowed_signers: Option<PathBuf>,
        /// A `log/checkpoint` kept from earlier: today's log must extend it.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Export the lineage graph.
    Graph {
        #[arg(short, long, default_value = "trailbook.toml")]
        config: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Json)]
        format: GraphFormat,
        /// Only the neighbourhood of this node (TYPE:ID, e.g. model_version:credit-risk@1.4.0).
        #[arg(long)]
        focus: Option<String>,
        /// With --focus: how many edges away from it (default: everything connected).
        #[arg(long)]
        depth: Option<usize>,
        #[arg(long, value_parser = parse_time)]
        as_of: Option<Timestamp>,
    },
    /// List the rules of the catalogue.
    Rules {
        /// Only the rules of this pack.
        #[arg(long)]
        pack: Option<String>,
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Print a rule's documentation.
    Explain {
        /// A rule id, e.g. LOG-02.
        rule: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Sarif,
    Junit,
}

#[derive(Clone, Copy, ValueEnum)]
enum Emit {
    Model,
    Graph,
    Findings,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Json,
    Dot,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    crate::time::parse_date_or_time(s)
}

/// Runs the command line; the binary's `main`.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The stages up to the graph, shared by `check` and `graph`.
pub struct Loaded {
    pub config: Config,
    pub ingest: Ingest,
    pub model: Model,
    pub graph: LineageGraph,
}

/// config → ingest → model → graph.
pub fn load(config_path: &std::path::Path, as_of: Option<Timestamp>) -> anyhow::Result<Loaded> {
    let mut timer = Timer::new();
    let config = config::load(config_path)?;
    let mut ingest = ingest::run(&config)?;
    crate::link::apply(&config, &mut ingest);
    timer.lap("ingest");
    let model = Model::build(&mut ingest, as_of, config.report.as_of)?;
    timer.lap("model");
    let graph = graph::build(&model);
    timer.lap("graph");
    Ok(Loaded {
        config,
        ingest,
        model,
        graph,
    })
}

/// Stage timings on stderr when `TRAILBOOK_TIMINGS` is set (for benchmarking; never in output).
pub struct Timer {
    on: bool,
    last: std::time::Instant,
}

impl Timer {
    pub fn new() -> Timer {
        Timer {
            on: std::env::var_os("TRAILBOOK_TIMINGS").is_some(),
            last: std::time::Instant::now(),
        }
    }

    /// Whether timings are printed.
    pub fn on(&self) -> bool {
        self.on
    }

    pub fn lap(&mut self, stage: &str) {
        if self.on {
            let now = std::time::Instant::now();
            eprintln!(
                "timing: {stage:<8} {:>8.3} s  {}",
                (now - self.last).as_secs_f64(),
                memory()
            );
            self.last = now;
        }
    }
}

/// Resident and peak memory of this process (Linux), for the timing lines.
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
            .map_or_else(|| "?".to_string(), |kb| format!("{} MB", kb / 1024))
    };
    format!("rss {}, peak {}", field("VmRSS:"), field("VmHWM:"))
}

impl Default for Timer {
    fn default() -> Self {
        Timer::new()
    }
}

fn out(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .context("cannot write to stdout")?;
    stdout.flush().context("cannot write to stdout")
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Init { dir } => {
            crate::init::run(&dir)?;
            eprintln!(
                "wrote `{}` and `{}`; next: trailbook check -c {}",
                dir.join("trailbook.toml").display(),
                dir.join("logs/app.jsonl").display(),
                dir.join("trailbook.toml").display()
            );
            Ok(0)
        }
        Command::Check {
            config,
            format,
            emit,
            as_of,
        } => {
            let loaded = load(&config, as_of)?;
            let mut timer = Timer::new();
            let findings =
                checks::run(&loaded.model, &loaded.graph, &loaded.config, &loaded.ingest);
            timer.lap("checks");
            let report = Report {
                config_path: &config.to_string_lossy(),
                ingest: &loaded.ingest,
                model: &loaded.model,
                findings: &findings,
                packs: enabled_packs(&loaded.config),
                evidence_limit: loaded.config.policy.evidence_limit,
            };
            if let Some(emit) = emit {
                let json = match emit {
                    Emit::Model => serde_json::to_string_pretty(&ModelDump {
                        ingest: &loaded.ingest,
                        model: &loaded.model,
                    }),
                    Emit::Graph => {
                        let all = loaded.graph.select(None, None)?;
                        serde_json::to_string_pretty(&loaded.graph.to_json(&all))
                    }
                    Emit::Findings => serde_json::to_string_pretty(&findings),
                }
                .context("cannot serialize")?;
                out(&format!("{json}\n"))?;
                eprintln!("{}", report.counts_line());
                let code = exit_code(&findings);
                release((loaded, findings));
                return Ok(code);
            }
            match format {
                Format::Text => out(&report::text::render(&report))?,
                Format::Json => out(&report.json())?,
                Format::Sarif => out(&report::sarif::render(&report))?,
                Format::Junit => out(&report::junit::render(&report))?,
            }
            if !matches!(format, Format::Text) {
                eprintln!("{}", report.counts_line());
            }
            let code = exit_code(&findings);
            release((loaded, findings));
            Ok(code)
        }
        Command::Build {
            config,
            out,
            audience,
            as_of,
            templates,
        } => {
            // The audiences and their key first: a missing key stops the build before any work.
            let plan =
                crate::privacy::plan(&config::load(&config)?, out.as_deref(), audience.as_deref())?;
            for notice in &plan.notices {
                eprintln!("notice: {notice}");
            }
            let mut loaded = load(&config, as_of)?;
            // LOG-03 compares what this build reads with what the last version of the first
            // audience's site read (every audience of a build reads the same inputs).
            if let Some(root) = plan.audiences.first().map(|a| &a.root) {
                loaded.ingest.previous_lock = crate::render::publish::versions(root)
                    .ok()
                    .and_then(|v| v.last().copied())
                    .map(|v| crate::seal::lock::read(&root.join(format!("v{v}/inputs.lock"))))
                    .transpose()?
                    .flatten();
            }
            let mut timer = Timer::new();
            let findings =
                checks::run(&loaded.model, &loaded.graph, &loaded.config, &loaded.ingest);
            timer.lap("checks");
            let packs = enabled_packs(&loaded.config);
            let report = Report {
                config_path: &config.to_string_lossy(),
                ingest: &loaded.ingest,
                model: &loaded.model,
                findings: &findings,
                packs: packs.clone(),
                evidence_limit: loaded.config.policy.evidence_limit,
            };
            eprintln!("{}", report.counts_line());
            for audience in &plan.audiences {
                let view = audience
                    .redacts()
                    .then(|| crate::privacy::view(&loaded, &findings, audience, plan.key.as_ref()))
                    .transpose()
                    .with_context(|| format!("audience `{}`", audience.name))?;
                timer.lap("redact");
                let input = match &view {
                    Some(v) => crate::render::Input {
                        config: &loaded.config,
                        ingest: &v.ingest,
                        model: &v.model,
                        graph: &v.graph,
                        findings: &v.findings,
                        packs: &packs,
                        exposure: audience.exposure(),
                    },
                    None => crate::render::Input {
                        config: &loaded.config,
                        ingest: &loaded.ingest,
                        model: &loaded.model,
                        graph: &loaded.graph,
                        findings: &findings,
                        packs: &packs,
                        exposure: audience.exposure(),
                    },
                };
                let built = crate::render::write_site(
                    &input,
                    &audience.root,
                    &audience.name,
                    templates.as_deref(),
                )
                .with_context(|| format!("audience `{}`", audience.name))?;
                timer.lap("render");
                eprintln!(
                    "wrote version v{} of the site for audience `{}`: open `{}`",
                    built.version,
                    audience.name,
                    built.dir.join("index.html").display()
                );
            }
            let code = exit_code(&findings);
            drop(report);
            release((loaded, findings));
            Ok(code)
        }
        Command::Verify {
            site,
            version,
            allowed_signers,
            checkpoint,
        } => {
            let report = crate::seal::verify::run(
                &site,
                &crate::seal::verify::Options {
                    version,
                    allowed_signers,
                    checkpoint,
                },
            )?;
            for p in &report.problems {
                eprintln!("TAMPERED  {p}");
            }
            for n in &report.notes {
                eprintln!("note      {n}");
            }
            let n = report.versions.len();
            if report.intact() {
                eprintln!(
                    "intact: {n} version{} of `{}`, {} files checked, {} signed",
                    if n == 1 { "" } else { "s" },
                    site.display(),
                    report.checked_files,
                    report.signed.len()
                );
                Ok(0)
            } else {
                eprintln!(
                    "TAMPERED: {} problem{} in `{}` ({n} version{})",
                    report.problems.len(),
                    if report.problems.len() == 1 { "" } else { "s" },
                    site.display(),
                    if n == 1 { "" } else { "s" }
                );
                Ok(1)
            }
        }
        Command::Graph {
            config,
            format,
            focus,
            depth,
            as_of,
        } => {
            let loaded = load(&config, as_of)?;
            let focus = focus
                .map(|f| {
                    NodeId::parse(&f).with_context(|| {
                        format!(
                            "--focus `{f}` is not TYPE:ID (e.g. model_version:credit-risk@1.4.0)"
                        )
                    })
                })
                .transpose()?;
            if depth.is_some() && focus.is_none() {
                bail!("--depth needs --focus TYPE:ID");
            }
            let nodes = loaded.graph.select(focus.as_ref(), depth)?;
            match format {
                GraphFormat::Json => {
                    let json = serde_json::to_string_pretty(&loaded.graph.to_json(&nodes))
                        .context("cannot serialize")?;
                    out(&format!("{json}\n"))?;
                }
                GraphFormat::Dot => out(&loaded.graph.to_dot(&nodes))?,
            }
            drop(nodes);
            release(loaded);
            Ok(0)
        }
        Command::Rules { pack, format } => {
            let text =
                crate::report::rules::list(pack.as_deref(), matches!(format, ListFormat::Json))?;
            out(&text)?;
            Ok(0)
        }
        Command::Explain { rule } => {
            out(&crate::report::rules::explain(&rule)?)?;
            Ok(0)
        }
    }
}

fn enabled_packs(config: &Config) -> Vec<String> {
    catalogue::PACKS
        .iter()
        .filter(|p| config.policy.enabled(p.id))
        .map(|p| p.id.to_string())
        .collect()
}

/// Leaves a command's large values to the operating system: the process exits next, and freeing
/// a million-event model allocation by allocation would cost a measurable part of the run.
fn release<T>(value: T) {
    std::mem::forget(value);
}

fn exit_code(findings: &Findings) -> u8 {
    u8::from(findings.failed())
}

#[derive(serde::Serialize)]
struct ModelDump<'a> {
    ingest: &'a Ingest,
    model: &'a Model,
}
