//! Amplitude envelopes of band-passed sEMG (DESIGN §3.2): centred moving RMS and the
//! Teager–Kaiser energy operator. Input and output in µV (RMS) or µV² (TKEO).

use ndarray::{Array1, ArrayView1};

/// The running window sum is recomputed from scratch at least this often …
const RESYNC_SAMPLES: usize = 1 << 12;
/// … and whenever it has fallen below its peak since the last recomputation by this factor,
/// so that rounding left by a loud burst cannot swamp the quiet that follows it. Together
/// they bound the relative error by about 4096 · 64 · ε ≈ 3e-11.
const RESYNC_DROP: f64 = 64.0;

/// Centred moving RMS over `window` samples: output `n` covers samples
/// `n − window/2 … n − window/2 + window − 1`. Near the ends the window is cut short and the
/// mean is over the samples it holds, so the output keeps the input's length and scale.
/// A window of 0 or 1 gives `|x|`. One pass with a running sum of squares, recomputed from
/// scratch as [`RESYNC_SAMPLES`] and [`RESYNC_DROP`] say.
pub fn moving_rms(x: ArrayView1<f64>, window: usize) -> Array1<f64> {
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout is contiguous");
    let n = x.len();
    let w = window.max(1);
    let half = w / 2;
    let mut out = vec![0.0; n];
    // Output i covers [lo, hi) = [i − half, i − half + w) ∩ [0, n). The running sum moves
    // by at most one sample at each end per step; output 0 is a recomputation.
    let (mut sum, mut peak) = (0.0, 0.0);
    let (mut lo, mut hi) = (0, (w - half).min(n));
    for (i, o) in out.iter_mut().enumerate() {
        let new_lo = i.saturating_sub(half);
        let new_hi = (i + w - half).min(n);
        while hi < new_hi {
            sum += x[hi] * x[hi];
            hi += 1;
        }
        while lo < new_lo {
            sum -= x[lo] * x[lo];
            lo += 1;
        }
        peak = f64::max(peak, sum);
        if i % RESYNC_SAMPLES == 0 || sum * RESYNC_DROP < peak {
            sum = x[lo..hi].iter().map(|v| v * v).sum();
            peak = sum;
        }
        *o = (sum.max(0.0) / (hi - lo) as f64).sqrt();
    }
    Array1::from(out)
}

/// Centred moving mean over `window` samples, cut short at the ends as [`moving_rms`]; for
/// smoothing detection statistics such as the TKEO, which may be negative.
pub fn moving_mean(x: ArrayView1<f64>, window: usize) -> Array1<f64> {
    let mut out = Array1::zeros(x.len());
    moving_mean_into(&mut out, |i| x[i], window);
    out
}

/// [`moving_mean`] of the TKEO of `x` into `out` (of `x`'s length), without holding the
/// TKEO: on a long recording that is one signal-length array fewer at the detector's peak,
/// and a detector can reuse one buffer. Same values, bit for bit.
pub fn smoothed_tkeo_into(out: &mut Array1<f64>, x: ArrayView1<f64>, window: usize) {
    let n = x.len();
    let psi = |i: usize| {
        if i == 0 || i + 1 >= n {
            0.0
        } else {
            x[i] * x[i] - x[i - 1] * x[i + 1]
        }
    };
    moving_mean_into(out, psi, window);
}

/// [`moving_mean`] of the series `value(0) … value(n − 1)`, `n = out.len()`, into `out`:
/// each value is made when the window reaches it, so the series is never stored. One pass
/// with a running sum, recomputed from scratch every [`RESYNC_SAMPLES`] outputs.
pub fn moving_mean_into(out: &mut Array1<f64>, value: impl Fn(usize) -> f64, window: usize) {
    let n = out.len();
    let w = window.max(1);
    let half = w / 2;
    // The window's values at a recomputation, summed as ndarray sums an array.
    let mut held = Vec::with_capacity(w.min(n));
    let mut sum = 0.0;
    let (mut lo, mut hi) = (0, (w - half).min(n));
    for (i, o) in out.iter_mut().enumerate() {
        let new_lo = i.saturating_sub(half);
        let new_hi = (i + w - half).min(n);
        while hi < new_hi {
            sum += value(hi);
            hi += 1;
        }
        while lo < new_lo {
            sum -= value(lo);
            lo += 1;
        }
        if i % RESYNC_SAMPLES == 0 {
            held.clear();
            held.extend((lo..hi).map(&value));
            sum = ArrayView1::from(&held[..]).sum();
        }
        *o = sum / (hi - lo) as f64;
    }
}

/// Teager–Kaiser energy, `ψ[n] = x[n]² − x[n−1]·x[n+1]` (Solnik 2008, DOMAIN §5). The two end
/// samples, which lack a neighbour, are 0.
pub fn tkeo(x: ArrayView1<f64>) -> Array1<f64> {
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout is contiguous");
    let mut out = vec![0.0; x.len()];
    for (o, w) in out.iter_mut().skip(1).zip(x.windows(3)) {
        *o = w[1] * w[1] - w[0] * w[2];
    }
    Array1::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious, slow definition, as the reference (STYLE rule 13).
    fn naive_rms(x: &[f64], w: usize) -> Vec<f64> {
        let half = w / 2;
        (0..x.len())
            .map(|i| {
                let lo = i.saturating_sub(half);
                let hi = (i + w - half).min(x.len());
                (x[lo..hi].iter().map(|v| v * v).sum::<f64>() / (hi - lo) as f64).sqrt()
            })
            .collect()
    }

    fn noise(n: usize) -> Vec<f64> {
        let mut u = crate::testing::centred(0x2545_f491_4f6c_dd1d);
        (0..n).map(|_| u()).collect()
    }

    #[test]
    fn moving_rms_matches_the_naive_definition() {
        for (n, w) in [
            (40_000, 100),
            (20_000, RESYNC_SAMPLES + 3),
            (1000, 101),
            (50, 100),
            (7, 1),
            (3, 4),
            (0, 10),
        ] {
            let mut x = noise(n);
            // A loud burst then quiet: where a drifting running sum would show.
            x.iter_mut()
                .skip(n / 3)
                .take(n / 10)
                .for_each(|v| *v *= 1e4);
            let fast = moving_rms(ArrayView1::from(&x), w);
            let slow = naive_rms(&x, w);
            for (i, (a, b)) in fast.iter().zip(&slow).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-9 * b.max(1e-3),
                    "n={n} w={w} i={i}: {a} vs {b}"
                );
            }
        }
    }

    /// The running sum of the moving mean, recomputed every `RESYNC_SAMPLES`, against the
    /// definition, for windows narrower and wider than that period; and the same bits in an
    /// array laid out backwards.
    #[test]
    fn moving_mean_matches_the_naive_definition_in_any_layout() {
        let n = 3 * RESYNC_SAMPLES + 1234;
        let x = noise(n);
        let value = |i: usize| x[i] * x[i] - 0.5;
        for w in [1, 2, 101, RESYNC_SAMPLES, RESYNC_SAMPLES + 3] {
            let half = w / 2;
            let mut mean = Array1::zeros(n);
            moving_mean_into(&mut mean, value, w);
            for (i, got) in mean.iter().enumerate() {
                let (lo, hi) = (i.saturating_sub(half), (i + w - half).min(n));
                let want = (lo..hi).map(value).sum::<f64>() / (hi - lo) as f64;
                let scale = (lo..hi).map(|j| value(j).abs()).sum::<f64>() / (hi - lo) as f64;
                assert!(
                    (got - want).abs() <= 1e-9 * scale,
                    "window {w}, i {i}: {got} vs {want}"
                );
            }
            let mut reversed = Array1::zeros(n);
            reversed.invert_axis(ndarray::Axis(0));
            moving_mean_into(&mut reversed, value, w);
            assert_eq!(reversed, mean, "into a reversed array, window {w}");
        }
    }

    #[test]
    fn tkeo_matches_its_definition() {
        let x = noise(100);
        let psi = tkeo(ArrayView1::from(&x));
        assert_eq!((psi[0], psi[99]), (0.0, 0.0));
        for i in 1..99 {
            assert_eq!(psi[i], x[i] * x[i] - x[i - 1] * x[i + 1]);
        }
        // A pure tone of amplitude A and frequency ω gives ψ = A²·sin²(ω).
        let w = 0.3f64;
        let tone: Vec<f64> = (0..50).map(|i| 2.0 * (w * i as f64).sin()).collect();
        let psi = tkeo(ArrayView1::from(&tone));
        assert!((psi[25] - 4.0 * w.sin().powi(2)).abs() < 1e-12);
    }

    /// Smoothing a series made on the fly gives the very bits smoothing the stored series
    /// gives, across resynchronisations and at the ends.
    #[test]
    fn fused_smoothing_is_bit_identical_to_smoothing_the_stored_series() {
        for n in [0, 1, 2, 3, 50, 3 * RESYNC_SAMPLES + 17] {
            let x = Array1::from(noise(n));
            for w in [1, 2, 7, 80] {
                let mut fused = Array1::zeros(n);
                smoothed_tkeo_into(&mut fused, x.view(), w);
                assert_eq!(
                    fused,
                    moving_mean(tkeo(x.view()).view(), w),
                    "n {n}, window {w}"
                );
                let mut fused = Array1::zeros(n);
                moving_mean_into(&mut fused, |i| x[i] * x[i], w);
                assert_eq!(
                    fused,
                    moving_mean(x.mapv(|v| v * v).view(), w),
                    "n {n}, window {w}"
                );
            }
        }
    }
}
