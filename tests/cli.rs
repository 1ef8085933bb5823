//! The command line as a user meets it (issue 14): a closed pipe, what `check` shows, the
//! columns of the output tables and their documented units, the JSON Schema's names.
mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};

fn scenario(dir: &Path, extra: &str) -> std::path::PathBuf {
    write(
        dir,
        "s.ron",
        &format!(
            "Scenario(name: \"s\", baseline: Csv(\"{}\"), base_year: 2014, horizon: 2018,{extra}\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"])])",
            tiny().display()
        ),
    )
}

/// Run the binary with stdout a pipe whose reading end is already closed: every write fails
/// with a broken pipe, deterministically.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.wait_with_output().unwrap()
}

// Issue 14, item 13.
#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let d = tempfile::tempdir().unwrap();
    let s = scenario(d.path(), "");
    let s = s.to_str().unwrap();
    let cptpp = root().join("scenarios/cptpp.ron");
    let out = d.path().join("out");
    write(
        d.path(),
        "b.ron",
        "Batch(name: \"b\", scenarios: [\"s.ron\"], focus: [\"AAA\"])",
    );
    let batch = d.path().join("b.ron");
    let bout = d.path().join("bout");
    let runs: Vec<Vec<&str>> = vec![
        vec!["check", cptpp.to_str().unwrap()],
        vec!["check", "--all", cptpp.to_str().unwrap()],
        vec!["run", s, "--out", out.to_str().unwrap()],
        vec![
            "batch",
            batch.to_str().unwrap(),
            "--out",
            bout.to_str().unwrap(),
        ],
        vec!["schema"],
        vec!["--help"],
    ];
    for args in runs {
        let o = with_closed_stdout(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("error"), "{args:?}: {err}");
    }
    // The work was done: outputs written whole although nothing could be printed.
    assert!(out.join("economies.csv").exists() && bout.join("summary.csv").exists());
}

// Issue 14, item 17.
#[test]
fn check_shows_the_scenarios_own_agreements_and_all_of_them_on_request() {
    let cptpp = root().join("scenarios/cptpp.ron");
    let o = tradesim(&["check", cptpp.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let own = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(own.contains("agreement CPTPP:"), "{own}");
    assert!(!own.contains("agreement NAFTA:"), "{own}");
    assert!(
        own.contains("are not shown: the same in this scenario as in what it is compared with")
            && own.contains("baseline-2014.ron")
            && own.contains("--all"),
        "{own}"
    );
    assert!(own.lines().count() < 100, "{} lines", own.lines().count());
    let o = tradesim(&["check", "--all", cptpp.to_str().unwrap()]);
    let all = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        all.contains("agreement NAFTA:") && all.contains("agreement CPTPP:"),
        "{all}"
    );
    assert!(all.lines().count() > own.lines().count() * 10);
    // An agreement of the data that a scenario continues is its own.
    let o = tradesim(&[
        "check",
        root().join("scenarios/japan-chile.ron").to_str().unwrap(),
    ]);
    let jc = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        jc.contains("agreement Japan-Chile EPA:") && !jc.contains("agreement NAFTA:"),
        "{jc}"
    );
}

// Issue 14, item 20.
#[test]
fn solver_rows_have_a_stage_and_fdi_columns_are_empty_without_investment() {
    let d = tempfile::tempdir().unwrap();
    let s = scenario(d.path(), "");
    let out = d.path().join("out");
    run_quietly(&s, &out);
    let (h, rows) = read_csv(&out.join("solver.csv"));
    assert_eq!(
        h,
        [
            "scenario",
            "stage",
            "year",
            "draw",
            "iterations",
            "residual",
            "quota_rounds"
        ]
    );
    assert_eq!(
        (rows[0][1].as_str(), rows[0][2].as_str()),
        ("baseline", "2014")
    );
    assert!(rows[1..].iter().all(|r| r[1] == "year"));
    for r in &rows {
        r[2].parse::<i32>().expect("year is a number");
    }
    let (h, rows) = read_csv(&out.join("economies.csv"));
    let (b, f) = (
        h.iter().position(|c| c == "inward_fdi_base").unwrap(),
        h.iter().position(|c| c == "inward_fdi").unwrap(),
    );
    assert!(rows.iter().all(|r| r[b].is_empty() && r[f].is_empty()));
    // The report reads the new solver.csv (and the report of a run shows the baseline solve).
    let o = tradesim(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("2014 (baseline)"));
}

/// Every column of every table a run writes has its unit in the README's outputs section.
#[test]
fn the_readme_states_the_unit_of_every_output_column() {
    let d = tempfile::tempdir().unwrap();
    let s = scenario(d.path(), "");
    let out = d.path().join("out");
    run_quietly(&s, &out);
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("### Units of the output columns")
        .expect("README has a units table");
    let units = &readme[start..];
    let units = &units[..units[4..].find("\n## ").map_or(units.len(), |k| k + 4)];
    let mut missing = Vec::new();
    for f in [
        "economies.csv",
        "bilateral.csv",
        "tariffs.csv",
        "solver.csv",
    ] {
        let (h, _) = read_csv(&out.join(f));
        for c in h {
            let documented = units.lines().any(|l| {
                l.starts_with('|') && l.contains(&format!("`{c}`")) && l.matches('|').count() >= 3
            });
            if !documented {
                missing.push(format!("{f}: {c}"));
            }
        }
    }
    for c in [
        "quota",
        "imports",
        "fill_rate",
        "marginal_rate",
        "fdi_stock",
        "change_pct",
        "affiliate_sales",
        "central",
        "p05",
    ] {
        if !units.contains(&format!("`{c}`")) {
            missing.push(c.to_string());
        }
    }
    assert!(missing.is_empty(), "no unit in the README for: {missing:?}");
}

// Issue 14, item 16: no internal type name in the JSON Schema.
#[test]
fn the_json_schema_uses_the_names_users_write() {
    for kind in ["scenario", "batch"] {
        let o = tradesim(&["schema", kind]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(!text.contains("\"Raw"), "{kind}: {text}");
        if kind == "scenario" {
            assert!(text.contains("\"Agreement\"") && text.contains("\"ProductGroup\""));
        }
    }
}

// Issue 14, item 3.
#[test]
fn gravity_with_sigma_near_one_is_refused_naming_the_range() {
    let d = tempfile::tempdir().unwrap();
    let mut data = String::from("exporter,importer,year,trade,dist,pta\n");
    for (i, e) in ["AAA", "BBB", "CCC"].iter().enumerate() {
        for (j, m) in ["AAA", "BBB", "CCC"].iter().enumerate() {
            let (t, dist) = if i == j {
                (500.0, 1.0)
            } else {
                (30.0, 200.0 * (i + j) as f64)
            };
            data.push_str(&format!("{e},{m},2006,{t},{dist},0\n"));
        }
    }
    write(d.path(), "d.csv", &data);
    for sigma in ["1.01", "1.0000001"] {
        let p = write(
            d.path(),
            "g.ron",
            &format!("StructuralGravity(name: \"g\", data: \"d.csv\", year: 2006, sigma: {sigma}, reference: \"AAA\",\n costs: Coefficients(coefficients: {{\"ln(dist)\": -1.0, \"pta\": 0.5}}, constant: 16.0),\n counterfactual: [SetCovariate(column: \"pta\", pairs: Between([\"AAA\"], [\"BBB\"]), value: 1)])"),
        );
        let out = d.path().join("out");
        let o = tradesim(&["run", p.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "σ = {sigma}: {err}");
        assert!(
            err.contains("sigma") && err.contains("between 1.1 and 100"),
            "{err}"
        );
        assert!(!out.exists());
    }
}

/// `data synthetic-world` says how big a world is before making it: above 1 GB (999 × 99 is
/// about 5.5 GB) it is refused without `--large`, nothing written; the estimate is the size
/// written within 5% (the 77 × 45 benchmark world).
#[test]
fn a_synthetic_world_too_large_is_refused_before_anything_is_written() {
    let t = tempfile::tempdir().unwrap();
    let world = |e: &str, s: &str, out: &Path| {
        let args = [
            "data",
            "synthetic-world",
            "--economies",
            e,
            "--sectors",
            s,
            "--out",
        ];
        let mut args = args.to_vec();
        args.push(out.to_str().unwrap());
        tradesim(&args)
    };
    let o = world("999", "99", &t.path().join("big"));
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains(
            "999 economies x 99 sectors is about 5.5 GB on disk (97805097 rows in flows.csv)"
        ) && e.contains("nothing was written")
            && e.contains("pass --large"),
        "{e}"
    );
    let left: Vec<_> = std::fs::read_dir(t.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing made: {left:?}");
    let w = t.path().join("w");
    let o = world("77", "45", &w);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let written: u64 = std::fs::read_dir(&w)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let (estimate, _) = tradesim::workflow::data::synthetic_world_bytes(77, 45, true);
    let ratio = estimate as f64 / written as f64;
    assert!((0.95..1.05).contains(&ratio), "{estimate} vs {written}");
}

/// `data synthetic-baci` as `data synthetic-world`: the size is estimated first (above 1 GB
/// refused without `--large`, nothing written; 199 million rows wrote about 7.8 GB without a
/// word, and more rows than it can make were cut silently), the output is whole or not at all,
/// and an existing directory is replaced only with `--force` and only if tradesim wrote it (a
/// second run overwrote the first's files, and a user's file of the same name, without a word).
#[test]
fn synthetic_baci_is_sized_first_and_replaces_only_its_own_output_with_force() {
    let t = tempfile::tempdir().unwrap();
    let baci = |rows: &str, out: &Path, extra: &[&str]| {
        let mut args = vec![
            "data",
            "synthetic-baci",
            "--rows",
            rows,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        tradesim(&args)
    };
    let fails = |o: std::process::Output| {
        let e = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(1), "{e}");
        e
    };
    let e = fails(baci("199000000", &t.path().join("big"), &[]));
    assert!(
        e.contains("a synthetic BACI year of 199000000 rows is about 7.8 GB on disk")
            && e.contains("nothing was written")
            && e.contains("pass --large"),
        "{e}"
    );
    for rows in ["0", "199000001"] {
        let e = fails(baci(rows, &t.path().join("big"), &["--large"]));
        assert!(
            e.contains(&format!("--rows {rows}: must be between 1 and 199000000")),
            "{e}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(t.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing made: {left:?}");

    let out = t.path().join("sbaci");
    let o = baci("200000", &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let written: u64 = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let sectors = std::fs::read_to_string(root().join("data/mappings/sectors.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    let estimate = tradesim::workflow::data::synthetic_baci_bytes(200_000, sectors);
    let ratio = estimate as f64 / written as f64;
    assert!((0.95..1.05).contains(&ratio), "{estimate} vs {written}");

    let year = out.join("BACI_SYNTHETIC_Y2020.csv");
    let before = std::fs::read(&year).unwrap();
    let e = fails(baci("1000", &out, &[]));
    assert!(e.contains("pass --force"), "{e}");
    assert_eq!(
        std::fs::read(&year).unwrap(),
        before,
        "kept without --force"
    );
    let o = baci("1000", &out, &["--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = std::fs::read_to_string(&year).unwrap().lines().count();
    assert_eq!(lines, 1001, "replaced with --force");

    // A user's directory with a file of the same name: refused even with --force.
    let mine = t.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("BACI_SYNTHETIC_Y2020.csv"), "my data").unwrap();
    for extra in [&[][..], &["--force"][..]] {
        fails(baci("1000", &mine, extra));
        assert_eq!(
            std::fs::read_to_string(mine.join("BACI_SYNTHETIC_Y2020.csv")).unwrap(),
            "my data"
        );
    }
}

/// `data synthetic-fdi --out` a directory says it is one and to name a file, with or without
/// `--force` (it said to pass --force, which then failed with this message); an existing file
/// is replaced only with `--force`.
#[test]
fn synthetic_fdi_into_a_directory_or_over_a_file() {
    let t = tempfile::tempdir().unwrap();
    let fdi = |out: &Path, extra: &[&str]| {
        let mut args = vec!["data", "synthetic-fdi", "--economies", "3", "--out"];
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        tradesim(&args)
    };
    for extra in [&[][..], &["--force"][..]] {
        let o = fdi(t.path(), extra);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{e}");
        assert!(
            e.contains("is a directory; name a file to write") && !e.contains("--force"),
            "{e}"
        );
    }
    let f = t.path().join("fdi.csv");
    std::fs::write(&f, "mine").unwrap();
    let o = fdi(&f, &[]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("pass --force"));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "mine");
    assert!(fdi(&f, &["--force"]).status.success());
}
