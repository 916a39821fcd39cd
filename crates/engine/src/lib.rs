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

/// `f` of every item, in the items' order, on a thread per core, the calling one
/// included (thread `t` takes items `t`, `t + threads`, …): for a few dozen files,
/// spawning a thread per item would cost more than the work. The first error is
/// returned.
pub(crate) fn on_every_core<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
    thread: &str,
) -> Result<Vec<R>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let threads = cores().min(items.len());
    let f = &f;
    let run = move |t: usize| items.iter().skip(t).step_by(threads).map(f).collect::<Result<Vec<R>>>();
    // The calling thread takes the first share: one thread fewer to start.
    let per_thread: Vec<Vec<R>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads).map(|t| scope.spawn(move || run(t))).collect();
        let first = run(0);
        std::iter::once(first).chain(handles.into_iter().map(|h| joined(h, thread))).collect::<Result<_>>()
    })?;
    // Item `i` is the `i / threads`-th result of thread `i % threads`.
    let mut results: Vec<_> = per_thread.into_iter().map(Vec::into_iter).collect();
    Ok((0..items.len()).filter_map(|i| results[i % threads].next()).collect())
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
}
