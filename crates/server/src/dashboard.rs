//! Dashboard (placeholder while the API compiles).
use axum::Router;
use crate::AppState;
/// Dashboard routes.
pub fn router() -> Router<AppState> { Router::new() }
