//! `dengta quality`.

use std::collections::BTreeMap;

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use super::score;

/// Product quality (商品质量测评, SPEC §8): per item and day, the bad-review rate and
/// the quality-refund rate over the quality window, the item score and its level
/// (excellent, good, fair, poor). Items with fewer orders than the rules' minimum in
/// the window get no row. Writes OUT/item_quality.csv with every other output of a
/// score run and prints the levels as of --to.
#[derive(clap::Args)]
#[group(skip)]
pub struct Args {
    #[command(flatten)]
    pub run: score::Args,
}

pub fn run(args: Args) -> Result<()> {
    let outcome = score::execute(&args.run)?;
    let to = args.run.to;
    let last: Vec<_> = outcome.items.iter().filter(|r| r.date == to).collect();
    let mut levels: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &last {
        *levels.entry(&*r.level).or_default() += 1;
    }
    println!("items with a quality score as of {to}: {}", last.len());
    for (level, n) in &levels {
        println!("  {level}: {n}");
    }
    let mut worst: Vec<_> = last.clone();
    worst.sort_by_key(|r| r.score_cents);
    println!("lowest-scoring items:\n{}", item_table(worst.iter().take(10).copied()));
    println!("wrote {}", args.run.out.join("item_quality.csv").display());
    Ok(())
}

/// A table of item-quality rows for the terminal.
pub fn item_table<'a>(rows: impl Iterator<Item = &'a dengta_engine::quality::ItemRow>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["item", "store", "bad-review rate", "quality-refund rate", "score", "level", "orders"]);
    for r in rows {
        t.add_row([
            r.item_id.to_string(),
            r.store_id.to_string(),
            r.bad_review_rate.map_or_else(|| "-".into(), |v| format!("{v:.4}")),
            format!("{:.4}", r.quality_refund_rate),
            dengta_model::exact::hundredths(r.score_cents),
            r.level.to_string(),
            r.counts[2].to_string(),
        ]);
    }
    t
}
