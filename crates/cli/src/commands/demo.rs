//! `dengta demo`.

use std::path::PathBuf;

use anyhow::Result;
use chrono::NaiveDate;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use dengta_model::Day;

use super::{generate, score};

/// Generate a demo dataset, score it, load it into the service's state database,
/// and serve the dashboards: prints a few sample rows, then the URL with a merchant
/// and an operator token. Everything goes under DIR (default ./dengta-demo): the
/// dataset in DIR/dataset, the results in DIR/out, the state in DIR/dengta.sqlite.
#[derive(clap::Args)]
pub struct Args {
    /// Folder for the demo dataset and results.
    #[arg(long, default_value = "dengta-demo")]
    pub dir: PathBuf,
    /// Number of stores.
    #[arg(long, default_value_t = 60)]
    pub stores: u32,
    /// Number of days from 2025-01-01 (365 covers the year 2025, so the demo settles it).
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Random seed.
    #[arg(long, default_value_t = 2025)]
    pub seed: u64,
    /// Address the dashboard listens on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Stop after scoring and loading; do not serve.
    #[arg(long)]
    pub no_serve: bool,
}

pub fn run(args: Args) -> Result<()> {
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).expect("a valid date");
    let dataset = args.dir.join("dataset");
    let out = args.dir.join("out");
    let counts = generate::generate(&generate::Args {
        out: dataset.clone(),
        stores: args.stores,
        days: args.days,
        seed: args.seed,
        start,
        orders_per_day: 8.0,
    })?;
    println!("generated {} stores and {} orders into {}", counts.stores, counts.orders, dataset.display());
    let from = Day::from_date(start);
    let to = from.plus(args.days as i32 - 1);
    let score_args = score::Args::new(dataset.clone(), from, to, out.clone(), Vec::new());
    let outcome = score::execute(&score_args)?;
    score::print_summary(&outcome);

    let last: Vec<_> = outcome.rows.iter().filter(|r| r.date == to).collect();
    let mut sample: Vec<_> = last.iter().filter(|r| r.star.is_some()).take(6).collect();
    sample.extend(last.iter().filter(|r| r.star.is_none()).take(3));
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "store",
        "date",
        "category",
        "status",
        "reason",
        "score",
        "star",
        "product",
        "logistics",
        "after-sales",
        "disputes",
        "consult.",
    ]);
    for r in &sample {
        let mut row = vec![
            r.store_id.clone(),
            r.date.to_string(),
            r.category.clone(),
            r.verdict.status().to_string(),
            r.verdict.reason().to_string(),
            r.score_text(),
            r.star.map_or_else(String::new, |s| s.to_string()),
        ];
        row.extend(r.dims.iter().map(|d| d.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))));
        t.add_row(row);
    }
    println!("\nsample scores as of {to}:\n{t}");
    let mut m = Table::new();
    m.load_preset(UTF8_FULL_CONDENSED);
    m.set_header(["store", "month", "as of", "category", "status", "score", "compliant", "provisional"]);
    let shown: Vec<&str> = sample.iter().take(3).map(|r| r.store_id.as_str()).collect();
    let last_months = |store: &str| {
        let rows: Vec<_> = outcome.months.iter().filter(|x| x.store_id == store).collect();
        rows[rows.len().saturating_sub(3)..].to_vec()
    };
    for row in shown.iter().flat_map(|s| last_months(s)) {
        m.add_row([
            row.store_id.clone(),
            row.month_text(),
            row.as_of.to_string(),
            row.category.clone(),
            row.verdict.status().to_string(),
            dengta_model::exact::hundredths(row.score_cents),
            row.compliant.to_string(),
            row.provisional.to_string(),
        ]);
    }
    println!("\nmonthly scores, last three months (score as of each month's last day):\n{m}");
    if outcome.annual.is_empty() {
        println!(
            "\nno annual settlement: the range covers no whole calendar year (try `dengta settle DATASET --year Y`)"
        );
    } else {
        let mut a = Table::new();
        a.load_preset(UTF8_FULL_CONDENSED);
        a.set_header([
            "store",
            "year",
            "status",
            "annual score",
            "settles as",
            "GMV",
            "fee due",
            "refund",
            "renewal",
            "note",
        ]);
        for r in outcome.annual.iter().take(8) {
            a.add_row([
                r.store_id.clone(),
                r.year.to_string(),
                r.status.name().to_string(),
                r.score_text(),
                r.settlement_category.clone(),
                dengta_engine::periods::yuan(r.gmv_fen),
                dengta_engine::periods::yuan(r.fee_due_fen),
                dengta_engine::periods::yuan(r.refund_fen),
                if r.renewal_pass { "pass" } else { "fail" }.to_string(),
                r.note.to_string(),
            ]);
        }
        println!("\nannual settlement (first rows):\n{a}");
    }
    let q = super::quality::item_table(outcome.items.iter().filter(|r| r.date == to).take(5));
    println!("\nproduct quality as of {to}:\n{q}");
    if let Some(r) = sample.first() {
        println!("\nexplain one of them:\n  dengta explain {} --date {} --out {}", r.store_id, r.date, out.display());
    }

    // Load into the service's state and serve.
    let db = args.dir.join("dengta.sqlite");
    if db.exists() {
        std::fs::remove_file(&db)?;
    }
    let state = super::serve::state(&db, Some(dataset.clone()), Some(args.dir.join("runs")))?;
    let req = dengta_engine::run::ScoreRequest::new(dataset, from, to, out.clone());
    let run = dengta_server::jobs::adopt(&state, &req, &dengta_rules::RuleBook::default_book(), &outcome)?;
    let merchant_store = sample.first().map_or_else(|| outcome.rows[0].store_id.clone(), |r| r.store_id.clone());
    let role = dengta_server::auth::Role::Merchant(merchant_store.clone());
    let (merchant, _) = dengta_server::auth::create(&state.db, &role, "demo merchant", None)?;
    let (operator, _) =
        dengta_server::auth::create(&state.db, &dengta_server::auth::Role::Operator, "demo operator", None)?;
    println!("\nloaded run {run} into {}", db.display());
    println!("merchant token for store {merchant_store}: {merchant}");
    println!("operator token:                  {operator}");
    println!(
        "API example: curl -H 'Authorization: Bearer {merchant}' http://{}/api/v1/stores/{merchant_store}/score",
        args.listen
    );
    if args.no_serve {
        return Ok(());
    }
    println!("operator overview: http://{}/login?token={operator}&next=/operator", args.listen);
    super::serve::serve(state, args.listen, Some((&format!("the merchant of {merchant_store}"), &merchant)))
}
