//! Command-line definitions (DESIGN §5), clap only: each subcommand's doc comments are its
//! `--help`; `cmd::<name>` turns what was typed into the library's option structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// palpa: palpation force + surface EMG — trigger-point signatures and pressure-technique audit.
#[derive(Debug, Parser)]
#[command(name = "palpa", version, about, propagate_version = true)]
pub struct Cli {
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail on stderr (`-v` each recording, `-vv` debugging).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// palpa's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every recording of a dataset through every stage and write the tables.
    Run(RunArgs),
    /// Show channels, rates, units, muscles and annotations of recordings.
    Inspect(InspectArgs),
    /// Write one Parquet file per channel, for cross-checks in other tools.
    Export(ExportArgs),
    /// Write a synthetic BIDS-EMG dataset with its ground truth in `derivatives/truth/`.
    Simulate(SimulateArgs),
    /// Score a run's episodes and twitches against ground truth.
    Evaluate(EvaluateArgs),
    /// Join the outputs of `run --shard K/N` into what one run would have written.
    Merge(MergeArgs),
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
    /// Also read the samples and report channel quality (NaN, flat, clipped, low-frequency,
    /// rate, mains line) and the mains frequency.
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

/// `palpa simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Output folder (created; must not hold a dataset already).
    #[arg(short, long, default_value = "datasets/simulated")]
    pub out: PathBuf,
    /// Seed of every random draw; the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of subjects; each has two recordings, each of one muscle.
    #[arg(long, default_value_t = 4)]
    pub subjects: usize,
    /// File format of the recordings.
    #[arg(long, value_enum, default_value_t = RecordingFormat::Edf)]
    pub format: RecordingFormat,
    /// Resting sEMG RMS in µV for every recording (the noise knob); default: drawn from
    /// `simulate.rest_rms_uv`.
    #[arg(long)]
    pub noise_uv: Option<f64>,
    /// Leave out ECG crosstalk.
    #[arg(long)]
    pub no_ecg: bool,
    /// Leave out mains interference.
    #[arg(long)]
    pub no_mains: bool,
    /// Length of every recording in seconds: the protocol repeats until it is reached
    /// (default: one protocol, 2–4 minutes).
    #[arg(long, value_name = "SECONDS", value_parser = positive)]
    pub duration_s: Option<f64>,
    /// sEMG channels per recording: the palpated muscle, its contralateral twin, then other
    /// muscles left and right.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(2..=64))]
    pub emg_channels: u16,
    /// One sEMG rate in Hz for every recording (default: drawn from `simulate.emg_fs_hz`).
    #[arg(long, value_name = "HZ", value_parser = positive)]
    pub emg_fs_hz: Option<f64>,
    /// How sEMG and LTRs are made: `basic` (noise and smooth bursts, the detectors' own
    /// assumptions) or `physio` (motor units, reflex discharges, real artefacts).
    #[arg(long, value_enum, default_value_t = SimModel::Basic)]
    pub model: SimModel,
    /// Electrode motion-artefact amplitude over the config's, 0 (none) to 4 (physio only).
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = artifact_scale)]
    pub artifact_scale: f64,
    /// Artefact classes present (physio only): `all` (each in its share of recordings), or
    /// one class alone in every recording, or `none`.
    #[arg(long, value_enum, default_value_t = SimArtifacts::All)]
    pub artifacts: SimArtifacts,
    /// ECG R-wave amplitude in µV for every recording (0: none); default: drawn from
    /// `simulate.ecg_r_uv`.
    #[arg(long, value_name = "UV", value_parser = non_negative, conflicts_with = "no_ecg")]
    pub ecg_uv: Option<f64>,
    /// Mains line strength in dB over each channel's sEMG background in a 0.25 Hz bin;
    /// default: amplitude drawn from `simulate.mains_uv`.
    #[arg(long, value_name = "DB", allow_negative_numbers = true, value_parser = decibels,
          conflicts_with = "no_mains")]
    pub mains_snr_db: Option<f64>,
    /// Simulate no LTRs at all (for counting false detections).
    #[arg(long)]
    pub no_ltrs: bool,
    /// Configuration file (TOML); its `[simulate]` section sets the ranges.
    #[arg(short, long)]
    pub config: Option<PathBuf>,
}

/// `palpa evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Output folder of a run (holds `episodes` and `twitches` tables).
    pub out: PathBuf,
    /// Truth folder; default: `derivatives/truth` of the dataset named in `OUT/run.json`.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `palpa run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Dataset folder (BIDS-EMG or flat); default `datasets/demo`.
    pub dataset: Option<PathBuf>,
    /// Output folder; default `reports/<dataset name>`.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Configuration file (TOML); any subset of `palpa config`.
    #[arg(short, long)]
    pub config: Option<PathBuf>,
    /// Table file format.
    #[arg(long, value_enum, default_value_t = TableFormat::Parquet)]
    pub format: TableFormat,
    /// Skip the figures (the report is still written, without them).
    #[arg(long)]
    pub no_plots: bool,
    /// Threads to use (default: every core).
    #[arg(short, long)]
    pub jobs: Option<std::num::NonZeroUsize>,
    /// Only the recordings whose id hashes to K modulo N (K counts from 0), for a job array
    /// across machines; join the outputs with `palpa merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<palpa::batch::Shard>,
    /// Skip recordings the output folder already holds for the same input files (SHA-256),
    /// configuration and palpa version, as after an interrupted run.
    #[arg(long)]
    pub resume: bool,
}

/// `palpa merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Output folders of `palpa run --shard K/N`, one per K.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Output folder of the merged run.
    #[arg(short, long)]
    pub out: PathBuf,
    /// Table file format.
    #[arg(long, value_enum, default_value_t = TableFormat::Parquet)]
    pub format: TableFormat,
}

/// A finite number above 0, up to a day's worth (86 400).
fn positive(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x > 0.0 && *x <= 86_400.0)
        .ok_or_else(|| format!("expected a number above 0 and at most 86400, found {s:?}"))
}

/// A finite number from 0 to 4.
fn artifact_scale(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|x| (0.0..=4.0).contains(x))
        .ok_or_else(|| format!("expected a number from 0 to 4, found {s:?}"))
}

/// A number of decibels from −100 to 100.
fn decibels(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|x| (-100.0..=100.0).contains(x))
        .ok_or_else(|| format!("expected a number of dB from -100 to 100, found {s:?}"))
}

/// A finite number of at least 0, up to 10 000.
fn non_negative(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|x| (0.0..=10_000.0).contains(x))
        .ok_or_else(|| format!("expected a number from 0 to 10000, found {s:?}"))
}

/// Simulator models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SimModel {
    /// Band-limited noise and smooth bursts.
    Basic,
    /// Motor-unit pool, reflex discharges, real artefacts.
    Physio,
}

impl From<SimModel> for palpa::simulate::Model {
    fn from(m: SimModel) -> Self {
        match m {
            SimModel::Basic => Self::Basic,
            SimModel::Physio => Self::Physio,
        }
    }
}

/// Artefact classes of the physio model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SimArtifacts {
    /// Each class in its share of recordings.
    All,
    /// No artefacts.
    None,
    /// Electrode motion artefacts only.
    Motion,
    /// A tonic resting unit only.
    Tonic,
    /// Cable spikes only.
    Spikes,
}

impl From<SimArtifacts> for palpa::simulate::Artifacts {
    fn from(a: SimArtifacts) -> Self {
        match a {
            SimArtifacts::All => Self::All,
            SimArtifacts::None => Self::None,
            SimArtifacts::Motion => Self::Motion,
            SimArtifacts::Tonic => Self::Tonic,
            SimArtifacts::Spikes => Self::Spikes,
        }
    }
}

/// Table file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// Parquet only.
    Parquet,
    /// CSV only.
    Csv,
    /// Both.
    Both,
}

impl From<TableFormat> for palpa::output::TableFormat {
    fn from(f: TableFormat) -> Self {
        match f {
            TableFormat::Parquet => Self::Parquet,
            TableFormat::Csv => Self::Csv,
            TableFormat::Both => Self::Both,
        }
    }
}

/// File formats `palpa simulate` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RecordingFormat {
    /// EDF+ with 16-bit samples, each channel at its own rate.
    Edf,
    /// CSV, one row per sample, every channel at the sEMG rate.
    Csv,
    /// Parquet, as CSV.
    Parquet,
}

impl From<RecordingFormat> for palpa::simulate::RecordingFormat {
    fn from(f: RecordingFormat) -> Self {
        match f {
            RecordingFormat::Edf => Self::Edf,
            RecordingFormat::Csv => Self::Csv,
            RecordingFormat::Parquet => Self::Parquet,
        }
    }
}
