//! `list_audit_events`: the audit table.

use leptos::prelude::*;

use super::AuditList;
use crate::error::AppError;

/// Events per page when the URL does not say (`?limit=`).
pub const PAGE_SIZE: u32 = 50;

/// One page of the org's audit events, newest first. Every argument comes from the page's URL
/// and may be empty: `action` is an action or a family (`api_key.*`), `actor` an actor's email,
/// key prefix, id or CLI user, `since`/`until` dates (`2026-12-01`, both inclusive) or RFC 3339
/// times, `cursor` a previous page's `next_cursor`, `limit` the page size (1–200, default
/// [`PAGE_SIZE`]). Admins and owners may read it.
///
/// # Errors
/// [`AppError::Invalid`] naming the bad filter; [`AppError::Forbidden`] for a viewer;
/// [`AppError::SignedOut`].
#[server(prefix = "/_fn", endpoint = "list_audit_events")]
pub async fn list_audit_events(
    #[server(default)] action: String,
    #[server(default)] actor: String,
    #[server(default)] since: String,
    #[server(default)] until: String,
    #[server(default)] cursor: String,
    #[server(default)] limit: String,
) -> Result<AuditList, AppError> {
    use super::AuditRow;
    use crate::server_fns::{context, format_time};
    use tessera_api::services::audit::{self, ListInput};
    use tessera_core::{FieldError, Role};

    let member = context::require(Role::Admin).await?;
    let limit = match limit.trim() {
        "" => PAGE_SIZE,
        l => l
            .parse()
            .map_err(|_| AppError::Invalid(vec![FieldError::new("limit", "must be a number from 1 to 200")]))?,
    };
    let input = ListInput {
        action: Some(action),
        actor: Some(actor),
        target: None,
        since: Some(since),
        until: Some(until),
        limit: Some(limit),
        cursor: Some(cursor),
    };
    let page = audit::list(&context::state()?, member.org.id, input).await?;
    let events = page
        .data
        .into_iter()
        .map(|e| AuditRow {
            seq: e.seq,
            occurred: format_time(e.occurred_at),
            occurred_at: tessera_core::audit::format_time(e.occurred_at),
            actor_type: e.actor.type_.as_str().to_owned(),
            actor_label: e.actor.label,
            action: e.action,
            target_type: e.target.type_,
            target_id: e.target.id,
            ip: e.ip,
            user_agent: e.user_agent,
            request_id: e.request_id,
            changes: serde_json::to_string_pretty(&e.changes).unwrap_or_default(),
            hash: e.hash,
        })
        .collect();
    Ok(AuditList { events, next_cursor: page.next_cursor })
}
