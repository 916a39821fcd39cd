//! Seeded generator of realistic synthetic dengta datasets (SPEC §3 tables as CSV).
//!
//! # Brief overview
//!
//! [`generate`] writes `stores.csv`, the six event tables and `exemptions.csv` into a
//! folder. Stores differ in quality (which drives pickup delays, review scores,
//! refund times, chat replies, disputes and complaints) and in volume (a few are
//! tiny, so some of their windows have no data). When there are enough stores, the
//! first ones get special roles: a `telecom` store (not assessed), a store in a
//! category the rules do not know, a store that never completed onboarding, a store
//! that terminates mid-period, one that opens mid-period, a tiny one, one removed
//! for violations; and there are exemptions of each scope. The same [`Params`]
//! always give byte-identical files (ChaCha8 from the seed).
//!
//! ```no_run
//! let params = dengta_synth::Params { stores: 50, days: 90, seed: 7, ..Default::default() };
//! let counts = dengta_synth::generate(&params, std::path::Path::new("dataset")).unwrap();
//! println!("{} orders", counts.orders);
//! ```
#![deny(missing_docs)]

mod events;
mod roles;

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use chrono::NaiveDate;

pub use roles::Role;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Params {
    /// Number of stores.
    pub stores: u32,
    /// Number of days of events.
    pub days: u32,
    /// First day of events.
    pub start: NaiveDate,
    /// Random seed.
    pub seed: u64,
    /// Mean orders per store per day for a store of ordinary volume.
    pub orders_per_day: f64,
    /// Share of timestamps written in UTC (`Z`) or epoch milliseconds instead of +08:00.
    pub mixed_timestamps: f64,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            stores: 100,
            days: 120,
            start: NaiveDate::from_ymd_opt(2025, 1, 1).expect("a valid date"),
            seed: 1,
            orders_per_day: 8.0,
            mixed_timestamps: 0.05,
        }
    }
}

/// Rows written per table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Stores.
    pub stores: u64,
    /// Orders.
    pub orders: u64,
    /// Reviews.
    pub reviews: u64,
    /// Chats.
    pub chats: u64,
    /// Refunds.
    pub refunds: u64,
    /// Disputes.
    pub disputes: u64,
    /// Complaints.
    pub complaints: u64,
    /// Exemptions.
    pub exemptions: u64,
}

/// Generation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The parameters make no dataset.
    #[error("{0}")]
    InvalidParams(String),
}

/// Writes a dataset into `out` (created if missing) and returns the row counts.
pub fn generate(params: &Params, out: &Path) -> Result<Counts, Error> {
    if params.stores == 0 || params.days == 0 {
        return Err(Error::InvalidParams("--stores and --days must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&params.mixed_timestamps) || params.orders_per_day <= 0.0 {
        return Err(Error::InvalidParams("mixed timestamps must be a share 0..=1 and orders per day positive".into()));
    }
    std::fs::create_dir_all(out).map_err(|source| Error::Io { path: out.display().to_string(), source })?;
    let stores = roles::plan_stores(params);
    let mut w = events::Writers::create(out)?;
    let mut counts = events::write_all(params, &stores, &mut w)?;
    counts.stores = stores.len() as u64;
    counts.exemptions = roles::write_exemptions(params, &stores, &mut w.exemptions)?;
    w.finish()?;
    Ok(counts)
}

pub(crate) type CsvOut = csv::Writer<BufWriter<File>>;

pub(crate) fn csv_error(path: &str) -> impl Fn(csv::Error) -> Error + '_ {
    move |e| Error::Io { path: path.to_string(), source: std::io::Error::other(e.to_string()) }
}
