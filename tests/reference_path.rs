//! The reference path (issue 13 item 2) and depth pair selection (item 3), on the tiny
//! synthetic world: effects measured against the reference's same year, a scenario about an
//! agreement that happened measured against the reference without it, the errors of a
//! mismatched reference, and which pairs a depth effect reaches.
mod common;
use common::*;
use std::path::Path;
use tradesim::model::caliendo_parro::compare;
use tradesim::{policy, scenario, simulate};

/// A scenario file on the tiny world (base year 2014) with `extra` fields and `agreements`.
fn text(name: &str, extra: &str, agreements: &str) -> String {
    format!(
        "Scenario(\n    name: \"{name}\",\n    baseline: Csv(\"{}\"),\n    base_year: 2014,\n{extra}    agreements: [\n{agreements}\n    ],\n)\n",
        tiny().display()
    )
}

fn load(p: &Path) -> scenario::Scenario {
    scenario::load(p).unwrap_or_else(|e| panic!("{e}"))
}

fn err(p: &Path) -> String {
    scenario::load(p)
        .err()
        .unwrap_or_else(|| panic!("{} loads but should not", p.display()))
        .to_string()
}

const AB_2018: &str = r#"        (name: "AB", entry_into_force: 2018, members: ["AAA", "BBB"], schedule: Linear(years: 4)),"#;
const AC_2016: &str = r#"        (name: "AC", entry_into_force: 2016, members: ["AAA", "CCC"], schedule: Immediate),"#;
const BC_2015: &str = r#"        (name: "BC", entry_into_force: 2015, members: ["BBB", "CCC"], schedule: Immediate),"#;

#[test]
fn against_a_reference_without_other_policy_the_effect_equals_the_base_year_comparison() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "ref.ron",
        &text("ref", "    horizon: 2025,\n", ""),
    );
    let s_ref = write(
        d.path(),
        "s.ron",
        &text(
            "s",
            "    horizon: 2025,\n    compared_with: Reference(file: \"ref.ron\"),\n",
            AB_2018,
        ),
    );
    let s_base = write(
        d.path(),
        "b.ron",
        &text("b", "    horizon: 2025,\n", AB_2018),
    );
    let (a, b) = (load(&s_ref), load(&s_base));
    assert_eq!(a.compared_with.kind(), "reference");
    let (ra, rb) = (
        simulate::run(&a, &|| {}).unwrap(),
        simulate::run(&b, &|| {}).unwrap(),
    );
    for (ya, yb) in ra.years.iter().zip(&rb.years) {
        let r = ya.reference.as_ref().expect("a reference year");
        // The reference has no agreement after 2014: its every year is the solved baseline.
        assert!(r.equilibrium.w_hat.iter().all(|w| (w - 1.0).abs() < 1e-9));
        for n in 0..3 {
            let (x, y) = (
                ya.comparison.real_income_pct[n],
                yb.comparison.real_income_pct[n],
            );
            assert!((x - y).abs() < 1e-8, "{}: {x} vs {y}", ya.year);
        }
        // Before entry into force the scenario's policy is the reference's: not solved twice.
        assert_eq!(r.same_policy, ya.year < 2018, "{}", ya.year);
    }
}

#[test]
fn an_agreement_that_happened_is_measured_against_the_reference_without_it() {
    let d = tempfile::tempdir().unwrap();
    // The reference path: BC (2015) and AB (2018) both happened.
    write(
        d.path(),
        "ref.ron",
        &text(
            "Reference",
            "    horizon: 2024,\n",
            &format!("{BC_2015}\n{AB_2018}"),
        ),
    );
    // What AB did: the reference against the reference without AB.
    let s = write(
        d.path(),
        "ab.ron",
        "Scenario(name: \"AB\", extends: \"ref.ron\",\n    compared_with: Reference(file: \"ref.ron\", without: [\"AB\"]))\n",
    );
    let s = load(&s);
    let run = simulate::run(&s, &|| {}).unwrap();
    let y = run.years.iter().find(|y| y.year == 2024).unwrap();
    let r = y.reference.as_ref().unwrap();
    // Exactly compare(reference without AB, reference), year by year.
    let c = compare(&run.model, &r.equilibrium, &y.equilibrium);
    assert_eq!(c.real_income_pct, y.comparison.real_income_pct);
    // AB's effect on AAA is positive, and it differs from the effect measured against the
    // base year, which would also credit AB with BC's liberalisation.
    let aaa = s.baseline.economy_index("AAA").unwrap();
    assert!(y.comparison.real_income_pct[aaa] != 0.0);
    let naive = compare(&run.model, &run.baseline, &y.equilibrium);
    assert!(
        (naive.real_income_pct[aaa] - y.comparison.real_income_pct[aaa]).abs() > 1e-6,
        "the base-year comparison mixes in BC"
    );
    // Before AB enters, nothing differs: 0 exactly.
    let y2016 = run.years.iter().find(|y| y.year == 2016).unwrap();
    assert!(y2016.comparison.real_income_pct.iter().all(|v| *v == 0.0));
    // The tables say what they are against.
    let t = tradesim::simulate::tables(&s.baseline, &run);
    assert!(t.economies.iter().all(|r| r.compared_with == "reference"));
    assert!(t
        .solver
        .iter()
        .any(|r| r.stage == "reference" && r.year == 2024));
    assert!(!t
        .solver
        .iter()
        .any(|r| r.stage == "reference" && r.year == 2016));
    // The measured agreement is AB alone (BC is in both worlds).
    let measured: Vec<&str> = s
        .measured_agreements()
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(measured, ["AB"]);
}

#[test]
fn check_and_the_report_meta_name_the_reference() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "ref.ron",
        &text("Reference", "    horizon: 2020,\n", AC_2016),
    );
    let s = write(
        d.path(),
        "s.ron",
        "Scenario(name: \"AC effect\", extends: \"ref.ron\", compared_with: Reference(file: \"ref.ron\", without: [\"AC\"]))",
    );
    let o = tradesim(&["check", s.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("compared with: the reference path `Reference`") && out.contains("without AC"),
        "{out}"
    );
    let dir = d.path().join("out");
    let o = tradesim(&["run", s.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report_meta.json")).unwrap()).unwrap();
    let c = &meta["scenarios"][0]["compared_with"];
    assert_eq!(c["kind"], "reference");
    assert_eq!(c["without"][0], "AC");
    let (h, rows) = read_csv(&dir.join("economies.csv"));
    let col = h.iter().position(|x| x == "compared_with").unwrap();
    assert!(rows.iter().all(|r| r[col] == "reference"));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("percent against the reference path"),
        "{stdout}"
    );
}

#[test]
fn a_mismatched_reference_is_an_error_saying_which() {
    let d = tempfile::tempdir().unwrap();
    // Another world: a copy of the tiny world in another directory.
    let other = d.path().join("other");
    std::fs::create_dir(&other).unwrap();
    for f in std::fs::read_dir(tiny()).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, other.join(f.file_name().unwrap())).unwrap();
    }
    write(
        d.path(),
        "other.ron",
        "Scenario(name: \"o\", baseline: Csv(\"other\"), base_year: 2014, horizon: 2030)",
    );
    write(
        d.path(),
        "y2015.ron",
        &format!(
            "Scenario(name: \"y\", baseline: Csv(\"{}\"), base_year: 2015, horizon: 2030)",
            tiny().display()
        ),
    );
    write(
        d.path(),
        "short.ron",
        &text("short", "    horizon: 2020,\n", ""),
    );
    write(
        d.path(),
        "ok.ron",
        &text("ok", "    horizon: 2030,\n", AC_2016),
    );
    let case = |file: &str, extra: &str| {
        write(
            d.path(),
            "s.ron",
            &text(
                "s",
                &format!(
                    "    horizon: 2030,\n    compared_with: Reference(file: \"{file}\"{extra}),\n"
                ),
                "",
            ),
        )
    };
    let e = err(&case("other.ron", ""));
    assert!(
        e.contains("another world") && e.contains("other") && e.contains("s.ron:"),
        "{e}"
    );
    let e = err(&case("y2015.ron", ""));
    assert!(e.contains("base year 2015") && e.contains("2014"), "{e}");
    let e = err(&case("short.ron", ""));
    assert!(
        e.contains("does not solve year(s) 2021") && e.contains("2014–2020"),
        "{e}"
    );
    let e = err(&case("missing.ron", ""));
    assert!(e.contains("does not exist"), "{e}");
    let e = err(&case("ok.ron", ", without: [\"CA\"]"));
    assert!(
        e.contains("`without` names `CA`") && e.contains("did you mean `AC`"),
        "{e}"
    );
    // A caret: file, line and column.
    assert!(e.contains("s.ron:6:"), "{e}");
    // A scenario whose base-year world differs from its reference's.
    let s = write(
        d.path(),
        "s.ron",
        &text(
            "s",
            "    horizon: 2030,\n    compared_with: Reference(file: \"ok.ron\"),\n",
            r#"        (name: "old", entry_into_force: 2010, members: ["AAA", "BBB"], schedule: Immediate),"#,
        ),
    );
    let e = err(&s);
    assert!(
        e.contains("differ in the base year 2014") && e.contains("old"),
        "{e}"
    );
}

#[test]
fn depth_reaches_the_pairs_the_agreement_newly_liberalises() {
    let d = tempfile::tempdir().unwrap();
    // BC (2015) without depth: BBB-CCC already have an agreement when ABC starts.
    let abc = |pairs: &str| {
        format!(
            "{BC_2015}\n        (name: \"ABC\", entry_into_force: 2018, members: [\"AAA\", \"BBB\", \"CCC\"], depth: Given(beta: 0.4, phase_in_years: 2{pairs})),"
        )
    };
    let depth_of = |s: &scenario::Scenario, year: i32, imp: &str, exp: &str| {
        let p = policy::resolve_year(&s.baseline, &s.agreements, year, true);
        let b = &s.baseline;
        let nn = b.n_economies();
        p.depth[b.economy_index(imp).unwrap() * nn + b.economy_index(exp).unwrap()]
    };
    let s = load(&write(
        d.path(),
        "s.ron",
        &text("s", "    horizon: 2025,\n", &abc("")),
    ));
    assert_eq!(
        depth_of(&s, 2025, "BBB", "CCC"),
        0.0,
        "BBB-CCC already in BC"
    );
    assert_eq!(depth_of(&s, 2025, "CCC", "BBB"), 0.0);
    assert!((depth_of(&s, 2025, "AAA", "BBB") - 0.4).abs() < 1e-15);
    assert!((depth_of(&s, 2018, "CCC", "AAA") - 0.2).abs() < 1e-15);
    // Every member pair, when asked.
    let s = load(&write(
        d.path(),
        "s.ron",
        &text("s", "    horizon: 2025,\n", &abc(", pairs: AllMembers")),
    ));
    assert!((depth_of(&s, 2025, "BBB", "CCC") - 0.4).abs() < 1e-15);
    // An explicit selector: one direction only.
    let s = load(&write(
        d.path(),
        "s.ron",
        &text(
            "s",
            "    horizon: 2025,\n",
            &abc(", pairs: Directed([(\"AAA\", \"BBB\")])"),
        ),
    ));
    assert!((depth_of(&s, 2025, "BBB", "AAA") - 0.4).abs() < 1e-15);
    assert_eq!(depth_of(&s, 2025, "AAA", "BBB"), 0.0);
    // An earlier agreement with a smaller declared β does not block: the larger applies.
    let shallow = "        (name: \"BC\", entry_into_force: 2015, members: [\"BBB\", \"CCC\"], depth: Given(beta: 0.1, phase_in_years: 1)),\n        (name: \"ABC\", entry_into_force: 2018, members: [\"AAA\", \"BBB\", \"CCC\"], depth: Given(beta: 0.4, phase_in_years: 2)),";
    let s = load(&write(
        d.path(),
        "s.ron",
        &text("s", "    horizon: 2025,\n", shallow),
    ));
    assert!((depth_of(&s, 2016, "BBB", "CCC") - 0.1).abs() < 1e-15);
    assert!((depth_of(&s, 2025, "BBB", "CCC") - 0.4).abs() < 1e-15);
    // Without BC (the ex-post counterfactual), ABC newly liberalises BBB-CCC.
    let s = load(&write(
        d.path(),
        "s.ron",
        &text(
            "s",
            "    horizon: 2025,\n    remove_agreements: [\"BC\"],\n",
            &abc(""),
        ),
    ));
    assert!((depth_of(&s, 2025, "BBB", "CCC") - 0.4).abs() < 1e-15);
    // A phase-in profile (the Advanced Guide's lag estimates are front-loaded): a step
    // function of shares of β, in full from phase_in_years.
    let s = load(&write(
        d.path(),
        "s.ron",
        &text(
            "s",
            "    horizon: 2025,\n",
            r#"        (name: "AB", entry_into_force: 2018, members: ["AAA", "BBB"], depth: Given(beta: 0.4, phase_in_years: 8, profile: [(0, 0.25), (4, 0.75)])),"#,
        ),
    ));
    let steps: Vec<f64> = (2018..2027)
        .map(|y| depth_of(&s, y, "AAA", "BBB"))
        .collect();
    assert_eq!(
        steps,
        [
            0.1,
            0.1,
            0.1,
            0.1,
            0.30000000000000004,
            0.30000000000000004,
            0.30000000000000004,
            0.30000000000000004,
            0.4
        ]
    );
    let e = err(&write(
        d.path(),
        "s.ron",
        &text(
            "s",
            "    horizon: 2025,\n",
            r#"        (name: "AB", entry_into_force: 2018, members: ["AAA", "BBB"], depth: Given(beta: 0.4, phase_in_years: 8, profile: [(9, 0.5)])),"#,
        ),
    ));
    assert!(e.contains("profile step (9, 0.5)"), "{e}");
    // A selector naming a non-member is an error with a position.
    let e = err(&write(
        d.path(),
        "s.ron",
        &text(
            "s",
            "    horizon: 2025,\n",
            r#"        (name: "AB", entry_into_force: 2018, members: ["AAA", "BBB"], depth: Given(beta: 0.4, phase_in_years: 2, pairs: Among(["AAA", "CCC"]))),"#,
        ),
    ));
    assert!(
        e.contains("`CCC`, which is not a member") && e.contains("s.ron:7:"),
        "{e}"
    );
}

#[test]
fn scenario_level_depth_sets_an_inherited_agreements_depth() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "ref.ron",
        &text("ref", "    horizon: 2022,\n", AB_2018),
    );
    let s = load(&write(
        d.path(),
        "deep.ron",
        "Scenario(name: \"deep\", extends: \"ref.ron\",\n    depth: { \"AB\": Given(beta: 0.3, phase_in_years: 3) })",
    ));
    let ab = s.agreements.iter().find(|a| a.name == "AB").unwrap();
    let dp = ab.depth.as_ref().unwrap();
    assert_eq!((dp.beta, dp.phase_in_years), (0.3, 3));
    assert_eq!(dp.pairs, policy::DepthPairs::NewlyLiberalised);
    let e = err(&write(
        d.path(),
        "bad.ron",
        "Scenario(name: \"bad\", extends: \"ref.ron\",\n    depth: { \"BA\": Given(beta: 0.3, phase_in_years: 3) })",
    ));
    assert!(
        e.contains("does not have") && e.contains("did you mean `AB`") && e.contains("bad.ron:2:"),
        "{e}"
    );
}
