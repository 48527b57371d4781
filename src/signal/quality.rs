//! Channel quality control (DESIGN §3.1): NaN/Inf, flat-line and clipped fractions, time
//! gaps, the low-frequency ratio, sEMG rate; each channel gets `ok`, `warn` or `bad` with its
//! reasons. A channel is `bad`, listed but not analysed, only for a fault conditioning cannot
//! undo: non-finite samples, flat line, clipping, no sEMG band. Mains is found and judged by
//! conditioning ([`crate::signal::mains`]), after the notch, so it can only warn.
//!
//! The low-frequency ratio comes from the Welch PSD of the demeaned raw EMG ([`Psd`]).
//!
//! It lives in `signal/`, not in `detect/` as DESIGN §1 lists it: conditioning consults it
//! (a bad channel is not filtered; the notch follows the mains verdict), and `detect/`
//! builds on conditioned signals, so QC beside the conditioning keeps imports one way.

use std::fmt;

use ndarray::ArrayView1;
use serde::Serialize;

use crate::config::QcConfig;
use crate::model::ChannelKind;
use crate::signal::spectrum::Psd;

/// Verdict on a channel, worst first in severity order.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum QcLevel {
    /// Usable as is.
    #[default]
    Ok,
    /// Usable, with a problem worth reading.
    Warn,
    /// Excluded from detection.
    Bad,
}

impl QcLevel {
    /// `ok`, `warn` or `bad`.
    pub fn as_str(self) -> &'static str {
        match self {
            QcLevel::Ok => "ok",
            QcLevel::Warn => "warn",
            QcLevel::Bad => "bad",
        }
    }
}

impl fmt::Display for QcLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What QC needs to know about a channel besides its samples.
#[derive(Clone, Copy, Debug)]
pub struct QcInput<'a> {
    /// Samples in the channel's unit.
    pub samples: ArrayView1<'a, f64>,
    /// Sampling rate.
    pub fs_hz: f64,
    /// Kind: spectral checks apply to EMG only.
    pub kind: ChannelKind,
    /// Recorder's physical range, if the file states one.
    pub physical_range: Option<[f64; 2]>,
    /// `status` = `bad` in `*_channels.tsv`.
    pub marked_bad: bool,
    /// Breaks in the recording's time axis.
    pub n_gaps: usize,
}

/// QC figures and verdict of one channel.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ChannelQc {
    /// Fraction of NaN/Inf samples.
    pub nan_fraction: f64,
    /// Fraction of samples in flat runs of at least `flat_min_ms`.
    pub flat_fraction: f64,
    /// Fraction of samples at the rails.
    pub clipped_fraction: f64,
    /// Mains line removed by the notch (its fundamental's measured frequency); `None` when
    /// the channel was not notched.
    pub mains_hz: Option<f64>,
    /// The strongest candidate fundamental's peak over its flanks in the raw spectrum, dB;
    /// `None` when it could not be measured (not EMG, too short).
    pub mains_snr_db: Option<f64>,
    /// Whether the mains notch was applied.
    pub notched: bool,
    /// Power below 10 Hz over power up to 450 Hz (EMG).
    pub lowfreq_ratio: Option<f64>,
    /// Verdict.
    pub qc: QcLevel,
    /// Why, in words; notes that do not lower the verdict (rest not measurable) may
    /// accompany `ok`.
    pub reasons: Vec<String>,
}

/// Quality of one channel.
pub fn channel_qc(ch: QcInput<'_>, psd: Option<&Psd>, cfg: &QcConfig) -> ChannelQc {
    let n = ch.samples.len();
    let fraction = |count: usize| if n == 0 { 0.0 } else { count as f64 / n as f64 };
    // Plain slices: these scans run over every sample of every channel.
    let samples = ch.samples.as_standard_layout();
    let x = samples.as_slice().unwrap_or_default();
    let nan_fraction = fraction(x.iter().map(|v| !v.is_finite() as usize).sum());
    let flat_fraction = fraction(flat_samples(x, ch.fs_hz, cfg));
    let [clipped, outside] = clipped_samples(x, ch.physical_range, ch.kind, cfg);
    let clipped_fraction = fraction(clipped);
    let mut verdict = ChannelQc {
        nan_fraction,
        flat_fraction,
        clipped_fraction,
        mains_hz: None,
        mains_snr_db: None,
        notched: false,
        lowfreq_ratio: None,
        qc: QcLevel::Ok,
        reasons: Vec::new(),
    };
    if n == 0 {
        verdict.add(QcLevel::Bad, "no samples".into());
    }
    verdict.limit(nan_fraction, cfg.nan_fraction_limits, |v| {
        format!("{:.2}% of samples are NaN or infinite", 100.0 * v)
    });
    verdict.limit(flat_fraction, cfg.flat_fraction_limits, |v| {
        format!(
            "{:.1}% of samples are flat line (unchanged for ≥ {} ms)",
            100.0 * v,
            cfg.flat_min_ms
        )
    });
    verdict.limit(clipped_fraction, cfg.clipped_fraction_limits, |v| {
        format!("{:.2}% of samples are clipped at the rails", 100.0 * v)
    });
    if let (true, Some([lo, hi])) = (outside > 0, ch.physical_range) {
        // Values a recorder could not have produced: the header's range is wrong, and the
        // samples are kept as read rather than called clipped.
        verdict.add(
            QcLevel::Warn,
            format!(
                "{:.2}% of samples lie outside the range the file's header declares \
                 ({lo} to {hi}); the header's range, not the signal, is likely wrong",
                100.0 * fraction(outside)
            ),
        );
    }
    if ch.n_gaps > 0 {
        verdict.add(
            QcLevel::Warn,
            format!("{} time gap(s) in the recording", ch.n_gaps),
        );
    }
    if ch.marked_bad {
        verdict.add(QcLevel::Bad, "marked bad in channels.tsv".into());
    }

    if ch.kind == ChannelKind::Emg {
        if ch.fs_hz < cfg.emg_min_fs_hz {
            verdict.add(
                QcLevel::Warn,
                format!(
                    "sEMG sampled at {} Hz, below {} Hz: the {} Hz corner cannot be honoured",
                    ch.fs_hz, cfg.emg_min_fs_hz, cfg.total_band_hz[1]
                ),
            );
        }
        if let Some(psd) = psd {
            let upper = cfg.total_band_hz[1].min(ch.fs_hz / 2.0);
            verdict.lowfreq_ratio = psd.lowfreq_ratio(cfg.lowfreq_max_hz, upper);
            if let Some(r) = verdict.lowfreq_ratio {
                let below = format!("{:.1}% of power below {} Hz", 100.0 * r, cfg.lowfreq_max_hz);
                let [warn, bad] = cfg.lowfreq_ratio_limits;
                if r >= bad {
                    verdict.add(QcLevel::Bad, format!("no sEMG band: {below}"));
                } else if r >= warn {
                    let why = format!("{below} (motion artefact, removed by the band-pass)");
                    verdict.add(QcLevel::Warn, why);
                }
            }
        }
    }
    verdict
}

impl ChannelQc {
    /// Adds a problem at `level` (never lowering the verdict).
    pub fn add(&mut self, level: QcLevel, reason: String) {
        self.qc = self.qc.max(level);
        self.reasons.push(reason);
    }

    /// `value` at or above `[warn, bad]` raises the level, with the reason in words.
    fn limit(&mut self, value: f64, [warn, bad]: [f64; 2], reason: impl Fn(f64) -> String) {
        if value >= bad {
            self.add(QcLevel::Bad, reason(value));
        } else if value >= warn {
            self.add(QcLevel::Warn, reason(value));
        }
    }
}

/// Samples in runs where every step is below `flat_step_max` for at least `flat_min_ms`.
fn flat_samples(x: &[f64], fs_hz: f64, cfg: &QcConfig) -> usize {
    let min_samples = crate::signal::to_samples(cfg.flat_min_ms / 1e3, fs_hz).max(2);
    let mut total = 0;
    let mut run = 1;
    for w in x.windows(2) {
        if (w[1] - w[0]).abs() < cfg.flat_step_max {
            run += 1;
        } else {
            if run >= min_samples {
                total += run;
            }
            run = 1;
        }
    }
    if run >= min_samples {
        total += run;
    }
    total
}

/// Relative to the physical span, how far beyond it a sample may lie by the rounding of the
/// header's linear map before it counts as outside the range.
const RANGE_ROUNDING: f64 = 1e-9;

/// Samples within `clip_margin_fraction` of the range from either rail, and samples outside
/// the physical range altogether (a header that misstates its range; not clipping). Rails are
/// the recorder's physical limits when known, and, for EMG, an observed extreme where the
/// signal sits: at least `clip_repeat_min_samples` samples equal to it with an equal
/// neighbour (a flat top). An oscillating signal only grazes its extremes; force is left to
/// its physical rails, since a hold is meant to sit flat at its maximum.
///
/// Written as plain loops over lanes: these scans touch every sample of every channel, and
/// `f64::min`/`max` folds and `filter().count()` chains do not vectorise.
fn clipped_samples(
    x: &[f64],
    physical: Option<[f64; 2]>,
    kind: ChannelKind,
    cfg: &QcConfig,
) -> [usize; 2] {
    let [lo, hi] = finite_range(x);
    if lo >= hi {
        return [0, 0];
    }
    // Digital max maps to physical max only to within rounding (5000.000000000001 µV).
    let [plo, phi] = physical.map_or([f64::NEG_INFINITY, f64::INFINITY], |[lo, hi]| {
        let tolerance = RANGE_ROUNDING * (hi - lo);
        [lo - tolerance, hi + tolerance]
    });
    let outside = |v: f64| v.is_finite() & ((v < plo) | (v > phi));
    let n_outside: usize = x.iter().map(|&v| outside(v) as usize).sum();
    // A sample is clipped when it lies beyond any rail pair, which is beyond the innermost.
    let (mut low_rail, mut high_rail) = (f64::NEG_INFINITY, f64::INFINITY);
    // A range that samples exceed is not the recorder's: it has no rails to clip at.
    if let (Some([plo, phi]), 0) = (physical, n_outside) {
        let margin = cfg.clip_margin_fraction * (phi - plo);
        (low_rail, high_rail) = (plo + margin, phi - margin);
    }
    if kind == ChannelKind::Emg {
        let [at_lo, at_hi] = flat_tops(x, [lo, hi]);
        let margin = cfg.clip_margin_fraction * (hi - lo);
        if at_lo >= cfg.clip_repeat_min_samples {
            low_rail = low_rail.max(lo + margin);
        }
        if at_hi >= cfg.clip_repeat_min_samples {
            high_rail = high_rail.min(hi - margin);
        }
    }
    // Non-finite samples fail both comparisons but ±∞; they are counted as such, not here.
    // `&` and `|`, not `&&` and `||`: without branches the counts vectorise.
    let clipped = x
        .iter()
        .map(|&v| (v.is_finite() & ((v <= low_rail) | (v >= high_rail)) & !outside(v)) as usize)
        .sum();
    [clipped, n_outside]
}

/// The smallest and largest finite sample (`[∞, −∞]` when there is none).
fn finite_range(x: &[f64]) -> [f64; 2] {
    const LANES: usize = 8;
    let (mut lo, mut hi) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for k in 0..LANES {
            // NaN fails both comparisons; ±∞ is caught by the masks.
            let v = chunk[k];
            let finite = v.is_finite();
            lo[k] = if finite && v < lo[k] { v } else { lo[k] };
            hi[k] = if finite && v > hi[k] { v } else { hi[k] };
        }
    }
    let finite = tail.iter().copied().filter(|v| v.is_finite());
    let lo = finite.clone().chain(lo).fold(f64::INFINITY, f64::min);
    let hi = finite.chain(hi).fold(f64::NEG_INFINITY, f64::max);
    [lo, hi]
}

/// For each of two values, the samples equal to it with an equal neighbour, both counted in
/// one pass without branches, so that it vectorises.
fn flat_tops(x: &[f64], [a, b]: [f64; 2]) -> [usize; 2] {
    let n = x.len();
    if n < 2 {
        return [0, 0];
    }
    let at = |e: f64, w: &[f64]| ((w[1] == e) & ((w[0] == e) | (w[2] == e))) as usize;
    // The two ends have one neighbour each; the windows hold every sample between.
    let ends = |e: f64| {
        ((x[0] == e) & (x[1] == e)) as usize + ((x[n - 1] == e) & (x[n - 2] == e)) as usize
    };
    let (at_a, at_b) = x
        .windows(3)
        .fold((0, 0), |(ca, cb), w| (ca + at(a, w), cb + at(b, w)));
    [ends(a) + at_a, ends(b) + at_b]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SpectrumConfig;
    use crate::signal::spectrum::Welch;
    use ndarray::Array1;

    fn input(x: &Array1<f64>, fs_hz: f64, kind: ChannelKind) -> QcInput<'_> {
        QcInput {
            samples: x.view(),
            fs_hz,
            kind,
            physical_range: None,
            marked_bad: false,
            n_gaps: 0,
        }
    }

    fn noise(n: usize, seed: u64) -> Array1<f64> {
        let mut u = crate::testing::centred(seed);
        Array1::from_shape_fn(n, |_| u())
    }

    #[test]
    fn clean_noise_is_ok() {
        let x = noise(20_000, 7) * 20.0;
        let welch = Welch::plan(2000.0, &SpectrumConfig::default()).unwrap();
        let psd = welch.psd(x.view()).unwrap();
        let q = channel_qc(
            input(&x, 2000.0, ChannelKind::Emg),
            Some(&psd),
            &QcConfig::default(),
        );
        assert_eq!(q.qc, QcLevel::Ok, "{:?}", q.reasons);
    }

    #[test]
    fn motion_warns_and_a_channel_without_an_emg_band_is_bad() {
        let fs = 1000.0;
        let cfg = QcConfig::default();
        let welch = Welch::plan(fs, &SpectrumConfig::default()).unwrap();
        let drift = |amplitude: f64| {
            noise(20_000, 9) * 5.0
                + Array1::from_shape_fn(20_000, |i| {
                    amplitude * (2.0 * std::f64::consts::PI * 1.5 * i as f64 / fs).sin()
                })
        };
        let verdict = |x: &Array1<f64>| {
            let psd = welch.psd(x.view()).unwrap();
            channel_qc(input(x, fs, ChannelKind::Emg), Some(&psd), &cfg)
        };
        let moving = verdict(&drift(5.0));
        assert_eq!(moving.qc, QcLevel::Warn, "{:?}", moving.reasons);
        assert!(moving.reasons[0].contains("motion"), "{:?}", moving.reasons);
        let no_band = verdict(&drift(500.0));
        assert_eq!(no_band.qc, QcLevel::Bad, "{:?}", no_band.reasons);
        assert!(
            no_band.reasons[0].starts_with("no sEMG band"),
            "{:?}",
            no_band.reasons
        );
    }

    #[test]
    fn flat_lines_nans_and_clipping_are_counted() {
        let fs = 1000.0;
        let mut x = noise(10_000, 11);
        x.slice_mut(ndarray::s![1000..1500]).fill(0.25); // 500 ms flat
        x.slice_mut(ndarray::s![2000..2050]).fill(0.1); // 50 ms: too short to count
        x[5000] = f64::NAN;
        x.slice_mut(ndarray::s![7000..7040]).fill(0.6); // sits at a rail: a flat top, 40 ms
        let q = channel_qc(input(&x, fs, ChannelKind::Emg), None, &QcConfig::default());
        assert_eq!(q.flat_fraction, 500.0 / 10_000.0);
        assert_eq!(q.nan_fraction, 1e-4);
        assert_eq!(q.clipped_fraction, 40.0 / 10_000.0);
        // 5% flat (warn ≥ 1%), 0.01% NaN (warn ≥ 0.01%), 0.4% clipped (warn ≥ 0.1%).
        assert_eq!(q.qc, QcLevel::Warn);
        assert_eq!(q.reasons.len(), 3, "{:?}", q.reasons);
        // A force plateau sits at its maximum by design: not clipping.
        let f = channel_qc(
            input(&x, fs, ChannelKind::Force),
            None,
            &QcConfig::default(),
        );
        assert_eq!(f.clipped_fraction, 0.0);
    }

    #[test]
    fn a_quantised_tone_grazing_its_extremes_is_not_clipped() {
        let x = Array1::from_shape_fn(8000, |i| {
            (800.0 * (2.0 * std::f64::consts::PI * 90.0 * i as f64 / 2000.0).sin()).round() / 10.0
        });
        let q = channel_qc(
            input(&x, 2000.0, ChannelKind::Emg),
            None,
            &QcConfig::default(),
        );
        assert_eq!(q.clipped_fraction, 0.0);
    }

    #[test]
    fn samples_beyond_the_declared_range_are_not_called_clipped() {
        let x = noise(4000, 9).mapv(|v| 50.0 + 300.0 * v);
        let mut i = input(&x, 2000.0, ChannelKind::Emg);
        i.physical_range = Some([0.0, 100.0]);
        let q = channel_qc(i, None, &QcConfig::default());
        assert!(
            q.reasons
                .iter()
                .any(|r| r.contains("outside the range the file's header declares")),
            "{:?}",
            q.reasons
        );
        assert!(
            q.reasons.iter().all(|r| !r.contains("clipped")),
            "{:?}",
            q.reasons
        );
    }

    #[test]
    fn a_rail_read_back_with_rounding_is_clipping_not_outside_the_range() {
        // ±5000 µV over 16 bits: digital max reads back as 5000.000000000001.
        let mut x = noise(4000, 3).mapv(|v| 4000.0 * v);
        x.slice_mut(ndarray::s![100..300]).fill(5000.000000000001);
        let mut i = input(&x, 2000.0, ChannelKind::Force);
        i.physical_range = Some([-5000.0, 5000.0]);
        let q = channel_qc(i, None, &QcConfig::default());
        assert_eq!(q.clipped_fraction, 200.0 / 4000.0);
        assert!(
            q.reasons.iter().all(|r| !r.contains("outside")),
            "{:?}",
            q.reasons
        );
    }

    #[test]
    fn low_rate_emg_and_marked_channels() {
        let x = noise(300, 5);
        let mut i = input(&x, 1.0, ChannelKind::Emg);
        i.marked_bad = true;
        let q = channel_qc(i, None, &QcConfig::default());
        assert_eq!(q.qc, QcLevel::Bad);
        assert!(q.reasons.iter().any(|r| r.contains("below 1000 Hz")));
        assert!(q.reasons.iter().any(|r| r.contains("marked bad")));
    }

    /// The clipping count as first written, one plain pass per question, against the
    /// lane-wise scans, over signals with rails, flat tops at either end, NaN and ±∞.
    #[test]
    fn the_clipping_scans_count_what_the_plain_definition_counts() {
        fn plain(
            x: &[f64],
            physical: Option<[f64; 2]>,
            kind: ChannelKind,
            cfg: &QcConfig,
        ) -> [usize; 2] {
            let finite = || x.iter().copied().filter(|v| v.is_finite());
            let lo = finite().fold(f64::INFINITY, f64::min);
            let hi = finite().fold(f64::NEG_INFINITY, f64::max);
            if lo >= hi {
                return [0, 0];
            }
            let beyond = |v: f64| {
                physical.is_some_and(|[plo, phi]| {
                    let tolerance = RANGE_ROUNDING * (phi - plo);
                    v < plo - tolerance || v > phi + tolerance
                })
            };
            let mut rails = Vec::new();
            let n_beyond = finite().filter(|&v| beyond(v)).count();
            if let (Some([plo, phi]), 0) = (physical, n_beyond) {
                let m = cfg.clip_margin_fraction * (phi - plo);
                rails.push((plo + m, phi - m));
            }
            if kind == ChannelKind::Emg {
                let sits = |e: f64| {
                    (0..x.len())
                        .filter(|&i| {
                            x[i] == e
                                && ((i > 0 && x[i - 1] == e) || (i + 1 < x.len() && x[i + 1] == e))
                        })
                        .count()
                        >= cfg.clip_repeat_min_samples
                };
                let m = cfg.clip_margin_fraction * (hi - lo);
                rails.push((
                    if sits(lo) { lo + m } else { f64::NEG_INFINITY },
                    if sits(hi) { hi - m } else { f64::INFINITY },
                ));
            }
            [
                finite()
                    .filter(|&v| !beyond(v) && rails.iter().any(|&(l, h)| v <= l || v >= h))
                    .count(),
                n_beyond,
            ]
        }
        let cfg = QcConfig::default();
        for seed in 0..40u64 {
            let n = [0, 1, 2, 3, 7, 17, 1000][seed as usize % 7];
            let mut x = noise(n, seed).to_vec();
            if n > 4 {
                let (lo, hi) = (
                    x.iter().copied().fold(0.0, f64::min),
                    x.iter().copied().fold(0.0, f64::max),
                );
                match seed % 5 {
                    0 => x[..3].fill(lo - 1.0),
                    1 => {
                        let k = n - 3;
                        x[k..].fill(hi + 1.0);
                    }
                    2 => x[n / 2] = f64::NAN,
                    3 => {
                        x[1] = f64::INFINITY;
                        x[n - 2] = f64::NEG_INFINITY;
                        x[2..5].fill(hi + 2.0);
                    }
                    _ => x.iter_mut().for_each(|v| *v = (*v * 2.0).round()),
                }
            }
            for physical in [None, Some([-1.5, 1.5]), Some([-0.2, 3.0])] {
                for kind in [ChannelKind::Emg, ChannelKind::Force] {
                    assert_eq!(
                        clipped_samples(&x, physical, kind, &cfg),
                        plain(&x, physical, kind, &cfg),
                        "seed {seed}, n {n}, {physical:?}, {kind:?}"
                    );
                }
            }
        }
    }
}
