//! `sign_out`: ends the session.

use leptos::prelude::*;

use crate::error::AppError;

/// Deletes the session row, clears the cookie and redirects to `/sign-in`. Signing out without
/// a session is not an error.
///
/// # Errors
/// [`AppError::Forbidden`] for a cross-site request.
#[server(prefix = "/_fn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server_fns::context;
    use tessera_api::{member_auth, services::sessions};

    let result = async {
        context::check_origin()?;
        // A session that is no longer live has no one to sign out (its row is purged later).
        if let (Some(token), Some(member)) = (context::session_cookie(), context::member().await?) {
            let actor = tessera_core::Actor {
                type_: tessera_core::ActorType::Member,
                id: Some(member.member_id.0),
                label: member.email.as_str().to_owned(),
            };
            sessions::end(&context::state()?, &token, &context::audit_as(actor)).await?;
        }
        context::set_cookie(member_auth::clear_session_cookie(context::secure_cookies()));
        Ok(())
    }
    .await;
    context::finish(result, Some("/sign-in"), "/")
}
