//! `dengta generate`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;

/// Write a realistic synthetic dataset: stores of varied quality and volume, with a
/// telecom store, an unknown category, a never-onboarded store, stores that open or
/// close during the period, a tiny store, a store removed for violations, and
/// exemptions of each scope (when --stores is at least 12). Seeded: the same
/// command writes the same files.
#[derive(clap::Args)]
pub struct Args {
    /// Output folder (created if missing).
    pub out: PathBuf,
    /// Number of stores.
    #[arg(long, default_value_t = 100)]
    pub stores: u32,
    /// Number of days of events.
    #[arg(long, default_value_t = 120)]
    pub days: u32,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// First day of events (YYYY-MM-DD).
    #[arg(long, default_value = "2025-01-01")]
    pub start: NaiveDate,
    /// Mean orders per store per day for a store of ordinary volume.
    #[arg(long, default_value_t = 8.0)]
    pub orders_per_day: f64,
}

pub fn run(args: Args) -> Result<()> {
    let counts = generate(&args)?;
    println!(
        "wrote {}: {} stores, {} orders, {} reviews, {} chats, {} refunds, {} disputes, {} complaints, {} exemptions",
        args.out.display(),
        counts.stores,
        counts.orders,
        counts.reviews,
        counts.chats,
        counts.refunds,
        counts.disputes,
        counts.complaints,
        counts.exemptions
    );
    Ok(())
}

pub fn generate(args: &Args) -> Result<dengta_synth::Counts> {
    let params = dengta_synth::Params {
        stores: args.stores,
        days: args.days,
        start: args.start,
        seed: args.seed,
        orders_per_day: args.orders_per_day,
        ..dengta_synth::Params::default()
    };
    dengta_synth::generate(&params, &args.out).with_context(|| format!("generating into {}", args.out.display()))
}
