//! `issue_token`: the "Issue token" form of the user page.

use leptos::prelude::*;

use super::IssuedToken;
use crate::error::AppError;

/// Lifetimes offered by the form: `(value, label)`; the value is seconds, or `permanent`.
pub const LIFETIME_CHOICES: [(&str, &str); 4] =
    [("3600", "1 hour"), ("86400", "1 day"), ("2592000", "30 days"), ("permanent", "Permanent")];

/// Issues a token for the org's user `user_id` that lives `lifetime` (a value of
/// [`LIFETIME_CHOICES`]: seconds, or `permanent` for no expiry), recorded as issued by the
/// signed-in member, and returns its JWT once. Needs the admin role and JavaScript (the token is
/// shown once, in a dialog; a plain form post would issue a token nobody sees, so it is refused).
///
/// # Errors
/// [`AppError::NotFound`] for an unknown user; [`AppError::Invalid`] on `lifetime`;
/// [`AppError::Forbidden`] for a viewer, a cross-site request or a plain form post;
/// [`AppError::SignedOut`].
#[server(prefix = "/_fn", endpoint = "issue_token")]
pub async fn issue_token(user_id: String, lifetime: String) -> Result<IssuedToken, AppError> {
    use crate::server_fns::{context, format_time, parse_id};
    use tessera_api::services::{
        tokens::{self, Lifetime},
        users,
    };
    use tessera_core::{FieldError, IssuedBy, Role, UserId};

    let user = parse_id::<UserId>(&user_id, "user");
    let result = async {
        let member = context::js_change_by(
            Role::Admin,
            "issuing a token needs JavaScript: the token is shown once, in a dialog",
        )
        .await?;
        let lifetime = match lifetime.as_str() {
            "permanent" => Lifetime::Permanent,
            s => match LIFETIME_CHOICES.iter().find(|(value, _)| *value == s) {
                Some((value, _)) => Lifetime::Seconds(value.parse().expect("choices are numbers")),
                None => {
                    return Err(AppError::Invalid(vec![FieldError::new(
                        "lifetime",
                        "must be one of 1 hour, 1 day, 30 days or permanent",
                    )]))
                }
            },
        };
        let state = context::state()?;
        let user = users::get(&state, member.org.id, user.clone()?).await?;
        let issued = tokens::issue(&state, &member.org, &user, lifetime, Some(IssuedBy::Member(member.member_id))).await?;
        tracing::info!(org_id = %member.org.id, user_id = %user.id, token_id = %issued.token.id, "user token issued in the dashboard");
        Ok(IssuedToken {
            id: issued.token.id.to_string(),
            jwt: issued.jwt,
            expires: issued.token.expires_at.map(format_time),
        })
    }
    .await;
    let back = match &user {
        Ok(id) => format!("/users/{id}"),
        Err(_) => "/users".to_owned(),
    };
    context::finish(result, None, &back)
}
