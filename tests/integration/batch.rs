//! A batch that survives interruption and splits across machines (DESIGN §7): a run killed
//! midway and resumed, and the demo run as three shards and merged, each give what one
//! uninterrupted run writes, byte for byte.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::Command;

use crate::common;

const DEMO: &str = "datasets/demo";
const DEMO_RECORDINGS: usize = 8;

fn palpa() -> Command {
    Command::cargo_bin("palpa").unwrap()
}

/// One uninterrupted run of the demo, shared by the tests of this file.
fn reference() -> &'static Path {
    static REFERENCE: OnceLock<tempfile::TempDir> = OnceLock::new();
    REFERENCE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            palpa()
                .args(["run", "-q", DEMO, "--format", "both", "-o"])
                .arg(dir.path())
                .assert()
                .success();
            dir
        })
        .path()
}

fn run_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap()
}

#[test]
fn a_run_killed_midway_resumes_to_the_tables_of_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("palpa"))
        .args(["run", "-q", DEMO, "--format", "both", "-j", "1", "-o"])
        .arg(&out)
        .spawn()
        .unwrap();
    let clock = Instant::now();
    while common::finished_parts(&out) < 2 && clock.elapsed() < Duration::from_secs(600) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done = common::finished_parts(&out);
    assert!(
        (2..DEMO_RECORDINGS).contains(&done),
        "the run was to be killed midway; {done} of {DEMO_RECORDINGS} recordings were done"
    );
    assert!(
        !out.join("recordings.parquet").exists(),
        "killed before its tables, yet a table was written"
    );

    palpa()
        .args(["run", "-q", DEMO, "--format", "both", "--resume", "-o"])
        .arg(&out)
        .assert()
        .success();
    let resumed = run_json(&out)["resumed"].as_u64().unwrap() as usize;
    assert!(
        resumed >= done,
        "{resumed} recordings resumed, {done} were done before the kill"
    );
    assert!(resumed < DEMO_RECORDINGS, "nothing was left to process");
    common::assert_same_outputs(&out, reference(), "resumed run");
    let leftovers: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    palpa()
        .args(["run", "-q", DEMO, "--format", "both", "--resume", "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        run_json(&out)["resumed"].as_u64(),
        Some(DEMO_RECORDINGS as u64),
        "a complete output folder resumes every recording"
    );
    common::assert_same_outputs(&out, reference(), "fully resumed run");
}

#[test]
fn three_shards_merged_equal_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<PathBuf> = (0..3)
        .map(|k| dir.path().join(format!("shard-{k}")))
        .collect();
    let mut total = 0;
    for (k, out) in shards.iter().enumerate() {
        palpa()
            .args([
                "run",
                "-q",
                DEMO,
                "-j",
                "1",
                "--shard",
                &format!("{k}/3"),
                "-o",
            ])
            .arg(out)
            .assert()
            .success();
        let n = run_json(out)["recordings"].as_u64().unwrap() as usize;
        assert!(n < DEMO_RECORDINGS, "shard {k}/3 took {n} recordings");
        total += n;
    }
    assert_eq!(total, DEMO_RECORDINGS, "the shards split the demo");

    let merged = dir.path().join("merged");
    palpa()
        .args(["merge", "--format", "both"])
        .args([&shards[2], &shards[0], &shards[1]])
        .arg("-o")
        .arg(&merged)
        .assert()
        .success();
    common::assert_same_outputs(&merged, reference(), "merge of three shards");

    let incomplete = palpa()
        .args(["merge"])
        .args(&shards[..2])
        .arg("-o")
        .arg(dir.path().join("incomplete"))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&incomplete.get_output().stderr).into_owned();
    assert!(stderr.contains("lacks shard 2/3"), "{stderr}");

    let onto_shard = palpa()
        .args(["merge"])
        .args(&shards)
        .arg("-o")
        .arg(&shards[0])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&onto_shard.get_output().stderr).into_owned();
    assert!(stderr.contains("merge into a new folder"), "{stderr}");
}

#[test]
fn a_bad_shard_argument_is_a_usage_error() {
    let run = palpa()
        .args(["run", DEMO, "--shard", "3/3", "-o"])
        .arg(tempfile::tempdir().unwrap().path())
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(
        stderr.contains("expected K/N, two whole numbers with K from 0 to N-1")
            && stderr.contains("found 3/3"),
        "{stderr}"
    );
}
