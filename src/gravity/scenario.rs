//! The `StructuralGravity(...)` scenario file (RON): raw serde types, then a checked
//! [`GravityScenario`]. Every field is documented in `docs/gravity.md`.

use crate::error::{Error, Result};
use crate::model::solver::Settings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file as written. Only these raw types derive serde.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename = "StructuralGravity", deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: String,
    /// CSV file, relative to the scenario file's directory.
    pub data: PathBuf,
    #[serde(default)]
    pub columns: Columns,
    pub year: i64,
    /// The elasticity of substitution σ; give it or `theta` (θ = σ − 1), not both.
    #[serde(default, deserialize_with = "plain_option")]
    pub sigma: Option<f64>,
    /// The trade elasticity θ = σ − 1 (`ge_gravity`'s `theta()`).
    #[serde(default, deserialize_with = "plain_option")]
    pub theta: Option<f64>,
    pub reference: String,
    pub costs: Costs,
    pub counterfactual: Vec<Change>,
    #[serde(default)]
    pub procedure: Procedure,
    #[serde(default)]
    pub orientation: Orientation,
    /// How trade imbalances move; default `Additive` with `costs: Observed`, `Multiplicative`
    /// otherwise.
    #[serde(default, deserialize_with = "plain_option")]
    pub imbalances: Option<Imbalances>,
    #[serde(default)]
    pub solver: RawSolver,
}

/// A field written as a plain value (`theta: 4`) that may be left out: `None` when absent.
fn plain_option<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// How trade imbalances enter the full-endowment counterfactual (`docs/gravity.md`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum Imbalances {
    /// `E'_j = Y'_j + D_j`, the deficit fixed in money (GE_gravity's default).
    Additive,
    /// `E'_j = (E_j/Y_j) Y'_j` (GE_gravity's `multiplicative`; Anderson & Yotov 2016).
    Multiplicative,
}

/// Column names of the data file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Columns {
    /// The exporter's code (`i`); default `exporter`.
    pub exporter: String,
    /// The importer's code (`j`); default `importer`.
    pub importer: String,
    /// The year of the flow; default `year`.
    pub year: String,
    /// The flow `X_ij` (domestic sales on the rows with exporter = importer); default `trade`.
    pub trade: String,
    /// Exporter output `Y_i`, repeated on each of its rows; `None`: the row sum of trade.
    pub output: Option<String>,
    /// Importer expenditure `E_j`; `None`: the column sum of trade.
    pub expenditure: Option<String>,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            exporter: "exporter".into(),
            importer: "importer".into(),
            year: "year".into(),
            trade: "trade".into(),
            output: None,
            expenditure: None,
        }
    }
}

/// Where the trade costs `t_ij^{1−σ}` come from.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Costs {
    /// `t_ij^{1−σ} = exp(constant + Σ_k β_k z_ijk)`; keys are covariates: a column name or
    /// `ln(column)`.
    Coefficients {
        /// `β_k` by covariate: a column name, or `ln(column)` / `log(column)`.
        coefficients: BTreeMap<String, f64>,
        /// The constant (default 0; it cancels out of every result but the resistances'
        /// levels).
        #[serde(default)]
        constant: f64,
    },
    /// The Guide's two-stage estimate (MODEL.md §2 steps 1–2): PPML on `years` with
    /// exporter-year, importer-year and symmetric pair effects (`pair` column; domestic
    /// pairs share one omitted effect) and the `policy` covariates; pairs without trade in
    /// every year get their pair effect from a PPML of the baseline year's `exp(γ)` on
    /// `fill` covariates with exporter and importer effects.
    Estimate {
        /// The years of the first-stage panel (the Guide: 1986, 1990, …, 2006).
        years: Vec<i64>,
        /// The symmetric pair-id column of the pair effect (the Guide's `pair_id`).
        pair: String,
        /// The policy covariates estimated with the fixed effects (e.g. `rta`); a
        /// counterfactual may change only these.
        policy: Vec<String>,
        /// Covariates of the second stage that fills the pairs never trading in `years`
        /// (e.g. `ln(dist)`, `cntg`, `lang`, `clny`).
        fill: Vec<String>,
    },
    /// The baseline is the data itself: the observed flows of `year` (domestic sales
    /// included), no trade costs needed. The counterfactual is solved by exact hat algebra on
    /// them (`ge_gravity`, gegravity); changes are partial effects (`PartialEffect`,
    /// `CovariateChange`) or tariff changes with an elasticity.
    Observed,
}

/// Which directed pairs a change applies to (never domestic pairs).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub enum Pairs {
    /// Every international pair.
    All,
    /// Every directed pair of distinct economies in the list.
    Among(Vec<String>),
    /// Both directions between each economy of the first list and each of the second.
    Between(Vec<String>, Vec<String>),
    /// Exactly these (exporter, importer) pairs.
    Directed(Vec<(String, String)>),
}

/// One counterfactual change of trade costs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
// The variant names are the scenario file's words (`ChangeTariff(...)`, `CovariateChange(...)`).
#[allow(clippy::enum_variant_names)]
pub enum Change {
    /// Set a cost covariate to `value` for `pairs`; costs move by `exp(β (value − z))`.
    SetCovariate {
        /// The covariate's column (a key of the cost coefficients, alone or in `ln(·)`).
        column: String,
        /// The directed pairs whose covariate is set.
        pairs: Pairs,
        /// The covariate's new value.
        value: f64,
    },
    /// Set a border dummy (default column `international`) to 0 for `pairs` (default `All`).
    RemoveBorder {
        /// The border dummy's column (default `international`).
        #[serde(default = "default_border")]
        column: String,
        /// The pairs whose border is removed (default `All`).
        #[serde(default = "default_all")]
        pairs: Pairs,
    },
    /// Set the ad valorem tariff (`column`, 0.05 = 5%) of `pairs` to `rate`; costs move by
    /// `((1 + rate)/(1 + τ))^{elasticity}`, elasticity `1 − σ` unless given.
    ChangeTariff {
        /// The column of the ad valorem tariff `τ_ij` (0.05 = 5%).
        column: String,
        /// The directed pairs whose tariff changes.
        pairs: Pairs,
        /// The new ad valorem rate (0.05 = 5%).
        rate: f64,
        /// The elasticity `ε` of `t_ij^{1−σ}` to `1 + τ`; `None`: `1 − σ` (tariffs part of
        /// `t_ij`, flows valued tariff-inclusive).
        #[serde(default)]
        elasticity: Option<f64>,
    },
    /// Multiply `t_ij^{1−σ}` by `exp(effect)` on `pairs`: a given partial effect (`ge_gravity`'s
    /// `beta` on those pairs).
    PartialEffect {
        /// The directed pairs the effect applies to.
        pairs: Pairs,
        /// The log change `β` of `t_ij^{1−σ}` (a PPML coefficient).
        effect: f64,
    },
    /// Multiply `t_ij^{1−σ}` by `exp(coefficient · (z_ij(to_year) − z_ij(from_year)))` for every
    /// international pair, `z` the data's `column` (`from_year` defaults to the scenario's
    /// year): an estimated coefficient times the change in a column, e.g. the pairs that
    /// joined the EU between two years.
    CovariateChange {
        /// The data's column `z` (e.g. `eu_enlargement`).
        column: String,
        /// The estimated coefficient `β` of `z`.
        coefficient: f64,
        /// The year whose `z_ij` the counterfactual takes.
        to_year: i64,
        /// The year whose `z_ij` the baseline has; `None`: the scenario's year.
        #[serde(default, deserialize_with = "plain_option")]
        from_year: Option<i64>,
    },
}

fn default_border() -> String {
    "international".into()
}
fn default_all() -> Pairs {
    Pairs::All
}

/// How the counterfactual is solved.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum Procedure {
    /// The exact equilibrium: every market clears (default).
    #[default]
    Exact,
    /// The Advanced Guide's procedure, to replicate the book (MODEL.md §2 steps 3–6).
    AdvancedGuide,
}

/// Which world the reported percentage changes are relative to.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum Orientation {
    /// `(counterfactual / baseline − 1)·100`: the effect of the counterfactual change (default).
    #[default]
    CounterfactualVsBaseline,
    /// `(baseline / counterfactual − 1)·100`: the effect of what the counterfactual removes,
    /// as the Guide reports NAFTA (the world with NAFTA relative to the world without it).
    BaselineVsCounterfactual,
}

/// Solver settings as written (optional; fields left out keep [`Settings::GRAVITY`]'s
/// values). There is no `step`: the gravity solvers take full steps.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawSolver {
    #[serde(deserialize_with = "plain_option")]
    pub tolerance: Option<f64>,
    #[serde(deserialize_with = "plain_option")]
    pub max_iterations: Option<usize>,
}

/// A checked scenario: paths resolved, settings validated.
#[derive(Debug, Clone)]
pub struct GravityScenario {
    /// The scenario file (messages name it; `data` was resolved against its directory).
    pub path: PathBuf,
    /// The scenario's name, written in the `scenario` column of the tables.
    pub name: String,
    /// The bilateral CSV file, resolved against the scenario file's directory.
    pub data: PathBuf,
    /// The data's column names.
    pub columns: Columns,
    /// The baseline year (the data's rows of this year are the baseline).
    pub year: i64,
    /// The elasticity of substitution σ (given, or θ + 1), in [`SIGMA_RANGE`](crate::model::gravity::SIGMA_RANGE).
    pub sigma: f64,
    /// The economy whose price index (inward multilateral resistance) is fixed at 1: the
    /// numéraire.
    pub reference: String,
    /// Where the baseline trade costs `t_ij^{1−σ}` come from.
    pub costs: Costs,
    /// The changes of trade costs, applied in order (never empty).
    pub counterfactual: Vec<Change>,
    /// How the counterfactual is solved.
    pub procedure: Procedure,
    /// Which world the reported percentage changes are relative to.
    pub orientation: Orientation,
    /// How trade imbalances move (the file's value, or the default for its `costs`).
    pub imbalances: Imbalances,
    /// The solvers' settings (the file's `solver`, else [`Settings::GRAVITY`]).
    pub solver: Settings,
}

impl GravityScenario {
    /// The trade elasticity θ = σ − 1.
    pub fn theta(&self) -> f64 {
        self.sigma - 1.0
    }
}

/// Parses scenario text; `path` is used for messages and to resolve `data`.
pub(crate) fn parse_gravity_scenario(text: &str, path: &Path) -> Result<GravityScenario> {
    let raw: RawScenario = ron::from_str(text).map_err(|e| {
        Error::scenario(
            path,
            text,
            e.span.start.line,
            e.span.start.col,
            format!(
                "{}; see docs/gravity.md for the StructuralGravity fields",
                e.code
            ),
        )
    })?;
    let ctx = |field: &str| format!("{} (field {field})", path.display());
    let mut problems = Vec::new();
    if raw.name.trim().is_empty() {
        problems.push(Error::invalid(
            ctx("name"),
            "is empty; give the scenario a name",
        ));
    }
    let sigma = match (raw.sigma, raw.theta) {
        (Some(s), None) => s,
        (None, Some(t)) => t + 1.0,
        (Some(_), Some(_)) => {
            problems.push(Error::invalid(
                ctx("sigma"),
                "both sigma and theta are given; give one (theta = sigma - 1)",
            ));
            f64::NAN
        }
        (None, None) => {
            problems.push(Error::invalid(
                ctx("sigma"),
                "is missing; give sigma (the elasticity of substitution, e.g. 7) or theta (the trade elasticity, e.g. 4)",
            ));
            f64::NAN
        }
    };
    if !sigma.is_nan() {
        if let Err(e) = crate::model::gravity::check_sigma(sigma) {
            let field = if raw.theta.is_some() {
                "theta"
            } else {
                "sigma"
            };
            problems.push(Error::invalid(
                ctx(field),
                format!("{e} (theta = sigma - 1 must be positive)"),
            ));
        }
    }
    let observed = raw.costs == Costs::Observed;
    let imbalances = raw.imbalances.unwrap_or(if observed {
        Imbalances::Additive
    } else {
        Imbalances::Multiplicative
    });
    if observed && raw.procedure == Procedure::AdvancedGuide {
        problems.push(Error::invalid(
            ctx("procedure"),
            "the Guide's procedure re-estimates fitted costs; with costs: Observed use procedure: Exact (the default)",
        ));
    }
    let solver = match Settings::GRAVITY.with(raw.solver.tolerance, raw.solver.max_iterations, None)
    {
        Ok(s) => Some(s),
        Err(bad) => {
            for b in bad {
                problems.push(Error::invalid(
                    ctx(&format!("solver.{}", b.field)),
                    b.message,
                ));
            }
            None
        }
    };
    if raw.counterfactual.is_empty() {
        problems.push(Error::invalid(
            ctx("counterfactual"),
            "is empty; list at least one change, e.g. SetCovariate(column: \"rta\", pairs: Among([\"CAN\", \"MEX\", \"USA\"]), value: 0)",
        ));
    }
    match &raw.costs {
        Costs::Coefficients {
            coefficients,
            constant,
        } => {
            if !constant.is_finite() || coefficients.values().any(|v| !v.is_finite()) {
                problems.push(Error::invalid(ctx("costs"), "a coefficient is not finite"));
            }
        }
        Costs::Observed => {}
        Costs::Estimate { years, policy, .. } => {
            if !years.contains(&raw.year) {
                problems.push(Error::invalid(
                    ctx("costs"),
                    format!("the estimation years {years:?} do not include the baseline year {}; add it", raw.year),
                ));
            }
            if policy.is_empty() {
                problems.push(Error::invalid(
                    ctx("costs"),
                    "policy is empty; name the covariate(s) the counterfactual changes, e.g. [\"rta\"]",
                ));
            }
        }
    }
    for change in &raw.counterfactual {
        if let Change::ChangeTariff { rate, .. } = change {
            if !(rate.is_finite() && *rate > -1.0) {
                problems.push(Error::invalid(
                    ctx("counterfactual"),
                    format!("tariff rate {rate} must be above -1 (0.05 = 5%)"),
                ));
            }
        }
        match change {
            Change::PartialEffect { effect: v, .. }
            | Change::CovariateChange { coefficient: v, .. }
                if !v.is_finite() =>
            {
                problems.push(Error::invalid(
                    ctx("counterfactual"),
                    format!("the partial effect {v} is not a finite number"),
                ));
            }
            Change::SetCovariate { column, .. } | Change::RemoveBorder { column, .. }
                if observed =>
            {
                problems.push(Error::invalid(
                    ctx("counterfactual"),
                    format!("SetCovariate/RemoveBorder on \"{column}\" needs its coefficient, which costs: Observed does not have; write CovariateChange(column: \"{column}\", coefficient: β, to_year: …) or PartialEffect(pairs: …, effect: β·Δ{column})"),
                ));
            }
            _ => {}
        }
    }
    if let Some(first) = problems
        .into_iter()
        .reduce(|a, b| Error::invalid(a.to_string(), b.to_string()))
    {
        return Err(first);
    }
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(GravityScenario {
        path: path.to_path_buf(),
        name: raw.name,
        data: base.join(raw.data),
        columns: raw.columns,
        year: raw.year,
        sigma,
        reference: raw.reference,
        costs: raw.costs,
        counterfactual: raw.counterfactual,
        procedure: raw.procedure,
        orientation: raw.orientation,
        imbalances,
        solver: solver.expect("checked above"),
    })
}

/// Reads and checks a scenario file.
pub(crate) fn load_gravity_scenario(path: &Path) -> Result<GravityScenario> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_gravity_scenario(&text, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_scenario() {
        let text = r#"StructuralGravity(
            name: "cj",
            data: "d.csv",
            columns: (output: Some("Y"), expenditure: Some("E")),
            year: 2006,
            sigma: 5,
            reference: "DEU",
            costs: Coefficients(coefficients: {"lndist": -0.39, "pta": 0.47}, constant: 16.3),
            counterfactual: [
                SetCovariate(column: "pta", pairs: Between(["CAN"], ["JPN"]), value: 1),
                RemoveBorder(),
                ChangeTariff(column: "tariff", pairs: Directed([("CAN", "JPN")]), rate: 0),
            ],
            procedure: Exact,
            orientation: CounterfactualVsBaseline,
        )"#;
        let s = parse_gravity_scenario(text, Path::new("/x/s.ron")).unwrap();
        assert_eq!(s.data, PathBuf::from("/x/d.csv"));
        assert_eq!(s.sigma, 5.0);
        assert_eq!(s.columns.output.as_deref(), Some("Y"));
        assert_eq!(s.counterfactual.len(), 3);
        assert!(matches!(
            &s.counterfactual[1],
            Change::RemoveBorder { column, pairs: Pairs::All } if column == "international"
        ));
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let text = "StructuralGravity(\n name: \"x\",\n data: \"d.csv\",\n year: 2006,\n sigma: 5,\n reference: \"DEU\",\n costz: 1,\n)";
        let e = parse_gravity_scenario(text, Path::new("s.ron"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.ron:7"), "{e}");
        let text = r#"StructuralGravity(name: "x", data: "d.csv", year: 2006, sigma: 0.5, reference: "DEU",
            costs: Coefficients(coefficients: {}), counterfactual: [])"#;
        let e = parse_gravity_scenario(text, Path::new("s.ron"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("sigma") && e.contains("counterfactual"), "{e}");
        let with_solver = |solver: &str| {
            let text = format!(
                r#"StructuralGravity(name: "x", data: "d.csv", year: 2006, sigma: 5, reference: "DEU",
            costs: Coefficients(coefficients: {{}}), counterfactual: [RemoveBorder()], solver: {solver})"#
            );
            parse_gravity_scenario(&text, Path::new("s.ron"))
        };
        let s = with_solver("(max_iterations: 7)").unwrap();
        assert_eq!(
            (s.solver.tolerance(), s.solver.max_iterations()),
            (1e-12, 7)
        );
        let e = with_solver("(tolerance: 0)").unwrap_err().to_string();
        assert!(
            e.contains("(field solver.tolerance)")
                && e.contains("leave it out for the default, 1e-12"),
            "{e}"
        );
        let e = with_solver("(step: 0.5)").unwrap_err().to_string();
        assert!(e.contains("s.ron:2") && e.contains("step"), "{e}");
    }
}
