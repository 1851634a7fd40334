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
        if let Some(token) = context::session_cookie() {
            sessions::end(&context::state()?, &token).await?;
        }
        context::set_cookie(member_auth::clear_session_cookie(context::secure_cookies()));
        Ok(())
    }
    .await;
    context::finish(result, Some("/sign-in"), "/")
}
