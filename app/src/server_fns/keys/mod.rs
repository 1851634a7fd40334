//! API keys: list, generate (the secret is returned once), revoke.

mod generate;
mod list;
mod revoke;

use serde::{Deserialize, Serialize};

pub use generate::{generate_key, GenerateKey, EXPIRY_CHOICES};
pub use list::{list_keys, ListKeys};
pub use revoke::{revoke_key, RevokeKey};

/// A key's state at the time of listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    /// Usable.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked.
    Revoked,
}

/// One row of the keys table. Times are preformatted on the server (UTC) so the server-rendered
/// and hydrated pages agree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    /// Name chosen by its creator.
    pub name: String,
    /// The 8 characters after `tsk_`.
    pub prefix: String,
    /// The creator's email, or `None` (CLI, or a removed member).
    pub created_by: Option<String>,
    /// Creation time, e.g. `2026-11-21 15:04 UTC`.
    pub created: String,
    /// Last use, or `None` if never used.
    pub last_used: Option<String>,
    /// Expiry, or `None` if it never expires.
    pub expires: Option<String>,
    /// Status now.
    pub status: KeyStatus,
}

/// The keys page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyList {
    /// Newest first.
    pub keys: Vec<KeyRow>,
    /// Whether the viewer may generate and revoke keys (admin or owner).
    pub can_manage: bool,
}

/// A key just generated: the full secret, to be shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedKey {
    /// The key's name.
    pub name: String,
    /// The 8 characters after `tsk_`.
    pub prefix: String,
    /// The whole key, `tsk_…` (42 characters). Not kept anywhere after this response.
    pub secret: String,
}
