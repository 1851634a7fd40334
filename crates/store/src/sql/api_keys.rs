//! [`ApiKeyStore`]: API keys, their SQL, row type and method bodies. Only the SHA-256 of a key
//! is stored.
//!
//! Compiled once per backend (see the crate docs).

use async_trait::async_trait;
use tessera_core::{
    ApiKey, ApiKeyHash, ApiKeyId, ApiKeyStore, AuditContext, AuditRecord, Entity, Error, MemberId, NewApiKey, OrgId,
    Result, Timestamp,
};
use uuid::Uuid;

use super::audit::append;
use super::Backend;
use crate::convert::{conflict_or_storage, micros, micros_opt, storage, timestamp, timestamp_opt};

macro_rules! api_key_columns {
    () => {
        "id, org_id, name, prefix, created_by, created_at, last_used_at, expires_at, revoked_at"
    };
}

/// `$1` id, `$2` org_id, `$3` name, `$4` hash, `$5` prefix, `$6` created_by, `$7` created_at,
/// `$8` expires_at.
const INSERT_API_KEY: &str = concat!(
    "insert into api_key (id, org_id, name, hash, prefix, created_by, created_at, expires_at) ",
    "values ($1, $2, $3, $4, $5, $6, $7, $8) returning ",
    api_key_columns!()
);

/// `$1` hash. Deliberately not scoped by org: this lookup is how a request's org is found.
const API_KEY_BY_HASH: &str = concat!("select ", api_key_columns!(), " from api_key where hash = $1");

/// `$1` org_id. Newest first.
const LIST_API_KEYS: &str =
    concat!("select ", api_key_columns!(), " from api_key where org_id = $1 order by created_at desc, id desc");

/// `$1` org_id, `$2` prefix, `$3` at. `coalesce` keeps the first revocation time.
const REVOKE_API_KEY: &str = concat!(
    "update api_key set revoked_at = coalesce(revoked_at, $3) where org_id = $1 and prefix = $2 returning ",
    api_key_columns!()
);

/// `$1` org_id, `$2` id, `$3` at. Never moves `last_used_at` backwards: several server instances
/// may touch the same key and their writes can arrive out of order.
const TOUCH_API_KEY: &str = "update api_key set last_used_at = \
     case when last_used_at is null or last_used_at < $3 then $3 else last_used_at end \
     where org_id = $1 and id = $2";

#[async_trait]
impl ApiKeyStore for Backend {
    async fn create_api_key(&self, org_id: OrgId, new: &NewApiKey, audit: &AuditContext) -> Result<ApiKey> {
        let mut tx = self.begin_write().await.map_err(storage)?;
        // A duplicate hash would be the same 190-bit secret drawn twice; like a taken prefix,
        // the remedy is to draw a new key, so both map to the same code.
        let key = sqlx::query_as::<_, ApiKeyRow>(INSERT_API_KEY)
            .bind(new.id.0)
            .bind(org_id.0)
            .bind(&new.name)
            .bind(&new.hash.0[..])
            .bind(&new.prefix)
            .bind(new.created_by.map(|m| m.0))
            .bind(micros(new.created_at))
            .bind(micros_opt(new.expires_at))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| conflict_or_storage(e, "api_key_prefix_taken", "the org already has a key with this prefix"))?
            .into_api_key()?;
        append(&mut tx, org_id, audit, AuditRecord::api_key_created(&key)).await?;
        tx.commit().await.map_err(storage)?;
        Ok(key)
    }

    async fn api_key_by_hash(&self, hash: &ApiKeyHash) -> Result<Option<ApiKey>> {
        let row = sqlx::query_as::<_, ApiKeyRow>(API_KEY_BY_HASH)
            .bind(&hash.0[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(storage)?;
        row.map(ApiKeyRow::into_api_key).transpose()
    }

    async fn list_api_keys(&self, org_id: OrgId) -> Result<Vec<ApiKey>> {
        sqlx::query_as::<_, ApiKeyRow>(LIST_API_KEYS)
            .bind(org_id.0)
            .fetch_all(&self.pool)
            .await
            .map_err(storage)?
            .into_iter()
            .map(ApiKeyRow::into_api_key)
            .collect()
    }

    async fn revoke_api_key(&self, org_id: OrgId, prefix: &str, at: Timestamp, audit: &AuditContext) -> Result<ApiKey> {
        let revoked = async {
            let mut tx = self.begin_write().await.map_err(storage)?;
            let key = sqlx::query_as::<_, ApiKeyRow>(REVOKE_API_KEY)
                .bind(org_id.0)
                .bind(prefix)
                .bind(micros(at))
                .fetch_optional(&mut *tx)
                .await
                .map_err(storage)?
                .ok_or(Error::not_found(Entity::ApiKey))?
                .into_api_key()?;
            // Revoked by this call (not before): `coalesce` kept an earlier time otherwise.
            if key.revoked_at.map(micros) == Some(micros(at)) {
                append(&mut tx, org_id, audit, AuditRecord::api_key_revoked(&key)).await?;
            }
            tx.commit().await.map_err(storage)?;
            Ok(key)
        }
        .await;
        // Whatever the outcome (a failed commit may still have committed), caches must drop it.
        self.announce_revocation();
        revoked
    }

    async fn touch_api_key(&self, org_id: OrgId, key_id: ApiKeyId, at: Timestamp) -> Result<()> {
        let done = sqlx::query(TOUCH_API_KEY)
            .bind(org_id.0)
            .bind(key_id.0)
            .bind(micros(at))
            .execute(&self.pool)
            .await
            .map_err(storage)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(Entity::ApiKey));
        }
        Ok(())
    }
}

/// An `api_key` row, without the hash (nothing outside the lookup needs it).
#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: Uuid,
    org_id: Uuid,
    name: String,
    prefix: String,
    created_by: Option<Uuid>,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl ApiKeyRow {
    /// The domain API key.
    ///
    /// # Errors
    /// [`Error::Internal`] if a stored time is out of range.
    fn into_api_key(self) -> Result<ApiKey> {
        Ok(ApiKey {
            id: ApiKeyId(self.id),
            org_id: OrgId(self.org_id),
            name: self.name,
            prefix: self.prefix,
            created_by: self.created_by.map(MemberId),
            created_at: timestamp(self.created_at)?,
            last_used_at: timestamp_opt(self.last_used_at)?,
            expires_at: timestamp_opt(self.expires_at)?,
            revoked_at: timestamp_opt(self.revoked_at)?,
        })
    }
}
