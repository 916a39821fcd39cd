//! Product quality (SPEC §8): per item and day, the bad-review rate and the
//! quality-refund rate over the quality window, their curve scores, the item score
//! and its level.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast as cast_array;
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type, UInt8Type, UInt32Type};
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::prelude::*;
use dengta_model::exact::{self, Exact};
use dengta_model::{Day, MeasureSums, UtcOffset};
use dengta_rules::{QualityRules, RuleBook};

use crate::daily::rules_on;
use crate::dataset::Dataset;
use crate::error::Result;
use crate::partials::Series;

/// Slots of an item's series.
const REVIEWS: usize = 0; // sum = bad reviews, count = reviews
const QUALITY_REFUNDS: usize = 1; // count
const ORDERS: usize = 2; // count

/// One row of `item_quality` (SPEC §11).
#[derive(Clone, Debug, PartialEq)]
pub struct ItemRow {
    /// Item (shared by the item's rows).
    pub item_id: Arc<str>,
    /// Store (shared by the store's rows).
    pub store_id: Arc<str>,
    /// Day the rates are as of.
    pub date: Day,
    /// Bad reviews / reviews; `None` without reviews.
    pub bad_review_rate: Option<f64>,
    /// Quality refunds / orders paid.
    pub quality_refund_rate: f64,
    /// Item score in hundredths.
    pub score_cents: i64,
    /// `excellent`, `good`, `fair` or `poor` (from the rules).
    pub level: Arc<str>,
    /// Rule version used.
    pub rule_version: Arc<str>,
    /// Reviews, bad reviews, orders, quality refunds in the window.
    pub counts: [i64; 4],
}

/// The parameters that change the item aggregates.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ItemProfile {
    offset: UtcOffset,
    bad_max: i64,
    reasons: Vec<String>,
}

impl ItemProfile {
    fn of(rules: &dengta_rules::RuleSet) -> ItemProfile {
        ItemProfile {
            offset: rules.offset,
            bad_max: rules.quality.bad_review_max_item_score,
            reasons: rules.quality.quality_refund_reasons.clone(),
        }
    }
}

type ItemSeries = HashMap<(u32, String), [Series; 3]>;

async fn item_series(ds: &Dataset, p: &ItemProfile) -> Result<ItemSeries> {
    let ctx = crate::aggregate::session_for(ds)?;
    let grouped = |df: DataFrame, slot: u8, anchor: Expr, value: Expr| -> Result<DataFrame> {
        Ok(df
            .select(vec![
                col("store"),
                col("item_id"),
                crate::aggregate::business_day(anchor, p.offset).alias("day"),
                value.alias("v"),
            ])?
            .aggregate(
                vec![col("store"), col("item_id"), col("day")],
                vec![sum(col("v")).alias("sum"), count(lit(1i64)).alias("count")],
            )?
            .select(vec![
                lit(slot).alias("slot"),
                col("store"),
                col("item_id"),
                col("day"),
                cast(col("sum"), DataType::Int64).alias("sum"),
                col("count"),
            ])?)
    };
    let bad = when(col("item_score").lt_eq(lit(p.bad_max)), lit(1i64)).otherwise(lit(0i64))?;
    let reviews = grouped(ctx.table("reviews").await?, REVIEWS as u8, col("created_at"), bad)?;
    let reasons: Vec<Expr> = p.reasons.iter().map(|r| lit(r.clone())).collect();
    let refunds = grouped(
        ctx.table("refunds").await?.filter(col("reason").in_list(reasons, false))?,
        QUALITY_REFUNDS as u8,
        col("requested_at"),
        lit(0i64),
    )?;
    let orders = grouped(ctx.table("orders").await?, ORDERS as u8, col("paid_at"), lit(0i64))?;
    let mut series: ItemSeries = HashMap::new();
    for b in reviews.union(refunds)?.union(orders)?.collect().await? {
        let slot = b.column(0).as_primitive::<UInt8Type>();
        let store = b.column(1).as_primitive::<UInt32Type>();
        let item = cast_array(b.column(2), &DataType::Utf8)?;
        let item = item.as_string::<i32>();
        let day = b.column(3).as_primitive::<Int32Type>();
        let s = b.column(4).as_primitive::<Int64Type>();
        let c = b.column(5).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let entry = series.entry((store.value(i), item.value(i).to_string())).or_default();
            let sums = MeasureSums { sum: if s.is_null(i) { 0 } else { s.value(i) }, count: c.value(i) };
            entry[usize::from(slot.value(i))].push(Day(day.value(i)), sums);
        }
    }
    for slots in series.values_mut() {
        slots.iter_mut().for_each(Series::seal);
    }
    Ok(series)
}

fn level<'a>(rules: &'a QualityRules, rounded: &Exact) -> &'a str {
    rules.levels.iter().find(|(min, _)| rounded >= min).map_or(rules.otherwise.as_str(), |(_, l)| l.as_str())
}

/// An item-day's rates, score (hundredths) and level.
type ItemScore = (Option<f64>, f64, i64, Arc<str>);

/// Scores an item-day from `[reviews, bad reviews, orders, quality refunds]` in its
/// window (exact arithmetic; only the score is rounded, like SPEC §5).
fn item_score(
    q: &QualityRules,
    [reviews, bad, orders, refunds]: [i64; 4],
    intern: &mut dyn FnMut(&str) -> Arc<str>,
) -> ItemScore {
    let bad_rate = (reviews > 0).then(|| exact::ratio(i128::from(bad), i128::from(reviews)));
    let refund_rate = exact::ratio(i128::from(refunds), i128::from(orders));
    let refund_score = q.quality_refund_rate_curve.score(&refund_rate).0;
    let score = match &bad_rate {
        Some(b) => (q.bad_review_rate_curve.score(b).0 + refund_score) / exact::int(2),
        None => refund_score,
    };
    let rounded = exact::round_half_away(&score, 2);
    (
        bad_rate.as_ref().map(exact::to_f64),
        exact::to_f64(&refund_rate),
        (&rounded * exact::int(100)).trunc_i64().unwrap_or(0),
        intern(level(q, &rounded)),
    )
}

/// Item quality rows for every item and day of `from..=to` with at least the rules'
/// `min_orders` orders paid in the window, sorted by store, item, date.
pub async fn item_quality(ds: &Dataset, book: &RuleBook, from: Day, to: Day) -> Result<Vec<ItemRow>> {
    let mut by_profile: HashMap<ItemProfile, ItemSeries> = HashMap::new();
    for r in book.versions() {
        if let std::collections::hash_map::Entry::Vacant(e) = by_profile.entry(ItemProfile::of(r)) {
            let series = item_series(ds, e.key()).await?;
            e.insert(series);
        }
    }
    // Per day: the rules in force and the series of their profile.
    let mut days = Vec::new();
    for day in from.through(to) {
        let rules = rules_on(book, day)?;
        if let Some(series) = by_profile.get(&ItemProfile::of(rules)) {
            days.push((day, rules, series));
        }
    }
    let Some((_, _, first_series)) = days.first() else { return Ok(Vec::new()) };
    let keys: Vec<&(u32, String)> = first_series.keys().collect();
    let threads = crate::cores();
    let chunk = keys.len().div_ceil(threads).max(1);
    let parts: Vec<Vec<ItemRow>> = std::thread::scope(|scope| {
        let handles: Vec<_> = keys
            .chunks(chunk)
            .map(|part| {
                let days = &days;
                scope.spawn(move || {
                    let mut rows = Vec::new();
                    let mut memo: HashMap<(String, [i64; 4]), ItemScore> = HashMap::new();
                    let mut names: HashMap<String, Arc<str>> = HashMap::new();
                    let mut intern =
                        |s: &str| -> Arc<str> { names.entry(s.to_string()).or_insert_with(|| Arc::from(s)).clone() };
                    for key in part {
                        let (store, item) = key;
                        for (day, rules, series) in days {
                            let Some(slots) = series.get(*key) else { continue };
                            let q = &rules.quality;
                            let first = q.window.first_day(*day);
                            let orders = slots[ORDERS].window(first, *day).count;
                            if orders < q.min_orders {
                                continue;
                            }
                            let reviews = slots[REVIEWS].window(first, *day);
                            let refunds = slots[QUALITY_REFUNDS].window(first, *day).count;
                            let counts = [reviews.count, reviews.sum, orders, refunds];
                            // The result is a function of the counts and the rules alone,
                            // and small items repeat the same counts day after day.
                            let key = (rules.version.clone(), counts);
                            let (bad_review_rate, quality_refund_rate, score_cents, level) = match memo.get(&key) {
                                Some(hit) => hit.clone(),
                                None => {
                                    let computed = item_score(q, counts, &mut intern);
                                    memo.insert(key, computed.clone());
                                    computed
                                }
                            };
                            rows.push(ItemRow {
                                item_id: intern(item),
                                store_id: intern(&ds.stores[*store as usize].id),
                                date: *day,
                                bad_review_rate,
                                quality_refund_rate,
                                score_cents,
                                level,
                                rule_version: intern(&rules.version),
                                counts,
                            });
                        }
                    }
                    rows
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut rows: Vec<ItemRow> = parts.into_iter().flatten().collect();
    rows.sort_by(|a, b| (&a.store_id, &a.item_id, a.date).cmp(&(&b.store_id, &b.item_id, b.date)));
    Ok(rows)
}

/// Writes `item_quality.csv` and `item_quality.parquet` straight from the rows.
pub fn write(dir: &Path, rows: &[ItemRow]) -> Result<()> {
    use datafusion::arrow::array::{
        ArrayRef, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder, RecordBatch, StringBuilder,
    };
    use datafusion::arrow::datatypes::{Field, Schema};

    let csv_path = dir.join("item_quality.csv");
    crate::output::write_atomically(&csv_path, |out| {
        let mut w = csv::Writer::from_writer(out);
        let err = |e: csv::Error| crate::Error::Engine(format!("writing {}: {e}", csv_path.display()));
        w.write_record(COLUMNS.iter().map(|(n, _)| *n)).map_err(err)?;
        for r in rows {
            w.write_record([
                &*r.item_id,
                &*r.store_id,
                &r.date.to_string(),
                &r.bad_review_rate.map(|v| format!("{v:?}")).unwrap_or_default(),
                &format!("{:?}", r.quality_refund_rate),
                &exact::hundredths(r.score_cents),
                &*r.level,
                &*r.rule_version,
                &r.counts[0].to_string(),
                &r.counts[1].to_string(),
                &r.counts[2].to_string(),
                &r.counts[3].to_string(),
            ])
            .map_err(err)?;
        }
        w.flush().map_err(|e| crate::Error::Engine(format!("writing {}: {e}", csv_path.display())))
    })?;
    let text = |f: &dyn Fn(&ItemRow) -> &str| -> ArrayRef {
        let mut b = StringBuilder::new();
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish())
    };
    let int = |i: usize| -> ArrayRef {
        let mut b = Int64Builder::with_capacity(rows.len());
        rows.iter().for_each(|r| b.append_value(r.counts[i]));
        Arc::new(b.finish())
    };
    let mut dates = Date32Builder::with_capacity(rows.len());
    let mut bad = Float64Builder::with_capacity(rows.len());
    let mut refund = Float64Builder::with_capacity(rows.len());
    let mut score = Decimal128Builder::with_capacity(rows.len());
    for r in rows {
        dates.append_value(r.date.0);
        bad.append_option(r.bad_review_rate);
        refund.append_value(r.quality_refund_rate);
        score.append_value(i128::from(r.score_cents));
    }
    let columns: Vec<ArrayRef> = vec![
        text(&|r| &r.item_id),
        text(&|r| &r.store_id),
        Arc::new(dates.finish()),
        Arc::new(bad.finish()),
        Arc::new(refund.finish()),
        Arc::new(score.finish().with_precision_and_scale(6, 2)?),
        text(&|r| &r.level),
        text(&|r| &r.rule_version),
        int(0),
        int(1),
        int(2),
        int(3),
    ];
    let fields: Vec<Field> = COLUMNS.iter().map(|(n, t)| Field::new(*n, t.clone(), true)).collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    crate::output::write_parquet(&dir.join("item_quality.parquet"), &batch)
}

/// The `item_quality` columns (SPEC §11, then the counts that explain each row).
const COLUMNS: [(&str, DataType); 12] = [
    ("item_id", DataType::Utf8),
    ("store_id", DataType::Utf8),
    ("date", DataType::Date32),
    ("bad_review_rate", DataType::Float64),
    ("quality_refund_rate", DataType::Float64),
    ("score", DataType::Decimal128(6, 2)),
    ("level", DataType::Utf8),
    ("rule_version", DataType::Utf8),
    ("reviews_n", DataType::Int64),
    ("bad_reviews_n", DataType::Int64),
    ("orders_n", DataType::Int64),
    ("quality_refunds_n", DataType::Int64),
];
