//! `dengta ingest`.

use std::path::PathBuf;

use anyhow::Result;
use dengta_engine::incremental::{self, IngestRequest};
use dengta_model::Day;

use super::{load_rules, parse_day, runtime_on_this_thread};
use crate::progress::Bars;

/// Add a batch of events (usually one day) to a persistent store of per-store,
/// per-day aggregates and rescore only the days whose windows it touches.
///
/// BATCH is a dataset folder (SPEC §3 tables; `stores` and `exemptions` may be left
/// out after the first batch, and replace the store's when given). Events whose id
/// an earlier batch already brought are rejected as duplicates, so ingesting a batch
/// twice changes nothing. Late events rescore their days forward through the windows
/// they fall in. The store folder holds Parquet partitions by date (partials/,
/// daily/, ids/) and manifest.json, replaced atomically last: a killed run leaves the
/// store as it was before the batch, and the next run completes it.
///
/// A batch is held in memory while it is ingested (about 100 bytes an event): load a
/// long history month by month, or score it with `dengta score`, which streams.
#[derive(clap::Args)]
pub struct Args {
    /// The batch: a dataset folder.
    pub batch: PathBuf,
    /// The store folder (created by the first batch).
    #[arg(long)]
    pub into: PathBuf,
    /// First day to score (first batch only; default: the earliest day of its events).
    #[arg(long, value_parser = parse_day)]
    pub from: Option<Day>,
    /// The batch's day: scores are brought up to it (default: the latest day an event of
    /// the batch was created on).
    #[arg(long, value_parser = parse_day)]
    pub day: Option<Day>,
    /// Rule file(s) for a new store (later batches use the store's own rules).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Also write the store's daily scores to DIR/daily_scores.csv and .parquet.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    // The default rules are parsed only if a new store needs them.
    let book = if args.rules.is_empty() { None } else { Some(load_rules(&args.rules)?) };
    let req = IngestRequest { batch: args.batch.clone(), store: args.into.clone(), from: args.from, day: args.day };
    let bars = Bars::new();
    // Worker threads are started only for a large batch's aggregation.
    let runtime = runtime_on_this_thread()?;
    let result = runtime.block_on(incremental::ingest(&req, book.as_ref(), &bars));
    // The batch is committed or has failed: nothing left on the runtime is needed
    // (a run stopped at any point leaves the store whole), so the process's exit
    // ends it rather than waiting here for it to stop.
    runtime.shutdown_background();
    bars.finish();
    let o = result?;
    println!(
        "batch {} committed in {:.2} s: scores {} to {}; {} dates touched, {} days rescored, {} daily rows scored",
        o.generation, o.seconds, o.from, o.horizon, o.days_touched, o.days_rescored, o.rows_written
    );
    let folded = if o.folded { " (the late sums folded into them)" } else { "" };
    println!(
        "  running totals: {} partials files written{folded}; {} rows of late sums kept apart",
        o.partials_written, o.correction_rows
    );
    for (table, s) in &o.summaries {
        println!("  {:<11} read {:>9}  accepted {:>9}  rejected {:>7}", table.name(), s.read, s.accepted, s.rejected);
    }
    if o.rejected > 0 {
        println!(
            "{} rows rejected ({} already ingested by an earlier batch): {}",
            o.rejected,
            o.duplicates,
            args.into.join(format!("rejects/g{}.csv", o.generation)).display()
        );
    }
    for w in &o.warnings {
        println!("warning: {w}");
    }
    if let Some(dir) = args.export {
        let n = incremental::export_daily(&args.into, &dir)?;
        println!("exported {n} daily rows to {}", dir.display());
    }
    Ok(())
}
