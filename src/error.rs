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
    /// A solver stopped without converging.
    #[error("{0}")]
    NotConverged(String),
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
    pub fn invalid(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            context: context.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
