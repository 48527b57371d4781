//! Ingest (DESIGN §2): files and sidecars in, [`Recording`]s out.
//!
//! Each reader yields a [`RawRecording`]: channels with their recorded names, units and
//! rates. The readers are [`edf`] (EDF/BDF), [`table`] (CSV in its dialects, Parquet), the
//! vendor text exports [`vicon`], [`opensignals`] and [`datalog`] (recognised by their first
//! line), [`c3d`], [`xdf`] and [`opensignals_h5`]; [`discover`] tells them apart by content.
//! [`load`] then applies the sidecars and the dataset's `palpa.toml` (metadata, channel
//! types, muscles, calibration, events), types every channel and scales it to palpa's units.
//! Nothing here does arithmetic on samples beyond that unit scaling and calibration.

pub mod c3d;
pub mod channel;
pub mod datalog;
pub mod discover;
pub mod edf;
mod error;
pub mod opensignals;
pub mod opensignals_h5;
pub mod sidecar;
pub mod table;
pub mod vicon;
pub mod xdf;

use std::collections::BTreeSet;

use ndarray::Array1;
use serde::Serialize;

pub use discover::{
    census, dataset_file, discover, is_sidecar, source_of_file, Format, Source, READABLE,
};
pub use error::IngestError;

use crate::config::{ChannelRule, Config};
use crate::model::{
    Annotation, Channel, ChannelKind, Muscle, Recording, RecordingMeta, Side, TimeGap, Unit,
};
use channel::{channel_rows, classify, ChannelRow, Classified};
use sidecar::{SidecarJson, Tsv};

/// One channel as a reader found it, before typing and unit scaling.
#[derive(Clone, Debug)]
pub struct RawChannel {
    /// Name as recorded.
    pub name: String,
    /// Unit as recorded, if the file states one.
    pub unit: Option<String>,
    /// Sampling rate.
    pub fs_hz: f64,
    /// Samples in the recorded unit.
    pub samples: Array1<f64>,
    /// Physical range the recorder could represent, in the recorded unit.
    pub physical_range: Option<[f64; 2]>,
}

/// A file as a reader found it.
#[derive(Clone, Debug, Default)]
pub struct RawRecording {
    /// Channels in file order.
    pub channels: Vec<RawChannel>,
    /// Start as `YYYY-MM-DDTHH:MM:SS`.
    pub start: Option<String>,
    /// Sub-second start.
    pub start_offset_s: f64,
    /// Annotations in the file itself.
    pub annotations: Vec<Annotation>,
    /// Breaks in the time axis.
    pub gaps: Vec<TimeGap>,
    /// The format and its dialect, as `inspect` states it (`EDF+C`, `Vicon Nexus CSV`).
    pub format: String,
}

/// Loads one recording with its sidecars.
///
/// # Errors
/// [`IngestError`] naming the file (recording or sidecar) and the place in it.
pub fn load(source: &Source, cfg: &Config) -> Result<Recording, IngestError> {
    let json = sidecar::read_json(&source.json)?;
    let mut meta = meta_of(source, &json, cfg);
    meta.warnings = sidecar::near_misses(
        &source.json,
        source.channels_tsv.as_deref(),
        source.events_tsv.as_deref(),
    );
    let raw = read_raw(source, &meta, cfg)?;
    check_samples(&source.path, &raw)?;
    let classes = classify_all(
        source,
        raw.channels
            .iter()
            .map(|c| (c.name.as_str(), c.unit.as_deref())),
        meta.probe_area_cm2,
        &cfg.channels,
    )?;
    let channels: Vec<Channel> = raw
        .channels
        .into_iter()
        .zip(classes)
        .map(|(ch, c)| Channel {
            samples: match c.calibration {
                None if c.scale == 1.0 => ch.samples,
                None => ch.samples * c.scale,
                Some([gain, offset]) => ch.samples.mapv(|v| (v * gain + offset) * c.scale),
            },
            physical_range: ch.physical_range.map(|range| {
                let [gain, offset] = c.calibration.unwrap_or([1.0, 0.0]);
                let [lo, hi] = range.map(|v| (v * gain + offset) * c.scale);
                [lo.min(hi), lo.max(hi)]
            }),
            name: ch.name,
            kind: c.kind,
            unit: c.unit,
            fs_hz: ch.fs_hz,
            muscle: c.muscle,
            side: c.side,
            marked_bad: c.marked_bad,
        })
        .collect();
    let annotations = merge_events(source, raw.annotations)?;
    let meta = with_palpated_muscle(
        meta,
        &annotations,
        channels.iter().map(|c| (c.kind, &c.muscle, c.side)),
        &cfg.dataset,
    );
    Ok(Recording {
        id: source.id.clone(),
        path: source.path.clone(),
        meta,
        start: raw.start,
        start_offset_s: raw.start_offset_s,
        channels,
        annotations,
        gaps: raw.gaps,
        format: raw.format,
    })
}

/// A channel as `inspect` shows it (DESIGN §5).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ChannelInfo {
    /// Label.
    pub name: String,
    /// Kind.
    pub kind: ChannelKind,
    /// Normalised unit (`uV`, `N`, `mm`, else as read).
    pub unit: String,
    /// Sampling rate.
    pub fs_hz: f64,
    /// Sample count.
    pub n_samples: usize,
    /// Samples / rate.
    pub duration_s: f64,
    /// Muscle, when known.
    pub muscle: Option<String>,
    /// Side, when known.
    pub side: Option<String>,
}

/// A recording as `inspect` shows it (DESIGN §5).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct RecordingInfo {
    /// The file.
    pub path: String,
    /// The format and its dialect.
    pub format: String,
    /// Start as recorded.
    pub start: Option<String>,
    /// Sub-second start (EDF+).
    pub start_offset_s: f64,
    /// Longest channel.
    pub duration_s: f64,
    /// Channels.
    pub channels: Vec<ChannelInfo>,
    /// Annotations.
    pub annotations: Vec<Annotation>,
}

/// What `inspect` shows of a loaded recording.
pub fn info_of(rec: &Recording) -> RecordingInfo {
    RecordingInfo {
        path: rec.path.display().to_string(),
        format: rec.format.clone(),
        start: rec.start.clone(),
        start_offset_s: rec.start_offset_s,
        duration_s: rec.duration_s(),
        channels: rec
            .channels
            .iter()
            .map(|c| {
                info(
                    &c.name,
                    c.fs_hz,
                    c.samples.len(),
                    c.kind,
                    &c.unit,
                    c.muscle.as_ref(),
                    c.side,
                )
            })
            .collect(),
        annotations: rec.annotations.clone(),
    }
}

/// What `inspect` reports. For EDF/BDF only the header and annotation bytes are read.
///
/// # Errors
/// As [`load`].
pub fn describe(source: &Source, cfg: &Config) -> Result<RecordingInfo, IngestError> {
    if !matches!(source.format, Format::Edf | Format::Bdf) {
        return Ok(info_of(&load(source, cfg)?));
    }
    let json = sidecar::read_json(&source.json)?;
    let meta = meta_of(source, &json, cfg);
    let header = edf::read_header(&source.path)?;
    let timeline = edf::read_timeline(&source.path, &header)?;
    let ordinary: Vec<usize> = (0..header.signals.len())
        .filter(|&i| !header.signals[i].is_annotations())
        .collect();
    let classes = classify_all(
        source,
        ordinary.iter().map(|&i| {
            let s = &header.signals[i];
            (s.label.as_str(), Some(s.physical_dimension.as_str()))
        }),
        meta.probe_area_cm2,
        &cfg.channels,
    )?;
    let channels: Vec<ChannelInfo> = ordinary
        .iter()
        .zip(classes)
        .map(|(&i, c)| {
            let s = &header.signals[i];
            let n = header.n_records * s.samples_per_record;
            info(
                &s.label,
                header.fs_hz(i),
                n,
                c.kind,
                &c.unit,
                c.muscle.as_ref(),
                c.side,
            )
        })
        .collect();
    let annotations = merge_events(source, timeline.annotations)?;
    Ok(RecordingInfo {
        path: source.path.display().to_string(),
        format: header.format_name(),
        start: header.start_iso(),
        start_offset_s: timeline.start_offset_s,
        duration_s: channels.iter().map(|c| c.duration_s).fold(0.0, f64::max),
        channels,
        annotations,
    })
}

fn info(
    name: &str,
    fs_hz: f64,
    n_samples: usize,
    kind: ChannelKind,
    unit: &Unit,
    muscle: Option<&Muscle>,
    side: Option<Side>,
) -> ChannelInfo {
    ChannelInfo {
        name: name.to_string(),
        kind,
        unit: unit.as_str().to_string(),
        fs_hz,
        n_samples,
        duration_s: n_samples as f64 / fs_hz,
        muscle: muscle.map(|m| m.as_str().to_string()),
        side: side.map(|s| s.as_str().to_string()),
    }
}

fn meta_of(source: &Source, json: &SidecarJson, cfg: &Config) -> RecordingMeta {
    let e = &source.entities;
    let mut meta = RecordingMeta {
        subject: e.subject.clone(),
        session: e.session.clone(),
        task: e.task.clone(),
        run: e.run.clone(),
        ..RecordingMeta::default()
    };
    json.apply(&mut meta, &cfg.dataset);
    meta
}

fn read_raw(
    source: &Source,
    meta: &RecordingMeta,
    cfg: &Config,
) -> Result<RawRecording, IngestError> {
    let path = &source.path;
    let rules = table::TimeRules {
        sidecar_fs_hz: meta.sampling_frequency_hz,
        gap_periods: cfg.qc.gap_periods,
    };
    match source.format {
        Format::Edf | Format::Bdf => {
            let data = edf::read(path)?;
            let channels = data
                .signals
                .into_iter()
                .map(|(i, samples)| {
                    let s = &data.header.signals[i];
                    RawChannel {
                        name: s.label.clone(),
                        unit: Some(s.physical_dimension.clone()),
                        fs_hz: data.header.fs_hz(i),
                        samples,
                        physical_range: Some([
                            s.physical_min.min(s.physical_max),
                            s.physical_min.max(s.physical_max),
                        ]),
                    }
                })
                .collect();
            Ok(RawRecording {
                channels,
                start: data.header.start_iso(),
                start_offset_s: data.timeline.start_offset_s,
                annotations: data.timeline.annotations,
                gaps: data.timeline.gaps,
                format: data.header.format_name(),
            })
        }
        Format::Csv => {
            let first = table::first_line(path)?;
            if vicon::is_vicon(&first) {
                vicon::read(path, cfg.qc.gap_periods)
            } else if opensignals::is_opensignals(&first) {
                opensignals::read(path)
            } else if datalog::is_datalog(&first) {
                datalog::read(path, rules)
            } else {
                table::read_csv(path, rules)
            }
        }
        Format::Parquet => table::read_parquet(path, rules),
        Format::Xdf => xdf::read(path, cfg.qc.xdf_drift_max_ms),
        Format::C3d => c3d::read(path),
        Format::OpenSignalsH5 => opensignals_h5::read(path),
    }
}

/// Types and scales each channel, given as (name, unit as recorded), with its row of the
/// applicable `*_channels.tsv`.
/// A channel with fewer than two samples has no signal to analyse; saying so here beats a
/// channel every later stage skips in silence. (A file of annotations alone, with no
/// channel at all, is valid EDF+.)
fn check_samples(path: &std::path::Path, raw: &RawRecording) -> Result<(), IngestError> {
    match raw.channels.iter().find(|c| c.samples.len() < 2) {
        Some(c) => Err(IngestError::format(
            path,
            format!("channel `{}`", c.name),
            "at least 2 samples",
            match c.samples.len() {
                1 => "1 sample".to_string(),
                n => format!("{n} samples"),
            },
        )),
        None => Ok(()),
    }
}

fn classify_all<'a>(
    source: &Source,
    channels: impl Iterator<Item = (&'a str, Option<&'a str>)> + Clone,
    probe_area_cm2: f64,
    rules: &[ChannelRule],
) -> Result<Vec<Classified>, IngestError> {
    // Tables, figures and channels.tsv rows are all keyed by the channel's name.
    let names: Vec<&str> = channels.clone().map(|(name, _)| name).collect();
    for (i, name) in names.iter().enumerate() {
        if let Some(first) = names[..i].iter().position(|n| n == name) {
            return Err(IngestError::format(
                &source.path,
                format!("channel `{name}`"),
                "each channel name once",
                format!(
                    "it twice, as channels {} and {} of the file's {} (rename one)",
                    first + 1,
                    i + 1,
                    names.len()
                ),
            ));
        }
    }
    let rows = channel_rows_of(source, channels.clone().map(|(name, _)| name))?;
    channels
        .map(|(name, unit)| {
            let row = rows.iter().find(|r| r.name == name);
            let Some(rule) = rules.iter().find(|r| r.matches(name)) else {
                return classify(&source.path, name, unit, row, probe_area_cm2);
            };
            // The stored unit is the one calibration starts from, so the rule's replaces it.
            let unit = if rule.calibrates() {
                rule.unit.as_deref()
            } else {
                unit
            };
            let mut row = ChannelRow::with_rule(row, rule);
            if rule.calibrates() {
                row.units.clone_from(&rule.unit);
            }
            let mut c = classify(&source.path, name, unit, Some(&row), probe_area_cm2)?;
            c.calibration = rule
                .calibrates()
                .then(|| [rule.scale.unwrap_or(1.0), rule.offset.unwrap_or(0.0)]);
            Ok(c)
        })
        .collect()
}

/// Rows of the applicable `*_channels.tsv`; every row must name a channel of the file.
fn channel_rows_of<'a>(
    source: &Source,
    names: impl Iterator<Item = &'a str>,
) -> Result<Vec<ChannelRow>, IngestError> {
    let Some(path) = &source.channels_tsv else {
        return Ok(Vec::new());
    };
    let rows = channel_rows(&Tsv::read(path)?)?;
    for (i, row) in rows.iter().enumerate() {
        if let Some(first) = rows[..i].iter().find(|r| r.name == row.name) {
            return Err(IngestError::format(
                path,
                format!("line {}, column `name`", row.line),
                "each channel once",
                format!("`{}` again (first on line {})", row.name, first.line),
            ));
        }
    }
    let present: BTreeSet<&str> = names.collect();
    if let Some(row) = rows.iter().find(|r| !present.contains(r.name.as_str())) {
        return Err(IngestError::format(
            path,
            format!("line {}, column `name`", row.line),
            format!("a channel of {}", source.path.display()),
            format!(
                "`{}`, which that file does not have (it has {})",
                row.name,
                error::listing(present)
            ),
        ));
    }
    Ok(rows)
}

/// The file's own annotations plus `*_events.tsv`, sorted by onset.
fn merge_events(
    source: &Source,
    mut annotations: Vec<Annotation>,
) -> Result<Vec<Annotation>, IngestError> {
    if let Some(path) = &source.events_tsv {
        let tsv = Tsv::read(path)?;
        let onset = tsv.required("onset")?;
        let [_, duration, trial_type, muscle, side, site] =
            sidecar::EVENT_COLUMNS.map(|c| tsv.column(c));
        for r in 0..tsv.rows.len() {
            let Some(onset_s) = tsv.number(r, Some(onset))? else {
                return Err(IngestError::format(
                    path,
                    tsv.place(r, onset),
                    "an onset in seconds",
                    "n/a",
                ));
            };
            annotations.push(Annotation {
                onset_s,
                duration_s: tsv.number(r, duration)?,
                text: tsv.cell(r, trial_type).unwrap_or_default().to_string(),
                muscle: tsv.cell(r, muscle).and_then(Muscle::named),
                side: tsv.cell(r, side).and_then(Side::parse),
                site: tsv.cell(r, site).map(str::to_string),
            });
        }
    }
    annotations.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    Ok(annotations)
}

/// DESIGN §2.3: `PalpatedMuscle`, else the events' one muscle, else the dataset file's,
/// else the only EMG channel's; the side likewise. Where it came from goes in `meta.origin`.
fn with_palpated_muscle<'a>(
    mut meta: RecordingMeta,
    annotations: &[Annotation],
    channels: impl Iterator<Item = (ChannelKind, &'a Option<Muscle>, Option<Side>)>,
    dataset: &crate::config::DatasetConfig,
) -> RecordingMeta {
    let mut found: Option<(Muscle, Option<Side>, &str)> = None;
    if meta.palpated_muscle.is_none() {
        let from_events: BTreeSet<(&Muscle, Option<Side>)> = annotations
            .iter()
            .filter_map(|a| a.muscle.as_ref().map(|m| (m, a.side)))
            .collect();
        let emg: Vec<_> = channels
            .filter(|(k, _, _)| *k == ChannelKind::Emg)
            .collect();
        let from_dataset = dataset.palpated_muscle.as_deref().and_then(Muscle::named);
        found = if let [(m, s)] = from_events.into_iter().collect::<Vec<_>>().as_slice() {
            Some(((*m).clone(), *s, "events"))
        } else if let Some(m) = from_dataset {
            Some((m, None, "dataset file"))
        } else if let [(_, Some(m), s)] = emg.as_slice() {
            Some((m.clone(), *s, "the only sEMG channel"))
        } else {
            None
        };
    }
    if let Some((muscle, _, from)) = &found {
        meta.palpated_muscle = Some(muscle.clone());
        meta.origin.insert("palpated_muscle".into(), (*from).into());
    }
    // The side on its own chain: sidecar, then the source of the muscle, then the dataset.
    let dataset_side = dataset.palpated_side.as_deref().and_then(Side::parse);
    let side = found
        .and_then(|(_, side, from)| Some((side?, from)))
        .or(dataset_side.map(|s| (s, "dataset file")));
    if let (None, Some((side, from))) = (meta.palpated_side, side) {
        meta.palpated_side = Some(side);
        meta.origin.insert("palpated_side".into(), from.into());
    }
    meta
}

/// Size in bytes and SHA-256 (lower-case hex) of a file, read in 64 KiB blocks, for
/// `run.json`'s provenance.
///
/// # Errors
/// The file cannot be read.
pub fn fingerprint(path: &std::path::Path) -> std::io::Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    let hex = hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        });
    Ok((bytes, hex))
}
