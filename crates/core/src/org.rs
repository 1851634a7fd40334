//! Organizations (tenants). Every other row belongs to exactly one org.

use serde::{Deserialize, Serialize};

use crate::{Error, OrgId, Result, Timestamp};

/// Lifetime of a user token issued without `ttl_seconds` or `permanent`, unless the org changes it:
/// 3600 seconds.
pub const DEFAULT_TOKEN_TTL_SECONDS: i64 = 3600;

/// An org's URL-safe short name, used in its issuer URL `{public_url}/o/{slug}` and as the `aud`
/// claim of its tokens: 2–63 characters of `[a-z0-9-]`, starting and ending with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgSlug(String);

impl OrgSlug {
    /// Validates `s` as a slug.
    ///
    /// # Errors
    /// [`Error::Invalid`] on field `slug`, saying which rule fails.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |m: &str| Err(Error::invalid("slug", m));
        if s.len() < 2 || s.len() > 63 {
            return bad("must be 2 to 63 characters long");
        }
        if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return bad("may contain only lowercase letters a-z, digits and '-'");
        }
        if s.starts_with('-') || s.ends_with('-') {
            return bad("must start and end with a letter or digit");
        }
        Ok(Self(s.to_owned()))
    }

    /// The slug as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrgSlug {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<OrgSlug> for String {
    fn from(s: OrgSlug) -> String {
        s.0
    }
}

impl std::fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    /// Row id.
    pub id: OrgId,
    /// Unique short name.
    pub slug: OrgSlug,
    /// Display name, 1–100 characters.
    pub name: String,
    /// Lifetime in seconds of tokens issued without an explicit lifetime.
    pub default_token_ttl_seconds: i64,
    /// Creation time.
    pub created_at: Timestamp,
}

/// What a store needs to insert an org.
#[derive(Clone, Debug)]
pub struct NewOrg {
    /// Row id (UUIDv7).
    pub id: OrgId,
    /// Unique short name.
    pub slug: OrgSlug,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: Timestamp,
}

/// Validates an org's display name: 1–100 characters after trimming, no control characters.
///
/// # Errors
/// [`Error::Invalid`] on field `name`.
pub fn validate_org_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "must be at most 100 characters, without control characters"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_documented_rules() {
        for ok in ["acme", "a1", "acme-corp", "0x-labs"] {
            assert_eq!(OrgSlug::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "a", "Acme", "acme_corp", "-acme", "acme-", "ac me", &"a".repeat(64)] {
            assert!(matches!(OrgSlug::parse(bad), Err(Error::Invalid(_))), "{bad:?}");
        }
    }
}
