//! [`TokenStore`]: user tokens' metadata rows, their SQL, their row type and the method bodies.
//! No token secret is stored; a token is a signature over claims that can be rebuilt from the
//! row (see `tessera_core::user_token`).
//!
//! Compiled once per backend (see the crate docs). The one part that differs, how a batch of
//! rows goes in, is the backend's own `insert_token_batch` (in `sqlite.rs` / `postgres.rs`);
//! [`TokenStore::insert_user_tokens`] here turns its all-or-nothing answer into one result per
//! row.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::query::Query;
use tessera_core::{
    Account, ApiKeyId, AuditContext, AuditRecord, Entity, Error, IssuedBy, MemberId, NewUserToken, OrgId, Page,
    Platform, Result, SigningKeyId, Timestamp, TokenQuery, TokenStatus, TokenStore, User, UserId, UserToken,
    UserTokenId,
};
use uuid::Uuid;

use super::audit::append;
use super::users::{user_exists, UserRow};
use super::{Backend, Db};
use crate::convert::{conflict_or_storage, micros, micros_opt, storage, timestamp, timestamp_opt};

macro_rules! user_token_columns {
    () => {
        "id, org_id, user_id, signing_key_id, issued_at, expires_at, revoked_at, is_default, \
         issued_by_api_key_id, issued_by_member_id"
    };
}

/// The columns a new token row sets, in the order [`bind_new_token`] binds them.
macro_rules! new_token_columns {
    () => {
        "id, org_id, user_id, signing_key_id, issued_at, expires_at, is_default, \
         issued_by_api_key_id, issued_by_member_id"
    };
}
pub(crate) use new_token_columns;

/// `$1`…`$9` as [`bind_new_token`] binds them. Selecting the values from the org's user row
/// makes "user not in this org" an empty result (no row inserted) in the same atomic statement,
/// with no window between a check and the insert.
const INSERT_USER_TOKEN: &str = concat!(
    "insert into user_token (",
    new_token_columns!(),
    ") select $1, $2, $3, $4, $5, $6, $7, $8, $9 from end_user where org_id = $2 and id = $3"
);

/// `$1` org_id, `$2` user_id.
pub(crate) const DEFAULT_USER_TOKEN: &str = concat!(
    "select ",
    user_token_columns!(),
    " from user_token where org_id = $1 and user_id = $2 and is_default and revoked_at is null"
);

/// `$1` org_id, `$2` id.
const USER_TOKEN: &str = concat!("select ", user_token_columns!(), " from user_token where org_id = $1 and id = $2");

/// `$1` org_id, `$2` id, `$3` at. `coalesce` keeps the first revocation time.
const REVOKE_USER_TOKEN: &str = concat!(
    "update user_token set revoked_at = coalesce(revoked_at, $3) where org_id = $1 and id = $2 returning ",
    user_token_columns!()
);

/// `$1` org_id, `$2` user_id, `$3` issued_before (exclusive), `$4` at.
const REVOKE_USER_TOKENS: &str = "update user_token set revoked_at = $4 \
     where org_id = $1 and user_id = $2 and revoked_at is null and issued_at < $3";

/// `$1` org_id, `$2` platform, `$3` account: the user and, by a left join, its live default
/// token, whose columns come prefixed with `t_` (all NULL when it has none). The unique index on
/// live default tokens makes it one row at most.
pub(crate) const USER_AND_DEFAULT_TOKEN: &str = "select u.id, u.org_id, u.platform, u.account, \
     u.display_name, u.metadata, u.created_at, u.updated_at, t.id as t_id, t.org_id as t_org_id, \
     t.user_id as t_user_id, t.signing_key_id as t_signing_key_id, t.issued_at as t_issued_at, \
     t.expires_at as t_expires_at, t.revoked_at as t_revoked_at, t.is_default as t_is_default, \
     t.issued_by_api_key_id as t_issued_by_api_key_id, t.issued_by_member_id as t_issued_by_member_id \
     from end_user u left join user_token t \
     on t.org_id = u.org_id and t.user_id = u.id and t.is_default and t.revoked_at is null \
     where u.org_id = $1 and u.platform = $2 and u.account = $3";

/// A query of this backend that binds its parameters one by one.
pub(crate) type DbQuery<'q> = Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

/// Binds the 9 values of one new token row (`org_id`, `new`) to `query`, in the order of
/// `new_token_columns!`: the single insert's `$1`…`$9`, or the next 9 `?` of SQLite's multi-row
/// insert.
pub(crate) fn bind_new_token<'q>(query: DbQuery<'q>, org_id: OrgId, new: &NewUserToken) -> DbQuery<'q> {
    let (by_key, by_member) = issuer_columns(new.issued_by);
    query
        .bind(new.id.0)
        .bind(org_id.0)
        .bind(new.user_id.0)
        .bind(new.signing_key_id.0)
        .bind(micros(new.issued_at))
        .bind(micros_opt(new.expires_at))
        .bind(new.is_default)
        .bind(by_key)
        .bind(by_member)
}

/// The token a store holds after inserting `new` for `org_id`: what a later read of its row
/// gives (times floored to whole microseconds, not revoked). Inserts return nothing; the token
/// is built from what was bound.
///
/// # Errors
/// [`Error::Internal`] if a time is out of range (it cannot be: it came from a `Timestamp`).
pub(crate) fn inserted_token(org_id: OrgId, new: &NewUserToken) -> Result<UserToken> {
    Ok(UserToken {
        id: new.id,
        org_id,
        user_id: new.user_id,
        signing_key_id: new.signing_key_id,
        issued_at: timestamp(micros(new.issued_at))?,
        expires_at: timestamp_opt(micros_opt(new.expires_at))?,
        revoked_at: None,
        is_default: new.is_default,
        issued_by: new.issued_by,
    })
}

#[async_trait]
impl TokenStore for Backend {
    async fn insert_user_token(&self, org_id: OrgId, new: &NewUserToken) -> Result<UserToken> {
        // One statement: the insert selects from the org's user row, so it is atomic without a
        // transaction and inserts nothing if the user is not in the org.
        let done =
            bind_new_token(sqlx::query(INSERT_USER_TOKEN), org_id, new).execute(&self.pool).await.map_err(|e| {
                // Only the partial index on live default tokens can clash for a new (UUIDv7)
                // id; for a non-default token a clash is a caller bug.
                if new.is_default {
                    conflict_or_storage(e, "default_token_exists", "the user already has a default token")
                } else {
                    storage(e)
                }
            })?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(Entity::User));
        }
        inserted_token(org_id, new)
    }

    async fn insert_user_tokens(&self, batch: &[(OrgId, NewUserToken)]) -> Result<Vec<Result<UserToken>>> {
        let Some(tokens) = self.insert_token_batch(batch).await? else {
            // Nothing was inserted (a user deleted under the batch breaks a foreign key; on
            // SQLite also a second default token): insert the rows one by one, each with its own
            // result.
            let mut results = Vec::with_capacity(batch.len());
            for (org_id, new) in batch {
                results.push(self.insert_user_token(*org_id, new).await);
            }
            return Ok(results);
        };
        let mut inserted: HashMap<UserTokenId, UserToken> = tokens.into_iter().map(|token| (token.id, token)).collect();
        let mut results = Vec::with_capacity(batch.len());
        for (org_id, new) in batch {
            if let Some(token) = inserted.remove(&new.id) {
                results.push(Ok(token));
                continue;
            }
            // Skipped (PostgreSQL's `on conflict do nothing`): a default token of a user who
            // already has a live one, or a row of a user not in the org.
            let user_exists = new.is_default && {
                let mut conn = self.pool.acquire().await.map_err(storage)?;
                user_exists(&mut conn, *org_id, new.user_id, false).await?
            };
            results.push(Err(if user_exists {
                Error::Conflict { code: "default_token_exists", message: "the user already has a default token".into() }
            } else {
                Error::not_found(Entity::User)
            }));
        }
        Ok(results)
    }

    async fn user_and_default_token(
        &self,
        org_id: OrgId,
        platform: &Platform,
        account: &Account,
    ) -> Result<Option<(User, Option<UserToken>)>> {
        let row = sqlx::query_as::<_, UserAndDefaultTokenRow>(USER_AND_DEFAULT_TOKEN)
            .bind(org_id.0)
            .bind(platform.as_str())
            .bind(account.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(storage)?;
        row.map(UserAndDefaultTokenRow::into_parts).transpose()
    }

    async fn default_user_token(&self, org_id: OrgId, user_id: UserId) -> Result<Option<UserToken>> {
        let row = sqlx::query_as::<_, UserTokenRow>(DEFAULT_USER_TOKEN)
            .bind(org_id.0)
            .bind(user_id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(storage)?;
        row.map(UserTokenRow::into_user_token).transpose()
    }

    async fn user_token(&self, org_id: OrgId, token_id: UserTokenId) -> Result<Option<UserToken>> {
        let row = sqlx::query_as::<_, UserTokenRow>(USER_TOKEN)
            .bind(org_id.0)
            .bind(token_id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(storage)?;
        row.map(UserTokenRow::into_user_token).transpose()
    }

    async fn list_user_tokens(
        &self,
        org_id: OrgId,
        user_id: UserId,
        query: &TokenQuery,
        now: Timestamp,
    ) -> Result<Page<UserToken>> {
        let limit = query.page.limit;
        let sql = list_user_tokens_sql(query.status, query.page.after.is_some());
        // One row more than the page proves that a next page exists.
        let mut q = sqlx::query_as::<_, UserTokenRow>(&sql).bind(org_id.0).bind(user_id.0).bind(i64::from(limit) + 1);
        if matches!(query.status, Some(TokenStatus::Active | TokenStatus::Expired)) {
            q = q.bind(micros(now));
        }
        if let Some(after) = query.page.after {
            q = q.bind(after.at_micros).bind(after.id);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(storage)?;
        let tokens = rows.into_iter().map(UserTokenRow::into_user_token).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(tokens, limit, |t| (t.issued_at, t.id.0)))
    }

    async fn revoke_user_token(
        &self,
        org_id: OrgId,
        token_id: UserTokenId,
        at: Timestamp,
        audit: &AuditContext,
    ) -> Result<UserToken> {
        let revoked = async {
            let mut tx = self.begin_write().await.map_err(storage)?;
            let token = sqlx::query_as::<_, UserTokenRow>(REVOKE_USER_TOKEN)
                .bind(org_id.0)
                .bind(token_id.0)
                .bind(micros(at))
                .fetch_optional(&mut *tx)
                .await
                .map_err(storage)?
                .ok_or(Error::not_found(Entity::UserToken))?
                .into_user_token()?;
            // Revoked by this call (not before): `coalesce` kept an earlier time otherwise.
            if token.revoked_at.map(micros) == Some(micros(at)) {
                append(&mut tx, org_id, audit, AuditRecord::user_token_revoked(&token)).await?;
            }
            tx.commit().await.map_err(storage)?;
            Ok(token)
        }
        .await;
        // Whatever the outcome (a failed commit may still have committed), caches must drop it.
        self.announce_revocation();
        revoked
    }

    async fn revoke_user_tokens(
        &self,
        org_id: OrgId,
        user_id: UserId,
        issued_before: Timestamp,
        at: Timestamp,
        audit: &AuditContext,
    ) -> Result<u64> {
        // The existence check and the update share a transaction so "no such user" and "revoked
        // 0" cannot be confused by a concurrent change.
        let mut tx = self.begin_write().await.map_err(storage)?;
        if !user_exists(&mut tx, org_id, user_id, false).await? {
            return Err(Error::not_found(Entity::User));
        }
        let done = sqlx::query(REVOKE_USER_TOKENS)
            .bind(org_id.0)
            .bind(user_id.0)
            .bind(micros(issued_before))
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(storage)?;
        if done.rows_affected() > 0 {
            let record = AuditRecord::user_tokens_revoked(user_id, issued_before, done.rows_affected());
            append(&mut tx, org_id, audit, record).await?;
        }
        let committed = tx.commit().await;
        self.announce_revocation();
        committed.map_err(storage)?;
        Ok(done.rows_affected())
    }
}

/// The listing query for [`TokenStore::list_user_tokens`], newest first.
///
/// Parameters, bound in this order: `$1` org_id, `$2` user_id, `$3` row limit; then `now` if
/// `status` is active or expired (those depend on the clock); then the cursor's time and id if
/// `after_cursor`. The filters are fixed SQL fragments (no input is spliced in), chosen here so
/// each variant keeps a plain index range scan on `(org_id, user_id, issued_at, id)`.
fn list_user_tokens_sql(status: Option<TokenStatus>, after_cursor: bool) -> String {
    let mut sql =
        String::from(concat!("select ", user_token_columns!(), " from user_token where org_id = $1 and user_id = $2"));
    let mut next = 4;
    match status {
        None => {}
        Some(TokenStatus::Active) => {
            sql.push_str(&format!(" and revoked_at is null and (expires_at is null or expires_at > ${next})"));
            next += 1;
        }
        Some(TokenStatus::Expired) => {
            sql.push_str(&format!(" and revoked_at is null and expires_at <= ${next}"));
            next += 1;
        }
        Some(TokenStatus::Revoked) => sql.push_str(" and revoked_at is not null"),
    }
    if after_cursor {
        let (at, id) = (next, next + 1);
        sql.push_str(&format!(" and (issued_at < ${at} or (issued_at = ${at} and id < ${id}))"));
    }
    sql.push_str(" order by issued_at desc, id desc limit $3");
    sql
}

/// A `user_token` row.
#[derive(sqlx::FromRow)]
struct UserTokenRow {
    id: Uuid,
    org_id: Uuid,
    user_id: Uuid,
    signing_key_id: Uuid,
    issued_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    is_default: bool,
    issued_by_api_key_id: Option<Uuid>,
    issued_by_member_id: Option<Uuid>,
}

impl UserTokenRow {
    /// The domain token.
    ///
    /// # Errors
    /// [`Error::Internal`] if a stored time is out of range or both issuers are set.
    fn into_user_token(self) -> Result<UserToken> {
        let issued_by = match (self.issued_by_api_key_id, self.issued_by_member_id) {
            (None, None) => None,
            (Some(k), None) => Some(IssuedBy::ApiKey(ApiKeyId(k))),
            (None, Some(m)) => Some(IssuedBy::Member(MemberId(m))),
            (Some(_), Some(_)) => return Err(Error::Internal(format!("user token {} has two issuers", self.id))),
        };
        Ok(UserToken {
            id: UserTokenId(self.id),
            org_id: OrgId(self.org_id),
            user_id: UserId(self.user_id),
            signing_key_id: SigningKeyId(self.signing_key_id),
            issued_at: timestamp(self.issued_at)?,
            expires_at: timestamp_opt(self.expires_at)?,
            revoked_at: timestamp_opt(self.revoked_at)?,
            is_default: self.is_default,
            issued_by,
        })
    }
}

/// A row of [`USER_AND_DEFAULT_TOKEN`].
#[derive(sqlx::FromRow)]
struct UserAndDefaultTokenRow {
    #[sqlx(flatten)]
    user: UserRow,
    t_id: Option<Uuid>,
    t_org_id: Option<Uuid>,
    t_user_id: Option<Uuid>,
    t_signing_key_id: Option<Uuid>,
    t_issued_at: Option<i64>,
    t_expires_at: Option<i64>,
    t_revoked_at: Option<i64>,
    t_is_default: Option<bool>,
    t_issued_by_api_key_id: Option<Uuid>,
    t_issued_by_member_id: Option<Uuid>,
}

impl UserAndDefaultTokenRow {
    /// The domain user and its default token.
    ///
    /// # Errors
    /// [`Error::Internal`] for a corrupted row, or a token half that is neither all NULL nor
    /// complete.
    fn into_parts(self) -> Result<(User, Option<UserToken>)> {
        let token = match self.t_id {
            None => None,
            Some(id) => {
                let missing = || Error::Internal(format!("default token {id} came back incomplete"));
                Some(
                    UserTokenRow {
                        id,
                        org_id: self.t_org_id.ok_or_else(missing)?,
                        user_id: self.t_user_id.ok_or_else(missing)?,
                        signing_key_id: self.t_signing_key_id.ok_or_else(missing)?,
                        issued_at: self.t_issued_at.ok_or_else(missing)?,
                        expires_at: self.t_expires_at,
                        revoked_at: self.t_revoked_at,
                        is_default: self.t_is_default.ok_or_else(missing)?,
                        issued_by_api_key_id: self.t_issued_by_api_key_id,
                        issued_by_member_id: self.t_issued_by_member_id,
                    }
                    .into_user_token()?,
                )
            }
        };
        Ok((self.user.into_user()?, token))
    }
}

/// The issuer columns `(issued_by_api_key_id, issued_by_member_id)` of `issued_by`.
pub(crate) fn issuer_columns(issued_by: Option<IssuedBy>) -> (Option<Uuid>, Option<Uuid>) {
    match issued_by {
        None => (None, None),
        Some(IssuedBy::ApiKey(k)) => (Some(k.0), None),
        Some(IssuedBy::Member(m)) => (None, Some(m.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_sql_numbers_parameters_densely() {
        let sql = list_user_tokens_sql(Some(TokenStatus::Expired), true);
        assert!(sql.contains("expires_at <= $4"), "{sql}");
        assert!(sql.contains("issued_at < $5 or (issued_at = $5 and id < $6)"), "{sql}");
        let sql = list_user_tokens_sql(Some(TokenStatus::Revoked), true);
        assert!(sql.contains("issued_at < $4 or (issued_at = $4 and id < $5)"), "{sql}");
        assert!(!list_user_tokens_sql(None, false).contains("$4"));
    }
}
