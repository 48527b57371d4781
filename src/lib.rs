//! palpa: a batch pipeline for palpation-session recordings — the force a therapist or
//! algometer applies, and surface EMG of the muscles under the finger.
//!
//! The modules follow the data (DESIGN §1): [`ingest`] turns files into
//! [`model::Recording`]s; [`signal`] checks and conditions their samples as SciPy would;
//! [`detect`] finds contact episodes, twitches and taut-band evidence, and audits technique
//! against the protocol. [`process_recording`] strings those stages together for
//! one recording, and [`batch`] runs a whole dataset through it, with [`summary`] building
//! the tables, [`report`] the figures and the report, and [`output`] writing every file.
//! Every tunable number lives in [`config`].

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod batch;
pub mod config;
pub mod detect;
pub mod error;
pub mod evaluate;
pub mod ingest;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod signal;
pub mod simulate;
pub mod summary;
#[cfg(test)]
mod testing;

pub use error::{Error, Outcome};
pub use pipeline::{process_recording, Processed};
