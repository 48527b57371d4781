//! OpenSignals (PLUX) text export (DESIGN §2.2), recognised by its first line,
//! `# OpenSignals Text File Format`.
//!
//! Layout: line 2 is `# ` and a JSON object with one entry per device (keyed by its MAC
//! address): `sampling rate`, `resolution` (bits), `column`, `label`, `sensor`, `device`,
//! `position`, `date`, `time`; line 3 is `# EndOfHeader`; then tab-separated rows of raw ADC
//! counts, each ending with a tab, the devices' columns side by side in `position` order.
//! A device's columns are `nSeq` and its digital lines (`DI`, or BITalino's `I1 I2 O1 O2`),
//! which are not channels, then one column per `label`.
//!
//! An `EMG` sensor's counts become mV by PLUX's transfer function (the calibration);
//! its channel is named `EMG <label>` unless the label already says so, so that it is
//! typed EMG. Other sensors keep raw counts, unit `counts` (kept, not analysed: their
//! transfer functions are not checked here). `nSeq` is not checked for dropped samples.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;

use super::table::{frame_columns, read_numeric_csv, CsvLayout, Dialect};
use super::{IngestError, RawChannel, RawRecording};

/// Start of line 1 of every OpenSignals text export (`… Format. Version 1` in newer ones).
const MAGIC: &str = "# OpenSignals Text File Format";
/// The header: magic, JSON, `# EndOfHeader`.
const HEADER_LINES: usize = 3;
/// Longest header line read; PLUX headers with many devices run to a few kB.
const HEADER_MAX_BYTES: u64 = 1 << 20;

/// PLUX EMG sensor transfer function, `EMG_mV = (raw / 2^n − ½) · VCC / G · 1000`, by device
/// family: (devices, VCC in V, sensor gain G). As in biosignalsnotebooks 0.6.14,
/// `conversion.raw_to_phy("EMG", device, raw, n, "mV")`.
const EMG_TRANSFER: [(&[&str], f64, f64); 3] = [
    (
        &[
            "bioplux",
            "bioplux_exp",
            "biosignalsplux",
            "rachimeter",
            "channeller",
            "swifter",
            "ddme_openbanplux",
        ],
        3.0,
        1000.0,
    ),
    (&["bitalino"], 3.3, 1008.0),
    (&["bitalino_rev", "bitalino_riot"], 3.3, 1009.0),
];

/// True when the first line marks an OpenSignals text export.
pub fn is_opensignals(first_line: &str) -> bool {
    first_line.starts_with(MAGIC)
}

/// One device of the JSON header (keys as OpenSignals writes them).
#[derive(Debug, Deserialize)]
struct Device {
    #[serde(rename = "sampling rate")]
    sampling_rate: f64,
    resolution: Vec<u32>,
    column: Vec<String>,
    label: Vec<String>,
    sensor: Vec<String>,
    #[serde(default)]
    device: String,
    #[serde(default)]
    position: i64,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    time: Option<String>,
}

/// A channel's column and how its counts become samples.
struct Plan {
    name: String,
    column: usize,
    fs_hz: f64,
    unit: &'static str,
    /// `unit = counts · scale + offset`.
    scale: f64,
    offset: f64,
    /// 2^resolution.
    levels: f64,
}

/// Reads an OpenSignals text export.
///
/// # Errors
/// A header line missing or malformed (line, device and key named), an EMG channel of a
/// device whose transfer function palpa does not know, then as a CSV.
pub fn read(path: &Path) -> Result<RawRecording, IngestError> {
    let header = header_lines(path)?;
    let json = header[1].strip_prefix('#').unwrap_or(&header[1]).trim();
    let devices: BTreeMap<String, Device> = serde_json::from_str(json).map_err(|e| {
        IngestError::format(
            path,
            "line 2 (JSON header)",
            "a JSON object of devices, each with `sampling rate`, `resolution`, `column`, \
             `label` and `sensor`",
            e.to_string(),
        )
    })?;
    if header[2].trim() != "# EndOfHeader" {
        return Err(IngestError::format(
            path,
            "line 3",
            "`# EndOfHeader`",
            format!("{:?}", header[2]),
        ));
    }
    let mut devices: Vec<(String, Device)> = devices.into_iter().collect();
    devices.sort_by_key(|(_, d)| d.position);
    let all_labels: Vec<&String> = devices.iter().flat_map(|(_, d)| &d.label).collect();
    let mut plans = Vec::new();
    let mut names = Vec::new();
    for (mac, d) in &devices {
        plans.extend(plan_device(path, mac, d, names.len(), &all_labels)?);
        names.extend(d.column.iter().map(|c| format!("{mac} {c}")));
    }
    let layout = CsvLayout {
        lines_before_data: HEADER_LINES,
        n_rows: None,
        dialect: Dialect {
            trailing_separator: true,
            ..Dialect::TAB
        },
    };
    let df = read_numeric_csv(path, &names, layout)?;
    let kept: Vec<String> = plans.iter().map(|p| names[p.column].clone()).collect();
    let columns = frame_columns(path, df, &kept)?;
    let channels = plans
        .into_iter()
        .zip(columns)
        .map(|(p, counts)| RawChannel {
            samples: if p.scale == 1.0 && p.offset == 0.0 {
                counts
            } else {
                counts * p.scale + p.offset
            },
            name: p.name,
            unit: Some(p.unit.to_string()),
            fs_hz: p.fs_hz,
            physical_range: Some([p.offset, (p.levels - 1.0) * p.scale + p.offset]),
        })
        .collect();
    let models: Vec<&str> = devices.iter().map(|(_, d)| d.device.as_str()).collect();
    let (start, start_offset_s) = devices
        .first()
        .and_then(|(_, d)| start_of(d.date.as_deref()?, d.time.as_deref()?))
        .map_or((None, 0.0), |(s, o)| (Some(s), o));
    Ok(RawRecording {
        channels,
        start,
        start_offset_s,
        format: format!("OpenSignals text export ({})", models.join(", ")),
        ..RawRecording::default()
    })
}

/// The three header lines, each read to at most [`HEADER_MAX_BYTES`].
fn header_lines(path: &Path) -> Result<Vec<String>, IngestError> {
    let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut lines = Vec::with_capacity(HEADER_LINES);
    for n in 1..=HEADER_LINES {
        let mut bytes = Vec::new();
        (&mut reader)
            .take(HEADER_MAX_BYTES)
            .read_until(b'\n', &mut bytes)
            .map_err(|e| IngestError::io(path, e))?;
        if bytes.is_empty() {
            return Err(IngestError::format(
                path,
                format!("line {n}"),
                "the three header lines of an OpenSignals export (format, JSON, EndOfHeader)",
                "the end of the file",
            ));
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            IngestError::format(
                path,
                format!("line {n}"),
                super::error::UTF8_EXPECTED,
                "bytes that are not UTF-8",
            )
        })?;
        lines.push(text.trim_end().to_string());
    }
    Ok(lines)
}

/// The channels of one device, whose columns start at `first_column` of the row.
fn plan_device(
    path: &Path,
    mac: &str,
    d: &Device,
    first_column: usize,
    all_labels: &[&String],
) -> Result<Vec<Plan>, IngestError> {
    let place = |key: &str| format!("line 2 (JSON header), device `{mac}`, `{key}`");
    if !(d.sampling_rate.is_finite() && d.sampling_rate > 0.0) {
        return Err(IngestError::format(
            path,
            place("sampling rate"),
            "a rate in Hz above 0",
            d.sampling_rate.to_string(),
        ));
    }
    if d.sensor.len() != d.label.len() {
        return Err(IngestError::format(
            path,
            place("sensor"),
            format!("a sensor for each of the {} labels", d.label.len()),
            format!("{} sensors", d.sensor.len()),
        ));
    }
    d.label
        .iter()
        .zip(&d.sensor)
        .enumerate()
        .map(|(i, (label, sensor))| {
            let column = d.column.iter().position(|c| c == label).ok_or_else(|| {
                IngestError::format(
                    path,
                    place("column"),
                    format!("the label `{label}` among the columns"),
                    super::error::listing(&d.column),
                )
            })?;
            // Per label (PLUX hubs) or per column (BITalino, whose nSeq has 4 bits).
            let bits = if d.resolution.len() == d.label.len() {
                d.resolution.get(i)
            } else if d.resolution.len() == d.column.len() {
                d.resolution.get(column)
            } else {
                None
            }
            .copied()
            .filter(|b| (1..=32).contains(b))
            .ok_or_else(|| {
                IngestError::format(
                    path,
                    place("resolution"),
                    "bits from 1 to 32, one per label or one per column",
                    format!("{:?}", d.resolution),
                )
            })?;
            let levels = 2f64.powi(bits as i32);
            let repeated = all_labels.iter().filter(|l| *l == &label).count() > 1;
            let name = if repeated {
                format!("{mac} {label}")
            } else {
                label.clone()
            };
            let (name, unit, scale, offset) = if sensor.to_ascii_uppercase().starts_with("EMG") {
                let full_scale_mv = emg_full_scale_mv(&d.device).ok_or_else(|| {
                    IngestError::format(
                        path,
                        place("device"),
                        KNOWN_DEVICES,
                        format!("`{}`", d.device),
                    )
                })?;
                let name = if label.to_ascii_uppercase().starts_with("EMG") {
                    name
                } else {
                    format!("EMG {name}")
                };
                (name, "mV", full_scale_mv / levels, -0.5 * full_scale_mv)
            } else {
                (name, "counts", 1.0, 0.0)
            };
            Ok(Plan {
                name,
                column: first_column + column,
                fs_hz: d.sampling_rate,
                unit,
                scale,
                offset,
                levels,
            })
        })
        .collect()
}

/// What an error about an unknown device expects.
pub(super) const KNOWN_DEVICES: &str =
    "a PLUX device whose EMG transfer function palpa knows (biosignalsplux, bioplux, channeller, \
     bitalino, …)";

/// The span in mV of a PLUX EMG sensor's output on `device`, `VCC / G · 1000`: counts are
/// `raw · span / 2^n − span / 2`. `None` for a device palpa does not know.
pub(super) fn emg_full_scale_mv(device: &str) -> Option<f64> {
    EMG_TRANSFER
        .iter()
        .find(|(models, _, _)| models.contains(&device))
        .map(|(_, vcc_v, gain)| vcc_v / gain * 1000.0)
}

/// `2017-1-17` and `14:50:32.316` → (`2017-01-17T14:50:32`, 0.316 s); `None` if either is
/// not in that form (the start is metadata; its absence stops nothing).
pub(super) fn start_of(date: &str, time: &str) -> Option<(String, f64)> {
    let ymd: Vec<u32> = date
        .split('-')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    let (hms, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let hms: Vec<u32> = hms
        .split(':')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    let fraction: f64 = format!("0.{fraction}").parse().ok()?;
    match (ymd.as_slice(), hms.as_slice()) {
        ([y, mo, d], [h, mi, s]) if *mo <= 12 && *d <= 31 && *h < 24 && *mi < 60 && *s < 61 => {
            Some((
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"),
                fraction,
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_is_padded_and_split_at_the_second() {
        assert_eq!(
            start_of("2019-9-4", "13:7:35.740"),
            Some(("2019-09-04T13:07:35".into(), 0.74))
        );
        assert_eq!(
            start_of("2019-05-24", "14:31:08"),
            Some(("2019-05-24T14:31:08".into(), 0.0))
        );
        assert_eq!(start_of("24.05.2019", "14:31:08"), None);
        assert_eq!(start_of("2017-13-01", "14:31:08"), None, "month 13");
        assert_eq!(start_of("2019-5-24", "14:31"), None);
    }
}
