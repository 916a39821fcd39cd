//! Incremental ingestion: a persistent store of per-store, per-business-day
//! partial sums (Parquet, one folder per date) to which batches of events are
//! added, rescoring only the days whose windows a batch touched.
//!
//! # Layout of a store folder
//!
//! ```text
//! STORE/manifest.json                    the committed state (generation N), written last
//! STORE/pending.json                     while a batch writes: the folders it writes into
//! STORE/lock                             held (advisory) by a batch, shared by readers
//! STORE/meta/stores-gN.csv               the store list (SPEC §3 columns)
//! STORE/meta/exemptions-gN.csv           the exemptions
//! STORE/rules/VERSION.toml               the rule versions the store is scored with
//! STORE/partials/date=D/gN.parquet       (profile, measure, store_id, sum, count) up to day D
//! STORE/corrections/gN.parquet           (date, profile, measure, store_id, sum, count) of late events
//! STORE/ids/date=D/gN.parquet            (table, id) of the events created on business day D
//! STORE/daily/date=D/gN.parquet          daily_scores rows of day D (SPEC §11 columns)
//! STORE/rejects/gN.csv                   the rows batch N rejected
//! ```
//!
//! The manifest names the files kept per day (`partials`, `ids`, `daily`) by runs of
//! days and the generation that wrote them (see [`DayFiles`]), the others by path.
//!
//! # Crash safety
//!
//! A batch never overwrites a file the manifest names: it writes new files with its
//! own generation number, then replaces `manifest.json` atomically. A process
//! killed before the rename leaves the previous state; after it, the new one. The
//! files a batch superseded are deleted right after its rename; files no manifest
//! names (leftovers of a killed run) are deleted when the store is next opened. So
//! that opening does not list every folder of the store (three per day: over a
//! thousand after a year), a batch first records the folders it will write into in
//! `pending.json`, before any other file is written, and removes it once the
//! superseded files are gone; `open` cleans only the folders a `pending.json`
//! names, and everything when one cannot be read (a half-written one does not
//! parse).
//!
//! A killed process loses none of its writes (the operating system holds them),
//! so `pending.json` is there for the next run. Only a power cut or a system crash
//! loses writes, and not in the order they were made: the record could be lost and
//! a file written after it kept, unnamed by anything. That cannot go unnoticed: a
//! manifest records the boot of the system that committed it (`boot_id`), and
//! `open` looks through every folder when the system has booted since (or the
//! manifest names no boot). Where the system names no boots, `pending.json` is
//! synced, with its folder, before any other file is written instead.
//!
//! Durability costs one wait for the disk per fsync done in turn, so a batch does
//! few in turn: its new files are written in place (no manifest names them yet, so
//! a half-written one is a leftover like any other) and not synced one by one. The
//! partials, ids and store-list files are synced, with their folders, on a thread
//! of their own while the batch scores the days; just before the commit, the daily
//! and reject files, their folders and the new manifest (still under a temporary
//! name) are synced side by side, and once the first thread is done too, the
//! manifest is renamed into place and the store folder synced. Two waits in turn —
//! the files, the rename — whatever the number of files (three where
//! `pending.json` is synced).
//!
//! One batch at a time: a batch holds an exclusive lock on `STORE/lock` from before
//! it opens the store until it returns, and readers (export, content) a shared one,
//! so a second `dengta ingest` into the same store, or an export during a batch,
//! stops with a clear error instead of deleting the other's new files. The
//! operating system releases the lock when a process dies, so a killed batch never
//! leaves the store locked.
//!
//! # Late events
//!
//! A partials file holds running totals, so an event of day T changes every file
//! from T on. A batch adds its sums to the files themselves only for the days from
//! the [`REWRITE_DAYS`]-th latest file on (a nightly batch: its own day and the
//! next); the sums of earlier days (events that arrived late) go to the store's
//! one corrections file instead, per day. The running total as of D is then the
//! latest partials file on or before D plus every correction dated D or earlier,
//! and a late event costs the rescoring of the windows it falls in, not the
//! rewriting of every later day's file. When the corrections hold more rows than
//! a day's totals can ([`fold_limit`]), a batch folds them into the partials files
//! (rewriting them from the earliest correction's day on) and the store is back to
//! no corrections: that rewrite is shared by all the late events before it.
//!
//! # Idempotence
//!
//! Every event id is recorded under the business day of its creation instant
//! (`paid_at`, `created_at`, `started_at`, `requested_at`, `opened_at`, `filed_at`),
//! which does not change when an event is re-sent; one file per day holds the ids of
//! every table. An id seen before is a duplicate: the row is reported as rejected
//! and counts once — exactly as in a full run, where the first row with an id is
//! kept. The business day is taken in the store's `id_zone`, the time zone of its
//! rules when it was created, so a day's batch reads and writes one id file.
//!
//! Stores written before that (up to session 8) kept ids per table and per UTC
//! day (`ids/TABLE/date=D/`). Their manifests still name those files under `ids`;
//! they are never rewritten, and an event is also checked against the one of its
//! table and UTC day.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{
    ArrayRef, AsArray, BooleanArray, Date32Array, Int64Array, RecordBatch, StringArray, UInt8Array,
};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Int32Type, Int64Type, Schema, UInt8Type};
use datafusion::parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use dengta_model::{Day, MS_PER_DAY, Measure, MeasureSums, UtcOffset};
use dengta_rules::{RuleBook, RuleSet};
use serde::{Deserialize, Serialize};

use crate::aggregate::{self, Profile};
use crate::daily::{self, ScoreRow};
use crate::dataset::{Dataset, Exemption, ExemptionScope, Reject, Store, TableSummary};
use crate::error::{Error, Result};
use crate::output;
use crate::partials::DayPartials;
use crate::progress::Progress;
use crate::reader;
use crate::schema::Table;
use crate::source::Source;
use crate::{FastMap, FastSet};

mod day_files;
pub use day_files::DayFiles;

const MANIFEST: &str = "manifest.json";
/// The folders a batch is writing into (see the module's crash-safety notes).
const PENDING: &str = "pending.json";
/// The lock file (see the module's notes on one batch at a time).
const LOCK: &str = "lock";

/// A held lock on a store, released when dropped (or when the process ends).
struct StoreLock(#[expect(dead_code, reason = "held for its lock, never read")] Option<std::fs::File>);

/// Takes the store's lock without waiting: exclusive for a batch (creating the lock
/// file), shared for a reader (none when the file does not exist: a store written
/// before locks, or not a store at all, which `open` then reports).
fn lock(store: &Path, exclusive: bool) -> Result<StoreLock> {
    let path = store.join(LOCK);
    let file = match std::fs::OpenOptions::new().read(true).write(true).create(exclusive).truncate(false).open(&path) {
        Ok(f) => f,
        Err(e) if !exclusive && e.kind() == std::io::ErrorKind::NotFound => return Ok(StoreLock(None)),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let taken = if exclusive { file.try_lock() } else { file.try_lock_shared() };
    match taken {
        Ok(()) => Ok(StoreLock(Some(file))),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::InvalidRequest(format!(
            "the store {} is being written by another `dengta ingest` (it holds {}); run this again when that \
             one has finished",
            store.display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

/// The manifest format this dengta writes: 2 since the per-day files are named by
/// runs of days (session 20). A manifest without a `format` is of format 1 (every
/// earlier form), still read and written back as [`FORMAT`] by the next batch. A
/// manifest of a later format is refused: read by this dengta, what it does not know
/// would be lost when the batch writes the manifest back.
pub const FORMAT: u32 = 2;

/// The committed state of a store folder.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// The manifest's format ([`FORMAT`]; 1 when absent).
    #[serde(default = "format_1")]
    pub format: u32,
    /// Batches committed so far.
    pub generation: u64,
    /// First day scored.
    pub from: String,
    /// Last day scored (the latest batch day).
    pub horizon: String,
    /// Rule files, relative paths.
    pub rules: Vec<String>,
    /// The store list file.
    pub stores: String,
    /// The exemptions file.
    pub exemptions: String,
    /// Partials file per date (see [`DayFiles`]).
    #[serde(serialize_with = "day_files::serialize", deserialize_with = "day_files::partials")]
    pub partials: DayFiles,
    /// The partials files hold running totals: a file's sums for a key are over
    /// every day up to and including its date (the total on a day without a file is
    /// that of the latest file before it). Stores written before session 10 held
    /// each day's own sums (`false`); their next batch converts them.
    #[serde(default)]
    pub cumulative: bool,
    /// Id file per business day of creation (in `id_zone`): the `(table, id)` of
    /// every event created that day.
    #[serde(default, serialize_with = "day_files::serialize", deserialize_with = "day_files::ids")]
    pub id_days: DayFiles,
    /// The UTC offset (`+08:00`) whose days key `id_days`: the store's rules' time
    /// zone when its first batch with `id_days` was written. Never changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_zone: Option<String>,
    /// Id files of the first layout, per table and per UTC creation day (stores
    /// written before `id_days`): read, never written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ids: BTreeMap<String, BTreeMap<String, String>>,
    /// Sums of late events kept apart from the running totals (see the module's
    /// notes on late events): per date, rows added to every total from that date on.
    /// Absent when there are none (and in stores written before session 13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrections: Option<String>,
    /// Daily score file per date (see [`DayFiles`]).
    #[serde(serialize_with = "day_files::serialize", deserialize_with = "day_files::daily")]
    pub daily: DayFiles,
    /// Reject files of the batches, oldest first.
    pub rejects: Vec<String>,
    /// The boot of the operating system that committed this generation, where it
    /// names one (Linux's `/proc/sys/kernel/random/boot_id`): see the module's notes
    /// on crash safety. Absent in stores written before session 15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
}

impl Manifest {
    /// Every file the manifest names, relative to the store, sorted.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = referenced(self).into_iter().map(PathBuf::from).collect();
        files.sort();
        files
    }
}

/// What to ingest.
#[derive(Clone, Debug)]
pub struct IngestRequest {
    /// A dataset folder with the batch's events (`stores` optional after the first
    /// batch: the store's list is used when absent).
    pub batch: PathBuf,
    /// The store folder (created by the first batch).
    pub store: PathBuf,
    /// First day to score; only for the first batch (default: the earliest business
    /// day the first batch's events were created on).
    pub from: Option<Day>,
    /// The batch's day: scores are brought up to it (default: the latest business day
    /// an event of the batch was created on).
    pub day: Option<Day>,
}

/// What a batch did.
#[derive(Clone, Debug)]
pub struct IngestOutcome {
    /// The generation committed.
    pub generation: u64,
    /// Rows read, accepted and rejected per table (duplicates of earlier batches count
    /// as rejected).
    pub summaries: BTreeMap<Table, TableSummary>,
    /// Rows rejected, including ids already ingested.
    pub rejected: usize,
    /// Of which: ids already ingested by an earlier batch.
    pub duplicates: usize,
    /// Dates whose partial sums changed.
    pub days_touched: usize,
    /// Days rescored.
    pub days_rescored: usize,
    /// Partials files (running totals) written.
    pub partials_written: usize,
    /// Rows in the store's corrections after the batch (0: none, or just folded
    /// into the partials files).
    pub correction_rows: usize,
    /// Whether this batch folded the corrections into the partials files.
    pub folded: bool,
    /// Daily rows scored anew (a day rescored for some stores only keeps the other
    /// stores' rows as they were).
    pub rows_written: usize,
    /// The store's scored range after the batch.
    pub from: Day,
    /// Last day scored.
    pub horizon: Day,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Wall time.
    pub seconds: f64,
}

/// The instant that identifies when an event of `table` was created (never changes
/// when the event is re-sent with later facts).
pub fn creation_column(table: Table) -> Option<&'static str> {
    Some(match table {
        Table::Orders => "paid_at",
        Table::Reviews => "created_at",
        Table::Chats => "started_at",
        Table::Refunds => "requested_at",
        Table::Disputes => "opened_at",
        Table::Complaints => "filed_at",
        _ => return None,
    })
}

fn id_column(table: Table) -> Option<&'static str> {
    table.columns().iter().find(|c| c.kind == crate::schema::Kind::Id).map(|c| c.name)
}

/// Reads a store folder's manifest (`None` for a new store) after deleting every
/// file it does not name.
pub fn open(store: &Path) -> Result<Option<Manifest>> {
    let manifest = read_manifest(store)?;
    let pending = store.join(PENDING);
    match std::fs::read_to_string(&pending) {
        Ok(text) => {
            match serde_json::from_str::<Vec<String>>(&text) {
                Ok(dirs) => collect_garbage(store, manifest.as_ref(), dirs.iter().map(String::as_str), false)?,
                Err(_) => collect_garbage(store, manifest.as_ref(), STORE_FOLDERS, true)?,
            }
            remove_if_there(&pending)?;
        }
        // No batch was writing, unless the machine stopped since the last commit and
        // took an unsynced `pending.json` with it (see `begin_writes`).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let rebooted =
                boot_id().is_some_and(|now| manifest.as_ref().and_then(|m| m.boot_id.as_deref()) != Some(now));
            if rebooted {
                collect_garbage(store, manifest.as_ref(), STORE_FOLDERS, true)?;
            } else {
                collect_garbage(store, manifest.as_ref(), [], false)?;
            }
        }
        Err(e) => return Err(Error::io(&pending, e)),
    }
    Ok(manifest)
}

/// This boot of the operating system, where it names one (Linux), read once.
fn boot_id() -> Option<&'static str> {
    static BOOT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    BOOT.get_or_init(|| {
        let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        Some(id.trim().to_string()).filter(|id| !id.is_empty())
    })
    .as_deref()
}

/// Deletes a file; one already gone is no error (two readers of a store, each
/// holding its shared lock, may clean the same leftovers).
fn remove_if_there(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// Where the batch of `generation` writes the daily rows of `day`.
fn daily_file(day: Day, generation: u64) -> PathBuf {
    day_files::path(day_files::DAILY, day, generation)
}

/// Where the batch of `generation` writes the ids of the events created on `day`.
fn ids_file(day: Day, generation: u64) -> PathBuf {
    day_files::path(day_files::IDS, day, generation)
}

fn format_1() -> u32 {
    1
}

/// The committed manifest, `None` for a new store.
fn read_manifest(store: &Path) -> Result<Option<Manifest>> {
    let path = store.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    /// Only the format, of a manifest this dengta cannot read otherwise.
    #[derive(Deserialize)]
    struct Format {
        #[serde(default = "format_1")]
        format: u32,
    }
    let too_new = |format: u32| {
        Error::input(
            &path,
            format!(
                "the store was written by a newer dengta (manifest format {format}; this dengta reads formats up \
                 to {FORMAT}): use that dengta or a later one; nothing was changed"
            ),
        )
    };
    match serde_json::from_str::<Manifest>(&text) {
        Ok(manifest) if manifest.format > FORMAT => Err(too_new(manifest.format)),
        Ok(manifest) => Ok(Some(manifest)),
        Err(e) => Err(match serde_json::from_str::<Format>(&text) {
            Ok(Format { format }) if format > FORMAT => too_new(format),
            _ => Error::input(&path, format!("not a dengta store manifest: {e}")),
        }),
    }
}

/// The files under a store folder that its manifest does not name (the manifest
/// and the lock file aside), as paths relative to the store, sorted. Empty after [`open`] and
/// after every completed batch; leftovers of a killed run until the next `open`.
pub fn stray_files(store: &Path) -> Result<Vec<PathBuf>> {
    let manifest = read_manifest(store)?
        .ok_or_else(|| Error::InvalidRequest(format!("{} is not a dengta store", store.display())))?;
    let mut keep = referenced(&manifest);
    keep.extend([MANIFEST, LOCK].map(String::from));
    // The whole store, its top folder ("") included.
    let mut stray: Vec<PathBuf> = unnamed(store, &keep, [""], true)?
        .into_iter()
        .map(|p| p.strip_prefix(store).map(Path::to_path_buf).unwrap_or(p))
        .collect();
    stray.sort();
    Ok(stray)
}

/// The files under `dirs` (relative to the store; into sub-folders when
/// `recursive`) that are not in `keep` (paths relative to the store).
fn unnamed<'d>(
    store: &Path,
    keep: &FastSet<String>,
    dirs: impl IntoIterator<Item = &'d str>,
    recursive: bool,
) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for dir in dirs {
        let root = store.join(dir);
        if !root.is_dir() {
            continue;
        }
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
                let entry = entry.map_err(|e| Error::io(&d, e))?;
                let path = entry.path();
                // The entry's own type: no extra stat per file.
                if entry.file_type().map_err(|e| Error::io(&path, e))?.is_dir() {
                    if recursive {
                        stack.push(path);
                    }
                } else if path.strip_prefix(store).is_ok_and(|rel| !rel.to_str().is_some_and(|r| keep.contains(r))) {
                    found.push(path);
                }
            }
        }
    }
    Ok(found)
}

/// The store's folders (each holding files or date folders).
const STORE_FOLDERS: [&str; 7] = ["meta", "rules", "partials", "corrections", "ids", "daily", "rejects"];

/// Records the folders a batch is about to write into, before it writes anything.
/// Written in place: a half-written record does not parse, and [`open`] then looks
/// through every folder. Synced only where the system names its boots: elsewhere an
/// orphan file on the disk after a power cut must imply a record on the disk too.
fn begin_writes(store: &Path, dirs: &BTreeSet<String>) -> Result<()> {
    let path = store.join(PENDING);
    output::write_unsynced(&path, |w| {
        serde_json::to_writer(&mut *w, dirs).map_err(|e| Error::Internal(e.to_string()))
    })?;
    if boot_id().is_some() {
        return Ok(());
    }
    // The file and its name, synced together.
    output::sync_all(&[path], &[store.to_path_buf()])
}

/// Every file a manifest names, relative to the store.
fn referenced(m: &Manifest) -> FastSet<String> {
    let mut set: FastSet<String> = named(m).map(str::to_string).collect();
    for (folder, files) in day_files_of(m) {
        set.extend(files.iter().map(|(day, g)| day_files::path(folder, *day, *g).display().to_string()));
    }
    set
}

/// The files a manifest names by path (not by day).
fn named(m: &Manifest) -> impl Iterator<Item = &str> {
    [m.stores.as_str(), m.exemptions.as_str()]
        .into_iter()
        .chain(m.rules.iter().map(String::as_str))
        .chain(m.rejects.iter().map(String::as_str))
        .chain(m.corrections.iter().map(String::as_str))
        .chain(m.ids.values().flat_map(|days| days.values().map(String::as_str)))
}

/// The manifest's files kept per day, with their folders.
fn day_files_of(m: &Manifest) -> [(&'static str, &DayFiles); 3] {
    [(day_files::PARTIALS, &m.partials), (day_files::DAILY, &m.daily), (day_files::IDS, &m.id_days)]
}

/// The files `before` names and `now` does not, relative to the store: those a
/// batch replaced. Day by day for the files kept per day (no set of every path).
fn replaced(before: &Manifest, now: &Manifest) -> Vec<PathBuf> {
    let kept: FastSet<&str> = named(now).collect();
    let mut gone: Vec<PathBuf> = named(before).filter(|f| !kept.contains(f)).map(PathBuf::from).collect();
    for ((folder, was), (_, is)) in day_files_of(before).into_iter().zip(day_files_of(now)) {
        gone.extend(
            was.iter().filter(|(day, g)| is.get(day) != Some(g)).map(|(day, g)| day_files::path(folder, *day, *g)),
        );
    }
    gone
}

/// Deletes the files under `dirs` (relative to the store; into sub-folders when
/// `recursive`) that the manifest does not name, and a manifest's temporary file
/// left by a killed commit.
fn collect_garbage<'d>(
    store: &Path,
    manifest: Option<&Manifest>,
    dirs: impl IntoIterator<Item = &'d str>,
    recursive: bool,
) -> Result<()> {
    let dirs: Vec<&str> = dirs.into_iter().collect();
    if !dirs.is_empty() {
        let keep = manifest.map(referenced).unwrap_or_default();
        for path in unnamed(store, &keep, dirs, recursive)? {
            remove_if_there(&path)?;
        }
    }
    // Temporary files of a killed commit or journal write (any process id).
    for entry in std::fs::read_dir(store).map_err(|e| Error::io(store, e))? {
        let entry = entry.map_err(|e| Error::io(store, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if [MANIFEST, PENDING].iter().any(|f| name.starts_with(&format!("{f}.tmp-"))) {
            remove_if_there(&entry.path())?;
        }
    }
    Ok(())
}

/// The rule book of a store.
pub fn rule_book(store: &Path, m: &Manifest) -> Result<RuleBook> {
    let versions = m.rules.iter().map(|r| RuleSet::load(&store.join(r))).collect::<dengta_rules::Result<Vec<_>>>()?;
    Ok(RuleBook::new(versions)?)
}

fn utc_day(ms: i64) -> Day {
    Day(ms.div_euclid(MS_PER_DAY) as i32)
}

/// The ids of `table`'s events created on UTC day `utc` that a store of the first
/// id layout recorded (none when it has no such file).
fn first_layout_ids(store: &Path, manifest: &Manifest, table: Table, utc: Day) -> Result<HashSet<String>> {
    let mut ids = HashSet::new();
    if let Some(f) = manifest.ids.get(table.name()).and_then(|days| days.get(&utc.to_string())) {
        for b in read_parquet(&store.join(f))? {
            ids.extend(b.column(0).as_string::<i32>().iter().flatten().map(str::to_string));
        }
    }
    Ok(ids)
}

/// The schema of a day's id file: `(table, id)`.
fn ids_schema(table: DataType) -> Arc<Schema> {
    Arc::new(Schema::new(vec![Field::new("table", table, false), Field::new("id", DataType::Utf8, false)]))
}

/// An id file to write: the day, its path in the store, its rows.
type IdFile = (Day, PathBuf, RecordBatch);

/// Rejects the batch's events whose id an earlier batch (or an earlier row of this
/// one) brought, and returns those rejects and the id files to write: for each
/// business day the batch created events on, `(day, path, (table, id) batch)`.
fn drop_ingested(
    store: &Path,
    manifest: &Manifest,
    zone: UtcOffset,
    ds: &mut Dataset,
    generation: u64,
) -> Result<(Vec<Reject>, Vec<IdFile>)> {
    struct Events<'a> {
        table: Table,
        id_col: &'static str,
        ids: Vec<Option<&'a StringArray>>,
        /// Creation instants (ms), per batch.
        created: Vec<Option<&'a datafusion::arrow::array::Int64Array>>,
        row_numbers: &'a [u64],
        keep: Vec<Vec<bool>>,
        /// The first row number of each batch among the table's rows.
        offsets: Vec<usize>,
    }
    let mut duplicates = Vec::new();
    let mut writes = Vec::new();
    let mut keeps: Vec<(Table, Vec<Vec<bool>>)> = Vec::new();
    {
        let mut tables: Vec<Events<'_>> = Vec::new();
        // Every row's business day of creation, table, batch and row, sorted by day
        // below (stably: a day's rows stay in the batch's order).
        let mut by_day: Vec<(Day, usize, usize, usize)> = Vec::new();
        for (table, events) in &ds.events {
            let (Some(created), Some(id_col)) = (creation_column(*table), id_column(*table)) else { continue };
            let t = tables.len();
            let created: Vec<_> = events
                .batches
                .iter()
                .map(|b| b.column_by_name(created).map(|c| c.as_primitive::<Int64Type>()))
                .collect();
            for (bi, ms) in created.iter().enumerate() {
                let Some(ms) = ms else { continue };
                for r in 0..ms.len() {
                    by_day.push((zone.business_day(ms.value(r)), t, bi, r));
                }
            }
            let offsets = events
                .batches
                .iter()
                .scan(0usize, |acc, b| {
                    let start = *acc;
                    *acc += b.num_rows();
                    Some(start)
                })
                .collect();
            tables.push(Events {
                table: *table,
                id_col,
                ids: events.batches.iter().map(|b| b.column_by_name(id_col).map(|c| c.as_string::<i32>())).collect(),
                created,
                row_numbers: &events.row_numbers,
                keep: events.batches.iter().map(|b| vec![true; b.num_rows()]).collect(),
                offsets,
            });
        }
        // Ids of the first layout, per (table, UTC day), read when first needed.
        let mut first_layout: HashMap<(Table, Day), HashSet<String>> = HashMap::new();
        let ids_read = ids_schema(text_keys());
        by_day.sort_by_key(|(day, ..)| *day);
        for rows in by_day.chunk_by(|a, b| a.0 == b.0) {
            let key = rows[0].0;
            let stored_file = manifest.id_days.get(&key).map(|g| store.join(ids_file(key, *g)));
            let stored = match &stored_file {
                Some(f) => read_parquet_as(f, Some(&ids_read))?,
                None => Vec::new(),
            };
            // The ids are borrowed from the stored file's and the batch's columns (no
            // copy per id).
            let mut seen: FastSet<(Table, &str)> = FastSet::default();
            seen.reserve(stored.iter().map(RecordBatch::num_rows).sum::<usize>() + rows.len());
            // The day's ids in the order first seen (the stored file's, then the
            // batch's): the file written, the same for the same batches.
            let mut order: Vec<(Table, &str)> = Vec::with_capacity(seen.capacity());
            for b in &stored {
                let (names, ids) = (b.column(0).as_dictionary::<Int32Type>(), b.column(1).as_string::<i32>());
                let of_key = names.values().as_string::<i32>().iter().map(|n| Table::from_name(n?)).collect::<Vec<_>>();
                for (k, id) in names.keys().values().iter().zip(ids.iter()) {
                    let (Some(Some(table)), Some(id)) = (of_key.get(*k as usize), id) else {
                        return Err(Error::input(
                            stored_file.as_deref().unwrap_or(store),
                            "an id row without a known table",
                        ));
                    };
                    if seen.insert((*table, id)) {
                        order.push((*table, id));
                    }
                }
            }
            let before = order.len();
            for &(_, t, bi, r) in rows {
                let events = &mut tables[t];
                let Some(ids) = events.ids[bi] else { continue };
                let id = ids.value(r);
                let mut ingested = !seen.insert((events.table, id));
                if !ingested {
                    order.push((events.table, id));
                }
                if !ingested
                    && !manifest.ids.is_empty()
                    && let Some(utc) = events.created[bi].map(|ms| utc_day(ms.value(r)))
                {
                    let set = match first_layout.entry((events.table, utc)) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(first_layout_ids(store, manifest, events.table, utc)?)
                        }
                    };
                    ingested = set.contains(id);
                }
                if ingested {
                    events.keep[bi][r] = false;
                    duplicates.push(Reject {
                        table: events.table,
                        row: events.row_numbers.get(events.offsets[bi] + r).copied().unwrap_or(0),
                        column: events.id_col.to_string(),
                        reason: crate::cell::Reason::DuplicateId,
                        value: id.to_string(),
                    });
                }
            }
            if order.len() != before {
                let cols: Vec<ArrayRef> = vec![
                    Arc::new(StringArray::from_iter_values(order.iter().map(|(t, _)| t.name()))),
                    Arc::new(StringArray::from_iter_values(order.iter().map(|(_, id)| *id))),
                ];
                let batch = RecordBatch::try_new(ids_schema(DataType::Utf8), cols)?;
                writes.push((key, ids_file(key, generation), batch));
            }
        }
        keeps.extend(tables.into_iter().map(|e| (e.table, e.keep)));
    }
    // Keep the rows not rejected, with their row numbers.
    for (table, keep) in keeps {
        let Some(events) = ds.events.get_mut(&table) else { continue };
        let mut kept = Vec::new();
        let mut rows_kept = Vec::with_capacity(events.row_numbers.len());
        let mut offset = 0;
        for (b, mask) in events.batches.iter().zip(&keep) {
            let dropped = mask.iter().filter(|k| !**k).count();
            kept.push(if dropped == 0 {
                b.clone()
            } else {
                filter_record_batch(b, &BooleanArray::from(mask.clone()))?
            });
            for (r, kept_row) in mask.iter().enumerate() {
                if *kept_row {
                    rows_kept.push(events.row_numbers.get(offset + r).copied().unwrap_or(0));
                }
            }
            offset += mask.len();
            if let Some(s) = ds.summaries.get_mut(&table) {
                s.accepted -= dropped as u64;
                s.rejected += dropped as u64;
            }
        }
        events.batches = kept;
        events.row_numbers = rows_kept;
    }
    Ok((duplicates, writes))
}

fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>> {
    read_parquet_as(path, None)
}

/// The batches of a Parquet file, read with `schema` when given (e.g. text columns
/// as dictionaries).
fn read_parquet_as(path: &Path, schema: Option<&Arc<Schema>>) -> Result<Vec<RecordBatch>> {
    // Read whole into memory first: every column is decoded anyway, and the reader of
    // a `File` duplicates, seeks and closes its descriptor for each column chunk
    // (four system calls a column: 9,500 for a late batch's 95 daily files).
    let file = bytes::Bytes::from(std::fs::read(path).map_err(|e| Error::io(path, e))?);
    let mut options = ArrowReaderOptions::new();
    if let Some(schema) = schema {
        options = options.with_schema(schema.clone());
    }
    // Batches no larger than the file: the reader allocates its buffers for a whole
    // batch, and most of a store's files are a few thousand rows.
    let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(file, options)
        .and_then(|b| {
            let rows = usize::try_from(b.metadata().file_metadata().num_rows()).unwrap_or(0);
            b.with_batch_size(rows.clamp(1, 65_536)).build()
        })
        .map_err(|e| Error::input(path, e.to_string()))?;
    reader.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| Error::input(path, e.to_string()))
}

/// Ingests one batch into a store folder and rescores the days it touches.
///
/// `first_book` holds the rule versions a new store is created with (the default
/// rules when `None`); a store that exists is scored with the versions it holds.
pub async fn ingest(
    req: &IngestRequest,
    first_book: Option<&RuleBook>,
    progress: &dyn Progress,
) -> Result<IngestOutcome> {
    let started = Instant::now();
    // A batch that is not there does not create its store.
    reader::check_dataset_dir(&req.batch)?;
    std::fs::create_dir_all(&req.store).map_err(|e| Error::io(&req.store, e))?;
    let _lock = lock(&req.store, true)?;
    let previous = open(&req.store)?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "Opened the store.");
    let generation = previous.as_ref().map_or(1, |m| m.generation + 1);
    let g = format!("g{generation}");

    // Read the batch, with the store's list when the batch has none.
    let (has_stores, has_exemptions) = (has_table(&req.batch, "stores"), has_table(&req.batch, "exemptions"));
    let mut options = reader::ReadOptions::default();
    if let Some(m) = &previous
        && !has_stores
    {
        options.sources.insert(Table::Stores, Source::Csv(req.store.join(&m.stores)));
        if !has_exemptions {
            options.sources.insert(Table::Exemptions, Source::Csv(req.store.join(&m.exemptions)));
        }
    }
    let mut ds = reader::read_dataset_with(&req.batch, progress, &options)?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "Opened the store and read the batch.");

    let book = match &previous {
        Some(m) => rule_book(&req.store, m)?,
        None => first_book.cloned().unwrap_or_else(RuleBook::default_book),
    };
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "Read the rules.");
    let mut manifest = previous.clone().unwrap_or_default();
    manifest.generation = generation;
    manifest.format = FORMAT;

    // Drop events already ingested, recording the new ids.
    progress.stage("checking event ids against earlier batches", None);
    let rules_now = book.versions().last().ok_or_else(|| Error::InvalidRequest("the store has no rules".into()))?;
    let id_zone = match manifest.id_zone.as_deref() {
        Some(z) => UtcOffset::parse(z)
            .ok_or_else(|| Error::input(req.store.join(MANIFEST), format!("id_zone {z:?} is not a UTC offset")))?,
        None => rules_now.offset,
    };
    manifest.id_zone = Some(id_zone.to_string());
    let (duplicates, id_writes) = drop_ingested(&req.store, &manifest, id_zone, &mut ds, generation)?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        duplicates = duplicates.len(),
        "Dropped events already ingested."
    );
    // The range scored.
    let batch_day = match req.day {
        Some(d) => Some(d),
        None => latest_creation_day(&ds, rules_now),
    };
    let from = match (&previous, req.from) {
        (Some(m), Some(f)) if f.to_string() != m.from => {
            return Err(Error::InvalidRequest(format!(
                "--from {f}: the store already scores from {}; --from is only for the first batch",
                m.from
            )));
        }
        (Some(m), _) => parse_day(&m.from)?,
        (None, Some(f)) => f,
        (None, None) => earliest_creation_day(&ds, rules_now)
            .ok_or_else(|| Error::InvalidRequest("the first batch has no events; give --from and --day".into()))?,
    };
    let old_horizon = previous.as_ref().map(|m| parse_day(&m.horizon)).transpose()?;
    let horizon = match (old_horizon, batch_day) {
        (Some(h), Some(d)) => h.max(d),
        (Some(h), None) => h,
        (None, Some(d)) => d,
        (None, None) => from,
    };
    if horizon < from {
        return Err(Error::InvalidRequest(format!("the batch day {horizon} is before the first day scored {from}")));
    }

    // Aggregate the new events and merge them into the per-date partials.
    progress.stage("aggregating the batch per store and day", None);
    let profiles: Vec<Profile> = {
        let mut v: Vec<Profile> = book.versions().iter().map(Profile::of).collect();
        v.dedup();
        v
    };
    let mut touched: BTreeMap<Day, HashMap<PartialKey, MeasureSums>> = BTreeMap::new();
    let store_ids: Vec<Arc<str>> = ds.stores.iter().map(|s| Arc::from(s.id.as_str())).collect();
    for profile in &profiles {
        let p = aggregate::aggregate(&ds, profile).await?;
        let key: Arc<str> = profile.key().into();
        for (i, id) in store_ids.iter().enumerate() {
            for m in Measure::ALL {
                for (day, sums) in p.days(i, m) {
                    let slot = touched.entry(day).or_default().entry((key.clone(), m.code(), id.clone())).or_default();
                    slot.sum += sums.sum;
                    slot.count += sums.count;
                }
            }
        }
    }
    let deltas: BTreeMap<Day, Rows> = touched
        .into_iter()
        .map(|(day, sums)| {
            let mut rows: Rows = sums.into_iter().collect();
            rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            (day, rows)
        })
        .collect();
    // The days whose running totals take the batch's sums, and the late ones kept
    // apart; when the corrections grow too large, they are folded in.
    let (mut into_totals, late) = split_late(&manifest, deltas.clone())?;
    let mut corrections = match &manifest.corrections {
        Some(rel) => read_corrections(&req.store.join(rel))?,
        None => BTreeMap::new(),
    };
    let mut new_corrections = None;
    let mut folded = false;
    if !late.is_empty() {
        corrections = add_dated(&corrections, &late);
        if row_count(&corrections) > fold_limit(ds.stores.len(), profiles.len()) {
            into_totals = add_dated(&into_totals, &std::mem::take(&mut corrections));
            manifest.corrections = None;
            folded = true;
        } else {
            let rel = PathBuf::from(format!("corrections/{g}.parquet"));
            manifest.corrections = Some(rel.display().to_string());
            new_corrections = Some((req.store.join(rel), corrections_batch(&corrections)?));
        }
    }
    let rewritten = cumulative_days(&manifest, &into_totals)?;

    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        days = deltas.len(),
        late = late.len(),
        folded,
        "Aggregated the batch."
    );
    // Which days to rescore.
    let max_window =
        book.versions().iter().flat_map(|r| r.indicators.iter().map(|i| i.window.days())).max().unwrap_or(1);
    let stores_changed = match &previous {
        None => true,
        // Both read from the store's own files (see the read of the batch above).
        Some(_) if !has_stores && !has_exemptions => false,
        Some(m) => read_meta(&req.store, m).map(|(s, e)| s != ds.stores || e != ds.exemptions).unwrap_or(true),
    };
    // Every store on the days past the old horizon (every day when the store list or
    // the exemptions changed); on the other days in the windows of the batch's
    // events, only the stores those events belong to: no other store's windows
    // changed, and its rows are kept.
    let mut rescore: BTreeSet<Day> = BTreeSet::new();
    let mut rescore_some: BTreeMap<Day, BTreeSet<&str>> = BTreeMap::new();
    if stores_changed {
        rescore.extend(from.through(horizon));
    } else {
        if let Some(h) = old_horizon {
            rescore.extend(h.plus(1).max(from).through(horizon));
        }
        for (t, rows) in &deltas {
            let last = t.plus(max_window as i32 - 1).min(horizon);
            for day in (*t).max(from).through(last).filter(|d| !rescore.contains(d)) {
                rescore_some.entry(day).or_default().extend(rows.iter().map(|((_, _, id), _)| &**id));
            }
        }
        // A day without a stored file (none can be, short of a store edited by hand)
        // is scored whole.
        let unstored: Vec<Day> = rescore_some.keys().filter(|d| !manifest.daily.contains_key(d)).copied().collect();
        for day in unstored {
            rescore_some.remove(&day);
            rescore.insert(day);
        }
    }

    // Record where this batch writes, then write the new partials, ids, meta; then
    // score and write the daily rows.
    let parent = |rel: &Path| rel.parent().map(|p| p.display().to_string()).unwrap_or_default();
    let mut dirs: BTreeSet<String> = rewritten.iter().map(|day| parent(&partials_file(*day, generation))).collect();
    dirs.extend(id_writes.iter().map(|(_, rel, _)| parent(rel)));
    dirs.extend(rescore.iter().chain(rescore_some.keys()).map(|day| parent(&daily_file(*day, generation))));
    if previous.is_none() {
        dirs.insert("rules".into());
    }
    if stores_changed {
        dirs.insert("meta".into());
    }
    if !ds.rejects.is_empty() || !duplicates.is_empty() {
        dirs.insert("rejects".into());
    }
    if new_corrections.is_some() {
        dirs.insert("corrections".into());
    }
    begin_writes(&req.store, &dirs)?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "Recorded the folders the batch writes in.");
    progress.stage("writing partials and ids", Some((rewritten.len() + id_writes.len()) as u64));
    let mut id_files = Vec::new();
    for (key, rel, ids) in id_writes {
        manifest.id_days.insert(key, generation);
        id_files.push((req.store.join(rel), ids));
    }
    id_files.extend(new_corrections);
    // Every file the batch writes has a name no committed manifest refers to: each is
    // written in place, and all are synced together just before the commit.
    let mut written =
        write_cumulative(&req.store, &mut manifest, &rewritten, &into_totals, generation, id_files, progress)?;
    if previous.is_none() {
        std::fs::create_dir_all(req.store.join("rules")).map_err(|e| Error::io(&req.store, e))?;
        for r in book.versions() {
            let rel = format!("rules/{}.toml", r.version);
            let path = req.store.join(&rel);
            output::write_unsynced(&path, |w| w.write_all(r.source_text.as_bytes()).map_err(|e| Error::io(&rel, e)))?;
            written.push(path);
            manifest.rules.push(rel);
        }
    }
    if stores_changed {
        let (s, e) = (format!("meta/stores-{g}.csv"), format!("meta/exemptions-{g}.csv"));
        write_meta(&req.store, &s, &e, &ds.stores, &ds.exemptions)?;
        written.extend([req.store.join(&s), req.store.join(&e)]);
        manifest.stores = s;
        manifest.exemptions = e;
    }
    manifest.from = from.to_string();
    manifest.horizon = horizon.to_string();
    manifest.boot_id = boot_id().map(str::to_string);
    // The disk syncs these while the days are scored; the commit waits for it.
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "Wrote the files before the scores.");
    let folders = folders_of(&req.store, &written);
    let early = output::BackgroundSync::start(std::mem::take(&mut written), folders)?;

    tracing::info!(seconds = started.elapsed().as_secs_f64(), "Wrote the new partials and ids.");
    let mut rows_written = 0;
    let mut warnings = ds.warnings.clone();
    if let (Some(first), Some(last)) = (rescore.first().copied(), rescore.last().copied()) {
        progress.stage("scoring the days the batch touched", None);
        let partials = load_partials(&req.store, &manifest, &corrections, &ds.stores, &profiles, &book, first, last)?;
        tracing::info!(seconds = started.elapsed().as_secs_f64(), "Loaded the partials of the windows.");
        let (rows, w) = daily::score_range(&ds, &book, &partials, first, last, progress)?;
        tracing::info!(seconds = started.elapsed().as_secs_f64(), rows = rows.len(), "Scored the days.");
        warnings.extend(w);
        let mut by_day: BTreeMap<Day, Vec<ScoreRow>> = BTreeMap::new();
        for r in rows.into_iter().filter(|r| rescore.contains(&r.date)) {
            by_day.entry(r.date).or_default().push(r);
        }
        progress.stage("writing daily scores", Some(rescore.len() as u64));
        for day in &rescore {
            let rows = by_day.remove(day).unwrap_or_default();
            rows_written += rows.len();
            written.push(write_daily(&req.store, *day, generation, &output::daily_batch(&rows)?)?);
            progress.advance(1);
        }
    }
    if let (Some((first, _)), Some((last, _))) = (rescore_some.first_key_value(), rescore_some.last_key_value()) {
        // The stores of late events, scored on their own and put in place of their
        // rows in each day's file.
        progress.stage("rescoring the stores of late events", None);
        let ids: BTreeSet<&str> = rescore_some.values().flatten().copied().collect();
        let some = Dataset {
            stores: ds.stores.iter().filter(|s| ids.contains(s.id.as_str())).cloned().collect(),
            exemptions: ds.exemptions.clone(),
            ..Dataset::new(&ds.dir)
        };
        let partials =
            load_partials(&req.store, &manifest, &corrections, &some.stores, &profiles, &book, *first, *last)?;
        let (rows, w) = daily::score_range(&some, &book, &partials, *first, *last, progress)?;
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            rows = rows.len(),
            "Rescored the stores of late events."
        );
        warnings.extend(w.into_iter().filter(|w| !warnings.contains(w)).collect::<Vec<_>>());
        let mut by_day: BTreeMap<Day, Vec<ScoreRow>> = BTreeMap::new();
        for r in rows.into_iter().filter(|r| rescore_some.get(&r.date).is_some_and(|s| s.contains(r.store_id.as_str())))
        {
            by_day.entry(r.date).or_default().push(r);
        }
        progress.stage("writing daily scores", Some(rescore_some.len() as u64));
        let days: Vec<(Day, &BTreeSet<&str>, Vec<ScoreRow>)> =
            rescore_some.iter().map(|(day, stores)| (*day, stores, by_day.remove(day).unwrap_or_default())).collect();
        rows_written += days.iter().map(|(_, _, rows)| rows.len()).sum::<usize>();
        let stored = &manifest.daily;
        let merge = |(day, stores, rows): &(Day, &BTreeSet<&str>, Vec<ScoreRow>)| -> Result<PathBuf> {
            let new = output::daily_batch(rows)?;
            let old = match stored.get(day) {
                Some(g) => read_parquet_as(&req.store.join(daily_file(*day, *g)), Some(&new.schema()))?,
                None => Vec::new(),
            };
            let path = write_daily(&req.store, *day, generation, &replace_rows(&old, &new, stores)?)?;
            progress.advance(1);
            Ok(path)
        };
        written.extend(crate::on_every_core(&days, merge, "a thread rewriting daily rows")?);
    }
    for day in rescore.iter().chain(rescore_some.keys()) {
        manifest.daily.insert(*day, generation);
    }

    // Rejects of this batch, then the commit.
    let mut rejects = ds.rejects.clone();
    rejects.extend(duplicates.iter().cloned());
    if !rejects.is_empty() {
        let rel = format!("rejects/{g}.csv");
        let path = req.store.join(&rel);
        std::fs::create_dir_all(req.store.join("rejects")).map_err(|e| Error::io(&path, e))?;
        output::write_rejects_unsynced(&path, &rejects)?;
        written.push(path);
        manifest.rejects.push(rel);
    }
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "Wrote the rejects.");
    commit(&req.store, &manifest, written, early)?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "Committed.");
    // What this batch replaced; leftovers of a killed run go at the next `open`.
    if let Some(before) = &previous {
        for rel in replaced(before, &manifest) {
            remove_if_there(&req.store.join(rel))?;
        }
    }
    // Nothing left to clean: the next open need not look (if this is lost in a
    // crash, the next open cleans the folders again, which is harmless).
    let pending = req.store.join(PENDING);
    std::fs::remove_file(&pending).map_err(|e| Error::io(&pending, e))?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "Removed the files the batch replaced.");

    Ok(IngestOutcome {
        generation,
        summaries: ds.summaries.clone(),
        rejected: rejects.len(),
        duplicates: duplicates.len(),
        days_touched: deltas.len(),
        days_rescored: rescore.len() + rescore_some.len(),
        partials_written: rewritten.len(),
        correction_rows: row_count(&corrections),
        folded,
        rows_written,
        from,
        horizon,
        warnings,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Writes a day's daily rows as this batch's file of that day; returns its path
/// (not synced).
fn write_daily(store: &Path, day: Day, generation: u64, rows: &RecordBatch) -> Result<PathBuf> {
    let path = store.join(daily_file(day, generation));
    std::fs::create_dir_all(path.parent().unwrap_or(store)).map_err(|e| Error::io(&path, e))?;
    output::write_store_parquet(&path, rows)?;
    Ok(path)
}

/// A day's daily rows with those of the `replaced` stores taken from `new` instead
/// of `old`, in store id order (as both are written).
fn replace_rows(old: &[RecordBatch], new: &RecordBatch, replaced: &BTreeSet<&str>) -> Result<RecordBatch> {
    let old = datafusion::arrow::compute::concat_batches(&new.schema(), old)?;
    let id = |b: &RecordBatch| -> Result<StringArray> {
        let col = b.column_by_name("store_id").ok_or_else(|| Error::Internal("daily rows without store_id".into()))?;
        Ok(col.as_string::<i32>().clone())
    };
    let (old_ids, new_ids) = (id(&old)?, id(new)?);
    let mut take: Vec<(usize, usize)> = Vec::with_capacity(old.num_rows() + new.num_rows());
    let (mut i, mut j) = (0, 0);
    loop {
        while i < old.num_rows() && replaced.contains(old_ids.value(i)) {
            i += 1;
        }
        match (i < old.num_rows(), j < new.num_rows()) {
            (true, true) if old_ids.value(i) <= new_ids.value(j) => {
                take.push((0, i));
                i += 1;
            }
            (_, true) => {
                take.push((1, j));
                j += 1;
            }
            (true, false) => {
                take.push((0, i));
                i += 1;
            }
            (false, false) => break,
        }
    }
    Ok(datafusion::arrow::compute::interleave_record_batch(&[&old, new], &take)?)
}

fn parse_day(text: &str) -> Result<Day> {
    Day::parse(text).ok_or_else(|| Error::Internal(format!("a manifest date `{text}` is not a date")))
}

fn has_table(dir: &Path, name: &str) -> bool {
    dir.join(format!("{name}.csv")).is_file() || dir.join(format!("{name}.parquet")).exists() || dir.join(name).is_dir()
}

fn creation_days(ds: &Dataset, rules: &RuleSet) -> Vec<Day> {
    let mut days = Vec::new();
    for (table, events) in &ds.events {
        let Some(created) = creation_column(*table) else { continue };
        for b in &events.batches {
            if let Some(c) = b.column_by_name(created) {
                let ms = c.as_primitive::<Int64Type>();
                if let (Some(lo), Some(hi)) = (datafusion::arrow::compute::min(ms), datafusion::arrow::compute::max(ms))
                {
                    days.push(rules.offset.business_day(lo));
                    days.push(rules.offset.business_day(hi));
                }
            }
        }
    }
    days
}

fn latest_creation_day(ds: &Dataset, rules: &RuleSet) -> Option<Day> {
    creation_days(ds, rules).into_iter().max()
}

fn earliest_creation_day(ds: &Dataset, rules: &RuleSet) -> Option<Day> {
    creation_days(ds, rules).into_iter().min()
}

/// The schema of a partials file, its text columns (`profile`, `store_id`) read as
/// `text` (written as `Utf8`).
fn partials_schema(text: DataType) -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("profile", text.clone(), false),
        Field::new("measure", DataType::UInt8, false),
        Field::new("store_id", text, false),
        Field::new("sum", DataType::Int64, false),
        Field::new("count", DataType::Int64, false),
    ]))
}

/// Partials files read (and written) per core at a time: memory holds that many.
const FILES_PER_CORE: usize = 16;

/// A row of a partials file: `(profile, measure code, store id)`. The texts are
/// shared: a file's keys repeat a few hundred store ids and one profile, and rows
/// are cloned at every merge ([`add_rows`]).
type PartialKey = (Arc<str>, u8, Arc<str>);

/// A partials file's rows, sorted by key, each key once.
type Rows = Vec<(PartialKey, MeasureSums)>;

/// Where the batch of `generation` writes the partials of `day`.
fn partials_file(day: Day, generation: u64) -> PathBuf {
    day_files::path(day_files::PARTIALS, day, generation)
}

fn partials_file_batch(rows: &[(PartialKey, MeasureSums)]) -> Result<RecordBatch> {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|(k, _)| &*k.0))),
        Arc::new(UInt8Array::from_iter_values(rows.iter().map(|(k, _)| k.1))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|(k, _)| &*k.2))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|(_, v)| v.sum))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|(_, v)| v.count))),
    ];
    Ok(RecordBatch::try_new(partials_schema(DataType::Utf8), cols)?)
}

/// Writes each `(path, batch)` as a store's Parquet file (not synced), on every
/// core.
fn write_files(files: &[(PathBuf, RecordBatch)], progress: &dyn Progress) -> Result<()> {
    let write = |(path, batch): &(PathBuf, RecordBatch)| {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).map_err(|e| Error::io(path, e))?;
        output::write_store_parquet(path, batch)?;
        progress.advance(1);
        Ok(())
    };
    crate::on_every_core(files, write, "a thread writing partials and ids").map(|_| ())
}

/// A partials file's rows, sorted by key (as written; sorted again, repeated keys
/// added, should a file not be).
fn read_rows(path: &Path) -> Result<Rows> {
    let mut out = Rows::new();
    for b in read_parquet_as(path, Some(&partials_schema(text_keys())))? {
        out.extend(batch_rows(&b, 0));
    }
    Ok(sorted(out))
}

/// Text columns of the store's files as read where their values repeat (partials,
/// corrections, the table names of ids files): dictionaries.
fn text_keys() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// The `(profile, measure, store_id, sum, count)` rows of a batch whose columns
/// start at `first` (a partials file's at 0, a corrections file's at 1), its text
/// columns read as [`text_keys`].
fn batch_rows(b: &RecordBatch, first: usize) -> impl Iterator<Item = (PartialKey, MeasureSums)> + '_ {
    let shared = |column: usize| {
        let d = b.column(column).as_dictionary::<Int32Type>();
        let texts: Vec<Arc<str>> = d.values().as_string::<i32>().iter().map(|t| Arc::from(t.unwrap_or(""))).collect();
        (d.keys(), texts)
    };
    let ((p, profiles), m, (s, stores)) =
        (shared(first), b.column(first + 1).as_primitive::<UInt8Type>(), shared(first + 2));
    let (sum, count) =
        (b.column(first + 3).as_primitive::<Int64Type>(), b.column(first + 4).as_primitive::<Int64Type>());
    (0..b.num_rows()).map(move |i| {
        let key = (profiles[p.value(i) as usize].clone(), m.value(i), stores[s.value(i) as usize].clone());
        (key, MeasureSums { sum: sum.value(i), count: count.value(i) })
    })
}

/// Rows sorted by key, each key once (as written; sorted again, repeated keys
/// added, should they not be).
fn sorted(rows: Rows) -> Rows {
    if rows.is_sorted_by(|a, b| a.0 < b.0) {
        return rows;
    }
    let mut rows = rows;
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    add_rows(&[], &rows)
}

/// The rows of `a` and `b` (each sorted by key) added key by key, sorted; repeated
/// keys within `b` are added too.
fn add_rows(a: &[(PartialKey, MeasureSums)], b: &[(PartialKey, MeasureSums)]) -> Rows {
    let mut out: Rows = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 <= y.0 => {
                i += 1;
                x
            }
            (Some(x), None) => {
                i += 1;
                x
            }
            (_, Some(y)) => {
                j += 1;
                y
            }
            (None, None) => break,
        };
        match out.last_mut() {
            Some(last) if last.0 == next.0 => last.1 = last.1 + next.1,
            _ => out.push(next.clone()),
        }
    }
    out
}

/// The days whose partials file a batch with these per-day `deltas` (re)writes. A
/// file holds running totals (see [`Manifest::cumulative`]): every stored day from
/// the batch's first day on changes, and each day the batch brings events for gets a
/// file. A store of per-day files is converted whole.
fn cumulative_days(m: &Manifest, deltas: &BTreeMap<Day, Rows>) -> Result<BTreeSet<Day>> {
    let mut days: BTreeSet<Day> = deltas.keys().copied().collect();
    // From the batch's first day on; a per-day store from its first.
    let first = match (m.cumulative, deltas.keys().next()) {
        (true, None) => return Ok(days),
        (true, Some(first)) => Some(*first),
        (false, _) => None,
    };
    days.extend(m.partials.keys().filter(|day| first.is_none_or(|f| **day >= f)));
    Ok(days)
}

/// Partials files a batch rewrites at most to add its sums to the running totals:
/// sums of days before the `REWRITE_DAYS`-th latest file go to the corrections.
pub const REWRITE_DAYS: usize = 8;

/// A batch's per-day sums split into those its running totals take (the days from
/// the [`REWRITE_DAYS`]-th latest partials file on, or every day while the store
/// has fewer files or holds per-day sums) and the late ones, kept as corrections.
fn split_late(m: &Manifest, mut deltas: BTreeMap<Day, Rows>) -> Result<(BTreeMap<Day, Rows>, BTreeMap<Day, Rows>)> {
    let cutoff = match m.partials.keys().rev().nth(REWRITE_DAYS - 1) {
        Some(day) if m.cumulative => *day,
        _ => return Ok((deltas, BTreeMap::new())),
    };
    let into_totals = deltas.split_off(&cutoff);
    Ok((into_totals, deltas))
}

/// Per-day rows of `a` and `b` added day by day and key by key.
fn add_dated(a: &BTreeMap<Day, Rows>, b: &BTreeMap<Day, Rows>) -> BTreeMap<Day, Rows> {
    let mut out = a.clone();
    for (day, rows) in b {
        let sum = add_rows(out.get(day).map_or(&[][..], Vec::as_slice), rows);
        out.insert(*day, sum);
    }
    out
}

fn row_count(dated: &BTreeMap<Day, Rows>) -> usize {
    dated.values().map(Vec::len).sum()
}

/// The most correction rows a store keeps before folding them into its running
/// totals: as many as one partials file can hold (one row per profile, measure and
/// store), so that reading the corrections never costs more than reading one more
/// day's totals.
fn fold_limit(stores: usize, profiles: usize) -> usize {
    stores * profiles * Measure::ALL.len()
}

/// The schema of the corrections file (text columns read as `text`).
fn corrections_schema(text: DataType) -> Arc<Schema> {
    let mut fields = vec![Field::new("date", DataType::Date32, false)];
    fields.extend(partials_schema(text).fields().iter().map(|f| f.as_ref().clone()));
    Arc::new(Schema::new(fields))
}

fn corrections_batch(dated: &BTreeMap<Day, Rows>) -> Result<RecordBatch> {
    let dates = Date32Array::from_iter_values(dated.iter().flat_map(|(day, rows)| rows.iter().map(|_| day.0)));
    let rows: Rows = dated.values().flatten().cloned().collect();
    let mut cols: Vec<ArrayRef> = vec![Arc::new(dates)];
    cols.extend(partials_file_batch(&rows)?.columns().iter().cloned());
    Ok(RecordBatch::try_new(corrections_schema(DataType::Utf8), cols)?)
}

/// The corrections file's rows, per day, each day's sorted by key.
fn read_corrections(path: &Path) -> Result<BTreeMap<Day, Rows>> {
    let mut out: BTreeMap<Day, Rows> = BTreeMap::new();
    for b in read_parquet_as(path, Some(&corrections_schema(text_keys())))? {
        let dates = b.column(0).as_primitive::<Date32Type>();
        for (date, row) in dates.values().iter().zip(batch_rows(&b, 1)) {
            out.entry(Day(*date)).or_default().push(row);
        }
    }
    Ok(out.into_iter().map(|(day, rows)| (day, sorted(rows))).collect())
}

/// Writes the running totals of the `days` (from [`cumulative_days`]): each is the
/// stored total up to that day plus the batch's `deltas` up to it. Files are read
/// and written [`FILES_PER_CORE`] per core at a time (memory holds those, whatever
/// the number of days), `others` with the first of them, and named in the
/// manifest, which is marked cumulative. Returns the files written (not synced).
fn write_cumulative(
    store: &Path,
    m: &mut Manifest,
    days: &BTreeSet<Day>,
    deltas: &BTreeMap<Day, Rows>,
    generation: u64,
    others: Vec<(PathBuf, RecordBatch)>,
    progress: &dyn Progress,
) -> Result<Vec<PathBuf>> {
    // The totals stored before this batch (a copy: the batch's days replace theirs).
    let stored = m.partials.clone();
    let path = |day: &Day, g: &u64| store.join(partials_file(*day, *g));
    // The stored running total before the first day written, unless that day has a
    // stored total of its own, which holds it (a per-day store starts from nothing:
    // all its days are written).
    let before_first = match days.first() {
        Some(first) if m.cumulative && !stored.contains_key(first) => {
            stored.range(..*first).next_back().map(|(day, g)| path(day, g))
        }
        _ => None,
    };
    let mut before = Rows::new();
    let mut added = Rows::new();
    let mut files = others;
    let mut written = Vec::new();
    let days: Vec<Day> = days.iter().copied().collect();
    for (i, group) in days.chunks(FILES_PER_CORE * crate::cores()).enumerate() {
        let mut paths: Vec<PathBuf> = group.iter().filter_map(|day| stored.get(day).map(|g| path(day, g))).collect();
        paths.extend(before_first.iter().filter(|_| i == 0).cloned());
        let mut read = crate::on_every_core(&paths, |p| read_rows(p), "a thread reading partials")?;
        tracing::debug!(files = paths.len(), "Read running totals.");
        if i == 0 && before_first.is_some() {
            before = read.pop().unwrap_or_default();
        }
        let mut read = read.into_iter();
        for day in group {
            if stored.contains_key(day) {
                let rows = read.next().unwrap_or_default();
                before = if m.cumulative { rows } else { add_rows(&before, &rows) };
            }
            if let Some(delta) = deltas.get(day) {
                added = add_rows(&added, delta);
            }
            files.push((path(day, &generation), partials_file_batch(&add_rows(&before, &added))?));
            m.partials.insert(*day, generation);
        }
        tracing::debug!(files = files.len(), "Added the batch's sums; writing.");
        write_files(&files, progress)?;
        written.extend(files.drain(..).map(|(path, _)| path));
    }
    write_files(&files, progress)?;
    written.extend(files.into_iter().map(|(path, _)| path));
    m.cumulative = true;
    Ok(written)
}

/// The window index for scoring the days `first_scored..=last`, from the running
/// totals (see [`Manifest::cumulative`]). A window `[d − w + 1, d]` is the total as
/// of `d` less the total as of `d − w`, so only the files holding those totals are
/// read: for one day scored with 30- and 90-day windows, three files instead of 90
/// days of them. Each key's totals enter the index as the differences between the
/// files read, at their dates, so every window the rules ask for sums to the
/// difference of two totals.
#[expect(clippy::too_many_arguments, reason = "the store, its state and the range scored")]
fn load_partials(
    store: &Path,
    m: &Manifest,
    corrections: &BTreeMap<Day, Rows>,
    stores: &[Store],
    profiles: &[Profile],
    book: &RuleBook,
    first_scored: Day,
    last: Day,
) -> Result<HashMap<Profile, DayPartials>> {
    let mut windows = BTreeSet::new();
    let mut read = [false; Measure::ALL.len()];
    for rule in book.versions().iter().flat_map(|r| &r.indicators) {
        windows.insert(rule.window.days());
        for term in [rule.indicator.numerator(), rule.indicator.denominator()] {
            read[usize::from(term.measure().code())] = true;
        }
    }
    let stored: Vec<(Day, u64)> = m.partials.iter().map(|(d, g)| (*d, *g)).collect();
    // The file holding the total as of `day`: the latest on or before it (none: zero).
    let latest = |day: Day| stored.partition_point(|(d, _)| *d <= day).checked_sub(1);
    let mut needed = BTreeSet::new();
    for day in first_scored.through(last) {
        needed.extend(latest(day));
        needed.extend(windows.iter().filter_map(|w| latest(day.plus(-(*w as i32)))));
    }
    let files: Vec<(Day, PathBuf)> =
        needed.iter().map(|i| (stored[*i].0, store.join(partials_file(stored[*i].0, stored[*i].1)))).collect();
    let index: FastMap<&str, usize> = stores.iter().enumerate().map(|(i, s)| (s.id.as_str(), i)).collect();
    let mut parts: Vec<DayPartials> =
        profiles.iter().map(|_| DayPartials::with_days(stores.len(), [files.len(); Measure::ALL.len()])).collect();
    let by_key: FastMap<String, usize> = profiles.iter().enumerate().map(|(i, p)| (p.key(), i)).collect();
    // Straight from the Arrow columns, the text columns read as dictionaries: a file
    // of a large marketplace is a million rows, and their keys repeat.
    let schema = partials_schema(text_keys());
    // Files are decoded on every core, [`FILES_PER_CORE`] per core at a time,
    // then added in date order (each series then arrives sorted), every core adding
    // to its own range of stores and keeping, for them, each key's last total.
    let threads = crate::cores();
    let per_thread = stores.len().div_ceil(threads).max(1);
    /// Per profile, per store: the last total of each measure.
    type Totals = Vec<Vec<[MeasureSums; Measure::ALL.len()]>>;
    let mut totals: Vec<Totals> =
        (0..threads).map(|_| profiles.iter().map(|_| vec![Default::default(); stores.len()]).collect()).collect();
    for group in files.chunks(FILES_PER_CORE * threads) {
        let read_file = |(_, path): &(Day, PathBuf)| read_parquet_as(path, Some(&schema));
        let decoded = crate::on_every_core(group, read_file, "a thread reading partials")?;
        // Each batch with its dictionaries resolved once: the profile and the store
        // of each dictionary key.
        let mut batches = Vec::new();
        for ((day, _), decoded) in group.iter().zip(decoded) {
            for b in decoded {
                let (p, s) = (b.column(0).as_dictionary::<Int32Type>(), b.column(2).as_dictionary::<Int32Type>());
                let profile_of: Vec<Option<usize>> =
                    p.values().as_string::<i32>().iter().map(|k| by_key.get(k?).copied()).collect();
                let store_of: Vec<Option<usize>> =
                    s.values().as_string::<i32>().iter().map(|k| index.get(k?).copied()).collect();
                batches.push((*day, b, profile_of, store_of));
            }
        }
        // One list of store ranges per thread, one range per profile.
        let mut by_thread: Vec<Vec<crate::partials::StoreRange<'_>>> = (0..threads).map(|_| Vec::new()).collect();
        for dp in &mut parts {
            for (t, range) in dp.ranges_mut(per_thread).into_iter().enumerate() {
                by_thread[t].push(range);
            }
        }
        let batches = &batches;
        let add = |(mut ranges, totals): (Vec<crate::partials::StoreRange<'_>>, &mut Totals)| -> Result<()> {
            for (day, b, profile_of, store_of) in batches {
                let (pk, code, sk) = (
                    b.column(0).as_dictionary::<Int32Type>().keys(),
                    b.column(1).as_primitive::<UInt8Type>(),
                    b.column(2).as_dictionary::<Int32Type>().keys(),
                );
                let (sum, count) = (b.column(3).as_primitive::<Int64Type>(), b.column(4).as_primitive::<Int64Type>());
                for r in 0..b.num_rows() {
                    let store = store_of.get(sk.value(r) as usize).copied().flatten();
                    let Some(i) = store.filter(|i| ranges.first().is_some_and(|x| x.holds(*i))) else {
                        continue;
                    };
                    let profile = profile_of.get(pk.value(r) as usize).copied().flatten();
                    let (Some(profile), Some(measure)) = (profile, Measure::from_code(code.value(r))) else {
                        continue;
                    };
                    let c = usize::from(measure.code());
                    if !read[c] {
                        continue;
                    }
                    let total = MeasureSums { sum: sum.value(r), count: count.value(r) };
                    let before = std::mem::replace(&mut totals[profile][i][c], total);
                    if total != before {
                        ranges[profile].add(i, measure, *day, total - before);
                    }
                }
            }
            Ok(())
        };
        // A range per thread, this one included; each job is taken once.
        let jobs: Vec<std::sync::Mutex<Option<_>>> =
            by_thread.into_iter().zip(totals.iter_mut()).map(|job| std::sync::Mutex::new(Some(job))).collect();
        let take = |job: &std::sync::Mutex<Option<_>>| {
            let job = job.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            job.map_or(Ok(()), add)
        };
        crate::on_threads(jobs.len(), &jobs, take, "a thread adding partials")?;
    }
    // The corrections at their own dates: each adds to every window holding its
    // date, as it adds to every running total from that date on.
    for (day, rows) in corrections {
        for ((profile, code, store_id), sums) in rows {
            let (Some(p), Some(i), Some(measure)) =
                (by_key.get(&**profile), index.get(&**store_id), Measure::from_code(*code))
            else {
                continue;
            };
            if read[usize::from(*code)] {
                parts[*p].add(*i, measure, *day, *sums);
            }
        }
    }
    for dp in &mut parts {
        dp.seal();
    }
    Ok(profiles.iter().copied().zip(parts).collect())
}

fn write_meta(store: &Path, stores_rel: &str, ex_rel: &str, stores: &[Store], exemptions: &[Exemption]) -> Result<()> {
    std::fs::create_dir_all(store.join("meta")).map_err(|e| Error::io(store, e))?;
    let path = store.join(stores_rel);
    output::write_unsynced(&path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        let err = |e: csv::Error| Error::Internal(format!("{}: {e}", path.display()));
        csv.write_record([
            "store_id",
            "name",
            "main_category",
            "opened_on",
            "closed_on",
            "onboarded",
            "removed_for_violation",
        ])
        .map_err(err)?;
        for s in stores {
            csv.write_record([
                s.id.clone(),
                s.name.clone(),
                s.main_category.clone(),
                s.opened_on.to_string(),
                s.closed_on.map(|d| d.to_string()).unwrap_or_default(),
                s.onboarded.to_string(),
                s.removed_for_violation.to_string(),
            ])
            .map_err(err)?;
        }
        csv.flush().map_err(|e| Error::io(&path, e))
    })?;
    let path = store.join(ex_rel);
    output::write_unsynced(&path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        let err = |e: csv::Error| Error::Internal(format!("{}: {e}", path.display()));
        csv.write_record(["scope", "target", "from", "to", "reason"]).map_err(err)?;
        for e in exemptions {
            let (scope, target) = match &e.scope {
                ExemptionScope::All => ("all", String::new()),
                ExemptionScope::Category(c) => ("category", c.clone()),
                ExemptionScope::Store(s) => ("store", s.clone()),
            };
            csv.write_record([scope.to_string(), target, e.from.to_string(), e.to.to_string(), e.reason.clone()])
                .map_err(err)?;
        }
        csv.flush().map_err(|e| Error::io(&path, e))
    })
}

fn read_meta(store: &Path, m: &Manifest) -> Result<(Vec<Store>, Vec<Exemption>)> {
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    std::fs::copy(store.join(&m.stores), dir.path().join("stores.csv")).map_err(|e| Error::io(&m.stores, e))?;
    std::fs::copy(store.join(&m.exemptions), dir.path().join("exemptions.csv"))
        .map_err(|e| Error::io(&m.exemptions, e))?;
    let ds = reader::read_dataset(dir.path(), &crate::progress::NoProgress)?;
    Ok((ds.stores, ds.exemptions))
}

/// The folders to sync with `files`: each file's folder (its name) and that
/// folder's own (a new date folder's name), up to the store folder (a new store's
/// folders).
fn folders_of(store: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    let mut folders: BTreeSet<PathBuf> = BTreeSet::from([store.to_path_buf()]);
    for file in files {
        let mut dir = file.parent();
        while let Some(d) = dir.filter(|d| d.starts_with(store) && *d != store) {
            folders.insert(d.to_path_buf());
            dir = d.parent();
        }
    }
    folders.into_iter().collect()
}

/// Commits a batch: syncs the files it `written` since `early` started syncing the
/// others, the folders holding them and the new manifest, all at once; once
/// `early` is done too, renames the manifest into place and syncs the store
/// folder, which makes the rename durable.
fn commit(store: &Path, m: &Manifest, mut written: Vec<PathBuf>, early: output::BackgroundSync) -> Result<()> {
    let path = store.join(MANIFEST);
    let tmp = output::tmp_path(&path);
    output::write_unsynced(&tmp, |w| {
        serde_json::to_writer_pretty(&mut *w, m).map_err(|e| Error::Internal(e.to_string()))?;
        w.write_all(b"\n").map_err(|e| Error::io(&path, e))
    })?;
    written.push(tmp.clone());
    tracing::debug!("Wrote the manifest.");
    let synced = output::sync_all(&written, &folders_of(store, &written));
    tracing::debug!("Synced the last files.");
    early.wait()?;
    synced?;
    tracing::debug!("Synced the first files.");
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    // The rename is durable once the folder is synced.
    output::sync_folder(store);
    Ok(())
}

/// Every daily row the store holds, as Arrow batches (ordered by date).
pub fn daily_batches(store: &Path) -> Result<Vec<RecordBatch>> {
    let _lock = lock(store, false)?;
    let m = open(store)?.ok_or_else(|| Error::InvalidRequest(format!("{} is not a dengta store", store.display())))?;
    m.daily
        .iter()
        .map(|(d, g)| read_parquet(&store.join(daily_file(*d, *g))))
        .collect::<Result<Vec<_>>>()
        .map(|v| v.concat())
}

/// The store's committed content as sorted text lines (every daily row, partial
/// sum and correction): two stores with the same lines score the same. Opening the store
/// first removes the leftovers of a killed run.
pub fn content_lines(store: &Path) -> Result<Vec<String>> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let _lock = lock(store, false)?;
    let m = open(store)?.ok_or_else(|| Error::InvalidRequest(format!("{} is not a dengta store", store.display())))?;
    let mut lines = Vec::new();
    let files = m
        .daily
        .iter()
        .map(|(d, g)| (format!("daily {d}"), daily_file(*d, *g)))
        .chain(m.partials.iter().map(|(d, g)| (format!("partials {d}"), partials_file(*d, *g))))
        .chain(m.corrections.iter().map(|f| ("corrections".to_string(), PathBuf::from(f))));
    for (prefix, f) in files {
        for b in read_parquet(&store.join(f))? {
            let formatters = b
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            for i in 0..b.num_rows() {
                let cells: Vec<String> = formatters.iter().map(|x| x.value(i).to_string()).collect();
                lines.push(format!("{prefix} {}", cells.join(",")));
            }
        }
    }
    lines.sort();
    Ok(lines)
}

/// Writes the store's daily scores as `daily_scores.csv` and `.parquet` in `dir`
/// (the same columns as a scoring run's); returns the rows written.
pub fn export_daily(store: &Path, dir: &Path) -> Result<usize> {
    use datafusion::arrow::csv::WriterBuilder;
    let batches = daily_batches(store)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let schema = batches.first().map_or_else(|| output::daily_batch(&[]).map(|b| b.schema()), |b| Ok(b.schema()))?;
    let all = datafusion::arrow::compute::concat_batches(&schema, &batches)?;
    output::write_parquet(&dir.join("daily_scores.parquet"), &all)?;
    let path = dir.join("daily_scores.csv");
    output::write_atomically(&path, |w| {
        let mut writer = WriterBuilder::new().with_header(true).with_date_format("%Y-%m-%d".into()).build(w);
        writer.write(&all).map_err(|e| Error::Internal(format!("{}: {e}", path.display())))
    })?;
    Ok(all.num_rows())
}
