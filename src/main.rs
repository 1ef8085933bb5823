//! The `tradesim` command line: argument parsing, the terminal (progress bar) and dispatch;
//! the work lives in the library.

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tradesim::{estimate, output, report, scenario, simulate};

/// Set when stdout is a closed pipe (`tradesim check FILE | head -2`): further output is
/// dropped, the command finishes its work (outputs are still written whole) and exits quietly.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// A failure to write to stdout other than a closed pipe (a full disk): reported at the end.
static STDOUT_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// Every line for stdout goes through here (never `print!`, which panics on a closed pipe).
fn out(text: std::fmt::Arguments) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_fmt(text).and_then(|_| o.flush()) {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            if let Ok(mut slot) = STDOUT_ERROR.lock() {
                slot.get_or_insert(e.to_string());
            }
        }
    }
}

/// Messages for stderr (warnings, diagnostics, errors); a closed stderr is ignored.
fn err(text: std::fmt::Arguments) {
    let _ = std::io::stderr().lock().write_fmt(text);
}

macro_rules! say {
    ($($t:tt)*) => { out(format_args!($($t)*)) };
}
macro_rules! sayln {
    ($($t:tt)*) => { out(format_args!("{}\n", format_args!($($t)*))) };
}
macro_rules! esayln {
    ($($t:tt)*) => { err(format_args!("{}\n", format_args!($($t)*))) };
}

/// Print warnings on stderr.
fn warn_all(warnings: &[String]) {
    for w in warnings {
        esayln!("warning: {w}");
    }
}

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
    /// Validate a scenario (or batch) file without solving and print its resolved tariff paths:
    /// the scenario's own agreements (those its file and its parents other than the base-year
    /// data define, remove or continue), every agreement with --all.
    Check {
        /// The scenario or batch file (RON).
        scenario: PathBuf,
        /// Show every agreement, including those of the base-year data held at their rates.
        #[arg(long)]
        all: bool,
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
        #[arg(long, value_parser = parse_shard, conflicts_with = "slurm")]
        shard: Option<(usize, usize)>,
        /// Submit the batch to SLURM as a job array of N shards and a job that merges them
        /// when every shard has ended; --out is then the job directory (scripts, logs,
        /// shard-K/, and the results in merged/).
        #[arg(long, value_name = "N", conflicts_with = "report")]
        slurm: Option<usize>,
        /// Options for sbatch, for both jobs, e.g. '--partition=short --time=02:00:00
        /// --cpus-per-task=8 --mem=8G' (repeatable; split as a shell splits words).
        #[arg(
            long,
            requires = "slurm",
            allow_hyphen_values = true,
            value_name = "OPTIONS"
        )]
        slurm_opts: Vec<String>,
        /// With --slurm: submit only these shards of the job in --out again (e.g. `2,5` or
        /// `1-3`) and a new merge job; each shard's directory is replaced.
        #[arg(long, requires = "slurm", value_parser = parse_shard_list, value_name = "SHARDS")]
        rerun: Option<ShardList>,
        /// With --slurm: write the job directory and print the command that submits it,
        /// without submitting.
        #[arg(long, requires = "slurm")]
        no_submit: bool,
        /// Record failed draws in failures.csv and go on (default: stop at the first failure).
        #[arg(long)]
        keep_going: bool,
        /// Per-draw bilateral tables: none, central (draw 0), summary (plus streaming moments), all.
        #[arg(long, default_value = "central")]
        bilateral: output::batch::BilateralMode,
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
        /// Monte Carlo draws per scenario, instead of the batch file's `draws` (e.g. a quick
        /// run with 5). Draw d is the same whatever the count.
        #[arg(long)]
        draws: Option<u32>,
    },
    /// Estimate a gravity model by PPML with high-dimensional fixed effects.
    Estimate(EstimateArgs),
    /// Print saved fits (the JSON of `tradesim estimate --json`) side by side, as fixest's
    /// etable: Markdown, CSV or LaTeX.
    Etable {
        /// JSON files of `tradesim estimate --json` (an object, or an array of them).
        fits: Vec<PathBuf>,
        /// md (Markdown), csv or latex.
        #[arg(long, default_value = "md")]
        table: String,
    },
    /// Merge the output directories of the shards of a batch into one directory.
    Merge {
        /// Shard output directories (all N shards).
        #[arg(required_unless_present = "job", conflicts_with = "job")]
        dirs: Vec<PathBuf>,
        /// Output directory.
        #[arg(long, required_unless_present = "job", conflicts_with = "job")]
        out: Option<PathBuf>,
        /// The job directory of a batch submitted with `batch --slurm`: merge its shards into
        /// its merged/ (replacing an earlier merge), or list the shards that must run again
        /// with the command that reruns just them.
        #[arg(long, value_name = "DIR")]
        job: Option<PathBuf>,
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
    /// Write a synthetic world (made up, labelled so) in the tidy baseline format, with a
    /// scenario file `scenario.ron` beside it (a free-trade agreement among the first
    /// economies): the benchmark worlds of docs/performance.md, e.g. the size of the OECD ICIO
    /// tables with `--economies 77 --sectors 45`.
    SyntheticWorld {
        /// Output directory (whole or nothing; an existing one is replaced only with --force).
        #[arg(long)]
        out: PathBuf,
        /// Number of economies (2 to 999).
        #[arg(long, default_value_t = 150)]
        economies: usize,
        /// Number of sectors (1 to 99; the last one is non-traded when there are several).
        #[arg(long, default_value_t = 20)]
        sectors: usize,
        /// Leave out input-output links (value added is gross output).
        #[arg(long)]
        no_io: bool,
        /// Seed of the generator.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Replace an existing, non-empty output directory.
        #[arg(long)]
        force: bool,
    },
    /// Import a dataset into a tidy baseline (OECD ICIO, CEPII BACI), sector tariff rates (WITS
    /// TRAINS) or estimation covariates (CEPII Gravity). See docs/import.md.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Write a synthetic BACI-like year file (t,i,j,k,v,q; labelled synthetic in its country
    /// file) for timing the importer on full-size input. Not real data.
    SyntheticBaci {
        /// Directory to write BACI_SYNTHETIC_Y2020.csv and country_codes_SYNTHETIC.csv into.
        #[arg(long)]
        out: PathBuf,
        /// Number of rows.
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
        /// Seed of the generator.
        #[arg(long, default_value_t = 7)]
        seed: u64,
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
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
}

/// Mapping files shared by the baseline importers.
#[derive(clap::Args)]
struct MappingArgs {
    /// The output's sectors (code,name,theta).
    #[arg(long, default_value = "data/mappings/sectors.csv")]
    sectors: PathBuf,
    /// Economy (ISO3) → output region (economy,region[,name]); economies not listed go to ROW.
    #[arg(long, default_value = "data/mappings/regions.csv")]
    regions: PathBuf,
    /// Output directory (a tidy baseline).
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing, non-empty output directory.
    #[arg(long)]
    force: bool,
    /// Sector tariff rates from `tradesim data import wits` (set mfn → flows.csv, the others
    /// → tariff_sets.csv).
    #[arg(long)]
    tariffs: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ImportSource {
    /// OECD Inter-Country Input-Output table (one year's CSV, 2021 or 2023 edition).
    Icio {
        /// The ICIO CSV (e.g. ICIO2021_2018.csv).
        data: PathBuf,
        /// The edition whose layout the file has: 2021 or 2023.
        #[arg(long)]
        edition: String,
        /// ICIO industry → sector (industry,sector); default: data/mappings/icio-EDITION-industries.csv.
        #[arg(long)]
        industries: Option<PathBuf>,
        #[command(flatten)]
        map: MappingArgs,
    },
    /// CEPII BACI year file (t,i,j,k,v,q) with its country-code file and domestic sales.
    Baci {
        /// The BACI year CSV (e.g. BACI_HS12_Y2019_V202401.csv).
        data: PathBuf,
        /// BACI's country-code file of the same release.
        #[arg(long)]
        countries: PathBuf,
        /// Domestic sales per output region and sector (economy,sector,value,unit).
        #[arg(long)]
        domestic: PathBuf,
        /// The year the file holds (checked on every row).
        #[arg(long)]
        year: Option<i64>,
        /// HS code (2, 4 or 6 digits) → sector (hs,sector).
        #[arg(long, default_value = "data/mappings/hs-sectors.csv")]
        hs: PathBuf,
        #[command(flatten)]
        map: MappingArgs,
    },
    /// WITS/TRAINS tariff files (AVEMFN, AVEPref) → sector rates by pair of regions (tariffs.csv).
    Wits {
        /// MFN files (AVEMFN). Repeatable.
        #[arg(long, required = true)]
        mfn: Vec<PathBuf>,
        /// Preferential files (AVEPref). Repeatable.
        #[arg(long)]
        preferential: Vec<PathBuf>,
        /// Tariff year.
        #[arg(long)]
        year: i64,
        /// Numeric country code → ISO3 (BACI's country-code file, or country_code,country_iso3).
        #[arg(long)]
        countries: PathBuf,
        /// Import-weight the HS6 rates with this BACI file of the same year (default: simple).
        #[arg(long)]
        weights: Option<PathBuf>,
        #[arg(long, default_value = "data/mappings/hs-sectors.csv")]
        hs: PathBuf,
        #[arg(long, default_value = "data/mappings/sectors.csv")]
        sectors: PathBuf,
        #[arg(long, default_value = "data/mappings/regions.csv")]
        regions: PathBuf,
        /// Output directory (tariffs.csv).
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// CEPII Gravity dataset → bilateral covariates for `tradesim estimate` (covariates.csv).
    Gravity {
        /// Gravity_V202211.csv (or V202102).
        data: PathBuf,
        /// Years to keep (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        years: Vec<i64>,
        /// ISO3 codes to keep (comma-separated; default all).
        #[arg(long, value_delimiter = ',')]
        economies: Vec<String>,
        /// Covariates (comma-separated columns of the dataset; fta_wto is written as rta).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "dist,contig,comlang_off,comcol,fta_wto"
        )]
        covariates: Vec<String>,
        /// Output directory (covariates.csv).
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        force: bool,
    },
}

#[derive(clap::Args)]
struct EstimateArgs {
    /// CSV file with a header line.
    data: PathBuf,
    /// Formula in fixest syntax: 'y ~ x1 + log(x2) | fe1 + a^b'. Repeat it to fit several
    /// models and print them side by side (as fixest's etable).
    #[arg(long, required = true)]
    formula: Vec<String>,
    /// Print the models side by side (fixest's etable) as md (Markdown), csv or latex; the
    /// default with several --formula is md.
    #[arg(long)]
    table: Option<String>,
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
    /// Separation checks: `relu` (default: all-zero fixed-effect groups, then the iterative
    /// rectifier for separation by regressors, as ppmlhdfe) or `fe` (fixed-effect groups only,
    /// pyfixest's default).
    #[arg(long, default_value = "relu", value_parser = ["relu", "fe"])]
    separation: String,
    /// Print a fit that did not converge (flagged "converged: false") instead of only the
    /// error; the exit status is still non-zero.
    #[arg(long)]
    allow_unconverged: bool,
    /// Replace existing --fe-out and --fitted-out files.
    #[arg(long)]
    force: bool,
}

/// The library's messages name option fields in backticks; on the command line they are flags.
const FLAGS: [(&str, &str); 8] = [
    ("`max_iter`", "--max-iter"),
    ("`demean.tol`", "--inner-tol"),
    ("`subset`", "--subset"),
    ("`define`", "--define"),
    ("`cluster`", "--cluster"),
    ("`ssc`", "--ssc"),
    ("`table`", "--table"),
    ("`tol`", "--tol"),
];

/// A library message in the command line's words ([`FLAGS`]).
fn flags(message: &str) -> String {
    FLAGS.iter().fold(message.to_string(), |m, (field, flag)| {
        m.replace(field, flag)
    })
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
        relu: a.separation == "relu",
        allow_unconverged: a.allow_unconverged,
        progress: None,
    };
    if a.formula.len() > 1 && (a.fe_out.is_some() || a.fitted_out.is_some()) {
        return Err("--fe-out and --fitted-out take one --formula; run the model alone".into());
    }
    for p in a.fe_out.iter().chain(&a.fitted_out) {
        output::staging::check_new_file(p, a.force).map_err(|e| e.to_string())?;
    }
    let bar = ProgressBar::new(opts.max_iter as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} IRLS {pos}/{len} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message("reading and checking the data");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let hook_bar = bar.clone();
    let opts = estimate::PpmlOptions {
        progress: Some(estimate::ProgressHook(std::sync::Arc::new(move |p| {
            hook_bar.set_position(p.iteration as u64);
            hook_bar.set_message(format!(
                "deviance change {:.1e} (target {:.0e}), {} sweeps",
                p.criterion, p.tol, p.sweeps
            ));
        }))),
        ..opts
    };
    let format: Option<estimate::etable::Format> = match &a.table {
        Some(t) => Some(
            t.parse()
                .map_err(|e: tradesim::error::Error| e.to_string())?,
        ),
        None if a.formula.len() > 1 => Some(estimate::etable::Format::Markdown),
        None => None,
    };
    let fits = estimate::run_models(&a.data, &a.formula, &a.define, &opts);
    bar.finish_and_clear();
    let fits = fits.map_err(|e| e.to_string())?;
    for (fit, _) in &fits {
        // No NaN or infinity is printed or written with exit status 0.
        let mut numbers = fit
            .names
            .iter()
            .zip(fit.coefficients.iter().zip(&fit.std_errors));
        if let Some((name, (b, se))) =
            numbers.find(|(_, (b, se))| !(b.is_finite() && se.is_finite()))
        {
            return Err(format!("the estimate of `{name}` is {b} with standard error {se}: not a finite number, so nothing is printed or written; look for a regressor that separates the zeros of the outcome or is collinear with the fixed effects"));
        }
        if let Some(fe) = fit
            .fixed_effects
            .iter()
            .find(|fe| fe.values.iter().any(|v| !v.is_finite()))
        {
            if a.fe_out.is_some() {
                return Err(format!("the fixed effects of `{}` include a value that is not finite, so --fe-out is not written", fe.dimension));
            }
        }
        for w in &fit.warnings {
            esayln!("warning: {w}");
        }
    }
    let json: Vec<serde_json::Value> = fits
        .iter()
        .map(|(f, st)| estimate::output::to_json(f, st))
        .collect();
    if a.json {
        let j = if json.len() == 1 {
            json[0].clone()
        } else {
            serde_json::Value::Array(json.clone())
        };
        sayln!(
            "{}",
            serde_json::to_string_pretty(&j).map_err(|e| e.to_string())?
        );
    } else if let Some(format) = format {
        let models = json
            .iter()
            .map(|j| estimate::etable::Model::from_json(j, "estimate"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        say!("{}", estimate::etable::render(&models, format));
    } else {
        say!("{}", estimate::output::table(&fits[0].0, &fits[0].1));
    }
    let fit = &fits[0].0;
    if let Some(p) = a.fe_out {
        std::fs::write(&p, estimate::output::fixed_effects_csv(fit))
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if let Some(p) = a.fitted_out {
        std::fs::write(&p, estimate::output::fitted_csv(fit))
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if !fit.converged {
        return Err(format!(
            "the fit above did not converge in {} IRLS iterations; its numbers are not estimates",
            fit.iterations
        ));
    }
    Ok(())
}

/// The end of the one run path, for both models: the tables' files, `report_meta.json` and,
/// given the tables, `report.html`, written into the staging directory and committed. Returns
/// the names of the files written.
fn commit_run(
    staged: output::OutputDir,
    mut files: Vec<(String, Vec<u8>)>,
    scenario: output::meta::ScenarioMeta,
    report_tables: Option<&output::Tables>,
    out: &std::path::Path,
) -> tradesim::error::Result<Vec<String>> {
    let meta = output::meta::ReportMeta::new(vec![scenario]);
    files.push((output::meta::FILE.to_string(), meta.to_json()));
    if let Some(tables) = report_tables {
        let data = report::html::ReportData::from_tables(meta, tables, &out.display().to_string());
        files.push((
            report::html::FILE.to_string(),
            report::html::render(&data).into_bytes(),
        ));
    }
    for (name, bytes) in &files {
        staged.write(name, bytes)?;
    }
    staged.commit()?;
    Ok(files.into_iter().map(|(n, _)| n).collect())
}

/// `tradesim run` on a `StructuralGravity(...)` file: the single-sector structural gravity model.
fn run_gravity(
    g: &tradesim::gravity::GravityScenario,
    out: &std::path::Path,
    quiet: bool,
    force: bool,
    format: Format,
    html: bool,
) -> tradesim::error::Result<()> {
    let inputs = [g.path.clone(), g.data.clone()];
    let staged = output::OutputDir::begin(out, force, &inputs)?;
    let outcome = tradesim::gravity::run_scenario(g)?;
    let files = commit_run(
        staged,
        output::gravity::table_files(&outcome, format == Format::Json)?,
        output::gravity::scenario_meta(g, &outcome),
        html.then(|| output::gravity::common_tables(&outcome))
            .as_ref(),
        out,
    )?;
    if quiet {
        return Ok(());
    }
    let (b, c, f) = (&outcome.baseline, &outcome.conditional, &outcome.full);
    esayln!(
        "{}: {} economies, {:?} procedure",
        outcome.scenario,
        outcome.names.len(),
        outcome.procedure
    );
    if outcome.guide_passes.is_none() {
        esayln!(
            "  baseline resistances: {} iterations, residual {:.1e}; conditional: {} iterations, residual {:.1e}",
            b.convergence.iterations, b.convergence.residual, c.convergence.iterations, c.convergence.residual
        );
    }
    esayln!(
        "  full GE: {} {}, market-clearing residual {:.1e}",
        f.convergence.iterations,
        if outcome.guide_passes.is_some() {
            "passes of the Guide's loop (as in the book; markets do not clear exactly)"
        } else {
            "iterations"
        },
        f.market_residual
    );
    esayln!("wrote {} in {}", files.join(", "), out.display());
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

/// Shard numbers, ascending, each once.
#[derive(Clone)]
struct ShardList(Vec<usize>);

/// Shard numbers: `2,5`, `1-3`, `1-3,7`.
fn parse_shard_list(s: &str) -> Result<ShardList, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let num = |x: &str| {
            x.trim()
                .parse::<usize>()
                .ok()
                .filter(|k| *k >= 1)
                .ok_or_else(|| format!("`{x}` is not a shard number (1, 2, …)"))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(format!("`{part}`: write a range low-high"));
                }
                out.extend(a..=b);
            }
            None => out.push(num(part)?),
        }
    }
    out.sort_unstable();
    out.dedup();
    if out.is_empty() {
        return Err("name the shards, e.g. 2,5 or 1-3".into());
    }
    Ok(ShardList(out))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // An interrupted run leaves no partial output: remove the staging directories, exit 130.
    let _ = ctrlc::set_handler(|| {
        output::staging::abandon_all();
        esayln!("interrupted: no output was written");
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
                SchemaKind::Scenario => sayln!("{}", scenario::schema::scenario_json()),
                SchemaKind::Batch => sayln!("{}", scenario::schema::batch_json()),
            }
            Ok(())
        }
        Command::Check { scenario, all } => check(&scenario, all),
        Command::Batch {
            batch,
            out,
            threads,
            shard,
            slurm,
            slurm_opts,
            rerun,
            no_submit,
            keep_going,
            bilateral,
            chunk,
            quiet,
            force,
            report,
            draws,
        } => {
            let opts = simulate::batch::BatchOptions {
                shard,
                keep_going,
                bilateral,
                chunk,
            };
            match slurm {
                Some(shards) => submit_slurm(&SlurmArgs {
                    batch: &batch,
                    out: &out,
                    shards,
                    sbatch_options: &slurm_opts,
                    rerun: rerun.as_ref().map(|r| r.0.as_slice()),
                    no_submit,
                    threads,
                    draws,
                    opts: &opts,
                    force,
                    quiet,
                }),
                None => run_batch(&batch, &out, threads, &opts, draws, quiet, force, report),
            }
        }
        Command::Merge {
            dirs,
            out,
            job,
            force,
        } => match (job, out) {
            (Some(job), _) => merge_job(&job),
            (None, Some(out)) => merge(&dirs, &out, force),
            (None, None) => Err(tradesim::error::Error::invalid(
                "merge",
                "give --out DIR (or --job DIR)",
            )),
        },
        Command::Etable { fits, table } => etable(&fits, &table).map_err(|e| e.map_text(&flags)),
        Command::Estimate(a) => {
            estimate_cmd(a).map_err(|m| tradesim::error::Error::invalid("estimate", flags(&m)))
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
            command: DataCommand::Import { source },
        } => import(source),
        Command::Data {
            command: DataCommand::SyntheticBaci { out, rows, seed },
        } => synthetic_baci(&out, rows, seed),
        Command::Data {
            command:
                DataCommand::SyntheticFdi {
                    out,
                    economies,
                    seed,
                    force,
                },
        } => synthetic_fdi(&out, economies, seed, force),
        Command::Data {
            command:
                DataCommand::SyntheticWorld {
                    out,
                    economies,
                    sectors,
                    no_io,
                    seed,
                    force,
                },
        } => synthetic_world(&out, economies, sectors, !no_io, seed, force),
    };
    let stdout_error = STDOUT_ERROR.lock().ok().and_then(|mut e| e.take());
    match (result, stdout_error) {
        (Ok(()), None) => ExitCode::SUCCESS,
        (Ok(()), Some(e)) => {
            esayln!("error: writing to stdout failed: {e}; the output shown is incomplete");
            ExitCode::FAILURE
        }
        (Err(e), _) => {
            esayln!("error: {e}");
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
        data.set_meta(output::meta::scenario_meta(&s));
    }
    let path = report::html::write(dir, &data)?;
    sayln!("wrote {}", path.display());
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
    let s = match scenario::load_input(path)? {
        scenario::Input::Scenario(s) => s,
        scenario::Input::Gravity(g) => return run_gravity(&g, out, quiet, force, format, html),
        scenario::Input::Batch(_) => {
            return Err(tradesim::error::Error::invalid(
                path.display().to_string(),
                "is a batch file; run it with `tradesim batch`",
            ))
        }
    };
    warn_all(&s.warnings);
    let staged = output::OutputDir::begin(out, force, &s.inputs)?;
    let bar = progress(s.years.len() as u64, quiet, &format!("solving {}", s.name));
    let result = simulate::run(&s, &|| bar.inc(1));
    bar.finish_and_clear();
    let outcome = result?;
    let tables = simulate::tables(&s.baseline, &outcome);
    let files = commit_run(
        staged,
        output::table_files(&tables, format == Format::Json)?,
        output::meta::scenario_meta(&s),
        html.then_some(&tables),
        out,
    )?;
    if !quiet {
        sayln!("world: {}", s.baseline.describe());
        let members = s.changed_members(s.years.last().copied().unwrap_or(s.base_year));
        say!(
            "{}",
            report::summary(
                &s.baseline,
                &tables,
                &outcome.compared_with_label,
                &members,
                10
            )
        );
        sayln!("\nwrote {} in {}", files.join(", "), out.display());
    }
    Ok(())
}

fn check(path: &std::path::Path, all: bool) -> tradesim::error::Result<()> {
    match scenario::load_input(path)? {
        scenario::Input::Gravity(g) => {
            sayln!(
            "structural gravity scenario {}: data {}, year {}, sigma {}, reference {}, {} counterfactual change(s), {:?} procedure",
            g.name,
            g.data.display(),
            g.year,
            g.sigma,
            g.reference,
            g.counterfactual.len(),
            g.procedure
        );
            if let Some(note) = scenario::reference_data_note(&g.data) {
                sayln!("data: {note}");
            }
        }
        scenario::Input::Batch(b) => {
            warn_all(&b.warnings());
            sayln!(
                "batch {}: {} scenario(s), {} draw(s) each, seed {}",
                b.name,
                b.scenarios.len(),
                b.draws,
                b.seed
            );
            for s in &b.scenarios {
                sayln!(
                    "  {} ({} years, {} agreements)",
                    s.name,
                    s.years.len(),
                    s.agreements.len()
                );
            }
        }
        scenario::Input::Scenario(s) => {
            warn_all(&s.warnings);
            say!("{}", report::policy_summary(&s, all));
            if let Some(note) =
                scenario::reference_data_note(std::path::Path::new(&s.baseline.name))
            {
                sayln!("data: {note}");
            }
            if !all && s.agreement_origins.iter().any(|o| !o.own) {
                sayln!(
                    "(`tradesim check --all {}` lists every agreement)",
                    path.display()
                );
            }
        }
    }
    sayln!("ok: {} is valid", path.display());
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn run_batch(
    path: &std::path::Path,
    out: &std::path::Path,
    threads: Option<usize>,
    opts: &simulate::batch::BatchOptions,
    draws: Option<u32>,
    quiet: bool,
    force: bool,
    html: bool,
) -> tradesim::error::Result<()> {
    set_threads(threads)?;
    let mut b = scenario::batch::load(path)?;
    if let Some(n) = draws {
        b = b
            .with_draws(n)
            .map_err(|e| tradesim::error::Error::invalid(format!("--draws {n}"), e.to_string()))?;
    }
    warn_all(&b.warnings());
    let staged = output::OutputDir::begin(out, force, &b.inputs)?;
    let years: usize = b.scenarios.iter().map(|s| s.years.len()).sum();
    let total = years as u64 * (b.draws as u64 + 1);
    let total = match opts.shard {
        Some((_, n)) => total.div_ceil(n as u64),
        None => total,
    };
    let bar = progress(total, quiet, &format!("batch {}", b.name));
    let result = simulate::batch::run_batch(&b, opts, &staged, &|| bar.inc(1));
    bar.finish_and_clear();
    // The library names its options; the command line names its flags.
    let rep = result.map_err(|e| {
        e.map_text(&|m| {
            m.replace(
                "the option keep_going records",
                "run with --keep-going to record",
            )
            .replace("and goes on", "and go on")
        })
    })?;
    let mut meta = output::meta::ReportMeta::new(
        b.scenarios
            .iter()
            .map(output::meta::scenario_meta)
            .collect(),
    );
    meta.focus = b.focus.clone();
    staged.write(output::meta::FILE, &meta.to_json())?;
    if html {
        let data = report::html::ReportData::load(staged.staging_dir())?;
        report::html::write(staged.staging_dir(), &data)?;
    }
    staged.commit()?;
    if !quiet {
        let names: Vec<String> = b.scenarios.iter().map(|s| s.name.clone()).collect();
        say!(
            "{}",
            report::comparison_table(&rep.summary, &names, &b.focus)
        );
        if !rep.failed.is_empty() {
            sayln!("\n{} draw(s) failed; see failures.csv", rep.failed.len());
        }
        sayln!(
            "\nsolved {} scenario × draw units; wrote {} in {}",
            rep.units,
            rep.files.join(", "),
            out.display()
        );
    }
    Ok(())
}

/// `tradesim batch --slurm N`'s arguments.
struct SlurmArgs<'a> {
    batch: &'a std::path::Path,
    out: &'a std::path::Path,
    shards: usize,
    sbatch_options: &'a [String],
    rerun: Option<&'a [usize]>,
    no_submit: bool,
    threads: Option<usize>,
    draws: Option<u32>,
    opts: &'a simulate::batch::BatchOptions,
    force: bool,
    quiet: bool,
}

/// Write the job directory of a batch on SLURM and submit its shards and the merge job (or,
/// with `rerun`, submit some shards of an existing job again).
fn submit_slurm(a: &SlurmArgs) -> tradesim::error::Result<()> {
    use tradesim::error::Error;
    use tradesim::slurm;
    let n = a.shards;
    let mut b = scenario::batch::load(a.batch)?;
    if let Some(d) = a.draws {
        b = b
            .with_draws(d)
            .map_err(|e| Error::invalid(format!("--draws {d}"), e.to_string()))?;
    }
    let units = b.scenarios.len() * (b.draws as usize + 1);
    if n == 0 || n > units {
        return Err(Error::invalid(
            "--slurm",
            format!("{n} shards: the batch has {units} scenario × draw units; give between 1 and {units} shards"),
        ));
    }
    let mut sbatch_options = Vec::new();
    for o in a.sbatch_options {
        sbatch_options
            .extend(slurm::split_options(o).map_err(|m| Error::invalid("--slurm-opts", m))?);
    }
    slurm::check_options(&sbatch_options).map_err(|m| Error::invalid("--slurm-opts", m))?;
    let batch = a
        .batch
        .canonicalize()
        .map_err(|e| Error::io(a.batch, e))?
        .display()
        .to_string();
    let dir = std::path::absolute(a.out).map_err(|e| Error::io(a.out, e))?;
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::invalid("tradesim", format!("cannot find its own program: {e}")))?
        .display()
        .to_string();
    let bilateral = format!("{:?}", a.opts.bilateral).to_lowercase();
    let chunk = a.opts.chunk.to_string();
    let threads = a
        .threads
        .map_or_else(|| slurm::CPUS.to_string(), |t| t.to_string());
    let mut shard = vec![
        exe.clone(),
        "batch".into(),
        batch.clone(),
        "--shard".into(),
        format!("{}/{n}", slurm::SHARD),
        "--out".into(),
        slurm::task_shard_dir(&dir).display().to_string(),
        "--force".into(),
        "--quiet".into(),
        "--threads".into(),
        threads,
        "--bilateral".into(),
        bilateral.clone(),
        "--chunk".into(),
        chunk.clone(),
    ];
    let mut rerun_command = vec![
        exe.clone(),
        "batch".into(),
        batch.clone(),
        "--slurm".into(),
        n.to_string(),
        "--out".into(),
        dir.display().to_string(),
        "--bilateral".into(),
        bilateral,
        "--chunk".into(),
        chunk,
    ];
    if let Some(t) = a.threads {
        rerun_command.extend(["--threads".into(), t.to_string()]);
    }
    if a.opts.keep_going {
        shard.push("--keep-going".into());
        rerun_command.push("--keep-going".into());
    }
    if let Some(d) = a.draws {
        shard.extend(["--draws".into(), d.to_string()]);
        rerun_command.extend(["--draws".into(), d.to_string()]);
    }
    for o in a.sbatch_options {
        rerun_command.push(format!("--slurm-opts={o}"));
    }
    rerun_command.push("--rerun".into());
    let commands = slurm::Commands {
        shard,
        merge: vec![
            exe.clone(),
            "merge".into(),
            "--job".into(),
            dir.display().to_string(),
        ],
    };
    let shards: Vec<usize> = match a.rerun {
        Some(list) => list.to_vec(),
        None => (1..=n).collect(),
    };
    let mut job = slurm::Job {
        name: b.name.clone(),
        batch: batch.clone(),
        shards: n,
        sbatch_options,
        rerun_command,
        submissions: Vec::new(),
    };
    if a.rerun.is_some() {
        let had_job = dir.join(slurm::JOB_FILE).exists();
        let old = slurm::job_to_rerun(&dir, &batch, n, &shards).map_err(|e| match e {
            Error::Invalid { context, message } if context == "rerun" => {
                Error::invalid("--rerun", message)
            }
            Error::Invalid { context, message } if !had_job => Error::invalid(
                context,
                format!("{message}; submit the batch without --rerun first"),
            ),
            other => other,
        })?;
        job.submissions = old.submissions;
        slurm::rewrite(&dir, &job, &commands)?;
    } else {
        if dir.join(slurm::JOB_FILE).exists() {
            let old = slurm::read_job(&dir)?;
            if !a.force {
                return Err(Error::invalid(
                    dir.display().to_string(),
                    format!(
                        "holds the SLURM job of batch `{}` ({} shards); to run some of its shards again: {}; to replace the whole job (its shards' and merged outputs are deleted), pass --force",
                        old.name,
                        old.shards,
                        slurm::rerun_line(&old, "SHARDS")
                    ),
                ));
            }
            let queued = slurm::queued(&old.job_ids());
            if !queued.is_empty() {
                return Err(Error::invalid(
                    dir.display().to_string(),
                    format!(
                        "jobs {} of the job in this directory are still queued or running; cancel them first (scancel {}) or choose another --out",
                        queued.join(", "),
                        queued.join(" ")
                    ),
                ));
            }
        }
        slurm::create(&dir, a.force, &b.inputs, &job, &commands)?;
    }
    if a.no_submit {
        sayln!(
            "wrote the SLURM job of batch `{}` ({n} shards) in {}; submit it with:\n  {}",
            b.name,
            dir.display(),
            slurm::submit_line(&dir, &job, &shards)
        );
        return Ok(());
    }
    let s = match slurm::submit(&dir, &mut job, &shards) {
        Ok(s) => s,
        Err(e) if a.rerun.is_none() => {
            // Nothing was submitted: the job directory this command wrote goes too.
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if !a.quiet {
        let logs = dir.join(slurm::LOGS);
        sayln!(
            "submitted batch `{}` to SLURM: array job {} (shard(s) {} of {n}) and merge job {}, which merges the shards when every one has ended",
            b.name,
            s.array_job,
            output::batch::shard_list(&shards),
            s.merge_job
        );
        sayln!("  job directory: {}", dir.display());
        sayln!(
            "  logs:          {}, {}",
            logs.join(format!("shard-K-{}.out", s.array_job)).display(),
            logs.join(format!("merge-{}.out", s.merge_job)).display()
        );
        sayln!(
            "  results:       {} (when job {} has completed; if a shard failed, its log lists the shards to run again and the command)",
            dir.join(slurm::MERGED).display(),
            s.merge_job
        );
        sayln!("  follow with:   squeue -j {},{}", s.array_job, s.merge_job);
    }
    Ok(())
}

/// `tradesim merge --job DIR`: merge the shards of a SLURM job into DIR/merged, or list the
/// shards that must run again with the command that reruns just them.
fn merge_job(dir: &std::path::Path) -> tradesim::error::Result<()> {
    let rep = tradesim::slurm::merge_job(dir)?;
    sayln!(
        "merged the {} shards of the job in {}: {} units, {} failed draw(s): wrote {} in {}",
        tradesim::slurm::read_job(dir)?.shards,
        dir.display(),
        rep.units,
        rep.failed.len(),
        rep.files.join(", "),
        dir.join(tradesim::slurm::MERGED).display()
    );
    Ok(())
}

fn merge(dirs: &[PathBuf], out: &std::path::Path, force: bool) -> tradesim::error::Result<()> {
    let staged = output::OutputDir::begin(out, force, dirs)?;
    let rep = output::batch::merge(dirs, &staged)?;
    staged.commit()?;
    sayln!(
        "merged {} shard(s), {} units, {} failed draw(s): wrote {} in {}",
        dirs.len(),
        rep.units,
        rep.failed.len(),
        rep.files.join(", "),
        out.display()
    );
    Ok(())
}

fn synthetic_world(
    out: &std::path::Path,
    economies: usize,
    sectors: usize,
    io: bool,
    seed: u64,
    force: bool,
) -> tradesim::error::Result<()> {
    use tradesim::error::Error;
    if !(2..=999).contains(&economies) {
        return Err(Error::invalid("--economies", "must be between 2 and 999"));
    }
    if !(1..=99).contains(&sectors) {
        return Err(Error::invalid("--sectors", "must be between 1 and 99"));
    }
    let staged = output::OutputDir::begin(out, force, &[])?;
    let b = tradesim::data::synthetic::world(economies, sectors, io, seed);
    tradesim::data::tidy::write(&b, staged.staging_dir())?;
    let members: Vec<String> = b
        .economies
        .iter()
        .take(economies.min(20))
        .map(|e| format!("\"{}\"", e.code))
        .collect();
    let scenario = format!(
        "// A synthetic world made up by `tradesim data synthetic-world` (seed {seed}); not data.\n\
         Scenario(\n    name: \"synthetic-{economies}x{sectors}\",\n    baseline: Csv(\".\"),\n    base_year: 2014,\n    horizon: 2015,\n    agreements: [\n        (name: \"FTA\", entry_into_force: 2015, members: [{}]),\n    ],\n)\n",
        members.join(", ")
    );
    output::write_all(
        staged.staging_dir(),
        &[("scenario.ron", scenario.into_bytes())],
    )?;
    staged.commit()?;
    sayln!(
        "wrote a synthetic world of {economies} economies x {sectors} sectors{} (made up, seed {seed}) and scenario.ron to {}",
        if io { " with input-output links" } else { "" },
        out.display()
    );
    Ok(())
}

fn synthetic_fdi(
    out: &std::path::Path,
    economies: usize,
    seed: u64,
    force: bool,
) -> tradesim::error::Result<()> {
    output::staging::check_new_file(out, force)?;
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
    output::write_all(dir, &[(name.as_str(), csv.into_bytes())])?;
    sayln!(
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
    sayln!("{}", world.summary);
    sayln!("wrote {}", out.display());
    Ok(())
}

/// A progress bar in bytes over a file.
fn byte_progress(path: &std::path::Path, what: &str) -> ProgressBar {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(len);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:40}] {bytes}/{total_bytes} {elapsed_precise} (ETA {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

fn import(source: ImportSource) -> tradesim::error::Result<()> {
    use tradesim::data::import::{self as imp, RegionMap, SectorMap};
    match source {
        ImportSource::Icio {
            data,
            edition,
            industries,
            map,
        } => {
            let edition_v = imp::icio::Edition::parse(&edition)?;
            let sectors = imp::read_sectors(&map.sectors)?;
            let ind_path = industries.unwrap_or_else(|| {
                PathBuf::from(format!("data/mappings/icio-{edition}-industries.csv"))
            });
            let ind = SectorMap::read(&ind_path, "industry", &sectors, false)?;
            let regions = RegionMap::read(&map.regions)?;
            let bar = byte_progress(&data, "reading ICIO");
            let o = imp::icio::IcioOptions {
                data: &data,
                edition: edition_v,
                sectors: &sectors,
                industries: &ind,
                regions: &regions,
            };
            let tables = imp::icio::import(&o, &|n| bar.inc(n));
            bar.finish_and_clear();
            finish_baseline(&tables?, &map, vec![data.clone(), ind_path.clone()])
        }
        ImportSource::Baci {
            data,
            countries,
            domestic,
            year,
            hs,
            map,
        } => {
            let sectors = imp::read_sectors(&map.sectors)?;
            let hs_path = hs.clone();
            let hs = SectorMap::read(&hs, "hs", &sectors, true)?;
            let regions = RegionMap::read(&map.regions)?;
            let bar = byte_progress(&data, "reading BACI");
            let o = imp::baci::BaciOptions {
                data: &data,
                countries: &countries,
                year,
                sectors: &sectors,
                hs: &hs,
                regions: &regions,
                domestic: &domestic,
            };
            let r = imp::baci::import(&o, &|n| bar.inc(n));
            bar.finish_and_clear();
            let (tables, sum) = r?;
            sayln!(
                "BACI {}: {} rows, {} products, {:.6e} US$ ({} quantities NA)",
                sum.year,
                sum.rows,
                sum.products,
                sum.total_usd,
                sum.quantity_na
            );
            finish_baseline(&tables, &map, vec![data, countries, domestic, hs_path])
        }
        ImportSource::Wits {
            mfn,
            preferential,
            year,
            countries,
            weights,
            hs,
            sectors,
            regions,
            out,
            force,
        } => {
            let sectors = imp::read_sectors(&sectors)?;
            let hs = SectorMap::read(&hs, "hs", &sectors, true)?;
            let regions = RegionMap::read(&regions)?;
            let bar = match &weights {
                Some(w) => byte_progress(w, "reading import weights"),
                None => ProgressBar::hidden(),
            };
            let o = imp::wits::WitsOptions {
                mfn: &mfn,
                preferential: &preferential,
                year,
                countries: &countries,
                sectors: &sectors,
                hs: &hs,
                regions: &regions,
                weights: weights.as_deref(),
            };
            let r = imp::wits::import(&o, &|n| bar.inc(n));
            bar.finish_and_clear();
            let (csv, summary) = r?;
            let mut inputs: Vec<PathBuf> = mfn.iter().chain(&preferential).cloned().collect();
            inputs.push(countries.clone());
            inputs.extend(weights.iter().cloned());
            imp::commit_files(&out, force, &inputs, &[("tariffs.csv".into(), csv)])?;
            sayln!("{summary}\nwrote {}", out.join("tariffs.csv").display());
            Ok(())
        }
        ImportSource::Gravity {
            data,
            years,
            economies,
            covariates,
            out,
            force,
        } => {
            let bar = byte_progress(&data, "reading CEPII Gravity");
            let o = imp::gravity::GravityOptions {
                data: &data,
                years: &years,
                economies: &economies,
                covariates: &covariates,
            };
            let r = imp::gravity::import(&o, &|n| bar.inc(n));
            bar.finish_and_clear();
            let (csv, rows) = r?;
            imp::commit_files(
                &out,
                force,
                std::slice::from_ref(&data),
                &[("covariates.csv".into(), csv)],
            )?;
            sayln!(
                "{rows} pairs; wrote {}",
                out.join("covariates.csv").display()
            );
            Ok(())
        }
    }
}

fn finish_baseline(
    tables: &tradesim::data::import::BaselineTables,
    map: &MappingArgs,
    mut inputs: Vec<PathBuf>,
) -> tradesim::error::Result<()> {
    use tradesim::data::import as imp;
    let tariffs = map
        .tariffs
        .as_deref()
        .map(imp::TariffTable::read)
        .transpose()?;
    let files = imp::render_baseline(tables, tariffs.as_ref())?;
    inputs.extend([map.sectors.clone(), map.regions.clone()]);
    inputs.extend(map.tariffs.iter().cloned());
    let b = imp::commit_baseline(&map.out, map.force, &inputs, &files)?;
    sayln!(
        "wrote {} ({} economies, {} sectors; checked by the baseline loader)",
        map.out.display(),
        b.n_economies(),
        b.n_sectors()
    );
    Ok(())
}

fn synthetic_baci(out: &std::path::Path, rows: u64, seed: u64) -> tradesim::error::Result<()> {
    let bar = progress(rows, false, "writing synthetic BACI");
    let sectors: Vec<String> =
        tradesim::data::import::read_sectors(std::path::Path::new("data/mappings/sectors.csv"))?
            .into_iter()
            .map(|s| s.code)
            .collect();
    let r = tradesim::data::synthetic::baci_year(out, rows, seed, &sectors, &|n| bar.inc(n));
    bar.finish_and_clear();
    let files = r?;
    for f in files {
        sayln!("wrote {} (synthetic, not real data)", f.display());
    }
    Ok(())
}

fn etable(files: &[PathBuf], table: &str) -> tradesim::error::Result<()> {
    use tradesim::error::Error;
    let format: estimate::etable::Format = table.parse()?;
    if files.is_empty() {
        return Err(Error::invalid(
            "etable",
            "name at least one JSON file of `tradesim estimate --json`",
        ));
    }
    let mut models = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::invalid(
                f.display().to_string(),
                format!("line {}, column {}: not JSON ({e}); save the output of `tradesim estimate --json`", e.line(), e.column()),
            )
        })?;
        let list = match v {
            serde_json::Value::Array(a) => a,
            other => vec![other],
        };
        for m in &list {
            models.push(estimate::etable::Model::from_json(
                m,
                &f.display().to_string(),
            )?);
        }
    }
    say!("{}", estimate::etable::render(&models, format));
    Ok(())
}
