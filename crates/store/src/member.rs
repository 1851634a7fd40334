//! Members: SQL text and row type.

use tessera_core::{Email, Error, Member, MemberId, OrgId, Result};
use uuid::Uuid;

use crate::convert::timestamp;

/// `$1` id, `$2` org_id, `$3` email, `$4` role, `$5` password_hash, `$6` created_at.
pub(crate) const INSERT_MEMBER: &str = "insert into member (id, org_id, email, role, password_hash, created_at) \
     values ($1, $2, $3, $4, $5, $6) \
     returning id, org_id, email, role, password_hash, created_at";

/// A `member` row.
#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
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
    pub(crate) fn into_member(self) -> Result<Member> {
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
