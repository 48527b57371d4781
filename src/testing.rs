//! Helpers shared by the unit tests.

/// Uniform doubles in [0, 1) from Marsaglia's xorshift64 started at `seed` (not 0):
/// reproducible test signals without a crate.
pub(crate) fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// [`uniform`] less its mean: doubles in [−0.5, 0.5).
pub(crate) fn centred(seed: u64) -> impl FnMut() -> f64 {
    let mut u = uniform(seed);
    move || u() - 0.5
}
