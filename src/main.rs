//! The `palpa` binary: parse the command line, call the library, map the outcome to an exit
//! code — 0 all ok, 1 nothing could be done, 2 some inputs failed (DESIGN §5), and 130 when
//! Ctrl-C stopped a run (the shell convention, 128 + SIGINT; DESIGN names no code for it).

use std::process::ExitCode;

use clap::Parser;
use palpa::cli::{Cli, Command};

mod alloc;

#[global_allocator]
static ALLOCATOR: alloc::ZeroedByCalloc = alloc::ZeroedByCalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    if let Command::Run(a) = &cli.command {
        // `-j` caps polars' decoding threads too. Its pool starts at the first read and
        // reads this then; nothing else runs yet, so setting the variable races no thread.
        if let Some(jobs) = a.jobs {
            std::env::set_var("POLARS_MAX_THREADS", jobs.to_string());
        }
    }
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
    let result: anyhow::Result<palpa::Outcome> = match cli.command {
        Command::Run(a) => palpa::pipeline::run(&a).map_err(Into::into),
        Command::Inspect(a) => palpa::pipeline::inspect(&a).map_err(Into::into),
        Command::Export(a) => palpa::pipeline::export(&a).map_err(Into::into),
        Command::Simulate(a) => palpa::pipeline::simulate(&a).map_err(Into::into),
        Command::Evaluate(a) => palpa::pipeline::evaluate(&a).map_err(Into::into),
        Command::Merge(a) => palpa::pipeline::merge(&a).map_err(Into::into),
        Command::Config => {
            print!("{}", palpa::config::Config::default().to_toml());
            Ok(palpa::Outcome::default())
        }
    };
    match result {
        Ok(outcome) if outcome.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(2),
        Err(e) => {
            // `{e}`, not `{e:#}`: palpa's errors already quote their cause, which the
            // alternate form would print a second time.
            tracing::error!("{e}");
            match e.downcast_ref::<palpa::Error>() {
                // 128 + SIGINT, as shells report a command Ctrl-C ended.
                Some(palpa::Error::Interrupted { .. }) => ExitCode::from(130),
                _ => ExitCode::from(1),
            }
        }
    }
}
