//! Work taken in turns by plain threads, outside rayon's pool, where polars must be called
//! (peers.md: polars #8441, #22159): the readers of a recording's columns or records, and
//! the writers of a run's tables.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// `work` on each item, on `threads` threads that each take the next item not yet taken,
/// with the results in the items' order. The calling thread is one of them: a thread
/// spawned onto an idle core of this project's VM waited 1–2 ms to run (`perf sched
/// timehist`), and the caller would only have waited. After an error no further item is
/// taken; every item before it was, so the first error in order is the one a single
/// thread meets.
pub(crate) fn in_turns<T: Send, R: Send, E: Send>(
    items: Vec<T>,
    threads: usize,
    work: impl Fn(T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E> {
    if threads <= 1 {
        return items.into_iter().map(work).collect();
    }
    let workers = threads.min(items.len());
    let queue = Mutex::new(items.into_iter().enumerate());
    let failed = AtomicBool::new(false);
    let take = || {
        if failed.load(Ordering::Relaxed) {
            None
        } else {
            queue.lock().ok()?.next()
        }
    };
    let turns = || {
        let mut mine = Vec::new();
        while let Some((i, item)) = take() {
            let result = work(item);
            failed.fetch_or(result.is_err(), Ordering::Relaxed);
            mine.push((i, result));
        }
        mine
    };
    let mut done: Vec<(usize, Result<R, E>)> = std::thread::scope(|s| {
        let others: Vec<_> = (1..workers).map(|_| s.spawn(turns)).collect();
        let mut done = turns();
        for other in others {
            done.extend(
                other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        done
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_taken_on_several_threads_come_back_in_order_with_the_first_error() {
        // Later items finish first, so the order is the sort's, not the threads'.
        let slow_early = |i: usize| {
            std::thread::sleep(std::time::Duration::from_micros(300 * (20 - i as u64)));
            if i == 7 || i == 12 {
                Err(format!("column {i}"))
            } else {
                Ok(i * 10)
            }
        };
        let items: Vec<usize> = (0..20).collect();
        let good: Vec<usize> = (0..7).collect();
        for threads in [1, 2, 4] {
            let read = in_turns(good.clone(), threads, slow_early).unwrap();
            assert_eq!(
                read,
                (0..7).map(|i| i * 10).collect::<Vec<_>>(),
                "{threads} threads"
            );
            let error = in_turns(items.clone(), threads, slow_early).unwrap_err();
            assert_eq!(error, "column 7", "{threads} threads");
        }
    }
}
