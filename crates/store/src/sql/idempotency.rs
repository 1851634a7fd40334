//! [`IdempotencyStore`]: idempotency keys of `POST` requests (table `idempotency_key`), their
//! SQL, row type and method bodies.
//!
//! Compiled once per backend (see the crate docs).
//!
//! A claim is one upsert: insert the in-flight row, or on a clash of `(org_id, key)` overwrite the
//! existing row only if it is expired (created before `not_before`) or an in-flight row whose
//! lease ran out (no response, created before `lease_cutoff`). The primary key decides the
//! race between two claims of a fresh key, so exactly one inserts. When the upsert writes nothing,
//! the existing record is read in the same transaction, in which it cannot vanish: SQLite's
//! `BEGIN IMMEDIATE` excludes other writers, and PostgreSQL's `on conflict do update` locks the
//! conflicting row even when its `where` is false.

use async_trait::async_trait;
use tessera_core::{
    Entity, Error, IdempotencyClaim, IdempotencyRecord, IdempotencyStore, OrgId, Result, StoredResponse, Timestamp,
    UserTokenId,
};
use uuid::Uuid;

use super::Backend;
use crate::convert::{micros, storage, timestamp};

macro_rules! idempotency_key_columns {
    () => {
        "key, fingerprint, created_at, status, response_body, user_token_id"
    };
}

/// `$1` org_id, `$2` key, `$3` fingerprint, `$4` now, `$5` not_before, `$6` lease_cutoff. Returns
/// a row if the key was claimed (inserted, or an expired record or an in-flight one past its lease
/// replaced with its response cleared), none if a live record exists: a completed one created at
/// or after `not_before`, or an in-flight one created at or after both.
const CLAIM_IDEMPOTENCY_KEY: &str = "insert into idempotency_key (org_id, key, fingerprint, created_at) \
     values ($1, $2, $3, $4) \
     on conflict (org_id, key) do update set fingerprint = excluded.fingerprint, \
     created_at = excluded.created_at, status = null, response_body = null, user_token_id = null \
     where idempotency_key.created_at < $5 \
     or (idempotency_key.status is null and idempotency_key.created_at < $6) \
     returning created_at";

/// `$1` org_id, `$2` key.
const IDEMPOTENCY_KEY: &str =
    concat!("select ", idempotency_key_columns!(), " from idempotency_key where org_id = $1 and key = $2");

/// `$1` org_id, `$2` key, `$3` status, `$4` response_body, `$5` user_token_id. Only an in-flight
/// row matches, so a stored response is never overwritten.
const COMPLETE_IDEMPOTENCY_KEY: &str = "update idempotency_key \
     set status = $3, response_body = $4, user_token_id = $5 \
     where org_id = $1 and key = $2 and status is null";

/// `$1` org_id, `$2` key. Only an in-flight row: a completed one keeps replaying.
const RELEASE_IDEMPOTENCY_KEY: &str = "delete from idempotency_key where org_id = $1 and key = $2 and status is null";

/// `$1` before (exclusive). Across orgs, on the `created_at` index.
const PURGE_IDEMPOTENCY_KEYS: &str = "delete from idempotency_key where created_at < $1";

#[async_trait]
impl IdempotencyStore for Backend {
    async fn claim_idempotency_key(
        &self,
        org_id: OrgId,
        key: &str,
        fingerprint: &[u8; 32],
        now: Timestamp,
        not_before: Timestamp,
        lease_cutoff: Timestamp,
    ) -> Result<IdempotencyClaim> {
        let mut tx = self.begin_write().await.map_err(storage)?;
        let claimed: Option<(i64,)> = sqlx::query_as(CLAIM_IDEMPOTENCY_KEY)
            .bind(org_id.0)
            .bind(key)
            .bind(&fingerprint[..])
            .bind(micros(now))
            .bind(micros(not_before))
            .bind(micros(lease_cutoff))
            .fetch_optional(&mut *tx)
            .await
            .map_err(storage)?;
        if claimed.is_some() {
            tx.commit().await.map_err(storage)?;
            return Ok(IdempotencyClaim::Claimed);
        }
        // The upsert found a live record and left it locked (see `idempotency`), so
        // this read in the same transaction sees it.
        let row = sqlx::query_as::<_, IdempotencyKeyRow>(IDEMPOTENCY_KEY)
            .bind(org_id.0)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(storage)?
            .ok_or_else(|| Error::Internal(format!("idempotency key {key:?} vanished while locked")))?;
        tx.commit().await.map_err(storage)?;
        Ok(IdempotencyClaim::Existing(row.into_record()?))
    }

    async fn complete_idempotency_key(&self, org_id: OrgId, key: &str, response: &StoredResponse) -> Result<()> {
        // One statement, so no transaction: only an in-flight row is updated.
        let done = sqlx::query(COMPLETE_IDEMPOTENCY_KEY)
            .bind(org_id.0)
            .bind(key)
            .bind(i32::from(response.status))
            .bind(&response.body[..])
            .bind(response.user_token_id.map(|t| t.0))
            .execute(&self.pool)
            .await
            .map_err(storage)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(Entity::IdempotencyKey));
        }
        Ok(())
    }

    async fn release_idempotency_key(&self, org_id: OrgId, key: &str) -> Result<()> {
        sqlx::query(RELEASE_IDEMPOTENCY_KEY).bind(org_id.0).bind(key).execute(&self.pool).await.map_err(storage)?;
        Ok(())
    }

    async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64> {
        let done =
            sqlx::query(PURGE_IDEMPOTENCY_KEYS).bind(micros(before)).execute(&self.pool).await.map_err(storage)?;
        Ok(done.rows_affected())
    }
}

/// An `idempotency_key` row, without `org_id` (the caller's).
#[derive(sqlx::FromRow)]
struct IdempotencyKeyRow {
    key: String,
    fingerprint: Vec<u8>,
    created_at: i64,
    // `integer` is 32-bit on PostgreSQL; SQLite decodes its integers into i32 as well.
    status: Option<i32>,
    response_body: Option<Vec<u8>>,
    user_token_id: Option<Uuid>,
}

impl IdempotencyKeyRow {
    /// The domain record.
    ///
    /// # Errors
    /// [`Error::Internal`] if the row breaks the schema's checks (a fingerprint that is not 32
    /// bytes, a status without a body or out of range, a time out of range): only a corrupted or
    /// hand-edited row can.
    fn into_record(self) -> Result<IdempotencyRecord> {
        let corrupt = |what: &str| Error::Internal(format!("idempotency key {:?}: {what}", self.key));
        let fingerprint: [u8; 32] =
            self.fingerprint.as_slice().try_into().map_err(|_| corrupt("fingerprint is not 32 bytes"))?;
        let response = match (self.status, self.response_body) {
            (None, None) if self.user_token_id.is_none() => None,
            (Some(status), Some(body)) => Some(StoredResponse {
                status: u16::try_from(status).map_err(|_| corrupt("status out of range"))?,
                body,
                user_token_id: self.user_token_id.map(UserTokenId),
            }),
            _ => return Err(corrupt("response columns are only partly set")),
        };
        Ok(IdempotencyRecord { fingerprint, created_at: timestamp(self.created_at)?, response, key: self.key })
    }
}
