//! The `palpa` binary: exit codes (0, 1, 2), `config` round trip, `inspect --json` shape.

use crate::common;

use assert_cmd::Command;
use common::{inspect_json, real, small_file};
use palpa::config::Config;
use palpa::ingest::edf::{Continuity, Variant};

fn palpa() -> Command {
    Command::cargo_bin("palpa").unwrap()
}

#[test]
fn printed_config_is_accepted_unchanged() {
    let out = palpa()
        .arg("config")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palpa.toml");
    std::fs::write(&cfg, &text).unwrap();
    assert_eq!(Config::load(&cfg).unwrap(), Config::default());
    let rec = small_file(dir.path(), "r.edf", Variant::Edf, Continuity::Continuous);
    palpa()
        .args(["inspect", "-c"])
        .arg(&cfg)
        .arg(&rec)
        .assert()
        .success();
    for key in ["[emg]", "bandpass_hz = [", "[audit]", "hold_window_s = ["] {
        assert!(text.contains(key), "{key} missing from:\n{text}");
    }
}

#[test]
fn a_config_with_an_unknown_key_exits_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palpa.toml");
    std::fs::write(&cfg, "[audit]\nhold_windw_s = [30.0, 90.0]\n").unwrap();
    let rec = small_file(dir.path(), "r.edf", Variant::Edf, Continuity::Continuous);
    let out = palpa()
        .args(["inspect", "-c"])
        .arg(&cfg)
        .arg(&rec)
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        err.contains("audit.hold_windw_s") && err.contains("palpa.toml"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    palpa().arg("inspect").assert().code(1);
    palpa().arg("no-such-command").assert().code(1);
    palpa().arg("--help").assert().code(0);
}

#[test]
fn inspect_json_has_the_designed_fields() {
    let v = inspect_json(&["--json"], real("edfio/test_subsecond.edf"));
    let file = &v[0];
    assert_eq!(file["start_offset_s"], 0.3945312);
    assert_eq!(file["duration_s"], 698.0);
    let ch = &file["channels"][0];
    assert_eq!(ch["name"], "Fp1");
    assert_eq!(ch["kind"], "other");
    assert_eq!(ch["unit"], "uV");
    assert_eq!(ch["fs_hz"], 128.0);
    assert_eq!(ch["n_samples"], 89344);
    assert_eq!(ch["duration_s"], 698.0);
    assert!(ch["muscle"].is_null() && ch["side"].is_null());
    let a = &file["annotations"][1];
    assert_eq!(a["text"], "Clip Note");
    assert!(a["duration_s"].is_null());
    assert!((a["onset_s"].as_f64().unwrap() - 3.4921875).abs() < 1e-9);
}

#[test]
fn inspect_lists_the_analog_channels_of_a_c3d() {
    let v = inspect_json(&["--json"], real("pyomeca/markers_analogs.c3d"));
    let file = &v[0];
    assert_eq!(
        file["format"],
        "C3D (Intel, float; Vicon Nexus 2.4.0.91647h)"
    );
    let channels = file["channels"].as_array().unwrap();
    assert_eq!(
        channels.len(),
        38,
        "analogs only; the 51 markers are not channels"
    );
    let ch = &channels[6];
    assert_eq!(ch["name"], "Delt_ant.EMG1");
    assert_eq!(ch["kind"], "emg");
    assert_eq!(ch["unit"], "uV");
    assert_eq!(ch["fs_hz"], 2000.0);
    assert_eq!(ch["n_samples"], 11_600);
    assert_eq!(file["duration_s"], 5.8);
}

#[test]
fn a_bad_file_among_good_ones_exits_2_and_the_good_ones_are_shown() {
    let dir = tempfile::tempdir().unwrap();
    let good = small_file(dir.path(), "good.edf", Variant::Edf, Continuity::Continuous);
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "time_s,EMG [uV]\n0,1\n0,2\n").unwrap();
    let assert = palpa().arg("inspect").arg(&bad).arg(&good).assert().code(2);
    let output = assert.get_output();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("good.edf") && stdout.contains("EMG UT L"),
        "{stdout}"
    );
    assert!(
        stderr.contains("bad.csv") && stderr.contains("line 3, column `time_s`"),
        "{stderr}"
    );
}

#[test]
fn inspect_of_a_folder_lists_its_recordings() {
    let dir = tempfile::tempdir().unwrap();
    small_file(dir.path(), "a.edf", Variant::Edf, Continuity::Continuous);
    small_file(dir.path(), "b.bdf", Variant::Bdf, Continuity::Plain);
    let v = inspect_json(&["--json"], dir.path());
    assert_eq!(v.as_array().unwrap().len(), 2);
}

#[test]
fn inspect_qc_reports_quality_per_channel() {
    let v = inspect_json(&["--qc", "--json"], real("pyomeca/analogs.csv"));
    let file = &v[0];
    // A 60 Hz line on two channels (their long-window spectra agree: mains_real.rs).
    let mains_hz = file["mains_hz"].as_f64().unwrap();
    assert!((mains_hz - 60.0).abs() <= 0.5, "{mains_hz}");
    let channel = |name: &str| {
        file["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    // Upper trapezius (EMG6) is clean; the unused slot EMG12 is all zeros.
    assert_eq!(channel("EMG6")["qc"]["qc"], "ok");
    let unused = channel("EMG12");
    assert_eq!(unused["qc"]["qc"], "bad");
    assert_eq!(unused["qc"]["flat_fraction"], 1.0);
}

#[test]
fn simulate_run_evaluate_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("out");
    palpa()
        .args(["simulate", "--seed", "5", "--subjects", "1", "-o"])
        .arg(&data)
        .assert()
        .success();
    // A second simulation into the same folder is refused: nothing is overwritten.
    palpa().args(["simulate", "-o"]).arg(&data).assert().code(1);
    palpa()
        .arg("run")
        .arg(&data)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    for table in ["recordings", "channels", "episodes", "twitches"] {
        assert!(out.join(format!("{table}.parquet")).is_file(), "{table}");
    }
    let text = palpa()
        .arg("evaluate")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("episodes") && text.contains("LTR onset error"),
        "{text}"
    );
    // Output inside the input dataset is refused before any work.
    palpa()
        .arg("run")
        .arg(&data)
        .arg("-o")
        .arg(data.join("derivatives/palpa"))
        .assert()
        .code(1);
    assert!(!data.join("derivatives/palpa").exists());
}

#[test]
fn a_failing_recording_is_a_failed_row_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    palpa()
        .args(["simulate", "--seed", "5", "--subjects", "1", "-o"])
        .arg(&data)
        .assert()
        .success();
    let bad = data.join("sub-01/emg/sub-01_task-palpation_run-2_emg.edf");
    let bytes = std::fs::read(&bad).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.path().join("out");
    palpa()
        .args(["run", "--format", "csv"])
        .arg(&data)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2);
    let recordings = std::fs::read_to_string(out.join("recordings.csv")).unwrap();
    let lines: Vec<&str> = recordings.lines().collect();
    assert_eq!(lines.len(), 3, "{recordings}");
    assert!(lines[1].contains(",ok,"), "{}", lines[1]);
    assert!(
        lines[2].contains(",failed,") && lines[2].contains("run-2_emg.edf"),
        "{}",
        lines[2]
    );
    let episodes = std::fs::read_to_string(out.join("episodes.csv")).unwrap();
    assert!(
        episodes.lines().count() > 5,
        "the good recording is fully processed"
    );
}

#[test]
fn thread_count_does_not_change_the_tables_and_quiet_keeps_stderr_empty() {
    // Parquet and CSV, which polars reads: in this debug build `ingest` asserts that it is
    // never called from a rayon thread, which a recording read inside the batch's pool was.
    // Parquet and EDF are read on as many threads as `-j` gives.
    let dir = tempfile::tempdir().unwrap();
    for format in ["parquet", "csv", "edf"] {
        let data = dir.path().join(format);
        palpa()
            .args([
                "simulate",
                "--seed",
                "6",
                "--subjects",
                "1",
                "--format",
                format,
                "-o",
            ])
            .arg(&data)
            .assert()
            .success();
        let mut outputs = Vec::new();
        for jobs in ["1", "2"] {
            let out = dir.path().join(format!("out-{format}-{jobs}"));
            let assert = palpa()
                .args(["run", "-q", "--no-plots", "--format", "csv", "-j", jobs])
                .arg(&data)
                .arg("-o")
                .arg(&out)
                .assert()
                .success();
            assert!(
                assert.get_output().stderr.is_empty(),
                "-q printed something"
            );
            outputs.push(out);
        }
        for table in palpa::summary::TABLE_NAMES {
            let name = format!("{table}.csv");
            assert_eq!(
                std::fs::read(outputs[0].join(&name)).unwrap(),
                std::fs::read(outputs[1].join(&name)).unwrap(),
                "{format}: {name} depends on -j"
            );
        }
    }
}

/// `-j 1` caps polars' decoding threads too: while a run reads Parquet recordings, the
/// process never has more than one thread of polars' pool (named `polars-0`, `polars-1`, …).
#[cfg(target_os = "linux")]
#[test]
fn one_job_means_one_polars_thread() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    palpa()
        .args([
            "simulate",
            "--seed",
            "3",
            "--subjects",
            "1",
            "--format",
            "parquet",
            "-o",
        ])
        .arg(&data)
        .assert()
        .success();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("palpa"))
        .args(["-q", "run", "--no-plots", "-j", "1"])
        .arg(&data)
        .arg("-o")
        .arg(dir.path().join("out"))
        .spawn()
        .unwrap();
    let tasks = std::path::PathBuf::from(format!("/proc/{}/task", child.id()));
    let mut polars_threads = std::collections::BTreeSet::new();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        for task in std::fs::read_dir(&tasks).into_iter().flatten().flatten() {
            let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            let name = name.trim();
            let index = name.strip_prefix("polars-").unwrap_or_default();
            if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) {
                polars_threads.insert(name.to_string());
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    assert!(status.success(), "palpa run failed: {status}");
    assert!(
        !polars_threads.is_empty(),
        "no polars thread seen: the run ended before one could be observed"
    );
    assert_eq!(
        polars_threads.into_iter().collect::<Vec<_>>(),
        ["polars-0"],
        "-j 1 left polars more threads"
    );
}
