//! `tripoint`: the command-line tool. Thin: parses arguments, reads and writes files, shows
//! progress, and calls the library crates.

mod sim_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tripoint",
    version,
    about = "Trilateral missile-warning data sharing: simulator, tracker, warnings"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The synthetic world: run scenarios, solve trajectories.
    #[command(subcommand)]
    Sim(sim_cmd::SimCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sim(cmd) => sim_cmd::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
