//! Scoring a run's detections against simulated ground truth (DESIGN §6).
//!
//! Episodes are matched one to one within a recording by reciprocal overlap: the shared time
//! is at least half of each episode's duration. LTRs are matched one to one by onset within
//! ±50 ms, closest pairs first. Matched pairs then give the measurement errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::error::{output_error, Error};
use crate::signal::median;
use crate::summary::{float_column, text_column};

/// LTR onsets match within this (DESIGN §6).
pub const ONSET_TOLERANCE_S: f64 = 0.050;
/// Episodes match at this reciprocal overlap (DESIGN §6).
pub const MIN_OVERLAP_FRACTION: f64 = 0.5;

/// Precision, recall and F1 of one kind of detection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Detection {
    /// Truth items.
    pub truth: usize,
    /// Detected items.
    pub detected: usize,
    /// Matched pairs.
    pub matched: usize,
    /// matched / detected.
    pub precision: Option<f64>,
    /// matched / truth.
    pub recall: Option<f64>,
    /// Harmonic mean of the two.
    pub f1: Option<f64>,
}

impl Detection {
    fn new(truth: usize, detected: usize, matched: usize) -> Detection {
        let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
        let (precision, recall) = (ratio(matched, detected), ratio(matched, truth));
        let f1 = match (precision, recall) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        };
        Detection {
            truth,
            detected,
            matched,
            precision,
            recall,
            f1,
        }
    }
}

/// A figure the run's tables may not allow: `NotMeasured` when a column it needs is absent
/// (so it is never mistaken for 0 or for success). In JSON: the value, or `"not measured"`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Measured<T> {
    /// The run or the truth lacks the columns.
    #[default]
    NotMeasured,
    /// The figure; `None` when there was nothing to take it over.
    Value(Option<T>),
}

impl<T: Serialize> Serialize for Measured<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Measured::NotMeasured => s.serialize_str("not measured"),
            Measured::Value(v) => v.serialize(s),
        }
    }
}

/// Every figure `palpa evaluate` prints.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Scores {
    /// Contact episodes.
    pub episodes: Detection,
    /// Matched episodes whose technique is right, as a fraction.
    pub technique_accuracy: Option<f64>,
    /// Median |PPT error| / PPT over matched PPT trials.
    pub ppt_relative_error_median: Option<f64>,
    /// Median |hold_s error| over matched holds, s.
    pub hold_s_abs_error_median: Option<f64>,
    /// Median |plateau error| / plateau over matched holds.
    pub plateau_relative_error_median: Option<f64>,
    /// Taut bands among matched snap and strum episodes.
    pub taut_band: Detection,
    /// Withdrawals among matched holds.
    pub withdrawal: Detection,
    /// Matched holds whose withdrawal flag is right, as a fraction.
    pub withdrawal_accuracy: Option<f64>,
    /// LTRs.
    pub ltr: Detection,
    /// Median |onset error| of matched LTRs, ms.
    pub ltr_onset_error_median_ms: Option<f64>,
    /// LTR recall by true modality.
    pub ltr_recall_by_modality: BTreeMap<String, Option<f64>>,
    /// Median |sEMG onset error| over matched LTRs whose truth and detection both give
    /// `emg_onset_s`, ms.
    pub ltr_emg_onset_error_median_ms: Measured<f64>,
    /// Median |force onset error| over matched LTRs whose truth and detection both give
    /// `force_onset_s`, ms.
    pub ltr_force_onset_error_median_ms: Measured<f64>,
    /// Channels notched although the truth added no mains line (goal 0).
    pub mains_false_notches: Measured<usize>,
    /// Channels with a line of at least [`MAINS_MUST_NOTCH_DB`] left un-notched (goal 0).
    pub mains_missed_notches: Measured<usize>,
}

/// A mains line at least this strong over the background must be notched.
pub const MAINS_MUST_NOTCH_DB: f64 = 10.0;

/// An episode as both tables give it.
#[derive(Clone, Debug, PartialEq)]
pub struct EpisodeRow {
    /// Recording id.
    pub recording: String,
    /// Start.
    pub start_s: f64,
    /// End.
    pub end_s: f64,
    /// Technique word.
    pub technique: String,
    /// Taut band (null counts as no).
    pub taut_band: bool,
    /// PPT.
    pub ppt_kpa: Option<f64>,
    /// Plateau.
    pub plateau_n: Option<f64>,
    /// Hold.
    pub hold_s: Option<f64>,
    /// Withdrawal.
    pub withdrawal: bool,
}

/// An LTR as both tables give it.
#[derive(Clone, Debug, PartialEq)]
pub struct TwitchRow {
    /// Recording id.
    pub recording: String,
    /// Onset.
    pub onset_s: f64,
    /// `emg+force`, `emg` or `force`.
    pub modality: String,
    /// Onset in the sEMG, when the table has the column and the sEMG witnesses it.
    pub emg_onset_s: Option<f64>,
    /// Onset in the force, likewise.
    pub force_onset_s: Option<f64>,
}

/// One sEMG channel's mains: the truth's `channels.csv`, or the run's `channels` table.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelRow {
    /// Recording id.
    pub recording: String,
    /// Channel name as palpa names it.
    pub channel: String,
    /// Truth: a line was added; run: the channel was notched.
    pub mains: bool,
    /// Truth only: the line's strength over the background, dB.
    pub mains_snr_db: Option<f64>,
}

/// Scores detections against truth.
pub fn score(
    truth_episodes: &[EpisodeRow],
    detected_episodes: &[EpisodeRow],
    truth_twitches: &[TwitchRow],
    detected_twitches: &[TwitchRow],
) -> Scores {
    let pairs = match_episodes(truth_episodes, detected_episodes);
    let mut s = Scores {
        episodes: Detection::new(truth_episodes.len(), detected_episodes.len(), pairs.len()),
        ..Scores::default()
    };
    let matched = |f: &dyn Fn(&EpisodeRow) -> bool| -> Vec<(&EpisodeRow, &EpisodeRow)> {
        pairs
            .iter()
            .map(|&(t, d)| (&truth_episodes[t], &detected_episodes[d]))
            .filter(|(t, _)| f(t))
            .collect()
    };
    let fraction = |n: usize, of: usize| (of > 0).then(|| n as f64 / of as f64);
    let all = matched(&|_| true);
    s.technique_accuracy = fraction(
        all.iter()
            .filter(|(t, d)| t.technique == d.technique)
            .count(),
        all.len(),
    );
    let errors = |pairs: &[(&EpisodeRow, &EpisodeRow)],
                  f: &dyn Fn(&EpisodeRow, &EpisodeRow) -> Option<f64>| {
        let mut e: Vec<f64> = pairs.iter().filter_map(|(t, d)| f(t, d)).collect();
        median(&mut e)
    };
    let relative = |t: Option<f64>, d: Option<f64>| match (t, d) {
        (Some(t), Some(d)) if t != 0.0 => Some(((d - t) / t).abs()),
        _ => None,
    };
    let ppt = matched(&|t| t.technique == "ppt");
    s.ppt_relative_error_median = errors(&ppt, &|t, d| relative(t.ppt_kpa, d.ppt_kpa));
    let holds = matched(&|t| t.technique == "hold");
    s.hold_s_abs_error_median = errors(&holds, &|t, d| Some((d.hold_s? - t.hold_s?).abs()));
    s.plateau_relative_error_median = errors(&holds, &|t, d| relative(t.plateau_n, d.plateau_n));

    let binary = |pairs: &[(&EpisodeRow, &EpisodeRow)], f: fn(&EpisodeRow) -> bool| {
        Detection::new(
            pairs.iter().filter(|(t, _)| f(t)).count(),
            pairs.iter().filter(|(_, d)| f(d)).count(),
            pairs.iter().filter(|(t, d)| f(t) && f(d)).count(),
        )
    };
    let snaps = matched(&|t| t.technique == "snap" || t.technique == "strum");
    s.taut_band = binary(&snaps, |e| e.taut_band);
    s.withdrawal = binary(&holds, |e| e.withdrawal);
    s.withdrawal_accuracy = fraction(
        holds
            .iter()
            .filter(|(t, d)| t.withdrawal == d.withdrawal)
            .count(),
        holds.len(),
    );

    let ltr_pairs = match_twitches(truth_twitches, detected_twitches);
    s.ltr = Detection::new(
        truth_twitches.len(),
        detected_twitches.len(),
        ltr_pairs.len(),
    );
    let mut onset_ms: Vec<f64> = ltr_pairs
        .iter()
        .map(|&(t, d)| (detected_twitches[d].onset_s - truth_twitches[t].onset_s).abs() * 1e3)
        .collect();
    s.ltr_onset_error_median_ms = median(&mut onset_ms);
    let modality_error = |f: fn(&TwitchRow) -> Option<f64>| {
        let mut ms: Vec<f64> = ltr_pairs
            .iter()
            .filter_map(|&(t, d)| {
                Some((f(&detected_twitches[d])? - f(&truth_twitches[t])?).abs() * 1e3)
            })
            .collect();
        Measured::Value(median(&mut ms))
    };
    s.ltr_emg_onset_error_median_ms = modality_error(|t| t.emg_onset_s);
    s.ltr_force_onset_error_median_ms = modality_error(|t| t.force_onset_s);
    for modality in ["emg+force", "emg", "force"] {
        let of = truth_twitches
            .iter()
            .filter(|t| t.modality == modality)
            .count();
        let found = ltr_pairs
            .iter()
            .filter(|&&(t, _)| truth_twitches[t].modality == modality)
            .count();
        s.ltr_recall_by_modality
            .insert(modality.to_string(), fraction(found, of));
    }
    s
}

/// Notches against the mains truth, channel by channel (a channel missing from either side
/// is not counted): (notched without a line, line ≥ 10 dB not notched).
pub fn score_mains(truth: &[ChannelRow], notched: &[ChannelRow]) -> (usize, usize) {
    let mut false_notches = 0;
    let mut missed = 0;
    for t in truth {
        let Some(d) = notched
            .iter()
            .find(|d| d.recording == t.recording && d.channel == t.channel)
        else {
            continue;
        };
        if d.mains && !t.mains {
            false_notches += 1;
        }
        if !d.mains && t.mains && t.mains_snr_db.is_some_and(|db| db >= MAINS_MUST_NOTCH_DB) {
            missed += 1;
        }
    }
    (false_notches, missed)
}

/// One-to-one pairs (truth index, detected index) by reciprocal overlap, largest first.
fn match_episodes(truth: &[EpisodeRow], detected: &[EpisodeRow]) -> Vec<(usize, usize)> {
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (i, t) in truth.iter().enumerate() {
        for (j, d) in detected.iter().enumerate() {
            if t.recording != d.recording {
                continue;
            }
            let shared = t.end_s.min(d.end_s) - t.start_s.max(d.start_s);
            let longer = (t.end_s - t.start_s).max(d.end_s - d.start_s);
            if longer > 0.0 && shared / longer >= MIN_OVERLAP_FRACTION {
                candidates.push((shared / longer, i, j));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    greedy(candidates, truth.len(), detected.len())
}

/// One-to-one pairs by onset within ±50 ms, closest first.
fn match_twitches(truth: &[TwitchRow], detected: &[TwitchRow]) -> Vec<(usize, usize)> {
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (i, t) in truth.iter().enumerate() {
        for (j, d) in detected.iter().enumerate() {
            let dt = (t.onset_s - d.onset_s).abs();
            if t.recording == d.recording && dt <= ONSET_TOLERANCE_S {
                candidates.push((-dt, i, j));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    greedy(candidates, truth.len(), detected.len())
}

fn greedy(
    candidates: Vec<(f64, usize, usize)>,
    n_truth: usize,
    n_detected: usize,
) -> Vec<(usize, usize)> {
    let (mut t_used, mut d_used) = (vec![false; n_truth], vec![false; n_detected]);
    let mut pairs = Vec::new();
    for (_, i, j) in candidates {
        if !t_used[i] && !d_used[j] {
            t_used[i] = true;
            d_used[j] = true;
            pairs.push((i, j));
        }
    }
    pairs.sort_unstable();
    pairs
}

/// Reads `<dir>/<name>.parquet`, else `<dir>/<name>.csv`.
fn read_table(dir: &Path, name: &str) -> Result<DataFrame, Error> {
    let parquet = dir.join(format!("{name}.parquet"));
    let csv = dir.join(format!("{name}.csv"));
    let err = |path: &Path, e: &dyn std::fmt::Display| {
        output_error(path, format!("cannot read this table: {e}"))
    };
    if parquet.exists() {
        let file = std::fs::File::open(&parquet).map_err(|e| err(&parquet, &e))?;
        ParquetReader::new(file)
            .finish()
            .map_err(|e| err(&parquet, &e))
    } else if csv.exists() {
        CsvReadOptions::default()
            .with_has_header(true)
            .try_into_reader_with_file_path(Some(csv.clone()))
            .and_then(|r| r.finish())
            .map_err(|e| err(&csv, &e))
    } else {
        Err(Error::Output {
            path: parquet,
            message: format!(
                "expected the table {name}.parquet or {name}.csv here, found neither \
                 (palpa simulate writes the truth tables; give another folder with --truth)"
            ),
        })
    }
}

fn floats(df: &DataFrame, name: &str, at: &Path) -> Result<Vec<Option<f64>>, Error> {
    float_column(df, name).map_err(|e| column_error(df, at, name, e))
}

fn texts(df: &DataFrame, name: &str, at: &Path) -> Result<Vec<String>, Error> {
    text_column(df, name).map_err(|e| column_error(df, at, name, e))
}

fn column_error(df: &DataFrame, at: &Path, name: &str, e: PolarsError) -> Error {
    let found = match e {
        PolarsError::ColumnNotFound(_) => format!(
            "only {}",
            df.get_column_names()
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    };
    output_error(at, format!("expected a column `{name}`, found {found}"))
}

fn flags(df: &DataFrame, name: &str, at: &Path) -> Result<Vec<bool>, Error> {
    Ok(texts(df, name, at)?
        .into_iter()
        .map(|v| v.eq_ignore_ascii_case("true"))
        .collect())
}

fn episode_rows(df: &DataFrame, at: &Path) -> Result<Vec<EpisodeRow>, Error> {
    let recording = texts(df, "recording", at)?;
    let [start, end, ppt, plateau, hold] =
        ["start_s", "end_s", "ppt_kpa", "plateau_n", "hold_s"].map(|c| floats(df, c, at));
    let (start, end, ppt, plateau, hold) = (start?, end?, ppt?, plateau?, hold?);
    let technique = texts(df, "technique", at)?;
    let taut_band = flags(df, "taut_band", at)?;
    let withdrawal = flags(df, "withdrawal", at)?;
    Ok((0..df.height())
        .map(|i| EpisodeRow {
            recording: recording[i].clone(),
            start_s: start[i].unwrap_or(f64::NAN),
            end_s: end[i].unwrap_or(f64::NAN),
            technique: technique[i].clone(),
            taut_band: taut_band[i],
            ppt_kpa: ppt[i],
            plateau_n: plateau[i],
            hold_s: hold[i],
            withdrawal: withdrawal[i],
        })
        .collect())
}

/// Whether `df` has every one of `columns`.
fn has_columns(df: &DataFrame, columns: &[&str]) -> bool {
    let names = df.get_column_names();
    columns
        .iter()
        .all(|c| names.iter().any(|n| n.as_str() == *c))
}

/// A float column that may be absent (then all `None`).
fn optional_floats(df: &DataFrame, name: &str, at: &Path) -> Result<Vec<Option<f64>>, Error> {
    if has_columns(df, &[name]) {
        floats(df, name, at)
    } else {
        Ok(vec![None; df.height()])
    }
}

fn twitch_rows(df: &DataFrame, at: &Path) -> Result<Vec<TwitchRow>, Error> {
    let recording = texts(df, "recording", at)?;
    let onset = floats(df, "onset_s", at)?;
    let modality = texts(df, "modality", at)?;
    let emg_onset = optional_floats(df, "emg_onset_s", at)?;
    let force_onset = optional_floats(df, "force_onset_s", at)?;
    Ok((0..df.height())
        .map(|i| TwitchRow {
            recording: recording[i].clone(),
            onset_s: onset[i].unwrap_or(f64::NAN),
            modality: modality[i].clone(),
            emg_onset_s: emg_onset[i],
            force_onset_s: force_onset[i],
        })
        .collect())
}

/// Mains rows: the truth's (`mains_added`, `mains_snr_db`) or the run's EMG rows (`notched`).
fn channel_rows(df: &DataFrame, at: &Path, flag: &str) -> Result<Vec<ChannelRow>, Error> {
    let recording = texts(df, "recording", at)?;
    let channel = texts(df, "channel", at)?;
    let mains = flags(df, flag, at)?;
    let snr = optional_floats(df, "mains_snr_db", at)?;
    let emg = if has_columns(df, &["kind"]) {
        texts(df, "kind", at)?
            .into_iter()
            .map(|k| k.eq_ignore_ascii_case("emg"))
            .collect()
    } else {
        vec![true; df.height()]
    };
    Ok((0..df.height())
        .filter(|&i| emg[i])
        .map(|i| ChannelRow {
            recording: recording[i].clone(),
            channel: channel[i].clone(),
            mains: mains[i],
            mains_snr_db: snr[i],
        })
        .collect())
}

/// Reads a run's tables and the truth, and scores them.
///
/// # Errors
/// A missing or unreadable table, or a missing column.
pub fn evaluate(out: &Path, truth: &Path) -> Result<Scores, Error> {
    let detected_episodes = episode_rows(&read_table(out, "episodes")?, out)?;
    let detected_twitches = twitch_rows(&read_table(out, "twitches")?, out)?;
    let truth_episodes = episode_rows(&read_table(truth, "episodes")?, truth)?;
    let truth_twitches_df = read_table(truth, "twitches")?;
    let truth_twitches = twitch_rows(&truth_twitches_df, truth)?;
    let mut s = score(
        &truth_episodes,
        &detected_episodes,
        &truth_twitches,
        &detected_twitches,
    );
    // Per-modality onsets and notches need columns other parts of palpa may not write yet.
    let run_twitches = read_table(out, "twitches")?;
    for (column, score) in [
        ("emg_onset_s", &mut s.ltr_emg_onset_error_median_ms),
        ("force_onset_s", &mut s.ltr_force_onset_error_median_ms),
    ] {
        if !(has_columns(&run_twitches, &[column]) && has_columns(&truth_twitches_df, &[column])) {
            *score = Measured::NotMeasured;
        }
    }
    let run_channels = read_table(out, "channels")?;
    let truth_channels = read_table(truth, "channels").ok();
    if let Some(truth_channels) = truth_channels.filter(|t| {
        has_columns(&run_channels, &["notched", "mains_hz"])
            && has_columns(t, &["mains_added", "mains_snr_db"])
    }) {
        let (false_notches, missed) = score_mains(
            &channel_rows(&truth_channels, truth, "mains_added")?,
            &channel_rows(&run_channels, out, "notched")?,
        );
        s.mains_false_notches = Measured::Value(Some(false_notches));
        s.mains_missed_notches = Measured::Value(Some(missed));
    }
    Ok(s)
}

/// The truth folder of the dataset a run names in its `run.json`.
///
/// # Errors
/// No `run.json`, or one without a `dataset`.
pub fn truth_of_run(out: &Path) -> Result<PathBuf, Error> {
    let path = out.join("run.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Output {
        path: path.clone(),
        message: format!("cannot read it to find the dataset ({e}); pass --truth"),
    })?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Output {
        path: path.clone(),
        message: format!("not JSON: {e}"),
    })?;
    json.get("dataset")
        .and_then(|d| d.as_str())
        .map(|d| Path::new(d).join("derivatives").join("truth"))
        .ok_or(Error::Output {
            path,
            message: "has no `dataset` string; pass --truth".into(),
        })
}

/// The scores as a plain-text table.
pub fn render(s: &Scores) -> String {
    let opt = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
    let det = |name: &str, d: &Detection| {
        format!(
            "{name:<12} {:>6} {:>8} {:>7} {:>9} {:>6} {:>6}\n",
            d.truth,
            d.detected,
            d.matched,
            opt(d.precision, 3),
            opt(d.recall, 3),
            opt(d.f1, 3)
        )
    };
    let mut text = String::from("kind          truth detected matched precision recall     F1\n");
    text += &det("episodes", &s.episodes);
    text += &det("taut band", &s.taut_band);
    text += &det("withdrawal", &s.withdrawal);
    text += &det("LTR", &s.ltr);
    text += &format!(
        "\ntechnique accuracy          {}\nPPT relative error, median  {}\nhold_s error, median        {} s\nplateau relative error, med {}\nwithdrawal accuracy         {}\nLTR onset error, median     {} ms\n",
        opt(s.technique_accuracy, 3),
        opt(s.ppt_relative_error_median, 4),
        opt(s.hold_s_abs_error_median, 3),
        opt(s.plateau_relative_error_median, 4),
        opt(s.withdrawal_accuracy, 3),
        opt(s.ltr_onset_error_median_ms, 1),
    );
    for (m, r) in &s.ltr_recall_by_modality {
        text += &format!("LTR recall, {m:<16}{}\n", opt(*r, 3));
    }
    let measured = |m: Measured<f64>, digits: usize, unit: &str| match m {
        Measured::NotMeasured => "not measured".to_string(),
        Measured::Value(v) => format!("{}{unit}", opt(v, digits)),
    };
    let count = |m: Measured<usize>| match m {
        Measured::NotMeasured => "not measured".to_string(),
        Measured::Value(v) => v.map_or("-".into(), |v| v.to_string()),
    };
    text += &format!(
        "LTR sEMG onset error, median {}\nLTR force onset error, med  {}\nmains notched without line  {}\nmains line ≥ 10 dB missed   {}\n",
        measured(s.ltr_emg_onset_error_median_ms, 1, " ms"),
        measured(s.ltr_force_onset_error_median_ms, 1, " ms"),
        count(s.mains_false_notches),
        count(s.mains_missed_notches),
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(rec: &str, a: f64, z: f64, technique: &str) -> EpisodeRow {
        EpisodeRow {
            recording: rec.into(),
            start_s: a,
            end_s: z,
            technique: technique.into(),
            taut_band: false,
            ppt_kpa: None,
            plateau_n: None,
            hold_s: None,
            withdrawal: false,
        }
    }

    #[test]
    fn episodes_match_by_reciprocal_overlap_within_a_recording() {
        let truth = [ep("a", 0.0, 10.0, "hold"), ep("a", 20.0, 21.0, "snap")];
        let detected = [
            ep("a", 1.0, 10.5, "hold"),  // overlap 9 / 10 → match
            ep("a", 20.0, 23.0, "snap"), // overlap 1 / 3 → no
            ep("b", 0.0, 10.0, "hold"),  // other recording → no
        ];
        let s = score(&truth, &detected, &[], &[]);
        assert_eq!(s.episodes.matched, 1);
        assert_eq!(s.technique_accuracy, Some(1.0));
        assert!(
            (s.episodes.f1.unwrap() - 2.0 * (1.0 / 3.0) * 0.5 / (1.0 / 3.0 + 0.5)).abs() < 1e-12
        );
    }

    #[test]
    fn twitches_match_one_to_one_within_50_ms() {
        let tw = |rec: &str, t: f64| TwitchRow {
            recording: rec.into(),
            onset_s: t,
            modality: "force".into(),
            emg_onset_s: None,
            force_onset_s: Some(t + 0.012),
        };
        let truth = [tw("a", 1.000), tw("a", 1.030)];
        let detected = [tw("a", 1.010), tw("a", 1.200)];
        let s = score(&[], &[], &truth, &detected);
        assert_eq!(s.ltr.matched, 1);
        assert_eq!(s.ltr_onset_error_median_ms.map(|v| v.round()), Some(10.0));
        assert_eq!(s.ltr.precision, Some(0.5));
        let Measured::Value(Some(force_ms)) = s.ltr_force_onset_error_median_ms else {
            panic!("{s:?}");
        };
        assert!((force_ms - 10.0).abs() < 1e-6);
        // No pair has both sEMG onsets: measured, but nothing to take the median over.
        assert_eq!(s.ltr_emg_onset_error_median_ms, Measured::Value(None));
    }

    #[test]
    fn mains_notches_are_counted_against_the_line_truth() {
        let ch = |name: &str, mains: bool, db: Option<f64>| ChannelRow {
            recording: "a".into(),
            channel: name.into(),
            mains,
            mains_snr_db: db,
        };
        let truth = [
            ch("EMG UT L", false, None),      // notched: a false notch
            ch("EMG UT R", true, Some(12.0)), // left: missed
            ch("EMG IS L", true, Some(5.0)),  // left: too weak to count
            ch("EMG IS R", true, Some(30.0)), // notched: right
        ];
        let run = [
            ch("EMG UT L", true, None),
            ch("EMG UT R", false, None),
            ch("EMG IS L", false, None),
            ch("EMG IS R", true, None),
        ];
        assert_eq!(score_mains(&truth, &run), (1, 1));
        let json = serde_json::json!(Measured::<usize>::NotMeasured);
        assert_eq!(json, "not measured");
    }
}
