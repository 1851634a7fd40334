//! End users: create-or-update by `(platform, account)`, and lookup.

use tessera_core::{
    user::validate_display_name, Account, Error, Metadata, OrgId, Platform, Result, User, UserId, UserUpsert,
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
    let mut errors = Vec::new();
    let mut take = |r: Result<()>| {
        if let Err(Error::Invalid(mut e)) = r {
            errors.append(&mut e);
        }
    };
    let account = Account::parse(&input.account);
    let platform = input.platform.as_deref().map(Platform::parse).unwrap_or_else(|| Ok(Platform::default()));
    let display_name = validate_display_name(input.display_name.as_deref());
    let metadata = input.metadata.map(Metadata::parse).transpose();
    let (account, platform, display_name, metadata) = match (account, platform, display_name, metadata) {
        (Ok(a), Ok(p), Ok(d), Ok(m)) => (a, p, d, m),
        (a, p, d, m) => {
            take(a.map(drop));
            take(p.map(drop));
            take(d.map(drop));
            take(m.map(drop));
            return Err(Error::Invalid(errors));
        }
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
