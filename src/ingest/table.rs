//! CSV and Parquet recordings, read with polars (DESIGN §2.2): one row per sample, one
//! column per channel, optionally a `time_s` column.
//!
//! A CSV may be `,`-separated with decimal points, `;`-separated with decimal commas or
//! points, or tab-separated (`.csv`, `.tsv`, `.txt`); `sniff` tells which from the header
//! and the first lines, and `RawRecording::format` states it. A column header may carry its
//! unit, `EMG UT L [uV]` or `force (N)`, or a units row under the header may (`s`, `uV`,
//! empty; it wins over the header's where it has one). The rate comes from
//! the sidecar's `SamplingFrequency` if given, else from the median step of `time_s`.
//! `time_s` must increase; a step above `gap_periods` sample periods is a [`TimeGap`].
//!
//! Polars parses fast but its errors name a byte offset, not a line; and a row with too few
//! fields comes back as nulls. So when polars fails or returns nulls, `diagnose_csv` walks
//! the file once more to name the line and column; empty and `n/a` cells become NaN, which
//! QC counts.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use ndarray::Array1;
use polars::prelude::*;

use super::{IngestError, RawChannel, RawRecording};
use crate::model::TimeGap;

/// Cells read as missing (BIDS `n/a`, R's `NA`, empty).
const MISSING: [&str; 3] = ["n/a", "NA", ""];
/// Names of the time column (DESIGN §2.2), compared after removing a `[s]`/`(s)` suffix.
const TIME_COLUMN: &str = "time_s";

/// How the rate of a table without its own rate is found, and what counts as a gap.
#[derive(Clone, Copy, Debug)]
pub struct TimeRules {
    /// `SamplingFrequency` from the sidecar.
    pub sidecar_fs_hz: Option<f64>,
    /// A time step above this many sample periods is a gap.
    pub gap_periods: f64,
}

/// Reads a generic CSV recording in any [`Dialect`], with an optional units row.
///
/// # Errors
/// Empty file, no data rows, duplicate columns, ragged rows, non-numeric cells (line and
/// column named), backwards time, no way to know the rate; each with a hint of the fix.
pub fn read_csv(path: &Path, rules: TimeRules) -> Result<RawRecording, IngestError> {
    let head = head_lines(path)?;
    let lines: Vec<&str> = head.iter().map(String::as_str).collect();
    let Sniffed {
        names,
        units,
        dialect,
    } = sniff(&lines);
    check_header_is_names(path, lines.first().copied().unwrap_or_default())?;
    check_unique(path, &names, 1)?;
    let layout = CsvLayout {
        lines_before_data: 1 + usize::from(units.is_some()),
        n_rows: None,
        dialect,
    };
    let df = read_numeric_csv(path, &names, layout)?;
    let columns = frame_columns(path, df, &names)?;
    let format = format!(
        "CSV ({}{})",
        dialect.describe(),
        if units.is_some() { ", units row" } else { "" }
    );
    let units = units.map(|row| {
        row.into_iter()
            .map(|u| Some(u).filter(|u| !u.is_empty()))
            .collect()
    });
    Ok(RawRecording {
        format,
        ..from_columns(
            path,
            names,
            columns,
            units,
            rules,
            FirstSample::Line(layout.first_data_line()),
        )?
    })
}

/// How a text table is written. Detected by `sniff` for a generic CSV; fixed by a vendor
/// reader for its export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// `,`, `;` or tab.
    pub separator: u8,
    /// Decimal commas (`1,5`). polars then reads `1.5` too, as [`Dialect::is_number`] does.
    pub decimal_comma: bool,
    /// Every row ends with a separator (OpenSignals), whose empty last cell is no column.
    pub trailing_separator: bool,
}

impl Dialect {
    /// `,` with decimal points, the CSV of English-language software.
    pub const COMMA: Dialect = Dialect {
        separator: b',',
        decimal_comma: false,
        trailing_separator: false,
    };
    /// Tab with decimal points.
    pub const TAB: Dialect = Dialect {
        separator: b'\t',
        ..Dialect::COMMA
    };

    /// The separator as a message names it.
    fn separator_name(self) -> String {
        match self.separator {
            b'\t' => "tab".to_string(),
            s => format!("`{}`", char::from(s)),
        }
    }

    /// `` `;`-separated, decimal commas ``, as `inspect` states the dialect.
    pub fn describe(self) -> String {
        let mut text = format!("{}-separated", self.separator_name());
        if self.decimal_comma {
            text.push_str(", decimal commas");
        } else if self.separator != b',' {
            text.push_str(", decimal points");
        }
        text
    }

    /// The cells of a line, trimmed and unquoted.
    pub(crate) fn cells(self, line: &str) -> Vec<&str> {
        let line = line.trim_end_matches(['\r', '\n']);
        let line = if self.trailing_separator {
            line.strip_suffix(char::from(self.separator))
                .unwrap_or(line)
        } else {
            line
        };
        line.split(char::from(self.separator))
            .map(|c| c.trim().trim_matches('"'))
            .collect()
    }

    /// True when polars reads `cell` as a number in this dialect.
    fn is_number(self, cell: &str) -> bool {
        if self.decimal_comma {
            cell.replace(',', ".").parse::<f64>().is_ok()
        } else {
            cell.parse::<f64>().is_ok()
        }
    }

    /// The decimal mark a message names.
    fn decimal_mark(self) -> &'static str {
        if self.decimal_comma {
            "`,` (or `.`)"
        } else {
            "`.`"
        }
    }
}

/// Lines after the header that [`sniff`] looks at.
const SNIFF_LINES: usize = 20;
/// Bytes of a file's start that [`sniff`] looks at; a file of one endless line stops here.
const SNIFF_BYTES: u64 = 1 << 20;
/// Separators a CSV may use, in the order [`sniff`] prefers them.
const SEPARATORS: [u8; 3] = [b'\t', b';', b','];

/// What [`sniff`] finds at the start of a CSV.
#[derive(Clone, Debug, PartialEq)]
struct Sniffed {
    /// Column names of the header line.
    names: Vec<String>,
    /// The units row under the header, if there is one.
    units: Option<Vec<String>>,
    /// The dialect.
    dialect: Dialect,
}

/// Decides a CSV's dialect and units row from its header line and the lines after it
/// (`lines[0]` is the header; blank lines are ignored):
/// - **separator**: the first of tab, `;`, `,` that splits the header and every looked-at
///   line into the same number (more than one) of cells; else the first of them the header
///   holds (a ragged file is then reported with it); else `,` (one column). A tab or `;`
///   is never inside a number, while `,` may be a decimal comma, hence the order.
/// - **units row**: line 2, when it has a cell per column, none of them a number or
///   `n/a`/`NA`, and not all of them empty.
/// - **decimal commas**: when the separator is not `,` and a data cell holds a `,`.
///   Otherwise decimal points, so a `,` appearing only later is reported, not guessed.
fn sniff(lines: &[&str]) -> Sniffed {
    let header = lines.first().copied().unwrap_or_default();
    let rest: Vec<&str> = lines
        .iter()
        .skip(1)
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let count = |line: &str, sep: u8| line.split(char::from(sep)).count();
    let separator = SEPARATORS
        .into_iter()
        .find(|&sep| {
            let n = count(header, sep);
            n > 1 && rest.iter().all(|l| count(l, sep) == n)
        })
        .or_else(|| {
            SEPARATORS
                .into_iter()
                .find(|&sep| header.contains(char::from(sep)))
        })
        .unwrap_or(b',');
    let lenient = Dialect {
        separator,
        decimal_comma: separator != b',',
        trailing_separator: false,
    };
    let names: Vec<String> = lenient
        .cells(header)
        .iter()
        .map(|c| c.to_string())
        .collect();
    let units = lines.get(1).map(|l| lenient.cells(l)).filter(|cells| {
        cells.len() == names.len()
            && cells.iter().any(|c| !c.is_empty())
            && cells
                .iter()
                .all(|c| !lenient.is_number(c) && !MISSING[..2].contains(c))
    });
    let data = lines.iter().skip(1 + usize::from(units.is_some()));
    let decimal_comma =
        separator != b',' && data.flat_map(|l| lenient.cells(l)).any(|c| c.contains(','));
    Sniffed {
        names,
        units: units.map(|u| u.iter().map(|c| c.to_string()).collect()),
        dialect: Dialect {
            decimal_comma,
            ..lenient
        },
    }
}

/// True when `lines` (a file's first lines, header first) look like a table palpa reads:
/// a header with a name that is not a number, then (after a units row, if any) a row of
/// numbers or missing cells, one per column.
pub fn looks_like_table(lines: &[&str]) -> bool {
    let Sniffed {
        names,
        units,
        dialect,
    } = sniff(lines);
    let first = lines
        .iter()
        .skip(1 + usize::from(units.is_some()))
        .find(|l| !l.trim().is_empty());
    names.iter().any(|n| !dialect.is_number(n))
        && first.is_some_and(|l| {
            let cells = dialect.cells(l);
            cells.len() == names.len()
                && cells
                    .iter()
                    .all(|c| MISSING.contains(c) || dialect.is_number(c))
        })
}

/// The header line and up to [`SNIFF_LINES`] lines after it; line 1 must be UTF-8 text.
fn head_lines(path: &Path) -> Result<Vec<String>, IngestError> {
    let mut lines = vec![first_line(path)?];
    let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    for line in BufReader::new(file)
        .take(SNIFF_BYTES)
        .split(b'\n')
        .skip(1)
        .take(SNIFF_LINES)
    {
        let bytes = line.map_err(|e| IngestError::io(path, e))?;
        lines.push(
            String::from_utf8_lossy(&bytes)
                .trim_end_matches('\r')
                .to_string(),
        );
    }
    Ok(lines)
}

/// Reads a Parquet recording a column at a time, each column's samples copied out of
/// polars' frame before the next is read: a whole file's frame and its samples would be
/// held at once, twice the recording's size.
///
/// # Errors
/// A corrupt file, a non-numeric column (the first in file order), backwards time, no way
/// to know the rate.
pub fn read_parquet(path: &Path, rules: TimeRules) -> Result<RawRecording, IngestError> {
    outside_rayon();
    let reader = || {
        File::open(path)
            .map(ParquetReader::new)
            .map_err(|e| IngestError::io(path, e))
    };
    let names: Vec<String> = reader()?
        .schema()
        .map_err(|e| {
            IngestError::format(
                path,
                "file structure",
                "a complete Parquet file",
                format!("a file cut short or not Parquet ({e})"),
            )
        })?
        .iter_names()
        .map(|c| c.to_string())
        .collect();
    let columns = names
        .iter()
        .map(|name| {
            let df = reader()?
                .with_columns(Some(vec![name.clone()]))
                .finish()
                .map_err(|e| IngestError::table(path, e))?;
            Ok(frame_columns(path, df, std::slice::from_ref(name))?
                .pop()
                .unwrap_or_default())
        })
        .collect::<Result<Vec<_>, IngestError>>()?;
    Ok(RawRecording {
        format: "Parquet".to_string(),
        ..from_columns(path, names, columns, None, rules, FirstSample::Row)?
    })
}

/// polars decodes on its own rayon pool, and called from another pool's thread it has
/// deadlocked (peers.md: polars #8441, #22159), so `palpa run` reads recordings before
/// handing them to its pool. Tests run in debug, where this holds the batch to that.
fn outside_rayon() {
    debug_assert!(
        rayon::current_thread_index().is_none(),
        "polars called from a rayon thread"
    );
}

/// Where a table's first sample is, so an error can name the sample's place: a line of a
/// text file, or a row of a Parquet file, which has no lines.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FirstSample {
    /// The 1-based line of the first sample.
    Line(usize),
    /// Parquet: sample `i` is row `i + 1`.
    Row,
}

impl FirstSample {
    /// The place of sample `i` (0-based).
    fn place(self, i: usize) -> String {
        match self {
            FirstSample::Line(line) => format!("line {}", line + i),
            FirstSample::Row => format!("row {}", i + 1),
        }
    }
}

/// Where the data of a text table are, and how they are written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CsvLayout {
    /// Lines before the first row of samples: header, units row, a vendor's header lines.
    pub lines_before_data: usize,
    /// Data rows to read, when a vendor file has other sections after them.
    pub n_rows: Option<usize>,
    /// Separator and decimal mark.
    pub dialect: Dialect,
}

impl CsvLayout {
    /// 1-based line of the first sample.
    pub fn first_data_line(&self) -> usize {
        self.lines_before_data + 1
    }
}

/// Parses every column as f64 with polars; on failure or nulls, names the line. The names
/// are palpa's (polars reads no header line), so vendor headers work the same way.
pub(crate) fn read_numeric_csv(
    path: &Path,
    names: &[String],
    layout: CsvLayout,
) -> Result<DataFrame, IngestError> {
    outside_rayon();
    let schema = Schema::from_iter(
        names
            .iter()
            .map(|n| Field::new(n.as_str().into(), DataType::Float64)),
    );
    let dialect = layout.dialect;
    let result = CsvReadOptions::default()
        .with_has_header(false)
        .with_skip_lines(layout.lines_before_data)
        .with_n_rows(layout.n_rows)
        .with_schema(Some(Arc::new(schema)))
        .map_parse_options(|p| {
            p.with_separator(dialect.separator)
                .with_decimal_comma(dialect.decimal_comma)
                // The empty cell after a row's last separator; `diagnose_csv` catches
                // any other extra cell when the row is also short elsewhere.
                .with_truncate_ragged_lines(dialect.trailing_separator)
                .with_null_values(Some(NullValues::AllColumns(
                    MISSING.iter().map(|s| (*s).into()).collect(),
                )))
        })
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish());
    let df = match result {
        Ok(df) => df,
        // Nothing after the header lines.
        Err(PolarsError::NoData(_)) => DataFrame::empty(),
        Err(e) => {
            diagnose_csv(path, names, layout)?;
            return Err(IngestError::table(path, e));
        }
    };
    if df.height() == 0 {
        return Err(IngestError::format(
            path,
            format!("line {}", layout.first_data_line()),
            "at least one row of samples after the header",
            "no data rows",
        ));
    }
    if df.columns().iter().any(|c| c.null_count() > 0) {
        diagnose_csv(path, names, layout)?;
    }
    Ok(df)
}

/// Walks the data lines and returns the first ragged row or non-numeric cell.
fn diagnose_csv(path: &Path, names: &[String], layout: CsvLayout) -> Result<(), IngestError> {
    let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let lines = BufReader::new(file)
        .split(b'\n')
        .enumerate()
        .skip(layout.lines_before_data);
    let limit = layout.n_rows.unwrap_or(usize::MAX);
    let dialect = layout.dialect;
    for (i, line) in lines.take(limit) {
        let line_no = i + 1;
        let bytes = line.map_err(|e| IngestError::io(path, e))?;
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_end_matches('\r');
        if text.is_empty() {
            continue;
        }
        let cells = dialect.cells(text);
        if cells.len() != names.len() {
            return Err(IngestError::format(
                path,
                format!("line {line_no}"),
                format!("{} fields, as in the header", names.len()),
                match cells.len() {
                    1 if text.trim().is_empty() => "an empty line".to_string(),
                    1 => "1 field".to_string(),
                    n => format!("{n} fields"),
                },
            )
            .with_hint(format!(
                "every row needs one value per header column; check the separator (palpa \
                 detected {})",
                dialect.separator_name()
            )));
        }
        for (cell, name) in cells.iter().zip(names) {
            if !MISSING.contains(cell) && !dialect.is_number(cell) {
                return Err(IngestError::format(
                    path,
                    format!("line {line_no}, column `{name}`"),
                    "a number",
                    format!("{cell:?}"),
                )
                .with_hint(format!(
                    "every cell under the header must be a number with the decimal mark {} \
                     (detected from the first lines), or empty or `n/a` for a missing sample",
                    dialect.decimal_mark()
                )));
            }
        }
    }
    Ok(())
}

/// The first line of a file, without its line ending.
///
/// # Errors
/// An empty file.
pub(crate) fn first_line(path: &Path) -> Result<String, IngestError> {
    let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut line = Vec::new();
    BufReader::new(file)
        .take(1 << 20)
        .read_until(b'\n', &mut line)
        .map_err(|e| IngestError::io(path, e))?;
    let text = match std::str::from_utf8(&line) {
        Ok(text) => text.trim_end().to_string(),
        Err(e) => {
            return Err(IngestError::format(
                path,
                "line 1",
                super::error::UTF8_EXPECTED,
                format!(
                    "the byte 0x{:02X} at byte {} of the line",
                    line[e.valid_up_to()],
                    e.valid_up_to() + 1
                ),
            ))
        }
    };
    if text.is_empty() {
        return Err(if line.is_empty() {
            IngestError::format(
                path,
                "line 1",
                "a header line of column names",
                "an empty file",
            )
        } else {
            IngestError::format(
                path,
                "line 1",
                "a header line of column names",
                "an empty line",
            )
            .with_hint("remove the empty lines before the header")
        });
    }
    Ok(text)
}

/// A first line of numbers alone is data without a header, as NumPy's `savetxt` writes an
/// array; often one whose rows are channels, which no dialect can turn into samples.
fn check_header_is_names(path: &Path, first: &str) -> Result<(), IngestError> {
    let values: Vec<&str> = first
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() || values.iter().any(|v| v.parse::<f64>().is_err()) {
        return Ok(());
    }
    Err(IngestError::format(
        path,
        "line 1",
        "a header line of channel names",
        format!("{} numbers and no name", values.len()),
    )
    .with_hint(
        "palpa reads one row per sample under a header naming the channels, such as \
         `time_s,EMG [mV]`; if the file's rows are channels (NumPy `savetxt` of a channels × \
         samples array), transpose it and add that header",
    ))
}

/// Header cells of a `,`-separated line, trimmed and unquoted.
pub(crate) fn split_header(line: &str) -> Vec<String> {
    Dialect::COMMA
        .cells(line)
        .iter()
        .map(|c| c.to_string())
        .collect()
}

pub(crate) fn check_unique(path: &Path, names: &[String], line: usize) -> Result<(), IngestError> {
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(IngestError::format(
                path,
                format!("line {line}, column {}", i + 1),
                "unique column names",
                format!("`{name}` a second time"),
            )
            .with_hint("give each column its own name"));
        }
    }
    Ok(())
}

/// Every named column as f64 samples; nulls become NaN. Each column leaves the frame as it
/// is converted, so a long recording is never held twice.
pub(crate) fn frame_columns(
    path: &Path,
    mut df: DataFrame,
    names: &[String],
) -> Result<Vec<Array1<f64>>, IngestError> {
    names
        .iter()
        .map(|name| {
            let col = df
                .drop_in_place(name)
                .map_err(|e| IngestError::table(path, e))?;
            if !col.dtype().is_primitive_numeric() {
                return Err(IngestError::format(
                    path,
                    format!("column `{name}`"),
                    "numbers",
                    format!("values of type {}", col.dtype()),
                ));
            }
            let cast = col
                .cast(&DataType::Float64)
                .map_err(|e| IngestError::table(path, e))?;
            drop(col);
            let values = cast.f64().map_err(|e| IngestError::table(path, e))?;
            let mut samples = Vec::with_capacity(values.len());
            for chunk in values.downcast_iter() {
                if chunk.validity().is_none() {
                    samples.extend_from_slice(chunk.values());
                } else {
                    samples.extend(chunk.iter().map(|v| v.copied().unwrap_or(f64::NAN)));
                }
            }
            Ok(Array1::from(samples))
        })
        .collect()
}

/// `EMG UT L [uV]` → (`EMG UT L`, `uV`); `force (N)` → (`force`, `N`).
pub(crate) fn split_unit(header: &str) -> (String, Option<String>) {
    let h = header.trim();
    for (open, close) in [('[', ']'), ('(', ')')] {
        if let Some(stripped) = h.strip_suffix(close) {
            if let Some(at) = stripped.rfind(open) {
                let unit = stripped[at + 1..].trim();
                if !unit.is_empty() {
                    return (stripped[..at].trim().to_string(), Some(unit.to_string()));
                }
            }
        }
    }
    (h.to_string(), None)
}

/// Which column holds the time: `time_s`, or `time` in seconds; `split` is (name, unit)
/// per column, the unit from the units row or else the header. A `time_s` in another
/// unit is refused rather than read as seconds.
fn time_column(
    path: &Path,
    split: &[(String, Option<String>)],
) -> Result<Option<usize>, IngestError> {
    let t = split.iter().position(|(name, unit)| {
        name == TIME_COLUMN || (name.eq_ignore_ascii_case("time") && unit.as_deref() == Some("s"))
    });
    match t.and_then(|t| split[t].1.as_deref().map(|u| (t, u))) {
        Some((t, unit)) if unit != "s" => Err(IngestError::format(
            path,
            format!("column `{}`", split[t].0),
            "the unit `s` (seconds) for the time",
            format!("`{unit}`"),
        )
        .with_hint("write the times in seconds")),
        _ => Ok(t),
    }
}

/// Columns → channels, taking the time column (if any) for the rate and gaps.
///
/// `units`: a unit per column from a units row or line; an empty one, or none, leaves the
/// header's (`force (N)`).
/// `first`: where the first sample is, for errors.
pub(crate) fn from_columns(
    path: &Path,
    names: Vec<String>,
    mut columns: Vec<Array1<f64>>,
    units: Option<Vec<Option<String>>>,
    rules: TimeRules,
    first: FirstSample,
) -> Result<RawRecording, IngestError> {
    let units = units.unwrap_or_default();
    let split: Vec<(String, Option<String>)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (name, header_unit) = split_unit(n);
            (name, units.get(i).cloned().flatten().or(header_unit))
        })
        .collect();
    let time_col = time_column(path, &split)?;
    if columns.first().is_none_or(|c| c.is_empty()) {
        return Err(IngestError::format(
            path,
            "table",
            "at least one column with at least one sample",
            "no samples",
        ));
    }
    let (fs_hz, gaps) = match time_col {
        Some(t) => {
            let time = columns.remove(t);
            time_base(
                path,
                &names[t],
                time.as_slice().unwrap_or(&[]),
                rules,
                first,
            )?
        }
        None => match rules.sidecar_fs_hz {
            Some(fs) => (fs, Vec::new()),
            None => {
                let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                return Err(IngestError::format(
                    path,
                    "columns",
                    "a `time_s` column, or `SamplingFrequency` in the sidecar JSON",
                    "neither",
                )
                .with_hint(format!(
                    "add a `time_s` column or `SamplingFrequency` in {stem}.json, or \
                     `sampling_frequency_hz` under `[dataset]` in palpa.toml"
                )));
            }
        },
    };
    let channels = split
        .into_iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != time_col)
        .map(|(_, named)| named)
        .zip(columns)
        .map(|((name, unit), samples)| RawChannel {
            name,
            unit,
            fs_hz,
            samples,
            physical_range: None,
        })
        .collect();
    Ok(RawRecording {
        channels,
        gaps,
        ..RawRecording::default()
    })
}

/// Rate and gaps from a time column. The rate is the sidecar's if given, else the median
/// step; this is timing metadata, not arithmetic on samples.
fn time_base(
    path: &Path,
    column: &str,
    time: &[f64],
    rules: TimeRules,
    first: FirstSample,
) -> Result<(f64, Vec<TimeGap>), IngestError> {
    if let Some(i) = crate::signal::first_non_finite(time) {
        return Err(IngestError::format(
            path,
            format!("{}, column `{column}`", first.place(i)),
            "a time in seconds",
            if time[i].is_nan() {
                "an empty or non-numeric cell".to_string()
            } else {
                time[i].to_string()
            },
        ));
    }
    for (i, pair) in time.windows(2).enumerate() {
        if pair[1].partial_cmp(&pair[0]) != Some(std::cmp::Ordering::Greater) {
            return Err(IngestError::format(
                path,
                format!("{}, column `{column}`", first.place(i + 1)),
                format!("a time after {} s (time must increase)", pair[0]),
                format!("{} s", pair[1]),
            )
            .with_hint("sort the rows by time, or remove repeated rows"));
        }
    }
    let fs_hz = match rules.sidecar_fs_hz {
        Some(fs) => fs,
        None => rate_from_steps(path, column, time, rules.gap_periods)?,
    };
    let period = 1.0 / fs_hz;
    let gaps = time
        .windows(2)
        .enumerate()
        .filter(|(_, p)| p[1] - p[0] > rules.gap_periods * period)
        .map(|(i, p)| TimeGap {
            at_s: (i + 1) as f64 * period,
            gap_s: p[1] - p[0] - period,
        })
        .collect();
    Ok((fs_hz, gaps))
}

/// The rate of a time column: the mean of its regular steps (those within `gap_periods` of
/// the median step, summed in time order), which averages away the rounding of printed
/// times, then rounded to 9 significant digits so that `0.001`-spaced times give exactly
/// 1000 Hz.
fn rate_from_steps(
    path: &Path,
    column: &str,
    time: &[f64],
    gap_periods: f64,
) -> Result<f64, IngestError> {
    if time.len() < 2 {
        return Err(IngestError::format(
            path,
            format!("column `{column}`"),
            "at least two samples to find the rate, or `SamplingFrequency` in the sidecar",
            "one sample",
        ));
    }
    let median = median_step(time);
    let (count, total) = time
        .windows(2)
        .map(|p| p[1] - p[0])
        .filter(|&s| s <= gap_periods * median)
        .fold((0usize, 0.0), |(n, sum), s| (n + 1, sum + s));
    let fs = count as f64 / total;
    let scale = 10f64.powi(8 - fs.log10().floor() as i32);
    Ok((fs * scale).round() / scale)
}

/// The median step of `time` (at least two samples), as [`crate::signal::median`] of the
/// steps gives it. A clock's printed times step by a few distinct values (20 over 600 s at
/// 2 kHz, as `palpa simulate` writes them), so the steps are counted by value; past 64
/// distinct values they are copied and selected. The copy of an hour's steps was 58 MB of
/// fresh pages and a selection over 7.2 M values.
fn median_step(time: &[f64]) -> f64 {
    const FEW: usize = 64;
    let steps = time.windows(2).map(|p| p[1] - p[0]);
    let mut counts: Vec<(f64, usize)> = Vec::with_capacity(FEW);
    // Equal steps come in runs: the last one matched is tried first.
    let mut last = 0;
    for s in steps.clone() {
        let same = |&(v, _): &(f64, usize)| v.to_bits() == s.to_bits();
        if counts.get(last).is_some_and(same) {
            counts[last].1 += 1;
        } else if let Some(i) = counts.iter().position(same) {
            counts[i].1 += 1;
            last = i;
        } else if counts.len() < FEW {
            counts.push((s, 1));
            last = counts.len() - 1;
        } else {
            let mut all: Vec<f64> = steps.collect();
            return crate::signal::median(&mut all).unwrap_or(f64::NAN);
        }
    }
    counts.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // The step of rank `rank` (0-based) in sorted order.
    let ranked = |rank: usize| {
        let mut below = 0;
        counts
            .iter()
            .find(|&&(_, c)| {
                below += c;
                rank < below
            })
            .map_or(f64::NAN, |&(v, _)| v)
    };
    let n = time.len() - 1;
    let upper = ranked(n / 2);
    if n % 2 == 1 {
        upper
    } else {
        (ranked(n / 2 - 1) + upper) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_in_headers_are_split_off() {
        assert_eq!(
            split_unit("EMG UT L [uV]"),
            ("EMG UT L".into(), Some("uV".into()))
        );
        assert_eq!(split_unit("force (N)"), ("force".into(), Some("N".into())));
        assert_eq!(split_unit("EMG1"), ("EMG1".into(), None));
    }

    fn sniffed(text: &str) -> Sniffed {
        sniff(&text.lines().collect::<Vec<_>>())
    }

    #[test]
    fn the_dialect_is_read_from_the_header_and_first_lines() {
        let comma = sniffed("time_s,EMG [uV]\n0.000,1.5\n0.001,2\n");
        assert_eq!(comma.dialect, Dialect::COMMA);
        assert_eq!(comma.names, ["time_s", "EMG [uV]"]);
        let semi = sniffed("time_s;EMG;force\ns;uV;N\n0,000;1,5;2\n");
        assert_eq!(
            (semi.dialect.separator, semi.dialect.decimal_comma),
            (b';', true)
        );
        assert_eq!(semi.units.unwrap(), ["s", "uV", "N"]);
        let semi_points = sniffed("time_s;EMG\n0.000;1.5\n");
        assert_eq!(
            semi_points.dialect.describe(),
            "`;`-separated, decimal points"
        );
        let tab = sniffed("time_s\tEMG\n0,001\t3\n");
        assert_eq!(tab.dialect.describe(), "tab-separated, decimal commas");
        // A `,` in a `;` header is part of a name; whole numbers alone mean decimal points.
        let named = sniffed("time_s;force, left (N)\n0;1\n1;2\n");
        assert_eq!(named.names, ["time_s", "force, left (N)"]);
        assert!(!named.dialect.decimal_comma);
        // No separator splits every line alike: the first one in the header, for the error.
        assert_eq!(sniffed("a;b\n1;2;3\n").dialect.separator, b';');
        assert_eq!(sniffed("EMG\n1\n").dialect, Dialect::COMMA);
    }

    #[test]
    fn a_units_row_has_no_number_and_a_cell_per_column() {
        assert_eq!(
            sniffed("time_s,EMG,F\ns,,N\n0,1,2\n").units.unwrap(),
            ["s", "", "N"]
        );
        for no_units in [
            "time_s,EMG\n0,n/a\n",
            "time_s,EMG\n,\n0,1\n",
            "time_s,EMG\ns\n0,1\n",
            "time_s,EMG\ns,1\n",
        ] {
            assert_eq!(sniffed(no_units).units, None, "{no_units:?}");
        }
    }

    #[test]
    fn tables_are_told_from_other_text() {
        let yes = |t: &str| looks_like_table(&t.lines().collect::<Vec<_>>());
        assert!(yes("time_s;EMG\ns;uV\n0,5;n/a\n"));
        assert!(yes("EMG\tF\n1\t2\n"));
        assert!(!yes("Some notes\nabout a session\n"));
        assert!(!yes("1,2\n3,4\n"));
        assert!(!yes("time_s,EMG\n"));
    }

    /// Counted by value or selected from a copy, the median step is the one
    /// `signal::median` gives: few distinct steps, many (the copy), odd and even counts.
    #[test]
    fn the_median_step_is_the_median_of_the_steps() {
        let mut u = crate::testing::uniform(0x9e37_79b9_7f4a_7c15);
        for (n, distinct) in [
            (2, 1),
            (3, 2),
            (1000, 3),
            (1001, 20),
            (4000, 64),
            (4001, 65),
        ] {
            // Whole-number steps, so that there are exactly `distinct` of them.
            let mut t = 0.0;
            let time: Vec<f64> = (0..n)
                .map(|_| {
                    t += 1.0 + (u() * distinct as f64).floor();
                    t
                })
                .collect();
            let mut steps: Vec<f64> = time.windows(2).map(|p| p[1] - p[0]).collect();
            let expected = crate::signal::median(&mut steps).unwrap();
            assert_eq!(
                median_step(&time).to_bits(),
                expected.to_bits(),
                "{n} samples, {distinct} step sizes"
            );
        }
        // Even counts whose two middle steps differ: their mean.
        assert_eq!(median_step(&[0.0, 1.0, 3.0]), 1.5);
        let half_and_half: Vec<f64> = (0..201).map(|i| (i + i.max(100) - 100) as f64).collect();
        assert_eq!(median_step(&half_and_half), 1.5);
    }

    #[test]
    fn rate_from_printed_times_is_exact_despite_rounding() {
        let p = Path::new("t.csv");
        let ms: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        assert_eq!(rate_from_steps(p, "time_s", &ms, 1.5).unwrap(), 1000.0);
        // Delsys Trigno's 1925.926 Hz, times printed to 7 decimals, with a gap.
        let mut trigno: Vec<f64> = (0..5000)
            .map(|i| (i as f64 / 1_925.925_925_9 * 1e7).round() / 1e7)
            .collect();
        trigno.iter_mut().skip(2500).for_each(|t| *t += 0.5);
        let fs = rate_from_steps(p, "time_s", &trigno, 1.5).unwrap();
        assert!((fs - 1_925.925_925_9).abs() < 1e-3, "{fs}");
    }

    #[test]
    fn a_parquet_recording_reports_its_first_fault_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, time: Vec<f64>, emg: Column| {
            let path = dir.path().join(name);
            let mut df = DataFrame::new(
                6,
                vec![
                    Column::new("time_s".into(), time),
                    Column::new("EMG [uV]".into(), vec![1.0; 6]),
                    emg,
                ],
            )
            .unwrap();
            let file = File::create(&path).unwrap();
            ParquetWriter::new(file).finish(&mut df).unwrap();
            path
        };
        let rules = TimeRules {
            sidecar_fs_hz: None,
            gap_periods: 1.5,
        };
        let steady: Vec<f64> = (0..6).map(|i| i as f64 / 1000.0).collect();
        let mut gapped = steady.clone();
        gapped[5] = 0.010;
        let mut backwards = steady.clone();
        backwards[3] = 0.0015;
        let numbers = || Column::new("F [N]".into(), vec![2.0; 6]);
        let words = Column::new("F [N]".into(), vec!["a"; 6]);
        let cases = [
            (write("gap.parquet", gapped, numbers()), None),
            (
                write("back.parquet", backwards.clone(), numbers()),
                Some("row 4, column `time_s`"),
            ),
            // A column that is not numbers is reported before the time, which is checked
            // once every column is read.
            (
                write("both.parquet", backwards, words),
                Some("column `F [N]`"),
            ),
        ];
        for (path, error) in cases {
            match (read_parquet(&path, rules), error) {
                (Ok(rec), None) => {
                    assert_eq!(rec.channels.len(), 2);
                    assert_eq!(rec.channels[0].fs_hz, 1000.0);
                    assert_eq!(rec.gaps.len(), 1);
                }
                (Err(e), Some(place)) => {
                    assert!(e.to_string().contains(place), "{e}");
                }
                (got, _) => panic!("{}: {got:?}", path.display()),
            }
        }
    }
}
