//! Every scenario and batch file in `scenarios/` passes `tradesim check`; the files that read
//! reference data say so; the rule for tests that need `../shared`.

mod common;
use std::path::Path;
use std::process::Command;

#[test]
fn every_scenario_file_passes_check() {
    let exe = env!("CARGO_BIN_EXE_tradesim");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "expected the paper's scenario files, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        let out = Command::new(exe)
            .arg("check")
            .arg(f)
            .output()
            .expect("run tradesim check");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        let reads_shared = std::fs::read_to_string(f).unwrap().contains("shared/data");
        if out.status.success() {
            // A file on the reference data says so, and where the data come from.
            if reads_shared && !stdout.contains("not shipped with tradesim") {
                failures.push(format!(
                    "{}: check does not say it reads reference data:\n{stdout}",
                    f.display()
                ));
            }
            continue;
        }
        // A user's clone has no ../shared: files that read the reference data skip then, and
        // the error says where to get the data.
        if err.contains("shared/data") && common::shared("data").is_none() {
            if reads_shared && !err.contains("not shipped with tradesim") {
                failures.push(format!(
                    "{}: the error does not say where to get the data:\n{err}",
                    f.display()
                ));
            }
            common::skip(&format!("{} reads ../shared/data", f.display()));
            continue;
        }
        failures.push(format!("{}:\n{err}", f.display()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A test that needs `../shared` skips with a printed reason when it is absent, and fails when
/// `TRADESIM_REQUIRE_SHARED=1` (as `.ci/run` sets whenever `../shared` exists).
#[test]
fn a_missing_reference_file_skips_or_fails_when_required() {
    let empty = tempfile::tempdir().unwrap();
    let why = common::shared_in(empty.path(), "data/cp2015").unwrap_err();
    assert!(why.contains("data/cp2015 is absent"), "{why}");
    let required = std::panic::catch_unwind(|| common::skip_unless_required(&why, true));
    assert!(
        required.is_err(),
        "a required, absent data set fails the test"
    );
    std::fs::create_dir_all(empty.path().join("data/cp2015")).unwrap();
    assert!(common::shared_in(empty.path(), "data/cp2015").is_ok());
    // CI runs the suite with the requirement on whenever ../shared exists.
    let ci = std::fs::read_to_string(common::root().join(".ci/run")).unwrap();
    assert!(ci.contains("export TRADESIM_REQUIRE_SHARED=1"), "{ci}");
}
