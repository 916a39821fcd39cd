//! `dengta explain`.

use std::path::PathBuf;

use anyhow::Result;
use dengta_model::Day;

use super::{parse_day, runtime};

/// Explain one store's score on one day, in words: every indicator's window,
/// numerator, denominator, value, curve segment and score; the dimension scores and
/// weights (and any re-normalisation); the total and its rounding; the star; the rule
/// version. Reads the output folder of a `dengta score` run.
#[derive(clap::Args)]
pub struct Args {
    /// The store id.
    pub store: String,
    /// The day the score is as of (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub date: Day,
    /// The --out folder of a `dengta score` run.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let e = runtime()?.block_on(dengta_engine::explain::explain(&args.out, &args.store, args.date))?;
    print!("{e}");
    Ok(())
}
