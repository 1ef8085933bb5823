//! Reading the sourced facts: `economies_2014.csv` and `bilateral_2014.csv`
//! (`../shared/facts/`, documented in its `SOURCES.md`).
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

/// One observed bilateral flow (COW4): the importer's recorded imports from the exporter, US$.
#[derive(Debug, Clone)]
pub struct ObservedFlow {
    pub exporter: String,
    pub importer: String,
    pub value: f64,
    /// The source key (`COW4` or `COW4_CHN`).
    pub source: String,
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
    pub bilateral: Vec<ObservedFlow>,
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

struct Columns<'a> {
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

        let bpath = dir.join("bilateral_2014.csv");
        let (headers, rows) = read_csv(&bpath)?;
        let cols = Columns::new(&bpath, &headers, &["exporter", "importer", "value_usd"])?;
        let mut bilateral = Vec::new();
        let mut pairs = HashMap::new();
        for (line, rec) in &rows {
            let line = *line;
            let exporter = cols.str(rec, "exporter").to_string();
            let importer = cols.str(rec, "importer").to_string();
            for c in [&exporter, &importer] {
                if !seen.contains_key(c.as_str()) || c == "WLD" || c == "ROW" {
                    return Err(Error::data(
                        &bpath,
                        line,
                        format!("economy `{c}` is not a listed economy of economies_2014.csv"),
                    ));
                }
            }
            if exporter == importer {
                return Err(Error::data(
                    &bpath,
                    line,
                    "exporter equals importer; list international flows only",
                ));
            }
            if let Some(prev) = pairs.insert((exporter.clone(), importer.clone()), line) {
                return Err(Error::data(
                    &bpath,
                    line,
                    format!("pair {exporter}->{importer} already given on line {prev}"),
                ));
            }
            let value = cols.num(rec, line, "value_usd")?;
            if value < 0.0 {
                return Err(Error::data(&bpath, line, "negative `value_usd`"));
            }
            bilateral.push(ObservedFlow {
                exporter,
                importer,
                value,
                source: cols.str(rec, "source").to_string(),
            });
        }
        Ok(Facts {
            economies_path: epath,
            economies,
            world,
            bilateral,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "iso3,name,gdp_usd,exports_usd,imports_usd,mfn_all,mfn_all_weighted,share_agri,share_fuels_mining,share_manuf,lat,lon,languages,borders\n";

    fn write(dir: &Path, econ: &str, bil: &str) {
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
}
