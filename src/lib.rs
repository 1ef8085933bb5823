//! tradesim: trade-agreement scenario simulator for economists.
//!
//! # The API boundary
//!
//! Four jobs an economist scripts, each a function that returns values (the `tradesim`
//! binary only parses its command line, shows progress and prints them; [`workflow`]):
//!
//! - **Run a scenario**: [`run::load`] a scenario file (multi-sector `Scenario(...)` or
//!   single-sector `StructuralGravity(...)`), then [`RunJob::run`] solves every year and
//!   commits its tables into an output directory, whole or not at all. [`run::check`]
//!   validates a file without solving.
//! - **Run a batch**: [`BatchJob::load`] a batch file (scenarios × Monte Carlo draws), then
//!   [`BatchJob::run`] (the whole batch or one shard); [`batch::merge`] joins shards;
//!   [`batch::plan_slurm`] runs it on a SLURM cluster.
//! - **Estimate a PPML model** with high-dimensional fixed effects: [`estimate()`] from a CSV
//!   file, or [`estimate::fit`] on a [`Dataset`] and a [`Formula`].
//! - **Build a baseline or world**: [`workflow::data`] imports OECD ICIO, CEPII BACI, WITS
//!   tariffs and CEPII Gravity covariates, builds the built-in world, writes synthetic worlds.
//!
//! Progress reaches the caller through an observer ([`Observe`]: a closure `Fn() + Sync`
//! counts solved years), never the terminal; warnings are returned (`warnings()`); errors
//! ([`Error`]) say what is wrong, where, and how to fix it, and name option fields
//! (`` `threads` ``), not command-line flags.
//!
//! The pipeline's layers below the jobs are modules of their own (ARCHITECTURE.md):
//! [`scenario::load_input`] reads a file and returns its kind ([`Input`]); a scenario's
//! [`Baseline`] is loaded and validated; [`policy`] resolves agreements into applied tariffs
//! by year; [`model`] solves the general equilibrium in changes ([`model::gravity`]: the
//! one-sector structural gravity model, run by [`gravity`]); [`simulate`] runs the years
//! and a batch's draws in parallel and turns them into rows ([`Tables`]); [`output`] writes
//! tables whole or not at all; [`report`] only renders. These stay public for the
//! integration tests, benchmarks and fuzz targets, narrowed to what those use and
//! documented (`missing_docs` holds for every layer).
//!
//! # Example
//!
//! Run a scenario on the tiny made-up world of the tests and read real income in the last
//! year:
//!
//! ```
//! use tradesim::{run, RunOptions, RunReport};
//! # fn main() -> tradesim::Result<()> {
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
//! let job = run::load(&file)?;
//! assert!(job.warnings().is_empty());
//! let out = dir.path().join("out");
//! let opts = RunOptions { out: &out, force: false, json: false, report: false };
//! let RunReport::Scenario(r) = job.run(&opts, &|| {})? else {
//!     unreachable!("a Scenario(...) file")
//! }; // the closure observes the solved years (a progress bar)
//! let aaa = r.tables.economies.iter().find(|r| r.year == 2020 && r.economy == "AAA").unwrap();
//! assert!(aaa.real_income_pct.is_finite());
//! // The files written: economies.csv, bilateral.csv, tariffs.csv, solver.csv, report_meta.json.
//! assert!(r.files.iter().any(|name| name == "economies.csv"));
//! assert!(out.join("economies.csv").is_file());
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]
#![warn(unreachable_pub)]
// Numerical code indexes several arrays with the same economy/sector indices (the notation of
// the papers); `!(x > 0.0)` is used on purpose so that NaN fails the check.
#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

pub mod workflow;

// The pipeline's layers, public for the integration tests, benchmarks and fuzz targets.
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
// Plain decimals read exactly in one pass, the fast path of both CSV readers.
pub(crate) mod decimal;
// The text of an input file and the line and column of its fields, below both loaders.
pub(crate) mod source;
pub mod world;

// The façade: the four jobs and the types they need.
pub use data::Baseline;
pub use error::{Error, Result};
pub use estimate::{Dataset, Formula, PpmlFit, PpmlOptions, Ssc};
pub use output::Tables;
pub use scenario::batch::Batch;
pub use scenario::{Input, Scenario};
pub use simulate::{Observe, RunOutcome};
pub use workflow::batch::{self, BatchJob, BatchRunOptions};
pub use workflow::estimate::{estimate, EstimateRequest, Estimated};
pub use workflow::run::{self, RunJob, RunOptions, RunReport};
