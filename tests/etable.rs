//! Estimation output a fixest user reads (issue 17): p-values and significance codes,
//! log-likelihood and pseudo-R² in the table and the JSON (equal to pyfixest's to 1e-13 on
//! these models: `bench/loglik_vs_pyfixest.py`), and several models side by side from one
//! call or from saved JSON fits, in Markdown, CSV and LaTeX.

mod common;
use common::{shared_data, tradesim};

const GUIDE: &str = "advanced-guide/agtpa_applications.csv";

fn estimate(args: &[&str]) -> String {
    let data = shared_data(GUIDE).unwrap().display().to_string();
    let mut a = vec![
        "estimate",
        data.as_str(),
        "--define",
        "pair = ifelse(exporter == importer, 0, pair_id)",
        "--subset",
        "year in 1986,1990,1994,1998,2002,2006",
        "--cluster",
        "pair_id",
    ];
    a.extend(args);
    let o = tradesim(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn table_and_json_carry_p_values_loglik_and_pseudo_r2() {
    if shared_data(GUIDE).is_none() {
        return;
    }
    let f = "trade ~ rta | exporter^year + importer^year + pair";
    let text = estimate(&["--formula", f]);
    assert!(
        text.contains("Pr(>|z|)") && text.contains("2.77e-7  ***"),
        "{text}"
    );
    assert!(
        text.contains("Log-likelihood: -1379642.53")
            && text.contains("Pseudo R2 (McFadden): 0.996689"),
        "{text}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&estimate(&["--formula", f, "--json"])).unwrap();
    // pyfixest 0.3x fepois: _loglik -1379642.528197, _pseudo_r2 0.9966888744
    assert!((j["loglik"].as_f64().unwrap() / -1379642.528197 - 1.0).abs() < 1e-9);
    assert!((j["pseudo_r2"].as_f64().unwrap() - 0.9966888744).abs() < 1e-9);
    let p = j["coefficients"]["rta"]["p_value"].as_f64().unwrap();
    assert!((p / 2.77e-7 - 1.0).abs() < 0.01, "{p}");
}

#[test]
fn several_models_side_by_side_from_one_call_or_saved_fits() {
    if shared_data(GUIDE).is_none() {
        return;
    }
    let (a, b) = (
        "trade ~ rta | exporter^year + importer^year + pair",
        "trade ~ rta | exporter^year + importer^year",
    );
    let md = estimate(&["--formula", a, "--formula", b]);
    assert!(md.starts_with("|  | (1) | (2) |"), "{md}");
    assert!(
        md.contains("| rta | 0.5572*** | -0.4133 |") && md.contains("| pair | Yes | No |"),
        "{md}"
    );
    assert!(md.contains("| Observations | 28,482 | 28,566 |"), "{md}");
    // the same from saved JSON fits
    let dir = tempfile::tempdir().unwrap();
    let json = estimate(&["--formula", a, "--formula", b, "--json"]);
    let p = dir.path().join("fits.json");
    std::fs::write(&p, json).unwrap();
    let o = tradesim(&["etable", &p.display().to_string()]);
    assert_eq!(String::from_utf8(o.stdout).unwrap(), md);
    for (fmt, want) in [
        ("csv", "rta,0.5572***,-0.4133"),
        ("latex", "0.5572$^{***}$ & -0.4133"),
    ] {
        let o = tradesim(&["etable", &p.display().to_string(), "--table", fmt]);
        let s = String::from_utf8(o.stdout).unwrap();
        assert!(s.contains(want), "{fmt}: {s}");
    }
    // a file that is not a fit says how to make one
    std::fs::write(&p, "{\"formula\": \"y ~ x\"}").unwrap();
    let o = tradesim(&["etable", &p.display().to_string()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("tradesim estimate --json"));
}

/// Probe B finding 10: a file of no fits is refused, and an error inside a file of several
/// fits says which model it is in (no shared data needed: the fits are written here).
#[test]
fn an_empty_file_is_refused_and_an_error_names_its_model() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("fits.json");
    let file = p.display().to_string();
    std::fs::write(&p, "[]").unwrap();
    let o = tradesim(&["etable", &file]);
    assert!(!o.status.success(), "an empty array is no table");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains(&format!("{file}: no fits in the file"))
            && e.contains("tradesim estimate --json"),
        "{e}"
    );
    let fit = |formula: &str, se: f64| {
        serde_json::json!({"formula": formula, "coefficient_names": ["x"],
            "coefficients": {"x": {"estimate": 0.5, "std_error": se, "p_value": 0.01}},
            "nobs": 100, "vcov_type": "heteroskedasticity-robust", "pseudo_r2": 0.9, "loglik": -10.0})
    };
    let fits = serde_json::json!([
        fit("y ~ x", 0.1),
        fit("y ~ x | fe", -0.1),
        fit("y ~ x | g", 0.1)
    ]);
    std::fs::write(&p, fits.to_string()).unwrap();
    let o = tradesim(&["etable", &file]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains(&format!(
            "{file}, model 2 of 3 (`y ~ x | fe`): coefficient x: \"std_error\" is -0.1"
        )),
        "{e}"
    );
    // The valid fits alone make the table.
    let valid = serde_json::json!([fit("y ~ x", 0.1), fit("y ~ x | g", 0.1)]);
    std::fs::write(&p, valid.to_string()).unwrap();
    let o = tradesim(&["etable", &file]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("| x | 0.5000* | 0.5000* |"));
}
