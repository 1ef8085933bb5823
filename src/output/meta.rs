//! `report_meta.json`: what the HTML report needs to know about a run beyond its tables: the
//! scenario (file, description, settings), the baseline and its provenance, the agreements with
//! members and dates, and the resolved tariff paths among each agreement's members.
//!
//! `tradesim run` writes it beside the tables; `tradesim report DIR --scenario FILE` rebuilds
//! it from the scenario file (without solving). A batch can list several scenarios.

use crate::data::Baseline;
use crate::scenario::raw::Deficits;
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file name in an output directory.
pub(crate) const FILE: &str = "report_meta.json";

/// The metadata of the scenarios in an output directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ReportMeta {
    /// The tradesim version that wrote the file.
    pub tradesim_version: String,
    /// Economies to show first in every chart and table (e.g. a batch's `focus`).
    #[serde(default)]
    pub focus: Vec<String>,
    pub scenarios: Vec<ScenarioMeta>,
}

/// One scenario's settings, baseline, agreements and tariff paths.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ScenarioMeta {
    pub name: String,
    pub file: String,
    #[serde(default)]
    pub description: Option<String>,
    pub baseline: BaselineMeta,
    pub base_year: i32,
    pub years: Vec<i32>,
    pub deficits: String,
    pub input_output: bool,
    pub solver: SolverMeta,
    /// θ of every sector used in the run, and the baseline's θ.
    pub elasticities: Vec<ElasticityMeta>,
    pub agreements: Vec<AgreementMeta>,
    /// Trade-weighted average applied tariff among each shown agreement's members.
    pub tariff_paths: Vec<TariffPathPoint>,
    /// What the percent changes are measured against (absent in files written before it
    /// existed: the solved base year).
    #[serde(default)]
    pub compared_with: ComparedWithMeta,
}

/// What a scenario's percent changes are measured against.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct ComparedWithMeta {
    /// `base_year` or `reference`, as in the `compared_with` column of the tables.
    pub kind: String,
    /// In words, e.g. "the reference path `Reference path` (scenarios/reference.ron) without
    /// CPTPP, year by year (...)".
    pub description: String,
    /// The reference scenario's name and file, and the agreements left out of it.
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub reference_file: Option<String>,
    #[serde(default)]
    pub without: Vec<String>,
}

impl Default for ComparedWithMeta {
    fn default() -> Self {
        ComparedWithMeta {
            kind: "base_year".into(),
            description: "the solved base year".into(),
            reference: None,
            reference_file: None,
            without: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BaselineMeta {
    pub name: String,
    /// What the world is in one line ([`Baseline::describe`]).
    #[serde(default)]
    pub description: String,
    pub economies: Vec<(String, String)>,
    pub sectors: Vec<String>,
    /// Share of the base-year international trade value by data flag (`observed`, …).
    pub flags: Vec<(String, f64)>,
    /// The first paragraph of the baseline's README.md or PROVENANCE.md, when it has one.
    #[serde(default)]
    pub provenance: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct SolverMeta {
    pub tolerance: f64,
    pub max_iterations: usize,
    pub step: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ElasticityMeta {
    pub sector: String,
    pub theta: f64,
    pub baseline_theta: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AgreementMeta {
    pub name: String,
    pub entry_into_force: i32,
    /// `new`, `removed`, `in the data, phase-out continues` or `in the data, held at base-year rates`.
    pub status: String,
    pub members: Vec<MemberMeta>,
    /// The default schedule, as written.
    pub schedule: String,
    pub rules: usize,
    pub product_groups: Vec<String>,
    #[serde(default)]
    pub depth: Option<String>,
    /// Whether the scenario's outcomes measure this agreement (it differs between the scenario
    /// and what it is compared with); absent in older files.
    #[serde(default)]
    pub measured: Option<bool>,
}

impl AgreementMeta {
    /// Whether the scenario changes this agreement's policy (its tariffs are charted).
    pub(crate) fn is_active(&self) -> bool {
        self.measured
            .unwrap_or_else(|| !self.status.contains("held at"))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MemberMeta {
    pub code: String,
    pub joins: i32,
    #[serde(default)]
    pub leaves: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TariffPathPoint {
    pub agreement: String,
    /// A sector code, or `all` for the trade-weighted average over traded sectors.
    pub sector: String,
    pub year: i32,
    pub rate_pct: f64,
}

impl ReportMeta {
    pub(crate) fn new(scenarios: Vec<ScenarioMeta>) -> Self {
        ReportMeta {
            tradesim_version: env!("CARGO_PKG_VERSION").to_string(),
            focus: Vec::new(),
            scenarios,
        }
    }
    pub(crate) fn to_json(&self) -> Vec<u8> {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
    pub(crate) fn scenario(&self, name: &str) -> Option<&ScenarioMeta> {
        self.scenarios.iter().find(|s| s.name == name)
    }
}

/// An agreement's status in a scenario, in words (for `check` and the report).
pub(crate) fn status(a: &crate::policy::Agreement, s: &Scenario) -> String {
    let base_year = s.base_year;
    let in_reference = || {
        s.compared_with.reference().map(|r| {
            r.agreements
                .iter()
                .find(|x| x.name == a.name)
                .is_some_and(|x| !x.removed)
        })
    };
    if let Some(there) = in_reference() {
        let here = !a.removed;
        return match (here, there, s.measured(a)) {
            (true, false, _) => "in this scenario, not in the comparison (measured)".into(),
            (false, true, _) => "in the comparison, removed in this scenario (measured)".into(),
            (false, false, _) => "in neither (removed here and left out of the comparison)".into(),
            (true, true, true) => "in both, with different terms (measured)".into(),
            (true, true, false) => "in both (the reference path), not measured".into(),
        };
    }
    if a.removed {
        if a.entry_into_force <= base_year {
            "removed (in the data, not in the scenario)".into()
        } else {
            "removed in this scenario".into()
        }
    } else if a.entry_into_force <= base_year {
        if a.frozen_from.is_some() {
            "in the data, held at base-year rates".into()
        } else {
            "in the data, phase-out continues".into()
        }
    } else {
        "new".into()
    }
}

/// A schedule as a scenario file spells it (`Linear(years: 4, to: 0.0)`).
fn ron_like(s: &crate::policy::Schedule) -> String {
    format!("{s:?}").replace(" { ", "(").replace(" }", ")")
}

/// A note on where the baseline's data come from: the first paragraph of a `PROVENANCE.md` or
/// `README.md` in its directory, or else the line of the parent directory's `PROVENANCE.md`
/// that names the directory (as in `../shared/data/PROVENANCE.md`).
fn provenance(b: &Baseline) -> Option<String> {
    // The directory: the name itself, a built-in world, or the path in "Label (dir)".
    let inner = b
        .name
        .strip_suffix(')')
        .and_then(|n| n.rfind('(').map(|k| n[k + 1..].to_string()));
    let mut dirs = vec![
        Path::new(&b.name).to_path_buf(),
        crate::scenario::builtin_dir(&b.name),
    ];
    dirs.extend(inner.map(std::path::PathBuf::from));
    let clip = |t: &str| -> String { t.chars().take(700).collect() };
    for d in dirs.iter().filter(|d| d.is_dir()) {
        for f in ["PROVENANCE.md", "README.md"] {
            if let Ok(text) = std::fs::read_to_string(d.join(f)) {
                let para = text
                    .split("\n\n")
                    .map(str::trim)
                    .find(|p| !p.is_empty() && !p.starts_with('#'));
                if let Some(p) = para {
                    return Some(format!(
                        "{} ({f}): {}",
                        d.display(),
                        clip(&p.replace('\n', " "))
                    ));
                }
            }
        }
        let (Some(parent), Some(name)) = (d.parent(), d.file_name()) else {
            continue;
        };
        let file = parent.join("PROVENANCE.md");
        if let Ok(text) = std::fs::read_to_string(&file) {
            let key = format!("{}/", name.to_string_lossy());
            if let Some(line) = text.lines().find(|l| l.contains(&key)) {
                let cells: Vec<&str> = line
                    .split('|')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect();
                return Some(format!("{}: {}", file.display(), clip(&cells.join("; "))));
            }
        }
    }
    None
}

fn flag_shares(b: &Baseline) -> Vec<(String, f64)> {
    let mut by: std::collections::BTreeMap<String, f64> = Default::default();
    let mut total = 0.0;
    for j in 0..b.n_sectors() {
        for n in 0..b.n_economies() {
            for i in 0..b.n_economies() {
                if i == n {
                    continue;
                }
                let v = b.flows.get(j, n, i);
                total += v;
                let f = b
                    .flags
                    .get(&(j, n, i))
                    .cloned()
                    .unwrap_or_else(|| "unflagged".into());
                *by.entry(f).or_default() += v;
            }
        }
    }
    if b.flags.is_empty() || total <= 0.0 {
        return Vec::new();
    }
    by.into_iter().map(|(k, v)| (k, v / total)).collect()
}

/// Trade-weighted (base-year flows) average of `tau` over member pairs in sector `j`, in %.
pub(crate) fn member_average(
    b: &Baseline,
    members: &[usize],
    tau: &crate::data::Cube,
    js: &[usize],
) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for &j in js {
        for &n in members {
            for &i in members {
                if i != n {
                    let w = b.flows.get(j, n, i);
                    num += w * tau.get(j, n, i);
                    den += w;
                }
            }
        }
    }
    if den > 0.0 {
        100.0 * num / den
    } else {
        f64::NAN
    }
}

/// Build a scenario's metadata (resolves the policy of every year; does not solve).
pub(crate) fn scenario_meta(s: &Scenario) -> ScenarioMeta {
    let b = &s.baseline;
    let code = |n: usize| b.economies[n].code.clone();
    let agreements: Vec<AgreementMeta> = s
        .agreements
        .iter()
        .map(|a| AgreementMeta {
            name: a.name.clone(),
            entry_into_force: a.entry_into_force,
            status: status(a, s),
            members: a
                .members
                .iter()
                .map(|m| MemberMeta {
                    code: code(m.economy),
                    joins: m.joins,
                    leaves: m.leaves,
                })
                .collect(),
            schedule: ron_like(&a.schedule),
            rules: a.rules.len(),
            product_groups: a
                .groups
                .iter()
                .map(|g| {
                    format!(
                        "{} ({} imports of {}, weight {}, {})",
                        g.name,
                        code(g.importer),
                        b.sectors[g.sector].code,
                        g.weight,
                        ron_like(&g.schedule)
                    )
                })
                .collect(),
            depth: a.depth.as_ref().map(|d| d.describe(b)),
            measured: Some(s.measured(a)),
        })
        .collect();
    let (base, years) = crate::scenario::resolve_paths(s);
    let traded: Vec<usize> = (0..b.n_sectors())
        .filter(|&j| b.sectors[j].traded)
        .collect();
    let mut tariff_paths = Vec::new();
    for a in s.agreements.iter() {
        if !s.measured(a) {
            continue;
        }
        let idx: Vec<usize> = a.members.iter().map(|m| m.economy).collect();
        let mut push = |year: i32, tau: &crate::data::Cube| {
            for &j in &traded {
                let r = member_average(b, &idx, tau, &[j]);
                if r.is_finite() {
                    tariff_paths.push(TariffPathPoint {
                        agreement: a.name.clone(),
                        sector: b.sectors[j].code.clone(),
                        year,
                        rate_pct: r,
                    });
                }
            }
            let r = member_average(b, &idx, tau, &traded);
            if r.is_finite() {
                tariff_paths.push(TariffPathPoint {
                    agreement: a.name.clone(),
                    sector: "all".into(),
                    year,
                    rate_pct: r,
                });
            }
        };
        push(s.base_year, &base.tariffs);
        for p in &years {
            if p.year != s.base_year {
                push(p.year, &p.tariffs);
            }
        }
    }
    ScenarioMeta {
        name: s.name.clone(),
        file: s.path.display().to_string(),
        description: s.description.clone(),
        baseline: BaselineMeta {
            name: b.name.clone(),
            description: b.describe(),
            economies: b
                .economies
                .iter()
                .map(|e| (e.code.clone(), e.name.clone()))
                .collect(),
            sectors: b.sectors.iter().map(|x| x.code.clone()).collect(),
            flags: flag_shares(b),
            provenance: provenance(b),
        },
        base_year: s.base_year,
        years: s.years.clone(),
        deficits: match s.deficits {
            Deficits::Baseline => "Baseline (D' = D, as in the data)".into(),
            Deficits::Zero => "Zero (D' = 0, zero aggregate deficit)".into(),
        },
        input_output: s.input_output,
        solver: SolverMeta {
            tolerance: s.solver.tolerance(),
            max_iterations: s.solver.max_iterations(),
            step: s.solver.step(),
        },
        elasticities: b
            .sectors
            .iter()
            .zip(&s.theta)
            .map(|(x, &t)| ElasticityMeta {
                sector: x.code.clone(),
                theta: t,
                baseline_theta: x.theta,
            })
            .collect(),
        agreements,
        tariff_paths,
        compared_with: ComparedWithMeta {
            kind: s.compared_with.kind().into(),
            description: s.compared_with.describe(s.base_year),
            reference: s.compared_with.reference().map(|r| r.name.clone()),
            reference_file: s
                .compared_with
                .reference()
                .map(|r| r.file.display().to_string()),
            without: s
                .compared_with
                .reference()
                .map_or_else(Vec::new, |r| r.without.clone()),
        },
    }
}
