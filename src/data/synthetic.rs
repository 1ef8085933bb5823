//! Synthetic worlds for benchmarks and property tests: deterministic, consistent (an
//! equilibrium of the Caliendo–Parro model by construction), and labelled as made up.

use super::{derived_final_shares, Baseline, Cube, Economy, Sector};
use std::collections::BTreeMap;

/// SplitMix64: a small deterministic generator, enough for test worlds.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A synthetic world of `n` economies and `j` sectors (the last one non-traded when `j > 1`),
/// with gravity-like flows (sizes × distance^-1), tariffs of 0–15%, and input-output shares
/// when `io` is set. Economy codes are `E000`, …; sector codes `S00`, ….
pub fn world(n: usize, j: usize, io: bool, seed: u64) -> Baseline {
    let mut rng = SplitMix(seed);
    let economies: Vec<Economy> = (0..n)
        .map(|k| Economy {
            code: format!("E{k:03}"),
            name: format!("synthetic economy {k}"),
        })
        .collect();
    let sectors: Vec<Sector> = (0..j)
        .map(|k| Sector {
            code: format!("S{k:02}"),
            name: format!("synthetic sector {k}"),
            theta: 2.0 + 8.0 * rng.next(),
            traded: !(j > 1 && k == j - 1),
        })
        .collect();
    let size: Vec<f64> = (0..n).map(|_| (1.0 + 4.0 * rng.next()).exp()).collect();
    let pos: Vec<(f64, f64)> = (0..n).map(|_| (rng.next(), rng.next())).collect();
    let mut flows = Cube::zeros(j, n);
    let mut tariffs = Cube::zeros(j, n);
    for s in 0..j {
        for a in 0..n {
            for b in 0..n {
                let v = if a == b {
                    size[a] * size[a] * 20.0
                } else if sectors[s].traded {
                    let d = ((pos[a].0 - pos[b].0).powi(2) + (pos[a].1 - pos[b].1).powi(2)).sqrt()
                        + 0.05;
                    size[a] * size[b] / d * (0.5 + rng.next())
                } else {
                    0.0
                };
                flows.set(s, a, b, v);
                if a != b && sectors[s].traded {
                    tariffs.set(s, a, b, 0.15 * rng.next());
                }
            }
        }
    }
    let mut va_share = vec![1.0; n * j];
    let mut io_share = vec![0.0; n * j * j];
    if io {
        for e in 0..n {
            for s in 0..j {
                let va = 0.35 + 0.3 * rng.next();
                let w: Vec<f64> = (0..j).map(|_| rng.next()).collect();
                let tot: f64 = w.iter().sum();
                va_share[e * j + s] = va;
                for k in 0..j {
                    io_share[(e * j + k) * j + s] = (1.0 - va) * w[k] / tot;
                }
            }
        }
    }
    let mut b = Baseline {
        name: format!("synthetic {n}x{j} (seed {seed})"),
        economies,
        sectors,
        flows,
        tariffs,
        flags: BTreeMap::new(),
        value_added: vec![0.0; n],
        va_share,
        io_share,
        final_share: vec![0.0; n * j],
        deficit: vec![0.0; n],
        tariff_sets: BTreeMap::new(),
        product_groups: Vec::new(),
    };
    // Domestic sales large enough that intermediate use never exceeds expenditure.
    if io {
        for e in 0..n {
            for s in 0..j {
                let bump = b.flows.get(s, e, e) * 3.0;
                b.flows.set(s, e, e, bump);
            }
        }
    }
    // Consistency: intermediate use of every sector stays below 90% of its expenditure, so
    // that final demand is positive and the world is an equilibrium. Scale an economy's
    // input shares down (value-added shares up) where needed.
    let y = b.gross_output();
    let x = b.expenditure(&b.tariffs);
    for e in 0..n {
        let mut f = 1.0f64;
        for s in 0..j {
            let inter: f64 = (0..j)
                .map(|k| b.io_share[(e * j + s) * j + k] * y[e * j + k])
                .sum();
            if inter > 0.0 {
                f = f.min(0.9 * x[e * j + s] / inter);
            }
        }
        if f < 1.0 {
            for s in 0..j {
                for k in 0..j {
                    b.io_share[(e * j + k) * j + s] *= f;
                }
                let used: f64 = (0..j).map(|k| b.io_share[(e * j + k) * j + s]).sum();
                b.va_share[e * j + s] = 1.0 - used;
            }
        }
    }
    let (ex, im) = (b.exports(), b.imports());
    for e in 0..n {
        b.value_added[e] = (0..j).map(|s| b.va_share[e * j + s] * y[e * j + s]).sum();
        b.deficit[e] = im[e] - ex[e];
    }
    b.final_share = derived_final_shares(&b);
    b
}
