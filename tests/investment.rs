//! Investment outcomes (issue 7, MODEL.md §5) on the tiny synthetic world.
mod common;
use common::*;
use tradesim::{scenario, simulate};

fn run(dir: &std::path::Path, provisions: &str, investment: &str) -> simulate::RunOutcome {
    write(
        dir,
        "fdi.csv",
        "source,host,stock,sales_ratio\nAAA,BBB,100,1.5\nCCC,BBB,50,\nBBB,AAA,20,\n",
    );
    let text = format!(
        "Scenario(name: \"inv\", baseline: Csv(\"{}\"), base_year: 2014, years: [2016, 2030],\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], schedule: Immediate, investment_provisions: {provisions})],\n investment: {investment})",
        tiny().display()
    );
    let p = write(dir, "s.ron", &text);
    let s = scenario::load(&p).unwrap_or_else(|e| panic!("{e}"));
    simulate::run(&s, &|| {}).unwrap()
}

fn host_ri(r: &simulate::RunOutcome, y: usize, host: usize) -> f64 {
    1.0 + r.years[y].comparison.real_income_pct[host] / 100.0
}

#[test]
fn without_provisions_fdi_moves_only_with_real_income() {
    let d = tempfile::tempdir().unwrap();
    let r = run(d.path(), "None", "(stocks: \"fdi.csv\", eta: 1.5)");
    for (y, yo) in r.years.iter().enumerate() {
        for f in &yo.investment {
            let want = f.stock_base * host_ri(&r, y, f.host).powf(1.5);
            assert!((f.stock - want).abs() < 1e-9 * want, "{f:?}");
        }
        // The tariff cut moves real income, so FDI does move.
        assert!(yo
            .investment
            .iter()
            .any(|f| (f.stock / f.stock_base - 1.0).abs() > 1e-6));
    }
}

#[test]
fn with_eta_zero_and_no_provisions_fdi_is_unchanged() {
    let d = tempfile::tempdir().unwrap();
    let r = run(d.path(), "None", "(stocks: \"fdi.csv\", eta: 0.0)");
    for yo in &r.years {
        for f in &yo.investment {
            assert_eq!(f.stock, f.stock_base);
        }
    }
}

#[test]
fn deep_provisions_phase_in_to_the_cited_effect() {
    let d = tempfile::tempdir().unwrap();
    let r = run(
        d.path(),
        "Deep",
        "(stocks: \"fdi.csv\", eta: 0.0, phase_in_years: 10)",
    );
    // AAA->BBB is covered: 2016 is the first of ten years, 2030 fully phased in (+54%).
    let f16 = &r.years[0].investment[0];
    let f30 = &r.years[1].investment[0];
    assert!((f16.stock / f16.stock_base - 1.54f64.ln().mul_add(0.1, 0.0).exp()).abs() < 1e-12);
    assert!((f30.stock / f30.stock_base - 1.54).abs() < 1e-12);
    assert_eq!(f30.affiliate_sales, Some(1.5 * f30.stock));
    // CCC->BBB is not covered: unchanged with eta = 0.
    assert_eq!(r.years[1].investment[1].stock, 50.0);
}

#[test]
fn investment_csv_is_written_by_run() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "fdi.csv", "source,host,stock\nAAA,BBB,100\n");
    let text = format!(
        "Scenario(name: \"inv\", baseline: Csv(\"{}\"), base_year: 2014, years: [2020],\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"])],\n investment: (stocks: \"fdi.csv\"))",
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
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (h, rows) = read_csv(&out.join("investment.csv"));
    assert_eq!(
        h,
        [
            "scenario",
            "year",
            "draw",
            "source",
            "host",
            "fdi_stock_base",
            "fdi_stock",
            "change_pct",
            "affiliate_sales"
        ]
    );
    assert_eq!(rows.len(), 1);
    // A PTA (the default provisions): +30% at full phase-in, 5 of 10 years here, times Ŵ^1.
    let change: f64 = rows[0][7].parse().unwrap();
    assert!(change > 10.0 && change < 20.0, "{change}");
}

#[test]
fn unknown_fdi_code_names_the_row() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "fdi.csv",
        "source,host,stock\nAAA,BBB,100\nAAA,ZZZ,5\n",
    );
    let text = format!("Scenario(name: \"inv\", baseline: Csv(\"{}\"), base_year: 2014, years: [2020], investment: (stocks: \"fdi.csv\"))", tiny().display());
    let p = write(d.path(), "s.ron", &text);
    let o = tradesim(&["check", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("fdi.csv, row 3") && err.contains("ZZZ"),
        "{err}"
    );
}

#[test]
fn the_pta_effect_on_fdi_is_recovered_from_a_synthetic_panel() {
    let d = tempfile::tempdir().unwrap();
    let csv = tradesim::invest::synthetic::fdi_panel_csv(25, 11);
    let p = write(d.path(), "fdi.csv", &csv);
    let opts = tradesim::estimate::PpmlOptions {
        cluster: vec!["source^host".into()],
        ..Default::default()
    };
    let ds = tradesim::Dataset::from_csv(&p).unwrap();
    let f = tradesim::Formula::parse("fdi ~ pta | source^year + host^year + source^host").unwrap();
    let fit = tradesim::estimate::fit(&ds, &f, &opts).unwrap();
    let k = fit.names.iter().position(|n| n == "pta").unwrap();
    let (b, se) = (fit.coefficients[k], fit.std_errors[k]);
    let truth = tradesim::invest::synthetic::true_beta();
    assert!(
        (b - truth).abs() < 4.0 * se && se < 0.1,
        "estimate {b} (se {se}), truth {truth}"
    );
}
