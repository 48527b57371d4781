//! The one place that strings the stages together, one function per command.
//!
//! `inspect`: ingest (header only for EDF/BDF) → text or JSON on stdout.
//! `export`: ingest → one Parquet file per channel (`time_s`, `raw`), written under a
//! temporary name and renamed, so an interrupted export leaves no half-written file.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde_json::json;

use crate::cli::{ExportArgs, InspectArgs};
use crate::config::Config;
use crate::ingest::{self, RecordingInfo, Source};
use crate::model::time_axis_s;
use crate::{Error, Outcome};

/// The defaults, overridden by the TOML file if one is given.
///
/// # Errors
/// [`Error::Config`] naming the file and key.
pub fn load_config(path: Option<&Path>) -> Result<Config, Error> {
    Ok(match path {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    })
}

/// `palpa inspect`: describes each file (or each recording of a dataset folder). A file that
/// cannot be read is reported and counted; the others are still shown.
///
/// # Errors
/// Only a bad config or an unlistable folder; bad recordings are counted in the outcome.
pub fn inspect(args: &InspectArgs) -> Result<Outcome, Error> {
    let cfg = load_config(args.config.as_deref())?;
    let mut sources: Vec<(PathBuf, Result<Source, ingest::IngestError>)> = Vec::new();
    for path in &args.files {
        if path.is_dir() {
            sources.extend(
                ingest::discover(path)?
                    .into_iter()
                    .map(|s| (s.path.clone(), Ok(s))),
            );
        } else {
            sources.push((path.clone(), ingest::source_of_file(path)));
        }
    }
    let mut outcome = Outcome::default();
    let mut json_items = Vec::new();
    for (path, source) in sources {
        match source.and_then(|s| ingest::describe(&s, &cfg)) {
            Ok(info) => {
                outcome.done += 1;
                if args.json {
                    json_items
                        .push(serde_json::to_value(&info).expect("RecordingInfo is plain data"));
                } else {
                    print!("{}", render_info(&info));
                }
            }
            Err(e) => {
                outcome.failed += 1;
                eprintln!("palpa: {e}");
                if args.json {
                    json_items.push(
                        json!({ "path": path.display().to_string(), "error": e.to_string() }),
                    );
                }
            }
        }
    }
    if args.json {
        let text = serde_json::to_string_pretty(&json_items).expect("JSON values serialise");
        println!("{text}");
    }
    Ok(outcome)
}

/// Plain-text form of [`RecordingInfo`], for a person at a terminal.
fn render_info(info: &RecordingInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", info.path);
    let _ = writeln!(
        out,
        "  start {} (+{} s), duration {:.3} s, {} channels, {} annotations",
        info.start.as_deref().unwrap_or("unknown"),
        info.start_offset_s,
        info.duration_s,
        info.channels.len(),
        info.annotations.len()
    );
    let name_width = info
        .channels
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "  {:<name_width$}  {:<12} {:<6} {:>10} {:>10} {:>11}  muscle / side",
        "name", "kind", "unit", "fs_hz", "samples", "duration_s"
    );
    for c in &info.channels {
        let _ = writeln!(
            out,
            "  {:<name_width$}  {:<12} {:<6} {:>10} {:>10} {:>11.3}  {} {}",
            c.name,
            c.kind.as_str(),
            c.unit,
            c.fs_hz,
            c.n_samples,
            c.duration_s,
            c.muscle.as_deref().unwrap_or("-"),
            c.side.as_deref().unwrap_or("")
        );
    }
    for a in &info.annotations {
        let duration = a
            .duration_s
            .map_or(String::new(), |d| format!(" for {d} s"));
        let _ = writeln!(out, "  @ {:>10.4} s{duration}: {}", a.onset_s, a.text);
    }
    out
}

/// `palpa export`: one Parquet file per channel with `time_s` and `raw` (unit-normalised).
///
/// # Errors
/// A bad config, an unreadable recording, or an unwritable output folder.
pub fn export(args: &ExportArgs) -> Result<Outcome, Error> {
    let cfg = load_config(args.config.as_deref())?;
    let source = ingest::source_of_file(&args.file)?;
    let rec = ingest::load(&source, &cfg)?;
    std::fs::create_dir_all(&args.out).map_err(|e| Error::Output {
        path: args.out.clone(),
        message: format!("cannot create the output folder: {e}"),
    })?;
    let mut used = Vec::new();
    for ch in &rec.channels {
        let stem = unique_stem(file_stem(&ch.name), &mut used);
        let mut df = DataFrame::new_infer_height(vec![
            Column::new(
                "time_s".into(),
                time_axis_s(ch.samples.len(), ch.fs_hz, &rec.gaps).to_vec(),
            ),
            Column::new("raw".into(), ch.samples.to_vec()),
        ])
        .map_err(|e| output_error(&args.out, e))?;
        write_parquet(&args.out.join(format!("{stem}.parquet")), &mut df)?;
    }
    Ok(Outcome { done: 1, failed: 0 })
}

/// Channel name → file stem: characters outside `A-Za-z0-9._-` become `_` (DESIGN §5).
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Two channels whose names sanitise alike get `_2`, `_3`, … rather than overwrite each other.
fn unique_stem(stem: String, used: &mut Vec<String>) -> String {
    let mut candidate = stem.clone();
    let mut n = 1;
    while used.contains(&candidate) {
        n += 1;
        candidate = format!("{stem}_{n}");
    }
    used.push(candidate.clone());
    candidate
}

/// Writes a Parquet file under a temporary name in the same folder, then renames it.
///
/// # Errors
/// [`Error::Output`] naming the file.
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), Error> {
    let tmp = temporary_name(path);
    let result = File::create(&tmp)
        .map_err(|e| output_error(path, e))
        .and_then(|file| {
            ParquetWriter::new(file)
                .finish(df)
                .map(|_| ())
                .map_err(|e| output_error(path, e))
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| output_error(path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn temporary_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

fn output_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
