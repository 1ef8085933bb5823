//! The `tradesim` command line: argument parsing and dispatch only; the work lives in the library.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Solve a single-sector structural gravity scenario (`StructuralGravity(...)` RON file)
    /// and write economies.csv and bilateral.csv (temporary: to be folded into `run`).
    Gravity {
        /// The scenario file.
        scenario: PathBuf,
        /// Output directory (created if needed).
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
}

fn gravity(scenario: &PathBuf, out: &PathBuf) -> Result<(), String> {
    let outcome = tradesim::gravity::run_gravity_scenario(scenario).map_err(|e| e.to_string())?;
    let paths =
        tradesim::gravity::write_gravity_tables(&outcome, out).map_err(|e| e.to_string())?;
    let f = &outcome.full;
    eprintln!(
        "{}: {} economies, {:?} procedure; full GE: {} iterations, market-clearing residual {:.1e}{}",
        outcome.scenario,
        outcome.names.len(),
        outcome.procedure,
        f.convergence.iterations,
        f.market_residual,
        outcome
            .guide_passes
            .map(|p| format!(" (the Guide's loop stopped after {p} passes)"))
            .unwrap_or_default()
    );
    for p in paths {
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Gravity { scenario, out } => gravity(scenario, out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
