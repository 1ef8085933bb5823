//! `--format json`, `--report`, `tradesim report` and `tradesim schema` through the binary, on
//! the tiny synthetic world (no browser: see browser_report.rs for rendering).
mod common;
use common::*;

fn scenario(dir: &std::path::Path) -> std::path::PathBuf {
    write(
        dir,
        "s.ron",
        &format!(
            "Scenario(\n    name: \"AB\",\n    baseline: Csv(\"{}\"),\n    base_year: 2014,\n    horizon: 2018,\n    agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], schedule: Linear(years: 2))],\n)\n",
            tiny().display()
        ),
    )
}

#[test]
fn json_tables_hold_the_same_rows_as_the_csvs() {
    let t = tempfile::tempdir().unwrap();
    let s = scenario(t.path());
    let out = t.path().join("out");
    let o = tradesim(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for name in ["economies", "bilateral", "tariffs", "solver"] {
        let (h, rows) = read_csv(&out.join(format!("{name}.csv")));
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let arr = v.as_array().unwrap();
        assert_eq!(arr.len(), rows.len(), "{name}: same number of rows");
        let obj = arr[0].as_object().unwrap();
        assert_eq!(obj.keys().len(), h.len(), "{name}: same columns");
        for (k, col) in h.iter().enumerate() {
            let j = &obj[col];
            let text = match j {
                serde_json::Value::String(s) => s.clone(),
                // An empty CSV cell (a value that does not apply) is null in JSON.
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            let csv = &rows[0][k];
            match (csv.parse::<f64>(), text.parse::<f64>()) {
                (Ok(a), Ok(b)) => assert!(
                    (a - b).abs() <= 1e-12 * a.abs().max(1.0),
                    "{name}.{col}: {a} vs {b}"
                ),
                _ => assert_eq!(&text, csv, "{name}.{col}"),
            }
        }
    }
    assert!(out.join("report_meta.json").is_file());
    assert!(
        !out.join("report.html").exists(),
        "no report without --report"
    );
}

#[test]
fn report_rebuilds_from_a_directory_and_compares_directories() {
    let t = tempfile::tempdir().unwrap();
    let s = scenario(t.path());
    let out = t.path().join("out");
    let o = tradesim(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success());
    // Without report_meta.json, --scenario supplies the agreements.
    std::fs::remove_file(out.join("report_meta.json")).unwrap();
    let o = tradesim(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("report_meta.json"),
        "the absent file is named"
    );
    assert!(html.contains("on the cells the scenario changes"));
    let o = tradesim(&[
        "report",
        out.to_str().unwrap(),
        "--scenario",
        s.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("AB: average applied tariff among members"));
    // A second run of another scenario joins with --compare; the same scenario twice is refused.
    let s2 = write(
        t.path(),
        "s2.ron",
        &std::fs::read_to_string(&s)
            .unwrap()
            .replace(
                "name: \"AB\",\n    baseline",
                "name: \"AB slow\",\n    baseline",
            )
            .replace("Linear(years: 2)", "Linear(years: 4)"),
    );
    let out2 = t.path().join("out2");
    assert!(tradesim(&[
        "run",
        s2.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
        "--quiet"
    ])
    .status
    .success());
    let o = tradesim(&[
        "report",
        out.to_str().unwrap(),
        "--compare",
        out2.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Options compared: real income"));
    let o = tradesim(&[
        "report",
        out.to_str().unwrap(),
        "--compare",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("scenario `AB` is also in"));
}

#[test]
fn report_errors_say_what_where_and_how() {
    let t = tempfile::tempdir().unwrap();
    let o = tradesim(&["report", t.path().to_str().unwrap()]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("no economies.csv here") && e.contains("tradesim run"),
        "{e}"
    );
    // A damaged table names the file and row.
    write(
        t.path(),
        "economies.csv",
        "scenario,year,draw,economy,exports_base,exports,imports_base,imports,real_income_pct,welfare_pct,tot_pct,vot_pct,real_wage_pct,tariff_revenue_base,tariff_revenue\nS,2015,0,AAA,1,1,1,1,0,0,0,0,0,0,0\nS,20x6,0,AAA,1,1,1,1,0,0,0,0,0,0,0\n",
    );
    let o = tradesim(&["report", t.path().to_str().unwrap()]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("economies.csv, row 3"), "{e}");
    assert!(
        !t.path().join("report.html").exists(),
        "nothing written on error"
    );
    // A scenario file whose name is not in the tables.
    let s = scenario(t.path());
    let o = tradesim(&[
        "report",
        t.path().to_str().unwrap(),
        "--scenario",
        s.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
}

/// Run `scenario` into `dir/name` and return the output directory.
fn run_into(scenario: &std::path::Path, dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let out = dir.join(name);
    run_quietly(scenario, &out);
    out
}

/// The scenario of [`scenario`] (already in `dir`) to 2020, named "AB longer", run into
/// `dir/out2`.
fn longer_run(dir: &std::path::Path) -> std::path::PathBuf {
    let s2 = write(
        dir,
        "s2.ron",
        "Scenario(name: \"AB longer\", extends: \"s.ron\", horizon: 2020)",
    );
    run_into(&s2, dir, "out2")
}

/// `tradesim report DIR ARGS…`: its exit status and stderr.
fn report(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let mut a = vec!["report", dir.to_str().unwrap()];
    a.extend_from_slice(args);
    let o = tradesim(&a);
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// Probe B finding 4: without report_meta.json the comparison comes from the tables'
/// `compared_with` column; when report_meta.json says otherwise, the report says so.
#[test]
fn the_report_takes_the_comparison_from_the_tables() {
    let t = tempfile::tempdir().unwrap();
    scenario(t.path());
    let r = write(
        t.path(),
        "r.ron",
        "Scenario(name: \"AB vs reference\", extends: \"s.ron\", compared_with: Reference(file: \"s.ron\", without: [\"AB\"]))",
    );
    let out = run_into(&r, t.path(), "out");
    let meta = std::fs::read_to_string(out.join("report_meta.json")).unwrap();
    std::fs::remove_file(out.join("report_meta.json")).unwrap();
    let (ok, e) = report(&out, &[]);
    assert!(ok, "{e}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("Percent changes are against the reference path in the same year"),
        "the header follows the tables"
    );
    assert!(html.contains("percent change against the reference path in the same year"));
    assert!(
        !html.contains("against the solved baseline"),
        "no base-year wording"
    );
    // report_meta.json saying the base year while the tables say `reference`: the report says so.
    let mut m: serde_json::Value = serde_json::from_str(&meta).unwrap();
    m["scenarios"][0]["compared_with"]["kind"] = "base_year".into();
    m["scenarios"][0]["compared_with"]["description"] = "the solved base year".into();
    write(&out, "report_meta.json", &m.to_string());
    let (ok, e) = report(&out, &[]);
    assert!(ok, "{e}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains(
            "report_meta.json says the changes of AB vs reference are against the solved base year"
        ) && html.contains("compared_with column says `reference`")
            && html.contains("this report follows the tables"),
        "the disagreement is named"
    );
    assert!(html.contains("percent change against the reference path in the same year"));
}

/// Probe B finding 6: hand-edited tables (a row deleted or repeated, NaN, inf, a renamed
/// column) are refused naming file, row, column and what to do; nothing is written.
#[test]
fn the_report_refuses_edited_tables_naming_file_row_and_column() {
    let t = tempfile::tempdir().unwrap();
    let s = scenario(t.path());
    let out = run_into(&s, t.path(), "out");
    let econ = std::fs::read_to_string(out.join("economies.csv")).unwrap();
    let bil = std::fs::read_to_string(out.join("bilateral.csv")).unwrap();
    let lines: Vec<&str> = econ.lines().collect();
    let check = |file: &str, text: String, wants: &[&str]| {
        let d = t.path().join("edited");
        let _ = std::fs::remove_dir_all(&d);
        copy_dir(&out, &d);
        write(&d, file, &text);
        let (ok, e) = report(&d, &[]);
        assert!(!ok, "{file} edited: refused");
        for w in wants {
            assert!(e.contains(w), "{w:?} in {e}");
        }
        assert!(!d.join("report.html").exists(), "nothing written");
    };
    // Row 3 (the second economy of the first year) deleted.
    let deleted = lines[2].split(',').nth(3).unwrap().to_string();
    let mut cut = lines.clone();
    cut.remove(2);
    check(
        "economies.csv",
        cut.join("\n") + "\n",
        &[
            "economies.csv, row 2:",
            &format!("no row for {deleted}"),
            "run (or merge) again",
        ],
    );
    // A row repeated.
    let mut twice = lines.clone();
    twice.insert(3, lines[2]);
    check(
        "economies.csv",
        twice.join("\n") + "\n",
        &["economies.csv, row 4:", "a second row for"],
    );
    // NaN in real_income_pct (column 9).
    let mut nan = lines.clone();
    let mut cells: Vec<&str> = lines[2].split(',').collect();
    cells[8] = "NaN";
    let nan_row = cells.join(",");
    nan[2] = &nan_row;
    check(
        "economies.csv",
        nan.join("\n") + "\n",
        &[
            "economies.csv, row 3:",
            "column `real_income_pct` is NaN",
            "run (or merge) again",
        ],
    );
    // inf in a bilateral value (column 8).
    let mut b: Vec<String> = bil.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = b[4].split(',').map(str::to_string).collect();
    cells[7] = "inf".into();
    b[4] = cells.join(",");
    check(
        "bilateral.csv",
        b.join("\n") + "\n",
        &["bilateral.csv, row 5:", "column `value` is inf"],
    );
    // An economy renamed in every row of economies.csv (AAA → AAX): named at its first row,
    // with the economy the run wrote (was "no row for AAA (44 of the 45 economies …)").
    let aaa: Vec<String> = lines
        .iter()
        .map(|l| {
            let mut c: Vec<&str> = l.split(',').collect();
            if c.get(3) == Some(&"AAA") {
                c[3] = "AAX";
            }
            c.join(",")
        })
        .collect();
    let first = aaa.iter().position(|l| l.contains(",AAX,")).unwrap() + 1;
    check(
        "economies.csv",
        aaa.join("\n") + "\n",
        &[
            &format!("economies.csv, row {first}:"),
            "column `economy` is `AAX`, which is not one of the",
            "did you mean `AAA`?",
        ],
    );
    // A renamed column is named at the header, with the columns present and the closest.
    check(
        "economies.csv",
        econ.replacen("real_income_pct", "real_inc_pct", 1),
        &[
            "economies.csv, row 1:",
            "no column `real_income_pct`",
            "the closest is `real_inc_pct`",
            "its columns are: scenario, year",
        ],
    );
    // A column deleted: no other column that the report reads is offered to rename.
    let dropped: String = econ
        .lines()
        .map(|l| {
            let mut c: Vec<&str> = l.split(',').collect();
            c.remove(8);
            c.join(",") + "\n"
        })
        .collect();
    check(
        "economies.csv",
        dropped,
        &[
            "economies.csv, row 1: the header has no column `real_income_pct` (it was deleted, or the file is not a table of this kind)",
        ],
    );
    // The other tables: a row repeated would count twice in the report's sums; an economy,
    // scenario or year that economies.csv lacks is a table of another run, or an edit.
    let repeated = |file: &str, k: usize| {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        let mut v: Vec<&str> = text.lines().collect();
        v.insert(k + 1, v[k]);
        v.join("\n") + "\n"
    };
    let b2 = bil.lines().nth(2).unwrap().to_string();
    for (file, k, first) in [("bilateral.csv", 2, "row 3"), ("tariffs.csv", 1, "row 2")] {
        let row = format!(
            "{file}, row {}: a second row for scenario `AB`, year",
            k + 2
        );
        let first = format!("(the first is {first}), which would count twice in the report");
        check(
            file,
            repeated(file, k),
            &[&row, &first, "run (or merge) again"],
        );
    }
    check(
        "solver.csv",
        repeated("solver.csv", 2),
        &[
            "solver.csv, row 4: a second row for scenario `AB`",
            "stage ",
        ],
    );
    let mut renamed = bil.lines().map(str::to_string).collect::<Vec<_>>();
    renamed[2] = b2.replacen(",AAA,", ",AAX,", 1);
    assert_ne!(renamed[2], b2, "the row names AAA: {b2}");
    check(
        "bilateral.csv",
        renamed.join("\n") + "\n",
        &[
            "bilateral.csv, row 3:",
            "`AAX` is not an economy of scenario `AB` in economies.csv (did you mean `AAA`?)",
            "different runs or one was edited",
        ],
    );
    let tariffs = std::fs::read_to_string(out.join("tariffs.csv")).unwrap();
    check(
        "tariffs.csv",
        tariffs.replace("\nAB,", "\nAB longer,"),
        &["tariffs.csv, row 2: scenario `AB longer` has no rows in economies.csv (its scenarios: AB)"],
    );
    check(
        "economies.csv",
        String::new(),
        &["economies.csv, row 1: the file is empty"],
    );
    check(
        "economies.csv",
        lines[0].to_string() + "\n",
        &["economies.csv, row 2: no rows under the header"],
    );
}

/// Probe B finding 7: directories of different worlds are not compared as options; bars of
/// different last years say their year.
#[test]
fn the_report_compares_only_directories_of_the_same_world_and_labels_years() {
    let t = tempfile::tempdir().unwrap();
    let s = scenario(t.path());
    let out = run_into(&s, t.path(), "out");
    let w = t.path().join("W");
    let o = tradesim(&[
        "data",
        "synthetic-world",
        "--economies",
        "3",
        "--sectors",
        "2",
        "--out",
        w.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let syn = run_into(&w.join("scenario.ron"), t.path(), "syn");
    let (ok, e) = report(&out, &["--compare", syn.to_str().unwrap()]);
    assert!(!ok, "different worlds refused");
    assert!(
        e.contains(&format!(
            "{}: its scenarios were solved on another world than those of {}",
            syn.display(),
            out.display()
        )) && e.contains("economies: 3 in")
            && e.contains("0 in common")
            && e.contains("compare directories run on the same baseline"),
        "{e}"
    );
    // The same world, two horizons: each scenario's bars say their year.
    let out2 = longer_run(t.path());
    let (ok, e) = report(&out, &["--compare", out2.to_str().unwrap()]);
    assert!(ok, "{e}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("Scenarios: AB (2018); AB longer (2020)."),
        "bars labelled by year"
    );
}

/// Probe B finding 8: a shard of a batch is refused with the merge to run first.
#[test]
fn the_report_on_a_shard_says_to_merge_first() {
    let t = tempfile::tempdir().unwrap();
    let b = tiny_batch(t.path(), 2, THETA_LOGNORMAL);
    let shard = t.path().join("s2");
    let o = tradesim(&[
        "batch",
        b.to_str().unwrap(),
        "--shard",
        "2/3",
        "--out",
        shard.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (ok, e) = report(&shard, &[]);
    assert!(!ok);
    assert!(
        e.contains("this is shard 2/3 of batch `t`")
            && e.contains("tradesim merge")
            && e.contains("tradesim report MERGED"),
        "{e}"
    );
    assert!(!shard.join("report.html").exists());
}

/// A `report.html` edited by hand after tradesim wrote it is kept: `tradesim report` replaces
/// it only with `--force` (it used to check only that the marker listed the name). An output
/// of an older version, whose marker has no fingerprints, is still reported on.
#[test]
fn a_report_edited_by_hand_is_replaced_only_with_force() {
    let t = tempfile::tempdir().unwrap();
    let s = scenario(t.path());
    let out = run_into(&s, t.path(), "out");
    let html = out.join("report.html");
    let (ok, e) = report(&out, &[]);
    assert!(ok, "{e}");
    let (ok, e) = report(&out, &[]);
    assert!(ok, "an unedited report is replaced: {e}");
    let edited = std::fs::read_to_string(&html)
        .unwrap()
        .replace("</body>", "<p>My notes for the minister.</p></body>");
    std::fs::write(&html, &edited).unwrap();
    let (ok, e) = report(&out, &["--focus", "BBB"]);
    assert!(!ok);
    assert!(
        e.contains(&format!(
            "{}: was changed after tradesim wrote it",
            html.display()
        )) && e.contains("move or rename it")
            && e.contains("pass --force to replace it"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&html).unwrap(), edited, "kept");
    let (ok, e) = report(&out, &["--force"]);
    assert!(ok, "{e}");
    assert!(!std::fs::read_to_string(&html).unwrap().contains("My notes"));
    let (ok, e) = report(&out, &[]);
    assert!(ok, "the replaced report is tradesim's again: {e}");
    // A marker of an older version (no fingerprints, written after the report): reported on.
    let marker = out.join(".tradesim-output");
    let old: String = std::fs::read_to_string(&marker)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("# as written: "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&marker, old).unwrap();
    let (ok, e) = report(&out, &[]);
    assert!(ok, "{e}");
    // From a run with --report too.
    let out2 = t.path().join("out2");
    let o = tradesim(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
        "--quiet",
        "--report",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(out2.join("report.html"), "mine").unwrap();
    let (ok, e) = report(&out2, &[]);
    assert!(
        !ok && e.contains("was changed after tradesim wrote it"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(out2.join("report.html")).unwrap(),
        "mine"
    );
}

/// Probe B findings 9 and 10: `--focus` codes are trimmed and kept once, a wrong case is
/// suggested with every directory's economies named; a missing directory is said to be missing.
#[test]
fn focus_codes_are_trimmed_deduplicated_and_suggested() {
    let t = tempfile::tempdir().unwrap();
    let s = scenario(t.path());
    let out = run_into(&s, t.path(), "out");
    let (ok, e) = report(&out, &["--focus", "BBB, AAA,BBB"]);
    assert!(ok, "{e}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("the focus economies (BBB, AAA)"),
        "each once, trimmed"
    );
    let out2 = longer_run(t.path());
    let (ok, e) = report(
        &out,
        &["--focus", "aaa", "--compare", out2.to_str().unwrap()],
    );
    assert!(!ok);
    assert!(
        e.contains("--focus: economy `aaa` is not in")
            && e.contains("did you mean `AAA`?")
            && e.contains(&out2.join("economies.csv").display().to_string()),
        "{e}"
    );
    let (ok, e) = report(&t.path().join("nope"), &[]);
    assert!(!ok);
    assert!(
        e.contains("nope: does not exist") && e.contains("tradesim run"),
        "{e}"
    );
}

#[test]
fn schema_prints_a_json_schema_of_the_scenario_format() {
    let o = tradesim(&["schema"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["title"], "Scenario");
    assert!(v["$defs"]["Schedule"].is_object());
    assert!(v["properties"]["agreements"].is_object());
}
