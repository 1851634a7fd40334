//! `GET /o/{org_slug}/audit/checkpoint`: the org's signed audit checkpoint, public like its
//! JWKS, at `{iss}/audit/checkpoint`. Fetch it daily and keep the copies: `tessera audit verify
//! --checkpoint FILE` later proves the log up to the checkpoint's `seq` unchanged.

use axum::{extract::State, http::header, response::IntoResponse, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{error::ApiError, extract::AppPath, services::audit, AppState};

/// Answer of `GET /o/{slug}/audit/checkpoint`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CheckpointOut {
    /// The signed checkpoint, a compact JWT: keep this (or the whole answer) to check later.
    pub checkpoint: String,
}

/// The org's audit checkpoint of today (UTC): `checkpoint` is a JWT (RFC 7519, `alg` EdDSA, `kid` of the org's
/// active key, so the org's JWKS verifies it) whose claims are `iss`, `seq` and `hash` of the
/// org's latest audit event when the day's checkpoint was taken, and `iat`. The same token all
/// day; a new one each day. Public and cacheable for an hour.
#[utoipa::path(
    get, path = "/o/{slug}/audit/checkpoint", tag = "audit",
    params(("slug" = String, Path, description = "The org's slug", example = "acme")),
    responses(
        (status = 200, description = "The checkpoint", body = CheckpointOut),
        (status = 404, description = "No such org", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn checkpoint(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let checkpoint = audit::checkpoint(&state, &slug).await?;
    Ok(([(header::CACHE_CONTROL, "public, max-age=3600")], Json(CheckpointOut { checkpoint })))
}

/// The audit checkpoint route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(checkpoint))
}
