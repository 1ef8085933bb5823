//! tradesim against pyfixest, the peer its PPML is held to: `bench/compare_pyfixest.py` fits
//! eighteen models in both tools (the Advanced Guide's applications 1 and 3, the first also with
//! a regressor that separates five zero flows, found by both tools' rectifiers, with R's
//! product `rta*log(dist)`, and on a copy with missing values as R and Stata write them (`NA`,
//! empty, `.`), which both tools leave out; a three-way model with robust and two-way clustered errors, with a
//! product term, with fixest's `i(year, rta, ref = 1986)`, and with a regressor collinear with
//! the pair effect; six fixed-effect dimensions; one fixed effect; gegravity's sample with
//! two fixed effects, robust and clustered, and without fixed effects with an offset; fixest's
//! Eurostat panel, fixest's own example and a subset with singletons dropped; a synthetic panel
//! of 10⁵ rows) and fails when an estimate or a standard error differs by more than 1e-6, or
//! the number of observations or the regressors dropped as collinear differ. Both tools run to
//! an IRLS tolerance of 1e-12 (docs/estimate.md says why).
//!
//! It needs `../shared/data` and a Python with pyfixest, named by `TRADESIM_PYFIXEST_PYTHON`
//! (`.ci/run` installs pyfixest 0.60 in a virtual environment outside the repository on CI and
//! sets it, with `TRADESIM_REQUIRE_PYFIXEST=1`). Without them the test prints why it skips;
//! with `TRADESIM_REQUIRE_PYFIXEST=1` a missing Python is a failure.
mod common;
use common::*;
use std::process::Command;

#[test]
fn estimates_and_standard_errors_match_pyfixest() {
    let Some(data) = shared("data") else {
        return;
    };
    let required = std::env::var("TRADESIM_REQUIRE_PYFIXEST").as_deref() == Ok("1");
    let Some(python) = std::env::var_os("TRADESIM_PYFIXEST_PYTHON") else {
        let why = "TRADESIM_PYFIXEST_PYTHON is not set (a Python with pyfixest: python3 -m venv V && V/bin/pip install pyfixest==0.60.0, then TRADESIM_PYFIXEST_PYTHON=V/bin/python)";
        if required {
            panic!("TRADESIM_REQUIRE_PYFIXEST=1, but {why}");
        }
        skip(why);
        return;
    };
    let out = Command::new(&python)
        .arg(root().join("bench/compare_pyfixest.py"))
        .arg("--data")
        .arg(&data)
        .arg("--bin")
        .arg(env!("CARGO_BIN_EXE_tradesim"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.to_string_lossy()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "bench/compare_pyfixest.py failed:\n{text}"
    );
    // Every case ran and agreed (a case that cannot run ends the script with an error).
    let ok = text.lines().filter(|l| l.starts_with("OK ")).count();
    assert_eq!(ok, 18, "eighteen cases expected to agree:\n{text}");
    assert!(!text.lines().any(|l| l.starts_with("BAD ")), "{text}");
}
