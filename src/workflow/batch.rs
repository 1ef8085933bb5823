//! Run a batch (`tradesim batch`), merge its shards (`tradesim merge`) and run it on a SLURM
//! cluster (`tradesim batch --slurm`).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::batch::{shard_list, BatchReport};
use crate::output::{self, OutputDir};
use crate::report;
use crate::scenario::batch::Batch;
use crate::simulate::batch::{run_batch, BatchOptions};
use crate::simulate::Observe;
use crate::slurm;

/// A batch file loaded and checked, ready to run.
#[derive(Debug)]
pub struct BatchJob {
    /// The batch: scenarios, draws, uncertainty, inputs.
    pub batch: Batch,
}

/// Where and how a batch writes its outputs.
#[derive(Debug, Clone, Copy)]
pub struct BatchRunOptions<'a> {
    /// The output directory.
    pub out: &'a Path,
    /// Replace an existing output directory that tradesim wrote.
    pub force: bool,
    /// Also write the self-contained HTML report, `report.html`.
    pub report: bool,
    /// Shard, failure handling, bilateral tables and chunk size.
    pub batch: &'a BatchOptions,
}

/// Load a batch file; `draws` replaces the file's Monte Carlo draws per scenario.
fn load_with_draws(path: &Path, draws: Option<u32>) -> Result<Batch> {
    let b = crate::scenario::batch::load(path)?;
    match draws {
        Some(n) => b
            .with_draws(n)
            .map_err(|e| Error::invalid(format!("`draws` {n}"), e.to_string())),
        None => Ok(b),
    }
}

impl BatchJob {
    /// Load the batch file at `path`; `draws` replaces its Monte Carlo draws per scenario
    /// (draw d is the same whatever the count).
    pub fn load(path: &Path, draws: Option<u32>) -> Result<BatchJob> {
        Ok(BatchJob {
            batch: load_with_draws(path, draws)?,
        })
    }

    /// What loading accepted but doubts, each saying what to do.
    pub fn warnings(&self) -> Vec<String> {
        self.batch.warnings()
    }

    /// The years an observer hears of (`Observe::year_solved`) when running `shard`, and a
    /// label ("batch NAME"), for a progress bar.
    pub fn progress(&self, shard: Option<(usize, usize)>) -> (u64, String) {
        let b = &self.batch;
        let years: usize = b.scenarios.iter().map(|s| s.years.len()).sum();
        let total = years as u64 * (b.draws as u64 + 1);
        let total = match shard {
            Some((_, n)) => total.div_ceil(n as u64),
            None => total,
        };
        (total, format!("batch {}", b.name))
    }

    /// Run the batch (or the shard of `opts.batch`) and commit its outputs into `opts.out`:
    /// per-draw tables, `summary.csv`, `manifest.json`, `report_meta.json` (and `report.html`).
    pub fn run(&self, opts: &BatchRunOptions, observer: &dyn Observe) -> Result<BatchRun<'_>> {
        let b = &self.batch;
        let staged = OutputDir::begin(opts.out, opts.force, &b.inputs)?;
        let rep = run_batch(b, opts.batch, &staged, observer)?;
        let mut meta = output::meta::ReportMeta::new(
            b.scenarios
                .iter()
                .map(output::meta::scenario_meta)
                .collect(),
        );
        meta.focus = b.focus.clone();
        staged.write(output::meta::FILE, &meta.to_json())?;
        let mut rep = rep;
        rep.files.push(output::meta::FILE.to_string());
        if opts.report {
            let mut data = report::html::ReportData::load(staged.staging_dir())?;
            // Read from the staging directory, it reports on the output directory.
            data.source = opts.out.display().to_string();
            report::html::write(staged.staging_dir(), &data, false)?;
            rep.files.push(report::html::FILE.to_string());
        }
        staged.commit()?;
        Ok(BatchRun {
            batch: b,
            report: rep,
            out: opts.out.to_path_buf(),
        })
    }
}

/// A finished batch; its `Display` compares the scenarios (median and band of real income).
#[derive(Debug)]
pub struct BatchRun<'a> {
    /// The batch that ran.
    pub batch: &'a Batch,
    /// Units solved, failed draws, summary rows, files written.
    pub report: BatchReport,
    /// The output directory.
    pub out: PathBuf,
}

impl fmt::Display for BatchRun<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (b, rep) = (self.batch, &self.report);
        let names: Vec<String> = b.scenarios.iter().map(|s| s.name.clone()).collect();
        write!(
            f,
            "{}",
            report::comparison_table(&rep.summary, &names, &b.focus)
        )?;
        let comparisons: Vec<(String, String)> = b
            .scenarios
            .iter()
            .map(|s| (s.name.clone(), s.compared_with.describe(s.base_year)))
            .collect();
        write!(f, "{}", report::comparisons_note(&comparisons))?;
        if !rep.failed.is_empty() {
            writeln!(f, "\n{} draw(s) failed; see failures.csv", rep.failed.len())?;
        }
        writeln!(
            f,
            "\nsolved {} scenario × draw units; wrote {} in {}",
            rep.units,
            rep.files.join(", "),
            self.out.display()
        )
    }
}

/// A merge of shards: the report and where it went.
#[derive(Debug)]
pub struct Merged {
    /// Units, failed draws and files of the merged output.
    pub report: BatchReport,
    /// The shards merged.
    pub shards: usize,
    /// The shards' directories (`dirs`), or the SLURM job directory (`job`).
    source: Option<PathBuf>,
    /// The merged output directory.
    pub out: PathBuf,
    /// The job's `merged/` held a `report.html`, written again from this merge.
    pub report_again: bool,
}

/// Merge the output directories of all the shards of a batch into `out` (whole or nothing).
pub fn merge(dirs: &[PathBuf], out: &Path, force: bool) -> Result<Merged> {
    crate::output::staging::check_not_inside(out, dirs)?;
    let staged = OutputDir::begin(out, force, dirs)?;
    let rep = output::batch::merge(dirs, &staged, &output::batch::rerun_hint)?;
    staged.commit()?;
    Ok(Merged {
        report: rep,
        shards: dirs.len(),
        source: None,
        out: out.to_path_buf(),
        report_again: false,
    })
}

/// Merge the shards of the SLURM job in `dir` into its `merged/` (replacing an earlier
/// merge, and writing again a `report.html` that was there); the error lists the shards that
/// must run again and the command that reruns them. A user's work in `merged/` refuses the
/// merge: files tradesim did not write, and a `report.html` edited after tradesim wrote it
/// unless `force` ([`slurm::merge_job`]).
pub fn merge_job(dir: &Path, force: bool) -> Result<Merged> {
    let (rep, report_again) = slurm::merge_job(dir, force)?;
    Ok(Merged {
        report: rep,
        shards: slurm::read_job(dir)?.shards,
        source: Some(dir.to_path_buf()),
        out: dir.join(slurm::MERGED),
        report_again,
    })
}

impl fmt::Display for Merged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rep = &self.report;
        match &self.source {
            Some(job) => {
                writeln!(
                    f,
                    "merged the {} shards of the job in {}: {} units, {} failed draw(s): wrote {} in {}",
                    self.shards,
                    job.display(),
                    rep.units,
                    rep.failed.len(),
                    rep.files.join(", "),
                    self.out.display()
                )?;
                if self.report_again {
                    writeln!(
                        f,
                        "report.html was there, so it was written again from the merged tables, as `tradesim report {}` writes it (options an earlier report was given, such as --compare or --focus, are not repeated: run it again with them)",
                        self.out.display()
                    )?;
                }
                Ok(())
            }
            None => writeln!(
                f,
                "merged {} shard(s), {} units, {} failed draw(s): wrote {} in {}",
                self.shards,
                rep.units,
                rep.failed.len(),
                rep.files.join(", "),
                self.out.display()
            ),
        }
    }
}

/// A batch to run on SLURM as a job array of `shards` shards and a merge job.
#[derive(Debug, Clone, Copy)]
pub struct SlurmRequest<'a> {
    /// The batch file.
    pub batch: &'a Path,
    /// The job directory.
    pub out: &'a Path,
    /// Number of shards (array tasks).
    pub shards: usize,
    /// Options for sbatch, as a shell splits words (each string may hold several).
    pub sbatch_options: &'a [String],
    /// Monte Carlo draws per scenario instead of the batch file's.
    pub draws: Option<u32>,
}

/// A checked SLURM request: the batch, its absolute paths and the sbatch options. The caller
/// builds the commands the jobs run from `batch_file` and `dir` ([`slurm::Commands`]), then
/// [`SlurmPlan::submit`]s.
#[derive(Debug)]
pub struct SlurmPlan {
    /// The batch.
    pub batch: Batch,
    /// The batch file, canonical.
    pub batch_file: String,
    /// The job directory, absolute.
    pub dir: PathBuf,
    /// Number of shards.
    pub shards: usize,
    sbatch_options: Vec<String>,
}

/// How to submit a [`SlurmPlan`].
#[derive(Debug, Clone)]
pub struct SlurmSubmit<'a> {
    /// The commands the array and merge jobs run.
    pub commands: slurm::Commands,
    /// The command that reruns shards of this job (the shard list is appended).
    pub rerun_command: Vec<String>,
    /// Submit only these shards of the existing job in the directory again.
    pub rerun: Option<&'a [usize]>,
    /// The bilateral tables the shards write (recorded in the job, so that a rerun of some
    /// shards writes the same).
    pub bilateral: crate::output::batch::BilateralMode,
    /// The shards record failed draws and go on (recorded in the job, for its messages).
    pub keep_going: bool,
    /// Write the job directory without submitting.
    pub no_submit: bool,
    /// Replace an existing job directory.
    pub force: bool,
}

/// Load and check a batch for SLURM: the number of shards against its units, the sbatch
/// options (those the scripts set themselves are refused), the paths made absolute.
pub fn plan_slurm(req: &SlurmRequest) -> Result<SlurmPlan> {
    let n = req.shards;
    let b = load_with_draws(req.batch, req.draws)?;
    let units = b.scenarios.len() * (b.draws as usize + 1);
    if n == 0 || n > units {
        return Err(Error::invalid(
            "`shards`",
            format!("{n} shards: the batch has {units} scenario × draw units; give between 1 and {units} shards"),
        ));
    }
    let mut sbatch_options = Vec::new();
    for o in req.sbatch_options {
        sbatch_options
            .extend(slurm::split_options(o).map_err(|m| Error::invalid("`sbatch_options`", m))?);
    }
    slurm::check_options(&sbatch_options).map_err(|m| Error::invalid("`sbatch_options`", m))?;
    let batch_file = req
        .batch
        .canonicalize()
        .map_err(|e| Error::io(req.batch, e))?
        .display()
        .to_string();
    let dir = std::path::absolute(req.out).map_err(|e| Error::io(req.out, e))?;
    Ok(SlurmPlan {
        batch: b,
        batch_file,
        dir,
        shards: n,
        sbatch_options,
    })
}

/// What a SLURM submission did.
#[derive(Debug)]
pub enum SlurmReport {
    /// The job directory was written, not submitted; `submit_line` submits it.
    Written {
        /// The batch's name.
        name: String,
        /// Number of shards.
        shards: usize,
        /// The job directory.
        dir: PathBuf,
        /// The shell command that submits the job.
        submit_line: String,
        /// The job scripts a rerun kept as a user edited them.
        kept: Vec<&'static str>,
    },
    /// The array job and the merge job were submitted.
    Submitted {
        /// The batch's name.
        name: String,
        /// Number of shards of the job.
        shards: usize,
        /// The shards submitted.
        submitted: Vec<usize>,
        /// The job directory.
        dir: PathBuf,
        /// The job ids.
        submission: slurm::Submission,
        /// The job scripts a rerun kept as a user edited them (and submitted).
        kept: Vec<&'static str>,
    },
}

impl SlurmPlan {
    /// Write the job directory (or, with `rerun`, rewrite its scripts, keeping those a user
    /// edited when tradesim would write them unchanged: [`slurm::rewrite`]) and submit the
    /// array job and the merge job (not with `no_submit`). A first submission that fails
    /// removes the job directory it wrote.
    pub fn submit(self, a: SlurmSubmit) -> Result<SlurmReport> {
        let (n, dir, batch) = (self.shards, &self.dir, &self.batch_file);
        let shards: Vec<usize> = match a.rerun {
            Some(list) => list.to_vec(),
            None => (1..=n).collect(),
        };
        let mut job = slurm::Job {
            name: self.batch.name.clone(),
            batch: batch.clone(),
            shards: n,
            sbatch_options: self.sbatch_options,
            rerun_command: a.rerun_command,
            submissions: Vec::new(),
            draws: self.batch.draws,
            bilateral: format!("{:?}", a.bilateral).to_lowercase(),
            keep_going: a.keep_going,
        };
        if a.rerun.is_some() && a.force {
            return Err(Error::invalid(
                dir.display().to_string(),
                format!(
                    "`rerun` and `force` do not go together: `rerun` runs some shards of the job in this directory again (their directories are replaced, the other shards' kept) and submits a new merge job, while `force` replaces the whole job (every shard's output and {}/ are deleted) and runs all {n} shards again. To run some shards again, leave out `force` (a report.html you edited in {}/ or a file of yours there is refused before anything is submitted: move it away); to run the whole job again, leave out `rerun`",
                    slurm::MERGED,
                    slurm::MERGED
                ),
            ));
        }
        let mut kept = Vec::new();
        if a.rerun.is_some() {
            let had_job = dir.join(slurm::JOB_FILE).exists();
            let old = slurm::job_to_rerun(dir, &job, &shards).map_err(|e| match e {
                Error::Invalid { context, message } if context == "rerun" => {
                    Error::invalid("`rerun`", message)
                }
                Error::Invalid { context, message } if !had_job => Error::invalid(
                    context,
                    format!("{message}; submit the batch without `rerun` first"),
                ),
                other => other,
            })?;
            job.submissions = old.submissions;
            // The merge job this submits replaces merged/ whole: a user's work there is
            // refused now, not by the merge job hours later.
            slurm::check_merged(dir, slurm::Merging::Later)?;
            kept = slurm::rewrite(dir, &job, &a.commands)?;
        } else {
            if dir.join(slurm::JOB_FILE).exists() {
                let old = slurm::read_job(dir)?;
                if !a.force {
                    return Err(Error::invalid(
                        dir.display().to_string(),
                        format!(
                            "holds the SLURM job of batch `{}` ({} shards); to run some of its shards again: {}; to replace the whole job (its shards' and merged outputs are deleted), pass `force`",
                            old.name,
                            old.shards,
                            slurm::rerun_line(&old, "SHARDS")
                        ),
                    ));
                }
                let queued = slurm::queued(&old.job_ids());
                if !queued.is_empty() {
                    return Err(Error::invalid(
                        dir.display().to_string(),
                        format!(
                            "jobs {} of the job in this directory are still queued or running; cancel them first (scancel {}) or choose another `out`",
                            queued.join(", "),
                            queued.join(" ")
                        ),
                    ));
                }
            }
            slurm::create(dir, a.force, &self.batch.inputs, &job, &a.commands)?;
        }
        if a.no_submit {
            return Ok(SlurmReport::Written {
                name: self.batch.name.clone(),
                shards: n,
                dir: dir.clone(),
                submit_line: slurm::submit_line(dir, &job, &shards),
                kept,
            });
        }
        let s = match slurm::submit(dir, &mut job, &shards) {
            Ok(s) => s,
            Err(e) if a.rerun.is_none() => {
                // Nothing was submitted: the job directory this call wrote goes too.
                let _ = std::fs::remove_dir_all(dir);
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        Ok(SlurmReport::Submitted {
            name: self.batch.name.clone(),
            shards: n,
            submitted: shards,
            dir: dir.clone(),
            submission: s,
            kept,
        })
    }
}

/// A line per job script a rerun kept as a user edited it.
fn kept_lines(f: &mut fmt::Formatter<'_>, kept: &[&str]) -> fmt::Result {
    for name in kept {
        writeln!(
            f,
            "kept {name} as you edited it: this rerun would have written it as tradesim did before, so your edits are what runs (to have tradesim's own, delete it and run again)"
        )?;
    }
    Ok(())
}

impl fmt::Display for SlurmReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlurmReport::Written {
                name,
                shards,
                dir,
                submit_line,
                kept,
            } => {
                writeln!(
                    f,
                    "wrote the SLURM job of batch `{name}` ({shards} shards) in {}; submit it with:\n  {submit_line}",
                    dir.display(),
                )?;
                kept_lines(f, kept)
            }
            SlurmReport::Submitted {
                name,
                shards: n,
                submitted,
                dir,
                submission: s,
                kept,
            } => {
                let logs = dir.join(slurm::LOGS);
                writeln!(
                    f,
                    "submitted batch `{name}` to SLURM: array job {} (shard(s) {} of {n}) and merge job {}, which merges the shards when every one has ended",
                    s.array_job,
                    shard_list(submitted),
                    s.merge_job
                )?;
                writeln!(f, "  job directory: {}", dir.display())?;
                writeln!(
                    f,
                    "  logs:          {}, {}",
                    logs.join(format!("shard-K-{}.out", s.array_job)).display(),
                    logs.join(format!("merge-{}.out", s.merge_job)).display()
                )?;
                writeln!(
                    f,
                    "  results:       {} (when job {} has completed; if a shard failed, its log lists the shards to run again and the command)",
                    dir.join(slurm::MERGED).display(),
                    s.merge_job
                )?;
                writeln!(
                    f,
                    "  follow with:   squeue -j {},{}",
                    s.array_job, s.merge_job
                )?;
                kept_lines(f, kept)
            }
        }
    }
}
