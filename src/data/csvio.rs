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

/// A record as the loaders read it: its 1-based line number in the file (see
/// [`Records::line_of`]) and its fields, untrimmed.
pub(crate) trait Record {
    /// The record's 1-based line number.
    fn line(&self) -> usize;
    /// The field in column `col`, if the record has one.
    fn field(&self, col: usize) -> Option<&str>;
}

impl Record for Row {
    fn line(&self) -> usize {
        self.0
    }
    fn field(&self, col: usize) -> Option<&str> {
        self.1.get(col)
    }
}

/// A record whose fields are borrowed (from the file's bytes, or from a [`Row`]): what
/// [`Records::for_each`] hands its caller.
pub(crate) struct Fields<'a> {
    line: usize,
    cells: &'a [&'a str],
}

impl Record for Fields<'_> {
    fn line(&self) -> usize {
        self.line
    }
    fn field(&self, col: usize) -> Option<&str> {
        self.cells.get(col).copied()
    }
}

/// The records of a CSV file, read one at a time into a caller's [`Row`] (no copy per record):
/// for large files such as `flows.csv`, whose rows are used once.
pub(crate) struct Records {
    path: PathBuf,
    rdr: csv::Reader<std::io::Cursor<Vec<u8>>>,
    /// Line counting: the byte offset counted up to and the newlines before it.
    counted: usize,
    newlines: usize,
    /// The header's number of fields (what every record must have).
    width: usize,
    /// Whether [`Records::for_each`] may split the file itself (see [`Records::plain`]).
    allow_plain: bool,
}

impl Records {
    /// Call `f` with every record, in file order, stopping at the first error (the reader's or
    /// `f`'s). A plain file ([`Records::plain`]) is split at newlines and commas directly, with
    /// the records, line numbers and errors the csv crate gives (a unit test compares them);
    /// any other file goes through the csv crate record by record.
    pub(crate) fn for_each(&mut self, mut f: impl FnMut(&Fields<'_>) -> Result<()>) -> Result<()> {
        if let Some(done) = self.for_each_plain(&mut f) {
            return done;
        }
        let mut row: Row = (0, csv::StringRecord::new());
        while self.next(&mut row)? {
            let cells: Vec<&str> = row.1.iter().collect();
            f(&Fields {
                line: row.0,
                cells: &cells,
            })?;
        }
        Ok(())
    }

    /// [`Records::for_each`] on a plain file: one that is UTF-8 and holds no quote and no
    /// carriage return (what tradesim and most exports write), so that every newline ends a
    /// record and every comma a field; `None` (nothing read) for any other file. As the csv
    /// crate reads it: a record ends at a newline (consumed with it) or at the end of the file;
    /// empty lines are skipped; a record whose field count is not the header's is an error. A
    /// record's line is the file's line of its first byte, after any empty lines before it
    /// ([`Records::line_of`]).
    fn for_each_plain(
        &mut self,
        f: &mut impl FnMut(&Fields<'_>) -> Result<()>,
    ) -> Option<Result<()>> {
        let bytes = self.rdr.get_ref().get_ref();
        if !self.allow_plain || memchr::memchr2(b'"', b'\r', bytes).is_some() {
            return None;
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let len = bytes.len();
        // where the reader stands after the record before, and the newlines before that
        let mut at = (self.rdr.position().byte() as usize).min(len);
        let mut newlines = memchr::memchr_iter(b'\n', &bytes[..at]).count();
        let mut cells: Vec<&str> = Vec::with_capacity(self.width);
        while at < len {
            let blank = bytes[at..].iter().take_while(|&&b| b == b'\n').count();
            let start = at + blank;
            if start == len {
                break;
            }
            // one pass over the record's bytes: a comma ends a field, a newline the record
            cells.clear();
            let mut from = start;
            let mut end = len;
            for (p, &b) in bytes.iter().enumerate().skip(start) {
                if b == b',' {
                    cells.push(&text[from..p]);
                    from = p + 1;
                } else if b == b'\n' {
                    end = p;
                    break;
                }
            }
            cells.push(&text[from..end]);
            let line = newlines + blank + 1;
            if cells.len() != self.width {
                let message = unequal_lengths(cells.len(), self.width);
                return Some(Err(Error::data(&self.path, line, message)));
            }
            let fields = Fields {
                line,
                cells: &cells,
            };
            if let Err(e) = f(&fields) {
                return Some(Err(e));
            }
            newlines += blank + usize::from(end < len);
            at = end + 1;
        }
        Some(Ok(()))
    }

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

    /// The 1-based line of the record the csv crate places at byte offset `byte`: the line of
    /// the first byte from there on that is not a line break, from the newlines before it. The
    /// crate places a record where the reader stood after the record before, that is before
    /// the empty lines it skips (and, on CRLF files, on the `\n` that ends the line before).
    /// Offsets only grow, so each byte is counted once.
    fn line_of(&mut self, byte: u64) -> usize {
        let bytes = self.rdr.get_ref().get_ref();
        let start = byte as usize
            + bytes
                .get(byte as usize..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
        let upto = (start + 1).min(bytes.len());
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
        Table::stream_bytes(path, bytes, true)
    }

    /// [`Table::stream`] on the bytes of the file at `path`; `allow_plain`: whether
    /// [`Records::for_each`] may split a plain file itself.
    fn stream_bytes(path: &Path, bytes: Vec<u8>, allow_plain: bool) -> Result<(Table, Records)> {
        check_head(path, &bytes)?;
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
            width: 0,
            allow_plain,
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
        records.width = header.len();
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
            if self.header.is_empty() {
                return Error::invalid(
                    self.path.display().to_string(),
                    format!("the file is empty: it has no header row; expected a CSV file with the column `{name}`"),
                );
            }
            if let Err(e) = crate::error::check_separator(&self.path, &self.header) {
                return e;
            }
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
    pub(crate) fn text<'a, R: Record>(&self, row: &'a R, col: usize) -> Result<&'a str> {
        row.field(col).map(trim).ok_or_else(|| {
            Error::data(
                &self.path,
                row.line(),
                "the row has fewer fields than the header",
            )
        })
    }

    /// A finite number in column `col` of `row`, named `what` in the error.
    pub(crate) fn number<R: Record>(&self, row: &R, col: usize, what: &str) -> Result<f64> {
        let s = self.text(row, col)?;
        let v: f64 = s.parse().map_err(|_| {
            Error::data(
                &self.path,
                row.line(),
                match crate::error::number_format_hint(s) {
                    Some(how) => {
                        format!("{what} `{s}` is not a number but one formatted for reading; {how}")
                    }
                    None => {
                        format!("{what} `{s}` is not a number; write a decimal number such as 0.05")
                    }
                },
            )
        })?;
        if !v.is_finite() {
            return Err(Error::data(
                &self.path,
                row.line(),
                format!("{what} is {s}; NaN and infinity are not allowed"),
            ));
        }
        Ok(v)
    }

    pub(crate) fn non_negative<R: Record>(&self, row: &R, col: usize, what: &str) -> Result<f64> {
        let v = self.number(row, col, what)?;
        if v < 0.0 {
            return Err(Error::data(
                &self.path,
                row.line(),
                format!("{what} is {v}; it must not be negative"),
            ));
        }
        Ok(v)
    }
}

/// What a file whose first bytes are `head` is when it is not comma-separated UTF-8 text
/// although it may be named `.csv`, and how to make it one (`name`: the file's name, for the
/// commands): UTF-16 text (byte-order mark FF FE or FE FF, what spreadsheets save as "Unicode
/// text"), a gzip file (1F 8B) or a zip archive (PK 03 04, as BACI and the ICIO tables are
/// downloaded); `None` for anything else. Every CSV reader of tradesim asks this before it
/// reads a header ([`check_head`]).
pub(crate) fn not_csv_text(head: &[u8], name: &str) -> Option<String> {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    if head.starts_with(b"\xff\xfe") || head.starts_with(b"\xfe\xff") {
        Some(format!("the file is UTF-16 text (it starts with a UTF-16 byte-order mark), as spreadsheets save \"Unicode text\"; tradesim reads UTF-8: save it as \"CSV UTF-8 (comma delimited)\", or convert it: iconv -f UTF-16 -t UTF-8 {name} > {stem}-utf8.csv"))
    } else if head.starts_with(b"\x1f\x8b") {
        Some(format!("the file is gzip-compressed, not CSV text; decompress it first (gunzip -k {name}) and pass the .csv file"))
    } else if head.starts_with(b"PK\x03\x04") {
        Some(format!("the file is a zip archive, not CSV text; unzip it first (unzip {name}) and pass the .csv file inside"))
    } else {
        None
    }
}

/// An error naming `path` when its first bytes `head` show it is not CSV text
/// ([`not_csv_text`]).
pub(crate) fn check_head(path: &Path, head: &[u8]) -> Result<()> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().to_string(),
    );
    match not_csv_text(head, &name) {
        Some(what) => Err(Error::invalid(path.display().to_string(), what)),
        None => Ok(()),
    }
}

/// A field without leading and trailing whitespace (`str::trim`), returned as it is when it
/// starts and ends with a printable ASCII character (the common case, checked without decoding).
#[inline]
fn trim(s: &str) -> &str {
    let printable = |b: Option<&u8>| b.is_some_and(|b| (b'!'..=b'~').contains(b));
    if printable(s.as_bytes().first()) && printable(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// The message for a record of `len` fields under a header of `expected_len`.
fn unequal_lengths(len: usize, expected_len: usize) -> String {
    format!("the row has {len} fields but the header has {expected_len}; every row needs one value per column")
}

/// The error for a CSV error at line `row`.
pub(crate) fn csv_error(path: &Path, e: csv::Error, row: usize) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        csv::ErrorKind::Utf8 { err, .. } => Error::data(
            path,
            row,
            format!("the row is not valid UTF-8 ({err}); save the file as UTF-8"),
        ),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Error::data(
            path,
            row,
            unequal_lengths(len as usize, expected_len as usize),
        ),
        kind => Error::data(path, row, format!("malformed CSV: {kind:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file separated by ';' has a one-column header: asking for a column says why.
    #[test]
    fn a_missing_column_names_another_separator() {
        let (t, _) =
            Table::stream_bytes(Path::new("t.csv"), b"year;value\n2014;1,5\n".to_vec(), true)
                .unwrap();
        let e = t.column("value").unwrap_err().to_string();
        assert!(
            e.contains("t.csv, row 1:") && e.contains("separated by ';'"),
            "{e}"
        );
        let (t, _) =
            Table::stream_bytes(Path::new("t.csv"), b"year,value\n2014,1.5\n".to_vec(), true)
                .unwrap();
        let e = t.column("values").unwrap_err().to_string();
        assert!(e.contains("no column `values`"), "{e}");
    }

    /// Every record (line and fields) and the error, read with the plain splitter allowed or
    /// through the csv crate only.
    fn read_all(bytes: &[u8], allow_plain: bool) -> (Vec<(usize, Vec<String>)>, Option<String>) {
        let path = Path::new("t.csv");
        let mut got = Vec::new();
        let done = Table::stream_bytes(path, bytes.to_vec(), allow_plain).and_then(|(_, mut r)| {
            r.for_each(|f| {
                let cells = (0..).map_while(|c| f.field(c)).map(String::from).collect();
                got.push((f.line(), cells));
                if f.field(0) == Some("stop") {
                    return Err(Error::data(path, f.line(), "stopped"));
                }
                Ok(())
            })
        });
        (got, done.err().map(|e| e.to_string()))
    }

    /// A record after empty lines is placed on its own line of the file, whether split plainly
    /// or read through the csv crate (quotes, CRLF line ends), and so is an error in it.
    #[test]
    fn records_after_empty_lines_keep_their_line() {
        for file in [
            &b"a,b\n1,2\n\n\n5,6\n"[..],
            b"a,b\r\n1,2\r\n\r\n\r\n5,6\r\n",
            b"a,b\n\"1\",2\n\n\n5,6\n",
        ] {
            for allow_plain in [true, false] {
                let (got, _) = read_all(file, allow_plain);
                assert_eq!(
                    got.iter().map(|r| r.0).collect::<Vec<_>>(),
                    [2, 5],
                    "{:?}",
                    String::from_utf8_lossy(file)
                );
            }
        }
        let (_, e) = read_all(b"a,b\n1,2\n\n\nstop,6\n", true);
        assert!(e.unwrap().contains("t.csv, row 5: stopped"));
    }

    /// UTF-16 text, gzip and zip files are named as such, with how to make them CSV text.
    #[test]
    fn files_that_are_not_csv_text_are_named() {
        let says = |head: &[u8], what: &str| {
            let e = Table::stream_bytes(Path::new("d/t.csv"), head.to_vec(), true)
                .err()
                .unwrap()
                .to_string();
            assert!(e.starts_with("d/t.csv: ") && e.contains(what), "{e}");
        };
        says(
            b"\xff\xfet\x00,\x00i\x00\n\x00",
            "iconv -f UTF-16 -t UTF-8 t.csv > t-utf8.csv",
        );
        says(b"\xfe\xff\x00t", "UTF-16");
        says(b"\x1f\x8b\x08\x00", "gunzip -k t.csv");
        says(b"PK\x03\x04\x14\x00", "unzip t.csv");
        assert!(not_csv_text(b"t,i,j\n", "t.csv").is_none());
        let (t, _) = Table::stream_bytes(Path::new("t.csv"), Vec::new(), true).unwrap();
        let e = t.column("code").unwrap_err().to_string();
        assert!(e.contains("t.csv: the file is empty"), "{e}");
    }

    /// The plain splitter gives the csv crate's records, lines and errors, empty lines,
    /// missing final newlines, short and long rows, spaces and byte-order marks included.
    #[test]
    fn plain_files_read_as_the_csv_crate_reads_them() {
        let files: &[&[u8]] = &[
            b"",
            b"a,b",
            b"a,b\n",
            b"a,b\n1,2",
            b"a,b\n1,2\n3,4\n",
            b"\n\na,b\n1,2\n",
            b"a,b\n\n1,2\n\n\n3,4\n\n",
            b"a,b\n1,2\n\n\n\n5,6",
            b"a,b\n1,2\n3\n",
            b"a,b\n1,2\n\n3,4,5\n",
            b"a,b\n1,2\n \n",
            b"a,b\n,\n , \n",
            b"\xef\xbb\xbfa,b\n1,2\n",
            b" a , b \n x , y \n",
            b"a,b\n1,2\nstop,3\n4,5\n",
            b"a,b\n\n\nstop,3\n",
            b"a,b,c\n1,2,3\n\xce\xbb,\xe2\x80\x83x,3\n",
        ];
        for file in files {
            let plain = read_all(file, true);
            assert_eq!(
                plain,
                read_all(file, false),
                "{:?}",
                String::from_utf8_lossy(file)
            );
            let (_, mut records) =
                Table::stream_bytes(Path::new("t.csv"), file.to_vec(), true).unwrap();
            assert!(records.for_each_plain(&mut |_| Ok(())).is_some());
        }
        // Quotes, carriage returns and invalid UTF-8 go through the csv crate.
        for file in [&b"a,b\n\"1\",2\n"[..], b"a,b\r\n1,2\r\n", b"a,b\n\xff,2\n"] {
            let (_, mut records) =
                Table::stream_bytes(Path::new("t.csv"), file.to_vec(), true).unwrap();
            assert!(records.for_each_plain(&mut |_| Ok(())).is_none());
        }
    }
}
