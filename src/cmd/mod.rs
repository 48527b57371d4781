//! One file per subcommand: what was typed → the library's option structs → one library
//! call → what is printed.

pub mod config;
pub mod evaluate;
pub mod export;
pub mod inspect;
pub mod merge;
pub mod run;
pub mod simulate;

use std::path::Path;

use palpa::config::Config;
use palpa::Error;

/// The defaults, overridden by the TOML file if one is given.
fn load_config(path: Option<&Path>) -> Result<Config, Error> {
    Ok(match path {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    })
}
