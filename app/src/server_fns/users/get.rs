//! `get_user`: the user page.

use leptos::prelude::*;

use super::UserDetail;
use crate::error::AppError;

/// The org's user `id` with one page of their tokens (newest first; `tokens_cursor` empty for the
/// first page), each with who issued it. Any member may read it.
///
/// # Errors
/// [`AppError::NotFound`] for an id that is not a UUID or not a user of the member's org (the
/// HTTP status is then 404, also for the page that asked); [`AppError::Invalid`] on
/// `tokens_cursor`; [`AppError::SignedOut`].
#[server(prefix = "/_fn", endpoint = "get_user")]
pub async fn get_user(id: String, #[server(default)] tokens_cursor: String) -> Result<UserDetail, AppError> {
    use super::TokenRow;
    use crate::server_fns::{context, format_time, parse_id};
    use std::collections::HashMap;
    use tessera_api::services::{self, tokens, users};
    use tessera_core::{IssuedBy, PageRequest, Role, TokenQuery, TokenStatus, UserId};

    /// Tokens per page on the user page.
    const TOKENS_PER_PAGE: u32 = 50;

    let result = async {
        let member = context::require(Role::Viewer).await?;
        let state = context::state()?;
        let org_id = member.org.id;
        let user = users::get(&state, org_id, parse_id::<UserId>(&id, "user")?).await?;
        let cursor = Some(tokens_cursor.trim()).filter(|c| !c.is_empty());
        let page = PageRequest::parse(Some(TOKENS_PER_PAGE), cursor)?;
        let list = tokens::list(&state, org_id, user.id, &TokenQuery { status: None, page }).await?;
        let active = TokenQuery { status: Some(TokenStatus::Active), page: PageRequest::parse(Some(1), None)? };
        let has_active = !tokens::list(&state, org_id, user.id, &active).await?.data.is_empty();

        // Names for the "Issued by" column: a handful of rows each, read once per page.
        let keys: HashMap<_, _> = services::api_keys::list(&state, org_id)
            .await?
            .into_iter()
            .map(|k| (k.id, format!("API key {} (tsk_{}…)", k.name, k.prefix)))
            .collect();
        let members: HashMap<_, _> = services::members::list(&state, org_id)
            .await?
            .into_iter()
            .map(|m| (m.id, m.email.as_str().to_owned()))
            .collect();
        let now = services::now();
        let tokens = list
            .data
            .into_iter()
            .map(|t| TokenRow {
                id: t.id.to_string(),
                status: t.status(now),
                issued: format_time(t.issued_at),
                expires: t.expires_at.map(format_time),
                revoked: t.revoked_at.map(format_time),
                issued_by: match t.issued_by {
                    Some(IssuedBy::ApiKey(k)) => keys.get(&k).cloned(),
                    Some(IssuedBy::Member(m)) => members.get(&m).cloned(),
                    None => None,
                },
                is_default: t.is_default,
            })
            .collect();
        let metadata = serde_json::to_string_pretty(&serde_json::Value::from(user.metadata)).map_err(|e| {
            tracing::error!(error = %e, "dashboard: metadata did not serialize");
            AppError::Internal
        })?;
        Ok(UserDetail {
            id: user.id.to_string(),
            account: user.account.to_string(),
            platform: user.platform.to_string(),
            display_name: user.display_name,
            metadata,
            created: format_time(user.created_at),
            updated: format_time(user.updated_at),
            tokens,
            next_tokens_cursor: list.next_cursor,
            has_active,
            can_manage: member.role.at_least(Role::Admin),
        })
    }
    .await;
    if let Err(e @ AppError::NotFound(_)) = &result {
        context::set_status(e);
    }
    result
}
