//! The output tables (DESIGN §4) as polars DataFrames, and writing them.
//!
//! Rows come sorted by recording id, then episode or onset, and no value depends on the
//! clock, so the same inputs and config give byte-identical files. Missing values are nulls.

use std::path::Path;

use polars::prelude::*;

use crate::audit::AuditFlag;
use crate::detect::episodes::Technique;
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
    /// The recording file and its sidecars: path, bytes, SHA-256.
    pub inputs: Vec<(String, u64, String)>,
    /// Seconds spent loading, conditioning and analysing (for `run.json`, never a table).
    pub stage_s: [f64; 3],
    /// Figures written for it: (title, stem relative to the output folder).
    pub figures: Vec<(String, String)>,
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

/// Every table, by file name, in the order they are written (DESIGN §4).
pub const TABLES: [(&str, TableBuilder); 6] = [
    ("recordings", recordings_table),
    ("channels", channels_table),
    ("episodes", episodes_table),
    ("twitches", twitches_table),
    ("muscles", muscles_table),
    ("therapists", therapists_table),
];

/// A column's values as `f64`, nulls as `None`.
///
/// # Errors
/// No such column, or one that does not cast to a number.
pub fn float_column(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().collect())
}

/// A column's values as text, nulls as empty.
///
/// # Errors
/// No such column.
pub fn text_column(df: &DataFrame, name: &str) -> PolarsResult<Vec<String>> {
    let c = df.column(name)?.cast(&DataType::String)?;
    Ok(c.str()?
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect())
}

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
            t.plateau_pct_ppt
                .push(x.audit.as_ref().and_then(|a| a.plateau_pct_ppt));
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
        column("plateau_pct_ppt", t.plateau_pct_ppt),
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
    plateau_pct_ppt: Vec<Option<f64>>,
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

/// The `episodes` table with its recording's subject, session and therapist, and whether
/// the audit found over-pressure: the facts the `muscles` and `therapists` group-bys
/// aggregate.
fn episode_facts(rows: &[RecordingSummary]) -> PolarsResult<DataFrame> {
    let processed: Vec<(&RecordingSummary, &RecordingResult)> = rows
        .iter()
        .filter_map(|r| Some((r, r.result.as_ref().ok()?)))
        .collect();
    let per_episode = |f: fn(&RecordingMeta) -> &Option<String>| -> Vec<Option<String>> {
        processed
            .iter()
            .flat_map(|(r, x)| std::iter::repeat_n(f(&r.meta).clone(), x.episodes.len()))
            .collect()
    };
    let over_pressure: Vec<bool> = processed
        .iter()
        .flat_map(|(_, x)| &x.episodes)
        .map(|e| {
            e.audit
                .as_ref()
                .is_some_and(|a| a.flags.contains(&AuditFlag::OverPressure))
        })
        .collect();
    let mut df = episodes_table(rows)?;
    df.with_column(column("subject", per_episode(|m| &m.subject)))?;
    df.with_column(column("session", per_episode(|m| &m.session)))?;
    df.with_column(column("therapist", per_episode(|m| &m.therapist)))?;
    df.with_column(column("over_pressure", over_pressure))?;
    Ok(df)
}

/// One row per processed recording: who, which muscle, and the palpated channel's figures.
fn recording_facts(rows: &[RecordingSummary]) -> PolarsResult<DataFrame> {
    let mut subject = Vec::new();
    let mut session = Vec::new();
    let mut therapist = Vec::new();
    let mut muscle = Vec::new();
    let mut side = Vec::new();
    let mut recording = Vec::new();
    let mut session_key = Vec::new();
    let mut n_twitches = Vec::new();
    let mut rest_rms_uv = Vec::new();
    let mut mdf_hz = Vec::new();
    for r in rows {
        let (Some(info), Ok(result)) = (&r.info, &r.result) else {
            continue;
        };
        let palpated = result.palpated_channel.as_ref().and_then(|name| {
            let i = info.channels.iter().position(|c| &c.name == name)?;
            result.channels.get(i)
        });
        subject.push(r.meta.subject.clone());
        session.push(r.meta.session.clone());
        therapist.push(r.meta.therapist.clone());
        muscle.push(
            r.meta
                .palpated_muscle
                .as_ref()
                .map(|m| m.as_str().to_string()),
        );
        side.push(r.meta.palpated_side.map(|s| s.as_str().to_string()));
        recording.push(r.id.clone());
        session_key.push(format!(
            "{}/{}",
            r.meta.subject.as_deref().unwrap_or(""),
            r.meta.session.as_deref().unwrap_or("")
        ));
        n_twitches.push(result.twitches.twitches.len() as u32);
        rest_rms_uv.push(palpated.and_then(|c| c.rest_rms_uv));
        mdf_hz.push(palpated.and_then(|c| c.mdf_hz));
    }
    frame(vec![
        column("subject", subject),
        column("session", session),
        column("therapist", therapist),
        column("muscle", muscle),
        column("side", side),
        column("recording", recording),
        column("session_key", session_key),
        column("n_twitches", n_twitches),
        column("rest_rms_uv", rest_rms_uv),
        column("mdf_hz", mdf_hz),
    ])
}

/// A left join in which a missing key (no session, say) matches a missing key.
fn left_join_matching_nulls() -> JoinArgs {
    JoinArgs {
        nulls_equal: true,
        ..JoinArgs::new(JoinType::Left)
    }
}

/// A hold or trial the audit passed.
fn audit_ok() -> Expr {
    col("audit").eq(lit("ok"))
}

fn is(technique: Technique) -> Expr {
    col("technique").eq(lit(technique.as_str()))
}

/// `muscles`: one row per subject × session × muscle × side, from lazy group-bys over the
/// recordings and the episodes, joined on those keys (missing keys match each other).
pub fn muscles_table(rows: &[RecordingSummary]) -> PolarsResult<DataFrame> {
    let keys = ["subject", "session", "muscle", "side"];
    let key_cols = || keys.map(col);
    let episodes = episode_facts(rows)?.lazy().group_by(key_cols()).agg([
        len().alias("n_episodes"),
        (col("end_s") - col("start_s")).sum().alias("contact_s"),
        is(Technique::Snap).sum().alias("n_snaps"),
        col("taut_band").sum().alias("taut_band_episodes"),
        col("ppt_kpa")
            .filter(is(Technique::Ppt))
            .mean()
            .alias("ppt_kpa_mean"),
        is(Technique::Ppt).sum().alias("ppt_trials"),
        is(Technique::Hold).sum().alias("n_holds"),
        audit_ok()
            .filter(is(Technique::Hold))
            .sum()
            .alias("holds_ok"),
        col("hold_s").median().alias("hold_s_median"),
        col("plateau_kpa").median().alias("plateau_kpa_median"),
        col("plateau_pct_ppt")
            .median()
            .alias("plateau_pct_ppt_median"),
        col("withdrawal").sum().alias("n_withdrawals"),
    ]);
    let recordings = recording_facts(rows)?.lazy().group_by(key_cols()).agg([
        col("recording").n_unique().alias("n_recordings"),
        col("n_twitches").sum(),
        col("rest_rms_uv").median(),
        col("mdf_hz").median().alias("mdf_hz_median"),
    ]);
    let per_snap = when(col("n_snaps").gt(lit(0)))
        .then(col("n_twitches").cast(DataType::Float64) / col("n_snaps").cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
        .alias("twitches_per_snap");
    recordings
        .join(episodes, key_cols(), key_cols(), left_join_matching_nulls())
        .with_column(per_snap)
        .select(
            [
                "subject",
                "session",
                "muscle",
                "side",
                "n_recordings",
                "n_episodes",
                "contact_s",
                "n_snaps",
                "n_twitches",
                "twitches_per_snap",
                "taut_band_episodes",
                "ppt_kpa_mean",
                "ppt_trials",
                "n_holds",
                "holds_ok",
                "hold_s_median",
                "plateau_kpa_median",
                "plateau_pct_ppt_median",
                "rest_rms_uv",
                "mdf_hz_median",
                "n_withdrawals",
            ]
            .map(col),
        )
        .sort(keys, SortMultipleOptions::default().with_nulls_last(true))
        .collect()
}

/// `therapists`: the audit per therapist, a lazy group-by over the episodes joined with the
/// count of sessions each one saw.
pub fn therapists_table(rows: &[RecordingSummary]) -> PolarsResult<DataFrame> {
    let n_holds = is(Technique::Hold).sum();
    let episodes = episode_facts(rows)?
        .lazy()
        .group_by([col("therapist")])
        .agg([
            n_holds.clone().alias("n_holds"),
            when(n_holds.clone().gt(lit(0)))
                .then(
                    audit_ok()
                        .filter(is(Technique::Hold))
                        .sum()
                        .cast(DataType::Float64)
                        / n_holds.cast(DataType::Float64)
                        * lit(100.0),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("holds_ok_pct"),
            col("hold_s").median().alias("hold_s_median"),
            col("ramp_n_per_s")
                .filter(is(Technique::Hold))
                .median()
                .alias("ramp_n_per_s_median"),
            col("over_pressure").sum(),
            col("withdrawal").sum().alias("withdrawals"),
        ]);
    recording_facts(rows)?
        .lazy()
        .group_by([col("therapist")])
        .agg([col("session_key").n_unique().alias("n_sessions")])
        .join(
            episodes,
            [col("therapist")],
            [col("therapist")],
            left_join_matching_nulls(),
        )
        .select(
            [
                "therapist",
                "n_sessions",
                "n_holds",
                "holds_ok_pct",
                "hold_s_median",
                "ramp_n_per_s_median",
                "over_pressure",
                "withdrawals",
            ]
            .map(col),
        )
        .sort(
            ["therapist"],
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .collect()
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
