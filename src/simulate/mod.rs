//! Synthetic palpation sessions with ground truth (DESIGN §6), for validation and the demo.
//!
//! Each subject is seen by one therapist, and each of two of its muscles is palpated in one
//! recording: three PPT trials, a run of snaps, a strum and a hold. The therapist is good
//! (protocol ramps, 35–85 s holds below PPT) or poor (fast ramps, short or long holds,
//! pressure past PPT that provokes a withdrawal). A site may hold a taut band (snaps slip
//! over it with an abrupt drop, strumming over it is a sawtooth) and the band a trigger
//! point (snaps evoke LTRs, seen in the force, in the sEMG, or both; PPT lowered).
//!
//! Two models share this protocol, the force and the truth, and differ in the sEMG and the
//! LTRs. [`Model::Basic`] (`basic.rs`): band-limited noise at a resting RMS, LTRs as smooth
//! bursts and twitches, ECG crosstalk on neck and shoulder muscles, mains, baseline wander and
//! DC. [`Model::Physio`] (`physio.rs`): a motor-unit pool, LTRs as reflex discharges, motion
//! artefacts, cable spikes, tonic units, drifting mains and a PQRST template with heart-rate
//! variability, so that the detectors meet signals they were not written from. Force
//! carries sensor noise and a zero offset, in N or kgf. The truth is written from the
//! noise-free force with the same definitions the detectors use (DESIGN §3.3), so a detector
//! is scored on what it measures, not on a parameter it cannot see.
//!
//! Randomness is a SplitMix64 stream per recording, seeded from the dataset seed and the
//! recording's index: the same seed gives the same bytes on every platform and version,
//! which a general-purpose RNG crate does not promise.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use ndarray::Array1;
use polars::prelude::*;
use rayon::prelude::*;

use crate::config::{Config, SimulationConfig, SpectrumConfig};
use crate::error::{output_error, Error};
use crate::ingest::edf::{self, Continuity, FileToWrite, SignalToWrite, Variant};
use crate::signal::median;
use crate::signal::spectrum::Welch;

mod basic;
mod physio;

/// File format of simulated recordings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordingFormat {
    /// EDF+ with 16-bit samples, each channel at its own rate.
    Edf,
    /// CSV, one row per sample, every channel at the sEMG rate.
    Csv,
    /// Parquet, as CSV.
    Parquet,
}

/// How the sEMG and the LTRs are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// Band-limited noise and smooth bursts: the detectors' own assumptions.
    Basic,
    /// Motor-unit pool, reflex discharges and real artefacts.
    Physio,
}

/// Artefact classes of the physiological model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Artifacts {
    /// Each class in the share of recordings the config gives.
    All,
    /// None.
    None,
    /// Only electrode motion artefacts.
    Motion,
    /// Only the tonic resting unit, in every recording.
    Tonic,
    /// Only cable spikes, in every recording.
    Spikes,
}

/// What to simulate besides the config's ranges.
#[derive(Clone, Debug)]
pub struct SimulateOptions {
    /// Seed of every random draw.
    pub seed: u64,
    /// Number of subjects; each gets two recordings.
    pub subjects: usize,
    /// File format of the recordings.
    pub format: RecordingFormat,
    /// Fixed resting sEMG RMS instead of the config's range (the noise knob).
    pub rest_rms_uv: Option<f64>,
    /// ECG crosstalk on neck and shoulder muscles.
    pub ecg: bool,
    /// Mains interference.
    pub mains: bool,
    /// Length of every recording: the protocol repeats until it is reached, then rest.
    /// `None`: one protocol, as long as it takes.
    pub duration_s: Option<f64>,
    /// sEMG channels per recording (at least 2): the palpated muscle, its contralateral
    /// twin, then the other muscles, left and right, without palpation responses.
    pub emg_channels: usize,
    /// One sEMG rate for every recording instead of the config's choice.
    pub emg_fs_hz: Option<f64>,
    /// How sEMG and LTRs are made.
    pub model: Model,
    /// Motion-artefact amplitude over the config's (physio; 0 = none).
    pub artifact_scale: f64,
    /// Artefact classes present (physio).
    pub artifacts: Artifacts,
    /// Fixed ECG R-wave amplitude instead of the config's range (0 = none).
    pub ecg_uv: Option<f64>,
    /// Mains fundamental set to this SNR over the channel's background (see [`ChannelTruth`])
    /// instead of an amplitude drawn from the config.
    pub mains_snr_db: Option<f64>,
    /// Snaps over trigger points evoke LTRs (else none is simulated).
    pub ltrs: bool,
}

impl Default for SimulateOptions {
    /// `palpa simulate`'s defaults.
    fn default() -> Self {
        SimulateOptions {
            seed: 1,
            subjects: 4,
            format: RecordingFormat::Edf,
            rest_rms_uv: None,
            ecg: true,
            mains: true,
            duration_s: None,
            emg_channels: 2,
            emg_fs_hz: None,
            model: Model::Basic,
            artifact_scale: 1.0,
            artifacts: Artifacts::All,
            ecg_uv: None,
            mains_snr_db: None,
            ltrs: true,
        }
    }
}

/// Muscles palpated, with the label abbreviation and whether ECG reaches them.
const MUSCLES: [(&str, &str, bool); 4] = [
    ("upper trapezius", "UT", true),
    ("infraspinatus", "IS", true),
    ("levator scapulae", "LS", true),
    ("gastrocnemius", "GAS", false),
];

/// Longest one protocol runs (three PPT trials, six snaps, a strum, a 120 s hold, rests):
/// with `duration_s`, another protocol starts only while this much time is left.
const PROTOCOL_MAX_S: f64 = 240.0;
/// Seconds of rest before and after the palpation, and between techniques.
const REST_S: f64 = 4.0;
/// Rest between PPT trials and between snaps (palpa choice, shorter than the 30 s protocol
/// rest to keep the demo small; the audit's rest rule applies to holds).
const TRIAL_REST_S: f64 = 5.0;
const SNAP_SPACING_S: f64 = 2.0;
/// Slope of a half-cosine rise between 20% and 80% of its height, in heights per rise time:
/// 0.6 / ((acos(−0.6) − acos(0.6)) / π).
const HALF_COSINE_RAMP: f64 = 1.4646;

/// One episode of the truth table.
#[derive(Clone, Debug, PartialEq)]
pub struct TruthEpisode {
    /// Contact start: the noise-free force first above `contact_on_n`.
    pub start_s: f64,
    /// Contact end: the noise-free force last above `contact_off_n`.
    pub end_s: f64,
    /// `hold`, `ppt`, `snap` or `strum`.
    pub technique: &'static str,
    /// The site holds a taut band.
    pub taut_band: bool,
    /// PPT of a trial.
    pub ppt_kpa: Option<f64>,
    /// Plateau of a hold, by the definition of DESIGN §3.3.
    pub plateau_n: Option<f64>,
    /// `hold_s` of a hold, by the definition of DESIGN §3.3.
    pub hold_s: Option<f64>,
    /// The patient withdrew.
    pub withdrawal: bool,
}

/// One LTR of the truth table.
#[derive(Clone, Debug, PartialEq)]
pub struct TruthTwitch {
    /// Onset of the twitch and/or burst.
    pub onset_s: f64,
    /// `emg+force`, `emg` or `force`.
    pub modality: &'static str,
    /// Onset of the first MUAP, when the sEMG witnesses the LTR.
    pub emg_onset_s: Option<f64>,
    /// Start of the twitch (after the electromechanical delay), when the force witnesses it.
    pub force_onset_s: Option<f64>,
}

/// Mains on one sEMG channel, for `channels.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelTruth {
    /// A mains line was added.
    pub mains_added: bool,
    /// Its nominal frequency.
    pub mains_hz: f64,
    /// The fundamental's power (its RMS², all of it, however it drifts) over the power of the
    /// mains-free channel in one 0.25 Hz bin at the nominal frequency (median Welch density
    /// over ±5 Hz, 4 s Hann segments, times 0.25 Hz), in dB. `None` without a line.
    pub mains_snr_db: Option<f64>,
}

/// A simulated recording, before it is written.
#[derive(Clone, Debug)]
pub struct SimulatedRecording {
    /// Subject label (`01`).
    pub subject: String,
    /// Run number within the subject.
    pub run: usize,
    /// Therapist id.
    pub therapist: String,
    /// Palpated muscle.
    pub muscle: &'static str,
    /// Label abbreviation of the muscle.
    pub muscle_label: &'static str,
    /// Palpated side, `L` or `R`.
    pub side: char,
    /// Site name.
    pub site: String,
    /// Mains frequency of the lab.
    pub mains_hz: f64,
    /// Whether the sidecar states it (else palpa must infer it).
    pub mains_in_sidecar: bool,
    /// sEMG rate.
    pub emg_fs_hz: f64,
    /// Force rate.
    pub force_fs_hz: f64,
    /// Force written in kgf instead of N.
    pub force_in_kgf: bool,
    /// sEMG of the palpated side, the contralateral side, then the other muscles, µV.
    pub emg_uv: Vec<Array1<f64>>,
    /// Force in the unit written.
    pub force: Array1<f64>,
    /// `ppt` events (onset, s).
    pub ppt_events_s: Vec<f64>,
    /// Truth.
    pub episodes: Vec<TruthEpisode>,
    /// Truth.
    pub twitches: Vec<TruthTwitch>,
    /// Truth, one per sEMG channel as in `emg_uv`.
    pub channels: Vec<ChannelTruth>,
}

impl SimulatedRecording {
    /// BIDS file stem without the `_emg` suffix.
    fn stem(&self) -> String {
        format!("sub-{}_task-palpation_run-{}", self.subject, self.run)
    }

    /// Recording id as palpa's discovery names it.
    pub fn id(&self) -> String {
        format!("sub-{}/emg/{}_emg", self.subject, self.stem())
    }

    /// Each sEMG channel's name, muscle and side (`L`/`R`), as in `emg_uv`.
    fn emg_channels(&self) -> Vec<(String, &'static str, char)> {
        let other = if self.side == 'L' { 'R' } else { 'L' };
        let palpated = MUSCLES.iter().position(|m| m.0 == self.muscle).unwrap_or(0);
        (0..self.emg_uv.len())
            .map(|i| {
                let (muscle, label, _) = MUSCLES[(palpated + i / 2) % MUSCLES.len()];
                let side = if i % 2 == 0 { self.side } else { other };
                (format!("EMG {label} {side}"), muscle, side)
            })
            .collect()
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, and fixed forever.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, [lo, hi]: [f64; 2]) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform integer in [lo, hi], both included.
    fn int_range(&mut self, [lo, hi]: [usize; 2]) -> usize {
        lo + (self.next() % (hi.saturating_sub(lo) + 1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// A recording's plan: who palpates what, and how well.
struct Plan {
    subject: usize,
    run: usize,
    therapist: usize,
    good: bool,
    muscle: usize,
}

fn plans(subjects: usize) -> Vec<Plan> {
    let therapists = subjects.div_ceil(4).max(2);
    (1..=subjects)
        .flat_map(|subject| {
            let therapist = (subject - 1) % therapists;
            (1..=2).map(move |run| Plan {
                subject,
                run,
                therapist,
                good: therapist % 2 == 0,
                muscle: (2 * (subject - 1) + run - 1) % MUSCLES.len(),
            })
        })
        .collect()
}

/// Writes a BIDS-EMG dataset with `derivatives/truth/` into `out`, which must be new or
/// empty, so a real dataset is never overwritten.
///
/// # Errors
/// [`Error::Output`] if `out` already holds files or a file cannot be written.
pub fn write_dataset(out: &Path, opts: &SimulateOptions, cfg: &Config) -> Result<usize, Error> {
    if let Ok(mut entries) = fs::read_dir(out) {
        if entries.next().is_some() {
            return Err(output_error(
                out,
                "already holds files; simulate writes only into a new or empty folder",
            ));
        }
    }
    let plans = plans(opts.subjects);
    let recordings: Vec<SimulatedRecording> = plans
        .par_iter()
        .enumerate()
        .map(|(i, plan)| simulate_recording(plan, i as u64, opts, cfg))
        .collect();
    fs::create_dir_all(out).map_err(|e| output_error(out, e))?;
    let description = serde_json::json!({
        "Name": "palpa simulated palpation sessions",
        "BIDSVersion": "1.9.0",
        "DatasetType": "raw",
        "GeneratedBy": [{"Name": "palpa simulate", "Version": env!("CARGO_PKG_VERSION"),
                         "Description": format!("seed {}, {} subjects; synthetic, not recorded from people", opts.seed, opts.subjects)}],
    });
    write_text(
        &out.join("dataset_description.json"),
        &format!("{:#}\n", description),
    )?;
    write_text(&out.join("README.md"), &readme(opts))?;
    let mut participants = String::from("participant_id\ttherapist\n");
    for r in recordings.iter().filter(|r| r.run == 1) {
        let _ = writeln!(participants, "sub-{}\t{}", r.subject, r.therapist);
    }
    write_text(&out.join("participants.tsv"), &participants)?;

    for rec in &recordings {
        let dir = out.join(format!("sub-{}", rec.subject)).join("emg");
        fs::create_dir_all(&dir).map_err(|e| output_error(&dir, e))?;
        write_recording(&dir, rec, opts.format)?;
    }
    write_truth(&out.join("derivatives").join("truth"), &recordings)?;
    Ok(recordings.len())
}

/// The dataset's own description: synthetic, how it was made, where the truth is.
fn readme(opts: &SimulateOptions) -> String {
    let mut command = format!(
        "palpa simulate --seed {} --subjects {}",
        opts.seed, opts.subjects
    );
    if opts.format != RecordingFormat::Edf {
        let _ = write!(command, " --format {:?}", opts.format);
        command = command.to_lowercase();
    }
    if let Some(n) = opts.rest_rms_uv {
        let _ = write!(command, " --noise-uv {n}");
    }
    if !opts.ecg {
        command += " --no-ecg";
    }
    if !opts.mains {
        command += " --no-mains";
    }
    if let Some(d) = opts.duration_s {
        let _ = write!(command, " --duration-s {d}");
    }
    if opts.emg_channels != 2 {
        let _ = write!(command, " --emg-channels {}", opts.emg_channels);
    }
    if let Some(f) = opts.emg_fs_hz {
        let _ = write!(command, " --emg-fs-hz {f}");
    }
    if opts.model == Model::Physio {
        command += " --model physio";
    }
    if opts.artifact_scale != 1.0 {
        let _ = write!(command, " --artifact-scale {}", opts.artifact_scale);
    }
    if opts.artifacts != Artifacts::All {
        let _ = write!(command, " --artifacts {:?}", opts.artifacts);
        command = command.to_lowercase();
    }
    if let Some(v) = opts.ecg_uv {
        let _ = write!(command, " --ecg-uv {v}");
    }
    if let Some(v) = opts.mains_snr_db {
        let _ = write!(command, " --mains-snr-db {v}");
    }
    if !opts.ltrs {
        command += " --no-ltrs";
    }
    format!(
        "# Simulated palpation sessions\n\n\
         **Synthetic data: no person was recorded.** Made by `{command}` with palpa {version} \
         and the default configuration (its `[simulate]` section holds every range).\n\n\
         A BIDS-EMG dataset: {subjects} subjects, two recordings each (one muscle per recording: \
         three PPT trials, six snaps, a strum and a hold), EDF+ with `_emg.json`, \
         `_channels.tsv` and `_events.tsv` sidecars. sEMG of the palpated muscle and its \
         contralateral twin; force in N or kgf at a slower rate. Therapists alternate between \
         good technique and poor (fast ramps, short or long holds, pressure past PPT that \
         provokes a withdrawal). Sites with and without taut bands and trigger points.\n\n\
         Ground truth: `derivatives/truth/episodes.csv`, `twitches.csv` and `channels.csv`; \
         `palpa run` then `palpa evaluate` scores palpa against it. The simulator is described \
         in `src/simulate/`.\n",
        version = env!("CARGO_PKG_VERSION"),
        subjects = opts.subjects,
    )
}

fn write_text(path: &Path, text: &str) -> Result<(), Error> {
    fs::write(path, text).map_err(|e| output_error(path, e))
}

fn write_recording(
    dir: &Path,
    rec: &SimulatedRecording,
    format: RecordingFormat,
) -> Result<(), Error> {
    let stem = rec.stem();
    let emg_channels = rec.emg_channels();
    let force_unit = if rec.force_in_kgf { "kgf" } else { "N" };
    let mut sidecar = serde_json::json!({
        "TaskName": "palpation",
        "Therapist": rec.therapist,
        "ProbeAreaCm2": 1.0,
        "PalpatedMuscle": rec.muscle,
        "PalpatedSide": if rec.side == 'L' { "left" } else { "right" },
        "PalpationSite": rec.site,
        "EMGPlacementScheme": "SENIAM",
        "SoftwareFilters": "n/a",
    });
    if rec.mains_in_sidecar {
        sidecar["PowerLineFrequency"] = rec.mains_hz.into();
    }
    write_text(
        &dir.join(format!("{stem}_emg.json")),
        &format!("{:#}\n", sidecar),
    )?;
    let table_fs = matches!(format, RecordingFormat::Csv | RecordingFormat::Parquet);
    let force_fs = if table_fs {
        rec.emg_fs_hz
    } else {
        rec.force_fs_hz
    };
    let side_word = |side: char| if side == 'L' { "left" } else { "right" };
    let mut channels = String::from("name\ttype\tunits\ttarget_muscle\tside\tsampling_frequency\n");
    for (name, muscle, side) in &emg_channels {
        let _ = writeln!(
            channels,
            "{name}\tEMG\tuV\t{muscle}\t{}\t{}",
            side_word(*side),
            rec.emg_fs_hz
        );
    }
    let _ = writeln!(channels, "Force\tMISC\t{force_unit}\tn/a\tn/a\t{force_fs}");
    write_text(&dir.join(format!("{stem}_channels.tsv")), &channels)?;
    if !rec.ppt_events_s.is_empty() {
        let mut events = String::from("onset\tduration\ttrial_type\tmuscle\tside\n");
        for t in &rec.ppt_events_s {
            let _ = writeln!(
                events,
                "{t:.4}\tn/a\tppt\t{}\t{}",
                rec.muscle,
                side_word(rec.side)
            );
        }
        write_text(&dir.join(format!("{stem}_events.tsv")), &events)?;
    }

    match format {
        RecordingFormat::Edf => {
            let path = dir.join(format!("{stem}_emg.edf"));
            let range = |x: &Array1<f64>| {
                let m = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                let m = (m * 1.1).max(1.0).ceil();
                [-m, m]
            };
            let emg = |i: usize| SignalToWrite {
                label: &emg_channels[i].0,
                unit: "uV",
                physical_range: range(&rec.emg_uv[i]),
                digital_range: [-32768, 32767],
                samples_per_record: rec.emg_fs_hz as usize,
                samples: rec.emg_uv[i].view(),
            };
            let spec = FileToWrite {
                variant: Variant::Edf,
                continuity: Continuity::Continuous,
                patient: &format!("sub-{} X X X", rec.subject),
                recording: "Startdate X X X palpa_simulate",
                start_date: "01.01.26",
                start_time: "00.00.00",
                start_offset_s: 0.0,
                record_duration_s: 1.0,
                signals: (0..emg_channels.len())
                    .map(emg)
                    .chain([SignalToWrite {
                        label: "Force",
                        unit: force_unit,
                        physical_range: range(&rec.force),
                        digital_range: [-32768, 32767],
                        samples_per_record: rec.force_fs_hz as usize,
                        samples: rec.force.view(),
                    }])
                    .collect(),
                annotations: &[],
            };
            edf::write(&path, &spec).map_err(|e| output_error(&path, e))
        }
        RecordingFormat::Csv | RecordingFormat::Parquet => {
            let n = rec.emg_uv[0].len();
            let time_s = (0..n).map(|i| i as f64 / rec.emg_fs_hz).collect::<Vec<_>>();
            let columns = std::iter::once(Column::new("time_s".into(), time_s))
                .chain(
                    emg_channels
                        .iter()
                        .zip(&rec.emg_uv)
                        .map(|((name, _, _), x)| Column::new(name.as_str().into(), x.to_vec())),
                )
                .chain([Column::new("Force".into(), rec.force.to_vec())])
                .collect();
            let mut df = DataFrame::new_infer_height(columns).map_err(|e| output_error(dir, e))?;
            if format == RecordingFormat::Csv {
                let path = dir.join(format!("{stem}_emg.csv"));
                crate::output::write_atomically(&path, |file| CsvWriter::new(file).finish(&mut df))
            } else {
                let path = dir.join(format!("{stem}_emg.parquet"));
                crate::output::write_parquet(&path, &mut df)
            }
        }
    }
}

fn write_truth(dir: &Path, recordings: &[SimulatedRecording]) -> Result<(), Error> {
    fs::create_dir_all(dir).map_err(|e| output_error(dir, e))?;
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.4}"));
    let mut episodes = String::from(
        "recording,start_s,end_s,technique,taut_band,ppt_kpa,plateau_n,hold_s,withdrawal\n",
    );
    let mut twitches = String::from("recording,onset_s,modality,emg_onset_s,force_onset_s\n");
    let mut channels = String::from("recording,channel,mains_added,mains_hz,mains_snr_db\n");
    for rec in recordings {
        let id = rec.id();
        for e in &rec.episodes {
            let _ = writeln!(
                episodes,
                "{id},{:.4},{:.4},{},{},{},{},{},{}",
                e.start_s,
                e.end_s,
                e.technique,
                e.taut_band,
                opt(e.ppt_kpa),
                opt(e.plateau_n),
                opt(e.hold_s),
                e.withdrawal
            );
        }
        for t in &rec.twitches {
            let _ = writeln!(
                twitches,
                "{id},{:.4},{},{},{}",
                t.onset_s,
                t.modality,
                opt(t.emg_onset_s),
                opt(t.force_onset_s)
            );
        }
        for ((name, _, _), c) in rec.emg_channels().iter().zip(&rec.channels) {
            let snr = c
                .mains_snr_db
                .map_or_else(String::new, |v| format!("{v:.1}"));
            let _ = writeln!(
                channels,
                "{id},{name},{},{},{snr}",
                c.mains_added, c.mains_hz
            );
        }
    }
    write_text(&dir.join("episodes.csv"), &episodes)?;
    write_text(&dir.join("twitches.csv"), &twitches)?;
    write_text(&dir.join("channels.csv"), &channels)
}

/// Power of the sEMG background in one 0.25 Hz bin at `hz`, µV²: the median Welch density
/// (4 s Hann segments, 0.25 Hz apart) over `hz ± 5 Hz`, times 0.25 Hz. The median ignores a
/// line already there.
fn background_in_bin_uv2(x: ndarray::ArrayView1<f64>, fs: f64, hz: f64) -> f64 {
    const BIN_HZ: f64 = 0.25;
    let cfg = SpectrumConfig {
        segment_s: 1.0 / BIN_HZ,
        ..SpectrumConfig::default()
    };
    let Some(psd) = Welch::plan(fs, &cfg).ok().and_then(|w| w.psd(x).ok()) else {
        return 0.0;
    };
    let mut near: Vec<f64> = (0..psd.density.len())
        .filter(|&k| (psd.freq_hz(k) - hz).abs() <= 5.0)
        .map(|k| psd.density[k])
        .collect();
    median(&mut near).unwrap_or(0.0) * BIN_HZ
}

/// A line of RMS `line_rms_uv` over a background of `background_uv2` per bin, in dB.
fn snr_db(line_rms_uv: f64, background_uv2: f64) -> f64 {
    10.0 * (line_rms_uv.powi(2) / background_uv2.max(f64::MIN_POSITIVE)).log10()
}

/// The line RMS that reaches `db` over `background_uv2` (inverse of [`snr_db`]).
fn mains_rms_for_snr(db: f64, background_uv2: f64) -> f64 {
    (background_uv2 * 10f64.powf(db / 10.0)).sqrt()
}

/// What the sEMG of a recording is made from, whichever model makes it.
struct EmgContext<'a> {
    opts: &'a SimulateOptions,
    sim: &'a SimulationConfig,
    /// Index in [`MUSCLES`] of the palpated muscle.
    muscle: usize,
    /// Samples per channel.
    n: usize,
    fs: f64,
    rest_uv: f64,
    mains_hz: f64,
    trigger_point: bool,
    episodes: &'a [TruthEpisode],
}

/// An sEMG event shaped by an envelope, in µV RMS.
struct Burst {
    start_s: f64,
    duration_s: f64,
    rms_uv: f64,
    /// Hann-shaped (an LTR) or flat with 50 ms tapers (voluntary, evoked).
    hann: bool,
    /// Also on the contralateral side, at this fraction.
    contralateral: f64,
}

/// Everything drawn for one recording while its force is built.
struct Session<'a> {
    cfg: &'a SimulationConfig,
    rng: Rng,
    fs: f64,
    force_n: Vec<f64>,
    bursts: Vec<Burst>,
    episodes: Vec<TruthEpisode>,
    twitches: Vec<TruthTwitch>,
    ppt_events_s: Vec<f64>,
    contact_on_n: f64,
    contact_off_n: f64,
    reach_fraction: f64,
    /// The site holds a taut band.
    band: bool,
    model: Model,
    /// LTRs are simulated at all.
    ltrs: bool,
    /// Ends of snap-over drops (where the physio model puts a motion artefact).
    drops_s: Vec<f64>,
    /// LTRs of the physio model, whose truth waits for their sEMG.
    physio_ltrs: Vec<physio::Ltr>,
}

impl Session<'_> {
    fn at(&self, t: f64) -> usize {
        (t * self.fs).round() as usize
    }

    /// Adds `shape(τ)` for τ = 0 … `duration_s` at `t0` (seconds from `t0`).
    fn add(&mut self, t0: f64, duration_s: f64, shape: impl Fn(f64) -> f64) {
        let (a, n) = (self.at(t0), self.at(duration_s));
        if self.force_n.len() < a + n + 1 {
            self.force_n.resize(a + n + 1, 0.0);
        }
        for i in 0..=n {
            self.force_n[a + i] += shape(i as f64 / self.fs);
        }
    }

    /// Contact span of the noise-free force inside [t0, t1].
    fn contact(&self, t0: f64, t1: f64) -> (f64, f64) {
        let (a, b) = (self.at(t0), self.at(t1).min(self.force_n.len() - 1));
        let seg = &self.force_n[a..=b];
        let on = seg.iter().position(|&v| v > self.contact_on_n).unwrap_or(0);
        let off = seg
            .iter()
            .rposition(|&v| v > self.contact_off_n)
            .unwrap_or(0);
        ((a + on) as f64 / self.fs, (a + off) as f64 / self.fs)
    }

    fn push_episode(&mut self, t0: f64, t1: f64, technique: &'static str, taut_band: bool) {
        let (start_s, end_s) = self.contact(t0, t1);
        self.episodes.push(TruthEpisode {
            start_s,
            end_s,
            technique,
            taut_band,
            ppt_kpa: None,
            plateau_n: None,
            hold_s: None,
            withdrawal: false,
        });
    }

    /// A linear algometer ramp to `ppt_n` at `rate`, released over 0.15–0.3 s. Returns the end.
    fn ppt_trial(&mut self, t0: f64, ppt_n: f64, rate_n_per_s: f64, event: bool) -> f64 {
        let rise = ppt_n / rate_n_per_s;
        let release = self.rng.range([0.15, 0.3]);
        self.add(t0, rise + release, |t| {
            if t <= rise {
                ppt_n * t / rise
            } else {
                ppt_n * 0.5 * (1.0 + (std::f64::consts::PI * (t - rise) / release).cos())
            }
        });
        let end = t0 + rise + release;
        self.push_episode(t0, end, "ppt", self.band);
        if let Some(e) = self.episodes.last_mut() {
            e.ppt_kpa = Some(ppt_n * 10.0);
        }
        if event {
            self.ppt_events_s.push(t0 + rise);
        }
        end
    }

    /// A snap: a quick rise to the peak, then over a taut band an abrupt drop to a held
    /// level (where an LTR may follow), else a smooth roll-off. Returns the end.
    fn snap(&mut self, t0: f64, band: bool, trigger_point: bool) -> f64 {
        use std::f64::consts::PI;
        let peak = self.rng.range(self.cfg.snap_peak_n);
        let rise = self.rng.range([0.12, 0.2]);
        let end;
        if band {
            let drop_s = self.rng.range([0.008, 0.02]);
            let level = peak * self.rng.range([0.4, 0.6]);
            let held = self.rng.range([0.35, 0.5]);
            let release = self.rng.range([0.15, 0.25]);
            let total = rise + drop_s + held + release;
            let drop_end = t0 + rise + drop_s;
            self.drops_s.push(drop_end);
            if self.model == Model::Physio {
                self.slip(t0, [peak, level], [rise, drop_s, held, release]);
            } else {
                self.add(t0, total, |t| {
                    if t <= rise {
                        peak * 0.5 * (1.0 - (PI * t / rise).cos())
                    } else if t <= rise + drop_s {
                        let u = (t - rise) / drop_s;
                        level + (peak - level) * 0.5 * (1.0 + (PI * u).cos())
                    } else if t <= rise + drop_s + held {
                        level
                    } else {
                        let u = (t - rise - drop_s - held) / release;
                        level * 0.5 * (1.0 + (PI * u).cos())
                    }
                });
            }
            end = t0 + total;
            if trigger_point && self.rng.chance(self.cfg.ltr_probability) && self.ltrs {
                self.ltr(drop_end);
            }
        } else {
            let release = self.rng.range([0.18, 0.3]);
            self.add(t0, rise + release, |t| {
                if t <= rise {
                    peak * 0.5 * (1.0 - (PI * t / rise).cos())
                } else {
                    peak * 0.5 * (1.0 + (PI * (t - rise) / release).cos())
                }
            });
            end = t0 + rise + release;
        }
        self.push_episode(t0, end, "snap", band);
        end
    }

    /// The physio model's snap over a band: the rise, the slip with a small undershoot below
    /// the held level and a rebound, then a slowly declining hold and the release.
    fn slip(&mut self, t0: f64, [peak, level]: [f64; 2], [rise, drop_s, held, release]: [f64; 4]) {
        use std::f64::consts::{PI, TAU};
        let p = &self.cfg.physio;
        let under = (peak - level) * self.rng.range(p.slip_undershoot_fraction);
        let period = self.rng.range(p.slip_rebound_ms) / 1e3;
        let decline = self.rng.range(p.slip_decline_fraction);
        let after = move |u: f64| {
            level * (1.0 - decline * u / held)
                - under * (-2.0 * u / period).exp() * (TAU * u / period).cos()
        };
        let end_level = after(held);
        self.add(t0, rise + drop_s + held + release, |t| {
            if t <= rise {
                peak * 0.5 * (1.0 - (PI * t / rise).cos())
            } else if t <= rise + drop_s {
                let u = (t - rise) / drop_s;
                (level - under) + (peak - level + under) * 0.5 * (1.0 + (PI * u).cos())
            } else if t <= rise + drop_s + held {
                after(t - rise - drop_s)
            } else {
                let u = (t - rise - drop_s - held) / release;
                end_level * 0.5 * (1.0 + (PI * u).cos())
            }
        });
    }

    /// The physio model's LTR after a drop ending at `drop_end`: a few units of the band
    /// discharge once to three times; the force gets the sum of their twitches after the
    /// electromechanical delay. Whether each modality witnesses it is decided with the sEMG.
    fn physio_ltr(&mut self, drop_end: f64) {
        let p = &self.cfg.physio;
        let first = drop_end + self.rng.range(self.cfg.ltr_latency_ms) / 1e3;
        let emd_s = self.rng.range(p.emd_ms) / 1e3;
        let mut discharges = Vec::new();
        for u in 0..self.rng.int_range(p.ltr_units) {
            let i = (self.rng.range(p.ltr_unit_fraction) * (p.n_units - 1) as f64).round() as usize;
            let mut t = if u == 0 {
                first
            } else {
                first + self.rng.range([0.0, 0.01])
            };
            for _ in 0..self.rng.int_range(p.ltr_discharges) {
                discharges.push((i, t));
                t += self.rng.range(p.ltr_isi_ms) / 1e3;
            }
        }
        discharges.sort_by(|a, b| a.1.total_cmp(&b.1));
        let last = discharges.last().map_or(first, |d| d.1);
        let start = first + emd_s;
        let (a, n) = (
            self.at(start),
            self.at(last - first + 6.0 * p.twitch_longest_ms / 1e3),
        );
        if self.force_n.len() < a + n + 1 {
            self.force_n.resize(a + n + 1, 0.0);
        }
        let mut peak_n = 0.0f64;
        for j in 0..=n {
            let t = (a + j) as f64 / self.fs;
            let v: f64 = discharges
                .iter()
                .map(|&(i, td)| {
                    let (amp, contraction) = physio::twitch(p, i);
                    let since = t - td - emd_s;
                    if since > 0.0 {
                        physio::twitch_at(amp, contraction, since)
                    } else {
                        0.0
                    }
                })
                .sum();
            self.force_n[a + j] += v;
            peak_n = peak_n.max(v);
        }
        self.physio_ltrs.push(physio::Ltr {
            discharges,
            force_onset_s: start,
            force_peak_n: peak_n,
        });
    }

    /// An LTR after a drop ending at `drop_end`: a force twitch, an sEMG burst, or both.
    fn ltr(&mut self, drop_end: f64) {
        if self.model == Model::Physio {
            return self.physio_ltr(drop_end);
        }
        let onset = drop_end + self.rng.range(self.cfg.ltr_latency_ms) / 1e3;
        let force = self.rng.chance(self.cfg.ltr_force_probability);
        let emg = !force || self.rng.chance(self.cfg.ltr_emg_probability);
        if force {
            let amp = self.rng.range(self.cfg.twitch_n);
            let tau = self.rng.range(self.cfg.twitch_tau_ms) / 1e3;
            self.add(onset, 6.0 * tau, |t| {
                amp * (t / tau) * (1.0 - t / tau).exp()
            });
        }
        if emg {
            self.bursts.push(Burst {
                start_s: onset,
                duration_s: self.rng.range(self.cfg.ltr_burst_ms) / 1e3,
                rms_uv: self.rng.range(self.cfg.ltr_burst_uv),
                hann: true,
                contralateral: 0.0,
            });
        }
        self.twitches.push(TruthTwitch {
            onset_s: onset,
            modality: match (emg, force) {
                (true, true) => "emg+force",
                (true, false) => "emg",
                _ => "force",
            },
            emg_onset_s: emg.then_some(onset),
            force_onset_s: force.then_some(onset),
        });
    }

    /// Strumming at 1–2 Hz for 4–6 s: a sawtooth over a taut band (the finger slips over the
    /// cord each cycle), a sinusoid over normal muscle. Returns the end.
    fn strum(&mut self, t0: f64, band: bool) -> f64 {
        use std::f64::consts::{PI, TAU};
        let f0 = self.rng.range([1.0, 2.0]);
        let mean = self.rng.range([6.0, 8.0]);
        let depth = self.rng.range([0.35, 0.45]) * mean;
        let duration = self.rng.range([4.0, 6.0]);
        let edge = 0.4;
        let slip = 0.015 * f0;
        self.add(t0, duration, |t| {
            let taper = (t / edge).min((duration - t) / edge).clamp(0.0, 1.0);
            let phase = (t * f0).fract();
            let wave = if band {
                // Rise over the cycle, slip back over `slip` of it.
                if phase < 1.0 - slip {
                    2.0 * phase / (1.0 - slip) - 1.0
                } else {
                    1.0 - 2.0 * (phase - (1.0 - slip)) / slip
                }
            } else {
                (TAU * phase - PI / 2.0).sin()
            };
            taper * (mean + depth * wave)
        });
        let end = t0 + duration;
        self.push_episode(t0, end, "strum", band);
        end
    }

    /// A hold: ramp, plateau with tremor and drift, maybe a re-raised step, maybe a
    /// withdrawal, release. Returns the end.
    fn hold(&mut self, t0: f64, plateau_n: f64, ramp_s: f64, hold_s: f64, withdraw: bool) -> f64 {
        use std::f64::consts::{PI, TAU};
        let release = self.rng.range([1.0, 2.0]);
        let tremor_hz = self.rng.range([8.0, 12.0]);
        let tremor = self.cfg.tremor_fraction * plateau_n;
        let drift = self.rng.range([-1.0, 1.0]) * self.cfg.drift_fraction * plateau_n;
        let step = self
            .rng
            .chance(0.3)
            .then(|| self.rng.range([0.3, 0.6]) * hold_s);
        let step_n = 0.2 * plateau_n;
        let dip = withdraw.then(|| self.rng.range([3.0, 8.0]).min(hold_s / 2.0));
        let total = ramp_s + hold_s + release;
        self.add(t0, total, |t| {
            if t < ramp_s {
                plateau_n * 0.5 * (1.0 - (PI * t / ramp_s).cos())
            } else if t < ramp_s + hold_s {
                let u = t - ramp_s;
                let mut v = plateau_n + drift * u / hold_s + tremor * (TAU * tremor_hz * u).sin();
                if let Some(s) = step {
                    v += step_n * ((u - s) / 1.0).clamp(0.0, 1.0);
                }
                if let Some(d) = dip {
                    let x = (u - d) / 0.4;
                    if (0.0..1.0).contains(&x) {
                        v -= 0.1 * plateau_n * (PI * x).sin();
                    }
                }
                v
            } else {
                let end_level = plateau_n + drift + step.map_or(0.0, |_| step_n);
                end_level * 0.5 * (1.0 + (PI * (t - ramp_s - hold_s) / release).cos())
            }
        });
        if let Some(d) = dip {
            let multiple = self.rng.range(self.cfg.withdrawal_rest_multiple);
            self.bursts.push(Burst {
                start_s: t0 + ramp_s + d - 0.1,
                duration_s: self.rng.range([0.6, 1.2]),
                rms_uv: multiple,
                hann: false,
                contralateral: self.rng.range([0.5, 1.0]),
            });
        }
        let end = t0 + total;
        self.push_episode(t0, end, "hold", self.band);
        let (a, b) = (self.at(t0), self.at(end).min(self.force_n.len() - 1));
        let measures = held_measures(&self.force_n[a..=b], plateau_n, self.reach_fraction);
        if let Some(e) = self.episodes.last_mut() {
            e.withdrawal = withdraw;
            if let Some((plateau, span)) = measures {
                e.plateau_n = Some(plateau);
                e.hold_s = Some(span / self.fs);
            }
        }
        end
    }
}

/// DESIGN §3.3 on a noise-free hold: the span from first reaching `reach` of the plateau to
/// last being above it (in samples), and the median over that span, iterated once from the
/// designed level as the detector iterates from its first estimate.
fn held_measures(seg: &[f64], level: f64, reach: f64) -> Option<(f64, f64)> {
    let span = |level: f64| {
        let first = seg.iter().position(|&v| v >= reach * level)?;
        let last = seg.iter().rposition(|&v| v >= reach * level)?;
        Some((first, last))
    };
    let (first, last) = span(level)?;
    let plateau = median(&mut seg[first..=last].to_vec())?;
    let (first, last) = span(plateau)?;
    Some((plateau, (last - first) as f64))
}

/// One simulated recording (pure: no I/O).
fn simulate_recording(
    plan: &Plan,
    index: u64,
    opts: &SimulateOptions,
    cfg: &Config,
) -> SimulatedRecording {
    let sim = &cfg.simulate;
    let mut rng = Rng::new(opts.seed, index);
    let (muscle, muscle_label, _) = MUSCLES[plan.muscle];
    let table = matches!(opts.format, RecordingFormat::Csv | RecordingFormat::Parquet);
    let emg_fs_hz = rng.pick(&sim.emg_fs_hz);
    let emg_fs_hz = opts.emg_fs_hz.unwrap_or(emg_fs_hz);
    let force_fs_hz = if table {
        emg_fs_hz
    } else {
        rng.pick(&sim.force_fs_hz)
    };
    let band = rng.chance(sim.taut_band_probability);
    let trigger_point = band && rng.chance(sim.trigger_point_probability);
    let mut ppt_kpa = rng.range(sim.ppt_kpa);
    if trigger_point {
        ppt_kpa = (ppt_kpa - sim.trigger_point_ppt_drop_kpa).max(sim.ppt_kpa[0] - 50.0);
    }
    let ramp_multiple = if plan.good {
        rng.range([0.85, 1.15])
    } else {
        rng.range(sim.poor_ramp_multiple)
    };
    let examiner = Examiner {
        good: plan.good,
        ramp_multiple,
        events: rng.chance(sim.ppt_event_probability),
        ppt_kpa,
        trigger_point,
    };

    let mut s = Session {
        cfg: sim,
        rng: rng.clone(),
        fs: force_fs_hz,
        force_n: Vec::new(),
        bursts: Vec::new(),
        episodes: Vec::new(),
        twitches: Vec::new(),
        ppt_events_s: Vec::new(),
        contact_on_n: cfg.episodes.contact_on_n,
        contact_off_n: cfg.episodes.contact_off_n,
        reach_fraction: cfg.episodes.hold_reach_fraction,
        band,
        model: opts.model,
        ltrs: opts.ltrs,
        drops_s: Vec::new(),
        physio_ltrs: Vec::new(),
    };
    let mut t = REST_S;
    loop {
        t = protocol(&mut s, t, &examiner);
        if opts.duration_s.is_none_or(|d| t + PROTOCOL_MAX_S > d) {
            break;
        }
    }

    // Whole seconds, for EDF records.
    let duration_s = opts.duration_s.unwrap_or(0.0).max(t).ceil();
    let n_force = (duration_s * force_fs_hz).round() as usize;
    s.force_n.resize(n_force, 0.0);
    let mut rng = s.rng.clone();
    let offset_n = rng.range(sim.force_offset_n);
    let force_in_kgf = rng.chance(0.5);
    let scale = if force_in_kgf { 1.0 / 9.80665 } else { 1.0 };
    let force: Array1<f64> = s
        .force_n
        .iter()
        .map(|&v| (v + offset_n + sim.force_noise_n * rng.normal()) * scale)
        .collect();

    // sEMG.
    let mains_hz = if rng.chance(0.5) { 50.0 } else { 60.0 };
    let mains_in_sidecar = rng.chance(0.8);
    let rest_uv = opts
        .rest_rms_uv
        .unwrap_or_else(|| rng.range(sim.rest_rms_uv));
    let bursts = std::mem::take(&mut s.bursts);
    let context = EmgContext {
        opts,
        sim,
        muscle: plan.muscle,
        n: (duration_s * emg_fs_hz).round() as usize,
        fs: emg_fs_hz,
        rest_uv,
        mains_hz,
        trigger_point,
        episodes: &s.episodes,
    };
    let (emg_uv, channels, twitches) = match opts.model {
        Model::Basic => {
            let (emg_uv, channels) = basic::emg(&mut rng, &context, bursts);
            (emg_uv, channels, std::mem::take(&mut s.twitches))
        }
        Model::Physio => physio::emg(&mut rng, &context, &bursts, &s.physio_ltrs, &s.drops_s),
    };

    SimulatedRecording {
        subject: format!("{:02}", plan.subject),
        run: plan.run,
        therapist: format!("T{:02}", plan.therapist + 1),
        muscle,
        muscle_label,
        side: if rng.chance(0.5) { 'L' } else { 'R' },
        site: if trigger_point {
            "TrP1".into()
        } else if band {
            "band1".into()
        } else {
            "control".into()
        },
        mains_hz,
        mains_in_sidecar,
        emg_fs_hz,
        force_fs_hz,
        force_in_kgf,
        emg_uv,
        force,
        ppt_events_s: s.ppt_events_s,
        episodes: s.episodes,
        twitches,
        channels,
    }
}

/// What stays the same over every protocol of a recording: the examiner and the site.
struct Examiner {
    /// Follows the protocol (else makes one or two faults per hold).
    good: bool,
    /// PPT ramp rate over the protocol's.
    ramp_multiple: f64,
    /// Marks each PPT with an event.
    events: bool,
    /// The site's PPT.
    ppt_kpa: f64,
    /// The site has a trigger point.
    trigger_point: bool,
}

/// One palpation protocol from `t`: three PPT trials, six snaps, a strum and a hold with
/// rest between; returns when the rest after the hold ends.
fn protocol(s: &mut Session<'_>, mut t: f64, x: &Examiner) -> f64 {
    let sim = s.cfg;
    let band = s.band;
    let (ppt_kpa, trigger_point) = (x.ppt_kpa, x.trigger_point);
    let ppt_n = ppt_kpa / 10.0;
    for _ in 0..sim.ppt_trials {
        let trial_n = ppt_n * s.rng.range([0.95, 1.05]);
        let rate = sim.ppt_ramp_kpa_per_s / 10.0 * x.ramp_multiple;
        t = s.ppt_trial(t, trial_n, rate, x.events) + TRIAL_REST_S;
    }
    t += REST_S - TRIAL_REST_S;
    for _ in 0..sim.snaps {
        t = s.snap(t, band, trigger_point) + SNAP_SPACING_S;
    }
    t = s.strum(t + REST_S - SNAP_SPACING_S, band) + REST_S;

    // The hold: a good therapist follows the protocol; a poor one makes one or two faults.
    let (mut hold_s, mut pct, mut ramp_kpa_per_s) = (
        s.rng.range(sim.good_hold_s),
        s.rng.range(sim.good_plateau_pct_ppt),
        s.rng.range(sim.good_hold_ramp_kpa_per_s),
    );
    let mut withdraw = false;
    if !x.good {
        match s.rng.next() % 4 {
            0 => hold_s = s.rng.range(sim.short_hold_s),
            1 => hold_s = s.rng.range(sim.long_hold_s),
            _ => {}
        }
        if s.rng.chance(0.5) {
            ramp_kpa_per_s = s.rng.range(sim.fast_hold_ramp_kpa_per_s);
        }
        if s.rng.chance(0.5) {
            pct = s.rng.range(sim.over_plateau_pct_ppt);
            withdraw = true;
        }
    }
    // A half-cosine rise over T climbs 20–80% of the plateau P at 1.4646·P/T.
    let ramp_s = HALF_COSINE_RAMP * pct * ppt_kpa / ramp_kpa_per_s;
    t = s.hold(t, pct * ppt_n, ramp_s, hold_s, withdraw) + REST_S;
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_fixed_forever() {
        // SplitMix64's published first output for state 0 after one increment.
        let mut r = Rng(0);
        assert_eq!(r.next(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn every_plan_has_two_therapists_and_all_muscles_from_four_subjects() {
        let p = plans(4);
        assert_eq!(p.len(), 8);
        let mut muscles: Vec<usize> = p.iter().map(|p| p.muscle).collect();
        muscles.sort_unstable();
        muscles.dedup();
        assert_eq!(muscles.len(), 4);
        assert!(p.iter().any(|p| p.good) && p.iter().any(|p| !p.good));
    }

    #[test]
    fn held_measures_follow_the_design_definition() {
        // 1 s ramp to 10 N at 100 Hz, 10 s at 10 N, 1 s release.
        let mut f: Vec<f64> = (0..100).map(|i| i as f64 / 10.0).collect();
        f.extend(std::iter::repeat_n(10.0, 1000));
        f.extend((0..100).map(|i| 10.0 - i as f64 / 10.0));
        let (plateau, span) = held_measures(&f, 10.0, 0.8).unwrap();
        assert_eq!(plateau, 10.0);
        // First ≥ 8 N at sample 80, last at 1100 + 20.
        assert_eq!(span, 1040.0);
    }
}
