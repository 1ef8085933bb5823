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

#[test]
fn schema_prints_a_json_schema_of_the_scenario_format() {
    let o = tradesim(&["schema"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["title"], "Scenario");
    assert!(v["$defs"]["Schedule"].is_object());
    assert!(v["properties"]["agreements"].is_object());
}
