//! Batches (issue 6): results byte-identical whatever the thread count and sharding; failed
//! draws recorded and counted, never dropped; bands in summary.csv.
mod common;
use common::*;
use std::path::Path;

fn setup(dir: &Path, draws: u32, theta: &str) -> std::path::PathBuf {
    let scen = |name: &str, sched: &str| {
        format!(
            "Scenario(name: \"{name}\", baseline: Csv(\"{}\"), base_year: 2014, years: [2016, 2020],\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], schedule: {sched}, depth: Given(beta: 0.1, phase_in_years: 5))])",
            tiny().display()
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

fn run(args: &[&str]) -> String {
    let o = tradesim(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn summary_is_byte_identical_across_threads_and_shards() {
    let d = tempfile::tempdir().unwrap();
    let b = setup(
        d.path(),
        12,
        "Theta(\"MAN\"), distribution: LogNormal(mu: 1.6, sigma: 0.2)",
    );
    let b = b.to_str().unwrap();
    let p = |s: &str| d.path().join(s).to_str().unwrap().to_string();
    let stdout = run(&["batch", b, "--out", &p("t1"), "--threads", "1"]);
    assert!(
        stdout.contains("options ranked by real income in 2020"),
        "{stdout}"
    );
    run(&["batch", b, "--out", &p("t2"), "--threads", "2", "--quiet"]);
    for k in 1..=3 {
        run(&[
            "batch",
            b,
            "--out",
            &p(&format!("s{k}")),
            "--shard",
            &format!("{k}/3"),
            "--quiet",
        ]);
    }
    run(&["merge", &p("s1"), &p("s2"), &p("s3"), "--out", &p("m")]);
    let read = |dir: &str, f: &str| std::fs::read(d.path().join(dir).join(f)).unwrap();
    for f in ["summary.csv", "economies.csv"] {
        assert_eq!(read("t1", f), read("t2", f), "{f}: 1 vs 2 threads");
        assert_eq!(
            read("t1", f),
            read("m", f),
            "{f}: single run vs 3 merged shards"
        );
    }
    // 4 scenarios (2 files + a grid of 2) x 2 years x 3 economies x 6 measures.
    let (h, rows) = read_csv(&d.path().join("t1/summary.csv"));
    assert_eq!(rows.len(), 4 * 2 * 3 * 6);
    let col = |c: &str| h.iter().position(|x| x == c).unwrap();
    for r in &rows {
        let (lo, med, hi) = (
            r[col("p05")].parse::<f64>().unwrap(),
            r[col("median")].parse::<f64>().unwrap(),
            r[col("p95")].parse::<f64>().unwrap(),
        );
        assert!(lo <= med && med <= hi, "{r:?}");
        assert_eq!(r[col("draws")], "12");
    }
    // The draws vary the outcome: the band of AAA's real income is not degenerate.
    let band = rows
        .iter()
        .find(|r| r[0] == "fast" && r[1] == "2020" && r[2] == "AAA" && r[3] == "real_income_pct")
        .unwrap();
    assert!(band[col("p95")].parse::<f64>().unwrap() > band[col("p05")].parse::<f64>().unwrap());
}

#[test]
fn failed_draws_are_recorded_and_counted_or_stop_the_batch() {
    let d = tempfile::tempdir().unwrap();
    // A normal θ with a huge spread gives negative θ in some draws: those draws fail.
    let b = setup(
        d.path(),
        20,
        "Theta(\"MAN\"), distribution: Normal(mean: 1.0, sd: 3.0)",
    );
    let b = b.to_str().unwrap();
    let out = d.path().join("stop");
    let o = tradesim(&["batch", b, "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("θ must be positive") && err.contains("--keep-going"),
        "{err}"
    );
    assert!(
        !out.join("summary.csv").exists(),
        "no output from a stopped batch"
    );
    assert!(
        std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0) == 0,
        "no partial files left"
    );

    let out = d.path().join("go");
    run(&[
        "batch",
        b,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--keep-going",
    ]);
    let (_, failures) = read_csv(&out.join("failures.csv"));
    assert!(!failures.is_empty());
    let (h, rows) = read_csv(&out.join("summary.csv"));
    let (fc, dc) = (
        h.iter().position(|x| x == "failed").unwrap(),
        h.iter().position(|x| x == "draws").unwrap(),
    );
    let fast_failed = failures.iter().filter(|f| f[0] == "fast").count();
    let r = rows.iter().find(|r| r[0] == "fast").unwrap();
    assert_eq!(r[fc].parse::<usize>().unwrap(), fast_failed);
    assert_eq!(r[dc].parse::<usize>().unwrap() + fast_failed, 20);
}

#[test]
fn a_reference_path_is_solved_with_each_draws_parameters_and_shards_agree() {
    let d = tempfile::tempdir().unwrap();
    // The reference path: BC (2015, with depth). "same" is the reference itself; "ab" adds AB.
    write(
        d.path(),
        "ref.ron",
        &format!(
            "Scenario(name: \"ref\", baseline: Csv(\"{}\"), base_year: 2014, years: [2016, 2020],\n agreements: [(name: \"BC\", entry_into_force: 2015, members: [\"BBB\", \"CCC\"], depth: Given(beta: 0.1, phase_in_years: 3))])",
            tiny().display()
        ),
    );
    write(
        d.path(),
        "same.ron",
        "Scenario(name: \"same\", extends: \"ref.ron\", compared_with: Reference(file: \"ref.ron\"))",
    );
    write(
        d.path(),
        "ab.ron",
        "Scenario(name: \"ab\", extends: \"ref.ron\", compared_with: Reference(file: \"ref.ron\"),\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], depth: Given(beta: 0.2, phase_in_years: 2))])",
    );
    let b = write(
        d.path(),
        "batch.ron",
        "Batch(name: \"r\", scenarios: [\"same.ron\", \"ab.ron\"], draws: 9, seed: 7,\n uncertainty: [(parameter: Theta(\"MAN\"), distribution: LogNormal(mu: 1.6, sigma: 0.3)), (parameter: Depth(\"BC\"), distribution: Uniform(min: 0.0, max: 0.4))])",
    );
    let b = b.to_str().unwrap();
    let p = |s: &str| d.path().join(s).to_str().unwrap().to_string();
    run(&["batch", b, "--out", &p("t1"), "--threads", "1", "--quiet"]);
    run(&["batch", b, "--out", &p("t2"), "--threads", "2", "--quiet"]);
    for k in 1..=2 {
        run(&[
            "batch",
            b,
            "--out",
            &p(&format!("s{k}")),
            "--shard",
            &format!("{k}/2"),
            "--quiet",
        ]);
    }
    run(&["merge", &p("s1"), &p("s2"), "--out", &p("m")]);
    let read = |dir: &str, f: &str| std::fs::read(d.path().join(dir).join(f)).unwrap();
    for f in ["summary.csv", "economies.csv"] {
        assert_eq!(read("t1", f), read("t2", f), "{f}: 1 vs 2 threads");
        assert_eq!(read("t1", f), read("m", f), "{f}: single run vs merged shards");
    }
    let (h, rows) = read_csv(&d.path().join("t1/economies.csv"));
    let col = |c: &str| h.iter().position(|x| x == c).unwrap();
    // The reference is solved with each draw's θ and BC depth: "same" is exactly zero in
    // every draw; "ab" moves.
    for r in &rows {
        assert_eq!(r[col("compared_with")], "reference");
        let v: f64 = r[col("real_income_pct")].parse().unwrap();
        if r[col("scenario")] == "same" {
            assert_eq!(v, 0.0, "{r:?}");
        }
    }
    assert!(rows.iter().any(|r| r[col("scenario")] == "ab"
        && r[col("real_income_pct")].parse::<f64>().unwrap() != 0.0));
    let (h, rows) = read_csv(&d.path().join("m/summary.csv"));
    let c = h.iter().position(|x| x == "compared_with").unwrap();
    assert!(rows.iter().all(|r| r[c] == "reference"));
}
