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
use crate::simulate::batch::{shard, solve_unit, units, Unit};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

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
            "--shard",
            format!("{k}/{n}: write K/N with 1 ≤ K ≤ N"),
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
                            "scenario `{}`, draw {}: {reason}\n(the batch stopped; run with --keep-going to record failed draws and go on)",
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

/// Merge shard directories into `out`: the same files a single run of the whole batch writes.
pub fn merge(dirs: &[PathBuf], out: &OutputDir) -> Result<BatchReport> {
    if dirs.is_empty() {
        return Err(Error::invalid(
            "merge",
            "name the shard directories to merge",
        ));
    }
    let mut manifests = Vec::new();
    for d in dirs {
        let p = d.join("manifest.json");
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| {
            Error::invalid(
                p.display().to_string(),
                format!("not a tradesim manifest: {e}"),
            )
        })?;
        manifests.push((d.clone(), m));
    }
    manifests.sort_by_key(|(_, m)| m.shard);
    let first = manifests[0].1.clone();
    for (d, m) in &manifests {
        if m.batch != first.batch
            || m.shards != first.shards
            || m.total_units != first.total_units
            || m.scenarios != first.scenarios
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

/// The comparison table for the batch's focus economies: options ranked by mean real income
/// in the last year, with the 5th–95th percentile band.
pub fn comparison_table(summary: &[SummaryRow], scenarios: &[String], focus: &[String]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let Some(last) = summary.iter().map(|r| r.year).max() else {
        return s;
    };
    let focus: Vec<String> = if focus.is_empty() {
        let mut f: Vec<String> = summary.iter().map(|r| r.economy.clone()).collect();
        f.dedup();
        f.truncate(5);
        f
    } else {
        focus.to_vec()
    };
    let _ = writeln!(s, "options ranked by real income in {last} (percent; mean [5th, 95th percentile] over draws):");
    for e in &focus {
        let mut rows: Vec<&SummaryRow> = summary
            .iter()
            .filter(|r| &r.economy == e && r.year == last && r.measure == "real_income_pct")
            .collect();
        rows.sort_by(|a, b| b.mean.total_cmp(&a.mean).then(a.scenario.cmp(&b.scenario)));
        let _ = writeln!(s, "\n  {e}");
        for (rank, r) in rows.iter().enumerate() {
            let _ = writeln!(
                s,
                "    {:>2}. {:<48} {:>8.3} [{:>8.3}, {:>8.3}]{}",
                rank + 1,
                r.scenario,
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
    let _ = scenarios;
    s
}
