//! `dengta import-olist`.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// Import the Olist Brazilian e-commerce dataset (real, anonymised marketplace data)
/// into a dengta dataset folder: sellers become stores, order items grouped by order
/// and seller become orders, reviews are joined to the order's sellers. Olist
/// categories map onto the rule categories (import/olist-categories.toml); the rest
/// become `unmapped`, which the rules do not assess. Every skipped row is counted.
#[derive(clap::Args)]
pub struct Args {
    /// Folder with olist_products_dataset.csv and the orders, order items and reviews
    /// files (directly or in subset/).
    pub source: PathBuf,
    /// Output dataset folder.
    pub out: PathBuf,
    /// Time zone of Olist's local times.
    #[arg(long, default_value = "America/Sao_Paulo")]
    pub tz: String,
}

pub fn run(args: Args) -> Result<()> {
    let tz = args.tz.parse().map_err(|e| anyhow::anyhow!("--tz {}: {e}", args.tz))?;
    let req = dengta_import::olist::Request { source: args.source.clone(), out: args.out.clone(), tz };
    let report = dengta_import::olist::import(&req).with_context(|| format!("importing {}", args.source.display()))?;
    println!(
        "wrote {}: {} stores, {} orders, {} reviews",
        args.out.display(),
        report.stores,
        report.orders,
        report.reviews
    );
    println!("stores by main category:");
    for (c, n) in &report.categories {
        println!("  {c}: {n}");
    }
    println!("skipped:");
    for (why, n) in &report.skipped {
        println!("  {n} × {why}");
    }
    Ok(())
}
