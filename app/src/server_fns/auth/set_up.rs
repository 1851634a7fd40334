//! `set_up`: the first-run form (creates the org and its owner, then signs the owner in).

use leptos::prelude::*;

use crate::error::AppError;

/// Creates the first org (`org_name`, `slug`) and its owner (`email`, `password`, at least 12
/// characters), signs the owner in (session cookie) and redirects to `/`.
///
/// # Errors
/// [`AppError::Invalid`] naming each bad field; [`AppError::Conflict`] once an org exists;
/// [`AppError::Forbidden`] for a cross-site request.
#[server(prefix = "/_fn", endpoint = "set_up")]
pub async fn set_up(org_name: String, slug: String, email: String, password: String) -> Result<(), AppError> {
    use crate::server_fns::context;
    use secrecy::SecretString;
    use tessera_api::{member_auth, services};

    let result = async {
        context::check_origin()?;
        let state = context::state()?;
        let password = SecretString::from(password);
        // The store records the new owner as the actor of the setup's events.
        let setup = context::audit_as(tessera_core::Actor::system("setup"));
        let (org, owner) = services::setup::first_run(&state, &org_name, &slug, &email, password, &setup).await?;
        let signed_in = context::audit_as(tessera_core::Actor::member(&owner));
        let (token, _) = services::sessions::start(&state, &owner, &signed_in).await?;
        context::set_cookie(member_auth::session_cookie(&token, context::secure_cookies()));
        tracing::info!(org_id = %org.id, member_id = %owner.id, "first-run setup created the organization");
        Ok(())
    }
    .await;
    context::finish(result, Some("/"), "/setup")
}
