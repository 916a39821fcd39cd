//! Errors of rule loading.

use std::fmt;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One problem in a rule file: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// The rule file as the user named it.
    pub file: String,
    /// 1-based line of the offending key, when known.
    pub line: Option<usize>,
    /// Dotted key path (`indicators.dsr_item.weight`); empty for the whole file.
    pub key: String,
    /// What is wrong, and how to fix it when that is clear.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Errors of this crate, grouped by who has to act.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The rule author fixes these; every problem found is listed.
    #[error("{} problem(s) in rule files:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    InvalidRules(Vec<RuleError>),
    /// A rule file could not be read.
    #[error("cannot read rule file {path}: {source}")]
    Io {
        /// The path given.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// The individual problems, when the rules are invalid.
    pub fn rule_errors(&self) -> &[RuleError] {
        match self {
            Error::InvalidRules(errors) => errors,
            Error::Io { .. } => &[],
        }
    }
}
