//! Sidecars beside a valid recording: `<stem>.json`, `<stem>_channels.tsv` and
//! `<stem>_events.tsv`. The first byte picks which one the rest of the input becomes; the
//! others are absent, so each is fuzzed against the recording's own channels.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palpa::config::Config;

const SIDECARS: [&str; 3] = ["r.json", "r_channels.tsv", "r_events.tsv"];

fuzz_target!(|bytes: &[u8]| {
    static RECORDING: OnceLock<std::path::PathBuf> = OnceLock::new();
    let recording =
        RECORDING.get_or_init(|| palpa_fuzz::put("r.csv", palpa_fuzz::small_csv().as_bytes()));
    let Some((&which, text)) = bytes.split_first() else {
        return;
    };
    let chosen = SIDECARS[usize::from(which) % SIDECARS.len()];
    for name in SIDECARS {
        let _ = std::fs::remove_file(palpa_fuzz::scratch().join(name));
    }
    palpa_fuzz::put(chosen, text);
    palpa_fuzz::process(recording, &Config::default());
});
