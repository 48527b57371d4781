//! Taut-band evidence per contact episode (DESIGN §3.5), mechanical first.
//!
//! A taut band is a stiff cord that is effectively silent on surface EMG at rest (DOMAIN §2),
//! so the score rests on the force: abrupt snap-over drops as the finger slips over the cord,
//! harmonic-rich strumming, and stiffness against the muscle's other sites. Pressure-evoked
//! EMG only supports. Each applicable piece of evidence gives a value in 0–1; the score is
//! their weighted mean over the pieces that apply to the episode, so that EMG alone can never
//! reach the threshold (weight 0.2 against at least 0.5 of mechanical evidence). Episodes
//! with no mechanical evidence to weigh (holds and PPT trials without a displacement
//! channel) get no score.

use ndarray::{s, ArrayView1};
use realfft::RealFftPlanner;

use crate::config::{EpisodeConfig, TautBandConfig};
use crate::detect::episodes::{Episode, Technique};
use crate::signal::envelope::moving_mean;
use crate::signal::to_samples;

/// One abrupt drop of the force.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SnapOver {
    /// Where the fall begins (10% of the drop done).
    pub start_s: f64,
    /// Where it is over (90% done): the post-drop level begins here.
    pub end_s: f64,
    /// Force lost, as a fraction of the local peak.
    pub drop_fraction: f64,
}

/// Abrupt drops of the debiased, unfiltered force (N) within samples `[from, to)`: a fall of
/// at least `drop_min_fraction` of the local peak within `drop_max_ms`, after which the force
/// settles (falls less than half as much again over the next `drop_max_ms`) and stays in
/// contact. A smooth roll-off fails the settling test; the release that ends contact fails
/// the contact test.
pub fn snap_overs(
    force_n: ArrayView1<f64>,
    fs_hz: f64,
    [from, to]: [usize; 2],
    contact_off_n: f64,
    cfg: &TautBandConfig,
) -> Vec<SnapOver> {
    let to = to.min(force_n.len());
    if to <= from {
        return Vec::new();
    }
    let f = moving_mean(
        force_n.slice(s![from..to]),
        to_samples(cfg.drop_smooth_ms / 1e3, fs_hz).max(1),
    );
    let w = to_samples(cfg.drop_max_ms / 1e3, fs_hz).max(1);
    let n = f.len();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 2 * w < n {
        let fall = f[i] - f[i + w];
        let peak = f
            .slice(s![i.saturating_sub(w)..=i])
            .fold(0.0f64, |m, &v| m.max(v));
        if peak <= 0.0 || fall < cfg.drop_min_fraction * peak {
            i += 1;
            continue;
        }
        // The steepest such window: slide on while the fall keeps growing.
        let mut a = i;
        while a + 1 + 2 * w < n && f[a + 1] - f[a + 1 + w] > f[a] - f[a + w] {
            a += 1;
        }
        let (top, bottom) = (f[a], f[a + w]);
        let drop = top - bottom;
        let after_min = f
            .slice(s![a + w..=a + 2 * w])
            .fold(f64::INFINITY, |m, &v| m.min(v));
        let settled = bottom - after_min < 0.5 * drop;
        if settled && after_min > contact_off_n {
            let start = (a..=a + w).find(|&j| f[j] <= top - 0.1 * drop).unwrap_or(a);
            let end = (a..=a + w)
                .find(|&j| f[j] <= bottom + 0.1 * drop)
                .unwrap_or(a + w);
            let local_peak = f
                .slice(s![a.saturating_sub(w)..=a])
                .fold(0.0f64, |m, &v| m.max(v));
            found.push(SnapOver {
                start_s: (from + start) as f64 / fs_hz,
                end_s: (from + end) as f64 / fs_hz,
                drop_fraction: drop / local_peak,
            });
        }
        i = a + w;
    }
    found
}

/// Power at harmonics `harmonics[0]..=harmonics[1]` of the dominant strumming frequency over
/// the power at the fundamental, from the FFT of the detrended force of the episode. A cord
/// turns the smooth sweep into a sawtooth, whose harmonics fall as 1/k (ratio ≈ 0.46 for
/// harmonics 2–5); a sinusoidal sweep has almost none. Each harmonic's power is the peak bin
/// within ±1 bin of `k·f0`.
pub fn harmonic_ratio(
    force_n: ArrayView1<f64>,
    fs_hz: f64,
    episodes: &EpisodeConfig,
    cfg: &TautBandConfig,
) -> Option<f64> {
    let n = force_n.len();
    if n < 16 {
        return None;
    }
    // Remove the straight line through the ends, so the contact ramps do not leak.
    let (first, last) = (force_n[0], force_n[n - 1]);
    let mut input: Vec<f64> = force_n
        .iter()
        .enumerate()
        .map(|(i, &v)| v - first - (last - first) * i as f64 / (n - 1) as f64)
        .collect();
    let mean = input.iter().sum::<f64>() / n as f64;
    input.iter_mut().for_each(|v| *v -= mean);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut input, &mut spectrum).ok()?;
    let power: Vec<f64> = spectrum.iter().map(|c| c.norm_sqr()).collect();
    let df = fs_hz / n as f64;
    let [lo, hi] = episodes.strum_band_hz;
    let band =
        ((lo / df).ceil() as usize).max(1)..=((hi / df).floor() as usize).min(power.len() - 1);
    let k0 = band
        .clone()
        .max_by(|&a, &b| power[a].total_cmp(&power[b]))?;
    let around = |k: usize| {
        (k.saturating_sub(1)..=(k + 1).min(power.len() - 1))
            .map(|j| power[j])
            .fold(0.0f64, f64::max)
    };
    let fundamental = around(k0);
    if fundamental <= 0.0 {
        return None;
    }
    let harmonics: f64 = (cfg.harmonics[0]..=cfg.harmonics[1])
        .map(|h| h * k0)
        .take_while(|&k| k < power.len())
        .map(around)
        .sum();
    Some(harmonics / fundamental)
}

/// Slope of force on indentation (N/mm) over `stiffness_fractions` of the peak force, by
/// least squares over the loading phase (start to peak); `None` without a rise to fit.
pub fn stiffness_n_per_mm(
    force_n: ArrayView1<f64>,
    displacement_mm: ArrayView1<f64>,
    cfg: &TautBandConfig,
) -> Option<f64> {
    let n = force_n.len().min(displacement_mm.len());
    let peak_at = (0..n).max_by(|&a, &b| force_n[a].total_cmp(&force_n[b]))?;
    let peak = force_n[peak_at];
    let [lo, hi] = cfg.stiffness_fractions.map(|f| f * peak);
    let points: Vec<(f64, f64)> = (0..=peak_at)
        .filter(|&i| (lo..=hi).contains(&force_n[i]))
        .map(|i| (displacement_mm[i], force_n[i]))
        .collect();
    if points.len() < 3 {
        return None;
    }
    let m = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x / m, b + y / m));
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(a, b), &(x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Pressure-evoked EMG: the palpated muscle's RMS envelope (µV) over the episode against the
/// RMS of the `rest_window_s` before contact. Returns the ratio of the median envelope in
/// contact to the rest RMS, and whether it stayed at or above `emg_elevation_min` for
/// `emg_elevation_min_s` in a row.
pub fn emg_elevation(
    envelope_uv: ArrayView1<f64>,
    fs_hz: f64,
    [start, end]: [usize; 2],
    cfg: &TautBandConfig,
) -> Option<(f64, bool)> {
    let end = end.min(envelope_uv.len());
    let rest_from = start.checked_sub(to_samples(cfg.rest_window_s, fs_hz))?;
    if end <= start {
        return None;
    }
    let rest = envelope_uv.slice(s![rest_from..start]);
    let rest_rms = (rest.iter().map(|v| v * v).sum::<f64>() / rest.len().max(1) as f64).sqrt();
    if rest_rms <= 0.0 {
        return None;
    }
    let contact = envelope_uv.slice(s![start..end]);
    let mut sorted = contact.to_vec();
    let ratio = crate::signal::median(&mut sorted)? / rest_rms;
    let need = to_samples(cfg.emg_elevation_min_s, fs_hz);
    let (mut run, mut longest) = (0usize, 0usize);
    for &v in contact {
        run = if v >= cfg.emg_elevation_min * rest_rms {
            run + 1
        } else {
            0
        };
        longest = longest.max(run);
    }
    Some((ratio, longest >= need))
}

/// The evidence gathered for one episode.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BandEvidence {
    /// Abrupt drops (snap and strum episodes only).
    pub snap_overs: Vec<SnapOver>,
    /// Harmonic ratio (strum episodes only).
    pub harmonic_ratio: Option<f64>,
    /// Slope of force on indentation, when a displacement channel exists.
    pub stiffness_n_per_mm: Option<f64>,
    /// This site's slope over the median of the muscle's other sites in the session.
    pub stiffness_contrast: Option<f64>,
    /// Ratio of contact to rest EMG, and whether it was sustained.
    pub emg_elevation: Option<(f64, bool)>,
}

/// The force of a recording and what is needed to read it per episode.
#[derive(Clone, Copy, Debug)]
pub struct ForceEvidenceInput<'a> {
    /// Debiased, unfiltered force.
    pub force_n: ArrayView1<'a, f64>,
    /// Its rate.
    pub fs_hz: f64,
    /// Indentation at the same rate, when recorded.
    pub displacement_mm: Option<ArrayView1<'a, f64>>,
    /// Contact episodes.
    pub episodes: &'a [Episode],
}

/// The mechanical evidence of every episode: snap-overs in snaps and strums, the harmonic
/// ratio of strums, and stiffness wherever displacement was recorded.
pub fn force_evidence(
    input: ForceEvidenceInput<'_>,
    episodes_cfg: &EpisodeConfig,
    cfg: &TautBandConfig,
) -> Vec<BandEvidence> {
    let (f, fs) = (input.force_n, input.fs_hz);
    input
        .episodes
        .iter()
        .map(|e| {
            let a = ((e.start_s * fs).round() as usize).min(f.len());
            let z = ((e.end_s * fs).round() as usize + 1).min(f.len()).max(a);
            let mut evidence = BandEvidence::default();
            if matches!(e.technique, Technique::Snap | Technique::Strum) {
                evidence.snap_overs = snap_overs(f, fs, [a, z], episodes_cfg.contact_off_n, cfg);
            }
            if e.technique == Technique::Strum {
                evidence.harmonic_ratio = harmonic_ratio(f.slice(s![a..z]), fs, episodes_cfg, cfg);
            }
            if let Some(d) = input.displacement_mm {
                let z = z.min(d.len());
                if a < z {
                    evidence.stiffness_n_per_mm =
                        stiffness_n_per_mm(f.slice(s![a..z]), d.slice(s![a..z]), cfg);
                }
            }
            evidence
        })
        .collect()
}

/// Adds the pressure-evoked EMG of the palpated muscle (its RMS envelope, µV) to each
/// episode's evidence.
pub fn add_emg_evidence(
    evidence: &mut [BandEvidence],
    envelope_uv: ArrayView1<f64>,
    fs_hz: f64,
    episodes: &[Episode],
    cfg: &TautBandConfig,
) {
    let at = |t: f64| ((t * fs_hz).round().max(0.0) as usize).min(envelope_uv.len());
    for (e, ep) in evidence.iter_mut().zip(episodes) {
        e.emg_elevation = emg_elevation(envelope_uv, fs_hz, [at(ep.start_s), at(ep.end_s)], cfg);
    }
}

/// `taut_band_score` and `taut_band` (DESIGN §3.5); `None` when no mechanical evidence
/// applies to the episode.
pub fn score(technique: Technique, e: &BandEvidence, cfg: &TautBandConfig) -> Option<(f64, bool)> {
    let snap_or_strum = matches!(technique, Technique::Snap | Technique::Strum);
    // (weight, evidence 0–1) of each mechanical piece that applies.
    let mut pieces: Vec<(f64, f64)> = Vec::new();
    if snap_or_strum {
        let snapped = if e.snap_overs.is_empty() { 0.0 } else { 1.0 };
        pieces.push((cfg.weight_snap_over, snapped));
    }
    if technique == Technique::Strum {
        if let Some(r) = e.harmonic_ratio {
            pieces.push((cfg.weight_harmonics, r / cfg.harmonic_ratio_full));
        }
    }
    if let Some(c) = e.stiffness_contrast {
        let value = (c - 1.0) / (cfg.stiffness_contrast_full - 1.0);
        pieces.push((cfg.weight_stiffness, value));
    }
    if pieces.is_empty() {
        return None;
    }
    if let Some((_, sustained)) = e.emg_elevation {
        pieces.push((cfg.weight_emg, if sustained { 1.0 } else { 0.0 }));
    }
    let total: f64 = pieces.iter().map(|(w, _)| w).sum();
    let weighed: f64 = pieces.iter().map(|(w, v)| w * v.clamp(0.0, 1.0)).sum();
    let score = weighed / total;
    Some((score, score >= cfg.score_threshold))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;
    use std::f64::consts::PI;

    const FS: f64 = 1000.0;

    /// A snap: 150 ms rise to 8 N, then either a 10 ms drop to 4 N held 400 ms and released,
    /// or a 250 ms smooth roll-off.
    fn snap(abrupt: bool) -> Array1<f64> {
        let mut f: Vec<f64> = (0..150)
            .map(|i| 8.0 * 0.5 * (1.0 - (PI * i as f64 / 150.0).cos()))
            .collect();
        if abrupt {
            f.extend((0..10).map(|i| 4.0 + 4.0 * 0.5 * (1.0 + (PI * i as f64 / 10.0).cos())));
            f.extend(std::iter::repeat_n(4.0, 400));
            f.extend((0..200).map(|i| 4.0 * 0.5 * (1.0 + (PI * i as f64 / 200.0).cos())));
        } else {
            f.extend((0..250).map(|i| 8.0 * 0.5 * (1.0 + (PI * i as f64 / 250.0).cos())));
        }
        f.extend(std::iter::repeat_n(0.0, 100));
        Array1::from(f)
    }

    #[test]
    fn an_abrupt_fall_is_a_snap_over_and_a_smooth_one_is_not() {
        let cfg = TautBandConfig::default();
        let abrupt = snap(true);
        let found = snap_overs(abrupt.view(), FS, [0, abrupt.len()], 1.0, &cfg);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!((found[0].drop_fraction - 0.5).abs() < 0.05, "{found:?}");
        // The drop runs 150–160 ms; its end (90% done) is within a few ms of 160 ms.
        assert!((found[0].end_s - 0.160).abs() < 0.006, "{found:?}");

        let smooth = snap(false);
        assert!(snap_overs(smooth.view(), FS, [0, smooth.len()], 1.0, &cfg).is_empty());
    }

    #[test]
    fn a_sawtooth_strum_is_rich_in_harmonics_and_a_sinusoid_is_not() {
        let (ep, cfg) = (EpisodeConfig::default(), TautBandConfig::default());
        let n = 5000;
        let saw: Array1<f64> = (0..n)
            .map(|i| 6.0 + 2.0 * ((i as f64 * 1.5 / FS).fract() * 2.0 - 1.0))
            .collect();
        let sine: Array1<f64> = (0..n)
            .map(|i| 6.0 + 2.0 * (2.0 * PI * 1.5 * i as f64 / FS).sin())
            .collect();
        let r_saw = harmonic_ratio(saw.view(), FS, &ep, &cfg).unwrap();
        let r_sine = harmonic_ratio(sine.view(), FS, &ep, &cfg).unwrap();
        assert!((0.35..0.6).contains(&r_saw), "{r_saw}");
        assert!(r_sine < 0.02, "{r_sine}");
    }

    #[test]
    fn emg_alone_never_makes_a_band() {
        let cfg = TautBandConfig::default();
        let evidence = BandEvidence {
            emg_elevation: Some((5.0, true)),
            ..BandEvidence::default()
        };
        assert_eq!(score(Technique::Hold, &evidence, &cfg), None);
        let (s, band) = score(Technique::Snap, &evidence, &cfg).unwrap();
        assert!(!band && s < 0.5, "{s}");
    }

    #[test]
    fn stiffness_is_the_loading_slope() {
        let d: Array1<f64> = (0..100).map(|i| i as f64 * 0.1).collect();
        let f = d.mapv(|x| 2.5 * x);
        let k = stiffness_n_per_mm(f.view(), d.view(), &TautBandConfig::default()).unwrap();
        assert!((k - 2.5).abs() < 1e-12);
    }
}
