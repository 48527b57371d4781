//! The data model every stage shares: a [`Recording`] of [`Channel`]s with [`Annotation`]s.
//!
//! Ingest builds it (DESIGN §2); every later stage reads it. Samples are `f64` in the
//! normalised unit of their kind: EMG in µV, force in N, displacement in mm (DESIGN §2.3).
//! Times are seconds from the first sample of the recording.

use std::fmt;
use std::path::PathBuf;

use ndarray::{Array1, ArrayView1};
use serde::Serialize;

/// Standard gravity, for kgf → N (CGPM 1901; exact by definition).
pub const STANDARD_GRAVITY_M_PER_S2: f64 = 9.806_65;
/// Newtons in one pound-force (NIST SP 811, B.8).
pub const NEWTONS_PER_LBF: f64 = 4.448_222;

/// 1 kg/cm² in kPa (9.80665 N over 1 cm²).
pub const KPA_PER_KG_CM2: f64 = 98.0665;

/// Pressure under a probe: N over cm² is 10 kPa (DESIGN §3.2).
pub fn pressure_kpa(force_n: f64, probe_area_cm2: f64) -> f64 {
    force_n / probe_area_cm2 * 10.0
}

/// One recording as loaded: its identity, metadata, channels and annotations.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Path relative to the dataset root, without extension (DESIGN §2.1).
    pub id: String,
    /// The file the samples came from.
    pub path: PathBuf,
    /// Who, where and how, from BIDS entities and sidecars.
    pub meta: RecordingMeta,
    /// Start date and time as recorded (`YYYY-MM-DDTHH:MM:SS`), when the file states one.
    pub start: Option<String>,
    /// Sub-second part of the start (EDF+ time-keeping annotation of the first record).
    pub start_offset_s: f64,
    /// Every channel, in file order.
    pub channels: Vec<Channel>,
    /// Events from EDF+ annotations and `*_events.tsv`, sorted by onset.
    pub annotations: Vec<Annotation>,
    /// Breaks in the time axis (EDF+D records, CSV `time_s` jumps), in sample time.
    pub gaps: Vec<TimeGap>,
    /// The file format and its dialect, as read (`EDF+C`, `Vicon Nexus CSV`).
    pub format: String,
}

impl Recording {
    /// Longest channel duration; 0 for a recording without channels. Read it before
    /// conditioning, which takes the EMG samples.
    pub fn duration_s(&self) -> f64 {
        self.channels
            .iter()
            .map(Channel::duration_s)
            .fold(0.0, f64::max)
    }
}

/// Metadata of a recording, from BIDS entities, `*_emg.json` and `participants.tsv`.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecordingMeta {
    /// BIDS `sub-` entity, else the sidecar's `Subject`.
    pub subject: Option<String>,
    /// BIDS `ses-` entity, else the sidecar's `Session`.
    pub session: Option<String>,
    /// BIDS `task-` entity, else the sidecar's `TaskName`.
    pub task: Option<String>,
    /// BIDS `run-` entity.
    pub run: Option<String>,
    /// Sidecar `Therapist`.
    pub therapist: Option<String>,
    /// Sidecar `ProbeAreaCm2`: contact area that turns force into pressure.
    pub probe_area_cm2: f64,
    /// Sidecar `PowerLineFrequency`; `None` means infer it from the spectrum.
    pub powerline_hz: Option<f64>,
    /// Sidecar `SamplingFrequency`, used by tables without a `time_s` column.
    pub sampling_frequency_hz: Option<f64>,
    /// Sidecar `PalpatedMuscle`.
    pub palpated_muscle: Option<Muscle>,
    /// Sidecar `PalpatedSide`.
    pub palpated_side: Option<Side>,
    /// Sidecar `PalpationSite`, free text (for example a trigger-point index, `TP-1`).
    pub palpation_site: Option<String>,
    /// Where each setting above came from: `sidecar`, `dataset file` (`palpa.toml` or
    /// `-c`) or `default`, keyed by its `palpa.toml` name; a setting nobody gave is absent.
    #[serde(default)]
    pub origin: std::collections::BTreeMap<String, String>,
    /// What reading the recording and its sidecars found questionable (a sidecar key
    /// palpa does not read that looks like one it does).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl RecordingMeta {
    /// What a reader of the numbers must know: the ingest warnings, and a default that
    /// changes the numbers (the probe area, in every kPa).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.warnings.clone();
        if self.origin.get("probe_area_cm2").map(String::as_str) == Some("default") {
            notes.push(format!(
                "probe area {} cm² is palpa's default (neither `ProbeAreaCm2` in the sidecar nor \
                 `[dataset] probe_area_cm2` in palpa.toml): every kPa assumes it",
                self.probe_area_cm2
            ));
        }
        notes
    }
}

/// One signal at its own rate.
#[derive(Clone, Debug)]
pub struct Channel {
    /// Label as in the file.
    pub name: String,
    /// What it measures, which decides how it is analysed.
    pub kind: ChannelKind,
    /// Unit of `samples`, after normalisation.
    pub unit: Unit,
    /// Sampling rate.
    pub fs_hz: f64,
    /// Samples in `unit`.
    pub samples: Array1<f64>,
    /// Muscle under the electrode (EMG) or probe (force), when known.
    pub muscle: Option<Muscle>,
    /// Body side, when known.
    pub side: Option<Side>,
    /// Physical range the recorder could represent, in `unit` (EDF header), for clipping QC.
    pub physical_range: Option<[f64; 2]>,
    /// `status` = `bad` in `*_channels.tsv`.
    pub marked_bad: bool,
}

impl Channel {
    /// Samples divided by rate.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / self.fs_hz
    }
}

/// What a channel measures (DESIGN §2.3).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Surface EMG, analysed in µV.
    Emg,
    /// Applied force (or pressure × probe area), analysed in N.
    Force,
    /// Indentation depth, in mm.
    Displacement,
    /// Trigger or event-marker line; kept, not analysed.
    Trigger,
    /// Anything else (EEG, temperature, …); kept, not analysed.
    Other,
}

impl ChannelKind {
    /// The kind named by its word (`emg`, `force`, …), any case.
    pub fn parse(word: &str) -> Option<ChannelKind> {
        [
            ChannelKind::Emg,
            ChannelKind::Force,
            ChannelKind::Displacement,
            ChannelKind::Trigger,
            ChannelKind::Other,
        ]
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(word.trim()))
    }

    /// The lower-case word used in tables and `inspect --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Emg => "emg",
            ChannelKind::Force => "force",
            ChannelKind::Displacement => "displacement",
            ChannelKind::Trigger => "trigger",
            ChannelKind::Other => "other",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Unit of a channel's samples after normalisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    /// µV, every EMG channel.
    Microvolt,
    /// N, every force channel.
    Newton,
    /// mm, every displacement channel.
    Millimetre,
    /// Channels palpa does not analyse keep the unit they were recorded in.
    AsRecorded(String),
}

impl Unit {
    /// ASCII spelling used in tables and JSON (`uV`, `N`, `mm`, else as read).
    pub fn as_str(&self) -> &str {
        match self {
            Unit::Microvolt => "uV",
            Unit::Newton => "N",
            Unit::Millimetre => "mm",
            Unit::AsRecorded(u) => u,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event on the recording's time axis.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Annotation {
    /// Seconds from the first sample.
    pub onset_s: f64,
    /// `None` when the source gives no duration.
    pub duration_s: Option<f64>,
    /// EDF+ annotation text or BIDS `trial_type`.
    pub text: String,
    /// `*_events.tsv` `muscle`.
    #[serde(skip)]
    pub muscle: Option<Muscle>,
    /// `*_events.tsv` `side`.
    #[serde(skip)]
    pub side: Option<Side>,
    /// `*_events.tsv` `site`.
    #[serde(skip)]
    pub site: Option<String>,
}

/// A break in the time axis: after `at_s` of samples, `gap_s` of wall time has no samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeGap {
    /// Position on the sample axis (seconds of samples before the gap).
    pub at_s: f64,
    /// Length of the break.
    pub gap_s: f64,
}

/// Wall-clock time of each of `n` samples at `fs_hz`, from the first sample, with the
/// recording's gaps added back (EDF+D breaks, CSV time jumps).
pub fn time_axis_s(n: usize, fs_hz: f64, gaps: &[TimeGap]) -> Array1<f64> {
    let mut t = Array1::from_shape_fn(n, |i| i as f64 / fs_hz);
    for gap in gaps {
        let from = (gap.at_s * fs_hz).round() as usize;
        t.slice_mut(ndarray::s![from.min(n)..])
            .mapv_inplace(|x| x + gap.gap_s);
    }
    t
}

/// A copy of `x` laid out in order, whatever the layout of `x`.
pub(crate) fn owned_samples(x: ArrayView1<f64>) -> Array1<f64> {
    Array1::from(x.to_vec())
}

/// Body side.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Side {
    /// Left.
    Left,
    /// Right.
    Right,
}

impl Side {
    /// Reads `L`, `left`, `lt`, `sin` (and the right-hand twins), any case.
    pub fn parse(word: &str) -> Option<Side> {
        match word.trim().to_ascii_lowercase().as_str() {
            "l" | "left" | "lt" | "sin" | "sx" => Some(Side::Left),
            "r" | "right" | "rt" | "dx" | "dex" => Some(Side::Right),
            _ => None,
        }
    }

    /// `left` or `right`, as in the output tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A muscle, named in lower-case words (`upper trapezius`).
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Muscle(String);

/// Abbreviations and lab spellings → the muscle's name. Matched on the lower-cased token
/// sequence joined by single spaces, after separators (`_`, `-`, `.`) became spaces.
const MUSCLE_ALIASES: &[(&str, &str)] = &[
    ("ut", "upper trapezius"),
    ("utrap", "upper trapezius"),
    ("upper trap", "upper trapezius"),
    ("trap sup", "upper trapezius"),
    ("trap superior", "upper trapezius"),
    ("trapezius superior", "upper trapezius"),
    ("mt", "middle trapezius"),
    ("middle trap", "middle trapezius"),
    ("trap mid", "middle trapezius"),
    ("lt", "lower trapezius"),
    ("lower trap", "lower trapezius"),
    ("trap inf", "lower trapezius"),
    ("trap", "trapezius"),
    ("ls", "levator scapulae"),
    ("lev scap", "levator scapulae"),
    ("levator", "levator scapulae"),
    ("is", "infraspinatus"),
    ("infra", "infraspinatus"),
    ("ss", "supraspinatus"),
    ("supra", "supraspinatus"),
    ("subscap", "subscapularis"),
    ("gmed", "gluteus medius"),
    ("glut med", "gluteus medius"),
    ("gmin", "gluteus minimus"),
    ("glut min", "gluteus minimus"),
    ("gmax", "gluteus maximus"),
    ("glut max", "gluteus maximus"),
    ("pir", "piriformis"),
    ("gas", "gastrocnemius"),
    ("gastroc", "gastrocnemius"),
    ("gl", "lateral gastrocnemius"),
    ("gm", "medial gastrocnemius"),
    ("sol", "soleus"),
    ("ta", "tibialis anterior"),
    ("rf", "rectus femoris"),
    ("vm", "vastus medialis"),
    ("vl", "vastus lateralis"),
    ("bf", "biceps femoris"),
    ("st", "semitendinosus"),
    ("scm", "sternocleidomastoid"),
    ("delt ant", "anterior deltoid"),
    ("delt med", "middle deltoid"),
    ("delt post", "posterior deltoid"),
    ("bb", "biceps brachii"),
    ("biceps", "biceps brachii"),
    ("tb", "triceps brachii"),
    ("triceps", "triceps brachii"),
    ("pec", "pectoralis major"),
    ("ld", "latissimus dorsi"),
    ("lat dorsi", "latissimus dorsi"),
    ("es", "erector spinae"),
    ("ql", "quadratus lumborum"),
    ("masseter", "masseter"),
    ("temporalis", "temporalis"),
];

/// Full names recognised in labels (an alias table maps to these too).
const MUSCLE_NAMES: &[&str] = &[
    "upper trapezius",
    "middle trapezius",
    "lower trapezius",
    "trapezius",
    "levator scapulae",
    "infraspinatus",
    "supraspinatus",
    "subscapularis",
    "gluteus medius",
    "gluteus minimus",
    "gluteus maximus",
    "piriformis",
    "gastrocnemius",
    "lateral gastrocnemius",
    "medial gastrocnemius",
    "soleus",
    "tibialis anterior",
    "rectus femoris",
    "vastus medialis",
    "vastus lateralis",
    "biceps femoris",
    "semitendinosus",
    "sternocleidomastoid",
    "anterior deltoid",
    "middle deltoid",
    "posterior deltoid",
    "deltoid",
    "biceps brachii",
    "triceps brachii",
    "pectoralis major",
    "latissimus dorsi",
    "erector spinae",
    "quadratus lumborum",
    "rhomboid major",
    "serratus anterior",
    "splenius capitis",
    "masseter",
    "temporalis",
];

impl Muscle {
    /// A muscle named explicitly (sidecar or `target_muscle`): aliases resolved, any other
    /// name kept in normalised words, since a lab may study a muscle the table lacks.
    /// `None` for an empty name.
    pub fn named(name: &str) -> Option<Muscle> {
        let words = normalise_words(name);
        if words.is_empty() {
            return None;
        }
        Some(Muscle(resolve_alias(&words).unwrap_or(words)))
    }

    /// A muscle recognised inside a free label: only known names and aliases count, so
    /// `EEG Fpz-Cz` yields nothing rather than a made-up muscle.
    pub fn recognise(words: &str) -> Option<Muscle> {
        resolve_alias(words).map(Muscle)
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Muscle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lower-case words separated by single spaces; `_`, `-`, `.` and `/` separate words.
pub fn normalise_words(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || matches!(c, '_' | '-' | '.' | '/' | ':'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn resolve_alias(words: &str) -> Option<String> {
    if MUSCLE_NAMES.contains(&words) {
        return Some(words.to_string());
    }
    MUSCLE_ALIASES
        .iter()
        .find(|(alias, _)| *alias == words)
        .map(|(_, name)| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_full_names() {
        for (alias, name) in [
            ("UT", "upper trapezius"),
            ("upper_trap", "upper trapezius"),
            ("Trap_sup", "upper trapezius"),
            ("LS", "levator scapulae"),
            ("IS", "infraspinatus"),
            ("GMed", "gluteus medius"),
            ("GAS", "gastrocnemius"),
            ("trap", "trapezius"),
            ("Upper Trapezius", "upper trapezius"),
        ] {
            assert_eq!(Muscle::named(alias).unwrap().as_str(), name, "{alias}");
        }
    }

    #[test]
    fn unknown_explicit_names_are_kept_unknown_labels_are_not() {
        assert_eq!(
            Muscle::named("Multifidus_L4").unwrap().as_str(),
            "multifidus l4"
        );
        assert_eq!(Muscle::recognise("fpz cz"), None);
        assert_eq!(Muscle::named("  "), None);
    }

    #[test]
    fn sides_parse_in_the_usual_spellings() {
        assert_eq!(Side::parse("L"), Some(Side::Left));
        assert_eq!(Side::parse("right"), Some(Side::Right));
        assert_eq!(Side::parse("n/a"), None);
    }
}
