//! Policy resolution (MODEL.md §3) on the tiny synthetic world: schedule kinds, accession,
//! withdrawal, overlapping agreements, product groups, tariff-rate quotas, and the
//! no-change identity.
mod common;
use common::*;
use tradesim::scenario;
use tradesim::simulate;

fn scenario_text(agreements: &str, extra: &str) -> String {
    // `extra` may give `years` instead of the horizon (giving both is an error).
    let horizon = if extra.contains("years:") {
        ""
    } else {
        "    horizon: 2030,\n"
    };
    format!(
        "Scenario(\n    name: \"test\",\n    baseline: Csv(\"{}\"),\n    base_year: 2014,\n{horizon}{extra}    agreements: [\n{agreements}\n    ],\n)\n",
        tiny().display()
    )
}

fn load(agreements: &str, extra: &str) -> scenario::Scenario {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.ron", &scenario_text(agreements, extra));
    scenario::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

/// Applied rate of importer `n` on exporter `i` in sector `s` in `year`.
fn rate(s: &scenario::Scenario, year: i32, imp: &str, exp: &str, sector: &str) -> f64 {
    let (_, paths) = simulate::resolve_paths(s);
    let p = paths.iter().find(|p| p.year == year).unwrap();
    let b = &s.baseline;
    p.tariffs.get(
        b.sector_index(sector).unwrap(),
        b.economy_index(imp).unwrap(),
        b.economy_index(exp).unwrap(),
    )
}

#[test]
fn linear_staging_counts_from_entry_into_force() {
    let s = load(
        r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"], schedule: Linear(years: 4))"#,
        "",
    );
    // AAA's MAN tariff on BBB is 5%.
    assert_eq!(rate(&s, 2015, "AAA", "BBB", "MAN"), 0.05);
    assert!((rate(&s, 2016, "AAA", "BBB", "MAN") - 0.0375).abs() < 1e-15);
    assert!((rate(&s, 2018, "AAA", "BBB", "MAN") - 0.0125).abs() < 1e-15);
    assert_eq!(rate(&s, 2019, "AAA", "BBB", "MAN"), 0.0);
    // Non-members keep MFN.
    assert_eq!(rate(&s, 2030, "AAA", "CCC", "MAN"), 0.04);
}

#[test]
fn accession_and_withdrawal() {
    let s = load(
        r#"(name: "ABC", entry_into_force: 2016, members: ["AAA", "BBB", "CCC"], accessions: {}, withdrawals: {"CCC": 2020}, schedule: Immediate),
           (name: "AB+", entry_into_force: 2016, members: ["AAA", "BBB"], accessions: {"CCC": 2022}, schedule: Linear(years: 2))"#,
        "",
    );
    assert_eq!(
        rate(&s, 2019, "AAA", "CCC", "MAN"),
        0.0,
        "CCC is a member of ABC until 2020"
    );
    assert_eq!(
        rate(&s, 2020, "AAA", "CCC", "MAN"),
        0.04,
        "CCC left ABC in 2020 and has not joined AB+ yet"
    );
    assert!(
        (rate(&s, 2022, "AAA", "CCC", "MAN") - 0.02).abs() < 1e-15,
        "CCC's schedule in AB+ counts from its accession"
    );
    assert_eq!(rate(&s, 2023, "AAA", "CCC", "MAN"), 0.0);
}

#[test]
fn overlapping_agreements_take_the_lowest_rate_without_stacking() {
    let s = load(
        r#"(name: "slow", entry_into_force: 2016, members: ["AAA", "BBB"], schedule: Linear(years: 10)),
           (name: "half", entry_into_force: 2016, members: ["AAA", "BBB"], schedule: Staged([(0, 0.5)]))"#,
        "",
    );
    // slow: 0.05*0.9 = 0.045; half: 0.025 -> 0.025 (not 0.05*0.9*0.5).
    assert!((rate(&s, 2016, "AAA", "BBB", "MAN") - 0.025).abs() < 1e-15);
    // By 2022 slow is at 0.05*0.3 = 0.015 < 0.025.
    assert!((rate(&s, 2022, "AAA", "BBB", "MAN") - 0.015).abs() < 1e-15);
}

#[test]
fn rules_by_importer_and_sector_and_exclusions() {
    let s = load(
        r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"], schedule: Immediate,
            schedules: [(importer: "AAA", sector: "AGR", schedule: Excluded),
                        (importer: "BBB", schedule: Path([(2016, 0.03), (2020, 0.01)]))])"#,
        "",
    );
    assert_eq!(rate(&s, 2025, "AAA", "BBB", "AGR"), 0.12, "excluded");
    assert_eq!(rate(&s, 2025, "AAA", "BBB", "MAN"), 0.0);
    assert_eq!(rate(&s, 2017, "BBB", "AAA", "MAN"), 0.03);
    assert_eq!(rate(&s, 2021, "BBB", "AAA", "AGR"), 0.01);
}

#[test]
fn product_groups_are_trade_weighted() {
    let s = load(
        r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"], schedule: Excluded,
            product_groups: [(name: "salmon", importer: "AAA", exporter: "BBB", sector: "AGR", weight: 0.25, schedule: Linear(years: 10)),
                             (name: "wine", importer: "AAA", sector: "AGR", weight: 0.5, base_rate: 0.20, schedule: Immediate)])"#,
        "",
    );
    // AAA's AGR rate on BBB is 12%. wine base 20% (weight .5) -> rest base = (0.12 - .25*.12 - .5*.2)/.25 = -0.04 -> 0.
    // 2016: salmon 0.12*0.9*0.25 = 0.027, wine 0, rest 0 -> 0.027.
    assert!((rate(&s, 2016, "AAA", "BBB", "AGR") - 0.027).abs() < 1e-15);
    // Against CCC only wine applies: base 10%, rest base (0.10 - 0.5*0.2)/0.5 = 0 -> 0.
    assert_eq!(
        rate(&s, 2016, "AAA", "CCC", "AGR"),
        0.10,
        "CCC is not a member"
    );
    let s2 = load(
        r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"], schedule: Excluded,
            product_groups: [(name: "salmon", importer: "AAA", sector: "AGR", weight: 0.4, schedule: Immediate)])"#,
        "",
    );
    assert!((rate(&s2, 2016, "AAA", "BBB", "AGR") - 0.6 * 0.12).abs() < 1e-15);
}

#[test]
fn agreements_in_the_data_are_held_unless_their_phase_out_continues() {
    let held = load(
        r#"(name: "old", entry_into_force: 2012, members: ["AAA", "BBB"], schedule: Linear(years: 10))"#,
        "",
    );
    let cont = load(
        r#"(name: "old", entry_into_force: 2012, members: ["AAA", "BBB"], schedule: Linear(years: 10))"#,
        "    continue_phase_out: [\"old\"],\n",
    );
    let removed = load(
        r#"(name: "old", entry_into_force: 2012, members: ["AAA", "BBB"], schedule: Linear(years: 10))"#,
        "    remove_agreements: [\"old\"],\n",
    );
    let (base, _) = simulate::resolve_paths(&held);
    let b = &held.baseline;
    let (m, a, bb) = (
        b.sector_index("MAN").unwrap(),
        b.economy_index("AAA").unwrap(),
        b.economy_index("BBB").unwrap(),
    );
    // 2014 is offset 2: 0.05 * 0.7.
    assert!((base.tariffs.get(m, a, bb) - 0.035).abs() < 1e-15);
    assert!((rate(&held, 2020, "AAA", "BBB", "MAN") - 0.035).abs() < 1e-15);
    assert_eq!(rate(&cont, 2021, "AAA", "BBB", "MAN"), 0.0);
    assert_eq!(rate(&removed, 2020, "AAA", "BBB", "MAN"), 0.05);
}

/// An agreement held at its base-year rates holds the pairs of the data; a member acceding
/// after the base year is not in the data, and its pairs run the schedule from the accession
/// (before, an accession to an agreement in force in the base year changed nothing: its
/// offset was counted from the base year, before it joined).
#[test]
fn an_accession_after_the_base_year_to_a_held_agreement_runs_its_schedule() {
    let held = load(
        r#"(name: "old", entry_into_force: 2012, members: ["AAA", "BBB"], accessions: { "CCC": 2020 }, schedule: Linear(years: 5))"#,
        "",
    );
    // The data's pair is held at 2014's offset 2 (0.05 × 2/5 left).
    for year in [2014, 2020, 2030] {
        assert!((rate(&held, year, "AAA", "BBB", "MAN") - 0.02).abs() < 1e-15);
    }
    let mfn = rate(&held, 2019, "AAA", "CCC", "MAN");
    assert!(mfn > 0.0);
    for (year, left) in [
        (2019, 1.0),
        (2020, 0.8),
        (2022, 0.4),
        (2024, 0.0),
        (2030, 0.0),
    ] {
        for (imp, exp) in [("AAA", "CCC"), ("CCC", "BBB")] {
            let base = rate(&held, 2019, imp, exp, "MAN");
            let got = rate(&held, year, imp, exp, "MAN");
            assert!(
                (got - base * left).abs() < 1e-15,
                "{imp}<-{exp} {year}: {got} vs {base}×{left}"
            );
        }
    }
}

/// `accessions: { agreement: { code: year } }` at the top of a scenario adds members to an
/// agreement by name (an inherited one, without writing it anew): every year's tariffs are
/// those of the agreement written with the accession among its own `accessions`, for an
/// agreement new in the scenario and for one held at its base-year rates; an acceding member's
/// year is replaced. `withdrawals` by name likewise equal the agreement's own.
#[test]
fn top_level_accessions_equal_the_agreement_written_anew() {
    let paths = |s: &scenario::Scenario| {
        let (base, years) = simulate::resolve_paths(s);
        std::iter::once(base)
            .chain(years)
            .map(|p| (p.year, p.tariffs.data.clone()))
            .collect::<Vec<_>>()
    };
    for (entry, schedule) in [(2016, "Linear(years: 4)"), (2012, "Linear(years: 5)")] {
        let agreement = |accessions: &str| {
            format!(
                r#"(name: "AB", entry_into_force: {entry}, members: ["AAA", "BBB"], accessions: {{ {accessions} }}, schedule: {schedule})"#
            )
        };
        let anew = load(&agreement(r#""CCC": 2020"#), "");
        let added = load(
            &agreement(""),
            "    accessions: { \"AB\": { \"CCC\": 2020 } },\n",
        );
        assert_eq!(paths(&added), paths(&anew), "entry {entry}");
        assert!(rate(&added, 2021, "AAA", "CCC", "MAN") < rate(&added, 2019, "AAA", "CCC", "MAN"));
        // An acceding member's year is replaced.
        let moved = load(
            &agreement(r#""CCC": 2018"#),
            "    accessions: { \"AB\": { \"CCC\": 2020 } },\n",
        );
        assert_eq!(paths(&moved), paths(&anew), "entry {entry}");
        // `withdrawals` by name: as the agreement written with `withdrawals: { "BBB": 2022 }`.
        let left = |top: &str, own: &str| {
            load(
                &format!(
                    r#"(name: "AB", entry_into_force: {entry}, members: ["AAA", "BBB"], withdrawals: {{ {own} }}, schedule: {schedule})"#
                ),
                top,
            )
        };
        let anew = left("", r#""BBB": 2022"#);
        let added = left("    withdrawals: { \"AB\": { \"BBB\": 2022 } },\n", "");
        assert_eq!(paths(&added), paths(&anew), "entry {entry}");
        assert!(rate(&added, 2022, "AAA", "BBB", "MAN") > rate(&added, 2021, "AAA", "BBB", "MAN"));
    }
}

#[test]
fn a_scenario_that_changes_nothing_is_the_identity() {
    for io in ["true", "false"] {
        let s = load(
            "",
            &format!("    input_output: {io},\n    years: [2014, 2020],\n"),
        );
        let run = simulate::run(&s, &|| {}).unwrap();
        // The tiny world is an equilibrium: solving it returns the data.
        for e in std::iter::once(&run.baseline).chain(run.years.iter().map(|y| &y.equilibrium)) {
            for v in e.w_hat.iter().chain(&e.p_hat).chain(&e.c_hat) {
                assert!((v - 1.0).abs() < 1e-12, "hat {v}");
            }
            for (f, f0) in e.flows.data.iter().zip(&s.baseline.flows.data) {
                assert!((f - f0).abs() <= 1e-12 * f0.max(1.0), "flow {f} vs {f0}");
            }
        }
        for y in &run.years {
            for v in y
                .comparison
                .real_income_pct
                .iter()
                .chain(&y.comparison.welfare_pct)
            {
                assert!(v.abs() < 1e-10);
            }
        }
    }
}

#[test]
fn tariff_rate_quota_regimes_switch_inside_the_equilibrium() {
    // AAA imports MAN from BBB: 60 at a 5% tariff. A TRQ with in-quota rate 0 and an
    // out-of-quota rate at the data rate, on the whole cell.
    let trq = |quota: f64| {
        load(
            &format!(
                r#"(name: "AB", entry_into_force: 2016, members: ["AAA", "BBB"], schedule: Excluded,
                 schedules: [(importer: "AAA", exporter: "BBB", sector: "MAN", schedule: TariffRateQuota(quota: {quota}, in_quota_rate: 0.0, out_of_quota_rate: 0.05))])"#
            ),
            "    years: [2016],\n",
        )
    };
    let outcome = |quota: f64| {
        let s = trq(quota);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        let run = simulate::run(&s, &|| {}).unwrap();
        run.years[0].quotas[0].clone()
    };
    // A large quota is not filled: in-quota rate, fill < 1.
    let big = outcome(1000.0);
    assert_eq!(big.regime, "in_quota");
    assert!(big.imports > 60.0 && big.fill_rate < 1.0, "{big:?}");
    // A tiny quota is exceeded even at the out-of-quota rate.
    let tiny_q = outcome(1.0);
    assert_eq!(tiny_q.regime, "out_of_quota");
    assert_eq!(tiny_q.fill_rate, 1.0);
    assert!(tiny_q.imports < big.imports, "{tiny_q:?} {big:?}");
    // In between the quota binds: imports equal the quota and the marginal rate lies between.
    let q = 0.5 * (big.imports + tiny_q.imports);
    let mid = outcome(q);
    assert_eq!(mid.regime, "binding", "{mid:?}");
    assert!((mid.imports - q).abs() < 1e-6 * q, "{mid:?}");
    assert!(mid.marginal_rate > 0.0 && mid.marginal_rate < 0.05);
}

/// Issue 14, item 1: a Japan–Mercosur-like EPA whose beef group has a tariff-rate quota with
/// rates above the data rate (in 9%, out 38.5% against 5%) never raises the applied rate above
/// the data rate, in any regime; the file gets a warning saying so and what to do.
#[test]
fn a_quota_above_the_data_rate_never_raises_the_applied_rate() {
    for quota in [1e-3, 1e3] {
        let s = load(
            &format!(
                r#"(name: "EPA", entry_into_force: 2016, members: ["AAA", "BBB"],
                 product_groups: [(name: "beef", importer: "AAA", exporter: "BBB", sector: "MAN", weight: 0.2,
                                   schedule: TariffRateQuota(quota: {quota:e}, in_quota_rate: 0.09, out_of_quota_rate: 0.385))])"#
            ),
            "",
        );
        assert!(
            s.warnings.iter().any(|w| w.contains("product group `beef`")
                && w.contains("out-of-quota rate 0.385 is above the group's base rate 0.05")
                && w.contains("base_rate")),
            "{:?}",
            s.warnings
        );
        let run = simulate::run(&s, &|| {}).unwrap();
        let (man, aaa, bbb) = (
            s.baseline.sector_index("MAN").unwrap(),
            s.baseline.economy_index("AAA").unwrap(),
            s.baseline.economy_index("BBB").unwrap(),
        );
        for y in &run.years {
            let applied = y.equilibrium.tariffs.get(man, aaa, bbb);
            assert!(applied <= 0.05 + 1e-15, "{}: {applied}", y.year);
            if y.year >= 2016 {
                // The rest of the sector is free; the group pays at most its base rate.
                assert!(applied <= 0.2 * 0.05 + 1e-15, "{}: {applied}", y.year);
                for q in &y.quotas {
                    assert!(q.marginal_rate <= 0.05, "{q:?}");
                }
            }
        }
    }
}
