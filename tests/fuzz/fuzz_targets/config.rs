//! The config TOML: parsing and validation, then a small recording analysed with whatever
//! validation let through, so a value it should have refused shows up as a panic.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palpa::config::Config;

fuzz_target!(|bytes: &[u8]| {
    static RECORDING: OnceLock<std::path::PathBuf> = OnceLock::new();
    let recording =
        RECORDING.get_or_init(|| palpa_fuzz::put("c.csv", palpa_fuzz::small_csv().as_bytes()));
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(cfg) = Config::parse(text, Path::new("palpa.toml")) {
        palpa_fuzz::process(recording, &cfg);
    }
});
