//! [`UserStore`]: end users (table `end_user`, since `user` is reserved in PostgreSQL), their
//! SQL, their row type and the method bodies.
//!
//! Compiled once per backend (see the crate docs): `super` is `crate::sqlite` or
//! `crate::postgres`, whose `Db`, `Backend` and `ROW_LOCKS` this module builds on.
//!
//! The upsert is two statements in one transaction: an insert that does nothing on a conflict of
//! `(org_id, platform, account)`, then, if nothing was inserted, an update of the existing row.
//! The unique constraint decides the race, so of two concurrent calls exactly one inserts.

use async_trait::async_trait;
use sqlx::types::Json;
use tessera_core::{
    Account, AuditContext, AuditRecord, Entity, Error, Metadata, OrgId, Page, Platform, Result, User, UserId,
    UserPatch, UserQuery, UserStore, UserUpsert,
};
use uuid::Uuid;

use super::audit::append;
use super::{Backend, Db, ROW_LOCKS};
use crate::convert::{micros, storage, timestamp};

macro_rules! user_columns {
    () => {
        "id, org_id, platform, account, display_name, metadata, created_at, updated_at"
    };
}

/// `$1` id, `$2` org_id, `$3` platform, `$4` account, `$5` display_name, `$6` metadata, `$7` now.
/// Returns no row if the user exists.
const INSERT_USER_IF_NEW: &str = concat!(
    "insert into end_user (id, org_id, platform, account, display_name, metadata, created_at, updated_at) ",
    "values ($1, $2, $3, $4, $5, $6, $7, $7) ",
    "on conflict (org_id, platform, account) do nothing returning ",
    user_columns!()
);

/// `$1` org_id, `$2` platform, `$3` account, `$4` display_name or NULL (keep), `$5` metadata or
/// NULL (keep), `$6` now. `updated_at` moves only if a given value differs from the stored one
/// (SET expressions see the old column values on both backends).
const UPDATE_USER_BY_IDENTITY: &str = concat!(
    "update end_user set ",
    "display_name = coalesce($4, display_name), ",
    "metadata = coalesce($5, metadata), ",
    "updated_at = case when ($4 is not null and $4 is distinct from display_name) ",
    "or ($5 is not null and $5 is distinct from metadata) then $6 else updated_at end ",
    "where org_id = $1 and platform = $2 and account = $3 returning ",
    user_columns!()
);

/// `$1` org_id, `$2` platform, `$3` account.
const USER_BY_IDENTITY: &str =
    concat!("select ", user_columns!(), " from end_user where org_id = $1 and platform = $2 and account = $3");

/// `$1` org_id, `$2` id.
const USER_BY_ID: &str = concat!("select ", user_columns!(), " from end_user where org_id = $1 and id = $2");

/// `$1` org_id, `$2` id.
const USER_EXISTS: &str = "select id from end_user where org_id = $1 and id = $2";

/// [`USER_EXISTS`] that also locks the row until the transaction ends, where the backend has row
/// locks (PostgreSQL): a token insert's foreign-key check takes a `for key share` lock, which
/// waits for `for update`, so no token can be added to the user meanwhile.
const LOCK_USER: &str = "select id from end_user where org_id = $1 and id = $2 for update";

/// `$1` org_id, `$2` id, `$3` whether to set the display name, `$4` the display name to set
/// (NULL clears it), `$5` metadata or NULL (keep), `$6` now. As in the upsert, `updated_at`
/// moves only if a given value differs from the stored one.
const UPDATE_USER: &str = concat!(
    "update end_user set ",
    "display_name = case when $3 then $4 else display_name end, ",
    "metadata = coalesce($5, metadata), ",
    "updated_at = case when ($3 and $4 is distinct from display_name) ",
    "or ($5 is not null and $5 is distinct from metadata) then $6 else updated_at end ",
    "where org_id = $1 and id = $2 returning ",
    user_columns!()
);

/// `$1` org_id, `$2` user_id. Every token row of the user, revoked or not, deleted before the
/// user's own row.
const DELETE_USER_TOKENS: &str = "delete from user_token where org_id = $1 and user_id = $2";

/// `$1` org_id, `$2` id. Runs after the user's tokens are deleted: `user_token` references
/// `end_user` without a cascade, so a remaining token makes this fail instead of orphaning it.
const DELETE_USER: &str = "delete from end_user where org_id = $1 and id = $2";

/// Whether the org has the user. With `lock` (inside a write transaction), also keeps token rows
/// from being added to the user until the transaction ends: PostgreSQL locks the row
/// ([`LOCK_USER`]); SQLite has no row locks, but its `BEGIN IMMEDIATE` transaction already holds
/// the database's write lock, so a plain read suffices.
///
/// # Errors
/// [`Error::Storage`] if the query fails.
pub(super) async fn user_exists(
    conn: &mut <Db as sqlx::Database>::Connection,
    org_id: OrgId,
    user_id: UserId,
    lock: bool,
) -> Result<bool> {
    let sql = if lock && ROW_LOCKS { LOCK_USER } else { USER_EXISTS };
    let found: Option<(Uuid,)> =
        sqlx::query_as(sql).bind(org_id.0).bind(user_id.0).fetch_optional(conn).await.map_err(storage)?;
    Ok(found.is_some())
}

#[async_trait]
impl UserStore for Backend {
    async fn upsert_user(&self, org_id: OrgId, new: &UserUpsert) -> Result<(User, bool)> {
        // Fast path, a plain read: the user exists and the call changes nothing (no metadata, no
        // or the same display name), as in claimr's `GET /token` for a known user. A write
        // transaction would serialize these on SQLite.
        if new.metadata.is_none() {
            let existing = sqlx::query_as::<_, UserRow>(USER_BY_IDENTITY)
                .bind(org_id.0)
                .bind(new.platform.as_str())
                .bind(new.account.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(storage)?
                .map(UserRow::into_user)
                .transpose()?;
            if let Some(user) = existing {
                if new.display_name.is_none() || new.display_name == user.display_name {
                    return Ok((user, false));
                }
            }
        }
        let now = micros(new.now);
        let mut tx = self.begin_write().await.map_err(storage)?;
        let inserted = sqlx::query_as::<_, UserRow>(INSERT_USER_IF_NEW)
            .bind(new.id.0)
            .bind(org_id.0)
            .bind(new.platform.as_str())
            .bind(new.account.as_str())
            .bind(new.display_name.as_deref())
            .bind(Json(new.metadata.clone().unwrap_or_default()))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(storage)?;
        let (row, created) = match inserted {
            Some(row) => (row, true),
            None => {
                let row = sqlx::query_as::<_, UserRow>(UPDATE_USER_BY_IDENTITY)
                    .bind(org_id.0)
                    .bind(new.platform.as_str())
                    .bind(new.account.as_str())
                    .bind(new.display_name.as_deref())
                    .bind(new.metadata.clone().map(Json))
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(storage)?;
                (row, false)
            }
        };
        tx.commit().await.map_err(storage)?;
        Ok((row.into_user()?, created))
    }

    async fn user_by_id(&self, org_id: OrgId, user_id: UserId) -> Result<Option<User>> {
        let row = sqlx::query_as::<_, UserRow>(USER_BY_ID)
            .bind(org_id.0)
            .bind(user_id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(storage)?;
        row.map(UserRow::into_user).transpose()
    }

    async fn list_users(&self, org_id: OrgId, query: &UserQuery) -> Result<Page<User>> {
        let limit = query.page.limit;
        let pattern = query.q.as_deref().map(like_pattern);
        let sql = list_users_sql(pattern.is_some(), query.platform.is_some(), query.page.after.is_some());
        // One row more than the page proves that a next page exists.
        let mut q = sqlx::query_as::<_, UserRow>(&sql).bind(org_id.0).bind(i64::from(limit) + 1);
        if let Some(pattern) = pattern {
            q = q.bind(pattern);
        }
        if let Some(platform) = &query.platform {
            q = q.bind(platform.as_str());
        }
        if let Some(after) = query.page.after {
            q = q.bind(after.at_micros).bind(after.id);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(storage)?;
        let users = rows.into_iter().map(UserRow::into_user).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(users, limit, |u| (u.created_at, u.id.0)))
    }

    async fn update_user(
        &self,
        org_id: OrgId,
        user_id: UserId,
        patch: &UserPatch,
        audit: &AuditContext,
    ) -> Result<User> {
        // One statement decides and writes the change, so both see the same row.
        let mut tx = self.begin_write().await.map_err(storage)?;
        let (set_name, name) = match &patch.display_name {
            None => (false, None),
            Some(name) => (true, name.as_deref()),
        };
        let user = sqlx::query_as::<_, UserRow>(UPDATE_USER)
            .bind(org_id.0)
            .bind(user_id.0)
            .bind(set_name)
            .bind(name)
            .bind(patch.metadata.clone().map(Json))
            .bind(micros(patch.now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(storage)?
            .ok_or(Error::not_found(Entity::User))?
            .into_user()?;
        // `updated_at` moves only when a stored value changed.
        if micros(user.updated_at) == micros(patch.now) {
            append(&mut tx, org_id, audit, AuditRecord::user_updated(&user, patch)).await?;
        }
        tx.commit().await.map_err(storage)?;
        Ok(user)
    }

    async fn delete_user(&self, org_id: OrgId, user_id: UserId, audit: &AuditContext) -> Result<u64> {
        let deleted = async {
            let mut tx = self.begin_write().await.map_err(storage)?;
            // Checked and locked first: "no such user" is then certain, and no token row can be
            // added between the two deletes below.
            if !user_exists(&mut tx, org_id, user_id, true).await? {
                return Err(Error::not_found(Entity::User));
            }
            let user = sqlx::query_as::<_, UserRow>(USER_BY_ID)
                .bind(org_id.0)
                .bind(user_id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(storage)?
                .into_user()?;
            // Tokens first: `user_token` references `end_user` without a cascade.
            let tokens = sqlx::query(DELETE_USER_TOKENS)
                .bind(org_id.0)
                .bind(user_id.0)
                .execute(&mut *tx)
                .await
                .map_err(storage)?
                .rows_affected();
            sqlx::query(DELETE_USER).bind(org_id.0).bind(user_id.0).execute(&mut *tx).await.map_err(storage)?;
            append(&mut tx, org_id, audit, AuditRecord::user_deleted(&user, tokens)).await?;
            tx.commit().await.map_err(storage)?;
            Ok(tokens)
        }
        .await;
        // Whatever the outcome (a failed commit may still have committed), caches must drop the
        // deleted tokens.
        self.announce_revocation();
        deleted
    }
}

/// The listing query for [`UserStore::list_users`], newest first.
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
fn list_users_sql(has_q: bool, has_platform: bool, after_cursor: bool) -> String {
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
fn like_pattern(q: &str) -> String {
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
pub(super) struct UserRow {
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
    pub(super) fn into_user(self) -> Result<User> {
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
