//! `list_keys`: the keys table.

use leptos::prelude::*;

use super::KeyList;
use crate::error::AppError;

/// The org's API keys, newest first, with their creators' emails. Any member may read it.
///
/// # Errors
/// [`AppError::SignedOut`] without a session.
#[server(prefix = "/_fn", endpoint = "list_keys")]
pub async fn list_keys() -> Result<KeyList, AppError> {
    use super::{KeyRow, KeyStatus};
    use crate::server_fns::context;
    use crate::server_fns::format_time;
    use std::collections::HashMap;
    use tessera_api::services::{self, api_keys};
    use tessera_core::Role;

    let member = context::require(Role::Viewer).await?;
    let state = context::state()?;
    let emails: HashMap<_, _> = services::members::list(&state, member.org.id)
        .await?
        .into_iter()
        .map(|m| (m.id, m.email.as_str().to_owned()))
        .collect();
    let now = services::now();
    let keys = api_keys::list(&state, member.org.id)
        .await?
        .into_iter()
        .map(|k| KeyRow {
            status: if k.revoked_at.is_some() {
                KeyStatus::Revoked
            } else if k.is_usable(now) {
                KeyStatus::Active
            } else {
                KeyStatus::Expired
            },
            created_by: k.created_by.and_then(|id| emails.get(&id).cloned()),
            created: format_time(k.created_at),
            last_used: k.last_used_at.map(format_time),
            expires: k.expires_at.map(format_time),
            name: k.name,
            prefix: k.prefix,
        })
        .collect();
    Ok(KeyList { keys, can_manage: member.role.at_least(Role::Admin) })
}
