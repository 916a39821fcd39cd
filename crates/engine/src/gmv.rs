//! GMV per store and category for a year (SPEC §7): orders paid in the year (by
//! business date), leaving out orders with a refund completed by the year's end or a
//! dispute closed with a refund by then.

use std::collections::{BTreeMap, HashMap};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, UInt32Type};
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::prelude::*;
use dengta_model::{Day, UtcOffset};

use crate::dataset::Dataset;
use crate::error::Result;

/// One store's sales in one category in a year.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CategorySales {
    /// GMV in fen, after leaving out failed orders.
    pub gmv_fen: i64,
    /// Orders paid in the year (before leaving any out).
    pub orders: i64,
    /// Orders left out (refund completed or dispute refunded by year end).
    pub left_out: i64,
}

/// Sales per store index, then per category.
pub type YearSales = HashMap<u32, BTreeMap<String, CategorySales>>;

/// Computes the sales of every store in the business days `first..=last`.
pub async fn year_sales(ds: &Dataset, offset: UtcOffset, first: Day, last: Day) -> Result<YearSales> {
    let ctx = crate::aggregate::session_for(ds)?;
    let start = lit(first.start_ms(offset));
    let end = lit(last.plus(1).start_ms(offset));
    let failed_refunds = ctx
        .table("refunds")
        .await?
        .filter(col("completed_at").is_not_null().and(col("completed_at").lt(end.clone())))?
        .select(vec![col("order_id").alias("failed_id")])?;
    let failed_disputes = ctx
        .table("disputes")
        .await?
        .filter(col("closed_at").is_not_null().and(col("closed_at").lt(end.clone())).and(col("refunded")))?
        .select(vec![col("order_id").alias("failed_id")])?;
    let failed = failed_refunds.union(failed_disputes)?.distinct()?;
    let orders = ctx
        .table("orders")
        .await?
        .filter(col("paid_at").gt_eq(start).and(col("paid_at").lt(end)))?
        .join(failed, JoinType::Left, &["order_id"], &["failed_id"], None)?
        .select(vec![
            col("store"),
            col("category"),
            when(col("failed_id").is_null(), col("amount")).otherwise(lit(0i64))?.alias("kept"),
            when(col("failed_id").is_null(), lit(0i64)).otherwise(lit(1i64))?.alias("out"),
        ])?
        .aggregate(
            vec![col("store"), col("category")],
            vec![sum(col("kept")).alias("gmv"), count(lit(1i64)).alias("orders"), sum(col("out")).alias("left_out")],
        )?;
    let mut sales: YearSales = HashMap::new();
    for b in orders.collect().await? {
        let store = b.column(0).as_primitive::<UInt32Type>();
        let category = cast(b.column(1), &DataType::Utf8)?;
        let category = category.as_string::<i32>();
        let gmv = cast(b.column(2), &DataType::Int64)?;
        let gmv = gmv.as_primitive::<Int64Type>();
        let n = b.column(3).as_primitive::<Int64Type>();
        let out = cast(b.column(4), &DataType::Int64)?;
        let out = out.as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let v = |a: &datafusion::arrow::array::PrimitiveArray<Int64Type>| if a.is_null(i) { 0 } else { a.value(i) };
            sales.entry(store.value(i)).or_default().insert(
                category.value(i).to_string(),
                CategorySales { gmv_fen: v(gmv), orders: n.value(i), left_out: v(out) },
            );
        }
    }
    Ok(sales)
}
