//! Mains lines found as lines (DESIGN §3.1): in a spectrum fine enough to separate a line
//! from sEMG's broadband power, the peak near each candidate fundamental and its harmonics
//! against the median of its flanks.
//!
//! A power ratio over the whole band cannot tell a line from a flat spectrum (nine one-bin
//! harmonics of 221 two-hertz bins are 0.041 of white noise); a peak over its own flanks
//! can, whatever the EMG's level. Zapline-plus (Klug & Kloosterman 2022) detects lines the
//! same way, at +4 dB; palpa asks for `qc.mains_line_min_db` over the flanks' median.
//!
//! A line also stands alone: higher than every bin of its flanks by more than a window's
//! scalloping, which a comb — the harmonics of a regular heartbeat — is not.
//!
//! Where few segments are averaged, noise peaks higher: a Welch bin of K half-overlapping
//! Hann segments is noise times χ²ν/ν with ν ≈ 1.9·K (Welch 1967). A line must then also
//! top the height noise alone reaches with one-sided normal quantile `mains_noise_z`
//! (Wilson–Hilferty's cube-root approximation of the χ² quantile), over the median.

use ndarray::ArrayView1;

use crate::config::QcConfig;
use crate::signal::spectrum::{Psd, SpectrumError, Welch};

/// A spectrum planned for the mains search at one rate: segments of at most
/// `1 / qc.mains_resolution_hz` seconds.
pub struct MainsSpectrum {
    welch: Welch,
}

/// The strongest fundamental found in a channel, and the harmonics that stand out too.
#[derive(Clone, Debug, PartialEq)]
pub struct MainsScan {
    /// Frequency of the fundamental's peak bin.
    pub fundamental_hz: f64,
    /// The fundamental's peak over the median of its flanks, dB.
    pub snr_db: f64,
    /// Frequencies of every peak that is a line (module docs): the
    /// fundamental (when it is a line) and its harmonics. Empty when there is no line.
    pub lines_hz: Vec<f64>,
    /// Bin spacing of the spectrum searched.
    pub df_hz: f64,
}

impl MainsScan {
    /// Whether the fundamental is a line.
    pub fn is_line(&self) -> bool {
        !self.lines_hz.is_empty()
    }
}

impl MainsSpectrum {
    /// Plans the search spectrum at `fs_hz`.
    ///
    /// # Errors
    /// A rate that is not finite and positive.
    pub fn plan(fs_hz: f64, cfg: &QcConfig) -> Result<MainsSpectrum, SpectrumError> {
        let nperseg = (fs_hz / cfg.mains_resolution_hz).ceil();
        Ok(MainsSpectrum {
            welch: Welch::with_nperseg(fs_hz, nperseg as usize)?,
        })
    }

    /// The search spectrum of `x`: segments of the planned length, or shorter ones when the
    /// signal is too short for `mains_min_segments` of them (coarser bins, fewer false
    /// lines); `None` when even segments of `1 / mains_resolution_max_hz` do not fit.
    pub fn psd(&self, x: ArrayView1<f64>, cfg: &QcConfig) -> Option<Psd> {
        let n = x.len();
        let planned = self.welch.nperseg();
        // K half-overlapping segments of length L cover (K + 1)·L/2 samples.
        let fits = |len: usize| (cfg.mains_min_segments + 1) * len / 2 <= n;
        if fits(planned) {
            return self.welch.psd(x).ok();
        }
        let shorter = 2 * n / (cfg.mains_min_segments + 1);
        let fs_hz = self.welch.fs_hz();
        if (shorter as f64) < fs_hz / cfg.mains_resolution_max_hz {
            return None;
        }
        Welch::with_nperseg(fs_hz, shorter).ok()?.psd(x).ok()
    }
}

/// Searches `psd` for the mains line: around each of `candidates_hz`, the peak within
/// ±`mains_search_hz`; the candidate with the stronger peak over its flanks is the
/// channel's; then each harmonic up to `max_hz` (and below Nyquist), searched around
/// k times the measured fundamental. `None` when no candidate has flanks to compare with.
pub fn scan(psd: &Psd, candidates_hz: &[f64], max_hz: f64, cfg: &QcConfig) -> Option<MainsScan> {
    let fundamental = candidates_hz
        .iter()
        .filter_map(|&f0| peak(psd, f0, cfg))
        .max_by(|a, b| a.db.total_cmp(&b.db))?;
    let min_db = line_min_db(psd.segments, cfg);
    let is_line = |p: &Peak| p.db >= min_db && p.isolated;
    let mut lines_hz = Vec::new();
    if is_line(&fundamental) {
        lines_hz.push(fundamental.hz);
        let nyquist = psd.freq_hz(psd.density.len().saturating_sub(1));
        let harmonics = (2..)
            .map(|k| k as f64 * fundamental.hz)
            .take_while(|&f| f <= max_hz && f + cfg.mains_flank_hz[1] < nyquist);
        for f in harmonics {
            if let Some(p) = peak(psd, f, cfg).filter(is_line) {
                lines_hz.push(p.hz);
            }
        }
    }
    Some(MainsScan {
        fundamental_hz: fundamental.hz,
        snr_db: fundamental.db,
        lines_hz,
        df_hz: psd.df_hz,
    })
}

/// The least peak-over-flanks height (dB) that is a line in a spectrum of `segments`
/// half-overlapping segments: `mains_line_min_db`, or the noise floor described in the
/// module docs where that is higher.
pub fn line_min_db(segments: usize, cfg: &QcConfig) -> f64 {
    // Equivalent degrees of freedom of 50%-overlapped Hann Welch (Percival & Walden 1993,
    // eq. 292b: correlation 0.167 between neighbouring segments).
    let k = segments.max(1) as f64;
    let nu = 2.0 * k / (1.0 + 2.0 * 0.167f64.powi(2) * (1.0 - 1.0 / k));
    let a = 2.0 / (9.0 * nu);
    let quantile = (1.0 - a + cfg.mains_noise_z * a.sqrt()).powi(3);
    let median = (1.0 - a).powi(3);
    cfg.mains_line_min_db
        .max(10.0 * (quantile / median).log10())
}

/// The peak bin within ±`mains_search_hz` of `near_hz`, its height over the median of the
/// bins `mains_flank_hz[0]`–`[1]` Hz either side of it in dB, and whether it stands above
/// every one of them by `mains_isolation_db`; `None` without bins or flank power.
fn peak(psd: &Psd, near_hz: f64, cfg: &QcConfig) -> Option<Peak> {
    let bin = |f: f64| (f / psd.df_hz).round();
    let last = psd.density.len().checked_sub(1)? as f64;
    let lo = bin(near_hz - cfg.mains_search_hz).max(0.0) as usize;
    let hi = bin(near_hz + cfg.mains_search_hz).min(last) as usize;
    let k = (lo..=hi).max_by(|&a, &b| psd.density[a].total_cmp(&psd.density[b]))?;
    let [inner, outer] = cfg.mains_flank_hz;
    let mut flanks: Vec<f64> = psd
        .density
        .iter()
        .enumerate()
        .filter(|&(j, _)| {
            let d = (j as f64 - k as f64).abs() * psd.df_hz;
            d >= inner && d <= outer
        })
        .map(|(_, &p)| p)
        .collect();
    let highest = flanks.iter().copied().fold(0.0, f64::max);
    let background = crate::signal::median(&mut flanks)?;
    (background > 0.0 && psd.density[k] > 0.0).then(|| Peak {
        hz: psd.freq_hz(k),
        db: 10.0 * (psd.density[k] / background).log10(),
        isolated: psd.density[k] > highest * 10f64.powf(cfg.mains_isolation_db / 10.0),
    })
}

/// A peak near an expected mains line.
struct Peak {
    hz: f64,
    db: f64,
    /// Higher than every flank bin by `mains_isolation_db`: a line stands alone, where a
    /// comb (the harmonics of a regular heartbeat, about 1 Hz apart) has teeth in its flanks.
    isolated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;
    use std::f64::consts::PI;

    fn noisy_line(fs: f64, seconds: f64, line_hz: f64, amplitude: f64, seed: u64) -> Array1<f64> {
        let mut u = crate::testing::centred(seed);
        Array1::from_shape_fn((fs * seconds) as usize, |i| {
            let t = i as f64 / fs;
            10.0 * u() + amplitude * (2.0 * PI * line_hz * t).sin()
        })
    }

    fn scan_of(x: &Array1<f64>, fs: f64, candidates: &[f64]) -> MainsScan {
        let cfg = QcConfig::default();
        let psd = MainsSpectrum::plan(fs, &cfg)
            .unwrap()
            .psd(x.view(), &cfg)
            .unwrap();
        scan(&psd, candidates, 450.0, &cfg).unwrap()
    }

    #[test]
    fn a_line_off_nominal_is_found_at_its_frequency() {
        let x = noisy_line(2000.0, 60.0, 59.9, 5.0, 1);
        let s = scan_of(&x, 2000.0, &[50.0, 60.0]);
        assert!(s.is_line(), "{s:?}");
        assert!((s.fundamental_hz - 59.9).abs() <= 0.125, "{s:?}");
        assert!(s.df_hz <= 0.25);
    }

    #[test]
    fn white_noise_has_no_line_on_fresh_seeds() {
        let lines = (0..40)
            .filter(|&seed| {
                scan_of(
                    &noisy_line(1000.0, 60.0, 50.0, 0.0, seed + 1),
                    1000.0,
                    &[50.0, 60.0],
                )
                .is_line()
            })
            .count();
        assert_eq!(
            lines, 0,
            "white noise gave a mains line in {lines} of 40 seeds"
        );
    }

    #[test]
    fn a_short_recording_is_searched_with_coarser_bins() {
        let x = noisy_line(2000.0, 5.0, 50.0, 5.0, 3);
        let s = scan_of(&x, 2000.0, &[50.0, 60.0]);
        assert!(s.df_hz > 0.25 && s.is_line(), "{s:?}");
        // Three segments: noise peaks higher, so the line must stand out more.
        let cfg = QcConfig::default();
        assert!(line_min_db(3, &cfg) > cfg.mains_line_min_db + 0.5);
        assert_eq!(line_min_db(29, &cfg), cfg.mains_line_min_db);
        let plan = MainsSpectrum::plan(2000.0, &cfg).unwrap();
        assert!(plan.psd(x.slice(ndarray::s![..1000]), &cfg).is_none());
    }

    #[test]
    fn a_comb_of_heartbeat_harmonics_is_no_line() {
        // A perfectly regular 72 bpm pulse train: harmonics every 1.2 Hz, one at 50.4 Hz.
        let fs = 1000.0;
        let mut u = crate::testing::centred(11);
        let x = Array1::from_shape_fn((fs * 100.0) as usize, |i| {
            let pulse = if i % 833 < 4 { 300.0 } else { 0.0 };
            2.0 * u() + pulse
        });
        let s = scan_of(&x, fs, &[50.0, 60.0]);
        assert!(s.snr_db > 6.0 && !s.is_line(), "{s:?}");
    }

    #[test]
    fn harmonics_are_lines_only_where_they_stand_out() {
        let fs = 2000.0;
        let mut u = crate::testing::centred(7);
        let x = Array1::from_shape_fn((fs * 30.0) as usize, |i| {
            let t = i as f64 / fs;
            let line = |f: f64, a: f64| a * (2.0 * PI * f * t).sin();
            10.0 * u() + line(50.1, 4.0) + line(150.3, 2.0) + line(250.5, 1.0)
        });
        let s = scan_of(&x, fs, &[50.0]);
        let found: Vec<i64> = s.lines_hz.iter().map(|f| f.round() as i64).collect();
        assert_eq!(found, vec![50, 150, 251], "{s:?}");
    }
}
