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

/// What a scoped thread returned; its panic becomes an internal error naming it.
pub(crate) fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, Result<T>>, thread: &str) -> Result<T> {
    handle.join().unwrap_or_else(|_| Err(Error::Internal(format!("{thread} panicked"))))
}

/// The threads worth running CPU-bound work on: the cores this process may use.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
