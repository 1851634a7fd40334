//! `remove_member`: the confirmation dialog of removing a member.

use leptos::prelude::*;

use crate::error::AppError;

/// Removes the org's member `member_id` and ends their sessions, then redirects to `/members`
/// (a member who removed themselves lands on the sign-in page from there). Keys they generated
/// and tokens they issued keep working. Needs the owner role.
///
/// # Errors
/// [`AppError::Conflict`] for the org's last owner; [`AppError::NotFound`] for an unknown member;
/// [`AppError::Forbidden`] for an admin, a viewer or a cross-site request; [`AppError::SignedOut`].
#[server(prefix = "/_fn", endpoint = "remove_member")]
pub async fn remove_member(member_id: String) -> Result<(), AppError> {
    use crate::server_fns::{context, parse_id};
    use tessera_api::services::members;
    use tessera_core::{MemberId, Role};

    let id = parse_id::<MemberId>(&member_id, "member");
    let result = async {
        let me = context::change_by(Role::Owner).await?;
        let id = id.clone()?;
        members::remove(&context::state()?, me.org.id, id, &context::audit(&me)).await?;
        tracing::info!(org_id = %me.org.id, member_id = %id, "member removed in the dashboard");
        Ok(())
    }
    .await;
    let back = match &id {
        Ok(id) => format!("/members?remove={id}"),
        Err(_) => "/members".to_owned(),
    };
    context::finish(result, Some("/members"), &back)
}
