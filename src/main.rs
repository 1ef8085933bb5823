//! The `tradesim` command line: argument parsing, the terminal (progress bar) and dispatch;
//! the work lives in the library.

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use tradesim::{estimate, report, scenario, simulate};

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
    /// solver.csv (and quotas.csv, investment.csv) into the output directory. A
    /// `StructuralGravity(...)` file runs the single-sector structural gravity model.
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
        /// Replace an existing, non-empty output directory.
        #[arg(long)]
        force: bool,
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
    /// Print the JSON Schema of the scenario or batch file format (for editors and tools).
    Schema {
        /// Which format.
        #[arg(value_enum, default_value_t = SchemaKind::Scenario)]
        kind: SchemaKind,
    },
    /// Validate a scenario (or batch) file without solving and print its resolved tariff paths.
    Check {
        /// The scenario or batch file (RON).
        scenario: PathBuf,
    },
    /// Run a batch: several scenarios × Monte Carlo draws × years, in parallel; writes the
    /// per-draw tables, summary.csv (mean, median, 5th and 95th percentiles) and manifest.json.
    Batch {
        /// The batch file (RON, `Batch( ... )`).
        batch: PathBuf,
        /// Output directory.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Run only the K-th of N equal parts of the batch, e.g. `--shard 2/8`.
        #[arg(long, value_parser = parse_shard)]
        shard: Option<(usize, usize)>,
        /// Record failed draws in failures.csv and go on (default: stop at the first failure).
        #[arg(long)]
        keep_going: bool,
        /// Per-draw bilateral tables: none, central (draw 0), summary (plus streaming moments), all.
        #[arg(long, default_value = "central")]
        bilateral: report::batch::BilateralMode,
        /// Scenario × draw units solved in parallel between writes (bounds memory).
        #[arg(long, default_value_t = 16)]
        chunk: usize,
        /// No progress bar and no comparison table.
        #[arg(long)]
        quiet: bool,
        /// Replace an existing, non-empty output directory.
        #[arg(long)]
        force: bool,
        /// Also write the self-contained HTML report, `report.html`.
        #[arg(long)]
        report: bool,
    },
    /// Estimate a gravity model by PPML with high-dimensional fixed effects.
    Estimate(EstimateArgs),
    /// Merge the output directories of the shards of a batch into one directory.
    Merge {
        /// Shard output directories (all N shards).
        dirs: Vec<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing, non-empty output directory.
        #[arg(long)]
        force: bool,
    },
    /// Data preparation: build baselines from sourced facts.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
}

#[derive(Subcommand)]
enum DataCommand {
    /// Build the built-in world `apac-americas-2014` from the sourced facts in the tidy
    /// baseline format (docs/world.md).
    BuildWorld {
        /// Directory holding economies_2014.csv, bilateral_2014.csv,
        /// bilateral_2014_tradhist.csv, tariffs_2014.csv, import_shares_2014.csv and
        /// services_2014.csv.
        #[arg(long, default_value = "../shared/facts")]
        facts: PathBuf,
        /// Directory holding the project's own sourced facts (product_groups_2014.csv,
        /// wto_ttd_mtn_2014.csv).
        #[arg(long, default_value = "data/apac-americas-2014/facts")]
        extra_facts: PathBuf,
        /// The base-year scenario whose agreements set the applied rates of the data.
        #[arg(long, default_value = "scenarios/baseline-2014.ron")]
        agreements: PathBuf,
        /// Output directory (created if absent; PROVENANCE.md there is left untouched).
        #[arg(long, default_value = "data/apac-americas-2014")]
        out: PathBuf,
    },
    /// Write a synthetic bilateral FDI panel (labelled `synthetic = 1` in every row, generated
    /// with a PTA effect of ln 1.30) to try `tradesim estimate` on FDI data.
    SyntheticFdi {
        /// The CSV file to write.
        #[arg(long)]
        out: PathBuf,
        /// Number of economies.
        #[arg(long, default_value_t = 40)]
        economies: usize,
        /// Seed of the generator.
        #[arg(long, default_value_t = 11)]
        seed: u64,
    },
}

#[derive(clap::Args)]
struct EstimateArgs {
    /// CSV file with a header line.
    data: PathBuf,
    /// Formula in fixest syntax: 'y ~ x1 + log(x2) | fe1 + a^b'.
    #[arg(long)]
    formula: String,
    /// Cluster standard errors by a column or interaction a^b; repeat (or separate with '+')
    /// for two-way clustering. Without it: heteroskedasticity-robust.
    #[arg(long)]
    cluster: Vec<String>,
    /// Keep rows where this holds, e.g. 'year in 1986,1990 & exporter != importer'.
    #[arg(long)]
    subset: Option<String>,
    /// Derived column 'name = expression', e.g. 'pair = ifelse(exporter == importer, 0, pair_id)'. Repeatable; applied in order before --subset.
    #[arg(long)]
    define: Vec<String>,
    /// Offset with coefficient one: a column or log(column).
    #[arg(long)]
    offset: Option<String>,
    /// Small-sample correction of the standard errors: fixest (default), pyfixest, stata-ml (G/(G-1) only, fixest's ssc(adj = FALSE)), none.
    #[arg(long, default_value = "fixest")]
    ssc: String,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Write the estimated fixed effects to this CSV file (dimension,level,value).
    #[arg(long)]
    fe_out: Option<PathBuf>,
    /// Write fitted values (one per input row, empty when unused) to this CSV file.
    #[arg(long)]
    fitted_out: Option<PathBuf>,
    /// IRLS tolerance on the relative change in deviance.
    #[arg(long, default_value_t = 1e-8)]
    tol: f64,
    /// Tolerance of the inner demeaning (alternating projections).
    #[arg(long, default_value_t = 1e-10)]
    inner_tol: f64,
    /// Maximum IRLS iterations.
    #[arg(long, default_value_t = 100)]
    max_iter: usize,
    /// Also drop singleton observations (pyfixest's default fixef_rm="singleton").
    #[arg(long)]
    drop_singletons: bool,
}

fn estimate_cmd(a: EstimateArgs) -> Result<(), String> {
    let ssc: estimate::Ssc = a
        .ssc
        .parse()
        .map_err(|e: tradesim::error::Error| e.to_string())?;
    let cluster: Vec<String> = a
        .cluster
        .iter()
        .flat_map(|c| {
            c.split('+')
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect();
    let opts = estimate::PpmlOptions {
        subset: a.subset,
        cluster,
        offset: a.offset,
        ssc,
        tol: a.tol,
        max_iter: a.max_iter,
        demean: estimate::DemeanOptions {
            tol: a.inner_tol,
            ..Default::default()
        },
        drop_singletons: a.drop_singletons,
    };
    let fit = estimate::run(&a.data, &a.formula, &a.define, &opts).map_err(|e| e.to_string())?;
    for w in &fit.warnings {
        eprintln!("warning: {w}");
    }
    if a.json {
        let j = estimate::output::to_json(&fit);
        println!(
            "{}",
            serde_json::to_string_pretty(&j).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", estimate::output::table(&fit));
    }
    if let Some(p) = a.fe_out {
        std::fs::write(&p, estimate::output::fixed_effects_csv(&fit))
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if let Some(p) = a.fitted_out {
        std::fs::write(&p, estimate::output::fitted_csv(&fit))
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}

/// `tradesim run` on a `StructuralGravity(...)` file: the single-sector structural gravity model.
fn run_gravity(
    scenario: &std::path::Path,
    out: &std::path::Path,
    quiet: bool,
    force: bool,
) -> tradesim::error::Result<()> {
    let staged = report::output::OutputDir::begin(out, force)?;
    let outcome = tradesim::gravity::run_gravity_scenario(scenario)?;
    tradesim::gravity::write_gravity_tables(&outcome, staged.staging_dir())?;
    staged.commit()?;
    if quiet {
        return Ok(());
    }
    let (b, c, f) = (&outcome.baseline, &outcome.conditional, &outcome.full);
    eprintln!(
        "{}: {} economies, {:?} procedure",
        outcome.scenario,
        outcome.names.len(),
        outcome.procedure
    );
    if outcome.guide_passes.is_none() {
        eprintln!(
            "  baseline resistances: {} iterations, residual {:.1e}; conditional: {} iterations, residual {:.1e}",
            b.convergence.iterations, b.convergence.residual, c.convergence.iterations, c.convergence.residual
        );
    }
    eprintln!(
        "  full GE: {} {}, market-clearing residual {:.1e}",
        f.convergence.iterations,
        if outcome.guide_passes.is_some() {
            "passes of the Guide's loop (as in the book; markets do not clear exactly)"
        } else {
            "iterations"
        },
        f.market_residual
    );
    eprintln!("wrote economies.csv, bilateral.csv in {}", out.display());
    Ok(())
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
    /// Batch files (`Batch(...)`).
    Batch,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (k, n) = s
        .split_once('/')
        .ok_or("write the shard as K/N, e.g. 2/8")?;
    let k: usize = k
        .trim()
        .parse()
        .map_err(|_| format!("`{k}` is not a shard number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a number of shards"))?;
    if k == 0 || n == 0 || k > n {
        return Err(format!("{k}/{n}: need 1 ≤ K ≤ N"));
    }
    Ok((k, n))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // An interrupted run leaves no partial output: remove the staging directories, exit 130.
    let _ = ctrlc::set_handler(|| {
        report::output::abandon_all();
        eprintln!("interrupted: no output was written");
        std::process::exit(130);
    });
    let result = match cli.command {
        Command::Run {
            scenario,
            out,
            threads,
            quiet,
            force,
            format,
            report,
        } => run(&scenario, &out, threads, quiet, force, format, report),
        Command::Report {
            dir,
            scenario,
            compare,
            focus,
        } => write_report(&dir, &scenario, &compare, &focus),
        Command::Schema { kind } => {
            match kind {
                SchemaKind::Scenario => println!("{}", scenario::schema::scenario_json()),
                SchemaKind::Batch => println!("{}", scenario::schema::batch_json()),
            }
            Ok(())
        }
        Command::Check { scenario } => check(&scenario),
        Command::Batch {
            batch,
            out,
            threads,
            shard,
            keep_going,
            bilateral,
            chunk,
            quiet,
            force,
            report,
        } => {
            let opts = report::batch::BatchOptions {
                shard,
                keep_going,
                bilateral,
                chunk,
            };
            run_batch(&batch, &out, threads, &opts, quiet, force, report)
        }
        Command::Merge { dirs, out, force } => merge(&dirs, &out, force),
        Command::Estimate(a) => {
            estimate_cmd(a).map_err(|m| tradesim::error::Error::invalid("estimate", m))
        }
        Command::Data {
            command:
                DataCommand::BuildWorld {
                    facts,
                    extra_facts,
                    agreements,
                    out,
                },
        } => build_world(&facts, &extra_facts, &agreements, &out),
        Command::Data {
            command:
                DataCommand::SyntheticFdi {
                    out,
                    economies,
                    seed,
                },
        } => synthetic_fdi(&out, economies, seed),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
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
    force: bool,
    format: Format,
    html: bool,
) -> tradesim::error::Result<()> {
    set_threads(threads)?;
    let text = std::fs::read_to_string(path).map_err(|e| tradesim::error::Error::io(path, e))?;
    match scenario::file_kind(&text) {
        scenario::FileKind::StructuralGravity => return run_gravity(path, out, quiet, force),
        scenario::FileKind::Batch => {
            return Err(tradesim::error::Error::invalid(
                path.display().to_string(),
                "is a batch file; run it with `tradesim batch`",
            ))
        }
        _ => {}
    }
    let s = scenario::load(path)?;
    let staged = report::output::OutputDir::begin(out, force)?;
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
    for (name, bytes) in &files {
        staged.write(name, bytes)?;
    }
    let files: Vec<String> = files.into_iter().map(|(n, _)| n).collect();
    staged.commit()?;
    if !quiet {
        println!("world: {}", s.baseline.describe());
        let members = s.changed_members(s.years.last().copied().unwrap_or(s.base_year));
        print!("{}", report::summary(&s.baseline, &outcome, &members, 10));
        println!("\nwrote {} in {}", files.join(", "), out.display());
    }
    Ok(())
}

fn check(path: &std::path::Path) -> tradesim::error::Result<()> {
    let text = std::fs::read_to_string(path).map_err(|e| tradesim::error::Error::io(path, e))?;
    if scenario::file_kind(&text) == scenario::FileKind::StructuralGravity {
        let g = tradesim::gravity::load_gravity_scenario(path)?;
        println!(
            "structural gravity scenario {}: data {}, year {}, sigma {}, reference {}, {} counterfactual change(s), {:?} procedure",
            g.name,
            g.data.display(),
            g.year,
            g.sigma,
            g.reference,
            g.counterfactual.len(),
            g.procedure
        );
    } else if scenario::file_kind(&text) == scenario::FileKind::Batch {
        let b = scenario::batch::load(path)?;
        println!(
            "batch {}: {} scenario(s), {} draw(s) each, seed {}",
            b.name,
            b.scenarios.len(),
            b.draws,
            b.seed
        );
        for s in &b.scenarios {
            println!(
                "  {} ({} years, {} agreements)",
                s.name,
                s.years.len(),
                s.agreements.len()
            );
        }
    } else {
        let s = scenario::load(path)?;
        print!("{}", report::policy_summary(&s));
    }
    println!("ok: {} is valid", path.display());
    Ok(())
}

fn run_batch(
    path: &std::path::Path,
    out: &std::path::Path,
    threads: Option<usize>,
    opts: &report::batch::BatchOptions,
    quiet: bool,
    force: bool,
    html: bool,
) -> tradesim::error::Result<()> {
    set_threads(threads)?;
    let b = scenario::batch::load(path)?;
    let staged = report::output::OutputDir::begin(out, force)?;
    let years: usize = b.scenarios.iter().map(|s| s.years.len()).sum();
    let total = years as u64 * (b.draws as u64 + 1);
    let total = match opts.shard {
        Some((_, n)) => total.div_ceil(n as u64),
        None => total,
    };
    let bar = progress(total, quiet, &format!("batch {}", b.name));
    let result = report::batch::run_batch(&b, opts, &staged, &|| bar.inc(1));
    bar.finish_and_clear();
    let rep = result?;
    let mut meta = report::meta::ReportMeta::new(
        b.scenarios
            .iter()
            .map(report::meta::scenario_meta)
            .collect(),
    );
    meta.focus = b.focus.clone();
    staged.write(report::meta::FILE, &meta.to_json())?;
    if html {
        let data = report::html::ReportData::load(staged.staging_dir())?;
        report::html::write(staged.staging_dir(), &data)?;
    }
    staged.commit()?;
    if !quiet {
        let names: Vec<String> = b.scenarios.iter().map(|s| s.name.clone()).collect();
        print!(
            "{}",
            report::batch::comparison_table(&rep.summary, &names, &b.focus)
        );
        if !rep.failed.is_empty() {
            println!("\n{} draw(s) failed; see failures.csv", rep.failed.len());
        }
        println!(
            "\nsolved {} scenario × draw units; wrote {} in {}",
            rep.units,
            rep.files.join(", "),
            out.display()
        );
    }
    Ok(())
}

fn merge(dirs: &[PathBuf], out: &std::path::Path, force: bool) -> tradesim::error::Result<()> {
    let staged = report::output::OutputDir::begin(out, force)?;
    let rep = report::batch::merge(dirs, &staged)?;
    staged.commit()?;
    println!(
        "merged {} shard(s), {} units, {} failed draw(s): wrote {} in {}",
        dirs.len(),
        rep.units,
        rep.failed.len(),
        rep.files.join(", "),
        out.display()
    );
    Ok(())
}

fn synthetic_fdi(
    out: &std::path::Path,
    economies: usize,
    seed: u64,
) -> tradesim::error::Result<()> {
    if !(2..=999).contains(&economies) {
        return Err(tradesim::error::Error::invalid(
            "--economies",
            "must be between 2 and 999",
        ));
    }
    let csv = tradesim::invest::synthetic::fdi_panel_csv(economies, seed);
    let name = out
        .file_name()
        .ok_or_else(|| {
            tradesim::error::Error::invalid(out.display().to_string(), "name a file to write")
        })?
        .to_string_lossy()
        .to_string();
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    report::write_all(dir, &[(name.as_str(), csv.into_bytes())])?;
    println!(
        "wrote {} (synthetic: {economies} economies, years 2002-2014, PTA effect ln 1.30 = {:.4})",
        out.display(),
        tradesim::invest::synthetic::true_beta()
    );
    Ok(())
}

fn build_world(
    facts: &std::path::Path,
    extra_facts: &std::path::Path,
    agreements: &std::path::Path,
    out: &std::path::Path,
) -> tradesim::error::Result<()> {
    let world = tradesim::world::build(facts, extra_facts, agreements)?;
    world.write(out)?;
    println!("{}", world.summary);
    println!("wrote {}", out.display());
    Ok(())
}
