//! [`MemberStore`]: dashboard members and their sign-in sessions (table `member_session`, which
//! holds only the SHA-256 of a session cookie's token); SQL, row types and method bodies.
//!
//! Compiled once per backend (see the crate docs).

use async_trait::async_trait;
use tessera_core::{
    AuditContext, AuditRecord, Email, Entity, Error, Member, MemberId, MemberStore, NewMember, NewSession, OrgId,
    Result, Role, Session, SessionHash, Timestamp,
};
use uuid::Uuid;

use super::audit::append;
use super::{Backend, Db, ROW_LOCKS};
use crate::convert::{conflict_or_storage, micros, storage, timestamp};

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

/// `$1` id, `$2` org_id, `$3` email, `$4` role, `$5` password_hash, `$6` created_at.
const INSERT_MEMBER: &str = concat!(
    "insert into member (id, org_id, email, role, password_hash, created_at) ",
    "values ($1, $2, $3, $4, $5, $6) returning ",
    member_columns!()
);

/// `$1` org_id. Oldest first.
const LIST_MEMBERS: &str =
    concat!("select ", member_columns!(), " from member where org_id = $1 order by created_at, id");

/// `$1` org_id, `$2` email (normalized).
const MEMBER_BY_EMAIL: &str = concat!("select ", member_columns!(), " from member where org_id = $1 and email = $2");

/// `$1` org_id, `$2` id.
const MEMBER_BY_ID: &str = concat!("select ", member_columns!(), " from member where org_id = $1 and id = $2");

/// `$1` org_id, `$2` id, `$3` role.
const UPDATE_MEMBER_ROLE: &str =
    concat!("update member set role = $3 where org_id = $1 and id = $2 returning ", member_columns!());

/// The ids of the org `$1`'s owners, read inside a write transaction before the last-owner
/// check. A plain read suffices on SQLite, whose `BEGIN IMMEDIATE` transaction holds the
/// database's write lock.
const OWNERS: &str = "select id from member where org_id = $1 and role = 'owner'";

/// [`OWNERS`] with row locks, where the backend has them (PostgreSQL): of two concurrent
/// demotions of the last two owners, the second waits and then sees only one owner left.
const LOCK_OWNERS: &str = "select id from member where org_id = $1 and role = 'owner' for update";

/// What removing a member deletes or detaches, each statement taking `$1` org_id and `$2` the
/// member's id, in this order: their sessions, their attribution on API keys and tokens (which
/// keep working), then the member row.
const REMOVE_MEMBER: [&str; 4] = [
    "delete from member_session where org_id = $1 and member_id = $2",
    "update api_key set created_by = null where org_id = $1 and created_by = $2",
    "update user_token set issued_by_member_id = null where org_id = $1 and issued_by_member_id = $2",
    "delete from member where org_id = $1 and id = $2",
];

/// `$1` hash, `$2` org_id, `$3` member_id, `$4` created_at (also last_seen_at), `$5` expires_at.
/// Selecting from the org's member row makes "no such member" an empty result.
const INSERT_SESSION: &str = concat!(
    "insert into member_session (hash, org_id, member_id, created_at, last_seen_at, expires_at) ",
    "select $1, $2, $3, $4, $4, $5 from member where org_id = $2 and id = $3 returning ",
    session_columns!()
);

/// `$1` hash, `$2` now, `$3` idle cutoff. Never moves `last_seen_at` backwards (instances' clocks
/// may differ slightly).
const TOUCH_SESSION: &str = concat!(
    "update member_session set last_seen_at = case when last_seen_at < $2 then $2 else last_seen_at end ",
    "where hash = $1 and expires_at > $2 and last_seen_at > $3 returning ",
    session_columns!()
);

/// `$1` hash.
const DELETE_SESSION: &str = "delete from member_session where hash = $1 returning org_id, member_id";

/// `$1` now, `$2` idle cutoff.
const DELETE_EXPIRED_SESSIONS: &str = "delete from member_session where expires_at <= $1 or last_seen_at <= $2";

/// Inserts the member `new` of `org_id` through `conn` (the pool or a transaction's connection);
/// the insert's failure goes through `insert_error`.
///
/// # Errors
/// What `insert_error` makes of the driver's error (e.g. a unique violation: the email is taken
/// in the org); [`Error::Internal`] for a returned row that breaks the domain rules.
pub(super) async fn insert_member(
    conn: impl sqlx::Executor<'_, Database = Db>,
    org_id: OrgId,
    new: &NewMember,
    insert_error: impl FnOnce(sqlx::Error) -> Error,
) -> Result<Member> {
    sqlx::query_as::<_, MemberRow>(INSERT_MEMBER)
        .bind(new.id.0)
        .bind(org_id.0)
        .bind(new.email.as_str())
        .bind(new.role.as_str())
        .bind(&new.password_hash)
        .bind(micros(new.created_at))
        .fetch_one(conn)
        .await
        .map_err(insert_error)?
        .into_member()
}

/// `Conflict { code: "last_owner" }`.
fn last_owner() -> Error {
    Error::Conflict { code: "last_owner", message: "the organization's last owner cannot be removed or demoted".into() }
}

/// Inside a write transaction: the org's owners (locked where the backend has row locks) and the
/// member `id`. Owners first: their row locks order concurrent role changes, so the second one
/// sees the first one's result.
///
/// # Errors
/// `NotFound(Member)` if the org has no such member; [`Error::Storage`].
async fn owners_and_member(
    conn: &mut <Db as sqlx::Database>::Connection,
    org_id: OrgId,
    id: MemberId,
) -> Result<(Vec<Uuid>, Member)> {
    let owners: Vec<(Uuid,)> = sqlx::query_as(if ROW_LOCKS { LOCK_OWNERS } else { OWNERS })
        .bind(org_id.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
    let member = sqlx::query_as::<_, MemberRow>(MEMBER_BY_ID)
        .bind(org_id.0)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?
        .ok_or(Error::not_found(Entity::Member))?
        .into_member()?;
    Ok((owners.into_iter().map(|(id,)| id).collect(), member))
}

#[async_trait]
impl MemberStore for Backend {
    async fn create_member(&self, org_id: OrgId, new: &NewMember, audit: &AuditContext) -> Result<Member> {
        let mut tx = self.begin_write().await.map_err(storage)?;
        let member = insert_member(&mut *tx, org_id, new, |e| {
            conflict_or_storage(e, "member_email_taken", "a member with this email exists in the org")
        })
        .await?;
        append(&mut tx, org_id, audit, AuditRecord::member_added(&member)).await?;
        tx.commit().await.map_err(storage)?;
        Ok(member)
    }

    async fn list_members(&self, org_id: OrgId) -> Result<Vec<Member>> {
        sqlx::query_as::<_, MemberRow>(LIST_MEMBERS)
            .bind(org_id.0)
            .fetch_all(&self.pool)
            .await
            .map_err(storage)?
            .into_iter()
            .map(MemberRow::into_member)
            .collect()
    }

    async fn member_by_email(&self, org_id: OrgId, email: &str) -> Result<Option<Member>> {
        sqlx::query_as::<_, MemberRow>(MEMBER_BY_EMAIL)
            .bind(org_id.0)
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(storage)?
            .map(MemberRow::into_member)
            .transpose()
    }

    async fn member_by_id(&self, org_id: OrgId, id: MemberId) -> Result<Option<Member>> {
        sqlx::query_as::<_, MemberRow>(MEMBER_BY_ID)
            .bind(org_id.0)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(storage)?
            .map(MemberRow::into_member)
            .transpose()
    }

    async fn change_member_role(
        &self,
        org_id: OrgId,
        id: MemberId,
        role: Role,
        audit: &AuditContext,
    ) -> Result<Member> {
        let mut tx = self.begin_write().await.map_err(storage)?;
        let (owners, member) = owners_and_member(&mut tx, org_id, id).await?;
        if member.role == Role::Owner && role != Role::Owner && owners.len() <= 1 {
            return Err(last_owner());
        }
        if member.role == role {
            return Ok(member);
        }
        let updated = sqlx::query_as::<_, MemberRow>(UPDATE_MEMBER_ROLE)
            .bind(org_id.0)
            .bind(id.0)
            .bind(role.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(storage)?
            .into_member()?;
        append(&mut tx, org_id, audit, AuditRecord::member_role_changed(&updated, member.role)).await?;
        tx.commit().await.map_err(storage)?;
        Ok(updated)
    }

    async fn remove_member(&self, org_id: OrgId, id: MemberId, audit: &AuditContext) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(storage)?;
        let (owners, member) = owners_and_member(&mut tx, org_id, id).await?;
        if member.role == Role::Owner && owners.len() <= 1 {
            return Err(last_owner());
        }
        for sql in REMOVE_MEMBER {
            sqlx::query(sql).bind(org_id.0).bind(id.0).execute(&mut *tx).await.map_err(storage)?;
        }
        append(&mut tx, org_id, audit, AuditRecord::member_removed(&member)).await?;
        tx.commit().await.map_err(storage)?;
        Ok(())
    }

    async fn create_session(&self, org_id: OrgId, new: &NewSession, audit: &AuditContext) -> Result<Session> {
        let mut tx = self.begin_write().await.map_err(storage)?;
        let session = sqlx::query_as::<_, SessionRow>(INSERT_SESSION)
            .bind(&new.hash.0[..])
            .bind(org_id.0)
            .bind(new.member_id.0)
            .bind(micros(new.created_at))
            .bind(micros(new.expires_at))
            .fetch_optional(&mut *tx)
            .await
            .map_err(storage)?
            .ok_or(Error::not_found(Entity::Member))?
            .into_session()?;
        append(&mut tx, org_id, audit, AuditRecord::member_signed_in(session.member_id)).await?;
        tx.commit().await.map_err(storage)?;
        Ok(session)
    }

    async fn touch_session(
        &self,
        hash: &SessionHash,
        now: Timestamp,
        idle_cutoff: Timestamp,
    ) -> Result<Option<Session>> {
        sqlx::query_as::<_, SessionRow>(TOUCH_SESSION)
            .bind(&hash.0[..])
            .bind(micros(now))
            .bind(micros(idle_cutoff))
            .fetch_optional(&self.pool)
            .await
            .map_err(storage)?
            .map(SessionRow::into_session)
            .transpose()
    }

    async fn delete_session(&self, hash: &SessionHash, audit: &AuditContext) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(storage)?;
        let ended: Option<(Uuid, Uuid)> =
            sqlx::query_as(DELETE_SESSION).bind(&hash.0[..]).fetch_optional(&mut *tx).await.map_err(storage)?;
        let Some((org_id, member_id)) = ended else {
            return Ok(false);
        };
        append(&mut tx, OrgId(org_id), audit, AuditRecord::member_signed_out(MemberId(member_id))).await?;
        tx.commit().await.map_err(storage)?;
        Ok(true)
    }

    async fn delete_expired_sessions(&self, now: Timestamp, idle_cutoff: Timestamp) -> Result<u64> {
        let done = sqlx::query(DELETE_EXPIRED_SESSIONS)
            .bind(micros(now))
            .bind(micros(idle_cutoff))
            .execute(&self.pool)
            .await
            .map_err(storage)?;
        Ok(done.rows_affected())
    }
}

/// A `member` row.
#[derive(sqlx::FromRow)]
struct MemberRow {
    id: Uuid,
    org_id: Uuid,
    email: String,
    role: String,
    password_hash: String,
    created_at: i64,
}

impl MemberRow {
    /// The domain member.
    ///
    /// # Errors
    /// [`Error::Internal`] if the stored email, role or time is invalid (a corrupted row).
    fn into_member(self) -> Result<Member> {
        let corrupt = |what: &str| Error::Internal(format!("member {} has an invalid {what}", self.id));
        Ok(Member {
            id: MemberId(self.id),
            org_id: OrgId(self.org_id),
            email: Email::parse(&self.email).map_err(|_| corrupt("email"))?,
            role: self.role.parse().map_err(|_| corrupt("role"))?,
            password_hash: self.password_hash,
            created_at: timestamp(self.created_at)?,
        })
    }
}

/// A `member_session` row (without the hash).
#[derive(sqlx::FromRow)]
struct SessionRow {
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
    /// [`Error::Internal`] if a stored time is out of range.
    fn into_session(self) -> Result<Session> {
        Ok(Session {
            org_id: OrgId(self.org_id),
            member_id: MemberId(self.member_id),
            created_at: timestamp(self.created_at)?,
            last_seen_at: timestamp(self.last_seen_at)?,
            expires_at: timestamp(self.expires_at)?,
        })
    }
}
