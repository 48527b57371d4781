//! `palpa config`: the complete default configuration as TOML.

use palpa::config::Config;
use palpa::{Error, Outcome};

pub fn run() -> Result<Outcome, Error> {
    print!("{}", Config::default().to_toml());
    Ok(Outcome::default())
}
