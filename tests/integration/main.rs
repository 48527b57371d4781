//! palpa's integration tests, in one test binary (each binary links polars, so one keeps a
//! cold build short). Each module is one area; `common` holds what they share.

mod bad_corpus;
mod bad_input;
mod batch;
mod cli;
mod common;
mod detection;
mod faults;
mod formats;
mod lying_header;
mod mains_real;
mod own_recordings;
mod real_files;
mod report;
mod signal_properties;
mod signal_reference;
