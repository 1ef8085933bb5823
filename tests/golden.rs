//! Golden files (issue 9): the key outputs of every file in `scenarios/` compared with stored
//! values in `tests/golden/<file>.csv`.
//!
//! When a change of results is intended, refresh the stored values and review the diff:
//!
//! ```sh
//! TRADESIM_UPDATE_GOLDEN=1 cargo test --release --test golden
//! git diff tests/golden
//! ```
//!
//! Scenario files run on the built-in world always; those on `../shared/data` skip with a
//! printed reason when it is absent (and fail with `TRADESIM_REQUIRE_SHARED=1`). Key outputs: per economy, for the last year solved,
//! real income, welfare, exports and imports (percent); for structural gravity files, real
//! GDP and exports; for batch files, the scenarios they list.
mod common;
use common::*;
use std::fmt::Write;
use std::path::Path;
use tradesim::scenario::{self, Input};

const TOLERANCE: f64 = 1e-6;

fn pct(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        (a / b - 1.0) * 100.0
    }
}

/// The key outputs of a scenario file as CSV text, or `None` when its data are absent.
fn key_outputs(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let reads_shared = text.contains("shared/data");
    // Prints the skip (or fails under TRADESIM_REQUIRE_SHARED=1) only for files that need it.
    let shared_absent = reads_shared && shared("data").is_none();
    if shared_absent {
        skip(&format!("{} reads ../shared/data", path.display()));
        return None;
    }
    let mut out = String::new();
    let input = match scenario::load_input(path) {
        Ok(i) => i,
        // A file that extends one on the reference data: skip (or fail when required).
        Err(e) if e.to_string().contains("shared/data") && shared("data").is_none() => {
            skip(&format!(
                "{} extends a file on ../shared/data",
                path.display()
            ));
            return None;
        }
        Err(e) => panic!("{}: {e}", path.display()),
    };
    match input {
        Input::Scenario(s) => {
            let run = tradesim::simulate::run(&s, &|| {})
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let t = tradesim::simulate::tables(&s.baseline, &run);
            let last = run.years.last().unwrap().year;
            out.push_str("year,economy,real_income_pct,welfare_pct,exports_pct,imports_pct\n");
            for r in t.economies.iter().filter(|r| r.year == last) {
                let _ = writeln!(
                    out,
                    "{},{},{:.9},{:.9},{:.9},{:.9}",
                    r.year,
                    r.economy,
                    r.real_income_pct,
                    r.welfare_pct,
                    pct(r.exports, r.exports_base),
                    pct(r.imports, r.imports_base)
                );
            }
        }
        Input::Gravity(_) => {
            let o = common::run_gravity(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push_str("year,economy,real_gdp_pct,exports_pct\n");
            for r in &o.economies {
                let _ = writeln!(
                    out,
                    "{},{},{:.9},{:.9}",
                    o.year, r.economy, r.real_gdp_pct, r.exports_pct
                );
            }
        }
        Input::Batch(b) => {
            out.push_str("scenario,years,draws,seed\n");
            for s in &b.scenarios {
                let _ = writeln!(
                    out,
                    "\"{}\",{},{},{}",
                    s.name.replace('"', "'"),
                    s.years.len(),
                    b.draws,
                    b.seed
                );
            }
        }
    }
    Some(out)
}

/// Compare two CSV texts: same shape, text fields equal, numbers within the tolerance.
fn differences(want: &str, got: &str) -> Vec<String> {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let mut diffs = Vec::new();
    if w.len() != g.len() {
        diffs.push(format!("{} rows stored, {} now", w.len(), g.len()));
        return diffs;
    }
    for (k, (a, b)) in w.iter().zip(&g).enumerate() {
        let (fa, fb): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
        let same = fa.len() == fb.len()
            && fa
                .iter()
                .zip(&fb)
                .all(|(x, y)| match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(x), Ok(y)) => (x - y).abs() <= TOLERANCE * (1.0 + x.abs()),
                    _ => x == y,
                });
        if !same {
            diffs.push(format!("line {}: stored `{a}`, now `{b}`", k + 1));
        }
    }
    diffs
}

#[test]
fn every_scenario_file_matches_its_golden_outputs() {
    let update = std::env::var("TRADESIM_UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut files: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut checked = 0;
    for f in &files {
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let Some(got) = key_outputs(f) else {
            continue;
        };
        let golden = root().join("tests/golden").join(format!("{name}.csv"));
        if update {
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        let Ok(want) = std::fs::read_to_string(&golden) else {
            failures.push(format!("{name}: no stored values in {}; run TRADESIM_UPDATE_GOLDEN=1 cargo test --release --test golden", golden.display()));
            continue;
        };
        let d = differences(&want, &got);
        if !d.is_empty() {
            failures.push(format!(
                "{name}:\n  {}",
                d.iter().take(5).cloned().collect::<Vec<_>>().join("\n  ")
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "golden outputs differ (if intended, refresh: TRADESIM_UPDATE_GOLDEN=1 cargo test --release --test golden):\n{}", failures.join("\n"));
    // The files on the built-in world run everywhere: at least 20 of them.
    if !update {
        assert!(checked >= 20, "checked only {checked} files");
    }
}

#[test]
fn the_comparison_catches_a_change() {
    let a = "year,economy,x\n2020,AAA,1.000000000\n";
    assert!(differences(a, a).is_empty());
    assert_eq!(
        differences(a, "year,economy,x\n2020,AAA,1.000010000\n").len(),
        1
    );
    assert_eq!(
        differences(a, "year,economy,x\n2020,BBB,1.000000000\n").len(),
        1
    );
    assert_eq!(differences(a, "year,economy,x\n").len(), 1);
}
