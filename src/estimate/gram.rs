//! The weighted Gram matrix shared by the IRLS step ([`super::ppml`]), the separation check
//! ([`super::separation`]) and the sandwich variance ([`super::vcov`]); a module of its own so
//! that those three do not import each other in a circle.

use nalgebra::DMatrix;
use rayon::prelude::*;

/// The weighted Gram matrix `X'WX` of column-major `x` (each entry a sum in row order, so the
/// result does not depend on the thread count).
pub(crate) fn gram(x: &[Vec<f64>], w: &[f64]) -> DMatrix<f64> {
    let k = x.len();
    let mut xtx = DMatrix::zeros(k, k);
    let pairs: Vec<(usize, usize)> = (0..k).flat_map(|a| (a..k).map(move |b| (a, b))).collect();
    let vals: Vec<f64> = pairs
        .par_iter()
        .map(|&(a, b)| {
            x[a].iter()
                .zip(&x[b])
                .zip(w)
                .map(|((p, q), w)| p * q * w)
                .sum()
        })
        .collect();
    for (&(a, b), v) in pairs.iter().zip(vals) {
        xtx[(a, b)] = v;
        xtx[(b, a)] = v;
    }
    xtx
}
