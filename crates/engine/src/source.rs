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
    let mut records = Records::open(path)?;
    let header: Vec<String> = if records.next()? {
        (0..records.len())
            .map(|i| {
                let h = String::from_utf8_lossy(records.field(i)).into_owned();
                if i == 0 { h.trim_start_matches('\u{feff}').to_string() } else { h }
            })
            .collect()
    } else {
        Vec::new()
    };
    let positions = map_columns(path, table, &header)?;
    let mut row_no = 0u64;
    while records.next()? {
        row_no += 1;
        if records.len() != header.len() {
            on_row(row_no, Row::Malformed(records.raw()))?;
            continue;
        }
        let mut cells = [Cell::Null; MAX_COLUMNS];
        // One UTF-8 check for the whole record (fields end at ASCII delimiters, so
        // each field of a valid record is valid too); field by field only when it
        // fails, since a column dengta does not read may hold anything.
        let utf8_ok = match std::str::from_utf8(records.as_slice()) {
            Ok(text) => {
                for (i, pos) in positions.iter().enumerate() {
                    if let Some(p) = pos {
                        cells[i] = Cell::Text(&text[records.range(*p)]);
                    }
                }
                true
            }
            Err(_) => {
                positions.iter().enumerate().all(|(i, pos)| match pos.map(|p| std::str::from_utf8(records.field(p))) {
                    Some(Ok(text)) => {
                        cells[i] = Cell::Text(text);
                        true
                    }
                    Some(Err(_)) => false,
                    None => true,
                })
            }
        };
        if utf8_ok {
            on_row(row_no, Row::Cells(&cells[..positions.len()]))?;
        } else {
            on_row(row_no, Row::Malformed(records.raw()))?;
        }
    }
    Ok(())
}

/// A CSV file's records one at a time, parsed by `csv_core` with the `csv` crate's
/// defaults (`,` between fields, `"` around them and doubled inside, CR, LF or CRLF
/// ending a record, blank lines skipped, records of any length, a UTF-8 byte-order
/// mark skipped). Building a parser's transition table costs about 270,000
/// instructions, a tenth of what a day's batch spends reading its eight files, and
/// `csv::Reader` builds one per file: here a file's parser is taken from [`PARSERS`]
/// and given back, reset, when the file is done. (`csv_core::Reader::clone` loses
/// the table, so parsers are reused, not copied.)
struct Records<'a> {
    /// The file's path, to name it in an error.
    path: &'a Path,
    file: File,
    parser: csv_core::Reader,
    /// Bytes read from the file; `buf[start..end]` not parsed yet.
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// The current record's fields, unquoted and one after the other; `ends[i]` is
    /// where field `i` ends in `fields`.
    fields: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
}

/// Parsers built and not in use: as many as files were read at once.
static PARSERS: std::sync::Mutex<Vec<csv_core::Reader>> = std::sync::Mutex::new(Vec::new());

impl Drop for Records<'_> {
    fn drop(&mut self) {
        let mut parser = std::mem::take(&mut self.parser);
        parser.reset();
        PARSERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(parser);
    }
}

impl<'a> Records<'a> {
    fn open(path: &'a Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let reused = PARSERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        #[expect(clippy::unwrap_or_default, reason = "`Reader::default` has no transition table; `new` builds it")]
        let parser = reused.unwrap_or_else(csv_core::Reader::new);
        Ok(Records {
            path,
            file,
            parser,
            buf: vec![0; CSV_BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            fields: vec![0; 1024],
            ends: vec![0; MAX_COLUMNS * 2],
            len: 0,
        })
    }

    /// Reads the next record; `false` at the end of the file.
    fn next(&mut self) -> Result<bool> {
        use csv_core::ReadRecordResult;
        use std::io::Read;
        let (mut written, mut ended) = (0, 0);
        loop {
            if self.start == self.end {
                // An empty read (the end of the file) tells the parser the input is over.
                self.end = loop {
                    match self.file.read(&mut self.buf) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        read => break read.map_err(|e| Error::io(self.path, e))?,
                    }
                };
                self.start = 0;
            }
            let (result, read, wrote, ends) = self.parser.read_record(
                &self.buf[self.start..self.end],
                &mut self.fields[written..],
                &mut self.ends[ended..],
            );
            self.start += read;
            written += wrote;
            ended += ends;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.fields.resize(self.fields.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => {
                    self.len = ended;
                    return Ok(true);
                }
                ReadRecordResult::End => return Ok(false),
            }
        }
    }

    /// The current record's number of fields.
    fn len(&self) -> usize {
        self.len
    }

    /// Where field `i` of the current record lies in [`Records::as_slice`].
    fn range(&self, i: usize) -> std::ops::Range<usize> {
        (if i == 0 { 0 } else { self.ends[i - 1] })..self.ends[i]
    }

    fn field(&self, i: usize) -> &[u8] {
        &self.fields[self.range(i)]
    }

    /// Every field of the current record, one after the other.
    fn as_slice(&self) -> &[u8] {
        &self.fields[..self.len.checked_sub(1).map_or(0, |last| self.ends[last])]
    }

    /// The current record as text, its fields joined by commas (for a reject).
    fn raw(&self) -> String {
        (0..self.len).map(|i| String::from_utf8_lossy(self.field(i))).collect::<Vec<_>>().join(",")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of a CSV file, each as its fields' text.
    fn records(path: &Path) -> Vec<Vec<String>> {
        let mut records = Records::open(path).expect("open");
        let mut all = Vec::new();
        while records.next().expect("read") {
            all.push((0..records.len()).map(|i| String::from_utf8_lossy(records.field(i)).into_owned()).collect());
        }
        all
    }

    #[test]
    fn a_reused_parser_reads_the_next_file_from_its_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Ends inside a quoted field: the parser is given back mid-record.
        let broken = dir.path().join("broken.csv");
        std::fs::write(&broken, "a,b\n1,\"never closed\n2,3").expect("write");
        let good = dir.path().join("good.csv");
        std::fs::write(&good, "\u{feff}id,text\r\n1,\"x, \"\"y\"\"\"\r\n\r\n2,\n3").expect("write");
        let expected: Vec<Vec<String>> = [vec!["id", "text"], vec!["1", "x, \"y\""], vec!["2", ""], vec!["3"]]
            .iter()
            .map(|r| r.iter().map(|f| f.to_string()).collect())
            .collect();
        for _ in 0..3 {
            assert_eq!(records(&broken), [vec!["a", "b"], vec!["1", "never closed\n2,3"]]);
            // A byte-order mark, quotes doubled inside quotes, CRLF, a blank line
            // skipped, a last record with no line end.
            assert_eq!(records(&good), expected);
        }
        // Fields longer than the buffers the reader starts with.
        let long = dir.path().join("long.csv");
        let field = "z".repeat(5000);
        std::fs::write(&long, format!("{}\n{field}", vec!["c"; 40].join(","))).expect("write");
        let read = records(&long);
        assert_eq!((read[0].len(), read[1].as_slice()), (40, [field].as_slice()));
    }
}
