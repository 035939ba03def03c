//! `tripoint`: the command-line tool. Thin: parses arguments, reads and writes files, shows
//! progress, and calls the library crates.

mod csvio;
mod montecarlo;
mod sim_cmd;
mod track_cmd;
mod warn_cmd;

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
    /// Track a simulation's detections: writes tracks.csv and products.jsonl.
    Track(track_cmd::TrackArgs),
    /// Score tracks against the truth (GOSPA, RMSE, impact miss, ellipse coverage), or run a
    /// Monte Carlo campaign.
    Score(track_cmd::ScoreArgs),
    /// Public warnings: run a scenario through sim → track → warn (CAP 1.2 and a timeline), or
    /// a Monte Carlo campaign of false warnings and misses.
    #[command(subcommand)]
    Warn(warn_cmd::WarnCommand),
}

fn main() -> ExitCode {
    // A closed pipe (`tripoint … | head`) ends the program quietly, as for any Unix tool,
    // instead of a panic in `println!`.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; restoring the default
    // disposition of SIGPIPE has no other effect on the program's state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sim(cmd) => sim_cmd::run(cmd),
        Command::Track(a) => track_cmd::run_track(&a),
        Command::Score(a) => track_cmd::run_score(&a),
        Command::Warn(cmd) => warn_cmd::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
