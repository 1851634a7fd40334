//! API keys: creation (the secret is returned once), listing, revocation and authentication.

use tessera_core::{
    api_key::{validate_key_name, API_KEY_DISPLAY_LEN},
    ApiKey, ApiKeyFormatError, ApiKeyId, ApiKeySecret, Error, MemberId, NewApiKey, OrgId, Result, Timestamp,
};
use uuid::Uuid;

use super::now;
use crate::AppState;

/// How often `last_used_at` is written per key at most: 60 seconds.
pub const LAST_USED_RESOLUTION_SECONDS: i64 = 60;

/// A key just created: its stored record and the plaintext secret, to be shown exactly once.
#[derive(Debug)]
pub struct CreatedApiKey {
    /// The stored record.
    pub key: ApiKey,
    /// The plaintext key; it exists nowhere else.
    pub secret: ApiKeySecret,
}

/// Creates an API key named `name` for the org, optionally expiring at `expires_at`.
///
/// # Errors
/// [`Error::Invalid`] for a bad name or an expiry not in the future; storage errors.
pub async fn create(
    state: &AppState,
    org_id: OrgId,
    name: &str,
    created_by: Option<MemberId>,
    expires_at: Option<Timestamp>,
) -> Result<CreatedApiKey> {
    let name = validate_key_name(name)?;
    let now = now();
    if expires_at.is_some_and(|t| t <= now) {
        return Err(Error::invalid("expires_at", "must be in the future"));
    }
    // A display-prefix collision (62^8 possibilities per org) is astronomically rare; draw again.
    for _ in 0..3 {
        let secret = ApiKeySecret::generate(&mut rand::rngs::OsRng);
        let new = NewApiKey {
            id: ApiKeyId(Uuid::now_v7()),
            name: name.clone(),
            hash: secret.hash(),
            prefix: secret.display_prefix(),
            created_by,
            created_at: now,
            expires_at,
        };
        match state.store.create_api_key(org_id, &new).await {
            Ok(key) => return Ok(CreatedApiKey { key, secret }),
            Err(Error::Conflict { code: "api_key_prefix_taken", .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::Internal("could not draw an unused API key prefix".into()))
}

/// The org's keys, newest first.
///
/// # Errors
/// Storage errors.
pub async fn list(state: &AppState, org_id: OrgId) -> Result<Vec<ApiKey>> {
    state.store.list_api_keys(org_id).await
}

/// Revokes the org's key whose display prefix (the 8 characters after `tsk_`) is `prefix`.
/// Takes effect on the next request that presents the key.
///
/// # Errors
/// [`Error::Invalid`] if `prefix` is not 8 base62 characters; `NotFound { entity: "api key" }`.
pub async fn revoke(state: &AppState, org_id: OrgId, prefix: &str) -> Result<ApiKey> {
    let prefix = prefix.strip_prefix("tsk_").unwrap_or(prefix);
    if prefix.len() != API_KEY_DISPLAY_LEN || !prefix.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid("prefix", "must be the 8 characters shown after `tsk_`"));
    }
    state.store.revoke_api_key(org_id, prefix, now()).await
}

/// Why a presented API key was refused. The messages never contain the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Malformed (prefix, length, alphabet or checksum); refused without a database lookup.
    #[error("{0}")]
    Malformed(ApiKeyFormatError),
    /// Well-formed but unknown.
    #[error("unknown API key")]
    Unknown,
    /// Revoked.
    #[error("the API key has been revoked")]
    Revoked,
    /// Past its expiry.
    #[error("the API key has expired")]
    Expired,
}

/// Finds the usable key matching `presented`. The checksum is checked before any lookup; the
/// lookup is by SHA-256, so the plaintext is never compared or stored. `last_used_at` is written
/// in the background, at most once a minute per key.
///
/// # Errors
/// `Ok(Err(AuthError))` when the key is refused; `Err` for storage failures.
pub async fn authenticate(state: &AppState, presented: &str) -> Result<std::result::Result<ApiKey, AuthError>> {
    let secret = match ApiKeySecret::parse(presented) {
        Ok(s) => s,
        Err(e) => return Ok(Err(AuthError::Malformed(e))),
    };
    let Some(key) = state.store.api_key_by_hash(&secret.hash()).await? else {
        return Ok(Err(AuthError::Unknown));
    };
    let now = now();
    if key.revoked_at.is_some() {
        return Ok(Err(AuthError::Revoked));
    }
    if !key.is_usable(now) {
        return Ok(Err(AuthError::Expired));
    }
    let stale = key.last_used_at.is_none_or(|t| (now - t).whole_seconds() >= LAST_USED_RESOLUTION_SECONDS);
    if stale {
        let store = state.store.clone();
        let (org_id, key_id) = (key.org_id, key.id);
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(org_id, key_id, now).await {
                tracing::warn!(%key_id, error = %e, "could not record API key use");
            }
        });
    }
    Ok(Ok(key))
}
