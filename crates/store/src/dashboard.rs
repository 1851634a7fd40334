//! The dashboard's tables: member sessions and the first-run marker (migration 0003), plus the
//! member and overview queries the dashboard needs. SQL text and row types only; the method
//! bodies are in [`crate::dashboard_ops`].

use tessera_core::{MemberId, OrgId, Result, Session};
use uuid::Uuid;

use crate::convert::timestamp;

macro_rules! member_columns {
    () => {
        "id, org_id, email, role, password_hash, created_at"
    };
}

macro_rules! session_columns {
    () => {
        "org_id, member_id, created_at, last_seen_at, expires_at"
    };
}

/// `$1` limit. Oldest first.
pub(crate) const FIRST_ORGS: &str =
    "select id, slug, name, default_token_ttl_seconds, created_at from org order by created_at, id limit $1";

/// `$1` org_id (the org being set up), `$2` completed_at. Inserts nothing if another org exists;
/// a concurrent setup's insert of the same `id = 1` fails as a unique violation.
pub(crate) const INSERT_FIRST_RUN: &str = "insert into first_run (id, org_id, completed_at) \
     select 1, $1, $2 where not exists (select 1 from org where id <> $1)";

/// `$1` org_id. Oldest first.
pub(crate) const LIST_MEMBERS: &str =
    concat!("select ", member_columns!(), " from member where org_id = $1 order by created_at, id");

/// `$1` org_id, `$2` email (normalized).
pub(crate) const MEMBER_BY_EMAIL: &str =
    concat!("select ", member_columns!(), " from member where org_id = $1 and email = $2");

/// `$1` org_id, `$2` id.
pub(crate) const MEMBER_BY_ID: &str =
    concat!("select ", member_columns!(), " from member where org_id = $1 and id = $2");

/// `$1` org_id, `$2` id, `$3` role.
pub(crate) const UPDATE_MEMBER_ROLE: &str =
    concat!("update member set role = $3 where org_id = $1 and id = $2 returning ", member_columns!());

/// The ids of the org `$1`'s owners. Run inside a write transaction before the last-owner check;
/// PostgreSQL's variant locks the rows (see `PgStore::LOCK_OWNERS`).
pub(crate) const OWNERS: &str = "select id from member where org_id = $1 and role = 'owner'";

/// [`OWNERS`] with row locks: a concurrent demotion waits, then sees the committed roles.
pub(crate) const LOCK_OWNERS: &str = "select id from member where org_id = $1 and role = 'owner' for update";

/// `$1` org_id, `$2` member_id.
pub(crate) const DELETE_MEMBER_SESSIONS: &str = "delete from member_session where org_id = $1 and member_id = $2";

/// `$1` org_id, `$2` member_id.
pub(crate) const FORGET_API_KEY_CREATOR: &str =
    "update api_key set created_by = null where org_id = $1 and created_by = $2";

/// `$1` org_id, `$2` member_id.
pub(crate) const FORGET_TOKEN_ISSUER: &str =
    "update user_token set issued_by_member_id = null where org_id = $1 and issued_by_member_id = $2";

/// `$1` org_id, `$2` id.
pub(crate) const DELETE_MEMBER: &str = "delete from member where org_id = $1 and id = $2";

/// `$1` hash, `$2` org_id, `$3` member_id, `$4` created_at (also last_seen_at), `$5` expires_at.
/// Selecting from the org's member row makes "no such member" an empty result.
pub(crate) const INSERT_SESSION: &str = concat!(
    "insert into member_session (hash, org_id, member_id, created_at, last_seen_at, expires_at) ",
    "select $1, $2, $3, $4, $4, $5 from member where org_id = $2 and id = $3 returning ",
    session_columns!()
);

/// `$1` hash, `$2` now, `$3` idle cutoff. Never moves `last_seen_at` backwards (instances' clocks
/// may differ slightly).
pub(crate) const TOUCH_SESSION: &str = concat!(
    "update member_session set last_seen_at = case when last_seen_at < $2 then $2 else last_seen_at end ",
    "where hash = $1 and expires_at > $2 and last_seen_at > $3 returning ",
    session_columns!()
);

/// `$1` hash.
pub(crate) const DELETE_SESSION: &str = "delete from member_session where hash = $1";

/// `$1` now, `$2` idle cutoff.
pub(crate) const DELETE_EXPIRED_SESSIONS: &str =
    "delete from member_session where expires_at <= $1 or last_seen_at <= $2";

/// `$1` org_id, `$2` now.
pub(crate) const ORG_COUNTS: &str = "select \
     (select count(*) from end_user where org_id = $1) as users, \
     (select count(*) from user_token where org_id = $1 and revoked_at is null \
        and (expires_at is null or expires_at > $2)) as active_tokens, \
     (select count(*) from api_key where org_id = $1 and revoked_at is null \
        and (expires_at is null or expires_at > $2)) as active_api_keys";

/// Microseconds in a day.
pub(crate) const DAY_MICROS: i64 = 86_400_000_000;

/// `$1` org_id, `$2` since, `$3` until (exclusive). Day index and count, for days with tokens.
pub(crate) const TOKENS_PER_DAY: &str = "select (issued_at - $2) / 86400000000 as day, count(*) as n \
     from user_token where org_id = $1 and issued_at >= $2 and issued_at < $3 group by 1";

/// A `member_session` row (without the hash).
#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    org_id: Uuid,
    member_id: Uuid,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
}

impl SessionRow {
    /// The domain session.
    ///
    /// # Errors
    /// [`tessera_core::Error::Internal`] if a stored time is out of range.
    pub(crate) fn into_session(self) -> Result<Session> {
        Ok(Session {
            org_id: OrgId(self.org_id),
            member_id: MemberId(self.member_id),
            created_at: timestamp(self.created_at)?,
            last_seen_at: timestamp(self.last_seen_at)?,
            expires_at: timestamp(self.expires_at)?,
        })
    }
}
