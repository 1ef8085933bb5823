//! WITS (World Bank) / UNCTAD TRAINS tariff downloads into sector tariff rates by pair of
//! output regions: the MFN rate (set `mfn`, for `flows.csv`) and the preferential rate
//! actually available (set `preferential`: the lower of the preferential and the MFN rate,
//! for `tariff_sets.csv`).
//!
//! Layout: the TRAINS bulk files WITS delivers for an "Advanced Query" (one `…JobID….csv` per
//! query), at HS 6-digit level, rates in **percent** ad valorem (with AVEs):
//! - MFN (`AVEMFN`): `NomenCode,Reporter_ISO_N,Year,ProductCode,Sum_Of_Rates,Min_Rate,
//!   Max_Rate,SimpleAverage,Nbr_NA_Lines,Nbr_Free_Lines,Nbr_AVE_Lines,Nbr_Dutiable_Lines,
//!   TotalNoOfValidLines,TotalNoOfLines,EstCode`;
//! - preferential (`AVEPref`): the same with `Partner` after `ProductCode`.
//!
//! `Reporter_ISO_N` and `Partner` are numeric country codes (ISO 3166 numeric), turned into
//! ISO3 with a country-code file (BACI's, or any `country_code,country_iso3`). BACI's file
//! uses UN Comtrade's codes, which differ from ISO's for six countries (USA 842, not 840, …):
//! a code the file lacks is read through `data/mappings/iso-numeric-baci.csv` when the file
//! gives its BACI code the same ISO3. The HS 6-digit line's rate is `SimpleAverage` (the
//! average over the national tariff lines inside it).
//!
//! Aggregation to (sector, exporter region, importer region), stated in the output's
//! `weighting` column:
//! - `simple`: the mean over the HS6 lines of the sector of every reporter in the importing
//!   region (and, for `preferential`, every partner economy of the exporting region);
//! - `import-weighted`: weighted by the importer's imports of the line from each partner in a
//!   BACI file of the same year (HS revision as the tariff's NomenCode); a cell without
//!   imports falls back to the simple mean and says so (`simple (no imports)`).

use super::baci::{hs6, CountryCodes, HEADER as BACI_HEADER};
use super::{number, RegionMap, SectorDef, SectorMap, Stream};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

const MFN_COLUMNS: [&str; 4] = ["Reporter_ISO_N", "Year", "ProductCode", "SimpleAverage"];
const PREF_COLUMNS: [&str; 5] = [
    "Reporter_ISO_N",
    "Year",
    "ProductCode",
    "Partner",
    "SimpleAverage",
];

/// How HS6 rates are averaged into sector rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weighting {
    Simple,
    ImportWeighted,
}

/// What to import.
pub(crate) struct WitsOptions<'a> {
    pub mfn: &'a [std::path::PathBuf],
    pub preferential: &'a [std::path::PathBuf],
    pub year: i64,
    pub countries: &'a Path,
    pub sectors: &'a [SectorDef],
    pub hs: &'a SectorMap,
    pub regions: &'a RegionMap,
    /// A BACI year file for import weights.
    pub weights: Option<&'a Path>,
}

type Line = (String, String); // (reporter ISO3, HS6)

/// ISO 3166 numeric codes (what WITS reports) of the countries whose code in BACI's country
/// file (UN Comtrade's) differs: `iso_numeric,baci_code,iso3` (sources in
/// `data/mappings/PROVENANCE.md`).
const ISO_NUMERIC_BACI: &str = include_str!("../../../data/mappings/iso-numeric-baci.csv");

/// The BACI code and ISO3 of an ISO numeric code that BACI writes differently.
fn baci_code(iso_numeric: &str) -> Option<(&'static str, &'static str)> {
    let n: u32 = iso_numeric.parse().ok()?;
    ISO_NUMERIC_BACI.lines().skip(1).find_map(|l| {
        let mut f = l.split(',');
        let (iso, baci, iso3) = (f.next()?, f.next()?, f.next()?);
        (iso.parse::<u32>().ok()? == n).then_some((baci, iso3))
    })
}

/// The ISO3 code of a WITS numeric code: from the country file, or through BACI's code for
/// it (recorded in `aliased`) when the file is BACI's; otherwise an error naming the fix.
fn iso3(
    codes: &CountryCodes,
    path: &Path,
    row: usize,
    what: &str,
    code: &str,
    aliased: &mut BTreeSet<String>,
) -> Result<String> {
    if let Some(iso) = codes.get(code) {
        return Ok(iso.to_string());
    }
    if let Some((baci, iso)) = baci_code(code).filter(|(b, i)| codes.get(b) == Some(i)) {
        aliased.insert(format!("{code} as {baci} ({iso})"));
        return Ok(iso.to_string());
    }
    Err(Error::data(
        path,
        row,
        format!(
            "{what} `{code}` is not in {}; add `{code},ISO3` to the country file (WITS uses numeric codes; e.g. the EU reports as 918)",
            codes.path.display()
        ),
    ))
}

/// Reads MFN (`partner = false`) or preferential files: `(reporter, [partner,] hs6) → rate`
/// for the year asked; `years` collects every year the files hold.
fn read_rates(
    files: &[std::path::PathBuf],
    partner: bool,
    o: &WitsOptions,
    codes: &CountryCodes,
    aliased: &mut BTreeSet<String>,
    years: &mut BTreeSet<i64>,
) -> Result<HashMap<(String, String, String), f64>> {
    let mut out = HashMap::new();
    let none = |_: u64| {};
    for f in files {
        let mut s = Stream::open(f, &none)?;
        let what = if partner {
            "a WITS/TRAINS preferential (AVEPref) file"
        } else {
            "a WITS/TRAINS MFN (AVEMFN) file"
        };
        let cols = s.columns(
            if partner {
                &PREF_COLUMNS[..]
            } else {
                &MFN_COLUMNS[..]
            },
            what,
        )?;
        if !partner && s.header.iter().any(|h| h == "Partner") {
            return Err(Error::data(f, 1, "this file has a Partner column: it is a preferential (AVEPref) file; pass it with --preferential"));
        }
        let mut rec = csv::StringRecord::new();
        while let Some(line) = s.next(&mut rec)? {
            let year: i64 = rec[cols[1]].parse().map_err(|_| {
                Error::data(f, line, format!("Year `{}` is not a year", &rec[cols[1]]))
            })?;
            years.insert(year);
            if year != o.year {
                continue;
            }
            let reporter = iso3(codes, f, line, "Reporter_ISO_N", &rec[cols[0]], aliased)?;
            let k = hs6(&rec[cols[2]]).ok_or_else(|| {
                Error::data(
                    f,
                    line,
                    format!("ProductCode `{}` is not an HS 6-digit code", &rec[cols[2]]),
                )
            })?;
            if !partner && o.hs.get(&k).is_none() {
                return Err(o.hs.unmapped(f, line, &k));
            }
            let p = if partner {
                iso3(codes, f, line, "Partner", &rec[cols[3]], aliased)?
            } else {
                String::new()
            };
            let rc = cols[if partner { 4 } else { 3 }];
            let rate = number(f, line, "SimpleAverage", &rec[rc])?;
            if !(0.0..=3000.0).contains(&rate) {
                return Err(Error::data(
                    f,
                    line,
                    format!("SimpleAverage {rate} is not a rate in percent (0 to 3000)"),
                ));
            }
            if out
                .insert((reporter.clone(), p.clone(), k.clone()), rate / 100.0)
                .is_some()
            {
                return Err(Error::data(
                    f,
                    line,
                    format!("a second rate for reporter {reporter}{} product {k} in {year}; keep one file per query (or remove the duplicate row)", if partner { format!(", partner {p},") } else { ",".into() }),
                ));
            }
        }
    }
    Ok(out)
}

/// Running sums per (set, sector, exporter region, importer region): (Σ w τ, Σ w, lines).
type Sums = BTreeMap<(usize, usize, usize, usize), (f64, f64, usize)>;

/// Computes the sector rates and renders `tariffs.csv`
/// (`set,sector,exporter,importer,tariff,lines,weighting`). Returns the file and a summary.
pub(crate) fn import(o: &WitsOptions, progress: &dyn Fn(u64)) -> Result<(Vec<u8>, String)> {
    let codes = CountryCodes::read(o.countries)?;
    o.regions.check_economies(&codes.named(), o.countries)?;
    o.regions.check_filled(&codes.all(), o.countries)?;
    if o.mfn.is_empty() {
        return Err(Error::invalid(
            "--mfn",
            "give at least one MFN (AVEMFN) file: preferential rates are capped by the MFN rate",
        ));
    }
    let (mut aliased, mut years) = (BTreeSet::new(), BTreeSet::new());
    let mfn = read_rates(o.mfn, false, o, &codes, &mut aliased, &mut years)?;
    if mfn.is_empty() {
        let held: Vec<String> = years.iter().map(i64::to_string).collect();
        return Err(Error::invalid(
            o.mfn[0].display().to_string(),
            format!(
                "no MFN rate for {}; the MFN files hold {}: pass one of them with --year, or download the MFN rates of {} from WITS",
                o.year,
                if held.is_empty() { "no rows".to_string() } else { held.join(", ") },
                o.year
            ),
        ));
    }
    let pref = read_rates(
        o.preferential,
        true,
        o,
        &codes,
        &mut aliased,
        &mut BTreeSet::new(),
    )?;
    let nr = o.regions.len();
    // lines by reporter, with their sector
    let mut lines: BTreeMap<Line, (usize, f64)> = BTreeMap::new();
    for ((r, _, k), rate) in &mfn {
        // every MFN line was checked for a sector where it was read
        let j = o.hs.get(k).ok_or_else(|| o.hs.unmapped(&o.mfn[0], 1, k))?;
        lines.insert((r.clone(), k.clone()), (j, *rate));
    }
    let applied_pref = |r: &str, p: &str, k: &str, m: f64| -> f64 {
        pref.get(&(r.to_string(), p.to_string(), k.to_string()))
            .map_or(m, |t| t.min(m))
    };
    // partner economies by region: every economy of the country file
    let mut members: Vec<Vec<String>> = vec![Vec::new(); nr];
    for iso in codes.all() {
        members[o.regions.get(iso)].push(iso.to_string());
    }
    // simple means
    let mut simple: Sums = BTreeMap::new();
    for ((r, k), (j, m)) in &lines {
        let n = o.regions.get(r);
        for (i, partners) in members.iter().enumerate() {
            if i == n {
                continue;
            }
            let e = simple.entry((0, *j, i, n)).or_insert((0.0, 0.0, 0));
            *e = (e.0 + m, e.1 + 1.0, e.2 + 1);
            for p in partners.iter().filter(|p| *p != r) {
                let e = simple.entry((1, *j, i, n)).or_insert((0.0, 0.0, 0));
                *e = (e.0 + applied_pref(r, p, k, *m), e.1 + 1.0, e.2 + 1);
            }
        }
    }
    // import weights
    let mut weighted: Sums = BTreeMap::new();
    let mut unmatched = 0.0;
    let mut matched = 0.0;
    if let Some(w) = o.weights {
        let mut s = Stream::open(w, progress)?;
        s.expect_exact(
            &BACI_HEADER,
            "a BACI year file (t,i,j,k,v,q) for import weights",
        )?;
        let mut rec = csv::StringRecord::new();
        let mut iso_cache: HashMap<String, Option<String>> = HashMap::new();
        while let Some(line) = s.next(&mut rec)? {
            let t: i64 = rec[0]
                .parse()
                .map_err(|_| Error::data(w, line, "t is not a year"))?;
            if t != o.year {
                return Err(Error::data(w, line, format!("the weights are for {t}, the tariffs for {}; use the BACI file of the same year", o.year)));
            }
            let mut look = |c: &str| -> Option<String> {
                iso_cache
                    .entry(c.to_string())
                    .or_insert_with(|| codes.get(c).map(str::to_string))
                    .clone()
            };
            let (Some(p), Some(r)) = (look(&rec[1]), look(&rec[2])) else {
                continue;
            };
            let k = hs6(&rec[3]).ok_or_else(|| {
                Error::data(
                    w,
                    line,
                    format!("k `{}` is not an HS 6-digit code", &rec[3]),
                )
            })?;
            let v = number(w, line, "v", &rec[4])?;
            let (n, i) = (o.regions.get(&r), o.regions.get(&p));
            if n == i {
                continue;
            }
            match lines.get(&(r.clone(), k.clone())) {
                Some((j, m)) => {
                    matched += v;
                    for (set, rate) in [(0, *m), (1, applied_pref(&r, &p, &k, *m))] {
                        let e = weighted.entry((set, *j, i, n)).or_insert((0.0, 0.0, 0));
                        *e = (e.0 + v * rate, e.1 + v, e.2 + 1);
                    }
                }
                None if lines.keys().any(|(rr, _)| *rr == r) => unmatched += v,
                None => {}
            }
        }
    }
    let weighting = if o.weights.is_some() {
        Weighting::ImportWeighted
    } else {
        Weighting::Simple
    };
    let mut s = String::from("set,sector,exporter,importer,tariff,lines,weighting\n");
    for (&(set, j, i, n), &(sum, count, lines_n)) in &simple {
        let (rate, lines_used, how) = match (weighting, weighted.get(&(set, j, i, n))) {
            (Weighting::ImportWeighted, Some(&(ws, w, l))) if w > 0.0 => {
                (ws / w, l, "import-weighted")
            }
            (Weighting::ImportWeighted, _) => (sum / count, lines_n, "simple (no imports)"),
            (Weighting::Simple, _) => (sum / count, lines_n, "simple"),
        };
        let _ = writeln!(
            s,
            "{},{},{},{},{rate},{lines_used},{how}",
            ["mfn", "preferential"][set],
            o.sectors[j].code,
            o.regions.regions[i],
            o.regions.regions[n]
        );
    }
    let mut summary = format!(
        "{} MFN lines, {} preferential lines of {}, {} weighting",
        mfn.len(),
        pref.len(),
        o.year,
        match weighting {
            Weighting::Simple => "simple",
            Weighting::ImportWeighted => "import",
        }
    );
    if !aliased.is_empty() {
        let _ = write!(
            summary,
            "; WITS codes read as BACI's (data/mappings/iso-numeric-baci.csv): {}",
            aliased.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    if o.weights.is_some() {
        let _ = write!(
            summary,
            "; {:.1}% of the reporters' imports matched a tariff line ({:.0} thousand US$ without one)",
            100.0 * matched / (matched + unmatched).max(f64::MIN_POSITIVE),
            unmatched
        );
    }
    Ok((s.into_bytes(), summary))
}
