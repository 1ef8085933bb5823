//! `tradesim data import` (issue 17) on fixtures in each source's published layout
//! (`tests/fixtures/import/README.md`): BACI (both code-file layouts, quoted and unquoted
//! product codes, `NA` quantities), OECD ICIO (2021 and 2023 editions), WITS/TRAINS tariffs
//! (simple and import-weighted, MFN and preferential) and CEPII Gravity; files in the wrong
//! layout, unmapped codes and duplicates are errors naming file, row and fix.

mod common;

use common::{lookup, read_csv, root, tradesim};
use std::path::{Path, PathBuf};

fn fx(rel: &str) -> String {
    root()
        .join("tests/fixtures/import")
        .join(rel)
        .display()
        .to_string()
}

fn run(args: &[&str]) -> (bool, String, String) {
    let o = tradesim(args);
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// A temporary directory, with the repository as the current directory (the default mappings
/// are relative paths).
fn in_root() -> tempfile::TempDir {
    std::env::set_current_dir(root()).unwrap();
    tempfile::tempdir().unwrap()
}

/// Writes `bytes` into the file `name` of `dir`; returns its path as text.
fn put(dir: &tempfile::TempDir, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

/// `data import icio` of a 2023-edition table with the fixture's regions.
fn icio_2023(data: &str, dest: &str) -> (bool, String, String) {
    let regions = fx("icio/regions.csv");
    run(&[
        "data",
        "import",
        "icio",
        data,
        "--edition",
        "2023",
        "--regions",
        &regions,
        "--out",
        dest,
    ])
}

fn out(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn baci(data: &str, countries: &str, dest: &Path, extra: &[&str]) -> (bool, String, String) {
    let (dom, reg) = (fx("baci/domestic.csv"), fx("baci/regions.csv"));
    baci_with(
        data,
        countries,
        &dom,
        &reg,
        &dest.display().to_string(),
        extra,
    )
}

/// `data import baci` with these files.
fn baci_with(
    data: &str,
    countries: &str,
    domestic: &str,
    regions: &str,
    dest: &str,
    extra: &[&str],
) -> (bool, String, String) {
    let mut args = vec![
        "data",
        "import",
        "baci",
        data,
        "--countries",
        countries,
        "--domestic",
        domestic,
        "--regions",
        regions,
        "--out",
        dest,
    ];
    args.extend(extra);
    std::env::set_current_dir(root()).unwrap();
    run(&args)
}

#[test]
fn baci_both_layouts_give_the_same_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (out(&dir, "new"), out(&dir, "old"));
    let r = baci(
        &fx("baci/BACI_HS12_Y2019_V202401.csv"),
        &fx("baci/country_codes_V202401.csv"),
        &a,
        &[],
    );
    assert!(r.0, "{r:?}");
    assert!(
        r.1.contains("11 rows, 7 products") && r.1.contains("2 quantities NA"),
        "{}",
        r.1
    );
    let r = baci(
        &fx("baci/BACI_HS92_Y2019_V202001.csv"),
        &fx("baci/country_code_baci92.csv"),
        &b,
        &[],
    );
    assert!(r.0, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(a.join("flows.csv")).unwrap(),
        std::fs::read_to_string(b.join("flows.csv")).unwrap()
    );
    let (h, rows) = read_csv(&a.join("flows.csv"));
    let v = |s: &str, e: &str, i: &str| pair(&h, &rows, (s, e, i), "value");
    // thousand US$ → US$; HS 01 → AGR, 27 → FMN, 87 → MAN (data/mappings/hs-sectors.csv)
    assert_eq!(v("AGR", "JPN", "MEX"), 12_500.0);
    assert_eq!(v("FMN", "JPN", "MEX"), 100_000.0);
    assert_eq!(v("MAN", "JPN", "MEX"), 2_500_000.0);
    // the USA and Brazil are ROW: USA→MEX crude counts as ROW→MEX, USA↔BRA as ROW domestic
    assert_eq!(v("FMN", "ROW", "MEX"), 800_000.0);
    assert_eq!(v("MAN", "ROW", "ROW"), 5_000_000_000.0 + 120_000.0);
    // domestic sales from the domestic file, million US$ → US$
    assert_eq!(v("SRV", "JPN", "JPN"), 3e9);
    let (h, rows) = read_csv(&a.join("sectors.csv"));
    assert_eq!(lookup_text(&h, &rows, "SRV", "traded"), "false");
    assert!(std::fs::read_to_string(a.join("PROVENANCE.md"))
        .unwrap()
        .contains("BACI year 2019"));
}

/// The `col` of the row for (sector, exporter, importer) of a flows or tariffs table.
fn pair(h: &[String], rows: &[Vec<String>], (s, e, i): (&str, &str, &str), col: &str) -> f64 {
    lookup(
        h,
        rows,
        &[("sector", s), ("exporter", e), ("importer", i)],
        col,
    )
}

fn lookup_text(h: &[String], rows: &[Vec<String>], code: &str, col: &str) -> String {
    let c = h.iter().position(|x| x == col).unwrap();
    rows.iter().find(|r| r[0] == code).unwrap()[c].clone()
}

#[test]
fn baci_errors_name_file_row_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| put(&dir, name, text);
    let countries = fx("baci/country_codes_V202401.csv");
    let header = "t,i,j,k,v,q\n";
    for (text, want) in [
        (
            "year,exporter,importer,product,value\n2019,392,484,010121,1\n",
            "expected `t,i,j,k,v,q`",
        ),
        (
            &*format!("{header}2019,392,484,\"010121\",1.0,NA\n2019,392,484,\"010121\",2.0,NA\n"),
            "row 3: a second row for exporter 392, importer 484, product 010121",
        ),
        (
            &*format!("{header}2019,392,999,\"010121\",1.0,NA\n"),
            "row 2: importer j code 999 is not in",
        ),
        (
            &*format!("{header}2019,392,484,\"990000\",1.0,NA\n"),
            "row 2: code `990000` has no sector",
        ),
        (
            &*format!("{header}2019,392,484,\"010121\",abc,NA\n"),
            "row 2: value v `abc` is not a number",
        ),
        (
            &*format!("{header}2019,392,484,\"010121\",1,NA\n2018,484,392,\"010121\",1,NA\n"),
            "row 3: year 2018 in a file of year 2019",
        ),
        (
            &*format!("{header}2019,530,484,\"010121\",1,NA\n"),
            "exporter i code 530 is not in",
        ),
    ] {
        let data = write("b.csv", text);
        let dest = dir.path().join("o");
        let r = baci(&data, &countries, &dest, &["--force"]);
        assert!(!r.0, "{text}");
        assert!(r.2.contains(want), "{text}\n{}", r.2);
        assert!(r.2.contains("b.csv"), "{}", r.2);
        assert!(!dest.exists(), "nothing is written on error");
    }
    // a domestic file in thousand euros is a unit error
    let dom = write(
        "d.csv",
        "economy,sector,value,unit\nJPN,AGR,1,thousand EUR\n",
    );
    let dest = dir.path().join("o").display().to_string();
    let reg = fx("baci/regions.csv");
    let r = run(&[
        "data",
        "import",
        "baci",
        &fx("baci/BACI_HS12_Y2019_V202401.csv"),
        "--countries",
        &countries,
        "--domestic",
        &dom,
        "--regions",
        &reg,
        "--out",
        &dest,
    ]);
    assert!(r.2.contains("d.csv, row 2: unit `thousand EUR`"), "{}", r.2);
}

#[test]
fn icio_editions_import_and_check() {
    std::env::set_current_dir(root()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let reg = fx("icio/regions.csv");
    let mut results = Vec::new();
    for (file, edition) in [
        ("icio/ICIO2021_2018.csv", "2021"),
        ("icio/2019_ICIO2023.csv", "2023"),
    ] {
        let dest = dir.path().join(edition);
        let r = run(&[
            "data",
            "import",
            "icio",
            &fx(file),
            "--edition",
            edition,
            "--regions",
            &reg,
            "--out",
            &dest.display().to_string(),
        ]);
        assert!(r.0, "{r:?}");
        // the loader re-reads it: io shares sum to one, final-demand shares too
        let b = tradesim::data::tidy::load(&dest).unwrap();
        assert_eq!(b.n_economies(), 3);
        assert!(b.has_input_output());
        results.push(b);
    }
    // MX1 + MX2 are one economy, MEX, in both
    for b in &results {
        assert!(b.economy_index("MEX").is_some() && b.economy_index("MX1").is_none());
    }
    // flows equal the fixture's row sums: JPN's 01T02 sales to MEX industries and final demand
    let text = std::fs::read_to_string(fx("icio/ICIO2021_2018.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines
        .find(|l| l.starts_with("JPN_01T02,"))
        .unwrap()
        .split(',')
        .collect();
    let want: f64 = header
        .iter()
        .zip(&row)
        .filter(|(h, _)| h.starts_with("MX1_") || h.starts_with("MX2_"))
        .map(|(_, v)| v.parse::<f64>().unwrap())
        .sum::<f64>()
        * 1e6;
    let b = &results[0];
    let (j, n, i) = (
        0,
        b.economy_index("MEX").unwrap(),
        b.economy_index("JPN").unwrap(),
    );
    assert!((b.flows.get(j, n, i) / want - 1.0).abs() < 1e-12);
    // the wrong edition is an error naming the expected layout
    let r = run(&[
        "data",
        "import",
        "icio",
        &fx("icio/2019_ICIO2023.csv"),
        "--edition",
        "2021",
        "--regions",
        &reg,
        "--out",
        &dir.path().join("x").display().to_string(),
    ]);
    assert!(
        r.2.contains("no column `TOTAL`") && r.2.contains("check --edition"),
        "{}",
        r.2
    );
    // an edited table (output no longer the row sum) is refused
    let edited = text.replacen("JPN_01T02,", "JPN_01T02,1000", 1);
    let p = dir.path().join("edited.csv");
    std::fs::write(&p, edited).unwrap();
    let r = run(&[
        "data",
        "import",
        "icio",
        &p.display().to_string(),
        "--edition",
        "2021",
        "--regions",
        &reg,
        "--out",
        &dir.path().join("y").display().to_string(),
    ]);
    assert!(r.2.contains("re-download"), "{}", r.2);
}

#[test]
fn wits_tariffs_simple_and_import_weighted_into_a_baseline() {
    std::env::set_current_dir(root()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mfn = fx("wits/DataJobID-1234567_1234567_AVEMFN.csv");
    let pref = fx("wits/DataJobID-1234568_1234568_AVEPref.csv");
    let countries = fx("baci/country_codes_V202401.csv");
    let reg = fx("baci/regions.csv");
    let simple = dir.path().join("simple");
    let r = run(&[
        "data",
        "import",
        "wits",
        "--mfn",
        &mfn,
        "--preferential",
        &pref,
        "--year",
        "2019",
        "--countries",
        &countries,
        "--regions",
        &reg,
        "--out",
        &simple.display().to_string(),
    ]);
    assert!(r.0, "{r:?}");
    let (h, rows) = read_csv(&simple.join("tariffs.csv"));
    let t = |set: &str, s: &str, e: &str, i: &str| {
        lookup(
            &h,
            &rows,
            &[
                ("set", set),
                ("sector", s),
                ("exporter", e),
                ("importer", i),
            ],
            "tariff",
        )
    };
    // Japan's AGR lines: 10%, 12%, 3% → 8.33%; from Mexico the first is preferential 0%
    assert!((t("mfn", "AGR", "MEX", "JPN") - 0.25 / 3.0).abs() < 1e-12);
    assert!((t("preferential", "AGR", "MEX", "JPN") - 0.05).abs() < 1e-12);
    assert!(rows.iter().all(|r| r[6] == "simple"));
    let weighted = dir.path().join("weighted");
    let r = run(&[
        "data",
        "import",
        "wits",
        "--mfn",
        &mfn,
        "--preferential",
        &pref,
        "--year",
        "2019",
        "--countries",
        &countries,
        "--regions",
        &reg,
        "--weights",
        &fx("baci/BACI_HS12_Y2019_V202401.csv"),
        "--out",
        &weighted.display().to_string(),
    ]);
    assert!(r.0, "{r:?}");
    let (h, rows) = read_csv(&weighted.join("tariffs.csv"));
    let t = |set: &str, s: &str, e: &str, i: &str| {
        lookup(
            &h,
            &rows,
            &[
                ("set", set),
                ("sector", s),
                ("exporter", e),
                ("importer", i),
            ],
            "tariff",
        )
    };
    // Japan imports from Mexico: 3.25 of 010121 at 10% and 40 of 090111 at 12%
    let want = (3.25 * 0.10 + 40.0 * 0.12) / 43.25;
    assert!((t("mfn", "AGR", "MEX", "JPN") - want).abs() < 1e-12);
    let want = (3.25 * 0.0 + 40.0 * 0.12) / 43.25;
    assert!((t("preferential", "AGR", "MEX", "JPN") - want).abs() < 1e-12);
    assert!(rows.iter().any(|r| r[6] == "simple (no imports)"));
    // into a BACI baseline: ROW imports have no tariff data, so the cells are named
    let dest = dir.path().join("baseline");
    let tf = weighted.join("tariffs.csv").display().to_string();
    let r = baci(
        &fx("baci/BACI_HS12_Y2019_V202401.csv"),
        &countries,
        &dest,
        &["--tariffs", &tf],
    );
    assert!(
        !r.0 && r.2.contains("no MFN rate (set mfn) for MAN JPN→ROW"),
        "{}",
        r.2
    );
    // a preferential file passed as MFN is refused
    let r = run(&[
        "data",
        "import",
        "wits",
        "--mfn",
        &pref,
        "--year",
        "2019",
        "--countries",
        &countries,
        "--regions",
        &reg,
        "--out",
        &dir.path().join("x").display().to_string(),
    ]);
    assert!(r.2.contains("--preferential"), "{}", r.2);
    // a BACI file passed as tariffs names the expected columns
    let r = run(&[
        "data",
        "import",
        "wits",
        "--mfn",
        &fx("baci/BACI_HS12_Y2019_V202401.csv"),
        "--year",
        "2019",
        "--countries",
        &countries,
        "--regions",
        &reg,
        "--out",
        &dir.path().join("x").display().to_string(),
    ]);
    assert!(
        r.2.contains("expected the columns Reporter_ISO_N, Year, ProductCode, SimpleAverage"),
        "{}",
        r.2
    );
}

#[test]
fn wits_rates_fill_a_baseline_whose_importers_all_report() {
    std::env::set_current_dir(root()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // a tariff table covering every international goods cell of the BACI fixture's baseline
    let mut s = String::from("set,sector,exporter,importer,tariff,lines,weighting\n");
    for sec in ["AGR", "FMN", "MAN"] {
        for e in ["JPN", "MEX", "ROW"] {
            for i in ["JPN", "MEX", "ROW"] {
                if e != i {
                    s.push_str(&format!("mfn,{sec},{e},{i},0.05,1,simple\npreferential,{sec},{e},{i},0.01,1,simple\n"));
                }
            }
        }
    }
    let tf = dir.path().join("t.csv");
    std::fs::write(&tf, s).unwrap();
    let dest = dir.path().join("b");
    let r = baci(
        &fx("baci/BACI_HS12_Y2019_V202401.csv"),
        &fx("baci/country_codes_V202401.csv"),
        &dest,
        &["--tariffs", &tf.display().to_string()],
    );
    assert!(r.0, "{r:?}");
    let b = tradesim::data::tidy::load(&dest).unwrap();
    let (j, n, i) = (
        0,
        b.economy_index("MEX").unwrap(),
        b.economy_index("JPN").unwrap(),
    );
    assert_eq!(b.tariffs.get(j, n, i), 0.05);
    assert_eq!(b.tariff_sets["preferential"].get(j, n, i), 0.01);
}

#[test]
fn gravity_covariates_for_estimate() {
    std::env::set_current_dir(root()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("g");
    let r = run(&[
        "data",
        "import",
        "gravity",
        &fx("gravity/Gravity_V202211.csv"),
        "--years",
        "2018,2019",
        "--economies",
        "JPN,MEX,BRA",
        "--out",
        &dest.display().to_string(),
    ]);
    assert!(r.0, "{r:?}");
    let (h, rows) = read_csv(&dest.join("covariates.csv"));
    assert_eq!(
        h,
        [
            "exporter",
            "importer",
            "year",
            "dist",
            "contig",
            "comlang_off",
            "comcol",
            "rta"
        ]
    );
    assert_eq!(rows.len(), 18, "YUG does not exist: skipped");
    assert_eq!(
        lookup(
            &h,
            &rows,
            &[("exporter", "MEX"), ("importer", "BRA"), ("year", "2019")],
            "rta"
        ),
        1.0
    );
    assert_eq!(
        lookup(
            &h,
            &rows,
            &[("exporter", "MEX"), ("importer", "BRA"), ("year", "2018")],
            "rta"
        ),
        0.0
    );
    // a covariate that is not a column names the expected ones
    let r = run(&[
        "data",
        "import",
        "gravity",
        &fx("gravity/Gravity_V202211.csv"),
        "--years",
        "2019",
        "--covariates",
        "distance",
        "--out",
        &dir.path().join("x").display().to_string(),
    ]);
    assert!(r.2.contains("no column `distance`"), "{}", r.2);
}

/// The streamed importers (BACI, ICIO, WITS, Gravity) place a row after empty lines on its
/// line of the file, and name a file that is not comma-separated UTF-8 text for what it is:
/// UTF-16, gzip, zip, separated by ';', or empty.
#[test]
fn streamed_files_are_placed_by_line_and_named_when_not_csv_text() {
    let dir = in_root();
    let write = |name: &str, bytes: &[u8]| put(&dir, name, bytes);
    let countries = fx("baci/country_codes_V202401.csv");
    let dest = dir.path().join("o");
    // BACI: the bad value is on line 5, after two empty lines (LF and CRLF files)
    for (name, text) in [
        (
            "blank.csv",
            "t,i,j,k,v,q\n2019,392,484,\"010121\",1,1\n\n\n2019,392,484,\"020130\",abc,1\n",
        ),
        (
            "crlf.csv",
            "t,i,j,k,v,q\r\n2019,392,484,\"010121\",1,1\r\n\r\n\r\n2019,392,484,\"020130\",abc,1\r\n",
        ),
    ] {
        let data = write(name, text.as_bytes());
        let r = baci(&data, &countries, &dest, &[]);
        assert!(
            r.2.contains(&format!("{name}, row 5: value v `abc` is not a number")),
            "{}",
            r.2
        );
    }
    // WITS and Gravity: the same, in their layouts
    let mfn = std::fs::read_to_string(fx("wits/DataJobID-1234567_1234567_AVEMFN.csv")).unwrap();
    let mut lines: Vec<&str> = mfn.lines().take(2).collect();
    lines.extend(["", "", "H4,392,2019,270900,0,0,0,x,0,1,0,0,2,2,"]);
    let bad_mfn = write("mfn.csv", lines.join("\n").as_bytes());
    let r = run(&[
        "data",
        "import",
        "wits",
        "--mfn",
        &bad_mfn,
        "--year",
        "2019",
        "--countries",
        &countries,
        "--regions",
        &fx("baci/regions.csv"),
        "--out",
        &dest.display().to_string(),
    ]);
    assert!(r.2.contains("mfn.csv, row 5: SimpleAverage `x`"), "{}", r.2);
    let grav = "year,iso3_o,iso3_d,country_exists_o,country_exists_d,dist\n2019,JPN,MEX,1,1,1\n\n\n2019,MEX,JPN,1,1,far\n";
    let grav = write("grav.csv", grav.as_bytes());
    let r = run(&[
        "data",
        "import",
        "gravity",
        &grav,
        "--years",
        "2019",
        "--covariates",
        "dist",
        "--out",
        &dest.display().to_string(),
    ]);
    assert!(r.2.contains("grav.csv, row 5: dist `far`"), "{}", r.2);
    // files that are not CSV text
    let baci_text = std::fs::read(fx("baci/BACI_HS12_Y2019_V202401.csv")).unwrap();
    let mut gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00".to_vec();
    gz.extend(&baci_text);
    let mut zip = b"PK\x03\x04\x14\x00".to_vec();
    zip.extend(&baci_text);
    for (name, bytes, want) in [
        (
            "u16.csv",
            &b"\xff\xfet\x00,\x00i\x00\n\x00"[..],
            "u16.csv: the file is UTF-16 text",
        ),
        ("b.csv.gz", &gz, "b.csv.gz: the file is gzip-compressed"),
        ("b.zip", &zip, "b.zip: the file is a zip archive"),
    ] {
        let data = write(name, bytes);
        let r = baci(&data, &countries, &dest, &[]);
        assert!(!r.0 && r.2.contains(want), "{}", r.2);
        assert!(
            r.2.contains("UTF-8") || r.2.contains("gunzip") || r.2.contains("unzip"),
            "{}",
            r.2
        );
    }
    // ICIO separated by ';', and an empty file
    let icio = std::fs::read_to_string(fx("icio/2019_ICIO2023.csv")).unwrap();
    let semi = write("semi.csv", icio.replace(',', ";").as_bytes());
    let empty = write("empty.csv", b"");
    for (data, want) in [
        (semi, "semi.csv, row 1: the header is one column"),
        (empty, "empty.csv: the file is empty"),
    ] {
        let r = icio_2023(&data, &dest.display().to_string());
        assert!(!r.0 && r.2.contains(want), "{}", r.2);
        assert!(!r.2.contains("no column `OUT`"), "{}", r.2);
    }
    assert!(!dest.exists(), "nothing is written on error");
}

/// An economy of `--regions` that the data do not hold (a typo: `JAP` for `JPN`) is an error
/// naming the regions file, its row, the code and the code meant, in every importer that takes
/// `--regions` (before: BACI and WITS booked Japan's trade to ROW with exit 0); so is a region
/// that receives no economy with data.
#[test]
fn a_region_economy_missing_from_the_data_is_named() {
    let dir = in_root();
    let write = |name: &str, text: &str| put(&dir, name, text);
    let typo = write(
        "typo.csv",
        "economy,region,name\nMEX,MEX,Mexico\nJAP,JPN,Japan\n",
    );
    let countries = fx("baci/country_codes_V202401.csv");
    let dest = dir.path().join("o");
    let d = dest.display().to_string();
    let baci_data = fx("baci/BACI_HS12_Y2019_V202401.csv");
    let mfn = fx("wits/DataJobID-1234567_1234567_AVEMFN.csv");
    let icio = fx("icio/2019_ICIO2023.csv");
    let baci_regions = |data: &str, countries: &str, regions: &str, d: &str| {
        baci_with(data, countries, &fx("baci/domestic.csv"), regions, d, &[])
    };
    let want_source = |source: &str| {
        format!(
            "typo.csv, row 3: economy `JAP` is not an ISO3 code of {source}; did you mean `JPN`?"
        )
    };
    for (args, source) in [
        (
            vec![
                "baci",
                &baci_data,
                "--countries",
                &countries,
                "--domestic",
                &fx("baci/domestic.csv"),
            ],
            &countries,
        ),
        (
            vec![
                "wits",
                "--mfn",
                &mfn,
                "--year",
                "2019",
                "--countries",
                &countries,
            ],
            &countries,
        ),
        (vec!["icio", &icio, "--edition", "2023"], &icio),
    ] {
        let mut a = vec!["data", "import"];
        a.extend(args);
        a.extend(["--regions", &typo, "--out", &d]);
        let r = run(&a);
        assert!(!r.0, "{r:?}");
        assert!(r.2.contains(&want_source(source)), "{}", r.2);
        assert!(r.2.contains("remove the row"), "{}", r.2);
        assert!(!dest.exists(), "nothing is written on error");
    }
    // in the country file but without a row in the year file: the region would have no trade
    let more = write(
        "cc.csv",
        &format!(
            "{}36,Australia,AU,AUS\n",
            std::fs::read_to_string(&countries).unwrap()
        ),
    );
    for (name, regions, codes, wants) in [
        // far from every code: the codes are listed (a short file)
        (
            "far.csv",
            "economy,region\nMEX,MEX\nXYZW,XYZ\n",
            &countries,
            [
                "far.csv, row 3: economy `XYZW` is not an ISO3 code",
                "the codes are: BRA, JPN, MEX, S19, USA.",
            ],
        ),
        // several economies the source lacks (the default file's case): all named in one run
        (
            "several.csv",
            "economy,region\nMEX,MEX\nVEN,VEN\nJPN,JPN\nPRY,PRY\nURY,URY\n",
            &countries,
            [
                "several.csv, row 3: economy `VEN` is not an ISO3 code",
                "(also not in it: `PRY` at row 5, `URY` at row 6)",
            ],
        ),
        (
            "aus.csv",
            "economy,region\nJPN,JPN\nAUS,AUS\n",
            &more,
            [
                "aus.csv, row 3: region `AUS` receives no economy with data in",
                "BACI_HS12_Y2019_V202401.csv: AUS has no row there",
            ],
        ),
        // every trading economy listed: ROW would receive none
        (
            "all.csv",
            "economy,region\nJPN,JPN\nMEX,MEX\nUSA,USA\nBRA,BRA\n",
            &countries,
            [
                "all.csv: every economy with data in",
                "ROW receives none; leave at least one economy out",
            ],
        ),
    ] {
        let regions = write(name, regions);
        let r = baci_regions(&baci_data, codes, &regions, &d);
        assert!(wants.iter().all(|w| r.2.contains(w)), "{}", r.2);
    }
    assert!(!dest.exists(), "nothing is written on error");
}

/// Gravity: an `--economies` code or a `--years` value that no row of the file holds is an
/// error naming each, with the years the file holds or the code meant (before: dropped, exit
/// 0); a missing covariate's advice is one the options can follow.
#[test]
fn gravity_economies_and_years_the_file_lacks_are_named() {
    let dir = in_root();
    let dest = dir.path().join("g");
    let d = dest.display().to_string();
    let data = fx("gravity/Gravity_V202211.csv");
    let gravity = |options: &[&str]| {
        let mut args = vec!["data", "import", "gravity", &data];
        args.extend(options);
        args.extend(["--out", &d]);
        run(&args)
    };
    let r = gravity(&[
        "--years",
        "2019,2020,2021",
        "--economies",
        "JPM,MEX,BRA,XXXXX",
    ]);
    assert!(!r.0, "{r:?}");
    assert!(
        r.2.contains("Gravity_V202211.csv: --years 2020,2021: no row of the file has these years; it holds 2018-2019"),
        "{}",
        r.2
    );
    assert!(
        r.2.contains(
            "--economies `JPM` is not an iso3_o or iso3_d code of the file; did you mean `JPN`?"
        ),
        "{}",
        r.2
    );
    assert!(r.2.contains("--economies `XXXXX`"), "{}", r.2);
    assert!(!dest.exists(), "nothing is written on error");
    // an empty covariate: the advice names options that leave it out
    let r = gravity(&["--years", "2019", "--covariates", "distw_arithmetic"]);
    assert!(
        r.2.contains("distw_arithmetic is missing for")
            && r.2
                .contains("choose another covariate (--covariates), or leave")
            && !r.2.contains("leave the pair out"),
        "{}",
        r.2
    );
}

/// BACI `--domestic`: a 0 where the region imports nothing of the sector (always in SRV, which
/// no HS code maps to) is refused at its row of the user's file with what to give instead, and
/// a 0 where it imports is accepted (the loader's rule); a value that overflows is named at its
/// row of the BACI file. Before, both errors named a hidden staging directory.
#[test]
fn baci_domestic_zeros_and_overflows_are_named_in_the_users_files() {
    let dir = in_root();
    let dom = std::fs::read_to_string(fx("baci/domestic.csv")).unwrap();
    let write = |name: &str, text: &str| put(&dir, name, text);
    let countries = fx("baci/country_codes_V202401.csv");
    let data = fx("baci/BACI_HS12_Y2019_V202401.csv");
    let dest = dir.path().join("o");
    let d = dest.display().to_string();
    let import = |data: &str, domestic: &str| {
        baci_with(data, &countries, domestic, &fx("baci/regions.csv"), &d, &[])
    };
    let zero_srv = write(
        "zero_srv.csv",
        &dom.replace("ROW,SRV,20000,million USD", "ROW,SRV,0,million USD"),
    );
    let r = import(&data, &zero_srv);
    assert!(!r.0);
    assert!(
        r.2.contains(
            "zero_srv.csv, row 13: ROW has no domestic sales in SRV, and SRV is not traded"
        ) && r.2.contains("give its positive domestic sales"),
        "{}",
        r.2
    );
    assert!(!r.2.contains(".tradesim-"), "{}", r.2);
    // MEX imports AGR from Japan: no domestic AGR sales is a baseline the loader accepts
    let zero_agr = write(
        "zero_agr.csv",
        &dom.replace("MEX,AGR,30,million USD", "MEX,AGR,0,million USD"),
    );
    let r = import(&data, &zero_agr);
    assert!(r.0, "{r:?}");
    std::fs::remove_dir_all(&dest).unwrap();
    // JPN exports FMN but imports none: a 0 there is refused, naming the trade file
    let zero_fmn = write(
        "zero_fmn.csv",
        &dom.replace("JPN,FMN,20,million USD", "JPN,FMN,0,million USD"),
    );
    let r = import(&data, &zero_fmn);
    assert!(
        r.2.contains(
            "zero_fmn.csv, row 3: JPN has no domestic sales in FMN, and JPN imports nothing in FMN"
        ),
        "{}",
        r.2
    );
    // a value beyond f64 once in US$
    let big = write(
        "big.csv",
        "t,i,j,k,v,q\n2019,392,484,\"010121\",1.7976931348623157e308,1\n",
    );
    let r = import(&big, &fx("baci/domestic.csv"));
    assert!(
        r.2.contains("big.csv, row 2: value v `1.7976931348623157e308` thousand US$ takes the file's total beyond"),
        "{}",
        r.2
    );
    assert!(!r.2.contains(".tradesim-") && !dest.exists(), "{}", r.2);
}

/// Smaller messages: ICIO table-wide errors name the table, not "row 0"; WITS names the years
/// its MFN files hold; a scenario's `Csv` baseline that does not exist says so and where a
/// relative path starts (before: "is not a directory").
#[test]
fn table_wide_errors_name_the_table_and_what_it_holds() {
    let dir = in_root();
    let dest = dir.path().join("o").display().to_string();
    let icio = std::fs::read_to_string(fx("icio/2019_ICIO2023.csv")).unwrap();
    let no_tls: String = icio
        .lines()
        .filter(|l| !l.starts_with("TLS,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let edited = icio.replacen("JPN_A01_02,", "JPN_A01_02,1000", 1);
    for (name, text, want) in [
        ("no_tls.csv", no_tls, "no_tls.csv: no row `TLS`"),
        ("edited.csv", edited, "edited.csv: JPN "),
    ] {
        let p = put(&dir, name, &text);
        let r = icio_2023(&p, &dest);
        assert!(r.2.contains(want) && !r.2.contains(", row 0:"), "{}", r.2);
    }
    let r = run(&[
        "data",
        "import",
        "wits",
        "--mfn",
        &fx("wits/DataJobID-1234567_1234567_AVEMFN.csv"),
        "--year",
        "2018",
        "--countries",
        &fx("baci/country_codes_V202401.csv"),
        "--regions",
        &fx("baci/regions.csv"),
        "--out",
        &dest,
    ]);
    assert!(
        r.2.contains("no MFN rate for 2018; the MFN files hold 2019: pass one of them with --year"),
        "{}",
        r.2
    );
    let scenario = common::write(
        dir.path(),
        "s.ron",
        "Scenario(name: \"s\", baseline: Csv(\"b23t\"), base_year: 2014, years: [2016])",
    );
    let o = tradesim(&["check", &scenario.display().to_string()]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("b23t")
            && e.contains("the directory does not exist")
            && e.contains("starts at the scenario file's directory"),
        "{e}"
    );
}

/// How a generated ICIO table writes the net taxes on products.
#[derive(Clone, Copy)]
enum Taxes {
    /// One row `TLS` (the 2023 edition).
    Tls,
    /// One row `CCC_TAXSUB` per economy, with taxes on final demand too (the 2021 and 2018
    /// editions' CSV, as pymrio's mock `ICIO2018_2010.CSV` and readers of `ICIO2021_*.csv`).
    PerEconomy,
}

/// A balanced ICIO table generated in the layout of `edition`: JPN, USA and FRA (FRA goes to
/// ROW with [`ICIO_REGIONS`]), one industry per sector, made-up values `z(row, column)` (US$
/// million) in known cells, so that every flow and share can be computed by hand.
struct IcioTable {
    text: String,
    /// (row label, column label) → value; industry columns and final-demand columns.
    cells: std::collections::HashMap<(String, String), f64>,
    /// Output of each industry row.
    output: std::collections::HashMap<String, f64>,
}

const ICIO_REGIONS: &str = "economy,region,name\nJPN,JPN,Japan\nUSA,USA,\"United States\"\n";
const ICIO_ECONOMIES: [&str; 3] = ["JPN", "USA", "FRA"];
const FINAL: [&str; 6] = ["HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "DPABR"];

/// The industries of `edition` that map to AGR, FMN, MAN and SRV (data/mappings).
fn icio_industries(edition: &str) -> [&'static str; 4] {
    if edition == "2023" {
        ["A01_02", "B05_06", "C20", "K"]
    } else {
        ["01T02", "05T06", "20", "64T66"]
    }
}

fn icio_table(edition: &str, taxes: Taxes) -> IcioTable {
    icio_table_of(edition, taxes, &ICIO_ECONOMIES, &ICIO_ECONOMIES)
}

/// A balanced table of `edition` whose industry rows and columns are those of `labels` (the
/// economy part of `CCC_IND`, CN1/CN2/MX1/MX2 included) and whose final-demand columns (and
/// `CCC_TAXSUB` rows) are those of `economies`.
fn icio_table_of(edition: &str, taxes: Taxes, labels: &[&str], economies: &[&str]) -> IcioTable {
    let (first, va, out, total) = if edition == "2023" {
        ("V1", "VA", "OUT", "OUT")
    } else {
        ("", "VALU", "OUTPUT", "TOTAL")
    };
    let rows: Vec<String> = labels
        .iter()
        .flat_map(|e| icio_industries(edition).map(|i| format!("{e}_{i}")))
        .collect();
    let finals: Vec<String> = economies
        .iter()
        .flat_map(|e| FINAL.map(|f| format!("{e}_{f}")))
        .collect();
    let mut cells = std::collections::HashMap::new();
    for (ri, r) in rows.iter().enumerate() {
        for (ci, c) in rows.iter().enumerate() {
            cells.insert(
                (r.clone(), c.clone()),
                1.0 + ((ri * 7 + ci * 3) % 11) as f64,
            );
        }
        for (ci, c) in finals.iter().enumerate() {
            cells.insert((r.clone(), c.clone()), 10.0 + ((ri * 5 + ci) % 13) as f64);
        }
    }
    let output: std::collections::HashMap<String, f64> = rows
        .iter()
        .map(|r| {
            let s: f64 = rows
                .iter()
                .chain(&finals)
                .map(|c| cells[&(r.clone(), c.clone())])
                .sum();
            (r.clone(), s)
        })
        .collect();
    let tls: Vec<f64> = (0..rows.len())
        .map(|ci| 0.5 + (ci % 4) as f64 * 0.25)
        .collect();
    let line = |label: &str, ind: &[f64], fd: &[f64]| {
        let all: Vec<String> = ind.iter().chain(fd).map(|v| v.to_string()).collect();
        let sum: f64 = ind.iter().chain(fd).sum();
        format!("\"{label}\",{},{sum}\n", all.join(","))
    };
    let zeros = vec![0.0; finals.len()];
    let mut text = format!(
        "\"{first}\",{},{},\"{total}\"\n",
        rows.iter()
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(","),
        finals
            .iter()
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    for r in &rows {
        let ind: Vec<f64> = rows
            .iter()
            .map(|c| cells[&(r.clone(), c.clone())])
            .collect();
        let fd: Vec<f64> = finals
            .iter()
            .map(|c| cells[&(r.clone(), c.clone())])
            .collect();
        text.push_str(&line(r, &ind, &fd));
    }
    match taxes {
        Taxes::Tls => text.push_str(&line("TLS", &tls, &zeros)),
        Taxes::PerEconomy => {
            // JPN's government gets half of each column's taxes, the USA's 30%, FRA's the rest
            // (the first, second and third economy; any further one none); each also taxes its
            // own final demand (ignored: not a cost of an industry)
            for (k, e) in economies.iter().enumerate() {
                let ind: Vec<f64> = tls
                    .iter()
                    .map(|t| match k {
                        0 => t * 0.5,
                        1 => t * 0.3,
                        2 => t - t * 0.5 - t * 0.3,
                        _ => 0.0,
                    })
                    .collect();
                let fd: Vec<f64> = finals
                    .iter()
                    .map(|c| if c.starts_with(e) { 0.25 } else { 0.0 })
                    .collect();
                text.push_str(&line(&format!("{e}_TAXSUB"), &ind, &fd));
            }
        }
    }
    let vas: Vec<f64> = rows
        .iter()
        .zip(&tls)
        .map(|(c, t)| {
            output[c]
                - rows
                    .iter()
                    .map(|r| cells[&(r.clone(), c.clone())])
                    .sum::<f64>()
                - t
        })
        .collect();
    text.push_str(&line(va, &vas, &zeros));
    let outs: Vec<f64> = rows.iter().map(|c| output[c]).collect();
    text.push_str(&line(out, &outs, &zeros));
    IcioTable {
        text,
        cells,
        output,
    }
}

/// `tradesim data import icio FILE --edition E --regions ICIO_REGIONS --out DEST` plus `extra`.
fn icio(
    dir: &Path,
    file: &Path,
    edition: &str,
    dest: &Path,
    extra: &[&str],
) -> (bool, String, String) {
    std::env::set_current_dir(root()).unwrap();
    let reg = common::write(dir, "icio-regions.csv", ICIO_REGIONS);
    let mut args = vec![
        "data".to_string(),
        "import".into(),
        "icio".into(),
        file.display().to_string(),
        "--edition".into(),
        edition.into(),
        "--regions".into(),
        reg.display().to_string(),
        "--out".into(),
        dest.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// WITS/TRAINS files of JPN (392), the USA (BACI's 842) and China (→ ROW) for four HS lines,
/// one per goods sector: no line is a service, as in every TRAINS download.
const WITS_COUNTRIES: &str = "country_code,country_name,country_iso2,country_iso3\n156,China,CN,CHN\n392,Japan,JP,JPN\n842,USA,US,USA\n";
const WITS_HEADER: &str = "NomenCode,Reporter_ISO_N,Year,ProductCode,Sum_Of_Rates,Min_Rate,Max_Rate,SimpleAverage,Nbr_NA_Lines,Nbr_Free_Lines,Nbr_AVE_Lines,Nbr_Dutiable_Lines,TotalNoOfValidLines,TotalNoOfLines,EstCode\n";

/// `tradesim data import wits --mfn MFN [--preferential PREF] --year 2019 --countries CC
/// --regions REG --out OUT`.
fn wits_import(
    mfn: &Path,
    pref: Option<&Path>,
    cc: &Path,
    reg: &Path,
    out: &Path,
) -> (bool, String, String) {
    std::env::set_current_dir(root()).unwrap();
    let mut args = vec!["data", "import", "wits", "--mfn", mfn.to_str().unwrap()];
    if let Some(p) = pref {
        args.extend(["--preferential", p.to_str().unwrap()]);
    }
    args.extend(["--year", "2019", "--countries", cc.to_str().unwrap()]);
    args.extend([
        "--regions",
        reg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    run(&args)
}

fn wits_mfn() -> String {
    let mut s = WITS_HEADER.to_string();
    for (rep, rates) in [
        ("392", [0.0, 38.5, 0.0]),
        ("842", [26.4, 0.1, 2.5]),
        ("156", [12.0, 0.0, 15.0]),
    ] {
        for (k, r) in ["020130", "270900", "870323"].iter().zip(rates) {
            s.push_str(&format!("H5,{rep},2019,{k},{r},{r},{r},{r},0,0,0,1,1,1,\n"));
        }
    }
    s
}

#[test]
fn icio_with_wits_tariffs_gives_services_tariff_0_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cc = common::write(d, "cc.csv", WITS_COUNTRIES);
    let mfn = common::write(d, "mfn.csv", &wits_mfn());
    let reg = common::write(d, "regions.csv", ICIO_REGIONS);
    let tar = d.join("tar");
    let r = wits_import(&mfn, None, &cc, &reg, &tar);
    assert!(r.0, "{r:?}");
    let tf = tar.join("tariffs.csv");
    assert!(!std::fs::read_to_string(&tf).unwrap().contains("SRV"));
    let table = d.join("2019.csv");
    std::fs::write(&table, icio_table("2023", Taxes::Tls).text).unwrap();
    let dest = d.join("b");
    let r = icio(
        d,
        &table,
        "2023",
        &dest,
        &["--tariffs", tf.to_str().unwrap()],
    );
    assert!(r.0, "{r:?}");
    // the printed summary and PROVENANCE.md name the sector given 0 and why
    for text in [
        r.1.clone(),
        std::fs::read_to_string(dest.join("PROVENANCE.md")).unwrap(),
    ] {
        assert!(
            text.contains("tariff 0 on the international flows of SRV")
                && text.contains("no HS code maps to it in data/mappings/hs-sectors.csv")
                && text.contains("HS goods lines"),
            "{text}"
        );
    }
    let (h, rows) = read_csv(&dest.join("flows.csv"));
    let t = |s: &str, e: &str, i: &str| pair(&h, &rows, (s, e, i), "tariff");
    assert_eq!(t("SRV", "JPN", "USA"), 0.0);
    assert!((t("AGR", "USA", "JPN") - 0.0).abs() < 1e-15);
    assert!((t("FMN", "USA", "JPN") - 0.385).abs() < 1e-12);
    assert!((t("MAN", "JPN", "USA") - 0.025).abs() < 1e-12);
    assert!((t("AGR", "JPN", "ROW") - 0.12).abs() < 1e-12);
    // a scenario over the result checks
    let sc = common::write(
        d,
        "fta.ron",
        "Scenario(name: \"JPN-USA\", baseline: Csv(\"b\"), base_year: 2019, horizon: 2021,\n  agreements: [(name: \"JUSFTA\", entry_into_force: 2020, members: [\"JPN\", \"USA\"], schedule: Linear(years: 2))])\n",
    );
    let r = run(&["check", sc.to_str().unwrap()]);
    assert!(r.0 && r.1.contains("JUSFTA"), "{r:?}");
    // a goods sector without a rate stays an error: the USA's MAN line removed
    let text = std::fs::read_to_string(&tf).unwrap();
    let cut: String = text
        .lines()
        .filter(|l| !l.starts_with("mfn,MAN,JPN,USA,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let tf2 = common::write(d, "cut.csv", &cut);
    let r = icio(
        d,
        &table,
        "2023",
        &d.join("c"),
        &["--tariffs", tf2.to_str().unwrap()],
    );
    assert!(
        !r.0 && r.2.contains("no MFN rate (set mfn) for MAN JPN→USA"),
        "{r:?}"
    );
}

#[test]
fn icio_taxes_in_one_row_or_one_row_per_economy_give_the_same_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for edition in ["2021", "2023"] {
        let mut written = Vec::new();
        for (name, taxes) in [("tls", Taxes::Tls), ("taxsub", Taxes::PerEconomy)] {
            let t = icio_table(edition, taxes);
            let file = d.join(format!("{edition}-{name}.csv"));
            std::fs::write(&file, &t.text).unwrap();
            let dest = d.join(format!("{edition}-{name}"));
            let r = icio(d, &file, edition, &dest, &[]);
            assert!(r.0, "{edition} {name}: {r:?}");
            // by hand: USA's MAN buys AGR from JPN, USA and FRA; its output is its row's sum
            let [agr, _, man, _] = icio_industries(edition);
            let usa_man = format!("USA_{man}");
            let bought: f64 = ICIO_ECONOMIES
                .iter()
                .map(|e| t.cells[&(format!("{e}_{agr}"), usa_man.clone())])
                .sum();
            let (h, rows) = read_csv(&dest.join("io.csv"));
            let share = |input: &str| {
                lookup(
                    &h,
                    &rows,
                    &[("economy", "USA"), ("sector", "MAN"), ("input", input)],
                    "share",
                )
            };
            let want = bought / t.output[&usa_man];
            assert!(
                (share("AGR") - want).abs() < 1e-12,
                "{edition} {name}: {} vs {want}",
                share("AGR")
            );
            let inputs: f64 = ["AGR", "FMN", "MAN", "SRV"].iter().map(|k| share(k)).sum();
            assert!((share("VA") - (1.0 - inputs)).abs() < 1e-12);
            // JPN's AGR sales to the USA: its row's USA industry and final-demand columns
            let jpn_agr = format!("JPN_{agr}");
            let want: f64 = t
                .cells
                .iter()
                .filter(|((r, c), _)| *r == jpn_agr && c.starts_with("USA_"))
                .map(|(_, v)| v)
                .sum::<f64>()
                * 1e6;
            let (h, rows) = read_csv(&dest.join("flows.csv"));
            let v = pair(&h, &rows, ("AGR", "JPN", "USA"), "value");
            assert!((v / want - 1.0).abs() < 1e-12, "{v} vs {want}");
            let prov = std::fs::read_to_string(dest.join("PROVENANCE.md")).unwrap();
            let says = if name == "tls" {
                "the TLS row"
            } else {
                "the sum of the 3 CCC_TAXSUB rows"
            };
            assert!(prov.contains(says), "{prov}");
            written.push(dest);
        }
        for f in ["flows.csv", "io.csv", "final_demand.csv"] {
            assert_eq!(
                std::fs::read_to_string(written[0].join(f)).unwrap(),
                std::fs::read_to_string(written[1].join(f)).unwrap(),
                "{edition} {f}"
            );
        }
    }
    // both forms in one table would count the taxes twice
    let t = icio_table("2021", Taxes::PerEconomy).text;
    let tls_line = icio_table("2021", Taxes::Tls)
        .text
        .lines()
        .find(|l| l.starts_with("\"TLS\""))
        .unwrap()
        .to_string();
    let both = t.replacen("\"VALU\"", &format!("{tls_line}\n\"VALU\""), 1);
    let file = common::write(d, "both.csv", &both);
    let r = icio(d, &file, "2021", &d.join("both"), &[]);
    assert!(
        !r.0 && r.2.contains("both.csv, row 17") && r.2.contains("count twice"),
        "{r:?}"
    );
    // a row that is not an industry is never to be mapped to a sector (taxes booked as sales)
    let typo = t.replacen("\"JPN_TAXSUB\"", "\"JPN_TAXES\"", 1);
    let file = common::write(d, "typo.csv", &typo);
    let r = icio(d, &file, "2021", &d.join("typo"), &[]);
    assert!(
        !r.0 && r
            .2
            .contains("typo.csv, row 14: row `JPN_TAXES` is neither CCC_IND")
            && r.2.contains("TLS, CCC_TAXSUB, VALU, OUTPUT")
            && !r.2.contains("add a row"),
        "{r:?}"
    );
}

#[test]
fn wits_iso_numeric_codes_are_read_with_bacis_country_file() {
    // WITS reports ISO 3166 numeric codes (USA 840, France 250); BACI's country file has UN
    // Comtrade's (842, 251): data/mappings/iso-numeric-baci.csv bridges the six that differ
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cc = common::write(
        d,
        "cc.csv",
        "country_code,country_name,country_iso2,country_iso3\n251,France,FR,FRA\n392,Japan,JP,JPN\n842,USA,US,USA\n",
    );
    let mut mfn = WITS_HEADER.to_string();
    mfn.push_str("H5,840,2019,870323,2.5,2.5,2.5,2.5,0,0,0,1,1,1,\nH5,392,2019,870323,0,0,0,0,0,1,0,0,1,1,\n");
    let mfn = common::write(d, "mfn.csv", &mfn);
    let pref = common::write(
        d,
        "pref.csv",
        "NomenCode,Reporter_ISO_N,Year,ProductCode,Partner,Sum_Of_Rates,Min_Rate,Max_Rate,SimpleAverage,TotalNoOfLines,Nbr_Pref_Lines,Nbr_MFN_Lines,Nbr_NA_Lines,EstCode\nH5,840,2019,870323,392,1,1,1,1,1,1,0,0,\nH5,392,2019,870323,250,0,0,0,0,1,1,0,0,\n",
    );
    let reg = common::write(d, "regions.csv", ICIO_REGIONS);
    let tar = d.join("tar");
    let wits = |mfn: &Path, out: &Path| wits_import(mfn, Some(&pref), &cc, &reg, out);
    let r = wits(&mfn, &tar);
    assert!(r.0, "{r:?}");
    assert!(
        r.1.contains("WITS codes read as BACI's (data/mappings/iso-numeric-baci.csv): 250 as 251 (FRA), 840 as 842 (USA)"),
        "{}",
        r.1
    );
    let (h, rows) = read_csv(&tar.join("tariffs.csv"));
    let t = |set: &str, e: &str, i: &str| {
        lookup(
            &h,
            &rows,
            &[
                ("set", set),
                ("sector", "MAN"),
                ("exporter", e),
                ("importer", i),
            ],
            "tariff",
        )
    };
    assert!((t("mfn", "JPN", "USA") - 0.025).abs() < 1e-15);
    assert!((t("preferential", "JPN", "USA") - 0.01).abs() < 1e-15);
    // a code neither in the file nor in the mapping is still an error naming the fix
    let mut bad = WITS_HEADER.to_string();
    bad.push_str("H5,124,2019,870323,2.5,2.5,2.5,2.5,0,0,0,1,1,1,\n");
    let bad = common::write(d, "bad.csv", &bad);
    let r = wits(&bad, &d.join("x"));
    assert!(
        !r.0 && r
            .2
            .contains("bad.csv, row 2: Reporter_ISO_N `124` is not in")
            && r.2.contains("add `124,ISO3` to the country file"),
        "{r:?}"
    );
}

/// The economies of the OECD ICIO 2021 edition (66 and ROW), as exvatools (cran/exvatools,
/// `R/sysdata.rda`, table `dbgeo`, rows with `basic_icio2021 == 1`, at commit
/// 8e973b9f7aa0f28c3bcf8316f2da85aae3253630) and FabioMonsalve/EEMRIO_Matlab
/// (`ICIO_Co2_2018.xlsx`) list them; the table's labels add CN1, CN2, MX1 and MX2 (`gx_names` of
/// exvatools' `R/extract_icio.R`). See data/mappings/PROVENANCE.md.
const ICIO2021: &str = "AUS AUT BEL CAN CHL COL CRI CZE DNK EST FIN FRA DEU GRC HUN ISL IRL ISR \
    ITA JPN KOR LVA LTU LUX MEX NLD NZL NOR POL PRT SVK SVN ESP SWE CHE TUR GBR USA ARG BRA BRN \
    BGR KHM CHN HRV CYP IND IDN HKG KAZ LAO MYS MLT MAR MMR PER PHL ROU RUS SAU SGP ZAF TWN THA \
    TUN VNM ROW";

/// The economies of the 2023 edition (76 and ROW): `g_names` of the `icio2023` branch of
/// exvatools' `R/extract_icio.R` at the same commit (the same set as `dbgeo`'s
/// `basic_icio2023`).
const ICIO2023: &str = "ARG AUS AUT BEL BGD BGR BLR BRA BRN CAN CHE CHL CHN CIV CMR COL CRI CYP \
    CZE DEU DNK EGY ESP EST FIN FRA GBR GRC HKG HRV HUN IDN IND IRL ISL ISR ITA JOR JPN KAZ KHM \
    KOR LAO LTU LUX LVA MAR MEX MLT MMR MYS NGA NLD NOR NZL PAK PER PHL POL PRT ROU ROW RUS SAU \
    SEN SGP SVK SVN SWE THA TUN TUR TWN UKR USA VNM ZAF";

/// BACI's country file `country_codes_V202501.csv` (code:ISO3, every row; as committed in
/// tomasdata/Trade-Finance, commit 5a723ec464960b9c773354f5781d87a0bbda0646). The
/// older-layout `country_codes_V202301.csv` has the same 238 codes and differs only in
/// [`BACI_V202301_CHANGES`].
const BACI_V202501: &str = "4:AFG 8:ALB 12:DZA 16:ASM 20:AND 24:AGO 28:ATG 31:AZE 32:ARG 36:AUS \
    40:AUT 44:BHS 48:BHR 50:BGD 51:ARM 52:BRB 56:BEL 58:BEL 60:BMU 64:BTN 68:BOL 70:BIH 72:BWA \
    76:BRA 84:BLZ 86:IOT 90:SLB 92:VGB 96:BRN 100:BGR 104:MMR 108:BDI 112:BLR 116:KHM 120:CMR \
    124:CAN 132:CPV 136:CYM 140:CAF 144:LKA 148:TCD 152:CHL 156:CHN 162:CXR 166:CCK 170:COL \
    174:COM 175:MYT 178:COG 180:COD 184:COK 188:CRI 191:HRV 192:CUB 196:CYP 200:CSK 203:CZE \
    204:BEN 208:DNK 212:DMA 214:DOM 218:ECU 222:SLV 226:GNQ 231:ETH 232:ERI 233:EST 238:FLK \
    242:FJI 246:FIN 251:FRA 258:PYF 260:ATF 262:DJI 266:GAB 268:GEO 270:GMB 275:PSE 276:DEU \
    278:DDR 280:DEU 288:GHA 292:GIB 296:KIR 300:GRC 304:GRL 308:GRD 316:GUM 320:GTM 324:GIN \
    328:GUY 332:HTI 340:HND 344:HKG 348:HUN 352:ISL 360:IDN 364:IRN 368:IRQ 372:IRL 376:ISR \
    380:ITA 384:CIV 388:JAM 392:JPN 398:KAZ 400:JOR 404:KEN 408:PRK 410:KOR 414:KWT 417:KGZ \
    418:LAO 422:LBN 426:LSO 428:LVA 430:LBR 434:LBY 440:LTU 442:LUX 446:MAC 450:MDG 454:MWI \
    458:MYS 462:MDV 466:MLI 470:MLT 478:MRT 480:MUS 484:MEX 490:S19 496:MNG 498:MDA 499:MNE \
    500:MSR 504:MAR 508:MOZ 512:OMN 516:NAM 520:NRU 524:NPL 528:NLD 530:ANT 531:CUW 533:ABW \
    534:SXM 535:BES 540:NCL 548:VUT 554:NZL 558:NIC 562:NER 566:NGA 570:NIU 574:NFK 579:NOR \
    580:MNP 583:FSM 584:MHL 585:PLW 586:PAK 591:PAN 598:PNG 600:PRY 604:PER 608:PHL 612:PCN \
    616:POL 620:PRT 624:GNB 626:TLS 634:QAT 642:ROU 643:RUS 646:RWA 652:BLM 654:SHN 659:KNA \
    660:AIA 662:LCA 666:SPM 670:VCT 674:SMR 678:STP 682:SAU 686:SEN 688:SRB 690:SYC 694:SLE \
    697:R20 699:IND 702:SGP 703:SVK 704:VNM 705:SVN 706:SOM 710:ZAF 711:ZA1 716:ZWE 724:ESP \
    728:SSD 729:SDN 736:SDN 740:SUR 748:SWZ 752:SWE 757:CHE 760:SYR 762:TJK 764:THA 768:TGO \
    772:TKL 776:TON 780:TTO 784:ARE 788:TUN 792:TUR 795:TKM 796:TCA 798:TUV 800:UGA 804:UKR \
    807:MKD 810:SUN 818:EGY 826:GBR 834:TZA 842:USA 849:PUS 854:BFA 858:URY 860:UZB 862:VEN \
    876:WLF 882:WSM 887:YEM 891:SCG 894:ZMB";

/// Where `country_codes_V202301.csv` (IaBrilliant/Economic_Complexity_MSc, commit
/// 7beda4d70a6f0d569c9d99e3a69194c578beb333) differs from [`BACI_V202501`]: its
/// `iso_3digit_alpha` column.
const BACI_V202301_CHANGES: [(&str, &str); 4] = [
    ("490", "N/A"),
    ("697", "N/A"),
    ("711", "ZAF"),
    ("849", "N/A"),
];

/// The shipped region files map each economy as the default file does (same region, same
/// name): they only leave out the economies a source lacks.
#[test]
fn shipped_region_files_are_the_default_file_less_economies() {
    let read = |name: &str| read_csv(&root().join("data/mappings").join(name));
    let (dh, default) = read("regions.csv");
    for (name, lacks) in [
        (
            "regions-icio.csv",
            &["PAN", "PRY", "URY", "BOL", "ECU", "VEN"][..],
        ),
        ("regions-baci.csv", &["TWN"][..]),
    ] {
        let (h, rows) = read(name);
        assert_eq!(h, dh, "{name}");
        let kept: Vec<&Vec<String>> = default
            .iter()
            .filter(|r| !lacks.contains(&r[0].as_str()))
            .collect();
        assert_eq!(rows.iter().collect::<Vec<_>>(), kept, "{name}");
    }
}

/// `data/mappings/regions-icio.csv` is accepted as it is by a table of each edition holding
/// exactly that edition's economies (before: only a copy of the default file with six rows
/// removed was); the six it leaves out are in ROW.
#[test]
fn icio_region_file_fits_both_editions() {
    let dir = in_root();
    for (edition, list) in [("2021", ICIO2021), ("2023", ICIO2023)] {
        let economies: Vec<&str> = list.split_whitespace().collect();
        // China and Mexico by processing trade (CN1 … MX2); their whole-economy industry rows
        // and columns, which the published tables leave empty, are left out here
        let mut labels: Vec<&str> = economies
            .iter()
            .copied()
            .filter(|e| !["CHN", "MEX"].contains(e))
            .collect();
        labels.extend(["CN1", "CN2", "MX1", "MX2"]);
        let table = icio_table_of(edition, Taxes::PerEconomy, &labels, &economies);
        let file = put(&dir, &format!("icio{edition}.csv"), &table.text);
        let dest = dir.path().join(format!("out{edition}"));
        let import_file = |file: &str, regions: &str| {
            run(&[
                "data",
                "import",
                "icio",
                file,
                "--edition",
                edition,
                "--regions",
                regions,
                "--out",
                &dest.display().to_string(),
            ])
        };
        let import = |regions: &str| import_file(&file, regions);
        // with sales in both the whole rows and the split ones, China would count twice
        labels.extend(["CHN", "MEX"]);
        let both = icio_table_of(edition, Taxes::PerEconomy, &labels, &economies);
        let both = put(&dir, &format!("both{edition}.csv"), &both.text);
        let r = import_file(&both, "data/mappings/regions-icio.csv");
        assert!(!r.0 && !dest.exists(), "{r:?}");
        assert!(
            r.2.contains("China has sales both in the whole-economy rows (`CHN_")
                && r.2.contains("count China twice"),
            "{}",
            r.2
        );
        // the default file names the six economies the edition lacks
        let r = import("data/mappings/regions.csv");
        assert!(!r.0, "{r:?}");
        assert!(
            r.2.contains("row 12: economy `PAN` is not an ISO3 code")
                && r.2.contains("`PRY` at row 15, `URY` at row 16, `BOL` at row 17, `ECU` at row 18, `VEN` at row 19)"),
            "{}",
            r.2
        );
        let r = import("data/mappings/regions-icio.csv");
        assert!(r.0, "{edition}: {r:?}");
        let b = tradesim::data::tidy::load(&dest).unwrap();
        assert_eq!(b.n_economies(), 38, "{edition}: 37 economies and ROW");
        for e in ["TWN", "CHN", "MEX", "ROW"] {
            assert!(b.economy_index(e).is_some(), "{edition}: {e}");
        }
        for e in ["PAN", "VEN", "CN1", "MX2"] {
            assert!(b.economy_index(e).is_none(), "{edition}: {e}");
        }
    }
}

/// `data/mappings/regions-baci.csv` is accepted as it is with BACI's country file in either
/// layout, every code of the file trading (before: the default file stopped at TWN, which
/// BACI does not have: Taiwan's trade is under 490 "Other Asia, nes", ISO3 field `S19` or
/// `N/A`, and goes to ROW).
#[test]
fn baci_region_file_fits_bacis_country_files() {
    let dir = in_root();
    let v202501: Vec<(&str, &str)> = BACI_V202501
        .split_whitespace()
        .map(|p| p.split_once(':').unwrap())
        .collect();
    assert_eq!(v202501.len(), 238);
    let v202301: Vec<(&str, &str)> = v202501
        .iter()
        .map(|&(c, iso)| {
            let changed = BACI_V202301_CHANGES.iter().find(|x| x.0 == c);
            (c, changed.map_or(iso, |x| x.1))
        })
        .collect();
    let new = std::iter::once("country_code,country_name,country_iso2,country_iso3".to_string())
        .chain(v202501.iter().map(|(c, iso)| format!("{c},,,{iso}")))
        .collect::<Vec<_>>()
        .join("\n");
    let old = std::iter::once(
        "country_code,country_name_abbreviation,country_name_full,iso_2digit_alpha,iso_3digit_alpha"
            .to_string(),
    )
    .chain(v202301.iter().map(|(c, iso)| format!("{c},,,,{iso}")))
    .collect::<Vec<_>>()
    .join("\n");
    // every code exports one product to the next code
    let mut year = String::from("t,i,j,k,v,q\n");
    for (k, (c, _)) in v202501.iter().enumerate() {
        let to = v202501[(k + 1) % v202501.len()].0;
        year.push_str(&format!("2022,{c},{to},\"010121\",{}.5,NA\n", k + 1));
    }
    let data = put(&dir, "BACI_HS92_Y2022_V202501.csv", year);
    let (_, regions) = read_csv(&root().join("data/mappings/regions-baci.csv"));
    let mut domestic = String::from("economy,sector,value,unit\n");
    for r in regions.iter().map(|r| r[1].as_str()).chain(["ROW"]) {
        for s in ["AGR", "FMN", "MAN", "SRV"] {
            domestic.push_str(&format!("{r},{s},100,million USD\n"));
        }
    }
    let domestic = put(&dir, "domestic.csv", domestic);
    for (name, text) in [
        ("country_codes_V202501.csv", new),
        ("country_codes_V202301.csv", old),
    ] {
        let countries = put(&dir, name, text);
        let dest = dir.path().join(name.replace(".csv", ""));
        let d = dest.display().to_string();
        let r = baci_with(
            &data,
            &countries,
            &domestic,
            "data/mappings/regions.csv",
            &d,
            &[],
        );
        assert!(
            r.2.contains("row 33: economy `TWN` is not an ISO3 code"),
            "{name}: {}",
            r.2
        );
        let r = baci_with(
            &data,
            &countries,
            &domestic,
            "data/mappings/regions-baci.csv",
            &d,
            &[],
        );
        assert!(r.0, "{name}: {r:?}");
        let b = tradesim::data::tidy::load(&dest).unwrap();
        assert_eq!(b.n_economies(), 43, "{name}: 42 economies and ROW");
        assert!(b.economy_index("USA").is_some() && b.economy_index("TWN").is_none());
    }
}
