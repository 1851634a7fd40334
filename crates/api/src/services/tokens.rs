//! User tokens: issuing, handing out a user's default permanent token again (claimr's
//! `GET /token`), introspection (RFC 7662) and revocation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tessera_core::{
    Account, AuditContext, Entity, Error, IssuedBy, NewUserToken, Org, OrgId, Page, Platform, Result, Timestamp,
    TokenQuery, TokenStatus, TokenStore, User, UserId, UserToken, UserTokenClaims, UserTokenId,
};
use uuid::Uuid;

use super::now;
use crate::AppState;

/// How long this process trusts a token row read for introspection without reading it again, by
/// default: 1 second, as for API keys ([`super::api_keys::KEY_CACHE_TTL`],
/// [`crate::ApiConfig::cache_ttl`]). A revocation or user deletion made through this process is
/// seen by the very next introspection regardless, because it forgets every remembered row
/// ([`TokenRows::forget_all`]). One made by another process (another instance on the same
/// database) is seen, on PostgreSQL, once its revocation notice has arrived, shortly after it
/// commits ([`tessera_core::Store::watch_revocations`]); on SQLite, within this time.
pub const TOKEN_ROW_TTL: Duration = Duration::from_secs(1);

/// Most token rows [`TokenRows`] holds: 65,536 (about 200 bytes each).
pub const TOKEN_ROW_CAPACITY: u64 = 65_536;

/// Token rows recently read by introspection, so that a token checked again within
/// [`TOKEN_ROW_TTL`] costs no database read.
///
/// Every row is remembered with the *generation* current when its read started, and is only
/// used while that generation is still current. Revoking or deleting tokens through this process
/// commits first and then starts a new generation. So a row read before the revocation committed
/// carries an older generation and is never used after the revocation returns, even if it was
/// put in the cache after that: the "revocation is visible to the very next introspection on the
/// same instance" rule holds without a lock on the read path.
pub struct TokenRows {
    entries: moka::sync::Cache<UserTokenId, (u64, UserToken)>,
    generation: AtomicU64,
}

impl Default for TokenRows {
    fn default() -> Self {
        Self::new(TOKEN_ROW_TTL)
    }
}

impl TokenRows {
    /// An empty cache that trusts a row for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: moka::sync::Cache::builder().max_capacity(TOKEN_ROW_CAPACITY).time_to_live(ttl).build(),
            generation: AtomicU64::new(0),
        }
    }

    /// The org's token row `id`: from memory if read in this generation less than the cache's
    /// TTL ago, else from `store` (and then remembered). `None` when the org has no
    /// such token (not remembered).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn get(&self, store: &dyn TokenStore, org_id: OrgId, id: UserTokenId) -> Result<Option<UserToken>> {
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some((seen_in, row)) = self.entries.get(&id) {
            if seen_in == generation {
                crate::metrics::cache_lookup(crate::metrics::Cache::TokenRows, true);
                return Ok((row.org_id == org_id).then_some(row));
            }
        }
        crate::metrics::cache_lookup(crate::metrics::Cache::TokenRows, false);
        let row = store.user_token(org_id, id).await?;
        if let Some(row) = &row {
            self.entries.insert(id, (generation, row.clone()));
        }
        Ok(row)
    }

    /// Starts a new generation: no row read before this call is used again. Call it after every
    /// change to token rows that introspection must see at once (revocation, deletion), whether
    /// or not the change reported success.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }
}

/// Shortest lifetime a caller may ask for: 60 seconds.
pub const MIN_TTL_SECONDS: i64 = 60;
/// Longest lifetime a caller may ask for: 365 days, in seconds.
pub const MAX_TTL_SECONDS: i64 = 365 * 24 * 3600;

/// How long a new token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    /// The org's default (3600 s unless the org changed it).
    OrgDefault,
    /// This many seconds, 60 to 31,536,000.
    Seconds(i64),
    /// No `exp` at all.
    Permanent,
}

impl Lifetime {
    /// The lifetime a caller asked for: `ttl_seconds`, or `permanent: true`, or neither for the
    /// org default. The bounds of `ttl_seconds` are checked by [`issue`].
    ///
    /// # Errors
    /// [`Error::Invalid`] on field `permanent` when both are given.
    pub fn from_request(ttl_seconds: Option<i64>, permanent: Option<bool>) -> Result<Self> {
        match (ttl_seconds, permanent) {
            (Some(_), Some(true)) => Err(Error::invalid("permanent", "cannot be combined with ttl_seconds")),
            (Some(s), _) => Ok(Lifetime::Seconds(s)),
            (None, Some(true)) => Ok(Lifetime::Permanent),
            (None, _) => Ok(Lifetime::OrgDefault),
        }
    }
}

/// A token just issued (or handed out again): its row and the JWT string.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    /// The stored metadata.
    pub token: UserToken,
    /// The compact JWT.
    pub jwt: String,
}

/// Claims of `token` for `user` of `org`; re-signing them reproduces the original JWT.
fn claims(state: &AppState, org: &Org, user: &User, token: &UserToken) -> UserTokenClaims {
    UserTokenClaims {
        jti: token.id.to_string(),
        sub: user.id.to_string(),
        iss: state.config.issuer(&org.slug),
        aud: org.slug.to_string(),
        iat: token.iat(),
        exp: token.exp(),
        account: user.account.to_string(),
        platform: user.platform.to_string(),
    }
}

/// Signs a token just inserted: it has never been handed out before.
async fn sign(state: &AppState, org: &Org, user: &User, token: UserToken) -> Result<IssuedToken> {
    let keys = state.keys.org_keys(state.store.as_ref(), org.id).await?;
    let jwt = keys.sign(token.signing_key_id, &claims(state, org, user, &token))?;
    Ok(IssuedToken { token, jwt })
}

/// Signs an existing token to hand it out again: the same string as before, from memory when
/// this process signed it recently ([`crate::crypto::OrgKeys::sign_again`]).
async fn sign_again(state: &AppState, org: &Org, user: &User, token: UserToken) -> Result<IssuedToken> {
    let keys = state.keys.org_keys(state.store.as_ref(), org.id).await?;
    let jwt = keys.sign_again(token.signing_key_id, &claims(state, org, user, &token))?;
    Ok(IssuedToken { token, jwt })
}

async fn insert(
    state: &AppState,
    org: &Org,
    user: &User,
    expires_at: Option<Timestamp>,
    issued_at: Timestamp,
    is_default: bool,
    issued_by: Option<IssuedBy>,
) -> Result<UserToken> {
    let keys = state.keys.org_keys(state.store.as_ref(), org.id).await?;
    let new = NewUserToken {
        id: UserTokenId(Uuid::now_v7()),
        user_id: user.id,
        signing_key_id: keys.active_key()?,
        issued_at,
        expires_at,
        is_default,
        issued_by,
    };
    // Committed together with the rows of concurrent requests (see `group_commit`).
    state.token_writer.insert(org.id, new).await
}

/// Issues a new token for `user` of `org` with `lifetime`; its row is committed before this returns.
///
/// # Errors
/// [`Error::Invalid`] on `ttl_seconds` outside 60–31,536,000; storage errors.
pub async fn issue(
    state: &AppState,
    org: &Org,
    user: &User,
    lifetime: Lifetime,
    issued_by: Option<IssuedBy>,
) -> Result<IssuedToken> {
    let issued_at = now();
    let ttl = match lifetime {
        Lifetime::Permanent => None,
        Lifetime::OrgDefault => Some(org.default_token_ttl_seconds),
        Lifetime::Seconds(s) if (MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&s) => Some(s),
        Lifetime::Seconds(_) => {
            return Err(Error::invalid(
                "ttl_seconds",
                format!("must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS} seconds"),
            ))
        }
    };
    let expires_at = ttl.map(|s| issued_at + time::Duration::seconds(s));
    let token = insert(state, org, user, expires_at, issued_at, false, issued_by).await?;
    sign(state, org, user, token).await
}

/// The user's default permanent token: the same JWT string on every call while it is not
/// revoked, a new one after a revocation. Safe under concurrency (one default per user).
///
/// # Errors
/// Storage errors.
pub async fn default_token(
    state: &AppState,
    org: &Org,
    user: &User,
    issued_by: Option<IssuedBy>,
) -> Result<IssuedToken> {
    if let Some(token) = state.store.default_user_token(org.id, user.id).await? {
        return sign_again(state, org, user, token).await;
    }
    match insert(state, org, user, None, now(), true, issued_by).await {
        Ok(token) => sign(state, org, user, token).await,
        // Another request created it between our read and our insert: hand out theirs.
        Err(Error::Conflict { code: "default_token_exists", .. }) => {
            let token = state
                .store
                .default_user_token(org.id, user.id)
                .await?
                .ok_or_else(|| Error::Internal("default token vanished after a conflict".into()))?;
            sign_again(state, org, user, token).await
        }
        Err(e) => Err(e),
    }
}

/// claimr's `GET /token` for a returning user, in one read: the user `(platform, account)`, its
/// live permanent token, signed. `None` when the call needs more than that read (no such user,
/// a `display_name` other than the stored one, no live permanent token yet): the caller then
/// takes the general path, [`super::users::upsert`] and [`default_token`].
///
/// # Errors
/// Storage errors.
pub async fn returning_user_token(
    state: &AppState,
    org: &Org,
    platform: &Platform,
    account: &Account,
    display_name: Option<&str>,
) -> Result<Option<(User, IssuedToken)>> {
    let Some((user, Some(token))) = state.store.user_and_default_token(org.id, platform, account).await? else {
        return Ok(None);
    };
    if display_name.is_some_and(|name| user.display_name.as_deref() != Some(name)) {
        return Ok(None);
    }
    let issued = sign_again(state, org, &user, token).await?;
    Ok(Some((user, issued)))
}

/// Introspects `token` for `org` (RFC 7662 §2.2): the claims when it is a live token of this org
/// (valid signature from one of the org's keys, right `iss` and `aud`, not expired, its row
/// present, not revoked); `None` for anything else, including another org's token.
///
/// # Errors
/// Storage errors only; a bad token is `Ok(None)`.
pub async fn introspect(state: &AppState, org: &Org, token: &str) -> Result<Option<UserTokenClaims>> {
    let keys = state.keys.org_keys(state.store.as_ref(), org.id).await?;
    let Some(claims) = keys.verify(token, &state.config.issuer(&org.slug), org.slug.as_str()) else {
        return Ok(None);
    };
    let Ok(jti) = claims.jti.parse::<UserTokenId>() else {
        return Ok(None);
    };
    let Some(row) = state.token_rows.get(state.store.as_ref(), org.id, jti).await? else {
        return Ok(None);
    };
    let live = row.status(now()) == TokenStatus::Active && row.user_id.to_string() == claims.sub;
    Ok(live.then_some(claims))
}

/// Revokes one token of the org; the next introspection sees it.
///
/// # Errors
/// `NotFound { entity: Entity::UserToken }`, also for another org's token; storage errors.
pub async fn revoke(state: &AppState, org_id: OrgId, token_id: UserTokenId, audit: &AuditContext) -> Result<UserToken> {
    let revoked = state.store.revoke_user_token(org_id, token_id, now(), audit).await;
    state.token_rows.forget_all();
    revoked
}

/// Revokes the user's tokens issued before `issued_before` (default: now). Returns the count.
///
/// # Errors
/// [`Error::Invalid`] on `issued_before` in the future; `NotFound { entity: Entity::User }`; storage errors.
pub async fn revoke_all(
    state: &AppState,
    org_id: OrgId,
    user_id: UserId,
    issued_before: Option<Timestamp>,
    audit: &AuditContext,
) -> Result<u64> {
    let now = now();
    let before = match issued_before {
        Some(t) if t > now => return Err(Error::invalid("issued_before", "must not be in the future")),
        Some(t) => t,
        // Strictly before "now + 1 µs" includes a token issued in this very microsecond.
        None => now + time::Duration::microseconds(1),
    };
    let revoked = state.store.revoke_user_tokens(org_id, user_id, before, now, audit).await;
    state.token_rows.forget_all();
    revoked
}

/// One page of the user's tokens, newest first.
///
/// # Errors
/// `NotFound { entity: Entity::User }`; storage errors.
pub async fn list(state: &AppState, org_id: OrgId, user_id: UserId, query: &TokenQuery) -> Result<Page<UserToken>> {
    state.store.user_by_id(org_id, user_id).await?.ok_or(Error::not_found(Entity::User))?;
    state.store.list_user_tokens(org_id, user_id, query, now()).await
}

/// The JWT of an existing token, signed again: Ed25519 is deterministic, so this is the exact
/// string first handed out. `None` if the token or its user no longer exists.
///
/// # Errors
/// Storage errors.
pub async fn jwt_of(state: &AppState, org: &Org, token_id: UserTokenId) -> Result<Option<String>> {
    let Some(token) = state.store.user_token(org.id, token_id).await? else {
        return Ok(None);
    };
    let Some(user) = state.store.user_by_id(org.id, token.user_id).await? else {
        return Ok(None);
    };
    Ok(Some(sign_again(state, org, &user, token).await?.jwt))
}
