//! `palpa evaluate`: a run's detections against ground truth, as a table or JSON.

use palpa::evaluate::{evaluate, render, truth_of_run};
use palpa::{Error, Outcome};

use crate::cli::EvaluateArgs;

pub fn run(args: EvaluateArgs) -> Result<Outcome, Error> {
    let truth = match args.truth {
        Some(t) => t,
        None => truth_of_run(&args.out)?,
    };
    let scores = evaluate(&args.out, &truth)?;
    if args.json {
        super::print_out(&format!("{}\n", serde_json::json!(scores)))?;
    } else {
        super::print_out(&render(&scores))?;
    }
    Ok(Outcome {
        done: 1,
        ..Outcome::default()
    })
}
