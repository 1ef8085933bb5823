//! The NAFTA check (issue 2, MODEL.md §1): the scenario files run through the binary
//! reproduce every number of Caliendo & Parro's welfare table, both deficit variants.
mod common;
use common::*;

#[test]
fn nafta_welfare_both_variants_through_the_binary() {
    let Some(expected) = shared_data("cp2015/expected_nafta_welfare.csv") else {
        return;
    };
    let (eh, erows) = read_csv(&expected);
    let out = tempfile::tempdir().unwrap();
    for (file, variant) in [
        ("nafta-cp2015.ron", "zero_aggregate_deficit"),
        ("nafta-cp2015-deficits.ron", "with_deficits"),
    ] {
        let dir = out.path().join(variant);
        let o = tradesim(&[
            "run",
            root().join("scenarios").join(file).to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(
            o.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let (h, rows) = read_csv(&dir.join("economies.csv"));
        let mut checked = 0;
        for (region, code) in [("Canada", "CAN"), ("Mexico", "MEX"), ("USA", "USA")] {
            for (ecol, col) in [
                ("tot_pct", "tot_pct"),
                ("vot_pct", "vot_pct"),
                ("welfare_pct", "welfare_pct"),
                ("realwage_pct", "real_wage_pct"),
            ] {
                let want = lookup(
                    &eh,
                    &erows,
                    &[("region", region), ("scenario", variant)],
                    ecol,
                );
                let got = lookup(&h, &rows, &[("economy", code), ("year", "2005")], col);
                assert!(
                    (got - want).abs() <= 0.01 + 1e-9,
                    "{variant} {code} {col}: got {got:.4}, expected {want}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 12);
        let (sh, srows) = read_csv(&dir.join("solver.csv"));
        for r in &srows {
            let res: f64 = r[sh.iter().position(|c| c == "residual").unwrap()]
                .parse()
                .unwrap();
            assert!(res < 1e-10, "residual {res}");
        }
    }
}
