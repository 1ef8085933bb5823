//! Monte Carlo draws: every draw's random stream derives from the batch seed and the draw
//! number (and the scenario's name when common random numbers are off), never from the order
//! or thread in which draws are solved. ChaCha8 with one stream per draw.

use crate::scenario::batch::{Batch, Distribution, Parameter};
use crate::scenario::Scenario;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution as _, LogNormal, Normal, StandardNormal, Triangular, Uniform};

/// FNV-1a, a stable hash of a scenario's name.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The random stream of `draw` of `scenario`.
pub(crate) fn stream(seed: u64, scenario: &str, draw: u32, common: bool) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let id = if common {
        draw as u64
    } else {
        fnv1a(scenario) ^ ((draw as u64) << 1 | 1).rotate_left(17)
    };
    rng.set_stream(id);
    rng
}

/// One value from a distribution.
pub(crate) fn sample(d: &Distribution, rng: &mut ChaCha8Rng) -> f64 {
    match *d {
        Distribution::Normal { mean, sd } => Normal::new(mean, sd).map_or(mean, |n| n.sample(rng)),
        Distribution::LogNormal { mu, sigma } => {
            LogNormal::new(mu, sigma).map_or(mu.exp(), |n| n.sample(rng))
        }
        Distribution::Uniform { min, max } => {
            if min == max {
                min
            } else {
                Uniform::new(min, max).map_or(min, |u| u.sample(rng))
            }
        }
        Distribution::Triangular { min, mode, max } => {
            Triangular::new(min, max, mode).map_or(mode, |t| t.sample(rng))
        }
    }
}

/// Lower Cholesky factor of a covariance matrix (positive semi-definite; zero pivots allowed).
fn cholesky(c: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let k = c.len();
    let mut l = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in 0..=i {
            let s: f64 = (0..j).map(|m| l[i][m] * l[j][m]).sum();
            if i == j {
                l[i][j] = (c[i][i] - s).max(0.0).sqrt();
            } else if l[j][j] > 0.0 {
                l[i][j] = (c[i][j] - s) / l[j][j];
            }
        }
    }
    l
}

/// The parameter values of a draw, in the order of the batch's `uncertainty` list followed by
/// the estimate's coefficients.
pub(crate) fn draw_values(batch: &Batch, scenario: &str, draw: u32) -> Vec<(Parameter, f64)> {
    let mut rng = stream(batch.seed, scenario, draw, batch.common_random_numbers);
    let mut out: Vec<(Parameter, f64)> = batch
        .uncertainty
        .iter()
        .map(|(p, d)| (p.clone(), sample(d, &mut rng)))
        .collect();
    if let Some(e) = &batch.estimate {
        let l = cholesky(&e.covariance);
        let z: Vec<f64> = (0..e.mean.len())
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect();
        for (a, target) in e.targets.iter().enumerate() {
            let v = e.mean[a] + (0..=a).map(|b| l[a][b] * z[b]).sum::<f64>();
            let v = if matches!(target, Parameter::Theta(_)) {
                -v
            } else {
                v
            };
            out.push((target.clone(), v));
        }
    }
    out
}

/// The scenario of a draw: the central scenario with the draw's parameter values.
pub(crate) fn perturb(s: &Scenario, values: &[(Parameter, f64)]) -> Result<Scenario, String> {
    let mut p = s.clone();
    for (param, v) in values {
        match param {
            Parameter::Theta(code) => {
                if let Some(j) = p.baseline.sector_index(code) {
                    p.theta[j] = *v;
                }
            }
            Parameter::ThetaScale => p.theta.iter_mut().for_each(|t| *t *= v),
            Parameter::FdiEta => {
                if let Some(inv) = &mut p.investment {
                    inv.eta = *v;
                }
            }
            Parameter::Depth(name) => {
                // A parameter of the model: the same value in the scenario and in its
                // reference path (common random numbers within the draw).
                if let Some(a) = p.agreements.iter_mut().find(|a| &a.name == name) {
                    a.set_depth_beta(*v);
                }
                if let crate::scenario::ComparedWith::Reference(r) = &mut p.compared_with {
                    if let Some(a) = r.agreements.iter_mut().find(|a| &a.name == name) {
                        a.set_depth_beta(*v);
                    }
                }
            }
        }
    }
    for (j, t) in p.theta.iter().enumerate() {
        if let Err(msg) = crate::data::check_theta(*t) {
            return Err(format!(
                "the draw gives sector {} {msg} (narrow the distribution, or use LogNormal for a positive θ)",
                p.baseline.sectors[j].code
            ));
        }
    }
    for a in &p.agreements {
        if let Some(d) = &a.depth {
            if let Err(msg) = crate::policy::check_depth_beta(d.beta) {
                return Err(format!(
                    "the draw gives agreement `{}` {msg} (narrow the distribution)",
                    a.name
                ));
            }
        }
    }
    Ok(p)
}
