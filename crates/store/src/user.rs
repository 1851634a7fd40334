//! End users (table `end_user`, since `user` is reserved in PostgreSQL): SQL text and row type.
//!
//! The upsert is two statements in one transaction: an insert that does nothing on a conflict of
//! `(org_id, platform, account)`, then, if nothing was inserted, an update of the existing row.
//! The unique constraint decides the race, so of two concurrent calls exactly one inserts.

use sqlx::types::Json;
use tessera_core::{Account, Error, Metadata, OrgId, Platform, Result, User, UserId};
use uuid::Uuid;

use crate::convert::timestamp;

macro_rules! user_columns {
    () => {
        "id, org_id, platform, account, display_name, metadata, created_at, updated_at"
    };
}

/// `$1` id, `$2` org_id, `$3` platform, `$4` account, `$5` display_name, `$6` metadata, `$7` now.
/// Returns no row if the user exists.
pub(crate) const INSERT_USER_IF_NEW: &str = concat!(
    "insert into end_user (id, org_id, platform, account, display_name, metadata, created_at, updated_at) ",
    "values ($1, $2, $3, $4, $5, $6, $7, $7) ",
    "on conflict (org_id, platform, account) do nothing returning ",
    user_columns!()
);

/// `$1` org_id, `$2` platform, `$3` account, `$4` display_name or NULL (keep), `$5` metadata or
/// NULL (keep), `$6` now. `updated_at` moves only if a given value differs from the stored one
/// (SET expressions see the old column values on both backends).
pub(crate) const UPDATE_USER_BY_IDENTITY: &str = concat!(
    "update end_user set ",
    "display_name = coalesce($4, display_name), ",
    "metadata = coalesce($5, metadata), ",
    "updated_at = case when ($4 is not null and $4 is distinct from display_name) ",
    "or ($5 is not null and $5 is distinct from metadata) then $6 else updated_at end ",
    "where org_id = $1 and platform = $2 and account = $3 returning ",
    user_columns!()
);

/// `$1` org_id, `$2` id.
pub(crate) const USER_BY_ID: &str = concat!("select ", user_columns!(), " from end_user where org_id = $1 and id = $2");

/// `$1` org_id, `$2` id. Used to tell "no such user" from "nothing to do" inside a transaction.
pub(crate) const USER_EXISTS: &str = "select id from end_user where org_id = $1 and id = $2";

/// An `end_user` row.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    org_id: Uuid,
    platform: String,
    account: String,
    display_name: Option<String>,
    metadata: Json<serde_json::Value>,
    created_at: i64,
    updated_at: i64,
}

impl UserRow {
    /// The domain user.
    ///
    /// # Errors
    /// [`Error::Internal`] if a stored field breaks the domain rules (a corrupted row).
    pub(crate) fn into_user(self) -> Result<User> {
        let corrupt = |what: &str| Error::Internal(format!("user {} has an invalid {what}", self.id));
        Ok(User {
            id: UserId(self.id),
            org_id: OrgId(self.org_id),
            account: Account::parse(&self.account).map_err(|_| corrupt("account"))?,
            platform: Platform::parse(&self.platform).map_err(|_| corrupt("platform"))?,
            display_name: self.display_name,
            metadata: Metadata::parse(self.metadata.0).map_err(|_| corrupt("metadata"))?,
            created_at: timestamp(self.created_at)?,
            updated_at: timestamp(self.updated_at)?,
        })
    }
}
