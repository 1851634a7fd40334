//! The bodies of the idempotency-key methods of `Store`, expanded for both backends like
//! [`crate::store_impl`]; a macro of their own, like [`crate::user_ops`], to keep `store_impl.rs`
//! a readable size. It adds inherent `…_impl` methods that the `impl Store` block delegates to.

/// Adds inherent `claim_idempotency_key_impl`, `complete_idempotency_key_impl`,
/// `release_idempotency_key_impl` and `purge_idempotency_keys_impl` methods to `$ty`, a struct
/// with a `pool: sqlx::Pool<_>` field and an inherent `begin_write` method (see
/// [`crate::store_impl::impl_store`]).
macro_rules! impl_idempotency_ops {
    ($ty:ty) => {
        // An anonymous const scopes these imports to the expansion.
        const _: () = {
            use tessera_core::{Error, IdempotencyClaim, OrgId, Result, StoredResponse, Timestamp};

            use $crate::convert::{micros, storage};
            use $crate::idempotency::{self, IdempotencyKeyRow};

            impl $ty {
                /// See `Store::claim_idempotency_key`.
                pub(crate) async fn claim_idempotency_key_impl(
                    &self,
                    org_id: OrgId,
                    key: &str,
                    fingerprint: &[u8; 32],
                    now: Timestamp,
                    not_before: Timestamp,
                ) -> Result<IdempotencyClaim> {
                    let mut tx = self.begin_write().await.map_err(storage)?;
                    let claimed: Option<(i64,)> = sqlx::query_as(idempotency::CLAIM_IDEMPOTENCY_KEY)
                        .bind(org_id.0)
                        .bind(key)
                        .bind(&fingerprint[..])
                        .bind(micros(now))
                        .bind(micros(not_before))
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(storage)?;
                    if claimed.is_some() {
                        tx.commit().await.map_err(storage)?;
                        return Ok(IdempotencyClaim::Claimed);
                    }
                    // The upsert found a live record and left it locked (see `idempotency`), so
                    // this read in the same transaction sees it.
                    let row = sqlx::query_as::<_, IdempotencyKeyRow>(idempotency::IDEMPOTENCY_KEY)
                        .bind(org_id.0)
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(storage)?
                        .ok_or_else(|| Error::Internal(format!("idempotency key {key:?} vanished while locked")))?;
                    tx.commit().await.map_err(storage)?;
                    Ok(IdempotencyClaim::Existing(row.into_record()?))
                }

                /// See `Store::complete_idempotency_key`.
                pub(crate) async fn complete_idempotency_key_impl(
                    &self,
                    org_id: OrgId,
                    key: &str,
                    response: &StoredResponse,
                ) -> Result<()> {
                    // One statement, so no transaction: only an in-flight row is updated.
                    let done = sqlx::query(idempotency::COMPLETE_IDEMPOTENCY_KEY)
                        .bind(org_id.0)
                        .bind(key)
                        .bind(i32::from(response.status))
                        .bind(&response.body[..])
                        .bind(response.user_token_id.map(|t| t.0))
                        .execute(&self.pool)
                        .await
                        .map_err(storage)?;
                    if done.rows_affected() == 0 {
                        return Err(Error::not_found("idempotency key"));
                    }
                    Ok(())
                }

                /// See `Store::release_idempotency_key`.
                pub(crate) async fn release_idempotency_key_impl(&self, org_id: OrgId, key: &str) -> Result<()> {
                    sqlx::query(idempotency::RELEASE_IDEMPOTENCY_KEY)
                        .bind(org_id.0)
                        .bind(key)
                        .execute(&self.pool)
                        .await
                        .map_err(storage)?;
                    Ok(())
                }

                /// See `Store::purge_idempotency_keys`.
                pub(crate) async fn purge_idempotency_keys_impl(&self, before: Timestamp) -> Result<u64> {
                    let done = sqlx::query(idempotency::PURGE_IDEMPOTENCY_KEYS)
                        .bind(micros(before))
                        .execute(&self.pool)
                        .await
                        .map_err(storage)?;
                    Ok(done.rows_affected())
                }
            }
        };
    };
}

pub(crate) use impl_idempotency_ops;
