//! `palpa export`: one Parquet file per channel, for cross-checks in other tools.

use palpa::{ingest, pipeline, Error, Outcome};

use crate::cli::ExportArgs;

pub fn run(args: ExportArgs) -> Result<Outcome, Error> {
    let cfg = super::load_config(args.config.as_deref(), Some(&args.file))?;
    let source = ingest::source_of_file(&args.file)?;
    for raw in pipeline::export(&source, &args.out, &cfg)? {
        tracing::warn!(
            "{}: channel `{}` is {}; exported raw only",
            args.file.display(),
            raw.channel,
            raw.why
        );
    }
    Ok(Outcome {
        done: 1,
        ..Outcome::default()
    })
}
