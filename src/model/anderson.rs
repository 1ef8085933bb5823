//! Anderson acceleration of a fixed-point iteration `x = G(x)` (Walker & Ni 2011, "Anderson
//! acceleration for fixed-point iterations", SIAM J. Numer. Anal. 49(4)), type II with a
//! window of `m` past steps and a least-squares fit by normal equations with Tikhonov
//! regularisation.

use nalgebra::{DMatrix, DVector};

pub(super) struct Anderson {
    m: usize,
    dim: usize,
    xs: Vec<Vec<f64>>,
    gs: Vec<Vec<f64>>,
}

impl Anderson {
    pub(super) fn new(dim: usize, m: usize) -> Self {
        Anderson {
            m,
            dim,
            xs: Vec::new(),
            gs: Vec::new(),
        }
    }

    pub(super) fn reset(&mut self) {
        self.xs.clear();
        self.gs.clear();
    }

    /// Record `(x, G(x))` and return the next iterate.
    pub(super) fn step(&mut self, x: &[f64], g: &[f64]) -> Vec<f64> {
        self.xs.push(x.to_vec());
        self.gs.push(g.to_vec());
        if self.xs.len() > self.m + 1 {
            self.xs.remove(0);
            self.gs.remove(0);
        }
        let k = self.xs.len();
        if k < 2 {
            return g.to_vec();
        }
        // Residuals f = G(x) − x; differences ΔF, ΔG over the window.
        let f: Vec<Vec<f64>> = (0..k)
            .map(|t| {
                (0..self.dim)
                    .map(|d| self.gs[t][d] - self.xs[t][d])
                    .collect()
            })
            .collect();
        let cols = k - 1;
        let df = DMatrix::from_fn(self.dim, cols, |d, c| f[c + 1][d] - f[c][d]);
        let fk = DVector::from_column_slice(&f[k - 1]);
        let mut normal = df.transpose() * &df;
        let scale = normal.diagonal().max().max(1e-300);
        for c in 0..cols {
            normal[(c, c)] += 1e-12 * scale;
        }
        let rhs = df.transpose() * fk;
        let Some(gamma) = normal.cholesky().map(|ch| ch.solve(&rhs)) else {
            self.reset();
            return g.to_vec();
        };
        let mut next = g.to_vec();
        for c in 0..cols {
            for (d, v) in next.iter_mut().enumerate() {
                *v -= gamma[c] * (self.gs[c + 1][d] - self.gs[c][d]);
            }
        }
        next
    }
}
