//! Biproportional balancing (RAS; Bacharach 1970, *Biproportional Matrices and Input-Output
//! Change*, Cambridge University Press).

use crate::error::{Error, Result, Solver, Worst};

/// How the balancing ended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RasReport {
    pub iterations: usize,
    /// Largest relative gap `|Σ_j a_ij − u_i| / u_i` over targeted rows and columns at the end.
    pub max_rel_gap: f64,
}

/// Scales the non-negative matrix `a` (row-major, `n × n`) to `a_ij ← r_i a_ij s_j` so that the
/// targeted row sums equal `row_target[i]` and the targeted column sums equal `col_target[j]`
/// (`None` = free: that row or column absorbs whatever the others leave). Alternates
/// `r_i = u_i / Σ_j a_ij` and `s_j = v_j / Σ_i a_ij` until the largest relative gap is below
/// `tol` (Bacharach 1970). Zero cells stay zero.
pub(crate) fn ras(
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
    Err(Error::not_converged(
        Solver::Ras,
        max_iter,
        gap(a),
        tol,
        None,
        "check that the row and column totals have the same sum where no row or column is free",
    ))
}

/// RAS with bounded cells: like [`ras`], but a cell with `bounds[k] = Some((lo, hi))` is kept
/// within `[lo, hi]` (the observed cells of the world, held within a tolerance of their
/// observation). Each row (column) step scales the whole row by `u_i / Σ_j a_ij`, clamps the
/// bounded cells into their band, then scales the free cells of the row so that the row sum is
/// exactly `u_i` again. Converges like RAS when the free cells can absorb the targets; when a
/// row's or column's bounded cells alone exceed (or fall short of) its target, the gap cannot
/// close and the error names the row or column.
pub(crate) fn ras_bounded(
    a: &mut [f64],
    n: usize,
    row_target: &[Option<f64>],
    col_target: &[Option<f64>],
    bounds: &[Option<(f64, f64)>],
    tol: f64,
    max_iter: usize,
) -> Result<RasReport> {
    let gap = |a: &[f64]| -> (f64, Option<Worst>) {
        let (mut g, mut at) = (0.0f64, None);
        for i in 0..n {
            if let Some(u) = row_target[i] {
                let s: f64 = a[i * n..(i + 1) * n].iter().sum();
                if (s - u).abs() / u > g {
                    g = (s - u).abs() / u;
                    at = Some(Worst::Row {
                        index: i,
                        label: None,
                    });
                }
            }
        }
        for j in 0..n {
            if let Some(v) = col_target[j] {
                let s: f64 = (0..n).map(|i| a[i * n + j]).sum();
                if (s - v).abs() / v > g {
                    g = (s - v).abs() / v;
                    at = Some(Worst::Column {
                        index: j,
                        label: None,
                    });
                }
            }
        }
        (g, at)
    };
    // One step on a line of cells (their indices into `a`) towards `target`.
    let step = |a: &mut [f64], cells: &mut dyn Iterator<Item = usize>, target: f64| {
        let cells: Vec<usize> = cells.collect();
        let s: f64 = cells.iter().map(|&k| a[k]).sum();
        if s <= 0.0 {
            return;
        }
        let (mut fixed, mut free) = (0.0, 0.0);
        for &k in &cells {
            a[k] *= target / s;
            match bounds[k] {
                Some((lo, hi)) => {
                    a[k] = a[k].clamp(lo, hi);
                    fixed += a[k];
                }
                None => free += a[k],
            }
        }
        if free > 0.0 && target > fixed {
            let f = (target - fixed) / free;
            for &k in &cells {
                if bounds[k].is_none() {
                    a[k] *= f;
                }
            }
        }
    };
    for it in 1..=max_iter {
        for i in 0..n {
            if let Some(u) = row_target[i] {
                step(a, &mut (i * n..(i + 1) * n), u);
            }
        }
        for j in 0..n {
            if let Some(v) = col_target[j] {
                step(a, &mut (0..n).map(|i| i * n + j), v);
            }
        }
        let (g, _) = gap(a);
        if g < tol {
            return Ok(RasReport {
                iterations: it,
                max_rel_gap: g,
            });
        }
    }
    let (g, at) = gap(a);
    Err(Error::not_converged(
        Solver::BoundedRas,
        max_iter,
        g,
        tol,
        at,
        "the observed cells of that row or column do not fit its total (widen the tolerance or check the facts)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopped_early_it_reports_iterations_gap_and_the_worst_row() {
        // One step on [[1, 2], [3, 4]] to rows (3, 7) and columns (5, 5): the column step
        // leaves rows (35/12, 85/12), so the worst gap is row 0's, (3 − 35/12)/3 = 1/36.
        let mut a = vec![1.0, 2.0, 3.0, 4.0];
        let (rows, cols) = ([Some(3.0), Some(7.0)], [Some(5.0), Some(5.0)]);
        match ras_bounded(&mut a, 2, &rows, &cols, &[None; 4], 1e-12, 1) {
            Err(Error::NotConverged(s)) => {
                assert_eq!(
                    (s.solver, s.iterations, s.tolerance),
                    (Solver::BoundedRas, 1, 1e-12)
                );
                assert!((s.residual - 1.0 / 36.0).abs() < 1e-15, "{}", s.residual);
                assert!(
                    matches!(s.worst, Some(Worst::Row { index: 0, .. })),
                    "{:?}",
                    s.worst
                );
            }
            other => panic!("{other:?}"),
        }
    }

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

    #[test]
    fn bounded_cells_stay_in_their_band_while_the_margins_are_met() {
        // Cell (0,1) observed at 1.0, held within ±10%; plain RAS would move it to ~1.9.
        let mut a = vec![0.0, 1.0, 1.0, 2.0, 0.0, 1.0, 1.0, 1.0, 0.0];
        let mut b = vec![None; 9];
        b[1] = Some((0.9, 1.1));
        let rows = [Some(3.0), Some(2.0), None];
        let cols = [Some(2.0), Some(3.0), None];
        let r = ras_bounded(&mut a, 3, &rows, &cols, &b, 1e-12, 10_000).unwrap();
        assert!(r.max_rel_gap < 1e-12);
        assert!((0.9..=1.1).contains(&a[1]), "{}", a[1]);
        assert!((a[0] + a[1] + a[2] - 3.0).abs() < 1e-9);
        assert!((a[1] + a[4] + a[7] - 3.0).abs() < 1e-9);
        // Infeasible: the observed cell alone exceeds its row's target.
        let mut a = vec![0.0, 5.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let mut b = vec![None; 9];
        b[1] = Some((4.5, 5.5));
        let e = ras_bounded(
            &mut a,
            3,
            &[Some(1.0), None, None],
            &[None; 3],
            &b,
            1e-12,
            100,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("row 0"), "{e}");
    }
}
