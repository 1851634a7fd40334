//! End users: the race-safe upsert and lookups.

use std::sync::Arc;

use serde_json::json;
use tessera_core::{Metadata, UserUpsert};

use crate::fixtures::*;
use crate::harness::TestDb;

contract!(
    upsert_creates_once_then_returns_the_same_user,
    upsert_applies_only_given_fields_and_touches_updated_at_only_on_change,
    users_are_scoped_by_org_and_identity,
    concurrent_upserts_create_exactly_one_user,
);

fn meta(v: serde_json::Value) -> Option<Metadata> {
    Some(Metadata::parse(v).unwrap())
}

async fn upsert_creates_once_then_returns_the_same_user(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let first = UserUpsert {
        display_name: Some("Ada".into()),
        metadata: meta(json!({"plan": "pro", "n": 1})),
        ..upsert("discord", "user-42", T0)
    };
    let (user, created) = s.upsert_user(a.id, &first).await.unwrap();
    assert!(created);
    assert_eq!((user.id, user.org_id), (first.id, a.id));
    assert_eq!((user.platform.as_str(), user.account.as_str()), ("discord", "user-42"));
    assert_eq!(user.display_name.as_deref(), Some("Ada"));
    assert_eq!(user.metadata, first.metadata.clone().unwrap());
    assert_eq!((user.created_at, user.updated_at), (T0, T0));
    assert_eq!(s.user_by_id(a.id, user.id).await.unwrap().as_ref(), Some(&user));

    // Nothing given: the stored values and updated_at stay.
    let (same, created) = s.upsert_user(a.id, &upsert("discord", "user-42", t(60))).await.unwrap();
    assert!(!created);
    assert_eq!(same, user);

    // A user without metadata gets an empty object.
    let (bare, _) = s.upsert_user(a.id, &upsert("web", "plain", T0)).await.unwrap();
    assert_eq!(bare.metadata, Metadata::default());
    assert_eq!(bare.display_name, None);
}

async fn upsert_applies_only_given_fields_and_touches_updated_at_only_on_change(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let base = UserUpsert {
        display_name: Some("Ada".into()),
        metadata: meta(json!({"plan": "pro"})),
        ..upsert("web", "u1", T0)
    };
    let (user, _) = s.upsert_user(a.id, &base).await.unwrap();

    let rename = UserUpsert { display_name: Some("Ada L.".into()), ..upsert("web", "u1", t(10)) };
    let (renamed, created) = s.upsert_user(a.id, &rename).await.unwrap();
    assert!(!created);
    assert_eq!(renamed.id, user.id, "the id of the upsert input is ignored for an existing user");
    assert_eq!(renamed.display_name.as_deref(), Some("Ada L."));
    assert_eq!(renamed.metadata, user.metadata, "metadata kept when not given");
    assert_eq!((renamed.created_at, renamed.updated_at), (T0, t(10)));

    let unchanged = UserUpsert {
        display_name: Some("Ada L.".into()),
        metadata: meta(json!({"plan": "pro"})),
        ..upsert("web", "u1", t(20))
    };
    let (same, _) = s.upsert_user(a.id, &unchanged).await.unwrap();
    assert_eq!(same.updated_at, t(10), "equal values are not a change");

    let remeta = UserUpsert { metadata: meta(json!({"plan": "free", "seats": 3})), ..upsert("web", "u1", t(30)) };
    let (updated, _) = s.upsert_user(a.id, &remeta).await.unwrap();
    assert_eq!(updated.metadata, remeta.metadata.clone().unwrap(), "metadata is replaced, not merged");
    assert_eq!(updated.display_name.as_deref(), Some("Ada L."), "display name kept when not given");
    assert_eq!(updated.updated_at, t(30));
    assert_eq!(s.user_by_id(a.id, user.id).await.unwrap().as_ref(), Some(&updated));
}

async fn users_are_scoped_by_org_and_identity(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let ua = user(s, a.id, "u1").await;
    let (ub, created) = s.upsert_user(b.id, &upsert("web", "u1", T0)).await.unwrap();
    assert!(created, "the same identity in another org is another user");
    assert_ne!(ua.id, ub.id);
    let (other_platform, created) = s.upsert_user(a.id, &upsert("discord", "u1", T0)).await.unwrap();
    assert!(created);
    assert_ne!(other_platform.id, ua.id);

    assert_eq!(s.user_by_id(b.id, ua.id).await.unwrap(), None, "org B cannot read org A's user");
    assert_eq!(s.user_by_id(a.id, ub.id).await.unwrap(), None);
    assert_eq!(s.user_by_id(a.id, tessera_core::UserId(id())).await.unwrap(), None);
    // Org B's upsert of the same identity did not touch org A's row.
    assert_eq!(s.user_by_id(a.id, ua.id).await.unwrap().as_ref(), Some(&ua));
}

async fn concurrent_upserts_create_exactly_one_user(db: &TestDb) {
    let store = Arc::clone(&db.store);
    let (a, _) = org(&*store, "acme").await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let input = UserUpsert { display_name: Some(format!("racer {i}")), ..upsert("web", "same", t(i)) };
                store.upsert_user(a.id, &input).await.map(|(u, created)| (u.id, created, input.id))
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap().expect("no upsert may fail under contention"));
    }
    let created: Vec<_> = results.iter().filter(|r| r.1).collect();
    assert_eq!(created.len(), 1, "exactly one call creates: {results:?}");
    let winner = created[0].2;
    assert!(results.iter().all(|r| r.0 == winner), "all calls see the created user: {results:?}");
    assert_eq!(store.user_by_id(a.id, winner).await.unwrap().unwrap().account.as_str(), "same");
    for r in &results {
        if r.2 != winner {
            assert_eq!(store.user_by_id(a.id, r.2).await.unwrap(), None, "losers' ids were not inserted");
        }
    }
}
