//! Importers from public marketplace datasets into dengta's dataset format (SPEC §3).
//!
//! # Brief overview
//!
//! [`olist::import`] turns the Olist Brazilian e-commerce dataset (real, anonymised
//! marketplace data; see `shared/data/olist/README.md`) into `stores.csv`,
//! `orders.csv` and `reviews.csv`, following the mapping that README gives, and
//! reports every row it skips and why. Olist has no chats, refunds, disputes or
//! complaints, so only the product and logistics dimensions have data.
#![deny(missing_docs)]

pub mod olist;

/// Import failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The source data is not what the importer expects.
    #[error("{path}: {message}")]
    Source {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}
