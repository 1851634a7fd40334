//! `/v1/user-tokens`: issue a token for a user (Argyle's `POST /user-tokens`) and revoke one.

use axum::{
    extract::State,
    http::StatusCode,
    routing::{delete, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use tessera_core::{IssuedBy, Timestamp, UserId, UserTokenId};

use crate::{
    error::ApiError,
    extract::{AppJson, AppPath, OrgApiKey},
    services::{tokens, users},
    AppState,
};

/// Body of `POST /v1/user-tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueTokenIn {
    /// The user's id.
    pub user: UserId,
    /// Lifetime in seconds, 60–31,536,000. Mutually exclusive with `permanent`.
    pub ttl_seconds: Option<i64>,
    /// `true` for a token without `exp`.
    pub permanent: Option<bool>,
}

/// Answer of `POST /v1/user-tokens`.
#[derive(Debug, Serialize)]
pub struct IssuedTokenOut {
    /// Token id (= `jti`).
    pub id: String,
    /// The JWT.
    pub user_token: String,
    /// Issue time.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: Timestamp,
    /// Expiry; `null` for permanent.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<Timestamp>,
}

async fn issue(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppJson(body): AppJson<IssueTokenIn>,
) -> Result<(StatusCode, Json<IssuedTokenOut>), ApiError> {
    let lifetime = match (body.ttl_seconds, body.permanent) {
        (Some(_), Some(true)) => {
            return Err(tessera_core::Error::invalid("permanent", "cannot be combined with ttl_seconds").into())
        }
        (Some(s), _) => tokens::Lifetime::Seconds(s),
        (None, Some(true)) => tokens::Lifetime::Permanent,
        (None, _) => tokens::Lifetime::OrgDefault,
    };
    let user = users::get(&state, key.org.id, body.user).await?;
    let issued = tokens::issue(&state, &key.org, &user, lifetime, Some(IssuedBy::ApiKey(key.key_id))).await?;
    let out = IssuedTokenOut {
        id: issued.token.id.to_string(),
        user_token: issued.jwt,
        issued_at: issued.token.issued_at,
        expires_at: issued.token.expires_at,
    };
    Ok((StatusCode::CREATED, Json(out)))
}

async fn revoke(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppPath(id): AppPath<UserTokenId>,
) -> Result<StatusCode, ApiError> {
    tokens::revoke(&state, key.org.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `/v1/user-tokens…` routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/user-tokens", post(issue)).route("/v1/user-tokens/{id}", delete(revoke))
}
