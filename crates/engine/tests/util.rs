//! Shared test helpers: datasets from inline CSV, and the in-process pipeline.

use std::path::{Path, PathBuf};

use dengta_engine::daily::{self, ScoreRow};
use dengta_engine::dataset::Dataset;
use dengta_engine::{NoProgress, reader, run};
use dengta_model::Day;
use dengta_rules::RuleBook;

pub const STORES_HEADER: &str = "store_id,name,main_category,opened_on,closed_on,onboarded,removed_for_violation";
pub const ORDERS_HEADER: &str = "order_id,store_id,item_id,category,paid_at,amount,picked_up_at";
pub const REVIEWS_HEADER: &str =
    "review_id,order_id,store_id,item_id,created_at,item_score,service_score,logistics_score";
pub const CHATS_HEADER: &str = "chat_id,store_id,started_at,first_human_reply_at";
pub const REFUNDS_HEADER: &str = "refund_id,order_id,store_id,item_id,kind,reason,requested_at,completed_at";
pub const DISPUTES_HEADER: &str = "dispute_id,order_id,store_id,opened_at,closed_at,refunded,merchant_liable";
pub const COMPLAINTS_HEADER: &str = "complaint_id,order_id,store_id,filed_at,decided_at,upheld";
pub const EXEMPTIONS_HEADER: &str = "scope,target,from,to,reason";

/// The shared golden datasets (beside the repository).
pub fn golden_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden").join(case)
}

pub fn day(s: &str) -> Day {
    Day::parse(s).expect("test date")
}

/// A dataset folder built from `(table, csv text)` pairs.
pub struct TestData {
    pub dir: tempfile::TempDir,
}

impl TestData {
    pub fn new(tables: &[(&str, String)]) -> TestData {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in tables {
            std::fs::write(dir.path().join(format!("{name}.csv")), text).expect("write test table");
        }
        TestData { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// `header` followed by `rows`, one per line.
pub fn table(header: &str, rows: &[&str]) -> String {
    let mut s = String::from(header);
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}

/// Reads, aggregates and scores a dataset in-process with the given rules.
pub async fn score_with(dir: &Path, book: &RuleBook, from: Day, to: Day) -> (Dataset, Vec<ScoreRow>) {
    let ds = reader::read_dataset(dir, &NoProgress).expect("dataset reads");
    let partials = run::aggregate_all(&ds, book, None).await.expect("aggregation runs");
    let (rows, _) = daily::score_range(&ds, book, &partials, from, to, &NoProgress).expect("scoring runs");
    (ds, rows)
}

/// Runs `run::score` end to end into a new temporary output folder.
pub async fn run_into(
    dataset: &Path,
    book: &RuleBook,
    from: Day,
    to: Day,
    strict: bool,
) -> (dengta_engine::Result<run::ScoreOutcome>, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("temp dir");
    let req = run::ScoreRequest { strict, ..run::ScoreRequest::new(dataset, from, to, out.path()) };
    (run::score(&req, book, &NoProgress).await, out)
}

pub async fn score(dir: &Path, from: Day, to: Day) -> Vec<ScoreRow> {
    score_with(dir, &RuleBook::default_book(), from, to).await.1
}

pub fn row<'a>(rows: &'a [ScoreRow], store: &str, date: &str) -> &'a ScoreRow {
    rows.iter()
        .find(|r| r.store_id == store && r.date == day(date))
        .unwrap_or_else(|| panic!("no row for {store} on {date}"))
}
