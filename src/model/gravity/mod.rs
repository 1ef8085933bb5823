//! Single-sector structural gravity: multilateral resistances and general equilibrium.
//!
//! References: Anderson & van Wincoop (2003), "Gravity with Gravitas", AER 93(1);
//! Yotov, Piermartini, Monteiro & Larch (2016), *An Advanced Guide to Trade Policy Analysis:
//! The Structural Gravity Model*, WTO/UNCTAD, chapter 2 (the "Guide").
//!
//! The model (economies `i` exporter, `j` importer, σ the elasticity of substitution):
//!
//! ```text
//! X_ij = (Y_i/Y) E_j (t_ij / (Π_i P_j))^{1−σ}
//! Π_i^{1−σ} = Σ_j (t_ij/P_j)^{1−σ} E_j/E        (outward multilateral resistance, OMR)
//! P_j^{1−σ} = Σ_i (t_ij/Π_i)^{1−σ} Y_i/Y        (inward multilateral resistance, IMR)
//! P_ref = 1                                      (the reference economy's price index)
//! ```
//!
//! Trade costs enter only as `T_ij = t_ij^{1−σ}` ([`CostMatrix`]). `Y` and `E` are world
//! output and expenditure; when they differ (as in gegravity's sample) only the shares
//! `Y_i/Y` and `E_j/E` enter, which is exactly gegravity's system.
//!
//! Three solutions are computed:
//! - [`baseline`] / [`conditional`]: the resistances for given costs with `Y` and `E` fixed
//!   (the conditional GE is the baseline system solved with counterfactual costs);
//! - [`full_endowment`]: factory-gate prices `p_i` adjust, `Y'_i = p_i Y_i`, expenditure keeps
//!   the baseline ratio `E'_i = φ_i Y'_i` (`φ_i = E_i/Y_i`, with one common scaling that keeps
//!   world expenditure over world output as in the baseline), and every market clears:
//!   `Σ_j X'_ij = Y'_i · E'/Y'`.
//! - `guide`: the Guide's own procedure (steps 3–6 of its NAFTA application), kept to
//!   replicate the book's published numbers.
//!
//! Invariants: no I/O, no randomness; every solver reports its iterations and residual and
//! fails with an error naming the economy with the largest residual.

pub(crate) mod guide;
pub(crate) mod observed;
pub mod synthetic;

use crate::error::{Error, Result, Solver, Worst};

// The solvers' settings: `Settings::GRAVITY` by default; `step` is not used (the fixed-point
// updates are undamped).
use crate::model::solver::Settings;

/// How a solver ended: iterations used and the largest relative residual of its equations.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Convergence {
    /// Iterations (passes of the fixed point) the solver took.
    pub iterations: usize,
    /// The largest relative residual of the solved equations at the end (at most the
    /// settings' tolerance when it converged).
    pub residual: f64,
}

/// The economies of a world with their output `Y_i` and expenditure `E_i`, and the reference
/// economy whose inward multilateral resistance (price index) is fixed at 1.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    names: Vec<String>,
    output: Vec<f64>,
    expenditure: Vec<f64>,
    reference: usize,
}

impl World {
    /// Checks that every output and expenditure is finite and positive and that the reference
    /// is one of the economies.
    pub fn new(
        names: Vec<String>,
        output: Vec<f64>,
        expenditure: Vec<f64>,
        reference: usize,
    ) -> Result<Self> {
        let n = names.len();
        if n < 2 {
            return Err(Error::invalid(
                "gravity world",
                format!("{n} economies; a world needs at least 2"),
            ));
        }
        if output.len() != n || expenditure.len() != n {
            return Err(Error::invalid(
                "gravity world",
                format!(
                    "{n} economies but {} outputs and {} expenditures",
                    output.len(),
                    expenditure.len()
                ),
            ));
        }
        if reference >= n {
            return Err(Error::invalid(
                "gravity world",
                format!("reference index {reference} is out of range (0..{n})"),
            ));
        }
        for (i, name) in names.iter().enumerate() {
            for (what, v) in [("output", output[i]), ("expenditure", expenditure[i])] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(Error::invalid(
                        format!("economy {name}"),
                        format!("{what} is {v}; it must be finite and positive (check its flows, including the domestic one)"),
                    ));
                }
            }
        }
        Ok(World {
            names,
            output,
            expenditure,
            reference,
        })
    }
    /// The number of economies `N` (at least 2).
    pub fn len(&self) -> usize {
        self.names.len()
    }
    /// Never true: a world has at least 2 economies (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    /// The economies' codes, in the order of every vector and matrix of this world.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Output `Y_i` of each economy (value of its sales, domestic included), in the data's
    /// currency unit.
    pub fn output(&self) -> &[f64] {
        &self.output
    }
    /// Expenditure `E_j` of each economy (value of its purchases, domestic included).
    pub fn expenditure(&self) -> &[f64] {
        &self.expenditure
    }
    /// Index of the reference economy, whose price index `P_ref` is fixed at 1.
    pub fn reference(&self) -> usize {
        self.reference
    }
    fn with_values(&self, output: Vec<f64>, expenditure: Vec<f64>) -> World {
        World {
            names: self.names.clone(),
            output,
            expenditure,
            reference: self.reference,
        }
    }
}

/// Bilateral trade costs as `T_ij = t_ij^{1−σ}` (what PPML estimates as `exp(β'z_ij)`),
/// row-major: row `i` is the exporter, column `j` the importer.
#[derive(Debug, Clone, PartialEq)]
pub struct CostMatrix {
    n: usize,
    data: Vec<f64>,
}

impl CostMatrix {
    /// Checks that the matrix is `n × n` and every entry finite and positive; an error names
    /// the first bad pair.
    pub fn new(names: &[String], data: Vec<f64>) -> Result<Self> {
        let n = names.len();
        if data.len() != n * n {
            return Err(Error::invalid(
                "trade costs",
                format!("{} entries for {n} economies; need {}", data.len(), n * n),
            ));
        }
        for (k, v) in data.iter().enumerate() {
            if !(v.is_finite() && *v > 0.0) {
                return Err(Error::invalid(
                    format!("trade cost {} -> {}", names[k / n], names[k % n]),
                    format!("t^(1-sigma) = {v}; it must be finite and positive (check the cost covariates of this pair)"),
                ));
            }
        }
        Ok(CostMatrix { n, data })
    }
    /// The number of economies `N` (the matrix is `N × N`).
    pub fn len(&self) -> usize {
        self.n
    }
    /// Whether the matrix has no economies.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// `t_ij^{1−σ}`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n + j]
    }
    /// All `t_ij^{1−σ}`, row-major (`[i·N + j]`, exporter rows).
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }
    fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.n..(i + 1) * self.n]
    }
}

/// Multilateral resistances in the power form the equations use.
#[derive(Debug, Clone, PartialEq)]
pub struct Resistances {
    /// `Π_i^{1−σ}`.
    pub outward: Vec<f64>,
    /// `P_j^{1−σ}`; the reference economy's is 1.
    pub inward: Vec<f64>,
    /// How the resistance solve ended.
    pub convergence: Convergence,
}

/// One solved state of the world.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// `Y_i`.
    pub output: Vec<f64>,
    /// `E_j`.
    pub expenditure: Vec<f64>,
    /// Factory-gate prices `p_i` (1 in the baseline and the conditional GE).
    pub price: Vec<f64>,
    /// `Π_i^{1−σ}`.
    pub outward: Vec<f64>,
    /// `P_j^{1−σ}`.
    pub inward: Vec<f64>,
    /// Bilateral flows `X_ij`, row-major (exporter rows), domestic sales on the diagonal.
    pub flows: Vec<f64>,
    /// How the solve ended (for the full endowment GE: the price loop).
    pub convergence: Convergence,
    /// Largest relative market-clearing residual `|Σ_j X_ij / (Y_i E/Y) − 1|`.
    pub market_residual: f64,
}

impl Solution {
    /// Foreign sales `Σ_{j≠i} X_ij` of every exporter.
    pub fn exports(&self) -> Vec<f64> {
        let n = self.output.len();
        (0..n)
            .map(|i| {
                (0..n)
                    .filter(|&j| j != i)
                    .map(|j| self.flows[i * n + j])
                    .sum()
            })
            .collect()
    }
    /// Foreign purchases `Σ_{i≠j} X_ij` of every importer.
    pub fn imports(&self) -> Vec<f64> {
        let n = self.output.len();
        (0..n)
            .map(|j| {
                (0..n)
                    .filter(|&i| i != j)
                    .map(|i| self.flows[i * n + j])
                    .sum()
            })
            .collect()
    }
    /// The price index `P_j = (P_j^{1−σ})^{1/(1−σ)}`.
    pub fn price_index(&self, sigma: f64) -> Vec<f64> {
        self.inward
            .iter()
            .map(|v| v.powf(1.0 / (1.0 - sigma)))
            .collect()
    }
    /// The outward resistance `Π_i = (Π_i^{1−σ})^{1/(1−σ)}`.
    pub fn outward_level(&self, sigma: f64) -> Vec<f64> {
        self.outward
            .iter()
            .map(|v| v.powf(1.0 / (1.0 - sigma)))
            .collect()
    }
}

/// The elasticities of substitution σ tradesim accepts. The resistances' levels are
/// `(·)^{1/(1−σ)}`: at σ = 1.01 that is a power of −100, which overflows double precision on
/// ordinary data (gegravity's sample gives infinite and zero resistances); from 1.1 on the
/// levels stay finite. Above 100 the trade elasticity σ − 1 is beyond any estimate.
pub const SIGMA_RANGE: (f64, f64) = (1.1, 100.0);

/// Checks that σ lies in [`SIGMA_RANGE`].
pub(crate) fn check_sigma(sigma: f64) -> Result<()> {
    let (lo, hi) = SIGMA_RANGE;
    if sigma.is_finite() && (lo..=hi).contains(&sigma) {
        Ok(())
    } else {
        Err(Error::invalid(
            "sigma",
            format!("{sigma} is not an elasticity of substitution tradesim accepts: σ must lie between {lo} and {hi} (the Guide uses 7, gegravity's example 5); below {lo} the multilateral resistances, raised to 1/(1−σ), overflow"),
        ))
    }
}

fn check_sizes(world: &World, costs: &CostMatrix) -> Result<()> {
    if world.len() != costs.len() {
        return Err(Error::invalid(
            "gravity model",
            format!(
                "{} economies but a {}×{} cost matrix",
                world.len(),
                costs.len(),
                costs.len()
            ),
        ));
    }
    Ok(())
}

fn argmax_abs(values: &[f64]) -> (usize, f64) {
    let mut best = (0, 0.0_f64);
    for (k, v) in values.iter().enumerate() {
        let a = if v.is_nan() { f64::INFINITY } else { v.abs() };
        if a > best.1 || k == 0 {
            best = (k, a);
        }
    }
    best
}

fn not_converged(
    solver: Solver,
    world: &World,
    iterations: usize,
    residuals: &[f64],
    tolerance: f64,
    hint: &str,
) -> Error {
    let (k, r) = argmax_abs(residuals);
    Error::not_converged(
        solver,
        iterations,
        r,
        tolerance,
        Some(Worst::Economy(world.names[k].clone())),
        hint,
    )
}

/// Residuals of the resistance equations (MODEL.md §2; Anderson & van Wincoop 2003, eqs. 9–10):
/// `1 − Π_i^{1−σ} / Σ_j T_ij (E_j/E) / P_j^{1−σ}` for every exporter, then
/// `1 − P_j^{1−σ} / Σ_i T_ij (Y_i/Y) / Π_i^{1−σ}` for every importer.
pub fn resistance_residuals(
    world: &World,
    costs: &CostMatrix,
    outward: &[f64],
    inward: &[f64],
) -> Vec<f64> {
    let n = world.len();
    let (ys, es) = shares(world);
    let mut out = Vec::with_capacity(2 * n);
    for (i, o) in outward.iter().enumerate() {
        let s: f64 = costs
            .row(i)
            .iter()
            .zip(&es)
            .zip(inward)
            .map(|((t, e), p)| t * e / p)
            .sum();
        out.push(1.0 - o / s);
    }
    for (j, p) in inward.iter().enumerate() {
        let s: f64 = (0..n).map(|i| costs.get(i, j) * ys[i] / outward[i]).sum();
        out.push(1.0 - p / s);
    }
    out
}

fn shares(world: &World) -> (Vec<f64>, Vec<f64>) {
    let y: f64 = world.output.iter().sum();
    let e: f64 = world.expenditure.iter().sum();
    (
        world.output.iter().map(|v| v / y).collect(),
        world.expenditure.iter().map(|v| v / e).collect(),
    )
}

/// Solves the multilateral resistances (MODEL.md §2; Anderson & van Wincoop 2003; Guide ch. 2
/// eqs. 2-3, 2-4):
///
/// ```text
/// Π_i^{1−σ} = Σ_j T_ij (E_j/E) / P_j^{1−σ},   P_j^{1−σ} = Σ_i T_ij (Y_i/Y) / Π_i^{1−σ},   P_ref^{1−σ} = 1
/// ```
///
/// by alternating scaling (Sinkhorn–Knopp on `a_i = 1/Π_i^{1−σ}`, `b_j = 1/P_j^{1−σ}`), which
/// converges from `P = 1` for any positive cost matrix without rescaling; stops when every
/// equation holds to `options.tolerance` (relative).
pub fn solve_resistances(
    world: &World,
    costs: &CostMatrix,
    options: &Settings,
) -> Result<Resistances> {
    check_sizes(world, costs)?;
    solve_resistances_from(world, costs, options, None)
}

fn solve_resistances_from(
    world: &World,
    costs: &CostMatrix,
    options: &Settings,
    start: Option<&[f64]>,
) -> Result<Resistances> {
    let n = world.len();
    let r = world.reference;
    let (ys, es) = shares(world);
    // b_j = 1 / P_j^{1−σ}, a_i = 1 / Π_i^{1−σ}
    let mut b: Vec<f64> = match start {
        Some(inward) => inward.iter().map(|p| 1.0 / p).collect(),
        None => vec![1.0; n],
    };
    let mut a = vec![0.0; n];
    let mut col = vec![0.0; n];
    let update_a = |a: &mut [f64], b: &[f64]| {
        for (i, ai) in a.iter_mut().enumerate() {
            let s: f64 = costs
                .row(i)
                .iter()
                .zip(&es)
                .zip(b)
                .map(|((t, e), bj)| t * e * bj)
                .sum();
            *ai = 1.0 / s;
        }
    };
    update_a(&mut a, &b);
    let mut iterations = 0;
    let mut residual = f64::INFINITY;
    while iterations < options.max_iterations() {
        iterations += 1;
        // columns: Σ_i T_ij y_i a_i
        col.iter_mut().for_each(|c| *c = 0.0);
        for i in 0..n {
            let w = ys[i] * a[i];
            for (c, t) in col.iter_mut().zip(costs.row(i)) {
                *c += t * w;
            }
        }
        let mut change = 0.0_f64;
        for j in 0..n {
            let new = 1.0 / col[j];
            change = change.max((new / b[j] - 1.0).abs());
            b[j] = new;
        }
        // normalise P_ref = 1
        let c = b[r];
        b.iter_mut().for_each(|v| *v /= c);
        a.iter_mut().for_each(|v| *v *= c);
        update_a(&mut a, &b);
        if change <= options.tolerance() * 0.1 || iterations % 16 == 0 {
            let outward: Vec<f64> = a.iter().map(|v| 1.0 / v).collect();
            let inward: Vec<f64> = b.iter().map(|v| 1.0 / v).collect();
            let res = resistance_residuals(world, costs, &outward, &inward);
            residual = argmax_abs(&res).1;
            if residual <= options.tolerance() {
                return Ok(Resistances {
                    outward,
                    inward,
                    convergence: Convergence {
                        iterations,
                        residual,
                    },
                });
            }
            if !residual.is_finite() {
                break;
            }
        }
    }
    let outward: Vec<f64> = a.iter().map(|v| 1.0 / v).collect();
    let inward: Vec<f64> = b.iter().map(|v| 1.0 / v).collect();
    let res = resistance_residuals(world, costs, &outward, &inward);
    // one residual per economy: the worse of its two equations
    let per_economy: Vec<f64> = (0..n).map(|k| res[k].abs().max(res[n + k].abs())).collect();
    let _ = residual;
    Err(not_converged(
        Solver::Resistances,
        world,
        iterations,
        &per_economy,
        options.tolerance(),
        "check that its trade costs are not extreme (e.g. a cost covariate in the wrong units) or raise max_iterations",
    ))
}

/// Flows implied by the structural gravity equation `X_ij = (Y_i/Y) E_j T_ij / (Π_i^{1−σ} P_j^{1−σ})`.
pub(crate) fn gravity_flows(world: &World, costs: &CostMatrix, res: &Resistances) -> Vec<f64> {
    let n = world.len();
    let y: f64 = world.output.iter().sum();
    let mut flows = vec![0.0; n * n];
    for i in 0..n {
        let yi = world.output[i] / y / res.outward[i];
        for j in 0..n {
            flows[i * n + j] = yi * world.expenditure[j] * costs.get(i, j) / res.inward[j];
        }
    }
    flows
}

fn market_residual(world: &World, flows: &[f64]) -> Vec<f64> {
    let n = world.len();
    let y: f64 = world.output.iter().sum();
    let e: f64 = world.expenditure.iter().sum();
    (0..n)
        .map(|i| {
            let sales: f64 = flows[i * n..(i + 1) * n].iter().sum();
            sales / (world.output[i] * e / y) - 1.0
        })
        .collect()
}

fn solution_at(world: &World, costs: &CostMatrix, res: Resistances, price: Vec<f64>) -> Solution {
    let flows = gravity_flows(world, costs, &res);
    let market = argmax_abs(&market_residual(world, &flows)).1;
    Solution {
        output: world.output.clone(),
        expenditure: world.expenditure.clone(),
        price,
        outward: res.outward,
        inward: res.inward,
        flows,
        convergence: res.convergence,
        market_residual: market,
    }
}

/// The baseline (MODEL.md §2): resistances and flows for the baseline costs with `Y`, `E` as
/// observed.
pub fn baseline(world: &World, costs: &CostMatrix, options: &Settings) -> Result<Solution> {
    let res = solve_resistances(world, costs, options)?;
    Ok(solution_at(world, costs, res, vec![1.0; world.len()]))
}

/// The conditional ("partial") GE: the resistance system with counterfactual costs,
/// output and expenditure held at their baseline values (Guide ch. 2, step III.a; MODEL.md §2
/// step 4).
pub fn conditional(
    world: &World,
    counterfactual: &CostMatrix,
    options: &Settings,
) -> Result<Solution> {
    baseline(world, counterfactual, options)
}

/// The full-endowment GE (MODEL.md §2; Guide ch. 2 eqs. 2-5 to 2-9; Anderson & van Wincoop 2003), solved
/// exactly in changes relative to the baseline solution `base`:
///
/// ```text
/// X'_ij = X_ij T̂_ij p̂_i^{1−σ} Ê_j / P̂_j^{1−σ},   P̂_j^{1−σ} = Σ_i (X_ij/E_j) T̂_ij p̂_i^{1−σ}
/// Ê_j = s p̂_j   (E'_j = φ_j Y'_j, s common so that E'/Y' = E/Y)
/// Σ_j X'_ij = p̂_i Σ_j X_ij   (every market clears)      P̂_ref = 1
/// ```
///
/// The market-clearing condition is iterated as `p̂_i ← (Σ_j X_ij T̂_ij Ê_j/P̂_j^{1−σ} / Σ_j X_ij)^{1/σ}`
/// (a gross-substitutes fixed point, homogeneous of degree 1, renormalised each pass), from
/// `p̂ = 1` with no tuning. The counterfactual resistances are then the level system at
/// `Y' = p̂ Y`, `E' = s p̂ E`, which this verifies. On failure the error names the economy with
/// the largest market-clearing residual.
pub fn full_endowment(
    world: &World,
    base: &Solution,
    costs: &CostMatrix,
    counterfactual: &CostMatrix,
    sigma: f64,
    options: &Settings,
) -> Result<Solution> {
    check_sigma(sigma)?;
    check_sizes(world, costs)?;
    check_sizes(world, counterfactual)?;
    let n = world.len();
    let r = world.reference;
    let x = &base.flows;
    let sales: Vec<f64> = (0..n).map(|i| x[i * n..(i + 1) * n].iter().sum()).collect();
    let purchases: Vec<f64> = (0..n).map(|j| (0..n).map(|i| x[i * n + j]).sum()).collect();
    // X_ij T̂_ij
    let xt: Vec<f64> = (0..n * n)
        .map(|k| x[k] * counterfactual.as_slice()[k] / costs.as_slice()[k])
        .collect();
    let one_minus = 1.0 - sigma;
    let mut p = vec![1.0; n];
    let mut w = vec![1.0; n]; // p̂^{1−σ}
    let mut phat = vec![0.0; n]; // P̂_j^{1−σ}
    let mut demand = vec![0.0; n];
    let mut resid = vec![0.0; n];
    let mut iterations = 0;
    let evaluate = |p: &[f64],
                    w: &mut [f64],
                    phat: &mut [f64],
                    demand: &mut [f64],
                    resid: &mut [f64]|
     -> f64 {
        for i in 0..n {
            w[i] = p[i].powf(one_minus);
        }
        phat.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..n {
            let wi = w[i];
            for (pj, v) in phat.iter_mut().zip(&xt[i * n..(i + 1) * n]) {
                *pj += v * wi;
            }
        }
        for j in 0..n {
            phat[j] /= purchases[j];
        }
        let s = (0..n).map(|i| p[i] * sales[i]).sum::<f64>()
            / (0..n).map(|j| p[j] * purchases[j]).sum::<f64>();
        for i in 0..n {
            let d: f64 = xt[i * n..(i + 1) * n]
                .iter()
                .enumerate()
                .map(|(j, v)| v * s * p[j] / phat[j])
                .sum();
            demand[i] = w[i] * d;
            resid[i] = demand[i] / (p[i] * sales[i]) - 1.0;
        }
        argmax_abs(resid).1
    };
    let mut residual = evaluate(&p, &mut w, &mut phat, &mut demand, &mut resid);
    while residual > options.tolerance() && iterations < options.max_iterations() {
        iterations += 1;
        for i in 0..n {
            p[i] *= (demand[i] / (p[i] * sales[i])).powf(1.0 / sigma);
        }
        // normalise P̂_ref = 1: recompute P̂_ref^{1−σ} at the new prices, scale p by it
        let pref: f64 = (0..n)
            .map(|i| xt[i * n + r] * p[i].powf(one_minus))
            .sum::<f64>()
            / purchases[r];
        let scale = pref.powf(1.0 / one_minus);
        p.iter_mut().for_each(|v| *v /= scale);
        residual = evaluate(&p, &mut w, &mut phat, &mut demand, &mut resid);
        if !residual.is_finite() {
            break;
        }
    }
    if residual > options.tolerance() {
        return Err(not_converged(
            Solver::FullEndowment,
            world,
            iterations,
            &resid,
            options.tolerance(),
            "check the counterfactual trade costs or raise max_iterations",
        ));
    }
    // levels
    let s = (0..n).map(|i| p[i] * sales[i]).sum::<f64>()
        / (0..n).map(|j| p[j] * purchases[j]).sum::<f64>();
    let output: Vec<f64> = (0..n).map(|i| p[i] * world.output[i]).collect();
    let expenditure: Vec<f64> = (0..n).map(|j| s * p[j] * world.expenditure[j]).collect();
    let flows: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            xt[k] * w[i] * s * p[j] / phat[j]
        })
        .collect();
    let cf_world = world.with_values(output, expenditure);
    let inward: Vec<f64> = (0..n).map(|j| base.inward[j] * phat[j]).collect();
    let res = solve_resistances_from(&cf_world, counterfactual, options, Some(&inward))?;
    let market = argmax_abs(&market_residual(&cf_world, &flows)).1;
    let convergence = Convergence {
        iterations,
        residual,
    };
    Ok(Solution {
        output: cf_world.output,
        expenditure: cf_world.expenditure,
        price: p,
        outward: res.outward,
        inward: res.inward,
        flows,
        convergence,
        market_residual: market,
    })
}

/// Baseline, conditional and full-endowment solutions of one counterfactual (MODEL.md §2).
#[derive(Debug, Clone, PartialEq)]
pub struct GravityResults {
    /// The world with the baseline costs ([`baseline`]).
    pub baseline: Solution,
    /// The conditional GE: counterfactual costs, `Y` and `E` fixed ([`conditional`]).
    pub conditional: Solution,
    /// The full-endowment GE: counterfactual costs, factory-gate prices adjust
    /// ([`full_endowment`]).
    pub full: Solution,
}

/// Solves the baseline, the conditional GE and the exact full-endowment GE (MODEL.md §2,
/// "the exact equilibrium"), after checking σ against [`SIGMA_RANGE`]: what a
/// `StructuralGravity(...)` scenario with `procedure: Exact` runs on its cost matrices.
///
/// The baseline and the conditional GE do not depend on each other: they are solved at the
/// same time on two threads of the rayon pool when it has them (each result is the same as
/// solved alone; a baseline error is reported first, as when they ran in turn).
pub fn solve_exact(
    world: &World,
    costs: &CostMatrix,
    counterfactual: &CostMatrix,
    sigma: f64,
    options: &Settings,
) -> Result<GravityResults> {
    check_sigma(sigma)?;
    let (base, cond) = rayon::join(
        || baseline(world, costs, options),
        || conditional(world, counterfactual, options),
    );
    let (base, cond) = (base?, cond?);
    let full = full_endowment(world, &base, costs, counterfactual, sigma, options)?;
    Ok(GravityResults {
        baseline: base,
        conditional: cond,
        full,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("E{i:03}")).collect()
    }

    fn toy(n: usize) -> (World, CostMatrix) {
        let nm = names(n);
        let output: Vec<f64> = (0..n).map(|i| 10.0 + (i * 7 % 5) as f64).collect();
        let expenditure: Vec<f64> = (0..n).map(|i| 9.0 + (i * 3 % 4) as f64).collect();
        let costs: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                if i == j {
                    1.0
                } else {
                    0.05 / (1.0 + (i as f64 - j as f64).abs())
                }
            })
            .collect();
        let w = World::new(nm.clone(), output, expenditure, 0).unwrap();
        (w, CostMatrix::new(&nm, costs).unwrap())
    }

    #[test]
    fn resistances_solve_their_equations() {
        let (w, c) = toy(12);
        let r = solve_resistances(&w, &c, &Settings::GRAVITY).unwrap();
        assert!(r.convergence.residual <= 1e-12);
        assert!((r.inward[0] - 1.0).abs() < 1e-15);
        let res = resistance_residuals(&w, &c, &r.outward, &r.inward);
        assert!(res.iter().all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn full_ge_with_unchanged_costs_is_the_baseline() {
        let (w, c) = toy(8);
        let out = solve_exact(&w, &c, &c, 5.0, &Settings::GRAVITY).unwrap();
        for i in 0..8 {
            assert!((out.full.price[i] - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn full_ge_clears_markets() {
        let (w, c) = toy(10);
        let mut cf = c.as_slice().to_vec();
        cf[1] *= 2.0; // 0 -> 1
        cf[10] *= 2.0; // 1 -> 0
        let cf = CostMatrix::new(w.names(), cf).unwrap();
        let out = solve_exact(&w, &c, &cf, 5.0, &Settings::GRAVITY).unwrap();
        assert!(
            out.full.market_residual < 1e-10,
            "{}",
            out.full.market_residual
        );
        // counterfactual flows are the gravity flows at the solved resistances
        let res = Resistances {
            outward: out.full.outward.clone(),
            inward: out.full.inward.clone(),
            convergence: Convergence::default(),
        };
        let cf_world = w.with_values(out.full.output.clone(), out.full.expenditure.clone());
        let g = gravity_flows(&cf_world, &cf, &res);
        for (a, b) in g.iter().zip(&out.full.flows) {
            assert!((a / b - 1.0).abs() < 1e-10);
        }
        let res = resistance_residuals(&cf_world, &cf, &out.full.outward, &out.full.inward);
        assert!(res.iter().all(|v| v.abs() < 1e-12));
        assert!((out.full.inward[0] - 1.0).abs() < 1e-14);
    }

    #[test]
    fn bad_settings_are_errors() {
        assert!(Settings::new(0.0, 10, 1.0).is_err());
        assert!(Settings::new(1e-10, 0, 1.0).is_err());
        assert!(check_sigma(1.0).is_err());
        assert!(check_sigma(1.01).is_err());
        assert!(check_sigma(1e9).is_err());
        assert!(check_sigma(1.1).is_ok() && check_sigma(7.0).is_ok());
        assert!(check_sigma(f64::NAN).is_err());
        let nm = names(2);
        assert!(CostMatrix::new(&nm, vec![1.0, f64::NAN, 1.0, 1.0]).is_err());
        assert!(World::new(nm, vec![1.0, -1.0], vec![1.0, 1.0], 0).is_err());
    }
}
