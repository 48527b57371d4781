//! `palpa run`: every recording of a dataset through every stage, with a progress bar.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use palpa::batch::{run_dataset, RunOptions};
use palpa::{Error, Outcome};

use crate::cli::RunArgs;

/// Runs the dataset; unless `quiet`, ends with what became of the recordings and where
/// the report is, on stderr.
pub fn run(args: RunArgs, quiet: bool) -> Result<Outcome, Error> {
    let dataset = args
        .dataset
        .unwrap_or_else(|| PathBuf::from("datasets/demo"));
    let config = super::load_config(args.config.as_deref(), Some(&dataset))?;
    let jobs = args.jobs.map(std::num::NonZeroUsize::get);
    if let Some(jobs) = jobs {
        // `-j` caps polars' decoding threads too; its pool reads this when it starts, at
        // the first read, and no other thread runs yet.
        std::env::set_var("POLARS_MAX_THREADS", jobs.to_string());
    }
    let opts = RunOptions {
        dataset,
        out: args.out,
        config,
        format: args.format.into(),
        plots: !args.no_plots,
        jobs,
        shard: args.shard,
        resume: args.resume,
    };
    // One tick per recording (many small ticks from many threads contend on the bar);
    // indicatif hides it when stderr is not a terminal.
    let progress = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} recordings, {elapsed} elapsed, ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let outcome = run_dataset(
        &opts,
        |total| progress.set_length(total as u64),
        |_| progress.inc(1),
    );
    progress.finish_and_clear();
    let outcome = outcome?;
    if !quiet {
        let out = opts.output_folder();
        eprintln!(
            "palpa: {} recording{} analysed, {} skipped, {} failed; tables in {}; report {}",
            outcome.done,
            if outcome.done == 1 { "" } else { "s" },
            outcome.skipped,
            outcome.failed,
            out.display(),
            out.join("report.html").display()
        );
    }
    Ok(outcome)
}
