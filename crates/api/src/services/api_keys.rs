//! API keys: creation (the secret is returned once), listing, revocation and authentication.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use tessera_core::{
    api_key::{validate_key_name, API_KEY_DISPLAY_LEN},
    ApiKey, ApiKeyFormatError, ApiKeyHash, ApiKeyId, ApiKeySecret, AuditContext, Error, MemberId, NewApiKey, Org,
    OrgId, Result, Timestamp,
};
use uuid::Uuid;

use super::now;
use crate::{throttle::address_key, AppState};

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
    audit: &AuditContext,
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
        match state.store.create_api_key(org_id, &new, audit).await {
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
/// [`Error::Invalid`] if `prefix` is not 8 base62 characters; `NotFound { entity: Entity::ApiKey }`.
pub async fn revoke(state: &AppState, org_id: OrgId, prefix: &str, audit: &AuditContext) -> Result<ApiKey> {
    let prefix = prefix.strip_prefix("tsk_").unwrap_or(prefix);
    if prefix.len() != API_KEY_DISPLAY_LEN || !prefix.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid("prefix", "must be the 8 characters shown after `tsk_`"));
    }
    let revoked = state.store.revoke_api_key(org_id, prefix, now(), audit).await;
    // Even after an error: the revocation may have committed before the error was seen.
    state.api_key_cache.clear();
    revoked
}

/// Failed API-key authentications (malformed, unknown, revoked or expired keys) allowed from
/// one client address before its attempts must wait: 50.
pub const API_KEY_FAILURE_BURST: u32 = 50;
/// After that, one more failure per address is allowed every second (so an address that keeps
/// failing gets at most 60 database lookups a minute).
pub const API_KEY_FAILURE_REFILL: Duration = Duration::from_secs(1);

/// Why a presented API key was refused. The messages never contain the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The client's address failed too often recently ([`API_KEY_FAILURE_BURST`]); refused
    /// before the key is even read.
    #[error("too many failed authentications; try again in {retry_after_seconds} seconds")]
    Throttled {
        /// Seconds until the address may try again (at least 1).
        retry_after_seconds: u64,
    },
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

/// How long this process trusts an API key (and its org) read from the database without reading
/// it again, by default: 1 second ([`crate::ApiConfig::cache_ttl`]). A key revoked through this
/// process (the dashboard, the REST API) is refused by the very next request regardless, because
/// revoking clears the cache. On PostgreSQL, so is a key revoked by another process (the CLI,
/// another instance on the same database) once its revocation notice has arrived, which is
/// shortly after the revoking transaction commits ([`tessera_core::Store::watch_revocations`]);
/// on SQLite, such a key is refused within this time.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(1);

/// Most API keys held by the cache: 10,000 (unknown keys included); beyond that the least
/// useful entries are evicted.
pub const KEY_CACHE_CAPACITY: u64 = 10_000;

/// An API key that authenticated a request, with its org.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// The key's record (as read at most [`KEY_CACHE_TTL`] ago).
    pub key: ApiKey,
    /// The key's org.
    pub org: Org,
}

/// The per-process cache of API-key lookups, keyed by the key's SHA-256 (the plaintext is never
/// kept), and the record of when each key's `last_used_at` was last written.
///
/// Concurrent requests that miss on the same key share one database read. Every entry is filed
/// under the *generation* current when its read started, and lookups only see the current
/// generation. [`ApiKeyCache::clear`] starts a new one, so a read that began before a revocation
/// committed, and lands in the cache after the clear, is never used: a revoked key is refused by
/// the first request after the clear, with no lock on the request path.
pub struct ApiKeyCache {
    /// `None` caches "no such key" (so a flood of one unknown key costs one read per TTL).
    entries: moka::future::Cache<(u64, ApiKeyHash), Option<Arc<Authenticated>>>,
    generation: AtomicU64,
    /// Unix seconds of the last `last_used_at` written (or seen in the database) per key.
    touched: Mutex<HashMap<ApiKeyId, i64>>,
}

impl Default for ApiKeyCache {
    fn default() -> Self {
        Self::new(KEY_CACHE_TTL)
    }
}

impl ApiKeyCache {
    /// An empty cache that trusts a lookup for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: moka::future::Cache::builder().max_capacity(KEY_CACHE_CAPACITY).time_to_live(ttl).build(),
            generation: AtomicU64::new(0),
            touched: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every cached key, including lookups still under way, so that the next request of
    /// each reads the database. Called after any revocation, and on every revocation notice.
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }

    /// Whether `last_used_at` of `key` should be written now (Unix seconds `now`): true at most
    /// once per [`LAST_USED_RESOLUTION_SECONDS`] per key in this process, and never while the
    /// stored value is that fresh. The caller that gets `true` does the write.
    fn should_touch(&self, key: &ApiKey, now: i64) -> bool {
        let stored = key.last_used_at.map_or(i64::MIN, |t| t.unix_timestamp());
        let mut touched = self.touched.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let last = touched.entry(key.id).or_insert(stored);
        *last = (*last).max(stored);
        if now.saturating_sub(*last) >= LAST_USED_RESOLUTION_SECONDS {
            *last = now;
            true
        } else {
            false
        }
    }
}

/// Finds the usable key matching `presented`, and its org. The checksum is checked before any
/// lookup; the lookup is by SHA-256, so the plaintext is never compared or stored. Lookups are
/// cached for [`KEY_CACHE_TTL`] (see there for when a revocation is seen). `last_used_at` is
/// written in the background, at most once a minute per key.
///
/// `client` is the caller's address ([`crate::client_addr::ClientAddr`]; IPv6 counts by /64).
/// Each refusal counts as a failure of that address; once it has [`API_KEY_FAILURE_BURST`]
/// failures outstanding (one paid off per [`API_KEY_FAILURE_REFILL`]), its calls are refused with
/// [`AuthError::Throttled`] before the key is parsed or looked up, whatever key they present.
/// A well-formed random key costs a database lookup (its checksum is no secret), so this bounds
/// what an address can make the database do with made-up keys. Successful authentications are
/// never charged. A call without an address (not served over a socket) is not limited.
///
/// # Errors
/// `Ok(Err(AuthError))` when the key is refused; `Err` for storage failures (not counted).
pub async fn authenticate(
    state: &AppState,
    presented: &str,
    client: Option<IpAddr>,
) -> Result<std::result::Result<Authenticated, AuthError>> {
    let client = client.map(address_key);
    if let Some(Err(wait)) = client.map(|ip| state.api_key_failures.check(&ip)) {
        let retry_after_seconds = wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).max(1);
        refused_metric(&AuthError::Throttled { retry_after_seconds });
        return Ok(Err(AuthError::Throttled { retry_after_seconds }));
    }
    let refused = check_key(state, presented).await?;
    if let Err(e) = &refused {
        refused_metric(e);
    }
    if let (Err(_), Some(ip)) = (&refused, client) {
        state.api_key_failures.failed(ip);
    }
    Ok(refused)
}

/// Counts a refusal in [`crate::metrics::API_KEY_AUTH_REFUSED`].
fn refused_metric(error: &AuthError) {
    let counter = match error {
        AuthError::Throttled { .. } => metrics::counter!(crate::metrics::API_KEY_AUTH_REFUSED, "reason" => "throttled"),
        AuthError::Malformed(_) => metrics::counter!(crate::metrics::API_KEY_AUTH_REFUSED, "reason" => "malformed"),
        AuthError::Unknown => metrics::counter!(crate::metrics::API_KEY_AUTH_REFUSED, "reason" => "unknown"),
        AuthError::Revoked => metrics::counter!(crate::metrics::API_KEY_AUTH_REFUSED, "reason" => "revoked"),
        AuthError::Expired => metrics::counter!(crate::metrics::API_KEY_AUTH_REFUSED, "reason" => "expired"),
    };
    counter.increment(1);
}

/// [`authenticate`] without the failure throttle.
async fn check_key(state: &AppState, presented: &str) -> Result<std::result::Result<Authenticated, AuthError>> {
    let secret = match ApiKeySecret::parse(presented) {
        Ok(s) => s,
        Err(e) => return Ok(Err(AuthError::Malformed(e))),
    };
    let store = &state.store;
    let generation = state.api_key_cache.generation.load(Ordering::SeqCst);
    // Set when this request reads the database (a miss); a request that waited for another's
    // read, or found the entry, is a hit.
    let mut missed = false;
    let found = state
        .api_key_cache
        .entries
        .try_get_with((generation, secret.hash()), async {
            missed = true;
            let Some(key) = store.api_key_by_hash(&secret.hash()).await? else {
                return Ok(None);
            };
            // A key whose org is gone is as good as unknown.
            Ok::<_, Error>(store.org_by_id(key.org_id).await?.map(|org| Arc::new(Authenticated { key, org })))
        })
        .await
        // Requests that shared the failed read each get the error (storage errors are 503s).
        .map_err(|e: Arc<Error>| Arc::try_unwrap(e).unwrap_or_else(|e| Error::Storage(e.to_string().into())));
    crate::metrics::cache_lookup(crate::metrics::Cache::ApiKeys, !missed);
    let found = found?;
    let Some(found) = found else {
        return Ok(Err(AuthError::Unknown));
    };
    let now = now();
    if found.key.revoked_at.is_some() {
        return Ok(Err(AuthError::Revoked));
    }
    if !found.key.is_usable(now) {
        return Ok(Err(AuthError::Expired));
    }
    if state.api_key_cache.should_touch(&found.key, now.unix_timestamp()) {
        let store = state.store.clone();
        let (org_id, key_id) = (found.key.org_id, found.key.id);
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(org_id, key_id, now).await {
                tracing::warn!(%key_id, error = %e, "could not record API key use");
            }
        });
    }
    Ok(Ok(Authenticated::clone(&found)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(last_used_at: Option<i64>) -> ApiKey {
        let at = |s: i64| Timestamp::from_unix_timestamp(s).unwrap();
        ApiKey {
            id: ApiKeyId(Uuid::now_v7()),
            org_id: OrgId(Uuid::now_v7()),
            name: "backend".into(),
            prefix: "AbCd1234".into(),
            created_by: None,
            created_at: at(0),
            last_used_at: last_used_at.map(at),
            expires_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn last_used_at_is_written_at_most_once_a_minute_per_key() {
        let cache = ApiKeyCache::default();
        let never_used = key(None);
        assert!(cache.should_touch(&never_used, 1_000), "first use is recorded");
        assert!(!cache.should_touch(&never_used, 1_000), "a concurrent request does not write again");
        assert!(!cache.should_touch(&never_used, 1_059));
        assert!(cache.should_touch(&never_used, 1_060), "a minute later it is written again");

        let fresh = key(Some(2_000));
        assert!(!cache.should_touch(&fresh, 2_030), "the stored value is less than a minute old");
        assert!(cache.should_touch(&fresh, 2_060));
        // A stale copy of the record (read before that write landed) does not write again.
        let stale = ApiKey { last_used_at: None, ..fresh.clone() };
        assert!(!cache.should_touch(&stale, 2_061));
        let other = key(Some(2_000));
        assert!(!cache.should_touch(&other, 2_001), "keys are throttled separately, by their own value");
    }
}
