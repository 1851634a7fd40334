//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers too).

use axum::{extract::State, Json};
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{error::ApiError, AppState};

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "Alive", example = json!({"status": "ok"}))))]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the database answers too.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "Ready", example = json!({"status": "ok", "database": "ok"})),
    (status = 503, description = "The database does not answer", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store.ping().await?;
    Ok(Json(json!({"status": "ok", "database": "ok"})))
}

/// Health routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}
