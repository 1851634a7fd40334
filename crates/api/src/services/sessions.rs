//! Member sessions of the dashboard: starting one at sign-in, finding the member behind a
//! session cookie (which also keeps the session alive), ending it, and role checks.
//!
//! The cookie holds a random 256-bit token; the database holds only its SHA-256
//! ([`tessera_core::session`] has the format and the idle and absolute limits).

use tessera_core::{
    session::{SESSION_ABSOLUTE_LIFETIME_SECONDS, SESSION_IDLE_TIMEOUT_SECONDS},
    AuditContext, Email, Error, Member, MemberId, NewSession, Org, Result, Role, Session, SessionToken,
};

use super::now;
use crate::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tessera_session";

/// The member behind a live session: what every dashboard server function starts from.
#[derive(Clone, Debug)]
pub struct SignedInMember {
    /// Their org; every call they make is scoped to it.
    pub org: Org,
    /// Their id.
    pub member_id: MemberId,
    /// Their sign-in address.
    pub email: Email,
    /// Their role at the time of this request.
    pub role: Role,
}

impl SignedInMember {
    /// `Ok` if the member's role includes `needed` (`viewer` < `admin` < `owner`).
    ///
    /// # Errors
    /// [`Error::Forbidden`] naming the role needed.
    pub fn require(&self, needed: Role) -> Result<()> {
        require_role(self.role, needed)
    }
}

/// `Ok` if a member with role `role` may do what needs `needed` (`viewer` < `admin` < `owner`).
///
/// # Errors
/// [`Error::Forbidden`] naming the role needed and the member's.
pub fn require_role(role: Role, needed: Role) -> Result<()> {
    if role.at_least(needed) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!("this needs the {needed} role; you are a {role}")))
    }
}

/// Starts a session for `member`, ending [`SESSION_ABSOLUTE_LIFETIME_SECONDS`] from now at the
/// latest. Returns the token for the cookie (it is stored nowhere) and the session.
///
/// # Errors
/// `NotFound { entity: Entity::Member }` if the member was removed meanwhile; storage errors.
pub async fn start(state: &AppState, member: &Member, audit: &AuditContext) -> Result<(SessionToken, Session)> {
    let token = SessionToken::generate(&mut rand::rngs::OsRng);
    let now = now();
    let new = NewSession {
        hash: token.hash(),
        member_id: member.id,
        created_at: now,
        expires_at: now + time::Duration::seconds(SESSION_ABSOLUTE_LIFETIME_SECONDS),
    };
    let session = state.store.create_session(member.org_id, &new, audit).await?;
    Ok((token, session))
}

/// The member behind the session token `presented` (a cookie value), if the session is live;
/// marks it as used now (which restarts the idle timeout). A malformed token is `None` without a
/// database lookup; so is the session of a member who was removed.
///
/// # Errors
/// Storage errors.
pub async fn authenticate(state: &AppState, presented: &str) -> Result<Option<SignedInMember>> {
    let Some(token) = SessionToken::parse(presented) else {
        return Ok(None);
    };
    let now = now();
    let Some(session) = state.store.touch_session(&token.hash(), now, idle_cutoff(now)).await? else {
        return Ok(None);
    };
    let Some(member) = state.store.member_by_id(session.org_id, session.member_id).await? else {
        return Ok(None);
    };
    let Some(org) = state.store.org_by_id(session.org_id).await? else {
        return Ok(None);
    };
    Ok(Some(SignedInMember { org, member_id: member.id, email: member.email, role: member.role }))
}

/// Ends the session of token `presented` (sign-out): its row is deleted, so the cookie is
/// useless even if it was copied. A malformed or unknown token is a no-op.
///
/// # Errors
/// Storage errors.
pub async fn end(state: &AppState, presented: &str, audit: &AuditContext) -> Result<()> {
    if let Some(token) = SessionToken::parse(presented) {
        state.store.delete_session(&token.hash(), audit).await?;
    }
    Ok(())
}

/// Deletes every session that has ended (housekeeping); returns how many.
///
/// # Errors
/// Storage errors.
pub async fn purge_expired(state: &AppState) -> Result<u64> {
    let now = now();
    state.store.delete_expired_sessions(now, idle_cutoff(now)).await
}

fn idle_cutoff(now: tessera_core::Timestamp) -> tessera_core::Timestamp {
    now - time::Duration::seconds(SESSION_IDLE_TIMEOUT_SECONDS)
}
