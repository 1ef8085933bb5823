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
/// must be finite (no table is written with NaN or infinity: see `report::finite`).
fn render(
    table: &str,
    header: &[&str],
    rows: impl Iterator<Item = (Vec<String>, Vec<f64>)>,
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::invalid("CSV", e.to_string());
    w.write_record(header).map_err(fail)?;
    for (k, (r, numbers)) in rows.enumerate() {
        finite(table, header, k, &r, &numbers)?;
        w.write_record(&r).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| Error::invalid("CSV", e.to_string()))
}

/// The error for row `k` (0-based) when one of its `numbers` is NaN or infinite.
fn finite(table: &str, header: &[&str], k: usize, r: &[String], numbers: &[f64]) -> Result<()> {
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
    Ok(())
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

/// `bilateral.csv` as bytes (sector "all"): the same bytes as [`render`] would give, written
/// field by field (no `String` per cell; one number buffer reused), in blocks of rows formatted
/// on all cores and joined in order, so the file does not depend on the thread count.
pub fn bilateral_csv(o: &GravityOutcome) -> Result<Vec<u8>> {
    use rayon::prelude::*;
    use std::io::Write;
    const BLOCK: usize = 16_384;
    let fail = |e: csv::Error| Error::invalid("CSV", e.to_string());
    for (k, r) in o.bilateral.iter().enumerate() {
        if !(r.value_base.is_finite() && r.value.is_finite() && r.change_pct.is_finite()) {
            let (cells, numbers) = bilateral_row(o, r);
            finite("bilateral.csv", BILATERAL_COLUMNS, k, &cells, &numbers)?;
        }
    }
    let year = o.year.to_string();
    let blocks: Vec<Result<Vec<u8>>> = o
        .bilateral
        .par_chunks(BLOCK)
        .map(|rows| {
            let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 64));
            let mut number = Vec::with_capacity(32);
            for r in rows {
                for text in [
                    o.scenario.as_str(),
                    year.as_str(),
                    "0",
                    r.exporter.as_str(),
                    r.importer.as_str(),
                    "all",
                ] {
                    w.write_field(text).map_err(fail)?;
                }
                for v in [r.value_base, r.value, r.change_pct] {
                    number.clear();
                    write!(number, "{v}").expect("writing to a Vec cannot fail");
                    w.write_field(&number).map_err(fail)?;
                }
                w.write_record(None::<&[u8]>).map_err(fail)?;
            }
            w.into_inner()
                .map_err(|e| Error::invalid("CSV", e.to_string()))
        })
        .collect();
    let mut out = render("bilateral.csv", BILATERAL_COLUMNS, std::iter::empty())?;
    out.reserve(blocks.iter().map(|b| b.as_ref().map_or(0, Vec::len)).sum());
    for b in blocks {
        out.extend_from_slice(&b?);
    }
    Ok(out)
}

/// One row of `bilateral.csv` as [`render`] takes it.
fn bilateral_row(o: &GravityOutcome, r: &super::run::BilateralRow) -> (Vec<String>, Vec<f64>) {
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
}

/// Writes `economies.csv` and `bilateral.csv` into `dir` (created if needed): both are
/// rendered first, written to temporary files, then renamed into place, so a failure leaves
/// no partial table. Returns the two paths.
pub fn write_gravity_tables(o: &GravityOutcome, dir: &Path) -> Result<[PathBuf; 2]> {
    let files = [
        ("economies.csv", economies_csv(o)?),
        ("bilateral.csv", bilateral_csv(o)?),
    ];
    crate::report::write_all(dir, &files)?;
    let finals = [dir.join(files[0].0), dir.join(files[1].0)];
    Ok(finals)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bilateral.csv` written field by field in parallel blocks is, byte for byte, the table
    /// [`render`] writes row by row (names that need quotes included), and a NaN stops it
    /// with the same message.
    #[test]
    fn bilateral_table_is_the_rendered_table() {
        let dir = tempfile::tempdir().unwrap();
        let n = 131; // 17,161 rows: more than one block
        let name = |k: usize| match k {
            1 => "\"A, \"\"B\"\"\"".to_string(),
            _ => format!("E{k:03}"),
        };
        let mut csv = String::from("exporter,importer,year,trade,dist,pta\n");
        for i in 0..n {
            for j in 0..n {
                let d = 1.0 + (i as f64 - j as f64).abs() / 7.0;
                csv.push_str(&format!("{},{},2006,{},{d},0\n", name(i), name(j), 1e3 / d));
            }
        }
        std::fs::write(dir.path().join("d.csv"), csv).unwrap();
        std::fs::write(
            dir.path().join("s.ron"),
            r#"StructuralGravity(name: "blocks, \"quoted\"", data: "d.csv", year: 2006, sigma: 5,
                reference: "E000",
                costs: Coefficients(coefficients: {"ln(dist)": -1.0, "pta": 0.5}, constant: 0),
                counterfactual: [SetCovariate(column: "pta", pairs: Between(["E000"], ["E002"]), value: 1)])"#,
        )
        .unwrap();
        let mut o = crate::gravity::run::run_gravity_scenario(dir.path().join("s.ron")).unwrap();
        assert_eq!(o.bilateral.len(), n * n);
        let rendered = |o: &GravityOutcome| {
            render(
                "bilateral.csv",
                BILATERAL_COLUMNS,
                o.bilateral.iter().map(|r| bilateral_row(o, r)),
            )
        };
        let fast = bilateral_csv(&o).unwrap();
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            String::from_utf8(rendered(&o).unwrap()).unwrap()
        );
        o.bilateral[17_000].value = f64::NAN;
        let e = bilateral_csv(&o).unwrap_err().to_string();
        assert_eq!(e, rendered(&o).unwrap_err().to_string());
        assert!(e.contains("row 17001"), "{e}");
    }
}
