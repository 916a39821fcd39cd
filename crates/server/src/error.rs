//! API errors: an HTTP status, a stable code, a readable message and, for bad
//! parameters, the field at fault. Rendered as JSON.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The JSON body of every error response.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `bad_parameter`, `store_not_found`, `unauthorized`.
    pub code: String,
    /// What went wrong and what to do, for a person.
    pub message: String,
    /// The query parameter or body field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error a handler returns.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{status}: {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// Message.
    pub message: String,
    /// Field at fault.
    pub field: Option<String>,
}

/// Result of a handler.
pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), field: None }
    }

    /// 400 naming the parameter or field.
    pub fn bad_parameter(field: &str, message: impl Into<String>) -> ApiError {
        ApiError { field: Some(field.to_string()), ..ApiError::new(StatusCode::BAD_REQUEST, "bad_parameter", message) }
    }

    /// 400 for a body that cannot be used.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403: the token is valid but its role may not do this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 for a store: the same answer whether it does not exist or is not yours.
    pub fn store_not_found(store: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "store_not_found", format!("no store `{store}`"))
    }

    /// 404 for anything else.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// 422: well-formed but invalid content (rule files).
    pub fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 503: nothing to serve yet.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { code: self.code.to_string(), message: self.message.clone(), field: self.field.clone() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "Request failed.");
        }
        (self.status, axum::Json(self.body())).into_response()
    }
}
