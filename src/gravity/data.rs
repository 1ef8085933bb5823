//! Loading a bilateral gravity data set (CSV) and checking it. Every error names the file and
//! the row (1-based line, header = 1) and says how to fix it.

use super::scenario::Columns;
use crate::error::{Error, Result};
use crate::estimate::data::FxMap;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One row of the data set in a loaded year.
#[derive(Debug, Clone)]
pub struct Obs {
    /// 1-based line in the file.
    pub line: usize,
    pub year: i64,
    pub exporter: usize,
    pub importer: usize,
    pub trade: f64,
    /// Raw values of the loaded covariate columns, in [`Panel::columns`] order.
    pub values: Vec<f64>,
}

/// The rows of the loaded years, with economies indexed in sorted order.
#[derive(Debug, Clone)]
pub struct Panel {
    pub path: PathBuf,
    pub names: Vec<String>,
    pub columns: Vec<String>,
    pub obs: Vec<Obs>,
    /// Output and expenditure by economy and year, when the data carry them.
    output: FxMap<(i64, usize), (f64, usize)>,
    expenditure: FxMap<(i64, usize), (f64, usize)>,
}

/// A covariate as written in a scenario: a column, or `ln(column)` / `log(column)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Covariate {
    pub label: String,
    pub column: String,
    pub log: bool,
}

impl Covariate {
    pub fn parse(label: &str) -> Covariate {
        let t = label.trim();
        for prefix in ["ln(", "log("] {
            if let Some(rest) = t.strip_prefix(prefix) {
                if let Some(inner) = rest.strip_suffix(')') {
                    return Covariate {
                        label: t.into(),
                        column: inner.trim().into(),
                        log: true,
                    };
                }
            }
        }
        Covariate {
            label: t.into(),
            column: t.into(),
            log: false,
        }
    }
}

fn parse_number(text: &str) -> f64 {
    // Plain decimals (`12`, `-3.25`) by the reader's exact fast path; anything else as before.
    if let Some(v) = crate::estimate::data::parse_plain_decimal(text.as_bytes()) {
        return v;
    }
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("na") || t == "." {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// Loads the rows of `years` with the named `columns` (besides exporter, importer, year, trade
/// and the optional output/expenditure columns). Rejects: a missing column; a non-numeric or
/// NaN trade value or covariate; negative trade; a repeated (year, exporter, importer) row;
/// output (expenditure) that differs between rows of one exporter (importer) and year.
pub fn load_panel(
    path: &Path,
    names: &Columns,
    years: &[i64],
    columns: &[String],
) -> Result<Panel> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(file);
    let header = reader
        .headers()
        .map_err(|e| Error::data(path, 1, format!("cannot read the header: {e}")))?
        .clone();
    let find = |name: &str, what: &str| -> Result<usize> {
        header.iter().position(|h| h.trim() == name).ok_or_else(|| {
            Error::data(
                path,
                1,
                format!(
                    "no column \"{name}\" ({what}); the columns are {}; fix the name in the scenario's columns or costs",
                    header.iter().collect::<Vec<_>>().join(", ")
                ),
            )
        })
    };
    let c_exp = find(&names.exporter, "exporter")?;
    let c_imp = find(&names.importer, "importer")?;
    let c_year = find(&names.year, "year")?;
    let c_trade = find(&names.trade, "trade")?;
    let c_out = names
        .output
        .as_deref()
        .map(|n| find(n, "output"))
        .transpose()?;
    let c_expd = names
        .expenditure
        .as_deref()
        .map(|n| find(n, "expenditure"))
        .transpose()?;
    let c_cov: Vec<usize> = columns
        .iter()
        .map(|c| find(c, "trade-cost covariate"))
        .collect::<Result<_>>()?;

    let mut index: FxMap<String, usize> = FxMap::default();
    // The last code looked up per column: sorted files repeat an exporter row after row.
    let mut last: [Option<usize>; 2] = [None, None];
    let mut names_seen: Vec<String> = Vec::new();
    // The rows, economies numbered in order of appearance until all are read; beside them
    // each row's output and expenditure when the data carry them.
    let mut obs: Vec<Obs> = Vec::new();
    let mut levels: Vec<(Option<f64>, Option<f64>)> = Vec::new();
    let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let row = e.position().map(|p| p.line() as usize).unwrap_or(line + 1);
                return Err(Error::data(path, row, format!("malformed CSV: {e}")));
            }
        }
        line = record
            .position()
            .map(|p| p.line() as usize)
            .unwrap_or(line + 1);
        let year_v = parse_number(&record[c_year]);
        if !year_v.is_finite() || year_v.fract() != 0.0 {
            return Err(Error::data(
                path,
                line,
                format!("year \"{}\" is not a whole number", &record[c_year]),
            ));
        }
        let year = year_v as i64;
        if !years.contains(&year) {
            continue;
        }
        let mut id = |slot: usize, s: &str| -> Result<usize> {
            let s = s.trim();
            if s.is_empty() {
                return Err(Error::data(
                    path,
                    line,
                    "empty economy code; fill in the exporter and importer",
                ));
            }
            if let Some(k) = last[slot].filter(|&k| names_seen[k] == s) {
                return Ok(k);
            }
            let k = match index.get(s) {
                Some(&k) => k,
                None => {
                    names_seen.push(s.to_string());
                    index.insert(s.to_string(), names_seen.len() - 1);
                    names_seen.len() - 1
                }
            };
            last[slot] = Some(k);
            Ok(k)
        };
        let e = id(0, &record[c_exp])?;
        let i = id(1, &record[c_imp])?;
        let trade = parse_number(&record[c_trade]);
        if !trade.is_finite() {
            return Err(Error::data(
                path,
                line,
                format!(
                    "trade \"{}\" is not a number; give a value (0 for no trade)",
                    &record[c_trade]
                ),
            ));
        }
        if trade < 0.0 {
            return Err(Error::data(
                path,
                line,
                format!("trade is negative ({trade}); trade flows must be zero or positive"),
            ));
        }
        let mut values = Vec::with_capacity(c_cov.len());
        for (k, &c) in c_cov.iter().enumerate() {
            let v = parse_number(&record[c]);
            if !v.is_finite() {
                return Err(Error::data(
                    path,
                    line,
                    format!(
                        "trade-cost covariate {} is \"{}\", not a number; every pair needs a finite value (a missing cost makes the model meaningless)",
                        columns[k], &record[c]
                    ),
                ));
            }
            values.push(v);
        }
        let level = |c: Option<usize>, what: &str| -> Result<Option<f64>> {
            match c {
                None => Ok(None),
                Some(c) => {
                    let v = parse_number(&record[c]);
                    if !(v.is_finite() && v > 0.0) {
                        return Err(Error::data(
                            path,
                            line,
                            format!("{what} \"{}\" must be a positive number", &record[c]),
                        ));
                    }
                    Ok(Some(v))
                }
            }
        };
        let y = level(c_out, "output")?;
        let x = level(c_expd, "expenditure")?;
        if obs.len() == 1024 {
            // Room for the rows the file holds at the bytes read per kept row so far (no
            // doubling and copying); rows of other years count in, so an over-estimate of a
            // multi-year file reserves address space that is never touched.
            let per_row = record.position().map_or(0, |p| p.byte()) / 1024;
            let rows = usize::try_from(file_len / per_row.max(1)).unwrap_or(usize::MAX);
            // A refused reservation only means growing by doubling, as without one.
            let _ = obs.try_reserve(rows.saturating_add(rows / 10));
        }
        obs.push(Obs {
            line,
            year,
            exporter: e,
            importer: i,
            trade,
            values,
        });
        if c_out.is_some() || c_expd.is_some() {
            levels.push((y, x));
        }
    }
    // sort economies by name
    let mut order: Vec<usize> = (0..names_seen.len()).collect();
    order.sort_by(|a, b| names_seen[*a].cmp(&names_seen[*b]));
    let mut rank = vec![0; names_seen.len()];
    for (r, &k) in order.iter().enumerate() {
        rank[k] = r;
    }
    let sorted: Vec<String> = order.iter().map(|&k| names_seen[k].clone()).collect();
    let mut output = FxMap::default();
    let mut expenditure = FxMap::default();
    let mut seen = RowIndex::new(&obs, sorted.len());
    for (k, o) in obs.iter_mut().enumerate() {
        let (line, year) = (o.line, o.year);
        let (e, i) = (rank[o.exporter], rank[o.importer]);
        (o.exporter, o.importer) = (e, i);
        if let Some(first) = seen.insert(year, e, i, line) {
            return Err(Error::data(
                path,
                line,
                format!(
                    "a second row for exporter {}, importer {}, year {year} (the first is row {first}); keep one",
                    sorted[e], sorted[i]
                ),
            ));
        }
        let (y, x) = levels.get(k).copied().unwrap_or((None, None));
        for (map, v, who, what) in [
            (&mut output, y, e, "output"),
            (&mut expenditure, x, i, "expenditure"),
        ] {
            if let Some(v) = v {
                match map.get(&(year, who)) {
                    Some(&(prev, first)) if prev != v => {
                        return Err(Error::data(
                            path,
                            line,
                            format!(
                                "{what} of {} in {year} is {v} here but {prev} in row {first}; an economy has one {what} per year: make them equal",
                                sorted[who]
                            ),
                        ))
                    }
                    Some(_) => {}
                    None => {
                        map.insert((year, who), (v, line));
                    }
                }
            }
        }
    }
    Ok(Panel {
        path: path.to_path_buf(),
        names: sorted,
        columns: columns.to_vec(),
        obs,
        output,
        expenditure,
    })
}

/// The first line of each (year, exporter, importer) seen so far, to find repeated rows: a
/// table over years × economies² when that is not much larger than the data (a complete
/// panel), a hash map otherwise (a sparse one).
enum RowIndex {
    Dense {
        years: Vec<i64>,
        n: usize,
        first: Vec<usize>,
    },
    Sparse(FxMap<(i64, usize, usize), usize>),
}

impl RowIndex {
    fn new(obs: &[Obs], n: usize) -> RowIndex {
        let mut years: Vec<i64> = obs.iter().map(|o| o.year).collect();
        years.sort_unstable();
        years.dedup();
        let cells = years.len().saturating_mul(n).saturating_mul(n);
        if cells <= 4 * obs.len() + (1 << 16) {
            RowIndex::Dense {
                years,
                n,
                first: vec![0; cells],
            }
        } else {
            let mut map = FxMap::default();
            map.reserve(obs.len());
            RowIndex::Sparse(map)
        }
    }

    /// Records `line` for the cell; the earlier line when the cell was seen before.
    fn insert(&mut self, year: i64, e: usize, i: usize, line: usize) -> Option<usize> {
        match self {
            RowIndex::Dense { years, n, first } => {
                let y = years.binary_search(&year).expect("every year is listed");
                let slot = &mut first[(y * *n + e) * *n + i];
                if *slot != 0 {
                    return Some(*slot);
                }
                *slot = line;
                None
            }
            RowIndex::Sparse(map) => map.insert((year, e, i), line),
        }
    }
}

/// One year as complete `N × N` matrices over the economies of that year.
#[derive(Debug, Clone)]
pub struct YearData {
    pub names: Vec<String>,
    /// Panel economy index of each economy of the year.
    pub panel_index: Vec<usize>,
    /// Index into `Panel::obs` of pair (i, j), row-major.
    pub obs: Vec<usize>,
    pub trade: Vec<f64>,
    pub output: Vec<f64>,
    pub expenditure: Vec<f64>,
}

impl Panel {
    /// The year's complete matrix: every exporter must also be an importer and every pair,
    /// domestic included, must have a row.
    pub fn year(&self, year: i64) -> Result<YearData> {
        let in_year: Vec<usize> = (0..self.obs.len())
            .filter(|&k| self.obs[k].year == year)
            .collect();
        if in_year.is_empty() {
            return Err(Error::invalid(
                self.path.display().to_string(),
                format!("no rows for year {year}; choose a year the data contain"),
            ));
        }
        let set: BTreeSet<usize> = in_year
            .iter()
            .flat_map(|&k| [self.obs[k].exporter, self.obs[k].importer])
            .collect();
        let members: Vec<usize> = set.into_iter().collect();
        let n = members.len();
        let mut local = vec![usize::MAX; self.names.len()];
        for (a, &m) in members.iter().enumerate() {
            local[m] = a;
        }
        let mut cell = vec![usize::MAX; n * n];
        for &k in &in_year {
            let o = &self.obs[k];
            cell[local[o.exporter] * n + local[o.importer]] = k;
        }
        if let Some(missing) = cell.iter().position(|&c| c == usize::MAX) {
            let count = cell.iter().filter(|&&c| c == usize::MAX).count();
            let (i, j) = (members[missing / n], members[missing % n]);
            return Err(Error::invalid(
                self.path.display().to_string(),
                format!(
                    "no row for exporter {}, importer {} in year {year} ({count} of {} pairs missing); the model needs every pair, domestic sales included: add the rows (trade 0 with its cost covariates) or drop the economy",
                    self.names[i], self.names[j], n * n
                ),
            ));
        }
        let trade: Vec<f64> = cell.iter().map(|&k| self.obs[k].trade).collect();
        let mut output = Vec::with_capacity(n);
        let mut expenditure = Vec::with_capacity(n);
        for (a, &m) in members.iter().enumerate() {
            let y = match self.output.get(&(year, m)) {
                Some(&(v, _)) => v,
                None => trade[a * n..(a + 1) * n].iter().sum(),
            };
            let e = match self.expenditure.get(&(year, m)) {
                Some(&(v, _)) => v,
                None => (0..n).map(|i| trade[i * n + a]).sum(),
            };
            for (what, v) in [("output", y), ("expenditure", e)] {
                if v <= 0.0 || v.is_nan() {
                    return Err(Error::invalid(
                        self.path.display().to_string(),
                        format!("{} has {what} {v} in {year}; it must be positive (its domestic flow and its trade cannot all be zero)", self.names[m]),
                    ));
                }
            }
            output.push(y);
            expenditure.push(e);
        }
        Ok(YearData {
            names: members.iter().map(|&m| self.names[m].clone()).collect(),
            panel_index: members,
            obs: cell,
            trade,
            output,
            expenditure,
        })
    }

    /// Position of `column` among the loaded columns.
    pub fn column(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }

    /// The covariate's value on observation `k`, with the error naming the row when `ln` of a
    /// non-positive value is asked for.
    pub fn covariate(&self, cov: &Covariate, k: usize) -> Result<f64> {
        let c = self
            .column(&cov.column)
            .expect("covariate columns are loaded");
        let v = self.obs[k].values[c];
        if cov.log {
            if v <= 0.0 {
                return Err(Error::data(
                    &self.path,
                    self.obs[k].line,
                    format!("{} needs a positive {}, found {v}", cov.label, cov.column),
                ));
            }
            Ok(v.ln())
        } else {
            Ok(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Columns {
        Columns::default()
    }

    /// A complete panel of `n` economies (one named with a comma and a quote) for `years`.
    fn panel_csv(n: usize, years: &[i64]) -> String {
        let name = |k: usize| {
            if k == 1 {
                "\"A, \"\"B\"\"\"".to_string()
            } else {
                format!("E{k:03}")
            }
        };
        let mut s = String::from("exporter,importer,year,trade,dist\n");
        for &y in years {
            for i in 0..n {
                for j in 0..n {
                    let d = 1.0 + (i as f64 - j as f64).abs();
                    s.push_str(&format!("{},{},{y},{},{d}\n", name(i), name(j), 100.0 / d));
                }
            }
        }
        s
    }

    /// Rows load with economies in sorted order, numbers as `str::parse` gives them; a
    /// repeated row is named with both lines, in a complete panel (the table) and a sparse one
    /// (the hash map).
    #[test]
    fn rows_load_and_repeats_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        let body = panel_csv(4, &[2001, 2002]);
        std::fs::write(&p, &body).unwrap();
        let cols = vec!["dist".to_string()];
        let panel = load_panel(&p, &columns(), &[2002], &cols).unwrap();
        assert_eq!(panel.names, ["A, \"B\"", "E000", "E002", "E003"]);
        assert_eq!(panel.obs.len(), 16);
        let o = &panel.obs[4]; // 2002, "A, \"B\"" -> E000: the fifth row of 2002
        assert_eq!((o.line, o.year, o.exporter, o.importer), (22, 2002, 0, 1));
        assert_eq!((o.trade, o.values[0]), (50.0, 2.0));
        let yd = panel.year(2002).unwrap();
        assert_eq!(yd.trade[1], 50.0);

        let mut repeated = body.clone();
        repeated.push_str("E002,E003,2002,1,1\n");
        std::fs::write(&p, &repeated).unwrap();
        let e = load_panel(&p, &columns(), &[2001, 2002], &cols)
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 34") && e.contains("first is row 29"), "{e}");

        // 400 economies, each exporting to one other: 160,000 cells for 401 rows.
        let mut sparse = String::from("exporter,importer,year,trade,dist\n");
        for k in 0..400 {
            sparse.push_str(&format!("E{k:03},E{:03},2001,1,1\n", (k + 1) % 400));
        }
        sparse.push_str("E007,E008,2001,1,1\n");
        std::fs::write(&p, &sparse).unwrap();
        let e = load_panel(&p, &columns(), &[2001], &cols)
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 402") && e.contains("first is row 9"), "{e}");
    }

    #[test]
    fn numbers_parse_as_before() {
        for (t, v) in [
            ("12", 12.0),
            (" 3.5 ", 3.5),
            ("-0.25", -0.25),
            ("1e3", 1000.0),
        ] {
            assert_eq!(parse_number(t), v, "{t}");
        }
        for t in ["", "NA", ".", "x", "1.2.3"] {
            assert!(parse_number(t).is_nan(), "{t}");
        }
    }
}
