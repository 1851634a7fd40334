//! `list_members`: the members table.

use leptos::prelude::*;

use super::MemberList;
use crate::error::AppError;

/// The org's members, oldest first. Any member may read it.
///
/// # Errors
/// [`AppError::SignedOut`] without a session.
#[server(prefix = "/_fn", endpoint = "list_members")]
pub async fn list_members() -> Result<MemberList, AppError> {
    use super::MemberRow;
    use crate::server_fns::{context, format_time};
    use tessera_api::services::members;
    use tessera_core::Role;

    let me = context::require(Role::Viewer).await?;
    let members = members::list(&context::state()?, me.org.id)
        .await?
        .into_iter()
        .map(|m| MemberRow {
            id: m.id.to_string(),
            is_you: m.id == me.member_id,
            email: m.email.as_str().to_owned(),
            role: m.role,
            added: format_time(m.created_at),
        })
        .collect();
    Ok(MemberList { members, can_manage: me.role.at_least(Role::Owner) })
}
