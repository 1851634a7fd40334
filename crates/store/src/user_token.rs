//! User tokens' metadata rows: SQL text and row type. No token secret is stored; a token is a
//! signature over claims that can be rebuilt from the row (see `tessera_core::user_token`).

use tessera_core::{
    ApiKeyId, Error, IssuedBy, MemberId, OrgId, Result, SigningKeyId, TokenStatus, UserId, UserToken, UserTokenId,
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

/// [`INSERT_USER_TOKEN`] that inserts nothing, without an error, where a unique index clashes
/// (a second live default token), so one row's clash does not abort a batch's transaction.
/// No row back means: the user is not in the org, or it already has a live default token.
pub(crate) const INSERT_USER_TOKEN_OR_NOTHING: &str = concat!(
    "insert into user_token (id, org_id, user_id, signing_key_id, issued_at, expires_at, is_default, ",
    "issued_by_api_key_id, issued_by_member_id) ",
    "select $1, $2, $3, $4, $5, $6, $7, $8, $9 from end_user where org_id = $2 and id = $3 ",
    "on conflict do nothing returning ",
    user_token_columns!()
);

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
    fn listing_sql_numbers_parameters_densely() {
        let sql = list_user_tokens_sql(Some(TokenStatus::Expired), true);
        assert!(sql.contains("expires_at <= $4"), "{sql}");
        assert!(sql.contains("issued_at < $5 or (issued_at = $5 and id < $6)"), "{sql}");
        let sql = list_user_tokens_sql(Some(TokenStatus::Revoked), true);
        assert!(sql.contains("issued_at < $4 or (issued_at = $4 and id < $5)"), "{sql}");
        assert!(!list_user_tokens_sql(None, false).contains("$4"));
    }
}
