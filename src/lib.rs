//! tradesim: trade-agreement scenario simulator.
//!
//! The pipeline, in one paragraph: [`scenario::load_input`] reads a file and returns its kind
//! ([`scenario::Input`]: a multi-sector scenario, a structural gravity scenario, or a batch).
//! A scenario's [`data::Baseline`] (economies, sectors, bilateral flows including domestic
//! sales, applied tariffs, input-output structure) is loaded and validated; its agreements are
//! resolved by [`policy`] into the applied tariff matrix and non-tariff cost shifters of every
//! year; [`model`] solves the general equilibrium in changes for each year; [`simulate`] runs
//! the years (and a batch's draws, [`simulate::batch::run_batch`]) in parallel and turns the
//! outcome into rows ([`simulate::tables`]); [`output`] writes the tables whole or not at all;
//! [`report`] only renders (terminal text, the HTML report).
//! [`gravity`] runs single-sector structural gravity scenarios (`StructuralGravity(...)`:
//! the Advanced Guide's procedure and the exact equilibrium; see `docs/gravity.md`), whose
//! numerics live in [`model::gravity`] and whose tables are [`output::gravity`].
//! [`estimate`] fits PPML gravity models with high-dimensional fixed effects.
//! [`slurm`] submits a batch to a SLURM cluster as a job array of shards and a merge job.
//!
//! # Example
//!
//! Run a scenario on the tiny made-up world of the tests and read real income in the last
//! year:
//!
//! ```
//! use tradesim::scenario::{self, Input};
//! # fn main() -> tradesim::error::Result<()> {
//! let dir = tempfile::tempdir().unwrap();
//! let tiny = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny");
//! let file = dir.path().join("ab.ron");
//! std::fs::write(
//!     &file,
//!     format!(
//!         "Scenario(name: \"AB\", baseline: Csv({:?}), base_year: 2014, horizon: 2020,
//!          agreements: [(name: \"AB\", entry_into_force: 2016, members: [\"AAA\", \"BBB\"])])",
//!         tiny.display().to_string()
//!     ),
//! )
//! .unwrap();
//! let Input::Scenario(s) = scenario::load_input(&file)? else {
//!     unreachable!("a Scenario(...) file")
//! };
//! let run = tradesim::simulate::run(&s, &|| {})?; // a closure observes the solved years
//! let tables = tradesim::simulate::tables(&s.baseline, &run);
//! let aaa = tables
//!     .economies
//!     .iter()
//!     .find(|r| r.year == 2020 && r.economy == "AAA")
//!     .unwrap();
//! assert!(aaa.real_income_pct.is_finite());
//! // The files `tradesim run` writes: economies.csv, bilateral.csv, tariffs.csv, solver.csv.
//! let files = tradesim::output::table_files(&tables, false)?;
//! assert!(files.iter().any(|(name, _)| name == "economies.csv"));
//! # Ok(())
//! # }
//! ```

// Numerical code indexes several arrays with the same economy/sector indices (the notation of
// the papers); `!(x > 0.0)` is used on purpose so that NaN fails the check.
#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

pub mod data;
pub mod error;
pub mod estimate;
pub mod gravity;
pub mod invest;
pub mod model;
pub mod output;
pub mod policy;
pub mod report;
pub mod scenario;
pub mod simulate;
pub mod slurm;
pub mod workflow;
pub mod world;
