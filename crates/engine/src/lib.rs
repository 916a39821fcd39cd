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

/// What a scoped thread returned; its panic becomes an internal error naming it.
pub(crate) fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, Result<T>>, thread: &str) -> Result<T> {
    handle.join().unwrap_or_else(|_| Err(Error::Internal(format!("{thread} panicked"))))
}

/// `f` of every item, in the items' order, on a thread per core (see [`on_threads`]).
pub(crate) fn on_every_core<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
    thread: &str,
) -> Result<Vec<R>> {
    on_threads(cores(), items, f, thread)
}

/// `f` of every item, in the items' order, on up to `threads` threads, the calling
/// one included (one thread fewer to start): each takes the next item no thread has
/// taken, so a long item does not hold up the others'. For a few dozen files,
/// spawning a thread per item would cost more than the work. A thread stops at its
/// first error; an error (or a thread's panic, named by `thread`) is returned.
pub(crate) fn on_threads<T: Sync, R: Send>(
    threads: usize,
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
    thread: &str,
) -> Result<Vec<R>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let threads = threads.clamp(1, items.len());
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
    // Every thread is joined before any error is looked at.
    let per_thread: Vec<Result<Vec<(usize, R)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads).map(|_| scope.spawn(run)).collect();
        let mine = run();
        std::iter::once(mine).chain(handles.into_iter().map(|h| joined(h, thread))).collect()
    });
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
    let workers = Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the worker threads: {e}")))?;
    let done = workers.spawn(work).await;
    // Dropped here, in async code, a runtime would block; its threads end on their own.
    workers.shutdown_background();
    done.map_err(|e| Error::Internal(format!("the aggregation's task failed: {e}")))?
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
    }
}
