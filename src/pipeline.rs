//! The one place that strings the stages together, one function per command.
//!
//! `inspect`: ingest (header only for EDF/BDF) → text or JSON on stdout; with `--qc`, the
//! samples too, through [`condition`].
//! `export`: ingest → [`condition`] → one Parquet file per channel, written under a
//! temporary name and renamed, so an interrupted export leaves no half-written file.
//! [`condition`]: raw spectra → mains frequency → QC → filters designed once per rate →
//! every channel conditioned, channels in parallel (rayon; no polars inside).

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use serde_json::json;

use crate::cli::{ExportArgs, InspectArgs};
use crate::config::Config;
use crate::detect::quality::{channel_qc, infer_mains, ChannelQc, QcInput, QcLevel};
use crate::ingest::{self, RecordingInfo, Source};
use crate::model::{time_axis_s, ChannelKind, Recording};
use crate::signal::filter::FilterError;
use crate::signal::spectrum::{welch, Psd};
use crate::signal::{wants_notch, ConditionedEmg, ConditionedForce, EmgFilters, ForceFilters};
use crate::{Error, Outcome};

/// The defaults, overridden by the TOML file if one is given.
///
/// # Errors
/// [`Error::Config`] naming the file and key.
pub fn load_config(path: Option<&Path>) -> Result<Config, Error> {
    Ok(match path {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    })
}

/// `palpa inspect`: describes each file (or each recording of a dataset folder). A file that
/// cannot be read is reported and counted; the others are still shown.
///
/// # Errors
/// Only a bad config or an unlistable folder; bad recordings are counted in the outcome.
pub fn inspect(args: &InspectArgs) -> Result<Outcome, Error> {
    let cfg = load_config(args.config.as_deref())?;
    let mut sources: Vec<(PathBuf, Result<Source, ingest::IngestError>)> = Vec::new();
    for path in &args.files {
        if path.is_dir() {
            sources.extend(
                ingest::discover(path)?
                    .into_iter()
                    .map(|s| (s.path.clone(), Ok(s))),
            );
        } else {
            sources.push((path.clone(), ingest::source_of_file(path)));
        }
    }
    let mut outcome = Outcome::default();
    let mut json_items = Vec::new();
    for (path, source) in sources {
        let described = source.and_then(|s| {
            if args.qc {
                let rec = ingest::load(&s, &cfg)?;
                Ok((ingest::info_of(&rec), Some(condition(&rec, &cfg))))
            } else {
                Ok((ingest::describe(&s, &cfg)?, None))
            }
        });
        match described {
            Ok((info, signals)) => {
                outcome.done += 1;
                if args.json {
                    let mut value =
                        serde_json::to_value(&info).expect("RecordingInfo is plain data");
                    if let Some(signals) = &signals {
                        value["mains_hz"] = json!(signals.mains_hz);
                        if let Some(channels) = value["channels"].as_array_mut() {
                            for (ch, sig) in channels.iter_mut().zip(&signals.channels) {
                                ch["qc"] =
                                    serde_json::to_value(&sig.qc).expect("ChannelQc is plain data");
                            }
                        }
                    }
                    json_items.push(value);
                } else {
                    print!("{}", render_info(&info));
                    if let Some(signals) = &signals {
                        print!("{}", render_qc(&info, signals));
                    }
                }
            }
            Err(e) => {
                outcome.failed += 1;
                eprintln!("palpa: {e}");
                if args.json {
                    json_items.push(
                        json!({ "path": path.display().to_string(), "error": e.to_string() }),
                    );
                }
            }
        }
    }
    if args.json {
        let text = serde_json::to_string_pretty(&json_items).expect("JSON values serialise");
        println!("{text}");
    }
    Ok(outcome)
}

/// Plain-text form of [`RecordingInfo`], for a person at a terminal.
fn render_info(info: &RecordingInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", info.path);
    let _ = writeln!(
        out,
        "  start {} (+{} s), duration {:.3} s, {} channels, {} annotations",
        info.start.as_deref().unwrap_or("unknown"),
        info.start_offset_s,
        info.duration_s,
        info.channels.len(),
        info.annotations.len()
    );
    let name_width = info
        .channels
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "  {:<name_width$}  {:<12} {:<6} {:>10} {:>10} {:>11}  muscle / side",
        "name", "kind", "unit", "fs_hz", "samples", "duration_s"
    );
    for c in &info.channels {
        let _ = writeln!(
            out,
            "  {:<name_width$}  {:<12} {:<6} {:>10} {:>10} {:>11.3}  {} {}",
            c.name,
            c.kind.as_str(),
            c.unit,
            c.fs_hz,
            c.n_samples,
            c.duration_s,
            c.muscle.as_deref().unwrap_or("-"),
            c.side.as_deref().unwrap_or("")
        );
    }
    for a in &info.annotations {
        let duration = a
            .duration_s
            .map_or(String::new(), |d| format!(" for {d} s"));
        let _ = writeln!(out, "  @ {:>10.4} s{duration}: {}", a.onset_s, a.text);
    }
    out
}

/// QC lines under an inspected recording.
fn render_qc(info: &RecordingInfo, signals: &RecordingSignals) -> String {
    let mut out = String::new();
    let mains = signals
        .mains_hz
        .map_or("unknown".into(), |f| format!("{f} Hz"));
    let _ = writeln!(out, "  QC (mains {mains}):");
    for (c, q) in info
        .channels
        .iter()
        .zip(signals.channels.iter().map(|s| &s.qc))
    {
        let reasons = if q.reasons.is_empty() {
            String::new()
        } else {
            format!(": {}", q.reasons.join("; "))
        };
        let _ = writeln!(out, "    {:<4} {}{reasons}", q.qc.as_str(), c.name);
    }
    out
}

/// A channel after QC and conditioning.
#[derive(Clone, Debug)]
pub struct ChannelSignals {
    /// Quality figures and verdict.
    pub qc: ChannelQc,
    /// Conditioned samples, unless the channel is bad or of a kind palpa does not analyse.
    pub conditioned: Conditioned,
    /// Mean frequency of the conditioned EMG over `spectrum.band_hz`.
    pub mnf_hz: Option<f64>,
    /// Median frequency of the conditioned EMG over `spectrum.band_hz`.
    pub mdf_hz: Option<f64>,
}

/// Conditioned samples by kind.
#[derive(Clone, Debug)]
pub enum Conditioned {
    /// EMG: filtered, envelope, TKEO.
    Emg(ConditionedEmg),
    /// Force: debiased and low-passed.
    Force(ConditionedForce),
    /// Not analysed (bad, or not EMG/force).
    None,
}

/// Every channel of a recording after QC and conditioning.
#[derive(Clone, Debug)]
pub struct RecordingSignals {
    /// Mains frequency used: the sidecar's, else inferred from the EMG spectra.
    pub mains_hz: Option<f64>,
    /// One entry per channel, in recording order.
    pub channels: Vec<ChannelSignals>,
}

/// QC and conditioning of every channel (DESIGN §3.1–§3.2, §3.6). A channel that cannot be
/// filtered (too short, non-finite samples) becomes `bad` with the reason; the others go on.
pub fn condition(rec: &Recording, cfg: &Config) -> RecordingSignals {
    let raw_psds: Vec<Option<Psd>> = rec
        .channels
        .par_iter()
        .map(|ch| {
            let usable = ch.kind == ChannelKind::Emg && ch.samples.iter().all(|v| v.is_finite());
            usable
                .then(|| welch(ch.samples.view(), ch.fs_hz, &cfg.spectrum).ok())
                .flatten()
        })
        .collect();
    let mains_hz = rec
        .meta
        .powerline_hz
        .or_else(|| infer_mains(raw_psds.iter().flatten(), &cfg.qc));

    // Filters designed once per (kind, rate).
    let emg_plans = plans(rec, ChannelKind::Emg, |fs| {
        EmgFilters::design(fs, &cfg.emg, mains_hz)
    });
    let force_plans = plans(rec, ChannelKind::Force, |fs| {
        ForceFilters::design(fs, &cfg.force)
    });

    let channels = rec
        .channels
        .par_iter()
        .zip(&raw_psds)
        .map(|(ch, psd)| {
            let input = QcInput {
                samples: ch.samples.view(),
                fs_hz: ch.fs_hz,
                kind: ch.kind,
                physical_range: ch.physical_range,
                marked_bad: ch.marked_bad,
                n_gaps: rec.gaps.len(),
            };
            let mut result = ChannelSignals {
                qc: channel_qc(input, psd.as_ref(), mains_hz, &cfg.qc),
                conditioned: Conditioned::None,
                mnf_hz: None,
                mdf_hz: None,
            };
            if result.qc.qc == QcLevel::Bad {
                return result;
            }
            let raw = ch.samples.view();
            let conditioned = match ch.kind {
                ChannelKind::Emg => plan_for(&emg_plans, ch.fs_hz)
                    .and_then(|f| {
                        f.condition(raw, wants_notch(&cfg.emg, result.qc.powerline_ratio))
                    })
                    .map(Conditioned::Emg),
                ChannelKind::Force => plan_for(&force_plans, ch.fs_hz)
                    .and_then(|f| f.condition(raw))
                    .map(Conditioned::Force),
                _ => Ok(Conditioned::None),
            };
            match conditioned {
                Ok(c) => {
                    if let Conditioned::Emg(e) = &c {
                        if let Ok(psd) = welch(e.filtered.view(), ch.fs_hz, &cfg.spectrum) {
                            result.mnf_hz = psd.mnf_hz(cfg.spectrum.band_hz);
                            result.mdf_hz = psd.mdf_hz(cfg.spectrum.band_hz);
                        }
                    }
                    result.conditioned = c;
                }
                Err(e) => {
                    result.qc.qc = QcLevel::Bad;
                    result
                        .qc
                        .reasons
                        .push(format!("cannot be conditioned: {e}"));
                }
            }
            result
        })
        .collect();
    RecordingSignals { mains_hz, channels }
}

/// A filter plan for each distinct rate among the channels of `kind`.
fn plans<T>(
    rec: &Recording,
    kind: ChannelKind,
    design: impl Fn(f64) -> Result<T, FilterError>,
) -> Vec<(f64, Result<T, FilterError>)> {
    let mut plans: Vec<(f64, Result<T, FilterError>)> = Vec::new();
    for ch in rec.channels.iter().filter(|c| c.kind == kind) {
        if !plans.iter().any(|(fs, _)| *fs == ch.fs_hz) {
            plans.push((ch.fs_hz, design(ch.fs_hz)));
        }
    }
    plans
}

/// The plan designed for `fs_hz`, or why none could be.
fn plan_for<T>(plans: &[(f64, Result<T, FilterError>)], fs_hz: f64) -> Result<&T, FilterError> {
    let (_, plan) = plans
        .iter()
        .find(|(fs, _)| *fs == fs_hz)
        .expect("plans() designed one for the rate of every channel of the kind");
    plan.as_ref().map_err(Clone::clone)
}

/// `palpa export`: one Parquet file per channel: `time_s`, `raw` (unit-normalised), and for
/// EMG `filtered`, `envelope`, `tkeo`, for force `lowpass` (DESIGN §5). A channel that QC
/// marks bad gets `time_s` and `raw` only, with the reason on stderr.
///
/// # Errors
/// A bad config, an unreadable recording, or an unwritable output folder.
pub fn export(args: &ExportArgs) -> Result<Outcome, Error> {
    let cfg = load_config(args.config.as_deref())?;
    let source = ingest::source_of_file(&args.file)?;
    let rec = ingest::load(&source, &cfg)?;
    let signals = condition(&rec, &cfg);
    std::fs::create_dir_all(&args.out).map_err(|e| Error::Output {
        path: args.out.clone(),
        message: format!("cannot create the output folder: {e}"),
    })?;
    let mut used = Vec::new();
    for (ch, sig) in rec.channels.iter().zip(&signals.channels) {
        let stem = unique_stem(file_stem(&ch.name), &mut used);
        let column =
            |name: &str, values: &ndarray::Array1<f64>| Column::new(name.into(), values.to_vec());
        let mut columns = vec![
            column(
                "time_s",
                &time_axis_s(ch.samples.len(), ch.fs_hz, &rec.gaps),
            ),
            column("raw", &ch.samples),
        ];
        match &sig.conditioned {
            Conditioned::Emg(e) => {
                columns.push(column("filtered", &e.filtered));
                columns.push(column("envelope", &e.envelope));
                columns.push(column("tkeo", &e.tkeo));
            }
            Conditioned::Force(f) => columns.push(column("lowpass", &f.lowpass)),
            Conditioned::None if matches!(ch.kind, ChannelKind::Emg | ChannelKind::Force) => {
                eprintln!(
                    "palpa: {}: channel `{}` is {}, exported raw only: {}",
                    rec.path.display(),
                    ch.name,
                    sig.qc.qc,
                    sig.qc.reasons.join("; ")
                );
            }
            Conditioned::None => {}
        }
        let mut df =
            DataFrame::new_infer_height(columns).map_err(|e| output_error(&args.out, e))?;
        write_parquet(&args.out.join(format!("{stem}.parquet")), &mut df)?;
    }
    Ok(Outcome { done: 1, failed: 0 })
}

/// Channel name → file stem: characters outside `A-Za-z0-9._-` become `_` (DESIGN §5).
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Two channels whose names sanitise alike get `_2`, `_3`, … rather than overwrite each other.
fn unique_stem(stem: String, used: &mut Vec<String>) -> String {
    let mut candidate = stem.clone();
    let mut n = 1;
    while used.contains(&candidate) {
        n += 1;
        candidate = format!("{stem}_{n}");
    }
    used.push(candidate.clone());
    candidate
}

/// Writes a Parquet file under a temporary name in the same folder, then renames it.
///
/// # Errors
/// [`Error::Output`] naming the file.
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), Error> {
    let tmp = temporary_name(path);
    let result = File::create(&tmp)
        .map_err(|e| output_error(path, e))
        .and_then(|file| {
            ParquetWriter::new(file)
                .finish(df)
                .map(|_| ())
                .map_err(|e| output_error(path, e))
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| output_error(path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn temporary_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

fn output_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
