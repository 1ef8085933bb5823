//! Step 7 of the build: bilateral services trade, a labelled gravity fill (no bilateral
//! services observation is in the facts).
//!
//! Each listed economy's services exports `S^X_i` and imports `S^M_j` are the BoP totals of
//! `services_2014.csv` (TWN, absent from WDI: its merchandise exports and imports times KOR's
//! ratios of services to merchandise trade, ASSUMPTION [`TWN_SERVICES_PROXY`]). The prior
//! between listed economies is the goods gravity equation with services masses,
//! `x_ij = S^X_i · S^M_j · exp(b·z_ij)`, `z_ij` the pair covariates and `b` the goods PPML
//! coefficients (ASSUMPTION: services trade costs scale with distance, contiguity and language
//! as goods trade costs do); the cells with ROW keep the share ROW has in the economy's
//! balanced goods exports (imports), `x_{i,ROW} = ρ_i/(1 − ρ_i) · Σ_{j≠ROW} x_ij`. RAS
//! (Bacharach 1970) then matches every listed economy's services exports and imports; ROW's
//! row and column are free. Every cell is MODEL-GENERATED and flagged `gravity_filled`.

use super::facts::{EconomyFacts, Facts};
use super::ras;
use crate::error::{Error, Result};

/// The economy whose ratios of services to merchandise trade stand in for Taiwan's (WDI does
/// not cover Taiwan): Korea. ASSUMPTION, labelled in PROVENANCE.md.
pub(crate) const TWN_SERVICES_PROXY: &str = "KOR";

/// Services exports and imports of every economy (ROW: `None`, free in the balancing).
pub(crate) fn services_totals(facts: &Facts) -> Result<Vec<Option<(f64, f64)>>> {
    let ec = &facts.economies;
    let proxy = ec
        .iter()
        .find(|e| e.code == TWN_SERVICES_PROXY)
        .and_then(|e| facts.services.get(&e.code).map(|s| (e, s)));
    ec.iter()
        .map(|e: &EconomyFacts| {
            if e.code == "ROW" {
                return Ok(None);
            }
            if let Some(s) = facts.services.get(&e.code) {
                return Ok(Some((s.exports, s.imports)));
            }
            match (&e.code[..], proxy) {
                ("TWN", Some((k, s))) => Ok(Some((
                    e.exports * s.exports / k.exports,
                    e.imports * s.imports / k.imports,
                ))),
                _ => Err(Error::data(
                    &facts.economies_path,
                    e.line,
                    format!(
                        "{} has no row in services_2014.csv; give its services_exports_usd and services_imports_usd",
                        e.code
                    ),
                )),
            }
        })
        .collect()
}

/// The bilateral services matrix (row-major `n × n`, zero diagonal, ROW last): the gravity
/// prior described in the module documentation, balanced by RAS. `index_effect(i, j)` is
/// `exp(b·z_ij)` for two listed economies; `goods` the balanced goods totals (for ROW's share).
pub(crate) fn services_matrix(
    totals: &[Option<(f64, f64)>],
    goods: &[f64],
    distance_effect: &dyn Fn(usize, usize) -> f64,
) -> Result<(Vec<f64>, ras::RasReport)> {
    let n = totals.len();
    let row = n - 1;
    let mut a = vec![0.0; n * n];
    for i in 0..row {
        for j in 0..row {
            if i != j {
                let (xi, _) = totals[i].unwrap_or((0.0, 0.0));
                let (_, mj) = totals[j].unwrap_or((0.0, 0.0));
                a[i * n + j] = xi * mj * distance_effect(i, j);
            }
        }
    }
    // Put the prior in money: one factor for the block of listed economies, so that it adds up
    // to their services exports net of ROW's share (the ROW cells below are on the same scale).
    let share_row_x = |i: usize| {
        let gx: f64 = goods[i * n..(i + 1) * n].iter().sum();
        goods[i * n + row] / gx
    };
    let target: f64 = (0..row)
        .map(|i| totals[i].map_or(0.0, |t| t.0) * (1.0 - share_row_x(i)))
        .sum();
    let block: f64 = a.iter().sum();
    if block > 0.0 {
        a.iter_mut().for_each(|x| *x *= target / block);
    }
    for i in 0..row {
        let gx: f64 = goods[i * n..(i + 1) * n].iter().sum();
        let rho_x = goods[i * n + row] / gx;
        let listed: f64 = (0..row).map(|j| a[i * n + j]).sum();
        a[i * n + row] = rho_x / (1.0 - rho_x) * listed;
        let gm: f64 = (0..n).map(|s| goods[s * n + i]).sum();
        let rho_m = goods[row * n + i] / gm;
        let listed: f64 = (0..row).map(|s| a[s * n + i]).sum();
        a[row * n + i] = rho_m / (1.0 - rho_m) * listed;
    }
    let rows: Vec<Option<f64>> = totals.iter().map(|t| t.map(|t| t.0)).collect();
    let cols: Vec<Option<f64>> = totals.iter().map(|t| t.map(|t| t.1)).collect();
    let rep = ras::ras(&mut a, n, &rows, &cols, 1e-12, 100_000)?;
    Ok((a, rep))
}
