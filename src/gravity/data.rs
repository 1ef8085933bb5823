//! Loading a bilateral gravity data set (CSV) and checking it. Every error names the file and
//! the row (1-based line, header = 1) and says how to fix it.

use super::scenario::Columns;
use crate::error::{Error, Result};
use crate::estimate::data::FxMap;
use std::path::{Path, PathBuf};

/// One row of the data set in a loaded year.
#[derive(Debug, Clone)]
pub(crate) struct Obs {
    /// 1-based line in the file.
    pub line: usize,
    pub year: i64,
    pub exporter: usize,
    pub importer: usize,
    pub trade: f64,
}

/// The rows of the loaded years, with economies indexed in sorted order.
#[derive(Debug, Clone)]
pub(crate) struct Panel {
    pub path: PathBuf,
    pub names: Vec<String>,
    pub columns: Vec<String>,
    pub obs: Vec<Obs>,
    /// Raw values of the loaded covariate columns, [`Panel::columns`] order, one row after
    /// another: see [`Panel::value`].
    values: Vec<f64>,
    /// Output and expenditure by economy and year, when the data carry them.
    output: FxMap<(i64, usize), (f64, usize)>,
    expenditure: FxMap<(i64, usize), (f64, usize)>,
}

/// A covariate as written in a scenario: a column, or `ln(column)` / `log(column)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Covariate {
    pub label: String,
    pub column: String,
    pub log: bool,
}

impl Covariate {
    pub(crate) fn parse(label: &str) -> Covariate {
        let t = label.trim();
        for prefix in ["ln(", "log("] {
            if let Some(rest) = t.strip_prefix(prefix) {
                if let Some(inner) = rest.strip_suffix(')') {
                    return Covariate {
                        label: t.into(),
                        column: inner.trim().into(),
                        log: true,
                    };
                }
            }
        }
        Covariate {
            label: t.into(),
            column: t.into(),
            log: false,
        }
    }
}

fn parse_number(text: &[u8]) -> f64 {
    // Plain decimals (`12`, `-3.25`) by the exact fast path; anything else as before.
    if let Some(v) = crate::decimal::plain_decimal(text) {
        return v;
    }
    let Ok(t) = std::str::from_utf8(text) else {
        return f64::NAN;
    };
    let t = t.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("na") || t == "." {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// A cell as text for a message (invalid UTF-8 shown as U+FFFD).
fn shown(cell: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(cell)
}

/// The message for a cell, named `what`, that is not a number: how to write it when it is a
/// number formatted for reading (`1,234`, `7,5`, `12%`), else `otherwise`.
fn not_a_number(what: String, cell: &[u8], otherwise: &str) -> String {
    match crate::error::number_format_hint(&shown(cell)) {
        Some(how) => format!("{what} is not a number but one formatted for reading; {how}"),
        None => format!("{what} is not a number; {otherwise}"),
    }
}

/// Loads the rows of `years` with the named `columns` (besides exporter, importer, year, trade
/// and the optional output/expenditure columns). Rejects: a missing column; a non-numeric or
/// NaN trade value or covariate; negative trade; a repeated (year, exporter, importer) row;
/// output (expenditure) that differs between rows of one exporter (importer) and year.
///
/// A file without quotes or carriage returns (what the generators and most exports write) is
/// read in blocks and split at commas and newlines directly; at the first quote or carriage
/// return the file is read again from its start through the CSV reader. The checks on every
/// row are the same either way.
pub(crate) fn load_panel(
    path: &Path,
    names: &Columns,
    years: &[i64],
    columns: &[String],
) -> Result<Panel> {
    let file_len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len() as usize;
    let source = Source {
        path,
        names,
        years,
        columns,
        file_len,
    };
    let loader = match read_plain(&source)? {
        Some(loader) => loader,
        None => read_quoted(&source)?,
    };
    match loader {
        Some(l) => l.finish(),
        None => Err(Error::data(
            path,
            1,
            "cannot read the header: the file is empty; it needs a header row and one row per pair",
        )),
    }
}

/// What [`load_panel`] reads: the file (of `file_len` bytes), its column names, the years and
/// the covariate columns to keep.
struct Source<'a> {
    path: &'a Path,
    names: &'a Columns,
    years: &'a [i64],
    columns: &'a [String],
    file_len: usize,
}

impl<'a> Source<'a> {
    /// Passes one row to the loader; the first row is the header, which starts it.
    fn feed(
        &self,
        loader: &mut Option<Loader<'a>>,
        line: usize,
        offset: usize,
        fields: &[&[u8]],
    ) -> Result<()> {
        match loader.as_mut() {
            None => *loader = Some(Loader::new(self, fields)?),
            Some(l) => l.row(line, offset, self.file_len, fields)?,
        }
        Ok(())
    }
}

/// [`load_panel`] on a file without quotes or carriage returns, read in blocks of 1 MiB (a
/// longer row grows the block): `Ok(None)` at the first quote or carriage return.
fn read_plain<'a>(source: &Source<'a>) -> Result<Option<Option<Loader<'a>>>> {
    use std::io::Read;
    let path = source.path;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut block = vec![0u8; 1 << 20];
    let mut loader: Option<Loader> = None;
    // bytes of the block holding the start of an unfinished row; file offset of block[0]
    let (mut kept, mut base, mut line) = (0, 0, 0);
    loop {
        if kept == block.len() {
            block.resize(2 * block.len(), 0);
        }
        let read = match file.read(&mut block[kept..]) {
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, e)),
        };
        let end = kept + read;
        if base == 0 && kept == 0 {
            crate::data::csvio::check_head(path, &block[..end])?;
        }
        if has_quote_or_return(&block[kept..end]) {
            return Ok(None);
        }
        let mut start = 0;
        if base == 0 && block[..end].starts_with(b"\xef\xbb\xbf") {
            // a UTF-8 byte-order mark is not part of the header, as the CSV reader drops it
            start = 3;
        }
        let body = &block[..end];
        let mut fields: Vec<&[u8]> = Vec::with_capacity(16);
        let (mut row_start, mut field_start) = (start, start);
        // one pass over the bytes, eight at a time: a comma ends a field, a newline a row
        for_each_delimiter(&body[start..], |at| {
            let at = start + at;
            if body[at] == b',' {
                fields.push(&body[field_start..at]);
                field_start = at + 1;
            } else {
                line += 1;
                if at > row_start {
                    fields.push(&body[field_start..at]);
                    source.feed(&mut loader, line, base + row_start, &fields)?;
                } // else a blank line, as the CSV reader skips it
                fields.clear();
                (row_start, field_start) = (at + 1, at + 1);
            }
            Ok(())
        })?;
        if read == 0 && row_start < end {
            // the last row, without a newline
            line += 1;
            fields.push(&body[field_start..end]);
            source.feed(&mut loader, line, base + row_start, &fields)?;
        }
        if read == 0 {
            return Ok(Some(loader));
        }
        // keep the unfinished row for the next block
        let tail = row_start.min(end);
        block.copy_within(tail..end, 0);
        (kept, base) = (end - tail, base + tail);
    }
}

/// `0x80` in each byte of `w` that is zero, nothing elsewhere (exact: no borrow crosses bytes).
#[inline]
fn zero_bytes(w: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((w & LOW7).wrapping_add(LOW7)) | w | LOW7)
}

/// `byte` in each of the eight bytes of a word.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// Calls `found` with the position of every comma and newline of `bytes`, in order, reading
/// eight bytes a word and taking every delimiter the word holds from its mask (lowest byte
/// first: the word is little-endian); the first error stops the scan.
#[inline]
fn for_each_delimiter(bytes: &[u8], mut found: impl FnMut(usize) -> Result<()>) -> Result<()> {
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    for (w, chunk) in words.enumerate() {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let mut hits = zero_bytes(word ^ splat(b',')) | zero_bytes(word ^ splat(b'\n'));
        while hits != 0 {
            found(8 * w + (hits.trailing_zeros() / 8) as usize)?;
            hits &= hits - 1;
        }
    }
    let at = bytes.len() - tail.len();
    for (k, &b) in tail.iter().enumerate() {
        if b == b',' || b == b'\n' {
            found(at + k)?;
        }
    }
    Ok(())
}

/// Whether `bytes` hold a quote or a carriage return (the plain reader's limits): eight bytes
/// a word, 64 words a block without an early exit inside, which the compiler vectorises.
fn has_quote_or_return(bytes: &[u8]) -> bool {
    let words = bytes.chunks_exact(8);
    let rest = words.remainder();
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().expect("eight bytes"));
    let found = |w: u64| zero_bytes(w ^ splat(b'"')) | zero_bytes(w ^ splat(b'\r'));
    let blocks = bytes.chunks_exact(8 * 64);
    let tail = blocks.remainder();
    blocks
        .into_iter()
        .any(|b| b.chunks_exact(8).fold(0, |hits, c| hits | found(word(c))) != 0)
        || tail.chunks_exact(8).any(|c| found(word(c)) != 0)
        || rest.iter().any(|&b| b == b'"' || b == b'\r')
}

/// [`load_panel`] on any CSV file, through the CSV reader (quoted fields, `\r\n` rows).
fn read_quoted<'a>(source: &Source<'a>) -> Result<Option<Loader<'a>>> {
    let path = source.path;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .has_headers(false)
        .from_reader(file);
    let mut record = csv::ByteRecord::new();
    let mut loader: Option<Loader> = None;
    let mut line = 1;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(loader),
            Ok(true) => {}
            Err(e) => {
                let row = e.position().map(|p| p.line() as usize).unwrap_or(line + 1);
                return Err(Error::data(path, row, format!("malformed CSV: {e}")));
            }
        }
        let position = record.position();
        line = position.map(|p| p.line() as usize).unwrap_or(line + 1);
        let offset = position.map_or(0, |p| p.byte() as usize);
        let fields: Vec<&[u8]> = record.iter().collect();
        source.feed(&mut loader, line, offset, &fields)?;
    }
}

/// The state of [`load_panel`] between rows.
struct Loader<'a> {
    path: &'a Path,
    years: &'a [i64],
    columns: &'a [String],
    width: usize,
    c_exp: usize,
    c_imp: usize,
    c_year: usize,
    c_trade: usize,
    c_out: Option<usize>,
    c_expd: Option<usize>,
    c_cov: Vec<usize>,
    index: FxMap<String, usize>,
    /// The last code looked up per column: sorted files repeat an exporter row after row.
    last: [Option<usize>; 2],
    /// Economies numbered in order of appearance until all are read.
    names_seen: Vec<String>,
    obs: Vec<Obs>,
    /// The covariates of the rows, `columns.len()` a row.
    values: Vec<f64>,
    /// Output and expenditure of each economy (by appearance) in each of `years`: the first
    /// value and its line (`NaN` before any).
    levels: [Vec<Vec<(f64, usize)>>; 2],
    /// The first row whose output or expenditure differs from an earlier row's: its line and
    /// the message (reported unless a repeated row comes first).
    level_conflict: Option<(usize, String)>,
    /// The years with rows, in order of appearance.
    years_seen: Vec<i64>,
}

impl<'a> Loader<'a> {
    fn new(source: &Source<'a>, header: &[&[u8]]) -> Result<Self> {
        let Source {
            path,
            names,
            years,
            columns,
            ..
        } = *source;
        let header: Vec<&str> = header
            .iter()
            .map(|h| std::str::from_utf8(h))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::data(path, 1, format!("cannot read the header: {e}")))?;
        let find = |name: &str, what: &str| -> Result<usize> {
            header.iter().position(|h| h.trim() == name).ok_or_else(|| {
                Error::data(
                    path,
                    1,
                    format!(
                        "no column \"{name}\" ({what}); the columns are {}; fix the name in the scenario's columns or costs",
                        header.join(", ")
                    ),
                )
            })
        };
        Ok(Loader {
            path,
            years,
            columns,
            width: header.len(),
            c_exp: find(&names.exporter, "exporter")?,
            c_imp: find(&names.importer, "importer")?,
            c_year: find(&names.year, "year")?,
            c_trade: find(&names.trade, "trade")?,
            c_out: names
                .output
                .as_deref()
                .map(|n| find(n, "output"))
                .transpose()?,
            c_expd: names
                .expenditure
                .as_deref()
                .map(|n| find(n, "expenditure"))
                .transpose()?,
            c_cov: columns
                .iter()
                .map(|c| find(c, "trade-cost covariate"))
                .collect::<Result<_>>()?,
            index: FxMap::default(),
            last: [None, None],
            names_seen: Vec::new(),
            obs: Vec::new(),
            values: Vec::new(),
            levels: [vec![Vec::new(); years.len()], vec![Vec::new(); years.len()]],
            level_conflict: None,
            years_seen: Vec::new(),
        })
    }

    /// The economy numbered by its code in column `slot` (0 exporter, 1 importer).
    fn economy(&mut self, line: usize, slot: usize, cell: &[u8]) -> Result<usize> {
        // The code of the row before, or the one numbered after it (importers in order),
        // compared as bytes: a cell equal to a code once ASCII blanks are trimmed is that code
        // as the checks below would read it (valid UTF-8, no other blank at either end).
        if let Some(k) = self.last[slot] {
            let bare = cell.trim_ascii();
            for k in [k, k + 1] {
                if self.names_seen.get(k).is_some_and(|c| c.as_bytes() == bare) {
                    self.last[slot] = Some(k);
                    return Ok(k);
                }
            }
        }
        let s = std::str::from_utf8(cell)
            .map_err(|e| {
                Error::data(
                    self.path,
                    line,
                    format!(
                        "the economy code \"{}\" is not UTF-8 text ({e}); save the file as UTF-8",
                        shown(cell)
                    ),
                )
            })?
            .trim();
        if s.is_empty() {
            return Err(Error::data(
                self.path,
                line,
                "empty economy code; fill in the exporter and importer",
            ));
        }
        let k = match self.index.get(s) {
            Some(&k) => k,
            None => {
                self.names_seen.push(s.to_string());
                self.index.insert(s.to_string(), self.names_seen.len() - 1);
                self.names_seen.len() - 1
            }
        };
        self.last[slot] = Some(k);
        Ok(k)
    }

    /// Checks and keeps one data row (`offset`: its first byte in a file of `file_len`).
    fn row(&mut self, line: usize, offset: usize, file_len: usize, r: &[&[u8]]) -> Result<()> {
        let path = self.path;
        if r.len() != self.width {
            return Err(Error::data(
                path,
                line,
                format!(
                    "malformed CSV: found a row with {} fields, but the header has {}; every row needs one value per column",
                    r.len(),
                    self.width
                ),
            ));
        }
        let year_v = parse_number(r[self.c_year]);
        if !year_v.is_finite() || year_v.fract() != 0.0 {
            return Err(Error::data(
                path,
                line,
                format!("year \"{}\" is not a whole number", shown(r[self.c_year])),
            ));
        }
        let year = year_v as i64;
        let Some(y_at) = self.years.iter().position(|&y| y == year) else {
            return Ok(());
        };
        let e = self.economy(line, 0, r[self.c_exp])?;
        let i = self.economy(line, 1, r[self.c_imp])?;
        let trade = parse_number(r[self.c_trade]);
        if !trade.is_finite() {
            return Err(Error::data(
                path,
                line,
                not_a_number(
                    format!("trade \"{}\"", shown(r[self.c_trade])),
                    r[self.c_trade],
                    "give a value (0 for no trade)",
                ),
            ));
        }
        if trade < 0.0 {
            return Err(Error::data(
                path,
                line,
                format!("trade is negative ({trade}); trade flows must be zero or positive"),
            ));
        }
        for (k, &c) in self.c_cov.iter().enumerate() {
            let v = parse_number(r[c]);
            if !v.is_finite() {
                return Err(Error::data(
                    path,
                    line,
                    not_a_number(
                        format!("trade-cost covariate {} \"{}\"", self.columns[k], shown(r[c])),
                        r[c],
                        "every pair needs a finite value (a missing cost makes the model meaningless)",
                    ),
                ));
            }
            self.values.push(v);
        }
        let level = |c: Option<usize>, what: &str| -> Result<Option<f64>> {
            match c {
                None => Ok(None),
                Some(c) => {
                    let v = parse_number(r[c]);
                    if !(v.is_finite() && v > 0.0) {
                        return Err(Error::data(
                            path,
                            line,
                            format!("{what} \"{}\" must be a positive number", shown(r[c])),
                        ));
                    }
                    Ok(Some(v))
                }
            }
        };
        let y = level(self.c_out, "output")?;
        let x = level(self.c_expd, "expenditure")?;
        for (slot, v, who, what) in [(0, y, e, "output"), (1, x, i, "expenditure")] {
            let Some(v) = v else { continue };
            let table = &mut self.levels[slot][y_at];
            if table.len() <= who {
                table.resize(who + 1, (f64::NAN, 0));
            }
            let (prev, first) = table[who];
            if prev.is_nan() {
                table[who] = (v, line);
            } else if prev != v && self.level_conflict.is_none() {
                self.level_conflict = Some((
                    line,
                    format!(
                        "{what} of {} in {year} is {v} here but {prev} in row {first}; an economy has one {what} per year: make them equal",
                        self.names_seen[who]
                    ),
                ));
            }
        }
        if self.obs.len() == 1024 {
            // Room for the rows the file holds at the bytes read per kept row so far (no
            // doubling and copying); rows of other years count in, so an over-estimate of a
            // multi-year file reserves address space that is never touched.
            let per_row = offset / 1024;
            let rows = file_len / per_row.max(1);
            // A refused reservation only means growing by doubling, as without one.
            let _ = self.obs.try_reserve(rows.saturating_add(rows / 10));
            let _ = self
                .values
                .try_reserve((rows.saturating_add(rows / 10)).saturating_mul(self.c_cov.len()));
        }
        if !self.years_seen.contains(&year) {
            self.years_seen.push(year);
        }
        self.obs.push(Obs {
            line,
            year,
            exporter: e,
            importer: i,
            trade,
        });
        Ok(())
    }

    /// Numbers the economies in sorted order and finds repeated rows and, after them, the
    /// first output or expenditure that differs between rows of one economy and year.
    fn finish(self) -> Result<Panel> {
        let Loader {
            path,
            columns,
            names_seen,
            mut obs,
            values,
            levels,
            level_conflict,
            mut years_seen,
            years,
            ..
        } = self;
        let mut order: Vec<usize> = (0..names_seen.len()).collect();
        order.sort_by(|a, b| names_seen[*a].cmp(&names_seen[*b]));
        let mut rank = vec![0; names_seen.len()];
        for (r, &k) in order.iter().enumerate() {
            rank[k] = r;
        }
        let sorted: Vec<String> = order.iter().map(|&k| names_seen[k].clone()).collect();
        years_seen.sort_unstable();
        let mut seen = RowIndex::new(&years_seen, sorted.len(), obs.len());
        for o in obs.iter_mut() {
            let (line, year) = (o.line, o.year);
            if let Some((conflict, message)) = &level_conflict {
                if *conflict < line {
                    return Err(Error::data(path, *conflict, message.clone()));
                }
            }
            let (e, i) = (rank[o.exporter], rank[o.importer]);
            (o.exporter, o.importer) = (e, i);
            if let Some(first) = seen.insert(year, e, i, line) {
                return Err(Error::data(
                    path,
                    line,
                    format!(
                        "a second row for exporter {}, importer {}, year {year} (the first is row {first}); keep one",
                        sorted[e], sorted[i]
                    ),
                ));
            }
        }
        if let Some((conflict, message)) = level_conflict {
            return Err(Error::data(path, conflict, message));
        }
        // output and expenditure by economy (sorted) and year, as the rows gave them
        let [output, expenditure] = levels.map(|by_year| {
            let mut map = FxMap::default();
            for (y_at, table) in by_year.into_iter().enumerate() {
                for (who, (v, line)) in table.into_iter().enumerate() {
                    if !v.is_nan() {
                        map.insert((years[y_at], rank[who]), (v, line));
                    }
                }
            }
            map
        });
        Ok(Panel {
            path: path.to_path_buf(),
            names: sorted,
            columns: columns.to_vec(),
            obs,
            values,
            output,
            expenditure,
        })
    }
}

/// The first line of each (year, exporter, importer) seen so far, to find repeated rows: a
/// table over years × economies² when that is not much larger than the data (a complete
/// panel), a hash map otherwise (a sparse one).
enum RowIndex {
    Dense {
        years: Vec<i64>,
        n: usize,
        first: Vec<usize>,
    },
    Sparse(FxMap<(i64, usize, usize), usize>),
}

impl RowIndex {
    /// For `rows` rows over the sorted `years` and `n` economies.
    fn new(years: &[i64], n: usize, rows: usize) -> RowIndex {
        let cells = years.len().saturating_mul(n).saturating_mul(n);
        if cells <= 4 * rows + (1 << 16) {
            RowIndex::Dense {
                years: years.to_vec(),
                n,
                first: vec![0; cells],
            }
        } else {
            let mut map = FxMap::default();
            map.reserve(rows);
            RowIndex::Sparse(map)
        }
    }

    /// Records `line` for the cell; the earlier line when the cell was seen before.
    fn insert(&mut self, year: i64, e: usize, i: usize, line: usize) -> Option<usize> {
        match self {
            RowIndex::Dense { years, n, first } => {
                let y = years.binary_search(&year).expect("every year is listed");
                let slot = &mut first[(y * *n + e) * *n + i];
                if *slot != 0 {
                    return Some(*slot);
                }
                *slot = line;
                None
            }
            RowIndex::Sparse(map) => map.insert((year, e, i), line),
        }
    }
}

/// One year as complete `N × N` matrices over the economies of that year.
#[derive(Debug, Clone)]
pub(crate) struct YearData {
    pub names: Vec<String>,
    /// Panel economy index of each economy of the year.
    pub panel_index: Vec<usize>,
    /// Index into `Panel::obs` of pair (i, j), row-major.
    pub obs: Vec<usize>,
    pub trade: Vec<f64>,
    pub output: Vec<f64>,
    pub expenditure: Vec<f64>,
}

impl Panel {
    /// The year's complete matrix: every exporter must also be an importer and every pair,
    /// domestic included, must have a row.
    pub(crate) fn year(&self, year: i64) -> Result<YearData> {
        let mut member = vec![false; self.names.len()];
        let mut rows = 0;
        for o in self.obs.iter().filter(|o| o.year == year) {
            member[o.exporter] = true;
            member[o.importer] = true;
            rows += 1;
        }
        if rows == 0 {
            return Err(Error::invalid(
                self.path.display().to_string(),
                format!("no rows for year {year}; choose a year the data contain"),
            ));
        }
        let members: Vec<usize> = (0..self.names.len()).filter(|&m| member[m]).collect();
        let n = members.len();
        let mut local = vec![usize::MAX; self.names.len()];
        for (a, &m) in members.iter().enumerate() {
            local[m] = a;
        }
        let mut cell = vec![usize::MAX; n * n];
        for (k, o) in self.obs.iter().enumerate() {
            if o.year == year {
                cell[local[o.exporter] * n + local[o.importer]] = k;
            }
        }
        if let Some(missing) = cell.iter().position(|&c| c == usize::MAX) {
            let count = cell.iter().filter(|&&c| c == usize::MAX).count();
            let (i, j) = (members[missing / n], members[missing % n]);
            return Err(Error::invalid(
                self.path.display().to_string(),
                format!(
                    "no row for exporter {}, importer {} in year {year} ({count} of {} pairs missing); the model needs every pair, domestic sales included: add the rows (trade 0 with its cost covariates) or drop the economy",
                    self.names[i], self.names[j], n * n
                ),
            ));
        }
        let trade: Vec<f64> = cell.iter().map(|&k| self.obs[k].trade).collect();
        let mut output = Vec::with_capacity(n);
        let mut expenditure = Vec::with_capacity(n);
        for (a, &m) in members.iter().enumerate() {
            let y = match self.output.get(&(year, m)) {
                Some(&(v, _)) => v,
                None => trade[a * n..(a + 1) * n].iter().sum(),
            };
            let e = match self.expenditure.get(&(year, m)) {
                Some(&(v, _)) => v,
                None => (0..n).map(|i| trade[i * n + a]).sum(),
            };
            for (what, v) in [("output", y), ("expenditure", e)] {
                if v <= 0.0 || v.is_nan() {
                    return Err(Error::invalid(
                        self.path.display().to_string(),
                        format!("{} has {what} {v} in {year}; it must be positive (its domestic flow and its trade cannot all be zero)", self.names[m]),
                    ));
                }
            }
            output.push(y);
            expenditure.push(e);
        }
        Ok(YearData {
            names: members.iter().map(|&m| self.names[m].clone()).collect(),
            panel_index: members,
            obs: cell,
            trade,
            output,
            expenditure,
        })
    }

    /// Position of `column` among the loaded columns.
    pub(crate) fn column(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }

    /// The raw value of loaded column `c` (a position in [`Panel::columns`]) on observation `k`.
    pub(crate) fn value(&self, k: usize, c: usize) -> f64 {
        self.values[k * self.columns.len() + c]
    }

    /// The covariate's value on observation `k`, with the error naming the row when `ln` of a
    /// non-positive value is asked for.
    pub(crate) fn covariate(&self, cov: &Covariate, k: usize) -> Result<f64> {
        let c = self
            .column(&cov.column)
            .expect("covariate columns are loaded");
        self.covariate_at(cov, c, k)
    }

    /// Adds `b` times the covariate's value on each of the observations `obs` to `sums`, in
    /// place (the values and errors of [`Panel::covariate`]).
    pub(crate) fn add_covariate(
        &self,
        cov: &Covariate,
        b: f64,
        obs: &[usize],
        sums: &mut [f64],
    ) -> Result<()> {
        let c = self
            .column(&cov.column)
            .expect("covariate columns are loaded");
        for (v, &k) in sums.iter_mut().zip(obs) {
            *v += b * self.covariate_at(cov, c, k)?;
        }
        Ok(())
    }

    fn covariate_at(&self, cov: &Covariate, c: usize, k: usize) -> Result<f64> {
        let v = self.value(k, c);
        if cov.log {
            if v <= 0.0 {
                return Err(Error::data(
                    &self.path,
                    self.obs[k].line,
                    format!("{} needs a positive {}, found {v}", cov.label, cov.column),
                ));
            }
            Ok(v.ln())
        } else {
            Ok(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Columns {
        Columns::default()
    }

    /// A complete panel of `n` economies (one named with a comma and a quote) for `years`.
    fn panel_csv(n: usize, years: &[i64]) -> String {
        let name = |k: usize| {
            if k == 1 {
                "\"A, \"\"B\"\"\"".to_string()
            } else {
                format!("E{k:03}")
            }
        };
        let mut s = String::from("exporter,importer,year,trade,dist\n");
        for &y in years {
            for i in 0..n {
                for j in 0..n {
                    let d = 1.0 + (i as f64 - j as f64).abs();
                    s.push_str(&format!("{},{},{y},{},{d}\n", name(i), name(j), 100.0 / d));
                }
            }
        }
        s
    }

    /// Rows load with economies in sorted order, numbers as `str::parse` gives them; a
    /// repeated row is named with both lines, in a complete panel (the table) and a sparse one
    /// (the hash map).
    #[test]
    fn rows_load_and_repeats_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        let body = panel_csv(4, &[2001, 2002]);
        std::fs::write(&p, &body).unwrap();
        let cols = vec!["dist".to_string()];
        let panel = load_panel(&p, &columns(), &[2002], &cols).unwrap();
        assert_eq!(panel.names, ["A, \"B\"", "E000", "E002", "E003"]);
        assert_eq!(panel.obs.len(), 16);
        let o = &panel.obs[4]; // 2002, "A, \"B\"" -> E000: the fifth row of 2002
        assert_eq!((o.line, o.year, o.exporter, o.importer), (22, 2002, 0, 1));
        assert_eq!((o.trade, panel.value(4, 0)), (50.0, 2.0));
        let yd = panel.year(2002).unwrap();
        assert_eq!(yd.trade[1], 50.0);

        let mut repeated = body.clone();
        repeated.push_str("E002,E003,2002,1,1\n");
        std::fs::write(&p, &repeated).unwrap();
        let e = load_panel(&p, &columns(), &[2001, 2002], &cols)
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 34") && e.contains("first is row 29"), "{e}");

        // 400 economies, each exporting to one other: 160,000 cells for 401 rows.
        let mut sparse = String::from("exporter,importer,year,trade,dist\n");
        for k in 0..400 {
            sparse.push_str(&format!("E{k:03},E{:03},2001,1,1\n", (k + 1) % 400));
        }
        sparse.push_str("E007,E008,2001,1,1\n");
        std::fs::write(&p, &sparse).unwrap();
        let e = load_panel(&p, &columns(), &[2001], &cols)
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 402") && e.contains("first is row 9"), "{e}");
    }

    #[test]
    fn numbers_parse_as_before() {
        for (t, v) in [
            ("12", 12.0),
            (" 3.5 ", 3.5),
            ("-0.25", -0.25),
            ("1e3", 1000.0),
        ] {
            assert_eq!(parse_number(t.as_bytes()), v, "{t}");
        }
        for t in ["", "NA", ".", "x", "1.2.3"] {
            assert!(parse_number(t.as_bytes()).is_nan(), "{t}");
        }
        // shortest round-trip texts of 15 to 17 digits and plain decimals up to 19 digits and
        // beyond (the exact fast path takes those whose digits stay at or below 2^53) read
        // back to the same bits as `str::parse`
        let mut bits = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let v = f64::from_bits(bits) % 1e6;
            if !v.is_finite() {
                continue;
            }
            for t in [
                format!("{v}"),
                format!("{v:.3}"),
                format!("{:.19}", v.abs() % 1.0),
                format!("{}", bits % 10_000_000_000_000_000_000),
                format!("{}.{}", bits % 1000, bits % 100_000_000_000_000_000),
            ] {
                let want: f64 = t.parse().unwrap();
                assert_eq!(parse_number(t.as_bytes()).to_bits(), want.to_bits(), "{t}");
            }
        }
        for t in [
            "9007199254740992",
            "9007199254740993",
            "0.9007199254740993",
            "1.0000000000000000001",
        ] {
            let want: f64 = t.parse().unwrap();
            assert_eq!(parse_number(t.as_bytes()).to_bits(), want.to_bits(), "{t}");
        }
    }

    /// The word-at-a-time scans find what a byte-at-a-time scan finds, at every offset and
    /// length (words straddling the end, bytes with the high bit set, each delimiter alone).
    #[test]
    fn word_scans_agree_with_byte_scans() {
        let mut bytes: Vec<u8> = b"C000,C001,2006,2.25,1217,\xc3\xa9\xff\x80\x2c\x0a".to_vec();
        bytes.extend((0..200u32).map(|k| (k * 37 % 256) as u8));
        let plain: Vec<u8> = bytes
            .iter()
            .map(|&b| if matches!(b, b'"' | b'\r') { b'x' } else { b })
            .collect();
        for data in [&bytes, &plain] {
            for from in 0..data.len() {
                let naive: Vec<usize> = (from..data.len())
                    .filter(|&k| data[k] == b',' || data[k] == b'\n')
                    .map(|k| k - from)
                    .collect();
                let mut found = Vec::new();
                for_each_delimiter(&data[from..], |at| {
                    found.push(at);
                    Ok(())
                })
                .unwrap();
                assert_eq!(found, naive, "from {from}");
            }
            for a in 0..70.min(data.len()) {
                for b in (a..data.len()).step_by(7) {
                    let naive = data[a..b].iter().any(|&x| x == b'"' || x == b'\r');
                    assert_eq!(has_quote_or_return(&data[a..b]), naive, "{a}..{b}");
                }
            }
        }
        let many = b",,\n,a,\n\n,,,,\n\n\n\n,b";
        let mut found = Vec::new();
        for_each_delimiter(many, |at| {
            found.push(at);
            Ok(())
        })
        .unwrap();
        assert_eq!(found.len(), many.len() - 2);
        for (at, quote) in [(0, b'"'), (7, b'\r'), (600, b'"'), (1000, b'\r')] {
            let mut long = vec![b'a'; 1003];
            long[at] = quote;
            assert!(has_quote_or_return(&long), "{at}");
            assert!(!has_quote_or_return(&long[at + 1..]), "{at}");
        }
    }
}
