//! Biometrics DataLOG text export (DESIGN §2.2), recognised by `File Name:` on line 1.
//!
//! Layout: `File Name: <name>.log`; one line per channel,
//! `Channel 1: 'RF', 13480 values, engineering units: mV, no filters.`; a blank line; then
//! tab-separated rows of samples in those units, one column per channel, no time column.
//! The rows read are as many as the channel lines declare (the largest count): a real
//! export ends with a row of empty cells, which is no sample.
//! The rate is not in the file, so it comes from `SamplingFrequency` in the sidecar. The
//! export does not say which channels are EMG (a channels TSV `type` does).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::table::{
    frame_columns, from_columns, read_numeric_csv, CsvLayout, Dialect, FirstSample, TimeRules,
};
use super::{IngestError, RawRecording};

/// Line 1 of a DataLOG text export.
const MAGIC: &str = "File Name:";
/// Channel lines read before giving up on the blank line that ends the header.
const MAX_CHANNELS: usize = 64;
/// Longest header line read.
const LINE_MAX_BYTES: u64 = 1 << 16;

/// True when the first line marks a DataLOG text export.
pub fn is_datalog(first_line: &str) -> bool {
    first_line.starts_with(MAGIC)
}

/// Reads a DataLOG text export.
///
/// # Errors
/// A channel line that is not `Channel N: 'name', …, engineering units: unit, …` (line
/// named), no blank line after the channels, then as a CSV (rate from the sidecar).
pub fn read(path: &Path, rules: TimeRules) -> Result<RawRecording, IngestError> {
    let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut names = Vec::new();
    let mut units = Vec::new();
    let mut n_rows: Option<usize> = None;
    let mut n = 1;
    loop {
        let mut bytes = Vec::new();
        (&mut reader)
            .take(LINE_MAX_BYTES)
            .read_until(b'\n', &mut bytes)
            .map_err(|e| IngestError::io(path, e))?;
        let line = String::from_utf8_lossy(&bytes);
        let line = line.trim_end();
        // Line 1 names the file, lines 2 to MAX_CHANNELS + 1 the channels, then a blank line.
        if bytes.is_empty() || (n > MAX_CHANNELS + 1 && !line.is_empty()) {
            return Err(IngestError::format(
                path,
                format!("line {n}"),
                "a blank line after the channel lines of a DataLOG export",
                if bytes.is_empty() {
                    "the end of the file".to_string()
                } else {
                    format!("more than {MAX_CHANNELS} channel lines")
                },
            ));
        }
        if n > 1 && line.is_empty() {
            break;
        }
        if n > 1 {
            let (name, unit, count) = channel_line(line, n - 1).ok_or_else(|| {
                IngestError::format(
                    path,
                    format!("line {n}"),
                    format!(
                        "`Channel {}: '<name>', <count> values, engineering units: <unit>, …`",
                        n - 1
                    ),
                    format!("{line:?}"),
                )
            })?;
            if names.contains(&name) {
                return Err(IngestError::format(
                    path,
                    format!("line {n}"),
                    "each channel name once",
                    format!("`{name}` again"),
                ));
            }
            names.push(name);
            units.push(unit);
            n_rows = n_rows.max(count);
        }
        n += 1;
    }
    let layout = CsvLayout {
        lines_before_data: n,
        n_rows,
        dialect: Dialect::TAB,
    };
    let df = read_numeric_csv(path, &names, layout)?;
    let columns = frame_columns(path, df, &names)?;
    Ok(RawRecording {
        format: "Biometrics DataLOG text export".to_string(),
        ..from_columns(
            path,
            names,
            columns,
            Some(units),
            rules,
            FirstSample::Line(layout.first_data_line()),
        )?
    })
}

/// `Channel 1: 'RF', 13480 values, engineering units: mV, no filters.` →
/// (`RF`, `mV`, 13480).
fn channel_line(line: &str, number: usize) -> Option<(String, Option<String>, Option<usize>)> {
    let rest = line
        .strip_prefix(&format!("Channel {number}:"))?
        .trim_start();
    let (name, rest) = rest.strip_prefix('\'')?.split_once('\'')?;
    let count = rest
        .trim_start_matches([',', ' '])
        .split_once(" values")
        .and_then(|(n, _)| n.trim().parse().ok());
    let unit = rest
        .split_once("engineering units:")
        .map(|(_, u)| u.split(',').next().unwrap_or_default())
        .map(|u| u.trim().trim_end_matches('.').to_string())
        .filter(|u| !u.is_empty());
    Some((name.trim().to_string(), unit, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_lines_give_name_and_unit() {
        let line = "Channel 5: 'FX', 674 values, engineering units: deg, no filters, \
                    extrapolated from 50 to 1000 samples per second.";
        assert_eq!(
            channel_line(line, 5),
            Some(("FX".into(), Some("deg".into()), Some(674)))
        );
        assert_eq!(
            channel_line("Channel 1: 'RF', engineering units: mV.", 1),
            Some(("RF".into(), Some("mV".into()), None))
        );
        assert_eq!(channel_line("Channel 2: 'RF', …", 1), None);
        assert_eq!(channel_line("Channel 1: RF", 1), None);
    }
}
