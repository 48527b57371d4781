//! The broken-input corpus of `tests/data/bad/` (issue [6/7] item 1): every file, what is
//! wrong with it, and what palpa must say. `main.rs` checks that the committed folder is
//! exactly what this writes, so the corpus cannot drift from its generator; run
//! `PALPA_WRITE_CORPUS=1 cargo test --test integration bad_corpus` to rewrite it.
//!
//! Broken EDF/BDF files start from one small valid file (4 one-second records, sEMG at
//! 1 kHz and force at 100 Hz) with one thing changed, so each error is about that thing.
//! Sidecar cases pair a valid 2 s CSV with one broken sidecar.

use std::path::Path;

use ndarray::Array1;
use palpa::ingest::edf::{Continuity, Variant};

use super::common::{
    signal, signal_field, snap_annotation, write_file, N_RECORDS, N_SIGNALS, RECORD_DURATION,
};

/// One recording of the corpus: its files (the recording first, then its sidecars).
pub struct Case {
    /// File names and contents.
    pub files: Vec<(String, Vec<u8>)>,
    /// What is broken, in a few words, for the corpus README.
    pub broken: &'static str,
    /// What `palpa run` must make of it.
    pub expect: Expect,
}

/// The verdict on a case.
pub enum Expect {
    /// A `failed` row whose error holds every fragment: the file at fault and the
    /// field, line, column or channel, and what was expected.
    Failed(Vec<&'static str>),
    /// An `ok` row: the damage is something palpa measures rather than refuses (a NaN
    /// cell is QC's to count), and the reason is given.
    Processed(&'static str),
}

impl Case {
    /// The recording's file name.
    pub fn recording(&self) -> &str {
        &self.files[0].0
    }
}

/// The small valid EDF or BDF every broken one starts from.
fn base(variant: Variant, labels: [&str; 2], units: [&str; 2]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("base");
    let emg = Array1::from_iter((0..4000).map(|i| ((i * 37) % 101) as f64 - 50.0));
    let force =
        Array1::from_iter((0..400).map(|i| if (100..300).contains(&i) { 15.0 } else { 0.0 }));
    let annotations = [snap_annotation()];
    let signals = vec![
        signal(labels[0], units[0], 1000, 1000, &emg),
        signal(labels[1], units[1], 100, 100, &force),
    ];
    write_file(
        &path,
        variant,
        Continuity::Continuous,
        signals,
        &annotations,
    );
    std::fs::read(&path).expect("the base file was just written")
}

fn edf() -> Vec<u8> {
    base(Variant::Edf, ["EMG UT L", "Force"], ["uV", "N"])
}

/// The base EDF+ has three signals: sEMG, force, annotations.
const NS: usize = 3;

/// `bytes` with the header field at `(offset, width)` set to `text`, space-padded.
fn with_field(mut bytes: Vec<u8>, (offset, width): (usize, usize), text: &[u8]) -> Vec<u8> {
    let mut value = text.to_vec();
    value.resize(width, b' ');
    bytes[offset..offset + width].copy_from_slice(&value);
    bytes
}

fn signal_header(bytes: Vec<u8>, field: &str, signal: usize, text: &[u8]) -> Vec<u8> {
    with_field(bytes, signal_field(NS, field, signal), text)
}

/// Deterministic bytes that are no format at all.
fn garbage(len: usize) -> Vec<u8> {
    let mut x: u32 = 2_463_534_242;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// 2 s of sEMG and force at 1 kHz with one 1 s press, as CSV text.
fn good_csv() -> String {
    let mut text = String::from("time_s,EMG UT L [uV],force [N]\n");
    for i in 0..2000 {
        let emg = ((i * 37) % 101) as f64 - 50.0;
        let force = if (500..1500).contains(&i) { 15.0 } else { 0.1 };
        text.push_str(&format!("{:.3},{emg},{force}\n", f64::from(i) / 1000.0));
    }
    text
}

/// The valid CSV `stem.csv` with one sidecar `stem<suffix>` holding `sidecar`.
fn with_sidecar(stem: &str, suffix: &str, sidecar: impl AsRef<[u8]>) -> Vec<(String, Vec<u8>)> {
    vec![
        (format!("{stem}.csv"), good_csv().into_bytes()),
        (format!("{stem}{suffix}"), sidecar.as_ref().to_vec()),
    ]
}

fn one(name: &str, bytes: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    vec![(name.to_string(), bytes)]
}

/// The Parquet of `good_csv`, written by polars.
fn good_parquet() -> Vec<u8> {
    use polars::prelude::*;
    let n = 2000;
    let time: Vec<f64> = (0..n).map(|i| f64::from(i) / 1000.0).collect();
    let emg: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 - 50.0).collect();
    let force: Vec<f64> = (0..n)
        .map(|i| if (500..1500).contains(&i) { 15.0 } else { 0.1 })
        .collect();
    let mut df =
        df!("time_s" => time, "EMG UT L [uV]" => emg, "force [N]" => force).expect("equal columns");
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .finish(&mut df)
        .expect("polars writes to memory");
    bytes
}

/// Every case, in a fixed order.
pub fn cases() -> Vec<Case> {
    use Expect::{Failed, Processed};
    let edf_len = edf().len();
    let header_len = 256 * (NS + 1);
    let bdf = base(Variant::Bdf, ["EMG UT L", "Force"], ["uV", "N"]);
    let parquet = good_parquet();
    let vicon_head = "Devices\n1000\n,,Delsys - EMG,,\nFrame,Sub Frame,EMG1,EMG2\n,,V,V\n";
    let vicon_rows: String = (0..2000)
        .map(|i| {
            format!(
                "{},{},{:.6},{:.6}\n",
                i / 10 + 1,
                i % 10,
                1e-5 * f64::from(i % 13),
                1e-5 * f64::from(i % 7)
            )
        })
        .collect();
    vec![
        // EDF/BDF: truncated, lying and nonsensical headers.
        Case {
            files: one("edf_truncated.edf", edf()[..edf_len - 700].to_vec()),
            broken: "cut 700 bytes short, inside the last data record",
            expect: Failed(vec!["edf_truncated.edf", "data record 4", "truncated"]),
        },
        Case {
            files: one("edf_header_only.edf", edf()[..header_len].to_vec()),
            broken: "the header alone; it promises 4 records",
            expect: Failed(vec!["edf_header_only.edf", "data after the header", "4 data records", "found 0 bytes"]),
        },
        Case {
            files: one("edf_lying_record_count.edf", with_field(edf(), N_RECORDS, b"40")),
            broken: "says 40 records; the file holds 4",
            expect: Failed(vec!["edf_lying_record_count.edf", "`number of data records`", "40"]),
        },
        Case {
            files: one("edf_zero_records.edf", with_field(edf(), N_RECORDS, b"0")),
            broken: "says 0 records",
            expect: Failed(vec!["edf_zero_records.edf", "`number of data records`"]),
        },
        Case {
            files: one("edf_negative_records.edf", with_field(edf(), N_RECORDS, b"-7")),
            broken: "says -7 records",
            expect: Failed(vec!["edf_negative_records.edf", "`number of data records`", "-7"]),
        },
        Case {
            files: one("edf_huge_records.edf", with_field(edf(), N_RECORDS, b"99999999")),
            broken: "says 99,999,999 records in a 10 kB file",
            expect: Failed(vec!["edf_huge_records.edf", "`number of data records`", "99999999"]),
        },
        Case {
            files: one("edf_lying_signal_count.edf", with_field(edf(), N_SIGNALS, b"2")),
            broken: "says 2 signals; the header is sized for 3",
            expect: Failed(vec!["edf_lying_signal_count.edf", "`number of bytes in header record`"]),
        },
        Case {
            files: one("edf_huge_signal_count.edf", with_field(edf(), N_SIGNALS, b"9999")),
            broken: "says 9999 signals",
            expect: Failed(vec!["edf_huge_signal_count.edf", "`number of signals`", "9999"]),
        },
        Case {
            files: one("edf_zero_signals.edf", with_field(edf(), N_SIGNALS, b"0")),
            broken: "says 0 signals",
            expect: Failed(vec!["edf_zero_signals.edf", "`number of bytes in header record`", "0 signals"]),
        },
        Case {
            files: one("edf_huge_samples_per_record.edf", signal_header(edf(), "spr", 0, b"99999999")),
            broken: "sEMG says 99,999,999 samples per record",
            expect: Failed(vec!["edf_huge_samples_per_record.edf", "`number of data records`", "200000220 bytes", "`number of samples in each data record`"]),
        },
        Case {
            files: one("edf_zero_samples_per_record.edf", signal_header(edf(), "spr", 1, b"0")),
            broken: "force says 0 samples per record",
            expect: Failed(vec!["edf_zero_samples_per_record.edf", "`number of samples in each data record`", "signal 2"]),
        },
        Case {
            files: one("edf_lying_duration.edf", with_field(edf(), RECORD_DURATION, b"0")),
            broken: "records of 0 s",
            expect: Failed(vec!["edf_lying_duration.edf", "`duration of a data record`"]),
        },
        Case {
            files: one("edf_negative_duration.edf", with_field(edf(), RECORD_DURATION, b"-1")),
            broken: "records of -1 s",
            expect: Failed(vec!["edf_negative_duration.edf", "`duration of a data record`", "-1"]),
        },
        Case {
            files: one("edf_non_numeric_duration.edf", with_field(edf(), RECORD_DURATION, b"one")),
            broken: "record duration `one`",
            expect: Failed(vec!["edf_non_numeric_duration.edf", "`duration of a data record`", "one"]),
        },
        Case {
            files: one("edf_non_ascii_number.edf", signal_header(edf(), "pmax", 0, "1000µ".as_bytes())),
            broken: "physical maximum `1000µ` (UTF-8 bytes in an ASCII field)",
            expect: Failed(vec!["edf_non_ascii_number.edf", "`physical maximum`", "signal 1"]),
        },
        Case {
            files: one("edf_non_ascii_label.edf", signal_header(edf(), "label", 0, b"EMG UT L \xb5V")),
            broken: "a label with a Latin-1 byte (µ)",
            expect: Processed("EDF header text is Latin-1 by the standard; the byte is read as µ"),
        },
        Case {
            files: one("edf_equal_physical_range.edf", signal_header(edf(), "pmin", 0, b"1000")),
            broken: "sEMG physical minimum equal to its maximum",
            expect: Failed(vec!["edf_equal_physical_range.edf", "`physical minimum`", "signal 1"]),
        },
        Case {
            files: one("edf_equal_digital_range.edf", signal_header(edf(), "dmin", 1, b"100")),
            broken: "force digital minimum equal to its maximum",
            expect: Failed(vec!["edf_equal_digital_range.edf", "`digital minimum`", "signal 2"]),
        },
        Case {
            files: one("edf_unknown_unit.edf", base(Variant::Edf, ["EMG UT L", "Force"], ["furlong", "N"])),
            broken: "sEMG in `furlong`",
            expect: Failed(vec!["edf_unknown_unit.edf", "channel `EMG UT L`", "`furlong`"]),
        },
        Case {
            files: one("edf_misspelt_unit.edf", base(Variant::Edf, ["EMG UT L", "Force"], ["uV", "Nwt"])),
            broken: "force in `Nwt`, a misspelt newton",
            expect: Failed(vec!["edf_misspelt_unit.edf", "channel `Force`", "`Nwt`"]),
        },
        Case {
            files: one("edf_duplicate_channels.edf", base(Variant::Edf, ["EMG UT L", "EMG UT L"], ["uV", "uV"])),
            broken: "two signals labelled `EMG UT L`",
            expect: Failed(vec!["edf_duplicate_channels.edf", "channel `EMG UT L`", "channels 1 and 2"]),
        },
        Case {
            files: one("edf_bad_annotations.edf", {
                let mut bytes = edf();
                let first_tal = header_len + 2 * 1100;
                bytes[first_tal..first_tal + 6].copy_from_slice(b"x1\x15\x14\x14\x00");
                bytes
            }),
            broken: "the first record's time-keeping annotation is `x1`",
            expect: Failed(vec!["edf_bad_annotations.edf", "data record 1", "annotation"]),
        },
        Case {
            files: one("edf_one_sample.edf", {
                let one_record = with_field(signal_header(signal_header(edf(), "spr", 0, b"1"), "spr", 1, b"1"), N_RECORDS, b"1");
                let mut bytes = one_record[..header_len].to_vec();
                bytes.extend_from_slice(&[0, 0, 0, 0]);
                bytes.extend_from_slice(&edf()[header_len + 2000 + 200..header_len + 2000 + 200 + 2 * edf_annotation_samples()]);
                bytes
            }),
            broken: "one sample of each signal",
            expect: Failed(vec!["edf_one_sample.edf", "channel `EMG UT L`", "at least 2 samples", "1 sample"]),
        },
        Case {
            files: one("edf_empty.edf", Vec::new()),
            broken: "0 bytes",
            expect: Failed(vec!["edf_empty.edf", "a file of 0 bytes"]),
        },
        Case {
            files: one("edf_garbage.edf", garbage(3000)),
            broken: "3000 random bytes",
            expect: Failed(vec!["edf_garbage.edf", "`version`"]),
        },
        Case {
            files: one("bdf_truncated.bdf", bdf[..bdf.len() - 5].to_vec()),
            broken: "a BDF cut 5 bytes short",
            expect: Failed(vec!["bdf_truncated.bdf", "data record 4", "truncated"]),
        },
        Case {
            files: one("bdf_bad_version.bdf", with_field(bdf.clone(), (1, 7), b"BIOSEMX")),
            broken: "version `\\xFFBIOSEMX`",
            expect: Failed(vec!["bdf_bad_version.bdf", "`version`", "BIOSEMI"]),
        },
        // CSV.
        Case {
            files: one("csv_empty.csv", Vec::new()),
            broken: "0 bytes",
            expect: Failed(vec!["csv_empty.csv", "empty file"]),
        },
        Case {
            files: one("csv_header_only.csv", b"time_s,EMG UT L [uV],force [N]\n".to_vec()),
            broken: "a header and no rows",
            expect: Failed(vec!["csv_header_only.csv", "line 2", "at least one row of samples"]),
        },
        Case {
            files: one("csv_one_sample.csv", b"time_s,EMG UT L [uV],force [N]\n0,1,2\n".to_vec()),
            broken: "one row",
            expect: Failed(vec!["csv_one_sample.csv", "column `time_s`", "one sample"]),
        },
        Case {
            files: one("csv_non_numeric.csv", good_csv().replacen("\n0.004,", "\n0.004,twelve", 1).into_bytes()),
            broken: "line 6's sEMG cell is `twelve-…`",
            expect: Failed(vec!["csv_non_numeric.csv", "line 6, column `EMG UT L [uV]`", "a number"]),
        },
        Case {
            files: one("csv_nan_inf.csv", good_csv().replace(",-50,", ",NaN,").replace(",50,", ",inf,").into_bytes()),
            broken: "NaN and inf cells in the sEMG",
            expect: Processed("non-finite samples are QC's to count (the channel's `nan_fraction`), not a reason to refuse the file"),
        },
        Case {
            files: one("csv_ragged_long.csv", good_csv().replacen("\n0.010,", "\n0.010,1,", 1).into_bytes()),
            broken: "line 12 has 4 fields",
            expect: Failed(vec!["csv_ragged_long.csv", "line 12", "3 fields, as in the header", "4 fields"]),
        },
        Case {
            files: one("csv_ragged_short.csv", good_csv().replacen(",0.1\n0.020,", "\n0.020,", 1).into_bytes()),
            broken: "line 21 has 2 fields",
            expect: Failed(vec!["csv_ragged_short.csv", "line 21", "3 fields, as in the header", "2 fields"]),
        },
        Case {
            files: one("csv_backwards.csv", good_csv().replacen("\n0.100,", "\n0.050,", 1).into_bytes()),
            broken: "time steps back at line 102",
            expect: Failed(vec!["csv_backwards.csv", "line 102, column `time_s`", "time must increase"]),
        },
        Case {
            files: one("csv_no_rate.csv", good_csv().lines().map(|l| l.split_once(',').map_or("", |(_, rest)| rest).to_string() + "\n").collect::<String>().into_bytes()),
            broken: "no `time_s` column and no sidecar giving `SamplingFrequency`",
            expect: Failed(vec!["csv_no_rate.csv", "`time_s`", "SamplingFrequency"]),
        },
        Case {
            files: one("csv_duplicate_columns.csv", good_csv().replacen("force [N]", "EMG UT L [uV]", 1).into_bytes()),
            broken: "two columns named `EMG UT L [uV]`",
            expect: Failed(vec!["csv_duplicate_columns.csv", "line 1", "`EMG UT L [uV]`"]),
        },
        Case {
            files: one("csv_unknown_unit.csv", good_csv().replacen("force [N]", "force [furlong]", 1).into_bytes()),
            broken: "force in `furlong`",
            expect: Failed(vec!["csv_unknown_unit.csv", "channel `force`", "`furlong`"]),
        },
        Case {
            files: one("csv_latin1.csv", {
                let mut bytes = b"time_s,EMG UT L [\xb5V],force [N]\n".to_vec();
                bytes.extend_from_slice(good_csv().split_once('\n').map_or("", |(_, rows)| rows).as_bytes());
                bytes
            }),
            broken: "a header in Latin-1, not UTF-8",
            expect: Failed(vec!["csv_latin1.csv", "line 1", "UTF-8"]),
        },
        Case {
            files: one("csv_garbage.csv", garbage(5000)),
            broken: "5000 random bytes",
            expect: Failed(vec!["csv_garbage.csv", "line 1"]),
        },
        // Vicon Nexus exports.
        Case {
            files: one("vicon_header_only.csv", vicon_head.as_bytes().to_vec()),
            broken: "the five header lines and no samples",
            expect: Failed(vec!["vicon_header_only.csv", "line 6"]),
        },
        Case {
            files: one("vicon_bad_rate.csv", format!("{}{vicon_rows}", vicon_head.replace("\n1000\n", "\nfast\n")).into_bytes()),
            broken: "rate line `fast`",
            expect: Failed(vec!["vicon_bad_rate.csv", "line 2", "the sampling rate in Hz"]),
        },
        Case {
            files: one("vicon_short_units.csv", format!("{}{vicon_rows}", vicon_head.replace("\n,,V,V\n", "\n,,V\n")).into_bytes()),
            broken: "the units line lacks EMG2's unit",
            expect: Failed(vec!["vicon_short_units.csv", "line 5 (units)", "none for `EMG2`"]),
        },
        // Parquet.
        Case {
            files: one("parquet_truncated.parquet", parquet[..parquet.len() / 2].to_vec()),
            broken: "the first half of a valid file (no footer)",
            expect: Failed(vec!["parquet_truncated.parquet", "file structure", "a complete Parquet file"]),
        },
        Case {
            files: one("parquet_corrupt.parquet", {
                let mut bytes = parquet.clone();
                let middle = bytes.len() / 3;
                bytes[middle..middle + 64].copy_from_slice(&garbage(64));
                bytes
            }),
            broken: "64 random bytes in the middle of the column data",
            expect: Failed(vec!["parquet_corrupt.parquet", "column `time_s`", "time must increase"]),
        },
        Case {
            files: one("parquet_empty.parquet", Vec::new()),
            broken: "0 bytes",
            expect: Failed(vec!["parquet_empty.parquet", "file structure", "a complete Parquet file"]),
        },
        Case {
            files: one("parquet_garbage.parquet", good_csv().into_bytes()),
            broken: "CSV text under a .parquet name",
            expect: Failed(vec!["parquet_garbage.parquet", "file structure", "a complete Parquet file"]),
        },
        // Sidecars, each beside a valid recording.
        Case {
            files: with_sidecar("json_syntax", ".json", "{\n  \"Therapist\": \"T1\",\n  \"SamplingFrequency\": 1000,,\n}\n"),
            broken: "JSON with a doubled comma on line 3",
            expect: Failed(vec!["json_syntax.json", "line 3", "valid JSON"]),
        },
        Case {
            files: with_sidecar("json_wrong_type", ".json", "{\"SamplingFrequency\": \"fast\"}\n"),
            broken: "`SamplingFrequency` is a string",
            expect: Failed(vec!["json_wrong_type.json", "`SamplingFrequency`", "a number above 0"]),
        },
        Case {
            files: with_sidecar("json_negative_area", ".json", "{\"ProbeAreaCm2\": -1}\n"),
            broken: "`ProbeAreaCm2` is -1",
            expect: Failed(vec!["json_negative_area.json", "`ProbeAreaCm2`", "a number above 0"]),
        },
        Case {
            files: with_sidecar("json_array", ".json", "[1, 2, 3]\n"),
            broken: "a JSON array, not an object",
            expect: Failed(vec!["json_array.json", "a JSON object"]),
        },
        Case {
            files: with_sidecar("channels_missing", "_channels.tsv", "name\ttype\tunits\nEMG UT L\tEMG\tuV\nEMG UT R\tEMG\tuV\n"),
            broken: "names a channel `EMG UT R` the recording lacks",
            expect: Failed(vec!["channels_missing_channels.tsv", "line 3, column `name`", "`EMG UT R`", "channels_missing.csv"]),
        },
        Case {
            files: with_sidecar("channels_unit", "_channels.tsv", "name\ttype\tunits\nEMG UT L\tEMG\tmicrovolt\n"),
            broken: "unit `microvolt`, spelt out",
            expect: Failed(vec!["channels_unit", "channel `EMG UT L`", "`microvolt`"]),
        },
        Case {
            files: with_sidecar("channels_ragged", "_channels.tsv", "name\ttype\tunits\nEMG UT L\tEMG\n"),
            broken: "line 2 has 2 fields under a 3-field header",
            expect: Failed(vec!["channels_ragged_channels.tsv", "line 2", "3 tab-separated fields", "2 fields"]),
        },
        Case {
            files: with_sidecar("channels_no_name", "_channels.tsv", "label\ttype\tunits\nEMG UT L\tEMG\tuV\n"),
            broken: "no `name` column",
            expect: Failed(vec!["channels_no_name_channels.tsv", "`name`"]),
        },
        Case {
            files: with_sidecar("channels_duplicate", "_channels.tsv", "name\ttype\tunits\nEMG UT L\tEMG\tuV\nEMG UT L\tEMG\tuV\n"),
            broken: "the same channel listed twice",
            expect: Failed(vec!["channels_duplicate_channels.tsv", "line 3, column `name`", "`EMG UT L` again"]),
        },
        Case {
            files: with_sidecar("events_onset", "_events.tsv", "onset\tduration\ttrial_type\n2.0\t4.0\thold\nsoon\t1.0\tsnap\n"),
            broken: "onset `soon` on line 3",
            expect: Failed(vec!["events_onset_events.tsv", "line 3, column `onset`", "a number"]),
        },
        Case {
            files: with_sidecar("events_no_onset", "_events.tsv", "start\tduration\ttrial_type\n2.0\t4.0\thold\n"),
            broken: "no `onset` column",
            expect: Failed(vec!["events_no_onset_events.tsv", "`onset`"]),
        },
        Case {
            files: with_sidecar("json_latin1", ".json", b"{\n  \"Therapist\": \"Jos\xe9\"\n}\n"),
            broken: "Latin-1 text (`Therapist: Jos\\xe9`), not UTF-8",
            expect: Failed(vec!["json_latin1.json", "line 2", "UTF-8"]),
        },
        Case {
            files: with_sidecar("events_ragged", "_events.tsv", "onset\tduration\ttrial_type\n2.0\t4.0\thold\n6.5\tsnap\n"),
            broken: "line 3 has 2 fields under a 3-field header",
            expect: Failed(vec!["events_ragged_events.tsv", "line 3", "3 tab-separated fields"]),
        },
    ]
}

/// Samples per record of the base file's annotation signal, as the writer sizes it.
fn edf_annotation_samples() -> usize {
    let bytes = edf();
    let (offset, width) = signal_field(NS, "spr", 2);
    std::str::from_utf8(&bytes[offset..offset + width])
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .expect("the writer writes a number")
}

/// Writes every case's files into `dir`, plus a README listing them.
pub fn write(dir: &Path) -> std::io::Result<()> {
    let mut readme = String::from(
        "# Broken inputs\n\n\
         Written by `tests/integration/bad_corpus/corpus.rs`; do not edit by hand. Rewrite with\n\
         `PALPA_WRITE_CORPUS=1 cargo test --test integration bad_corpus`. `tests/integration/bad_corpus.rs` runs\n\
         `palpa run` over all of them plus good recordings and checks each verdict.\n\n\
         | recording | what is broken | palpa must |\n|---|---|---|\n",
    );
    for case in cases() {
        for (name, bytes) in &case.files {
            std::fs::write(dir.join(name), bytes)?;
        }
        let verdict = match &case.expect {
            Expect::Failed(_) => "fail, naming the place".to_string(),
            Expect::Processed(why) => format!("process it: {why}"),
        };
        let files: Vec<&str> = case.files.iter().map(|(n, _)| n.as_str()).collect();
        readme.push_str(&format!(
            "| `{}` | {} | {verdict} |\n",
            files.join("` + `"),
            case.broken
        ));
    }
    std::fs::write(dir.join("README.md"), readme)
}
