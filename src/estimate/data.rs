//! Typed columns for estimation: a [`Dataset`] read from CSV or built in memory.
//!
//! A column is numeric when every non-empty cell parses as a number (empty cells become NaN,
//! which is an error if the column is used in a fit); otherwise it is text. Text columns can be
//! fixed effects or clusters, never regressors. Rows keep their position so that fitted values
//! can be returned aligned to the input, and every error names the file and line.

use crate::error::{Error, Result};
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast, non-cryptographic hasher (FxHash) for factorising columns.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

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
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
use std::path::{Path, PathBuf};

/// One column of a [`Dataset`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; NaN marks an empty cell.
    Numeric(Vec<f64>),
    /// Text, as read.
    Text(Vec<String>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
}

impl Dataset {
    /// An empty dataset, to be filled with [`Dataset::push_numeric`] / [`Dataset::push_text`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a CSV file with a header line. Columns whose non-empty cells all parse as numbers
    /// are numeric; others are text. Cells are trimmed of surrounding spaces. Files without
    /// quote characters are parsed in parallel chunks.
    pub fn from_csv(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bytes: &[u8] = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&raw);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
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
        let body_start = (rdr.position().byte() as usize).min(bytes.len());
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
        let body = &bytes[body_start..];
        // Split at line boundaries when no quoting can hide a newline inside a field.
        let nchunks = if body.contains(&b'"') {
            1
        } else {
            rayon::current_num_threads().clamp(1, body.len() / (1 << 20) + 1)
        };
        let mut bounds = vec![0usize];
        for k in 1..nchunks {
            let target = (body.len() * k / nchunks).max(*bounds.last().unwrap_or(&0));
            let cut = body[target..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|p| target + p + 1)
                .unwrap_or(body.len());
            bounds.push(cut);
        }
        bounds.push(body.len());
        let chunks: Vec<&[u8]> = bounds.windows(2).map(|w| &body[w[0]..w[1]]).collect();
        let parsed: Vec<std::result::Result<Chunk, (usize, String)>> =
            chunks.par_iter().map(|c| parse_chunk(c, ncol)).collect();
        let mut done = Vec::with_capacity(parsed.len());
        let mut before = 0usize;
        for p in parsed {
            match p {
                Ok(c) => {
                    before += c.nrows;
                    done.push(c);
                }
                Err((row, msg)) => return Err(Error::data(path, before + row + 2, msg)),
            }
        }
        let nrows = before;
        let mut columns = Vec::with_capacity(ncol);
        for (j, name) in names.iter().enumerate() {
            if done.iter().all(|c| c.nums[j].is_some()) {
                let mut v = Vec::with_capacity(nrows);
                for c in &mut done {
                    v.extend(c.nums[j].take().unwrap_or_default());
                }
                columns.push(Column::Numeric(v));
            } else {
                let mut t = Vec::with_capacity(nrows);
                let mut row = 0usize;
                for c in &done {
                    let mut start = 0;
                    for &end in &c.ends[j] {
                        let cell = std::str::from_utf8(&c.arena[j][start..end]).map_err(|_| {
                            Error::data(
                                path,
                                row + 2,
                                format!("column '{name}' is not valid UTF-8"),
                            )
                        })?;
                        t.push(cell.to_string());
                        start = end;
                        row += 1;
                    }
                }
                columns.push(Column::Text(t));
            }
            for c in &mut done {
                c.arena[j] = Vec::new();
                c.ends[j] = Vec::new();
            }
        }
        Ok(Dataset {
            names,
            columns,
            nrows,
            source: Some(path.to_path_buf()),
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
    pub fn require(&self, name: &str, context: &str) -> Result<&Column> {
        self.column(name).ok_or_else(|| {
            Error::invalid(
                context.to_string(),
                format!(
                    "no column named '{name}'; the data has: {}",
                    self.names.join(", ")
                ),
            )
        })
    }

    /// Adds (or replaces) a numeric column.
    pub fn push_numeric(&mut self, name: impl Into<String>, values: Vec<f64>) -> Result<()> {
        self.push(name.into(), Column::Numeric(values))
    }

    /// Adds (or replaces) a text column.
    pub fn push_text(&mut self, name: impl Into<String>, values: Vec<String>) -> Result<()> {
        self.push(name.into(), Column::Text(values))
    }

    /// Adds (or replaces) a column.
    pub fn push(&mut self, name: String, column: Column) -> Result<()> {
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

    /// An error located at data row `i` (0-based): the CSV file and line when read from a file.
    pub fn row_error(&self, i: usize, message: impl Into<String>) -> Error {
        match &self.source {
            Some(p) => Error::data(p, i + 2, message),
            None => Error::invalid(format!("dataset row {}", i + 1), message),
        }
    }
}

/// One parsed piece of a CSV body: numbers per column (None once a cell is not a number) and
/// every cell's bytes, for columns that turn out to be text.
struct Chunk {
    nums: Vec<Option<Vec<f64>>>,
    arena: Vec<Vec<u8>>,
    ends: Vec<Vec<usize>>,
    nrows: usize,
}

/// Parses header-less CSV rows; errors carry the 0-based row within the chunk.
fn parse_chunk(chunk: &[u8], ncol: usize) -> std::result::Result<Chunk, (usize, String)> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(chunk);
    let mut c = Chunk {
        nums: vec![Some(Vec::new()); ncol],
        arena: vec![Vec::new(); ncol],
        ends: vec![Vec::new(); ncol],
        nrows: 0,
    };
    let mut record = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(c),
            Err(e) => return Err((c.nrows, format!("malformed CSV: {e}"))),
        }
        if record.len() != ncol {
            return Err((
                c.nrows,
                format!(
                    "{} fields, but the header has {ncol}; check quoting and separators",
                    record.len()
                ),
            ));
        }
        for (j, cell) in record.iter().enumerate() {
            let cell = cell.trim_ascii();
            c.arena[j].extend_from_slice(cell);
            c.ends[j].push(c.arena[j].len());
            if let Some(v) = &mut c.nums[j] {
                if cell.is_empty() {
                    v.push(f64::NAN);
                } else if let Some(x) = std::str::from_utf8(cell)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                {
                    v.push(x);
                } else {
                    c.nums[j] = None;
                }
            }
        }
        c.nrows += 1;
    }
}

/// A categorical column coded 0..nlevels, with the label of each level.
#[derive(Debug, Clone)]
pub struct Factor {
    /// Display name, e.g. `exporter^year`.
    pub name: String,
    /// The level of each observation.
    pub codes: Vec<u32>,
    /// Labels of the levels (values joined by `_` for interactions), sorted (numerically for
    /// numeric columns, by text otherwise; interactions by their components).
    pub labels: Vec<String>,
}

impl Factor {
    pub fn nlevels(&self) -> usize {
        self.labels.len()
    }

    /// Builds the factor of the interaction of `columns` (one column: a plain factor) over the
    /// rows `rows` of `ds`.
    pub fn from_columns(
        ds: &Dataset,
        columns: &[String],
        rows: &[usize],
        context: &str,
    ) -> Result<Factor> {
        Self::from_columns_cached(ds, columns, rows, context, &mut FactorCache::default())
    }

    /// As [`Factor::from_columns`], reusing single-column factorisations from `cache` (which
    /// must only be used with the same `ds` and `rows`).
    pub fn from_columns_cached(
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
    pub fn from_columns_prepared(
        ds: &Dataset,
        columns: &[String],
        rows: &[usize],
        context: &str,
        cache: &FactorCache,
    ) -> Result<Factor> {
        let mut key_codes: Vec<Vec<u32>> = Vec::with_capacity(columns.len());
        let mut key_labels: Vec<Vec<String>> = Vec::with_capacity(columns.len());
        for c in columns {
            let (codes, labels) = match cache.0.get(c) {
                Some(f) => f.clone(),
                None => factorize(ds, c, ds.require(c, context)?, rows)?,
            };
            key_codes.push(codes);
            key_labels.push(labels);
        }
        if columns.len() == 1 {
            return Ok(Factor {
                name: columns[0].clone(),
                codes: key_codes.pop().unwrap_or_default(),
                labels: key_labels.pop().unwrap_or_default(),
            });
        }
        // Combine pairwise, compacting through a hash map.
        let mut codes = key_codes[0].clone();
        let mut parts: Vec<Vec<u32>> = (0..key_labels[0].len() as u32).map(|l| vec![l]).collect();
        for (k, other) in key_codes.iter().enumerate().skip(1) {
            let mut new_parts = Vec::new();
            let nb = key_labels[k].len();
            if parts.len().saturating_mul(nb) <= 1 << 22 {
                // Dense lookup table when the product of level counts is small.
                let mut table = vec![u32::MAX; parts.len() * nb];
                for (ci, &oi) in codes.iter_mut().zip(other) {
                    let slot = &mut table[*ci as usize * nb + oi as usize];
                    if *slot == u32::MAX {
                        *slot = new_parts.len() as u32;
                        let mut p = parts[*ci as usize].clone();
                        p.push(oi);
                        new_parts.push(p);
                    }
                    *ci = *slot;
                }
                parts = new_parts;
                continue;
            }
            let mut map: FxMap<(u32, u32), u32> = FxMap::default();
            for (ci, &oi) in codes.iter_mut().zip(other) {
                let key = (*ci, oi);
                let next = map.len() as u32;
                let c = *map.entry(key).or_insert_with(|| {
                    let mut p = parts[key.0 as usize].clone();
                    p.push(key.1);
                    new_parts.push(p);
                    next
                });
                *ci = c;
            }
            parts = new_parts;
        }
        // Levels in sorted order (lexicographic in the interacted columns' sorted codes).
        let mut order: Vec<usize> = (0..parts.len()).collect();
        order.sort_by(|&a, &b| parts[a].cmp(&parts[b]));
        let parts: Vec<Vec<u32>> = order.iter().map(|&o| parts[o].clone()).collect();
        reorder(&mut codes, &order);
        let labels = parts
            .iter()
            .map(|p| {
                p.iter()
                    .enumerate()
                    .map(|(k, &l)| key_labels[k][l as usize].as_str())
                    .collect::<Vec<_>>()
                    .join("_")
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
pub struct FactorCache(FxMap<String, (Vec<u32>, Vec<String>)>);

impl FactorCache {
    /// Factorises the columns not yet in the cache, in parallel. Errors come in column order.
    pub fn prefill(
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
pub fn format_number(x: f64) -> String {
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
            let mut map: FxMap<u64, u32> = FxMap::default();
            for &i in rows {
                let x = v[i];
                if !x.is_finite() {
                    return Err(ds.row_error(
                        i,
                        format!("column '{name}' (a fixed effect or cluster) is empty or not finite; remove the row with a `subset` filter or fill the value"),
                    ));
                }
                let x = if x == 0.0 { 0.0 } else { x };
                let next = map.len() as u32;
                let c = *map.entry(x.to_bits()).or_insert_with(|| {
                    labels.push(format_number(x));
                    next
                });
                codes.push(c);
            }
        }
        Column::Text(v) => {
            let mut map: FxMap<&str, u32> = FxMap::default();
            for &i in rows {
                let s = v[i].as_str();
                if s.is_empty() {
                    return Err(ds.row_error(
                        i,
                        format!("column '{name}' (a fixed effect or cluster) is empty; remove the row with a `subset` filter or fill the value"),
                    ));
                }
                let next = map.len() as u32;
                let c = *map.entry(s).or_insert_with(|| {
                    labels.push(s.to_string());
                    next
                });
                codes.push(c);
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
}
