//! Bad input gives an error naming the file and line and column (or CSV row) and saying what
//! to change; nothing panics.
mod common;
use common::*;
use std::path::Path;

/// Run `tradesim check` on a scenario text; return stderr, asserting a clean failure.
fn check_fails(dir: &Path, text: &str) -> String {
    let p = write(dir, "bad.ron", text);
    let o = tradesim(&["check", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(
        o.status.code(),
        Some(1),
        "expected a clean failure, got {:?}: {err}",
        o.status
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn scenario(agreement: &str) -> String {
    format!(
        "Scenario(\n    name: \"bad\",\n    baseline: Csv(\"{}\"),\n    base_year: 2014,\n    horizon: 2020,\n    agreements: [\n        {agreement}\n    ],\n)\n",
        tiny().display()
    )
}

#[test]
fn ron_syntax_error_has_line_and_column() {
    let d = tempfile::tempdir().unwrap();
    let text = scenario(r#"(name: "AB", entry_into_force: 2016 members: ["AAA", "BBB"])"#);
    let err = check_fails(d.path(), &text);
    assert!(err.contains("bad.ron:7:"), "{err}");
    assert!(
        err.contains("entry_into_force: 2016 members"),
        "the line is shown: {err}"
    );
}

#[test]
fn unknown_field_is_named_with_its_position_and_the_expected_fields() {
    let d = tempfile::tempdir().unwrap();
    let err = check_fails(
        d.path(),
        &scenario(r#"(name: "AB", entry_into_force: 2016, membres: ["AAA", "BBB"])"#),
    );
    assert!(err.contains("bad.ron:7:"), "{err}");
    assert!(
        err.contains("unknown field `membres`") && err.contains("members"),
        "{err}"
    );
}

#[test]
fn unknown_economy_code_is_located_and_the_valid_codes_listed() {
    let d = tempfile::tempdir().unwrap();
    let err = check_fails(
        d.path(),
        &scenario(r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "XYZ"])"#),
    );
    assert!(err.contains("bad.ron:7:"), "{err}");
    assert!(
        err.contains("unknown economy `XYZ`") && err.contains("AAA, BBB, CCC"),
        "{err}"
    );
}

#[test]
fn schedule_year_before_entry_into_force() {
    let d = tempfile::tempdir().unwrap();
    let err = check_fails(
        d.path(),
        &scenario(
            r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"], schedule: Path([(2015, 0.02)]))"#,
        ),
    );
    assert!(err.contains("bad.ron:7:"), "{err}");
    assert!(
        err.contains("Path year 2015 is before entry into force (2016)"),
        "{err}"
    );
}

#[test]
fn negative_rate() {
    let d = tempfile::tempdir().unwrap();
    let err = check_fails(
        d.path(),
        &scenario(
            r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"], schedule: Path([(2017, -0.02)]))"#,
        ),
    );
    assert!(err.contains("bad.ron:7:"), "{err}");
    assert!(err.contains("negative"), "{err}");
}

#[test]
fn several_errors_are_reported_at_once() {
    let d = tempfile::tempdir().unwrap();
    let err = check_fails(
        d.path(),
        &scenario(
            r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "QQQ"], schedule: Path([(2015, -1.0)]))"#,
        ),
    );
    assert!(err.contains("3 errors"), "{err}");
}

#[test]
fn baseline_without_domestic_flows_names_the_file() {
    let d = tempfile::tempdir().unwrap();
    let world = d.path().join("world");
    std::fs::create_dir(&world).unwrap();
    for f in ["economies.csv", "sectors.csv"] {
        std::fs::copy(tiny().join(f), world.join(f)).unwrap();
    }
    let flows = std::fs::read_to_string(tiny().join("flows.csv")).unwrap();
    let kept: Vec<&str> = flows
        .lines()
        .filter(|l| {
            let c: Vec<&str> = l.split(',').collect();
            !(c[1] == "BBB" && c[2] == "BBB")
        })
        .collect();
    write(&world, "flows.csv", &(kept.join("\n") + "\n"));
    let text = format!(
        "Scenario(name: \"x\", baseline: Csv(\"{}\"), base_year: 2014, horizon: 2015)",
        world.display()
    );
    let err = check_fails(d.path(), &text);
    assert!(
        err.contains("flows.csv") && err.contains("BBB has no domestic sales"),
        "{err}"
    );
}

#[test]
fn bad_csv_value_names_the_row() {
    let d = tempfile::tempdir().unwrap();
    let world = d.path().join("world");
    std::fs::create_dir(&world).unwrap();
    for f in ["economies.csv", "sectors.csv"] {
        std::fs::copy(tiny().join(f), world.join(f)).unwrap();
    }
    let flows = std::fs::read_to_string(tiny().join("flows.csv"))
        .unwrap()
        .replace("AGR,CCC,AAA,10,0.1", "AGR,CCC,AAA,-10,0.1");
    write(&world, "flows.csv", &flows);
    let text = format!(
        "Scenario(name: \"x\", baseline: Csv(\"{}\"), base_year: 2014, horizon: 2015)",
        world.display()
    );
    let err = check_fails(d.path(), &text);
    assert!(
        err.contains("flows.csv, row 4") && err.contains("must not be negative"),
        "{err}"
    );
}

#[test]
fn extends_cycle_and_missing_parent() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "a.ron",
        "Scenario(name: \"a\", extends: \"b.ron\")",
    );
    write(
        d.path(),
        "b.ron",
        "Scenario(name: \"b\", extends: \"a.ron\")",
    );
    let o = tradesim(&["check", d.path().join("a.ron").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cycle"), "{err}");
    let err = check_fails(d.path(), "Scenario(name: \"c\", extends: \"nowhere.ron\")");
    assert!(
        err.contains("bad.ron:1:") && err.contains("does not exist"),
        "{err}"
    );
}

#[test]
fn crlf_csv_rows_are_numbered_as_an_editor_shows_them() {
    let d = tempfile::tempdir().unwrap();
    let world = d.path().join("world");
    std::fs::create_dir(&world).unwrap();
    std::fs::copy(tiny().join("sectors.csv"), world.join("sectors.csv")).unwrap();
    let crlf = |text: String| text.replace('\n', "\r\n");
    write(
        &world,
        "economies.csv",
        &crlf(std::fs::read_to_string(tiny().join("economies.csv")).unwrap()),
    );
    let flows = std::fs::read_to_string(tiny().join("flows.csv"))
        .unwrap()
        .replace("AGR,CCC,AAA,10,0.1", "AGR,CCC,AAA,-10,0.1");
    write(&world, "flows.csv", &crlf(flows));
    let text = format!(
        "Scenario(name: \"x\", baseline: Csv(\"{}\"), base_year: 2014, horizon: 2015)",
        world.display()
    );
    let err = check_fails(d.path(), &text);
    assert!(err.contains("flows.csv, row 4"), "{err}");
}

#[test]
fn a_solver_that_does_not_converge_says_so_naming_the_economy() {
    let d = tempfile::tempdir().unwrap();
    let text = format!(
        "Scenario(name: \"stiff\", baseline: Csv(\"{}\"), base_year: 2014, years: [2016], solver: (max_iterations: 2),\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"])])",
        tiny().display()
    );
    let p = write(d.path(), "s.ron", &text);
    let out = d.path().join("out");
    let o = tradesim(&[
        "run",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("scenario `stiff`") && err.contains("did not converge in 2 iterations"),
        "{err}"
    );
    assert!(
        ["AAA", "BBB", "CCC"]
            .iter()
            .any(|c| err.contains(&format!("for economy {c};"))),
        "{err}"
    );
    assert!(!out.exists(), "no output from a failed run");
}
