//! Why a file could not become a [`Recording`](crate::model::Recording).
//!
//! Every variant names the file, and the place in it (header field, signal, line, column,
//! channel), and says what was expected and what was found (DESIGN §9).

use std::path::{Path, PathBuf};

/// An input that could not be read as a recording or sidecar.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The operating system refused.
    #[error("{}: cannot read this file: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A folder that cannot be listed (missing, or not readable).
    #[error("{}: cannot read this folder: {source}", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Content that breaks the format at a named place.
    #[error(
        "{}: {place}: expected {expected}, found {found}{}",
        path.display(),
        hint.as_deref().map(|h| format!("; hint: {h}")).unwrap_or_default()
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// Where: `header field \`number of signals\``, `line 17, column \`EMG1\``, …
        place: String,
        /// What the format requires there.
        expected: String,
        /// What the file holds there.
        found: String,
        /// The fix, where one is known, printed after the message as `; hint: …`.
        hint: Option<String>,
    },
    /// A unit that palpa cannot convert for the channel's kind.
    #[error(
        "{}: channel `{channel}`: {}; expected one of {expected}",
        path.display(),
        unit_problem(unit, kind)
    )]
    UnknownUnit {
        /// The file.
        path: PathBuf,
        /// The channel.
        channel: String,
        /// The unit as written.
        unit: String,
        /// `EMG`, `force` or `displacement`.
        kind: &'static str,
        /// The accepted spellings.
        expected: &'static str,
    },
    /// Polars failed on a table in a way palpa could not pin to a line.
    #[error("{}: {source}", path.display())]
    Table {
        /// The file.
        path: PathBuf,
        /// What polars said.
        source: polars::error::PolarsError,
    },
}

/// What is wrong with a channel's unit, and where a missing one goes.
fn unit_problem(unit: &str, kind: &str) -> String {
    if unit.is_empty() {
        "no unit is given (put it in the column header, as `EMG1 [uV]`, the EDF physical \
         dimension or the channels TSV)"
            .to_string()
    } else {
        format!("unit `{unit}` is not a known {kind} unit")
    }
}

/// Names as a user reads them in a message: `` `a`, `b`, `c` ``.
pub(crate) fn listing<T: std::fmt::Display>(names: impl IntoIterator<Item = T>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a text file must be, as every error about its encoding says.
pub(crate) const UTF8_EXPECTED: &str = "UTF-8 text (save the file as UTF-8)";

/// Longest `found` text a message quotes; a garbage file must not fill the terminal.
const FOUND_MAX_CHARS: usize = 160;

impl IngestError {
    /// A format error at `place` of `path`.
    pub(crate) fn format(
        path: &Path,
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> IngestError {
        let mut found: String = found.into();
        if let Some((cut, _)) = found.char_indices().nth(FOUND_MAX_CHARS) {
            found.truncate(cut);
            found.push_str("… (cut short)");
        }
        IngestError::Format {
            path: path.to_path_buf(),
            place: place.into(),
            expected: expected.into(),
            found,
            hint: None,
        }
    }

    /// The same error with a one-line hint of the fix (a format error; others are kept as
    /// they are).
    pub(crate) fn with_hint(mut self, fix: impl Into<String>) -> IngestError {
        if let IngestError::Format { hint, .. } = &mut self {
            *hint = Some(fix.into());
        }
        self
    }

    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> IngestError {
        IngestError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// An I/O error listing the folder `path`.
    pub(crate) fn folder(path: &Path, source: std::io::Error) -> IngestError {
        IngestError::Folder {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A polars error on `path`.
    pub(crate) fn table(path: &Path, source: polars::error::PolarsError) -> IngestError {
        IngestError::Table {
            path: path.to_path_buf(),
            source,
        }
    }
}
