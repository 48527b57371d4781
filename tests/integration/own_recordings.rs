//! A lab's own folder, as a newcomer meets palpa: nothing readable, nothing analysable,
//! recordings without force, a file instead of a folder, pipes, names that sanitise alike,
//! headers that misstate their range.

use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use serde_json::json;

use crate::common::{inspect_json, novainstrumentation_emg_uv, real};

fn palpa() -> Command {
    Command::cargo_bin("palpa").unwrap()
}

/// A 1000 Hz CSV of the real novainstrumentation sEMG alone (no force channel).
fn write_emg_only(path: &Path) {
    let mut text = String::from("time_s,EMG UT L [uV]\n");
    for (i, v) in novainstrumentation_emg_uv().iter().enumerate() {
        text.push_str(&format!("{},{v}\n", i as f64 / 1000.0));
    }
    std::fs::write(path, text).unwrap();
}

/// A temporary folder holding an empty dataset folder `ds`.
fn empty_dataset() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    std::fs::create_dir(&ds).unwrap();
    (dir, ds)
}

/// `palpa run DATASET FLAGS… -o OUT`.
fn run(dataset: &Path, flags: &[&str], out: &Path) -> Command {
    let mut cmd = palpa();
    cmd.arg("run").arg(dataset).args(flags).arg("-o").arg(out);
    cmd
}

fn stderr_of(cmd: &mut Command, code: i32) -> String {
    let out = cmd.assert().code(code).get_output().clone();
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn a_folder_with_nothing_palpa_reads_exits_2_and_says_what_it_holds() {
    let (dir, ds) = empty_dataset();
    let err = stderr_of(&mut run(&ds, &[], &dir.path().join("o")), 2);
    assert!(
        err.contains("no recordings in") && err.contains("no files"),
        "{err}"
    );
    for (name, n) in [("a.txt", 3), ("b.mat", 1)] {
        for i in 0..n {
            std::fs::write(ds.join(format!("{i}{name}")), "not a recording").unwrap();
        }
    }
    let err = stderr_of(&mut run(&ds, &[], &dir.path().join("o")), 2);
    assert!(err.contains("1 .mat file and 3 .txt files"), "{err}");
    assert!(err.contains("palpa reads"), "{err}");
    let err = stderr_of(palpa().arg("inspect").arg(&ds), 2);
    assert!(err.contains("no recordings in"), "{err}");
}

#[test]
fn a_recording_with_neither_emg_nor_force_is_skipped_with_its_reason() {
    let (dir, ds) = empty_dataset();
    std::fs::copy(real("biosignalsnotebooks/S001R02.edf"), ds.join("eeg.edf")).unwrap();
    let out = dir.path().join("o");
    let err = stderr_of(&mut run(&ds, &["--no-plots", "--format", "csv"], &out), 2);
    assert!(
        err.contains("eeg.edf: skipped: no sEMG or force channel"),
        "{err}"
    );
    assert!(
        err.contains("0 recordings analysed, 1 skipped, 0 failed") && err.contains("report.html"),
        "{err}"
    );
    let table = std::fs::read_to_string(out.join("recordings.csv")).unwrap();
    assert!(table.contains(",skipped,"), "{table}");
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("— skipped"), "the report names the skip");
}

#[test]
fn without_force_episodes_ltrs_and_audit_are_not_measurable_not_zero() {
    let (dir, ds) = empty_dataset();
    write_emg_only(&ds.join("emg_only.csv"));
    let out = dir.path().join("o");
    run(&ds, &["--no-plots", "--format", "csv", "-q"], &out)
        .assert()
        .success();
    let table = std::fs::read_to_string(out.join("recordings.csv")).unwrap();
    let header: Vec<&str> = table.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = table.lines().nth(1).unwrap().split(',').collect();
    let cell = |name: &str| row[header.iter().position(|c| *c == name).unwrap()];
    assert_eq!(
        (cell("n_episodes"), cell("n_twitches")),
        ("", ""),
        "{table}"
    );
    assert_eq!(cell("status"), "ok");
    assert!(table.contains("no usable force channel"), "{table}");
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("not measurable (no recording has a usable force channel)"));
}

#[test]
fn a_file_given_to_run_is_a_dataset_of_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("in")).unwrap();
    let file = dir.path().join("in/emg_only.csv");
    write_emg_only(&file);
    let out = dir.path().join("o");
    run(&file, &["--no-plots", "-q"], &out).assert().success();
    assert!(out.join("recordings.parquet").is_file());
    let err = stderr_of(
        palpa()
            .arg("run")
            .arg(dir.path().join("missing"))
            .arg("-o")
            .arg(&out),
        1,
    );
    assert!(err.contains("cannot read this folder"), "{err}");
}

#[test]
fn a_closed_pipe_ends_palpa_quietly() {
    let bin = assert_cmd::cargo::cargo_bin("palpa");
    let mut child = std::process::Command::new(bin)
        .args(["inspect", "--qc"])
        .arg(real("edfio/mne_test.edf"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn inspect_skips_sidecars_and_labels_failures_as_run_does() {
    let dir = tempfile::tempdir().unwrap();
    write_emg_only(&dir.path().join("r.csv"));
    std::fs::write(dir.path().join("r.json"), r#"{"Therapist": "T1"}"#).unwrap();
    std::fs::write(dir.path().join("r_channels.tsv"), "name\ttype\tunits\n").unwrap();
    std::fs::write(dir.path().join("bad.csv"), "time_s,EMG [uV]\n0,x\n").unwrap();
    let files = ["r.csv", "r.json", "r_channels.tsv", "bad.csv"].map(|f| dir.path().join(f));
    let out = palpa()
        .arg("inspect")
        .args(&files)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stdout.matches("(CSV (").count(), 1, "{stdout}");
    assert!(
        stderr.contains("ERROR") && stderr.contains("bad.csv"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("r.json") && !stderr.contains("WARN"),
        "{stderr}"
    );
}

#[test]
fn ids_that_sanitise_alike_get_their_own_figures() {
    let (dir, ds) = empty_dataset();
    let names = ["Müller", "Möller", "subj 1", "subj_1"];
    for n in names {
        write_emg_only(&ds.join(format!("{n}.csv")));
    }
    let out = dir.path().join("o");
    run(&ds, &["-q"], &out).assert().success();
    let overviews: Vec<String> = std::fs::read_dir(out.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("overview.svg").is_file())
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(overviews.len(), names.len(), "{overviews:?}");
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    for n in names {
        assert!(report.contains(n), "{n} missing from the report");
    }
}

#[test]
fn samples_beyond_the_header_range_are_not_called_clipped() {
    let out = palpa()
        .args(["inspect", "--qc"])
        .arg(real("edfio/mne_test.edf"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("clipped"), "{text}");
    assert!(text.contains("outside the range the file's header declares"));
}

/// A dataset whose lab states once what it knows: a load cell stored in V, the mains, the
/// probe area, the therapist, in `palpa.toml`; one recording's sidecar overrides the area.
fn dataset_with_settings(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    let emg = novainstrumentation_emg_uv();
    for name in ["a", "b"] {
        let mut text = String::from("time_s,EMG UT L [uV],Load\n");
        for (i, v) in emg.iter().enumerate() {
            // 0.1 V at rest, 0.5 V pressed between 1 and 3 s.
            let level = if (1000..3000).contains(&i) { 0.5 } else { 0.1 };
            let volts = level + 1e-3 * ((i * 7919) % 13) as f64 / 13.0;
            text.push_str(&format!("{},{v},{volts}\n", i as f64 / 1000.0));
        }
        std::fs::write(root.join(format!("{name}.csv")), text).unwrap();
    }
    std::fs::write(root.join("b.json"), r#"{"ProbeAreaCm2": 2.0}"#).unwrap();
    std::fs::write(
        root.join("palpa.toml"),
        r#"[dataset]
power_line_hz = 50
probe_area_cm2 = 1.5
therapist = "T7"
palpated_muscle = "upper trapezius"
palpated_side = "right"

[[channels]]
name = "Load"
kind = "force"
unit = "N"
scale = 100.0
offset = -10.0
"#,
    )
    .unwrap();
}

#[test]
fn palpa_toml_states_the_dataset_once_and_sidecars_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    dataset_with_settings(&ds);
    let json = inspect_json(&["--json"], ds.join("a.csv"));
    let load = &json[0]["channels"][1];
    assert_eq!(
        (load["kind"].as_str(), load["unit"].as_str()),
        (Some("force"), Some("N"))
    );
    let out = dir.path().join("o");
    run(&ds, &["--no-plots", "--format", "csv", "-q"], &out)
        .assert()
        .success();
    let run_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let settings = run_json["settings"].as_array().unwrap();
    let (a, b) = (&settings[0], &settings[1]);
    assert_eq!(a["probe_area_cm2"], 1.5);
    assert_eq!(a["from"]["probe_area_cm2"], "dataset file");
    assert_eq!(b["probe_area_cm2"], 2.0);
    assert_eq!(b["from"]["probe_area_cm2"], "sidecar");
    assert_eq!(
        (a["power_line_hz"].as_f64(), a["therapist"].as_str()),
        (Some(50.0), Some("T7"))
    );
    // The label says left; the lab's statement of the palpated side is what counts.
    assert_eq!(
        (&a["palpated_muscle"], &a["palpated_side"]),
        (&json!("upper trapezius"), &json!("right"))
    );
    assert_eq!(a["from"]["palpated_side"], "dataset file");
    // 0.5 V × 100 N/V − 10 N = 40 N held: the calibration reached the episodes. The peak
    // is read after the order-4 Butterworth low-pass, whose step overshoots by up to 10.8%.
    let episodes = std::fs::read_to_string(out.join("episodes.csv")).unwrap();
    let header: Vec<&str> = episodes.lines().next().unwrap().split(',').collect();
    let peak = header.iter().position(|c| *c == "peak_n").unwrap();
    let rows: Vec<&str> = episodes.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "one press in each recording: {episodes}");
    for row in rows {
        let peak_n: f64 = row.split(',').nth(peak).unwrap().parse().unwrap();
        assert!((40.0..=40.0 * 1.108 + 0.2).contains(&peak_n), "{row}");
    }
}

#[test]
fn a_c_file_overrides_palpa_toml_and_unknown_keys_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    dataset_with_settings(&ds);
    let cli = dir.path().join("lab.toml");
    std::fs::write(&cli, "[dataset]\nprobe_area_cm2 = 3.0\n").unwrap();
    let out = dir.path().join("o");
    run(
        &ds,
        &["-c", &cli.to_string_lossy(), "--no-plots", "-q"],
        &out,
    )
    .assert()
    .success();
    let run_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["settings"][0]["probe_area_cm2"], 3.0);
    assert_eq!(
        run_json["settings"][0]["therapist"], "T7",
        "palpa.toml still applies"
    );

    let toml = std::fs::read_to_string(ds.join("palpa.toml")).unwrap();
    std::fs::write(
        ds.join("palpa.toml"),
        toml.replace("therapist", "therapsit"),
    )
    .unwrap();
    let err = stderr_of(&mut run(&ds, &[], &out), 1);
    assert!(
        err.contains("palpa.toml") && err.contains("therapsit"),
        "{err}"
    );
}

#[test]
fn sidecar_typos_are_warned_about_and_a_default_area_is_stated() {
    let (dir, ds) = empty_dataset();
    write_emg_only(&ds.join("r.csv"));
    std::fs::write(
        ds.join("r.json"),
        r#"{"PalpatedMucsle": "UT", "ProbeAreaCM2": 2.0, "PowerLineFrequancy": 50}"#,
    )
    .unwrap();
    std::fs::write(
        ds.join("r_channels.tsv"),
        "name\ttype\ttarget_mucsle\nEMG UT L\tEMG\tUT\n",
    )
    .unwrap();
    let out = dir.path().join("o");
    let err = stderr_of(&mut run(&ds, &["--no-plots", "--format", "csv"], &out), 0);
    for (typo, meant) in [
        ("PalpatedMucsle", "PalpatedMuscle"),
        ("ProbeAreaCM2", "ProbeAreaCm2"),
        ("PowerLineFrequancy", "PowerLineFrequency"),
        ("target_mucsle", "target_muscle"),
    ] {
        let wanted = format!("`{typo}` is not read; did you mean `{meant}`?");
        assert!(err.contains(&wanted), "{wanted}: {err}");
    }
    let table = std::fs::read_to_string(out.join("recordings.csv")).unwrap();
    assert!(
        table.contains("probe area 1 cm² is palpa's default"),
        "{table}"
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        report.contains("probe area 1 cm² is palpa&#x27;s default")
            || report.contains("probe area 1 cm² is palpa's default")
    );
}

#[test]
fn formats_are_recognised_by_content_not_only_by_name() {
    let (_dir, ds) = empty_dataset();
    // An XDF file under a wrong extension is still XDF; prose beside the recordings is not
    // a recording; a tab-separated table in a .txt is.
    std::fs::copy(
        real("xdf-example-files/minimal.xdf"),
        ds.join("session.edf"),
    )
    .unwrap();
    std::fs::write(
        ds.join("notes.txt"),
        "Subject 3 moved at 40 s.\nProbe cleaned.\n",
    )
    .unwrap();
    std::fs::write(
        ds.join("table.txt"),
        "time_s\tEMG UT L [uV]\n0\t1.5\n0.001\t2.5\n",
    )
    .unwrap();
    let sources = palpa::ingest::discover(&ds).unwrap();
    let found: Vec<(&str, palpa::ingest::Format)> =
        sources.iter().map(|s| (s.id.as_str(), s.format)).collect();
    assert_eq!(
        found,
        [
            ("session", palpa::ingest::Format::Xdf),
            ("table", palpa::ingest::Format::Csv)
        ]
    );
    let out = palpa()
        .arg("inspect")
        .arg(&ds)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("session.edf (XDF"), "{text}");
    assert!(text.contains("table.txt (CSV (tab-separated"), "{text}");
}

/// novainstrumentation's files are NumPy arrays saved row by row (time, signal), without a
/// header: not recordings in a dataset, and named with the fix when given by name.
#[test]
fn a_numpy_array_of_channels_by_rows_is_named_with_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        real("novainstrumentation/force.txt"),
        dir.path().join("force.txt"),
    )
    .unwrap();
    assert!(palpa::ingest::discover(dir.path()).unwrap().is_empty());
    let err = stderr_of(
        palpa()
            .arg("inspect")
            .arg(real("novainstrumentation/force.txt")),
        2,
    );
    assert!(
        err.contains("found 5000 numbers and no name") && err.contains("transpose it"),
        "{err}"
    );
}
