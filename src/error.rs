//! Errors that reach the user. Every variant says what is wrong, where, and how to fix it.

use std::path::PathBuf;

/// The library's error type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// Bad input in a data file (CSV): names the file and row.
    #[error("{path}, row {row}: {message}")]
    Data {
        /// The data file.
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        row: usize,
        /// What is wrong with the row and how to fix it.
        message: String,
    },
    /// Bad input whose location is a file as a whole or a set of values.
    #[error("{context}: {message}")]
    Invalid {
        /// What the values belong to (a file, a scenario and year, a fit).
        context: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Bad input in a scenario file: names the file, line and column, and shows the line.
    #[error("{path}:{line}:{column}: {message}{snippet}")]
    Scenario {
        /// The scenario (or batch) file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and how to fix it.
        message: String,
        /// The offending source line with a caret under the column (may be empty).
        snippet: String,
    },
    /// A solver stopped without meeting its tolerance: which solver, after how many
    /// iterations, the residual reached against the tolerance asked for, where it is largest,
    /// in which run, and how to fix it ([`NotConverged`]; boxed to keep `Result`s small).
    #[error("{0}")]
    NotConverged(Box<NotConverged>),
    /// Several errors found at once (validation reports them all).
    #[error("{} errors:\n{}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<Error>),
}

impl Error {
    /// One error, or several as [`Error::Many`] (each shown in turn); `errors` is not empty.
    pub fn one_or_many(mut errors: Vec<Error>) -> Error {
        if errors.len() == 1 {
            errors.pop().expect("one error")
        } else {
            Error::Many(errors)
        }
    }

    /// The same error with the text of every message passed through `f`: the library names
    /// option fields (`max_iter`, `subset`); the binary maps them to its flags with this.
    pub fn map_text(self, f: &dyn Fn(&str) -> String) -> Error {
        match self {
            Error::Io { .. } => self,
            Error::Data { path, row, message } => Error::Data {
                path,
                row,
                message: f(&message),
            },
            Error::Invalid { context, message } => Error::Invalid {
                context: f(&context),
                message: f(&message),
            },
            Error::Scenario {
                path,
                line,
                column,
                message,
                snippet,
            } => Error::Scenario {
                path,
                line,
                column,
                message: f(&message),
                snippet,
            },
            Error::NotConverged(mut s) => {
                s.hint = f(&s.hint);
                Error::NotConverged(s)
            }
            Error::Many(v) => Error::Many(v.into_iter().map(|e| e.map_text(f)).collect()),
        }
    }

    /// A solver that stopped after `iterations` at `residual` (against `tolerance`), largest at
    /// `worst`; `hint` says how to fix it. The context (scenario, draw, year) is added by the
    /// callers that know it ([`Error::amend`]).
    pub fn not_converged(
        solver: Solver,
        iterations: usize,
        residual: f64,
        tolerance: f64,
        worst: Option<Worst>,
        hint: impl Into<String>,
    ) -> Self {
        Error::NotConverged(Box::new(NotConverged {
            solver,
            iterations,
            residual,
            tolerance,
            worst,
            context: Context::default(),
            hint: hint.into(),
        }))
    }

    /// The same error with the details of a non-convergence amended by `f`: its run context,
    /// where it is worst (e.g. a row labelled with its economy) and its hint, by callers that
    /// know more than the solver. Other variants are returned unchanged.
    pub fn amend(self, f: impl FnOnce(&mut NotConverged)) -> Self {
        match self {
            Error::NotConverged(mut s) => {
                f(&mut s);
                Error::NotConverged(s)
            }
            other => other,
        }
    }

    /// An I/O failure on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    /// Bad input at 1-based line `row` of the data file `path`.
    pub fn data(path: impl Into<PathBuf>, row: usize, message: impl Into<String>) -> Self {
        Error::Data {
            path: path.into(),
            row,
            message: message.into(),
        }
    }
    /// A scenario error at 1-based `line` and `column` of `source` (the file's text).
    pub fn scenario(
        path: impl Into<PathBuf>,
        source: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        let snippet = match source.lines().nth(line.saturating_sub(1)) {
            Some(text) if line > 0 => {
                // The line's tabs are kept under it, so the caret lines up however wide a
                // terminal shows a tab.
                let caret: String = text
                    .chars()
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .chain(std::iter::repeat(' '))
                    .take(column.saturating_sub(1))
                    .collect();
                format!("\n{line:>5} | {text}\n      | {caret}^")
            }
            _ => String::new(),
        };
        Error::Scenario {
            path: path.into(),
            line,
            column,
            message: message.into(),
            snippet,
        }
    }
    /// Bad values, located by `context` (a file as a whole, a scenario and year, a fit).
    pub fn invalid(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            context: context.into(),
            message: message.into(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A solver that stopped without meeting its tolerance (argmin's termination reasons, as
/// data). Its text says what did not converge, where, and how to fix it:
///
/// ```text
/// scenario `x`, year 2016: the Caliendo–Parro equilibrium (wage loop) did not converge in 2
/// iterations: the largest factor-market residual (relative to value added) is 4.929e-3
/// (tolerance 1e-10), for economy CCC; raise solver.max_iterations or lower solver.step
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NotConverged {
    /// Which solver stopped.
    pub solver: Solver,
    /// Iterations done (sweeps, passes or rounds, as the solver counts them).
    pub iterations: usize,
    /// The convergence measure reached ([`Solver::measure`] says which).
    pub residual: f64,
    /// The tolerance the measure had to meet.
    pub tolerance: f64,
    /// Where the residual is largest, as the solver knows it.
    pub worst: Option<Worst>,
    /// The run it belongs to (scenario, draw, year), filled in by the callers that know.
    pub context: Context,
    /// How to fix it; names option fields (`max_iter`, `solver.step`), which the binary maps
    /// to its flags with [`Error::map_text`].
    pub hint: String,
}

impl std::fmt::Display for NotConverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{} did not converge in {} {}: {} is {:.3e} (tolerance {:e})",
            self.context,
            self.solver.name(),
            self.iterations,
            self.solver.steps(),
            self.solver.measure(),
            self.residual,
            self.tolerance
        )?;
        if let Some(w) = &self.worst {
            write!(f, ", {w}")?;
        }
        write!(f, "; {}", self.hint)
    }
}

/// The iterative solvers whose non-convergence is reported as [`Error::NotConverged`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Solver {
    /// The Caliendo–Parro wage loop: factor-market clearing (MODEL.md §1, eq. 6).
    CaliendoParro,
    /// Its inner expenditure system (MODEL.md §1, eqs. 4–5) by Jacobi sweeps.
    Expenditure,
    /// The regimes of the tariff-rate quotas around the equilibrium (MODEL.md §3), by bisection.
    QuotaRegimes,
    /// Structural gravity's multilateral resistances (MODEL.md §2).
    Resistances,
    /// Structural gravity's full-endowment general equilibrium (MODEL.md §2).
    FullEndowment,
    /// The Advanced Guide's own full-endowment loop, with its stopping rule.
    GuideLoop,
    /// The conditional general equilibrium on observed flows (exact hat algebra).
    ObservedConditional,
    /// The full-endowment general equilibrium on observed flows (exact hat algebra).
    ObservedFullEndowment,
    /// Biproportional balancing (RAS) of a matrix to row and column totals.
    Ras,
    /// RAS with the observed cells held within their band.
    BoundedRas,
    /// PPML by iteratively reweighted least squares.
    Ppml,
    /// Demeaning by alternating projections (the fixed effects of PPML-HDFE).
    Demeaning,
}

impl Solver {
    /// What the solver computes, as a sentence's subject.
    pub fn name(self) -> &'static str {
        match self {
            Solver::CaliendoParro => "the Caliendo–Parro equilibrium (wage loop)",
            Solver::Expenditure => "the Caliendo–Parro expenditure system",
            Solver::QuotaRegimes => "the tariff-rate quota regimes",
            Solver::Resistances => "the multilateral resistances",
            Solver::FullEndowment => "the full-endowment general equilibrium",
            Solver::GuideLoop => "the Guide's full-endowment loop",
            Solver::ObservedConditional => "the conditional GE on observed flows",
            Solver::ObservedFullEndowment => "the general equilibrium on observed flows",
            Solver::Ras => "RAS balancing",
            Solver::BoundedRas => "RAS balancing with observed cells held within their band",
            Solver::Ppml => "PPML (IRLS)",
            Solver::Demeaning => "demeaning by alternating projections",
        }
    }
    /// What one of its iterations is called.
    pub fn steps(self) -> &'static str {
        match self {
            Solver::Expenditure | Solver::Demeaning => "sweeps",
            Solver::GuideLoop => "passes",
            Solver::QuotaRegimes => "rounds",
            _ => "iterations",
        }
    }
    /// The convergence measure its `residual` is.
    pub fn measure(self) -> &'static str {
        match self {
            Solver::CaliendoParro => {
                "the largest factor-market residual (relative to value added)"
            }
            Solver::Expenditure => "the largest change of a sector's expenditure (relative to the mean)",
            Solver::QuotaRegimes => "the largest gap between a quota's imports and its quota (relative)",
            Solver::Resistances | Solver::ObservedConditional => "the largest residual",
            Solver::FullEndowment | Solver::ObservedFullEndowment => {
                "the largest market-clearing residual"
            }
            Solver::GuideLoop => {
                "the larger of the standard deviation and the largest absolute value of the change in price changes between passes"
            }
            Solver::Ras | Solver::BoundedRas => "the largest relative gap to a row or column total",
            Solver::Ppml => "the relative change of the deviance",
            Solver::Demeaning => "the largest change of a fixed-effect coefficient (absolute or relative)",
        }
    }
}

/// Where a solver's residual is largest.
#[derive(Debug, Clone, PartialEq)]
pub enum Worst {
    /// An economy (its code).
    Economy(String),
    /// One importer–exporter–sector cell.
    Cell {
        /// The importer's code.
        importer: String,
        /// The exporter's code.
        exporter: String,
        /// The sector's code.
        sector: String,
    },
    /// A row of a matrix (0-based), with its label when the caller knows one.
    Row {
        /// 0-based row.
        index: usize,
        /// The row's economy or name, when known.
        label: Option<String>,
    },
    /// A column of a matrix (0-based), with its label when the caller knows one.
    Column {
        /// 0-based column.
        index: usize,
        /// The column's economy or name, when known.
        label: Option<String>,
    },
}

impl std::fmt::Display for Worst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line = |f: &mut std::fmt::Formatter<'_>, what, index, label: &Option<String>| {
            write!(f, "{what} {index}")?;
            match label {
                Some(l) => write!(f, " ({l})"),
                None => Ok(()),
            }
        };
        match self {
            Worst::Economy(code) => write!(f, "for economy {code}"),
            Worst::Cell {
                importer,
                exporter,
                sector,
            } => write!(f, "for {importer}'s imports from {exporter} in {sector}"),
            Worst::Row { index, label } => line(f, "at row", index, label),
            Worst::Column { index, label } => line(f, "at column", index, label),
        }
    }
}

/// The run a solve belongs to: which scenario, batch draw and year (each when known).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// The scenario's name.
    pub scenario: Option<String>,
    /// The batch draw (0 is the central run).
    pub draw: Option<u32>,
    /// The year solved; `None` in a scenario: its base-year solve.
    pub year: Option<i32>,
    /// The reference path the solve belongs to, when not the scenario's own.
    pub reference: Option<String>,
}

impl std::fmt::Display for Context {
    /// `scenario `x`, draw 3, year 2020, its reference `y`: ` (empty when nothing is known).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(s) = &self.scenario {
            parts.push(format!("scenario `{s}`"));
        }
        if let Some(d) = self.draw {
            parts.push(format!("draw {d}"));
        }
        match self.year {
            Some(y) => parts.push(format!("year {y}")),
            None if self.scenario.is_some() => parts.push("the baseline".into()),
            None => {}
        }
        if let Some(r) = &self.reference {
            parts.push(format!("its reference `{r}`"));
        }
        if parts.is_empty() {
            Ok(())
        } else {
            write!(f, "{}: ", parts.join(", "))
        }
    }
}

/// Whether `long` contains `short` and `short` is a real part of it: at least three
/// characters or half of `long` (`Japan-Chile` of `Japan-Chile EPA`, `to` of `too`; not the
/// agreement `A` of `NAFTA`).
fn contains_much_of(long: &str, short: &str) -> bool {
    let (l, s) = (long.chars().count(), short.chars().count());
    s > 0 && (s >= 3 || 2 * s >= l) && long.contains(short)
}

/// The candidates a mistyped name most likely meant, best first (at most three): the same name
/// in another case, a name containing it or contained in it when that part is at least three
/// characters or half the name (`Japan-Chile` for `Japan-Chile EPA`), or one within a small
/// edit distance (one for short codes; from five characters on, a third of the length, at
/// least two).
pub fn did_you_mean<'a>(
    query: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let q = query.to_lowercase();
    let mut scored: Vec<(usize, &'a str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let l = c.to_lowercase();
            if l == q {
                Some((0, c))
            } else if contains_much_of(&l, &q) || contains_much_of(&q, &l) {
                Some((1, c))
            } else {
                let len = q.chars().count();
                let allowed = if len >= 5 { (len / 3).max(2) } else { 1 };
                let d = edit_distance(&q, &l);
                (d <= allowed).then_some((1 + d, c))
            }
        })
        .collect();
    scored.sort();
    scored.dedup_by_key(|x| x.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// The reference data sets that scenario files shipped with tradesim read from
/// `../shared/data/` beside the repository, and where each comes from
/// (`../shared/data/PROVENANCE.md`). They are not shipped with tradesim.
pub(crate) const REFERENCE_DATA: &[(&str, &str)] = &[
    ("cp2015", "the Caliendo and Parro (2015) NAFTA replication data as packaged in the R package paulofelipe/cp2015 (data/cp2015_nafta.rda), written out as CSV"),
    ("advanced-guide", "the data of Yotov, Piermartini, Monteiro and Larch (2016), An Advanced Guide to Trade Policy Analysis, as packaged in the R package pachadotdev/tradepolicy (data/agtpa_applications.rda), written out as CSV"),
    ("gegravity-sample", "gegravity's example data (github.com/peter-herman/gegravity, examples/sample_data_set.dlm), written out as CSV"),
    ("wiod-2000-2014", "the example data of the GE_gravity Stata command (Baier, Yotov and Zylkin), from WIOD and the NSF-Kellogg EIA database, as packaged in the R package VKudlay/GEGravity, written out as CSV"),
];

/// For a path into `shared/data/<set>`: a note that it is reference data not shipped with
/// tradesim, and where to get it (README, "Reference data").
pub(crate) fn reference_data_note(path: &std::path::Path) -> Option<String> {
    let text = path.to_string_lossy().replace('\\', "/");
    let rest = &text[text.find("shared/data/")? + "shared/data/".len()..];
    let set: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let origin = REFERENCE_DATA
        .iter()
        .find(|(name, _)| *name == set.as_str())
        .map_or("a reference data set", |(_, o)| o);
    Some(format!("this is reference data `{set}` read from ../shared/data beside the repository, which is not shipped with tradesim: {origin} (README, \"Reference data\")"))
}

/// How to write `cell` as a number when it is one formatted for reading (thousands
/// separators, a decimal comma, a percent or currency sign), or `None`: the hint of a data
/// file's message when a cell is not a number.
pub(crate) fn number_format_hint(cell: &str) -> Option<&'static str> {
    let t = cell.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = t.strip_prefix('-').unwrap_or(t);
    // `1,234`, `12,345,678.9`, `1 234`, `1'234`: groups of three after the first.
    let grouped = |sep: char| {
        let int = unsigned.split('.').next().unwrap_or("");
        let frac_ok =
            unsigned.split('.').nth(1).is_none_or(digits) && unsigned.matches('.').count() <= 1;
        let mut groups = int.split(sep);
        let first = groups.next().unwrap_or("");
        let rest: Vec<&str> = groups.collect();
        frac_ok
            && !rest.is_empty()
            && digits(first)
            && first.len() <= 3
            && (first.len() == 1 || !first.starts_with('0'))
            && first != "0"
            && rest.iter().all(|g| g.len() == 3 && digits(g))
    };
    if [',', ' ', '\'', '\u{a0}'].into_iter().any(grouped) {
        return Some("write it without thousands separators (1234567.5, not 1,234,567.5); in a spreadsheet, format the column as a number without the 1000 separator before saving it as CSV");
    }
    // `1,5`, and `1.234,5` (points between the thousands, a comma before the decimals).
    let dotted = match unsigned.rsplit_once(',') {
        Some((int, _)) if int.contains('.') => int.split('.').skip(1).all(|g| g.len() == 3),
        _ => true,
    };
    if let Some((a, b)) = unsigned.replace('.', "").split_once(',') {
        if dotted && digits(a) && digits(b) {
            return Some("write it with a decimal point (1.5, not 1,5); save the CSV from a spreadsheet set to a locale with decimal points, or replace the commas");
        }
    }
    if t.ends_with('%') && t.trim_end_matches('%').trim().parse::<f64>().is_ok() {
        return Some("write it without the percent sign, in the unit the model expects (a rate of 12% as 0.12 or 12, as the column's documentation says)");
    }
    let uncurrenced = unsigned.trim_start_matches(['$', '€', '£', '¥']);
    if uncurrenced.len() < unsigned.len() && uncurrenced.trim().parse::<f64>().is_ok() {
        return Some("write it without the currency sign");
    }
    None
}

/// What to say of a header read as one column because the file is separated by `;`, tabs or
/// `|`, not by commas (a spreadsheet saved with `;` between fields and `,` as the decimal mark,
/// or a tab-separated export); `None` when `header` holds none of them.
pub(crate) fn separator_hint(header: &str) -> Option<String> {
    let sep = [';', '\t', '|'].into_iter().find(|&c| header.contains(c))?;
    let shown: String = header.chars().take(60).collect();
    let more = if shown.len() < header.len() {
        "…"
    } else {
        ""
    };
    let name = match sep {
        '\t' => "tabs",
        ';' => "';'",
        _ => "'|'",
    };
    Some(format!(
        "the header is one column, '{}{more}': the file seems separated by {name}, but tradesim reads comma-separated files; save it as CSV with ',' between fields and '.' as the decimal mark",
        shown.replace('\t', "\\t")
    ))
}

/// Sorted numbers with each run of consecutive ones written `first-last`: `[1, 2, 3, 5]` is
/// `["1-3", "5"]` (shard lists, the years a file holds).
pub(crate) fn consecutive_runs(sorted: impl IntoIterator<Item = i64>) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = sorted.into_iter().peekable();
    while let Some(first) = it.next() {
        let mut last = first;
        while let Some(next) = it.next_if_eq(&(last + 1)) {
            last = next;
        }
        out.push(if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        });
    }
    out
}

/// The error, at the header of the file at `path`, for a header read as one column because
/// the file is not comma-separated ([`separator_hint`]); `Ok` for any other header.
pub(crate) fn check_separator<S: AsRef<str>>(path: &std::path::Path, header: &[S]) -> Result<()> {
    match header {
        [only] => match separator_hint(only.as_ref()) {
            Some(hint) => Err(Error::data(path, 1, hint)),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The candidate `query` is most likely a misspelling of (edit distance only, as in
/// [`did_you_mean`]; no substring matches), if any.
pub fn misspelling_of<'a>(
    query: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let q = query.to_lowercase();
    let len = q.chars().count();
    let allowed = if len >= 5 { (len / 3).max(2) } else { 1 };
    candidates
        .into_iter()
        .map(|c| (edit_distance(&q, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= allowed)
        .min()
        .map(|(_, c)| c)
}

/// "did you mean `a`?" (or "`a` or `b`?"), each candidate [`did_you_mean`] finds between
/// `quote`s, or `None` when none is close.
pub fn did_you_mean_phrase<'a>(
    query: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    quote: char,
) -> Option<String> {
    let near = did_you_mean(query, candidates);
    (!near.is_empty()).then(|| {
        let quoted: Vec<String> = near.iter().map(|c| format!("{quote}{c}{quote}")).collect();
        format!("did you mean {}?", quoted.join(" or "))
    })
}

/// "did you mean `a`?" (or "`a` or `b`"), or the full list when it is short, or a count: the
/// tail of a message about an unknown name. `what` names the list ("agreements").
pub fn suggestion(query: &str, candidates: &[&str], what: &str) -> String {
    if let Some(near) = did_you_mean_phrase(query, candidates.iter().copied(), '`') {
        near
    } else if candidates.len() <= 12 {
        format!("the {what} are: {}", candidates.join(", "))
    } else {
        format!("none of the {} {what} is close", candidates.len())
    }
}

/// Levenshtein distance in characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs of consecutive numbers are written `first-last`, the others alone; a repeated
    /// number starts a run of its own, as the shard lists always wrote it.
    #[test]
    fn consecutive_runs_are_compacted() {
        assert_eq!(consecutive_runs([1, 2, 3, 5, 7, 8]), ["1-3", "5", "7-8"]);
        assert_eq!(consecutive_runs([2019]), ["2019"]);
        assert_eq!(consecutive_runs([1, 1, 2]), ["1", "1-2"]);
        assert!(consecutive_runs([]).is_empty());
    }

    /// The caret under a line indented with tabs keeps the tabs, so it points at the column
    /// whatever width a terminal gives a tab.
    #[test]
    fn the_caret_keeps_the_lines_tabs() {
        let e = Error::scenario("s.ron", "a\n\t\t  membres: [],\n", 2, 5, "unknown field");
        let Error::Scenario { snippet, .. } = e else {
            panic!("a scenario error")
        };
        assert_eq!(snippet, "\n    2 | \t\t  membres: [],\n      | \t\t  ^");
        let e = Error::scenario("s.ron", "ab", 1, 5, "past the end");
        let Error::Scenario { snippet, .. } = e else {
            panic!("a scenario error")
        };
        assert!(snippet.ends_with("|     ^"), "{snippet:?}");
    }

    #[test]
    fn numbers_formatted_for_reading_are_recognised() {
        let thousands =
            |c: &str| number_format_hint(c).is_some_and(|h| h.contains("thousands separators"));
        let decimal_comma =
            |c: &str| number_format_hint(c).is_some_and(|h| h.contains("decimal point"));
        for c in ["1,234", "-12,345,678.9", "1 234", "1'234", "999,999"] {
            assert!(thousands(c), "{c}");
        }
        for c in ["1,5", "0,120", "0,12", "-3,25", "1.234,5", "12.345.678,91"] {
            assert!(decimal_comma(c), "{c}");
        }
        assert!(number_format_hint("12%").is_some_and(|h| h.contains("percent")));
        assert!(number_format_hint("$1200.5").is_some_and(|h| h.contains("currency")));
        // Not numbers at all, or not one of these forms: no hint.
        for c in [
            "NA", ".", "", "abc", "1,2,3", "12.34.56", "1,23,456", "1.2,3.4", "12%x",
        ] {
            assert_eq!(number_format_hint(c), None, "{c}");
        }
    }

    #[test]
    fn suggestions_find_prefixes_and_typos() {
        let names = ["Japan-Chile EPA", "Japan-Mexico EPA", "CPTPP", "NAFTA"];
        assert_eq!(did_you_mean("Japan-Chile", names), ["Japan-Chile EPA"]);
        assert_eq!(did_you_mean("CPPTP", names), ["CPTPP"]);
        assert_eq!(did_you_mean("nafta", names), ["NAFTA"]);
        assert!(did_you_mean("Mercosur", names).is_empty());
        // A one-letter name is not what a longer name that happens to contain it meant.
        assert!(did_you_mean("NAFTA", ["A", "B"]).is_empty());
        assert!(did_you_mean("x", ["TAX"]).is_empty());
        assert_eq!(did_you_mean("too", ["years", "to"]), ["to"]);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
