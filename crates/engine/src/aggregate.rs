//! The heavy aggregation: events → per-store, per-business-day partial sums of every
//! [`Measure`], in Apache DataFusion.
//!
//! Every measure's query is derived from one definition ([`MeasureSpec`]: table,
//! filter, anchor instant, value); the queries are unioned into one plan whose
//! output is the long table `(measure, store, day, sum, count)`. The same logical
//! plan can run on a Ballista cluster, since it uses only built-in expressions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type, UInt8Type, UInt32Type};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::prelude::*;
use dengta_model::{Day, MS_PER_DAY, Measure, MeasureSums, UtcOffset};
use dengta_rules::RuleSet;

use crate::dataset::Dataset;
use crate::error::Result;
use crate::partials::DayPartials;
use crate::schema::Table;

/// The rule parameters that change which business day an event is anchored to.
/// Rule versions that share a profile share their partials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Profile {
    /// Business time zone.
    pub offset: UtcOffset,
    /// Pickup deadline after payment, ms.
    pub pickup_deadline_ms: i64,
    /// Reply deadline after a chat starts, ms.
    pub reply_deadline_ms: i64,
}

impl Profile {
    /// The profile of a rule version.
    pub fn of(rules: &RuleSet) -> Profile {
        Profile {
            offset: rules.offset,
            pickup_deadline_ms: rules.pickup_deadline_ms,
            reply_deadline_ms: rules.reply_deadline_ms,
        }
    }

    /// A short text key, stored with persisted partials.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.offset, self.pickup_deadline_ms, self.reply_deadline_ms)
    }
}

/// How one measure is computed from one event table.
pub struct MeasureSpec {
    /// The measure.
    pub measure: Measure,
    /// Its source table.
    pub table: Table,
    /// Which rows count.
    pub filter: Option<Expr>,
    /// The instant whose business day the row is counted on (ms).
    pub anchor: Expr,
    /// The value summed (Int64).
    pub value: Expr,
}

fn on_time(actual: &str, deadline: Expr) -> Expr {
    when(ident(actual).is_not_null().and(ident(actual).lt_eq(deadline)), lit(1i64))
        .otherwise(lit(0i64))
        .expect("a CASE with one WHEN and an ELSE is well formed")
}

/// The definition of every measure (SPEC §4's anchors and denominators).
///
/// Columns are named with `ident` (the name as is) rather than `col`, which parses
/// its argument as an SQL identifier each time: the same column, without the
/// parser's cost on every batch's expressions.
pub fn spec(measure: Measure, p: &Profile) -> MeasureSpec {
    let pickup_deadline = ident("paid_at") + lit(p.pickup_deadline_ms);
    let reply_deadline = ident("started_at") + lit(p.reply_deadline_ms);
    let completed = |kind: &str| Some(ident("kind").eq(lit(kind.to_string())).and(ident("completed_at").is_not_null()));
    let (table, filter, anchor, value) = match measure {
        Measure::Reviews => (Table::Reviews, None, ident("created_at"), ident("item_score")),
        Measure::PickupDeadlines => {
            (Table::Orders, None, pickup_deadline.clone(), on_time("picked_up_at", pickup_deadline))
        }
        Measure::OrdersPaid => (Table::Orders, None, ident("paid_at"), lit(0i64)),
        Measure::RefundOnlyCompleted => (
            Table::Refunds,
            completed("refund_only"),
            ident("completed_at"),
            ident("completed_at") - ident("requested_at"),
        ),
        Measure::ReturnRefundCompleted => (
            Table::Refunds,
            completed("return_refund"),
            ident("completed_at"),
            ident("completed_at") - ident("requested_at"),
        ),
        Measure::DisputesRefundedLiable => (
            Table::Disputes,
            Some(ident("closed_at").is_not_null().and(ident("refunded")).and(ident("merchant_liable"))),
            ident("closed_at"),
            lit(0i64),
        ),
        Measure::ComplaintsUpheld => (
            Table::Complaints,
            Some(ident("decided_at").is_not_null().and(ident("upheld"))),
            ident("decided_at"),
            lit(0i64),
        ),
        Measure::ChatDeadlines => {
            (Table::Chats, None, reply_deadline.clone(), on_time("first_human_reply_at", reply_deadline))
        }
        Measure::ChatReplies => (
            Table::Chats,
            Some(ident("first_human_reply_at").is_not_null()),
            ident("first_human_reply_at"),
            ident("first_human_reply_at") - ident("started_at"),
        ),
    };
    MeasureSpec { measure, table, filter, anchor, value }
}

/// The columns of each event table (names as in [`crate::dataset::event_schema`])
/// that the aggregation reads for these profiles: what a run that needs only the
/// partials keeps of the events (see [`crate::reader::ReadOptions::columns`]).
pub fn columns_read<'p>(profiles: impl IntoIterator<Item = &'p Profile>) -> BTreeMap<Table, BTreeSet<String>> {
    let mut columns: BTreeMap<Table, BTreeSet<String>> = BTreeMap::new();
    for profile in profiles {
        for measure in Measure::ALL {
            let s = spec(measure, profile);
            let used = columns.entry(s.table).or_default();
            used.insert("store".to_string());
            for expr in s.filter.iter().chain([&s.anchor, &s.value]) {
                used.extend(expr.column_refs().into_iter().map(|c| c.name.clone()));
            }
        }
    }
    columns
}

/// The business day of an instant expression: floor((ms + offset) / day), also for
/// instants before 1970.
pub(crate) fn business_day(anchor: Expr, offset: UtcOffset) -> Expr {
    let local = anchor + lit(offset.millis());
    let rem = ((local.clone() % lit(MS_PER_DAY)) + lit(MS_PER_DAY)) % lit(MS_PER_DAY);
    cast((local - rem) / lit(MS_PER_DAY), DataType::Int32)
}

/// Below this many event rows held in memory, a dataset is small: [`aggregate`]
/// evaluates its expressions without the planner ([`aggregate_rows`]), and
/// [`session_for`] gives it a light session (a small `score` run, GMV, item quality).
pub const LIGHT_SESSION_ROWS: usize = 200_000;

/// Registers the dataset's event batches as tables of a new DataFusion session:
/// a light one for a small dataset held in memory (see [`is_light`]), a full one
/// otherwise.
pub fn session_for(ds: &Dataset) -> Result<SessionContext> {
    session_with(ds, is_light(ds))
}

/// Is the dataset held in memory, with fewer than [`LIGHT_SESSION_ROWS`] event rows?
pub fn is_light(ds: &Dataset) -> bool {
    let in_memory = ds.events.values().all(|e| e.files.is_empty());
    let rows: usize = ds.events.values().flat_map(|e| &e.batches).map(RecordBatch::num_rows).sum();
    in_memory && rows < LIGHT_SESSION_ROWS
}

/// As [`session_for`], the session's weight chosen by the caller.
///
/// A light session runs the plan on one partition and without DataFusion's
/// logical optimizer rules (its analyzer rules, such as type coercion, and its
/// physical optimizer still run). Optimizer rules rewrite a plan into an
/// equivalent one, so the results are the same; what changes is the time. For a
/// day's batch of a 10 M-order year (some 60 000 events) planning was two thirds
/// of the aggregation's 31 ms, and the light session takes it to 19 ms.
pub fn session_with(ds: &Dataset, light: bool) -> Result<SessionContext> {
    let partitions = if light { 1 } else { crate::cores() };
    let config = SessionConfig::new().with_target_partitions(partitions);
    let mut state = datafusion::execution::SessionStateBuilder::new().with_config(config).with_default_features();
    if light {
        state = state.with_optimizer_rules(Vec::new());
    }
    let ctx = SessionContext::new_with_state(state.build());
    for (table, events) in &ds.events {
        if events.files.is_empty() {
            let mem = MemTable::try_new(events.schema.clone(), vec![events.batches.clone()])?;
            ctx.register_table(table.name(), Arc::new(mem))?;
        } else {
            ctx.register_table(table.name(), parquet_table(events)?)?;
        }
    }
    Ok(ctx)
}

/// A table over the Parquet files the reader spilled a table's events to, with
/// their known schema (nothing is inferred).
fn parquet_table(events: &crate::dataset::EventBatches) -> Result<Arc<ListingTable>> {
    let urls = events
        .files
        .iter()
        .map(|f| {
            let path = std::path::absolute(f).map_err(|e| crate::Error::io(f, e))?;
            Ok(ListingTableUrl::parse(path.display().to_string())?)
        })
        .collect::<Result<Vec<_>>>()?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config =
        ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options).with_schema(events.schema.clone());
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// A session on a Ballista cluster (`df://HOST:PORT`) whose event tables are the
/// dataset's checked events, staged as Parquet files under `stage` (a path every
/// executor must reach: shared storage). The aggregation plan is the same as local.
pub async fn cluster_session(url: &str, ds: &Dataset, stage: &std::path::Path) -> Result<SessionContext> {
    use ballista::prelude::SessionContextExt;
    std::fs::create_dir_all(stage).map_err(|e| crate::Error::io(stage, e))?;
    let ctx = SessionContext::remote(url).await?;
    for (table, events) in &ds.events {
        if !events.files.is_empty() {
            // Already spilled by the reader (under the same folder): register as is.
            for f in &events.files {
                let path = std::path::absolute(f).map_err(|e| crate::Error::io(f, e))?;
                ctx.register_parquet(table.name(), path.display().to_string(), ParquetReadOptions::default()).await?;
            }
            continue;
        }
        let dir = std::path::absolute(stage.join(table.name())).map_err(|e| crate::Error::io(stage, e))?;
        std::fs::create_dir_all(&dir).map_err(|e| crate::Error::io(&dir, e))?;
        let all = datafusion::arrow::compute::concat_batches(&events.schema, &events.batches)?;
        crate::output::write_parquet(&dir.join("part-0.parquet"), &all)?;
        ctx.register_parquet(table.name(), dir.display().to_string(), ParquetReadOptions::default()).await?;
    }
    Ok(ctx)
}

/// The stride of the store in the aggregation's grouping key.
const STORE_STRIDE: i64 = 1 << 32;

/// The plan computing `(measure, store, day, sum, count)` for every measure.
pub async fn partials_plan(ctx: &SessionContext, profile: &Profile) -> Result<DataFrame> {
    let mut plan: Option<DataFrame> = None;
    for measure in Measure::ALL {
        let s = spec(measure, profile);
        let mut df = ctx.table(s.table.name()).await?;
        if let Some(f) = s.filter {
            df = df.filter(f)?;
        }
        // Grouped by one Int64 key, store × 2³² + day, rather than by the two
        // columns: DataFusion's hash table for a single primitive column is faster
        // than its multi-column one (whose inserts were a fifth of this stage).
        let key = cast(col("store"), DataType::Int64) * lit(STORE_STRIDE)
            + cast(business_day(s.anchor, profile.offset), DataType::Int64);
        // The day is within ±2³¹, so key + 2³¹ ≥ 0 and the division floors.
        let store = (col("key") + lit(STORE_STRIDE / 2)) / lit(STORE_STRIDE);
        let df = df
            .select(vec![key.alias("key"), s.value.alias("v")])?
            .aggregate(vec![col("key")], vec![sum(col("v")).alias("sum"), count(lit(1i64)).alias("count")])?
            .select(vec![
                lit(measure.code()).alias("measure"),
                cast(store.clone(), DataType::UInt32).alias("store"),
                cast(col("key") - store * lit(STORE_STRIDE), DataType::Int32).alias("day"),
                cast(col("sum"), DataType::Int64).alias("sum"),
                col("count"),
            ])?;
        plan = Some(match plan {
            None => df,
            Some(p) => p.union(df)?,
        });
    }
    Ok(plan.expect("Measure::ALL is not empty"))
}

/// Runs the aggregation of a dataset for one profile: a small dataset held in
/// memory (a day's batch) by [`aggregate_rows`], any other by the plan.
pub async fn aggregate(ds: &Dataset, profile: &Profile) -> Result<DayPartials> {
    if is_light(ds) {
        return aggregate_rows(ds, profile);
    }
    let (ctx, profile, stores) = (session_for(ds)?, *profile, ds.stores.len());
    crate::on_worker_threads(async move {
        let batches = partials_plan(&ctx, &profile).await?.collect().await?;
        partials_from_batches(stores, &batches)
    })
    .await
}

/// The partials of a dataset's events held in memory, without the query planner:
/// each measure's filter, business day and value (the expressions of [`spec`], as
/// in the plan) are evaluated by DataFusion's physical expressions batch by batch,
/// and the rows that pass the filter are summed per store and day in a hash map, as
/// the plan's grouping does.
///
/// Planning the nine-way union costs about 13 ms whatever the input, which was
/// most of the aggregation of a day's batch (a 1 M-order year's day is some 6,000
/// events, a 10 M one's 60,000). The expressions are turned into physical ones
/// directly, without a session: they are typed already (Int64 instants and values,
/// explicit casts), so the session's type coercion and simplification have nothing
/// to do, and building a session (its analyzer, optimizer and catalog) was half of
/// this function's time on a 1 M-order year's day.
pub fn aggregate_rows(ds: &Dataset, profile: &Profile) -> Result<DayPartials> {
    use datafusion::common::DFSchema;
    use datafusion::logical_expr::execution_props::ExecutionProps;
    use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
    let (props, planning) = (ExecutionProps::new(), PhysicalPlanningContext::default());
    let physical =
        |e: Expr, schema: &DFSchema| datafusion::physical_expr::create_physical_expr(&e, schema, &props, &planning);
    let mut partials = DayPartials::new(ds.stores.len());
    let mut groups: crate::FastMap<(u32, i32), MeasureSums> = crate::FastMap::default();
    for measure in Measure::ALL {
        let s = spec(measure, profile);
        let Some(events) = ds.events.get(&s.table) else { continue };
        if !events.files.is_empty() {
            return Err(crate::Error::Internal(format!("the {} events are not in memory", s.table.name())));
        }
        let schema = DFSchema::try_from(events.schema.as_ref().clone())?;
        let filter = s.filter.map(|f| physical(f, &schema)).transpose()?;
        let day = physical(business_day(s.anchor, profile.offset), &schema)?;
        let value = physical(cast(s.value, DataType::Int64), &schema)?;
        for batch in &events.batches {
            let rows = batch.num_rows();
            let keep = filter.as_ref().map(|f| f.evaluate(batch)?.into_array(rows)).transpose()?;
            let keep = keep.as_ref().map(|k| k.as_boolean());
            let days = day.evaluate(batch)?.into_array(rows)?;
            let days = days.as_primitive::<Int32Type>();
            let values = value.evaluate(batch)?.into_array(rows)?;
            let values = values.as_primitive::<Int64Type>();
            let stores = batch
                .column_by_name("store")
                .and_then(|c| c.as_primitive_opt::<UInt32Type>())
                .ok_or_else(|| crate::Error::Internal(format!("the {} events have no store column", s.table.name())))?;
            for r in 0..rows {
                // A WHERE keeps a row whose condition is true (not false, not null).
                if keep.is_some_and(|k| k.is_null(r) || !k.value(r)) {
                    continue;
                }
                if days.is_null(r) || stores.is_null(r) {
                    return Err(crate::Error::Internal(format!("a {} event without a store or day", s.table.name())));
                }
                // SUM skips nulls; COUNT(1) counts the row.
                let group = groups.entry((stores.value(r), days.value(r))).or_default();
                group.sum += if values.is_null(r) { 0 } else { values.value(r) };
                group.count += 1;
            }
        }
        for ((store, day), sums) in groups.drain() {
            partials.add(store as usize, measure, Day(day), sums);
        }
    }
    partials.seal();
    Ok(partials)
}

/// Builds the in-memory window index from `(measure, store, day, sum, count)` rows.
pub fn partials_from_batches(stores: usize, batches: &[RecordBatch]) -> Result<DayPartials> {
    let mut partials = DayPartials::new(stores);
    for batch in batches {
        add_partials(&mut partials, batch)?;
    }
    partials.seal();
    Ok(partials)
}

/// Adds one batch of `(measure, store, day, sum, count)` rows to unsealed partials.
pub fn add_partials(partials: &mut DayPartials, batch: &RecordBatch) -> Result<()> {
    {
        let measure = batch.column(0).as_primitive::<UInt8Type>();
        let store = batch.column(1).as_primitive::<UInt32Type>();
        let day = batch.column(2).as_primitive::<Int32Type>();
        let s = batch.column(3).as_primitive::<Int64Type>();
        let c = batch.column(4).as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            let m = Measure::from_code(measure.value(i))
                .ok_or_else(|| crate::Error::Internal(format!("unknown measure code {}", measure.value(i))))?;
            partials.add(
                store.value(i) as usize,
                m,
                Day(day.value(i)),
                MeasureSums { sum: if s.is_null(i) { 0 } else { s.value(i) }, count: c.value(i) },
            );
        }
    }
    Ok(())
}
