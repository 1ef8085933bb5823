//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether the tests must find `../shared`: `TRADESIM_REQUIRE_SHARED=1`, which `.ci/run` sets
/// whenever `../shared` exists, so that a test needing it can never pass without running.
pub fn shared_required() -> bool {
    std::env::var("TRADESIM_REQUIRE_SHARED").is_ok_and(|v| v == "1")
}

/// Say that (and why) the current test skips. Cargo captures what a passing test prints with
/// `eprintln!`; this writes to the process's stderr directly, so `cargo test` shows the line.
pub fn skip(reason: &str) {
    use std::io::Write;
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
}

/// A path under `../shared/` beside the repository (`data/cp2015/theta.csv`,
/// `facts/economies_2014.csv`), or `None` when it is absent (a user's clone): the skip is
/// printed where cargo shows it. With `TRADESIM_REQUIRE_SHARED=1` an absent path fails the test.
pub fn shared(rel: &str) -> Option<PathBuf> {
    match shared_in(&root().join("../shared"), rel) {
        Ok(p) => Some(p),
        Err(why) => {
            skip_unless_required(&why, shared_required());
            None
        }
    }
}

/// `rel` under a `shared` directory, or why it is absent.
pub fn shared_in(shared: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = shared.join(rel);
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "{} is absent (reference data live in ../shared beside the repository; README, \"Reference data\")",
            p.display()
        ))
    }
}

/// Skip with `why` printed, or fail the test when the reference data are `required`.
pub fn skip_unless_required(why: &str, required: bool) {
    if required {
        panic!("TRADESIM_REQUIRE_SHARED=1, but {why}");
    }
    skip(why);
}

/// A reference data set in `../shared/data/` ([`shared`]).
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    shared(&format!("data/{rel}"))
}

/// Run the `tradesim` binary.
pub fn tradesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args(args)
        .output()
        .expect("the tradesim binary runs")
}

/// `tradesim run SCENARIO --out OUT --quiet`, which must succeed; returns its stderr (warnings).
pub fn run_quietly(scenario: &Path, out: &Path) -> String {
    let o = tradesim(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{}: {err}", scenario.display());
    err
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
