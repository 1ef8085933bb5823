//! The `tradesim` command line: argument parsing and dispatch only; the work lives in the library.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tradesim::estimate;

#[derive(Parser)]
#[command(
    name = "tradesim",
    version,
    about = "Trade-agreement scenario simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Estimate a gravity model by PPML with high-dimensional fixed effects.
    Estimate(EstimateArgs),
}

#[derive(clap::Args)]
struct EstimateArgs {
    /// CSV file with a header line.
    data: PathBuf,
    /// Formula in fixest syntax: 'y ~ x1 + log(x2) | fe1 + a^b'.
    #[arg(long)]
    formula: String,
    /// Cluster standard errors by a column or interaction a^b; repeat (or separate with '+')
    /// for two-way clustering. Without it: heteroskedasticity-robust.
    #[arg(long)]
    cluster: Vec<String>,
    /// Keep rows where this holds, e.g. 'year in 1986,1990 & exporter != importer'.
    #[arg(long)]
    subset: Option<String>,
    /// Derived column 'name = expression', e.g. 'pair = ifelse(exporter == importer, 0, pair_id)'. Repeatable; applied in order before --subset.
    #[arg(long)]
    define: Vec<String>,
    /// Offset with coefficient one: a column or log(column).
    #[arg(long)]
    offset: Option<String>,
    /// Small-sample correction of the standard errors: fixest (default), pyfixest, stata-ml (G/(G-1) only, fixest's ssc(adj = FALSE)), none.
    #[arg(long, default_value = "fixest")]
    ssc: String,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Write the estimated fixed effects to this CSV file (dimension,level,value).
    #[arg(long)]
    fe_out: Option<PathBuf>,
    /// Write fitted values (one per input row, empty when unused) to this CSV file.
    #[arg(long)]
    fitted_out: Option<PathBuf>,
    /// IRLS tolerance on the relative change in deviance.
    #[arg(long, default_value_t = 1e-8)]
    tol: f64,
    /// Tolerance of the inner demeaning (alternating projections).
    #[arg(long, default_value_t = 1e-10)]
    inner_tol: f64,
    /// Maximum IRLS iterations.
    #[arg(long, default_value_t = 100)]
    max_iter: usize,
    /// Also drop singleton observations (pyfixest's default fixef_rm="singleton").
    #[arg(long)]
    drop_singletons: bool,
}

fn estimate_cmd(a: EstimateArgs) -> Result<(), String> {
    let ssc: estimate::Ssc = a
        .ssc
        .parse()
        .map_err(|e: tradesim::error::Error| e.to_string())?;
    let cluster: Vec<String> = a
        .cluster
        .iter()
        .flat_map(|c| {
            c.split('+')
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect();
    let opts = estimate::PpmlOptions {
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
        drop_singletons: a.drop_singletons,
    };
    let fit = estimate::run(&a.data, &a.formula, &a.define, &opts).map_err(|e| e.to_string())?;
    for w in &fit.warnings {
        eprintln!("warning: {w}");
    }
    if a.json {
        let j = estimate::output::to_json(&fit);
        println!(
            "{}",
            serde_json::to_string_pretty(&j).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", estimate::output::table(&fit));
    }
    if let Some(p) = a.fe_out {
        std::fs::write(&p, estimate::output::fixed_effects_csv(&fit))
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if let Some(p) = a.fitted_out {
        std::fs::write(&p, estimate::output::fitted_csv(&fit))
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: Result<(), String> = match cli.command {
        Command::Estimate(a) => estimate_cmd(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
