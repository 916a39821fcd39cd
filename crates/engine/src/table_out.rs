//! Small result tables written as CSV and typed Parquet from the same text cells.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::error::{Error, Result};
use crate::output::{write_atomically, write_parquet};

/// Column names with their Parquet types, and rows of text cells (empty = null).
pub struct TextTable {
    /// `(name, type)` per column.
    pub columns: Vec<(&'static str, DataType)>,
    /// The rows.
    pub rows: Vec<Vec<String>>,
}

impl TextTable {
    /// Writes `STEM.csv` and `STEM.parquet` into `dir`.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<()> {
        let csv_path = dir.join(format!("{stem}.csv"));
        write_atomically(&csv_path, |out| {
            let mut w = csv::Writer::from_writer(out);
            let err = |e: csv::Error| Error::Engine(format!("writing {}: {e}", csv_path.display()));
            w.write_record(self.columns.iter().map(|(n, _)| *n)).map_err(err)?;
            for r in &self.rows {
                w.write_record(r).map_err(err)?;
            }
            w.flush().map_err(|e| Error::io(&csv_path, e))
        })?;
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (i, (name, ty)) in self.columns.iter().enumerate() {
            let text: StringArray = self.rows.iter().map(|r| Some(r[i].as_str()).filter(|s| !s.is_empty())).collect();
            arrays.push(cast(&text, ty)?);
            fields.push(Field::new(*name, ty.clone(), true));
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?;
        write_parquet(&dir.join(format!("{stem}.parquet")), &batch)
    }
}
