//! The one place that strings the stages together, one function per command.
//!
//! `inspect`: ingest (header only for EDF/BDF) → text or JSON on stdout; with `--qc`, the
//! samples too, through [`condition`].
//! `export`: ingest → [`condition`] → one Parquet file per channel, written under a
//! temporary name and renamed, so an interrupted export leaves no half-written file.
//! [`condition`]: raw spectra → mains frequency → QC → filters designed once per rate →
//! every channel conditioned, channels in parallel (rayon; no polars inside).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use ndarray::Array1;
use polars::prelude::*;
use rayon::prelude::*;
use serde_json::json;

use crate::audit::{audit, Audit, AuditContext};
use crate::batch::{self, Manifest, PartStore};
use crate::cli::{EvaluateArgs, ExportArgs, InspectArgs, MergeArgs, RunArgs, SimulateArgs};
use crate::config::Config;
use crate::detect::episodes::{detect_episodes, Episode, Technique};
use crate::detect::quality::{channel_qc, infer_mains, ChannelQc, QcInput, QcLevel};
use crate::detect::taut_band::{
    add_emg_evidence, force_evidence, score, BandEvidence, ForceEvidenceInput,
};
use crate::detect::twitch::{
    detect_twitches, drop_marks, quiet_rms, EmgView, ForceView, TwitchInput, TwitchReport,
};
use crate::ingest::{self, RecordingInfo, Source};
use crate::model::pressure_kpa;
use crate::model::{time_axis_s, Channel, ChannelKind, Recording, RecordingMeta};
use crate::report;
use crate::report::methods::methods_markdown;
use crate::report::plots::{EpisodeMark, Figure, Overview, Spectrum, Trace};
use crate::signal::filter::FilterError;
use crate::signal::spectrum::{edge_mdf_hz, Psd, SpectrumError, Welch};
use crate::signal::{
    first_non_finite, wants_notch, ConditionedEmg, ConditionedForce, EmgFilters, Filtered,
    ForceFilters, LANES,
};
use crate::summary::{self, InputFile, RecordingSummary, TableFormat};
use crate::{output_error, Error, Outcome};

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
                let mut rec = ingest::load(&s, &cfg)?;
                let info = ingest::info_of(&rec);
                Ok((info, Some(condition(&mut rec, &cfg))))
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
                tracing::warn!("{e}");
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
    /// Welch PSD of the conditioned EMG, which gave MNF and MDF and is drawn in the figures.
    pub psd: Option<Psd>,
}

impl ChannelSignals {
    /// A channel with its QC, not conditioned yet.
    fn checked(qc: ChannelQc) -> Self {
        ChannelSignals {
            qc,
            conditioned: Conditioned::None,
            mnf_hz: None,
            mdf_hz: None,
            psd: None,
        }
    }

    /// Its conditioned EMG, if it is an EMG channel still holding one.
    fn emg(&self) -> Option<&ConditionedEmg> {
        match &self.conditioned {
            Conditioned::Emg(e) => Some(e),
            _ => None,
        }
    }

    /// Takes the outcome of its conditioning: the conditioned samples as `kind`, or the
    /// filters' refusal, which makes it bad; returns the raw samples the filters gave back.
    fn take_outcome<C>(
        &mut self,
        outcome: Result<C, (Array1<f64>, FilterError)>,
        kind: fn(C) -> Conditioned,
    ) -> Option<Array1<f64>> {
        match outcome {
            Ok(c) => {
                self.conditioned = kind(c);
                None
            }
            Err((raw, e)) => {
                self.qc.qc = QcLevel::Bad;
                self.qc.reasons.push(format!("cannot be conditioned: {e}"));
                Some(raw)
            }
        }
    }
}

/// Conditioned samples by kind.
#[derive(Clone, Debug)]
pub enum Conditioned {
    /// EMG: filtered, envelope, TKEO.
    Emg(ConditionedEmg),
    /// Force: debiased and low-passed.
    Force(ConditionedForce),
    /// Not analysed (bad, or not EMG/force), or an EMG signal dropped once its figures
    /// were taken ([`analyse_releasing`]).
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
///
/// Each conditioned EMG and force channel's raw samples move into the result (EMG filtered
/// where they lie, force debiased in place), leaving the channel's `samples` empty. Nothing
/// after QC reads them raw, and a long recording then holds one copy of them, not two.
pub fn condition(rec: &mut Recording, cfg: &Config) -> RecordingSignals {
    condition_then(rec, cfg, |_, _| ()).0
}

/// [`condition`], with `then` run on the recording's force channel (the first conditioned,
/// the one [`analyse`] reads). The force needs neither spectra nor mains: it is checked and
/// conditioned beside the EMG channels' spectra and QC, and `then` runs beside their
/// filters. Its chain (QC, low-pass, episodes, evidence) is long and partly serial: left
/// until after the filters it ended every recording with one thread busy, and run whole
/// beside the spectra it left the other thread idle while a recording's only batch of EMG
/// channels was band-passed (60 ms of an hour's EDF recording).
fn condition_then<T: Send>(
    rec: &mut Recording,
    cfg: &Config,
    then: impl FnOnce(&Recording, Option<(&Channel, &ConditionedForce)>) -> T + Send,
) -> (RecordingSignals, T) {
    let force_raws: Vec<(usize, Array1<f64>)> = rec
        .channels
        .iter_mut()
        .enumerate()
        .filter(|(_, ch)| ch.kind == ChannelKind::Force)
        .map(|(i, ch)| (i, std::mem::take(&mut ch.samples)))
        .collect();
    let welch_plans = plans(rec, ChannelKind::Emg, |fs| Welch::plan(fs, &cfg.spectrum));
    let shared = &*rec;
    let ((mains_hz, qcs), forces) = rayon::join(
        || emg_qc(shared, &welch_plans, cfg),
        || condition_forces(shared, force_raws, cfg),
    );
    // Every channel but the force has its QC now, from `emg_qc`.
    let mut channels: Vec<Option<ChannelSignals>> = qcs
        .into_iter()
        .map(|qc| qc.map(ChannelSignals::checked))
        .collect();
    let emg_plans = plans(rec, ChannelKind::Emg, |fs| {
        EmgFilters::design(fs, &cfg.emg, mains_hz)
    });

    // EMG channels of one rate, notch decision and length are filtered together, `LANES`
    // at a time; each batch takes its channels' raw samples, which become the filtered
    // signals. Each batch's spectra follow its filters in the same task, so one batch's
    // spectra overlap another batch's filtering instead of waiting for the last.
    let mut groups: BTreeMap<(u64, bool, usize), Vec<usize>> = BTreeMap::new();
    for (i, (ch, sig)) in rec.channels.iter().zip(&channels).enumerate() {
        let Some(sig) = sig else { continue };
        if ch.kind == ChannelKind::Emg && sig.qc.qc != QcLevel::Bad {
            let notch = wants_notch(&cfg.emg, sig.qc.powerline_ratio);
            let key = (ch.fs_hz.to_bits(), notch, ch.samples.len());
            groups.entry(key).or_default().push(i);
        }
    }
    let mut batches = Vec::new();
    for ((fs_bits, notch, _), members) in groups {
        for batch in members.chunks(LANES) {
            batches.push(EmgBatch {
                fs_hz: f64::from_bits(fs_bits),
                notch,
                channels: batch.to_vec(),
                raws: batch
                    .iter()
                    .map(|&i| std::mem::take(&mut rec.channels[i].samples))
                    .collect(),
            });
        }
    }
    let shared = &*rec;
    let (emg, then) = rayon::join(
        || {
            batches
                .into_par_iter()
                .flat_map(|b| {
                    let welch = plan_for(&welch_plans, b.fs_hz).ok();
                    b.condition(&emg_plans).into_par_iter().map(move |(i, c)| {
                        let psd = match (&c, welch) {
                            (Ok(e), Some(welch)) => welch.psd(e.filtered.view()).ok(),
                            _ => None,
                        };
                        (i, c, psd)
                    })
                })
                .collect::<Vec<FilteredEmg>>()
        },
        || {
            let first = first_force(forces.iter().map(|(i, s, _)| (&shared.channels[*i], s)));
            then(shared, first)
        },
    );
    for (i, signals, raw) in forces {
        channels[i] = Some(signals);
        if let Some(raw) = raw {
            rec.channels[i].samples = raw;
        }
    }
    let mut channels: Vec<ChannelSignals> = channels.into_iter().flatten().collect();
    debug_assert_eq!(channels.len(), rec.channels.len());
    for (i, conditioned, psd) in emg {
        if let Some(psd) = psd {
            channels[i].mnf_hz = psd.mnf_hz(cfg.spectrum.band_hz);
            channels[i].mdf_hz = psd.mdf_hz(cfg.spectrum.band_hz);
            channels[i].psd = Some(psd);
        }
        if let Some(raw) = channels[i].take_outcome(conditioned, Conditioned::Emg) {
            rec.channels[i].samples = raw;
        }
    }

    (RecordingSignals { mains_hz, channels }, then)
}

/// A force channel by index, checked and conditioned, with its raw samples given back when
/// it cannot be conditioned.
type CheckedForce = (usize, ChannelSignals, Option<Array1<f64>>);

/// Each force channel of `rec` checked and conditioned, from its raw samples in `raws`.
fn condition_forces(
    rec: &Recording,
    raws: Vec<(usize, Array1<f64>)>,
    cfg: &Config,
) -> Vec<CheckedForce> {
    let plans = plans(rec, ChannelKind::Force, |fs| {
        ForceFilters::design(fs, &cfg.force)
    });
    raws.into_par_iter()
        .map(|(i, raw)| {
            let ch = &rec.channels[i];
            let qc = channel_qc(qc_input(rec, ch, raw.view()), None, None, &cfg.qc);
            let mut signals = ChannelSignals::checked(qc);
            if signals.qc.qc == QcLevel::Bad {
                return (i, signals, Some(raw));
            }
            let conditioned = match plan_for(&plans, ch.fs_hz) {
                Ok(f) => f.condition_owned(raw),
                Err(e) => Err((raw, e)),
            };
            let raw = signals.take_outcome(conditioned, Conditioned::Force);
            (i, signals, raw)
        })
        .collect()
}

/// The raw spectra of the usable EMG channels, the mains frequency (the sidecar's, else
/// inferred from them) and every channel's QC but the force's (`None`).
fn emg_qc(
    rec: &Recording,
    welch_plans: &[(f64, Result<Welch, SpectrumError>)],
    cfg: &Config,
) -> (Option<f64>, Vec<Option<ChannelQc>>) {
    let raw_psds: Vec<Option<Psd>> = rec
        .channels
        .par_iter()
        .map(|ch| {
            let finite = || match ch.samples.as_slice() {
                Some(x) => first_non_finite(x).is_none(),
                None => ch.samples.iter().all(|v| v.is_finite()),
            };
            if !(ch.kind == ChannelKind::Emg && finite()) {
                return None;
            }
            let welch = plan_for(welch_plans, ch.fs_hz).ok()?;
            welch.psd(ch.samples.view()).ok()
        })
        .collect();
    let mains_hz = rec
        .meta
        .powerline_hz
        .or_else(|| infer_mains(raw_psds.iter().flatten(), &cfg.qc));
    let qcs = rec
        .channels
        .par_iter()
        .zip(&raw_psds)
        .map(|(ch, psd)| {
            let input = qc_input(rec, ch, ch.samples.view());
            (ch.kind != ChannelKind::Force)
                .then(|| channel_qc(input, psd.as_ref(), mains_hz, &cfg.qc))
        })
        .collect();
    (mains_hz, qcs)
}

/// What QC reads of channel `ch` of `rec`, with its samples.
fn qc_input<'a>(
    rec: &Recording,
    ch: &Channel,
    samples: ndarray::ArrayView1<'a, f64>,
) -> QcInput<'a> {
    QcInput {
        samples,
        fs_hz: ch.fs_hz,
        kind: ch.kind,
        physical_range: ch.physical_range,
        marked_bad: ch.marked_bad,
        n_gaps: rec.gaps.len(),
    }
}

/// An EMG channel after its batch: its index, its filtered signal (or its raw samples back
/// with the error) and the Welch PSD of the filtered signal.
type FilteredEmg = (usize, Filtered, Option<Psd>);

/// EMG channels filtered together, with their raw samples.
struct EmgBatch {
    fs_hz: f64,
    notch: bool,
    channels: Vec<usize>,
    raws: Vec<Array1<f64>>,
}

impl EmgBatch {
    /// Each channel's filtered signal, or its raw samples back with the error.
    fn condition(self, plans: &[(f64, Result<EmgFilters, FilterError>)]) -> Vec<(usize, Filtered)> {
        let filtered = match plan_for(plans, self.fs_hz) {
            Ok(f) => f.condition_many(self.raws, self.notch),
            Err(e) => self.raws.into_iter().map(|r| Err((r, e.clone()))).collect(),
        };
        self.channels.into_iter().zip(filtered).collect()
    }
}

/// A plan (filters, Welch) for each distinct rate among the channels of `kind`.
fn plans<T, E>(
    rec: &Recording,
    kind: ChannelKind,
    design: impl Fn(f64) -> Result<T, E>,
) -> Vec<(f64, Result<T, E>)> {
    let mut plans: Vec<(f64, Result<T, E>)> = Vec::new();
    for ch in rec.channels.iter().filter(|c| c.kind == kind) {
        if !plans.iter().any(|(fs, _)| *fs == ch.fs_hz) {
            plans.push((ch.fs_hz, design(ch.fs_hz)));
        }
    }
    plans
}

/// The plan designed for `fs_hz`, or why none could be.
fn plan_for<T, E: Clone>(plans: &[(f64, Result<T, E>)], fs_hz: f64) -> Result<&T, E> {
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
    let mut rec = ingest::load(&source, &cfg)?;
    let raw: Vec<Array1<f64>> = rec.channels.iter().map(|c| c.samples.clone()).collect();
    let signals = condition(&mut rec, &cfg);
    std::fs::create_dir_all(&args.out).map_err(|e| Error::Output {
        path: args.out.clone(),
        message: format!("cannot create the output folder: {e}"),
    })?;
    let mut used = Vec::new();
    for ((ch, raw), sig) in rec.channels.iter().zip(&raw).zip(&signals.channels) {
        let stem = unique_stem(file_stem(&ch.name), &mut used);
        let column = |name: &str, values: &Array1<f64>| Column::new(name.into(), values.to_vec());
        let mut columns = vec![
            column("time_s", &time_axis_s(raw.len(), ch.fs_hz, &rec.gaps)),
            column("raw", raw),
        ];
        match &sig.conditioned {
            Conditioned::Emg(e) => {
                columns.push(column("filtered", &e.filtered));
                columns.push(column("envelope", &e.envelope()));
                columns.push(column("tkeo", &e.tkeo()));
            }
            Conditioned::Force(f) => columns.push(column("lowpass", &f.lowpass)),
            Conditioned::None if matches!(ch.kind, ChannelKind::Emg | ChannelKind::Force) => {
                tracing::warn!(
                    "{}: channel `{}` is {}, exported raw only: {}",
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
    // Serially: a table's columns are a few hundred bytes each, and handing them to
    // polars' pool cost more than compressing them (600 s EDF, 2 threads, median of 11:
    // tables 11.0 → 10.1 ms); the tables are written in parallel already.
    write_atomically(path, |file| {
        ParquetWriter::new(file)
            .set_parallel(false)
            .finish(df)
            .map(|_| ())
    })
}

/// Runs `write` on a temporary file beside `path`, then renames it into place, so an
/// interrupted run never leaves a half-written file; the temporary is removed on failure.
/// The file is buffered: polars' Parquet writer and `serde_json` write in small pieces
/// (16,700 system calls for one run's tables before it was).
///
/// # Errors
/// [`Error::Output`] naming the file.
pub fn write_atomically<E: std::fmt::Display>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<(), Error> {
    let tmp = temporary_name(path);
    let result = File::create(&tmp)
        .map_err(|e| output_error(path, e))
        .and_then(|file| {
            let mut file = BufWriter::new(file);
            write(&mut file).map_err(|e| output_error(path, e))?;
            file.into_inner()
                .map_err(|e| output_error(path, e.into_error()))?;
            std::fs::rename(&tmp, path).map_err(|e| output_error(path, e))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `<stem>.tmp-<pid>.<extension>` beside `path`: the extension stays last, as image encoders
/// choose the format by it.
pub(crate) fn temporary_name(path: &Path) -> PathBuf {
    let mut name = path.file_stem().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    if let Some(ext) = path.extension() {
        name.push(".");
        name.push(ext);
    }
    path.with_file_name(name)
}

/// `palpa simulate`: a synthetic dataset with its truth (DESIGN §6). Refuses a folder that
/// already holds files, so a real dataset is never overwritten.
///
/// # Errors
/// A bad config, a non-empty or unwritable output folder.
pub fn simulate(args: &SimulateArgs) -> Result<Outcome, Error> {
    let cfg = load_config(args.config.as_deref())?;
    if let Ok(mut entries) = std::fs::read_dir(&args.out) {
        if entries.next().is_some() {
            return Err(Error::Output {
                path: args.out.clone(),
                message: "already holds files; simulate writes only into a new or empty folder"
                    .into(),
            });
        }
    }
    let opts = crate::simulate::SimulateOptions {
        seed: args.seed,
        subjects: args.subjects,
        format: args.format,
        rest_rms_uv: args.noise_uv,
        ecg: !args.no_ecg,
        mains: !args.no_mains,
        duration_s: args.duration_s,
        emg_channels: usize::from(args.emg_channels),
        emg_fs_hz: args.emg_fs_hz,
    };
    let done = crate::simulate::write_dataset(&args.out, &opts, &cfg)?;
    tracing::info!(
        "wrote {done} recordings of {} subjects to {}",
        args.subjects,
        args.out.display()
    );
    Ok(Outcome { done, failed: 0 })
}

/// What palpa found in one recording: plain values for the tables, no samples.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RecordingResult {
    /// Channel QC and spectra, one per channel in recording order.
    pub channels: Vec<ChannelResult>,
    /// Contact episodes with their evidence and audit.
    pub episodes: Vec<EpisodeResult>,
    /// LTRs.
    pub twitches: TwitchReport,
    /// The palpated EMG channel's name, when one was identified.
    pub palpated_channel: Option<String>,
}

/// One channel's figures.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ChannelResult {
    /// QC figures and verdict.
    pub qc: ChannelQc,
    /// RMS of the band-passed EMG over quiet, contact-free samples.
    pub rest_rms_uv: Option<f64>,
    /// Mean frequency.
    pub mnf_hz: Option<f64>,
    /// Median frequency.
    pub mdf_hz: Option<f64>,
}

/// One episode with everything measured on it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct EpisodeResult {
    /// Segmentation and technique.
    pub episode: Episode,
    /// Taut-band evidence.
    pub evidence: BandEvidence,
    /// Score and verdict, when mechanical evidence applies.
    pub taut_band: Option<(f64, bool)>,
    /// MDF of the palpated EMG over a hold's first and last `hold_edge_s`.
    pub mdf_edges_hz: [Option<f64>; 2],
    /// A withdrawal during contact.
    pub withdrawal: bool,
    /// Audit of holds and PPT trials.
    pub audit: Option<Audit>,
}

/// Every detection stage on one conditioned recording (DESIGN §3.3–§3.7): episodes from the
/// force, taut-band evidence, twitches and withdrawals, the audit. A recording without force
/// gets EMG figures only; one without EMG gets episodes, the audit and force twitches.
pub fn analyse(rec: &Recording, signals: &RecordingSignals, cfg: &Config) -> RecordingResult {
    let found = force_findings(
        rec,
        first_force(rec.channels.iter().zip(&signals.channels)),
        cfg,
    );
    analyse_with(rec, signals, found, cfg)
}

/// The force channel the analysis reads: the first conditioned.
fn first_force<'a>(
    channels: impl IntoIterator<Item = (&'a Channel, &'a ChannelSignals)>,
) -> Option<(&'a Channel, &'a ConditionedForce)> {
    channels
        .into_iter()
        .find_map(|(ch, s)| match &s.conditioned {
            Conditioned::Force(f) => Some((ch, f)),
            _ => None,
        })
}

/// What the force alone gives (DESIGN §3.3–§3.4): contact episodes, and each one's
/// mechanical taut-band evidence (with displacement, when recorded).
struct ForceFindings {
    episodes: Vec<Episode>,
    evidence: Vec<BandEvidence>,
}

fn force_findings(
    rec: &Recording,
    force: Option<(&Channel, &ConditionedForce)>,
    cfg: &Config,
) -> ForceFindings {
    let episodes: Vec<Episode> = force.map_or_else(Vec::new, |(ch, f)| {
        detect_episodes(f.lowpass.view(), ch.fs_hz, &rec.annotations, &cfg.episodes)
    });
    let displacement = |fs: f64| {
        rec.channels
            .iter()
            .find(|c| c.kind == ChannelKind::Displacement && c.fs_hz == fs)
            .map(|c| c.samples.view())
    };
    let evidence = match force {
        Some((ch, f)) => force_evidence(
            ForceEvidenceInput {
                force_n: f.debiased.view(),
                fs_hz: ch.fs_hz,
                displacement_mm: displacement(ch.fs_hz),
                episodes: &episodes,
            },
            &cfg.episodes,
            &cfg.taut_band,
        ),
        None => vec![BandEvidence::default(); episodes.len()],
    };
    ForceFindings { episodes, evidence }
}

/// The EMG channels the twitch detector reads: the palpated muscle's, and the same muscle's
/// on the other side.
#[derive(Clone, Copy, Debug)]
struct TwitchChannels {
    palpated: Option<usize>,
    contralateral: Option<usize>,
}

impl TwitchChannels {
    fn of(rec: &Recording, signals: &RecordingSignals) -> TwitchChannels {
        let palpated = palpated_emg(rec, signals);
        let contralateral = palpated.and_then(|p| {
            let (muscle, side) = (&rec.channels[p].muscle, rec.channels[p].side);
            (0..rec.channels.len()).find(|&i| {
                i != p
                    && signals.channels[i].emg().is_some()
                    && rec.channels[i].muscle == *muscle
                    && muscle.is_some()
                    && side.is_some()
                    && rec.channels[i].side.is_some()
                    && rec.channels[i].side != side
            })
        });
        TwitchChannels {
            palpated,
            contralateral,
        }
    }

    fn reads(self, i: usize) -> bool {
        self.palpated == Some(i) || self.contralateral == Some(i)
    }
}

/// [`analyse`], the force's findings already made.
fn analyse_with(
    rec: &Recording,
    signals: &RecordingSignals,
    found: ForceFindings,
    cfg: &Config,
) -> RecordingResult {
    let sides = TwitchChannels::of(rec, signals);
    analyse_sides(rec, signals, found, sides, None, cfg)
}

/// [`analyse_with`] for a recording drawn in no figure: every channel's figures are taken
/// first, then each filtered EMG signal the twitch detector does not read is dropped,
/// before that detector asks for its own signal-length arrays. Those arrays then take
/// pages the process has just given back, not fresh ones: on this project's VM a fresh
/// page costs the host a fault, and the hour's Parquet recording's peak falls from 830 to
/// 586 MB (of which 518 MB are its decoded samples).
fn analyse_releasing(
    rec: &Recording,
    mut signals: RecordingSignals,
    found: ForceFindings,
    cfg: &Config,
) -> RecordingResult {
    let sides = TwitchChannels::of(rec, &signals);
    let channels = channel_results(rec, &signals, &found.episodes, cfg);
    for (i, s) in signals.channels.iter_mut().enumerate() {
        if s.emg().is_some() && !sides.reads(i) {
            s.conditioned = Conditioned::None;
        }
    }
    analyse_sides(rec, &signals, found, sides, Some(channels), cfg)
}

/// [`analyse_with`], the twitch detector's channels chosen and, when given, every
/// channel's figures already taken.
fn analyse_sides(
    rec: &Recording,
    signals: &RecordingSignals,
    found: ForceFindings,
    TwitchChannels {
        palpated,
        contralateral,
    }: TwitchChannels,
    channels: Option<Vec<ChannelResult>>,
    cfg: &Config,
) -> RecordingResult {
    let force = first_force(rec.channels.iter().zip(&signals.channels));
    let ForceFindings {
        episodes,
        mut evidence,
    } = found;
    let emg_of = |i: usize| signals.channels[i].emg();
    let drops = drop_marks(&episodes, &evidence);

    let emg_view = |i: usize| {
        emg_of(i).map(|e| EmgView {
            filtered: e.filtered.view(),
            fs_hz: rec.channels[i].fs_hz,
        })
    };
    // Pressure-evoked EMG and the MDF shift of holds, on the palpated channel.
    let palpated_evidence = |evidence: &mut Vec<BandEvidence>| {
        let mut mdf_edges = vec![[None, None]; episodes.len()];
        if let Some((e, fs)) = palpated.and_then(|p| Some((emg_of(p)?, rec.channels[p].fs_hz))) {
            add_emg_evidence(evidence, e.envelope().view(), fs, &episodes, &cfg.taut_band);
            let welch = Welch::plan(fs, &cfg.spectrum).ok();
            for (i, ep) in episodes.iter().enumerate() {
                if let (Technique::Hold, Some(welch)) = (ep.technique, &welch) {
                    let span = [ep.start_s, ep.end_s];
                    mdf_edges[i] = edge_mdf_hz(welch, e.filtered.view(), span, &cfg.spectrum);
                }
            }
        }
        mdf_edges
    };
    // Each side of the twitch detector is a chain of steps; the palpated channel's evoked
    // EMG and hold MDFs, and every channel's rest RMS, fill the threads beside them.
    let (twitches, (mdf_edges, channels)) = rayon::join(
        || {
            detect_twitches(
                TwitchInput {
                    emg: palpated.and_then(emg_view),
                    contralateral: contralateral.and_then(emg_view),
                    force: force.map(|(ch, f)| ForceView {
                        debiased: f.debiased.view(),
                        fs_hz: ch.fs_hz,
                    }),
                    episodes: &episodes,
                    drops: &drops,
                    envelope_window_ms: cfg.emg.envelope_window_ms,
                },
                &cfg.twitch,
            )
        },
        || {
            rayon::join(
                || palpated_evidence(&mut evidence),
                || channels.unwrap_or_else(|| channel_results(rec, signals, &episodes, cfg)),
            )
        },
    );

    let ppts: Vec<f64> = episodes.iter().filter_map(|e| e.ppt_n).collect();
    let probe_area_cm2 = rec.meta.probe_area_cm2;
    let ctx = AuditContext {
        probe_area_cm2,
        session_ppt_kpa: (!ppts.is_empty())
            .then(|| pressure_kpa(ppts.iter().sum::<f64>() / ppts.len() as f64, probe_area_cm2)),
    };
    let audits = audit(&episodes, &twitches.withdrawals, ctx, &cfg.audit);

    let episodes = episodes
        .into_iter()
        .zip(evidence)
        .zip(audits)
        .zip(mdf_edges)
        .enumerate()
        .map(
            |(i, (((episode, evidence), audit), mdf_edges_hz))| EpisodeResult {
                taut_band: score(episode.technique, &evidence, &cfg.taut_band),
                withdrawal: twitches.withdrawals.get(i).copied().unwrap_or(false),
                episode,
                evidence,
                mdf_edges_hz,
                audit,
            },
        )
        .collect();
    RecordingResult {
        channels,
        episodes,
        palpated_channel: palpated.map(|p| rec.channels[p].name.clone()),
        twitches,
    }
}

/// Each channel's QC, rest RMS (EMG outside contacts) and spectral figures.
fn channel_results(
    rec: &Recording,
    signals: &RecordingSignals,
    episodes: &[Episode],
    cfg: &Config,
) -> Vec<ChannelResult> {
    signals
        .channels
        .par_iter()
        .zip(&rec.channels)
        .map(|(s, ch)| ChannelResult {
            qc: s.qc.clone(),
            rest_rms_uv: s.emg().and_then(|e| {
                quiet_rms(
                    e.filtered.view(),
                    ch.fs_hz,
                    episodes,
                    cfg.twitch.quiet_margin_s,
                )
            }),
            mnf_hz: s.mnf_hz,
            mdf_hz: s.mdf_hz,
        })
        .collect()
}

/// The palpated muscle's EMG channel: the one whose muscle (and side, when known) matches
/// the recording's palpated muscle, else the only analysable EMG channel.
fn palpated_emg(rec: &Recording, signals: &RecordingSignals) -> Option<usize> {
    let usable: Vec<usize> = (0..rec.channels.len())
        .filter(|&i| signals.channels[i].emg().is_some())
        .collect();
    let muscle = rec.meta.palpated_muscle.as_ref();
    let side = rec.meta.palpated_side;
    let matching = |check_side: bool| {
        usable.iter().copied().find(|&i| {
            let ch = &rec.channels[i];
            muscle.is_some()
                && ch.muscle.as_ref() == muscle
                && (!check_side || side.is_none() || ch.side == side)
        })
    };
    matching(true)
        .or_else(|| matching(false))
        .or_else(|| (usable.len() == 1).then(|| usable[0]))
}

/// `palpa run`: every recording of a dataset (or of one shard of it) through every stage,
/// recordings in parallel, then the tables (DESIGN §4). A recording that fails becomes a
/// `failed` row; the others are written. Each recording is also kept as a part (see
/// [`batch`]), which `--resume` reuses and `palpa merge` joins.
///
/// # Errors
/// A bad config, an unreadable dataset folder, an output folder inside the dataset or one
/// that cannot be written.
pub fn run(args: &RunArgs) -> Result<Outcome, Error> {
    let cfg = load_config(args.config.as_deref())?;
    let dataset = args
        .dataset
        .clone()
        .unwrap_or_else(|| PathBuf::from("datasets/demo"));
    let name = dataset
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "dataset".into());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&name));
    let clock = Instant::now();
    let sources: Vec<Source> = ingest::discover(&dataset)?
        .into_iter()
        .filter(|s| args.shard.is_none_or(|shard| shard.takes(&s.id)))
        .collect();
    let discovered_s = clock.elapsed().as_secs_f64();
    if let Ok(d) = dataset.canonicalize() {
        if resolved(&out).starts_with(&d) {
            return Err(output_error(
                &out,
                "is inside the input dataset; palpa never writes there",
            ));
        }
    }
    let plots_dir = prepare_output(&out, !args.no_plots)?;
    let store = PartStore::open(&out, &cfg, plots_dir.is_some())?;

    // One tick per recording (many small ticks from many threads contend on the bar);
    // indicatif hides it when stderr is not a terminal.
    let progress = ProgressBar::new(sources.len() as u64).with_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} recordings, {elapsed} elapsed, ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let threads = args.jobs.map_or(0, std::num::NonZeroUsize::get);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| output_error(&out, format!("cannot start {threads} threads: {e}")))?;
    let context = RunContext {
        dataset: &dataset,
        cfg: &cfg,
        out: &out,
        plots: plots_dir.as_deref(),
        store: &store,
        resume: args.resume,
        threads: pool.current_num_threads(),
    };
    batch::interrupt::watch();
    // Recordings are read here, outside the pool: polars decodes on its own threads and
    // must not be called from rayon's (peers.md). A recording holds one of the pool's
    // places from its read to its row, so memory is bounded by the threads, not the dataset,
    // and the next recording is read while the others are processed.
    let places = batch::Places::new(pool.current_num_threads());
    let finished = std::sync::Mutex::new(Vec::with_capacity(sources.len()));
    let finish = |i: usize, row: RecordingSummary, resumed: bool| {
        tracing::info!(
            "{}: {}",
            row.id,
            match (&row.result, resumed) {
                (Ok(_), false) => "ok",
                (Ok(_), true) => "ok (resumed)",
                (Err(_), _) => "failed",
            }
        );
        progress.inc(1);
        batch::lock(&finished).push((i, row, resumed));
    };
    let (finish, context) = (&finish, &context);
    pool.in_place_scope(|scope| {
        for (i, source) in sources.iter().enumerate() {
            let place = places.take();
            if batch::interrupt::requested() {
                break;
            }
            match context.begin(source) {
                Begun::Done(row, resumed) => finish(i, *row, resumed),
                Begun::Loaded(loaded) => scope.spawn(move |_| {
                    let _place = place;
                    finish(i, context.complete(source, loaded), false);
                }),
            }
        }
    });
    progress.finish_and_clear();
    let mut finished = finished
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if batch::interrupt::requested() {
        return Err(Error::Interrupted {
            done: finished.len(),
            total: sources.len(),
            out,
        });
    }
    finished.sort_unstable_by_key(|&(i, _, _)| i);
    let (rows, resumed): (Vec<RecordingSummary>, Vec<bool>) =
        finished.into_iter().map(|(_, row, r)| (row, r)).unzip();
    let resumed = resumed.into_iter().filter(|&r| r).count();
    let processed_s = clock.elapsed().as_secs_f64();
    let manifest = Manifest {
        palpa_version: env!("CARGO_PKG_VERSION").into(),
        dataset: dataset.canonicalize().unwrap_or(dataset.clone()),
        name,
        config_toml: cfg.to_toml(),
        plots: plots_dir.is_some(),
        shard: args.shard,
        recordings: rows.iter().map(|r| r.path.clone()).collect(),
    };
    let timings = json!({"discover": discovered_s, "recordings": processed_s - discovered_s});
    let extra = json!({"shard": args.shard, "resumed": resumed});
    write_outputs(
        &rows,
        &manifest,
        &Written {
            cfg: &cfg,
            out: &out,
            format: args.format,
            plots: plots_dir.as_deref(),
            store: &store,
            threads: pool.current_num_threads(),
        },
        timings,
        extra,
    )
}

/// `palpa merge`: the outputs of `palpa run --shard K/N` for every K joined into exactly the
/// tables, report and parts one run over the whole dataset writes.
///
/// # Errors
/// A folder that is not a shard of the same run, a shard missing or given twice, a missing
/// part or figure, an output folder that is one of the shards or cannot be written.
pub fn merge(args: &MergeArgs) -> Result<Outcome, Error> {
    let clock = Instant::now();
    let manifests = args
        .shards
        .iter()
        .map(|dir| Manifest::read(dir))
        .collect::<Result<Vec<_>, _>>()?;
    batch::check_shards(&args.shards, &manifests)?;
    let (Some(first), Some(first_dir)) = (manifests.first(), args.shards.first()) else {
        return Ok(Outcome::default());
    };
    let cfg = first.config(first_dir)?;
    if let Some(dir) = args
        .shards
        .iter()
        .find(|d| resolved(d) == resolved(&args.out))
    {
        return Err(output_error(
            &args.out,
            format!(
                "is the shard folder {}; merge into a new folder",
                dir.display()
            ),
        ));
    }
    let plots_dir = prepare_output(&args.out, first.plots)?;
    let store = PartStore::open(&args.out, &cfg, first.plots)?;
    let mut rows = Vec::new();
    for (dir, manifest) in args.shards.iter().zip(&manifests) {
        for path in &manifest.recordings {
            let row = store.copy_from(dir, path)?;
            for (_, stem) in &row.figures {
                for ext in ["svg", "png"] {
                    let file = format!("{stem}.{ext}");
                    copy_file(&dir.join(&file), &args.out.join(&file))?;
                }
            }
            rows.push(row);
        }
    }
    rows.sort_by(|a, b| (&a.id, &a.path).cmp(&(&b.id, &b.path)));
    let manifest = Manifest {
        shard: None,
        recordings: rows.iter().map(|r| r.path.clone()).collect(),
        ..first.clone()
    };
    let timings = json!({"merge_parts": clock.elapsed().as_secs_f64()});
    let extra = json!({"shard": null, "merged_from": args.shards});
    write_outputs(
        &rows,
        &manifest,
        &Written {
            cfg: &cfg,
            out: &args.out,
            format: args.format,
            plots: plots_dir.as_deref(),
            store: &store,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        },
        timings,
        extra,
    )
}

/// Creates the output folder (and `plots/` when figures are drawn), removing what an
/// interrupted run left under temporary names; returns the plots folder.
fn prepare_output(out: &Path, plots: bool) -> Result<Option<PathBuf>, Error> {
    std::fs::create_dir_all(out)
        .map_err(|e| output_error(out, format!("cannot create the output folder: {e}")))?;
    // Find out now, not after an hour of work, that nothing can be written here.
    let probe = temporary_name(&out.join("write-test"));
    File::create(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| output_error(out, format!("cannot write in the output folder: {e}")))?;
    batch::remove_temporaries(out);
    batch::remove_temporaries(&out.join(batch::STATE_DIR));
    batch::remove_temporaries(&out.join(batch::STATE_DIR).join("parts"));
    if !plots {
        return Ok(None);
    }
    let dir = out.join("plots");
    std::fs::create_dir_all(&dir)
        .map_err(|e| output_error(&dir, format!("cannot create the plots folder: {e}")))?;
    batch::remove_temporaries(&dir);
    Ok(Some(dir))
}

/// Copies a shard's file into the merged output.
fn copy_file(from: &Path, to: &Path) -> Result<(), Error> {
    let mut source = File::open(from).map_err(|e| Error::Shard {
        path: from.to_path_buf(),
        message: format!("a figure of the shard cannot be read ({e}); run that shard again"),
    })?;
    write_atomically(to, |file| std::io::copy(&mut source, file).map(|_| ()))
}

/// Where and how a batch's outputs are written.
struct Written<'a> {
    cfg: &'a Config,
    out: &'a Path,
    format: TableFormat,
    plots: Option<&'a Path>,
    store: &'a PartStore,
    /// Threads that write the tables.
    threads: usize,
}

/// Everything a batch writes once its recordings are done, the same for `run` and `merge`:
/// the tables, `methods.md`, the summary figures, `report.html`, the manifest and
/// `run.json` (with `timings` so far and the command's `extra` fields).
fn write_outputs(
    rows: &[RecordingSummary],
    manifest: &Manifest,
    to: &Written<'_>,
    timings: serde_json::Value,
    extra: serde_json::Value,
) -> Result<Outcome, Error> {
    let (cfg, out) = (to.cfg, to.out);
    let clock = Instant::now();
    let failed = rows.iter().filter(|r| r.result.is_err()).count();
    for r in rows.iter().filter(|r| r.result.is_err()) {
        // The error names the file itself.
        tracing::error!("{}", r.result.as_ref().err().map_or("", String::as_str));
    }
    to.store.retain(&manifest.recordings)?;
    manifest.write(out)?;

    // Each table built and written by one of `threads` writers: the six are independent,
    // and one after another they were a serial tail of every run (17 ms of a 600 s EDF
    // recording's 0.41 s on 2 threads; 15 ms in turns, most of it polars starting up).
    let frames = crate::turns::in_turns(summary::TABLES.to_vec(), to.threads, |(table, build)| {
        let mut df = build(rows).map_err(|e| output_error(&out.join(table), e))?;
        summary::write_table(out, table, &mut df, to.format)?;
        Ok::<_, Error>((table, df))
    })?;
    let tables_s = clock.elapsed().as_secs_f64();
    write_atomically(&out.join("methods.md"), |file| {
        use std::io::Write as _;
        file.write_all(methods_markdown(cfg).as_bytes())
    })?;
    let frame = |name: &str| {
        frames
            .iter()
            .find(|(t, _)| *t == name)
            .map(|(_, df)| df.clone())
            .unwrap_or_default()
    };
    let (muscles, therapists) = (frame("muscles"), frame("therapists"));
    let summary_figures = match to.plots {
        Some(dir) => report::plots::summary_figures(
            &muscles,
            &therapists,
            &cfg.report.healthy_ppt_kpa,
            cfg.audit.hold_window_s,
            dir,
        )
        .map_err(|e| output_error(dir, e))?
        .into_iter()
        .map(|(title, stem)| (title, format!("plots/{stem}")))
        .collect(),
        None => Vec::new(),
    };
    let view = report::html::build_view(report::html::ReportInputs {
        dataset: &manifest.name,
        rows,
        muscles: &muscles,
        therapists: &therapists,
        summary_figures: &summary_figures,
        out,
        cfg,
    });
    let html =
        report::html::render(&view).map_err(|e| output_error(&out.join("report.html"), e))?;
    write_atomically(&out.join("report.html"), |file| {
        use std::io::Write as _;
        file.write_all(html.as_bytes())
    })?;
    let report_s = clock.elapsed().as_secs_f64() - tables_s;
    let stage_total = |k: usize| rows.iter().map(|r| r.stage_s[k]).sum::<f64>();
    let mut timings = timings;
    timings["tables"] = json!(tables_s);
    timings["report"] = json!(report_s);
    let mut run_json = json!({
        "palpa_version": manifest.palpa_version,
        "dataset": manifest.dataset,
        "config": cfg,
        "recordings": rows.len(),
        "failed": failed,
        "inputs": rows.iter().flat_map(|r| r.inputs.iter().map(|(path, bytes, sha256)| {
            json!({"path": path, "bytes": bytes, "sha256": sha256})
        })).collect::<Vec<_>>(),
        "timings_s": {
            "wall": timings,
            "summed_over_recordings": {"load": stage_total(0), "condition": stage_total(1), "analyse": stage_total(2)},
        },
        "failures": rows.iter().filter_map(|r| r.result.as_ref().err().map(|e| json!({"recording": r.id, "path": r.path, "error": e}))).collect::<Vec<_>>(),
    });
    if let (Some(run), Some(extra)) = (run_json.as_object_mut(), extra.as_object()) {
        run.extend(extra.clone());
    }
    write_atomically(&out.join("run.json"), |file| {
        use std::io::Write as _;
        writeln!(file, "{run_json:#}")
    })?;
    Ok(Outcome {
        done: rows.len() - failed,
        failed,
    })
}

/// The overview and one PSD per EMG channel, written under `dir`; returns (title, stem
/// relative to the output folder) for each.
fn recording_figures(
    rec: &Recording,
    duration_s: f64,
    signals: &RecordingSignals,
    result: &RecordingResult,
    cfg: &Config,
    dir: &Path,
) -> Result<Vec<(String, String)>, String> {
    let stem = file_stem(&rec.id);
    let mut overview = Overview {
        title: rec.id.clone(),
        duration_s,
        episodes: result
            .episodes
            .iter()
            .map(|e| EpisodeMark {
                start_s: e.episode.start_s,
                end_s: e.episode.end_s,
                technique: e.episode.technique.as_str(),
                hold_s: e.episode.plateau.as_ref().map(|p| p.hold_s),
            })
            .collect(),
        twitch_onsets_s: result.twitches.twitches.iter().map(|t| t.onset_s).collect(),
        ..Overview::default()
    };
    let mut spectra = Vec::new();
    for (ch, sig) in rec.channels.iter().zip(&signals.channels) {
        match &sig.conditioned {
            Conditioned::Force(f) if overview.force.is_none() => {
                overview.force = Some(Trace::of(f.lowpass.view(), ch.fs_hz));
            }
            Conditioned::Emg(e) => {
                overview.emg.push((
                    ch.name.clone(),
                    Trace::of(e.filtered.view(), ch.fs_hz),
                    Trace::of(e.envelope().view(), ch.fs_hz),
                ));
                if let Some(psd) = &sig.psd {
                    spectra.push((
                        ch.name.clone(),
                        Spectrum {
                            title: format!("{} — {}: Welch PSD", rec.id, ch.name),
                            df_hz: psd.df_hz,
                            density: psd.density.clone(),
                            mnf_hz: sig.mnf_hz,
                            mdf_hz: sig.mdf_hz,
                            max_hz: (ch.fs_hz / 2.0).min(cfg.spectrum.band_hz[1] + 50.0),
                        },
                    ));
                }
            }
            _ => {}
        }
    }
    let mut figures = Vec::new();
    let name = format!("{stem}_overview");
    Figure::Overview(&overview).write(&dir.join(&name))?;
    figures.push((
        "Force with episodes by technique; each EMG channel band-passed with its envelope; LTR onsets in red".to_string(),
        format!("plots/{name}"),
    ));
    for (channel, spectrum) in &spectra {
        let name = format!("{stem}_{}_psd", file_stem(channel));
        Figure::Spectrum(spectrum).write(&dir.join(&name))?;
        figures.push((
            format!("{channel}: PSD with MNF and MDF"),
            format!("plots/{name}"),
        ));
    }
    Ok(figures)
}

/// `path` made absolute through its nearest existing ancestor, so a folder not yet created
/// can be compared with another.
fn resolved(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let base = if existing.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &existing
    };
    let mut out = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    out.extend(rest.iter().rev());
    out
}

/// What every recording of a `palpa run` shares.
struct RunContext<'a> {
    dataset: &'a Path,
    cfg: &'a Config,
    out: &'a Path,
    plots: Option<&'a Path>,
    store: &'a PartStore,
    resume: bool,
    /// The pool's threads. With more than one, a recording is read by as many threads,
    /// and its files are hashed on a thread of their own from its read until its part is
    /// stored; with `-j 1` it is read by one and the hashing stays in the pool, after the
    /// read.
    threads: usize,
}

impl RunContext<'_> {
    /// The first part of a recording, on the thread that reads them: with `--resume`, its
    /// stored row when the part was made from the same inputs and configuration (with its
    /// figures still there); else the recording read, or its row when it cannot be. A
    /// stored failure is tried again: it may have been a file that was being copied, or a
    /// full disk.
    fn begin(&self, source: &Source) -> Begun {
        let inputs = if self.resume {
            let inputs = self.fingerprints(source);
            if let Some(row) = self.stored(source, &inputs) {
                return Begun::Done(Box::new(row), true);
            }
            Fingerprints::Done(inputs)
        } else if self.threads > 1 {
            // Even with two readers a read leaves a core partly idle: hashing there for the
            // part's key takes no core from the recording's analysis (an hour of Parquet,
            // 2 threads: 3.42 s against 3.62 s with the hashing in the pool). The hashing
            // runs on until the part is stored: an EDF file is read faster than it is
            // hashed, and waiting for the hash left the pool idle (600 s EDF, 2 threads, median
            // of 11: 0.38 → 0.34 s).
            let (dataset, files) = (self.dataset.to_path_buf(), input_files(source));
            Fingerprints::Hashing(std::thread::spawn(move || {
                in_idle_time();
                fingerprints(&dataset, &files)
            }))
        } else {
            Fingerprints::NotYet
        };
        let clock = Instant::now();
        let loaded = self.guarded(source, || {
            let rec = ingest::load_with_readers(source, self.cfg, self.threads);
            rec.map_err(|e| e.to_string())
        });
        let load_s = clock.elapsed().as_secs_f64();
        match loaded {
            Ok(rec) => Begun::Loaded(Box::new(Loaded {
                rec,
                load_s,
                inputs,
            })),
            Err(message) => {
                let row = self.failed(source, message);
                let inputs = self.hashed(source, inputs);
                Begun::Done(Box::new(self.kept(row, inputs)), false)
            }
        }
    }

    /// The rest of a recording, in the pool: conditioned, analysed, drawn, and its row
    /// stored for `--resume` and `palpa merge`.
    fn complete(&self, source: &Source, loaded: Box<Loaded>) -> RecordingSummary {
        let Loaded {
            rec,
            load_s,
            inputs,
        } = *loaded;
        let processed = |rec| {
            self.guarded(source, || Ok(self.process(source, rec, load_s)))
                .unwrap_or_else(|message| self.failed(source, message))
        };
        let (inputs, row) = match inputs {
            // Not hashed yet (`-j 1`): beside the work, should the pool have room.
            Fingerprints::NotYet => rayon::join(|| self.fingerprints(source), || processed(rec)),
            inputs => {
                let row = processed(rec);
                (self.hashed(source, inputs), row)
            }
        };
        self.kept(row, inputs)
    }

    /// Size and SHA-256 of each of the recording's files, the key of its stored part.
    fn fingerprints(&self, source: &Source) -> Vec<InputFile> {
        fingerprints(self.dataset, &input_files(source))
    }

    /// The fingerprints, waiting for their thread if they are being made.
    fn hashed(&self, source: &Source, inputs: Fingerprints) -> Vec<InputFile> {
        match inputs {
            Fingerprints::Done(inputs) => inputs,
            Fingerprints::Hashing(thread) => {
                thread.join().unwrap_or_else(|_| self.fingerprints(source))
            }
            Fingerprints::NotYet => self.fingerprints(source),
        }
    }

    /// `row` with its inputs, stored as a part.
    fn kept(&self, mut row: RecordingSummary, inputs: Vec<InputFile>) -> RecordingSummary {
        row.inputs = inputs;
        if let Err(e) = self.store.put(&row, &self.store.key(&row.inputs)) {
            tracing::warn!("{e}: a resumed run or a merge will process this recording again");
        }
        row
    }

    /// The stored row of `source` when its part was made from the same inputs and
    /// configuration, succeeded, and its figures are still there.
    fn stored(&self, source: &Source, inputs: &[InputFile]) -> Option<RecordingSummary> {
        self.store
            .get(&self.relative(&source.path), &self.store.key(inputs))
            .filter(|row| {
                row.result.is_ok()
                    && row.figures.iter().all(|(_, stem)| {
                        ["svg", "png"]
                            .iter()
                            .all(|ext| self.out.join(format!("{stem}.{ext}")).is_file())
                    })
            })
    }

    /// `work`, with a panic caught. A panic is a bug in palpa, never the input's fault, but
    /// it must still cost only this recording: it becomes the recording's error and the
    /// batch goes on.
    fn guarded<T>(
        &self,
        source: &Source,
        work: impl FnOnce() -> Result<T, String>,
    ) -> Result<T, String> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!(
                "{}: palpa failed on this recording (a bug, please report it with the \
                 file): {message}",
                source.path.display()
            ))
        })
    }

    /// `p` relative to the dataset root, `/`-separated.
    fn relative(&self, p: &Path) -> String {
        relative(self.dataset, p)
    }

    /// The row of `source` when it failed with `message`.
    fn failed(&self, source: &Source, message: String) -> RecordingSummary {
        RecordingSummary {
            result: Err(message),
            ..self.row(source)
        }
    }

    /// The row of `source` before anything is known of its contents.
    fn row(&self, source: &Source) -> RecordingSummary {
        RecordingSummary {
            id: source.id.clone(),
            path: self.relative(&source.path),
            meta: RecordingMeta {
                subject: source.entities.subject.clone(),
                session: source.entities.session.clone(),
                task: source.entities.task.clone(),
                run: source.entities.run.clone(),
                ..RecordingMeta::default()
            },
            info: None,
            result: Err(String::new()),
            inputs: Vec::new(),
            stage_s: [0.0; 3],
            figures: Vec::new(),
        }
    }

    /// Condition (the force's episodes and evidence found beside the EMG filters, and
    /// timed with them), analyse, draw.
    fn process(&self, source: &Source, mut rec: Recording, load_s: f64) -> RecordingSummary {
        let cfg = self.cfg;
        let mut summary = self.row(source);
        let clock = Instant::now();
        let info = ingest::info_of(&rec);
        let (signals, found) =
            condition_then(&mut rec, cfg, |rec, force| force_findings(rec, force, cfg));
        let conditioned = clock.elapsed().as_secs_f64();
        let result = match self.plots {
            Some(dir) => {
                let result = analyse_with(&rec, &signals, found, cfg);
                match recording_figures(&rec, info.duration_s, &signals, &result, cfg, dir) {
                    Ok(figures) => summary.figures = figures,
                    Err(e) => tracing::warn!("{}: figures not drawn: {e}", rec.path.display()),
                }
                result
            }
            None => analyse_releasing(&rec, signals, found, cfg),
        };
        summary.result = Ok(result);
        summary.stage_s = [
            load_s,
            conditioned,
            clock.elapsed().as_secs_f64() - conditioned,
        ];
        summary.info = Some(info);
        summary.meta = rec.meta;
        summary
    }
}

/// A recording after [`RunContext::begin`].
enum Begun {
    /// Its row is known: resumed, or the recording could not be read.
    Done(Box<RecordingSummary>, bool),
    /// Read, for [`RunContext::complete`].
    Loaded(Box<Loaded>),
}

/// A recording's files: its samples and the sidecars beside them.
fn input_files(source: &Source) -> Vec<PathBuf> {
    std::iter::once(&source.path)
        .chain(&source.json)
        .chain(&source.channels_tsv)
        .chain(&source.events_tsv)
        .cloned()
        .collect()
}

/// Size and SHA-256 of each of `files` that can be read, named relative to `dataset`.
fn fingerprints(dataset: &Path, files: &[PathBuf]) -> Vec<InputFile> {
    files
        .iter()
        .filter_map(|p| {
            let (bytes, sha256) = ingest::fingerprint(p).ok()?;
            Some((relative(dataset, p), bytes, sha256))
        })
        .collect()
}

/// Leaves the calling thread only the time no other thread wants (Linux `SCHED_IDLE`).
/// The inputs' hashing had competed with the readers and the pool for the cores: 3600 s
/// EDF, 2 threads, alternating runs: 0.997 → 0.917 s (median of 5), 0.922 → 0.881 s
/// (median of 7); 600 s EDF within the noise. Where the policy is refused, the thread
/// runs as before.
fn in_idle_time() {
    #[cfg(target_os = "linux")]
    // SAFETY: pid 0 is the calling thread; `param` is read only, and SCHED_IDLE requires
    // priority 0 and no privilege.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
    }
}

/// `p` relative to `dataset`, with `/` between its parts on every system.
fn relative(dataset: &Path, p: &Path) -> String {
    p.strip_prefix(dataset)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// A recording's fingerprints: made (with `--resume`, to look for its part), being made on a
/// thread of their own (with more than one thread), or not yet (`-j 1`).
enum Fingerprints {
    Done(Vec<InputFile>),
    Hashing(std::thread::JoinHandle<Vec<InputFile>>),
    NotYet,
}

/// A recording read, with the seconds it took and its inputs' fingerprints.
struct Loaded {
    rec: Recording,
    load_s: f64,
    inputs: Fingerprints,
}

/// `palpa evaluate`: a run's detections against ground truth, printed as a table or JSON.
///
/// # Errors
/// A missing table or truth file, or a column missing from one.
pub fn evaluate(args: &EvaluateArgs) -> Result<Outcome, Error> {
    let truth = match &args.truth {
        Some(t) => t.clone(),
        None => crate::evaluate::truth_of_run(&args.out)?,
    };
    let scores = crate::evaluate::evaluate(&args.out, &truth)?;
    if args.json {
        println!("{}", json!(scores));
    } else {
        print!("{}", crate::evaluate::render(&scores));
    }
    Ok(Outcome { done: 1, failed: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recordings of a simulated 120 s EDF dataset of one subject, in their folder.
    fn simulated(seed: u64, emg_channels: u16) -> (tempfile::TempDir, Vec<Source>) {
        let dir = tempfile::tempdir().unwrap();
        simulate(&SimulateArgs {
            out: dir.path().to_path_buf(),
            seed,
            subjects: 1,
            format: crate::simulate::RecordingFormat::Edf,
            noise_uv: None,
            no_ecg: false,
            no_mains: false,
            duration_s: Some(120.0),
            emg_channels,
            emg_fs_hz: None,
            config: None,
        })
        .unwrap();
        let sources = ingest::discover(dir.path()).unwrap();
        assert!(!sources.is_empty());
        (dir, sources)
    }

    /// `palpa run` finds the force's episodes beside the EMG filters; [`analyse`], called on
    /// its own, finds them after: both must read the same force channel and agree.
    #[test]
    fn force_findings_made_beside_the_filters_are_those_analyse_makes() {
        let (_dir, sources) = simulated(3, 2);
        let cfg = Config::default();
        for source in &sources {
            let mut alone = ingest::load(source, &cfg).unwrap();
            let mut beside = alone.clone();
            let signals = condition(&mut alone, &cfg);
            let alone = analyse(&alone, &signals, &cfg);
            let (signals, found) =
                condition_then(&mut beside, &cfg, |rec, f| force_findings(rec, f, &cfg));
            let beside = analyse_with(&beside, &signals, found, &cfg);
            assert!(!alone.episodes.is_empty(), "{}", source.id);
            assert_eq!(
                serde_json::to_string(&alone).unwrap(),
                serde_json::to_string(&beside).unwrap(),
                "{}",
                source.id
            );
        }
    }

    /// A run without figures drops the filtered EMG the twitch detector does not read once
    /// every channel's figures are taken: the results must be those of [`analyse`].
    #[test]
    fn dropping_the_signals_the_twitch_detector_does_not_read_changes_no_result() {
        let (_dir, sources) = simulated(5, 6);
        let cfg = Config::default();
        let mut twitches = 0;
        for source in &sources {
            let mut rec = ingest::load(source, &cfg).unwrap();
            let signals = condition(&mut rec, &cfg);
            let kept = analyse(&rec, &signals, &cfg);
            let sides = TwitchChannels::of(&rec, &signals);
            let dropped = (0..rec.channels.len())
                .filter(|&i| signals.channels[i].emg().is_some() && !sides.reads(i))
                .count();
            assert!(
                sides.palpated.is_some() && sides.contralateral.is_some() && dropped == 4,
                "{}: {sides:?}, {dropped} dropped",
                source.id
            );
            let found = force_findings(
                &rec,
                first_force(rec.channels.iter().zip(&signals.channels)),
                &cfg,
            );
            let released = analyse_releasing(&rec, signals, found, &cfg);
            twitches += kept.twitches.twitches.len();
            assert_eq!(
                serde_json::to_string(&kept).unwrap(),
                serde_json::to_string(&released).unwrap(),
                "{}",
                source.id
            );
        }
        assert!(twitches > 0, "no twitch to compare");
    }
}
