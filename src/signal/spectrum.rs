//! Welch PSD, MNF, MDF, band power and the low-frequency ratio (DESIGN §3.6, §3.1).
//!
//! [`Welch`] is SciPy `welch(x, fs, nperseg=round(segment_s·fs))` with its defaults: periodic
//! Hann window, `noverlap = nperseg/2` (rounded down), `nfft = nperseg`, constant detrend of
//! each segment, one-sided density scaling, mean over segments; trailing samples that do not
//! fill a segment are dropped; a signal shorter than a segment becomes one segment of its own
//! length (SciPy warns and does the same). Input in µV gives µV²/Hz.
//!
//! A [`Welch`] is planned once per rate (its window and FFT), and every spectrum of that
//! rate is taken through it: [`Welch::psd`] and the hold-edge MDF, [`edge_mdf_hz`].

use std::sync::Arc;

use ndarray::ArrayView1;
use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

use crate::config::SpectrumConfig;

/// A spectrum that cannot be computed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SpectrumError {
    /// No samples.
    #[error("a spectrum needs at least 2 samples, found {n}")]
    TooShort {
        /// Samples given.
        n: usize,
    },
    /// A rate that is not finite and positive.
    #[error("sampling rate {fs_hz} Hz must be a finite number above 0")]
    Rate {
        /// The rate.
        fs_hz: f64,
    },
}

/// One-sided power spectral density on bins `k·df_hz`, `k = 0 … nperseg/2`.
#[derive(Clone, Debug, PartialEq)]
pub struct Psd {
    /// Bin spacing, `fs / nperseg`.
    pub df_hz: f64,
    /// Density per bin, in the input unit squared per Hz.
    pub density: Vec<f64>,
    /// Segments averaged.
    pub segments: usize,
}

/// A Welch estimator planned for one rate: segment length, window and FFT made once, then
/// used for every signal of that rate (the spectra of all a recording's channels, the edges
/// of every hold).
pub struct Welch {
    fs_hz: f64,
    overlap_fraction: f64,
    window: Vec<f64>,
    step: usize,
    fft: Arc<dyn Fft<f64>>,
}

impl Welch {
    /// Plans SciPy-default Welch at `fs_hz`, with segments of `round(segment_s·fs)` samples
    /// (at least 2) from `cfg`.
    ///
    /// # Errors
    /// A rate that is not finite and positive.
    pub fn plan(fs_hz: f64, cfg: &SpectrumConfig) -> Result<Welch, SpectrumError> {
        if !(fs_hz.is_finite() && fs_hz > 0.0) {
            return Err(SpectrumError::Rate { fs_hz });
        }
        let nperseg = ((cfg.segment_s * fs_hz).round() as usize).max(2);
        Ok(Welch::with_segment(fs_hz, cfg.overlap_fraction, nperseg))
    }

    /// SciPy-default Welch (half-overlapping segments) at `fs_hz` with segments of
    /// `nperseg` samples (at least 2): the fine spectrum of the mains search.
    ///
    /// # Errors
    /// A rate that is not finite and positive.
    pub fn with_nperseg(fs_hz: f64, nperseg: usize) -> Result<Welch, SpectrumError> {
        if !(fs_hz.is_finite() && fs_hz > 0.0) {
            return Err(SpectrumError::Rate { fs_hz });
        }
        Ok(Welch::with_segment(fs_hz, 0.5, nperseg.max(2)))
    }

    /// Welch at `fs_hz` with segments of `nperseg ≥ 2` samples overlapping by
    /// `floor(nperseg · overlap_fraction)` (at most `nperseg − 1`).
    fn with_segment(fs_hz: f64, overlap_fraction: f64, nperseg: usize) -> Welch {
        let noverlap = ((nperseg as f64 * overlap_fraction).floor() as usize).min(nperseg - 1);
        // Periodic Hann, SciPy get_window('hann', N): 0.5 − 0.5·cos(2πn/N).
        let window = (0..nperseg)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / nperseg as f64).cos())
            .collect();
        Welch {
            fs_hz,
            overlap_fraction,
            window,
            step: nperseg - noverlap,
            fft: FftPlanner::<f64>::new().plan_fft_forward(nperseg),
        }
    }

    /// Samples per segment.
    pub fn nperseg(&self) -> usize {
        self.window.len()
    }

    /// The sampling rate planned for.
    pub fn fs_hz(&self) -> f64 {
        self.fs_hz
    }

    /// The PSD of `x`, sampled at [`Welch::fs_hz`]. A signal shorter than a segment is one
    /// segment of its own length (SciPy's rule, with its warning), through a window and FFT
    /// made for it: the one case in which a PSD plans.
    ///
    /// # Errors
    /// Fewer than 2 samples.
    pub fn psd(&self, x: ArrayView1<f64>) -> Result<Psd, SpectrumError> {
        if x.len() < 2 {
            return Err(SpectrumError::TooShort { n: x.len() });
        }
        if x.len() < self.nperseg() {
            let whole = Welch::with_segment(self.fs_hz, self.overlap_fraction, x.len());
            return Ok(whole.averaged(x));
        }
        Ok(self.averaged(x))
    }

    /// The PSD of `x`, at least one segment long, averaged over its segments.
    ///
    /// Segments go through the FFT in pairs, one as the real part and the next as the
    /// imaginary part of one complex transform `Z`: their power spectra sum to
    /// `(|Z[k]|² + |Z[N−k]|²) / 2`, and the sum over segments is all Welch needs. One complex
    /// FFT of N points costs less than two real ones.
    fn averaged(&self, x: ArrayView1<f64>) -> Psd {
        let nperseg = self.nperseg();
        let bins = nperseg / 2 + 1;
        let mut sum = vec![0.0; bins];
        let mut buffer = vec![Complex64::default(); nperseg];
        let mut scratch = vec![Complex64::default(); self.fft.get_inplace_scratch_len()];
        let segments = (x.len() - nperseg) / self.step + 1;
        // A strided view is copied once, so the segments below are plain slices.
        let x = x.as_standard_layout();
        let x = x.as_slice().expect("standard layout is contiguous");
        // An odd last segment is paired with zeros, whose power is none.
        let zeros = vec![0.0; nperseg];
        let segment = |s: usize| {
            if s < segments {
                let seg = &x[s * self.step..s * self.step + nperseg];
                (seg, ArrayView1::from(seg).sum() / nperseg as f64)
            } else {
                (&zeros[..], 0.0)
            }
        };
        for first in (0..segments).step_by(2) {
            let ((a, mean_a), (b, mean_b)) = (segment(first), segment(first + 1));
            for (((z, &u), &v), w) in buffer.iter_mut().zip(a).zip(b).zip(&self.window) {
                *z = Complex64::new((u - mean_a) * w, (v - mean_b) * w);
            }
            self.fft.process_with_scratch(&mut buffer, &mut scratch);
            sum[0] += buffer[0].norm_sqr();
            for (k, acc) in sum.iter_mut().enumerate().skip(1) {
                *acc += 0.5 * (buffer[k].norm_sqr() + buffer[nperseg - k].norm_sqr());
            }
        }
        let window_power: f64 = self.window.iter().map(|w| w * w).sum();
        let scale = 1.0 / (self.fs_hz * window_power) / segments as f64;
        let last = if nperseg % 2 == 0 { bins - 1 } else { bins };
        for (k, v) in sum.iter_mut().enumerate() {
            *v *= if k == 0 || k >= last {
                scale
            } else {
                2.0 * scale
            };
        }
        Psd {
            df_hz: self.fs_hz / nperseg as f64,
            density: sum,
            segments,
        }
    }
}

/// MDF over the first and last `hold_edge_s` of `[start_s, end_s]` (DESIGN §3.6: the MDF
/// shift during a hold) of `x`, sampled at the rate `welch` was planned for; `None` where
/// the span is shorter than two edges or an edge cannot be analysed.
pub fn edge_mdf_hz(
    welch: &Welch,
    x: ArrayView1<f64>,
    [start_s, end_s]: [f64; 2],
    cfg: &SpectrumConfig,
) -> [Option<f64>; 2] {
    let edge = cfg.hold_edge_s;
    if end_s - start_s < 2.0 * edge {
        return [None, None];
    }
    let fs_hz = welch.fs_hz();
    let at = |t: f64| ((t * fs_hz).round().max(0.0) as usize).min(x.len());
    let mdf = |a: f64, z: f64| {
        welch
            .psd(x.slice(ndarray::s![at(a)..at(z)]))
            .ok()
            .and_then(|psd| psd.mdf_hz(cfg.band_hz))
    };
    [mdf(start_s, start_s + edge), mdf(end_s - edge, end_s)]
}

impl Psd {
    /// Frequency of bin `k`.
    pub fn freq_hz(&self, k: usize) -> f64 {
        k as f64 * self.df_hz
    }

    /// Bins with `lo ≤ f ≤ hi`.
    fn bins(&self, [lo, hi]: [f64; 2]) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.density
            .iter()
            .enumerate()
            .map(|(k, &p)| (self.freq_hz(k), p))
            .filter(move |&(f, _)| f >= lo && f <= hi)
    }

    /// Power in `lo ≤ f ≤ hi`: Σ P·Δf.
    pub fn band_power(&self, band: [f64; 2]) -> f64 {
        self.bins(band).map(|(_, p)| p).sum::<f64>() * self.df_hz
    }

    /// Mean frequency Σf·P / ΣP over the band; `None` without power there.
    pub fn mnf_hz(&self, band: [f64; 2]) -> Option<f64> {
        let (fp, p) = self
            .bins(band)
            .fold((0.0, 0.0), |(fp, s), (f, p)| (fp + f * p, s + p));
        (p > 0.0).then(|| fp / p)
    }

    /// Median frequency: where the cumulative power of the band's bins reaches half of
    /// theirs, interpolated linearly between the two bins around it (NumPy
    /// `interp(total / 2, cumsum(P), f)`), so fatigue slopes are not quantised to bins;
    /// `None` without power there.
    pub fn mdf_hz(&self, band: [f64; 2]) -> Option<f64> {
        let total: f64 = self.bins(band).map(|(_, p)| p).sum();
        if total <= 0.0 {
            return None;
        }
        let half = total / 2.0;
        let mut below = None::<(f64, f64)>;
        let mut cumulative = 0.0;
        self.bins(band).find_map(|(f, p)| {
            cumulative += p;
            if cumulative < half {
                below = Some((f, cumulative));
                return None;
            }
            Some(match below {
                Some((f0, c0)) => f0 + (half - c0) / (cumulative - c0) * (f - f0),
                None => f,
            })
        })
    }

    /// Power below `cut_hz` over the power up to `upper_hz` (motion artefact, DESIGN §3.1).
    pub fn lowfreq_ratio(&self, cut_hz: f64, upper_hz: f64) -> Option<f64> {
        let total: f64 = self.bins([0.0, upper_hz]).map(|(_, p)| p).sum();
        let low: f64 = self
            .bins([0.0, cut_hz])
            .filter(|&(f, _)| f < cut_hz)
            .map(|(_, p)| p)
            .sum();
        (total > 0.0).then(|| low / total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    /// The PSD of `x` through a plan made for it.
    fn welch(x: ArrayView1<f64>, fs_hz: f64, cfg: &SpectrumConfig) -> Result<Psd, SpectrumError> {
        Welch::plan(fs_hz, cfg)?.psd(x)
    }

    #[test]
    fn a_tone_puts_its_power_at_its_frequency() {
        let fs = 1000.0;
        let x = Array1::from_shape_fn(10_000, |i| {
            3.0 * (2.0 * std::f64::consts::PI * 100.0 * i as f64 / fs).sin()
        });
        let psd = welch(x.view(), fs, &SpectrumConfig::default()).unwrap();
        assert_eq!((psd.df_hz, psd.density.len(), psd.segments), (2.0, 251, 39));
        // Parseval: total power = variance = A²/2.
        assert!((psd.band_power([0.0, 500.0]) - 4.5).abs() < 1e-6);
        // A bin-centred tone under a Hann window puts power 1/4 : 1/16 : 1/16 in its bin and
        // the two beside it: cumulative 1/6, 5/6, 1 at 98, 100, 102 Hz, so half is reached
        // halfway from 98 to 100 Hz.
        assert!((psd.mdf_hz([20.0, 450.0]).unwrap() - 99.0).abs() < 1e-9);
        assert!((psd.mnf_hz([20.0, 450.0]).unwrap() - 100.0).abs() < 1e-6);
    }

    /// Segments paired in one complex FFT give each segment's own power, summed: checked
    /// against one real FFT per segment, for odd and even segment counts and lengths.
    #[test]
    fn paired_segments_sum_the_power_of_each_segment() {
        let mut next = crate::testing::centred(0x9e37_79b9_7f4a_7c15);
        for (n, segment_s) in [(4000, 0.5), (4250, 0.5), (3001, 0.301), (999, 0.25)] {
            let x = Array1::from_iter((0..n).map(|i| 40.0 * next() + 0.01 * i as f64));
            let cfg = SpectrumConfig {
                segment_s,
                ..SpectrumConfig::default()
            };
            let plan = Welch::plan(1000.0, &cfg).unwrap();
            let psd = plan.psd(x.view()).unwrap();
            let nperseg = plan.nperseg();
            let fft = realfft::RealFftPlanner::<f64>::new().plan_fft_forward(nperseg);
            let mut one_by_one = vec![0.0; nperseg / 2 + 1];
            for s in 0..psd.segments {
                let seg = x.slice(ndarray::s![s * plan.step..s * plan.step + nperseg]);
                let mean = seg.sum() / nperseg as f64;
                let mut input: Vec<f64> = seg
                    .iter()
                    .zip(&plan.window)
                    .map(|(v, w)| (v - mean) * w)
                    .collect();
                let mut output = fft.make_output_vec();
                fft.process(&mut input, &mut output).unwrap();
                for (acc, c) in one_by_one.iter_mut().zip(&output) {
                    *acc += c.norm_sqr();
                }
            }
            let scale = psd.density[1] / one_by_one[1];
            for (k, (&got, &want)) in psd.density.iter().zip(&one_by_one).enumerate() {
                let edge = k == 0 || (nperseg % 2 == 0 && k == nperseg / 2);
                let want = want * if edge { scale / 2.0 } else { scale };
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(psd.density[1]),
                    "n {n}, nperseg {nperseg}, bin {k}: {got} against {want}"
                );
            }
        }
    }

    #[test]
    fn too_short_and_bad_rates_are_errors() {
        assert_eq!(
            welch(Array1::zeros(1).view(), 100.0, &SpectrumConfig::default()),
            Err(SpectrumError::TooShort { n: 1 })
        );
        assert!(welch(Array1::zeros(10).view(), 0.0, &SpectrumConfig::default()).is_err());
        let short = welch(
            Array1::from_vec(vec![1.0, 2.0, 3.0]).view(),
            100.0,
            &SpectrumConfig::default(),
        )
        .unwrap();
        assert_eq!((short.segments, short.density.len()), (1, 2));
    }

    /// Each edge of a hold has its own MDF, through the rate's plan; an edge that the end
    /// of the signal cuts shorter than a segment is one segment of its own length.
    #[test]
    fn hold_edges_have_the_mdf_of_each_edge() {
        let fs = 1000.0;
        let cfg = SpectrumConfig::default();
        let tone = |f_hz: f64, i: usize| (2.0 * std::f64::consts::PI * f_hz * i as f64 / fs).sin();
        let x = Array1::from_shape_fn(15_300, |i| tone(if i < 10_000 { 100.0 } else { 200.0 }, i));
        let welch = Welch::plan(fs, &cfg).unwrap();
        let [first, last] = edge_mdf_hz(&welch, x.view(), [0.0, 15.0], &cfg);
        // Within one 2 Hz bin of each tone (interpolated between bins, see above).
        assert!((first.unwrap() - 100.0).abs() <= 2.0, "{first:?}");
        assert!((last.unwrap() - 200.0).abs() <= 2.0, "{last:?}");
        assert_eq!(
            edge_mdf_hz(&welch, x.view(), [0.0, 9.0], &cfg),
            [None, None],
            "a span shorter than two edges"
        );
        // The last edge is 15–20 s, of which the signal holds 300 samples.
        let [_, cut] = edge_mdf_hz(&welch, x.view(), [0.0, 20.0], &cfg);
        let own = welch.psd(x.slice(ndarray::s![15_000..])).unwrap();
        assert_eq!((own.segments, own.density.len()), (1, 151));
        assert_eq!(cut, own.mdf_hz(cfg.band_hz));
        assert!((cut.unwrap() - 200.0).abs() <= own.df_hz, "{cut:?}");
    }
}
