//! `/v1/users`: Argyle-style create-or-update, fetch, the user's tokens and bulk revocation.

use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use tessera_core::{error::Validation, IssuedBy, PageRequest, Timestamp, TokenQuery, UserId};

use super::wire::{ListOut, UserOut, UserTokenOut};
use crate::{
    error::ApiError,
    extract::{AppJson, AppPath, AppQuery, OrgApiKey},
    services::{now, tokens, users},
    AppState,
};

/// Body of `POST /v1/users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertUserIn {
    /// Required.
    pub account: String,
    /// Default `default`.
    pub platform: Option<String>,
    /// Optional.
    pub display_name: Option<String>,
    /// Optional JSON object, at most 16 KiB.
    pub metadata: Option<serde_json::Value>,
}

/// Answer of `POST /v1/users`: the user plus `created` and a fresh `user_token`.
#[derive(Debug, Serialize)]
pub struct UpsertUserOut {
    /// The user.
    #[serde(flatten)]
    pub user: UserOut,
    /// Whether the call created the user.
    pub created: bool,
    /// A new token with the org's default lifetime.
    pub user_token: String,
}

async fn upsert_user(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppJson(body): AppJson<UpsertUserIn>,
) -> Result<(StatusCode, Json<UpsertUserOut>), ApiError> {
    let input = users::UpsertInput {
        account: body.account,
        platform: body.platform,
        display_name: body.display_name,
        metadata: body.metadata,
    };
    let (user, created) = users::upsert(&state, key.org.id, input).await?;
    let issued =
        tokens::issue(&state, &key.org, &user, tokens::Lifetime::OrgDefault, Some(IssuedBy::ApiKey(key.key_id)))
            .await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(UpsertUserOut { user: user.into(), created, user_token: issued.jwt })))
}

async fn get_user(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppPath(id): AppPath<UserId>,
) -> Result<Json<UserOut>, ApiError> {
    Ok(Json(users::get(&state, key.org.id, id).await?.into()))
}

/// Query of `GET /v1/users/{id}/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListTokensIn {
    /// `active`, `expired` or `revoked`.
    pub status: Option<String>,
    /// Page size, 1–200, default 50.
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

async fn list_tokens(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppPath(id): AppPath<UserId>,
    AppQuery(q): AppQuery<ListTokensIn>,
) -> Result<Json<ListOut<UserTokenOut>>, ApiError> {
    let mut v = Validation::default();
    let status = v.check(q.status.as_deref().map(str::parse).transpose());
    let page = v.check(PageRequest::parse(q.limit, q.cursor.as_deref()));
    v.finish()?;
    let (Some(status), Some(page)) = (status, page) else { unreachable!("finish() returned Ok") };
    let page = tokens::list(&state, key.org.id, id, &TokenQuery { status, page }).await?;
    let now = now();
    Ok(Json(ListOut {
        data: page.data.into_iter().map(|t| UserTokenOut::new(t, now)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Body of `POST /v1/users/{id}/revoke-tokens`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeTokensIn {
    /// Revoke tokens issued strictly before this time (RFC 3339); default: now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub issued_before: Option<Timestamp>,
}

/// Answer of `POST /v1/users/{id}/revoke-tokens`.
#[derive(Debug, Serialize)]
pub struct RevokedOut {
    /// How many tokens this call revoked.
    pub revoked: u64,
}

async fn revoke_tokens(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppPath(id): AppPath<UserId>,
    body: axum::body::Bytes,
) -> Result<Json<RevokedOut>, ApiError> {
    // The body is optional: no body means "revoke everything issued until now".
    let body: RevokeTokensIn = crate::extract::json_or_default(&body)?;
    let revoked = tokens::revoke_all(&state, key.org.id, id, body.issued_before).await?;
    Ok(Json(RevokedOut { revoked }))
}

/// `/v1/users…` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/users", post(upsert_user))
        .route("/v1/users/{id}", get(get_user))
        .route("/v1/users/{id}/tokens", get(list_tokens))
        .route("/v1/users/{id}/revoke-tokens", post(revoke_tokens))
}
