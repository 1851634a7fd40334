//! End users: create-or-update by `(platform, account)`, and lookup.

use tessera_core::{
    error::Validation, user::validate_display_name, Account, Error, Metadata, OrgId, Platform, Result, User, UserId,
    UserUpsert,
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
    v.finish()?;
    let (Some(account), Some(platform), Some(display_name), Some(metadata)) =
        (account, platform, display_name, metadata)
    else {
        unreachable!("finish() returned Ok")
    };
    let upsert = UserUpsert { id: UserId(Uuid::now_v7()), account, platform, display_name, metadata, now: now() };
    state.store.upsert_user(org_id, &upsert).await
}

/// The org's user with this id.
///
/// # Errors
/// `NotFound { entity: "user" }`, also for another org's user; storage errors.
pub async fn get(state: &AppState, org_id: OrgId, user_id: UserId) -> Result<User> {
    state.store.user_by_id(org_id, user_id).await?.ok_or(Error::not_found("user"))
}
