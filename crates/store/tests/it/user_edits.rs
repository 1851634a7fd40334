//! Patching and deleting users: which fields change, when `updated_at` moves, token removal on
//! delete, re-creating a deleted identity, and tenant scoping of both writes.

use std::sync::Arc;
use tessera_core::Entity;

use serde_json::json;
use tessera_core::{Error, Metadata, TokenQuery, UserId, UserPatch, UserQuery, UserUpsert};

use crate::fixtures::*;
use crate::harness::{Backend, TestDb};

contract!(
    update_applies_only_given_fields_and_touches_updated_at_only_on_change,
    update_and_delete_of_another_orgs_user_are_not_found,
    delete_removes_the_users_tokens_and_frees_the_identity,
    delete_is_atomic_under_concurrent_token_inserts,
);

fn meta(v: serde_json::Value) -> Option<Metadata> {
    Some(Metadata::parse(v).unwrap())
}

fn patch(display_name: Option<Option<&str>>, metadata: Option<Metadata>, secs: i64) -> UserPatch {
    UserPatch { display_name: display_name.map(|n| n.map(str::to_owned)), metadata, now: t(secs) }
}

async fn update_applies_only_given_fields_and_touches_updated_at_only_on_change(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let base = UserUpsert {
        display_name: Some("Ada".into()),
        metadata: meta(json!({"plan": "pro"})),
        ..upsert("web", "u1", T0)
    };
    let (user, _) = s.upsert_user(a.id, &base).await.unwrap();
    let bystander = self::user(s, a.id, "u2").await;

    let same = s.update_user(a.id, user.id, &patch(None, None, 10), &audit()).await.unwrap();
    assert_eq!(same, user, "an empty patch changes nothing, not even updated_at");
    let same = s
        .update_user(a.id, user.id, &patch(Some(Some("Ada")), meta(json!({"plan": "pro"})), 11), &audit())
        .await
        .unwrap();
    assert_eq!(same, user, "equal values are not a change");

    let renamed = s.update_user(a.id, user.id, &patch(Some(Some("Ada L.")), None, 20), &audit()).await.unwrap();
    assert_eq!(renamed.display_name.as_deref(), Some("Ada L."));
    assert_eq!(renamed.metadata, user.metadata, "metadata kept when not given");
    assert_eq!(
        (renamed.id, renamed.org_id, &renamed.account, &renamed.platform),
        (user.id, a.id, &user.account, &user.platform)
    );
    assert_eq!((renamed.created_at, renamed.updated_at), (T0, t(20)));

    let remeta = meta(json!({"plan": "free", "seats": 3}));
    let updated = s.update_user(a.id, user.id, &patch(None, remeta.clone(), 30), &audit()).await.unwrap();
    assert_eq!(updated.metadata, remeta.unwrap(), "metadata is replaced, not merged");
    assert_eq!(updated.display_name.as_deref(), Some("Ada L."), "display name kept when not given");
    assert_eq!(updated.updated_at, t(30));

    let cleared = s.update_user(a.id, user.id, &patch(Some(None), None, 40), &audit()).await.unwrap();
    assert_eq!(cleared.display_name, None, "Some(None) clears the display name");
    assert_eq!(cleared.updated_at, t(40));
    let again = s.update_user(a.id, user.id, &patch(Some(None), None, 50), &audit()).await.unwrap();
    assert_eq!(again.updated_at, t(40), "clearing an absent name is not a change");
    let named = s.update_user(a.id, user.id, &patch(Some(Some("Ada")), None, 60), &audit()).await.unwrap();
    assert_eq!((named.display_name.as_deref(), named.updated_at), (Some("Ada"), t(60)), "a name can be set again");

    // The store holds exactly what was returned, and no other user was touched.
    assert_eq!(s.user_by_id(a.id, user.id).await.unwrap().as_ref(), Some(&named));
    assert_eq!(s.user_by_id(a.id, bystander.id).await.unwrap().as_ref(), Some(&bystander));
}

async fn update_and_delete_of_another_orgs_user_are_not_found(db: &TestDb) {
    let s = db.store();
    let (a, key) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let ua = self::user(s, a.id, "u1").await;
    let ub = self::user(s, b.id, "u1").await;
    let token = s.insert_user_token(a.id, &new_token(ua.id, key.id, t(1), None)).await.unwrap();

    let rename = patch(Some(Some("hijacked")), meta(json!({"x": 1})), 10);
    for user_id in [ua.id, UserId(id())] {
        let err = s.update_user(b.id, user_id, &rename, &audit()).await.unwrap_err();
        assert!(matches!(err, Error::NotFound { entity: Entity::User }), "{err:?}");
        let err = s.delete_user(b.id, user_id, &audit()).await.unwrap_err();
        assert!(matches!(err, Error::NotFound { entity: Entity::User }), "{err:?}");
    }
    assert!(matches!(
        s.update_user(a.id, UserId(id()), &rename, &audit()).await,
        Err(Error::NotFound { entity: Entity::User })
    ));
    assert!(matches!(s.delete_user(a.id, UserId(id()), &audit()).await, Err(Error::NotFound { entity: Entity::User })));

    // Org A's user, its token and org B's own user are untouched.
    assert_eq!(s.user_by_id(a.id, ua.id).await.unwrap().as_ref(), Some(&ua));
    assert_eq!(s.user_token(a.id, token.id).await.unwrap().as_ref(), Some(&token));
    assert_eq!(s.user_by_id(b.id, ub.id).await.unwrap().as_ref(), Some(&ub));
    assert_eq!(s.list_users(a.id, &UserQuery::default()).await.unwrap().data, vec![ua]);
}

async fn delete_removes_the_users_tokens_and_frees_the_identity(db: &TestDb) {
    let s = db.store();
    let (a, key) = org(s, "acme").await;
    let gone = self::user(s, a.id, "u1").await;
    let kept = self::user(s, a.id, "u2").await;
    let tokens = [
        s.insert_user_token(a.id, &new_default_token(gone.id, key.id, t(1))).await.unwrap(),
        s.insert_user_token(a.id, &new_token(gone.id, key.id, t(2), Some(t(3600)))).await.unwrap(),
        s.insert_user_token(a.id, &new_token(gone.id, key.id, t(3), Some(t(3600)))).await.unwrap(),
    ];
    s.revoke_user_token(a.id, tokens[2].id, t(4), &audit()).await.unwrap();
    let kept_token = s.insert_user_token(a.id, &new_default_token(kept.id, key.id, t(5))).await.unwrap();

    assert_eq!(s.delete_user(a.id, gone.id, &audit()).await.unwrap(), 3, "every token row counts, revoked ones too");
    assert_eq!(s.user_by_id(a.id, gone.id).await.unwrap(), None);
    for token in &tokens {
        assert_eq!(s.user_token(a.id, token.id).await.unwrap(), None, "introspection finds no row");
    }
    assert_eq!(s.default_user_token(a.id, gone.id).await.unwrap(), None);
    assert!(matches!(s.delete_user(a.id, gone.id, &audit()).await, Err(Error::NotFound { entity: Entity::User })));
    assert!(matches!(
        s.insert_user_token(a.id, &new_token(gone.id, key.id, t(6), None)).await,
        Err(Error::NotFound { entity: Entity::User })
    ));

    // The other user and its token are untouched.
    assert_eq!(s.user_by_id(a.id, kept.id).await.unwrap().as_ref(), Some(&kept));
    assert_eq!(s.user_token(a.id, kept_token.id).await.unwrap().as_ref(), Some(&kept_token));
    let listed = s.list_users(a.id, &UserQuery::default()).await.unwrap().data;
    assert_eq!(listed.iter().map(|u| u.id).collect::<Vec<_>>(), vec![kept.id]);

    // The identity is free again: a new user with a new id and no tokens of the old one.
    let (again, created) = s.upsert_user(a.id, &upsert("web", "u1", t(100))).await.unwrap();
    assert!(created);
    assert_ne!(again.id, gone.id);
    assert_eq!((again.created_at, again.display_name.as_deref()), (t(100), None));
    let list = s.list_user_tokens(a.id, again.id, &TokenQuery::default(), t(100)).await.unwrap();
    assert!(list.data.is_empty());
    s.insert_user_token(a.id, &new_default_token(again.id, key.id, t(101))).await.expect("a fresh default token");

    // A user without tokens is deleted with a count of 0.
    assert_eq!(s.delete_user(a.id, kept.id, &audit()).await.unwrap(), 1);
    let bare = self::user(s, a.id, "bare").await;
    assert_eq!(s.delete_user(a.id, bare.id, &audit()).await.unwrap(), 0);
}

async fn delete_is_atomic_under_concurrent_token_inserts(db: &TestDb) {
    let store = Arc::clone(&db.store);
    let (a, key) = org(&*store, "acme").await;
    let u = self::user(&*store, a.id, "u1").await;
    for secs in 0..2 {
        store.insert_user_token(a.id, &new_token(u.id, key.id, t(secs), None)).await.unwrap();
    }
    // Inserts race the delete; each either lands before it (and is deleted with the user) or
    // finds no user. Whatever the interleaving, no token may outlive its user and the count must
    // be exact: only the delete's one committed transaction removes token rows.
    let inserts: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let token = new_token(u.id, key.id, t(10 + i), None);
                (token.id, store.insert_user_token(a.id, &token).await)
            })
        })
        .collect();
    let deleted = store.delete_user(a.id, u.id, &audit()).await.expect("the delete succeeds whatever the interleaving");
    let mut landed = Vec::new();
    for task in inserts {
        match task.await.unwrap() {
            (id, Ok(_)) => landed.push(id),
            (_, Err(Error::NotFound { entity: Entity::User })) => {}
            // PostgreSQL only: an insert that read the user row just before the delete committed
            // fails its foreign-key check (a storage error) rather than seeing "no user".
            (_, Err(Error::Storage(_))) if db.backend == Backend::Postgres => {}
            (_, Err(e)) => panic!("unexpected insert error: {e:?}"),
        }
    }
    assert_eq!(deleted, 2 + landed.len() as u64, "the returned count covers every row that existed");
    for id in landed {
        assert_eq!(store.user_token(a.id, id).await.unwrap(), None);
    }
    assert_eq!(store.user_by_id(a.id, u.id).await.unwrap(), None);
}
