//! Channel typing, unit normalisation, muscle and side (DESIGN §2.3).
//!
//! The kind is decided in this order: the `type` column of `*_channels.tsv`; a label word
//! starting `EMG`; a force or pressure unit, or a name containing `force`/`pressure`; a
//! length unit, or a name containing `displacement`/`indentation`/`depth`; a trigger-like
//! name; else `other`. An analysed kind (EMG, force, displacement) must carry a unit palpa
//! can convert: EMG → µV, force → N (pressure × probe area), displacement → mm. Anything
//! else is an error naming the channel, never a guess.

use std::path::Path;

use super::sidecar::{Tsv, CHANNEL_COLUMNS};
use super::IngestError;
use crate::config::ChannelRule;
use crate::model::{
    normalise_words, ChannelKind, Muscle, Side, Unit, NEWTONS_PER_LBF, STANDARD_GRAVITY_M_PER_S2,
};

/// One row of `*_channels.tsv`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChannelRow {
    /// `name`.
    pub name: String,
    /// `type` (`EMG`, `FORCE`, `TRIG`, `MISC`, …).
    pub kind: Option<String>,
    /// `units`.
    pub units: Option<String>,
    /// `target_muscle`.
    pub target_muscle: Option<String>,
    /// `side`.
    pub side: Option<String>,
    /// `sampling_frequency`.
    pub sampling_frequency_hz: Option<f64>,
    /// `status` = `bad`.
    pub bad: bool,
    /// Line in the TSV, for errors.
    pub line: usize,
    /// Where the row's values come from, as an error names it.
    pub origin: String,
}

impl ChannelRow {
    /// A `*_channels.tsv` row (if any) with the gaps filled by a `palpa.toml` channel rule.
    pub fn with_rule(row: Option<&ChannelRow>, rule: &ChannelRule) -> ChannelRow {
        let mut merged = row.cloned().unwrap_or_default();
        let fill = |cell: &mut Option<String>, value: &Option<String>| {
            if cell.is_none() {
                cell.clone_from(value);
            }
        };
        fill(&mut merged.kind, &rule.kind);
        fill(&mut merged.units, &rule.unit);
        fill(&mut merged.target_muscle, &rule.muscle);
        fill(&mut merged.side, &rule.side);
        if row.is_none() {
            merged.name.clone_from(&rule.name);
            merged.origin = format!("the palpa.toml channel rule `name = {:?}`", rule.name);
        }
        merged
    }
}

/// Reads the rows of a `*_channels.tsv`.
///
/// # Errors
/// No `name` column, or a `sampling_frequency` that is not a number.
pub fn channel_rows(tsv: &Tsv) -> Result<Vec<ChannelRow>, IngestError> {
    let name = tsv.required("name")?;
    let [_, kind, units, muscle, side, fs, status] = CHANNEL_COLUMNS.map(|c| tsv.column(c));
    (0..tsv.rows.len())
        .map(|r| {
            let text = |c| tsv.cell(r, c).map(str::to_string);
            Ok(ChannelRow {
                name: tsv.cell(r, Some(name)).unwrap_or_default().to_string(),
                kind: text(kind),
                units: text(units),
                target_muscle: text(muscle),
                side: text(side),
                sampling_frequency_hz: tsv.number(r, fs)?,
                bad: tsv
                    .cell(r, status)
                    .is_some_and(|s| s.eq_ignore_ascii_case("bad")),
                line: r + 2,
                origin: format!("line {} of the channels TSV", r + 2),
            })
        })
        .collect()
}

/// What ingest decided about one channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Classified {
    /// Kind.
    pub kind: ChannelKind,
    /// Unit after normalisation.
    pub unit: Unit,
    /// Factor from the recorded unit to `unit`.
    pub scale: f64,
    /// Muscle, from `target_muscle` or the label.
    pub muscle: Option<Muscle>,
    /// Side, from `side` or the label.
    pub side: Option<Side>,
    /// `status` = `bad`.
    pub marked_bad: bool,
    /// `[scale, offset]` of a `palpa.toml` calibration, applied before `scale`.
    pub calibration: Option<[f64; 2]>,
}

/// Types a channel and works out its unit conversion.
///
/// `file_unit` is the unit the recording itself states (EDF physical dimension, a column's
/// `[unit]` suffix, a vendor units line); `row` is its `*_channels.tsv` row, if any.
///
/// # Errors
/// An analysed kind without a convertible unit; a TSV unit contradicting the file's.
pub fn classify(
    path: &Path,
    name: &str,
    file_unit: Option<&str>,
    row: Option<&ChannelRow>,
    probe_area_cm2: f64,
) -> Result<Classified, IngestError> {
    let tsv_unit = row.and_then(|r| r.units.as_deref());
    let unit_text = match (file_unit.filter(|u| !u.trim().is_empty()), tsv_unit) {
        (Some(f), Some(t)) if canonical(f) != canonical(t) => {
            return Err(IngestError::format(
                path,
                format!("channel `{name}`, unit"),
                format!("the unit in the file, `{f}`, to agree with the channels TSV"),
                format!("`{t}` on {}", row.map_or("", |r| r.origin.as_str())),
            ))
        }
        (Some(f), _) => f.trim().to_string(),
        (None, Some(t)) => t.to_string(),
        (None, None) => String::new(),
    };
    let quantity = Quantity::of(&unit_text, probe_area_cm2);
    let words = normalise_words(name);
    let kind = kind_of(
        row.and_then(|r| r.kind.as_deref()),
        &words,
        quantity.as_ref(),
    );
    let (unit, scale) =
        match kind {
            ChannelKind::Emg => match quantity {
                Some(Quantity::Voltage(s)) => (Unit::Microvolt, s),
                _ => return Err(unknown_unit(path, name, &unit_text, "EMG", "V, mV, uV, µV")),
            },
            ChannelKind::Force => match quantity {
                Some(Quantity::Force(s) | Quantity::Pressure(s)) => (Unit::Newton, s),
                _ => return Err(unknown_unit(
                    path,
                    name,
                    &unit_text,
                    "force",
                    "N, kN, kgf, kg, lbf (force) or kPa, Pa, kg/cm2, N/cm2 (pressure × probe area)",
                )),
            },
            ChannelKind::Displacement => match quantity {
                Some(Quantity::Length(s)) => (Unit::Millimetre, s),
                _ => {
                    return Err(unknown_unit(
                        path,
                        name,
                        &unit_text,
                        "displacement",
                        "mm, cm, m, um",
                    ))
                }
            },
            ChannelKind::Trigger | ChannelKind::Other => (Unit::AsRecorded(unit_text.clone()), 1.0),
        };
    let (label_muscle, label_side) = muscle_from_label(&words);
    let muscle = row
        .and_then(|r| r.target_muscle.as_deref())
        .and_then(Muscle::named)
        .or(label_muscle);
    let side = match row.and_then(|r| r.side.as_deref()) {
        Some(s) => Side::parse(s),
        None => label_side,
    };
    Ok(Classified {
        kind,
        unit,
        scale,
        muscle,
        side,
        marked_bad: row.is_some_and(|r| r.bad),
        calibration: None,
    })
}

fn unknown_unit(
    path: &Path,
    channel: &str,
    unit: &str,
    kind: &'static str,
    expected: &'static str,
) -> IngestError {
    IngestError::UnknownUnit {
        path: path.to_path_buf(),
        channel: channel.to_string(),
        unit: unit.to_string(),
        kind,
        expected,
    }
}

fn kind_of(tsv_type: Option<&str>, words: &str, quantity: Option<&Quantity>) -> ChannelKind {
    // BIDS has no force type, so `MISC` (or any other type) leaves the unit and name to tell.
    match tsv_type.map(|t| t.trim().to_ascii_uppercase()).as_deref() {
        Some("EMG") => return ChannelKind::Emg,
        Some("FORCE" | "PRESSURE") => return ChannelKind::Force,
        Some("DISP" | "DISPLACEMENT") => return ChannelKind::Displacement,
        Some("TRIG" | "TRIGGER") => return ChannelKind::Trigger,
        Some("OTHER") => return ChannelKind::Other,
        _ => {}
    }
    let has = |w: &str| words.split(' ').any(|x| x.starts_with(w));
    if has("emg") {
        ChannelKind::Emg
    } else if matches!(quantity, Some(Quantity::Force(_) | Quantity::Pressure(_)))
        || has("force")
        || has("pressure")
    {
        ChannelKind::Force
    } else if matches!(quantity, Some(Quantity::Length(_)))
        || has("displacement")
        || has("indentation")
        || has("depth")
    {
        ChannelKind::Displacement
    } else if has("trig") || has("marker") || words == "status" {
        ChannelKind::Trigger
    } else {
        ChannelKind::Other
    }
}

/// A recorded unit and its factor to palpa's unit for that quantity.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Quantity {
    /// × factor → µV.
    Voltage(f64),
    /// × factor → N.
    Force(f64),
    /// × factor → N, for the given probe area.
    Pressure(f64),
    /// × factor → mm.
    Length(f64),
}

/// One spelling for comparing units: micro signs and `^2`/`²` unified, case kept (mV ≠ MV).
fn canonical(unit: &str) -> String {
    unit.trim()
        .replace(['\u{b5}', '\u{3bc}'], "u")
        .replace("^2", "2")
        .replace('\u{b2}', "2")
        .replace(' ', "")
}

impl Quantity {
    fn of(unit: &str, probe_area_cm2: f64) -> Option<Quantity> {
        let g = STANDARD_GRAVITY_M_PER_S2;
        Some(match canonical(unit).as_str() {
            "V" => Quantity::Voltage(1e6),
            "mV" => Quantity::Voltage(1e3),
            "uV" => Quantity::Voltage(1.0),
            "nV" => Quantity::Voltage(1e-3),
            "N" => Quantity::Force(1.0),
            "kN" => Quantity::Force(1e3),
            "kgf" | "kg" => Quantity::Force(g),
            "lbf" => Quantity::Force(NEWTONS_PER_LBF),
            // kPa = 10 N/cm²; N = kPa × area / 10.
            "kPa" => Quantity::Pressure(probe_area_cm2 / 10.0),
            // Pa = N/m² = 1e-4 N/cm².
            "Pa" => Quantity::Pressure(probe_area_cm2 * 1e-4),
            "kg/cm2" | "kgf/cm2" => Quantity::Pressure(g * probe_area_cm2),
            "N/cm2" => Quantity::Pressure(probe_area_cm2),
            "mm" => Quantity::Length(1.0),
            "cm" => Quantity::Length(10.0),
            "m" => Quantity::Length(1e3),
            "um" => Quantity::Length(1e-3),
            _ => return None,
        })
    }
}

/// Muscle and side from a label such as `EMG UT L` or `emg_upper_trapezius_left`: words
/// naming the signal (`emg`, `emg6`, `force`) are dropped, a side word at either end is
/// taken, and the rest must be a known muscle or alias.
fn muscle_from_label(words: &str) -> (Option<Muscle>, Option<Side>) {
    let is_signal_word = |w: &&str| {
        ["emg", "force", "pressure"].iter().any(|p| {
            w.strip_prefix(p)
                .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
        })
    };
    let mut rest: Vec<&str> = words
        .split(' ')
        .filter(|w| !w.is_empty() && !is_signal_word(w))
        .collect();
    let mut side = None;
    if rest.len() > 1 {
        if let Some(s) = rest.last().and_then(|w| Side::parse(w)) {
            side = Some(s);
            rest.pop();
        } else if let Some(s) = rest.first().and_then(|w| Side::parse(w)) {
            side = Some(s);
            rest.remove(0);
        }
    }
    (Muscle::recognise(&rest.join(" ")), side)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_label(name: &str, unit: &str) -> Result<Classified, IngestError> {
        classify(Path::new("x.edf"), name, Some(unit), None, 1.0)
    }

    #[test]
    fn labels_give_kind_muscle_and_side() {
        let c = classify_label("EMG UT L", "mV").unwrap();
        assert_eq!(
            (c.kind, c.unit.clone(), c.scale),
            (ChannelKind::Emg, Unit::Microvolt, 1e3)
        );
        assert_eq!(c.muscle.unwrap().as_str(), "upper trapezius");
        assert_eq!(c.side, Some(Side::Left));

        let c = classify_label("emg_upper_trapezius_right", "uV").unwrap();
        assert_eq!(c.muscle.unwrap().as_str(), "upper trapezius");
        assert_eq!(c.side, Some(Side::Right));

        let c = classify_label("EMG submental", "uV").unwrap();
        assert_eq!((c.kind, c.muscle), (ChannelKind::Emg, None));
    }

    #[test]
    fn force_and_pressure_units_become_newtons() {
        let c = classify_label("Probe", "kgf").unwrap();
        assert_eq!(
            (c.kind, c.unit, c.scale),
            (ChannelKind::Force, Unit::Newton, 9.806_65)
        );
        let c = classify(Path::new("x"), "Probe", Some("kPa"), None, 2.0).unwrap();
        assert_eq!((c.kind, c.scale), (ChannelKind::Force, 0.2));
        let c = classify_label("algometer force", "lbf").unwrap();
        assert_eq!(c.scale, 4.448_222);
    }

    #[test]
    fn unknown_unit_of_an_analysed_kind_is_an_error_naming_the_channel() {
        let err = classify_label("EMG UT L", "furlong")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("channel `EMG UT L`") && err.contains("`furlong`"),
            "{err}"
        );
        // An unanalysed channel keeps whatever unit it had.
        let c = classify_label("Temp rectal", "DegC").unwrap();
        assert_eq!(
            (c.kind, c.unit),
            (ChannelKind::Other, Unit::AsRecorded("DegC".into()))
        );
    }

    #[test]
    fn tsv_type_and_target_muscle_win_over_the_label() {
        let row = ChannelRow {
            name: "ch1".into(),
            kind: Some("EMG".into()),
            units: Some("µV".into()),
            target_muscle: Some("levator_scapulae".into()),
            side: Some("R".into()),
            line: 2,
            origin: "line 2 of the channels TSV".into(),
            ..ChannelRow::default()
        };
        let c = classify(Path::new("x"), "ch1", Some("uV"), Some(&row), 1.0).unwrap();
        assert_eq!(c.kind, ChannelKind::Emg);
        assert_eq!(c.muscle.unwrap().as_str(), "levator scapulae");
        assert_eq!(c.side, Some(Side::Right));

        let bad = ChannelRow {
            units: Some("mV".into()),
            ..row
        };
        let err = classify(Path::new("x"), "ch1", Some("uV"), Some(&bad), 1.0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("channel `ch1`") && err.contains("line 2"),
            "{err}"
        );
    }
}
