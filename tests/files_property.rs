//! The README's promise "nothing a user made is ever deleted without `--force`", and never an
//! input even with it, as a property: over random workspaces (the scenario, its baseline, user
//! files and directories, an earlier tradesim output with or without a user's file added) and
//! random destinations (new, nested, an existing file, a user's directory, the scenario's own
//! directory, the baseline, its parent, an earlier output, through `..`), with and without
//! `--force`, every file a user made keeps its bytes, and without `--force` so does every file
//! of an earlier run, its `report.html` edited by hand and reported on again included. A run
//! never panics, and it exits 0 only with its tables written whole.
mod common;
use common::*;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every regular file under `root`, relative path → bytes.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                stack.push(p);
            } else if t.is_file() {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                m.insert(rel, std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    m
}

const SCENARIO: &str = "Scenario(name: \"s\", baseline: Csv(\"tiny\"), base_year: 2014, horizon: 2018, agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"])])";

/// Where `--out` points, relative to the scenario's directory `work`.
const DESTINATIONS: [&str; 12] = [
    "out",         // new
    "a/b/c",       // new, nested
    "notes.txt",   // a user's file
    "thesis",      // a user's directory with files
    "empty",       // a user's empty directory
    ".",           // the scenario's own directory
    "tiny",        // the baseline
    "..",          // the parent of every input
    "earlier",     // an earlier tradesim output
    "../work",     // the scenario's directory through ..
    "tiny/..",     // the same through the baseline
    "earlier/sub", // inside an earlier output
];

fn run(work: &Path, dest: &str, force: bool) -> std::process::Output {
    tradesim_in(work, &["run", "s.ron", "--out", dest, "--quiet"], force)
}

/// tradesim with `args` (and `--force`) in the directory `work`.
fn tradesim_in(work: &Path, args: &[&str], force: bool) -> std::process::Output {
    let mut args = args.to_vec();
    if force {
        args.push("--force");
    }
    Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .current_dir(work)
        .args(&args)
        .output()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn nothing_a_user_made_is_lost(
        dest in 0..DESTINATIONS.len(),
        force: bool,
        earlier_run: bool,
        user_file_in_earlier: bool,
        second_run: bool,
        edited_report: bool,
    ) {
        let d = tempfile::tempdir().unwrap();
        let work = d.path().join("work");
        let base = work.join("tiny");
        std::fs::create_dir_all(&base).unwrap();
        for e in std::fs::read_dir(tiny()).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), base.join(e.file_name())).unwrap();
        }
        write(&work, "s.ron", SCENARIO);
        write(&work, "notes.txt", "my notes");
        std::fs::create_dir_all(work.join("thesis")).unwrap();
        write(&work.join("thesis"), "chapter1.tex", "x");
        std::fs::create_dir_all(work.join("empty")).unwrap();
        write(d.path(), "sibling.csv", "a,b\n1,2\n");
        if earlier_run {
            let o = if edited_report {
                tradesim_in(&work, &["run", "s.ron", "--out", "earlier", "--quiet", "--report"], false)
            } else {
                run(&work, "earlier", false)
            };
            prop_assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            if edited_report {
                let html = work.join("earlier/report.html");
                let text = std::fs::read_to_string(&html).unwrap();
                std::fs::write(&html, text.replace("</body>", "<p>edited</p></body>")).unwrap();
            }
            if user_file_in_earlier {
                write(&work.join("earlier"), "mine.txt", "keep");
            }
        }
        let before = snapshot(d.path());
        // Files of the earlier run (not the user's own): replaceable with --force only.
        let tradesims: Vec<PathBuf> = before
            .keys()
            .filter(|p| p.starts_with("work/earlier") && !p.ends_with("mine.txt"))
            .cloned()
            .collect();
        let runs = if second_run { 2 } else { 1 };
        for _ in 0..runs {
            let o = run(&work, DESTINATIONS[dest], force);
            let err = String::from_utf8_lossy(&o.stderr);
            prop_assert!(!err.contains("panicked"), "{}: {}", DESTINATIONS[dest], err);
            prop_assert!(matches!(o.status.code(), Some(0) | Some(1)), "{:?}: {}", o.status.code(), err);
            if o.status.success() {
                let out = work.join(DESTINATIONS[dest]);
                for f in ["economies.csv", "bilateral.csv", "tariffs.csv", "solver.csv"] {
                    prop_assert!(out.join(f).is_file(), "exit 0 without {}", f);
                }
            } else {
                prop_assert!(err.contains("error"), "a refusal says why: {}", err);
            }
        }
        if edited_report {
            // Reported on again: the edited report.html is replaced only with --force.
            let o = tradesim_in(&work, &["report", "earlier"], force);
            let err = String::from_utf8_lossy(&o.stderr);
            prop_assert!(!err.contains("panicked"), "report: {}", err);
            prop_assert!(matches!(o.status.code(), Some(0) | Some(1)), "report {:?}: {}", o.status.code(), err);
        }
        let after = snapshot(d.path());
        for (p, bytes) in &before {
            if force && tradesims.contains(p) {
                continue;
            }
            prop_assert_eq!(after.get(p), Some(bytes), "{} lost or changed (--out {}, force {})", p.display(), DESTINATIONS[dest], force);
        }
    }
}
