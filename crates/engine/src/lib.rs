//! dengta's engine: from a dataset directory to explained daily scores.
//!
//! # Brief overview
//!
//! The flow is read → aggregate per store-day → windows → scores → outputs:
//!
//! - [`reader::read_dataset`] reads every table of SPEC §3 from CSV or Parquet,
//!   checks each row ([`cell`], [`schema`]) and keeps the accepted ones as Arrow
//!   batches, with every reject accounted for.
//! - [`aggregate`] runs one DataFusion plan that sums every [`dengta_model::Measure`]
//!   per store and business day of its anchor instant.
//! - [`partials::DayPartials`] derives any rolling window from those daily partials.
//! - [`daily`] asks the rule version in force each day to score the window counts
//!   ([`dengta_rules::RuleSet::evaluate`]).
//! - [`output`] writes `daily_scores` (CSV and Parquet), rejects, partials and the
//!   run manifest; [`explain`] reads a run back and explains one store-day.
//!
//! ```no_run
//! # async fn demo() -> dengta_engine::Result<()> {
//! use dengta_engine::{run, NoProgress};
//! use dengta_model::Day;
//! let (from, to) = (Day::parse("2025-01-01").unwrap(), Day::parse("2025-01-31").unwrap());
//! let req = run::ScoreRequest::new("dataset", from, to, "out");
//! let outcome = run::score(&req, &dengta_rules::RuleBook::default_book(), &NoProgress).await?;
//! println!("{} rows", outcome.rows.len());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod aggregate;
pub mod campaign;
pub mod cell;
pub mod daily;
pub mod dataset;
mod error;
pub mod explain;
pub mod gmv;
pub mod incremental;
pub mod output;
pub mod partials;
pub mod peers;
pub mod periods;
mod progress;
pub mod quality;
pub mod reader;
pub mod run;
pub mod schema;
pub mod source;
pub mod table_out;

pub use error::{Error, Result};
pub use progress::{NoProgress, Progress};

/// A hash map with a fast hasher, for keys that are not chosen by an adversary.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A hash set with a fast hasher, for keys that are not chosen by an adversary.
pub(crate) type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// `f` of every item, in the items' order, on a thread per core (see [`on_threads`]).
pub(crate) fn on_every_core<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
    thread: &str,
) -> Result<Vec<R>> {
    on_threads(cores(), items, f, thread)
}

/// `f` of every item, in the items' order, on up to `threads` threads, the calling
/// one included: each takes the next item no thread has taken, so a long item does
/// not hold up the others'. The other threads are the process's helpers for
/// processor work ([`Helpers::Cores`]), started at the first call and kept, so that
/// the dozen or so calls of a day's batch do not each start and end threads (40 to
/// 370 µs a thread on the machines measured). A thread stops at its first error; an
/// error (or a panic, named by `thread`) is returned.
pub(crate) fn on_threads<T: Sync, R: Send>(
    threads: usize,
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
    thread: &str,
) -> Result<Vec<R>> {
    with_helpers(Helpers::Cores, threads, items, f, thread)
}

/// The threads an [`on_threads`]-like call borrows besides the calling one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Helpers {
    /// One fewer than the cores: for work on the processor.
    Cores,
    /// [`output::SYNC_THREADS`]: for waits on the disk (fsync), kept apart so that
    /// processor work never queues behind them.
    Disk,
}

impl Helpers {
    pub(crate) fn pool(self) -> Option<&'static rayon_core::ThreadPool> {
        static CORES: std::sync::OnceLock<Option<rayon_core::ThreadPool>> = std::sync::OnceLock::new();
        static DISK: std::sync::OnceLock<Option<rayon_core::ThreadPool>> = std::sync::OnceLock::new();
        let (cell, threads, name) = match self {
            Helpers::Cores => (&CORES, cores() - 1, "dengta-cpu"),
            Helpers::Disk => (&DISK, output::SYNC_THREADS, "dengta-disk"),
        };
        // With no helper threads (one core, or none could be started), the calling
        // thread does all the work.
        cell.get_or_init(|| {
            (threads > 0)
                .then(|| {
                    rayon_core::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .thread_name(move |i| format!("{name}-{i}"))
                        .build()
                        .map_err(|e| tracing::warn!("no helper threads ({e}): working on one thread"))
                        .ok()
                })
                .flatten()
        })
        .as_ref()
    }
}

/// [`on_threads`] with the given `helpers`.
pub(crate) fn with_helpers<T: Sync, R: Send>(
    helpers: Helpers,
    threads: usize,
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
    thread: &str,
) -> Result<Vec<R>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let pool = helpers.pool();
    let threads = threads.clamp(1, items.len()).min(pool.map_or(1, |p| p.current_num_threads() + 1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (f, next) = (&f, &next);
    let run = move || -> Result<Vec<(usize, R)>> {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(i) else { return Ok(done) };
            done.push((i, f(item)?));
        }
    };
    let caught = |work: &dyn Fn() -> Result<Vec<(usize, R)>>| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .unwrap_or_else(|_| Err(Error::Internal(format!("{thread} panicked"))))
    };
    // Every helper is done before any error is looked at.
    let per_thread: Vec<Result<Vec<(usize, R)>>> = match pool {
        Some(pool) if threads > 1 => {
            /// What a helper did: the items it took, numbered.
            type Slot<R> = std::sync::Mutex<Option<Result<Vec<(usize, R)>>>>;
            let slots: Vec<Slot<R>> = (1..threads).map(|_| std::sync::Mutex::new(None)).collect();
            let mine = pool.in_place_scope(|scope| {
                for slot in &slots {
                    let (run, caught) = (&run, &caught);
                    scope.spawn(move |_| {
                        let done = caught(run);
                        *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(done);
                    });
                }
                caught(&run)
            });
            let helped = slots.into_iter().map(|slot| {
                slot.into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .unwrap_or_else(|| Err(Error::Internal(format!("{thread} did not report"))))
            });
            std::iter::once(mine).chain(helped).collect()
        }
        _ => vec![caught(&run)],
    };
    let mut all = Vec::with_capacity(items.len());
    for done in per_thread {
        all.extend(done?);
    }
    all.sort_unstable_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, r)| r).collect())
}

/// `work`'s result, `work` run on a multi-thread runtime: the calling one, or, when
/// called on a current-thread runtime, one started for it and left when it is done.
///
/// A day's `dengta ingest` runs on a current-thread runtime: a small batch is
/// aggregated without DataFusion's executor, and worker threads started for every
/// batch (a tenth of a millisecond or more, and their shutdown) would serve only the
/// large ones, which come here.
pub async fn on_worker_threads<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    use tokio::runtime::{Builder, Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() != RuntimeFlavor::CurrentThread {
        return work.await;
    }
    /// The started runtime, let go without waiting when done or when the caller
    /// drops the future: dropped in async code, a runtime would block (and panic).
    struct Workers(Option<tokio::runtime::Runtime>);
    impl Drop for Workers {
        fn drop(&mut self) {
            if let Some(runtime) = self.0.take() {
                runtime.shutdown_background();
            }
        }
    }
    let workers = Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the worker threads: {e}")))?;
    let workers = Workers(Some(workers));
    let task = workers.0.as_ref().map(|runtime| runtime.spawn(work));
    let task = task.ok_or_else(|| Error::Internal("the worker threads went away".into()))?;
    task.await.map_err(|e| Error::Internal(format!("the aggregation's task failed: {e}")))?
}

/// The threads worth running CPU-bound work on: the cores this process may use
/// (asked once: the standard library reads three cgroup files each time).
pub(crate) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_every_core_keeps_the_items_order_and_stops_at_an_error() {
        for n in [0, 1, 2, 7, 100] {
            let items: Vec<u64> = (0..n).collect();
            let squares = on_every_core(&items, |x| Ok(x * x), "a test thread").expect("no error");
            assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>());
        }
        let failed =
            on_every_core(&[1, 2, 3], |x| if *x == 2 { Err(Error::Internal("two".into())) } else { Ok(*x) }, "t");
        assert!(matches!(failed, Err(Error::Internal(m)) if m == "two"));
    }

    #[test]
    fn helpers_work_at_the_same_time_as_the_caller_and_a_panic_becomes_an_error() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::{Duration, Instant};
        // Each item waits (5 s at most) until all four have started: done only if
        // four threads, the caller and three kept helpers, run them at once.
        for _ in 0..3 {
            let started = AtomicUsize::new(0);
            let met = with_helpers(
                Helpers::Disk,
                output::SYNC_THREADS,
                &[0, 1, 2, 3],
                |_| {
                    started.fetch_add(1, Ordering::SeqCst);
                    let until = Instant::now() + Duration::from_secs(5);
                    while started.load(Ordering::SeqCst) < 4 && Instant::now() < until {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Ok((started.load(Ordering::SeqCst) == 4, std::thread::current().id()))
                },
                "a test thread",
            )
            .expect("no error");
            assert!(met.iter().all(|(all, _)| *all), "the four items ran at once");
            let threads: std::collections::HashSet<_> = met.iter().map(|(_, t)| *t).collect();
            assert_eq!(threads.len(), 4);
        }
        let panicked =
            with_helpers(Helpers::Disk, 2, &[1, 2], |x| if *x == 2 { panic!("two") } else { Ok(*x) }, "a test thread");
        assert!(matches!(panicked, Err(Error::Internal(m)) if m == "a test thread panicked"));
    }

    #[test]
    fn work_for_worker_threads_runs_on_a_multi_thread_runtime_whatever_the_caller() {
        use tokio::runtime::{Builder, Handle, RuntimeFlavor};
        let flavor = || async { Ok(Handle::current().runtime_flavor()) };
        for caller in [Builder::new_current_thread().build(), Builder::new_multi_thread().build()] {
            let caller = caller.expect("runtime");
            let ran_on = caller.block_on(on_worker_threads(flavor())).expect("no error");
            assert_eq!(ran_on, RuntimeFlavor::MultiThread);
        }
        let current = Builder::new_current_thread().build().expect("runtime");
        let failed = current.block_on(on_worker_threads(async { Err::<(), _>(Error::Internal("no".into())) }));
        assert!(matches!(failed, Err(Error::Internal(m)) if m == "no"));
        // Given up on before the work ends (a timeout), nothing blocks or panics.
        let never = on_worker_threads(async {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            Ok(())
        });
        let timed = Builder::new_current_thread().enable_time().build().expect("runtime");
        let gave_up = timed.block_on(async { tokio::time::timeout(std::time::Duration::from_millis(50), never).await });
        assert!(gave_up.is_err(), "the timeout ended it");
    }
}
