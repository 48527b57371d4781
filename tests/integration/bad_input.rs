//! Bad input: every error names the file and the field, line or channel, and says what was
//! expected. One test per case (issue [1/7] item 6), plus a sweep that no header byte can
//! make the EDF reader panic.

use crate::common;

use std::path::{Path, PathBuf};

use common::{set_field, signal_field, small_file, N_RECORDS, N_SIGNALS};
use palpa::config::Config;
use palpa::ingest::edf::{Continuity, Variant};
use palpa::ingest::{self, source_of_file};

fn load_err(path: &Path) -> String {
    let result = source_of_file(path).and_then(|s| ingest::load(&s, &Config::default()));
    match result {
        Ok(_) => panic!("{} loaded, but it is broken", path.display()),
        Err(e) => e.to_string(),
    }
}

/// Asserts the message names the file and contains every fragment.
fn assert_names(err: &str, path: &Path, fragments: &[&str]) {
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(
        err.contains(name.as_ref()),
        "error does not name the file {name}: {err}"
    );
    for f in fragments {
        assert!(err.contains(f), "error lacks {f:?}: {err}");
    }
}

fn edf(dir: &Path) -> PathBuf {
    small_file(dir, "broken.edf", Variant::Edf, Continuity::Continuous)
}

/// The small EDF+ has 3 signals (EMG, force, annotations).
const NS: usize = 3;

#[test]
fn truncated_data_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = edf(dir.path());
    let len = std::fs::metadata(&path).unwrap().len();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..(len - 7) as usize]).unwrap();
    assert_names(&load_err(&path), &path, &["data record 3", "truncated"]);
}

#[test]
fn record_count_disagrees_with_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = edf(dir.path());
    set_field(&path, N_RECORDS, "5");
    assert_names(
        &load_err(&path),
        &path,
        &["`number of data records`", "5 data records", "3 records"],
    );
}

#[test]
fn signal_count_disagrees_with_header_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = edf(dir.path());
    set_field(&path, N_SIGNALS, "2");
    assert_names(
        &load_err(&path),
        &path,
        &[
            "header field `number of bytes in header record`",
            "= 768",
            "1024",
        ],
    );
    set_field(&path, N_SIGNALS, "4");
    assert_names(
        &load_err(&path),
        &path,
        &[
            "header field `number of signals`",
            "4 signals",
            "(1280 bytes)",
        ],
    );
}

#[test]
fn absurd_signal_count_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let path = edf(dir.path());
    set_field(&path, N_SIGNALS, "9999");
    assert_names(
        &load_err(&path),
        &path,
        &[
            "header field `number of signals`",
            "9999 signals",
            "fits in the file",
        ],
    );
}

#[test]
fn absurd_samples_per_record_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = edf(dir.path());
    set_field(&path, signal_field(NS, "spr", 0), "99999999");
    set_field(&path, N_RECORDS, "99999999");
    assert_names(
        &load_err(&path),
        &path,
        &["`number of data records`", "99999999 data records"],
    );
}

#[test]
fn non_numeric_main_header_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = edf(dir.path());
    set_field(&path, N_RECORDS, "three");
    assert_names(
        &load_err(&path),
        &path,
        &[
            "header field `number of data records`",
            "a whole number",
            "`three`",
        ],
    );
}

#[test]
fn non_numeric_signal_header_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = edf(dir.path());
    set_field(&path, signal_field(NS, "pmin", 1), "-1OO");
    assert_names(
        &load_err(&path),
        &path,
        &[
            "signal 2 `Force`",
            "header field `physical minimum`",
            "a number",
            "`-1OO`",
        ],
    );
}

#[test]
fn physical_min_equal_to_max() {
    let dir = tempfile::tempdir().unwrap();
    let path = edf(dir.path());
    set_field(&path, signal_field(NS, "pmax", 0), "-1000");
    assert_names(
        &load_err(&path),
        &path,
        &[
            "signal 1 `EMG UT L`",
            "`physical minimum`",
            "different from the physical maximum",
        ],
    );
}

#[test]
fn digital_min_equal_to_max() {
    let dir = tempfile::tempdir().unwrap();
    let path = edf(dir.path());
    set_field(&path, signal_field(NS, "dmax", 0), "-1000");
    assert_names(
        &load_err(&path),
        &path,
        &[
            "signal 1 `EMG UT L`",
            "`digital minimum`",
            "below the digital maximum",
        ],
    );
}

#[test]
fn unknown_unit_names_the_channel() {
    let dir = tempfile::tempdir().unwrap();
    let path = edf(dir.path());
    set_field(&path, signal_field(NS, "dimension", 0), "furlong");
    assert_names(
        &load_err(&path),
        &path,
        &["channel `EMG UT L`", "unit `furlong`", "V, mV, uV"],
    );
}

fn csv(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("bad.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn csv_time_going_backwards() {
    let dir = tempfile::tempdir().unwrap();
    let path = csv(
        dir.path(),
        "time_s,EMG UT [uV]\n0.000,1\n0.001,2\n0.0005,3\n0.002,4\n",
    );
    assert_names(
        &load_err(&path),
        &path,
        &["line 4, column `time_s`", "time must increase", "0.0005 s"],
    );
}

#[test]
fn csv_non_numeric_cell_names_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = csv(
        dir.path(),
        "time_s,EMG UT [uV],force [N]\n0,1,2\n0.001,2,3\n0.002,3,x7\n",
    );
    assert_names(
        &load_err(&path),
        &path,
        &["line 4, column `force [N]`", "a number", "\"x7\""],
    );
}

#[test]
fn csv_ragged_row_with_too_many_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = csv(dir.path(), "time_s,EMG UT [uV]\n0,1\n0.001,2,9\n0.002,3\n");
    assert_names(
        &load_err(&path),
        &path,
        &["line 3", "2 fields, as in the header", "3 fields"],
    );
}

#[test]
fn csv_ragged_row_with_too_few_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = csv(
        dir.path(),
        "time_s,EMG UT [uV],force [N]\n0,1,2\n0.001,2,3\n0.002,3\n0.003,4,5\n",
    );
    assert_names(
        &load_err(&path),
        &path,
        &["line 4", "3 fields, as in the header", "2 fields"],
    );
}

#[test]
fn empty_files() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["empty.csv", "empty.edf", "empty.bdf"] {
        let path = dir.path().join(name);
        std::fs::write(&path, "").unwrap();
        let err = load_err(&path);
        assert_names(&err, &path, &[]);
        assert!(
            err.contains("empty file") || err.contains("a file of 0 bytes"),
            "{err}"
        );
    }
    let path = dir.path().join("empty.parquet");
    std::fs::write(&path, "").unwrap();
    assert_names(&load_err(&path), &path, &[]);
}

#[test]
fn csv_with_a_header_and_no_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = csv(dir.path(), "time_s,EMG UT [uV]\n");
    assert_names(
        &load_err(&path),
        &path,
        &["line 2", "at least one row of samples"],
    );
}

#[test]
fn channels_tsv_naming_a_channel_the_file_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_file(dir.path(), "rec.edf", Variant::Edf, Continuity::Continuous);
    let tsv = dir.path().join("rec_channels.tsv");
    std::fs::write(
        &tsv,
        "name\ttype\tunits\nEMG UT L\tEMG\tuV\nEMG UT R\tEMG\tuV\n",
    )
    .unwrap();
    let err = load_err(&path);
    assert_names(
        &err,
        &tsv,
        &["line 3, column `name`", "`EMG UT R`", "rec.edf"],
    );
}

#[test]
fn sidecar_json_that_does_not_parse_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_file(dir.path(), "rec.edf", Variant::Edf, Continuity::Continuous);
    let json = dir.path().join("rec.json");
    std::fs::write(
        &json,
        "{\n  \"Therapist\": \"T1\",\n  \"PowerLineFrequency\": 50,,\n}\n",
    )
    .unwrap();
    assert_names(&load_err(&path), &json, &["line 3", "valid JSON"]);
}

#[test]
fn config_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palpa.toml");
    std::fs::write(
        &cfg,
        "[emg]\nbandpass_hz = [20.0, 450.0]\nenvelope_window_ms = \"fifty\"\n",
    )
    .unwrap();
    let err = Config::load(&cfg).unwrap_err().to_string();
    assert!(
        err.contains("palpa.toml") && err.contains("emg.envelope_window_ms"),
        "{err}"
    );
    std::fs::write(&cfg, "[emg]\nbandpass_hz = [450.0, 20.0]\n").unwrap();
    let err = Config::load(&cfg).unwrap_err().to_string();
    assert!(err.contains("emg.bandpass_hz = [450, 20]"), "{err}");
}

/// Every byte of the header set to a handful of values: the reader returns, never panics.
#[test]
fn no_header_byte_makes_the_edf_reader_panic() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read(edf(dir.path())).unwrap();
    let path = dir.path().join("mutant.edf");
    let header_len = 256 * (NS + 1);
    let mut outcomes = [0usize; 2];
    for at in 0..header_len {
        for value in [b'0', b'9', b'-', b' ', b'.', b'+', 0xFF, 0x00] {
            let mut bytes = original.clone();
            bytes[at] = value;
            std::fs::write(&path, &bytes).unwrap();
            let result = std::panic::catch_unwind(|| {
                source_of_file(&path)
                    .and_then(|s| ingest::load(&s, &Config::default()))
                    .is_ok()
            });
            match result {
                Ok(ok) => outcomes[usize::from(ok)] += 1,
                Err(_) => panic!("reader panicked with header byte {at} = {value:#04x}"),
            }
        }
    }
    assert!(
        outcomes[0] > 0 && outcomes[1] > 0,
        "both outcomes seen: {outcomes:?}"
    );
}

#[test]
fn parquet_without_rows_is_an_error_not_a_panic() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zero.parquet");
    let mut df = df!("EMG UT [uV]" => Vec::<f64>::new()).unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    std::fs::write(
        dir.path().join("zero.json"),
        r#"{"SamplingFrequency": 1000}"#,
    )
    .unwrap();
    assert_names(&load_err(&path), &path, &["no samples"]);
}

#[test]
fn participants_tsv_without_participant_id_is_named() {
    let dir = tempfile::tempdir().unwrap();
    small_file(dir.path(), "rec.edf", Variant::Edf, Continuity::Continuous);
    let tsv = dir.path().join("participants.tsv");
    std::fs::write(&tsv, "subject\tage\nsub-01\t30\n").unwrap();
    let err = ingest::discover(dir.path()).unwrap_err().to_string();
    assert_names(
        &err,
        &tsv,
        &["line 1 (header)", "a column `participant_id`"],
    );
}

/// Discovery used to drop, in silence, recordings whose stem ended like a sidecar's
/// (`_channels`, `_events`) or whose name was not UTF-8 (found by the broken corpus).
#[test]
fn discovery_keeps_recordings_whatever_their_names() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    small_file(
        dir.path(),
        "arm_channels.edf",
        Variant::Edf,
        Continuity::Continuous,
    );
    small_file(
        dir.path(),
        "arm_events.edf",
        Variant::Edf,
        Continuity::Continuous,
    );
    let latin1 = std::ffi::OsStr::from_bytes(b"Jos\xe9.edf");
    small_file(
        dir.path(),
        latin1.to_str().unwrap_or("x"),
        Variant::Edf,
        Continuity::Continuous,
    );
    std::fs::rename(dir.path().join("x"), dir.path().join(latin1)).unwrap();
    std::fs::write(
        dir.path().join("arm_channels_channels.tsv"),
        "name\ttype\tunits\n",
    )
    .unwrap();
    let found: Vec<String> = ingest::discover(dir.path())
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(found, ["Jos\u{fffd}", "arm_channels", "arm_events"]);
}

/// A valid two-stream XDF file to break: header chunk 1, stream headers as chunks 2 and 3,
/// then a Samples chunk of each (chunks 4 and 5).
fn xdf(dir: &Path) -> (PathBuf, common::XdfWriter) {
    let path = dir.join("broken.xdf");
    let stamps: Vec<Option<f64>> = (0..20).map(|i| Some(10.0 + i as f64 * 0.01)).collect();
    let rows: Vec<Vec<f64>> = (0..20).map(|i| vec![i as f64]).collect();
    let mut w = common::XdfWriter::new();
    w.stream(1, "Algometer", 100.0, "double64", &[("Force", "N")])
        .stream(2, "Markers", 0.0, "string", &[("Marker", "")])
        .samples(1, "double64", &stamps, &rows)
        .markers(2, &[(10.05, "press")]);
    w.write(&path);
    (path, w)
}

#[test]
fn xdf_the_test_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = xdf(dir.path());
    let rec = ingest::load(&source_of_file(&path).unwrap(), &Config::default()).unwrap();
    assert_eq!((rec.channels.len(), rec.annotations.len()), (1, 1));
}

#[test]
fn xdf_truncated_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = xdf(dir.path());
    std::fs::write(&path, &w.bytes[..w.bytes.len() - 5]).unwrap();
    let at = w.starts[4];
    assert_names(
        &load_err(&path),
        &path,
        &[&format!("chunk 5 at byte {at}, length field"), "truncated"],
    );
}

#[test]
fn xdf_length_field_larger_than_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = xdf(dir.path());
    let mut bytes = w.bytes.clone();
    bytes.push(8);
    bytes.extend(u64::MAX.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let at = w.bytes.len();
    assert_names(
        &load_err(&path),
        &path,
        &[
            &format!("chunk 6 at byte {at}, length field"),
            &u64::MAX.to_string(),
            &format!("file's {} bytes", bytes.len()),
        ],
    );
}

#[test]
fn xdf_unknown_channel_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("float16.xdf");
    common::XdfWriter::new()
        .stream(7, "EMG", 2000.0, "float16", &[("EMG UT L", "uV")])
        .write(&path);
    assert_names(
        &load_err(&path),
        &path,
        &[
            "chunk 2 (StreamHeader)",
            "stream 7, `channel_format`",
            "float32, double64",
            "\"float16\"",
        ],
    );
}

#[test]
fn xdf_samples_of_an_undeclared_stream() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = xdf(dir.path());
    w.samples(9, "double64", &[Some(11.0)], &[vec![1.0]])
        .write(&path);
    assert_names(
        &load_err(&path),
        &path,
        &[
            "chunk 6 (Samples)",
            "stream 9, which none declares (declared: `1`, `2`)",
        ],
    );
}

#[test]
fn xdf_sample_count_beyond_the_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = xdf(dir.path());
    let mut content = 1u32.to_le_bytes().to_vec();
    content.push(8);
    content.extend(u64::MAX.to_le_bytes());
    w.chunk(3, &content).write(&path);
    assert_names(
        &load_err(&path),
        &path,
        &[
            "chunk 6 (Samples)",
            "stream 1",
            "sample count: at most 0 samples",
        ],
    );
}

#[test]
fn xdf_lost_samples_drift_from_the_nominal_rate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lost.xdf");
    // 100 Hz, but 5 samples (50 ms) lost after the 50th.
    let stamps: Vec<Option<f64>> = (0..100)
        .map(|i| Some(i as f64 * 0.01 + if i >= 50 { 0.05 } else { 0.0 }))
        .collect();
    let rows: Vec<Vec<f64>> = (0..100).map(|i| vec![i as f64]).collect();
    common::XdfWriter::new()
        .stream(1, "Algometer", 100.0, "double64", &[("Force", "N")])
        .samples(1, "double64", &stamps, &rows)
        .write(&path);
    assert_names(
        &load_err(&path),
        &path,
        &[
            "stream `Algometer`",
            "qc.xdf_drift_max_ms = 20 ms",
            "nominal 100 Hz",
            "+50.0 ms",
        ],
    );
}

#[test]
fn xdf_clock_reset() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut w) = xdf(dir.path());
    w.clock_offset(1, 20.0, -1.0)
        .clock_offset(1, 3.0, 500.0)
        .write(&path);
    assert_names(
        &load_err(&path),
        &path,
        &[
            "chunk 7 (ClockOffset)",
            "stream 1",
            "`Algometer`",
            "clock reset",
        ],
    );
}

/// No byte of a small XDF file, set to 0x00 or 0xFF, makes the reader panic.
#[test]
fn xdf_no_byte_panics_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let (path, w) = xdf(dir.path());
    for i in 0..w.bytes.len() {
        for b in [0x00, 0xFF] {
            let mut bytes = w.bytes.clone();
            bytes[i] = b;
            std::fs::write(&path, &bytes).unwrap();
            let _ = ingest::xdf::read(&path, 20.0);
        }
    }
}

/// Every CSV error palpa knows the fix of ends with `; hint: ` and that fix, on the same
/// line (as `run.json` records it).
#[test]
fn csv_errors_end_with_a_hint_of_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    // Decimal points in the 20 lines palpa looks at, then a decimal comma.
    let late_comma = (0..21).fold("time_s;EMG [uV]\n".to_string(), |text, i| {
        text + &format!("0.{i:03};1.5\n")
    }) + "0.021;2,5\n";
    let cases: [(&str, &str, &[&str]); 7] = [
        (
            "ragged.csv",
            "time_s;EMG [uV];F [N]\n0;1;2\n0,001;2\n",
            &[
                "line 3",
                "; hint: every row needs one value per header column; check the separator \
                 (palpa detected `;`)",
            ],
        ),
        (
            "word.tsv",
            "time_s\tEMG [uV]\n0\t1\n0.001\tten\n",
            &[
                "line 3, column `EMG [uV]`",
                "\"ten\"",
                "; hint: every cell under the header must be a number with the decimal mark `.`",
            ],
        ),
        (
            "late_comma.csv",
            &late_comma,
            &["line 23, column `EMG [uV]`", "\"2,5\"", "decimal mark `.`"],
        ),
        (
            "no_rate.csv",
            "EMG [uV],F [N]\n1,2\n3,4\n",
            &[
                "found neither",
                "; hint: add a `time_s` column or `SamplingFrequency` in no_rate.json, or \
                 `sampling_frequency_hz` under `[dataset]` in palpa.toml",
            ],
        ),
        (
            "backwards.csv",
            "time_s,EMG [uV]\n0,1\n0.002,2\n0.001,3\n",
            &["line 4", "; hint: sort the rows by time"],
        ),
        (
            "twice.csv",
            "time_s,EMG [uV],EMG [uV]\n0,1,2\n",
            &[
                "unique column names",
                "; hint: give each column its own name",
            ],
        ),
        (
            "ms.csv",
            "time_s;EMG\nms;uV\n0;1\n1;2\n",
            &[
                "column `time_s`: expected the unit `s`",
                "found `ms`",
                "; hint: write the times in seconds",
            ],
        ),
    ];
    for (name, text, fragments) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = load_err(&path);
        assert_names(&err, &path, fragments);
        assert!(!err.contains('\n'), "{err}");
    }
}

/// OpenSignals and DataLOG headers that break their layout are named by line (and device,
/// key); a DataLOG export without a rate asks for the sidecar.
#[test]
fn vendor_text_exports_with_broken_headers() {
    let dir = tempfile::tempdir().unwrap();
    let os = |json: &str| {
        format!(
            "# OpenSignals Text File Format\n# {json}\n# EndOfHeader\n0\t0\t512\t\n1\t0\t513\t\n"
        )
    };
    let device = |sensor: &str, device: &str, resolution: &str| {
        format!(
            r#"{{"AA": {{"sensor": ["{sensor}"], "column": ["nSeq", "DI", "CH1"], "label": ["CH1"], "device": "{device}", "sampling rate": 1000, "resolution": {resolution}}}}}"#
        )
    };
    let datalog =
        "File Name: x.log\nChannel 1: 'RF', 2 values, engineering units: mV, no filters.\n\
                   Channel 2: 'BF', 2 values, engineering units: mV, no filters.\n\n1\t2\n3\t4\n";
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "json.txt",
            os("{\"AA\": {\"sensor\": [\"EMG\"]"),
            vec!["line 2 (JSON header)", "a JSON object of devices"],
        ),
        (
            "keys.txt",
            os(r#"{"AA": {"sensor": ["EMG"]}}"#),
            vec!["line 2 (JSON header)", "missing field"],
        ),
        (
            "device.txt",
            os(&device("EMG", "unknown_box", "[16]")),
            vec!["device `AA`, `device`", "`unknown_box`"],
        ),
        (
            "bits.txt",
            os(&device("ECG", "biosignalsplux", "[16, 16]")),
            vec!["device `AA`, `resolution`", "[16, 16]"],
        ),
        (
            "end.txt",
            "# OpenSignals Text File Format\n# {}\n".to_string(),
            vec!["line 3", "the end of the file"],
        ),
        (
            "channel_line.txt",
            datalog.replace("Channel 2: 'BF'", "Channel 3: 'BF'"),
            vec!["line 3", "`Channel 2: '<name>'"],
        ),
        (
            "no_blank.txt",
            "File Name: x.log\nChannel 1: 'RF', 2 values, engineering units: mV.\n".to_string(),
            vec![
                "line 3",
                "a blank line after the channel lines",
                "the end of the file",
            ],
        ),
        (
            "no_rate.txt",
            datalog.to_string(),
            vec!["; hint: add a `time_s` column or `SamplingFrequency` in no_rate.json"],
        ),
    ];
    for (name, text, fragments) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        assert_names(&load_err(&path), &path, &fragments);
    }
}

/// The pyomeca C3D (float storage, 51 points, 38 analogs at 2000 Hz), copied to `dir` after
/// `edit`.
fn c3d(dir: &Path, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(common::real("pyomeca/markers_analogs.c3d")).unwrap();
    edit(&mut bytes);
    let path = dir.join("broken.c3d");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn c3d_truncated_in_its_data_section() {
    let dir = tempfile::tempdir().unwrap();
    let path = c3d(dir.path(), |b| b.truncate(b.len() - 1000));
    let err = load_err(&path);
    assert_names(
        &err,
        &path,
        &[
            "header word 9",
            "580 frames of 3856 bytes",
            "2249816-byte file",
        ],
    );
}

#[test]
fn c3d_parameter_pointer_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    for block in [0, 1] {
        let path = c3d(dir.path(), |b| b[0] = block);
        let err = load_err(&path);
        assert_names(
            &err,
            &path,
            &[
                "byte 1 (parameter section block)",
                "a block from 2 to 4396",
                &format!("found {block}"),
            ],
        );
    }
    // Block 250 is inside this 4396-block file, in its data: no parameter section there.
    let path = c3d(dir.path(), |b| b[0] = 250);
    let err = load_err(&path);
    assert_names(&err, &path, &["parameter section byte 4 (processor type)"]);
}

#[test]
fn c3d_zero_analog_rate() {
    let dir = tempfile::tempdir().unwrap();
    let path = c3d(dir.path(), |b| {
        // ANALOG (group 4) RATE: name length, group, name, 2-byte offset, type 4, 0 dims,
        // then the float.
        let at = b.windows(6).position(|w| w == b"\x04\x04RATE").unwrap();
        b[at + 10..at + 14].copy_from_slice(&0f32.to_le_bytes());
    });
    let err = load_err(&path);
    assert_names(
        &err,
        &path,
        &["parameter ANALOG:RATE", "above 0", "found 0"],
    );
}

#[test]
fn h5_that_is_not_hdf5_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.h5");
    std::fs::write(&path, b"time_s,EMG\n0,1\n").unwrap();
    let err = load_err(&path);
    assert_names(&err, &path, &["expected an HDF5 file"]);
}
