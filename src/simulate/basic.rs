//! The basic model (DESIGN §6): sEMG as band-limited Gaussian noise at a resting RMS, events
//! as envelopes on a second noise, ECG as four Gaussians on a regular rhythm, mains as a fixed
//! line with its third harmonic. It shares the detectors' assumptions; `physio` does not.
//!
//! Its draws keep their order across versions, so `datasets/demo` stays byte-identical.

use ndarray::Array1;

use super::{
    background_in_bin_uv2, mains_rms_for_snr, snr_db, Burst, ChannelTruth, EmgContext, Rng, MUSCLES,
};
use crate::signal::filter::{butter, Band};

/// Unit-RMS band-limited noise (20–450 Hz, order 2, zero phase).
pub(super) fn emg_noise(rng: &mut Rng, n: usize, fs: f64) -> Array1<f64> {
    let white: Array1<f64> = (0..n).map(|_| rng.normal()).collect();
    let hi = (450.0f64).min(0.45 * fs);
    let shaped = butter(2, Band::Bandpass([20.0, hi]), fs)
        .and_then(|sos| sos.filtfilt(white.view()))
        .unwrap_or(white);
    let rms = (shaped.iter().map(|v| v * v).sum::<f64>() / n.max(1) as f64).sqrt();
    shaped / rms.max(f64::MIN_POSITIVE)
}

/// Every sEMG channel of a recording and its mains truth. `bursts` come from the session
/// (LTR bursts in µV, voluntary ones in multiples of the resting RMS).
pub(super) fn emg(
    rng: &mut Rng,
    c: &EmgContext<'_>,
    mut bursts: Vec<Burst>,
) -> (Vec<Array1<f64>>, Vec<ChannelTruth>) {
    let (sim, opts) = (c.sim, c.opts);
    for b in &mut bursts {
        if !b.hann {
            b.rms_uv *= c.rest_uv;
        }
    }
    if c.trigger_point {
        // Pressure-evoked tone during the hold (supporting taut-band evidence, DESIGN §3.5).
        if let Some(h) = c.episodes.iter().find(|e| e.technique == "hold") {
            let multiple = rng.range(sim.evoked_rest_multiple);
            bursts.push(Burst {
                start_s: h.start_s + 1.0,
                duration_s: (h.end_s - h.start_s - 2.0).max(0.5),
                rms_uv: c.rest_uv * (multiple * multiple - 1.0).sqrt(),
                hann: false,
                contralateral: 0.0,
            });
        }
    }
    let heart = Heart {
        rr_s: 60.0 / rng.range(sim.heart_bpm),
        r_uv: opts.ecg_uv.unwrap_or(rng.range(sim.ecg_r_uv)),
        phase_s: rng.range([0.0, 1.0]),
    };
    let (mut emg_uv, mut truth) = (Vec::new(), Vec::new());
    for i in 0..opts.emg_channels.max(2) {
        let side = i % 2;
        let muscle = (c.muscle + i / 2) % MUSCLES.len();
        let on_heart_side = (muscle + side) % 2 == 0;
        let ecg_gain = if opts.ecg && MUSCLES[muscle].2 {
            if on_heart_side {
                1.0
            } else {
                0.6
            }
        } else {
            0.0
        };
        let mains_uv = if opts.mains {
            rng.range(sim.mains_uv)
        } else {
            0.0
        };
        let (x, t) = emg_channel(
            rng,
            EmgChannel {
                n: c.n,
                fs: c.fs,
                rest_uv: c.rest_uv,
                bursts: if i < 2 { &bursts } else { &[] },
                contralateral: side == 1,
                heart: &heart,
                ecg_gain,
                mains_hz: c.mains_hz,
                mains_uv,
                mains_snr_db: opts.mains_snr_db.filter(|_| opts.mains),
                wander_uv: sim.wander_uv,
            },
        );
        emg_uv.push(x);
        truth.push(t);
    }
    (emg_uv, truth)
}

/// Heartbeat timing and amplitude, shared by both sides.
struct Heart {
    rr_s: f64,
    r_uv: f64,
    phase_s: f64,
}

struct EmgChannel<'a> {
    n: usize,
    fs: f64,
    rest_uv: f64,
    bursts: &'a [Burst],
    contralateral: bool,
    heart: &'a Heart,
    ecg_gain: f64,
    mains_hz: f64,
    /// Peak of the fundamental; 0 for none.
    mains_uv: f64,
    /// Sets the fundamental from the measured background instead (the sweep's knob).
    mains_snr_db: Option<f64>,
    wander_uv: [f64; 2],
}

fn emg_channel(rng: &mut Rng, c: EmgChannel<'_>) -> (Array1<f64>, ChannelTruth) {
    use std::f64::consts::TAU;
    let rest = emg_noise(rng, c.n, c.fs);
    let active = emg_noise(rng, c.n, c.fs);
    let mut x: Array1<f64> = rest * c.rest_uv;
    for b in c.bursts {
        let gain = if c.contralateral {
            b.contralateral
        } else {
            1.0
        };
        if gain == 0.0 {
            continue;
        }
        let a = (b.start_s * c.fs).round() as usize;
        let len = (b.duration_s * c.fs).round() as usize;
        let taper = (0.05 * c.fs) as usize;
        for i in 0..len.min(c.n.saturating_sub(a)) {
            let env = if b.hann {
                // Hann with the same RMS as a flat burst: peak √(8/3).
                (8.0f64 / 3.0).sqrt() * 0.5 * (1.0 - (TAU * i as f64 / len as f64).cos())
            } else {
                (i.min(len - i) as f64 / taper.max(1) as f64).min(1.0)
            };
            x[a + i] += gain * b.rms_uv * env * active[a + i];
        }
    }
    if c.ecg_gain > 0.0 && c.heart.r_uv > 0.0 {
        // QRS as three Gaussians, T wave as one (widths in s).
        let waves = [
            (-0.025, 0.010, -0.15),
            (0.0, 0.008, 1.0),
            (0.025, 0.010, -0.3),
            (0.25, 0.04, 0.25),
        ];
        let mut beat = c.heart.phase_s;
        let end_s = c.n as f64 / c.fs;
        while beat < end_s + 0.5 {
            let (a, b) = (
                ((beat - 0.1) * c.fs).max(0.0) as usize,
                (((beat + 0.45) * c.fs) as usize).min(c.n),
            );
            for i in a..b {
                let t = i as f64 / c.fs - beat;
                let v: f64 = waves
                    .iter()
                    .map(|&(at, w, amp)| amp * (-((t - at) / w).powi(2) / 2.0).exp())
                    .sum();
                x[i] += c.ecg_gain * c.heart.r_uv * v;
            }
            beat += c.heart.rr_s * (1.0 + 0.03 * rng.normal());
        }
    }
    let background = if c.mains_uv > 0.0 {
        background_in_bin_uv2(x.view(), c.fs, c.mains_hz)
    } else {
        0.0
    };
    let mains_uv = match c.mains_snr_db {
        Some(db) if c.mains_uv > 0.0 => mains_rms_for_snr(db, background) * 2f64.sqrt(),
        _ => c.mains_uv,
    };
    let wander_uv = rng.range(c.wander_uv);
    let wander_hz = rng.range([0.1, 0.5]);
    let dc = rng.range([-100.0, 100.0]);
    let phase = rng.range([0.0, TAU]);
    for (i, v) in x.iter_mut().enumerate() {
        let t = i as f64 / c.fs;
        *v += dc
            + wander_uv * (TAU * wander_hz * t).sin()
            + mains_uv * (TAU * c.mains_hz * t + phase).sin()
            + 0.3 * mains_uv * (3.0 * TAU * c.mains_hz * t + 2.0 * phase).sin();
    }
    let truth = ChannelTruth {
        mains_added: mains_uv > 0.0,
        mains_hz: c.mains_hz,
        mains_snr_db: (mains_uv > 0.0).then(|| snr_db(mains_uv / 2f64.sqrt(), background)),
    };
    (x, truth)
}
