//! Properties of the equilibrium and the policy paths (issue 9), on random synthetic worlds.
use proptest::prelude::*;
use tradesim::data::{exports_of, imports_of, synthetic, Baseline, Cube};
use tradesim::model::caliendo_parro::{compare, Model, Shock};
use tradesim::model::solver::Settings;
use tradesim::policy::{resolve_year, Agreement, Membership, ProductGroup, Rule, Schedule};

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
        &Settings::CALIENDO_PARRO,
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
        // Quotas with rates below, around and far above the data rates (0–15%).
        (1e-3f64..1e3, 0.0f64..0.5, 0.0f64..0.6).prop_map(|(quota, a, b)| {
            Schedule::TariffRateQuota {
                quota,
                in_quota_rate: a.min(b),
                out_of_quota_rate: a.max(b),
            }
        }),
        Just(Schedule::ToTariffSet("alt".into())),
    ]
}

/// A product group of importer `n` (exporter all members or `e`), sector `j`.
fn group_strategy(n_econ: usize, n_traded: usize) -> impl Strategy<Value = ProductGroup> {
    (
        0..n_econ,
        prop::option::of(0..n_econ),
        0..n_traded,
        0.05f64..0.6,
        prop::option::of(0.0f64..0.5),
        schedule_strategy(),
    )
        .prop_map(
            |(importer, exporter, sector, weight, base_rate, schedule)| ProductGroup {
                name: format!("g{importer}{sector}"),
                importer,
                exporter,
                sector,
                weight,
                base_rate,
                schedule,
            },
        )
}

/// Random agreements on a world of `n` economies and 3 sectors (the last non-traded): default
/// schedules, rules for some importers and sectors, product groups with and without their own
/// base rates, quotas, ToTariffSet.
fn agreements_strategy(n: usize) -> impl Strategy<Value = Vec<Agreement>> {
    prop::collection::vec(
        (
            schedule_strategy(),
            prop::collection::vec(
                (
                    prop::option::of(0..n),
                    prop::option::of(0..2usize),
                    schedule_strategy(),
                ),
                0..3,
            ),
            prop::collection::vec(group_strategy(n, 2), 0..3),
            2010i32..2030,
            prop::collection::vec(any::<bool>(), n),
        ),
        1..4,
    )
    .prop_map(move |v| {
        v.into_iter()
            .enumerate()
            .map(|(k, (schedule, rules, groups, entry, member))| {
                // Product groups of one cell weigh at most 1 together (as validation requires).
                let mut weight: std::collections::BTreeMap<(usize, usize), f64> =
                    Default::default();
                let groups = groups
                    .into_iter()
                    .filter(|g| {
                        let w = weight.entry((g.importer, g.sector)).or_default();
                        *w += g.weight;
                        *w <= 1.0
                    })
                    .collect();
                Agreement {
                    name: format!("A{k}"),
                    entry_into_force: entry,
                    members: (0..n)
                        .filter(|&e| member[e] || e < 2)
                        .map(|e| Membership {
                            economy: e,
                            joins: entry,
                            leaves: None,
                        })
                        .collect(),
                    schedule,
                    rules: rules
                        .into_iter()
                        .map(|(importer, sector, schedule)| Rule {
                            importer,
                            exporter: None,
                            sector,
                            schedule,
                        })
                        .collect(),
                    groups,
                    depth: None,
                    depth_phase_in: None,
                    removed: false,
                    frozen_from: None,
                    investment: tradesim::invest::Provisions::Pta,
                }
            })
            .collect()
    })
}

/// The synthetic world with a tariff set `alt` whose rates are partly above the data rates.
fn world_with_set(n: usize, seed: u64) -> Baseline {
    let mut b = synthetic::world(n, 3, true, seed);
    let mut alt = b.tariffs.clone();
    alt.data.iter_mut().enumerate().for_each(|(k, t)| {
        *t = if k % 3 == 0 {
            *t * 3.0 + 0.05
        } else {
            *t * 0.5
        }
    });
    b.tariff_sets.insert("alt".into(), alt);
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Applied rates are never above the data (MFN) rate and never below zero, for every
    /// schedule kind, rules, product groups (with their own base rates) and tariff-rate
    /// quotas in either regime: the in-quota rates resolved, and every quota cell at its
    /// out-of-quota rate; also after a batch grid's phase-in length is set.
    #[test]
    fn applied_rates_stay_between_zero_and_mfn(
        seed: u64,
        mut agreements in agreements_strategy(4),
        year in 2014i32..2040,
        phase_in in prop::option::of(1u32..30),
    ) {
        let b = world_with_set(4, seed);
        // A batch grid's `PhaseIn` point: every schedule with a length stretched or compressed.
        if let Some(y) = phase_in {
            for a in &mut agreements {
                let set = |s: &mut Schedule| {
                    if let Some(new) = s.with_phase_in(y) {
                        *s = new;
                    }
                };
                set(&mut a.schedule);
                a.rules.iter_mut().for_each(|r| set(&mut r.schedule));
                a.groups.iter_mut().for_each(|g| set(&mut g.schedule));
            }
        }
        let p = resolve_year(&b, &agreements, year, true);
        for (a, m) in p.tariffs.data.iter().zip(&b.tariffs.data) {
            prop_assert!(*a >= 0.0 && *a <= *m, "applied {} vs MFN {}", a, m);
        }
        for q in &p.quotas {
            let mfn = b.tariffs.get(q.sector, q.importer, q.exporter);
            for r in [q.in_quota_rate, q.out_of_quota_rate] {
                let rate = q.fixed_part + q.weight * r;
                prop_assert!(rate >= 0.0 && rate <= mfn + 1e-15, "quota {} at {}: cell rate {} vs MFN {}", q.group, r, rate, mfn);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The same inside the equilibrium: whatever regime the quotas settle in, the tariffs the
    /// solved year applies are within [0, MFN].
    #[test]
    fn solved_quota_regimes_stay_between_zero_and_mfn(
        seed: u64,
        agreements in agreements_strategy(4),
        year in 2016i32..2040,
    ) {
        let b = world_with_set(4, seed);
        let p = resolve_year(&b, &agreements, year, true);
        let m = model(&b);
        let base = solve(&m, &b.tariffs, &b.deficit);
        let (eq, outcomes, _) = tradesim::simulate::solve_year(&m, &p, None, &b.deficit, &Settings::CALIENDO_PARRO, &base).unwrap();
        for (a, mfn) in eq.tariffs.data.iter().zip(&b.tariffs.data) {
            prop_assert!(*a >= 0.0 && *a <= mfn + 1e-12, "applied {} vs MFN {}", a, mfn);
        }
        for o in &outcomes {
            prop_assert!(o.marginal_rate <= o.cell.out_of_quota_rate && o.marginal_rate >= o.cell.in_quota_rate);
        }
    }
}

/// A scenario on the tiny world with the given θ for AGR and MAN, depth β, and tariff path.
fn extreme_scenario(theta: f64, beta: f64, rate: f64, weight: f64) -> String {
    format!(
        "Scenario(name: \"x\", baseline: Csv(\"{}\"), base_year: 2014, years: [2016, 2020],\n elasticities: {{\"AGR\": Value({theta:e}), \"MAN\": Value({theta:e})}},\n agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"], schedule: Path([(2016, {rate:e})]),\n   product_groups: [(name: \"g\", importer: \"AAA\", sector: \"AGR\", weight: {weight:e}, schedule: TariffRateQuota(quota: 1.0, in_quota_rate: 0.0, out_of_quota_rate: {rate:e}))],\n   depth: Given(beta: {beta:e}, phase_in_years: 3))])",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/fixtures/tiny"
    )
}

/// Every number in every CSV file of `dir` is finite.
fn all_finite(dir: &std::path::Path) -> Result<(), String> {
    for e in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.extension().is_some_and(|x| x == "csv") {
            let text = std::fs::read_to_string(&p).map_err(|e| e.to_string())?;
            for (k, line) in text.lines().enumerate() {
                for cell in line.split(',') {
                    let lower = cell.to_ascii_lowercase();
                    if lower == "nan" || lower.ends_with("inf") || lower.contains("infinity") {
                        return Err(format!("{}, line {}: {line}", p.display(), k + 1));
                    }
                }
            }
        }
    }
    Ok(())
}

fn tradesim(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args(args)
        .output()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// No table is written with NaN or infinity and exit status 0: for θ, depth β, rates and
    /// group weights from ordinary to absurd, `tradesim run` either fails with a message or
    /// writes only finite numbers.
    #[test]
    fn no_table_holds_nan_or_infinity_after_exit_0(
        log_theta in prop_oneof![-12.0f64..12.0, -1.0f64..2.0],
        beta in prop_oneof![-1e3f64..1e3, -6.0f64..6.0],
        log_rate in -6.0f64..3.0,
        weight in 0.01f64..1.0,
    ) {
        let d = tempfile::tempdir().unwrap();
        let s = d.path().join("s.ron");
        std::fs::write(&s, extreme_scenario(10f64.powf(log_theta), beta, 10f64.powf(log_rate), weight)).unwrap();
        let out = d.path().join("out");
        let o = tradesim(&["run".as_ref(), s.as_os_str(), "--out".as_ref(), out.as_os_str(), "--quiet".as_ref(), "--format".as_ref(), "json".as_ref()]);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        prop_assert!(!err.contains("panicked"), "{}", err);
        if o.status.success() {
            prop_assert!(all_finite(&out).is_ok(), "{:?}", all_finite(&out));
        } else {
            prop_assert_eq!(o.status.code(), Some(1), "{}", err);
            prop_assert!(err.starts_with("error: ") || err.contains("\nerror: "), "{}", err);
            prop_assert!(!out.exists(), "no output from a failed run");
        }
    }

    /// The same for the one-sector gravity model, over σ from just above 1 to 10^4.
    #[test]
    fn no_gravity_table_holds_nan_or_infinity_after_exit_0(
        log_sigma_minus_1 in -4.0f64..4.0,
        constant in -50.0f64..50.0,
    ) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("d.csv"), gravity_data()).unwrap();
        let sigma = 1.0 + 10f64.powf(log_sigma_minus_1);
        let s = d.path().join("g.ron");
        std::fs::write(&s, format!(
            "StructuralGravity(name: \"g\", data: \"d.csv\", year: 2006, sigma: {sigma:e}, reference: \"AAA\",\n costs: Coefficients(coefficients: {{\"ln(dist)\": -1.0, \"pta\": 0.5}}, constant: {constant:e}),\n counterfactual: [SetCovariate(column: \"pta\", pairs: Between([\"AAA\"], [\"BBB\"]), value: 1)])"
        )).unwrap();
        let out = d.path().join("out");
        let o = tradesim(&["run".as_ref(), s.as_os_str(), "--out".as_ref(), out.as_os_str(), "--quiet".as_ref()]);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        prop_assert!(!err.contains("panicked"), "{}", err);
        if o.status.success() {
            prop_assert!(all_finite(&out).is_ok(), "σ = {}: {:?}", sigma, all_finite(&out));
        } else {
            prop_assert_eq!(o.status.code(), Some(1), "{}", err);
            prop_assert!(!out.exists());
        }
    }
}

/// A small gravity data set: four economies, domestic flows included, distance and a PTA dummy.
fn gravity_data() -> String {
    let codes = ["AAA", "BBB", "CCC", "DDD"];
    let mut s = String::from("exporter,importer,year,trade,dist,pta\n");
    for (i, e) in codes.iter().enumerate() {
        for (j, m) in codes.iter().enumerate() {
            let dist = if i == j {
                1.0
            } else {
                100.0 * (1 + i + 2 * j) as f64
            };
            let trade = if i == j {
                900.0 + 50.0 * i as f64
            } else {
                40.0 + 7.0 * (i * 4 + j) as f64
            };
            s.push_str(&format!("{e},{m},2006,{trade},{dist},0\n"));
        }
    }
    s
}

/// The templates of the two properties above run when their values are ordinary (so the
/// properties are not vacuous: an ordinary case writes tables that are then checked).
#[test]
fn the_extreme_value_templates_run_with_ordinary_values() {
    let d = tempfile::tempdir().unwrap();
    let s = d.path().join("s.ron");
    std::fs::write(&s, extreme_scenario(5.0, 0.2, 0.01, 0.3)).unwrap();
    let out = d.path().join("out");
    let o = tradesim(&[
        "run".as_ref(),
        s.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    all_finite(&out).unwrap();
    std::fs::write(d.path().join("d.csv"), gravity_data()).unwrap();
    let g = d.path().join("g.ron");
    std::fs::write(&g, "StructuralGravity(name: \"g\", data: \"d.csv\", year: 2006, sigma: 5, reference: \"AAA\",\n costs: Coefficients(coefficients: {\"ln(dist)\": -1.0, \"pta\": 0.5}, constant: 1.0),\n counterfactual: [SetCovariate(column: \"pta\", pairs: Between([\"AAA\"], [\"BBB\"]), value: 1)])").unwrap();
    let out = d.path().join("gout");
    let o = tradesim(&[
        "run".as_ref(),
        g.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    all_finite(&out).unwrap();
}
