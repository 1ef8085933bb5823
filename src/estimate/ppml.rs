//! Poisson pseudo-maximum likelihood with high-dimensional fixed effects.
//!
//! The model (Santos Silva & Tenreyro 2006) is `E[y_i | x_i] = exp(x_i'β + Σ_g α_g[f_g(i)] + o_i)`
//! with offset `o`. The estimator solves the Poisson score equations
//! `Σ_i (y_i − μ_i) x_i = 0` and `Σ_{i: f_g(i)=l} (y_i − μ_i) = 0` for every level `l` of every
//! dimension `g`. [`fit`] uses iteratively reweighted least squares (IRLS): at each step, with
//! weights `w = μ` and working variable `z = η − o + (y − μ)/μ`, it partials the fixed effects out
//! of `z` and `X` by weighted alternating projections ([`super::demean`]) and solves the weighted
//! least-squares problem `β = (X̃'WX̃)⁻¹ X̃'W z̃` (Frisch–Waugh–Lovell), then updates
//! `η = z − (z̃ − X̃β) + o`. This is the ppmlhdfe algorithm (Correia, Guimarães & Zylkin 2020)
//! as implemented in fixest (Bergé 2018) and pyfixest: start at `μ = (y + ȳ)/2`, stop when the
//! deviance `D = 2 Σ [y log(y/μ) − (y − μ)]` changes by less than `tol · (0.1 + |D_old|)`.
//!
//! Before fitting, observations in fixed-effect groups whose outcome is zero throughout are
//! dropped, repeatedly until none remain (their fixed effect would be −∞: "separation",
//! Correia, Guimarães & Zylkin 2021); regressors collinear with the fixed effects or with other
//! regressors are dropped with a warning.

use super::data::{Column, Dataset, Factor};
use super::demean::{DemeanOptions, FixedEffects};
use super::formula::{Atom, Formula, Term};
use super::vcov::{self, Ssc, VcovSpec};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// Settings of a PPML fit. Build with `PpmlOptions::default()` and adjust fields.
#[derive(Debug, Clone)]
pub struct PpmlOptions {
    /// Keep only the rows where this filter expression holds (see [`super::expr`]).
    pub subset: Option<String>,
    /// Cluster variables: empty for heteroskedasticity-robust standard errors; one or two
    /// entries (a column or an interaction `a^b`) for one- or two-way clustering.
    pub cluster: Vec<String>,
    /// Offset with coefficient 1 in the linear predictor: a column or `log(column)`.
    pub offset: Option<String>,
    /// Small-sample correction of the standard errors.
    pub ssc: Ssc,
    /// IRLS convergence tolerance on the relative deviance change (fixest: 1e-8).
    pub tol: f64,
    /// Maximum IRLS iterations.
    pub max_iter: usize,
    /// Inner demeaning settings.
    pub demean: DemeanOptions,
    /// Also drop observations alone in a fixed-effect level (the default of pyfixest,
    /// `fixef_rm="singleton"`, and of ppmlhdfe). fixest keeps them, and so does the default here:
    /// they do not change the estimates, only N and the small-sample correction.
    pub drop_singletons: bool,
}

impl Default for PpmlOptions {
    fn default() -> Self {
        PpmlOptions {
            subset: None,
            cluster: Vec::new(),
            offset: None,
            ssc: Ssc::Fixest,
            tol: 1e-8,
            max_iter: 100,
            demean: DemeanOptions::default(),
            drop_singletons: false,
        }
    }
}

/// Estimated fixed effects of one dimension.
#[derive(Debug, Clone)]
pub struct FixedEffectEstimates {
    /// The dimension as written in the formula, e.g. `exporter^year`.
    pub dimension: String,
    /// Level labels (interacted values joined by `_`), sorted.
    pub levels: Vec<String>,
    /// Estimated value per level (see [`PpmlFit::fixed_effects`] for the normalisation).
    pub values: Vec<f64>,
}

/// The result of [`fit`].
#[derive(Debug, Clone)]
pub struct PpmlFit {
    /// The formula as parsed.
    pub formula: String,
    /// Names of the estimated coefficients (collinear regressors removed).
    pub names: Vec<String>,
    /// Estimates, aligned with `names`.
    pub coefficients: Vec<f64>,
    /// Variance–covariance matrix of the estimates.
    pub vcov: DMatrix<f64>,
    /// Square roots of the diagonal of `vcov`.
    pub std_errors: Vec<f64>,
    /// Human-readable description of the standard errors and small-sample correction.
    pub vcov_description: String,
    /// Details of the correction (K, G, factor).
    pub ssc_details: vcov::SscDetails,
    /// Observations used in the fit.
    pub nobs: usize,
    /// Rows excluded by the subset filter.
    pub excluded_by_subset: usize,
    /// Observations dropped because their fixed-effect group has an all-zero outcome.
    pub dropped_separation: usize,
    /// Number of all-zero groups per fixed-effect dimension that caused separation drops.
    pub separated_groups: Vec<(String, usize)>,
    /// Observations dropped as singletons (only with `drop_singletons`).
    pub dropped_singletons: usize,
    /// Regressors dropped as collinear (with the fixed effects or other regressors).
    pub collinear: Vec<String>,
    /// Warnings for the user (collinearity, separation counts).
    pub warnings: Vec<String>,
    /// IRLS iterations.
    pub iterations: usize,
    /// Final deviance.
    pub deviance: f64,
    /// Always true in a returned fit (a non-converged fit is an error).
    pub converged: bool,
    /// Alternating-projection sweeps per IRLS iteration (the most over the demeaned columns).
    pub demean_sweeps: Vec<usize>,
    /// Whether each input row was used in the fit.
    pub used: Vec<bool>,
    /// Fitted means `μ = exp(η)` aligned to the input rows; NaN for rows not used.
    pub fitted: Vec<f64>,
    /// Sum of the fixed effects `Σ_g α_g[f_g(i)]` per input row (unique, unlike the individual
    /// levels); NaN for rows not used.
    pub fe_sum: Vec<f64>,
    /// Estimated fixed effects per dimension. They are one solution of the normal equations,
    /// obtained by alternating projections from zero; with several dimensions, levels are
    /// identified only up to normalisations that cancel in `fe_sum`. They are normalised so
    /// that in every dimension after the first, the first level (in sorted order) is zero and
    /// the first dimension absorbs the shift — fixest's normalisation for two connected
    /// dimensions. With three or more dimensions further restrictions remain (e.g. exporter
    /// shifts between exporter-year and pair effects); the levels are then one particular
    /// solution and only `fe_sum` (and `fitted`) should be relied on.
    pub fixed_effects: Vec<FixedEffectEstimates>,
}

impl PpmlFit {
    /// The estimate and standard error of a coefficient by name.
    pub fn coef(&self, name: &str) -> Option<(f64, f64)> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|j| (self.coefficients[j], self.std_errors[j]))
    }
}

/// Values of a term on the given rows; checks finiteness and the domain of `log`.
fn term_values(ds: &Dataset, term: &Term, rows: &[usize], what: &str) -> Result<Vec<f64>> {
    let mut out = vec![1.0; rows.len()];
    for atom in &term.atoms {
        let name = atom.column();
        let col = ds.require(name, &format!("{what} '{}'", term.name()))?;
        let Column::Numeric(v) = col else {
            return Err(Error::invalid(
                format!("{what} '{}'", term.name()),
                format!("column '{name}' is text, not numbers; use it as a fixed effect (after '|') instead"),
            ));
        };
        for (o, &i) in out.iter_mut().zip(rows) {
            let x = v[i];
            if !x.is_finite() {
                return Err(ds.row_error(
                    i,
                    format!("column '{name}' (in {what} '{}') is empty or not finite; remove the row with --subset or fill the value", term.name()),
                ));
            }
            *o *= match atom {
                Atom::Column(_) => x,
                Atom::Log(_) => {
                    if x <= 0.0 {
                        return Err(ds.row_error(
                            i,
                            format!("log({name}) of {x}: not positive; exclude such rows with --subset '{name} > 0'"),
                        ));
                    }
                    x.ln()
                }
            };
        }
    }
    Ok(out)
}

/// Re-codes a factor on a subset of its observations, dropping levels that disappear and
/// keeping the (sorted) order of the others.
fn restrict(f: &Factor, keep: &[bool]) -> Factor {
    let mut present = vec![false; f.nlevels()];
    for (&c, &k) in f.codes.iter().zip(keep) {
        if k {
            present[c as usize] = true;
        }
    }
    let mut map = vec![u32::MAX; f.nlevels()];
    let mut labels = Vec::new();
    for (l, &p) in present.iter().enumerate() {
        if p {
            map[l] = labels.len() as u32;
            labels.push(f.labels[l].clone());
        }
    }
    let codes = f
        .codes
        .iter()
        .zip(keep)
        .filter(|(_, &k)| k)
        .map(|(&c, _)| map[c as usize])
        .collect();
    Factor {
        name: f.name.clone(),
        codes,
        labels,
    }
}

/// Iteratively drops observations in fixed-effect groups whose outcome sums to zero (and,
/// optionally, singleton groups). Returns (separated, singletons) counts.
fn drop_separated(
    y: &[f64],
    factors: &[Factor],
    keep: &mut [bool],
    singletons: bool,
    groups: &mut [usize],
) -> (usize, usize) {
    let (mut sep, mut single) = (0, 0);
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
                        groups[g] += 1;
                        count[c as usize] = 0; // count each group once
                    }
                    keep[i] = false;
                    sep += 1;
                    changed = true;
                } else if singletons && count[c as usize] == 1 {
                    keep[i] = false;
                    single += 1;
                    changed = true;
                }
            }
        }
        if !changed {
            return (sep, single);
        }
    }
}

/// What the standard errors need from the last IRLS step: demeaned regressors X̃, weights w,
/// working residuals, and β.
type IrlsState = (Vec<Vec<f64>>, Vec<f64>, Vec<f64>, DVector<f64>);

/// Poisson deviance `2 Σ [y log(y/μ) − (y − μ)]`.
pub fn deviance(y: &[f64], mu: &[f64]) -> f64 {
    // Fixed-size chunks summed in order: the result does not depend on the thread count.
    const CHUNK: usize = 1 << 16;
    let parts: Vec<f64> = y
        .par_chunks(CHUNK)
        .zip(mu.par_chunks(CHUNK))
        .map(|(yc, mc)| {
            yc.iter()
                .zip(mc)
                .map(|(&y, &m)| {
                    if y > 0.0 {
                        y * (y / m).ln() - (y - m)
                    } else {
                        m
                    }
                })
                .sum::<f64>()
        })
        .collect();
    2.0 * parts.iter().sum::<f64>()
}

/// `X'WX` and `X'Wz` for column-major `x`.
fn cross(x: &[Vec<f64>], w: &[f64], z: &[f64]) -> (DMatrix<f64>, DVector<f64>) {
    let k = x.len();
    let mut xtx = DMatrix::zeros(k, k);
    let mut xtz = DVector::zeros(k);
    let pairs: Vec<(usize, usize)> = (0..k).flat_map(|a| (a..k).map(move |b| (a, b))).collect();
    let vals: Vec<f64> = pairs
        .par_iter()
        .map(|&(a, b)| {
            x[a].iter()
                .zip(&x[b])
                .zip(w)
                .map(|((p, q), w)| p * q * w)
                .sum()
        })
        .collect();
    for (&(a, b), v) in pairs.iter().zip(vals) {
        xtx[(a, b)] = v;
        xtx[(b, a)] = v;
    }
    for a in 0..k {
        xtz[a] = x[a].iter().zip(z).zip(w).map(|((p, q), w)| p * q * w).sum();
    }
    (xtx, xtz)
}

/// Finds regressors collinear with the fixed effects (`Σw x̃² ≤ tol · Σw x²`) or with earlier
/// regressors (pivot of a sequential Cholesky factorisation of `X̃'WX̃` below `tol` times the
/// diagonal). Returns the indices to keep.
fn non_collinear(x_raw: &[Vec<f64>], x_dm: &[Vec<f64>], w: &[f64], tol: f64) -> Vec<usize> {
    let (g, _) = cross(x_dm, w, &vec![0.0; w.len()]);
    let k = x_dm.len();
    let mut keep: Vec<usize> = Vec::new();
    // L factor of kept columns, row-major by kept index.
    let mut l: Vec<Vec<f64>> = Vec::new();
    for j in 0..k {
        let raw: f64 = x_raw[j].iter().zip(w).map(|(x, w)| x * x * w).sum();
        if g[(j, j)] <= tol * raw || g[(j, j)] <= 0.0 {
            continue;
        }
        let mut row = Vec::with_capacity(keep.len() + 1);
        for (a, &ka) in keep.iter().enumerate() {
            let s: f64 = (0..a).map(|b| row[b] * l[a][b]).sum();
            row.push((g[(j, ka)] - s) / l[a][a]);
        }
        let d = g[(j, j)] - row.iter().map(|v| v * v).sum::<f64>();
        if d <= tol * g[(j, j)] {
            continue;
        }
        row.push(d.sqrt());
        l.push(row);
        keep.push(j);
    }
    keep
}

/// Fits `formula` to `ds` by PPML with fixed effects. Errors name the offending column, row or
/// token; a fit that does not converge within `opts.max_iter` iterations is an error.
pub fn fit(ds: &Dataset, formula: &Formula, opts: &PpmlOptions) -> Result<PpmlFit> {
    if opts.tol.is_nan()
        || opts.tol <= 0.0
        || opts.max_iter == 0
        || opts.demean.tol.is_nan()
        || opts.demean.tol <= 0.0
    {
        return Err(Error::invalid(
            "PPML options",
            "tolerances must be positive and max_iter at least 1",
        ));
    }
    if opts.cluster.len() > 2 {
        return Err(Error::invalid(
            "--cluster",
            "at most two-way clustering is supported",
        ));
    }
    let n_all = ds.nrows();
    // 1. Rows selected by the subset filter.
    let mask = match &opts.subset {
        Some(f) => ds.filter_mask(f)?,
        None => vec![true; n_all],
    };
    let rows: Vec<usize> = (0..n_all).filter(|&i| mask[i]).collect();
    let excluded_by_subset = n_all - rows.len();
    if rows.is_empty() {
        return Err(Error::invalid(
            "--subset",
            "no rows left after the subset filter",
        ));
    }

    // 2. Columns on the selected rows.
    let ycol = ds.require(&formula.outcome, "the outcome of the formula")?;
    let Column::Numeric(yv) = ycol else {
        return Err(Error::invalid(
            format!("outcome '{}'", formula.outcome),
            "is a text column, not numbers",
        ));
    };
    let mut y = Vec::with_capacity(rows.len());
    for &i in &rows {
        let v = yv[i];
        if !v.is_finite() || v < 0.0 {
            return Err(ds.row_error(
                i,
                format!("outcome '{}' is {}: PPML needs a finite, non-negative outcome; remove the row with --subset or fill the value", formula.outcome, if v.is_nan() { "empty".to_string() } else { v.to_string() }),
            ));
        }
        y.push(v);
    }
    let mut names: Vec<String> = formula.terms.iter().map(|t| t.name()).collect();
    let mut x_raw: Vec<Vec<f64>> = formula
        .terms
        .iter()
        .map(|t| term_values(ds, t, &rows, "regressor"))
        .collect::<Result<_>>()?;
    if formula.fixed_effects.is_empty() {
        names.insert(0, "(Intercept)".to_string());
        x_raw.insert(0, vec![1.0; rows.len()]);
    }
    let offset = match &opts.offset {
        Some(o) => term_values(ds, &Term::parse(o)?, &rows, "offset")?,
        None => vec![0.0; rows.len()],
    };
    // Factorise every column used by a fixed effect or cluster once, in parallel, then build
    // the interactions in parallel; errors are reported in formula order.
    let cluster_cols: Vec<Vec<String>> = opts
        .cluster
        .iter()
        .map(|c| c.split('^').map(|s| s.trim().to_string()).collect())
        .collect();
    let mut cache = super::data::FactorCache::default();
    for cols in &formula.fixed_effects {
        for c in cols {
            ds.require(c, &format!("fixed effect '{}'", cols.join("^")))?;
        }
    }
    for (cols, c) in cluster_cols.iter().zip(&opts.cluster) {
        for col in cols {
            ds.require(col, &format!("cluster '{c}'"))?;
        }
    }
    let all_cols: Vec<String> = formula
        .fixed_effects
        .iter()
        .chain(&cluster_cols)
        .flatten()
        .cloned()
        .collect();
    cache.prefill(ds, &all_cols, &rows, "fixed effects and clusters")?;
    let specs: Vec<(&Vec<String>, String)> = formula
        .fixed_effects
        .iter()
        .map(|cols| (cols, format!("fixed effect '{}'", cols.join("^"))))
        .chain(
            cluster_cols
                .iter()
                .zip(&opts.cluster)
                .map(|(cols, c)| (cols, format!("cluster '{c}'"))),
        )
        .collect();
    let built: Vec<Result<Factor>> = specs
        .par_iter()
        .map(|(cols, ctx)| Factor::from_columns_prepared(ds, cols, &rows, ctx, &cache))
        .collect();
    let mut built = built.into_iter().collect::<Result<Vec<Factor>>>()?;
    let clusters_all: Vec<Factor> = built.split_off(formula.fixed_effects.len());
    let factors_all: Vec<Factor> = built;

    // 3. Separation (all-zero fixed-effect groups) and singletons.
    let mut keep = vec![true; rows.len()];
    let mut groups = vec![0usize; factors_all.len()];
    let (dropped_separation, dropped_singletons) = drop_separated(
        &y,
        &factors_all,
        &mut keep,
        opts.drop_singletons,
        &mut groups,
    );
    let factors: Vec<Factor> = factors_all.iter().map(|f| restrict(f, &keep)).collect();
    let clusters: Vec<Factor> = clusters_all.iter().map(|f| restrict(f, &keep)).collect();
    let sel = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(&x, _)| x)
            .collect()
    };
    let y = sel(&y);
    let offset = sel(&offset);
    let x_raw: Vec<Vec<f64>> = x_raw.iter().map(|c| sel(c)).collect();
    let used_rows: Vec<usize> = rows
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(&i, _)| i)
        .collect();
    let n = y.len();
    if n == 0 || y.iter().all(|&v| v == 0.0) {
        return Err(Error::invalid(
            format!("outcome '{}'", formula.outcome),
            "is zero in every usable observation; nothing to estimate",
        ));
    }
    let mut warnings = Vec::new();
    let separated_groups: Vec<(String, usize)> = formula
        .fe_names()
        .into_iter()
        .zip(groups)
        .filter(|(_, g)| *g > 0)
        .collect();
    if dropped_separation > 0 {
        let per: Vec<String> = separated_groups
            .iter()
            .map(|(d, g)| format!("{g} of '{d}'"))
            .collect();
        warnings.push(format!(
            "{dropped_separation} observation(s) dropped in all-zero fixed-effect groups ({}): their fixed effect would be -infinity (separation)",
            per.join(", ")
        ));
    }
    if dropped_singletons > 0 {
        warnings.push(format!(
            "{dropped_singletons} singleton observation(s) dropped"
        ));
    }

    // 4. IRLS.
    let ybar = y.iter().sum::<f64>() / n as f64;
    let mut mu: Vec<f64> = y.iter().map(|&v| (v + ybar) / 2.0).collect();
    let mut eta: Vec<f64> = mu.iter().map(|m| m.ln()).collect();
    let mut last = deviance(&y, &mu);
    let mut active: Vec<usize> = (0..x_raw.len()).collect();
    let ncoef_fe: usize = factors.iter().map(|f| f.nlevels()).sum();
    let mut alpha_z = vec![0.0; ncoef_fe];
    let mut alpha_x: Vec<Vec<f64>> = vec![vec![0.0; ncoef_fe]; x_raw.len()];
    let mut collinear = Vec::new();
    let mut converged = false;
    let mut iterations = 0;
    let mut demean_sweeps = Vec::new();
    let mut last_crit = f64::INFINITY;
    let mut dev = last;
    let mut state: Option<IrlsState> = None;
    for it in 0..opts.max_iter {
        iterations = it + 1;
        let w = mu.clone();
        let z: Vec<f64> = eta
            .par_iter()
            .zip(&offset)
            .zip(&y)
            .zip(&mu)
            .map(|(((e, o), y), m)| e - o + y / m - 1.0)
            .collect();
        let fe = FixedEffects::new(&factors, &w);
        // Adaptive inner tolerance (as ppmlhdfe): loose while the IRLS is far from its solution,
        // tighter as the deviance settles. When the deviance criterion is met after a loosely
        // demeaned step, the step is redone at the requested tolerance (warm-started, cheap),
        // so the reported solution always comes from a step demeaned at `opts.demean.tol`.
        let target = opts.demean.tol;
        let mut inner = DemeanOptions {
            tol: if it == 0 {
                target.max(1e-7)
            } else {
                (last_crit * 1e-4).clamp(target, target.max(1e-5))
            },
            ..opts.demean
        };
        if factors.is_empty() {
            inner.tol = target;
        }
        let (x_dm, resid, beta, crit, new_eta, new_mu) = loop {
            // Demean z and the active regressors in parallel, warm-started.
            let mut jobs: Vec<(&[f64], &mut Vec<f64>)> = Vec::with_capacity(active.len() + 1);
            jobs.push((&z, &mut alpha_z));
            let mut ax: Vec<Option<&mut Vec<f64>>> = alpha_x.iter_mut().map(Some).collect();
            for &j in &active {
                if let Some(a) = ax[j].take() {
                    jobs.push((&x_raw[j], a));
                }
            }
            let results: Vec<Result<(Vec<f64>, usize)>> = jobs
                .into_par_iter()
                .map(|(col, a)| fe.demean(col, a, &inner))
                .collect();
            let max_sweeps = results
                .iter()
                .filter_map(|r| r.as_ref().ok().map(|x| x.1))
                .max()
                .unwrap_or(0);
            demean_sweeps.push(max_sweeps);
            let mut results = results.into_iter();
            let z_dm = results
                .next()
                .ok_or_else(|| Error::NotConverged("internal: no demeaning result".into()))??
                .0;
            let mut x_dm: Vec<Vec<f64>> = Vec::with_capacity(active.len());
            for r in results {
                x_dm.push(r?.0);
            }
            if it == 0 && collinear.is_empty() {
                let raw: Vec<Vec<f64>> = active.iter().map(|&j| x_raw[j].clone()).collect();
                let keep_idx = non_collinear(&raw, &x_dm, &w, 1e-9);
                if keep_idx.len() < active.len() {
                    let dropped: Vec<String> = (0..active.len())
                        .filter(|a| !keep_idx.contains(a))
                        .map(|a| names[active[a]].clone())
                        .collect();
                    warnings.push(format!(
                        "regressor(s) {} dropped: collinear with the fixed effects or with other regressors",
                        dropped.join(", ")
                    ));
                    collinear = dropped;
                    x_dm = keep_idx
                        .iter()
                        .map(|&a| std::mem::take(&mut x_dm[a]))
                        .collect();
                    active = keep_idx.iter().map(|&a| active[a]).collect();
                }
            }
            // Weighted least squares on the demeaned data.
            let beta = if active.is_empty() {
                DVector::zeros(0)
            } else {
                let (xtx, xtz) = cross(&x_dm, &w, &z_dm);
                let chol = xtx.cholesky().ok_or_else(|| {
                    Error::NotConverged(format!(
                        "IRLS iteration {iterations}: X'WX is not positive definite (regressors nearly collinear: {})",
                        active.iter().map(|&j| names[j].as_str()).collect::<Vec<_>>().join(", ")
                    ))
                })?;
                chol.solve(&xtz)
            };
            let mut resid = z_dm;
            for (a, col) in x_dm.iter().enumerate() {
                let b = beta[a];
                for (r, x) in resid.iter_mut().zip(col) {
                    *r -= b * x;
                }
            }
            let new_eta: Vec<f64> = (0..n)
                .into_par_iter()
                .map(|i| z[i] - resid[i] + offset[i])
                .collect();
            let new_mu: Vec<f64> = new_eta.par_iter().map(|e| e.exp()).collect();
            dev = deviance(&y, &new_mu);
            if !dev.is_finite() {
                return Err(Error::NotConverged(format!(
                    "IRLS iteration {iterations}: the deviance is not finite (fitted values overflow); check for extreme regressor values or separation not caught by the fixed-effect check"
                )));
            }
            let crit = (dev - last).abs() / (0.1 + last.abs());
            if crit < opts.tol && inner.tol > target {
                inner.tol = target;
                continue;
            }
            break (x_dm, resid, beta, crit, new_eta, new_mu);
        };
        eta = new_eta;
        mu = new_mu;
        last = dev;
        last_crit = crit;
        state = Some((x_dm, w, resid, beta));
        if crit < opts.tol {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(Error::NotConverged(format!(
            "PPML did not converge in {} IRLS iterations (last deviance {dev}); raise --max-iter or check the data for separation",
            opts.max_iter
        )));
    }
    let Some((x_dm, w, resid, beta)) = state else {
        return Err(Error::NotConverged("no IRLS iteration ran".into()));
    };

    // 5. Standard errors.
    let spec = VcovSpec {
        clusters: &clusters,
        factors: &factors,
        ssc: opts.ssc,
    };
    let (vc, description, ssc_details) = vcov::vcov(&x_dm, &w, &resid, &spec)?;
    let std_errors = (0..beta.len())
        .map(|j| vc[(j, j)].max(0.0).sqrt())
        .collect();

    // 6. Fixed effects: α = α_z − Σ_j β_j α_xj (linearity of the projection).
    let mut alpha = alpha_z.clone();
    for (a, &j) in active.iter().enumerate() {
        for (v, ax) in alpha.iter_mut().zip(&alpha_x[j]) {
            *v -= beta[a] * ax;
        }
    }
    let mut offsets = vec![0usize];
    for f in &factors {
        offsets.push(offsets.last().copied().unwrap_or(0) + f.nlevels());
    }
    // Normalise: first level of dimensions 2..G set to zero, shift absorbed by dimension 1.
    if factors.len() >= 2 {
        for g in 1..factors.len() {
            let (lo, hi) = (offsets[g], offsets[g + 1]);
            if hi > lo {
                let shift = alpha[lo];
                alpha[lo..hi].iter_mut().for_each(|v| *v -= shift);
                alpha[offsets[0]..offsets[1]]
                    .iter_mut()
                    .for_each(|v| *v += shift);
            }
        }
    }
    let fixed_effects: Vec<FixedEffectEstimates> = factors
        .iter()
        .enumerate()
        .map(|(g, f)| FixedEffectEstimates {
            dimension: formula.fe_names()[g].clone(),
            levels: f.labels.clone(),
            values: alpha[offsets[g]..offsets[g + 1]].to_vec(),
        })
        .collect();

    let mut used = vec![false; n_all];
    let mut fitted = vec![f64::NAN; n_all];
    let mut fe_sum = vec![f64::NAN; n_all];
    for (k, &i) in used_rows.iter().enumerate() {
        used[i] = true;
        fitted[i] = mu[k];
        let mut s = 0.0;
        for (g, f) in factors.iter().enumerate() {
            s += alpha[offsets[g] + f.codes[k] as usize];
        }
        fe_sum[i] = s;
    }
    let names: Vec<String> = active.iter().map(|&j| names[j].clone()).collect();
    Ok(PpmlFit {
        formula: formula.to_string(),
        names,
        coefficients: beta.iter().copied().collect(),
        vcov: vc,
        std_errors,
        vcov_description: description,
        ssc_details,
        nobs: n,
        excluded_by_subset,
        dropped_separation,
        separated_groups,
        dropped_singletons,
        collinear,
        warnings,
        iterations,
        deviance: dev,
        converged,
        demean_sweeps,
        used,
        fitted,
        fe_sum,
        fixed_effects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel() -> Dataset {
        // 3 exporters x 3 importers x 2 years, deterministic values.
        let mut e = vec![];
        let mut m = vec![];
        let mut yr = vec![];
        let mut x = vec![];
        let mut y = vec![];
        for i in 0..3 {
            for j in 0..3 {
                for t in 0..2 {
                    e.push(format!("E{i}"));
                    m.push(format!("M{j}"));
                    yr.push(2000.0 + t as f64);
                    let xv = ((i * 3 + j * 5 + t * 7) % 4) as f64;
                    x.push(xv);
                    y.push((1.0 + 0.3 * xv + i as f64 + 0.5 * j as f64 + t as f64 * 0.2).round());
                }
            }
        }
        let mut ds = Dataset::new();
        ds.push_text("exporter", e).unwrap();
        ds.push_text("importer", m).unwrap();
        ds.push_numeric("year", yr).unwrap();
        ds.push_numeric("x", x).unwrap();
        ds.push_numeric("trade", y).unwrap();
        ds
    }

    #[test]
    fn separation_drop() {
        let mut ds = panel();
        // Exporter E2 never trades.
        let Some(Column::Numeric(y)) = ds.column("trade").cloned() else {
            panic!()
        };
        let Some(Column::Text(e)) = ds.column("exporter").cloned() else {
            panic!()
        };
        let y: Vec<f64> = y
            .iter()
            .zip(&e)
            .map(|(&v, e)| if e == "E2" { 0.0 } else { v })
            .collect();
        ds.push_numeric("trade", y).unwrap();
        let f = Formula::parse("trade ~ x | exporter + importer").unwrap();
        let fit = fit(&ds, &f, &PpmlOptions::default()).unwrap();
        assert_eq!(fit.dropped_separation, 6);
        assert_eq!(fit.nobs, 12);
        assert!(fit.fitted[12].is_nan() && fit.fitted[0].is_finite());
        assert!(fit.fixed_effects[0].levels.len() == 2);
    }

    #[test]
    fn collinear_regressor_dropped() {
        let mut ds = panel();
        let Some(Column::Numeric(yr)) = ds.column("year").cloned() else {
            panic!()
        };
        ds.push_numeric("t2", yr.iter().map(|v| v * 2.0 - 1.0).collect())
            .unwrap();
        let f = Formula::parse("trade ~ x + t2 | exporter^year + importer").unwrap();
        let fit = fit(&ds, &f, &PpmlOptions::default()).unwrap();
        assert_eq!(fit.names, vec!["x"]);
        assert_eq!(fit.collinear, vec!["t2"]);
        assert!(fit.warnings.iter().any(|w| w.contains("t2")));
    }

    /// The score equations hold at the solution: Σ (y − μ) x = 0 and per-level sums vanish.
    #[test]
    fn scores_vanish() {
        let ds = panel();
        let f = Formula::parse("trade ~ x | exporter + importer^year").unwrap();
        let o = PpmlOptions {
            tol: 1e-12,
            ..Default::default()
        };
        let fit = fit(&ds, &f, &o).unwrap();
        let Some(Column::Numeric(y)) = ds.column("trade") else {
            panic!()
        };
        let Some(Column::Numeric(x)) = ds.column("x") else {
            panic!()
        };
        let s: f64 = (0..y.len()).map(|i| (y[i] - fit.fitted[i]) * x[i]).sum();
        assert!(s.abs() < 1e-6, "{s}");
        // μ = exp(xβ + fe_sum)
        for (i, xi) in x.iter().enumerate() {
            let m = (fit.coefficients[0] * xi + fit.fe_sum[i]).exp();
            assert!((m - fit.fitted[i]).abs() < 1e-6 * m.max(1.0));
        }
    }

    /// Fixing a coefficient through an offset reproduces the fit: with `o = β̂ x`,
    /// `y ~ 1 | fe` with offset `o` has the same fitted values as `y ~ x | fe`.
    #[test]
    fn offset_fixes_a_coefficient() {
        let mut ds = panel();
        let f = Formula::parse("trade ~ x | exporter + importer^year").unwrap();
        let o = PpmlOptions {
            tol: 1e-12,
            ..Default::default()
        };
        let full = fit(&ds, &f, &o).unwrap();
        let Some(Column::Numeric(x)) = ds.column("x").cloned() else {
            panic!()
        };
        let b = full.coefficients[0];
        ds.push_numeric("bx", x.iter().map(|v| b * v).collect())
            .unwrap();
        let f0 = Formula::parse("trade ~ 1 | exporter + importer^year").unwrap();
        let o0 = PpmlOptions {
            offset: Some("bx".into()),
            ..o
        };
        let restricted = fit(&ds, &f0, &o0).unwrap();
        assert!(restricted.names.is_empty());
        for (a, b) in full.fitted.iter().zip(&restricted.fitted) {
            assert!((a - b).abs() < 1e-6 * a.max(1.0), "{a} vs {b}");
        }
    }

    #[test]
    fn singletons_dropped_on_request() {
        let mut ds = panel();
        let mut g: Vec<String> = (0..ds.nrows()).map(|i| format!("g{}", i / 2)).collect();
        g[0] = "alone".into();
        ds.push_text("g", g).unwrap();
        let f = Formula::parse("trade ~ x | g").unwrap();
        let o = PpmlOptions {
            drop_singletons: true,
            ..Default::default()
        };
        let r = fit(&ds, &f, &o).unwrap();
        assert_eq!(r.dropped_singletons, 2); // "alone" and its former partner
        assert_eq!(r.nobs, ds.nrows() - 2);
    }

    #[test]
    fn bad_input_names_row() {
        let mut ds = panel();
        let Some(Column::Numeric(mut x)) = ds.column("x").cloned() else {
            panic!()
        };
        x[4] = f64::NAN;
        ds.push_numeric("x", x).unwrap();
        let f = Formula::parse("trade ~ x | exporter").unwrap();
        let e = fit(&ds, &f, &PpmlOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 5") && e.contains("'x'"), "{e}");
        let f = Formula::parse("trade ~ log(x) | exporter").unwrap();
        let e = fit(&ds, &f, &PpmlOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("log(x)"), "{e}");
        let f = Formula::parse("trade ~ nope | exporter").unwrap();
        let e = fit(&ds, &f, &PpmlOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no column named 'nope'"), "{e}");
    }
}
