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
    /// Data preparation: build baselines from sourced facts.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
}

#[derive(Subcommand)]
enum DataCommand {
    /// Build the built-in world `apac-americas-2014` from the sourced facts
    /// (economies_2014.csv, bilateral_2014.csv) in the tidy baseline format.
    BuildWorld {
        /// Directory holding economies_2014.csv and bilateral_2014.csv.
        #[arg(long, default_value = "../shared/facts")]
        facts: PathBuf,
        /// Output directory (created if absent; PROVENANCE.md there is left untouched).
        #[arg(long, default_value = "data/apac-americas-2014")]
        out: PathBuf,
    },
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Data {
            command: DataCommand::BuildWorld { facts, out },
        } => {
            let world = tradesim::world::build(&facts).map_err(|e| e.to_string())?;
            world.write(&out).map_err(|e| e.to_string())?;
            println!("{}", world.summary);
            println!("wrote {}", out.display());
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
