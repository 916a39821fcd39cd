//! Product quality (SPEC §8): per item and day, the bad-review rate and the
//! quality-refund rate over the quality window, their curve scores, the item score
//! and its level.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast as cast_array;
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type, UInt8Type, UInt32Type};
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::prelude::*;
use dengta_model::exact::{self, Exact};
use dengta_model::{Day, MeasureSums, UtcOffset};
use dengta_rules::{QualityRules, RuleBook};
use num_traits::ToPrimitive;

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
    /// Item.
    pub item_id: String,
    /// Store.
    pub store_id: String,
    /// Day the rates are as of.
    pub date: Day,
    /// Bad reviews / reviews; `None` without reviews.
    pub bad_review_rate: Option<f64>,
    /// Quality refunds / orders paid.
    pub quality_refund_rate: f64,
    /// Item score in hundredths.
    pub score_cents: i64,
    /// `excellent`, `good`, `fair` or `poor` (from the rules).
    pub level: String,
    /// Rule version used.
    pub rule_version: String,
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

fn level(rules: &QualityRules, rounded: &Exact) -> String {
    rules.levels.iter().find(|(min, _)| rounded >= min).map_or_else(|| rules.otherwise.clone(), |(_, l)| l.clone())
}

/// Item quality rows for every item and day of `from..=to` with at least the rules'
/// `min_orders` orders paid in the window, sorted by store, item, date.
pub async fn item_quality(ds: &Dataset, book: &RuleBook, from: Day, to: Day) -> Result<Vec<ItemRow>> {
    let mut by_profile: HashMap<ItemProfile, ItemSeries> = HashMap::new();
    for r in book.versions() {
        let p = ItemProfile {
            offset: r.offset,
            bad_max: r.quality.bad_review_max_item_score,
            reasons: r.quality.quality_refund_reasons.clone(),
        };
        if !by_profile.contains_key(&p) {
            let s = item_series(ds, &p).await?;
            by_profile.insert(p, s);
        }
    }
    let mut rows = Vec::new();
    for day in from.through(to) {
        let rules = rules_on(book, day)?;
        let q = &rules.quality;
        let p = ItemProfile {
            offset: rules.offset,
            bad_max: q.bad_review_max_item_score,
            reasons: q.quality_refund_reasons.clone(),
        };
        let Some(series) = by_profile.get(&p) else { continue };
        let first = q.window.first_day(day);
        for ((store, item), slots) in series {
            let orders = slots[ORDERS].window(first, day).count;
            if orders < q.min_orders {
                continue;
            }
            let reviews = slots[REVIEWS].window(first, day);
            let refunds = slots[QUALITY_REFUNDS].window(first, day).count;
            let bad_rate =
                (reviews.count > 0).then(|| exact::ratio(i128::from(reviews.sum), i128::from(reviews.count)));
            let refund_rate = exact::ratio(i128::from(refunds), i128::from(orders));
            let refund_score = q.quality_refund_rate_curve.score(&refund_rate).0;
            let score = match &bad_rate {
                Some(b) => (q.bad_review_rate_curve.score(b).0 + refund_score) / exact::int(2),
                None => refund_score,
            };
            let rounded = exact::round_half_away(&score, 2);
            rows.push(ItemRow {
                item_id: item.clone(),
                store_id: ds.stores[*store as usize].id.clone(),
                date: day,
                bad_review_rate: bad_rate.as_ref().map(exact::to_f64),
                quality_refund_rate: exact::to_f64(&refund_rate),
                score_cents: (&rounded * exact::int(100)).to_integer().to_i64().unwrap_or(0),
                level: level(q, &rounded),
                rule_version: rules.version.clone(),
                counts: [reviews.count, reviews.sum, orders, refunds],
            });
        }
    }
    rows.sort_by(|a, b| (&a.store_id, &a.item_id, a.date).cmp(&(&b.store_id, &b.item_id, b.date)));
    Ok(rows)
}
