//! API keys: SQL text and row type. Only the SHA-256 of a key is stored.

use tessera_core::{ApiKey, ApiKeyId, Error, MemberId, OrgId, Result};
use uuid::Uuid;

use crate::convert::{timestamp, timestamp_opt};

macro_rules! api_key_columns {
    () => {
        "id, org_id, name, prefix, created_by, created_at, last_used_at, expires_at, revoked_at"
    };
}

/// `$1` id, `$2` org_id, `$3` name, `$4` hash, `$5` prefix, `$6` created_by, `$7` created_at,
/// `$8` expires_at.
pub(crate) const INSERT_API_KEY: &str = concat!(
    "insert into api_key (id, org_id, name, hash, prefix, created_by, created_at, expires_at) ",
    "values ($1, $2, $3, $4, $5, $6, $7, $8) returning ",
    api_key_columns!()
);

/// `$1` hash. Deliberately not scoped by org: this lookup is how a request's org is found.
pub(crate) const API_KEY_BY_HASH: &str = concat!("select ", api_key_columns!(), " from api_key where hash = $1");

/// `$1` org_id. Newest first.
pub(crate) const LIST_API_KEYS: &str =
    concat!("select ", api_key_columns!(), " from api_key where org_id = $1 order by created_at desc, id desc");

/// `$1` org_id, `$2` prefix, `$3` at. `coalesce` keeps the first revocation time.
pub(crate) const REVOKE_API_KEY: &str = concat!(
    "update api_key set revoked_at = coalesce(revoked_at, $3) where org_id = $1 and prefix = $2 returning ",
    api_key_columns!()
);

/// `$1` org_id, `$2` id, `$3` at. Never moves `last_used_at` backwards: several server instances
/// may touch the same key and their writes can arrive out of order.
pub(crate) const TOUCH_API_KEY: &str = "update api_key set last_used_at = \
     case when last_used_at is null or last_used_at < $3 then $3 else last_used_at end \
     where org_id = $1 and id = $2";

/// An `api_key` row, without the hash (nothing outside the lookup needs it).
#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
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
    pub(crate) fn into_api_key(self) -> Result<ApiKey, Error> {
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
