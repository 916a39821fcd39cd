//! Versioned rule sets for dengta: parsing, validation and pure score evaluation.
//!
//! # Brief overview
//!
//! - A rule file (TOML) is read into raw, serde-shaped structs (`raw.rs`) and then
//!   validated into a [`RuleSet`]; every problem is reported at once, each with the
//!   file, line and key ([`RuleError`]).
//! - A [`RuleBook`] holds several versions and answers which one is in force on a day
//!   (SPEC §10).
//! - [`RuleSet::evaluate`] turns the window counts of one store-day into indicator
//!   values, indicator scores, dimension scores, the basic score (or 99) and the star,
//!   in exact arithmetic (SPEC §4–§5). It knows nothing about events or query engines.
//!
//! ```
//! use dengta_rules::{RuleSet, WindowCounts, Verdict};
//! use dengta_model::Indicator;
//! let rules = RuleSet::default_rules();
//! let counts = |i: Indicator| match i {
//!     // 10 reviews averaging 4.8 stars.
//!     Indicator::DsrItem => WindowCounts { numerator: 48, denominator: 10 },
//!     _ => WindowCounts::EMPTY,
//! };
//! let day = rules.evaluate("home", &counts, false);
//! assert_eq!(day.verdict, Verdict::Scored);
//! assert_eq!(day.score_text(), "4.50");
//! ```
#![deny(missing_docs)]

mod book;
mod calendar;
mod curve;
mod error;
mod evaluate;
mod raw;
mod rule_set;
mod shares;
mod whatif;

pub use book::RuleBook;
pub use calendar::{CN_WORKDAYS_TOML, OutsideCalendar, WorkCalendar};
pub use curve::{Curve, Segment};
pub use error::{Error, Result, RuleError};
pub use evaluate::{DayScore, DefaultPassReason, DimensionOutcome, IndicatorOutcome, Verdict, WindowCounts};
pub use rule_set::{Assessment, CategoryRule, IndicatorRule, QualityRules, RefundTier, RuleSet, Star, StarBands};
pub use whatif::{FixStep, WhatIfError, fix_first, valid_range, what_if};

/// The rule file shipped with dengta: the SPEC's defaults.
pub const DEFAULT_RULES_TOML: &str = include_str!("../../../rules/default-1.toml");
/// The name under which the built-in default rule file is reported.
pub const DEFAULT_RULES_NAME: &str = "rules/default-1.toml (built in)";
