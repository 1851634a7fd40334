//! Orgs, signing keys, members and `ping`.

use tessera_core::{Error, Role, DEFAULT_TOKEN_TTL_SECONDS};

use crate::fixtures::*;
use crate::harness::TestDb;

contract!(
    ping_answers,
    create_org_round_trips_with_an_active_signing_key,
    org_lookups_miss_cleanly,
    taken_slug_conflicts_and_leaves_no_signing_key,
    failed_signing_key_insert_rolls_back_the_org,
    signing_keys_are_scoped_by_org,
    member_email_conflicts_within_an_org_only,
);

async fn ping_answers(db: &TestDb) {
    db.store().ping().await.unwrap();
}

async fn create_org_round_trips_with_an_active_signing_key(db: &TestDb) {
    let s = db.store();
    let new = new_org("acme");
    let key = new_signing_key();
    let org = s.create_org(&new, &key, &audit()).await.unwrap();
    assert_eq!(org.id, new.id);
    assert_eq!(org.slug.as_str(), "acme");
    assert_eq!(org.name, "Org acme");
    assert_eq!(org.default_token_ttl_seconds, DEFAULT_TOKEN_TTL_SECONDS);
    assert_eq!(org.created_at, T0, "microseconds survive the round trip");
    assert_eq!(s.org_by_slug("acme").await.unwrap().as_ref(), Some(&org));
    assert_eq!(s.org_by_id(org.id).await.unwrap().as_ref(), Some(&org));

    let keys = s.signing_keys(org.id).await.unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!((k.id, k.org_id, k.algorithm.as_str()), (key.id, org.id, "EdDSA"));
    assert_eq!(k.public_key, key.public_key);
    assert_eq!(k.encrypted_private_key, key.encrypted_private_key);
    assert_eq!(k.created_at, key.created_at);
    assert!(k.active);
}

async fn org_lookups_miss_cleanly(db: &TestDb) {
    let s = db.store();
    org(s, "acme").await;
    assert_eq!(s.org_by_slug("other").await.unwrap(), None);
    assert_eq!(s.org_by_id(tessera_core::OrgId(id())).await.unwrap(), None);
}

async fn taken_slug_conflicts_and_leaves_no_signing_key(db: &TestDb) {
    let s = db.store();
    let (first, _) = org(s, "acme").await;
    let again = new_org("acme");
    let err = s.create_org(&again, &new_signing_key(), &audit()).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { code: "org_slug_taken", .. }), "{err:?}");
    assert_eq!(s.org_by_id(again.id).await.unwrap(), None);
    assert!(s.signing_keys(again.id).await.unwrap().is_empty());
    assert_eq!(s.org_by_slug("acme").await.unwrap().unwrap().id, first.id);
    assert_eq!(s.signing_keys(first.id).await.unwrap().len(), 1);
}

async fn failed_signing_key_insert_rolls_back_the_org(db: &TestDb) {
    let s = db.store();
    let (_, key) = org(s, "acme").await;
    // The org insert succeeds, then the key insert fails on its duplicate id: nothing must remain.
    let reused = tessera_core::NewSigningKey { id: key.id, ..new_signing_key() };
    let second = new_org("beta");
    let err = s.create_org(&second, &reused, &audit()).await.unwrap_err();
    assert!(matches!(err, Error::Storage(_) | Error::Conflict { .. }), "{err:?}");
    assert_eq!(s.org_by_slug("beta").await.unwrap(), None);
    assert_eq!(s.org_by_id(second.id).await.unwrap(), None);
    // And the slug is still free.
    s.create_org(&second, &new_signing_key(), &audit()).await.unwrap();
}

async fn signing_keys_are_scoped_by_org(db: &TestDb) {
    let s = db.store();
    let (a, ka) = org(s, "acme").await;
    let (b, kb) = org(s, "beta").await;
    let ids = |v: Vec<tessera_core::SigningKey>| v.into_iter().map(|k| k.id).collect::<Vec<_>>();
    assert_eq!(ids(s.signing_keys(a.id).await.unwrap()), vec![ka.id]);
    assert_eq!(ids(s.signing_keys(b.id).await.unwrap()), vec![kb.id]);
    assert!(s.signing_keys(tessera_core::OrgId(id())).await.unwrap().is_empty());
}

async fn member_email_conflicts_within_an_org_only(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let new = new_member("ada@example.com");
    let m = s.create_member(a.id, &new, &audit()).await.unwrap();
    assert_eq!((m.id, m.org_id, m.email.as_str(), m.role), (new.id, a.id, "ada@example.com", Role::Admin));
    assert_eq!(m.password_hash, new.password_hash);
    assert_eq!(m.created_at, new.created_at);

    let err = s.create_member(a.id, &new_member("ada@example.com"), &audit()).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { code: "member_email_taken", .. }), "{err:?}");
    let other = s.create_member(b.id, &new_member("ada@example.com"), &audit()).await.unwrap();
    assert_eq!(other.org_id, b.id);
}
