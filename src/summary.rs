//! The output tables (DESIGN §4) as polars DataFrames, and writing them.
//!
//! Rows come sorted by recording id, then episode or onset, and no value depends on the
//! clock, so the same inputs and config give byte-identical files. Missing values are nulls.

use std::path::Path;

use polars::prelude::*;

use crate::ingest::RecordingInfo;
use crate::model::{pressure_kpa, RecordingMeta};
use crate::pipeline::RecordingResult;
use crate::Error;

/// One recording of the batch: what was read of it and what was found, or why it failed.
#[derive(Clone, Debug)]
pub struct RecordingSummary {
    /// Recording id (path relative to the dataset, without extension).
    pub id: String,
    /// Path relative to the dataset root.
    pub path: String,
    /// Sidecar metadata.
    pub meta: RecordingMeta,
    /// Channels and duration, when the recording could be read.
    pub info: Option<RecordingInfo>,
    /// Findings, or the error that stopped the recording.
    pub result: Result<RecordingResult, String>,
}

/// Table file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// Parquet only.
    Parquet,
    /// CSV only.
    Csv,
    /// Both.
    Both,
}

/// Builds one table from the batch's recordings.
pub type TableBuilder = fn(&[RecordingSummary]) -> PolarsResult<DataFrame>;

/// Every per-recording table, by file name, in the order they are written.
pub const TABLES: [(&str, TableBuilder); 4] = [
    ("recordings", recordings_table),
    ("channels", channels_table),
    ("episodes", episodes_table),
    ("twitches", twitches_table),
];

fn column<T>(name: &str, values: Vec<T>) -> Column
where
    Series: NamedFrom<Vec<T>, [T]>,
{
    Series::new(name.into(), values).into_column()
}

fn frame(columns: Vec<Column>) -> Result<DataFrame, PolarsError> {
    DataFrame::new_infer_height(columns)
}

/// `recordings`.
pub fn recordings_table(rows: &[RecordingSummary]) -> Result<DataFrame, PolarsError> {
    let text = |f: fn(&RecordingMeta) -> &Option<String>| {
        rows.iter().map(|r| f(&r.meta).clone()).collect::<Vec<_>>()
    };
    frame(vec![
        column("recording", rows.iter().map(|r| r.id.clone()).collect()),
        column("path", rows.iter().map(|r| r.path.clone()).collect()),
        column("subject", text(|m| &m.subject)),
        column("session", text(|m| &m.session)),
        column("task", text(|m| &m.task)),
        column("run", text(|m| &m.run)),
        column("therapist", text(|m| &m.therapist)),
        column(
            "duration_s",
            rows.iter()
                .map(|r| r.info.as_ref().map(|i| i.duration_s))
                .collect(),
        ),
        column(
            "n_channels",
            rows.iter()
                .map(|r| r.info.as_ref().map(|i| i.channels.len() as u32))
                .collect(),
        ),
        column(
            "n_episodes",
            rows.iter()
                .map(|r| r.result.as_ref().ok().map(|x| x.episodes.len() as u32))
                .collect(),
        ),
        column(
            "n_twitches",
            rows.iter()
                .map(|r| {
                    r.result
                        .as_ref()
                        .ok()
                        .map(|x| x.twitches.twitches.len() as u32)
                })
                .collect(),
        ),
        column(
            "status",
            rows.iter()
                .map(|r| if r.result.is_ok() { "ok" } else { "failed" }.to_string())
                .collect(),
        ),
        column(
            "error",
            rows.iter()
                .map(|r| r.result.as_ref().err().cloned())
                .collect(),
        ),
    ])
}

/// `channels`.
pub fn channels_table(rows: &[RecordingSummary]) -> Result<DataFrame, PolarsError> {
    let mut t = ChannelColumns::default();
    for r in rows {
        let (Some(info), Ok(result)) = (&r.info, &r.result) else {
            continue;
        };
        for (c, x) in info.channels.iter().zip(&result.channels) {
            t.recording.push(r.id.clone());
            t.channel.push(c.name.clone());
            t.kind.push(c.kind.as_str().to_string());
            t.unit.push(c.unit.clone());
            t.fs_hz.push(c.fs_hz);
            t.muscle.push(c.muscle.clone());
            t.side.push(c.side.clone());
            t.duration_s.push(c.duration_s);
            t.rest_rms_uv.push(x.rest_rms_uv);
            t.mnf_hz.push(x.mnf_hz);
            t.mdf_hz.push(x.mdf_hz);
            t.powerline_ratio.push(x.qc.powerline_ratio);
            t.lowfreq_ratio.push(x.qc.lowfreq_ratio);
            t.clipped_fraction.push(x.qc.clipped_fraction);
            t.flat_fraction.push(x.qc.flat_fraction);
            t.nan_fraction.push(x.qc.nan_fraction);
            t.qc.push(x.qc.qc.as_str().to_string());
            t.qc_reasons.push(x.qc.reasons.join("; "));
        }
    }
    frame(vec![
        column("recording", t.recording),
        column("channel", t.channel),
        column("kind", t.kind),
        column("unit", t.unit),
        column("fs_hz", t.fs_hz),
        column("muscle", t.muscle),
        column("side", t.side),
        column("duration_s", t.duration_s),
        column("rest_rms_uv", t.rest_rms_uv),
        column("mnf_hz", t.mnf_hz),
        column("mdf_hz", t.mdf_hz),
        column("powerline_ratio", t.powerline_ratio),
        column("lowfreq_ratio", t.lowfreq_ratio),
        column("clipped_fraction", t.clipped_fraction),
        column("flat_fraction", t.flat_fraction),
        column("nan_fraction", t.nan_fraction),
        column("qc", t.qc),
        column("qc_reasons", t.qc_reasons),
    ])
}

#[derive(Default)]
struct ChannelColumns {
    recording: Vec<String>,
    channel: Vec<String>,
    kind: Vec<String>,
    unit: Vec<String>,
    fs_hz: Vec<f64>,
    muscle: Vec<Option<String>>,
    side: Vec<Option<String>>,
    duration_s: Vec<f64>,
    rest_rms_uv: Vec<Option<f64>>,
    mnf_hz: Vec<Option<f64>>,
    mdf_hz: Vec<Option<f64>>,
    powerline_ratio: Vec<Option<f64>>,
    lowfreq_ratio: Vec<Option<f64>>,
    clipped_fraction: Vec<f64>,
    flat_fraction: Vec<f64>,
    nan_fraction: Vec<f64>,
    qc: Vec<String>,
    qc_reasons: Vec<String>,
}

/// `episodes`.
pub fn episodes_table(rows: &[RecordingSummary]) -> Result<DataFrame, PolarsError> {
    let mut t = EpisodeColumns::default();
    for r in rows {
        let Ok(result) = &r.result else { continue };
        let area = r.meta.probe_area_cm2;
        for (i, x) in result.episodes.iter().enumerate() {
            let e = &x.episode;
            let p = e.plateau.as_ref();
            t.recording.push(r.id.clone());
            t.episode.push(i as u32 + 1);
            t.start_s.push(e.start_s);
            t.end_s.push(e.end_s);
            t.technique.push(e.technique.as_str().to_string());
            t.muscle.push(
                r.meta
                    .palpated_muscle
                    .as_ref()
                    .map(|m| m.as_str().to_string()),
            );
            t.side
                .push(r.meta.palpated_side.map(|s| s.as_str().to_string()));
            t.site.push(r.meta.palpation_site.clone());
            t.peak_n.push(e.peak_n);
            t.plateau_n.push(p.map(|p| p.plateau_n));
            t.plateau_kpa
                .push(p.map(|p| pressure_kpa(p.plateau_n, area)));
            t.plateau_cv.push(p.map(|p| p.plateau_cv));
            t.ramp_n_per_s
                .push(p.and_then(|p| p.ramp_n_per_s).or(e.ppt_ramp_n_per_s));
            t.hold_s.push(p.map(|p| p.hold_s));
            t.steps.push(p.map(|p| p.steps as u32));
            t.ppt_n.push(e.ppt_n);
            t.ppt_kpa.push(e.ppt_n.map(|f| pressure_kpa(f, area)));
            t.snap_count.push(x.evidence.snap_overs.len() as u32);
            t.harmonic_ratio.push(x.evidence.harmonic_ratio);
            t.stiffness_n_per_mm.push(x.evidence.stiffness_n_per_mm);
            t.emg_elevation
                .push(x.evidence.emg_elevation.map(|(r, _)| r));
            t.mdf_start_hz.push(x.mdf_edges_hz[0]);
            t.mdf_end_hz.push(x.mdf_edges_hz[1]);
            t.taut_band.push(x.taut_band.map(|(_, b)| b));
            t.taut_band_score.push(x.taut_band.map(|(s, _)| s));
            t.withdrawal.push(x.withdrawal);
            t.audit.push(
                x.audit
                    .as_ref()
                    .map(|a| if a.ok() { "ok" } else { "flagged" }.to_string()),
            );
            t.audit_flags.push(x.audit.as_ref().map(|a| {
                a.flags
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(";")
            }));
        }
    }
    frame(vec![
        column("recording", t.recording),
        column("episode", t.episode),
        column("start_s", t.start_s),
        column("end_s", t.end_s),
        column("technique", t.technique),
        column("muscle", t.muscle),
        column("side", t.side),
        column("site", t.site),
        column("peak_n", t.peak_n),
        column("plateau_n", t.plateau_n),
        column("plateau_kpa", t.plateau_kpa),
        column("plateau_cv", t.plateau_cv),
        column("ramp_n_per_s", t.ramp_n_per_s),
        column("hold_s", t.hold_s),
        column("steps", t.steps),
        column("ppt_n", t.ppt_n),
        column("ppt_kpa", t.ppt_kpa),
        column("snap_count", t.snap_count),
        column("harmonic_ratio", t.harmonic_ratio),
        column("stiffness_n_per_mm", t.stiffness_n_per_mm),
        column("emg_elevation", t.emg_elevation),
        column("mdf_start_hz", t.mdf_start_hz),
        column("mdf_end_hz", t.mdf_end_hz),
        column("taut_band", t.taut_band),
        column("taut_band_score", t.taut_band_score),
        column("withdrawal", t.withdrawal),
        column("audit", t.audit),
        column("audit_flags", t.audit_flags),
    ])
}

#[derive(Default)]
struct EpisodeColumns {
    recording: Vec<String>,
    episode: Vec<u32>,
    start_s: Vec<f64>,
    end_s: Vec<f64>,
    technique: Vec<String>,
    muscle: Vec<Option<String>>,
    side: Vec<Option<String>>,
    site: Vec<Option<String>>,
    peak_n: Vec<f64>,
    plateau_n: Vec<Option<f64>>,
    plateau_kpa: Vec<Option<f64>>,
    plateau_cv: Vec<Option<f64>>,
    ramp_n_per_s: Vec<Option<f64>>,
    hold_s: Vec<Option<f64>>,
    steps: Vec<Option<u32>>,
    ppt_n: Vec<Option<f64>>,
    ppt_kpa: Vec<Option<f64>>,
    snap_count: Vec<u32>,
    harmonic_ratio: Vec<Option<f64>>,
    stiffness_n_per_mm: Vec<Option<f64>>,
    emg_elevation: Vec<Option<f64>>,
    mdf_start_hz: Vec<Option<f64>>,
    mdf_end_hz: Vec<Option<f64>>,
    taut_band: Vec<Option<bool>>,
    taut_band_score: Vec<Option<f64>>,
    withdrawal: Vec<bool>,
    audit: Vec<Option<String>>,
    audit_flags: Vec<Option<String>>,
}

/// `twitches`.
pub fn twitches_table(rows: &[RecordingSummary]) -> Result<DataFrame, PolarsError> {
    let mut t = TwitchColumns::default();
    for r in rows {
        let Ok(result) = &r.result else { continue };
        for x in &result.twitches.twitches {
            t.recording.push(r.id.clone());
            t.episode.push(x.episode as u32 + 1);
            t.channel.push(result.palpated_channel.clone());
            t.muscle.push(
                r.meta
                    .palpated_muscle
                    .as_ref()
                    .map(|m| m.as_str().to_string()),
            );
            t.side
                .push(r.meta.palpated_side.map(|s| s.as_str().to_string()));
            t.onset_s.push(x.onset_s);
            t.offset_s.push(x.offset_s);
            t.latency_ms.push(x.latency_ms);
            t.duration_ms.push((x.offset_s - x.onset_s) * 1e3);
            t.emg_peak_uv.push(x.emg_peak_uv);
            t.emg_snr_db.push(x.emg_snr_db);
            t.force_twitch_n.push(x.force_twitch_n);
            t.modality.push(x.modality.as_str().to_string());
            t.confidence.push(x.confidence);
        }
    }
    frame(vec![
        column("recording", t.recording),
        column("episode", t.episode),
        column("channel", t.channel),
        column("muscle", t.muscle),
        column("side", t.side),
        column("onset_s", t.onset_s),
        column("offset_s", t.offset_s),
        column("latency_ms", t.latency_ms),
        column("duration_ms", t.duration_ms),
        column("emg_peak_uv", t.emg_peak_uv),
        column("emg_snr_db", t.emg_snr_db),
        column("force_twitch_n", t.force_twitch_n),
        column("modality", t.modality),
        column("confidence", t.confidence),
    ])
}

#[derive(Default)]
struct TwitchColumns {
    recording: Vec<String>,
    episode: Vec<u32>,
    channel: Vec<Option<String>>,
    muscle: Vec<Option<String>>,
    side: Vec<Option<String>>,
    onset_s: Vec<f64>,
    offset_s: Vec<f64>,
    latency_ms: Vec<Option<f64>>,
    duration_ms: Vec<f64>,
    emg_peak_uv: Vec<Option<f64>>,
    emg_snr_db: Vec<Option<f64>>,
    force_twitch_n: Vec<Option<f64>>,
    modality: Vec<String>,
    confidence: Vec<f64>,
}

/// Writes `OUT/<name>.parquet` and/or `.csv`, each under a temporary name then renamed.
///
/// # Errors
/// [`Error::Output`] naming the file.
pub fn write_table(
    out: &Path,
    name: &str,
    df: &mut DataFrame,
    format: TableFormat,
) -> Result<(), Error> {
    if matches!(format, TableFormat::Parquet | TableFormat::Both) {
        crate::pipeline::write_parquet(&out.join(format!("{name}.parquet")), df)?;
    }
    if matches!(format, TableFormat::Csv | TableFormat::Both) {
        crate::pipeline::write_atomically(&out.join(format!("{name}.csv")), |file| {
            CsvWriter::new(file).finish(df)
        })?;
    }
    Ok(())
}
