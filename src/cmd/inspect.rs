//! `palpa inspect`: channels, rates, units, muscles and annotations of recordings, and with
//! `--qc` each channel's quality, as text or JSON. A file that cannot be read is reported
//! and counted; the others are still shown.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::rc::Rc;

use palpa::config::Config;
use palpa::ingest::{self, IngestError, RecordingInfo, Source};
use palpa::signal::condition::RecordingSignals;
use palpa::{pipeline, Error, Outcome};
use serde_json::json;

use crate::cli::InspectArgs;

pub fn run(args: InspectArgs) -> Result<Outcome, Error> {
    // Each path's dataset may have its own `palpa.toml`.
    let mut sources: Vec<(PathBuf, Result<Source, IngestError>, Rc<Config>)> = Vec::new();
    for path in &args.files {
        let cfg = Rc::new(super::load_config(args.config.as_deref(), Some(path))?);
        if path.is_dir() {
            let found = ingest::discover(path)?;
            if found.is_empty() {
                return Err(Error::NothingToRead {
                    dataset: path.clone(),
                    found: ingest::census(path),
                });
            }
            sources.extend(
                found
                    .into_iter()
                    .map(|s| (s.path.clone(), Ok(s), Rc::clone(&cfg))),
            );
        } else if ingest::is_sidecar(path) {
            // `inspect folder/*` names the sidecars too; they are read with their recording.
            tracing::info!("{}: a sidecar, read with its recording", path.display());
        } else {
            sources.push((path.clone(), ingest::source_of_file(path), cfg));
        }
    }
    let mut outcome = Outcome::default();
    let mut json_items = Vec::new();
    for (path, source, cfg) in sources {
        match source.and_then(|s| pipeline::inspect_file(&s, &cfg, args.qc)) {
            Ok((info, signals)) => {
                outcome.done += 1;
                if args.json {
                    json_items.push(as_json(&info, signals.as_ref()));
                } else {
                    super::print_out(&render_info(&info))?;
                    if let Some(signals) = &signals {
                        super::print_out(&render_qc(&info, signals))?;
                    }
                }
            }
            Err(e) => {
                outcome.failed += 1;
                tracing::error!("{e}");
                if args.json {
                    json_items.push(
                        json!({ "path": path.display().to_string(), "error": e.to_string() }),
                    );
                }
            }
        }
    }
    if args.json {
        let text = serde_json::to_string_pretty(&json_items).unwrap_or_default();
        super::print_out(&format!("{text}\n"))?;
    }
    Ok(outcome)
}

/// One file's JSON object: [`RecordingInfo`], with the mains frequency and each channel's
/// QC when they were measured.
fn as_json(info: &RecordingInfo, signals: Option<&RecordingSignals>) -> serde_json::Value {
    let mut value = serde_json::to_value(info).unwrap_or_default();
    if let Some(signals) = signals {
        value["mains_hz"] = json!(signals.mains_hz);
        if let Some(channels) = value["channels"].as_array_mut() {
            for (ch, sig) in channels.iter_mut().zip(&signals.channels) {
                ch["qc"] = serde_json::to_value(&sig.qc).unwrap_or_default();
            }
        }
    }
    value
}

/// Plain-text form of [`RecordingInfo`], for a person at a terminal.
fn render_info(info: &RecordingInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", info.path, info.format);
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

/// QC lines under an inspected recording.
fn render_qc(info: &RecordingInfo, signals: &RecordingSignals) -> String {
    let mut out = String::new();
    let mains = signals
        .mains_hz
        .map_or("unknown".into(), |f| format!("{f} Hz"));
    let _ = writeln!(out, "  QC (mains {mains}):");
    for (c, q) in info
        .channels
        .iter()
        .zip(signals.channels.iter().map(|s| &s.qc))
    {
        let reasons = if q.reasons.is_empty() {
            String::new()
        } else {
            format!(": {}", q.reasons.join("; "))
        };
        let _ = writeln!(out, "    {:<4} {}{reasons}", q.qc.as_str(), c.name);
    }
    out
}
