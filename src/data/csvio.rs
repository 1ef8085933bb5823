//! Small helpers for reading headed CSV files with row numbers in every error.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A CSV file read whole: header and records, with 1-based line numbers (header = line 1).
pub(crate) struct Table {
    pub path: PathBuf,
    header: Vec<String>,
    pub rows: Vec<Row>,
}

/// One record of a [`Table`]: its 1-based line number and its fields.
pub(crate) type Row = (usize, csv::StringRecord);

/// The records of a CSV file, read one at a time into a caller's [`Row`] (no copy per record):
/// for large files such as `flows.csv`, whose rows are used once.
pub(crate) struct Records {
    path: PathBuf,
    rdr: csv::Reader<std::io::Cursor<Vec<u8>>>,
    /// Line counting: the byte offset counted up to and the newlines before it.
    counted: usize,
    newlines: usize,
}

impl Records {
    /// Read the next record into `row`; `false` at the end of the file.
    pub(crate) fn next(&mut self, row: &mut Row) -> Result<bool> {
        match self.rdr.read_record(&mut row.1) {
            Ok(true) => {
                row.0 = row.1.position().map_or(0, |p| self.line_of(p.byte()));
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => {
                let at = e.position().map(|p| p.byte());
                let line = at.map_or(0, |b| self.line_of(b));
                Err(csv_error(&self.path, e, line))
            }
        }
    }

    /// The 1-based line of byte offset `byte`, from the newlines before it (the csv crate's own
    /// count is one short on CRLF files, where it puts a record's start on the `\n` that ends
    /// the line before it). Offsets only grow, so each byte is counted once.
    fn line_of(&mut self, byte: u64) -> usize {
        let bytes = self.rdr.get_ref().get_ref();
        let upto = (byte as usize + 1).min(bytes.len());
        let newlines = |range: &[u8]| range.iter().filter(|&&b| b == b'\n').count();
        if upto < self.counted {
            return newlines(&bytes[..upto]) + 1;
        }
        self.newlines += newlines(&bytes[self.counted..upto]);
        self.counted = upto;
        self.newlines + 1
    }
}

impl Table {
    /// Read a CSV file whole: its header and every record.
    pub(crate) fn read(path: &Path) -> Result<Table> {
        let (mut t, mut records) = Table::stream(path)?;
        // One record read into again and again, each row kept as an exact-size copy (a fresh
        // record per row would grow its buffers step by step).
        let mut row: Row = (0, csv::StringRecord::new());
        while records.next(&mut row)? {
            t.rows.push(row.clone());
        }
        Ok(t)
    }

    /// Read a CSV file's header, and return its records to read one at a time ([`Records`]);
    /// the table's `rows` are empty.
    pub(crate) fn stream(path: &Path) -> Result<(Table, Records)> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        // Headers are trimmed here, fields where they are read ([`Table::text`]): the crate's
        // field trimming copies every record twice.
        let rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::Headers)
            .from_reader(std::io::Cursor::new(bytes));
        let mut records = Records {
            path: path.to_path_buf(),
            rdr,
            counted: 0,
            newlines: 0,
        };
        let header: Vec<String> = match records.rdr.headers() {
            Ok(h) => h
                .iter()
                .map(|s| s.trim_start_matches('\u{feff}').to_string())
                .collect(),
            Err(e) => {
                let line = e.position().map_or(0, |p| records.line_of(p.byte()));
                return Err(csv_error(path, e, line));
            }
        };
        let t = Table {
            path: path.to_path_buf(),
            header,
            rows: Vec::new(),
        };
        Ok((t, records))
    }

    /// The index of a required column.
    pub(crate) fn column(&self, name: &str) -> Result<usize> {
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
    pub(crate) fn check_column_spelling(&self, known: &[&str]) -> Result<()> {
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
    pub(crate) fn optional_column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The field in column `col` of `row`, without leading and trailing whitespace.
    pub(crate) fn text<'a>(
        &self,
        row: &'a (usize, csv::StringRecord),
        col: usize,
    ) -> Result<&'a str> {
        row.1.get(col).map(str::trim).ok_or_else(|| {
            Error::data(
                &self.path,
                row.0,
                "the row has fewer fields than the header",
            )
        })
    }

    /// A finite number in column `col` of `row`, named `what` in the error.
    pub(crate) fn number(
        &self,
        row: &(usize, csv::StringRecord),
        col: usize,
        what: &str,
    ) -> Result<f64> {
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

    pub(crate) fn non_negative(
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

/// The error for a CSV error at line `row`.
fn csv_error(path: &Path, e: csv::Error, row: usize) -> Error {
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
