//! The CEPII Gravity dataset's covariates, as a bilateral CSV `tradesim estimate` reads.
//!
//! Layout (CEPII Gravity, release V202211 and V202102; Conte, Cotterlaz & Mayer 2022, "The
//! CEPII Gravity database", CEPII WP 2022-05): one row per `year`, origin and destination,
//! with among its ~80 columns `iso3_o`, `iso3_d`, `country_exists_o`, `country_exists_d`,
//! `dist` (km between the most populated cities), `distw_harmonic`, `distcap`, `contig`,
//! `comlang_off`, `comcol` and `fta_wto` (a regional trade agreement notified to the WTO).
//! Rows where either country does not exist that year are skipped; in every other selected
//! row the chosen covariates must be present (an empty cell is an error naming the row).

use super::{number, Stream};
use crate::error::{Error, Result};
use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::Path;

/// What to import.
pub(crate) struct GravityOptions<'a> {
    pub data: &'a Path,
    pub years: &'a [i64],
    /// ISO3 codes to keep (both sides); empty: all.
    pub economies: &'a [String],
    pub covariates: &'a [String],
}

/// Streams the file and renders `exporter,importer,year,<covariates>` (`fta_wto` → `rta`).
pub(crate) fn import(o: &GravityOptions, progress: &dyn Fn(u64)) -> Result<(Vec<u8>, usize)> {
    let mut s = Stream::open(o.data, progress)?;
    let what = "the CEPII Gravity dataset (Gravity_V202211.csv)";
    let mut wanted: Vec<&str> = vec![
        "year",
        "iso3_o",
        "iso3_d",
        "country_exists_o",
        "country_exists_d",
    ];
    wanted.extend(o.covariates.iter().map(String::as_str));
    let c = s.columns(&wanted, what)?;
    let keep: HashSet<&str> = o.economies.iter().map(String::as_str).collect();
    let years: BTreeSet<i64> = o.years.iter().copied().collect();
    let mut out = String::from("exporter,importer,year");
    for cov in o.covariates {
        out.push(',');
        out.push_str(if cov == "fta_wto" { "rta" } else { cov });
    }
    out.push('\n');
    let mut seen = HashSet::new();
    // every year and economy code of the file, to name those asked for that it lacks
    let mut file_years: BTreeSet<i64> = BTreeSet::new();
    let mut file_codes: BTreeSet<String> = BTreeSet::new();
    let mut rows = 0;
    let mut rec = csv::StringRecord::new();
    while let Some(line) = s.next(&mut rec)? {
        let year: i64 = rec[c[0]].parse().map_err(|_| {
            Error::data(o.data, line, format!("year `{}` is not a year", &rec[c[0]]))
        })?;
        file_years.insert(year);
        for side in [c[1], c[2]] {
            if !file_codes.contains(&rec[side]) {
                file_codes.insert(rec[side].to_string());
            }
        }
        if !years.contains(&year) {
            continue;
        }
        let (e, i) = (&rec[c[1]], &rec[c[2]]);
        if !(keep.is_empty() || keep.contains(e) && keep.contains(i)) {
            continue;
        }
        if &rec[c[3]] != "1" || &rec[c[4]] != "1" {
            continue;
        }
        if !seen.insert((e.to_string(), i.to_string(), year)) {
            return Err(Error::data(
                o.data,
                line,
                format!("a second row for {e} → {i} in {year}; keep one"),
            ));
        }
        let _ = write!(out, "{e},{i},{year}");
        for (k, cov) in o.covariates.iter().enumerate() {
            let t = &rec[c[5 + k]];
            if t.is_empty() || t == "NA" {
                return Err(Error::data(
                    o.data,
                    line,
                    format!("{cov} is missing for {e} → {i} in {year}; choose another covariate (--covariates), or leave {} out of --economies (or {year} out of --years)", if e == i { e.to_string() } else { format!("{e} or {i}") }),
                ));
            }
            let v = number(o.data, line, cov, t)?;
            let _ = write!(out, ",{v}");
        }
        out.push('\n');
        rows += 1;
    }
    check_asked(o, &file_years, &file_codes)?;
    if rows == 0 {
        return Err(Error::invalid(
            o.data.display().to_string(),
            "no row matches the years and economies asked for",
        ));
    }
    Ok((out.into_bytes(), rows))
}

/// Refuses `--years` and `--economies` values that no row of the file holds (a mistyped code
/// or a year outside the release would silently drop rows), naming each with the years the
/// file covers or the codes meant.
fn check_asked(
    o: &GravityOptions,
    file_years: &BTreeSet<i64>,
    file_codes: &BTreeSet<String>,
) -> Result<()> {
    let mut problems: Vec<String> = Vec::new();
    let missing_years: Vec<String> = o
        .years
        .iter()
        .filter(|y| !file_years.contains(y))
        .map(i64::to_string)
        .collect();
    if !missing_years.is_empty() {
        problems.push(format!(
            "--years {}: no row of the file has {}; it holds {}",
            missing_years.join(","),
            if missing_years.len() == 1 {
                "this year"
            } else {
                "these years"
            },
            year_ranges(file_years)
        ));
    }
    let codes: Vec<&str> = file_codes.iter().map(String::as_str).collect();
    for e in o.economies.iter().filter(|e| !file_codes.contains(*e)) {
        problems.push(format!(
            "--economies `{e}` is not an iso3_o or iso3_d code of the file; {}",
            crate::error::suggestion(e, &codes, "codes")
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        o.data.display().to_string(),
        format!(
            "{}; correct these values (nothing was written)",
            problems.join("; ")
        ),
    ))
}

/// Years as ranges: `1948-2021` or `2015-2017, 2019` ([`crate::error::consecutive_runs`]).
fn year_ranges(years: &BTreeSet<i64>) -> String {
    let runs = crate::error::consecutive_runs(years.iter().copied());
    if runs.is_empty() {
        "no rows".into()
    } else {
        runs.join(", ")
    }
}
