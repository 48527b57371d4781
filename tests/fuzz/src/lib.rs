//! What every fuzz target shares: a scratch folder per process, and the whole per-recording
//! path a batch takes (discover the file's sidecars, load, condition, analyse), so a target
//! reaches the signal code with whatever the parser let through.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use palpa::config::Config;
use palpa::{ingest, process_recording};

/// A folder of this process's own; libFuzzer's `-fork`/`-jobs` workers never share one.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("palpa-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("the temporary folder is writable");
        dir
    })
}

/// Writes `bytes` to `name` in the scratch folder and returns the path.
pub fn put(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, bytes).expect("the scratch folder is writable");
    path
}

/// Loads, conditions and analyses `path` as `palpa run` does; errors are fine, panics,
/// hangs and huge allocations are what the fuzzer looks for.
pub fn process(path: &Path, cfg: &Config) {
    let Ok(source) = ingest::source_of_file(path) else {
        return;
    };
    let Ok(mut rec) = ingest::load(&source, cfg) else {
        return;
    };
    let _ = process_recording(&mut rec, cfg);
}

/// A small valid recording (3 s of one sEMG channel and force at 1 kHz, a press in the
/// middle; short, so the fuzzer spends its time on the sidecar or config) as CSV text, for targets that fuzz something other than the samples.
pub fn small_csv() -> String {
    let fs = 1000.0;
    let mut text = String::from("time_s,EMG upper trapezius L,force N\n");
    for i in 0..3000 {
        let t = f64::from(i) / fs;
        let emg = 20.0 * (2.0 * std::f64::consts::PI * 83.0 * t).sin() + 7.0 * (i % 7) as f64;
        let force = if (1.0..2.0).contains(&t) { 15.0 } else { 0.1 };
        text.push_str(&format!("{t},{emg},{force}\n"));
    }
    text
}
