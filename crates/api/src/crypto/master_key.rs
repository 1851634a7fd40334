//! The master key: 32 random bytes that seal every org's private signing keys with
//! ChaCha20-Poly1305 (RFC 8439). It comes from `TESSERA_MASTER_KEY` (base64) or a file in the
//! data directory; losing it makes the stored signing keys unusable.
//!
//! Key material is wiped from memory once it is no longer needed ([`zeroize`]): the key itself
//! (held in a [`SecretBox`], which zeroizes on drop), its decoded and base64 forms, and every
//! opened plaintext ([`MasterKey::open`] returns a [`Zeroizing`] buffer). The ChaCha20 key
//! schedule that `ring` builds for each seal or open is outside Tessera's reach and is not wiped.

use base64::{engine::general_purpose::STANDARD, Engine};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, ExposeSecretMut, SecretBox};
use zeroize::Zeroizing;

/// Length of a master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;

/// Why a master key could not be read or a sealed value could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The text is not base64 of exactly 32 bytes.
    #[error("the master key must be base64 of exactly {MASTER_KEY_LEN} bytes")]
    Format,
    /// Authentication failed: wrong master key, or the sealed bytes were altered.
    #[error("sealed data could not be opened: wrong master key or altered data")]
    Open,
    /// The system random source failed.
    #[error("the system random source failed")]
    Random,
}

/// A 32-byte secret key. `Debug` is redacted.
pub struct MasterKey(SecretBox<[u8; MASTER_KEY_LEN]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// A fresh random key from the system's secure random source.
    ///
    /// # Errors
    /// [`MasterKeyError::Random`] if the random source fails.
    pub fn generate() -> Result<Self, MasterKeyError> {
        // Filled where it stays: no copy of the key is left behind on the stack.
        let mut key = SecretBox::new(Box::new([0u8; MASTER_KEY_LEN]));
        SystemRandom::new().fill(key.expose_secret_mut()).map_err(|_| MasterKeyError::Random)?;
        Ok(Self(key))
    }

    /// Parses the base64 (standard alphabet, padding optional, surrounding whitespace ignored) form.
    ///
    /// # Errors
    /// [`MasterKeyError::Format`] unless it decodes to exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, MasterKeyError> {
        let text = text.trim().trim_end_matches('=');
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(text).map_err(|_| MasterKeyError::Format)?,
        );
        if bytes.len() != MASTER_KEY_LEN {
            return Err(MasterKeyError::Format);
        }
        let mut key = SecretBox::new(Box::new([0u8; MASTER_KEY_LEN]));
        key.expose_secret_mut().copy_from_slice(&bytes);
        Ok(Self(key))
    }

    /// The base64 form, for writing the key file once; wiped when dropped.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.0.expose_secret()))
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, self.0.expose_secret()).expect("32-byte key"))
    }

    /// Encrypts `plaintext`, binding it to `context` (e.g. the org and key ids) so sealed bytes
    /// cannot be moved to another row. Output: 12-byte random nonce ‖ ciphertext ‖ 16-byte tag.
    ///
    /// # Errors
    /// [`MasterKeyError::Random`] if no nonce can be drawn.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, MasterKeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| MasterKeyError::Random)?;
        // Plaintext until sealed in place: wiped if sealing fails.
        let mut buf = Zeroizing::new(plaintext.to_vec());
        self.aead()
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut *buf)
            .map_err(|_| MasterKeyError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Decrypts what [`MasterKey::seal`] produced with the same `context`. The plaintext (a
    /// private key) is wiped from memory when the returned buffer is dropped.
    ///
    /// # Errors
    /// [`MasterKeyError::Open`] for a wrong key, wrong context or altered bytes.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, MasterKeyError> {
        if sealed.len() < NONCE_LEN {
            return Err(MasterKeyError::Open);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| MasterKeyError::Open)?;
        // Decrypted in place, and never copied out: the one buffer is wiped on drop.
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let plain_len =
            self.aead().open_in_place(nonce, Aad::from(context), &mut buf).map_err(|_| MasterKeyError::Open)?.len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_only_with_the_same_key_and_context() {
        let key = MasterKey::generate().unwrap();
        let sealed = key.seal(b"private", b"org-1").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"private"));
        assert_eq!(key.open(&sealed, b"org-1").unwrap().as_slice(), b"private");
        assert!(matches!(key.open(&sealed, b"org-2"), Err(MasterKeyError::Open)));
        assert!(matches!(MasterKey::generate().unwrap().open(&sealed, b"org-1"), Err(MasterKeyError::Open)));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open(&tampered, b"org-1").is_err());
    }

    #[test]
    fn base64_form_round_trips_and_rejects_wrong_lengths() {
        let key = MasterKey::generate().unwrap();
        let again = MasterKey::from_base64(&format!(" {}\n", key.to_base64().as_str())).unwrap();
        let sealed = key.seal(b"x", b"").unwrap();
        assert_eq!(again.open(&sealed, b"").unwrap().as_slice(), b"x");
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
        assert_eq!(format!("{key:?}"), "MasterKey(..)");
    }

    /// Issue 14, finding 9: what leaves this module holding key material wipes itself on drop.
    /// (The types say so; no test can look at freed memory without `unsafe`.)
    #[test]
    fn key_material_handed_out_is_zeroizing() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let key = MasterKey::generate().unwrap();
        let text: Zeroizing<String> = key.to_base64();
        let opened: Zeroizing<Vec<u8>> = key.open(&key.seal(b"pkcs8", b"").unwrap(), b"").unwrap();
        wiped_on_drop(&text);
        wiped_on_drop(&opened);
        wiped_on_drop(&key.0);
        assert_eq!(opened.as_slice(), b"pkcs8");
        assert_eq!(MasterKey::from_base64(&text).unwrap().to_base64(), text);
    }
}
