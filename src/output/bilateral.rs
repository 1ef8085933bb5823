//! `bilateral.csv` of a multi-sector run: one row per year, sector `j`, importer `n` and
//! exporter `i` with a flow `X_ni^j` in the comparison or in the year (MODEL.md §1, flows at
//! factory prices), held as the flow arrays the rows are read from rather than as a row of owned
//! strings per cell (855,000 rows at 150 economies × 20 sectors).
//!
//! [`BilateralTable::csv`] writes the rows straight from the arrays, sector by sector on all
//! cores (each block formatted by one thread and joined in order, so the bytes do not depend on
//! the thread count), with the same bytes serde's CSV serialisation of [`BilateralRow`] gives:
//! text fields quoted only where the csv crate would quote them, numbers in ryu's shortest
//! round-trip form ([`write_shortest`]). [`BilateralTable::rows`] gives the rows as borrowed [`BilateralView`]s for
//! the report, the batch files and JSON.

use super::{pct, BilateralRow};
use crate::data::Cube;
use crate::error::{Error, Result};
use serde::Serialize;
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

/// One year of the table: the flows compared (`value_base`) and the year's (`value`).
#[derive(Debug, Clone)]
pub(crate) struct BilateralYear {
    pub year: i32,
    pub draw: u32,
    /// `X_ni^j` of the comparison: the solved base year, or the reference path's same year.
    pub base: Cube,
    /// `X_ni^j` of the year.
    pub value: Cube,
}

/// The labels every row of the arrays shares.
#[derive(Debug, Clone, Default)]
pub(crate) struct BilateralLabels {
    pub scenario: String,
    /// `base_year` or `reference` (see [`super::EconomyRow::compared_with`]).
    pub compared_with: String,
    /// Economy codes by index (exporters and importers).
    pub economies: Vec<String>,
    /// Sector codes by index.
    pub sectors: Vec<String>,
}

/// The rows of `bilateral.csv`: rows held one by one (the one-sector model's common tables,
/// built with `collect`), then the rows of the flow arrays of each year, in the order
/// year, sector, importer, exporter, leaving out cells with no flow in either.
#[derive(Debug, Clone, Default)]
pub struct BilateralTable {
    rows: Vec<BilateralRow>,
    labels: BilateralLabels,
    years: Vec<BilateralYear>,
}

/// One row of `bilateral.csv`, borrowed: the fields of [`BilateralRow`], in its order, so it
/// serialises to the same CSV and JSON.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BilateralView<'a> {
    /// [`BilateralRow::scenario`]: the scenario's name.
    pub scenario: &'a str,
    /// [`BilateralRow::year`]: calendar year.
    pub year: i32,
    /// [`BilateralRow::draw`]: 0 for the central run, 1, 2, … for Monte Carlo draws.
    pub draw: u32,
    /// [`BilateralRow::exporter`]: economy code of the origin `i`.
    pub exporter: &'a str,
    /// [`BilateralRow::importer`]: economy code of the destination `n`.
    pub importer: &'a str,
    /// [`BilateralRow::sector`]: sector code of the baseline.
    pub sector: &'a str,
    /// [`BilateralRow::value_base`]: money, the flow `M_ni^j` at factory prices in the
    /// comparison.
    pub value_base: f64,
    /// [`BilateralRow::value`]: money, the flow `M_ni^j` at factory prices in the year.
    pub value: f64,
    /// [`BilateralRow::change_pct`]: percent change of the flow.
    pub change_pct: f64,
    /// [`BilateralRow::compared_with`]: `base_year` or `reference`.
    pub compared_with: &'a str,
}

impl BilateralView<'_> {
    /// The row with owned strings.
    pub(crate) fn to_row(self) -> BilateralRow {
        BilateralRow {
            scenario: self.scenario.to_string(),
            year: self.year,
            draw: self.draw,
            exporter: self.exporter.to_string(),
            importer: self.importer.to_string(),
            sector: self.sector.to_string(),
            value_base: self.value_base,
            value: self.value,
            change_pct: self.change_pct,
            compared_with: self.compared_with.to_string(),
        }
    }
}

impl<'a> From<&'a BilateralRow> for BilateralView<'a> {
    fn from(r: &'a BilateralRow) -> Self {
        BilateralView {
            scenario: &r.scenario,
            year: r.year,
            draw: r.draw,
            exporter: &r.exporter,
            importer: &r.importer,
            sector: &r.sector,
            value_base: r.value_base,
            value: r.value,
            change_pct: r.change_pct,
            compared_with: &r.compared_with,
        }
    }
}

impl FromIterator<BilateralRow> for BilateralTable {
    fn from_iter<I: IntoIterator<Item = BilateralRow>>(rows: I) -> Self {
        BilateralTable {
            rows: rows.into_iter().collect(),
            ..BilateralTable::default()
        }
    }
}

/// Whether cell `(j, n, i)` has a row: a flow in the comparison or in the year.
#[inline]
fn has_row(v0: f64, v1: f64) -> bool {
    !(v0 == 0.0 && v1 == 0.0)
}

impl BilateralTable {
    /// An empty table whose years will be labelled with `labels`.
    pub(crate) fn of_flows(labels: BilateralLabels) -> Self {
        BilateralTable {
            labels,
            ..BilateralTable::default()
        }
    }

    /// Add a year's rows (after those already held).
    pub(crate) fn push_year(&mut self, year: BilateralYear) {
        self.years.push(year);
    }

    /// Every row, in file order.
    pub(crate) fn rows(&self) -> impl Iterator<Item = BilateralView<'_>> + '_ {
        self.rows
            .iter()
            .map(BilateralView::from)
            .chain(self.years.iter().flat_map(move |y| self.year_rows(y)))
    }

    /// The rows of one year of the arrays.
    fn year_rows<'a>(&'a self, y: &'a BilateralYear) -> impl Iterator<Item = BilateralView<'a>> {
        let l = &self.labels;
        let nn = y.base.economies;
        y.base
            .data
            .iter()
            .zip(&y.value.data)
            .enumerate()
            .filter(|(_, (v0, v1))| has_row(**v0, **v1))
            .map(move |(k, (&v0, &v1))| {
                let (j, n, i) = (k / (nn * nn), (k / nn) % nn, k % nn);
                BilateralView {
                    scenario: &l.scenario,
                    year: y.year,
                    draw: y.draw,
                    exporter: &l.economies[i],
                    importer: &l.economies[n],
                    sector: &l.sectors[j],
                    value_base: v0,
                    value: v1,
                    change_pct: pct(v1, v0),
                    compared_with: &l.compared_with,
                }
            })
    }

    /// [`super::finite::check_rows`] for this table: the first row with a NaN or infinity, by
    /// its 1-based row number.
    pub(crate) fn check_finite(&self) -> Result<()> {
        let finite = |r: &BilateralView| {
            r.value_base.is_finite() && r.value.is_finite() && r.change_pct.is_finite()
        };
        match self.rows().enumerate().find(|(_, r)| !finite(r)) {
            Some((k, r)) => super::finite::check_row("bilateral.csv", k + 1, &r),
            None => Ok(()),
        }
    }

    /// The table as CSV bytes: the header, the rows held one by one (serde, as
    /// [`super::to_csv`]), then the arrays' rows written field by field in blocks of one year
    /// and sector, formatted on all cores and joined in order (the tests' view of
    /// [`BilateralTable::write_csv`]).
    #[cfg(test)]
    pub(crate) fn csv(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_csv(&mut out, Path::new("bilateral.csv"))?;
        Ok(out)
    }

    /// [`BilateralTable::csv`]'s bytes written to `out` as its blocks of one year and sector
    /// are formatted ([`super::write_csv_blocks`]), never held whole in memory (86 MB at
    /// 150 economies × 20 sectors); `path` names `out` in a write error.
    pub(crate) fn write_csv<W: Write + Send>(&self, out: &mut W, path: &Path) -> Result<()> {
        let on_io = |e| Error::io(path, e);
        let head = if self.rows.is_empty() {
            super::to_csv::<BilateralRow>(&[])?
        } else {
            super::to_csv(&self.rows)?
        };
        out.write_all(&head).map_err(on_io)?;
        let l = &self.labels;
        let economies: Vec<Cow<str>> = l.economies.iter().map(|c| csv_field(c)).collect();
        let sectors: Vec<Cow<str>> = l.sectors.iter().map(|c| csv_field(c)).collect();
        let scenario = csv_field(&l.scenario);
        let compared_with = csv_field(&l.compared_with);
        let jj = l.sectors.len();
        let block = |block: usize, out: &mut Vec<u8>| -> Result<()> {
            let (y, j) = (&self.years[block / jj], block % jj);
            let nn = y.base.economies;
            let prefix = format!("{scenario},{},{},", y.year, y.draw);
            let (base, value) = (y.base.sector(j), y.value.sector(j));
            out.reserve(nn * nn * 80);
            let mut digits = zmij::Buffer::new();
            for n in 0..nn {
                for i in 0..nn {
                    let (v0, v1) = (base[n * nn + i], value[n * nn + i]);
                    if !has_row(v0, v1) {
                        continue;
                    }
                    out.extend_from_slice(prefix.as_bytes());
                    for text in [&economies[i], &economies[n], &sectors[j]] {
                        out.extend_from_slice(text.as_bytes());
                        out.push(b',');
                    }
                    for v in [v0, v1, pct(v1, v0)] {
                        if !v.is_finite() {
                            return Err(Error::invalid(
                                "bilateral.csv",
                                "a non-finite number reached the writer; check the table first (BilateralTable::check_finite)",
                            ));
                        }
                        write_shortest(out, &mut digits, v);
                        out.push(b',');
                    }
                    out.extend_from_slice(compared_with.as_bytes());
                    out.push(b'\n');
                }
            }
            Ok(())
        };
        super::write_csv_blocks(out, self.years.len() * jj, block, on_io)
    }
}

/// Append finite `v` in ryu's shortest round-trip form, the bytes the csv crate writes for an
/// `f64` (`97819.41312873957`, `0.0`, `1e-7`, `1e21`): zmij's digits, the same shortest
/// digits in the same layout at about twice ryu's speed, with the `+` zmij writes in a
/// positive exponent (`1e+21`) left out, as ryu leaves it out. A positive exponent is written
/// only from 1e16 up, so smaller numbers are not searched. A unit test compares the two.
#[inline]
fn write_shortest(out: &mut Vec<u8>, digits: &mut zmij::Buffer, v: f64) {
    let text = digits.format_finite(v).as_bytes();
    let plus = if v.abs() >= 1e15 {
        text.iter().position(|&b| b == b'+')
    } else {
        None
    };
    match plus {
        Some(plus) => {
            out.extend_from_slice(&text[..plus]);
            out.extend_from_slice(&text[plus + 1..]);
        }
        None => out.extend_from_slice(text),
    }
}

/// A text field as the csv crate writes it inside a record of several fields (its default
/// `QuoteStyle::Necessary`): in double quotes, with inner quotes doubled, when it holds the
/// delimiter, a quote, `\r` or `\n`; as it is otherwise.
pub(crate) fn csv_field(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(
        rows: Vec<BilateralRow>,
        labels: BilateralLabels,
        years: Vec<BilateralYear>,
    ) -> BilateralTable {
        let mut t: BilateralTable = rows.into_iter().collect();
        t.labels = labels;
        t.years = years;
        t
    }

    fn awkward() -> (BilateralLabels, Vec<BilateralYear>) {
        let labels = BilateralLabels {
            scenario: "a, \"quoted\" scenario".into(),
            compared_with: "base_year".into(),
            economies: vec!["AUS".into(), "C,D".into(), "E\"F".into()],
            sectors: vec!["AGR".into(), "MAN\nX".into()],
        };
        let mut base = Cube::zeros(2, 3);
        let mut value = Cube::zeros(2, 3);
        let numbers = [1e-7, 1.0, 123456.789, 1e21, 0.1, 2.5e-300, 7.0, 1e16];
        for (k, (b, v)) in base.data.iter_mut().zip(value.data.iter_mut()).enumerate() {
            if k % 5 != 3 {
                *b = numbers[k % numbers.len()];
                *v = numbers[(k + 3) % numbers.len()] * 1.25;
            }
        }
        let years = vec![
            BilateralYear {
                year: 2015,
                draw: 0,
                base: base.clone(),
                value: value.clone(),
            },
            BilateralYear {
                year: 2020,
                draw: 3,
                base,
                value,
            },
        ];
        (labels, years)
    }

    #[test]
    fn the_arrays_are_written_as_serde_writes_the_rows() {
        let (labels, years) = awkward();
        let t = table(Vec::new(), labels, years);
        let rows: Vec<BilateralRow> = t.rows().map(|r| r.to_row()).collect();
        assert_eq!(rows.len(), 2 * (18 - 3));
        assert_eq!(t.csv().unwrap(), super::super::to_csv(&rows).unwrap());
        let json = serde_json::to_vec(&t.rows().collect::<Vec<_>>()).unwrap();
        assert_eq!(json, super::super::to_json(&rows).unwrap());
    }

    /// `write_shortest` writes ryu's bytes: at every power of ten and its neighbours, across
    /// the thresholds of the exponent form, and for random bit patterns and decimals.
    #[test]
    fn numbers_are_written_as_ryu_writes_them() {
        let mut values = vec![
            0.0,
            -0.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            1e15,
            1e16,
            1e21,
        ];
        for e in -325..=308 {
            for m in [1.0, 1.5, 2.0, 9.999999999999999, 1.2345678901234567] {
                let v = m * 10f64.powi(e);
                values.extend([v, -v, f64::from_bits(v.to_bits() + 1)]);
                values.push(f64::from_bits(v.to_bits().saturating_sub(1)));
            }
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for k in 0..200_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(f64::from_bits(x));
            values.push((x % 1_000_000_000_000) as f64 / 10f64.powi((k % 24) as i32));
        }
        let (mut ryu, mut digits) = (ryu::Buffer::new(), zmij::Buffer::new());
        for v in values.into_iter().filter(|v| v.is_finite()) {
            let mut out = Vec::new();
            write_shortest(&mut out, &mut digits, v);
            assert_eq!(out, ryu.format_finite(v).as_bytes(), "{v:e}");
        }
    }

    #[test]
    fn rows_held_one_by_one_come_first() {
        let (labels, years) = awkward();
        let one = BilateralRow {
            scenario: "s".into(),
            year: 2014,
            exporter: "X".into(),
            importer: "Y".into(),
            sector: "all".into(),
            value_base: 2.0,
            value: 3.0,
            change_pct: 50.0,
            ..BilateralRow::default()
        };
        let t = table(vec![one.clone()], labels, years);
        let rows: Vec<BilateralRow> = t.rows().map(|r| r.to_row()).collect();
        assert_eq!(rows[0].exporter, one.exporter);
        assert_eq!(t.csv().unwrap(), super::super::to_csv(&rows).unwrap());
        let empty = BilateralTable::default();
        assert!(empty.rows().next().is_none());
        assert_eq!(
            empty.csv().unwrap(),
            super::super::to_csv::<BilateralRow>(&[]).unwrap()
        );
    }

    #[test]
    fn a_non_finite_change_is_refused_with_its_row() {
        let (labels, mut years) = awkward();
        // A flow from nothing: the percent change is infinite.
        years[1].base.data[4] = 0.0;
        years[1].value.data[4] = 2.0;
        let t = table(Vec::new(), labels, years);
        let rows: Vec<BilateralRow> = t.rows().map(|r| r.to_row()).collect();
        let expected = super::super::finite::check_rows("bilateral.csv", &rows)
            .unwrap_err()
            .to_string();
        assert_eq!(t.check_finite().unwrap_err().to_string(), expected);
        assert!(t.csv().is_err());
    }
}
