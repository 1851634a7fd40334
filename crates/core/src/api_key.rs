//! API keys: the secret format, its checksum, its hash at rest, and the stored record.
//!
//! Format (docs/architecture.md "API keys"): `tsk_` + 32 random base62 characters + 6 base62 characters of
//! the CRC32 of those 32, 42 characters in all. The checksum lets a typo or a truncated key be
//! refused before any database lookup; the fixed prefix lets secret scanners find leaked keys.
//! Only the SHA-256 of the whole key is stored, with the first 8 characters after `tsk_` kept in
//! clear for display.

use rand_core::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{ApiKeyId, MemberId, OrgId, Timestamp};

/// The fixed prefix of every API key.
pub const API_KEY_PREFIX: &str = "tsk_";
/// Number of random base62 characters.
pub const API_KEY_RANDOM_LEN: usize = 32;
/// Number of base62 checksum characters.
pub const API_KEY_CHECKSUM_LEN: usize = 6;
/// Total length of a key in characters (= bytes, all ASCII).
pub const API_KEY_LEN: usize = API_KEY_PREFIX.len() + API_KEY_RANDOM_LEN + API_KEY_CHECKSUM_LEN;
/// Number of characters after the prefix kept in clear for display.
pub const API_KEY_DISPLAY_LEN: usize = 8;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a string is not a well-formed API key. Never contains the key itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyFormatError {
    /// It does not start with `tsk_`.
    #[error("API key must start with `tsk_`")]
    Prefix,
    /// It is not 42 characters long.
    #[error("API key must be {API_KEY_LEN} characters long")]
    Length,
    /// A character outside `[0-9A-Za-z]` follows the prefix.
    #[error("API key contains a character outside [0-9A-Za-z]")]
    Charset,
    /// The checksum does not match: a typo or a truncated copy.
    #[error("API key checksum does not match")]
    Checksum,
}

/// A whole API key in plaintext. It exists only while a key is created (to show it once) and while
/// a request carrying it is authenticated. `Debug` prints `ApiKeySecret(tsk_XXXXXXXX…)`.
#[derive(Clone)]
pub struct ApiKeySecret(SecretString);

impl ApiKeySecret {
    /// A new random key drawn from `rng`, which must be a cryptographically secure generator.
    pub fn generate(rng: &mut impl RngCore) -> Self {
        let mut s = String::with_capacity(API_KEY_LEN);
        s.push_str(API_KEY_PREFIX);
        let mut random = String::with_capacity(API_KEY_RANDOM_LEN);
        while random.len() < API_KEY_RANDOM_LEN {
            let mut b = [0u8; 1];
            rng.fill_bytes(&mut b);
            // Rejection sampling keeps the 62 symbols uniform: 248 = 4 * 62.
            if b[0] < 248 {
                random.push(BASE62[(b[0] % 62) as usize] as char);
            }
        }
        s.push_str(&random);
        s.push_str(&checksum(&random));
        Self(SecretString::from(s))
    }

    /// Checks prefix, length, alphabet and checksum, in that order, without any I/O.
    ///
    /// # Errors
    /// [`ApiKeyFormatError`] naming the first rule the string breaks.
    pub fn parse(s: &str) -> Result<Self, ApiKeyFormatError> {
        let rest = s.strip_prefix(API_KEY_PREFIX).ok_or(ApiKeyFormatError::Prefix)?;
        if s.len() != API_KEY_LEN {
            return Err(ApiKeyFormatError::Length);
        }
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiKeyFormatError::Charset);
        }
        let (random, check) = rest.split_at(API_KEY_RANDOM_LEN);
        // Not a secret comparison: the checksum is derived from the key the caller already holds.
        if checksum(random) != check {
            return Err(ApiKeyFormatError::Checksum);
        }
        Ok(Self(SecretString::from(s.to_owned())))
    }

    /// The plaintext key. Call only to show it once to its creator or to hash it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// SHA-256 of the whole key, the only form that is stored.
    pub fn hash(&self) -> ApiKeyHash {
        ApiKeyHash(Sha256::digest(self.expose().as_bytes()).into())
    }

    /// The 8 characters after `tsk_`, shown in lists so people can tell keys apart.
    pub fn display_prefix(&self) -> String {
        self.expose()[API_KEY_PREFIX.len()..API_KEY_PREFIX.len() + API_KEY_DISPLAY_LEN].to_owned()
    }
}

impl std::fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeySecret({API_KEY_PREFIX}{}…)", self.display_prefix())
    }
}

/// The 6-character base62 CRC32 (IEEE) of `random`, left-padded with `0`.
fn checksum(random: &str) -> String {
    let mut n = crc32fast::hash(random.as_bytes()) as u64;
    let mut out = [b'0'; API_KEY_CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    // 62^6 > 2^32, so nothing is left over.
    debug_assert_eq!(n, 0);
    String::from_utf8(out.to_vec()).expect("base62 is ASCII")
}

/// SHA-256 digest of an API key (32 bytes), the lookup key of the stored row.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiKeyHash(pub [u8; 32]);

impl std::fmt::Debug for ApiKeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeyHash(..)")
    }
}

/// A stored API key: everything but the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Row id.
    pub id: ApiKeyId,
    /// The org the key acts for.
    pub org_id: OrgId,
    /// A name chosen by its creator, e.g. `"production backend"`.
    pub name: String,
    /// The 8 characters after `tsk_`.
    pub prefix: String,
    /// The member who created it; `None` when made with the CLI.
    pub created_by: Option<MemberId>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last authenticated a request; written at most once a minute.
    pub last_used_at: Option<Timestamp>,
    /// After this instant the key is refused; `None` never expires.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked; a revoked key is refused at once.
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    /// Whether the key may authenticate a request at `now`.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|exp| now < exp)
    }
}

/// What a store needs to insert an API key.
#[derive(Clone, Debug)]
pub struct NewApiKey {
    /// Row id (UUIDv7).
    pub id: ApiKeyId,
    /// Display name, 1–100 characters.
    pub name: String,
    /// SHA-256 of the whole key.
    pub hash: ApiKeyHash,
    /// The 8 characters after `tsk_`.
    pub prefix: String,
    /// Creator, if a member.
    pub created_by: Option<MemberId>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Optional expiry.
    pub expires_at: Option<Timestamp>,
}

/// Validates an API key's display name: 1–100 characters after trimming, no control characters.
///
/// # Errors
/// [`crate::Error::Invalid`] on field `name`.
pub fn validate_key_name(name: &str) -> crate::Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(crate::Error::invalid("name", "must not be empty"));
    }
    if name.chars().count() > 100 {
        return Err(crate::Error::invalid("name", "must be at most 100 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(crate::Error::invalid("name", "must not contain control characters"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn generated_keys_parse_and_have_the_documented_shape() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let key = ApiKeySecret::generate(&mut rng);
            let s = key.expose();
            assert_eq!(s.len(), 42);
            assert!(s.starts_with("tsk_"));
            assert!(s[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
            assert_eq!(ApiKeySecret::parse(s).unwrap().hash(), key.hash());
            assert_eq!(key.display_prefix(), &s[4..12]);
        }
    }

    #[test]
    fn every_single_character_typo_is_caught_by_the_checksum() {
        let key = ApiKeySecret::generate(&mut StdRng::seed_from_u64(1));
        let s = key.expose().to_owned();
        for i in 4..s.len() {
            let mut bytes = s.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(bytes).unwrap();
            assert_eq!(ApiKeySecret::parse(&typo).unwrap_err(), ApiKeyFormatError::Checksum, "at {i}");
        }
    }

    #[test]
    fn malformed_keys_name_the_broken_rule() {
        let good = ApiKeySecret::generate(&mut StdRng::seed_from_u64(2)).expose().to_owned();
        assert_eq!(ApiKeySecret::parse("").unwrap_err(), ApiKeyFormatError::Prefix);
        assert_eq!(ApiKeySecret::parse(&good.replace("tsk_", "tsx_")).unwrap_err(), ApiKeyFormatError::Prefix);
        assert_eq!(ApiKeySecret::parse(&good[..41]).unwrap_err(), ApiKeyFormatError::Length);
        assert_eq!(ApiKeySecret::parse(&format!("{good}0")).unwrap_err(), ApiKeyFormatError::Length);
        let mut bad = good.clone().into_bytes();
        bad[10] = b'-';
        assert_eq!(ApiKeySecret::parse(std::str::from_utf8(&bad).unwrap()).unwrap_err(), ApiKeyFormatError::Charset);
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let key = ApiKeySecret::generate(&mut StdRng::seed_from_u64(3));
        let shown = format!("{key:?}");
        assert!(!shown.contains(&key.expose()[12..]), "{shown}");
        assert!(shown.contains(&key.display_prefix()));
    }

    #[test]
    fn key_names_are_trimmed_and_bounded() {
        assert_eq!(validate_key_name("  ci  ").unwrap(), "ci");
        assert!(validate_key_name("   ").is_err());
        assert!(validate_key_name(&"x".repeat(101)).is_err());
        assert!(validate_key_name("a\nb").is_err());
    }
}
