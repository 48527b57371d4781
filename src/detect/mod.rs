//! Detection (DESIGN §3.1, §3.3–§3.5): channel quality first; contact episodes, taut-band
//! evidence and twitches build on it.

pub mod episodes;
pub mod quality;
pub mod taut_band;
pub mod twitch;
