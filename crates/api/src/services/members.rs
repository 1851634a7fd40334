//! Members: the people who sign in to the dashboard: listing, adding, changing roles, removing.
//! Passwords are hashed with argon2id (RFC 9106) on a blocking thread so hashing never stalls the
//! async runtime. The rule that an org keeps at least one owner is the store's (one transaction).

use argon2::{password_hash::SaltString, Argon2, PasswordHasher};
use secrecy::{ExposeSecret, SecretString};
use tessera_core::{AuditContext, Email, Error, Member, MemberId, NewMember, OrgId, Result, Role};
use uuid::Uuid;

use super::now;
use crate::AppState;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest accepted password, in bytes (bounds hashing cost).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes `password` with argon2id (default parameters: 19 MiB, 2 passes, 1 lane) into a PHC string.
///
/// # Errors
/// [`Error::Internal`] if hashing fails.
pub async fn hash_password(password: SecretString) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task failed: {e}")))?
}

/// Checks a new password's length: at least [`MIN_PASSWORD_CHARS`] characters, at most
/// [`MAX_PASSWORD_BYTES`] bytes.
///
/// # Errors
/// [`Error::Invalid`] on field `password` (the message never contains the password).
pub fn validate_password(password: &SecretString) -> Result<()> {
    let pw = password.expose_secret();
    if pw.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::invalid("password", format!("must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    if pw.len() > MAX_PASSWORD_BYTES {
        return Err(Error::invalid("password", format!("must be at most {MAX_PASSWORD_BYTES} bytes")));
    }
    Ok(())
}

/// The org's members, oldest first.
///
/// # Errors
/// Storage errors.
pub async fn list(state: &AppState, org_id: OrgId) -> Result<Vec<Member>> {
    state.store.list_members(org_id).await
}

/// Adds a member with `email`, `role` and `password` to the org.
///
/// # Errors
/// [`Error::Invalid`] for a bad email or a password shorter than 12 characters or longer than
/// 1024 bytes; `Conflict { code: "member_email_taken" }`; storage errors.
pub async fn add(
    state: &AppState,
    org_id: OrgId,
    email: &str,
    role: Role,
    password: SecretString,
    audit: &AuditContext,
) -> Result<Member> {
    let email = Email::parse(email)?;
    validate_password(&password)?;
    let password_hash = hash_password(password).await?;
    let member = NewMember { id: MemberId(Uuid::now_v7()), email, role, password_hash, created_at: now() };
    state.store.create_member(org_id, &member, audit).await
}

/// Gives the org's member `role` and returns the member afterwards. The change applies to their
/// very next request (roles are read with the session on every request).
///
/// # Errors
/// `Conflict { code: "last_owner" }` if that would leave the org without an owner (nothing
/// changes); `NotFound { entity: Entity::Member }`, also for another org's member; storage errors.
pub async fn change_role(
    state: &AppState,
    org_id: OrgId,
    member_id: MemberId,
    role: Role,
    audit: &AuditContext,
) -> Result<Member> {
    state.store.change_member_role(org_id, member_id, role, audit).await
}

/// Removes the org's member and ends their sessions. API keys they generated and tokens they
/// issued keep working and lose their attribution.
///
/// # Errors
/// `Conflict { code: "last_owner" }` if they are the org's only owner (nothing changes);
/// `NotFound { entity: Entity::Member }`, also for another org's member; storage errors.
pub async fn remove(state: &AppState, org_id: OrgId, member_id: MemberId, audit: &AuditContext) -> Result<()> {
    state.store.remove_member(org_id, member_id, audit).await
}
