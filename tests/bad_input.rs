//! Bad input gives an error naming the file and line and column (or CSV row) and saying what
//! to change; nothing panics.
mod common;
use common::*;
use std::path::Path;

/// Run `tradesim check` on a scenario text; return stderr, asserting a clean failure.
fn check_fails(dir: &Path, text: &str) -> String {
    check_file_fails(&write(dir, "bad.ron", text))
}

/// Run `tradesim check` on a file; return stderr, asserting a clean failure.
fn check_file_fails(p: &Path) -> String {
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

/// A value of the wrong shape (a text for a list, a map written as a list of tuples,
/// `Linear(10)`, a boolean written as text) is answered with what the field takes, in RON,
/// read from the format's schema, not with the parser's words alone ("Found invalid std
/// identifier "10", try the raw identifier `r#10`").
#[test]
fn a_value_of_the_wrong_shape_is_answered_with_what_the_field_takes() {
    let d = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            r#"(name: "AB", entry_into_force: 2016, members: "AAA")"#,
            "bad.ron:7:54",
            &["`members` takes a list, `[\"…\", …]`"],
        ),
        (
            r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"], schedule: Linear(4))"#,
            "bad.ron:7:88",
            &[
                "`4` is not a name that can stand here",
                "`schedule` takes one of `Immediate`, `Linear(years: N, to: X)`, `Staged([(N, X), …])`",
            ],
        ),
        (
            r#"(name: "AB", entry_into_force: 2016, members: ["AAA"], accessions: [("BBB", 2018)])"#,
            "bad.ron:7:75",
            &["`accessions` takes different values in different places: in `Agreement`, a map, `{ \"…\": N, … }`: members joining later"],
        ),
        (
            r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"], in_baseline: "no")"#,
            "bad.ron:7:83",
            &["`in_baseline` takes `true` or `false`"],
        ),
    ];
    for (agreement, at, says) in cases {
        let err = check_fails(d.path(), &scenario(agreement));
        assert!(err.contains(at), "{at}: {err}");
        for s in says {
            assert!(err.contains(s), "{s}: {err}");
        }
        assert!(!err.contains("raw identifier"), "{err}");
    }
}

/// Mistakes in a scenario's `accessions: { agreement: { code: year } }` are errors at the
/// entry: an agreement it does not have (named once, with did-you-mean), an unknown economy, a
/// founding member, a year before entry into force; in `withdrawals`, a non-member or a year
/// not after it joins.
#[test]
fn accessions_by_agreement_name_are_checked_at_the_entry() {
    let d = tempfile::tempdir().unwrap();
    let with = |accessions: &str| {
        scenario(r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"])"#).replace(
            "    agreements:",
            &format!("    accessions: {accessions},\n    agreements:"),
        )
    };
    let cases: [(&str, &[&str]); 4] = [
        (
            r#"{ "BA": { "CCC": 2018, "DDD": 2019 } }"#,
            &["bad.ron:6:19: `accessions` names agreement `BA`, which this scenario does not have; did you mean `AB`?"],
        ),
        (
            r#"{ "AB": { "CCX": 2018 } }"#,
            &["bad.ron:6:27: `accessions` of `AB`: unknown economy `CCX`; did you mean `CCC`?"],
        ),
        (
            r#"{ "AB": { "AAA": 2018 } }"#,
            &["bad.ron:6:27: `accessions` of `AB`: `AAA` is a member of `AB` from its entry into force in 2016; leave it out"],
        ),
        (
            r#"{ "AB": { "CCC": 2015 } }"#,
            &["bad.ron:6:27: `accessions` of `AB`: `CCC` accedes in 2015, before `AB` enters into force in 2016"],
        ),
    ];
    for (accessions, says) in cases {
        let err = check_fails(d.path(), &with(accessions));
        for s in says {
            assert!(err.contains(s), "{s}: {err}");
        }
        assert!(!err.contains("2 errors"), "{err}");
    }
    // `withdrawals` by name: of a member only, after it joins.
    let with = |withdrawals: &str| {
        with("{}").replace("accessions: {}", &format!("withdrawals: {withdrawals}"))
    };
    for (withdrawals, says) in [
        (r#"{ "AB": { "CCC": 2018 } }"#, "bad.ron:6:28: `withdrawals` of `AB`: `CCC` is not a member of `AB`, so it cannot withdraw"),
        (r#"{ "AB": { "AAA": 2016 } }"#, "bad.ron:6:28: `withdrawals` of `AB`: `AAA` withdraws in 2016, not after it joins `AB` in 2016"),
        (r#"{ "BA": { "AAA": 2018 } }"#, "bad.ron:6:20: `withdrawals` names agreement `BA`, which this scenario does not have; did you mean `AB`?"),
    ] {
        let err = check_fails(d.path(), &with(withdrawals));
        assert!(err.contains(says), "{says}: {err}");
    }
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
    // A spreadsheet's formatting: how to write the number instead.
    for (cell, says) in [
        ("\"1,000\",0.1", "without thousands separators"),
        ("10,\"0,1\"", "with a decimal point"),
        ("10,10%", "without the percent sign"),
    ] {
        let flows = std::fs::read_to_string(tiny().join("flows.csv"))
            .unwrap()
            .replace("AGR,CCC,AAA,10,0.1", &format!("AGR,CCC,AAA,{cell}"));
        write(&world, "flows.csv", &flows);
        let err = check_fails(d.path(), &text);
        assert!(
            err.contains("flows.csv, row 4") && err.contains(says),
            "{cell}: {err}"
        );
    }
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
    // The solve (year or baseline), the residual reached against its tolerance, the fix.
    assert!(
        err.contains("scenario `stiff`, the baseline:")
            || err.contains("scenario `stiff`, year 2016:"),
        "{err}"
    );
    assert!(
        err.contains("the largest factor-market residual (relative to value added) is ")
            && err.contains("(tolerance 1e-10)")
            && err.contains("raise solver.max_iterations or lower solver.step"),
        "{err}"
    );
    assert!(!out.exists(), "no output from a failed run");
}

#[test]
fn solver_settings_out_of_range_are_refused_at_their_field() {
    let d = tempfile::tempdir().unwrap();
    let text = format!(
        "Scenario(name: \"x\", baseline: Csv(\"{}\"), base_year: 2014, years: [2016],\n solver: (max_iterations: 0,\n  step: 1.5))",
        tiny().display()
    );
    let err = check_fails(d.path(), &text);
    assert!(
        err.contains("bad.ron:2:11: solver `max_iterations` = 0: at least 1 iteration is needed"),
        "{err}"
    );
    assert!(
        err.contains("bad.ron:3:3: solver `step` = 1.5 is not in (0, 1]")
            && err.contains("leave it out for the default, 0.5"),
        "{err}"
    );
}

#[test]
fn gravity_solver_settings_out_of_range_are_refused_at_their_field() {
    // The one-sector loader places its solver errors like the multi-sector one: file, line
    // and column of the field inside `solver: (…)`, before the data file is read.
    let d = tempfile::tempdir().unwrap();
    let text = "StructuralGravity(name: \"x\", data: \"d.csv\", year: 2006, sigma: 5, reference: \"DEU\",\n costs: Coefficients(coefficients: {}), counterfactual: [RemoveBorder()],\n solver: (tolerance: 0.5,\n  max_iterations: 0))";
    let err = check_fails(d.path(), text);
    assert!(
        err.contains("bad.ron:3:11: solver `tolerance` = 0.5 is not in (0, 1e-3]")
            && err.contains("leave it out for the default, 1e-12"),
        "{err}"
    );
    assert!(
        err.contains("bad.ron:4:3: solver `max_iterations` = 0: at least 1 iteration is needed"),
        "{err}"
    );
}

/// Run `tradesim check` on a file expected to pass; return stderr (the warnings).
fn check_warns(dir: &Path, name: &str, text: &str) -> String {
    let p = write(dir, name, text);
    let o = tradesim(&["check", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "expected a pass with warnings: {err}");
    err
}

/// The tiny world with one file changed by `edit`; returns the scenario path on it.
fn tiny_edited(dir: &Path, file: &str, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    let world = dir.join("world");
    std::fs::create_dir_all(&world).unwrap();
    for f in ["economies.csv", "sectors.csv", "flows.csv", "io.csv"] {
        std::fs::copy(tiny().join(f), world.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(world.join(file)).unwrap();
    write(&world, file, &edit(text));
    write(
        dir,
        "s.ron",
        "Scenario(name: \"s\", baseline: Csv(\"world\"), base_year: 2014, horizon: 2016,\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"])])",
    )
}

// Issue 14, item 5.
#[test]
fn an_agreement_defined_twice_in_one_file_is_an_error_naming_both_places() {
    let d = tempfile::tempdir().unwrap();
    let err = check_fails(
        d.path(),
        &scenario(
            "(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"]),\n        (name: \"AB\", entry_into_force: 2017, members: [\"AAA\", \"CCC\"]),",
        ),
    );
    assert!(
        err.contains("bad.ron:8:") && err.contains("defined twice") && err.contains("bad.ron:7:"),
        "{err}"
    );
}

// Issue 14, items 7 and 16: θ and β out of range name the real problem.
#[test]
fn elasticities_and_depth_effects_outside_their_ranges_are_errors_that_say_so() {
    let d = tempfile::tempdir().unwrap();
    for (theta, what) in [
        ("1e-10", "a θ this small"),
        ("1e9", "a θ this large"),
        ("-2.0", "positive"),
    ] {
        let text = format!(
            "Scenario(name: \"bad\", baseline: Csv(\"{}\"), base_year: 2014, horizon: 2016,\n elasticities: {{\"AGR\": Value({theta})}})",
            tiny().display()
        );
        let err = check_fails(d.path(), &text);
        assert!(
            err.contains("bad.ron:2:") && err.contains("0.1 to 100")
                || err.contains("between 0.1 and 100"),
            "{err}"
        );
        assert!(err.contains(what), "{theta}: {err}");
        assert!(!err.contains("no supplier"), "{err}");
    }
    let err = check_fails(
        d.path(),
        &scenario("(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], depth: Given(beta: 800, phase_in_years: 5))"),
    );
    assert!(
        err.contains("bad.ron:7:") && err.contains("β = 800") && err.contains("at most 5"),
        "{err}"
    );
}

// Issue 14, item 14.
#[test]
fn deep_extends_chains_far_horizons_and_endless_files_are_refused() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "c0.ron",
        &format!(
            "Scenario(name: \"c0\", baseline: Csv(\"{}\"), base_year: 2014, horizon: 2015)",
            tiny().display()
        ),
    );
    for k in 1..=2000 {
        write(
            d.path(),
            &format!("c{k}.ron"),
            &format!("Scenario(name: \"c{k}\", extends: \"c{}.ron\")", k - 1),
        );
    }
    let o = tradesim(&["check", d.path().join("c2000.ron").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("more than 32 files deep"), "{err}");
    // Within the cap, a chain works.
    let o = tradesim(&["check", d.path().join("c20.ron").to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let err = check_fails(
        d.path(),
        &format!(
            "Scenario(name: \"far\", baseline: Csv(\"{}\"), base_year: 2014, horizon: 2147483647)",
            tiny().display()
        ),
    );
    assert!(err.contains("more than 200 years after base_year"), "{err}");
    let err = check_fails(d.path(), "Scenario(name: \"z\", extends: \"/dev/zero\")");
    assert!(
        err.contains("/dev/zero") && err.contains("larger than 4 MiB"),
        "{err}"
    );
}

// Issue 14, item 15: what used to be accepted without a word.
#[test]
fn silent_acceptance_becomes_an_error_or_a_warning_saying_what_to_do() {
    let d = tempfile::tempdir().unwrap();
    // A new agreement entering before the base year: a warning.
    let err = check_warns(
        d.path(),
        "early.ron",
        &scenario("(name: \"AB\", entry_into_force: 2012, members: [\"AAA\", \"BBB\"])"),
    );
    assert!(
        err.contains("warning: ")
            && err.contains("early.ron:7:")
            && err.contains("not after base_year 2014")
            && err.contains("set entry_into_force after 2014"),
        "{err}"
    );
    // A withdrawal before entry into force: a warning.
    let err = check_warns(
        d.path(),
        "gone.ron",
        &scenario("(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\", \"CCC\"], withdrawals: {\"CCC\": 2015})"),
    );
    assert!(
        err.contains("`CCC` withdraws in 2015, not after it joins (2016)"),
        "{err}"
    );
    // A Staged fraction above 1 (80 meant as a percent): an error.
    let err = check_fails(
        d.path(),
        &scenario("(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], schedule: Staged([(0, 80)]))"),
    );
    assert!(
        err.contains("Staged step (0, 80)") && err.contains("0.8 = 80%"),
        "{err}"
    );
    // A repeated Path year: an error.
    let err = check_fails(
        d.path(),
        &scenario("(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], schedule: Path([(2017, 0.05), (2017, 0.02)]))"),
    );
    assert!(err.contains("Path year 2017 is given twice"), "{err}");
    // `horizon` and `years` together: an error.
    let err = check_fails(
        d.path(),
        &format!(
            "Scenario(name: \"b\", baseline: Csv(\"{}\"), base_year: 2014,\n horizon: 2020,\n years: [2016])",
            tiny().display()
        ),
    );
    assert!(
        err.contains("bad.ron:3:") && err.contains("both `horizon` and `years`"),
        "{err}"
    );
    // A child's `horizon` replaces its parent's `years` (it used to be ignored).
    write(
        d.path(),
        "parent.ron",
        &format!(
            "Scenario(name: \"p\", baseline: Csv(\"{}\"), base_year: 2014, years: [2016])",
            tiny().display()
        ),
    );
    let p = write(
        d.path(),
        "child.ron",
        "Scenario(name: \"c\", extends: \"parent.ron\", horizon: 2018)",
    );
    let o = tradesim(&["check", p.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("years: 2014–2018"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Tariffs given in percent in flows.csv: an error.
    let s = tiny_edited(d.path(), "flows.csv", |t| {
        t.lines()
            .map(|l| match l.rsplit_once(',') {
                Some((head, tail)) if tail.parse::<f64>().is_ok() => {
                    format!("{head},{}", tail.parse::<f64>().unwrap() * 100.0)
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    let o = tradesim(&["check", s.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("flows.csv, row") && err.contains("look like percentages"),
        "{err}"
    );
    // A misspelt optional CSV column: an error.
    let s = tiny_edited(d.path(), "economies.csv", |t| {
        t.lines()
            .map(|l| {
                if l == "code,name" {
                    "code,name,valu_added".to_string()
                } else {
                    format!("{l},100")
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    });
    let o = tradesim(&["check", s.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("economies.csv, row 1") && err.contains("did you mean `value_added`"),
        "{err}"
    );
}

// Issue 14, item 4.
#[test]
fn shares_within_the_tolerance_are_rescaled_and_the_run_converges() {
    let d = tempfile::tempdir().unwrap();
    let s = tiny_edited(d.path(), "io.csv", |t| {
        t.replacen("AAA,AGR,VA,0.6\n", "AAA,AGR,VA,0.6000001\n", 1)
    });
    let err = run_quietly(&s, &d.path().join("out"));
    assert!(
        err.contains("io.csv")
            && err.contains("rescaled to sum to 1")
            && err.contains("economy AAA, sector AGR"),
        "{err}"
    );
}

// Issue 14, item 16.
#[test]
fn messages_point_at_the_right_field_and_suggest_the_name_meant() {
    let d = tempfile::tempdir().unwrap();
    // The caret sits on `horizon`, also when the name mentions a horizon or a parent sets it.
    let text = format!(
        "Scenario(\n    name: \"short horizon\",\n    baseline: Csv(\"{}\"),\n    base_year: 2014,\n    horizon: 2012,\n)\n",
        tiny().display()
    );
    let err = check_fails(d.path(), &text);
    assert!(
        err.contains("bad.ron:5:5: horizon 2012 is before base_year 2014"),
        "{err}"
    );
    write(d.path(), "parent.ron", &text);
    let err = check_fails(d.path(), "Scenario(name: \"c\", extends: \"parent.ron\")");
    assert!(err.contains("parent.ron:5:5:"), "{err}");
    // A negative count names the field and what it takes.
    let err = check_fails(
        d.path(),
        &scenario("(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], schedule: Linear(years: -5))"),
    );
    assert!(
        err.contains("`years` takes a whole number of years")
            && !err.contains("Integer is out of bounds"),
        "{err}"
    );
    // A misspelt agreement name: did you mean.
    let err = check_fails(
        d.path(),
        &format!(
            "Scenario(name: \"x\", extends: \"{}\", horizon: 2016, remove_agreements: [\"Japan-Chile\"])",
            root().join("scenarios/baseline-2014.ron").display()
        ),
    );
    assert!(
        err.contains("did you mean `Japan-Chile EPA`?") && !err.contains("NAFTA"),
        "{err}"
    );
    // Internal type names do not leak.
    let err = check_fails(
        d.path(),
        &scenario("(name: \"AB\", entry_into_force: 2016, membres: [\"AAA\", \"BBB\"])"),
    );
    assert!(
        err.contains("in `Agreement`") && !err.contains("Raw"),
        "{err}"
    );
    // The sector code VA is reserved for value added in io.csv.
    let s = tiny_edited(d.path(), "sectors.csv", |t| t.replace("SRV,", "VA,"));
    let o = tradesim(&["check", s.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("sectors.csv, row") && err.contains("`VA` is reserved"),
        "{err}"
    );
    assert!(!err.contains("duplicate row"), "{err}");
}

/// An error in one of an agreement's per-importer or per-sector schedules points at that
/// schedule, not at the agreement's own: here the second rule's `to: 1.5`, on line 10, where
/// the agreement's `schedule:` (line 8, with a valid `to`) was shown before.
#[test]
fn a_bad_rule_schedule_is_pointed_at() {
    let d = tempfile::tempdir().unwrap();
    let text = scenario(
        "(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"],\n         schedule: Linear(years: 5, to: 0.5),\n         schedules: [(importer: Some(\"AAA\"), schedule: Linear(years: 5, to: 0.2)),\n                     (importer: Some(\"BBB\"), schedule: Linear(years: 5, to: 1.5))])",
    );
    let err = check_fails(d.path(), &text);
    assert!(err.contains("Linear `to` is 1.5"), "{err}");
    assert!(err.contains("bad.ron:10:"), "{err}");
    assert!(
        err.contains("(importer: Some(\"BBB\"), schedule: Linear(years: 5, to: 1.5))"),
        "the line is shown: {err}"
    );
}

/// A new agreement's depth that no member pair gets (each already in an earlier agreement at
/// least as deep) is said to change nothing, with the fix; one some pairs get is not.
#[test]
fn a_depth_no_member_pair_gets_is_a_warning_with_the_fix() {
    let d = tempfile::tempdir().unwrap();
    let world = format!(
        "Scenario(name: \"up\", baseline: Csv(\"{}\"), base_year: 2014, horizon: 2030,\n agreements: [\n",
        tiny().display()
    );
    let old = "(name: \"AB 2012\", entry_into_force: 2012, in_baseline: Some(true), members: [\"AAA\", \"BBB\"])";
    let upgrade = |members: &str, pairs: &str| {
        format!(
            "{world}  {old},\n  (name: \"AB upgrade\", entry_into_force: 2020, members: [{members}],\n   depth: Given(beta: 0.2, phase_in_years: 4{pairs}))])"
        )
    };
    let err = check_warns(d.path(), "up.ron", &upgrade("\"AAA\", \"BBB\"", ""));
    assert!(
        err.contains("up.ron:5:4:")
            && err.contains(
                "`AB upgrade`: its depth (β 0.2) applies to none of its 2 member pairs in 2030"
            )
            && err.contains("(AB 2012;")
            && err.contains("write `pairs: AllMembers`"),
        "{err}"
    );
    // Said so, the depth applies, and nothing is said; nor when a new member gets it. The
    // agreement's description says how many pairs get it, and what keeps it from the others.
    for (members, pairs, covered) in [
        ("\"AAA\", \"BBB\"", "", "in 2030, 0 of its 2 member pairs (the others already in an agreement at least as deep: AB 2012)"),
        ("\"AAA\", \"BBB\"", ", pairs: AllMembers", "in 2030, 2 of its 2 member pairs\n"),
        ("\"AAA\", \"BBB\", \"CCC\"", "", "in 2030, 4 of its 6 member pairs (the others already in an agreement at least as deep: AB 2012)"),
    ] {
        let p = write(d.path(), "up.ron", &upgrade(members, pairs));
        let o = tradesim(&["check", p.to_str().unwrap()]);
        let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "{err}");
        assert!(out.contains(covered), "{members}{pairs}: {out}");
        if !covered.contains(" 0 of") {
            assert!(!err.contains("applies to none"), "{members}{pairs}: {err}");
        }
    }
}

/// `check` reads a structural gravity file's data as `run` does: a missing file (with where
/// paths start), an incomplete year and a bad counterfactual column fail there, not at `run`.
#[test]
fn check_reads_a_gravity_files_data() {
    let d = tempfile::tempdir().unwrap();
    let scenario = |data: &str, column: &str| {
        format!(
            "StructuralGravity(name: \"g\", data: \"{data}\", year: 2014, sigma: 5, reference: \"AAA\",\n costs: Observed,\n counterfactual: [CovariateChange(column: \"{column}\", coefficient: 0.2, to_year: 2015)])"
        )
    };
    let mut full = String::from("exporter,importer,year,trade,fta\n");
    let mut international = full.clone();
    for year in [2014, 2015] {
        for e in ["AAA", "BBB", "CCC"] {
            for m in ["AAA", "BBB", "CCC"] {
                let fta = u8::from(year == 2015 && e != m && e != "CCC" && m != "CCC");
                let row = format!("{e},{m},{year},{},{fta}\n", if e == m { 100 } else { 10 });
                full.push_str(&row);
                if e != m {
                    international.push_str(&row);
                }
            }
        }
    }
    write(d.path(), "full.csv", &full);
    write(d.path(), "international.csv", &international);
    let err = check_fails(d.path(), &scenario("nope.csv", "fta"));
    assert!(
        err.contains("nope.csv does not exist") && err.contains("relative to the scenario file"),
        "{err}"
    );
    let err = check_fails(d.path(), &scenario("international.csv", "fta"));
    assert!(
        err.contains("no row for exporter AAA, importer AAA in year 2014"),
        "{err}"
    );
    let err = check_fails(d.path(), &scenario("full.csv", "rta"));
    assert!(err.contains("rta"), "{err}");
    let p = write(d.path(), "ok.ron", &scenario("full.csv", "fta"));
    let o = tradesim(&["check", p.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("data: 3 economies in 2014, all 9 pairs present"),
        "{out}"
    );
}

/// A tariff-rate quota that several exporters get at once (no `exporter`) is each exporter's
/// whole quota: said, with the total and how to write a joint quota; one per exporter is not.
#[test]
fn a_quota_several_exporters_get_is_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let trq = "TariffRateQuota(quota: 5, in_quota_rate: 0.0, out_of_quota_rate: 0.05)";
    let err = check_warns(
        d.path(),
        "q.ron",
        &scenario(&format!(
            "(name: \"ABC\", entry_into_force: 2016, members: [\"AAA\", \"BBB\", \"CCC\"],\n         product_groups: [(name: \"g\", importer: \"AAA\", sector: \"MAN\", weight: 0.2, schedule: {trq})])"
        )),
    );
    assert!(
        err.contains("q.ron:8:")
            && err.contains("product group `g`'s tariff-rate quota on AAA's MAN imports (5 at base-year prices) is each exporter's: BBB, CCC get 5 each, 10 in all")
            && err.contains("`exporter: Some(\"BBB\")`"),
        "{err}"
    );
    let err = check_warns(
        d.path(),
        "q1.ron",
        &scenario(&format!(
            "(name: \"ABC\", entry_into_force: 2016, members: [\"AAA\", \"BBB\", \"CCC\"],\n         product_groups: [(name: \"g\", importer: \"AAA\", exporter: Some(\"BBB\"), sector: \"MAN\", weight: 0.2, schedule: {trq}),\n          (name: \"g\", importer: \"AAA\", exporter: Some(\"CCC\"), sector: \"MAN\", weight: 0.2, schedule: {trq})])"
        )),
    );
    assert!(!err.contains("each exporter's"), "{err}");
}

/// A misspelt field inside a schedule, depth, comparison, elasticity or distribution
/// (`Linear(years: 5, too: 0.5)`) is an error at its position with "did you mean", never
/// silently dropped (the cut would have gone to zero instead of half the base).
#[test]
fn unknown_field_inside_a_variant_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let ab = r#"name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"]"#;
    for (text, found, meant) in [
        (
            format!("({ab}, schedule: Linear(years: 5, too: 0.5))"),
            "too",
            "to",
        ),
        (format!("({ab}, schedule: Linear(yeras: 5))"), "yeras", "years"),
        (
            format!("({ab}, schedule: TariffRateQuota(quota: 5, in_quota_rate: 0.0, out_of_quota_rate: 0.05, quota_rate: 0.1))"),
            "quota_rate",
            "in_quota_rate",
        ),
        (
            format!("({ab}, depth: Given(beta: 0.2, phase_in_years: 5, pair: AllMembers))"),
            "pair",
            "pairs",
        ),
    ] {
        let err = check_fails(d.path(), &scenario(&text));
        assert!(
            err.contains("bad.ron:7:")
                && err.contains(&format!("unknown field `{found}`"))
                && err.contains(&format!("did you mean `{meant}`?")),
            "{text}: {err}"
        );
    }
    let text = scenario(&format!("({ab})")).replace(
        "horizon: 2020,",
        "horizon: 2020,\n    compared_with: Reference(file: \"bad.ron\", withuot: [\"AB\"]),",
    );
    let err = check_fails(d.path(), &text);
    assert!(
        err.contains("bad.ron:6:") && err.contains("unknown field `withuot`"),
        "{err}"
    );
    let batch = tiny_batch(
        d.path(),
        2,
        "Theta(\"MAN\"), distribution: LogNormal(mu: 1.6, sigma: 0.2, sd: 0.5)",
    );
    let err = check_file_fails(&batch);
    assert!(
        err.contains("batch.ron:4:") && err.contains("unknown field `sd`"),
        "{err}"
    );
}

/// A misspelt variant (`Lineal`, `immediate`, `Lognormal`) gets "did you mean" like a
/// misspelt field.
#[test]
fn unknown_variant_gets_did_you_mean() {
    let d = tempfile::tempdir().unwrap();
    let ab = r#"name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"]"#;
    for (schedule, found, meant) in [
        ("Lineal(years: 5)", "Lineal", "Linear"),
        ("immediate", "immediate", "Immediate"),
    ] {
        let err = check_fails(
            d.path(),
            &scenario(&format!("({ab}, schedule: {schedule})")),
        );
        assert!(
            err.contains("bad.ron:7:")
                && err.contains(&format!(
                    "unknown variant `{found}` of `Schedule`; did you mean `{meant}`?"
                )),
            "{err}"
        );
    }
    let batch = tiny_batch(
        d.path(),
        2,
        "Theta(\"MAN\"), distribution: Lognormal(mu: 1.6, sigma: 0.2)",
    );
    let err = check_file_fails(&batch);
    assert!(err.contains("did you mean `LogNormal`?"), "{err}");
}

/// Files as Windows editors save them: a UTF-8 byte-order mark and CRLF line endings are
/// read (positions as without the mark); UTF-16, Latin-1 and CR-only line endings are refused
/// saying which and what to do, Latin-1 at the line and column of the first bad byte.
#[test]
fn byte_order_mark_and_encodings() {
    let d = tempfile::tempdir().unwrap();
    let good = scenario(r#"(name: "Perú–Côte", entry_into_force: 2016, members: ["AAA", "BBB"])"#);
    for (name, bytes) in [
        (
            "bom.ron",
            [b"\xEF\xBB\xBF".as_slice(), good.as_bytes()].concat(),
        ),
        (
            "bomcrlf.ron",
            [
                b"\xEF\xBB\xBF".as_slice(),
                good.replace('\n', "\r\n").as_bytes(),
            ]
            .concat(),
        ),
    ] {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = tradesim(&["check", p.to_str().unwrap()]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let bad = [
        b"\xEF\xBB\xBF".as_slice(),
        good.replace("members", "membres").as_bytes(),
    ]
    .concat();
    let p = d.path().join("bombad.ron");
    std::fs::write(&p, bad).unwrap();
    let err = check_file_fails(&p);
    assert!(
        err.contains("bombad.ron:7:53: unknown field `membres`"),
        "{err}"
    );
    let p = d.path().join("utf16.ron");
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(good.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(&p, utf16).unwrap();
    let err = check_file_fails(&p);
    assert!(
        err.contains("is UTF-16 text") && err.contains("save it as UTF-8"),
        "{err}"
    );
    let p = d.path().join("latin1.ron");
    let latin1: Vec<u8> = good
        .replace("Perú–Côte", "Per?")
        .bytes()
        .map(|b| if b == b'?' { 0xFA } else { b })
        .collect();
    std::fs::write(&p, latin1).unwrap();
    let err = check_file_fails(&p);
    assert!(
        err.contains("latin1.ron:7:")
            && err.contains("is not UTF-8 text (byte 0xFA")
            && err.contains("save the file as UTF-8"),
        "{err}"
    );
    let p = write(d.path(), "cr.ron", &good.replace('\n', "\r"));
    let err = check_file_fails(&p);
    assert!(err.contains("carriage return alone"), "{err}");
}

/// A number of draws that would need more memory than the machine has for the list of runs
/// alone is refused at `draws` (or for `--draws`), not aborted by the allocator.
#[test]
fn too_many_draws_are_refused_before_allocating() {
    let d = tempfile::tempdir().unwrap();
    let theta = "Theta(\"MAN\"), distribution: LogNormal(mu: 1.6, sigma: 0.2)";
    let batch = tiny_batch(d.path(), 4_000_000_000, theta);
    let err = check_file_fails(&batch);
    assert!(
        err.contains("batch.ron:3:")
            && err.contains("more than the 10000000 one batch holds; use fewer draws"),
        "{err}"
    );
    let batch = tiny_batch(d.path(), 2, theta);
    let out = d.path().join("out");
    let o = tradesim(&[
        "batch",
        batch.to_str().unwrap(),
        "--draws",
        "4000000000",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("use fewer draws") && !out.exists(), "{err}");
}

/// A schedule rule or product group for an economy outside the agreement never applies: an
/// error naming the code and the members, not a rule silently ignored.
#[test]
fn a_rule_or_group_for_a_non_member_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let ab = r#"name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"]"#;
    for (extra, what) in [
        (
            r#"schedules: [(importer: "CCC", schedule: Immediate)]"#,
            "the importer `CCC`",
        ),
        (
            r#"schedules: [(exporter: "CCC", sector: "MAN", schedule: Excluded)]"#,
            "the exporter `CCC`",
        ),
        (
            r#"product_groups: [(name: "g", importer: "CCC", sector: "MAN", weight: 0.2, schedule: Immediate)]"#,
            "the product group's importer `CCC`",
        ),
        (
            r#"product_groups: [(name: "g", importer: "AAA", exporter: "CCC", sector: "MAN", weight: 0.2, schedule: Immediate)]"#,
            "the product group's exporter `CCC`",
        ),
    ] {
        let err = check_fails(d.path(), &scenario(&format!("({ab}, {extra})")));
        assert!(
            err.contains("bad.ron:7:")
                && err.contains(&format!(
                    "agreement `AB`: {what} is not a member (AAA, BBB)"
                ))
                && err.contains("add `CCC` to `members` or `accessions`"),
            "{extra}: {err}"
        );
    }
    // An acceding member's rule is a member's.
    check_warns(
        d.path(),
        "ok.ron",
        &scenario(&format!(
            r#"({ab}, accessions: {{"CCC": 2018}}, schedules: [(importer: "CCC", schedule: Linear(years: 3))])"#
        )),
    );
}

/// Every mistake in `extends` is reported at the `extends` line of the file that makes it:
/// empty, a directory, a batch file, a cycle (a file extending itself, or two extending each
/// other).
#[test]
fn extends_mistakes_are_located_at_extends() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("dir")).unwrap();
    let batch = tiny_batch(
        d.path(),
        0,
        "Theta(\"MAN\"), distribution: LogNormal(mu: 1.6, sigma: 0.2)",
    );
    for (name, parent, said) in [
        ("empty.ron", "", "`extends` is empty"),
        (
            "dir.ron",
            "dir",
            "which is a directory; name the scenario file",
        ),
        (
            "batch-parent.ron",
            batch.file_name().unwrap().to_str().unwrap(),
            "which is a batch file (`Batch(...)`)",
        ),
        ("self.ron", "self.ron", "`extends` makes a cycle"),
        ("a.ron", "b.ron", "`extends` makes a cycle"),
    ] {
        write(
            d.path(),
            "b.ron",
            "Scenario(name: \"b\",\n  extends: \"a.ron\")\n",
        );
        let p = write(
            d.path(),
            name,
            &format!("Scenario(name: \"x\",\n  extends: \"{parent}\")\n"),
        );
        let err = check_file_fails(&p);
        let at = if name == "a.ron" {
            "b.ron:2:"
        } else {
            &format!("{name}:2:")
        };
        assert!(err.contains(at) && err.contains(said), "{name}: {err}");
    }
}

/// A scenario written from scratch on the built-in world, without the agreements in force in
/// the base year, starts every pair at its MFN rate (Mercosur's pairs too): said at
/// `baseline`, with the file to extend; a scenario that extends baseline-2014.ron is not told.
#[test]
fn the_built_in_world_without_its_base_year_agreements_is_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let agreement =
        r#"agreements: [(name: "JM", entry_into_force: 2021, members: ["JPN", "BRA", "ARG"])]"#;
    let err = check_warns(
        d.path(),
        "scratch.ron",
        &format!("Scenario(name: \"s\",\n    baseline: Builtin(\"apac-americas-2014\"),\n    base_year: 2014, horizon: 2025,\n    {agreement})\n"),
    );
    assert!(
        err.contains("scratch.ron:2:5:")
            && err.contains("holds each importer's MFN rates")
            && err.contains("scenarios/baseline-2014.ron\"` (or extend reference.ron"),
        "{err}"
    );
    let parent = root().join("scenarios/baseline-2014.ron");
    let err = check_warns(
        d.path(),
        "extends.ron",
        &format!(
            "Scenario(name: \"s\",\n    extends: \"{}\",\n    {agreement})\n",
            parent.display()
        ),
    );
    assert!(!err.contains("MFN rates"), "{err}");
}

/// A batch's uncertain θ of a mistyped sector is answered with the sector meant, or the
/// sectors; a
/// distribution out of its range names the parameter, its value and the range, at the
/// distribution (before: the whole `LogNormal { .. }` and "sd, sigma ≥ 0; min ≤ mode ≤ max",
/// at the parameter).
#[test]
fn batch_uncertainty_mistakes_name_what_to_write() {
    let d = tempfile::tempdir().unwrap();
    let err = check_file_fails(&tiny_batch(
        d.path(),
        2,
        "Theta(\"MNA\"), distribution: LogNormal(mu: 1.6, sigma: 0.2)",
    ));
    assert!(
        err.contains(
            "`MNA` is not a sector of every scenario's baseline; the sectors of every baseline are: AGR, MAN, SRV"
        ),
        "{err}"
    );
    let err = check_file_fails(&tiny_batch(
        d.path(),
        2,
        "Theta(\"MAM\"), distribution: LogNormal(mu: 1.6, sigma: 0.2)",
    ));
    assert!(err.contains("baseline; did you mean `MAN`?"), "{err}");
    for (dist, says) in [
        (
            "LogNormal(mu: 1.6, sigma: -0.2)",
            "LogNormal: sigma = -0.2 is negative; the standard deviation of the logarithm is at least 0 (e.g. sigma: 0.2)",
        ),
        (
            "Normal(mean: 5.0, sd: -1.0)",
            "Normal: sd = -1 is negative; the standard deviation is at least 0 (e.g. sd: 1)",
        ),
        ("Uniform(min: 6.0, max: 4.0)", "Uniform: min = 6 is above max = 4; write min ≤ max"),
        (
            "Triangular(min: 4.0, mode: 7.0, max: 6.0)",
            "Triangular: min = 4, mode = 7, max = 6; a triangular distribution needs min ≤ mode ≤ max",
        ),
    ] {
        let theta = format!("Theta(\"MAN\"), distribution: {dist}");
        let err = check_file_fails(&tiny_batch(d.path(), 2, &theta));
        let at = dist.split('(').next().unwrap();
        let line = err.lines().find(|l| l.contains(at) && l.contains(" | ")).unwrap_or("");
        let caret = err
            .lines()
            .skip_while(|l| *l != line)
            .nth(1)
            .unwrap_or("");
        assert!(err.contains(says), "{err}");
        // the caret stands under the distribution's name
        assert_eq!(
            caret.find('^'),
            line.find(at),
            "{dist}: the caret is not under {at}:\n{err}"
        );
    }
}

/// Slips in a schedule's order: a year listed twice in `years`, `Staged` steps or `Path` points
/// out of order are errors at the offending item (each is read by its value, so the list's
/// order would silently change the path); a depth profile whose cumulative share falls is a
/// warning at that step (an estimated profile can fall; increments written as shares do).
#[test]
fn schedule_lists_out_of_order_or_repeated_are_located() {
    let d = tempfile::tempdir().unwrap();
    let ab = "(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"],\n         ";
    let years = format!(
        "Scenario(name: \"b\", baseline: Csv(\"{}\"), base_year: 2014,\n    years: [2016, 2018, 2018, 2020])",
        tiny().display()
    );
    let cases: [(String, &[&str]); 4] = [
        (
            years,
            &["bad.ron:2:25: year 2018 is listed twice in `years`", "remove this one"],
        ),
        (
            scenario(&format!("{ab}schedule: Staged([(0, 0.8), (5, 0.5), (3, 0.0)]))")),
            &[
                "bad.ron:8:48: agreement `AB`: Staged step (3, 0) comes after (5, 0.5)",
                "List the steps in order of offset",
            ],
        ),
        (
            scenario(&format!("{ab}schedules: [(importer: \"AAA\", schedule: Path([(2016, 0.05), (2019, 0.0), (2017, 0.02)]))])")),
            &[
                "bad.ron:8:83: agreement `AB`: Path point (2017, 0.02) comes after (2019, 0)",
                "List the points in order of year",
            ],
        ),
        // A profile step out of order is an error at that step (not at the first).
        (
            scenario(&format!("{ab}depth: Given(beta: 0.5, phase_in_years: 12, profile: [(0, 0.3), (8, 0.9), (4, 0.7)]))")),
            &["bad.ron:8:84: agreement `AB`: depth profile step (4, 0.7) is not valid"],
        ),
    ];
    for (text, needles) in &cases {
        let err = check_fails(d.path(), text);
        for n in *needles {
            assert!(err.contains(n), "{n}: {err}");
        }
    }
    let err = check_warns(
        d.path(),
        "fall.ron",
        &scenario(&format!("{ab}depth: Given(beta: 0.5, phase_in_years: 12, profile: [(0, 0.294), (4, 0.416), (8, 0.17)]))")),
    );
    assert!(
        err.contains("warning: ")
            && err.contains("fall.ron:8:88: agreement `AB`: depth profile share falls from 0.416 at offset 4 to 0.17 at offset 8")
            && err.contains("write their running sums"),
        "{err}"
    );
}

/// An empty file (emptied by mistake, or only comments) is said to be empty, with what it
/// should hold, instead of the parser's "expected opening `(`".
#[test]
fn an_empty_file_is_said_to_be_empty() {
    let d = tempfile::tempdir().unwrap();
    for (text, said) in [
        (
            "",
            "empty.ron:1:1: the file is empty: a scenario file holds `Scenario( ... )`",
        ),
        ("// only a note\n\n", "the file is empty (only comments)"),
    ] {
        let err = check_file_fails(&write(d.path(), "empty.ron", text));
        assert!(
            err.contains(said) && err.contains("restore the file"),
            "{err}"
        );
    }
}

/// Slips in a batch's draws: a LogNormal `mu` written as θ itself (every draw out of range,
/// found only when the first draw failed, after the central runs), a parameter drawn twice
/// (the later silently won), a focus code misspelt (now with the closest code).
#[test]
fn batch_draws_centred_out_of_range_or_given_twice_are_located() {
    let d = tempfile::tempdir().unwrap();
    let twice = "Theta(\"MAN\"), distribution: Normal(mean: 5, sd: 1)), (parameter: Theta(\"MAN\"), distribution: Normal(mean: 6, sd: 1)";
    let err = check_file_fails(&tiny_batch(d.path(), 2, twice));
    assert!(
        err.contains("batch.ron:4:") && err.contains("Theta(\"MAN\") is drawn twice in `uncertainty` (entries 1 and 2); each draw would take only the later one"),
        "{err}"
    );
    let err = check_file_fails(&tiny_batch(
        d.path(),
        2,
        "Theta(\"MAN\"), distribution: LogNormal(mu: 6.48, sigma: 0.25)",
    ));
    assert!(
        err.contains("LogNormal: the draws' centre (median exp(mu) = exp(6.48) = 651.9709)")
            && err.contains("`mu` is the log of θ: for a median θ of 6.48, write mu: 1.8687"),
        "{err}"
    );
    let b = tiny_batch(d.path(), 2, THETA_LOGNORMAL);
    let text = std::fs::read_to_string(&b)
        .unwrap()
        .replace("\"CCC\"]", "\"CCX\"]");
    let err = check_file_fails(&write(d.path(), "batch.ron", &text));
    assert!(
        err.contains("focus economy `CCX` is not in every scenario's baseline (not in that of scenario `fast`); did you mean `CCC`?"),
        "{err}"
    );
}

/// An agreement meant to replace an inherited one but with its name misspelt was added beside
/// it without a word: a warning at the name, with the inherited name to write. A different
/// agreement with a similar name and other members is not warned about.
#[test]
fn an_agreement_nearly_named_as_an_inherited_one_is_a_warning() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "parent.ron",
        &scenario("(name: \"Andes FTA\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"])"),
    );
    let child = |name: &str, members: &str| {
        format!("Scenario(name: \"c\", extends: \"parent.ron\",\n    agreements: [(name: \"{name}\", entry_into_force: 2017, members: [{members}])])\n")
    };
    let err = check_warns(
        d.path(),
        "typo.ron",
        &child("Andse FTA", "\"AAA\", \"BBB\""),
    );
    assert!(
        err.contains("warning: ")
            && err.contains("typo.ron:2:25: agreement `Andse FTA` is new in this file, beside the inherited `Andes FTA` (")
            && err.contains("To replace it, write `Andes FTA`"),
        "{err}"
    );
    let err = check_warns(
        d.path(),
        "other.ron",
        &child("Ander FTA", "\"AAA\", \"CCC\""),
    );
    assert!(!err.contains("is new in this file"), "{err}");
}

/// The built-in world holds the data of 2014: another base year labels them with a year they
/// are not of, a warning at `base_year`.
#[test]
fn the_built_in_world_under_another_base_year_is_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let err = check_warns(
        d.path(),
        "later.ron",
        "Scenario(name: \"s\", baseline: Builtin(\"apac-americas-2014\"),\n    base_year:2016, horizon: 2020)\n",
    );
    assert!(
        err.contains("later.ron:2:5: base_year is 2016, but the built-in world `apac-americas-2014` holds the data of 2014")
            && err.contains("Write base_year: 2014"),
        "{err}"
    );
}

/// A member listed twice (in `members`, or in `members` and `accessions`) is an error at the
/// repeat, where the slip is, not at the first listing.
#[test]
fn a_member_listed_twice_is_located_at_the_repeat() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        (
            "(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\", \"AAA\"], schedule: Immediate)",
            "bad.ron:7:70: agreement `AB`: `AAA` is listed twice among members and accessions",
        ),
        (
            "(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], accessions: {\"BBB\": 2018}, schedule: Immediate)",
            "bad.ron:7:84: agreement `AB`: `BBB` is listed twice among members and accessions",
        ),
    ];
    for (agreement, says) in cases {
        let err = check_fails(d.path(), &scenario(agreement));
        assert!(err.contains(says), "{says}: {err}");
    }
}
