//! Signal conditioning speed (issue [2/7]): band-pass 20–450 Hz + 50 Hz notch cascade +
//! 50 ms RMS envelope + TKEO + Welch PSD with MNF/MDF, on one 1-hour 2 kHz channel and on 8
//! (channels in parallel with rayon). Filters are designed once, outside the timing, as
//! SciPy's are in `benches/compare/scipy_signal.py`, which runs this bench on the same data
//! (`PALPA_BENCH_SIGNAL`: 8 channels × 7.2 M little-endian f64, channel after channel) and
//! prints both medians and their ratio. Without that file the bench makes its own signal.
//!
//! `filtfilt_4x1h` times the zero-phase band-pass alone on four channels: one after another,
//! and as four interleaved lanes of `Sos::filtfilt_in_place`, which `palpa run` uses.

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array1;
use palpa::config::{EmgConfig, SpectrumConfig};
use palpa::signal::filter::{butter, iirnotch, Band, Sos};
use palpa::signal::spectrum::Welch;
use palpa::signal::{mains_harmonics, EmgFilters};
use rayon::prelude::*;

const FS_HZ: f64 = 2000.0;
const SAMPLES: usize = 3600 * 2000;
const CHANNELS: usize = 8;

fn channels() -> Vec<Array1<f64>> {
    if let Some(path) = std::env::var_os("PALPA_BENCH_SIGNAL") {
        let bytes = std::fs::read(&path).expect("PALPA_BENCH_SIGNAL is readable");
        assert_eq!(
            bytes.len(),
            CHANNELS * SAMPLES * 8,
            "8 channels × 1 h × 2 kHz of f64"
        );
        return bytes
            .chunks_exact(SAMPLES * 8)
            .map(|c| {
                c.chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
                    .collect()
            })
            .collect();
    }
    (0..CHANNELS as u64)
        .map(|c| {
            let mut s = 0x9e37_79b9_7f4a_7c15 ^ c;
            Array1::from_shape_fn(SAMPLES, |i| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let t = i as f64 / FS_HZ;
                40.0 * ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
                    + 150.0
                    + 25.0 * (2.0 * std::f64::consts::PI * 50.0 * t).sin()
            })
        })
        .collect()
}

/// The whole per-channel chain; returns MDF so nothing is optimised away.
fn process(x: &Array1<f64>, filters: &EmgFilters, welch: &Welch, band: [f64; 2]) -> f64 {
    let c = filters.condition(x.view()).expect("a clean hour");
    let psd = welch.psd(c.filtered.view()).expect("an hour of samples");
    psd.mnf_hz(band).unwrap_or(0.0)
        + psd.mdf_hz(band).unwrap_or(0.0)
        + c.envelope()[SAMPLES / 2]
        + c.tkeo()[SAMPLES / 2]
}

fn signal(c: &mut Criterion) {
    let data = channels();
    let cfg = EmgConfig::default();
    let lines = mains_harmonics(50.0, cfg.notch_max_hz);
    let filters = EmgFilters::design(FS_HZ, &cfg, &lines).expect("valid design");
    let spectrum = SpectrumConfig::default();
    let welch = Welch::plan(FS_HZ, &spectrum).expect("valid plan");
    let mut group = c.benchmark_group("signal_1h_2khz");
    group.sample_size(10);
    group.bench_function("1_channel", |b| {
        b.iter(|| process(&data[0], &filters, &welch, spectrum.band_hz))
    });
    group.bench_function("8_channels", |b| {
        b.iter(|| {
            data.par_iter()
                .map(|x| process(x, &filters, &welch, spectrum.band_hz))
                .sum::<f64>()
        })
    });
    group.finish();

    let bandpass = butter(4, Band::Bandpass([20.0, 450.0]), FS_HZ).expect("valid design");
    let mut group = c.benchmark_group("filtfilt_4x1h");
    group.sample_size(10);
    group.bench_function("one_after_another", |b| {
        b.iter(|| {
            data[..4]
                .iter()
                .map(|x| bandpass.filtfilt(x.view()).expect("clean")[SAMPLES / 2])
                .sum::<f64>()
        })
    });
    // The EMG notch at 50 Hz mains: one biquad per harmonic up to `notch_max_hz`, nine.
    let emg = EmgConfig::default();
    let notch = Sos {
        sections: (1..)
            .map(|k| 50.0 * k as f64)
            .take_while(|&f| f <= emg.notch_max_hz)
            .map(|f| iirnotch(f, emg.notch_q, FS_HZ).expect("valid notch"))
            .collect(),
    };
    for (name, sos) in [("four_lanes", &bandpass), ("four_lanes_notch", &notch)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut xs: Vec<Vec<f64>> = data[..4].iter().map(|x| x.to_vec()).collect();
                let [a, b, c, d] = xs.as_mut_slice() else {
                    unreachable!("four channels")
                };
                sos.filtfilt_in_place([a, b, c, d], [0.0; 4])
                    .expect("clean");
                xs.iter().map(|x| x[SAMPLES / 2]).sum::<f64>()
            })
        });
    }
    group.finish();

    // Welch alone: `palpa run` takes two spectra of each sEMG channel (QC's of the raw
    // signal, and the conditioned signal's), a sixth of a 600 s run's CPU.
    let mut group = c.benchmark_group("welch_1h");
    group.sample_size(10);
    group.bench_function("1_channel", |b| {
        b.iter(|| welch.psd(data[0].view()).expect("an hour").density[100])
    });
    group.finish();
}

criterion_group!(benches, signal);
criterion_main!(benches);
