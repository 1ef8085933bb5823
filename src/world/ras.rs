//! Biproportional balancing (RAS; Bacharach 1970, *Biproportional Matrices and Input-Output
//! Change*, Cambridge University Press).

use crate::error::{Error, Result};

/// How the balancing ended.
#[derive(Debug, Clone, Copy)]
pub struct RasReport {
    pub iterations: usize,
    /// Largest relative gap `|Σ_j a_ij − u_i| / u_i` over targeted rows and columns at the end.
    pub max_rel_gap: f64,
}

/// Scales the non-negative matrix `a` (row-major, `n × n`) to `a_ij ← r_i a_ij s_j` so that the
/// targeted row sums equal `row_target[i]` and the targeted column sums equal `col_target[j]`
/// (`None` = free: that row or column absorbs whatever the others leave). Alternates
/// `r_i = u_i / Σ_j a_ij` and `s_j = v_j / Σ_i a_ij` until the largest relative gap is below
/// `tol` (Bacharach 1970). Zero cells stay zero.
pub fn ras(
    a: &mut [f64],
    n: usize,
    row_target: &[Option<f64>],
    col_target: &[Option<f64>],
    tol: f64,
    max_iter: usize,
) -> Result<RasReport> {
    let gap = |a: &[f64]| -> f64 {
        let mut g: f64 = 0.0;
        for i in 0..n {
            if let Some(u) = row_target[i] {
                let s: f64 = a[i * n..(i + 1) * n].iter().sum();
                g = g.max((s - u).abs() / u);
            }
        }
        for j in 0..n {
            if let Some(v) = col_target[j] {
                let s: f64 = (0..n).map(|i| a[i * n + j]).sum();
                g = g.max((s - v).abs() / v);
            }
        }
        g
    };
    for it in 1..=max_iter {
        for i in 0..n {
            if let Some(u) = row_target[i] {
                let s: f64 = a[i * n..(i + 1) * n].iter().sum();
                if s <= 0.0 {
                    return Err(Error::invalid(
                        "RAS",
                        format!("row {i} has no positive cell"),
                    ));
                }
                a[i * n..(i + 1) * n].iter_mut().for_each(|x| *x *= u / s);
            }
        }
        for j in 0..n {
            if let Some(v) = col_target[j] {
                let s: f64 = (0..n).map(|i| a[i * n + j]).sum();
                if s <= 0.0 {
                    return Err(Error::invalid(
                        "RAS",
                        format!("column {j} has no positive cell"),
                    ));
                }
                for i in 0..n {
                    a[i * n + j] *= v / s;
                }
            }
        }
        let g = gap(a);
        if g < tol {
            return Ok(RasReport {
                iterations: it,
                max_rel_gap: g,
            });
        }
    }
    Err(Error::NotConverged(format!(
        "RAS balancing: gap {} after {max_iter} iterations",
        gap(a)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_with_a_free_row_and_column() {
        let mut a = vec![0.0, 1.0, 1.0, 2.0, 0.0, 1.0, 1.0, 1.0, 0.0];
        let rows = [Some(3.0), Some(2.0), None];
        let cols = [Some(2.0), Some(3.0), None];
        let r = ras(&mut a, 3, &rows, &cols, 1e-12, 10_000).unwrap();
        assert!(r.max_rel_gap < 1e-12);
        assert!((a[0] + a[1] + a[2] - 3.0).abs() < 1e-9);
        assert!((a[1] + a[4] + a[7] - 3.0).abs() < 1e-9);
    }
}
