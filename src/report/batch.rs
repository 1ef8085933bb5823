//! Batch outputs: solve the units of a batch (or of one shard) in chunks, stream the per-draw
//! tables to disk as the chunks finish (so memory does not grow with the bilateral tables),
//! and write `summary.csv`. `merge` combines shard outputs into the files a single run writes.
//!
//! Files: `economies.csv`, `solver.csv`, `failures.csv`, `quotas.csv` (per draw), `bilateral.csv`
//! (per `--bilateral`), `bilateral_summary.csv` (with `--bilateral summary`), `summary.csv`,
//! `manifest.json`. Everything is written under temporary names and renamed into place at the
//! end, so an interrupted or failed batch leaves no partial table.

use super::output::OutputDir;
use super::summary::{DrawSpill, Moments, SummaryRow};
use super::{
    csv_header, tables, to_csv, BilateralRow, EconomyRow, InvestmentRow, QuotaRow, SolverRow,
};
use crate::error::{Error, Result};
use crate::scenario::batch::Batch;
use crate::scenario::inputs::InputFile;
use crate::simulate::batch::{shard, solve_unit, units, Unit};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Bytes of per-draw values the summary holds at a time (it reads the spill file in chunks).
const SUMMARY_BUDGET: usize = 4 << 20;

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

#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// `(k, n)`: run the k-th of n shards (1-based).
    pub shard: Option<(usize, usize)>,
    /// Record failed draws and go on (otherwise the first failure stops the batch).
    pub keep_going: bool,
    pub bilateral: BilateralMode,
    /// Units solved in parallel between writes.
    pub chunk: usize,
}

/// What a batch (or shard) directory holds, for `merge`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
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
    /// Per scenario, what its percent changes are against: `base_year` or `reference`
    /// (absent in manifests written before it existed: `base_year`).
    #[serde(default)]
    pub compared_with: Vec<String>,
    pub focus: Vec<String>,
    pub bilateral: String,
}

/// A row of `failures.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct FailureRow {
    pub scenario: String,
    pub draw: u32,
    pub reason: String,
}

/// A row of `bilateral_summary.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct BilateralSummaryRow {
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

/// A CSV file of `R` rows being written into the staging directory. A file that got no row
/// still gets its header.
struct Staged<R> {
    name: &'static str,
    dest: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    rows: usize,
    row_type: std::marker::PhantomData<R>,
}

impl<R: Serialize + Default> Staged<R> {
    fn new(out: &OutputDir, name: &'static str) -> Result<Staged<R>> {
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
    fn write(&mut self, r: &R) -> Result<()> {
        self.rows += 1;
        super::finite::check_row(self.name, self.rows, r)?;
        self.writer
            .serialize(r)
            .map_err(|e| Error::invalid(self.dest.display().to_string(), e.to_string()))
    }
    /// Flush the file (writing the header if no row came) and return its name.
    fn finish(mut self) -> Result<String> {
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

/// What a finished batch reports.
#[derive(Debug)]
pub struct BatchReport {
    pub units: usize,
    pub failed: Vec<FailureRow>,
    pub summary: Vec<SummaryRow>,
    pub files: Vec<String>,
}

/// Run a batch (or one shard of it) and write its outputs into `dir`.
pub fn run_batch(
    batch: &Batch,
    opts: &BatchOptions,
    out: &OutputDir,
    on_year: &(dyn Fn() + Sync),
) -> Result<BatchReport> {
    let all = units(batch);
    let (k, n) = opts.shard.unwrap_or((1, 1));
    if k == 0 || n == 0 || k > n {
        return Err(Error::invalid(
            "batch options",
            format!("shard {k}/{n}: the shard (k, n) needs 1 ≤ k ≤ n"),
        ));
    }
    let range = shard(&all, k, n);
    let mine: Vec<Unit> = all[range.clone()].to_vec();
    let scen_names: Vec<String> = batch.scenarios.iter().map(|s| s.name.clone()).collect();
    let econ_codes: Vec<Vec<String>> = batch
        .scenarios
        .iter()
        .map(|s| {
            s.baseline
                .economies
                .iter()
                .map(|e| e.code.clone())
                .collect()
        })
        .collect();

    let mut economies = Staged::<EconomyRow>::new(out, "economies.csv")?;
    let mut solver = Staged::<SolverRow>::new(out, "solver.csv")?;
    let mut quotas = Staged::<QuotaRow>::new(out, "quotas.csv")?;
    let mut investment = Staged::<InvestmentRow>::new(out, "investment.csv")?;
    let mut failures = Staged::<FailureRow>::new(out, "failures.csv")?;
    let mut bilateral: Option<Staged<BilateralRow>> = match opts.bilateral {
        BilateralMode::None => None,
        _ => Some(Staged::new(out, "bilateral.csv")?),
    };
    let mut bil_moments: BTreeMap<(usize, i32, usize, usize, usize), Moments> = BTreeMap::new();
    // Per-draw measures go to a spill file in the staging directory, so the summary's memory
    // does not grow with the number of draws.
    let mut spill = DrawSpill::create(&out.path(".draws.spill"), batch.scenarios.len())?;
    let mut failed_rows: Vec<FailureRow> = Vec::new();

    for chunk in mine.chunks(opts.chunk.max(1)) {
        let results: Vec<_> = chunk
            .par_iter()
            .map(|u| (*u, solve_unit(batch, *u, on_year)))
            .collect();
        for (u, r) in results {
            let s = &batch.scenarios[u.scenario];
            match r {
                Err(reason) => {
                    if !opts.keep_going {
                        return Err(Error::NotConverged(format!(
                            "scenario `{}`, draw {}: {reason}\n(the batch stopped at the first failed draw; the option keep_going records failed draws in failures.csv and goes on)",
                            s.name, u.draw
                        )));
                    }
                    let row = FailureRow {
                        scenario: s.name.clone(),
                        draw: u.draw,
                        reason,
                    };
                    failures.write(&row)?;
                    failed_rows.push(row);
                }
                Ok(run) => {
                    let t = tables(&s.baseline, &run);
                    for r in &t.economies {
                        economies.write(r)?;
                    }
                    spill.push(u.scenario, u.draw, &t.economies)?;
                    for r in &t.solver {
                        solver.write(r)?;
                    }
                    for r in &t.investment {
                        investment.write(r)?;
                    }
                    for r in &t.quotas {
                        quotas.write(r)?;
                    }
                    if let Some(b) = bilateral.as_mut() {
                        let keep = opts.bilateral == BilateralMode::All || u.draw == 0;
                        if keep {
                            for r in &t.bilateral {
                                b.write(r)?;
                            }
                        }
                    }
                    if opts.bilateral == BilateralMode::Summary && u.draw > 0 {
                        let b = &s.baseline;
                        for y in &run.years {
                            for j in 0..b.n_sectors() {
                                for m in 0..b.n_economies() {
                                    for i in 0..b.n_economies() {
                                        let v0 = run.baseline.flows.get(j, m, i);
                                        if v0 > 0.0 {
                                            let c = (y.equilibrium.flows.get(j, m, i) / v0 - 1.0)
                                                * 100.0;
                                            bil_moments
                                                .entry((u.scenario, y.year, i, m, j))
                                                .or_default()
                                                .push(c);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let failed_count: Vec<usize> = (0..batch.scenarios.len())
        .map(|s| {
            failed_rows
                .iter()
                .filter(|f| f.scenario == scen_names[s])
                .count()
        })
        .collect();
    let compared_with: Vec<String> = batch
        .scenarios
        .iter()
        .map(|s| s.compared_with.kind().to_string())
        .collect();
    let mut summary = spill.summarise(&scen_names, &econ_codes, &failed_count, SUMMARY_BUDGET)?;
    super::summary::label_comparisons(&mut summary, &scen_names, &compared_with);
    let manifest = Manifest {
        batch: batch.name.clone(),
        tradesim_version: env!("CARGO_PKG_VERSION").to_string(),
        batch_file: batch
            .input_digests
            .first()
            .map_or_else(|| batch.path.display().to_string(), |f| f.path.clone()),
        inputs: batch.input_digests.clone(),
        shard: k,
        shards: n,
        first_unit: range.start,
        end_unit: range.end,
        total_units: all.len(),
        draws: batch.draws,
        seed: batch.seed,
        scenarios: scen_names.clone(),
        economies: econ_codes.clone(),
        compared_with,
        focus: batch.focus.clone(),
        bilateral: format!("{:?}", opts.bilateral).to_lowercase(),
    };
    super::finite::check_rows("summary.csv", &summary)?;
    let mut extra: Vec<(&str, Vec<u8>)> = vec![
        ("summary.csv", to_csv(&summary)?),
        (
            "manifest.json",
            serde_json::to_vec_pretty(&manifest)
                .map_err(|e| Error::invalid("manifest.json", e.to_string()))?,
        ),
    ];
    if opts.bilateral == BilateralMode::Summary {
        let rows: Vec<BilateralSummaryRow> = bil_moments
            .iter()
            .map(|((s, y, i, m, j), mo)| {
                let b = &batch.scenarios[*s].baseline;
                BilateralSummaryRow {
                    scenario: scen_names[*s].clone(),
                    year: *y,
                    exporter: b.economies[*i].code.clone(),
                    importer: b.economies[*m].code.clone(),
                    sector: b.sectors[*j].code.clone(),
                    draws: mo.n,
                    mean_change_pct: mo.mean,
                    sd_change_pct: mo.sd(),
                    min_change_pct: mo.min,
                    max_change_pct: mo.max,
                }
            })
            .collect();
        super::finite::check_rows("bilateral_summary.csv", &rows)?;
        extra.push(("bilateral_summary.csv", to_csv(&rows)?));
    }
    let mut files = vec![
        economies.finish()?,
        solver.finish()?,
        quotas.finish()?,
        failures.finish()?,
        investment.finish()?,
    ];
    if let Some(b) = bilateral {
        files.push(b.finish()?);
    }
    files.extend(extra.iter().map(|(n, _)| n.to_string()));
    for (name, bytes) in &extra {
        out.write(name, bytes)?;
    }
    Ok(BatchReport {
        units: mine.len(),
        failed: failed_rows,
        summary,
        files,
    })
}

/// A shard of a batch run that has to be run again before the shards can be merged, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rerun {
    /// The shard number (1-based).
    pub shard: usize,
    pub dir: PathBuf,
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
pub fn shards_to_rerun(dirs: &[PathBuf]) -> Vec<Rerun> {
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

/// The shard numbers, compactly: `1-3,5`.
pub fn shard_list(shards: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < shards.len() {
        let mut j = i;
        while j + 1 < shards.len() && shards[j + 1] == shards[j] + 1 {
            j += 1;
        }
        parts.push(if j > i {
            format!("{}-{}", shards[i], shards[j])
        } else {
            shards[i].to_string()
        });
        i = j + 1;
    }
    parts.join(",")
}

/// Merge shard directories into `out`: the same files a single run of the whole batch writes.
/// Refuses shards of different batches or runs, a shard missing or given twice, and shards
/// run on different inputs (naming the shard, the input and the fix).
pub fn merge(dirs: &[PathBuf], out: &OutputDir) -> Result<BatchReport> {
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
    for (d, m) in &manifests {
        if m.batch != first.batch
            || m.shards != first.shards
            || m.total_units != first.total_units
            || m.scenarios != first.scenarios
            || m.draws != first.draws
            || m.seed != first.seed
            || m.bilateral != first.bilateral
        {
            return Err(Error::invalid(d.display().to_string(), format!("this shard belongs to another batch or run (batch `{}`, {} shards) than {} (batch `{}`, {} shards)", m.batch, m.shards, manifests[0].0.display(), first.batch, first.shards)));
        }
    }
    let have: Vec<usize> = manifests.iter().map(|(_, m)| m.shard).collect();
    let want: Vec<usize> = (1..=first.shards).collect();
    if have != want {
        return Err(Error::invalid(
            "merge",
            format!(
                "shards {have:?} given; all of 1..={} are needed, once each",
                first.shards
            ),
        ));
    }
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
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut spill = DrawSpill::create(&out.path(".draws.spill"), first.scenarios.len())?;
    let mut failures: Vec<FailureRow> = Vec::new();
    for name in [
        "economies.csv",
        "solver.csv",
        "quotas.csv",
        "failures.csv",
        "investment.csv",
        "bilateral.csv",
    ] {
        let mut body: Vec<u8> = Vec::new();
        let mut header: Option<Vec<u8>> = None;
        let mut present = false;
        for (d, _) in &manifests {
            let p = d.join(name);
            if !p.exists() {
                continue;
            }
            present = true;
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
        if !present {
            continue;
        }
        let mut all = header.unwrap_or_default();
        all.extend(body);
        if name == "economies.csv" {
            let mut rdr = csv::Reader::from_reader(all.as_slice());
            // Rows of one scenario × draw unit are consecutive; each unit goes to the spill.
            let mut unit: Vec<EconomyRow> = Vec::new();
            let mut unit_key: Option<(usize, u32)> = None;
            for (row, r) in rdr.deserialize::<EconomyRow>().enumerate() {
                let r = r.map_err(|e| {
                    Error::data(
                        out.dest().join(name),
                        row + 2,
                        format!("merged economies.csv: {e}"),
                    )
                })?;
                let s = first
                    .scenarios
                    .iter()
                    .position(|x| x == &r.scenario)
                    .ok_or_else(|| {
                        Error::data(
                            out.dest().join(name),
                            row + 2,
                            format!("scenario `{}` is not in the manifest", r.scenario),
                        )
                    })?;
                if unit_key.is_some_and(|k| k != (s, r.draw)) {
                    let (ks, kd) = unit_key.expect("checked");
                    spill.push(ks, kd, &unit)?;
                    unit.clear();
                }
                unit_key = Some((s, r.draw));
                unit.push(r);
            }
            if let Some((ks, kd)) = unit_key {
                spill.push(ks, kd, &unit)?;
            }
        }
        if name == "failures.csv" {
            let mut rdr = csv::Reader::from_reader(all.as_slice());
            for r in rdr.deserialize::<FailureRow>() {
                failures.push(r.map_err(|e| Error::invalid("failures.csv", e.to_string()))?);
            }
        }
        files.push((name.to_string(), all));
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
    // The scenarios' settings for the report: the same in every shard (made from the same
    // inputs), so the first shard's.
    let meta = manifests[0].0.join(super::meta::FILE);
    if meta.exists() {
        let bytes = std::fs::read(&meta).map_err(|e| Error::io(&meta, e))?;
        files.push((super::meta::FILE.to_string(), bytes));
    }
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

/// The comparison table for the batch's focus economies: options ranked by mean real income,
/// with the 5th–95th percentile band, at one stated year: the last year every option solves.
/// When the options share no year, each is ranked at its own last year, labelled. Options
/// solved beyond the ranking year, and options with no summary rows (every draw failed), are
/// named below the table.
pub fn comparison_table(summary: &[SummaryRow], scenarios: &[String], focus: &[String]) -> String {
    use std::collections::BTreeSet;
    use std::fmt::Write;
    let mut s = String::new();
    let measure = "real_income_pct";
    let mut years: BTreeMap<&str, BTreeSet<i32>> = BTreeMap::new();
    for r in summary.iter().filter(|r| r.measure == measure) {
        years.entry(r.scenario.as_str()).or_default().insert(r.year);
    }
    if years.is_empty() {
        return s;
    }
    let common: Option<i32> = years
        .values()
        .cloned()
        .reduce(|a, b| a.intersection(&b).copied().collect())
        .and_then(|c| c.last().copied());
    let rank_year = |scenario: &str| -> Option<i32> {
        common.or_else(|| years.get(scenario).and_then(|y| y.last().copied()))
    };
    let focus: Vec<String> = if focus.is_empty() {
        let mut f: Vec<String> = summary.iter().map(|r| r.economy.clone()).collect();
        f.dedup();
        f.truncate(5);
        f
    } else {
        focus.to_vec()
    };
    match common {
        Some(y) => {
            let _ = writeln!(s, "options ranked by real income in {y}, the last year every option solves (percent; mean [5th, 95th percentile] over draws):");
        }
        None => {
            let _ = writeln!(s, "options ranked by real income, each in its own last year (the options share no year; percent; mean [5th, 95th percentile] over draws):");
        }
    }
    for e in &focus {
        let mut rows: Vec<&SummaryRow> = summary
            .iter()
            .filter(|r| {
                &r.economy == e && r.measure == measure && Some(r.year) == rank_year(&r.scenario)
            })
            .collect();
        rows.sort_by(|a, b| b.mean.total_cmp(&a.mean).then(a.scenario.cmp(&b.scenario)));
        let _ = writeln!(s, "\n  {e}");
        for (rank, r) in rows.iter().enumerate() {
            let label = match common {
                Some(_) => r.scenario.clone(),
                None => format!("{} ({})", r.scenario, r.year),
            };
            let _ = writeln!(
                s,
                "    {:>2}. {:<48} {:>8.3} [{:>8.3}, {:>8.3}]{}",
                rank + 1,
                label,
                r.mean,
                r.p05,
                r.p95,
                if r.failed > 0 {
                    format!("  ({} failed draws)", r.failed)
                } else {
                    String::new()
                }
            );
        }
    }
    if let Some(y) = common {
        let later: Vec<String> = years
            .iter()
            .filter_map(|(name, ys)| {
                let last = *ys.last()?;
                (last > y).then(|| format!("{name} (to {last})"))
            })
            .collect();
        if !later.is_empty() {
            let _ = writeln!(
                s,
                "\nsolved beyond {y}, not ranked there: {}; every year is in summary.csv",
                later.join(", ")
            );
        }
    }
    let missing: Vec<&str> = scenarios
        .iter()
        .map(String::as_str)
        .filter(|n| !years.contains_key(n))
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            s,
            "\nleft out (no results: every draw failed, see failures.csv): {}",
            missing.join(", ")
        );
    }
    s
}
