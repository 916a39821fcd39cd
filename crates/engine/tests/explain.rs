//! A full run through `run::score`, then `explain` reading its output back.

use dengta_engine::Error;
use dengta_engine::explain::explain;
use dengta_engine::run::files;
use dengta_rules::RuleBook;

use crate::util::*;

#[tokio::test]
async fn a_run_writes_its_outputs_and_explains_a_store_day() {
    let dir = golden_dir("year").join("dataset");
    let (outcome, out) = run_into(&dir, &RuleBook::default_book(), day("2025-03-01"), day("2025-03-31"), false).await;
    let outcome = outcome.expect("run");
    for f in [files::DAILY_CSV, files::DAILY_PARQUET, files::REJECTS, files::PARTIALS, files::MANIFEST] {
        assert!(out.path().join(f).is_file(), "{f} written");
    }
    let csv = std::fs::read_to_string(out.path().join(files::DAILY_CSV)).expect("csv");
    assert_eq!(csv.lines().count(), outcome.rows.len() + 1);
    assert!(csv.starts_with("store_id,date,rule_version,category,status,reason,score,star,dim_product,"));

    let r = row(&outcome.rows, "S00001", "2025-03-31");
    let e = explain(out.path(), "S00001", day("2025-03-31")).await.expect("explain");
    assert_eq!(e.score.score_text(), r.score_text());
    assert_eq!(e.stored_score, r.score_text());
    let text = e.to_string();
    for needle in
        ["Rule version default-1", "dsr_item", "90 days 2025-01-01..2025-03-31", "Rounded half away from zero", "stars"]
    {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains("WARNING"), "{text}");
    // Counts in the explanation are the run's counts.
    let dsr = e.score.indicator(dengta_model::Indicator::DsrItem).expect("dsr");
    assert_eq!(Some(dsr.counts.denominator), r.indicators[0].n);

    let missing = explain(out.path(), "S00001", day("2025-04-30")).await.expect_err("outside the run");
    assert!(matches!(missing, Error::InvalidRequest(_)));
}

#[tokio::test]
async fn strict_fails_on_rejects_and_still_writes_them() {
    let dataset = golden_dir("bad").join("dataset");
    let (result, out) = run_into(&dataset, &RuleBook::default_book(), day("2025-03-01"), day("2025-03-02"), true).await;
    let err = result.expect_err("strict");
    assert!(matches!(err, Error::StrictRejects { count: 49, .. }), "{err}");
    let rejects = std::fs::read_to_string(out.path().join(files::REJECTS)).expect("rejects written");
    assert_eq!(rejects.lines().count(), 50);
    assert!(!out.path().join(files::DAILY_CSV).exists());
}
