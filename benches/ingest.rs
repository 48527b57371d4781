//! Ingest speed: every sample of a 1-hour, 8-channel, 2 kHz EDF (115 MB, written by palpa's
//! EDF writer into a temporary folder), and `inspect` of the same file, which reads only the
//! header and the annotation bytes. Goals (issue [1/7]): ≥ 300 MB/s of file; inspect well
//! under 50 ms. And every column of a 600 s Parquet recording (time, 8 sEMG channels and
//! force at 2 kHz, written by polars as `palpa simulate` writes it), read with polars.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ndarray::Array1;
use palpa::config::Config;
use palpa::ingest::edf::{self, Continuity, FileToWrite, SignalToWrite, Variant};
use palpa::ingest::table::{read_parquet, TimeRules};
use palpa::ingest::{self, source_of_file};
use polars::prelude::*;

const FS_HZ: usize = 2000;
const DURATION_S: usize = 3600;
const CHANNELS: usize = 8;

fn write_hour(path: &Path) {
    let n = FS_HZ * DURATION_S;
    let signals: Vec<Array1<f64>> = (0..CHANNELS)
        .map(|c| Array1::from_shape_fn(n, |i| ((i * (c + 3)) % 2001) as f64 - 1000.0))
        .collect();
    let labels: Vec<String> = (0..CHANNELS).map(|c| format!("EMG ch{c}")).collect();
    edf::write(
        path,
        &FileToWrite {
            variant: Variant::Edf,
            continuity: Continuity::Continuous,
            patient: "X X X X",
            recording: "Startdate X X X X",
            start_date: "21.11.26",
            start_time: "10.00.00",
            start_offset_s: 0.0,
            record_duration_s: 1.0,
            signals: signals
                .iter()
                .zip(&labels)
                .map(|(s, label)| SignalToWrite {
                    label,
                    unit: "uV",
                    physical_range: [-3276.8, 3276.7],
                    digital_range: [-32768, 32767],
                    samples_per_record: FS_HZ,
                    samples: s.view(),
                })
                .collect(),
            annotations: &[],
        },
    )
    .expect("bench file written");
}

/// 600 s at 2 kHz: `time_s`, eight noise-like sEMG columns and a force column.
fn write_parquet(path: &Path) {
    let n = FS_HZ * 600;
    let mut columns = vec![Column::new(
        "time_s".into(),
        (0..n)
            .map(|i| i as f64 / FS_HZ as f64)
            .collect::<Vec<f64>>(),
    )];
    for c in 0..=CHANNELS {
        let mut s = 0x9e37_79b9_7f4a_7c15_u64 ^ c as u64;
        let x: Vec<f64> = (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0
            })
            .collect();
        columns.push(Column::new(format!("ch{c} [uV]").into(), x));
    }
    let mut df = DataFrame::new(n, columns).expect("equal columns");
    ParquetWriter::new(std::fs::File::create(path).expect("bench file"))
        .finish(&mut df)
        .expect("bench file written");
}

fn ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("hour.edf");
    write_hour(&path);
    let bytes = std::fs::metadata(&path).expect("bench file").len();

    let mut group = c.benchmark_group("edf_1h_8ch_2khz");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.bench_function("read_all_samples", |b| {
        b.iter(|| edf::read(&path).expect("readable"))
    });
    group.finish();

    let source = source_of_file(&path).expect("source");
    let cfg = Config::default();
    c.bench_function("inspect_edf_1h_8ch_2khz", |b| {
        b.iter(|| ingest::describe(&source, &cfg).expect("describable"))
    });

    let path = dir.path().join("600s.parquet");
    write_parquet(&path);
    let rules = TimeRules {
        sidecar_fs_hz: None,
        gap_periods: 1.5,
    };
    let mut group = c.benchmark_group("parquet_600s_10col_2khz");
    group.sample_size(10);
    group.bench_function("read_all_columns", |b| {
        b.iter(|| read_parquet(&path, rules).expect("readable"))
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
