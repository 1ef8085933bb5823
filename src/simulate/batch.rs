//! Batch units: one (scenario, draw) pair each, in a canonical order that shards split into
//! equal contiguous parts. Solving a unit depends on the batch and the unit alone.

use super::draws;
use super::RunOutcome;
use crate::scenario::batch::Batch;

/// One scenario × draw of a batch (draw 0 is the central run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    pub scenario: usize,
    pub draw: u32,
}

/// Every unit of a batch in canonical order: scenarios in batch order, draws ascending.
pub fn units(batch: &Batch) -> Vec<Unit> {
    (0..batch.scenarios.len())
        .flat_map(|s| {
            (0..=batch.draws).map(move |d| Unit {
                scenario: s,
                draw: d,
            })
        })
        .collect()
}

/// The units of shard `k` of `n` (1-based `k`): the k-th of n contiguous, near-equal parts.
pub fn shard(units: &[Unit], k: usize, n: usize) -> std::ops::Range<usize> {
    let len = units.len();
    let start = (k - 1) * len / n;
    let end = k * len / n;
    start..end
}

/// A solved unit, or why it failed.
pub type UnitResult = Result<RunOutcome, String>;

/// Solve one unit: perturb the scenario with the draw's parameters, then run it.
pub fn solve_unit(batch: &Batch, unit: Unit, on_year: &(dyn Fn() + Sync)) -> UnitResult {
    let s = &batch.scenarios[unit.scenario];
    let scenario = if unit.draw == 0 {
        s.clone()
    } else {
        let values = draws::draw_values(batch, &s.name, unit.draw);
        draws::perturb(s, &values)?
    };
    let mut run = super::run(&scenario, on_year).map_err(|e| e.to_string())?;
    for y in &mut run.years {
        y.draw = unit.draw;
    }
    Ok(run)
}
