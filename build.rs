//! Links the `palpa` binary as a fixed-address (non-PIE) executable on Linux.
//!
//! A position-independent palpa starts by applying ~126,000 relocations and copying the
//! 2.4 MB of pages they write: 2.5 ms from `exec` to exit for `palpa --version`, against
//! 1.0 ms linked at a fixed address (median of 40, this project's 2-core VM). Every run
//! pays that start on one thread, before any recording is read. The library and the tests
//! are built as before; only the binary loses address randomisation of its own code.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
