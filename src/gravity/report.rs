//! The tables of a gravity outcome: `economies.csv` and `bilateral.csv`, each written whole or
//! not at all (a temporary file in the same directory, then a rename).

use super::run::GravityOutcome;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Columns of `economies.csv`.
pub const ECONOMY_COLUMNS: &[&str] = &[
    "scenario",
    "year",
    "draw",
    "economy",
    "exports_base",
    "exports",
    "imports_base",
    "imports",
    "real_income_pct",
    "real_gdp_pct",
    "imr_pct",
    "omr_pct",
    "price_pct",
    "exports_pct",
    "imports_pct",
    "exports_conditional_pct",
    "output_base",
    "output",
    "expenditure_base",
    "expenditure",
    "imr_base",
    "imr_conditional",
    "omr_base",
    "omr_conditional",
];

/// Columns of `bilateral.csv`.
pub const BILATERAL_COLUMNS: &[&str] = &[
    "scenario",
    "year",
    "draw",
    "exporter",
    "importer",
    "sector",
    "value_base",
    "value",
    "change_pct",
];

fn num(v: f64) -> String {
    // shortest representation that round-trips
    format!("{v}")
}

/// The rows as CSV under `header`; `numeric` are the values behind each row's numbers, which
/// must be finite (no table is written with NaN or infinity: see `output::finite`).
fn render(
    table: &str,
    header: &[&str],
    rows: impl Iterator<Item = (Vec<String>, Vec<f64>)>,
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::invalid("CSV", e.to_string());
    w.write_record(header).map_err(fail)?;
    for (k, (r, numbers)) in rows.enumerate() {
        if let Some(bad) = numbers.iter().position(|v| !v.is_finite()) {
            let col = r.len() - numbers.len() + bad;
            return Err(Error::NotConverged(format!(
                "{table}, row {} ({}): {} is {}; tradesim writes no table with NaN or infinity, so nothing was written: check sigma and the trade costs (their levels are raised to 1/(1−σ))",
                k + 1,
                r[..r.len() - numbers.len()].join(", "),
                header.get(col).copied().unwrap_or("a value"),
                numbers[bad]
            )));
        }
        w.write_record(&r).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| Error::invalid("CSV", e.to_string()))
}

/// `economies.csv` as bytes.
pub fn economies_csv(o: &GravityOutcome) -> Result<Vec<u8>> {
    render(
        "economies.csv",
        ECONOMY_COLUMNS,
        o.economies.iter().map(|r| {
            let mut v = vec![
                o.scenario.clone(),
                o.year.to_string(),
                "0".into(),
                r.economy.clone(),
            ];
            let numbers = [
                r.exports_base,
                r.exports,
                r.imports_base,
                r.imports,
                r.real_income_pct,
                r.real_gdp_pct,
                r.imr_pct,
                r.omr_pct,
                r.price_pct,
                r.exports_pct,
                r.imports_pct,
                r.exports_conditional_pct,
                r.output_base,
                r.output,
                r.expenditure_base,
                r.expenditure,
                r.imr_base,
                r.imr_conditional,
                r.omr_base,
                r.omr_conditional,
            ];
            v.extend(numbers.map(num));
            (v, numbers.to_vec())
        }),
    )
}

/// `bilateral.csv` as bytes (sector "all").
pub fn bilateral_csv(o: &GravityOutcome) -> Result<Vec<u8>> {
    render(
        "bilateral.csv",
        BILATERAL_COLUMNS,
        o.bilateral.iter().map(|r| {
            (
                vec![
                    o.scenario.clone(),
                    o.year.to_string(),
                    "0".into(),
                    r.exporter.clone(),
                    r.importer.clone(),
                    "all".into(),
                    num(r.value_base),
                    num(r.value),
                    num(r.change_pct),
                ],
                vec![r.value_base, r.value, r.change_pct],
            )
        }),
    )
}

/// Writes `economies.csv` and `bilateral.csv` into `dir` (created if needed): both are
/// rendered first, written to temporary files, then renamed into place, so a failure leaves
/// no partial table. Returns the two paths.
pub fn write_gravity_tables(o: &GravityOutcome, dir: &Path) -> Result<[PathBuf; 2]> {
    let files = [
        ("economies.csv", economies_csv(o)?),
        ("bilateral.csv", bilateral_csv(o)?),
    ];
    crate::output::write_all(dir, &files)?;
    let finals = [dir.join(files[0].0), dir.join(files[1].0)];
    Ok(finals)
}
