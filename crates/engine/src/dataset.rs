//! A dataset as read and checked: stores, exemptions, event batches, and the account
//! of what was read, accepted and rejected.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use dengta_model::Day;

use crate::cell::Reason;
use crate::schema::{Kind, Table};

/// A store (SPEC §3 `stores`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    /// `store_id`.
    pub id: String,
    /// Display name (may be empty).
    pub name: String,
    /// Declared main category: its weights score the store.
    pub main_category: String,
    /// First day of the agreement.
    pub opened_on: Day,
    /// Date of the termination application, if any.
    pub closed_on: Option<Day>,
    /// `false` when onboarding never completed.
    pub onboarded: bool,
    /// Removed for violations (no annual-fee refund).
    pub removed_for_violation: bool,
}

impl Store {
    /// Operating on `day`: onboarded, opened, and not past its termination date
    /// (SPEC §5).
    pub fn operating_on(&self, day: Day) -> bool {
        self.onboarded && self.opened_on <= day && self.closed_on.is_none_or(|c| day <= c)
    }
}

/// What an exemption covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExemptionScope {
    /// Every store.
    All,
    /// Stores whose main category is this.
    Category(String),
    /// One store.
    Store(String),
}

/// An exemption (SPEC §3): the store-days it covers are a default pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exemption {
    /// What it covers.
    pub scope: ExemptionScope,
    /// First day covered.
    pub from: Day,
    /// Last day covered (inclusive).
    pub to: Day,
    /// Why.
    pub reason: String,
}

impl Exemption {
    /// Does it cover `store` on `day`?
    pub fn covers(&self, store: &Store, day: Day) -> bool {
        self.from <= day
            && day <= self.to
            && match &self.scope {
                ExemptionScope::All => true,
                ExemptionScope::Category(c) => *c == store.main_category,
                ExemptionScope::Store(s) => *s == store.id,
            }
    }
}

/// One rejected row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// The table.
    pub table: Table,
    /// Row number: the first record after the header is 1.
    pub row: u64,
    /// The column at fault; empty for a malformed record.
    pub column: String,
    /// Why.
    pub reason: Reason,
    /// The offending value as read.
    pub value: String,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} row {} column `{}`: {} ({}): {:?}",
            self.table,
            self.row,
            self.column,
            self.reason.name(),
            self.reason.hint(),
            self.value
        )
    }
}

/// Rows read, accepted and rejected for one table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableSummary {
    /// The file or folder read; `None` when the table was absent.
    pub source: Option<PathBuf>,
    /// Records read.
    pub read: u64,
    /// Records accepted.
    pub accepted: u64,
    /// Records rejected.
    pub rejected: u64,
}

/// Checked event rows of one table: Arrow batches in memory, or Parquet files the
/// reader spilled them to (see [`crate::reader::ReadOptions::spill`]).
#[derive(Clone, Debug)]
pub struct EventBatches {
    /// Their schema (see [`event_schema`]).
    pub schema: SchemaRef,
    /// The batches held in memory (empty when spilled).
    pub batches: Vec<RecordBatch>,
    /// The source row number (first record after the header = 1) of every row of
    /// the batches, in order: rejects found later (ids already ingested) name it.
    /// Kept only for batches held in memory.
    pub row_numbers: Vec<u64>,
    /// Parquet files holding the checked rows, when the reader spilled them.
    pub files: Vec<PathBuf>,
}

impl EventBatches {
    /// No rows, held in memory.
    pub fn empty(table: Table) -> EventBatches {
        EventBatches { schema: event_schema(table), batches: Vec::new(), row_numbers: Vec::new(), files: Vec::new() }
    }
}

/// A dataset directory, read and checked.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The directory.
    pub dir: PathBuf,
    /// Accepted stores, in file order; an event's `store` column is an index here.
    pub stores: Vec<Store>,
    /// Store position by id.
    pub store_index: HashMap<String, u32>,
    /// Accepted exemptions.
    pub exemptions: Vec<Exemption>,
    /// Checked events per event table.
    pub events: BTreeMap<Table, EventBatches>,
    /// Per-table account.
    pub summaries: BTreeMap<Table, TableSummary>,
    /// Every rejected row, by table then row.
    pub rejects: Vec<Reject>,
    /// Things a person should know (absent tables).
    pub warnings: Vec<String>,
}

impl Dataset {
    /// A dataset of the directory `dir` with nothing in it yet.
    pub fn new(dir: &Path) -> Dataset {
        Dataset {
            dir: dir.to_path_buf(),
            stores: Vec::new(),
            store_index: HashMap::new(),
            exemptions: Vec::new(),
            events: BTreeMap::new(),
            summaries: BTreeMap::new(),
            rejects: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Is `store` exempted on `day`?
    pub fn exempted(&self, store: &Store, day: Day) -> bool {
        self.exemptions.iter().any(|e| e.covers(store, day))
    }
}

/// The Arrow schema of a table's checked events: ids and text as `Utf8`, the
/// `store_id` as `store` (`UInt32`, the store's position), instants as `Int64` epoch
/// ms, amounts as `Int64` fen, dates as `Date32`.
pub fn event_schema(table: Table) -> SchemaRef {
    let fields: Vec<Field> = table
        .columns()
        .iter()
        .map(|c| {
            let (name, ty) = match c.kind {
                Kind::StoreRef => ("store", DataType::UInt32),
                Kind::Id | Kind::Text | Kind::Enum(_) => (c.name, DataType::Utf8),
                Kind::Timestamp | Kind::Amount | Kind::ReviewScore => (c.name, DataType::Int64),
                Kind::Date => (c.name, DataType::Date32),
                Kind::Bool => (c.name, DataType::Boolean),
            };
            Field::new(name, ty, c.optional_value)
        })
        .collect();
    SchemaRef::new(Schema::new(fields))
}
