//! Benchmarks of the Caliendo–Parro equilibrium: the NAFTA solve on the Caliendo–Parro data
//! (31 regions × 40 sectors with input-output links; skipped when ../shared is absent) and a
//! synthetic 150 economies × 20 sectors world.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use tradesim::data::{cp2015, synthetic};
use tradesim::model::caliendo_parro::{Model, Shock};
use tradesim::model::solver::Settings;

fn nafta(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cp2015");
    if !dir.exists() {
        eprintln!("skipping the NAFTA benchmark: {} is absent", dir.display());
        return;
    }
    let b = cp2015::load(&dir).expect("the Caliendo-Parro data load");
    let theta = b.sectors.iter().map(|s| s.theta).collect();
    let model = Model::new(&b, &b.tariffs, theta, true);
    let shock = Shock {
        tariffs: b.tariff_sets["cfl"].clone(),
        cost: None,
        deficit: vec![0.0; b.n_economies()],
    };
    let s = Settings::CALIENDO_PARRO;
    let eq = model.solve(&shock, &s, None).expect("converges");
    eprintln!(
        "NAFTA 31x40 with IO: {} iterations, residual {:.1e}",
        eq.iterations, eq.residual
    );
    let mut g = c.benchmark_group("caliendo_parro");
    g.sample_size(20);
    g.bench_function("nafta_cp2015_31x40_io", |bch| {
        bch.iter(|| model.solve(&shock, &s, None).unwrap())
    });
    g.finish();
}

fn synthetic_150x20(c: &mut Criterion) {
    let b = synthetic::world(150, 20, true, 7);
    let theta = b.sectors.iter().map(|s| s.theta).collect();
    let model = Model::new(&b, &b.tariffs, theta, true);
    // Every tariff halved.
    let mut tau = b.tariffs.clone();
    tau.data.iter_mut().for_each(|t| *t *= 0.5);
    let shock = Shock {
        tariffs: tau,
        cost: None,
        deficit: b.deficit.clone(),
    };
    let s = Settings::CALIENDO_PARRO;
    let eq = model.solve(&shock, &s, None).expect("converges");
    eprintln!(
        "synthetic 150x20 with IO: {} iterations, residual {:.1e}",
        eq.iterations, eq.residual
    );
    let mut g = c.benchmark_group("caliendo_parro");
    g.sample_size(10);
    g.bench_function("synthetic_150x20_io", |bch| {
        bch.iter(|| model.solve(&shock, &s, None).unwrap())
    });
    g.finish();
}

criterion_group!(benches, nafta, synthetic_150x20);
criterion_main!(benches);
