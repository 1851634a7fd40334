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

/// `$1` org_id, `$2` platform, `$3` account.
pub(crate) const USER_BY_IDENTITY: &str =
    concat!("select ", user_columns!(), " from end_user where org_id = $1 and platform = $2 and account = $3");

/// `$1` org_id, `$2` id.
pub(crate) const USER_BY_ID: &str = concat!("select ", user_columns!(), " from end_user where org_id = $1 and id = $2");

/// `$1` org_id, `$2` id. Used to tell "no such user" from "nothing to do" inside a transaction.
pub(crate) const USER_EXISTS: &str = "select id from end_user where org_id = $1 and id = $2";

/// [`USER_EXISTS`] that also locks the row against new token rows until the transaction ends, for
/// PostgreSQL (a token insert's foreign-key check needs a `for key share` lock, which waits for
/// `for update`). SQLite has no row locks nor `for update`; its `BEGIN IMMEDIATE` transaction
/// already excludes every other writer.
pub(crate) const LOCK_USER_FOR_DELETE: &str = "select id from end_user where org_id = $1 and id = $2 for update";

/// `$1` org_id, `$2` id, `$3` whether to set the display name, `$4` the display name to set
/// (NULL clears it), `$5` metadata or NULL (keep), `$6` now. As in the upsert, `updated_at`
/// moves only if a given value differs from the stored one.
pub(crate) const UPDATE_USER: &str = concat!(
    "update end_user set ",
    "display_name = case when $3 then $4 else display_name end, ",
    "metadata = coalesce($5, metadata), ",
    "updated_at = case when ($3 and $4 is distinct from display_name) ",
    "or ($5 is not null and $5 is distinct from metadata) then $6 else updated_at end ",
    "where org_id = $1 and id = $2 returning ",
    user_columns!()
);

/// `$1` org_id, `$2` id. Runs after the user's tokens are deleted: `user_token` references
/// `end_user` without a cascade, so a remaining token makes this fail instead of orphaning it.
pub(crate) const DELETE_USER: &str = "delete from end_user where org_id = $1 and id = $2";

/// The listing query for [`tessera_core::Store::list_users`], newest first.
///
/// Parameters, bound in this order: `$1` org_id, `$2` row limit; then the [`like_pattern`] of
/// `q` if `has_q`; then the platform if `has_platform`; then the cursor's time and id if
/// `after_cursor`. The filters are fixed SQL fragments (no input is spliced in). Without `q`
/// and `platform` this is a backward range scan of `end_user_org_created_idx`
/// `(org_id, created_at, id)`; a substring filter cannot use an index, so it scans the org's
/// users in that order until the page is full.
///
/// `lower(col) like lower(pattern)` is the one case-insensitive match both backends accept
/// (PostgreSQL's `like` is case-sensitive, SQLite has no `ilike`); SQLite's `lower` folds ASCII
/// letters only.
pub(crate) fn list_users_sql(has_q: bool, has_platform: bool, after_cursor: bool) -> String {
    let mut sql = String::from(concat!("select ", user_columns!(), " from end_user where org_id = $1"));
    let mut next = 3;
    if has_q {
        sql.push_str(&format!(
            " and (lower(account) like lower(${next}) escape '\\' \
             or lower(display_name) like lower(${next}) escape '\\')"
        ));
        next += 1;
    }
    if has_platform {
        sql.push_str(&format!(" and platform = ${next}"));
        next += 1;
    }
    if after_cursor {
        let (at, id) = (next, next + 1);
        // Same rows as `(created_at < at or (created_at = at and id < id))`, but the leading
        // `created_at <= at` is a range bound of the index, so a deep page starts where the
        // cursor points instead of filtering every newer row (PostgreSQL does not derive it).
        sql.push_str(&format!(" and created_at <= ${at} and (created_at < ${at} or id < ${id})"));
    }
    sql.push_str(" order by created_at desc, id desc limit $2");
    sql
}

/// The `like` pattern matching any text that contains `q`: `%`, `_` and the escape character
/// `\` in `q` are escaped with `\` so they match only themselves.
pub(crate) fn like_pattern(q: &str) -> String {
    let mut pattern = String::with_capacity(q.len() + 2);
    pattern.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_the_escape_character() {
        assert_eq!(like_pattern("ada"), "%ada%");
        assert_eq!(like_pattern("100%_done"), r"%100\%\_done%");
        assert_eq!(like_pattern(r"a\b"), r"%a\\b%");
        assert_eq!(like_pattern(""), "%%");
    }

    #[test]
    fn listing_sql_numbers_parameters_densely() {
        let sql = list_users_sql(true, true, true);
        assert!(sql.contains("lower(account) like lower($3) escape '\\'"), "{sql}");
        assert!(sql.contains("lower(display_name) like lower($3)"), "{sql}");
        assert!(sql.contains("platform = $4"), "{sql}");
        assert!(sql.contains("created_at <= $5 and (created_at < $5 or id < $6)"), "{sql}");
        assert!(list_users_sql(false, true, false).contains("platform = $3"));
        assert!(list_users_sql(false, false, true).contains("created_at <= $3 and (created_at < $3 or id < $4)"));
        assert!(!list_users_sql(false, false, false).contains("$3"));
    }
}
