//! palpa's filters and spectra against SciPy fixtures (tests/reference/make_fixtures.py,
//! numpy 2.4.6 / SciPy 1.17.1). Tolerances (issue [2/7]):
//! - filtered output: max |Δ| ≤ 1e-9 · max|x|;
//! - designed sections: |Δ| ≤ 1e-12 · max(1, |coefficient|);
//! - Welch PSD: every bin within 1e-9 relative;
//! - MNF/MDF: within 1e-6 Hz;
//! - mains line: the same peak bin, its height over its flanks within 1e-9 dB.
//!
//! Each test prints the worst case it saw, as a fraction of its tolerance.

use std::path::{Path, PathBuf};

use ndarray::{Array1, ArrayView1};
use palpa::config::{EmgConfig, QcConfig, SpectrumConfig};
use palpa::signal::filter::{butter, iirnotch, Band, Sos};
use palpa::signal::mains::{scan, MainsSpectrum};
use palpa::signal::spectrum::Welch;
use palpa::signal::{mains_harmonics, EmgFilters};
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/signal")
}

fn cases(kind: &str) -> Vec<Value> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("manifest.json")).unwrap())
            .unwrap();
    let cases: Vec<Value> = manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == kind)
        .cloned()
        .collect();
    assert!(!cases.is_empty(), "no {kind} fixtures");
    cases
}

fn array(case: &Value, key: &str) -> Array1<f64> {
    let bytes = std::fs::read(dir().join(case[key].as_str().unwrap())).unwrap();
    bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// max |a − b| / (tolerance · scale), with the index of the worst sample.
fn worst(a: ArrayView1<f64>, b: ArrayView1<f64>, scale: f64, tolerance: f64) -> (f64, usize) {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / (tolerance * scale))
        .enumerate()
        .fold(
            (0.0, 0),
            |(m, mi), (i, r)| if r > m { (r, i) } else { (m, mi) },
        )
}

fn max_abs(x: ArrayView1<f64>) -> f64 {
    x.iter().fold(0.0, |m, v| m.max(v.abs()))
}

fn sos_matches(ours: &Sos, scipy: &Array1<f64>, name: &str) -> f64 {
    assert_eq!(
        ours.sections.len() * 6,
        scipy.len(),
        "{name}: section count"
    );
    let mut ratio: f64 = 0.0;
    for (s, row) in ours.sections.iter().zip(scipy.exact_chunks(6)) {
        for (ours, theirs) in s.b.iter().chain(&s.a).zip(row) {
            ratio = ratio.max((ours - theirs).abs() / (1e-12 * theirs.abs().max(1.0)));
        }
    }
    assert!(
        ratio <= 1.0,
        "{name}: sections differ from SciPy by {ratio} × tolerance"
    );
    ratio
}

fn filtered_matches(
    ours: ArrayView1<f64>,
    y: ArrayView1<f64>,
    x: ArrayView1<f64>,
    name: &str,
) -> f64 {
    let (ratio, at) = worst(ours, y, max_abs(x), 1e-9);
    assert!(
        ratio <= 1.0,
        "{name}: sample {at}: {} vs SciPy {} ({ratio} × tolerance)",
        ours[at],
        y[at]
    );
    ratio
}

#[test]
fn butterworth_design_and_sosfiltfilt_match_scipy() {
    let (mut worst_sos, mut worst_y) = (0.0f64, 0.0f64);
    let cases = cases("butter");
    assert_eq!(cases.len(), 5 * 3 * 4, "every rate × order × type");
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let fs = case["fs_hz"].as_f64().unwrap();
        let order = case["order"].as_u64().unwrap() as usize;
        let wn = &case["wn_hz"];
        let edges = || [wn[0].as_f64().unwrap(), wn[1].as_f64().unwrap()];
        let band = match case["btype"].as_str().unwrap() {
            "lowpass" => Band::Lowpass(wn.as_f64().unwrap()),
            "highpass" => Band::Highpass(wn.as_f64().unwrap()),
            "bandpass" => Band::Bandpass(edges()),
            _ => Band::Bandstop(edges()),
        };
        let sos = butter(order, band, fs).unwrap();
        assert_eq!(
            sos.padlen() as u64,
            case["padlen"].as_u64().unwrap(),
            "{name}: padlen"
        );
        worst_sos = worst_sos.max(sos_matches(&sos, &array(case, "sos"), name));
        let (x, y) = (array(case, "x"), array(case, "y"));
        let ours = sos.filtfilt(x.view()).unwrap();
        worst_y = worst_y.max(filtered_matches(ours.view(), y.view(), x.view(), name));
    }
    eprintln!(
        "butter: worst section {worst_sos:.3e} × 1e-12; worst output {worst_y:.3e} × 1e-9·max|x|"
    );
}

#[test]
fn notch_cascade_matches_scipy_iirnotch() {
    let (mut worst_sos, mut worst_y) = (0.0f64, 0.0f64);
    for case in &cases("notch") {
        let name = case["name"].as_str().unwrap();
        let fs = case["fs_hz"].as_f64().unwrap();
        let f0 = case["mains_hz"].as_f64().unwrap();
        let sections = (1..)
            .map(|k| k as f64 * f0)
            .take_while(|&f| f <= 450.0 && f < fs / 2.0)
            .map(|f| iirnotch(f, 30.0, fs).unwrap())
            .collect();
        let sos = Sos { sections };
        worst_sos = worst_sos.max(sos_matches(&sos, &array(case, "sos"), name));
        let (x, y) = (array(case, "x"), array(case, "y"));
        worst_y = worst_y.max(filtered_matches(
            sos.filtfilt(x.view()).unwrap().view(),
            y.view(),
            x.view(),
            name,
        ));
    }
    eprintln!(
        "notch: worst section {worst_sos:.3e} × 1e-12; worst output {worst_y:.3e} × 1e-9·max|x|"
    );
}

#[test]
fn emg_chain_over_60_s_matches_scipy() {
    let case = &cases("emg_chain")[0];
    let x = array(case, "x");
    let cfg = EmgConfig::default();
    let plain = EmgFilters::design(2048.0, &cfg, &[]).unwrap();
    let plain = plain.condition(x.view()).unwrap();
    let r1 = filtered_matches(
        plain.filtered.view(),
        array(case, "y_bandpass").view(),
        x.view(),
        "band-pass",
    );
    let lines = mains_harmonics(50.0, cfg.notch_max_hz);
    let filters = EmgFilters::design(2048.0, &cfg, &lines).unwrap();
    let notched = filters.condition(x.view()).unwrap();
    assert!(notched.notched);
    let r2 = filtered_matches(
        notched.filtered.view(),
        array(case, "y").view(),
        x.view(),
        "band-pass + notch",
    );
    eprintln!("emg chain 60 s: band-pass {r1:.3e}, with notch {r2:.3e} × 1e-9·max|x|");
}

#[test]
fn welch_psd_mnf_and_mdf_match_scipy() {
    let (mut worst_psd, mut worst_freq) = (0.0f64, 0.0f64);
    let mut segment_counts = std::collections::BTreeSet::new();
    for case in &cases("welch") {
        let name = case["name"].as_str().unwrap();
        let fs = case["fs_hz"].as_f64().unwrap();
        let x = array(case, "x");
        let welch = Welch::plan(fs, &SpectrumConfig::default()).unwrap();
        // A signal shorter than a segment is one segment of its own length.
        assert_eq!(
            welch.nperseg().min(x.len()) as u64,
            case["nperseg"].as_u64().unwrap(),
            "{name}: nperseg"
        );
        let psd = welch.psd(x.view()).unwrap();
        assert_eq!(
            psd.segments as u64,
            case["segments"].as_u64().unwrap(),
            "{name}: segments"
        );
        segment_counts.insert(psd.segments);
        assert!(
            (psd.df_hz - case["df_hz"].as_f64().unwrap()).abs() < 1e-12,
            "{name}: df"
        );
        let reference = array(case, "psd");
        assert_eq!(psd.density.len(), reference.len(), "{name}: bins");
        for (k, (ours, theirs)) in psd.density.iter().zip(&reference).enumerate() {
            let rel = (ours - theirs).abs() / (1e-9 * theirs.abs());
            assert!(
                rel <= 1.0,
                "{name}: bin {k}: {ours} vs SciPy {theirs} ({rel} × 1e-9 relative)"
            );
            worst_psd = worst_psd.max(rel);
        }
        if case.get("mnf_hz").is_some() {
            for (ours, key) in [
                (psd.mnf_hz([20.0, 450.0]), "mnf_hz"),
                (psd.mdf_hz([20.0, 450.0]), "mdf_hz"),
            ] {
                let d = (ours.unwrap() - case[key].as_f64().unwrap()).abs();
                assert!(d <= 1e-6, "{name}: {key} differs by {d} Hz");
                worst_freq = worst_freq.max(d);
            }
        }
    }
    assert!(segment_counts.iter().any(|s| s % 2 == 0) && segment_counts.iter().any(|s| s % 2 == 1));
    eprintln!("welch: worst bin {worst_psd:.3e} × 1e-9 rel; MNF/MDF worst {worst_freq:.3e} Hz");
}

#[test]
fn mains_line_search_matches_numpy_on_scipy_welch() {
    let cfg = QcConfig::default();
    let mut worst_db = 0.0f64;
    for case in &cases("mains") {
        let name = case["name"].as_str().unwrap();
        let fs = case["fs_hz"].as_f64().unwrap();
        let x = array(case, "x");
        let psd = MainsSpectrum::plan(fs, &cfg)
            .unwrap()
            .psd(x.view(), &cfg)
            .unwrap();
        let reference = array(case, "psd");
        assert_eq!(psd.density.len(), reference.len(), "{name}: bins");
        for (k, (ours, theirs)) in psd.density.iter().zip(&reference).enumerate() {
            let rel = (ours - theirs).abs() / (1e-9 * theirs.abs());
            assert!(rel <= 1.0, "{name}: bin {k}: {ours} vs SciPy {theirs}");
        }
        for f0 in [50.0, 60.0] {
            let line = &case["lines"][format!("{f0:.1}")];
            let (at, db) = (line[0].as_f64().unwrap(), line[1].as_f64().unwrap());
            let ours = scan(&psd, &[f0], f0, &cfg).unwrap();
            assert_eq!(ours.fundamental_hz, at, "{name}: peak near {f0} Hz");
            let d = (ours.snr_db - db).abs();
            assert!(d <= 1e-9, "{name}: {f0} Hz line {} vs {db} dB", ours.snr_db);
            worst_db = worst_db.max(d);
            assert_eq!(
                ours.is_line(),
                db >= cfg.mains_line_min_db,
                "{name}: {f0} Hz"
            );
        }
    }
    eprintln!("mains lines: worst {worst_db:.3e} dB");
}
