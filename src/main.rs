//! The `tradesim` command line: parsing (`cli.rs`), the terminal (progress bars, printing)
//! and the mapping of flags to the library's option fields and back (in errors). The work
//! lives in the library's `workflow` functions, which return what is printed here.

mod cli;

use clap::Parser;
use cli::{flags, in_flags, slurm_commands};
use cli::{Cli, Command, DataCommand, EstimateArgs, Format, ImportSource, SchemaKind};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tradesim::error::{Error, Result};
use tradesim::workflow::{self, batch, data, run};
use tradesim::{estimate, scenario, simulate};

/// Set when stdout is a closed pipe (`tradesim check FILE | head -2`): further output is
/// dropped, the command finishes its work (outputs are still written whole) and exits quietly.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// A failure to write to stdout other than a closed pipe (a full disk): reported at the end.
static STDOUT_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// Every line for stdout goes through here (never `print!`, which panics on a closed pipe).
fn out(text: std::fmt::Arguments) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_fmt(text).and_then(|_| o.flush()) {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            if let Ok(mut slot) = STDOUT_ERROR.lock() {
                slot.get_or_insert(e.to_string());
            }
        }
    }
}

/// Messages for stderr (warnings, diagnostics, errors); a closed stderr is ignored.
fn err(text: std::fmt::Arguments) {
    let _ = std::io::stderr().lock().write_fmt(text);
}

macro_rules! say {
    ($($t:tt)*) => { out(format_args!($($t)*)) };
}
macro_rules! sayln {
    ($($t:tt)*) => { out(format_args!("{}\n", format_args!($($t)*))) };
}
macro_rules! esay {
    ($($t:tt)*) => { err(format_args!($($t)*)) };
}
macro_rules! esayln {
    ($($t:tt)*) => { err(format_args!("{}\n", format_args!($($t)*))) };
}

/// Print warnings on stderr.
fn warn_all(warnings: &[String]) {
    for w in warnings {
        esayln!("warning: {w}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // An interrupted run leaves no partial output: remove the staging directories, exit 130.
    // Output put in place before the signal (whole) is named.
    let _ = ctrlc::set_handler(|| {
        let written = tradesim::output::staging::abandon_all();
        if written.is_empty() {
            esayln!("interrupted: no output was written");
        } else {
            let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
            let (these, were) = match names.len() {
                1 => ("", "was"),
                _ => ("these ", "were"),
            };
            esayln!(
                "interrupted: {these}{} {were} written in full before the interrupt; nothing else was written",
                names.join(", ")
            );
        }
        std::process::exit(130);
    });
    let result = dispatch(cli.command).map_err(in_flags);
    // Interrupted while output was put in place (the handler waits for that): the handler
    // says what was written and exits with 130.
    while tradesim::output::staging::interrupted_now() {
        std::thread::park();
    }
    let stdout_error = STDOUT_ERROR.lock().ok().and_then(|mut e| e.take());
    match (result, stdout_error) {
        (Ok(()), None) => ExitCode::SUCCESS,
        (Ok(()), Some(e)) => {
            esayln!("error: writing to stdout failed: {e}; the output shown is incomplete");
            ExitCode::FAILURE
        }
        (Err(e), _) => {
            esayln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Run the command; errors name option fields, mapped to flags by the caller ([`in_flags`]).
fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run {
            scenario,
            out,
            threads,
            quiet,
            force,
            format,
            report,
        } => {
            workflow::set_threads(threads)?;
            let job = run::load(&scenario)?;
            warn_all(job.warnings());
            let bar = match job.progress() {
                Some((len, what)) => progress(len, quiet, &what),
                None => ProgressBar::hidden(),
            };
            let opts = run::RunOptions {
                out: &out,
                force,
                json: format == Format::Json,
                report,
            };
            let result = job.run(&opts, &|| bar.inc(1));
            bar.finish_and_clear();
            match result? {
                _ if quiet => {}
                run::RunReport::Scenario(r) => say!("{r}"),
                // A structural gravity run reports its solves on stderr.
                run::RunReport::Gravity(r) => esay!("{r}"),
            }
        }
        Command::Report {
            dir,
            scenario,
            compare,
            focus,
            force,
        } => {
            let path = workflow::report::write(&dir, &scenario, &compare, &focus, force)?;
            sayln!("wrote {}", path.display());
        }
        Command::Schema { kind } => match kind {
            SchemaKind::Scenario => sayln!("{}", scenario::schema::scenario_json()),
            SchemaKind::Batch => sayln!("{}", scenario::schema::batch_json()),
        },
        Command::Check { scenario, all } => {
            let r = run::check(&scenario, all)?;
            warn_all(&r.warnings);
            say!("{r}");
        }
        Command::Batch {
            batch,
            out,
            threads,
            shard,
            slurm,
            slurm_opts,
            rerun,
            no_submit,
            keep_going,
            bilateral,
            chunk,
            quiet,
            force,
            report,
            draws,
        } => {
            let opts = simulate::batch::BatchOptions {
                shard,
                keep_going,
                bilateral,
                chunk,
            };
            if let Some(shards) = slurm {
                let plan = batch::plan_slurm(&batch::SlurmRequest {
                    batch: &batch,
                    out: &out,
                    shards,
                    sbatch_options: &slurm_opts,
                    draws,
                })?;
                let (commands, rerun_command) =
                    slurm_commands(&plan, &slurm_opts, threads, draws, &opts)?;
                let rerun = rerun.map(|r| r.within(shards)).transpose()?;
                let r = plan.submit(batch::SlurmSubmit {
                    commands,
                    rerun_command,
                    rerun: rerun.as_deref(),
                    bilateral,
                    keep_going,
                    no_submit,
                    force,
                })?;
                if no_submit || !quiet {
                    say!("{r}");
                }
                return Ok(());
            }
            workflow::set_threads(threads)?;
            let job = batch::BatchJob::load(&batch, draws)?;
            warn_all(&job.warnings());
            let (len, what) = job.progress(opts.shard);
            let bar = progress(len, quiet, &what);
            let run_opts = batch::BatchRunOptions {
                out: &out,
                force,
                report,
                batch: &opts,
            };
            let result = job.run(&run_opts, &|| bar.inc(1));
            bar.finish_and_clear();
            let r = result?;
            if !quiet {
                say!("{r}");
            }
        }
        Command::Merge {
            dirs,
            out,
            job,
            force,
        } => match (job, out) {
            (Some(job), _) => say!("{}", batch::merge_job(&job, force)?),
            (None, Some(out)) => say!("{}", batch::merge(&dirs, &out, force)?),
            (None, None) => return Err(Error::invalid("merge", "give --out DIR (or --job DIR)")),
        },
        Command::Data { command } => data_cmd(command)?,
        // The estimation names its option fields (`max_iter`): [`cli::FLAGS`].
        Command::Estimate(a) => estimate_cmd(a).map_err(|e| e.map_text(&flags))?,
        Command::Etable { fits, table } => {
            let text = workflow::estimate::etable(&fits, &table).map_err(|e| e.map_text(&flags))?;
            say!("{text}");
        }
    }
    Ok(())
}

fn estimate_cmd(a: EstimateArgs) -> Result<()> {
    let ssc: estimate::Ssc = a
        .ssc
        .parse()
        .map_err(|e: Error| Error::invalid("estimate", e.to_string()))?;
    let cluster: Vec<String> = a
        .cluster
        .iter()
        .flat_map(|c| c.split('+').map(|s| s.trim().to_string()))
        .filter(|s| !s.is_empty())
        .collect();
    let bar = ProgressBar::new(a.max_iter as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} IRLS {pos}/{len} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message("reading and checking the data");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let hook_bar = bar.clone();
    let options = estimate::PpmlOptions {
        subset: a.subset,
        cluster,
        offset: a.offset,
        ssc,
        tol: a.tol,
        max_iter: a.max_iter,
        demean: estimate::DemeanOptions {
            tol: a.inner_tol,
            ..Default::default()
        },
        loose_inner: true,
        drop_singletons: a.drop_singletons,
        relu: a.separation == "relu",
        allow_unconverged: a.allow_unconverged,
        drop_missing: true,
        progress: Some(estimate::ProgressHook(std::sync::Arc::new(move |p| {
            hook_bar.set_position(p.iteration as u64);
            hook_bar.set_message(format!(
                "deviance change {:.1e} (target {:.0e}), {} sweeps",
                p.criterion, p.tol, p.sweeps
            ));
        }))),
    };
    let result = workflow::estimate::estimate(&workflow::estimate::EstimateRequest {
        data: &a.data,
        formula: &a.formula,
        define: &a.define,
        options,
        na_values: a.na_values.unwrap_or_default(),
        json: a.json,
        table: a.table.as_deref(),
        fe_out: a.fe_out.as_deref(),
        fitted_out: a.fitted_out.as_deref(),
        force: a.force,
    });
    bar.finish_and_clear();
    let fits = result?;
    for n in &fits.notes {
        esayln!("note: {n}");
    }
    warn_all(&fits.warnings);
    say!("{fits}");
    fits.finish()
}

fn data_cmd(command: DataCommand) -> Result<()> {
    let line = match command {
        DataCommand::BuildWorld {
            facts,
            extra_facts,
            agreements,
            out,
            force,
        } => data::build_world(&facts, &extra_facts, &agreements, &out, force)?,
        DataCommand::SyntheticWorld {
            out,
            economies,
            sectors,
            no_io,
            seed,
            force,
            large,
        } => data::synthetic_world(&out, economies, sectors, !no_io, seed, force, large)?,
        DataCommand::SyntheticFdi {
            out,
            economies,
            seed,
            force,
        } => data::synthetic_fdi(&out, economies, seed, force)?,
        DataCommand::SyntheticBaci {
            out,
            rows,
            seed,
            force,
            large,
        } => {
            let bar = progress(rows, false, "writing synthetic BACI");
            let r = data::synthetic_baci(&out, rows, seed, force, large, &|n| bar.inc(n));
            bar.finish_and_clear();
            r?.iter()
                .map(|f| format!("wrote {} (synthetic, not real data)", f.display()))
                .collect::<Vec<_>>()
                .join("\n")
        }
        DataCommand::Import { source } => import(source)?,
    };
    sayln!("{line}");
    Ok(())
}

fn import(source: ImportSource) -> Result<String> {
    match source {
        ImportSource::Icio {
            data,
            edition,
            industries,
            hs,
            map,
        } => {
            let map = map.mapping();
            let bar = byte_progress(Some(&data), "reading ICIO");
            let r = data::import_icio(&data, &edition, industries.as_deref(), &hs, &map, &|n| {
                bar.inc(n)
            });
            bar.finish_and_clear();
            r?.commit(&map)
        }
        ImportSource::Baci {
            data,
            countries,
            domestic,
            year,
            hs,
            map,
        } => {
            let map = map.mapping();
            let files = data::BaciFiles {
                data: &data,
                countries: &countries,
                domestic: &domestic,
                year,
                hs: &hs,
            };
            let bar = byte_progress(Some(&data), "reading BACI");
            let r = data::import_baci(&files, &map, &|n| bar.inc(n));
            bar.finish_and_clear();
            let imported = r?;
            if let Some(s) = &imported.summary {
                sayln!("{s}");
            }
            imported.commit(&map)
        }
        ImportSource::Wits {
            mfn,
            preferential,
            year,
            countries,
            weights,
            hs,
            sectors,
            regions,
            out,
            force,
        } => {
            let bar = byte_progress(weights.as_deref(), "reading import weights");
            let files = data::WitsFiles {
                mfn: &mfn,
                preferential: &preferential,
                year,
                countries: &countries,
                weights: weights.as_deref(),
                hs: &hs,
                sectors: &sectors,
                regions: &regions,
                out: &out,
                force,
            };
            let r = data::import_wits(&files, &|n| bar.inc(n));
            bar.finish_and_clear();
            r
        }
        ImportSource::Gravity {
            data,
            years,
            economies,
            covariates,
            out,
            force,
        } => {
            let bar = byte_progress(Some(&data), "reading CEPII Gravity");
            let g = data::GravityCovariates {
                data: &data,
                years: &years,
                economies: &economies,
                covariates: &covariates,
                out: &out,
                force,
            };
            let r = data::import_gravity(&g, &|n| bar.inc(n));
            bar.finish_and_clear();
            r
        }
    }
}

/// A progress bar of `len` steps, hidden when quiet or when stderr is not a terminal.
fn progress(len: u64, quiet: bool, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {elapsed_precise} (ETA {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// A progress bar in bytes over a file (hidden without one).
fn byte_progress(path: Option<&Path>, what: &str) -> ProgressBar {
    let Some(path) = path else {
        return ProgressBar::hidden();
    };
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(len);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:40}] {bytes}/{total_bytes} {elapsed_precise} (ETA {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}
