//! A dataset through the pipeline (DESIGN §4, §7): `palpa run` ([`run_dataset`]) feeds every
//! recording of a dataset, or of one shard of it, to [`process_recording`] through the
//! batch loop, keeps each recording's row as a part ([`parts`]) for `--resume` and
//! `palpa merge` ([`merge`]), and writes the tables, figures, report and `run.json`
//! ([`write_outputs`], the same for both).

pub mod merge;
pub mod parts;
pub mod shard;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use crate::config::Config;
use crate::error::{output_error, Error, Outcome};
use crate::ingest::{self, Source};
use crate::model::{Recording, RecordingMeta};
use crate::output::{
    relative, remove_temporaries, resolved, temporary_name, write_atomically, write_bytes,
    write_table, TableFormat,
};
use crate::pipeline::{process_recording, run_batch, Begun};
use crate::report;
use crate::summary::{self, InputFile, RecordingSummary};
pub use merge::{merge, MergeOptions};
use parts::{Manifest, PartStore, STATE_DIR};
pub use shard::Shard;

/// What `palpa run` is asked to do.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The dataset folder.
    pub dataset: PathBuf,
    /// The output folder; `None` for `reports/<dataset name>`.
    pub out: Option<PathBuf>,
    /// The resolved configuration.
    pub config: Config,
    /// Table file format.
    pub format: TableFormat,
    /// Whether figures are drawn.
    pub plots: bool,
    /// Threads; `None` for every core.
    pub jobs: Option<usize>,
    /// Only this share of the dataset.
    pub shard: Option<Shard>,
    /// Reuse the parts the output folder holds for the same inputs and configuration.
    pub resume: bool,
}

impl RunOptions {
    /// The dataset's root folder and its name. A file is a dataset of one recording, rooted
    /// where its sidecars are looked for from (its BIDS root, else its folder) and named by
    /// its stem.
    pub fn dataset_root(&self) -> (PathBuf, String) {
        let (root, name) = match self.dataset.canonicalize() {
            Ok(path) if path.is_file() => (
                crate::ingest::discover::root_of_file(&path),
                path.file_stem().map(|n| n.to_string_lossy().into_owned()),
            ),
            Ok(path) => (
                self.dataset.clone(),
                path.file_name().map(|n| n.to_string_lossy().into_owned()),
            ),
            Err(_) => (self.dataset.clone(), None),
        };
        (root, name.unwrap_or_else(|| "dataset".into()))
    }

    /// Where the run writes: `out`, else `reports/<dataset name>`.
    pub fn output_folder(&self) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| PathBuf::from("reports").join(self.dataset_root().1))
    }
}

/// `palpa run`: every recording of a dataset (or of one shard of it) through every stage,
/// recordings in parallel, then the tables. A recording that fails becomes a `failed` row;
/// the others are written. `started` is told how many recordings the run has, once they are
/// found; `finished` is told of each as it is done.
///
/// # Errors
/// An unreadable dataset folder, an output folder inside the dataset or one that cannot be
/// written, Ctrl-C before the end ([`Error::Interrupted`]).
pub fn run_dataset(
    opts: &RunOptions,
    started: impl FnOnce(usize),
    finished: impl Fn(&RecordingSummary) + Sync,
) -> Result<Outcome, Error> {
    let cfg = &opts.config;
    let (dataset, name) = opts.dataset_root();
    let dataset = &dataset;
    let out = opts.output_folder();
    let clock = Instant::now();
    let sources = ingest::discover(&opts.dataset)?;
    if sources.is_empty() {
        return Err(Error::NothingToRead {
            dataset: dataset.clone(),
            found: ingest::census(dataset),
        });
    }
    let sources: Vec<Source> = sources
        .into_iter()
        .filter(|s| opts.shard.is_none_or(|shard| shard.takes(&s.id)))
        .collect();
    let discovered_s = clock.elapsed().as_secs_f64();
    if let Ok(d) = dataset.canonicalize() {
        if resolved(&out).starts_with(&d) {
            return Err(output_error(
                &out,
                "is inside the input dataset; palpa never writes there",
            ));
        }
    }
    let plots_dir = prepare_output(&out, opts.plots)?;
    started(sources.len());
    let store = PartStore::open(&out, cfg, plots_dir.is_some())?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .build()
        .map_err(|e| output_error(&out, format!("cannot start the threads: {e}")))?;
    let recording = Recordings {
        dataset,
        cfg,
        out: &out,
        plots: plots_dir.as_deref(),
        store: &store,
        resume: opts.resume,
    };
    crate::pipeline::interrupt::watch();
    let rows = run_batch(
        &sources,
        &pool,
        |source| recording.begin(source),
        |source, loaded| recording.complete(source, loaded),
        |(row, resumed)| {
            let resumed = if *resumed { " (resumed)" } else { "" };
            tracing::info!("{}: {}{resumed}", row.id, summary::status(row));
            finished(row);
        },
    );
    let rows = rows.map_err(|done| Error::Interrupted {
        done: done.len(),
        total: sources.len(),
        out: out.clone(),
    })?;
    let resumed = rows.iter().filter(|(_, r)| *r).count();
    let rows: Vec<RecordingSummary> = rows.into_iter().map(|(row, _)| row).collect();
    let manifest = Manifest {
        palpa_version: env!("CARGO_PKG_VERSION").into(),
        dataset: dataset.canonicalize().unwrap_or(dataset.clone()),
        name,
        config_toml: cfg.to_toml(),
        plots: plots_dir.is_some(),
        shard: opts.shard,
        recordings: rows.iter().map(|r| r.path.clone()).collect(),
    };
    let timings = json!({
        "discover": discovered_s,
        "recordings": clock.elapsed().as_secs_f64() - discovered_s,
    });
    let extra = json!({"shard": opts.shard, "resumed": resumed});
    write_outputs(
        &rows,
        &manifest,
        &Written {
            cfg,
            out: &out,
            format: opts.format,
            plots: plots_dir.as_deref(),
            store: &store,
        },
        timings,
        extra,
    )
}

/// Creates the output folder (and `plots/` when figures are drawn), removing what an
/// interrupted run left under temporary names; returns the plots folder.
fn prepare_output(out: &Path, plots: bool) -> Result<Option<PathBuf>, Error> {
    std::fs::create_dir_all(out)
        .map_err(|e| output_error(out, format!("cannot create the output folder: {e}")))?;
    // Find out now, not after an hour of work, that nothing can be written here.
    let probe = temporary_name(&out.join("write-test"));
    std::fs::File::create(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| output_error(out, format!("cannot write in the output folder: {e}")))?;
    remove_temporaries(out);
    remove_temporaries(&out.join(STATE_DIR));
    remove_temporaries(&out.join(STATE_DIR).join("parts"));
    if !plots {
        return Ok(None);
    }
    let dir = out.join("plots");
    std::fs::create_dir_all(&dir)
        .map_err(|e| output_error(&dir, format!("cannot create the plots folder: {e}")))?;
    remove_temporaries(&dir);
    Ok(Some(dir))
}

/// Where and how a batch's outputs are written.
struct Written<'a> {
    cfg: &'a Config,
    out: &'a Path,
    format: TableFormat,
    plots: Option<&'a Path>,
    store: &'a PartStore,
}

/// Everything a batch writes once its recordings are done, the same for `run` and `merge`:
/// the tables, `methods.md`, the summary figures, `report.html`, the manifest and
/// `run.json` (with `timings` so far and the command's `extra` fields).
fn write_outputs(
    rows: &[RecordingSummary],
    manifest: &Manifest,
    to: &Written<'_>,
    timings: serde_json::Value,
    extra: serde_json::Value,
) -> Result<Outcome, Error> {
    let (cfg, out) = (to.cfg, to.out);
    let clock = Instant::now();
    let failed = rows.iter().filter(|r| r.result.is_err()).count();
    for r in rows.iter().filter(|r| r.result.is_err()) {
        // The error names the file itself.
        tracing::error!("{}", r.result.as_ref().err().map_or("", String::as_str));
    }
    for (r, why) in rows
        .iter()
        .filter_map(|r| Some((r, r.result.as_ref().ok()?.skipped.as_ref()?)))
    {
        tracing::warn!("{}: skipped: {why}", r.path);
    }
    // A sidecar shared by many recordings is warned about once.
    let warnings: std::collections::BTreeSet<&String> =
        rows.iter().flat_map(|r| &r.meta.warnings).collect();
    for w in warnings {
        tracing::warn!("{w}");
    }
    to.store.retain(&manifest.recordings)?;
    manifest.write(out)?;

    let mut tables = summary::Tables::build(rows).map_err(|e| output_error(out, e))?;
    for (name, df) in tables.each_mut() {
        write_table(out, name, df, to.format)?;
    }
    let tables_s = clock.elapsed().as_secs_f64();
    write_bytes(
        &out.join("methods.md"),
        report::methods::methods_markdown(cfg, tables.notched_channels()).as_bytes(),
    )?;
    let summary_figures = match to.plots {
        Some(dir) => report::plots::summary_figures(
            &tables.muscles,
            &tables.therapists,
            &cfg.report.healthy_ppt_kpa,
            cfg.audit.hold_window_s,
            dir,
        )
        .map_err(|e| output_error(dir, e))?
        .into_iter()
        .map(|(title, stem)| (title, format!("plots/{stem}")))
        .collect(),
        None => Vec::new(),
    };
    let view = report::html::build_view(report::html::ReportInputs {
        dataset: &manifest.name,
        rows,
        tables: &tables,
        summary_figures: &summary_figures,
        out,
        cfg,
    });
    let html =
        report::html::render(&view).map_err(|e| output_error(&out.join("report.html"), e))?;
    write_bytes(&out.join("report.html"), html.as_bytes())?;
    let report_s = clock.elapsed().as_secs_f64() - tables_s;
    let stage_total = |k: usize| rows.iter().map(|r| r.stage_s[k]).sum::<f64>();
    let mut timings = timings;
    timings["tables"] = json!(tables_s);
    timings["report"] = json!(report_s);
    let mut run_json = json!({
        "palpa_version": manifest.palpa_version,
        "dataset": manifest.dataset,
        "config": cfg,
        "recordings": rows.len(),
        "failed": failed,
        "inputs": rows.iter().flat_map(|r| r.inputs.iter().map(|(path, bytes, sha256)| {
            json!({"path": path, "bytes": bytes, "sha256": sha256})
        })).collect::<Vec<_>>(),
        "timings_s": {
            "wall": timings,
            "summed_over_recordings": {"load": stage_total(0), "condition": stage_total(1), "analyse": stage_total(2)},
        },
        "failures": rows.iter().filter_map(|r| r.result.as_ref().err().map(|e| json!({"recording": r.id, "path": r.path, "error": e}))).collect::<Vec<_>>(),
        "settings": rows.iter().filter(|r| r.result.is_ok()).map(|r| {
            let m = &r.meta;
            json!({
                "recording": r.id,
                "power_line_hz": m.powerline_hz,
                "probe_area_cm2": m.probe_area_cm2,
                "sampling_frequency_hz": m.sampling_frequency_hz,
                "therapist": m.therapist,
                "palpated_muscle": m.palpated_muscle.as_ref().map(|x| x.as_str()),
                "palpated_side": m.palpated_side.map(|x| x.as_str()),
                "from": m.origin,
                "notes": m.notes(),
            })
        }).collect::<Vec<_>>(),
    });
    if let (Some(run), Some(extra)) = (run_json.as_object_mut(), extra.as_object()) {
        run.extend(extra.clone());
    }
    write_atomically(&out.join("run.json"), |file| {
        use std::io::Write as _;
        writeln!(file, "{run_json:#}")
    })?;
    let skipped = rows
        .iter()
        .filter(|r| summary::status(r) == "skipped")
        .count();
    Ok(Outcome {
        done: rows.len() - failed - skipped,
        skipped,
        failed,
    })
}

/// What every recording of a `palpa run` shares, and the two halves of its work.
struct Recordings<'a> {
    dataset: &'a Path,
    cfg: &'a Config,
    out: &'a Path,
    plots: Option<&'a Path>,
    store: &'a PartStore,
    resume: bool,
}

/// A recording read by [`Recordings::begin`]: the recording, the seconds its read took, and
/// its inputs' fingerprints when `--resume` made them already.
type Loaded = (Recording, f64, Option<Vec<InputFile>>);

/// A recording's row, and whether it was resumed from its part.
type Finished = (RecordingSummary, bool);

impl Recordings<'_> {
    /// The first half, on the batch loop's reader: with `--resume`, the stored row when
    /// the part was made from the same inputs and configuration (with its figures still
    /// there); else the recording read, or its row when it cannot be. A stored failure is
    /// tried again: it may have been a file that was being copied, or a full disk.
    fn begin(&self, source: &Source) -> Begun<Loaded, Finished> {
        let inputs = self.resume.then(|| self.fingerprints(source));
        if let Some(row) = inputs.as_ref().and_then(|i| self.stored(source, i)) {
            return Begun::Done((row, true));
        }
        let clock = Instant::now();
        let loaded = guarded(source, || {
            ingest::load(source, self.cfg).map_err(|e| e.to_string())
        });
        let load_s = clock.elapsed().as_secs_f64();
        match loaded {
            Ok(rec) => Begun::Loaded((rec, load_s, inputs)),
            Err(message) => {
                let inputs = inputs.unwrap_or_else(|| self.fingerprints(source));
                Begun::Done((self.kept(self.failed(source, message), inputs), false))
            }
        }
    }

    /// The second half, in the pool: processed, drawn, and its row stored for `--resume`
    /// and `palpa merge`.
    fn complete(&self, source: &Source, (rec, load_s, inputs): Loaded) -> Finished {
        let row = guarded(source, || Ok(self.process(source, rec, load_s)))
            .unwrap_or_else(|message| self.failed(source, message));
        let inputs = inputs.unwrap_or_else(|| self.fingerprints(source));
        (self.kept(row, inputs), false)
    }

    /// [`process_recording`], then the recording's figures.
    fn process(&self, source: &Source, mut rec: Recording, load_s: f64) -> RecordingSummary {
        let processed = process_recording(&mut rec, self.cfg);
        let mut row = self.row(source);
        if let Some(dir) = self.plots {
            match report::plots::recording_figures(&rec, &processed, self.cfg, dir) {
                Ok(figures) => row.figures = figures,
                Err(e) => tracing::warn!("{}: figures not drawn: {e}", rec.path.display()),
            }
        }
        let [condition_s, analyse_s] = processed.stage_s;
        RecordingSummary {
            info: Some(processed.info),
            result: Ok(processed.result),
            stage_s: [load_s, condition_s, analyse_s],
            meta: rec.meta,
            ..row
        }
    }

    /// Size and SHA-256 of each of the recording's files that can be read (the recording
    /// and its sidecars), named relative to the dataset: the key of its stored part.
    fn fingerprints(&self, source: &Source) -> Vec<InputFile> {
        std::iter::once(&source.path)
            .chain(&source.json)
            .chain(&source.channels_tsv)
            .chain(&source.events_tsv)
            .filter_map(|p| {
                let (bytes, sha256) = ingest::fingerprint(p).ok()?;
                Some((relative(self.dataset, p), bytes, sha256))
            })
            .collect()
    }

    /// `row` with its inputs, stored as a part.
    fn kept(&self, mut row: RecordingSummary, inputs: Vec<InputFile>) -> RecordingSummary {
        row.inputs = inputs;
        if let Err(e) = self.store.put(&row, &self.store.key(&row.inputs)) {
            tracing::warn!("{e}: a resumed run or a merge will process this recording again");
        }
        row
    }

    /// The stored row of `source` when its part was made from the same inputs and
    /// configuration, succeeded, and its figures are still there.
    fn stored(&self, source: &Source, inputs: &[InputFile]) -> Option<RecordingSummary> {
        self.store
            .get(
                &relative(self.dataset, &source.path),
                &self.store.key(inputs),
            )
            .filter(|row| {
                row.result.is_ok()
                    && row.figures.iter().all(|(_, stem)| {
                        ["svg", "png"]
                            .iter()
                            .all(|ext| self.out.join(format!("{stem}.{ext}")).is_file())
                    })
            })
    }

    /// The row of `source` when it failed with `message`.
    fn failed(&self, source: &Source, message: String) -> RecordingSummary {
        RecordingSummary {
            result: Err(message),
            ..self.row(source)
        }
    }

    /// The row of `source` before anything is known of its contents.
    fn row(&self, source: &Source) -> RecordingSummary {
        RecordingSummary {
            id: source.id.clone(),
            path: relative(self.dataset, &source.path),
            meta: RecordingMeta {
                subject: source.entities.subject.clone(),
                session: source.entities.session.clone(),
                task: source.entities.task.clone(),
                run: source.entities.run.clone(),
                ..RecordingMeta::default()
            },
            info: None,
            result: Err(String::new()),
            inputs: Vec::new(),
            stage_s: [0.0; 3],
            figures: Vec::new(),
        }
    }
}

/// `work`, with a panic caught. A panic is a bug in palpa, never the input's fault, but it
/// must still cost only this recording: it becomes the recording's error and the batch goes
/// on.
fn guarded<T>(source: &Source, work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!(
            "{}: palpa failed on this recording (a bug, please report it with the file): \
             {message}",
            source.path.display()
        ))
    })
}
