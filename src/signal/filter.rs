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
//!
//! Design and application are apart: [`butter`] and [`iirnotch`] make a [`Sos`] once per rate,
//! and [`Sos::filtfilt_in_place`] applies it to up to four signals of one length at a time,
//! interleaved sample by sample through one cascade and written over them. The cascade's inner
//! loop, portable and AVX2, lives in `kernel.rs`.

use std::f64::consts::PI;

use ndarray::{Array1, ArrayView1};
use realfft::num_complex::Complex64 as C;

pub use super::kernel::Section;
use super::kernel::{self, OverCascade, Step};

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
        let mut y = x.to_vec();
        self.filtfilt_in_place([&mut y], [0.0])?;
        Ok(Array1::from(y))
    }

    /// [`Sos::filtfilt`] of `x − shift` for each of `L` signals of one length, written over
    /// them. The signals run interleaved, sample by sample: one signal's cascade is a chain of
    /// dependent multiply-adds that keeps the core waiting, and `L` independent chains fill
    /// that time (up to four share one AVX2 register, `kernel.rs`). Each signal gets
    /// exactly the operations of SciPy's one-signal filter, in its order, so the output is
    /// the same to the bit. Only the odd extensions at the ends (`padlen` samples each) are
    /// kept aside, so filtering needs no second copy of a signal.
    ///
    /// # Errors
    /// As [`Sos::filtfilt`], for the first offending signal, or signals of unequal length;
    /// then no signal has been changed.
    pub fn filtfilt_in_place<const L: usize>(
        &self,
        xs: [&mut [f64]; L],
        shifts: [f64; L],
    ) -> Result<(), FilterError> {
        self.filtfilt_lanes(xs, shifts, true)
    }

    /// [`Sos::filtfilt_in_place`], on AVX2 only if `avx2` allows it (and the CPU has it);
    /// without, the portable cascade, which the tests hold the AVX2 one to.
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
        let (front, back) = {
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
        let passes = Passes {
            xs,
            shifts,
            front,
            back,
        };
        kernel::run(&self.sections, &self.zi(), avx2, passes);
        Ok(())
    }
}

/// The forward and backward passes of [`Sos::filtfilt_in_place`] over the odd extensions
/// `front` and `back` (`padlen` positions each, already less `shifts`) and the signals `xs`
/// between them, which the forward pass reads less `shifts`.
struct Passes<'a, const L: usize> {
    xs: [&'a mut [f64]; L],
    shifts: [f64; L],
    front: Vec<[f64; L]>,
    back: Vec<[f64; L]>,
}

impl<const L: usize> OverCascade<L> for Passes<'_, L> {
    type Output = ();

    /// Forwards over front, signals and back, then backwards over back and signals, each
    /// from the steady state of its first input. A cascade whose outputs lag its inputs by
    /// `d` samples is pushed on with zeros at the end of each pass. The outputs a pass leaves
    /// unused are not written: the front's, and on the way back the back's, which SciPy drops
    /// (the front's follow the signals', so they cannot change them). (Section after section
    /// over blocks of samples gives the same bits, but each section's recurrence then waits
    /// on itself.)
    #[inline(always)]
    fn over<S: Step<L>>(self, start: impl Fn([f64; L]) -> S) {
        let Passes {
            xs,
            shifts,
            front,
            mut back,
        } = self;
        let pad = back.len();
        let Some(&first) = front.first() else {
            return;
        };
        // Every signal re-sliced to `n`, so the loops below index within it.
        let n = xs.first().map_or(0, |x| x.len());
        let mut xs = xs.map(|x| &mut x[..n]);
        let get =
            |xs: &[&mut [f64]; L], i: usize| -> [f64; L] { std::array::from_fn(|l| xs[l][i]) };
        let put = |xs: &mut [&mut [f64]; L], i: usize, y: [f64; L]| {
            for (x, y) in xs.iter_mut().zip(y) {
                x[i] = y;
            }
        };

        // Forwards. The output of signal sample i comes out at input i + d, and
        // d < padlen < n: `check` holds n above `padlen`, which is at least 3·(sections + 1).
        let mut cascade = start(first);
        let d = cascade.delay();
        debug_assert!(d < pad && pad < n, "delay {d}, padlen {pad}, {n} samples");
        for (j, &v) in front.iter().enumerate() {
            if j < d {
                cascade.fill(v);
            } else {
                cascade.step(v);
            }
        }
        let less_shifts = |x: [f64; L]| -> [f64; L] { std::array::from_fn(|l| x[l] - shifts[l]) };
        for i in 0..d {
            cascade.step(less_shifts(get(&xs, i)));
        }
        for i in d..n {
            let y = cascade.step(less_shifts(get(&xs, i)));
            put(&mut xs, i - d, y);
        }
        for (j, &v) in back[..d].iter().enumerate() {
            let y = cascade.step(v);
            put(&mut xs, n - d + j, y);
        }
        for j in d..pad {
            back[j - d] = cascade.step(back[j]);
        }
        for v in &mut back[pad - d..] {
            *v = cascade.step([0.0; L]);
        }

        // Backwards, from the steady state of the last output.
        let mut cascade = start(back[pad - 1]);
        for (j, &v) in back.iter().rev().enumerate() {
            if j < d {
                cascade.fill(v);
            } else {
                cascade.step(v);
            }
        }
        for i in (n - d..n).rev() {
            cascade.step(get(&xs, i));
        }
        for i in (0..n - d).rev() {
            let y = cascade.step(get(&xs, i));
            put(&mut xs, i + d, y);
        }
        for i in (0..d).rev() {
            let y = cascade.step([0.0; L]);
            put(&mut xs, i, y);
        }
    }
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
