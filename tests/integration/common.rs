//! Shared test helpers: where the real recordings are, and small EDF files to break.

use std::path::{Path, PathBuf};

use ndarray::Array1;
use palpa::ingest::edf::{self, Continuity, FileToWrite, SignalToWrite, Variant};
use palpa::model::Annotation;

/// `tests/data/real` in the repository: the real recordings, each source folder with its
/// `SOURCE.md`. Panics loudly when the folder is missing: these tests must not pass by
/// skipping.
pub fn real_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real");
    assert!(
        dir.is_dir(),
        "REAL DATA MISSING: {} is not a folder; the real-recording tests cannot run without it.",
        dir.display()
    );
    dir
}

/// A file under the real-data folder, which must exist.
pub fn real(rel: &str) -> PathBuf {
    let path = real_dir().join(rel);
    assert!(path.is_file(), "REAL DATA MISSING: {}", path.display());
    path
}

/// Writes an EDF/BDF file with 1 s records and fixed identification fields.
pub fn write_file<'a>(
    path: &Path,
    variant: Variant,
    continuity: Continuity,
    signals: Vec<SignalToWrite<'a>>,
    annotations: &'a [Annotation],
) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    edf::write(
        path,
        &FileToWrite {
            variant,
            continuity,
            patient: "X X X X",
            recording: "Startdate X X X X",
            start_date: "21.11.26",
            start_time: "10.00.00",
            start_offset_s: 0.0,
            record_duration_s: 1.0,
            signals,
            annotations,
        },
    )
    .expect("the test writer writes a valid file");
}

/// A signal whose digital range spans its physical range one to one (gain 1, offset 0),
/// so whole-number samples round-trip exactly.
pub fn signal<'a>(
    label: &'a str,
    unit: &'a str,
    limit: i64,
    samples_per_record: usize,
    samples: &'a Array1<f64>,
) -> SignalToWrite<'a> {
    SignalToWrite {
        label,
        unit,
        physical_range: [-limit as f64, limit as f64],
        digital_range: [-limit, limit],
        samples_per_record,
        samples: samples.view(),
    }
}

/// A 3-record EDF(+)/BDF(+) with two signals: `EMG UT L` (uV, 10 samples/record) and
/// `Force` (N, 5 samples/record), records of 1 s, and one annotation `snap` at 1.25 s for
/// 0.5 s. Samples are whole digital values, so every value round-trips exactly.
pub fn small_file(dir: &Path, name: &str, variant: Variant, continuity: Continuity) -> PathBuf {
    let path = dir.join(name);
    let emg = Array1::from_iter((0..30).map(|i| (i as f64 - 15.0) * 7.0));
    let force = Array1::from_iter((0..15).map(|i| i as f64));
    let annotations = [snap_annotation()];
    let signals = vec![
        signal("EMG UT L", "uV", 1000, 10, &emg),
        signal("Force", "N", 100, 5, &force),
    ];
    write_file(&path, variant, continuity, signals, &annotations);
    path
}

/// The one annotation of the small test files: `snap` at 1.25 s for 0.5 s.
pub fn snap_annotation() -> Annotation {
    Annotation {
        onset_s: 1.25,
        duration_s: Some(0.5),
        text: "snap".into(),
        muscle: None,
        side: None,
        site: None,
    }
}

/// Byte offset of a per-signal header field for signal `i` of `ns` (EDF spec order).
pub fn signal_field(ns: usize, field: &str, i: usize) -> (usize, usize) {
    let widths = [
        ("label", 16),
        ("transducer", 80),
        ("dimension", 8),
        ("pmin", 8),
        ("pmax", 8),
        ("dmin", 8),
        ("dmax", 8),
        ("prefilter", 80),
        ("spr", 8),
        ("reserved", 32),
    ];
    let mut at = 256;
    for (name, width) in widths {
        if name == field {
            return (at + i * width, width);
        }
        at += width * ns;
    }
    panic!("no field {field}");
}

/// Overwrites `width` bytes at `offset` with `text`, space-padded.
pub fn set_field(path: &Path, (offset, width): (usize, usize), text: &str) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut value = text.as_bytes().to_vec();
    value.resize(width, b' ');
    bytes[offset..offset + width].copy_from_slice(&value);
    std::fs::write(path, bytes).unwrap();
}

/// Main-header fields: (offset, width).
pub const N_RECORDS: (usize, usize) = (236, 8);
pub const N_SIGNALS: (usize, usize) = (252, 4);
pub const RECORD_DURATION: (usize, usize) = (244, 8);

/// The number of recordings a run in `out` has finished and kept: a part being written is
/// `<name>.tmp-<pid>.part` until it is renamed, and does not count.
pub fn finished_parts(out: &Path) -> usize {
    std::fs::read_dir(out.join(".palpa/parts")).map_or(0, |d| {
        d.flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.ends_with(".part") && !name.contains(".tmp-")
            })
            .count()
    })
}

/// Every table of a `palpa run --format both`, the report and the methods.
pub fn run_outputs() -> Vec<String> {
    palpa::summary::TABLE_NAMES
        .iter()
        .flat_map(|table| [format!("{table}.parquet"), format!("{table}.csv")])
        .chain(["report.html".into(), "methods.md".into()])
        .collect()
}

/// Each of [`run_outputs`] in `out` is byte-identical to its twin in `reference`, the output
/// folder of an uninterrupted run.
pub fn assert_same_outputs(out: &Path, reference: &Path, what: &str) {
    for name in run_outputs() {
        assert!(
            std::fs::read(out.join(&name)).unwrap()
                == std::fs::read(reference.join(&name)).unwrap(),
            "{name} of the {what} differs from an uninterrupted run"
        );
    }
}

/// novainstrumentation `emg.txt` (row 0 time in 1 ms steps, row 1 sEMG in mV as far as
/// SOURCE.md can tell), in µV at 1000 Hz.
pub fn novainstrumentation_emg_uv() -> Vec<f64> {
    let text = std::fs::read_to_string(real("novainstrumentation/emg.txt")).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!((rows.len(), rows[1].len()), (2, 5000));
    rows[1].iter().map(|mv| mv * 1e3).collect()
}

/// `palpa run` of `dataset` into `out` as CSV, default config, no figures.
pub fn run_csv(dataset: &Path, out: &Path) -> palpa::Outcome {
    let opts = palpa::batch::RunOptions {
        dataset: dataset.to_path_buf(),
        out: Some(out.to_path_buf()),
        config: palpa::config::Config::default(),
        format: palpa::output::TableFormat::Csv,
        plots: false,
        jobs: None,
        shard: None,
        resume: false,
    };
    palpa::batch::run_dataset(&opts, |_| (), |_| ()).unwrap()
}

/// A small XDF 1.0 writer: the magic and a file header, then chunks in the order called,
/// each with a 4-byte length. `starts` holds each chunk's byte offset, for tests that
/// break one.
pub struct XdfWriter {
    pub bytes: Vec<u8>,
    pub starts: Vec<usize>,
}

impl XdfWriter {
    pub fn new() -> XdfWriter {
        let mut w = XdfWriter {
            bytes: b"XDF:".to_vec(),
            starts: Vec::new(),
        };
        w.chunk(
            1,
            b"<?xml version=\"1.0\"?><info><version>1.0</version></info>",
        );
        w
    }

    pub fn chunk(&mut self, tag: u16, content: &[u8]) -> &mut Self {
        self.starts.push(self.bytes.len());
        self.bytes.push(4);
        let len = u32::try_from(content.len() + 2).unwrap();
        self.bytes.extend(len.to_le_bytes());
        self.bytes.extend(tag.to_le_bytes());
        self.bytes.extend(content);
        self
    }

    /// A stream header; `channels` are (label, unit), an empty unit left out.
    pub fn stream(
        &mut self,
        id: u32,
        name: &str,
        srate_hz: f64,
        format: &str,
        channels: &[(&str, &str)],
    ) -> &mut Self {
        let mut xml = format!(
            "<?xml version=\"1.0\"?><info><name>{name}</name><type>test</type>\
             <channel_count>{}</channel_count><nominal_srate>{srate_hz}</nominal_srate>\
             <channel_format>{format}</channel_format><desc><channels>",
            channels.len()
        );
        for (label, unit) in channels {
            xml.push_str(&format!("<channel><label>{label}</label>"));
            if !unit.is_empty() {
                xml.push_str(&format!("<unit>{unit}</unit>"));
            }
            xml.push_str("</channel>");
        }
        xml.push_str("</channels></desc></info>");
        let mut content = id.to_le_bytes().to_vec();
        content.extend(xml.as_bytes());
        self.chunk(2, &content)
    }

    /// Numeric samples in `format` (`float32`, `double64`, `int16`), one row a sample, each
    /// with its timestamp or none (then the reader deduces it).
    pub fn samples(
        &mut self,
        id: u32,
        format: &str,
        stamps: &[Option<f64>],
        rows: &[Vec<f64>],
    ) -> &mut Self {
        let mut content = id.to_le_bytes().to_vec();
        content.push(4);
        content.extend(u32::try_from(rows.len()).unwrap().to_le_bytes());
        for (stamp, row) in stamps.iter().zip(rows) {
            match stamp {
                Some(t) => {
                    content.push(8);
                    content.extend(t.to_le_bytes());
                }
                None => content.push(0),
            }
            for &x in row {
                match format {
                    "float32" => content.extend((x as f32).to_le_bytes()),
                    "double64" => content.extend(x.to_le_bytes()),
                    "int16" => content.extend((x as i16).to_le_bytes()),
                    other => panic!("the test writer has no {other}"),
                }
            }
        }
        self.chunk(3, &content)
    }

    /// One-channel string samples, each with its timestamp.
    pub fn markers(&mut self, id: u32, markers: &[(f64, &str)]) -> &mut Self {
        let mut content = id.to_le_bytes().to_vec();
        content.push(1);
        content.push(u8::try_from(markers.len()).unwrap());
        for (t, text) in markers {
            content.push(8);
            content.extend(t.to_le_bytes());
            content.push(1);
            content.push(u8::try_from(text.len()).unwrap());
            content.extend(text.as_bytes());
        }
        self.chunk(3, &content)
    }

    /// A clock offset of stream `id`: at `time_s` on its clock, add `offset_s`.
    pub fn clock_offset(&mut self, id: u32, time_s: f64, offset_s: f64) -> &mut Self {
        let mut content = id.to_le_bytes().to_vec();
        content.extend(time_s.to_le_bytes());
        content.extend(offset_s.to_le_bytes());
        self.chunk(4, &content)
    }

    pub fn write(&self, path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &self.bytes).unwrap();
    }
}

/// `palpa inspect FLAGS… PATH`, which must succeed, parsed as JSON.
pub fn inspect_json(flags: &[&str], path: impl AsRef<std::ffi::OsStr>) -> serde_json::Value {
    let out = assert_cmd::Command::cargo_bin("palpa")
        .unwrap()
        .arg("inspect")
        .args(flags)
        .arg(path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}
