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

/// Runs the `StructuralGravity(...)` scenario file at `path` through the façade
/// (`run::load`, then `RunJob::run` into a scratch directory) and returns its outcome.
pub fn run_gravity(path: impl AsRef<Path>) -> tradesim::Result<tradesim::gravity::GravityOutcome> {
    let job = tradesim::run::load(path.as_ref())?;
    let dir = tempfile::tempdir().expect("a scratch directory");
    let out = dir.path().join("out");
    let opts = tradesim::RunOptions {
        out: &out,
        force: false,
        json: false,
        report: false,
    };
    match job.run(&opts, &|| {})? {
        tradesim::RunReport::Gravity(g) => Ok(g.outcome),
        tradesim::RunReport::Scenario(_) => panic!(
            "{}: not a StructuralGravity(...) file",
            path.as_ref().display()
        ),
    }
}

/// [`run_gravity`] on scenario text, written to a scratch file: paths in `text` must be
/// absolute (the scratch directory is not the repository's `scenarios/`).
pub fn run_gravity_text(text: &str) -> tradesim::Result<tradesim::gravity::GravityOutcome> {
    let dir = tempfile::tempdir().expect("a scratch directory");
    run_gravity(write(dir.path(), "scenario.ron", text))
}
