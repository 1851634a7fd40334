//! End users: create-or-update by `(platform, account)`, and lookup.

use std::sync::Arc;
use tessera_core::{
    error::Validation, user::validate_display_name, Account, AuditContext, Entity, Error, Metadata, OrgId, Page,
    PageRequest, Platform, Result, User, UserId, UserPatch, UserQuery, UserUpsert,
};

use uuid::Uuid;

use super::now;
use crate::AppState;

/// Raw input of an upsert, as received; validated by [`upsert`].
#[derive(Clone, Debug, Default)]
pub struct UpsertInput {
    /// Required: the org's id for the user.
    pub account: String,
    /// Optional; `"default"` when `None`.
    pub platform: Option<String>,
    /// Optional display name; replaces the stored one when given.
    pub display_name: Option<String>,
    /// Optional JSON object; replaces the stored one when given.
    pub metadata: Option<serde_json::Value>,
}

/// Creates the user `(platform, account)` or updates its display name and metadata when given.
/// Returns the user and whether it was created.
///
/// # Errors
/// [`Error::Invalid`] listing every bad field; storage errors.
pub async fn upsert(state: &AppState, org_id: OrgId, input: UpsertInput) -> Result<(User, bool)> {
    let mut v = Validation::default();
    let account = v.check(Account::parse(&input.account));
    let platform = v.check(input.platform.as_deref().map_or_else(|| Ok(Platform::default()), Platform::parse));
    let display_name = v.check(validate_display_name(input.display_name.as_deref()));
    let metadata = v.check(input.metadata.map(Metadata::parse).transpose());
    let (account, platform, display_name, metadata) = v.finish((account, platform, display_name, metadata))?;
    let upsert = UserUpsert { id: UserId(Uuid::now_v7()), account, platform, display_name, metadata, now: now() };
    state.store.upsert_user(org_id, &upsert).await
}

/// The org's user with this id.
///
/// # Errors
/// `NotFound { entity: Entity::User }`, also for another org's user; storage errors.
pub async fn get(state: &AppState, org_id: OrgId, user_id: UserId) -> Result<User> {
    state.store.user_by_id(org_id, user_id).await?.ok_or(Error::not_found(Entity::User))
}

/// Most bytes the users remembered by [`UserIdentities`] may take: 16 MiB.
const IDENTITY_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Users recently looked up by id, for what never changes about them: their id, account and
/// platform, which are all a token's claims need. Display name and metadata may be stale here and
/// must not be read from it. A user deleted since is still remembered; callers that insert rows
/// for it rely on the insert's own check (a token row is only inserted while its user exists).
#[derive(Debug)]
pub struct UserIdentities {
    entries: moka::future::Cache<(OrgId, UserId), Arc<User>>,
}

impl Default for UserIdentities {
    fn default() -> Self {
        Self {
            entries: moka::future::Cache::builder()
                .max_capacity(IDENTITY_CACHE_BYTES)
                // Roughly the bytes one entry holds.
                .weigher(|_, user: &Arc<User>| {
                    let text = user.account.as_str().len()
                        + user.platform.as_str().len()
                        + user.display_name.as_ref().map_or(0, String::len)
                        + serde_json::to_string(&user.metadata).map_or(0, |m| m.len());
                    u32::try_from(256 + text).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }
}

/// The org's user with this id, for its identity only (id, account, platform): from memory when
/// it was looked up before, else like [`get`] (and then remembered). Unknown ids are not
/// remembered.
///
/// # Errors
/// `NotFound { entity: Entity::User }`, also for another org's user; storage errors.
pub async fn identity(state: &AppState, org_id: OrgId, user_id: UserId) -> Result<Arc<User>> {
    let cache = &state.user_identities.entries;
    if let Some(user) = cache.get(&(org_id, user_id)).await {
        return Ok(user);
    }
    let user = Arc::new(get(state, org_id, user_id).await?);
    cache.insert((org_id, user_id), user.clone()).await;
    Ok(user)
}

/// Raw input of `GET /v1/users`, validated by [`list`].
#[derive(Clone, Debug, Default)]
pub struct ListInput {
    /// Substring of account or display name; at most 255 bytes, without U+0000.
    pub q: Option<String>,
    /// Exact platform.
    pub platform: Option<String>,
    /// Page size, 1–200, default 50.
    pub limit: Option<u32>,
    /// Opaque cursor from a previous page.
    pub cursor: Option<String>,
}

/// One page of the org's users, newest first.
///
/// # Errors
/// [`Error::Invalid`] naming `q` (over 255 bytes, or holding U+0000), `platform`, `limit` or
/// `cursor`; storage errors.
pub async fn list(state: &AppState, org_id: OrgId, input: ListInput) -> Result<Page<User>> {
    let mut v = Validation::default();
    let q = input.q.filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.len() > tessera_core::user::MAX_NAME_BYTES) {
        v.check::<()>(Err(Error::invalid("q", "must be at most 255 bytes")));
    } else if q.as_ref().is_some_and(|q| q.contains('\0')) {
        // No account or display name holds one, and PostgreSQL cannot take it as a parameter.
        v.check::<()>(Err(Error::invalid("q", "must not contain the character U+0000")));
    }
    let platform = v.check(input.platform.as_deref().map(Platform::parse).transpose());
    let page = v.check(PageRequest::parse(input.limit, input.cursor.as_deref()));
    let (platform, page) = v.finish((platform, page))?;
    state.store.list_users(org_id, &UserQuery { q, platform, page }).await
}

/// Raw input of `PATCH /v1/users/{id}`: outer `None` leaves a field as it is; a `display_name` of
/// `Some(None)` (JSON `null`) clears it.
#[derive(Clone, Debug, Default)]
pub struct PatchInput {
    /// New display name, or `Some(None)` to clear it.
    pub display_name: Option<Option<String>>,
    /// New metadata object (replaces the stored one).
    pub metadata: Option<serde_json::Value>,
}

/// Updates the org's user.
///
/// # Errors
/// [`Error::Invalid`] naming `display_name` or `metadata`; `NotFound { entity: Entity::User }`; storage errors.
pub async fn patch(
    state: &AppState,
    org_id: OrgId,
    user_id: UserId,
    input: PatchInput,
    audit: &AuditContext,
) -> Result<User> {
    let mut v = Validation::default();
    let display_name = match input.display_name {
        None => Some(None),
        Some(None) => Some(Some(None)),
        Some(Some(name)) => v.check(validate_display_name(Some(&name))).map(Some),
    };
    let metadata = v.check(input.metadata.map(Metadata::parse).transpose());
    let (display_name, metadata) = v.finish((display_name, metadata))?;
    state.store.update_user(org_id, user_id, &UserPatch { display_name, metadata, now: now() }, audit).await
}

/// Deletes the org's user and its tokens (which then fail introspection). Returns how many tokens went.
///
/// # Errors
/// `NotFound { entity: Entity::User }`; storage errors.
pub async fn delete(state: &AppState, org_id: OrgId, user_id: UserId, audit: &AuditContext) -> Result<u64> {
    let deleted = state.store.delete_user(org_id, user_id, audit).await;
    // Introspection must not find the deleted tokens in memory either.
    state.token_rows.forget_all();
    deleted
}
