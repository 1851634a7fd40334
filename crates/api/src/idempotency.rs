//! `Idempotency-Key` on POST calls, as payment APIs do it: the same key and the same request
//! (method, path, query and body) within 24 hours get the first response again, with the same
//! token; the same key with another request gets 422; a retry while the first request is still
//! running gets 409, for at most [`IN_FLIGHT_LEASE`] (60 s) after it started: a claim left behind
//! by a cancelled or crashed request is taken over by the next retry once its lease runs out. Only successful (2xx) responses are kept; a failed request releases its key
//! so it can be retried.
//!
//! Read-only POSTs ([`READ_ONLY_POSTS`]: introspection) are outside all this: their header is
//! ignored, not even validated, nothing is claimed and nothing replayed, so every call answers
//! from the current state. A replayed `{"active": true}` would hide a revocation for 24 hours, and
//! repeating a call that changes nothing is already safe.
//!
//! No secret is stored: the `user_token` JWT is cut out of the stored body and only the token's
//! id kept. On replay the token is signed again, and Ed25519 signatures are deterministic
//! (RFC 8032 §5.1.6), so the replay carries the very same string.

use axum::{
    body::Body,
    extract::{FromRequestParts, Request, State},
    http::{HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};
use tessera_core::{
    idempotency::{IdempotencyClaim, StoredResponse},
    FieldError, UserTokenId,
};

use crate::{error::ApiError, extract::OrgApiKey, services, AppState, MAX_BODY_BYTES};

/// The request header (draft-ietf-httpapi-idempotency-key-header).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Response header set on replays.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long a key is remembered: 24 hours, in seconds.
pub const WINDOW_SECONDS: i64 = 24 * 3600;
/// How long an in-flight claim (a request still running, no response stored) holds its key: 60
/// seconds. A retry within it gets 409; after it, the claim counts as abandoned (the client
/// disconnected, the process crashed before completing or releasing it) and the retry runs. A
/// completed record is not affected: it replays for [`WINDOW_SECONDS`].
pub const IN_FLIGHT_LEASE: time::Duration = time::Duration::seconds(60);
/// Longest accepted key, in bytes.
pub const MAX_KEY_BYTES: usize = 255;
/// Paths of the POST routes that change nothing (exact paths, as the router matches them): the
/// middleware lets them through untouched and the OpenAPI document offers them no
/// `Idempotency-Key`.
pub const READ_ONLY_POSTS: &[&str] = &["/v1/tokens/introspect"];

/// Stands in for the JWT in stored bodies. serde_json escapes control characters inside strings,
/// so a raw NUL byte can never occur in a serialized body: the placeholder is unambiguous.
const PLACEHOLDER: &[u8] = b"\0";

fn bad(status: StatusCode, code: &'static str, detail: &str) -> Response {
    ApiError::BadRequest {
        status,
        code,
        detail: detail.to_owned(),
        errors: vec![FieldError::new("Idempotency-Key", detail)],
    }
    .into_response()
}

/// Middleware for the REST router; a no-op for requests without the header, other than POST, or
/// to a [`READ_ONLY_POSTS`] path.
pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST
        || !request.headers().contains_key(IDEMPOTENCY_KEY)
        || READ_ONLY_POSTS.contains(&request.uri().path())
    {
        return next.run(request).await;
    }
    let key = match request.headers().get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()) {
        Some(k) if !k.is_empty() && k.len() <= MAX_KEY_BYTES && k.bytes().all(|b| b.is_ascii_graphic()) => k.to_owned(),
        _ => {
            return bad(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "must be 1 to 255 printable ASCII characters without spaces",
            )
        }
    };
    let (mut parts, body) = request.into_parts();
    let caller = match OrgApiKey::from_request_parts(&mut parts, &state).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return bad(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the body is larger than 64 KiB");
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("").as_bytes());
    hasher.update(b"\n");
    hasher.update(&bytes);
    let fingerprint: [u8; 32] = hasher.finalize().into();

    let now = services::now();
    let not_before = now - time::Duration::seconds(WINDOW_SECONDS);
    let lease_cutoff = now - IN_FLIGHT_LEASE;
    let org_id = caller.org.id;
    let claim = state.store.claim_idempotency_key(org_id, &key, &fingerprint, now, not_before, lease_cutoff).await;
    let record = match claim {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(IdempotencyClaim::Existing(record)) => record,
        Ok(IdempotencyClaim::Claimed) => {
            // The handler authenticates again from this extension instead of the database.
            parts.extensions.insert(caller.clone());
            let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            return finish(&state, &caller, &key, response).await;
        }
    };
    if record.fingerprint != fingerprint {
        return bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request in the last 24 hours",
        );
    }
    let Some(stored) = record.response else {
        return bad(
            StatusCode::CONFLICT,
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still running",
        );
    };
    replay(&state, &caller, stored).await
}

/// Keeps a successful response for replay (without its JWT), or releases the key.
async fn finish(state: &AppState, caller: &OrgApiKey, key: &str, response: Response) -> Response {
    let org_id = caller.org.id;
    if !response.status().is_success() {
        if let Err(e) = state.store.release_idempotency_key(org_id, key).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let (stored_body, user_token_id) = cut_token(&bytes);
    let stored = StoredResponse { status: parts.status.as_u16(), body: stored_body, user_token_id };
    if let Err(e) = state.store.complete_idempotency_key(org_id, key, &stored).await {
        // The work is done and committed; only the replay record is missing. Answer, and let a
        // retry with this key get 409 until the claim expires rather than do the work twice.
        tracing::warn!(error = %e, "could not store an idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Replaces the `user_token` JWT of a JSON body with the placeholder; returns the token's `jti`.
fn cut_token(body: &[u8]) -> (Vec<u8>, Option<UserTokenId>) {
    let jwt = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("user_token").and_then(|t| t.as_str()).map(str::to_owned));
    let Some(jwt) = jwt else {
        return (body.to_vec(), None);
    };
    let jti = jwt
        .split('.')
        .nth(1)
        .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
        .and_then(|claims| claims.get("jti")?.as_str()?.parse::<UserTokenId>().ok());
    // Every occurrence goes, so no copy of the secret is ever stored (a fresh JWT can only occur
    // where this response put it, but being strict costs nothing).
    (replace_all(body, jwt.as_bytes(), PLACEHOLDER), jti)
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = find(rest, needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Rebuilds a stored response, signing its token again.
async fn replay(state: &AppState, caller: &OrgApiKey, stored: StoredResponse) -> Response {
    let mut body = stored.body;
    if let Some(token_id) = stored.user_token_id {
        let jwt = match services::tokens::jwt_of(state, &caller.org, token_id).await {
            Ok(Some(jwt)) => jwt,
            Ok(None) => {
                return bad(
                    StatusCode::CONFLICT,
                    "idempotent_result_gone",
                    "the token made by the first request no longer exists; use a new Idempotency-Key",
                )
            }
            Err(e) => return ApiError::from(e).into_response(),
        };
        body = replace_all(&body, PLACEHOLDER, jwt.as_bytes());
    }
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_cut_out_and_its_jti_kept() {
        let claims = URL_SAFE_NO_PAD.encode(br#"{"jti":"0193a5c4-8a2b-7d3c-8e4f-5a6b7c8d9e0f"}"#);
        let jwt = format!("eyJhbGciOiJFZERTQSJ9.{claims}.c2ln");
        let body = format!(r#"{{"metadata":{{"note":"{jwt}?"}},"user_token":"{jwt}"}}"#);
        let (stored, jti) = cut_token(body.as_bytes());
        assert_eq!(jti.unwrap().to_string(), "0193a5c4-8a2b-7d3c-8e4f-5a6b7c8d9e0f");
        assert_eq!(stored.iter().filter(|b| **b == 0).count(), 2, "every occurrence is cut");
        assert_eq!(find(&stored, jwt.as_bytes()), None, "no copy of the JWT is stored");
        assert_eq!(replace_all(&stored, PLACEHOLDER, jwt.as_bytes()), body.as_bytes(), "replay restores it");
        let (plain, none) = cut_token(br#"{"revoked":3}"#);
        assert_eq!((plain.as_slice(), none), (&br#"{"revoked":3}"#[..], None));
    }
}
