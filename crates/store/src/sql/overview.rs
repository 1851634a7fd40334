//! [`OverviewStore`]: the counts on the dashboard's overview page.
//!
//! Compiled once per backend (see the crate docs).

use async_trait::async_trait;
use tessera_core::{OrgCounts, OrgId, OverviewStore, Result, Timestamp};

use super::Backend;
use crate::convert::{micros, storage};

/// `$1` org_id, `$2` now.
const ORG_COUNTS: &str = "select \
     (select count(*) from end_user where org_id = $1) as users, \
     (select count(*) from user_token where org_id = $1 and revoked_at is null \
        and (expires_at is null or expires_at > $2)) as active_tokens, \
     (select count(*) from api_key where org_id = $1 and revoked_at is null \
        and (expires_at is null or expires_at > $2)) as active_api_keys";

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400_000_000;

/// `$1` org_id, `$2` since, `$3` until (exclusive). Day index and count, for days with tokens.
const TOKENS_PER_DAY: &str = "select (issued_at - $2) / 86400000000 as day, count(*) as n \
     from user_token where org_id = $1 and issued_at >= $2 and issued_at < $3 group by 1";

/// A stored count as `u64` (a count is never negative).
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl OverviewStore for Backend {
    async fn org_counts(&self, org_id: OrgId, now: Timestamp) -> Result<OrgCounts> {
        let (users, active_tokens, active_api_keys): (i64, i64, i64) =
            sqlx::query_as(ORG_COUNTS).bind(org_id.0).bind(micros(now)).fetch_one(&self.pool).await.map_err(storage)?;
        Ok(OrgCounts {
            users: count(users),
            active_tokens: count(active_tokens),
            active_api_keys: count(active_api_keys),
        })
    }

    async fn tokens_issued_per_day(&self, org_id: OrgId, since: Timestamp, days: u32) -> Result<Vec<u64>> {
        let since = micros(since);
        let until = since.saturating_add(DAY_MICROS.saturating_mul(i64::from(days)));
        let rows: Vec<(i64, i64)> = sqlx::query_as(TOKENS_PER_DAY)
            .bind(org_id.0)
            .bind(since)
            .bind(until)
            .fetch_all(&self.pool)
            .await
            .map_err(storage)?;
        let mut per_day = vec![0u64; days as usize];
        for (day, n) in rows {
            if let Some(slot) = usize::try_from(day).ok().and_then(|d| per_day.get_mut(d)) {
                *slot = count(n);
            }
        }
        Ok(per_day)
    }
}
