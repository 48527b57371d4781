//! palpa: a batch pipeline for palpation-session recordings — the force a therapist or
//! algometer applies, and surface EMG of the muscles under the finger.
//!
//! The modules follow the data (DESIGN §1): [`ingest`] turns files into
//! [`model::Recording`]s; [`signal`] filters and measures samples as SciPy would;
//! [`detect`] judges them (channel quality, contact episodes); [`audit`] checks technique
//! against the protocol; [`summary`] and [`report`] write the tables and the report;
//! [`pipeline`] strings the stages together for each command, with [`batch`] keeping what
//! `--resume` and `palpa merge` need. Every tunable number lives in [`config`].

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod audit;
pub mod batch;
pub mod cli;
pub mod config;
pub mod detect;
pub mod evaluate;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod signal;
pub mod simulate;
pub mod summary;
#[cfg(test)]
mod testing;
mod turns;

use std::path::PathBuf;

/// Why a command could not run at all (exit code 1). A recording that fails inside a batch
/// is not an `Error`: it is counted in [`Outcome::failed`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file is unreadable or invalid.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// An input could not be read.
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    /// A folder given to `palpa merge` is not a complete, matching shard of one run.
    #[error("{}: {message}", path.display())]
    Shard {
        /// The shard folder or the file in it.
        path: PathBuf,
        /// What does not fit.
        message: String,
    },
    /// Ctrl-C stopped `palpa run` before every recording was done (exit code 130).
    #[error(
        "interrupted after {done} of {total} recordings; no table was written. The finished \
         recordings are kept in {}: run the same command with --resume to go on from there",
        out.display()
    )]
    Interrupted {
        /// Recordings finished (and kept for `--resume`).
        done: usize,
        /// Recordings the run had to do.
        total: usize,
        /// The output folder.
        out: PathBuf,
    },
    /// An output could not be written.
    #[error("{}: {message}", path.display())]
    Output {
        /// The output file or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// [`Error::Output`] for `path`, with what went wrong.
pub(crate) fn output_error(path: &std::path::Path, e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// What a command did: how many inputs failed (exit code 2 when any did).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Inputs processed.
    pub done: usize,
    /// Inputs that failed; each was reported with its error.
    pub failed: usize,
}
