//! Structural gravity solvers on synthetic worlds (`cargo bench --bench gravity`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use tradesim::model::gravity::{self, synthetic::synthetic};
use tradesim::model::solver::Settings;

fn resistances(c: &mut Criterion) {
    let opts = Settings::GRAVITY;
    let mut g = c.benchmark_group("gravity");
    g.sample_size(20);
    for n in [30, 150, 200] {
        let s = synthetic(n, 1).expect("synthetic world");
        g.bench_with_input(BenchmarkId::new("baseline_resistances", n), &n, |b, _| {
            b.iter(|| gravity::solve_resistances(black_box(&s.world), &s.costs, &opts).unwrap())
        });
        g.bench_with_input(
            BenchmarkId::new("exact_baseline_conditional_full", n),
            &n,
            |b, _| {
                b.iter(|| {
                    gravity::solve_exact(
                        black_box(&s.world),
                        &s.costs,
                        &s.counterfactual,
                        5.0,
                        &opts,
                    )
                    .unwrap()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, resistances);
criterion_main!(benches);
