//! dengta's service: the JSON API (with its OpenAPI document), bearer-token auth,
//! the SQLite state and the merchant and operator dashboards, in one axum router.
//!
//! - [`db`] keeps the state: stores, exemptions, rule versions, runs, tokens and
//!   the results people look up, loaded atomically per run.
//! - [`views`] computes what is shown (scores, explanations, what-if, "what to
//!   fix first", eligibility, overview) from the stored window counts and rule
//!   versions, so the API and the dashboard always agree.
//! - [`api`] and [`dashboard`] are thin layers over [`views`].
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod jobs;
pub mod model;
pub mod views;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::routing::get;

pub use error::{ApiError, ApiResult};

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The state database.
    pub db: db::Db,
    /// The dataset folder recomputations read, if any.
    pub dataset: Option<PathBuf>,
    /// Where runs write their Parquet and CSV outputs.
    pub runs_dir: PathBuf,
    /// Runs in progress.
    pub jobs: Arc<jobs::Jobs>,
}

impl AppState {
    /// State over a database file; runs write under `runs_dir`.
    pub fn new(db: db::Db, dataset: Option<PathBuf>, runs_dir: PathBuf) -> ApiResult<AppState> {
        db.fail_interrupted_runs()?;
        if db.read(|r| r.rule_versions())?.is_empty() {
            db.add_rules(&dengta_rules::RuleSet::default_rules())?;
        }
        Ok(AppState { db, dataset, runs_dir, jobs: Arc::new(jobs::Jobs::default()) })
    }
}

/// The whole service.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::router();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api)
        .route("/openapi.json", get(move || async move { Json((*openapi).clone()) }))
        .route("/healthz", get(|| async { "ok" }))
        .merge(dashboard::router())
        .fallback(|uri: axum::http::Uri| async move {
            ApiError::not_found("no_such_path", format!("nothing at {}; see /openapi.json", uri.path()))
        })
        .with_state(state)
}

/// The OpenAPI document (for tests and `dengta openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router().1
}

/// Serves until the process is stopped.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}
