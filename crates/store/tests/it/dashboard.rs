//! The dashboard's storage: first-run setup, members (list, lookup, role changes, removal with
//! the last-owner rule), sessions (create, touch, expiry, delete) and the overview's numbers.

use std::sync::Arc;
use tessera_core::Entity;

use tessera_core::{
    Error, MemberId, NewMember, NewSession, OrgCounts, OrgId, Role, SessionHash, SessionToken, Store, Timestamp,
};

use crate::fixtures::*;
use crate::harness::TestDb;

contract!(
    first_org_is_created_once_with_its_owner,
    concurrent_first_runs_create_one_org,
    first_run_refuses_when_an_org_exists,
    members_are_listed_and_found_per_org,
    the_last_owner_can_be_neither_demoted_nor_removed,
    concurrent_demotions_keep_one_owner,
    removing_a_member_ends_their_sessions_and_keeps_their_keys,
    sessions_are_touched_until_idle_or_expired,
    sessions_are_deleted_and_purged,
    overview_counts_are_per_org_and_live,
    tokens_are_counted_per_day,
);

fn member(email: &str, role: Role) -> NewMember {
    NewMember { role, ..new_member(email) }
}

fn session(member: MemberId, created_at: Timestamp, expires_at: Timestamp) -> (SessionHash, NewSession) {
    let token = SessionToken::generate(&mut rand::rngs::OsRng);
    let hash = token.hash();
    (hash, NewSession { hash, member_id: member, created_at, expires_at })
}

async fn first_org_is_created_once_with_its_owner(db: &TestDb) {
    let s = db.store();
    assert!(s.first_orgs(2).await.unwrap().is_empty());
    let (org, owner) = s
        .create_first_org(&new_org("acme"), &new_signing_key(), &member("ada@example.com", Role::Owner), &audit())
        .await
        .unwrap();
    assert_eq!((org.slug.as_str(), owner.org_id, owner.role), ("acme", org.id, Role::Owner));
    assert_eq!(s.first_orgs(2).await.unwrap(), vec![org.clone()]);
    assert_eq!(s.signing_keys(org.id).await.unwrap().len(), 1, "the org got its signing key");

    let err = s
        .create_first_org(&new_org("beta"), &new_signing_key(), &member("bob@example.com", Role::Owner), &audit())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { code: "setup_done", .. }), "{err:?}");
    assert!(s.org_by_slug("beta").await.unwrap().is_none(), "the refused setup wrote nothing");

    let err = s
        .create_first_org(&new_org("gamma"), &new_signing_key(), &member("c@example.com", Role::Admin), &audit())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "the first member must be an owner: {err:?}");
}

async fn concurrent_first_runs_create_one_org(db: &TestDb) {
    let store: Arc<dyn Store> = db.store.clone();
    let runs = (0..6).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let slug = if i % 2 == 0 { format!("org-{i}") } else { "same".to_owned() };
            store
                .create_first_org(
                    &new_org(&slug),
                    &new_signing_key(),
                    &member(&format!("o{i}@example.com"), Role::Owner),
                    &audit(),
                )
                .await
        })
    });
    let mut won = 0;
    for run in runs.collect::<Vec<_>>() {
        match run.await.unwrap() {
            Ok(_) => won += 1,
            Err(Error::Conflict { code: "setup_done", .. }) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(won, 1);
    let orgs = store.first_orgs(10).await.unwrap();
    assert_eq!(orgs.len(), 1, "{orgs:?}");
    assert_eq!(store.list_members(orgs[0].id).await.unwrap().len(), 1);
}

async fn first_run_refuses_when_an_org_exists(db: &TestDb) {
    let s = db.store();
    let (cli_org, _) = org(s, "made-by-cli").await;
    let err = s
        .create_first_org(&new_org("acme"), &new_signing_key(), &member("ada@example.com", Role::Owner), &audit())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { code: "setup_done", .. }), "{err:?}");
    assert_eq!(s.first_orgs(2).await.unwrap(), vec![cli_org]);
}

async fn members_are_listed_and_found_per_org(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let ada = s.create_member(a.id, &member("ada@example.com", Role::Owner), &audit()).await.unwrap();
    let bob = s
        .create_member(a.id, &NewMember { created_at: t(5), ..member("bob@example.com", Role::Viewer) }, &audit())
        .await
        .unwrap();
    let other = s.create_member(b.id, &member("ada@example.com", Role::Owner), &audit()).await.unwrap();

    assert_eq!(s.list_members(a.id).await.unwrap(), vec![ada.clone(), bob.clone()]);
    assert_eq!(s.list_members(b.id).await.unwrap(), vec![other.clone()]);
    assert_eq!(s.member_by_email(a.id, "ada@example.com").await.unwrap(), Some(ada.clone()));
    assert_eq!(s.member_by_email(b.id, "ada@example.com").await.unwrap(), Some(other));
    assert_eq!(s.member_by_email(b.id, "bob@example.com").await.unwrap(), None, "scoped by org");
    assert_eq!(s.member_by_id(a.id, bob.id).await.unwrap(), Some(bob.clone()));
    assert_eq!(s.member_by_id(b.id, bob.id).await.unwrap(), None, "scoped by org");
}

async fn the_last_owner_can_be_neither_demoted_nor_removed(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let ada = s.create_member(a.id, &member("ada@example.com", Role::Owner), &audit()).await.unwrap();
    let bob = s.create_member(a.id, &member("bob@example.com", Role::Admin), &audit()).await.unwrap();

    for role in [Role::Admin, Role::Viewer] {
        let err = s.change_member_role(a.id, ada.id, role, &audit()).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { code: "last_owner", .. }), "{err:?}");
    }
    let err = s.remove_member(a.id, ada.id, &audit()).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { code: "last_owner", .. }), "{err:?}");
    assert_eq!(s.member_by_id(a.id, ada.id).await.unwrap().unwrap().role, Role::Owner, "nothing changed");

    // Another org cannot touch them.
    assert!(matches!(
        s.change_member_role(b.id, bob.id, Role::Owner, &audit()).await,
        Err(Error::NotFound { entity: Entity::Member })
    ));
    assert!(matches!(s.remove_member(b.id, bob.id, &audit()).await, Err(Error::NotFound { entity: Entity::Member })));

    // With a second owner, the first may step down, and then the second is the last one.
    assert_eq!(s.change_member_role(a.id, bob.id, Role::Owner, &audit()).await.unwrap().role, Role::Owner);
    assert_eq!(s.change_member_role(a.id, ada.id, Role::Viewer, &audit()).await.unwrap().role, Role::Viewer);
    let err = s.remove_member(a.id, bob.id, &audit()).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { code: "last_owner", .. }), "{err:?}");
    s.remove_member(a.id, ada.id, &audit()).await.unwrap();
    assert_eq!(s.list_members(a.id).await.unwrap().iter().map(|m| m.id).collect::<Vec<_>>(), vec![bob.id]);
    assert!(matches!(s.remove_member(a.id, ada.id, &audit()).await, Err(Error::NotFound { entity: Entity::Member })));
}

async fn concurrent_demotions_keep_one_owner(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let mut owners = Vec::new();
    for i in 0..4 {
        owners.push(
            s.create_member(a.id, &member(&format!("o{i}@example.com"), Role::Owner), &audit()).await.unwrap().id,
        );
    }
    let store: Arc<dyn Store> = db.store.clone();
    let tasks: Vec<_> = owners
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let store = store.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    store.change_member_role(a.id, id, Role::Admin, &audit()).await.map(|_| ())
                } else {
                    store.remove_member(a.id, id, &audit()).await
                }
            })
        })
        .collect();
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => {}
            Err(Error::Conflict { code: "last_owner", .. }) => refused += 1,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    let left = s.list_members(a.id).await.unwrap();
    assert_eq!(left.iter().filter(|m| m.role == Role::Owner).count(), 1, "{left:?}");
    assert_eq!(refused, 1);
}

async fn removing_a_member_ends_their_sessions_and_keeps_their_keys(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    s.create_member(a.id, &member("owner@example.com", Role::Owner), &audit()).await.unwrap();
    let bob = s.create_member(a.id, &member("bob@example.com", Role::Admin), &audit()).await.unwrap();
    let key = s
        .create_api_key(
            a.id,
            &tessera_core::NewApiKey { created_by: Some(bob.id), ..new_api_key("BobKey01", t(3)) },
            &audit(),
        )
        .await
        .unwrap();
    let (hash, new) = session(bob.id, t(10), t(10_000));
    s.create_session(a.id, &new, &audit()).await.unwrap();

    s.remove_member(a.id, bob.id, &audit()).await.unwrap();
    assert_eq!(s.touch_session(&hash, t(20), t(0)).await.unwrap(), None, "their session is gone");
    let keys = s.list_api_keys(a.id).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].id, keys[0].created_by, keys[0].revoked_at), (key.id, None, None));
}

async fn sessions_are_touched_until_idle_or_expired(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let ada = s.create_member(a.id, &member("ada@example.com", Role::Owner), &audit()).await.unwrap();
    let (hash, new) = session(ada.id, t(0), t(1000));

    let err = s.create_session(b.id, &new, &audit()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { entity: Entity::Member }), "another org's member: {err:?}");
    let created = s.create_session(a.id, &new, &audit()).await.unwrap();
    assert_eq!(
        (created.org_id, created.member_id, created.created_at, created.last_seen_at, created.expires_at),
        (a.id, ada.id, t(0), t(0), t(1000))
    );

    // Idle cutoff t(-100): last seen at t(0) is recent enough; the touch moves last_seen_at.
    let touched = s.touch_session(&hash, t(100), t(-100)).await.unwrap().expect("live");
    assert_eq!(touched.last_seen_at, t(100));
    // Now last seen at t(100): a cutoff at t(100) means idle too long.
    assert_eq!(s.touch_session(&hash, t(200), t(100)).await.unwrap(), None);
    assert_eq!(s.touch_session(&hash, t(200), t(99)).await.unwrap().unwrap().last_seen_at, t(200));
    // A late touch from another instance does not move it backwards.
    assert_eq!(s.touch_session(&hash, t(150), t(0)).await.unwrap().unwrap().last_seen_at, t(200));
    // Past the absolute end it is over, however recent.
    assert_eq!(s.touch_session(&hash, t(1000), t(900)).await.unwrap(), None);
    assert_eq!(s.touch_session(&SessionHash([7; 32]), t(10), t(0)).await.unwrap(), None);
}

async fn sessions_are_deleted_and_purged(db: &TestDb) {
    let s = db.store();
    let (a, _) = org(s, "acme").await;
    let ada = s.create_member(a.id, &member("ada@example.com", Role::Owner), &audit()).await.unwrap();
    let (signed_out, new) = session(ada.id, t(0), t(1000));
    s.create_session(a.id, &new, &audit()).await.unwrap();
    let (idle, new) = session(ada.id, t(0), t(1000));
    s.create_session(a.id, &new, &audit()).await.unwrap();
    let (old, new) = session(ada.id, t(0), t(50));
    s.create_session(a.id, &new, &audit()).await.unwrap();
    let (live, new) = session(ada.id, t(90), t(1000));
    s.create_session(a.id, &new, &audit()).await.unwrap();

    assert!(s.delete_session(&signed_out, &audit()).await.unwrap());
    assert!(!s.delete_session(&signed_out, &audit()).await.unwrap(), "already gone");
    assert_eq!(s.touch_session(&signed_out, t(1), t(-10)).await.unwrap(), None);

    // At t(100) with a cutoff of t(10): `idle` (last seen t(0)) and `old` (ended t(50)) go.
    assert_eq!(s.delete_expired_sessions(t(100), t(10)).await.unwrap(), 2);
    assert_eq!(s.touch_session(&idle, t(100), t(-10)).await.unwrap(), None);
    assert_eq!(s.touch_session(&old, t(40), t(-10)).await.unwrap(), None);
    assert!(s.touch_session(&live, t(100), t(10)).await.unwrap().is_some());
}

async fn overview_counts_are_per_org_and_live(db: &TestDb) {
    let s = db.store();
    let (a, key) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    assert_eq!(s.org_counts(a.id, t(0)).await.unwrap(), OrgCounts::default());

    let u1 = user(s, a.id, "1").await;
    let u2 = user(s, a.id, "2").await;
    user(s, b.id, "1").await;
    s.insert_user_token(a.id, &new_token(u1.id, key.id, t(0), None)).await.unwrap();
    s.insert_user_token(a.id, &new_token(u1.id, key.id, t(0), Some(t(100)))).await.unwrap();
    let revoked = s.insert_user_token(a.id, &new_token(u2.id, key.id, t(0), None)).await.unwrap();
    s.revoke_user_token(a.id, revoked.id, t(1), &audit()).await.unwrap();
    s.create_api_key(a.id, &new_api_key("live0001", t(0)), &audit()).await.unwrap();
    s.create_api_key(
        a.id,
        &tessera_core::NewApiKey { expires_at: Some(t(100)), ..new_api_key("soon0001", t(0)) },
        &audit(),
    )
    .await
    .unwrap();
    s.create_api_key(a.id, &new_api_key("gone0001", t(0)), &audit()).await.unwrap();
    s.revoke_api_key(a.id, "gone0001", t(1), &audit()).await.unwrap();

    assert_eq!(s.org_counts(a.id, t(50)).await.unwrap(), OrgCounts { users: 2, active_tokens: 2, active_api_keys: 2 });
    assert_eq!(s.org_counts(a.id, t(100)).await.unwrap(), OrgCounts { users: 2, active_tokens: 1, active_api_keys: 1 });
    assert_eq!(s.org_counts(b.id, t(50)).await.unwrap(), OrgCounts { users: 1, active_tokens: 0, active_api_keys: 0 });
    assert_eq!(s.org_counts(OrgId(id()), t(50)).await.unwrap(), OrgCounts::default());
}

async fn tokens_are_counted_per_day(db: &TestDb) {
    let s = db.store();
    let (a, key) = org(s, "acme").await;
    let (b, bkey) = org(s, "beta").await;
    let u = user(s, a.id, "1").await;
    let day = 86_400;
    for at in [t(-1), t(0), t(10), t(day - 1), t(2 * day), t(2 * day + 5), t(2 * day + 6), t(3 * day)] {
        s.insert_user_token(a.id, &new_token(u.id, key.id, at, None)).await.unwrap();
    }
    let other = user(s, b.id, "1").await;
    s.insert_user_token(b.id, &new_token(other.id, bkey.id, t(0), None)).await.unwrap();

    assert_eq!(s.tokens_issued_per_day(a.id, t(0), 3).await.unwrap(), vec![3, 0, 3]);
    assert_eq!(s.tokens_issued_per_day(a.id, t(0), 4).await.unwrap(), vec![3, 0, 3, 1]);
    assert_eq!(s.tokens_issued_per_day(b.id, t(0), 2).await.unwrap(), vec![1, 0]);
    assert_eq!(s.tokens_issued_per_day(a.id, t(10 * day), 2).await.unwrap(), vec![0, 0]);
}
