//! Batch throughput: Monte Carlo draws (scenario × draw units, each a baseline solve plus the
//! years) per second at 1 and 2 threads, on the built-in world (CPTPP, one year) and on a
//! synthetic 150 economies × 20 sectors world (one agreement among 20 economies, one year).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;
use std::path::Path;
use tradesim::data::synthetic;
use tradesim::model::solver::Settings;
use tradesim::policy::{Agreement, Membership, Schedule};
use tradesim::scenario::batch::{Batch, Distribution, Parameter};
use tradesim::scenario::raw::Deficits;
use tradesim::scenario::{self, Scenario};
use tradesim::simulate::batch::{solve_unit, Unit};

const DRAWS: u32 = 8;

fn batch_of(s: Scenario) -> Batch {
    Batch {
        name: "bench".into(),
        path: "bench.ron".into(),
        scenarios: vec![s],
        focus: Vec::new(),
        draws: DRAWS,
        seed: 1,
        common_random_numbers: true,
        uncertainty: vec![(
            Parameter::ThetaScale,
            Distribution::LogNormal {
                mu: 0.0,
                sigma: 0.2,
            },
        )],
        estimate: None,
        inputs: Vec::new(),
        input_digests: Vec::new(),
        notes: Vec::new(),
    }
}

fn synthetic_scenario() -> Scenario {
    let b = synthetic::world(150, 20, true, 3);
    let theta = b.sectors.iter().map(|s| s.theta).collect();
    Scenario {
        name: "synthetic 150x20".into(),
        description: None,
        path: "synthetic.ron".into(),
        inputs: Vec::new(),
        baseline: b,
        base_year: 2014,
        years: vec![2030],
        theta,
        deficits: Deficits::Baseline,
        input_output: true,
        solver: Settings::CALIENDO_PARRO,
        agreements: vec![Agreement {
            name: "A20".into(),
            entry_into_force: 2016,
            members: (0..20)
                .map(|e| Membership {
                    economy: e,
                    joins: 2016,
                    leaves: None,
                })
                .collect(),
            schedule: Schedule::Immediate,
            rules: Vec::new(),
            groups: Vec::new(),
            depth: None,
            depth_phase_in: None,
            removed: false,
            frozen_from: None,
            investment: tradesim::invest::Provisions::Pta,
        }],
        agreement_origins: vec![tradesim::scenario::AgreementOrigin {
            file: "synthetic.ron".into(),
            own: true,
        }],
        investment: None,
        compared_with: scenario::ComparedWith::BaseYear,
        warnings: Vec::new(),
    }
}

fn run_draws(c: &mut Criterion, label: &str, batch: &Batch, samples: usize) {
    let mut g = c.benchmark_group("batch_draws");
    g.sample_size(samples);
    g.throughput(Throughput::Elements(DRAWS as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        g.bench_function(format!("{label}/{threads}_threads"), |b| {
            b.iter(|| {
                pool.install(|| {
                    (1..=DRAWS)
                        .into_par_iter()
                        .map(|d| {
                            solve_unit(
                                batch,
                                Unit {
                                    scenario: 0,
                                    draw: d,
                                },
                                &|| {},
                            )
                            .expect("solves")
                        })
                        .count()
                })
            })
        });
    }
    g.finish();
}

fn builtin(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cptpp.ron");
    let mut s = scenario::load(&path).expect("cptpp.ron loads");
    s.years = vec![2035];
    run_draws(c, "builtin_cptpp_1year", &batch_of(s), 10);
}

fn synthetic_150x20(c: &mut Criterion) {
    run_draws(
        c,
        "synthetic_150x20_1year",
        &batch_of(synthetic_scenario()),
        10,
    );
}

criterion_group!(benches, builtin, synthetic_150x20);
criterion_main!(benches);
