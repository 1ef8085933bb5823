//! A synthetic bilateral FDI panel, for the README's estimation example and the tests: made
//! up, labelled as such in every row (`synthetic = 1`), with a known PTA effect so that
//! `tradesim estimate` can be seen to recover it.
//!
//! `E[fdi_sht] = exp(β·pta_sht + a_st + b_ht + c_sh)`, drawn as the mean times a mean-one
//! noise that is zero with probability 0.15 and log-normal (σ = 0.4) otherwise.

use crate::data::synthetic::SplitMix;

/// The PTA semi-elasticity the panel is generated with: ln 1.30, Kox & Rojas-Romagosa's
/// (2020) +30%.
pub fn true_beta() -> f64 {
    1.30f64.ln()
}

/// CSV text of a panel of `n` economies, years 2002, 2004, …, 2014, seed `seed`.
pub fn fdi_panel_csv(n: usize, seed: u64) -> String {
    let mut rng = SplitMix(seed);
    let normal = |r: &mut SplitMix| {
        // Box–Muller.
        let (u, v) = (r.next().max(1e-300), r.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    };
    let years: Vec<i32> = (2002..=2014).step_by(2).collect();
    let size: Vec<f64> = (0..n).map(|_| 2.0 * normal(&mut rng)).collect();
    let pair: Vec<f64> = (0..n * n).map(|_| 0.8 * normal(&mut rng)).collect();
    // A PTA enters into force between 2004 and 2020 for about a third of the pairs.
    let pta_year: Vec<Option<i32>> = (0..n * n)
        .map(|_| {
            if rng.next() < 0.35 {
                Some(2004 + (rng.next() * 16.0) as i32)
            } else {
                None
            }
        })
        .collect();
    let trend: Vec<f64> = (0..n * years.len())
        .map(|_| 0.1 * normal(&mut rng))
        .collect();
    let beta = true_beta();
    let mut out = String::from("source,host,year,fdi,pta,synthetic\n");
    for s in 0..n {
        for h in 0..n {
            if s == h {
                continue;
            }
            // Symmetric agreements: the lower-indexed pair's draw.
            let k = s.min(h) * n + s.max(h);
            for (t, y) in years.iter().enumerate() {
                let pta = pta_year[k].is_some_and(|py| *y >= py) as u8;
                let mu = (beta * pta as f64
                    + size[s]
                    + 0.7 * size[h]
                    + pair[s * n + h]
                    + trend[s * years.len() + t]
                    + trend[h * years.len() + t]
                    + 3.0)
                    .exp();
                let noise = if rng.next() < 0.15 {
                    0.0
                } else {
                    (0.4 * normal(&mut rng) - 0.08).exp() / 0.85
                };
                out.push_str(&format!("S{s:02},S{h:02},{y},{:.3},{pta},1\n", mu * noise));
            }
        }
    }
    out
}
