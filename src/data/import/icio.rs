//! The OECD Inter-Country Input-Output tables (ICIO), one CSV per year, into a tidy baseline
//! with input-output shares and final-demand shares.
//!
//! Layout (OECD ICIO ReadMe of each edition; as parsed by pymrio's `parse_oecd`,
//! IndEcol/pymrio `pymrio/tools/ioparser.py`): a square table in **millions of US dollars**
//! whose first column labels the rows. Industry rows and columns are `CCC_IND` (economy,
//! underscore, industry: `AUS_01T02` in the 2021 edition, `AUS_A01_02` in the 2023 edition);
//! final-demand columns are `CCC_HFCE`, `CCC_NPISH`, `CCC_GGFC`, `CCC_GFCF`, `CCC_INVNT` and
//! `CCC_DPABR`; China and Mexico are split into `CN1`/`CN2` and `MX1`/`MX2` (processing
//! trade), which this importer sums into `CHN` and `MEX` as pymrio does; the whole-economy
//! `CHN_…`/`MEX_…` industry rows, empty in the published tables, may stand beside them, but a
//! table with sales in both forms is refused ([`SplitEconomies`]).
//!
//! | edition | total column | rows after the industries |
//! |---|---|---|
//! | 2021 (`ICIO2021_2018.csv`) | `TOTAL` | `AUS_TAXSUB` … `ROW_TAXSUB` (taxes less subsidies on products, one row per economy), `VALU` (value added), `OUTPUT` |
//! | 2023 (`2019.csv` of ICIO 2023) | `OUT` | `TLS` (taxes less subsidies on products), `VA`, `OUT` |
//!
//! The per-economy `CCC_TAXSUB` rows of the 2021 (and 2018) CSVs are the layout of pymrio's
//! OECD test table (IndEcol/pymrio `tests/mock_mrios/oecd_mock/ICIO2018_2010.CSV`, rows
//! `MEX_TAXSUB` … `COL_TAXSUB`, `VALU`, `OUTPUT`) and of third-party readers of
//! `ICIO2021_<year>.csv`; pymrio's `parse_oecd` takes `TLS`/`VA` or every row matching
//! `VALU|TAX` as factor inputs. Either edition may have either form: the taxes a column pays
//! are the `TLS` row or the sum of its `CCC_TAXSUB` rows (not both).
//!
//! The flows of sector `j` from region `i` to region `n` are the sales of `i`'s industries of
//! `j` to `n`'s industries and final demand; the cost shares of `n`'s sector `j` are its
//! purchases of each sector's goods over its output, and value added (`VALU`/`VA` plus `TLS`,
//! the net taxes paid on the products it uses) is the rest. Checks: every row's sales sum to
//! its output, and inputs plus value added equal output, within 1e-4 (relative).

use super::{number, provenance, BaselineTables, Flows, RegionMap, SectorDef, SectorMap, Stream};
use crate::error::{Error, Result};
use std::path::Path;

/// The two published CSV layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edition {
    E2021,
    E2023,
}

impl Edition {
    pub(crate) fn parse(s: &str) -> Result<Edition> {
        match s {
            "2021" => Ok(Edition::E2021),
            "2023" => Ok(Edition::E2023),
            other => Err(Error::invalid(
                "--edition",
                format!(
                    "`{other}`: the importer reads the 2021 and 2023 editions; write 2021 or 2023"
                ),
            )),
        }
    }
    /// (value-added row, output row, total column)
    fn labels(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Edition::E2021 => ("VALU", "OUTPUT", "TOTAL"),
            Edition::E2023 => ("VA", "OUT", "OUT"),
        }
    }
}

/// Final-demand categories (column suffixes).
pub(crate) const FINAL_DEMAND: [&str; 6] = ["HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "DPABR"];

/// The economy of an ICIO label: CN1/CN2 → CHN, MX1/MX2 → MEX.
fn economy(code: &str) -> &str {
    match code {
        "CN1" | "CN2" => "CHN",
        "MX1" | "MX2" => "MEX",
        c => c,
    }
}

/// China and Mexico stand in the published tables twice: whole (`CHN_…`, `MEX_…`) and split
/// by processing trade (`CN1_…`, `CN2_…`, `MX1_…`, `MX2_…`), the whole rows empty (OECD ICIO
/// ReadMe; third-party readers sum the split rows and find the whole ones empty). The importer
/// sums all of them into one economy, which is right only while one of the two forms is empty:
/// this remembers the first non-zero row of each form, and a table with both is refused.
#[derive(Debug, Default)]
struct SplitEconomies {
    /// For CHN and MEX: the first non-zero whole row and the first non-zero split row
    /// (label, line).
    first: [[Option<(String, usize)>; 2]; 2],
}

impl SplitEconomies {
    /// Records an industry row of economy code `code` (as labelled) that holds a non-zero
    /// value; an error when the economy's other form has one too.
    fn see(&mut self, code: &str, label: &str, path: &Path, line: usize) -> Result<()> {
        let (e, form) = match code {
            "CHN" => (0, 0),
            "CN1" | "CN2" => (0, 1),
            "MEX" => (1, 0),
            "MX1" | "MX2" => (1, 1),
            _ => return Ok(()),
        };
        let slot = &mut self.first[e];
        if slot[form].is_none() {
            slot[form] = Some((label.to_string(), line));
        }
        if let [Some((whole, at_whole)), Some((part, at_part))] = slot {
            let (name, whole_code, parts) = if e == 0 {
                ("China", "CHN", "CN1 and CN2")
            } else {
                ("Mexico", "MEX", "MX1 and MX2")
            };
            return Err(Error::data(path, line, format!(
                "{name} has sales both in the whole-economy rows (`{whole}`, row {at_whole}) and in the rows split by processing trade (`{part}`, row {at_part}); the importer sums {parts} into {whole_code}, so both forms would count {name} twice (the published tables leave the {whole_code} rows empty); remove the {whole_code} rows and columns, or those of {parts}, and run again"
            )));
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Col {
    Industry { region: usize, sector: usize },
    Final { region: usize },
    Total,
}

/// What to import.
pub(crate) struct IcioOptions<'a> {
    pub data: &'a Path,
    pub edition: Edition,
    pub sectors: &'a [SectorDef],
    pub industries: &'a SectorMap,
    pub regions: &'a RegionMap,
}

fn split(label: &str) -> Option<(&str, &str)> {
    label.split_once('_')
}

/// The two ways a table writes taxes less subsidies on products: one row `TLS`, or one row
/// `CCC_TAXSUB` per economy (summed per column). A table with both would count them twice.
#[derive(Debug, Default)]
struct TaxRows {
    /// The first `TLS` row's line, and the first `CCC_TAXSUB` row's (label, line).
    single: Option<usize>,
    per_economy: Option<(String, usize)>,
    count: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaxForm {
    Single,
    PerEconomy,
}

impl TaxRows {
    /// The form of a tax row label, or `None` for any other row.
    fn form(label: &str) -> Option<TaxForm> {
        match split(label) {
            _ if label == "TLS" => Some(TaxForm::Single),
            Some((_, "TAXSUB")) => Some(TaxForm::PerEconomy),
            _ => None,
        }
    }
    /// Records a tax row; a table with both forms is an error naming both rows.
    fn see(&mut self, form: TaxForm, label: &str, path: &Path, line: usize) -> Result<()> {
        self.count += 1;
        match form {
            TaxForm::Single => self.single = self.single.or(Some(line)),
            TaxForm::PerEconomy if self.per_economy.is_none() => {
                self.per_economy = Some((label.to_string(), line));
            }
            TaxForm::PerEconomy => {}
        }
        if let (Some(single), Some((first, at))) = (self.single, &self.per_economy) {
            return Err(Error::data(path, line, format!(
                "the table has a `TLS` row (row {single}) and per-economy `CCC_TAXSUB` rows (`{first}`, row {at}): the taxes on products would count twice; the published tables have one form, so re-download the table"
            )));
        }
        Ok(())
    }
    /// What the provenance says about the taxes read.
    fn describe(&self) -> String {
        match self.per_economy {
            Some(_) => format!("the sum of the {} CCC_TAXSUB rows", self.count),
            None => "the TLS row".into(),
        }
    }
}

/// Streams the table row by row (memory: the output's size plus one row).
pub(crate) fn import(o: &IcioOptions, progress: &dyn Fn(u64)) -> Result<BaselineTables> {
    let (va_row, out_row, total_col) = o.edition.labels();
    let mut s = Stream::open(o.data, progress)?;
    let path = s.path.clone();
    let expected = format!(
        "an OECD ICIO {} edition table: row labels in the first column, columns CCC_IND (industries), CCC_HFCE, CCC_NPISH, CCC_GGFC, CCC_GFCF, CCC_INVNT, CCC_DPABR and {total_col}; rows CCC_IND, then TLS or one CCC_TAXSUB per economy, {va_row}, {out_row}",
        if o.edition == Edition::E2021 { "2021" } else { "2023" }
    );
    if !s.header.iter().any(|h| h == total_col) {
        return Err(Error::data(&path, 1, format!("no column `{total_col}`: this is not {expected} (the 2021 edition totals in TOTAL, the 2023 edition in OUT; check --edition)")));
    }
    let (nr, jj) = (o.regions.len(), o.sectors.len());
    let mut cols: Vec<Option<Col>> = vec![None];
    let mut column_industries = std::collections::HashSet::new();
    for (c, h) in s.header.iter().enumerate().skip(1) {
        let col = if h == total_col {
            Col::Total
        } else {
            let (e, rest) = split(h).ok_or_else(|| {
                Error::data(&path, 1, format!("column {} `{h}` is neither CCC_IND, a final-demand column nor {total_col}: this is not {expected}", c + 1))
            })?;
            let region = o.regions.get(economy(e));
            if FINAL_DEMAND.contains(&rest) {
                Col::Final { region }
            } else {
                let sector = o
                    .industries
                    .get(rest)
                    .ok_or_else(|| o.industries.unmapped(&path, 1, rest))?;
                column_industries.insert(rest.to_string());
                Col::Industry { region, sector }
            }
        };
        cols.push(Some(col));
    }
    let mut economies: Vec<&str> = s.header[1..]
        .iter()
        .filter_map(|h| split(h).map(|(e, _)| economy(e)))
        .collect();
    economies.sort_unstable();
    economies.dedup();
    let unnamed: Vec<(&str, &str)> = economies.iter().map(|e| (*e, "")).collect();
    o.regions.check_economies(&unnamed, &path)?;
    o.regions.check_filled(&economies, &path)?;
    let mut flows = Flows::new(jj, nr);
    // inputs[(n*J + j)*J + k]: n's sector j buys sector k; va[n*J + j]; output by region, sector
    let mut inputs = vec![0.0; nr * jj * jj];
    let mut va = vec![0.0; nr * jj];
    let mut tls = vec![0.0; nr * jj];
    let mut output_row = vec![0.0; nr * jj];
    let mut output_col = vec![0.0; nr * jj];
    let mut final_demand = vec![0.0; nr * jj];
    let mut seen_labels = std::collections::HashSet::new();
    let mut special = [false; 3];
    let mut taxes = TaxRows::default();
    let mut split_economies = SplitEconomies::default();
    let mut rec = csv::StringRecord::new();
    while let Some(line) = s.next(&mut rec)? {
        let label = rec[0].to_string();
        if !seen_labels.insert(label.clone()) {
            return Err(Error::data(
                &path,
                line,
                format!("row `{label}` appears twice; the table has one row per label"),
            ));
        }
        let kind = if let Some(form) = TaxRows::form(&label) {
            taxes.see(form, &label, &path, line)?;
            special[0] = true;
            Some(0)
        } else if label == va_row {
            special[1] = true;
            Some(1)
        } else if label == out_row {
            special[2] = true;
            Some(2)
        } else {
            None
        };
        let values = |c: usize| -> Result<f64> {
            let t = &rec[c];
            if t.is_empty() {
                return Err(Error::data(
                    &path,
                    line,
                    format!(
                        "column `{}` is empty; the published table has a number in every cell",
                        s.header[c]
                    ),
                ));
            }
            Ok(number(&path, line, &s.header[c], t)? * 1e6)
        };
        match kind {
            Some(k) => {
                for (c, col) in cols.iter().enumerate() {
                    if let Some(Col::Industry { region, sector }) = col {
                        let v = values(c)?;
                        let target = match k {
                            0 => &mut tls,
                            1 => &mut va,
                            _ => &mut output_col,
                        };
                        target[region * jj + sector] += v;
                    }
                }
            }
            None => {
                let not_a_row = || {
                    Error::data(&path, line, format!("row `{label}` is neither CCC_IND (an industry of the columns) nor TLS, CCC_TAXSUB, {va_row}, {out_row}: this is not {expected} (check --edition and that the file is the published table)"))
                };
                let (e, ind) = split(&label).ok_or_else(not_a_row)?;
                if !column_industries.contains(ind) {
                    return Err(not_a_row());
                }
                let from = o.regions.get(economy(e));
                let j = o
                    .industries
                    .get(ind)
                    .ok_or_else(|| o.industries.unmapped(&path, line, ind))?;
                let mut sells = false;
                for (c, col) in cols.iter().enumerate() {
                    match col {
                        Some(Col::Industry { region, sector }) => {
                            let v = values(c)?;
                            sells |= v != 0.0;
                            flows.add(j, from, *region, v);
                            inputs[(region * jj + sector) * jj + j] += v;
                        }
                        Some(Col::Final { region }) => {
                            let v = values(c)?;
                            sells |= v != 0.0;
                            flows.add(j, from, *region, v);
                            final_demand[region * jj + j] += v;
                        }
                        Some(Col::Total) => output_row[from * jj + j] += values(c)?,
                        None => {}
                    }
                }
                if sells {
                    split_economies.see(e, &label, &path, line)?;
                }
            }
        }
    }
    for (k, name) in ["TLS` or `CCC_TAXSUB", va_row, out_row].iter().enumerate() {
        if !special[k] {
            return Err(Error::invalid(
                path.display().to_string(),
                format!("no row `{name}`: this is not {expected} (check --edition)"),
            ));
        }
    }
    // checks: sales = output (rows), inputs + TLS + VA = output (columns)
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-4 * a.abs().max(b.abs()) + 1e6;
    for n in 0..nr {
        for j in 0..jj {
            let sales: f64 = (0..nr).map(|m| flows.get(j, n, m)).sum();
            let out = output_row[n * jj + j];
            if !close(sales, out) {
                return Err(Error::invalid(path.display().to_string(), format!(
                    "{} {}: the rows sell {sales:.6e} US$ but their {total_col} column says {out:.6e}; the table is not the published one (or was edited): re-download it",
                    o.regions.regions[n], o.sectors[j].code)));
            }
            let costs: f64 = (0..jj).map(|k| inputs[(n * jj + j) * jj + k]).sum::<f64>()
                + tls[n * jj + j]
                + va[n * jj + j];
            let out_c = output_col[n * jj + j];
            if !close(costs, out_c) || !close(out_c, out) {
                return Err(Error::invalid(path.display().to_string(), format!(
                    "{} {}: inputs + TLS + {va_row} = {costs:.6e} US$, {out_row} row {out_c:.6e}, {total_col} column {out:.6e}; they must agree: re-download the table",
                    o.regions.regions[n], o.sectors[j].code)));
            }
            for m in 0..nr {
                let v = flows.get(j, n, m);
                if v < 0.0 {
                    return Err(Error::invalid(path.display().to_string(), format!(
                        "sales of {} {} to {} are negative ({v:.6e} US$: inventory changes exceed the other uses); map the economy or the sector differently so that every aggregated flow is non-negative",
                        o.regions.regions[n], o.sectors[j].code, o.regions.regions[m])));
                }
            }
        }
    }
    // shares
    let mut io = vec![0.0; nr * jj * jj];
    let mut va_share = vec![0.0; nr * jj];
    for n in 0..nr {
        for j in 0..jj {
            let out = output_row[n * jj + j];
            if out <= 0.0 {
                return Err(Error::invalid(path.display().to_string(), format!(
                    "{} has no output in sector {}; every region needs output in every sector (map its industries to other sectors or merge the region)",
                    o.regions.regions[n], o.sectors[j].code)));
            }
            for k in 0..jj {
                io[(n * jj + j) * jj + k] = inputs[(n * jj + j) * jj + k] / out;
            }
            let used: f64 = (0..jj).map(|k| io[(n * jj + j) * jj + k]).sum();
            va_share[n * jj + j] = 1.0 - used;
            if va_share[n * jj + j] < 0.0 {
                return Err(Error::invalid(
                    path.display().to_string(),
                    format!(
                        "{} {}: inputs exceed output; value added would be negative",
                        o.regions.regions[n], o.sectors[j].code
                    ),
                ));
            }
        }
    }
    let mut alpha = vec![0.0; nr * jj];
    for n in 0..nr {
        let total: f64 = final_demand[n * jj..(n + 1) * jj].iter().sum();
        for j in 0..jj {
            let a = final_demand[n * jj + j] / total;
            if !(a >= 0.0) {
                return Err(Error::invalid(path.display().to_string(), format!("{}'s final demand for sector {} is negative (inventories); aggregate it with others", o.regions.regions[n], o.sectors[j].code)));
            }
            alpha[n * jj + j] = a;
        }
    }
    let notes = vec![
        format!("OECD ICIO {} edition: values in million US$ × 10^6", if o.edition == Edition::E2021 { "2021" } else { "2023" }),
        format!("industry → sector: {}", o.industries.path.display()),
        format!("economy → region: {} (economies not listed: ROW); CN1/CN2 → CHN, MX1/MX2 → MEX", o.regions.path.display()),
        "flows: sales to industries and to final demand (HFCE, NPISH, GGFC, GFCF, INVNT, DPABR); sales within a region are its domestic sales".into(),
        format!("io.csv: purchases of each sector's goods over output; VA share = 1 − inputs (value added plus the net taxes on the products used: {})", taxes.describe()),
        "final_demand.csv: each sector's share of the region's final demand".into(),
        "tariffs: 0 unless --tariffs gives sector rates (tradesim data import wits)".into(),
    ];
    Ok(BaselineTables {
        regions: o.regions.regions.clone(),
        region_names: o.regions.names.clone(),
        sectors: o.sectors.to_vec(),
        non_traded: vec![false; jj],
        flows,
        io: Some((io, va_share)),
        final_demand: Some(alpha),
        not_goods: None,
        provenance: provenance(
            "Baseline imported from the OECD ICIO tables",
            &[("ICIO table", o.data)],
            &notes,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The split rows alone, or the whole rows alone, are read; both with sales are refused,
    /// naming the first row of each; China and Mexico are judged apart.
    #[test]
    fn an_economy_with_sales_in_both_forms_is_refused() {
        let p = Path::new("t.csv");
        let mut s = SplitEconomies::default();
        s.see("CN1", "CN1_01T02", p, 10).unwrap();
        s.see("CN2", "CN2_01T02", p, 11).unwrap();
        s.see("MEX", "MEX_01T02", p, 12).unwrap();
        s.see("JPN", "JPN_01T02", p, 13).unwrap();
        let e = s.see("CHN", "CHN_05T06", p, 14).unwrap_err().to_string();
        assert!(
            e.contains("row 14")
                && e.contains("`CHN_05T06`, row 14")
                && e.contains("`CN1_01T02`, row 10")
                && e.contains("count China twice")
                && e.contains("remove the CHN rows and columns, or those of CN1 and CN2"),
            "{e}"
        );
        let mut s = SplitEconomies::default();
        s.see("MEX", "MEX_01T02", p, 2).unwrap();
        let e = s.see("MX2", "MX2_01T02", p, 3).unwrap_err().to_string();
        assert!(e.contains("Mexico") && e.contains("MX1 and MX2"), "{e}");
    }
}
