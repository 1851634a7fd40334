//! Wire types of the REST API: the JSON the API sends. Times are RFC 3339 strings in UTC.

use serde::Serialize;
use tessera_core::{Timestamp, TokenStatus, User, UserToken};
use utoipa::ToSchema;

/// A user object: `{"id", "account", "platform", "display_name", "metadata", "created_at", "updated_at"}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5c4-7e1f-7c3a-9d2b-5f6e7a8b9c0d", "account": "user-42", "platform": "web",
    "display_name": "Ada", "metadata": {"plan": "pro"}, "created_at": "2026-11-21T12:00:00.123456Z",
    "updated_at": "2026-11-21T12:00:00.123456Z"}))]
pub struct UserOut {
    /// User id (UUID), the `sub` of their tokens.
    pub id: String,
    /// The org's id for the user.
    pub account: String,
    /// Their platform.
    pub platform: String,
    /// Optional display name.
    pub display_name: Option<String>,
    /// JSON object.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        Self {
            id: u.id.to_string(),
            account: u.account.into(),
            platform: u.platform.into(),
            display_name: u.display_name,
            metadata: u.metadata.into(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A token in a list: `{"id", "status", "issued_at", "expires_at", "revoked_at"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserTokenOut {
    /// Token id (= `jti`).
    pub id: String,
    /// `active`, `expired` or `revoked`, at the time of the response.
    #[schema(value_type = String, example = "active")]
    pub status: TokenStatus,
    /// Issue time.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: time::OffsetDateTime,
    /// Expiry; `null` for a permanent token.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<time::OffsetDateTime>,
    /// Revocation time, if revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<time::OffsetDateTime>,
}

impl UserTokenOut {
    /// The wire form of `t` with its status at `now`.
    pub fn new(t: UserToken, now: Timestamp) -> Self {
        Self {
            id: t.id.to_string(),
            status: t.status(now),
            issued_at: t.issued_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A page of a list: `{"data": [...], "next_cursor": string|null}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListOut<T> {
    /// The rows.
    pub data: Vec<T>,
    /// Cursor for the next page, `null` on the last.
    pub next_cursor: Option<String>,
}
