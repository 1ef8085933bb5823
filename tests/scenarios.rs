//! Every scenario file in `scenarios/` passes `tradesim check`. Skips with a printed reason
//! while the binary has no `check` command (the scenario parser lands on main separately).

use std::path::Path;
use std::process::Command;

#[test]
fn every_scenario_file_passes_check() {
    let exe = env!("CARGO_BIN_EXE_tradesim");
    let help = Command::new(exe)
        .arg("--help")
        .output()
        .expect("run tradesim --help");
    if !String::from_utf8_lossy(&help.stdout).contains("check") {
        eprintln!(
            "SKIP: this tradesim has no `check` command yet (the scenario parser is not merged)"
        );
        return;
    }
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
        if out.status.success() {
            continue;
        }
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        let is_batch = std::fs::read_to_string(f)
            .map(|t| t.lines().any(|l| l.starts_with("Batch(")))
            .unwrap_or(false);
        if is_batch && err.contains("must start with `Scenario(`") {
            eprintln!(
                "SKIP {}: `check` does not read batch files yet",
                f.display()
            );
            continue;
        }
        failures.push(format!("{}:\n{err}", f.display()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
