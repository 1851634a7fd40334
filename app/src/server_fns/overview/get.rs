//! `get_overview`.

use leptos::prelude::*;

use super::OverviewData;
use crate::error::AppError;

/// The signed-in member's org overview. Any member may read it.
///
/// # Errors
/// [`AppError::SignedOut`] without a session.
#[server(prefix = "/_fn", endpoint = "overview")]
pub async fn get_overview() -> Result<OverviewData, AppError> {
    use crate::server_fns::context;
    use tessera_api::services::overview;
    use tessera_core::Role;

    let member = context::require(Role::Viewer).await?;
    let o = overview::get(&context::state()?, member.org.id).await?;
    Ok(OverviewData {
        users: o.counts.users,
        active_tokens: o.counts.active_tokens,
        active_api_keys: o.counts.active_api_keys,
        tokens_per_day: o
            .tokens_per_day
            .into_iter()
            .map(|(day, n)| (format!("{} {}", &day.month().to_string()[..3], day.day()), n))
            .collect(),
    })
}
