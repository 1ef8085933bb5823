//! The command line's definition (clap): commands, their flags and help, and the parsers of
//! flag values; the library's option fields as flags in its messages ([`flags`], [`in_flags`]);
//! the command lines a batch's SLURM jobs run. Part of the binary, not of the library.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use tradesim::error::{Error, Result};
use tradesim::estimate::NaValues;
use tradesim::workflow::{batch, data};
use tradesim::{output, simulate, slurm};

#[derive(Parser)]
#[command(
    name = "tradesim",
    version,
    about = "Trade-agreement scenario simulator: tariff paths → general equilibrium → projected trade"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// Replace a report.html that was edited after tradesim wrote it (one tradesim did
        /// not write is never replaced).
        #[arg(long)]
        force: bool,
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
        /// `1-3`) and a new merge job; each shard's directory is replaced, and merged/ by the
        /// merge job (a file of yours there, or a report.html you edited, is refused first).
        /// Not with --force, which replaces the whole job.
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
        /// Scenario × draw units solved in parallel between writes (bounds memory; at least 1).
        #[arg(long, default_value_t = 16, value_parser = parse_chunk)]
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
        /// its merged/ (replacing an earlier merge, and writing again a report.html that was
        /// there), or list the shards that must run again with the command that reruns just
        /// them. A file of yours in merged/, or a report.html you edited there, refuses the
        /// merge.
        #[arg(long, value_name = "DIR")]
        job: Option<PathBuf>,
        /// Replace an existing, non-empty output directory; with --job, replace a
        /// merged/report.html edited after tradesim wrote it (a file tradesim did not write is
        /// never replaced).
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
pub enum DataCommand {
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
        /// Replace files of the world's names (economies.csv, flows.csv, …) in a directory
        /// that is not an earlier build (one without its BUILD.md).
        #[arg(long)]
        force: bool,
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
        /// Write a world larger than 1 GB (999 economies x 99 sectors is about 5.5 GB); without
        /// it such a world is refused before anything is written. A world larger than the free
        /// space is refused either way.
        #[arg(long)]
        large: bool,
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
        /// Output directory for BACI_SYNTHETIC_Y2020.csv, country_codes_SYNTHETIC.csv,
        /// regions_SYNTHETIC.csv and domestic_SYNTHETIC.csv (whole or nothing; an existing one
        /// is replaced only with --force).
        #[arg(long)]
        out: PathBuf,
        /// Number of rows (1 to 199000000; about 39 bytes each).
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
        /// Seed of the generator.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Replace an existing, non-empty output directory.
        #[arg(long)]
        force: bool,
        /// Write more than 1 GB (over about 25 million rows; 199 million rows is about 7.8 GB);
        /// without it such a year is refused before anything is written. A year larger than
        /// the free space is refused either way.
        #[arg(long)]
        large: bool,
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
pub struct MappingArgs {
    /// The output's sectors (code,name,theta).
    #[arg(long, default_value = "data/mappings/sectors.csv")]
    pub sectors: PathBuf,
    /// Economy (ISO3) → output region (economy,region[,name]); economies not listed go to ROW.
    #[arg(long, default_value = "data/mappings/regions.csv")]
    pub regions: PathBuf,
    /// Output directory (a tidy baseline).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace an existing, non-empty output directory.
    #[arg(long)]
    pub force: bool,
    /// Sector tariff rates from `tradesim data import wits` (set mfn → flows.csv, the others
    /// → tariff_sets.csv).
    #[arg(long)]
    pub tariffs: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum ImportSource {
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
        /// HS code → sector (hs,sector), read with --tariffs: a sector no HS code maps to is not
        /// goods (no WITS rate) and gets tariff 0; use the file given to `data import wits`.
        #[arg(long, default_value = "data/mappings/hs-sectors.csv")]
        hs: PathBuf,
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
pub struct EstimateArgs {
    /// CSV file with a header line.
    pub data: PathBuf,
    /// Formula in fixest syntax: 'y ~ x1 + log(x2) | fe1 + a^b'. Repeat it to fit several
    /// models and print them side by side (as fixest's etable).
    #[arg(long, required = true)]
    pub formula: Vec<String>,
    /// Print the models side by side (fixest's etable) as md (Markdown), csv or latex; the
    /// default with several --formula is md.
    #[arg(long)]
    pub table: Option<String>,
    /// Cluster standard errors by a column or interaction a^b; repeat (or separate with '+')
    /// for two-way clustering. Without it: heteroskedasticity-robust.
    #[arg(long)]
    pub cluster: Vec<String>,
    /// Keep rows where this holds, e.g. 'year in 1986,1990 & exporter != importer' or
    /// '!is_missing(dist)'.
    #[arg(long)]
    pub subset: Option<String>,
    /// Derived column 'name = expression', e.g. 'pair = ifelse(exporter == importer, 0, pair_id)'. Repeatable; applied in order before --subset.
    #[arg(long)]
    pub define: Vec<String>,
    /// The cells read as missing values, comma-separated, in place of the default NA, ., NaN,
    /// NULL and #N/A (R's na.strings): e.g. '.' (Stata's) keeps NA, Namibia's ISO code, as a
    /// value; '' leaves only empty cells, which are always missing. Matched exactly (case
    /// counts; a quoted "NA" in the file is NA); a number is never missing. Also what
    /// is_missing() finds in --subset and --define.
    #[arg(long, value_name = "LIST", value_parser = parse_na_values)]
    pub na_values: Option<NaValues>,
    /// Offset with coefficient one: a column or log(column).
    #[arg(long)]
    pub offset: Option<String>,
    /// Small-sample correction of the standard errors: fixest (default), pyfixest, stata-ml (G/(G-1) only, fixest's ssc(adj = FALSE)), none.
    #[arg(long, default_value = "fixest")]
    pub ssc: String,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write the estimated fixed effects to this CSV file (dimension,level,value).
    #[arg(long)]
    pub fe_out: Option<PathBuf>,
    /// Write fitted values (one per input row, empty when unused) to this CSV file.
    #[arg(long)]
    pub fitted_out: Option<PathBuf>,
    /// IRLS tolerance on the relative change in deviance.
    #[arg(long, default_value_t = 1e-8)]
    pub tol: f64,
    /// Tolerance of the inner demeaning (alternating projections).
    #[arg(long, default_value_t = 1e-10)]
    pub inner_tol: f64,
    /// Maximum IRLS iterations.
    #[arg(long, default_value_t = 100)]
    pub max_iter: usize,
    /// Also drop singleton observations (pyfixest's default fixef_rm="singleton").
    #[arg(long)]
    pub drop_singletons: bool,
    /// Separation checks: `relu` (default: all-zero fixed-effect groups, then the iterative
    /// rectifier for separation by regressors, as ppmlhdfe) or `fe` (fixed-effect groups only,
    /// pyfixest's default).
    #[arg(long, default_value = "relu", value_parser = ["relu", "fe"])]
    pub separation: String,
    /// Print a fit that did not converge (flagged "converged: false") instead of only the
    /// error; the exit status is still non-zero.
    #[arg(long)]
    pub allow_unconverged: bool,
    /// Replace existing --fe-out and --fitted-out files.
    #[arg(long)]
    pub force: bool,
}

/// Output formats of the tables.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// CSV only.
    Csv,
    /// CSV and, beside each file, the same rows as a JSON array of objects.
    Json,
}

/// The formats `tradesim schema` describes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// Scenario files (`Scenario(...)`).
    Scenario,
    /// Batch files (`Batch(...)`).
    Batch,
}

pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
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

/// `--na-values`: the list of [`NaValues::parse`], its error said at the flag.
pub fn parse_na_values(s: &str) -> Result<NaValues, String> {
    NaValues::parse(s)
}

/// `--chunk`: scenario × draw units solved in parallel between writes, at least 1 (0 was run
/// as 1 without a word).
pub fn parse_chunk(s: &str) -> Result<usize, String> {
    let n: usize = s.trim().parse().map_err(|_| {
        format!("`{s}` is not a number of units; give a whole number such as 16 (the default)")
    })?;
    if n == 0 {
        return Err("a chunk of 0 units solves nothing between writes; give at least 1 (the default 16: more units hold more draws in memory at once, fewer write more often)".into());
    }
    Ok(n)
}

/// Shard numbers as written: ranges `(low, high)` (a single shard is `(k, k)`), expanded by
/// [`ShardList::within`] once the number of shards is known, so that `1-99999999999` is
/// refused rather than listed.
#[derive(Clone, Debug)]
pub struct ShardList(pub Vec<(usize, usize)>);

impl ShardList {
    /// The shard numbers, ascending, each once; refused when one is above `n`, the job's
    /// number of shards.
    pub fn within(&self, n: usize) -> Result<Vec<usize>> {
        if let Some(&(low, _)) = self.0.iter().find(|(_, high)| *high > n) {
            return Err(Error::invalid(
                "`rerun`",
                format!("shard {}: the job has shards 1 to {n}", low.max(n + 1)),
            ));
        }
        let mut out: Vec<usize> = self.0.iter().flat_map(|&(a, b)| a..=b).collect();
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

/// Shard numbers: `2,5`, `1-3`, `1-3,7`.
pub fn parse_shard_list(s: &str) -> Result<ShardList, String> {
    let mut out = Vec::new();
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.iter().all(|p| p.is_empty()) {
        return Err("name the shards, e.g. 2,5 or 1-3".into());
    }
    for part in parts {
        if part.is_empty() {
            return Err(format!(
                "`{s}`: a shard number is missing between commas; write the shards as 2,5 or 1-3"
            ));
        }
        let num = |x: &str| {
            x.trim()
                .parse::<usize>()
                .ok()
                .filter(|k| *k >= 1)
                .ok_or_else(|| format!("`{x}` is not a shard number (1, 2, …)"))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                if a.trim().is_empty() || b.trim().is_empty() {
                    return Err(format!("`{part}`: write a range low-high, e.g. 1-3"));
                }
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(format!("`{part}`: write a range low-high"));
                }
                out.push((a, b));
            }
            None => {
                let k = num(part)?;
                out.push((k, k));
            }
        }
    }
    Ok(ShardList(out))
}

/// The estimation's messages name option fields in backticks; on the command line they are
/// flags.
pub const FLAGS: [(&str, &str); 11] = [
    ("`max_iter`", "--max-iter"),
    ("`demean.tol`", "--inner-tol"),
    ("`subset`", "--subset"),
    ("`define`", "--define"),
    ("`cluster`", "--cluster"),
    ("`ssc`", "--ssc"),
    ("`table`", "--table"),
    ("`tol`", "--tol"),
    ("`fe_out`", "--fe-out"),
    ("`fitted_out`", "--fitted-out"),
    ("`formula`", "--formula"),
];

/// An estimation message in the command line's words ([`FLAGS`]).
pub fn flags(message: &str) -> String {
    FLAGS.iter().fold(message.to_string(), |m, (field, flag)| {
        m.replace(field, flag)
    })
}

/// Option fields the library names as an error's context (`` `draws` 5 ``), and their flags.
const OPTION_CONTEXTS: [(&str, &str); 10] = [
    ("`threads`", "--threads"),
    ("`draws`", "--draws"),
    ("`focus`", "--focus"),
    ("`economies`", "--economies"),
    ("`sectors`", "--sectors"),
    ("`rows`", "--rows"),
    ("`shards`", "--slurm"),
    ("`sbatch_options`", "--slurm-opts"),
    ("`rerun`", "--rerun"),
    ("`shard`", "--shard"),
];

/// Phrases of library messages that name options, in the command line's words.
const OPTION_PHRASES: [(&str, &str); 12] = [
    ("`no_submit`", "--no-submit"),
    (
        "the option keep_going records failed draws in failures.csv and goes on",
        "run with --keep-going to record failed draws in failures.csv and go on",
    ),
    ("pass `force`", "pass --force"),
    ("another `out`", "another --out"),
    ("without `rerun` first", "without --rerun first"),
    ("Choose an `out` outside", "Choose an --out outside"),
    ("so `force` does not replace it", "so --force does not replace it"),
    ("; `force` replaces only", "; --force replaces only"),
    (
        "write one with a run of a scenario (or a batch) into `out`, then report on that directory",
        "write one with `tradesim run SCENARIO.ron --out DIR` (or a batch), then run `tradesim report DIR`",
    ),
    (
        "this file is written by the run: run again, or delete it and give the report its `scenario` file",
        "this file is written by `tradesim run`: run again, or delete it and pass `--scenario FILE` to `tradesim report`",
    ),
    // Any other mention of these options (after the phrases above).
    ("`force`", "--force"),
    ("`rerun`", "--rerun"),
];

/// A library error in the command line's words ([`OPTION_CONTEXTS`], [`OPTION_PHRASES`]).
pub fn in_flags(e: Error) -> Error {
    let e = e.map_text(&|m| {
        OPTION_PHRASES
            .iter()
            .fold(m.to_string(), |m, (field, flag)| m.replace(field, flag))
    });
    match e {
        Error::Invalid { context, message } => Error::Invalid {
            context: OPTION_CONTEXTS
                .iter()
                .find_map(|(field, flag)| context.strip_prefix(field).map(|r| flag.to_string() + r))
                .unwrap_or(context),
            message,
        },
        other => other,
    }
}

/// The commands of a batch's SLURM jobs: a shard (`batch --shard {shard}/N` into the task's
/// shard directory), the merge (`merge --job DIR`), and the rerun of some shards (the shard
/// list is appended).
pub fn slurm_commands(
    plan: &batch::SlurmPlan,
    sbatch_options: &[String],
    threads: Option<usize>,
    draws: Option<u32>,
    opts: &simulate::batch::BatchOptions,
) -> Result<(slurm::Commands, Vec<String>)> {
    let (n, dir, batch) = (plan.shards, &plan.dir, &plan.batch_file);
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::invalid("tradesim", format!("cannot find its own program: {e}")))?
        .display()
        .to_string();
    let bilateral = format!("{:?}", opts.bilateral).to_lowercase();
    let chunk = opts.chunk.to_string();
    let mut shard = vec![
        exe.clone(),
        "batch".into(),
        batch.clone(),
        "--shard".into(),
        format!("{}/{n}", slurm::SHARD),
        "--out".into(),
        slurm::task_shard_dir(dir).display().to_string(),
        "--force".into(),
        "--quiet".into(),
        "--threads".into(),
        threads.map_or_else(|| slurm::CPUS.to_string(), |t| t.to_string()),
        "--bilateral".into(),
        bilateral.clone(),
        "--chunk".into(),
        chunk.clone(),
    ];
    let mut rerun = vec![
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
    if let Some(t) = threads {
        rerun.extend(["--threads".into(), t.to_string()]);
    }
    if opts.keep_going {
        shard.push("--keep-going".into());
        rerun.push("--keep-going".into());
    }
    if let Some(d) = draws {
        shard.extend(["--draws".into(), d.to_string()]);
        rerun.extend(["--draws".into(), d.to_string()]);
    }
    rerun.extend(sbatch_options.iter().map(|o| format!("--slurm-opts={o}")));
    rerun.push("--rerun".into());
    let merge = vec![
        exe,
        "merge".into(),
        "--job".into(),
        dir.display().to_string(),
    ];
    Ok((slurm::Commands { shard, merge }, rerun))
}

impl MappingArgs {
    /// The importers' mapping files and destination.
    pub fn mapping(&self) -> data::Mapping<'_> {
        data::Mapping {
            sectors: &self.sectors,
            regions: &self.regions,
            out: &self.out,
            force: self.force,
            tariffs: self.tariffs.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_fields_become_flags() {
        let e = in_flags(Error::invalid("`draws` 0", "must be at least 1"));
        assert_eq!(e.to_string(), "--draws 0: must be at least 1");
        let e = in_flags(Error::invalid("`threads`", "must be at least 1"));
        assert_eq!(e.to_string(), "--threads: must be at least 1");
        let e = in_flags(Error::invalid("/jobs/x", "… replace it, pass `force`"));
        assert_eq!(e.to_string(), "/jobs/x: … replace it, pass --force");
        // The output directory's and the report's messages (output/staging.rs, report/html.rs).
        let e = in_flags(Error::invalid(
            "o",
            "holds files tradesim did not write (x); `force` replaces only tradesim's own files, so nothing was touched. Move them away or choose another `out`",
        ));
        assert_eq!(
            e.to_string(),
            "o: holds files tradesim did not write (x); --force replaces only tradesim's own files, so nothing was touched. Move them away or choose another --out"
        );
        let e = in_flags(Error::invalid(
            "o",
            "no marker), so `force` does not replace it; Choose an `out` outside",
        ));
        assert_eq!(
            e.to_string(),
            "o: no marker), so --force does not replace it; Choose an --out outside"
        );
        let e = in_flags(Error::invalid(
            "d",
            "no economies.csv here: this is not an output directory of tradesim; write one with a run of a scenario (or a batch) into `out`, then report on that directory",
        ));
        assert!(e.to_string().ends_with("write one with `tradesim run SCENARIO.ron --out DIR` (or a batch), then run `tradesim report DIR`"), "{e}");
        let e = in_flags(Error::data(
            std::path::Path::new("d/report_meta.json"),
            3,
            "bad; this file is written by the run: run again, or delete it and give the report its `scenario` file",
        ));
        assert!(
            e.to_string()
                .ends_with("delete it and pass `--scenario FILE` to `tradesim report`"),
            "{e}"
        );
        // A context that is a file, not an option, is left alone.
        let e = in_flags(Error::invalid("threads.ron", "x"));
        assert_eq!(e.to_string(), "threads.ron: x");
        assert_eq!(
            flags("`fe_out` and `fitted_out` take one `formula`"),
            "--fe-out and --fitted-out take one --formula"
        );
    }

    #[test]
    fn shards() {
        assert_eq!(parse_shard("2/8"), Ok((2, 8)));
        assert!(parse_shard("9/8").is_err());
        assert_eq!(
            parse_shard_list("1-3,7,2").unwrap().within(7).unwrap(),
            vec![1, 2, 3, 7]
        );
        assert!(parse_shard_list("3-1").is_err());
        // An empty item, a half range and a huge range (listed, it filled the memory).
        assert!(parse_shard_list("2,,5")
            .unwrap_err()
            .contains("missing between commas"));
        assert!(parse_shard_list("2,").is_err());
        assert!(parse_shard_list("3-")
            .unwrap_err()
            .contains("write a range low-high"));
        let huge = parse_shard_list("1-100000000000").unwrap().within(4);
        assert_eq!(
            huge.unwrap_err().to_string(),
            "`rerun`: shard 5: the job has shards 1 to 4"
        );
        assert!(parse_shard_list("0").is_err() && parse_shard_list("a").is_err());
    }

    #[test]
    fn a_chunk_of_zero_units_is_refused() {
        assert_eq!(parse_chunk("16"), Ok(16));
        assert!(parse_chunk("0").unwrap_err().contains("give at least 1"));
        assert!(parse_chunk("x")
            .unwrap_err()
            .contains("not a number of units"));
    }
}
