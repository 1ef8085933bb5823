//! The tables of a structural gravity outcome ([`crate::gravity`]): `economies.csv` and
//! `bilateral.csv` (the model's own columns: resistances, real GDP, conditional GE), their JSON
//! twins, `report_meta.json`'s entry, and the common rows ([`EconomyRow`], [`BilateralRow`])
//! the HTML report draws, whether from memory (`run --report`) or read back from the files
//! (`EconomyRecord`, `tradesim report`).

use super::bilateral::csv_field;
use super::meta::{BaselineMeta, ComparedWithMeta, ElasticityMeta, ScenarioMeta, SolverMeta};
use super::{BilateralRow, EconomyRow, OutputDir, SolverRow, Tables};
use crate::error::{Error, Result};
use crate::gravity::{GravityOutcome, GravityScenario};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Columns of `economies.csv`.
pub(crate) const ECONOMY_COLUMNS: &[&str] = &[
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
pub(crate) const BILATERAL_COLUMNS: &[&str] = &[
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
pub(crate) fn economies_csv(o: &GravityOutcome) -> Result<Vec<u8>> {
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

/// `bilateral.csv` as bytes (sector "all"): [`write_bilateral_csv`] into memory.
pub(crate) fn bilateral_csv(o: &GravityOutcome) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    write_bilateral_csv(o, &mut bytes, Path::new("bilateral.csv"))?;
    Ok(bytes)
}

/// Rows of `bilateral.csv` a block: about 45 kB of text, so that the blocks being formatted
/// and written ([`super::write_csv_blocks`] keeps two groups of two a thread) stay in a few
/// reused buffers, each under glibc's 128 kB threshold for memory of its own: 2,048 rows
/// (180 kB buffers) took 360 fresh pages at 200 economies, each a page fault.
const BILATERAL_BLOCK: usize = 512;

/// `bilateral.csv` (sector "all") written to `out` (`path` names it in a write error), the
/// same bytes as [`render`] would give, after the check that every number is finite (nothing
/// is written otherwise). Each text field (scenario, economy codes) is quoted once
/// ([`csv_field`]); the rows are then written as bytes, numbers in the shortest round-trip form
/// of Rust's `{}` ([`write_display_f64`]), in blocks of rows formatted on all cores and written
/// in order as they are formatted ([`super::write_csv_blocks`]), so the file does not depend on
/// the thread count and is never held whole in memory.
pub(crate) fn write_bilateral_csv<W: std::io::Write + Send>(
    o: &GravityOutcome,
    out: &mut W,
    path: &Path,
) -> Result<()> {
    for (k, r) in o.bilateral.iter().enumerate() {
        if !(r.value_base.is_finite() && r.value.is_finite() && r.change_pct.is_finite()) {
            let (cells, numbers) = bilateral_row(o, r);
            finite("bilateral.csv", BILATERAL_COLUMNS, k, &cells, &numbers)?;
        }
    }
    // `scenario,year,0,` and each economy's code, as the CSV writer quotes them
    let prefix = format!("{},{},0,", csv_field(&o.scenario), o.year).into_bytes();
    let codes: Vec<_> = o.names.iter().map(|c| csv_field(c)).collect();
    let on_io = |e| Error::io(path, e);
    let head = render("bilateral.csv", BILATERAL_COLUMNS, std::iter::empty())?;
    out.write_all(&head).map_err(on_io)?;
    let blocks = o.bilateral.len().div_ceil(BILATERAL_BLOCK);
    super::write_csv_blocks(
        out,
        blocks,
        |k, w| {
            let rows = &o.bilateral
                [k * BILATERAL_BLOCK..((k + 1) * BILATERAL_BLOCK).min(o.bilateral.len())];
            w.reserve(rows.len() * (prefix.len() + 72));
            let mut digits = zmij::Buffer::new();
            for r in rows {
                w.extend_from_slice(&prefix);
                w.extend_from_slice(codes[r.exporter].as_bytes());
                w.push(b',');
                w.extend_from_slice(codes[r.importer].as_bytes());
                w.extend_from_slice(b",all");
                for v in [r.value_base, r.value, r.change_pct] {
                    w.push(b',');
                    write_display_f64(w, &mut digits, v);
                }
                w.push(b'\n');
            }
            Ok(())
        },
        on_io,
    )
}

/// Appends the finite `v` exactly as `format!("{v}")` writes it — the shortest digits that
/// read back as `v`, in plain decimal notation (`1`, `0.0000001`, `10000000000000000`, `-0`).
///
/// The digits are zmij's (`zmij`, the formatter serde_json uses: Ryū's shortest digits at
/// about twice Ryū's speed): the shortest that read back as `v` and, of those, the closest to
/// `v`, as the standard library's Grisu/Dragon give them, laid out as `Display` lays them out
/// (zmij's exponent `1e+21` reads as `1e21`). The two differ only when two candidates are
/// exactly equally close (Ryū rounds such a tie to even, the standard library up), which needs
/// `v`'s exact decimal expansion to have at most 18 significant digits ([`may_tie`]); those
/// values are formatted by the standard library itself.
#[allow(clippy::manual_contains)] // `contains` calls `memchr` on these few bytes
pub(crate) fn write_display_f64(out: &mut Vec<u8>, digits: &mut zmij::Buffer, v: f64) {
    if may_tie(v) {
        use std::io::Write;
        write!(out, "{v}").expect("writing to a Vec cannot fail");
        return;
    }
    let text = digits.format_finite(v).as_bytes();
    // an exponent is `e` and at most four bytes (`e-308`, `e+21`): only the end can hold it
    if !text[text.len().saturating_sub(5)..]
        .iter()
        .any(|&b| b == b'e')
    {
        // zmij's plain notation (`123.45`, `0.00012`) is `Display`'s but for the `.0` of a
        // whole number (whole numbers are formatted above)
        out.extend_from_slice(text.strip_suffix(b".0").unwrap_or(text));
        return;
    }
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    // mantissa `int.frac` and decimal exponent of zmij's `1.2345e-7` / `123.45` / `1e+16`
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e') {
        Some(e) => (
            &text[..e],
            std::str::from_utf8(&text[e + 1..])
                .ok()
                .and_then(|x| x.parse::<i32>().ok())
                .unwrap_or(0),
        ),
        None => (text, 0),
    };
    let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
        Some(d) => (&mantissa[..d], &mantissa[d + 1..]),
        None => (mantissa, &[][..]),
    };
    // the significant digits and where the decimal point falls among them
    let mut all = [0u8; 40];
    let mut len = 0;
    for &b in int.iter().chain(frac) {
        all[len] = b;
        len += 1;
    }
    let mut point = int.len() as i32 + exponent;
    let lead = all[..len].iter().take_while(|&&b| b == b'0').count();
    point -= lead as i32;
    let significant = &all[lead..len];
    let trail = significant.iter().rev().take_while(|&&b| b == b'0').count();
    let significant = &significant[..significant.len() - trail];
    if negative {
        out.push(b'-');
    }
    if significant.is_empty() {
        out.push(b'0');
    } else if point <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-point) as usize, b'0');
        out.extend_from_slice(significant);
    } else if point as usize >= significant.len() {
        out.extend_from_slice(significant);
        out.resize(out.len() + point as usize - significant.len(), b'0');
    } else {
        out.extend_from_slice(&significant[..point as usize]);
        out.push(b'.');
        out.extend_from_slice(&significant[point as usize..]);
    }
}

/// Whether the exact decimal expansion of `v` may have at most 18 significant digits, so that
/// two shortest round-trip candidates could be exactly equally close to it. `v = m·2^e` with
/// `m` odd: for `e ≥ 0` a whole number (all counted as possible ties); for `e < 0` the
/// expansion's digits are those of `m·5^(−e)`, more than 18 once `−e ≥ 26` (`5^26 > 10^18`).
fn may_tie(v: f64) -> bool {
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (mut m, mut e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    if m == 0 {
        return true;
    }
    let zeros = m.trailing_zeros();
    m >>= zeros;
    e += i64::from(zeros);
    if e >= 0 {
        return true; // a whole number (of at most 18 digits unless beyond 10^18: rare)
    }
    // 5^k for k < 26 (5^25 < 2^59); a product past 2^64 is past 10^18 too
    const POW5: [u64; 26] = {
        let mut p = [1u64; 26];
        let mut k = 1;
        while k < 26 {
            p[k] = p[k - 1] * 5;
            k += 1;
        }
        p
    };
    let k = (-e) as usize;
    k < 26 && m.checked_mul(POW5[k]).is_some_and(|d| d < 10u64.pow(18))
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
            o.names[r.exporter].clone(),
            o.names[r.importer].clone(),
            "all".into(),
            num(r.value_base),
            num(r.value),
            num(r.change_pct),
        ],
        vec![r.value_base, r.value, r.change_pct],
    )
}

/// The files of a gravity run written into the staging directory `dir`: `economies.csv` and
/// `bilateral.csv` (streamed to its file as its blocks are formatted, [`write_bilateral_csv`]),
/// and with `json` the same rows as `economies.json` and `bilateral.json` (as
/// [`super::write_table_files`] for a multi-sector run). Returns the names written.
pub(crate) fn write_table_files(
    o: &GravityOutcome,
    json: bool,
    dir: &OutputDir,
) -> Result<Vec<String>> {
    let economies = economies_csv(o)?;
    dir.write("economies.csv", &economies)?;
    let path = dir.write_with("bilateral.csv", |file, path| {
        write_bilateral_csv(o, file, path)
    })?;
    let mut names = vec!["economies.csv".to_string(), "bilateral.csv".to_string()];
    if json {
        // The JSON is read from the CSV just written, so the two always hold the same values.
        dir.write("economies.json", &csv_to_json(&economies, 4)?)?;
        let bilateral = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        dir.write("bilateral.json", &csv_to_json(&bilateral, 6)?)?;
        names.extend(["economies.json".to_string(), "bilateral.json".to_string()]);
    }
    Ok(names)
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
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub(crate) struct EconomyRecord {
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
    pub(crate) fn to_common(&self) -> EconomyRow {
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
pub(crate) fn is_gravity_header(header: &[String]) -> bool {
    let has = |c: &str| header.iter().any(|h| h == c);
    has("real_gdp_pct") && !has("welfare_pct")
}

/// The tables of a gravity outcome in the common layout, for the HTML report of `run --report`
/// (the same rows `tradesim report` reads back from the files).
pub(crate) fn common_tables(o: &GravityOutcome) -> Tables {
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
            exporter: o.names[r.exporter].clone(),
            importer: o.names[r.importer].clone(),
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
pub(crate) fn scenario_meta(g: &GravityScenario, o: &GravityOutcome) -> ScenarioMeta {
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

    /// [`write_display_f64`] writes what `format!("{v}")` writes: powers of ten on both sides
    /// of the plain-notation range, values that round-trip at 17 digits, subnormals, signed
    /// zeros, and random bit patterns across every exponent.
    #[test]
    fn display_digits_are_the_standard_librarys() {
        let mut digits = zmij::Buffer::new();
        let mut check = |v: f64| {
            if !v.is_finite() {
                return;
            }
            let mut out = Vec::new();
            write_display_f64(&mut out, &mut digits, v);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{v}"), "{v:e}");
        };
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.3,
            1.0 / 3.0,
            123456.0,
            1e15,
            1e16,
            1e17,
            1.5e300,
            1e-5,
            1e-7,
            1.2345e-7,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            9007199254740993.0,
            2.2258379440043257,
            -697104.8520507813, // a tie (exactly ...8125): Ryū gives ...812, Display ...813
            0.125,
            1e23,
        ] {
            check(v);
        }
        for e in -325..=308 {
            check(10f64.powi(e));
            check(-(10f64.powi(e)) * 1.000_000_000_000_1);
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            // xorshift64*: bit patterns over the whole range of exponents
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
            check(f64::from_bits(bits));
            // and ordinary magnitudes, as trade flows and percentage changes are
            check(f64::from_bits(bits) % 1e6);
        }
    }

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
