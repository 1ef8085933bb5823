//! The jobs an economist runs, one function (or loaded job) each, returning values: what the
//! `tradesim` commands do, without the terminal. `main.rs` parses the command line, shows
//! progress (through [`crate::simulate::Observe`] or a byte/row counter `&dyn Fn(u64)`) and
//! prints what these return; the [`std::fmt::Display`] of each result is the text the command
//! prints. Warnings are returned (each load's `warnings()`), never printed. Errors name option
//! fields in backticks (`` `threads` ``, `` `draws` ``); the binary maps them to its flags.
//!
//! - [`run`]: one scenario file (multi-sector or structural gravity) → its tables, committed
//!   whole into an output directory; [`run::check`] validates a file without solving;
//!   [`report::write`] renders an output directory's `report.html`.
//! - [`batch`]: a batch (or one shard) → per-draw tables and summaries; the merge of shards;
//!   a batch on SLURM (the job directory and its submission).
//! - [`estimate`]: PPML-HDFE fits from a CSV file, and saved fits side by side (etable).
//! - [`data`]: baselines and data sets: the built-in world, imports (ICIO, BACI, WITS, CEPII
//!   Gravity), synthetic worlds, FDI panels and BACI years.

pub mod batch;
pub mod data;
pub mod estimate;
pub mod report;
pub mod run;

use crate::error::{Error, Result};

/// Use `threads` worker threads for the rest of the process (the global rayon pool; `None`:
/// all cores). Call it once, before any solve.
pub fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        if n == 0 {
            return Err(Error::invalid("`threads`", "must be at least 1"));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| Error::invalid("`threads`", e.to_string()))?;
    }
    Ok(())
}
