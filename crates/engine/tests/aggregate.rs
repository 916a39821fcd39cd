//! The two ways a small in-memory dataset (a day's batch) is aggregated give the
//! same partial sums as the full DataFusion session: the light session (one
//! partition, no logical optimizer rules) and the planner-free evaluation of the
//! same expressions (`aggregate_rows`); and a spilled dataset, aggregated by the
//! plan on worker threads started from a current-thread runtime, gives them too.

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

/// Every `(measure, store, day, sum, count)` of a window index, sorted.
fn index_rows(p: &dengta_engine::partials::DayPartials) -> Vec<(u8, usize, i32, i64, i64)> {
    let mut rows = Vec::new();
    for store in 0..p.store_count() {
        for m in dengta_model::Measure::ALL {
            rows.extend(p.days(store, m).map(|(d, s)| (m.code(), store, d.0, s.sum, s.count)));
        }
    }
    rows.sort_unstable();
    rows
}

fn generated(work: &std::path::Path) -> dengta_engine::dataset::Dataset {
    let start = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).expect("date");
    let params = dengta_synth::Params { stores: 30, days: 40, start, seed: 7, ..Default::default() };
    dengta_synth::generate(&params, work).expect("generate");
    reader::read_dataset(work, &NoProgress).expect("read")
}

#[tokio::test]
async fn evaluating_the_expressions_without_the_planner_gives_the_plans_partials() {
    let work = tempfile::tempdir().expect("temp");
    let ds = generated(work.path());
    assert!(aggregate::is_light(&ds), "a dataset this small is aggregated without the planner");
    let book = RuleBook::default_book();
    let profile = Profile::of(book.versions().last().expect("a version"));

    let direct = aggregate::aggregate_rows(&ds, &profile).expect("direct");
    let ctx = aggregate::session_with(&ds, false).expect("full");
    let batches = aggregate::partials_plan(&ctx, &profile).await.expect("plan").collect().await.expect("collect");
    let planned = aggregate::partials_from_batches(ds.stores.len(), &batches).expect("index");
    let (direct, planned) = (index_rows(&direct), index_rows(&planned));
    // Every measure is there (disputes and complaints are rare), and some sums are
    // not 0.
    for m in dengta_model::Measure::ALL {
        assert!(direct.iter().filter(|r| r.0 == m.code()).count() >= 3, "{m:?}");
    }
    assert!(direct.len() > 9 * 30 * 10, "{} rows", direct.len());
    assert!(direct.iter().any(|r| r.3 != 0));
    assert_eq!(direct, planned);
}

#[tokio::test]
async fn the_light_session_gives_the_same_partials_as_the_full_one() {
    let work = tempfile::tempdir().expect("temp");
    let ds = generated(work.path());
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

/// A dataset spilled to Parquet goes through DataFusion's executor; asked from a
/// current-thread runtime (as `dengta ingest` runs), the plan runs on worker threads
/// started for it, and its partials are those of the planner-free evaluation.
#[tokio::test]
async fn a_spilled_dataset_aggregated_from_a_current_thread_runtime_gives_the_same_partials() {
    assert_eq!(
        tokio::runtime::Handle::current().runtime_flavor(),
        tokio::runtime::RuntimeFlavor::CurrentThread,
        "the test runs where `dengta ingest` does"
    );
    let work = tempfile::tempdir().expect("temp");
    let ds = generated(work.path());
    let spill = tempfile::tempdir().expect("temp");
    let options = reader::ReadOptions { spill: Some(spill.path().to_path_buf()), ..Default::default() };
    let spilled = reader::read_dataset_with(work.path(), &NoProgress, &options).expect("read spilled");
    assert!(!aggregate::is_light(&spilled), "a spilled dataset is aggregated by the plan");
    let book = RuleBook::default_book();
    let profile = Profile::of(book.versions().last().expect("a version"));

    let planned = aggregate::aggregate(&spilled, &profile).await.expect("planned");
    let direct = aggregate::aggregate_rows(&ds, &profile).expect("direct");
    let (planned, direct) = (index_rows(&planned), index_rows(&direct));
    assert!(direct.len() > 9 * 30 * 10, "{} rows", direct.len());
    assert_eq!(planned, direct);
}
