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

/// `{"active": false}` or the active token's claims (RFC 7662 §2.2). Documented as
/// [`IntrospectDoc`].
#[derive(Debug, Serialize)]
pub struct IntrospectOut {
    /// Whether the token is live.
    pub active: bool,
    /// The claims, flattened; absent when inactive.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub claims: Option<tessera_core::UserTokenClaims>,
}

/// The answer's schema (document only): exactly one of an inactive answer, which holds nothing
/// but `"active": false` (RFC 7662 §2.2: no other member "SHOULD" be returned), and an active one
/// with the claims.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = IntrospectOut)]
#[allow(dead_code)]
pub enum IntrospectDoc {
    /// `{"active": false}`.
    Inactive(InactiveDoc),
    /// `{"active": true, …claims}`.
    Active(ActiveDoc),
}

/// `{"active": false}`: the token is not live, or not one of the caller's org (document only).
#[derive(Serialize, ToSchema)]
#[schema(as = InactiveToken, example = json!({"active": false}))]
#[allow(dead_code)]
pub struct InactiveDoc {
    /// Always `false`.
    #[schema(schema_with = always_false)]
    active: bool,
}

/// The claims of a live token, as introspection returns them (document only).
#[derive(Serialize, ToSchema)]
#[schema(as = ActiveToken, example = json!({"active": true, "jti": "0193a5c4-8a2b-7d3c-8e4f-5a6b7c8d9e0f",
    "sub": "0193a5c4-7e1f-7c3a-9d2b-5f6e7a8b9c0d", "iss": "https://tokens.example.com/o/acme", "aud": "acme",
    "iat": 1763726400, "account": "user-42", "platform": "web"}))]
#[allow(dead_code)]
pub struct ActiveDoc {
    /// Always `true`.
    #[schema(schema_with = always_true)]
    active: bool,
    /// Token id.
    #[schema(format = Uuid)]
    jti: String,
    /// User id.
    #[schema(format = Uuid)]
    sub: String,
    /// `{public_url}/o/{org_slug}`.
    iss: String,
    /// The org slug.
    aud: String,
    /// Issued at, seconds since the Unix epoch.
    iat: i64,
    /// Expiry, seconds since the Unix epoch; absent for permanent tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    /// The org's id for the user.
    account: String,
    /// The user's platform.
    platform: String,
}

fn always_false() -> utoipa::openapi::schema::Object {
    boolean_constant(false)
}

fn always_true() -> utoipa::openapi::schema::Object {
    boolean_constant(true)
}

fn boolean_constant(value: bool) -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Boolean)
        .enum_values(Some([value]))
        .build()
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
        (status = 200, description = "The token's state", body = IntrospectDoc),
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
