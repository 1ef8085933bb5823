//! The Advanced Guide's own procedure for the general-equilibrium effects of a change in trade
//! costs (Yotov, Piermartini, Monteiro & Larch 2016, ch. 2, application 2, "RTAsEffects.do",
//! steps I.b to IV), kept step for step so that the book's published numbers replicate.
//!
//! Every PPML of these steps has only exporter and importer fixed effects and an offset
//! `ln t_ij`; its first-order conditions say that fitted row and column sums equal the
//! observed ones, so each is solved exactly by alternating scaling with the reference
//! importer's effect normalised to 0 (`e^{χ_ref} = 1`) — the same solution Stata's `ppml`
//! approaches.
//!
//! The book's full-endowment loop (step III.b) is a fixed-point iteration that oscillates
//! around the equilibrium; its stopping rule ends it after three passes. Use
//! [`super::solve_exact`] for the equilibrium itself.

use super::{argmax_abs, solve_resistances, Convergence, CostMatrix, Settings, Solution, World};
use crate::error::{Error, Result, Solver, Worst};

/// A fitted PPML with exporter and importer fixed effects and offset `ln T_ij`.
struct FeFit {
    /// `e^{π_i}`.
    exp_pi: Vec<f64>,
    /// `e^{χ_j}`, 1 for the reference.
    exp_chi: Vec<f64>,
    /// Fitted flows `e^{π_i} e^{χ_j} T_ij`.
    fitted: Vec<f64>,
}

/// PPML of `flows` on exporter and importer effects with offset `ln T`, reference importer
/// effect 0: `Σ_j e^{π_i+χ_j} T_ij = Σ_j X_ij`, `Σ_i e^{π_i+χ_j} T_ij = Σ_i X_ij`.
fn fe_fit(
    names: &[String],
    flows: &[f64],
    costs: &CostMatrix,
    reference: usize,
    options: &Settings,
) -> Result<FeFit> {
    let n = names.len();
    let rows: Vec<f64> = (0..n)
        .map(|i| flows[i * n..(i + 1) * n].iter().sum())
        .collect();
    let cols: Vec<f64> = (0..n)
        .map(|j| (0..n).map(|i| flows[i * n + j]).sum())
        .collect();
    let world = World::new(names.to_vec(), rows.clone(), cols.clone(), reference)?;
    let res = solve_resistances(&world, costs, options)?;
    let total: f64 = rows.iter().sum();
    let er = cols[reference];
    // X_ij = Y_i E_j T_ij / (Y Π_i^{1−σ} P_j^{1−σ}) = e^{π_i} e^{χ_j} T_ij with P_ref = 1:
    let exp_pi: Vec<f64> = (0..n)
        .map(|i| rows[i] * er / (total * res.outward[i]))
        .collect();
    let exp_chi: Vec<f64> = (0..n).map(|j| cols[j] / (er * res.inward[j])).collect();
    let fitted = (0..n * n)
        .map(|k| exp_pi[k / n] * exp_chi[k % n] * costs.as_slice()[k])
        .collect();
    Ok(FeFit {
        exp_pi,
        exp_chi,
        fitted,
    })
}

/// The Guide procedure's results: its baseline, conditional and "full endowment" states, in the
/// book's own definitions (`outward` holds the book's `OMR = Y E_R / e^π`, `inward` its
/// `IMR = E / (e^χ E_R)`), and how its loop ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GuideResults {
    pub baseline: Solution,
    pub conditional: Solution,
    pub full: Solution,
    /// Passes of the book's full-endowment loop.
    pub passes: usize,
    /// The loop's stopping statistics at its last pass: standard deviation (n − 1) and
    /// `|max|` of the one-pass-lagged change in the price change over all `N²` rows.
    pub final_sd: f64,
    pub final_max: f64,
}

fn sd_and_absmax(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let count = values.clone().count() as f64;
    let mean = values.clone().sum::<f64>() / count;
    let var = values.clone().map(|v| (v - mean).powi(2)).sum::<f64>() / (count - 1.0);
    let max = values.fold(f64::NEG_INFINITY, f64::max);
    (var.sqrt(), max.abs())
}

/// Runs the Guide's steps 3–6 on the observed baseline-year flows `observed` (row-major,
/// exporter rows, domestic flows on the diagonal, zeros allowed), baseline costs
/// `t_BLN = exp(γ_ij + β·rta_ij)` and counterfactual costs `t_CFL`, both as `t^{1−σ}`.
///
/// - step 3: PPML of `observed` with offset `ln t_BLN` → `X_BLN`, `OMR_BLN = Y E_R/e^{π}`,
///   `IMR_BLN = E/(e^{χ} E_R)`;
/// - step 4: the same with `ln t_CFL`, `Y` and `E` fixed → `X_CDL`;
/// - step 5: with `φ = E/Y` fixed, `Δp_i = [(e^{π_i,k}/e^{π_i,k−1}) / (E_R,k/E_R,k−1)]^{1/(1−σ)}`,
///   each pass `X_k = X̂_{k−1} Δp_i Δp_j / (ΔOMR_i ΔIMR_j)`, PPML with offset `ln t_CFL`,
///   `Y_k` = row sums, `E_k = φ Y_k`; stop when the lagged change in `Δp` has sd ≤ 0.01 and
///   `|max|` ≤ 0.01; then `p = [(e^{π_S}/e^{π_BLN})/(E_R,S/E_R)]^{1/(1−σ)}`, `Y_F = p Y`,
///   `E_F = φ Y_F`, `OMR_F = Y_F E_R,S/e^{π_S}`, `IMR_F = E_S/(e^{χ_S} E_R,S)`,
///   `X_F = Y_F E_F t_CFL/(OMR_F IMR_F)`.
///
/// `max_passes` bounds the loop (the book's stops after 3); exceeding it is an error.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    names: &[String],
    observed: &[f64],
    t_bln: &CostMatrix,
    t_cfl: &CostMatrix,
    sigma: f64,
    reference: usize,
    max_passes: usize,
    options: &Settings,
) -> Result<GuideResults> {
    super::check_sigma(sigma)?;
    let n = names.len();
    if observed.len() != n * n || t_bln.len() != n || t_cfl.len() != n {
        return Err(Error::invalid(
            "Guide procedure",
            format!("{n} economies but inputs of mismatched size"),
        ));
    }
    let y: Vec<f64> = (0..n)
        .map(|i| observed[i * n..(i + 1) * n].iter().sum())
        .collect();
    let e: Vec<f64> = (0..n)
        .map(|j| (0..n).map(|i| observed[i * n + j]).sum())
        .collect();
    // checks that every output and expenditure is positive
    World::new(names.to_vec(), y.clone(), e.clone(), reference)?;
    let phi: Vec<f64> = (0..n).map(|i| e[i] / y[i]).collect();
    let inv = 1.0 / (1.0 - sigma);
    let r = reference;

    // step 3 and 4
    let bln = fe_fit(names, observed, t_bln, r, options)?;
    let cdl = fe_fit(names, observed, t_cfl, r, options)?;
    let er0 = e[r];
    let omr = |yv: &[f64], er: f64, fit: &FeFit| -> Vec<f64> {
        (0..n).map(|i| yv[i] * er / fit.exp_pi[i]).collect()
    };
    let imr = |ev: &[f64], er: f64, fit: &FeFit| -> Vec<f64> {
        (0..n).map(|j| ev[j] / (fit.exp_chi[j] * er)).collect()
    };
    let omr_bln = omr(&y, er0, &bln);
    let imr_bln = imr(&e, er0, &bln);
    let omr_cdl = omr(&y, er0, &cdl);
    let imr_cdl = imr(&e, er0, &cdl);

    // step 5: state k−1 ("prev") and k−2 ("prev2") of the loop
    struct State {
        fit: FeFit,
        er: f64,
        omr: Vec<f64>,
        imr: Vec<f64>,
        e: Vec<f64>,
        dp: Vec<f64>,
        domr: Vec<f64>,
        dimr: Vec<f64>,
    }
    let dp1: Vec<f64> = (0..n)
        .map(|i| (cdl.exp_pi[i] / bln.exp_pi[i]).powf(inv))
        .collect();
    let mut dp_before = vec![0.0; n]; // Δp_0 = 0, as in the book
    let mut prev = State {
        fit: FeFit {
            exp_pi: cdl.exp_pi.clone(),
            exp_chi: cdl.exp_chi.clone(),
            fitted: cdl.fitted.clone(),
        },
        er: er0,
        omr: omr_cdl.clone(),
        imr: imr_cdl.clone(),
        e: e.clone(),
        dp: dp1,
        domr: vec![1.0; n],
        dimr: vec![1.0; n],
    };
    let mut passes = 0;
    let (mut sd, mut max) = (1.0, 1.0);
    while sd > 0.01 || max > 0.01 {
        if passes >= max_passes {
            let (k, _) = argmax_abs(
                &(0..n)
                    .map(|i| prev.dp[i] - dp_before[i])
                    .collect::<Vec<_>>(),
            );
            return Err(Error::not_converged(
                Solver::GuideLoop,
                passes,
                f64::max(sd, max),
                0.01,
                Some(Worst::Economy(names[k].clone())),
                format!("the standard deviation is {sd:.3e}, the largest absolute value {max:.3e} (the Guide's stopping rule); use procedure: Exact"),
            ));
        }
        passes += 1;
        let trade: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                prev.fit.fitted[k] * prev.dp[i] * prev.dp[j] / (prev.domr[i] * prev.dimr[j])
            })
            .collect();
        let fit = fe_fit(names, &trade, t_cfl, r, options)?;
        let yk: Vec<f64> = (0..n)
            .map(|i| fit.fitted[i * n..(i + 1) * n].iter().sum())
            .collect();
        let ek: Vec<f64> = (0..n).map(|i| phi[i] * yk[i]).collect();
        let erk = ek[r];
        let dp: Vec<f64> = (0..n)
            .map(|i| ((fit.exp_pi[i] / prev.fit.exp_pi[i]) / (erk / prev.er)).powf(inv))
            .collect();
        let omr_k = omr(&yk, erk, &fit);
        let imr_k = imr(&ek, erk, &fit);
        let domr: Vec<f64> = (0..n).map(|i| omr_k[i] / prev.omr[i]).collect();
        let dimr: Vec<f64> = (0..n).map(|j| imr_k[j] / prev.imr[j]).collect();
        // dif = Δp_{k−1} − Δp_{k−2}, over all N² rows (each exporter's value N times)
        let dif: Vec<f64> = (0..n).map(|i| prev.dp[i] - dp_before[i]).collect();
        (sd, max) = sd_and_absmax((0..n * n).map(|k| dif[k / n]));
        dp_before = std::mem::replace(&mut prev.dp, dp.clone());
        prev = State {
            fit,
            er: erk,
            omr: omr_k,
            imr: imr_k,
            e: ek,
            dp,
            domr,
            dimr,
        };
    }
    // step 5 (iv): the full-endowment indexes from the last pass S
    let s = &prev;
    let p: Vec<f64> = (0..n)
        .map(|i| ((s.fit.exp_pi[i] / bln.exp_pi[i]) / (s.er / er0)).powf(inv))
        .collect();
    let y_f: Vec<f64> = (0..n).map(|i| p[i] * y[i]).collect();
    let e_f: Vec<f64> = (0..n).map(|i| phi[i] * y_f[i]).collect();
    let omr_f: Vec<f64> = (0..n).map(|i| y_f[i] * s.er / s.fit.exp_pi[i]).collect();
    let imr_f: Vec<f64> = (0..n).map(|j| s.e[j] / (s.fit.exp_chi[j] * s.er)).collect();
    let x_f: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            y_f[i] * e_f[j] * t_cfl.as_slice()[k] / (imr_f[j] * omr_f[i])
        })
        .collect();

    let market = |yv: &[f64], flows: &[f64]| -> f64 {
        argmax_abs(
            &(0..n)
                .map(|i| flows[i * n..(i + 1) * n].iter().sum::<f64>() / yv[i] - 1.0)
                .collect::<Vec<_>>(),
        )
        .1
    };
    let state = |yv: Vec<f64>,
                 ev: Vec<f64>,
                 price: Vec<f64>,
                 o: Vec<f64>,
                 im: Vec<f64>,
                 flows: Vec<f64>,
                 conv: Convergence| {
        let market_residual = market(&yv, &flows);
        Solution {
            output: yv,
            expenditure: ev,
            price,
            outward: o,
            inward: im,
            flows,
            convergence: conv,
            market_residual,
        }
    };
    Ok(GuideResults {
        baseline: state(
            y.clone(),
            e.clone(),
            vec![1.0; n],
            omr_bln,
            imr_bln,
            bln.fitted,
            Convergence::default(),
        ),
        conditional: state(
            y.clone(),
            e.clone(),
            vec![1.0; n],
            omr_cdl,
            imr_cdl,
            cdl.fitted,
            Convergence::default(),
        ),
        full: state(
            y_f,
            e_f,
            p,
            omr_f,
            imr_f,
            x_f,
            Convergence {
                iterations: passes,
                residual: max,
            },
        ),
        passes,
        final_sd: sd,
        final_max: max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(n: usize) -> (Vec<String>, Vec<f64>, CostMatrix) {
        let names: Vec<String> = (0..n).map(|i| format!("E{i}")).collect();
        let t: Vec<f64> = (0..n * n)
            .map(|k| {
                if k / n == k % n {
                    1.0
                } else {
                    0.1 / (1 + k % 5) as f64
                }
            })
            .collect();
        let flows: Vec<f64> = (0..n * n)
            .map(|k| t[k] * (3.0 + (k % 7) as f64) * if k == 1 { 0.0 } else { 1.0 })
            .collect();
        let costs = CostMatrix::new(&names, t).unwrap();
        (names, flows, costs)
    }

    #[test]
    fn fixed_effects_fit_matches_row_and_column_sums() {
        let (names, flows, costs) = toy(6);
        let fit = fe_fit(&names, &flows, &costs, 2, &Settings::GRAVITY).unwrap();
        assert!((fit.exp_chi[2] - 1.0).abs() < 1e-15);
        for i in 0..6 {
            let a: f64 = (0..6).map(|j| flows[i * 6 + j]).sum();
            let b: f64 = (0..6).map(|j| fit.fitted[i * 6 + j]).sum();
            assert!((a / b - 1.0).abs() < 1e-11);
            let a: f64 = (0..6).map(|j| flows[j * 6 + i]).sum();
            let b: f64 = (0..6).map(|j| fit.fitted[j * 6 + i]).sum();
            assert!((a / b - 1.0).abs() < 1e-11);
        }
    }

    #[test]
    fn unchanged_costs_change_nothing() {
        let (names, flows, costs) = toy(6);
        let r = run(
            &names,
            &flows,
            &costs,
            &costs,
            7.0,
            0,
            50,
            &Settings::GRAVITY,
        )
        .unwrap();
        for i in 0..6 {
            assert!((r.full.price[i] - 1.0).abs() < 1e-10);
            assert!((r.full.output[i] / r.baseline.output[i] - 1.0).abs() < 1e-10);
        }
        for (a, b) in r.full.flows.iter().zip(&r.baseline.flows) {
            assert!((a - b).abs() <= 1e-9 * b.max(1.0));
        }
    }
}
