//! Domain vocabulary of dengta, shared by every other crate. No I/O, no query engine.
//!
//! # Brief overview
//!
//! - [`Day`]: a business day (a calendar date in the rule set's business time zone),
//!   stored as days since 1970-01-01 so it maps onto Arrow's `Date32`.
//! - [`UtcOffset`] turns an instant (epoch milliseconds) into its business [`Day`].
//! - [`Window`]: `W` business days ending on the day a score is "as of" (SPEC §2).
//! - [`Measure`]: a per-store, per-day partial aggregate (a sum and a count) that the
//!   engine computes once from the events; [`Indicator`]s are ratios of window sums of
//!   measures (SPEC §4).
//! - [`Dimension`]: the five service dimensions a score is made of (SPEC §4–§5).
//! - [`exact`]: exact rational arithmetic and the SPEC's rounding (half away from zero).
//!
//! ```
//! use dengta_model::{Day, UtcOffset, Window};
//! let offset = UtcOffset::parse("+08:00").unwrap();
//! // 2025-01-01T16:00:00Z is 2025-01-02 00:00 in Shanghai.
//! let day = offset.business_day(1_735_747_200_000);
//! assert_eq!(day.to_string(), "2025-01-02");
//! let window = Window::new(30);
//! assert_eq!(window.first_day(day).to_string(), "2024-12-04");
//! ```
#![deny(missing_docs)]

mod day;
mod dimension;
pub mod exact;
mod indicator;
mod measure;
mod rational;

pub use day::{Day, MS_PER_DAY, UtcOffset, Window};
pub use dimension::Dimension;
pub use indicator::{Better, Indicator, Term};
pub use measure::{Measure, MeasureSums};
