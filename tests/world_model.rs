//! The shipped world loads through the tidy-format loader (all its checks) and solves:
//! a Japan–Chile zero-tariff counterfactual raises their bilateral trade.

use std::path::Path;
use tradesim::data::tidy;
use tradesim::model::caliendo_parro::*;
use tradesim::model::solver::Settings;

#[test]
fn shipped_world_loads_and_a_bilateral_cut_raises_members_trade() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/apac-americas-2014");
    let b = tidy::load(&dir).expect("the shipped world passes the loader's checks");
    assert_eq!(b.n_economies(), 44);
    assert_eq!(b.n_sectors(), 4);
    let theta: Vec<f64> = b.sectors.iter().map(|s| s.theta).collect();
    let model = Model::new(&b, &b.tariffs, theta, true);
    let s = Settings::CALIENDO_PARRO;
    let bl = model
        .solve(
            &Shock {
                tariffs: b.tariffs.clone(),
                cost: None,
                deficit: b.deficit.clone(),
            },
            &s,
            None,
        )
        .expect("baseline solves");
    let (jpn, chl) = (
        b.economy_index("JPN").unwrap(),
        b.economy_index("CHL").unwrap(),
    );
    let mut tau = b.tariffs.clone();
    for j in 0..3 {
        tau.set(j, jpn, chl, 0.0);
        tau.set(j, chl, jpn, 0.0);
    }
    let cf = model
        .solve(
            &Shock {
                tariffs: tau,
                cost: None,
                deficit: b.deficit.clone(),
            },
            &s,
            Some(&bl),
        )
        .expect("counterfactual solves");
    let trade = |e: &Equilibrium| -> f64 {
        (0..3)
            .map(|j| e.flows.get(j, jpn, chl) + e.flows.get(j, chl, jpn))
            .sum()
    };
    eprintln!(
        "JPN-CHL trade {:.2} -> {:.2} bn; iterations {} {}",
        trade(&bl) / 1e9,
        trade(&cf) / 1e9,
        bl.iterations,
        cf.iterations
    );
    assert!(trade(&cf) > trade(&bl));
}

/// The shipped files are an equilibrium of the model at the 2014 applied rates: the builder
/// computes final demand at the rates the agreements of `scenarios/baseline-2014.ron` give in
/// 2014, so solving that scenario's base year returns the shipped flows. Tolerance: every
/// cell above US$1m within 1e-6 of its value, every economy's exports within 1e-8.
#[test]
fn the_solved_2014_baseline_equals_the_data() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline-2014.ron");
    let mut s = tradesim::scenario::load(&dir).expect("baseline-2014.ron loads");
    s.years = vec![s.base_year];
    let out = tradesim::simulate::run(&s, &|| {}).expect("solves");
    let b = &s.baseline;
    let (mut worst, mut at) = (0.0f64, String::new());
    for j in 0..b.n_sectors() {
        for n in 0..b.n_economies() {
            for i in 0..b.n_economies() {
                let data = b.flows.get(j, n, i);
                if data > 1e6 {
                    let dev = (out.baseline.flows.get(j, n, i) / data - 1.0).abs();
                    if dev > worst {
                        worst = dev;
                        at = format!(
                            "{} {}→{}",
                            b.sectors[j].code, b.economies[i].code, b.economies[n].code
                        );
                    }
                }
            }
        }
    }
    eprintln!(
        "largest relative gap between the solved 2014 baseline and the data: {worst:.2e} ({at})"
    );
    assert!(
        worst < 1e-6,
        "{at}: the solved baseline is {worst:.2e} off the data"
    );
    let data = b.exports();
    for (n, &exported) in data.iter().enumerate() {
        let solved: f64 = (0..b.n_sectors())
            .map(|j| {
                (0..b.n_economies())
                    .filter(|&m| m != n)
                    .map(|m| out.baseline.flows.get(j, m, n))
                    .sum::<f64>()
            })
            .sum();
        let dev = solved / exported - 1.0;
        assert!(
            dev.abs() < 1e-8,
            "{}: solved exports {:+.2e} off the data",
            b.economies[n].code,
            dev
        );
    }
}

/// The one-line description every output carries is computed from the data: the named
/// groups of `product_groups.csv` and the observed pairs of `flows.csv`, counted here again.
#[test]
fn the_world_says_what_it_is_in_one_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/apac-americas-2014");
    let b = tidy::load(&dir).unwrap();
    let line = b.describe();
    let mut groups = std::collections::BTreeSet::new();
    for r in csv::Reader::from_path(dir.join("product_groups.csv"))
        .unwrap()
        .records()
    {
        let r = r.unwrap();
        groups.insert((r[0].to_string(), r[1].to_string()));
    }
    let mut observed = std::collections::BTreeSet::new();
    for r in csv::Reader::from_path(dir.join("flows.csv"))
        .unwrap()
        .records()
    {
        let r = r.unwrap();
        if r[5].starts_with("observed") && r[0] != *"SRV" {
            observed.insert((r[1].to_string(), r[2].to_string()));
        }
    }
    let n = b.n_economies();
    let count = |x: usize| {
        let s = x.to_string();
        if s.len() > 3 {
            format!("{},{}", &s[..s.len() - 3], &s[s.len() - 3..])
        } else {
            s
        }
    };
    let want = format!(
        "sector-average tariffs plus {} named product groups; {} of {} bilateral goods cells observed (COW4, TRADHIST), the rest gravity-filled; SRV traded without tariffs",
        groups.len(),
        count(observed.len()),
        count(n * (n - 1))
    );
    assert!(line.contains(&want), "{line}\nwanted: {want}");
    // A baseline without flags says so.
    let tiny =
        tidy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny")).unwrap();
    assert!(
        tiny.describe()
            .contains("sector-average tariffs; flows as given"),
        "{}",
        tiny.describe()
    );
}

/// Services are traded: an agreement with a depth (non-tariff) effect and no tariff cuts raises
/// its members' services trade with each other (the depth effect shifts the trade costs of every
/// traded sector, MODEL.md §3; services carry no tariffs).
#[test]
fn a_deep_agreement_raises_members_services_trade() {
    let d = tempfile::tempdir().unwrap();
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline-2014.ron");
    let file = d.path().join("deep.ron");
    std::fs::write(
        &file,
        format!(
            "Scenario(name: \"deep\", extends: \"{}\", years: [2016],\n agreements: [(name: \"JPN-USA services\", entry_into_force: 2015, members: [\"JPN\", \"USA\"], schedule: Excluded, depth: Given(beta: 0.3, phase_in_years: 1))])\n",
            base.display()
        ),
    )
    .unwrap();
    let s = tradesim::scenario::load(&file).expect("loads");
    let out = tradesim::simulate::run(&s, &|| {}).expect("solves");
    let b = &s.baseline;
    let (jpn, usa, srv) = (
        b.economy_index("JPN").unwrap(),
        b.economy_index("USA").unwrap(),
        b.sector_index("SRV").unwrap(),
    );
    let y = &out.years[0].equilibrium;
    for (n, i) in [(jpn, usa), (usa, jpn)] {
        let (before, after) = (out.baseline.flows.get(srv, n, i), y.flows.get(srv, n, i));
        assert!(after > before * 1.05, "{n} from {i}: {before} -> {after}");
    }
}
