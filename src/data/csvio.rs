//! Small helpers for reading headed CSV files with row numbers in every error.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A CSV file read whole: header and records, with 1-based line numbers (header = line 1).
pub struct Table {
    pub path: PathBuf,
    header: Vec<String>,
    pub rows: Vec<(usize, csv::StringRecord)>,
}

impl Table {
    pub fn read(path: &Path) -> Result<Table> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        // Line numbers from byte offsets: the csv crate's own count is one short on CRLF files.
        let newlines: Vec<usize> = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(k, _)| k)
            .collect();
        // On CRLF files the crate puts a record's start on the `\n` that ends the line before it.
        let line_of = |byte: u64| newlines.partition_point(|&k| (k as u64) <= byte) + 1;
        // Headers are trimmed here, fields where they are read ([`Table::text`]): the crate's
        // field trimming copies every record twice.
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::Headers)
            .from_reader(bytes.as_slice());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| csv_error(path, e, &line_of))?
            .iter()
            .map(|s| s.trim_start_matches('\u{feff}').to_string())
            .collect();
        let mut rows = Vec::new();
        // One record read into again and again, each row kept as an exact-size copy (a fresh
        // record per row would grow its buffers step by step).
        let mut rec = csv::StringRecord::new();
        while rdr
            .read_record(&mut rec)
            .map_err(|e| csv_error(path, e, &line_of))?
        {
            let line = rec.position().map(|p| line_of(p.byte())).unwrap_or(0);
            rows.push((line, rec.clone()));
        }
        Ok(Table {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    /// The index of a required column.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            Error::data(
                &self.path,
                1,
                format!(
                    "the header has no column `{name}` (columns: {}); add it",
                    self.header.join(", ")
                ),
            )
        })
    }

    /// Refuse a header column that is not one of `known` but close to one (a misspelling,
    /// such as `valu_added`): an optional column that is misspelt is silently not read.
    /// Columns far from every known name are left alone (notes for readers).
    pub fn check_column_spelling(&self, known: &[&str]) -> Result<()> {
        for h in self.header.iter().filter(|h| !known.contains(&h.as_str())) {
            if let Some(near) = crate::error::misspelling_of(h, known.iter().copied()) {
                return Err(Error::data(
                    &self.path,
                    1,
                    format!("column `{h}` is not one tradesim reads; did you mean `{near}`? Rename it (a column tradesim does not read is ignored, so a misspelt optional column changes results silently)"),
                ));
            }
        }
        Ok(())
    }

    /// The index of an optional column.
    pub fn optional_column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The field in column `col` of `row`, without leading and trailing whitespace.
    pub fn text<'a>(&self, row: &'a (usize, csv::StringRecord), col: usize) -> Result<&'a str> {
        row.1.get(col).map(str::trim).ok_or_else(|| {
            Error::data(
                &self.path,
                row.0,
                "the row has fewer fields than the header",
            )
        })
    }

    /// A finite number in column `col` of `row`, named `what` in the error.
    pub fn number(&self, row: &(usize, csv::StringRecord), col: usize, what: &str) -> Result<f64> {
        let s = self.text(row, col)?;
        let v: f64 = s.parse().map_err(|_| {
            Error::data(
                &self.path,
                row.0,
                format!("{what} `{s}` is not a number; write a decimal number such as 0.05"),
            )
        })?;
        if !v.is_finite() {
            return Err(Error::data(
                &self.path,
                row.0,
                format!("{what} is {s}; NaN and infinity are not allowed"),
            ));
        }
        Ok(v)
    }

    pub fn non_negative(
        &self,
        row: &(usize, csv::StringRecord),
        col: usize,
        what: &str,
    ) -> Result<f64> {
        let v = self.number(row, col, what)?;
        if v < 0.0 {
            return Err(Error::data(
                &self.path,
                row.0,
                format!("{what} is {v}; it must not be negative"),
            ));
        }
        Ok(v)
    }
}

fn csv_error(path: &Path, e: csv::Error, line_of: &dyn Fn(u64) -> usize) -> Error {
    let row = e.position().map(|p| line_of(p.byte())).unwrap_or(0);
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        csv::ErrorKind::Utf8 { err, .. } => {
            Error::data(path, row, format!("the row is not valid UTF-8 ({err}); save the file as UTF-8"))
        }
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => Error::data(
            path,
            row,
            format!("the row has {len} fields but the header has {expected_len}; every row needs one value per column"),
        ),
        kind => Error::data(path, row, format!("malformed CSV: {kind:?}")),
    }
}
