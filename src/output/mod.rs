//! The output tables of a run and of a batch, and how they reach the disk.
//!
//! - the rows of every table (`economies.csv`, `bilateral.csv`, `tariffs.csv`, `quotas.csv`,
//!   `solver.csv`, `investment.csv`; batches add [`batch`]'s `failures.csv`,
//!   `bilateral_summary.csv`, `manifest.json` and `summary`'s `summary.csv`; the structural
//!   gravity model's rows are in [`gravity`]), serde `Serialize` and `Deserialize`, so the
//!   report reads back what a run wrote;
//! - CSV and JSON writing (`to_csv`, `to_json`, `write_table_files`), after `finite`'s check
//!   that no number is NaN or infinite;
//! - [`staging::OutputDir`]: whole-or-nothing output directories (claim lock, staging, marker,
//!   `--force` rules);
//! - `report_meta.json` (`meta`), summaries over draws (`summary`), and the merge of batch
//!   shards (`batch::merge`).
//!
//! Invariant: this module solves nothing (it imports neither `simulate` nor `model`) and draws
//! nothing (`report` renders what it writes).

pub mod batch;
pub(crate) mod bilateral;
pub(crate) mod finite;
pub mod gravity;
pub(crate) mod meta;
pub mod staging;
pub(crate) mod summary;

pub use bilateral::{BilateralTable, BilateralView};
pub(crate) use staging::OutputDir;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A row of `economies.csv`: one economy in one year of one draw. Money is in the unit of the
/// baseline's flows (US$ for the built-in world), flows at factory prices (before tariffs);
/// `_base` columns are the comparison (the solved base year, or the reference path's same
/// year: [`EconomyRow::compared_with`]); `_pct` columns are percent changes against it
/// (1.5 = +1.5%). The measures are MODEL.md §1's "Outcomes".
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct EconomyRow {
    /// The scenario's name (its file's `name`).
    pub scenario: String,
    /// Calendar year of the policy path solved.
    pub year: i32,
    /// 0 for the central run, 1, 2, … for a batch's Monte Carlo draws.
    pub draw: u32,
    /// Economy code of the baseline (ISO3 or region code).
    pub economy: String,
    /// Money: foreign sales at factory prices, `Σ_j Σ_{n≠i} M_ni^j` for exporter `i`, in the
    /// comparison.
    pub exports_base: f64,
    /// Money: foreign sales at factory prices in the year.
    pub exports: f64,
    /// Money: foreign purchases at factory prices, `Σ_j Σ_{i≠n} M_ni^j` for importer `n`, in
    /// the comparison.
    pub imports_base: f64,
    /// Money: foreign purchases at factory prices in the year.
    pub imports: f64,
    /// Percent: the exact change in real income, `Î_n / Π_j (P̂_n^j)^{α_n^j}` (MODEL.md §1).
    pub real_income_pct: f64,
    /// Percent: Caliendo & Parro's welfare measure, `tot_pct + vot_pct` (their eq. 19; the
    /// technical term is zero here), the number their paper reports.
    pub welfare_pct: f64,
    /// Percent of income: the terms-of-trade part,
    /// `100/I_n · Σ_{i,j} [M_in^j (ĉ_n^j − 1) − M_ni^j (ĉ_i^j − 1)]` (MODEL.md §1).
    pub tot_pct: f64,
    /// Percent of income: the volume-of-trade part,
    /// `100/I_n · Σ_{i,j} τ_ni^j M_ni^j (M'_ni^j/M_ni^j − ĉ_i^j)` (MODEL.md §1).
    pub vot_pct: f64,
    /// Percent: the real wage, `ŵ_n / Π_j (P̂_n^j)^{α_n^j}`.
    pub real_wage_pct: f64,
    /// Money: tariff revenue `Σ_j Σ_i τ_ni^j M_ni^j` collected by the economy, in the comparison.
    pub tariff_revenue_base: f64,
    /// Money: tariff revenue in the year.
    pub tariff_revenue: f64,
    /// Money (the FDI stocks' unit): inward FDI stock from the sources in the investment
    /// baseline, in the comparison; empty when the scenario has no investment block (and
    /// absent in files of other tools and of the structural gravity model).
    #[serde(default)]
    pub inward_fdi_base: Option<f64>,
    /// Money (the FDI stocks' unit): inward FDI stock in the year (MODEL.md §5); empty as
    /// [`EconomyRow::inward_fdi_base`].
    #[serde(default)]
    pub inward_fdi: Option<f64>,
    /// What the `_base` columns and the percent changes refer to: `base_year` (the solved base
    /// year) or `reference` (the reference path in the same year; `report_meta.json` names it).
    /// Files written before this column existed read as `base_year`.
    #[serde(default = "base_year_label")]
    pub compared_with: String,
}

pub(crate) fn base_year_label() -> String {
    "base_year".into()
}

/// A row of `investment.csv`: the projected bilateral FDI stock of one source in one host
/// (MODEL.md §5, `FDI'_ni(t) = FDI_ni · exp(β_inv · provisions_ni · phase(t)) · (Ŷ_n)^η`).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct InvestmentRow {
    /// The scenario's name.
    pub scenario: String,
    /// Calendar year.
    pub year: i32,
    /// 0 for the central run, 1, 2, … for Monte Carlo draws.
    pub draw: u32,
    /// Economy code of the investing economy.
    pub source: String,
    /// Economy code of the economy invested in.
    pub host: String,
    /// Money (the FDI stocks' unit): the stock of the investment baseline.
    pub fdi_stock_base: f64,
    /// Money (the FDI stocks' unit): the projected stock in the year.
    pub fdi_stock: f64,
    /// Percent change of the stock (1.5 = +1.5%).
    pub change_pct: f64,
    /// Money: affiliate sales, the stock times the baseline's sales ratio, where it gives one
    /// (empty otherwise).
    pub affiliate_sales: Option<f64>,
}

/// A row of `bilateral.csv`: the flow `X_ni^j` from exporter `i` to importer `n` in sector
/// `j`, at factory prices (before tariffs), domestic sales (`i = n`) included. Money is in the
/// unit of the baseline's flows.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct BilateralRow {
    /// The scenario's name.
    pub scenario: String,
    /// Calendar year.
    pub year: i32,
    /// 0 for the central run, 1, 2, … for Monte Carlo draws.
    pub draw: u32,
    /// Economy code of the origin `i`.
    pub exporter: String,
    /// Economy code of the destination `n`.
    pub importer: String,
    /// Sector code of the baseline (`all` in the one-sector model's common tables).
    pub sector: String,
    /// Money: the flow in the comparison (the solved base year, or the reference's same year).
    pub value_base: f64,
    /// Money: the flow in the year.
    pub value: f64,
    /// Percent change of the flow (1.5 = +1.5%).
    pub change_pct: f64,
    /// `base_year` or `reference`: what `value_base` is (see [`EconomyRow::compared_with`]).
    #[serde(default = "base_year_label")]
    pub compared_with: String,
}

/// A row of `tariffs.csv`: applied rates that differ from the comparison's (the base year, or
/// the reference path in the same year).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct TariffRow {
    /// The scenario's name.
    pub scenario: String,
    /// Calendar year.
    pub year: i32,
    /// Economy code of the economy that levies the tariff (`n`).
    pub importer: String,
    /// Economy code of the origin (`i`).
    pub exporter: String,
    /// Sector code of the baseline.
    pub sector: String,
    /// Fraction (0.05 = 5%): the applied rate `τ_ni^j` of the comparison.
    pub rate_base: f64,
    /// Fraction: the applied rate `τ'_ni^j(t)` in the year (MODEL.md §3: the lowest rate
    /// available to the pair, MFN or any agreement both are members of).
    pub rate: f64,
    /// `base_year` or `reference`: what `rate_base` is.
    #[serde(default = "base_year_label")]
    pub compared_with: String,
}

/// A row of `quotas.csv`: one tariff-rate quota in one year, with the regime found inside the
/// equilibrium (MODEL.md §3).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct QuotaRow {
    /// The scenario's name.
    pub scenario: String,
    /// Calendar year.
    pub year: i32,
    /// 0 for the central run, 1, 2, … for Monte Carlo draws.
    pub draw: u32,
    /// The agreement whose schedule sets the quota.
    pub agreement: String,
    /// The product group the quota covers; empty for a quota on a whole cell (sector).
    pub group: String,
    /// Economy code of the importer that opens the quota.
    pub importer: String,
    /// Economy code of the exporter the quota is for.
    pub exporter: String,
    /// Sector code of the baseline.
    pub sector: String,
    /// Money at base-year prices: the quota.
    pub quota: f64,
    /// Money at base-year prices: the group's imports in the solved year.
    pub imports: f64,
    /// Fraction of the quota filled, `imports / quota`, at most 1.
    pub fill_rate: f64,
    /// `in_quota` (imports below the quota at the in-quota rate), `binding` (imports equal the
    /// quota, the marginal rate between the two) or `out_of_quota`.
    pub regime: String,
    /// Fraction (0.05 = 5%): the group's tariff at the margin.
    pub marginal_rate: f64,
}

/// A row of `solver.csv`: convergence diagnostics of every solve. `stage` is `baseline` for
/// the solve of the base-year data (its `year` is the base year), `year` for a year of the
/// scenario and `reference` for the same year of the reference path it is compared with.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct SolverRow {
    /// The scenario's name.
    pub scenario: String,
    /// `baseline` (the solve of the base-year data), `year` (a year of the scenario) or
    /// `reference` (the same year of the reference path it is compared with).
    ///
    /// Files written before the `stage` column said `2014 (baseline)` in `year`; they read as
    /// stage `baseline`, year 2014.
    #[serde(default)]
    pub stage: String,
    /// Calendar year solved (the base year for the `baseline` stage).
    #[serde(deserialize_with = "year_of_old_or_new")]
    pub year: i32,
    /// 0 for the central run, 1, 2, … for Monte Carlo draws.
    pub draw: u32,
    /// Count: outer (wage-loop) iterations of the solve.
    pub iterations: usize,
    /// Unitless: the largest relative factor-market residual at the solution (MODEL.md §1,
    /// converged below the solver's `tolerance`).
    pub residual: f64,
    /// Count: rounds of the tariff-rate-quota regime search (1 when there is no quota).
    pub quota_rounds: usize,
}

/// The stage of a solve in `solver.csv`.
pub(crate) const STAGE_BASELINE: &str = "baseline";
/// The stage of a solve of one year of the scenario.
pub(crate) const STAGE_YEAR: &str = "year";
/// The stage of a solve of one year of the reference path the scenario is compared with
/// (written only when the reference's policy differs from the scenario's in that year).
pub(crate) const STAGE_REFERENCE: &str = "reference";

/// A `year` of `solver.csv`: a number, or the `2014 (baseline)` of files written before the
/// `stage` column.
fn year_of_old_or_new<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<i32, D::Error> {
    let text = String::deserialize(d)?;
    let number = text.trim().trim_end_matches("(baseline)").trim();
    number
        .parse()
        .map_err(|_| serde::de::Error::custom(format!("year `{text}` is not a year")))
}

/// The tables of a run, one field per file it writes (README "Outputs").
#[derive(Debug, Default)]
pub struct Tables {
    /// `economies.csv`: one row per year, draw and economy.
    pub economies: Vec<EconomyRow>,
    /// `bilateral.csv`: one row per year, draw, sector, importer and exporter with a flow.
    pub bilateral: BilateralTable,
    /// `tariffs.csv`: every applied rate that differs from the comparison's.
    pub tariffs: Vec<TariffRow>,
    /// `quotas.csv` (written only when the scenario has quotas).
    pub quotas: Vec<QuotaRow>,
    /// `solver.csv`: the diagnostics of every solve, the baseline's first.
    pub solver: Vec<SolverRow>,
    /// `investment.csv` (written only when the scenario has an investment block).
    pub investment: Vec<InvestmentRow>,
}

pub(crate) fn pct(new: f64, base: f64) -> f64 {
    if base == 0.0 {
        if new == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        (new / base - 1.0) * 100.0
    }
}

/// The CSV header of a row type: the field names serde gives its default value.
pub(crate) fn csv_header<R: Serialize + Default>() -> Vec<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.serialize(R::default());
    let text = w.into_inner().unwrap_or_default();
    let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(first)
        .records()
        .next()
        .and_then(|r| r.ok())
        .map(|r| r.iter().map(String::from).collect())
        .unwrap_or_default()
}

/// Serialise rows to CSV text; with no rows, the header alone.
pub(crate) fn to_csv<R: Serialize + Default>(rows: &[R]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if rows.is_empty() {
        w.write_record(csv_header::<R>())
            .map_err(|e| Error::invalid("CSV output", e.to_string()))?;
    }
    for r in rows {
        w.serialize(r)
            .map_err(|e| Error::invalid("CSV output", e.to_string()))?;
    }
    w.into_inner()
        .map_err(|e| Error::invalid("CSV output", e.to_string()))
}

/// A CSV table made of `blocks` blocks of rows, written to `out` as the blocks are formatted
/// rather than joined in memory first: `block(k, buf)` appends block `k` to `buf`. The blocks are
/// formatted on all cores a few at a time into reused buffers, and each group is written in
/// order while the next is formatted, so the bytes do not depend on the thread count (they are
/// the blocks joined in order) and memory stays a few blocks whatever the table's size.
/// The first failing block's error is returned (the blocks before it may have been written:
/// callers write into a staging directory, which is discarded on error); `on_io` says where a
/// write failed.
pub(crate) fn write_csv_blocks<W: std::io::Write + Send>(
    out: &mut W,
    blocks: usize,
    block: impl Fn(usize, &mut Vec<u8>) -> Result<()> + Sync + Send,
    on_io: impl Fn(std::io::Error) -> Error + Sync,
) -> Result<()> {
    use rayon::prelude::*;
    let group = 2 * rayon::current_num_threads().max(1);
    let format = |first: usize, bufs: &mut Vec<Vec<u8>>| -> Result<()> {
        let last = (first + group).min(blocks);
        bufs.resize_with(last.saturating_sub(first), Vec::new);
        let done: Vec<Result<()>> = bufs
            .par_iter_mut()
            .enumerate()
            .map(|(k, buf)| {
                buf.clear();
                block(first + k, buf)
            })
            .collect();
        done.into_iter().collect()
    };
    let write = |out: &mut W, bufs: &[Vec<u8>]| -> Result<()> {
        bufs.iter()
            .try_for_each(|b| out.write_all(b))
            .map_err(&on_io)
    };
    let (mut ready, mut next) = (Vec::new(), Vec::new());
    format(0, &mut ready)?;
    let mut first = 0;
    while first < blocks {
        first += group;
        let (written, formatted) = if first < blocks {
            rayon::join(|| write(out, &ready), || format(first, &mut next))
        } else {
            (write(out, &ready), Ok(()))
        };
        written?;
        formatted?;
        std::mem::swap(&mut ready, &mut next);
    }
    out.flush().map_err(&on_io)
}

/// Write a set of files into `dir` whole or not at all (see [`write_whole`]), replacing files
/// of the same names (the callers check first which they may replace); `dir` is made if needed.
pub(crate) fn write_all(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let files = files
        .iter()
        .map(|(name, bytes)| WholeFile::bytes(dir.join(name), bytes))
        .collect();
    write_whole(files, true)
}

/// What writes a [`WholeFile`]'s contents.
type WriteContents<'a> = Box<dyn FnOnce(&mut dyn std::io::Write) -> std::io::Result<()> + 'a>;

/// A file for [`write_whole`]: where it goes, and what writes its contents (into a buffered
/// temporary file, so a large table can be streamed rather than held whole in memory).
pub(crate) struct WholeFile<'a> {
    dest: PathBuf,
    write: WriteContents<'a>,
}

impl<'a> WholeFile<'a> {
    /// The file `dest` with these bytes.
    pub(crate) fn bytes(dest: PathBuf, bytes: &'a [u8]) -> Self {
        Self::with(dest, move |out| out.write_all(bytes))
    }

    /// The file `dest`, its contents written by `write`.
    pub(crate) fn with(
        dest: PathBuf,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()> + 'a,
    ) -> Self {
        WholeFile {
            dest,
            write: Box::new(write),
        }
    }
}

/// Write a set of files, in any directories, whole or not at all: each goes to a hidden
/// temporary file beside it (`.NAME.PID.tmp`, its directory made if needed), and only when
/// all are written are they renamed into place, one after the other. A failure while writing
/// (a full disk) or Ctrl-C (the signal handler removes the temporaries, [`staging::abandon_all`])
/// leaves every destination as it was. A symbolic link names the file it points to, which is
/// replaced and the link kept; a destination that is not a regular file (`/dev/null`, a pipe)
/// is refused, never replaced. With `replace` false, a destination that exists when the
/// temporaries are written (one that appeared meanwhile: the callers refuse existing files
/// before the work) is refused and nothing is put in place.
pub(crate) fn write_whole(files: Vec<WholeFile<'_>>, replace: bool) -> Result<()> {
    let mut staged = Vec::new();
    let done = stage_and_rename(files, replace, &mut staged);
    if done.is_err() {
        staging::remove_temporaries(staged.iter().map(|(tmp, _)| tmp));
    }
    done
}

/// [`write_whole`]'s work; the temporaries made are pushed to `staged` with their destinations.
fn stage_and_rename(
    files: Vec<WholeFile<'_>>,
    replace: bool,
    staged: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<()> {
    let pid = std::process::id();
    let mut named = Vec::new();
    for file in files {
        let dest = staging::follow_links(&file.dest)?;
        // Renaming onto a device (`/dev/null`), pipe or socket would replace it with a file.
        if std::fs::metadata(&dest).is_ok_and(|m| !m.is_file()) {
            return Err(Error::invalid(
                file.dest.display().to_string(),
                "is not a regular file (a directory, device, pipe or socket), so it is not replaced; name a file to write",
            ));
        }
        let name = dest.file_name().ok_or_else(|| {
            Error::invalid(file.dest.display().to_string(), "name a file to write")
        })?;
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::io(
                &file.dest,
                std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    format!("{} is not a directory", dir.display()),
                ),
            ),
            _ => Error::io(&file.dest, e),
        })?;
        let tmp = dir.join(format!(".{}.{pid}.tmp", name.to_string_lossy()));
        let mut out = std::io::BufWriter::with_capacity(
            1 << 16,
            staging::create_temporary(&tmp, &file.dest)?,
        );
        staged.push((tmp, dest));
        (file.write)(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| Error::io(&file.dest, e))?;
        named.push(file.dest);
    }
    if !replace {
        if let Some((_, shown)) = staged.iter().zip(&named).find(|((_, d), _)| d.exists()) {
            return Err(Error::invalid(
                shown.display().to_string(),
                "appeared while this command was running, so it was not replaced and nothing was written; move it away or pass `force` to replace it",
            ));
        }
    }
    staging::rename_temporaries(staged)
}

/// Serialise rows to a JSON array of objects (the CSV's rows; non-finite numbers become `null`).
pub(crate) fn to_json<R: Serialize>(rows: &[R]) -> Result<Vec<u8>> {
    serde_json::to_vec(rows).map_err(|e| Error::invalid("JSON output", e.to_string()))
}

/// The files of a run's tables written into the staging directory `dir`: the CSVs, and with
/// `json` the same rows as `.json` beside them; `bilateral.csv` is streamed to its file as its
/// blocks are formatted instead of held whole in memory. Returns the names written.
pub(crate) fn write_table_files(t: &Tables, json: bool, dir: &OutputDir) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for (name, content) in table_contents(t, json)? {
        match content {
            TableFile::Bytes(bytes) => dir.write(&name, &bytes)?,
            TableFile::Bilateral(b) => {
                dir.write_with(&name, |file, path| b.write_csv(file, path))?;
            }
        }
        names.push(name);
    }
    Ok(names)
}

/// What a table file holds: its bytes, or the bilateral table its CSV is written from.
enum TableFile<'a> {
    Bytes(Vec<u8>),
    Bilateral(&'a BilateralTable),
}

/// The files of a run's tables, in order, after the check that every number is finite;
/// `bilateral.csv` is left to be written from its table.
fn table_contents(t: &Tables, json: bool) -> Result<Vec<(String, TableFile<'_>)>> {
    finite::check_rows("economies.csv", &t.economies)?;
    t.bilateral.check_finite()?;
    finite::check_rows("tariffs.csv", &t.tariffs)?;
    finite::check_rows("solver.csv", &t.solver)?;
    finite::check_rows("quotas.csv", &t.quotas)?;
    finite::check_rows("investment.csv", &t.investment)?;
    let bytes = |name: &str, b: Vec<u8>| (name.to_string(), TableFile::Bytes(b));
    let mut files = vec![
        bytes("economies.csv", to_csv(&t.economies)?),
        (
            "bilateral.csv".to_string(),
            TableFile::Bilateral(&t.bilateral),
        ),
        bytes("tariffs.csv", to_csv(&t.tariffs)?),
        bytes("solver.csv", to_csv(&t.solver)?),
    ];
    if !t.quotas.is_empty() {
        files.push(bytes("quotas.csv", to_csv(&t.quotas)?));
    }
    if !t.investment.is_empty() {
        files.push(bytes("investment.csv", to_csv(&t.investment)?));
    }
    if json {
        files.push(bytes("economies.json", to_json(&t.economies)?));
        let bilateral: Vec<BilateralView> = t.bilateral.rows().collect();
        files.push(bytes("bilateral.json", to_json(&bilateral)?));
        files.push(bytes("tariffs.json", to_json(&t.tariffs)?));
        files.push(bytes("solver.json", to_json(&t.solver)?));
        if !t.quotas.is_empty() {
            files.push(bytes("quotas.json", to_json(&t.quotas)?));
        }
        if !t.investment.is_empty() {
            files.push(bytes("investment.json", to_json(&t.investment)?));
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn files_in_two_directories_are_written_both_or_neither() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::write(a.join("fe.csv"), "earlier").unwrap();
        // The second fails while it is written: the first, written already, is not put in
        // place, and neither temporary is left.
        let e = write_whole(
            vec![
                WholeFile::bytes(a.join("fe.csv"), b"new"),
                WholeFile::with(b.join("fitted.csv"), |out| {
                    out.write_all(b"row,fitted\n")?;
                    Err(std::io::Error::other("the disk is full"))
                }),
            ],
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("fitted.csv: the disk is full"), "{e}");
        assert_eq!(std::fs::read(a.join("fe.csv")).unwrap(), b"earlier");
        assert_eq!(names(&a), ["fe.csv"]);
        assert!(names(&b).is_empty());
        // Both written: both in place, the earlier file replaced, the second streamed.
        write_whole(
            vec![
                WholeFile::bytes(a.join("fe.csv"), b"new"),
                WholeFile::with(b.join("fitted.csv"), |out| {
                    (1..=3).try_for_each(|k| writeln!(out, "{k},0.5"))
                }),
            ],
            true,
        )
        .unwrap();
        assert_eq!(std::fs::read(a.join("fe.csv")).unwrap(), b"new");
        assert_eq!(
            std::fs::read(b.join("fitted.csv")).unwrap(),
            b"1,0.5\n2,0.5\n3,0.5\n"
        );
        assert_eq!(
            (names(&a), names(&b)),
            (vec!["fe.csv".into()], vec!["fitted.csv".into()])
        );
    }

    #[test]
    fn a_file_that_appeared_meanwhile_is_replaced_only_when_asked() {
        let d = tempfile::tempdir().unwrap();
        let (fe, fitted) = (d.path().join("fe.csv"), d.path().join("fitted.csv"));
        std::fs::write(&fitted, "mine").unwrap();
        let files = || {
            vec![
                WholeFile::bytes(fe.clone(), b"fe"),
                WholeFile::bytes(fitted.clone(), b"fitted"),
            ]
        };
        let e = write_whole(files(), false).unwrap_err().to_string();
        assert!(
            e.contains("fitted.csv: appeared while this command was running")
                && e.contains("pass `force`"),
            "{e}"
        );
        assert_eq!(names(d.path()), ["fitted.csv"]);
        assert_eq!(std::fs::read(&fitted).unwrap(), b"mine");
        write_whole(files(), true).unwrap();
        assert_eq!(std::fs::read(&fitted).unwrap(), b"fitted");
        assert_eq!(names(d.path()), ["fe.csv", "fitted.csv"]);
    }

    #[test]
    fn a_device_pipe_or_socket_is_never_replaced() {
        let d = tempfile::tempdir().unwrap();
        let socket = d.path().join("fitted.csv");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        for dest in [socket.clone(), d.path().to_path_buf()] {
            let e = write_whole(vec![WholeFile::bytes(dest, b"x")], true)
                .unwrap_err()
                .to_string();
            assert!(e.contains("is not a regular file"), "{e}");
        }
        assert!(!std::fs::metadata(&socket).unwrap().is_file());
        assert_eq!(names(d.path()), ["fitted.csv"]);
    }

    #[test]
    fn a_symbolic_link_keeps_pointing_at_the_file_written() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("runs").join("fitted.csv");
        let link = d.path().join("latest.csv");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_all(d.path(), &[("latest.csv", b"1".to_vec())]).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"1");
        assert_eq!(names(d.path()), ["latest.csv", "runs"]);
        assert_eq!(names(&real.with_file_name("")), ["fitted.csv"]);
    }

    #[test]
    fn streamed_blocks_are_the_joined_blocks_and_stop_at_the_first_failure() {
        let text = |k: usize| format!("block {k}\n").repeat(k % 3 + 1).into_bytes();
        for blocks in [0, 1, 3, 4, 5, 11, 40] {
            let mut joined = b"head\n".to_vec();
            for k in 0..blocks {
                joined.extend_from_slice(&text(k));
            }
            let mut streamed = b"head\n".to_vec();
            write_csv_blocks(
                &mut streamed,
                blocks,
                |k, buf| {
                    buf.extend_from_slice(&text(k));
                    Ok(())
                },
                |e| Error::io(Path::new("t.csv"), e),
            )
            .unwrap();
            assert_eq!(streamed, joined, "{blocks} blocks");
        }
        let mut out = Vec::new();
        let failing = |k: usize, buf: &mut Vec<u8>| match k {
            7 | 9 => Err(Error::invalid("t.csv", format!("block {k} failed"))),
            _ => {
                buf.extend_from_slice(&text(k));
                Ok(())
            }
        };
        let e = write_csv_blocks(&mut out, 11, failing, |e| Error::io(Path::new("t.csv"), e));
        assert!(e.unwrap_err().to_string().contains("block 7 failed"));
    }

    #[test]
    fn an_empty_table_still_has_its_header() {
        assert_eq!(
            csv_header::<InvestmentRow>(),
            [
                "scenario",
                "year",
                "draw",
                "source",
                "host",
                "fdi_stock_base",
                "fdi_stock",
                "change_pct",
                "affiliate_sales"
            ]
        );
        let text = String::from_utf8(to_csv::<SolverRow>(&[]).unwrap()).unwrap();
        assert_eq!(
            text,
            "scenario,stage,year,draw,iterations,residual,quota_rounds\n"
        );
        let e = csv_header::<EconomyRow>();
        assert_eq!(
            (e.first().map(String::as_str), e.len()),
            (Some("scenario"), 18)
        );
    }
}
