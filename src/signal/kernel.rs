//! The inner loop of zero-phase filtering (DESIGN §3.2): one sample of up to `L` interleaved
//! signals through a cascade of second-order sections, in SciPy `sosfilt`'s transposed direct
//! form II, the operations of its `_sosfilt` in their order.
//!
//! Two implementations of [`Step`] hold a cascade's running state: [`Cascade`], portable, for
//! any number of signals and sections; and, on x86-64 CPUs with AVX2, `InRegisters`, which
//! keeps the state of up to four signals and twelve sections in vector registers. Both round
//! every multiply and add as the scalar code does (AVX2 without FMA), so they give the same
//! bits, and the tests of [`super::filter`] hold the one to the other. Filtering code hands its
//! loop to [`run`] as an [`OverCascade`], and `run` picks the cascade.
//!
//! This is the only file of palpa's signal code with `unsafe`: the AVX2 intrinsics, and the
//! call of the loop compiled for AVX2, each made only where the CPU has been found to have it.

/// One second-order section, `b0 + b1 z⁻¹ + b2 z⁻²` over `1 + a1 z⁻¹ + a2 z⁻²` (SciPy's sos
/// row `[b0, b1, b2, 1, a1, a2]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Section {
    /// Numerator.
    pub b: [f64; 3],
    /// Denominator, `a[0] = 1`.
    pub a: [f64; 3],
}

/// One sample of each of `L` interleaved signals into a cascade, and one out.
pub(super) trait Step<const L: usize> {
    /// Samples between an input and its output: `step(x_t)` returns `y_(t − delay)`.
    fn delay(&self) -> usize;
    /// One of the first `delay` inputs, before any output.
    fn fill(&mut self, x: [f64; L]);
    /// Any later input.
    fn step(&mut self, x: [f64; L]) -> [f64; L];
}

/// A loop over a cascade, whichever [`Step`] runs it: `over(start)` is handed `start(level)`,
/// which makes the cascade in the steady state of `level` (one value per signal).
pub(super) trait OverCascade<const L: usize> {
    /// What the loop gives back.
    type Output;
    /// Runs the loop with cascades made by `start`.
    fn over<S: Step<L>>(self, start: impl Fn([f64; L]) -> S) -> Self::Output;
}

/// Runs `work` over the cascade of `sections` with steady-state section states `zi` (per unit
/// step, [`super::filter::Sos::zi`]): in AVX2 registers when `simd` allows it, the CPU has
/// AVX2, and there are at most four signals and from one to twelve sections (the notch's nine
/// harmonics of 50 Hz up to 450 Hz, the band-pass's four, the force's two; twelve bounds the
/// copies of the loop compiled); else in the portable [`Cascade`]. The bits are the same.
pub(super) fn run<const L: usize, W: OverCascade<L>>(
    sections: &[Section],
    zi: &[[f64; 2]],
    simd: bool,
    work: W,
) -> W::Output {
    debug_assert_eq!(sections.len(), zi.len(), "a steady state per section");
    #[cfg(target_arch = "x86_64")]
    if simd
        && L <= 4
        && (1..=MAX_IN_REGISTERS).contains(&sections.len())
        && std::is_x86_feature_detected!("avx2")
    {
        // SAFETY: the CPU has AVX2, as just detected; there are at most four signals and
        // from one to `MAX_IN_REGISTERS` sections, with a steady state each.
        return unsafe { run_avx2(sections, zi, work) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = simd;
    work.over(|level| Cascade::new(sections, zi, level))
}

/// The most sections [`run`] holds in registers.
#[cfg(target_arch = "x86_64")]
const MAX_IN_REGISTERS: usize = 12;

/// [`run`]'s loop compiled for AVX2, where four lanes are one instruction, over an
/// `InRegisters` of as many sections as there are.
///
/// # Safety
/// The CPU supports AVX2; `L ≤ 4`; `sections` holds 1 to [`MAX_IN_REGISTERS`] sections and
/// `zi` as many states.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<const L: usize, W: OverCascade<L>>(
    sections: &[Section],
    zi: &[[f64; 2]],
    work: W,
) -> W::Output {
    macro_rules! in_registers {
        ($($s:literal)*) => {
            match sections.len() {
                $($s => work.over(|level| {
                    // SAFETY: the caller's promise: AVX2, and `$s` sections and states.
                    unsafe { InRegisters::<$s>::new(sections, zi, level) }
                }),)*
                n => unreachable!("{n} sections: `run` holds 1 to {MAX_IN_REGISTERS} in registers"),
            }
        };
    }
    in_registers!(1 2 3 4 5 6 7 8 9 10 11 12)
}

/// The running state of a cascade over `L` interleaved signals: SciPy `sosfilt`'s transposed
/// direct form II, the operations of its `_sosfilt` in their order.
pub(super) struct Cascade<'a, const L: usize> {
    sections: &'a [Section],
    z: Vec<[[f64; L]; 2]>,
}

impl<'a, const L: usize> Cascade<'a, L> {
    /// Starts from the steady state `zi · level` of each signal.
    #[inline(always)]
    pub(super) fn new(sections: &'a [Section], zi: &[[f64; 2]], level: [f64; L]) -> Self {
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
/// `S − 1` samples. In one step every section would wait on the one before, each a chain of
/// a multiply and three adds, and the core would idle through most of a long cascade.
/// Signals beyond `L` are zeros, which stay zeros. Each section sees its inputs in order and
/// does the same multiplies and adds in the same order, so the outputs are the same bits.
#[cfg(target_arch = "x86_64")]
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
    /// The CPU supports AVX2; `L ≤ 4`; `sections` and `zi` hold `S` sections.
    #[inline(always)]
    unsafe fn new<const L: usize>(sections: &[Section], zi: &[[f64; 2]], level: [f64; L]) -> Self {
        use std::arch::x86_64::*;
        // SAFETY: the caller's promise of AVX2, which includes the AVX these need.
        unsafe {
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
    }

    /// Section `k`'s step on `cur`: SciPy's `_sosfilt` operations in their order.
    #[inline(always)]
    fn section(&mut self, k: usize, cur: std::arch::x86_64::__m256d) {
        use std::arch::x86_64::*;
        let [b0, b1, b2, a1, a2] = self.coefficients[k];
        let [z0, z1] = &mut self.z[k];
        // SAFETY: an `InRegisters` is made only by `new`, whose caller promises AVX2.
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
        // SAFETY: an `InRegisters` is made only by `new`, whose caller promises AVX2.
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
        // SAFETY: an `InRegisters` is made only by `new`, whose caller promises AVX2; `y`
        // holds the four values the store writes.
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
    // SAFETY: the caller's promise.
    unsafe { std::arch::x86_64::_mm256_set_pd(x3, x2, x1, x0) }
}
