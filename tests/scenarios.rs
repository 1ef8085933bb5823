//! Every scenario and batch file in `scenarios/` passes `tradesim check`.

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
    // A user's clone has no ../shared: files that read the reference data skip then.
    let shared_absent = !Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .exists();
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
        if shared_absent && err.contains("shared/data") {
            eprintln!(
                "skipping {}: it reads ../shared/data, which is absent",
                f.display()
            );
            continue;
        }
        failures.push(format!("{}:\n{err}", f.display()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
