//! `GET /healthz` (the process answers) and `GET /readyz` (it can serve: the database answers
//! and the token writer runs; also reports the revocation notice listener).

use axum::{extract::State, Json};
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{error::ApiError, state::NoticeState, AppState};

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "Alive", example = json!({"status": "ok"}))))]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: this instance can serve. Ready (200) when the database answers (`select 1`,
/// waiting at most the pool's acquire timeout, 3 s by default) and the token writer runs; else
/// 503 `not_ready` problem+json with `Retry-After`, carrying the same fields as extension
/// members. Every answer reports:
///
/// - `database`: `ok` or `unavailable`;
/// - `token_writer`: `ok`, `restarted` (it panicked and was started again; still serving) or
///   `stopped`; `token_writer_restarts` counts the restarts since the process started;
/// - `revocation_notices`: `listening`, `reconnecting` (notices from other instances are not
///   heard now; caches are emptied when they resume) or `off` (none on this database). Not a
///   readiness condition: without notices, revocations by other instances still apply within
///   the cache TTL.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "Ready", example = json!({
        "status": "ok", "database": "ok", "token_writer": "ok", "token_writer_restarts": 0,
        "revocation_notices": "listening"
    })),
    (status = 503, description = "Not ready: the database does not answer or the token writer has stopped; \
        `Retry-After` is set, and the body also carries `database`, `token_writer`, \
        `token_writer_restarts` and `revocation_notices`",
        body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let database = state.store.ping().await;
    let writer_running = state.token_writer.is_running();
    let restarts = state.token_writer.restarts();
    let writer = match (writer_running, restarts) {
        (false, _) => "stopped",
        (true, 0) => "ok",
        (true, _) => "restarted",
    };
    let notices: NoticeState = state.revocation_notices.get();
    let mut checks = Map::new();
    checks.insert("database".into(), json!(if database.is_ok() { "ok" } else { "unavailable" }));
    checks.insert("token_writer".into(), json!(writer));
    checks.insert("token_writer_restarts".into(), json!(restarts));
    checks.insert("revocation_notices".into(), json!(notices.as_str()));
    let detail = match (&database, writer_running) {
        (Err(_), _) => "the database does not answer",
        (Ok(()), false) => "the token writer has stopped",
        (Ok(()), true) => {
            checks.insert("status".into(), json!("ok"));
            return Ok(Json(Value::Object(checks)));
        }
    };
    if let Err(e) = &database {
        tracing::warn!(error = %e, "not ready: the database does not answer");
    }
    Err(ApiError::NotReady { detail: detail.into(), checks })
}

/// Health routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}
