//! Members of the org: the list, and (owners only) adding one, changing a role, removing one.
//! The last owner can be neither demoted nor removed; the store enforces it.

mod add;
mod change_role;
mod list;
mod remove;

use serde::{Deserialize, Serialize};
use tessera_core::Role;

pub use add::{add_member, AddMember};
pub use change_role::{change_member_role, ChangeMemberRole};
pub use list::{list_members, ListMembers};
pub use remove::{remove_member, RemoveMember};

/// Roles in the forms' order: `(value, label)`.
pub const ROLE_CHOICES: [(Role, &str); 3] = [(Role::Viewer, "Viewer"), (Role::Admin, "Admin"), (Role::Owner, "Owner")];

/// One row of the members table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    /// The member's id (hyphenated UUID).
    pub id: String,
    /// Sign-in address.
    pub email: String,
    /// Role now.
    pub role: Role,
    /// When they were added, e.g. `2026-11-21 15:04 UTC`.
    pub added: String,
    /// Whether this row is the member looking at the page.
    pub is_you: bool,
}

/// The members page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberList {
    /// Oldest first.
    pub members: Vec<MemberRow>,
    /// Whether the viewer may add members, change roles and remove members (owners only).
    pub can_manage: bool,
}
