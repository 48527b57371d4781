//! Plain CSV (read with polars) and vendor CSV exports (Vicon Nexus), through analysis.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palpa::config::Config;

fuzz_target!(|bytes: &[u8]| {
    let path = palpa_fuzz::put("f.csv", bytes);
    palpa_fuzz::process(&path, &Config::default());
});
