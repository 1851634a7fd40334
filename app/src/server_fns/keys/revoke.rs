//! `revoke_key`: the confirmation dialog's form.

use leptos::prelude::*;

use crate::error::AppError;

/// Revokes the org's key with display prefix `prefix` (takes effect on the key's next request)
/// and redirects to `/keys`. Needs the admin role. Revoking a revoked key is not an error.
///
/// # Errors
/// [`AppError::NotFound`] if the org has no such key; [`AppError::Invalid`] on `prefix`;
/// [`AppError::Forbidden`] for a viewer or a cross-site request; [`AppError::SignedOut`].
#[server(prefix = "/_fn", endpoint = "revoke_key")]
pub async fn revoke_key(prefix: String) -> Result<(), AppError> {
    use crate::server_fns::context;
    use tessera_api::services::api_keys;
    use tessera_core::Role;

    let result = async {
        let member = context::change_by(Role::Admin).await?;
        let key = api_keys::revoke(&context::state()?, member.org.id, &prefix, &context::audit(&member)).await?;
        tracing::info!(org_id = %member.org.id, key_id = %key.id, prefix = %key.prefix, "API key revoked in the dashboard");
        Ok(())
    }
    .await;
    let back =
        format!("/keys?revoke={}", percent_encoding::utf8_percent_encode(&prefix, percent_encoding::NON_ALPHANUMERIC));
    context::finish(result, Some("/keys"), &back)
}
