//! `/v1/user-tokens`: issue a token for a user (Argyle's `POST /user-tokens`) and revoke one.

use axum::{extract::State, http::StatusCode, Json};
use serde::{Deserialize, Serialize};
use tessera_core::{IssuedBy, UserId, UserTokenId};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::ApiError,
    extract::{AppJson, AppPath, OrgApiKey, RequestInfo},
    services::{tokens, users},
    AppState,
};

/// Body of `POST /v1/user-tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user": "0193a5c4-7e1f-7c3a-9d2b-5f6e7a8b9c0d", "ttl_seconds": 600}))]
pub struct IssueTokenIn {
    /// The user's id.
    #[schema(value_type = uuid::Uuid)]
    pub user: UserId,
    /// Lifetime in seconds, 60–31,536,000. Mutually exclusive with `permanent`.
    pub ttl_seconds: Option<i64>,
    /// `true` for a token without `exp`.
    pub permanent: Option<bool>,
}

/// Answer of `POST /v1/user-tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedTokenOut {
    /// Token id (= `jti`).
    pub id: String,
    /// The JWT.
    pub user_token: String,
    /// Issue time.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: time::OffsetDateTime,
    /// Expiry; `null` for permanent.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<time::OffsetDateTime>,
}

/// Issues a new token for a user (Argyle's `POST /user-tokens`): `ttl_seconds` (60–31,536,000),
/// or `permanent`, or neither for the org's default lifetime (3600 s).
#[utoipa::path(
    post, path = "/v1/user-tokens", tag = "user tokens", request_body = IssueTokenIn, security(("api_key" = [])),
    responses(
        (status = 201, description = "Issued", body = IssuedTokenOut),
        (status = 401, description = "Bad API key", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this org", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn issue(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppJson(body): AppJson<IssueTokenIn>,
) -> Result<(StatusCode, Json<IssuedTokenOut>), ApiError> {
    let lifetime = tokens::Lifetime::from_request(body.ttl_seconds, body.permanent)?;
    // Only the user's immutable identity goes into the token; the row insert itself checks that
    // the user still exists.
    let user = users::identity(&state, key.org.id, body.user).await?;
    let issued = tokens::issue(&state, &key.org, &user, lifetime, Some(IssuedBy::ApiKey(key.key_id))).await?;
    let out = IssuedTokenOut {
        id: issued.token.id.to_string(),
        user_token: issued.jwt,
        issued_at: issued.token.issued_at,
        expires_at: issued.token.expires_at,
    };
    Ok((StatusCode::CREATED, Json(out)))
}

/// Revokes one token; the next introspection answers `active: false`. Revoking twice is fine.
#[utoipa::path(
    delete, path = "/v1/user-tokens/{id}", tag = "user tokens", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "Token id (the `jti`)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Bad API key", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such token in this org", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn revoke(
    key: OrgApiKey,
    request: RequestInfo,
    State(state): State<AppState>,
    AppPath(id): AppPath<UserTokenId>,
) -> Result<StatusCode, ApiError> {
    tokens::revoke(&state, key.org.id, id, &key.audit(&request)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `/v1/user-tokens…` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue)).routes(routes!(revoke))
}
