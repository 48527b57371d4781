//! One recording through palpa's stages: load, then [`process_recording`] (conditioning and
//! analysis, the path `palpa run` takes) of a 600 s recording of 8 sEMG channels at 2 kHz
//! plus force, simulated into a temporary folder. Each stage runs on the process's rayon
//! pool (all cores); `RAYON_NUM_THREADS=1 cargo bench --bench stages` gives one thread.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use palpa::config::Config;
use palpa::ingest;
use palpa::process_recording;
use palpa::simulate::{write_dataset, RecordingFormat, SimulateOptions};

fn stages(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let dataset = dir.path().join("sim");
    let cfg = Config::default();
    let opts = SimulateOptions {
        seed: 11,
        subjects: 1,
        format: RecordingFormat::Edf,
        rest_rms_uv: None,
        ecg: true,
        mains: true,
        duration_s: Some(600.0),
        emg_channels: 8,
        emg_fs_hz: Some(2000.0),
        ..SimulateOptions::default()
    };
    write_dataset(&dataset, &opts, &cfg).expect("a simulated dataset");
    let source = ingest::discover(&dataset)
        .expect("the simulated dataset")
        .into_iter()
        .next()
        .expect("one recording at least");
    let rec = ingest::load(&source, &cfg).expect("a valid recording");

    let mut group = c.benchmark_group("recording_600s_8x2khz");
    group.sample_size(10);
    group.bench_function("load_edf", |b| {
        b.iter(|| ingest::load(&source, &cfg).expect("a valid recording"))
    });
    group.bench_function("process_recording", |b| {
        b.iter_batched(
            || rec.clone(),
            |mut r| process_recording(&mut r, &cfg),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
