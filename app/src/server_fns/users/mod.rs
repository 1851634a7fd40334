//! End users and their tokens: the users table (search, platform filter, pages), one user's
//! profile and tokens, issuing a token (returned once) and revoking one or all of them.

mod get;
mod issue;
mod list;
mod revoke;
mod revoke_all;

use serde::{Deserialize, Serialize};
use tessera_core::TokenStatus;

pub use get::{get_user, GetUser};
pub use issue::{issue_token, IssueToken, LIFETIME_CHOICES};
pub use list::{list_users, ListUsers, PAGE_SIZE};
pub use revoke::{revoke_token, RevokeToken};
pub use revoke_all::{revoke_all_tokens, RevokeAllTokens};

/// One row of the users table. Times are preformatted on the server (UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// The user's id (hyphenated UUID), the `sub` of their tokens.
    pub id: String,
    /// The org's id for the user.
    pub account: String,
    /// Where the user comes from, e.g. `web`.
    pub platform: String,
    /// Optional name to show.
    pub display_name: Option<String>,
    /// Creation time, e.g. `2026-11-21 15:04 UTC`.
    pub created: String,
}

/// One page of the users table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    /// Newest first; at most the page size.
    pub users: Vec<UserRow>,
    /// Cursor of the next page, `None` on the last page.
    pub next_cursor: Option<String>,
}

/// One row of a user's tokens table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// The token's id (= its `jti`, hyphenated UUID).
    pub id: String,
    /// Status now.
    pub status: TokenStatus,
    /// Issue time, e.g. `2026-11-21 15:04 UTC`.
    pub issued: String,
    /// Expiry, or `None` for a permanent token.
    pub expires: Option<String>,
    /// Revocation time, if revoked.
    pub revoked: Option<String>,
    /// Who asked for it: `API key <name> (tsk_<prefix>…)`, a member's email, or `None` when
    /// unknown (the member was removed, or the row predates attribution).
    pub issued_by: Option<String>,
    /// Whether this is the user's permanent token handed out by `GET /token`.
    pub is_default: bool,
}

/// The user page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    /// The user's id (hyphenated UUID).
    pub id: String,
    /// The org's id for the user.
    pub account: String,
    /// The user's platform.
    pub platform: String,
    /// Optional name to show.
    pub display_name: Option<String>,
    /// The metadata object as indented JSON (`{}` when empty).
    pub metadata: String,
    /// Creation time, e.g. `2026-11-21 15:04 UTC`.
    pub created: String,
    /// Last change.
    pub updated: String,
    /// One page of tokens, newest first.
    pub tokens: Vec<TokenRow>,
    /// Cursor of the next (older) page of tokens, if any.
    pub next_tokens_cursor: Option<String>,
    /// Whether the user has any active token (on any page).
    pub has_active: bool,
    /// Whether the viewer may issue and revoke tokens (admin or owner).
    pub can_manage: bool,
}

/// A token just issued: the JWT, to be shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    /// The token's id (= `jti`).
    pub id: String,
    /// The compact JWT (`header.claims.signature`, base64url).
    pub jwt: String,
    /// Expiry, or `None` for a permanent token.
    pub expires: Option<String>,
}
