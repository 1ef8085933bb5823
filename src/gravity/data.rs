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
    if let Some(v) = plain_decimal(text) {
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

/// Powers of ten up to 10^19, each exact in an `f64` (every one up to 10^22 is).
const POW10: [f64; 20] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19,
];

/// The value `str::parse::<f64>` gives a plain decimal (`12`, `-3.25`, `0.7215005768435767`:
/// an optional `-`, at least one digit before an optional `.`, at most 19 digits in all, nothing
/// else), read in one pass over the bytes; `None` for any other text (the caller then parses
/// it as before). The digits `m` (below 10^19 < 2^64) and the `k` after the point give the
/// value `m / 10^k` exactly; [`nearest_quotient`] rounds it as `str::parse` does.
#[inline]
fn plain_decimal(cell: &[u8]) -> Option<f64> {
    let (negative, body) = match cell.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, cell),
    };
    let (mut m, mut digits, mut point) = (0u64, 0usize, None);
    let mut at = 0;
    // (m wraps only past 19 digits, which are refused below)
    while let Some(&b) = body.get(at) {
        if let Some(w) = body.get(at..at + 8).and_then(eight_digits) {
            m = m.wrapping_mul(100_000_000).wrapping_add(w);
            (digits, at) = (digits + 8, at + 8);
            continue;
        }
        let d = b.wrapping_sub(b'0');
        if d < 10 {
            m = m.wrapping_mul(10).wrapping_add(u64::from(d));
            digits += 1;
        } else if b == b'.' && point.is_none() {
            point = Some(at);
        } else {
            return None;
        }
        at += 1;
    }
    if digits == 0 || digits > 19 || point == Some(0) {
        return None;
    }
    let k = point.map_or(0, |p| body.len() - p - 1);
    let v = nearest_quotient(m, k)?;
    Some(if negative { -v } else { v })
}

/// The value of eight ASCII digits (`None` if any byte is not a digit), all eight at once in a
/// word, as the standard library's float parser does: the digit test adds `0x46` and subtracts
/// `0x30` in every byte (the lowest byte that is not a digit sets its high bit either way, and
/// no carry reaches it from the digits below), then pairs, fours and eights are joined by
/// three multiplications.
#[inline]
fn eight_digits(bytes: &[u8]) -> Option<u64> {
    let w = u64::from_le_bytes(bytes.try_into().ok()?);
    let above = w.wrapping_add(0x4646_4646_4646_4646);
    let below = w.wrapping_sub(0x3030_3030_3030_3030);
    if (above | below) & 0x8080_8080_8080_8080 != 0 {
        return None;
    }
    const MASK: u64 = 0x0000_00ff_0000_00ff;
    const MUL1: u64 = 0x000f_4240_0000_0064; // 100 + (1_000_000 << 32)
    const MUL2: u64 = 0x0000_2710_0000_0001; // 1 + (10_000 << 32)
    let v = below.wrapping_mul(10).wrapping_add(below >> 8); // digit pairs
    Some(((v & MASK).wrapping_mul(MUL1)).wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2)) >> 32)
}

/// The `f64` nearest to `m / 10^k` (ties to the even significand) for `k <= 19`, the correctly
/// rounded value `str::parse` gives the decimal, or `None` when the check below does not fit in
/// 128 bits (values from 2^54 up).
///
/// With `m <= 2^53` both `m` and `10^k` are exact and one IEEE division rounds their quotient
/// correctly (Clinger 1990). Larger `m` (17 to 19 digits, as shortest round-trip forms often
/// have) start from the same division, which can be one unit in the last place (ulp) off, and
/// correct it with integers: a candidate `q = M·2^E` (`2^52 <= M < 2^53`) is the nearest iff
/// `x = m / 10^k` lies between the midpoints to its neighbours, `(4M − 2)·2^(E−2)` (or
/// `(4M − 1)·2^(E−2)` when `M = 2^52`, whose lower neighbour is half as far) and
/// `(4M + 2)·2^(E−2)`, that is iff `m·2^(2−E)` lies between those multiples times `10^k`; all
/// in `u128`, as `m < 2^64`, `2 − E <= 64` and `(4M + 2)·10^k < 2^119`. A tie takes the even `M`.
#[inline]
fn nearest_quotient(m: u64, k: usize) -> Option<f64> {
    if m <= 1 << 53 {
        // a whole number (most of a panel's cells: years, levels, dummies) needs no division
        return Some(if k == 0 {
            m as f64
        } else {
            m as f64 / POW10[k]
        });
    }
    let p = u128::from(10u64.pow(k as u32));
    let mut q = m as f64 / POW10[k];
    // at most one step each way is ever needed; the bound only keeps the loop finite
    for _ in 0..4 {
        let bits = q.to_bits(); // q >= 2^53 / 10^19 > 0: a normal positive number
        let significand = u128::from((bits & ((1 << 52) - 1)) | (1 << 52));
        let shift = 2 - (((bits >> 52) as i64) - 1075);
        if !(0..=64).contains(&shift) {
            return None;
        }
        let x = u128::from(m) << shift;
        let upper = (4 * significand + 2) * p;
        let below = if significand == 1 << 52 { 1 } else { 2 };
        let lower = (4 * significand - below) * p;
        if x > upper {
            q = f64::from_bits(bits + 1);
        } else if x < lower {
            q = f64::from_bits(bits - 1);
        } else if (x == upper || x == lower) && significand & 1 == 1 {
            return Some(f64::from_bits(if x == upper { bits + 1 } else { bits - 1 }));
        } else {
            return Some(q);
        }
    }
    None
}

/// A cell as text for a message (invalid UTF-8 shown as U+FFFD).
fn shown(cell: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(cell)
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
                format!(
                    "trade \"{}\" is not a number; give a value (0 for no trade)",
                    shown(r[self.c_trade])
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
                    format!(
                        "trade-cost covariate {} is \"{}\", not a number; every pair needs a finite value (a missing cost makes the model meaningless)",
                        self.columns[k], shown(r[c])
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

    /// The one-pass plain-decimal path gives `str::parse`'s bits or declines: random digit
    /// strings of 1 to 20 digits with the point anywhere, shortest round-trip forms, exact
    /// midpoints between neighbouring `f64`s (ties) and the decimals just beside them, and
    /// both sides of powers of two (where the lower neighbour is half as far).
    #[test]
    fn plain_decimals_read_as_str_parse() {
        let check = |t: &str| {
            let want: f64 = t.parse().unwrap();
            if let Some(v) = plain_decimal(t.as_bytes()) {
                assert_eq!(v.to_bits(), want.to_bits(), "{t}");
            }
            assert_eq!(parse_number(t.as_bytes()).to_bits(), want.to_bits(), "{t}");
        };
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut taken = 0;
        for _ in 0..300_000 {
            let r = next();
            let len = 1 + (r % 20) as usize;
            let mut t: String = (0..len)
                .map(|k| char::from(b'0' + ((r >> (k % 16 * 4)) ^ next()) as u8 % 10))
                .collect();
            let point = (next() % (len as u64 + 1)) as usize;
            if point > 0 && point < len {
                t.insert(point, '.');
            }
            if next() % 4 == 0 {
                t.insert(0, '-');
            }
            check(&t);
            let v = f64::from_bits(next() >> 2) % 1e7;
            check(&format!("{v}"));
            taken += usize::from(plain_decimal(t.as_bytes()).is_some());
        }
        assert!(taken > 200_000, "the fast path took only {taken}");
        // the word-wide digit test and value: every byte value in every position
        for pos in 0..8 {
            for b in 0..=255u8 {
                let mut w = *b"31415926";
                w[pos] = b;
                let naive = w.iter().try_fold(0u64, |a, &c| {
                    c.is_ascii_digit().then(|| a * 10 + u64::from(c - b'0'))
                });
                assert_eq!(eight_digits(&w), naive, "{w:?}");
            }
        }
        // midpoints (2M+1)·2^(E−1) written exactly: (2M+1)·5^t / 10^t, and the decimals one
        // unit of the last digit either side of them
        for t in 0..=3u32 {
            for j in 0..2_000u64 {
                for base in [1u64 << 53, (1 << 54) - 4_000, 1 << 54] {
                    let n = u128::from(base + 2 * j + 1) * 5u128.pow(t);
                    for d in [n - 1, n, n + 1] {
                        let digits = d.to_string();
                        if digits.len() > 20 {
                            continue;
                        }
                        let at = digits.len() - t as usize;
                        let text = if t == 0 {
                            digits.clone()
                        } else {
                            format!("{}.{}", &digits[..at], &digits[at..])
                        };
                        check(&text);
                    }
                }
            }
        }
        for t in [
            "9007199254740993",
            "9007199254740995",
            "18014398509481985",
            "18014398509481983",
            "4503599627370496.5",
            "4503599627370497.5",
            "0.0009007199254740993",
            "9999999999999999999",
            "999999999999999999.9",
            "1000000000000000000",
            "0.1000000000000000055511151231257827",
            "0.30000000000000004",
            "2.2258379440043257",
            "123456789012345678.9",
            "5.",
            "-0",
            "0000000000000000001",
        ] {
            check(t);
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
