//! `generate_key`: the "Generate key" form.

use leptos::prelude::*;

use super::GeneratedKey;
use crate::error::AppError;

/// Lifetimes offered by the form, in days; empty means "never expires".
pub const EXPIRY_CHOICES: [(&str, &str); 5] =
    [("", "Never"), ("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")];

/// Generates an API key named `name` that expires after `expires_in_days` days (empty: never;
/// 1–3650) and returns it once. Needs the admin role and JavaScript (the key is shown in a
/// dialog; a plain form post would create a key nobody sees, so it is refused).
///
/// # Errors
/// [`AppError::Invalid`] on `name` or `expires_in_days`; [`AppError::Forbidden`] for a viewer,
/// a cross-site request or a plain form post; [`AppError::SignedOut`].
#[server(prefix = "/_fn", endpoint = "generate_key")]
pub async fn generate_key(name: String, #[server(default)] expires_in_days: String) -> Result<GeneratedKey, AppError> {
    use crate::server_fns::context;
    use tessera_api::services::{self, api_keys};
    use tessera_core::{FieldError, Role};

    let result = async {
        let member = context::js_change_by(
            Role::Admin,
            "generating a key needs JavaScript: the key is shown once, in a dialog",
        )
        .await?;
        let days = match expires_in_days.trim() {
            "" => None,
            d => match d.parse::<i64>() {
                Ok(n) if (1..=3650).contains(&n) => Some(n),
                _ => {
                    return Err(AppError::Invalid(vec![FieldError::new(
                        "expires_in_days",
                        "must be a number of days from 1 to 3650, or empty for never",
                    )]))
                }
            },
        };
        let expires_at = days.map(|d| services::now() + time::Duration::days(d));
        let state = context::state()?;
        let created = api_keys::create(&state, member.org.id, &name, Some(member.member_id), expires_at, &context::audit(&member))
            .await?;
        tracing::info!(org_id = %member.org.id, key_id = %created.key.id, prefix = %created.key.prefix, "API key generated in the dashboard");
        Ok(GeneratedKey { name: created.key.name, prefix: created.key.prefix, secret: created.secret.expose().to_owned() })
    }
    .await;
    context::finish(result, None, "/keys")
}
