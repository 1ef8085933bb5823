//! Reports: the output tables of a run (CSV, and JSON on request), written whole or not at all;
//! the summary printed on the terminal; `report_meta.json` ([`meta`]); and the self-contained
//! HTML report ([`html`], with its hand-written SVG charts in [`svg`]).

pub mod html;
pub mod meta;
pub mod svg;

pub mod batch;
pub mod finite;
pub mod output;
pub mod summary;

use crate::data::{exports_of, imports_of, Baseline};
use crate::error::{Error, Result};
use crate::simulate::RunOutcome;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A row of `economies.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct EconomyRow {
    pub scenario: String,
    pub year: i32,
    pub draw: u32,
    pub economy: String,
    pub exports_base: f64,
    pub exports: f64,
    pub imports_base: f64,
    pub imports: f64,
    pub real_income_pct: f64,
    pub welfare_pct: f64,
    pub tot_pct: f64,
    pub vot_pct: f64,
    pub real_wage_pct: f64,
    pub tariff_revenue_base: f64,
    pub tariff_revenue: f64,
    /// Inward FDI stock from the sources in the investment baseline; empty when the scenario
    /// has no investment block (and absent in files of other tools and of the structural
    /// gravity model).
    #[serde(default)]
    pub inward_fdi_base: Option<f64>,
    #[serde(default)]
    pub inward_fdi: Option<f64>,
    /// What the `_base` columns and the percent changes refer to: `base_year` (the solved base
    /// year) or `reference` (the reference path in the same year; `report_meta.json` names it).
    /// Files written before this column existed read as `base_year`.
    #[serde(default = "base_year_label")]
    pub compared_with: String,
}

pub(crate) fn base_year_label() -> String {
    "base_year".into()
}

/// A row of `investment.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct InvestmentRow {
    pub scenario: String,
    pub year: i32,
    pub draw: u32,
    pub source: String,
    pub host: String,
    pub fdi_stock_base: f64,
    pub fdi_stock: f64,
    pub change_pct: f64,
    /// Affiliate sales, where the baseline gives a sales ratio (empty otherwise).
    pub affiliate_sales: Option<f64>,
}

/// A row of `bilateral.csv` (flows at factory prices).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct BilateralRow {
    pub scenario: String,
    pub year: i32,
    pub draw: u32,
    pub exporter: String,
    pub importer: String,
    pub sector: String,
    pub value_base: f64,
    pub value: f64,
    pub change_pct: f64,
    /// `base_year` or `reference`: what `value_base` is (see [`EconomyRow::compared_with`]).
    #[serde(default = "base_year_label")]
    pub compared_with: String,
}

/// A row of `tariffs.csv`: applied rates that differ from the comparison's (the base year, or
/// the reference path in the same year).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct TariffRow {
    pub scenario: String,
    pub year: i32,
    pub importer: String,
    pub exporter: String,
    pub sector: String,
    pub rate_base: f64,
    pub rate: f64,
    /// `base_year` or `reference`: what `rate_base` is.
    #[serde(default = "base_year_label")]
    pub compared_with: String,
}

/// A row of `quotas.csv`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct QuotaRow {
    pub scenario: String,
    pub year: i32,
    pub draw: u32,
    pub agreement: String,
    pub group: String,
    pub importer: String,
    pub exporter: String,
    pub sector: String,
    pub quota: f64,
    pub imports: f64,
    pub fill_rate: f64,
    pub regime: String,
    pub marginal_rate: f64,
}

/// A row of `solver.csv`: convergence diagnostics of every solve. `stage` is `baseline` for
/// the solve of the base-year data (its `year` is the base year), `year` for a year of the
/// scenario and `reference` for the same year of the reference path it is compared with.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct SolverRow {
    pub scenario: String,
    /// Files written before the `stage` column said `2014 (baseline)` in `year`; they read as
    /// stage `baseline`, year 2014.
    #[serde(default)]
    pub stage: String,
    #[serde(deserialize_with = "year_of_old_or_new")]
    pub year: i32,
    pub draw: u32,
    pub iterations: usize,
    pub residual: f64,
    pub quota_rounds: usize,
}

/// The stage of a solve in `solver.csv`.
pub const STAGE_BASELINE: &str = "baseline";
/// The stage of a solve of one year of the scenario.
pub const STAGE_YEAR: &str = "year";
/// The stage of a solve of one year of the reference path the scenario is compared with
/// (written only when the reference's policy differs from the scenario's in that year).
pub const STAGE_REFERENCE: &str = "reference";

/// A `year` of `solver.csv`: a number, or the `2014 (baseline)` of files written before the
/// `stage` column.
fn year_of_old_or_new<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<i32, D::Error> {
    let text = String::deserialize(d)?;
    let number = text.trim().trim_end_matches("(baseline)").trim();
    number
        .parse()
        .map_err(|_| serde::de::Error::custom(format!("year `{text}` is not a year")))
}

/// The tables of a run.
#[derive(Debug, Default)]
pub struct Tables {
    pub economies: Vec<EconomyRow>,
    pub bilateral: Vec<BilateralRow>,
    pub tariffs: Vec<TariffRow>,
    pub quotas: Vec<QuotaRow>,
    pub solver: Vec<SolverRow>,
    pub investment: Vec<InvestmentRow>,
}

pub(crate) fn pct(new: f64, base: f64) -> f64 {
    if base == 0.0 {
        if new == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        (new / base - 1.0) * 100.0
    }
}

/// Build the tables of a run.
pub fn tables(b: &Baseline, run: &RunOutcome) -> Tables {
    let (nn, jj) = (b.n_economies(), b.n_sectors());
    let mut t = Tables::default();
    let against = run.compared_with.to_string();
    t.solver.push(SolverRow {
        scenario: run.scenario.clone(),
        stage: STAGE_BASELINE.into(),
        year: run.base_year,
        draw: 0,
        iterations: run.baseline.iterations,
        residual: run.baseline.residual,
        quota_rounds: 1,
    });
    for y in &run.years {
        let eq = &y.equilibrium;
        // The comparison: the reference path's same year, or the solved base year.
        let base = y
            .reference
            .as_ref()
            .map_or(&run.baseline, |r| &r.equilibrium);
        let base_tariffs = match &y.reference {
            Some(r) => &r.equilibrium.tariffs,
            None => &run.base_policy.tariffs,
        };
        let (ex0, im0) = (exports_of(&base.flows), imports_of(&base.flows));
        let (ex, im) = (exports_of(&eq.flows), imports_of(&eq.flows));
        let c = &y.comparison;
        // Without an investment block the FDI columns are empty, not zero.
        let projected = !y.investment.is_empty();
        let mut fdi0 = vec![0.0; nn];
        let mut fdi1 = vec![0.0; nn];
        for f in &y.investment {
            fdi0[f.host] += f.stock_base;
            fdi1[f.host] += f.stock;
            t.investment.push(InvestmentRow {
                scenario: run.scenario.clone(),
                year: y.year,
                draw: y.draw,
                source: b.economies[f.source].code.clone(),
                host: b.economies[f.host].code.clone(),
                fdi_stock_base: f.stock_base,
                fdi_stock: f.stock,
                change_pct: pct(f.stock, f.stock_base),
                affiliate_sales: f.affiliate_sales,
            });
        }
        for n in 0..nn {
            t.economies.push(EconomyRow {
                scenario: run.scenario.clone(),
                year: y.year,
                draw: y.draw,
                economy: b.economies[n].code.clone(),
                exports_base: ex0[n],
                exports: ex[n],
                imports_base: im0[n],
                imports: im[n],
                real_income_pct: c.real_income_pct[n],
                welfare_pct: c.welfare_pct[n],
                tot_pct: c.tot_pct[n],
                vot_pct: c.vot_pct[n],
                real_wage_pct: c.real_wage_pct[n],
                tariff_revenue_base: base.tariff_revenue[n],
                tariff_revenue: eq.tariff_revenue[n],
                inward_fdi_base: projected.then_some(fdi0[n]),
                inward_fdi: projected.then_some(fdi1[n]),
                compared_with: against.clone(),
            });
        }
        for j in 0..jj {
            for n in 0..nn {
                for i in 0..nn {
                    let (v0, v1) = (base.flows.get(j, n, i), eq.flows.get(j, n, i));
                    if v0 == 0.0 && v1 == 0.0 {
                        continue;
                    }
                    t.bilateral.push(BilateralRow {
                        scenario: run.scenario.clone(),
                        year: y.year,
                        draw: y.draw,
                        exporter: b.economies[i].code.clone(),
                        importer: b.economies[n].code.clone(),
                        sector: b.sectors[j].code.clone(),
                        value_base: v0,
                        value: v1,
                        change_pct: pct(v1, v0),
                        compared_with: against.clone(),
                    });
                    let (r0, r1) = (base_tariffs.get(j, n, i), eq.tariffs.get(j, n, i));
                    if y.draw == 0 && r0 != r1 {
                        t.tariffs.push(TariffRow {
                            scenario: run.scenario.clone(),
                            year: y.year,
                            importer: b.economies[n].code.clone(),
                            exporter: b.economies[i].code.clone(),
                            sector: b.sectors[j].code.clone(),
                            rate_base: r0,
                            rate: r1,
                            compared_with: against.clone(),
                        });
                    }
                }
            }
        }
        for q in &y.quotas {
            t.quotas.push(QuotaRow {
                scenario: run.scenario.clone(),
                year: y.year,
                draw: y.draw,
                agreement: q.cell.agreement.clone(),
                group: q.cell.group.clone(),
                importer: b.economies[q.cell.importer].code.clone(),
                exporter: b.economies[q.cell.exporter].code.clone(),
                sector: b.sectors[q.cell.sector].code.clone(),
                quota: q.cell.quota,
                imports: q.imports,
                fill_rate: q.fill_rate,
                regime: q.regime.to_string(),
                marginal_rate: q.marginal_rate,
            });
        }
        t.solver.push(SolverRow {
            scenario: run.scenario.clone(),
            stage: STAGE_YEAR.into(),
            year: y.year,
            draw: y.draw,
            iterations: eq.iterations,
            residual: eq.residual,
            quota_rounds: y.quota_rounds,
        });
        if let Some(r) = y.reference.as_ref().filter(|r| !r.same_policy) {
            t.solver.push(SolverRow {
                scenario: run.scenario.clone(),
                stage: STAGE_REFERENCE.into(),
                year: y.year,
                draw: y.draw,
                iterations: r.equilibrium.iterations,
                residual: r.equilibrium.residual,
                quota_rounds: r.quota_rounds,
            });
        }
    }
    t
}

/// The CSV header of a row type: the field names serde gives its default value.
pub fn csv_header<R: Serialize + Default>() -> Vec<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.serialize(R::default());
    let text = w.into_inner().unwrap_or_default();
    let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(first)
        .records()
        .next()
        .and_then(|r| r.ok())
        .map(|r| r.iter().map(String::from).collect())
        .unwrap_or_default()
}

/// Serialise rows to CSV text; with no rows, the header alone.
pub fn to_csv<R: Serialize + Default>(rows: &[R]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if rows.is_empty() {
        w.write_record(csv_header::<R>())
            .map_err(|e| Error::invalid("CSV output", e.to_string()))?;
    }
    for r in rows {
        w.serialize(r)
            .map_err(|e| Error::invalid("CSV output", e.to_string()))?;
    }
    w.into_inner()
        .map_err(|e| Error::invalid("CSV output", e.to_string()))
}

/// Write a set of files into `dir` whole or not at all: every file goes to a temporary name
/// first, and only when all are written are they renamed into place.
pub fn write_all(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let pid = std::process::id();
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |staged: &[(PathBuf, PathBuf)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for (name, bytes) in files {
        let tmp = dir.join(format!(".{name}.{pid}.tmp"));
        if let Err(e) = std::fs::write(&tmp, bytes) {
            let _ = std::fs::remove_file(&tmp);
            cleanup(&staged);
            return Err(Error::io(&tmp, e));
        }
        staged.push((tmp, dir.join(name)));
    }
    for (k, (tmp, dest)) in staged.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, dest) {
            cleanup(&staged[k..]);
            return Err(Error::io(dest, e));
        }
    }
    Ok(())
}

/// Serialise rows to a JSON array of objects (the CSV's rows; non-finite numbers become `null`).
pub fn to_json<R: Serialize>(rows: &[R]) -> Result<Vec<u8>> {
    serde_json::to_vec(rows).map_err(|e| Error::invalid("JSON output", e.to_string()))
}

/// The files of a run's tables: the CSVs, and with `json` the same rows as `.json` beside them.
pub fn table_files(t: &Tables, json: bool) -> Result<Vec<(String, Vec<u8>)>> {
    finite::check_rows("economies.csv", &t.economies)?;
    finite::check_rows("bilateral.csv", &t.bilateral)?;
    finite::check_rows("tariffs.csv", &t.tariffs)?;
    finite::check_rows("solver.csv", &t.solver)?;
    finite::check_rows("quotas.csv", &t.quotas)?;
    finite::check_rows("investment.csv", &t.investment)?;
    let mut files = vec![
        ("economies.csv".to_string(), to_csv(&t.economies)?),
        ("bilateral.csv".to_string(), to_csv(&t.bilateral)?),
        ("tariffs.csv".to_string(), to_csv(&t.tariffs)?),
        ("solver.csv".to_string(), to_csv(&t.solver)?),
    ];
    if !t.quotas.is_empty() {
        files.push(("quotas.csv".to_string(), to_csv(&t.quotas)?));
    }
    if !t.investment.is_empty() {
        files.push(("investment.csv".to_string(), to_csv(&t.investment)?));
    }
    if json {
        files.push(("economies.json".to_string(), to_json(&t.economies)?));
        files.push(("bilateral.json".to_string(), to_json(&t.bilateral)?));
        files.push(("tariffs.json".to_string(), to_json(&t.tariffs)?));
        files.push(("solver.json".to_string(), to_json(&t.solver)?));
        if !t.quotas.is_empty() {
            files.push(("quotas.json".to_string(), to_json(&t.quotas)?));
        }
        if !t.investment.is_empty() {
            files.push(("investment.json".to_string(), to_json(&t.investment)?));
        }
    }
    Ok(files)
}

/// A short text summary: per year solved, the largest real-income changes, and the members'
/// trade with each other.
pub fn summary(b: &Baseline, run: &RunOutcome, members: &[usize], top: usize) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let Some(last) = run.years.last() else {
        return "no years solved\n".into();
    };
    let _ = writeln!(
        s,
        "scenario {}: {} year(s) solved, {}–{}",
        run.scenario,
        run.years.len(),
        run.years[0].year,
        last.year
    );
    let _ = writeln!(
        s,
        "baseline solve: {} iterations, residual {:.1e}; year solves: {}–{} iterations, max residual {:.1e}",
        run.baseline.iterations,
        run.baseline.residual,
        run.years.iter().map(|y| y.equilibrium.iterations).min().unwrap_or(0),
        run.years.iter().map(|y| y.equilibrium.iterations).max().unwrap_or(0),
        run.years.iter().map(|y| y.equilibrium.residual).fold(0.0, f64::max)
    );
    let c = &last.comparison;
    let mut order: Vec<usize> = (0..b.n_economies()).collect();
    order.sort_by(|&x, &y| {
        c.real_income_pct[y]
            .abs()
            .total_cmp(&c.real_income_pct[x].abs())
    });
    let _ = writeln!(
        s,
        "\nlargest changes in {} (percent against {}):",
        last.year, run.compared_with_label
    );
    let _ = writeln!(
        s,
        "  {:<8} {:>12} {:>12} {:>12} {:>12}",
        "economy", "real income", "welfare", "real wage", "exports"
    );
    let base = last
        .reference
        .as_ref()
        .map_or(&run.baseline, |r| &r.equilibrium);
    let ex0 = exports_of(&base.flows);
    let ex1 = exports_of(&last.equilibrium.flows);
    for &n in order.iter().take(top) {
        let _ = writeln!(
            s,
            "  {:<8} {:>12.3} {:>12.3} {:>12.3} {:>12.3}",
            b.economies[n].code,
            c.real_income_pct[n],
            c.welfare_pct[n],
            c.real_wage_pct[n],
            pct(ex1[n], ex0[n])
        );
    }
    if members.len() >= 2 {
        let within = |f: &crate::data::Cube| -> f64 {
            let mut t = 0.0;
            for j in 0..b.n_sectors() {
                for &n in members {
                    for &i in members {
                        if i != n {
                            t += f.get(j, n, i);
                        }
                    }
                }
            }
            t
        };
        let (m0, m1) = (within(&base.flows), within(&last.equilibrium.flows));
        let _ = writeln!(
            s,
            "\ntrade among the {} members in {}: {:.4e} → {:.4e} ({:+.2}%)",
            members.len(),
            last.year,
            m0,
            m1,
            pct(m1, m0)
        );
    }
    s
}

/// The resolved tariff paths of a scenario, for `tradesim check`: each agreement with its
/// members and status, then for every year the trade-weighted average applied tariff on
/// imports among the members of each agreement (weights: base-year flows), by sector.
/// Without `all`, only the scenario's own agreements (defined in its file or in a parent that
/// is not a base-year data file, or removed or continued by it: `Scenario::agreement_origins`);
/// a line counts the others.
pub fn policy_summary(s: &crate::scenario::Scenario, all: bool) -> String {
    use std::fmt::Write;
    let b = &s.baseline;
    let (base, years) = crate::scenario::resolve_paths(s);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario {} ({}): baseline {}, {} economies × {} sectors, base year {}",
        s.name,
        s.path.display(),
        b.name,
        b.n_economies(),
        b.n_sectors(),
        s.base_year
    );
    let _ = writeln!(out, "world: {}", b.describe());
    let _ = writeln!(out, "years: {}", crate::scenario::compact_years(&s.years));
    let _ = writeln!(
        out,
        "compared with: {}",
        s.compared_with.describe(s.base_year)
    );
    // The scenario's own agreements, and every agreement its outcomes measure (e.g. CPTPP in
    // a file that compares the reference path with and without it).
    // Against a reference path, an agreement the outcomes do not measure is the same in both
    // (the reference is this scenario without the measured ones), wherever it is defined.
    let against_reference = s.compared_with.reference().is_some();
    let shown = |k: usize| {
        all || s.measured(&s.agreements[k])
            || (!against_reference && s.agreement_origins.get(k).is_none_or(|o| o.own))
    };
    let hidden: Vec<usize> = (0..s.agreements.len()).filter(|&k| !shown(k)).collect();
    if !hidden.is_empty() {
        let _ = writeln!(
            out,
            "{} agreement(s) from {} are not shown: the same in this scenario as in what it is compared with (the base-year data of {}, or the reference path); --all shows them",
            hidden.len(),
            hidden
                .iter()
                .filter_map(|&k| s.agreement_origins.get(k))
                .map(|o| o.file.display().to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(", "),
            s.base_year
        );
    }
    for (k, a) in s.agreements.iter().enumerate() {
        if !shown(k) {
            continue;
        }
        let status = meta::status(a, s);
        let members: Vec<String> = a
            .members
            .iter()
            .map(|m| {
                let mut t = b.economies[m.economy].code.clone();
                if m.joins > a.entry_into_force {
                    t += &format!(" (joins {})", m.joins);
                }
                if let Some(l) = m.leaves {
                    t += &format!(" (leaves {l})");
                }
                t
            })
            .collect();
        let _ = writeln!(
            out,
            "\nagreement {}: entry into force {}, {status}\n  members: {}",
            a.name,
            a.entry_into_force,
            members.join(", ")
        );
        let traded: Vec<usize> = (0..b.n_sectors())
            .filter(|&j| b.sectors[j].traded)
            .collect();
        let _ = write!(
            out,
            "  average applied tariff among members, %:\n  {:>6}",
            "year"
        );
        for &j in &traded {
            let _ = write!(out, " {:>10}", b.sectors[j].code);
        }
        let _ = writeln!(out);
        let idx: Vec<usize> = a.members.iter().map(|m| m.economy).collect();
        let avg = |tau: &crate::data::Cube, j: usize| meta::member_average(b, &idx, tau, &[j]);
        let mut rows: Vec<(String, &crate::data::Cube)> =
            vec![(format!("{}*", s.base_year), &base.tariffs)];
        rows.extend(years.iter().map(|p| (p.year.to_string(), &p.tariffs)));
        for (label, tau) in rows {
            let _ = write!(out, "  {label:>6}");
            for &j in &traded {
                let _ = write!(out, " {:>10.3}", avg(tau, j));
            }
            let _ = writeln!(out);
        }
        if !a.groups.is_empty() {
            let _ = writeln!(
                out,
                "  product groups: {}",
                a.groups
                    .iter()
                    .map(|g| format!(
                        "{} ({} {}{}, weight {})",
                        g.name,
                        b.economies[g.importer].code,
                        b.sectors[g.sector].code,
                        g.exporter
                            .map(|e| format!(" from {}", b.economies[e].code))
                            .unwrap_or_default(),
                        g.weight
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        if let Some(d) = &a.depth {
            let _ = writeln!(out, "  depth: {}", d.describe(b));
        }
    }
    let _ = writeln!(out, "\n* the base year, with the agreements in the data");
    out.push_str(&world_groups_summary(s));
    out
}

/// The baseline's named product groups (`product_groups.csv`) of the economies in the
/// scenario's agreements: name, sector, weight (all partners, then exporter-specific rows),
/// base rate, and the agreements of the scenario that schedule the group.
pub fn world_groups_summary(s: &crate::scenario::Scenario) -> String {
    use std::fmt::Write;
    let b = &s.baseline;
    let mut importers: Vec<usize> = s
        .agreements
        .iter()
        .flat_map(|a| a.members.iter().map(|m| m.economy))
        .filter(|&n| !b.product_group_names(n).is_empty())
        .collect();
    importers.sort_unstable();
    importers.dedup();
    if importers.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nnamed product groups of the baseline (product_groups.csv) for the economies of these agreements:\n",
    );
    let _ = writeln!(
        out,
        "  {:<8} {:<12} {:<6} {:>9} {:>10}  exporter-specific weights; scheduled by",
        "importer", "group", "sector", "weight", "base rate"
    );
    for n in importers {
        for name in b.product_group_names(n) {
            let rows: Vec<&crate::data::BaselineProductGroup> =
                b.product_group_rows(n, name).collect();
            let all = rows.iter().find(|r| r.exporter.is_none());
            let specific: Vec<String> = rows
                .iter()
                .filter_map(|r| {
                    r.exporter.map(|e| {
                        format!(
                            "{} {:.4} at {:.1}%",
                            b.economies[e].code,
                            r.weight,
                            100.0 * r.base_rate
                        )
                    })
                })
                .collect();
            let by: Vec<&str> = s
                .agreements
                .iter()
                .filter(|a| a.groups.iter().any(|g| g.importer == n && g.name == name))
                .map(|a| a.name.as_str())
                .collect();
            let _ = writeln!(
                out,
                "  {:<8} {:<12} {:<6} {:>9} {:>10}  {}; {}",
                b.economies[n].code,
                name,
                b.sectors[rows[0].sector].code,
                all.map_or("-".to_string(), |r| format!("{:.4}", r.weight)),
                all.map_or("-".to_string(), |r| format!("{:.1}%", 100.0 * r.base_rate)),
                if specific.is_empty() {
                    "none".to_string()
                } else {
                    specific.join(", ")
                },
                if by.is_empty() {
                    "not scheduled (the sector's schedule applies)".to_string()
                } else {
                    format!("scheduled by {}", by.join(", "))
                }
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_table_still_has_its_header() {
        assert_eq!(
            csv_header::<InvestmentRow>(),
            [
                "scenario",
                "year",
                "draw",
                "source",
                "host",
                "fdi_stock_base",
                "fdi_stock",
                "change_pct",
                "affiliate_sales"
            ]
        );
        let text = String::from_utf8(to_csv::<SolverRow>(&[]).unwrap()).unwrap();
        assert_eq!(
            text,
            "scenario,stage,year,draw,iterations,residual,quota_rounds\n"
        );
        let e = csv_header::<EconomyRow>();
        assert_eq!(
            (e.first().map(String::as_str), e.len()),
            (Some("scenario"), 18)
        );
    }
}
