//! Faults (issue 9): interrupted runs leave no output, existing output is not overwritten
//! without --force. Data loss (issue 14 items 10–12): a second run into the same --out is
//! refused while the first runs, --force replaces only tradesim's own files and never an
//! input, and leftovers of killed runs never make a later run fail.
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

/// Send `child` SIGINT (Ctrl-C) and wait: it exits with 130. Returns its stderr (when piped).
fn interrupt(child: std::process::Child) -> String {
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(
        o.status.code(),
        Some(130),
        "interrupted runs exit with 130: {err}"
    );
    err
}

#[test]
fn sigint_leaves_no_partial_output() {
    let d = tempfile::tempdir().unwrap();
    let b = long_batch(d.path());
    let out = d.path().join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_tradesim"))
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
    interrupt(child);
    assert!(!out.exists(), "no output directory after an interrupt");
    assert_eq!(
        entries(d.path()),
        ["b.ron", "s.ron"],
        "no staging directory is left"
    );
}

/// An interrupted `data synthetic-baci` leaves nothing: it wrote its year file straight into
/// --out, and Ctrl-C left a partial file there.
#[test]
fn sigint_during_synthetic_baci_leaves_no_partial_file() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("sbaci");
    // 25 million rows (under 1 GB): seconds of writing, interrupted once bytes are on disk.
    let child = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args([
            "data",
            "synthetic-baci",
            "--rows",
            "25000000",
            "--out",
            out.to_str().unwrap(),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Bytes of the year file, in --out or in a hidden staging directory beside it.
    let written = |dir: &std::path::Path| -> u64 {
        let year = "BACI_SYNTHETIC_Y2020.csv";
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::metadata(e.path().join(year)).ok())
            .map(|m| m.len())
            .sum()
    };
    let start = std::time::Instant::now();
    while written(d.path()) == 0 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(written(d.path()) > 0, "the year file is being written");
    interrupt(child);
    assert!(!out.exists(), "no output directory after an interrupt");
    assert!(entries(d.path()).is_empty(), "no staging directory is left");
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
    let o = tradesim(&args);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    let forced = [&args[..], &["--force"]].concat();
    let o = tradesim(&forced);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A file of the user's in tradesim's output: refused even with --force, nothing touched.
    std::fs::write(out.join("mine.txt"), "keep").unwrap();
    let before = entries(&out);
    let o = tradesim(&forced);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("mine.txt") && err.contains("did not write"),
        "{err}"
    );
    assert_eq!(entries(&out), before, "refused runs touch nothing");
    assert_eq!(
        std::fs::read_to_string(out.join("mine.txt")).unwrap(),
        "keep"
    );
}

#[test]
fn force_never_replaces_a_directory_tradesim_did_not_write() {
    let d = tempfile::tempdir().unwrap();
    long_batch(d.path());
    let s = d.path().join("s.ron");
    let thesis = d.path().join("thesis");
    std::fs::create_dir(&thesis).unwrap();
    write(&thesis, "chapter1.tex", "x");
    let o = tradesim(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        thesis.to_str().unwrap(),
        "--quiet",
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not written by tradesim"), "{err}");
    assert_eq!(entries(&thesis), ["chapter1.tex"]);
}

#[test]
fn force_never_destroys_the_inputs() {
    // `cd dir && tradesim run s.ron --out ../dir --force`, and `--out <baseline> --force`.
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("dir");
    std::fs::create_dir(&dir).unwrap();
    let base = dir.join("tiny");
    std::fs::create_dir(&base).unwrap();
    for e in std::fs::read_dir(tiny()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), base.join(e.file_name())).unwrap();
    }
    write(
        &dir,
        "s.ron",
        "Scenario(name: \"s\", baseline: Csv(\"tiny\"), base_year: 2014, horizon: 2020, agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"])])",
    );
    let before_dir = entries(&dir);
    let before_base = entries(&base);
    for out in ["../dir", "tiny", "."] {
        let o = Command::new(env!("CARGO_BIN_EXE_tradesim"))
            .current_dir(&dir)
            .args(["run", "s.ron", "--out", out, "--quiet", "--force"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "--out {out}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("input of this run") || err.contains("needs a name"),
            "--out {out}: {err}"
        );
        assert_eq!(entries(&dir), before_dir, "--out {out}");
        assert_eq!(entries(&base), before_base, "--out {out}");
    }
}

#[test]
fn a_second_batch_into_the_same_out_is_refused_while_the_first_runs() {
    let d = tempfile::tempdir().unwrap();
    let b = long_batch(d.path());
    let out = d.path().join("out");
    let args = [
        "batch",
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    let mut first = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first run has claimed the destination.
    let claim = d.path().join(".out.tradesim-claim");
    for _ in 0..200 {
        if claim.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(claim.exists(), "the first run claims its destination");
    for force in [false, true] {
        let a = if force {
            [&args[..], &["--force"]].concat()
        } else {
            args.to_vec()
        };
        let o = tradesim(&a);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("another tradesim run"), "{err}");
    }
    first.kill().unwrap();
    first.wait().unwrap();
}

#[test]
fn a_stale_old_directory_does_not_make_force_fail() {
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
        "--force",
    ];
    assert!(tradesim(&args).status.success());
    // Leftovers of earlier runs: `.old` directories and a claim whose processes are gone.
    for stale in [
        ".out.old",
        ".out.tradesim-999999999.old",
        ".out.tradesim-1.old",
    ] {
        std::fs::create_dir(d.path().join(stale)).unwrap();
        write(&d.path().join(stale), "economies.csv", "old");
    }
    write(d.path(), ".out.tradesim-claim", "999999999\n");
    let o = tradesim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!d.path().join(".out.tradesim-claim").exists());
}

/// `--out` a symbolic link (`latest -> runs/one`): the run writes into the directory it points
/// to, under the same rules (with --force it replaces tradesim's output there), and the link
/// stays a link; a link to an empty directory, or to one not made yet, works the same.
#[test]
fn a_symlinked_out_writes_where_it_points_and_keeps_the_link() {
    let d = tempfile::tempdir().unwrap();
    let (s, t) = two_scenarios(d.path());
    let runs = d.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    let run = |scenario: &std::path::Path, out: &std::path::Path, force: bool| {
        let o = run_into(scenario, out, force);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&s, &runs.join("one"), false);
    let latest = d.path().join("latest");
    std::os::unix::fs::symlink("runs/one", &latest).unwrap();
    run(&t, &latest, true);
    assert!(
        std::fs::symlink_metadata(&latest)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    assert_eq!(
        scenario_in(&runs.join("one")),
        "t",
        "the new results are where the link points"
    );
    assert_eq!(
        entries(d.path()),
        ["b.ron", "latest", "runs", "s.ron", "t.ron"],
        "nothing left beside"
    );
    assert_eq!(entries(&runs), ["one"]);
    // Without --force the directory it points to is refused as any other.
    let o = run_into(&s, &latest, false);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    // A link to an empty directory and a link to one not made yet.
    std::fs::create_dir(runs.join("empty")).unwrap();
    for (link, to) in [("to-empty", "runs/empty"), ("dangling", "runs/new")] {
        let l = d.path().join(link);
        std::os::unix::fs::symlink(to, &l).unwrap();
        run(&s, &l, false);
        assert!(std::fs::symlink_metadata(&l)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(scenario_in(&d.path().join(to)), "s");
    }
}

/// An `--out` in a directory that cannot be written is refused naming that directory and
/// saying to choose another --out, not the hidden claim file tradesim tried to make there. (As
/// root, where permissions do not stop a write, the run is made as `nobody` with setpriv.)
#[test]
fn an_out_in_a_directory_that_cannot_be_written_says_so() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let root_user = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    if root_user && !std::path::Path::new("/usr/bin/setpriv").exists() {
        skip("running as root without /usr/bin/setpriv to run as another user");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    long_batch(d.path());
    let ro = d.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let s = d.path().join("s.ron");
    for out in [ro.join("out"), ro.join("sub/out")] {
        let args = [
            "run",
            s.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ];
        let o = if root_user {
            Command::new("/usr/bin/setpriv")
                .args([
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    env!("CARGO_BIN_EXE_tradesim"),
                ])
                .args(args)
                .output()
                .unwrap()
        } else {
            tradesim(&args)
        };
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!("{}: this directory is not writable", ro.display()))
                && err.contains("choose another --out in a directory you can write")
                && !err.contains("tradesim-claim"),
            "{err}"
        );
    }
}

/// A CSV `y,x` of `rows` rows in `dir`, for `estimate --formula 'y ~ x'` (a fit of a few
/// iterations whatever its size).
fn panel(dir: &std::path::Path, rows: usize) -> std::path::PathBuf {
    use std::io::Write;
    let p = dir.join("data.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    writeln!(f, "y,x").unwrap();
    for i in 0..rows {
        writeln!(f, "{},{}", i % 7, i % 3).unwrap();
    }
    f.flush().unwrap();
    p
}

/// Ctrl-C while `estimate --fitted-out F --force` writes F: the file it was replacing is left
/// as it was, and no hidden temporary file is left beside it (it wrote F in place, and Ctrl-C
/// left it cut, the user's earlier file lost).
#[test]
fn sigint_during_fitted_out_keeps_the_file_it_replaces() {
    let d = tempfile::tempdir().unwrap();
    // 6 million rows: fitted in seconds, and about 180 MB of fitted values, written for a
    // second or more: interrupted once bytes of them are on disk.
    let data = panel(d.path(), 6_000_000);
    let fitted = d.path().join("fitted.csv");
    std::fs::write(&fitted, "row,fitted\n1,0.5\n").unwrap();
    let earlier = std::fs::read(&fitted).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("estimate")
        .arg(&data)
        .args(["--formula", "y ~ x", "--force", "--fitted-out"])
        .arg(&fitted)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Bytes of fitted values on disk: in a temporary file beside F, or in F itself.
    let writing = || {
        entries(d.path()).iter().any(|n| {
            let len = std::fs::metadata(d.path().join(n)).map_or(0, |m| m.len());
            (n.starts_with(".fitted.csv") && len > 0)
                || (n == "fitted.csv" && len != earlier.len() as u64)
        })
    };
    let start = std::time::Instant::now();
    while !writing() && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(writing(), "the fitted values are being written");
    interrupt(child);
    let now = std::fs::read(&fitted).unwrap();
    assert!(
        now == earlier,
        "the file being replaced is as it was ({} bytes), not {} bytes of fitted values",
        earlier.len(),
        now.len()
    );
    assert_eq!(
        entries(d.path()),
        ["data.csv", "fitted.csv"],
        "no temporary file is left"
    );
}

/// `estimate --fe-out A --fitted-out B` writes both or neither: when B cannot be written (its
/// directory is a file), A is not written either (it was, before B failed), and nothing is
/// left beside them.
#[test]
fn estimate_writes_its_two_files_both_or_neither() {
    let d = tempfile::tempdir().unwrap();
    let data = panel(d.path(), 100);
    let fe = d.path().join("fe.csv");
    let not_a_dir = d.path().join("notes.txt");
    std::fs::write(&not_a_dir, "mine").unwrap();
    // `estimate --fe-out fe.csv --fitted-out FITTED`, which fails: its stderr.
    let fails = |fitted: &std::path::Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_tradesim"))
            .arg("estimate")
            .arg(&data)
            .args(["--formula", "y ~ x", "--fe-out"])
            .arg(&fe)
            .arg("--fitted-out")
            .arg(fitted)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert_eq!(entries(d.path()), ["data.csv", "notes.txt"], "{err}");
        err
    };
    let err = fails(&not_a_dir.join("fitted.csv"));
    assert!(
        err.contains(&not_a_dir.display().to_string()) && err.contains("nothing was written"),
        "{err}"
    );
    // The same file named twice is refused before the fit (the fitted values replaced the
    // fixed effects).
    let err = fails(&d.path().join(".").join("fe.csv"));
    assert!(
        err.contains("--fe-out and --fitted-out both name") && err.contains("its own name"),
        "{err}"
    );
}

/// `tradesim run SCENARIO --out OUT --force`, paused by the test-only fault hook at `pause`
/// (`TRADESIM_TEST_PAUSE`: `commit` stops three seconds between moving the earlier output
/// aside and renaming the new one in).
fn paused_run(
    scenario: &std::path::Path,
    out: &std::path::Path,
    pause: &str,
) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args(["run", scenario.to_str().unwrap(), "--out"])
        .arg(out)
        .args(["--quiet", "--force"])
        .env("TRADESIM_TEST_PAUSE", pause)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The scenarios `s` and `t` of [`long_batch`] (the same but for the name) in `dir`.
fn two_scenarios(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    long_batch(dir);
    let s = dir.join("s.ron");
    let text = std::fs::read_to_string(&s).unwrap();
    let t = write(dir, "t.ron", &text.replace("name: \"s\"", "name: \"t\""));
    (s, t)
}

/// `tradesim run SCENARIO --out OUT --quiet`, with `--force` when `force`.
fn run_into(
    scenario: &std::path::Path,
    out: &std::path::Path,
    force: bool,
) -> std::process::Output {
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    if force {
        args.push("--force");
    }
    tradesim(&args)
}

/// The scenarios `s` and `t` (the same but for the name) in `dir`, and `out` holding the output
/// of `s`.
fn two_scenarios_and_an_output(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let (s, t) = two_scenarios(dir);
    let out = dir.join("out");
    let o = run_into(&s, &out, false);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (s, t, out)
}

/// The scenario whose tables are in `dir`.
fn scenario_in(dir: &std::path::Path) -> String {
    let (_, rows) = read_csv(&dir.join("economies.csv"));
    rows[0][0].clone()
}

/// Wait until `out` is gone: moved aside by a run paused between its renames.
fn wait_until_moved_aside(out: &std::path::Path) {
    let start = std::time::Instant::now();
    while out.exists() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(!out.exists(), "the earlier output is moved aside");
}

/// Ctrl-C while `run --force` replaces an earlier output, between moving it aside and renaming
/// the new one in: the handler waits for the new output to be in place, says it was written,
/// and nothing is left beside it (the earlier output was left hidden, moved aside, and the
/// destination missing: both lost to the user).
#[test]
fn sigint_while_force_replaces_an_output_leaves_the_new_one_whole() {
    let d = tempfile::tempdir().unwrap();
    let (_, t, out) = two_scenarios_and_an_output(d.path());
    let child = paused_run(&t, &out, "commit");
    wait_until_moved_aside(&out);
    let err = interrupt(child);
    assert!(out.is_dir(), "the output directory is there: {err}");
    assert_eq!(scenario_in(&out), "t", "the new output is in place");
    assert_eq!(
        entries(d.path()),
        ["b.ron", "out", "s.ron", "t.ron"],
        "nothing is left beside it"
    );
    assert!(
        err.contains(&format!(
            "interrupted: {} was written in full before the interrupt; nothing else was written",
            out.display()
        )),
        "{err}"
    );
}

/// `kill -9` while `run --force` replaces an earlier output, between moving it aside and
/// renaming the new one in: the next run into the same place puts the earlier output back, so
/// it is refused without --force (it wrote its output there, the earlier one left hidden),
/// and replaces it with --force, leaving nothing beside it.
#[test]
fn kill_while_force_replaces_an_output_and_the_next_run_puts_it_back() {
    let d = tempfile::tempdir().unwrap();
    let (s, t, out) = two_scenarios_and_an_output(d.path());
    let mut child = paused_run(&t, &out, "commit");
    wait_until_moved_aside(&out);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "killed between the renames");
    let o = run_into(&s, &out, false);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("pass --force to replace it"), "{err}");
    assert_eq!(scenario_in(&out), "s", "the earlier output is back");
    assert_eq!(entries(d.path()), ["b.ron", "out", "s.ron", "t.ron"]);
    let o = run_into(&t, &out, true);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(scenario_in(&out), "t");
    assert_eq!(entries(d.path()), ["b.ron", "out", "s.ron", "t.ron"]);
}

/// Ctrl-C while `estimate --fe-out A --fitted-out B` renames its files into place, after the
/// first (`TRADESIM_TEST_PAUSE=rename`): both are put in place, and the message says so (it
/// said no output was written).
#[test]
fn sigint_while_a_set_of_files_is_renamed_says_what_was_written() {
    use std::io::Write;
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data.csv");
    let mut f = std::fs::File::create(&data).unwrap();
    writeln!(f, "y,x,g").unwrap();
    for i in 0..200 {
        writeln!(f, "{},{},{}", i % 7, i % 3, i % 5).unwrap();
    }
    drop(f);
    let (fe, fitted) = (d.path().join("fe.csv"), d.path().join("fitted.csv"));
    let child = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("estimate")
        .arg(&data)
        .args(["--formula", "y ~ x | g", "--fe-out"])
        .arg(&fe)
        .arg("--fitted-out")
        .arg(&fitted)
        .env("TRADESIM_TEST_PAUSE", "rename")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !fe.exists() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(fe.exists(), "the first file is renamed into place");
    let err = interrupt(child);
    assert!(fe.is_file() && fitted.is_file(), "both are in place: {err}");
    assert_eq!(entries(d.path()), ["data.csv", "fe.csv", "fitted.csv"]);
    assert!(
        err.contains(&format!(
            "interrupted: these {}, {} were written in full before the interrupt; nothing else was written",
            fe.display(),
            fitted.display()
        )) && !err.contains("no output was written"),
        "{err}"
    );
}
