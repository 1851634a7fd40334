//! `GET /o/{org_slug}/.well-known/jwks.json`: the org's public keys (RFC 7517), public and
//! cacheable, at `{iss}/.well-known/jwks.json` so JWT libraries can find it from the issuer.

use axum::{extract::State, http::header, response::IntoResponse, routing::get, Json, Router};

use crate::{error::ApiError, extract::AppPath, services::orgs, AppState};

async fn jwks(State(state): State<AppState>, AppPath(slug): AppPath<String>) -> Result<impl IntoResponse, ApiError> {
    let org = orgs::by_slug(&state, &slug).await?;
    let keys = state.keys.org_keys(state.store.as_ref(), org.id).await?;
    // Five minutes: new keys are published well before they sign anything.
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(keys.jwks().clone())))
}

/// The JWKS route.
pub fn router() -> Router<AppState> {
    Router::new().route("/o/{slug}/.well-known/jwks.json", get(jwks))
}
