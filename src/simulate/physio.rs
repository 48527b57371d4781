//! The physiological model (`palpa simulate --model physio`): signals built from
//! physiology rather than from the detectors' assumptions.
//!
//! sEMG is the sum of motor-unit action-potential trains of a Fuglevand, Winter & Patla (1993)
//! pool driven by an excitation that is zero at rest; MUAPs are Hermite–Rodriguez functions
//! (Lo Conte, Merletti & Sandri 1994) that shrink and widen with depth. An LTR is a brief
//! reflex discharge of a few units of the band: its MUAPs on the skin (often tiny: the band
//! is deep) and the sum of their twitches in the force after the electromechanical delay.
//! On top come electrode motion artefacts, cable spikes, a tonic resting unit, mains that
//! drifts in frequency and amplitude with odd harmonics, and ECG from a McSharry PQRST
//! template with heart-rate variability. Every number is in `[simulate.physio]`.
//!
//! Units: µV for sEMG, N for force, s for times unless the name says otherwise. Every draw
//! comes from the recording's own SplitMix64 stream, in a fixed order.

use std::f64::consts::TAU;

use ndarray::Array1;

use super::{
    background_in_bin_uv2, basic::emg_noise, mains_rms_for_snr, snr_db, Artifacts, Burst,
    ChannelTruth, EmgContext, Rng, TruthTwitch, MUSCLES,
};
use crate::config::PhysioConfig;

/// Excitation is sampled on this grid (1 ms): far finer than any rate change.
const GRID_HZ: f64 = 1000.0;

/// Recruitment threshold excitation of unit `i` (0-based): e^(ln RR · (i+1)/n).
fn threshold(p: &PhysioConfig, i: usize) -> f64 {
    (p.recruitment_range.ln() * (i + 1) as f64 / p.n_units as f64).exp()
}

/// Peak rate of unit `i`: falls linearly with threshold (Fuglevand 1993).
fn peak_rate_hz(p: &PhysioConfig, i: usize) -> f64 {
    let [first, last] = p.peak_rate_hz;
    first - (first - last) * threshold(p, i) / p.recruitment_range
}

/// Discharge rate of unit `i` at excitation `e ≥ threshold`.
fn rate_hz(p: &PhysioConfig, i: usize, e: f64) -> f64 {
    (p.min_rate_hz + p.rate_gain_hz * (e - threshold(p, i))).min(peak_rate_hz(p, i))
}

/// Twitch peak (N, at the probe) and contraction time (s) of unit `i` (Fuglevand 1993:
/// P = e^(ln RP · (i+1)/n), T = T_max · (1/P)^(1/c), c = ln RP / ln 3).
pub(super) fn twitch(p: &PhysioConfig, i: usize) -> (f64, f64) {
    let rp = p.twitch_range;
    let rel = (rp.ln() * (i + 1) as f64 / p.n_units as f64).exp();
    let c = rp.ln() / 3f64.ln();
    (
        p.twitch_max_n * rel / rp,
        p.twitch_longest_ms / 1e3 * (1.0 / rel).powf(1.0 / c),
    )
}

/// The twitch `P·(t/T)·e^(1 − t/T)` at `t ≥ 0` s after its start.
pub(super) fn twitch_at(peak_n: f64, contraction_s: f64, t: f64) -> f64 {
    let u = t / contraction_s;
    peak_n * u * (1.0 - u).exp()
}

/// One unit's action potential as the electrode sees it.
#[derive(Clone, Copy, Debug)]
struct Muap {
    /// Peak, signed.
    amp_uv: f64,
    /// Hermite–Rodriguez width λ.
    width_s: f64,
    /// Second order (triphasic) rather than first (biphasic).
    second_order: bool,
}

impl Muap {
    /// Unit `i` of the pool at `depth_mm` below the electrode.
    fn of_unit(p: &PhysioConfig, i: usize, depth_mm: f64, second_order: bool, sign: f64) -> Muap {
        let x = i as f64 / (p.n_units - 1) as f64;
        let geometric = |[a, b]: [f64; 2]| a * (b / a).powf(x);
        Muap {
            amp_uv: sign * geometric(p.muap_uv) * (-depth_mm / p.depth_attenuation_mm).exp(),
            width_s: geometric(p.muap_width_ms) / 1e3 * (1.0 + depth_mm / p.depth_widening_mm),
            second_order,
        }
    }

    /// Lasts 6λ from the discharge, centred 3λ after it: the discharge is its onset.
    fn duration_s(&self) -> f64 {
        6.0 * self.width_s
    }

    fn at(&self, t: f64) -> f64 {
        let u = (t - 3.0 * self.width_s) / self.width_s;
        let g = (-u * u).exp();
        if self.second_order {
            self.amp_uv * (1.0 - 2.0 * u * u) * g
        } else {
            // HR1 peaks at u = 1/√2 with value e^(−1/2)/√2.
            self.amp_uv * u * g / (0.5f64.exp().recip() / 2f64.sqrt())
        }
    }

    /// Adds the MUAP discharged at `t_s` into `x` sampled at `fs` from time 0.
    fn add_to(&self, x: &mut [f64], fs: f64, t_s: f64) {
        let first = (t_s * fs).ceil().max(0.0) as usize;
        let last = (((t_s + self.duration_s()) * fs).floor() as usize).min(x.len());
        for (k, v) in x.iter_mut().enumerate().take(last).skip(first) {
            *v += self.at(k as f64 / fs - t_s);
        }
    }
}

/// An LTR as the session drew it: which units discharged when, and what the force felt.
#[derive(Clone, Debug)]
pub(super) struct Ltr {
    /// (unit index, discharge time s), the first discharge first.
    pub discharges: Vec<(usize, f64)>,
    /// Start of the summed twitch: first discharge + electromechanical delay.
    pub force_onset_s: f64,
    /// Peak of the summed twitch.
    pub force_peak_n: f64,
}

/// Discharge times of unit `i` under `excitation` (on the 1 ms grid; `spans` are its
/// stretches above 0): Fuglevand rate coding with Gaussian ISIs.
fn discharges(
    rng: &mut Rng,
    p: &PhysioConfig,
    i: usize,
    excitation: &[f64],
    spans: &[(usize, usize)],
) -> Vec<f64> {
    let rte = threshold(p, i);
    let mut out = Vec::new();
    for &(a, b) in spans {
        let mut k = a;
        while k < b {
            if excitation[k] < rte {
                k += 1;
                continue;
            }
            // Recruited: the first discharge falls somewhere in the first interval.
            let mut t = k as f64 / GRID_HZ + rng.unit() / rate_hz(p, i, excitation[k]);
            loop {
                let kk = (t * GRID_HZ) as usize;
                if kk >= b || excitation[kk] < rte {
                    k = kk.max(k + 1);
                    break;
                }
                out.push(t);
                let r = rate_hz(p, i, excitation[kk]);
                t += ((1.0 + p.isi_cv * rng.normal()) / r).max(0.2 / r);
            }
        }
    }
    out
}

/// A unit firing steadily at `rate_hz` from `start_s` to `end_s` (a tonic resting unit,
/// Hägg 1991): Gaussian intervals of coefficient of variation `cv`, never under half a mean.
fn steady_train(rng: &mut Rng, rate_hz: f64, cv: f64, start_s: f64, end_s: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut t = start_s + rng.unit() / rate_hz;
    while t < end_s {
        out.push(t);
        t += ((1.0 + cv * rng.normal()) / rate_hz).max(0.5 / rate_hz);
    }
    out
}

/// Stretches of the grid where `e > 0`.
fn spans_of(e: &[f64]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (k, &v) in e.iter().chain([0.0].iter()).enumerate() {
        match (v > 0.0, start) {
            (true, None) => start = Some(k),
            (false, Some(a)) => {
                spans.push((a, k));
                start = None;
            }
            _ => {}
        }
    }
    spans
}

/// Adds `level` with 50 ms linear tapers over [start, start + duration] to the grid.
fn add_excitation(e: &mut [f64], start_s: f64, duration_s: f64, level: f64) {
    let a = (start_s * GRID_HZ).max(0.0) as usize;
    let n = (duration_s * GRID_HZ) as usize;
    let taper = 0.05 * GRID_HZ;
    for k in 0..n.min(e.len().saturating_sub(a)) {
        let env = ((k.min(n - k) as f64) / taper).min(1.0);
        e[a + k] += level * env;
    }
}

/// ECG beat times (s) with heart-rate variability: RR modulated at 0.1 and 0.25 Hz plus a
/// random part (McSharry et al. 2003).
fn beats(rng: &mut Rng, p: &PhysioConfig, mean_rr_s: f64, end_s: f64) -> Vec<(f64, f64)> {
    let (lf, hf) = (rng.range([0.0, TAU]), rng.range([0.0, TAU]));
    let mut t = rng.range([0.0, mean_rr_s]);
    let mut out = Vec::new();
    while t < end_s + 1.0 {
        let rr = mean_rr_s
            * (1.0
                + p.hrv_fraction[0] * (TAU * 0.1 * t + lf).sin()
                + p.hrv_fraction[1] * (TAU * 0.25 * t + hf).sin()
                + p.hrv_random_fraction * rng.normal());
        out.push((t, rr));
        t += rr.max(0.3);
    }
    out
}

/// McSharry's PQRST as a function of the phase θ (rad) from the R peak, R = 1: each wave
/// a·b²·e^(−(θ−θᵢ)²/2bᵢ²), the integrated form of the model's z equation.
fn pqrst(p: &PhysioConfig, theta: f64) -> f64 {
    let at = |th: f64| -> f64 {
        p.ecg_waves
            .iter()
            .map(|&[ti, a, b]| a * b * b * (-(th - ti).powi(2) / (2.0 * b * b)).exp())
            .sum()
    };
    at(theta) / at(0.0)
}

/// Mains frequency deviation (Hz) at `t`: two slow sinusoids within ±`mains_drift_hz`.
struct Drift {
    periods_s: [f64; 2],
    phases: [f64; 2],
    max_hz: f64,
}

impl Drift {
    /// Two slow sinusoids of drawn periods and phases.
    fn draw(rng: &mut Rng, p: &PhysioConfig) -> Drift {
        Drift {
            periods_s: [
                rng.range(p.mains_drift_period_s),
                rng.range(p.mains_drift_period_s),
            ],
            phases: [rng.range([0.0, TAU]), rng.range([0.0, TAU])],
            max_hz: p.mains_drift_hz,
        }
    }

    fn at(&self, t: f64) -> f64 {
        self.max_hz
            * (0.6 * (TAU * t / self.periods_s[0] + self.phases[0]).sin()
                + 0.4 * (TAU * t / self.periods_s[1] + self.phases[1]).sin())
    }
}

/// Which artefact classes a recording may carry.
fn wants(a: Artifacts, class: Artifacts) -> bool {
    a == Artifacts::All || a == class
}

/// Every sEMG channel of a recording, its mains truth and its LTR truth.
pub(super) fn emg(
    rng: &mut Rng,
    c: &EmgContext<'_>,
    bursts: &[Burst],
    ltrs: &[Ltr],
    drops_s: &[f64],
) -> (Vec<Array1<f64>>, Vec<ChannelTruth>, Vec<TruthTwitch>) {
    let (opts, sim) = (c.opts, c.sim);
    let p = &sim.physio;
    let end_s = c.n as f64 / c.fs;
    let n_grid = (end_s * GRID_HZ).ceil() as usize + 1;
    let n_channels = opts.emg_channels.max(2);
    // One draw per class and recording, whatever is selected, so the selection changes
    // nothing else.
    let alone = opts.artifacts != Artifacts::All;
    let tonic = rng.chance(p.tonic_probability) || alone;
    let tonic = tonic && wants(opts.artifacts, Artifacts::Tonic);
    let spikes = rng.chance(p.spike_probability) || alone;
    let spikes = spikes && wants(opts.artifacts, Artifacts::Spikes);
    let motion_scale = if wants(opts.artifacts, Artifacts::Motion) {
        opts.artifact_scale
    } else {
        0.0
    };
    let band_depth_mm = rng.range(p.band_depth_mm);

    // Voluntary excitation: withdrawals (both sides), pressure-evoked tone (palpated side).
    let mut excitation = vec![vec![0.0; n_grid]; 2];
    for b in bursts {
        let level = rng.range(p.withdrawal_excitation);
        add_excitation(&mut excitation[0], b.start_s, b.duration_s, level);
        add_excitation(
            &mut excitation[1],
            b.start_s,
            b.duration_s,
            level * b.contralateral,
        );
    }
    if c.trigger_point {
        if let Some(h) = c.episodes.iter().find(|e| e.technique == "hold") {
            let level = rng.range(p.evoked_excitation);
            let duration = (h.end_s - h.start_s - 2.0).max(0.5);
            add_excitation(&mut excitation[0], h.start_s + 1.0, duration, level);
        }
    }

    // Heart and mains, shared by every channel of the recording.
    let mean_rr_s = 60.0 / rng.range(sim.heart_bpm);
    let r_uv = opts.ecg_uv.unwrap_or(rng.range(sim.ecg_r_uv));
    let heart = beats(rng, p, mean_rr_s, end_s);
    let drift = Drift::draw(rng, p);

    let (mut emg_uv, mut truth) = (Vec::new(), Vec::new());
    let mut ltr_peaks_uv = vec![0.0; ltrs.len()];
    for ch in 0..n_channels {
        let side = ch % 2;
        let muscle = (c.muscle + ch / 2) % MUSCLES.len();
        let mut x = emg_noise(rng, c.n, c.fs) * c.rest_uv;
        let xs = x.as_slice_mut().unwrap_or(&mut []);

        // The pool: each unit at its own depth, with its own shape.
        let muaps: Vec<Muap> = (0..p.n_units)
            .map(|i| {
                let depth = rng.range(p.unit_depth_mm);
                let second = rng.chance(0.5);
                let sign = if rng.chance(0.5) { 1.0 } else { -1.0 };
                Muap::of_unit(p, i, depth, second, sign)
            })
            .collect();
        if let Some(e) = excitation.get(ch) {
            let max_e = e.iter().fold(0.0f64, |m, &v| m.max(v));
            let spans = spans_of(e);
            for (i, muap) in muaps.iter().enumerate() {
                if threshold(p, i) > max_e {
                    break;
                }
                for t in discharges(rng, p, i, e, &spans) {
                    muap.add_to(xs, c.fs, t);
                }
            }
        }
        if ch == 0 {
            // LTRs: the band's units at the band's depth.
            for (k, ltr) in ltrs.iter().enumerate() {
                let Some(&(_, first)) = ltr.discharges.first() else {
                    continue;
                };
                let last = ltr.discharges.iter().fold(first, |m, d| m.max(d.1));
                // One shape per unit, however often it discharges.
                let mut shapes: Vec<(usize, Muap)> = Vec::new();
                let mut units: Vec<(Muap, f64)> = Vec::new();
                for &(i, t) in &ltr.discharges {
                    let muap = match shapes.iter().find(|s| s.0 == i) {
                        Some(&(_, m)) => m,
                        None => {
                            let depth = (band_depth_mm + rng.range([-1.0, 1.0])).max(0.0);
                            let m = Muap::of_unit(p, i, depth, rng.chance(0.5), 1.0);
                            shapes.push((i, m));
                            m
                        }
                    };
                    units.push((muap, t));
                }
                // The peak on a grid of its own, then the MUAPs at the channel's samples.
                let mut local = vec![0.0; ((last - first + 0.1) * c.fs).ceil() as usize];
                for (muap, t) in &units {
                    muap.add_to(&mut local, c.fs, t - first);
                    muap.add_to(xs, c.fs, *t);
                }
                ltr_peaks_uv[k] = local.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            }
            if tonic {
                let rate = rng.range(p.tonic_rate_hz);
                let unit = Muap {
                    amp_uv: rng.range(p.tonic_muap_uv),
                    width_s: p.muap_width_ms[0] / 1e3,
                    second_order: rng.chance(0.5),
                };
                for e in c.episodes {
                    for t in steady_train(rng, rate, p.isi_cv, e.start_s, e.end_s) {
                        unit.add_to(xs, c.fs, t);
                    }
                }
            }
            // Electrode motion: at every contact onset and snap-over drop.
            let onsets = c
                .episodes
                .iter()
                .map(|e| e.start_s)
                .chain(drops_s.iter().copied());
            for t0 in onsets.collect::<Vec<_>>() {
                let amp = rng.range(p.motion_uv) * if rng.chance(0.5) { 1.0 } else { -1.0 };
                let rise = rng.range(p.motion_rise_ms) / 1e3;
                let decay = rng.range(p.motion_decay_ms) / 1e3;
                if motion_scale == 0.0 {
                    continue;
                }
                let a = (t0 * c.fs).ceil() as usize;
                let len = ((rise + 6.0 * decay) * c.fs) as usize;
                for (j, y) in xs.iter_mut().skip(a).take(len).enumerate() {
                    let t = (a + j) as f64 / c.fs - t0;
                    let shape = (t / rise).min(1.0) * (-(t - rise).max(0.0) / decay).exp();
                    *y += motion_scale * amp * shape;
                }
            }
        }
        if spikes && ch < 2 {
            // Cable spikes: at random times, and inside holds, PPT trials and strums.
            let mut times = Vec::new();
            let mut t = 0.0;
            loop {
                t += -(1.0 - rng.unit()).ln() * 60.0 / p.spike_per_min;
                if t >= end_s {
                    break;
                }
                times.push(t);
            }
            for e in c.episodes.iter().filter(|e| e.technique != "snap") {
                if rng.chance(p.spike_episode_probability) {
                    times.push(rng.range([e.start_s, e.end_s.max(e.start_s + 1e-3)]));
                }
            }
            for t0 in times {
                if rng.chance(0.5) != (ch == 0) {
                    continue;
                }
                let amp = rng.range(p.spike_uv) * if rng.chance(0.5) { 1.0 } else { -1.0 };
                let d = rng.range(p.spike_ms) / 1e3;
                let a = (t0 * c.fs).ceil() as usize;
                for (j, y) in xs
                    .iter_mut()
                    .skip(a)
                    .take((d * c.fs) as usize + 1)
                    .enumerate()
                {
                    let t = (a + j) as f64 / c.fs - t0;
                    *y += amp * (TAU * t / d).sin();
                }
            }
        }
        // ECG on neck and shoulder muscles, weaker away from the heart.
        if opts.ecg && MUSCLES[muscle].2 && r_uv > 0.0 {
            let gain = if (muscle + side) % 2 == 0 { 1.0 } else { 0.6 };
            for &(beat, rr) in &heart {
                let a = ((beat - 0.4 * rr) * c.fs).max(0.0) as usize;
                let b = (((beat + 0.6 * rr) * c.fs) as usize).min(xs.len());
                for (k, y) in xs.iter_mut().enumerate().take(b).skip(a) {
                    let theta = TAU * (k as f64 / c.fs - beat) / rr;
                    *y += gain * r_uv * pqrst(p, theta);
                }
            }
        }

        // Mains, unless the channel escapes it.
        let free = rng.chance(p.mains_free_channel_probability);
        let drawn_uv = rng.range(sim.mains_uv);
        let (amp_var_hz, amp_phase) = (rng.range([0.01, 0.1]), rng.range([0.0, TAU]));
        let (mut phase, h3, h5) = (
            rng.range([0.0, TAU]),
            rng.range([0.0, TAU]),
            rng.range([0.0, TAU]),
        );
        let added = opts.mains && !free;
        let background = if added {
            background_in_bin_uv2(x.view(), c.fs, c.mains_hz)
        } else {
            0.0
        };
        // The fundamental's RMS over the recording: A·√((1 + v²/2)/2).
        let rms_per_peak = ((1.0 + p.mains_amplitude_variation.powi(2) / 2.0) / 2.0).sqrt();
        let peak_uv = match opts.mains_snr_db {
            Some(db) => mains_rms_for_snr(db, background) / rms_per_peak,
            None => drawn_uv,
        };
        let wander_uv = rng.range(sim.wander_uv);
        let wander_hz = rng.range([0.1, 0.5]);
        let dc = rng.range([-100.0, 100.0]);
        for (k, y) in x.iter_mut().enumerate() {
            let t = k as f64 / c.fs;
            *y += dc + wander_uv * (TAU * wander_hz * t).sin();
            if added {
                let a = peak_uv
                    * (1.0
                        + p.mains_amplitude_variation * (TAU * amp_var_hz * t + amp_phase).sin());
                *y += a
                    * (phase.sin()
                        + p.mains_harmonics[0] * (3.0 * phase + h3).sin()
                        + p.mains_harmonics[1] * (5.0 * phase + h5).sin());
                phase += TAU * (c.mains_hz + drift.at(t)) / c.fs;
            }
        }
        truth.push(ChannelTruth {
            mains_added: added,
            mains_hz: c.mains_hz,
            mains_snr_db: added.then(|| snr_db(peak_uv * rms_per_peak, background)),
        });
        emg_uv.push(x);
    }

    let twitches = ltrs
        .iter()
        .zip(&ltr_peaks_uv)
        .filter_map(|(ltr, &peak_uv)| {
            let first = ltr.discharges.first()?.1;
            let emg = peak_uv >= p.emg_witness_rest_multiple * c.rest_uv;
            let force = ltr.force_peak_n >= p.force_witness_n;
            let (modality, onset_s) = match (emg, force) {
                (true, true) => ("emg+force", first),
                (true, false) => ("emg", first),
                (false, true) => ("force", ltr.force_onset_s),
                (false, false) => return None,
            };
            Some(TruthTwitch {
                onset_s,
                modality,
                emg_onset_s: emg.then_some(first),
                force_onset_s: force.then_some(ltr.force_onset_s),
            })
        })
        .collect();
    (emg_uv, truth, twitches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, SpectrumConfig};
    use crate::signal::spectrum::Welch;
    use crate::simulate::{plans, simulate_recording, write_dataset, Model, SimulateOptions};

    #[test]
    fn a_contracting_pool_has_its_median_frequency_in_the_semg_range() {
        let p = PhysioConfig::default();
        let fs = 2048.0;
        let mut rng = Rng::new(7, 1);
        for level in [3.0, 10.0, 25.0] {
            let e = vec![level; 5000];
            let spans = spans_of(&e);
            let mut x = vec![0.0; (5.0 * fs) as usize];
            for i in 0..p.n_units {
                let depth = rng.range(p.unit_depth_mm);
                let muap = Muap::of_unit(&p, i, depth, rng.chance(0.5), 1.0);
                for t in discharges(&mut rng, &p, i, &e, &spans) {
                    muap.add_to(&mut x, fs, t);
                }
            }
            let x = Array1::from(x);
            let psd = Welch::plan(fs, &SpectrumConfig::default())
                .unwrap()
                .psd(x.view())
                .unwrap();
            let mdf = psd.mdf_hz([20.0, 450.0]).unwrap();
            assert!(
                (50.0..=150.0).contains(&mdf),
                "excitation {level}: MDF {mdf} Hz"
            );
            let rms = (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt();
            assert!(
                (2.0..=1000.0).contains(&rms),
                "excitation {level}: RMS {rms} µV"
            );
        }
    }

    #[test]
    fn rate_coding_follows_fuglevand() {
        let p = PhysioConfig::default();
        assert!((threshold(&p, p.n_units - 1) - 30.0).abs() < 1e-9);
        assert!((peak_rate_hz(&p, p.n_units - 1) - 25.0).abs() < 1e-9);
        assert_eq!(rate_hz(&p, 0, threshold(&p, 0)), 8.0);
        let (small, slow) = twitch(&p, 0);
        let (large, fast) = twitch(&p, p.n_units - 1);
        assert!((large - p.twitch_max_n).abs() < 1e-12 && small < large / 90.0);
        assert!((fast - 0.030).abs() < 1e-9 && slow > 0.085);
        assert!((twitch_at(1.0, 0.05, 0.05) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_tonic_unit_fires_at_its_rate() {
        let mut rng = Rng::new(3, 9);
        for rate in [6.0, 9.0, 12.0] {
            let train = steady_train(&mut rng, rate, 0.2, 10.0, 70.0);
            let measured = (train.len() - 1) as f64 / (train[train.len() - 1] - train[0]);
            assert!(
                (measured / rate - 1.0).abs() < 0.05,
                "{rate} Hz: {measured}"
            );
        }
    }

    #[test]
    fn the_mains_frequency_drifts_within_its_bound() {
        let p = PhysioConfig::default();
        let mut rng = Rng::new(5, 2);
        let drift = Drift::draw(&mut rng, &p);
        let devs: Vec<f64> = (0..6000).map(|k| drift.at(k as f64 * 0.1)).collect();
        let widest = devs.iter().fold(0.0f64, |m, d| m.max(d.abs()));
        assert!(widest <= 0.2 + 1e-12 && widest > 0.1, "{widest}");
    }

    #[test]
    fn the_pqrst_template_peaks_at_r() {
        let p = PhysioConfig::default();
        assert!((pqrst(&p, 0.0) - 1.0).abs() < 1e-12);
        let q = pqrst(&p, -std::f64::consts::PI / 12.0);
        let t = pqrst(&p, std::f64::consts::FRAC_PI_2);
        assert!(q < 0.0 && t > 0.0 && t < 1.0, "Q {q}, T {t}");
    }

    #[test]
    fn truth_onsets_per_modality_differ_by_the_electromechanical_delay() {
        let mut cfg = Config::default();
        let sim = &mut cfg.simulate;
        (sim.taut_band_probability, sim.trigger_point_probability) = (1.0, 1.0);
        sim.ltr_probability = 1.0;
        (
            sim.physio.emg_witness_rest_multiple,
            sim.physio.force_witness_n,
        ) = (0.0, 0.0);
        let opts = SimulateOptions {
            model: Model::Physio,
            emg_fs_hz: Some(1000.0),
            ..SimulateOptions::default()
        };
        let rec = simulate_recording(&plans(1)[0], 0, &opts, &cfg);
        assert!(rec.twitches.len() >= 6);
        let [lo, hi] = cfg.simulate.physio.emd_ms;
        for t in &rec.twitches {
            let (emg, force) = (t.emg_onset_s.unwrap(), t.force_onset_s.unwrap());
            let emd_ms = (force - emg) * 1e3;
            assert!((lo..=hi).contains(&emd_ms), "EMD {emd_ms} ms");
            assert_eq!((t.onset_s, t.modality), (emg, "emg+force"));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let opts = SimulateOptions {
            model: Model::Physio,
            subjects: 1,
            emg_fs_hz: Some(1000.0),
            ..SimulateOptions::default()
        };
        let cfg = Config::default();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        write_dataset(&a, &opts, &cfg).unwrap();
        write_dataset(&b, &opts, &cfg).unwrap();
        let emg = "sub-01/emg/sub-01_task-palpation_run-2_emg.edf";
        for f in [
            emg,
            "derivatives/truth/twitches.csv",
            "derivatives/truth/channels.csv",
        ] {
            assert_eq!(
                std::fs::read(a.join(f)).unwrap(),
                std::fs::read(b.join(f)).unwrap(),
                "{f}"
            );
        }
    }
}
