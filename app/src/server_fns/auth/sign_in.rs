//! `sign_in`: the sign-in form.

use leptos::prelude::*;

use crate::error::AppError;

/// Signs a member in: sets the session cookie and redirects to `/`. `org` is the org's slug,
/// needed only when the server has several orgs (empty otherwise).
///
/// # Errors
/// [`AppError::WrongCredentials`] for a wrong email, password or org alike;
/// [`AppError::TooManyAttempts`] while throttled (429 with `Retry-After`); [`AppError::Busy`]
/// while the server verifies as many passwords as it can (503 with `Retry-After`);
/// [`AppError::Invalid`] on `org` when it is
/// needed; [`AppError::Forbidden`] for a cross-site request.
#[server(prefix = "/_fn", endpoint = "sign_in")]
pub async fn sign_in(#[server(default)] org: String, email: String, password: String) -> Result<(), AppError> {
    use crate::server_fns::context;
    use secrecy::SecretString;
    use tessera_api::{member_auth, services::sign_in::SignInError};

    let result = async {
        context::check_origin()?;
        let (state, guard) = (context::state()?, context::guard()?);
        let password = SecretString::from(password);
        let signed_in =
            tessera_api::services::sign_in::sign_in(&state, &guard, &org, &email, password, &context::request_info())
                .await
                .map_err(|e| match e {
                    SignInError::WrongCredentials => AppError::WrongCredentials,
                    SignInError::TooManyAttempts { retry_after_seconds } => {
                        AppError::TooManyAttempts(retry_after_seconds)
                    }
                    SignInError::Busy { retry_after_seconds } => AppError::Busy(retry_after_seconds),
                    SignInError::OrgRequired => AppError::Invalid(vec![tessera_core::FieldError::new(
                        "org",
                        "enter your organization's short name",
                    )]),
                    SignInError::NeedsSetup => AppError::Conflict("this server has no organization yet".into()),
                    SignInError::Failed(e) => e.into(),
                })?;
        context::set_cookie(member_auth::session_cookie(&signed_in.token, context::secure_cookies()));
        tracing::info!(org_id = %signed_in.member.org.id, member_id = %signed_in.member.member_id, "member signed in");
        Ok(())
    }
    .await;
    if matches!(result, Err(AppError::WrongCredentials | AppError::TooManyAttempts(_) | AppError::Busy(_))) {
        tracing::info!("sign-in refused");
    }
    context::finish(result, Some("/"), "/sign-in")
}
