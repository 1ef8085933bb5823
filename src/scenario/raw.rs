//! The serde types that mirror a scenario file, before validation. Every field is documented
//! in the README ("Scenario files").

use serde::Deserialize;
use std::collections::BTreeMap;

/// A scenario file as written. Fields that may be inherited through `extends` are optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct RawScenario {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub extends: Option<String>,
    #[serde(default)]
    pub remove_agreements: Vec<String>,
    #[serde(default)]
    pub continue_phase_out: Vec<String>,
    #[serde(default)]
    pub baseline: Option<BaselineRef>,
    #[serde(default)]
    pub base_year: Option<i32>,
    #[serde(default)]
    pub horizon: Option<i32>,
    #[serde(default)]
    pub years: Option<Vec<i32>>,
    #[serde(default)]
    pub elasticities: BTreeMap<String, Elasticity>,
    #[serde(default)]
    pub deficits: Option<Deficits>,
    #[serde(default)]
    pub input_output: Option<bool>,
    #[serde(default)]
    pub solver: Option<RawSolver>,
    #[serde(default)]
    pub agreements: Vec<RawAgreement>,
    #[serde(default)]
    pub investment: Option<RawInvestment>,
}

/// The investment block: project bilateral FDI stocks (MODEL.md §5).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInvestment {
    /// Bilateral FDI stocks (CSV `source,host,stock[,sales_ratio]`); default: the built-in
    /// world's `fdi.csv`.
    #[serde(default)]
    pub stocks: Option<String>,
    /// Elasticity of FDI stocks to the host's real income (default 1).
    #[serde(default)]
    pub eta: Option<f64>,
    /// Years over which provisions take full effect (default 10).
    #[serde(default)]
    pub phase_in_years: Option<u32>,
    /// β_inv by level of provisions (defaults: Kox & Rojas-Romagosa 2020).
    #[serde(default)]
    pub semi_elasticities: Option<RawBetas>,
    /// β_inv of a level of provisions from an estimate's JSON file (`tradesim estimate
    /// --json` on an FDI panel); these replace `semi_elasticities` for their level.
    #[serde(default)]
    pub from_estimate: Vec<RawBetaEstimate>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBetaEstimate {
    pub provisions: crate::invest::Provisions,
    pub file: String,
    pub coefficient: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBetas {
    #[serde(default)]
    pub pta: Option<f64>,
    #[serde(default)]
    pub investment_chapter: Option<f64>,
    #[serde(default)]
    pub bit_equivalent: Option<f64>,
    #[serde(default)]
    pub deep: Option<f64>,
}

/// Where the base-year world comes from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum BaselineRef {
    /// A world shipped with tradesim (`data/<name>/` in the repository).
    Builtin(String),
    /// A directory in the tidy baseline format (`docs/baseline-format.md`).
    Csv(String),
    /// The Caliendo–Parro (2015) replication files as they are.
    CaliendoParro2015(String),
}

/// A sector's trade elasticity θ: a value, or minus a coefficient of an estimate's JSON file
/// (the coefficient on `log(1+tariff)` in a gravity regression is −θ).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum Elasticity {
    Value(f64),
    FromEstimate { file: String, coefficient: String },
}

/// Deficits in the counterfactual (and in the solved baseline it is compared with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Deficits {
    /// `D' = D`: deficits as in the data.
    Baseline,
    /// `D' = 0`: Caliendo–Parro's "zero aggregate deficit" variant.
    Zero,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSolver {
    #[serde(default)]
    pub tolerance: Option<f64>,
    #[serde(default)]
    pub max_iterations: Option<usize>,
    #[serde(default)]
    pub step: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgreement {
    pub name: String,
    pub entry_into_force: i32,
    pub members: Vec<String>,
    #[serde(default)]
    pub accessions: BTreeMap<String, i32>,
    #[serde(default)]
    pub withdrawals: BTreeMap<String, i32>,
    /// Optional statement that the agreement is in the base-year data (checked against the dates).
    #[serde(default)]
    pub in_baseline: Option<bool>,
    #[serde(default = "immediate")]
    pub schedule: RawSchedule,
    #[serde(default)]
    pub schedules: Vec<RawRule>,
    #[serde(default)]
    pub product_groups: Vec<RawGroup>,
    #[serde(default)]
    pub depth: Option<RawDepth>,
    /// Investment provisions (default `Pta`).
    #[serde(default = "pta")]
    pub investment_provisions: crate::invest::Provisions,
}

fn pta() -> crate::invest::Provisions {
    crate::invest::Provisions::Pta
}

fn immediate() -> RawSchedule {
    RawSchedule::Immediate
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum RawSchedule {
    Immediate,
    Linear {
        years: u32,
        #[serde(default)]
        to: f64,
    },
    Staged(Vec<(u32, f64)>),
    Excluded,
    Path(Vec<(i32, f64)>),
    TariffRateQuota {
        quota: f64,
        in_quota_rate: f64,
        out_of_quota_rate: f64,
    },
    ToTariffSet(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    #[serde(default)]
    pub importer: Option<String>,
    #[serde(default)]
    pub exporter: Option<String>,
    #[serde(default)]
    pub sector: Option<String>,
    pub schedule: RawSchedule,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub name: String,
    pub importer: String,
    #[serde(default)]
    pub exporter: Option<String>,
    pub sector: String,
    pub weight: f64,
    #[serde(default)]
    pub base_rate: Option<f64>,
    pub schedule: RawSchedule,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum RawDepth {
    /// `κ̂^{-θ} = exp(beta · phase(t))`.
    Given { beta: f64, phase_in_years: u32 },
    /// `beta` is a coefficient of an estimate's JSON file (`tradesim estimate --json`).
    FromEstimate {
        file: String,
        coefficient: String,
        phase_in_years: u32,
    },
}
