//! Properties of the equilibrium and the policy paths (issue 9), on random synthetic worlds.
use proptest::prelude::*;
use tradesim::data::{exports_of, imports_of, synthetic, Baseline, Cube};
use tradesim::model::caliendo_parro::{compare, Model, Shock, SolverSettings};
use tradesim::policy::{resolve_year, Agreement, Membership, Schedule};

fn model(b: &Baseline) -> Model {
    Model::new(
        b,
        &b.tariffs,
        b.sectors.iter().map(|s| s.theta).collect(),
        true,
    )
}

fn solve(
    m: &Model,
    tariffs: &Cube,
    deficit: &[f64],
) -> tradesim::model::caliendo_parro::Equilibrium {
    m.solve(
        &Shock {
            tariffs: tariffs.clone(),
            cost: None,
            deficit: deficit.to_vec(),
        },
        &SolverSettings::default(),
        None,
    )
    .unwrap()
}

fn halved(b: &Baseline) -> Cube {
    let mut t = b.tariffs.clone();
    t.data.iter_mut().for_each(|x| *x *= 0.5);
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A scenario that changes nothing is the identity: every hat is one.
    #[test]
    fn no_change_is_the_identity(n in 2usize..8, j in 1usize..5, io: bool, seed: u64) {
        let b = synthetic::world(n, j, io, seed);
        let e = solve(&model(&b), &b.tariffs, &b.deficit);
        for v in e.w_hat.iter().chain(&e.p_hat).chain(&e.c_hat) {
            prop_assert!((v - 1.0).abs() < 1e-12, "hat {}", v);
        }
    }

    /// Results are homogeneous of degree zero in a nominal scaling of all flows.
    #[test]
    fn homogeneous_of_degree_zero(n in 2usize..7, j in 1usize..4, io: bool, seed: u64, k in -3.0f64..3.0) {
        let b = synthetic::world(n, j, io, seed);
        let mut s = b.clone();
        let f = 10f64.powf(k);
        s.flows.data.iter_mut().for_each(|x| *x *= f);
        s.value_added.iter_mut().for_each(|x| *x *= f);
        s.deficit.iter_mut().for_each(|x| *x *= f);
        let (m0, m1) = (model(&b), model(&s));
        let (bl0, bl1) = (solve(&m0, &b.tariffs, &b.deficit), solve(&m1, &s.tariffs, &s.deficit));
        let (cf0, cf1) = (solve(&m0, &halved(&b), &b.deficit), solve(&m1, &halved(&s), &s.deficit));
        for (a, c) in cf0.w_hat.iter().zip(&cf1.w_hat).chain(cf0.p_hat.iter().zip(&cf1.p_hat)) {
            prop_assert!((a - c).abs() < 1e-8 * a.abs().max(1.0), "{} vs {}", a, c);
        }
        let (c0, c1) = (compare(&m0, &bl0, &cf0), compare(&m1, &bl1, &cf1));
        for (a, c) in c0.real_income_pct.iter().zip(&c1.real_income_pct).chain(c0.welfare_pct.iter().zip(&c1.welfare_pct)) {
            prop_assert!((a - c).abs() < 1e-7, "{} vs {}", a, c);
        }
    }

    /// Every solve balances trade: imports − exports = D' for every economy, and so for the world.
    #[test]
    fn trade_balance_holds_after_every_solve(n in 2usize..8, j in 1usize..4, io: bool, seed: u64, zero_deficit: bool) {
        let b = synthetic::world(n, j, io, seed);
        let d: Vec<f64> = if zero_deficit { vec![0.0; n] } else { b.deficit.clone() };
        let e = solve(&model(&b), &halved(&b), &d);
        let (ex, im) = (exports_of(&e.flows), imports_of(&e.flows));
        let scale: f64 = b.value_added.iter().sum();
        let mut world = 0.0;
        for k in 0..n {
            prop_assert!((im[k] - ex[k] - d[k]).abs() < 1e-8 * scale, "economy {}: {} − {} vs {}", k, im[k], ex[k], d[k]);
            world += im[k] - ex[k];
        }
        prop_assert!((world - d.iter().sum::<f64>()).abs() < 1e-8 * scale);
    }

    /// In the one-sector model, a tariff cut between two members does not lower their flow.
    #[test]
    fn a_bilateral_tariff_cut_does_not_lower_the_flow(n in 2usize..8, seed: u64, cut in 0.0f64..1.0) {
        let b = synthetic::world(n, 1, false, seed);
        let mut t = b.tariffs.clone();
        let (x, y) = (0, 1);
        t.set(0, x, y, b.tariffs.get(0, x, y) * cut);
        t.set(0, y, x, b.tariffs.get(0, y, x) * cut);
        let m = model(&b);
        let bl = solve(&m, &b.tariffs, &b.deficit);
        let cf = solve(&m, &t, &b.deficit);
        prop_assert!(cf.flows.get(0, x, y) >= bl.flows.get(0, x, y) * (1.0 - 1e-9));
        prop_assert!(cf.flows.get(0, y, x) >= bl.flows.get(0, y, x) * (1.0 - 1e-9));
    }
}

fn schedule_strategy() -> impl Strategy<Value = Schedule> {
    prop_oneof![
        Just(Schedule::Immediate),
        Just(Schedule::Excluded),
        (1u32..20, 0.0f64..1.0).prop_map(|(years, to)| Schedule::Linear { years, to }),
        prop::collection::vec((0u32..15, 0.0f64..1.5), 1..4).prop_map(Schedule::Staged),
        prop::collection::vec((2015i32..2035, 0.0f64..0.5), 1..4).prop_map(Schedule::Path),
        (1.0f64..1e3, 0.0f64..0.2, 0.2f64..0.6).prop_map(|(quota, i, o)| {
            Schedule::TariffRateQuota {
                quota,
                in_quota_rate: i,
                out_of_quota_rate: o,
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Applied rates are never above the data (MFN) rate and never below zero.
    #[test]
    fn applied_rates_stay_between_zero_and_mfn(
        seed: u64,
        schedules in prop::collection::vec(schedule_strategy(), 1..4),
        entries in prop::collection::vec(2010i32..2030, 3),
        year in 2014i32..2040,
    ) {
        let b = synthetic::world(4, 3, false, seed);
        let agreements: Vec<Agreement> = schedules
            .into_iter()
            .enumerate()
            .map(|(k, schedule)| Agreement {
                name: format!("A{k}"),
                entry_into_force: entries[k % 3],
                members: (0..4).filter(|e| (e + k) % 3 != 0).map(|e| Membership { economy: e, joins: entries[k % 3], leaves: None }).collect(),
                schedule,
                rules: Vec::new(),
                groups: Vec::new(),
                depth: None,
                removed: false,
                frozen_from: None,
                investment: tradesim::invest::Provisions::Pta,
            })
            .collect();
        let p = resolve_year(&b, &agreements, year, true);
        for (a, m) in p.tariffs.data.iter().zip(&b.tariffs.data) {
            prop_assert!(*a >= 0.0 && *a <= *m, "applied {} vs MFN {}", a, m);
        }
    }
}
