//! Every agreement scenario of `scenarios/` runs on the built-in world, and its members' trade
//! with each other moves the right way in the last year solved, against what the scenario is
//! compared with (the reference path's same year, or the solved base year): up for a new
//! agreement, an agreement that happened (against the reference without it) or the rest of a
//! phase-out (unchanged for Japan–Mexico, whose phase-out ended in 2014, and for the Pacific
//! Alliance, whose members' bilateral FTAs have freed their trade by 2035 on the reference
//! path), down in an ex-post counterfactual (the 2014 world without the agreement). Only the
//! horizon year is solved, to keep the debug-build test short.

use std::path::Path;
use tradesim::{scenario, simulate};

const ASEAN: [&str; 10] = [
    "BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM",
];
const TPP: [&str; 12] = [
    "AUS", "BRN", "CAN", "CHL", "JPN", "MYS", "MEX", "NZL", "PER", "SGP", "USA", "VNM",
];
const APEC: [&str; 20] = [
    "AUS", "BRN", "CAN", "CHL", "CHN", "HKG", "IDN", "JPN", "KOR", "MYS", "MEX", "NZL", "PER",
    "PHL", "RUS", "SGP", "TWN", "THA", "USA", "VNM",
];

/// Sign expected for the members' trade: +1 rises, -1 falls, 0 unchanged (within 1e-6).
fn cases() -> Vec<(&'static str, Vec<&'static str>, i32)> {
    let cat = |a: &[&'static str], b: &[&'static str]| [a, b].concat();
    vec![
        ("tpp12.ron", TPP.to_vec(), 1),
        (
            "cptpp.ron",
            TPP.iter().copied().filter(|c| *c != "USA").collect(),
            1,
        ),
        (
            "rcep16.ron",
            cat(&ASEAN, &["CHN", "JPN", "KOR", "AUS", "NZL", "IND"]),
            1,
        ),
        (
            "rcep15.ron",
            cat(&ASEAN, &["CHN", "JPN", "KOR", "AUS", "NZL"]),
            1,
        ),
        ("pacific-alliance.ron", vec!["CHL", "COL", "MEX", "PER"], 0),
        (
            "pacific-alliance-depth.ron",
            vec!["CHL", "COL", "MEX", "PER"],
            0,
        ),
        (
            "cptpp-depth.ron",
            TPP.iter().copied().filter(|c| *c != "USA").collect(),
            1,
        ),
        ("tpp12-depth.ron", TPP.to_vec(), 1),
        (
            "rcep15-depth.ron",
            cat(&ASEAN, &["CHN", "JPN", "KOR", "AUS", "NZL"]),
            1,
        ),
        (
            "japan-mercosur-depth.ron",
            vec!["JPN", "ARG", "BRA", "PRY", "URY"],
            1,
        ),
        (
            "pacific-alliance-asean.ron",
            cat(&["CHL", "COL", "MEX", "PER"], &ASEAN),
            1,
        ),
        ("japan-mexico.ron", vec!["JPN", "MEX"], 0),
        ("japan-chile.ron", vec!["JPN", "CHL"], 1),
        ("japan-peru.ron", vec!["JPN", "PER"], 1),
        ("japan-mexico-expost.ron", vec!["JPN", "MEX"], -1),
        ("japan-chile-expost.ron", vec!["JPN", "CHL"], -1),
        ("japan-peru-expost.ron", vec!["JPN", "PER"], -1),
        ("japan-colombia.ron", vec!["JPN", "COL"], 1),
        ("japan-brazil.ron", vec!["JPN", "BRA"], 1),
        (
            "japan-mercosur.ron",
            vec!["JPN", "ARG", "BRA", "PRY", "URY"],
            1,
        ),
        ("china-japan-korea.ron", vec!["CHN", "JPN", "KOR"], 1),
        ("ftaap.ron", APEC.to_vec(), 1),
        (
            "ftaap-lac.ron",
            cat(&APEC, &["COL", "CRI", "PAN", "ECU"]),
            1,
        ),
        ("tpp-enlarged.ron", cat(&TPP, &["COL", "CRI", "PAN"]), 1),
        (
            "japan-pacific-alliance.ron",
            vec!["JPN", "CHL", "COL", "MEX", "PER", "CRI", "PAN"],
            1,
        ),
        (
            "japan-epas-tpp-agri.ron",
            vec!["JPN", "MEX", "CHL", "PER"],
            1,
        ),
    ]
}

#[test]
fn every_agreement_runs_and_moves_members_trade_the_right_way() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut failures = Vec::new();
    for (file, members, sign) in cases() {
        let mut s = match scenario::load(&dir.join(file)) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        let last = *s.years.last().expect("a scenario solves at least one year");
        s.years = vec![last];
        let out = match simulate::run(&s, &|| {}) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        let b = &s.baseline;
        let ids: Vec<usize> = members
            .iter()
            .map(|c| {
                b.economy_index(c)
                    .unwrap_or_else(|| panic!("{c} not in the world"))
            })
            .collect();
        let intra = |e: &tradesim::model::caliendo_parro::Equilibrium| -> f64 {
            let mut t = 0.0;
            for j in 0..b.n_sectors() {
                for &m in &ids {
                    for &i in &ids {
                        if i != m {
                            t += e.flows.get(j, m, i);
                        }
                    }
                }
            }
            t
        };
        // Trade diversion: non-members' exports to the members.
        let outside = |e: &tradesim::model::caliendo_parro::Equilibrium| -> f64 {
            let mut t = 0.0;
            for j in 0..b.n_sectors() {
                for &m in &ids {
                    for i in (0..b.n_economies()).filter(|i| !ids.contains(i)) {
                        t += e.flows.get(j, m, i);
                    }
                }
            }
            t
        };
        // The comparison: the reference path's same year, or the solved base year.
        let base = out.years[0]
            .reference
            .as_ref()
            .map_or(&out.baseline, |r| &r.equilibrium);
        let (t0, t1) = (intra(base), intra(&out.years[0].equilibrium));
        let (d0, d1) = (outside(base), outside(&out.years[0].equilibrium));
        let change = t1 / t0 - 1.0;
        eprintln!(
            "{file:28} {last}: members' trade {:.1} -> {:.1} bn ({:+.2}%); non-members' exports to members {:.1} -> {:.1} bn ({:+.2}%)",
            t0 / 1e9,
            t1 / 1e9,
            change * 100.0,
            d0 / 1e9,
            d1 / 1e9,
            (d1 / d0 - 1.0) * 100.0
        );
        let ok = match sign {
            1 => change > 1e-6,
            -1 => change < -1e-6,
            _ => change.abs() <= 1e-6,
        };
        if !ok {
            failures.push(format!(
                "{file}: members' trade changed by {:+.4}% (expected sign {sign})",
                change * 100.0
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
