//! `/v1/users`: Argyle-style create-or-update, fetch, the user's tokens and bulk revocation.

use axum::{extract::State, http::StatusCode, Json};
use serde::{Deserialize, Serialize};
use tessera_core::{error::Validation, IssuedBy, PageRequest, Timestamp, TokenQuery, UserId};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::{ListOut, UserOut, UserTokenOut};
use crate::{
    error::ApiError,
    extract::{AppJson, AppOptionalJson, AppPath, AppQuery, OrgApiKey, RequestInfo},
    services::{now, tokens, users},
    AppState,
};

/// Body of `POST /v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"account": "user-42", "platform": "web", "display_name": "Ada", "metadata": {"plan": "pro"}}))]
pub struct UpsertUserIn {
    /// Required.
    pub account: String,
    /// Default `default`.
    pub platform: Option<String>,
    /// Optional.
    pub display_name: Option<String>,
    /// Optional JSON object, at most 16 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// Answer of `POST /v1/users`: the user plus `created` and a fresh `user_token`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpsertUserOut {
    /// The user.
    #[serde(flatten)]
    pub user: UserOut,
    /// Whether the call created the user.
    pub created: bool,
    /// A new token with the org's default lifetime.
    pub user_token: String,
}

/// Creates the user `(platform, account)` or updates it, and issues a fresh token (Argyle's `POST /users`).
#[utoipa::path(
    post, path = "/v1/users", tag = "users", request_body = UpsertUserIn, security(("api_key" = [])),
    responses(
        (status = 201, description = "Created", body = UpsertUserOut),
        (status = 200, description = "Already existed; updated with the given fields", body = UpsertUserOut),
        (status = 401, description = "Bad API key", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
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

/// Query of `GET /v1/users`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListUsersIn {
    /// Case-insensitive substring of `account` or `display_name` (at most 255 bytes, without U+0000).
    pub q: Option<String>,
    /// Exact platform.
    pub platform: Option<String>,
    /// Page size, 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// The org's users, newest first, with search, a platform filter and cursor pagination.
#[utoipa::path(
    get, path = "/v1/users", tag = "users", params(ListUsersIn), security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of users", body = ListOut<UserOut>),
        (status = 401, description = "Bad API key", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Bad q, platform, limit or cursor", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn list_users(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<ListUsersIn>,
) -> Result<Json<ListOut<UserOut>>, ApiError> {
    let input = users::ListInput { q: q.q, platform: q.platform, limit: q.limit, cursor: q.cursor };
    let page = users::list(&state, key.org.id, input).await?;
    Ok(Json(ListOut { data: page.data.into_iter().map(UserOut::from).collect(), next_cursor: page.next_cursor }))
}

/// One user of the caller's org.
#[utoipa::path(
    get, path = "/v1/users/{id}", tag = "users", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserOut),
        (status = 400, description = "Malformed id", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "Bad API key", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this org", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn get_user(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppPath(id): AppPath<UserId>,
) -> Result<Json<UserOut>, ApiError> {
    Ok(Json(users::get(&state, key.org.id, id).await?.into()))
}

/// Body of `PATCH /v1/users/{id}`: only the given fields change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Ada Lovelace", "metadata": {"plan": "enterprise"}}))]
pub struct PatchUserIn {
    /// New display name; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    /// New metadata object, replacing the stored one; at most 16 KiB. `{}` empties it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Option<serde_json::Value>>,
}

/// Tells a field that is present (even as `null`) from one that is absent: `Some(value)` when
/// present; absence gives the `#[serde(default)]` `None`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Changes a user's display name and/or metadata.
#[utoipa::path(
    patch, path = "/v1/users/{id}", tag = "users", request_body = PatchUserIn, security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The updated user", body = UserOut),
        (status = 401, description = "Bad API key", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this org", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn patch_user(
    key: OrgApiKey,
    request: RequestInfo,
    State(state): State<AppState>,
    AppPath(id): AppPath<UserId>,
    AppJson(body): AppJson<PatchUserIn>,
) -> Result<Json<UserOut>, ApiError> {
    // `"metadata": null` is not a way to clear it (that is `{}`): say so rather than ignore it.
    let metadata = body.metadata.map(|m| m.unwrap_or(serde_json::Value::Null));
    let input = users::PatchInput { display_name: body.display_name, metadata };
    Ok(Json(users::patch(&state, key.org.id, id, input, &key.audit(&request)).await?.into()))
}

/// Deletes a user and all of their tokens (introspection then answers `active: false` for them).
#[utoipa::path(
    delete, path = "/v1/users/{id}", tag = "users", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Bad API key", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this org", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn delete_user(
    key: OrgApiKey,
    request: RequestInfo,
    State(state): State<AppState>,
    AppPath(id): AppPath<UserId>,
) -> Result<StatusCode, ApiError> {
    users::delete(&state, key.org.id, id, &key.audit(&request)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /v1/users/{id}/tokens`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTokensIn {
    /// `active`, `expired` or `revoked`.
    #[param(pattern = "^(active|expired|revoked)$")]
    pub status: Option<String>,
    /// Page size, 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// The user's tokens, newest first, with cursor pagination.
#[utoipa::path(
    get, path = "/v1/users/{id}/tokens", tag = "user tokens", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id"), ListTokensIn),
    responses(
        (status = 200, description = "A page of tokens", body = ListOut<UserTokenOut>),
        (status = 401, description = "Bad API key", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this org", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Bad status, limit or cursor", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn list_tokens(
    key: OrgApiKey,
    State(state): State<AppState>,
    AppPath(id): AppPath<UserId>,
    AppQuery(q): AppQuery<ListTokensIn>,
) -> Result<Json<ListOut<UserTokenOut>>, ApiError> {
    let mut v = Validation::default();
    let status = v.check(q.status.as_deref().map(str::parse).transpose());
    let page = v.check(PageRequest::parse(q.limit, q.cursor.as_deref()));
    let (status, page) = v.finish((status, page))?;
    let page = tokens::list(&state, key.org.id, id, &TokenQuery { status, page }).await?;
    let now = now();
    Ok(Json(ListOut {
        data: page.data.into_iter().map(|t| UserTokenOut::new(t, now)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Body of `POST /v1/users/{id}/revoke-tokens`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeTokensIn {
    /// Revoke tokens issued strictly before this time (RFC 3339); default: now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub issued_before: Option<Timestamp>,
}

/// Answer of `POST /v1/users/{id}/revoke-tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedOut {
    /// How many tokens this call revoked.
    pub revoked: u64,
}

/// Revokes all of the user's tokens issued before `issued_before` (default: now). The body is optional.
#[utoipa::path(
    post, path = "/v1/users/{id}/revoke-tokens", tag = "user tokens", security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body(content = Option<RevokeTokensIn>),
    responses(
        (status = 200, description = "How many tokens were revoked", body = RevokedOut),
        (status = 401, description = "Bad API key", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this org", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "issued_before in the future", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn revoke_tokens(
    key: OrgApiKey,
    request: RequestInfo,
    State(state): State<AppState>,
    AppPath(id): AppPath<UserId>,
    AppOptionalJson(body): AppOptionalJson<RevokeTokensIn>,
) -> Result<Json<RevokedOut>, ApiError> {
    let revoked = tokens::revoke_all(&state, key.org.id, id, body.issued_before, &key.audit(&request)).await?;
    Ok(Json(RevokedOut { revoked }))
}

/// `/v1/users…` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upsert_user, list_users))
        .routes(routes!(get_user, patch_user, delete_user))
        .routes(routes!(list_tokens))
        .routes(routes!(revoke_tokens))
}
