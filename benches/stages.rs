//! The stages of one recording (issue [5/7]): load, condition (QC, filters, spectra) and
//! analyse (episodes, taut-band evidence, the LTR detector, the audit) of a 600 s recording
//! of 8 sEMG channels at 2 kHz plus force, simulated by `palpa simulate` into a temporary
//! folder, as `benches/compare/scale.py` makes it. Each stage runs on the rayon pool of the
//! process (all cores); `RAYON_NUM_THREADS=1 cargo bench --bench stages` gives one thread.
//! `palpa run` spends, besides these, the inputs' SHA-256 and writing the tables.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use palpa::cli::SimulateArgs;
use palpa::config::Config;
use palpa::ingest;
use palpa::pipeline::{analyse, condition, simulate};
use palpa::simulate::RecordingFormat;

fn stages(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let dataset = dir.path().join("sim");
    simulate(&SimulateArgs {
        out: dataset.clone(),
        seed: 11,
        subjects: 1,
        format: RecordingFormat::Edf,
        noise_uv: None,
        no_ecg: false,
        no_mains: false,
        duration_s: Some(600.0),
        emg_channels: 8,
        emg_fs_hz: Some(2000.0),
        config: None,
    })
    .expect("a simulated dataset");
    let cfg = Config::default();
    let source = ingest::discover(&dataset)
        .expect("the simulated dataset")
        .into_iter()
        .next()
        .expect("one recording at least");
    let rec = ingest::load(&source, &cfg).expect("a valid recording");
    let mut conditioned = rec.clone();
    let signals = condition(&mut conditioned, &cfg);

    let mut group = c.benchmark_group("recording_600s_8x2khz");
    group.sample_size(10);
    group.bench_function("load_edf", |b| {
        b.iter(|| ingest::load(&source, &cfg).expect("a valid recording"))
    });
    group.bench_function("condition", |b| {
        b.iter_batched(
            || rec.clone(),
            |mut r| condition(&mut r, &cfg),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("analyse", |b| {
        b.iter(|| analyse(&conditioned, &signals, &cfg))
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
