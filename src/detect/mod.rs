//! Detection (DESIGN §3.3–§3.5, §3.7): contact episodes and their technique, taut-band
//! evidence, twitches (LTRs) and withdrawals, and the technique audit of holds and PPT
//! trials, on a recording conditioned by [`crate::signal::condition`]; [`analyse`] runs them
//! all on one recording. The audit sits here rather than beside `detect/` (DESIGN §1): it
//! judges the episodes found here and is part of each episode's result, so one module
//! holds both and imports run one way.

pub mod analyse;
pub mod audit;
pub mod episodes;
pub mod taut_band;
pub mod twitch;

pub use analyse::{analyse, ChannelResult, EpisodeResult, RecordingResult};
