//! EDF/EDF+/BDF/BDF+ header, records, annotations and everything downstream of them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palpa::config::Config;

fuzz_target!(|bytes: &[u8]| {
    // The reader decides EDF or BDF by the first byte, not the extension; both names are
    // taken so extension-specific paths are reached too.
    let name = if bytes.first() == Some(&0xFF) { "f.bdf" } else { "f.edf" };
    let path = palpa_fuzz::put(name, bytes);
    palpa_fuzz::process(&path, &Config::default());
});
