//! User tokens: insertion rules, the one live default token, lookups and revocation.

use std::sync::Arc;
use tessera_core::Entity;

use tessera_core::{Error, IssuedBy, NewUserToken, UserId, UserTokenId};
use time::macros::datetime;

use crate::fixtures::*;
use crate::harness::{Backend, TestDb};

contract!(
    tokens_round_trip_with_issuer_and_microsecond_times,
    insert_user_token_requires_a_user_of_the_org,
    only_one_live_default_token_per_user,
    revoke_user_token_keeps_the_first_time_and_is_scoped,
    revoke_user_tokens_cuts_off_strictly_before_and_is_scoped,
    concurrent_token_writes_neither_fail_nor_lose_rows,
    insert_user_tokens_commits_a_batch_with_one_result_per_row,
    a_token_row_names_a_signing_key_and_api_key_of_its_own_org,
    a_batch_failing_for_another_reason_than_a_vanished_user_fails_whole,
    keys_that_tokens_refer_to_cannot_be_deleted,
    user_and_default_token_reads_both_in_one_call,
);

async fn tokens_round_trip_with_issuer_and_microsecond_times(db: &TestDb) {
    let s = db.store();
    let (a, key) = org(s, "acme").await;
    let u = user(s, a.id, "u1").await;
    let api_key = s.create_api_key(a.id, &new_api_key("AbCd1234", T0), &audit()).await.unwrap();
    let member = s.create_member(a.id, &new_member("ada@example.com"), &audit()).await.unwrap();

    let issued = datetime!(2026-05-06 07:08:09.987654 UTC);
    let new = NewUserToken { issued_by: by_key(api_key.id), ..new_token(u.id, key.id, issued, Some(t(3600))) };
    let token = s.insert_user_token(a.id, &new).await.unwrap();
    assert_eq!((token.id, token.org_id, token.user_id, token.signing_key_id), (new.id, a.id, u.id, key.id));
    assert_eq!((token.issued_at, token.expires_at, token.revoked_at), (issued, Some(t(3600)), None));
    assert!(!token.is_default);
    assert_eq!(token.issued_by, Some(IssuedBy::ApiKey(api_key.id)));
    assert_eq!(s.user_token(a.id, token.id).await.unwrap().as_ref(), Some(&token));

    let by_member = NewUserToken { issued_by: Some(IssuedBy::Member(member.id)), ..new_token(u.id, key.id, T0, None) };
    let token = s.insert_user_token(a.id, &by_member).await.unwrap();
    assert_eq!((token.issued_by, token.expires_at), (Some(IssuedBy::Member(member.id)), None));
    assert_eq!(s.user_token(a.id, token.id).await.unwrap().as_ref(), Some(&token));

    // Sub-microsecond digits are dropped once, at the insert, and what is returned is what is read.
    let fine = datetime!(2026-05-06 07:08:09.123456789 UTC);
    let token = s.insert_user_token(a.id, &new_token(u.id, key.id, fine, None)).await.unwrap();
    assert_eq!(token.issued_at, datetime!(2026-05-06 07:08:09.123456 UTC));
    assert_eq!(s.user_token(a.id, token.id).await.unwrap().unwrap().issued_at, token.issued_at);
}

async fn insert_user_token_requires_a_user_of_the_org(db: &TestDb) {
    let s = db.store();
    let (a, ka) = org(s, "acme").await;
    let (b, kb) = org(s, "beta").await;
    let ub = user(s, b.id, "u1").await;

    let foreign = new_token(ub.id, ka.id, T0, None);
    let err = s.insert_user_token(a.id, &foreign).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { entity: Entity::User }), "{err:?}");
    assert_eq!(s.user_token(a.id, foreign.id).await.unwrap(), None);
    assert_eq!(s.user_token(b.id, foreign.id).await.unwrap(), None);

    let ghost = new_token(UserId(id()), ka.id, T0, None);
    assert!(matches!(s.insert_user_token(a.id, &ghost).await, Err(Error::NotFound { entity: Entity::User })));

    let ok = s.insert_user_token(b.id, &new_token(ub.id, kb.id, T0, None)).await.unwrap();
    assert_eq!(s.user_token(a.id, ok.id).await.unwrap(), None, "org A cannot read org B's token");
}

async fn only_one_live_default_token_per_user(db: &TestDb) {
    let s = db.store();
    let (a, key) = org(s, "acme").await;
    let u1 = user(s, a.id, "u1").await;
    let u2 = user(s, a.id, "u2").await;
    assert_eq!(s.default_user_token(a.id, u1.id).await.unwrap(), None);

    let first = s.insert_user_token(a.id, &new_default_token(u1.id, key.id, t(1))).await.unwrap();
    assert!(first.is_default && first.expires_at.is_none());
    let err = s.insert_user_token(a.id, &new_default_token(u1.id, key.id, t(2))).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { code: "default_token_exists", .. }), "{err:?}");
    assert_eq!(s.default_user_token(a.id, u1.id).await.unwrap().as_ref(), Some(&first));

    // Ordinary tokens and other users' defaults are unaffected.
    s.insert_user_token(a.id, &new_token(u1.id, key.id, t(3), None)).await.unwrap();
    let other = s.insert_user_token(a.id, &new_default_token(u2.id, key.id, t(3))).await.unwrap();
    assert_eq!(s.default_user_token(a.id, u2.id).await.unwrap().as_ref(), Some(&other));
    assert_eq!(s.default_user_token(a.id, u1.id).await.unwrap().as_ref(), Some(&first));

    // Another org sees no default token for this user.
    let (b, _) = org(s, "beta").await;
    assert_eq!(s.default_user_token(b.id, u1.id).await.unwrap(), None);

    // Once revoked, the default may be replaced.
    s.revoke_user_token(a.id, first.id, t(4), &audit()).await.unwrap();
    assert_eq!(s.default_user_token(a.id, u1.id).await.unwrap(), None);
    let second = s.insert_user_token(a.id, &new_default_token(u1.id, key.id, t(5))).await.unwrap();
    assert_eq!(s.default_user_token(a.id, u1.id).await.unwrap().as_ref(), Some(&second));
}

async fn revoke_user_token_keeps_the_first_time_and_is_scoped(db: &TestDb) {
    let s = db.store();
    let (a, key) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let u = user(s, a.id, "u1").await;
    let token = s.insert_user_token(a.id, &new_token(u.id, key.id, T0, Some(t(3600)))).await.unwrap();

    let err = s.revoke_user_token(b.id, token.id, t(5), &audit()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { entity: Entity::UserToken }), "{err:?}");
    assert_eq!(s.user_token(a.id, token.id).await.unwrap().unwrap().revoked_at, None, "org B changed nothing");

    let revoked = s.revoke_user_token(a.id, token.id, t(10), &audit()).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t(10)));
    let again = s.revoke_user_token(a.id, token.id, t(20), &audit()).await.unwrap();
    assert_eq!(again.revoked_at, Some(t(10)), "the first revocation time is kept");
    assert_eq!(s.user_token(a.id, token.id).await.unwrap().as_ref(), Some(&again));

    let err = s.revoke_user_token(a.id, UserTokenId(id()), t(1), &audit()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { entity: Entity::UserToken }), "{err:?}");
}

async fn revoke_user_tokens_cuts_off_strictly_before_and_is_scoped(db: &TestDb) {
    let s = db.store();
    let (a, key) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let u = user(s, a.id, "u1").await;
    let bystander = user(s, a.id, "u2").await;
    let mut ids = Vec::new();
    for secs in [0, 10, 20, 30] {
        ids.push(s.insert_user_token(a.id, &new_token(u.id, key.id, t(secs), None)).await.unwrap().id);
    }
    let early_revoked = s.insert_user_token(a.id, &new_token(u.id, key.id, t(5), None)).await.unwrap().id;
    s.revoke_user_token(a.id, early_revoked, t(6), &audit()).await.unwrap();
    let other_user = s.insert_user_token(a.id, &new_token(bystander.id, key.id, t(0), None)).await.unwrap().id;

    // Org B cannot revoke org A's user's tokens, and nothing changes.
    let err = s.revoke_user_tokens(b.id, u.id, t(100), t(100), &audit()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { entity: Entity::User }), "{err:?}");
    assert!(matches!(
        s.revoke_user_tokens(a.id, UserId(id()), t(100), t(100), &audit()).await,
        Err(Error::NotFound { .. })
    ));
    for id in &ids {
        assert_eq!(s.user_token(a.id, *id).await.unwrap().unwrap().revoked_at, None);
    }

    // Cut-off at t(20): the tokens of t(0) and t(10) go; t(20) itself (not strictly before) and
    // t(30) stay; the already revoked one is not counted and keeps its time.
    assert_eq!(s.revoke_user_tokens(a.id, u.id, t(20), t(50), &audit()).await.unwrap(), 2);
    let revoked_at = |id| async move { s.user_token(a.id, id).await.unwrap().unwrap().revoked_at };
    assert_eq!(revoked_at(ids[0]).await, Some(t(50)));
    assert_eq!(revoked_at(ids[1]).await, Some(t(50)));
    assert_eq!(revoked_at(ids[2]).await, None);
    assert_eq!(revoked_at(ids[3]).await, None);
    assert_eq!(revoked_at(early_revoked).await, Some(t(6)));
    assert_eq!(revoked_at(other_user).await, None, "another user's tokens are untouched");

    assert_eq!(s.revoke_user_tokens(a.id, u.id, t(20), t(60), &audit()).await.unwrap(), 0, "nothing left to revoke");
    assert_eq!(s.revoke_user_tokens(a.id, u.id, t(1000), t(70), &audit()).await.unwrap(), 2);
    let fresh = user(s, a.id, "u3").await;
    assert_eq!(
        s.revoke_user_tokens(a.id, fresh.id, t(1000), t(70), &audit()).await.unwrap(),
        0,
        "a user without tokens"
    );
}

async fn concurrent_token_writes_neither_fail_nor_lose_rows(db: &TestDb) {
    // `revoke_user_tokens` reads (does the user exist?) before it writes. On SQLite a deferred
    // transaction doing that fails with SQLITE_BUSY at once when another connection wrote in
    // between; with `BEGIN IMMEDIATE` it waits its turn instead.
    let store = Arc::clone(&db.store);
    let (a, key) = org(&*store, "acme").await;
    let u = user(&*store, a.id, "u1").await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for j in 0..10 {
                    let issued = t(i * 100 + j);
                    store.insert_user_token(a.id, &new_token(u.id, key.id, issued, None)).await?;
                    store.revoke_user_tokens(a.id, u.id, issued, issued, &audit()).await?;
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("no write may fail under contention");
    }
    let all = store.list_user_tokens(a.id, u.id, &Default::default(), t(0)).await.unwrap();
    assert_eq!(all.data.len(), 50, "first page of the 80 rows");
    let mut cursor = all.next_cursor;
    let mut count = all.data.len();
    while let Some(c) = cursor {
        let page = tessera_core::PageRequest::parse(Some(50), Some(&c)).unwrap();
        let next =
            store.list_user_tokens(a.id, u.id, &tessera_core::TokenQuery { status: None, page }, t(0)).await.unwrap();
        count += next.data.len();
        cursor = next.next_cursor;
    }
    assert_eq!(count, 80);
}

async fn insert_user_tokens_commits_a_batch_with_one_result_per_row(db: &TestDb) {
    let s = db.store();
    let (a, ka) = org(s, "acme").await;
    let (b, kb) = org(s, "beta").await;
    let (ua, ua2) = (user(s, a.id, "u1").await, user(s, a.id, "u2").await);
    let ub = user(s, b.id, "u1").await;
    // ua2 already has a live default token.
    s.insert_user_token(a.id, &new_default_token(ua2.id, ka.id, t(0))).await.unwrap();

    let batch = vec![
        (a.id, new_token(ua.id, ka.id, t(1), Some(t(3600)))),
        (b.id, new_token(ub.id, kb.id, t(1), None)),
        (a.id, new_token(ub.id, ka.id, t(1), None)), // org B's user under org A
        (a.id, new_default_token(ua.id, ka.id, t(2))),
        (a.id, new_default_token(ua.id, ka.id, t(3))), // a second default in the same batch
        (a.id, new_default_token(ua2.id, ka.id, t(4))), // the user already has one
        (a.id, new_token(UserId(id()), ka.id, t(5), None)), // no such user
        (b.id, new_default_token(ub.id, kb.id, t(6))),
    ];
    let results = s.insert_user_tokens(&batch).await.unwrap();
    assert_eq!(results.len(), batch.len());
    let inserted = [0, 1, 3, 7];
    for (i, ((org_id, new), result)) in batch.iter().zip(&results).enumerate() {
        if inserted.contains(&i) {
            let token = result.as_ref().unwrap_or_else(|e| panic!("row {i}: {e:?}"));
            assert_eq!((token.id, token.org_id, token.user_id), (new.id, *org_id, new.user_id), "row {i}");
            assert_eq!(
                (token.issued_at, token.expires_at, token.is_default),
                (new.issued_at, new.expires_at, new.is_default)
            );
            assert_eq!(s.user_token(*org_id, new.id).await.unwrap().as_ref(), Some(token), "row {i} is stored");
        } else {
            assert_eq!(s.user_token(*org_id, new.id).await.unwrap(), None, "row {i} is not stored");
        }
    }
    assert!(matches!(results[2], Err(Error::NotFound { entity: Entity::User })), "{:?}", results[2]);
    assert!(matches!(results[4], Err(Error::Conflict { code: "default_token_exists", .. })), "{:?}", results[4]);
    assert!(matches!(results[5], Err(Error::Conflict { code: "default_token_exists", .. })), "{:?}", results[5]);
    assert!(matches!(results[6], Err(Error::NotFound { entity: Entity::User })), "{:?}", results[6]);
    // The first default of the batch is the user's default now.
    assert_eq!(s.default_user_token(a.id, ua.id).await.unwrap().map(|t| t.id), Some(batch[3].1.id));

    assert!(s.insert_user_tokens(&[]).await.unwrap().is_empty(), "an empty batch is fine");
}

/// SQLite checks this with foreign keys; PostgreSQL with one check per statement (migration
/// 0004), whether the row comes alone or in a batch.
async fn a_token_row_names_a_signing_key_and_api_key_of_its_own_org(db: &TestDb) {
    let s = db.store();
    let (a, ka) = org(s, "acme").await;
    let (b, kb) = org(s, "beta").await;
    let ua = user(s, a.id, "u1").await;
    let key_a = s.create_api_key(a.id, &new_api_key("AbCd1234", T0), &audit()).await.unwrap();
    let key_b = s.create_api_key(b.id, &new_api_key("EfGh5678", T0), &audit()).await.unwrap();

    let foreign_signing_key = new_token(ua.id, kb.id, t(1), None);
    let foreign_api_key = NewUserToken { issued_by: by_key(key_b.id), ..new_token(ua.id, ka.id, t(1), None) };
    for new in [&foreign_signing_key, &foreign_api_key] {
        assert!(s.insert_user_token(a.id, new).await.is_err(), "{new:?} was inserted");
        assert_eq!(s.user_token(a.id, new.id).await.unwrap(), None);
    }

    let batch = vec![
        (a.id, new_token(ua.id, ka.id, t(2), None)),
        (a.id, new_token(ua.id, kb.id, t(2), None)),
        (a.id, NewUserToken { issued_by: by_key(key_a.id), ..new_token(ua.id, ka.id, t(2), None) }),
        (a.id, NewUserToken { issued_by: by_key(key_b.id), ..new_token(ua.id, ka.id, t(2), None) }),
    ];
    let results = s.insert_user_tokens(&batch).await.unwrap();
    for (i, ((org_id, new), result)) in batch.iter().zip(&results).enumerate() {
        let stored = s.user_token(*org_id, new.id).await.unwrap();
        if i % 2 == 0 {
            assert_eq!(result.as_ref().ok(), stored.as_ref(), "row {i} is stored and answered");
            assert!(stored.is_some(), "row {i}");
        } else {
            assert!(result.is_err() && stored.is_none(), "row {i}: {result:?}, stored {stored:?}");
        }
    }
}

/// Only a foreign-key failure (a user deleted under the batch) means "insert the rows one by
/// one"; any other database error (here a trigger that refuses one row, standing in for a lock
/// timeout, a full disk or a serialization failure) fails the whole batch as a storage error,
/// nothing inserted, instead of costing one more statement per row (issue 14, finding 6).
async fn a_batch_failing_for_another_reason_than_a_vanished_user_fails_whole(db: &TestDb) {
    use sqlx::{Connection, Executor};
    let s = db.store();
    let (a, ka) = org(s, "acme").await;
    let ua = user(s, a.id, "u1").await;
    let refused_at = t(99);
    let refused_micros = (refused_at.unix_timestamp_nanos() / 1000) as i64;
    match db.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.fresh.url).await.unwrap();
            let sql = format!(
                "create trigger refuse_one before insert on user_token when new.issued_at = {refused_micros} \
                 begin select raise(abort, 'injected failure'); end"
            );
            conn.execute(sql.as_str()).await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.fresh.url).await.unwrap();
            conn.execute(
                "create function refuse_one() returns trigger language plpgsql as \
                 $$ begin raise exception 'injected failure'; end $$",
            )
            .await
            .unwrap();
            let sql = format!(
                "create trigger refuse_one before insert on user_token for each row \
                 when (new.issued_at = {refused_micros}) execute function refuse_one()"
            );
            conn.execute(sql.as_str()).await.unwrap();
        }
    }
    let batch = vec![
        (a.id, new_token(ua.id, ka.id, t(1), None)),
        (a.id, new_token(ua.id, ka.id, refused_at, None)),
        (a.id, new_token(ua.id, ka.id, t(2), None)),
    ];
    let outcome = s.insert_user_tokens(&batch).await;
    assert!(matches!(outcome, Err(Error::Storage(_))), "the batch should fail as a whole: {outcome:?}");
    for (org_id, new) in &batch {
        assert_eq!(s.user_token(*org_id, new.id).await.unwrap(), None, "{new:?} is stored");
    }
    // A batch the trigger lets through still goes in.
    let results = s.insert_user_tokens(&[batch[0].clone(), batch[2].clone()]).await.unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}

/// Deletes through a connection of its own (the store has no such operation): SQLite's foreign
/// keys refuse it, PostgreSQL's delete guards (migration 0004) too.
async fn keys_that_tokens_refer_to_cannot_be_deleted(db: &TestDb) {
    use sqlx::{Connection, Executor};
    let s = db.store();
    let (a, ka) = org(s, "acme").await;
    let ua = user(s, a.id, "u1").await;
    let new_key = new_api_key("AbCd1234", T0);
    let key = s.create_api_key(a.id, &new_key, &audit()).await.unwrap();
    let token = NewUserToken { issued_by: by_key(key.id), ..new_token(ua.id, ka.id, t(1), None) };
    s.insert_user_token(a.id, &token).await.unwrap();

    for (table, id) in [("api_key", key.id.0), ("signing_key", ka.id.0)] {
        let result = match db.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&db.fresh.url).await.unwrap();
                conn.execute("pragma foreign_keys = on").await.unwrap();
                let sql = format!("delete from {table} where id = ?");
                sqlx::query(&sql).bind(id).execute(&mut conn).await.map(|r| r.rows_affected())
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&db.fresh.url).await.unwrap();
                let sql = format!("delete from {table} where id = $1");
                sqlx::query(&sql).bind(id).execute(&mut conn).await.map(|r| r.rows_affected())
            }
        };
        assert!(result.is_err(), "deleting the {table} row went through: {result:?}");
    }
    assert!(s.user_token(a.id, token.id).await.unwrap().is_some());
    assert_eq!(s.api_key_by_hash(&new_key.hash).await.unwrap().map(|k| k.id), Some(key.id));
}

async fn user_and_default_token_reads_both_in_one_call(db: &TestDb) {
    let s = db.store();
    let (a, ka) = org(s, "acme").await;
    let (b, _) = org(s, "beta").await;
    let (web, u1) = (tessera_core::Platform::parse("web").unwrap(), tessera_core::Account::parse("u1").unwrap());
    let ios = tessera_core::Platform::parse("ios").unwrap();
    assert_eq!(s.user_and_default_token(a.id, &web, &u1).await.unwrap(), None, "no user yet");

    let u = user(s, a.id, "u1").await;
    // Other tokens are not the default one.
    s.insert_user_token(a.id, &new_token(u.id, ka.id, t(1), None)).await.unwrap();
    assert_eq!(s.user_and_default_token(a.id, &web, &u1).await.unwrap(), Some((u.clone(), None)));

    let api_key = s.create_api_key(a.id, &new_api_key("AbCd1234", T0), &audit()).await.unwrap();
    let new_default = NewUserToken { issued_by: by_key(api_key.id), ..new_default_token(u.id, ka.id, t(5)) };
    let default = s.insert_user_token(a.id, &new_default).await.unwrap();
    assert_eq!(s.user_and_default_token(a.id, &web, &u1).await.unwrap(), Some((u.clone(), Some(default.clone()))));
    assert_eq!(s.user_and_default_token(b.id, &web, &u1).await.unwrap(), None, "another org's user");
    assert_eq!(s.user_and_default_token(a.id, &ios, &u1).await.unwrap(), None, "another platform");

    // A revoked default token is no longer the user's default.
    s.revoke_user_token(a.id, default.id, t(10), &audit()).await.unwrap();
    assert_eq!(s.user_and_default_token(a.id, &web, &u1).await.unwrap(), Some((u, None)));
}
