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
