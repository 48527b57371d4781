//! `palpa simulate`: a synthetic BIDS-EMG dataset with its ground truth.

use palpa::simulate::{write_dataset, SimulateOptions};
use palpa::{Error, Outcome};

use crate::cli::SimulateArgs;

pub fn run(args: SimulateArgs) -> Result<Outcome, Error> {
    let cfg = super::load_config(args.config.as_deref(), None)?;
    let opts = SimulateOptions {
        seed: args.seed,
        subjects: args.subjects,
        format: args.format.into(),
        rest_rms_uv: args.noise_uv,
        ecg: !args.no_ecg,
        mains: !args.no_mains,
        duration_s: args.duration_s,
        emg_channels: usize::from(args.emg_channels),
        emg_fs_hz: args.emg_fs_hz,
        model: args.model.into(),
        artifact_scale: args.artifact_scale,
        artifacts: args.artifacts.into(),
        ecg_uv: args.ecg_uv,
        mains_snr_db: args.mains_snr_db,
        ltrs: !args.no_ltrs,
    };
    let done = write_dataset(&args.out, &opts, &cfg)?;
    tracing::info!(
        "wrote {done} recordings of {} subjects to {}",
        args.subjects,
        args.out.display()
    );
    Ok(Outcome {
        done,
        ..Outcome::default()
    })
}
