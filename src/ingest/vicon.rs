//! Vicon Nexus CSV export of analog devices (DESIGN §2.2), recognised by `Devices` on line 1.
//!
//! Layout: line 1 `Devices`; line 2 the rate in Hz; line 3 device names (each above its
//! first column); line 4 column names (`Frame`, `Sub Frame`, then channels); line 5 units;
//! then one row per sample until a blank line or the end (Nexus may append a
//! `Trajectories` section after a blank line). `Frame`/`Sub Frame` index samples and are not
//! channels. A column name used by two devices is prefixed with its device name.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::table::{
    check_unique, frame_columns, from_columns, read_numeric_csv, split_header, CsvLayout, Dialect,
    FirstSample, TimeRules,
};
use super::{IngestError, RawRecording};

const HEADER_LINES: usize = 5;

/// True when the first line marks a Nexus export.
pub fn is_vicon(first_line: &str) -> bool {
    first_line.split(',').next().map(str::trim) == Some("Devices")
}

/// Reads the analog section of a Nexus CSV export.
///
/// # Errors
/// A header line missing or malformed (line named), then as a generic CSV.
pub fn read(path: &Path, gap_periods: f64) -> Result<RawRecording, IngestError> {
    let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let line_error = |n: usize, e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            IngestError::format(
                path,
                format!("line {n}"),
                super::error::UTF8_EXPECTED,
                "bytes that are not UTF-8",
            )
        } else {
            IngestError::io(path, e)
        }
    };
    let mut lines = BufReader::new(file).lines();
    let mut header = Vec::with_capacity(HEADER_LINES);
    for n in 1..=HEADER_LINES {
        match lines.next() {
            Some(line) => header.push(line.map_err(|e| line_error(n, e))?),
            None => {
                return Err(IngestError::format(
                    path,
                    format!("line {n}"),
                    "the five header lines of a Vicon Nexus export (Devices, rate, devices, names, units)",
                    "the end of the file",
                ))
            }
        }
    }
    let mut n_rows = 0;
    for (n, line) in (HEADER_LINES + 1..).zip(lines) {
        let line = line.map_err(|e| line_error(n, e))?;
        if line.trim().trim_matches(',').is_empty() {
            break;
        }
        n_rows += 1;
    }

    let rate_text = header[1].split(',').next().unwrap_or_default().trim();
    let fs_hz = rate_text
        .parse::<f64>()
        .ok()
        .filter(|fs| fs.is_finite() && *fs > 0.0)
        .ok_or_else(|| {
            IngestError::format(
                path,
                "line 2",
                "the sampling rate in Hz",
                format!("{rate_text:?}"),
            )
        })?;

    let devices = split_header(&header[2]);
    let columns = split_header(&header[3]);
    let units = split_header(&header[4]);
    if units.len() < columns.len() {
        return Err(IngestError::format(
            path,
            "line 5 (units)",
            format!("a unit for each of the {} columns of line 4", columns.len()),
            format!(
                "{} fields, none for `{}`",
                units.len(),
                columns[units.len()]
            ),
        ));
    }
    let mut names = columns.clone();
    let mut device = String::new();
    for (i, name) in names.iter_mut().enumerate() {
        if let Some(d) = devices.get(i).filter(|d| !d.is_empty()) {
            device.clone_from(d);
        }
        if columns.iter().filter(|c| *c == name).count() > 1 {
            *name = format!("{device} {name}");
        }
    }
    check_unique(path, &names, 4)?;

    let layout = CsvLayout {
        lines_before_data: HEADER_LINES,
        n_rows: Some(n_rows),
        dialect: Dialect::COMMA,
    };
    let df = read_numeric_csv(path, &names, layout)?;
    let keep: Vec<usize> = (0..names.len())
        .filter(|&i| !matches!(columns[i].as_str(), "Frame" | "Sub Frame"))
        .collect();
    let kept_names: Vec<String> = keep.iter().map(|&i| names[i].clone()).collect();
    let data = frame_columns(path, df, &kept_names)?;
    let kept_units = keep
        .iter()
        .map(|&i| units.get(i).filter(|u| !u.is_empty()).cloned())
        .collect();
    let rules = TimeRules {
        sidecar_fs_hz: Some(fs_hz),
        gap_periods,
    };
    Ok(RawRecording {
        format: "Vicon Nexus CSV export".to_string(),
        ..from_columns(
            path,
            kept_names,
            data,
            Some(kept_units),
            rules,
            FirstSample::Line(layout.first_data_line()),
        )?
    })
}
