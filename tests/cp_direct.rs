use std::path::Path;
use tradesim::data::cp2015;
use tradesim::model::caliendo_parro::*;

#[test]
fn nafta_direct() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cp2015");
    if !dir.exists() {
        eprintln!("skipping: {} not found", dir.display());
        return;
    }
    let b = cp2015::load(&dir).unwrap();
    let theta: Vec<f64> = b.sectors.iter().map(|s| s.theta).collect();
    let model = Model::new(&b, &b.tariffs, theta, true);
    let s = SolverSettings::default();
    for zero in [true, false] {
        let d = if zero {
            vec![0.0; b.n_economies()]
        } else {
            b.deficit.clone()
        };
        let t0 = std::time::Instant::now();
        let bl = model
            .solve(
                &Shock {
                    tariffs: b.tariffs.clone(),
                    cost: None,
                    deficit: d.clone(),
                },
                &s,
                None,
            )
            .unwrap();
        let cf = model
            .solve(
                &Shock {
                    tariffs: b.tariff_sets["cfl"].clone(),
                    cost: None,
                    deficit: d,
                },
                &s,
                Some(&bl),
            )
            .unwrap();
        eprintln!(
            "iters {} {} res {:e} {:e} time {:?}",
            bl.iterations,
            cf.iterations,
            bl.residual,
            cf.residual,
            t0.elapsed()
        );
        let c = compare(&model, &bl, &cf);
        for code in ["CAN", "MEX", "USA"] {
            let n = b.economy_index(code).unwrap();
            eprintln!(
                "{zero} {code} tot {:.3} vot {:.3} welfare {:.3} rw {:.3} ri {:.3}",
                c.tot_pct[n],
                c.vot_pct[n],
                c.welfare_pct[n],
                c.real_wage_pct[n],
                c.real_income_pct[n]
            );
        }
    }
}
