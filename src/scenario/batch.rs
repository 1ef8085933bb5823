//! Batch files: several scenarios (paths, or grids of variations of a base scenario) and
//! Monte Carlo settings, parsed from RON (`Batch( ... )`) and validated.

use super::inputs::{hash_inputs, InputFile};
use super::{load as load_scenario, Scenario, Source};
use crate::error::{Error, Result};
use crate::policy::Schedule;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A batch file as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Batch")]
pub struct RawBatch {
    /// The batch's name, written in its outputs (`batch_meta.json`, the comparison table).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Scenario files, relative to the batch file.
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// Grids of variations of a base scenario.
    #[serde(default)]
    pub variations: Vec<RawVariation>,
    /// Economies the comparison table ranks the options for.
    #[serde(default)]
    pub focus: Vec<String>,
    /// Monte Carlo draws per scenario (0: the central run only).
    #[serde(default)]
    pub draws: u32,
    /// The seed every draw's random stream derives from (default 1).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Draw `d` uses the same parameter values in every scenario (default), so that options
    /// are compared under the same uncertainty; `false` gives each scenario its own stream.
    #[serde(default = "default_true")]
    pub common_random_numbers: bool,
    /// Uncertain parameters, each drawn independently from its distribution (default none).
    #[serde(default)]
    pub uncertainty: Vec<RawUncertain>,
    /// Parameters drawn jointly from an estimate's sampling distribution (default none).
    #[serde(default)]
    pub from_estimate: Option<RawEstimateDraws>,
}

fn default_seed() -> u64 {
    1
}
fn default_true() -> bool {
    true
}

/// A grid of variations of one base scenario: the Cartesian product of the axes.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Variation")]
pub struct RawVariation {
    /// The base scenario file, relative to the batch file.
    pub base: String,
    /// The variations' name, with each grid point appended (default: the base scenario's).
    #[serde(default)]
    pub name: Option<String>,
    /// The axes; one scenario per point of their Cartesian product.
    pub grid: Vec<GridAxis>,
}

/// The names of [`GridAxis`]'s variants, as written in a batch file (errors point into the
/// axis they name).
pub(crate) const GRID_AXES: [&str; 4] = ["PhaseIn", "Theta", "Depth", "Accession"];

/// One axis of a grid.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub enum GridAxis {
    /// Set the agreement's phase-in length: every `Linear` schedule takes that many annual
    /// cuts; every `Staged` one keeps its steps, their offsets scaled so that the last falls in
    /// that year; its depth (or the depth a `Depth` axis of the grid, or the batch's draws,
    /// give it) is phased in linearly over it. Refused when the agreement has none of these.
    PhaseIn {
        /// The agreement's name in the base scenario.
        agreement: String,
        /// The lengths to try, in years (each at least 1).
        years: Vec<u32>,
    },
    /// Set a sector's θ.
    Theta {
        /// The sector's code.
        sector: String,
        /// The θ values to try (each positive).
        values: Vec<f64>,
    },
    /// Set the year an economy joins an agreement (a scenario's `accessions`): a new member
    /// acceding then, or a new year for one acceding later.
    Accession {
        /// The agreement's name in the base scenario.
        agreement: String,
        /// The acceding economy's code.
        economy: String,
        /// The accession years to try (each at or after the agreement's entry into force).
        #[schemars(inner(range(min = crate::scenario::YEAR_RANGE.0, max = crate::scenario::YEAR_RANGE.1)))]
        years: Vec<i32>,
    },
    /// Set an agreement's depth β (phase-in from the scenario, or 10 years when it has none).
    Depth {
        /// The agreement's name in the base scenario.
        agreement: String,
        /// The β values to try (log changes of members' trade: 0.2 is +22%; |β| ≤ 5).
        beta: Vec<f64>,
    },
}

/// An uncertain parameter.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
pub enum Parameter {
    /// A sector's θ (absolute value).
    Theta(String),
    /// A factor multiplying every sector's θ.
    ThetaScale,
    /// An agreement's depth β (absolute value).
    Depth(String),
    /// The elasticity η of FDI stocks to the host's real income.
    FdiEta,
}

/// A probability distribution.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub enum Distribution {
    /// `N(mean, sd²)`.
    Normal {
        /// The mean.
        mean: f64,
        /// The standard deviation (≥ 0).
        #[schemars(range(min = 0))]
        sd: f64,
    },
    /// `exp(N(mu, sigma²))`.
    LogNormal {
        /// The mean of the logarithm.
        mu: f64,
        /// The standard deviation of the logarithm (≥ 0).
        #[schemars(range(min = 0))]
        sigma: f64,
    },
    /// Uniform on `[min, max]` (`min ≤ max`).
    Uniform {
        /// The lower bound.
        min: f64,
        /// The upper bound.
        max: f64,
    },
    /// Triangular on `[min, max]` with its peak at `mode` (`min ≤ mode ≤ max`, `min < max`).
    Triangular {
        /// The lower bound.
        min: f64,
        /// The most likely value.
        mode: f64,
        /// The upper bound.
        max: f64,
    },
}

impl Distribution {
    /// Its centre, as a message names it: the median (`mean`, `exp(mu)`, the midpoint) or, for
    /// a triangular distribution, the mode.
    pub(crate) fn centre(&self) -> f64 {
        match *self {
            Distribution::Normal { mean, .. } => mean,
            Distribution::LogNormal { mu, .. } => mu.exp(),
            Distribution::Uniform { min, max } => (min + max) / 2.0,
            Distribution::Triangular { mode, .. } => mode,
        }
    }
}

/// One uncertain parameter and the distribution each draw takes it from.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "UncertainParameter")]
pub struct RawUncertain {
    /// What is drawn.
    pub parameter: Parameter,
    /// What it is drawn from.
    pub distribution: Distribution,
}

/// Draws from the multivariate normal of an estimate (`tradesim estimate --json`): its
/// coefficients and covariance matrix (`vcov`; when absent, the standard errors on the
/// diagonal). A `Theta` parameter takes minus the coefficient.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "EstimateDraws")]
pub struct RawEstimateDraws {
    /// An estimate's JSON file, relative to the batch file.
    pub file: String,
    /// (coefficient name, the parameter it sets), e.g. `("rta", Depth("CPTPP"))`.
    pub coefficients: Vec<(String, Parameter)>,
}

/// A validated batch: its scenarios loaded (grids expanded) and its Monte Carlo settings
/// checked. Run it with [`crate::BatchJob`]; README "Batch files" documents every field.
#[derive(Debug)]
pub struct Batch {
    /// The batch's name.
    pub name: String,
    /// The batch file.
    pub path: PathBuf,
    /// The scenarios, in the file's order: the listed files, then each variation's grid points.
    pub scenarios: Vec<Scenario>,
    /// Economy codes the comparison table ranks the options for (empty: the first five).
    pub focus: Vec<String>,
    /// Monte Carlo draws per scenario, numbered from 1; draw 0 is the central run.
    pub draws: u32,
    /// The seed every draw's random stream (ChaCha8) derives from.
    pub seed: u64,
    /// Draw d takes the same parameter values in every scenario (common random numbers).
    pub common_random_numbers: bool,
    /// The independently drawn parameters and their distributions.
    pub uncertainty: Vec<(Parameter, Distribution)>,
    /// Mean, covariance and targets of the estimate draws.
    pub estimate: Option<EstimateDraws>,
    /// Every file and directory the batch reads: the batch file, each scenario's inputs
    /// ([`Scenario::inputs`]) and the estimate file of `from_estimate`.
    pub inputs: Vec<PathBuf>,
    /// The SHA-256 of each input file when the batch was loaded (a baseline directory's CSV
    /// files for the directory; [`super::inputs`]): a batch's outputs record them, and `merge`
    /// refuses shards whose digests differ.
    pub input_digests: Vec<InputFile>,
    /// What loading the batch itself accepted but doubts (its scenarios' warnings apart).
    pub notes: Vec<String>,
}

/// The multivariate normal an estimate's coefficients are drawn from, in the order of
/// `targets`, as estimated (a θ target takes minus the drawn coefficient).
#[derive(Debug, Clone)]
pub struct EstimateDraws {
    /// The point estimates.
    pub mean: Vec<f64>,
    /// Their covariance matrix (row-major rows; diagonal of squared standard errors when the
    /// file has no `vcov`).
    pub covariance: Vec<Vec<f64>>,
    /// The parameter each coefficient sets.
    pub targets: Vec<Parameter>,
}

/// Parse a batch file's text.
pub fn parse(path: &Path, text: &str) -> Result<RawBatch> {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    options
        .from_str::<RawBatch>(text)
        .map_err(|e| super::ron_error(path, text, &e, "Batch"))
}

/// Load and validate a batch file and every scenario it names.
pub fn load(path: &Path) -> Result<Batch> {
    let text = super::read_text(path)?;
    let src = Arc::new(Source {
        path: path.to_path_buf(),
        text,
    });
    let raw = parse(path, &src.text)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut scenarios = Vec::new();
    // Where each scenario comes from: item `k` of the `scenarios` list (`Err(k)`) or the
    // variation `v` (`Ok(v)`).
    let mut origins: Vec<std::result::Result<usize, usize>> = Vec::new();
    let mut errors = Vec::new();
    for (k, p) in raw.scenarios.iter().enumerate() {
        match load_scenario(&dir.join(p)) {
            Ok(s) => {
                scenarios.push(s);
                origins.push(Err(k));
            }
            Err(Error::Io { path: missing, .. }) if !dir.join(p).exists() => {
                errors.push(src.error(
                    None,
                    &format!("\"{p}\""),
                    format!(
                        "scenario file {} does not exist; paths are relative to the batch file",
                        missing.display()
                    ),
                ))
            }
            Err(e) => errors.push(e),
        }
    }
    // The agreements whose depth the batch draws (a grid's PhaseIn phases that depth in too).
    let drawn: Vec<&str> = raw
        .uncertainty
        .iter()
        .map(|u| &u.parameter)
        .chain(
            raw.from_estimate
                .iter()
                .flat_map(|e| e.coefficients.iter().map(|(_, p)| p)),
        )
        .filter_map(|p| match p {
            Parameter::Depth(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    for (vi, v) in raw.variations.iter().enumerate() {
        if v.grid.is_empty() {
            errors.push(src.error(
                None,
                &format!("\"{}\"", v.base),
                "a variation needs at least one grid axis",
            ));
            continue;
        }
        match load_scenario(&dir.join(&v.base)) {
            Ok(base) => match expand(&base, v, &drawn) {
                Ok(mut list) => {
                    origins.extend(list.iter().map(|_| Ok(vi)));
                    scenarios.append(&mut list);
                }
                Err(e) => errors.push(src.error_in_grid(vi, e.axis, e.field, e.message)),
            },
            Err(e) => errors.push(e),
        }
    }
    if scenarios.is_empty() && errors.is_empty() {
        errors.push(src.error(
            None,
            "Batch",
            "the batch lists no scenarios; add `scenarios: [\"file.ron\", ...]` or `variations`",
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    for (s, from) in scenarios.iter().zip(&origins) {
        if !names.insert(s.name.clone()) {
            let message = format!("two scenarios are named `{}`; scenario names identify the rows of the outputs, so make them unique", s.name);
            errors.push(match from {
                // A grid point: at that variation's grid (a value listed twice, or a `name`
                // another variation or a listed scenario has).
                Ok(vi) => src.nth_field_error(
                    "grid",
                    *vi,
                    message + " (a grid value listed twice, or give the variation its own `name`)",
                ),
                // A listed file: at its place in the list (a file listed twice, or two files
                // with one `name`).
                Err(k) => src.error_at(src.list_field_item("scenarios", *k), message),
            });
        }
    }
    for f in &raw.focus {
        if let Some(s) = scenarios
            .iter()
            .find(|s| s.baseline.economy_index(f).is_none())
        {
            let codes: Vec<&str> = s
                .baseline
                .economies
                .iter()
                .map(|e| e.code.as_str())
                .collect();
            errors.push(src.error(
                Some("focus"),
                &format!("\"{f}\""),
                format!(
                    "focus economy `{f}` is not in every scenario's baseline (not in that of scenario `{}`); {}",
                    s.name,
                    crate::error::suggestion(f, &codes, "economies")
                ),
            ));
        }
    }
    let mut uncertainty: Vec<(Parameter, Distribution)> = Vec::new();
    for (k, u) in raw.uncertainty.iter().enumerate() {
        // The place of this entry: its `parameter:` field (the k-th after `uncertainty:`).
        let entry = src
            .list_field_offset("uncertainty")
            .and_then(|o| src.list_item_offset(o, k));
        let name = distribution_name(&u.distribution);
        let dist = entry.and_then(|o| src.text[o..].find(name).map(|p| p + o));
        if let Some(first) = uncertainty.iter().position(|(p, _)| *p == u.parameter) {
            errors.push(src.error_at(entry, format!("{} is drawn twice in `uncertainty` (entries {} and {}); each draw would take only the later one{}. Keep one distribution per parameter", param_label(&u.parameter), first + 1, k + 1, if u.parameter == Parameter::ThetaScale { " (for ThetaScale, their product)" } else { "" })));
        } else if let Err(msg) = check_parameter(&u.parameter, &scenarios) {
            errors.push(src.error(Some("uncertainty"), param_needle(&u.parameter), msg));
        } else if let Err(msg) = check_distribution(&u.distribution)
            .and_then(|()| check_centre(&u.parameter, &u.distribution))
        {
            errors.push(match dist {
                Some(_) => src.error_at(dist, msg),
                None => src.error(Some("uncertainty"), name, msg),
            });
        }
        uncertainty.push((u.parameter.clone(), u.distribution));
    }
    let mut inputs = vec![path.to_path_buf()];
    inputs.extend(scenarios.iter().flat_map(|s| s.inputs.iter().cloned()));
    let estimate = match &raw.from_estimate {
        None => None,
        Some(e) => {
            let file = dir.join(&e.file);
            inputs.push(file.clone());
            match read_estimate(&file, &e.coefficients) {
                Ok(d) => {
                    for t in &d.targets {
                        if let Err(msg) = check_parameter(t, &scenarios) {
                            errors.push(src.error(Some("from_estimate"), param_needle(t), msg));
                        }
                    }
                    Some(d)
                }
                Err(msg) => {
                    errors.push(src.error(Some("from_estimate"), "file", msg));
                    None
                }
            }
        }
    };
    // A depth the draws give an agreement that a scenario has without one: the central run
    // (draw 0, the scenario as written) has none, so it is not the draws' centre.
    let mut notes = Vec::new();
    let drawn_depths = uncertainty
        .iter()
        .map(|(p, d)| (p, d.centre(), "uncertainty"))
        .chain(estimate.iter().flat_map(|e| {
            e.targets
                .iter()
                .zip(&e.mean)
                .map(|(p, m)| (p, *m, "from_estimate"))
        }));
    for (p, centre, field) in drawn_depths {
        let Parameter::Depth(name) = p else { continue };
        let without: Vec<&str> = scenarios
            .iter()
            .filter(|s| {
                s.agreements
                    .iter()
                    .any(|a| &a.name == name && a.depth.is_none())
            })
            .map(|s| s.name.as_str())
            .collect();
        if without.is_empty() {
            continue;
        }
        notes.push(src.warning(
            Some(field),
            &format!("Depth(\"{name}\")"),
            format!(
                "`{name}` has no depth in scenario {}: the draws give it one, centred on β {centre:.4}, but the central run (draw 0, each scenario as written) has none, so summary.csv's `central` is the run without depth, not the draws' centre. To centre it, give `{name}` that depth in the scenario (`depth: {{\"{name}\": Given(beta: …)}}` or `FromEstimate(…)`), or read `median`",
                without.join(", ")
            ),
        ));
    }
    if raw.draws > 0 && uncertainty.is_empty() && raw.from_estimate.is_none() {
        errors.push(src.error(Some("draws"), "draws", "draws > 0 but no `uncertainty` or `from_estimate` is given: every draw would equal the central run"));
    }
    if let Some(why) = too_many_units(raw.draws, scenarios.len()) {
        errors.push(src.error(Some("draws"), "draws", why));
    }
    let input_digests = if errors.is_empty() {
        hash_inputs(&inputs)?
    } else {
        Vec::new()
    };
    match errors.len() {
        0 => Ok(Batch {
            name: raw.name,
            path: path.to_path_buf(),
            scenarios,
            focus: raw.focus,
            draws: raw.draws,
            seed: raw.seed,
            common_random_numbers: raw.common_random_numbers,
            uncertainty,
            estimate,
            inputs,
            input_digests,
            notes,
        }),
        1 => Err(errors.pop().expect("one error")),
        _ => Err(Error::Many(errors)),
    }
}

/// The most runs (scenario × draw, the central runs included) one batch holds: its list of
/// units, and a shard's or merge's, is made before any solve, and each run solves a whole
/// path, so a count beyond this is a typo (or days of a cluster's time in one job).
pub(crate) const MAX_UNITS: u64 = 10_000_000;

/// Why `draws` draws of `scenarios` scenarios are more runs than one batch holds, if they are.
fn too_many_units(draws: u32, scenarios: usize) -> Option<String> {
    let units = (u64::from(draws) + 1) * scenarios.max(1) as u64;
    (units > MAX_UNITS).then(|| {
        format!(
            "draws = {draws} for {scenarios} scenario(s) is {units} runs (scenario × draw, with each central run), more than the {MAX_UNITS} one batch holds; use fewer draws (at most {} here), or split the scenarios over several batches",
            MAX_UNITS / scenarios.max(1) as u64 - 1
        )
    })
}

impl Batch {
    /// The batch with `draws` Monte Carlo draws per scenario instead of its file's count (a
    /// quick run with few draws, or more): draws are numbered from 1, and draw d is the same
    /// whatever the count, so the first draws of a long run equal those of a short one.
    pub(crate) fn with_draws(mut self, draws: u32) -> Result<Batch> {
        if draws > 0 && self.uncertainty.is_empty() && self.estimate.is_none() {
            return Err(Error::invalid(
                self.path.display().to_string(),
                format!("draws = {draws} asked for, but the batch gives no `uncertainty` or `from_estimate`: every draw would equal the central run; add an uncertain parameter or use draws = 0"),
            ));
        }
        if let Some(why) = too_many_units(draws, self.scenarios.len()) {
            return Err(Error::invalid(self.path.display().to_string(), why));
        }
        self.draws = draws;
        Ok(self)
    }

    /// The batch's warnings, then its scenarios', each once.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for w in self
            .notes
            .iter()
            .chain(self.scenarios.iter().flat_map(|s| &s.warnings))
        {
            if !out.contains(w) {
                out.push(w.clone());
            }
        }
        out
    }
}

fn param_needle(p: &Parameter) -> &str {
    match p {
        Parameter::Theta(_) | Parameter::ThetaScale => "Theta",
        Parameter::FdiEta => "FdiEta",
        Parameter::Depth(_) => "Depth",
    }
}

fn check_parameter(p: &Parameter, scenarios: &[Scenario]) -> std::result::Result<(), String> {
    match p {
        Parameter::Theta(code) => {
            if scenarios
                .iter()
                .all(|s| s.baseline.sector_index(code).is_some())
            {
                Ok(())
            } else {
                // The sectors every scenario's baseline has, in the first one's order.
                let first = scenarios
                    .first()
                    .map_or(&[][..], |s| &s.baseline.sectors[..]);
                let common: Vec<&str> = first
                    .iter()
                    .map(|x| x.code.as_str())
                    .filter(|c| {
                        scenarios
                            .iter()
                            .all(|s| s.baseline.sector_index(c).is_some())
                    })
                    .collect();
                Err(format!(
                    "Theta(\"{code}\"): `{code}` is not a sector of every scenario's baseline; {}",
                    crate::error::suggestion(code, &common, "sectors of every baseline")
                ))
            }
        }
        Parameter::ThetaScale => Ok(()),
        Parameter::FdiEta => {
            if scenarios.iter().any(|s| s.investment.is_some()) {
                Ok(())
            } else {
                Err("FdiEta: no scenario of the batch has an investment block".into())
            }
        }
        Parameter::Depth(name) => {
            if scenarios
                .iter()
                .any(|s| s.agreements.iter().any(|a| &a.name == name))
            {
                Ok(())
            } else {
                let mut names: Vec<&str> = scenarios
                    .iter()
                    .flat_map(|s| s.agreements.iter().map(|a| a.name.as_str()))
                    .collect();
                names.sort_unstable();
                names.dedup();
                Err(format!(
                    "Depth(\"{name}\"): no scenario of the batch has an agreement named `{name}`; {}",
                    crate::error::suggestion(name, &names, "agreements")
                ))
            }
        }
    }
}

/// The first parameter of `d` out of its range, as a message naming it, its value and the
/// range (`Err`), or `Ok` when every parameter is usable.
fn check_distribution(d: &Distribution) -> std::result::Result<(), String> {
    let finite = |name: &str, v: f64| {
        if v.is_finite() {
            Ok(())
        } else {
            Err(format!("{name} = {v} is not a finite number"))
        }
    };
    let spread = |name: &str, v: f64, what: &str| {
        finite(name, v)?;
        if v >= 0.0 {
            Ok(())
        } else {
            Err(format!(
                "{name} = {v} is negative; {what} is at least 0 (e.g. {name}: {})",
                -v
            ))
        }
    };
    let problem = || match *d {
        Distribution::Normal { mean, sd } => {
            finite("mean", mean)?;
            spread("sd", sd, "the standard deviation")
        }
        Distribution::LogNormal { mu, sigma } => {
            finite("mu", mu)?;
            spread("sigma", sigma, "the standard deviation of the logarithm")
        }
        Distribution::Uniform { min, max } => {
            finite("min", min)?;
            finite("max", max)?;
            if min > max {
                return Err(format!("min = {min} is above max = {max}; write min ≤ max"));
            }
            Ok(())
        }
        Distribution::Triangular { min, mode, max } => {
            finite("min", min)?;
            finite("mode", mode)?;
            finite("max", max)?;
            if !(min <= mode && mode <= max && min < max) {
                return Err(format!(
                    "min = {min}, mode = {mode}, max = {max}; a triangular distribution needs min ≤ mode ≤ max and min < max"
                ));
            }
            Ok(())
        }
    };
    problem().map_err(|why| format!("{}: {why}", distribution_name(d)))
}

/// Why the centre of `d` ([`Distribution::centre`]) is not a value `p` can take, if it is not:
/// most draws would then fail (a LogNormal's `mu` written as θ itself, not its log; a depth β
/// in percent).
fn check_centre(p: &Parameter, d: &Distribution) -> std::result::Result<(), String> {
    let centre = d.centre();
    let why = match p {
        Parameter::Theta(_) => crate::data::check_theta(centre),
        Parameter::Depth(_) => crate::policy::check_depth_beta(centre),
        Parameter::ThetaScale | Parameter::FdiEta => Ok(()),
    };
    why.map_err(|why| {
        let hint = match (p, d) {
            (Parameter::Theta(_), Distribution::LogNormal { mu, .. })
                if crate::data::check_theta(*mu).is_ok() =>
            {
                format!(" `mu` is the log of θ: for a median θ of {mu}, write mu: {:.4}.", mu.ln())
            }
            _ => String::new(),
        };
        format!("{}: the draws' centre ({}) is not a value {} can take: {why}.{hint} Most draws would fail; centre the distribution in the range", distribution_name(d), centre_name(d), param_label(p))
    })
}

/// How [`Distribution::centre`] is taken, for messages.
fn centre_name(d: &Distribution) -> String {
    let c = d.centre();
    match d {
        Distribution::Normal { .. } => format!("mean {c}"),
        Distribution::LogNormal { mu, .. } => format!("median exp(mu) = exp({mu}) = {c:.4}"),
        Distribution::Uniform { .. } => format!("midpoint {c}"),
        Distribution::Triangular { .. } => format!("mode {c}"),
    }
}

/// A parameter as written in a batch file (`Theta("MAN")`).
fn param_label(p: &Parameter) -> String {
    match p {
        Parameter::Theta(c) => format!("Theta(\"{c}\")"),
        Parameter::ThetaScale => "ThetaScale".into(),
        Parameter::FdiEta => "FdiEta".into(),
        Parameter::Depth(a) => format!("Depth(\"{a}\")"),
    }
}

/// The RON name of a distribution (where its errors point).
fn distribution_name(d: &Distribution) -> &'static str {
    match d {
        Distribution::Normal { .. } => "Normal",
        Distribution::LogNormal { .. } => "LogNormal",
        Distribution::Uniform { .. } => "Uniform",
        Distribution::Triangular { .. } => "Triangular",
    }
}

/// Read coefficients and their covariance from an estimate's JSON file.
fn read_estimate(
    file: &Path,
    coefs: &[(String, Parameter)],
) -> std::result::Result<EstimateDraws, String> {
    let text = super::read_text(file).map_err(|e| format!("cannot read the estimate: {e}"))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", file.display()))?;
    let shown = file.display().to_string();
    let v = super::estimate_model(&v, &shown)?;
    let c = v.get("coefficients").ok_or_else(|| {
        format!("{shown} has no `coefficients` object; write it with `tradesim estimate --json`")
    })?;
    let mut mean = Vec::new();
    let mut sd = Vec::new();
    for (name, _) in coefs {
        let e = c
            .get(name)
            .ok_or_else(|| super::missing_coefficient(v, &shown, name))?;
        mean.push(
            e.get("estimate")
                .and_then(|x| x.as_f64())
                .ok_or_else(|| format!("`{name}` has no estimate"))?,
        );
        sd.push(
            e.get("std_error")
                .and_then(|x| x.as_f64())
                .ok_or_else(|| format!("`{name}` has no std_error"))?,
        );
    }
    let show = file.display();
    for (a, (name, _)) in coefs.iter().enumerate() {
        if !(mean[a].is_finite() && sd[a].is_finite() && sd[a] >= 0.0) {
            return Err(format!("coefficient `{name}` in {show} has estimate {} and std_error {}; both must be finite and the standard error ≥ 0", mean[a], sd[a]));
        }
    }
    let k = coefs.len();
    let mut cov = vec![vec![0.0; k]; k];
    for a in 0..k {
        cov[a][a] = sd[a] * sd[a];
    }
    // The full covariance matrix of `tradesim estimate --json`: `vcov` (rows and columns in
    // the order of `coefficient_names`).
    if let Some(m) = v.get("vcov") {
        let names: Vec<&str> = v
            .get("coefficient_names")
            .and_then(|n| n.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        let full = vcov_matrix(m, &names).map_err(|e| {
            format!("{show}: {e}; write the file with `tradesim estimate --json`, or remove `vcov` to draw each coefficient independently from its std_error")
        })?;
        let mut idx = Vec::new();
        for (name, _) in coefs {
            idx.push(names.iter().position(|x| x == name).ok_or_else(|| {
                format!("{show}: coefficient `{name}` is not among `coefficient_names`, so its row of `vcov` is unknown")
            })?);
        }
        for a in 0..k {
            for b in 0..k {
                cov[a][b] = full[idx[a]][idx[b]];
            }
        }
        let sub = nalgebra::DMatrix::from_fn(k, k, |a, b| cov[a][b]);
        let eig = nalgebra::SymmetricEigen::new(sub).eigenvalues;
        let scale = eig.iter().fold(0.0f64, |m, e| m.max(e.abs()));
        let smallest = eig.iter().copied().fold(f64::INFINITY, f64::min);
        if k > 0 && smallest < -1e-10 * scale.max(f64::MIN_POSITIVE) {
            return Err(format!(
                "{show}: the covariance matrix of {} is not positive semi-definite (smallest eigenvalue {smallest:.3e}), so it implies a negative variance for some combination of them and cannot be drawn from; re-estimate, or remove `vcov` to draw each coefficient independently from its std_error",
                coefs.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Ok(EstimateDraws {
        mean,
        covariance: cov,
        targets: coefs.iter().map(|(_, p)| p.clone()).collect(),
    })
}

/// The `vcov` of an estimate file as a square symmetric matrix of finite numbers, one row and
/// column per entry of `coefficient_names`, or what is wrong with it.
fn vcov_matrix(
    m: &serde_json::Value,
    names: &[&str],
) -> std::result::Result<Vec<Vec<f64>>, String> {
    let rows = m.as_array().ok_or("`vcov` is not an array of rows")?;
    if names.is_empty() {
        return Err(
            "the file has `vcov` but no `coefficient_names` saying which row is which coefficient"
                .into(),
        );
    }
    let p = names.len();
    let mut out = Vec::with_capacity(p);
    for (r, row) in rows.iter().enumerate() {
        let row = row
            .as_array()
            .ok_or_else(|| format!("row {r} of `vcov` is not an array"))?;
        if row.len() != p {
            return Err(format!("`vcov` row {r} has {} entries but there are {p} coefficient_names; the matrix must be {p}×{p}", row.len()));
        }
        out.push(
            row.iter()
                .enumerate()
                .map(|(c, x)| {
                    x.as_f64()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| format!("vcov[{r}][{c}] is not a finite number"))
                })
                .collect::<std::result::Result<Vec<f64>, String>>()?,
        );
    }
    if out.len() != p {
        return Err(format!(
            "`vcov` has {} rows but there are {p} coefficient_names; the matrix must be {p}×{p}",
            out.len()
        ));
    }
    for a in 0..p {
        if out[a][a] < 0.0 {
            return Err(format!(
                "the variance of `{}` (vcov[{a}][{a}]) is {}, negative",
                names[a], out[a][a]
            ));
        }
        for b in 0..a {
            let tol = 1e-9 * out[a][a].abs().max(out[b][b].abs()).max(f64::MIN_POSITIVE);
            if (out[a][b] - out[b][a]).abs() > tol {
                return Err(format!(
                    "`vcov` is not symmetric: vcov[{a}][{b}] = {} but vcov[{b}][{a}] = {} (`{}`, `{}`); a covariance matrix is symmetric",
                    out[a][b], out[b][a], names[a], names[b]
                ));
            }
        }
    }
    Ok(out)
}

/// The index of the agreement of a grid's base scenario with this name.
fn agreement_index(s: &Scenario, name: &str) -> std::result::Result<usize, String> {
    s.agreements
        .iter()
        .position(|x| x.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = s.agreements.iter().map(|a| a.name.as_str()).collect();
            format!(
                "the base scenario has no agreement `{name}`; {}",
                crate::error::suggestion(name, &names, "agreements")
            )
        })
}

/// The agreement of a grid's base scenario with this name, to change.
fn agreement_mut<'a>(
    s: &'a mut Scenario,
    name: &str,
) -> std::result::Result<&'a mut crate::policy::Agreement, String> {
    let k = agreement_index(s, name)?;
    Ok(&mut s.agreements[k])
}

/// A mistake in one axis of a variation's grid: the axis (0-based, in the grid's order), the
/// field of it to point at, and the message.
#[derive(Debug)]
struct AxisError {
    axis: usize,
    field: &'static str,
    message: String,
}

impl AxisError {
    fn new(axis: usize, field: &'static str, message: impl Into<String>) -> Self {
        AxisError {
            axis,
            field,
            message: message.into(),
        }
    }
}

/// Sets agreement `ag`'s phase-in to `years` years ([`GridAxis::PhaseIn`]): every schedule with
/// a length ([`Schedule::with_phase_in`]: `Linear` and `Staged`) spread over `years` years,
/// and its depth phase-in set to `years` (linear over them: a phase-in shape is replaced), or,
/// without a depth, the phase-in of one a draw gives it later (`depth_phase_in`).
fn set_phase_in(ag: &mut crate::policy::Agreement, years: u32) {
    ag.depth_phase_in = Some(years);
    let set = |sch: &mut Schedule| {
        if let Some(new) = sch.with_phase_in(years) {
            *sch = new;
        }
    };
    set(&mut ag.schedule);
    ag.rules.iter_mut().for_each(|r| set(&mut r.schedule));
    ag.groups.iter_mut().for_each(|g| set(&mut g.schedule));
    if let Some(d) = &mut ag.depth {
        d.phase_in_years = years;
        d.profile.clear();
    }
}

/// Whether [`set_phase_in`] changes anything of `ag` but `depth_phase_in`: a schedule with a
/// length, or a depth.
fn has_phase_in(ag: &crate::policy::Agreement) -> bool {
    std::iter::once(&ag.schedule)
        .chain(ag.rules.iter().map(|r| &r.schedule))
        .chain(ag.groups.iter().map(|g| &g.schedule))
        .any(|sch| sch.with_phase_in(1).is_some())
        || ag.depth.is_some()
}

/// Expand a variation grid into scenarios, one per point of the axes' Cartesian product, in
/// the order of the points (the last axis varying fastest).
///
/// A point's axes are applied `Depth` and `Theta` first and `PhaseIn` last, whatever their
/// order in the grid, so that a depth the grid gives an agreement without one is phased in
/// over the grid's years, not over the default 10; so is a depth the batch draws for it
/// (`drawn`: the agreements whose depth the batch draws).
fn expand(
    base: &Scenario,
    v: &RawVariation,
    drawn: &[&str],
) -> std::result::Result<Vec<Scenario>, AxisError> {
    let mut points: Vec<Vec<(usize, usize)>> = vec![Vec::new()];
    for (a, axis) in v.grid.iter().enumerate() {
        let (n, field) = match axis {
            GridAxis::PhaseIn { years, .. } => (years.len(), "years"),
            GridAxis::Theta { values, .. } => (values.len(), "values"),
            GridAxis::Depth { beta, .. } => (beta.len(), "beta"),
            GridAxis::Accession { years, .. } => (years.len(), "years"),
        };
        if n == 0 {
            return Err(AxisError::new(
                a,
                field,
                format!("this grid axis has no values; list at least one in `{field}: [...]`"),
            ));
        }
        points = points
            .into_iter()
            .flat_map(|p| (0..n).map(move |k| [p.clone(), vec![(a, k)]].concat()))
            .collect();
    }
    // A PhaseIn axis must change something: the agreement has a schedule with a length, a
    // depth, a Depth axis in this grid that gives it one, or a depth the batch draws.
    for (a, axis) in v.grid.iter().enumerate() {
        let GridAxis::PhaseIn { agreement, years } = axis else {
            continue;
        };
        if let Some(&y) = years.iter().find(|&&y| y == 0) {
            return Err(AxisError::new(
                a,
                "years",
                format!("a phase-in of {y} years: each length must be at least 1 (1: every cut in the first year)"),
            ));
        }
        let k = agreement_index(base, agreement).map_err(|m| AxisError::new(a, "agreement", m))?;
        let ag = &base.agreements[k];
        let deepened = drawn.contains(&agreement.as_str())
            || v.grid.iter().any(
                |g| matches!(g, GridAxis::Depth { agreement: other, .. } if other == agreement),
            );
        if !has_phase_in(ag) && !deepened {
            return Err(AxisError::new(
                a,
                "agreement",
                format!(
                    "`{agreement}` has nothing a phase-in length applies to: its schedules are \
                     immediate, excluded, quotas, tariff sets, recorded `Path` rates or steps all \
                     in one year, and it has no depth, given or drawn; the scenarios would all be \
                     the same. Vary an agreement with a `Linear` or `Staged` schedule, or add a \
                     `Depth` axis"
                ),
            ));
        }
    }
    let mut out = Vec::new();
    for p in points {
        let mut s = base.clone();
        let mut labels = vec![String::new(); v.grid.len()];
        let phase_in_last = p
            .iter()
            .filter(|(a, _)| !matches!(v.grid[*a], GridAxis::PhaseIn { .. }))
            .chain(
                p.iter()
                    .filter(|(a, _)| matches!(v.grid[*a], GridAxis::PhaseIn { .. })),
            );
        for &(a, k) in phase_in_last {
            labels[a] = match &v.grid[a] {
                GridAxis::PhaseIn { agreement, years } => {
                    let y = years[k];
                    let ag = agreement_mut(&mut s, agreement)
                        .map_err(|m| AxisError::new(a, "agreement", m))?;
                    set_phase_in(ag, y);
                    format!("{agreement} phase-in {y}y")
                }
                GridAxis::Theta { sector, values } => {
                    let j = s.baseline.sector_index(sector).ok_or_else(|| {
                        let codes: Vec<&str> =
                            s.baseline.sectors.iter().map(|x| x.code.as_str()).collect();
                        AxisError::new(
                            a,
                            "sector",
                            format!(
                                "the base scenario's baseline has no sector `{sector}`; {}",
                                crate::error::suggestion(sector, &codes, "sectors")
                            ),
                        )
                    })?;
                    let t = values[k];
                    crate::data::check_theta(t).map_err(|m| AxisError::new(a, "values", m))?;
                    s.theta[j] = t;
                    format!("θ {sector}={t}")
                }
                GridAxis::Depth { agreement, beta } => {
                    let b = beta[k];
                    crate::policy::check_depth_beta(b).map_err(|m| AxisError::new(a, "beta", m))?;
                    let ag = agreement_mut(&mut s, agreement)
                        .map_err(|m| AxisError::new(a, "agreement", m))?;
                    ag.set_depth_beta(b);
                    format!("{agreement} depth β={b}")
                }
                GridAxis::Accession {
                    agreement,
                    economy,
                    years,
                } => {
                    let y = years[k];
                    super::check_year(y).map_err(|m| AxisError::new(a, "years", m))?;
                    let e = s.baseline.economy_index(economy).ok_or_else(|| {
                        let codes: Vec<&str> = s
                            .baseline
                            .economies
                            .iter()
                            .map(|x| x.code.as_str())
                            .collect();
                        AxisError::new(
                            a,
                            "economy",
                            format!(
                                "the base scenario's baseline has no economy `{economy}`; {}",
                                crate::error::suggestion(economy, &codes, "economies")
                            ),
                        )
                    })?;
                    let ag = agreement_mut(&mut s, agreement)
                        .map_err(|m| AxisError::new(a, "agreement", m))?;
                    ag.accede(e, economy, y)
                        .map_err(|m| AxisError::new(a, "years", m))?;
                    format!("{economy} joins {agreement} {y}")
                }
            };
        }
        s.name = format!(
            "{} [{}]",
            v.name.clone().unwrap_or_else(|| base.name.clone()),
            labels.join(", ")
        );
        out.push(s);
    }
    Ok(out)
}
