//! The key ring: every org's signing keys, decrypted and parsed once and kept in memory, so no
//! request re-parses or re-decrypts a key. Keys are loaded from the store on first use per org.
//!
//! Tokens are JWS compact serializations (RFC 7515 §7.1) signed with Ed25519 (`alg` EdDSA,
//! RFC 8037 §3.1). Signing assembles the compact form itself around a parsed
//! [`Ed25519KeyPair`] (jsonwebtoken 9 would re-parse the PKCS#8 document, one extra Ed25519
//! base-point multiplication, on every call); verification goes through jsonwebtoken.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::Serialize;
use tessera_core::{
    Error, NewSigningKey, OrgId, OrgStore, Result, SigningKey, SigningKeyId, Timestamp, UserTokenClaims,
};
use uuid::Uuid;

use super::MasterKey;

/// JOSE name of the only algorithm in use.
pub const ALG_EDDSA: &str = "EdDSA";

/// The claims of an audit checkpoint (`GET {iss}/audit/checkpoint`): the org's latest audit
/// event when the day's checkpoint was taken, signed by the org's active key so that a copy kept
/// elsewhere can later prove the history up to `seq` unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CheckpointClaims {
    /// The org's issuer (`{public_url}/o/{slug}`), as in its user tokens.
    pub iss: String,
    /// `seq` of the org's latest event at `iat` (0 before the first).
    pub seq: u64,
    /// `hash` of that event (hex SHA-256; 64 zeros before the first).
    pub hash: String,
    /// When the checkpoint was taken (Unix seconds).
    pub iat: i64,
}

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
    /// The parsed private key.
    pair: Ed25519KeyPair,
    /// The first part of every token this key signs: base64url of the JOSE header
    /// `{"typ":"JWT","alg":"EdDSA","kid":…}`, followed by `.`.
    header_b64: String,
    decoding: DecodingKey,
}

/// Most tokens whose verified claims one org remembers (see [`OrgKeys::verify`]): 20,000
/// entries, a few hundred bytes each.
const VERIFIED_CAPACITY: u64 = 20_000;
/// How long a remembered verification lasts without being used: 10 minutes.
const VERIFIED_IDLE: Duration = Duration::from_secs(600);

/// A token string and the claims it was signed for.
type SignedToken = (UserTokenClaims, String);

/// One org's decrypted keys.
pub struct OrgKeys {
    active: Option<SigningKeyId>,
    keys: HashMap<SigningKeyId, LoadedKey>,
    jwks: Jwks,
    /// Token strings whose signature was verified, with their claims. The whole string is the
    /// key, so a hit is the very bytes that were verified: skipping the Ed25519 verification for
    /// it is safe. Lives and dies with these keys (reloading the keys drops it).
    verified: moka::sync::Cache<Box<str>, Arc<UserTokenClaims>>,
    /// Tokens handed out again ([`OrgKeys::sign_again`]), by key and `jti`, with the claims they
    /// were signed for.
    signed: moka::sync::Cache<(SigningKeyId, Box<str>), Arc<SignedToken>>,
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
    pub fn sign(&self, kid: SigningKeyId, claims: &impl Serialize) -> Result<String> {
        let key = self.keys.get(&kid).ok_or_else(|| Error::Internal(format!("signing key {kid} not loaded")))?;
        let payload = serde_json::to_vec(claims).map_err(|e| Error::Internal(format!("signing failed: {e}")))?;
        // JWS Signing Input (RFC 7515 §5.1): BASE64URL(header) "." BASE64URL(payload).
        let mut token = String::with_capacity(key.header_b64.len() + payload.len() * 4 / 3 + 90);
        token.push_str(&key.header_b64);
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = key.pair.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
        Ok(token)
    }

    /// [`OrgKeys::sign`] for a token that is handed out again (a returning user's permanent token
    /// from `GET /token`): the string signed before for the same key and the very same claims is
    /// returned without signing, which is what signing again would give (Ed25519 is
    /// deterministic, RFC 8032 §5.1.6). Claims that differ in any field are signed afresh.
    /// Remembered like verifications: [`VERIFIED_CAPACITY`] tokens, [`VERIFIED_IDLE`] unused.
    ///
    /// # Errors
    /// As [`OrgKeys::sign`].
    pub fn sign_again(&self, kid: SigningKeyId, claims: &UserTokenClaims) -> Result<String> {
        let key = (kid, Box::<str>::from(claims.jti.as_str()));
        if let Some(hit) = self.signed.get(&key) {
            if hit.0 == *claims {
                return Ok(hit.1.clone());
            }
        }
        let token = self.sign(kid, claims)?;
        self.signed.insert(key, Arc::new((claims.clone(), token.clone())));
        Ok(token)
    }

    /// Verifies signature, `iss`, `aud` and (if present) `exp` of `token` against this org's
    /// keys. Returns the claims, or `None` for anything that is not a valid token of this org.
    /// Revocation is not checked here: it needs the token's row.
    ///
    /// A token string verified before is recognised without a second Ed25519 verification (the
    /// same idea as Envoy's `jwt_cache_config`); `iss`, `aud` and `exp` are checked on every call.
    pub fn verify(&self, token: &str, issuer: &str, audience: &str) -> Option<UserTokenClaims> {
        if let Some(claims) = self.verified.get(token) {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let live = claims.iss == issuer && claims.aud == audience && claims.exp.is_none_or(|exp| exp >= now);
            return live.then(|| (*claims).clone());
        }
        let claims = self.verify_signature(token, issuer, audience)?;
        self.verified.insert(token.into(), Arc::new(claims.clone()));
        Some(claims)
    }

    /// Verifies an audit checkpoint signed by one of this org's keys (see
    /// [`CheckpointClaims`]): its signature, and that it has an `iss` (which the caller checks:
    /// the public URL it was served under is not known to every caller). It has no `exp`: a
    /// checkpoint stays evidence of the history it signed. Returns `None` for anything else, a
    /// user token included (it has no `seq`).
    pub fn verify_checkpoint(&self, token: &str) -> Option<CheckpointClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA {
            return None;
        }
        let kid: SigningKeyId = header.kid?.parse().ok()?;
        let key = self.keys.get(&kid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_required_spec_claims(&["iss"]);
        validation.validate_exp = false;
        validation.validate_aud = false;
        jsonwebtoken::decode::<CheckpointClaims>(token, &key.decoding, &validation).ok().map(|d| d.claims)
    }

    fn verify_signature(&self, token: &str, issuer: &str, audience: &str) -> Option<UserTokenClaims> {
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

/// `BASE64URL(UTF8(JOSE header))` and the `.` that follows it, for tokens signed by `kid`. The
/// header is jsonwebtoken's own `Header` (so `typ` is `JWT`), which keeps tokens byte-identical
/// to those signed before signing moved here.
fn header_b64(kid: SigningKeyId) -> Result<String> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_string());
    let json = serde_json::to_vec(&header).map_err(|e| Error::Internal(format!("JOSE header: {e}")))?;
    let mut out = URL_SAFE_NO_PAD.encode(json);
    out.push('.');
    Ok(out)
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
        // `ring`'s `Document` offers no way to wipe it; it is dropped here, on this stack frame.
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
    pub async fn org_keys(&self, store: &dyn OrgStore, org_id: OrgId) -> Result<Arc<OrgKeys>> {
        if let Some(keys) = self.orgs.read().expect("key ring lock").get(&org_id) {
            return Ok(keys.clone());
        }
        let rows = store.signing_keys(org_id).await?;
        let loaded = Arc::new(self.load(org_id, &rows)?);
        self.orgs.write().expect("key ring lock").insert(org_id, loaded.clone());
        Ok(loaded)
    }

    /// Decrypts and parses `rows`. Each decrypted PKCS#8 document is a [`zeroize::Zeroizing`]
    /// buffer, wiped as soon as its key pair is parsed (the parsed [`Ed25519KeyPair`] lives in
    /// `ring`, which does not wipe it).
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
            let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
                .map_err(|_| Error::Internal(format!("signing key {} is not a valid Ed25519 key", row.id)))?;
            keys.insert(row.id, LoadedKey { pair, header_b64: header_b64(row.id)?, decoding });
            jwks.push(Jwk { kty: "OKP", crv: "Ed25519", kid: row.kid(), alg: ALG_EDDSA, use_: "sig", x });
            if row.active {
                active = Some(row.id);
            }
        }
        let verified = moka::sync::Cache::builder().max_capacity(VERIFIED_CAPACITY).time_to_idle(VERIFIED_IDLE).build();
        let signed = moka::sync::Cache::builder().max_capacity(VERIFIED_CAPACITY).time_to_idle(VERIFIED_IDLE).build();
        Ok(OrgKeys { active, keys, jwks: Jwks { keys: jwks }, verified, signed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "http://tessera.test/o/acme";
    const AUD: &str = "acme";

    /// A ring, the loaded keys of one org with one active key, and that key's PKCS#8 document.
    fn org_keys() -> (OrgKeys, SigningKeyId, zeroize::Zeroizing<Vec<u8>>) {
        let ring = KeyRing::new(MasterKey::generate().unwrap());
        let org_id = OrgId(Uuid::now_v7());
        let new = ring.new_signing_key(org_id, time::OffsetDateTime::now_utc()).unwrap();
        let pkcs8 = ring.master.open(&new.encrypted_private_key, &seal_context(org_id, new.id)).unwrap();
        let row = SigningKey {
            id: new.id,
            org_id,
            algorithm: new.algorithm,
            public_key: new.public_key,
            encrypted_private_key: new.encrypted_private_key,
            created_at: new.created_at,
            active: true,
        };
        (ring.load(org_id, &[row]).unwrap(), new.id, pkcs8)
    }

    fn claims(exp: Option<i64>) -> UserTokenClaims {
        UserTokenClaims {
            jti: Uuid::now_v7().to_string(),
            sub: Uuid::now_v7().to_string(),
            iss: ISS.into(),
            aud: AUD.into(),
            iat: time::OffsetDateTime::now_utc().unix_timestamp(),
            exp,
            account: "42".into(),
            platform: "default".into(),
        }
    }

    #[test]
    fn tokens_are_byte_identical_to_jsonwebtokens_encoding() {
        // GET /token hands out a user's default token again by signing its claims again: the
        // strings signed before signing moved out of jsonwebtoken must come out the same.
        let (keys, kid, pkcs8) = org_keys();
        for c in [claims(None), claims(Some(4_102_444_800))] {
            let mut header = Header::new(Algorithm::EdDSA);
            header.kid = Some(kid.to_string());
            let expected = jsonwebtoken::encode(&header, &c, &jsonwebtoken::EncodingKey::from_ed_der(&pkcs8)).unwrap();
            assert_eq!(keys.sign(kid, &c).unwrap(), expected);
        }
    }

    #[test]
    fn signing_again_gives_the_same_string_and_follows_changed_claims() {
        let (keys, kid, _) = org_keys();
        let c = claims(None);
        let first = keys.sign_again(kid, &c).unwrap();
        assert_eq!(first, keys.sign(kid, &c).unwrap());
        assert!(keys.signed.contains_key(&(kid, Box::from(c.jti.as_str()))), "remembered");
        assert_eq!(keys.sign_again(kid, &c).unwrap(), first, "second call, from memory");

        // Same jti, another claim (say the org's public URL changed): signed afresh, not the old string.
        let moved = UserTokenClaims { iss: "http://moved.test/o/acme".into(), ..c.clone() };
        let again = keys.sign_again(kid, &moved).unwrap();
        assert_ne!(again, first);
        assert_eq!(again, keys.sign(kid, &moved).unwrap());
        assert_eq!(keys.verify(&again, "http://moved.test/o/acme", AUD), Some(moved));
    }

    #[test]
    fn a_remembered_verification_still_checks_the_bytes_issuer_and_audience() {
        let (keys, kid, _) = org_keys();
        let c = claims(None);
        let token = keys.sign(kid, &c).unwrap();
        assert_eq!(keys.verify(&token, ISS, AUD), Some(c.clone()));
        assert_eq!(keys.verify(&token, ISS, AUD), Some(c), "second call, from memory");
        assert!(keys.verified.contains_key(token.as_str()));
        assert_eq!(keys.verify(&token, "http://other.test/o/acme", AUD), None);
        assert_eq!(keys.verify(&token, ISS, "other"), None);

        // One changed signature character is a different string: verified in full, refused.
        let mut forged = token.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(keys.verify(&forged, ISS, AUD), None);
        assert!(!keys.verified.contains_key(forged.as_str()), "refused tokens are not remembered");
    }

    #[test]
    fn an_expired_token_is_refused_and_not_remembered() {
        let (keys, kid, _) = org_keys();
        let token = keys.sign(kid, &claims(Some(time::OffsetDateTime::now_utc().unix_timestamp() - 5))).unwrap();
        assert_eq!(keys.verify(&token, ISS, AUD), None);
        assert!(!keys.verified.contains_key(token.as_str()));
    }
}
