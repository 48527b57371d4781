//! Butterworth filters as second-order sections, applied forward-backward (DESIGN §3.2).
//!
//! Numerically the same as SciPy: [`butter`] follows `scipy.signal.butter(N, Wn, btype,
//! fs=fs, output='sos')` step by step (`buttap` → `lp2{lp,hp,bp,bs}_zpk` → `bilinear_zpk` →
//! `zpk2sos` with `pairing='nearest'`); [`iirnotch`] is `scipy.signal.iirnotch`;
//! [`Sos::filtfilt`] is `sosfiltfilt(sos, x)` with its defaults (odd extension,
//! `padlen = 3·(2·sections + 1 − first-order sections)`, `sosfilt_zi` initial conditions).
//! Checked against SciPy 1.17.1 fixtures (`tests/reference/make_fixtures.py`).
//!
//! Why not sci-rs, which DESIGN §8 names: it panics on bad cut-offs and on empty input, fixes
//! the section count at compile time, and copies every signal through several `Vec`s and a
//! nalgebra vector, while the benchmark goal here is 3× SciPy; this module validates first
//! and returns errors, and filters in one buffer.

use std::f64::consts::PI;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use ndarray::{Array1, ArrayView1};
use realfft::num_complex::Complex64 as C;

use crate::model::owned_samples;

/// A filter that cannot be designed or applied, with the numbers that break the rule.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FilterError {
    /// A frequency at or above half the sampling rate.
    #[error("{what} = {hz} Hz must be below the Nyquist frequency fs/2 = {} Hz (fs = {fs_hz} Hz)", fs_hz / 2.0)]
    AboveNyquist {
        /// Which frequency.
        what: &'static str,
        /// Its value.
        hz: f64,
        /// The sampling rate.
        fs_hz: f64,
    },
    /// A frequency, rate or quality factor that is not a finite number above 0.
    #[error("{what} = {value} must be a finite number above 0")]
    NotPositive {
        /// Which parameter.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// An order outside 1–8.
    #[error("filter order {order} must be from 1 to 8")]
    Order {
        /// The order asked for.
        order: usize,
    },
    /// Band edges that do not increase.
    #[error("band edges [{low}, {high}] Hz must increase")]
    BandEdges {
        /// Lower edge.
        low: f64,
        /// Upper edge.
        high: f64,
    },
    /// Signals filtered together that are not of one length.
    #[error("signals filtered together must be of one length, not {first} and {other} samples")]
    UnequalLengths {
        /// The first signal's length.
        first: usize,
        /// Another's.
        other: usize,
    },
    /// A signal no longer than the zero-phase padding (SciPy raises the same).
    #[error("a signal of {n} samples is too short for zero-phase filtering: it must be longer than the padding of {padlen} samples")]
    TooShort {
        /// Samples given.
        n: usize,
        /// Padding at each end.
        padlen: usize,
    },
    /// Corners so close to 0 Hz or Nyquist that rounding puts a pole on the unit circle.
    #[error("a Butterworth filter of order {order} at these corners cannot be designed stably at fs = {fs_hz} Hz (a pole rounds onto the unit circle); move the corners away from 0 Hz and Nyquist")]
    Unstable {
        /// The order asked for.
        order: usize,
        /// The sampling rate.
        fs_hz: f64,
    },
    /// A NaN or infinite sample, which would spread through the whole output.
    #[error("sample {index} is {value}; filtering needs finite samples")]
    NonFinite {
        /// Index of the first bad sample.
        index: usize,
        /// Its value.
        value: f64,
    },
}

/// The response of a Butterworth filter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Band {
    /// Pass below the corner.
    Lowpass(f64),
    /// Pass above the corner.
    Highpass(f64),
    /// Pass between the corners.
    Bandpass([f64; 2]),
    /// Stop between the corners.
    Bandstop([f64; 2]),
}

/// One second-order section, `b0 + b1 z⁻¹ + b2 z⁻²` over `1 + a1 z⁻¹ + a2 z⁻²` (SciPy's sos
/// row `[b0, b1, b2, 1, a1, a2]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Section {
    /// Numerator.
    pub b: [f64; 3],
    /// Denominator, `a[0] = 1`.
    pub a: [f64; 3],
}

/// A cascade of sections designed for one sampling rate: design once, apply to many channels.
#[derive(Clone, Debug, PartialEq)]
pub struct Sos {
    /// Sections in application order.
    pub sections: Vec<Section>,
}

fn check_positive(what: &'static str, value: f64) -> Result<(), FilterError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(FilterError::NotPositive { what, value })
    }
}

fn check_corner(what: &'static str, hz: f64, fs_hz: f64) -> Result<(), FilterError> {
    check_positive(what, hz)?;
    if hz >= fs_hz / 2.0 {
        return Err(FilterError::AboveNyquist { what, hz, fs_hz });
    }
    Ok(())
}

/// Designs a digital Butterworth filter as SciPy `butter(order, Wn, btype, fs=fs_hz,
/// output='sos')` does.
///
/// # Errors
/// Order outside 1–8, a rate or corner that is not finite and positive, a corner at or above
/// Nyquist, band edges that do not increase.
pub fn butter(order: usize, band: Band, fs_hz: f64) -> Result<Sos, FilterError> {
    if !(1..=8).contains(&order) {
        return Err(FilterError::Order { order });
    }
    check_positive("sampling rate", fs_hz)?;
    let corners: Vec<f64> = match band {
        Band::Lowpass(f) | Band::Highpass(f) => vec![f],
        Band::Bandpass([lo, hi]) | Band::Bandstop([lo, hi]) => {
            check_corner("lower band edge", lo, fs_hz)?;
            check_corner("upper band edge", hi, fs_hz)?;
            if lo >= hi {
                return Err(FilterError::BandEdges { low: lo, high: hi });
            }
            vec![lo, hi]
        }
    };
    for &f in &corners {
        check_corner("cut-off", f, fs_hz)?;
    }
    // SciPy normalises to fs = 2 and pre-warps: warped = 2·fs·tan(π·Wn/fs).
    let warped: Vec<f64> = corners
        .iter()
        .map(|f| 4.0 * (PI * (2.0 * f / fs_hz) / 2.0).tan())
        .collect();

    // buttap: p = −exp(iπ·m/(2N)), m = −N+1, −N+3, …, N−1; no zeros; gain 1.
    let n = order as f64;
    let p: Vec<C> = (0..order)
        .map(|i| -(C::new(0.0, PI * (-n + 1.0 + 2.0 * i as f64) / (2.0 * n))).exp())
        .collect();
    let z: Vec<C> = Vec::new();
    let (z, p, k) = match band {
        Band::Lowpass(_) => lp2lp(&z, &p, 1.0, warped[0]),
        Band::Highpass(_) => lp2hp(&z, &p, 1.0, warped[0]),
        Band::Bandpass(_) => {
            let (bw, wo) = (warped[1] - warped[0], (warped[0] * warped[1]).sqrt());
            lp2bp(&z, &p, 1.0, wo, bw)
        }
        Band::Bandstop(_) => {
            let (bw, wo) = (warped[1] - warped[0], (warped[0] * warped[1]).sqrt());
            lp2bs(&z, &p, 1.0, wo, bw)
        }
    };
    let (z, p, k) = bilinear(&z, &p, k);
    // zpk2sos relies on every complex pole having its conjugate, which rounding can break
    // for corners at the extremes; and the sections it makes must be stable as rounded
    // (Jury: |a2| < 1 and |a1| < 1 + a2), which rounding can also break.
    let (pairs, reals) = cplxreal(&p);
    if 2 * pairs.len() + reals.len() != p.len() || !k.is_finite() {
        return Err(FilterError::Unstable { order, fs_hz });
    }
    let sos = zpk2sos(z, p, k);
    let stable = sos.sections.iter().all(|s| {
        let [_, a1, a2] = s.a;
        a2.abs() < 1.0 && a1.abs() < 1.0 + a2 && s.b.iter().all(|b| b.is_finite())
    });
    if !stable {
        return Err(FilterError::Unstable { order, fs_hz });
    }
    Ok(sos)
}

type Zpk = (Vec<C>, Vec<C>, f64);

fn prod(v: &[C]) -> C {
    v.iter().fold(C::new(1.0, 0.0), |acc, x| acc * x)
}

fn lp2lp(z: &[C], p: &[C], k: f64, wo: f64) -> Zpk {
    let degree = p.len() - z.len();
    (
        z.iter().map(|x| x * wo).collect(),
        p.iter().map(|x| x * wo).collect(),
        k * wo.powi(degree as i32),
    )
}

fn lp2hp(z: &[C], p: &[C], k: f64, wo: f64) -> Zpk {
    let degree = p.len() - z.len();
    let mut z_hp: Vec<C> = z.iter().map(|x| wo / x).collect();
    z_hp.extend(std::iter::repeat_n(C::new(0.0, 0.0), degree));
    let neg = |v: &[C]| v.iter().map(|x| -x).collect::<Vec<_>>();
    let k_hp = k * (prod(&neg(z)) / prod(&neg(p))).re;
    (z_hp, p.iter().map(|x| wo / x).collect(), k_hp)
}

/// `x ± sqrt(x² − wo²)` for each `x`: all `+` roots first, then all `−` (SciPy's order).
fn split_roots(v: &[C], wo: f64) -> Vec<C> {
    let root = |x: &C| (x * x - wo * wo).sqrt();
    let plus = v.iter().map(|x| x + root(x));
    let minus = v.iter().map(|x| x - root(x));
    plus.chain(minus).collect()
}

fn lp2bp(z: &[C], p: &[C], k: f64, wo: f64, bw: f64) -> Zpk {
    let degree = p.len() - z.len();
    let z_lp: Vec<C> = z.iter().map(|x| x * bw / 2.0).collect();
    let p_lp: Vec<C> = p.iter().map(|x| x * bw / 2.0).collect();
    let mut z_bp = split_roots(&z_lp, wo);
    z_bp.extend(std::iter::repeat_n(C::new(0.0, 0.0), degree));
    (z_bp, split_roots(&p_lp, wo), k * bw.powi(degree as i32))
}

fn lp2bs(z: &[C], p: &[C], k: f64, wo: f64, bw: f64) -> Zpk {
    let degree = p.len() - z.len();
    let z_hs: Vec<C> = z.iter().map(|x| (bw / 2.0) / x).collect();
    let p_hs: Vec<C> = p.iter().map(|x| (bw / 2.0) / x).collect();
    let mut z_bs = split_roots(&z_hs, wo);
    z_bs.extend(std::iter::repeat_n(C::new(0.0, wo), degree));
    z_bs.extend(std::iter::repeat_n(C::new(0.0, -wo), degree));
    let neg = |v: &[C]| v.iter().map(|x| -x).collect::<Vec<_>>();
    let k_bs = k * (prod(&neg(z)) / prod(&neg(p))).re;
    (z_bs, split_roots(&p_hs, wo), k_bs)
}

/// Bilinear transform at SciPy's normalised fs = 2.
fn bilinear(z: &[C], p: &[C], k: f64) -> Zpk {
    let fs2 = 4.0;
    let degree = p.len() - z.len();
    let map = |x: &C| (fs2 + x) / (fs2 - x);
    let mut z_z: Vec<C> = z.iter().map(map).collect();
    z_z.extend(std::iter::repeat_n(C::new(-1.0, 0.0), degree));
    let num: Vec<C> = z.iter().map(|x| fs2 - x).collect();
    let den: Vec<C> = p.iter().map(|x| fs2 - x).collect();
    let k_z = k * (prod(&num) / prod(&den)).re;
    (z_z, p.iter().map(map).collect(), k_z)
}

/// SciPy `_cplxreal`: one member (positive imaginary part) of each conjugate pair, averaged
/// with its partner, then the real values; each group sorted as SciPy sorts it.
fn cplxreal(v: &[C]) -> (Vec<C>, Vec<f64>) {
    let tol = 100.0 * f64::EPSILON;
    let mut v = v.to_vec();
    v.sort_by(|a, b| {
        a.re.total_cmp(&b.re)
            .then(a.im.abs().total_cmp(&b.im.abs()))
    });
    let (real, complex): (Vec<C>, Vec<C>) =
        v.into_iter().partition(|x| x.im.abs() <= tol * x.norm());
    let mut pos: Vec<C> = complex.iter().filter(|x| x.im > 0.0).copied().collect();
    let mut neg: Vec<C> = complex.iter().filter(|x| x.im < 0.0).copied().collect();
    // Runs of (nearly) equal real part are ordered by |imag|, as SciPy does, so that each
    // member of a pair meets its own conjugate.
    for half in [&mut pos, &mut neg] {
        let mut start = 0;
        while start < half.len() {
            let mut stop = start + 1;
            while stop < half.len()
                && half[stop].re - half[stop - 1].re <= tol * half[stop - 1].norm()
            {
                stop += 1;
            }
            half[start..stop].sort_by(|a, b| a.im.abs().total_cmp(&b.im.abs()));
            start = stop;
        }
    }
    let paired = pos
        .iter()
        .zip(&neg)
        .map(|(p, n)| (p + n.conj()) / 2.0)
        .collect();
    (paired, real.into_iter().map(|x| x.re).collect())
}

/// One pole or zero in SciPy's lists: complex ones stand for a conjugate pair.
fn is_real(x: &C) -> bool {
    x.im == 0.0
}

/// SciPy `_nearest_real_complex_idx`.
fn nearest(from: &[C], to: C, which: Which) -> usize {
    let mut order: Vec<usize> = (0..from.len()).collect();
    order.sort_by(|&a, &b| (from[a] - to).norm().total_cmp(&(from[b] - to).norm()));
    *order
        .iter()
        .find(|&&i| match which {
            Which::Any => true,
            Which::Real => is_real(&from[i]),
            Which::Complex => !is_real(&from[i]),
        })
        .expect("zpk2sos pairs only when a zero of the asked kind remains")
}

#[derive(Clone, Copy)]
enum Which {
    Any,
    Real,
    Complex,
}

/// Index of the pole closest to the unit circle (the "worst"), first on ties as `argmin`.
fn worst(p: &[C], among: impl Fn(&C) -> bool) -> Option<usize> {
    (0..p.len()).filter(|&i| among(&p[i])).min_by(|&a, &b| {
        (1.0 - p[a].norm())
            .abs()
            .total_cmp(&(1.0 - p[b].norm()).abs())
    })
}

/// Real coefficients of `(1 − r₁z⁻¹)(1 − r₂z⁻¹)` for the roots of one section, as numpy's
/// `poly` and SciPy's `_single_zpksos` place them.
fn section_poly(roots: &[C]) -> [f64; 3] {
    match roots {
        [] => [0.0, 0.0, 1.0],
        [r] => [0.0, 1.0, -r.re],
        [r1, r2] => {
            let c = [C::new(1.0, 0.0), -r2 + -r1, (-r1) * (-r2)];
            [c[0].re, c[1].re, c[2].re]
        }
        _ => unreachable!("a section has at most two roots"),
    }
}

/// SciPy `zpk2sos(z, p, k, pairing='nearest')` for digital filters.
fn zpk2sos(z: Vec<C>, p: Vec<C>, k: f64) -> Sos {
    let mut z = z;
    let mut p = p;
    if z.len() < p.len() {
        z.resize(p.len(), C::new(0.0, 0.0));
    }
    if p.len() < z.len() {
        p.resize(z.len(), C::new(0.0, 0.0));
    }
    let n_sections = p.len().div_ceil(2);
    if p.len() % 2 == 1 {
        p.push(C::new(0.0, 0.0));
        z.push(C::new(0.0, 0.0));
    }
    let (zc, zr) = cplxreal(&z);
    let (pc, pr) = cplxreal(&p);
    let mut z: Vec<C> = zc
        .into_iter()
        .chain(zr.into_iter().map(|r| C::new(r, 0.0)))
        .collect();
    let mut p: Vec<C> = pc
        .into_iter()
        .chain(pr.into_iter().map(|r| C::new(r, 0.0)))
        .collect();

    let mut sections = vec![
        Section {
            b: [0.0; 3],
            a: [0.0; 3]
        };
        n_sections
    ];
    for si in (0..n_sections).rev() {
        let p1 = p.remove(worst(&p, |_| true).expect("a pole per section"));
        let real_poles_left = p.iter().filter(|x| is_real(x)).count();
        let (zs, ps): (Vec<C>, Vec<C>) = if is_real(&p1) && real_poles_left == 0 {
            // The last real pole: pair it with the nearest real zero.
            let z1 = z.remove(nearest(&z, p1, Which::Real));
            (vec![z1, C::new(0.0, 0.0)], vec![p1, C::new(0.0, 0.0)])
        } else if p.len() + 1 == z.len()
            && !is_real(&p1)
            && real_poles_left == 1
            && z.iter().filter(|x| is_real(x)).count() == 1
        {
            // One real pole and one real zero left: this complex pole must take a complex zero.
            let z1 = z.remove(nearest(&z, p1, Which::Complex));
            (vec![z1, z1.conj()], vec![p1, p1.conj()])
        } else {
            let p2 = if is_real(&p1) {
                p.remove(worst(&p, is_real).expect("another real pole remains"))
            } else {
                p1.conj()
            };
            if z.is_empty() {
                (Vec::new(), vec![p1, p2])
            } else {
                let z1 = z.remove(nearest(&z, p1, Which::Any));
                if !is_real(&z1) {
                    (vec![z1, z1.conj()], vec![p1, p2])
                } else if z.is_empty() {
                    (vec![z1], vec![p1, p2])
                } else {
                    let z2 = z.remove(nearest(&z, p1, Which::Real));
                    (vec![z1, z2], vec![p1, p2])
                }
            }
        };
        sections[si] = Section {
            b: section_poly(&zs),
            a: section_poly(&ps),
        };
    }
    for b in &mut sections[0].b {
        *b *= k;
    }
    Sos { sections }
}

/// A notch at `f0_hz` with quality factor `q`, as SciPy `iirnotch(f0, Q, fs)`.
///
/// # Errors
/// A rate, frequency or Q that is not finite and positive, or `f0_hz` at or above Nyquist.
pub fn iirnotch(f0_hz: f64, q: f64, fs_hz: f64) -> Result<Section, FilterError> {
    check_positive("sampling rate", fs_hz)?;
    check_positive("notch quality factor Q", q)?;
    check_corner("notch frequency", f0_hz, fs_hz)?;
    let w0 = 2.0 * f0_hz / fs_hz;
    let bw = w0 / q * PI;
    let w0 = w0 * PI;
    let gb = 1.0 / 2f64.sqrt();
    let beta = ((1.0 - gb.powf(2.0)).sqrt() / gb) * (bw / 2.0).tan();
    let gain = 1.0 / (1.0 + beta);
    Ok(Section {
        b: [gain, gain * (-2.0 * w0.cos()), gain],
        a: [1.0, -2.0 * gain * w0.cos(), 2.0 * gain - 1.0],
    })
}

impl Sos {
    /// Samples of odd extension at each end: `3·ntaps`, where `ntaps = 2·sections + 1` less
    /// the first-order sections (SciPy `sosfiltfilt` default).
    pub fn padlen(&self) -> usize {
        let count = |f: fn(&Section) -> bool| self.sections.iter().filter(|s| f(s)).count();
        let first_order = count(|s| s.b[2] == 0.0).min(count(|s| s.a[2] == 0.0));
        3 * (2 * self.sections.len() + 1 - first_order)
    }

    /// Steady-state section states for a unit step (SciPy `sosfilt_zi`).
    pub fn zi(&self) -> Vec<[f64; 2]> {
        let mut scale = 1.0;
        self.sections
            .iter()
            .map(|s| {
                let ([b0, b1, b2], [_, a1, a2]) = (s.b, s.a);
                // lfilter_zi: solve (I − companion(a)ᵀ)·zi = b[1:] − a[1:]·b0.
                let (r0, r1) = (b1 - a1 * b0, b2 - a2 * b0);
                let z0 = (r0 + r1) / (1.0 + a1 + a2);
                let zi = [scale * z0, scale * (r1 - a2 * z0)];
                scale *= s.b.iter().sum::<f64>() / s.a.iter().sum::<f64>();
                zi
            })
            .collect()
    }

    /// What zero-phase filtering needs of a signal: more samples than [`Sos::padlen`], all
    /// finite.
    ///
    /// # Errors
    /// The first rule broken, with the numbers.
    pub fn check(&self, x: &[f64]) -> Result<(), FilterError> {
        let padlen = self.padlen();
        if x.len() <= padlen {
            return Err(FilterError::TooShort { n: x.len(), padlen });
        }
        match super::first_non_finite(x) {
            Some(index) => Err(FilterError::NonFinite {
                index,
                value: x[index],
            }),
            None => Ok(()),
        }
    }

    /// Zero-phase filtering, as SciPy `sosfiltfilt(sos, x)` with its defaults.
    ///
    /// # Errors
    /// A signal no longer than [`Sos::padlen`], or a non-finite sample.
    pub fn filtfilt(&self, x: ArrayView1<f64>) -> Result<Array1<f64>, FilterError> {
        let mut y = owned_samples(x);
        let samples = y.as_slice_mut().expect("an owned copy is contiguous");
        self.filtfilt_in_place([samples], [0.0])?;
        Ok(y)
    }

    /// [`Sos::filtfilt`] of `x − shift` for each of `L` signals of one length, written over
    /// them. The signals run interleaved, sample by sample: one signal's cascade is a chain of
    /// dependent multiply-adds that keeps the core waiting, and `L` independent chains fill
    /// that time. Each signal gets exactly the operations of SciPy's one-signal filter, in
    /// its order, so the output is the same to the bit. Only the odd extensions at the ends
    /// (`padlen` samples each) are kept aside, so filtering needs no second copy of a signal.
    /// A cascade of eight sections or more runs in two halves on two threads when the rayon
    /// pool it is called in has them ([`pass`]), with the same bits.
    ///
    /// # Errors
    /// As [`Sos::filtfilt`], for the first offending signal, or signals of unequal length;
    /// then no signal has been changed.
    pub fn filtfilt_in_place<const L: usize>(
        &self,
        xs: [&mut [f64]; L],
        shifts: [f64; L],
    ) -> Result<(), FilterError> {
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        self.filtfilt_lanes(xs, shifts, avx2)
    }

    /// [`Sos::filtfilt_in_place`], on AVX2 only if `avx2` says the CPU has it; without, the
    /// portable cascade, which the tests hold the AVX2 one to.
    fn filtfilt_lanes<const L: usize>(
        &self,
        xs: [&mut [f64]; L],
        shifts: [f64; L],
        avx2: bool,
    ) -> Result<(), FilterError> {
        let n = xs.first().map_or(0, |x| x.len());
        let pad = self.padlen();
        for x in &xs {
            if x.len() != n {
                return Err(FilterError::UnequalLengths {
                    first: n,
                    other: x.len(),
                });
            }
            self.check(x)?;
        }
        // Odd extension: 2·x[0] − x[pad..1] before, 2·x[n−1] − x[n−2..n−pad−1] after.
        let (mut front, mut back) = {
            let at = |i: usize| -> [f64; L] { std::array::from_fn(|l| xs[l][i] - shifts[l]) };
            let (first, last) = (at(0), at(n - 1));
            let front: Vec<[f64; L]> = (1..=pad)
                .rev()
                .map(|i| std::array::from_fn(|l| 2.0 * first[l] - at(i)[l]))
                .collect();
            let back: Vec<[f64; L]> = (1..=pad)
                .map(|i| std::array::from_fn(|l| 2.0 * last[l] - at(n - 1 - i)[l]))
                .collect();
            (front, back)
        };
        // Every lane re-sliced to `n`, so the stages index it without bounds checks.
        let mut xs = xs.map(|x| &mut x[..n]);
        let zi = self.zi();
        let sections = &self.sections[..];
        // The cascade in two halves, the stages of a [`pass`], when there is a second thread
        // and each half is long enough to keep a core's arithmetic busy; a stage of fewer
        // sections waits on its own recurrence (split 2 + 2, the band-pass ran 21% slower
        // on one thread).
        let split = sections.len() >= SPLIT_MIN_SECTIONS && rayon::current_num_threads() > 1;
        let half = if split {
            sections.len().div_ceil(2)
        } else {
            sections.len()
        };
        let stages = |level: [f64; L], shifts: [f64; L]| {
            let second = (half < sections.len())
                .then(|| stage(&sections[half..], &zi[half..], level, [0.0; L], avx2));
            (
                stage(&sections[..half], &zi[..half], level, shifts, avx2),
                second,
            )
        };
        // Forwards over front, body, back, from the steady state of the first sample.
        let Some(&first) = front.first() else {
            return Ok(());
        };
        let (head, rest) = stages(first, shifts);
        pass(
            &Track::new(&mut front, false, &mut xs, false, &mut back),
            head,
            rest,
        );
        // Backwards over back and body, from the steady state of the last output; the
        // outputs over the back are SciPy's to drop, and the front's follow the body's, so
        // they cannot change them and are not computed.
        let (head, rest) = stages(back[pad - 1], [0.0; L]);
        pass(
            &Track::new(&mut back, true, &mut xs, true, &mut []),
            head,
            rest,
        );
        Ok(())
    }
}

/// The fewest sections a cascade is split at: four to each half, about as many as one
/// four-signal register can step while a section's own recurrence (an add, a multiply, a
/// subtract and an add in a row) takes its turn. The notch's nine split 5 + 4 filtered four
/// 1 h channels in 225 ms against 309 ms on two threads, copies included, and in 334 against
/// 327 ms (no change detected) with both stages on one (`cargo bench --bench signal`).
const SPLIT_MIN_SECTIONS: usize = 8;

/// Positions handled at a time in a [`pass`]: 128 KiB of four signals, so the
/// second stage, when the first stage's thread runs it too, finds them in L2.
const CHUNK: usize = 4096;

/// One pass of a cascade split in two stages over `track`: `second` takes what `first` puts
/// out. A section's recurrence waits only on itself, so the stages can run at once on two
/// threads, `second` on the positions `first` has finished; with four signals in one AVX2
/// register a cascade is bound by the core's arithmetic, and the second thread is what
/// halves its time when a recording's EMG channels fill one batch and leave a thread idle.
/// Until `second` is taken up by another thread, the thread of `first` runs both, chunk
/// after chunk, so a pass alone on its thread costs about what one cascade does (the
/// values between the stages are stored and read again, from L2). Each stage does
/// its sections' operations in their order on the same inputs, so the output is the same
/// bits whichever thread ran what.
fn pass<const L: usize>(
    track: &Track<'_, L>,
    mut first: Box<dyn Advance<L> + '_>,
    second: Option<Box<dyn Advance<L> + '_>>,
) {
    let len = track.len();
    let Some(second) = second else {
        // SAFETY: one stage on one thread.
        unsafe { first.advance(track, len) };
        return;
    };
    // Positions holding their final output of `first`; `second` reads only those.
    let finished = AtomicUsize::new(0);
    let taken_up = AtomicBool::new(false);
    // Set when `first` has returned or unwound, so a `second` waiting on it stops.
    let first_over = AtomicBool::new(false);
    let second = Mutex::new(second);
    rayon::join(
        || {
            let _over = SetOnDrop(&first_over);
            let mut to = 0;
            while to < len {
                to = (to + CHUNK).min(len);
                // SAFETY: `first` writes only at or after `finished`, which `second` never
                // passes; stores before the release below are seen by whoever acquires it.
                let done = unsafe { first.advance(track, to) };
                finished.store(done, Ordering::Release);
                if !taken_up.load(Ordering::Acquire) {
                    if let Ok(mut second) = second.try_lock() {
                        // SAFETY: as above, on this thread.
                        unsafe { second.advance(track, done) };
                    }
                }
            }
        },
        || {
            taken_up.store(true, Ordering::Release);
            let mut second = second.lock().unwrap_or_else(PoisonError::into_inner);
            let mut spins = 0u32;
            loop {
                let done = finished.load(Ordering::Acquire);
                // SAFETY: positions before `done` are `first`'s no more.
                unsafe { second.advance(track, done) };
                if done == len {
                    return;
                }
                while finished.load(Ordering::Acquire) == done {
                    // `first` over with positions left: it panicked, and `join` passes
                    // the panic on.
                    if first_over.load(Ordering::Acquire)
                        && finished.load(Ordering::Acquire) == done
                    {
                        return;
                    }
                    spins += 1;
                    if spins % 64 == 0 {
                        std::thread::yield_now();
                    } else {
                        std::hint::spin_loop();
                    }
                }
            }
        },
    );
}

/// Sets its flag when dropped, however the scope it guards ends.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The positions of one pass in its order: a head and a tail of odd extension around the
/// `L` signals of `n` samples between them. A stage reads a position and writes its output
/// for it in place, `delay` positions later. Raw pointers, as two threads work on it at once,
/// each on positions the other has left ([`pass`]).
struct Track<'a, const L: usize> {
    head: *mut [f64; L],
    head_len: usize,
    head_reversed: bool,
    body: [*mut f64; L],
    n: usize,
    body_reversed: bool,
    tail: *mut [f64; L],
    tail_len: usize,
    borrowed: PhantomData<&'a mut [f64]>,
}

// SAFETY: a track points into buffers it holds borrowed for its life; the threads that
// share it in [`pass`] touch disjoint positions, in the order its atomics give.
unsafe impl<const L: usize> Sync for Track<'_, L> {}

impl<'a, const L: usize> Track<'a, L> {
    /// `head`, then the signals `body` (all of one length), then `tail`, each backwards if
    /// so marked.
    fn new(
        head: &'a mut [[f64; L]],
        head_reversed: bool,
        body: &'a mut [&mut [f64]; L],
        body_reversed: bool,
        tail: &'a mut [[f64; L]],
    ) -> Self {
        Track {
            head_len: head.len(),
            head: head.as_mut_ptr(),
            head_reversed,
            n: body.first().map_or(0, |x| x.len()),
            body: body.each_mut().map(|x| x.as_mut_ptr()),
            body_reversed,
            tail_len: tail.len(),
            tail: tail.as_mut_ptr(),
            borrowed: PhantomData,
        }
    }

    fn len(&self) -> usize {
        self.head_len + self.n + self.tail_len
    }

    /// Where position `p < head_len` lies in the head.
    fn head_index(&self, p: usize) -> usize {
        if self.head_reversed {
            self.head_len - 1 - p
        } else {
            p
        }
    }

    /// Where sample `i` of the signals lies in them.
    #[inline(always)]
    fn body_index(&self, i: usize) -> usize {
        if self.body_reversed {
            self.n - 1 - i
        } else {
            i
        }
    }

    /// Sample `i` of the signals, less `shifts`.
    ///
    /// # Safety
    /// `i < n`, and no other thread writes there.
    #[inline(always)]
    unsafe fn body(&self, i: usize, shifts: [f64; L]) -> [f64; L] {
        // SAFETY: each signal holds `n` samples; the caller keeps `i` below.
        unsafe { read_lanes(self.body, self.body_index(i), shifts) }
    }

    /// Writes sample `i` of the signals.
    ///
    /// # Safety
    /// As [`Track::body`], and no other thread reads there.
    #[inline(always)]
    unsafe fn set_body(&self, i: usize, y: [f64; L]) {
        // SAFETY: as `body`.
        unsafe { write_lanes(self.body, self.body_index(i), y) }
    }

    /// The value at position `p` (signals less `shifts`).
    ///
    /// # Safety
    /// `p < len()`, and no other thread writes there.
    unsafe fn get(&self, p: usize, shifts: [f64; L]) -> [f64; L] {
        // SAFETY (all three): `p` lies in the part it is taken from.
        if p < self.head_len {
            unsafe { *self.head.add(self.head_index(p)) }
        } else if p - self.head_len < self.n {
            unsafe { self.body(p - self.head_len, shifts) }
        } else {
            unsafe { *self.tail.add(p - self.head_len - self.n) }
        }
    }

    /// Writes position `p`.
    ///
    /// # Safety
    /// `p < len()`, and no other thread reads or writes there.
    unsafe fn set(&self, p: usize, y: [f64; L]) {
        // SAFETY (all three): `p` lies in the part it is written to.
        if p < self.head_len {
            unsafe { *self.head.add(self.head_index(p)) = y }
        } else if p - self.head_len < self.n {
            unsafe { self.set_body(p - self.head_len, y) }
        } else {
            unsafe { *self.tail.add(p - self.head_len - self.n) = y }
        }
    }
}

/// Sample `j` of each of the signals `body`, less `shifts`.
///
/// # Safety
/// Each signal holds more than `j` samples, and no other thread writes there.
#[inline(always)]
unsafe fn read_lanes<const L: usize>(body: [*mut f64; L], j: usize, shifts: [f64; L]) -> [f64; L] {
    // SAFETY: the caller's promise.
    std::array::from_fn(|l| unsafe { *body[l].add(j) } - shifts[l])
}

/// Writes sample `j` of each of the signals `body`.
///
/// # Safety
/// Each signal holds more than `j` samples, and no other thread reads or writes there.
#[inline(always)]
unsafe fn write_lanes<const L: usize>(body: [*mut f64; L], j: usize, y: [f64; L]) {
    for (x, y) in body.iter().zip(y) {
        // SAFETY: the caller's promise.
        unsafe { *x.add(j) = y };
    }
}

/// A stage of a [`pass`] that can be taken on from where it stopped.
trait Advance<const L: usize>: Send {
    /// Takes the track's inputs up to position `to`, and when `to` is its length, the zeros
    /// that push the last outputs out; returns how many positions hold their final output.
    ///
    /// # Safety
    /// `to` is at most the track's length; no other thread touches the positions from the
    /// stage's last return value up to `to`, nor any position the stage reads; and what other
    /// threads wrote below `to` happened before this call (the release and acquire of
    /// [`pass`]).
    unsafe fn advance(&mut self, track: &Track<'_, L>, to: usize) -> usize;
}

/// A cascade on its way along a track, reading the signals less `shifts` (only the first
/// stage of the forward pass shifts).
struct Stage<const L: usize, S> {
    cascade: S,
    shifts: [f64; L],
    /// The next position to read.
    next: usize,
    flushed: bool,
}

impl<const L: usize, S: Step<L> + Clone> Stage<L, S> {
    fn new(cascade: S, shifts: [f64; L]) -> Self {
        Stage {
            cascade,
            shifts,
            next: 0,
            flushed: false,
        }
    }

    /// [`Advance::advance`], inlined into each caller so the cascade compiles for its CPU.
    ///
    /// # Safety
    /// As [`Advance::advance`].
    #[inline(always)]
    unsafe fn run(&mut self, track: &Track<'_, L>, to: usize) -> usize {
        let (d, h, n, len) = (self.cascade.delay(), track.head_len, track.n, track.len());
        // The flush writes the last `d` positions; `check` holds the signals above
        // `padlen`, which exceeds any stage's delay.
        debug_assert!(d <= len, "delay {d}, {len} positions");
        while self.next < to {
            let p = self.next;
            if p >= h + d && p < h + n {
                // Within the signals, output too: the loop nearly every sample takes.
                let end = to.min(h + n);
                let range = p - h..end - h;
                // SAFETY: `range` lies below `n`, and its positions and those `d` behind are
                // this stage's.
                unsafe {
                    if track.body_reversed {
                        self.through(track.body, range, d, |i| n - 1 - i);
                    } else {
                        self.through(track.body, range, d, |i| i);
                    }
                }
                self.next = end;
            } else {
                // SAFETY: `p < to ≤ len`, and `p − d < p`.
                let x = unsafe { track.get(p, self.shifts) };
                if p < d {
                    self.cascade.fill(x);
                } else {
                    let y = self.cascade.step(x);
                    unsafe { track.set(p - d, y) };
                }
                self.next = p + 1;
            }
        }
        if to == len && !self.flushed {
            for p in len..len + d {
                let y = self.cascade.step([0.0; L]);
                // SAFETY: `p − d < len`, behind the last input read.
                unsafe { track.set(p - d, y) };
            }
            self.flushed = true;
        }
        if self.flushed {
            len
        } else {
            self.next.saturating_sub(d)
        }
    }

    /// Samples `range` of the signals `body` through the cascade, each output written `d`
    /// samples behind, sample `i` lying at `index(i)`. The cascade runs as a local, which
    /// the compiler keeps in registers when it is [`InRegisters`]: behind `&mut self` it was
    /// stored and loaded again at every sample (the portable [`Cascade`]'s state stays in
    /// its `Vec`, cloned once a chunk).
    ///
    /// # Safety
    /// `index` maps `range` and the `d` samples before it into the signals, which no other
    /// thread touches there.
    #[inline(always)]
    unsafe fn through(
        &mut self,
        body: [*mut f64; L],
        range: std::ops::Range<usize>,
        d: usize,
        index: impl Fn(usize) -> usize,
    ) {
        let mut cascade = self.cascade.clone();
        for i in range {
            // SAFETY: the caller's promise.
            unsafe {
                let y = cascade.step(read_lanes(body, index(i), self.shifts));
                write_lanes(body, index(i - d), y);
            }
        }
        self.cascade = cascade;
    }
}

impl<const L: usize> Advance<L> for Stage<L, Cascade<'_, L>> {
    unsafe fn advance(&mut self, track: &Track<'_, L>, to: usize) -> usize {
        // SAFETY: the caller's promise.
        unsafe { self.run(track, to) }
    }
}

#[cfg(target_arch = "x86_64")]
impl<const L: usize, const S: usize> Advance<L> for Stage<L, InRegisters<S>> {
    unsafe fn advance(&mut self, track: &Track<'_, L>, to: usize) -> usize {
        // SAFETY: an `InRegisters` exists only where the CPU has AVX2; the rest is the
        // caller's promise.
        unsafe { advance_avx2(self, track, to) }
    }
}

/// [`Stage::run`] compiled for AVX2, where four lanes are one instruction.
///
/// # Safety
/// The CPU supports AVX2, and as [`Advance::advance`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn advance_avx2<const L: usize, const S: usize>(
    stage: &mut Stage<L, InRegisters<S>>,
    track: &Track<'_, L>,
    to: usize,
) -> usize {
    // SAFETY: the caller's promise.
    unsafe { stage.run(track, to) }
}

/// A stage of `sections` from the steady state of `level`, reading the signals less
/// `shifts`: in AVX2 registers when `avx2` says the CPU has it, for up to four signals and
/// twelve sections (the notch's nine harmonics of 50 Hz up to 450 Hz, the band-pass's four,
/// the force's two; twelve bounds the copies of the loop compiled); else the portable
/// cascade, which the tests hold the AVX2 one to. AVX2 without FMA: each multiply and add
/// rounds as in the scalar code, so the output is the same to the bit.
fn stage<'a, const L: usize>(
    sections: &'a [Section],
    zi: &[[f64; 2]],
    level: [f64; L],
    shifts: [f64; L],
    avx2: bool,
) -> Box<dyn Advance<L> + 'a> {
    #[cfg(target_arch = "x86_64")]
    if avx2 && L <= 4 {
        macro_rules! in_registers {
            ($($s:literal)*) => {
                match sections.len() {
                    $($s => {
                        // SAFETY: `avx2` says the CPU has it; `sections` and `zi` hold `$s`.
                        let cascade = unsafe { InRegisters::<$s>::new(sections, zi, level) };
                        return Box::new(Stage::new(cascade, shifts));
                    })*
                    _ => {}
                }
            };
        }
        in_registers!(1 2 3 4 5 6 7 8 9 10 11 12);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = avx2;
    Box::new(Stage::new(Cascade::new(sections, zi, level), shifts))
}

/// One sample of each of `L` interleaved signals into a cascade, and one out.
trait Step<const L: usize> {
    /// Samples between an input and its output: `step(x_t)` returns `y_(t − delay)`.
    fn delay(&self) -> usize;
    /// One of the first `delay` inputs, before any output.
    fn fill(&mut self, x: [f64; L]);
    /// Any later input.
    fn step(&mut self, x: [f64; L]) -> [f64; L];
}

/// The running state of a cascade over `L` interleaved signals: SciPy `sosfilt`'s transposed
/// direct form II, the operations of its `_sosfilt` in their order.
#[derive(Clone)]
struct Cascade<'a, const L: usize> {
    sections: &'a [Section],
    z: Vec<[[f64; L]; 2]>,
}

impl<'a, const L: usize> Cascade<'a, L> {
    /// Starts from the steady state `zi · level` of each signal.
    #[inline(always)]
    fn new(sections: &'a [Section], zi: &[[f64; 2]], level: [f64; L]) -> Self {
        let z = zi
            .iter()
            .map(|z| {
                [
                    std::array::from_fn(|l| z[0] * level[l]),
                    std::array::from_fn(|l| z[1] * level[l]),
                ]
            })
            .collect();
        Cascade { sections, z }
    }
}

impl<const L: usize> Step<L> for Cascade<'_, L> {
    fn delay(&self) -> usize {
        0
    }

    fn fill(&mut self, x: [f64; L]) {
        self.step(x);
    }

    #[inline(always)]
    fn step(&mut self, mut cur: [f64; L]) -> [f64; L] {
        for (s, [z0, z1]) in self.sections.iter().zip(self.z.iter_mut()) {
            for l in 0..L {
                let new = s.b[0] * cur[l] + z0[l];
                z0[l] = s.b[1] * cur[l] - s.a[1] * new + z1[l];
                z1[l] = s.b[2] * cur[l] - s.a[2] * new;
                cur[l] = new;
            }
        }
        cur
    }
}

/// [`Cascade`] for `S` sections and up to four signals, its state in AVX2 registers and
/// its sections a wavefront: section k takes what section k − 1 put out one step before,
/// so the sections of a step do not wait on each other and the outputs lag the inputs by
/// `S − 1` samples. In one step every section waited on the one before (6 cycles each),
/// and a notch of nine sections took 55 cycles a sample on this VM's EPYC. Signals beyond
/// `L` are zeros, which stay zeros. Each section sees its inputs in order and does the same
/// multiplies and adds in the same order, so the outputs are the same bits.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct InRegisters<const S: usize> {
    /// `b0, b1, b2, a1, a2` of each section, in every lane.
    coefficients: [[std::arch::x86_64::__m256d; 5]; S],
    z: [[std::arch::x86_64::__m256d; 2]; S],
    /// What each section put out at the last step.
    out: [std::arch::x86_64::__m256d; S],
    /// Steps [`Step::fill`] has taken: section k has input from step k on.
    filled: usize,
}

#[cfg(target_arch = "x86_64")]
impl<const S: usize> InRegisters<S> {
    /// As [`Cascade::new`].
    ///
    /// # Safety
    /// The CPU supports AVX2; `sections` and `zi` hold `S` sections.
    #[inline(always)]
    unsafe fn new<const L: usize>(sections: &[Section], zi: &[[f64; 2]], level: [f64; L]) -> Self {
        use std::arch::x86_64::*;
        let level = lanes(level);
        InRegisters {
            coefficients: std::array::from_fn(|k| {
                let s = &sections[k];
                [s.b[0], s.b[1], s.b[2], s.a[1], s.a[2]].map(|c| _mm256_set1_pd(c))
            }),
            z: std::array::from_fn(|k| zi[k].map(|z| _mm256_mul_pd(_mm256_set1_pd(z), level))),
            out: [_mm256_setzero_pd(); S],
            filled: 0,
        }
    }

    /// Section `k`'s step on `cur`: SciPy's `_sosfilt` operations in their order.
    #[inline(always)]
    fn section(&mut self, k: usize, cur: std::arch::x86_64::__m256d) {
        use std::arch::x86_64::*;
        let [b0, b1, b2, a1, a2] = self.coefficients[k];
        let [z0, z1] = &mut self.z[k];
        // SAFETY: an `InRegisters` exists only where `new` was told the CPU has AVX2.
        unsafe {
            let new = _mm256_add_pd(_mm256_mul_pd(b0, cur), *z0);
            *z0 = _mm256_add_pd(
                _mm256_sub_pd(_mm256_mul_pd(b1, cur), _mm256_mul_pd(a1, new)),
                *z1,
            );
            *z1 = _mm256_sub_pd(_mm256_mul_pd(b2, cur), _mm256_mul_pd(a2, new));
            self.out[k] = new;
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl<const L: usize, const S: usize> Step<L> for InRegisters<S> {
    fn delay(&self) -> usize {
        S - 1
    }

    fn fill(&mut self, x: [f64; L]) {
        for k in (1..=self.filled).rev() {
            self.section(k, self.out[k - 1]);
        }
        // SAFETY: an `InRegisters` exists only where `new` was told the CPU has AVX2.
        self.section(0, unsafe { lanes(x) });
        self.filled += 1;
    }

    #[inline(always)]
    fn step(&mut self, x: [f64; L]) -> [f64; L] {
        // Last section first, so each reads its predecessor's output of the step before.
        for k in (1..S).rev() {
            self.section(k, self.out[k - 1]);
        }
        let mut y = [0.0; 4];
        // SAFETY: an `InRegisters` exists only where `new` was told the CPU has AVX2.
        unsafe {
            self.section(0, lanes(x));
            std::arch::x86_64::_mm256_storeu_pd(y.as_mut_ptr(), self.out[S - 1]);
        }
        std::array::from_fn(|l| y[l])
    }
}

/// `L ≤ 4` samples in four lanes, zeros after.
///
/// # Safety
/// The CPU supports AVX.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn lanes<const L: usize>(x: [f64; L]) -> std::arch::x86_64::__m256d {
    let [x0, x1, x2, x3]: [f64; 4] = std::array::from_fn(|l| if l < L { x[l] } else { 0.0 });
    std::arch::x86_64::_mm256_set_pd(x3, x2, x1, x0)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::centred as noise;

    /// `count` signals of `n` samples: `noise` on a slow sine, each offset by its index.
    fn sines_in_noise(noise: &mut impl FnMut() -> f64, count: usize, n: usize) -> Vec<Vec<f64>> {
        (0..count)
            .map(|c| {
                (0..n)
                    .map(|i| noise() + c as f64 + (i as f64 * 0.05).sin())
                    .collect()
            })
            .collect()
    }

    /// Notches at 50 Hz and its next thirteen harmonics, at 2 kHz.
    fn harmonic_notches() -> Vec<Section> {
        (1..=14)
            .map(|k| iirnotch(50.0 * k as f64, 30.0, 2000.0).unwrap())
            .collect()
    }

    #[test]
    fn filtering_in_lanes_is_bit_identical_to_one_signal_at_a_time() {
        let sos = Sos {
            sections: butter(4, Band::Bandpass([20.0, 450.0]), 2000.0)
                .unwrap()
                .sections
                .into_iter()
                .chain(iirnotch(50.0, 30.0, 2000.0))
                .collect(),
        };
        let mut noise = noise(7);
        let signals: Vec<Vec<f64>> = (0..4)
            .map(|c| {
                (0..5000)
                    .map(|i| noise() + c as f64 + (i as f64 * 0.01).sin())
                    .collect()
            })
            .collect();
        let shifts = [0.25, -1.0, 3.5, 0.0];
        let one_at_a_time: Vec<Array1<f64>> = signals
            .iter()
            .zip(shifts)
            .map(|(x, m)| {
                sos.filtfilt(Array1::from_iter(x.iter().map(|v| v - m)).view())
                    .unwrap()
            })
            .collect();
        let mut lanes = signals.clone();
        let [a, b, c, d] = lanes.as_mut_slice() else {
            unreachable!()
        };
        sos.filtfilt_in_place([a, b, c, d], shifts).unwrap();
        for (lane, single) in lanes.iter().zip(&one_at_a_time) {
            assert_eq!(lane.as_slice(), single.as_slice().unwrap());
        }

        let mut short = vec![0.0; 4000];
        let mut unchanged = signals[0].clone();
        assert_eq!(
            sos.filtfilt_in_place([&mut unchanged, &mut short], [0.0; 2]),
            Err(FilterError::UnequalLengths {
                first: 5000,
                other: 4000
            })
        );
        assert_eq!(
            unchanged, signals[0],
            "an error leaves the signals as they were"
        );
    }

    #[test]
    fn the_avx2_cascade_is_the_portable_one_to_the_bit() {
        if !cfg!(target_arch = "x86_64") || !std::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 here: nothing to compare");
            return;
        }
        let notches = harmonic_notches();
        let mut noise = noise(11);
        // One to fourteen sections (twelve is the most held in registers), each with the
        // shortest signal allowed and a longer one, one to four signals at once.
        for count in 1..=notches.len() {
            let sos = Sos {
                sections: notches[..count].to_vec(),
            };
            for n in [sos.padlen() + 1, 3000] {
                let signals = sines_in_noise(&mut noise, 4, n);
                let filtered = |lanes: usize, avx2: bool| {
                    let mut out = signals[..lanes].to_vec();
                    match out.as_mut_slice() {
                        [a] => sos.filtfilt_lanes([a], [0.5], avx2),
                        [a, b] => sos.filtfilt_lanes([a, b], [0.5, -1.0], avx2),
                        [a, b, c] => sos.filtfilt_lanes([a, b, c], [0.5, -1.0, 2.0], avx2),
                        [a, b, c, d] => {
                            sos.filtfilt_lanes([a, b, c, d], [0.5, -1.0, 2.0, 0.0], avx2)
                        }
                        _ => unreachable!(),
                    }
                    .unwrap();
                    out
                };
                for lanes in 1..=4 {
                    assert_eq!(
                        filtered(lanes, true),
                        filtered(lanes, false),
                        "{count} sections, {n} samples, {lanes} signals"
                    );
                }
            }
        }
    }

    #[test]
    fn a_cascade_split_over_two_threads_gives_the_bits_of_one_cascade() {
        let notches = harmonic_notches();
        let mut noise = noise(5);
        let pool = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
        };
        let (one, two) = (pool(1), pool(2));
        let avx2 = cfg!(target_arch = "x86_64") && std::is_x86_feature_detected!("avx2");
        for count in SPLIT_MIN_SECTIONS..=notches.len() {
            let sos = Sos {
                sections: notches[..count].to_vec(),
            };
            // The shortest signal allowed, and one whose chunks end inside it and, going
            // forwards, in the odd extension after it.
            let pad = sos.padlen();
            for n in [pad + 1, 3 * CHUNK - pad - pad / 2] {
                let signals = sines_in_noise(&mut noise, 3, n);
                for avx2 in [false, avx2] {
                    // With `hold`, the pool's other thread is kept busy, so the first
                    // stage's thread runs both stages.
                    let filtered = |pool: &rayon::ThreadPool, hold: bool| {
                        let mut out = signals.clone();
                        let [a, b, c] = out.as_mut_slice() else {
                            unreachable!()
                        };
                        let run = || sos.filtfilt_lanes([a, b, c], [0.5, -1.0, 2.0], avx2);
                        if hold {
                            let (release, held) = std::sync::mpsc::channel::<()>();
                            let holding = std::sync::Arc::new(std::sync::Barrier::new(2));
                            let holder = holding.clone();
                            pool.spawn(move || {
                                holder.wait();
                                let _ = held.recv();
                            });
                            holding.wait();
                            pool.install(run).unwrap();
                            release.send(()).unwrap();
                        } else {
                            pool.install(run).unwrap();
                        }
                        out
                    };
                    let whole = filtered(&one, false);
                    let what = format!("{count} sections, {n} samples, AVX2 {avx2}");
                    assert_eq!(filtered(&two, false), whole, "{what}, two threads");
                    assert_eq!(filtered(&two, true), whole, "{what}, one thread busy");
                }
            }
        }
    }

    #[test]
    fn invalid_parameters_are_errors_naming_the_rule() {
        let e = butter(4, Band::Bandpass([20.0, 450.0]), 500.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "upper band edge = 450 Hz must be below the Nyquist frequency fs/2 = 250 Hz (fs = 500 Hz)"
        );
        assert_eq!(
            butter(0, Band::Lowpass(10.0), 100.0).unwrap_err(),
            FilterError::Order { order: 0 }
        );
        assert!(matches!(
            butter(2, Band::Lowpass(f64::NAN), 100.0),
            Err(FilterError::NotPositive { .. })
        ));
        assert!(matches!(
            butter(2, Band::Bandstop([60.0, 40.0]), 1000.0),
            Err(FilterError::BandEdges { .. })
        ));
        assert!(iirnotch(50.0, 0.0, 1000.0).is_err());
        let sos = butter(4, Band::Lowpass(20.0), 1000.0).unwrap();
        let short = Array1::zeros(sos.padlen());
        assert_eq!(
            sos.filtfilt(short.view()).unwrap_err(),
            FilterError::TooShort { n: 15, padlen: 15 }
        );
        let mut bad = Array1::zeros(100);
        bad[7] = f64::NAN;
        assert!(matches!(
            sos.filtfilt(bad.view()),
            Err(FilterError::NonFinite { index: 7, .. })
        ));
    }

    #[test]
    fn odd_orders_have_one_first_order_section() {
        let sos = butter(3, Band::Lowpass(20.0), 1000.0).unwrap();
        assert_eq!(sos.sections.len(), 2);
        assert_eq!(sos.padlen(), 3 * (2 * 2 + 1 - 1));
    }
}
