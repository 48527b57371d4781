//! `palpa merge`: the outputs of `run --shard K/N` joined into what one run would write.

use palpa::batch::{merge, MergeOptions};
use palpa::{Error, Outcome};

use crate::cli::MergeArgs;

pub fn run(args: MergeArgs) -> Result<Outcome, Error> {
    merge(&MergeOptions {
        shards: args.shards,
        out: args.out,
        format: args.format.into(),
    })
}
