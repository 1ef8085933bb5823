//! The multi-sector tariff model of Caliendo & Parro (2015), "Estimates of the Trade and
//! Welfare Effects of NAFTA", Review of Economic Studies 82(1), solved in changes
//! ("exact hat algebra"). MODEL.md §1; notation as there: `n` importer, `i` exporter, `j, k`
//! sectors; `N` economies, `J` sectors.
//!
//! For a new tariff matrix `τ'` and non-tariff cost factors `d̂`,
//! `κ̂_ni^j = d̂_ni^j (1+τ'_ni^j)/(1+τ_ni^j)`, the equilibrium solves
//!
//! ```text
//! ĉ_n^j  = ŵ_n^{γ_n^j} Π_k (P̂_n^k)^{γ_n^{k,j}}                              (1) input-bundle cost
//! P̂_n^j  = [ Σ_i π_ni^j (κ̂_ni^j ĉ_i^j)^{-θ^j} ]^{-1/θ^j}                     (2) price index
//! π'_ni^j = π_ni^j (κ̂_ni^j ĉ_i^j / P̂_n^j)^{-θ^j}                             (3) import shares
//! X'_n^j  = Σ_k γ_n^{j,k} Σ_i π'_in^k X'_i^k/(1+τ'_in^k) + α_n^j I'_n         (4) sector expenditure
//! I'_n    = ŵ_n w_n L_n + Σ_j Σ_i τ'_ni^j π'_ni^j X'_n^j/(1+τ'_ni^j) + D'_n     (5) income
//! ŵ_n w_n L_n = Σ_j γ_n^j Σ_i π'_in^j X'_i^j/(1+τ'_in^j)                       (6) factor market (≡ trade balance)
//! ```
//!
//! Numeraire: world value added is fixed, `Σ_n ŵ_n w_n L_n = Σ_n w_n L_n`.
//! The outer loop moves wages by the factor-market excess demand (6) with a damped step,
//! accelerated by Anderson mixing (Walker & Ni 2011); the inner loops — costs and prices (1–2),
//! then expenditure (4–5) — are contractions, warm-started between outer steps and solved to a
//! tolerance that tightens with the outer residual (1e-3 of it, down to 1e-14). All buffers
//! live in one `Workspace` allocated per solve (a batch's threads reuse the cube-sized
//! buffers of the draw before, `data::spare`); the outer loop allocates nothing of size `N²J`.
//! Large worlds split the sector loops across threads; each sector's numbers are
//! computed by one thread in a fixed order, so results do not depend on the thread count.

use super::anderson::Anderson;
use super::solver::Settings;
use crate::data::{spare, Baseline, Cube};
use crate::error::{Error, Result, Solver, Worst};
use rayon::prelude::*;

/// Sector loops run in parallel when one pass over the bilateral cube (`N²J`) is at least this.
const PARALLEL_CELLS: usize = 1 << 17;

/// A value per economy and sector, `v_n^j`, stored economy by economy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SectorValues {
    sectors: usize,
    data: Vec<f64>,
}

impl SectorValues {
    /// Wraps `data[n·J + j]`.
    pub(crate) fn new(sectors: usize, data: Vec<f64>) -> Self {
        SectorValues { sectors, data }
    }
    /// `v_n^j`.
    #[inline(always)]
    pub(crate) fn at(&self, n: usize, j: usize) -> f64 {
        self.data[n * self.sectors + j]
    }
}

/// Input-output cost shares `γ_n^{k,j}` (sector `k`'s share in sector `j`'s costs in economy
/// `n`), held in the two orders the equilibrium reads them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InputOutput {
    sectors: usize,
    /// `[(n·J + j)·J + k] = γ_n^{k,j}`: what sector `j` buys, for the cost equation (1).
    by_user: Vec<f64>,
    /// `[(n·J + j)·J + k] = γ_n^{j,k}`: who buys good `j`, for the expenditure equation (4).
    by_input: Vec<f64>,
}

impl InputOutput {
    /// From the baseline's layout `[(n·J + k)·J + j] = γ_n^{k,j}`.
    pub(crate) fn new(sectors: usize, gamma: &[f64]) -> Self {
        let jj = sectors;
        let economies = gamma.len() / (jj * jj).max(1);
        let mut by_user = vec![0.0; gamma.len()];
        for n in 0..economies {
            for k in 0..jj {
                for j in 0..jj {
                    by_user[(n * jj + j) * jj + k] = gamma[(n * jj + k) * jj + j];
                }
            }
        }
        InputOutput {
            sectors,
            by_user,
            by_input: gamma.to_vec(),
        }
    }
    /// `γ_n^{k,j}` over `k`: the input shares in sector `j`'s costs.
    #[inline(always)]
    pub(crate) fn inputs_of(&self, n: usize, j: usize) -> &[f64] {
        let jj = self.sectors;
        &self.by_user[(n * jj + j) * jj..(n * jj + j + 1) * jj]
    }
    /// `γ_n^{j,k}` over `k`: the share of good `j` in each sector `k`'s costs.
    #[inline(always)]
    pub(crate) fn users_of(&self, n: usize, j: usize) -> &[f64] {
        let jj = self.sectors;
        &self.by_input[(n * jj + j) * jj..(n * jj + j + 1) * jj]
    }
}

/// The model's data: a baseline in levels, the tariffs under which its flows were observed,
/// and the elasticities. Built once, solved for many shocks.
#[derive(Debug, Clone)]
pub struct Model {
    /// Economy codes (`n = 0..N`), to name them in diagnostics.
    pub economy_codes: Vec<String>,
    /// Sector codes (`j = 0..J`), to name them in diagnostics.
    pub sector_codes: Vec<String>,
    /// `N`, the number of economies.
    pub n: usize,
    /// `J`, the number of sectors.
    pub j: usize,
    /// `θ^j`.
    pub theta: Vec<f64>,
    /// Tariffs of the data year, `τ`.
    pub tau0: Cube,
    /// Tariff-inclusive import shares `π_ni^j = X_ni^j / X_n^j`.
    pub pi0: Cube,
    /// Value-added shares `γ_n^j`.
    pub(crate) va_share: SectorValues,
    /// Input-output shares `γ_n^{k,j}`.
    pub(crate) io: InputOutput,
    /// Final-demand shares `α_n^j`.
    pub(crate) alpha: SectorValues,
    /// `w_n L_n`.
    pub value_added: Vec<f64>,
    /// `D_n` of the data.
    pub deficit: Vec<f64>,
    /// Scale for relative expenditure residuals: the mean of `X_n^j` in the data.
    x_scale: f64,
    /// `X_n^j` of the data (tariff-inclusive), the starting point of the expenditure loop.
    x0: Vec<f64>,
}

/// A counterfactual: new tariffs, non-tariff cost factors and deficits.
#[derive(Debug, Clone)]
pub struct Shock {
    /// `τ'`.
    pub tariffs: Cube,
    /// `d̂_ni^j`, multiplicative non-tariff trade-cost changes (1 = none).
    pub cost: Option<Cube>,
    /// `D'_n`.
    pub deficit: Vec<f64>,
}

/// A solved equilibrium, in changes relative to the data and in levels.
#[derive(Debug, Clone)]
pub struct Equilibrium {
    /// `ŵ_n`, the change in wages (factor prices), normalised so that world value added
    /// `Σ_n ŵ_n w_n L_n` is unchanged.
    pub w_hat: Vec<f64>,
    /// `ĉ_n^j`, `[n*J+j]`.
    pub c_hat: Vec<f64>,
    /// `P̂_n^j`, `[n*J+j]`.
    pub p_hat: Vec<f64>,
    /// `π'_ni^j`.
    pub pi: Cube,
    /// `X'_n^j`, `[n*J+j]`.
    pub expenditure: Vec<f64>,
    /// `M'_ni^j = π' X' / (1+τ')`, flows at factory prices.
    pub flows: Cube,
    /// `I'_n`.
    pub income: Vec<f64>,
    /// Tariff revenue `Σ_j Σ_i τ' M'_ni^j`.
    pub tariff_revenue: Vec<f64>,
    /// The tariffs the equilibrium was solved with.
    pub tariffs: Cube,
    /// Iterations of the wage loop.
    pub iterations: usize,
    /// Max relative factor-market excess at the solution.
    pub residual: f64,
}

/// Everything one solve writes, allocated once per solve.
struct Workspace {
    /// `a_ni^j = π_ni^j κ̂_ni^{-θ^j}`, fixed for the shock.
    a: Cube,
    /// `a` by exporter, `[(j·N + i)·N + n] = a_ni^j`, for the price pass (2), which sums
    /// over exporters for all importers at once.
    a_by_exporter: Vec<f64>,
    /// `ln ŵ_n`.
    ln_w: Vec<f64>,
    /// `ln ĉ_n^j`, `[n·J + j]`.
    ln_c: Vec<f64>,
    /// `ln P̂_n^j`, `[n·J + j]`.
    ln_p: Vec<f64>,
    /// `(ĉ_i^j)^{-θ^j}`, `[j·N + i]`.
    c_pow: Vec<f64>,
    /// `ln P̂` transposed, `[j·N + n]`, written by the sector-parallel price loop.
    ln_p_by_sector: Vec<f64>,
    /// `X'_n^j`, `[n·J + j]`.
    x: Vec<f64>,
    /// `B_ni^j = π'_ni^j / (1+τ'_ni^j)`.
    bshare: Cube,
    /// `F_n^j = Σ_i π'_ni^j τ'_ni^j/(1+τ'_ni^j)`, tariff revenue per unit of expenditure.
    revenue_share: Vec<f64>,
    /// `Y_i^j = Σ_n B_ni^j X'_n^j`, gross output at factory prices, `[i·J + j]`.
    output: Vec<f64>,
    /// `Y` by sector, `[j·N + i]`, written by the sector-parallel loop.
    output_by_sector: Vec<f64>,
    /// `I'_n`.
    income: Vec<f64>,
    /// `ŵ_n`.
    w: Vec<f64>,
    /// Relative factor-market excess demand.
    excess: Vec<f64>,
    /// The damped wage update `G(ŵ)`.
    g: Vec<f64>,
}

impl Drop for Workspace {
    /// The transposed cube goes back to this thread's spares (when it keeps them); the
    /// workspace's cubes give theirs back themselves.
    fn drop(&mut self) {
        spare::give(std::mem::take(&mut self.a_by_exporter));
    }
}

impl Model {
    /// Build the model from a baseline whose flows were observed under tariffs `tau0`.
    /// `use_io = false` drops the input-output links (`γ_n^j = 1`).
    pub fn new(b: &Baseline, tau0: &Cube, theta: Vec<f64>, use_io: bool) -> Model {
        // Only the shares and totals are copied (not the flows and tariff cubes).
        let without_io;
        let b = if use_io {
            b
        } else {
            without_io = b.without_input_output();
            &without_io
        };
        let (nn, jj) = (b.n_economies(), b.n_sectors());
        let mut pi0 = Cube::zeros(jj, nn);
        let mut total = 0.0;
        let mut x0 = vec![0.0; nn * jj];
        for j in 0..jj {
            for n in 0..nn {
                // X_n^j = Σ_i M_ni^j (1+τ_ni^j); π_ni^j = M_ni^j (1+τ_ni^j) / X_n^j
                let x: f64 = (0..nn)
                    .map(|i| b.flows.get(j, n, i) * (1.0 + tau0.get(j, n, i)))
                    .sum();
                total += x;
                x0[n * jj + j] = x;
                if x > 0.0 {
                    for i in 0..nn {
                        let v = b.flows.get(j, n, i) * (1.0 + tau0.get(j, n, i)) / x;
                        pi0.set(j, n, i, v);
                    }
                }
            }
        }
        Model {
            economy_codes: b.economies.iter().map(|e| e.code.clone()).collect(),
            sector_codes: b.sectors.iter().map(|s| s.code.clone()).collect(),
            n: nn,
            j: jj,
            theta,
            tau0: tau0.clone(),
            pi0,
            va_share: SectorValues::new(jj, b.va_share.clone()),
            io: InputOutput::new(jj, &b.io_share),
            alpha: SectorValues::new(jj, b.final_share.clone()),
            value_added: b.value_added.clone(),
            deficit: b.deficit.clone(),
            x_scale: total / (nn * jj) as f64,
            x0,
        }
    }

    /// Whether the sector loops are worth splitting across threads.
    fn parallel(&self) -> bool {
        self.n * self.n * self.j >= PARALLEL_CELLS
    }

    /// The buffers of one solve for `shock`, starting from `start` (warm) or from the data.
    fn workspace(&self, shock: &Shock, start: Option<&Equilibrium>) -> Workspace {
        let (nn, jj) = (self.n, self.j);
        // a_ni^j = π_ni^j κ̂_ni^{-θ^j},  κ̂_ni^j = d̂_ni^j (1+τ'_ni^j)/(1+τ_ni^j)
        // (a clone takes its buffer from the thread's spares, `data::spare`)
        let mut a = self.pi0.clone();
        for j in 0..jj {
            for n in 0..nn {
                for i in 0..nn {
                    let p = self.pi0.get(j, n, i);
                    if p > 0.0 {
                        let mut kappa =
                            (1.0 + shock.tariffs.get(j, n, i)) / (1.0 + self.tau0.get(j, n, i));
                        if let Some(c) = &shock.cost {
                            kappa *= c.get(j, n, i);
                        }
                        // An unchanged cost (κ̂ = 1, most cells) leaves a = π exactly.
                        if kappa != 1.0 {
                            a.set(j, n, i, p * kappa.powf(-self.theta[j]));
                        }
                    }
                }
            }
        }
        let mut a_by_exporter = spare::take(a.data.len());
        for (a_j, t_j) in a
            .data
            .chunks(nn * nn)
            .zip(a_by_exporter.chunks_mut(nn * nn))
        {
            for (n, row) in a_j.chunks(nn).enumerate() {
                for (i, v) in row.iter().enumerate() {
                    t_j[i * nn + n] = *v;
                }
            }
        }
        let ln = |v: &[f64]| v.iter().map(|x| x.ln()).collect::<Vec<f64>>();
        let (ln_w, ln_p, ln_c, x) = match start {
            Some(e) => (
                ln(&e.w_hat),
                ln(&e.p_hat),
                ln(&e.c_hat),
                e.expenditure.clone(),
            ),
            None => (
                vec![0.0; nn],
                vec![0.0; nn * jj],
                vec![0.0; nn * jj],
                self.x0.clone(),
            ),
        };
        Workspace {
            a,
            a_by_exporter,
            ln_w,
            ln_c,
            ln_p,
            c_pow: vec![0.0; nn * jj],
            ln_p_by_sector: vec![0.0; nn * jj],
            x,
            bshare: Cube {
                sectors: jj,
                economies: nn,
                data: spare::take(nn * nn * jj),
            },
            revenue_share: vec![0.0; nn * jj],
            output: vec![0.0; nn * jj],
            output_by_sector: vec![0.0; nn * jj],
            income: vec![0.0; nn],
            w: vec![0.0; nn],
            excess: vec![0.0; nn],
            g: vec![0.0; nn],
        }
    }

    /// Solve the equilibrium in changes for `shock` (MODEL.md §1, equations (1)–(6) of the
    /// module documentation): the damped wage loop on the factor-market excess (6), with the
    /// cost–price (1–2) and expenditure (4–5) fixed points inside, until the relative excess
    /// and wage change are below `settings.tolerance()`. Starts from `start` when given (warm
    /// start, e.g. the previous year). Fails with
    /// [`Error::NotConverged`] naming the economy with the
    /// largest residual when `settings.max_iterations()` is reached.
    pub fn solve(
        &self,
        shock: &Shock,
        settings: &Settings,
        start: Option<&Equilibrium>,
    ) -> Result<Equilibrium> {
        let (nn, jj) = (self.n, self.j);
        let mut ws = self.workspace(shock, start);
        let total_va: f64 = self.value_added.iter().sum();
        let mut anderson = Anderson::new(nn, 6);
        let mut next = vec![0.0; nn];
        for (w, l) in ws.w.iter_mut().zip(&ws.ln_w) {
            *w = l.exp();
        }
        normalise(&mut ws.w, &self.value_added, total_va);
        let mut residual = f64::INFINITY;
        let (mut worst, mut iterations) = (0, 0);
        for it in 1..=settings.max_iterations() {
            iterations = it;
            for (l, w) in ws.ln_w.iter_mut().zip(&ws.w) {
                *l = w.ln();
            }
            // Inexact inner solves far from the solution, exact (1e-14) near it.
            let inner_tol = (1e-3 * residual.min(1.0)).clamp(1e-14, 1e-6);
            self.evaluate(shock, &mut ws, inner_tol)?;
            // (6): excess_n = (Σ_j γ_n^j Y_n^j − ŵ_n w_n L_n) / (w_n L_n)
            for n in 0..nn {
                let demand: f64 = (0..jj)
                    .map(|j| self.va_share.at(n, j) * ws.output[n * jj + j])
                    .sum();
                ws.excess[n] = (demand - ws.w[n] * self.value_added[n]) / self.value_added[n];
            }
            (residual, worst) =
                ws.excess
                    .iter()
                    .enumerate()
                    .fold((0.0f64, 0usize), |acc, (n, e)| {
                        if e.abs() > acc.0 {
                            (e.abs(), n)
                        } else {
                            acc
                        }
                    });
            // Damped step: G(ŵ)_n = ŵ_n (1 + step · excess_n), renormalised.
            for ((g, w), e) in ws.g.iter_mut().zip(&ws.w).zip(&ws.excess) {
                *g = w * (1.0 + settings.step() * e);
            }
            normalise(&mut ws.g, &self.value_added, total_va);
            let change =
                ws.w.iter()
                    .zip(&ws.g)
                    .map(|(a, b)| ((b - a) / a).abs())
                    .fold(0.0, f64::max);
            if residual < settings.tolerance() && change < settings.tolerance() {
                return Ok(self.finish(shock, ws, it, residual));
            }
            if !residual.is_finite() {
                break;
            }
            anderson.step(&ws.w, &ws.g, &mut next);
            if next.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
                anderson.reset();
                next.copy_from_slice(&ws.g);
            }
            normalise(&mut next, &self.value_added, total_va);
            ws.w.copy_from_slice(&next);
        }
        Err(Error::not_converged(
            Solver::CaliendoParro,
            iterations,
            residual,
            settings.tolerance(),
            Some(Worst::Economy(self.economy_codes[worst].clone())),
            "raise solver.max_iterations or lower solver.step",
        ))
    }

    /// Given wages (`ws.ln_w`), solve costs and prices (1–2), shares (3), and expenditure and
    /// income (4–5), leaving gross output `Y` in `ws.output`.
    fn evaluate(&self, shock: &Shock, ws: &mut Workspace, inner_tol: f64) -> Result<()> {
        for _ in 0..10_000 {
            self.costs(ws);
            if self.prices(ws)? < inner_tol {
                break;
            }
        }
        self.shares(shock, ws);
        self.expenditure(shock, ws, inner_tol)
    }

    /// (1) `ln ĉ_n^j = γ_n^j ln ŵ_n + Σ_k γ_n^{k,j} ln P̂_n^k`.
    fn costs(&self, ws: &mut Workspace) {
        let jj = self.j;
        for n in 0..self.n {
            let ln_p = &ws.ln_p[n * jj..(n + 1) * jj];
            for j in 0..jj {
                let mut l = self.va_share.at(n, j) * ws.ln_w[n];
                for (g, p) in self.io.inputs_of(n, j).iter().zip(ln_p) {
                    l += g * p;
                }
                ws.ln_c[n * jj + j] = l;
            }
        }
    }

    /// (2) `P̂_n^j = [Σ_i a_ni^j (ĉ_i^j)^{-θ^j}]^{-1/θ^j}`, sector by sector. Returns the
    /// largest change in `ln P̂`.
    fn prices(&self, ws: &mut Workspace) -> Result<f64> {
        let (nn, jj) = (self.n, self.j);
        for j in 0..jj {
            let th = self.theta[j];
            for i in 0..nn {
                ws.c_pow[j * nn + i] = (-th * ws.ln_c[i * jj + j]).exp();
            }
        }
        let (a, c_pow, ln_p) = (&ws.a_by_exporter, &ws.c_pow, &ws.ln_p);
        let sector = |(j, out): (usize, &mut [f64])| -> Result<f64> {
            let th = self.theta[j];
            let cp = &c_pow[j * nn..(j + 1) * nn];
            // Σ_i a_ni^j (ĉ_i^j)^{-θ^j} for every importer n at once, into `out`.
            exporter_sums(&a[j * nn * nn..(j + 1) * nn * nn], cp, out);
            let mut change = 0.0f64;
            for (n, lp_out) in out.iter_mut().enumerate() {
                let sum = *lp_out;
                if !(sum > 0.0 && sum.is_finite()) {
                    return Err(Error::invalid(
                        format!(
                            "economy {}, sector {}",
                            self.economy_codes[n], self.sector_codes[j]
                        ),
                        format!("the price index is not defined (sum of shares {sum}); the economy has no supplier in that sector"),
                    ));
                }
                let lp = -sum.ln() / th;
                change = change.max((lp - ln_p[n * jj + j]).abs());
                *lp_out = lp;
            }
            Ok(change)
        };
        // The largest change, or the error of the first sector that fails (in sector order,
        // whatever the threads), without collecting the sectors' results.
        let first = |x: (usize, Result<f64>), y: (usize, Result<f64>)| match (x, y) {
            ((j, Ok(a)), (_, Ok(b))) => (j, Ok(a.max(b))),
            ((j, Err(e)), (k, Err(f))) => {
                if j <= k {
                    (j, Err(e))
                } else {
                    (k, Err(f))
                }
            }
            ((j, Err(e)), _) | (_, (j, Err(e))) => (j, Err(e)),
        };
        let sector = |(j, out): (usize, &mut [f64])| (j, sector((j, out)));
        let (_, change) = if self.parallel() {
            ws.ln_p_by_sector
                .par_chunks_mut(nn)
                .enumerate()
                .map(sector)
                .reduce(|| (usize::MAX, Ok(0.0)), first)
        } else {
            ws.ln_p_by_sector
                .chunks_mut(nn)
                .enumerate()
                .map(sector)
                .fold((usize::MAX, Ok(0.0)), first)
        };
        let change = change?;
        for j in 0..jj {
            for n in 0..nn {
                ws.ln_p[n * jj + j] = ws.ln_p_by_sector[j * nn + n];
            }
        }
        Ok(change)
    }

    /// (3) `π'_ni^j = a_ni^j ĉ_i^{-θ} / P̂_n^{-θ}`, as `B = π'/(1+τ')` and the tariff revenue
    /// per unit of expenditure `F_n^j = Σ_i π' τ'/(1+τ')` (stored `[j·N + n]`), then gross
    /// output `Y` for the current `X'` from each sector's `B` while it is in cache (the first
    /// pass of the expenditure loop). Reads the `ĉ^{-θ}` of the last price pass. `π'` itself
    /// is needed only by the solved equilibrium: [`Model::finish`] forms it the same way.
    fn shares(&self, shock: &Shock, ws: &mut Workspace) {
        let (nn, jj) = (self.n, self.j);
        let Workspace {
            a,
            c_pow,
            ln_p,
            bshare,
            revenue_share,
            output_by_sector,
            x,
            ..
        } = ws;
        let sector = |(j, ((b_j, f_j), y_j)): SectorBlocks| {
            let th = self.theta[j];
            let (a_j, t_j) = (a.sector(j), shock.tariffs.sector(j));
            let cp = &c_pow[j * nn..(j + 1) * nn];
            // Each importer's row in chunks: the cells of a chunk computed independently (so
            // the compiler can vectorise the two divisions), then the chunk's revenue terms
            // added in exporter order. A cell with no supplier (`a = 0`) stays 0 and adds 0.0,
            // which leaves the sum's bits unchanged (it never is −0.0).
            let mut terms = [0.0; SHARE_CHUNK];
            for n in 0..nn {
                let pm = price_term(th, ln_p[n * jj + j]);
                let row = n * nn..(n + 1) * nn;
                let cells = a_j[row.clone()]
                    .chunks(SHARE_CHUNK)
                    .zip(t_j[row.clone()].chunks(SHARE_CHUNK))
                    .zip(cp.chunks(SHARE_CHUNK))
                    .zip(b_j[row].chunks_mut(SHARE_CHUNK));
                let mut f = 0.0;
                for (((a_c, t_c), cp_c), b_c) in cells {
                    let terms = &mut terms[..a_c.len()];
                    share_cells(a_c, t_c, cp_c, pm, b_c, terms);
                    for r in terms.iter() {
                        f += r;
                    }
                }
                f_j[n] = f;
            }
            sector_output(b_j, x, j, jj, y_j);
        };
        let cells = nn * nn;
        if self.parallel() {
            bshare
                .data
                .par_chunks_mut(cells)
                .zip(revenue_share.par_chunks_mut(nn))
                .zip(output_by_sector.par_chunks_mut(nn))
                .enumerate()
                .for_each(sector);
        } else {
            bshare
                .data
                .chunks_mut(cells)
                .zip(revenue_share.chunks_mut(nn))
                .zip(output_by_sector.chunks_mut(nn))
                .enumerate()
                .for_each(sector);
        }
        self.output_by_economy(ws);
    }

    /// `Y_i^j = Σ_n B_ni^j X'_n^j` (gross output at factory prices) into `ws.output`.
    fn output(&self, ws: &mut Workspace) {
        let (nn, jj) = (self.n, self.j);
        let (bshare, x) = (&ws.bshare, &ws.x);
        let sector = |(j, y): (usize, &mut [f64])| sector_output(bshare.sector(j), x, j, jj, y);
        if self.parallel() {
            ws.output_by_sector
                .par_chunks_mut(nn)
                .enumerate()
                .for_each(sector);
        } else {
            ws.output_by_sector
                .chunks_mut(nn)
                .enumerate()
                .for_each(sector);
        }
        self.output_by_economy(ws);
    }

    /// `ws.output[i·J + j]` from `ws.output_by_sector[j·N + i]`.
    fn output_by_economy(&self, ws: &mut Workspace) {
        let (nn, jj) = (self.n, self.j);
        for j in 0..jj {
            for i in 0..nn {
                ws.output[i * jj + j] = ws.output_by_sector[j * nn + i];
            }
        }
    }

    /// (4–5) Expenditure: the linear system `X' = A X' + b` by Jacobi iteration from the warm
    /// start, with income (5) recomputed from the current `X'` each sweep. Expects `ws.output`
    /// to hold `Y` for the `B` and `X'` it starts from (as [`Model::shares`] leaves it).
    fn expenditure(&self, shock: &Shock, ws: &mut Workspace, inner_tol: f64) -> Result<()> {
        let (nn, jj) = (self.n, self.j);
        for sweep in 0..100_000 {
            // The first pass's output was formed by `shares`, from the same `B` and `X'`.
            if sweep > 0 {
                self.output(ws);
            }
            let mut change = 0.0f64;
            for n in 0..nn {
                let revenue: f64 = (0..jj)
                    .map(|j| ws.revenue_share[j * nn + n] * ws.x[n * jj + j])
                    .sum();
                ws.income[n] = ws.w[n] * self.value_added[n] + revenue + shock.deficit[n];
                let y_n = &ws.output[n * jj..(n + 1) * jj];
                for j in 0..jj {
                    let mut xv = self.alpha.at(n, j) * ws.income[n];
                    for (g, y) in self.io.users_of(n, j).iter().zip(y_n) {
                        xv += g * y;
                    }
                    change = change.max((xv - ws.x[n * jj + j]).abs());
                    ws.x[n * jj + j] = xv;
                }
            }
            if change < inner_tol * self.x_scale {
                break;
            }
            if sweep == 99_999 || !change.is_finite() {
                return Err(Error::not_converged(
                    Solver::Expenditure,
                    sweep + 1,
                    change / self.x_scale,
                    inner_tol,
                    None,
                    "check that input-output shares and tariff shares leave a positive value-added share",
                ));
            }
        }
        // Output consistent with the final expenditure.
        self.output(ws);
        Ok(())
    }

    /// The solved equilibrium from the workspace of the last evaluation: `π'` formed as the
    /// last shares pass formed `B` from it ([`import_share`]), flows `M' = B X'` and tariff
    /// revenue.
    fn finish(
        &self,
        shock: &Shock,
        mut ws: Workspace,
        iterations: usize,
        residual: f64,
    ) -> Equilibrium {
        let (nn, jj) = (self.n, self.j);
        let mut pi = Cube::zeros(jj, nn);
        let mut flows = Cube::zeros(jj, nn);
        let mut revenue = vec![0.0; nn];
        for j in 0..jj {
            let th = self.theta[j];
            let cp = &ws.c_pow[j * nn..(j + 1) * nn];
            for n in 0..nn {
                let pm = price_term(th, ws.ln_p[n * jj + j]);
                let xn = ws.x[n * jj + j];
                for i in 0..nn {
                    pi.set(j, n, i, import_share(ws.a.get(j, n, i), cp[i], pm).0);
                    // M'_ni^j = B_ni^j X'_n^j
                    let v = ws.bshare.get(j, n, i) * xn;
                    flows.set(j, n, i, v);
                    revenue[n] += shock.tariffs.get(j, n, i) * v;
                }
            }
        }
        Equilibrium {
            w_hat: std::mem::take(&mut ws.w),
            c_hat: ws.ln_c.iter().map(|l| l.exp()).collect(),
            p_hat: ws.ln_p.iter().map(|l| l.exp()).collect(),
            pi,
            expenditure: std::mem::take(&mut ws.x),
            flows,
            income: std::mem::take(&mut ws.income),
            tariff_revenue: revenue,
            tariffs: shock.tariffs.clone(),
            iterations,
            residual,
        }
    }
}

/// `sums[n] = Σ_i a[i·N + n] · cp[i]` for every importer `n` (`a` one sector's block by
/// exporter): each importer's sum taken in exporter order from −0.0, as `Iterator::sum` over
/// its row would, with the importers side by side so that the additions vectorise.
#[inline]
fn exporter_sums(a: &[f64], cp: &[f64], sums: &mut [f64]) {
    let nn = sums.len();
    sums.fill(-0.0);
    for (row, c) in a.chunks_exact(nn).zip(cp) {
        for (s, v) in sums.iter_mut().zip(row) {
            *s += v * c;
        }
    }
}

/// Exporters per chunk of [`share_cells`] in the shares pass.
const SHARE_CHUNK: usize = 64;

/// `P̂^{θ}` of an importer and sector, from `ln P̂` (the `pm` of [`import_share`]).
#[inline(always)]
fn price_term(theta: f64, ln_p: f64) -> f64 {
    (theta * ln_p).exp()
}

/// (3) `π' = a ĉ^{-θ} P̂^{θ}` of one cell (`c_pow` = `ĉ^{-θ}`, `pm` = `P̂^{θ}`), or +0.0 where
/// `a = 0` (no supplier): every cell computed, then the bits of a dead cell cleared, so a
/// loop of these stays branch-free. The shares pass and [`Model::finish`] both use it, so
/// the `π'` of the solved equilibrium is the one its `B` was formed from.
#[inline(always)]
fn import_share(a: f64, c_pow: f64, pm: f64) -> (f64, u64) {
    let live = if a > 0.0 { u64::MAX } else { 0 };
    (f64::from_bits((a * c_pow * pm).to_bits() & live), live)
}

/// (3) for a chunk of one importer's exporters: `B = π'/(1+τ')` and the revenue terms
/// `π' τ'/(1+τ')` ([`import_share`]), all 0 where `a = 0` (no supplier). Branch-free, so the
/// divisions vectorise; each value is computed as the scalar formula would.
fn share_cells(
    a: &[f64],
    tariff: &[f64],
    c_pow: &[f64],
    pm: f64,
    b: &mut [f64],
    revenue: &mut [f64],
) {
    let n = a.len();
    let (tariff, c_pow, b, revenue) = (&tariff[..n], &c_pow[..n], &mut b[..n], &mut revenue[..n]);
    for i in 0..n {
        let (p, live) = import_share(a[i], c_pow[i], pm);
        let keep = |v: f64| f64::from_bits(v.to_bits() & live);
        let t = tariff[i];
        b[i] = keep(p / (1.0 + t));
        revenue[i] = keep(p * t / (1.0 + t));
    }
}

/// One sector's blocks of `B` and `F` and its gross output `Y` by exporter, as the sector
/// loop of [`Model::shares`] gets them.
type SectorBlocks<'a> = (usize, ((&'a mut [f64], &'a mut [f64]), &'a mut [f64]));

/// `y_i = Y_i^j = Σ_n B_ni^j X'_n^j` for sector `j` (`block` its `B`, `x` = `X'` by economy
/// `[n·J + j]`), importers in order, skipping those that spend nothing.
#[inline]
fn sector_output(block: &[f64], x: &[f64], j: usize, jj: usize, y: &mut [f64]) {
    let nn = y.len();
    y.fill(0.0);
    for n in 0..nn {
        let xn = x[n * jj + j];
        if xn == 0.0 {
            continue;
        }
        for (yi, b) in y.iter_mut().zip(&block[n * nn..(n + 1) * nn]) {
            *yi += b * xn;
        }
    }
}

/// Rescale wages so that world value added is unchanged: `Σ_n ŵ_n w_n L_n = Σ_n w_n L_n`.
fn normalise(w: &mut [f64], va: &[f64], total: f64) {
    let s: f64 = w.iter().zip(va).map(|(a, b)| a * b).sum();
    let k = total / s;
    w.iter_mut().for_each(|v| *v *= k);
}

/// Outcomes of a counterfactual equilibrium `cf` against a baseline equilibrium `bl` (both
/// solved from the same [`Model`]), as Caliendo & Parro report them.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Exact real income `Î_n / Π_j (P̂_n^j)^{α_n^j}` − 1, in percent.
    pub real_income_pct: Vec<f64>,
    /// Real wage `ŵ_n / Π_j (P̂_n^j)^{α_n^j}` − 1, in percent.
    pub real_wage_pct: Vec<f64>,
    /// Terms-of-trade part of the welfare decomposition, percent.
    pub tot_pct: Vec<f64>,
    /// Volume-of-trade part of the welfare decomposition, percent.
    pub vot_pct: Vec<f64>,
    /// `tot_pct + vot_pct`: the welfare number Caliendo & Parro report.
    pub welfare_pct: Vec<f64>,
}

/// Compare two equilibria solved from the same model (counterfactual relative to baseline):
/// the outcomes of MODEL.md §1.
///
/// Welfare decomposition (Caliendo & Parro 2015, eq. 19, technical term zero here), with flows
/// `M` at factory prices and weights from the baseline equilibrium:
/// `ToT_n = 100/I_n Σ_{i,j} [M_in^j (ĉ_n^j − 1) − M_ni^j (ĉ_i^j − 1)]`,
/// `VoT_n = 100/I_n Σ_{i,j} τ_ni^j M_ni^j (M'_ni^j/M_ni^j − ĉ_i^j)`.
pub fn compare(model: &Model, bl: &Equilibrium, cf: &Equilibrium) -> Comparison {
    let (nn, jj) = (model.n, model.j);
    let mut out = Comparison {
        real_income_pct: vec![0.0; nn],
        real_wage_pct: vec![0.0; nn],
        tot_pct: vec![0.0; nn],
        vot_pct: vec![0.0; nn],
        welfare_pct: vec![0.0; nn],
    };
    let c_hat: Vec<f64> = cf.c_hat.iter().zip(&bl.c_hat).map(|(a, b)| a / b).collect();
    for n in 0..nn {
        let ln_p: f64 = (0..jj)
            .map(|j| model.alpha.at(n, j) * (cf.p_hat[n * jj + j] / bl.p_hat[n * jj + j]).ln())
            .sum();
        let p = ln_p.exp();
        out.real_income_pct[n] = (cf.income[n] / bl.income[n] / p - 1.0) * 100.0;
        out.real_wage_pct[n] = (cf.w_hat[n] / bl.w_hat[n] / p - 1.0) * 100.0;
    }
    // Each economy's sums run over sectors, then partners, in that order; the loops take the
    // sectors outermost, so that a sector's slice of the cubes stays in cache while every
    // economy's terms are added.
    let mut tot = vec![0.0; nn];
    let mut vot = vec![0.0; nn];
    for j in 0..jj {
        for n in 0..nn {
            let (mut tot_n, mut vot_n) = (tot[n], vot[n]);
            for i in 0..nn {
                if i == n {
                    continue;
                }
                let exp_ni = bl.flows.get(j, i, n); // n's exports to i
                let imp_ni = bl.flows.get(j, n, i); // n's imports from i
                tot_n += exp_ni * (c_hat[n * jj + j] - 1.0) - imp_ni * (c_hat[i * jj + j] - 1.0);
                if imp_ni > 0.0 {
                    let t = bl.tariffs.get(j, n, i);
                    vot_n += t * imp_ni * (cf.flows.get(j, n, i) / imp_ni - c_hat[i * jj + j]);
                }
            }
            (tot[n], vot[n]) = (tot_n, vot_n);
        }
    }
    for n in 0..nn {
        out.tot_pct[n] = 100.0 * tot[n] / bl.income[n];
        out.vot_pct[n] = 100.0 * vot[n] / bl.income[n];
        out.welfare_pct[n] = out.tot_pct[n] + out.vot_pct[n];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic;

    #[test]
    fn a_solve_stopped_early_returns_where_it_stopped() {
        let b = synthetic::world(5, 3, true, 7);
        let theta: Vec<f64> = b.sectors.iter().map(|s| s.theta).collect();
        let model = Model::new(&b, &b.tariffs, theta, true);
        let mut tariffs = b.tariffs.clone();
        tariffs.data.iter_mut().for_each(|t| *t += 0.2);
        let shock = Shock {
            tariffs,
            cost: None,
            deficit: model.deficit.clone(),
        };
        let solved = model
            .solve(&shock, &Settings::CALIENDO_PARRO, None)
            .unwrap();
        assert!(solved.iterations > 3, "{}", solved.iterations);
        let capped = Settings::CALIENDO_PARRO.with(None, Some(3), None).unwrap();
        match model.solve(&shock, &capped, None) {
            Err(Error::NotConverged(s)) => {
                assert_eq!((s.solver, s.iterations), (Solver::CaliendoParro, 3));
                assert!(
                    s.residual.is_finite() && s.residual > 1e-10,
                    "{}",
                    s.residual
                );
                assert_eq!(s.tolerance, 1e-10);
                let Some(Worst::Economy(code)) = &s.worst else {
                    panic!("{:?}", s.worst)
                };
                assert!(b.economies.iter().any(|e| &e.code == code), "{code}");
                assert_eq!(s.context, crate::error::Context::default());
                assert!(s.hint.contains("solver.max_iterations"), "{}", s.hint);
            }
            other => panic!("{other:?}"),
        }
    }
}
