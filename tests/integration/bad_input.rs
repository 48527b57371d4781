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
