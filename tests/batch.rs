//! Batches (issue 6): results byte-identical whatever the thread count and sharding; failed
//! draws recorded and counted, never dropped; bands in summary.csv.
mod common;
use common::*;

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
    let b = tiny_batch(d.path(), 12, THETA_LOGNORMAL);
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
    let b = tiny_batch(
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

fn check_batch(dir: &std::path::Path, text: &str) -> std::process::Output {
    let p = write(dir, "b.ron", text);
    tradesim(&["check", p.to_str().unwrap()])
}

// Issue 14, item 6: grid depth values and estimate covariances that cannot be used.
#[test]
fn a_grid_depth_that_is_not_finite_and_a_bad_covariance_are_errors() {
    let d = tempfile::tempdir().unwrap();
    tiny_batch(
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
    // The JSON of a run with several formulas is a list of models: one is used as it is; of
    // several, the error names their formulas. A coefficient the fit dropped as collinear is
    // said to be so.
    let model = |formula: &str, coefs: &str, collinear: &str| {
        format!("{{\"formula\": \"{formula}\", \"coefficients\": {{{coefs}}}, \"collinear\": [{collinear}]}}")
    };
    let both = "\"rta\": {\"estimate\": 0.2, \"std_error\": 0.1}, \"ln_tariff\": {\"estimate\": -5.0, \"std_error\": 0.5}";
    let batch = |json: &str| {
        write(d.path(), "est.json", json);
        let o = check_batch(
            d.path(),
            "Batch(name: \"e\", scenarios: [\"fast.ron\"], draws: 4, from_estimate: (file: \"est.json\", coefficients: [(\"rta\", Depth(\"AB\")), (\"ln_tariff\", Theta(\"MAN\"))]))",
        );
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let (code, err) = batch(&format!("[{}]", model("y ~ rta + ln_tariff", both, "")));
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = batch(&format!(
        "[{}, {}]",
        model("y ~ rta + ln_tariff", both, ""),
        model("y ~ rta + ln_tariff | fe", both, "")
    ));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("holds 2 models") && err.contains("y ~ rta + ln_tariff | fe"),
        "{err}"
    );
    let only_rta = "\"rta\": {\"estimate\": 0.2, \"std_error\": 0.1}";
    let (code, err) = batch(&model(
        "y ~ rta + ln_tariff | fe",
        only_rta,
        "\"ln_tariff\"",
    ));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("`ln_tariff`") && err.contains("collinear"),
        "{err}"
    );
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
    let b = tiny_batch(
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

/// Issue 14 item 8: shards run before and after an edit of an input are not merged; the error
/// names the shards, the input and the fix. Rerun on the same inputs, the merge is the single
/// run's bytes.
#[test]
fn merge_refuses_shards_run_on_different_inputs() {
    let d = tempfile::tempdir().unwrap();
    let world = d.path().join("world");
    copy_dir(&tiny(), &world);
    let b = tiny_batch_on(d.path(), &world, 6, THETA_LOGNORMAL);
    let b = b.to_str().unwrap();
    let p = |s: &str| d.path().join(s).to_str().unwrap().to_string();
    let shard = |k: usize| {
        run(&[
            "batch",
            b,
            "--out",
            &p(&format!("s{k}")),
            "--shard",
            &format!("{k}/3"),
            "--quiet",
            "--force",
        ])
    };
    let merge = |out: &str| tradesim(&["merge", &p("s1"), &p("s2"), &p("s3"), "--out", &p(out)]);
    run(&["batch", b, "--out", &p("single"), "--quiet"]);
    let slow = d.path().join("slow.ron");
    let original = std::fs::read_to_string(&slow).unwrap();

    // Shards 1 and 2 before an edit of slow.ron, shard 3 after it.
    shard(1);
    shard(2);
    std::fs::write(
        &slow,
        original.replace("Linear(years: 8)", "Linear(years: 6)"),
    )
    .unwrap();
    shard(3);
    let o = merge("m1");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not all run on the same inputs")
            && err.contains("shard 1/3")
            && err.contains("shard 2/3")
            && !err.contains("shard 3/3")
            && err.contains(&format!(
                "input {} differs",
                slow.canonicalize().unwrap().display()
            ))
            && err.contains("run shard(s) 1-2 of 3 again"),
        "{err}"
    );
    assert!(!d.path().join("m1").exists(), "nothing merged");

    // The edit undone: shard 3 is now the odd one out; rerun it and the merge is the single
    // run's bytes.
    std::fs::write(&slow, &original).unwrap();
    let err = String::from_utf8_lossy(&merge("m2").stderr).to_string();
    assert!(
        err.contains("shard 3/3") && !err.contains("shard 1/3") && err.contains("of 3 again"),
        "{err}"
    );
    shard(3);
    run(&["merge", &p("s1"), &p("s2"), &p("s3"), "--out", &p("m3")]);
    for f in ["summary.csv", "economies.csv", "solver.csv", "failures.csv"] {
        assert_eq!(
            std::fs::read(d.path().join("single").join(f)).unwrap(),
            std::fs::read(d.path().join("m3").join(f)).unwrap(),
            "{f}: merged shards vs single run"
        );
    }

    // An edit of the baseline's data between shards is caught the same way, naming the file.
    let flows = world.join("flows.csv");
    let data = std::fs::read_to_string(&flows).unwrap();
    std::fs::write(&flows, format!("{data}\n")).unwrap();
    shard(2);
    let o = merge("m4");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains("shard 1/3")
            && err.contains("shard 3/3")
            && err.contains("flows.csv differs"),
        "{err}"
    );
}

/// The inputs a batch records: the batch file, each scenario's `extends` chain (root first),
/// the estimate file it names, and the baseline directory's CSV files (not its README).
#[test]
fn a_batchs_input_digests_are_its_files_extends_chains_estimates_and_baseline_data() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "parent.ron",
        &format!(
            "Scenario(name: \"p\", baseline: Csv(\"{}\"), base_year: 2014, horizon: 2016,\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"])])",
            tiny().display()
        ),
    );
    write(
        d.path(),
        "est.json",
        r#"{"coefficients": {"ln_tariff": {"estimate": -5.0, "std_error": 1.0}}}"#,
    );
    write(
        d.path(),
        "child.ron",
        "Scenario(name: \"c\", extends: \"parent.ron\",\n elasticities: {\"MAN\": FromEstimate(file: \"est.json\", coefficient: \"ln_tariff\")})",
    );
    let b = write(
        d.path(),
        "b.ron",
        "Batch(name: \"b\", scenarios: [\"child.ron\"])",
    );
    let batch = tradesim::scenario::batch::load(&b).unwrap();
    let t = tiny().canonicalize().unwrap();
    let dir = d.path().canonicalize().unwrap();
    let want: Vec<String> = [
        dir.join("b.ron"),
        dir.join("parent.ron"),
        dir.join("child.ron"),
        dir.join("est.json"),
        t.join("economies.csv"),
        t.join("flows.csv"),
        t.join("io.csv"),
        t.join("sectors.csv"),
    ]
    .iter()
    .map(|p| p.display().to_string())
    .collect();
    let got: Vec<String> = batch.input_digests.iter().map(|f| f.path.clone()).collect();
    assert_eq!(got, want);
    let flows = std::fs::read(t.join("flows.csv")).unwrap();
    assert_eq!(
        batch.input_digests[5].sha256,
        tradesim::scenario::inputs::sha256_hex(&flows)
    );
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
        assert_eq!(
            read("t1", f),
            read("m", f),
            "{f}: single run vs merged shards"
        );
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
    assert!(rows
        .iter()
        .any(|r| r[col("scenario")] == "ab"
            && r[col("real_income_pct")].parse::<f64>().unwrap() != 0.0));
    let (h, rows) = read_csv(&d.path().join("m/summary.csv"));
    let c = h.iter().position(|x| x == "compared_with").unwrap();
    assert!(rows.iter().all(|r| r[c] == "reference"));
}

/// Runs the batch `text` (written as `name.ron` in `dir`) into `dir/name` and returns AAA's
/// real income by (scenario, year, draw).
fn aaa_real_income(
    dir: &std::path::Path,
    name: &str,
    text: &str,
) -> std::collections::BTreeMap<(String, String, String), f64> {
    let b = write(dir, &format!("{name}.ron"), text);
    let out = dir.join(name);
    run(&[
        "batch",
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let (h, rows) = read_csv(&out.join("economies.csv"));
    let col = |c: &str| h.iter().position(|x| x == c).unwrap();
    rows.iter()
        .filter(|r| r[col("economy")] == "AAA")
        .map(|r| {
            let key = (
                r[col("scenario")].clone(),
                r[col("year")].clone(),
                r[col("draw")].clone(),
            );
            (key, r[col("real_income_pct")].parse::<f64>().unwrap())
        })
        .collect()
}

/// `st.ron` in `dir`: the tiny world, years 2016, 2018 and 2024, and AB (AAA, BBB) from 2016
/// on a `Staged` schedule to zero in its ninth year.
fn write_staged_ab(dir: &std::path::Path) {
    write(
        dir,
        "st.ron",
        &format!(
            "Scenario(name: \"st\", baseline: Csv(\"{}\"), base_year: 2014, years: [2016, 2018, 2024],\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], schedule: Staged([(0, 0.8), (4, 0.4), (8, 0.0)]))])",
            tiny().display()
        ),
    );
}

/// A grid's `PhaseIn` sets the length of `Staged` schedules too (CPTPP's are all staged, and
/// the README's example grid over it gave three identical scenarios), and of a depth the same
/// grid gives the agreement, whatever the order of the axes.
#[test]
fn a_phase_in_grid_stretches_staged_schedules_and_the_grids_depth() {
    let d = tempfile::tempdir().unwrap();
    write_staged_ab(d.path());
    // Real income of AAA by (grid point, year, draw).
    let outcome = |name: &str, grid: &str| {
        aaa_real_income(
            d.path(),
            name,
            &format!("Batch(name: \"{name}\", variations: [(base: \"st.ron\", name: \"g\", grid: [{grid}])])"),
        )
    };
    type Outcome = std::collections::BTreeMap<(String, String, String), f64>;
    let at = |m: &Outcome, s: &str, y: &str| m[&(s.to_string(), y.to_string(), "0".to_string())];
    // Tariffs alone: over 3 years the last step falls in 2018, over 9 in 2024.
    let tariffs = outcome("t", "PhaseIn(agreement: \"AB\", years: [3, 9])");
    let (short, long) = ("g [AB phase-in 3y]", "g [AB phase-in 9y]");
    assert!(
        (at(&tariffs, short, "2018") - at(&tariffs, long, "2018")).abs() > 1e-6,
        "the lengths give different paths: {tariffs:?}"
    );
    assert!(
        (at(&tariffs, short, "2024") - at(&tariffs, long, "2024")).abs() < 1e-12,
        "both lengths end at the same rates: {tariffs:?}"
    );
    // With a depth the grid gives AB: phased in over the grid's years, in either axis order.
    let a = outcome(
        "a",
        "PhaseIn(agreement: \"AB\", years: [3, 9]), Depth(agreement: \"AB\", beta: [0.2])",
    );
    let b = outcome(
        "b",
        "Depth(agreement: \"AB\", beta: [0.2]), PhaseIn(agreement: \"AB\", years: [3, 9])",
    );
    for (y, lengths) in [("2018", [3, 9]), ("2024", [3, 9])] {
        for n in lengths {
            let va = at(&a, &format!("g [AB phase-in {n}y, AB depth β=0.2]"), y);
            let vb = at(&b, &format!("g [AB depth β=0.2, AB phase-in {n}y]"), y);
            assert_eq!(va, vb, "{y}, {n} years: the axes' order does not matter");
        }
    }
    let short = "g [AB phase-in 3y, AB depth β=0.2]";
    let long = "g [AB phase-in 9y, AB depth β=0.2]";
    // Fully phased in by 2024 either way (the default 10 years would not be).
    assert!(
        (at(&a, short, "2024") - at(&a, long, "2024")).abs() < 1e-12,
        "{a:?}"
    );
    assert!(at(&a, short, "2018") > at(&a, long, "2018") + 1e-6, "{a:?}");
}

/// A grid's `Accession` axis gives, point by point, the scenario written with that accession
/// (`accessions: { "AB": { "CCC": year } }`): the same outcomes, bit for bit; a founding
/// member is refused at the axis.
#[test]
fn an_accession_grid_equals_the_scenarios_written_with_each_year() {
    let d = tempfile::tempdir().unwrap();
    write_staged_ab(d.path());
    for y in [2018, 2024] {
        write(
            d.path(),
            &format!("acc{y}.ron"),
            &format!("Scenario(name: \"acc{y}\", extends: Some(\"st.ron\"), accessions: {{ \"AB\": {{ \"CCC\": {y} }} }})"),
        );
    }
    let grid = aaa_real_income(
        d.path(),
        "grid",
        "Batch(name: \"grid\", variations: [(base: \"st.ron\", name: \"g\", grid: [Accession(agreement: \"AB\", economy: \"CCC\", years: [2018, 2024])])])",
    );
    let files = aaa_real_income(
        d.path(),
        "files",
        "Batch(name: \"files\", scenarios: [\"acc2018.ron\", \"acc2024.ron\"])",
    );
    for y in [2018, 2024] {
        for year in ["2016", "2018", "2024"] {
            let key = |s: String| (s, year.to_string(), "0".to_string());
            assert_eq!(
                grid[&key(format!("g [CCC joins AB {y}]"))],
                files[&key(format!("acc{y}"))],
                "{y}, {year}: {grid:?} {files:?}"
            );
        }
    }
    let at = |s: &str, year: &str| grid[&(s.to_string(), year.to_string(), "0".to_string())];
    assert_ne!(
        at("g [CCC joins AB 2018]", "2018"),
        at("g [CCC joins AB 2024]", "2018")
    );
    let text = "Batch(name: \"bad\", variations: [(base: \"st.ron\", grid: [\n Accession(agreement: \"AB\", economy: \"AAA\", years: [2018])])])";
    let o = check_batch(d.path(), text);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("b.ron:2:")
            && err.contains("`AAA` is a member of `AB` from its entry into force in 2016"),
        "{err}"
    );
}

/// A `PhaseIn` axis that would change nothing is refused, and every grid mistake is shown at
/// its axis.
#[test]
fn grid_mistakes_are_shown_at_their_axis() {
    let d = tempfile::tempdir().unwrap();
    tiny_batch(
        d.path(),
        0,
        "ThetaScale, distribution: Uniform(min: 0.9, max: 1.1)",
    );
    // fast.ron's AB is Immediate with a depth; without the depth a phase-in changes nothing.
    let fast = std::fs::read_to_string(d.path().join("fast.ron")).unwrap();
    write(
        d.path(),
        "flat.ron",
        &fast.replace(", depth: Given(beta: 0.1, phase_in_years: 5)", ""),
    );
    for (axis, line, col, says) in [
        (
            "PhaseIn(agreement: \"AB\", years: [4])",
            5,
            10,
            "nothing a phase-in length applies to",
        ),
        (
            "PhaseIn(agreement: \"AB\", years: [4, 0])",
            5,
            27,
            "at least 1",
        ),
        (
            "Theta(sector: \"MAM\", values: [4.0])",
            5,
            8,
            "did you mean `MAN`?",
        ),
        (
            "Theta(sector: \"MAN\", values: [])",
            5,
            23,
            "list at least one in `values: [...]`",
        ),
        (
            "Depth(agreement: \"AB\", beta: [0.1, 0.1])",
            3,
            99,
            "two scenarios are named",
        ),
    ] {
        let text = format!(
            "Batch(name: \"g\", // a grid: PhaseIn( in a comment\n scenarios: [\"fast.ron\"],\n variations: [(base: \"fast.ron\"), (base: \"flat.ron\", grid: [\n Theta(sector: \"MAN\", values: [6.0]),\n {axis}])])"
        )
        .replace("(base: \"fast.ron\")", "(base: \"fast.ron\", grid: [Theta(sector: \"MAN\", values: [5.0])])");
        let o = check_batch(d.path(), &text);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{axis}: {err}");
        assert!(
            err.contains(&format!("b.ron:{line}:{col}:")) && err.contains(says),
            "{axis}: {err}"
        );
    }
}

/// A depth the batch draws for an agreement without one is phased in over a grid's `PhaseIn`
/// years, as a grid's `Depth` axis is: draw 1 of a β drawn at 0.2 (a distribution of one
/// point) equals the grid point with `Depth` β = 0.2, for each length.
#[test]
fn a_drawn_depth_is_phased_in_over_the_grids_years() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "st.ron",
        &format!(
            "Scenario(name: \"st\", baseline: Csv(\"{}\"), base_year: 2014, years: [2016, 2018, 2024],\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], schedule: Immediate)])",
            tiny().display()
        ),
    );
    let real_income = |name: &str, text: &str| aaa_real_income(d.path(), name, text);
    // AB is immediate and has no depth: only a depth makes the phase-in matter.
    let drawn = real_income(
        "drawn",
        "Batch(name: \"d\", variations: [(base: \"st.ron\", name: \"g\", grid: [PhaseIn(agreement: \"AB\", years: [3, 9])])],\n draws: 1, uncertainty: [(parameter: Depth(\"AB\"), distribution: Uniform(min: 0.2, max: 0.2))])",
    );
    let axis = real_income(
        "axis",
        "Batch(name: \"a\", variations: [(base: \"st.ron\", name: \"g\", grid: [PhaseIn(agreement: \"AB\", years: [3, 9]), Depth(agreement: \"AB\", beta: [0.2])])])",
    );
    for n in [3, 9] {
        for y in ["2016", "2018", "2024"] {
            let key = |s: String, draw: &str| (s, y.to_string(), draw.to_string());
            let a = axis[&key(format!("g [AB phase-in {n}y, AB depth β=0.2]"), "0")];
            let b = drawn[&key(format!("g [AB phase-in {n}y]"), "1")];
            assert!(
                (a - b).abs() <= 1e-12 * a.abs().max(1e-12),
                "{n} years, {y}: {b} vs {a}"
            );
        }
    }
    // And the lengths differ while the depth phases in.
    let at = |n: u32| {
        drawn[&(
            format!("g [AB phase-in {n}y]"),
            "2018".to_string(),
            "1".to_string(),
        )]
    };
    assert!(at(3) > at(9) + 1e-6, "{} vs {}", at(3), at(9));
}

/// A depth the draws give an agreement that a scenario has without one: the central run has
/// none, and the batch says so, naming the scenario and the draws' centre.
#[test]
fn a_drawn_depth_the_central_run_lacks_is_a_warning() {
    let d = tempfile::tempdir().unwrap();
    tiny_batch(d.path(), 0, THETA_LOGNORMAL);
    let fast = std::fs::read_to_string(d.path().join("fast.ron")).unwrap();
    write(
        d.path(),
        "flat.ron",
        &fast
            .replace(", depth: Given(beta: 0.1, phase_in_years: 5)", "")
            .replace("name: \"fast\"", "name: \"flat\""),
    );
    let warnings = |scenario: &str| {
        let b = write(
            d.path(),
            "w.ron",
            &format!("Batch(name: \"w\", scenarios: [\"{scenario}\"], draws: 2,\n uncertainty: [(parameter: Depth(\"AB\"), distribution: Triangular(min: 0.0, mode: 0.1, max: 0.3))])"),
        );
        let o = tradesim(&["check", b.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let err = warnings("flat.ron");
    assert!(
        err.contains("w.ron:2:28:")
            && err.contains(
                "`AB` has no depth in scenario flat: the draws give it one, centred on β 0.1000"
            )
            && err.contains("read `median`"),
        "{err}"
    );
    assert!(!warnings("fast.ron").contains("has no depth"));
}

/// Every solve in a batch's `solver.csv` carries the draw it belongs to: the baseline solve of
/// draw 2 is labelled draw 2, not 0 (the report counts draw 0's rows as the central run's).
#[test]
fn each_draws_baseline_solve_is_labelled_with_its_draw() {
    let d = tempfile::tempdir().unwrap();
    let b = tiny_batch(d.path(), 2, THETA_LOGNORMAL);
    let out = d.path().join("out");
    run(&[
        "batch",
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let (h, rows) = read_csv(&out.join("solver.csv"));
    let col = |c: &str| h.iter().position(|x| x == c).unwrap();
    // Per scenario, one baseline solve per draw 0, 1, 2, each with its draw's years after it.
    for scenario in ["fast", "slow"] {
        let mine: Vec<&Vec<String>> = rows
            .iter()
            .filter(|r| r[col("scenario")] == scenario)
            .collect();
        let baselines: Vec<&str> = mine
            .iter()
            .filter(|r| r[col("stage")] == "baseline")
            .map(|r| r[col("draw")].as_str())
            .collect();
        assert_eq!(baselines, ["0", "1", "2"], "{scenario}: {mine:?}");
        for pair in mine.windows(2) {
            if pair[1][col("stage")] == "year" {
                assert_eq!(pair[0][col("draw")], pair[1][col("draw")], "{pair:?}");
            }
        }
    }
}

/// The files of an output directory (hidden ones included) with their bytes.
fn dir_bytes(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// `--bilateral summary` in shards: the merge writes `bilateral_summary.csv` (and every other
/// file) with the single run's bytes, failed draws included; the shards' per-draw changes
/// (`bilateral_draws.csv`) are not part of the merged output.
#[test]
fn a_merged_bilateral_summary_is_the_single_runs_bytes() {
    let d = tempfile::tempdir().unwrap();
    let b = tiny_batch(
        d.path(),
        8,
        "Theta(\"MAN\"), distribution: Normal(mean: 1.0, sd: 3.0)",
    );
    let b = b.to_str().unwrap();
    let p = |s: &str| d.path().join(s).to_str().unwrap().to_string();
    let batch = |out: &str, shard: Option<&str>| {
        let mut args = vec![
            "batch",
            b,
            "--out",
            out,
            "--bilateral",
            "summary",
            "--keep-going",
            "--quiet",
        ];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        run(&args)
    };
    batch(&p("single"), None);
    for k in 1..=3 {
        batch(&p(&format!("s{k}")), Some(&format!("{k}/3")));
    }
    let stdout = run(&["merge", &p("s2"), &p("s3"), &p("s1"), "--out", &p("m")]);
    assert!(stdout.contains("bilateral_summary.csv"), "{stdout}");
    let (_, failures) = read_csv(&d.path().join("single/failures.csv"));
    assert!(!failures.is_empty(), "some draws fail");
    let (single, merged) = (
        dir_bytes(&d.path().join("single")),
        dir_bytes(&d.path().join("m")),
    );
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&single), names(&merged));
    assert!(names(&single).contains(&"bilateral_summary.csv".to_string()));
    for ((name, a), (_, b)) in single.iter().zip(&merged) {
        assert!(a == b, "{name}: merged shards differ from the single run");
    }
}

/// Three shards of the tiny batch (2 draws: 8 units) in `s1`..`s3` under `dir`.
fn three_shards(dir: &std::path::Path, extra: &[&str]) -> String {
    let b = tiny_batch(dir, 2, THETA_LOGNORMAL);
    let b = b.to_str().unwrap().to_string();
    for k in 1..=3 {
        let out = dir.join(format!("s{k}"));
        let shard = format!("{k}/3");
        let mut args = vec![
            "batch",
            &b,
            "--out",
            out.to_str().unwrap(),
            "--shard",
            &shard,
            "--quiet",
        ];
        args.extend(extra);
        run(&args);
    }
    b
}

/// `tradesim merge` of the directories `dirs` (under `dir`) into `dir/m`, which must fail;
/// returns its message.
fn merge_fails(dir: &std::path::Path, dirs: &[&str]) -> String {
    merge_into_fails(dir, dirs, "m")
}

/// [`merge_fails`] into `dir/out`.
fn merge_into_fails(dir: &std::path::Path, dirs: &[&str], out: &str) -> String {
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(
        dirs.iter()
            .map(|s| dir.join(s).to_str().unwrap().to_string()),
    );
    args.extend(["--out".into(), dir.join(out).to_str().unwrap().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = tradesim(&args);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{dirs:?}: {err}");
    assert!(!dir.join(out).exists(), "nothing merged: {err}");
    err
}

/// A shard copied back in part (a table deleted, a unit's rows or one row gone) is refused,
/// naming the shard, the file (and row) and what is missing, with the command that makes the
/// shard again; never merged into summaries over too few draws.
#[test]
fn merge_refuses_a_shard_missing_a_table_a_unit_or_a_row() {
    let d = tempfile::tempdir().unwrap();
    let b = three_shards(d.path(), &[]);
    let shard2 = d.path().join("s2");
    let command = format!(
        "tradesim batch {b} --shard 2/3 --draws 2 --bilateral central --out {}",
        shard2.display()
    );
    let copy = |name: &str| {
        let to = d.path().join(name);
        copy_dir(&shard2, &to);
        to
    };
    let edit = |dir: &std::path::Path, keep: &dyn Fn(&str) -> bool| {
        let p = dir.join("economies.csv");
        let text = std::fs::read_to_string(&p).unwrap();
        let kept: Vec<&str> = text.lines().filter(|l| keep(l)).collect();
        std::fs::write(&p, kept.join("\n") + "\n").unwrap();
    };
    // 4 scenarios x 3 draws: shard 2 holds slow's draws 1-2 and the first grid point's 0-1.
    let tables = copy("tables");
    std::fs::remove_file(tables.join("economies.csv")).unwrap();
    std::fs::remove_file(tables.join("bilateral.csv")).unwrap();
    let err = merge_fails(d.path(), &["s1", "tables", "s3"]);
    let command_there = command.replace(shard2.to_str().unwrap(), tables.to_str().unwrap());
    assert!(
        err.contains(&format!(
            "{}: shard 2 of 3 has no economies.csv, bilateral.csv",
            tables.display()
        )) && err.contains(&format!("{command_there} --force")),
        "{err}"
    );
    // two shards without a table: both named in one run
    let tables3 = d.path().join("tables3");
    copy_dir(&d.path().join("s3"), &tables3);
    std::fs::remove_file(tables3.join("solver.csv")).unwrap();
    let err = merge_fails(d.path(), &["s1", "tables", "tables3"]);
    assert!(
        err.contains("shard 2 of 3 has no economies.csv, bilateral.csv")
            && err.contains("shard 3 of 3 has no solver.csv"),
        "{err}"
    );
    let unit = copy("unit");
    edit(&unit, &|l| {
        !l.starts_with("slow,2016,1,") && !l.starts_with("slow,2020,1,")
    });
    let err = merge_fails(d.path(), &["s1", "unit", "s3"]);
    assert!(
        err.contains(&format!(
            "{}: shard 2 of 3 holds",
            unit.join("economies.csv").display()
        )) && err.contains("scenario `slow` draw(s) 1 has no rows here and is not in failures.csv")
            && err.contains("run shard 2 of 3 again"),
        "{err}"
    );
    let row = copy("row");
    edit(&row, &|l| !l.starts_with("slow,2020,2,BBB,"));
    let err = merge_fails(d.path(), &["s1", "row", "s3"]);
    assert!(
        err.contains(&format!("{}, row ", row.join("economies.csv").display()))
            && err.contains("scenario `slow`, draw 2, year 2020: no row for economy BBB")
            && err.contains("run shard 2 of 3 again")
            && !err.contains(".draws.spill"),
        "{err}"
    );
}

/// Shards given twice or missing, and shards of another run, are refused naming the
/// directories, the missing shards with the command that makes them, and what differs.
#[test]
fn merge_names_duplicate_missing_and_mismatched_shards() {
    let d = tempfile::tempdir().unwrap();
    let b = three_shards(d.path(), &[]);
    let s1 = d.path().join("s1");
    let err = merge_fails(d.path(), &["s1", "s1", "s2", "s3"]);
    assert!(
        err.contains(&format!(
            "shard 1 of 3 is in 2 of the directories given ({}, {}",
            s1.display(),
            s1.display()
        )),
        "{err}"
    );
    let err = merge_fails(d.path(), &["s1", "s2"]);
    assert!(
        err.contains("shard 3 of 3 is missing")
            && err.contains(&format!(
                "tradesim batch {b} --shard 3/3 --draws 2 --bilateral central --out shard-3"
            )),
        "{err}"
    );
    for (flag, value, said) in [
        ("--draws", "3", "draws per scenario 3 here, 2 in"),
        (
            "--bilateral",
            "all",
            "bilateral tables `all` here, `central` in",
        ),
    ] {
        let other = d.path().join("other");
        run(&[
            "batch",
            &b,
            "--out",
            other.to_str().unwrap(),
            "--shard",
            "2/3",
            flag,
            value,
            "--quiet",
            "--force",
        ]);
        let err = merge_fails(d.path(), &["s1", "other", "s3"]);
        assert!(
            err.contains(&format!(
                "{}: this shard is not of the same run as {}: {said} {}",
                other.display(),
                s1.display(),
                s1.display()
            )) && err.contains("--shard 2/3 --draws 2 --bilateral central"),
            "{err}"
        );
    }
}

/// `merge --out` inside a shard's directory is refused (a later run of that shard with
/// --force would find the merged directory there and refuse it as not its own), pointing
/// beside the shards; the batch's last line lists every file it wrote, report_meta.json too,
/// and its report names the output directory.
#[test]
fn merge_into_a_shard_is_refused_and_batch_lists_every_file() {
    let d = tempfile::tempdir().unwrap();
    let b = three_shards(d.path(), &[]);
    let s1 = d.path().join("s1");
    let inside = s1.join("merged");
    let err = merge_into_fails(d.path(), &["s1", "s2", "s3"], "s1/merged");
    assert!(
        err.contains(&format!(
            "{}: is inside the shard directory {}",
            inside.display(),
            s1.display()
        )) && err.contains(&format!(
            "choose another --out beside the shards, such as {}",
            d.path().join("merged").display()
        )),
        "{err}"
    );
    assert!(!inside.exists());
    let out = d.path().join("whole");
    let stdout = run(&["batch", &b, "--out", out.to_str().unwrap(), "--report"]);
    let last = stdout.lines().last().unwrap();
    for f in [
        "economies.csv",
        "summary.csv",
        "manifest.json",
        "report_meta.json",
        "report.html",
    ] {
        assert!(out.join(f).exists() && last.contains(f), "{f}: {last}");
    }
    // The report names the directory it reports on, not the hidden staging directory the
    // batch wrote it in (`from <code>./.whole.tradesim-PID</code>`).
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains(&format!("from <code>{}</code>", out.display()))
            && !html.contains(".tradesim-"),
        "{}",
        &html[..html.find("</header>").unwrap_or(html.len())]
    );
}

/// `--shard K/N` with more shards than the batch has units is refused, as `--slurm N` is (it
/// wrote empty shards, and N near usize's limit overflowed the split); N equal to the units
/// runs one unit a shard.
#[test]
fn more_shards_than_units_are_refused() {
    let d = tempfile::tempdir().unwrap();
    // 4 scenarios × (1 + 1 draw): 8 units.
    let b = tiny_batch(d.path(), 1, THETA_LOGNORMAL);
    let b = b.to_str().unwrap();
    for shard in ["9/9", "1/2000000000000000000"] {
        let out = d.path().join("s");
        let o = tradesim(&[
            "batch",
            b,
            "--out",
            out.to_str().unwrap(),
            "--shard",
            shard,
            "--quiet",
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{shard}: {err}");
        assert!(
            err.contains(&format!(
                "--shard {shard}: the batch has 8 scenario × draw units"
            )) && err.contains("give at most 8 shards"),
            "{err}"
        );
        assert!(!out.exists());
    }
    let out = d.path().join("s8");
    run(&[
        "batch",
        b,
        "--out",
        out.to_str().unwrap(),
        "--shard",
        "8/8",
        "--quiet",
    ]);
    assert!(out.join("manifest.json").exists());
}

/// `--chunk 0` (no units solved between writes) is refused at the flag, naming it and the
/// fix; it was run as a chunk of 1 without a word. `--slurm` jobs carried it into every shard.
#[test]
fn a_chunk_of_zero_units_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let b = tiny_batch(d.path(), 1, THETA_LOGNORMAL);
    let out = d.path().join("c0");
    let batch = |chunk: &str, extra: &[&str]| {
        let (b, o) = (b.to_str().unwrap(), out.to_str().unwrap());
        let mut args = vec!["batch", b, "--out", o, "--chunk", chunk, "--quiet"];
        args.extend_from_slice(extra);
        tradesim(&args)
    };
    for extra in [&[][..], &["--slurm", "2", "--no-submit"][..]] {
        let o = batch("0", extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains("'--chunk <CHUNK>'") && err.contains("give at least 1"),
            "{err}"
        );
        assert!(!out.exists());
    }
    // The library refuses it too (it ran as 1), writing nothing.
    let job = tradesim::workflow::batch::BatchJob::load(&b, None).unwrap();
    let opts = tradesim::simulate::batch::BatchOptions {
        shard: None,
        keep_going: false,
        bilateral: tradesim::output::batch::BilateralMode::Central,
        chunk: 0,
    };
    let run = tradesim::workflow::batch::BatchRunOptions {
        out: &out,
        force: false,
        report: false,
        batch: &opts,
    };
    let Err(e) = job.run(&run, &|| {}) else {
        panic!("a chunk of 0 is refused")
    };
    let e = e.to_string();
    assert!(e.starts_with("`chunk` 0: a chunk of 0 units"), "{e}");
    assert_eq!(
        std::fs::read_dir(d.path()).unwrap().count(),
        3,
        "nothing made"
    );
    let o = batch("1", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("manifest.json").exists());
}

/// A row missing from a per-draw table other than economies.csv (a year's solve in
/// solver.csv, a year of a draw in bilateral.csv, a row of quotas.csv that the scenario's
/// other draws lack) is refused naming the file, the row and the unit, not concatenated into
/// the merged table.
#[test]
fn merge_refuses_a_row_missing_from_any_per_draw_table() {
    let d = tempfile::tempdir().unwrap();
    three_shards(d.path(), &["--bilateral", "all"]);
    let shard2 = d.path().join("s2");
    // Shard 2 holds slow's draws 1-2 and the first grid point's 0-1 (see above).
    for (file, drop, add, said) in [
        (
            "solver.csv",
            "slow,year,2020,1,",
            "",
            "solver.csv, row 2: scenario `slow`, draw 1 has year solves for 2016, but rows in economies.csv for 2016, 2020",
        ),
        (
            "bilateral.csv",
            "slow,2020,2,",
            "",
            "scenario `slow`, draw 2 has rows for the years 2016, but with bilateral tables `all` it has rows for 2016, 2020",
        ),
        (
            "quotas.csv",
            "",
            "slow,2016,2,AB,,AAA,BBB,MAN,1,1,1,binding,0\n",
            "scenario `slow`, draw 2 has 1 row(s) here, but draw 0 of the scenario has 0",
        ),
    ] {
        let copy = d.path().join(format!("bad-{}", file.trim_end_matches(".csv")));
        copy_dir(&shard2, &copy);
        let p = copy.join(file);
        let text = std::fs::read_to_string(&p).unwrap();
        let mut kept: String = text
            .lines()
            .filter(|l| drop.is_empty() || !l.starts_with(drop))
            .map(|l| format!("{l}\n"))
            .collect();
        kept.push_str(add);
        std::fs::write(&p, kept).unwrap();
        let name = copy.file_name().unwrap().to_str().unwrap();
        let err = merge_fails(d.path(), &["s1", name, "s3"]);
        assert!(
            err.contains(said) && err.contains("run shard 2 of 3 again"),
            "{file}: {err}"
        );
    }
    run(&[
        "merge",
        d.path().join("s1").to_str().unwrap(),
        shard2.to_str().unwrap(),
        d.path().join("s3").to_str().unwrap(),
        "--out",
        d.path().join("m").to_str().unwrap(),
    ]);
}

/// A scenario file listed twice in `scenarios` (so two scenarios share a name) is an error at
/// the repeated item of the list, not at `scenarios:`.
#[test]
fn a_scenario_listed_twice_is_located_at_the_repeat() {
    let d = tempfile::tempdir().unwrap();
    tiny_batch(
        d.path(),
        0,
        "ThetaScale, distribution: Uniform(min: 0.9, max: 1.1)",
    );
    let fast = std::fs::read_to_string(d.path().join("fast.ron")).unwrap();
    write(d.path(), "other.ron", &fast);
    let o = check_batch(
        d.path(),
        "Batch(name: \"g\",\n scenarios: [\"fast.ron\",\n   \"other.ron\"])",
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("b.ron:3:4: two scenarios are named"), "{err}");
}
