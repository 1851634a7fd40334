//! Signing keys: an org's Ed25519 key pairs. The public half is published in the org's JWKS;
//! the private half is stored only encrypted with the server's master key.

use serde::{Deserialize, Serialize};

use crate::{OrgId, SigningKeyId, Timestamp};

/// A stored signing key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    /// Row id; its hyphenated form is the `kid`.
    pub id: SigningKeyId,
    /// Its org.
    pub org_id: OrgId,
    /// JOSE algorithm name (RFC 8037 §3.1): `EdDSA`.
    pub algorithm: String,
    /// The raw 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
    /// The PKCS#8 private key, sealed with the master key (nonce ‖ ciphertext ‖ tag).
    pub encrypted_private_key: Vec<u8>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Whether new tokens are signed with it. Retired keys stay in the JWKS so live tokens verify.
    pub active: bool,
}

impl SigningKey {
    /// The JWT header `kid` (RFC 7515 §4.1.4).
    pub fn kid(&self) -> String {
        self.id.to_string()
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("algorithm", &self.algorithm)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// What a store needs to insert a signing key.
#[derive(Clone)]
pub struct NewSigningKey {
    /// Row id (UUIDv7).
    pub id: SigningKeyId,
    /// `EdDSA`.
    pub algorithm: String,
    /// Raw public key.
    pub public_key: Vec<u8>,
    /// Sealed private key.
    pub encrypted_private_key: Vec<u8>,
    /// Creation time.
    pub created_at: Timestamp,
}
