//! Writing results (SPEC §11) as CSV and Parquet. Each file is written beside its
//! final name and renamed into place, so a killed run never leaves a half file
//! under a result's name; `run.json` is written last and names what the run made.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use dengta_model::{Day, Indicator, Measure};

use crate::daily::{ScoreRow, dimension_columns};
use crate::dataset::Reject;
use crate::error::{Error, Result};
use crate::partials::DayPartials;

/// Writes `path` through a temporary file renamed into place.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<()>) -> Result<()> {
    let tmp = tmp_path(path);
    let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    let file = out.into_inner().map_err(|e| Error::io(&tmp, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Writes `path` in place and does not sync it: only for a name nothing refers to
/// yet (a store batch's new files, named by its manifest at the commit), made
/// durable by [`sync_all`] before anything does. A killed run may leave it half
/// written, unnamed, for the store's next opening to delete.
pub fn write_unsynced(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<()>) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    out.flush().map_err(|e| Error::io(path, e))
}

/// At most this many fsyncs wait at once in [`sync_all`].
pub(crate) const SYNC_THREADS: usize = 4;

/// Makes the `files` and the `folders` (their entries: new names, renames) durable.
/// An fsync waits on the disk, not the processor, so they run side by side on up
/// to [`SYNC_THREADS`] threads, and a journaling file system commits them together:
/// one wait for the lot instead of one per file. A folder that cannot be synced
/// (not every file system allows it) is skipped.
pub fn sync_all(files: &[PathBuf], folders: &[PathBuf]) -> Result<()> {
    let entries: Vec<(&PathBuf, bool)> =
        files.iter().map(|f| (f, true)).chain(folders.iter().map(|d| (d, false))).collect();
    let sync = |&(path, is_file): &(&PathBuf, bool)| {
        if is_file {
            File::open(path).and_then(|f| f.sync_all()).map_err(|e| Error::io(path, e))
        } else {
            sync_folder(path);
            Ok(())
        }
    };
    let helpers = crate::Helpers::Disk;
    crate::with_helpers(helpers, SYNC_THREADS, &entries, sync, "a thread syncing files").map(|_| ())
}

/// [`sync_all`] on one of the threads that wait on the disk, started at once and
/// waited for with [`BackgroundSync::wait`]: the disk writes a batch's first files
/// while the batch goes on computing the rest.
pub struct BackgroundSync(std::sync::mpsc::Receiver<Result<()>>);

impl BackgroundSync {
    /// Starts syncing `files` and `folders` (see [`sync_all`]).
    pub fn start(files: Vec<PathBuf>, folders: Vec<PathBuf>) -> Result<BackgroundSync> {
        let (send, receive) = std::sync::mpsc::sync_channel(1);
        let job = move || {
            let synced = std::panic::catch_unwind(|| sync_all(&files, &folders))
                .unwrap_or_else(|_| Err(Error::Internal("a thread syncing files panicked".into())));
            // Nobody waiting: the batch failed meanwhile, and its error is reported.
            let _ = send.send(synced);
        };
        match crate::Helpers::Disk.pool() {
            Some(pool) => pool.spawn(job),
            None => job(),
        }
        Ok(BackgroundSync(receive))
    }

    /// Waits until every file and folder is synced; the first error, if any.
    pub fn wait(self) -> Result<()> {
        self.0.recv().unwrap_or_else(|_| Err(Error::Internal("a thread syncing files stopped unheard".into())))
    }
}

/// Makes the entries of the folder `dir` (new names, renames) durable; best effort:
/// not every file system lets a folder be synced.
pub fn sync_folder(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The temporary name [`write_atomically`] writes `path` under.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// The `daily_scores` header (SPEC §11).
pub fn daily_header() -> Vec<String> {
    let mut h: Vec<String> = ["store_id", "date", "rule_version", "category", "status", "reason", "score", "star"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend(dimension_columns());
    for i in Indicator::ALL {
        h.push(i.name().to_string());
        h.push(format!("{}_n", i.name()));
        h.push(format!("{}_score", i.name()));
    }
    h
}

/// Writes `daily_scores.csv`.
pub fn write_daily_csv(path: &Path, rows: &[ScoreRow]) -> Result<()> {
    write_atomically(path, |out| {
        let mut w = csv::Writer::from_writer(out);
        let io = |e: csv::Error| Error::Engine(format!("writing {}: {e}", path.display()));
        w.write_record(daily_header()).map_err(io)?;
        write_daily_records(&mut w, rows).map_err(io)?;
        w.flush().map_err(|e| Error::io(path, e))
    })
}

fn write_daily_records<W: std::io::Write>(w: &mut csv::Writer<W>, rows: &[ScoreRow]) -> csv::Result<()> {
    use std::fmt::Write as _;
    // One buffer for every field: no allocation per field.
    let mut buf = String::with_capacity(64);
    let mut field = |w: &mut csv::Writer<W>, fill: &mut dyn FnMut(&mut String)| -> csv::Result<()> {
        buf.clear();
        fill(&mut buf);
        w.write_field(buf.as_bytes())
    };
    for r in rows {
        w.write_field(&r.store_id)?;
        field(w, &mut |b| write_day(b, r.date))?;
        w.write_field(&r.rule_version)?;
        w.write_field(&r.category)?;
        w.write_field(r.verdict.status())?;
        w.write_field(r.verdict.reason())?;
        field(w, &mut |b| b.push_str(&r.score_text()))?;
        field(w, &mut |b| {
            if let Some(s) = r.star {
                let _ = write!(b, "{s}");
            }
        })?;
        for d in &r.dims {
            field(w, &mut |b| write_fixed(b, *d))?;
        }
        for c in &r.indicators {
            field(w, &mut |b| {
                if let Some(v) = c.value {
                    write_debug_float(b, v);
                }
            })?;
            field(w, &mut |b| {
                if let Some(n) = c.n {
                    b.push_str(itoa::Buffer::new().format(n));
                }
            })?;
            field(w, &mut |b| write_fixed(b, c.score))?;
        }
        w.write_record(None::<&[u8]>)?;
    }
    Ok(())
}

/// A day as `YYYY-MM-DD`, as [`Day`]'s `Display` writes it, without a format string.
fn write_day(out: &mut String, day: dengta_model::Day) {
    use chrono::Datelike;
    use std::fmt::Write as _;
    let date = day.date();
    let _ = if (0..=9999).contains(&date.year()) {
        write!(out, "{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
    } else {
        write!(out, "{day}")
    };
}

/// `v` with ten decimals, exactly as `format!("{v:.10}")` writes it (the binary
/// value rounded to nearest, ties to even), by integer arithmetic when `v` is a
/// non-negative value below 10⁶ (every score and dimension): the general float
/// formatter is the slowest part of writing a daily row.
fn write_fixed(out: &mut String, v: Option<f64>) {
    use std::fmt::Write as _;
    let Some(v) = v else { return };
    if let Some(tenths) = fixed10(v) {
        // Below 10⁶ · 10¹⁰ < 2⁶⁴.
        let tenths = tenths as u64;
        let unit = 10_000_000_000u64;
        out.push_str(itoa::Buffer::new().format(tenths / unit));
        out.push('.');
        let mut digits = [b'0'; 10];
        let mut rest = tenths % unit;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.push_str(std::str::from_utf8(&digits).unwrap_or_default());
    } else {
        let _ = write!(out, "{v:.10}");
    }
}

/// `v` exactly as `format!("{v:?}")` writes it (the shortest digits that read back
/// as `v`), by the `ryu` crate where the two agree. They differ in two ways: Rust
/// writes exponents below 10⁻⁴ (`ryu` below 10⁻⁵), and where two shortest digit
/// strings are equally near `v`, Rust takes the upper one and `ryu` the even one.
/// Such a tie needs `v`'s exact decimal expansion to be one digit longer than the
/// shortest (at most 18 significant digits); with `v = m·2^e`, `m` odd, it has
/// `-e` decimals, of which at most 4 are leading zeros when `v ≥ 10⁻⁴`, so `e ≤ -23`
/// rules ties out, and whole numbers (`e ≥ 0`, below 10¹⁴) are written exactly.
/// Every other value goes to Rust's formatter.
fn write_debug_float(out: &mut String, v: f64) {
    use std::fmt::Write as _;
    let bits = v.to_bits();
    let field = ((bits >> 52) & 0x7ff) as i32;
    let mantissa = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let e = field - 1075 + mantissa.trailing_zeros() as i32;
    let in_range = v.is_finite() && (1e-4..1e14).contains(&v.abs());
    if v == 0.0 || (in_range && (e <= -23 || e >= 0)) {
        out.push_str(ryu::Buffer::new().format_finite(v));
    } else {
        let _ = write!(out, "{v:?}");
    }
}

/// `v × 10¹⁰` rounded to nearest, ties to even, when `0 ≤ v < 10⁶`; `None` otherwise.
fn fixed10(v: f64) -> Option<u128> {
    if !v.is_finite() || !v.is_sign_positive() || v >= 1e6 {
        return None;
    }
    let bits = v.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = u128::from(bits & ((1u64 << 52) - 1));
    if exponent == 0 && fraction == 0 {
        return Some(0);
    }
    let (mantissa, shift) = if exponent == 0 { (fraction, 1074) } else { (fraction | (1u128 << 52), 1075 - exponent) };
    // v = mantissa / 2^shift, with shift > 0 since v < 2^52.
    let shift = u32::try_from(shift).ok().filter(|s| (1..128).contains(s))?;
    let scaled = mantissa * 10_000_000_000u128; // < 2^53 · 2^34
    let (q, r, half) = (scaled >> shift, scaled & ((1u128 << shift) - 1), 1u128 << (shift - 1));
    Some(if r > half || (r == half && q & 1 == 1) { q + 1 } else { q })
}

/// Writes `daily_scores.csv` and `daily_scores.parquet` a block of rows at a time,
/// each beside its final name until [`DailyWriter::finish`] renames both into place.
pub struct DailyWriter {
    csv_path: PathBuf,
    parquet_path: PathBuf,
    csv: BufWriter<File>,
    parquet: ArrowWriter<BufWriter<File>>,
    /// Rows written.
    pub rows: usize,
}

impl DailyWriter {
    /// Starts both files.
    pub fn create(csv_path: &Path, parquet_path: &Path) -> Result<DailyWriter> {
        let open = |p: &Path| -> Result<BufWriter<File>> {
            let tmp = tmp_path(p);
            Ok(BufWriter::new(File::create(&tmp).map_err(|e| Error::io(&tmp, e))?))
        };
        let mut csv = open(csv_path)?;
        let mut header = csv::Writer::from_writer(Vec::new());
        header
            .write_record(daily_header())
            .map_err(|e| Error::Engine(format!("writing {}: {e}", csv_path.display())))?;
        let header = header.into_inner().map_err(|e| Error::Engine(e.to_string()))?;
        csv.write_all(&header).map_err(|e| Error::io(csv_path, e))?;
        // Dictionaries for the text columns only: numbers are hashed for nothing
        // there, and ZSTD compresses their repeats anyway.
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_dictionary_enabled(false);
        for text in ["store_id", "rule_version", "category", "status", "reason"] {
            props = props.set_column_dictionary_enabled(ColumnPath::from(text), true);
        }
        let parquet = ArrowWriter::try_new(open(parquet_path)?, daily_schema(), Some(props.build()))?;
        Ok(DailyWriter {
            csv_path: csv_path.to_path_buf(),
            parquet_path: parquet_path.to_path_buf(),
            csv,
            parquet,
            rows: 0,
        })
    }

    /// Appends rows (in output order).
    pub fn write(&mut self, rows: &[ScoreRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        // Formatting numbers is most of the cost: format parts of the block on every
        // core, and encode the Parquet batch beside them.
        let io = |e: csv::Error| Error::Engine(format!("writing {}: {e}", self.csv_path.display()));
        let threads = crate::cores();
        let part = rows.len().div_ceil(threads).max(1);
        let (texts, batch) = std::thread::scope(|scope| {
            let batch = scope.spawn(|| daily_batch(rows));
            let texts: Vec<csv::Result<Vec<u8>>> = rows
                .chunks(part)
                .map(|chunk| {
                    scope.spawn(move || {
                        let mut w = csv::Writer::from_writer(Vec::with_capacity(chunk.len() * 256));
                        write_daily_records(&mut w, chunk)?;
                        w.into_inner().map_err(|e| e.into_error().into())
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(std::io::Error::other("a formatting thread panicked").into())))
                .collect();
            (texts, batch.join())
        });
        for text in texts {
            self.csv.write_all(&text.map_err(io)?).map_err(|e| Error::io(&self.csv_path, e))?;
        }
        let batch = batch.map_err(|_| Error::Internal("encoding daily rows panicked".into()))??;
        self.parquet.write(&batch)?;
        self.rows += rows.len();
        Ok(())
    }

    /// Flushes, syncs and renames both files into place.
    pub fn finish(self) -> Result<()> {
        let csv_tmp = tmp_path(&self.csv_path);
        let file = self.csv.into_inner().map_err(|e| Error::io(&csv_tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&csv_tmp, e))?;
        let parquet_tmp = tmp_path(&self.parquet_path);
        let file = self.parquet.into_inner()?.into_inner().map_err(|e| Error::io(&parquet_tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&parquet_tmp, e))?;
        std::fs::rename(&csv_tmp, &self.csv_path).map_err(|e| Error::io(&self.csv_path, e))?;
        std::fs::rename(&parquet_tmp, &self.parquet_path).map_err(|e| Error::io(&self.parquet_path, e))
    }
}

fn daily_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("store_id", DataType::Utf8, false),
        Field::new("date", DataType::Date32, false),
        Field::new("rule_version", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, true),
        Field::new("score", DataType::Decimal128(6, 2), false),
        Field::new("star", DataType::Float64, true),
    ];
    fields.extend(dimension_columns().map(|d| Field::new(d, DataType::Float64, true)));
    for i in Indicator::ALL {
        fields.push(Field::new(i.name(), DataType::Float64, true));
        fields.push(Field::new(format!("{}_n", i.name()), DataType::Int64, true));
        fields.push(Field::new(format!("{}_score", i.name()), DataType::Float64, true));
    }
    Arc::new(Schema::new(fields))
}

/// The `daily_scores` rows as one Arrow batch.
pub fn daily_batch(rows: &[ScoreRow]) -> Result<RecordBatch> {
    let text = |f: &dyn Fn(&ScoreRow) -> Option<String>| -> ArrayRef {
        let mut b = StringBuilder::new();
        for r in rows {
            b.append_option(f(r));
        }
        Arc::new(b.finish())
    };
    let float = |f: &dyn Fn(&ScoreRow) -> Option<f64>| -> ArrayRef {
        let mut b = Float64Builder::with_capacity(rows.len());
        for r in rows {
            b.append_option(f(r));
        }
        Arc::new(b.finish())
    };
    let mut dates = Date32Builder::with_capacity(rows.len());
    let mut scores = Decimal128Builder::with_capacity(rows.len());
    for r in rows {
        dates.append_value(r.date.0);
        scores.append_value(i128::from(r.score_cents));
    }
    let mut columns: Vec<ArrayRef> = vec![
        text(&|r| Some(r.store_id.clone())),
        Arc::new(dates.finish()),
        text(&|r| Some(r.rule_version.clone())),
        text(&|r| Some(r.category.clone())),
        text(&|r| Some(r.verdict.status().to_string())),
        text(&|r| Some(r.verdict.reason().to_string()).filter(|s| !s.is_empty())),
        Arc::new(scores.finish().with_precision_and_scale(6, 2)?),
        float(&|r| r.star.map(|s| f64::from(s.0) / 2.0)),
    ];
    for d in 0..5 {
        columns.push(float(&|r| r.dims[d]));
    }
    for i in 0..Indicator::ALL.len() {
        columns.push(float(&|r| r.indicators[i].value));
        let mut n = Int64Builder::with_capacity(rows.len());
        for r in rows {
            n.append_option(r.indicators[i].n);
        }
        columns.push(Arc::new(n.finish()));
        columns.push(float(&|r| r.indicators[i].score));
    }
    Ok(RecordBatch::try_new(daily_schema(), columns)?)
}

/// Writes one Arrow batch as a zstd-compressed Parquet file.
pub fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<()> {
    let props = WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
    write_atomically(path, |out| parquet_into(out, batch, props))
}

/// Writes one Arrow batch as a Parquet file of a store (see [`store_properties`]),
/// in place and not synced (see [`write_unsynced`]).
pub fn write_store_parquet(path: &Path, batch: &RecordBatch) -> Result<()> {
    write_unsynced(path, |out| parquet_into(out, batch, store_properties()))
}

/// One Arrow batch as a Parquet file into `out`.
fn parquet_into(out: &mut BufWriter<File>, batch: &RecordBatch, props: WriterProperties) -> Result<()> {
    let mut w = ArrowWriter::try_new(out, batch.schema(), Some(props))?;
    w.write(batch)?;
    w.close()?;
    Ok(())
}

/// Parquet settings for a store's own files: LZ4, without dictionaries or
/// statistics. Only dengta reads them, and always whole, so statistics prune
/// nothing; a nightly batch's files are a few thousand rows, where a dictionary
/// per column (about a hundred in a daily file) costs more to build than it saves.
/// Measured on the 1 M-order store's nightly files: 18–35 % smaller without both,
/// and some 4 ms less processor time per batch (BENCHMARKS.md). LZ4 rather than
/// zstd since session 15: the Parquet writer and reader set up a zstd context for
/// every column chunk, which on these small files costs more than the compressing
/// (a daily file of 221 rows: written in 0.27 ms instead of 0.84, read in 0.19
/// instead of 0.56), for files 20–100 % larger.
fn store_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::None)
        .build()
}

/// Writes the rejects file: `table,row,column,reason,value`.
pub fn write_rejects(path: &Path, rejects: &[Reject]) -> Result<()> {
    write_atomically(path, |out| rejects_into(out, path, rejects))
}

/// [`write_rejects`] in place, not synced (see [`write_unsynced`]).
pub fn write_rejects_unsynced(path: &Path, rejects: &[Reject]) -> Result<()> {
    write_unsynced(path, |out| rejects_into(out, path, rejects))
}

fn rejects_into(out: &mut BufWriter<File>, path: &Path, rejects: &[Reject]) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| Error::Engine(format!("writing {}: {e}", path.display()));
    w.write_record(["table", "row", "column", "reason", "value"]).map_err(io)?;
    for r in rejects {
        w.write_record([r.table.name(), &r.row.to_string(), &r.column, r.reason.name(), &r.value]).map_err(io)?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}

/// The partials of one profile for the stores at positions `stores`, as a batch:
/// `profile, measure, store_id, day, sum, count`.
pub fn partials_batch(
    profile_key: &str,
    store_ids: &[String],
    partials: &DayPartials,
    stores: std::ops::Range<usize>,
) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("profile", DataType::Utf8, false),
        Field::new("measure", DataType::Utf8, false),
        Field::new("store_id", DataType::Utf8, false),
        Field::new("day", DataType::Date32, false),
        Field::new("sum", DataType::Int64, false),
        Field::new("count", DataType::Int64, false),
    ]));
    let (mut p, mut m, mut s, mut d, mut su, mut c) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        Date32Builder::new(),
        Int64Builder::new(),
        Int64Builder::new(),
    );
    for (store, id) in store_ids.iter().enumerate().take(partials.store_count().min(stores.end)).skip(stores.start) {
        for measure in Measure::ALL {
            for (day, sums) in partials.days(store, measure) {
                p.append_value(profile_key);
                m.append_value(measure.name());
                s.append_value(id);
                d.append_value(day.0);
                su.append_value(sums.sum);
                c.append_value(sums.count);
            }
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(p.finish()),
        Arc::new(m.finish()),
        Arc::new(s.finish()),
        Arc::new(d.finish()),
        Arc::new(su.finish()),
        Arc::new(c.finish()),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Formats a day for file names and JSON.
pub fn day_text(day: Day) -> String {
    day.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` pseudo-random 64-bit patterns (xorshift), the same every run.
    fn random_bits(n: usize) -> Vec<u64> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            })
            .collect()
    }

    /// A value in [0, 1) from the top 52 bits of `x`.
    fn unit(x: u64) -> f64 {
        f64::from_bits(x >> 12) / f64::from_bits(0x4330_0000_0000_0000)
    }

    fn fixed_text(v: f64) -> String {
        let mut s = String::new();
        write_fixed(&mut s, Some(v));
        s
    }

    #[test]
    fn fixed_decimals_equal_the_float_formatter() {
        let mut values: Vec<f64> =
            vec![0.0, -0.0, 1e-300, 5e-11, 0.25, 4.99999999995, 5.0, 999_999.99, 1e6, 2.5e7, -1.5];
        // Exact ties at the tenth decimal (odd multiples of 2^-11) and ratios of small integers.
        values.extend((1..4000).step_by(2).map(|k| f64::from(k) / 2048.0));
        for d in 1..200 {
            values.extend((0..=5 * d).map(|n| f64::from(n) / f64::from(d)));
        }
        // Random bit patterns.
        for x in random_bits(200_000) {
            values.push(f64::from_bits(x));
            values.push(unit(x) * 6.0);
        }
        let mut fast = 0;
        for v in values {
            fast += usize::from(fixed10(v).is_some());
            assert_eq!(fixed_text(v), format!("{v:.10}"), "{v:e}");
        }
        assert!(fast > 200_000, "the integer path is taken ({fast})");
    }

    #[test]
    fn shortest_floats_equal_the_debug_formatter() {
        let mut values: Vec<f64> = vec![
            0.0,
            -0.0,
            1e-4,
            9.999e-5,
            1e-5,
            1e14,
            99_999_999_999_999.98,
            1e16,
            1_658_206_780_088_562.2,
            1.000_007_629_394_531_2,
        ];
        values.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE, f64::MAX, 5e-324]);
        for d in 1..300 {
            values.extend((0..=5 * d).map(|n| f64::from(n) / f64::from(d)));
            values.extend((0..=50).map(|n| f64::from(n) / f64::from(d) / 3_600_000.0));
        }
        for x in random_bits(300_000) {
            values.push(f64::from_bits(x));
            values.push(unit(x) * 6.0);
            values.push(-unit(x) * 1e-3);
            // Just below 10¹⁴, where the fewest fraction bits are left.
            values.push(1e14 - (x >> 20) as f64 / 1024.0);
            // Few fraction bits at every scale: where ties between two shortest
            // digit strings happen (1 + 2⁻¹⁷ is one).
            let bits = (x >> 58) as i32; // 0..63
            values.push((x >> 11) as f64 / 2f64.powi(bits) / 2f64.powi(20));
            values.push(1.0 + ((x >> 40) as f64) * 2f64.powi(-17 - (bits % 8)));
        }
        for v in values {
            let mut s = String::new();
            write_debug_float(&mut s, v);
            assert_eq!(s, format!("{v:?}"), "{v:e}");
        }
    }

    #[test]
    fn days_are_written_as_their_display() {
        for d in [-800_000, -1, 0, 1, 19_000, 20_454, 2_932_896, 2_932_897] {
            let day = dengta_model::Day(d);
            let mut s = String::new();
            write_day(&mut s, day);
            assert_eq!(s, day.to_string());
        }
    }

    #[test]
    fn sync_all_reaches_every_file_and_names_one_it_cannot_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        // More files than threads: every one is taken by some thread.
        let files: Vec<PathBuf> = (0..SYNC_THREADS * 3 + 1).map(|i| dir.path().join(format!("f{i}"))).collect();
        for f in &files {
            write_unsynced(f, |w| w.write_all(b"x").map_err(|e| Error::io(f, e))).expect("write");
        }
        sync_all(&files, &[dir.path().to_path_buf()]).expect("every file syncs");
        // A missing file anywhere in the list fails the whole sync, naming it.
        let mut with_missing = files.clone();
        let missing = dir.path().join("never-written");
        with_missing.insert(SYNC_THREADS + 2, missing.clone());
        let err = sync_all(&with_missing, &[]).expect_err("a file that is not there cannot be synced");
        assert!(err.to_string().contains("never-written"), "{err}");
        // A folder that cannot be opened is skipped (best effort).
        sync_all(&files[..1], &[dir.path().join("no-such-folder")]).expect("folders are best effort");
    }
}
