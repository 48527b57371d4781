//! Formats palpa writes itself or that have no real file here: BDF/BDF+ (24-bit) round trips,
//! a BIDS-EMG tree with inheritance, CSV with units in headers, Parquet, and export.

use crate::common;

use std::path::Path;

use common::small_file;
use ndarray::Array1;
use palpa::config::Config;
use palpa::ingest::edf::{self, Continuity, FileToWrite, SignalToWrite, Variant};
use palpa::ingest::{self, discover, source_of_file};
use palpa::model::{ChannelKind, Recording, Side, Unit};
use polars::prelude::*;

fn load(path: &Path) -> Recording {
    ingest::load(&source_of_file(path).unwrap(), &Config::default()).unwrap()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Records read a chunk at a time come back whole and in place: two signals of different
/// rates, annotations in several records, 3.3 MB of records (several chunks, the last one
/// short). Whole-number samples with gain 1 round-trip exactly.
#[test]
fn an_edf_plus_read_in_chunks_is_the_file_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.edf");
    let n_records = 30;
    let (emg_spr, force_spr) = (40_000, 16_000);
    let emg = Array1::from_iter(
        (0..emg_spr * n_records).map(|i| ((i as f64 * 0.7).sin() * 900.0).round()),
    );
    let force = Array1::from_iter((0..force_spr * n_records).map(|i| (i % 1000) as f64));
    let annotations: Vec<palpa::model::Annotation> = [0.5, 2.25, 13.0, 29.75]
        .iter()
        .map(|&onset_s| palpa::model::Annotation {
            onset_s,
            duration_s: None,
            text: format!("mark {onset_s}"),
            muscle: None,
            side: None,
            site: None,
        })
        .collect();
    let signal = |label, unit, spr, samples| SignalToWrite {
        label,
        unit,
        physical_range: [-32_768.0, 32_767.0],
        digital_range: [-32_768, 32_767],
        samples_per_record: spr,
        samples,
    };
    edf::write(
        &path,
        &FileToWrite {
            variant: Variant::Edf,
            continuity: Continuity::Continuous,
            patient: "X",
            recording: "X",
            start_date: "01.02.26",
            start_time: "03.04.05",
            start_offset_s: 0.0,
            record_duration_s: 1.0,
            signals: vec![
                signal("EMG UT L", "uV", emg_spr, emg.view()),
                signal("Force", "N", force_spr, force.view()),
            ],
            annotations: &annotations,
        },
    )
    .unwrap();
    let read = edf::read(&path).unwrap();
    assert_eq!(read.signals, vec![(0, emg), (1, force)]);
    let onsets: Vec<(f64, &str)> = read
        .timeline
        .annotations
        .iter()
        .map(|a| (a.onset_s, a.text.as_str()))
        .collect();
    let written: Vec<(f64, &str)> = annotations
        .iter()
        .map(|a| (a.onset_s, a.text.as_str()))
        .collect();
    assert_eq!(onsets, written);
}

/// Every 24-bit extreme and sign pattern, with gain 1 so physical = digital exactly.
#[test]
fn bdf_and_bdf_plus_round_trip_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let digital = [
        -8_388_608.0,
        8_388_607.0,
        -1.0,
        0.0,
        1.0,
        123_456.0,
        -123_456.0,
        65_535.0,
    ];
    let values = Array1::from_iter(digital.iter().copied().cycle().take(8 * 4));
    for continuity in [Continuity::Plain, Continuity::Continuous] {
        let path = dir.path().join(format!("{continuity:?}.bdf"));
        let annotations = [palpa::model::Annotation {
            onset_s: 2.5,
            duration_s: Some(1.5),
            text: "ppt".into(),
            muscle: None,
            side: None,
            site: None,
        }];
        edf::write(
            &path,
            &FileToWrite {
                variant: Variant::Bdf,
                continuity,
                patient: "X",
                recording: "X",
                start_date: "01.02.26",
                start_time: "03.04.05",
                start_offset_s: 0.25,
                record_duration_s: 1.0,
                signals: vec![SignalToWrite {
                    label: "EMG LS R",
                    unit: "uV",
                    physical_range: [-8_388_608.0, 8_388_607.0],
                    digital_range: [-8_388_608, 8_388_607],
                    samples_per_record: 8,
                    samples: values.view(),
                }],
                annotations: &annotations,
            },
        )
        .unwrap();

        // The bytes themselves: header version, then the first samples as 24-bit LE.
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\xffBIOSEMI");
        let ns = if continuity == Continuity::Plain {
            1
        } else {
            2
        };
        let data = 256 * (ns + 1);
        assert_eq!(
            &bytes[data..data + 6],
            &[0x00, 0x00, 0x80, 0xFF, 0xFF, 0x7F]
        );

        let rec = load(&path);
        assert_eq!(rec.channels.len(), 1, "{continuity:?}");
        let ch = &rec.channels[0];
        assert_eq!(
            ch.samples, values,
            "{continuity:?}: bit-exact 24-bit round trip"
        );
        assert_eq!((ch.kind, ch.side), (ChannelKind::Emg, Some(Side::Right)));
        assert_eq!(ch.muscle.as_ref().unwrap().as_str(), "levator scapulae");
        if continuity == Continuity::Continuous {
            assert_eq!(rec.start_offset_s, 0.25);
            assert_eq!(rec.annotations.len(), 1);
            assert_eq!(
                (rec.annotations[0].onset_s, rec.annotations[0].duration_s),
                (2.5, Some(1.5))
            );
        } else {
            assert!(rec.annotations.is_empty());
        }
    }
}

#[test]
fn edf_plus_round_trip_with_mixed_rates() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_file(dir.path(), "a.edf", Variant::Edf, Continuity::Continuous);
    let rec = load(&path);
    assert_eq!(
        rec.channels[0].samples,
        Array1::from_iter((0..30).map(|i| (i as f64 - 15.0) * 7.0))
    );
    assert_eq!(
        rec.channels[1].samples,
        Array1::from_iter((0..15).map(f64::from))
    );
    assert_eq!((rec.channels[0].fs_hz, rec.channels[1].fs_hz), (10.0, 5.0));
    assert_eq!(
        (rec.channels[1].kind, rec.channels[1].unit.clone()),
        (ChannelKind::Force, Unit::Newton)
    );
    assert_eq!(rec.annotations[0].text, "snap");
    assert_eq!(rec.annotations[0].onset_s, 1.25);
}

/// A BIDS-EMG tree: an `_emg.json` at the root inherited by every recording, one nearer
/// that overrides a key, `_channels.tsv` with `target_muscle` and `side`, `_events.tsv`.
#[test]
fn bids_tree_with_inheritance() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("dataset_description.json"),
        r#"{"Name": "t", "BIDSVersion": "1.9.0"}"#,
    );
    write(
        &root.join("participants.tsv"),
        "participant_id\tage\nsub-01\t30\nsub-02\t41\n",
    );
    write(
        &root.join("task-palpation_emg.json"),
        r#"{"TaskName": "palpation", "PowerLineFrequency": 50, "Therapist": "T1", "ProbeAreaCm2": 1.0}"#,
    );
    for (sub, ses) in [("01", "1"), ("02", "1")] {
        let emg = root.join(format!("sub-{sub}/ses-{ses}/emg"));
        std::fs::create_dir_all(&emg).unwrap();
        let stem = format!("sub-{sub}_ses-{ses}_task-palpation_run-1_emg");
        small_file(
            &emg,
            &format!("{stem}.edf"),
            Variant::Edf,
            Continuity::Continuous,
        );
        let base = stem.trim_end_matches("_emg");
        write(
            &emg.join(format!("{base}_channels.tsv")),
            "name\ttype\tunits\ttarget_muscle\tside\n\
             EMG UT L\tEMG\tuV\tinfraspinatus\tright\n\
             Force\tFORCE\tN\tn/a\tn/a\n",
        );
        write(
            &emg.join(format!("{base}_events.tsv")),
            "onset\tduration\ttrial_type\tmuscle\tside\n0.5\tn/a\tppt\tIS\tR\n",
        );
    }
    // Subject 2 has a nearer sidecar that overrides the therapist.
    write(
        &root.join("sub-02/sub-02_task-palpation_emg.json"),
        r#"{"Therapist": "T2"}"#,
    );
    // Folders discovery must skip.
    small_file(
        &root.join("derivatives"),
        "x.edf",
        Variant::Edf,
        Continuity::Plain,
    );
    std::fs::create_dir_all(root.join(".hidden")).unwrap();
    small_file(
        &root.join(".hidden"),
        "y.edf",
        Variant::Edf,
        Continuity::Plain,
    );

    let sources = discover(root).unwrap();
    let ids: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "sub-01/ses-1/emg/sub-01_ses-1_task-palpation_run-1_emg",
            "sub-02/ses-1/emg/sub-02_ses-1_task-palpation_run-1_emg"
        ]
    );
    assert_eq!(
        sources[1].json.len(),
        2,
        "root and subject-level JSON, farthest first"
    );

    let cfg = Config::default();
    let recs: Vec<Recording> = sources
        .iter()
        .map(|s| ingest::load(s, &cfg).unwrap())
        .collect();
    for (rec, therapist) in recs.iter().zip(["T1", "T2"]) {
        let m = &rec.meta;
        assert_eq!(m.therapist.as_deref(), Some(therapist), "{}", rec.id);
        assert_eq!(
            (m.task.as_deref(), m.session.as_deref(), m.run.as_deref()),
            (Some("palpation"), Some("1"), Some("1"))
        );
        assert_eq!(m.powerline_hz, Some(50.0), "inherited from the root JSON");
        let emg = &rec.channels[0];
        // target_muscle and side in channels.tsv override the label's `UT L`.
        assert_eq!(emg.muscle.as_ref().unwrap().as_str(), "infraspinatus");
        assert_eq!(emg.side, Some(Side::Right));
        assert_eq!(rec.annotations.len(), 2, "EDF+ annotation and events.tsv");
        let ppt = rec.annotations.iter().find(|a| a.text == "ppt").unwrap();
        assert_eq!((ppt.onset_s, ppt.duration_s), (0.5, None));
        assert_eq!(ppt.muscle.as_ref().unwrap().as_str(), "infraspinatus");
        assert_eq!(
            m.palpated_muscle.as_ref().unwrap().as_str(),
            "infraspinatus"
        );
        assert_eq!(m.palpated_side, Some(Side::Right));
    }
    assert_eq!(recs[0].meta.subject.as_deref(), Some("01"));

    // A single file finds the same sidecars through dataset_description.json.
    let single = source_of_file(&sources[1].path).unwrap();
    assert_eq!(single.json, sources[1].json);
    assert_eq!(single.id, sources[1].id);
}

#[test]
fn flat_csv_with_units_in_headers_and_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s1.csv");
    let mut text = String::from("time_s,EMG UT L [mV],algometer (kgf),depth [cm]\n");
    for i in 0..100 {
        let t = i as f64 / 1000.0;
        let t = if i >= 50 { t + 0.01 } else { t }; // one 10 ms gap
        text.push_str(&format!("{t},{},{},{}\n", i as f64 * 0.001, 0.5, 0.1));
    }
    write(&path, &text);
    write(
        &dir.path().join("s1.json"),
        r#"{"Therapist": "T9", "PalpatedMuscle": "GMed", "PalpatedSide": "left"}"#,
    );
    let rec = load(&path);
    assert_eq!(rec.id, "s1");
    assert_eq!(rec.meta.therapist.as_deref(), Some("T9"));
    assert_eq!(
        rec.meta.palpated_muscle.as_ref().unwrap().as_str(),
        "gluteus medius"
    );
    let [emg, force, depth] = &rec.channels[..] else {
        panic!("three channels")
    };
    assert_eq!((emg.kind, emg.fs_hz), (ChannelKind::Emg, 1000.0));
    assert!((emg.samples[10] - 10.0).abs() < 1e-9, "mV → µV");
    assert!((force.samples[0] - 0.5 * 9.806_65).abs() < 1e-12, "kgf → N");
    assert_eq!(
        (depth.kind, depth.samples[0]),
        (ChannelKind::Displacement, 1.0)
    );
    assert_eq!(rec.gaps.len(), 1);
    assert!((rec.gaps[0].at_s - 0.05).abs() < 1e-12 && (rec.gaps[0].gap_s - 0.01).abs() < 1e-9);
}

#[test]
fn parquet_recording_with_sampling_frequency_from_the_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.parquet");
    let mut df = df!(
        "emg_upper_trapezius_left [uV]" => (0..200).map(f64::from).collect::<Vec<_>>(),
        "force (N)" => (0..200).map(|i| f64::from(i) / 10.0).collect::<Vec<_>>(),
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    write(&dir.path().join("p.json"), r#"{"SamplingFrequency": 2000}"#);
    let rec = load(&path);
    assert_eq!(rec.channels.len(), 2);
    assert_eq!(rec.channels[0].fs_hz, 2000.0);
    assert_eq!(
        rec.channels[0].muscle.as_ref().unwrap().as_str(),
        "upper trapezius"
    );
    assert_eq!(rec.channels[0].side, Some(Side::Left));
    assert_eq!(rec.channels[1].samples[199], 19.9);
}

fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn column(df: &DataFrame, name: &str) -> Vec<f64> {
    df.column(name)
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

/// A 2 kHz EMG channel and a 100 Hz force channel, 4 s, in an EDF+ file: the EMG is a 90 Hz
/// tone of 80 µV on a 120 µV offset with 30 µV of 50 Hz hum; the force a half-sine of 20 N on
/// 0.5 N. Quantised at 0.1 µV and 0.01 N.
fn emg_and_force_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("session.edf");
    let tau = 2.0 * std::f64::consts::PI;
    let emg = Array1::from_shape_fn(8000, |i| {
        let t = i as f64 / 2000.0;
        80.0 * (tau * 90.0 * t).sin() + 30.0 * (tau * 50.0 * t).sin() + 120.0
    });
    let force = Array1::from_shape_fn(400, |i| {
        0.5 + 20.0 * (i as f64 / 400.0 * std::f64::consts::PI).sin()
    });
    let scaled = |label, unit, range: f64, spr, samples| SignalToWrite {
        label,
        unit,
        physical_range: [-range, range],
        digital_range: [-32767, 32767],
        samples_per_record: spr,
        samples,
    };
    let signals = vec![
        scaled("EMG UT L", "uV", 3276.7, 2000, emg.view()),
        scaled("Force", "N", 327.67, 100, force.view()),
    ];
    common::write_file(&path, Variant::Edf, Continuity::Continuous, signals, &[]);
    path
}

#[test]
fn export_writes_conditioned_columns_per_kind() {
    let dir = tempfile::tempdir().unwrap();
    let path = emg_and_force_file(dir.path());
    let out = dir.path().join("out");
    let source = palpa::ingest::source_of_file(&path).unwrap();
    palpa::pipeline::export(&source, &out, &Config::default()).unwrap();

    let emg = read_parquet(&out.join("EMG_UT_L.parquet"));
    assert_eq!(
        emg.get_column_names(),
        ["time_s", "raw", "filtered", "envelope", "tkeo"]
    );
    assert_eq!(emg.height(), 8000);
    // The exported columns are exactly what the conditioning stage computes.
    let mut rec = load(&path);
    let cfg = Config::default();
    let signals = palpa::signal::condition::condition(&mut rec, &cfg);
    assert!(
        rec.channels[0].samples.is_empty(),
        "the EMG's raw samples became its filtered signal"
    );
    assert_eq!(signals.mains_hz, Some(50.0), "inferred from the 50 Hz hum");
    let palpa::signal::condition::Conditioned::Emg(e) = &signals.channels[0].conditioned else {
        panic!("EMG conditioned")
    };
    assert!(
        e.notched,
        "powerline ratio far above 0.05 switches the notch on"
    );
    assert_eq!(column(&emg, "filtered"), e.filtered.to_vec());
    assert_eq!(column(&emg, "envelope"), e.envelope().to_vec());
    assert_eq!(column(&emg, "tkeo"), e.tkeo().to_vec());
    // Band-pass + notch remove the offset and the hum; the 90 Hz tone (80 µV) remains:
    // its RMS is 80/√2 ≈ 56.6 µV, which the 50 ms envelope shows mid-signal.
    let env = column(&emg, "envelope");
    assert!(
        (env[4000] - 80.0 / 2f64.sqrt()).abs() < 2.0,
        "{}",
        env[4000]
    );
    let mdf = signals.channels[0].mdf_hz.unwrap();
    assert!((mdf - 90.0).abs() <= 2.0, "MDF {mdf}");

    let force = read_parquet(&out.join("Force.parquet"));
    assert_eq!(force.get_column_names(), ["time_s", "raw", "lowpass"]);
    let t = column(&force, "time_s");
    assert_eq!((t[3], t.len()), (0.03, 400));
    // Debiased by the median of the lowest 5% (20 samples: i < 10 and i ≥ 390, where the
    // half-sine is 0.5 + 20·sin(π·i/400) ≤ 2.07 N), then low-passed.
    let palpa::signal::condition::Conditioned::Force(f) = &signals.channels[1].conditioned else {
        panic!("force conditioned")
    };
    assert!(
        f.zero_offset_n > 0.5 && f.zero_offset_n < 2.07,
        "{}",
        f.zero_offset_n
    );
    let (raw, lowpass) = (column(&force, "raw"), column(&force, "lowpass"));
    assert_eq!(lowpass, f.lowpass.to_vec());
    assert!(
        (lowpass[200] - (raw[200] - f.zero_offset_n)).abs() < 0.05,
        "{} vs {}",
        lowpass[200],
        raw[200]
    );
}

#[test]
fn export_of_an_unconditionable_channel_writes_raw_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_file(dir.path(), "e.edf", Variant::Edf, Continuity::Continuous);
    let out = dir.path().join("out");
    let source = palpa::ingest::source_of_file(&path).unwrap();
    let raw_only = palpa::pipeline::export(&source, &out, &Config::default()).unwrap();
    assert_eq!(raw_only.len(), 1, "the 10 Hz EMG is exported raw only");
    assert_eq!(raw_only[0].channel, "EMG UT L");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["EMG_UT_L.parquet", "Force.parquet"]);
    // 10 Hz "EMG" cannot be band-passed at 20 Hz: time and raw only.
    let emg = read_parquet(&out.join("EMG_UT_L.parquet"));
    assert_eq!(emg.get_column_names(), ["time_s", "raw"]);
    let force = read_parquet(&out.join("Force.parquet"));
    let (t, raw) = (column(&force, "time_s"), column(&force, "raw"));
    assert_eq!((t[3], raw[3]), (0.6, 3.0));
    assert_eq!(force.height(), 15);
}

/// EDF+D: records keep their onsets (DESIGN §2.2). The file is written as EDF+C, then made
/// discontinuous by hand: the third record's time-keeping TAL moves from +2 to +5 s, a 3 s
/// break, and an annotation inside that record from +2.5 to +5.5 s.
#[test]
fn edf_plus_d_breaks_become_gaps_and_annotations_follow_their_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.edf");
    let emg = Array1::from_iter((0..30).map(f64::from));
    let annotations = [palpa::model::Annotation {
        onset_s: 2.5,
        duration_s: None,
        text: "ppt".into(),
        muscle: None,
        side: None,
        site: None,
    }];
    let signals = vec![common::signal("EMG UT L", "uV", 1000, 10, &emg)];
    common::write_file(
        &path,
        Variant::Edf,
        Continuity::Continuous,
        signals,
        &annotations,
    );

    let mut bytes = std::fs::read(&path).unwrap();
    let mut replace = |from: &[u8], to: &[u8]| {
        let at = bytes
            .windows(from.len())
            .position(|w| w == from)
            .unwrap_or_else(|| panic!("{from:?} not in file"));
        bytes[at..at + to.len()].copy_from_slice(to);
    };
    replace(b"EDF+C", b"EDF+D");
    replace(b"+2\x14\x14\0", b"+5\x14\x14\0");
    replace(b"+2.5\x14ppt", b"+5.5\x14ppt");
    std::fs::write(&path, &bytes).unwrap();

    let rec = load(&path);
    assert_eq!(
        rec.gaps,
        [palpa::model::TimeGap {
            at_s: 2.0,
            gap_s: 3.0
        }]
    );
    assert_eq!(rec.channels[0].samples.len(), 30, "samples stay contiguous");
    // Wall time 5.5 s is 0.5 s into the third record, which starts at 2 s of samples.
    assert_eq!(rec.annotations.len(), 1);
    assert_eq!(rec.annotations[0].onset_s, 2.5);
    // The time axis puts the break back: sample 20 (first of the third record) is at 5 s.
    let t = palpa::model::time_axis_s(30, 10.0, &rec.gaps);
    assert_eq!((t[19], t[20], t[29]), (1.9, 5.0, 5.9));
}

/// Two streams on their own clocks, as LabRecorder stores an algometer and an EMG amplifier:
/// force at 100 Hz on a clock 2000 s ahead of the recorder's, EMG at 2000 Hz on a clock that
/// also runs 0.05% fast (its offset changes over time), starting later and off the force
/// grid, EMG timestamps written only every 50th sample; markers on a third clock. A pulse
/// at true time 5 s in both streams lands at the same time in palpa's channels.
#[test]
fn xdf_streams_on_their_own_clocks_share_one_time_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.xdf");
    let (force_t0, emg_t0, pulse_t) = (1.0, 1.2037, 5.0);
    // Each clock as a function of true time τ; the offset takes it back to τ.
    let clock_a = |tau: f64| tau + 2000.0;
    let clock_b = |tau: f64| 1.0005 * tau + 50.0;
    let clock_c = |tau: f64| tau - 30.0;
    let force_pulse = ((pulse_t - force_t0) * 100.0_f64).round() as usize;
    let emg_pulse = ((pulse_t - emg_t0) * 2000.0_f64).round() as usize;

    let mut w = common::XdfWriter::new();
    w.stream(
        1,
        "Algometer",
        100.0,
        "double64",
        &[("Force", "N"), ("Status", "")],
    )
    .stream(
        2,
        "Amplifier",
        2000.0,
        "float32",
        &[("EMG UT L", "uV"), ("Status", "")],
    )
    .stream(3, "Markers", 0.0, "string", &[("Marker", "")]);
    for second in 0..10 {
        let force: Vec<usize> = (second * 100..(second + 1) * 100).collect();
        let stamps: Vec<Option<f64>> = force
            .iter()
            .map(|&i| Some(clock_a(force_t0 + i as f64 / 100.0)))
            .collect();
        let rows: Vec<Vec<f64>> = force
            .iter()
            .map(|&i| vec![if i == force_pulse { 40.0 } else { 2.0 }, 0.0])
            .collect();
        w.samples(1, "double64", &stamps, &rows);
        let emg: Vec<usize> = (second * 2000..(second + 1) * 2000).collect();
        let stamps: Vec<Option<f64>> = emg
            .iter()
            .map(|&i| (i % 50 == 0).then(|| clock_b(emg_t0 + i as f64 / 2000.0)))
            .collect();
        let rows: Vec<Vec<f64>> = emg
            .iter()
            .map(|&i| vec![if i == emg_pulse { 500.0 } else { 0.0 }, 0.0])
            .collect();
        w.samples(2, "float32", &stamps, &rows);
        // Offsets measured every second, at a time on each stream's own clock.
        let tau = second as f64 + 0.5;
        w.clock_offset(1, clock_a(tau), tau - clock_a(tau))
            .clock_offset(2, clock_b(tau), tau - clock_b(tau));
    }
    w.clock_offset(3, clock_c(4.0), 30.0).markers(
        3,
        &[
            (clock_c(0.5), "session"),
            (clock_c(3.0), "press"),
            (clock_c(6.5), "release"),
        ],
    );
    w.write(&path);

    let rec = load(&path);
    assert_eq!(
        rec.format,
        "XDF (2 streams: Algometer 100 Hz, Amplifier 2000 Hz; 1 marker stream)"
    );
    let names: Vec<&str> = rec.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["Force", "Algometer Status", "EMG UT L", "Amplifier Status"],
        "a label two streams share gets its stream's name"
    );
    let (force, emg) = (&rec.channels[0], &rec.channels[2]);
    assert_eq!(
        (force.kind, force.unit.clone()),
        (ChannelKind::Force, Unit::Newton)
    );
    assert_eq!(
        (emg.kind, emg.unit.clone()),
        (ChannelKind::Emg, Unit::Microvolt)
    );
    assert_eq!((force.fs_hz, emg.fs_hz), (100.0, 2000.0));

    // Time zero is the EMG's first sample (the later start); the algometer's first kept
    // sample is τ = 1.2 s, 3.7 ms before it, within half its 10 ms period.
    assert_eq!(emg.samples.len(), 20_000);
    assert_eq!(force.samples.len(), 1000 - 20);
    let peak = |x: &Array1<f64>| {
        x.iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0
    };
    let force_s = peak(&force.samples) as f64 / force.fs_hz;
    let emg_s = peak(&emg.samples) as f64 / emg.fs_hz;
    let truth_s = pulse_t - emg_t0;
    assert!(
        (force_s - emg_s).abs() <= 1.0 / 100.0,
        "pulse at {force_s} s in force, {emg_s} s in EMG"
    );
    assert!(
        (force_s - truth_s).abs() <= 0.5 / 100.0 + 1e-9,
        "{force_s} vs {truth_s}"
    );
    assert!(
        (emg_s - truth_s).abs() <= 0.5 / 2000.0 + 1e-9,
        "{emg_s} vs {truth_s}"
    );

    let onsets: Vec<(f64, &str)> = rec
        .annotations
        .iter()
        .map(|a| (a.onset_s, a.text.as_str()))
        .collect();
    for ((onset, text), (tau, want)) in
        onsets
            .iter()
            .zip([(0.5, "session"), (3.0, "press"), (6.5, "release")])
    {
        assert_eq!(*text, want);
        assert!((onset - (tau - emg_t0)).abs() < 1e-9, "{text} at {onset} s");
    }
    assert_eq!(onsets.len(), 3);
}

/// An irregular numeric stream and an empty one are skipped, and `format` says so.
#[test]
fn xdf_irregular_numeric_and_empty_streams_are_named_as_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("skips.xdf");
    let stamps: Vec<Option<f64>> = (0..10).map(|i| Some(i as f64 * 0.01)).collect();
    let rows: Vec<Vec<f64>> = (0..10).map(|i| vec![i as f64]).collect();
    common::XdfWriter::new()
        .stream(1, "Force", 100.0, "int16", &[("Force", "N")])
        .stream(2, "Accel", 0.0, "float32", &[("x", "g")])
        .stream(3, "Spare", 100.0, "float32", &[("y", "V")])
        .samples(1, "int16", &stamps, &rows)
        .samples(2, "float32", &stamps, &rows)
        .write(&path);
    let rec = load(&path);
    assert_eq!(
        rec.format,
        "XDF (1 stream: Force 100 Hz; skipped: `Accel` (irregular numeric), `Spare` (no samples))"
    );
    assert_eq!(rec.channels.len(), 1);
    assert_eq!(
        rec.channels[0].samples.to_vec(),
        (0..10).map(f64::from).collect::<Vec<_>>()
    );
}

/// The same samples written in each CSV dialect palpa reads (DESIGN §2.2), with units in the
/// header or in a units row, come back identical to the `,` CSV's, and `format` names the
/// dialect. The data hold negative numbers, exponents, a missing cell and a CRLF line end.
#[test]
fn csv_dialects_give_the_samples_of_the_comma_csv() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        ["0.000", "1.5", "-0.25"],
        ["0.001", "-2.75e1", "0.5"],
        ["0.002", "", "1"],
        ["0.003", "4", "12.125"],
    ];
    let file = |name: &str, sep: &str, comma: bool, header: &str, units: Option<&str>| {
        let mut text = format!("{}\n", header.replace(',', sep));
        if let Some(u) = units {
            text.push_str(&format!("{}\r\n", u.replace(',', sep)));
        }
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| {
                    if comma {
                        c.replace('.', ",")
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            text.push_str(&format!("{}\n", cells.join(sep)));
        }
        let path = dir.path().join(name);
        write(&path, &text);
        path
    };
    let named = "time_s,EMG UT L [uV],force (N)";
    let bare = "time_s,EMG UT L,force";
    let reference = load(&file("comma.csv", ",", false, named, None));
    assert_eq!(reference.format, "CSV (`,`-separated)");
    let cases = [
        (
            file("semi.csv", ";", true, bare, Some("s,uV,N")),
            "CSV (`;`-separated, decimal commas, units row)",
        ),
        (
            file("semi_points.csv", ";", false, named, None),
            "CSV (`;`-separated, decimal points)",
        ),
        (
            file("tab.tsv", "\t", false, named, None),
            "CSV (tab-separated, decimal points)",
        ),
        (
            file("tab.txt", "\t", true, bare, Some(",uV,N")),
            "CSV (tab-separated, decimal commas, units row)",
        ),
        (
            file("tab.csv", "\t", false, named, Some("s,,")),
            "CSV (tab-separated, decimal points, units row)",
        ),
        (
            file("comma_units.csv", ",", false, bare, Some("s,uV,N")),
            "CSV (`,`-separated, units row)",
        ),
    ];
    for (path, format) in cases {
        let rec = load(&path);
        assert_eq!(rec.format, format, "{}", path.display());
        assert_eq!(rec.channels.len(), 2, "{format}");
        for (got, want) in rec.channels.iter().zip(&reference.channels) {
            assert_eq!(
                (&got.name, got.kind, &got.unit, got.fs_hz),
                (&want.name, want.kind, &want.unit, want.fs_hz),
                "{format}"
            );
            // Bit for bit, NaN included.
            let bits = |c: &palpa::model::Channel| -> Vec<u64> {
                c.samples.iter().map(|v| v.to_bits()).collect()
            };
            assert_eq!(bits(got), bits(want), "{format}: {}", got.name);
        }
    }
    assert_eq!(reference.channels[0].samples[1], -27.5);
    assert_eq!(reference.channels[1].samples[3], 12.125);
    assert_eq!(reference.channels[0].fs_hz, 1000.0);
}

/// A units row's units are the channels' (scaled as the header's would be), its `s` over
/// `time_s` is accepted, and a `time` column whose unit row says `s` is the time.
#[test]
fn a_units_row_gives_the_channels_units() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("units.csv");
    write(
        &path,
        "time;EMG UT L;Probe;angle\ns;mV;kg;deg\n0,0;1,5;2;10\n0,5;-1;2,5;11\n1,0;0;3;12\n",
    );
    let rec = load(&path);
    let [emg, probe, angle] = &rec.channels[..] else {
        panic!("{:?}", rec.channels);
    };
    assert_eq!(rec.channels[0].fs_hz, 2.0);
    assert_eq!((emg.kind, &emg.unit), (ChannelKind::Emg, &Unit::Microvolt));
    assert_eq!(emg.samples.to_vec(), [1500.0, -1000.0, 0.0]);
    assert_eq!(
        (probe.kind, &probe.unit),
        (ChannelKind::Force, &Unit::Newton)
    );
    assert_eq!(probe.samples[1], 2.5 * 9.806_65);
    assert_eq!(
        (angle.kind, &angle.unit),
        (ChannelKind::Other, &Unit::AsRecorded("deg".into()))
    );
}

/// An OpenSignals text export of EMG sensors: counts become mV by PLUX's transfer function,
/// then µV; `nSeq` and the digital columns are not channels; a second device's columns
/// follow the first's. Expected values from numpy 2.4.6:
/// `raw * 3 / 2**16 - 1.5` for raw [0, 32768, 65535, 40000] → [-1.5, 0, 1.49995422, 0.33105469] mV;
/// `(raw * 3.3 / 2**10 - 3.3 * 0.5) / 1.009` for raw [0, 512, 1023, 700]
/// → [-1.63528246, 0, 1.63208855, 0.60045528] mV.
#[test]
fn opensignals_emg_counts_become_microvolts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plux.txt");
    let header = r#"{"00:07:80:3B:46:61": {"sensor": ["EMG", "ECG"], "column": ["nSeq", "DI", "CH1", "CH2"], "device": "biosignalsplux", "position": 0, "sampling rate": 1000, "label": ["CH1", "CH2"], "resolution": [16, 16], "date": "2020-2-3", "time": "9:5:7.25"}, "20:16:11:02:85:30": {"sensor": ["EMGBITREV"], "column": ["nSeq", "I1", "I2", "O1", "O2", "A1"], "device": "bitalino_rev", "position": 1, "sampling rate": 1000, "label": ["A1"], "resolution": [4, 1, 1, 1, 1, 10]}}"#;
    let mut text =
        format!("# OpenSignals Text File Format. Version 1\r\n# {header}\r\n# EndOfHeader\r\n");
    for (i, (plux, bitalino)) in [(0, 0), (32768, 512), (65535, 1023), (40000, 700)]
        .iter()
        .enumerate()
    {
        text.push_str(&format!(
            "{i}\t0\t{plux}\t123\t{}\t0\t0\t1\t1\t{bitalino}\t\r\n",
            i % 16
        ));
    }
    write(&path, &text);
    let rec = load(&path);
    assert_eq!(
        rec.format,
        "OpenSignals text export (biosignalsplux, bitalino_rev)"
    );
    assert_eq!(
        (rec.start.as_deref(), rec.start_offset_s),
        (Some("2020-02-03T09:05:07"), 0.25)
    );
    let names: Vec<&str> = rec.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["EMG CH1", "CH2", "EMG A1"]);
    let close = |got: &Array1<f64>, want_mv: [f64; 4]| {
        for (g, w) in got.iter().zip(want_mv) {
            assert!((g - w * 1e3).abs() < 1e-5, "{got} against {want_mv:?} mV");
        }
    };
    let plux = &rec.channels[0];
    assert_eq!(
        (plux.kind, &plux.unit),
        (ChannelKind::Emg, &Unit::Microvolt)
    );
    close(&plux.samples, [-1.5, 0.0, 1.499_954_22, 0.331_054_69]);
    let [lo, hi] = plux.physical_range.unwrap();
    assert!((lo + 1500.0).abs() < 1e-9 && (hi - (1500.0 - 3e3 / 65536.0)).abs() < 1e-9);
    let ecg = &rec.channels[1];
    assert_eq!(
        (ecg.kind, &ecg.unit, ecg.samples[0]),
        (
            ChannelKind::Other,
            &Unit::AsRecorded("counts".into()),
            123.0
        )
    );
    close(
        &rec.channels[2].samples,
        [-1.635_282_46, 0.0, 1.632_088_55, 0.600_455_28],
    );
}

/// `.tsv` and `.txt` files are recordings; BIDS TSV sidecars beside them are not.
#[test]
fn discovery_takes_tsv_and_txt_but_not_tsv_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let table = "time_s\tEMG [uV]\n0\t1\n0.001\t2\n";
    for name in ["a.tsv", "b.txt", "c.csv"] {
        write(&dir.path().join(name), table);
    }
    write(
        &dir.path().join("a_channels.tsv"),
        "name\ttype\tunits\nEMG\tEMG\tuV\n",
    );
    write(&dir.path().join("a_events.tsv"), "onset\tduration\n0\t1\n");
    write(
        &dir.path().join("participants.tsv"),
        "participant_id\nsub-01\n",
    );
    let ids: Vec<String> = discover(dir.path())
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let a = discover(dir.path()).unwrap().remove(0);
    assert!(a.channels_tsv.is_some() && a.events_tsv.is_some());
    assert_eq!(load(&dir.path().join("a.tsv")).channels[0].samples[1], 2.0);
}
