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
        err.contains("must be a positive number between 0.1 and 100")
            && err.contains("--keep-going"),
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

fn check_batch(dir: &Path, text: &str) -> std::process::Output {
    let p = write(dir, "b.ron", text);
    tradesim(&["check", p.to_str().unwrap()])
}

// Issue 14, item 6: grid depth values and estimate covariances that cannot be used.
#[test]
fn a_grid_depth_that_is_not_finite_and_a_bad_covariance_are_errors() {
    let d = tempfile::tempdir().unwrap();
    setup(
        d.path(),
        0,
        "ThetaScale, distribution: Uniform(min: 0.9, max: 1.1)",
    );
    for beta in ["NaN", "-inf", "inf", "800"] {
        let o = check_batch(
            d.path(),
            &format!("Batch(name: \"g\", variations: [(base: \"fast.ron\", grid: [Depth(agreement: \"AB\", beta: [0.1, {beta}])])])"),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "β = {beta}: {err}");
        assert!(
            err.contains("b.ron:1:") && err.contains("depth β") && err.contains("|β|"),
            "{err}"
        );
    }
    let est = |vcov: &str| {
        write(
            d.path(),
            "est.json",
            &format!("{{\"coefficients\": {{\"rta\": {{\"estimate\": 0.2, \"std_error\": 0.1}}, \"ln_tariff\": {{\"estimate\": -5.0, \"std_error\": 0.5}}}}, \"coefficient_names\": [\"rta\", \"ln_tariff\"], \"vcov\": {vcov}}}"),
        );
        check_batch(
            d.path(),
            "Batch(name: \"e\", scenarios: [\"fast.ron\"], draws: 4, from_estimate: (file: \"est.json\", coefficients: [(\"rta\", Depth(\"AB\")), (\"ln_tariff\", Theta(\"MAN\"))]))",
        )
    };
    for (vcov, says) in [
        ("[[0.01]]", "the matrix must be 2×2"),
        (
            "[[0.01, 0.0], [0.0, 0.25], [0.0, 0.0]]",
            "the matrix must be 2×2",
        ),
        ("[[0.01, 0.002], [0.003, 0.25]]", "not symmetric"),
        ("[[0.01, 0.2], [0.2, 0.25]]", "not positive semi-definite"),
        ("[[0.01, 0.0], [0.0, -0.25]]", "negative"),
    ] {
        let o = est(vcov);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{vcov}: {err}");
        assert!(
            err.contains("est.json") && err.contains(says),
            "{vcov}: {err}"
        );
        assert!(err.contains("remove `vcov`"), "says how to fix: {err}");
    }
    let o = est("[[0.01, 0.001], [0.001, 0.25]]");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

// Issue 14, item 9: options with different horizons are ranked at a stated common year, and
// the table says what it leaves out.
#[test]
fn options_with_different_horizons_are_all_ranked_at_a_stated_year() {
    let d = tempfile::tempdir().unwrap();
    let scen = |name: &str, horizon: u32| {
        format!(
            "Scenario(name: \"{name}\", baseline: Csv(\"{}\"), base_year: 2014, horizon: {horizon},\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"])])",
            tiny().display()
        )
    };
    write(d.path(), "short.ron", &scen("short", 2020));
    write(d.path(), "long.ron", &scen("long", 2026));
    let b = write(
        d.path(),
        "b.ron",
        "Batch(name: \"h\", scenarios: [\"short.ron\", \"long.ron\"], focus: [\"AAA\"])",
    );
    let out = d.path().join("out");
    let stdout = run(&["batch", b.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(
        stdout.contains("ranked by real income in 2020, the last year every option solves"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1. ") && stdout.contains("2. "),
        "both options are ranked: {stdout}"
    );
    assert!(
        stdout.contains("short") && stdout.contains("long"),
        "{stdout}"
    );
    assert!(
        stdout.contains("solved beyond 2020, not ranked there: long (to 2026)"),
        "{stdout}"
    );
    // Options that share no year: each at its own last year, labelled.
    write(
        d.path(),
        "y1.ron",
        &format!("Scenario(name: \"y1\", baseline: Csv(\"{}\"), base_year: 2014, years: [2020],\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"])])", tiny().display()),
    );
    write(
        d.path(),
        "y2.ron",
        &format!("Scenario(name: \"y2\", baseline: Csv(\"{}\"), base_year: 2014, years: [2025],\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"CCC\"])])", tiny().display()),
    );
    let b = write(
        d.path(),
        "b2.ron",
        "Batch(name: \"h2\", scenarios: [\"y1.ron\", \"y2.ron\"], focus: [\"AAA\"])",
    );
    let out = d.path().join("out2");
    let stdout = run(&["batch", b.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(
        stdout.contains("each in its own last year")
            && stdout.contains("y1 (2020)")
            && stdout.contains("y2 (2025)"),
        "{stdout}"
    );
}

// Issue 14, item 20: `--draws N` overrides the file's draw count.
#[test]
fn the_draws_option_overrides_the_files_count() {
    let d = tempfile::tempdir().unwrap();
    let b = setup(
        d.path(),
        12,
        "ThetaScale, distribution: Uniform(min: 0.9, max: 1.1)",
    );
    let b = b.to_str().unwrap();
    let p = |s: &str| d.path().join(s).to_str().unwrap().to_string();
    run(&["batch", b, "--out", &p("few"), "--draws", "2", "--quiet"]);
    let manifest = std::fs::read_to_string(d.path().join("few/manifest.json")).unwrap();
    assert!(manifest.contains("\"draws\": 2"), "{manifest}");
    let (h, rows) = read_csv(&d.path().join("few/economies.csv"));
    let draw = h.iter().position(|c| c == "draw").unwrap();
    let max = rows
        .iter()
        .map(|r| r[draw].parse::<u32>().unwrap())
        .max()
        .unwrap();
    assert_eq!(max, 2);
    // Draw d is the same whatever the count: the two draws equal the first two of a 12-draw run.
    run(&["batch", b, "--out", &p("all"), "--quiet"]);
    let (_, all) = read_csv(&d.path().join("all/economies.csv"));
    let few: Vec<&Vec<String>> = rows.iter().collect();
    let first: Vec<&Vec<String>> = all
        .iter()
        .filter(|r| r[draw].parse::<u32>().unwrap() <= 2)
        .collect();
    assert_eq!(few, first);
    // Draws without uncertainty are refused, naming the flag.
    let plain = write(
        d.path(),
        "plain.ron",
        "Batch(name: \"p\", scenarios: [\"fast.ron\"])",
    );
    let o = tradesim(&[
        "batch",
        plain.to_str().unwrap(),
        "--out",
        &p("p"),
        "--draws",
        "3",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--draws 3") && err.contains("no `uncertainty`"),
        "{err}"
    );
}
