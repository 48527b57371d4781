//! `palpa config`: the complete default configuration as TOML.

use palpa::config::Config;
use palpa::{Error, Outcome};

pub fn run() -> Result<Outcome, Error> {
    super::print_out(&Config::default().to_toml())?;
    Ok(Outcome {
        done: 1,
        ..Outcome::default()
    })
}
