//! Typed columns for estimation: a [`Dataset`] read from CSV or built in memory.
//!
//! A column is numeric when every cell parses as a number or is a missing value
//! ([`is_missing_marker`]: empty, `NA`, `.`, `NaN`, `NULL`, `#N/A`; or empty and the tokens of
//! a [`NaValues`] list instead; read as NaN); otherwise it is text, its cells kept as written
//! (a missing value among them is a missing value there too).
//! Text columns can be fixed effects or clusters, never regressors. Rows keep their position so that fitted values
//! can be returned aligned to the input, and every error names the file and line.

use crate::error::{Error, Result};
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast, non-cryptographic hasher (FxHash) for factorising columns.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// Hash map with [`FxHasher`].
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
/// A set with the same hasher.
type FxSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;
use std::path::{Path, PathBuf};

/// One column of a [`Dataset`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; NaN marks a missing value.
    Numeric(Vec<f64>),
    /// Text, dictionary-coded.
    Text(TextColumn),
}

impl Column {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }
    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether row `i` holds a missing value: NaN in a numeric column, a missing value of the
    /// column's [`NaValues`] (by default [`is_missing_marker`]: empty, `NA`, `.`, …) in a text
    /// column.
    pub fn is_missing(&self, i: usize) -> bool {
        match self {
            Column::Numeric(v) => v[i].is_nan(),
            Column::Text(t) => t.is_missing(i),
        }
    }
}

/// A table of named, equally long columns.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    names: Vec<String>,
    columns: Vec<Column>,
    nrows: usize,
    /// The CSV file the data came from, for error messages (`None` when built in memory).
    source: Option<PathBuf>,
    /// Columns of the file not read ([`Dataset::from_csv_columns`]), with their place in the
    /// header: still named when a column is missing.
    unread: Vec<(usize, String)>,
    /// The number of columns in the file's header (read or not).
    file_width: usize,
    /// The cells read as missing values; every text column of the dataset follows it.
    na: NaValues,
}

/// A hint for a panel laid out wide (one column per year: `exporter,importer,2010,2011,…`,
/// as a spreadsheet or a pivot table writes it): `estimate` reads a long panel. Empty unless
/// at least two column names are years.
fn wide_layout_hint(names: &[&str]) -> String {
    let years: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.len() == 4 && n.parse::<u16>().is_ok_and(|y| (1800..=2500).contains(&y)))
        .collect();
    match years.as_slice() {
        [first, .., last] => format!(
            ". The columns {first} … {last} look like years: the file seems laid out wide, one column per year; estimate reads a long panel, one row per observation with the year in a column (reshape it, e.g. R's tidyr::pivot_longer, pandas' melt or Stata's reshape long)"
        ),
        _ => String::new(),
    }
}

impl Dataset {
    /// An empty dataset, to be filled with [`Dataset::push_numeric`] / [`Dataset::push_text`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a CSV file with a header line. Columns whose cells all parse as numbers or are
    /// missing values (empty, `NA`, `.`, `NaN`, `NULL`, `#N/A`: NaN) are numeric; others are text, dictionary-coded as they are read (no string per cell).
    /// Cells are trimmed of surrounding spaces. The file is read in blocks of 16 MiB, each
    /// parsed in parallel pieces at line ends, each piece straight into its rows of the final
    /// columns (from the first block with a quote character on,
    /// sequentially by the csv crate), so memory is the columns plus one block.
    pub fn from_csv(path: impl AsRef<Path>) -> Result<Self> {
        Self::read_csv(path.as_ref(), None, &NaValues::default())
    }

    /// As [`Dataset::from_csv`], with `na` the cells read as missing values (`--na-values`):
    /// an empty cell and `na`'s tokens, in place of the default markers. The dataset's text
    /// columns, those defined later included, count the same cells as missing.
    pub fn from_csv_with(path: impl AsRef<Path>, na: &NaValues) -> Result<Self> {
        Self::read_csv(path.as_ref(), None, na)
    }

    /// As [`Dataset::from_csv`], keeping only the columns named in `wanted`: every line is
    /// still split and its fields counted, but the other columns' cells are not parsed, and
    /// take no memory: a wide file (a gravity data set of dozens of variables, a model of
    /// five) costs little more than its used columns to parse. The columns not read are still
    /// named in the error for a missing column; a name in `wanted` that the file does not have
    /// is not an error here.
    pub(crate) fn from_csv_columns(path: &Path, wanted: &[String], na: &NaValues) -> Result<Self> {
        Self::read_csv(path, Some(wanted), na)
    }

    fn read_csv(path: &Path, wanted: Option<&[String]>, na: &NaValues) -> Result<Self> {
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let meta = file.metadata().ok();
        let file_len = meta.as_ref().map_or(0, |m| m.len() as usize);
        let regular = cfg!(any(unix, windows)) && meta.is_some_and(|m| m.is_file());
        let mut rb = ReadBuffer::new(file_len, regular);
        let mut eof = rb.fill(path, &mut file)?;
        while !eof && !rb.data().contains(&b'\n') {
            eof = rb.fill(path, &mut file)?;
        }
        let mut buf = rb.data();
        crate::data::csvio::check_head(path, buf)?;
        let bom = if buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&buf[bom..]);
        let mut header = csv::ByteRecord::new();
        match rdr.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => {
                return Err(Error::data(
                    path,
                    1,
                    "the file is empty; expected a header line",
                ))
            }
            Err(e) => {
                return Err(Error::data(
                    path,
                    1,
                    format!("cannot read the header line: {e}"),
                ))
            }
        }
        let body_start = (bom + rdr.position().byte() as usize).min(buf.len());
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(j, h)| {
                std::str::from_utf8(h.trim_ascii())
                    .map(|s| s.to_string())
                    .map_err(|_| {
                        Error::data(
                            path,
                            1,
                            format!("column {} has a name that is not valid UTF-8", j + 1),
                        )
                    })
            })
            .collect::<Result<_>>()?;
        if names.is_empty() || names.iter().all(|n| n.is_empty()) {
            return Err(Error::data(path, 1, "the header line has no column names"));
        }
        crate::error::check_separator(path, &names)?;
        let mut seen = HashMap::new();
        for (j, n) in names.iter().enumerate() {
            if let Some(k) = seen.insert(n.clone(), j) {
                return Err(Error::data(
                    path,
                    1,
                    format!(
                        "column name '{n}' appears twice (columns {} and {}); rename one",
                        k + 1,
                        j + 1
                    ),
                ));
            }
        }
        let ncol = names.len();
        // The kinds from the first rows: a column with a cell that is not a number is text.
        let mut kinds = vec![Kind::Numeric; ncol];
        {
            let mut sniff = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&buf[body_start..]);
            let mut rec = csv::ByteRecord::new();
            for _ in 0..1000 {
                if !matches!(sniff.read_byte_record(&mut rec), Ok(true)) {
                    break;
                }
                for (k, cell) in kinds.iter_mut().zip(rec.iter()) {
                    let cell = cell.trim_ascii();
                    if parse_number(cell).is_none() && !na.is_missing(cell) {
                        *k = Kind::Text;
                    }
                }
            }
        }
        let read: Vec<bool> = names
            .iter()
            .map(|n| wanted.is_none_or(|w| w.contains(n)))
            .collect();
        for (k, &r) in kinds.iter_mut().zip(&read) {
            if !r {
                *k = Kind::Skip;
            }
        }
        let mut cols: Vec<Builder> = kinds.iter().map(|&k| Builder::new(k)).collect();
        let mut redo = vec![false; ncol];
        let mut nrows = 0usize;
        let mut pos = body_start;
        let mut reserved = false;
        loop {
            let end = if eof {
                buf.len()
            } else {
                buf[pos..]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(pos, |p| pos + p + 1)
            };
            let body = &buf[pos..end];
            if body.contains(&b'"') {
                // Quoting may hide a line end inside a field: the csv crate reads the rest.
                use std::io::Read;
                rb.seek_after(path, &mut file)?;
                let rest = (&buf[pos..]).chain(&mut file);
                nrows += read_quoted(path, rest, &mut cols, &mut redo, nrows, na)?;
                break;
            }
            if !body.is_empty() {
                let pieces =
                    (rayon::current_num_threads() * 2).clamp(1, body.len() / (1 << 18) + 1);
                let parts = split_lines(body, pieces);
                let sizes: Vec<usize> = parts.par_iter().map(|p| max_rows(p)).collect();
                let room: usize = sizes.iter().sum();
                if !reserved && !eof {
                    // Room for the whole file at the rows per byte of this first block.
                    let per_byte = room as f64 / (end - body_start).max(1) as f64;
                    let rest = file_len.saturating_sub(end) as f64 * per_byte * 1.02;
                    cols.iter_mut()
                        .for_each(|b| b.reserve(room + rest as usize + 16));
                    reserved = true;
                }
                // Every column grows by the block's most rows; each piece parses straight into
                // its own rows of the final columns, in parallel.
                cols.par_iter_mut().for_each(|b| b.grow(room));
                let mut per_col: Vec<std::vec::IntoIter<PieceColumn>> = cols
                    .iter_mut()
                    .map(|b| b.piece_columns(nrows, &sizes).into_iter())
                    .collect();
                let work: Vec<(&[u8], Vec<PieceColumn>)> = parts
                    .iter()
                    .map(|&p| (p, per_col.iter_mut().filter_map(Iterator::next).collect()))
                    .collect();
                drop(per_col);
                let parsed: Vec<_> = work
                    .into_par_iter()
                    .map(|(p, mut columns)| {
                        let mut r = vec![false; ncol];
                        let res = parse_plain(p, &mut columns, &mut r, na);
                        let labels: Vec<Vec<&[u8]>> = columns
                            .into_iter()
                            .map(|c| match c {
                                PieceColumn::Text { labels, .. } => labels,
                                _ => Vec::new(),
                            })
                            .collect();
                        (res, labels, r)
                    })
                    .collect();
                let mut at = nrows;
                for ((res, labels, r), &size) in parsed.into_iter().zip(&sizes) {
                    match res {
                        Ok(rows) => {
                            for (b, l) in cols.iter_mut().zip(&labels) {
                                b.finish_piece(at, rows, nrows, l);
                            }
                            nrows += rows;
                        }
                        Err((row, msg)) => return Err(Error::data(path, nrows + row + 2, msg)),
                    }
                    at += size;
                    for (d, s) in redo.iter_mut().zip(r) {
                        *d |= s;
                    }
                }
                cols.iter_mut().for_each(|b| b.truncate(nrows));
                for ((k, b), &r) in kinds.iter_mut().zip(cols.iter_mut()).zip(&redo) {
                    if r {
                        *k = Kind::Skip;
                        *b = Builder::Skip;
                    }
                }
            }
            if eof {
                break;
            }
            rb.consume(end);
            pos = 0;
            eof = rb.fill(path, &mut file)?;
            buf = rb.data();
        }
        drop(rb);
        // A numeric column that met text after its first rows: read it again, as text.
        if redo.iter().any(|&r| r) {
            use std::io::{Seek, SeekFrom};
            let mut again: Vec<Builder> = redo
                .iter()
                .map(|&r| Builder::new(if r { Kind::Text } else { Kind::Skip }))
                .collect();
            let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            f.seek(SeekFrom::Start(body_start as u64))
                .map_err(|e| Error::io(path, e))?;
            let mut unused = vec![false; ncol];
            read_quoted(
                path,
                std::io::BufReader::new(f),
                &mut again,
                &mut unused,
                0,
                na,
            )?;
            for ((b, a), &r) in cols.iter_mut().zip(again).zip(&redo) {
                if r {
                    *b = a;
                }
            }
        }
        let mut columns = Vec::with_capacity(ncol);
        let mut kept = Vec::with_capacity(ncol);
        let mut unread = Vec::new();
        for (j, (b, name)) in cols.into_iter().zip(names).enumerate() {
            if !read[j] {
                unread.push((j, name));
                continue;
            }
            match b.finish(na) {
                Ok(Some(c)) => {
                    columns.push(c);
                    kept.push(name);
                }
                Ok(None) => {
                    return Err(Error::data(
                        path,
                        1,
                        format!("internal: column '{name}' was not read"),
                    ))
                }
                Err(row) => {
                    return Err(Error::data(
                        path,
                        row + 2,
                        format!("column '{name}' is not valid UTF-8"),
                    ))
                }
            }
        }
        Ok(Dataset {
            names: kept,
            columns,
            nrows,
            source: Some(path.to_path_buf()),
            unread,
            file_width: ncol,
            na: na.clone(),
        })
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Column names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The cells read as missing values ([`Dataset::from_csv_with`]; the default markers
    /// otherwise).
    pub fn na_values(&self) -> &NaValues {
        &self.na
    }

    /// The CSV file this dataset was read from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|j| &self.columns[j])
    }

    /// The column called `name`, or an error listing the available names.
    pub(crate) fn require(&self, name: &str, context: &str) -> Result<&Column> {
        self.column(name).ok_or_else(|| {
            let names = self.listed_names();
            let hint = crate::error::did_you_mean_phrase(name, names.iter().copied(), '\'')
                .map(|near| format!(" ({near})"))
                .unwrap_or_default();
            Error::invalid(
                context.to_string(),
                format!(
                    "no column named '{name}'{hint}; the data has: {}{}",
                    names.join(", "),
                    wide_layout_hint(&names)
                ),
            )
        })
    }

    /// Every column name, in order, those of the file not read included: the header's
    /// columns in place (as after a whole read, where a column defined under a file column's
    /// name replaces it in place), then the other defined ones.
    fn listed_names(&self) -> Vec<&str> {
        if self.unread.is_empty() {
            return self.names.iter().map(String::as_str).collect();
        }
        let mut all = Vec::with_capacity(self.names.len() + self.unread.len());
        let mut read = self.names.iter();
        let mut unread = self.unread.iter().peekable();
        for j in 0..self.file_width {
            match unread.next_if(|(k, _)| *k == j) {
                Some((_, n)) => all.push(n.as_str()),
                None => all.extend(read.next().map(String::as_str)),
            }
        }
        let replaced = |n: &String| self.unread.iter().any(|(_, u)| u == n);
        all.extend(read.filter(|n| !replaced(n)).map(String::as_str));
        all
    }

    /// Adds (or replaces) a numeric column.
    pub fn push_numeric(&mut self, name: impl Into<String>, values: Vec<f64>) -> Result<()> {
        self.push(name.into(), Column::Numeric(values))
    }

    /// Adds (or replaces) a text column.
    pub fn push_text(&mut self, name: impl Into<String>, values: Vec<String>) -> Result<()> {
        self.push(name.into(), Column::Text(values.into()))
    }

    /// Adds (or replaces) a column; a text column counts the dataset's missing values
    /// ([`Dataset::na_values`]) as missing.
    pub(crate) fn push(&mut self, name: String, mut column: Column) -> Result<()> {
        if let Column::Text(t) = &mut column {
            t.na = self.na.clone();
        }
        if self.columns.is_empty() && self.names.is_empty() {
            self.nrows = column.len();
        } else if column.len() != self.nrows {
            return Err(Error::invalid(
                format!("column '{name}'"),
                format!(
                    "has {} values but the dataset has {} rows",
                    column.len(),
                    self.nrows
                ),
            ));
        }
        if name.is_empty() {
            return Err(Error::invalid("column name", "must not be empty"));
        }
        match self.names.iter().position(|n| *n == name) {
            Some(j) => self.columns[j] = column,
            None => {
                self.names.push(name);
                self.columns.push(column);
            }
        }
        Ok(())
    }

    /// Takes every numeric column but `keep` out of the data set, for their memory (a caller
    /// that needs no more of the data than `keep`).
    pub(crate) fn take_numeric_except(&mut self, keep: &str) -> Vec<Vec<f64>> {
        let mut taken = Vec::new();
        let mut j = 0;
        while j < self.columns.len() {
            if self.names[j] != keep && matches!(self.columns[j], Column::Numeric(_)) {
                self.names.remove(j);
                if let Column::Numeric(v) = self.columns.remove(j) {
                    taken.push(v);
                }
            } else {
                j += 1;
            }
        }
        taken
    }

    /// The error for the text column `name` used as numbers (`what`: "outcome 'trade'",
    /// "regressor 'log(dist)'"). When some of its cells are numbers, the column is numbers
    /// with a few cells that are not (`NA`, `.`, `n/a` from another program): the error names
    /// the first such row and its cell. Otherwise it is text through and through, and `pure`
    /// says what to do instead.
    pub(crate) fn text_used_as_numbers(
        &self,
        name: &str,
        what: &str,
        column: &TextColumn,
        pure: &str,
    ) -> Error {
        let number = |s: &str| parse_number(s.as_bytes()).is_some();
        let missing = |s: &str| self.na.is_missing(s.as_bytes());
        let mixed = column.labels().iter().any(|l| number(l));
        let odd = column
            .iter()
            .position(|s| !missing(s) && !number(s))
            .filter(|_| mixed);
        // A number written for people (`1,234`, `1,5`, `12%`): said so, at its first row.
        let formatted = column
            .iter()
            .enumerate()
            .find_map(|(i, s)| crate::error::number_format_hint(s).map(|how| (i, how)));
        match (odd, formatted) {
            (_, Some((i, how))) => self.row_error(
                i,
                format!(
                    "column '{name}' ({what}) was read as text: this row has '{}', a number formatted for reading; {how}",
                    column.get(i)
                ),
            ),
            (Some(i), None) => self.row_error(
                i,
                format!(
                    "column '{name}' ({what}) holds numbers, but this row has '{}', which is not one, so the column was read as text; write the number, or {} (rows missing a value the model uses are left out of the fit)",
                    column.get(i),
                    self.na.how_to_mark(column.get(i))
                ),
            ),
            (None, None) => Error::invalid(what.to_string(), format!("column '{name}' is text, not numbers; {pure}")),
        }
    }

    /// An error located at data row `i` (0-based): the CSV file and line when read from a file.
    pub(crate) fn row_error(&self, i: usize, message: impl Into<String>) -> Error {
        match &self.source {
            Some(p) => Error::data(p, i + 2, message),
            None => Error::invalid(format!("dataset row {}", i + 1), message),
        }
    }
}

/// A text column, dictionary-coded as it is read: the code of each row and the distinct
/// values (in order of first appearance). No string is stored per row.
#[derive(Debug, Clone, Default)]
pub struct TextColumn {
    codes: Vec<u32>,
    labels: Vec<String>,
    /// Which values are missing (those of the dataset the column is in).
    na: NaValues,
}

impl TextColumn {
    /// The value of row `i`.
    pub fn get(&self, i: usize) -> &str {
        &self.labels[self.codes[i] as usize]
    }
    /// Whether row `i` is a missing value ([`NaValues`]: by default empty, `NA`, `.`, …).
    pub fn is_missing(&self, i: usize) -> bool {
        self.na.is_missing(self.get(i).as_bytes())
    }
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }
    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
    /// The code of every row (an index into [`TextColumn::labels`]).
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }
    /// The distinct values, in order of first appearance.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
    /// For each of [`TextColumn::labels`], whether it is a missing value ([`NaValues`]: by
    /// default empty, `NA`, …).
    pub(crate) fn missing_labels(&self) -> Vec<bool> {
        self.labels
            .iter()
            .map(|l| self.na.is_missing(l.as_bytes()))
            .collect()
    }
    /// The values row by row.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.codes.iter().map(|&c| self.labels[c as usize].as_str())
    }
}

impl PartialEq for TextColumn {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.na == other.na && self.iter().eq(other.iter())
    }
}

impl FromIterator<String> for TextColumn {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        let mut map: FxMap<String, u32> = FxMap::default();
        let mut t = TextColumn::default();
        for s in iter {
            let next = t.labels.len() as u32;
            let c = match map.get(&s) {
                Some(&c) => c,
                None => {
                    map.insert(s.clone(), next);
                    t.labels.push(s);
                    next
                }
            };
            t.codes.push(c);
        }
        t
    }
}

impl From<Vec<String>> for TextColumn {
    fn from(v: Vec<String>) -> Self {
        v.into_iter().collect()
    }
}

/// `rest` cut into consecutive parts of the given `sizes` (each part its own mutable slice, so
/// that the parts can be filled side by side).
pub(crate) fn cut<T>(mut rest: &mut [T], sizes: impl IntoIterator<Item = usize>) -> Vec<&mut [T]> {
    sizes
        .into_iter()
        .map(|k| {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(k);
            rest = tail;
            head
        })
        .collect()
}

/// Bytes read from the file per block (then parsed in parallel pieces): the reader's memory
/// beyond the columns themselves.
const READ_BLOCK: usize = 16 << 20;

/// One column of one parsed piece, written straight into the piece's rows of the final column
/// (no per-piece copy): numbers while every cell is one, else dictionary-coded text with codes
/// local to the piece (`labels` borrowed from the piece's bytes), made global afterwards.
enum PieceColumn<'b, 'c> {
    /// A column being re-read as text in a second pass: nothing kept.
    Skip,
    Numeric(&'c mut [f64]),
    Text {
        map: FxMap<&'b [u8], u32>,
        labels: Vec<&'b [u8]>,
        codes: &'c mut [u32],
    },
}

impl<'b> PieceColumn<'b, '_> {
    /// Writes the code of `cell` at row `row`.
    fn push_text(&mut self, row: usize, cell: &'b [u8]) {
        if let PieceColumn::Text { map, labels, codes } = self {
            // Sorted data repeat a value row after row: compare with the last row first.
            if row > 0 {
                let c = codes[row - 1];
                if labels[c as usize] == cell {
                    codes[row] = c;
                    return;
                }
            }
            let next = labels.len() as u32;
            let c = *map.entry(cell).or_insert_with(|| {
                labels.push(cell);
                next
            });
            codes[row] = c;
        }
    }
}

/// The most rows a piece can hold: its line ends, plus an unterminated last line (empty lines
/// are skipped, so a piece may hold fewer).
fn max_rows(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
        + usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

/// Parses a number the way `str::parse::<f64>` does, with a fast path for plain decimals
/// ([`crate::decimal::plain_decimal`], exact up to 19 digits).
#[inline]
fn parse_number(cell: &[u8]) -> Option<f64> {
    crate::decimal::plain_decimal(cell)
        .or_else(|| std::str::from_utf8(cell).ok()?.parse::<f64>().ok())
}

/// Whether a cell (trimmed) is a missing value as other programs write one: empty (R's
/// `write.csv` for text, Stata's `export delimited`), `NA` (R), `.` (Stata), `NaN` in any case
/// (pandas, R), `NULL` (SQL) or `#N/A` (spreadsheets). In a numeric column it is read as NaN
/// (which `NaN` already parses to); in a text column it stays as written and counts as missing.
/// Checked only on cells that are not numbers, so reading numbers costs nothing more.
pub(crate) fn is_missing_marker(cell: &[u8]) -> bool {
    match cell.len() {
        0 => true,
        1 => cell == b".",
        2 => cell == b"NA",
        3 => cell.eq_ignore_ascii_case(b"nan"),
        4 => cell == b"NULL" || cell == b"#N/A",
        _ => false,
    }
}

/// The cells read as missing values: an empty cell always, and either the markers other
/// programs write ([`is_missing_marker`]: `NA`, `.`, `NaN` in any case, `NULL`, `#N/A`; the
/// default) or the tokens of a list that replaces them (`--na-values`, as R's `na.strings` or
/// pandas' `na_values` with `keep_default_na=False`). A token matches a cell exactly: case
/// counts, and the cell is compared after the CSV's quotes are taken off and its surrounding
/// spaces trimmed (so a quoted `"NA"` is the token `NA`, as in R's `read.csv`). Only cells that
/// are not numbers are compared, so a number is never a missing value, whatever the list (and
/// `NaN`, a number that is not one, is missing in a numeric column under any list). Cheap to
/// clone: the text columns of a dataset share it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NaValues(Option<std::sync::Arc<[String]>>);

impl NaValues {
    /// Reads `--na-values`: comma-separated tokens, each trimmed of surrounding spaces (as
    /// cells are); `''` (nothing) is no token, so that only empty cells are missing. Refused,
    /// saying what to write: an empty item in a longer list (`NA,,.`), `none` alone (it could
    /// mean no token or the text `none`), a token with a quote character (tokens are matched
    /// after the quotes are taken off) and a token that is a number (never read as missing).
    pub fn parse(list: &str) -> std::result::Result<Self, String> {
        let list = list.trim_ascii();
        if list.is_empty() {
            return Ok(NaValues(Some(std::sync::Arc::from([]))));
        }
        if list.eq_ignore_ascii_case("none") {
            return Err(format!(
                "'{list}' could mean no token or the text '{list}'; for only empty cells as missing values write --na-values '' (an empty list), and to count cells written '{list}' as missing list it with another token, e.g. --na-values {list},NA"
            ));
        }
        let mut tokens = Vec::new();
        for (k, item) in list.split(',').enumerate() {
            let t = item.trim_ascii();
            if t.is_empty() {
                let rest: Vec<&str> = list
                    .split(',')
                    .map(str::trim_ascii)
                    .filter(|t| !t.is_empty())
                    .collect();
                return Err(format!(
                    "item {} of '{list}' is empty; an empty cell is always a missing value, so leave the empty item out (--na-values {}), or write --na-values '' for only empty cells",
                    k + 1,
                    rest.join(",")
                ));
            }
            if t.contains('"') {
                return Err(format!(
                    "the token {t} has a quote character; tokens are matched after the CSV's quotes are taken off (a quoted \"NA\" in the file is NA), so write it without quotes: --na-values {}",
                    t.replace('"', "")
                ));
            }
            if parse_number(t.as_bytes()).is_some_and(|x| !x.is_nan()) {
                return Err(format!(
                    "the token '{t}' is a number, and a cell that is a number is read as that number, never as a missing value; leave it out of the list and filter such rows instead, e.g. --subset 'COLUMN != {t}'"
                ));
            }
            tokens.push(t.to_string());
        }
        Ok(NaValues(Some(tokens.into())))
    }

    /// Whether the default markers are used ([`is_missing_marker`]).
    pub fn is_default(&self) -> bool {
        self.0.is_none()
    }

    /// The tokens that replace the default markers (`None` for the default).
    pub fn tokens(&self) -> Option<&[String]> {
        self.0.as_deref()
    }

    /// Whether a cell (trimmed, unquoted) is a missing value. Called only on cells that are
    /// not numbers.
    #[inline]
    pub(crate) fn is_missing(&self, cell: &[u8]) -> bool {
        match &self.0 {
            None => is_missing_marker(cell),
            Some(tokens) => cell.is_empty() || tokens.iter().any(|t| t.as_bytes() == cell),
        }
    }

    /// The missing values as messages list them: `empty, NA, ., NaN, NULL, #N/A` by default.
    pub(crate) fn describe(&self) -> String {
        match &self.0 {
            None => "empty, NA, ., NaN, NULL, #N/A".to_string(),
            Some(t) if t.is_empty() => "empty only, as --na-values '' says".to_string(),
            Some(t) => format!("empty, {}, as --na-values says", t.join(", ")),
        }
    }

    /// How to mark a missing value instead of `cell` (a cell that is not a number and not
    /// missing), for an error's advice: by default "mark a missing value as an empty cell, NA
    /// or .".
    pub(crate) fn how_to_mark(&self, cell: &str) -> String {
        match &self.0 {
            None => "mark a missing value as an empty cell, NA or .".to_string(),
            Some(t) if t.is_empty() => format!(
                "mark a missing value as an empty cell (--na-values ''), or list '{cell}' in --na-values"
            ),
            Some(t) => format!(
                "mark a missing value as an empty cell or as {} (--na-values), or add '{cell}' to --na-values",
                t.join(" or ")
            ),
        }
    }
}

/// How each column is read: from the first rows (a column with a cell that is not a number is
/// text), and a numeric column that meets text further down is read again as text.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Numeric,
    Text,
    Skip,
}

/// Parses rows of a piece without quote characters into `columns` (each with room for
/// [`max_rows`] rows): lines split at `\n` (a trailing `\r` dropped, empty lines skipped, as
/// the csv crate does), cells at `,` and trimmed of spaces. A numeric column meeting a cell
/// that is not a number is flagged in `redo` (and kept no further). Returns the number of rows;
/// errors carry the 0-based row within the piece.
fn parse_plain<'b>(
    bytes: &'b [u8],
    columns: &mut [PieceColumn<'b, '_>],
    redo: &mut [bool],
    na: &NaValues,
) -> std::result::Result<usize, (usize, String)> {
    let ncol = columns.len();
    let mut nrows = 0;
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let mut j = 0;
        for cell in line.split(|&b| b == b',') {
            if let Some(col) = columns.get_mut(j) {
                let cell = cell.trim_ascii();
                match col {
                    PieceColumn::Numeric(v) => {
                        if let Some(x) = parse_number(cell) {
                            v[nrows] = x;
                        } else if na.is_missing(cell) {
                            v[nrows] = f64::NAN;
                        } else {
                            redo[j] = true;
                            *col = PieceColumn::Skip;
                        }
                    }
                    PieceColumn::Text { .. } => col.push_text(nrows, cell),
                    PieceColumn::Skip => {}
                }
            }
            j += 1;
        }
        if j != ncol {
            return Err((
                nrows,
                format!("{j} fields, but the header has {ncol}; check quoting and separators"),
            ));
        }
        nrows += 1;
    }
    Ok(nrows)
}

/// A column being assembled from the pieces, in file order.
enum Builder {
    Skip,
    Numeric(Vec<f64>),
    Text {
        map: FxMap<Vec<u8>, u32>,
        labels: Vec<Vec<u8>>,
        codes: Vec<u32>,
    },
}

impl Builder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Numeric => Builder::Numeric(Vec::new()),
            Kind::Text => Builder::Text {
                map: FxMap::default(),
                labels: Vec::new(),
                codes: Vec::new(),
            },
            Kind::Skip => Builder::Skip,
        }
    }

    fn reserve(&mut self, rows: usize) {
        match self {
            Builder::Numeric(v) => v.reserve(rows),
            Builder::Text { codes, .. } => codes.reserve(rows),
            Builder::Skip => {}
        }
    }

    fn code(map: &mut FxMap<Vec<u8>, u32>, labels: &mut Vec<Vec<u8>>, cell: &[u8]) -> u32 {
        match map.get(cell) {
            Some(&c) => c,
            None => {
                let c = labels.len() as u32;
                map.insert(cell.to_vec(), c);
                labels.push(cell.to_vec());
                c
            }
        }
    }

    /// Room for `rows` more rows at the end (filled by the pieces through
    /// [`Builder::piece_columns`]), written in parallel: the first touch of a fresh page costs
    /// a page fault (about 3 µs a 4 KiB page on a virtual machine), so a column of a million
    /// rows takes several milliseconds to touch, and both cores share that.
    fn grow(&mut self, rows: usize) {
        match self {
            Builder::Numeric(v) => v.par_extend(rayon::iter::repeat_n(f64::NAN, rows)),
            Builder::Text { codes, .. } => codes.par_extend(rayon::iter::repeat_n(0, rows)),
            Builder::Skip => {}
        }
    }

    /// The rows from `from` on, cut at `sizes` into one [`PieceColumn`] per piece.
    fn piece_columns<'b, 'c>(
        &'c mut self,
        from: usize,
        sizes: &[usize],
    ) -> Vec<PieceColumn<'b, 'c>> {
        match self {
            Builder::Numeric(v) => cut(&mut v[from..], sizes.iter().copied())
                .into_iter()
                .map(PieceColumn::Numeric)
                .collect(),
            Builder::Text { codes, .. } => cut(&mut codes[from..], sizes.iter().copied())
                .into_iter()
                .map(|codes| PieceColumn::Text {
                    map: FxMap::default(),
                    labels: Vec::new(),
                    codes,
                })
                .collect(),
            Builder::Skip => sizes.iter().map(|_| PieceColumn::Skip).collect(),
        }
    }

    /// Finishes a piece written at rows `at..at + rows`: text codes made global (the piece's
    /// `labels` in the column's dictionary), then the rows moved down to `to` (where the
    /// previous pieces ended, when those held empty lines).
    fn finish_piece(&mut self, at: usize, rows: usize, to: usize, labels: &[&[u8]]) {
        match self {
            Builder::Numeric(v) if to != at => v.copy_within(at..at + rows, to),
            Builder::Numeric(_) => {}
            Builder::Text {
                map,
                labels: all,
                codes,
            } => {
                let remap: Vec<u32> = labels.iter().map(|l| Self::code(map, all, l)).collect();
                for c in &mut codes[at..at + rows] {
                    *c = remap[*c as usize];
                }
                if to != at {
                    codes.copy_within(at..at + rows, to);
                }
            }
            Builder::Skip => {}
        }
    }

    /// Drops the rows from `len` on (room the pieces did not fill).
    fn truncate(&mut self, len: usize) {
        match self {
            Builder::Numeric(v) => v.truncate(len),
            Builder::Text { codes, .. } => codes.truncate(len),
            Builder::Skip => {}
        }
    }

    /// Adds one (untrimmed) cell; a numeric column meeting text is flagged in `redo`.
    fn push_cell(&mut self, cell: &[u8], redo: &mut bool, na: &NaValues) {
        let cell = cell.trim_ascii();
        match self {
            Builder::Numeric(v) => {
                if let Some(x) = parse_number(cell) {
                    v.push(x);
                } else if na.is_missing(cell) {
                    v.push(f64::NAN);
                } else {
                    *redo = true;
                    *self = Builder::Skip;
                }
            }
            Builder::Text { map, labels, codes } => {
                let c = Self::code(map, labels, cell);
                codes.push(c);
            }
            Builder::Skip => {}
        }
    }

    /// The finished column, a text one counting `na` as missing; text must be UTF-8
    /// (`Err(row)` names the first row that is not).
    fn finish(self, na: &NaValues) -> std::result::Result<Option<Column>, usize> {
        Ok(match self {
            Builder::Skip => None,
            Builder::Numeric(v) => Some(Column::Numeric(v)),
            Builder::Text { labels, codes, .. } => {
                let mut out = Vec::with_capacity(labels.len());
                for (c, l) in labels.into_iter().enumerate() {
                    match String::from_utf8(l) {
                        Ok(s) => out.push(s),
                        Err(_) => {
                            let row = codes.iter().position(|&k| k as usize == c).unwrap_or(0);
                            return Err(row);
                        }
                    }
                }
                Some(Column::Text(TextColumn {
                    codes,
                    labels: out,
                    na: na.clone(),
                }))
            }
        })
    }
}

/// Reads `file` from its current position with the csv crate (quoted fields), adding every
/// record's cells to `cols` (row numbers in errors count from `first_row`, 0-based data row).
fn read_quoted(
    path: &Path,
    input: impl std::io::Read,
    cols: &mut [Builder],
    redo: &mut [bool],
    first_row: usize,
    na: &NaValues,
) -> Result<usize> {
    let ncol = cols.len();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let mut row = first_row;
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(row - first_row),
            Err(e) => return Err(Error::data(path, row + 2, format!("malformed CSV: {e}"))),
        }
        if record.len() != ncol {
            return Err(Error::data(
                path,
                row + 2,
                format!(
                    "{} fields, but the header has {ncol}; check quoting and separators",
                    record.len()
                ),
            ));
        }
        for ((b, cell), r) in cols.iter_mut().zip(record.iter()).zip(redo.iter_mut()) {
            b.push_cell(cell, r, na);
        }
        row += 1;
    }
}

/// The reader's block buffer: `bytes[..len]` are the bytes read and not yet parsed, and the
/// next read starts at byte `offset` of the file. The buffer is written once when it is made,
/// on all cores (its first touch, see `Builder::grow`), as far as the file needs; every block
/// is read into it, from a regular file on all cores at once (each core reads its part of the
/// block at its offset), from a pipe in one stream.
struct ReadBuffer {
    bytes: Vec<u8>,
    len: usize,
    offset: u64,
    file_len: usize,
    regular: bool,
}

impl ReadBuffer {
    fn new(file_len: usize, regular: bool) -> Self {
        let size = if regular {
            READ_BLOCK.min(file_len + 1)
        } else {
            READ_BLOCK
        } + (1 << 16);
        let mut bytes = Vec::with_capacity(size);
        bytes.par_extend(rayon::iter::repeat_n(0u8, size));
        ReadBuffer {
            bytes,
            len: 0,
            offset: 0,
            file_len,
            regular,
        }
    }

    /// The bytes read and not yet parsed.
    fn data(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Drops the first `end` bytes (parsed), keeping the rest at the start.
    fn consume(&mut self, end: usize) {
        self.bytes.copy_within(end..self.len, 0);
        self.len -= end;
    }

    /// Reads the next block (up to `READ_BLOCK` bytes) after the bytes kept; returns whether
    /// the file ended.
    fn fill(&mut self, path: &Path, file: &mut std::fs::File) -> Result<bool> {
        use std::io::Read;
        let want = if self.regular {
            // One byte more than the file has left, so that its end is seen in this read.
            READ_BLOCK.min(self.file_len.saturating_sub(self.offset as usize) + 1)
        } else {
            READ_BLOCK
        };
        if self.bytes.len() < self.len + want {
            self.bytes.resize(self.len + want, 0);
        }
        let dst = &mut self.bytes[self.len..self.len + want];
        let got = if self.regular {
            read_at_in_parallel(file, dst, self.offset)
        } else {
            read_full(dst, |b, _| file.read(b))
        }
        .map_err(|e| Error::io(path, e))?;
        self.len += got;
        self.offset += got as u64;
        Ok(got < want)
    }

    /// Places the file's cursor after the bytes read (a regular file is read at offsets, which
    /// leave the cursor where it was), for a reader that goes on from there.
    fn seek_after(&self, path: &Path, file: &mut std::fs::File) -> Result<()> {
        use std::io::{Seek, SeekFrom};
        if self.regular {
            file.seek(SeekFrom::Start(self.offset))
                .map_err(|e| Error::io(path, e))?;
        }
        Ok(())
    }
}

/// Reads `dst.len()` bytes of `file` from byte `offset` on (fewer at its end), each core
/// reading one part at its own offset. Returns the bytes read: the parts filled in full, then
/// what the first short part holds (bytes a later part may have read beyond a short read are
/// read again by the next call).
fn read_at_in_parallel(
    file: &std::fs::File,
    dst: &mut [u8],
    offset: u64,
) -> std::io::Result<usize> {
    let part = dst
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1 << 20);
    let got: Vec<std::io::Result<usize>> = dst
        .par_chunks_mut(part)
        .enumerate()
        .map(|(i, c)| {
            let at = offset + (i * part) as u64;
            read_full(c, |b, done| read_at(file, b, at + done as u64))
        })
        .collect();
    let mut total = 0;
    for (g, c) in got.into_iter().zip(dst.chunks(part)) {
        let g = g?;
        total += g;
        if g < c.len() {
            break;
        }
    }
    Ok(total)
}

/// Fills `buf` by calls `read(rest, done)` (`rest` the part not yet filled, `done` the bytes
/// read so far) until it is full or a call reads nothing (the end), retrying an interrupted
/// call. Returns the bytes read.
fn read_full(
    buf: &mut [u8],
    mut read: impl FnMut(&mut [u8], usize) -> std::io::Result<usize>,
) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match read(&mut buf[got..], got) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads into `buf` from byte `at` of `file` (`pread`; on Windows `seek_read`, which also moves
/// the cursor: [`ReadBuffer::seek_after`] places it before a stream reader goes on).
#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, at)
}

#[cfg(windows)]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, at)
}

/// Elsewhere files are read in one stream (`Dataset::from_csv` takes no file as regular).
#[cfg(not(any(unix, windows)))]
fn read_at(_: &std::fs::File, _: &mut [u8], _: u64) -> std::io::Result<usize> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Splits `body` into about `pieces` parts at line ends.
fn split_lines(body: &[u8], pieces: usize) -> Vec<&[u8]> {
    let mut bounds = vec![0usize];
    for k in 1..pieces {
        let target = (body.len() * k / pieces).max(*bounds.last().unwrap_or(&0));
        let cut = body[target..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| target + p + 1)
            .unwrap_or(body.len());
        bounds.push(cut);
    }
    bounds.push(body.len());
    bounds.windows(2).map(|w| &body[w[0]..w[1]]).collect()
}

/// A categorical column coded 0..nlevels, with the label of each level.
#[derive(Debug, Clone, Default)]
pub(crate) struct Factor {
    /// Display name, e.g. `exporter^year`.
    pub name: String,
    /// The level of each observation.
    pub codes: Vec<u32>,
    /// Labels of the levels (values joined by `_` for interactions), sorted (numerically for
    /// numeric columns, by text otherwise; interactions by their components).
    pub labels: Vec<String>,
}

impl Factor {
    pub(crate) fn nlevels(&self) -> usize {
        self.labels.len()
    }

    /// Builds the factor of the interaction of `columns` (one column: a plain factor) over the
    /// rows `rows` of `ds`.
    #[cfg(test)]
    pub(crate) fn from_columns(
        ds: &Dataset,
        columns: &[String],
        rows: &[usize],
        context: &str,
    ) -> Result<Factor> {
        Self::from_columns_cached(ds, columns, rows, context, &mut FactorCache::default())
    }

    /// As [`Factor::from_columns`], reusing single-column factorisations from `cache` (which
    /// must only be used with the same `ds` and `rows`).
    #[cfg(test)]
    pub(crate) fn from_columns_cached(
        ds: &Dataset,
        columns: &[String],
        rows: &[usize],
        context: &str,
        cache: &mut FactorCache,
    ) -> Result<Factor> {
        cache.prefill(ds, columns, rows, context)?;
        Self::from_columns_prepared(ds, columns, rows, context, cache)
    }

    /// As [`Factor::from_columns`], using the factorisations in `cache` where present.
    pub(crate) fn from_columns_prepared(
        ds: &Dataset,
        columns: &[String],
        rows: &[usize],
        context: &str,
        cache: &FactorCache,
    ) -> Result<Factor> {
        use std::borrow::Cow;
        // The cached codes are borrowed: only the first column's are copied (into the
        // interaction's codes, rewritten in place below).
        let mut key_codes: Vec<Cow<[u32]>> = Vec::with_capacity(columns.len());
        let mut key_labels: Vec<Cow<[String]>> = Vec::with_capacity(columns.len());
        for c in columns {
            match cache.0.get(c) {
                Some((codes, labels)) => {
                    key_codes.push(Cow::Borrowed(codes));
                    key_labels.push(Cow::Borrowed(labels));
                }
                None => {
                    let (codes, labels) = factorize(ds, c, ds.require(c, context)?, rows)?;
                    key_codes.push(Cow::Owned(codes));
                    key_labels.push(Cow::Owned(labels));
                }
            }
        }
        if columns.len() == 1 {
            return Ok(Factor {
                name: columns[0].clone(),
                codes: key_codes.pop().unwrap_or_default().into_owned(),
                labels: key_labels.pop().unwrap_or_default().into_owned(),
            });
        }
        // Combine pairwise. The levels of each column are in sorted order, so the levels of
        // an interaction, numbered by `(level so far, level of the next column)` in
        // lexicographic order, are in the sorted order of their components: the distinct
        // pairs are found (a table when the product of the level counts is small, else a hash
        // set), numbered in order, and every row looked up. `parts` holds the components of
        // each level, `k` codes per level after `k` columns.
        let mut codes = std::mem::take(&mut key_codes[0]).into_owned();
        let mut parts: Vec<u32> = (0..key_labels[0].len() as u32).collect();
        for (k, other) in key_codes.iter().enumerate().skip(1) {
            let nb = key_labels[k].len() as u64;
            let pair = |c: u32, o: u32| c as u64 * nb + o as u64;
            let present = if (parts.len() / k) as u64 * nb <= 1 << 22 {
                let mut table = vec![u32::MAX; (parts.len() / k) * nb as usize];
                for (&c, &o) in codes.iter().zip(other.iter()) {
                    table[pair(c, o) as usize] = 0;
                }
                let mut present = Vec::new();
                for (key, slot) in table.iter_mut().enumerate() {
                    if *slot == 0 {
                        *slot = present.len() as u32;
                        present.push(key as u64);
                    }
                }
                let table = &table;
                codes
                    .par_iter_mut()
                    .zip(other.par_iter())
                    .for_each(|(c, &o)| *c = table[pair(*c, o) as usize]);
                present
            } else {
                let seen: FxSet<u64> = codes
                    .iter()
                    .zip(other.iter())
                    .map(|(&c, &o)| pair(c, o))
                    .collect();
                let mut present: Vec<u64> = seen.into_iter().collect();
                present.sort_unstable();
                let number: FxMap<u64, u32> = present
                    .iter()
                    .enumerate()
                    .map(|(l, &key)| (key, l as u32))
                    .collect();
                codes
                    .par_iter_mut()
                    .zip(other.par_iter())
                    .for_each(|(c, &o)| *c = number[&pair(*c, o)]);
                present
            };
            let mut next = Vec::with_capacity(present.len() * (k + 1));
            for &key in &present {
                let c = (key / nb) as usize;
                next.extend_from_slice(&parts[c * k..(c + 1) * k]);
                next.push((key % nb) as u32);
            }
            parts = next;
        }
        let width = columns.len();
        // Each label built in one allocation of its final size.
        let labels = parts
            .par_chunks(width)
            .map(|p| {
                let part = |k: usize| key_labels[k][p[k] as usize].as_str();
                let mut label = String::with_capacity((0..width).map(|k| part(k).len() + 1).sum());
                for k in 0..width {
                    if k > 0 {
                        label.push('_');
                    }
                    label.push_str(part(k));
                }
                label
            })
            .collect();
        Ok(Factor {
            name: columns.join("^"),
            codes,
            labels,
        })
    }
}

/// Single-column factorisations shared between the fixed effects and clusters of one fit.
#[derive(Default)]
pub(crate) struct FactorCache(FxMap<String, (Vec<u32>, Vec<String>)>);

impl FactorCache {
    /// Factorises the columns not yet in the cache, in parallel. Errors come in column order.
    pub(crate) fn prefill(
        &mut self,
        ds: &Dataset,
        columns: &[String],
        rows: &[usize],
        context: &str,
    ) -> Result<()> {
        let mut todo: Vec<&String> = Vec::new();
        for c in columns {
            if !self.0.contains_key(c) && !todo.contains(&c) {
                todo.push(c);
            }
        }
        let done: Vec<Result<(Vec<u32>, Vec<String>)>> = todo
            .par_iter()
            .map(|c| factorize(ds, c, ds.require(c, context)?, rows))
            .collect();
        for (c, f) in todo.into_iter().zip(done) {
            self.0.insert(c.clone(), f?);
        }
        Ok(())
    }
}

/// Formats a number the way it would be typed: integers without decimals.
pub(crate) fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn factorize(
    ds: &Dataset,
    name: &str,
    col: &Column,
    rows: &[usize],
) -> Result<(Vec<u32>, Vec<String>)> {
    let mut codes = Vec::with_capacity(rows.len());
    let mut labels = Vec::new();
    match col {
        Column::Numeric(v) => {
            let (mut lo, mut hi, mut integers) = (f64::INFINITY, f64::NEG_INFINITY, true);
            for &i in rows {
                let x = v[i];
                if !x.is_finite() {
                    return Err(ds.row_error(
                        i,
                        format!("column '{name}' (a fixed effect or cluster) is empty or not finite; remove the row with a `subset` filter or fill the value"),
                    ));
                }
                lo = lo.min(x);
                hi = hi.max(x);
                integers &= x.fract() == 0.0;
            }
            let mut level = |x: f64| {
                let x = if x == 0.0 { 0.0 } else { x };
                labels.push(format_number(x));
                labels.len() as u32 - 1
            };
            if integers && hi - lo < (1u32 << 22) as f64 {
                // Integers in a short range (years, ids): a table instead of a hash map.
                let mut table = vec![u32::MAX; (hi - lo) as usize + 1];
                for &i in rows {
                    let slot = &mut table[(v[i] - lo) as usize];
                    if *slot == u32::MAX {
                        *slot = level(v[i]);
                    }
                    codes.push(*slot);
                }
            } else {
                let mut map: FxMap<u64, u32> = FxMap::default();
                for &i in rows {
                    let x = if v[i] == 0.0 { 0.0 } else { v[i] };
                    let c = *map.entry(x.to_bits()).or_insert_with(|| level(x));
                    codes.push(c);
                }
            }
        }
        Column::Text(t) => {
            // The column is dictionary-coded: a level per dictionary entry seen on these rows.
            let mut local = vec![u32::MAX; t.labels().len()];
            let dict = t.codes();
            for &i in rows {
                let d = dict[i] as usize;
                if local[d] == u32::MAX {
                    let s = &t.labels()[d];
                    if s.is_empty() {
                        return Err(ds.row_error(
                            i,
                            format!("column '{name}' (a fixed effect or cluster) is empty; remove such rows with a `subset` filter ({name} != '') or fill the value"),
                        ));
                    }
                    local[d] = labels.len() as u32;
                    labels.push(s.clone());
                }
                codes.push(local[d]);
            }
        }
    }
    // Levels in sorted order: numerically for numeric columns, by text otherwise.
    let mut order: Vec<usize> = (0..labels.len()).collect();
    match col {
        Column::Numeric(_) => {
            let vals: Vec<f64> = labels
                .iter()
                .map(|l| l.parse::<f64>().unwrap_or(f64::NAN))
                .collect();
            order.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        }
        Column::Text(_) => order.sort_by(|&a, &b| labels[a].cmp(&labels[b])),
    }
    reorder(&mut codes, &order);
    let labels = order.iter().map(|&o| labels[o].clone()).collect();
    Ok((codes, labels))
}

/// Re-codes `codes` so that old level `order[k]` becomes level `k`.
fn reorder(codes: &mut [u32], order: &[usize]) {
    let mut new_of = vec![0u32; order.len()];
    for (k, &o) in order.iter().enumerate() {
        new_of[o] = k as u32;
    }
    for c in codes.iter_mut() {
        *c = new_of[*c as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panel laid out wide (a column per year) is named as such when the formula's column
    /// is not found; a long panel's message is as before.
    #[test]
    fn a_missing_column_in_a_wide_panel_says_the_file_seems_wide() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.csv");
        std::fs::write(&p, "exporter,importer,2010,2011,2012\nA,B,1,2,3\n").unwrap();
        let ds = Dataset::from_csv(&p).unwrap();
        let e = ds.require("trade", "formula").unwrap_err().to_string();
        assert!(
            e.contains("The columns 2010 … 2012 look like years") && e.contains("pivot_longer"),
            "{e}"
        );
        std::fs::write(&p, "exporter,importer,year,trade_2010\nA,B,2010,1\n").unwrap();
        let ds = Dataset::from_csv(&p).unwrap();
        let e = ds.require("trade", "formula").unwrap_err().to_string();
        assert!(!e.contains("look like years"), "{e}");
    }

    #[test]
    fn csv_types_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        std::fs::write(&p, "a,b,c\n1,x,2.5\n2,y,\n").unwrap();
        let ds = Dataset::from_csv(&p).unwrap();
        assert_eq!(ds.nrows(), 2);
        assert_eq!(ds.column("a"), Some(&Column::Numeric(vec![1.0, 2.0])));
        assert!(matches!(ds.column("b"), Some(Column::Text(_))));
        match ds.column("c") {
            Some(Column::Numeric(v)) => assert!(v[1].is_nan()),
            _ => panic!(),
        }
        std::fs::write(&p, "a,b\n1,2\n3\n").unwrap();
        let e = Dataset::from_csv(&p).unwrap_err().to_string();
        assert!(e.contains("row 3"), "{e}");
    }

    /// A file of more than one read block (`READ_BLOCK`): later reads start at an offset and
    /// the line cut by a block's end is carried over; a quote in the last block hands the rest
    /// to the csv crate from where the blocks left; a pipe (read in one stream) gives the same.
    #[test]
    fn blocks_after_the_first_read_whole_with_a_quote_late_and_through_a_pipe() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        let mut text = String::from("k,name,v\n");
        let mut n = 0;
        while text.len() < READ_BLOCK + READ_BLOCK / 3 {
            text.push_str(&format!("{n},name{},{}.25\n", n % 101, n % 13));
            n += 1;
        }
        std::fs::write(&p, &text).unwrap();
        let plain = Dataset::from_csv(&p).unwrap();
        assert_eq!(plain.nrows(), n);
        let want: Vec<f64> = (0..n).map(|i| i as f64).collect();
        assert_eq!(plain.column("k"), Some(&Column::Numeric(want)));
        let v: Vec<f64> = (0..n).map(|i| (i % 13) as f64 + 0.25).collect();
        assert_eq!(plain.column("v"), Some(&Column::Numeric(v)));
        // A quoted cell in the last block: the csv crate reads on from where the block left.
        let late = n - 1000;
        let quoted = text.replacen(
            &format!("\n{late},name{},", late % 101),
            &format!("\n{late},\"name{}\",", late % 101),
            1,
        );
        assert_ne!(quoted, text);
        std::fs::write(&p, &quoted).unwrap();
        let again = Dataset::from_csv(&p).unwrap();
        assert_eq!(again.nrows(), plain.nrows());
        for name in ["k", "name", "v"] {
            assert_eq!(again.column(name), plain.column(name), "{name}");
        }
        // The same bytes through a pipe (read in one stream, not at offsets).
        #[cfg(unix)]
        {
            std::fs::write(&p, &text).unwrap();
            let mut child = std::process::Command::new("cat")
                .arg(&p)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let fd = child.stdout.take().unwrap();
            let pipe = format!("/dev/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
            let piped = Dataset::from_csv(&pipe).unwrap();
            drop(fd);
            child.wait().unwrap();
            assert_eq!(piped.nrows(), plain.nrows());
            assert_eq!(piped.column("v"), plain.column("v"));
            assert_eq!(piped.column("name"), plain.column("name"));
        }
    }

    /// A file large enough to be parsed in several pieces, with empty lines and `\r\n` line
    /// ends here and there: every row lands in its place (pieces written straight into the
    /// columns, and moved down past the empty lines), and an error row is counted in the file.
    #[test]
    fn pieces_with_empty_lines_land_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        let n = 120_000;
        let mut text = String::from("k,name,v\n");
        for i in 0..n {
            text.push_str(&format!("{i},n{},{}.5", i % 37, i % 11));
            text.push_str(if i % 5 == 0 { "\r\n" } else { "\n" });
            if i % 997 == 0 {
                text.push('\n');
            }
        }
        std::fs::write(&p, &text).unwrap();
        let ds = Dataset::from_csv(&p).unwrap();
        assert_eq!(ds.nrows(), n);
        let want: Vec<f64> = (0..n).map(|i| i as f64).collect();
        assert_eq!(ds.column("k"), Some(&Column::Numeric(want)));
        let Some(Column::Text(t)) = ds.column("name") else {
            panic!("name is text")
        };
        assert!((0..n).all(|i| t.get(i) == format!("n{}", i % 37)));
        text.push_str("1,2\n");
        std::fs::write(&p, &text).unwrap();
        let e = Dataset::from_csv(&p).unwrap_err().to_string();
        assert!(e.contains(&format!("row {}", n + 2)), "{e}");
    }

    /// The fast number parser gives exactly what `str::parse::<f64>` gives.
    #[test]
    fn fast_numbers_equal_the_standard_parser() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "5.",
            "007",
            "1.0000",
            "0.1",
            "0.3",
            "-2.5",
            "123456789012345",
            "1234567890123456",
            "9007199254740993",
            "1e5",
            "+4",
            ".5",
            "inf",
            "NaN",
            "1.2.3",
            "12a",
            "-",
            "",
            "0.000000000000001",
            "99999999999999.9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut x = 88172645463325252u64;
        for _ in 0..20000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 16) as usize;
            let point = (x >> 8) as usize % (digits + 1);
            let mut t: String = (0..digits)
                .map(|k| char::from(b'0' + ((x >> (12 + 3 * k)) % 10) as u8))
                .collect();
            if point < digits {
                t.insert(point, '.');
            }
            if x & 1 == 1 {
                t.insert(0, '-');
            }
            cases.push(t);
        }
        for c in &cases {
            let fast = parse_number(c.as_bytes());
            let std = c.parse::<f64>().ok();
            assert_eq!(
                fast.map(f64::to_bits),
                std.map(f64::to_bits),
                "{c:?}: {fast:?} vs {std:?}"
            );
        }
    }

    /// Reading some columns: those read equal a whole read's, in every path (plain blocks, a
    /// numeric column re-read as text, a quoted file); a bad cell in a column not read is not
    /// looked at; a line with the wrong number of fields is still an error; the error for a
    /// missing column names every column of the file in header order, defined ones after.
    #[test]
    fn some_columns_read_as_the_whole_file_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        let mut text = String::from("a,skip1,b,skip2,c\n");
        for i in 0..3000 {
            // `c` turns to text late (re-read), `skip2` is not valid UTF-8 in one cell.
            let c = if i == 2500 {
                "x7".to_string()
            } else {
                i.to_string()
            };
            let s2 = if i == 10 { "\u{0}" } else { "2" };
            text.push_str(&format!("{},{}.5,name{},{s2},{c}\n", i % 7, i, i % 11));
        }
        let mut bytes = text.into_bytes();
        let bad = bytes.iter().position(|&b| b == 0).unwrap();
        bytes[bad] = 0xff;
        std::fs::write(&p, &bytes).unwrap();
        assert!(
            Dataset::from_csv(&p).is_err(),
            "the whole file has a bad cell"
        );
        let want = ["c".to_string(), "a".to_string(), "b".to_string()];
        let some = Dataset::from_csv_columns(&p, &want, &NaValues::default()).unwrap();
        assert_eq!(some.names(), ["a", "b", "c"]);
        assert_eq!(some.nrows(), 3000);
        assert!(some.column("skip1").is_none());
        assert!(matches!(some.column("c"), Some(Column::Text(_))));
        bytes[bad] = b'2';
        std::fs::write(&p, &bytes).unwrap();
        let all = Dataset::from_csv(&p).unwrap();
        for n in ["a", "b", "c"] {
            assert_eq!(some.column(n), all.column(n), "{n}");
        }
        // Quoted: the csv crate's path.
        let quoted =
            String::from_utf8(bytes.clone())
                .unwrap()
                .replacen(",name3,", ",\"name3\",", 1);
        std::fs::write(&p, &quoted).unwrap();
        let q = Dataset::from_csv_columns(&p, &want, &NaValues::default()).unwrap();
        for n in ["a", "b", "c"] {
            assert_eq!(q.column(n), all.column(n), "{n}");
        }
        // The missing column's error lists the file's columns in order, then defined ones.
        let mut q = q;
        q.push_numeric("d", vec![0.0; 3000]).unwrap();
        let e = q.require("nope", "test").unwrap_err().to_string();
        assert!(e.contains("the data has: a, skip1, b, skip2, c, d"), "{e}");
        // A column defined under an unread or a read column's name is listed once, in the
        // file column's place, as after a whole read.
        q.push_numeric("skip1", vec![1.0; 3000]).unwrap();
        q.push_numeric("b", vec![2.0; 3000]).unwrap();
        let e = q.require("nope", "test").unwrap_err().to_string();
        assert!(e.ends_with("the data has: a, skip1, b, skip2, c, d"), "{e}");
        // A short line is an error even though its missing field is not read.
        std::fs::write(&p, "a,b,c\n1,2,3\n4,5\n").unwrap();
        let e = Dataset::from_csv_columns(&p, &["a".to_string()], &NaValues::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 fields, but the header has 3"), "{e}");
    }

    /// A file separated by ';' (a spreadsheet's CSV with decimal commas) or by tabs is read
    /// as one column: the error says so at line 1, and how to save it instead.
    #[test]
    fn another_separator_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("semi.csv");
        for (text, named) in [
            ("exporter;importer;trade\nA;B;1,5\n", "separated by ';'"),
            (
                "exporter\timporter\ttrade\nA\tB\t1.5\n",
                "separated by tabs",
            ),
        ] {
            std::fs::write(&p, text).unwrap();
            let e = Dataset::from_csv(&p).unwrap_err().to_string();
            assert!(e.contains("semi.csv, row 1:"), "{e}");
            assert!(e.contains(named), "{e}");
            assert!(e.contains("comma-separated"), "{e}");
        }
        // One column whose name has no separator in it is a dataset like any other.
        std::fs::write(&p, "trade\n1\n2\n").unwrap();
        assert_eq!(Dataset::from_csv(&p).unwrap().nrows(), 2);
    }

    /// The factorisation (text, integers in a short range, other numbers) equals a plain
    /// reference on a subset of rows: levels the sorted distinct values on those rows, each
    /// row its level's index; `-0` is `0`; the first bad row in order is the one named.
    #[test]
    fn factorize_matches_a_plain_reference() {
        let n = 300_000;
        let rows: Vec<usize> = (0..n).filter(|i| i % 3 != 1).collect();
        let mut ds = Dataset::new();
        let text: Vec<String> = (0..n).map(|i| format!("c{}", (i * 7919) % 1013)).collect();
        ds.push_text("t", text.clone()).unwrap();
        let ints: Vec<f64> = (0..n).map(|i| ((i * 31) % 977) as f64 - 300.0).collect();
        ds.push_numeric("i", ints.clone()).unwrap();
        let mut reals: Vec<f64> = (0..n)
            .map(|i| ((i * 13) % 101) as f64 / 4.0 - 7.0)
            .collect();
        reals[5] = -0.0;
        reals[6] = 0.0;
        ds.push_numeric("r", reals.clone()).unwrap();
        let check = |name: &str, key: &dyn Fn(usize) -> String, num: bool| {
            let (codes, labels) = factorize(&ds, name, ds.column(name).unwrap(), &rows).unwrap();
            let mut want: Vec<String> = rows.iter().map(|&i| key(i)).collect();
            if num {
                want.sort_by(|a, b| a.parse::<f64>().unwrap().total_cmp(&b.parse().unwrap()));
            } else {
                want.sort();
            }
            want.dedup();
            assert_eq!(labels, want, "{name}");
            for (k, &i) in rows.iter().enumerate() {
                assert_eq!(labels[codes[k] as usize], key(i), "{name} row {i}");
            }
        };
        check("t", &|i| text[i].clone(), false);
        check("i", &|i| format_number(ints[i]), true);
        check(
            "r",
            &|i| format_number(if reals[i] == 0.0 { 0.0 } else { reals[i] }),
            true,
        );
        // The first bad row in order, among the rows used.
        let mut bad = text.clone();
        bad[200_002] = String::new(); // not a used row (200002 % 3 == 1)
        bad[250_001] = String::new();
        bad[290_000] = String::new();
        ds.push_text("t", bad).unwrap();
        let e = factorize(&ds, "t", ds.column("t").unwrap(), &rows).unwrap_err();
        assert!(e.to_string().contains("row 250002"), "{e}");
        let mut bad = ints.clone();
        bad[260_000] = f64::NAN;
        bad[280_000] = f64::NAN;
        ds.push_numeric("i", bad).unwrap();
        let e = factorize(&ds, "i", ds.column("i").unwrap(), &rows).unwrap_err();
        assert!(e.to_string().contains("row 260001"), "{e}");
    }

    /// Text columns are dictionary-coded as read; a numeric column that meets text after its
    /// first rows is read again as text, its cells as written; quoted files read the same.
    #[test]
    fn csv_columns_typed_and_coded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        let mut body = String::from("e, n ,late\r\n");
        for i in 0..3000 {
            let late = if i == 2500 {
                "x".to_string()
            } else {
                format!("{:03}", i % 7)
            };
            body.push_str(&format!("E{} ,{}.50,{late}\r\n", i % 3, i));
            if i == 10 {
                body.push('\n');
            }
        }
        std::fs::write(&p, &body).unwrap();
        let ds = Dataset::from_csv(&p).unwrap();
        assert_eq!(ds.nrows(), 3000);
        let Some(Column::Text(e)) = ds.column("e") else {
            panic!()
        };
        assert_eq!(e.labels().len(), 3);
        assert_eq!(e.get(4), "E1");
        let Some(Column::Numeric(n)) = ds.column("n") else {
            panic!()
        };
        assert_eq!(n[2999], 2999.5);
        let Some(Column::Text(late)) = ds.column("late") else {
            panic!()
        };
        assert_eq!(late.get(8), "001");
        assert_eq!(late.get(2500), "x");
        // The same file with a quoted cell reads the same.
        let q = dir.path().join("q.csv");
        std::fs::write(&q, body.replacen("E0 ", "\"E0\"", 1)).unwrap();
        let dq = Dataset::from_csv(&q).unwrap();
        assert_eq!(dq.column("e"), ds.column("e"));
        assert_eq!(dq.column("n"), ds.column("n"));
        assert_eq!(dq.column("late"), ds.column("late"));
        std::fs::write(&p, "a,b\n1,2\n3,4,5\n").unwrap();
        let e = Dataset::from_csv(&p).unwrap_err().to_string();
        assert!(e.contains("row 3") && e.contains("3 fields"), "{e}");
    }

    #[test]
    fn interaction_factor() {
        let mut ds = Dataset::new();
        ds.push_text("e", vec!["A".into(), "A".into(), "B".into()])
            .unwrap();
        ds.push_numeric("y", vec![1.0, 2.0, 1.0]).unwrap();
        let f = Factor::from_columns(&ds, &["e".into(), "y".into()], &[0, 1, 2], "t").unwrap();
        assert_eq!(f.codes, vec![0, 1, 2]);
        assert_eq!(f.labels, vec!["A_1", "A_2", "B_1"]);
        let f = Factor::from_columns(&ds, &["e".into()], &[2, 0, 1], "t").unwrap();
        assert_eq!(f.codes, vec![1, 0, 0]);
        assert_eq!(f.labels, vec!["A", "B"]);
        let f = Factor::from_columns(&ds, &["y".into(), "e".into()], &[2, 1, 0], "t").unwrap();
        assert_eq!(f.labels, vec!["1_A", "1_B", "2_A"]);
        assert_eq!(f.codes, vec![1, 2, 0]);
    }

    /// The levels of an interaction are its distinct combinations in the sorted order of their
    /// components, through both ways of finding them: the table (a small product of level
    /// counts) and the hash set (a product above 2²²), for two and three columns, on rows
    /// given out of order.
    #[test]
    fn interaction_levels_are_the_sorted_distinct_combinations() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(12345);
        let mut draw = |m: u64| rng.random_range(0..m);
        let n = 6000;
        let a: Vec<f64> = (0..n).map(|_| draw(30000) as f64 - 100.0).collect();
        let b: Vec<String> = (0..n).map(|_| format!("t{}", draw(2000))).collect();
        let c: Vec<f64> = (0..n).map(|_| draw(3) as f64 * 0.5).collect();
        let mut ds = Dataset::new();
        ds.push_numeric("a", a).unwrap();
        ds.push_text("b", b).unwrap();
        ds.push_numeric("c", c).unwrap();
        let rows: Vec<usize> = (0..n).rev().filter(|i| i % 3 != 1).collect();
        for cols in [
            &["a", "b"][..],
            &["b", "c"],
            &["a", "b", "c"],
            &["c", "a"],
            &["c", "b", "a"],
        ] {
            let names: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
            let f = Factor::from_columns(&ds, &names, &rows, "t").unwrap();
            let singles: Vec<Factor> = names
                .iter()
                .map(|c| Factor::from_columns(&ds, std::slice::from_ref(c), &rows, "t").unwrap())
                .collect();
            let tuple = |r: usize| -> Vec<u32> { singles.iter().map(|s| s.codes[r]).collect() };
            let levels: std::collections::BTreeSet<Vec<u32>> = (0..rows.len()).map(tuple).collect();
            let levels: Vec<Vec<u32>> = levels.into_iter().collect();
            let labels: Vec<String> = levels
                .iter()
                .map(|t| {
                    t.iter()
                        .zip(&singles)
                        .map(|(&l, s)| s.labels[l as usize].as_str())
                        .collect::<Vec<_>>()
                        .join("_")
                })
                .collect();
            assert_eq!(f.labels, labels, "{cols:?}");
            for r in 0..rows.len() {
                assert_eq!(levels[f.codes[r] as usize], tuple(r), "{cols:?} row {r}");
            }
        }
    }

    /// Missing values as R, Stata, pandas, SQL and spreadsheets write them are read as missing:
    /// NaN in a numeric column (which stays numeric, in the first rows, in later blocks' rows,
    /// and in a quoted file), kept as written in a text column, where they count as missing; a
    /// cell like `n/a` still makes its column text.
    #[test]
    fn missing_markers_are_read_as_missing() {
        for m in ["", "NA", ".", "NaN", "nan", "NAN", "NULL", "#N/A", " NA "] {
            assert!(is_missing_marker(m.trim().as_bytes()), "{m:?}");
        }
        for m in ["na", "N/A", "n/a", "-", "None", "null", "..", "NAM", "0"] {
            assert!(!is_missing_marker(m.as_bytes()), "{m:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        let marks = ["NA", ".", "", "NULL", "#N/A", "NaN"];
        let mut text = String::from("x,late,name,odd\n");
        for i in 0..3000 {
            let x = if i % 500 == 7 { marks[i / 500] } else { "1.5" };
            let late = if i == 2500 { "NA" } else { "2" };
            let name = if i == 9 { "NA" } else { "ARG" };
            let odd = if i == 4 { "n/a" } else { "3" };
            text.push_str(&format!("{x},{late},{name},{odd}\n"));
        }
        std::fs::write(&p, &text).unwrap();
        let quoted = dir.path().join("q.csv");
        std::fs::write(&quoted, text.replacen("ARG", "\"ARG\"", 1)).unwrap();
        for path in [&p, &quoted] {
            let ds = Dataset::from_csv(path).unwrap();
            let Some(Column::Numeric(x)) = ds.column("x") else {
                panic!("x is numeric")
            };
            assert_eq!(x.iter().filter(|v| v.is_nan()).count(), 6);
            assert!(x[507].is_nan() && x[2507].is_nan() && x[508] == 1.5);
            let Some(Column::Numeric(late)) = ds.column("late") else {
                panic!("late is numeric")
            };
            assert!(late[2500].is_nan() && late[2499] == 2.0);
            let name = ds.column("name").unwrap();
            assert!(matches!(name, Column::Text(_)));
            assert!(name.is_missing(9) && !name.is_missing(10));
            let Column::Text(t) = name else {
                unreachable!()
            };
            assert_eq!(t.get(9), "NA");
            assert!(matches!(ds.column("odd"), Some(Column::Text(_))));
        }
    }

    /// `--na-values` replaces the default markers: with `.` (Stata's), `NA` (Namibia's ISO
    /// code) is a value in a text column, in the first rows, in later rows and in a quoted
    /// file (`"NA"` unquoted is `NA`, as in R), and in a column defined from it; `.` and an
    /// empty cell are missing; a numeric column meeting `NA` is text. With `''` only empty
    /// cells are missing. Bad lists are refused saying what to write.
    #[test]
    fn na_values_replace_the_default_markers() {
        let stata = NaValues::parse(" . ").unwrap();
        assert_eq!(stata.tokens(), Some(&[".".to_string()][..]));
        for (cell, missing) in [("", true), (".", true), ("NA", false), ("NULL", false)] {
            assert_eq!(stata.is_missing(cell.as_bytes()), missing, "{cell:?}");
        }
        let empty = NaValues::parse("").unwrap();
        assert!(empty.is_missing(b"") && !empty.is_missing(b".") && !empty.is_missing(b"NA"));
        let two = NaValues::parse("NA, -").unwrap();
        assert!(two.is_missing(b"-") && two.is_missing(b"NA") && !two.is_missing(b"na"));
        assert!(NaValues::default().is_default() && !empty.is_default());
        for (list, says) in [
            ("NA,,.", "item 2 of 'NA,,.' is empty"),
            ("NA,", "(--na-values NA)"),
            ("none", "--na-values ''"),
            ("None", "--na-values None,NA"),
            ("\"NA\"", "write it without quotes: --na-values NA"),
            ("NA,-99", "'-99' is a number"),
            ("1e5", "--subset 'COLUMN != 1e5'"),
        ] {
            let e = NaValues::parse(list).unwrap_err();
            assert!(e.contains(says), "{list}: {e}");
        }
        // NaN is a number that is not one: a token like any other.
        assert!(NaValues::parse("NaN").is_ok());

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        let mut text = String::from("iso,x,late,num\n");
        for i in 0..3000 {
            let iso = ["NA", "ZA", ".", ""][i % 4];
            let x = if i % 10 == 3 { "." } else { "1.5" };
            let late = if i == 2500 { "NA" } else { "2" };
            let num = if i == 7 { "NA" } else { "4" };
            text.push_str(&format!("{iso},{x},{late},{num}\n"));
        }
        std::fs::write(&p, &text).unwrap();
        let quoted = dir.path().join("q.csv");
        std::fs::write(&quoted, text.replace("\nNA,", "\n\"NA\",")).unwrap();
        for path in [&p, &quoted] {
            let mut ds = Dataset::from_csv_with(path, &stata).unwrap();
            assert_eq!(ds.na_values(), &stata);
            let iso = ds.column("iso").unwrap();
            let missing: Vec<bool> = (0..4).map(|i| iso.is_missing(i)).collect();
            assert_eq!(missing, [false, false, true, true], "{path:?}");
            let Column::Text(t) = iso else {
                panic!("iso is text")
            };
            assert_eq!(
                (t.get(0), t.missing_labels()),
                ("NA", vec![false, false, true, true])
            );
            let Some(Column::Numeric(x)) = ds.column("x") else {
                panic!("x is numeric")
            };
            assert!(x[3].is_nan() && x[4] == 1.5);
            // `NA` is not a number nor missing: its column is text, early or late.
            assert!(matches!(ds.column("late"), Some(Column::Text(_))));
            assert!(matches!(ds.column("num"), Some(Column::Text(_))));
            // A defined column counts the same cells as missing.
            ds.define("copy = ifelse(x > 0, iso, 'ZZ')").unwrap();
            let copy = ds.column("copy").unwrap();
            assert!(!copy.is_missing(0) && copy.is_missing(2) && copy.is_missing(3));
            // The default reads NA as missing, quoted or not.
            let ds = Dataset::from_csv(path).unwrap();
            assert!(ds.column("iso").unwrap().is_missing(0));
            assert!(matches!(ds.column("late"), Some(Column::Numeric(_))));
        }
        let ds = Dataset::from_csv_with(&p, &empty).unwrap();
        let iso = ds.column("iso").unwrap();
        let missing: Vec<bool> = (0..4).map(|i| iso.is_missing(i)).collect();
        assert_eq!(missing, [false, false, false, true]);
        // A numeric column meeting `.` is text under '' (not missing, not a number).
        assert!(matches!(ds.column("x"), Some(Column::Text(_))));
    }
}
