//! Run one scenario file (`tradesim run`) and check one without solving (`tradesim check`).
//!
//! The one run path for both models: [`load`] → [`RunJob::run`] (solve → tables → files →
//! optional report, committed whole into the output directory) → a [`RunReport`] whose
//! `Display` is the command's summary.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::gravity::{GravityOutcome, GravityScenario};
use crate::output::{self, OutputDir, Tables};
use crate::report;
use crate::scenario::{self, Input, Scenario};
use crate::simulate::{self, Observe, RunOutcome};

/// A scenario file loaded and checked, ready to solve: the multi-sector model or the
/// single-sector structural gravity model.
#[derive(Debug)]
pub enum RunJob {
    /// `Scenario(...)`: the multi-sector model.
    Scenario(Box<Scenario>),
    /// `StructuralGravity(...)`: the single-sector structural gravity model.
    Gravity(Box<GravityScenario>),
}

/// Where and how a run writes its tables.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions<'a> {
    /// The output directory (created, or replaced only when `force` and tradesim wrote it).
    pub out: &'a Path,
    /// Replace an existing output directory that tradesim wrote.
    pub force: bool,
    /// Also write each table as JSON beside its CSV.
    pub json: bool,
    /// Also write the self-contained HTML report, `report.html`.
    pub report: bool,
}

/// Load the scenario file at `path` for a run; a batch file is an error (it runs as a batch).
pub fn load(path: &Path) -> Result<RunJob> {
    match scenario::load_input(path)? {
        Input::Scenario(s) => Ok(RunJob::Scenario(s)),
        Input::Gravity(g) => Ok(RunJob::Gravity(g)),
        Input::Batch(_) => Err(Error::invalid(
            path.display().to_string(),
            "is a batch file; run it with `tradesim batch`",
        )),
    }
}

impl RunJob {
    /// What loading accepted but doubts, each saying what to do.
    pub fn warnings(&self) -> &[String] {
        match self {
            RunJob::Scenario(s) => &s.warnings,
            RunJob::Gravity(_) => &[],
        }
    }

    /// The steps an observer hears of (`Observe::year_solved`, one per year) and a label
    /// ("solving NAME"), for a progress bar; `None` when the run reports no steps.
    pub fn progress(&self) -> Option<(u64, String)> {
        match self {
            RunJob::Scenario(s) => Some((s.years.len() as u64, format!("solving {}", s.name))),
            RunJob::Gravity(_) => None,
        }
    }

    /// Solve, write the tables (and `report_meta.json`, and `report.html` when asked) into a
    /// staging directory and commit it into `opts.out`: whole or nothing.
    pub fn run(&self, opts: &RunOptions, observer: &dyn Observe) -> Result<RunReport<'_>> {
        match self {
            RunJob::Scenario(s) => {
                let staged = OutputDir::begin(opts.out, opts.force, &s.inputs)?;
                let outcome = simulate::run(s, observer)?;
                let tables = simulate::tables(&s.baseline, &outcome);
                let written = output::write_table_files(&tables, opts.json, &staged)?;
                let files = commit_run(
                    staged,
                    written,
                    output::meta::scenario_meta(s),
                    opts.report.then_some(&tables),
                    opts.out,
                )?;
                Ok(RunReport::Scenario(Box::new(ScenarioRun {
                    scenario: s,
                    outcome,
                    tables,
                    files,
                    out: opts.out.to_path_buf(),
                })))
            }
            RunJob::Gravity(g) => {
                let inputs = [g.path.clone(), g.data.clone()];
                let staged = OutputDir::begin(opts.out, opts.force, &inputs)?;
                let outcome = crate::gravity::run_scenario(g)?;
                let written = output::gravity::write_table_files(&outcome, opts.json, &staged)?;
                let files = commit_run(
                    staged,
                    written,
                    output::gravity::scenario_meta(g, &outcome),
                    opts.report
                        .then(|| output::gravity::common_tables(&outcome))
                        .as_ref(),
                    opts.out,
                )?;
                Ok(RunReport::Gravity(Box::new(GravityRun {
                    outcome,
                    files,
                    out: opts.out.to_path_buf(),
                })))
            }
        }
    }
}

/// The end of the one run path, for both models: `report_meta.json` and, given the tables,
/// `report.html`, written into the staging directory beside the tables already streamed there
/// (`written` names them), and the directory committed. Returns the names of the files written.
fn commit_run(
    staged: OutputDir,
    written: Vec<String>,
    scenario: output::meta::ScenarioMeta,
    report_tables: Option<&Tables>,
    out: &Path,
) -> Result<Vec<String>> {
    let meta = output::meta::ReportMeta::new(vec![scenario]);
    let mut files = vec![(output::meta::FILE.to_string(), meta.to_json())];
    if let Some(tables) = report_tables {
        let data = report::html::ReportData::from_tables(meta, tables, &out.display().to_string());
        files.push((
            report::html::FILE.to_string(),
            report::html::render(&data).into_bytes(),
        ));
    }
    for (name, bytes) in &files {
        staged.write(name, bytes)?;
    }
    staged.commit()?;
    Ok(written
        .into_iter()
        .chain(files.into_iter().map(|(n, _)| n))
        .collect())
}

/// What a finished run returns; its `Display` is the command's summary.
#[derive(Debug)]
pub enum RunReport<'a> {
    /// A multi-sector scenario's run.
    Scenario(Box<ScenarioRun<'a>>),
    /// A structural gravity scenario's run.
    Gravity(Box<GravityRun>),
}

/// A multi-sector scenario's run: the outcome, its tables and the files written.
#[derive(Debug)]
pub struct ScenarioRun<'a> {
    /// The scenario that was run.
    pub scenario: &'a Scenario,
    /// The solved years.
    pub outcome: RunOutcome,
    /// The rows of the files written.
    pub tables: Tables,
    /// The names of the files written.
    pub files: Vec<String>,
    /// The output directory.
    pub out: PathBuf,
}

/// A structural gravity scenario's run: the outcome and the files written.
#[derive(Debug)]
pub struct GravityRun {
    /// The solved model.
    pub outcome: GravityOutcome,
    /// The names of the files written.
    pub files: Vec<String>,
    /// The output directory.
    pub out: PathBuf,
}

impl fmt::Display for RunReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunReport::Scenario(r) => r.fmt(f),
            RunReport::Gravity(r) => r.fmt(f),
        }
    }
}

/// The world, the ten largest changes for the members and the files written.
impl fmt::Display for ScenarioRun<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.scenario;
        writeln!(f, "world: {}", s.baseline.describe())?;
        let members = s.changed_members(s.years.last().copied().unwrap_or(s.base_year));
        write!(
            f,
            "{}",
            report::summary(
                &s.baseline,
                &self.tables,
                &self.outcome.compared_with_label,
                &members,
                10
            )
        )?;
        writeln!(
            f,
            "\nwrote {} in {}",
            self.files.join(", "),
            self.out.display()
        )
    }
}

/// The solves' convergence and the files written.
impl fmt::Display for GravityRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = &self.outcome;
        let (b, c, full) = (&outcome.baseline, &outcome.conditional, &outcome.full);
        writeln!(
            f,
            "{}: {} economies, {:?} procedure",
            outcome.scenario,
            outcome.names.len(),
            outcome.procedure
        )?;
        if outcome.guide_passes.is_none() {
            writeln!(
                f,
                "  baseline resistances: {} iterations, residual {:.1e}; conditional: {} iterations, residual {:.1e}",
                b.convergence.iterations, b.convergence.residual, c.convergence.iterations, c.convergence.residual
            )?;
        }
        writeln!(
            f,
            "  full GE: {} {}, market-clearing residual {:.1e}",
            full.convergence.iterations,
            if outcome.guide_passes.is_some() {
                "passes of the Guide's loop (as in the book; markets do not clear exactly)"
            } else {
                "iterations"
            },
            full.market_residual
        )?;
        writeln!(
            f,
            "wrote {} in {}",
            self.files.join(", "),
            self.out.display()
        )
    }
}

/// What `check` found: the file is valid; its warnings and its description (the resolved
/// tariff paths of a scenario, the scenarios of a batch).
#[derive(Debug)]
pub struct CheckReport {
    /// What loading accepted but doubts, each saying what to do.
    pub warnings: Vec<String>,
    text: String,
}

/// Load and validate the scenario, structural gravity or batch file at `path` without
/// solving. `all`: describe every agreement, including those of the base-year data held at
/// their rates (otherwise the scenario's own).
pub fn check(path: &Path, all: bool) -> Result<CheckReport> {
    use std::fmt::Write;
    let mut text = String::new();
    let mut warnings = Vec::new();
    match scenario::load_input(path)? {
        Input::Gravity(g) => {
            let _ = writeln!(
                text,
                "structural gravity scenario {}: data {}, year {}, sigma {}, reference {}, {} counterfactual change(s), {:?} procedure",
                g.name,
                g.data.display(),
                g.year,
                g.sigma,
                g.reference,
                g.counterfactual.len(),
                g.procedure
            );
            if let Some(note) = crate::error::reference_data_note(&g.data) {
                let _ = writeln!(text, "data: {note}");
            }
            // The data read and checked as the run reads them (no estimate, no solve).
            let _ = writeln!(text, "data: {}", crate::gravity::check_data(&g)?);
        }
        Input::Batch(b) => {
            warnings = b.warnings();
            let _ = writeln!(
                text,
                "batch {}: {} scenario(s), {} draw(s) each, seed {}",
                b.name,
                b.scenarios.len(),
                b.draws,
                b.seed
            );
            for s in &b.scenarios {
                let _ = writeln!(
                    text,
                    "  {} ({} years, {} agreements)",
                    s.name,
                    s.years.len(),
                    s.agreements.len()
                );
            }
        }
        Input::Scenario(s) => {
            warnings.clone_from(&s.warnings);
            text.push_str(&report::policy_summary(&s, all));
            if let Some(note) = crate::error::reference_data_note(Path::new(&s.baseline.name)) {
                let _ = writeln!(text, "data: {note}");
            }
            if !all && s.agreement_origins.iter().any(|o| !o.own) {
                let _ = writeln!(
                    text,
                    "(`tradesim check --all {}` lists every agreement)",
                    path.display()
                );
            }
        }
    }
    let _ = writeln!(text, "ok: {} is valid", path.display());
    Ok(CheckReport { warnings, text })
}

/// The description of the file and "ok: FILE is valid".
impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
