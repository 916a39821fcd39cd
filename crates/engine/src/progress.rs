//! Progress reporting from long work, without tying the engine to a terminal.

/// Receives progress of long stages; the CLI draws bars, tests ignore it.
pub trait Progress: Sync {
    /// A stage starts; `total` units when known.
    fn stage(&self, name: &str, total: Option<u64>);
    /// `n` more units of the current stage are done.
    fn advance(&self, n: u64);
}

/// Ignores progress.
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _name: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
}
