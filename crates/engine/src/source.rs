//! Finding a table's file(s) in a dataset directory and reading them row by row, as
//! cells in the table's column order, from CSV or Parquet (SPEC §3).

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, LargeStringArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{self as dt, DataType, TimeUnit};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::cell::Cell;
use crate::error::{Error, Result};
use crate::schema::Table;

/// Where a table's rows come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `TABLE.csv`.
    Csv(PathBuf),
    /// `TABLE.parquet`, or every `*.parquet` file of the folder `TABLE/`, by name.
    Parquet(PathBuf, Vec<PathBuf>),
}

impl Source {
    /// The file or folder, for messages.
    pub fn path(&self) -> &Path {
        match self {
            Source::Csv(p) | Source::Parquet(p, _) => p,
        }
    }
}

impl Source {
    /// About how many records the source holds, to size the reader's id tables
    /// up front: exact for Parquet (its footers), and for CSV the file's size over
    /// the mean length of its first lines. `None` when it cannot tell, and for a CSV
    /// file under [`ESTIMATED_FROM`] bytes.
    pub fn estimated_rows(&self) -> Option<u64> {
        match self {
            Source::Parquet(_, files) => files.iter().try_fold(0u64, |total, file| {
                let reader =
                    datafusion::parquet::file::reader::SerializedFileReader::new(File::open(file).ok()?).ok()?;
                use datafusion::parquet::file::reader::FileReader;
                Some(total + u64::try_from(reader.metadata().file_metadata().num_rows()).ok()?)
            }),
            Source::Csv(path) => {
                use std::io::Read;
                let size = std::fs::metadata(path).ok()?.len();
                if size < ESTIMATED_FROM {
                    return None;
                }
                let mut head = Vec::with_capacity(1 << 16);
                File::open(path).ok()?.take(1 << 16).read_to_end(&mut head).ok()?;
                // The header line counts as a record: a slight overestimate.
                let lines = head.iter().filter(|b| **b == b'\n').count() as u64;
                (lines > 0).then(|| size.div_ceil(head.len() as u64 / lines))
            }
        }
    }
}

/// The size from which a CSV file's rows are estimated: the ids of a smaller one
/// (a day's batch) fit a table grown from nothing at little cost, and the file is
/// then opened once instead of twice.
pub const ESTIMATED_FROM: u64 = 4 << 20;

/// One record of a table, as cells in the table's column order.
pub enum Row<'a> {
    /// The cells; an optional column absent from the file reads as [`Cell::Null`].
    Cells(&'a [Cell<'a>]),
    /// A record that cannot be split into the table's columns; the raw text.
    Malformed(String),
}

/// Finds the source of a table: `None` when there is none.
pub fn locate(dir: &Path, table: Table) -> Result<Option<Source>> {
    let csv = dir.join(format!("{}.csv", table.name()));
    let parquet = dir.join(format!("{}.parquet", table.name()));
    let folder = dir.join(table.name());
    let mut found = Vec::new();
    if csv.is_file() {
        found.push(Source::Csv(csv));
    }
    if parquet.is_file() {
        found.push(Source::Parquet(parquet.clone(), vec![parquet]));
    }
    if folder.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map_err(|e| Error::io(&folder, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .collect();
        files.sort();
        found.push(Source::Parquet(folder, files));
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(Error::input(
            dir,
            format!(
                "table `{}` is given more than once ({}); keep one",
                table.name(),
                found.iter().map(|s| s.path().display().to_string()).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// Calls `on_row` for every record, numbered from 1 (the first record after the
/// header), in file order. A missing required column fails before any row is read.
pub fn for_each_row(source: &Source, table: Table, on_row: &mut dyn FnMut(u64, Row<'_>) -> Result<()>) -> Result<()> {
    match source {
        Source::Csv(path) => csv_rows(path, table, on_row),
        Source::Parquet(_, files) => {
            let mut row_no = 0u64;
            for file in files {
                parquet_rows(file, table, &mut row_no, on_row)?;
            }
            Ok(())
        }
    }
}

/// Maps each of the table's columns to its position in the file's header.
fn map_columns(path: &Path, table: Table, header: &[String]) -> Result<Vec<Option<usize>>> {
    let mut positions = Vec::new();
    for column in table.columns() {
        let at = header.iter().position(|h| h == column.name);
        if at.is_none() && !column.optional_column {
            return Err(Error::input(
                path,
                format!(
                    "missing required column `{}` of table `{}` (the header has: {})",
                    column.name,
                    table.name(),
                    header.join(", ")
                ),
            ));
        }
        positions.push(at);
    }
    Ok(positions)
}

/// The most columns a table has.
pub const MAX_COLUMNS: usize = 8;

/// The CSV reader's buffer: below glibc's threshold for a mapping of its own
/// (128 KiB), so that the same heap pages serve every read and every file.
const CSV_BUFFER: usize = 64 << 10;

fn csv_rows(path: &Path, table: Table, on_row: &mut dyn FnMut(u64, Row<'_>) -> Result<()>) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        // Fewer reads than the default 8 KiB, in a buffer small enough to be reused
        // from the heap: a 1 MiB one was mapped afresh for each file, and a day's
        // batch paid a page fault for every 4 KiB it read into it.
        .buffer_capacity(CSV_BUFFER)
        .from_path(path)
        .map_err(|e| Error::input(path, e.to_string()))?;
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(|e| Error::input(path, format!("cannot read the header: {e}")))?
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h).into_owned();
            if i == 0 { h.trim_start_matches('\u{feff}').to_string() } else { h }
        })
        .collect();
    let positions = map_columns(path, table, &header)?;
    let mut record = csv::ByteRecord::new();
    let mut row_no = 0u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                row_no += 1;
                on_row(row_no, Row::Malformed(format!("unreadable record: {e}")))?;
                continue;
            }
        }
        row_no += 1;
        if record.len() != header.len() {
            let raw: Vec<String> = record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
            on_row(row_no, Row::Malformed(raw.join(",")))?;
            continue;
        }
        let mut cells = [Cell::Null; MAX_COLUMNS];
        // One UTF-8 check for the whole record (fields end at ASCII delimiters, so
        // each field of a valid record is valid too); field by field only when it
        // fails, since a column dengta does not read may hold anything.
        let utf8_ok = match std::str::from_utf8(record.as_slice()) {
            Ok(text) => {
                for (i, pos) in positions.iter().enumerate() {
                    if let Some(range) = pos.and_then(|p| record.range(p)) {
                        cells[i] = Cell::Text(&text[range]);
                    }
                }
                true
            }
            Err(_) => positions.iter().enumerate().all(|(i, pos)| match pos.map(|p| std::str::from_utf8(&record[p])) {
                Some(Ok(text)) => {
                    cells[i] = Cell::Text(text);
                    true
                }
                Some(Err(_)) => false,
                None => true,
            }),
        };
        if utf8_ok {
            on_row(row_no, Row::Cells(&cells[..positions.len()]))?;
        } else {
            let raw: Vec<String> = record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
            on_row(row_no, Row::Malformed(raw.join(",")))?;
        }
    }
    Ok(())
}

fn parquet_rows(
    path: &Path,
    table: Table,
    row_no: &mut u64,
    on_row: &mut dyn FnMut(u64, Row<'_>) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::input(path, format!("not a readable Parquet file: {e}")))?;
    let header: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    let positions = map_columns(path, table, &header)?;
    let reader = builder.with_batch_size(65_536).build().map_err(|e| Error::input(path, e.to_string()))?;
    for batch in reader {
        let batch = batch.map_err(|e| Error::input(path, e.to_string()))?;
        let arrays: Vec<Option<ArrayRef>> =
            positions.iter().map(|p| p.map(|p| plain(batch.column(p))).transpose()).collect::<Result<_>>()?;
        let columns: Vec<Option<Column>> = arrays.iter().map(|a| a.as_ref().map(Column::of)).collect();
        for row in 0..batch.num_rows() {
            *row_no += 1;
            let mut cells = [Cell::Null; MAX_COLUMNS];
            for (i, col) in columns.iter().enumerate() {
                if let Some(col) = col {
                    cells[i] = col.cell(row);
                }
            }
            on_row(*row_no, Row::Cells(&cells[..positions.len()]))?;
        }
    }
    Ok(())
}

/// Dictionary-encoded columns are read through their values' type.
fn plain(array: &ArrayRef) -> Result<ArrayRef> {
    match array.data_type() {
        DataType::Dictionary(_, value) => Ok(cast(array, value)?),
        _ => Ok(array.clone()),
    }
}

/// A column of a batch with its type resolved once, not once per cell, for the
/// types most files have.
enum Column<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Int64(&'a Int64Array),
    Other(&'a ArrayRef),
}

impl<'a> Column<'a> {
    fn of(array: &'a ArrayRef) -> Column<'a> {
        match array.data_type() {
            DataType::Utf8 => Column::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Column::LargeUtf8(array.as_string::<i64>()),
            DataType::Int64 => Column::Int64(array.as_primitive::<dt::Int64Type>()),
            _ => Column::Other(array),
        }
    }

    /// The cell at `row`, as [`cell_at`] reads it.
    fn cell(&self, row: usize) -> Cell<'a> {
        match self {
            Column::Utf8(a) if a.is_valid(row) => Cell::Text(a.value(row)),
            Column::LargeUtf8(a) if a.is_valid(row) => Cell::Text(a.value(row)),
            Column::Int64(a) if a.is_valid(row) => Cell::Int(a.value(row)),
            Column::Utf8(_) | Column::LargeUtf8(_) | Column::Int64(_) => Cell::Null,
            Column::Other(a) => cell_at(a, row),
        }
    }
}

fn cell_at(array: &ArrayRef, row: usize) -> Cell<'_> {
    if array.is_null(row) {
        return Cell::Null;
    }
    match array.data_type() {
        DataType::Utf8 => Cell::Text(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Cell::Text(array.as_string::<i64>().value(row)),
        DataType::Utf8View => Cell::Text(array.as_string_view().value(row)),
        DataType::Boolean => Cell::Bool(array.as_boolean().value(row)),
        DataType::Int8 => Cell::Int(i64::from(array.as_primitive::<dt::Int8Type>().value(row))),
        DataType::Int16 => Cell::Int(i64::from(array.as_primitive::<dt::Int16Type>().value(row))),
        DataType::Int32 => Cell::Int(i64::from(array.as_primitive::<dt::Int32Type>().value(row))),
        DataType::Int64 => Cell::Int(array.as_primitive::<dt::Int64Type>().value(row)),
        DataType::UInt8 => Cell::Int(i64::from(array.as_primitive::<dt::UInt8Type>().value(row))),
        DataType::UInt16 => Cell::Int(i64::from(array.as_primitive::<dt::UInt16Type>().value(row))),
        DataType::UInt32 => Cell::Int(i64::from(array.as_primitive::<dt::UInt32Type>().value(row))),
        DataType::Float32 => Cell::Float(f64::from(array.as_primitive::<dt::Float32Type>().value(row))),
        DataType::Float64 => Cell::Float(array.as_primitive::<dt::Float64Type>().value(row)),
        DataType::Date32 => Cell::Date(array.as_primitive::<dt::Date32Type>().value(row)),
        DataType::Date64 => {
            Cell::Date((array.as_primitive::<dt::Date64Type>().value(row)).div_euclid(86_400_000) as i32)
        }
        DataType::Decimal128(_, scale) => Cell::Decimal(array.as_primitive::<dt::Decimal128Type>().value(row), *scale),
        DataType::Timestamp(_, None) => Cell::TimestampNoZone,
        DataType::Timestamp(unit, Some(_)) => {
            let ms = match unit {
                TimeUnit::Second => array.as_primitive::<dt::TimestampSecondType>().value(row) * 1000,
                TimeUnit::Millisecond => array.as_primitive::<dt::TimestampMillisecondType>().value(row),
                TimeUnit::Microsecond => {
                    array.as_primitive::<dt::TimestampMicrosecondType>().value(row).div_euclid(1000)
                }
                TimeUnit::Nanosecond => {
                    array.as_primitive::<dt::TimestampNanosecondType>().value(row).div_euclid(1_000_000)
                }
            };
            Cell::TimestampMs(ms)
        }
        _ => Cell::Unsupported("unsupported Parquet type"),
    }
}
