//! Separation in Poisson models: observations whose maximum-likelihood mean is zero, so that
//! some coefficient does not exist (it diverges to ±∞ while the deviance still converges).
//!
//! Correia, Guimarães & Zylkin (2021), "Verifying the existence of maximum likelihood estimates
//! for generalized linear models" (arXiv:1903.01633), §2: observation `i` is separated when a
//! linear combination of the regressors and fixed effects `z = Xγ + Dδ` has
//!
//! ```text
//! z_i = 0 for every y_i > 0,    z_i ≥ 0 for every y_i = 0,    z_i > 0 for observation i.
//! ```
//!
//! Dropping the separated observations leaves the estimates of every coefficient that exists
//! unchanged, and the remaining ones are then identified (their Proposition 1); regressors that
//! only served to separate become collinear and are dropped. Two rules, as in ppmlhdfe:
//!
//! 1. [`fixed_effect_check`]: `z` is the indicator of one fixed-effect level whose outcome is
//!    zero throughout (applied repeatedly, since dropping rows can create new such levels).
//! 2. [`relu_check`], the iterative rectifier of §4.2 (ppmlhdfe's `relu` method): starting from
//!    `u_i = 1{y_i = 0}`, regress `u` on the regressors and fixed effects by weighted least
//!    squares with weight `K` (large) where `y > 0` and 1 where `y = 0`, so the fit is held at
//!    zero on the positive outcomes; if every fitted `û_i ≥ 0` (to a tolerance) the observations
//!    with `û_i > 0` are exactly the separated ones (`z = û`); otherwise set `u_i = max(û_i, 0)`
//!    on the zeros and repeat. It finds separation that no single fixed effect shows, including
//!    combinations of regressors and fixed effects, and so covers ppmlhdfe's `simplex` check
//!    (separation by the regressors alone) as well.

use super::data::Factor;
use super::demean::{DemeanOptions, FixedEffects};
use crate::error::Result;
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// Observations dropped before the fit, and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeparationReport {
    /// Dropped by the fixed-effect rule (all-zero levels).
    pub by_fixed_effects: usize,
    /// All-zero levels per fixed-effect dimension (index of the dimension, count).
    pub groups: Vec<usize>,
    /// Dropped by the iterative rectifier (separation by regressors, or by a combination of
    /// regressors and fixed effects).
    pub by_relu: usize,
    /// Iterations of the rectifier (0 when it did not run).
    pub relu_iterations: usize,
    /// Whether the rectifier reached its fixed point (false: the check was inconclusive).
    pub relu_converged: bool,
    /// Dropped as singletons (only when asked).
    pub singletons: usize,
}

/// Rule 1: drops (sets `keep` to false) observations in fixed-effect levels whose outcome sums
/// to zero, repeatedly until none remain, and with `singletons` also observations alone in
/// their level. Counts the all-zero levels per dimension in `report.groups`.
pub(crate) fn fixed_effect_check(
    y: &[f64],
    factors: &[Factor],
    keep: &mut [bool],
    singletons: bool,
    report: &mut SeparationReport,
) {
    if !singletons && y.par_iter().all(|&v| v >= 0.0) {
        return all_zero_levels_dropped(y, factors, keep, report);
    }
    fixed_effect_rounds(y, factors, keep, singletons, report);
}

/// Rule 1 dimension after dimension, round after round until no row is dropped (with
/// singletons, or outcomes of either sign).
fn fixed_effect_rounds(
    y: &[f64],
    factors: &[Factor],
    keep: &mut [bool],
    singletons: bool,
    report: &mut SeparationReport,
) {
    // With y ≥ 0 a level sums to zero only if every outcome in it is zero, so the rule drops
    // only zeros and leaves every other level's sum as it was: one round finds them all, and
    // only the singleton rule (dropping a row changes its other levels' counts) needs more.
    report.groups = vec![0; factors.len()];
    let one_round = !singletons && y.iter().all(|&v| v >= 0.0);
    loop {
        let mut changed = false;
        for (g, f) in factors.iter().enumerate() {
            let mut sum = vec![0.0; f.nlevels()];
            let mut count = vec![0u32; f.nlevels()];
            for ((&c, &yi), &k) in f.codes.iter().zip(y).zip(keep.iter()) {
                if k {
                    sum[c as usize] += yi;
                    count[c as usize] += 1;
                }
            }
            for (i, &c) in f.codes.iter().enumerate() {
                if !keep[i] {
                    continue;
                }
                if sum[c as usize] == 0.0 {
                    if count[c as usize] > 0 {
                        report.groups[g] += 1;
                        count[c as usize] = 0; // count each level once
                    }
                    keep[i] = false;
                    report.by_fixed_effects += 1;
                    changed = true;
                } else if singletons && count[c as usize] == 1 {
                    keep[i] = false;
                    report.singletons += 1;
                    changed = true;
                }
            }
        }
        if !changed || one_round {
            return;
        }
    }
}

/// Rule 1 when every outcome is non-negative and singletons stay: one round, as in
/// [`fixed_effect_check`]'s loop (dimension after dimension, a row dropped by the first
/// dimension whose level is all zero, a level counted in `report.groups` when some row still
/// kept reaches it), computed in parallel. The rule drops only zeros, which leaves every
/// level's positive outcomes in place, so every dimension's all-zero levels are found at once
/// from the rows kept on entry.
fn all_zero_levels_dropped(
    y: &[f64],
    factors: &[Factor],
    keep: &mut [bool],
    report: &mut SeparationReport,
) {
    // Per dimension: the levels with no positive outcome among the kept rows (a level with
    // no kept row at all drops nothing).
    let zero: Vec<Vec<bool>> = factors
        .par_iter()
        .map(|f| {
            let mut positive = vec![false; f.nlevels()];
            for ((&c, &yi), &k) in f.codes.iter().zip(y).zip(keep.iter()) {
                positive[c as usize] |= k && yi > 0.0;
            }
            positive.iter().map(|&p| !p).collect()
        })
        .collect();
    let zero_in = |g: usize, i: usize| zero[g][factors[g].codes[i] as usize];
    // The first dimension in which row i's level is all zero: the one that drops it.
    let dropped_by = |i: usize| (0..factors.len()).find(|&g| zero_in(g, i));
    let keep_now: &[bool] = keep;
    report.groups = (0..factors.len())
        .into_par_iter()
        .map(|g| {
            let mut counted = vec![false; factors[g].nlevels()];
            let mut levels = 0;
            for (i, &c) in factors[g].codes.iter().enumerate() {
                if keep_now[i] && zero_in(g, i) && !counted[c as usize] && dropped_by(i) == Some(g)
                {
                    counted[c as usize] = true;
                    levels += 1;
                }
            }
            levels
        })
        .collect();
    report.by_fixed_effects = keep
        .par_iter_mut()
        .enumerate()
        .map(|(i, k)| {
            if *k && dropped_by(i).is_some() {
                *k = false;
                1
            } else {
                0
            }
        })
        .sum();
}

/// Settings of the iterative rectifier (pyfixest's and ppmlhdfe's defaults).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReluOptions {
    /// `û_i` within `[−0.1·tol, tol)` counts as zero; `K = N₊ / tol²`.
    pub tol: f64,
    /// Maximum regressions.
    pub max_iter: usize,
}

impl Default for ReluOptions {
    fn default() -> Self {
        ReluOptions {
            tol: 1e-4,
            max_iter: 100,
        }
    }
}

/// Rule 2: the iterative rectifier on the observations `y`, regressors `x` (columns) and
/// fixed effects `factors`. Returns, per observation, whether it is separated, with the number
/// of regressions run and whether the rectifier converged.
pub(crate) fn relu_check(
    y: &[f64],
    x: &[Vec<f64>],
    factors: &[Factor],
    opts: &ReluOptions,
) -> Result<(Vec<bool>, usize, bool)> {
    let n = y.len();
    let positive = y.iter().filter(|&&v| v > 0.0).count();
    if positive == n || (x.is_empty() && factors.len() < 2) {
        // No zeros, or one fixed effect alone: rule 1 already found everything.
        return Ok((vec![false; n], 0, true));
    }
    let big = positive.max(1) as f64 / (opts.tol * opts.tol);
    let omega: Vec<f64> = y.iter().map(|&v| if v > 0.0 { big } else { 1.0 }).collect();
    let fe = FixedEffects::new(factors, &omega);
    let inner = DemeanOptions {
        tol: 1e-10,
        ..Default::default()
    };
    // The regressors' within transform does not change between iterations (fixed weights).
    let xs: Vec<&[f64]> = x.iter().map(|c| c.as_slice()).collect();
    let mut ax = vec![vec![0.0; fe.ncoef()]; x.len()];
    let (x_dm, _) = fe.demean_columns(&xs, &mut ax, &inner)?;
    // Weighted cross-products, solved by SVD (the huge weights make them ill-conditioned),
    // each regressor scaled to a unit diagonal first: a regressor nonzero only where y = 0 (the
    // very one that separates) has a diagonal some 1e12 times smaller than one that varies
    // where y > 0, and the SVD's cut-off relative to the largest singular value would
    // otherwise treat it as collinear and never find the separation.
    let k = x_dm.len();
    let xtx = super::gram::gram(&x_dm, &omega);
    let scale: Vec<f64> = (0..k)
        .map(|j| {
            let d = xtx[(j, j)].sqrt();
            if d > 0.0 && d.is_finite() {
                1.0 / d
            } else {
                0.0
            }
        })
        .collect();
    let scaled = DMatrix::from_fn(k, k, |a, b| xtx[(a, b)] * scale[a] * scale[b]);
    let solver = (k > 0).then(|| scaled.svd(true, true));
    let mut u: Vec<f64> = y.iter().map(|&v| if v > 0.0 { 0.0 } else { 1.0 }).collect();
    let mut au = vec![0.0; fe.ncoef()];
    let mut uhat = vec![0.0; n];
    for it in 1..=opts.max_iter {
        let (u_dm, _) = fe.demean(&u, &mut au, &inner)?;
        // û = u − (ũ − X̃β): the fitted value of the weighted regression.
        let mut resid = u_dm;
        if let Some(svd) = &solver {
            let xtu = DVector::from_iterator(
                k,
                x_dm.iter().zip(&scale).map(|(c, s)| {
                    s * c
                        .iter()
                        .zip(&resid)
                        .zip(&omega)
                        .map(|((p, q), w)| p * q * w)
                        .sum::<f64>()
                }),
            );
            let eps = 1e-12 * svd.singular_values.max();
            let scaled_beta = svd.solve(&xtu, eps).unwrap_or_else(|_| DVector::zeros(k));
            let beta = scaled_beta.component_mul(&DVector::from_column_slice(&scale));
            for (c, b) in x_dm.iter().zip(beta.iter()) {
                for (r, xv) in resid.iter_mut().zip(c) {
                    *r -= b * xv;
                }
            }
        }
        let mut all_nonnegative = true;
        for i in 0..n {
            let mut v = u[i] - resid[i];
            if y[i] > 0.0 || (v > -0.1 * opts.tol && v < opts.tol) {
                v = 0.0;
            }
            if v < 0.0 {
                all_nonnegative = false;
            }
            uhat[i] = v;
        }
        if all_nonnegative {
            return Ok((uhat.iter().map(|&v| v > 0.0).collect(), it, true));
        }
        for i in 0..n {
            if y[i] == 0.0 {
                u[i] = uhat[i].max(0.0);
            }
        }
    }
    Ok((vec![false; n], opts.max_iter, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// The parallel one-round rule drops the same rows and counts the same levels as the rule
    /// applied dimension after dimension, on random panels with many all-zero levels (some
    /// emptied by an earlier dimension) and rows already dropped on entry.
    #[test]
    fn one_round_in_parallel_is_the_rule_dimension_after_dimension() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(11);
        for case in 0..200 {
            let n = rng.random_range(1..400);
            let dims = rng.random_range(1..4);
            let factors: Vec<Factor> = (0..dims)
                .map(|g| {
                    let levels = rng.random_range(1..40u32);
                    let codes: Vec<u32> = (0..n).map(|_| rng.random_range(0..levels)).collect();
                    Factor {
                        name: format!("f{g}"),
                        labels: (0..levels).map(|l| l.to_string()).collect(),
                        codes,
                    }
                })
                .collect();
            let zeros = rng.random_range(0.0..1.0);
            let y: Vec<f64> = (0..n)
                .map(|_| {
                    if rng.random_bool(zeros) {
                        0.0
                    } else {
                        rng.random_range(0.0..5.0)
                    }
                })
                .collect();
            let keep: Vec<bool> = (0..n).map(|_| rng.random_bool(0.95)).collect();
            let (mut a, mut b) = (keep.clone(), keep);
            let (mut ra, mut rb) = (SeparationReport::default(), SeparationReport::default());
            fixed_effect_check(&y, &factors, &mut a, false, &mut ra);
            fixed_effect_rounds(&y, &factors, &mut b, false, &mut rb);
            assert_eq!(a, b, "case {case}: rows kept");
            assert_eq!(ra, rb, "case {case}: report");
        }
    }
}
