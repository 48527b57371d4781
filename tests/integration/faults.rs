//! Run-level faults (issue [6/7] items 3 and 4): an output folder that cannot be written,
//! a disk that fills up, an input deleted mid-run, Ctrl-C, and a read-only dataset.
//!
//! Read-only folders and full disks are real ones: each run happens in a private mount
//! namespace (`unshare --map-root-user --mount`, util-linux) holding a read-only bind mount
//! or a size-limited tmpfs, so the test works the same as root (whom permission bits do
//! not stop) and leaves no mount behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use polars::prelude::SerReader;

use crate::common;

/// Demo recordings of the test dataset, in the order a one-thread run takes them.
const STEMS: [&str; 4] = [
    "sub-01_task-palpation_run-1",
    "sub-01_task-palpation_run-2",
    "sub-02_task-palpation_run-1",
    "sub-02_task-palpation_run-2",
];

fn palpa_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_palpa"))
}

/// `palpa run ARGS -o OUT DATA`.
fn palpa_run(args: &[&str], out: &Path, data: &Path) -> Command {
    let mut run = Command::new(palpa_bin());
    run.arg("run").args(args).arg("-o").arg(out).arg(data);
    run
}

/// A flat copy of four demo recordings with their sidecars.
fn dataset(root: &Path) -> PathBuf {
    let dir = root.join("dataset");
    std::fs::create_dir_all(&dir).unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo");
    for stem in STEMS {
        let emg = demo.join(&stem[..6]).join("emg");
        for entry in std::fs::read_dir(&emg).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name().to_string_lossy().starts_with(stem) {
                std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
            }
        }
    }
    dir
}

/// One uninterrupted run of that dataset, all tables in both formats.
fn reference() -> &'static Path {
    static REFERENCE: OnceLock<tempfile::TempDir> = OnceLock::new();
    REFERENCE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("out");
            let run = palpa_run(&["-q", "--format", "both"], &out, &dataset(dir.path()))
                .output()
                .unwrap();
            assert!(
                run.status.success(),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
            dir
        })
        .path()
}

/// Runs `script` under `sh` in a private mount namespace; `$PALPA` is the binary.
fn in_namespace(script: &str) -> Output {
    let out = Command::new("unshare")
        .args(["--map-root-user", "--mount", "sh", "-c", script])
        .env("PALPA", palpa_bin())
        .output()
        .expect("unshare (util-linux) runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("unshare:") && !stderr.contains("mount:"),
        "NO PRIVATE MOUNT NAMESPACE: this test needs `unshare --map-root-user --mount` \
         (user namespaces) to make a read-only folder or a full disk:\n{stderr}"
    );
    out
}

/// Every file under `dir`, sorted; none if `dir` does not exist.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Every file under `dir` whose name marks an unfinished write.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect()
}

fn size_of_tree(dir: &Path) -> u64 {
    files_under(dir)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

#[test]
fn an_output_folder_that_cannot_be_written_is_refused_before_any_work() {
    let root = tempfile::tempdir().unwrap();
    let data = dataset(root.path());

    // A parent that is a file: the folder cannot even be made.
    let file = root.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let run = palpa_run(&[], &file.join("out"), &data).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("a-file/out") && stderr.contains("cannot create the output folder"),
        "{stderr}"
    );

    // A folder that exists but is read-only.
    let out = root.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let clock = Instant::now();
    let run = in_namespace(&format!(
        "mount --bind -o ro '{o}' '{o}' && exec \"$PALPA\" run -v -o '{o}' '{d}'",
        o = out.display(),
        d = data.display()
    ));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: cannot write in the output folder",
            out.display()
        )) && stderr.contains("Read-only file system"),
        "{stderr}"
    );
    // -v logs each recording as it finishes; none was started.
    assert!(
        !stderr.contains(": ok"),
        "recordings were processed first:\n{stderr}"
    );
    assert!(
        clock.elapsed() < Duration::from_secs(5),
        "{:?}",
        clock.elapsed()
    );
}

#[test]
fn a_full_disk_leaves_no_half_written_table() {
    let reference = reference().join("out");
    let full_size = size_of_tree(&reference);
    let root = tempfile::tempdir().unwrap();
    let data = dataset(root.path());
    let mut failed_for_space = 0;
    for (k, fraction) in [0.05, 0.4, 0.8].into_iter().enumerate() {
        let (out, kept) = (
            root.path().join(format!("out{k}")),
            root.path().join(format!("kept{k}")),
        );
        std::fs::create_dir_all(&out).unwrap();
        std::fs::create_dir_all(&kept).unwrap();
        let size = (full_size as f64 * fraction) as u64;
        let run = in_namespace(&format!(
            "mount -t tmpfs -o size={size} tmpfs '{o}' && \
             \"$PALPA\" run -q --format both -o '{o}' '{d}'; rc=$?; cp -a '{o}/.' '{kept}/'; exit $rc",
            o = out.display(),
            d = data.display(),
            kept = kept.display()
        ));
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        match run.status.code() {
            Some(0) => {}
            Some(1) => {
                assert!(stderr.contains("No space left on device"), "{stderr}");
                failed_for_space += 1;
            }
            code => panic!("{size} bytes of disk: exit code {code:?}\n{stderr}"),
        }
        assert_eq!(
            temporaries(&kept),
            Vec::<PathBuf>::new(),
            "{size} bytes of disk"
        );
        for name in common::run_outputs() {
            if let Ok(bytes) = std::fs::read(kept.join(&name)) {
                assert!(
                    bytes == std::fs::read(reference.join(&name)).unwrap(),
                    "{size} bytes of disk: {name} exists but is not the whole table"
                );
            }
        }
    }
    assert!(
        failed_for_space >= 2,
        "only {failed_for_space} runs ran out of space"
    );
}

/// Waits until `run` has finished its first recording; panics if it ends first.
fn wait_for_first_part(run: &mut Child, out: &Path) {
    let clock = Instant::now();
    while common::finished_parts(out) == 0 {
        assert!(
            run.try_wait().unwrap().is_none(),
            "the run ended before one recording was done"
        );
        assert!(
            clock.elapsed() < Duration::from_secs(300),
            "no recording finished in 300 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn recordings_table(out: &Path) -> BTreeMap<String, (String, String)> {
    let df = polars::prelude::CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(out.join("recordings.csv")))
        .unwrap()
        .finish()
        .unwrap();
    let column = |name| palpa::summary::text_column(&df, name).unwrap();
    let (paths, status, errors) = (column("path"), column("status"), column("error"));
    paths
        .into_iter()
        .zip(status.into_iter().zip(errors))
        .collect()
}

#[test]
fn an_input_deleted_mid_run_fails_that_recording_only() {
    let root = tempfile::tempdir().unwrap();
    let data = dataset(root.path());
    let out = root.path().join("out");
    let mut run = palpa_run(
        &["-q", "-j", "1", "--no-plots", "--format", "csv"],
        &out,
        &data,
    )
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    wait_for_first_part(&mut run, &out);
    let last = format!("{}_emg.edf", STEMS[3]);
    std::fs::remove_file(data.join(&last)).unwrap();
    let run = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");

    let rows = recordings_table(&out);
    assert_eq!(rows.len(), STEMS.len(), "{rows:?}");
    for (path, (status, error)) in &rows {
        if *path == last {
            assert_eq!(status, "failed");
            assert!(
                error.contains(&last) && error.contains("No such file"),
                "{error}"
            );
        } else {
            assert_eq!(status, "ok", "{path}: {error}");
        }
    }
}

#[test]
fn ctrl_c_stops_cleanly_and_resume_completes_the_run() {
    let root = tempfile::tempdir().unwrap();
    let data = dataset(root.path());
    let out = root.path().join("out");
    let mut run = palpa_run(&["-q", "-j", "1", "--format", "both"], &out, &data)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_first_part(&mut run, &out);
    // Ctrl-C, as a terminal sends it: SIGINT to the child this test spawned and has not reaped.
    let kill = std::process::Command::new("kill")
        .args(["-INT", &run.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let run = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted after") && stderr.contains("--resume"),
        "{stderr}"
    );
    assert!(
        common::finished_parts(&out) < STEMS.len(),
        "Ctrl-C did not stop the run early"
    );
    assert_eq!(temporaries(&out), Vec::<PathBuf>::new());
    for name in common::run_outputs() {
        assert!(
            !out.join(&name).exists(),
            "{name} written from half a dataset"
        );
    }

    let resumed = palpa_run(
        &["-q", "-j", "1", "--resume", "--format", "both"],
        &out,
        &data,
    )
    .output()
    .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let run_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(
        run_json["resumed"].as_u64().unwrap() >= 1,
        "{}",
        run_json["resumed"]
    );
    common::assert_same_outputs(&out, &reference().join("out"), "run resumed after Ctrl-C");
}

/// Every file of `dir` with its size, modification time and contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            (path, (meta.len(), meta.modified().unwrap(), bytes))
        })
        .collect()
}

#[test]
fn a_read_only_dataset_is_processed_and_left_as_it_was() {
    let root = tempfile::tempdir().unwrap();
    let data = dataset(root.path());
    let before = snapshot(&data);
    let out = root.path().join("out");
    let run = in_namespace(&format!(
        "mount --bind -o ro '{d}' '{d}' && exec \"$PALPA\" run -q --format both -o '{o}' '{d}'",
        o = out.display(),
        d = data.display()
    ));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(snapshot(&data) == before, "the dataset changed");
    common::assert_same_outputs(
        &out,
        &reference().join("out"),
        "run on the read-only dataset",
    );
}
