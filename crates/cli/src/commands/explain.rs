//! `dengta explain`.
use anyhow::Result;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    anyhow::bail!("not yet")
}
