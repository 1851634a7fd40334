//! The key ring: every org's signing keys, decrypted once and kept in memory, so no request
//! re-parses or re-decrypts a key. Keys are loaded from the store on first use per org.
//!
//! Tokens are JWS compact serializations (RFC 7515) signed with Ed25519 (`alg` EdDSA, RFC 8037).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::Serialize;
use tessera_core::{Error, NewSigningKey, OrgId, Result, SigningKey, SigningKeyId, Store, Timestamp, UserTokenClaims};
use uuid::Uuid;

use super::MasterKey;

/// JOSE name of the only algorithm in use.
pub const ALG_EDDSA: &str = "EdDSA";

/// One public key as a JWK (RFC 7517; OKP key type from RFC 8037 §2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Jwk {
    /// `OKP`.
    #[schema(value_type = String, example = "OKP")]
    pub kty: &'static str,
    /// `Ed25519`.
    #[schema(value_type = String, example = "Ed25519")]
    pub crv: &'static str,
    /// Key id, matching the `kid` header of tokens it signed.
    pub kid: String,
    /// `EdDSA`.
    #[schema(value_type = String, example = "EdDSA")]
    pub alg: &'static str,
    /// `sig`.
    #[serde(rename = "use")]
    #[schema(value_type = String, rename = "use", example = "sig")]
    pub use_: &'static str,
    /// The raw public key, base64url without padding.
    pub x: String,
}

/// A JWK Set (RFC 7517 §5): `{"keys": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Jwks {
    /// Every key of the org, active and retired.
    pub keys: Vec<Jwk>,
}

struct LoadedKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// One org's decrypted keys.
pub struct OrgKeys {
    active: Option<SigningKeyId>,
    keys: HashMap<SigningKeyId, LoadedKey>,
    jwks: Jwks,
}

impl OrgKeys {
    /// The key new tokens are signed with.
    ///
    /// # Errors
    /// [`Error::Internal`] if the org has no active key (a broken invariant).
    pub fn active_key(&self) -> Result<SigningKeyId> {
        self.active.ok_or_else(|| Error::Internal("org has no active signing key".into()))
    }

    /// The org's JWKS.
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// Signs `claims` with key `kid`. Ed25519 is deterministic (RFC 8032 §5.1.6): the same claims
    /// and key always give the same token string.
    ///
    /// # Errors
    /// [`Error::Internal`] if the org has no such key or signing fails.
    pub fn sign(&self, kid: SigningKeyId, claims: &UserTokenClaims) -> Result<String> {
        let key = self.keys.get(&kid).ok_or_else(|| Error::Internal(format!("signing key {kid} not loaded")))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, claims, &key.encoding)
            .map_err(|e| Error::Internal(format!("signing failed: {e}")))
    }

    /// Verifies signature, `iss`, `aud` and (if present) `exp` of `token` against this org's
    /// keys. Returns the claims, or `None` for anything that is not a valid token of this org.
    /// Revocation is not checked here: it needs the token's row.
    pub fn verify(&self, token: &str, issuer: &str, audience: &str) -> Option<UserTokenClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA {
            return None;
        }
        let kid: SigningKeyId = header.kid?.parse().ok()?;
        let key = self.keys.get(&kid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["iss", "aud", "sub"]);
        validation.leeway = 0;
        jsonwebtoken::decode::<UserTokenClaims>(token, &key.decoding, &validation).ok().map(|d| d.claims)
    }
}

/// Every org's decrypted signing keys, loaded on first use and then kept for the process's life.
pub struct KeyRing {
    master: MasterKey,
    orgs: RwLock<HashMap<OrgId, Arc<OrgKeys>>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").finish_non_exhaustive()
    }
}

fn seal_context(org_id: OrgId, key_id: SigningKeyId) -> [u8; 32] {
    let mut ctx = [0u8; 32];
    ctx[..16].copy_from_slice(org_id.0.as_bytes());
    ctx[16..].copy_from_slice(key_id.0.as_bytes());
    ctx
}

impl KeyRing {
    /// A ring that seals and opens private keys with `master`.
    pub fn new(master: MasterKey) -> Self {
        Self { master, orgs: RwLock::new(HashMap::new()) }
    }

    /// Generates a new Ed25519 key pair for `org_id`, its private half sealed with the master key.
    ///
    /// # Errors
    /// [`Error::Internal`] if the random source fails.
    pub fn new_signing_key(&self, org_id: OrgId, now: Timestamp) -> Result<NewSigningKey> {
        let id = SigningKeyId(Uuid::now_v7());
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| Error::Internal("random source failed".into()))?;
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| Error::Internal("bad key pair".into()))?;
        let encrypted_private_key =
            self.master.seal(pkcs8.as_ref(), &seal_context(org_id, id)).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(NewSigningKey {
            id,
            algorithm: ALG_EDDSA.into(),
            public_key: pair.public_key().as_ref().to_vec(),
            encrypted_private_key,
            created_at: now,
        })
    }

    /// The org's keys, from memory or, on first use, loaded from `store` and decrypted.
    ///
    /// # Errors
    /// [`Error::Storage`] from the store; [`Error::Internal`] if a key cannot be decrypted with
    /// this master key (e.g. the server was started with a different `TESSERA_MASTER_KEY`).
    pub async fn org_keys(&self, store: &dyn Store, org_id: OrgId) -> Result<Arc<OrgKeys>> {
        if let Some(keys) = self.orgs.read().expect("key ring lock").get(&org_id) {
            return Ok(keys.clone());
        }
        let rows = store.signing_keys(org_id).await?;
        let loaded = Arc::new(self.load(org_id, &rows)?);
        self.orgs.write().expect("key ring lock").insert(org_id, loaded.clone());
        Ok(loaded)
    }

    fn load(&self, org_id: OrgId, rows: &[SigningKey]) -> Result<OrgKeys> {
        let mut keys = HashMap::new();
        let mut jwks = Vec::new();
        let mut active = None;
        for row in rows {
            let pkcs8 = self.master.open(&row.encrypted_private_key, &seal_context(org_id, row.id)).map_err(|_| {
                Error::Internal(format!("signing key {} cannot be decrypted with this master key", row.id))
            })?;
            let x = URL_SAFE_NO_PAD.encode(&row.public_key);
            let decoding = DecodingKey::from_ed_components(&x)
                .map_err(|e| Error::Internal(format!("bad public key {}: {e}", row.id)))?;
            keys.insert(row.id, LoadedKey { encoding: EncodingKey::from_ed_der(&pkcs8), decoding });
            jwks.push(Jwk { kty: "OKP", crv: "Ed25519", kid: row.kid(), alg: ALG_EDDSA, use_: "sig", x });
            if row.active {
                active = Some(row.id);
            }
        }
        Ok(OrgKeys { active, keys, jwks: Jwks { keys: jwks } })
    }
}
