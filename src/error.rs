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
    /// The dataset holds no file palpa reads as a recording (exit code 2): it says what
    /// the folder does hold, since an empty report would read as "nothing found".
    #[error("no recordings in {}: {found}; palpa reads {}", dataset.display(), crate::ingest::READABLE)]
    NothingToRead {
        /// The dataset folder.
        dataset: PathBuf,
        /// What it holds instead, counted by extension (`3 .txt and 1 .h5 files`).
        found: String,
    },
    /// Standard output was closed by its reader (`palpa inspect … | head`): palpa stops
    /// quietly, as a pipe's writer should.
    #[error("standard output was closed")]
    StdoutClosed,
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

/// What a command did: how many inputs it processed, skipped and failed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Inputs processed.
    pub done: usize,
    /// Inputs read but with nothing palpa analyses (DESIGN §9), each with its reason.
    pub skipped: usize,
    /// Inputs that failed; each was reported with its error.
    pub failed: usize,
}

impl Outcome {
    /// True when something failed, or when inputs were given and none was analysed:
    /// exit code 2, since an empty result must not pass for a clean one.
    pub fn incomplete(&self) -> bool {
        self.failed > 0 || (self.done == 0 && self.skipped > 0)
    }
}
