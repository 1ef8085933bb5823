//! Reading the sourced facts: `economies_2014.csv`, `bilateral_2014.csv`,
//! `bilateral_2014_tradhist.csv`, `tariffs_2014.csv`, `import_shares_2014.csv` and
//! `services_2014.csv` (`../shared/facts/`, documented in its `SOURCES*.md`), and the facts this
//! project sourced itself, `product_groups_2014.csv` and `wto_ttd_mtn_2014.csv`
//! (`data/apac-americas-2014/facts/`, documented in its `SOURCES.md`).
//!
//! Every error names the file and the 1-based line (the header is line 1) and says how to fix it.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One row of `economies_2014.csv` (the `WLD` row is kept apart as [`Facts::world`]).
#[derive(Debug, Clone)]
pub struct EconomyFacts {
    /// ISO3 code (`ROW` for the rest of the world).
    pub code: String,
    pub name: String,
    /// GDP, current US$ (WDI_GDP; IMF_WEO_TWN for TWN; DERIVED_ROW for ROW).
    pub gdp: f64,
    /// Merchandise exports, current US$ (WTO_X; DERIVED_ROW).
    pub exports: f64,
    /// Merchandise imports, current US$ (WDI_M; TWN_MOF_M; DERIVED_ROW).
    pub imports: f64,
    /// MFN applied tariff, simple mean, all products, % (WDI_MFN); `None` when empty.
    pub mfn_all: Option<f64>,
    /// MFN applied tariff, trade-weighted mean, all products, % (WDI_MFN_W).
    pub mfn_all_weighted: Option<f64>,
    /// Export composition, % of merchandise exports (WDI_SHARES): agriculture & food,
    /// fuels & mining (fuel + ores and metals), manufactures.
    pub shares: Option<[f64; 3]>,
    /// Capital coordinates, degrees (GAZ_CAP; CEPII_GEO for HKG); `None` for ROW.
    pub lat_lon: Option<(f64, f64)>,
    /// Official languages (MLEDOZE).
    pub languages: Vec<String>,
    /// Land borders among the listed economies (MLEDOZE).
    pub borders: Vec<String>,
    /// 1-based line of this economy in `economies_2014.csv` (the header is line 1).
    pub line: usize,
}

/// One observed bilateral flow (COW4 or TRADHIST): the importer's recorded imports from the
/// exporter, US$.
#[derive(Debug, Clone)]
pub struct ObservedFlow {
    pub exporter: String,
    pub importer: String,
    pub value: f64,
    /// The source key (`COW4`, `COW4_CHN` or `TRADHIST`).
    pub source: String,
}

/// An importer's WDI tariff rates of `tariffs_2014.csv`, in percent (`None` when empty).
#[derive(Debug, Clone, Default)]
pub struct TariffFacts {
    /// MFN simple mean, primary products (TM.TAX.TCOM.SM.FN.ZS).
    pub mfn_primary_simple: Option<f64>,
    /// MFN trade-weighted mean, primary products (TM.TAX.TCOM.WM.FN.ZS).
    pub mfn_primary_weighted: Option<f64>,
    /// MFN trade-weighted mean, manufactures (TM.TAX.MANF.WM.FN.ZS).
    pub mfn_manuf_weighted: Option<f64>,
    /// Applied (AHS) trade-weighted means, primary products and manufactures.
    pub ahs_primary_weighted: Option<f64>,
    pub ahs_manuf_weighted: Option<f64>,
    /// Applied simple mean, primary products (TM.TAX.TCOM.SM.AR.ZS).
    pub ahs_primary_simple: Option<f64>,
    /// Applied trade-weighted mean, all products (TM.TAX.MRCH.WM.AR.ZS).
    pub ahs_all_weighted: Option<f64>,
    /// The year of the MFN primary simple mean (2014, or 2013 where 2014 is missing).
    pub year: Option<i32>,
}

/// An importer's composition of merchandise imports (`import_shares_2014.csv`), percent.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportShares {
    pub food: Option<f64>,
    pub manuf: Option<f64>,
}

/// An economy's services trade (`services_2014.csv`), current US$ (BoP).
#[derive(Debug, Clone, Copy)]
pub struct ServicesTrade {
    pub exports: f64,
    pub imports: f64,
}

/// One row of `product_groups_2014.csv`: a named group's imports and base rate.
#[derive(Debug, Clone)]
pub struct GroupFact {
    pub importer: String,
    pub group: String,
    pub sector: String,
    /// `None`: all partners.
    pub exporter: Option<String>,
    /// The group's imports, US$ (from `exporter`, or from all partners).
    pub value: f64,
    pub value_year: i32,
    pub value_key: String,
    /// MFN ad valorem (equivalent) rate, a fraction.
    pub base_rate: f64,
    pub rate_key: String,
    pub line: usize,
}

/// One row of `wto_ttd_mtn_2014.csv`: a WTO Tariff & Trade Data average by MTN category.
#[derive(Debug, Clone)]
pub struct TtdRate {
    /// WTO reporter code as written there (`JPN`, `CHN`, `USA`, `IND`, `EUN`).
    pub reporter: String,
    pub product_code: String,
    /// Trade-weighted MFN average, percent.
    pub trade_weighted: f64,
}

/// The facts the built-in world is made from.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The path of `economies_2014.csv`, for error messages.
    pub economies_path: PathBuf,
    /// The 43 listed economies followed by `ROW`, in file order.
    pub economies: Vec<EconomyFacts>,
    /// World totals from the `WLD` row: GDP, exports, imports.
    pub world: Option<(f64, f64, f64)>,
    /// COW4 flows (`bilateral_2014.csv`).
    pub bilateral: Vec<ObservedFlow>,
    /// TRADHIST flows (`bilateral_2014_tradhist.csv`).
    pub tradhist: Vec<ObservedFlow>,
    /// WDI tariffs by importer code (`tariffs_2014.csv`).
    pub tariffs: HashMap<String, TariffFacts>,
    /// WDI import composition by importer code (`import_shares_2014.csv`).
    pub import_shares: HashMap<String, ImportShares>,
    /// Services exports and imports by economy code (`services_2014.csv`).
    pub services: HashMap<String, ServicesTrade>,
    /// Named product groups (`product_groups_2014.csv` of the extra facts); empty without them.
    pub groups: Vec<GroupFact>,
    /// WTO TTD averages (`wto_ttd_mtn_2014.csv` of the extra facts); empty without them.
    pub ttd: Vec<TtdRate>,
    /// The path of `product_groups_2014.csv`, for error messages.
    pub groups_path: PathBuf,
}

/// Header names and (line, record) pairs.
type Table = (Vec<String>, Vec<(usize, csv::StringRecord)>);

fn read_csv(path: &Path) -> Result<Table> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| csv_err(path, &bytes, e))?
        .iter()
        .map(|s| s.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    // Line numbers are counted here from the byte offsets: the csv crate's own line count is
    // one short on CRLF files (the shipped facts are CRLF).
    let (mut counted_to, mut line) = (0usize, 1usize);
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_err(path, &bytes, e))?;
        let at = rec
            .position()
            .map(|p| p.byte() as usize)
            .unwrap_or(counted_to);
        let mut at = at.min(bytes.len()).max(counted_to);
        // On CRLF files the record's offset can point at the end of the previous line.
        while at < bytes.len() && (bytes[at] == b'\n' || bytes[at] == b'\r') {
            at += 1;
        }
        line += bytes[counted_to..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted_to = at;
        rows.push((line, rec));
    }
    Ok((headers, rows))
}

/// A CSV error as a data error naming the line, counted from the byte offset (see
/// [`read_csv`]); I/O errors stay I/O errors.
fn csv_err(path: &Path, bytes: &[u8], e: csv::Error) -> Error {
    let row = e
        .position()
        .map(|p| line_of(bytes, p.byte() as usize))
        .unwrap_or(0);
    let message = format!("{e}; fix the CSV syntax (quote fields containing commas)");
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        _ => Error::data(path, row, message),
    }
}

/// The 1-based line of byte offset `at` in `bytes`, past any line end at `at` itself.
fn line_of(bytes: &[u8], at: usize) -> usize {
    let mut at = at.min(bytes.len());
    while at < bytes.len() && (bytes[at] == b'\n' || bytes[at] == b'\r') {
        at += 1;
    }
    1 + bytes[..at].iter().filter(|&&b| b == b'\n').count()
}

pub(crate) struct Columns<'a> {
    path: &'a Path,
    index: HashMap<String, usize>,
}

impl<'a> Columns<'a> {
    fn new(path: &'a Path, headers: &[String], required: &[&str]) -> Result<Self> {
        let index: HashMap<String, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), i))
            .collect();
        for r in required {
            if !index.contains_key(*r) {
                return Err(Error::data(
                    path,
                    1,
                    format!("missing column `{r}`; add it to the header row"),
                ));
            }
        }
        Ok(Columns { path, index })
    }
    fn str<'r>(&self, rec: &'r csv::StringRecord, col: &str) -> &'r str {
        self.index
            .get(col)
            .and_then(|&i| rec.get(i))
            .map(str::trim)
            .unwrap_or("")
    }
    fn num(&self, rec: &csv::StringRecord, line: usize, col: &str) -> Result<f64> {
        self.opt_num(rec, line, col)?.ok_or_else(|| {
            Error::data(
                self.path,
                line,
                format!("column `{col}` is empty; give a number"),
            )
        })
    }
    fn opt_num(&self, rec: &csv::StringRecord, line: usize, col: &str) -> Result<Option<f64>> {
        let s = self.str(rec, col);
        if s.is_empty() {
            return Ok(None);
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(Error::data(
                self.path,
                line,
                format!("column `{col}` = `{s}` is not a finite number; write it as e.g. 1234.5"),
            )),
        }
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

impl Facts {
    /// Reads `economies_2014.csv` and `bilateral_2014.csv` from `dir`.
    pub fn load(dir: &Path) -> Result<Facts> {
        let epath: PathBuf = dir.join("economies_2014.csv");
        let (headers, rows) = read_csv(&epath)?;
        let cols = Columns::new(
            &epath,
            &headers,
            &[
                "iso3",
                "name",
                "gdp_usd",
                "exports_usd",
                "imports_usd",
                "mfn_all",
                "mfn_all_weighted",
                "share_agri",
                "share_fuels_mining",
                "share_manuf",
                "lat",
                "lon",
                "languages",
                "borders",
            ],
        )?;
        let mut economies = Vec::new();
        let mut world = None;
        let mut seen = HashMap::new();
        for (line, rec) in &rows {
            let line = *line;
            let code = cols.str(rec, "iso3").to_string();
            if code.is_empty() {
                return Err(Error::data(
                    &epath,
                    line,
                    "empty `iso3`; give the ISO3 code",
                ));
            }
            if let Some(prev) = seen.insert(code.clone(), line) {
                return Err(Error::data(
                    &epath,
                    line,
                    format!("economy `{code}` already declared on line {prev}; keep one row"),
                ));
            }
            let gdp = cols.num(rec, line, "gdp_usd")?;
            let exports = cols.num(rec, line, "exports_usd")?;
            let imports = cols.num(rec, line, "imports_usd")?;
            for (v, c) in [
                (gdp, "gdp_usd"),
                (exports, "exports_usd"),
                (imports, "imports_usd"),
            ] {
                if v <= 0.0 {
                    return Err(Error::data(
                        &epath,
                        line,
                        format!("`{c}` = {v} must be positive"),
                    ));
                }
            }
            if code == "WLD" {
                world = Some((gdp, exports, imports));
                continue;
            }
            let shares = match (
                cols.opt_num(rec, line, "share_agri")?,
                cols.opt_num(rec, line, "share_fuels_mining")?,
                cols.opt_num(rec, line, "share_manuf")?,
            ) {
                (Some(a), Some(f), Some(m)) => {
                    if a < 0.0 || f < 0.0 || m < 0.0 || a + f + m <= 0.0 || a + f + m > 100.5 {
                        return Err(Error::data(
                            &epath,
                            line,
                            "export shares must be non-negative percentages summing to at most 100",
                        ));
                    }
                    Some([a, f, m])
                }
                (None, None, None) => None,
                _ => {
                    return Err(Error::data(
                        &epath,
                        line,
                        "give all three of share_agri, share_fuels_mining, share_manuf or none",
                    ))
                }
            };
            let lat_lon = match (
                cols.opt_num(rec, line, "lat")?,
                cols.opt_num(rec, line, "lon")?,
            ) {
                (Some(a), Some(b)) => Some((a, b)),
                (None, None) if code == "ROW" => None,
                _ => {
                    return Err(Error::data(
                        &epath,
                        line,
                        "give `lat` and `lon` of the capital (only ROW may leave them empty)",
                    ))
                }
            };
            let pct = |c: &str| -> Result<Option<f64>> {
                let v = cols.opt_num(rec, line, c)?;
                if let Some(x) = v {
                    if x < 0.0 {
                        return Err(Error::data(
                            &epath,
                            line,
                            format!("`{c}` = {x} is negative"),
                        ));
                    }
                }
                Ok(v)
            };
            economies.push(EconomyFacts {
                code,
                name: cols.str(rec, "name").to_string(),
                gdp,
                exports,
                imports,
                mfn_all: pct("mfn_all")?,
                mfn_all_weighted: pct("mfn_all_weighted")?,
                shares,
                lat_lon,
                languages: split_list(cols.str(rec, "languages")),
                borders: split_list(cols.str(rec, "borders")),
                line,
            });
        }
        match economies.iter().position(|e| e.code == "ROW") {
            Some(i) if i + 1 == economies.len() => {}
            Some(i) => {
                let row = economies.remove(i);
                economies.push(row);
            }
            None => {
                return Err(Error::invalid(
                    epath.display().to_string(),
                    "no `ROW` row; add the rest of the world (World minus the listed economies)",
                ))
            }
        }

        let bilateral = observed_flows(&dir.join("bilateral_2014.csv"), &seen)?;
        let tradhist = observed_flows(&dir.join("bilateral_2014_tradhist.csv"), &seen)?;
        let tariffs = per_economy(&dir.join("tariffs_2014.csv"), &seen, |cols, rec, line| {
            let p = |c: &str| non_negative(cols, rec, line, c);
            Ok(TariffFacts {
                mfn_primary_simple: p("mfn_primary_simple")?,
                mfn_primary_weighted: p("mfn_primary_weighted")?,
                mfn_manuf_weighted: p("mfn_manuf_weighted")?,
                ahs_primary_weighted: p("ahs_primary_weighted")?,
                ahs_manuf_weighted: p("ahs_manuf_weighted")?,
                ahs_primary_simple: p("ahs_primary_simple")?,
                ahs_all_weighted: p("ahs_all_weighted")?,
                year: cols
                    .opt_num(rec, line, "mfn_primary_simple_year")?
                    .map(|y| y as i32),
            })
        })?;
        let import_shares = per_economy(
            &dir.join("import_shares_2014.csv"),
            &seen,
            |cols, rec, line| {
                let food = non_negative(cols, rec, line, "food")?;
                let manuf = non_negative(cols, rec, line, "manuf")?;
                if food.unwrap_or(0.0) + manuf.unwrap_or(0.0) > 100.5 {
                    return Err(Error::data(
                        cols.path,
                        line,
                        "food + manuf exceed 100% of merchandise imports; give percentages",
                    ));
                }
                Ok(ImportShares { food, manuf })
            },
        )?;
        let services =
            per_economy(&dir.join("services_2014.csv"), &seen, |cols, rec, line| {
                Ok(
                    match (
                        non_negative(cols, rec, line, "services_exports_usd")?,
                        non_negative(cols, rec, line, "services_imports_usd")?,
                    ) {
                        (Some(exports), Some(imports)) => Some(ServicesTrade { exports, imports }),
                        (None, None) => None,
                        _ => return Err(Error::data(
                            cols.path,
                            line,
                            "give both services_exports_usd and services_imports_usd, or neither",
                        )),
                    },
                )
            })?
            .into_iter()
            .filter_map(|(c, v)| v.map(|v| (c, v)))
            .collect();
        Ok(Facts {
            economies_path: epath,
            economies,
            world,
            bilateral,
            tradhist,
            tariffs,
            import_shares,
            services,
            groups: Vec::new(),
            ttd: Vec::new(),
            groups_path: PathBuf::new(),
        })
    }

    /// Reads the facts this project sourced itself (`data/apac-americas-2014/facts/`):
    /// `product_groups_2014.csv` and `wto_ttd_mtn_2014.csv`.
    pub fn load_extra(&mut self, dir: &Path) -> Result<()> {
        let known: HashMap<String, usize> = self
            .economies
            .iter()
            .map(|e| (e.code.clone(), e.line))
            .collect();
        let gpath = dir.join("product_groups_2014.csv");
        let (headers, rows) = read_csv(&gpath)?;
        let cols = Columns::new(
            &gpath,
            &headers,
            &[
                "importer",
                "group",
                "sector",
                "exporter",
                "import_value_usd",
                "value_year",
                "value_key",
                "base_rate",
                "rate_key",
            ],
        )?;
        let mut groups = Vec::new();
        for (line, rec) in &rows {
            let line = *line;
            let code = |c: &str| -> Result<Option<String>> {
                let v = cols.str(rec, c);
                if v.is_empty() {
                    return Ok(None);
                }
                if !known.contains_key(v) || v == "ROW" {
                    return Err(Error::data(
                        &gpath,
                        line,
                        format!("{c} `{v}` is not a listed economy of economies_2014.csv"),
                    ));
                }
                Ok(Some(v.to_string()))
            };
            let importer = code("importer")?.ok_or_else(|| {
                Error::data(&gpath, line, "`importer` is empty; give an ISO3 code")
            })?;
            let sector = cols.str(rec, "sector").to_string();
            if !["AGR", "FMN", "MAN"].contains(&sector.as_str()) {
                return Err(Error::data(
                    &gpath,
                    line,
                    format!("sector `{sector}` is not a goods sector of the world; write AGR, FMN or MAN"),
                ));
            }
            let value = cols.num(rec, line, "import_value_usd")?;
            let base_rate = cols.num(rec, line, "base_rate")?;
            if value <= 0.0 || base_rate < 0.0 {
                return Err(Error::data(
                    &gpath,
                    line,
                    "import_value_usd must be positive and base_rate non-negative (a fraction, 0.385 = 38.5%)",
                ));
            }
            let group = cols.str(rec, "group").to_string();
            for (c, v) in [
                ("group", group.as_str()),
                ("value_key", cols.str(rec, "value_key")),
                ("rate_key", cols.str(rec, "rate_key")),
            ] {
                if v.is_empty() {
                    return Err(Error::data(
                        &gpath,
                        line,
                        format!("`{c}` is empty; give it (keys are explained in SOURCES.md)"),
                    ));
                }
            }
            groups.push(GroupFact {
                importer,
                group,
                sector,
                exporter: code("exporter")?,
                value,
                value_year: cols.num(rec, line, "value_year")? as i32,
                value_key: cols.str(rec, "value_key").to_string(),
                base_rate,
                rate_key: cols.str(rec, "rate_key").to_string(),
                line,
            });
        }
        let tpath = dir.join("wto_ttd_mtn_2014.csv");
        let (headers, rows) = read_csv(&tpath)?;
        let cols = Columns::new(
            &tpath,
            &headers,
            &["reporter", "product_code", "trade_weighted"],
        )?;
        let mut ttd = Vec::new();
        for (line, rec) in &rows {
            let tw = cols.num(rec, *line, "trade_weighted")?;
            if tw < 0.0 {
                return Err(Error::data(&tpath, *line, "negative `trade_weighted`"));
            }
            ttd.push(TtdRate {
                reporter: cols.str(rec, "reporter").to_string(),
                product_code: cols.str(rec, "product_code").to_string(),
                trade_weighted: tw,
            });
        }
        self.groups = groups;
        self.ttd = ttd;
        self.groups_path = gpath;
        Ok(())
    }
}

/// A non-negative percentage or amount in column `c`, `None` when empty.
fn non_negative(
    cols: &Columns,
    rec: &csv::StringRecord,
    line: usize,
    c: &str,
) -> Result<Option<f64>> {
    let v = cols.opt_num(rec, line, c)?;
    if let Some(x) = v {
        if x < 0.0 {
            return Err(Error::data(
                cols.path,
                line,
                format!("`{c}` = {x} is negative"),
            ));
        }
    }
    Ok(v)
}

/// Reads a file with one row per listed economy (`iso3` column), each row parsed by `row`;
/// an unknown or repeated code is an error naming the row.
fn per_economy<T>(
    path: &Path,
    known: &HashMap<String, usize>,
    row: impl Fn(&Columns, &csv::StringRecord, usize) -> Result<T>,
) -> Result<HashMap<String, T>> {
    let (headers, rows) = read_csv(path)?;
    let cols = Columns::new(path, &headers, &["iso3"])?;
    let mut out = HashMap::new();
    let mut seen_at: HashMap<String, usize> = HashMap::new();
    for (line, rec) in &rows {
        let code = cols.str(rec, "iso3").to_string();
        if !known.contains_key(&code) || code == "WLD" || code == "ROW" {
            return Err(Error::data(
                path,
                *line,
                format!(
                    "`{code}` is not a listed economy of economies_2014.csv; use its ISO3 codes"
                ),
            ));
        }
        if let Some(prev) = seen_at.insert(code.clone(), *line) {
            return Err(Error::data(
                path,
                *line,
                format!("economy `{code}` already has a row (line {prev}); keep one"),
            ));
        }
        out.insert(code, row(&cols, rec, *line)?);
    }
    Ok(out)
}

/// Reads a file of observed flows (`exporter,importer,value_usd[,source]`) between listed
/// economies: no self-flows, no pair twice, values ≥ 0.
fn observed_flows(path: &Path, known: &HashMap<String, usize>) -> Result<Vec<ObservedFlow>> {
    let (headers, rows) = read_csv(path)?;
    let cols = Columns::new(path, &headers, &["exporter", "importer", "value_usd"])?;
    let mut flows = Vec::new();
    let mut pairs = HashMap::new();
    for (line, rec) in &rows {
        let line = *line;
        let exporter = cols.str(rec, "exporter").to_string();
        let importer = cols.str(rec, "importer").to_string();
        for c in [&exporter, &importer] {
            if !known.contains_key(c.as_str()) || c == "WLD" || c == "ROW" {
                return Err(Error::data(
                    path,
                    line,
                    format!("economy `{c}` is not a listed economy of economies_2014.csv"),
                ));
            }
        }
        if exporter == importer {
            return Err(Error::data(
                path,
                line,
                "exporter equals importer; list international flows only",
            ));
        }
        if let Some(prev) = pairs.insert((exporter.clone(), importer.clone()), line) {
            return Err(Error::data(
                path,
                line,
                format!("pair {exporter}->{importer} already given on line {prev}"),
            ));
        }
        let value = cols.num(rec, line, "value_usd")?;
        if value < 0.0 {
            return Err(Error::data(path, line, "negative `value_usd`"));
        }
        flows.push(ObservedFlow {
            exporter,
            importer,
            value,
            source: cols.str(rec, "source").to_string(),
        });
    }
    Ok(flows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "iso3,name,gdp_usd,exports_usd,imports_usd,mfn_all,mfn_all_weighted,share_agri,share_fuels_mining,share_manuf,lat,lon,languages,borders\n";

    fn write(dir: &Path, econ: &str, bil: &str) {
        for (f, h) in [
            (
                "bilateral_2014_tradhist.csv",
                "exporter,importer,value_usd,source\n",
            ),
            ("tariffs_2014.csv", "iso3,mfn_primary_simple\n"),
            ("import_shares_2014.csv", "iso3,food,manuf\n"),
            (
                "services_2014.csv",
                "iso3,services_exports_usd,services_imports_usd\n",
            ),
        ] {
            std::fs::write(dir.join(f), h).unwrap();
        }
        std::fs::write(dir.join("economies_2014.csv"), format!("{HEAD}{econ}")).unwrap();
        std::fs::write(
            dir.join("bilateral_2014.csv"),
            format!("exporter,importer,value_usd,year,source\n{bil}"),
        )
        .unwrap();
    }

    #[test]
    fn a_bad_number_names_file_and_line() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "AAA,A,1e9,2e8,2e8,5,3,10,10,80,1,2,X,\nBBB,B,1e9,abc,2e8,5,3,10,10,80,3,4,X,\nROW,Rest,1e9,2e8,2e8,,,,,,,,,\n",
            "",
        );
        let e = Facts::load(d.path()).unwrap_err().to_string();
        assert!(e.contains("economies_2014.csv, row 3"), "{e}");
        assert!(e.contains("exports_usd"), "{e}");
    }

    #[test]
    fn an_unknown_economy_in_the_bilateral_file_is_named() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "AAA,A,1e9,2e8,2e8,5,3,10,10,80,1,2,X,\nROW,Rest,1e9,2e8,2e8,,,,,,,,,\n",
            "AAA,ZZZ,5e7,2014,COW4\n",
        );
        let e = Facts::load(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("bilateral_2014.csv, row 2") && e.contains("ZZZ"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_row_is_reported() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "AAA,A,1e9,2e8,2e8,5,3,10,10,80,1,2,X,\n", "");
        let e = Facts::load(d.path()).unwrap_err().to_string();
        assert!(e.contains("ROW"), "{e}");
    }

    #[test]
    fn a_missing_directory_names_the_file() {
        let e = Facts::load(Path::new("/nonexistent/facts"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/facts/economies_2014.csv"), "{e}");
    }

    #[test]
    fn line_numbers_are_right_in_crlf_files() {
        let d = tempfile::tempdir().unwrap();
        let econ = format!("{HEAD}AAA,A,1e9,2e8,2e8,5,3,10,10,80,1,2,X,\nBBB,B,1e9,2e8,2e8,5,3,10,10,80,3,4,X,\nROW,Rest,1e9,2e8,2e8,,,,,,,,,\n")
            .replace('\n', "\r\n");
        std::fs::write(d.path().join("economies_2014.csv"), econ).unwrap();
        std::fs::write(
            d.path().join("bilateral_2014.csv"),
            "exporter,importer,value_usd\r\nAAA,BBB,1\r\nBBB,ZZZ,2\r\n",
        )
        .unwrap();
        let e = Facts::load(d.path()).unwrap_err().to_string();
        assert!(e.contains("bilateral_2014.csv, row 3"), "{e}");
    }

    #[test]
    fn a_csv_syntax_error_names_its_line_in_a_crlf_file() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "AAA,A,1e9,2e8,2e8,5,3,10,10,80,1,2,X,\nROW,Rest,1e9,2e8,2e8,,,,,,,,,\n",
            "",
        );
        std::fs::write(
            d.path().join("bilateral_2014.csv"),
            "exporter,importer,value_usd\r\nAAA,ROW,1\r\nAAA,ROW\r\n",
        )
        .unwrap();
        let e = Facts::load(d.path()).unwrap_err().to_string();
        assert!(e.contains("bilateral_2014.csv, row 3"), "{e}");
    }

    #[test]
    fn every_new_input_file_names_its_bad_row_and_the_fix() {
        let econ = "AAA,A,1e9,2e8,2e8,5,3,10,10,80,1,2,X,\nBBB,B,1e9,2e8,2e8,5,3,10,10,80,3,4,X,\nROW,Rest,1e9,2e8,2e8,,,,,,,,,\n";
        let cases: [(&str, &str, &str, &str); 6] = [
            // A file in the wrong layout: services figures under the tariffs file's name.
            (
                "tariffs_2014.csv",
                "economy,services_exports_usd\nAAA,1e9\n",
                "row 1",
                "missing column `iso3`",
            ),
            (
                "tariffs_2014.csv",
                "iso3,mfn_primary_simple\nAAA,5\nZZZ,3\n",
                "row 3",
                "`ZZZ` is not a listed economy",
            ),
            (
                "import_shares_2014.csv",
                "iso3,food,manuf\nAAA,8,50\nAAA,9,51\n",
                "row 3",
                "already has a row (line 2)",
            ),
            (
                "import_shares_2014.csv",
                "iso3,food,manuf\nAAA,60,50\n",
                "row 2",
                "exceed 100%",
            ),
            (
                "services_2014.csv",
                "iso3,services_exports_usd,services_imports_usd\nAAA,1e9,\n",
                "row 2",
                "give both",
            ),
            (
                "bilateral_2014_tradhist.csv",
                "exporter,importer,value_usd\nAAA,BBB,1e8\nBBB,BBB,2e8\n",
                "row 3",
                "exporter equals importer",
            ),
        ];
        for (file, text, row, what) in cases {
            let d = tempfile::tempdir().unwrap();
            write(d.path(), econ, "");
            std::fs::write(d.path().join(file), text).unwrap();
            let e = Facts::load(d.path()).unwrap_err().to_string();
            assert!(
                e.contains(file) && e.contains(row) && e.contains(what),
                "{file}: {e}"
            );
        }
        // The project's own facts.
        let d = tempfile::tempdir().unwrap();
        write(d.path(), econ, "");
        let mut f = Facts::load(d.path()).unwrap();
        std::fs::write(
            d.path().join("product_groups_2014.csv"),
            "importer,group,sector,exporter,import_value_usd,value_year,value_key,base_rate,rate_key\n\
             AAA,rice,AGR,,1e8,2014,K,7.78,R\nAAA,beef,SRV,,1e8,2014,K,0.385,R\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("wto_ttd_mtn_2014.csv"),
            "reporter,product_code,trade_weighted\n",
        )
        .unwrap();
        let e = f.load_extra(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("product_groups_2014.csv, row 3") && e.contains("write AGR, FMN or MAN"),
            "{e}"
        );
    }
}
