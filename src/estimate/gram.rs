//! The weighted Gram matrix shared by the IRLS step ([`super::ppml`]), the separation check
//! ([`super::separation`]) and the sandwich variance ([`super::vcov`]); a module of its own so
//! that those three do not import each other in a circle.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// The weighted Gram matrix `X'WX` of column-major `x` (each entry a sum in row order, so the
/// result does not depend on the thread count).
pub(crate) fn gram(x: &[Vec<f64>], w: &[f64]) -> DMatrix<f64> {
    weighted_products(x, w, None).0
}

/// `X'WX` and, given `z`, `X'Wz`: every entry a sum `Σ_i x_ia q_i w_i` in row order (so the
/// result does not depend on the thread count), the entries computed side by side.
pub(crate) fn weighted_products(
    x: &[Vec<f64>],
    w: &[f64],
    z: Option<&[f64]>,
) -> (DMatrix<f64>, DVector<f64>) {
    let k = x.len();
    // (a, Some(b)): entry (a, b) of X'WX; (a, None): entry a of X'Wz.
    let entries: Vec<(usize, Option<usize>)> = (0..k)
        .flat_map(|a| (a..k).map(move |b| (a, Some(b))))
        .chain(z.iter().flat_map(|_| (0..k).map(|a| (a, None))))
        .collect();
    let vals: Vec<f64> = entries
        .par_iter()
        .map(|&(a, b)| {
            let q: &[f64] = match (b, z) {
                (Some(b), _) => &x[b],
                (None, Some(z)) => z,
                (None, None) => &[],
            };
            x[a].iter().zip(q).zip(w).map(|((p, q), w)| p * q * w).sum()
        })
        .collect();
    let mut xtx = DMatrix::zeros(k, k);
    let mut xtz = DVector::zeros(if z.is_some() { k } else { 0 });
    for (&(a, b), v) in entries.iter().zip(vals) {
        match b {
            Some(b) => {
                xtx[(a, b)] = v;
                xtx[(b, a)] = v;
            }
            None => xtz[a] = v,
        }
    }
    (xtx, xtz)
}
