//! Fit statistics of a Poisson fit as fixest and pyfixest report them: the log-likelihood
//! `ℓ = Σ_i [y_i ln μ_i − μ_i − ln Γ(y_i + 1)]` over the observations used, the null
//! log-likelihood of the constant-only model (`μ = ȳ`), McFadden's pseudo-R²
//! `1 − ℓ/ℓ_0` (fixest's `r2(fit, "pr2")`), and normal p-values of the z statistics with
//! fixest's significance codes.

use super::{Dataset, Formula, PpmlFit};
use crate::error::Result;

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
    poisson_ll_with(y, mu, libm::lgamma(y + 1.0))
}

/// `y ln μ − μ − ln Γ(y + 1)` with `ln Γ(y + 1)` given.
fn poisson_ll_with(y: f64, mu: f64, lgamma_y1: f64) -> f64 {
    let a = if y > 0.0 { y * mu.ln() } else { 0.0 };
    a - mu - lgamma_y1
}

/// `ln Γ(y + 1)`, remembered for small whole `y` (counts repeat: a trade panel has a few
/// thousand distinct values in a million rows); the same number as `libm::lgamma`.
struct LnFactorial(Vec<f64>);

impl LnFactorial {
    const SMALL: usize = 1 << 16;

    fn get(&mut self, y: f64) -> f64 {
        if y >= 0.0 && y < Self::SMALL as f64 && y.fract() == 0.0 {
            let k = y as usize;
            if self.0.is_empty() {
                self.0 = vec![f64::NAN; Self::SMALL];
            }
            if self.0[k].is_nan() {
                self.0[k] = libm::lgamma(y + 1.0);
            }
            self.0[k]
        } else {
            libm::lgamma(y + 1.0)
        }
    }
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
    let used = |k: usize, mu: f64| fit.used.get(k).copied().unwrap_or(false) && mu.is_finite();
    let (mut sum, mut n) = (0.0, 0usize);
    for (k, (&yk, &mu)) in y.iter().zip(&fit.fitted).enumerate() {
        if used(k, mu) {
            sum += yk;
            n += 1;
        }
    }
    let mean = sum / n.max(1) as f64;
    // One pass for both log-likelihoods, ln Γ(y + 1) found once per row.
    let (mut ll, mut null) = (0.0, 0.0);
    let mut lnf = LnFactorial(Vec::new());
    for (k, (&yk, &mu)) in y.iter().zip(&fit.fitted).enumerate() {
        if used(k, mu) {
            let lg = lnf.get(yk);
            ll += poisson_ll_with(yk, mu, lg);
            null += poisson_ll_with(yk, mean, lg);
        }
    }
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
        let mut lnf = LnFactorial(Vec::new());
        for y in [0.0, 1.0, 7.0, 7.0, 65535.0, 65536.0, 2.5, 1e9] {
            assert_eq!(lnf.get(y).to_bits(), libm::lgamma(y + 1.0).to_bits());
        }
    }
}
