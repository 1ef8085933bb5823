//! CEPII BACI: bilateral trade by HS 6-digit product, one CSV per year, into bilateral goods
//! flows by sector and region.
//!
//! Layout (BACI's readme, "List of Variables"; Gaulier & Zignago 2010, CEPII WP 2010-23):
//! `BACI_HS92_Y2022_V202401.csv` with the header `t,i,j,k,v,q` — `t` year, `i` exporter and
//! `j` importer (BACI's numeric country codes), `k` HS 6-digit product, `v` value in
//! **thousands of US dollars** (FOB), `q` quantity in metric tons (`NA` when unknown, padded
//! with spaces in some releases). `k` is quoted with its leading zero (`"010121"`) in recent
//! releases and unquoted without it (`10121`) in older ones; both are read as 6 digits.
//! The country file `country_codes_V202401.csv` has `country_code,country_name,country_iso2,
//! country_iso3` (recent releases, e.g. V202501); older ones (e.g. V202301) `country_code,country_name_abbreviation,
//! country_name_full,iso_2digit_alpha,iso_3digit_alpha`.
//!
//! BACI has no domestic sales: they come from a `--domestic` file (`economy,sector,value,unit`,
//! one row per output region and sector). Flows between two economies of one region are that
//! region's domestic sales. Memory is bounded by the output and by one bit per (exporter,
//! importer, product) seen (duplicate detection), never by the number of rows.

use super::{
    number, provenance, unit_factor, BaselineTables, Flows, RegionMap, SectorDef, SectorMap, Stream,
};
use crate::data::csvio::Table;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The published header of a BACI year file.
pub(crate) const HEADER: [&str; 6] = ["t", "i", "j", "k", "v", "q"];

/// BACI numeric country code → ISO3, from BACI's country-code file.
#[derive(Debug, Clone)]
pub(crate) struct CountryCodes {
    pub path: PathBuf,
    iso3: Vec<Option<String>>,
    /// Country names by ISO3 code (empty when the file has no name column).
    names: HashMap<String, String>,
}

impl CountryCodes {
    /// Reads either published layout of the country file.
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let t = Table::read(path)?;
        let code = t.optional_column("country_code");
        let iso = t
            .optional_column("country_iso3")
            .or_else(|| t.optional_column("iso_3digit_alpha"));
        let (Some(code), Some(iso)) = (code, iso) else {
            return Err(Error::data(
                path,
                1,
                "this is not a BACI country-code file: expected the columns country_code and country_iso3 (recent releases such as V202501: country_code,country_name,country_iso2,country_iso3) or iso_3digit_alpha (older ones such as V202301)",
            ));
        };
        let name = t
            .optional_column("country_name")
            .or_else(|| t.optional_column("country_name_full"));
        let mut names = HashMap::new();
        let mut iso3: Vec<Option<String>> = vec![None; 1000];
        for row in &t.rows {
            let c = t.text(row, code)?;
            let n: usize = c.parse().ok().filter(|n| *n < 1000).ok_or_else(|| {
                Error::data(
                    path,
                    row.0,
                    format!("country_code `{c}` is not a number below 1000"),
                )
            })?;
            let v = t.text(row, iso)?.to_string();
            if let Some(prev) = &iso3[n] {
                if *prev != v {
                    return Err(Error::data(
                        path,
                        row.0,
                        format!("country_code {n} appears twice ({prev} and {v}); keep one row"),
                    ));
                }
            }
            if !v.is_empty() {
                if let Some(c) = name {
                    names.insert(v.clone(), t.text(row, c)?.to_string());
                }
                iso3[n] = Some(v);
            }
        }
        Ok(CountryCodes {
            path: path.to_path_buf(),
            iso3,
            names,
        })
    }
    /// Every ISO3 code of the file with its country name (empty if none), sorted by code.
    pub(crate) fn named(&self) -> Vec<(&str, &str)> {
        self.all()
            .into_iter()
            .map(|c| (c, self.names.get(c).map_or("", String::as_str)))
            .collect()
    }
    /// Every ISO3 code of the file, once each, sorted.
    pub(crate) fn all(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.iso3.iter().flatten().map(String::as_str).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    /// The ISO3 code of a numeric code, if the file gives one.
    pub(crate) fn get(&self, code: &str) -> Option<&str> {
        let n: usize = code.parse().ok()?;
        self.iso3.get(n)?.as_deref()
    }
}

/// What to import.
pub(crate) struct BaciOptions<'a> {
    pub data: &'a Path,
    pub countries: &'a Path,
    /// The year the file must hold (`t`); `None`: the first row's.
    pub year: Option<i64>,
    pub sectors: &'a [SectorDef],
    pub hs: &'a SectorMap,
    pub regions: &'a RegionMap,
    pub domestic: &'a Path,
}

/// Counts reported after an import.
#[derive(Debug, Clone, Default)]
pub(crate) struct BaciSummary {
    pub rows: u64,
    pub year: i64,
    pub products: usize,
    pub quantity_na: u64,
    /// Total value read, US dollars.
    pub total_usd: f64,
}

/// The 6-digit HS code of a `k` field: digits only, left-padded with zeros.
pub(crate) fn hs6(k: &str) -> Option<String> {
    if k.is_empty() || k.len() > 6 || !k.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{k:0>6}"))
}

/// Streams the BACI file into flows by sector and region (US dollars), adds the domestic
/// sales, and returns the baseline's tables.
pub(crate) fn import(
    o: &BaciOptions,
    progress: &dyn Fn(u64),
) -> Result<(BaselineTables, BaciSummary)> {
    let codes = CountryCodes::read(o.countries)?;
    o.regions.check_economies(&codes.named(), o.countries)?;
    let (nr, jj) = (o.regions.len(), o.sectors.len());
    let mut flows = Flows::new(jj, nr);
    let mut s = Stream::open(o.data, progress)?;
    s.expect_exact(&HEADER, "a BACI year file (t,i,j,k,v,q)")?;
    // country code → (dense index, region); product → (dense index, sector)
    let mut country: Vec<Option<(usize, usize)>> = vec![None; 1000];
    let mut n_countries = 0usize;
    let mut product: HashMap<u32, (usize, usize)> = HashMap::new();
    // one bitmap of (exporter, importer) per product, sized for the country file
    let capacity = codes.iso3.iter().filter(|c| c.is_some()).count().max(1);
    let mut seen: Vec<Vec<u64>> = Vec::new();
    let mut sum = BaciSummary {
        year: o.year.unwrap_or(i64::MIN),
        ..Default::default()
    };
    let mut rec = csv::StringRecord::new();
    while let Some(line) = s.next(&mut rec)? {
        let path = &s.path;
        let t: i64 = rec[0].parse().map_err(|_| {
            Error::data(
                path,
                line,
                format!("year t `{}` is not a whole number", &rec[0]),
            )
        })?;
        if sum.year == i64::MIN {
            sum.year = t;
        }
        if t != sum.year {
            return Err(Error::data(
                path,
                line,
                format!("year {t} in a file of year {}; BACI has one file per year: import one year at a time (--year)", sum.year),
            ));
        }
        let mut side = |field: &str, what: &str| -> Result<(usize, usize)> {
            let n: usize = field.parse().ok().filter(|n| *n < 1000).ok_or_else(|| {
                Error::data(
                    path,
                    line,
                    format!("{what} `{field}` is not a BACI country code (a number)"),
                )
            })?;
            if let Some(v) = country[n] {
                return Ok(v);
            }
            let iso = codes.get(field).ok_or_else(|| {
                Error::data(
                    path,
                    line,
                    format!("{what} code {field} is not in {}; use the country file of the same BACI release", codes.path.display()),
                )
            })?;
            let v = (n_countries, o.regions.get(iso));
            n_countries += 1;
            if n_countries > capacity {
                return Err(Error::data(
                    path,
                    line,
                    "more countries than the country file lists",
                ));
            }
            country[n] = Some(v);
            Ok(v)
        };
        let (ei, er) = side(&rec[1], "exporter i")?;
        let (ii, ir) = side(&rec[2], "importer j")?;
        let k = hs6(&rec[3]).ok_or_else(|| {
            Error::data(
                path,
                line,
                format!("product k `{}` is not an HS 6-digit code", &rec[3]),
            )
        })?;
        let key: u32 = k.parse().expect("six digits");
        let (pk, sector) = match product.get(&key) {
            Some(v) => *v,
            None => {
                let j = o.hs.get(&k).ok_or_else(|| o.hs.unmapped(path, line, &k))?;
                let v = (product.len(), j);
                product.insert(key, v);
                seen.push(vec![0u64; (capacity * capacity).div_ceil(64)]);
                v
            }
        };
        let bit = ei * capacity + ii;
        let word = &mut seen[pk][bit / 64];
        if *word & (1 << (bit % 64)) != 0 {
            return Err(Error::data(
                path,
                line,
                format!("a second row for exporter {}, importer {}, product {k}; BACI has one row per flow: keep one", &rec[1], &rec[2]),
            ));
        }
        *word |= 1 << (bit % 64);
        let v = number(path, line, "value v", &rec[4])?;
        if v < 0.0 {
            return Err(Error::data(
                path,
                line,
                format!("value v is {v}; trade values are not negative"),
            ));
        }
        let q = &rec[5];
        if q == "NA" || q.is_empty() {
            sum.quantity_na += 1;
        } else {
            number(path, line, "quantity q", q)?;
        }
        let usd = v * 1e3;
        flows.add(sector, er, ir, usd);
        sum.total_usd += usd;
        if !sum.total_usd.is_finite() {
            return Err(Error::data(
                path,
                line,
                format!("value v `{}` thousand US$ takes the file's total beyond the largest number a computer holds ({:e} US$); BACI's values are thousands of US dollars: correct the value", &rec[4], f64::MAX),
            ));
        }
        sum.rows += 1;
    }
    if sum.rows == 0 {
        return Err(Error::data(o.data, 1, "the file has a header but no rows"));
    }
    let traded: Vec<&str> = (0..country.len())
        .filter(|&n| country[n].is_some())
        .filter_map(|n| codes.get(&n.to_string()))
        .collect();
    o.regions.check_filled(&traded, o.data)?;
    sum.products = product.len();
    // sectors no HS code maps to carry no international trade
    let mut non_traded = vec![true; jj];
    for &(_, j) in product.values() {
        non_traded[j] = false;
    }
    add_domestic(o.domestic, o.regions, o.sectors, &non_traded, &mut flows)?;
    let notes = vec![
        format!(
            "BACI year {}: {} rows, {} HS6 products, {} quantities NA; v (thousand US$) × 1000",
            sum.year, sum.rows, sum.products, sum.quantity_na
        ),
        format!(
            "HS → sector: {} (longest listed prefix)",
            o.hs.path.display()
        ),
        format!(
            "economy → region: {} (economies not listed: ROW)",
            o.regions.path.display()
        ),
        "flows between economies of one region are added to its domestic sales".into(),
        format!("domestic sales: {}", o.domestic.display()),
        "no input-output table: io.csv absent (γ = 1), final-demand shares derived by the loader"
            .into(),
    ];
    let tables = BaselineTables {
        regions: o.regions.regions.clone(),
        region_names: o.regions.names.clone(),
        sectors: o.sectors.to_vec(),
        non_traded,
        flows,
        io: None,
        final_demand: None,
        not_goods: None,
        provenance: provenance(
            "Baseline imported from CEPII BACI",
            &[
                ("BACI", o.data),
                ("country codes", o.countries),
                ("domestic sales", o.domestic),
            ],
            &notes,
        ),
    };
    Ok((tables, sum))
}

/// Adds `economy,sector,value,unit` domestic sales (one row per region and sector) to the
/// flows read from the trade file. Every region must buy something in every sector (the
/// baseline loader's rule): a 0 is refused, at its row, where the region imports nothing of
/// the sector (always in a sector no HS code maps to, `non_traded`), and so is a region
/// without domestic sales in any sector.
fn add_domestic(
    path: &Path,
    regions: &RegionMap,
    sectors: &[SectorDef],
    non_traded: &[bool],
    flows: &mut Flows,
) -> Result<()> {
    let t = Table::read(path)?;
    let c: Vec<usize> = ["economy", "sector", "value", "unit"]
        .iter()
        .map(|c| t.column(c))
        .collect::<Result<_>>()?;
    let jj = sectors.len();
    // the row of each region and sector
    let mut given = vec![0usize; regions.len() * jj];
    for row in &t.rows {
        let e = t.text(row, c[0])?;
        let n = regions.regions.iter().position(|r| r == e).ok_or_else(|| {
            Error::data(
                path,
                row.0,
                format!("economy `{e}` is not a region of the output ({}); domestic sales are given per output region", regions.regions.join(", ")),
            )
        })?;
        let s = t.text(row, c[1])?;
        let j = sectors.iter().position(|d| d.code == s).ok_or_else(|| {
            Error::data(
                path,
                row.0,
                format!("sector `{s}` is not a sector of the output"),
            )
        })?;
        let v = t.non_negative(row, c[2], "value")?;
        let f = unit_factor(path, row.0, t.text(row, c[3])?)?;
        if std::mem::replace(&mut given[n * jj + j], row.0) != 0 {
            return Err(Error::data(
                path,
                row.0,
                "a second row for this economy and sector; keep one",
            ));
        }
        flows.add(j, n, n, v * f);
        if !flows.get(j, n, n).is_finite() {
            return Err(Error::data(
                path,
                row.0,
                format!("value {v} {} is beyond the largest number a computer holds; write the value in the unit of the column unit", t.text(row, c[3])?),
            ));
        }
    }
    if let Some(k) = given.iter().position(|g| *g == 0) {
        return Err(Error::invalid(
            path.display().to_string(),
            format!(
                "no domestic sales for {} in sector {}; give one row per output region and sector (0 only where the region imports the sector's goods)",
                regions.regions[k / jj],
                sectors[k % jj].code
            ),
        ));
    }
    for (n, region) in regions.regions.iter().enumerate() {
        if (0..jj).all(|j| flows.get(j, n, n) == 0.0) {
            return Err(Error::data(
                path,
                given[n * jj],
                format!("{region} has no domestic sales in any sector; every economy sells some of its output at home: give its domestic sales (gross output minus exports)"),
            ));
        }
        for (j, sector) in sectors.iter().enumerate() {
            let imports: f64 = (0..regions.len())
                .filter(|&i| i != n)
                .map(|i| flows.get(j, i, n))
                .sum();
            if flows.get(j, n, n) == 0.0 && imports == 0.0 {
                let why = if non_traded[j] {
                    format!("{} is not traded (no HS code maps to it), so domestic sales are all {region} buys of it", sector.code)
                } else {
                    format!(
                        "{region} imports nothing in {} in the trade file",
                        sector.code
                    )
                };
                return Err(Error::data(
                    path,
                    given[n * jj + j],
                    format!("{region} has no domestic sales in {}, and {why}; every economy must buy something in every sector: give its positive domestic sales (gross output minus exports), or merge the sector into another (--sectors, --hs) or the economy into another region (--regions)", sector.code),
                ));
            }
        }
    }
    Ok(())
}
