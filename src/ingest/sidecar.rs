//! BIDS sidecars (DESIGN §2.2): `*_emg.json`, `*_channels.tsv`, `*_events.tsv`,
//! `participants.tsv`.
//!
//! JSON files are merged top-down (BIDS inheritance: the file nearest the recording wins key
//! by key). TSV files are split at tabs (BIDS TSV has no quoting), `n/a` being null as in
//! BIDS; each row keeps its line number so that errors can point at it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::IngestError;
use crate::model::{Muscle, RecordingMeta, Side};

/// True for the name of a BIDS TSV sidecar (`*_channels.tsv`, `*_events.tsv`,
/// `participants.tsv`, …), which discovery must not take for a tab-separated recording.
pub fn is_sidecar_tsv(file_name: &str) -> bool {
    let Some(stem) = file_name.strip_suffix(".tsv") else {
        return false;
    };
    matches!(stem, "participants" | "samples")
        || ["channels", "events", "electrodes", "scans", "sessions"]
            .iter()
            .any(|s| stem.ends_with(&format!("_{s}")))
}

/// The palpa and BIDS keys of a merged `*_emg.json`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SidecarJson {
    /// `SamplingFrequency`.
    pub sampling_frequency_hz: Option<f64>,
    /// `PowerLineFrequency` (`n/a` → none).
    pub powerline_hz: Option<f64>,
    /// `TaskName`.
    pub task: Option<String>,
    /// `Therapist`.
    pub therapist: Option<String>,
    /// `ProbeAreaCm2`.
    pub probe_area_cm2: Option<f64>,
    /// `PalpatedMuscle`.
    pub palpated_muscle: Option<Muscle>,
    /// `PalpatedSide`.
    pub palpated_side: Option<Side>,
    /// `PalpationSite`.
    pub palpation_site: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `Session`.
    pub session: Option<String>,
}

impl SidecarJson {
    /// Sets the sidecar's keys on `meta`; subject, session and task keep the BIDS entities
    /// when the file name has them; `probe_area_cm2` falls back to `default_area_cm2`.
    pub fn apply(&self, meta: &mut RecordingMeta, default_area_cm2: f64) {
        meta.subject = meta.subject.take().or_else(|| self.subject.clone());
        meta.session = meta.session.take().or_else(|| self.session.clone());
        meta.task = meta.task.take().or_else(|| self.task.clone());
        meta.therapist = self.therapist.clone();
        meta.probe_area_cm2 = self.probe_area_cm2.unwrap_or(default_area_cm2);
        meta.powerline_hz = self.powerline_hz;
        meta.sampling_frequency_hz = self.sampling_frequency_hz;
        meta.palpated_muscle = self.palpated_muscle.clone();
        meta.palpated_side = self.palpated_side;
        meta.palpation_site = self.palpation_site.clone();
    }
}

/// BIDS `n/a` and empty cells.
const MISSING: [&str; 2] = ["n/a", ""];

/// A sidecar's text; bytes that are not UTF-8 are named by line and byte.
fn text_of(path: &Path) -> Result<String, IngestError> {
    let bytes = std::fs::read(path).map_err(|e| IngestError::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        IngestError::format(
            path,
            format!("line {line}"),
            super::error::UTF8_EXPECTED,
            format!("the byte 0x{:02X}", bytes[at]),
        )
    })
}

/// serde_json's message without its trailing " at line L column C", which the place says.
fn json_problem(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    }
}

/// Reads the JSON sidecars in inheritance order (farthest first) and merges them.
///
/// # Errors
/// A file that does not parse (with its line and column), or a key of the wrong type.
pub fn read_json(paths: &[PathBuf]) -> Result<SidecarJson, IngestError> {
    let mut merged = Map::new();
    let mut origin: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in paths {
        let text = text_of(path)?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            IngestError::format(
                path,
                format!("line {}, column {}", e.line(), e.column()),
                "valid JSON (texts and keys in double quotes, no comma after the last item)",
                format!("a syntax error: {}", json_problem(&e)),
            )
        })?;
        let Value::Object(object) = value else {
            return Err(IngestError::format(
                path,
                "top level",
                "a JSON object",
                json_kind(&value),
            ));
        };
        for (key, value) in object {
            origin.insert(key.clone(), path.clone());
            merged.insert(key, value);
        }
    }
    let get = |key: &str| {
        merged
            .get(key)
            .filter(|v| !is_na(v))
            .map(|v| (v, &origin[key]))
    };
    let number = |key: &str| -> Result<Option<f64>, IngestError> {
        get(key)
            .map(|(v, path)| match v.as_f64() {
                Some(x) if x.is_finite() && x > 0.0 => Ok(x),
                _ => Err(IngestError::format(
                    path,
                    format!("key `{key}`"),
                    "a number above 0",
                    v.to_string(),
                )),
            })
            .transpose()
    };
    let text = |key: &str| -> Result<Option<String>, IngestError> {
        get(key)
            .map(|(v, path)| match v {
                Value::String(s) => Ok(s.trim().to_string()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(IngestError::format(
                    path,
                    format!("key `{key}`"),
                    "a string",
                    v.to_string(),
                )),
            })
            .transpose()
            .map(|s| s.filter(|s| !s.is_empty()))
    };
    let palpated_side = match get("PalpatedSide") {
        Some((v, path)) => Some(v.as_str().and_then(Side::parse).ok_or_else(|| {
            IngestError::format(
                path,
                "key `PalpatedSide`",
                "`left` or `right`",
                v.to_string(),
            )
        })?),
        None => None,
    };
    Ok(SidecarJson {
        sampling_frequency_hz: number("SamplingFrequency")?,
        powerline_hz: number("PowerLineFrequency")?,
        task: text("TaskName")?,
        therapist: text("Therapist")?,
        probe_area_cm2: number("ProbeAreaCm2")?,
        palpated_muscle: text("PalpatedMuscle")?.as_deref().and_then(Muscle::named),
        palpated_side,
        palpation_site: text("PalpationSite")?,
        subject: text("Subject")?,
        session: text("Session")?,
    })
}

fn is_na(v: &Value) -> bool {
    v.is_null() || v.as_str().is_some_and(|s| s.trim() == "n/a")
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A TSV file as text cells, `n/a` and empty cells as `None`.
#[derive(Clone, Debug)]
pub struct Tsv {
    /// The file, for error messages.
    pub path: PathBuf,
    /// Column names from the header line.
    pub columns: Vec<String>,
    /// Data rows; row `i` is line `i + 2` of the file.
    pub rows: Vec<Vec<Option<String>>>,
}

impl Tsv {
    /// Reads a tab-separated file with a header line. BIDS TSV has no quoting, so a line
    /// is its fields split at tabs; every line must have as many as the header.
    ///
    /// # Errors
    /// Unreadable or non-UTF-8 text, an empty file, a ragged line (each named).
    pub fn read(path: &Path) -> Result<Tsv, IngestError> {
        let text = text_of(path)?;
        let mut lines = text
            .trim_end()
            .lines()
            .map(|l| l.strip_suffix('\r').unwrap_or(l));
        let columns: Vec<String> = match lines.next() {
            Some(header) if !header.trim().is_empty() => {
                header.split('\t').map(|c| c.trim().to_string()).collect()
            }
            _ => {
                return Err(IngestError::format(
                    path,
                    "line 1",
                    "a header line of tab-separated column names",
                    if text.is_empty() {
                        "an empty file"
                    } else {
                        "an empty line"
                    },
                ))
            }
        };
        let rows = lines
            .enumerate()
            .map(|(i, line)| {
                let row: Vec<Option<String>> = line
                    .split('\t')
                    .map(|cell| {
                        Some(cell.trim())
                            .filter(|c| !MISSING.contains(c))
                            .map(String::from)
                    })
                    .collect();
                if row.len() == columns.len() {
                    Ok(row)
                } else {
                    Err(IngestError::format(
                        path,
                        format!("line {}", i + 2),
                        format!("{} tab-separated fields, as in the header", columns.len()),
                        match row.len() {
                            1 if line.trim().is_empty() => "an empty line".to_string(),
                            1 => "1 field (is the file separated by tabs?)".to_string(),
                            n => format!("{n} fields"),
                        },
                    ))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Tsv {
            path: path.to_path_buf(),
            columns,
            rows,
        })
    }

    /// Index of a column, if present.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Index of a column BIDS requires.
    ///
    /// # Errors
    /// The column is missing.
    pub fn required(&self, name: &str) -> Result<usize, IngestError> {
        self.column(name).ok_or_else(|| {
            IngestError::format(
                &self.path,
                "line 1 (header)",
                format!("a column `{name}`"),
                format!("columns {}", super::error::listing(&self.columns)),
            )
        })
    }

    /// The cell at (`row`, `col`), `None` when `col` is absent or the cell is `n/a`.
    pub fn cell(&self, row: usize, col: Option<usize>) -> Option<&str> {
        col.and_then(|c| self.rows[row][c].as_deref())
    }

    /// The cell parsed as a number.
    ///
    /// # Errors
    /// The cell is not a number; the error names its line and column.
    pub fn number(&self, row: usize, col: Option<usize>) -> Result<Option<f64>, IngestError> {
        let Some(text) = self.cell(row, col) else {
            return Ok(None);
        };
        text.parse::<f64>().map(Some).map_err(|_| {
            IngestError::format(
                &self.path,
                self.place(row, col.unwrap_or_default()),
                "a number",
                format!("{text:?}"),
            )
        })
    }

    /// `line N, column \`name\``, for errors about a cell.
    pub fn place(&self, row: usize, col: usize) -> String {
        format!("line {}, column `{}`", row + 2, self.columns[col])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn json_sidecars_merge_nearest_last() {
        let dir = tempfile::tempdir().unwrap();
        let top = write(
            dir.path(),
            "a.json",
            r#"{"PowerLineFrequency": 50, "Therapist": "T1"}"#,
        );
        let near = write(
            dir.path(),
            "b.json",
            r#"{"Therapist": "T2", "PalpatedMuscle": "UT"}"#,
        );
        let json = read_json(&[top, near]).unwrap();
        assert_eq!(json.powerline_hz, Some(50.0));
        assert_eq!(json.therapist.as_deref(), Some("T2"));
        assert_eq!(json.palpated_muscle.unwrap().as_str(), "upper trapezius");
    }

    #[test]
    fn json_wrong_type_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "a.json", r#"{"ProbeAreaCm2": "one"}"#);
        let err = read_json(&[p]).unwrap_err().to_string();
        assert!(
            err.contains("key `ProbeAreaCm2`") && err.contains("a number"),
            "{err}"
        );
    }

    #[test]
    fn tsv_reads_na_as_none_and_keeps_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "c.tsv",
            "name\ttype\tunits\nEMG1\tEMG\tuV\nF\tn/a\tN\n",
        );
        let tsv = Tsv::read(&p).unwrap();
        assert_eq!(tsv.cell(1, tsv.column("type")), None);
        assert_eq!(tsv.cell(1, tsv.column("units")), Some("N"));
        assert_eq!(tsv.place(1, 0), "line 3, column `name`");
    }
}
