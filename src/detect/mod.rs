//! Detection (DESIGN §3.1, §3.3–§3.5): channel quality first; contact episodes, twitches and
//! taut bands build on it.

pub mod episodes;
pub mod quality;
