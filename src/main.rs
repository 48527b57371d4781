//! The `palpa` binary: parse the command line, run the subcommand, map the outcome to an
//! exit code — 0 all ok, 1 nothing could be done, 2 some inputs failed or none could be
//! analysed (DESIGN §5, §9), and 130 when Ctrl-C stopped a run (the shell convention,
//! 128 + SIGINT). A closed standard output ends palpa quietly, with 0.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod cmd;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => tracing::Level::ERROR,
        (false, 0) => tracing::Level::WARN,
        (false, 1) => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .init();
    let result = match cli.command {
        Command::Run(a) => cmd::run::run(a, cli.quiet),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Evaluate(a) => cmd::evaluate::run(a),
        Command::Merge(a) => cmd::merge::run(a),
        Command::Config => cmd::config::run(),
    };
    match result {
        Ok(outcome) if outcome.incomplete() => ExitCode::from(2),
        Ok(_) | Err(palpa::Error::StdoutClosed) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(match e {
                palpa::Error::Interrupted { .. } => 130,
                palpa::Error::NothingToRead { .. } => 2,
                _ => 1,
            })
        }
    }
}
