//! Errors that reach the user. Every variant says what is wrong, where, and how to fix it.

use std::path::PathBuf;

/// The library's error type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Bad input in a data file (CSV): names the file and row.
    #[error("{path}, row {row}: {message}")]
    Data {
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        row: usize,
        message: String,
    },
    /// Bad input whose location is a file as a whole or a set of values.
    #[error("{context}: {message}")]
    Invalid { context: String, message: String },
    /// Bad input in a scenario file: names the file, line and column, and shows the line.
    #[error("{path}:{line}:{column}: {message}{snippet}")]
    Scenario {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        /// The offending source line with a caret under the column (may be empty).
        snippet: String,
    },
    /// A solver stopped without converging.
    #[error("{0}")]
    NotConverged(String),
    /// Several errors found at once (validation reports them all).
    #[error("{} errors:\n{}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<Error>),
}

impl Error {
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
            Error::NotConverged(m) => Error::NotConverged(f(&m)),
            Error::Many(v) => Error::Many(v.into_iter().map(|e| e.map_text(f)).collect()),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
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
                let caret = " ".repeat(column.saturating_sub(1));
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
    pub fn invalid(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            context: context.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The candidates a mistyped name most likely meant, best first (at most three): the same name
/// in another case, a name containing it or contained in it (`Japan-Chile` for `Japan-Chile
/// EPA`), or one within a small edit distance (one for short codes; from five characters on,
/// a third of the length, at least two).
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
            } else if !q.is_empty() && (l.contains(&q) || q.contains(&l)) {
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

/// "did you mean `a`?" (or "`a` or `b`"), or the full list when it is short, or a count: the
/// tail of a message about an unknown name. `what` names the list ("agreements").
pub fn suggestion(query: &str, candidates: &[&str], what: &str) -> String {
    let near = did_you_mean(query, candidates.iter().copied());
    let quote = |v: &[&str]| {
        v.iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    if !near.is_empty() {
        format!("did you mean {}?", quote(&near))
    } else if candidates.len() <= 12 {
        format!("the {what} are: {}", candidates.join(", "))
    } else {
        format!("none of the {} {what} is close", candidates.len())
    }
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
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

    #[test]
    fn suggestions_find_prefixes_and_typos() {
        let names = ["Japan-Chile EPA", "Japan-Mexico EPA", "CPTPP", "NAFTA"];
        assert_eq!(did_you_mean("Japan-Chile", names), ["Japan-Chile EPA"]);
        assert_eq!(did_you_mean("CPPTP", names), ["CPTPP"]);
        assert_eq!(did_you_mean("nafta", names), ["NAFTA"]);
        assert!(did_you_mean("Mercosur", names).is_empty());
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
