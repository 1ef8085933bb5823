//! Summaries across Monte Carlo draws: `summary.csv` (mean, median, 5th and 95th percentiles
//! per scenario, year, economy and measure) and streaming moments for bilateral flows.
//!
//! The summary is computed from the per-draw rows in a fixed order, so a single run and a
//! merge of shards give the same bytes: percentiles are taken after sorting, means are summed
//! in draw order, and values round-trip exactly through CSV.

use super::EconomyRow;
use serde::Serialize;

/// The measures summarised, in output order.
pub const MEASURES: [&str; 7] = [
    "exports_pct",
    "imports_pct",
    "real_income_pct",
    "welfare_pct",
    "real_wage_pct",
    "tariff_revenue_pct",
    "inward_fdi_pct",
];

/// The measures of one economy row, in the order of [`MEASURES`]; NaN where a measure does
/// not apply (inward FDI of an economy without FDI data).
pub fn measures(r: &EconomyRow) -> [f64; 7] {
    [
        pct(r.exports, r.exports_base),
        pct(r.imports, r.imports_base),
        r.real_income_pct,
        r.welfare_pct,
        r.real_wage_pct,
        pct(r.tariff_revenue, r.tariff_revenue_base),
        if r.inward_fdi_base > 0.0 {
            pct(r.inward_fdi, r.inward_fdi_base)
        } else {
            f64::NAN
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

/// A compact per-draw record kept for the summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrawRecord {
    pub scenario: usize,
    pub year: i32,
    pub economy: usize,
    pub draw: u32,
    pub values: [f64; 7],
}

/// A row of `summary.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    pub scenario: String,
    pub year: i32,
    pub economy: String,
    pub measure: String,
    /// The central run (draw 0).
    pub central: f64,
    pub mean: f64,
    pub median: f64,
    pub p05: f64,
    pub p95: f64,
    /// Draws summarised (draws ≥ 1 when there are any, else the central run).
    pub draws: usize,
    /// Draws of this scenario that failed (recorded in failures.csv).
    pub failed: usize,
}

/// Percentile of sorted values, linear interpolation between order statistics (type 7, as
/// numpy's default and R's `quantile`).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Summarise per-draw records. `scenarios` and `economies` name the indices;
/// `failed[s]` counts failed draws of scenario `s`.
pub fn summarise(
    records: &[DrawRecord],
    scenarios: &[String],
    economies: &[Vec<String>],
    failed: &[usize],
) -> Vec<SummaryRow> {
    let mut recs: Vec<&DrawRecord> = records.iter().collect();
    recs.sort_by(|a, b| {
        (a.scenario, a.year, a.economy, a.draw).cmp(&(b.scenario, b.year, b.economy, b.draw))
    });
    let mut out = Vec::new();
    let mut k = 0;
    while k < recs.len() {
        let key = (recs[k].scenario, recs[k].year, recs[k].economy);
        let mut end = k;
        while end < recs.len() && (recs[end].scenario, recs[end].year, recs[end].economy) == key {
            end += 1;
        }
        let group = &recs[k..end];
        let central = group.iter().find(|r| r.draw == 0);
        let draws: Vec<&&DrawRecord> = if group.iter().any(|r| r.draw > 0) {
            group.iter().filter(|r| r.draw > 0).collect()
        } else {
            group.iter().collect()
        };
        for (m, name) in MEASURES.iter().enumerate() {
            if draws.iter().all(|r| r.values[m].is_nan()) {
                continue;
            }
            let mut v: Vec<f64> = draws.iter().map(|r| r.values[m]).collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            v.sort_by(f64::total_cmp);
            out.push(SummaryRow {
                scenario: scenarios[key.0].clone(),
                year: key.1,
                economy: economies[key.0][key.2].clone(),
                measure: name.to_string(),
                central: central.map_or(f64::NAN, |c| c.values[m]),
                mean,
                median: percentile(&v, 0.5),
                p05: percentile(&v, 0.05),
                p95: percentile(&v, 0.95),
                draws: v.len(),
                failed: failed.get(key.0).copied().unwrap_or(0),
            });
        }
        k = end;
    }
    out
}

/// Streaming mean and variance (Welford 1962; Chan et al. 1979 to combine parts).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub mean: f64,
    pub m2: f64,
    pub min: f64,
    pub max: f64,
}

impl Moments {
    pub fn push(&mut self, x: f64) {
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
    pub fn merge(&mut self, o: &Moments) {
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
    pub fn sd(&self) -> f64 {
        if self.n > 1 {
            (self.m2 / (self.n - 1) as f64).sqrt()
        } else {
            0.0
        }
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
}
