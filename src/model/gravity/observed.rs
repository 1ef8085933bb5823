//! Structural gravity on observed flows: the counterfactual solved by exact hat algebra on the
//! data themselves (Dekle, Eaton & Kortum 2007), as Zylkin's `ge_gravity` for Stata (Baier,
//! Yotov & Zylkin 2019, *JIE* 116, section 6; its help file) and gegravity do. No trade costs
//! are needed: a counterfactual is a change `B_ij = T̂_ij = t̂_ij^{−θ}` of the cost term (for
//! example `exp(β·Δz_ij)` with a PPML estimate β, the "partial effect").
//!
//! The one-sector Armington–CES model with trade elasticity θ (= σ − 1), in changes
//! (`π_ij = X_ij/E_j` the observed import shares, `ŵ_i` the change in the factory-gate price):
//!
//! ```text
//! X'_ij = π_ij B_ij ŵ_i^{−θ} E'_j / P̂_j^{−θ},     P̂_j^{−θ} = Σ_i π_ij B_ij ŵ_i^{−θ}
//! Y_i ŵ_i = Σ_j X'_ij                               (every market clears)
//! E'_j = Y_j ŵ_j + D_j        (Additive: the deficit D_j = E_j − Y_j fixed in money; the default)
//! E'_j = (Y_j + D_j) ŵ_j      (Multiplicative: expenditure a fixed multiple of output)
//! Σ_i Y_i ŵ_i = Σ_i Y_i       (numéraire: world nominal output unchanged)
//! ```
//!
//! Welfare is real expenditure, `Ŵ_j = (E'_j/E_j) / P̂_j`; the real wage `ŵ_j / P̂_j`.
//! With additive imbalances the numéraire matters (deficits are fixed in its units), which is
//! why it is `ge_gravity`'s own. The iteration is `ge_gravity`'s (update `ŵ` from market
//! clearing with exponent `1/(1+θ)`, renormalise, update `P̂` and `E'`), run until every market
//! clears to the tolerance rather than until flows stop moving by 1e-8.
//!
//! The conditional GE (output and expenditure fixed, only the resistances adjust) is the
//! resistance system in changes, solved by alternating scaling with `P̂_ref = 1`:
//! `Π̂_i^{−θ} = Σ_j (X_ij/Y_i) B_ij / P̂_j^{−θ}`, `P̂_j^{−θ} = Σ_i (X_ij/E_j) B_ij / Π̂_i^{−θ}`.

use super::{argmax_abs, Convergence, Settings};
use crate::error::{Error, Result, Solver, Worst};

/// How trade imbalances enter the counterfactual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Imbalances {
    /// `E'_j = Y'_j + D_j`: the observed deficit is kept in money terms (`ge_gravity`'s
    /// default; Dekle, Eaton & Kortum 2007).
    Additive,
    /// `E'_j = δ_j Y'_j` with `δ_j = E_j/Y_j` from the data (`ge_gravity`'s `multiplicative`
    /// option; Anderson & Yotov 2016).
    Multiplicative,
}

/// Observed bilateral flows `X_ij` (row-major: row `i` the exporter, column `j` the importer),
/// domestic sales on the diagonal, with output `Y_i = Σ_j X_ij` and expenditure
/// `E_j = Σ_i X_ij`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ObservedFlows {
    names: Vec<String>,
    flows: Vec<f64>,
    output: Vec<f64>,
    expenditure: Vec<f64>,
}

impl ObservedFlows {
    /// Checks that the matrix is square over `names`, every flow finite and non-negative and
    /// every domestic flow positive (the model needs `X_ii > 0`, as `ge_gravity` checks).
    pub(crate) fn new(names: Vec<String>, flows: Vec<f64>) -> Result<Self> {
        let n = names.len();
        if n < 2 || flows.len() != n * n {
            return Err(Error::invalid(
                "observed flows",
                format!(
                    "{} flows for {n} economies; the data must be a square N × N matrix with N ≥ 2",
                    flows.len()
                ),
            ));
        }
        for (k, v) in flows.iter().enumerate() {
            let (i, j) = (k / n, k % n);
            if !(v.is_finite() && *v >= 0.0) {
                return Err(Error::invalid(
                    format!("flow {} -> {}", names[i], names[j]),
                    format!("is {v}; flows must be finite and non-negative"),
                ));
            }
            if i == j && *v <= 0.0 {
                return Err(Error::invalid(
                    format!("flow {} -> {}", names[i], names[j]),
                    "the domestic flow (internal sales) is zero; the model needs X_ii > 0 for every economy: add it or drop the economy",
                ));
            }
        }
        let output = (0..n)
            .map(|i| flows[i * n..(i + 1) * n].iter().sum())
            .collect();
        let expenditure = (0..n)
            .map(|j| (0..n).map(|i| flows[i * n + j]).sum())
            .collect();
        Ok(ObservedFlows {
            names,
            flows,
            output,
            expenditure,
        })
    }
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }
    pub(crate) fn flows(&self) -> &[f64] {
        &self.flows
    }
    /// `Y_i`, the row sums.
    pub(crate) fn output(&self) -> &[f64] {
        &self.output
    }
    /// `E_j`, the column sums.
    pub(crate) fn expenditure(&self) -> &[f64] {
        &self.expenditure
    }
    fn len(&self) -> usize {
        self.names.len()
    }
    fn check_change(&self, change: &[f64]) -> Result<()> {
        let n = self.len();
        if change.len() != n * n {
            return Err(Error::invalid(
                "cost change",
                format!("{} entries for {n} economies; need {}", change.len(), n * n),
            ));
        }
        for (k, b) in change.iter().enumerate() {
            if !(b.is_finite() && *b > 0.0) {
                return Err(Error::invalid(
                    format!("cost change {} -> {}", self.names[k / n], self.names[k % n]),
                    format!("exp(partial effect) = {b}; it must be finite and positive"),
                ));
            }
        }
        Ok(())
    }
}

/// A counterfactual solved in changes relative to the observed flows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HatSolution {
    /// `ŵ_i`, the change in the factory-gate price (1 in the conditional GE).
    pub price: Vec<f64>,
    /// `P̂_j^{−θ}` (the inward resistance in the power the equations use).
    pub inward: Vec<f64>,
    /// `Π̂_i^{−θ}`.
    pub outward: Vec<f64>,
    /// `Y'_i`.
    pub output: Vec<f64>,
    /// `E'_j`.
    pub expenditure: Vec<f64>,
    /// `X'_ij`, row-major.
    pub flows: Vec<f64>,
    pub convergence: Convergence,
    /// Largest relative market-clearing residual `|Σ_j X'_ij / Y'_i − 1|`.
    pub market_residual: f64,
}

impl HatSolution {
    /// `P̂_j = (P̂_j^{−θ})^{−1/θ}` (the unit tests check welfare with it).
    #[cfg(test)]
    pub(crate) fn price_index(&self, theta: f64) -> Vec<f64> {
        self.inward.iter().map(|v| v.powf(-1.0 / theta)).collect()
    }
    /// Welfare (real expenditure) `Ŵ_j = (E'_j/E_j)/P̂_j`, relative to `data`.
    #[cfg(test)]
    pub(crate) fn welfare(&self, data: &ObservedFlows, theta: f64) -> Vec<f64> {
        let p = self.price_index(theta);
        (0..p.len())
            .map(|j| self.expenditure[j] / data.expenditure[j] / p[j])
            .collect()
    }
}

/// The full-endowment counterfactual of a cost change `B_ij` (see the module doc), by
/// `ge_gravity`'s fixed-point iteration from `ŵ = P̂ = 1`, until every market clears to
/// `options.tolerance`. Fails naming the economy with the largest market-clearing residual,
/// or the economy whose expenditure would turn negative (additive imbalances with a large
/// surplus and a falling price: use [`Imbalances::Multiplicative`]).
pub(crate) fn full_endowment(
    data: &ObservedFlows,
    change: &[f64],
    theta: f64,
    imbalances: Imbalances,
    options: &Settings,
) -> Result<HatSolution> {
    check_theta(theta)?;
    data.check_change(change)?;
    let n = data.len();
    let (y, e) = (&data.output, &data.expenditure);
    let deficit: Vec<f64> = (0..n).map(|j| e[j] - y[j]).collect();
    let world: f64 = y.iter().sum();
    // a_ij = π_ij B_ij
    let a: Vec<f64> = (0..n * n)
        .map(|k| data.flows[k] / e[k % n] * change[k])
        .collect();
    let mut w = vec![1.0; n];
    let mut wt = vec![1.0; n]; // ŵ^{−θ}
    let mut phat = vec![1.0; n]; // P̂^{−θ}
    let mut x_new = e.clone(); // E'
    let mut sales = vec![0.0; n];
    let mut resid = vec![0.0; n];
    // Σ_j a_ij E'_j / P̂_j^{−θ}, then the market-clearing residual at the current point
    let evaluate = |wt: &[f64],
                    w: &[f64],
                    phat: &[f64],
                    exp: &[f64],
                    sales: &mut [f64],
                    resid: &mut [f64]|
     -> f64 {
        for i in 0..n {
            let d: f64 = a[i * n..(i + 1) * n]
                .iter()
                .zip(exp.iter().zip(phat))
                .map(|(a, (x, p))| a * x / p)
                .sum();
            sales[i] = d;
            resid[i] = wt[i] * d / (y[i] * w[i]) - 1.0;
        }
        argmax_abs(resid).1
    };
    let mut residual = evaluate(&wt, &w, &phat, &x_new, &mut sales, &mut resid);
    let mut iterations = 0;
    while residual > options.tolerance() && iterations < options.max_iterations() {
        iterations += 1;
        // step 1: ŵ_i = (Σ_j π_ij B_ij E'_j / P̂_j^{−θ} / Y_i)^{1/(1+θ)}; step 1.5: Σ Y ŵ = Σ Y
        for i in 0..n {
            w[i] = (sales[i].max(0.0) / y[i]).powf(1.0 / (1.0 + theta));
        }
        let scale = world / (0..n).map(|i| y[i] * w[i]).sum::<f64>();
        w.iter_mut().for_each(|v| *v *= scale);
        for i in 0..n {
            wt[i] = w[i].powf(-theta);
        }
        // step 2: P̂_j^{−θ} = Σ_i π_ij B_ij ŵ_i^{−θ}
        for j in 0..n {
            phat[j] = (0..n).map(|i| a[i * n + j] * wt[i]).sum();
        }
        // step 3: E'_j (multiplicative: scaled by one common factor so that world
        // expenditure stays equal to world output, which `δ_j Y'_j` alone does not keep)
        let s = match imbalances {
            Imbalances::Additive => 1.0,
            Imbalances::Multiplicative => world / (0..n).map(|j| e[j] * w[j]).sum::<f64>(),
        };
        for j in 0..n {
            x_new[j] = match imbalances {
                Imbalances::Additive => y[j] * w[j] + deficit[j],
                Imbalances::Multiplicative => s * e[j] * w[j],
            };
            if !(x_new[j] > 0.0) {
                return Err(Error::invalid(
                    "the counterfactual on observed flows",
                    format!("there is no equilibrium with additive trade imbalances: {}'s expenditure Y'·ŵ + D = {:.6e} is not positive (its deficit D = {:.6e} is fixed in money while its output falls); use imbalances: Multiplicative",
                    data.names[j], x_new[j], deficit[j]),
                ));
            }
        }
        residual = evaluate(&wt, &w, &phat, &x_new, &mut sales, &mut resid);
        if !residual.is_finite() {
            break;
        }
    }
    if !(residual <= options.tolerance()) {
        let (k, r) = argmax_abs(&resid);
        return Err(Error::not_converged(
            Solver::ObservedFullEndowment,
            iterations,
            r,
            options.tolerance(),
            Some(Worst::Economy(data.names[k].clone())),
            "check the partial effects (a very large change) or raise max_iterations",
        ));
    }
    let flows: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            a[k] * wt[i] * x_new[j] / phat[j]
        })
        .collect();
    let output: Vec<f64> = (0..n).map(|i| y[i] * w[i]).collect();
    // Π̂_i^{−θ} from X'_ij = (Y'_i/Y') E'_j T'_ij / (Π'_i P'_j)^{−θ} relative to the data:
    // Π̂_i^{−θ} = Σ_j (X_ij/Y_i) B_ij (E'_j/E_j) / P̂_j^{−θ} · (Y/Y'), with Y'/Y = 1 here.
    let world_new: f64 = output.iter().sum();
    let outward: Vec<f64> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    data.flows[i * n + j] / y[i] * change[i * n + j] * x_new[j] / e[j] / phat[j]
                })
                .sum::<f64>()
                * world
                / world_new
        })
        .collect();
    let market = argmax_abs(
        &(0..n)
            .map(|i| flows[i * n..(i + 1) * n].iter().sum::<f64>() / output[i] - 1.0)
            .collect::<Vec<_>>(),
    )
    .1;
    Ok(HatSolution {
        price: w,
        inward: phat,
        outward,
        output,
        expenditure: x_new,
        flows,
        convergence: Convergence {
            iterations,
            residual,
        },
        market_residual: market,
    })
}

/// The conditional GE of a cost change: output and expenditure fixed at the data, the
/// resistances in changes solved by alternating scaling with `P̂_ref = 1` (see the module doc).
pub(crate) fn conditional(
    data: &ObservedFlows,
    change: &[f64],
    reference: usize,
    options: &Settings,
) -> Result<HatSolution> {
    data.check_change(change)?;
    let n = data.len();
    if reference >= n {
        return Err(Error::invalid(
            "conditional GE",
            format!("reference index {reference} is out of range (0..{n})"),
        ));
    }
    let (y, e) = (&data.output, &data.expenditure);
    let xb: Vec<f64> = (0..n * n).map(|k| data.flows[k] * change[k]).collect();
    let mut inward = vec![1.0; n];
    let mut outward = vec![1.0; n];
    let mut resid = vec![0.0; 2 * n];
    let mut iterations = 0;
    let mut residual = f64::INFINITY;
    let update_outward = |outward: &mut [f64], inward: &[f64]| {
        for i in 0..n {
            outward[i] = (0..n).map(|j| xb[i * n + j] / inward[j]).sum::<f64>() / y[i];
        }
    };
    update_outward(&mut outward, &inward);
    while iterations < options.max_iterations() {
        iterations += 1;
        for j in 0..n {
            inward[j] = (0..n).map(|i| xb[i * n + j] / outward[i]).sum::<f64>() / e[j];
        }
        let c = inward[reference];
        inward.iter_mut().for_each(|v| *v /= c);
        outward.iter_mut().for_each(|v| *v *= c);
        update_outward(&mut outward, &inward);
        // residuals of the importer equations (the exporter ones hold after the update)
        for j in 0..n {
            let s: f64 = (0..n).map(|i| xb[i * n + j] / outward[i]).sum::<f64>() / e[j];
            resid[n + j] = 1.0 - inward[j] / s;
        }
        residual = argmax_abs(&resid).1;
        if !residual.is_finite() || residual <= options.tolerance() {
            break;
        }
    }
    if !(residual <= options.tolerance()) {
        let (k, r) = argmax_abs(&resid);
        return Err(Error::not_converged(
            Solver::ObservedConditional,
            iterations,
            r,
            options.tolerance(),
            Some(Worst::Economy(data.names[k % n].clone())),
            "check the partial effects or raise max_iterations",
        ));
    }
    let flows: Vec<f64> = (0..n * n)
        .map(|k| xb[k] / (outward[k / n] * inward[k % n]))
        .collect();
    let market = argmax_abs(
        &(0..n)
            .map(|i| flows[i * n..(i + 1) * n].iter().sum::<f64>() / y[i] - 1.0)
            .collect::<Vec<_>>(),
    )
    .1;
    Ok(HatSolution {
        price: vec![1.0; n],
        inward,
        outward,
        output: y.clone(),
        expenditure: e.clone(),
        flows,
        convergence: Convergence {
            iterations,
            residual,
        },
        market_residual: market,
    })
}

/// Checks θ > 0 (finite).
pub(crate) fn check_theta(theta: f64) -> Result<()> {
    if theta.is_finite() && theta > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            "theta",
            format!("{theta} is not a valid trade elasticity; it must be finite and positive (ge_gravity's example uses 4; θ = σ − 1)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> ObservedFlows {
        let names: Vec<String> = ["A", "B", "C", "D"].iter().map(|s| s.to_string()).collect();
        #[rustfmt::skip]
        let flows = vec![
            50.0, 4.0, 3.0, 1.0,
            6.0, 80.0, 2.0, 0.0,
            2.0, 1.0, 30.0, 5.0,
            3.0, 2.0, 1.0, 20.0,
        ];
        ObservedFlows::new(names, flows).unwrap()
    }

    #[test]
    fn no_change_is_the_data() {
        let d = toy();
        for imb in [Imbalances::Additive, Imbalances::Multiplicative] {
            let s = full_endowment(&d, &[1.0; 16], 4.0, imb, &Settings::GRAVITY).unwrap();
            for k in 0..16 {
                assert!((s.flows[k] - d.flows()[k]).abs() < 1e-9 * (1.0 + d.flows()[k]));
            }
            assert!(s.welfare(&d, 4.0).iter().all(|w| (w - 1.0).abs() < 1e-11));
        }
    }

    #[test]
    fn counterfactual_clears_markets_and_keeps_deficits() {
        let d = toy();
        let mut b = vec![1.0; 16];
        b[1] = 1.5; // A -> B
        b[4] = 1.5; // B -> A
        let s = full_endowment(&d, &b, 4.0, Imbalances::Additive, &Settings::GRAVITY).unwrap();
        assert!(s.market_residual < 1e-11, "{}", s.market_residual);
        let world: f64 = d.output().iter().sum();
        assert!((s.output.iter().sum::<f64>() / world - 1.0).abs() < 1e-12);
        for j in 0..4 {
            let bought: f64 = (0..4).map(|i| s.flows[i * 4 + j]).sum();
            assert!((bought / s.expenditure[j] - 1.0).abs() < 1e-11);
            let d_new = s.expenditure[j] - s.output[j];
            let d_old = d.expenditure()[j] - d.output()[j];
            assert!((d_new - d_old).abs() < 1e-9);
        }
        let w = s.welfare(&d, 4.0);
        assert!(w[0] > 1.0 && w[1] > 1.0, "{w:?}");
        // the conditional GE keeps output and expenditure and clears its own markets
        let c = conditional(&d, &b, 0, &Settings::GRAVITY).unwrap();
        assert!(c.market_residual < 1e-11);
        assert!((c.inward[0] - 1.0).abs() < 1e-15);
    }

    #[test]
    fn bad_input_is_an_error() {
        let names: Vec<String> = ["A", "B"].iter().map(|s| s.to_string()).collect();
        assert!(ObservedFlows::new(names.clone(), vec![1.0, 1.0, 1.0, 0.0]).is_err());
        assert!(ObservedFlows::new(names.clone(), vec![1.0, -1.0, 1.0, 1.0]).is_err());
        let d = ObservedFlows::new(names, vec![1.0, 1.0, 1.0, 1.0]).unwrap();
        assert!(full_endowment(
            &d,
            &[1.0, f64::NAN, 1.0, 1.0],
            4.0,
            Imbalances::Additive,
            &Settings::GRAVITY
        )
        .is_err());
        assert!(check_theta(0.0).is_err());
    }
}
