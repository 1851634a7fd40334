//! Members: people of an org who sign in to the dashboard, with a role.

use serde::{Deserialize, Serialize};

use crate::{Error, MemberId, OrgId, Result, Timestamp};

/// A member's role. `viewer` reads everything but secrets; `admin` also manages API keys, tokens
/// and users; `owner` also manages members, signing keys and org settings (docs/architecture.md "Roles").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read-only.
    Viewer,
    /// Day-to-day operations.
    Admin,
    /// Everything.
    Owner,
}

impl Role {
    /// The lowercase wire and database name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Whether this role includes everything `other` may do.
    pub fn at_least(&self, other: Role) -> bool {
        *self >= other
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "admin" => Ok(Role::Admin),
            "owner" => Ok(Role::Owner),
            _ => Err(Error::invalid("role", "must be one of owner, admin, viewer")),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A normalized email address (trimmed, lowercased), at most 254 bytes (RFC 5321 §4.5.3.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Validates and normalizes `s`: one `@` with something on both sides, no spaces.
    ///
    /// # Errors
    /// [`Error::Invalid`] on field `email`.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim().to_lowercase();
        let valid = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(s.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if valid {
            Ok(Self(s))
        } else {
            Err(Error::invalid("email", "must be an email address such as ada@example.com"))
        }
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

/// A stored member. The password hash is an argon2id PHC string and never leaves the server.
#[derive(Clone, PartialEq, Eq)]
pub struct Member {
    /// Row id.
    pub id: MemberId,
    /// Their org.
    pub org_id: OrgId,
    /// Sign-in address, unique within the org.
    pub email: Email,
    /// What they may do.
    pub role: Role,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Creation time.
    pub created_at: Timestamp,
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// What a store needs to insert a member.
#[derive(Clone)]
pub struct NewMember {
    /// Row id (UUIDv7).
    pub id: MemberId,
    /// Sign-in address.
    pub email: Email,
    /// Role.
    pub role: Role,
    /// argon2id PHC string, already hashed.
    pub password_hash: String,
    /// Creation time.
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(Email::parse(" Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        for bad in ["", "ada", "@x", "ada@", "a b@x", "a@b@c"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Owner.at_least(Role::Admin));
        assert!(Role::Admin.at_least(Role::Viewer));
        assert!(!Role::Viewer.at_least(Role::Admin));
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
        assert!("root".parse::<Role>().is_err());
    }
}
