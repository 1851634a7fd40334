//! `add_member`: the "Add member" form.

use leptos::prelude::*;

use crate::error::AppError;

/// Adds a member with `email`, `role` (`viewer`, `admin` or `owner`) and the initial `password`
/// (at least 12 characters; the new member signs in with it), then redirects to `/members`.
/// Needs the owner role.
///
/// # Errors
/// [`AppError::Invalid`] naming `email`, `role` or `password`; [`AppError::Conflict`] if the
/// email is already a member; [`AppError::Forbidden`] for an admin, a viewer or a cross-site
/// request; [`AppError::SignedOut`].
#[server(prefix = "/_fn", endpoint = "add_member")]
pub async fn add_member(email: String, role: String, password: String) -> Result<(), AppError> {
    use crate::server_fns::context;
    use secrecy::SecretString;
    use tessera_api::services::members;
    use tessera_core::Role;

    let result = async {
        let me = context::change_by(Role::Owner).await?;
        let role: Role = role.parse()?;
        let added = members::add(
            &context::state()?,
            me.org.id,
            &email,
            role,
            SecretString::from(password),
            &context::audit(&me),
        )
        .await?;
        tracing::info!(org_id = %me.org.id, member_id = %added.id, role = %added.role, "member added in the dashboard");
        Ok(())
    }
    .await;
    context::finish(result, Some("/members"), "/members")
}
