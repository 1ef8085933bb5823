//! Batches on a SLURM cluster: a job array with one task per shard of the batch, and a job
//! that depends on the whole array (`--dependency=afterany`) and merges the shards once every
//! task has ended, whether it finished or failed.
//!
//! Everything lives in one job directory:
//!
//! ```text
//! DIR/job.json        the batch, the number of shards, the sbatch options, every submission
//! DIR/shard.sbatch    the array job: task K runs shard K of N into DIR/shard-K
//! DIR/merge.sbatch    the merge job: merges DIR/shard-1 … DIR/shard-N into DIR/merged
//! DIR/logs/           shard-K-<array job>.out, merge-<job>.out
//! DIR/shard-K/        shard K's output, written whole or not at all (so it appears only when
//!                     the shard has finished) and replaced by a rerun of the shard
//! DIR/merged/         the merged output: the same files a single run of the batch writes
//! ```
//!
//! A rerun of some shards submits an array of just those tasks and a new merge job; a shard's
//! output does not depend on the run (the draws are fixed by the seed and the draw number),
//! so rerunning a shard that had finished writes the same bytes. A rerun does not go with
//! replacing the whole job (`force`): the two are refused together.
//!
//! Every merge replaces `merged/` whole, but never over a user's work there ([`check_merged`]):
//! a file tradesim did not write (notes dropped beside the tables) refuses it, and so does a
//! `report.html` (written there by `tradesim report`, its fingerprint in the marker) edited
//! since, unless the merge is given `force`. A rerun of some shards checks the same before it
//! writes or submits anything, so that the user hears of it at once rather than from the merge
//! job's log, and the merge checks again just before it replaces `merged/` (a file edited while
//! it ran). A `report.html` tradesim wrote is not dropped: the merge writes it again from the
//! merged tables.
//!
//! The scripts run commands the caller gives as argument lists (with [`SHARD`] and [`CPUS`]
//! standing for the task's shard number and CPUs), so this module knows SLURM and the layout
//! of the job directory, not tradesim's command line.

use crate::error::{Error, Result};
use crate::output::batch::{merge, shard_list, shards_to_rerun, BatchReport, Manifest, Rerun};
pub use crate::output::batch::{shell_line, shell_quote};
use crate::output::{staging, OutputDir};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The job's description, in the job directory.
pub const JOB_FILE: &str = "job.json";
/// The array job's script.
pub const SHARD_SCRIPT: &str = "shard.sbatch";
/// The merge job's script.
pub const MERGE_SCRIPT: &str = "merge.sbatch";
/// The directory of the jobs' logs.
pub const LOGS: &str = "logs";
/// The directory of the merged output.
pub const MERGED: &str = "merged";
/// Stands for the task's shard number in the shard command.
pub const SHARD: &str = "{shard}";
/// Stands for the CPUs SLURM gives the task (`$SLURM_CPUS_PER_TASK`, 1 when unset).
pub const CPUS: &str = "{cpus}";

/// sbatch options the scripts and the submission set themselves.
const RESERVED: [(&str, Option<char>, &str); 6] = [
    ("array", Some('a'), "the array has one task per shard"),
    (
        "dependency",
        Some('d'),
        "the merge job depends on the array",
    ),
    (
        "output",
        Some('o'),
        "the logs go to the job directory's logs/",
    ),
    (
        "error",
        Some('e'),
        "the logs go to the job directory's logs/",
    ),
    ("parsable", None, "tradesim reads the job ids"),
    (
        "wrap",
        None,
        "the jobs run the scripts in the job directory",
    ),
];

/// The directory of shard `k` (1-based).
pub fn shard_dir(dir: &Path, k: usize) -> PathBuf {
    dir.join(format!("shard-{k}"))
}

/// [`shard_dir`] in the shard command: with [`SHARD`] for the task's shard number.
pub fn task_shard_dir(dir: &Path) -> PathBuf {
    dir.join(format!("shard-{SHARD}"))
}

/// The directories of shards 1..=n.
pub fn shard_dirs(dir: &Path, n: usize) -> Vec<PathBuf> {
    (1..=n).map(|k| shard_dir(dir, k)).collect()
}

/// A batch submitted (or to be submitted) to SLURM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The batch's name.
    pub name: String,
    /// The batch file (absolute).
    pub batch: String,
    /// The number of shards.
    pub shards: usize,
    /// Options given to sbatch for both jobs (partition, time, CPUs, memory, …).
    pub sbatch_options: Vec<String>,
    /// The command that submits shards of this job again (the program first); the shards
    /// (`2,5`) are its last argument.
    pub rerun_command: Vec<String>,
    /// The submissions, the first one first.
    pub submissions: Vec<Submission>,
    /// Monte Carlo draws per scenario the shards run with (0 in a job file written before
    /// it was recorded, whose `bilateral` is empty).
    #[serde(default)]
    pub draws: u32,
    /// The bilateral tables the shards write (`central`, …; empty in an older job file).
    #[serde(default)]
    pub bilateral: String,
    /// The shards record failed draws in failures.csv and go on (else a failed draw stops
    /// the shard, and a rerun of it fails the same way).
    #[serde(default)]
    pub keep_going: bool,
}

/// One submission: an array job of some shards and the merge job that waits for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// The shards submitted (1-based).
    pub shards: Vec<usize>,
    /// The array job's id.
    pub array_job: String,
    /// The merge job's id.
    pub merge_job: String,
}

impl Job {
    /// The array job that last ran shard `k`, if any.
    pub fn array_job_of(&self, k: usize) -> Option<&str> {
        self.submissions
            .iter()
            .rev()
            .find(|s| s.shards.contains(&k))
            .map(|s| s.array_job.as_str())
    }

    /// Every job id submitted, in order.
    pub fn job_ids(&self) -> Vec<String> {
        self.submissions
            .iter()
            .flat_map(|s| [s.array_job.clone(), s.merge_job.clone()])
            .collect()
    }
}

/// The commands the jobs run, as argument lists (the program first).
#[derive(Debug, Clone)]
pub struct Commands {
    /// Runs one shard into [`shard_dir`] (with [`SHARD`] and [`CPUS`] in its arguments).
    pub shard: Vec<String>,
    /// Merges the shards of the job directory.
    pub merge: Vec<String>,
}

/// One argument of a script's command: quoted, with [`SHARD`] and [`CPUS`] replaced by the
/// script's variables.
fn script_word(arg: &str) -> String {
    let mut out = String::new();
    let mut rest = arg;
    loop {
        let next = [(SHARD, "\"$shard\""), (CPUS, "\"$cpus\"")]
            .into_iter()
            .filter_map(|(p, v)| rest.find(p).map(|at| (at, p, v)))
            .min_by_key(|(at, _, _)| *at);
        match next {
            Some((at, p, v)) => {
                if at > 0 {
                    out.push_str(&shell_quote(&rest[..at]));
                }
                out.push_str(v);
                rest = &rest[at + p.len()..];
            }
            None => {
                if !rest.is_empty() || out.is_empty() {
                    out.push_str(&shell_quote(rest));
                }
                return out;
            }
        }
    }
}

/// A SLURM job name from the batch's name: letters, digits, `-` and `_`.
fn job_name(prefix: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}{clean}")
}

/// An `#SBATCH --option=value` line; the value in double quotes when it has a space.
fn directive(option: &str, value: &str) -> String {
    if value.contains(char::is_whitespace) {
        format!("#SBATCH --{option}=\"{value}\"\n")
    } else {
        format!("#SBATCH --{option}={value}\n")
    }
}

/// The array job's script: task K runs `commands.shard` with K for [`SHARD`].
pub fn shard_script(job: &Job, dir: &Path, command: &[String]) -> String {
    let logs = dir.join(LOGS);
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!(
        "# tradesim: the job array of batch `{}` ({}), one task per shard of {}.\n\
         # Task K runs shard K into {}/shard-K; written by tradesim with {JOB_FILE} beside it.\n",
        job.name,
        job.batch,
        job.shards,
        dir.display()
    ));
    s.push_str(&directive("job-name", &job_name("tradesim-", &job.name)));
    s.push_str(&directive(
        "output",
        &format!("{}/shard-%a-%A.out", logs.display()),
    ));
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!(
        "shard=${{SLURM_ARRAY_TASK_ID:?submit this script as a job array: sbatch --array=1-{} {SHARD_SCRIPT}}}\n",
        job.shards
    ));
    s.push_str("cpus=${SLURM_CPUS_PER_TASK:-1}\n");
    s.push_str(&format!(
        "echo \"tradesim: shard $shard of {} on $(hostname), $cpus CPU(s), job ${{SLURM_ARRAY_JOB_ID:-?}}_$shard, $(date -u +%Y-%m-%dT%H:%M:%SZ)\"\n",
        job.shards
    ));
    s.push_str("exec ");
    s.push_str(
        &command
            .iter()
            .map(|a| script_word(a))
            .collect::<Vec<_>>()
            .join(" "),
    );
    s.push('\n');
    s
}

/// The merge job's script.
pub fn merge_script(job: &Job, dir: &Path, command: &[String]) -> String {
    let logs = dir.join(LOGS);
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!(
        "# tradesim: merge the {} shards of batch `{}` into {}/{MERGED} once every task of the\n\
         # array has ended (submitted with --dependency=afterany on the array job). When a shard\n\
         # has not finished, this job fails and its log lists the shards with the command that\n\
         # runs just them again.\n",
        job.shards,
        job.name,
        dir.display()
    ));
    s.push_str(&directive(
        "job-name",
        &job_name("tradesim-merge-", &job.name),
    ));
    s.push_str(&directive(
        "output",
        &format!("{}/merge-%j.out", logs.display()),
    ));
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!("exec {}\n", shell_line(command)));
    s
}

/// Split sbatch options as a POSIX shell splits words: whitespace separates, single and
/// double quotes group, a backslash escapes the next character.
pub fn split_options(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => word.push(x),
                        None => return Err(format!("`{text}`: a single quote is not closed")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x) => word.push(x),
                            None => return Err(format!("`{text}`: a double quote is not closed")),
                        },
                        Some(x) => word.push(x),
                        None => return Err(format!("`{text}`: a double quote is not closed")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(x) = chars.next() {
                    word.push(x);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Refuse sbatch options that the scripts and the submission set themselves.
pub fn check_options(options: &[String]) -> std::result::Result<(), String> {
    for o in options {
        let hit = RESERVED.iter().find(|(long, short, _)| {
            let name = o
                .strip_prefix("--")
                .map(|x| x.split('=').next().unwrap_or(x));
            name == Some(*long)
                || (!o.starts_with("--")
                    && short.is_some_and(|c| {
                        o.strip_prefix('-').and_then(|x| x.chars().next()) == Some(c)
                    }))
        });
        if let Some((long, _, why)) = hit {
            return Err(format!(
                "`{o}`: tradesim sets --{long} itself ({why}); remove it"
            ));
        }
    }
    Ok(())
}

fn job_json(job: &Job) -> Result<Vec<u8>> {
    let mut v =
        serde_json::to_vec_pretty(job).map_err(|e| Error::invalid(JOB_FILE, e.to_string()))?;
    v.push(b'\n');
    Ok(v)
}

fn files(job: &Job, dir: &Path, commands: &Commands) -> Result<Vec<(&'static str, Vec<u8>)>> {
    Ok(vec![
        (JOB_FILE, job_json(job)?),
        (
            SHARD_SCRIPT,
            shard_script(job, dir, &commands.shard).into_bytes(),
        ),
        (
            MERGE_SCRIPT,
            merge_script(job, dir, &commands.merge).into_bytes(),
        ),
    ])
}

/// Write a new job directory `dir` (absolute) whole: the job file, the two scripts, `logs/`.
/// `replace` replaces an existing job directory (the output-directory rules apply: `dir` may
/// not contain one of the batch's `inputs`). The directory's marker also names the shards'
/// directories and `merged/`, which the jobs write into it later, so that replacing the job
/// replaces them and nothing else.
pub fn create(
    dir: &Path,
    replace: bool,
    inputs: &[PathBuf],
    job: &Job,
    commands: &Commands,
) -> Result<()> {
    let staged = OutputDir::begin(dir, replace, inputs)?;
    for (name, bytes) in files(job, dir, commands)? {
        staged.write(name, &bytes)?;
    }
    let logs = staged.path(LOGS);
    std::fs::create_dir(&logs).map_err(|e| Error::io(&logs, e))?;
    staged.commit()?;
    let mut later: Vec<String> = (1..=job.shards).map(|k| format!("shard-{k}")).collect();
    later.push(MERGED.to_string());
    let later: Vec<&str> = later.iter().map(String::as_str).collect();
    staging::record_files(dir, &later)
}

/// Whether a rerun keeps the script `name` of the job directory as it is instead of writing
/// `new`: when a user edited it after tradesim wrote it (its bytes no longer match the
/// fingerprint in the marker) and `new` is what tradesim wrote then, the edits are what the
/// user means to run. An edited script the rerun would write otherwise (other options, another
/// tradesim) is refused, naming it. A script whose fingerprint the marker does not record is
/// written: a job directory of an older tradesim, whose reruns rewrote the scripts without
/// recording them, so that neither its bytes nor its time tell a user's edit from tradesim's.
fn keep_edited(dir: &Path, name: &str, new: &[u8]) -> Result<bool> {
    let Some(recorded) = staging::as_written(dir, name)? else {
        return Ok(false);
    };
    let p = dir.join(name);
    let bytes = match std::fs::read(&p) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(&p, e)),
    };
    if bytes == new || staging::fingerprint(&bytes) == recorded {
        return Ok(false);
    }
    if staging::fingerprint(new) == recorded {
        return Ok(true);
    }
    Err(Error::invalid(
        p.display().to_string(),
        format!("was changed after tradesim wrote it, and this rerun would write it otherwise (with other options of the shards, or another tradesim), so nothing was written or submitted. To keep your edits, move it aside (to {name}.mine, say), run this again with `no_submit` to write tradesim's new {name}, carry your edits into it and run again: a rerun submits an edited script as it is when it would write it unchanged. To drop your edits, delete it and run again"),
    ))
}

/// Rewrite the job file and the scripts of an existing job directory (each file replaced
/// whole), for a rerun with the commands of this tradesim, all or nothing: a script a user
/// edited is kept when the rerun would write it as tradesim wrote it, and refused when it
/// would write it otherwise ([`keep_edited`]), before anything is written. The scripts
/// written are fingerprinted in the directory's marker. Returns the scripts kept.
pub fn rewrite(dir: &Path, job: &Job, commands: &Commands) -> Result<Vec<&'static str>> {
    let mut write = Vec::new();
    let mut kept = Vec::new();
    for (name, bytes) in files(job, dir, commands)? {
        if name != JOB_FILE && keep_edited(dir, name, &bytes)? {
            kept.push(name);
        } else {
            write.push((name, bytes));
        }
    }
    let logs = dir.join(LOGS);
    std::fs::create_dir_all(&logs).map_err(|e| Error::io(&logs, e))?;
    crate::output::write_all(dir, &write)?;
    let scripts: Vec<&str> = write
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| *name != JOB_FILE)
        .collect();
    staging::record_files(dir, &scripts)?;
    Ok(kept)
}

/// Save the job file (after a submission).
pub fn save(dir: &Path, job: &Job) -> Result<()> {
    crate::output::write_all(dir, &[(JOB_FILE, job_json(job)?)])
}

/// The job of a job directory.
pub fn read_job(dir: &Path) -> Result<Job> {
    crate::output::batch::read_json(
        dir,
        JOB_FILE,
        &format!(
            "holds no {JOB_FILE}: not the directory of a batch submitted to SLURM by tradesim"
        ),
        "a tradesim SLURM job file",
    )
}

/// sbatch's arguments for the array job of `shards`.
fn array_args(dir: &Path, job: &Job, shards: &[usize]) -> Vec<String> {
    let mut args = vec![
        "--parsable".to_string(),
        format!("--array={}", shard_list(shards)),
    ];
    args.extend(job.sbatch_options.iter().cloned());
    args.push(dir.join(SHARD_SCRIPT).display().to_string());
    args
}

/// sbatch's arguments for the merge job that waits for the array job `array`.
fn merge_args(dir: &Path, job: &Job, array: &str) -> Vec<String> {
    let mut args = vec![
        "--parsable".to_string(),
        format!("--dependency=afterany:{array}"),
    ];
    args.extend(job.sbatch_options.iter().cloned());
    args.push(dir.join(MERGE_SCRIPT).display().to_string());
    args
}

/// The shell command that submits `shards` of the job as [`submit`] does, for a submission by
/// hand: `j=$(sbatch … shard.sbatch) && sbatch --dependency=afterany:$j … merge.sbatch`.
pub fn submit_line(dir: &Path, job: &Job, shards: &[usize]) -> String {
    let merge: Vec<String> = merge_args(dir, job, "$j")
        .iter()
        .map(|a| {
            if a == "--dependency=afterany:$j" {
                a.clone()
            } else {
                shell_quote(a)
            }
        })
        .collect();
    format!(
        "j=$(sbatch {}) && sbatch {}",
        shell_line(&array_args(dir, job, shards)),
        merge.join(" ")
    )
}

/// Run sbatch with `args` and return the job id it prints (`--parsable`: `id[;cluster]`).
fn sbatch(args: &[String]) -> Result<String> {
    let out = Command::new("sbatch").args(args).output().map_err(|e| {
        Error::invalid(
            "sbatch",
            format!("cannot run sbatch ({e}): submit from a machine with SLURM's commands on the PATH (on many clusters: `module load slurm`), or write the job directory without submitting and submit its scripts by hand"),
        )
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(Error::invalid(
            format!("sbatch {}", shell_line(args)),
            format!(
                "failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    let id = stdout
        .lines()
        .last()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::invalid(
            "sbatch",
            format!("printed `{}` where a job id was expected", stdout.trim()),
        ));
    }
    Ok(id)
}

/// Submit `shards` of the job in `dir`: an array job of those shards, then the merge job that
/// waits for every task of it (`afterany`: it runs when they have ended, however). When the
/// merge job cannot be submitted, the array job is cancelled, so a submission is whole or
/// nothing. The submission is added to the job and saved.
pub fn submit(dir: &Path, job: &mut Job, shards: &[usize]) -> Result<Submission> {
    let array_job = sbatch(&array_args(dir, job, shards))?;
    let merge_job = match sbatch(&merge_args(dir, job, &array_job)) {
        Ok(id) => id,
        Err(e) => {
            let _ = Command::new("scancel").arg(&array_job).output();
            return Err(Error::invalid(
                "sbatch",
                format!(
                    "{e}\n(the array job {array_job} was cancelled: nothing is left submitted)"
                ),
            ));
        }
    };
    let s = Submission {
        shards: shards.to_vec(),
        array_job,
        merge_job,
    };
    job.submissions.push(s.clone());
    save(dir, job)?;
    Ok(s)
}

/// Which of these jobs SLURM still has queued or running (`squeue`); none when squeue is
/// absent or no longer knows them.
pub fn queued(ids: &[String]) -> Vec<String> {
    if ids.is_empty() {
        return Vec::new();
    }
    let out = Command::new("squeue")
        .args(["--noheader", "--format=%i", "--jobs", &ids.join(",")])
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// The command that submits shards of the job again, for a shell: `shards` is the list
/// (`2,5`), or a placeholder such as `SHARDS`.
pub fn rerun_line(job: &Job, shards: &str) -> String {
    let mut args = job.rerun_command.clone();
    args.push(shards.to_string());
    shell_line(&args)
}

/// What merging a job directory says when shards must be run again: each shard, why, and
/// where its log is, then the command that submits just them and a new merge job.
pub fn rerun_message(dir: &Path, job: &Job, reruns: &[Rerun]) -> String {
    let mut s = format!(
        "{} of the {} shards of batch `{}` must be run again before the shards can be merged:",
        reruns.len(),
        job.shards,
        job.name
    );
    for r in reruns {
        s.push_str(&format!("\n  shard {}: {}", r.shard, r.reason));
        if let Some(a) = job.array_job_of(r.shard) {
            s.push_str(&format!(
                " (log: {})",
                dir.join(LOGS)
                    .join(format!("shard-{}-{a}.out", r.shard))
                    .display()
            ));
        }
    }
    let list: Vec<usize> = reruns.iter().map(|r| r.shard).collect();
    if !job.keep_going {
        // The shards stop at a failed draw, which fails again: the log says so.
        s.push_str("\n(a shard that stopped at a draw that failed, as its log says, fails the same way again; the option keep_going records failed draws in failures.csv and goes on)");
    }
    s.push_str(&format!(
        "\nrun just these shards again (a job array of them and a new merge job):\n  {}",
        rerun_line(job, &shard_list(&list))
    ));
    s
}

/// What is about to replace a job's `merged/` whole, for [`check_merged`]: the job's merge
/// ([`merge_job`]; with `force` it replaces a `report.html` the user edited there), or a
/// rerun of some of its shards, which submits a merge job that will.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merging {
    /// The merge, now.
    Now {
        /// Replace a `report.html` edited after tradesim wrote it.
        force: bool,
    },
    /// A rerun of some shards: its merge job, later.
    Later,
}

/// Refuse when the job's `merged/` holds a user's work that a merge of the job would delete
/// (the merge replaces `merged/` whole): files tradesim did not write (never replaced), or
/// a `report.html` changed after tradesim wrote it (replaced only by a merge with `force`).
/// Each is named with how to go on. Returns whether `merged/` holds a `report.html` the merge
/// may replace (one tradesim wrote), which [`merge_job`] writes again from the new merge.
pub fn check_merged(dir: &Path, merging: Merging) -> Result<bool> {
    let merged = dir.join(MERGED);
    if let Some(e) = user_work_in_merged(dir, &staging::user_work(&merged)?, merging) {
        return Err(e);
    }
    Ok(merged.join(crate::report::html::FILE).is_file())
}

/// The refusal of [`check_merged`] when `work` (found in the job's `merged/`) is in the way.
fn user_work_in_merged(dir: &Path, work: &staging::UserWork, merging: Merging) -> Option<Error> {
    let merged = dir.join(MERGED);
    let (outcome, again) = match merging {
        Merging::Now { .. } => ("nothing was merged", "merge again"),
        Merging::Later => ("nothing was written or submitted", "run this again"),
    };
    let whole = format!("a merge of the job replaces {} whole", merged.display());
    let mut errors = Vec::new();
    if !work.foreign.is_empty() {
        errors.push(Error::invalid(
            merged.display().to_string(),
            format!(
                "holds files tradesim did not write ({}), and {whole}, so {outcome}. Move them out of {} and {again} (`force` never replaces files tradesim did not write)",
                work.foreign.join(", "),
                merged.display()
            ),
        ));
    }
    if merging != (Merging::Now { force: true }) {
        for (name, how) in &work.edited {
            let drop = match merging {
                Merging::Now { .. } => format!(
                    "merge with force (`tradesim merge --job {} --force`), which writes the new merge's own {name}",
                    dir.display()
                ),
                Merging::Later => "delete it and run this again".to_string(),
            };
            errors.push(Error::invalid(
                merged.join(name).display().to_string(),
                format!(
                    "was changed after tradesim wrote it ({how}), and {whole}, so {outcome}. To keep your edits, move it out of {} (to {}, say) and {again}; to drop them, {drop}",
                    merged.display(),
                    dir.join(name).display()
                ),
            ));
        }
    }
    (!errors.is_empty()).then(|| Error::one_or_many(errors))
}

/// Merge the shards of the job in `dir` into `dir/merged` (replacing an earlier merge), or
/// fail with [`rerun_message`] when shards must be run again (`shards_to_rerun`); a shard
/// whose tables the merge finds incomplete is named with the command that reruns it as a job.
/// A user's work in `merged/` is never deleted ([`check_merged`], checked again just before
/// the earlier merge is replaced): files tradesim did not write refuse the merge, and so does
/// a `report.html` edited after tradesim wrote it, unless `force`. A `report.html` that was
/// there is written again from the new merge, so that it shows the merged results. Returns
/// the merge's report and whether it wrote `report.html`.
pub fn merge_job(dir: &Path, force: bool) -> Result<(BatchReport, bool)> {
    let job = read_job(dir)?;
    let dirs = shard_dirs(dir, job.shards);
    let reruns = shards_to_rerun(&dirs);
    if !reruns.is_empty() {
        return Err(Error::invalid(
            dir.display().to_string(),
            rerun_message(dir, &job, &reruns),
        ));
    }
    let merging = Merging::Now { force };
    let report_again = check_merged(dir, merging)?;
    // A shard found incomplete while merging is run again as a job, like those listed above.
    let again = |m: &Manifest, _: &Path| {
        format!(
            "run shard {} of {} again (a job array of it and a new merge job): {}",
            m.shard,
            m.shards,
            rerun_line(&job, &m.shard.to_string())
        )
    };
    let merged = dir.join(MERGED);
    let out = OutputDir::begin(&merged, true, &dirs)?.keeping_edits(!force);
    let mut report = merge(&dirs, &out, &again)?;
    if report_again {
        let mut data = crate::report::html::ReportData::load(out.staging_dir())?;
        // Read from the staging directory, it reports on merged/.
        data.source = merged.display().to_string();
        crate::report::html::write(out.staging_dir(), &data, false)?;
        report.files.push(crate::report::html::FILE.to_string());
    }
    // A user's work that appeared while merging is named as it would have been at the start.
    out.commit().map_err(|e| {
        staging::user_work(&merged)
            .ok()
            .and_then(|work| user_work_in_merged(dir, &work, merging))
            .unwrap_or(e)
    })?;
    Ok((report, report_again))
}

/// The job of `dir` for a rerun of `shards` as `new` (the job the rerun's options describe):
/// it must be the job of the same batch file in the same number of shards, and a rerun of
/// some of its shards must run them with its draws and bilateral tables, since shards of
/// different runs are not merged (`rerun` names the option in errors).
pub fn job_to_rerun(dir: &Path, new: &Job, shards: &[usize]) -> Result<Job> {
    let old = read_job(dir)?;
    let (batch, n) = (&new.batch, new.shards);
    if &old.batch != batch || old.shards != n {
        return Err(Error::invalid(
            dir.display().to_string(),
            format!(
                "holds the job of {} in {} shards, not of {batch} in {n}; its shards are run again with: {}",
                old.batch,
                old.shards,
                rerun_line(&old, "SHARDS")
            ),
        ));
    }
    if let Some(bad) = shards.iter().find(|k| **k == 0 || **k > n) {
        return Err(Error::invalid(
            "rerun",
            format!("shard {bad}: the job has shards 1 to {n}"),
        ));
    }
    // A job file written before draws and tables were recorded has no `bilateral`.
    let recorded = !old.bilateral.is_empty();
    let differs = old.draws != new.draws || old.bilateral != new.bilateral;
    if recorded && differs && shards.len() < n {
        let list = shard_list(shards);
        return Err(Error::invalid(
            dir.display().to_string(),
            format!(
                "the job runs its shards with {} draws per scenario and bilateral tables `{}`, but this rerun would run shard(s) {list} with {} and `{}`, and shards of different runs cannot be merged; run them as the job did: {}; or, to change the draws or tables, run all {n} shards again: {}",
                old.draws,
                old.bilateral,
                new.draws,
                new.bilateral,
                rerun_line(&old, &list),
                rerun_line(new, &shard_list(&(1..=n).collect::<Vec<_>>()))
            ),
        ));
    }
    Ok(old)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_split_like_a_shell() {
        assert_eq!(
            split_options(" --time=01:00:00  --comment='a b' -p \"x y\" c\\ d").unwrap(),
            ["--time=01:00:00", "--comment=a b", "-p", "x y", "c d"]
        );
        assert!(split_options("--comment='a").is_err());
        assert!(split_options("").unwrap().is_empty());
    }

    #[test]
    fn reserved_options_are_refused() {
        for bad in [
            "--array=1-3",
            "-a",
            "-a1-3",
            "--dependency=afterok:1",
            "--output",
            "-o",
            "--wrap=x",
            "--parsable",
        ] {
            let e = check_options(&[bad.to_string()]).unwrap_err();
            assert!(e.contains("remove it"), "{bad}: {e}");
        }
        let ok: Vec<String> = [
            "--time=1:00:00",
            "-p",
            "short",
            "--cpus-per-task=8",
            "--mem=8G",
            "--hold",
            "--account=abc",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        check_options(&ok).unwrap();
    }

    #[test]
    fn quoting_and_placeholders() {
        assert_eq!(shell_quote("/a/b-c_d.ron"), "/a/b-c_d.ron");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(script_word("{shard}/3"), "\"$shard\"/3");
        assert_eq!(script_word("/x y/shard-{shard}"), "'/x y/shard-'\"$shard\"");
        assert_eq!(script_word("{cpus}"), "\"$cpus\"");
        assert_eq!(script_word(""), "''");
    }

    /// A rerun of some shards with other draws than the job's is refused, a job of only
    /// central runs (draws 0) included; all shards may change them; an older job file (no
    /// tables recorded) is not judged.
    #[test]
    fn a_partial_rerun_keeps_the_jobs_draws() {
        let d = tempfile::tempdir().unwrap();
        let mut old = job();
        old.shards = 2;
        old.draws = 0;
        save(d.path(), &old).unwrap();
        let mut new = old.clone();
        new.draws = 5;
        let e = job_to_rerun(d.path(), &new, &[1]).unwrap_err().to_string();
        assert!(e.contains("with 0 draws per scenario"), "{e}");
        assert!(job_to_rerun(d.path(), &new, &[1, 2]).is_ok());
        old.bilateral.clear();
        save(d.path(), &old).unwrap();
        assert!(job_to_rerun(d.path(), &new, &[1]).is_ok());
    }

    fn job() -> Job {
        Job {
            name: "LAC-Asia options".into(),
            batch: "/b/batch.ron".into(),
            shards: 3,
            sbatch_options: vec!["--time=1:00:00".into()],
            rerun_command: vec!["tradesim".into(), "again".into()],
            submissions: vec![],
            draws: 20,
            bilateral: "central".into(),
            keep_going: false,
        }
    }

    #[test]
    fn scripts_run_the_commands_given() {
        let dir = Path::new("/jobs/run 1");
        let shard = shard_script(
            &job(),
            dir,
            &[
                "/bin/tradesim".into(),
                "batch".into(),
                "--shard".into(),
                format!("{SHARD}/3"),
                "--out".into(),
                format!("/jobs/run 1/shard-{SHARD}"),
                "--threads".into(),
                CPUS.into(),
            ],
        );
        assert!(shard.starts_with("#!/bin/bash\n"), "{shard}");
        assert!(
            shard.contains("#SBATCH --job-name=tradesim-LAC-Asia_options\n"),
            "{shard}"
        );
        assert!(
            shard.contains("#SBATCH --output=\"/jobs/run 1/logs/shard-%a-%A.out\"\n"),
            "{shard}"
        );
        assert!(
            shard.contains("exec /bin/tradesim batch --shard \"$shard\"/3 --out '/jobs/run 1/shard-'\"$shard\" --threads \"$cpus\"\n"),
            "{shard}"
        );
        let merge = merge_script(&job(), dir, &["/bin/tradesim".into(), "merge".into()]);
        assert!(
            merge.contains("#SBATCH --output=\"/jobs/run 1/logs/merge-%j.out\"\n"),
            "{merge}"
        );
        assert!(merge.ends_with("exec /bin/tradesim merge\n"), "{merge}");
        assert_eq!(
            submit_line(dir, &job(), &[2, 3, 5]),
            "j=$(sbatch --parsable --array=2-3,5 --time=1:00:00 '/jobs/run 1/shard.sbatch') && sbatch --parsable --dependency=afterany:$j --time=1:00:00 '/jobs/run 1/merge.sbatch'"
        );
    }

    #[test]
    fn job_file_round_trips_and_knows_each_shards_last_array() {
        let mut j = job();
        j.submissions.push(Submission {
            shards: vec![1, 2, 3],
            array_job: "10".into(),
            merge_job: "11".into(),
        });
        j.submissions.push(Submission {
            shards: vec![2],
            array_job: "12".into(),
            merge_job: "13".into(),
        });
        let back: Job = serde_json::from_slice(&job_json(&j).unwrap()).unwrap();
        assert_eq!(back, j);
        assert_eq!(j.array_job_of(2), Some("12"));
        assert_eq!(j.array_job_of(3), Some("10"));
        assert_eq!(j.job_ids(), ["10", "11", "12", "13"]);
    }
}
