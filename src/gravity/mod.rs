//! Single-sector structural gravity scenarios: the `StructuralGravity(...)` scenario file, the
//! data set it names, trade costs (given or estimated as in the Advanced Guide), the solve
//! ([`crate::model::gravity`]), and the `economies.csv` / `bilateral.csv` tables.
//!
//! Pipeline: [`scenario::load_gravity_scenario`] → [`data::load_panel`] → costs
//! ([`estimate::guide_costs`] or given coefficients) → [`crate::model::gravity`] →
//! [`crate::output::gravity`] (its tables, written through `output` like a multi-sector run's). Entry point: [`run_gravity_scenario`].

pub(crate) mod data;
pub(crate) mod estimate;
pub(crate) mod run;
pub(crate) mod scenario;

pub use run::{
    run_gravity_scenario, run_scenario, GravityBilateralRow, GravityEconomyRow, GravityOutcome,
};
pub use scenario::{load_gravity_scenario, parse_gravity_scenario, GravityScenario};
