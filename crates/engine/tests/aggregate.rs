//! The light DataFusion session (one partition, no logical optimizer rules) that
//! aggregates a day's batch gives the same partial sums as the full session.

use dengta_engine::aggregate::{self, Profile};
use dengta_engine::{NoProgress, reader};
use dengta_rules::RuleBook;

/// Every `(measure, store, day, sum, count)` row of a plan's output, sorted.
async fn partial_rows(ctx: &datafusion::prelude::SessionContext, profile: &Profile) -> Vec<String> {
    let batches = aggregate::partials_plan(ctx, profile).await.expect("plan").collect().await.expect("collect");
    let mut rows: Vec<String> = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .expect("format")
        .to_string()
        .lines()
        .filter(|l| l.starts_with("| ") && !l.contains("measure"))
        .map(str::to_string)
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn the_light_session_gives_the_same_partials_as_the_full_one() {
    let work = tempfile::tempdir().expect("temp");
    let start = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).expect("date");
    let params = dengta_synth::Params { stores: 30, days: 40, start, seed: 7, ..Default::default() };
    dengta_synth::generate(&params, work.path()).expect("generate");
    let ds = reader::read_dataset(work.path(), &NoProgress).expect("read");
    let rows: usize = ds.events.values().flat_map(|e| &e.batches).map(|b| b.num_rows()).sum();
    assert!(rows < aggregate::LIGHT_SESSION_ROWS, "a dataset this small is aggregated by the light session");
    let book = RuleBook::default_book();
    let profile = Profile::of(book.versions().last().expect("a version"));

    let light = partial_rows(&aggregate::session_with(&ds, true).expect("light"), &profile).await;
    let full = partial_rows(&aggregate::session_with(&ds, false).expect("full"), &profile).await;
    // Every measure is there, with many store-days each.
    assert!(light.len() > 9 * 30 * 20, "{} rows", light.len());
    assert_eq!(light, full);
}
