//! A recording's conditioning (DESIGN §3.1–§3.2, §3.6): raw spectra of the EMG channels →
//! the mains frequency → each channel's quality → filters designed once per rate → every
//! usable channel conditioned, channels in parallel (rayon; no polars here).
//!
//! Conditioning moves each EMG and force channel's raw samples into its conditioned signal
//! (filtered where they lie), leaving the channel's `samples` empty: nothing after QC reads
//! them raw, and a long recording then holds one copy of them, not two. A channel that
//! cannot be conditioned keeps its raw samples and becomes `bad` with the reason.

use std::collections::BTreeMap;

use ndarray::Array1;
use rayon::prelude::*;

use crate::config::Config;
use crate::model::{Channel, ChannelKind, Recording};
use crate::signal::filter::FilterError;
use crate::signal::quality::{channel_qc, infer_mains, ChannelQc, QcInput, QcLevel};
use crate::signal::spectrum::SpectrumError;
use crate::signal::spectrum::{Psd, Welch};
use crate::signal::{
    first_non_finite, wants_notch, ConditionedEmg, ConditionedForce, EmgFilters, Filtered,
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
    /// Not analysed: bad, or not EMG or force.
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
    for (i, signals, raw) in forces {
        channels[i] = Some(signals);
        if let Some(raw) = raw {
            rec.channels[i].samples = raw;
        }
    }
    let mut channels: Vec<ChannelSignals> = channels.into_iter().flatten().collect();
    debug_assert_eq!(channels.len(), rec.channels.len());

    let emg_plans = plans(rec, ChannelKind::Emg, |fs| {
        EmgFilters::design(fs, &cfg.emg, mains_hz)
    });
    for (i, conditioned, psd) in condition_emg(rec, &channels, &emg_plans, &welch_plans, cfg) {
        if let Some(psd) = psd {
            channels[i].mnf_hz = psd.mnf_hz(cfg.spectrum.band_hz);
            channels[i].mdf_hz = psd.mdf_hz(cfg.spectrum.band_hz);
            channels[i].psd = Some(psd);
        }
        if let Some(raw) = channels[i].take_outcome(conditioned, Conditioned::Emg) {
            rec.channels[i].samples = raw;
        }
    }
    RecordingSignals { mains_hz, channels }
}

/// An EMG channel after its batch: its index, its filtered signal (or its raw samples back
/// with the error) and the Welch PSD of the filtered signal.
type FilteredEmg = (usize, Filtered, Option<Psd>);

/// Every usable EMG channel of `rec` filtered, with the PSD of the filtered signal. Channels
/// of one rate, notch decision and length are filtered [`LANES`] at a time (the filters'
/// interleaved lanes), each batch taking its channels' raw samples.
fn condition_emg(
    rec: &mut Recording,
    channels: &[ChannelSignals],
    plans: &[Plan<EmgFilters, FilterError>],
    welch_plans: &[Plan<Welch, SpectrumError>],
    cfg: &Config,
) -> Vec<FilteredEmg> {
    let mut groups: BTreeMap<(u64, bool, usize), Vec<usize>> = BTreeMap::new();
    for (i, (ch, sig)) in rec.channels.iter().zip(channels).enumerate() {
        if ch.kind == ChannelKind::Emg && sig.qc.qc != QcLevel::Bad {
            let notch = wants_notch(&cfg.emg, sig.qc.powerline_ratio);
            let key = (ch.fs_hz.to_bits(), notch, ch.samples.len());
            groups.entry(key).or_default().push(i);
        }
    }
    let mut batches = Vec::new();
    for ((fs_bits, notch, _), members) in groups {
        for batch in members.chunks(LANES) {
            let raws = batch
                .iter()
                .map(|&i| std::mem::take(&mut rec.channels[i].samples))
                .collect();
            batches.push((f64::from_bits(fs_bits), notch, batch.to_vec(), raws));
        }
    }
    batches
        .into_par_iter()
        .flat_map(
            |(fs_hz, notch, members, raws): (f64, bool, Vec<usize>, Vec<_>)| {
                let welch = plan_for(welch_plans, fs_hz).ok();
                let filtered = match plan_for(plans, fs_hz) {
                    Ok(f) => f.condition_many(raws, notch),
                    Err(e) => raws.into_iter().map(|r| Err((r, e.clone()))).collect(),
                };
                members
                    .into_par_iter()
                    .zip(filtered)
                    .map(move |(i, c): (usize, Filtered)| {
                        let psd = match (&c, welch) {
                            (Ok(e), Some(welch)) => welch.psd(e.filtered.view()).ok(),
                            _ => None,
                        };
                        (i, c, psd)
                    })
            },
        )
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
    welch_plans: &[Plan<Welch, SpectrumError>],
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
            plan_for(welch_plans, ch.fs_hz)
                .ok()?
                .psd(ch.samples.view())
                .ok()
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
