//! Deterministic synthetic gravity worlds for tests and benchmarks: economies scattered on a
//! plane with sizes over four orders of magnitude and costs from gegravity's example
//! coefficients (`t^{1−σ} = exp(16.32434 − 0.3898623 ln dist + 0.891577 contiguity
//! \+ 0.4711383 pta − 3.412584 international)`). The counterfactual gives the first two
//! economies a PTA. Values come from a fixed hash of (seed, index), not from a random stream.

use super::{CostMatrix, World};
use crate::error::Result;

/// The covariates of one directed pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairCovariates {
    /// Log distance between the two economies' points on a 20,000 × 10,000 plane (at least
    /// ln 50); a domestic pair's internal distance is `50 + √Y_i`.
    pub lndist: f64,
    /// 1 for two distinct economies less than 900 apart, else 0.
    pub contiguity: f64,
    /// 1 when the pair has a preferential trade agreement (in the baseline: `(i + j)` a
    /// multiple of 7; the counterfactual adds economies 0 and 1), else 0.
    pub pta: f64,
    /// 1 for an international pair, 0 for a domestic one (the border dummy).
    pub international: f64,
}

/// A synthetic world, its covariates and a PTA counterfactual between economies 0 and 1.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// The economies `C000`, `C001`, … with output and expenditure (reference `C000`).
    pub world: World,
    /// The baseline covariates of every directed pair, row-major (`[i·N + j]`).
    pub covariates: Vec<PairCovariates>,
    /// Baseline `t_ij^{1−σ}` = [`cost`] of `covariates`.
    pub costs: CostMatrix,
    /// Counterfactual `t_ij^{1−σ}`: `costs` with `pta = 1` between economies 0 and 1.
    pub counterfactual: CostMatrix,
}

fn unit(seed: u64, k: u64) -> f64 {
    // splitmix64 of (seed, k) mapped to (0, 1)
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(k.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// Coefficients of the synthetic cost function: constant, lndist, contiguity, pta, international.
pub const COEFFICIENTS: [f64; 5] = [16.32434, -0.3898623, 0.891577, 0.4711383, -3.412584];

/// `t^{1−σ}` of one pair.
pub fn cost(c: &PairCovariates) -> f64 {
    let [k, d, g, p, b] = COEFFICIENTS;
    (k + d * c.lndist + g * c.contiguity + p * c.pta + b * c.international).exp()
}

/// Builds an `n`-economy world (`n ≥ 2`); economy 0 is the reference.
pub fn synthetic(n: usize, seed: u64) -> Result<Synthetic> {
    let names: Vec<String> = (0..n).map(|i| format!("C{i:03}")).collect();
    let xy: Vec<(f64, f64)> = (0..n as u64)
        .map(|i| {
            (
                unit(seed, 4 * i) * 20_000.0,
                unit(seed, 4 * i + 1) * 10_000.0,
            )
        })
        .collect();
    let output: Vec<f64> = (0..n as u64)
        .map(|i| (10f64).powf(3.0 + 4.0 * unit(seed, 4 * i + 2)).round())
        .collect();
    let expenditure: Vec<f64> = (0..n as u64)
        .map(|i| (output[i as usize] * (0.85 + 0.3 * unit(seed, 4 * i + 3))).round())
        .collect();
    let mut covariates = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            let d = if i == j {
                // internal distance grows with size
                50.0 + output[i].sqrt()
            } else {
                let (a, b) = (xy[i], xy[j]);
                ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt().max(50.0)
            };
            let intl = if i == j { 0.0 } else { 1.0 };
            covariates.push(PairCovariates {
                lndist: d.ln(),
                contiguity: if i != j && d < 900.0 { 1.0 } else { 0.0 },
                pta: if i != j && (i + j) % 7 == 0 { 1.0 } else { 0.0 },
                international: intl,
            });
        }
    }
    let costs = CostMatrix::new(&names, covariates.iter().map(cost).collect())?;
    let cf: Vec<f64> = covariates
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let (i, j) = (k / n, k % n);
            let mut c = *c;
            if (i, j) == (0, 1) || (i, j) == (1, 0) {
                c.pta = 1.0;
            }
            cost(&c)
        })
        .collect();
    let counterfactual = CostMatrix::new(&names, cf)?;
    let world = World::new(names, output, expenditure, 0)?;
    Ok(Synthetic {
        world,
        covariates,
        costs,
        counterfactual,
    })
}
