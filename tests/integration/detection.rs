//! Detection end to end: the simulator, `palpa run` and `palpa evaluate` together, the bundled
//! demo dataset, and recordings missing a modality.

use std::path::{Path, PathBuf};

use crate::common::run_csv;
use palpa::config::Config;
use palpa::simulate::{write_dataset, RecordingFormat, SimulateOptions};
use polars::prelude::*;

fn simulate(out: &Path, seed: u64, subjects: usize, format: RecordingFormat) {
    let opts = SimulateOptions {
        seed,
        subjects,
        format,
        rest_rms_uv: None,
        ecg: true,
        mains: true,
        duration_s: None,
        emg_channels: 2,
        emg_fs_hz: None,
        ..SimulateOptions::default()
    };
    write_dataset(out, &opts, &Config::default()).unwrap();
}

fn table(out: &Path, name: &str) -> DataFrame {
    CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(out.join(format!("{name}.csv"))))
        .unwrap()
        .finish()
        .unwrap()
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_demo_dataset_is_exactly_what_its_readme_command_makes() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo");
    let readme = std::fs::read_to_string(demo.join("README.md")).unwrap();
    assert!(readme.contains("palpa simulate --seed 2026 --subjects 4"));
    assert!(readme.contains("Synthetic data"));
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("demo");
    simulate(&fresh, 2026, 4, RecordingFormat::Edf);
    let (committed, made) = (files_under(&demo), files_under(&fresh));
    assert_eq!(committed, made);
    for f in &committed {
        let same = std::fs::read(demo.join(f)).unwrap() == std::fs::read(fresh.join(f)).unwrap();
        assert!(
            same,
            "datasets/demo/{} differs from a fresh simulation",
            f.display()
        );
    }
    let bytes: u64 = committed
        .iter()
        .map(|f| std::fs::metadata(demo.join(f)).unwrap().len())
        .sum();
    assert!(bytes <= 12 * 1024 * 1024, "demo is {bytes} bytes");
}

#[test]
fn detection_meets_its_goals_on_a_small_simulated_set() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("out"));
    simulate(&data, 4242, 3, RecordingFormat::Edf);
    let outcome = run_csv(&data, &out);
    assert_eq!((outcome.done, outcome.failed), (6, 0));
    let s = palpa::evaluate::evaluate(&out, &data.join("derivatives/truth")).unwrap();
    assert!(s.episodes.f1.unwrap() >= 0.97, "{s:?}");
    assert!(s.technique_accuracy.unwrap() >= 0.97, "{s:?}");
    assert!(s.ppt_relative_error_median.unwrap() <= 0.03, "{s:?}");
    assert!(s.hold_s_abs_error_median.unwrap() <= 0.3, "{s:?}");
    assert!(s.plateau_relative_error_median.unwrap() <= 0.03, "{s:?}");
    assert!(s.taut_band.f1.unwrap() >= 0.9, "{s:?}");
    assert!(s.withdrawal_accuracy.unwrap() >= 0.95, "{s:?}");
    if s.ltr.truth > 0 {
        assert!(s.ltr.f1.unwrap() >= 0.9, "{s:?}");
        assert!(s.ltr_onset_error_median_ms.unwrap() <= 15.0, "{s:?}");
    }
}

/// Keeps only the CSV columns (and `_channels.tsv` rows) whose name passes `keep`.
fn drop_channels(recording: &Path, keep: impl Fn(&str) -> bool) {
    let text = std::fs::read_to_string(recording).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let kept: Vec<usize> = (0..header.len()).filter(|&i| keep(header[i])).collect();
    let mut out = String::with_capacity(text.len());
    for line in std::iter::once(header.join(",")).chain(lines.map(str::to_string)) {
        let cells: Vec<&str> = line.split(',').collect();
        out += &kept.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",");
        out.push('\n');
    }
    std::fs::write(recording, out).unwrap();
    let tsv = recording
        .to_string_lossy()
        .replace("_emg.csv", "_channels.tsv");
    let rows: Vec<String> = std::fs::read_to_string(&tsv)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || keep(l.split('\t').next().unwrap()))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(&tsv, rows.concat()).unwrap();
}

fn one_csv_recording(dir: &Path) -> PathBuf {
    simulate(dir, 77, 1, RecordingFormat::Csv);
    let recording = dir.join("sub-01/emg/sub-01_task-palpation_run-1_emg.csv");
    std::fs::remove_file(dir.join("sub-01/emg/sub-01_task-palpation_run-2_emg.csv")).unwrap();
    recording
}

#[test]
fn without_force_the_emg_still_gets_qc_and_spectra_and_no_episodes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    drop_channels(&one_csv_recording(&data), |name| name != "Force");
    let out = tmp.path().join("out");
    assert_eq!(run_csv(&data, &out).failed, 0);
    assert_eq!(table(&out, "episodes").height(), 0);
    assert_eq!(table(&out, "twitches").height(), 0);
    let channels = table(&out, "channels");
    assert_eq!(channels.height(), 2);
    let mdf = channels.column("mdf_hz").unwrap().f64().unwrap().clone();
    assert!(
        mdf.iter()
            .all(|v| v.is_some_and(|hz| (30.0..300.0).contains(&hz))),
        "{mdf:?}"
    );
}

#[test]
fn without_emg_the_force_still_gets_episodes_audit_and_force_twitches() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    drop_channels(&one_csv_recording(&data), |name| !name.starts_with("EMG"));
    let out = tmp.path().join("out");
    assert_eq!(run_csv(&data, &out).failed, 0);
    let episodes = table(&out, "episodes");
    assert_eq!(
        episodes.height(),
        11,
        "3 PPT trials, 6 snaps, a strum and a hold"
    );
    let audited = episodes.column("audit").unwrap().null_count();
    assert_eq!(audited, 11 - 4, "the 3 trials and the hold are audited");
    // The site holds a trigger point: four of its LTRs are felt in the force.
    let twitches = table(&out, "twitches");
    assert!(twitches.height() >= 3, "{twitches}");
    let modality = twitches.column("modality").unwrap().str().unwrap().clone();
    assert!(modality.iter().all(|m| m == Some("force")), "{modality:?}");
}

// The palpated muscle's channel failing QC must not let another muscle's
// channel stand in for it under the palpated muscle's name.
#[test]
fn a_palpated_channel_kept_out_by_qc_gives_force_twitches_only_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let opts = SimulateOptions {
        seed: 77,
        subjects: 1,
        format: RecordingFormat::Csv,
        rest_rms_uv: None,
        ecg: true,
        mains: true,
        duration_s: None,
        emg_channels: 3,
        emg_fs_hz: None,
        ..SimulateOptions::default()
    };
    write_dataset(&data, &opts, &Config::default()).unwrap();
    let recording = data.join("sub-01/emg/sub-01_task-palpation_run-1_emg.csv");
    std::fs::remove_file(data.join("sub-01/emg/sub-01_task-palpation_run-2_emg.csv")).unwrap();
    // Left upper trapezius is palpated; its channel is marked bad, the right one removed,
    // so the only usable sEMG is another muscle's (infraspinatus).
    drop_channels(&recording, |name| name != "EMG UT R");
    let tsv = data.join("sub-01/emg/sub-01_task-palpation_run-1_channels.tsv");
    let marked: String = std::fs::read_to_string(&tsv)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| match (i, l.starts_with("EMG UT L\t")) {
            (0, _) => format!("{l}\tstatus\n"),
            (_, true) => format!("{l}\tbad\n"),
            _ => format!("{l}\tgood\n"),
        })
        .collect();
    std::fs::write(&tsv, marked).unwrap();
    let out = tmp.path().join("out");
    assert_eq!(run_csv(&data, &out).failed, 0);
    let twitches = table(&out, "twitches");
    assert!(twitches.height() >= 3, "{twitches}");
    let modality = twitches.column("modality").unwrap().str().unwrap().clone();
    assert!(modality.iter().all(|m| m == Some("force")), "{twitches}");
    let channel = twitches.column("channel").unwrap();
    assert_eq!(channel.null_count(), twitches.height(), "{twitches}");
    let notes = table(&out, "recordings");
    let notes = notes.column("notes").unwrap().str().unwrap().clone();
    assert!(
        notes
            .get(0)
            .is_some_and(|n| n.contains("EMG UT L") && n.contains("not measured")),
        "{notes:?}"
    );
    let muscles = table(&out, "muscles");
    assert_eq!(muscles.height(), 1, "{muscles}");
    assert_eq!(muscles.column("n_emg_twitches").unwrap().null_count(), 1);
}

#[test]
fn the_same_input_gives_byte_identical_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    simulate(&data, 31, 1, RecordingFormat::Edf);
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_csv(&data, &a);
    run_csv(&data, &b);
    for table in ["recordings", "channels", "episodes", "twitches"] {
        let name = format!("{table}.csv");
        let first = std::fs::read(a.join(&name)).unwrap();
        assert!(first.len() > 100, "{name} is nearly empty");
        assert_eq!(first, std::fs::read(b.join(&name)).unwrap(), "{name}");
    }
}
