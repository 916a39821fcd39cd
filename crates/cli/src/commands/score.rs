//! `dengta score`.

use std::path::PathBuf;

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use dengta_engine::run::{self, ScoreOutcome, ScoreRequest};
use dengta_model::Day;

use super::{load_rules, parse_day, runtime};
use crate::progress::Bars;

/// Score every operating store-day of a dataset in a date range.
///
/// Reads DATASET (a folder with stores.csv and any of orders, reviews, chats,
/// refunds, disputes, complaints, exemptions as CSV or Parquet), rejects bad rows
/// into OUT/rejects.csv, and writes OUT/daily_scores.csv and .parquet with the
/// columns of SPEC §11, plus partials.parquet and run.json for explanations.
#[derive(clap::Args)]
pub struct Args {
    /// The dataset directory.
    pub dataset: PathBuf,
    /// First day to score (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub from: Day,
    /// Last day to score, inclusive (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub to: Day,
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Rule file(s); give several for several versions. Default: the built-in rules.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Fail (exit code 3) when any input row is rejected.
    #[arg(long)]
    pub strict: bool,
    /// Write only the daily scores (and partials, rejects, manifest): no monthly,
    /// annual, item quality or peers. For benchmarks and quick checks.
    #[arg(long)]
    pub daily_only: bool,
    /// Run the per-store-day aggregation on a Ballista cluster (`df://HOST:PORT` of
    /// its scheduler). The checked events are staged as Parquet under OUT/staged/,
    /// which every executor must be able to read at the same path (shared storage).
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<String>,
}

impl Args {
    /// A full run (all outputs, not strict, locally) of `dataset` on `from..=to`.
    pub fn new(dataset: PathBuf, from: Day, to: Day, out: PathBuf, rules: Vec<PathBuf>) -> Args {
        Args { dataset, from, to, out, rules, strict: false, daily_only: false, cluster: None }
    }
}

pub fn run(args: Args) -> Result<()> {
    let outcome = execute(&args)?;
    print_summary(&outcome);
    Ok(())
}

/// Runs the scoring job with progress bars.
pub fn execute(args: &Args) -> Result<ScoreOutcome> {
    let book = load_rules(&args.rules)?;
    let req = ScoreRequest {
        strict: args.strict,
        daily_only: args.daily_only,
        cluster: args.cluster.clone(),
        ..ScoreRequest::new(&args.dataset, args.from, args.to, &args.out)
    };
    let bars = Bars::new();
    let result = runtime()?.block_on(run::score(&req, &book, &bars));
    bars.finish();
    Ok(result?)
}

/// Prints the closing summary.
pub fn print_summary(o: &ScoreOutcome) {
    for w in &o.warnings {
        eprintln!("warning: {w}");
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["table", "source", "read", "accepted", "rejected"]);
    for (table, s) in &o.summaries {
        t.add_row([
            table.name().to_string(),
            s.source.as_ref().map_or("(absent)".into(), |p| p.display().to_string()),
            s.read.to_string(),
            s.accepted.to_string(),
            s.rejected.to_string(),
        ]);
    }
    println!("{t}");
    println!(
        "scored {} store-days: {} of {} stores over {} days, {} rows rejected, in {:.1} s",
        o.daily_rows, o.stores_scored, o.stores, o.days, o.rejected, o.seconds
    );
    for f in &o.files {
        println!("  wrote {}", f.display());
    }
}
