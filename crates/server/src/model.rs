//! The JSON shapes of the API (also the OpenAPI schemas). Scores and money are
//! decimal strings (`"4.08"`, `"12345.67"`) so no client meets a binary float;
//! indicator values are numbers for charts, with the exact text beside them.

use std::collections::BTreeMap;

use dengta_engine::periods::{AnnualRow, yuan};
use dengta_model::exact;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A store as the marketplace declared it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StoreInfo {
    /// Store id.
    pub store_id: String,
    /// Name.
    pub name: String,
    /// Declared main category (its weights score the store).
    pub main_category: String,
    /// Opening date.
    pub opened_on: String,
    /// Termination application date, if any.
    pub closed_on: Option<String>,
    /// Completed onboarding.
    pub onboarded: bool,
    /// Removed for violations.
    pub removed_for_violation: bool,
}

/// One dimension of a day's score.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DimensionView {
    /// `product`, `logistics`, `after_sales`, `disputes`, `consultation`.
    pub name: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Dimension score 0–5 (6 decimals), absent without data.
    pub score: Option<String>,
    /// The category's weight.
    pub weight: Option<String>,
    /// The weight after re-normalisation over dimensions with data.
    pub effective_weight: Option<String>,
    /// `score × effective_weight`: this dimension's part of the total (6 decimals).
    pub contribution: Option<String>,
}

/// A store's score as of a day.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ScoreView {
    /// Store id.
    pub store_id: String,
    /// The day.
    pub date: String,
    /// Rule version that made the score.
    pub rule_version: String,
    /// Main category used.
    pub category: String,
    /// `scored` or `default_pass`.
    pub status: String,
    /// Empty, `category_not_assessed`, `no_data` or `exempted`.
    pub reason: String,
    /// The reason in words (English).
    pub reason_text: String,
    /// Score with two decimals; `99.00` while default pass.
    pub score: String,
    /// Star (3, 3.5, 4, 4.5, 5), absent while default pass.
    pub star: Option<String>,
    /// The category's pass threshold, when assessed.
    pub threshold: Option<String>,
    /// Passes the threshold (a default pass always passes).
    pub passes: bool,
    /// The five dimensions.
    pub dimensions: Vec<DimensionView>,
}

/// One day of a store's history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HistoryPoint {
    /// Day.
    pub date: String,
    /// Score with two decimals (99.00 = default pass).
    pub score: String,
    /// `scored` / `default_pass`.
    pub status: String,
    /// 99 reason.
    pub reason: String,
    /// Star.
    pub star: Option<String>,
    /// Rule version.
    pub rule_version: String,
}

/// A store's scores over a range.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct History {
    /// Store id.
    pub store_id: String,
    /// First day asked.
    pub from: String,
    /// Last day asked.
    pub to: String,
    /// Category threshold on `to`.
    pub threshold: Option<String>,
    /// Operating days in the range, oldest first.
    pub points: Vec<HistoryPoint>,
}

/// One indicator of an explanation.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    /// Indicator name.
    pub name: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Dimension.
    pub dimension: String,
    /// `higher` or `lower` is better.
    pub better: String,
    /// Unit of the value (`points`, `hours`, `seconds`, empty for shares).
    pub unit: String,
    /// Window length in days.
    pub window_days: u32,
    /// First day of the window.
    pub window_from: String,
    /// Last day of the window (the day scored).
    pub window_to: String,
    /// Window sum of the numerator (a count, a sum of scores, or milliseconds).
    pub numerator: i64,
    /// Window count of the denominator: the sample size.
    pub denominator: i64,
    /// Minimum sample size for the indicator to have data.
    pub min_samples: i64,
    /// The value, absent without data.
    pub value: Option<f64>,
    /// The exact value with 6 decimals.
    pub value_text: Option<String>,
    /// Curve score 0–5 (6 decimals).
    pub score: Option<String>,
    /// Where the value fell on the curve, in words.
    pub segment: Option<String>,
    /// The curve's `(value, score)` points ("2/3/4/5 point standards").
    pub curve: Vec<[f64; 2]>,
    /// Weight within the dimension.
    pub weight: String,
    /// Mean of the category's stores with data that day (SPEC §12).
    pub peer_average: Option<f64>,
    /// 90th percentile of the category in the better direction.
    pub peer_excellent: Option<f64>,
    /// Stores in the peer figures.
    pub peer_stores: Option<i64>,
}

/// Every number behind one score.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Explanation {
    /// The score and its dimensions.
    pub score: ScoreView,
    /// The unrounded weighted score (exact, 10 decimals), absent without data.
    pub exact_score: Option<String>,
    /// The rule file's sha256.
    pub rules_sha256: String,
    /// The indicators.
    pub indicators: Vec<IndicatorView>,
    /// The recomputation from counts equals the stored score.
    pub matches_stored: bool,
}

/// A month's score (SPEC §6).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Month {
    /// Store id.
    pub store_id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// The day whose score it is (month end, or the latest day while in progress).
    pub as_of: String,
    /// Category.
    pub category: String,
    /// Status.
    pub status: String,
    /// 99 reason.
    pub reason: String,
    /// Score with two decimals.
    pub score: String,
    /// Meets the category threshold (default pass counts as compliant).
    pub compliant: bool,
    /// The month is still in progress.
    pub provisional: bool,
    /// Rule version.
    pub rule_version: String,
}

/// An annual settlement (SPEC §6–§7), or the year so far.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Settlement {
    /// Store id.
    pub store_id: String,
    /// Year.
    pub year: i32,
    /// `settled` (the run covers the whole year) or `year_to_date` (a projection:
    /// the mean of the month-end scores so far, tiers reached by GMV so far).
    pub kind: String,
    /// Months with an operating day.
    pub operating_months: u32,
    /// `scored`, `default_pass` or `fee_unknown`.
    pub status: String,
    /// Annual score (two decimals), 99.00 when default pass.
    pub annual_score: String,
    /// How the annual score was taken.
    pub basis: String,
    /// Month-end scores in the mean.
    pub months_in_mean: u32,
    /// Category the store is settled under.
    pub settlement_category: String,
    /// GMV without refunded or disputed orders (yuan).
    pub gmv: String,
    /// The full annual fee (yuan).
    pub annual_fee: Option<String>,
    /// Months charged.
    pub charged_months: u32,
    /// Fee due (yuan).
    pub fee_due: String,
    /// Prorated GMV threshold of the tier reached (yuan).
    pub tier_gmv: Option<String>,
    /// Refund ratio in percent.
    pub refund_ratio: String,
    /// Refund (yuan).
    pub refund_amount: String,
    /// Why a refund is withheld or whole.
    pub note: String,
    /// Non-compliant months that count.
    pub noncompliant_months: u32,
    /// `pass` / `fail`.
    pub renewal: String,
    /// Onboarded and terminated in the same month.
    pub no_fee: bool,
    /// Refund due date of a never-onboarded store.
    pub refund_due_on: Option<String>,
}

impl Settlement {
    /// From the engine's row.
    pub fn from_row(a: &AnnualRow, kind: &str) -> Settlement {
        Settlement {
            store_id: a.store_id.clone(),
            year: a.year,
            kind: kind.to_string(),
            operating_months: a.operating_months,
            status: a.status.name().to_string(),
            annual_score: a.score_text(),
            basis: a.basis.to_string(),
            months_in_mean: a.months_in_mean,
            settlement_category: a.settlement_category.clone(),
            gmv: yuan(a.gmv_fen),
            annual_fee: a.annual_fee_fen.map(yuan),
            charged_months: a.charged_months,
            fee_due: yuan(a.fee_due_fen),
            tier_gmv: a.tier_gmv_fen.map(yuan),
            refund_ratio: exact::format_trimmed(&a.refund_ratio, 4),
            refund_amount: yuan(a.refund_fen),
            note: a.note.to_string(),
            noncompliant_months: a.noncompliant_months,
            renewal: if a.renewal_pass { "pass" } else { "fail" }.to_string(),
            no_fee: a.no_fee,
            refund_due_on: a.refund_due_on.map(|d| d.to_string()),
        }
    }
}

/// Campaign access of one store (SPEC §6).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EligibilityView {
    /// Store id.
    pub store_id: String,
    /// Evaluation day.
    pub date: String,
    /// Category.
    pub category: String,
    /// `scored`, `default_pass` or `not_operating`.
    pub status: String,
    /// 99 reason.
    pub reason: String,
    /// Score shown.
    pub score: Option<String>,
    /// Threshold applied.
    pub threshold: Option<String>,
    /// May join.
    pub eligible: bool,
    /// Why, in words.
    pub why: String,
}

/// Product quality of one item on a day (SPEC §8).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ItemQuality {
    /// Item.
    pub item_id: String,
    /// Store.
    pub store_id: String,
    /// Day.
    pub date: String,
    /// Bad-review rate, absent without reviews.
    pub bad_review_rate: Option<f64>,
    /// Quality-refund rate.
    pub quality_refund_rate: f64,
    /// Score (two decimals).
    pub score: String,
    /// Level.
    pub level: String,
}

/// "What to fix first": one indicator's next curve point and what it is worth.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FixStepView {
    /// Indicator name.
    pub indicator: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Value now.
    pub from: f64,
    /// Value of the next curve point.
    pub to: f64,
    /// Indicator score now → at the point (6 decimals).
    pub indicator_score: String,
    /// Indicator score at the point.
    pub point_score: String,
    /// Gain of the store's score (unrounded, 4 decimals).
    pub gain: String,
    /// The store's score with that change (two decimals).
    pub score_after: String,
    /// The advice in Chinese.
    pub text_zh: String,
    /// The advice in English.
    pub text_en: String,
}

/// What-if input: hypothetical indicator values, by indicator name.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct WhatIfRequest {
    /// The day whose other values are kept (default: the latest day scored).
    pub date: Option<String>,
    /// e.g. `{"pickup_24h_rate": 0.97, "im_first_reply_secs": 15}`.
    pub values: BTreeMap<String, f64>,
}

/// What-if output.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WhatIfResult {
    /// The day as scored.
    pub before: ScoreView,
    /// The day with the hypothetical values.
    pub after: ScoreView,
    /// The values used, by indicator.
    pub values: BTreeMap<String, f64>,
}

/// A run's live progress.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct RunProgress {
    /// Current stage.
    pub stage: String,
    /// Units done in the stage.
    pub done: u64,
    /// Units in the stage, when known.
    pub total: Option<u64>,
}

/// A scoring run.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Run {
    /// Id.
    pub id: i64,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// Start (UTC).
    pub started_at: String,
    /// End (UTC).
    pub finished_at: Option<String>,
    /// Dataset folder.
    pub dataset: String,
    /// Output folder (Parquet and CSV files).
    pub out_dir: String,
    /// First day scored.
    pub from: String,
    /// Last day scored.
    pub to: String,
    /// Rule versions in the book.
    pub rule_versions: Vec<String>,
    /// Daily rows.
    pub daily_rows: Option<i64>,
    /// Rejected input rows.
    pub rejected: Option<i64>,
    /// Warnings or the failure.
    pub message: Option<String>,
    /// Readers see this run's results.
    pub current: bool,
    /// Live progress while running.
    pub progress: Option<RunProgress>,
}

/// Start a recomputation.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct RunRequest {
    /// First day (default: the current run's, or 364 days before `to`).
    pub from: Option<String>,
    /// Last day (default: the current run's).
    pub to: Option<String>,
}

/// An exemption.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExemptionView {
    /// Id (use it to end an operator exemption).
    pub id: i64,
    /// `dataset` (the dataset's table) or `operator` (added here).
    pub origin: String,
    /// `all`, `category` or `store`.
    pub scope: String,
    /// Category or store id.
    pub target: Option<String>,
    /// First day.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// Why.
    pub reason: String,
    /// When it was ended.
    pub ended_at: Option<String>,
}

/// A new exemption.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewExemption {
    /// `all`, `category` or `store`.
    pub scope: String,
    /// Category or store id (empty for `all`).
    pub target: Option<String>,
    /// First day.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// Why (force majeure, platform announcement …).
    pub reason: String,
}

/// Ending an exemption.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct EndExemption {
    /// The last day it covers.
    pub on: String,
}

/// A stored rule version.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RuleVersionView {
    /// Version.
    pub version: String,
    /// In force from.
    pub effective_from: String,
    /// sha256 of the file.
    pub sha256: String,
    /// File name given.
    pub source_name: String,
    /// Stored at.
    pub added_at: String,
    /// `true` when this upload added it, `false` when it was already stored.
    pub added: bool,
}

/// Scores of a category in buckets.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CategoryDistribution {
    /// Category.
    pub category: String,
    /// Pass threshold.
    pub threshold: Option<String>,
    /// Scored stores.
    pub scored: usize,
    /// Default-pass stores.
    pub default_pass: usize,
    /// Stores below the threshold.
    pub failing: usize,
    /// Counts per half-point bucket `[0,0.5) … [4.5,5]`.
    pub buckets: Vec<usize>,
}

/// A store failing this month or at risk of failing renewal.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StoreAtRisk {
    /// Store id.
    pub store_id: String,
    /// Category.
    pub category: String,
    /// Latest score.
    pub score: String,
    /// Non-compliant months this year.
    pub noncompliant_months: u32,
    /// The category's limit.
    pub max_noncompliant_months: Option<u32>,
}

/// The operator overview.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Overview {
    /// Day of the distribution (the latest day scored).
    pub date: String,
    /// Month in progress.
    pub month: String,
    /// Per category.
    pub categories: Vec<CategoryDistribution>,
    /// Stores whose score this month is below the threshold.
    pub failing_this_month: Vec<StoreAtRisk>,
    /// Stores at or one below the renewal limit of non-compliant months, or over it.
    pub renewal_risk: Vec<StoreAtRisk>,
}
