//! Subcommands.

mod cluster;
mod demo;
mod eligible;
mod explain;
mod generate;
mod import_olist;
mod ingest;
mod quality;
mod score;
mod serve;
mod settle;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use dengta_model::Day;
use dengta_rules::{RuleBook, RuleSet};

/// dengta (灯塔) scores marketplace merchants on the service they give, the way
/// Tmall's New Lighthouse basic service assessment does: indicators per store and
/// day, 0–5 dimension scores, the weighted basic score (or 99 = default pass), stars,
/// and an explanation of every number.
#[derive(Parser)]
#[command(name = "dengta", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a demo dataset, score it, and show where the results are.
    Demo(demo::Args),
    /// Score a dataset directory: daily scores per operating store and day.
    Score(score::Args),
    /// Add a batch of events to a persistent store and rescore only the days it touches.
    ///
    /// The batch (usually one day's events) is added to the store's running totals per
    /// date; the days whose windows hold one of its events are rescored (on days
    /// already scored, for the stores of its events only), and the days up to the
    /// batch's day for every store. Events more than a week late are kept apart as
    /// corrections rather than rewriting every later day's totals. Events are
    /// idempotent by id: ingesting a batch again changes nothing. A run killed at any
    /// point leaves the store as it was before the batch or after it.
    Ingest(ingest::Args),
    /// Explain one store's score on one day from a scoring run's output.
    Explain(explain::Args),
    /// Campaign access on a day: every store, eligible or not, and why.
    Eligible(eligible::Args),
    /// Annual settlement of a year: annual score, renewal, fee, refund.
    Settle(settle::Args),
    /// Product quality per item: rates, score and level.
    Quality(quality::Args),
    /// Serve the JSON API and the merchant and operator dashboards.
    Serve(serve::Args),
    /// Create, list or revoke API and dashboard tokens.
    Token(serve::TokenArgs),
    /// Print the service's OpenAPI 3 document.
    Openapi(serve::OpenApiArgs),
    /// Run a Ballista scheduler or executor (for `score --cluster`).
    Cluster(cluster::Args),
    /// Write a realistic synthetic dataset (seeded: same command, same files).
    Generate(generate::Args),
    /// Import the real Olist marketplace dataset into a dengta dataset folder.
    ImportOlist(import_olist::Args),
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Score(a) => score::run(a),
        Command::Ingest(a) => ingest::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Generate(a) => generate::run(a),
        Command::ImportOlist(a) => import_olist::run(a),
        Command::Eligible(a) => eligible::run(a),
        Command::Settle(a) => settle::run(a),
        Command::Quality(a) => quality::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Cluster(a) => cluster::run(a),
        Command::Token(a) => serve::token(a),
        Command::Openapi(a) => serve::openapi(a),
    }
}

/// Parses a `YYYY-MM-DD` argument.
pub fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse(text).ok_or_else(|| format!("`{text}` is not a date; write YYYY-MM-DD"))
}

/// Loads the rule files given, or the built-in defaults when none is.
pub fn load_rules(files: &[PathBuf]) -> Result<RuleBook> {
    if files.is_empty() {
        return Ok(RuleBook::default_book());
    }
    let mut versions = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match RuleSet::load(f) {
            Ok(r) => versions.push(r),
            Err(dengta_rules::Error::InvalidRules(e)) => errors.extend(e),
            Err(e) => return Err(e).with_context(|| format!("loading rules {}", f.display())),
        }
    }
    if !errors.is_empty() {
        return Err(dengta_engine::Error::InvalidRules(dengta_rules::Error::InvalidRules(errors)).into());
    }
    Ok(RuleBook::new(versions).map_err(dengta_engine::Error::InvalidRules)?)
}

/// A tokio runtime for the engine's async parts.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

/// A tokio runtime on the calling thread alone, for work that starts worker threads
/// only when it needs them (`dengta_engine::on_worker_threads`).
pub fn runtime_on_this_thread() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")
}
