//! Member sessions of the dashboard and the numbers its overview shows.
//!
//! A session is a server-side row keyed by the SHA-256 of a random token; the token itself lives
//! only in the member's `HttpOnly` cookie. A session ends at the first of: sign-out (the row is
//! deleted), [`SESSION_IDLE_TIMEOUT_SECONDS`] without a request, or
//! [`SESSION_ABSOLUTE_LIFETIME_SECONDS`] after sign-in.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand_core::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::{MemberId, OrgId, Timestamp};

/// A session unused for this long is over: 12 hours (43,200 seconds).
pub const SESSION_IDLE_TIMEOUT_SECONDS: i64 = 12 * 3600;
/// A session is over this long after sign-in, however active: 7 days (604,800 seconds).
pub const SESSION_ABSOLUTE_LIFETIME_SECONDS: i64 = 7 * 24 * 3600;
/// Random bytes in a session token (256 bits), written as 43 base64url characters.
pub const SESSION_TOKEN_BYTES: usize = 32;

/// The plaintext session token carried by the cookie. `Debug` never shows it.
#[derive(Clone)]
pub struct SessionToken(SecretString);

impl SessionToken {
    /// A new random token drawn from `rng`, which must be a cryptographically secure generator.
    pub fn generate(rng: &mut impl RngCore) -> Self {
        let mut bytes = [0u8; SESSION_TOKEN_BYTES];
        rng.fill_bytes(&mut bytes);
        Self(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The token as presented by a cookie. `None` unless it is 43 base64url characters (anything
    /// else cannot be a token this server issued, so no lookup is needed).
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(SecretString::from(s.to_owned())))
    }

    /// The plaintext, for the `Set-Cookie` header only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// SHA-256 of the token, the only form that is stored.
    pub fn hash(&self) -> SessionHash {
        SessionHash(Sha256::digest(self.expose().as_bytes()).into())
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

/// SHA-256 of a session token (32 bytes): the primary key of a stored session.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionHash(pub [u8; 32]);

impl std::fmt::Debug for SessionHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionHash(..)")
    }
}

/// A stored session (without its hash, which only lookups need).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The member's org.
    pub org_id: OrgId,
    /// Who signed in.
    pub member_id: MemberId,
    /// Sign-in time.
    pub created_at: Timestamp,
    /// Time of the latest request made with the session.
    pub last_seen_at: Timestamp,
    /// Absolute end: `created_at` + [`SESSION_ABSOLUTE_LIFETIME_SECONDS`].
    pub expires_at: Timestamp,
}

impl Session {
    /// Whether the session may still be used at `now` (neither idle too long nor past its
    /// absolute end).
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.expires_at && (now - self.last_seen_at).whole_seconds() < SESSION_IDLE_TIMEOUT_SECONDS
    }
}

/// What a store needs to insert a session.
#[derive(Clone, Debug)]
pub struct NewSession {
    /// SHA-256 of the token.
    pub hash: SessionHash,
    /// Who signs in.
    pub member_id: MemberId,
    /// Sign-in time (also the first `last_seen_at`).
    pub created_at: Timestamp,
    /// Absolute end.
    pub expires_at: Timestamp,
}

/// The overview's counts for one org at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrgCounts {
    /// End users.
    pub users: u64,
    /// User tokens neither revoked nor expired.
    pub active_tokens: u64,
    /// API keys neither revoked nor expired.
    pub active_api_keys: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};
    use time::macros::datetime;

    #[test]
    fn tokens_parse_hash_and_hide() {
        let token = SessionToken::generate(&mut StdRng::seed_from_u64(5));
        assert_eq!(token.expose().len(), 43);
        let again = SessionToken::parse(token.expose()).expect("a generated token parses");
        assert_eq!(again.hash(), token.hash());
        assert_ne!(SessionToken::generate(&mut StdRng::seed_from_u64(6)).hash(), token.hash());
        assert!(!format!("{token:?}").contains(token.expose()));
        for bad in ["", "short", &format!("{}=", &token.expose()[..42]), &format!("{}x", token.expose())] {
            assert!(SessionToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let t0 = datetime!(2026-01-01 00:00 UTC);
        let s = Session {
            org_id: OrgId(uuid::Uuid::nil()),
            member_id: MemberId(uuid::Uuid::nil()),
            created_at: t0,
            last_seen_at: t0,
            expires_at: t0 + time::Duration::seconds(SESSION_ABSOLUTE_LIFETIME_SECONDS),
        };
        assert!(s.is_live(t0 + time::Duration::seconds(SESSION_IDLE_TIMEOUT_SECONDS - 1)));
        assert!(!s.is_live(t0 + time::Duration::seconds(SESSION_IDLE_TIMEOUT_SECONDS)));
        let busy = Session { last_seen_at: s.expires_at - time::Duration::seconds(1), ..s.clone() };
        assert!(busy.is_live(s.expires_at - time::Duration::milliseconds(1)));
        assert!(!busy.is_live(s.expires_at));
    }
}
