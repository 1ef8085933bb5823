//! Structural gravity (issue 5): the Advanced Guide's NAFTA application (book procedure and
//! exact equilibrium), gegravity's sample, bad input, and a 200-economy synthetic world.
//! Reference data are read from `../shared/data/` relative to the crate; when absent, a test
//! prints why it skips (or fails with `TRADESIM_REQUIRE_SHARED=1`: `tests/common`).

mod common;
use common::{root, run_gravity, shared_data as shared};
use tradesim::gravity::GravityOutcome;
use tradesim::model::gravity::{self, synthetic::synthetic};
use tradesim::model::solver::Settings;
use tradesim::output::gravity::write_gravity_tables;

fn row<'a>(o: &'a GravityOutcome, c: &str) -> &'a tradesim::gravity::GravityEconomyRow {
    o.economies.iter().find(|r| r.economy == c).unwrap()
}

#[test]
fn nafta_guide_procedure_reproduces_the_book() {
    let Some(expected) = shared("advanced-guide/expected_nafta_ge.csv") else {
        return;
    };
    if shared("advanced-guide/agtpa_applications.csv").is_none() {
        return;
    }
    let o = run_gravity(root().join("scenarios/nafta-advanced-guide.ron")).unwrap();
    assert_eq!(o.guide_passes, Some(3));
    assert!(
        (o.coefficients[0].1 - 0.5571853).abs() < 1e-6,
        "{:?}",
        o.coefficients
    );
    let mut rdr = csv::Reader::from_path(expected).unwrap();
    let mut count = 0;
    for rec in rdr.deserialize::<(String, f64, f64, f64, f64, f64, f64)>() {
        let (c, x_cdl, x_full, price, imr, rgdp, y) = rec.unwrap();
        let r = row(&o, &c);
        for (what, got, want) in [
            ("exports (conditional)", r.exports_conditional_pct, x_cdl),
            ("exports", r.exports_pct, x_full),
            ("price", r.price_pct, price),
            ("IMR", r.imr_pct, imr),
            ("real GDP", r.real_gdp_pct, rgdp),
        ] {
            assert!(
                (got - want).abs() < 1e-3,
                "{c} {what}: {got} vs the book's {want}"
            );
        }
        assert!((r.output_base / y - 1.0).abs() < 1e-9);
        count += 1;
    }
    assert_eq!(count, 69);
    for (c, x, g) in [
        ("MEX", 43.508, 3.810),
        ("CAN", 37.455, 3.403),
        ("USA", 14.876, 0.335),
    ] {
        let r = row(&o, c);
        assert!((r.exports_pct - x).abs() < 1e-3 && (r.real_gdp_pct - g).abs() < 1e-3);
    }
}

#[test]
fn nafta_exact_equilibrium_clears_markets() {
    if shared("advanced-guide/agtpa_applications.csv").is_none() {
        return;
    }
    let o = run_gravity(root().join("scenarios/nafta-advanced-guide-exact.ron")).unwrap();
    assert!(
        o.full.market_residual <= 1e-10,
        "{}",
        o.full.market_residual
    );
    assert!(o.baseline.market_residual <= 1e-10);
    for (c, x, g) in [
        ("MEX", 42.871, 3.829),
        ("CAN", 36.708, 3.440),
        ("USA", 14.884, 0.334),
    ] {
        let r = row(&o, c);
        assert!(
            (r.exports_pct - x).abs() < 1e-3,
            "{c} exports {}",
            r.exports_pct
        );
        assert!(
            (r.real_gdp_pct - g).abs() < 1e-3,
            "{c} real GDP {}",
            r.real_gdp_pct
        );
    }
    // the reference economy's price index is fixed
    assert!((o.full.inward[o.reference] - 1.0).abs() < 1e-14);
}

// Multilateral resistances (P_j, Π_i levels) from gegravity 0.3 (PyPI), produced by
// bench/compare_gegravity.py (its gegravity_mr.csv: country, baseline imr, conditional imr,
// baseline omr, conditional omr) on ../shared/data/gegravity-sample/sample_data_set.csv.
#[allow(clippy::excessive_precision)] // digits as gegravity printed them
const GEGRAVITY_MR: &[(&str, f64, f64, f64, f64)] = &[
    (
        "AUS",
        1.4270896466379728,
        1.427250182210313,
        0.061844853395554324,
        0.061842291337389825,
    ),
    (
        "AUT",
        1.225014274224663,
        1.2250437347821919,
        0.058789970041277492,
        0.058791601186344807,
    ),
    (
        "BEL",
        1.0488453977780461,
        1.0488491418442965,
        0.050357996671550581,
        0.050359029838306132,
    ),
    (
        "BRA",
        1.2973446329064668,
        1.297343443941817,
        0.062122697714471792,
        0.062126169394957999,
    ),
    (
        "CAN",
        1.3445781174082507,
        1.337159761993012,
        0.057252513599598369,
        0.057330351004975161,
    ),
    (
        "CHE",
        1.1388191041723337,
        1.1388328153170335,
        0.05485344394751239,
        0.05485479369427744,
    ),
    (
        "CHN",
        0.97211486868763952,
        0.97222861097074764,
        0.053921966509802625,
        0.053917057740799572,
    ),
    ("DEU", 1.0, 1.0, 0.050346460773036575, 0.050347471208839874),
    (
        "DNK",
        1.2771865736427057,
        1.2772232981237592,
        0.061000860519916988,
        0.061003237955039216,
    ),
    (
        "ESP",
        1.2267886715409186,
        1.226816656588092,
        0.055436251361379751,
        0.055437324011737434,
    ),
    (
        "FIN",
        1.3216567015288838,
        1.3217114498709641,
        0.063747051333649357,
        0.06374934151190699,
    ),
    (
        "FRA",
        1.1360797627469328,
        1.136091916108904,
        0.053780153573884965,
        0.053781409706164601,
    ),
    (
        "GBR",
        1.1403134128721897,
        1.1403307388570842,
        0.051184911893761002,
        0.051185718449368423,
    ),
    (
        "HKG",
        1.3629466068206886,
        1.3632304733067311,
        0.035387010169580971,
        0.035379995598392229,
    ),
    (
        "IDN",
        1.3452052973581756,
        1.3453780000781552,
        0.066726059434932247,
        0.066722708940042078,
    ),
    (
        "IND",
        1.2450739865527551,
        1.2451949276872409,
        0.06108227488455209,
        0.061079683786679606,
    ),
    (
        "IRL",
        1.2387878132734573,
        1.2387983456491749,
        0.061555830778125153,
        0.061559168761787859,
    ),
    (
        "ITA",
        1.1131942208504226,
        1.1132066840393848,
        0.053344868101183718,
        0.053345886689527021,
    ),
    (
        "JPN",
        0.96071101998647801,
        0.96255111221994727,
        0.05369281238351676,
        0.053561376911586023,
    ),
    (
        "KOR",
        1.0388341359718696,
        1.0390263520957865,
        0.055784310197838631,
        0.055776387495534395,
    ),
    (
        "MEX",
        1.3131392238011614,
        1.3130422244073061,
        0.057330522862335503,
        0.057342107125632008,
    ),
    (
        "MYS",
        1.2577109448944628,
        1.2579515425633354,
        0.06462290910209674,
        0.064615817027050271,
    ),
    (
        "NLD",
        1.1140030576196915,
        1.1140130770702215,
        0.05365700346445075,
        0.053658281670485204,
    ),
    (
        "POL",
        1.2600483873694772,
        1.2600881499014081,
        0.059744344089059556,
        0.059745882445609029,
    ),
    (
        "SGP",
        0.94571462447440957,
        0.94584183862495763,
        0.050183705994758562,
        0.05017817392133913,
    ),
    (
        "SWE",
        1.2696793751843303,
        1.2697148857999967,
        0.061803305148303934,
        0.061805514292517252,
    ),
    (
        "THA",
        1.26335979277198,
        1.2635116000451763,
        0.064081664246598405,
        0.064078113948332738,
    ),
    (
        "TUR",
        1.3142132695944151,
        1.3142843108883049,
        0.060872988193737126,
        0.060873390623439563,
    ),
    (
        "USA",
        1.1253372735826253,
        1.1249599448854668,
        0.044093116992798664,
        0.044111175622162491,
    ),
    (
        "ZAF",
        1.4037141887262505,
        1.4037948131854925,
        0.065525903666171018,
        0.065526633139249169,
    ),
];

#[test]
fn gegravity_sample_resistances_match_gegravity() {
    if shared("gegravity-sample/sample_data_set.csv").is_none() {
        return;
    }
    let o = run_gravity(root().join("scenarios/gegravity-can-jpn.ron")).unwrap();
    let s = o.sigma;
    let (pb, pc) = (o.baseline.price_index(s), o.conditional.price_index(s));
    let (ob, oc) = (o.baseline.outward_level(s), o.conditional.outward_level(s));
    assert_eq!(GEGRAVITY_MR.len(), 30);
    for &(c, imr_b, imr_c, omr_b, omr_c) in GEGRAVITY_MR {
        let i = o.names.iter().position(|n| n == c).unwrap();
        for (what, got, want) in [
            ("baseline IMR", pb[i], imr_b),
            ("conditional IMR", pc[i], imr_c),
            ("baseline OMR", ob[i], omr_b),
            ("conditional OMR", oc[i], omr_c),
        ] {
            assert!(
                (got / want - 1.0).abs() < 1e-6,
                "{c} {what}: {got} vs gegravity {want}"
            );
        }
    }
}

#[test]
fn gegravity_sample_full_ge_is_the_exact_equilibrium() {
    if shared("gegravity-sample/sample_data_set.csv").is_none() {
        return;
    }
    let o = run_gravity(root().join("scenarios/gegravity-can-jpn.ron")).unwrap();
    assert!(
        o.full.market_residual <= 1e-10,
        "{}",
        o.full.market_residual
    );
    // an exact re-solve of the same equations: CAN +0.4282%, JPN +0.0504%, USA −0.0066%
    // (gegravity's own full GE, which does not re-solve market clearing: +0.4183, +0.0538, −0.0074)
    for (c, g) in [("CAN", 0.4282), ("JPN", 0.0504), ("USA", -0.0066)] {
        let r = row(&o, c);
        assert!((r.real_gdp_pct - g).abs() < 5e-5, "{c}: {}", r.real_gdp_pct);
    }
}

/// Writes `csv` and a scenario for it into a temporary directory and runs it.
fn run_with(
    csv: &str,
    reference: &str,
) -> (tempfile::TempDir, tradesim::error::Result<GravityOutcome>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.csv"), csv).unwrap();
    let scenario = std::fs::read_to_string(root().join("scenarios/gegravity-can-jpn.ron"))
        .unwrap()
        .replace(
            "../../shared/data/gegravity-sample/sample_data_set.csv",
            "data.csv",
        )
        .replace("reference: \"DEU\"", &format!("reference: \"{reference}\""));
    let path = dir.path().join("s.ron");
    std::fs::write(&path, scenario).unwrap();
    let r = run_gravity(&path);
    (dir, r)
}

fn sample_lines() -> Option<Vec<String>> {
    let p = shared("gegravity-sample/sample_data_set.csv")?;
    Some(
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(String::from)
            .collect(),
    )
}

/// The sample with one cell of file line `line` (1-based, header = 1) changed.
fn edit(lines: &[String], line: usize, f: impl Fn(&mut Vec<String>)) -> String {
    let mut out = lines.to_vec();
    let mut cells: Vec<String> = out[line - 1].split(',').map(String::from).collect();
    f(&mut cells);
    out[line - 1] = cells.join(",");
    out.join("\n") + "\n"
}

fn assert_error(r: tradesim::error::Result<GravityOutcome>, needles: &[&str]) {
    let e = match r {
        Ok(_) => panic!("bad input must be an error"),
        Err(e) => e.to_string(),
    };
    for n in needles {
        assert!(e.contains(n), "error {e:?} should mention {n:?}");
    }
}

#[test]
fn bad_input_that_gegravity_lets_through_is_an_error() {
    let Some(lines) = sample_lines() else {
        return;
    };
    // header: exporter,importer,year,trade,Y,E,pta,contiguity,common_language,lndist,international
    // a missing pair
    let mut missing = lines.clone();
    let gone = missing.remove(10);
    let cells: Vec<&str> = gone.split(',').collect();
    let (_d, r) = run_with(&(missing.join("\n") + "\n"), "DEU");
    assert_error(
        r,
        &[
            "data.csv",
            "no row for exporter",
            cells[0],
            cells[1],
            "add the rows",
        ],
    );
    // a NaN cost covariate, or an empty one
    let (_d, r) = run_with(&edit(&lines, 12, |c| c[9] = "NaN".into()), "DEU");
    assert_error(r, &["data.csv", "row 12", "lndist", "not a number"]);
    let (_d, r) = run_with(&edit(&lines, 13, |c| c[9] = String::new()), "DEU");
    assert_error(r, &["data.csv", "row 13", "lndist"]);
    // negative trade
    let (_d, r) = run_with(&edit(&lines, 14, |c| c[3] = "-5".into()), "DEU");
    assert_error(r, &["data.csv", "row 14", "negative"]);
    // conflicting output values for one exporter
    let (_d, r) = run_with(&edit(&lines, 15, |c| c[4] = "12345".into()), "DEU");
    assert_error(r, &["data.csv", "row 15", "output of", "make them equal"]);
    // an unknown reference economy
    let (_d, r) = run_with(&(lines.join("\n") + "\n"), "XXX");
    assert_error(r, &["s.ron", "reference", "XXX", "choose one of"]);
}

/// A trade value or cost covariate written for reading (`"1,234"` with thousands separators,
/// `"7,5"` with a decimal comma, as a spreadsheet saves them in quotes) is named with how to
/// write it, as the estimate and baseline readers do.
#[test]
fn a_number_formatted_for_reading_is_named_with_how_to_write_it() {
    let Some(lines) = sample_lines() else {
        return;
    };
    let (_d, r) = run_with(&edit(&lines, 12, |c| c[3] = "\"1,234\"".into()), "DEU");
    assert_error(
        r,
        &[
            "data.csv",
            "row 12",
            "trade \"1,234\"",
            "thousands separators",
        ],
    );
    let (_d, r) = run_with(&edit(&lines, 13, |c| c[9] = "\"7,5\"".into()), "DEU");
    assert_error(
        r,
        &["data.csv", "row 13", "lndist \"7,5\"", "decimal point"],
    );
}

#[test]
fn a_200_economy_world_converges_without_tuning() {
    let s = synthetic(200, 7).unwrap();
    let opts = Settings::GRAVITY;
    let r = gravity::solve_exact(&s.world, &s.costs, &s.counterfactual, 5.0, &opts).unwrap();
    assert!(r.baseline.convergence.residual <= 1e-12);
    assert!(
        r.full.market_residual <= 1e-10,
        "{}",
        r.full.market_residual
    );
    let res =
        gravity::resistance_residuals(&s.world, &s.costs, &r.baseline.outward, &r.baseline.inward);
    assert!(res.iter().all(|v| v.abs() < 1e-11));
    eprintln!(
        "200 economies: baseline {} iterations, full GE {} iterations",
        r.baseline.convergence.iterations, r.full.convergence.iterations
    );
}

#[test]
fn a_convergence_failure_names_the_economy() {
    let s = synthetic(30, 3).unwrap();
    let opts = Settings::GRAVITY.with(Some(1e-14), Some(2), None).unwrap();
    let e = gravity::solve_resistances(&s.world, &s.costs, &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("did not converge in 2 iterations") && e.contains("for economy C0"),
        "{e}"
    );
}

#[test]
fn tables_are_written_whole() {
    if shared("gegravity-sample/sample_data_set.csv").is_none() {
        return;
    }
    let o = run_gravity(root().join("scenarios/gegravity-can-jpn.ron")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let [e, b] = write_gravity_tables(&o, dir.path()).unwrap();
    let econ = std::fs::read_to_string(e).unwrap();
    assert!(econ.starts_with(
        "scenario,year,draw,economy,exports_base,exports,imports_base,imports,real_income_pct,real_gdp_pct,imr_pct,omr_pct,price_pct"
    ));
    assert_eq!(econ.lines().count(), 31);
    let bil = std::fs::read_to_string(b).unwrap();
    assert!(bil
        .starts_with("scenario,year,draw,exporter,importer,sector,value_base,value,change_pct\n"));
    assert_eq!(bil.lines().count(), 901);
    assert!(bil.lines().nth(1).unwrap().contains(",all,"));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary files are left: {names:?}");
}

#[test]
fn run_on_a_gravity_file_writes_both_tables_or_says_what_is_wrong() {
    if shared("gegravity-sample/sample_data_set.csv").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("run")
        .arg(root().join("scenarios/gegravity-can-jpn.ron"))
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("economies.csv").exists() && dir.join("bilateral.csv").exists());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("market-clearing residual"), "{stderr}");

    let bad = tmp.path().join("bad.ron");
    std::fs::write(&bad, "StructuralGravity(name: \"x\")").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("run")
        .arg(&bad)
        .arg("--out")
        .arg(tmp.path().join("never"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.ron:1:") && stderr.contains("data"),
        "{stderr}"
    );
    assert!(!tmp.path().join("never").exists());
}

/// An extra CSV column: its name and its value from a row's cells.
type ExtraColumn<'a> = (&'a str, &'a dyn Fn(&[&str]) -> String);

/// Runs the gegravity example with another counterfactual (and optionally extra CSV columns).
fn run_changed(
    counterfactual: &str,
    orientation: &str,
    extra: Option<ExtraColumn>,
) -> Option<GravityOutcome> {
    let lines = sample_lines()?;
    let dir = tempfile::tempdir().unwrap();
    let csv = match extra {
        None => lines.join("\n") + "\n",
        Some((name, f)) => {
            let mut out = vec![format!("{},{name}", lines[0])];
            for l in &lines[1..] {
                let cells: Vec<&str> = l.split(',').collect();
                out.push(format!("{l},{}", f(&cells)));
            }
            out.join("\n") + "\n"
        }
    };
    std::fs::write(dir.path().join("data.csv"), csv).unwrap();
    let text = std::fs::read_to_string(root().join("scenarios/gegravity-can-jpn.ron")).unwrap();
    let start = text.find("    counterfactual: [").unwrap();
    let end = text[start..].find("    ],\n").unwrap() + start + "    ],\n".len();
    let text = format!(
        "{}    counterfactual: [{counterfactual}],\n{}",
        &text[..start],
        &text[end..]
    )
    .replace(
        "../../shared/data/gegravity-sample/sample_data_set.csv",
        "data.csv",
    )
    .replace("CounterfactualVsBaseline", orientation);
    let path = dir.path().join("s.ron");
    std::fs::write(&path, text).unwrap();
    Some(run_gravity(&path).unwrap())
}

#[test]
fn remove_border_and_change_tariff_move_costs_as_documented() {
    let Some(o) = run_changed("RemoveBorder()", "CounterfactualVsBaseline", None) else {
        return;
    };
    let n = o.names.len();
    for k in 0..n * n {
        let ratio = o.cost_change[k];
        let want = if k / n == k % n {
            1.0
        } else {
            3.412584f64.exp()
        };
        assert!((ratio / want - 1.0).abs() < 1e-12);
    }
    assert!(o.full.market_residual <= 1e-10);
    // a 10% tariff on every international pair, removed between CAN and JPN: costs move by
    // ((1 + 0)/(1 + 0.1))^(1 − σ) = 1.1^4 for σ = 5
    let tariff = |c: &[&str]| {
        if c[0] == c[1] {
            "0".to_string()
        } else {
            "0.1".to_string()
        }
    };
    let o = run_changed(
        "ChangeTariff(column: \"tariff\", pairs: Between([\"CAN\"], [\"JPN\"]), rate: 0)",
        "CounterfactualVsBaseline",
        Some(("tariff", &tariff)),
    )
    .unwrap();
    let (can, jpn) = (
        o.names.iter().position(|c| c == "CAN").unwrap(),
        o.names.iter().position(|c| c == "JPN").unwrap(),
    );
    for k in 0..n * n {
        let ratio = o.cost_change[k];
        let pair = (k / n, k % n);
        let want = if pair == (can, jpn) || pair == (jpn, can) {
            1.1f64.powi(4)
        } else {
            1.0
        };
        assert!((ratio / want - 1.0).abs() < 1e-12, "{pair:?} {ratio}");
    }
}

#[test]
fn orientation_reports_the_effect_of_what_the_counterfactual_removes() {
    let cf = "SetCovariate(column: \"pta\", pairs: Between([\"CAN\"], [\"JPN\"]), value: 1)";
    let Some(a) = run_changed(cf, "CounterfactualVsBaseline", None) else {
        return;
    };
    let b = run_changed(cf, "BaselineVsCounterfactual", None).unwrap();
    for (x, y) in a.economies.iter().zip(&b.economies) {
        let back = (1.0 / (1.0 + x.real_gdp_pct / 100.0) - 1.0) * 100.0;
        assert!((back - y.real_gdp_pct).abs() < 1e-12);
        assert_eq!(x.exports, y.exports);
    }
}

/// Issue 14 item 18: a structural gravity run takes `--format json` and `--report` like a
/// multi-sector run, and `tradesim report` reads its output directory.
#[test]
fn a_gravity_run_writes_json_and_a_report_that_tradesim_report_reads() {
    if shared("gegravity-sample/sample_data_set.csv").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("run")
        .arg(root().join("scenarios/gegravity-can-jpn.ron"))
        .args(["--format", "json", "--report", "--quiet", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "economies.csv",
        "bilateral.csv",
        "economies.json",
        "bilateral.json",
        "report_meta.json",
        "report.html",
    ] {
        assert!(dir.join(f).is_file(), "{f} was not written");
    }
    // The JSON holds the CSV's rows and columns.
    let csv = std::fs::read_to_string(dir.join("economies.csv")).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("economies.json")).unwrap()).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), csv.lines().count() - 1);
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let first: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    for (k, h) in header.iter().enumerate() {
        let v = &rows[0][h];
        match first[k].parse::<f64>() {
            Ok(x) if *h != "economy" && *h != "scenario" => {
                assert_eq!(v.as_f64(), Some(x), "{h}")
            }
            _ => assert_eq!(v.as_str(), Some(first[k]), "{h}"),
        }
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("JPN") && html.contains("CAN"));

    // `tradesim report` reads the directory a gravity run wrote.
    std::fs::remove_file(dir.join("report.html")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("report")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("JPN") && html.contains("CAN"));
}
