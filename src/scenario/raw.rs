//! The serde types that mirror a scenario file, before validation. Every field is documented
//! in the README ("Scenario files"). Each type carries the name a user sees (`Agreement`,
//! `ProductGroup`, …) in error messages and the JSON Schema, not its Rust name.

use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A scenario file as written. Fields that may be inherited through `extends` are optional.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct RawScenario {
    /// The scenario's name, written in every output row.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// A scenario file to build on (relative to this file): every field not given here is inherited.
    #[serde(default)]
    pub extends: Option<String>,
    /// Inherited agreements to leave out of the counterfactual while keeping them in the base-year data (ex-post analysis).
    #[serde(default)]
    pub remove_agreements: Vec<String>,
    /// Agreements in force in the base year whose schedules keep running after it.
    #[serde(default)]
    pub continue_phase_out: Vec<String>,
    /// What happens to the schedules of the agreements in force in the base year:
    /// `HeldAtBaseYear` (default; except those in `continue_phase_out`) or `RunToTheEnd`
    /// (every phase-out runs to its end: a reference path).
    #[serde(default)]
    pub phase_outs: Option<PhaseOuts>,
    /// What every `*_pct` output is measured against: `BaseYear` (default: the solved base
    /// year) or `Reference(file, without)`: the reference path's outcome in the same year,
    /// solved with this scenario's parameters, without the agreements listed in `without`.
    #[serde(default)]
    pub compared_with: Option<RawComparedWith>,
    /// Non-tariff depth for agreements by name (inherited ones included); replaces the
    /// agreement's own `depth`.
    #[serde(default)]
    pub depth: BTreeMap<String, RawDepth>,
    /// Members joining agreements by name (inherited ones included): agreement → (code →
    /// year), e.g. `{ "CPTPP": { "KOR": 2028 } }`; each is added to the agreement's
    /// accessions (an acceding member's year is replaced), its schedules counting from then.
    #[serde(default)]
    pub accessions: BTreeMap<String, BTreeMap<String, i32>>,
    /// Members leaving agreements by name (inherited ones included): agreement → (code →
    /// first year out), e.g. `{ "NAFTA": { "USA": 2027 } }`; its pairs are at the other rates
    /// that apply to them from then (MFN, or another agreement's).
    #[serde(default)]
    pub withdrawals: BTreeMap<String, BTreeMap<String, i32>>,
    /// The base-year world: `Builtin(name)`, `Csv(dir)` or `CaliendoParro2015(dir)`.
    #[serde(default)]
    pub baseline: Option<BaselineRef>,
    /// The year of the baseline data.
    #[serde(default)]
    #[schemars(range(min = crate::scenario::YEAR_RANGE.0, max = crate::scenario::YEAR_RANGE.1))]
    pub base_year: Option<i32>,
    /// The last year solved (every year from `base_year` to `horizon`), unless `years` is given.
    #[serde(default)]
    #[schemars(range(min = crate::scenario::YEAR_RANGE.0, max = crate::scenario::YEAR_RANGE.1))]
    pub horizon: Option<i32>,
    /// Solve only these years (each at least `base_year`).
    #[serde(default)]
    #[schemars(inner(range(min = crate::scenario::YEAR_RANGE.0, max = crate::scenario::YEAR_RANGE.1)))]
    pub years: Option<Vec<i32>>,
    /// Trade elasticities θ by sector code, overriding the baseline's.
    #[serde(default)]
    pub elasticities: BTreeMap<String, Elasticity>,
    /// Deficits in the solved baseline and the counterfactual (default `Baseline`).
    #[serde(default)]
    pub deficits: Option<Deficits>,
    /// Use the baseline's input-output links (default true).
    #[serde(default)]
    pub input_output: Option<bool>,
    /// Solver settings (defaults: tolerance 1e-10, max_iterations 5000, step 0.5).
    #[serde(default)]
    pub solver: Option<RawSolver>,
    /// Trade agreements; one with the same name as an inherited one replaces it.
    #[serde(default)]
    pub agreements: Vec<RawAgreement>,
    /// Project bilateral FDI stocks alongside trade (README "Investment"); none by default,
    /// and then `investment.csv` is not written.
    #[serde(default)]
    pub investment: Option<RawInvestment>,
}

/// The investment block: project bilateral FDI stocks (MODEL.md §5).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "Investment")]
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

/// One level's β_inv read from an estimate: `(provisions: Deep, file: "fdi.json",
/// coefficient: "deep")`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "BetaEstimate")]
pub struct RawBetaEstimate {
    /// The level of investment provisions whose semi-elasticity this replaces.
    pub provisions: crate::policy::Provisions,
    /// An estimate's JSON file (`tradesim estimate --json`), relative to the scenario file.
    pub file: String,
    /// The coefficient whose `estimate` is β_inv (taken as is: a log-point effect on stocks).
    pub coefficient: String,
}

/// β_inv by level of investment provisions: an agreement at that level multiplies its pairs'
/// FDI stocks by `exp(β_inv)` once phased in (MODEL.md §5). Levels left out keep the
/// Kox & Rojas-Romagosa (2020) defaults.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "SemiElasticities")]
pub struct RawBetas {
    /// A PTA without investment provisions (default ln 1.30 ≈ 0.262: +30% stocks).
    #[serde(default)]
    pub pta: Option<f64>,
    /// An agreement with an investment chapter (default ln 1.30, taken as BIT-equivalent).
    #[serde(default)]
    pub investment_chapter: Option<f64>,
    /// Provisions equivalent to a bilateral investment treaty (default ln 1.30).
    #[serde(default)]
    pub bit_equivalent: Option<f64>,
    /// The deepest agreements (default ln 1.54 ≈ 0.432: +54% stocks).
    #[serde(default)]
    pub deep: Option<f64>,
}

/// What happens after the base year to the schedules of agreements in force in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum PhaseOuts {
    /// Held at their base-year stage, except those named in `continue_phase_out`: the
    /// scenario measures its own new policies against the solved base year.
    HeldAtBaseYear,
    /// Every phase-out runs to its end (the world as scheduled): what a reference path does.
    RunToTheEnd,
}

/// What a scenario's outcomes are compared with.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "ComparedWith")]
pub enum RawComparedWith {
    /// The solved base year: every year's outcome relative to the base-year equilibrium.
    BaseYear,
    /// A reference path: every year's outcome relative to the outcome of the reference
    /// scenario in the same year (how CGE studies report effects). `file` is a scenario file
    /// on the same world with the same base year (relative to this file); `without` lists its
    /// agreements to leave out, e.g. the agreement this scenario is about when it happened.
    Reference {
        /// The reference scenario file, relative to this file.
        file: String,
        /// Names of the reference's agreements to leave out (default none).
        #[serde(default)]
        without: Vec<String>,
    },
}

/// Where the base-year world comes from.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub enum Elasticity {
    /// θ itself (positive; typically 2 to 15).
    Value(
        #[schemars(range(min = crate::data::THETA_RANGE.0, max = crate::data::THETA_RANGE.1))] f64,
    ),
    /// θ = −(the coefficient's `estimate`) in an estimate's JSON file.
    FromEstimate {
        /// An estimate's JSON file (`tradesim estimate --json`), relative to the scenario file.
        file: String,
        /// The coefficient on `log(1+tariff)`, e.g. `ln_tariff`.
        coefficient: String,
    },
}

/// Deficits in the counterfactual (and in the solved baseline it is compared with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Deficits {
    /// `D' = D`: deficits as in the data.
    Baseline,
    /// `D' = 0`: Caliendo–Parro's "zero aggregate deficit" variant.
    Zero,
}

/// Solver settings; fields not given keep their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "Solver")]
pub struct RawSolver {
    /// The largest relative factor-market residual (and wage change) accepted as solved; in
    /// (0, 1e-3], default 1e-10.
    #[serde(default)]
    #[schemars(range(max = 1e-3), extend("exclusiveMinimum" = 0))]
    pub tolerance: Option<f64>,
    /// The iteration cap of the wage loop; at least 1, default 5000.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_iterations: Option<usize>,
    /// The damping of the wage update (1: none; Anderson acceleration on top); in (0, 1],
    /// default 0.5.
    #[serde(default)]
    #[schemars(range(max = 1), extend("exclusiveMinimum" = 0))]
    pub step: Option<f64>,
}

/// A trade agreement: members, dates, tariff schedules, product groups and depth.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "Agreement")]
pub struct RawAgreement {
    /// Unique name.
    pub name: String,
    /// The first year the agreement applies.
    #[schemars(range(min = crate::scenario::YEAR_RANGE.0, max = crate::scenario::YEAR_RANGE.1))]
    pub entry_into_force: i32,
    /// Founding members (economy codes of the baseline), joining at entry into force.
    pub members: Vec<String>,
    /// Members joining later: code → year.
    #[serde(default)]
    pub accessions: BTreeMap<String, i32>,
    /// The first year a member is no longer in the agreement: code → year.
    #[serde(default)]
    pub withdrawals: BTreeMap<String, i32>,
    /// Optional statement that the agreement is in the base-year data (checked against the dates).
    #[serde(default)]
    pub in_baseline: Option<bool>,
    /// The default schedule of every importer, exporter and sector.
    #[serde(default = "immediate")]
    pub schedule: RawSchedule,
    /// Schedules for some importers, exporters or sectors; the most specific rule wins.
    #[serde(default)]
    pub schedules: Vec<RawRule>,
    /// Parts of a sector with their own schedule.
    #[serde(default)]
    pub product_groups: Vec<RawGroup>,
    /// A non-tariff trade-cost effect on member pairs.
    #[serde(default)]
    pub depth: Option<RawDepth>,
    /// Investment provisions (default `Pta`).
    #[serde(default = "pta")]
    pub investment_provisions: crate::policy::Provisions,
}

fn pta() -> crate::policy::Provisions {
    crate::policy::Provisions::Pta
}

fn immediate() -> RawSchedule {
    RawSchedule::Immediate
}

/// How an importer's rate for members moves from the base (data) rate; offsets count from the pair's start.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "Schedule")]
pub enum RawSchedule {
    /// Zero from the first year.
    Immediate,
    /// `years` equal annual cuts, the first in the first year, ending at `to`·base (default 0).
    Linear {
        /// The number of annual cuts (at least 1).
        #[schemars(range(min = 1))]
        years: u32,
        /// The final rate as a fraction of the base rate (default 0: duty-free).
        #[serde(default)]
        #[schemars(range(min = 0, max = 1))]
        to: f64,
    },
    /// Steps of (offset in years, fraction of base); base before the first.
    Staged(Vec<(u32, f64)>),
    /// The base rate, unchanged.
    Excluded,
    /// Rates by calendar year: (year, rate); base before the first.
    Path(Vec<(i32, f64)>),
    /// A tariff-rate quota (quota in base-year money); the regime is found in the equilibrium.
    TariffRateQuota {
        /// The quota: imports in base-year money at base-year prices (non-negative).
        #[schemars(extend("exclusiveMinimum" = 0))]
        quota: f64,
        /// The ad-valorem rate inside the quota (0.05 is 5%; capped at the base rate).
        #[schemars(range(min = 0))]
        in_quota_rate: f64,
        /// The ad-valorem rate above the quota (capped at what the part pays without it).
        #[schemars(range(min = 0))]
        out_of_quota_rate: f64,
    },
    /// The rates of a named tariff set of the baseline (e.g. `cfl`).
    ToTariffSet(String),
}

/// A schedule for some importers, exporters or sectors (omitted fields match all).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "ScheduleRule")]
pub struct RawRule {
    /// The importer's economy code (default: every member).
    #[serde(default)]
    pub importer: Option<String>,
    /// The exporter's economy code (default: every member).
    #[serde(default)]
    pub exporter: Option<String>,
    /// The sector code (default: every sector).
    #[serde(default)]
    pub sector: Option<String>,
    /// The schedule of the cells the rule matches; the most specific matching rule wins, and
    /// among equally specific rules the later one.
    pub schedule: RawSchedule,
}

/// A product group: a share (`weight`) of the importer's bilateral imports in a sector with its
/// own schedule. When `name` is one of the baseline's named groups of the importer
/// (`product_groups.csv`, listed by `tradesim check`), `sector`, `weight` and `base_rate` default
/// to the world's values (the exporter's own row where the world has one, else the
/// all-partners row); giving them overrides the world's. Otherwise `sector` and `weight` are required.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "ProductGroup")]
pub struct RawGroup {
    /// The group's name (a named group of the world's importer, or a new one).
    pub name: String,
    /// The importer's economy code (a member).
    pub importer: String,
    /// The exporter's economy code (default: every member).
    #[serde(default)]
    pub exporter: Option<String>,
    /// The sector code the group is part of (default for a named group: the world's).
    #[serde(default)]
    pub sector: Option<String>,
    /// The group's share of the importer's bilateral imports in the sector, in (0, 1]
    /// (default for a named group: the world's).
    #[serde(default)]
    #[schemars(range(max = 1), extend("exclusiveMinimum" = 0))]
    pub weight: Option<f64>,
    /// The group's own base rate (0.3 is 30%); the rest's base rate is adjusted so the
    /// weighted base still equals the data rate (default: the world's, or the sector's rate).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub base_rate: Option<f64>,
    /// The group's schedule; the sector's rate is the weighted average of the groups and the rest.
    pub schedule: RawSchedule,
}

/// A non-tariff trade-cost effect: `κ̂^{-θ} = exp(β·phase(t))` on the member pairs `pairs`
/// selects (default `NewlyLiberalised`).
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename = "Depth")]
pub enum RawDepth {
    /// `κ̂^{-θ} = exp(beta · phase(t))`.
    Given {
        /// β: the log change in bilateral trade from depth once phased in (|β| ≤ 5).
        #[schemars(range(min = -crate::policy::MAX_DEPTH_BETA, max = crate::policy::MAX_DEPTH_BETA))]
        beta: f64,
        /// Years until the full effect (at least 1); the first year reaches 1/phase_in_years.
        #[schemars(range(min = 1))]
        phase_in_years: u32,
        /// The member pairs the effect applies to (default `NewlyLiberalised`).
        #[serde(default)]
        pairs: RawDepthPairs,
        /// The share of β reached at offsets before `phase_in_years`: `[(0, 0.29), (4, 0.71)]`
        /// (a step function; full from `phase_in_years`); empty: linear.
        #[serde(default)]
        profile: Vec<(u32, f64)>,
    },
    /// `beta` is a coefficient of an estimate's JSON file (`tradesim estimate --json`).
    FromEstimate {
        /// An estimate's JSON file, relative to the scenario file.
        file: String,
        /// The coefficient whose `estimate` is β (e.g. an `rta` dummy's).
        coefficient: String,
        /// As in `Given`.
        #[schemars(range(min = 1))]
        phase_in_years: u32,
        /// As in `Given`.
        #[serde(default)]
        pairs: RawDepthPairs,
        /// As in `Given`.
        #[serde(default)]
        profile: Vec<(u32, f64)>,
    },
}

/// The member pairs a depth effect applies to.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, JsonSchema)]
#[serde(rename = "DepthPairs")]
pub enum RawDepthPairs {
    /// Pairs the agreement newly liberalises: not already, when the agreement starts for the
    /// pair, in another agreement at least as deep (one with a larger or equal `depth`, or one
    /// with no `depth`, whose non-tariff effect is taken to be in the data or in its own terms).
    #[default]
    NewlyLiberalised,
    /// Every pair of members.
    AllMembers,
    /// Every ordered pair of distinct economies of the list (members only).
    Among(Vec<String>),
    /// Both directions between the two lists (members only).
    Between(Vec<String>, Vec<String>),
    /// Exactly these (exporter, importer) pairs (members only).
    Directed(Vec<(String, String)>),
}
