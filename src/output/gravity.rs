//! The tables of a structural gravity outcome ([`crate::gravity`]): `economies.csv` and
//! `bilateral.csv` (the model's own columns: resistances, real GDP, conditional GE), their JSON
//! twins, `report_meta.json`'s entry, and the common rows ([`EconomyRow`], [`BilateralRow`])
//! the HTML report draws, whether from memory (`run --report`) or read back from the files
//! ([`EconomyRecord`], `tradesim report`).

use super::meta::{BaselineMeta, ComparedWithMeta, ElasticityMeta, ScenarioMeta, SolverMeta};
use super::{BilateralRow, EconomyRow, SolverRow, Tables};
use crate::error::{Error, Result};
use crate::gravity::{GravityOutcome, GravityScenario};
use serde::Deserialize;
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
        return Err(Error::invalid(
            format!("{table}, row {} ({})", k + 1, r[..r.len() - numbers.len()].join(", ")),
            format!("{} is {}; tradesim writes no table with NaN or infinity, so nothing was written: check sigma and the trade costs (their levels are raised to 1/(1−σ))",
            header.get(col).copied().unwrap_or("a value"),
            numbers[bad]),
        ));
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
/// on all cores and joined in order ([`super::csv_blocks`]), so the file does not depend on the
/// thread count.
pub fn bilateral_csv(o: &GravityOutcome) -> Result<Vec<u8>> {
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
    let head = render("bilateral.csv", BILATERAL_COLUMNS, std::iter::empty())?;
    super::csv_blocks(head, o.bilateral.len().div_ceil(BLOCK), |k| {
        let rows = &o.bilateral[k * BLOCK..((k + 1) * BLOCK).min(o.bilateral.len())];
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
}

/// One row of `bilateral.csv` as [`render`] takes it.
fn bilateral_row(
    o: &GravityOutcome,
    r: &crate::gravity::run::GravityBilateralRow,
) -> (Vec<String>, Vec<f64>) {
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

/// The files of a gravity run: `economies.csv` and `bilateral.csv`, and with `json` the same
/// rows as `economies.json` and `bilateral.json` (as [`super::table_files`] for a
/// multi-sector run).
pub fn table_files(o: &GravityOutcome, json: bool) -> Result<Vec<(String, Vec<u8>)>> {
    let economies = economies_csv(o)?;
    let bilateral = bilateral_csv(o)?;
    let mut files = Vec::new();
    if json {
        // The JSON is read from the CSV just rendered, so the two always hold the same values.
        files.push(("economies.json".to_string(), csv_to_json(&economies, 4)?));
        files.push(("bilateral.json".to_string(), csv_to_json(&bilateral, 6)?));
    }
    files.insert(0, ("bilateral.csv".to_string(), bilateral));
    files.insert(0, ("economies.csv".to_string(), economies));
    Ok(files)
}

/// A CSV table as a JSON array of objects, keys in column order: the first `labels` columns
/// are text (`year` and `draw` are whole numbers), the rest real numbers.
fn csv_to_json(csv: &[u8], labels: usize) -> Result<Vec<u8>> {
    let fail = |e: String| Error::invalid("JSON tables", e);
    let mut r = csv::Reader::from_reader(csv);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| fail(e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| fail(e.to_string()))?;
        let mut m = Vec::with_capacity(header.len());
        for (k, cell) in rec.iter().enumerate() {
            let v = match header[k].as_str() {
                "year" | "draw" => cell
                    .parse::<i64>()
                    .map(serde_json::Value::from)
                    .map_err(|e| fail(format!("{}: {e}", header[k])))?,
                _ if k < labels => serde_json::Value::String(cell.to_string()),
                _ => cell
                    .parse::<f64>()
                    .map(serde_json::Value::from)
                    .map_err(|e| fail(format!("{}: {e}", header[k])))?,
            };
            m.push(v);
        }
        rows.push(m);
    }
    let objects: Vec<Object> = rows.iter().map(|r| Object(&header, r)).collect();
    serde_json::to_vec_pretty(&objects).map_err(|e| fail(e.to_string()))
}

/// One row as a JSON object, its keys in the CSV's column order.
struct Object<'a>(&'a [String], &'a [serde_json::Value]);

impl serde::Serialize for Object<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (h, v) in self.0.iter().zip(self.1) {
            m.serialize_entry(h, v)?;
        }
        m.end()
    }
}

/// A row of a gravity run's `economies.csv` as read back (the columns of [`ECONOMY_COLUMNS`]).
#[derive(Debug, Clone, Deserialize)]
pub struct EconomyRecord {
    pub scenario: String,
    pub year: i32,
    pub draw: u32,
    pub economy: String,
    pub exports_base: f64,
    pub exports: f64,
    pub imports_base: f64,
    pub imports: f64,
    pub real_income_pct: f64,
    pub real_gdp_pct: f64,
}

impl EconomyRecord {
    /// The row of the common `economies.csv` layout ([`EconomyRow`]) the report draws.
    ///
    /// In the one-sector model welfare is real expenditure `E_i/P_i` (`real_income_pct`), and
    /// with one factor the real wage is real GDP `Y_i/P_i` (`real_gdp_pct`). The model has no
    /// terms-of-trade / volume-of-trade decomposition and no tariff revenue: those are NaN
    /// ("n/a" in the report), never zero.
    pub fn to_common(&self) -> EconomyRow {
        EconomyRow {
            scenario: self.scenario.clone(),
            year: self.year,
            draw: self.draw,
            economy: self.economy.clone(),
            exports_base: self.exports_base,
            exports: self.exports,
            imports_base: self.imports_base,
            imports: self.imports,
            real_income_pct: self.real_income_pct,
            welfare_pct: self.real_income_pct,
            tot_pct: f64::NAN,
            vot_pct: f64::NAN,
            real_wage_pct: self.real_gdp_pct,
            tariff_revenue_base: f64::NAN,
            tariff_revenue: f64::NAN,
            inward_fdi_base: None,
            inward_fdi: None,
            compared_with: super::base_year_label(),
        }
    }
}

/// Whether an `economies.csv` header is the gravity model's layout.
pub fn is_gravity_header(header: &[String]) -> bool {
    let has = |c: &str| header.iter().any(|h| h == c);
    has("real_gdp_pct") && !has("welfare_pct")
}

/// The tables of a gravity outcome in the common layout, for the HTML report of `run --report`
/// (the same rows `tradesim report` reads back from the files).
pub fn common_tables(o: &GravityOutcome) -> Tables {
    let year = o.year as i32;
    let economies = o
        .economies
        .iter()
        .map(|r| {
            EconomyRecord {
                scenario: o.scenario.clone(),
                year,
                draw: 0,
                economy: r.economy.clone(),
                exports_base: r.exports_base,
                exports: r.exports,
                imports_base: r.imports_base,
                imports: r.imports,
                real_income_pct: r.real_income_pct,
                real_gdp_pct: r.real_gdp_pct,
            }
            .to_common()
        })
        .collect();
    let bilateral = o
        .bilateral
        .iter()
        .map(|r| BilateralRow {
            scenario: o.scenario.clone(),
            year,
            draw: 0,
            exporter: r.exporter.clone(),
            importer: r.importer.clone(),
            sector: "all".into(),
            value_base: r.value_base,
            value: r.value,
            change_pct: r.change_pct,
            compared_with: super::base_year_label(),
        })
        .collect();
    let solve = |stage: &str, c: &crate::model::gravity::Convergence| SolverRow {
        scenario: o.scenario.clone(),
        stage: stage.into(),
        year,
        draw: 0,
        iterations: c.iterations,
        residual: c.residual,
        quota_rounds: 1,
    };
    Tables {
        economies,
        bilateral,
        solver: vec![
            solve(super::STAGE_BASELINE, &o.baseline.convergence),
            solve(super::STAGE_YEAR, &o.full.convergence),
        ],
        ..Default::default()
    }
}

/// `report_meta.json`'s entry for a gravity scenario: its file, data, year, σ and solver; one
/// sector (`all`), no agreements.
pub fn scenario_meta(g: &GravityScenario, o: &GravityOutcome) -> ScenarioMeta {
    let year = o.year as i32;
    ScenarioMeta {
        name: o.scenario.clone(),
        file: g.path.display().to_string(),
        description: Some(format!(
            "single-sector structural gravity ({:?} procedure, {:?}, σ = {})",
            o.procedure, o.orientation, o.sigma
        )),
        baseline: BaselineMeta {
            name: g.data.display().to_string(),
            description: format!(
                "{} economies, one sector, trade flows of {} from {}",
                o.names.len(),
                o.year,
                g.data.display()
            ),
            economies: o.names.iter().map(|n| (n.clone(), n.clone())).collect(),
            sectors: vec!["all".into()],
            flags: Vec::new(),
            provenance: None,
        },
        base_year: year,
        years: vec![year],
        deficits: format!("{:?}", o.imbalances),
        input_output: false,
        solver: SolverMeta {
            tolerance: g.solver.tolerance(),
            max_iterations: g.solver.max_iterations(),
            step: 1.0,
        },
        elasticities: vec![ElasticityMeta {
            sector: "all".into(),
            theta: g.theta(),
            baseline_theta: g.theta(),
        }],
        agreements: Vec::new(),
        tariff_paths: Vec::new(),
        compared_with: ComparedWithMeta {
            kind: "base_year".into(),
            description: format!(
                "the baseline equilibrium of {} ({:?})",
                o.year, o.orientation
            ),
            ..Default::default()
        },
    }
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
