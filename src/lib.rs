//! tradesim: trade-agreement scenario simulator.
//!
//! The pipeline, in one paragraph: a [`data::Baseline`] (economies, sectors, bilateral flows
//! including domestic sales, applied tariffs, input-output structure) is loaded and validated;
//! a scenario file is parsed into a validated [`scenario::Scenario`]; its agreements are
//! resolved by [`policy`] into the applied tariff matrix and non-tariff cost shifters of every
//! year; [`model`] solves the general equilibrium in changes for each year; [`simulate`] runs
//! the years (and draws) in parallel; [`report`] writes the tables.
//! [`estimate`] fits PPML gravity models with high-dimensional fixed effects.
//! [`slurm`] submits a batch to a SLURM cluster as a job array of shards and a merge job.
//! [`gravity`] runs single-sector structural gravity scenarios (`StructuralGravity(...)`:
//! the Advanced Guide's procedure and the exact equilibrium; see `docs/gravity.md`), whose
//! numerics live in [`model::gravity`].

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
pub mod world;
