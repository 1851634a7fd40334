//! End users: the people of an org's own product, identified by `(platform, account)`.

use serde::{Deserialize, Serialize};

use crate::{Error, OrgId, PageRequest, Result, Timestamp, UserId};

/// Maximum length in bytes of `account`, `platform` and `display_name`.
pub const MAX_NAME_BYTES: usize = 255;
/// Maximum size in bytes of a user's serialized `metadata`: 16 KiB.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// The platform used where a request leaves it out.
pub const DEFAULT_PLATFORM: &str = "default";

fn check_text(field: &str, s: &str) -> Result<()> {
    if s.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if s.len() > MAX_NAME_BYTES {
        return Err(Error::invalid(field, format!("must be at most {MAX_NAME_BYTES} bytes")));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Validates `s` as a `", $field, "`: not blank, at most 255 bytes, no control characters.\n\n# Errors\n[`Error::Invalid`] on field `", $field, "`.")]
            pub fn parse(s: &str) -> Result<Self> {
                check_text($field, s)?;
                Ok(Self(s.to_owned()))
            }

            /// The value as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self> {
                check_text($field, &s)?;
                Ok(Self(s))
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// The org's own identifier for a user (a user id, an email, a wallet address…).
    Account,
    "account"
);
text_type!(
    /// A short name for where the user comes from, such as `web` or `discord`; `default` if omitted.
    Platform,
    "platform"
);

impl Default for Platform {
    fn default() -> Self {
        Self(DEFAULT_PLATFORM.to_owned())
    }
}

/// Validates an optional display name (same rules as `account`, field `display_name`).
///
/// # Errors
/// [`Error::Invalid`] on field `display_name`.
pub fn validate_display_name(name: Option<&str>) -> Result<Option<String>> {
    match name {
        None => Ok(None),
        Some(n) => {
            check_text("display_name", n)?;
            Ok(Some(n.to_owned()))
        }
    }
}

/// A user's free-form JSON metadata: always an object, at most 16 KiB serialized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value", into = "serde_json::Value")]
pub struct Metadata(serde_json::Map<String, serde_json::Value>);

impl Metadata {
    /// Validates `value` as metadata.
    ///
    /// # Errors
    /// [`Error::Invalid`] on field `metadata` if it is not an object, is over 16 KiB, or has a key
    /// or string containing U+0000 (which PostgreSQL's `jsonb` cannot store, so no backend does).
    pub fn parse(value: serde_json::Value) -> Result<Self> {
        let serde_json::Value::Object(map) = value else {
            return Err(Error::invalid("metadata", "must be a JSON object"));
        };
        if map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)) {
            return Err(Error::invalid("metadata", "must not contain the character U+0000 in keys or strings"));
        }
        let size = serde_json::to_vec(&map).map(|v| v.len()).unwrap_or(usize::MAX);
        if size > MAX_METADATA_BYTES {
            return Err(Error::invalid(
                "metadata",
                format!("must be at most {MAX_METADATA_BYTES} bytes when serialized"),
            ));
        }
        Ok(Self(map))
    }

    /// The JSON object.
    pub fn as_map(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }
}

/// Whether `v` holds a key or string containing U+0000, at any depth.
fn has_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(a) => a.iter().any(has_nul),
        serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

impl Default for Metadata {
    fn default() -> Self {
        Self(serde_json::Map::new())
    }
}

impl TryFrom<serde_json::Value> for Metadata {
    type Error = Error;
    fn try_from(v: serde_json::Value) -> Result<Self> {
        Self::parse(v)
    }
}

impl From<Metadata> for serde_json::Value {
    fn from(m: Metadata) -> Self {
        serde_json::Value::Object(m.0)
    }
}

/// A stored end user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Row id; the `sub` claim of the user's tokens.
    pub id: UserId,
    /// Their org.
    pub org_id: OrgId,
    /// The org's id for them; unique together with `platform` within the org.
    pub account: Account,
    /// Where they come from.
    pub platform: Platform,
    /// Optional name to show.
    pub display_name: Option<String>,
    /// Free-form JSON object.
    pub metadata: Metadata,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Create-or-update of a user by `(platform, account)`.
#[derive(Clone, Debug)]
pub struct UserUpsert {
    /// Row id to use if the user is new (UUIDv7).
    pub id: UserId,
    /// Identity within the org.
    pub account: Account,
    /// Identity within the org.
    pub platform: Platform,
    /// If `Some`, set on create and replaces the stored one on update.
    pub display_name: Option<String>,
    /// If `Some`, set on create and replaces the stored one on update.
    pub metadata: Option<Metadata>,
    /// Now: `created_at` for a new user, `updated_at` when something changes.
    pub now: Timestamp,
}

/// Filter and page of an org's users (`GET /v1/users`), newest first (`created_at` desc, then id
/// desc).
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Only users whose `account` or `display_name` contains this text, compared case-insensitively
    /// (`%`, `_` and `\` are literal characters, not wildcards). Case folding is ASCII-only on
    /// SQLite and Unicode-aware on PostgreSQL. `None` or `""` matches every user.
    pub q: Option<String>,
    /// Only users of exactly this platform.
    pub platform: Option<Platform>,
    /// Which page.
    pub page: PageRequest,
}

/// A partial update of one user (`PATCH /v1/users/{id}`). Outer `None` leaves a field unchanged.
///
/// The store does not validate: the caller checks `display_name` with [`validate_display_name`]
/// and builds `metadata` with [`Metadata::parse`].
#[derive(Clone, Debug)]
pub struct UserPatch {
    /// `Some(Some(name))` sets the display name, `Some(None)` clears it, `None` keeps it.
    pub display_name: Option<Option<String>>,
    /// If `Some`, replaces the stored metadata (whole object, not merged).
    pub metadata: Option<Metadata>,
    /// Now: the new `updated_at`, applied only if a stored value actually changes.
    pub now: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_fields_reject_blank_long_and_control() {
        assert!(Account::parse("user-42").is_ok());
        assert!(Account::parse(&"é".repeat(127)).is_ok()); // 254 bytes
        assert!(Account::parse(&"é".repeat(128)).is_err()); // 256 bytes
        assert!(Account::parse("  ").is_err());
        assert!(Platform::parse("we\u{0}b").is_err());
        assert_eq!(Platform::default().as_str(), "default");
    }

    #[test]
    fn metadata_must_be_a_small_object() {
        assert!(Metadata::parse(json!({"plan": "pro"})).is_ok());
        assert!(Metadata::parse(json!([1, 2])).is_err());
        assert!(Metadata::parse(json!("x")).is_err());
        assert!(Metadata::parse(json!({"x": "a".repeat(16 * 1024)})).is_err());
        assert!(Metadata::parse(json!({"a": {"b": ["\u{0}"]}})).is_err());
        assert!(Metadata::parse(json!({"a": {"\u{0}": null}})).is_err());
        assert!(Metadata::parse(json!({"tab\t": "\u{1}"})).is_ok(), "other control characters are fine");
        let err = serde_json::from_value::<Metadata>(json!(3)).unwrap_err();
        assert!(err.to_string().contains("metadata"), "{err}");
    }
}
