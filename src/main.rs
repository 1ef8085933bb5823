//! The `tradesim` command line: argument parsing, the terminal (progress bar) and dispatch;
//! the work lives in the library.

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use tradesim::{report, scenario, simulate};

#[derive(Parser)]
#[command(
    name = "tradesim",
    version,
    about = "Trade-agreement scenario simulator: tariff paths → general equilibrium → projected trade"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Solve every year of a scenario and write economies.csv, bilateral.csv, tariffs.csv,
    /// solver.csv (and quotas.csv) into the output directory.
    Run {
        /// The scenario file (RON).
        scenario: PathBuf,
        /// Output directory (created if missing).
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// No progress bar and no summary.
        #[arg(long)]
        quiet: bool,
        /// Also write the tables as JSON (`economies.json`, …) beside the CSVs.
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Also write the self-contained HTML report, `report.html`.
        #[arg(long)]
        report: bool,
    },
    /// Write DIR/report.html, a self-contained HTML report, from the tables in DIR.
    Report {
        /// An output directory of `tradesim run` (or of a batch).
        dir: PathBuf,
        /// The scenario file, to show its agreements, tariff paths and settings when DIR has
        /// no report_meta.json (or to refresh them). Repeat for several scenarios.
        #[arg(long)]
        scenario: Vec<PathBuf>,
        /// Another output directory whose scenarios join the report (to compare options run
        /// separately). Repeatable.
        #[arg(long)]
        compare: Vec<PathBuf>,
        /// Economies to show first in every chart and table (comma-separated codes).
        #[arg(long, value_delimiter = ',')]
        focus: Vec<String>,
    },
    /// Print the JSON Schema of the scenario file format (for editors and tools).
    Schema {
        /// Which format.
        #[arg(value_enum, default_value_t = SchemaKind::Scenario)]
        kind: SchemaKind,
    },
    /// Validate a scenario without solving and print its resolved tariff paths.
    Check {
        /// The scenario file (RON).
        scenario: PathBuf,
    },
}

/// Output formats of the tables.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// CSV only.
    Csv,
    /// CSV and, beside each file, the same rows as a JSON array of objects.
    Json,
}

/// The formats `tradesim schema` describes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemaKind {
    /// Scenario files (`Scenario(...)`).
    Scenario,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            scenario,
            out,
            threads,
            quiet,
            format,
            report,
        } => run(&scenario, &out, threads, quiet, format, report),
        Command::Check { scenario } => check(&scenario),
        Command::Report {
            dir,
            scenario,
            compare,
            focus,
        } => write_report(&dir, &scenario, &compare, &focus),
        Command::Schema { kind } => {
            match kind {
                SchemaKind::Scenario => println!("{}", scenario::schema::scenario_json()),
            }
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn set_threads(threads: Option<usize>) -> tradesim::error::Result<()> {
    if let Some(n) = threads {
        if n == 0 {
            return Err(tradesim::error::Error::invalid(
                "--threads",
                "must be at least 1",
            ));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| tradesim::error::Error::invalid("--threads", e.to_string()))?;
    }
    Ok(())
}

fn progress(len: u64, quiet: bool, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {elapsed_precise} (ETA {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

fn run(
    path: &std::path::Path,
    out: &std::path::Path,
    threads: Option<usize>,
    quiet: bool,
    format: Format,
    html: bool,
) -> tradesim::error::Result<()> {
    set_threads(threads)?;
    let s = scenario::load(path)?;
    let bar = progress(s.years.len() as u64, quiet, &format!("solving {}", s.name));
    let result = simulate::run(&s, &|| bar.inc(1));
    bar.finish_and_clear();
    let outcome = result?;
    let tables = report::tables(&s.baseline, &outcome);
    let mut files = report::table_files(&tables, format == Format::Json)?;
    let meta = report::meta::ReportMeta::new(vec![report::meta::scenario_meta(&s)]);
    files.push((report::meta::FILE.to_string(), meta.to_json()));
    if html {
        let data = report::html::ReportData::from_tables(meta, &tables, &out.display().to_string());
        files.push((
            report::html::FILE.to_string(),
            report::html::render(&data).into_bytes(),
        ));
    }
    let files = report::write_files(out, &files)?;
    if !quiet {
        let members: Vec<usize> = {
            let mut m: Vec<usize> = s
                .agreements
                .iter()
                .filter(|a| a.entry_into_force > s.base_year || a.removed)
                .flat_map(|a| a.members.iter().map(|m| m.economy))
                .collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        print!("{}", report::summary(&s.baseline, &outcome, &members, 10));
        println!("\nwrote {} in {}", files.join(", "), out.display());
    }
    Ok(())
}

fn check(path: &std::path::Path) -> tradesim::error::Result<()> {
    let s = scenario::load(path)?;
    print!("{}", report::policy_summary(&s));
    println!("ok: {} is valid", path.display());
    Ok(())
}

fn write_report(
    dir: &std::path::Path,
    scenarios: &[PathBuf],
    compare: &[PathBuf],
    focus: &[String],
) -> tradesim::error::Result<()> {
    let mut data = report::html::ReportData::load(dir)?;
    for other in compare {
        data.merge(report::html::ReportData::load(other)?)?;
    }
    if !focus.is_empty() {
        let known: std::collections::BTreeSet<&str> =
            data.economies.iter().map(|r| r.economy.as_str()).collect();
        if let Some(bad) = focus.iter().find(|e| !known.contains(e.as_str())) {
            return Err(tradesim::error::Error::invalid(
                "--focus",
                format!(
                    "economy `{bad}` is not in {}; its economies are: {}",
                    dir.join("economies.csv").display(),
                    known.into_iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        data.meta.focus = focus.to_vec();
    }
    for path in scenarios {
        let s = scenario::load(path)?;
        if !data.scenarios().contains(&s.name) {
            return Err(tradesim::error::Error::invalid(
                path.display().to_string(),
                format!(
                    "scenario `{}` has no rows in {}; its scenarios are: {}. Pass the scenario file the tables were written from",
                    s.name,
                    dir.join("economies.csv").display(),
                    data.scenarios().join(", ")
                ),
            ));
        }
        data.set_meta(report::meta::scenario_meta(&s));
    }
    let path = report::html::write(dir, &data)?;
    println!("wrote {}", path.display());
    Ok(())
}
