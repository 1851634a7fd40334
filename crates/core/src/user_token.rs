//! User tokens: the JWT claims and the metadata row kept for listing and revocation.
//!
//! The row holds no secret. A token is an Ed25519 signature over its claims, and Ed25519
//! signatures are deterministic (RFC 8032 §5.1.6), so the exact same token string can be
//! produced again from the row and the signing key; that is how `GET /token` hands out the same
//! permanent token again without storing it.

use serde::{Deserialize, Serialize};

use crate::{ApiKeyId, MemberId, OrgId, PageRequest, SigningKeyId, Timestamp, UserId, UserTokenId};

/// The claims of a user token (RFC 7519 §4.1 plus Tessera's `account` and `platform`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserTokenClaims {
    /// Token id (hyphenated UUID); the metadata row's id.
    pub jti: String,
    /// Subject: the user's id (hyphenated UUID).
    pub sub: String,
    /// Issuer: `{public_url}/o/{org_slug}`.
    pub iss: String,
    /// Audience: the org slug.
    pub aud: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expiry, seconds since the Unix epoch; absent for permanent tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// The org's id for the user.
    pub account: String,
    /// The user's platform.
    pub platform: String,
}

/// Who issued a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum IssuedBy {
    /// An integrator's backend, with this API key.
    ApiKey(ApiKeyId),
    /// A member, from the dashboard.
    Member(MemberId),
}

/// A token's state at a given instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStatus {
    /// Valid: not revoked and not past `exp`.
    Active,
    /// Past its `exp`.
    Expired,
    /// Revoked (revocation wins over expiry).
    Revoked,
}

impl TokenStatus {
    /// The lowercase wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
        }
    }
}

impl std::str::FromStr for TokenStatus {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "active" => Ok(Self::Active),
            "expired" => Ok(Self::Expired),
            "revoked" => Ok(Self::Revoked),
            _ => Err(crate::Error::invalid("status", "must be one of active, expired, revoked")),
        }
    }
}

/// The stored metadata of a user token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserToken {
    /// Token id = `jti`.
    pub id: UserTokenId,
    /// Its org.
    pub org_id: OrgId,
    /// Its user (`sub`).
    pub user_id: UserId,
    /// The key that signed it (`kid`).
    pub signing_key_id: SigningKeyId,
    /// Issue time, microsecond precision; `iat` is its whole seconds.
    pub issued_at: Timestamp,
    /// Expiry; `None` for a permanent token.
    pub expires_at: Option<Timestamp>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<Timestamp>,
    /// Whether this is the user's default permanent token, the one `GET /token` returns again.
    /// At most one unrevoked default token exists per user.
    pub is_default: bool,
    /// Who asked for it.
    pub issued_by: Option<IssuedBy>,
}

impl UserToken {
    /// The token's status at `now`.
    pub fn status(&self, now: Timestamp) -> TokenStatus {
        if self.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if self.expires_at.is_some_and(|exp| exp <= now) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }

    /// `iat`: issue time in whole seconds since the Unix epoch.
    pub fn iat(&self) -> i64 {
        self.issued_at.unix_timestamp()
    }

    /// `exp`: expiry in whole seconds since the Unix epoch, if any.
    pub fn exp(&self) -> Option<i64> {
        self.expires_at.map(|t| t.unix_timestamp())
    }
}

/// What a store needs to insert a user token's row.
#[derive(Clone, Debug)]
pub struct NewUserToken {
    /// Token id = `jti` (UUIDv7).
    pub id: UserTokenId,
    /// Its user.
    pub user_id: UserId,
    /// The signing key.
    pub signing_key_id: SigningKeyId,
    /// Issue time.
    pub issued_at: Timestamp,
    /// Expiry; `None` for permanent.
    pub expires_at: Option<Timestamp>,
    /// See [`UserToken::is_default`].
    pub is_default: bool,
    /// Who asked for it.
    pub issued_by: Option<IssuedBy>,
}

/// Filter and page of a user's tokens, newest first.
#[derive(Clone, Debug, Default)]
pub struct TokenQuery {
    /// Only tokens with this status at `now`.
    pub status: Option<TokenStatus>,
    /// Which page.
    pub page: PageRequest,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    fn token() -> UserToken {
        UserToken {
            id: UserTokenId(Uuid::nil()),
            org_id: OrgId(Uuid::nil()),
            user_id: UserId(Uuid::nil()),
            signing_key_id: SigningKeyId(Uuid::nil()),
            issued_at: datetime!(2026-01-01 00:00:00.75 UTC),
            expires_at: Some(datetime!(2026-01-01 01:00:00 UTC)),
            revoked_at: None,
            is_default: false,
            issued_by: None,
        }
    }

    #[test]
    fn status_follows_expiry_and_revocation() {
        let t = token();
        assert_eq!(t.status(datetime!(2026-01-01 00:59:59 UTC)), TokenStatus::Active);
        assert_eq!(t.status(datetime!(2026-01-01 01:00:00 UTC)), TokenStatus::Expired);
        let revoked = UserToken { revoked_at: Some(datetime!(2026-01-01 00:30:00 UTC)), ..t };
        assert_eq!(revoked.status(datetime!(2026-01-01 00:10:00 UTC)), TokenStatus::Revoked);
        assert_eq!(revoked.status(datetime!(2027-01-01 00:00:00 UTC)), TokenStatus::Revoked);
    }

    #[test]
    fn iat_is_whole_seconds_and_permanent_tokens_omit_exp() {
        let t = token();
        assert_eq!(t.iat(), 1_767_225_600);
        let claims = UserTokenClaims {
            jti: "j".into(),
            sub: "s".into(),
            iss: "i".into(),
            aud: "a".into(),
            iat: 1,
            exp: None,
            account: "acc".into(),
            platform: "web".into(),
        };
        let json = serde_json::to_value(&claims).unwrap();
        assert!(json.get("exp").is_none(), "{json}");
    }
}
