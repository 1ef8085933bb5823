//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A reference data set in `../shared/data/`, or `None` (with the reason printed) when absent:
/// a user's clone has no `../shared`; CI has it.
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let p = root().join("../shared/data").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: reference data {} is absent (it lives in ../shared/data beside the repository)", p.display());
        None
    }
}

/// Run the `tradesim` binary.
pub fn tradesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args(args)
        .output()
        .expect("the tradesim binary runs")
}

/// Write a file into a directory and return its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The tiny synthetic world used by the tests.
pub fn tiny() -> PathBuf {
    root().join("tests/fixtures/tiny")
}

/// Read a CSV into header + rows of strings.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (h, rows)
}

/// The value of column `col` in the row where `key_col == key` (and `key2_col == key2`).
pub fn lookup(h: &[String], rows: &[Vec<String>], keys: &[(&str, &str)], col: &str) -> f64 {
    let idx = |c: &str| {
        h.iter()
            .position(|x| x == c)
            .unwrap_or_else(|| panic!("no column {c}"))
    };
    let row = rows
        .iter()
        .find(|r| keys.iter().all(|(k, v)| r[idx(k)] == *v))
        .unwrap_or_else(|| panic!("no row with {keys:?}"));
    row[idx(col)].parse().unwrap()
}
