//! The engine's error type, grouped by who has to act.

use std::path::PathBuf;

/// `Result` with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The dataset cannot be used as a whole (missing file or column); fix the data.
    #[error("{file}: {message}")]
    InvalidInput {
        /// The file (or folder) at fault.
        file: PathBuf,
        /// What is wrong, naming the column when one is at fault.
        message: String,
    },
    /// `--strict` was given and rows were rejected.
    #[error(
        "{count} row(s) rejected and --strict was given; the first: {first}. All rejects are listed in {rejects_file}"
    )]
    StrictRejects {
        /// How many rows were rejected.
        count: usize,
        /// The first reject, in words.
        first: String,
        /// Where they were written.
        rejects_file: String,
    },
    /// The rule files are invalid; the rule author fixes them.
    #[error(transparent)]
    InvalidRules(#[from] dengta_rules::Error),
    /// A request the caller can fix (a date outside the rules, an unknown store).
    #[error("{0}")]
    InvalidRequest(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// DataFusion, Arrow or Parquet failed.
    #[error("query engine: {0}")]
    Engine(String),
    /// A broken invariant: a bug in dengta.
    #[error("internal error: {0}; this is a bug in the scoring engine, please report it")]
    Internal(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }

    pub(crate) fn input(file: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        Error::InvalidInput { file: file.into(), message: message.into() }
    }
}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Error {
        Error::Engine(e.to_string())
    }
}

impl From<datafusion::arrow::error::ArrowError> for Error {
    fn from(e: datafusion::arrow::error::ArrowError) -> Error {
        Error::Engine(e.to_string())
    }
}

impl From<datafusion::parquet::errors::ParquetError> for Error {
    fn from(e: datafusion::parquet::errors::ParquetError) -> Error {
        Error::Engine(e.to_string())
    }
}
