//! What stops a command as a whole (exit code 1), and what a command that ran reports.
//! A recording that fails inside a batch is not an [`Error`]: it becomes a `failed` row and
//! is counted in [`Outcome::failed`] (exit code 2).

use std::path::{Path, PathBuf};

use crate::{config, ingest};

/// Why a command could not run at all.
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
pub fn output_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// What a command did: how many inputs it processed and how many failed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Inputs processed.
    pub done: usize,
    /// Inputs that failed; each was reported with its error.
    pub failed: usize,
}
