//! `palpa run` on the bundled demo dataset: the tables as reviewed snapshots, the report a
//! clinician opens, and what a re-run must reproduce.

use std::path::Path;

use palpa::batch::{run_dataset, RunOptions};
use palpa::config::Config;
use palpa::output::TableFormat;

fn run_demo(out: &Path, no_plots: bool) {
    let opts = RunOptions {
        dataset: Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo"),
        out: Some(out.to_path_buf()),
        config: Config::default(),
        format: TableFormat::Both,
        plots: !no_plots,
        jobs: None,
        shard: None,
        resume: false,
    };
    let outcome = run_dataset(&opts, |_| (), |_| ()).unwrap();
    assert_eq!((outcome.done, outcome.failed), (8, 0));
}

#[test]
fn demo_tables_match_their_snapshots_and_a_rerun_reproduces_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_demo(&a, false);
    run_demo(&b, true);
    for table in palpa::summary::TABLE_NAMES {
        for ext in ["csv", "parquet"] {
            let name = format!("{table}.{ext}");
            let first = std::fs::read(a.join(&name)).unwrap();
            assert_eq!(
                first,
                std::fs::read(b.join(&name)).unwrap(),
                "{name} differs on a re-run"
            );
        }
        let csv = std::fs::read_to_string(a.join(format!("{table}.csv"))).unwrap();
        insta::assert_snapshot!(table, csv);
    }

    // The report: one file, nothing fetched, every muscle named, every section there.
    let html = std::fs::read_to_string(a.join("report.html")).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "a URL in report.html"
    );
    assert!(
        !html.contains("<script") && !html.contains("<link"),
        "report.html loads something"
    );
    for muscle in [
        "upper trapezius",
        "infraspinatus",
        "levator scapulae",
        "gastrocnemius",
    ] {
        assert!(html.contains(muscle), "report.html does not name {muscle}");
    }
    for section in [
        "Summary",
        "Quality warnings",
        "Muscles",
        "Therapist audit",
        "Recordings",
        "Methods",
        "Provenance",
    ] {
        assert!(
            html.contains(&format!("\">{section}</h2>")),
            "no {section} section"
        );
    }
    // Flags read in a clinician's words, with the numbers.
    assert!(html.contains("beyond the 90 s limit") || html.contains("below the 30 s target"));
    assert!(
        html.matches("<svg").count() >= 8 + 16 + 6,
        "figures are not inline"
    );

    let methods = std::fs::read_to_string(a.join("methods.md")).unwrap();
    assert!(methods.contains("order 4 (8 poles), 20–450 Hz"));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("run.json")).unwrap()).unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo");
    let files: usize = std::fs::read_dir(&demo)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("sub-"))
        .map(|e| std::fs::read_dir(e.path().join("emg")).unwrap().count())
        .sum();
    assert_eq!(
        run["inputs"].as_array().unwrap().len(),
        files,
        "each EDF and sidecar"
    );
    assert!(run["inputs"][0]["sha256"].as_str().unwrap().len() == 64);
    assert!(run["config"]["emg"]["bandpass_hz"].is_array());
    assert!(a.join("plots/muscles_ppt.png").is_file() && a.join("plots/muscles_ppt.svg").is_file());
    assert!(!b.join("plots").exists(), "--no-plots wrote plots");
}
