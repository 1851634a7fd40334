//! `revoke_token`: the confirmation dialog of one token.

use leptos::prelude::*;

use crate::error::AppError;

/// Revokes the org's token `token_id` (the next introspection reports it inactive) and redirects
/// to its user's page. `user_id` (the page the form is on) only says where a plain form post's
/// error is shown. Needs the admin role. Revoking a revoked token is not an error.
///
/// # Errors
/// [`AppError::NotFound`] if the org has no such token; [`AppError::Forbidden`] for a viewer or a
/// cross-site request; [`AppError::SignedOut`].
#[server(prefix = "/_fn", endpoint = "revoke_token")]
pub async fn revoke_token(user_id: String, token_id: String) -> Result<(), AppError> {
    use crate::server_fns::{context, parse_id};
    use tessera_api::services::tokens;
    use tessera_core::{Role, UserId, UserTokenId};

    let mut done_to = None;
    let result = async {
        let member = context::change_by(Role::Admin).await?;
        let token_id = parse_id::<UserTokenId>(&token_id, "user token")?;
        let token = tokens::revoke(&context::state()?, member.org.id, token_id, &context::audit(&member)).await?;
        tracing::info!(org_id = %member.org.id, token_id = %token.id, "user token revoked in the dashboard");
        done_to = Some(format!("/users/{}", token.user_id));
        Ok(())
    }
    .await;
    let back = match (parse_id::<UserId>(&user_id, "user"), parse_id::<UserTokenId>(&token_id, "user token")) {
        (Ok(user), Ok(token)) => format!("/users/{user}?revoke={token}"),
        (Ok(user), Err(_)) => format!("/users/{user}"),
        _ => "/users".to_owned(),
    };
    context::finish(result, done_to.as_deref(), &back)
}
