//! A recording's conditioning (DESIGN §3.1–§3.2, §3.6): each channel's quality and, on the
//! raw EMG, its mains line ([`crate::signal::mains`]) → filters designed once per rate and
//! set of notched lines → every usable channel conditioned, channels in parallel (rayon; no
//! polars here) → the mains judged again on the notched signal, which is what detection
//! sees: a line the notch removed never costs a channel.
//!
//! Conditioning moves each EMG and force channel's raw samples into its conditioned signal
//! (filtered where they lie), leaving the channel's `samples` empty: nothing after QC reads
//! them raw, and a long recording then holds one copy of them, not two. A channel that
//! cannot be conditioned keeps its raw samples and becomes `bad` with the reason.

use std::collections::BTreeMap;

use ndarray::Array1;
use rayon::prelude::*;

use crate::config::{Config, NotchMode};
use crate::model::{Channel, ChannelKind, Recording};
use crate::signal::filter::FilterError;
use crate::signal::mains::{scan, MainsScan, MainsSpectrum};
use crate::signal::quality::{channel_qc, ChannelQc, QcInput, QcLevel};
use crate::signal::spectrum::SpectrumError;
use crate::signal::spectrum::{Psd, Welch};
use crate::signal::{
    first_non_finite, mains_harmonics, ConditionedEmg, ConditionedForce, EmgFilters, Filtered,
    ForceFilters, LANES,
};

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

    /// Its conditioned EMG, if it is a usable EMG channel.
    pub fn emg(&self) -> Option<&ConditionedEmg> {
        match &self.conditioned {
            Conditioned::Emg(e) => Some(e),
            _ => None,
        }
    }

    /// Its conditioned force, if it is a usable force channel.
    pub fn force(&self) -> Option<&ConditionedForce> {
        match &self.conditioned {
            Conditioned::Force(f) => Some(f),
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
                self.qc
                    .add(QcLevel::Bad, format!("cannot be conditioned: {e}"));
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
    /// Not analysed: bad, or not EMG or force.
    None,
}

/// Every channel of a recording after QC and conditioning.
#[derive(Clone, Debug)]
pub struct RecordingSignals {
    /// The recording's mains frequency: the sidecar's, else the fundamental of the strongest
    /// line measured on its EMG channels; `None` when neither says.
    pub mains_hz: Option<f64>,
    /// One entry per channel, in recording order.
    pub channels: Vec<ChannelSignals>,
}

impl RecordingSignals {
    /// The force channel the analysis reads, the first conditioned one, with its index.
    pub fn first_force(&self) -> Option<(usize, &ConditionedForce)> {
        self.channels
            .iter()
            .enumerate()
            .find_map(|(i, s)| Some((i, s.force()?)))
    }
}

/// QC and conditioning of every channel of `rec`; see the module docs.
pub fn condition(rec: &mut Recording, cfg: &Config) -> RecordingSignals {
    let force_raws: Vec<(usize, Array1<f64>)> = rec
        .channels
        .iter_mut()
        .enumerate()
        .filter(|(_, ch)| ch.kind == ChannelKind::Force)
        .map(|(i, ch)| (i, std::mem::take(&mut ch.samples)))
        .collect();
    let welch_plans = plans(rec, ChannelKind::Emg, |fs| Welch::plan(fs, &cfg.spectrum));
    let mains_plans = plans(rec, ChannelKind::Emg, |fs| MainsSpectrum::plan(fs, &cfg.qc));
    let shared = &*rec;
    let (checked, forces) = rayon::join(
        || emg_qc(shared, &welch_plans, &mains_plans, cfg),
        || condition_forces(shared, force_raws, cfg),
    );
    // Every channel but the force has its QC now, from `emg_qc`.
    let (qcs, scans): (Vec<_>, Vec<_>) = checked.into_iter().unzip();
    let mut channels: Vec<Option<ChannelSignals>> = qcs
        .into_iter()
        .map(|qc| qc.map(ChannelSignals::checked))
        .collect();
    for (i, signals, raw) in forces {
        channels[i] = Some(signals);
        if let Some(raw) = raw {
            rec.channels[i].samples = raw;
        }
    }
    let mut channels: Vec<ChannelSignals> = channels.into_iter().flatten().collect();
    debug_assert_eq!(channels.len(), rec.channels.len());

    let notches: Vec<Vec<f64>> = scans
        .iter()
        .map(|s| notch_lines(s.as_ref(), rec.meta.powerline_hz, cfg))
        .collect();
    for (i, emg) in condition_emg(
        rec,
        &channels,
        &scans,
        &notches,
        &welch_plans,
        &mains_plans,
        cfg,
    ) {
        let FilteredEmg {
            filtered,
            psd,
            residual,
        } = emg;
        let signals = &mut channels[i];
        if let Some(psd) = psd {
            signals.mnf_hz = psd.mnf_hz(cfg.spectrum.band_hz);
            signals.mdf_hz = psd.mdf_hz(cfg.spectrum.band_hz);
            signals.psd = Some(psd);
        }
        if let Some(raw) = signals.take_outcome(filtered, Conditioned::Emg) {
            rec.channels[i].samples = raw;
        }
        let notched = signals.emg().is_some_and(|e| e.notched);
        signals.qc.notched = notched;
        signals.qc.mains_hz = notched.then(|| notches[i][0]);
        if let Some(r) = residual.filter(MainsScan::is_line) {
            let after = if signals.qc.notched {
                "after the notch"
            } else {
                "(not notched: emg.notch = \"off\")"
            };
            let why = format!(
                "mains line at {:.2} Hz, {:.1} dB above its flanks {after}",
                r.fundamental_hz, r.snr_db
            );
            signals.qc.add(QcLevel::Warn, why);
        }
    }
    let strongest = scans
        .iter()
        .flatten()
        .filter(|s| s.is_line())
        .max_by(|a, b| a.snr_db.total_cmp(&b.snr_db));
    let mains_hz = rec
        .meta
        .powerline_hz
        .or_else(|| strongest.map(|s| s.fundamental_hz));
    RecordingSignals { mains_hz, channels }
}

/// The frequencies to notch on a channel: its measured lines (`auto`, `on`), or, with `on`
/// and no line, the mains (the sidecar's, else the strongest candidate peak) and its
/// harmonics; none with `off` or when nothing is known.
fn notch_lines(scan: Option<&MainsScan>, sidecar_hz: Option<f64>, cfg: &Config) -> Vec<f64> {
    let measured = scan.map(|s| s.lines_hz.clone()).unwrap_or_default();
    match cfg.emg.notch {
        NotchMode::Off => Vec::new(),
        NotchMode::Auto => measured,
        NotchMode::On if !measured.is_empty() => measured,
        NotchMode::On => sidecar_hz
            .or_else(|| scan.map(|s| s.fundamental_hz))
            .map(|f0| mains_harmonics(f0, cfg.emg.notch_max_hz))
            .unwrap_or_default(),
    }
}

/// An EMG channel after its batch: its filtered signal (or its raw samples back with the
/// error), the Welch PSD of the filtered signal and, where the raw signal had a mains line,
/// the line search repeated on the filtered signal at that frequency.
struct FilteredEmg {
    filtered: Filtered,
    psd: Option<Psd>,
    residual: Option<MainsScan>,
}

/// Every usable EMG channel of `rec` filtered, with the PSD of the filtered signal. Channels
/// of one rate, set of notched lines and length are filtered [`LANES`] at a time (the
/// filters' interleaved lanes), each batch taking its channels' raw samples.
fn condition_emg(
    rec: &mut Recording,
    channels: &[ChannelSignals],
    scans: &[Option<MainsScan>],
    notches: &[Vec<f64>],
    welch_plans: &[Plan<Welch, SpectrumError>],
    mains_plans: &[Plan<MainsSpectrum, SpectrumError>],
    cfg: &Config,
) -> Vec<(usize, FilteredEmg)> {
    type Key = (u64, Vec<u64>, usize);
    let mut groups: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for (i, (ch, sig)) in rec.channels.iter().zip(channels).enumerate() {
        if ch.kind == ChannelKind::Emg && sig.qc.qc != QcLevel::Bad {
            let lines = notches[i].iter().map(|f| f.to_bits()).collect();
            let key = (ch.fs_hz.to_bits(), lines, ch.samples.len());
            groups.entry(key).or_default().push(i);
        }
    }
    let mut batches = Vec::new();
    for ((fs_bits, _, _), members) in groups {
        for batch in members.chunks(LANES) {
            let raws = batch
                .iter()
                .map(|&i| std::mem::take(&mut rec.channels[i].samples))
                .collect();
            batches.push((f64::from_bits(fs_bits), batch.to_vec(), raws));
        }
    }
    batches
        .into_par_iter()
        .flat_map(|(fs_hz, members, raws): (f64, Vec<usize>, Vec<_>)| {
            let lines = &notches[members[0]];
            let filtered = match EmgFilters::design(fs_hz, &cfg.emg, lines) {
                Ok(f) => f.condition_many(raws),
                Err(e) => raws.into_iter().map(|r| Err((r, e.clone()))).collect(),
            };
            let welch = plan_for(welch_plans, fs_hz).ok();
            let mains = plan_for(mains_plans, fs_hz).ok();
            members
                .into_par_iter()
                .zip(filtered)
                .map(move |(i, filtered): (usize, Filtered)| {
                    let conditioned = filtered.as_ref().ok();
                    let psd = conditioned
                        .zip(welch)
                        .and_then(|(e, w)| w.psd(e.filtered.view()).ok());
                    let line = scans[i].as_ref().filter(|s| s.is_line());
                    let residual = conditioned.zip(mains).zip(line).and_then(|((e, m), line)| {
                        let psd = m.psd(e.filtered.view(), &cfg.qc)?;
                        let f0 = line.fundamental_hz;
                        scan(&psd, &[f0], f0, &cfg.qc)
                    });
                    (
                        i,
                        FilteredEmg {
                            filtered,
                            psd,
                            residual,
                        },
                    )
                })
        })
        .collect()
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
            let qc = channel_qc(qc_input(rec, ch, raw.view()), None, &cfg.qc);
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

/// Every channel's QC but the force's (`None`), and each finite EMG channel's mains line
/// search on its raw samples (candidates: the sidecar's frequency, else `qc.mains_candidates_hz`).
fn emg_qc(
    rec: &Recording,
    welch_plans: &[Plan<Welch, SpectrumError>],
    mains_plans: &[Plan<MainsSpectrum, SpectrumError>],
    cfg: &Config,
) -> Vec<(Option<ChannelQc>, Option<MainsScan>)> {
    let candidates = match rec.meta.powerline_hz {
        Some(f) => vec![f],
        None => cfg.qc.mains_candidates_hz.to_vec(),
    };
    rec.channels
        .par_iter()
        .map(|ch| {
            if ch.kind == ChannelKind::Force {
                return (None, None);
            }
            let input = qc_input(rec, ch, ch.samples.view());
            let finite = || match ch.samples.as_slice() {
                Some(x) => first_non_finite(x).is_none(),
                None => ch.samples.iter().all(|v| v.is_finite()),
            };
            if !(ch.kind == ChannelKind::Emg && finite()) {
                return (Some(channel_qc(input, None, &cfg.qc)), None);
            }
            let psd = plan_for(welch_plans, ch.fs_hz)
                .ok()
                .and_then(|w| w.psd(ch.samples.view()).ok());
            let mut qc = channel_qc(input, psd.as_ref(), &cfg.qc);
            let fine = plan_for(mains_plans, ch.fs_hz)
                .ok()
                .and_then(|m| m.psd(ch.samples.view(), &cfg.qc));
            let found = fine.and_then(|p| scan(&p, &candidates, cfg.emg.notch_max_hz, &cfg.qc));
            match &found {
                Some(s) => qc.mains_snr_db = Some(s.snr_db),
                None if qc.qc != QcLevel::Bad => qc.add(
                    QcLevel::Warn,
                    format!(
                        "mains not measured: {:.1} s is too short for a spectrum with {} Hz bins",
                        ch.samples.len() as f64 / ch.fs_hz,
                        cfg.qc.mains_resolution_max_hz
                    ),
                ),
                None => {}
            }
            (Some(qc), found)
        })
        .collect()
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

/// A plan (filters, Welch) for one rate, or why none can be made there.
type Plan<T, E> = (f64, Result<T, E>);

/// A plan for each distinct rate among the channels of `kind`.
fn plans<T, E>(
    rec: &Recording,
    kind: ChannelKind,
    design: impl Fn(f64) -> Result<T, E>,
) -> Vec<Plan<T, E>> {
    let mut plans: Vec<Plan<T, E>> = Vec::new();
    for ch in rec.channels.iter().filter(|c| c.kind == kind) {
        if !plans.iter().any(|(fs, _)| *fs == ch.fs_hz) {
            plans.push((ch.fs_hz, design(ch.fs_hz)));
        }
    }
    plans
}

/// The plan designed for `fs_hz`, or why none could be.
fn plan_for<T, E: Clone>(plans: &[Plan<T, E>], fs_hz: f64) -> Result<&T, E> {
    let (_, plan) = plans
        .iter()
        .find(|(fs, _)| *fs == fs_hz)
        .expect("plans() designed one for the rate of every channel of the kind");
    plan.as_ref().map_err(Clone::clone)
}
