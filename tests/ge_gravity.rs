//! Structural gravity on observed flows (issue 17): `scenarios/ge-gravity-eu-enlargement.ron`
//! reproduces GE_gravity's own example, checked against the Stata results that the R port
//! GEGravity ships (`tests/fixtures/ge_gravity/PROVENANCE.md`). The data live in
//! `../shared/data/wiod-2000-2014`; without them the tests print why and return.

mod common;

use common::{read_csv, root, run_gravity, run_gravity_text, shared_data};
use std::collections::HashMap;

const DATA: &str = "wiod-2000-2014/TradeData0014.csv";

/// `economy → (w_eu, w_mult)` and `(exporter, importer) → (eu_effect, X_eu, X_mult)`.
type Welfare = HashMap<String, (f64, f64)>;
type Flows = HashMap<(String, String), (f64, f64, f64)>;

fn stata() -> (Welfare, Flows) {
    let dir = root().join("tests/fixtures/ge_gravity");
    let (_, rows) = read_csv(&dir.join("stata_welfare.csv"));
    let w = rows
        .iter()
        .map(|r| (r[0].clone(), (r[1].parse().unwrap(), r[2].parse().unwrap())))
        .collect();
    let (_, rows) = read_csv(&dir.join("stata_flows.csv"));
    let x = rows
        .iter()
        .map(|r| {
            let v: Vec<f64> = r[2..].iter().map(|s| s.parse().unwrap()).collect();
            ((r[0].clone(), r[1].clone()), (v[0], v[1], v[2]))
        })
        .collect();
    (w, x)
}

#[test]
fn eu_enlargement_reproduces_ge_gravity_additive_imbalances() {
    if shared_data(DATA).is_none() {
        return;
    }
    let o = run_gravity(root().join("scenarios/ge-gravity-eu-enlargement.ron")).unwrap();
    let (welfare, flows) = stata();
    assert_eq!(o.economies.len(), 44);
    assert_eq!(welfare.len(), 44);
    // Stata stores gen_w in single precision (about 6e-8 relative): the welfare changes agree
    // to that precision for all 44 economies.
    for r in &o.economies {
        let (w_eu, _) = welfare[&r.economy];
        let ours = 1.0 + r.real_income_pct / 100.0;
        assert!(
            (ours - w_eu).abs() < 1.5e-7,
            "{}: welfare {ours} vs GE_gravity's {w_eu}",
            r.economy
        );
    }
    // the partial effect lands on exactly the pairs Stata gave it to
    let n = o.names.len();
    for k in 0..n * n {
        let key = (o.names[k / n].clone(), o.names[k % n].clone());
        let (eu_effect, x_eu, _) = flows[&key];
        let ours = o.cost_change[k].ln();
        assert!(
            (ours - eu_effect).abs() < 1e-8,
            "{key:?}: partial effect {ours} vs Stata's {eu_effect}"
        );
        // counterfactual flows: single precision in Stata plus its stopping rule (1e-8 on
        // the change in log flows between iterations)
        let x = o.bilateral[k].value;
        assert!((x / x_eu - 1.0).abs() < 5e-7, "{key:?}: {x} vs {x_eu}");
    }
    // the published story: new members gain most (Malta, Hungary, Slovenia lead), the rest
    // of the EU gains, everyone outside loses, Russia the most
    let pct = |c: &str| {
        o.economies
            .iter()
            .find(|r| r.economy == c)
            .unwrap()
            .real_income_pct
    };
    assert!(pct("MLT") > pct("HUN") && pct("HUN") > pct("SVN") && pct("SVN") > 1.0);
    let outside = [
        "AUS", "BRA", "CAN", "CHE", "CHN", "IDN", "IND", "JPN", "KOR", "MEX", "ROW", "RUS", "TUR",
        "TWN", "USA",
    ];
    for c in outside {
        assert!(pct(c) < 0.0, "{c} {}", pct(c));
        assert!(pct("RUS") <= pct(c));
    }
    // markets clear and deficits are kept in money, world output is the numéraire
    assert!(o.full.market_residual < 1e-10);
    let world: f64 = o.baseline.output.iter().sum();
    assert!((o.full.output.iter().sum::<f64>() / world - 1.0).abs() < 1e-12);
    for i in 0..n {
        let d0 = o.baseline.expenditure[i] - o.baseline.output[i];
        let d1 = o.full.expenditure[i] - o.full.output[i];
        assert!((d1 - d0).abs() < 1e-6 * world / n as f64);
    }
}

#[test]
fn eu_enlargement_multiplicative_option_matches_ge_gravity() {
    let Some(data) = shared_data(DATA) else {
        return;
    };
    let text = std::fs::read_to_string(root().join("scenarios/ge-gravity-eu-enlargement.ron"))
        .unwrap()
        .replace("imbalances: Additive", "imbalances: Multiplicative")
        .replace(
            "\"../../shared/data/wiod-2000-2014/TradeData0014.csv\"",
            &format!("{:?}", data.display().to_string()),
        );
    assert!(text.contains("Multiplicative"));
    let o = run_gravity_text(&text).unwrap();
    let (welfare, flows) = stata();
    // the world-wide expenditure scale s = Σ E' / Σ E ŵ (see below)
    let n = o.names.len();
    let scale = o.full.expenditure.iter().sum::<f64>()
        / (0..n)
            .map(|j| o.baseline.expenditure[j] * o.full.price[j])
            .sum::<f64>();
    assert!((scale - 1.0).abs() < 3e-6, "{scale}");
    for r in &o.economies {
        let (_, w_mult) = welfare[&r.economy];
        // GE_gravity's multiplicative welfare is the real wage ŵ/P̂ = our real GDP
        let real_wage = 1.0 + r.real_gdp_pct / 100.0;
        assert!(
            (real_wage - w_mult).abs() < 1.5e-7,
            "{}: {real_wage} vs {w_mult}",
            r.economy
        );
        // real expenditure differs from it by one world-wide factor s = 1 + 1.6e-6: with
        // E'_j = δ_j Y'_j alone world expenditure would drift from world output, which
        // GE_gravity leaves (its flows miss market clearing by that factor); tradesim scales
        // expenditure so that markets clear
        let real_income = 1.0 + r.real_income_pct / 100.0;
        assert!((real_income / real_wage / scale - 1.0).abs() < 1e-12);
    }
    for k in 0..n * n {
        let key = (o.names[k / n].clone(), o.names[k % n].clone());
        let (_, _, x_mult) = flows[&key];
        let x = o.bilateral[k].value;
        assert!(
            (x / scale / x_mult - 1.0).abs() < 5e-7,
            "{key:?}: {x} vs {x_mult}"
        );
    }
    assert!(o.full.market_residual < 1e-10);
}

#[test]
fn the_partial_effect_is_the_three_way_ppml_estimate() {
    let Some(data) = shared_data(DATA) else {
        return;
    };
    let opts = tradesim::estimate::PpmlOptions {
        subset: Some("exporter != importer".into()),
        cluster: vec!["expcode^impcode".into()],
        ..Default::default()
    };
    let ds = tradesim::Dataset::from_csv(&data).unwrap();
    let f = tradesim::Formula::parse(
        "trade ~ eu_enlargement + other_fta | expcode^year + impcode^year + expcode^impcode",
    )
    .unwrap();
    let fit = tradesim::estimate::fit(&ds, &f, &opts).unwrap();
    let (b, _) = fit.coef("eu_enlargement").unwrap();
    // the scenario's coefficient; the help file prints 0.224, Stata used 0.224249005 (float)
    assert!((b - 0.22424900615658175).abs() < 1e-9, "{b}");
}

#[test]
fn observed_flows_errors_name_the_fix() {
    let Some(data) = shared_data(DATA) else {
        return;
    };
    let base = std::fs::read_to_string(root().join("scenarios/ge-gravity-eu-enlargement.ron"))
        .unwrap()
        .replace(
            "\"../../shared/data/wiod-2000-2014/TradeData0014.csv\"",
            &format!("{:?}", data.display().to_string()),
        );
    let err = |text: String| -> String { run_gravity_text(&text).unwrap_err().to_string() };
    // a year the data do not have
    let e = err(base.replace("to_year: 2014", "to_year: 2013"));
    assert!(e.contains("2013") && e.contains("no row"), "{e}");
    // a column that is not there
    let e = err(base.replace("column: \"eu_enlargement\"", "column: \"eu\""));
    assert!(
        e.contains("no column \"eu\"") && e.contains("eu_enlargement"),
        "{e}"
    );
    // SetCovariate needs a coefficient the observed baseline does not have
    let e = err(base.replace(
        "CovariateChange(column: \"eu_enlargement\", coefficient: 0.22424900615658175, to_year: 2014)",
        "SetCovariate(column: \"eu_enlargement\", pairs: All, value: 1)",
    ));
    assert!(
        e.contains("CovariateChange") && e.contains("PartialEffect"),
        "{e}"
    );
    // theta and sigma together
    let e = err(base.replace("theta: 4,", "theta: 4, sigma: 5,"));
    assert!(e.contains("both sigma and theta"), "{e}");
    // a given partial effect on a pair set works and moves only those pairs
    let text = base.replace(
        "CovariateChange(column: \"eu_enlargement\", coefficient: 0.22424900615658175, to_year: 2014)",
        "PartialEffect(pairs: Among([\"POL\", \"DEU\"]), effect: 0.5)",
    );
    let o = run_gravity_text(&text).unwrap();
    let changed = o.cost_change.iter().filter(|b| **b != 1.0).count();
    assert_eq!(changed, 2);
    let pol = o.economies.iter().find(|r| r.economy == "POL").unwrap();
    assert!(pol.real_income_pct > 0.0);
}
