//! The seed scenarios match the record (issue 13): each dated item of the audit, read from the
//! resolved scenarios (members and the years they join), and from `tradesim check`; the
//! reference path's post-2014 agreements; Venezuela out of Japan-Mercosur; depth that leaves a
//! customs union's internal trade costs alone.
mod common;
use common::*;
use std::collections::BTreeMap;
use tradesim::{policy, scenario};

fn load(file: &str) -> scenario::Scenario {
    scenario::load(&root().join("scenarios").join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The members of agreement `name` with the year each joins (and leaves).
fn members(s: &scenario::Scenario, name: &str) -> BTreeMap<String, (i32, Option<i32>)> {
    let a = s
        .agreements
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("{}: no agreement `{name}`", s.name));
    a.members
        .iter()
        .map(|m| {
            (
                s.baseline.economies[m.economy].code.clone(),
                (m.joins, m.leaves),
            )
        })
        .collect()
}

fn joins(s: &scenario::Scenario, name: &str) -> BTreeMap<String, i32> {
    members(s, name)
        .into_iter()
        .map(|(c, (j, _))| (c, j))
        .collect()
}

fn expect(pairs: &[(&str, i32)]) -> BTreeMap<String, i32> {
    pairs.iter().map(|(c, y)| (c.to_string(), *y)).collect()
}

#[test]
fn cptpp_members_enter_on_their_own_dates_and_the_uk_accedes() {
    let s = load("cptpp.ron");
    assert_eq!(
        joins(&s, "CPTPP"),
        expect(&[
            ("AUS", 2018),
            ("CAN", 2018),
            ("JPN", 2018),
            ("MEX", 2018),
            ("NZL", 2018),
            ("SGP", 2018),
            ("VNM", 2019),
            ("PER", 2021),
            ("MYS", 2022),
            ("CHL", 2023),
            ("BRN", 2023),
            ("GBR", 2024),
        ])
    );
    // Measured against the reference path without CPTPP.
    let r = s.compared_with.reference().expect("a reference path");
    assert_eq!(r.without, ["CPTPP"]);
    // And `check` says so, with the joining years.
    let o = tradesim(&[
        "check",
        root().join("scenarios/cptpp.ron").to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(out.contains("without CPTPP"), "{out}");
    for m in [
        "VNM (joins 2019)",
        "PER (joins 2021)",
        "MYS (joins 2022)",
        "CHL (joins 2023)",
        "BRN (joins 2023)",
        "GBR (joins 2024)",
    ] {
        assert!(out.contains(m), "check does not show `{m}`");
    }
}

#[test]
fn rcep_members_enter_on_their_own_dates() {
    let s = load("rcep15.ron");
    let j = joins(&s, "RCEP");
    assert_eq!(j["IDN"], 2023);
    assert_eq!(j["PHL"], 2023);
    for c in [
        "AUS", "BRN", "KHM", "CHN", "JPN", "LAO", "NZL", "SGP", "THA", "VNM", "KOR", "MYS", "MMR",
    ] {
        assert_eq!(j[c], 2022, "{c}");
    }
    assert!(!j.contains_key("IND"));
}

#[test]
fn the_2014_agreements_have_their_recorded_members() {
    let s = load("baseline-2014.ron");
    // ASEAN-Japan CEP was not in force for Indonesia in 2014 (METI: in force for ten parties,
    // not Indonesia, as of April 2011); Japan-Indonesia trade is under the bilateral EPA.
    assert!(!members(&s, "ASEAN-Japan CEP").contains_key("IDN"));
    // AANZFTA entered into force for the Philippines in January 2010 with the first group.
    let a = joins(&s, "ASEAN-Australia-New Zealand FTA");
    assert_eq!(a["PHL"], 2010);
    assert_eq!(a["IDN"], 2012);
    assert_eq!((a["KHM"], a["LAO"]), (2011, 2011));
}

#[test]
fn japan_mercosur_leaves_venezuela_out() {
    let s = load("japan-mercosur.ron");
    let m = members(&s, "Japan-Mercosur EPA");
    assert!(!m.contains_key("VEN"));
    assert_eq!(
        m.keys().cloned().collect::<Vec<_>>(),
        ["ARG", "BRA", "JPN", "PRY", "URY"]
    );
}

#[test]
fn the_reference_path_holds_the_agreements_since_2014_with_their_dates() {
    let s = load("reference.ron");
    let entry: BTreeMap<&str, i32> = s
        .agreements
        .iter()
        .map(|a| (a.name.as_str(), a.entry_into_force))
        .collect();
    for (name, year) in [
        ("Japan-Australia EPA", 2015),
        ("China-Korea FTA", 2015),
        ("China-Australia FTA", 2015),
        ("Korea-Vietnam FTA", 2015),
        ("Korea-New Zealand FTA", 2015),
        ("Pacific Alliance", 2016),
        ("CPTPP", 2018),
        ("EU-Japan EPA", 2019),
        ("US-Japan Trade Agreement", 2020),
        ("UK-Japan CEPA", 2021),
        ("RCEP", 2022),
    ] {
        assert_eq!(entry.get(name), Some(&year), "{name}");
    }
    // The UK moves from the EU's agreement with Japan to its own in 2021.
    assert_eq!(members(&s, "EU-Japan EPA")["GBR"], (2019, Some(2021)));
    // Every phase-out of 2014 runs to its end: nothing is held at its 2014 stage.
    assert!(s.agreements.iter().all(|a| a.frozen_from.is_none()));
}

#[test]
fn a_japan_mercosur_epa_with_depth_leaves_argentina_brazil_trade_costs_unchanged() {
    let s = load("japan-mercosur-depth.ron");
    let r = s.compared_with.reference().expect("a reference path");
    let b = &s.baseline;
    let year = 2035;
    let mine = policy::resolve_year(b, &s.agreements, year, true);
    let theirs = policy::resolve_year(b, &r.agreements, year, true);
    let cost = policy::cost_factors(b, &s.theta, &theirs, &mine).expect("depth moves costs");
    let e = |c: &str| b.economy_index(c).unwrap();
    for j in 0..b.n_sectors() {
        for (x, m) in [
            ("ARG", "BRA"),
            ("BRA", "ARG"),
            ("URY", "PRY"),
            ("BRA", "URY"),
        ] {
            assert_eq!(cost.get(j, e(m), e(x)), 1.0, "{x}->{m} in sector {j}");
        }
    }
    // Japan and Brazil, newly liberalised, get the effect in traded sectors.
    let man = b.sector_index("MAN").unwrap();
    assert!(cost.get(man, e("JPN"), e("BRA")) < 1.0);
    assert!(cost.get(man, e("BRA"), e("JPN")) < 1.0);
}

#[test]
fn tpp_cuts_japans_farm_tariffs_further_than_its_epas() {
    let s = load("reference.ron");
    let b = &s.baseline;
    let cptpp = s.agreements.iter().find(|a| a.name == "CPTPP").unwrap();
    // Beef: 38.5% → 27.5% on entry → 9% in the 16th year.
    let beef = cptpp.groups.iter().find(|g| g.name == "beef").unwrap();
    let at = |k: i32| beef.schedule.rate(0.385, k, 2018 + k, None);
    assert!((at(0) - 0.275).abs() < 5e-4 && (at(15) - 0.09).abs() < 5e-4);
    assert!(at(1) < at(0) || at(3) < at(0));
    // Rice: no tariff cut.
    let rice = cptpp
        .groups
        .iter()
        .find(|g| g.name == "rice" && g.exporter.is_none())
        .unwrap();
    assert_eq!(rice.schedule, policy::Schedule::Excluded);
    // Japan's applied farm tariff on its EPA partners in 2035: lower with CPTPP than with the
    // EPA alone (the reference without CPTPP) for Mexico and Peru. Chile's stays at the EPA's:
    // the engine applies the lowest rate per cell (importer, exporter, sector), and the
    // Japan-Chile cell with its salmon and wine groups free under the EPA is lower as a whole
    // than under CPTPP, whose beef and pork cuts are therefore not credited to Chile (a
    // per-group lowest-rate rule would; README, known limits).
    let without: Vec<policy::Agreement> = s
        .agreements
        .iter()
        .cloned()
        .map(|mut a| {
            a.removed = a.name == "CPTPP";
            a
        })
        .collect();
    let with = policy::resolve_year(b, &s.agreements, 2035, true);
    let alone = policy::resolve_year(b, &without, 2035, true);
    let (jpn, agr) = (
        b.economy_index("JPN").unwrap(),
        b.sector_index("AGR").unwrap(),
    );
    for p in ["MEX", "CHL", "PER"] {
        let i = b.economy_index(p).unwrap();
        let (w, a) = (
            with.tariffs.get(agr, jpn, i),
            alone.tariffs.get(agr, jpn, i),
        );
        if p == "CHL" {
            assert!(w <= a, "{p}: {w} with CPTPP, {a} with the EPA alone");
        } else {
            assert!(w < a, "{p}: {w} with CPTPP, {a} with the EPA alone");
        }
    }
}
