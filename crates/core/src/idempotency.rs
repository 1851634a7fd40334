//! Idempotency keys for the REST API's `POST` calls: what the store keeps of a request made with
//! an `Idempotency-Key` header, so a retry gets the first response instead of a second effect.
//!
//! The flow (the HTTP middleware drives it, the [`Store`](crate::Store) keeps the records):
//! 1. [`Store::claim_idempotency_key`](crate::Store::claim_idempotency_key) with the SHA-256
//!    fingerprint of the request. [`IdempotencyClaim::Claimed`] means "run the request";
//!    [`IdempotencyClaim::Existing`] means replay (finished, same fingerprint), reject as a
//!    different request (other fingerprint), or report "still running" (no response yet).
//! 2. After running it, `complete_idempotency_key` with the response, or `release_idempotency_key`
//!    if it failed in a way a retry may fix.
//!
//! No secret is stored: the caller removes the JWT from the body and keeps only the token's id,
//! from which the same token is signed again on replay (Ed25519 is deterministic).

use crate::{Timestamp, UserTokenId};

/// A finished request's response as stored for replay (no secrets: the JWT is removed by the
/// caller, who keeps only the token's id and signs the same token again on replay).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status code, 100–599 (the store rejects anything else).
    pub status: u16,
    /// The response body as sent, minus secrets; stored and returned byte-for-byte.
    pub body: Vec<u8>,
    /// The user token the request issued, if any. Not a foreign key: the token may be deleted
    /// later, and the record still replays.
    pub user_token_id: Option<UserTokenId>,
}

/// A key's record: the first request made with it and, once finished, its response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The `Idempotency-Key` header's value, case-sensitive (1–255 printable ASCII characters,
    /// validated by the caller).
    pub key: String,
    /// SHA-256 of the first request's method, path and body; a retry with another fingerprint is
    /// a different request under the same key.
    pub fingerprint: [u8; 32],
    /// When the key was claimed (microsecond precision, as stored).
    pub created_at: Timestamp,
    /// The stored response; `None` while the first request is still in flight.
    pub response: Option<StoredResponse>,
}

/// Outcome of [`Store::claim_idempotency_key`](crate::Store::claim_idempotency_key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The caller owns the key now and must complete or release it.
    Claimed,
    /// A record created at or after `not_before` exists (finished or in flight); nothing was
    /// written.
    Existing(IdempotencyRecord),
}
