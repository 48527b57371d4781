//! The pipeline (DESIGN §1): [`process_recording`] strings the stages together for one
//! recording — [`signal::condition`](crate::signal::condition::condition), then
//! [`detect::analyse`](crate::detect::analyse()) — and is the one path every caller takes:
//! `palpa run`, `inspect --qc`, `export`, the tests, the benches and the fuzzers.
//! [`run_batch`] is the batch loop that feeds it recordings.

use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use ndarray::Array1;
use polars::prelude::{Column, DataFrame};

use crate::config::Config;
use crate::detect::{analyse, RecordingResult};
use crate::error::{output_error, Error};
use crate::ingest::{self, IngestError, RecordingInfo};
use crate::model::{time_axis_s, ChannelKind, Recording};
use crate::output::{file_stem, unique_stem, write_parquet};
use crate::signal::condition::{condition, Conditioned, RecordingSignals};

/// A recording after every stage: what was read of it, its conditioned signals (for figures
/// and exports) and what was found.
#[derive(Debug)]
pub struct Processed {
    /// Channels, rates and annotations as read.
    pub info: RecordingInfo,
    /// Every channel after QC and conditioning.
    pub signals: RecordingSignals,
    /// Every finding, as plain values.
    pub result: RecordingResult,
    /// Seconds spent conditioning and analysing (for `run.json`, never a table).
    pub stage_s: [f64; 2],
}

/// Conditions and analyses one recording. The recording's EMG and force samples move into
/// the conditioned signals (see [`condition`]).
pub fn process_recording(rec: &mut Recording, cfg: &Config) -> Processed {
    let clock = Instant::now();
    let info = ingest::info_of(rec);
    let signals = condition(rec, cfg);
    let conditioned_s = clock.elapsed().as_secs_f64();
    let result = analyse(rec, &signals, cfg);
    Processed {
        info,
        signals,
        result,
        stage_s: [conditioned_s, clock.elapsed().as_secs_f64() - conditioned_s],
    }
}

/// What `palpa inspect` shows of one file: its header facts, and with `qc` its channels'
/// quality and the mains frequency, from the samples conditioned as a run conditions them
/// (the first stage of [`process_recording`]).
///
/// # Errors
/// The file cannot be read as a recording.
pub fn inspect_file(
    source: &ingest::Source,
    cfg: &Config,
    qc: bool,
) -> Result<(RecordingInfo, Option<RecordingSignals>), IngestError> {
    if !qc {
        return Ok((ingest::describe(source, cfg)?, None));
    }
    let mut rec = ingest::load(source, cfg)?;
    let info = ingest::info_of(&rec);
    Ok((info, Some(condition(&mut rec, cfg))))
}

/// A channel of an exported recording that QC keeps out of analysis.
#[derive(Clone, Debug)]
pub struct ExportedRaw {
    /// The channel's name.
    pub channel: String,
    /// Its QC verdict and reasons, in words.
    pub why: String,
}

/// `palpa export`: one Parquet file per channel under `out`: `time_s`, `raw`
/// (unit-normalised), and for EMG `filtered`, `envelope`, `tkeo`, for force `lowpass`
/// (DESIGN §5). Returns the EMG and force channels exported raw only, with why.
///
/// # Errors
/// An unreadable recording, or an output folder that cannot be written.
pub fn export(
    source: &ingest::Source,
    out: &Path,
    cfg: &Config,
) -> Result<Vec<ExportedRaw>, Error> {
    let mut rec = ingest::load(source, cfg)?;
    let raw: Vec<Array1<f64>> = rec.channels.iter().map(|c| c.samples.clone()).collect();
    let signals = condition(&mut rec, cfg);
    std::fs::create_dir_all(out)
        .map_err(|e| output_error(out, format!("cannot create the output folder: {e}")))?;
    let mut used = Vec::new();
    let mut raw_only = Vec::new();
    for ((ch, raw), sig) in rec.channels.iter().zip(&raw).zip(&signals.channels) {
        let stem = unique_stem(file_stem(&ch.name), &mut used);
        let column = |name: &str, values: &Array1<f64>| Column::new(name.into(), values.to_vec());
        let mut columns = vec![
            column("time_s", &time_axis_s(raw.len(), ch.fs_hz, &rec.gaps)),
            column("raw", raw),
        ];
        match &sig.conditioned {
            Conditioned::Emg(e) => {
                columns.push(column("filtered", &e.filtered));
                columns.push(column("envelope", &e.envelope()));
                columns.push(column("tkeo", &e.tkeo()));
            }
            Conditioned::Force(f) => columns.push(column("lowpass", &f.lowpass)),
            Conditioned::None if matches!(ch.kind, ChannelKind::Emg | ChannelKind::Force) => {
                raw_only.push(ExportedRaw {
                    channel: ch.name.clone(),
                    why: format!("{}: {}", sig.qc.qc, sig.qc.reasons.join("; ")),
                });
            }
            Conditioned::None => {}
        }
        let mut df = DataFrame::new_infer_height(columns).map_err(|e| output_error(out, e))?;
        write_parquet(&out.join(format!("{stem}.parquet")), &mut df)?;
    }
    Ok(raw_only)
}

/// A recording as the batch loop's reader leaves it: finished already (resumed, or it could
/// not be read), or read and waiting for the pool.
pub enum Begun<L, T> {
    /// Its result is known.
    Done(T),
    /// Read; [`run_batch`]'s `complete` finishes it in the pool.
    Loaded(L),
}

/// The batch loop. Each item is begun on the calling thread — where recordings are read, as
/// polars decodes on its own threads and must not be called from rayon's — and completed in
/// `pool`. An item holds one of the pool's places from its read to its result, so memory is
/// bounded by the pool's threads, not by the dataset, and the next item is read while the
/// others are processed. `finished` is told of each result as it comes.
///
/// Returns the results in the items' order; after Ctrl-C (see [`interrupt`]) no further
/// item is begun, those in flight finish, and the results of the finished ones come back
/// in `Err`.
pub fn run_batch<S: Sync, L: Send, T: Send>(
    items: &[S],
    pool: &rayon::ThreadPool,
    begin: impl Fn(&S) -> Begun<L, T>,
    complete: impl Fn(&S, L) -> T + Sync,
    finished: impl Fn(&T) + Sync,
) -> Result<Vec<T>, Vec<T>> {
    let places = Places::new(pool.current_num_threads());
    let results = Mutex::new(Vec::with_capacity(items.len()));
    let finish = |i: usize, result: T| {
        finished(&result);
        lock(&results).push((i, result));
    };
    let (finish, complete) = (&finish, &complete);
    pool.in_place_scope(|scope| {
        for (i, item) in items.iter().enumerate() {
            let place = places.take();
            if interrupt::requested() {
                break;
            }
            match begin(item) {
                Begun::Done(result) => finish(i, result),
                Begun::Loaded(loaded) => scope.spawn(move |_| {
                    let _place = place;
                    finish(i, complete(item, loaded));
                }),
            }
        }
    });
    let mut results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
    results.sort_unstable_by_key(|&(i, _)| i);
    let results = results.into_iter().map(|(_, r)| r).collect();
    if interrupt::requested() {
        Err(results)
    } else {
        Ok(results)
    }
}

/// The places for items in flight: one per thread of the pool. An item takes one before it
/// is read and gives it back when its result is done.
struct Places {
    free: Mutex<usize>,
    given_back: Condvar,
}

/// A place taken from [`Places`]; dropping it gives it back.
struct Place<'a>(&'a Places);

impl Places {
    /// `count` places, at least one.
    fn new(count: usize) -> Places {
        Places {
            free: Mutex::new(count.max(1)),
            given_back: Condvar::new(),
        }
    }

    /// Waits until a place is free and takes it.
    fn take(&self) -> Place<'_> {
        let mut free = lock(&self.free);
        while *free == 0 {
            free = self
                .given_back
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Place(self)
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        *lock(&self.0.free) += 1;
        self.0.given_back.notify_one();
    }
}

/// The value behind `mutex`, also after a panic elsewhere: what it guards here (counts and
/// finished results) stays whole, since a panic is caught per recording, outside the lock.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Ctrl-C during a batch. The first SIGINT asks the batch to begin no more items: those in
/// flight finish (and keep their parts, so `--resume` goes on from there). A second Ctrl-C
/// ends palpa at once, with exit code 130.
pub mod interrupt {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, OnceLock};

    fn flag() -> &'static Arc<AtomicBool> {
        static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
        FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
    }

    /// Installs the handler; where the system refuses it, Ctrl-C keeps its default action.
    pub fn watch() {
        use signal_hook::consts::SIGINT;
        let installed =
            signal_hook::flag::register_conditional_shutdown(SIGINT, 130, flag().clone())
                .and_then(|_| signal_hook::flag::register(SIGINT, flag().clone()));
        if let Err(e) = installed {
            tracing::debug!("Ctrl-C handler not installed: {e}");
        }
    }

    /// Whether Ctrl-C has been pressed since [`watch`].
    pub fn requested() -> bool {
        flag().load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_waits_for_a_place_and_gets_the_one_given_back() {
        let places = Places::new(2);
        let first = places.take();
        let _second = places.take();
        std::thread::scope(|s| {
            let third = s.spawn(|| drop(places.take()));
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!third.is_finished(), "a third place was taken of two");
            drop(first);
            third.join().unwrap();
        });
        assert_eq!(*lock(&places.free), 1, "the third gave its place back");
    }

    #[test]
    fn a_batch_returns_every_result_in_the_items_order() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let items: Vec<u64> = (0..20).collect();
        let seen = Mutex::new(0);
        let results = run_batch(
            &items,
            &pool,
            |&i| {
                if i % 3 == 0 {
                    Begun::Done(i * 10)
                } else {
                    Begun::Loaded(i)
                }
            },
            |_, i| {
                std::thread::sleep(std::time::Duration::from_millis(20 - i));
                i * 10
            },
            |_| *lock(&seen) += 1,
        );
        let expected: Vec<u64> = items.iter().map(|i| i * 10).collect();
        assert_eq!(results.ok(), Some(expected));
        assert_eq!(*lock(&seen), 20);
    }
}
