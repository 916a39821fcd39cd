//! Bearer tokens with two roles. A token is `dgt_` and 64 hex digits of OS
//! randomness; only its sha256 is stored (tokens are high-entropy, so a plain hash
//! is enough: there is nothing to brute-force). The dashboard carries the same token
//! in an HttpOnly cookie.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::TryRngCore;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::db::{Db, TokenRecord};
use crate::error::{ApiError, ApiResult};

/// Cookie that carries the dashboard's token.
pub const COOKIE: &str = "dengta_token";

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Marketplace staff: every store, and the operator endpoints.
    Operator,
    /// A merchant: one store.
    Merchant(String),
}

/// An authenticated request.
#[derive(Clone, Debug)]
pub struct Auth {
    /// The role.
    pub role: Role,
    /// The token's id.
    pub token_id: i64,
}

impl Auth {
    /// May this caller see `store`?
    pub fn can_see(&self, store: &str) -> bool {
        match &self.role {
            Role::Operator => true,
            Role::Merchant(s) => s == store,
        }
    }

    /// Operator endpoints.
    pub fn require_operator(&self) -> ApiResult<()> {
        match self.role {
            Role::Operator => Ok(()),
            Role::Merchant(_) => {
                Err(ApiError::forbidden("this endpoint is for operators; a merchant token cannot use it"))
            }
        }
    }

    /// Is this an operator?
    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }
}

/// A new random token.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).expect("the operating system's random source works");
    format!("dgt_{}", hex::encode(bytes))
}

/// The stored form of a token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn well_formed(token: &str) -> bool {
    token.strip_prefix("dgt_").is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Creates a token and returns it in clear (shown once) with its id.
pub fn create(db: &Db, role: &Role, label: &str, valid_days: Option<i64>) -> ApiResult<(String, i64)> {
    if let Role::Merchant(store) = role {
        let known = db.read(|r| r.store(store))?.is_some();
        if !known && db.read(|r| r.stores())?.iter().len() > 0 {
            return Err(ApiError::store_not_found(store));
        }
    }
    let token = new_token();
    let expires =
        valid_days.map(|d| (chrono::Utc::now() + chrono::Duration::days(d)).format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let (role_text, store) = match role {
        Role::Operator => ("operator", None),
        Role::Merchant(s) => ("merchant", Some(s.as_str())),
    };
    let id = db.add_token(&hash(&token), role_text, store, label, expires.as_deref())?;
    Ok((token, id))
}

/// Checks a presented token.
pub fn check(db: &Db, token: &str) -> ApiResult<Auth> {
    if !well_formed(token) {
        return Err(ApiError::unauthorized(
            "malformed_token",
            "the token is not a dengta token (dgt_ and 64 hex digits)",
        ));
    }
    let record: Option<TokenRecord> = db.read(|r| r.token(&hash(token)))?;
    let Some(t) = record else {
        return Err(ApiError::unauthorized("unknown_token", "this token is not known; ask an operator for a new one"));
    };
    if t.revoked_at.is_some() {
        return Err(ApiError::unauthorized("revoked_token", "this token was revoked; ask an operator for a new one"));
    }
    if let Some(exp) = &t.expires_at
        && *exp <= crate::db::now_text()
    {
        return Err(ApiError::unauthorized("expired_token", format!("this token expired at {exp}")));
    }
    let role = match (t.role.as_str(), t.store_id) {
        ("operator", _) => Role::Operator,
        ("merchant", Some(s)) => Role::Merchant(s),
        _ => return Err(ApiError::unauthorized("unknown_token", "this token has no usable role")),
    };
    Ok(Auth { role, token_id: t.id })
}

/// The token of a request: `Authorization: Bearer …`, else the dashboard cookie.
pub fn presented(parts: &Parts) -> Option<String> {
    if let Some(h) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let text = h.to_str().unwrap_or("");
        return Some(text.strip_prefix("Bearer ").unwrap_or(text).trim().to_string());
    }
    cookie_token(&parts.headers)
}

/// The dashboard cookie's token, if any.
pub fn cookie_token(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').find_map(|kv| kv.trim().strip_prefix(&format!("{COOKIE}=")).map(str::to_string)))
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = presented(parts) else {
            return Err(ApiError::unauthorized(
                "missing_token",
                "send `Authorization: Bearer <token>`; `dengta token create` makes one",
            ));
        };
        let db = state.db.clone();
        tokio::task::spawn_blocking(move || check(&db, &token)).await.map_err(|e| ApiError::internal(e.to_string()))?
    }
}
