//! `dengta settle`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use dengta_engine::periods::yuan;
use dengta_model::Day;

use super::score;

/// Annual settlement of a year (SPEC §6–§7): annual score (with the termination
/// rules), renewal, settlement category, fee due, GMV tier, refund ratio and amount,
/// and for never-onboarded stores the whole fee back with its due date (7 Chinese
/// working days after the exit application). Scores from December 31 of the year
/// before (for January terminations) to December 31, and writes OUT/annual.csv with
/// every other output of a score run.
#[derive(clap::Args)]
pub struct Args {
    /// The dataset directory.
    pub dataset: PathBuf,
    /// The year to settle.
    #[arg(long)]
    pub year: i32,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Rule file(s). Default: the built-in rules.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let day =
        |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).map(Day::from_date).context("year out of range");
    let run_args = score::Args::new(
        args.dataset.clone(),
        day(args.year - 1, 12, 31)?,
        day(args.year, 12, 31)?,
        args.out.clone(),
        args.rules.clone(),
    );
    let outcome = score::execute(&run_args)?;
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "store",
        "status",
        "annual score",
        "basis",
        "settles as",
        "GMV",
        "fee due",
        "ratio",
        "refund",
        "renewal",
        "note",
    ]);
    for r in outcome.annual.iter().filter(|r| r.year == args.year) {
        t.add_row([
            r.store_id.clone(),
            r.status.name().to_string(),
            r.score_text(),
            r.basis.to_string(),
            r.settlement_category.clone(),
            yuan(r.gmv_fen),
            yuan(r.fee_due_fen),
            dengta_model::exact::format_fixed(&r.refund_ratio, 2),
            yuan(r.refund_fen),
            format!("{} ({} non-compliant)", if r.renewal_pass { "pass" } else { "fail" }, r.noncompliant_months),
            match r.refund_due_on {
                Some(d) => format!("{} due {d}", r.note),
                None => r.note.to_string(),
            },
        ]);
    }
    println!("annual settlement {}\n{t}", args.year);
    println!("wrote {}", args.out.join("annual.csv").display());
    Ok(())
}
