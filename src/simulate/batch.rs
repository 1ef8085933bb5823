//! Batches: units, one (scenario, draw) pair each, in a canonical order that shards split into
//! equal contiguous parts; solving a unit depends on the batch and the unit alone. The batch
//! loop [`run_batch`] solves the units of a batch (or of one shard) in chunks in parallel and
//! streams the per-draw tables to disk in canonical order as the chunks finish (so memory does
//! not grow with the bilateral tables), then writes `summary.csv` ([`crate::output::batch`]).

use super::draws;
use super::tables::{tables_of, Keep};
use super::{RunOutcome, Setup};
use crate::data::Cube;
use crate::error::{Error, Result};
use crate::model::caliendo_parro::Model;
use crate::output::batch::{
    bilateral_summary_rows, BatchReport, BilateralDrawRow, BilateralMode, CellMoments, FailureRow,
    Manifest, Staged, SUMMARY_BUDGET,
};
use crate::output::staging::OutputDir;
use crate::output::summary::DrawSpill;
use crate::output::Tables;
use crate::output::{to_csv, BilateralRow, EconomyRow, InvestmentRow, QuotaRow, SolverRow};
use crate::policy::YearPolicy;
use crate::scenario::batch::Batch;
use crate::scenario::batch::Parameter;
use crate::scenario::Scenario;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// One scenario × draw of a batch (draw 0 is the central run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    /// The scenario's position in the batch file's `scenarios`.
    pub scenario: usize,
    /// The draw (0: the central run).
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
pub type UnitResult = std::result::Result<RunOutcome, UnitError>;

/// Why a unit failed: its draw put a parameter out of range, or its run failed (a solver that
/// did not converge keeps its [`Error::NotConverged`] data).
#[derive(Debug)]
pub enum UnitError {
    /// The draw's parameters are out of range (the message says which).
    Draw(String),
    /// The run of the drawn scenario failed.
    Run(Error),
}

impl std::fmt::Display for UnitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnitError::Draw(m) => f.write_str(m),
            UnitError::Run(e) => write!(f, "{e}"),
        }
    }
}

/// Solve one unit: perturb the scenario with the draw's parameters, then run it.
pub fn solve_unit(batch: &Batch, unit: Unit, observer: &dyn super::Observe) -> UnitResult {
    // A batch solves many units per thread: reuse the solver's buffers between them.
    crate::data::spare::keep_on_this_thread();
    let scenario = drawn_scenario(batch, unit)?;
    let mut run = super::run(&scenario, observer).map_err(UnitError::Run)?;
    tag_draw(&mut run, unit.draw);
    Ok(run)
}

/// The scenario `unit` solves: the batch's own for the central run (draw 0), otherwise a copy
/// perturbed with the draw's parameters.
fn drawn_scenario(batch: &Batch, unit: Unit) -> std::result::Result<Cow<'_, Scenario>, UnitError> {
    let s = &batch.scenarios[unit.scenario];
    if unit.draw == 0 {
        return Ok(Cow::Borrowed(s));
    }
    let values = draws::draw_values(batch, &s.name, unit.draw);
    draws::perturb(s, &values)
        .map(Cow::Owned)
        .map_err(UnitError::Draw)
}

/// Marks `run` and every year of it as the outcome of draw `draw`.
fn tag_draw(run: &mut RunOutcome, draw: u32) {
    run.draw = draw;
    for y in &mut run.years {
        y.draw = draw;
    }
}

/// Whether the draws of `batch` leave every scenario's policy path as it is: they draw θ or
/// the FDI η only, not an agreement's depth. Then a scenario's [`Setup`] serves all its draws.
fn draws_keep_policy(batch: &Batch) -> bool {
    let depth = |p: &Parameter| matches!(p, Parameter::Depth(_));
    !batch.uncertainty.iter().any(|(p, _)| depth(p))
        && !batch
            .estimate
            .as_ref()
            .is_some_and(|e| e.targets.iter().any(depth))
}

/// A batch thread's own model and base-year policy for scenario `scenario`, reused from one
/// unit to the next: only θ changes between draws ([`Setup`]).
struct OwnSetup {
    scenario: usize,
    model: Model,
    base_policy: YearPolicy,
}

/// What the batch keeps of a solved unit until its rows are written (the run itself, with its
/// equilibria, is dropped on the solving thread).
struct SolvedUnit {
    /// The unit's rows; `bilateral` only when its bilateral rows are written.
    tables: Tables,
    /// Under `--bilateral summary`, for a draw: the solved baseline's flows `M_ni^j` and each
    /// year's `M'_ni^j`, moved out of the run, for the moments of the change.
    summary_flows: Option<(Cube, Vec<(i32, Cube)>)>,
}

/// Solve one unit and reduce it to what the batch writes. With `setup` (the unit's scenario's,
/// when [`draws_keep_policy`]) the policy path is not resolved again and the model is the
/// thread's own copy with the draw's θ put in; without it, [`solve_unit`].
fn solve_and_reduce(
    batch: &Batch,
    opts: &BatchOptions,
    setup: Option<&Setup>,
    own: &mut Option<OwnSetup>,
    unit: Unit,
    observer: &dyn super::Observe,
) -> std::result::Result<SolvedUnit, UnitError> {
    let s = &batch.scenarios[unit.scenario];
    let run = match setup {
        None => solve_unit(batch, unit, observer)?,
        Some(setup) => {
            crate::data::spare::keep_on_this_thread();
            let scenario = drawn_scenario(batch, unit)?;
            let (mut model, base_policy) = match own.take() {
                Some(o) if o.scenario == unit.scenario => (o.model, o.base_policy),
                _ => (setup.model.clone(), setup.base_policy.clone()),
            };
            model.theta.clone_from(&scenario.theta);
            let mut run = super::run_with(
                &scenario,
                model,
                base_policy,
                &setup.paths,
                setup.reference_paths.as_deref(),
                observer,
            )
            .map_err(UnitError::Run)?;
            tag_draw(&mut run, unit.draw);
            run
        }
    };
    let keep = Keep {
        bilateral: match opts.bilateral {
            BilateralMode::None => false,
            BilateralMode::All => true,
            BilateralMode::Central | BilateralMode::Summary => unit.draw == 0,
        },
        tariffs: false,
    };
    let tables = tables_of(&s.baseline, &run, keep);
    let RunOutcome {
        model,
        base_policy,
        baseline,
        years,
        ..
    } = run;
    let summary_flows = (opts.bilateral == BilateralMode::Summary && unit.draw > 0).then(|| {
        let flows = years
            .into_iter()
            .map(|y| (y.year, y.equilibrium.flows))
            .collect();
        (baseline.flows, flows)
    });
    if setup.is_some() {
        *own = Some(OwnSetup {
            scenario: unit.scenario,
            model,
            base_policy,
        });
    }
    Ok(SolvedUnit {
        tables,
        summary_flows,
    })
}

/// The error that stops a batch at a failed draw: a non-convergence keeps its data, with the
/// draw in its context; any other failure is named by scenario and draw.
fn stopped_at(failure: UnitError, scenario: &str, draw: u32) -> Error {
    const STOPPED: &str = "(the batch stopped at the first failed draw; the option keep_going records failed draws in failures.csv and goes on)";
    match failure {
        UnitError::Run(e @ Error::NotConverged(_)) => e.amend(|s| {
            s.context.scenario = Some(scenario.to_string());
            s.context.draw = Some(draw);
            s.hint.push('\n');
            s.hint.push_str(STOPPED);
        }),
        other => Error::invalid(
            format!("scenario `{scenario}`, draw {draw}"),
            format!("{other}\n{STOPPED}"),
        ),
    }
}

/// How a batch runs: which shard, what to do with failed draws, which bilateral tables to
/// keep, how many units between writes.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// `(k, n)`: run the k-th of n shards (1-based).
    pub shard: Option<(usize, usize)>,
    /// Record failed draws and go on (otherwise the first failure stops the batch).
    pub keep_going: bool,
    /// Which draws' bilateral tables are written (`none`, `central`, `summary`, `all`).
    pub bilateral: BilateralMode,
    /// Units solved in parallel between writes (at least 1).
    pub chunk: usize,
}

/// Run a batch (or one shard of it) and write its outputs into `dir`.
pub fn run_batch(
    batch: &Batch,
    opts: &BatchOptions,
    out: &OutputDir,
    observer: &dyn super::Observe,
) -> Result<BatchReport> {
    if opts.chunk == 0 {
        return Err(Error::invalid(
            "`chunk` 0",
            "a chunk of 0 units solves nothing between writes; give at least 1 (16 is the command line's default)",
        ));
    }
    let all = units(batch);
    let (k, n) = opts.shard.unwrap_or((1, 1));
    if k == 0 || n == 0 || k > n {
        return Err(Error::invalid(
            "batch options",
            format!("shard {k}/{n}: the shard (k, n) needs 1 ≤ k ≤ n"),
        ));
    }
    if n > all.len() {
        return Err(Error::invalid(
            format!("`shard` {k}/{n}"),
            format!(
                "the batch has {} scenario × draw units, so {n} shards would leave some with none; give at most {} shards",
                all.len(),
                all.len()
            ),
        ));
    }
    let range = shard(&all, k, n);
    let mine: Vec<Unit> = all[range.clone()].to_vec();
    let scen_names: Vec<String> = batch.scenarios.iter().map(|s| s.name.clone()).collect();
    let econ_codes: Vec<Vec<String>> = batch
        .scenarios
        .iter()
        .map(|s| {
            s.baseline
                .economies
                .iter()
                .map(|e| e.code.clone())
                .collect()
        })
        .collect();

    let mut economies = Staged::<EconomyRow>::new(out, "economies.csv")?;
    let mut solver = Staged::<SolverRow>::new(out, "solver.csv")?;
    let mut quotas = Staged::<QuotaRow>::new(out, "quotas.csv")?;
    let mut investment = Staged::<InvestmentRow>::new(out, "investment.csv")?;
    let mut failures = Staged::<FailureRow>::new(out, "failures.csv")?;
    let mut bilateral: Option<Staged<BilateralRow>> = match opts.bilateral {
        BilateralMode::None => None,
        _ => Some(Staged::new(out, "bilateral.csv")?),
    };
    let sector_codes: Vec<Vec<String>> = batch
        .scenarios
        .iter()
        .map(|s| s.baseline.sectors.iter().map(|j| j.code.clone()).collect())
        .collect();
    let mut bil_moments = CellMoments::new();
    // A shard's draws of each cell, so that `merge` adds them to the moments as a single run
    // does (moments of parts do not combine to the same bits).
    let mut bil_draws: Option<Staged<BilateralDrawRow>> = match (opts.bilateral, n > 1) {
        (BilateralMode::Summary, true) => Some(Staged::new(out, "bilateral_draws.csv")?),
        _ => None,
    };
    // Per-draw measures go to a spill file in the staging directory, so the summary's memory
    // does not grow with the number of draws.
    let mut spill = DrawSpill::create(&out.path(".draws.spill"), batch.scenarios.len())?;
    let mut failed_rows: Vec<FailureRow> = Vec::new();

    // Each scenario's set-up, built when its first unit comes and dropped after its last.
    let shared = draws_keep_policy(batch);
    let mut setups: BTreeMap<usize, Setup> = BTreeMap::new();
    for chunk in mine.chunks(opts.chunk) {
        if shared {
            setups.retain(|&k, _| k >= chunk[0].scenario);
            for u in chunk {
                setups
                    .entry(u.scenario)
                    .or_insert_with(|| Setup::of(&batch.scenarios[u.scenario]));
            }
        }
        let results: Vec<_> = chunk
            .par_iter()
            .map_init(
                || None,
                |own, u| {
                    let setup = setups.get(&u.scenario);
                    (*u, solve_and_reduce(batch, opts, setup, own, *u, observer))
                },
            )
            .collect();
        for (u, r) in results {
            let s = &batch.scenarios[u.scenario];
            match r {
                Err(failure) => {
                    if !opts.keep_going {
                        return Err(stopped_at(failure, &s.name, u.draw));
                    }
                    let row = FailureRow {
                        scenario: s.name.clone(),
                        draw: u.draw,
                        reason: failure.to_string(),
                    };
                    failures.write(&row)?;
                    failed_rows.push(row);
                }
                Ok(solved) => {
                    let t = &solved.tables;
                    for r in &t.economies {
                        economies.write(r)?;
                    }
                    spill.push(u.scenario, u.draw, &t.economies)?;
                    for r in &t.solver {
                        solver.write(r)?;
                    }
                    for r in &t.investment {
                        investment.write(r)?;
                    }
                    for r in &t.quotas {
                        quotas.write(r)?;
                    }
                    // The unit's bilateral rows, when kept (`SolvedUnit::tables`).
                    if let Some(b) = bilateral.as_mut() {
                        for r in t.bilateral.rows() {
                            b.write(&r)?;
                        }
                    }
                    if let Some((base, years)) = &solved.summary_flows {
                        let b = &s.baseline;
                        for (year, flows) in years {
                            for j in 0..b.n_sectors() {
                                for m in 0..b.n_economies() {
                                    for i in 0..b.n_economies() {
                                        let v0 = base.get(j, m, i);
                                        if v0 > 0.0 {
                                            let c = (flows.get(j, m, i) / v0 - 1.0) * 100.0;
                                            if let Some(w) = bil_draws.as_mut() {
                                                w.write(&BilateralDrawRow {
                                                    scenario: s.name.clone(),
                                                    year: *year,
                                                    draw: u.draw,
                                                    exporter: econ_codes[u.scenario][i].clone(),
                                                    importer: econ_codes[u.scenario][m].clone(),
                                                    sector: sector_codes[u.scenario][j].clone(),
                                                    change_pct: c,
                                                })?;
                                            }
                                            bil_moments
                                                .entry((u.scenario, *year, i, m, j))
                                                .or_default()
                                                .push(c);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let failed_count: Vec<usize> = (0..batch.scenarios.len())
        .map(|s| {
            failed_rows
                .iter()
                .filter(|f| f.scenario == scen_names[s])
                .count()
        })
        .collect();
    let compared_with: Vec<String> = batch
        .scenarios
        .iter()
        .map(|s| s.compared_with.kind().to_string())
        .collect();
    let mut summary = spill.summarise(&scen_names, &econ_codes, &failed_count, SUMMARY_BUDGET)?;
    crate::output::summary::label_comparisons(&mut summary, &scen_names, &compared_with);
    let manifest = Manifest {
        batch: batch.name.clone(),
        tradesim_version: env!("CARGO_PKG_VERSION").to_string(),
        batch_file: batch
            .input_digests
            .first()
            .map_or_else(|| batch.path.display().to_string(), |f| f.path.clone()),
        inputs: batch.input_digests.clone(),
        shard: k,
        shards: n,
        first_unit: range.start,
        end_unit: range.end,
        total_units: all.len(),
        draws: batch.draws,
        seed: batch.seed,
        scenarios: scen_names.clone(),
        economies: econ_codes.clone(),
        sectors: sector_codes.clone(),
        compared_with,
        focus: batch.focus.clone(),
        bilateral: format!("{:?}", opts.bilateral).to_lowercase(),
    };
    crate::output::finite::check_rows("summary.csv", &summary)?;
    let mut extra: Vec<(&str, Vec<u8>)> = vec![
        ("summary.csv", to_csv(&summary)?),
        (
            "manifest.json",
            serde_json::to_vec_pretty(&manifest)
                .map_err(|e| Error::invalid("manifest.json", e.to_string()))?,
        ),
    ];
    if opts.bilateral == BilateralMode::Summary {
        let rows = bilateral_summary_rows(&bil_moments, &scen_names, &econ_codes, &sector_codes);
        crate::output::finite::check_rows("bilateral_summary.csv", &rows)?;
        extra.push(("bilateral_summary.csv", to_csv(&rows)?));
    }
    let mut files = vec![
        economies.finish()?,
        solver.finish()?,
        quotas.finish()?,
        failures.finish()?,
        investment.finish()?,
    ];
    if let Some(b) = bilateral {
        files.push(b.finish()?);
    }
    if let Some(w) = bil_draws {
        files.push(w.finish()?);
    }
    files.extend(extra.iter().map(|(n, _)| n.to_string()));
    for (name, bytes) in &extra {
        out.write(name, bytes)?;
    }
    Ok(BatchReport {
        units: mine.len(),
        failed: failed_rows,
        summary,
        files,
    })
}
