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

    /// Record `(x, G(x))` and write the next iterate into `next`. The window's oldest pair of
    /// buffers is reused for the newest, so a step allocates only the small least-squares
    /// matrices.
    pub(super) fn step(&mut self, x: &[f64], g: &[f64], next: &mut [f64]) {
        let (mut xb, mut gb) = if self.xs.len() > self.m {
            (self.xs.remove(0), self.gs.remove(0))
        } else {
            (Vec::with_capacity(self.dim), Vec::with_capacity(self.dim))
        };
        xb.clear();
        xb.extend_from_slice(x);
        gb.clear();
        gb.extend_from_slice(g);
        self.xs.push(xb);
        self.gs.push(gb);
        next.copy_from_slice(g);
        let k = self.xs.len();
        if k < 2 {
            return;
        }
        // Residuals f_t = G(x_t) − x_t; differences ΔF, ΔG over the window.
        let f = |t: usize, d: usize| self.gs[t][d] - self.xs[t][d];
        let cols = k - 1;
        let df = DMatrix::from_fn(self.dim, cols, |d, c| f(c + 1, d) - f(c, d));
        let fk = DVector::from_fn(self.dim, |d, _| f(k - 1, d));
        let mut normal = df.transpose() * &df;
        let scale = normal.diagonal().max().max(1e-300);
        for c in 0..cols {
            normal[(c, c)] += 1e-12 * scale;
        }
        let rhs = df.transpose() * fk;
        let Some(gamma) = normal.cholesky().map(|ch| ch.solve(&rhs)) else {
            self.reset();
            return;
        };
        for c in 0..cols {
            for (d, v) in next.iter_mut().enumerate() {
                *v -= gamma[c] * (self.gs[c + 1][d] - self.gs[c][d]);
            }
        }
    }
}
