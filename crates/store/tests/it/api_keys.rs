//! API keys: creation, lookup by hash, listing, revocation, `last_used_at`.

use tessera_core::Entity;
use tessera_core::{ApiKeyHash, ApiKeyId, Error, NewApiKey};

use crate::fixtures::*;
use crate::harness::TestDb;

contract!(
    api_keys_round_trip_and_are_found_by_hash_even_when_revoked,
    api_key_prefix_conflicts_within_an_org_only,
    api_keys_list_newest_first_per_org,
    revoke_api_key_keeps_the_first_time_and_is_scoped,
    touch_api_key_records_last_use_and_is_scoped,
);

async fn api_keys_round_trip_and_are_found_by_hash_even_when_revoked(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let member = s.create_member(a.id, &new_member("ada@example.com"), &audit()).await.unwrap();
    let new = NewApiKey { created_by: Some(member.id), expires_at: Some(t(86_400)), ..new_api_key("AbCd1234", t(10)) };
    let key = s.create_api_key(a.id, &new, &audit()).await.unwrap();
    assert_eq!(
        (key.id, key.org_id, key.name.as_str(), key.prefix.as_str()),
        (new.id, a.id, "key AbCd1234", "AbCd1234")
    );
    assert_eq!(key.created_by, Some(member.id));
    assert_eq!(
        (key.created_at, key.expires_at, key.last_used_at, key.revoked_at),
        (t(10), Some(t(86_400)), None, None)
    );

    assert_eq!(s.api_key_by_hash(&new.hash).await.unwrap().as_ref(), Some(&key));
    assert_eq!(s.api_key_by_hash(&ApiKeyHash([9; 32])).await.unwrap(), None);

    s.revoke_api_key(a.id, "AbCd1234", t(20), &audit()).await.unwrap();
    let found = s.api_key_by_hash(&new.hash).await.unwrap().expect("revoked keys are still found");
    assert_eq!(found.revoked_at, Some(t(20)));
    assert!(!found.is_usable(t(21)));
}

async fn api_key_prefix_conflicts_within_an_org_only(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    s.create_api_key(a.id, &new_api_key("AAAAAAAA", t(1)), &audit()).await.unwrap();
    let err = s.create_api_key(a.id, &new_api_key("AAAAAAAA", t(2)), &audit()).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { code: "api_key_prefix_taken", .. }), "{err:?}");
    assert_eq!(s.list_api_keys(a.id).await.unwrap().len(), 1);
    s.create_api_key(b.id, &new_api_key("AAAAAAAA", t(3)), &audit()).await.unwrap();
}

async fn api_keys_list_newest_first_per_org(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let mut made = Vec::new();
    for (i, prefix) in ["k1aaaaaa", "k2aaaaaa", "k3aaaaaa"].into_iter().enumerate() {
        made.push(s.create_api_key(a.id, &new_api_key(prefix, t(i as i64)), &audit()).await.unwrap());
    }
    let other = s.create_api_key(b.id, &new_api_key("k9aaaaaa", t(5)), &audit()).await.unwrap();
    made.reverse();
    assert_eq!(s.list_api_keys(a.id).await.unwrap(), made);
    assert_eq!(s.list_api_keys(b.id).await.unwrap(), vec![other]);
}

async fn revoke_api_key_keeps_the_first_time_and_is_scoped(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let new = new_api_key("AbCd1234", t(0));
    s.create_api_key(a.id, &new, &audit()).await.unwrap();

    let err = s.revoke_api_key(b.id, "AbCd1234", t(5), &audit()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { entity: Entity::ApiKey }), "{err:?}");
    assert_eq!(s.api_key_by_hash(&new.hash).await.unwrap().unwrap().revoked_at, None, "org B changed nothing");

    let revoked = s.revoke_api_key(a.id, "AbCd1234", t(10), &audit()).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t(10)));
    let again = s.revoke_api_key(a.id, "AbCd1234", t(20), &audit()).await.unwrap();
    assert_eq!(again, revoked, "an already revoked key is returned unchanged");
    assert!(matches!(
        s.revoke_api_key(a.id, "zzzzzzzz", t(1), &audit()).await,
        Err(Error::NotFound { entity: Entity::ApiKey })
    ));
}

async fn touch_api_key_records_last_use_and_is_scoped(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let new = new_api_key("AbCd1234", t(0));
    let key = s.create_api_key(a.id, &new, &audit()).await.unwrap();
    let last_used = || async { s.api_key_by_hash(&new.hash).await.unwrap().unwrap().last_used_at };

    s.touch_api_key(a.id, key.id, t(60)).await.unwrap();
    assert_eq!(last_used().await, Some(t(60)));

    let err = s.touch_api_key(b.id, key.id, t(120)).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { entity: Entity::ApiKey }), "{err:?}");
    assert!(matches!(s.touch_api_key(a.id, ApiKeyId(id()), t(120)).await, Err(Error::NotFound { .. })));
    assert_eq!(last_used().await, Some(t(60)));

    // A late write from another instance must not move it backwards.
    s.touch_api_key(a.id, key.id, t(30)).await.unwrap();
    assert_eq!(last_used().await, Some(t(60)));
    s.touch_api_key(a.id, key.id, t(180)).await.unwrap();
    assert_eq!(last_used().await, Some(t(180)));
}
