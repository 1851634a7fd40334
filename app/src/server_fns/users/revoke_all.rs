//! `revoke_all_tokens`: the "Revoke all" confirmation dialog.

use leptos::prelude::*;

use crate::error::AppError;

/// Revokes every token of the org's user `user_id` issued until now (including the permanent one
/// `GET /token` hands out; the next call there issues a new one) and redirects to the user's
/// page. Returns how many tokens were revoked. Needs the admin role.
///
/// # Errors
/// [`AppError::NotFound`] for an unknown user; [`AppError::Forbidden`] for a viewer or a
/// cross-site request; [`AppError::SignedOut`].
#[server(prefix = "/_fn", endpoint = "revoke_all_tokens")]
pub async fn revoke_all_tokens(user_id: String) -> Result<u64, AppError> {
    use crate::server_fns::{context, parse_id};
    use tessera_api::services::tokens;
    use tessera_core::{Role, UserId};

    let user = parse_id::<UserId>(&user_id, "user");
    let result = async {
        let member = context::change_by(Role::Admin).await?;
        let user = user.clone()?;
        let revoked =
            tokens::revoke_all(&context::state()?, member.org.id, user, None, &context::audit(&member)).await?;
        tracing::info!(org_id = %member.org.id, user_id = %user, revoked, "all user tokens revoked in the dashboard");
        Ok(revoked)
    }
    .await;
    let (done, back) = match &user {
        Ok(id) => (format!("/users/{id}"), format!("/users/{id}?revoke_all=1")),
        Err(_) => ("/users".to_owned(), "/users".to_owned()),
    };
    context::finish(result, Some(&done), &back)
}
