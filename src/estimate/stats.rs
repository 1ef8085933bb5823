//! Fit statistics of a Poisson fit as fixest and pyfixest report them: the log-likelihood
//! `ℓ = Σ_i [y_i ln μ_i − μ_i − ln Γ(y_i + 1)]` over the observations used, the null
//! log-likelihood of the constant-only model (`μ = ȳ`), McFadden's pseudo-R²
//! `1 − ℓ/ℓ_0` (fixest's `r2(fit, "pr2")`), and normal p-values of the z statistics with
//! fixest's significance codes.

use super::{Dataset, Formula, PpmlFit};
use crate::error::Result;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Log-likelihoods and the pseudo-R² of a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitStats {
    /// The Poisson log-likelihood `ℓ = Σ_i [y_i ln μ_i − μ_i − ln Γ(y_i + 1)]` over the
    /// observations used (fixest's `logLik`).
    pub loglik: f64,
    /// The log-likelihood `ℓ_0` of the constant-only model, `μ = ȳ` over the same observations.
    pub null_loglik: f64,
    /// McFadden: `1 − loglik / null_loglik`.
    pub pseudo_r2: f64,
}

#[cfg(test)]
fn poisson_ll(y: f64, mu: f64) -> f64 {
    poisson_ll_with(y, mu, mu.ln(), libm::lgamma(y + 1.0))
}

/// `y ln μ − μ − ln Γ(y + 1)` with `ln μ` and `ln Γ(y + 1)` given (`ln μ` is not used when
/// `y = 0`).
fn poisson_ll_with(y: f64, mu: f64, ln_mu: f64, lgamma_y1: f64) -> f64 {
    let a = if y > 0.0 { y * ln_mu } else { 0.0 };
    a - mu - lgamma_y1
}

/// `ln Γ(y + 1)`, remembered for small whole `y` (counts repeat: a trade panel has a few
/// thousand distinct values in a million rows); the same number as `libm::lgamma`. Shared by
/// the threads: an entry is the bits of its value, or `EMPTY` until some thread computes it
/// (two threads computing one entry store the same bits).
struct LnFactorial(Vec<AtomicU64>);

impl LnFactorial {
    const SMALL: usize = 1 << 16;
    /// Not the bits of any `ln Γ(y + 1)` (a NaN).
    const EMPTY: u64 = u64::MAX;

    fn new() -> Self {
        LnFactorial(
            (0..Self::SMALL)
                .into_par_iter()
                .map(|_| AtomicU64::new(Self::EMPTY))
                .collect(),
        )
    }

    fn get(&self, y: f64) -> f64 {
        if y >= 0.0 && y < Self::SMALL as f64 && y.fract() == 0.0 {
            let e = &self.0[y as usize];
            match e.load(Ordering::Relaxed) {
                Self::EMPTY => {
                    let v = libm::lgamma(y + 1.0);
                    e.store(v.to_bits(), Ordering::Relaxed);
                    v
                }
                bits => f64::from_bits(bits),
            }
        } else {
            libm::lgamma(y + 1.0)
        }
    }
}

/// `(ℓ, ℓ_0)`: the Poisson log-likelihood of the fitted values `μ` and that of the
/// constant-only model `μ = ȳ`, over the rows `used` with a finite `μ`.
///
/// `ln Γ(y + 1)` is found once per row. The terms of a stretch of rows are computed in
/// parallel, then added one row after the other, in row order: the sums are the same bits as
/// one loop over the rows, whatever the number of threads.
fn log_likelihoods(y: &[f64], fitted: &[f64], used: &[bool]) -> (f64, f64) {
    const STRETCH: usize = 1 << 16;
    let rows = y.len().min(fitted.len());
    let used = |k: usize| used.get(k).copied().unwrap_or(false) && fitted[k].is_finite();
    let (mut sum, mut n) = (0.0, 0usize);
    for k in (0..rows).filter(|&k| used(k)) {
        sum += y[k];
        n += 1;
    }
    let mean = sum / n.max(1) as f64;
    let ln_mean = mean.ln();
    let (mut ll, mut null) = (0.0, 0.0);
    let lnf = LnFactorial::new();
    let mut terms = vec![[0.0; 2]; STRETCH.min(rows)];
    for lo in (0..rows).step_by(STRETCH) {
        let hi = (lo + STRETCH).min(rows);
        let terms = &mut terms[..hi - lo];
        terms.par_chunks_mut(4096).enumerate().for_each(|(c, out)| {
            for (t, term) in out.iter_mut().enumerate() {
                let k = lo + c * 4096 + t;
                if used(k) {
                    let (yk, mu, lg) = (y[k], fitted[k], lnf.get(y[k]));
                    let ln_mu = if yk > 0.0 { mu.ln() } else { 0.0 };
                    *term = [
                        poisson_ll_with(yk, mu, ln_mu, lg),
                        poisson_ll_with(yk, mean, ln_mean, lg),
                    ];
                }
            }
        });
        for (k, term) in (lo..hi).zip(terms.iter()) {
            if used(k) {
                ll += term[0];
                null += term[1];
            }
        }
    }
    (ll, null)
}

/// Computes [`FitStats`] from the outcome column of `ds` and the fit's fitted values.
pub(crate) fn fit_statistics(ds: &Dataset, formula: &Formula, fit: &PpmlFit) -> Result<FitStats> {
    let y = ds.require(&formula.outcome, "the outcome")?;
    let super::Column::Numeric(y) = y else {
        return Err(crate::error::Error::invalid(
            "estimate",
            format!("the outcome `{}` is not numeric", formula.outcome),
        ));
    };
    let (ll, null) = log_likelihoods(y, &fit.fitted, &fit.used);
    Ok(FitStats {
        loglik: ll,
        null_loglik: null,
        pseudo_r2: 1.0 - ll / null,
    })
}

/// Two-sided p-value of a z statistic under the normal distribution: `erfc(|z|/√2)`.
pub(crate) fn p_value(z: f64) -> f64 {
    libm::erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// fixest's significance codes: `***` p < 0.001, `**` < 0.01, `*` < 0.05, `.` < 0.1.
pub(crate) fn stars(p: f64) -> &'static str {
    if p < 0.001 {
        "***"
    } else if p < 0.01 {
        "**"
    } else if p < 0.05 {
        "*"
    } else if p < 0.1 {
        "."
    } else {
        ""
    }
}

/// The legend printed under tables.
pub(crate) const SIGNIF_CODES: &str =
    "Signif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1";

#[cfg(test)]
mod tests {
    use super::*;
    /// The log-likelihoods summed in stretches are those of one loop over the rows, bit for
    /// bit, over several stretches, with unused rows and fitted values that are not finite.
    #[test]
    fn log_likelihoods_are_one_loop_over_the_rows() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(5);
        let n = 150_001;
        let y: Vec<f64> = (0..n)
            .map(|_| match rng.random_range(0..4) {
                0 => 0.0,
                1 => rng.random_range(0..100_000u32) as f64,
                2 => rng.random_range(0.0..50.0),
                _ => rng.random_range(0..30u32) as f64,
            })
            .collect();
        let fitted: Vec<f64> = (0..n)
            .map(|k| {
                if k % 977 == 0 {
                    f64::NAN
                } else {
                    rng.random_range(0.01..200.0)
                }
            })
            .collect();
        let used: Vec<bool> = (0..n).map(|_| rng.random_bool(0.9)).collect();
        let ok = |k: usize| used[k] && fitted[k].is_finite();
        let (sum, count) = (0..n)
            .filter(|&k| ok(k))
            .fold((0.0, 0), |(s, c), k| (s + y[k], c + 1));
        let mean = sum / count as f64;
        let (mut ll, mut null) = (0.0, 0.0);
        for k in (0..n).filter(|&k| ok(k)) {
            ll += poisson_ll(y[k], fitted[k]);
            null += poisson_ll(y[k], mean);
        }
        let (a, b) = log_likelihoods(&y, &fitted, &used);
        assert_eq!((a.to_bits(), b.to_bits()), (ll.to_bits(), null.to_bits()));
    }

    #[test]
    fn p_values_and_stars() {
        assert!((p_value(1.959963984540054) - 0.05).abs() < 1e-12);
        assert!((p_value(-2.5758293035489) - 0.01).abs() < 1e-12);
        assert_eq!(stars(0.0005), "***");
        assert_eq!(stars(0.05), ".");
        assert_eq!(stars(0.2), "");
        // ln Γ(y+1) = ln y!
        assert!((poisson_ll(3.0, 2.0) - (3.0 * 2f64.ln() - 2.0 - 6f64.ln())).abs() < 1e-12);
        // The remembered ln Γ(y + 1) is libm's, bit for bit.
        let lnf = LnFactorial::new();
        for y in [0.0, 1.0, 7.0, 7.0, 65535.0, 65536.0, 2.5, 1e9] {
            assert_eq!(lnf.get(y).to_bits(), libm::lgamma(y + 1.0).to_bits());
        }
    }
}
