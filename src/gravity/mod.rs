//! Single-sector structural gravity scenarios (MODEL.md §2): the `StructuralGravity(...)`
//! scenario file, the data set it names, trade costs (given, estimated as in the Advanced
//! Guide, or the observed flows themselves), the solve ([`crate::model::gravity`]), and the
//! rows of `economies.csv` / `bilateral.csv`.
//!
//! Pipeline: `scenario::load_gravity_scenario` → `data::load_panel` → costs
//! (`estimate::guide_costs` or given coefficients) → [`crate::model::gravity`] →
//! [`crate::output::gravity`] (its tables, written through `output` like a multi-sector run's).
//!
//! Public: the checked scenario ([`GravityScenario`] and the types of its fields, which
//! [`RunJob::Gravity`](crate::RunJob::Gravity) holds) and the results ([`GravityOutcome`] and
//! its rows). A file is loaded and run through the façade: [`crate::run::load`] then
//! [`crate::RunJob::run`]; the loader and the run itself (`run_scenario`) are crate-internal.

pub(crate) mod data;
pub(crate) mod estimate;
pub(crate) mod run;
pub(crate) mod scenario;

pub(crate) use run::{check_data, run_scenario};
pub use run::{GravityBilateralRow, GravityEconomyRow, GravityOutcome};
pub(crate) use scenario::load_gravity_scenario;
pub use scenario::{
    Change, Columns, Costs, GravityScenario, Imbalances, Orientation, Pairs, Procedure,
};
