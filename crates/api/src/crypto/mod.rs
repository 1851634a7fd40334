//! Key material: the master key that seals signing keys at rest, and the in-memory ring of
//! decrypted signing keys used to sign and verify user tokens.

mod keyring;
mod master_key;

pub use keyring::{CheckpointClaims, Jwk, Jwks, KeyRing, OrgKeys};
pub use master_key::{MasterKey, MasterKeyError};
