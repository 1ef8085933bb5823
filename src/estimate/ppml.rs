//! Poisson pseudo-maximum likelihood with high-dimensional fixed effects.
//!
//! The model (Santos Silva & Tenreyro 2006; MODEL.md §4) is
//! `E[y_i | x_i] = exp(x_i'β + Σ_g α_g[f_g(i)] + o_i)` with offset `o`. The estimator solves the
//! Poisson score equations `Σ_i (y_i − μ_i) x_i = 0` and `Σ_{i: f_g(i)=l} (y_i − μ_i) = 0` for
//! every level `l` of every dimension `g`. [`fit`] runs five steps, each a function here:
//!
//! 1. `Design::build`: the estimation sample (subset filter, outcome, regressors, offset,
//!    fixed-effect and cluster factors), with every input error named by row and column.
//! 2. `separate`: drops separated observations (`separation`: all-zero fixed-effect
//!    levels, then the iterative rectifier for separation by regressors), and singletons on
//!    request.
//! 3. `irls`: iteratively reweighted least squares. At each step, with weights `w = μ` and
//!    working variable `z = η − o + (y − μ)/μ`, it partials the fixed effects out of `z` and `X`
//!    by weighted alternating projections (`demean`, all columns in one pass) and
//!    solves `β = (X̃'WX̃)⁻¹ X̃'W z̃` (Frisch–Waugh–Lovell), then updates
//!    `η = z − (z̃ − X̃β) + o`. This is the ppmlhdfe algorithm (Correia, Guimarães & Zylkin
//!    2020) as implemented in fixest (Bergé 2018) and pyfixest: start at `μ = (y + ȳ)/2`, stop
//!    when the deviance `D = 2 Σ [y log(y/μ) − (y − μ)]` changes by less than
//!    `tol · (0.1 + |D_old|)`. Regressors collinear with the fixed effects or with other
//!    regressors are dropped with a warning.
//! 4. `vcov::vcov`: the sandwich variance from the last IRLS step.
//! 5. `recover_fixed_effects`: `α = α_z − Σ_j β_j α_xj`, normalised.

use super::data::{format_number, Column, Dataset, Factor};
use super::demean::{DemeanOptions, FixedEffects, Layout};
use super::formula::{Atom, Formula, Term};
use super::gram::{gram, weighted_products};
use super::separation::{self, ReluOptions, SeparationReport};
use super::vcov::{self, Ssc, VcovSpec};
use crate::error::{Error, Result, Solver};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use std::sync::Arc;

/// What a progress observer is told after each IRLS iteration.
#[derive(Debug, Clone, Copy)]
pub struct IrlsProgress {
    /// Iterations done (1-based).
    pub iteration: usize,
    /// The iteration limit.
    pub max_iter: usize,
    /// Relative deviance change of this iteration (the convergence criterion).
    pub criterion: f64,
    /// The target of the criterion.
    pub tol: f64,
    /// Alternating-projection sweeps of this iteration.
    pub sweeps: usize,
}

/// An observer called after every IRLS iteration (e.g. to move a progress bar).
#[derive(Clone)]
pub struct ProgressHook(pub Arc<dyn Fn(&IrlsProgress) + Send + Sync>);

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHook")
    }
}

/// Settings of a PPML fit. Build with `PpmlOptions::default()` and adjust fields.
#[derive(Debug, Clone)]
pub struct PpmlOptions {
    /// Keep only the rows where this filter expression holds (the syntax of [`Dataset::filter_mask`]).
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
    /// Demean loosely while the IRLS is far from its solution, ppmlhdfe's schedule
    /// (`clamp(10⁻¹ · last deviance change, demean.tol, 10⁻²)`), and demean a step that is
    /// expected to be the last at `demean.tol` from the start, instead of the cautious default
    /// (see `inner_tolerance`). The last step is always demeaned at `demean.tol`, so the
    /// estimates agree with the cautious schedule to about 1e-13 (standard errors about 5e-7,
    /// the IRLS tolerance's own scale), in a quarter to a third of the sweeps fewer. Off by
    /// default, which keeps every fit that builds data (the world's gravity fit) bit for bit;
    /// the `estimate` command turns it on.
    pub loose_inner: bool,
    /// Also drop observations alone in a fixed-effect level (the default of pyfixest,
    /// `fixef_rm="singleton"`, and of ppmlhdfe). fixest keeps them, and so does the default here:
    /// they do not change the estimates, only N and the small-sample correction.
    pub drop_singletons: bool,
    /// Run the iterative rectifier (`separation::relu_check`) after the fixed-effect rule, to
    /// find separation by regressors (ppmlhdfe's default; pyfixest's `separation_check=["fe",
    /// "ir"]`). On by default.
    pub relu: bool,
    /// Return a fit that did not converge within `max_iter` (flagged `converged: false`, with a
    /// warning) instead of an error.
    pub allow_unconverged: bool,
    /// Called after every IRLS iteration.
    pub progress: Option<ProgressHook>,
    /// Leave out the rows (kept by `subset`) with a missing value in a column the model uses —
    /// the outcome, the regressors, the offset, the fixed effects and the clusters — as fixest
    /// and pyfixest do, counted per column in [`PpmlFit::missing`]. A missing value is NaN in a
    /// numeric column and a missing value of the data's [`super::data::NaValues`] (by default
    /// empty, `NA`, `.`, …) in a text one. Off by default,
    /// which keeps every fit that builds data (the world's gravity fit) as it was: a missing
    /// value is an error naming its row. The `estimate` command turns it on.
    pub drop_missing: bool,
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
            loose_inner: false,
            drop_singletons: false,
            relu: true,
            allow_unconverged: false,
            progress: None,
            drop_missing: false,
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
    /// Rows (kept by the subset filter) left out for a missing value in a column the model uses
    /// (with [`PpmlOptions::drop_missing`]).
    pub dropped_missing: usize,
    /// Of those rows, how many miss a value in each column, in the order the model names the
    /// columns (outcome, regressors, offset, fixed effects, clusters); only columns with some.
    /// A row missing two values counts in both columns.
    pub missing: Vec<(String, usize)>,
    /// Observations dropped as separated, by either rule (`separated_by_relu` of them by the
    /// iterative rectifier).
    pub dropped_separation: usize,
    /// Number of all-zero groups per fixed-effect dimension that caused separation drops.
    pub separated_groups: Vec<(String, usize)>,
    /// Observations dropped by the iterative rectifier (separation by regressors).
    pub separated_by_relu: usize,
    /// The separation checks in detail.
    pub separation: SeparationReport,
    /// Observations dropped as singletons (only with `drop_singletons`).
    pub dropped_singletons: usize,
    /// Regressors dropped as collinear (with the fixed effects or other regressors).
    pub collinear: Vec<String>,
    /// Warnings for the user (collinearity, separation counts, non-convergence).
    pub warnings: Vec<String>,
    /// IRLS iterations.
    pub iterations: usize,
    /// Final deviance.
    pub deviance: f64,
    /// Whether the IRLS met its tolerance. False only with `allow_unconverged` (otherwise a
    /// fit that does not converge is an error).
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

/// The first `k < n` (in order, as a sequential scan finds it) where `bad(k)` holds. The rows
/// are checked on every core in stretches of 65,536, each stretch by a plain loop: rayon's
/// `position_first` on single elements pays its bookkeeping on every element (4.5 ms for
/// 800,000 values, against well under 1 ms here).
fn first_where(n: usize, bad: impl Fn(usize) -> bool + Sync) -> Option<usize> {
    const STRETCH: usize = 1 << 16;
    (0..n.div_ceil(STRETCH))
        .into_par_iter()
        .find_map_first(|c| (c * STRETCH..n.min((c + 1) * STRETCH)).find(|&k| bad(k)))
}

/// Values of a term on the given rows; checks finiteness and the domain of `log`.
fn term_values(ds: &Dataset, term: &Term, rows: &[usize], what: &str) -> Result<Vec<f64>> {
    // The product of the atoms, starting from the first atom's values (`1 · v` is `v`, so
    // the bits are those of the product from 1): one pass and one first touch fewer.
    let mut out: Vec<f64> = Vec::new();
    for (a, atom) in term.atoms.iter().enumerate() {
        if matches!(atom, Atom::Levels { .. }) {
            return Err(Error::invalid(
                format!("{what} '{}'", term.name()),
                "i() makes several regressors, so it cannot be an offset",
            ));
        }
        let name = atom.column();
        let col = ds.require(name, &format!("{what} '{}'", term.name()))?;
        let v = match col {
            Column::Numeric(v) => v,
            Column::Text(t) => {
                return Err(ds.text_used_as_numbers(
                    name,
                    &format!("{what} '{}'", term.name()),
                    t,
                    "use it as a fixed effect (after '|') instead",
                ))
            }
        };
        // The first row in order that the atom cannot take, as a sequential scan would find it.
        let log = matches!(atom, Atom::Log(_));
        if let Some(k) = first_where(rows.len(), |k| {
            let x = v[rows[k]];
            !x.is_finite() || (log && x <= 0.0)
        }) {
            let i = rows[k];
            let x = v[i];
            return Err(ds.row_error(
                i,
                if x.is_finite() {
                    format!("log({name}) of {x}: not positive; exclude such rows with the `subset` filter '{name} > 0'")
                } else {
                    format!("column '{name}' (in {what} '{}') is empty or not finite; remove the row with a `subset` filter or fill the value", term.name())
                },
            ));
        }
        let value = |i: usize| if log { v[i].ln() } else { v[i] };
        if a == 0 {
            out = rows.par_iter().map(|&i| value(i)).collect();
        } else {
            out.par_iter_mut()
                .zip(rows)
                .for_each(|(o, &i)| *o *= value(i));
        }
    }
    if term.atoms.is_empty() {
        out = rows.par_iter().map(|_| 1.0).collect();
    }
    Ok(out)
}

/// The most regressors one `i()` may make (a factor with more values is a fixed effect).
const MAX_LEVELS: usize = 1000;

/// The regressors of one term on `rows`, with their names: the term itself, or, for a term
/// with fixest's `i(factor, var, ref = …)` ([`Atom::Levels`]), one per value of `factor` on
/// those rows but the reference ones, in ascending order (numbers by value, text by its
/// characters): the product of the term's other atoms and `var` where `factor` takes the value,
/// 0 elsewhere, named `factor::value:var` as fixest names them.
fn regressors(ds: &Dataset, term: &Term, rows: &[usize]) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let Some(p) = term
        .atoms
        .iter()
        .position(|a| matches!(a, Atom::Levels { .. }))
    else {
        return Ok((
            vec![term.name()],
            vec![term_values(ds, term, rows, "regressor")?],
        ));
    };
    let Atom::Levels {
        factor,
        var,
        reference,
    } = &term.atoms[p]
    else {
        unreachable!("found above")
    };
    let what = format!("regressor '{}'", term.name());
    // The other atoms and `var`, multiplied as one term (none: 1).
    let mut base = term.atoms.clone();
    base.remove(p);
    base.extend(var.as_deref().cloned());
    let values = if base.is_empty() {
        None
    } else {
        Some(term_values(ds, &Term { atoms: base }, rows, "regressor")?)
    };
    // Each used row's value of the factor (its index in `levels`), and the values, spelled, in
    // ascending order.
    let (level_of, levels): (Vec<u32>, Vec<String>) = match ds.require(factor, &what)? {
        Column::Numeric(v) => {
            if let Some(k) = first_where(rows.len(), |k| !v[rows[k]].is_finite()) {
                return Err(ds.row_error(rows[k], format!("column '{factor}' (the factor of {what}) is empty or not finite; remove the row with a `subset` filter or fill the value")));
            }
            let mut vals: Vec<f64> = rows.iter().map(|&i| v[i]).collect();
            vals.sort_by(f64::total_cmp);
            vals.dedup();
            let code = |x: f64| vals.partition_point(|&l| l < x) as u32;
            let codes = rows.iter().map(|&i| code(v[i])).collect();
            (codes, vals.iter().map(|&x| format_number(x)).collect())
        }
        Column::Text(t) => {
            let mut order: Vec<u32> = rows.iter().map(|&i| t.codes()[i]).collect();
            order.sort_unstable();
            order.dedup();
            order.sort_by(|&a, &b| t.labels()[a as usize].cmp(&t.labels()[b as usize]));
            let mut rank = vec![0u32; t.labels().len()];
            for (r, &c) in order.iter().enumerate() {
                rank[c as usize] = r as u32;
            }
            let codes = rows.iter().map(|&i| rank[t.codes()[i] as usize]).collect();
            (
                codes,
                order
                    .iter()
                    .map(|&c| t.labels()[c as usize].clone())
                    .collect(),
            )
        }
    };
    if let Some(r) = reference.iter().find(|r| !levels.contains(r)) {
        return Err(Error::invalid(
            what,
            format!(
                "ref = {r} is not a value of '{factor}' on the rows used; its values are: {}",
                levels.join(", ")
            ),
        ));
    }
    let kept: Vec<usize> = (0..levels.len())
        .filter(|&l| !reference.contains(&levels[l]))
        .collect();
    if kept.is_empty() {
        return Err(Error::invalid(
            what,
            format!("every value of '{factor}' is a reference value: no regressor is left; leave one out of `ref`"),
        ));
    }
    if kept.len() > MAX_LEVELS {
        return Err(Error::invalid(
            what,
            format!("'{factor}' has {} values on the rows used, which would make as many regressors (at most {MAX_LEVELS}); absorb it as a fixed effect after '|' instead", kept.len()),
        ));
    }
    // The name of each regressor: the term's atoms, `i()` written `factor::value:var`.
    let name = |level: &str| {
        term.atoms
            .iter()
            .map(|a| match a {
                Atom::Levels { var, .. } => match var {
                    Some(v) => format!("{factor}::{level}:{v}"),
                    None => format!("{factor}::{level}"),
                },
                a => a.to_string(),
            })
            .collect::<Vec<_>>()
            .join(":")
    };
    let names = kept.iter().map(|&l| name(&levels[l])).collect();
    let columns = kept
        .iter()
        .map(|&l| {
            let l = l as u32;
            (0..rows.len())
                .into_par_iter()
                .map(|k| {
                    if level_of[k] != l {
                        0.0
                    } else {
                        values.as_ref().map_or(1.0, |v| v[k])
                    }
                })
                .collect()
        })
        .collect();
    Ok((names, columns))
}

/// Keeps the elements of `v` where `keep` holds, in place and in order.
fn retain_rows<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut i = 0;
    v.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// Re-codes a factor on a subset of its observations, in place, dropping levels that disappear
/// and keeping the (sorted) order of the others.
fn restrict(f: &mut Factor, keep: &[bool]) {
    let mut present = vec![false; f.nlevels()];
    for (&c, &k) in f.codes.iter().zip(keep) {
        if k {
            present[c as usize] = true;
        }
    }
    let mut map = vec![u32::MAX; f.nlevels()];
    let mut next = 0u32;
    for (m, &p) in map.iter_mut().zip(&present) {
        if p {
            *m = next;
            next += 1;
        }
    }
    let mut l = 0;
    f.labels.retain(|_| {
        l += 1;
        present[l - 1]
    });
    retain_rows(&mut f.codes, keep);
    for c in f.codes.iter_mut() {
        *c = map[*c as usize];
    }
}

/// The estimation sample: every column the fit needs, on the rows that enter it.
pub(crate) struct Design {
    /// Outcome `y`.
    pub y: Vec<f64>,
    /// Regressors `X`, one vector per column (an intercept when there is no fixed effect).
    pub x: Vec<Vec<f64>>,
    /// Names of the columns of `x`.
    pub names: Vec<String>,
    /// Offset `o` (`None` without one: `o = 0`, no vector of zeros).
    pub offset: Option<Vec<f64>>,
    /// Fixed-effect factors, recoded on these rows.
    pub factors: Vec<Factor>,
    /// Cluster factors, recoded on these rows (a cluster that is also a fixed effect is that
    /// factor, not a copy).
    pub clusters: Vec<Cluster>,
    /// Input row of each observation.
    pub rows: Vec<usize>,
    /// Rows excluded by the subset filter.
    pub excluded_by_subset: usize,
    /// Rows left out for a missing value ([`PpmlFit::dropped_missing`]).
    pub dropped_missing: usize,
    /// Their count per column ([`PpmlFit::missing`]).
    pub missing: Vec<(String, usize)>,
    /// Warnings about the values read as missing ([`iso2_namibia_warning`]).
    pub missing_warnings: Vec<String>,
}

/// A cluster variable of the design.
pub(crate) enum Cluster {
    /// A factor of its own.
    Own(Factor),
    /// The same as the fixed effect `Design::factors[g]` (the usual pair cluster of a gravity
    /// fit), kept once.
    FixedEffect(usize),
}

impl Design {
    /// The cluster factors, in the order of `PpmlOptions::cluster`.
    pub(crate) fn cluster_factors(&self) -> Vec<&Factor> {
        self.clusters
            .iter()
            .map(|c| match c {
                Cluster::Own(f) => f,
                Cluster::FixedEffect(g) => &self.factors[*g],
            })
            .collect()
    }

    /// Step 1: reads the formula's columns from `ds` on the rows the subset filter keeps.
    pub(crate) fn build(ds: &Dataset, formula: &Formula, opts: &PpmlOptions) -> Result<Design> {
        let n_all = ds.nrows();
        // The vectors of N values here are filled in parallel: their first touch (page faults)
        // is then shared by the cores.
        let rows: Vec<usize> = match &opts.subset {
            Some(f) => {
                let mask = ds.filter_mask(f)?;
                (0..n_all).filter(|&i| mask[i]).collect()
            }
            None => (0..n_all).into_par_iter().collect(),
        };
        let excluded_by_subset = n_all - rows.len();
        if rows.is_empty() {
            return Err(Error::invalid(
                "`subset`",
                "no rows left after the subset filter",
            ));
        }
        let Complete {
            rows,
            dropped: dropped_missing,
            missing,
            warnings: missing_warnings,
        } = if opts.drop_missing {
            without_missing(ds, &model_columns(formula, opts), rows, excluded_by_subset)?
        } else {
            Complete {
                rows,
                dropped: 0,
                missing: Vec::new(),
                warnings: Vec::new(),
            }
        };
        let ycol = ds.require(&formula.outcome, "the outcome of the formula")?;
        let yv = match ycol {
            Column::Numeric(yv) => yv,
            Column::Text(t) => {
                return Err(ds.text_used_as_numbers(
                    &formula.outcome,
                    &format!("outcome '{}'", formula.outcome),
                    t,
                    "the outcome must be a number (a trade flow) on every row",
                ))
            }
        };
        let y: Vec<f64> = rows.par_iter().map(|&i| yv[i]).collect();
        if let Some(k) = first_where(y.len(), |k| !y[k].is_finite() || y[k] < 0.0) {
            let v = y[k];
            return Err(ds.row_error(
                rows[k],
                format!(
                    "outcome '{o}' is {}: PPML needs a finite, non-negative outcome; remove the row with a `subset` filter{} or fill the value",
                    if v.is_nan() { "empty".to_string() } else { v.to_string() },
                    if v.is_infinite() { String::new() } else { format!(" ('{} >= 0' drops every row where it is empty or negative)", formula.outcome) },
                    o = formula.outcome,
                ),
            ));
        }
        let (mut names, mut x) = (Vec::new(), Vec::new());
        for t in &formula.terms {
            let (n, v) = regressors(ds, t, &rows)?;
            names.extend(n);
            x.extend(v);
        }
        if formula.fixed_effects.is_empty() {
            names.insert(0, "(Intercept)".to_string());
            x.insert(0, vec![1.0; rows.len()]);
        }
        let offset = match &opts.offset {
            Some(o) => Some(term_values(ds, &Term::parse(o)?, &rows, "offset")?),
            None => None,
        };
        let (factors, clusters) = factors(ds, formula, opts, &rows)?;
        Ok(Design {
            y,
            x,
            names,
            offset,
            factors,
            clusters,
            rows,
            excluded_by_subset,
            dropped_missing,
            missing,
            missing_warnings,
        })
    }

    /// The observations where `keep` holds, factors recoded to the levels that remain. Every
    /// column is compacted in place (no second copy of the sample).
    pub(crate) fn restrict(mut self, keep: &[bool]) -> Design {
        if keep.iter().all(|&k| k) {
            return self;
        }
        // Every column compacted at once, each its own task.
        let Design {
            y,
            x,
            offset,
            rows,
            factors,
            clusters,
            ..
        } = &mut self;
        rayon::scope(|s| {
            s.spawn(|_| retain_rows(y, keep));
            s.spawn(|_| retain_rows(rows, keep));
            for c in x.iter_mut().chain(offset.as_mut()) {
                s.spawn(|_| retain_rows(c, keep));
            }
            let own = clusters.iter_mut().filter_map(|c| match c {
                Cluster::Own(f) => Some(f),
                Cluster::FixedEffect(_) => None,
            });
            for f in factors.iter_mut().chain(own) {
                s.spawn(|_| restrict(f, keep));
            }
        });
        self
    }

    /// Number of observations.
    pub(crate) fn nobs(&self) -> usize {
        self.y.len()
    }
}

/// The columns the model reads, each once, in order: the outcome, the regressors' columns (an
/// `i()`'s factor and variable included), the offset's, the fixed effects', the clusters'. An
/// offset that does not parse names no column here (its error comes where it always did).
fn model_columns(formula: &Formula, opts: &PpmlOptions) -> Vec<String> {
    let offset = opts.offset.as_deref().and_then(|o| Term::parse(o).ok());
    let mut cols: Vec<String> = Vec::new();
    let names = std::iter::once(formula.outcome.as_str())
        .chain(
            formula
                .terms
                .iter()
                .chain(&offset)
                .flat_map(|t| &t.atoms)
                .flat_map(Atom::columns),
        )
        .chain(formula.fixed_effects.iter().flatten().map(String::as_str))
        .chain(
            opts.cluster
                .iter()
                .flat_map(|c| c.split('^').map(str::trim)),
        );
    for c in names {
        if !cols.iter().any(|k| k == c) {
            cols.push(c.to_string());
        }
    }
    cols
}

/// The rows of a fit without those missing a value it uses, and what was left out.
struct Complete {
    rows: Vec<usize>,
    /// Rows left out.
    dropped: usize,
    /// Of those, how many miss a value in each column (see [`PpmlFit::missing`]).
    missing: Vec<(String, usize)>,
    /// What may have been read as missing by mistake ([`iso2_namibia_warning`]).
    warnings: Vec<String>,
}

/// A warning when the text column `name` (`missing`: which of its labels are missing values,
/// [`crate::estimate::data::TextColumn::missing_labels`]) reads `NA` as a missing value among values that are
/// all two-letter upper-case codes: `NA` is then most likely Namibia's ISO 3166 alpha-2 code,
/// and its rows are being left out of the fit. `None` otherwise (a column of ISO3 codes or
/// names, or `NA` not a missing marker under `--na-values`).
fn iso2_namibia_warning(
    name: &str,
    t: &crate::estimate::data::TextColumn,
    missing: &[bool],
    rows: &[usize],
) -> Option<String> {
    let labels = t.labels();
    let na = labels
        .iter()
        .zip(missing)
        .position(|(l, &m)| m && l == "NA")?;
    let codes: Vec<&String> = labels
        .iter()
        .zip(missing)
        .filter(|(_, &m)| !m)
        .map(|(l, _)| l)
        .collect();
    let iso2 = |l: &str| l.len() == 2 && l.bytes().all(|b| b.is_ascii_uppercase());
    if codes.len() < 2 || !codes.iter().all(|l| iso2(l)) {
        return None;
    }
    let codes_of = t.codes();
    let rows = rows.iter().filter(|&&i| codes_of[i] as usize == na).count();
    if rows == 0 {
        return None;
    }
    Some(format!(
        "column '{name}': {rows} row(s) hold `NA`, read as a missing value and left out, but every other value is a two-letter code ({}, …): if `NA` is Namibia (its ISO 3166 code), pass --na-values with the markers this file uses for missing values instead (e.g. --na-values '' for empty cells only, --na-values . for Stata's), or recode Namibia as NAM",
        codes.iter().take(3).map(|l| l.as_str()).collect::<Vec<_>>().join(", ")
    ))
}

/// `rows` without those where one of `columns` is missing ([`Column::is_missing`]); the number
/// left out and the count per column (only columns with some), in the order of `columns`. A
/// column the data do not have is passed over (its error comes where it is used). No row left
/// is an error naming the counts (and, when `excluded_by_subset`, that only the subset's rows
/// were looked at).
fn without_missing(
    ds: &Dataset,
    columns: &[String],
    rows: Vec<usize>,
    excluded_by_subset: usize,
) -> Result<Complete> {
    let mut missing = Vec::new();
    let mut warnings = Vec::new();
    let mut warned = std::collections::BTreeSet::new();
    let mut keep: Option<Vec<bool>> = None;
    for name in columns {
        let Some(col) = ds.column(name) else {
            continue;
        };
        // A text column's markers are found once per distinct value, not per row.
        let is_missing: Box<dyn Fn(usize) -> bool + Sync> = match col {
            Column::Numeric(v) => Box::new(move |i| v[i].is_nan()),
            Column::Text(t) => {
                let m = t.missing_labels();
                if !m.iter().any(|&b| b) {
                    continue;
                }
                // Once per column: an exporter and the exporter^year it makes are one column.
                if !warned.contains(name) {
                    if let Some(w) = iso2_namibia_warning(name, t, &m, &rows) {
                        warnings.push(w);
                        warned.insert(name.clone());
                    }
                }
                Box::new(move |i| m[t.codes()[i] as usize])
            }
        };
        if first_where(rows.len(), |k| is_missing(rows[k])).is_none() {
            continue;
        }
        let keep = keep.get_or_insert_with(|| vec![true; rows.len()]);
        let count = keep
            .par_iter_mut()
            .zip(&rows)
            .map(|(k, &i)| {
                let m = is_missing(i);
                *k &= !m;
                usize::from(m)
            })
            .sum();
        missing.push((name.clone(), count));
    }
    let Some(keep) = keep else {
        return Ok(Complete {
            rows,
            dropped: 0,
            missing,
            warnings,
        });
    };
    let before = rows.len();
    let rows: Vec<usize> = rows
        .into_iter()
        .zip(&keep)
        .filter_map(|(i, &k)| k.then_some(i))
        .collect();
    if rows.is_empty() {
        let source = ds
            .source()
            .map_or("the data".to_string(), |p| p.display().to_string());
        return Err(Error::invalid(
            source,
            format!(
                "every row{} is missing a value the model uses ({}); check that the model names the right columns and that the file marks missing values ({}) only where values are missing",
                if excluded_by_subset > 0 { " the subset filter keeps" } else { "" },
                missing_counts(&missing),
                ds.na_values().describe()
            ),
        ));
    }
    let dropped = before - rows.len();
    Ok(Complete {
        rows,
        dropped,
        missing,
        warnings,
    })
}

/// The counts of [`PpmlFit::missing`] as a note names them: `trade: 1, dist: 2`.
pub(crate) fn missing_counts(missing: &[(String, usize)]) -> String {
    missing
        .iter()
        .map(|(c, n)| format!("{c}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fixed-effect and cluster factors on `rows`: every column used is factorised once, in
/// parallel, then the interactions are built in parallel; errors come in formula order.
fn factors(
    ds: &Dataset,
    formula: &Formula,
    opts: &PpmlOptions,
    rows: &[usize],
) -> Result<(Vec<Factor>, Vec<Cluster>)> {
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
    cache.prefill(ds, &all_cols, rows, "fixed effects and clusters")?;
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
    // A factor named twice is built once: a cluster that is also a fixed effect (the usual
    // pair) refers to it, another repeat is a copy.
    let first = |k: usize| {
        specs
            .iter()
            .position(|(c, _)| *c == specs[k].0)
            .unwrap_or(k)
    };
    let built: Vec<Result<Factor>> = (0..specs.len())
        .into_par_iter()
        .map(|k| {
            let (cols, ctx) = &specs[k];
            if first(k) < k {
                return Ok(Factor::default());
            }
            Factor::from_columns_prepared(ds, cols, rows, ctx, &cache)
        })
        .collect();
    let mut built = built.into_iter().collect::<Result<Vec<Factor>>>()?;
    let nfe = formula.fixed_effects.len();
    for k in 0..built.len() {
        let j = first(k);
        if j < k && !(k >= nfe && j < nfe) {
            built[k] = built[j].clone();
        }
    }
    let clusters = built
        .split_off(nfe)
        .into_iter()
        .enumerate()
        .map(|(c, f)| match first(nfe + c) {
            g if g < nfe => Cluster::FixedEffect(g),
            _ => Cluster::Own(f),
        })
        .collect();
    Ok((built, clusters))
}

/// Step 2: drops separated observations (all-zero fixed-effect levels, then — with
/// `opts.relu` — the iterative rectifier) and, on request, singletons. Returns the remaining
/// sample and what was dropped.
pub(crate) fn separate(design: Design, opts: &PpmlOptions) -> Result<(Design, SeparationReport)> {
    let mut report = SeparationReport::default();
    let mut keep = vec![true; design.nobs()];
    separation::fixed_effect_check(
        &design.y,
        &design.factors,
        &mut keep,
        opts.drop_singletons,
        &mut report,
    );
    let mut design = design.restrict(&keep);
    if opts.relu && design.nobs() > 0 {
        let (separated, iterations, converged) = separation::relu_check(
            &design.y,
            &design.x,
            &design.factors,
            &ReluOptions::default(),
        )?;
        report.relu_iterations = iterations;
        report.relu_converged = converged;
        report.by_relu = separated.iter().filter(|&&s| s).count();
        if report.by_relu > 0 {
            let keep: Vec<bool> = separated.iter().map(|&s| !s).collect();
            design = design.restrict(&keep);
            // Dropping rows may empty a level or leave an all-zero one: apply rule 1 again.
            let mut keep = vec![true; design.nobs()];
            let mut again = SeparationReport::default();
            separation::fixed_effect_check(
                &design.y,
                &design.factors,
                &mut keep,
                opts.drop_singletons,
                &mut again,
            );
            report.by_fixed_effects += again.by_fixed_effects;
            report.singletons += again.singletons;
            for (g, a) in report.groups.iter_mut().zip(again.groups) {
                *g += a;
            }
            design = design.restrict(&keep);
        }
    }
    Ok((design, report))
}

/// The IRLS starting point (ppmlhdfe's): the means `μ = (y + ȳ)/2`, the working variable
/// `z = ln μ − o + y/μ − 1`, `ln y` where `y > 0` (0 elsewhere: the deviance of every later
/// step needs no logarithm of `y`), and the Poisson deviance `2 Σ [y ln(y/μ) − (y − μ)]` of
/// these means (the terms with `y = 0` are `μ`). One parallel pass over fixed chunks, each
/// chunk's deviance terms summed in order and the chunks in order, so the result does not
/// depend on the thread count. Returns `(μ, z, ln y, deviance)`.
fn starting_point(
    y: &[f64],
    offset: Option<&[f64]>,
    spare: &mut Spare,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, f64) {
    const CHUNK: usize = 1 << 16;
    let n = y.len();
    let ybar = y.iter().sum::<f64>() / n as f64;
    // Spare memory, or zero-filled by the allocator (untouched pages): every element written
    // below, on every core.
    let (mut mu, mut z, mut ln_y) = (spare.take(n), spare.take(n), spare.take(n));
    let parts: Vec<f64> = mu
        .par_chunks_mut(CHUNK)
        .zip(z.par_chunks_mut(CHUNK))
        .zip(ln_y.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(c, ((mc, zc), lc))| {
            let lo = c * CHUNK;
            let yc = &y[lo..lo + mc.len()];
            for (t, &yk) in yc.iter().enumerate() {
                let m = (yk + ybar) / 2.0;
                let o = offset.map_or(0.0, |o| o[lo + t]);
                mc[t] = m;
                zc[t] = m.ln() - o + yk / m - 1.0;
                lc[t] = if yk > 0.0 { yk.ln() } else { 0.0 };
            }
            yc.iter()
                .zip(mc.iter())
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
    let deviance = 2.0 * parts.iter().sum::<f64>();
    (mu, z, ln_y, deviance)
}

/// The means `μ = exp(η)` of the linear predictor `η = z − r + o` (working variable `z`,
/// working residual `r = z̃ − X̃β`, offset `o`, 0 when `None`) written into `mu`, and the Poisson deviance
/// `2 Σ [y (ln y − η) − (y − μ)]` (the terms with `y = 0` are `μ`), which is [`deviance`] with
/// `ln(y/μ) = ln y − η`: no logarithm per row, `ln y` given in `ln_y`. Summed in fixed chunks
/// in order, so the result does not depend on the thread count.
fn means_and_deviance(
    z: &[f64],
    r: &[f64],
    o: Option<&[f64]>,
    y: &[f64],
    ln_y: &[f64],
    mu: &mut [f64],
) -> f64 {
    const CHUNK: usize = 1 << 16;
    // One chunk: first the means (a loop around `exp` alone), then the deviance terms in
    // order, without a branch (with y = 0 the first form is `±0 + μ = μ` too, but the
    // selection keeps the documented form). `o_at` is the offset of row k (0 without one).
    fn chunk(
        lo: usize,
        mc: &mut [f64],
        z: &[f64],
        r: &[f64],
        o_at: impl Fn(usize) -> f64,
        y: &[f64],
        ln_y: &[f64],
    ) -> f64 {
        let hi = lo + mc.len();
        let eta = |k: usize| z[k] - r[k] + o_at(k);
        for (k, m) in (lo..hi).zip(mc.iter_mut()) {
            *m = eta(k).exp();
        }
        let mut d = 0.0;
        for (k, &m) in (lo..hi).zip(mc.iter()) {
            let yk = y[k];
            let positive = yk * (ln_y[k] - eta(k)) - (yk - m);
            d += if yk > 0.0 { positive } else { m };
        }
        d
    }
    let parts: Vec<f64> = mu
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, mc)| match o {
            Some(o) => chunk(c * CHUNK, mc, z, r, |k| o[k], y, ln_y),
            None => chunk(c * CHUNK, mc, z, r, |_| 0.0, y, ln_y),
        })
        .collect();
    2.0 * parts.iter().sum::<f64>()
}

/// `X'WX` and `X'Wz` for column-major `x`, each entry a sum in row order, side by side.
fn cross(x: &[Vec<f64>], w: &[f64], z: &[f64]) -> (DMatrix<f64>, DVector<f64>) {
    weighted_products(x, w, Some(z))
}

/// The relative size below which a demeaned regressor counts as collinear
/// ([`non_collinear`]).
const COLLINEAR_TOL: f64 = 1e-9;

/// Below this margin ([`Collinearity::margin`]) a collinearity judgement made on loosely
/// demeaned columns is not trusted: the regressors are demeaned again at the requested
/// tolerance and judged anew. The regressors of the usual gravity models keep 10–30% of their
/// weighted sum of squares after the fixed effects (`rta` with exporter-year, importer-year and
/// pair effects: 0.13–0.22); one the fixed effects explain wholly keeps the projection's error.
const SUSPECT_MARGIN: f64 = 1e-2;

/// What [`non_collinear`] found.
struct Collinearity {
    /// Indices of the regressors to keep.
    keep: Vec<usize>,
    /// The smallest of the kept regressors' ratios `Σw x̃² / Σw x²` and pivot ratios
    /// `d_j / (X̃'WX̃)_jj` (1 when none is kept): how far the closest call was from `tol`.
    margin: f64,
}

impl Collinearity {
    /// The regressors not kept, as their entries of `active` (the columns judged, in order).
    fn dropped<'a>(&'a self, active: &'a [usize]) -> impl Iterator<Item = usize> + 'a {
        (0..active.len())
            .filter(|a| !self.keep.contains(a))
            .map(|a| active[a])
    }
}

/// Finds regressors collinear with the fixed effects (`Σw x̃² ≤ tol · Σw x²`) or with earlier
/// regressors (pivot of a sequential Cholesky factorisation of `X̃'WX̃` below `tol` times the
/// diagonal), given `g = X̃'WX̃`.
///
/// Demeaned columns `x̃ = x − Dα` whose projection stopped early carry its error `D(α* − α)`,
/// which is W-orthogonal to the exact residual: `Σw x̃² = Σw x̃*² + Σw (D(α* − α))²`. So a
/// loosely demeaned column can only look *less* collinear than it is: a drop is always right,
/// a keep is trustworthy only at the requested tolerance (or with a wide [`Collinearity::margin`]).
fn non_collinear(x_raw: &[&[f64]], g: &DMatrix<f64>, w: &[f64], tol: f64) -> Collinearity {
    let k = x_raw.len();
    let mut keep: Vec<usize> = Vec::new();
    let mut margin = 1.0f64;
    // L factor of kept columns, row-major by kept index.
    let mut l: Vec<Vec<f64>> = Vec::new();
    for j in 0..k {
        let raw = weighted_square_sum(x_raw[j], w);
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
        margin = margin.min(g[(j, j)] / raw).min(d / g[(j, j)]);
        row.push(d.sqrt());
        l.push(row);
        keep.push(j);
    }
    Collinearity { keep, margin }
}

/// `Σ_i w_i x_i²`, summed in fixed chunks on all cores (the chunks added in order, so the
/// number does not depend on the thread count). Used only to judge collinearity.
fn weighted_square_sum(x: &[f64], w: &[f64]) -> f64 {
    const CHUNK: usize = 1 << 16;
    let parts: Vec<f64> = x
        .par_chunks(CHUNK)
        .zip(w.par_chunks(CHUNK))
        .map(|(xc, wc)| xc.iter().zip(wc).map(|(x, w)| x * x * w).sum::<f64>())
        .collect();
    parts.iter().sum()
}

/// The last IRLS step and what the variance and the fixed effects need from it.
pub(crate) struct IrlsSolution {
    /// Indices (into [`Design::x`]) of the regressors kept (not collinear).
    pub active: Vec<usize>,
    /// `β`, aligned with `active`.
    pub beta: DVector<f64>,
    /// Demeaned regressors `X̃` of the last step, aligned with `active`.
    pub x_dm: Vec<Vec<f64>>,
    /// IRLS weights `w = μ` of the last step.
    pub w: Vec<f64>,
    /// Working residuals `z̃ − X̃β` of the last step.
    pub resid: Vec<f64>,
    /// Fixed-effect coefficients of the demeaned working variable, `α_z`.
    pub alpha_z: Vec<f64>,
    /// Fixed-effect coefficients of each demeaned regressor, `α_xj` (indexed like `Design::x`).
    pub alpha_x: Vec<Vec<f64>>,
    /// Fitted means `μ`.
    pub mu: Vec<f64>,
    pub iterations: usize,
    pub deviance: f64,
    /// The last convergence criterion, the relative change of the deviance.
    pub criterion: f64,
    pub converged: bool,
    pub demean_sweeps: Vec<usize>,
    /// Names of regressors dropped as collinear, in formula order.
    pub collinear: Vec<String>,
    /// Their indices into [`Design::x`].
    pub collinear_idx: Vec<usize>,
    /// Regressors kept by the first step's judgement (made on loosely demeaned columns) but
    /// collinear on the last step's: [`irls`] fits again without them.
    pub late_collinear: Vec<usize>,
}

/// The inner (demeaning) tolerance of an IRLS step whose previous step changed the deviance by
/// `last_crit`, and the one before by `prev_crit` (relative; infinite before there was such a
/// step); `tol` is the IRLS tolerance on that change, `target` the requested inner tolerance.
///
/// Cautious (the default): `max(target, 10⁻⁷)` for the first step, then
/// `clamp(10⁻⁴ · last_crit, target, max(target, 10⁻⁵))`.
///
/// Loose (`loose`, [`PpmlOptions::loose_inner`]): `clamp(10⁻¹ · last_crit, target,
/// max(target, 10⁻²))` from the first step (ppmlhdfe's factor), except that a step expected
/// to be the last is demeaned at `target` at once: when the deviance change, extrapolated at
/// the last step's rate of convergence, `last_crit · (last_crit / prev_crit)`, is below `tol`.
/// This saves the step redone at `target` after a loose one met `tol` (one weighted least
/// squares, one `exp` pass and a few sweeps); when the guess is wrong the step is merely
/// demeaned more tightly than it needed. Against the cautious schedule it cuts the sweeps at
/// 800,000 rows from 78 to 42 (9 IRLS steps to 8) and moves the estimates by 1e-13 and the
/// standard errors by about 5e-7, the scale of the IRLS tolerance itself (pyfixest's own
/// standard error is 2.7e-7 from a fit at `tol = 10⁻¹³`). It is not the library default
/// because it also moves the world build's gravity fit in its last digits, which flips a tie in
/// `data/apac-americas-2014/BUILD.md` (the extreme pair at a cap), a shipped file.
fn inner_tolerance(last_crit: f64, prev_crit: f64, tol: f64, target: f64, loose: bool) -> f64 {
    if loose {
        // Before two steps there is no rate to extrapolate (`prev_crit` infinite).
        let expected = last_crit * (last_crit / prev_crit);
        if prev_crit.is_finite() && expected < tol {
            target
        } else {
            (last_crit * 1e-1).clamp(target, target.max(1e-2))
        }
    } else if last_crit.is_infinite() {
        target.max(1e-7)
    } else {
        (last_crit * 1e-4).clamp(target, target.max(1e-5))
    }
}

/// Step 3: iteratively reweighted least squares (see the module documentation).
///
/// Every vector of length N lives for the whole fit and is reused by every iteration: the
/// working variable `z`, the weights `w` and the means `μ` (swapped at the start of a step:
/// the step's weights are the last step's means), the demeaned columns `z̃, X̃` (their residual
/// `z̃ − X̃β` formed in place), and the demeaning's scratch. `η` is never stored: the new
/// `η = z − (z̃ − X̃β) + o` is formed row by row where `μ = exp(η)` and the next `z` need it.
///
/// Regressors collinear with the fixed effects or with each other are found at the first step
/// ([`non_collinear`]). When that step was demeaned loosely ([`inner_tolerance`]) and a
/// regressor came close to the line, the regressors are demeaned again at the requested
/// tolerance before they are judged; when none did, the judgement is checked once more on the
/// last step, which is demeaned at the requested tolerance, and a regressor found collinear only
/// then is dropped and the fit run again without it (its coefficient would be noise, and it
/// would have steered the steps before). A fit that stops early on a singular `X'WX`, or does
/// not converge, is judged on its regressors demeaned on to the requested tolerance.
pub(crate) fn irls(d: &Design, opts: &PpmlOptions, spare: Spare) -> Result<IrlsSolution> {
    irls_with_margin(d, opts, spare, SUSPECT_MARGIN)
}

/// [`irls`] with the margin below which a loose first judgement of collinearity is redone at
/// the requested tolerance (0: never, which leaves it all to the check on the last step).
fn irls_with_margin(
    d: &Design,
    opts: &PpmlOptions,
    spare: Spare,
    suspect_margin: f64,
) -> Result<IrlsSolution> {
    let mut sol = irls_without(d, opts, spare, &[], suspect_margin)?;
    // Each run drops at least one more regressor, so this ends.
    while !sol.late_collinear.is_empty() {
        let mut dropped = std::mem::take(&mut sol.late_collinear);
        dropped.extend(&sol.collinear_idx);
        dropped.sort_unstable();
        sol = irls_without(d, opts, Spare::default(), &dropped, suspect_margin)?;
    }
    Ok(sol)
}

/// [`irls`], with the regressors `dropped` (indices into [`Design::x`]) left out from the
/// start as collinear.
fn irls_without(
    d: &Design,
    opts: &PpmlOptions,
    mut spare: Spare,
    dropped: &[usize],
    suspect_margin: f64,
) -> Result<IrlsSolution> {
    use super::demean::DemeanScratch;
    let n = d.nobs();
    let (y, offset, factors, names) = (&d.y, d.offset.as_deref(), &d.factors, &d.names);
    // The offset of row k (0 without one: the same bits as adding a vector of zeros).
    let o_at = |k: usize| offset.map_or(0.0, |o| o[k]);
    let (mut mu, mut z, ln_y, mut last) = starting_point(y, offset, &mut spare);
    // The first step's means are written over it whole (the weights are swapped in).
    let mut w: Vec<f64> = spare.take(n);
    let mut active: Vec<usize> = (0..d.x.len()).filter(|j| !dropped.contains(j)).collect();
    let ncoef_fe: usize = factors.iter().map(|f| f.nlevels()).sum();
    let mut alpha_z = vec![0.0; ncoef_fe];
    let mut alpha_x: Vec<Vec<f64>> = vec![vec![0.0; ncoef_fe]; d.x.len()];
    // z̃ then the active X̃, in `active` order; dm[0] becomes the working residual. Every row
    // is written by the demeaning before it is read.
    let mut dm: Vec<Vec<f64>> = (0..1 + d.x.len()).map(|_| spare.take(n)).collect();
    let mut scratch = DemeanScratch::default();
    let mut collinear_idx: Vec<usize> = dropped.to_vec();
    // Whether the first step's collinearity judgement rests on loosely demeaned columns
    // (then it is checked again on the last step).
    let mut judged_loosely = false;
    // X̃'WX̃ of the last step's weighted least squares.
    let mut last_xtx = DMatrix::zeros(0, 0);
    // Whether the last step was demeaned at the requested tolerance.
    let mut last_at_target = false;
    let mut converged = false;
    let mut iterations = 0;
    let mut demean_sweeps = Vec::new();
    let mut last_crit = f64::INFINITY;
    let mut prev_crit = f64::INFINITY;
    let mut dev = last;
    let mut beta = DVector::zeros(0);
    // The factors' layout (blocks of rows, runs), built at the first step and reused.
    let mut layout: Option<Layout> = None;
    // A singular X'WX met after a loose first judgement (the error, kept until the regressors
    // have been judged again on tightly demeaned columns).
    let mut singular: Option<Error> = None;
    'steps: for it in 0..opts.max_iter {
        iterations = it + 1;
        // This step's weights are the last step's means; `mu` receives the new means.
        std::mem::swap(&mut w, &mut mu);
        let fe = FixedEffects::with_layout(
            factors,
            &w,
            layout.take().unwrap_or_else(|| Layout::new(factors, n)),
        );
        // Adaptive inner tolerance (as ppmlhdfe): loose while the IRLS is far from its solution,
        // tighter as the deviance settles ([`inner_tolerance`]). When the deviance criterion is
        // met after a loosely demeaned step, the step is redone at the requested tolerance
        // (warm-started, cheap), so the reported solution always comes from a step demeaned at
        // `opts.demean.tol`.
        let target = opts.demean.tol;
        let mut inner = DemeanOptions {
            tol: inner_tolerance(last_crit, prev_crit, opts.tol, target, opts.loose_inner),
            ..opts.demean
        };
        if factors.is_empty() {
            inner.tol = target;
        }
        let crit = loop {
            // z and the active regressors, demeaned together (one pass over the data per
            // projection), each warm-started from its coefficients of the last iteration.
            let mut cols: Vec<&[f64]> = vec![&z];
            cols.extend(active.iter().map(|&j| d.x[j].as_slice()));
            let mut alphas: Vec<Vec<f64>> = std::iter::once(std::mem::take(&mut alpha_z))
                .chain(active.iter().map(|&j| std::mem::take(&mut alpha_x[j])))
                .collect();
            let ncols = cols.len();
            let demeaned =
                fe.demean_into(&cols, &mut alphas, &mut dm[..ncols], &inner, &mut scratch);
            let mut back = alphas.into_iter();
            alpha_z = back.next().unwrap_or_default();
            for (&j, a) in active.iter().zip(back) {
                alpha_x[j] = a;
            }
            demean_sweeps.push(demeaned?);
            if it == 0 && !active.is_empty() && demean_sweeps.len() == 1 {
                let raw: Vec<&[f64]> = active.iter().map(|&j| d.x[j].as_slice()).collect();
                let mut found = non_collinear(&raw, &gram(&dm[1..ncols], &w), &w, COLLINEAR_TOL);
                if inner.tol > target && found.margin < suspect_margin {
                    // A close call on loosely demeaned columns: the regressors alone are
                    // demeaned on (warm-started) to the requested tolerance, then judged.
                    let mut ax: Vec<Vec<f64>> = active
                        .iter()
                        .map(|&j| std::mem::take(&mut alpha_x[j]))
                        .collect();
                    let tight = DemeanOptions {
                        tol: target,
                        ..inner
                    };
                    let more =
                        fe.demean_into(&raw, &mut ax, &mut dm[1..ncols], &tight, &mut scratch);
                    for (&j, a) in active.iter().zip(ax) {
                        alpha_x[j] = a;
                    }
                    if let Some(s) = demean_sweeps.last_mut() {
                        *s += more?;
                    }
                    found = non_collinear(&raw, &gram(&dm[1..ncols], &w), &w, COLLINEAR_TOL);
                } else {
                    judged_loosely = inner.tol > target;
                }
                collinear_idx.extend(found.dropped(&active));
                let keep_idx = found.keep;
                if keep_idx.len() < active.len() {
                    // Move the kept columns to the front of dm[1..], in order.
                    for (to, &from) in keep_idx.iter().enumerate() {
                        dm.swap(1 + to, 1 + from);
                    }
                    active = keep_idx.iter().map(|&a| active[a]).collect();
                }
            }
            let (z_dm, x_dm) = dm.split_at_mut(1);
            let x_dm = &x_dm[..active.len()];
            let resid = &mut z_dm[0];
            // Weighted least squares on the demeaned data.
            beta = if active.is_empty() {
                DVector::zeros(0)
            } else {
                let (xtx, xtz) = cross(x_dm, &w, resid);
                last_xtx.clone_from(&xtx);
                let Some(chol) = xtx.cholesky() else {
                    let e = Error::invalid(
                        format!("IRLS iteration {iterations}"),
                        format!(
                            "X'WX is not positive definite (regressors nearly collinear: {})",
                            active
                                .iter()
                                .map(|&j| names[j].as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    if !judged_loosely {
                        return Err(e);
                    }
                    singular = Some(e);
                    break 'steps;
                };
                chol.solve(&xtz)
            };
            // The working residual z̃ − X̃β, in place.
            for (a, col) in x_dm.iter().enumerate() {
                let b = beta[a];
                resid.par_iter_mut().zip(col).for_each(|(r, x)| *r -= b * x);
            }
            // μ = exp(η), η = z − (z̃ − X̃β) + o, into `mu`, and the deviance in the same pass.
            dev = means_and_deviance(&z, resid, offset, y, &ln_y, &mut mu);
            if !dev.is_finite() {
                return Err(Error::invalid(
                    format!("IRLS iteration {iterations}"),
                    "the deviance is not finite (fitted values overflow); check for extreme regressor values",
                ));
            }
            let crit = (dev - last).abs() / (0.1 + last.abs());
            if crit < opts.tol && inner.tol > target {
                inner.tol = target;
                continue;
            }
            break crit;
        };
        layout = Some(fe.into_layout());
        last_at_target = inner.tol <= target;
        // The next working variable z = η − o + (y − μ)/μ, from this step's η.
        z.par_iter_mut()
            .enumerate()
            .zip(&dm[0])
            .zip(y)
            .zip(&mu)
            .for_each(|((((k, z), r), y), m)| {
                let o = o_at(k);
                let eta = *z - r + o;
                *z = eta - o + y / m - 1.0;
            });
        last = dev;
        prev_crit = last_crit;
        last_crit = crit;
        if let Some(p) = &opts.progress {
            (p.0)(&IrlsProgress {
                iteration: iterations,
                max_iter: opts.max_iter,
                criterion: crit,
                tol: opts.tol,
                sweeps: demean_sweeps.last().copied().unwrap_or(0),
            });
        }
        if crit < opts.tol {
            converged = true;
            break;
        }
    }
    if iterations == 0 {
        return Err(Error::invalid(
            "PPML options",
            "no IRLS iteration ran: `max_iter` is 0; set it to at least 1",
        ));
    }
    // The first step's judgement, checked on the last step's columns when it rested on loosely
    // demeaned ones: as they are when that step was demeaned at the requested tolerance (a fit
    // that converged), else demeaned on to it first (a fit that did not, which a regressor
    // wrongly kept can cause).
    let late_collinear: Vec<usize> = if judged_loosely && !active.is_empty() {
        let raw: Vec<&[f64]> = active.iter().map(|&j| d.x[j].as_slice()).collect();
        let g = if last_at_target && singular.is_none() {
            last_xtx
        } else {
            // Into copies: the fit's own columns and coefficients stay those of its last step.
            let layout = layout.take().unwrap_or_else(|| Layout::new(factors, n));
            let fe = FixedEffects::with_layout(factors, &w, layout);
            let mut ax: Vec<Vec<f64>> = active.iter().map(|&j| alpha_x[j].clone()).collect();
            let mut tight_x = vec![Vec::new(); active.len()];
            fe.demean_into(&raw, &mut ax, &mut tight_x, &opts.demean, &mut scratch)?;
            gram(&tight_x, &w)
        };
        non_collinear(&raw, &g, &w, COLLINEAR_TOL)
            .dropped(&active)
            .collect()
    } else {
        Vec::new()
    };
    if let Some(e) = singular.filter(|_| late_collinear.is_empty()) {
        // Singular, and no regressor collinear on tight columns either: as it was.
        return Err(e);
    }
    collinear_idx.sort_unstable();
    let collinear = collinear_idx.iter().map(|&j| names[j].clone()).collect();
    let resid = std::mem::take(&mut dm[0]);
    dm.truncate(1 + active.len());
    let x_dm = dm.split_off(1);
    Ok(IrlsSolution {
        active,
        beta,
        x_dm,
        w,
        resid,
        alpha_z,
        alpha_x,
        mu,
        iterations,
        deviance: dev,
        criterion: last_crit,
        converged,
        demean_sweeps,
        collinear,
        collinear_idx,
        late_collinear,
    })
}

/// Step 5: the fixed effects `α = α_z − Σ_j β_j α_xj` (the projection is linear), normalised so
/// that in every dimension after the first the first level is zero, the first dimension
/// absorbing the shift. Returns the flattened coefficients and the offset of each dimension.
pub(crate) fn recover_fixed_effects(
    factors: &[Factor],
    sol: &IrlsSolution,
) -> (Vec<f64>, Vec<usize>) {
    let mut alpha = sol.alpha_z.clone();
    for (a, &j) in sol.active.iter().enumerate() {
        for (v, ax) in alpha.iter_mut().zip(&sol.alpha_x[j]) {
            *v -= sol.beta[a] * ax;
        }
    }
    let mut offsets = vec![0usize];
    for f in factors {
        offsets.push(offsets.last().copied().unwrap_or(0) + f.nlevels());
    }
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
    (alpha, offsets)
}

/// The fit on the input rows: whether each of the `n_all` rows was used, its fitted value `μ`
/// and its sum of fixed effects `Σ_g α_g[f_g(i)]` (NaN on rows not used). `mu` (one value per
/// observation) becomes the fitted values, and `spare`, a vector of the fit's that is no longer
/// needed, the sums of fixed effects: each is spread onto the input rows in place
/// ([`onto_input_rows`]), so that no N values are first touched again.
fn per_input_row(
    n_all: usize,
    design: &Design,
    mu: Vec<f64>,
    spare: Vec<f64>,
    alpha: &[f64],
    offsets: &[usize],
) -> (Vec<bool>, Vec<f64>, Vec<f64>) {
    const BLOCK: usize = 1 << 16;
    let rows = &design.rows;
    debug_assert!(rows.windows(2).all(|p| p[0] < p[1]), "rows in input order");
    let fe_at = |k: usize| -> f64 {
        design
            .factors
            .iter()
            .enumerate()
            .map(|(g, f)| alpha[offsets[g] + f.codes[k] as usize])
            .sum()
    };
    let mut fe_sum = spare;
    fe_sum.clear();
    fe_sum.par_extend((0..rows.len()).into_par_iter().map(fe_at));
    let mut fitted = mu;
    let (_, used) = rayon::join(
        || onto_input_rows(&mut [&mut fitted, &mut fe_sum], rows, n_all),
        || {
            // Zeroed memory from the allocator, untouched until each block marks its rows.
            let mut used = vec![false; n_all];
            used.par_chunks_mut(BLOCK).enumerate().for_each(|(b, u)| {
                let (lo, hi) = (b * BLOCK, b * BLOCK + u.len());
                let from = rows.partition_point(|&i| i < lo);
                for &i in rows[from..].iter().take_while(|&&i| i < hi) {
                    u[i - lo] = true;
                }
            });
            used
        },
    );
    (used, fitted, fe_sum)
}

/// Spreads each of `vs` (one value per observation) onto the `n_all` input rows, in place: the
/// value of observation `k` goes to input row `rows[k]`, the rows not used get NaN. The rows
/// are in increasing order, so `rows[k] ≥ k`, and the values are moved from the last to the
/// first, each to a place no value still to move is in.
fn onto_input_rows(vs: &mut [&mut Vec<f64>], rows: &[usize], n_all: usize) {
    for v in vs.iter_mut() {
        debug_assert_eq!(v.len(), rows.len());
        v.resize(n_all, f64::NAN);
    }
    // The first input row already written.
    let mut next = n_all;
    for (k, &i) in rows.iter().enumerate().rev() {
        for v in vs.iter_mut() {
            v[i] = v[k];
            v[i + 1..next].fill(f64::NAN);
        }
        next = i;
    }
    for v in vs.iter_mut() {
        v[..next].fill(f64::NAN);
    }
}

/// Fits `formula` to `ds` by PPML with fixed effects. Errors name the offending column, row or
/// token; a fit that does not converge within `opts.max_iter` iterations is an error unless
/// `opts.allow_unconverged` (then it is returned with `converged: false` and a warning).
pub fn fit(ds: &Dataset, formula: &Formula, opts: &PpmlOptions) -> Result<PpmlFit> {
    check_options(opts)?;
    let design = Design::build(ds, formula, opts)?;
    fit_design(ds.nrows(), design, formula, opts, Spare::default())
}

/// As [`fit`], for a data set that is not needed after the fit but for the outcome (the last
/// model of `estimate`, whose fit statistics read only the outcome): once the design is built,
/// the other numeric columns are taken out of `ds`, and their memory, already touched when the
/// file was read, holds the IRLS's vectors instead of fresh pages ([`Spare`]). The same numbers
/// as [`fit`].
pub(crate) fn fit_spending(
    ds: &mut Dataset,
    formula: &Formula,
    opts: &PpmlOptions,
) -> Result<PpmlFit> {
    check_options(opts)?;
    let design = Design::build(ds, formula, opts)?;
    let spare = Spare(ds.take_numeric_except(&formula.outcome));
    fit_design(ds.nrows(), design, formula, opts, spare)
}

/// Vectors whose memory the IRLS may use for its own vectors, each of which it writes whole
/// before it reads it.
#[derive(Default)]
pub(crate) struct Spare(Vec<Vec<f64>>);

impl Spare {
    /// A vector of `n` values, from a spare one when one is long enough (its values are left
    /// as they are: the caller writes every element before it reads it), else new.
    fn take(&mut self, n: usize) -> Vec<f64> {
        match self.0.iter().position(|v| v.len() >= n) {
            Some(j) => {
                let mut v = self.0.swap_remove(j);
                v.truncate(n);
                v
            }
            None => vec![0.0; n],
        }
    }
}

fn check_options(opts: &PpmlOptions) -> Result<()> {
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
            "`cluster`",
            "at most two-way clustering is supported",
        ));
    }
    Ok(())
}

/// Steps 2 to 5 of the fit on the design built from `n_all` input rows.
fn fit_design(
    n_all: usize,
    design: Design,
    formula: &Formula,
    opts: &PpmlOptions,
    spare: Spare,
) -> Result<PpmlFit> {
    let (mut design, sep) = separate(design, opts)?;
    let n = design.nobs();
    if n == 0 || design.y.iter().all(|&v| v == 0.0) {
        return Err(Error::invalid(
            format!("outcome '{}'", formula.outcome),
            "is zero in every usable observation; nothing to estimate",
        ));
    }
    let mut warnings = std::mem::take(&mut design.missing_warnings);
    let separated_groups: Vec<(String, usize)> = formula
        .fe_names()
        .into_iter()
        .zip(sep.groups.iter().copied())
        .filter(|(_, g)| *g > 0)
        .collect();
    if sep.by_fixed_effects > 0 {
        let per: Vec<String> = separated_groups
            .iter()
            .map(|(d, g)| format!("{g} of '{d}'"))
            .collect();
        warnings.push(format!(
            "{} observation(s) dropped in all-zero fixed-effect groups ({}): their fixed effect would be -infinity (separation)",
            sep.by_fixed_effects,
            per.join(", ")
        ));
    }
    if sep.by_relu > 0 {
        warnings.push(format!(
            "{} observation(s) dropped as separated by the regressors (iterative rectifier, Correia, Guimaraes & Zylkin 2021): a combination of regressors and fixed effects is zero where the outcome is positive and positive only where it is zero",
            sep.by_relu
        ));
    }
    if opts.relu && !sep.relu_converged {
        warnings.push(format!(
            "the separation check by the regressors (iterative rectifier) did not settle in {} regressions; separated observations may remain",
            sep.relu_iterations
        ));
    }
    if sep.singletons > 0 {
        warnings.push(format!(
            "{} singleton observation(s) dropped",
            sep.singletons
        ));
    }

    let sol = irls(&design, opts, spare)?;
    if !sol.converged {
        let e = Error::not_converged(
            Solver::Ppml,
            sol.iterations,
            sol.criterion,
            opts.tol,
            None,
            format!(
                "the last deviance is {}; raise the iteration limit (`max_iter`) or check the data for separation",
                sol.deviance
            ),
        );
        if !opts.allow_unconverged {
            return Err(e);
        }
        warnings.push(e.to_string());
    }
    if !sol.collinear.is_empty() {
        warnings.push(format!(
            "regressor(s) {} dropped: collinear with the fixed effects or with other regressors",
            sol.collinear.join(", ")
        ));
    }

    // Step 4: standard errors.
    let clusters = design.cluster_factors();
    let spec = VcovSpec {
        clusters: &clusters,
        factors: &design.factors,
        ssc: opts.ssc,
    };
    let (vc, description, ssc_details) = vcov::vcov(&sol.x_dm, &sol.w, &sol.resid, &spec)?;
    let std_errors = (0..sol.beta.len())
        .map(|j| vc[(j, j)].max(0.0).sqrt())
        .collect();

    // Step 5: fixed effects.
    let (alpha, offsets) = recover_fixed_effects(&design.factors, &sol);
    let fe_names = formula.fe_names();
    // The level labels move into the fit (a million pair labels are not copied): nothing
    // after this reads them.
    let fixed_effects: Vec<FixedEffectEstimates> = design
        .factors
        .iter_mut()
        .enumerate()
        .map(|(g, f)| FixedEffectEstimates {
            dimension: fe_names[g].clone(),
            levels: std::mem::take(&mut f.labels),
            values: alpha[offsets[g]..offsets[g + 1]].to_vec(),
        })
        .collect();
    let (used, fitted, fe_sum) = per_input_row(n_all, &design, sol.mu, sol.resid, &alpha, &offsets);
    Ok(PpmlFit {
        formula: formula.to_string(),
        names: sol
            .active
            .iter()
            .map(|&j| design.names[j].clone())
            .collect(),
        coefficients: sol.beta.iter().copied().collect(),
        vcov: vc,
        std_errors,
        vcov_description: description,
        ssc_details,
        nobs: n,
        excluded_by_subset: design.excluded_by_subset,
        dropped_missing: design.dropped_missing,
        missing: std::mem::take(&mut design.missing),
        dropped_separation: sep.by_fixed_effects + sep.by_relu,
        separated_groups,
        separated_by_relu: sep.by_relu,
        dropped_singletons: sep.singletons,
        separation: sep,
        collinear: sol.collinear,
        warnings,
        iterations: sol.iterations,
        deviance: sol.deviance,
        converged: sol.converged,
        demean_sweeps: sol.demean_sweeps,
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
            .zip(e.iter())
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

    /// A gravity panel with zeros: 8 × 8 economies, `dist` from positions, a zero wherever a
    /// deterministic hash says so (never a whole exporter or importer).
    fn panel_with_zeros() -> (Dataset, Vec<f64>) {
        let (mut e, mut m, mut d, mut y) = (vec![], vec![], vec![], vec![]);
        for i in 0..8usize {
            for j in 0..8usize {
                let dist = 1.0 + ((i * 7 + j * 3) % 11) as f64 + (i as f64 - j as f64).abs();
                let mean = (3.0 + 0.3 * i as f64 + 0.2 * j as f64 - 0.8 * dist.ln()).exp();
                let zero = (i * 5 + j * 3) % 7 == 0 && i != j;
                e.push(format!("E{i}"));
                m.push(format!("M{j}"));
                d.push(dist);
                y.push(if zero {
                    0.0
                } else {
                    (mean * (1.0 + 0.1 * ((i + 2 * j) % 3) as f64)).round() + 1.0
                });
            }
        }
        let mut ds = Dataset::new();
        ds.push_text("exporter", e).unwrap();
        ds.push_text("importer", m).unwrap();
        ds.push_numeric("dist", d).unwrap();
        ds.push_numeric("trade", y.clone()).unwrap();
        (ds, y)
    }

    /// The last model of `estimate` spends the data's numeric columns (but the outcome) on the
    /// IRLS's vectors: the same fit to the bit when those columns hold NaN (a vector read before
    /// it is written would show), with rows dropped by separation, and the outcome and the text
    /// columns still there for the fit statistics.
    #[test]
    fn spending_the_data_gives_the_same_fit() {
        let (base, _) = panel_with_zeros();
        let n = base.nrows();
        let f = Formula::parse("trade ~ log(dist) | exporter + importer").unwrap();
        let opts = PpmlOptions {
            cluster: vec!["exporter".into()],
            ..PpmlOptions::default()
        };
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for junk in [0, 2, 8] {
            let mut ds = Dataset::new();
            for j in 0..junk {
                ds.push_numeric(format!("junk{j}"), vec![f64::NAN; n])
                    .unwrap();
            }
            for name in base.names() {
                ds.push(name.clone(), base.column(name).unwrap().clone())
                    .unwrap();
            }
            // Exporters 2 and 7 sell nothing: their rows, in the middle and at the end, drop.
            let Some(Column::Numeric(mut y)) = ds.column("trade").cloned() else {
                unreachable!()
            };
            y[16..24].fill(0.0);
            y[56..64].fill(0.0);
            ds.push_numeric("trade", y).unwrap();
            let plain = fit(&ds, &f, &opts).unwrap();
            let spent = fit_spending(&mut ds, &f, &opts).unwrap();
            assert!(plain.dropped_separation > 0);
            assert_eq!(
                bits(&spent.coefficients),
                bits(&plain.coefficients),
                "{junk}"
            );
            assert_eq!(bits(&spent.std_errors), bits(&plain.std_errors), "{junk}");
            assert_eq!(spent.deviance.to_bits(), plain.deviance.to_bits(), "{junk}");
            assert_eq!(bits(&spent.fitted), bits(&plain.fitted), "{junk}");
            assert_eq!(bits(&spent.fe_sum), bits(&plain.fe_sum), "{junk}");
            assert_eq!(spent.used, plain.used);
            assert_eq!(ds.names(), ["exporter", "importer", "trade"]);
            assert_eq!(ds.nrows(), n);
        }
    }

    /// Issue 14 item 2: `sep = (trade == 0)` separates every zero. Before the iterative
    /// rectifier the fit reported `sep` ≈ −18 with a tiny standard error, "0 separated" and
    /// "converged: true".
    #[test]
    fn separation_by_a_regressor_is_found() {
        let (mut ds, y) = panel_with_zeros();
        let zeros = y.iter().filter(|&&v| v == 0.0).count();
        assert!(zeros >= 5);
        ds.push_numeric("sep", y.iter().map(|&v| f64::from(v == 0.0)).collect())
            .unwrap();
        let f = Formula::parse("trade ~ log(dist) + sep | exporter + importer").unwrap();
        let r = fit(&ds, &f, &PpmlOptions::default()).unwrap();
        assert_eq!(r.dropped_separation, zeros);
        assert_eq!(r.separated_by_relu, zeros);
        assert_eq!(r.nobs, y.len() - zeros);
        assert_eq!(r.names, vec!["log(dist)"]);
        assert_eq!(r.collinear, vec!["sep"]);
        assert!(r.warnings.iter().any(|w| w.contains("iterative rectifier")));
        // The same as fitting the positive observations alone.
        let mut pos = ds.clone();
        pos.push_numeric("positive", y.iter().map(|&v| f64::from(v > 0.0)).collect())
            .unwrap();
        let f2 = Formula::parse("trade ~ log(dist) | exporter + importer").unwrap();
        let o2 = PpmlOptions {
            subset: Some("positive == 1".into()),
            ..Default::default()
        };
        let r2 = fit(&pos, &f2, &o2).unwrap();
        let (b1, b2) = (r.coefficients[0], r2.coefficients[0]);
        assert!((b1 - b2).abs() < 1e-9 * b2.abs().max(1.0), "{b1} vs {b2}");
        // With the fixed-effect rule alone the separation goes unseen (the old behaviour).
        let fe_only = PpmlOptions {
            relu: false,
            ..Default::default()
        };
        let old = fit(&ds, &f, &fe_only).unwrap();
        assert_eq!(old.dropped_separation, 0);
        assert!(old.coef("sep").unwrap().0 < -10.0);
    }

    /// Separation that neither a fixed effect alone nor the regressor alone shows:
    /// `z = x + 1{exporter = E0}` is zero on every positive outcome and one on E0's zeros.
    #[test]
    fn separation_only_the_rectifier_finds() {
        let (mut ds, y) = panel_with_zeros();
        let Some(Column::Text(e)) = ds.column("exporter").cloned() else {
            panic!()
        };
        let x: Vec<f64> = y
            .iter()
            .zip(e.iter())
            .map(|(&v, e)| if e == "E0" && v > 0.0 { -1.0 } else { 0.0 })
            .collect();
        let e0_zeros = y
            .iter()
            .zip(e.iter())
            .filter(|(&v, e)| *e == "E0" && v == 0.0)
            .count();
        assert!(e0_zeros >= 1);
        ds.push_numeric("x", x).unwrap();
        let f = Formula::parse("trade ~ log(dist) + x | exporter + importer").unwrap();
        let r = fit(&ds, &f, &PpmlOptions::default()).unwrap();
        assert_eq!(r.separation.by_fixed_effects, 0);
        assert_eq!(r.separated_by_relu, e0_zeros);
        for (i, (&v, e)) in y.iter().zip(e.iter()).enumerate() {
            assert_eq!(r.used[i], !(e == "E0" && v == 0.0), "row {i}");
        }
    }

    /// A regressor nonzero only on a few zero outcomes separates them, beside another regressor
    /// that varies where the outcome is positive. The rectifier's weighted regression has
    /// diagonals 1e12 apart then (its weights are `N₊/tol²` where y > 0, 1 where y = 0); it once
    /// cut the separating regressor off as collinear and found nothing, so the fit reported it
    /// at −15 with a finite standard error (exit 0). The Guide's application 1 with such a
    /// regressor showed it: pyfixest's `separation_check=["fe", "ir"]` drops the 5 rows.
    #[test]
    fn separation_beside_another_regressor_is_found() {
        let mut ds = gravity_panel();
        let Some(Column::Numeric(y)) = ds.column("trade").cloned() else {
            panic!()
        };
        let zeros: Vec<usize> = (0..y.len())
            .filter(|&i| y[i] == 0.0)
            .step_by(7)
            .take(3)
            .collect();
        assert_eq!(zeros.len(), 3, "the panel has zeros");
        let sep: Vec<f64> = (0..y.len())
            .map(|i| f64::from(u8::from(zeros.contains(&i))))
            .collect();
        let keep: Vec<f64> = sep.iter().map(|s| 1.0 - s).collect();
        ds.push_numeric("sep", sep).unwrap();
        ds.push_numeric("keep", keep).unwrap();
        let fe = "exporter^year + importer^year";
        let opts = PpmlOptions {
            relu: true,
            loose_inner: true,
            ..Default::default()
        };
        let f = Formula::parse(&format!("trade ~ x + sep | {fe}")).unwrap();
        let got = fit(&ds, &f, &opts).unwrap();
        assert_eq!(got.separated_by_relu, 3);
        for &i in &zeros {
            assert!(!got.used[i], "row {i}");
        }
        assert_eq!(got.collinear, vec!["sep"]);
        // The same as the model on the other rows.
        let without = PpmlOptions {
            subset: Some("keep == 1".into()),
            ..opts.clone()
        };
        let f0 = Formula::parse(&format!("trade ~ x | {fe}")).unwrap();
        let reference = fit(&ds, &f0, &without).unwrap();
        let ((b, se), (b0, se0)) = (got.coef("x").unwrap(), reference.coef("x").unwrap());
        assert!((b - b0).abs() <= 1e-9 * b0.abs(), "{b} vs {b0}");
        assert!((se - se0).abs() <= 1e-7 * se0, "{se} vs {se0}");
    }

    /// `converged` is false when the iteration limit is hit and the caller asked for the fit
    /// anyway; otherwise non-convergence is an error.
    #[test]
    fn non_convergence_is_flagged_or_an_error() {
        let ds = panel();
        let f = Formula::parse("trade ~ x | exporter + importer").unwrap();
        let o = PpmlOptions {
            max_iter: 1,
            ..Default::default()
        };
        let e = fit(&ds, &f, &o).unwrap_err().to_string();
        assert!(e.contains("did not converge"), "{e}");
        let r = fit(
            &ds,
            &f,
            &PpmlOptions {
                allow_unconverged: true,
                ..o
            },
        )
        .unwrap();
        assert!(!r.converged);
        assert!(r.warnings.iter().any(|w| w.contains("did not converge")));
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

    /// A gravity panel, 12 × 12 economies × 5 years (pseudo-random, fixed seed, 15% zeros), with a
    /// regressor `x` that varies within pairs, one `d` constant within each pair (a distance:
    /// collinear with the pair effect) and `xd = x + d` (collinear with `x` and the pair effect).
    fn gravity_panel() -> Dataset {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(12345);
        let mut unif = move || rng.random_range(0.0..1.0);
        let n = 12;
        let dist: Vec<f64> = (0..n * n).map(|_| 1.0 + 3.0 * unif()).collect();
        let (mut e, mut m, mut yr, mut x, mut d, mut xd, mut y) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        for i in 0..n {
            for j in 0..n {
                for t in 0..5 {
                    let xv = if unif() < 0.3 { 1.0 } else { 0.0 };
                    let dv = dist[i * n + j];
                    let mu = (0.4 * xv - 0.8 * dv + 2.0 * unif() + 3.0).exp();
                    e.push(format!("E{i}"));
                    m.push(format!("M{j}"));
                    yr.push(2000.0 + t as f64);
                    x.push(xv);
                    d.push(dv);
                    xd.push(xv + dv);
                    let zero = unif() < 0.15;
                    y.push(if zero {
                        0.0
                    } else {
                        (mu * (0.5 + unif())).round()
                    });
                }
            }
        }
        let mut ds = Dataset::new();
        ds.push_text("exporter", e).unwrap();
        ds.push_text("importer", m).unwrap();
        ds.push_numeric("year", yr).unwrap();
        ds.push_numeric("x", x).unwrap();
        ds.push_numeric("d", d).unwrap();
        ds.push_numeric("xd", xd).unwrap();
        ds.push_numeric("trade", y).unwrap();
        ds
    }

    /// Under the loose inner schedule (the `estimate` command's), a regressor the fixed effects
    /// explain wholly, or one collinear with another regressor and the fixed effects, is dropped
    /// and the others are estimated as without it. Its first step is demeaned to 1e-2 only,
    /// which once left `log(dist)` beside a pair effect at 1.8e-9 of its sum of squares, just
    /// above the 1e-9 line: it was kept, and the IRLS did not converge (the Guide's three-way
    /// model with `log(dist)`) or stopped at a singular `X'WX` (with `log(dist) + rta`).
    #[test]
    fn loose_schedule_drops_regressors_the_fixed_effects_explain() {
        let ds = gravity_panel();
        let opts = PpmlOptions {
            loose_inner: true,
            ..Default::default()
        };
        let fe = "exporter^year + importer^year + exporter^importer";
        let alone = fit(
            &ds,
            &Formula::parse(&format!("trade ~ x | {fe}")).unwrap(),
            &opts,
        )
        .unwrap();
        assert!(alone.collinear.is_empty());
        for (rhs, dropped) in [
            ("x + d", vec!["d"]),
            ("d + x", vec!["d"]),
            ("x + xd", vec!["xd"]),
        ] {
            let f = Formula::parse(&format!("trade ~ {rhs} | {fe}")).unwrap();
            let got = fit(&ds, &f, &opts).unwrap();
            assert!(got.converged, "{rhs}");
            assert_eq!(got.collinear, dropped, "{rhs}");
            assert_eq!(got.names, vec!["x"], "{rhs}");
            let (b, se) = got.coef("x").unwrap();
            let (b0, se0) = alone.coef("x").unwrap();
            assert!((b - b0).abs() <= 1e-9 * b0.abs(), "{rhs}: {b} vs {b0}");
            assert!((se - se0).abs() <= 1e-7 * se0, "{rhs}: se {se} vs {se0}");
        }
    }

    /// The check on the last step: with the first step's close calls never redone (margin 0),
    /// a regressor kept by the loose first judgement is found collinear on the last step's
    /// columns (demeaned at the requested tolerance), and the fit is run again without it.
    #[test]
    fn collinearity_missed_at_the_first_step_is_caught_at_the_last() {
        let ds = gravity_panel();
        let opts = PpmlOptions {
            loose_inner: true,
            ..Default::default()
        };
        let fe = "exporter^year + importer^year + exporter^importer";
        let f = Formula::parse(&format!("trade ~ x + d | {fe}")).unwrap();
        let (design, _) = separate(Design::build(&ds, &f, &opts).unwrap(), &opts).unwrap();
        // The first run alone keeps `d` at its first step and flags it at its last.
        let first = irls_without(&design, &opts, Spare::default(), &[], 0.0).unwrap();
        assert_eq!(first.late_collinear, vec![1], "{:?}", first.collinear);
        let sol = irls_with_margin(&design, &opts, Spare::default(), 0.0).unwrap();
        assert_eq!(sol.collinear, vec!["d"]);
        assert_eq!(sol.active, vec![0]);
        let reference = irls(&design, &opts, Spare::default()).unwrap();
        assert_eq!(reference.collinear, vec!["d"]);
        let (b, b0) = (sol.beta[0], reference.beta[0]);
        assert!((b - b0).abs() <= 1e-9 * b0.abs(), "{b} vs {b0}");
        // `x + 10·d`, collinear with `x` and the pair effect: kept at the first step, it turns
        // X'WX singular at the fourth; that is not an error until the regressors have been
        // judged again (on tightly demeaned columns), which drops it.
        let mut ds = ds;
        let (Some(Column::Numeric(x)), Some(Column::Numeric(d))) =
            (ds.column("x").cloned(), ds.column("d").cloned())
        else {
            panic!()
        };
        let xd10: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + 10.0 * b).collect();
        ds.push_numeric("xd10", xd10).unwrap();
        let f = Formula::parse(&format!("trade ~ x + xd10 | {fe}")).unwrap();
        let (design, _) = separate(Design::build(&ds, &f, &opts).unwrap(), &opts).unwrap();
        let first = irls_without(&design, &opts, Spare::default(), &[], 0.0).unwrap();
        assert!(
            !first.converged && first.iterations < 10,
            "{}",
            first.iterations
        );
        assert_eq!(first.late_collinear, vec![1], "{:?}", first.collinear);
        let sol = irls_with_margin(&design, &opts, Spare::default(), 0.0).unwrap();
        assert_eq!(sol.collinear, vec!["xd10"]);
        let (b, b0) = (sol.beta[0], reference.beta[0]);
        assert!((b - b0).abs() <= 1e-9 * b0.abs(), "{b} vs {b0}");
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

    /// ppmlhdfe's loose inner-tolerance schedule (`loose_inner`, the `estimate` command's) ends
    /// where the cautious one does: the last step is redone at `demean.tol`, so coefficients
    /// and the variance agree to far below the 1e-8 / 1e-6 the benchmarks ask of pyfixest.
    #[test]
    fn loose_inner_schedule_reaches_the_same_fit() {
        let ds = panel();
        for formula in [
            "trade ~ x | exporter + importer^year",
            "trade ~ x | exporter^year + importer",
        ] {
            let f = Formula::parse(formula).unwrap();
            let cautious = fit(&ds, &f, &PpmlOptions::default()).unwrap();
            let loose = PpmlOptions {
                loose_inner: true,
                ..Default::default()
            };
            let loose = fit(&ds, &f, &loose).unwrap();
            let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-300);
            for (a, b) in loose.coefficients.iter().zip(&cautious.coefficients) {
                assert!(rel(*a, *b) < 1e-9, "{formula}: {a} vs {b}");
            }
            for (a, b) in loose.vcov.iter().zip(cautious.vcov.iter()) {
                assert!(rel(*a, *b) < 1e-7, "{formula}: vcov {a} vs {b}");
            }
            assert_eq!(loose.fitted.len(), cautious.fitted.len());
        }
    }

    /// The loose schedule: ppmlhdfe's factor and cap, never the target before two steps gave a
    /// rate, the target at once when the extrapolated change is below the IRLS tolerance; the
    /// cautious schedule ignores the extrapolation.
    #[test]
    fn loose_schedule_demeans_an_expected_last_step_at_the_target() {
        let (tol, target) = (1e-8, 1e-10);
        let inf = f64::INFINITY;
        assert_eq!(inner_tolerance(inf, inf, tol, target, true), 1e-2);
        // One step only: no rate; 10⁻¹ of its change, even when that change is below tol.
        assert_eq!(inner_tolerance(1e-6, inf, tol, target, true), 1e-7);
        assert_eq!(inner_tolerance(5e-9, inf, tol, target, true), 5e-10);
        // 1e-5 then 1e-6: 1e-7 expected, above tol: 10⁻¹ of the last change.
        assert_eq!(inner_tolerance(1e-6, 1e-5, tol, target, true), 1e-7);
        // 1e-5 then 8.6e-8: 7.4e-10 expected, below tol: the target at once.
        assert_eq!(inner_tolerance(8.6e-8, 1e-5, tol, target, true), target);
        // No change at all (0 / 0 has no rate): the clamp gives the target anyway.
        assert_eq!(inner_tolerance(0.0, 0.0, tol, target, true), target);
        // The cautious schedule: 10⁻⁴ of the last change, at least the target.
        assert_eq!(inner_tolerance(8.6e-8, 1e-5, tol, target, false), target);
    }

    /// Without fixed effects the intercept does what a fixed effect of one level does: the
    /// fit of `y ~ x` has the slope and the fitted values of `y ~ x | c` with `c` constant,
    /// its intercept is that level's effect, and the score equations `Σ (y − μ) = 0`,
    /// `Σ (y − μ) x = 0` hold (once every regressor was dropped here as collinear).
    #[test]
    fn no_fixed_effect_is_one_constant_effect() {
        let mut ds = panel();
        ds.push_numeric("c", vec![1.0; ds.nrows()]).unwrap();
        let o = PpmlOptions {
            tol: 1e-12,
            ..Default::default()
        };
        let plain = fit(&ds, &Formula::parse("trade ~ x").unwrap(), &o).unwrap();
        let one = fit(&ds, &Formula::parse("trade ~ x | c").unwrap(), &o).unwrap();
        assert!(plain.collinear.is_empty(), "{:?}", plain.collinear);
        assert_eq!(plain.names, ["(Intercept)", "x"]);
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-300);
        assert!(rel(plain.coefficients[1], one.coefficients[0]) < 1e-9);
        assert!(rel(plain.coefficients[0], one.fixed_effects[0].values[0]) < 1e-9);
        for (a, b) in plain.fitted.iter().zip(&one.fitted) {
            assert!(rel(*a, *b) < 1e-9, "{a} vs {b}");
        }
        let (Some(Column::Numeric(y)), Some(Column::Numeric(x))) =
            (ds.column("trade"), ds.column("x"))
        else {
            panic!()
        };
        let (mut s0, mut s1, mut scale) = (0.0, 0.0, 0.0);
        for ((y, x), mu) in y.iter().zip(x).zip(&plain.fitted) {
            s0 += y - mu;
            s1 += (y - mu) * x;
            scale += y;
        }
        assert!(
            s0.abs() < 1e-8 * scale && s1.abs() < 1e-8 * scale,
            "{s0} {s1}"
        );
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

    /// The stretched search names the row a sequential scan names: sizes around the stretch
    /// of 65,536, bad rows in one stretch, in several, and none.
    #[test]
    fn first_where_finds_the_first_in_order() {
        for n in [0usize, 1, 65_535, 65_536, 65_537, 200_003] {
            for bad in [
                vec![],
                vec![n / 2],
                vec![n.saturating_sub(1)],
                vec![70_000, 3, 140_000],
            ] {
                let bad: Vec<usize> = bad.into_iter().filter(|&b| b < n).collect();
                let is_bad = |k: usize| bad.contains(&k);
                assert_eq!(
                    first_where(n, is_bad),
                    (0..n).find(|&k| is_bad(k)),
                    "n = {n}, bad = {bad:?}"
                );
            }
        }
    }

    /// The per-row outputs, spread onto the input rows in place, are those of one loop over
    /// the observations, on input rows spanning several blocks with rows left out (the first
    /// and the last among them).
    #[test]
    fn per_input_row_matches_one_loop() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(3);
        let n_all = 3 * (1 << 16) + 123;
        let rows: Vec<usize> = (1..n_all - 1).filter(|_| rng.random_bool(0.7)).collect();
        let n = rows.len();
        let factor = |name: &str, levels: u32, rng: &mut rand::rngs::ChaCha8Rng| Factor {
            name: name.into(),
            codes: (0..n).map(|_| rng.random_range(0..levels)).collect(),
            labels: (0..levels).map(|l| l.to_string()).collect(),
        };
        let factors = vec![factor("a", 50, &mut rng), factor("b", 7, &mut rng)];
        let offsets = vec![0, 50, 57];
        let alpha: Vec<f64> = (0..57).map(|_| rng.random_range(-3.0..3.0)).collect();
        let mu: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..9.0)).collect();
        let design = Design {
            y: vec![1.0; n],
            x: Vec::new(),
            names: Vec::new(),
            offset: None,
            factors,
            clusters: Vec::new(),
            rows,
            excluded_by_subset: 0,
            dropped_missing: 0,
            missing: Vec::new(),
            missing_warnings: Vec::new(),
        };
        let spare = vec![7.0; n / 2];
        let (used, fitted, fe_sum) =
            per_input_row(n_all, &design, mu.clone(), spare, &alpha, &offsets);
        let mut want = (
            vec![false; n_all],
            vec![f64::NAN; n_all],
            vec![f64::NAN; n_all],
        );
        for (k, &i) in design.rows.iter().enumerate() {
            want.0[i] = true;
            want.1[i] = mu[k];
            want.2[i] = design
                .factors
                .iter()
                .enumerate()
                .map(|(g, f)| alpha[offsets[g] + f.codes[k] as usize])
                .sum();
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(used, want.0);
        assert_eq!(bits(&fitted), bits(&want.1));
        assert_eq!(bits(&fe_sum), bits(&want.2));
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

    #[test]
    fn i_makes_a_regressor_per_value_but_the_reference() {
        let mut ds = Dataset::new();
        ds.push_numeric("y", vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap();
        ds.push_numeric("year", vec![2000.0, 1990.0, 2000.0, 1995.0, 1990.0, 2000.0])
            .unwrap();
        ds.push_numeric("x", vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap();
        ds.push_text(
            "r",
            vec![
                "b".into(),
                "a".into(),
                "c".into(),
                "a".into(),
                "b".into(),
                "c".into(),
            ],
        )
        .unwrap();
        let rows: Vec<usize> = (0..6).collect();
        let term = |t: &str| Term::parse(t).unwrap();
        let (names, x) = regressors(&ds, &term("i(year, x, ref = 1995)"), &rows).unwrap();
        assert_eq!(names, ["year::1990:x", "year::2000:x"]);
        assert_eq!(x[0], [0.0, 2.0, 0.0, 0.0, 5.0, 0.0]);
        assert_eq!(x[1], [1.0, 0.0, 3.0, 0.0, 0.0, 6.0]);
        // Text values in order; no variable is 1; other atoms multiply.
        let (names, x) = regressors(&ds, &term("log(x):i(r)"), &rows[1..]).unwrap();
        assert_eq!(names, ["log(x):r::a", "log(x):r::b", "log(x):r::c"]);
        assert_eq!(x[0], [2f64.ln(), 0.0, 4f64.ln(), 0.0, 0.0]);
        assert_eq!(x[2], [0.0, 3f64.ln(), 0.0, 0.0, 6f64.ln()]);
        let e = regressors(&ds, &term("i(year, ref = 1985)"), &rows)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ref = 1985 is not a value of 'year'") && e.contains("1990, 1995, 2000"),
            "{e}"
        );
        let e = regressors(&ds, &term("i(r, ref = c(a, b, c))"), &rows)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no regressor is left"), "{e}");
        // The fit: a per-year slope, named so.
        let f = Formula::parse("y ~ i(year, x)").unwrap();
        let fit = fit(&ds, &f, &PpmlOptions::default()).unwrap();
        assert_eq!(
            fit.names,
            [
                "(Intercept)",
                "year::1990:x",
                "year::1995:x",
                "year::2000:x"
            ]
        );
    }

    /// A number a spreadsheet formatted for reading (thousands separators, a decimal comma)
    /// makes its column text; using it as the outcome or a regressor names the first such row
    /// and cell and says how to write it.
    #[test]
    fn a_number_formatted_for_reading_is_named_with_how_to_write_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fmt.csv");
        // Every flow written with thousands separators (a spreadsheet's export), and one
        // distance with a decimal comma.
        let mut text = String::from("exporter,importer,trade,dist\n");
        for i in 0..60 {
            let dist = if i == 41 {
                "\"7,5\"".to_string()
            } else {
                (1 + i % 5).to_string()
            };
            text.push_str(&format!(
                "E{},M{},\"{},{:03}\",{dist}\n",
                i % 4,
                i % 5,
                1 + i % 7,
                i
            ));
        }
        std::fs::write(&p, text).unwrap();
        let mut ds = Dataset::from_csv(&p).unwrap();
        ds.push_numeric("y", vec![1.0; 60]).unwrap();
        let err = |formula: &str| {
            let f = Formula::parse(formula).unwrap();
            fit(&ds, &f, &PpmlOptions::default())
                .unwrap_err()
                .to_string()
        };
        let e = err("trade ~ log(dist) | exporter");
        assert!(
            e.contains("fmt.csv, row 2:")
                && e.contains("'1,000'")
                && e.contains("without thousands separators"),
            "{e}"
        );
        let e = err("y ~ log(dist) | exporter");
        assert!(
            e.contains("fmt.csv, row 43:") && e.contains("'7,5'") && e.contains("decimal point"),
            "{e}"
        );
    }

    /// A numeric column with a cell that is neither a number nor a missing marker (`n/a`, `-`)
    /// is read as text; using it as the outcome or a regressor names that row and cell (the
    /// error once said only "is a text column, not numbers"), after a missing marker (`NA`) on
    /// an earlier row, which is not the culprit. A column of text is still told to be a fixed
    /// effect.
    #[test]
    fn a_non_number_in_a_numeric_column_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("na.csv");
        let mut text = String::from("exporter,importer,trade,dist\n");
        for i in 0..1500 {
            let trade = match i {
                1100 => "NA".to_string(),
                1200 => "n/a".to_string(),
                _ => (i % 7).to_string(),
            };
            let dist = if i == 1300 {
                "-".to_string()
            } else {
                (1 + i % 5).to_string()
            };
            text.push_str(&format!("E{},M{},{trade},{dist}\n", i % 9, i % 11));
        }
        std::fs::write(&p, text).unwrap();
        let err = |ds: &Dataset, formula: &str| {
            let f = Formula::parse(formula).unwrap();
            fit(ds, &f, &PpmlOptions::default())
                .unwrap_err()
                .to_string()
        };
        let mut ds = Dataset::from_csv(&p).unwrap();
        let e = err(&ds, "trade ~ log(dist) | exporter");
        let how = "mark a missing value as an empty cell, NA or .";
        assert!(
            e.contains("na.csv, row 1202:") && e.contains("'n/a'") && e.contains(how),
            "{e}"
        );
        assert!(e.contains("outcome 'trade'"), "{e}");
        let e = err(&ds, "exporter ~ log(dist) | importer");
        assert!(e.contains("is text, not numbers"), "{e}");
        ds.push_numeric("y", vec![1.0; 1500]).unwrap();
        let e = err(&ds, "y ~ log(dist) | exporter");
        assert!(
            e.contains("row 1302:") && e.contains("'-'") && e.contains("log(dist)"),
            "{e}"
        );
        let e = err(&ds, "y ~ importer | exporter");
        assert!(e.contains("use it as a fixed effect"), "{e}");
        // An empty cell in a text fixed effect names its row and the filter that removes such
        // rows, which works as written.
        let region: Vec<String> = (0..1500)
            .map(|i| {
                if i == 700 {
                    String::new()
                } else {
                    format!("R{}", i % 3)
                }
            })
            .collect();
        ds.push_text("region", region).unwrap();
        let e = err(&ds, "y ~ 1 | region");
        assert!(e.contains("row 702:") && e.contains("region != ''"), "{e}");
        let f = Formula::parse("y ~ 1 | region").unwrap();
        let opts = PpmlOptions {
            subset: Some("region != ''".into()),
            ..Default::default()
        };
        assert_eq!(fit(&ds, &f, &opts).unwrap().nobs, 1499);
    }

    /// With `drop_missing`, the rows (kept by the subset) missing a value in a column the model
    /// uses (the offset's included) are left out, counted per column in the model's order; the fit is the one on the
    /// other rows; a missing value in a column not used, or on a row the subset drops, changes
    /// nothing. Without it a missing value is an error naming its row, as before.
    #[test]
    fn drop_missing_leaves_out_the_rows_missing_a_used_value() {
        let n = 240;
        let mut ds = Dataset::new();
        let e: Vec<String> = (0..n).map(|i| format!("E{}", i % 6)).collect();
        let m: Vec<String> = (0..n).map(|i| format!("M{}", (i / 6) % 5)).collect();
        let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 17) as f64 / 4.0).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| (1.0 + 0.2 * x[i] + ((i * 13) % 7) as f64 / 10.0).exp())
            .collect();
        let other: Vec<f64> = (0..n)
            .map(|i| if i % 9 == 0 { f64::NAN } else { 1.0 })
            .collect();
        let o: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let (mut y2, mut x2, mut e2, mut o2) = (y.clone(), x.clone(), e.clone(), o.clone());
        o2[11] = f64::NAN;
        y2[3] = f64::NAN;
        x2[5] = f64::NAN;
        x2[3] = f64::NAN;
        e2[7] = "NA".into();
        e2[8] = "NA".into(); // dropped by the subset first
        let mut na = Dataset::new();
        for (d, y, x, e, o) in [(&mut ds, y, x, e, o), (&mut na, y2, x2, e2, o2)] {
            d.push_numeric("o", o).unwrap();
            d.push_numeric("y", y).unwrap();
            d.push_numeric("x", x).unwrap();
            d.push_text("e", e).unwrap();
            d.push_text("m", m.clone()).unwrap();
            d.push_numeric("other", other.clone()).unwrap();
            d.push_numeric(
                "keep",
                (0..n).map(|i| f64::from(u8::from(i != 8))).collect(),
            )
            .unwrap();
        }
        let f = Formula::parse("y ~ x | e + m").unwrap();
        let opts = PpmlOptions {
            drop_missing: true,
            subset: Some("keep == 1".into()),
            cluster: vec!["m".into()],
            offset: Some("log(o)".into()),
            ..Default::default()
        };
        let got = fit(&na, &f, &opts).unwrap();
        let mut by_hand = ds.clone();
        let keep: Vec<f64> = (0..n)
            .map(|i| f64::from(u8::from(![3, 5, 7, 8, 11].contains(&i))))
            .collect();
        by_hand.push_numeric("keep", keep).unwrap();
        let want = fit(&by_hand, &f, &opts).unwrap();
        assert_eq!(got.coefficients, want.coefficients);
        assert_eq!(got.std_errors, want.std_errors);
        assert_eq!(got.nobs, n - 5);
        assert_eq!((got.excluded_by_subset, got.dropped_missing), (1, 4));
        assert_eq!(
            got.missing,
            vec![
                ("y".to_string(), 1),
                ("x".to_string(), 2),
                ("o".to_string(), 1),
                ("e".to_string(), 1)
            ]
        );
        assert_eq!((want.dropped_missing, want.missing.len()), (0, 0));
        let off = PpmlOptions {
            drop_missing: false,
            ..opts
        };
        let e = fit(&na, &f, &off).unwrap_err().to_string();
        assert!(e.contains("row 4") && e.contains("outcome 'y'"), "{e}");
    }
}
