//! `list_users`: the users table.

use leptos::prelude::*;

use super::UserList;
use crate::error::AppError;

/// Users per page when the URL does not say (`?limit=`).
pub const PAGE_SIZE: u32 = 25;

/// One page of the org's users, newest first. All arguments come from the page's URL and may be
/// empty: `q` matches a substring of account or display name (case-insensitive), `platform` an
/// exact platform, `cursor` is a previous page's `next_cursor`, `limit` the page size (1–200,
/// default [`PAGE_SIZE`]). Any member may read it.
///
/// # Errors
/// [`AppError::Invalid`] naming `q`, `platform`, `cursor` or `limit`; [`AppError::SignedOut`].
#[server(prefix = "/_fn", endpoint = "list_users")]
pub async fn list_users(
    #[server(default)] q: String,
    #[server(default)] platform: String,
    #[server(default)] cursor: String,
    #[server(default)] limit: String,
) -> Result<UserList, AppError> {
    use super::UserRow;
    use crate::server_fns::{context, format_time};
    use tessera_api::services::users::{self, ListInput};
    use tessera_core::{FieldError, Role};

    let member = context::require(Role::Viewer).await?;
    let limit = match limit.trim() {
        "" => PAGE_SIZE,
        l => l
            .parse()
            .map_err(|_| AppError::Invalid(vec![FieldError::new("limit", "must be a number from 1 to 200")]))?,
    };
    let non_empty = |s: String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let input =
        ListInput { q: non_empty(q), platform: non_empty(platform), limit: Some(limit), cursor: non_empty(cursor) };
    let page = users::list(&context::state()?, member.org.id, input).await?;
    Ok(UserList {
        users: page
            .data
            .into_iter()
            .map(|u| UserRow {
                id: u.id.to_string(),
                account: u.account.to_string(),
                platform: u.platform.to_string(),
                display_name: u.display_name,
                created: format_time(u.created_at),
            })
            .collect(),
        next_cursor: page.next_cursor,
    })
}
