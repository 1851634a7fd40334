//! User tokens' metadata rows: SQL text and row type. No token secret is stored; a token is a
//! signature over claims that can be rebuilt from the row (see `tessera_core::user_token`).

use tessera_core::{
    ApiKeyId, Error, IssuedBy, MemberId, NewUserToken, OrgId, Result, SigningKeyId, TokenStatus, UserId, UserToken,
    UserTokenId,
};
use uuid::Uuid;

use crate::convert::{timestamp, timestamp_opt};

macro_rules! user_token_columns {
    () => {
        "id, org_id, user_id, signing_key_id, issued_at, expires_at, revoked_at, is_default, \
         issued_by_api_key_id, issued_by_member_id"
    };
}

/// `$1` id, `$2` org_id, `$3` user_id, `$4` signing_key_id, `$5` issued_at, `$6` expires_at,
/// `$7` is_default, `$8` issued_by_api_key_id, `$9` issued_by_member_id. Selecting the values from
/// the org's user row makes "user not in this org" an empty result (no row inserted) in the same
/// atomic statement, with no window between a check and the insert.
pub(crate) const INSERT_USER_TOKEN: &str = concat!(
    "insert into user_token (id, org_id, user_id, signing_key_id, issued_at, expires_at, is_default, ",
    "issued_by_api_key_id, issued_by_member_id) ",
    "select $1, $2, $3, $4, $5, $6, $7, $8, $9 from end_user where org_id = $2 and id = $3 returning ",
    user_token_columns!()
);

/// Binds the 9 values of one new token row (`$org_id: OrgId`, `$new: &NewUserToken`) to a sqlx
/// query, in the column order of [`INSERT_USER_TOKEN`].
macro_rules! bind_new_token {
    ($query:expr, $org_id:expr, $new:expr) => {{
        let (by_key, by_member) = $crate::user_token::issuer_columns($new.issued_by);
        $query
            .bind($new.id.0)
            .bind($org_id.0)
            .bind($new.user_id.0)
            .bind($new.signing_key_id.0)
            .bind($crate::convert::micros($new.issued_at))
            .bind($crate::convert::micros_opt($new.expires_at))
            .bind($new.is_default)
            .bind(by_key)
            .bind(by_member)
    }};
}
pub(crate) use bind_new_token;

/// PostgreSQL only: a whole batch of token rows in one statement, one array per column, `$1`…`$9`
/// in the column order of [`INSERT_USER_TOKEN`] (`uuid[]`, `int8[]` for the microsecond times,
/// `bool[]`). One statement costs one round trip whatever the batch size, and its text never
/// changes, so it is prepared once per connection.
///
/// Rows go in in array order (`with ordinality`), so of two default tokens for one user in a
/// batch the first wins; the second, like any row that would be a second live default token, is
/// skipped by `on conflict do nothing`. There is no join with `end_user`: the composite foreign
/// key `(org_id, user_id)` makes a row whose user is not in the org fail the whole statement
/// (atomic, nothing inserted), and the caller then inserts the rows one by one. A row naming a
/// signing key or API key of another org fails it the same way, through the statement-level
/// check of migration `0004_user_token_key_checks` (one query over the statement's rows instead
/// of a foreign-key trigger per row and key). A planner-chosen join is also what the multi-row
/// `VALUES` form below has, and that form measured slower on PostgreSQL than one statement per
/// row (2026-11-21, cause not pinned down).
pub(crate) const INSERT_USER_TOKENS_UNNEST: &str = concat!(
    "insert into user_token (id, org_id, user_id, signing_key_id, issued_at, expires_at, is_default, ",
    "issued_by_api_key_id, issued_by_member_id) ",
    "select id, org_id, user_id, signing_key_id, issued_at, expires_at, is_default, by_key, by_member ",
    "from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int8[], $6::int8[], $7::bool[], ",
    "$8::uuid[], $9::uuid[]) with ordinality ",
    "as v(id, org_id, user_id, signing_key_id, issued_at, expires_at, is_default, by_key, by_member, n) ",
    "order by n on conflict do nothing returning ",
    user_token_columns!()
);

/// Most rows one [`insert_user_tokens_values`] statement takes: 256 (2,304 parameters, far
/// below SQLite's limit of 32,766).
pub(crate) const MAX_ROWS_PER_INSERT: usize = 256;

/// SQLite's form of a batch insert: `rows` rows (1 to [`MAX_ROWS_PER_INSERT`]) in one plain
/// multi-row `insert … values`, in the column order of [`INSERT_USER_TOKEN`] (row `i` binds the
/// `9i+1`-th to `9i+9`-th parameters), inserted in batch order. A row that would be a second live
/// default token is skipped (`on conflict do nothing`), which shows as fewer rows affected than
/// `rows`; a row whose user is not in the org fails the statement on the composite foreign key
/// `(org_id, user_id)`, and nothing of it is inserted. Nothing is returned: the caller builds the
/// tokens from what it bound ([`inserted_token`]), so no row travels back from SQLite's worker
/// thread.
///
/// The parameters are anonymous `?`, not `$n`: sqlx asks SQLite for each parameter's name when
/// binding, and SQLite finds a name by a linear scan, so 2,304 named parameters cost millions of
/// steps per statement (it showed in profiles). PostgreSQL uses [`INSERT_USER_TOKENS_UNNEST`].
pub(crate) fn insert_user_tokens_values(rows: usize) -> String {
    debug_assert!((1..=MAX_ROWS_PER_INSERT).contains(&rows));
    let mut sql = String::with_capacity(200 + rows * 30);
    sql.push_str(
        "insert into user_token (id, org_id, user_id, signing_key_id, issued_at, expires_at, is_default, \
         issued_by_api_key_id, issued_by_member_id) values ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    }
    sql.push_str(" on conflict do nothing");
    sql
}

/// The token a store holds after inserting `new` for `org_id`: what a later read of its row
/// gives (times floored to whole microseconds, not revoked).
///
/// # Errors
/// [`Error::Internal`] if a time is out of range (it cannot be: it came from a `Timestamp`).
pub(crate) fn inserted_token(org_id: OrgId, new: &NewUserToken) -> Result<UserToken> {
    Ok(UserToken {
        id: new.id,
        org_id,
        user_id: new.user_id,
        signing_key_id: new.signing_key_id,
        issued_at: timestamp(crate::convert::micros(new.issued_at))?,
        expires_at: timestamp_opt(crate::convert::micros_opt(new.expires_at))?,
        revoked_at: None,
        is_default: new.is_default,
        issued_by: new.issued_by,
    })
}

/// Splits `len` rows into statement sizes that are powers of two of at most `max` rows (1 to
/// [`MAX_ROWS_PER_INSERT`]), largest first (37 rows, `max` 256 → 32, 4, 1), so that at most 9
/// distinct statements exist and each connection's prepared-statement cache keeps them all.
pub(crate) fn statement_sizes(mut len: usize, max: usize) -> impl Iterator<Item = usize> {
    let max = max.clamp(1, MAX_ROWS_PER_INSERT);
    std::iter::from_fn(move || {
        if len == 0 {
            return None;
        }
        let size = max.min(1 << len.ilog2());
        len -= size;
        Some(size)
    })
}

/// `$1` org_id, `$2` user_id.
pub(crate) const DEFAULT_USER_TOKEN: &str = concat!(
    "select ",
    user_token_columns!(),
    " from user_token where org_id = $1 and user_id = $2 and is_default and revoked_at is null"
);

/// `$1` org_id, `$2` id.
pub(crate) const USER_TOKEN: &str =
    concat!("select ", user_token_columns!(), " from user_token where org_id = $1 and id = $2");

/// `$1` org_id, `$2` id, `$3` at. `coalesce` keeps the first revocation time.
pub(crate) const REVOKE_USER_TOKEN: &str = concat!(
    "update user_token set revoked_at = coalesce(revoked_at, $3) where org_id = $1 and id = $2 returning ",
    user_token_columns!()
);

/// `$1` org_id, `$2` user_id, `$3` issued_before (exclusive), `$4` at.
pub(crate) const REVOKE_USER_TOKENS: &str = "update user_token set revoked_at = $4 \
     where org_id = $1 and user_id = $2 and revoked_at is null and issued_at < $3";

/// `$1` org_id, `$2` user_id. Every token row of the user, revoked or not (before the user's own
/// row is deleted).
pub(crate) const DELETE_USER_TOKENS: &str = "delete from user_token where org_id = $1 and user_id = $2";

/// The listing query for [`tessera_core::Store::list_user_tokens`], newest first.
///
/// Parameters, bound in this order: `$1` org_id, `$2` user_id, `$3` row limit; then `now` if
/// `status` is active or expired (those depend on the clock); then the cursor's time and id if
/// `after_cursor`. The filters are fixed SQL fragments (no input is spliced in), chosen here so
/// each variant keeps a plain index range scan on `(org_id, user_id, issued_at, id)`.
pub(crate) fn list_user_tokens_sql(status: Option<TokenStatus>, after_cursor: bool) -> String {
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
pub(crate) struct UserTokenRow {
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

/// A row of [`USER_AND_DEFAULT_TOKEN`].
#[derive(sqlx::FromRow)]
pub(crate) struct UserAndDefaultTokenRow {
    #[sqlx(flatten)]
    user: crate::user::UserRow,
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
    pub(crate) fn into_parts(self) -> Result<(tessera_core::User, Option<UserToken>)> {
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

impl UserTokenRow {
    /// The domain token.
    ///
    /// # Errors
    /// [`Error::Internal`] if a stored time is out of range or both issuers are set.
    pub(crate) fn into_user_token(self) -> Result<UserToken> {
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
    fn batches_split_into_power_of_two_statements() {
        assert_eq!(statement_sizes(0, 256).collect::<Vec<_>>(), Vec::<usize>::new());
        assert_eq!(statement_sizes(1, 256).collect::<Vec<_>>(), [1]);
        assert_eq!(statement_sizes(37, 256).collect::<Vec<_>>(), [32, 4, 1]);
        assert_eq!(statement_sizes(512, 256).collect::<Vec<_>>(), [256, 256]);
        assert_eq!(statement_sizes(600, 256).collect::<Vec<_>>(), [256, 256, 64, 16, 8]);
        for n in 0..1100 {
            assert_eq!(statement_sizes(n, 256).sum::<usize>(), n);
            assert!(statement_sizes(n, 1).all(|size| size == 1));
        }
    }

    #[test]
    fn a_multi_row_insert_has_nine_anonymous_parameters_per_row() {
        let sql = insert_user_tokens_values(2);
        assert!(
            sql.ends_with("values (?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing"),
            "{sql}"
        );
        assert_eq!(insert_user_tokens_values(256).matches('?').count(), 2304);
        assert!(!sql.contains('$'));
    }

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
