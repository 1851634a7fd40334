//! `change_member_role`: the role form of one row of the members table.

use leptos::prelude::*;

use crate::error::AppError;

/// Gives the org's member `member_id` the role `role` (`viewer`, `admin` or `owner`; it applies
/// to their next request) and redirects to `/members`. Needs the owner role. After a failed plain
/// form post the error comes back as `/members?member=<id>&error=…`, shown on that row.
///
/// # Errors
/// [`AppError::Conflict`] when demoting the org's last owner; [`AppError::NotFound`] for an
/// unknown member; [`AppError::Invalid`] on `role`; [`AppError::Forbidden`] for an admin, a
/// viewer or a cross-site request; [`AppError::SignedOut`].
#[server(prefix = "/_fn", endpoint = "change_member_role")]
pub async fn change_member_role(member_id: String, role: String) -> Result<(), AppError> {
    use crate::server_fns::{context, parse_id};
    use tessera_api::services::members;
    use tessera_core::{MemberId, Role};

    let id = parse_id::<MemberId>(&member_id, "member");
    let result = async {
        let me = context::change_by(Role::Owner).await?;
        let role: Role = role.parse()?;
        let changed = members::change_role(&context::state()?, me.org.id, id.clone()?, role, &context::audit(&me)).await?;
        tracing::info!(org_id = %me.org.id, member_id = %changed.id, role = %changed.role, "member role changed in the dashboard");
        Ok(())
    }
    .await;
    let back = match &id {
        Ok(id) => format!("/members?member={id}"),
        Err(_) => "/members".to_owned(),
    };
    context::finish(result, Some("/members"), &back)
}
