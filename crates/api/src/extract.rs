//! Extractors that authenticate and authorize. A handler that takes [`OrgApiKey`] can only ever
//! act on the key's org: the org is the first argument of every service call it makes.
//!
//! Also the `App*` wrappers of axum's extractors, whose rejections become problem details.

use axum::{
    extract::{FromRequest, FromRequestParts},
    http::{header, request::Parts},
};
use tessera_core::{ApiKeyId, Org};

use crate::{error::ApiError, services::api_keys, services::api_keys::AuthError, AppState};

/// The org and key of a request authenticated with `Authorization: Bearer <API key>`
/// (RFC 6750 §2.1). Rejections are 401 with `WWW-Authenticate: Bearer`.
#[derive(Clone, Debug)]
pub struct OrgApiKey {
    /// The key's org.
    pub org: Org,
    /// The key.
    pub key_id: ApiKeyId,
}

impl FromRequestParts<AppState> for OrgApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Already authenticated by a middleware of this request (idempotency keys).
        if let Some(done) = parts.extensions.get::<OrgApiKey>() {
            return Ok(done.clone());
        }
        let header = parts.headers.get(header::AUTHORIZATION).ok_or(ApiError::Unauthorized {
            code: "api_key_missing",
            detail: "send the API key as `Authorization: Bearer tsk_…`",
        })?;
        let presented = header
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim())
            .ok_or(ApiError::Unauthorized {
                code: "api_key_malformed",
                detail: "the Authorization header must be `Bearer <API key>`",
            })?;
        let key = api_keys::authenticate(state, presented).await?.map_err(|e| {
            let (code, detail) = match e {
                AuthError::Malformed(_) => {
                    ("api_key_malformed", "the API key is malformed (bad prefix, length or checksum)")
                }
                AuthError::Unknown => ("api_key_invalid", "the API key is not valid"),
                AuthError::Revoked => ("api_key_revoked", "the API key has been revoked"),
                AuthError::Expired => ("api_key_expired", "the API key has expired"),
            };
            ApiError::Unauthorized { code, detail }
        })?;
        let org = state
            .store
            .org_by_id(key.org_id)
            .await?
            .ok_or(ApiError::Unauthorized { code: "api_key_invalid", detail: "the API key is not valid" })?;
        tracing::Span::current().record("org_id", tracing::field::display(org.id));
        Ok(Self { org, key_id: key.id })
    }
}

/// `axum::Json` whose rejections are problem details.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

/// `axum::extract::Query` whose rejections are problem details.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

/// `axum::extract::Path` whose rejections are problem details.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);

/// Parses an optional JSON body: empty means `T::default()`. For endpoints whose whole body is
/// optional, where `Content-Type` cannot be required.
///
/// # Errors
/// [`ApiError::BadRequest`] (400 `malformed_json` or 422 `invalid_body`) naming the field if known.
pub fn json_or_default<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        let (status, code) = if e.is_data() {
            (axum::http::StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
        } else {
            (axum::http::StatusCode::BAD_REQUEST, "malformed_json")
        };
        let detail = e.to_string();
        ApiError::BadRequest { status, code, detail, errors: vec![] }
    })
}
