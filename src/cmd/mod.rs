//! One file per subcommand: what was typed → the library's option structs → one library
//! call → what is printed.

pub mod config;
pub mod evaluate;
pub mod export;
pub mod inspect;
pub mod merge;
pub mod run;
pub mod simulate;

use std::io::Write as _;
use std::path::Path;

use palpa::config::Config;
use palpa::Error;

/// The defaults, overridden by the dataset's `palpa.toml` when `data` (a dataset folder or
/// a recording) has one, and that by the `-c` file if one is given.
fn load_config(cli: Option<&Path>, data: Option<&Path>) -> Result<Config, Error> {
    let dataset_file = data.and_then(palpa::ingest::dataset_file);
    let files: Vec<&Path> = dataset_file.as_deref().into_iter().chain(cli).collect();
    if let Some(file) = &dataset_file {
        tracing::info!("dataset settings from {}", file.display());
    }
    Ok(Config::load_layers(&files)?)
}

/// Writes `text` to standard output; a reader that went away (`| head`) is
/// [`Error::StdoutClosed`], which ends palpa quietly, not a panic.
fn print_out(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => Error::StdoutClosed,
            _ => palpa::error::output_error(Path::new("standard output"), e),
        })
}
