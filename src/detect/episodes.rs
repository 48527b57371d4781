//! Contact episodes and their technique class (DESIGN §3.3).
//!
//! Input: the debiased, low-passed force in N at its own rate, and the recording's
//! annotations (a `ppt` event marks an algometry trial). Contact is hysteresis on the force
//! (on above `contact_on_n`, off below `contact_off_n`), short gaps merged, short contacts
//! dropped. Each episode then gets one class, tested in this order:
//! - **ppt**: it holds a `ppt` event (PPT = force at the event), or it is a near-linear ramp
//!   (R² over 20–100% of the peak) of at least `ppt_ramp_min_s` ending in a release within
//!   `ppt_release_max_s` (PPT = peak). Tested before snap: an algometer pushed fast by a
//!   poor examiner to a low PPT can be over within 1.5 s, but its rise is a ramp, not a flick;
//! - **snap**: shorter than `snap_max_s` with a peak of at least `snap_min_peak_n`;
//! - **strum**: a dominant frequency in the strumming band (FFT of the detrended force),
//!   modulation depth ≥ `strum_min_depth_fraction`, at least `strum_min_cycles` cycles;
//! - **hold**: a plateau within ±`plateau_tolerance_fraction` of its median for at least
//!   `plateau_min_s`; with `hold_s`, ramp rate, plateau CV and re-raised steps;
//! - **other**.
//!
//! Times are seconds from the first sample; forces in N.

use ndarray::ArrayView1;
use rayon::prelude::*;
use realfft::RealFftPlanner;

use crate::config::EpisodeConfig;
use crate::model::Annotation;
use crate::signal::{median, to_samples};

/// Technique of an episode (DESIGN §3.3).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Technique {
    /// Ischemic compression / pressure release: a sustained plateau.
    Hold,
    /// Pressure-pain-threshold trial with an algometer.
    Ppt,
    /// Snapping palpation: a brief flick across the fibres.
    Snap,
    /// Cross-fibre strumming.
    Strum,
    /// Contact of no recognised technique.
    Other,
}

impl Technique {
    /// The lower-case word used in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Technique::Hold => "hold",
            Technique::Ppt => "ppt",
            Technique::Snap => "snap",
            Technique::Strum => "strum",
            Technique::Other => "other",
        }
    }
}

/// Plateau measures of a hold.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Plateau {
    /// Median force over the plateau.
    pub plateau_n: f64,
    /// Coefficient of variation of the force over the plateau.
    pub plateau_cv: f64,
    /// From first reaching `hold_reach_fraction` of the plateau to last being above it.
    pub hold_s: f64,
    /// Rise from 20% to 80% of the plateau over its time; `None` if the rise is not seen.
    pub ramp_n_per_s: Option<f64>,
    /// Times the plateau was re-raised by at least `step_fraction`.
    pub steps: usize,
}

/// One contact episode.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Episode {
    /// First sample in contact.
    pub start_s: f64,
    /// Last sample in contact.
    pub end_s: f64,
    /// Technique class.
    pub technique: Technique,
    /// Highest low-passed force.
    pub peak_n: f64,
    /// Plateau measures, for holds.
    pub plateau: Option<Plateau>,
    /// Pressure pain threshold as a force, for PPT trials.
    pub ppt_n: Option<f64>,
    /// Rise rate of a PPT ramp (least-squares slope over 20–100% of the peak).
    pub ppt_ramp_n_per_s: Option<f64>,
}

/// Contact episodes of a force channel, each classified.
pub fn detect_episodes(
    force_n: ArrayView1<f64>,
    fs_hz: f64,
    annotations: &[Annotation],
    cfg: &EpisodeConfig,
) -> Vec<Episode> {
    contacts(force_n, fs_hz, cfg)
        .into_par_iter()
        .map(|(start, end)| classify(force_n, fs_hz, start, end, annotations, cfg))
        .collect()
}

/// `[start, end)` sample ranges in contact: hysteresis, then gaps below `merge_gap_ms`
/// merged, then contacts shorter than `contact_min_ms` dropped.
fn contacts(f: ArrayView1<f64>, fs_hz: f64, cfg: &EpisodeConfig) -> Vec<(usize, usize)> {
    let mut raw: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, &v) in f.iter().enumerate() {
        match start {
            None if v > cfg.contact_on_n => start = Some(i),
            Some(s) if v < cfg.contact_off_n => {
                raw.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        raw.push((s, f.len()));
    }
    let merge_gap = to_samples(cfg.merge_gap_ms / 1e3, fs_hz);
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in raw {
        match merged.last_mut() {
            Some(last) if s - last.1 < merge_gap => last.1 = e,
            _ => merged.push((s, e)),
        }
    }
    let min_len = to_samples(cfg.contact_min_ms / 1e3, fs_hz);
    merged.retain(|(s, e)| e - s >= min_len);
    merged
}

fn classify(
    f: ArrayView1<f64>,
    fs_hz: f64,
    start: usize,
    end: usize,
    annotations: &[Annotation],
    cfg: &EpisodeConfig,
) -> Episode {
    let t = |i: usize| i as f64 / fs_hz;
    let seg = f.slice(ndarray::s![start..end]);
    let (peak_at, peak_n) =
        seg.iter()
            .copied()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |best, (i, v)| {
                if v > best.1 {
                    (i, v)
                } else {
                    best
                }
            });
    let mut episode = Episode {
        start_s: t(start),
        end_s: t(end - 1),
        technique: Technique::Other,
        peak_n,
        plateau: None,
        ppt_n: None,
        ppt_ramp_n_per_s: None,
    };
    let event = annotations.iter().find(|a| {
        a.text.eq_ignore_ascii_case("ppt")
            && a.onset_s >= episode.start_s
            && a.onset_s <= episode.end_s
    });
    let ramp = ppt_ramp(seg, fs_hz, peak_at, peak_n, cfg);
    if let Some(event) = event {
        let i = ((event.onset_s * fs_hz).round() as usize).clamp(start, end - 1);
        episode.technique = Technique::Ppt;
        episode.ppt_n = Some(f[i]);
        episode.ppt_ramp_n_per_s = ramp.map(|(slope, _)| slope);
    } else if let Some((slope, true)) = ramp {
        episode.technique = Technique::Ppt;
        episode.ppt_n = Some(peak_n);
        episode.ppt_ramp_n_per_s = Some(slope);
    } else if (end - start) as f64 / fs_hz < cfg.snap_max_s && peak_n >= cfg.snap_min_peak_n {
        episode.technique = Technique::Snap;
    } else if is_strum(seg, fs_hz, cfg) {
        episode.technique = Technique::Strum;
    } else if let Some(plateau) = plateau(seg, fs_hz, cfg) {
        episode.technique = Technique::Hold;
        episode.plateau = Some(plateau);
    }
    episode
}

/// Least-squares slope over the rise from `ppt_ramp_fractions[0]` of the peak to the peak,
/// and whether it is a PPT ramp: R² ≥ `ppt_ramp_r2_min`, a rise of at least
/// `ppt_ramp_min_s` (a flick's rise is far shorter), and contact released within
/// `ppt_release_max_s` of the peak.
fn ppt_ramp(
    seg: ArrayView1<f64>,
    fs_hz: f64,
    peak_at: usize,
    peak_n: f64,
    cfg: &EpisodeConfig,
) -> Option<(f64, bool)> {
    let floor = cfg.ppt_ramp_fractions[0] * peak_n;
    let from = seg.iter().take(peak_at + 1).position(|&v| v >= floor)?;
    let n = peak_at + 1 - from;
    if n < 3 {
        return None;
    }
    let xs = (from..=peak_at).map(|i| i as f64 / fs_hz);
    let ys = seg.slice(ndarray::s![from..=peak_at]);
    let (mx, my) = (xs.clone().sum::<f64>() / n as f64, ys.sum() / n as f64);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, &y) in xs.zip(ys.iter()) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let r2 = sxy * sxy / (sxx * syy);
    let released = (seg.len() - 1 - peak_at) as f64 / fs_hz <= cfg.ppt_release_max_s;
    let long_enough = n as f64 / fs_hz >= cfg.ppt_ramp_min_s;
    Some((
        slope,
        r2 >= cfg.ppt_ramp_r2_min && slope > 0.0 && released && long_enough,
    ))
}

/// A hold, if the force stays within ±tolerance of its level (the median of the upper half
/// of the episode's force) for `plateau_min_s`. Its measures cover the whole held span, from
/// first reaching `hold_reach_fraction` of the level to last being above it, so that a
/// plateau re-raised past the tolerance still counts as one hold with a step.
fn plateau(seg: ArrayView1<f64>, fs_hz: f64, cfg: &EpisodeConfig) -> Option<Plateau> {
    let peak = seg.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let level = median(
        &mut seg
            .iter()
            .copied()
            .filter(|&v| v >= peak / 2.0)
            .collect::<Vec<_>>(),
    )?;
    let tol = cfg.plateau_tolerance_fraction * level;
    let (mut longest, mut run) = (0, 0);
    for &v in seg {
        run = if (v - level).abs() <= tol { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    if (longest as f64) / fs_hz < cfg.plateau_min_s {
        return None;
    }
    let held = |reach: f64| {
        Some((
            seg.iter().position(|&v| v >= reach)?,
            seg.iter().rposition(|&v| v >= reach)?,
        ))
    };
    let (first, last) = held(cfg.hold_reach_fraction * level)?;
    let span = seg.slice(ndarray::s![first..=last]);
    let plateau_n = median(&mut span.to_vec())?;
    let plateau_cv = span.std(0.0) / span.mean()?;
    let (first, last) = held(cfg.hold_reach_fraction * plateau_n)?;
    let [lo, hi] = cfg.ramp_fractions;
    let rise_lo = seg.iter().position(|&v| v >= lo * plateau_n);
    let rise_hi = seg.iter().position(|&v| v >= hi * plateau_n);
    let ramp_n_per_s = match (rise_lo, rise_hi) {
        (Some(a), Some(b)) if b > a => Some((hi - lo) * plateau_n / ((b - a) as f64 / fs_hz)),
        _ => None,
    };
    // Steps are counted once the force has reached the plateau, so the ramp is not one.
    let settled = seg.iter().position(|&v| v >= plateau_n)?.min(last);
    Some(Plateau {
        plateau_n,
        plateau_cv,
        hold_s: (last - first) as f64 / fs_hz,
        ramp_n_per_s,
        steps: steps(seg.slice(ndarray::s![settled..=last]), fs_hz, cfg),
    })
}

/// Re-raised plateaus: the median over successive 1 s windows rising by at least
/// `step_fraction` above the level it last settled at.
fn steps(run: ArrayView1<f64>, fs_hz: f64, cfg: &EpisodeConfig) -> usize {
    let window = to_samples(1.0, fs_hz).max(1);
    let levels: Vec<f64> = run
        .exact_chunks(window)
        .into_iter()
        .filter_map(|w| median(&mut w.to_vec()))
        .collect();
    let mut count = 0;
    let mut base = match levels.first() {
        Some(&l) => l,
        None => return 0,
    };
    for &l in &levels[1..] {
        if l >= base * (1.0 + cfg.step_fraction) {
            count += 1;
            base = l;
        } else if l < base {
            base = l;
        }
    }
    count
}

/// Strumming: the dominant frequency of the detrended force lies in the strumming band,
/// the modulation depth (5th to 95th percentile over the 95th) reaches the minimum, and the
/// episode spans enough cycles of it.
///
/// The spectrum is that of the episode zero-padded to [`fast_len`]: the same spectrum
/// sampled a little finer. An episode's own length may have a large prime factor, which
/// only Bluestein's algorithm handles, several times slower than a length of small primes.
fn is_strum(seg: ArrayView1<f64>, fs_hz: f64, cfg: &EpisodeConfig) -> bool {
    let n = seg.len();
    // The depth first, as it is cheaper: a contact too shallow to be strumming needs no
    // spectrum.
    if n < 8 {
        return false;
    }
    let deep_enough = modulation_depth(seg) >= cfg.strum_min_depth_fraction;
    if !deep_enough {
        return false;
    }
    let mean = seg.mean().unwrap_or(0.0);
    let padded = fast_len(n);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(padded);
    let mut input = fft.make_input_vec();
    for (dst, v) in input.iter_mut().zip(seg) {
        *dst = v - mean;
    }
    let mut spectrum = fft.make_output_vec();
    if fft.process(&mut input, &mut spectrum).is_err() {
        return false;
    }
    let df = fs_hz / padded as f64;
    let Some((k, _)) = spectrum
        .iter()
        .enumerate()
        .skip(1)
        .map(|(k, c)| (k, c.norm_sqr()))
        .max_by(|a, b| a.1.total_cmp(&b.1))
    else {
        return false;
    };
    let dominant_hz = k as f64 * df;
    let cycles = dominant_hz * n as f64 / fs_hz;
    let [lo, hi] = cfg.strum_band_hz;
    (lo..=hi).contains(&dominant_hz) && cycles >= cfg.strum_min_cycles
}

/// The smallest even length of at least `n` with no prime factor above 5, which rustfft
/// plans as mixed radix (as SciPy's `next_fast_len`, without its 7s and 11s).
fn fast_len(n: usize) -> usize {
    let mut best = n.max(2).next_power_of_two();
    let mut fives = 1;
    while fives < best {
        let mut odd = fives;
        while odd < best {
            // The least power of two that lifts `odd` to at least `n`, and at least 2.
            let twos = n.div_ceil(odd).max(2).next_power_of_two();
            best = best.min(odd * twos);
            odd *= 3;
        }
        fives *= 5;
    }
    best
}

/// (95th − 5th percentile) / 95th percentile of `seg` (not empty), each the nearest-rank
/// order statistic, found by selection rather than a sort.
fn modulation_depth(seg: ArrayView1<f64>) -> f64 {
    let mut values = seg.to_vec();
    let last = values.len() - 1;
    let rank = |p: f64| ((p * last as f64).round() as usize).min(last);
    let (below, &mut p95, _) = values.select_nth_unstable_by(rank(0.95), f64::total_cmp);
    let p05 = if rank(0.05) < below.len() {
        *below.select_nth_unstable_by(rank(0.05), f64::total_cmp).1
    } else {
        p95
    };
    (p95 - p05) / p95
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;
    use std::f64::consts::PI;

    const FS: f64 = 200.0;

    #[test]
    fn fast_len_is_the_least_even_five_smooth_length_not_below_n() {
        let smooth = |mut m: usize| {
            for p in [2, 3, 5] {
                while m % p == 0 {
                    m /= p;
                }
            }
            m == 1
        };
        for n in (0..2000).chain([104_999, 105_001, 120_002, 99_991]) {
            let m = fast_len(n);
            let least = (n.max(2)..).find(|&m| m % 2 == 0 && smooth(m)).unwrap();
            assert_eq!(m, least, "n = {n}");
        }
    }

    #[test]
    fn modulation_depth_is_that_of_the_sorted_samples() {
        let mut next = crate::testing::uniform(0x2545_f491_4f6c_dd1d);
        for n in (1..60).chain([199, 200, 1001]) {
            // Quantised values, so ties are common.
            let x = Array1::from_iter((0..n).map(|_| 1.0 + (next() * 20.0).floor()));
            let mut sorted = x.to_vec();
            sorted.sort_unstable_by(f64::total_cmp);
            let q = |p: f64| sorted[((p * (n - 1) as f64).round() as usize).min(n - 1)];
            let expected = (q(0.95) - q(0.05)) / q(0.95);
            assert_eq!(
                modulation_depth(x.view()).to_bits(),
                expected.to_bits(),
                "n = {n}"
            );
        }
    }

    /// Force built from pieces: (duration_s, shape over 0..1 of the piece).
    fn force(pieces: &[(f64, &dyn Fn(f64) -> f64)]) -> Array1<f64> {
        let mut v = Vec::new();
        for (duration, shape) in pieces {
            let n = (duration * FS).round() as usize;
            v.extend((0..n).map(|i| shape(i as f64 / n as f64)));
        }
        Array1::from(v)
    }

    fn ppt_event(onset_s: f64) -> Annotation {
        Annotation {
            onset_s,
            duration_s: None,
            text: "ppt".into(),
            muscle: None,
            side: None,
            site: None,
        }
    }

    fn one(f: &Array1<f64>, annotations: &[Annotation]) -> Episode {
        let episodes = detect_episodes(f.view(), FS, annotations, &EpisodeConfig::default());
        assert_eq!(episodes.len(), 1, "{episodes:?}");
        episodes.into_iter().next().unwrap()
    }

    #[test]
    fn a_hold_with_tremor_and_a_re_raised_step() {
        // Rest 2 s, ramp 0 → 30 N in 3 s (10 N/s), 12 s at 30 N and 8 s at 36 N with ±1 N
        // tremor at 9 Hz, release 36 → 0 N in 1 s, rest 2 s.
        let tremor = |t: f64, secs: f64| (2.0 * PI * 9.0 * t * secs).sin();
        let f = force(&[
            (2.0, &|_| 0.0),
            (3.0, &|x| 30.0 * x),
            (12.0, &|x| 30.0 + tremor(x, 12.0)),
            (8.0, &|x| 36.0 + tremor(x, 8.0)),
            (1.0, &|x| 36.0 * (1.0 - x)),
            (2.0, &|_| 0.0),
        ]);
        let e = one(&f, &[]);
        assert_eq!(e.technique, Technique::Hold);
        let p = e.plateau.unwrap();
        assert_eq!(p.steps, 1, "30 → 36 N is a re-raise of 20% ≥ 15%");
        // The held span's median lies at the longer level (12 s at 30 N against 8 s at 36 N).
        assert!((p.plateau_n - 30.0).abs() < 1.0, "{}", p.plateau_n);
        // hold_s runs from first reaching 80% of the plateau on the 10 N/s ramp to last being
        // above it on the 36 N/s release: (30 − r)/10 + 20 + (36 − r)/36 with r = 0.8·plateau.
        let r = 0.8 * p.plateau_n;
        let expected = (30.0 - r) / 10.0 + 20.0 + (36.0 - r) / 36.0;
        assert!(
            (p.hold_s - expected).abs() <= 2.0 / FS,
            "{} vs {expected}",
            p.hold_s
        );
        assert!(
            (p.ramp_n_per_s.unwrap() - 10.0).abs() < 0.3,
            "{:?}",
            p.ramp_n_per_s
        );
        // Two levels 20% apart plus tremor: a CV near 0.09.
        assert!(
            p.plateau_cv > 0.05 && p.plateau_cv < 0.15,
            "{}",
            p.plateau_cv
        );
        assert!(
            (e.start_s - 2.2).abs() < 0.01,
            "contact starts above 2 N: {}",
            e.start_s
        );
    }

    #[test]
    fn a_ppt_ramp_with_and_without_an_event() {
        // 1 kg/cm²/s on a 1 cm² probe ≈ 9.8 N/s, to 40 N, then released within 0.25 s.
        let ramp = force(&[
            (1.0, &|_| 0.0),
            (40.0 / 9.806_65, &|x| 40.0 * x),
            (0.25, &|x| 40.0 * (1.0 - x)),
            (1.0, &|_| 0.0),
        ]);
        let peak_s = 1.0 + 40.0 / 9.806_65;
        let with = one(&ramp, &[ppt_event(peak_s - 0.01)]);
        assert_eq!(with.technique, Technique::Ppt);
        assert!((with.ppt_n.unwrap() - 40.0).abs() < 0.5, "{:?}", with.ppt_n);
        assert!((with.ppt_ramp_n_per_s.unwrap() - 9.806_65).abs() < 0.1);
        let without = one(&ramp, &[]);
        assert_eq!(
            without.technique,
            Technique::Ppt,
            "a linear ramp ending in a release"
        );
        assert!((without.ppt_n.unwrap() - 40.0).abs() < 0.3);
        // The same ramp held for 6 s before release is a hold, not a PPT trial.
        let held = force(&[
            (1.0, &|_| 0.0),
            (4.0, &|x| 40.0 * x),
            (6.0, &|_| 40.0),
            (0.25, &|x| 40.0 * (1.0 - x)),
            (1.0, &|_| 0.0),
        ]);
        assert_eq!(one(&held, &[]).technique, Technique::Hold);
    }

    #[test]
    fn snaps_and_strums() {
        let snap = force(&[
            (1.0, &|_| 0.0),
            (0.3, &|x| 12.0 * (PI * x).sin()),
            (1.0, &|_| 0.0),
        ]);
        let e = one(&snap, &[]);
        assert_eq!(e.technique, Technique::Snap);
        assert!((e.peak_n - 12.0).abs() < 0.1);
        // 2 Hz strumming between 5 and 15 N for 4 s.
        let strum = force(&[
            (1.0, &|_| 0.0),
            (0.5, &|x| 10.0 * x),
            (4.0, &|x| 10.0 - 5.0 * (2.0 * PI * 8.0 * x).cos()),
            (0.5, &|x| 5.0 * (1.0 - x)),
            (1.0, &|_| 0.0),
        ]);
        assert_eq!(one(&strum, &[]).technique, Technique::Strum);
    }

    #[test]
    fn contact_needs_hysteresis_and_merges_short_gaps() {
        // A dip to 1.5 N (between the off and on levels) does not end contact; a 50 ms drop
        // to 0 is merged; a 80 ms touch is too short to count.
        let f = force(&[
            (1.0, &|_| 0.0),
            (2.0, &|_| 5.0),
            (0.5, &|_| 1.5),
            (2.0, &|_| 5.0),
            (0.05, &|_| 0.0),
            (2.0, &|_| 5.0),
            (1.0, &|_| 0.0),
            (0.08, &|_| 5.0),
            (1.0, &|_| 0.0),
        ]);
        let episodes = detect_episodes(f.view(), FS, &[], &EpisodeConfig::default());
        assert_eq!(episodes.len(), 1, "{episodes:?}");
        assert!(
            (episodes[0].start_s - 1.0).abs() < 1e-9 && (episodes[0].end_s - 7.545).abs() < 1e-9,
            "{episodes:?}"
        );
    }
}
