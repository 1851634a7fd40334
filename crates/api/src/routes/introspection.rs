//! `POST /v1/tokens/introspect` (after RFC 7662, with a JSON body): is this a live token of the
//! caller's org? A revocation made through this instance is visible to the very next call; one
//! made through another instance on the same database within 1 second
//! ([`crate::services::tokens::TOKEN_ROW_TTL`]).

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::ApiError,
    extract::{AppJson, OrgApiKey},
    services::tokens,
    AppState,
};

/// Body: `{"token": "<JWT>"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntrospectIn {
    /// The token to check.
    pub token: String,
}

/// `{"active": false}` or the active token's claims (RFC 7662 §2.2).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"active": true, "jti": "0193a5c4-8a2b-7d3c-8e4f-5a6b7c8d9e0f",
    "sub": "0193a5c4-7e1f-7c3a-9d2b-5f6e7a8b9c0d", "iss": "https://tokens.example.com/o/acme", "aud": "acme",
    "iat": 1763726400, "account": "user-42", "platform": "web"}))]
pub struct IntrospectOut {
    /// Whether the token is live.
    pub active: bool,
    /// The claims, flattened; absent when inactive.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ClaimsDoc>)]
    pub claims: Option<tessera_core::UserTokenClaims>,
}

/// The claims of a live token, as introspection returns them (document only).
#[derive(ToSchema)]
#[schema(as = UserTokenClaims)]
#[allow(dead_code)]
pub struct ClaimsDoc {
    /// Token id.
    jti: String,
    /// User id.
    sub: String,
    /// `{public_url}/o/{org_slug}`.
    iss: String,
    /// The org slug.
    aud: String,
    /// Issued at, seconds since the Unix epoch.
    iat: i64,
    /// Expiry, seconds since the Unix epoch; absent for permanent tokens.
    exp: Option<i64>,
    /// The org's id for the user.
    account: String,
    /// The user's platform.
    platform: String,
}

/// Is this a live token of the caller's org? (After RFC 7662 §2, with a JSON body.)
///
/// `{"active": false}` for anything else: garbage, bad signature, expired, revoked, another org's token.
/// A revocation made through this instance is visible to the very next call; one made through
/// another instance on the same database, within 1 second.
#[utoipa::path(
    post, path = "/v1/tokens/introspect", tag = "user tokens", request_body = IntrospectIn,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The token's state", body = IntrospectOut),
        (status = 401, description = "Bad API key", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn introspect(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppJson(body): AppJson<IntrospectIn>,
) -> Result<Json<IntrospectOut>, ApiError> {
    let claims = tokens::introspect(&state, &key.org, &body.token).await?;
    Ok(Json(IntrospectOut { active: claims.is_some(), claims }))
}

/// `POST /v1/tokens/introspect`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(introspect))
}
