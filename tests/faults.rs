//! Faults (issue 9): interrupted runs leave no output, existing output is not overwritten
//! without --force.
mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

fn long_batch(dir: &std::path::Path) -> std::path::PathBuf {
    write(
        dir,
        "s.ron",
        &format!(
            "Scenario(name: \"s\", baseline: Csv(\"{}\"), base_year: 2014, horizon: 2030, agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], schedule: Linear(years: 10))])",
            tiny().display()
        ),
    );
    write(dir, "b.ron", "Batch(name: \"long\", scenarios: [\"s.ron\"], draws: 200000, seed: 3, uncertainty: [(parameter: ThetaScale, distribution: Uniform(min: 0.8, max: 1.2))])")
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn sigint_leaves_no_partial_output() {
    let d = tempfile::tempdir().unwrap();
    let b = long_batch(d.path());
    let out = d.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args([
            "batch",
            b.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "interrupted runs exit with 130");
    assert!(!out.exists(), "no output directory after an interrupt");
    assert_eq!(
        entries(d.path()),
        ["b.ron", "s.ron"],
        "no staging directory is left"
    );
}

#[test]
fn kill_leaves_no_visible_output_and_the_next_run_cleans_up() {
    let d = tempfile::tempdir().unwrap();
    let b = long_batch(d.path());
    let out = d.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args([
            "batch",
            b.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "no output directory after kill -9");
    // A second, short run into the same place removes the killed run's staging.
    let s = d.path().join("s.ron");
    let o = tradesim(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(entries(d.path()), ["b.ron", "out", "s.ron"]);
}

#[test]
fn existing_output_needs_force() {
    let d = tempfile::tempdir().unwrap();
    long_batch(d.path());
    let s = d.path().join("s.ron");
    let out = d.path().join("out");
    let args = [
        "run",
        s.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    assert!(tradesim(&args).status.success());
    std::fs::write(out.join("mine.txt"), "keep?").unwrap();
    let o = tradesim(&args);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    assert!(out.join("mine.txt").exists(), "refused runs touch nothing");
    let o = tradesim(&[&args[..], &["--force"]].concat());
    assert!(o.status.success());
    assert!(out.join("economies.csv").exists() && !out.join("mine.txt").exists());
}
