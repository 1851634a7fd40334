//! `POST /v1/tokens/introspect` (after RFC 7662, with a JSON body): is this a live token of the
//! caller's org? Revocations are visible to the very next call.

use axum::{extract::State, routing::post, Json, Router};
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiError,
    extract::{AppJson, OrgApiKey},
    services::tokens,
    AppState,
};

/// Body: `{"token": "<JWT>"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectIn {
    /// The token to check.
    pub token: String,
}

/// `{"active": false}` or the active token's claims (RFC 7662 §2.2).
#[derive(Debug, Serialize)]
pub struct IntrospectOut {
    /// Whether the token is live.
    pub active: bool,
    /// The claims, flattened; absent when inactive.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub claims: Option<tessera_core::UserTokenClaims>,
}

async fn introspect(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppJson(body): AppJson<IntrospectIn>,
) -> Result<Json<IntrospectOut>, ApiError> {
    let claims = tokens::introspect(&state, &key.org, &body.token).await?;
    Ok(Json(IntrospectOut { active: claims.is_some(), claims }))
}

/// `POST /v1/tokens/introspect`.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/tokens/introspect", post(introspect))
}
