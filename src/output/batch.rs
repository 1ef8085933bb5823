//! Batch outputs: the tables only a batch writes (`failures.csv`, `bilateral_summary.csv`,
//! `manifest.json`), the CSV files streamed into the staging directory while the batch runs
//! (`Staged`), and `merge`, which combines shard outputs into the files a single run writes.
//! The batch loop itself is [`crate::simulate::batch::run_batch`].
//!
//! Files: `economies.csv`, `solver.csv`, `failures.csv`, `quotas.csv` (per draw), `bilateral.csv`
//! (per `--bilateral`), `bilateral_summary.csv` (with `--bilateral summary`; a shard of several
//! also writes `bilateral_draws.csv`, the per-draw values `merge` needs), `summary.csv`,
//! `manifest.json`. Everything is written under temporary names and renamed into place at the
//! end, so an interrupted or failed batch leaves no partial table.

use super::staging::OutputDir;
pub use super::summary::SummaryRow;
use super::summary::{DrawSpill, Moments};
use super::{csv_header, to_csv, EconomyRow};
use crate::error::{Error, Result};
use crate::scenario::inputs::InputFile;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Bytes of per-draw values the summary holds at a time (it reads the spill file in chunks).
pub(crate) const SUMMARY_BUDGET: usize = 4 << 20;

/// What to keep of the per-draw bilateral tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BilateralMode {
    /// No bilateral table.
    None,
    /// The central run (draw 0) only.
    Central,
    /// The central run, and mean, sd, min and max over draws per cell (streaming).
    Summary,
    /// Every draw (large).
    All,
}

impl std::str::FromStr for BilateralMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "none" => Ok(BilateralMode::None),
            "central" => Ok(BilateralMode::Central),
            "summary" => Ok(BilateralMode::Summary),
            "all" => Ok(BilateralMode::All),
            other => Err(format!("`{other}`: write none, central, summary or all")),
        }
    }
}

/// What a batch (or shard) directory holds, for `merge`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Manifest {
    pub batch: String,
    /// The version of tradesim that wrote the directory.
    #[serde(default)]
    pub tradesim_version: String,
    /// The batch file (absolute).
    #[serde(default)]
    pub batch_file: String,
    /// The files the batch was made from, with the SHA-256 of their bytes when it was loaded
    /// (`scenario::inputs`): shards are merged only when these agree.
    #[serde(default)]
    pub inputs: Vec<InputFile>,
    pub shard: usize,
    pub shards: usize,
    pub first_unit: usize,
    pub end_unit: usize,
    pub total_units: usize,
    pub draws: u32,
    pub seed: u64,
    pub scenarios: Vec<String>,
    /// Economy codes per scenario, in baseline order.
    pub economies: Vec<Vec<String>>,
    /// Sector codes per scenario, in baseline order (`merge` orders the cells of
    /// `bilateral_summary.csv` by them).
    #[serde(default)]
    pub sectors: Vec<Vec<String>>,
    /// Per scenario, what its percent changes are against: `base_year` or `reference`
    /// (absent in manifests written before it existed: `base_year`).
    #[serde(default)]
    pub compared_with: Vec<String>,
    pub focus: Vec<String>,
    pub bilateral: String,
}

/// A row of `failures.csv`: a draw of a scenario that did not solve (the batch goes on with
/// the others; `summary.csv` counts it in `failed`).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct FailureRow {
    /// The scenario's name.
    pub scenario: String,
    /// The draw that failed (0: the central run).
    pub draw: u32,
    /// The error, as the command line prints it (what failed, where, how to fix it).
    pub reason: String,
}

/// A row of `bilateral_summary.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub(crate) struct BilateralSummaryRow {
    pub scenario: String,
    pub year: i32,
    pub exporter: String,
    pub importer: String,
    pub sector: String,
    pub draws: u64,
    pub mean_change_pct: f64,
    pub sd_change_pct: f64,
    pub min_change_pct: f64,
    pub max_change_pct: f64,
}

/// A row of `bilateral_draws.csv`, which a shard run with `--bilateral summary` writes: one
/// draw's percent change of one bilateral cell against the draw's solved baseline, the value the
/// batch adds to the cell's moments. `merge` adds the shards' values in the same order, so the
/// merged `bilateral_summary.csv` is the single run's, byte for byte.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub(crate) struct BilateralDrawRow {
    pub scenario: String,
    pub year: i32,
    pub draw: u32,
    pub exporter: String,
    pub importer: String,
    pub sector: String,
    pub change_pct: f64,
}

/// The moments of each bilateral cell's change over draws, by (scenario, year, exporter,
/// importer, sector) indices: the rows of `bilateral_summary.csv` in order.
pub(crate) type CellMoments = BTreeMap<(usize, i32, usize, usize, usize), Moments>;

/// The rows of `bilateral_summary.csv`: each cell of `moments`, named by the scenarios'
/// economy and sector codes (in baseline order).
pub(crate) fn bilateral_summary_rows(
    moments: &CellMoments,
    scenarios: &[String],
    economies: &[Vec<String>],
    sectors: &[Vec<String>],
) -> Vec<BilateralSummaryRow> {
    moments
        .iter()
        .map(|((s, y, i, m, j), mo)| BilateralSummaryRow {
            scenario: scenarios[*s].clone(),
            year: *y,
            exporter: economies[*s][*i].clone(),
            importer: economies[*s][*m].clone(),
            sector: sectors[*s][*j].clone(),
            draws: mo.n,
            mean_change_pct: mo.mean,
            sd_change_pct: mo.sd(),
            min_change_pct: mo.min,
            max_change_pct: mo.max,
        })
        .collect()
}

/// A CSV file of `R` rows being written into the staging directory. A file that got no row
/// still gets its header.
pub(crate) struct Staged<R> {
    name: &'static str,
    dest: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    rows: usize,
    row_type: std::marker::PhantomData<R>,
}

impl<R: Serialize + Default> Staged<R> {
    pub(crate) fn new(out: &OutputDir, name: &'static str) -> Result<Staged<R>> {
        let dest = out.path(name);
        let f = File::create(&dest).map_err(|e| Error::io(&dest, e))?;
        Ok(Staged {
            name,
            dest,
            writer: csv::Writer::from_writer(BufWriter::new(f)),
            rows: 0,
            row_type: std::marker::PhantomData,
        })
    }
    /// Write a row: an `R`, or a row that serialises as one (a borrowed view of it).
    pub(crate) fn write<S: Serialize>(&mut self, r: &S) -> Result<()> {
        self.rows += 1;
        super::finite::check_row(self.name, self.rows, r)?;
        self.writer
            .serialize(r)
            .map_err(|e| Error::invalid(self.dest.display().to_string(), e.to_string()))
    }
    /// Flush the file (writing the header if no row came) and return its name.
    pub(crate) fn finish(mut self) -> Result<String> {
        let fail = |e: String| Error::invalid(self.dest.display().to_string(), e);
        if self.rows == 0 {
            self.writer
                .write_record(csv_header::<R>())
                .map_err(|e| fail(e.to_string()))?;
        }
        let mut inner = self.writer.into_inner().map_err(|e| fail(e.to_string()))?;
        std::io::Write::flush(&mut inner).map_err(|e| Error::io(&self.dest, e))?;
        Ok(self.name.to_string())
    }
}

/// What a finished batch (or a merge of its shards) reports.
#[derive(Debug)]
pub struct BatchReport {
    /// Count of units (scenario × draw) run: this shard's, or the whole batch's for a batch
    /// run whole or merged.
    pub units: usize,
    /// The draws that failed, the rows of `failures.csv`.
    pub failed: Vec<FailureRow>,
    /// The rows of `summary.csv`: percentiles over draws per scenario, year, economy and
    /// measure.
    pub summary: Vec<SummaryRow>,
    /// The names of the files written into the output directory.
    pub files: Vec<String>,
}

/// A shard of a batch run that has to be run again before the shards can be merged, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rerun {
    /// The shard number (1-based).
    pub shard: usize,
    /// The shard's output directory, as given to the merge.
    pub dir: PathBuf,
    /// Why: its directory holds no finished output (the shard failed, was cancelled or is still
    /// running), holds another shard or batch, or was run on other inputs than the rest.
    pub reason: String,
}

/// The JSON file `name` of `dir` as a `T`; when it is absent, an error on `dir` with
/// `missing` (what that means and what to do); when it does not parse, one that it is not `kind`.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    dir: &Path,
    name: &str,
    missing: &str,
    kind: &str,
) -> Result<T> {
    let p = dir.join(name);
    let text = std::fs::read_to_string(&p).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::invalid(dir.display().to_string(), missing)
        } else {
            Error::io(&p, e)
        }
    })?;
    serde_json::from_str(&text)
        .map_err(|e| Error::invalid(p.display().to_string(), format!("not {kind}: {e}")))
}

/// The manifest of a shard directory; an error that says the shard did not finish when the
/// directory or its manifest is absent (a shard's directory appears only when it finishes).
fn read_manifest(dir: &Path) -> Result<Manifest> {
    read_json(
        dir,
        "manifest.json",
        "holds no manifest.json: not the output of a finished batch or shard (a shard's directory appears only when the shard has finished); run the shard again",
        "a tradesim manifest",
    )
}

/// The digests of a run's inputs by file.
fn digests(inputs: &[InputFile]) -> BTreeMap<&str, &str> {
    inputs
        .iter()
        .map(|i| (i.path.as_str(), i.sha256.as_str()))
        .collect()
}

/// The first 12 hexadecimal digits of a digest, enough to tell two apart in a message.
fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// How the run of `shard` differs from a reference run (tradesim's version and the digests of
/// its inputs, described by `of`: "now", "in shard 1"), or `None` when it does not.
fn input_difference(
    shard: &Manifest,
    version: &str,
    reference: &BTreeMap<&str, &str>,
    of: &str,
) -> Option<String> {
    if shard.inputs.is_empty() {
        return Some(
            "its manifest records no input digests (an older tradesim wrote it)".to_string(),
        );
    }
    if shard.tradesim_version != version {
        return Some(format!(
            "tradesim {} wrote it; tradesim {version} {of}",
            shard.tradesim_version
        ));
    }
    let mine = digests(&shard.inputs);
    for (path, h) in &mine {
        match reference.get(path) {
            Some(r) if r == h => {}
            Some(r) => {
                return Some(format!(
                    "input {path} differs: SHA-256 {}… in this shard, {}… {of}",
                    short(h),
                    short(r)
                ))
            }
            None => {
                return Some(format!(
                    "{path} was an input of this shard, but is not one {of}"
                ))
            }
        }
    }
    reference
        .keys()
        .find(|p| !mine.contains_key(*p))
        .map(|p| format!("{p} is an input {of}, but was not one of this shard"))
}

/// Shards whose inputs differ from the others'. When the shards disagree, the reference is
/// the batch's inputs as they are now (the batch file loaded again), so the shards named are
/// those a rerun would change; when the batch no longer loads, it is the lowest shard's.
/// Shards that all agree are merged even when a file has changed since they ran (the merged
/// manifest records the digests they were run with).
fn stale_shards(manifests: &[(PathBuf, Manifest)]) -> Vec<Rerun> {
    let Some((_, first)) = manifests.first() else {
        return Vec::new();
    };
    let agree = manifests.iter().all(|(_, m)| {
        !m.inputs.is_empty()
            && m.tradesim_version == first.tradesim_version
            && digests(&m.inputs) == digests(&first.inputs)
    });
    if agree {
        return Vec::new();
    }
    let now = crate::scenario::batch::load(Path::new(&first.batch_file))
        .ok()
        .map(|b| b.input_digests);
    let (reference, version, of) = match &now {
        Some(inputs) => (
            digests(inputs),
            env!("CARGO_PKG_VERSION").to_string(),
            "now".to_string(),
        ),
        None => match manifests.iter().find(|(_, m)| !m.inputs.is_empty()) {
            Some((_, m)) => (
                digests(&m.inputs),
                m.tradesim_version.clone(),
                format!("in shard {}", m.shard),
            ),
            None => (BTreeMap::new(), String::new(), String::new()),
        },
    };
    manifests
        .iter()
        .filter_map(|(d, m)| {
            input_difference(m, &version, &reference, &of).map(|reason| Rerun {
                shard: m.shard,
                dir: d.clone(),
                reason: format!("it was run on other inputs: {reason}"),
            })
        })
        .collect()
}

/// The shards of a batch run that must be run again before they can be merged: `dirs[k - 1]`
/// is the directory of shard k. A shard must be rerun when its directory holds no finished
/// output (it failed, was cancelled, or is still running), when it holds another shard or
/// batch, or when it was run on other inputs than the rest ([`stale_shards`]).
pub(crate) fn shards_to_rerun(dirs: &[PathBuf]) -> Vec<Rerun> {
    let n = dirs.len();
    let mut rerun = Vec::new();
    let mut done = Vec::new();
    for (i, d) in dirs.iter().enumerate() {
        let k = i + 1;
        let why = match read_manifest(d) {
            Err(_) if !d.join("manifest.json").exists() => {
                "it has not finished: its directory holds no complete output (it failed, was cancelled or timed out, or is still running)".to_string()
            }
            Err(e) => format!("its manifest cannot be read: {e}"),
            Ok(m) if m.shard != k || m.shards != n => format!(
                "its directory holds shard {} of {}, not shard {k} of {n}",
                m.shard, m.shards
            ),
            Ok(m) => {
                done.push((d.clone(), m));
                continue;
            }
        };
        rerun.push(Rerun {
            shard: k,
            dir: d.clone(),
            reason: why,
        });
    }
    rerun.extend(stale_shards(&done));
    rerun.sort_by_key(|r| r.shard);
    rerun
}

/// The shard numbers, compactly: `1-3,5` ([`crate::error::consecutive_runs`]).
pub(crate) fn shard_list(shards: &[usize]) -> String {
    crate::error::consecutive_runs(shards.iter().map(|&k| k as i64)).join(",")
}

/// `arg` as one word of a POSIX shell: as it is when that is safe, else in single quotes.
pub fn shell_quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%^".contains(c));
    if safe {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// A command line for a shell, each argument quoted as needed.
pub fn shell_line(args: &[String]) -> String {
    args.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command that runs shard `shard` of the run `m` describes into `dir`: its batch file,
/// draws and bilateral tables (a batch that recorded failed draws was run with
/// `--keep-going`, which the caller says).
fn shard_command(m: &Manifest, shard: usize, dir: &str) -> String {
    let args = [
        "tradesim".to_string(),
        "batch".into(),
        m.batch_file.clone(),
        "--shard".into(),
        format!("{shard}/{}", m.shards),
        "--draws".into(),
        m.draws.to_string(),
        "--bilateral".into(),
        m.bilateral.clone(),
        "--out".into(),
        dir.to_string(),
    ];
    shell_line(&args)
}

/// How the merge says to make a shard again, given the shard's manifest and directory: a
/// plain merge names the shard's `batch --shard` command ([`rerun_hint`]); the merge of a
/// SLURM job, the command that reruns the shard as a job (`slurm::merge_job`).
pub(crate) type Again<'a> = &'a dyn Fn(&Manifest, &Path) -> String;

/// How to make a shard again: its command, replacing `dir`, then the merge again.
pub(crate) fn rerun_hint(m: &Manifest, dir: &Path) -> String {
    format!(
        "run shard {} of {} again into its directory: {} --force (add --keep-going if you ran the batch with it), then merge again",
        m.shard,
        m.shards,
        shard_command(m, m.shard, &dir.display().to_string())
    )
}

/// How the run of a shard (`m`) differs from that of another (`other`, in `there`), in
/// words, or `None` when they are shards of one run.
fn run_difference(m: &Manifest, other: &Manifest, there: &str) -> Option<String> {
    let names = |v: &[String]| {
        v.iter()
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fields = |x: &Manifest| {
        [
            ("batch", format!("`{}`", x.batch)),
            ("shards", x.shards.to_string()),
            ("scenarios", names(&x.scenarios)),
            ("draws per scenario", x.draws.to_string()),
            ("the batch file's seed", x.seed.to_string()),
            ("bilateral tables", format!("`{}`", x.bilateral)),
            ("scenario × draw units", x.total_units.to_string()),
        ]
    };
    fields(m)
        .into_iter()
        .zip(fields(other))
        .find(|((_, here), (_, theirs))| here != theirs)
        .map(|((what, here), (_, theirs))| format!("{what} {here} here, {theirs} in {there}"))
}

/// Refuse shards of different batches or runs, naming what differs and the two values, and
/// (`again`) how to run a shard of the same batch again as the first shard was.
fn check_one_run(manifests: &[(PathBuf, Manifest)], again: Again) -> Result<()> {
    let (first_dir, first) = &manifests[0];
    for (d, m) in &manifests[1..] {
        let Some(what) = run_difference(m, first, &first_dir.display().to_string()) else {
            continue;
        };
        let fix = if m.batch == first.batch {
            let as_first = Manifest {
                shard: m.shard.min(first.shards),
                ..first.clone()
            };
            format!(
                "the shards of one run are merged only when run with the same batch file, draws, bilateral tables and number of shards; if this shard was run otherwise than {} by mistake: {}",
                first_dir.display(),
                again(&as_first, d)
            )
        } else {
            "merge the shards of each batch separately".to_string()
        };
        return Err(Error::invalid(
            d.display().to_string(),
            format!(
                "this shard is not of the same run as {}: {what}; {fix}",
                first_dir.display()
            ),
        ));
    }
    Ok(())
}

/// Refuse a shard given twice (naming its directories) or missing (naming it and the
/// command that makes it). `manifests` are sorted by shard.
fn check_each_shard_once(manifests: &[(PathBuf, Manifest)]) -> Result<()> {
    let first = &manifests[0].1;
    let mut dirs_of: BTreeMap<usize, Vec<&Path>> = BTreeMap::new();
    for (d, m) in manifests {
        dirs_of.entry(m.shard).or_default().push(d);
    }
    let mut problems = Vec::new();
    for (k, dirs) in &dirs_of {
        if dirs.len() > 1 {
            let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            problems.push(format!(
                "shard {k} of {} is in {} of the directories given ({}: a directory named twice, or a copy of a shard); give each shard's directory once",
                first.shards,
                dirs.len(),
                names.join(", ")
            ));
        }
    }
    let missing: Vec<usize> = (1..=first.shards)
        .filter(|k| !dirs_of.contains_key(k))
        .collect();
    if !missing.is_empty() {
        let commands: Vec<String> = missing
            .iter()
            .map(|&k| format!("\n  {}", shard_command(first, k, &format!("shard-{k}"))))
            .collect();
        problems.push(format!(
            "{} {} of {} {} missing: give the directory of each, or make it with{}",
            if missing.len() == 1 {
                "shard"
            } else {
                "shards"
            },
            shard_list(&missing),
            first.shards,
            if missing.len() == 1 { "is" } else { "are" },
            commands.concat()
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        "merge",
        format!(
            "the {} shards of batch `{}` are needed, once each: {}",
            first.shards,
            first.batch,
            problems.join("; ")
        ),
    ))
}

/// The files of a shard of the run `m` that `merge` reads: the per-draw tables,
/// `bilateral.csv` (unless `none`), with `summary` the shards' `bilateral_draws.csv` (or one
/// shard's `bilateral_summary.csv`), and `report_meta.json`.
fn shard_files(m: &Manifest) -> Vec<&'static str> {
    let mut files = vec![
        "economies.csv",
        "solver.csv",
        "quotas.csv",
        "failures.csv",
        "investment.csv",
    ];
    if m.bilateral != "none" {
        files.push("bilateral.csv");
    }
    if m.bilateral == "summary" {
        files.push(if m.shards > 1 {
            "bilateral_draws.csv"
        } else {
            "bilateral_summary.csv"
        });
    }
    files.push(super::meta::FILE);
    files
}

/// Refuse a shard directory that lacks a file every shard of its run writes.
fn check_shard_files(sh: Shard) -> Result<()> {
    let Shard { dir, m, .. } = sh;
    let missing: Vec<&str> = shard_files(m)
        .into_iter()
        .filter(|f| !dir.join(f).exists())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        dir.display().to_string(),
        format!(
            "shard {} of {} has no {}, which every shard of this run writes (as its {} marker says); the directory is incomplete (copied back in part, or a file deleted), and merging it would leave draws out; {}",
            m.shard,
            m.shards,
            missing.join(", "),
            super::staging::MARKER,
            sh.rerun()
        ),
    ))
}

/// One shard being merged: its directory, its manifest, and how the merge says to run it
/// again ([`Again`]), which every message about it ends with.
#[derive(Clone, Copy)]
struct Shard<'a> {
    dir: &'a Path,
    m: &'a Manifest,
    again: Again<'a>,
}

impl Shard<'_> {
    /// How to make this shard again (the end of every message about it).
    fn rerun(&self) -> String {
        (self.again)(self.m, self.dir)
    }

    /// An error on `file` of the shard (at `row` when known): `what` is missing or wrong
    /// there, and the shard must be run again.
    fn incomplete(&self, file: &str, row: Option<usize>, what: &str) -> Error {
        let message = format!(
            "{what}; the shard's table is incomplete or was edited, so merging it would summarise the wrong draws; {}",
            self.rerun()
        );
        let path = self.dir.join(file);
        match row {
            Some(r) => Error::data(path, r, message),
            None => Error::invalid(path.display().to_string(), message),
        }
    }

    /// The position of scenario `name` in the run, or an error at `row` of `file`.
    fn scenario_index(&self, file: &str, row: usize, name: &str) -> Result<usize> {
        let m = self.m;
        m.scenarios.iter().position(|x| x == name).ok_or_else(|| {
            self.incomplete(
                file,
                Some(row),
                &format!(
                    "scenario `{name}` is not one of this batch ({})",
                    m.scenarios.join(", ")
                ),
            )
        })
    }
}

/// The units of shard `m`'s range: (scenario index, draw), in canonical order.
fn shard_units(m: &Manifest) -> Vec<(usize, u32)> {
    let per = m.draws as usize + 1;
    (m.first_unit..m.end_unit)
        .map(|u| (u / per, (u % per) as u32))
        .collect()
}

/// Units named for a message: `scenario \`A\` draw(s) 1-3, scenario \`B\` draw(s) 0`.
fn unit_list(m: &Manifest, units: &[(usize, u32)]) -> String {
    let mut by: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &(s, d) in units {
        by.entry(s).or_default().push(d as usize);
    }
    by.iter()
        .map(|(s, d)| format!("scenario `{}` draw(s) {}", m.scenarios[*s], shard_list(d)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Scenario × draw units of a shard: (scenario index, draw).
type Units = BTreeSet<(usize, u32)>;

/// The failed draws of the shard in `dir` (`failures.csv`), and their units.
fn read_failures(sh: Shard) -> Result<(Vec<FailureRow>, Units)> {
    let Shard { dir, .. } = sh;
    let path = dir.join("failures.csv");
    let mut rdr = csv::Reader::from_path(&path)
        .map_err(|e| Error::invalid(path.display().to_string(), e.to_string()))?;
    let (mut rows, mut units) = (Vec::new(), BTreeSet::new());
    for (k, r) in rdr.deserialize::<FailureRow>().enumerate() {
        let r = r.map_err(|e| sh.incomplete("failures.csv", Some(k + 2), &e.to_string()))?;
        units.insert((
            sh.scenario_index("failures.csv", k + 2, &r.scenario)?,
            r.draw,
        ));
        rows.push(r);
    }
    Ok((rows, units))
}

/// Check that one unit's economy rows (from data row `row` of `economies.csv`) are a row per
/// economy of its scenario for each year, in order, and the years of the scenario's other
/// units (`years`, set by its first unit).
fn check_unit_rows(
    sh: Shard,
    (s, d): (usize, u32),
    rows: &[EconomyRow],
    row: usize,
    years: &mut Option<Vec<i32>>,
) -> Result<()> {
    let Shard { m, .. } = sh;
    let codes = &m.economies[s];
    let ne = codes.len().max(1);
    let unit = format!("scenario `{}`, draw {d}", m.scenarios[s]);
    for k in 0..rows.len().div_ceil(ne) * ne {
        let year = rows[k - k % ne].year;
        let want = &codes[k % ne];
        match rows.get(k) {
            Some(r) if r.year == year && &r.economy == want => {}
            got => {
                let here = got.map_or("the unit's rows end".to_string(), |r| {
                    format!("here is {} {}", r.economy, r.year)
                });
                return Err(sh.incomplete("economies.csv",
                    Some(row + k),
                    &format!("{unit}, year {year}: no row for economy {want} ({here}); every scenario × draw has a row per economy and year"),
                ));
            }
        }
    }
    let mut mine: Vec<i32> = rows.iter().map(|r| r.year).collect();
    mine.dedup();
    match years {
        None => *years = Some(mine),
        Some(y) if *y == mine => {}
        Some(y) => {
            let list = |v: &[i32]| {
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(sh.incomplete(
                "economies.csv",
                Some(row),
                &format!(
                    "{unit} has the years {}, but the scenario's other draws {}",
                    list(&mine),
                    list(y)
                ),
            ));
        }
    }
    Ok(())
}

/// Read the economy rows of the shard in `dir`, check it holds every unit of its range that
/// did not fail (`failed`) whole, in order, and push each unit to `spill`. `years` holds each
/// scenario's years (from its first unit). Returns the units solved.
fn spill_shard(
    sh: Shard,
    failed: &Units,
    years: &mut [Option<Vec<i32>>],
    spill: &mut DrawSpill,
) -> Result<Units> {
    let Shard { dir, m, .. } = sh;
    let path = dir.join("economies.csv");
    let mut rdr = csv::Reader::from_path(&path)
        .map_err(|e| Error::invalid(path.display().to_string(), e.to_string()))?;
    let range: Units = shard_units(m).into_iter().collect();
    let mut solved = BTreeSet::new();
    let mut unit: Vec<EconomyRow> = Vec::new();
    let mut unit_key: Option<(usize, u32)> = None;
    let mut unit_row = 2;
    let mut finish = |key: (usize, u32), rows: &[EconomyRow], row: usize| -> Result<()> {
        let (s, d) = key;
        let what = format!("scenario `{}`, draw {d}", m.scenarios[s]);
        if !range.contains(&key) {
            return Err(sh.incomplete(
                "economies.csv",
                Some(row),
                &format!(
                    "{what} is not of this shard, which holds {}",
                    unit_list(m, &shard_units(m))
                ),
            ));
        }
        if failed.contains(&key) {
            return Err(sh.incomplete(
                "economies.csv",
                Some(row),
                &format!("{what} has rows, but failures.csv says it failed"),
            ));
        }
        if solved.last().is_some_and(|&last| last >= key) {
            return Err(sh.incomplete("economies.csv", Some(row), &format!("{what} is out of order or appears twice (a unit's rows are together, units in draw order)")));
        }
        check_unit_rows(sh, key, rows, row, &mut years[s])?;
        spill.push(s, d, rows)?;
        solved.insert(key);
        Ok(())
    };
    for (k, r) in rdr.deserialize::<EconomyRow>().enumerate() {
        let row = k + 2;
        let r = r.map_err(|e| sh.incomplete("economies.csv", Some(row), &e.to_string()))?;
        let key = (
            sh.scenario_index("economies.csv", row, &r.scenario)?,
            r.draw,
        );
        if unit_key.is_some_and(|u| u != key) {
            finish(unit_key.expect("checked"), &unit, unit_row)?;
            unit.clear();
        }
        if unit.is_empty() {
            unit_row = row;
        }
        unit_key = Some(key);
        unit.push(r);
    }
    if let Some(key) = unit_key {
        finish(key, &unit, unit_row)?;
    }
    let missing: Vec<(usize, u32)> = range
        .iter()
        .filter(|u| !solved.contains(*u) && !failed.contains(*u))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(sh.incomplete(
            "economies.csv",
            None,
            &format!(
                "shard {} of {} holds {}, but {} has no rows here and is not in failures.csv",
                m.shard,
                m.shards,
                unit_list(m, &shard_units(m)),
                unit_list(m, &missing)
            ),
        ));
    }
    Ok(solved)
}

/// What a unit's rows in a per-draw table are reduced to while reading: the given columns of
/// each row, with consecutive repeats dropped (`Runs`: `solver.csv`'s solves, `bilateral.csv`'s
/// years, a few values a unit), or their count and SHA-256 (`Digest`: `quotas.csv` and
/// `investment.csv`, whose rows a unit may have many of).
#[derive(Clone, Copy, PartialEq)]
enum Reduce {
    Runs,
    Digest,
}

/// A unit's rows reduced ([`Reduce`]), and the data row of its first (where it would be
/// when it has none).
struct UnitRows {
    row: usize,
    /// `Runs`: the columns of each row, repeats dropped; `Digest`: `[count, SHA-256]`.
    values: Vec<Vec<String>>,
}

/// Read the per-draw table `file` of the shard in `dir`, whose rows are grouped by unit
/// (scenario × draw) in canonical order, and call `each` for every unit the shard solved
/// (`solved`), in order, with its rows' `columns` reduced by `reduce` (none when it has no
/// rows). A row of a unit that did not solve in this shard, or out of order, is refused.
fn each_unit_of(
    sh: Shard,
    file: &str,
    solved: &Units,
    (columns, reduce): (&[&str], Reduce),
    each: &mut dyn FnMut((usize, u32), UnitRows) -> Result<()>,
) -> Result<()> {
    let Shard { dir, .. } = sh;
    use sha2::{Digest, Sha256};
    let path = dir.join(file);
    let mut rdr = csv::Reader::from_path(&path)
        .map_err(|e| Error::invalid(path.display().to_string(), e.to_string()))?;
    let header = rdr
        .headers()
        .map_err(|e| sh.incomplete(file, Some(1), &e.to_string()))?
        .clone();
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            sh.incomplete(file, Some(1), &format!("the header has no column `{name}`"))
        })
    };
    let (sc, dc) = (column("scenario")?, column("draw")?);
    let hex = |h: Sha256| -> String { h.finalize().iter().map(|b| format!("{b:02x}")).collect() };
    let picked: Vec<usize> = columns.iter().map(|c| column(c)).collect::<Result<_>>()?;
    // The unit being read: its key, first row, values (or count and hash).
    let mut current: Option<((usize, u32), usize)> = None;
    let (mut values, mut count, mut hash): (Vec<Vec<String>>, usize, Sha256) =
        (Vec::new(), 0, Sha256::new());
    let mut pending = solved.iter().copied().peekable();
    let mut finish = |current: Option<((usize, u32), usize)>,
                      values: Vec<Vec<String>>,
                      digest: (usize, Sha256),
                      next: Option<(usize, u32)>,
                      row: usize|
     -> Result<()> {
        if let Some((key, first)) = current {
            let values = match reduce {
                Reduce::Runs => values,
                Reduce::Digest => vec![vec![digest.0.to_string(), hex(digest.1)]],
            };
            each(key, UnitRows { row: first, values })?;
        }
        // The solved units before `next` have no rows here.
        while let Some(&u) = pending.peek() {
            if next.is_some_and(|k| u >= k) {
                break;
            }
            let empty = match reduce {
                Reduce::Runs => Vec::new(),
                Reduce::Digest => vec![vec!["0".to_string(), hex(Sha256::new())]],
            };
            each(u, UnitRows { row, values: empty })?;
            pending.next();
        }
        if next.is_some() && pending.peek() == next.as_ref() {
            pending.next();
        }
        Ok(())
    };
    let mut row = 1;
    for r in rdr.records() {
        row += 1;
        let r = r.map_err(|e| sh.incomplete(file, Some(row), &e.to_string()))?;
        let name = r.get(sc).unwrap_or("");
        let s = sh.scenario_index(file, row, name)?;
        let d: u32 = r
            .get(dc)
            .and_then(|x| x.parse().ok())
            .ok_or_else(|| sh.incomplete(file, Some(row), "the draw is not a number"))?;
        let key = (s, d);
        let what = format!("scenario `{name}`, draw {d}");
        match current {
            Some((k, _)) if k == key => {}
            Some((k, _)) if k > key => {
                return Err(sh.incomplete(file, Some(row), &format!("{what} is out of order or appears twice (a unit's rows are together, units in draw order)")));
            }
            _ if !solved.contains(&key) => {
                return Err(sh.incomplete(file, Some(row), &format!("{what} has rows here, but none in economies.csv (it failed, or is not of this shard)")));
            }
            _ => {
                let done = (
                    std::mem::take(&mut values),
                    (count, std::mem::take(&mut hash)),
                );
                finish(current, done.0, done.1, Some(key), row)?;
                count = 0;
                current = Some((key, row));
            }
        }
        let v: Vec<String> = picked
            .iter()
            .map(|&c| r.get(c).unwrap_or("").to_string())
            .collect();
        match reduce {
            Reduce::Runs => {
                if values.last() != Some(&v) {
                    values.push(v);
                }
            }
            Reduce::Digest => {
                count += 1;
                for x in &v {
                    hash.update(x.as_bytes());
                    hash.update([0u8]);
                }
            }
        }
    }
    finish(current, values, (count, hash), None, row + 1)
}

/// Per table and scenario, the first unit's rows of `quotas.csv` and `investment.csv`
/// (reduced, [`Reduce::Digest`]), which every other draw of the scenario must have.
type SameRows = BTreeMap<(&'static str, usize), ((usize, u32), Vec<Vec<String>>)>;

/// Check the per-draw tables of the shard in `dir` other than `economies.csv` against the
/// units it solved (`solved`) and each scenario's years (`years`, from `economies.csv`):
/// `solver.csv` holds every solved unit's baseline solve then its year solves (each followed
/// by a reference solve where there is one), `bilateral.csv` the years of every unit it keeps
/// (draw 0, or every draw with `all`) and no other, and `quotas.csv` and `investment.csv` the
/// same rows (years and cells) for every draw of a scenario, which its policy and data alone
/// set (`same` holds each scenario's first unit's). Only the cells of `bilateral.csv`, which
/// depend on flows being zero, are not checked; values are not read.
fn check_unit_tables(
    sh: Shard,
    solved: &Units,
    years: &[Option<Vec<i32>>],
    same: &mut SameRows,
) -> Result<()> {
    let Shard { m, .. } = sh;
    let unit = |(s, d): (usize, u32)| format!("scenario `{}`, draw {d}", m.scenarios[s]);
    let years_of =
        |s: usize| -> Vec<String> { years[s].iter().flatten().map(|y| y.to_string()).collect() };
    let fail = |file: &str, row: usize, what: String| sh.incomplete(file, Some(row), &what);
    let mut tables: Vec<(&'static str, &[&str], Reduce)> = vec![
        ("solver.csv", &["stage", "year"], Reduce::Runs),
        (
            "quotas.csv",
            &[
                "year",
                "agreement",
                "group",
                "importer",
                "exporter",
                "sector",
            ],
            Reduce::Digest,
        ),
        (
            "investment.csv",
            &["year", "source", "host"],
            Reduce::Digest,
        ),
    ];
    if m.bilateral != "none" {
        tables.push(("bilateral.csv", &["year"], Reduce::Runs));
    }
    for (file, columns, reduce) in tables {
        let mut check = |key: (usize, u32), u: UnitRows| -> Result<()> {
            let row = u.row;
            match file {
                "solver.csv" => {
                    let mut stages = u.values.iter();
                    if stages.next().map(|v| v[0].as_str()) != Some(super::STAGE_BASELINE) {
                        return Err(fail(file, row, format!("{} has no baseline solve (its first row); every scenario × draw that solved has one, then a row per year", unit(key))));
                    }
                    let mut got: Vec<String> = Vec::new();
                    for v in stages {
                        let (stage, year) = (v[0].as_str(), &v[1]);
                        match stage {
                            super::STAGE_YEAR => got.push(year.clone()),
                            super::STAGE_REFERENCE if got.last() == Some(year) => {}
                            other => return Err(fail(file, row, format!("{}: a `{other}` solve of {year} out of place (a baseline solve, then each year's, each followed by its reference solve where there is one)", unit(key)))),
                        }
                    }
                    let want = years_of(key.0);
                    if got != want {
                        return Err(fail(
                            file,
                            row,
                            format!(
                                "{} has year solves for {}, but rows in economies.csv for {}",
                                unit(key),
                                list_or_none(&got),
                                list_or_none(&want)
                            ),
                        ));
                    }
                }
                "bilateral.csv" => {
                    let got: Vec<String> = u.values.iter().map(|v| v[0].clone()).collect();
                    let kept = m.bilateral == "all" || key.1 == 0;
                    let want = if kept { years_of(key.0) } else { Vec::new() };
                    if got != want {
                        return Err(fail(file, row, format!("{} has rows for the years {}, but with bilateral tables `{}` it has rows for {}", unit(key), list_or_none(&got), m.bilateral, list_or_none(&want))));
                    }
                }
                _ => match same.get(&(file, key.0)) {
                    None => {
                        same.insert((file, key.0), (key, u.values));
                    }
                    Some((first, theirs)) if *theirs != u.values => {
                        let (mine, n) = (&u.values[0][0], &theirs[0][0]);
                        let other = if mine == n {
                            " with other years or cells"
                        } else {
                            ""
                        };
                        return Err(fail(file, row, format!("{} has {mine} row(s) here, but draw {} of the scenario has {n}{other}; every draw of a scenario has the same rows (its policy and data set them)", unit(key), first.1)));
                    }
                    Some(_) => {}
                },
            }
            Ok(())
        };
        each_unit_of(sh, file, solved, (columns, reduce), &mut check)?;
    }
    Ok(())
}

/// Years for a message: `2016, 2020`, or `none`.
fn list_or_none(years: &[String]) -> String {
    if years.is_empty() {
        "none".to_string()
    } else {
        years.join(", ")
    }
}

/// Add the per-draw bilateral changes of the shard in `dir` (`bilateral_draws.csv`) to
/// `moments`, in its rows' order (the order a single run adds them in), and check every draw
/// ≥ 1 the shard solved (`solved`) is there.
fn add_bilateral_draws(sh: Shard, solved: &Units, moments: &mut CellMoments) -> Result<()> {
    let Shard { dir, m, .. } = sh;
    const FILE: &str = "bilateral_draws.csv";
    let index = |codes: &[String]| -> HashMap<String, usize> {
        codes
            .iter()
            .enumerate()
            .map(|(k, c)| (c.clone(), k))
            .collect()
    };
    let economies: Vec<HashMap<String, usize>> = m.economies.iter().map(|c| index(c)).collect();
    let sectors: Vec<HashMap<String, usize>> = m.sectors.iter().map(|c| index(c)).collect();
    let path = dir.join(FILE);
    let mut rdr = csv::Reader::from_path(&path)
        .map_err(|e| Error::invalid(path.display().to_string(), e.to_string()))?;
    let mut seen: Units = BTreeSet::new();
    for (k, r) in rdr.deserialize::<BilateralDrawRow>().enumerate() {
        let row = k + 2;
        let r = r.map_err(|e| sh.incomplete(FILE, Some(row), &e.to_string()))?;
        let s = sh.scenario_index(FILE, row, &r.scenario)?;
        let code = |map: Option<&HashMap<String, usize>>, code: &str, what: &str| {
            map.and_then(|x| x.get(code)).copied().ok_or_else(|| {
                sh.incomplete(
                    FILE,
                    Some(row),
                    &format!(
                        "{what} `{code}` is not one of scenario `{}`'s baseline",
                        r.scenario
                    ),
                )
            })
        };
        let i = code(economies.get(s), &r.exporter, "exporter")?;
        let n = code(economies.get(s), &r.importer, "importer")?;
        let j = code(sectors.get(s), &r.sector, "sector")?;
        moments
            .entry((s, r.year, i, n, j))
            .or_default()
            .push(r.change_pct);
        seen.insert((s, r.draw));
    }
    let missing: Vec<(usize, u32)> = solved
        .iter()
        .filter(|(_, d)| *d > 0)
        .filter(|u| !seen.contains(*u))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(sh.incomplete(
            FILE,
            None,
            &format!(
                "{} solved (economies.csv) but have no rows here",
                unit_list(m, &missing)
            ),
        ));
    }
    Ok(())
}

/// The table `name` of every shard in order, as one file: the first shard's header, then
/// every shard's rows.
fn concatenate(manifests: &[(PathBuf, Manifest)], name: &str) -> Result<Vec<u8>> {
    let mut body: Vec<u8> = Vec::new();
    let mut header: Option<Vec<u8>> = None;
    for (d, _) in manifests {
        let p = d.join(name);
        let text = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        let nl = text
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |x| x + 1);
        let (h, rest) = text.split_at(nl);
        if header.is_none() || header.as_deref() == Some(b"\n".as_slice()) {
            header = Some(h.to_vec());
        }
        body.extend_from_slice(rest);
    }
    let mut all = header.unwrap_or_default();
    all.extend(body);
    Ok(all)
}

/// Merge shard directories into `out`: the same files a single run of the whole batch writes.
/// Refuses shards of different batches or runs (naming what differs), a shard missing or given
/// twice, shards run on different inputs (naming the shard, the input and the fix), and a
/// shard lacking a table or a unit of its range (naming the shard, the file and the units).
/// `again` says how to make a shard again ([`rerun_hint`] for a plain merge).
pub(crate) fn merge(dirs: &[PathBuf], out: &OutputDir, again: Again) -> Result<BatchReport> {
    if dirs.is_empty() {
        return Err(Error::invalid(
            "merge",
            "name the shard directories to merge",
        ));
    }
    let mut manifests = Vec::new();
    for d in dirs {
        manifests.push((d.clone(), read_manifest(d)?));
    }
    manifests.sort_by_key(|(_, m)| m.shard);
    let first = manifests[0].1.clone();
    check_one_run(&manifests, again)?;
    check_each_shard_once(&manifests)?;
    let stale = stale_shards(&manifests);
    if !stale.is_empty() {
        let mut msg =
            "the shards were not all run on the same inputs, so their draws cannot be combined:"
                .to_string();
        for r in &stale {
            msg.push_str(&format!(
                "\n  shard {}/{} ({}): {}",
                r.shard,
                first.shards,
                r.dir.display(),
                r.reason
            ));
        }
        let list: Vec<usize> = stale.iter().map(|r| r.shard).collect();
        msg.push_str(&format!(
            "\nrun shard(s) {} of {} again on the inputs as they are now (the same command and shard number, replacing the shard's directory), then merge again",
            shard_list(&list),
            first.shards
        ));
        return Err(Error::invalid("merge", msg));
    }
    let shards: Vec<Shard> = manifests
        .iter()
        .map(|(dir, m)| Shard { dir, m, again })
        .collect();
    // Every shard that lacks a table is named at once, so that one rerun makes them all.
    let lacking: Vec<Error> = shards
        .iter()
        .filter_map(|&sh| check_shard_files(sh).err())
        .collect();
    if !lacking.is_empty() {
        return Err(Error::one_or_many(lacking));
    }
    let mut spill = DrawSpill::create(&out.path(".draws.spill"), first.scenarios.len())?;
    let mut failures: Vec<FailureRow> = Vec::new();
    let mut years: Vec<Option<Vec<i32>>> = vec![None; first.scenarios.len()];
    let mut moments = CellMoments::new();
    let mut same = BTreeMap::new();
    let sharded_summary = first.bilateral == "summary" && first.shards > 1;
    for &sh in &shards {
        let (failed_here, failed) = read_failures(sh)?;
        let solved = spill_shard(sh, &failed, &mut years, &mut spill)?;
        check_unit_tables(sh, &solved, &years, &mut same)?;
        if sharded_summary {
            add_bilateral_draws(sh, &solved, &mut moments)?;
        }
        failures.extend(failed_here);
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for name in shard_files(&first) {
        if name.ends_with(".csv") && !name.starts_with("bilateral_") {
            files.push((name.to_string(), concatenate(&manifests, name)?));
        }
    }
    let failed_count: Vec<usize> = first
        .scenarios
        .iter()
        .map(|s| failures.iter().filter(|f| &f.scenario == s).count())
        .collect();
    let mut summary = spill.summarise(
        &first.scenarios,
        &first.economies,
        &failed_count,
        SUMMARY_BUDGET,
    )?;
    super::summary::label_comparisons(&mut summary, &first.scenarios, &first.compared_with);
    files.push(("summary.csv".into(), to_csv(&summary)?));
    let manifest = Manifest {
        shard: 1,
        shards: 1,
        first_unit: 0,
        end_unit: first.total_units,
        ..first.clone()
    };
    files.push((
        "manifest.json".into(),
        serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::invalid("manifest.json", e.to_string()))?,
    ));
    if first.bilateral == "summary" {
        let bytes = if sharded_summary {
            let rows = bilateral_summary_rows(
                &moments,
                &first.scenarios,
                &first.economies,
                &first.sectors,
            );
            super::finite::check_rows("bilateral_summary.csv", &rows)?;
            to_csv(&rows)?
        } else {
            // One shard: the whole batch, whose own summary this is.
            let p = manifests[0].0.join("bilateral_summary.csv");
            std::fs::read(&p).map_err(|e| Error::io(&p, e))?
        };
        files.push(("bilateral_summary.csv".into(), bytes));
    }
    // The scenarios' settings for the report: the same in every shard (made from the same
    // inputs), so the first shard's.
    let meta = manifests[0].0.join(super::meta::FILE);
    let bytes = std::fs::read(&meta).map_err(|e| Error::io(&meta, e))?;
    files.push((super::meta::FILE.to_string(), bytes));
    for (name, bytes) in &files {
        out.write(name, bytes)?;
    }
    Ok(BatchReport {
        units: first.total_units,
        failed: failures,
        summary,
        files: files.into_iter().map(|(n, _)| n).collect(),
    })
}
