//! Acceptance tests of `tradesim estimate` on the reference data in `../shared/data/`.
//! Each test prints why it skips when the data are absent (and fails instead with
//! `TRADESIM_REQUIRE_SHARED=1`: `tests/common`).

mod common;
use common::shared_data as data;
use std::process::Command;
use tradesim::estimate::{ppml, Dataset, Formula, PpmlOptions, Ssc};

const YEARS: &str = "1986,1990,1994,1998,2002,2006";

fn round(x: f64, digits: i32) -> f64 {
    let s = 10f64.powi(digits);
    (x * s).round() / s
}

/// `tradesim estimate ARGS --json`, which must succeed: its JSON.
fn estimate_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["estimate"];
    all.extend(args);
    all.push("--json");
    let out = common::tradesim(&all);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {err}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Each `(name, estimate, standard error)` of `want` (pyfixest's numbers) in the fit `j`:
/// the estimate within 1e-8 and the standard error within 1e-6 (relative).
fn assert_matches_pyfixest(j: &serde_json::Value, want: &[(&str, f64, f64)], what: &str) {
    for &(name, b, se) in want {
        let c = &j["coefficients"][name];
        let (got_b, got_se) = (c["estimate"].as_f64(), c["std_error"].as_f64());
        let (Some(got_b), Some(got_se)) = (got_b, got_se) else {
            panic!("{what}: no coefficient {name}: {}", j["coefficients"]);
        };
        assert!(
            (got_b - b).abs() <= 1e-8 * b.abs(),
            "{what}, {name}: {got_b} vs {b}"
        );
        assert!(
            (got_se - se).abs() <= 1e-6 * se,
            "{what}, {name}: se {got_se} vs {se}"
        );
    }
}

/// Advanced Guide, chapter 1, application 3 (endogeneity of RTAs): exporter-year and
/// importer-year effects, a pair effect for international pairs and one shared effect for
/// domestic pairs, clustered by pair_id. Printed: rta 0.5572 (0.1022), N = 28,482.
/// The printed standard error uses Stata's ML convention G/(G−1) (`--ssc stata-ml`); fixest's
/// default correction gives 0.1084.
#[test]
fn guide_application_3_library() {
    let Some(p) = data("advanced-guide/agtpa_applications.csv") else {
        return;
    };
    let mut ds = Dataset::from_csv(&p).unwrap();
    ds.define("pair = ifelse(exporter == importer, 0, pair_id)")
        .unwrap();
    let f = Formula::parse("trade ~ rta | exporter^year + importer^year + pair").unwrap();
    let mut opts = PpmlOptions {
        subset: Some(format!("year in {YEARS}")),
        cluster: vec!["pair_id".into()],
        ssc: Ssc::StataMl,
        ..Default::default()
    };
    let fit = ppml::fit(&ds, &f, &opts).unwrap();
    let (b, se) = fit.coef("rta").unwrap();
    assert_eq!(round(b, 4), 0.5572);
    assert_eq!(round(se, 4), 0.1022);
    assert_eq!(fit.nobs, 28_482);
    assert_eq!(fit.dropped_separation, 84);
    // Fitted values aligned to the input rows, NaN where unused.
    assert_eq!(fit.fitted.len(), ds.nrows());
    assert_eq!(fit.fitted.iter().filter(|v| v.is_finite()).count(), 28_482);
    // fixest's default correction (K counts the fixed effects).
    opts.ssc = Ssc::Fixest;
    let fit = ppml::fit(&ds, &f, &opts).unwrap();
    assert_eq!(round(fit.coef("rta").unwrap().1, 4), 0.1084);
}

/// The same model through the binary, with --json.
#[test]
fn guide_application_3_binary_json() {
    let Some(p) = data("advanced-guide/agtpa_applications.csv") else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("estimate")
        .arg(&p)
        .args([
            "--formula",
            "trade ~ rta | exporter^year + importer^year + pair",
        ])
        .args([
            "--define",
            "pair = ifelse(exporter == importer, 0, pair_id)",
        ])
        .args(["--subset", &format!("year in {YEARS}")])
        .args(["--cluster", "pair_id", "--ssc", "stata-ml", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        round(j["coefficients"]["rta"]["estimate"].as_f64().unwrap(), 4),
        0.5572
    );
    assert_eq!(
        round(j["coefficients"]["rta"]["std_error"].as_f64().unwrap(), 4),
        0.1022
    );
    assert_eq!(j["nobs"], 28_482);
    assert_eq!(j["dropped"], 84);
    assert_eq!(j["converged"], true);
    assert!(j["iterations"].as_u64().unwrap() > 0);
    assert!(j["deviance"].as_f64().unwrap() > 0.0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("84 observation(s) dropped") && err.contains("7 of 'pair'"),
        "{err}"
    );
    assert_eq!(j["separated_groups"]["pair"], 7);
}

/// Application 1: international pairs only, exporter-year and importer-year effects.
/// Printed: log distance −0.841, contiguity 0.437, language 0.247, colony −0.222.
#[test]
fn guide_application_1_binary_table() {
    let Some(p) = data("advanced-guide/agtpa_applications.csv") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let fe = dir.path().join("fe.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("estimate")
        .arg(&p)
        .args([
            "--formula",
            "trade ~ log(dist) + cntg + lang + clny | exporter^year + importer^year",
        ])
        .args([
            "--subset",
            &format!("year in {YEARS} & exporter != importer"),
        ])
        .args(["--cluster", "pair_id", "--json", "--fe-out"])
        .arg(&fe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = |n: &str| round(j["coefficients"][n]["estimate"].as_f64().unwrap(), 3);
    assert_eq!(c("log(dist)"), -0.841);
    assert_eq!(c("cntg"), 0.437);
    assert_eq!(c("lang"), 0.247);
    assert_eq!(c("clny"), -0.222);
    let fe_text = std::fs::read_to_string(&fe).unwrap();
    assert!(fe_text.starts_with("dimension,level,value\n"));
    assert_eq!(fe_text.lines().count(), 1 + 414 + 414);
    assert!(fe_text.contains("exporter^year,ARG_1986,"));
}

/// pyfixest 0.60.0 `fepois` on gegravity's sample:
/// `pf.fepois("trade ~ pta + contiguity + common_language + lndist + international | exporter + importer",
///  data=pd.read_csv("sample_data_set.csv"), vcov="hetero", fixef_rm="none", fixef_tol=1e-12)`
/// (printed by bench/compare_pyfixest.py).
#[test]
fn gegravity_matches_pyfixest() {
    let Some(p) = data("gegravity-sample/sample_data_set.csv") else {
        return;
    };
    let ds = Dataset::from_csv(&p).unwrap();
    let f = Formula::parse(
        "trade ~ pta + contiguity + common_language + lndist + international | exporter + importer",
    )
    .unwrap();
    let fit = ppml::fit(&ds, &f, &PpmlOptions::default()).unwrap();
    let want = [
        ("pta", 0.471138303, 0.111640615),
        ("contiguity", 0.891576898, 0.137645860),
        ("common_language", 0.032624967, 0.087180353),
        ("lndist", -0.389862313, 0.075691747),
        ("international", -3.412584412, 0.223081802),
    ];
    for (n, b, se) in want {
        let (gb, gse) = fit.coef(n).unwrap();
        assert!((gb - b).abs() < 1e-6, "{n}: {gb} vs {b}");
        assert!((gse - se).abs() < 1e-6, "{n}: {gse} vs {se}");
    }
}

/// Bad input: the error names the file and row, and the exit status is non-zero.
#[test]
fn bad_input_exit_code_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.csv");
    std::fs::write(&p, "e,i,y,x\nA,B,1,2\nA,C,2,inf\nB,C,0,1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("estimate")
        .arg(&p)
        .args(["--formula", "y ~ x | e"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv, row 3") && err.contains("'x'"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("estimate")
        .arg(&p)
        .args(["--formula", "y ~ x + | e"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("formula"));
}

/// Models without fixed effects (an intercept and regressors, one with an offset) give
/// pyfixest 0.60's `fepois` estimates and heteroskedasticity-robust standard errors
/// (`vcov="hetero"`, its default small-sample correction), printed to full precision by
/// pyfixest on 2026-12-04 (`fit.coef()`, `fit.se()`): coefficients within 1e-8 and standard
/// errors within 1e-6 (relative), every observation kept. A layout of zero observations once
/// made the projection without fixed effects leave the demeaned columns unwritten, so that
/// every regressor was dropped as collinear (or the IRLS overflowed) with exit 0.
#[test]
fn models_without_fixed_effects_match_pyfixest() {
    struct Case {
        file: &'static str,
        args: Vec<String>,
        nobs: u64,
        /// (name, pyfixest's estimate, pyfixest's standard error)
        want: Vec<(&'static str, f64, f64)>,
    }
    let cases = [
        Case {
            file: "gegravity-sample/sample_data_set.csv",
            args: vec![
                "--formula".into(),
                "trade ~ pta + contiguity + lndist + log(Y)".into(),
                "--offset".into(),
                "log(E)".into(),
            ],
            nobs: 900,
            want: vec![
                ("(Intercept)", -12.758167481799163, 2.1637053738761507),
                ("pta", -0.9476066922481111, 0.15992612339469536),
                ("contiguity", 0.18543485220105815, 0.19609985663227583),
                ("lndist", -0.7742954672626439, 0.07582785095522535),
                ("log(Y)", 1.1441602758595824, 0.15985360339236016),
            ],
        },
        Case {
            file: "advanced-guide/agtpa_applications.csv",
            args: vec![
                "--formula".into(),
                "trade ~ rta + log(dist)".into(),
                "--subset".into(),
                format!("year in {YEARS}"),
            ],
            nobs: 28_566,
            want: vec![
                ("(Intercept)", 14.316919385416591, 0.2416975842536183),
                ("rta", -0.9826426437026882, 0.184872944553027),
                ("log(dist)", -0.7687397325048848, 0.030421902828129302),
            ],
        },
    ];
    for case in cases {
        let Some(p) = data(case.file) else {
            return;
        };
        let out = Command::new(env!("CARGO_BIN_EXE_tradesim"))
            .arg("estimate")
            .arg(&p)
            .args(&case.args)
            .args(["--ssc", "pyfixest", "--json"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {err}", case.file);
        assert!(!err.contains("collinear"), "{}: {err}", case.file);
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(j["nobs"], case.nobs, "{}", case.file);
        assert_eq!(j["dropped"], 0, "{}", case.file);
        assert_matches_pyfixest(&j, &case.want, case.file);
    }
}

/// Whether `x` shows as `printed` when rounded to that many digits: within half a unit of its
/// last digit (`"-1.52787"`: 5e-6; `"-7.025e+11"`: 5e7).
fn shows_as(x: f64, printed: &str) -> bool {
    let (mantissa, exp) = match printed.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap()),
        None => (printed, 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let value: f64 = printed.parse().unwrap();
    (x - value).abs() <= 0.5 * 10f64.powi(exp - decimals) * (1.0 + 1e-9)
}

/// fixest's own gravity example, on its Eurostat panel (`data/eurostat-products`, fixest's
/// `data(trade)`: 38,325 flows, 15 origins × 15 destinations × 20 products × 2007–2016),
/// against the numbers printed in fixest's walkthrough vignette
/// (`docs/articles/fixest_walkthrough.html` of lrberge/fixest, commit 02ac6c2, 2025-04-18),
/// under fixest's default small-sample correction (`--ssc fixest`, tradesim's default):
///
/// - `fepois(Euros ~ log(dist_km) | Origin + Destination + Product + Year, trade)`, clustered by
///   Origin: −1.52787 (0.115678), log-likelihood −7.025e+11, pseudo R² 0.764032; by Origin and
///   Destination: (0.130734); by Product: (0.098294);
/// - the same with fewer fixed effects (`etable(gravity_subfe, cluster = ~Origin+Destination)`):
///   Year −1.029 (0.1581), pseudo R² 0.18833; Year + Destination −1.226 (0.2045), 0.35826;
///   Year + Destination + Origin −1.518 (0.1282), 0.59312;
/// - without fixed effects: (Intercept) 24.70889, log(dist_km) −1.02896, pseudo R² 0.185023.
///
/// Every printed digit is matched, except the standard errors of the model without fixed
/// effects: fixest prints (1.124768, 0.158022) clustered by Origin and Destination and
/// (0.330044, 0.045954) by Product, where tradesim gives (1.124762, 0.158026) and
/// (0.330028, 0.045957), and so does pyfixest 0.60 (`fepois("Euros ~ np.log(dist_km)")`:
/// 1.12476236, 0.15802596 and 0.33002812, 0.0459574, at `iwls_tol` 1e-8 and 1e-12 alike). The two
/// coefficients move in opposite directions, so the gap (up to 7e-5, relative) is not a
/// small-sample factor; those four are checked to 1e-4.
#[test]
fn fixest_walkthrough_eurostat_poisson() {
    let Some(p) = data("eurostat-products/trade.csv") else {
        return;
    };
    let p = p.to_str().unwrap();
    let fit = |fe: &str, cluster: &str| -> serde_json::Value {
        let formula = match fe {
            "" => "Euros ~ log(dist_km)".to_string(),
            fe => format!("Euros ~ log(dist_km) | {fe}"),
        };
        let j = estimate_json(&[p, "--formula", &formula, "--cluster", cluster]);
        assert_eq!(j["nobs"], 38_325, "{formula}");
        assert_eq!(j["dropped"], 0, "{formula}");
        j
    };
    // A fit statistic of the JSON (`loglik`, `pseudo_r2`).
    let stat = |j: &serde_json::Value, key: &str| j[key].as_f64().unwrap();
    let coef = |j: &serde_json::Value, name: &str| {
        let c = &j["coefficients"][name];
        (
            c["estimate"].as_f64().unwrap(),
            c["std_error"].as_f64().unwrap(),
        )
    };
    let check = |what: &str, x: f64, printed: &str| {
        assert!(
            shows_as(x, printed),
            "{what}: {x} does not show as {printed}"
        );
    };
    let all = "Origin + Destination + Product + Year";
    let j = fit(all, "Origin");
    let (b, se) = coef(&j, "log(dist_km)");
    check("estimate", b, "-1.52787");
    check("SE by Origin", se, "0.115678");
    check("log-likelihood", stat(&j, "loglik"), "-7.025e+11");
    check("pseudo R2", stat(&j, "pseudo_r2"), "0.764032");
    let (_, se) = coef(&fit(all, "Origin+Destination"), "log(dist_km)");
    check("SE by Origin and Destination", se, "0.130734");
    let (_, se) = coef(&fit(all, "Product"), "log(dist_km)");
    check("SE by Product", se, "0.098294");
    for (fe, b_printed, se_printed, r2_printed) in [
        ("Year", "-1.029", "0.1581", "0.18833"),
        ("Year + Destination", "-1.226", "0.2045", "0.35826"),
        ("Year + Destination + Origin", "-1.518", "0.1282", "0.59312"),
    ] {
        let j = fit(fe, "Origin+Destination");
        let (b, se) = coef(&j, "log(dist_km)");
        check(fe, b, b_printed);
        check(fe, se, se_printed);
        check(fe, stat(&j, "pseudo_r2"), r2_printed);
    }
    let near = |what: &str, x: f64, fixest: f64| {
        assert!(
            (x - fixest).abs() <= 1e-4 * fixest,
            "{what}: {x} vs fixest's {fixest}"
        );
    };
    for (cluster, se_printed) in [
        ("Origin+Destination", [1.124768, 0.158022]),
        ("Product", [0.330044, 0.045954]),
    ] {
        let j = fit("", cluster);
        let (b0, se0) = coef(&j, "(Intercept)");
        let (b1, se1) = coef(&j, "log(dist_km)");
        check("intercept", b0, "24.70889");
        check("log(dist_km) without fixed effects", b1, "-1.02896");
        check(
            "pseudo R2 without fixed effects",
            stat(&j, "pseudo_r2"),
            "0.185023",
        );
        near(&format!("intercept SE by {cluster}"), se0, se_printed[0]);
        near(&format!("log(dist_km) SE by {cluster}"), se1, se_printed[1]);
    }
}

/// A regressor the fixed effects explain wholly is dropped by the `estimate` command, whose
/// first IRLS step is demeaned loosely: `log(dist)` beside a pair effect (constant within each
/// pair), and `log(dist) + rta` beside `rta`. The Guide's three-way model then gives `rta`
/// as without them. Before, `log(dist)` kept 1.8e-9 of its sum of squares after that loose
/// first step, just above the 1e-9 line: it was kept, its coefficient ran to 1e10 and the IRLS
/// did not converge in 100 iterations (exit 1); with `log(dist) + rta`, `X'WX` turned singular.
#[test]
fn regressors_collinear_with_the_fixed_effects_are_dropped() {
    let Some(p) = data("advanced-guide/agtpa_applications.csv") else {
        return;
    };
    let p = p.to_str().unwrap();
    let subset = format!("year in {YEARS}");
    let fe = "exporter^year + importer^year + exporter^importer";
    let fit = |rhs: &str| -> serde_json::Value {
        let formula = format!("trade ~ {rhs} | {fe}");
        estimate_json(&[
            p,
            "--formula",
            &formula,
            "--define",
            "ldx = log(dist) + rta",
            "--subset",
            &subset,
        ])
    };
    let plain = fit("rta");
    let b0 = plain["coefficients"]["rta"]["estimate"].as_f64().unwrap();
    let se0 = plain["coefficients"]["rta"]["std_error"].as_f64().unwrap();
    for (rhs, dropped) in [("rta + log(dist)", "log(dist)"), ("rta + ldx", "ldx")] {
        let j = fit(rhs);
        assert_eq!(j["collinear"], serde_json::json!([dropped]), "{rhs}");
        assert_eq!(j["converged"], true, "{rhs}");
        let c = &j["coefficients"];
        assert!(c.get(dropped).is_none(), "{rhs}: {c}");
        let b = c["rta"]["estimate"].as_f64().unwrap();
        let se = c["rta"]["std_error"].as_f64().unwrap();
        assert!((b - b0).abs() <= 1e-10 * b0.abs(), "{rhs}: {b} vs {b0}");
        assert!((se - se0).abs() <= 1e-8 * se0, "{rhs}: se {se} vs {se0}");
    }
}

/// fixest's `i(year, rta, ref = 1986)` (an RTA effect per year) on the Guide's three-way model,
/// clustered by pair, against pyfixest 0.60 (`fepois` with the same formula, `vcov={"CRV1":
/// "pair_id"}`, `iwls_tol=1e-12`, `fixef_tol=1e-12`, `fixef_rm="none"`): one regressor per year
/// but 1986, named as fixest names them.
#[test]
fn a_regressor_per_year_with_i_matches_pyfixest() {
    let Some(p) = data("advanced-guide/agtpa_applications.csv") else {
        return;
    };
    let j = estimate_json(&[
        p.to_str().unwrap(),
        "--formula",
        "trade ~ i(year, rta, ref = 1986) | exporter^year + importer^year + exporter^importer",
        "--subset",
        &format!("year in {YEARS}"),
        "--cluster",
        "pair_id",
        "--tol",
        "1e-12",
        "--ssc",
        "pyfixest",
    ]);
    assert_eq!(j["nobs"], 28_236);
    let names: Vec<&str> = j["coefficient_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "year::1990:rta",
            "year::1994:rta",
            "year::1998:rta",
            "year::2002:rta",
            "year::2006:rta"
        ]
    );
    let want = [
        ("year::1990:rta", 0.07104782844303639, 0.10448013831103957),
        ("year::1994:rta", 0.2635375538301373, 0.10816556495188762),
        ("year::1998:rta", 0.5481725668099783, 0.10602212782246073),
        ("year::2002:rta", 0.5681070145142103, 0.10819975488463693),
        ("year::2006:rta", 0.6318578200168474, 0.11935028820843852),
    ];
    assert_matches_pyfixest(&j, &want, "i(year, rta, ref = 1986)");
}

/// `tradesim estimate` on a CSV text written into a temporary directory, which must fail
/// cleanly (exit status 1): its stderr.
fn estimate_fails(csv: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = common::write(dir.path(), "panel.csv", csv);
    let mut all = vec!["estimate", p.to_str().unwrap()];
    all.extend(args);
    let out = common::tradesim(&all);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    err
}

const SMALL_PANEL: &str = "exporter,importer,year,trade,rta,ln_dist\n\
    A,B,2000,10,0,1.5\nA,C,2000,12,1,1.2\nB,A,2000,9,0,1.5\nB,C,2000,7,1,1.9\n\
    C,A,2000,11,1,1.2\nC,B,2000,8,0,1.9\nA,B,2004,13,1,1.5\nA,C,2004,12,1,1.2\n";

/// A column name mistyped in the formula, `--cluster` or `--subset` (another case, a letter
/// left out) is answered with the column meant, not only the list of every column.
#[test]
fn a_mistyped_column_is_answered_with_the_one_meant() {
    for (args, want) in [
        (
            vec!["--formula", "trade ~ RTA | exporter"],
            "did you mean 'rta'?",
        ),
        (
            vec!["--formula", "trade ~ rta + ln_dst | exporter"],
            "did you mean 'ln_dist'?",
        ),
        (
            vec!["--formula", "Trade ~ rta | exporter"],
            "did you mean 'trade'?",
        ),
        (
            vec!["--formula", "trade ~ rta | exprter^year"],
            "did you mean 'exporter'?",
        ),
        (
            vec![
                "--formula",
                "trade ~ rta | exporter",
                "--cluster",
                "imprter",
            ],
            "did you mean 'importer'?",
        ),
        (
            vec![
                "--formula",
                "trade ~ rta | exporter",
                "--subset",
                "yeer > 2000",
            ],
            "did you mean 'year'?",
        ),
    ] {
        let err = estimate_fails(SMALL_PANEL, &args);
        assert!(
            err.contains(want) && err.contains("the data has: exporter"),
            "{args:?}: {err}"
        );
    }
}

/// R's ways of writing a subset (`%in%`, `c(...)`, a text value left unquoted) are answered
/// with the way tradesim writes it.
#[test]
fn r_style_subsets_are_answered_with_tradesim_syntax() {
    for (subset, want) in [
        ("exporter %in% c('A')", "'x in v1, v2'"),
        ("year in c(2000, 2004)", "without R's c(...)"),
        ("year in (2000, 2004)", "without R's c(...)"),
        ("exporter != A", "quote it: 'A'"),
    ] {
        let err = estimate_fails(
            SMALL_PANEL,
            &["--formula", "trade ~ rta | exporter", "--subset", subset],
        );
        assert!(err.contains(want), "{subset}: {err}");
    }
}

/// A column whose name has a space (`Trade Value`, as a spreadsheet or Stata's labels give)
/// cannot be written in a formula: the error says to rename it in the header, and how.
#[test]
fn a_column_name_with_spaces_is_answered_with_a_rename() {
    let panel = SMALL_PANEL.replacen("trade,rta,ln_dist", "Trade Value,rta,ln dist", 1);
    for (formula, want) in [
        ("Trade Value ~ rta | exporter", "'Trade_Value'"),
        ("`Trade Value` ~ rta | exporter", "'Trade_Value'"),
        ("rta ~ ln dist | exporter", "'ln_dist'"),
    ] {
        let err = estimate_fails(&panel, &["--formula", formula]);
        assert!(
            err.contains("rename the column in the file's header") && err.contains(want),
            "{formula}: {err}"
        );
    }
}

/// A negative outcome (a negative recorded flow) is answered with the `--subset` filter that
/// drops such rows, which works. An empty outcome (a missing flow left empty), once answered
/// the same way, is a missing value: its row is left out with a note, and the filter still
/// works.
#[test]
fn an_empty_or_negative_outcome_is_answered_with_a_working_filter() {
    for cell in ["", "-5"] {
        let panel = SMALL_PANEL.replacen("A,C,2000,12,", &format!("A,C,2000,{cell},"), 1);
        let dir = tempfile::tempdir().unwrap();
        let p = common::write(dir.path(), "panel.csv", &panel);
        if cell.is_empty() {
            let j = estimate_json(&[p.to_str().unwrap(), "--formula", "trade ~ rta | exporter"]);
            assert_eq!((&j["nobs"], &j["dropped_missing"]), (&7.into(), &1.into()));
        } else {
            let err = estimate_fails(&panel, &["--formula", "trade ~ rta | exporter"]);
            assert!(
                err.contains("panel.csv, row 3") && err.contains("--subset filter ('trade >= 0'"),
                "{cell:?}: {err}"
            );
        }
        let j = estimate_json(&[
            p.to_str().unwrap(),
            "--formula",
            "trade ~ rta | exporter",
            "--subset",
            "trade >= 0",
        ]);
        assert_eq!(j["nobs"], 7, "{cell:?}");
    }
}

/// A small gravity panel written by hand in code: 6 × 6 economies × 3 years, columns
/// `exporter,importer,year,trade,dist,rta,pair,unused`, every cell filled. `cell(row, column,
/// value)` may replace a cell's text (a missing marker); the rows are in a fixed order.
fn small_panel(cell: &dyn Fn(usize, &str, String) -> String) -> Vec<String> {
    let names = ["ARG", "BRA", "CHL", "DEU", "FRA", "NAM"];
    let mut lines = Vec::new();
    let mut r = 0usize;
    for (a, e) in names.iter().enumerate() {
        for (b, m) in names.iter().enumerate() {
            for (t, year) in [2000, 2005, 2010].iter().enumerate() {
                let dist = 1.0 + ((a * 7 + b * 3) % 11) as f64 * 0.73 + (a + b) as f64 * 0.1;
                let rta = usize::from((a + b + t) % 3 == 0 && a != b);
                let noise = ((r * 2654435761) % 1000) as f64 / 1000.0 - 0.5;
                let trade = (4.0 - 0.9 * dist.ln() + 0.3 * rta as f64 + 0.4 * noise).exp();
                let pair = format!("{}{}", names[a.min(b)], names[a.max(b)]);
                let cells = [
                    ("exporter", e.to_string()),
                    ("importer", m.to_string()),
                    ("year", year.to_string()),
                    ("trade", format!("{trade:.6}")),
                    ("dist", format!("{dist:.4}")),
                    ("rta", rta.to_string()),
                    ("pair", pair),
                    ("unused", format!("{}", r % 5)),
                ];
                let row: Vec<String> = cells.into_iter().map(|(c, v)| cell(r, c, v)).collect();
                lines.push(row.join(","));
                r += 1;
            }
        }
    }
    lines
}

/// The rows of [`small_panel`], every cell filled, but those where `removed` holds: removed
/// by hand.
fn small_panel_without(removed: &dyn Fn(usize) -> bool) -> Vec<String> {
    small_panel(&|_, _, v| v)
        .into_iter()
        .enumerate()
        .filter(|(r, _)| !removed(*r))
        .map(|(_, l)| l)
        .collect()
}

const PANEL_HEADER: &str = "exporter,importer,year,trade,dist,rta,pair,unused";
const PANEL_FORMULA: &str = "trade ~ log(dist) + rta | exporter^year + importer";

/// `tradesim estimate FILE --formula PANEL_FORMULA --cluster pair ARGS`.
fn estimate_panel(file: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "estimate",
        file.to_str().unwrap(),
        "--formula",
        PANEL_FORMULA,
        "--cluster",
        "pair",
    ];
    all.extend(args);
    common::tradesim(&all)
}

/// `tradesim estimate FILE --formula PANEL_FORMULA --cluster pair --json ARGS` on `lines`:
/// the JSON (or the error) and stderr.
fn estimate_lines(
    dir: &std::path::Path,
    name: &str,
    lines: &[String],
    args: &[&str],
) -> (Result<serde_json::Value, String>, String) {
    let p = common::write(
        dir,
        name,
        &format!("{PANEL_HEADER}\n{}\n", lines.join("\n")),
    );
    let mut all = vec!["--json"];
    all.extend(args);
    let out = estimate_panel(&p, &all);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    if out.status.success() {
        (Ok(serde_json::from_slice(&out.stdout).unwrap()), err)
    } else {
        (Err(err.clone()), err)
    }
}

/// The parts of a fit's JSON that depend on the data used (not on how many rows were left out).
fn fit_numbers(j: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "coefficients": j["coefficients"], "vcov": j["vcov"], "nobs": j["nobs"],
        "deviance": j["deviance"], "loglik": j["loglik"], "null_loglik": j["null_loglik"],
        "fixed_effect_levels": j["fixed_effect_levels"], "vcov_type": j["vcov_type"],
        "dropped": j["dropped"], "collinear": j["collinear"],
    })
}

/// Missing values as R (`NA`, an empty cell) and Stata (`.`) write them, in the outcome, a
/// regressor, a fixed effect and the cluster, are read as missing, and the rows are left out of
/// the fit, as fixest and pyfixest do: the fit is the one of the file without those rows (to
/// the bit), the note on stderr names the count per column, the JSON `dropped_missing` and
/// `missing`. A missing value in a column the model does not use leaves its row in. (These
/// files were once refused: `NA` and `.` made their column text, and an empty cell was an
/// error naming its row.)
#[test]
fn missing_values_from_r_and_stata_are_left_out_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let marked = |r: usize, c: &str, v: String| -> String {
        match (r, c) {
            (3, "trade") => "NA".into(),
            (10, "dist") => ".".into(),
            (17, "exporter") => String::new(),
            (24, "pair") => "NA".into(),
            (30, "year") => ".".into(),
            (31, "trade") => String::new(),
            (31, "rta") => "NA".into(),
            (40, "unused") => "NA".into(),
            _ => v,
        }
    };
    let dropped = [3, 10, 17, 24, 30, 31];
    let lines = small_panel(&marked);
    let (got, err) = estimate_lines(dir.path(), "na.csv", &lines, &[]);
    let got = got.unwrap_or_else(|e| panic!("{e}"));
    let kept = small_panel_without(&|r| dropped.contains(&r));
    let (want, _) = estimate_lines(dir.path(), "kept.csv", &kept, &[]);
    let want = want.unwrap();
    assert_eq!(fit_numbers(&got), fit_numbers(&want));
    assert_eq!(got["nobs"], 108 - 6);
    assert_eq!(got["dropped_missing"], 6);
    assert_eq!(
        got["missing"],
        serde_json::json!({"trade": 2, "dist": 1, "rta": 1, "exporter": 1, "year": 1, "pair": 1})
    );
    // The file without missing values says nothing of them.
    assert!(want.get("dropped_missing").is_none() && want.get("missing").is_none());
    assert!(
        err.contains(
            "note: 6 observation(s) removed because of missing values (trade: 2, dist: 1, rta: 1, exporter: 1, year: 1, pair: 1); 102 used"
        ),
        "{err}"
    );
    assert_eq!(err.matches("note:").count(), 1, "{err}");
    // The table says it too.
    let p = dir.path().join("na.csv");
    let out = estimate_panel(&p, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Observations: 102") && text.contains("6 with missing values (trade: 2,"),
        "{text}"
    );
    // Two models: one note each, naming its formula; the second uses fewer columns.
    let out = estimate_panel(&p, &["--formula", "trade ~ rta | exporter", "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("note: `{PANEL_FORMULA}`: 6 observation(s)"))
            && err.contains("note: `trade ~ rta | exporter`: 4 observation(s) removed because of missing values (trade: 2, rta: 1, exporter: 1, pair: 1); 104 used"),
        "{err}"
    );
}

/// `is_missing(x)` in `--subset`: `!is_missing(dist)` leaves the rows out before the fit (as
/// excluded by the subset, no note); a filter on a missing value is not true, so its row is
/// left out too (R's `subset()`); `is.na` is answered with the name to use.
#[test]
fn is_missing_in_subset() {
    let dir = tempfile::tempdir().unwrap();
    let lines = small_panel(&|r, c, v| {
        if c == "dist" && r % 10 == 4 {
            "NA".into()
        } else {
            v
        }
    });
    let (got, err) = estimate_lines(
        dir.path(),
        "na.csv",
        &lines,
        &["--subset", "!is_missing(dist)"],
    );
    let got = got.unwrap();
    assert_eq!(got["excluded_by_subset"], 11);
    assert_eq!(got["nobs"], 108 - 11);
    assert!(
        got.get("dropped_missing").is_none() && !err.contains("note:"),
        "{err}"
    );
    let (same, _) = estimate_lines(dir.path(), "na.csv", &lines, &["--subset", "dist > 0"]);
    assert_eq!(fit_numbers(&same.unwrap()), fit_numbers(&got));
    let (_, err) = estimate_lines(dir.path(), "na.csv", &lines, &["--subset", "is.na(dist)"]);
    assert!(
        err.contains("R's is.na(x) is written is_missing(x)"),
        "{err}"
    );
    // Only rows with a missing distance: every row is missing a value the model uses.
    let (_, err) = estimate_lines(
        dir.path(),
        "na.csv",
        &lines,
        &["--subset", "is_missing(dist)"],
    );
    assert!(
        err.contains("na.csv:")
            && err.contains(
                "every row the subset filter keeps is missing a value the model uses (dist: 11)"
            ),
        "{err}"
    );
}

/// Property: a panel with missing cells (each of R's, Stata's and the other markers, in any
/// column the model uses, or in a column it does not use) fits exactly as the same panel with
/// the rows that miss a used value removed by hand, and `dropped_missing` counts those rows.
#[test]
fn random_missing_cells_fit_as_the_rows_removed_by_hand() {
    use rand::{RngExt, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let used = [
        "trade", "dist", "rta", "exporter", "year", "importer", "pair",
    ];
    let markers = ["", "NA", ".", "NaN", "nan", "NULL", "#N/A"];
    for seed in 0..16u64 {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(seed);
        let cells: Vec<(usize, &str, &str)> = (0..rng.random_range(1..12))
            .map(|_| {
                let c = if rng.random_range(0..4) == 0 {
                    "unused"
                } else {
                    used[rng.random_range(0..used.len())]
                };
                (
                    rng.random_range(0..108),
                    c,
                    markers[rng.random_range(0..markers.len())],
                )
            })
            .collect();
        let lines = small_panel(&|r, c, v| {
            cells
                .iter()
                .find(|&&(r2, c2, _)| r2 == r && c2 == c)
                .map_or(v, |&(_, _, m)| m.to_string())
        });
        let gone: std::collections::BTreeSet<usize> = cells
            .iter()
            .filter(|(_, c, _)| *c != "unused")
            .map(|&(r, _, _)| r)
            .collect();
        let kept = small_panel_without(&|r| gone.contains(&r));
        let (got, err) = estimate_lines(dir.path(), "na.csv", &lines, &[]);
        let (want, _) = estimate_lines(dir.path(), "kept.csv", &kept, &[]);
        let what = format!("seed {seed}: {cells:?}");
        let (got, want) = match (got, want) {
            (Ok(g), Ok(w)) => (g, w),
            (Err(_), Err(_)) => continue,
            (g, w) => panic!("{what}: {g:?} vs {w:?}"),
        };
        assert_eq!(fit_numbers(&got), fit_numbers(&want), "{what}");
        if gone.is_empty() {
            assert!(
                got.get("dropped_missing").is_none() && !err.contains("note:"),
                "{what}"
            );
        } else {
            assert_eq!(got["dropped_missing"], gone.len(), "{what}: {err}");
            assert!(
                err.contains(&format!("note: {} observation(s)", gone.len())),
                "{what}: {err}"
            );
        }
    }
}

/// [`small_panel`] with Namibia keyed by its ISO2 code `NA` (written `"NA"` when `quoted`) and
/// Stata's missing `.` in one distance (row 10, not Namibia's).
fn namibia_panel(quoted: bool) -> Vec<String> {
    small_panel(&|r, c, v| match (r, c, v.as_str()) {
        (10, "dist", _) => ".".into(),
        (_, "exporter" | "importer", "NAM") if quoted => "\"NA\"".into(),
        (_, "exporter" | "importer", "NAM") => "NA".into(),
        _ => v,
    })
}

/// A panel keyed by two-letter codes (AR, BR, CH, DE, FR, NA) read with the default markers: the
/// `NA` rows are left out, and a warning per column says that `NA` may be Namibia and what to
/// pass. Not with `--na-values .` (Namibia is a level), and not among ISO3 codes, where `NA` is
/// a missing value like any other.
#[test]
fn namibia_as_iso2_na_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let iso2 = small_panel(&|_, c, v| match c {
        "exporter" | "importer" => v[..2].to_string(),
        _ => v,
    });
    let (got, err) = estimate_lines(dir.path(), "iso2.csv", &iso2, &[]);
    assert_eq!(got.unwrap()["dropped_missing"], 33);
    for col in ["exporter", "importer"] {
        let w = format!("warning: column '{col}': 18 row(s) hold `NA`, read as a missing value and left out, but every other value is a two-letter code (AR, BR, CH, …): if `NA` is Namibia");
        assert!(err.contains(&w), "{err}");
    }
    assert_eq!(err.matches("if `NA` is Namibia").count(), 2, "{err}");
    let (got, err) = estimate_lines(dir.path(), "iso2.csv", &iso2, &["--na-values", "."]);
    assert_eq!(got.unwrap()["dropped_missing"], serde_json::Value::Null);
    assert!(!err.contains("Namibia"), "{err}");
    let (got, err) = estimate_lines(dir.path(), "iso3.csv", &namibia_panel(false), &[]);
    assert_eq!(got.unwrap()["dropped_missing"], 34);
    assert!(!err.contains("Namibia"), "{err}");
}

/// `--na-values` replaces the default missing markers (R's `na.strings`): with `--na-values .`
/// a panel keyed by ISO2 codes keeps Namibia (`NA`, quoted or not) as a level, and fits as the
/// panel with `NAM` does, while `.` is still missing; `is_missing(exporter)` follows the list.
/// Without the option `NA` is missing, as before: Namibia's 33 rows are left out, and the
/// output is byte for byte that of the default list written out.
#[test]
fn na_values_keeps_namibia_as_a_level() {
    let dir = tempfile::tempdir().unwrap();
    let want = small_panel_without(&|r| r == 10);
    let (want, _) = estimate_lines(dir.path(), "nam.csv", &want, &[]);
    let want = want.unwrap();
    for quoted in [false, true] {
        let lines = namibia_panel(quoted);
        let (got, err) = estimate_lines(dir.path(), "na.csv", &lines, &["--na-values", "."]);
        let got = got.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fit_numbers(&got), fit_numbers(&want), "quoted {quoted}");
        assert_eq!(got["dropped_missing"], 1);
        assert_eq!(got["missing"], serde_json::json!({"dist": 1}));
        assert!(
            err.contains("note: 1 observation(s) removed because of missing values (dist: 1)"),
            "{err}"
        );
        // The default: Namibia's rows (18 as exporter, 18 as importer, 3 both) are missing.
        let (got, err) = estimate_lines(dir.path(), "na.csv", &lines, &[]);
        let got = got.unwrap();
        assert_eq!(got["dropped_missing"], 34, "quoted {quoted}");
        assert_eq!(
            got["missing"],
            serde_json::json!({"dist": 1, "exporter": 18, "importer": 18})
        );
        assert!(err.contains("note: 34 observation(s)"), "{err}");
    }
    // is_missing() in --subset counts the same cells as missing.
    let lines = namibia_panel(false);
    let subset = ["--subset", "!is_missing(exporter)"];
    let (got, _) = estimate_lines(dir.path(), "na.csv", &lines, &subset);
    assert_eq!(got.unwrap()["excluded_by_subset"], 18);
    let (got, _) = estimate_lines(
        dir.path(),
        "na.csv",
        &lines,
        &[&subset[..], &["--na-values", "."]].concat(),
    );
    assert_eq!(got.unwrap()["excluded_by_subset"], 0);
    // Without the option the output is unchanged: as with the default list written out.
    let p = dir.path().join("na.csv");
    for json in [&["--json"][..], &[]] {
        let default = estimate_panel(&p, json);
        let listed = estimate_panel(&p, &[json, &["--na-values", "NA,.,NaN,NULL,#N/A"]].concat());
        assert!(default.status.success() && listed.status.success());
        assert_eq!(default.stdout, listed.stdout);
        assert_eq!(default.stderr, listed.stderr);
    }
    // A cell that is neither a number nor, under the list, missing makes its column text: the
    // error says how to mark a missing value, and to list the cell.
    for (list, cell, says) in [
        (".", "NA", "mark a missing value as an empty cell or as . (--na-values), or add 'NA' to --na-values"),
        ("", ".", "mark a missing value as an empty cell (--na-values ''), or list '.' in --na-values"),
    ] {
        let lines = small_panel(&|r, c, v| if (r, c) == (3, "trade") { cell.into() } else { v });
        let (got, err) = estimate_lines(dir.path(), "trade.csv", &lines, &["--na-values", list]);
        assert!(got.is_err(), "{err}");
        let row = format!("trade.csv, row 5: column 'trade' (outcome 'trade') holds numbers, but this row has '{cell}', which is not one");
        assert!(err.contains(&row) && err.contains(says), "{list:?}: {err}");
    }
}

/// A `--na-values` list that cannot be read as meant is refused at the flag, saying what to
/// write: an empty item, `none` (no token, or the text?), a quoted token, a number.
#[test]
fn a_bad_na_values_list_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lines = namibia_panel(false);
    let p = common::write(
        dir.path(),
        "na.csv",
        &format!("{PANEL_HEADER}\n{}\n", lines.join("\n")),
    );
    for (list, says) in [
        ("--na-values=NA,,.", "item 2 of 'NA,,.' is empty; an empty cell is always a missing value, so leave the empty item out (--na-values NA,.)"),
        ("--na-values=none", "for only empty cells as missing values write --na-values ''"),
        ("--na-values=\"NA\"", "tokens are matched after the CSV's quotes are taken off"),
        ("--na-values=-99", "the token '-99' is a number"),
    ] {
        let out = estimate_panel(&p, &[list]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && out.stdout.is_empty(), "{list}");
        assert!(
            err.contains("for '--na-values <LIST>'") && err.contains(says) && !err.contains("panicked"),
            "{list}: {err}"
        );
    }
}

/// `estimate --help` names `--na-values`, what it replaces and what `''` means.
#[test]
fn the_help_explains_na_values() {
    let out = common::tradesim(&["estimate", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for says in [
        "--na-values <LIST>",
        "in place of the default NA, ., NaN, NULL and #N/A",
        "Namibia",
        "'' leaves only empty cells, which are always missing",
        "is_missing()",
    ] {
        assert!(help.contains(says), "{says}: {help}");
    }
}

/// The table counts a fixed effect's levels in words that agree with the number: a dimension
/// left with one level (a single year kept by `--subset`) reads "1 level", not "1 levels".
#[test]
fn a_fixed_effect_of_one_level_is_counted_in_the_singular() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{PANEL_HEADER}\n");
    for line in small_panel(&|_, _, v| v) {
        text.push_str(&line);
        text.push('\n');
    }
    let p = common::write(dir.path(), "panel.csv", &text);
    let out = common::tradesim(&[
        "estimate",
        p.to_str().unwrap(),
        "--formula",
        "trade ~ log(dist) | exporter + year",
        "--subset",
        "year == 2000",
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    assert!(table.contains("Fixed effect year: 1 level\n"), "{table}");
    assert!(
        table.contains("Fixed effect exporter: 6 levels\n"),
        "{table}"
    );
}
