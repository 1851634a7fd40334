//! Typed identifiers: one newtype per entity so an org id can never be passed where a user id
//! is expected. All are UUIDs; new ones are made by the caller (UUIDv7, time-ordered), since this
//! crate has no randomness source.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// Identifies an organization (tenant).
    OrgId
);
id_type!(
    /// Identifies a member of an organization.
    MemberId
);
id_type!(
    /// Identifies an API key (not the secret: the row).
    ApiKeyId
);
id_type!(
    /// Identifies an end user of an organization.
    UserId
);
id_type!(
    /// Identifies a user token; it is also the token's `jti` claim (RFC 7519 §4.1.7).
    UserTokenId
);
id_type!(
    /// Identifies a signing key; its hyphenated form is the JWT header's `kid` (RFC 7515 §4.1.4).
    SigningKeyId
);
