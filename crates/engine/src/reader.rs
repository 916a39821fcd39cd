//! Reading a dataset directory with the bad-input contract of SPEC §3: every rejected
//! row is accounted for, duplicates keep the first valid row, a missing required
//! column stops the run.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, BooleanArray, BooleanBuilder, Date32Builder, Int64Builder, StringBuilder, UInt32Builder,
};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use dengta_model::Day;

use crate::cell::{self, Reason, Value};
use crate::dataset::{Dataset, EventBatches, Exemption, ExemptionScope, Reject, Store, TableSummary, event_schema};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::schema::{Kind, Table};
use crate::source::{self, Row, Source};

/// Rows per Arrow batch of checked events.
const BATCH_ROWS: usize = 65_536;

/// How a dataset is read.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Write the checked events of each table as Parquet files under this folder
    /// (`SPILL/TABLE/part-0.parquet`) instead of holding them in memory: memory then
    /// stays bounded by one batch per table and the id sets, whatever the size of the
    /// dataset. Row numbers of accepted rows are not kept.
    pub spill: Option<PathBuf>,
    /// Keep only these columns of each event table (names as in [`event_schema`]);
    /// every column when `None`. A run that needs only the daily scores keeps the
    /// columns the aggregation reads and does not build or spill the others (item
    /// ids, categories, order ids). Every column is still checked.
    pub columns: Option<BTreeMap<Table, BTreeSet<String>>>,
    /// Tables read from these sources instead of the dataset directory's (a store's
    /// own list of stores, for a batch that brings none).
    pub sources: BTreeMap<Table, Source>,
}

/// Reads and checks every table of a dataset directory, holding the checked events
/// in memory.
pub fn read_dataset(dir: &Path, progress: &dyn Progress) -> Result<Dataset> {
    read_dataset_with(dir, progress, &ReadOptions::default())
}

/// Reads and checks every table of a dataset directory.
pub fn read_dataset_with(dir: &Path, progress: &dyn Progress, options: &ReadOptions) -> Result<Dataset> {
    check_dataset_dir(dir)?;
    let mut ds = Dataset::new(dir);
    // Stores first: every event table checks its store references against them.
    let stores = read_table(dir, Table::Stores, &ds.store_index, progress, options)?.ok_or_else(|| {
        Error::input(dir, "no `stores` table (stores.csv, stores.parquet or stores/): it is required")
    })?;
    ds.absorb(Table::Stores, stores);
    tracing::debug!(stores = ds.stores.len(), "Read the store list.");

    // The other tables are independent of each other: read them on every core.
    progress.stage("reading events", None);
    let rest: Vec<Table> = Table::ALL.into_iter().filter(|t| *t != Table::Stores).collect();
    let index = &ds.store_index;
    // Each table's own result is kept: an error is reported in table order below.
    let read = |&table: &Table| Ok((table, read_table(dir, table, index, progress, options)));
    let results = crate::on_every_core(&rest, read, "a thread reading tables")?;
    for (table, result) in results {
        match result? {
            Some(read) => ds.absorb(table, read),
            None => {
                if table != Table::Exemptions {
                    ds.warnings.push(format!("table `{table}` is absent from {}; it is read as empty", dir.display()));
                }
                ds.summaries.insert(table, TableSummary::default());
                if Table::EVENTS.contains(&table) {
                    ds.events.insert(table, EventBatches::empty(table));
                }
            }
        }
    }
    ds.rejects.sort_by(|a, b| a.table.name().cmp(b.table.name()).then(a.row.cmp(&b.row)));
    Ok(ds)
}

/// Fails unless `dir` is a folder (what a dataset is), before anything is read or
/// written for it.
pub fn check_dataset_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    Err(Error::input(dir, "not a dataset directory (expected a folder holding stores.csv and event tables)"))
}

/// One table read: its account, its rejects, its accepted rows.
struct TableRead {
    summary: TableSummary,
    rejects: Vec<Reject>,
    output: Output,
}

impl Dataset {
    fn absorb(&mut self, table: Table, read: TableRead) {
        match read.output {
            Output::Stores(stores) => {
                self.store_index = stores.iter().enumerate().map(|(i, s)| (s.id.clone(), i as u32)).collect();
                self.stores = stores;
            }
            Output::Exemptions(exemptions) => self.exemptions = exemptions,
            Output::Events(batches) => {
                self.events.insert(table, batches);
            }
        }
        self.summaries.insert(table, read.summary);
        self.rejects.extend(read.rejects);
    }
}

/// Reads and checks one table; `None` when the dataset has no such table.
fn read_table(
    dir: &Path,
    table: Table,
    stores_by_id: &HashMap<String, u32>,
    progress: &dyn Progress,
    options: &ReadOptions,
) -> Result<Option<TableRead>> {
    let src = match options.sources.get(&table) {
        Some(src) => src.clone(),
        None => match source::locate(dir, table)? {
            Some(src) => src,
            None => return Ok(None),
        },
    };
    let spill = options.spill.as_deref().filter(|_| Table::EVENTS.contains(&table));
    let keep = |name: &str| options.columns.as_ref().is_none_or(|c| c.get(&table).is_some_and(|c| c.contains(name)));
    let expected = src.estimated_rows().unwrap_or(0);
    let mut checker = Checker::new(table, stores_by_id, spill, &keep, expected)?;
    let mut summary = TableSummary { source: Some(src.path().to_path_buf()), ..TableSummary::default() };
    let mut rejects = Vec::new();
    source::for_each_row(&src, table, &mut |row_no, row| {
        summary.read += 1;
        if row_no % 100_000 == 0 {
            progress.advance(100_000);
        }
        // Filled in place (a row's values are a few hundred bytes: not moved).
        let mut values = Values::new();
        match checker.check_row(row, &mut values) {
            Ok(store) => {
                summary.accepted += 1;
                checker.accept(row_no, &values, store)
            }
            Err((column, reason, value)) => {
                summary.rejected += 1;
                rejects.push(Reject { table, row: row_no, column, reason, value });
                Ok(())
            }
        }
    })?;
    let (output, duplicates) = checker.finish()?;
    // Ids of event rows are checked a batch at a time, after the rows' other checks.
    summary.accepted -= duplicates.len() as u64;
    summary.rejected += duplicates.len() as u64;
    rejects.extend(duplicates);
    Ok(Some(TableRead { summary, rejects, output }))
}

/// A rejected row: the column, the reason, the value as read.
type RowError = (String, Reason, String);

enum Output {
    Stores(Vec<Store>),
    Exemptions(Vec<Exemption>),
    Events(EventBatches),
}

enum ColumnBuilder {
    Text(StringBuilder),
    Store(UInt32Builder),
    Int(Int64Builder),
    Date(Date32Builder),
    Bool(BooleanBuilder),
}

impl ColumnBuilder {
    fn for_kind(kind: Kind) -> ColumnBuilder {
        match kind {
            Kind::StoreRef => ColumnBuilder::Store(UInt32Builder::new()),
            Kind::Id | Kind::Text | Kind::Enum(_) => ColumnBuilder::Text(StringBuilder::new()),
            Kind::Timestamp | Kind::Amount | Kind::ReviewScore => ColumnBuilder::Int(Int64Builder::new()),
            Kind::Date => ColumnBuilder::Date(Date32Builder::new()),
            Kind::Bool => ColumnBuilder::Bool(BooleanBuilder::new()),
        }
    }

    fn append(&mut self, value: &Value, store: Option<u32>) -> Result<()> {
        match (self, value) {
            (ColumnBuilder::Store(b), _) => b.append_option(store),
            (ColumnBuilder::Text(b), Value::Text(t)) => b.append_value(t),
            (ColumnBuilder::Int(b), Value::Ms(v) | Value::Fen(v) | Value::Int(v)) => b.append_value(*v),
            (ColumnBuilder::Date(b), Value::Day(d)) => b.append_value(d.0),
            (ColumnBuilder::Bool(b), Value::Bool(v)) => b.append_value(*v),
            (ColumnBuilder::Text(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Int(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Date(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Bool(b), Value::Null) => b.append_null(),
            (_, v) => return Err(Error::Internal(format!("checked value {v:?} does not fit its column"))),
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Store(b) => Arc::new(b.finish()),
            ColumnBuilder::Int(b) => Arc::new(b.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
        }
    }
}

/// The Parquet file a table's checked events are written to.
struct Spill {
    path: PathBuf,
    writer: ArrowWriter<std::io::BufWriter<std::fs::File>>,
}

impl Spill {
    fn create(folder: &Path, table: Table, schema: SchemaRef) -> Result<Spill> {
        let dir = folder.join(table.name());
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join("part-0.parquet");
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        // Written once, read once or twice, by this machine, and removed when the run
        // ends: no compression, dictionaries or statistics (at 10 M orders these took
        // a fifth of the reading time, for files the page cache holds anyway), and
        // row groups small enough to keep the writer's buffer small.
        let props = WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::None)
            .set_max_row_group_row_count(Some(4 * BATCH_ROWS))
            .build();
        let writer = ArrowWriter::try_new(std::io::BufWriter::new(file), schema, Some(props))?;
        Ok(Spill { path, writer })
    }
}

/// A set of ids, each kept as a 128-bit hash (XXH3-128 with a seed drawn for the
/// run) rather than as text: 16 bytes an id, whatever its length. Two distinct ids
/// share a hash with probability about n²/2¹²⁹ (10⁻²³ for 50 million ids).
///
/// The set is split by the hash's top bits into up to [`ID_PARTS`] small tables, and
/// an event table's ids are inserted a batch at a time, grouped by part (in row order
/// within a part, so the first row with an id still wins): a batch then works on one
/// small table after another instead of jumping across one table of millions. A set
/// expected to hold few ids (a day's batch) is one table: 256 of them would be 256
/// allocations of a minimum size, per table read, for a few thousand ids.
struct IdSet {
    seed: u64,
    /// A power of two, at most [`ID_PARTS`].
    parts: Vec<HashTable>,
    /// Scratch for [`IdSet::insert_batch`]: `(hash, position)` grouped by part.
    grouped: Vec<(u128, u32)>,
}

/// The most parts of an [`IdSet`] (a power of two).
const ID_PARTS: usize = 256;

/// About how many ids an [`IdSet`]'s part is sized for, when there is more than one.
const IDS_PER_PART: u64 = 4096;

impl IdSet {
    /// A set sized for about `expected` ids (it grows past that if need be).
    fn new(expected: u64) -> IdSet {
        use std::hash::BuildHasher;
        let parts = usize::try_from(expected / IDS_PER_PART).unwrap_or(ID_PARTS).clamp(1, ID_PARTS);
        let parts = if parts.is_power_of_two() { parts } else { parts.next_power_of_two() / 2 };
        // Ids spread evenly over the parts; a margin for the spread and the estimate.
        let per_part = usize::try_from(expected / parts as u64).unwrap_or(usize::MAX / 4);
        let per_part = per_part.saturating_add(per_part / 10);
        IdSet {
            seed: std::collections::hash_map::RandomState::new().hash_one(0u8),
            parts: (0..parts)
                .map(|_| {
                    let mut table = HashTable::default();
                    if per_part > 0 {
                        table.reserve(per_part);
                    }
                    table
                })
                .collect(),
            grouped: Vec::new(),
        }
    }

    fn hash(&self, id: &str) -> u128 {
        xxhash_rust::xxh3::xxh3_128_with_seed(id.as_bytes(), self.seed)
    }

    /// The part of a hash: its top bits (none when there is one part).
    fn part(&self, hash: u128) -> usize {
        hash.checked_shr(128 - self.parts.len().trailing_zeros()).map_or(0, |p| p as usize)
    }

    /// Adds `id`; `false` when it was there already.
    fn insert(&mut self, id: &str) -> bool {
        let hash = self.hash(id);
        let part = self.part(hash);
        self.parts[part].insert(hash)
    }

    /// Adds the hashes of a batch, in order; returns the positions of those that were
    /// there already (seen in an earlier batch or earlier in this one), ascending.
    fn insert_batch(&mut self, hashes: &[Option<u128>]) -> Vec<usize> {
        let mut counts = [0usize; ID_PARTS + 1];
        let parts = self.parts.len();
        for h in hashes.iter().flatten() {
            counts[self.part(*h) + 1] += 1;
        }
        for p in 0..parts {
            counts[p + 1] += counts[p];
        }
        let total = counts[parts];
        self.grouped.clear();
        self.grouped.resize(total, (0, 0));
        for (at, h) in hashes.iter().enumerate() {
            if let Some(h) = h {
                let slot = &mut counts[self.part(*h)];
                self.grouped[*slot] = (*h, at as u32);
                *slot += 1;
            }
        }
        let mut seen_before = Vec::new();
        let mut start = 0;
        while start < total {
            let part = self.part(self.grouped[start].0);
            let end = start + self.grouped[start..].iter().take_while(|(h, _)| self.part(*h) == part).count();
            let table = &mut self.parts[part];
            table.reserve(end - start);
            for &(h, at) in &self.grouped[start..end] {
                if !table.insert(h) {
                    seen_before.push(at as usize);
                }
            }
            start = end;
        }
        seen_before.sort_unstable();
        seen_before
    }
}

/// An open-addressing set of 128-bit hashes (linear probing, at most half full): an
/// insert reads one or two neighbouring slots, where a general hash table reads a
/// control byte and then a slot elsewhere. The hashes are already uniform, so a
/// slot's index is their low 64 bits scaled to the number of slots (multiply and
/// shift: any size, not only powers of two, so a table sized from the expected
/// count is not rounded up to twice that); 0 marks an empty slot, so the hash 0 is
/// stored as 1 (a merge of two of 2¹²⁸ values).
#[derive(Default)]
struct HashTable {
    slots: Vec<u128>,
    len: usize,
}

impl HashTable {
    /// Makes room for `more` inserts without growing in between: to exactly twice
    /// the count when the table is empty (sized up front), else at least doubling.
    fn reserve(&mut self, more: usize) {
        let needed = (self.len + more) * 2;
        if needed <= self.slots.len() {
            return;
        }
        let capacity = if self.len == 0 { needed.max(64) } else { needed.max(2 * self.slots.len()) };
        // Zeroed by writing, not by `vec![0; n]`: the latter maps the kernel's
        // shared zero page, and an insert's write after a probe's read then faults
        // again and flushes the page from every core's TLB (5 % of the read stage).
        #[expect(clippy::slow_vector_initialization, reason = "zeroed by writing on purpose, see above")]
        let slots = {
            let mut slots = Vec::with_capacity(capacity);
            slots.resize(capacity, 0);
            slots
        };
        let old = std::mem::replace(&mut self.slots, slots);
        for h in old.into_iter().filter(|h| *h != 0) {
            self.place(h);
        }
    }

    /// Puts `hash` (not 0) in the first empty slot of its run; `false` when it is there.
    fn place(&mut self, hash: u128) -> bool {
        let n = self.slots.len();
        let mut i = ((u128::from(hash as u64) * n as u128) >> 64) as usize;
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = hash;
                    return true;
                }
                h if h == hash => return false,
                _ => {
                    i += 1;
                    if i == n {
                        i = 0;
                    }
                }
            }
        }
    }

    /// Adds `hash`; `false` when it was there already.
    fn insert(&mut self, hash: u128) -> bool {
        self.reserve(1);
        let added = self.place(hash.max(1));
        self.len += usize::from(added);
        added
    }
}

/// A row's checked values, in the table's column order.
type Values<'r> = arrayvec::ArrayVec<Value<'r>, { source::MAX_COLUMNS }>;

/// Checks the rows of one table and keeps the accepted ones.
struct Checker<'a> {
    table: Table,
    /// The accepted stores' ids, with a fast hasher (looked up once per event row).
    stores_by_id: crate::FastMap<&'a str, u32>,
    /// [`Table::orderings`] as column positions.
    orderings: Vec<(usize, usize)>,
    /// The store reference column (event tables).
    store_column: Option<usize>,
    ids: IdSet,
    spill: Option<Spill>,
    /// One per column of the table; `None` for a column not kept (see
    /// [`ReadOptions::columns`]). The id column is always built: a duplicate's
    /// reject quotes it.
    builders: Vec<Option<ColumnBuilder>>,
    /// The schema of the built columns, the id column's position among them, and
    /// the positions among them of the columns kept.
    built: SchemaRef,
    id_in_batch: Option<usize>,
    kept: Vec<usize>,
    pending: usize,
    batches: Vec<RecordBatch>,
    stores: Vec<Store>,
    exemptions: Vec<Exemption>,
    /// Row numbers of the accepted rows kept in memory (not when spilling).
    row_numbers: Vec<u64>,
    /// The id column (event tables).
    id_column: Option<usize>,
    /// Of the rows in the builders: their numbers and id hashes, checked at flush.
    pending_rows: Vec<u64>,
    pending_ids: Vec<Option<u128>>,
    /// Rows rejected at flush because an earlier row had their id.
    duplicates: Vec<Reject>,
}

impl<'a> Checker<'a> {
    fn new(
        table: Table,
        stores_by_id: &'a HashMap<String, u32>,
        spill: Option<&Path>,
        keep: &dyn Fn(&str) -> bool,
        expected_rows: u64,
    ) -> Result<Checker<'a>> {
        let at = |name: &str| table.column_index(name).expect("orderings name columns of their own table");
        let full = event_schema(table);
        let id_column = table.columns().iter().position(|c| c.kind == Kind::Id);
        let built_at: Vec<usize> =
            (0..full.fields().len()).filter(|&i| Some(i) == id_column || keep(full.field(i).name())).collect();
        let built = SchemaRef::new(full.project(&built_at).expect("positions of the table's own schema"));
        let kept: Vec<usize> = (0..built_at.len()).filter(|&i| keep(built.field(i).name())).collect();
        let spill = match spill {
            Some(folder) => Some(Spill::create(folder, table, SchemaRef::new(built.project(&kept)?))?),
            None => None,
        };
        Ok(Checker {
            table,
            stores_by_id: stores_by_id.iter().map(|(id, i)| (id.as_str(), *i)).collect(),
            orderings: table.orderings().iter().map(|(a, b)| (at(a), at(b))).collect(),
            store_column: table.columns().iter().position(|c| c.kind == Kind::StoreRef),
            ids: IdSet::new(if id_column.is_some() { expected_rows } else { 0 }),
            spill,
            builders: table
                .columns()
                .iter()
                .enumerate()
                .map(|(i, c)| built_at.contains(&i).then(|| ColumnBuilder::for_kind(c.kind)))
                .collect(),
            id_in_batch: id_column.and_then(|i| built_at.iter().position(|&b| b == i)),
            built,
            kept,
            pending: 0,
            batches: Vec::new(),
            stores: Vec::new(),
            exemptions: Vec::new(),
            row_numbers: Vec::new(),
            id_column,
            pending_rows: Vec::new(),
            pending_ids: Vec::new(),
            duplicates: Vec::new(),
        })
    }

    /// Event tables check ids a batch at a time ([`Checker::flush`]); the store and
    /// exemption lists row by row.
    fn ids_at_flush(&self) -> bool {
        !matches!(self.table, Table::Stores | Table::Exemptions)
    }

    /// Checks one record: each column in order, then orderings, then the store
    /// reference, then the id's uniqueness (only valid rows claim an id; event
    /// tables' ids are checked at [`Checker::flush`]). Fills `values`; returns the
    /// referenced store's index.
    fn check_row<'r>(&mut self, row: Row<'r>, values: &mut Values<'r>) -> std::result::Result<Option<u32>, RowError> {
        let cells = match row {
            Row::Malformed(raw) => return Err((String::new(), Reason::MalformedRow, raw)),
            Row::Cells(cells) => cells,
        };
        let columns = self.table.columns();
        for (column, cell) in columns.iter().zip(cells) {
            let value = cell::check(cell, column.kind).map_err(|r| (column.name.to_string(), r, cell.display()))?;
            let required = !column.optional_value || self.conditionally_required(column.name, values);
            if value == Value::Null && required {
                return Err((column.name.to_string(), Reason::MissingValue, cell.display()));
            }
            values.push(value);
        }
        for &(earlier, later) in &self.orderings {
            let before = match (&values[earlier], &values[later]) {
                (Value::Ms(a), Value::Ms(b)) => b < a,
                (Value::Day(a), Value::Day(b)) => b < a,
                _ => false,
            };
            if before {
                return Err((columns[later].name.to_string(), Reason::EndBeforeStart, cells[later].display()));
            }
        }
        let mut store = None;
        if let Some(i) = self.store_column
            && let Value::Text(id) = &values[i]
        {
            store = self.stores_by_id.get(id.as_ref()).copied();
            if store.is_none() {
                return Err((columns[i].name.to_string(), Reason::UnknownStore, id.to_string()));
            }
        }
        if self.table == Table::Exemptions
            && self.value(values, "scope") == &Value::Text("store".into())
            && let Some(i) = self.table.column_index("target")
            && let Value::Text(id) = &values[i]
            && !self.stores_by_id.contains_key(id.as_ref())
        {
            return Err((columns[i].name.to_string(), Reason::UnknownStore, id.to_string()));
        }
        if let Some(i) = self.id_column
            && !self.ids_at_flush()
            && let Value::Text(id) = &values[i]
            && !self.ids.insert(id)
        {
            return Err((columns[i].name.to_string(), Reason::DuplicateId, id.to_string()));
        }
        Ok(store)
    }

    /// An exemption's `target` is required unless its scope is `all`.
    fn conditionally_required(&self, column: &str, earlier: &[Value]) -> bool {
        self.table == Table::Exemptions && column == "target" && earlier.first() != Some(&Value::Text("all".into()))
    }

    fn index(&self, column: &str) -> usize {
        self.table.column_index(column).expect("orderings and lookups name columns of their own table")
    }

    fn value<'v, 'r>(&self, values: &'v [Value<'r>], column: &str) -> &'v Value<'r> {
        &values[self.index(column)]
    }

    fn accept(&mut self, row_no: u64, values: &Values, store: Option<u32>) -> Result<()> {
        match self.table {
            Table::Stores => {
                let text = |v: &Value| if let Value::Text(t) = v { t.to_string() } else { String::new() };
                let day = |v: &Value| if let Value::Day(d) = v { Some(*d) } else { None };
                let flag = |v: &Value| matches!(v, Value::Bool(true));
                self.stores.push(Store {
                    id: text(&values[0]),
                    name: text(&values[1]),
                    main_category: text(&values[2]),
                    opened_on: day(&values[3]).unwrap_or(Day(0)),
                    closed_on: day(&values[4]),
                    onboarded: flag(&values[5]),
                    removed_for_violation: flag(&values[6]),
                });
            }
            Table::Exemptions => {
                let text = |v: &Value| if let Value::Text(t) = v { t.to_string() } else { String::new() };
                let day = |v: &Value| if let Value::Day(d) = v { *d } else { Day(0) };
                let scope = match text(&values[0]).as_str() {
                    "all" => ExemptionScope::All,
                    "category" => ExemptionScope::Category(text(&values[1])),
                    _ => ExemptionScope::Store(text(&values[1])),
                };
                self.exemptions.push(Exemption {
                    scope,
                    from: day(&values[2]),
                    to: day(&values[3]),
                    reason: text(&values[4]),
                });
            }
            _ => {
                for (builder, value) in self.builders.iter_mut().zip(values) {
                    if let Some(builder) = builder {
                        builder.append(value, store)?;
                    }
                }
                let id = self.id_column.map(|i| &values[i]);
                self.pending_ids.push(if let Some(Value::Text(id)) = id { Some(self.ids.hash(id)) } else { None });
                self.pending_rows.push(row_no);
                self.pending += 1;
                if self.pending >= BATCH_ROWS {
                    self.flush()?;
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().flatten().map(ColumnBuilder::finish).collect();
        let mut batch = RecordBatch::try_new(self.built.clone(), arrays)?;
        let repeated = self.ids.insert_batch(&self.pending_ids);
        if let (false, Some(col), Some(at_col)) = (repeated.is_empty(), self.id_column, self.id_in_batch) {
            let ids = batch.column(at_col).as_string::<i32>();
            let mut keep = vec![true; batch.num_rows()];
            for &at in &repeated {
                keep[at] = false;
                self.duplicates.push(Reject {
                    table: self.table,
                    row: self.pending_rows[at],
                    column: self.table.columns()[col].name.to_string(),
                    reason: Reason::DuplicateId,
                    value: ids.value(at).to_string(),
                });
            }
            batch = filter_record_batch(&batch, &BooleanArray::from(keep.clone()))?;
            let mut flags = keep.iter();
            self.pending_rows.retain(|_| *flags.next().unwrap_or(&true));
        }
        if self.kept.len() < batch.num_columns() {
            batch = batch.project(&self.kept)?;
        }
        if self.spill.is_none() {
            self.row_numbers.append(&mut self.pending_rows);
        }
        self.pending_rows.clear();
        self.pending_ids.clear();
        match &mut self.spill {
            Some(spill) => spill.writer.write(&batch)?,
            None => self.batches.push(batch),
        }
        self.pending = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<(Output, Vec<Reject>)> {
        self.flush()?;
        let duplicates = std::mem::take(&mut self.duplicates);
        let output = match self.table {
            Table::Stores => Output::Stores(self.stores),
            Table::Exemptions => Output::Exemptions(self.exemptions),
            _ => {
                let files = match self.spill {
                    Some(spill) => {
                        spill.writer.close()?;
                        vec![spill.path]
                    }
                    None => Vec::new(),
                };
                let schema = SchemaRef::new(self.built.project(&self.kept)?);
                Output::Events(EventBatches { schema, batches: self.batches, row_numbers: self.row_numbers, files })
            }
        };
        Ok((output, duplicates))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::{HashTable, IdSet};

    /// The table agrees with a standard set through many growths, from empty and
    /// from a size that is not a power of two, on hashes that share low bits (long
    /// probe runs at the first slot, and at the last, wrapping around), on 0, and
    /// on repeats.
    #[test]
    fn hash_table_agrees_with_a_standard_set() {
        for presized in [0, 3001] {
            let mut table = HashTable::default();
            if presized > 0 {
                table.reserve(presized);
                assert_eq!(table.slots.len(), 2 * presized);
            }
            let mut set = HashSet::new();
            let mut x: u128 = 0x9e37_79b9_7f4a_7c15;
            for i in 0..20_000u128 {
                x = x.wrapping_mul(0x2545_f491_4f6c_dd1d).wrapping_add(i);
                let hash = match i % 6 {
                    0 => x << 100,                         // low bits all zero: one long run at slot 0
                    1 => i / 10,                           // small values, each twice, 0 and 1 among them
                    2 => (x << 64) | u128::from(u64::MAX), // the last slot: runs wrap around
                    _ => x,
                };
                assert_eq!(table.insert(hash), set.insert(hash.max(1)), "insert #{i} of {hash:#x}");
            }
            assert_eq!(table.len, set.len());
            assert!(table.len * 2 <= table.slots.len());
        }
    }

    /// A batch reports the repeats of earlier batches and of itself, keeping the first,
    /// whether the set is one table (few ids expected) or several.
    #[test]
    fn id_batches_report_repeats_after_the_first() {
        let per_part = super::IDS_PER_PART;
        // 12 parts' worth rounds down to 8; 300 is capped at the most there are.
        for (expected, parts) in [(0, 1), (5_000, 1), (12 * per_part, 8), (300 * per_part, super::ID_PARTS)] {
            let mut ids = IdSet::new(expected);
            assert_eq!(ids.parts.len(), parts, "{expected} ids expected");
            let first: Vec<Option<u128>> = ["a", "b", "a"].iter().map(|id| Some(ids.hash(id))).collect();
            assert_eq!(ids.insert_batch(&first), vec![2]);
            let second: Vec<Option<u128>> = vec![None, Some(ids.hash("c")), Some(ids.hash("b")), None];
            assert_eq!(ids.insert_batch(&second), vec![2]);
            assert!(!ids.insert("c"));
            assert!(ids.insert("d"));
            // Many ids over every part, each twice: the second of each is a repeat.
            let names: Vec<String> = (0..20_000).map(|i| format!("id-{i}")).collect();
            let hashes: Vec<Option<u128>> = names.iter().chain(&names).map(|id| Some(ids.hash(id))).collect();
            assert_eq!(ids.insert_batch(&hashes), (20_000..40_000).collect::<Vec<_>>());
            let used = ids.parts.iter().filter(|t| t.len > 0).count();
            assert_eq!(used, parts, "every part holds ids");
        }
    }
}
