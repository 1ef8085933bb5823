//! Reading an output directory's tables back for the report, with the checks `run` makes when
//! it writes them: every row parses under its header, every number is finite (an empty cell
//! only where a value does not apply), and every scenario × year × draw of `economies.csv` has
//! every economy once, with one `compared_with` per scenario. A table edited by hand, cut
//! short or damaged is refused naming the file, its line and column, and the fix.

use crate::error::{Error, Result};
use crate::output::summary::SummaryRow;
use crate::output::{BilateralRow, EconomyRow, InvestmentRow, QuotaRow, SolverRow, TariffRow};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// How to fix a table that is not as tradesim writes it.
const REWRITE: &str =
    "the file was edited or damaged after tradesim wrote it: run (or merge) again to write it whole";

/// The column a serde "missing field `x`" message names.
fn missing_column(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// The fields of the struct `T` deserializes into (its columns), or none when `T` is not a
/// struct: a deserializer that only records what `deserialize_struct` is asked for.
fn struct_fields<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    struct Fields(&'static [&'static str]);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> serde::Deserializer<'de> for &mut Fields {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut f = Fields(&[]);
    let _ = T::deserialize(&mut f);
    f.0
}

/// The error of a row that does not read (`line` is its line in the file; the header is 1):
/// a column the header lacks is named at the header, with the columns present and the closest
/// of those the rows do not read (a column that is read is not one to rename).
fn csv_error(
    path: &Path,
    e: &csv::Error,
    line: usize,
    headers: &csv::StringRecord,
    fields: &[&str],
) -> Error {
    let (line, msg) = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let text = err.kind().to_string();
            if let Some(col) = missing_column(&text) {
                let present: Vec<&str> = headers.iter().collect();
                let unread = present.iter().copied().filter(|h| !fields.contains(h));
                let near = crate::error::did_you_mean(col, unread);
                let near = match near.first() {
                    Some(n) => format!(" (the closest is `{n}`: rename it `{col}`)"),
                    None => " (it was deleted, or the file is not a table of this kind)".into(),
                };
                return Error::data(
                    path,
                    1,
                    format!("the header has no column `{col}`{near}; its columns are: {}. The columns should be those listed in the README (Outputs); write the file again with tradesim", present.join(", ")),
                );
            }
            let col = err
                .field()
                .and_then(|f| headers.get(f as usize))
                .map(|c| format!("column `{c}`: "))
                .unwrap_or_default();
            (line, format!("{col}{text}"))
        }
        _ => (
            e.position().map_or(line, |p| p.line() as usize),
            e.to_string(),
        ),
    };
    Error::data(
        path,
        line,
        format!("{msg}; the columns should be those listed in the README (Outputs); write the file again with tradesim"),
    )
}

fn open(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        other => Error::data(path, 1, format!("{other:?}")),
    })
}

/// Call `f` with every row of the table at `path` and its line in the file (the header is line
/// 1). Refuses a row that does not parse, a header without a column the rows need, and a NaN
/// or infinity in any column (an empty cell is read only where the column may be empty).
pub(crate) fn for_each_row<T: DeserializeOwned + Serialize>(
    path: &Path,
    mut f: impl FnMut(T, usize) -> Result<()>,
) -> Result<()> {
    let mut r = open(path)?;
    let fields = struct_fields::<T>();
    let headers = r
        .headers()
        .map_err(|e| csv_error(path, &e, 1, &csv::StringRecord::new(), fields))?
        .clone();
    let mut record = csv::StringRecord::new();
    let mut next_line = 2;
    loop {
        match r.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => return Err(csv_error(path, &e, next_line, &headers, fields)),
        }
        let line = record.position().map_or(next_line, |p| p.line() as usize);
        next_line = line + 1;
        let row: T = record
            .deserialize(Some(&headers))
            .map_err(|e| csv_error(path, &e, line, &headers, fields))?;
        if let Some(bad) = crate::output::finite::non_finite(&row) {
            return Err(Error::data(
                path,
                line,
                format!(
                    "column `{}` is {}, and tradesim writes no table with NaN or infinity; {REWRITE}",
                    bad.column, bad.value
                ),
            ));
        }
        f(row, line)?;
    }
}

/// The column names of a CSV file.
pub(crate) fn csv_header(path: &Path) -> Result<Vec<String>> {
    let mut r = open(path)?;
    let headers = r
        .headers()
        .map_err(|e| csv_error(path, &e, 1, &csv::StringRecord::new(), &[]))?;
    Ok(headers.iter().map(str::to_string).collect())
}

/// The values `compared_with` takes in the tables.
const COMPARISONS: [&str; 2] = ["base_year", "reference"];

/// One scenario's rows of `economies.csv`: its economies, which of them each year × draw has
/// (and the line where that year × draw's rows start), and its `compared_with`.
#[derive(Default)]
struct ScenarioRows {
    codes: Vec<String>,
    /// The line of each code's first row.
    first_line: Vec<usize>,
    index: HashMap<String, usize>,
    groups: BTreeMap<(i32, u32), (usize, Vec<bool>)>,
    compared_with: Option<String>,
}

/// Which economies every scenario × year × draw of `economies.csv` has, to refuse a table with
/// rows deleted or repeated, and each scenario's `compared_with`.
#[derive(Default)]
pub(crate) struct Coverage {
    scenarios: BTreeMap<String, ScenarioRows>,
}

/// The economies of an output directory as the run wrote them, where a file says (the
/// manifest or `report_meta.json`), per scenario.
pub(crate) type ExpectedEconomies = BTreeMap<String, Vec<String>>;

impl Coverage {
    /// Record the row at `line`; refuses a second row of the same scenario, year, draw and
    /// economy, an unknown `compared_with` and one that differs within a scenario.
    pub(crate) fn add(
        &mut self,
        path: &Path,
        line: usize,
        key: (&str, i32, u32, &str),
        compared_with: &str,
    ) -> Result<()> {
        let (scenario, year, draw, economy) = key;
        if !COMPARISONS.contains(&compared_with) {
            return Err(Error::data(
                path,
                line,
                format!("column `compared_with` is `{compared_with}`, not `base_year` or `reference`; {REWRITE}"),
            ));
        }
        let s = self.scenarios.entry(scenario.to_string()).or_default();
        match &s.compared_with {
            None => s.compared_with = Some(compared_with.to_string()),
            Some(c) if c != compared_with => {
                return Err(Error::data(
                    path,
                    line,
                    format!("column `compared_with` is `{compared_with}`, but the rows of scenario `{scenario}` before it say `{c}`; a scenario's changes are all against one comparison: {REWRITE}"),
                ))
            }
            Some(_) => {}
        }
        let k = match s.index.get(economy) {
            Some(&k) => k,
            None => {
                s.codes.push(economy.to_string());
                s.first_line.push(line);
                s.index.insert(economy.to_string(), s.codes.len() - 1);
                s.codes.len() - 1
            }
        };
        let (_, seen) = s.groups.entry((year, draw)).or_insert((line, Vec::new()));
        if seen.len() <= k {
            seen.resize(k + 1, false);
        }
        if std::mem::replace(&mut seen[k], true) {
            return Err(Error::data(
                path,
                line,
                format!("a second row for {economy} in scenario `{scenario}`, year {year}, draw {draw}; {REWRITE}"),
            ));
        }
        Ok(())
    }

    /// [`Coverage::add`] for a row of `economies.csv`.
    pub(crate) fn add_row(&mut self, path: &Path, line: usize, r: &EconomyRow) -> Result<()> {
        self.add(
            path,
            line,
            (&r.scenario, r.year, r.draw, &r.economy),
            &r.compared_with,
        )
    }

    /// Refuse a year × draw that lacks an economy (of the scenario's rows, or of `expected`
    /// when a file of the directory lists them) and a draw that lacks a year the others have.
    /// Returns each scenario's `compared_with`.
    pub(crate) fn finish(
        self,
        path: &Path,
        expected: &ExpectedEconomies,
    ) -> Result<BTreeMap<String, String>> {
        let mut kinds = BTreeMap::new();
        for (name, s) in self.scenarios {
            // An economy the run did not write (renamed by hand): named at its first row.
            if let Some(list) = expected.get(&name) {
                if let Some(k) = s.codes.iter().position(|c| !list.contains(c)) {
                    let code = &s.codes[k];
                    let near = crate::error::did_you_mean_phrase(
                        code,
                        list.iter().map(String::as_str),
                        '`',
                    )
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                    return Err(Error::data(
                        path,
                        s.first_line[k],
                        format!("column `economy` is `{code}`, which is not one of the {} economies the run wrote for scenario `{name}`{near}; an economy renamed by hand: {REWRITE}", list.len()),
                    ));
                }
            }
            let mut codes = s.codes.clone();
            for c in expected.get(&name).into_iter().flatten() {
                if !s.index.contains_key(c) {
                    codes.push(c.clone());
                }
            }
            let years: BTreeSet<i32> = s.groups.keys().map(|k| k.0).collect();
            let draws: BTreeSet<u32> = s.groups.keys().map(|k| k.1).collect();
            for &draw in &draws {
                if let Some(y) = years.iter().find(|&&y| !s.groups.contains_key(&(y, draw))) {
                    return Err(Error::invalid(
                        path.display().to_string(),
                        format!("scenario `{name}`, draw {draw} has no rows for year {y}, which other draws have; rows were deleted or the file was cut short: run (or merge) again to write it whole"),
                    ));
                }
            }
            for (&(year, draw), (first, seen)) in &s.groups {
                let missing: Vec<&str> = codes
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| !seen.get(*k).copied().unwrap_or(false))
                    .map(|(_, c)| c.as_str())
                    .collect();
                if !missing.is_empty() {
                    let shown: Vec<&str> = missing.iter().take(8).copied().collect();
                    return Err(Error::data(
                        path,
                        *first,
                        format!(
                            "the rows of scenario `{name}`, year {year}, draw {draw} (from this row on) have no row for {}{} ({} of the {} economies are there); rows were deleted or the file was cut short: run (or merge) again to write it whole",
                            shown.join(", "),
                            if missing.len() > shown.len() { ", …" } else { "" },
                            codes.len() - missing.len(),
                            codes.len()
                        ),
                    ));
                }
            }
            if let Some(c) = s.compared_with {
                kinds.insert(name, c);
            }
        }
        Ok(kinds)
    }
}

/// The economies and years of each scenario of `economies.csv`: the other tables' rows must
/// use them.
pub(crate) type Scope = BTreeMap<String, (BTreeSet<String>, BTreeSet<i32>)>;

impl Coverage {
    /// Each scenario's economies (its rows' and those a file of the directory lists) and years.
    pub(crate) fn scope(&self, expected: &ExpectedEconomies) -> Scope {
        self.scenarios
            .iter()
            .map(|(name, s)| {
                let mut codes: BTreeSet<String> = s.codes.iter().cloned().collect();
                codes.extend(expected.get(name).into_iter().flatten().cloned());
                let years = s.groups.keys().map(|k| k.0).collect();
                (name.clone(), (codes, years))
            })
            .collect()
    }

    /// Whether `economies.csv` had no row at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.scenarios.is_empty()
    }
}

/// A column of a row's key: text, or a number (a year, a draw).
#[derive(Clone, Copy)]
pub(crate) enum Part<'a> {
    Text(&'a str),
    Number(u32),
}

/// The rows of a table other than `economies.csv` read so far: refuses a row whose scenario,
/// year or economies `economies.csv` does not have (a table of another run, or an economy
/// renamed in one table only), and a second row with the same key (a row repeated by hand,
/// which would count twice in the report's sums).
pub(crate) struct TableRows<'a> {
    path: &'a Path,
    scope: &'a Scope,
    /// Every text of a key, numbered (keys are kept small: a large table has many rows).
    names: HashMap<String, u32>,
    /// The key of every row checked, with its line.
    seen: HashMap<[u32; 8], usize>,
}

impl<'a> TableRows<'a> {
    pub(crate) fn new(path: &'a Path, scope: &'a Scope) -> Self {
        TableRows {
            path,
            scope,
            names: HashMap::new(),
            seen: HashMap::new(),
        }
    }

    /// Check the row at `line` of scenario `scenario` and year `year` (`None`: a year
    /// `economies.csv` need not have, such as the base year of solver.csv when a scenario
    /// lists its `years`; give it in `key`): each `(column, code)` of `economies` must be an
    /// economy of the scenario; with `key` (the row's other identifying columns, at most six),
    /// no earlier row may have the same scenario, year and key.
    pub(crate) fn check(
        &mut self,
        line: usize,
        (scenario, year): (&str, Option<i32>),
        economies: &[(&str, &str)],
        key: Option<&[(&str, Part)]>,
    ) -> Result<()> {
        let other = "the tables are of different runs or one was edited: run (or merge) again to write them together";
        let Some((codes, years)) = self.scope.get(scenario) else {
            let known: Vec<&str> = self.scope.keys().map(String::as_str).collect();
            return Err(Error::data(
                self.path,
                line,
                format!("scenario `{scenario}` has no rows in economies.csv (its scenarios: {}); {other}", known.join(", ")),
            ));
        };
        if let Some(year) = year.filter(|y| !years.contains(y)) {
            let ys: Vec<i64> = years.iter().map(|&y| i64::from(y)).collect();
            return Err(Error::data(
                self.path,
                line,
                format!("year {year} of scenario `{scenario}` has no rows in economies.csv (it has {}); {other}", crate::error::consecutive_runs(ys).join(", ")),
            ));
        }
        for (column, code) in economies {
            if !codes.contains(*code) {
                let near =
                    crate::error::did_you_mean_phrase(code, codes.iter().map(String::as_str), '`')
                        .map(|p| format!(" ({p})"))
                        .unwrap_or_default();
                return Err(Error::data(
                    self.path,
                    line,
                    format!("{column} `{code}` is not an economy of scenario `{scenario}` in economies.csv{near}; {other}"),
                ));
            }
        }
        let Some(key) = key else { return Ok(()) };
        let mut id = [0u32; 8];
        // A text already numbered is looked up without making a String of it (every row of a
        // table names the same few economies and sectors).
        let mut number = |t: &str| match self.names.get(t) {
            Some(&n) => n,
            None => {
                let n = self.names.len() as u32;
                self.names.insert(t.to_string(), n);
                n
            }
        };
        id[0] = number(scenario);
        id[1] = year.map_or(0, |y| y as u32);
        for (k, (_, part)) in key.iter().enumerate().take(6) {
            id[k + 2] = match part {
                Part::Text(t) => number(t),
                Part::Number(n) => *n,
            };
        }
        if let Some(first) = self.seen.insert(id, line) {
            let what: Vec<String> = key
                .iter()
                .map(|(c, p)| match p {
                    Part::Text(t) => format!("{c} {t}"),
                    Part::Number(n) => format!("{c} {n}"),
                })
                .collect();
            return Err(Error::data(
                self.path,
                line,
                format!("a second row for scenario `{scenario}`, {}{} (the first is row {first}), which would count twice in the report; {REWRITE}", year.map(|y| format!("year {y}, ")).unwrap_or_default(), what.join(", ")),
            ));
        }
        Ok(())
    }
}

/// A row of a table other than `economies.csv`, as [`TableRows::check`] reads it.
pub(crate) trait Keyed {
    /// Its scenario and year (`None`: a year `economies.csv` need not have).
    fn scope(&self) -> (&str, Option<i32>);
    /// Its economies, with their columns.
    fn economies(&self) -> Vec<(&'static str, &str)>;
    /// Its other identifying columns; `None` when the report does not keep the row (another
    /// draw than the central run), so that a large batch's keys are not all held.
    fn key(&self) -> Option<Vec<(&'static str, Part<'_>)>>;
}

impl TableRows<'_> {
    /// [`TableRows::check`] for the row `r` at `line`.
    pub(crate) fn check_row(&mut self, line: usize, r: &impl Keyed) -> Result<()> {
        self.check(line, r.scope(), &r.economies(), r.key().as_deref())
    }
}

/// Call `f` with every row of the table at `path` ([`for_each_row`]), each checked against
/// `scope` and the rows before it ([`TableRows::check`]).
pub(crate) fn for_each_checked<T: DeserializeOwned + Serialize + Keyed>(
    path: &Path,
    scope: &Scope,
    mut f: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    let mut rows = TableRows::new(path, scope);
    for_each_row::<T>(path, |r, line| {
        rows.check_row(line, &r)?;
        f(r)
    })
}

/// Every row of the table at `path`, each checked ([`for_each_checked`]).
pub(crate) fn checked_rows<T: DeserializeOwned + Serialize + Keyed>(
    path: &Path,
    scope: &Scope,
) -> Result<Vec<T>> {
    let mut v = Vec::new();
    for_each_checked(path, scope, |r| {
        v.push(r);
        Ok(())
    })?;
    Ok(v)
}

impl Keyed for BilateralRow {
    fn scope(&self) -> (&str, Option<i32>) {
        (&self.scenario, Some(self.year))
    }
    fn economies(&self) -> Vec<(&'static str, &str)> {
        vec![("exporter", &self.exporter), ("importer", &self.importer)]
    }
    fn key(&self) -> Option<Vec<(&'static str, Part<'_>)>> {
        (self.draw == 0).then(|| {
            vec![
                ("draw", Part::Number(self.draw)),
                ("exporter", Part::Text(&self.exporter)),
                ("importer", Part::Text(&self.importer)),
                ("sector", Part::Text(&self.sector)),
            ]
        })
    }
}

impl Keyed for TariffRow {
    fn scope(&self) -> (&str, Option<i32>) {
        (&self.scenario, Some(self.year))
    }
    fn economies(&self) -> Vec<(&'static str, &str)> {
        vec![("importer", &self.importer), ("exporter", &self.exporter)]
    }
    fn key(&self) -> Option<Vec<(&'static str, Part<'_>)>> {
        Some(vec![
            ("importer", Part::Text(&self.importer)),
            ("exporter", Part::Text(&self.exporter)),
            ("sector", Part::Text(&self.sector)),
        ])
    }
}

impl Keyed for SolverRow {
    /// The baseline's solve has the base year, which a scenario's `years` may omit: the year
    /// is in the key only.
    fn scope(&self) -> (&str, Option<i32>) {
        (&self.scenario, None)
    }
    fn economies(&self) -> Vec<(&'static str, &str)> {
        Vec::new()
    }
    /// Files written before the `stage` column have two solves of the base year: not keyed.
    fn key(&self) -> Option<Vec<(&'static str, Part<'_>)>> {
        (!self.stage.is_empty()).then(|| {
            vec![
                ("year", Part::Number(self.year as u32)),
                ("stage", Part::Text(&self.stage)),
                ("draw", Part::Number(self.draw)),
            ]
        })
    }
}

impl Keyed for InvestmentRow {
    fn scope(&self) -> (&str, Option<i32>) {
        (&self.scenario, Some(self.year))
    }
    fn economies(&self) -> Vec<(&'static str, &str)> {
        vec![("source", &self.source), ("host", &self.host)]
    }
    fn key(&self) -> Option<Vec<(&'static str, Part<'_>)>> {
        (self.draw == 0).then(|| {
            vec![
                ("draw", Part::Number(self.draw)),
                ("source", Part::Text(&self.source)),
                ("host", Part::Text(&self.host)),
            ]
        })
    }
}

impl Keyed for QuotaRow {
    fn scope(&self) -> (&str, Option<i32>) {
        (&self.scenario, Some(self.year))
    }
    fn economies(&self) -> Vec<(&'static str, &str)> {
        vec![("importer", &self.importer), ("exporter", &self.exporter)]
    }
    fn key(&self) -> Option<Vec<(&'static str, Part<'_>)>> {
        (self.draw == 0).then(|| {
            vec![
                ("draw", Part::Number(self.draw)),
                ("agreement", Part::Text(&self.agreement)),
                ("group", Part::Text(&self.group)),
                ("importer", Part::Text(&self.importer)),
                ("exporter", Part::Text(&self.exporter)),
                ("sector", Part::Text(&self.sector)),
            ]
        })
    }
}

impl Keyed for SummaryRow {
    fn scope(&self) -> (&str, Option<i32>) {
        (&self.scenario, Some(self.year))
    }
    fn economies(&self) -> Vec<(&'static str, &str)> {
        vec![("economy", &self.economy)]
    }
    fn key(&self) -> Option<Vec<(&'static str, Part<'_>)>> {
        Some(vec![
            ("economy", Part::Text(&self.economy)),
            ("measure", Part::Text(&self.measure)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(c: &mut Coverage, line: usize, key: (&str, i32, u32, &str)) -> Result<()> {
        c.add(Path::new("e.csv"), line, key, "base_year")
    }

    #[test]
    fn a_year_and_draw_without_an_economy_is_named_at_its_first_row() {
        let mut c = Coverage::default();
        for (k, e) in ["A", "B", "C"].iter().enumerate() {
            add(&mut c, 2 + k, ("S", 2020, 0, e)).unwrap();
        }
        add(&mut c, 5, ("S", 2020, 1, "A")).unwrap();
        add(&mut c, 6, ("S", 2020, 1, "C")).unwrap();
        let e = c
            .finish(Path::new("e.csv"), &ExpectedEconomies::new())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("e.csv, row 5:"), "{e}");
        assert!(e.contains("draw 1") && e.contains("no row for B"), "{e}");
    }

    #[test]
    fn a_repeated_row_and_a_mixed_comparison_are_refused() {
        let mut c = Coverage::default();
        add(&mut c, 2, ("S", 2020, 0, "A")).unwrap();
        let e = add(&mut c, 3, ("S", 2020, 0, "A")).unwrap_err().to_string();
        assert!(
            e.contains("row 3") && e.contains("a second row for A"),
            "{e}"
        );
        let e = c
            .add(Path::new("e.csv"), 4, ("S", 2021, 0, "A"), "reference")
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 4") && e.contains("say `base_year`"), "{e}");
    }

    #[test]
    fn an_economy_the_directory_lists_but_no_row_has_is_missing() {
        let mut c = Coverage::default();
        add(&mut c, 2, ("S", 2020, 0, "A")).unwrap();
        let expected = ExpectedEconomies::from([("S".to_string(), vec!["A".into(), "Z".into()])]);
        let e = c
            .finish(Path::new("e.csv"), &expected)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no row for Z (1 of the 2"), "{e}");
    }
}
