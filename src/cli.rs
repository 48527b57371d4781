//! Command-line definitions (DESIGN §5); each subcommand's doc comments are its `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// palpa: palpation force + surface EMG — trigger-point signatures and pressure-technique audit.
#[derive(Debug, Parser)]
#[command(name = "palpa", version, about, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// palpa's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show channels, rates, units, muscles and annotations of recordings.
    Inspect(InspectArgs),
    /// Write one Parquet file per channel, for cross-checks in other tools.
    Export(ExportArgs),
    /// Print the complete default configuration as TOML.
    Config,
}

/// `palpa inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Recordings (EDF/BDF/CSV/Parquet) or dataset folders.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print a JSON array, one object per file.
    #[arg(long)]
    pub json: bool,
    /// Also read the samples and report channel quality (NaN, flat, clipped, powerline,
    /// low-frequency, rate) and the mains frequency.
    #[arg(long)]
    pub qc: bool,
    /// Configuration file (TOML); any subset of `palpa config`.
    #[arg(short, long)]
    pub config: Option<PathBuf>,
}

/// `palpa export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Recording (EDF/BDF/CSV/Parquet).
    pub file: PathBuf,
    /// Output folder; receives `<channel>.parquet`.
    #[arg(short, long)]
    pub out: PathBuf,
    /// Configuration file (TOML); any subset of `palpa config`.
    #[arg(short, long)]
    pub config: Option<PathBuf>,
}
