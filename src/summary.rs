//! The output tables (DESIGN §4) as polars DataFrames, and writing them.
//!
//! Rows come sorted by recording id, then episode or onset, and no value depends on the
//! clock, so the same inputs and config give byte-identical files. Missing values are nulls.

use polars::prelude::*;

use crate::detect::audit::AuditFlag;
use crate::detect::episodes::Plateau;
use crate::detect::episodes::Technique;
use crate::detect::twitch::Twitch;
use crate::detect::{ChannelResult, EpisodeResult, RecordingResult};
use crate::ingest::{ChannelInfo, RecordingInfo};
use crate::model::{pressure_kpa, RecordingMeta};

/// One recording of the batch: what was read of it and what was found, or why it failed.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
    /// The recording file and its sidecars.
    pub inputs: Vec<InputFile>,
    /// Seconds spent loading, conditioning and analysing (for `run.json`, never a table).
    pub stage_s: [f64; 3],
    /// Figures written for it: (title, stem relative to the output folder).
    pub figures: Vec<(String, String)>,
}

impl RecordingSummary {
    /// What a reader of its figures must know: ingest warnings and defaults that change
    /// numbers, then the analysis's notes.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.meta.notes();
        if let Ok(x) = &self.result {
            notes.extend(x.notes.iter().cloned());
        }
        notes
    }
}

/// One input file of a recording: its path relative to the dataset, its size in bytes and
/// its SHA-256, the key of the recording's stored part.
pub type InputFile = (String, u64, String);

/// The six tables of a batch (DESIGN §4). The report reads its counts from them, so a
/// count has one definition: the table's.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    /// One row per recording.
    pub recordings: DataFrame,
    /// One row per channel.
    pub channels: DataFrame,
    /// One row per contact episode.
    pub episodes: DataFrame,
    /// One row per LTR.
    pub twitches: DataFrame,
    /// One row per subject × session × muscle × side.
    pub muscles: DataFrame,
    /// One row per therapist.
    pub therapists: DataFrame,
}

/// The tables' file names, in the order they are written (DESIGN §4).
pub const TABLE_NAMES: [&str; 6] = [
    "recordings",
    "channels",
    "episodes",
    "twitches",
    "muscles",
    "therapists",
];

impl Tables {
    /// Every table of the batch's recordings.
    ///
    /// # Errors
    /// What polars reports (a bug: the columns are palpa's own).
    pub fn build(rows: &[RecordingSummary]) -> PolarsResult<Tables> {
        Ok(Tables {
            recordings: recordings_table(rows)?,
            channels: channels_table(rows)?,
            episodes: episodes_table(rows)?,
            twitches: twitches_table(rows)?,
            muscles: muscles_table(rows)?,
            therapists: therapists_table(rows)?,
        })
    }

    /// Each table with its file name, in the order they are written.
    pub fn each_mut(&mut self) -> [(&'static str, &mut DataFrame); 6] {
        let frames = [
            &mut self.recordings,
            &mut self.channels,
            &mut self.episodes,
            &mut self.twitches,
            &mut self.muscles,
            &mut self.therapists,
        ];
        let mut names = TABLE_NAMES.into_iter();
        frames.map(|df| (names.next().unwrap_or_default(), df))
    }

    /// sEMG channels notched, and sEMG channels conditioned (not `bad`), over the batch.
    pub fn notched_channels(&self) -> [usize; 2] {
        let (Ok(kind), Ok(qc), Ok(notched)) = (
            text_column(&self.channels, "kind"),
            text_column(&self.channels, "qc"),
            self.channels
                .column("notched")
                .and_then(|c| c.bool().cloned()),
        ) else {
            return [0, 0];
        };
        kind.iter()
            .zip(&qc)
            .zip(notched.iter())
            .filter(|((kind, qc), _)| *kind == "emg" && *qc != "bad")
            .fold([0, 0], |[n, of], (_, x)| {
                [n + usize::from(x == Some(true)), of + 1]
            })
    }
}

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
                .map(|r| force_measured(r).map(|x| x.episodes.len() as u32))
                .collect(),
        ),
        column(
            "n_twitches",
            rows.iter()
                .map(|r| force_measured(r).map(|x| x.twitches.twitches.len() as u32))
                .collect(),
        ),
        column(
            "status",
            rows.iter().map(|r| status(r).to_string()).collect(),
        ),
        column(
            "error",
            rows.iter()
                .map(|r| match &r.result {
                    Err(e) => Some(e.clone()),
                    Ok(x) => x.skipped.clone(),
                })
                .collect(),
        ),
        column(
            "notes",
            rows.iter()
                .map(|r| {
                    let notes = r.notes();
                    (!notes.is_empty()).then(|| notes.join("; "))
                })
                .collect(),
        ),
    ])
}

/// `ok`, `skipped` (read, but nothing palpa analyses; the reason in `error`) or `failed`.
pub fn status(r: &RecordingSummary) -> &'static str {
    match &r.result {
        Ok(x) if x.skipped.is_some() => "skipped",
        Ok(_) => "ok",
        Err(_) => "failed",
    }
}

/// The findings of a recording whose force was analysed; without force, episode and
/// twitch counts are not measured (null), not 0.
fn force_measured(r: &RecordingSummary) -> Option<&RecordingResult> {
    r.result.as_ref().ok().filter(|x| x.force_measured)
}

/// One value per item: the column, named once, next to how its value is found.
fn column_of<T, V>(name: &str, items: &[T], value: impl Fn(&T) -> V) -> Column
where
    Series: NamedFrom<Vec<V>, [V]>,
{
    column(name, items.iter().map(value).collect())
}

fn plateau(x: &EpisodeResult) -> Option<&Plateau> {
    x.episode.plateau.as_ref()
}

fn muscle_of(meta: &RecordingMeta) -> Option<String> {
    meta.palpated_muscle
        .as_ref()
        .map(|m| m.as_str().to_string())
}

fn side_of(meta: &RecordingMeta) -> Option<String> {
    meta.palpated_side.map(|s| s.as_str().to_string())
}

/// The processed recordings, with their findings.
fn processed(rows: &[RecordingSummary]) -> Vec<(&RecordingSummary, &RecordingResult)> {
    rows.iter()
        .filter_map(|r| Some((r, r.result.as_ref().ok()?)))
        .collect()
}

/// `channels`.
pub fn channels_table(rows: &[RecordingSummary]) -> Result<DataFrame, PolarsError> {
    let items: Vec<(&RecordingSummary, &ChannelInfo, &ChannelResult)> = processed(rows)
        .into_iter()
        .filter_map(|(r, x)| Some((r, r.info.as_ref()?, x)))
        .flat_map(|(r, info, x)| {
            info.channels
                .iter()
                .zip(&x.channels)
                .map(move |(c, q)| (r, c, q))
        })
        .collect();
    frame(vec![
        column_of("recording", &items, |(r, _, _)| r.id.clone()),
        column_of("channel", &items, |(_, c, _)| c.name.clone()),
        column_of("kind", &items, |(_, c, _)| c.kind.as_str().to_string()),
        column_of("unit", &items, |(_, c, _)| c.unit.clone()),
        column_of("fs_hz", &items, |(_, c, _)| c.fs_hz),
        column_of("muscle", &items, |(_, c, _)| c.muscle.clone()),
        column_of("side", &items, |(_, c, _)| c.side.clone()),
        column_of("duration_s", &items, |(_, c, _)| c.duration_s),
        column_of("rest_rms_uv", &items, |(_, _, x)| x.rest_rms_uv),
        column_of("mnf_hz", &items, |(_, _, x)| x.mnf_hz),
        column_of("mdf_hz", &items, |(_, _, x)| x.mdf_hz),
        column_of("mains_hz", &items, |(_, _, x)| x.qc.mains_hz),
        column_of("mains_snr_db", &items, |(_, _, x)| x.qc.mains_snr_db),
        column_of("notched", &items, |(_, _, x)| x.qc.notched),
        column_of("lowfreq_ratio", &items, |(_, _, x)| x.qc.lowfreq_ratio),
        column_of("clipped_fraction", &items, |(_, _, x)| {
            x.qc.clipped_fraction
        }),
        column_of("flat_fraction", &items, |(_, _, x)| x.qc.flat_fraction),
        column_of("nan_fraction", &items, |(_, _, x)| x.qc.nan_fraction),
        column_of("qc", &items, |(_, _, x)| x.qc.qc.as_str().to_string()),
        column_of("qc_reasons", &items, |(_, _, x)| x.qc.reasons.join("; ")),
    ])
}

/// `episodes`.
pub fn episodes_table(rows: &[RecordingSummary]) -> Result<DataFrame, PolarsError> {
    let items: Vec<(&RecordingSummary, u32, &EpisodeResult)> = processed(rows)
        .into_iter()
        .flat_map(|(r, x)| (1..).zip(&x.episodes).map(move |(i, e)| (r, i, e)))
        .collect();
    let area = |r: &RecordingSummary| r.meta.probe_area_cm2;
    frame(vec![
        column_of("recording", &items, |(r, _, _)| r.id.clone()),
        column_of("episode", &items, |(_, i, _)| *i),
        column_of("start_s", &items, |(_, _, x)| x.episode.start_s),
        column_of("end_s", &items, |(_, _, x)| x.episode.end_s),
        column_of("technique", &items, |(_, _, x)| {
            x.episode.technique.as_str().to_string()
        }),
        column_of("muscle", &items, |(r, _, _)| muscle_of(&r.meta)),
        column_of("side", &items, |(r, _, _)| side_of(&r.meta)),
        column_of("site", &items, |(r, _, _)| r.meta.palpation_site.clone()),
        column_of("peak_n", &items, |(_, _, x)| x.episode.peak_n),
        column_of("plateau_n", &items, |(_, _, x)| {
            plateau(x).map(|p| p.plateau_n)
        }),
        column_of("plateau_kpa", &items, |(r, _, x)| {
            plateau(x).map(|p| pressure_kpa(p.plateau_n, area(r)))
        }),
        column_of("plateau_cv", &items, |(_, _, x)| {
            plateau(x).map(|p| p.plateau_cv)
        }),
        column_of("ramp_n_per_s", &items, |(_, _, x)| {
            plateau(x)
                .and_then(|p| p.ramp_n_per_s)
                .or(x.episode.ppt_ramp_n_per_s)
        }),
        column_of("hold_s", &items, |(_, _, x)| plateau(x).map(|p| p.hold_s)),
        column_of("steps", &items, |(_, _, x)| {
            plateau(x).map(|p| p.steps as u32)
        }),
        column_of("ppt_n", &items, |(_, _, x)| x.episode.ppt_n),
        column_of("ppt_kpa", &items, |(r, _, x)| {
            x.episode.ppt_n.map(|f| pressure_kpa(f, area(r)))
        }),
        column_of("plateau_pct_ppt", &items, |(_, _, x)| {
            x.audit.as_ref().and_then(|a| a.plateau_pct_ppt)
        }),
        column_of("snap_count", &items, |(_, _, x)| {
            x.evidence.snap_overs.len() as u32
        }),
        column_of("harmonic_ratio", &items, |(_, _, x)| {
            x.evidence.harmonic_ratio
        }),
        column_of("stiffness_n_per_mm", &items, |(_, _, x)| {
            x.evidence.stiffness_n_per_mm
        }),
        column_of("emg_elevation", &items, |(_, _, x)| {
            x.evidence.emg_elevation.map(|(ratio, _)| ratio)
        }),
        column_of("mdf_start_hz", &items, |(_, _, x)| x.mdf_edges_hz[0]),
        column_of("mdf_end_hz", &items, |(_, _, x)| x.mdf_edges_hz[1]),
        column_of("taut_band", &items, |(_, _, x)| x.taut_band.map(|(_, b)| b)),
        column_of("taut_band_score", &items, |(_, _, x)| {
            x.taut_band.map(|(s, _)| s)
        }),
        column_of("withdrawal", &items, |(_, _, x)| x.withdrawal),
        column_of("audit", &items, |(_, _, x)| {
            x.audit
                .as_ref()
                .map(|a| if a.ok() { "ok" } else { "flagged" }.to_string())
        }),
        column_of("audit_flags", &items, |(_, _, x)| {
            x.audit.as_ref().map(|a| {
                a.flags
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(";")
            })
        }),
    ])
}

/// `twitches`.
pub fn twitches_table(rows: &[RecordingSummary]) -> Result<DataFrame, PolarsError> {
    let items: Vec<(&RecordingSummary, &RecordingResult, &Twitch)> = processed(rows)
        .into_iter()
        .flat_map(|(r, x)| x.twitches.twitches.iter().map(move |t| (r, x, t)))
        .collect();
    frame(vec![
        column_of("recording", &items, |(r, _, _)| r.id.clone()),
        column_of("episode", &items, |(_, _, t)| t.episode as u32 + 1),
        column_of("channel", &items, |(_, x, _)| x.palpated_channel.clone()),
        column_of("muscle", &items, |(r, _, _)| muscle_of(&r.meta)),
        column_of("side", &items, |(r, _, _)| side_of(&r.meta)),
        column_of("onset_s", &items, |(_, _, t)| t.onset_s),
        column_of("emg_onset_s", &items, |(_, _, t)| t.emg_onset_s),
        column_of("force_onset_s", &items, |(_, _, t)| t.force_onset_s),
        column_of("offset_s", &items, |(_, _, t)| t.offset_s),
        column_of("latency_ms", &items, |(_, _, t)| t.latency_ms),
        column_of("duration_ms", &items, |(_, _, t)| {
            (t.offset_s - t.onset_s) * 1e3
        }),
        column_of("emg_peak_uv", &items, |(_, _, t)| t.emg_peak_uv),
        column_of("emg_snr_db", &items, |(_, _, t)| t.emg_snr_db),
        column_of("force_twitch_n", &items, |(_, _, t)| t.force_twitch_n),
        column_of("modality", &items, |(_, _, t)| {
            t.modality.as_str().to_string()
        }),
        column_of("confidence", &items, |(_, _, t)| t.confidence),
    ])
}

/// The `episodes` table with its recording's subject, session and therapist, and whether
/// the audit found over-pressure: the facts the `muscles` and `therapists` group-bys
/// aggregate.
fn episode_facts(rows: &[RecordingSummary]) -> PolarsResult<DataFrame> {
    let processed = processed(rows);
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
    let items: Vec<(&RecordingSummary, &RecordingResult, Option<&ChannelResult>)> = processed(rows)
        .into_iter()
        .filter_map(|(r, x)| {
            let info = r.info.as_ref()?;
            let palpated = x.palpated_channel.as_ref().and_then(|name| {
                let i = info.channels.iter().position(|c| &c.name == name)?;
                x.channels.get(i)
            });
            Some((r, x, palpated))
        })
        .collect();
    frame(vec![
        column_of("subject", &items, |(r, _, _)| r.meta.subject.clone()),
        column_of("session", &items, |(r, _, _)| r.meta.session.clone()),
        column_of("therapist", &items, |(r, _, _)| r.meta.therapist.clone()),
        column_of("muscle", &items, |(r, _, _)| muscle_of(&r.meta)),
        column_of("side", &items, |(r, _, _)| side_of(&r.meta)),
        column_of("recording", &items, |(r, _, _)| r.id.clone()),
        column_of("session_key", &items, |(r, _, _)| {
            format!(
                "{}/{}",
                r.meta.subject.as_deref().unwrap_or(""),
                r.meta.session.as_deref().unwrap_or("")
            )
        }),
        column_of("n_twitches", &items, |(_, x, _)| {
            x.twitches.twitches.len() as u32
        }),
        // Null, not 0, when no palpated sEMG channel was analysed: not measurable.
        column_of("n_emg_twitches", &items, |(_, x, _)| {
            x.palpated_channel.as_ref().map(|_| {
                let t = &x.twitches.twitches;
                t.iter().filter(|t| t.emg_onset_s.is_some()).count() as u32
            })
        }),
        column_of("rest_rms_uv", &items, |(_, _, c)| {
            c.and_then(|c| c.rest_rms_uv)
        }),
        column_of("mdf_hz", &items, |(_, _, c)| c.and_then(|c| c.mdf_hz)),
    ])
}

/// A left join in which a missing key (no session, say) matches a missing key.
fn left_join_matching_nulls() -> JoinArgs {
    JoinArgs {
        nulls_equal: true,
        ..JoinArgs::new(JoinType::Left)
    }
}

/// An episode the audit passed (a hold or PPT trial); `holds_ok` counts the holds among them.
pub fn audit_ok() -> Expr {
    col("audit").eq(lit("ok"))
}

/// An episode of `technique`.
pub fn is(technique: Technique) -> Expr {
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
        // A sum over no measured recording is unknown, not 0.
        when(col("n_emg_twitches").count().gt(lit(0)))
            .then(col("n_emg_twitches").sum())
            .otherwise(lit(NULL).cast(DataType::UInt32))
            .alias("n_emg_twitches"),
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
                "n_emg_twitches",
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
