//! `report.html`: one self-contained file (inline SVG and CSS, no network, no JS libraries)
//! built from the tables of an output directory (one run, or a batch of several scenarios).
//!
//! Sections: overview and key figures; agreements and tariff paths; projected exports,
//! imports and real income by year (bands when there are draws or a `summary.csv`); the
//! options comparison (several scenarios); the bilateral heat map among members; trade creation
//! and diversion; investment (`investment.csv`); settings, data provenance and solver
//! diagnostics. A section whose input is absent says so instead of drawing.
//!
//! Every section that draws carries `data-expect-charts="N"`; a small inline script checks in
//! the browser that N charts rendered and writes the result (and any script error) into
//! `#render-check`, which the browser test reads.

use super::read::{self, csv_header, for_each_row};
use super::svg::{self, esc, fmt_num, Bar, BarChart, HeatMap, LineChart, Series};
use crate::error::{Error, Result};
use crate::output::meta::{self, ComparedWithMeta, ReportMeta, ScenarioMeta};
use crate::output::{pct, InvestmentRow};
use crate::output::{BilateralRow, EconomyRow, QuotaRow, SolverRow, Tables, TariffRow};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The file name of the report in an output directory.
pub(crate) const FILE: &str = "report.html";

/// At most this many economies per line chart (one colour each).
const MAX_LINES: usize = 8;
/// At most this many economies in the options comparison and in the heat map.
const MAX_GROUPS: usize = 12;
const MAX_HEAT: usize = 25;
/// At most this many sectors per tariff chart, so the all-sector line keeps a colour of its own.
const MAX_SECTORS: usize = 6;

pub(crate) use crate::output::summary::SummaryRow;

/// Bilateral flows of the central run (draw 0) summed over sectors: (base, value).
pub(crate) type BilateralTotals = BTreeMap<(String, i32, String, String), (f64, f64)>;

/// Everything the report draws.
#[derive(Debug, Default)]
pub(crate) struct ReportData {
    /// Where the tables came from (shown in the report).
    pub source: String,
    pub meta: ReportMeta,
    pub economies: Vec<EconomyRow>,
    pub bilateral: BilateralTotals,
    pub tariffs: Vec<TariffRow>,
    /// The central run's solves (`draw == 0`).
    pub solver: Vec<SolverRow>,
    /// Per scenario, the solves of the draws: (count, fewest and most iterations, largest residual).
    pub draw_solves: BTreeMap<String, (usize, usize, usize, f64)>,
    pub quotas: Vec<QuotaRow>,
    pub summary: Vec<SummaryRow>,
    pub investment: Vec<InvestmentRow>,
    /// Input files that were absent (named in the report).
    pub absent: Vec<String>,
    /// Per scenario, what its tables' `compared_with` column says (`base_year` or `reference`).
    pub compared: BTreeMap<String, String>,
}

/// A batch's `manifest.json`, as far as the report reads it.
#[derive(serde::Deserialize)]
struct ManifestHead {
    batch: String,
    shard: usize,
    shards: usize,
    #[serde(default)]
    scenarios: Vec<String>,
    #[serde(default)]
    economies: Vec<Vec<String>>,
}

/// Refuse a shard of a batch (`manifest.json` says shard K of N > 1): it holds a part of the
/// draws, so the report needs the merged directory. Returns the economies the manifest lists
/// per scenario (none without a manifest).
fn refuse_a_shard(dir: &Path) -> Result<read::ExpectedEconomies> {
    let p = dir.join("manifest.json");
    if !p.is_file() {
        return Ok(read::ExpectedEconomies::new());
    }
    let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
    let m: ManifestHead = serde_json::from_str(&text).map_err(|e| {
        Error::data(
            &p,
            e.line(),
            format!("{e}; this file is written by a batch or a merge: run the batch (or the merge) again"),
        )
    })?;
    if m.shards > 1 {
        let d = dir.display();
        return Err(Error::invalid(
            d.to_string(),
            format!(
                "this is shard {}/{} of batch `{}` (manifest.json): it holds only part of the batch's draws, so a report on it would be incomplete; merge the shards first, `tradesim merge SHARD-1 … SHARD-{} --out MERGED` (this directory is shard {}), then run `tradesim report MERGED`",
                m.shard, m.shards, m.batch, m.shards, m.shard
            ),
        ));
    }
    Ok(m.scenarios.into_iter().zip(m.economies).collect())
}

/// What an output directory's scenarios were solved on (its [`ReportData::world`]); base
/// years, sectors and names are empty without `report_meta.json`.
struct World {
    economies: BTreeSet<String>,
    base_years: BTreeSet<i32>,
    sectors: BTreeSet<String>,
    names: BTreeSet<String>,
}

/// At most eight items of a list, then "…".
fn some_of<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = items.map(String::as_str).collect();
    let more = if v.len() > 8 { ", …" } else { "" };
    format!("{}{more}", v[..v.len().min(8)].join(", "))
}

impl World {
    /// How `other` (of directory `b`) differs from this world (of directory `a`), in words:
    /// economies, base year, sectors; the baselines' names go with a difference. Base years
    /// and sectors are compared only when both directories know them.
    fn differences(&self, other: &World, a: &str, b: &str) -> Vec<String> {
        let mut out = Vec::new();
        if self.economies != other.economies {
            let common = self.economies.intersection(&other.economies).count();
            let only = |x: &World, y: &World| some_of(x.economies.difference(&y.economies));
            out.push(format!(
                "economies: {} in {a}, {} in {b}, {common} in common (only in {a}: {}; only in {b}: {})",
                self.economies.len(),
                other.economies.len(),
                only(self, other),
                only(other, self)
            ));
        }
        let years = |w: &World| {
            w.base_years
                .iter()
                .map(|y| y.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.base_years.is_empty()
            && !other.base_years.is_empty()
            && self.base_years != other.base_years
        {
            out.push(format!(
                "base year {} in {a}, {} in {b}",
                years(self),
                years(other)
            ));
        }
        if !self.sectors.is_empty() && !other.sectors.is_empty() && self.sectors != other.sectors {
            out.push(format!(
                "sectors: {} in {a} ({}), {} in {b} ({})",
                self.sectors.len(),
                some_of(self.sectors.iter()),
                other.sectors.len(),
                some_of(other.sectors.iter())
            ));
        }
        if !out.is_empty() && !self.names.is_empty() && !other.names.is_empty() {
            out.push(format!(
                "baseline {} in {a}, {} in {b}",
                some_of(self.names.iter()),
                some_of(other.names.iter())
            ));
        }
        out
    }
}

fn add_solver(d: &mut ReportData, r: SolverRow) {
    if r.draw == 0 {
        d.solver.push(r);
    } else {
        let e = d
            .draw_solves
            .entry(r.scenario)
            .or_insert((0, usize::MAX, 0, 0.0));
        e.0 += 1;
        e.1 = e.1.min(r.iterations);
        e.2 = e.2.max(r.iterations);
        e.3 = e.3.max(r.residual);
    }
}

fn add_bilateral(t: &mut BilateralTotals, r: &BilateralRow) {
    if r.draw != 0 {
        return;
    }
    let e = t
        .entry((
            r.scenario.clone(),
            r.year,
            r.exporter.clone(),
            r.importer.clone(),
        ))
        .or_default();
    e.0 += r.value_base;
    e.1 += r.value;
}

impl ReportData {
    /// The report data of a run held in memory (for `tradesim run --report`).
    pub(crate) fn from_tables(meta: ReportMeta, t: &Tables, source: &str) -> Self {
        let mut bilateral = BilateralTotals::new();
        for r in t.bilateral.rows() {
            add_bilateral(&mut bilateral, &r.to_row());
        }
        let mut d = ReportData {
            source: source.to_string(),
            meta,
            economies: t.economies.clone(),
            bilateral,
            tariffs: t.tariffs.clone(),
            quotas: t.quotas.clone(),
            absent: vec!["summary.csv".into(), "investment.csv".into()],
            compared: t
                .economies
                .iter()
                .map(|r| (r.scenario.clone(), r.compared_with.clone()))
                .collect(),
            ..Default::default()
        };
        for r in &t.solver {
            add_solver(&mut d, r.clone());
        }
        d
    }

    /// Read the tables of an output directory. `economies.csv` is required; every other file
    /// is optional and its absence is noted in the report. Every table is checked as `run`
    /// checks what it writes ([`read`]); a shard of a batch is refused (its draws are a part).
    pub(crate) fn load(dir: &Path) -> Result<Self> {
        let econ = dir.join("economies.csv");
        if !dir.exists() {
            return Err(Error::invalid(
                dir.display().to_string(),
                "does not exist; write one with a run of a scenario (or a batch) into `out`, then report on that directory",
            ));
        }
        if !econ.is_file() {
            return Err(Error::invalid(
                dir.display().to_string(),
                "no economies.csv here: this is not an output directory of tradesim; write one with a run of a scenario (or a batch) into `out`, then report on that directory",
            ));
        }
        let mut d = ReportData {
            source: dir.display().to_string(),
            ..Default::default()
        };
        let mut expected = refuse_a_shard(dir)?;
        let m = dir.join(meta::FILE);
        if m.is_file() {
            let text = std::fs::read_to_string(&m).map_err(|e| Error::io(&m, e))?;
            d.meta = serde_json::from_str(&text).map_err(|e| {
                Error::data(
                    &m,
                    e.line(),
                    format!("{e}; this file is written by the run: run again, or delete it and give the report its `scenario` file"),
                )
            })?;
        } else {
            d.absent.push(meta::FILE.into());
        }
        for s in &d.meta.scenarios {
            expected
                .entry(s.name.clone())
                .or_insert_with(|| s.baseline.economies.iter().map(|e| e.0.clone()).collect());
        }
        // Large batches: only the central run's rows are kept, except the draws of
        // economies.csv when there is no summary.csv to take the bands from.
        let summary = dir.join("summary.csv");
        let mut summary_lines = Vec::new();
        if summary.is_file() {
            for_each_row::<SummaryRow>(&summary, |r, line| {
                summary_lines.push(line);
                d.summary.push(r);
                Ok(())
            })?;
        } else {
            d.absent.push("summary.csv".into());
        }
        let keep_draws = d.summary.is_empty();
        let mut coverage = read::Coverage::default();
        if crate::output::gravity::is_gravity_header(&csv_header(&econ)?) {
            // A structural gravity run: its own columns, drawn in the common layout.
            for_each_row::<crate::output::gravity::EconomyRecord>(&econ, |r, line| {
                let r = r.to_common();
                coverage.add_row(&econ, line, &r)?;
                d.economies.push(r);
                Ok(())
            })?;
        } else {
            for_each_row::<EconomyRow>(&econ, |r, line| {
                coverage.add_row(&econ, line, &r)?;
                if r.draw == 0 || keep_draws {
                    d.economies.push(r)
                }
                Ok(())
            })?;
        }
        if coverage.is_empty() {
            let empty = csv_header(&econ)?.iter().all(|h| h.is_empty());
            let (line, what) = match empty {
                true => (1, "the file is empty"),
                false => (2, "no rows under the header"),
            };
            return Err(Error::data(
                &econ,
                line,
                format!("{what}; a run writes a row for every scenario, year and economy, and the report has nothing to show: the file was cut short or emptied after tradesim wrote it: run (or merge) again to write it whole"),
            ));
        }
        let scope = coverage.scope(&expected);
        d.compared = coverage.finish(&econ, &expected)?;
        let mut rows = read::TableRows::new(&summary, &scope);
        for (r, line) in d.summary.iter().zip(summary_lines) {
            rows.check_row(line, r)?;
            if let Some(c) = d
                .compared
                .get(&r.scenario)
                .filter(|c| **c != r.compared_with)
            {
                return Err(Error::data(
                    &summary,
                    line,
                    format!("column `compared_with` is `{}`, but economies.csv says `{c}` for scenario `{}`; the two tables are of different runs or were edited: run (or merge) again to write them together", r.compared_with, r.scenario),
                ));
            }
        }
        let bil = dir.join("bilateral.csv");
        if bil.is_file() {
            read::for_each_checked::<BilateralRow>(&bil, &scope, |r| {
                add_bilateral(&mut d.bilateral, &r);
                Ok(())
            })?;
        } else {
            d.absent.push("bilateral.csv".into());
        }
        let p = dir.join("tariffs.csv");
        if p.is_file() {
            d.tariffs = read::checked_rows(&p, &scope)?;
        } else {
            d.absent.push("tariffs.csv".into());
        }
        let p = dir.join("solver.csv");
        if p.is_file() {
            let rows: Vec<SolverRow> = read::checked_rows(&p, &scope)?;
            // Files written before the `stage` column: each unit's baseline solve came first.
            let mut seen = std::collections::BTreeSet::new();
            for mut r in rows {
                if r.stage.is_empty() {
                    let first = seen.insert((r.scenario.clone(), r.draw));
                    r.stage = if first {
                        crate::output::STAGE_BASELINE
                    } else {
                        crate::output::STAGE_YEAR
                    }
                    .into();
                }
                add_solver(&mut d, r);
            }
        } else {
            d.absent.push("solver.csv".into());
        }
        let p = dir.join("investment.csv");
        if p.is_file() {
            read::for_each_checked::<InvestmentRow>(&p, &scope, |r| {
                if r.draw == 0 {
                    d.investment.push(r)
                }
                Ok(())
            })?;
        } else {
            d.absent.push("investment.csv".into());
        }
        let q = dir.join("quotas.csv");
        if q.is_file() {
            read::for_each_checked::<QuotaRow>(&q, &scope, |r| {
                if r.draw == 0 {
                    d.quotas.push(r)
                }
                Ok(())
            })?;
        }
        Ok(d)
    }

    /// Add or replace a scenario's metadata.
    pub(crate) fn set_meta(&mut self, m: ScenarioMeta) {
        self.meta.scenarios.retain(|s| s.name != m.name);
        self.meta.scenarios.push(m);
        self.absent.retain(|a| a != meta::FILE);
    }

    /// Combine the tables of another directory (e.g. separate runs compared as options).
    /// Scenario names must differ between the two.
    pub(crate) fn merge(&mut self, other: ReportData) -> Result<()> {
        let mine = self.scenarios();
        if let Some(dup) = other.scenarios().into_iter().find(|s| mine.contains(s)) {
            return Err(Error::invalid(
                other.source.clone(),
                format!("scenario `{dup}` is also in {}; compare directories of different scenarios (give the scenarios different `name`s)", self.source),
            ));
        }
        let differences = self
            .world()
            .differences(&other.world(), &self.source, &other.source);
        if !differences.is_empty() {
            return Err(Error::invalid(
                other.source.clone(),
                format!(
                    "its scenarios were solved on another world than those of {}: {}. An options comparison sets scenarios of the same economies, base year and sectors side by side; compare directories run on the same baseline (or report on each directory on its own)",
                    self.source,
                    differences.join("; ")
                ),
            ));
        }
        self.source = format!("{}; {}", self.source, other.source);
        for m in other.meta.scenarios {
            self.set_meta(m);
        }
        self.economies.extend(other.economies);
        self.bilateral.extend(other.bilateral);
        self.tariffs.extend(other.tariffs);
        self.solver.extend(other.solver);
        self.draw_solves.extend(other.draw_solves);
        self.quotas.extend(other.quotas);
        self.summary.extend(other.summary);
        self.investment.extend(other.investment);
        self.compared.extend(other.compared);
        let mine: BTreeSet<String> = self.absent.iter().cloned().collect();
        self.absent = other
            .absent
            .into_iter()
            .filter(|a| mine.contains(a))
            .collect();
        Ok(())
    }

    /// The world the scenarios were solved on: the economies of the tables, and the base
    /// years, sectors and baseline names `report_meta.json` gives.
    fn world(&self) -> World {
        World {
            economies: self.economies.iter().map(|r| r.economy.clone()).collect(),
            base_years: self.meta.scenarios.iter().map(|m| m.base_year).collect(),
            sectors: self
                .meta
                .scenarios
                .iter()
                .flat_map(|m| m.baseline.sectors.iter().cloned())
                .collect(),
            names: self
                .meta
                .scenarios
                .iter()
                .map(|m| m.baseline.name.clone())
                .collect(),
        }
    }

    /// The scenarios in order of first appearance in `economies.csv`.
    pub(crate) fn scenarios(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for r in &self.economies {
            if seen.insert(r.scenario.clone()) {
                out.push(r.scenario.clone());
            }
        }
        out
    }
}

/// Write `report.html` into `dir`, whole or not at all.
/// A `report.html` that tradesim did not write is never replaced, one changed after tradesim
/// wrote it only with `force`.
pub(crate) fn write(dir: &Path, d: &ReportData, force: bool) -> Result<PathBuf> {
    crate::output::staging::check_replaceable(dir, FILE, force)?;
    let html = render(d);
    crate::output::write_all(dir, &[(FILE, html.into_bytes())])
        .and_then(|()| crate::output::staging::record_files(dir, &[FILE]))
        .map_err(|e| not_writable(dir, e))?;
    Ok(dir.join(FILE))
}

/// A refusal to write into `dir` (permission denied, read-only file system) said of `dir`
/// rather than of the temporary file it happened on; other errors as they are.
fn not_writable(dir: &Path, e: Error) -> Error {
    match &e {
        Error::Io { source, .. }
            if source.kind() == std::io::ErrorKind::PermissionDenied
                || source.kind() == std::io::ErrorKind::ReadOnlyFilesystem =>
        {
            Error::invalid(
                dir.display().to_string(),
                format!("is not writable ({source}), so report.html cannot be written into it; make the directory writable, or copy it elsewhere and report on the copy"),
            )
        }
        _ => e,
    }
}

/// The p05–p95 bands of (scenario, year, economy, measure), from `summary.csv` or, without
/// one, from the draws (`draw > 0`) in `economies.csv`.
struct Bands {
    map: BTreeMap<(String, i32, String, String), (f64, f64)>,
    source: &'static str,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn measure(r: &EconomyRow, m: &str) -> f64 {
    match m {
        "exports_pct" => pct(r.exports, r.exports_base),
        "imports_pct" => pct(r.imports, r.imports_base),
        "real_income_pct" => r.real_income_pct,
        "welfare_pct" => r.welfare_pct,
        "real_wage_pct" => r.real_wage_pct,
        _ => f64::NAN,
    }
}

const MEASURES: [&str; 5] = [
    "exports_pct",
    "imports_pct",
    "real_income_pct",
    "welfare_pct",
    "real_wage_pct",
];

impl Bands {
    fn new(d: &ReportData) -> Self {
        let mut map = BTreeMap::new();
        if !d.summary.is_empty() {
            for r in &d.summary {
                map.insert(
                    (
                        r.scenario.clone(),
                        r.year,
                        r.economy.clone(),
                        r.measure.clone(),
                    ),
                    (r.p05, r.p95),
                );
            }
            return Bands {
                map,
                source: "summary.csv",
            };
        }
        let mut draws: BTreeMap<(String, i32, String, String), Vec<f64>> = BTreeMap::new();
        for r in d.economies.iter().filter(|r| r.draw > 0) {
            for m in MEASURES {
                draws
                    .entry((r.scenario.clone(), r.year, r.economy.clone(), m.to_string()))
                    .or_default()
                    .push(measure(r, m));
            }
        }
        for (k, mut v) in draws {
            v.retain(|x| x.is_finite());
            if v.len() >= 2 {
                v.sort_by(f64::total_cmp);
                map.insert(k, (quantile(&v, 0.05), quantile(&v, 0.95)));
            }
        }
        Bands {
            map,
            source: "the draws in economies.csv",
        }
    }
    fn get(&self, s: &str, y: i32, e: &str, m: &str) -> Option<(f64, f64)> {
        self.map
            .get(&(s.to_string(), y, e.to_string(), m.to_string()))
            .copied()
    }
    fn any(&self) -> bool {
        !self.map.is_empty()
    }
}

/// Per scenario: the central rows by (year, economy), the years, the economies.
struct Central<'a> {
    rows: BTreeMap<(i32, &'a str), &'a EconomyRow>,
    years: Vec<i32>,
    economies: Vec<&'a str>,
}

fn central<'a>(d: &'a ReportData, s: &str) -> Central<'a> {
    let mut rows = BTreeMap::new();
    let mut econ = Vec::new();
    let mut seen = BTreeSet::new();
    for r in d
        .economies
        .iter()
        .filter(|r| r.scenario == s && r.draw == 0)
    {
        rows.insert((r.year, r.economy.as_str()), r);
        if seen.insert(r.economy.as_str()) {
            econ.push(r.economy.as_str());
        }
    }
    let years: BTreeSet<i32> = rows.keys().map(|k| k.0).collect();
    Central {
        rows,
        years: years.into_iter().collect(),
        economies: econ,
    }
}

/// The economies a scenario is about: the members of its active agreements (from the
/// metadata), else the economies whose tariffs change (`tariffs.csv`).
fn members(d: &ReportData, s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(m) = d.meta.scenario(s) {
        for a in m.agreements.iter().filter(|a| a.is_active()) {
            for x in &a.members {
                if !out.contains(&x.code) {
                    out.push(x.code.clone());
                }
            }
        }
    } else {
        for t in d
            .tariffs
            .iter()
            .filter(|t| t.scenario == s && t.rate < t.rate_base)
        {
            for c in [&t.importer, &t.exporter] {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
        }
    }
    out.sort();
    out
}

/// Up to `max` economies for the charts: members first, ranked by the size of their final-year
/// real income change; with no members, the economies with the largest changes.
fn focus(d: &ReportData, s: &str, c: &Central, max: usize) -> (Vec<String>, String) {
    let last = c.years.last().copied().unwrap_or(0);
    let change = |e: &str| {
        c.rows
            .get(&(last, e))
            .map_or(0.0, |r| r.real_income_pct.abs())
    };
    let mut m = members(d, s);
    let by_change = m.is_empty();
    let (mut pool, why) = if by_change {
        (
            c.economies
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>(),
            "the economies with the largest real income changes",
        )
    } else {
        m.retain(|e| c.economies.contains(&e.as_str()));
        (m, "the members of the scenario's agreements")
    };
    let total = pool.len();
    let members_all = pool.clone();
    pool.sort_by(|a, b| change(b).total_cmp(&change(a)).then(a.cmp(b)));
    // The report's focus economies first.
    let first: Vec<String> = d
        .meta
        .focus
        .iter()
        .filter(|e| c.economies.contains(&e.as_str()))
        .cloned()
        .collect();
    pool.retain(|e| !first.contains(e));
    let n_first = first.len();
    let mut pool: Vec<String> = first.into_iter().chain(pool).collect();
    pool.truncate(max.max(n_first));
    let shown_rest = pool.len() - n_first;
    let rest_total = total
        - pool
            .iter()
            .take(n_first)
            .filter(|e| members_all.contains(e))
            .count();
    let mut note = if rest_total > shown_rest && by_change {
        // Without members the pool is already ranked by the change: say it once.
        format!("{shown_rest} of {rest_total} economies, those with the largest real income changes in {last}")
    } else if rest_total > shown_rest {
        format!(
            "{shown_rest} of {rest_total} ({why}), those with the largest real income changes in {last}"
        )
    } else {
        why.to_string()
    };
    if n_first > 0 {
        note = format!(
            "the focus economies ({}), then {note}",
            d.meta.focus.join(", ")
        );
    }
    (pool, note)
}

fn scenario_anchor(k: usize) -> String {
    format!("s{k}")
}

const CSS: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#1a1a1a;background:#fafafa;line-height:1.45}
main{max-width:1120px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:1.7em;margin:0 0 4px} h2{font-size:1.3em;border-bottom:2px solid #0072B2;padding-bottom:4px;margin-top:40px}
h3{font-size:1.08em;margin:26px 0 6px}
.muted{color:#555;font-size:.92em} .note{background:#f3f6fa;border-left:4px solid #56B4E9;padding:8px 12px;margin:10px 0;font-size:.95em}
nav ol{columns:2;font-size:.95em}
table{border-collapse:collapse;margin:8px 0 16px;font-size:.88em}
th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f0f0f0}
svg.chart{display:block;max-width:100%;height:auto;margin:8px 0 4px;font-family:inherit}
figure{margin:10px 0 22px} figcaption{font-size:.88em;color:#444;max-width:900px}
details{margin:6px 0 14px} summary{cursor:pointer;color:#0072B2}
code{font-size:.92em;background:#f3f3f3;padding:0 3px}
@media print{body{background:#fff}main{max-width:none;padding:0}figure,table{break-inside:avoid}nav{display:none}}
"#;

const CHECK_JS: &str = r#"
(function(){
  var errors=[];
  window.addEventListener('error',function(e){errors.push(String(e.message||e));});
  function check(){
    var parts=[];
    var sections=document.querySelectorAll('section[data-expect-charts]');
    for(var i=0;i<sections.length;i++){
      var s=sections[i], want=+s.getAttribute('data-expect-charts'), ok=0;
      var svgs=s.querySelectorAll('svg.chart');
      for(var k=0;k<svgs.length;k++){
        var b=svgs[k].getBoundingClientRect();
        var marks=svgs[k].querySelectorAll('path.series,circle,rect.bar,rect.cell,rect.band,path.band').length;
        if(b.width>0&&b.height>0&&marks>0){ok++;}
      }
      parts.push(s.id+'='+ok+'/'+want);
    }
    var el=document.getElementById('render-check');
    if(el){el.textContent='charts: '+parts.join(' ')+'; errors: '+(errors.length?errors.join(' | '):'none');}
  }
  if(document.readyState==='complete'){check();}else{window.addEventListener('load',check);}
})();
"#;

/// What a scenario's percent changes are measured against: the kind its tables'
/// `compared_with` column says (`base_year` or `reference`) and that in words, from
/// `report_meta.json` when it agrees with the tables.
fn comparison(d: &ReportData, s: &str) -> (String, String) {
    let meta = d.meta.scenario(s).map(|m| &m.compared_with);
    let kind = d
        .compared
        .get(s)
        .cloned()
        .or_else(|| meta.map(|m| m.kind.clone()))
        .unwrap_or_else(|| "base_year".into());
    let description = match meta {
        Some(m) if m.kind == kind => m.description.clone(),
        _ if kind == "reference" => {
            "the reference path in the same year (as the tables' `compared_with` column says; report_meta.json, which names the reference, is absent or says otherwise)".into()
        }
        _ => ComparedWithMeta::default().description,
    };
    (kind, description)
}

/// What the percent changes are measured against, for the header: one sentence per scenario
/// when they differ.
fn comparison_note(d: &ReportData, scen: &[String]) -> String {
    let all: Vec<_> = scen.iter().map(|s| comparison(d, s)).collect();
    match all.first() {
        None => String::new(),
        Some(first) if all.iter().all(|c| c == first) => {
            if first.0 == "reference" {
                format!("Percent changes are against {}.", first.1)
            } else {
                "Percent changes are against the solved baseline (the base-year world solved under its own tariffs).".into()
            }
        }
        Some(_) => format!(
            "Percent changes are against, for each scenario: {}.",
            scen.iter()
                .zip(&all)
                .map(|(s, c)| format!("{s}: {}", c.1))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// The scenarios whose `report_meta.json` names another comparison than their tables'
/// `compared_with` column, in a sentence (empty when they agree).
fn comparison_conflicts(d: &ReportData, scen: &[String]) -> String {
    let words = |k: &str| {
        if k == "reference" {
            "a reference path"
        } else {
            "the solved base year"
        }
    };
    scen.iter()
        .filter_map(|s| {
            let meta = &d.meta.scenario(s)?.compared_with;
            let table = d.compared.get(s)?;
            (meta.kind != *table).then(|| {
                format!(
                    "report_meta.json says the changes of {s} are against {} ({}), but its tables' compared_with column says `{table}` ({}); this report follows the tables. report_meta.json seems to be of another run: run the scenario again, or pass --scenario FILE to `tradesim report` with the file the tables were written from.",
                    words(&meta.kind),
                    meta.description,
                    words(table)
                )
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// "the solved baseline", "the reference path (same year)" or "each scenario's comparison".
fn against(d: &ReportData, scen: &[String]) -> &'static str {
    let kinds: Vec<String> = scen.iter().map(|s| comparison(d, s).0).collect();
    if kinds.iter().all(|k| k == "base_year") {
        "the solved baseline"
    } else if kinds.iter().all(|k| k == "reference") {
        "the reference path in the same year"
    } else {
        "each scenario's comparison (see the top of the report)"
    }
}

/// Render the report.
pub(crate) fn render(d: &ReportData) -> String {
    let scen = d.scenarios();
    let bands = Bands::new(d);
    let mut body = String::new();
    let title = if scen.len() == 1 {
        format!("tradesim report: {}", scen[0])
    } else {
        format!("tradesim report: {} scenarios", scen.len())
    };
    let _ = write!(
        body,
        "<header><h1>{}</h1><p class=\"muted\">Projected trade and income under trade-agreement scenarios. Written by tradesim {} from <code>{}</code>. {}</p></header>",
        esc(&title),
        esc(env!("CARGO_PKG_VERSION")),
        esc(&d.source),
        esc(&comparison_note(d, &scen))
    );
    let conflicts = comparison_conflicts(d, &scen);
    if !conflicts.is_empty() {
        note(&mut body, &conflicts);
    }
    body.push_str("<nav><strong>Contents</strong><ol><li><a href=\"#overview\">Overview and key figures</a></li><li><a href=\"#agreements\">Agreements and tariff paths</a></li><li><a href=\"#outcomes\">Exports, imports and real income by year</a></li><li><a href=\"#options\">Options comparison</a></li><li><a href=\"#bilateral\">Bilateral trade among members</a></li><li><a href=\"#creation\">Trade creation and diversion</a></li><li><a href=\"#investment\">Investment</a></li><li><a href=\"#settings\">Settings, data and solver diagnostics</a></li></ol></nav>");
    if scen.is_empty() {
        body.push_str("<p class=\"note\">economies.csv has no rows: nothing was solved.</p>");
    }
    overview(&mut body, d, &scen, &bands);
    agreements(&mut body, d, &scen);
    outcomes(&mut body, d, &scen, &bands);
    options(&mut body, d, &scen, &bands);
    heat(&mut body, d, &scen);
    creation(&mut body, d, &scen);
    investment(&mut body, d, &scen, &bands);
    settings(&mut body, d, &scen);
    let _ = write!(
        body,
        "<footer class=\"muted\"><p>Absent inputs: {}.</p><p id=\"render-check\" hidden>charts: not checked (scripts off)</p></footer>",
        if d.absent.is_empty() {
            "none".to_string()
        } else {
            esc(&d.absent.join(", "))
        }
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{CSS}</style><script>{CHECK_JS}</script></head><body><main>{body}</main></body></html>\n",
        esc(&title)
    )
}

fn section_open(out: &mut String, id: &str, title: &str, charts: usize) {
    let _ = write!(
        out,
        "<section id=\"{id}\" data-expect-charts=\"{charts}\"><h2>{}</h2>",
        esc(title)
    );
}

fn figure(out: &mut String, svg: &str, caption: &str) {
    let _ = write!(
        out,
        "<figure>{svg}<figcaption>{}</figcaption></figure>",
        esc(caption)
    );
}

fn note(out: &mut String, text: &str) {
    let _ = write!(out, "<p class=\"note\">{}</p>", esc(text));
}

fn with_band(v: f64, b: Option<(f64, f64)>) -> String {
    match b {
        Some((lo, hi)) => format!(
            "{} <span class=\"muted\">[{} to {}]</span>",
            fmt_num(v, 3),
            fmt_num(lo, 3),
            fmt_num(hi, 3)
        ),
        None => fmt_num(v, 3),
    }
}

fn overview(out: &mut String, d: &ReportData, scen: &[String], bands: &Bands) {
    let vs = against(d, scen);
    section_open(out, "overview", "Overview and key figures", 0);
    for (k, s) in scen.iter().enumerate() {
        let c = central(d, s);
        let Some(&last) = c.years.last() else {
            continue;
        };
        let m = d.meta.scenario(s);
        let _ = write!(out, "<h3 id=\"{}\">{}</h3>", scenario_anchor(k), esc(s));
        if let Some(m) = m {
            let active: Vec<String> = m
                .agreements
                .iter()
                .filter(|a| a.is_active())
                .map(|a| format!("{} ({}, {})", a.name, a.entry_into_force, a.status))
                .collect();
            let _ = write!(
                out,
                "<p>{}{}Baseline <code>{}</code>{}, base year {}, years {}. Agreements changed by the scenario: {}.</p>",
                m.description
                    .as_deref()
                    .map(|x| format!("{}. ", esc(x)))
                    .unwrap_or_default(),
                if m.file.is_empty() {
                    String::new()
                } else {
                    format!("File <code>{}</code>. ", esc(&m.file))
                },
                esc(&m.baseline.name),
                if m.baseline.description.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", esc(&m.baseline.description))
                },
                m.base_year,
                esc(&crate::scenario::compact_years(&c.years)),
                if active.is_empty() {
                    "none".to_string()
                } else {
                    esc(&active.join("; "))
                }
            );
        }
        let (f, why) = focus(d, s, &c, MAX_GROUPS);
        let _ = write!(
            out,
            "<p class=\"muted\">In {last}, percent change against {vs}, for {}{}:</p><table><tr><th>economy</th><th class=\"n\">real income %</th><th class=\"n\">{}</th><th class=\"n\">exports %</th><th class=\"n\">imports %</th></tr>",
            esc(&why),
            if bands.any() { "; in brackets the 5th to 95th percentile over draws" } else { "" },
            welfare_heading(&c)
        );
        for e in &f {
            if let Some(r) = c.rows.get(&(last, e.as_str())) {
                let b = |m: &str| bands.get(s, last, e, m);
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    esc(e),
                    with_band(r.real_income_pct, b("real_income_pct")),
                    with_band(r.welfare_pct, b("welfare_pct")),
                    with_band(measure(r, "exports_pct"), b("exports_pct")),
                    with_band(measure(r, "imports_pct"), b("imports_pct"))
                );
            }
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
}

/// The key figures' welfare column: Caliendo–Parro's decomposition, or, for the one-sector
/// gravity model (no terms-of-trade / volume-of-trade parts, NaN in its rows), what it holds.
fn welfare_heading(c: &Central) -> &'static str {
    if !c.rows.is_empty()
        && c.rows
            .values()
            .all(|r| r.tot_pct.is_nan() && r.vot_pct.is_nan())
    {
        "welfare % (one-sector model: real income, no ToT/VoT split)"
    } else {
        "welfare (ToT+VoT) %"
    }
}

fn agreements(out: &mut String, d: &ReportData, scen: &[String]) {
    let mut charts = String::new();
    let mut n = 0;
    for s in scen {
        let _ = write!(charts, "<h3>{}</h3>", esc(s));
        if let Some(m) = d.meta.scenario(s) {
            let held = m.agreements.iter().filter(|a| !a.is_active()).count();
            let active = m.agreements.len() - held;
            let head = "<table><tr><th>agreement</th><th>entry into force</th><th>status in this scenario</th><th>members (joining, leaving)</th><th>default schedule</th><th>other rules</th></tr>";
            if active > 0 {
                charts.push_str(head);
            }
            for (rows_done, a) in m
                .agreements
                .iter()
                .filter(|a| a.is_active())
                .chain(m.agreements.iter().filter(|a| !a.is_active()))
                .enumerate()
            {
                if rows_done == active {
                    if active > 0 {
                        charts.push_str("</table>");
                    }
                    let _ = write!(charts, "<details><summary>{held} agreement(s) in the base-year data, held at their base-year rates</summary>{head}");
                }
                let members: Vec<String> = a
                    .members
                    .iter()
                    .map(|x| {
                        let mut t = x.code.clone();
                        if x.joins > a.entry_into_force {
                            t += &format!(" (joins {})", x.joins);
                        }
                        if let Some(l) = x.leaves {
                            t += &format!(" (leaves {l})");
                        }
                        t
                    })
                    .collect();
                let mut extra = Vec::new();
                match a.rules {
                    0 => {}
                    1 => extra.push("1 schedule rule".into()),
                    r => extra.push(format!("{r} schedule rules")),
                }
                extra.extend(
                    a.product_groups
                        .iter()
                        .map(|g| format!("product group {g}")),
                );
                if let Some(dp) = &a.depth {
                    extra.push(format!("depth: {dp}"));
                }
                let _ = write!(
                    charts,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    esc(&a.name),
                    a.entry_into_force,
                    esc(&a.status),
                    esc(&members.join(", ")),
                    esc(&a.schedule),
                    esc(&extra.join("; "))
                );
            }
            if held > 0 {
                charts.push_str("</table></details>");
            } else if active > 0 {
                charts.push_str("</table>");
            }
            if active == 0 {
                note(&mut charts, "The scenario changes no agreement's tariffs.");
            }
            for a in m.agreements.iter().filter(|a| a.is_active()) {
                let pts: Vec<_> = m
                    .tariff_paths
                    .iter()
                    .filter(|p| p.agreement == a.name)
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                // The sectors whose average rate moves most, then the all-sector average.
                let mut by: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
                for p in &pts {
                    by.entry(p.sector.as_str())
                        .or_default()
                        .push((p.year as f64, p.rate_pct));
                }
                let span = |v: &Vec<(f64, f64)>| {
                    let lo = v.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
                    let hi = v.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
                    hi - lo
                };
                let mut sectors: Vec<&str> = by.keys().copied().filter(|k| *k != "all").collect();
                let total = sectors.len();
                sectors.sort_by(|a, b| span(&by[b]).total_cmp(&span(&by[a])).then(a.cmp(b)));
                sectors.truncate(MAX_SECTORS);
                let mut series: Vec<Series> = sectors
                    .iter()
                    .map(|k| Series {
                        name: k.to_string(),
                        points: by[k].clone(),
                        ..Default::default()
                    })
                    .collect();
                if let Some(all) = by.get("all") {
                    series.push(Series {
                        name: "all traded sectors".into(),
                        points: all.clone(),
                        emphasis: true,
                        ..Default::default()
                    });
                }
                let svg = svg::line_chart(&LineChart {
                    title: format!("{}: average applied tariff among members", a.name),
                    x_label: "year".into(),
                    y_label: "applied tariff (%)".into(),
                    series,
                    zero_line: true,
                    legend_note: Some(format!("first point: {} (data)", m.base_year)),
                });
                figure(
                    &mut charts,
                    &svg,
                    &format!(
                        "Trade-weighted average (weights: base-year flows) of the applied tariff on imports among the members of {} ({}), by sector; {}. Each year is the lowest rate over every agreement a pair belongs to; points are the years solved (the first is the base year), lines join them.",
                        a.name,
                        a.members.iter().map(|x| x.code.as_str()).collect::<Vec<_>>().join(", "),
                        if total > MAX_SECTORS {
                            format!("the {} sectors (of {total}) whose rate moves most", MAX_SECTORS)
                        } else {
                            "every traded sector".to_string()
                        }
                    ),
                );
                n += 1;
            }
        } else {
            // Without metadata: the changed cells of tariffs.csv, averaged without weights.
            let rows: Vec<&TariffRow> = d.tariffs.iter().filter(|t| &t.scenario == s).collect();
            if rows.is_empty() {
                // Rendered text (golden bytes), an instruction to the report's reader, who
                // rebuilds it from the command line: it names the flag.
                note(&mut charts, "No applied tariff changes in tariffs.csv and no report_meta.json: pass --scenario FILE to `tradesim report` to show the agreements.");
                continue;
            }
            let mut by: BTreeMap<&str, BTreeMap<i32, (f64, f64)>> = BTreeMap::new();
            for t in &rows {
                let e = by
                    .entry(t.sector.as_str())
                    .or_default()
                    .entry(t.year)
                    .or_default();
                e.0 += 100.0 * t.rate;
                e.1 += 1.0;
            }
            let series: Vec<Series> = by
                .iter()
                .take(MAX_LINES)
                .map(|(k, v)| Series {
                    name: k.to_string(),
                    points: v.iter().map(|(y, (s, c))| (*y as f64, s / c)).collect(),
                    ..Default::default()
                })
                .collect();
            let svg = svg::line_chart(&LineChart {
                title: format!("{s}: applied tariff on the cells the scenario changes"),
                x_label: "year".into(),
                y_label: "applied tariff (%)".into(),
                series,
                zero_line: true,
                legend_note: None,
            });
            // Rendered text (golden bytes) for the reader, who reruns from the command line.
            figure(&mut charts, &svg, "Simple average over the importer–exporter cells whose rate differs from the base year (tariffs.csv); cells that do not change are not in the file. Pass --scenario FILE to `tradesim report` for the members' trade-weighted averages and the agreements.");
            n += 1;
        }
        // Tariff-rate quotas.
        let q: Vec<&QuotaRow> = d
            .quotas
            .iter()
            .filter(|q| &q.scenario == s && q.draw == 0)
            .collect();
        if !q.is_empty() {
            charts.push_str("<details><summary>Tariff-rate quotas: fill rates and regimes by year</summary><table><tr><th>year</th><th>agreement</th><th>group</th><th>importer</th><th>exporter</th><th>sector</th><th class=\"n\">fill rate</th><th>regime</th><th class=\"n\">marginal rate %</th></tr>");
            for r in q {
                let _ = write!(
                    charts,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                    r.year,
                    esc(&r.agreement),
                    esc(&r.group),
                    esc(&r.importer),
                    esc(&r.exporter),
                    esc(&r.sector),
                    fmt_num(r.fill_rate, 3),
                    esc(&r.regime),
                    fmt_num(100.0 * r.marginal_rate, 2)
                );
            }
            charts.push_str("</table></details>");
        }
    }
    section_open(out, "agreements", "Agreements and tariff paths", n);
    out.push_str(&charts);
    out.push_str("</section>");
}

fn economy_series(s: &str, c: &Central, econ: &[String], m: &str, bands: &Bands) -> Vec<Series> {
    econ.iter()
        .map(|e| Series {
            name: e.clone(),
            points: c
                .years
                .iter()
                .filter_map(|&y| {
                    c.rows
                        .get(&(y, e.as_str()))
                        .map(|r| (y as f64, measure(r, m)))
                })
                .collect(),
            band: c
                .years
                .iter()
                .filter_map(|&y| bands.get(s, y, e, m).map(|(lo, hi)| (y as f64, lo, hi)))
                .collect(),
            emphasis: false,
            dashed: false,
        })
        .collect()
}

fn outcomes(out: &mut String, d: &ReportData, scen: &[String], bands: &Bands) {
    let vs = against(d, scen);
    let mut charts = String::new();
    let mut n = 0;
    for s in scen {
        let c = central(d, s);
        let (f, why) = focus(d, s, &c, MAX_LINES);
        let _ = write!(
            charts,
            "<h3>{}</h3><p class=\"muted\">Economies shown: {}.</p>",
            esc(s),
            esc(&why)
        );
        let band_note = bands
            .any()
            .then(|| "bands: 5th–95th percentile".to_string());
        for (m, what, unit) in [
            ("exports_pct", "Exports", "exports, % change"),
            ("imports_pct", "Imports", "imports, % change"),
            ("real_income_pct", "Real income", "real income, % change"),
        ] {
            let svg = svg::line_chart(&LineChart {
                title: format!("{s}: {what} by year"),
                x_label: "year".into(),
                y_label: unit.into(),
                series: economy_series(s, &c, &f, m, bands),
                zero_line: true,
                legend_note: band_note.clone(),
            });
            figure(
                &mut charts,
                &svg,
                &format!(
                    "{}, percent change against {vs}, central run{}.",
                    match m {
                        "real_income_pct" => "Real income of each economy (income deflated by its consumer price index)",
                        "exports_pct" => "Exports of each economy (goods and services to other economies, factory prices)",
                        _ => "Imports of each economy (goods and services from other economies, factory prices)",
                    },
                    if bands.any() { format!("; shaded: 5th to 95th percentile ({})", bands.source) } else { String::new() }
                ),
            );
            n += 1;
        }
        // Every economy in the last year.
        if let Some(&last) = c.years.last() {
            let _ = write!(charts, "<details><summary>All {} economies in {last}</summary><table><tr><th>economy</th><th class=\"n\">exports %</th><th class=\"n\">imports %</th><th class=\"n\">real income %</th><th class=\"n\">welfare %</th><th class=\"n\">ToT %</th><th class=\"n\">VoT %</th><th class=\"n\">real wage %</th></tr>", c.economies.len());
            for e in &c.economies {
                if let Some(r) = c.rows.get(&(last, *e)) {
                    let _ = write!(
                        charts,
                        "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                        esc(e),
                        fmt_num(measure(r, "exports_pct"), 3),
                        fmt_num(measure(r, "imports_pct"), 3),
                        fmt_num(r.real_income_pct, 3),
                        fmt_num(r.welfare_pct, 3),
                        fmt_num(r.tot_pct, 3),
                        fmt_num(r.vot_pct, 3),
                        fmt_num(r.real_wage_pct, 3)
                    );
                }
            }
            charts.push_str("</table></details>");
        }
    }
    section_open(
        out,
        "outcomes",
        "Exports, imports and real income by year",
        n,
    );
    let failed = d
        .summary
        .iter()
        .map(|r| (r.failed, r.draws))
        .filter(|(f, _)| *f > 0)
        .max();
    if let Some((f, n)) = failed {
        note(out, &format!("Some draws failed to solve (up to {f} of {n} for a scenario and year; summary.csv, column `failed`): the bands describe the draws that solved."));
    }
    if !bands.any() {
        note(out, "No uncertainty bands: this is a single central run (no draws and no summary.csv). A batch with draws adds 5th–95th percentile bands.");
    }
    out.push_str(&charts);
    out.push_str("</section>");
}

fn options(out: &mut String, d: &ReportData, scen: &[String], bands: &Bands) {
    let vs = against(d, scen);
    if scen.len() < 2 {
        absent_section(out, "options", "Options comparison", "One scenario only: the options comparison needs several (a batch, or `tradesim report` on a directory holding several scenarios' tables).");
        return;
    }
    let cs: Vec<Central> = scen.iter().map(|s| central(d, s)).collect();
    // Economies: the union of the scenarios' members, ranked by their largest change.
    let mut score: BTreeMap<String, f64> = BTreeMap::new();
    for (s, c) in scen.iter().zip(&cs) {
        let last = c.years.last().copied().unwrap_or(0);
        let (f, _) = focus(d, s, c, usize::MAX);
        for e in f {
            let v = c
                .rows
                .get(&(last, e.as_str()))
                .map_or(0.0, |r| r.real_income_pct.abs());
            let x = score.entry(e).or_default();
            *x = x.max(v);
        }
    }
    let mut econ: Vec<String> = score.keys().cloned().collect();
    econ.sort_by(|a, b| {
        let fa = d.meta.focus.contains(a);
        let fb = d.meta.focus.contains(b);
        fb.cmp(&fa)
            .then(score[b].total_cmp(&score[a]))
            .then(a.cmp(b))
    });
    let total = econ.len();
    econ.truncate(MAX_GROUPS);
    econ.sort_by_key(|e| (!d.meta.focus.contains(e), e.clone()));
    let years: Vec<i32> = cs.iter().filter_map(|c| c.years.last().copied()).collect();
    let same_year = years.windows(2).all(|w| w[0] == w[1]);
    let year_text = if same_year {
        years.first().map(|y| y.to_string()).unwrap_or_default()
    } else {
        "each scenario's last year".into()
    };
    // Each scenario's bars are of its own last year: the legend says which when they differ.
    let labels: Vec<String> = if same_year {
        scen.to_vec()
    } else {
        scen.iter()
            .zip(&cs)
            .map(|(s, c)| match c.years.last() {
                Some(y) => format!("{s} ({y})"),
                None => s.clone(),
            })
            .collect()
    };
    section_open(out, "options", "Options comparison", 2);
    let _ = write!(
        out,
        "<p class=\"muted\">One bar per scenario for each economy{}; {}. Scenarios: {}.</p>",
        if total > econ.len() {
            format!(
                " ({} of the {total} members, those with the largest changes)",
                econ.len()
            )
        } else {
            String::new()
        },
        if bands.any() {
            "whiskers: 5th to 95th percentile over draws"
        } else {
            "no draws, so no whiskers"
        },
        esc(&labels.join("; "))
    );
    for (m, what) in [
        ("real_income_pct", "real income, % change"),
        ("exports_pct", "exports, % change"),
    ] {
        let values: Vec<Vec<Option<Bar>>> = scen
            .iter()
            .zip(&cs)
            .map(|(s, c)| {
                let last = c.years.last().copied().unwrap_or(0);
                econ.iter()
                    .map(|e| {
                        c.rows.get(&(last, e.as_str())).map(|r| Bar {
                            value: measure(r, m),
                            interval: bands.get(s, last, e, m),
                        })
                    })
                    .collect()
            })
            .collect();
        let svg = svg::bar_chart(&BarChart {
            title: format!("Options compared: {what} in {year_text}"),
            x_label: "economy".into(),
            y_label: what.into(),
            groups: econ.clone(),
            series: labels.clone(),
            values,
            legend_note: None,
        });
        figure(
            out,
            &svg,
            &format!("{what} against {vs}, central run, by economy and scenario."),
        );
    }
    out.push_str("</section>");
}

/// A section whose input is absent: its title and a note saying which file it needs.
fn absent_section(out: &mut String, id: &str, title: &str, message: &str) {
    section_open(out, id, title, 0);
    note(out, message);
    out.push_str("</section>");
}

fn heat(out: &mut String, d: &ReportData, scen: &[String]) {
    let vs = against(d, scen);
    let mut charts = String::new();
    let mut n = 0;
    if d.bilateral.is_empty() {
        absent_section(
            out,
            "bilateral",
            "Bilateral trade among members",
            "No bilateral.csv in this directory: the heat map needs it.",
        );
        return;
    }
    for s in scen {
        let c = central(d, s);
        let Some(&last) = c.years.last() else {
            continue;
        };
        let mut m = members(d, s);
        let from_members = !m.is_empty();
        if m.is_empty() {
            m = focus(d, s, &c, 10).0;
        }
        // The largest traders when there are too many.
        if m.len() > MAX_HEAT {
            let size = |e: &str| {
                d.bilateral
                    .range((s.clone(), last, String::new(), String::new())..)
                    .take_while(|(k, _)| k.0 == *s && k.1 == last)
                    .filter(|(k, _)| k.2 == e && k.3 != e)
                    .map(|(_, v)| v.0)
                    .sum::<f64>()
            };
            m.sort_by(|a, b| size(b).total_cmp(&size(a)));
            m.truncate(MAX_HEAT);
            m.sort();
        }
        let values: Vec<Vec<Option<f64>>> = m
            .iter()
            .map(|ex| {
                m.iter()
                    .map(|im| {
                        d.bilateral
                            .get(&(s.clone(), last, ex.clone(), im.clone()))
                            .filter(|(b, v)| *b > 0.0 || *v > 0.0)
                            .map(|(b, v)| pct(*v, *b))
                    })
                    .collect()
            })
            .collect();
        let svg = svg::heat_map(&HeatMap {
            title: format!("{s}: change in bilateral trade, {last}"),
            row_label: "exporter".into(),
            col_label: "importer".into(),
            rows: m.clone(),
            cols: m.clone(),
            values,
            unit: "% change".into(),
        });
        figure(
            &mut charts,
            &svg,
            &format!(
                "Percent change in the value of exports from the row economy to the column economy in {last}, all sectors, central run, against {vs}; the diagonal is domestic sales. Economies: {}.",
                if from_members { "the members of the scenario's agreements" } else { "the economies with the largest real income changes (no agreement members known)" }
            ),
        );
        n += 1;
    }
    section_open(out, "bilateral", "Bilateral trade among members", n);
    out.push_str(&charts);
    out.push_str("</section>");
}

fn creation(out: &mut String, d: &ReportData, scen: &[String]) {
    let vs = against(d, scen);
    let mut charts = String::new();
    let mut n = 0;
    if d.bilateral.is_empty() {
        absent_section(
            out,
            "creation",
            "Trade creation and diversion",
            "No bilateral.csv in this directory: trade creation and diversion need it.",
        );
        return;
    }
    for s in scen {
        let m: BTreeSet<String> = members(d, s).into_iter().collect();
        let _ = write!(charts, "<h3>{}</h3>", esc(s));
        if m.len() < 2 {
            note(&mut charts, "Fewer than two members known for this scenario (no report_meta.json and no tariff cuts), so no bloc to measure.");
            continue;
        }
        // year -> [intra, non-members to members, members to non-members] as (base, value).
        let mut by: BTreeMap<i32, [(f64, f64); 3]> = BTreeMap::new();
        for ((sc, y, ex, im), (b, v)) in d
            .bilateral
            .range((s.clone(), i32::MIN, String::new(), String::new())..)
        {
            if sc != s {
                break;
            }
            if ex == im {
                continue;
            }
            let k = match (m.contains(ex), m.contains(im)) {
                (true, true) => 0,
                (false, true) => 1,
                (true, false) => 2,
                (false, false) => continue,
            };
            let e = by.entry(*y).or_default();
            e[k].0 += b;
            e[k].1 += v;
        }
        let names = [
            "trade among members",
            "non-members → members",
            "members → non-members",
        ];
        let series: Vec<Series> = (0..3)
            .map(|k| Series {
                name: names[k].into(),
                points: by
                    .iter()
                    .map(|(y, v)| (*y as f64, pct(v[k].1, v[k].0)))
                    .collect(),
                emphasis: k == 0,
                dashed: k == 2,
                ..Default::default()
            })
            .collect();
        let svg = svg::line_chart(&LineChart {
            title: format!("{s}: trade creation and diversion"),
            x_label: "year".into(),
            y_label: "trade value, % change".into(),
            series,
            zero_line: true,
            legend_note: None,
        });
        figure(
            &mut charts,
            &svg,
            &format!(
                "Members: {}. Trade creation: the change in the members' trade with each other; trade diversion: the change in non-members' exports to members (a fall means members buy from each other instead); also the members' exports to non-members. All sectors, central run, against {vs}.",
                m.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
        n += 1;
        if let Some((y, v)) = by.iter().next_back() {
            let _ = write!(charts, "<table><tr><th>{y}</th><th class=\"n\">baseline</th><th class=\"n\">scenario</th><th class=\"n\">change</th><th class=\"n\">change %</th></tr>");
            for k in 0..3 {
                let _ = write!(
                    charts,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    names[k],
                    sig(v[k].0),
                    sig(v[k].1),
                    sig(v[k].1 - v[k].0),
                    fmt_num(pct(v[k].1, v[k].0), 3)
                );
            }
            charts.push_str("</table><p class=\"muted\">Values in the baseline's money unit, factory prices.</p>");
        }
    }
    section_open(out, "creation", "Trade creation and diversion", n);
    out.push_str(&charts);
    out.push_str("</section>");
}

/// A number with four significant digits (scientific for very large or small magnitudes).
fn sig(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e7).contains(&a) {
        format!("{v:.3e}").replace('-', "−")
    } else {
        fmt_num(v, if a >= 1.0 { 2 } else { 4 })
    }
}

fn investment(out: &mut String, d: &ReportData, scen: &[String], bands: &Bands) {
    if d.investment.is_empty() {
        absent_section(out, "investment", "Investment", "No investment.csv in this directory: FDI projections are written by the investment module when a run asks for them. This section shows inward FDI stocks by host economy when the file is present.");
        return;
    }
    let mut charts = String::new();
    let mut n = 0;
    for s in scen {
        let rows: Vec<&InvestmentRow> = d
            .investment
            .iter()
            .filter(|r| &r.scenario == s && r.draw == 0)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let mut by: BTreeMap<&str, BTreeMap<i32, (f64, f64)>> = BTreeMap::new();
        for r in &rows {
            let e = by
                .entry(r.host.as_str())
                .or_default()
                .entry(r.year)
                .or_default();
            e.0 += r.fdi_stock_base;
            e.1 += r.fdi_stock;
        }
        let c = central(d, s);
        let (f, _) = focus(d, s, &c, usize::MAX);
        let last_change = |h: &str| {
            by[h]
                .values()
                .next_back()
                .map_or(0.0, |(b, v)| pct(*v, *b).abs())
        };
        let mut hosts: Vec<&str> = by
            .keys()
            .copied()
            .filter(|h| f.iter().any(|x| x == h))
            .collect();
        if hosts.is_empty() {
            hosts = by.keys().copied().collect();
        }
        hosts.sort_by(|a, b| last_change(b).total_cmp(&last_change(a)).then(a.cmp(b)));
        hosts.truncate(MAX_LINES);
        let series: Vec<Series> = hosts
            .iter()
            .map(|h| Series {
                name: h.to_string(),
                points: by[h]
                    .iter()
                    .map(|(y, (b, v))| (*y as f64, pct(*v, *b)))
                    .collect(),
                band: by[h]
                    .keys()
                    .filter_map(|y| {
                        bands
                            .get(s, *y, h, crate::output::summary::INWARD_FDI_PCT)
                            .map(|(lo, hi)| (*y as f64, lo, hi))
                    })
                    .collect(),
                emphasis: false,
                dashed: false,
            })
            .collect();
        let svg = svg::line_chart(&LineChart {
            title: format!("{s}: inward FDI stock by host economy"),
            x_label: "year".into(),
            y_label: "inward FDI stock, % change".into(),
            series,
            zero_line: true,
            legend_note: None,
        });
        figure(
            &mut charts,
            &svg,
            "Inward FDI stock of each host economy summed over source economies, percent change against the baseline projection, central run (investment.csv).",
        );
        n += 1;
    }
    section_open(out, "investment", "Investment", n);
    if n == 0 {
        note(
            out,
            "investment.csv has no central-run rows for these scenarios.",
        );
    }
    out.push_str(&charts);
    out.push_str("</section>");
}

fn settings(out: &mut String, d: &ReportData, scen: &[String]) {
    let mut body = String::new();
    let mut n = 0;
    for s in scen {
        let _ = write!(body, "<h3>{}</h3>", esc(s));
        match d.meta.scenario(s) {
            Some(m) => {
                let theta: Vec<String> = m
                    .elasticities
                    .iter()
                    .map(|e| {
                        if (e.theta - e.baseline_theta).abs() > 1e-12 {
                            format!("{} {} (baseline {})", e.sector, e.theta, e.baseline_theta)
                        } else {
                            format!("{} {}", e.sector, e.theta)
                        }
                    })
                    .collect();
                let flags = if m.baseline.flags.is_empty() {
                    "the data do not flag flows".to_string()
                } else {
                    m.baseline
                        .flags
                        .iter()
                        .map(|(f, sh)| format!("{f}: {}% of trade value", fmt_num(100.0 * sh, 1)))
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                let rows: Vec<(&str, String)> = vec![
                    ("scenario file", m.file.clone()),
                    ("description", m.description.clone().unwrap_or_default()),
                    ("baseline", m.baseline.name.clone()),
                    ("what the world is", m.baseline.description.clone()),
                    (
                        "economies × sectors",
                        format!("{} × {} ({})", m.baseline.economies.len(), m.baseline.sectors.len(), m.baseline.sectors.join(", ")),
                    ),
                    ("data provenance", m.baseline.provenance.clone().unwrap_or_else(|| "no README.md or PROVENANCE.md beside the baseline data".into())),
                    ("flow flags", flags),
                    ("base year", m.base_year.to_string()),
                    ("years solved", crate::scenario::compact_years(&m.years)),
                    ("deficits", m.deficits.clone()),
                    ("input-output links", if m.input_output { "yes".into() } else { "no (γ = 1)".into() }),
                    ("trade elasticities θ", theta.join(", ")),
                    (
                        "solver settings",
                        format!("tolerance {:e}, at most {} iterations, step {}", m.solver.tolerance, m.solver.max_iterations, m.solver.step),
                    ),
                ];
                body.push_str("<table>");
                for (k, v) in rows {
                    let _ = write!(body, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
                }
                body.push_str("</table>");
            }
            // Rendered text (golden bytes) for the reader, who reruns from the command line.
            None => note(&mut body, "No report_meta.json for this scenario: its settings and data provenance are unknown here. `tradesim run` writes the file; `tradesim report DIR --scenario FILE` rebuilds it."),
        }
        let rows: Vec<&SolverRow> = d.solver.iter().filter(|r| &r.scenario == s).collect();
        if rows.is_empty() {
            note(&mut body, "No solver.csv rows for this scenario.");
            continue;
        }
        let tol = d.meta.scenario(s).map(|m| m.solver.tolerance);
        let central: Vec<&&SolverRow> = rows.iter().filter(|r| r.draw == 0).collect();
        let worst = central.iter().map(|r| r.residual).fold(0.0, f64::max);
        let above = tol.map(|t| central.iter().filter(|r| r.residual > t).count());
        let _ = write!(
            body,
            "<p>{} solves of the central run (the baseline and every year): {}–{} outer iterations, largest residual {:.2e}{}.</p>",
            central.len(),
            central.iter().map(|r| r.iterations).min().unwrap_or(0),
            central.iter().map(|r| r.iterations).max().unwrap_or(0),
            worst,
            match above {
                Some(0) => ", every one below the tolerance".to_string(),
                Some(k) => format!(", <strong>{k} above the tolerance</strong>"),
                None => String::new(),
            }
        );
        body.push_str("<details><summary>Diagnostics of every solve</summary><table><tr><th>solve</th><th class=\"n\">iterations</th><th class=\"n\">residual</th><th class=\"n\">quota rounds</th><th>converged</th></tr>");
        for r in &central {
            let _ = write!(
                body,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.2e}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                esc(&if r.stage == crate::output::STAGE_BASELINE {
                    format!("{} (baseline)", r.year)
                } else if r.stage == crate::output::STAGE_REFERENCE {
                    format!("{} (reference)", r.year)
                } else {
                    r.year.to_string()
                }),
                r.iterations,
                r.residual,
                r.quota_rounds,
                match tol {
                    Some(t) if r.residual <= t => "yes (residual ≤ tolerance)",
                    Some(_) => "residual above tolerance",
                    None => "",
                }
            );
        }
        body.push_str("</table></details>");
        if let Some((count, lo, hi, worst)) = d.draw_solves.get(s) {
            let _ = write!(
                body,
                "<p>{count} solves of draws: {lo}–{hi} outer iterations, largest residual {worst:.2e}.</p>"
            );
        }
        let pts: Vec<(f64, f64)> = central
            .iter()
            .filter(|r| r.stage == crate::output::STAGE_YEAR)
            .map(|r| (r.year as f64, r.iterations as f64))
            .collect();
        if !pts.is_empty() {
            let svg = svg::line_chart(&LineChart {
                title: format!("{s}: solver iterations by year"),
                x_label: "year".into(),
                y_label: "outer iterations".into(),
                series: vec![Series {
                    name: "central run".into(),
                    points: pts,
                    ..Default::default()
                }],
                zero_line: true,
                legend_note: None,
            });
            figure(&mut body, &svg, "Outer (wage) iterations of each year's solve, from solver.csv; the table gives the final residuals (relative factor-market excess demand and wage change).");
            n += 1;
        }
    }
    section_open(out, "settings", "Settings, data and solver diagnostics", n);
    out.push_str(&body);
    out.push_str("</section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(draw: u32, year: i32, economy: &str, ri: f64) -> EconomyRow {
        EconomyRow {
            scenario: "S".into(),
            year,
            draw,
            economy: economy.into(),
            exports_base: 100.0,
            exports: 100.0 + ri,
            imports_base: 100.0,
            imports: 100.0,
            real_income_pct: ri,
            welfare_pct: ri,
            tot_pct: 0.0,
            vot_pct: ri,
            real_wage_pct: ri,
            tariff_revenue_base: 0.0,
            tariff_revenue: 0.0,
            inward_fdi_base: None,
            inward_fdi: None,
            compared_with: "base_year".into(),
        }
    }

    #[test]
    fn bands_come_from_the_draws_without_a_summary() {
        let mut d = ReportData::default();
        d.economies.push(row(0, 2020, "AAA", 0.5));
        for k in 1..=21 {
            d.economies.push(row(k, 2020, "AAA", k as f64 / 10.0));
        }
        let b = Bands::new(&d);
        let (lo, hi) = b.get("S", 2020, "AAA", "real_income_pct").unwrap();
        // Draws 0.1..=2.1: the 5th percentile is 0.2, the 95th 2.0 (linear interpolation).
        assert!(
            (lo - 0.2).abs() < 1e-12 && (hi - 2.0).abs() < 1e-12,
            "{lo} {hi}"
        );
        let (lo, _) = b.get("S", 2020, "AAA", "exports_pct").unwrap();
        assert!((lo - 0.2).abs() < 1e-9);
        assert!(b.get("S", 2021, "AAA", "real_income_pct").is_none());
    }

    /// Probe B finding 10: ranked by the change, the key figures say so once.
    #[test]
    fn key_figures_of_economies_ranked_by_change_say_it_once() {
        let mut d = ReportData::default();
        for k in 0..20 {
            d.economies
                .push(row(0, 2020, &format!("E{k:02}"), k as f64));
        }
        let html = render(&d);
        assert!(
            html.contains(
                "for 12 of 20 economies, those with the largest real income changes in 2020:"
            ),
            "one phrase"
        );
        assert!(!html.contains("(the economies with the largest real income changes), those"));
    }

    /// Probe B finding 10: the one-sector model's welfare column says what it holds.
    #[test]
    fn a_one_sector_run_does_not_claim_a_welfare_decomposition() {
        let mut d = ReportData::default();
        let mut r = row(0, 2020, "AAA", 0.5);
        (r.tot_pct, r.vot_pct) = (f64::NAN, f64::NAN);
        d.economies.push(r);
        let html = render(&d);
        assert!(html.contains("welfare % (one-sector model: real income, no ToT/VoT split)"));
        assert!(!html.contains("welfare (ToT+VoT) %"));
        d.economies[0].tot_pct = 0.1;
        d.economies[0].vot_pct = 0.4;
        assert!(render(&d).contains("welfare (ToT+VoT) %"));
    }

    /// Probe B finding 10: a directory the report cannot write into is named, not the
    /// temporary file.
    #[test]
    fn a_read_only_directory_is_named_not_its_temporary_file() {
        let e = Error::io(
            "out/.report.html.123.tmp",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        let t = not_writable(Path::new("out"), e).to_string();
        assert!(t.starts_with("out: is not writable"), "{t}");
        assert!(
            !t.contains(".tmp") && t.contains("make the directory writable"),
            "{t}"
        );
    }

    #[test]
    fn a_report_without_some_tables_says_what_is_absent_and_escapes_names() {
        let mut d = ReportData {
            source: "<dir & co>".into(),
            ..Default::default()
        };
        d.economies.push(row(0, 2020, "A<B", 0.5));
        d.absent = vec!["bilateral.csv".into(), "report_meta.json".into()];
        let html = render(&d);
        assert!(html.contains("No bilateral.csv in this directory"));
        assert!(html.contains("A&lt;B") && !html.contains("A<B"));
        assert!(html.contains("&lt;dir &amp; co&gt;"));
        assert!(
            html.contains(r#"data-expect-charts="3""#),
            "three outcome charts"
        );
        assert_eq!(
            html.matches("http").count(),
            html.matches("http://www.w3.org/2000/svg").count(),
            "no URL but the SVG namespace"
        );
    }
}
