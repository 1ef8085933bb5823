//! The multi-sector tariff model of Caliendo & Parro (2015), "Estimates of the Trade and
//! Welfare Effects of NAFTA", Review of Economic Studies 82(1), solved in changes
//! ("exact hat algebra"). See MODEL.md §1.
//!
//! For a new tariff matrix `τ'` and non-tariff cost factors `d̂`,
//! `κ̂_ni^j = d̂_ni^j (1+τ'_ni^j)/(1+τ_ni^j)`, the equilibrium solves
//!
//! ```text
//! ĉ_n^j  = ŵ_n^{γ_n^j} Π_k (P̂_n^k)^{γ_n^{k,j}}                              input-bundle cost
//! P̂_n^j  = [ Σ_i π_ni^j (κ̂_ni^j ĉ_i^j)^{-θ^j} ]^{-1/θ^j}                     price index
//! π'_ni^j = π_ni^j (κ̂_ni^j ĉ_i^j / P̂_n^j)^{-θ^j}                             import shares
//! X'_n^j  = Σ_k γ_n^{j,k} Σ_i π'_in^k X'_i^k/(1+τ'_in^k) + α_n^j I'_n         sector expenditure
//! I'_n    = ŵ_n w_n L_n + Σ_j Σ_i τ'_ni^j π'_ni^j X'_n^j/(1+τ'_ni^j) + D'_n     income
//! ŵ_n w_n L_n = Σ_j γ_n^j Σ_i π'_in^j X'_i^j/(1+τ'_in^j)                       factor market (≡ trade balance)
//! ```
//!
//! Numeraire: world value added is fixed, `Σ_n ŵ_n w_n L_n = Σ_n w_n L_n`.
//! The outer loop moves wages by the factor-market excess demand with a damped step,
//! accelerated by Anderson mixing (Walker & Ni 2011); the inner loops (costs and prices, then
//! expenditure) are contractions, warm-started between outer steps and solved to a tolerance
//! that tightens with the outer residual (1e-3 of it, down to 1e-14).

use super::anderson::Anderson;
use crate::data::{Baseline, Cube};
use crate::error::{Error, Result};

/// Settings of the equilibrium solver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolverSettings {
    /// Convergence: max relative factor-market excess and max relative wage change.
    pub tolerance: f64,
    pub max_iterations: usize,
    /// Damping of the wage step (0 < step ≤ 1).
    pub step: f64,
}

impl Default for SolverSettings {
    fn default() -> Self {
        SolverSettings {
            tolerance: 1e-10,
            max_iterations: 5000,
            step: 0.5,
        }
    }
}

/// The model's data: a baseline in levels, the tariffs under which its flows were observed,
/// and the elasticities. Built once, solved for many shocks.
#[derive(Debug, Clone)]
pub struct Model {
    /// Economy and sector codes, to name them in diagnostics.
    pub economy_codes: Vec<String>,
    pub sector_codes: Vec<String>,
    pub n: usize,
    pub j: usize,
    pub theta: Vec<f64>,
    /// Tariffs of the data year, `τ`.
    pub tau0: Cube,
    /// Tariff-inclusive import shares `π_ni^j = X_ni^j / X_n^j`.
    pub pi0: Cube,
    /// `γ_n^j`, `[n*J+j]`.
    pub va_share: Vec<f64>,
    /// `γ_n^{k,j}`, `[(n*J+k)*J+j]`.
    pub io_share: Vec<f64>,
    /// `α_n^j`, `[n*J+j]`.
    pub alpha: Vec<f64>,
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
    pub iterations: usize,
    /// Max relative factor-market excess at the solution.
    pub residual: f64,
}

impl Model {
    /// Build the model from a baseline whose flows were observed under tariffs `tau0`.
    /// `use_io = false` drops the input-output links (`γ_n^j = 1`).
    pub fn new(b: &Baseline, tau0: &Cube, theta: Vec<f64>, use_io: bool) -> Model {
        let b = if use_io {
            b.clone()
        } else {
            b.without_input_output()
        };
        let (n, j) = (b.n_economies(), b.n_sectors());
        let mut pi0 = Cube::zeros(j, n);
        let mut total = 0.0;
        let mut x0 = vec![0.0; n * j];
        for s in 0..j {
            for m in 0..n {
                let x: f64 = (0..n)
                    .map(|i| b.flows.get(s, m, i) * (1.0 + tau0.get(s, m, i)))
                    .sum();
                total += x;
                x0[m * j + s] = x;
                for i in 0..n {
                    if x > 0.0 {
                        pi0.set(
                            s,
                            m,
                            i,
                            b.flows.get(s, m, i) * (1.0 + tau0.get(s, m, i)) / x,
                        );
                    }
                }
            }
        }
        Model {
            economy_codes: b.economies.iter().map(|e| e.code.clone()).collect(),
            sector_codes: b.sectors.iter().map(|s| s.code.clone()).collect(),
            n,
            j,
            theta,
            tau0: tau0.clone(),
            pi0,
            va_share: b.va_share,
            io_share: b.io_share,
            alpha: b.final_share,
            value_added: b.value_added,
            deficit: b.deficit,
            x_scale: total / (n * j) as f64,
            x0,
        }
    }

    /// Solve the equilibrium for `shock`, starting from `start` when given (warm start).
    pub fn solve(
        &self,
        shock: &Shock,
        settings: &SolverSettings,
        start: Option<&Equilibrium>,
    ) -> Result<Equilibrium> {
        let (nn, jj) = (self.n, self.j);
        // a_ni^j = π_ni^j κ̂_ni^{-θ^j}
        let mut a = self.pi0.clone();
        for s in 0..jj {
            for m in 0..nn {
                for i in 0..nn {
                    let p = self.pi0.get(s, m, i);
                    if p > 0.0 {
                        let mut kappa =
                            (1.0 + shock.tariffs.get(s, m, i)) / (1.0 + self.tau0.get(s, m, i));
                        if let Some(c) = &shock.cost {
                            kappa *= c.get(s, m, i);
                        }
                        a.set(s, m, i, p * kappa.powf(-self.theta[s]));
                    }
                }
            }
        }
        let mut state = match start {
            Some(e) => State {
                ln_w: e.w_hat.iter().map(|w| w.ln()).collect(),
                ln_p: e.p_hat.iter().map(|p| p.ln()).collect(),
                ln_c: e.c_hat.iter().map(|c| c.ln()).collect(),
                x: e.expenditure.clone(),
            },
            None => State {
                ln_w: vec![0.0; nn],
                ln_p: vec![0.0; nn * jj],
                ln_c: vec![0.0; nn * jj],
                x: self.x0.clone(),
            },
        };
        let total_va: f64 = self.value_added.iter().sum();
        let mut anderson = Anderson::new(nn, 6);
        let mut w: Vec<f64> = state.ln_w.iter().map(|l| l.exp()).collect();
        normalise(&mut w, &self.value_added, total_va);
        let mut residual = f64::INFINITY;
        let mut worst = 0;
        for it in 1..=settings.max_iterations {
            state.ln_w = w.iter().map(|v| v.ln()).collect();
            // Inexact inner solves far from the solution, exact (1e-14) near it.
            let inner_tol = (1e-3 * residual.min(1.0)).clamp(1e-14, 1e-6);
            let eval = self.evaluate(&a, shock, &mut state, inner_tol)?;
            // excess_n = (Σ_j γ_n^j Y_n^j − ŵ_n w_n L_n) / (w_n L_n)
            let excess: Vec<f64> = (0..nn)
                .map(|m| {
                    let demand: f64 = (0..jj)
                        .map(|s| self.va_share[m * jj + s] * eval.output[m * jj + s])
                        .sum();
                    (demand - w[m] * self.value_added[m]) / self.value_added[m]
                })
                .collect();
            let (r, k) = excess
                .iter()
                .enumerate()
                .fold((0.0f64, 0usize), |acc, (k, e)| {
                    if e.abs() > acc.0 {
                        (e.abs(), k)
                    } else {
                        acc
                    }
                });
            residual = r;
            worst = k;
            let mut g: Vec<f64> = (0..nn)
                .map(|m| w[m] * (1.0 + settings.step * excess[m]))
                .collect();
            normalise(&mut g, &self.value_added, total_va);
            let change = w
                .iter()
                .zip(&g)
                .map(|(a, b)| ((b - a) / a).abs())
                .fold(0.0, f64::max);
            if residual < settings.tolerance && change < settings.tolerance {
                return Ok(self.finish(shock, state, eval, w, it, residual));
            }
            if !residual.is_finite() {
                break;
            }
            let mut next = anderson.step(&w, &g);
            if next.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
                anderson.reset();
                next = g;
            }
            normalise(&mut next, &self.value_added, total_va);
            w = next;
        }
        Err(Error::NotConverged(format!(
            "the Caliendo-Parro equilibrium did not converge in {} iterations: the largest factor-market residual is {residual:.3e} (relative to value added), for economy {}; raise solver.max_iterations or lower solver.step",
            settings.max_iterations, self.economy_codes[worst]
        )))
    }

    /// Given wages (in `state.ln_w`), solve costs, prices, shares and expenditure.
    fn evaluate(&self, a: &Cube, shock: &Shock, st: &mut State, inner_tol: f64) -> Result<Eval> {
        let (nn, jj) = (self.n, self.j);
        // Inner fixed point for costs and prices.
        let mut cpow = vec![0.0; nn]; // ĉ_i^{-θ} for the current sector
        for _ in 0..10_000 {
            for m in 0..nn {
                for s in 0..jj {
                    let mut l = self.va_share[m * jj + s] * st.ln_w[m];
                    for k in 0..jj {
                        let g = self.io_share[(m * jj + k) * jj + s];
                        if g != 0.0 {
                            l += g * st.ln_p[m * jj + k];
                        }
                    }
                    st.ln_c[m * jj + s] = l;
                }
            }
            let mut change = 0.0f64;
            for s in 0..jj {
                let th = self.theta[s];
                for (i, c) in cpow.iter_mut().enumerate() {
                    *c = (-th * st.ln_c[i * jj + s]).exp();
                }
                let block = a.sector(s);
                for m in 0..nn {
                    let row = &block[m * nn..(m + 1) * nn];
                    let sum: f64 = row.iter().zip(&cpow).map(|(x, y)| x * y).sum();
                    if !(sum > 0.0 && sum.is_finite()) {
                        return Err(Error::NotConverged(format!(
                            "the price index of economy {} in sector {} is not defined (sum of shares {sum}); the economy has no supplier in that sector",
                            self.economy_codes[m], self.sector_codes[s]
                        )));
                    }
                    let lp = -sum.ln() / th;
                    change = change.max((lp - st.ln_p[m * jj + s]).abs());
                    st.ln_p[m * jj + s] = lp;
                }
            }
            if change < inner_tol {
                break;
            }
        }
        // New shares π' = a_ni ĉ_i^{-θ} / P̂_n^{-θ}; B = π'/(1+τ'); F_n^j = Σ_i π' τ'/(1+τ').
        let mut pi = Cube::zeros(jj, nn);
        let mut bshare = Cube::zeros(jj, nn);
        let mut f = vec![0.0; nn * jj];
        for s in 0..jj {
            let th = self.theta[s];
            for (i, c) in cpow.iter_mut().enumerate() {
                *c = (-th * st.ln_c[i * jj + s]).exp();
            }
            for m in 0..nn {
                let pm = (th * st.ln_p[m * jj + s]).exp();
                for i in 0..nn {
                    let av = a.get(s, m, i);
                    if av > 0.0 {
                        let p = av * cpow[i] * pm;
                        let t = shock.tariffs.get(s, m, i);
                        pi.set(s, m, i, p);
                        bshare.set(s, m, i, p / (1.0 + t));
                        f[m * jj + s] += p * t / (1.0 + t);
                    }
                }
            }
        }
        // Expenditure: the linear system X' = A X' + b, by Jacobi iteration from the warm start.
        let w: Vec<f64> = st.ln_w.iter().map(|l| l.exp()).collect();
        let mut y = vec![0.0; nn * jj];
        let mut income = vec![0.0; nn];
        for sweep in 0..100_000 {
            y.iter_mut().for_each(|v| *v = 0.0);
            for s in 0..jj {
                let block = bshare.sector(s);
                for m in 0..nn {
                    let xm = st.x[m * jj + s];
                    if xm == 0.0 {
                        continue;
                    }
                    for (i, bv) in block[m * nn..(m + 1) * nn].iter().enumerate() {
                        y[i * jj + s] += bv * xm;
                    }
                }
            }
            let mut change = 0.0f64;
            for m in 0..nn {
                let revenue: f64 = (0..jj).map(|s| f[m * jj + s] * st.x[m * jj + s]).sum();
                income[m] = w[m] * self.value_added[m] + revenue + shock.deficit[m];
                for s in 0..jj {
                    let mut xv = self.alpha[m * jj + s] * income[m];
                    for k in 0..jj {
                        let g = self.io_share[(m * jj + s) * jj + k];
                        if g != 0.0 {
                            xv += g * y[m * jj + k];
                        }
                    }
                    change = change.max((xv - st.x[m * jj + s]).abs());
                    st.x[m * jj + s] = xv;
                }
            }
            if change < inner_tol * self.x_scale {
                break;
            }
            if sweep == 99_999 || !change.is_finite() {
                return Err(Error::NotConverged(
                    "the expenditure system did not converge; check that input-output shares and tariff shares leave a positive value-added share".into(),
                ));
            }
        }
        // Output consistent with the final expenditure.
        y.iter_mut().for_each(|v| *v = 0.0);
        for s in 0..jj {
            let block = bshare.sector(s);
            for m in 0..nn {
                let xm = st.x[m * jj + s];
                for (i, bv) in block[m * nn..(m + 1) * nn].iter().enumerate() {
                    y[i * jj + s] += bv * xm;
                }
            }
        }
        Ok(Eval {
            pi,
            bshare,
            output: y,
            income,
        })
    }

    fn finish(
        &self,
        shock: &Shock,
        st: State,
        eval: Eval,
        w: Vec<f64>,
        iterations: usize,
        residual: f64,
    ) -> Equilibrium {
        let (nn, jj) = (self.n, self.j);
        let mut flows = Cube::zeros(jj, nn);
        let mut revenue = vec![0.0; nn];
        for s in 0..jj {
            for m in 0..nn {
                let xm = st.x[m * jj + s];
                for i in 0..nn {
                    let v = eval.bshare.get(s, m, i) * xm;
                    flows.set(s, m, i, v);
                    revenue[m] += shock.tariffs.get(s, m, i) * v;
                }
            }
        }
        Equilibrium {
            w_hat: w,
            c_hat: st.ln_c.iter().map(|l| l.exp()).collect(),
            p_hat: st.ln_p.iter().map(|l| l.exp()).collect(),
            pi: eval.pi,
            expenditure: st.x,
            flows,
            income: eval.income,
            tariff_revenue: revenue,
            tariffs: shock.tariffs.clone(),
            iterations,
            residual,
        }
    }
}

struct State {
    ln_w: Vec<f64>,
    ln_p: Vec<f64>,
    ln_c: Vec<f64>,
    x: Vec<f64>,
}

struct Eval {
    pi: Cube,
    bshare: Cube,
    output: Vec<f64>,
    income: Vec<f64>,
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

/// Compare two equilibria solved from the same model (counterfactual relative to baseline).
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
            .map(|j| model.alpha[n * jj + j] * (cf.p_hat[n * jj + j] / bl.p_hat[n * jj + j]).ln())
            .sum();
        let p = ln_p.exp();
        out.real_income_pct[n] = (cf.income[n] / bl.income[n] / p - 1.0) * 100.0;
        out.real_wage_pct[n] = (cf.w_hat[n] / bl.w_hat[n] / p - 1.0) * 100.0;
        let mut tot = 0.0;
        let mut vot = 0.0;
        for j in 0..jj {
            for i in 0..nn {
                if i == n {
                    continue;
                }
                let exp_ni = bl.flows.get(j, i, n); // n's exports to i
                let imp_ni = bl.flows.get(j, n, i); // n's imports from i
                tot += exp_ni * (c_hat[n * jj + j] - 1.0) - imp_ni * (c_hat[i * jj + j] - 1.0);
                if imp_ni > 0.0 {
                    let t = bl.tariffs.get(j, n, i);
                    vot += t * imp_ni * (cf.flows.get(j, n, i) / imp_ni - c_hat[i * jj + j]);
                }
            }
        }
        out.tot_pct[n] = 100.0 * tot / bl.income[n];
        out.vot_pct[n] = 100.0 * vot / bl.income[n];
        out.welfare_pct[n] = out.tot_pct[n] + out.vot_pct[n];
    }
    out
}
