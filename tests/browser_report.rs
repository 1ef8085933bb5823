//! The HTML report in a real browser: headless Chromium opens reports built from the tiny
//! synthetic world (one scenario; and two scenarios with a made-up summary.csv and
//! investment.csv, so that every section draws) and the test asserts that every chart rendered
//! (the report's inline check counts the SVG charts with marks and a non-zero size in each
//! section) and that no script error or console error occurred. A PNG screenshot is kept under
//! `target/tmp/browser_report/` as an artefact.
//!
//! Skips with a printed reason when Chromium is absent (a user's machine), unless
//! `TRADESIM_REQUIRE_CHROMIUM=1` (set by `.ci/run` once it has installed Chromium).
mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let candidates = ["chromium", "chromium-browser", "google-chrome"];
    for dir in std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
    {
        for c in candidates {
            let p = dir.join(c);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Run headless Chromium with `args` and a fresh profile; returns (stdout, stderr).
fn headless(chrome: &Path, profile: &Path, args: &[String]) -> (String, String) {
    let out_path = profile.with_extension("stdout");
    let err_path = profile.with_extension("stderr");
    let mut child = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 180 s: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (
        std::fs::read_to_string(&out_path).unwrap_or_default(),
        std::fs::read_to_string(&err_path).unwrap_or_default(),
    )
}

fn scenario(dir: &Path, file: &str, name: &str, agreement: &str) -> PathBuf {
    write(
        dir,
        file,
        &format!(
            "Scenario(\n    name: \"{name}\",\n    description: \"made-up test scenario on the tiny world\",\n    baseline: Csv(\"{}\"),\n    base_year: 2014,\n    horizon: 2022,\n    agreements: [\n{agreement}\n    ],\n)\n",
            tiny().display()
        ),
    )
}

fn run_ok(args: &[&str]) {
    let o = tradesim(args);
    assert!(
        o.status.success(),
        "tradesim {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Concatenate the CSV files `name` of several directories into `out` (one header).
fn concat_csv(dirs: &[&Path], name: &str, out: &Path) {
    let mut w = csv::Writer::from_path(out.join(name)).unwrap();
    let mut header_written = false;
    for d in dirs {
        let mut r = csv::Reader::from_path(d.join(name)).unwrap();
        if !header_written {
            w.write_record(r.headers().unwrap()).unwrap();
            header_written = true;
        }
        for rec in r.records() {
            w.write_record(&rec.unwrap()).unwrap();
        }
    }
    w.flush().unwrap();
}

/// The sections' "ok/want" counts and the error text of the report's render check.
fn render_check(dom: &str) -> (Vec<(String, usize, usize)>, String) {
    let start = dom
        .find("id=\"render-check\"")
        .expect("the DOM has the render check");
    let text = &dom[start..];
    let text = &text[text.find('>').unwrap() + 1..text.find("</p>").unwrap()];
    assert!(
        text.starts_with("charts: ") && !text.contains("not checked"),
        "the render check did not run: {text}"
    );
    let (charts, errors) = text["charts: ".len()..].split_once("; errors: ").unwrap();
    let counts = charts
        .split_whitespace()
        .map(|part| {
            let (id, n) = part.split_once('=').unwrap();
            let (ok, want) = n.split_once('/').unwrap();
            (id.to_string(), ok.parse().unwrap(), want.parse().unwrap())
        })
        .collect();
    (counts, errors.to_string())
}

fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("Uncaught")
                || (l.contains("CONSOLE") && (l.contains("rror") || l.contains("ERROR")))
                || l.contains("Failed to load resource")
                || l.contains("Refused to")
        })
        .collect()
}

/// Open a report, check every section's charts, return the section counts.
fn check_report(
    chrome: &Path,
    tmp: &Path,
    report: &Path,
    tag: &str,
) -> Vec<(String, usize, usize)> {
    let url = format!("file://{}", report.display());
    let (dom, stderr) = headless(
        chrome,
        &tmp.join(format!("profile-{tag}")),
        &["--dump-dom".to_string(), url],
    );
    let (counts, errors) = render_check(&dom);
    assert_eq!(errors, "none", "script errors in {tag}");
    let bad = console_errors(&stderr);
    assert!(bad.is_empty(), "console errors in {tag}: {bad:?}");
    for (id, ok, want) in &counts {
        assert_eq!(
            ok, want,
            "{tag}: section {id}: {ok} of {want} charts rendered"
        );
    }
    for id in [
        "overview",
        "agreements",
        "outcomes",
        "options",
        "bilateral",
        "creation",
        "investment",
        "settings",
    ] {
        assert!(
            counts.iter().any(|c| c.0 == id),
            "{tag}: section {id} missing"
        );
    }
    counts
}

fn want(counts: &[(String, usize, usize)], id: &str) -> usize {
    counts.iter().find(|c| c.0 == id).map_or(0, |c| c.2)
}

#[test]
fn every_chart_of_the_report_renders_in_headless_chromium() {
    let Some(chrome) = chromium() else {
        if std::env::var("TRADESIM_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!("TRADESIM_REQUIRE_CHROMIUM=1 but no chromium on PATH; install the Debian packages chromium and chromium-driver");
        }
        eprintln!("skipping: headless Chromium is absent (install the Debian packages `chromium` and `chromium-driver` to run the browser test)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let a = scenario(
        t,
        "a.ron",
        "A & B <FTA>",
        r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"], schedule: Linear(years: 4),
            product_groups: [(name: "grain", importer: "AAA", exporter: "BBB", sector: "AGR", weight: 0.4,
                              schedule: TariffRateQuota(quota: 5.0, in_quota_rate: 0.0, out_of_quota_rate: 0.2))],
            depth: Given(beta: 0.1, phase_in_years: 5))"#,
    );
    let b = scenario(
        t,
        "b.ron",
        "A & C",
        r#"(name: "AC", entry_into_force: 2017, members: ["AAA", "CCC"], schedule: Immediate)"#,
    );
    let (da, db, dc) = (t.join("a"), t.join("b"), t.join("c"));
    for (s, d, extra) in [(&a, &da, true), (&b, &db, false)] {
        let mut args = vec![
            "run",
            s.to_str().unwrap(),
            "--out",
            d.to_str().unwrap(),
            "--quiet",
        ];
        if extra {
            args.extend(["--report", "--format", "json"]);
        }
        run_ok(&args);
    }
    assert!(da.join("report.html").is_file());
    assert!(
        !db.join("report.html").is_file(),
        "--report is off by default"
    );

    // Two scenarios in one directory, as a batch writes them, with a made-up summary.csv
    // (bands of ±(10% + 0.05 points) around the central value) and investment.csv (FDI stocks
    // growing with the members' exports), so the bands, options and investment sections draw.
    std::fs::create_dir_all(&dc).unwrap();
    for f in [
        "economies.csv",
        "bilateral.csv",
        "tariffs.csv",
        "solver.csv",
    ] {
        concat_csv(&[&da, &db], f, &dc);
    }
    let mut scen = Vec::new();
    for d in [&da, &db] {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("report_meta.json")).unwrap())
                .unwrap();
        scen.extend(v["scenarios"].as_array().unwrap().clone());
    }
    std::fs::write(
        dc.join("report_meta.json"),
        serde_json::to_string(&serde_json::json!({"tradesim_version": "test", "scenarios": scen}))
            .unwrap(),
    )
    .unwrap();
    let (h, rows) = read_csv(&dc.join("economies.csv"));
    let col = |c: &str| h.iter().position(|x| x == c).unwrap();
    let mut summary = csv::Writer::from_path(dc.join("summary.csv")).unwrap();
    summary
        .write_record([
            "scenario", "year", "economy", "measure", "mean", "median", "p05", "p95", "draws",
            "failed",
        ])
        .unwrap();
    let mut inv = csv::Writer::from_path(dc.join("investment.csv")).unwrap();
    inv.write_record([
        "scenario",
        "year",
        "draw",
        "source",
        "host",
        "fdi_stock_base",
        "fdi_stock",
        "change_pct",
        "affiliate_sales",
    ])
    .unwrap();
    for r in &rows {
        let f = |c: &str| r[col(c)].parse::<f64>().unwrap();
        let measures = [
            ("real_income_pct", f("real_income_pct")),
            ("welfare_pct", f("welfare_pct")),
            (
                "exports_pct",
                100.0 * (f("exports") / f("exports_base") - 1.0),
            ),
            (
                "imports_pct",
                100.0 * (f("imports") / f("imports_base") - 1.0),
            ),
        ];
        for (m, v) in measures {
            let w = 0.1 * v.abs() + 0.05;
            summary
                .write_record([
                    r[col("scenario")].clone(),
                    r[col("year")].clone(),
                    r[col("economy")].clone(),
                    m.to_string(),
                    v.to_string(),
                    v.to_string(),
                    (v - w).to_string(),
                    (v + w).to_string(),
                    "200".into(),
                    "0".into(),
                ])
                .unwrap();
        }
        for source in ["AAA", "BBB", "CCC"] {
            if source == r[col("economy")] {
                continue;
            }
            let stock = 100.0 * (1.0 + 0.3 * measures[2].1 / 100.0);
            inv.write_record([
                r[col("scenario")].clone(),
                r[col("year")].clone(),
                "0".into(),
                source.into(),
                r[col("economy")].clone(),
                "100".into(),
                stock.to_string(),
                (stock - 100.0).to_string(),
                "".into(),
            ])
            .unwrap();
        }
    }
    summary.flush().unwrap();
    inv.flush().unwrap();
    drop((summary, inv));
    run_ok(&["report", dc.to_str().unwrap()]);

    let single = check_report(&chrome, t, &da.join("report.html"), "single");
    for id in [
        "agreements",
        "outcomes",
        "bilateral",
        "creation",
        "settings",
    ] {
        assert!(want(&single, id) > 0, "single scenario: {id} draws nothing");
    }
    assert_eq!(
        want(&single, "options"),
        0,
        "one scenario: no options chart"
    );
    assert_eq!(want(&single, "investment"), 0, "no investment.csv");

    let both = check_report(&chrome, t, &dc.join("report.html"), "options");
    for id in [
        "agreements",
        "outcomes",
        "options",
        "bilateral",
        "creation",
        "investment",
        "settings",
    ] {
        assert!(want(&both, id) > 0, "two scenarios: {id} draws nothing");
    }
    assert_eq!(want(&both, "outcomes"), 6, "three charts per scenario");
    let html = std::fs::read_to_string(dc.join("report.html")).unwrap();
    assert!(html.contains("A &amp; B &lt;FTA&gt;") && !html.contains("<FTA>"));
    assert!(
        !html.contains("http://")
            || html.matches("http://").count()
                == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "the report loads nothing from the network"
    );
    assert!(!html.contains("https://") && !html.contains("src=\""));

    // The screenshot artefact.
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser_report");
    std::fs::create_dir_all(&shots).unwrap();
    for (tag, report) in [
        ("single", da.join("report.html")),
        ("options", dc.join("report.html")),
    ] {
        let png = shots.join(format!("report-{tag}.png"));
        let _ = std::fs::remove_file(&png);
        headless(
            &chrome,
            &t.join(format!("profile-shot-{tag}")),
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1400,3000".into(),
                format!("file://{}", report.display()),
            ],
        );
        let bytes =
            std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot {}: {e}", png.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
            "{} is not a page",
            png.display()
        );
        // Keep the report beside its screenshot.
        std::fs::copy(&report, shots.join(format!("report-{tag}.html"))).unwrap();
        eprintln!("screenshot: {}", png.display());
    }
}
