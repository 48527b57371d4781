//! Properties of zero-phase filtering that hold for any input (issue [2/7] item 7):
//! linearity, zero phase, preserved length, DC removed by the band-pass, finite in → finite out.

use ndarray::Array1;
use palpa::signal::filter::{butter, Band, Sos};
use proptest::prelude::*;

fn bandpass(fs: f64) -> Sos {
    butter(4, Band::Bandpass([20.0, 450.0]), fs).unwrap()
}

fn signal(min_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1e4f64..1e4, min_len..min_len + 3000)
}

fn max_abs(x: &Array1<f64>) -> f64 {
    x.iter().fold(0.0, |m, v| m.max(v.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn linear(x in signal(200), a in -5.0f64..5.0, b in -5.0f64..5.0, fs in prop::sample::select(vec![1000.0, 2000.0, 2048.0])) {
        let sos = bandpass(fs);
        let n = x.len();
        let x = Array1::from(x);
        let y = Array1::from_shape_fn(n, |i| ((i * 7919) % 1000) as f64 - 500.0);
        let combined = sos.filtfilt((&x * a + &y * b).view()).unwrap();
        let separate = sos.filtfilt(x.view()).unwrap() * a + sos.filtfilt(y.view()).unwrap() * b;
        let scale = max_abs(&x) * a.abs() + max_abs(&y) * b.abs() + 1.0;
        prop_assert!((&combined - &separate).iter().all(|d| d.abs() <= 1e-9 * scale));
    }

    #[test]
    fn zero_phase_keeps_a_symmetric_pulse_symmetric(seconds in 1.0f64..2.0, width in 1usize..40, fs in prop::sample::select(vec![1000.0, 2000.0, 4000.0])) {
        // Odd length with the pulse centred 1–2 s from each end: the output must mirror about
        // the centre. (Within the filter's memory of the ends it need not: sosfiltfilt starts
        // its passes from zi·x[0] and zi·y[end], as SciPy does, so the two ends differ.)
        let half = (seconds * fs) as usize;
        let n = 2 * half + 1;
        let x = Array1::from_shape_fn(n, |i| if i.abs_diff(half) <= width { 1.0 } else { 0.0 });
        for sos in [bandpass(fs), butter(4, Band::Lowpass(20.0), fs).unwrap()] {
            let y = sos.filtfilt(x.view()).unwrap();
            let scale = max_abs(&y) + 1e-300;
            for i in half / 2..half {
                prop_assert!((y[i] - y[n - 1 - i]).abs() <= 1e-9 * scale, "i={} {} vs {}", i, y[i], y[n - 1 - i]);
            }
        }
    }

    #[test]
    fn length_is_preserved_and_finite_stays_finite(x in signal(28), order in 1usize..=8) {
        let x = Array1::from(x);
        for band in [Band::Lowpass(20.0), Band::Highpass(20.0), Band::Bandpass([20.0, 450.0]), Band::Bandstop([45.0, 55.0])] {
            let sos = butter(order, band, 2000.0).unwrap();
            match sos.filtfilt(x.view()) {
                Ok(y) => {
                    prop_assert_eq!(y.len(), x.len());
                    prop_assert!(y.iter().all(|v| v.is_finite()));
                }
                Err(e) => prop_assert!(x.len() <= sos.padlen(), "{}", e),
            }
        }
    }

    #[test]
    fn band_pass_removes_dc(offset in -1e5f64..1e5, x in signal(4000)) {
        // A constant offset on top of a signal changes the band-passed output by < 1e-6 of it.
        let sos = bandpass(2000.0);
        let x = Array1::from(x);
        let shifted = sos.filtfilt((&x + offset).view()).unwrap();
        let plain = sos.filtfilt(x.view()).unwrap();
        let n = x.len();
        // Away from the ends, where the odd extension already makes a step invisible.
        let middle = n / 4..3 * n / 4;
        prop_assert!(middle.clone().all(|i| (shifted[i] - plain[i]).abs() <= 1e-6 * offset.abs().max(1.0)));
        // And a pure constant becomes (almost) nothing.
        let constant = sos.filtfilt(Array1::from_elem(n, offset).view()).unwrap();
        prop_assert!(max_abs(&constant) <= 1e-9 * offset.abs().max(1.0));
    }
}

/// Extreme but valid corners, every order and type: a design is returned or refused with an
/// error, never a panic, and any design returned is stable (poles inside the unit circle,
/// which for a section means |a2| < 1 and |a1| < 1 + a2).
#[test]
fn extreme_corners_never_panic_and_designs_are_stable() {
    let fs = 2000.0;
    let corners = [
        1e-300,
        1e-12,
        1e-6,
        1e-3,
        0.5,
        20.0,
        450.0,
        999.0,
        999.999_999,
        1000.0 - 1e-9,
    ];
    for order in 1..=8 {
        for &lo in &corners {
            for &hi in &corners {
                let bands = [
                    Band::Lowpass(lo),
                    Band::Highpass(lo),
                    Band::Bandpass([lo, hi]),
                    Band::Bandstop([lo, hi]),
                ];
                for band in bands {
                    let result = std::panic::catch_unwind(|| butter(order, band, fs));
                    let Ok(design) = result else {
                        panic!("butter({order}, {band:?}) panicked")
                    };
                    if let Ok(sos) = design {
                        for s in &sos.sections {
                            let [_, a1, a2] = s.a;
                            assert!(
                                a2.abs() < 1.0 && a1.abs() < 1.0 + a2,
                                "unstable section {s:?} from butter({order}, {band:?})"
                            );
                            assert!(s.b.iter().chain(&s.a).all(|c| c.is_finite()), "{s:?}");
                        }
                    }
                }
            }
        }
    }
}
