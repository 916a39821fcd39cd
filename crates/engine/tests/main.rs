//! Integration tests of the engine, one binary with themed modules.

mod util;

mod aggregate;
mod explain;
mod golden;
mod incremental;
mod indicators;
mod look_ahead;
mod reader;
mod settlement;
