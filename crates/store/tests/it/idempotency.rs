//! Idempotency keys: claiming, completing and releasing a key, replay of the stored response,
//! expiry, the in-flight lease, tenant scoping, the race between concurrent claims, and purging.

use std::sync::Arc;
use tessera_core::Entity;

use tessera_core::{Error, IdempotencyClaim, IdempotencyRecord, OrgId, Store, StoredResponse, UserTokenId};

use crate::fixtures::*;
use crate::harness::TestDb;

contract!(
    claim_then_claim_again_sees_the_in_flight_record,
    completed_response_is_replayed_byte_for_byte,
    complete_needs_an_in_flight_claim,
    release_frees_an_in_flight_claim_but_keeps_a_completed_record,
    an_expired_record_is_replaced_without_its_response,
    an_in_flight_claim_past_its_lease_is_taken_again,
    keys_are_scoped_by_org_and_case_sensitive,
    concurrent_claims_of_a_fresh_key_have_one_winner,
    purge_deletes_only_records_older_than_the_cut_off,
);

/// The replay window used throughout: a record is live for 24 hours after its claim.
const WINDOW_SECS: i64 = 24 * 3600;

/// The in-flight lease used throughout (the API's): a claim without a response holds its key for
/// 60 seconds.
const LEASE_SECS: i64 = 60;

const FP_A: [u8; 32] = [0xa1; 32];
const FP_B: [u8; 32] = [0xb2; 32];

/// Claims `key` at `t(secs)` with the 24-hour window and the 60-second lease.
async fn claim(s: &dyn Store, org: OrgId, key: &str, fp: &[u8; 32], secs: i64) -> IdempotencyClaim {
    s.claim_idempotency_key(org, key, fp, t(secs), t(secs - WINDOW_SECS), t(secs - LEASE_SECS)).await.unwrap()
}

/// The record of a claim that must find one.
fn existing(claim: IdempotencyClaim) -> IdempotencyRecord {
    match claim {
        IdempotencyClaim::Existing(record) => record,
        IdempotencyClaim::Claimed => panic!("expected an existing record, got Claimed"),
    }
}

/// A response with every byte value in its body (no text encoding may touch it) and a token id.
fn response(status: u16) -> StoredResponse {
    let mut body: Vec<u8> = (0..=255).collect();
    body.extend_from_slice(br#"{"token":null,"note":"caf\u00e9"}"#);
    body.push(0);
    StoredResponse { status, body, user_token_id: Some(UserTokenId(id())) }
}

async fn claim_then_claim_again_sees_the_in_flight_record(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    assert_eq!(claim(s, a.id, "k-1", &FP_A, 0).await, IdempotencyClaim::Claimed);

    // A retry (same fingerprint) and a different request (other fingerprint) both see the first
    // claim, still in flight, with its own fingerprint and time, up to the end of its lease.
    for (fp, secs) in [(&FP_A, 1), (&FP_B, 2), (&FP_A, LEASE_SECS)] {
        let record = existing(claim(s, a.id, "k-1", fp, secs).await);
        let expected = IdempotencyRecord { key: "k-1".into(), fingerprint: FP_A, created_at: T0, response: None };
        assert_eq!(record, expected, "claimed with {fp:?} at +{secs}s");
    }
}

async fn completed_response_is_replayed_byte_for_byte(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    assert_eq!(claim(s, a.id, "k-1", &FP_A, 0).await, IdempotencyClaim::Claimed);
    let stored = response(201);
    s.complete_idempotency_key(a.id, "k-1", &stored).await.unwrap();

    let record = existing(claim(s, a.id, "k-1", &FP_A, 60).await);
    assert_eq!(record.response.as_ref(), Some(&stored), "status, body bytes and token id as stored");
    assert_eq!((record.key.as_str(), record.fingerprint, record.created_at), ("k-1", FP_A, T0));
    // A different request under the same key sees the same record (the API answers 422).
    assert_eq!(existing(claim(s, a.id, "k-1", &FP_B, 61).await), record);

    // An empty body and no token are stored as such, not as "in flight".
    assert_eq!(claim(s, a.id, "k-2", &FP_A, 0).await, IdempotencyClaim::Claimed);
    let empty = StoredResponse { status: 204, body: Vec::new(), user_token_id: None };
    s.complete_idempotency_key(a.id, "k-2", &empty).await.unwrap();
    assert_eq!(existing(claim(s, a.id, "k-2", &FP_A, 1).await).response, Some(empty));
}

async fn complete_needs_an_in_flight_claim(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let err = s.complete_idempotency_key(a.id, "never-claimed", &response(200)).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { entity: Entity::IdempotencyKey }), "{err:?}");

    // A completed record is never overwritten by a second completion.
    assert_eq!(claim(s, a.id, "k-1", &FP_A, 0).await, IdempotencyClaim::Claimed);
    let first = response(201);
    s.complete_idempotency_key(a.id, "k-1", &first).await.unwrap();
    let err = s.complete_idempotency_key(a.id, "k-1", &response(500)).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { entity: Entity::IdempotencyKey }), "{err:?}");
    assert_eq!(existing(claim(s, a.id, "k-1", &FP_A, 1).await).response, Some(first));

    // A status that is not HTTP is refused and leaves the claim in flight.
    assert_eq!(claim(s, a.id, "k-2", &FP_A, 0).await, IdempotencyClaim::Claimed);
    let bad = StoredResponse { status: 1000, ..response(200) };
    assert!(matches!(s.complete_idempotency_key(a.id, "k-2", &bad).await, Err(Error::Storage(_))));
    assert_eq!(existing(claim(s, a.id, "k-2", &FP_A, 1).await).response, None);
    s.complete_idempotency_key(a.id, "k-2", &response(200)).await.expect("the claim is still completable");
}

async fn release_frees_an_in_flight_claim_but_keeps_a_completed_record(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    // Releasing an absent key is a no-op.
    s.release_idempotency_key(a.id, "k-1").await.unwrap();

    assert_eq!(claim(s, a.id, "k-1", &FP_A, 0).await, IdempotencyClaim::Claimed);
    s.release_idempotency_key(a.id, "k-1").await.unwrap();
    // The retry may even be a different request: the key is free.
    assert_eq!(claim(s, a.id, "k-1", &FP_B, 5).await, IdempotencyClaim::Claimed);
    let record = existing(claim(s, a.id, "k-1", &FP_A, 6).await);
    assert_eq!((record.fingerprint, record.created_at, record.response), (FP_B, t(5), None));
    let err = s.complete_idempotency_key(a.id, "missing", &response(200)).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    let stored = response(201);
    s.complete_idempotency_key(a.id, "k-1", &stored).await.unwrap();
    s.release_idempotency_key(a.id, "k-1").await.unwrap();
    let record = existing(claim(s, a.id, "k-1", &FP_B, 7).await);
    assert_eq!((record.created_at, record.response), (t(5), Some(stored)), "a completed record survives release");
}

async fn an_expired_record_is_replaced_without_its_response(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    assert_eq!(claim(s, a.id, "done", &FP_A, 0).await, IdempotencyClaim::Claimed);
    s.complete_idempotency_key(a.id, "done", &response(201)).await.unwrap();
    assert_eq!(claim(s, a.id, "stuck", &FP_A, 0).await, IdempotencyClaim::Claimed);

    // Created exactly at `not_before`: still live.
    let at_edge =
        s.claim_idempotency_key(a.id, "done", &FP_B, t(WINDOW_SECS), T0, t(WINDOW_SECS - LEASE_SECS)).await.unwrap();
    assert!(existing(at_edge).response.is_some());

    // One microsecond later it has expired: the key is claimed anew, in flight, with the new
    // fingerprint and time, and the old response is gone.
    let later = t(WINDOW_SECS) + time::Duration::microseconds(1);
    let not_before = T0 + time::Duration::microseconds(1);
    for key in ["done", "stuck"] {
        let lease_cutoff = later - time::Duration::seconds(LEASE_SECS);
        let claimed = s.claim_idempotency_key(a.id, key, &FP_B, later, not_before, lease_cutoff).await.unwrap();
        assert_eq!(claimed, IdempotencyClaim::Claimed, "{key}");
        let record = existing(claim(s, a.id, key, &FP_A, WINDOW_SECS + 1).await);
        let expected = IdempotencyRecord { key: key.into(), fingerprint: FP_B, created_at: later, response: None };
        assert_eq!(record, expected, "{key}");
    }
    // The new claim is completable (it is in flight, not a leftover completed row).
    s.complete_idempotency_key(a.id, "done", &response(200)).await.unwrap();
}

async fn an_in_flight_claim_past_its_lease_is_taken_again(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    // Three claims at T0: one left in flight (its request was cancelled), one completed, and one
    // in flight that a younger claim will still find.
    for key in ["abandoned", "done", "young"] {
        assert_eq!(claim(s, a.id, key, &FP_A, 0).await, IdempotencyClaim::Claimed, "{key}");
    }
    let stored = response(201);
    s.complete_idempotency_key(a.id, "done", &stored).await.unwrap();

    // Created exactly at the lease cut-off: the in-flight claim still holds its key.
    let young = existing(claim(s, a.id, "young", &FP_B, LEASE_SECS).await);
    assert_eq!((young.fingerprint, young.created_at, young.response), (FP_A, T0, None));

    // Past its lease (but well inside the window) the abandoned claim is taken by the retry, which
    // is now the in-flight claim (with its own fingerprint and time) and can complete.
    let retry_at = LEASE_SECS + 1;
    assert_eq!(claim(s, a.id, "abandoned", &FP_B, retry_at).await, IdempotencyClaim::Claimed);
    let record = existing(claim(s, a.id, "abandoned", &FP_A, retry_at + 1).await);
    let expected =
        IdempotencyRecord { key: "abandoned".into(), fingerprint: FP_B, created_at: t(retry_at), response: None };
    assert_eq!(record, expected, "the retry's claim, in flight under its new lease");
    s.complete_idempotency_key(a.id, "abandoned", &response(200)).await.unwrap();

    // A completed record is not leased: it replays for the whole window, to its last microsecond.
    for secs in [retry_at, 3600, WINDOW_SECS] {
        let record = existing(claim(s, a.id, "done", &FP_A, secs).await);
        assert_eq!((record.created_at, record.response.as_ref()), (T0, Some(&stored)), "at +{secs}s");
    }
}

async fn keys_are_scoped_by_org_and_case_sensitive(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    assert_eq!(claim(s, a.id, "shared", &FP_A, 0).await, IdempotencyClaim::Claimed);
    let stored = response(201);
    s.complete_idempotency_key(a.id, "shared", &stored).await.unwrap();
    assert_eq!(claim(s, a.id, "in-flight", &FP_A, 0).await, IdempotencyClaim::Claimed);

    // Org B claims the same key strings independently.
    assert_eq!(claim(s, b.id, "shared", &FP_B, 10).await, IdempotencyClaim::Claimed);
    assert!(matches!(
        s.complete_idempotency_key(b.id, "in-flight", &response(500)).await,
        Err(Error::NotFound { entity: Entity::IdempotencyKey })
    ));
    s.release_idempotency_key(b.id, "in-flight").await.unwrap();
    s.release_idempotency_key(b.id, "shared").await.unwrap();
    // B's release freed B's claim only.
    assert_eq!(claim(s, b.id, "shared", &FP_B, 11).await, IdempotencyClaim::Claimed);
    s.complete_idempotency_key(b.id, "shared", &response(202)).await.unwrap();

    // Org A's records are as A left them.
    let record = existing(claim(s, a.id, "shared", &FP_A, 20).await);
    assert_eq!((record.fingerprint, record.created_at, record.response), (FP_A, T0, Some(stored)));
    let record = existing(claim(s, a.id, "in-flight", &FP_A, 20).await);
    assert_eq!((record.fingerprint, record.response), (FP_A, None));
    assert_eq!(existing(claim(s, b.id, "shared", &FP_A, 20).await).response.map(|r| r.status), Some(202));

    // Keys compare byte for byte: another case is another key.
    assert_eq!(claim(s, a.id, "SHARED", &FP_A, 30).await, IdempotencyClaim::Claimed);
    assert_eq!(claim(s, a.id, "Shared", &FP_A, 30).await, IdempotencyClaim::Claimed);
}

async fn concurrent_claims_of_a_fresh_key_have_one_winner(db: &TestDb) {
    let store = Arc::clone(&db.store);
    let (a, _) = org(&*store, "acme").await;
    // Each contender has its own fingerprint, so the losers can tell whose claim they saw.
    let tasks: Vec<_> = (0..16u8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let fp = [i; 32];
                (
                    fp,
                    store
                        .claim_idempotency_key(a.id, "race", &fp, t(i64::from(i)), t(-WINDOW_SECS), t(-LEASE_SECS))
                        .await,
                )
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut seen = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (fp, Ok(IdempotencyClaim::Claimed)) => winners.push(fp),
            (_, Ok(IdempotencyClaim::Existing(record))) => seen.push(record),
            (_, Err(e)) => panic!("a claim failed: {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    assert_eq!(seen.len(), 15);
    let stored = existing(claim(&*store, a.id, "race", &FP_A, 20).await);
    assert_eq!((stored.fingerprint, stored.response.as_ref()), (winners[0], None));
    for record in seen {
        assert_eq!(record, stored, "every loser sees the winner's in-flight record");
    }
}

async fn purge_deletes_only_records_older_than_the_cut_off(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    // Finished and in-flight records in both orgs, at +0 s, +10 s and +20 s.
    for (org, key, secs, complete) in
        [(a.id, "a0", 0, true), (b.id, "b0", 0, false), (a.id, "a10", 10, false), (b.id, "b20", 20, true)]
    {
        assert_eq!(claim(s, org, key, &FP_A, secs).await, IdempotencyClaim::Claimed);
        if complete {
            s.complete_idempotency_key(org, key, &response(201)).await.unwrap();
        }
    }
    assert_eq!(s.purge_idempotency_keys(T0).await.unwrap(), 0, "the cut-off is exclusive");
    assert_eq!(s.purge_idempotency_keys(t(10)).await.unwrap(), 2, "both orgs' records older than +10 s");
    assert_eq!(s.purge_idempotency_keys(t(10)).await.unwrap(), 0);

    // The purged keys are free (even with a window that would still cover them); the rest remain.
    for (org, key) in [(a.id, "a0"), (b.id, "b0")] {
        let claimed = s.claim_idempotency_key(org, key, &FP_B, t(30), t(-WINDOW_SECS), t(-LEASE_SECS)).await.unwrap();
        assert_eq!(claimed, IdempotencyClaim::Claimed, "{key}");
    }
    assert_eq!(existing(claim(s, a.id, "a10", &FP_B, 30).await).created_at, t(10));
    assert_eq!(existing(claim(s, b.id, "b20", &FP_B, 30).await).response.map(|r| r.status), Some(201));
    assert_eq!(s.purge_idempotency_keys(t(31)).await.unwrap(), 4);
}
