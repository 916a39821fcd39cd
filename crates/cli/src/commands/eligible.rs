//! `dengta eligible`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use dengta_engine::campaign::{self, Campaign};
use dengta_model::Day;

use super::{parse_day, score};

/// Campaign access (营销准入): may each store join a campaign on a day? A store may
/// when its score as of the day is at least the threshold (default: its category's
/// pass_threshold; or the campaign file's), or it is a default pass (99). Lists every
/// store, eligible or not, and why, and writes OUT/eligibility.csv.
#[derive(clap::Args)]
pub struct Args {
    /// The dataset directory.
    pub dataset: PathBuf,
    /// The evaluation day (YYYY-MM-DD); a campaign file's `date` is used when omitted.
    #[arg(long, value_parser = parse_day)]
    pub date: Option<Day>,
    /// Campaign file (TOML): `name`, optional `date`, and `[thresholds]` per category.
    #[arg(long)]
    pub campaign: Option<PathBuf>,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Rule file(s). Default: the built-in rules.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let campaign = match &args.campaign {
        Some(p) => Campaign::load(p)?,
        None => Campaign::default_access(),
    };
    let date = args.date.or(campaign.date).context("give --date, or a campaign file with a `date`")?;
    let run_args = score::Args::new(args.dataset.clone(), date, date, args.out.clone(), args.rules.clone());
    let outcome = score::execute(&run_args)?;
    let book = super::load_rules(&args.rules)?;
    let decisions = campaign::decide(&outcome.dataset.stores, &outcome.rows, &book, &campaign, date);
    let path = args.out.join("eligibility.csv");
    let mut w = csv::Writer::from_path(&path).with_context(|| format!("writing {}", path.display()))?;
    w.write_record([
        "store_id",
        "date",
        "campaign",
        "category",
        "status",
        "reason",
        "score",
        "threshold",
        "eligible",
        "why",
    ])?;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["store", "category", "status", "score", "threshold", "eligible", "why"]);
    for d in &decisions {
        let score = d.score.clone().unwrap_or_default();
        let threshold = d.threshold.clone().unwrap_or_default();
        w.write_record([
            d.store_id.as_str(),
            &d.date.to_string(),
            &campaign.name,
            &d.category,
            &d.status,
            &d.reason,
            &score,
            &threshold,
            if d.eligible { "true" } else { "false" },
            &d.why,
        ])?;
        t.add_row([
            d.store_id.clone(),
            d.category.clone(),
            d.status.clone(),
            score,
            threshold,
            d.eligible.to_string(),
            d.why.clone(),
        ]);
    }
    w.flush()?;
    println!("{}: campaign access on {date}\n{t}", campaign.name);
    let n = decisions.iter().filter(|d| d.eligible).count();
    println!("{n} of {} stores eligible; wrote {}", decisions.len(), path.display());
    Ok(())
}
