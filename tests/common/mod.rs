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

/// The tiny world's batch, written into `dir` (returns the batch file): two scenario files
/// (`fast.ron`: the agreement AB at once; `slow.ron`: over 8 years) and a grid of two phase-ins
/// over `slow.ron`, years 2016 and 2020, `draws` draws of `theta` (an `uncertainty` entry
/// without its parentheses) and of AB's depth, seed 42. The baseline is `baseline` (a copy of
/// [`tiny`], or `tiny()` itself).
pub fn tiny_batch_on(dir: &Path, baseline: &Path, draws: u32, theta: &str) -> PathBuf {
    let scen = |name: &str, sched: &str| {
        format!(
            "Scenario(name: \"{name}\", baseline: Csv(\"{}\"), base_year: 2014, years: [2016, 2020],\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], schedule: {sched}, depth: Given(beta: 0.1, phase_in_years: 5))])",
            baseline.display()
        )
    };
    write(dir, "fast.ron", &scen("fast", "Immediate"));
    write(dir, "slow.ron", &scen("slow", "Linear(years: 8)"));
    write(
        dir,
        "batch.ron",
        &format!(
            "Batch(name: \"t\", scenarios: [\"fast.ron\", \"slow.ron\"],\n variations: [(base: \"slow.ron\", name: \"slow grid\", grid: [PhaseIn(agreement: \"AB\", years: [3, 12])])],\n focus: [\"AAA\", \"CCC\"], draws: {draws}, seed: 42,\n uncertainty: [(parameter: {theta}), (parameter: Depth(\"AB\"), distribution: Triangular(min: 0.0, mode: 0.1, max: 0.3))])"
        ),
    )
}

/// [`tiny_batch_on`] the tiny world itself.
pub fn tiny_batch(dir: &Path, draws: u32, theta: &str) -> PathBuf {
    tiny_batch_on(dir, &tiny(), draws, theta)
}

/// θ of MAN log-normal around 5 (every draw solves).
pub const THETA_LOGNORMAL: &str = "Theta(\"MAN\"), distribution: LogNormal(mu: 1.6, sigma: 0.2)";

/// Copy the files of a directory (not its subdirectories) into a new directory `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
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
