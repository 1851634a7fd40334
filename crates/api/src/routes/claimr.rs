//! claimr-compatible `GET /token?account=&platform=&name=`: creates the user if needed and returns
//! their permanent token, the same one on every call while it is not revoked.

use axum::{routing::get, Json, Router};
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiError,
    extract::{AppQuery, OrgApiKey},
    services::{tokens, users},
    AppState,
};
use tessera_core::IssuedBy;

/// Query of `GET /token`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenQueryIn {
    /// Required: the org's id for the user.
    pub account: String,
    /// The user's platform; `default` when absent.
    pub platform: Option<String>,
    /// Display name; set on the user when given.
    pub name: Option<String>,
}

/// Body of a `GET /token` answer: `{"token", "user_id"}`.
#[derive(Debug, Serialize)]
pub struct TokenOut {
    /// The permanent user token (JWT).
    pub token: String,
    /// The user's id.
    pub user_id: String,
}

async fn get_token(
    key: OrgApiKey,
    AppQuery(q): AppQuery<TokenQueryIn>,
    state: axum::extract::State<AppState>,
) -> Result<Json<TokenOut>, ApiError> {
    let name = q.name.filter(|n| !n.is_empty());
    let input = users::UpsertInput { account: q.account, platform: q.platform, display_name: name, metadata: None };
    let (user, _) = users::upsert(&state, key.org.id, input).await?;
    let issued = tokens::default_token(&state, &key.org, &user, Some(IssuedBy::ApiKey(key.key_id))).await?;
    Ok(Json(TokenOut { token: issued.jwt, user_id: user.id.to_string() }))
}

/// `GET /token`.
pub fn router() -> Router<AppState> {
    Router::new().route("/token", get(get_token))
}
