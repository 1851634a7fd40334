//! `GET /o/{org_slug}/.well-known/jwks.json`: the org's public keys (RFC 7517), public and
//! cacheable, at `{iss}/.well-known/jwks.json` so JWT libraries can find it from the issuer.

use axum::{extract::State, http::header, response::IntoResponse, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{error::ApiError, extract::AppPath, services::orgs, AppState};

/// The org's JWKS (RFC 7517): every signing key, active and retired. Public and cacheable.
#[utoipa::path(
    get, path = "/o/{slug}/.well-known/jwks.json", tag = "keys",
    params(("slug" = String, Path, description = "The org's slug", example = "acme")),
    responses(
        (status = 200, description = "The JWK Set", body = crate::crypto::Jwks),
        (status = 404, description = "No such org", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn jwks(State(state): State<AppState>, AppPath(slug): AppPath<String>) -> Result<impl IntoResponse, ApiError> {
    let org = orgs::by_slug(&state, &slug).await?;
    let keys = state.keys.org_keys(state.store.as_ref(), org.id).await?;
    // Five minutes: new keys are published well before they sign anything.
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(keys.jwks().clone())))
}

/// The JWKS route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(jwks))
}
