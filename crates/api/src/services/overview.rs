//! The dashboard's overview: an org's counts and its tokens issued per day.

use tessera_core::{OrgCounts, OrgId, Result};
use time::{Date, Duration};

use super::now;
use crate::AppState;

/// Days shown by the overview's chart: 30, today included.
pub const CHART_DAYS: u32 = 30;

/// What the overview shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overview {
    /// Users, live tokens, usable API keys, right now.
    pub counts: OrgCounts,
    /// Tokens issued on each of the last [`CHART_DAYS`] UTC days, oldest first, today last.
    pub tokens_per_day: Vec<(Date, u64)>,
}

/// The org's overview at this instant.
///
/// # Errors
/// Storage errors.
pub async fn get(state: &AppState, org_id: OrgId) -> Result<Overview> {
    let now = now();
    let counts = state.store.org_counts(org_id, now).await?;
    let first_day = now.date() - Duration::days(i64::from(CHART_DAYS) - 1);
    let since = first_day.midnight().assume_utc();
    let per_day = state.store.tokens_issued_per_day(org_id, since, CHART_DAYS).await?;
    let tokens_per_day =
        per_day.into_iter().enumerate().map(|(i, n)| (first_day + Duration::days(i as i64), n)).collect();
    Ok(Overview { counts, tokens_per_day })
}
