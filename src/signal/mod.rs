//! Signal conditioning (DESIGN §3.2): EMG band-pass, mains notch, RMS envelope and TKEO;
//! force debiasing and low-pass. Plans are designed once per (kind, rate) and applied to
//! every channel of that rate; all functions take views and return values.

pub mod condition;
pub mod envelope;
pub mod filter;
mod kernel;
pub mod mains;
pub mod quality;
pub mod spectrum;

use ndarray::{Array1, ArrayView1};

use crate::config::{EmgConfig, ForceConfig};
use filter::{butter, iirnotch, Band, FilterError, Sos};

/// Seconds → whole samples at `fs_hz` (rounded), the one place this conversion happens.
pub fn to_samples(seconds: f64, fs_hz: f64) -> usize {
    (seconds * fs_hz).round().max(0.0) as usize
}

/// What an EMG channel's rate allows of the configured band-pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Passband {
    /// The configured band-pass.
    Bandpass([f64; 2]),
    /// The upper corner is at or above Nyquist: high-pass at the lower corner only
    /// (QC warns that the rate is below `qc.emg_min_fs_hz`).
    HighpassOnly(f64),
}

/// EMG conditioning designed for one rate.
#[derive(Clone, Debug)]
pub struct EmgFilters {
    /// Band actually applied.
    pub passband: Passband,
    bandpass: Sos,
    notch: Option<Sos>,
    envelope_window: usize,
}

/// A conditioned EMG channel, in µV. Its envelope and TKEO are computed when asked for:
/// most channels of a recording only need spectra and a resting RMS, and keeping three
/// full-length arrays per channel tripled a long recording's memory.
#[derive(Clone, Debug)]
pub struct ConditionedEmg {
    /// Demeaned, band-passed (and notched, if `notched`) signal.
    pub filtered: Array1<f64>,
    /// Whether the mains notch was applied.
    pub notched: bool,
    envelope_window: usize,
}

impl ConditionedEmg {
    /// Centred moving RMS of `filtered` over `emg.envelope_window_ms`.
    pub fn envelope(&self) -> Array1<f64> {
        envelope::moving_rms(self.filtered.view(), self.envelope_window)
    }

    /// Teager–Kaiser energy of `filtered`, in µV².
    pub fn tkeo(&self) -> Array1<f64> {
        envelope::tkeo(self.filtered.view())
    }
}

impl EmgFilters {
    /// Designs the band-pass and, for each frequency of `notch_hz` below Nyquist, an
    /// `iirnotch(f, Q)` biquad (DESIGN §3.2: the mains lines measured on the channel).
    ///
    /// # Errors
    /// A lower corner at or above Nyquist (the channel cannot be conditioned), or invalid
    /// parameters.
    pub fn design(
        fs_hz: f64,
        cfg: &EmgConfig,
        notch_hz: &[f64],
    ) -> Result<EmgFilters, FilterError> {
        let [lo, hi] = cfg.bandpass_hz;
        let (passband, bandpass) = if hi < fs_hz / 2.0 {
            (
                Passband::Bandpass([lo, hi]),
                butter(cfg.bandpass_order, Band::Bandpass([lo, hi]), fs_hz)?,
            )
        } else {
            (
                Passband::HighpassOnly(lo),
                butter(cfg.bandpass_order, Band::Highpass(lo), fs_hz)?,
            )
        };
        let sections = notch_hz
            .iter()
            .filter(|&&f| f < fs_hz / 2.0)
            .map(|&f| iirnotch(f, cfg.notch_q, fs_hz))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EmgFilters {
            passband,
            bandpass,
            notch: (!sections.is_empty()).then_some(Sos { sections }),
            envelope_window: to_samples(cfg.envelope_window_ms / 1e3, fs_hz),
        })
    }

    /// Remove the mean, band-pass, and notch when designed with one.
    ///
    /// # Errors
    /// A signal too short for zero-phase filtering, or a non-finite sample.
    pub fn condition(&self, raw: ArrayView1<f64>) -> Result<ConditionedEmg, FilterError> {
        let mut samples = raw.to_owned();
        self.filter_in_place([&mut samples])?;
        Ok(self.conditioned(samples))
    }

    /// [`EmgFilters::condition`] of channels of this rate and one length, taking their raw
    /// samples: each is filtered where it lies, so a long recording never holds raw and
    /// filtered copies of a channel at once, and up to [`LANES`] run through
    /// [`Sos::filtfilt_in_place`] together. A channel that cannot be filtered comes back
    /// unchanged, with its error.
    pub fn condition_many(&self, mut raws: Vec<Array1<f64>>) -> Vec<Filtered> {
        let together = match raws.as_mut_slice() {
            [a, b, c, d] => self.filter_in_place([a, b, c, d]).is_ok(),
            [a, b, c] => self.filter_in_place([a, b, c]).is_ok(),
            [a, b] => self.filter_in_place([a, b]).is_ok(),
            _ => false,
        };
        raws.into_iter()
            .map(|mut raw| {
                if !together {
                    if let Err(e) = self.filter_in_place([&mut raw]) {
                        return Err((raw, e));
                    }
                }
                Ok(self.conditioned(raw))
            })
            .collect()
    }

    /// Mean removal, band-pass and notch over each signal where it lies. Every check comes
    /// before the first write, so on error no signal has changed.
    fn filter_in_place<const L: usize>(
        &self,
        raws: [&mut Array1<f64>; L],
    ) -> Result<(), FilterError> {
        let notch = self.notch.as_ref();
        let padlen = notch.map_or(0, Sos::padlen).max(self.bandpass.padlen());
        let n = raws.first().map_or(0, |r| r.len());
        if n <= padlen {
            return Err(FilterError::TooShort { n, padlen });
        }
        let means = raws.each_ref().map(|r| r.mean().unwrap_or(0.0));
        let mut slices = raws.map(|r| {
            if r.as_slice().is_none() {
                *r = r.as_standard_layout().into_owned();
            }
            r.as_slice_mut().unwrap_or_default()
        });
        self.bandpass
            .filtfilt_in_place(slices.each_mut().map(|s| &mut **s), means)?;
        if let Some(sos) = notch {
            sos.filtfilt_in_place(slices, [0.0; L])?;
        }
        Ok(())
    }

    fn conditioned(&self, filtered: Array1<f64>) -> ConditionedEmg {
        ConditionedEmg {
            filtered,
            notched: self.notch.is_some(),
            envelope_window: self.envelope_window,
        }
    }
}

/// A channel's filtered signal, or its raw samples given back with the error.
pub type Filtered = Result<ConditionedEmg, (Array1<f64>, FilterError)>;

/// Channels filtered together by [`EmgFilters::condition_many`]: four independent cascades
/// hide the multiply-add latency of one on current x86 and ARM cores.
pub const LANES: usize = 4;

/// `mains_hz` and its harmonics up to `max_hz`: what `notch = "on"` removes where no line
/// was measured, and what a reference check notches.
pub fn mains_harmonics(mains_hz: f64, max_hz: f64) -> Vec<f64> {
    (1..)
        .map(|k| k as f64 * mains_hz)
        .take_while(|&f| f <= max_hz)
        .collect()
}

/// Force conditioning designed for one rate.
#[derive(Clone, Debug)]
pub struct ForceFilters {
    /// `None` when the rate is at or below twice the corner: the signal holds nothing above it.
    lowpass: Option<Sos>,
    zero_quantile: f64,
}

/// A conditioned force channel, in N.
#[derive(Clone, Debug)]
pub struct ConditionedForce {
    /// Force minus the zero offset: kept unfiltered for fast transients (snaps, twitches).
    pub debiased: Array1<f64>,
    /// Low-passed `debiased`: the slow shape (plateaus, ramps).
    pub lowpass: Array1<f64>,
    /// The offset removed: median of the lowest `zero_quantile` of samples.
    pub zero_offset_n: f64,
}

impl ForceFilters {
    /// Designs the low-pass.
    ///
    /// # Errors
    /// Invalid parameters.
    pub fn design(fs_hz: f64, cfg: &ForceConfig) -> Result<ForceFilters, FilterError> {
        let lowpass = if cfg.lowpass_hz < fs_hz / 2.0 {
            Some(butter(
                cfg.lowpass_order,
                Band::Lowpass(cfg.lowpass_hz),
                fs_hz,
            )?)
        } else {
            None
        };
        Ok(ForceFilters {
            lowpass,
            zero_quantile: cfg.zero_quantile,
        })
    }

    /// Debias and low-pass.
    ///
    /// # Errors
    /// A signal too short for zero-phase filtering, or a non-finite sample.
    pub fn condition(&self, raw: ArrayView1<f64>) -> Result<ConditionedForce, FilterError> {
        self.condition_owned(raw.to_owned()).map_err(|(_, e)| e)
    }

    /// [`ForceFilters::condition`] taking the raw samples, which become the debiased signal;
    /// on error they come back unchanged.
    pub fn condition_owned(
        &self,
        mut raw: Array1<f64>,
    ) -> Result<ConditionedForce, (Array1<f64>, FilterError)> {
        if raw.as_slice().is_none() {
            raw = raw.as_standard_layout().into_owned();
        }
        // Checked before the samples are debiased where they lie.
        if let Some(sos) = &self.lowpass {
            if let Err(e) = sos.check(raw.as_slice().unwrap_or_default()) {
                return Err((raw, e));
            }
        }
        // One signal-length buffer serves the offset's selection, then holds the low-pass:
        // one allocation of the channel's length, not two.
        let mut buffer = Vec::with_capacity(raw.len());
        let zero_offset_n = lowest_quantile_median(raw.view(), self.zero_quantile, &mut buffer);
        raw.mapv_inplace(|v| v - zero_offset_n);
        let debiased = raw;
        buffer.clear();
        buffer.extend(debiased.iter().copied());
        if let Some(sos) = &self.lowpass {
            if let Err(e) = sos.filtfilt_in_place([&mut buffer], [0.0]) {
                return Err((debiased, e));
            }
        }
        let lowpass = Array1::from(buffer);
        Ok(ConditionedForce {
            debiased,
            lowpass,
            zero_offset_n,
        })
    }
}

/// Median of the lowest `quantile` fraction of the finite samples (at least one sample);
/// 0 when there is none. The samples are selected in `v`, cleared first.
fn lowest_quantile_median(x: ArrayView1<f64>, quantile: f64, v: &mut Vec<f64>) -> f64 {
    v.clear();
    v.extend(x.iter().copied().filter(|v| v.is_finite()));
    if v.is_empty() {
        return 0.0;
    }
    let k = ((quantile * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v.select_nth_unstable_by(k - 1, f64::total_cmp);
    median(&mut v[..k]).unwrap_or(0.0)
}

/// The index of the first NaN or infinity in `x`. Blocks are tested whole, without a branch
/// per sample, so the scan vectorizes (one that stops at the first hit does not): an hour's
/// channel is checked before each filter and before its spectrum.
pub fn first_non_finite(x: &[f64]) -> Option<usize> {
    const BLOCK: usize = 1024;
    x.chunks(BLOCK).enumerate().find_map(|(b, block)| {
        let finite = block.iter().fold(true, |all, v| all & v.is_finite());
        if finite {
            return None;
        }
        block
            .iter()
            .position(|v| !v.is_finite())
            .map(|i| b * BLOCK + i)
    })
}

/// Median of `values` (the mean of the two middle ones for an even count), reordering them
/// in place; `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let (n, mid) = (values.len(), values.len() / 2);
    let (below, &mut upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lower + upper) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_offset_is_the_median_of_the_lowest_five_percent() {
        // 100 samples 1..=100: the lowest 5 are 1..5, median 3.
        let x = Array1::from_iter((1..=100).rev().map(f64::from));
        assert_eq!(lowest_quantile_median(x.view(), 0.05, &mut Vec::new()), 3.0);
        assert_eq!(
            lowest_quantile_median(
                Array1::from_vec(vec![f64::NAN]).view(),
                0.05,
                &mut Vec::new()
            ),
            0.0
        );
    }

    #[test]
    fn the_first_non_finite_sample_is_found_in_any_block() {
        let mut x = vec![1.0; 5000];
        assert_eq!(first_non_finite(&x), None);
        assert_eq!(first_non_finite(&[]), None);
        for (at, bad) in [
            (0, f64::NAN),
            (1023, f64::INFINITY),
            (4999, f64::NEG_INFINITY),
        ] {
            x[at] = bad;
            x[4000] = f64::NAN;
            assert_eq!(first_non_finite(&x), Some(at.min(4000)));
            x[at] = 1.0;
        }
    }

    #[test]
    fn low_rate_emg_falls_back_to_high_pass() {
        let lines = mains_harmonics(50.0, 450.0);
        let f = EmgFilters::design(500.0, &EmgConfig::default(), &lines).unwrap();
        assert_eq!(f.passband, Passband::HighpassOnly(20.0));
        // 50, 100, 150, 200 Hz are below Nyquist (250 Hz).
        assert_eq!(f.notch.unwrap().sections.len(), 4);
        assert!(EmgFilters::design(30.0, &EmgConfig::default(), &[]).is_err());
    }
}
