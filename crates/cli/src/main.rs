//! The `dengta` command: wiring between the command line and the engine.

mod commands;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("DENGTA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let code = match e.downcast_ref::<dengta_engine::Error>() {
                Some(dengta_engine::Error::InvalidInput { .. } | dengta_engine::Error::StrictRejects { .. }) => 3,
                Some(dengta_engine::Error::InvalidRules(_)) => 4,
                _ => 1,
            };
            ExitCode::from(code)
        }
    }
}
