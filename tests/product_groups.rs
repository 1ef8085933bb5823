//! Named product groups of a baseline (`product_groups.csv`) and scenario entries that refer to
//! them by name: loading and validation (bad row → file, row, fix), the defaults a named entry
//! takes from the world, the exporter-specific weight, and `tradesim check`'s listing.

mod common;
use common::{tiny, tradesim, write};
use std::path::{Path, PathBuf};
use tradesim::policy::resolve_year;

/// The tiny world with a `product_groups.csv` (made-up groups: AAA's `rice` and `beef` in
/// AGR, `beef` with a row of its own for exporter CCC).
const GROUPS: &str = "importer,group,sector,exporter,weight,base_rate,source\n\
AAA,rice,AGR,,0.05,0.4,TEST\n\
AAA,beef,AGR,,0.10,0.30,TEST\n\
AAA,beef,AGR,CCC,0.25,0.30,TEST\n";

fn world_with(dir: &Path, groups: &str) -> PathBuf {
    let w = dir.join("world");
    std::fs::create_dir_all(&w).unwrap();
    for f in ["economies.csv", "sectors.csv", "flows.csv", "io.csv"] {
        std::fs::copy(tiny().join(f), w.join(f)).unwrap();
    }
    write(&w, "product_groups.csv", groups);
    w
}

fn scenario(dir: &Path, world: &Path, groups: &str) -> PathBuf {
    with_agreements(
        dir,
        world,
        &format!("    (name: \"AB\", entry_into_force: 2015, members: [\"AAA\", \"BBB\", \"CCC\"], schedule: Immediate,\n     product_groups: [\n{groups}\n     ]),"),
    )
}

/// `s.ron` on `world` with the given agreements (RON list items), base year 2014, to 2016.
fn with_agreements(dir: &Path, world: &Path, agreements: &str) -> PathBuf {
    write(
        dir,
        "s.ron",
        &format!(
            "Scenario(name: \"s\", baseline: Csv(\"{}\"), base_year: 2014, horizon: 2016,\n  agreements: [\n{agreements}\n  ],\n)\n",
            world.display()
        ),
    )
}

#[test]
fn the_loader_reads_the_groups_and_checks_them() {
    let d = tempfile::tempdir().unwrap();
    let b = tradesim::data::tidy::load(&world_with(d.path(), GROUPS)).unwrap();
    assert_eq!(b.product_groups.len(), 3);
    assert_eq!(b.product_group_names(0), ["rice", "beef"]);
    let beef_ccc = b
        .product_group_rows(0, "beef")
        .find(|g| g.exporter == Some(2))
        .unwrap();
    assert_eq!((beef_ccc.weight, beef_ccc.base_rate), (0.25, 0.30));
}

#[test]
fn a_bad_row_names_the_file_the_row_and_the_fix() {
    let head = "importer,group,sector,exporter,weight,base_rate,source\n";
    let cases: [(&str, &str, &str); 9] = [
        // wrong layout: the columns of tariff_sets.csv
        (
            "set,sector,exporter,importer,tariff\nx,AGR,AAA,BBB,0.1\n",
            "row 1",
            "no column `group`",
        ),
        ("AAA,Rice,AGR,,0.05,1.2,TEST\n", "row 2", "lowercase"),
        (
            "ZZZ,rice,AGR,,0.05,1.2,TEST\n",
            "row 2",
            "not declared in economies.csv",
        ),
        ("AAA,rice,SRV,,0.05,1.2,TEST\n", "row 2", "not traded"),
        (
            "AAA,rice,AGR,,1.5,1.2,TEST\n",
            "row 2",
            "fraction in [0, 1]",
        ),
        (
            "AAA,rice,AGR,,0.05,-1,TEST\n",
            "row 2",
            "must not be negative",
        ),
        ("AAA,rice,AGR,,0.05,1.2,\n", "row 2", "PROVENANCE.md"),
        (
            "AAA,rice,AGR,,0.05,1.2,T\nAAA,rice,MAN,CCC,0.05,1.2,T\n",
            "row 3",
            "belongs to one sector",
        ),
        // 0.05·1.2 + 0.10·0.6 = 0.12 > the data tariff 0.10 of AGR CCC→AAA
        (
            "AAA,rice,AGR,,0.05,1.2,T\nAAA,beef,AGR,,0.10,0.6,T\n",
            "row 3",
            "above the cell's data tariff",
        ),
    ];
    for (body, row, what) in cases {
        let d = tempfile::tempdir().unwrap();
        let text = if body.starts_with("set,") {
            body.to_string()
        } else {
            format!("{head}{body}")
        };
        let e = tradesim::data::tidy::load(&world_with(d.path(), &text))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("product_groups.csv") && e.contains(row) && e.contains(what),
            "{body}: {e}"
        );
    }
    let d = tempfile::tempdir().unwrap();
    let e = tradesim::data::tidy::load(&world_with(
        d.path(),
        &format!("{head}AAA,rice,AGR,,0.6,0.05,T\nAAA,beef,AGR,,0.5,0.05,T\n"),
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("row 3") && e.contains("sum < 1"), "{e}");
    let e = tradesim::data::tidy::load(&world_with(
        d.path(),
        &format!("{head}AAA,rice,AGR,,0.05,0.5,T\nAAA,rice,AGR,,0.05,0.5,T\n"),
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("row 3") && e.contains("already given on row 2"),
        "{e}"
    );
}

#[test]
fn a_named_entry_takes_sector_weight_and_rate_from_the_world() {
    let d = tempfile::tempdir().unwrap();
    let w = world_with(d.path(), GROUPS);
    let p = scenario(
        d.path(),
        &w,
        r#"(name: "beef", importer: "AAA", schedule: Excluded),"#,
    );
    let s = tradesim::scenario::load(&p).unwrap();
    let g = &s.agreements[0].groups;
    // The all-partners row and CCC's own row.
    assert_eq!(g.len(), 2);
    let pol = resolve_year(&s.baseline, &s.agreements, 2016, true);
    // AGR BBB→AAA: data 0.12; beef (all partners) w = 0.10 at 0.30 is excluded, the rest free:
    // 0.10·0.30 = 0.03.
    assert!((pol.tariffs.get(0, 0, 1) - 0.03).abs() < 1e-12);
    // AGR CCC→AAA: data 0.10; beef's own row for CCC, w = 0.25 at 0.30: 0.075.
    assert!((pol.tariffs.get(0, 0, 2) - 0.075).abs() < 1e-12);
    // MAN untouched by the group: immediate.
    assert_eq!(pol.tariffs.get(1, 0, 1), 0.0);
}

#[test]
fn explicit_values_override_the_world_and_an_exporter_picks_its_row() {
    let d = tempfile::tempdir().unwrap();
    let w = world_with(d.path(), GROUPS);
    let p = scenario(
        d.path(),
        &w,
        r#"(name: "beef", importer: "AAA", exporter: "CCC", schedule: Excluded),
           (name: "rice", importer: "AAA", weight: 0.02, base_rate: 1.0, schedule: Excluded),"#,
    );
    let s = tradesim::scenario::load(&p).unwrap();
    let pol = resolve_year(&s.baseline, &s.agreements, 2016, true);
    // CCC→AAA: beef 0.25·0.30 + rice 0.02·1.0 = 0.095.
    assert!((pol.tariffs.get(0, 0, 2) - 0.095).abs() < 1e-12);
    // BBB→AAA: only rice (beef was scheduled for CCC only): 0.02.
    assert!((pol.tariffs.get(0, 0, 1) - 0.02).abs() < 1e-12);
}

#[test]
fn an_unknown_name_without_weight_lists_the_importers_groups() {
    let d = tempfile::tempdir().unwrap();
    let w = world_with(d.path(), GROUPS);
    let p = scenario(
        d.path(),
        &w,
        r#"(name: "beeef", importer: "AAA", schedule: Immediate),"#,
    );
    let e = tradesim::scenario::load(&p).unwrap_err().to_string();
    assert!(e.contains("s.ron:"), "{e}");
    assert!(
        e.contains("did you mean `beef`?") && e.contains("rice, beef"),
        "{e}"
    );
    // Without groups for the importer, and without a sector for an ad-hoc group.
    let p = scenario(
        d.path(),
        &w,
        r#"(name: "wine", importer: "BBB", schedule: Immediate),
           (name: "wine2", importer: "BBB", weight: 0.1, schedule: Immediate),"#,
    );
    let e = tradesim::scenario::load(&p).unwrap_err().to_string();
    assert!(e.contains("defines no product groups for BBB"), "{e}");
    assert!(e.contains("give its `sector`"), "{e}");
}

#[test]
fn an_ad_hoc_group_still_works_as_before() {
    let d = tempfile::tempdir().unwrap();
    let w = world_with(d.path(), GROUPS);
    let p = scenario(
        d.path(),
        &w,
        r#"(name: "wine", importer: "BBB", sector: "AGR", weight: 0.5, schedule: Excluded),"#,
    );
    let s = tradesim::scenario::load(&p).unwrap();
    let pol = resolve_year(&s.baseline, &s.agreements, 2016, true);
    // AGR AAA→BBB: data 0.15, half excluded at the sector's rate: 0.075.
    assert!((pol.tariffs.get(0, 1, 0) - 0.075).abs() < 1e-12);
}

#[test]
fn check_lists_the_worlds_groups_and_marks_the_scheduled_ones() {
    let d = tempfile::tempdir().unwrap();
    let w = world_with(d.path(), GROUPS);
    let p = scenario(
        d.path(),
        &w,
        r#"(name: "beef", importer: "AAA", schedule: Excluded),"#,
    );
    let out = tradesim(&["check", p.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("named product groups of the baseline"),
        "{text}"
    );
    let beef = text
        .lines()
        .find(|l| l.starts_with("  AAA      beef"))
        .unwrap();
    assert!(
        beef.contains("AGR") && beef.contains("0.1000") && beef.contains("30.0%"),
        "{beef}"
    );
    assert!(
        beef.contains("CCC 0.2500") && beef.contains("scheduled by AB"),
        "{beef}"
    );
    let rice = text
        .lines()
        .find(|l| l.starts_with("  AAA      rice"))
        .unwrap();
    assert!(
        rice.contains("40.0%") && rice.contains("not scheduled"),
        "{rice}"
    );
}

/// Two agreements on one cell: the lowest rate is taken part by part (line by line), not for
/// the cell as a whole. Before the rule was per cell, the quota's out-of-quota rate was capped
/// by the other agreement's whole-cell rate, so a deeper cut on the rest let the quota group in
/// at a rate close to zero (CPTPP-era TPP-12: Japan's rice quota for the US at 6% instead of
/// 778%), and a group named twice in one agreement was counted twice.
#[test]
fn the_lowest_rate_is_taken_part_by_part() {
    let d = tempfile::tempdir().unwrap();
    let w = world_with(d.path(), GROUPS);
    let p = with_agreements(
        d.path(),
        &w,
        "(name: \"Deep on the rest\", entry_into_force: 2015, members: [\"AAA\", \"BBB\"], schedule: Immediate,\n\
         product_groups: [(name: \"rice\", importer: \"AAA\", schedule: Excluded), (name: \"beef\", importer: \"AAA\", schedule: Excluded)]),\n\
         (name: \"Rice quota\", entry_into_force: 2015, members: [\"AAA\", \"BBB\"], schedule: Staged([(0, 0.5)]),\n\
         product_groups: [(name: \"rice\", importer: \"AAA\", schedule: Excluded),\n\
                          (name: \"rice\", importer: \"AAA\", exporter: \"BBB\", schedule: TariffRateQuota(quota: 1.0, in_quota_rate: 0.0, out_of_quota_rate: 0.4))]),",
    );
    let s = tradesim::scenario::load(&p).unwrap();
    // The exporter-specific quota entry replaces the all-partners `Excluded` row for BBB.
    let quota = &s.agreements[1];
    assert_eq!(
        quota
            .groups
            .iter()
            .filter(|g| g.name == "rice" && g.exporter == Some(1))
            .count(),
        1
    );
    let pol = resolve_year(&s.baseline, &s.agreements, 2016, true);
    // AGR BBB→AAA: data 0.12 = rice 0.05·0.4 + beef 0.10·0.30 + rest 0.85·r, r = 0.07/0.85.
    // Rest: 0 (the first agreement); beef: 0.30 (excluded by the first, halved by the second:
    // 0.15); rice: the quota's 0 in quota. Cell: 0.10·0.15 = 0.015.
    assert!(
        (pol.tariffs.get(0, 0, 1) - 0.015).abs() < 1e-12,
        "{}",
        pol.tariffs.get(0, 0, 1)
    );
    let q = pol
        .quotas
        .iter()
        .find(|q| q.importer == 0 && q.exporter == 1)
        .unwrap();
    assert_eq!(
        (q.group.as_str(), q.agreement.as_str()),
        ("rice", "Rice quota")
    );
    assert!((q.weight - 0.05).abs() < 1e-15);
    // Out of quota the rice part pays its full 0.4 (the other agreement excludes rice), not a
    // rate cut down to the other agreement's whole-cell rate.
    assert!(
        (q.out_of_quota_rate - 0.4).abs() < 1e-12,
        "{}",
        q.out_of_quota_rate
    );
    assert!((q.fixed_part + q.weight * q.out_of_quota_rate - 0.035).abs() < 1e-12);
    // Nothing above the data rate in either regime.
    assert!(q.fixed_part + q.weight * q.out_of_quota_rate <= 0.12);
}
