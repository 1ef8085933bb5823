//! From a checked scenario to a [`GravityOutcome`]: load the data, build baseline and
//! counterfactual trade costs, solve, and tabulate per economy and per pair.

use super::data::{load_panel, Covariate, Panel, YearData};
use super::scenario::{Change, Costs, GravityScenario, Imbalances, Orientation, Pairs, Procedure};
use crate::error::{Error, Result};
use crate::model::gravity::observed::{self, HatSolution, ObservedFlows};
use crate::model::gravity::{self, guide, Convergence, CostMatrix, Solution, World};
use std::collections::{BTreeMap, HashMap};

/// One economy's results: a row of `economies.csv` (docs/gravity.md). `*_base` are baseline
/// values (on the fitted baseline flows, or the observed ones with `costs: Observed`),
/// unsuffixed values the counterfactual full-endowment equilibrium (MODEL.md §2), in the
/// data's currency unit. `*_pct` are percentage changes that follow the scenario's
/// [`Orientation`]: `(counterfactual/baseline − 1)·100`, or `(baseline/counterfactual − 1)·100`.
#[derive(Debug, Clone, PartialEq)]
pub struct GravityEconomyRow {
    /// The economy's code as in the data.
    pub economy: String,
    /// Foreign sales `Σ_{j≠i} X_ij` in the baseline (domestic sales excluded, as the Guide
    /// reports exports).
    pub exports_base: f64,
    /// Foreign sales `Σ_{j≠i} X'_ij` in the full-endowment counterfactual.
    pub exports: f64,
    /// Foreign purchases `Σ_{i≠j} X_ij` in the baseline.
    pub imports_base: f64,
    /// Foreign purchases `Σ_{i≠j} X'_ij` in the counterfactual.
    pub imports: f64,
    /// Output `Y_i` (all sales, domestic included) in the baseline.
    pub output_base: f64,
    /// Output `Y'_i = p̂_i Y_i` in the counterfactual.
    pub output: f64,
    /// Expenditure `E_i` (all purchases, domestic included) in the baseline.
    pub expenditure_base: f64,
    /// Expenditure `E'_i` in the counterfactual (following the scenario's imbalances rule).
    pub expenditure: f64,
    /// Change in real expenditure `E_i/P_i` (welfare), %.
    pub real_income_pct: f64,
    /// Change in real GDP `Y_i/P_i`, %.
    pub real_gdp_pct: f64,
    /// Change in the inward multilateral resistance (consumer price index) `P_i`, %.
    pub imr_pct: f64,
    /// Change in the outward multilateral resistance `Π_i`, %.
    pub omr_pct: f64,
    /// Change in the factory-gate price `p_i`, %; with the Guide's procedure reported as NAFTA's
    /// effect, `(1 − p̂_i)·100` as the book does (MODEL.md §2 step 6).
    pub price_pct: f64,
    /// Change in foreign sales (`exports` against `exports_base`), %.
    pub exports_pct: f64,
    /// Change in foreign purchases (`imports` against `imports_base`), %.
    pub imports_pct: f64,
    /// Change in foreign sales in the conditional GE (output and expenditure fixed), %.
    pub exports_conditional_pct: f64,
    /// The inward resistance `P_i = (P_i^{1−σ})^{1/(1−σ)}` in the baseline (a level; the
    /// reference economy's is 1).
    pub imr_base: f64,
    /// The inward resistance `P_i` in the conditional GE.
    pub imr_conditional: f64,
    /// The outward resistance `Π_i` in the baseline (a level; with `procedure: AdvancedGuide`
    /// the book's `OMR^{1/(1−σ)}`).
    pub omr_base: f64,
    /// The outward resistance `Π_i` in the conditional GE.
    pub omr_conditional: f64,
}

/// One directed pair's flow (baseline and counterfactual full GE).
#[derive(Debug, Clone, PartialEq)]
pub struct GravityBilateralRow {
    /// The exporter, as an index into [`GravityOutcome::names`].
    pub exporter: usize,
    /// The importer, as an index into [`GravityOutcome::names`].
    pub importer: usize,
    /// The baseline flow `X_ij` (domestic sales when exporter = importer), in the data's
    /// currency unit.
    pub value_base: f64,
    /// The flow `X'_ij` in the full-endowment counterfactual.
    pub value: f64,
    /// The change of the flow, %, following the scenario's [`Orientation`].
    pub change_pct: f64,
}

/// Everything a gravity scenario produces: the three solutions of MODEL.md §2 (baseline,
/// conditional GE, full-endowment GE) and the rows of `economies.csv` and `bilateral.csv`.
/// [`RunJob::run`](crate::RunJob::run) returns it in
/// [`GravityRun::outcome`](crate::workflow::run::GravityRun::outcome).
#[derive(Debug, Clone)]
pub struct GravityOutcome {
    /// The scenario's `name`.
    pub scenario: String,
    /// The baseline year of the data.
    pub year: i64,
    /// The elasticity of substitution σ (the trade elasticity is σ − 1).
    pub sigma: f64,
    /// How the counterfactual was solved (exact, or the Guide's procedure).
    pub procedure: Procedure,
    /// Which world the `*_pct` columns are relative to.
    pub orientation: Orientation,
    /// The economies, in the order of every vector and matrix here.
    pub names: Vec<String>,
    /// Index into `names` of the reference economy, whose price index is fixed at 1.
    pub reference: usize,
    /// Trade costs `t^{1−σ}` in the baseline and the counterfactual (row-major); `None` with
    /// `costs: Observed`, whose baseline is the data.
    pub costs_base: Option<CostMatrix>,
    /// The counterfactual trade costs `t'^{1−σ}`; `None` with `costs: Observed`.
    pub costs_counterfactual: Option<CostMatrix>,
    /// The change `T̂_ij = t̂_ij^{1−σ}` the counterfactual applies (row-major).
    pub cost_change: Vec<f64>,
    /// How trade imbalances moved in the full-endowment counterfactual.
    pub imbalances: Imbalances,
    /// The baseline solution (resistances and flows at the baseline costs).
    pub baseline: Solution,
    /// The conditional GE: counterfactual costs with output and expenditure fixed.
    pub conditional: Solution,
    /// The full-endowment GE: factory-gate prices, output and expenditure adjust.
    pub full: Solution,
    /// Cost coefficients used (given or estimated).
    pub coefficients: Vec<(String, f64)>,
    /// Passes of the Guide's loop (AdvancedGuide procedure only).
    pub guide_passes: Option<usize>,
    /// One row per economy (`economies.csv`), in the order of `names`.
    pub economies: Vec<GravityEconomyRow>,
    /// One row per directed pair, domestic pairs included (`bilateral.csv`), exporter-major.
    pub bilateral: Vec<GravityBilateralRow>,
}

/// Reads the scenario file at `path`, solves it and returns the outcome (the unit tests'
/// shortcut; users go through [`crate::run::load`] and [`crate::RunJob::run`]).
#[cfg(test)]
pub(crate) fn run_gravity_scenario(path: impl AsRef<std::path::Path>) -> Result<GravityOutcome> {
    let scenario = super::scenario::load_gravity_scenario(path.as_ref())?;
    run_scenario(&scenario)
}

fn change_columns(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::SetCovariate { column, .. }
            | Change::RemoveBorder { column, .. }
            | Change::ChangeTariff { column, .. }
            | Change::CovariateChange { column, .. } => Some(column.clone()),
            Change::PartialEffect { .. } => None,
        })
        .collect()
}

/// The years a `CovariateChange` reads besides the baseline year.
fn change_years(s: &GravityScenario) -> Vec<i64> {
    s.counterfactual
        .iter()
        .flat_map(|c| match c {
            Change::CovariateChange {
                to_year, from_year, ..
            } => vec![*to_year, from_year.unwrap_or(s.year)],
            _ => vec![],
        })
        .collect()
}

/// The data the scenario reads: the columns its costs and counterfactual name, in the years
/// they need, the baseline year's complete matrix, and the reference economy's index.
fn load_data(s: &GravityScenario) -> Result<(Panel, YearData, usize)> {
    let mut columns: Vec<String> = Vec::new();
    let mut add = |c: &str| {
        if !columns.iter().any(|x| x == c) {
            columns.push(c.to_string());
        }
    };
    let (covariates, mut years): (Vec<Covariate>, Vec<i64>) = match &s.costs {
        Costs::Observed => (vec![], vec![s.year]),
        Costs::Coefficients { coefficients, .. } => (
            coefficients.keys().map(|k| Covariate::parse(k)).collect(),
            vec![s.year],
        ),
        Costs::Estimate {
            years,
            pair,
            policy,
            fill,
        } => {
            add(pair);
            (
                policy
                    .iter()
                    .chain(fill)
                    .map(|k| Covariate::parse(k))
                    .collect(),
                years.clone(),
            )
        }
    };
    for c in &covariates {
        add(&c.column);
    }
    for c in change_columns(&s.counterfactual) {
        add(&c);
    }
    for y in change_years(s) {
        if !years.contains(&y) {
            years.push(y);
        }
    }
    if !s.data.exists() {
        let why = crate::error::reference_data_note(&s.data).unwrap_or_else(|| {
            "paths in `data` are relative to the scenario file's directory".to_string()
        });
        return Err(Error::invalid(
            format!("{} (field data)", s.path.display()),
            format!("the data file {} does not exist; {why}", s.data.display()),
        ));
    }
    let panel = load_panel(&s.data, &s.columns, &years, &columns)?;
    let yd = panel.year(s.year)?;
    let reference = yd
        .names
        .iter()
        .position(|c| *c == s.reference)
        .ok_or_else(|| {
            Error::invalid(
                format!("{} (field reference)", s.path.display()),
                format!(
                    "\"{}\" is not an economy of {} in {}; choose one of: {}",
                    s.reference,
                    s.data.display(),
                    s.year,
                    yd.names.join(", ")
                ),
            )
        })?;
    Ok((panel, yd, reference))
}

/// What `tradesim check` can find in the data without estimating or solving: the data read
/// and the baseline year complete ([`load_data`]), the covariates of `Coefficients` costs
/// present, and with `Observed` costs the flows usable (positive domestic sales) and the
/// counterfactual's columns and economies there. Returns a line describing the data.
pub(crate) fn check_data(s: &GravityScenario) -> Result<String> {
    let (panel, yd, _) = load_data(s)?;
    match &s.costs {
        Costs::Observed => {
            observed_inputs(s, &panel, &yd)?;
        }
        Costs::Coefficients {
            coefficients,
            constant,
        } => {
            let (_, betas) = coefficient_costs(&panel, &yd, coefficients, *constant)?;
            cost_change_log(s, &panel, &yd, &betas)?;
        }
        // Its columns are read by `load_data`; the estimate itself is left to `run`.
        Costs::Estimate { .. } => {}
    }
    let n = yd.names.len();
    Ok(format!(
        "{n} economies in {}, all {} pairs present, domestic sales included",
        s.year,
        n * n
    ))
}

/// Baseline costs `t_ij^{1−σ}` (row-major) and the covariates with their coefficients.
type CostsAndCoefficients = (Vec<f64>, Vec<(Covariate, f64)>);

/// The baseline costs of `costs: Coefficients`, `t_ij^{1−σ} = exp(β_0 + Σ_k β_k z_kij)` (the
/// sum in the order of the coefficients), row-major, with each covariate and its coefficient.
fn coefficient_costs(
    panel: &Panel,
    yd: &YearData,
    coefficients: &BTreeMap<String, f64>,
    constant: f64,
) -> Result<CostsAndCoefficients> {
    let betas: Vec<(Covariate, f64)> = coefficients
        .iter()
        .map(|(k, b)| (Covariate::parse(k), *b))
        .collect();
    let n = yd.names.len();
    let mut t = vec![constant; n * n];
    for (cov, b) in &betas {
        panel.add_covariate(cov, *b, &yd.obs, &mut t)?;
    }
    t.iter_mut().for_each(|v| *v = v.exp());
    Ok((t, betas))
}

/// Solves a checked scenario.
pub(crate) fn run_scenario(s: &GravityScenario) -> Result<GravityOutcome> {
    let (panel, yd, reference) = load_data(s)?;
    // baseline costs and the coefficients of the covariates the counterfactual may change
    if s.costs == Costs::Observed {
        return run_observed(s, &panel, &yd, reference);
    }
    let (base_costs, betas): CostsAndCoefficients = match &s.costs {
        Costs::Observed => unreachable!("handled above"),
        Costs::Coefficients {
            coefficients,
            constant,
        } => coefficient_costs(&panel, &yd, coefficients, *constant)?,
        Costs::Estimate {
            years,
            pair,
            policy,
            fill,
        } => {
            let est = super::estimate::guide_costs(&panel, &yd, years, pair, policy, fill)?;
            (est.costs, est.policy)
        }
    };
    let log_change = cost_change_log(s, &panel, &yd, &betas)?;
    let cost_change = changes_from_logs(&log_change);
    let cf_costs: Vec<f64> = base_costs
        .iter()
        .zip(&cost_change)
        .map(|(t, b)| t * b)
        .collect();
    let costs_base = CostMatrix::new(&yd.names, base_costs)?;
    let costs_cf = CostMatrix::new(&yd.names, cf_costs)?;
    let world = World::new(
        yd.names.clone(),
        yd.output.clone(),
        yd.expenditure.clone(),
        reference,
    )?;
    let (baseline, conditional, full, passes) = match s.procedure {
        Procedure::Exact if s.imbalances == Imbalances::Additive => {
            // hat algebra on the fitted baseline flows, GE_gravity's additive imbalances
            let base = gravity::baseline(&world, &costs_base, &s.solver)?;
            let cond = gravity::conditional(&world, &costs_cf, &s.solver)?;
            let data = ObservedFlows::new(yd.names.clone(), base.flows.clone())?;
            let hat = observed::full_endowment(
                &data,
                &cost_change,
                s.theta(),
                observed::Imbalances::Additive,
                &s.solver,
            )?;
            let full = solution_from_hats(&base, hat);
            (base, cond, full, None)
        }
        Procedure::Exact => {
            let r = gravity::solve_exact(&world, &costs_base, &costs_cf, s.sigma, &s.solver)?;
            (r.baseline, r.conditional, r.full, None)
        }
        Procedure::AdvancedGuide => {
            if s.imbalances == Imbalances::Additive {
                return Err(Error::invalid(
                    format!("{} (field imbalances)", s.path.display()),
                    "the Guide's procedure keeps expenditure a multiple of output; remove imbalances: Additive or use procedure: Exact",
                ));
            }
            if s.columns.output.is_some() || s.columns.expenditure.is_some() {
                return Err(Error::invalid(
                    format!("{} (field procedure)", s.path.display()),
                    "the Guide's procedure takes output and expenditure from the flows; remove columns.output/expenditure or use procedure: Exact",
                ));
            }
            let r = guide::run(
                &yd.names,
                &yd.trade,
                &costs_base,
                &costs_cf,
                s.sigma,
                reference,
                50,
                &s.solver,
            )?;
            (r.baseline, r.conditional, r.full, Some(r.passes))
        }
    };
    let mut coefficients: Vec<(String, f64)> =
        betas.iter().map(|(c, b)| (c.label.clone(), *b)).collect();
    coefficients.extend(change_coefficients(s));
    Ok(outcome(
        s,
        &yd.names,
        reference,
        [baseline, conditional, full],
        (Some(costs_base), Some(costs_cf), cost_change),
        coefficients,
        passes,
    ))
}

/// The coefficients the counterfactual's `CovariateChange`s bring.
fn change_coefficients(s: &GravityScenario) -> Vec<(String, f64)> {
    s.counterfactual
        .iter()
        .filter_map(|c| match c {
            Change::CovariateChange {
                column,
                coefficient,
                ..
            } => Some((column.clone(), *coefficient)),
            _ => None,
        })
        .collect()
}

fn outcome(
    s: &GravityScenario,
    names: &[String],
    reference: usize,
    [baseline, conditional, full]: [Solution; 3],
    (costs_base, costs_counterfactual, cost_change): (
        Option<CostMatrix>,
        Option<CostMatrix>,
        Vec<f64>,
    ),
    coefficients: Vec<(String, f64)>,
    guide_passes: Option<usize>,
) -> GravityOutcome {
    let n = names.len();
    let economies = tabulate(s, names, &baseline, &conditional, &full);
    let bilateral = (0..n * n)
        .map(|k| GravityBilateralRow {
            exporter: k / n,
            importer: k % n,
            value_base: baseline.flows[k],
            value: full.flows[k],
            change_pct: pct(s.orientation, baseline.flows[k], full.flows[k]),
        })
        .collect();
    GravityOutcome {
        scenario: s.name.clone(),
        year: s.year,
        sigma: s.sigma,
        procedure: s.procedure,
        orientation: s.orientation,
        names: names.to_vec(),
        reference,
        costs_base,
        costs_counterfactual,
        cost_change,
        imbalances: s.imbalances,
        baseline,
        conditional,
        full,
        coefficients,
        guide_passes,
        economies,
        bilateral,
    }
}

/// The observed flows of `costs: Observed` and the counterfactual's change of each pair's
/// `t^{1−σ}` (row-major), checked: output and expenditure come from the flows, which must be
/// usable ([`ObservedFlows::new`]).
fn observed_inputs(
    s: &GravityScenario,
    panel: &Panel,
    yd: &YearData,
) -> Result<(ObservedFlows, Vec<f64>)> {
    if s.columns.output.is_some() || s.columns.expenditure.is_some() {
        return Err(Error::invalid(
            format!("{} (field columns)", s.path.display()),
            "costs: Observed takes output and expenditure from the flows (row and column sums, domestic sales included); remove columns.output/expenditure",
        ));
    }
    let data = ObservedFlows::new(yd.names.clone(), yd.trade.clone()).map_err(|e| {
        Error::invalid(
            format!("{} (year {})", panel.path.display(), s.year),
            e.to_string(),
        )
    })?;
    let log_change = cost_change_log(s, panel, yd, &[])?;
    Ok((data, changes_from_logs(&log_change)))
}

/// `costs: Observed`: the baseline is the year's observed flows; the conditional and full GE
/// are solved in changes on them ([`observed`]).
fn run_observed(
    s: &GravityScenario,
    panel: &Panel,
    yd: &YearData,
    reference: usize,
) -> Result<GravityOutcome> {
    let (data, cost_change) = observed_inputs(s, panel, yd)?;
    let imbalances = match s.imbalances {
        Imbalances::Additive => observed::Imbalances::Additive,
        Imbalances::Multiplicative => observed::Imbalances::Multiplicative,
    };
    let cond = observed::conditional(&data, &cost_change, reference, &s.solver)?;
    let full = observed::full_endowment(&data, &cost_change, s.theta(), imbalances, &s.solver)?;
    let n = data.names().len();
    let baseline = Solution {
        output: data.output().to_vec(),
        expenditure: data.expenditure().to_vec(),
        price: vec![1.0; n],
        outward: vec![1.0; n],
        inward: vec![1.0; n],
        flows: data.flows().to_vec(),
        convergence: Convergence::default(),
        market_residual: 0.0,
    };
    let conditional = solution_from_hats(&baseline, cond);
    let full = solution_from_hats(&baseline, full);
    Ok(outcome(
        s,
        &yd.names,
        reference,
        [baseline, conditional, full],
        (None, None, cost_change),
        change_coefficients(s),
        None,
    ))
}

/// `T̂_ij = exp(ln T̂_ij)`; the pairs a counterfactual leaves alone (a log change of exactly
/// zero, most pairs) get `exp(0) = 1` without calling `exp`.
fn changes_from_logs(log_change: &[f64]) -> Vec<f64> {
    log_change
        .iter()
        .map(|&d| if d == 0.0 { 1.0 } else { d.exp() })
        .collect()
}

/// A solution in levels from one in changes relative to `base`: resistances multiply.
fn solution_from_hats(base: &Solution, hat: HatSolution) -> Solution {
    Solution {
        output: hat.output,
        expenditure: hat.expenditure,
        price: hat.price,
        outward: base
            .outward
            .iter()
            .zip(&hat.outward)
            .map(|(a, b)| a * b)
            .collect(),
        inward: base
            .inward
            .iter()
            .zip(&hat.inward)
            .map(|(a, b)| a * b)
            .collect(),
        flows: hat.flows,
        convergence: hat.convergence,
        market_residual: hat.market_residual,
    }
}

fn pct(o: Orientation, base: f64, cf: f64) -> f64 {
    match o {
        Orientation::CounterfactualVsBaseline => (cf / base - 1.0) * 100.0,
        Orientation::BaselineVsCounterfactual => (base / cf - 1.0) * 100.0,
    }
}

fn tabulate(
    s: &GravityScenario,
    names: &[String],
    base: &Solution,
    cond: &Solution,
    full: &Solution,
) -> Vec<GravityEconomyRow> {
    let o = s.orientation;
    let (xb, xc, xf) = (base.exports(), cond.exports(), full.exports());
    let (mb, mf) = (base.imports(), full.imports());
    let (pb, pf) = (base.price_index(s.sigma), full.price_index(s.sigma));
    let (ob, of) = (base.outward_level(s.sigma), full.outward_level(s.sigma));
    let (pc, oc) = (cond.price_index(s.sigma), cond.outward_level(s.sigma));
    (0..names.len())
        .map(|i| {
            let price_pct = match (s.procedure, o) {
                // the book reports (1 − p)·100, not (1/p − 1)·100
                (Procedure::AdvancedGuide, Orientation::BaselineVsCounterfactual) => {
                    (1.0 - full.price[i]) * 100.0
                }
                _ => pct(o, base.price[i], full.price[i]),
            };
            GravityEconomyRow {
                economy: names[i].clone(),
                exports_base: xb[i],
                exports: xf[i],
                imports_base: mb[i],
                imports: mf[i],
                output_base: base.output[i],
                output: full.output[i],
                expenditure_base: base.expenditure[i],
                expenditure: full.expenditure[i],
                real_income_pct: pct(o, base.expenditure[i] / pb[i], full.expenditure[i] / pf[i]),
                real_gdp_pct: pct(o, base.output[i] / pb[i], full.output[i] / pf[i]),
                imr_pct: pct(o, pb[i], pf[i]),
                omr_pct: pct(o, ob[i], of[i]),
                price_pct,
                exports_pct: pct(o, xb[i], xf[i]),
                imports_pct: pct(o, mb[i], mf[i]),
                exports_conditional_pct: pct(o, xb[i], xc[i]),
                imr_base: pb[i],
                imr_conditional: pc[i],
                omr_base: ob[i],
                omr_conditional: oc[i],
            }
        })
        .collect()
}

fn resolve_pairs(
    s: &GravityScenario,
    names: &[String],
    pairs: &Pairs,
) -> Result<Vec<(usize, usize)>> {
    let idx = |c: &str| -> Result<usize> {
        names.iter().position(|x| x == c).ok_or_else(|| {
            Error::invalid(
                format!("{} (field counterfactual)", s.path.display()),
                format!(
                    "\"{c}\" is not an economy of the data in {}; choose among: {}",
                    s.year,
                    names.join(", ")
                ),
            )
        })
    };
    let n = names.len();
    let mut out = Vec::new();
    match pairs {
        Pairs::All => {
            for i in 0..n {
                for j in 0..n {
                    if i != j {
                        out.push((i, j));
                    }
                }
            }
        }
        Pairs::Among(list) => {
            let ids: Vec<usize> = list.iter().map(|c| idx(c)).collect::<Result<_>>()?;
            for &i in &ids {
                for &j in &ids {
                    if i != j {
                        out.push((i, j));
                    }
                }
            }
        }
        Pairs::Between(a, b) => {
            let a: Vec<usize> = a.iter().map(|c| idx(c)).collect::<Result<_>>()?;
            let b: Vec<usize> = b.iter().map(|c| idx(c)).collect::<Result<_>>()?;
            for &i in &a {
                for &j in &b {
                    if i != j {
                        out.push((i, j));
                        out.push((j, i));
                    }
                }
            }
        }
        Pairs::Directed(list) => {
            for (e, i) in list {
                let (e, i) = (idx(e)?, idx(i)?);
                if e == i {
                    return Err(Error::invalid(
                        format!("{} (field counterfactual)", s.path.display()),
                        format!(
                            "the pair ({0}, {0}) is domestic; changes apply to international pairs",
                            names[e]
                        ),
                    ));
                }
                out.push((e, i));
            }
        }
    }
    Ok(out)
}

/// The log change of `t_ij^{1−σ}`: `Σ_k β_k (f(z'_k) − f(z_k))` for the changed covariates,
/// `ε ln((1+τ')/(1+τ))` for changed tariffs, plus the partial effects (`PartialEffect`,
/// `CovariateChange`). Counterfactual costs are the baseline costs times its exponential.
fn cost_change_log(
    s: &GravityScenario,
    panel: &Panel,
    yd: &YearData,
    betas: &[(Covariate, f64)],
) -> Result<Vec<f64>> {
    let n = yd.names.len();
    let raw = |column: &str| -> Vec<f64> {
        let c = panel.column(column).expect("change columns are loaded");
        yd.obs.iter().map(|&k| panel.value(k, c)).collect()
    };
    let mut current: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut tariffs: BTreeMap<String, (Vec<f64>, f64)> = BTreeMap::new();
    let mut log_shift = vec![0.0; n * n];
    for change in &s.counterfactual {
        match change {
            Change::PartialEffect { pairs, effect } => {
                for (i, j) in resolve_pairs(s, &yd.names, pairs)? {
                    log_shift[i * n + j] += effect;
                }
            }
            Change::CovariateChange {
                column,
                coefficient,
                to_year,
                from_year,
            } => {
                let from = from_year.unwrap_or(s.year);
                let to = column_in_year(panel, yd, column, *to_year)?;
                let at = column_in_year(panel, yd, column, from)?;
                for k in 0..n * n {
                    if k / n != k % n {
                        log_shift[k] += coefficient * (to[k] - at[k]);
                    }
                }
            }
            Change::SetCovariate {
                column,
                pairs,
                value,
            } => set_covariate(
                s,
                &yd.names,
                betas,
                &mut current,
                &raw,
                column,
                pairs,
                *value,
            )?,
            Change::RemoveBorder { column, pairs } => {
                set_covariate(s, &yd.names, betas, &mut current, &raw, column, pairs, 0.0)?
            }
            Change::ChangeTariff {
                column,
                pairs,
                rate,
                elasticity,
            } => {
                let e = elasticity.unwrap_or(1.0 - s.sigma);
                let entry = tariffs
                    .entry(column.clone())
                    .or_insert_with(|| (raw(column), e));
                entry.1 = e;
                for (i, j) in resolve_pairs(s, &yd.names, pairs)? {
                    entry.0[i * n + j] = *rate;
                }
            }
        }
    }
    for (column, values) in &current {
        let old = raw(column);
        for (cov, b) in betas.iter().filter(|(c, _)| &c.column == column) {
            for k in 0..n * n {
                if values[k] != old[k] {
                    let f = |v: f64| if cov.log { v.ln() } else { v };
                    let d = b * (f(values[k]) - f(old[k]));
                    if !d.is_finite() {
                        return Err(Error::invalid(
                            format!("{} (field counterfactual)", s.path.display()),
                            format!(
                                "{} cannot be set to {} for {} -> {}",
                                cov.label,
                                values[k],
                                yd.names[k / n],
                                yd.names[k % n]
                            ),
                        ));
                    }
                    log_shift[k] += d;
                }
            }
        }
    }
    for (column, (values, e)) in &tariffs {
        let old = raw(column);
        for k in 0..n * n {
            if values[k] != old[k] {
                if old[k] <= -1.0 || old[k].is_nan() {
                    return Err(Error::data(
                        &panel.path,
                        panel.obs[yd.obs[k]].line,
                        format!("tariff {column} is {}; an ad valorem rate must be above -1 (0.05 = 5%)", old[k]),
                    ));
                }
                log_shift[k] += e * ((1.0 + values[k]) / (1.0 + old[k])).ln();
            }
        }
    }
    Ok(log_shift)
}

/// The values of `column` in `year` for every pair of the baseline year's economies
/// (row-major); an error names the first pair without a row in that year.
fn column_in_year(panel: &Panel, yd: &YearData, column: &str, year: i64) -> Result<Vec<f64>> {
    let c = panel.column(column).expect("change columns are loaded");
    let n = yd.names.len();
    let index: HashMap<(usize, usize), usize> = panel
        .obs
        .iter()
        .enumerate()
        .filter(|(_, o)| o.year == year)
        .map(|(k, o)| ((o.exporter, o.importer), k))
        .collect();
    (0..n * n)
        .map(|k| {
            let (i, j) = (yd.panel_index[k / n], yd.panel_index[k % n]);
            index
                .get(&(i, j))
                .map(|&o| panel.value(o, c))
                .ok_or_else(|| {
                    Error::invalid(
                        panel.path.display().to_string(),
                        format!(
                            "no row for exporter {}, importer {} in year {year}, which CovariateChange on \"{column}\" reads; add the row or choose years the data cover for every pair",
                            yd.names[k / n], yd.names[k % n]
                        ),
                    )
                })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn set_covariate(
    s: &GravityScenario,
    names: &[String],
    betas: &[(Covariate, f64)],
    current: &mut BTreeMap<String, Vec<f64>>,
    raw: &dyn Fn(&str) -> Vec<f64>,
    column: &str,
    pairs: &Pairs,
    value: f64,
) -> Result<()> {
    if !betas.iter().any(|(c, _)| c.column == column) {
        return Err(Error::invalid(
            format!("{} (field counterfactual)", s.path.display()),
            format!(
                "\"{column}\" is not a trade-cost covariate of this scenario's costs ({}); add it to costs (coefficients or policy) or change another column",
                betas.iter().map(|(c, _)| c.label.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    if !value.is_finite() {
        return Err(Error::invalid(
            format!("{} (field counterfactual)", s.path.display()),
            format!("value {value} for {column} is not a number"),
        ));
    }
    let n = names.len();
    let entry = current
        .entry(column.to_string())
        .or_insert_with(|| raw(column));
    for (i, j) in resolve_pairs(s, names, pairs)? {
        entry[i * n + j] = value;
    }
    Ok(())
}
