//! Summaries across Monte Carlo draws: `summary.csv` (mean, median, 5th and 95th percentiles
//! per scenario, year, economy and measure) and streaming moments for bilateral flows.
//!
//! The summary is computed from the per-draw rows in a fixed order, so a single run and a
//! merge of shards give the same bytes: percentiles are taken after sorting, means are summed
//! in draw order, and values round-trip exactly through CSV. The per-draw values wait in a
//! spill file ([`DrawSpill`]), so memory does not grow with the number of draws.

use super::EconomyRow;
use serde::{Deserialize, Serialize};

/// The measures summarised, in output order.
pub(crate) const MEASURES: [&str; 7] = [
    "exports_pct",
    "imports_pct",
    "real_income_pct",
    "welfare_pct",
    "real_wage_pct",
    "tariff_revenue_pct",
    INWARD_FDI_PCT,
];

/// The summary measure of an economy's inward FDI stock (the report draws its bands).
pub(crate) const INWARD_FDI_PCT: &str = "inward_fdi_pct";

/// The measures of one economy row, in the order of [`MEASURES`]; NaN where a measure does
/// not apply (inward FDI of an economy without FDI data).
pub(crate) fn measures(r: &EconomyRow) -> [f64; 7] {
    [
        pct(r.exports, r.exports_base),
        pct(r.imports, r.imports_base),
        r.real_income_pct,
        r.welfare_pct,
        r.real_wage_pct,
        pct(r.tariff_revenue, r.tariff_revenue_base),
        match (r.inward_fdi_base, r.inward_fdi) {
            (Some(base), Some(now)) if base > 0.0 => pct(now, base),
            _ => f64::NAN,
        },
    ]
}

fn pct(new: f64, base: f64) -> f64 {
    if base == 0.0 {
        0.0
    } else {
        (new / base - 1.0) * 100.0
    }
}

/// A row of `summary.csv`: written by batches and `merge`, read back by the HTML report.
/// Columns added after the first files were written (`central`, `draws`, `failed`,
/// `compared_with`) read as empty, zero or `base_year` when absent.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct SummaryRow {
    /// The scenario's name.
    pub scenario: String,
    /// Calendar year.
    pub year: i32,
    /// Economy code of the baseline.
    pub economy: String,
    /// Which percent change of `economies.csv` is summarised: `real_income_pct`,
    /// `welfare_pct`, `real_wage_pct` as they are; `exports_pct`, `imports_pct` and
    /// `tariff_revenue_pct` are the percent changes of those columns, `inward_fdi_pct` of
    /// inward FDI.
    pub measure: String,
    /// Percent change in the central run (draw 0); empty when it failed (recorded in
    /// failures.csv).
    #[serde(default)]
    pub central: Option<f64>,
    /// Percent change: the mean over draws.
    pub mean: f64,
    /// Percent change: the median over draws.
    pub median: f64,
    /// Percent change: the 5th percentile over draws.
    pub p05: f64,
    /// Percent change: the 95th percentile over draws.
    pub p95: f64,
    /// Draws summarised (draws ≥ 1 when there are any, else the central run).
    #[serde(default)]
    pub draws: usize,
    /// Draws of this scenario that failed (recorded in failures.csv).
    #[serde(default)]
    pub failed: usize,
    /// What the measures are percent changes against: `base_year` or `reference` (the
    /// reference path in the same year, solved with the same draw's parameters).
    #[serde(default = "super::base_year_label")]
    pub compared_with: String,
}

/// Fill the `compared_with` column of summary rows from the scenarios' kinds (`labels[k]` for
/// `scenarios[k]`; `base_year` when unknown).
pub(crate) fn label_comparisons(rows: &mut [SummaryRow], scenarios: &[String], labels: &[String]) {
    for r in rows {
        r.compared_with = scenarios
            .iter()
            .position(|s| s == &r.scenario)
            .and_then(|k| labels.get(k).cloned())
            .unwrap_or_else(|| "base_year".into());
    }
}

/// Percentile of sorted values, linear interpolation between order statistics (type 7, as
/// numpy's default and R's `quantile`).
pub(crate) fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Streaming mean and variance (Welford 1962; Chan et al. 1979 to combine parts).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Moments {
    pub n: u64,
    pub mean: f64,
    pub m2: f64,
    pub min: f64,
    pub max: f64,
}

impl Moments {
    pub(crate) fn push(&mut self, x: f64) {
        if self.n == 0 {
            self.min = x;
            self.max = x;
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }
    #[cfg(test)]
    pub(crate) fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * (self.n as f64) * (o.n as f64) / n as f64;
        self.n = n;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }
    pub(crate) fn sd(&self) -> f64 {
        if self.n > 1 {
            (self.m2 / (self.n - 1) as f64).sqrt()
        } else {
            0.0
        }
    }
}

/// Per-draw measures spilled to a file, so that a batch's summary needs memory bounded by a
/// budget rather than growing with the number of draws.
///
/// Each scenario × draw unit appends one block: its economy rows' [`measures`] in row order
/// (year-major, economy-minor, as [`crate::simulate::tables`] writes them). Units of a scenario are
/// contiguous and in draw order, as in a batch's canonical order and in merged shards.
/// [`DrawSpill::summarise`] then reads the blocks back, a chunk of groups at a time, and
/// computes exactly what [`summarise`] computes from records held in memory.
pub(crate) struct DrawSpill {
    path: std::path::PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    /// (scenario, draw, years of the unit) per unit, in order.
    units: Vec<(usize, u32)>,
    /// Years of each scenario's rows (from its first unit), and rows per block.
    years: Vec<Option<Vec<i32>>>,
}

impl DrawSpill {
    /// A spill file at `path` (removed when the spill is dropped) for `scenarios` scenarios.
    pub(crate) fn create(
        path: &std::path::Path,
        scenarios: usize,
    ) -> crate::error::Result<DrawSpill> {
        let f = std::fs::File::create(path).map_err(|e| crate::error::Error::io(path, e))?;
        Ok(DrawSpill {
            path: path.to_path_buf(),
            file: std::io::BufWriter::new(f),
            units: Vec::new(),
            years: vec![None; scenarios],
        })
    }

    /// Append the economy rows of one unit (every year and economy of the scenario, in order).
    pub(crate) fn push(
        &mut self,
        scenario: usize,
        draw: u32,
        rows: &[EconomyRow],
    ) -> crate::error::Result<()> {
        use std::io::Write;
        let mut years: Vec<i32> = rows.iter().map(|r| r.year).collect();
        years.dedup();
        match &self.years[scenario] {
            None => self.years[scenario] = Some(years),
            Some(y) if *y == years => {}
            Some(_) => {
                return Err(crate::error::Error::invalid(
                    self.path.display().to_string(),
                    "the draws of one scenario solved different years; the summary needs the same years in every draw",
                ))
            }
        }
        for r in rows {
            for v in measures(r) {
                self.file
                    .write_all(&v.to_le_bytes())
                    .map_err(|e| crate::error::Error::io(&self.path, e))?;
            }
        }
        self.units.push((scenario, draw));
        Ok(())
    }

    /// Summarise, holding at most about `budget` bytes of values at a time.
    pub(crate) fn summarise(
        mut self,
        scenarios: &[String],
        economies: &[Vec<String>],
        failed: &[usize],
        budget: usize,
    ) -> crate::error::Result<Vec<SummaryRow>> {
        use std::io::{Read, Seek, SeekFrom, Write};
        let io = |e| crate::error::Error::io(&self.path, e);
        self.file.flush().map_err(io)?;
        let mut f = std::fs::File::open(&self.path).map_err(io)?;
        let nm = MEASURES.len();
        let mut out = Vec::new();
        let mut offset = 0u64;
        let mut u = 0;
        while u < self.units.len() {
            let s = self.units[u].0;
            let end = u + self.units[u..].iter().take_while(|x| x.0 == s).count();
            let units = &self.units[u..end];
            let years = self.years[s].clone().unwrap_or_default();
            let ne = economies[s].len();
            let block = years.len() * ne * nm;
            let any_draw = units.iter().any(|x| x.1 > 0);
            let chunk = (budget / 8 / units.len().max(1)).max(nm).min(block.max(1));
            let mut p0 = 0;
            while p0 < block {
                let p1 = (p0 + chunk).min(block);
                let mut vals: Vec<Vec<f64>> = vec![Vec::with_capacity(units.len()); p1 - p0];
                let mut central: Vec<f64> = vec![f64::NAN; p1 - p0];
                let mut buf = vec![0u8; (p1 - p0) * 8];
                for (k, &(_, draw)) in units.iter().enumerate() {
                    f.seek(SeekFrom::Start(offset + ((k * block + p0) * 8) as u64))
                        .map_err(io)?;
                    f.read_exact(&mut buf).map_err(io)?;
                    for (q, c) in buf.chunks_exact(8).enumerate() {
                        let v = f64::from_le_bytes(c.try_into().expect("8 bytes"));
                        if draw == 0 {
                            central[q] = v;
                        }
                        if draw > 0 || !any_draw {
                            vals[q].push(v);
                        }
                    }
                }
                for (q, v) in vals.iter_mut().enumerate() {
                    let p = p0 + q;
                    let (m, e, y) = (p % nm, (p / nm) % ne, p / (nm * ne));
                    if v.iter().all(|x| x.is_nan()) {
                        continue;
                    }
                    let mean = v.iter().sum::<f64>() / v.len() as f64;
                    v.sort_by(f64::total_cmp);
                    out.push(SummaryRow {
                        scenario: scenarios[s].clone(),
                        year: years[y],
                        economy: economies[s][e].clone(),
                        measure: MEASURES[m].to_string(),
                        central: Some(central[q]).filter(|c| !c.is_nan()),
                        mean,
                        median: percentile(v, 0.5),
                        p05: percentile(v, 0.05),
                        p95: percentile(v, 0.95),
                        draws: v.len(),
                        failed: failed.get(s).copied().unwrap_or(0),
                        compared_with: String::new(),
                    });
                }
                p0 = p1;
            }
            offset += (units.len() * block * 8) as u64;
            u = end;
        }
        Ok(out)
    }
}

impl Drop for DrawSpill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_numpy_type_7() {
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert!((percentile(&v, 0.05) - 1.2).abs() < 1e-12);
        assert!((percentile(&v, 0.95) - 8.8).abs() < 1e-12);
    }

    #[test]
    fn moments_merge_equals_one_pass() {
        let xs: Vec<f64> = (0..50)
            .map(|k| ((k * 37 % 11) as f64).sin() * 3.0 + k as f64 * 0.1)
            .collect();
        let mut all = Moments::default();
        xs.iter().for_each(|&x| all.push(x));
        let (mut a, mut b) = (Moments::default(), Moments::default());
        xs[..17].iter().for_each(|&x| a.push(x));
        xs[17..].iter().for_each(|&x| b.push(x));
        a.merge(&b);
        assert_eq!(a.n, all.n);
        assert!((a.mean - all.mean).abs() < 1e-12 && (a.sd() - all.sd()).abs() < 1e-12);
        assert_eq!((a.min, a.max), (all.min, all.max));
    }

    fn row(year: i32, economy: &str, draw: u32, x: f64) -> EconomyRow {
        EconomyRow {
            scenario: "S".into(),
            year,
            draw,
            economy: economy.into(),
            exports_base: 100.0,
            exports: 100.0 + x,
            imports_base: 100.0,
            imports: 100.0 - x,
            real_income_pct: x,
            welfare_pct: 2.0 * x,
            tot_pct: 0.0,
            vot_pct: x,
            real_wage_pct: -x,
            tariff_revenue_base: 10.0,
            tariff_revenue: 10.0 + x,
            inward_fdi_base: Some(if economy == "AAA" { 5.0 } else { 0.0 }),
            inward_fdi: Some(5.0 + x),
            compared_with: "base_year".into(),
        }
    }

    fn spill_summary(budget: usize) -> Vec<SummaryRow> {
        let d = tempfile::tempdir().unwrap();
        let mut sp = DrawSpill::create(&d.path().join("s.bin"), 1).unwrap();
        for draw in 0..=40u32 {
            let rows: Vec<EconomyRow> = [2020, 2030]
                .iter()
                .flat_map(|&y| {
                    ["AAA", "BBB"]
                        .map(|e| row(y, e, draw, ((draw * 7919 + y as u32) % 97) as f64 / 10.0))
                })
                .collect();
            sp.push(0, draw, &rows).unwrap();
        }
        sp.summarise(
            &["S".into()],
            &[vec!["AAA".into(), "BBB".into()]],
            &[0],
            budget,
        )
        .unwrap()
    }

    #[test]
    fn the_spill_gives_the_same_summary_in_any_chunking() {
        let whole = spill_summary(1 << 20);
        // 2 years x 2 economies x 7 measures, less BBB's inward FDI (no base): 26 rows.
        assert_eq!(whole.len(), 26);
        let r = whole
            .iter()
            .find(|r| r.year == 2030 && r.economy == "BBB" && r.measure == "real_income_pct")
            .unwrap();
        assert_eq!(r.draws, 40);
        let mut v: Vec<f64> = (1..=40u32)
            .map(|d| ((d * 7919 + 2030) % 97) as f64 / 10.0)
            .collect();
        let mean = v.iter().sum::<f64>() / 40.0;
        v.sort_by(f64::total_cmp);
        assert_eq!(
            (r.mean, r.median, r.central),
            (mean, percentile(&v, 0.5), Some((2030 % 97) as f64 / 10.0))
        );
        for budget in [8, 64, 1000] {
            let part = spill_summary(budget);
            assert_eq!(part.len(), whole.len());
            for (a, b) in part.iter().zip(&whole) {
                assert_eq!(
                    (
                        a.year,
                        &a.economy,
                        &a.measure,
                        a.mean.to_bits(),
                        a.p05.to_bits(),
                        a.p95.to_bits()
                    ),
                    (
                        b.year,
                        &b.economy,
                        &b.measure,
                        b.mean.to_bits(),
                        b.p05.to_bits(),
                        b.p95.to_bits()
                    )
                );
            }
        }
    }
}
