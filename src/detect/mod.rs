//! Detection (DESIGN §3.3–§3.5): contact episodes and their technique, taut-band evidence,
//! twitches (LTRs) and withdrawals, on a recording conditioned by
//! [`crate::signal::condition`]; [`analyse`] runs them all on one recording.

pub mod analyse;
pub mod episodes;
pub mod taut_band;
pub mod twitch;

pub use analyse::{analyse, ChannelResult, EpisodeResult, RecordingResult};
