//! The broken-input corpus (issue [6/7] item 1): `palpa run` over every broken file of
//! `tests/data/bad/` plus good recordings never panics, exits 2, lists every recording as
//! `ok` or `failed`, names the file and the place in each failure, and processes the good
//! ones fully. Every message is also kept in a snapshot, so a change to any of them is seen
//! in review (item 5).

mod corpus;

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use corpus::Expect;
use polars::prelude::*;

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad")
}

fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_committed_corpus_is_what_the_generator_writes() {
    let cases = corpus::cases();
    assert!(
        cases.len() >= 30,
        "the corpus has only {} cases",
        cases.len()
    );
    if std::env::var_os("PALPA_WRITE_CORPUS").is_some() {
        let dir = committed();
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        corpus::write(&dir).unwrap();
    }
    let fresh = tempfile::tempdir().unwrap();
    corpus::write(fresh.path()).unwrap();
    let (fresh, committed) = (files_of(fresh.path()), files_of(&committed()));
    assert_eq!(
        fresh.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>(),
        "tests/data/bad lists other files than the generator writes; \
         rewrite it with PALPA_WRITE_CORPUS=1 cargo test --test integration bad_corpus"
    );
    for (name, bytes) in &fresh {
        assert!(
            committed[name] == *bytes,
            "tests/data/bad/{name} differs from what the generator writes; \
             rewrite it with PALPA_WRITE_CORPUS=1 cargo test --test integration bad_corpus"
        );
    }
}

/// Demo recordings (with their sidecars) that go into the dataset beside the broken ones.
const GOOD: [&str; 2] = ["sub-01_task-palpation_run-1", "sub-03_task-palpation_run-2"];

fn column(df: &DataFrame, name: &str) -> Vec<String> {
    palpa::summary::text_column(df, name).unwrap()
}

#[test]
fn a_run_over_the_corpus_names_every_failure_and_processes_the_good_recordings() {
    let root = tempfile::tempdir().unwrap();
    let dataset = root.path().join("archive");
    std::fs::create_dir(&dataset).unwrap();
    let cases = corpus::cases();
    for case in &cases {
        for (name, _) in &case.files {
            std::fs::copy(committed().join(name), dataset.join(name)).unwrap();
        }
    }
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo");
    for stem in GOOD {
        let subject = &stem[..6];
        for suffix in ["_emg.edf", "_emg.json", "_channels.tsv", "_events.tsv"] {
            let name = format!("{stem}{suffix}");
            let from = demo.join(subject).join("emg").join(&name);
            if from.is_file() {
                std::fs::copy(from, dataset.join(&name)).unwrap();
            }
        }
    }
    let out = root.path().join("out");
    let run = Command::cargo_bin("palpa")
        .unwrap()
        .args(["run", "-q", "--format", "csv", "-o"])
        .arg(&out)
        .arg(&dataset)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains("panicked"), "palpa panicked:\n{stderr}");
    assert_eq!(run.status.code(), Some(2), "exit code; stderr:\n{stderr}");

    let table = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(out.join("recordings.csv")))
        .unwrap()
        .finish()
        .unwrap();
    let paths = column(&table, "path");
    let status = column(&table, "status");
    let errors = column(&table, "error");
    let row_of = |file: &str| {
        let rows: Vec<usize> = (0..paths.len()).filter(|&i| paths[i] == file).collect();
        assert_eq!(
            rows.len(),
            1,
            "{file} is listed {} times in recordings",
            rows.len()
        );
        rows[0]
    };
    assert_eq!(
        paths.len(),
        cases.len() + GOOD.len(),
        "one row per recording"
    );
    assert!(
        status
            .iter()
            .all(|s| ["ok", "skipped", "failed"].contains(&s.as_str())),
        "{status:?}"
    );

    let mut messages = String::new();
    for case in &cases {
        let row = row_of(case.recording());
        let error = errors[row].replace(&*dataset.to_string_lossy(), "<dataset>");
        match &case.expect {
            Expect::Failed(fragments) => {
                assert_eq!(
                    status[row],
                    "failed",
                    "{}: {}",
                    case.recording(),
                    case.broken
                );
                for fragment in fragments {
                    assert!(
                        error.contains(fragment),
                        "{}: the error lacks {fragment:?}: {error}",
                        case.recording()
                    );
                }
                messages.push_str(&format!("{}\n    {error}\n", case.recording()));
            }
            // Read: analysed, or skipped when QC leaves no channel to analyse.
            Expect::Processed(why) => {
                assert_ne!(
                    status[row],
                    "failed",
                    "{}: {why}; error: {error}",
                    case.recording()
                );
            }
        }
    }
    insta::assert_snapshot!("failure_messages", messages);

    assert_good_recordings_processed(&out, &paths, &status);
    assert_nan_cells_counted(&out);
}

/// The good recordings are `ok`, with their episodes, twitches, channels and figures.
fn assert_good_recordings_processed(out: &Path, paths: &[String], status: &[String]) {
    let episodes = std::fs::read_to_string(out.join("episodes.csv")).unwrap();
    for stem in GOOD {
        let row = paths
            .iter()
            .position(|p| p == &format!("{stem}_emg.edf"))
            .unwrap();
        assert_eq!(status[row], "ok", "{stem}");
        let id = format!("{stem}_emg");
        let n = episodes
            .lines()
            .filter(|l| l.starts_with(&format!("{id},")))
            .count();
        assert!(
            n >= 10,
            "{stem}: {n} episodes; a demo recording has at least 10"
        );
        assert!(
            out.join(format!("plots/{id}/overview.svg")).is_file(),
            "{stem}: no overview figure"
        );
    }
    assert!(out.join("report.html").is_file());
}

/// The NaN/inf CSV is processed, with its non-finite samples counted by QC.
fn assert_nan_cells_counted(out: &Path) {
    let channels = std::fs::read_to_string(out.join("channels.csv")).unwrap();
    let header: Vec<&str> = channels.lines().next().unwrap().split(',').collect();
    let at = header.iter().position(|c| *c == "nan_fraction").unwrap();
    let emg = channels
        .lines()
        .find(|l| l.starts_with("csv_nan_inf,EMG UT L"))
        .expect("the NaN/inf recording's sEMG channel is listed");
    let fraction: f64 = emg.split(',').nth(at).unwrap().parse().unwrap();
    assert!(fraction > 0.005, "nan_fraction {fraction}");
}
