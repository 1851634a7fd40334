//! claimr-compatible `GET /token?account=&platform=&name=`: creates the user if needed and returns
//! their permanent token, the same one on every call while it is not revoked.

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::ApiError,
    extract::{AppQuery, OrgApiKey},
    services::{tokens, users},
    AppState,
};
use tessera_core::{Account, IssuedBy, Platform};

/// Query of `GET /token`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TokenQueryIn {
    /// Required: the org's id for the user (1–255 bytes).
    #[param(example = "user-42")]
    pub account: String,
    /// The user's platform; `default` when absent.
    #[param(example = "web")]
    pub platform: Option<String>,
    /// Display name; set on the user when given.
    pub name: Option<String>,
}

/// Body of a `GET /token` answer: `{"token", "user_id"}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ij…", "user_id": "0193a5c4-7e1f-7c3a-9d2b-5f6e7a8b9c0d"}))]
pub struct TokenOut {
    /// The permanent user token (JWT).
    pub token: String,
    /// The user's id.
    pub user_id: String,
}

/// claimr's call: the user's permanent token, registering the user on first use.
///
/// Returns the same token on every call while it is not revoked; after a revocation, a new one.
#[utoipa::path(
    get, path = "/token", tag = "claimr", params(TokenQueryIn),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The user's permanent token", body = TokenOut),
        (status = 400, description = "Missing or malformed query", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed, unknown, revoked or expired API key", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = crate::openapi::ProblemDoc, content_type = "application/problem+json"),
    )
)]
async fn get_token(
    key: OrgApiKey,
    AppQuery(q): AppQuery<TokenQueryIn>,
    state: axum::extract::State<AppState>,
) -> Result<Json<TokenOut>, ApiError> {
    let name = q.name.filter(|n| !n.is_empty());
    // A returning user whose call changes nothing: one read. Anything else (a new user, a new
    // name, invalid input, no permanent token yet) takes the general path below.
    let platform = q.platform.as_deref().map_or_else(|| Ok(Platform::default()), Platform::parse);
    if let (Ok(account), Ok(platform)) = (Account::parse(&q.account), platform) {
        if let Some((user, issued)) =
            tokens::returning_user_token(&state, &key.org, &platform, &account, name.as_deref()).await?
        {
            return Ok(Json(TokenOut { token: issued.jwt, user_id: user.id.to_string() }));
        }
    }
    let input = users::UpsertInput { account: q.account, platform: q.platform, display_name: name, metadata: None };
    let (user, _) = users::upsert(&state, key.org.id, input).await.map_err(|e| match e {
        // claimr calls the display name `name`: report the field the caller actually sent.
        tessera_core::Error::Invalid(mut errors) => {
            for e in &mut errors {
                if e.field == "display_name" {
                    e.field = "name".into();
                }
            }
            tessera_core::Error::Invalid(errors)
        }
        other => other,
    })?;
    let issued = tokens::default_token(&state, &key.org, &user, Some(IssuedBy::ApiKey(key.key_id))).await?;
    Ok(Json(TokenOut { token: issued.jwt, user_id: user.id.to_string() }))
}

/// `GET /token`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_token))
}
