//! Issuing, listing, introspecting and revoking user tokens.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn introspection_sees_a_revocation_on_the_very_next_call() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (token, user_id) = app.claimr_token(&key, "u1").await;

    let live = app.introspect(&key, &token).await;
    assert_eq!(live["active"], true);
    assert_eq!(live["sub"], user_id.as_str());
    assert_eq!(live["aud"], "acme");
    assert_eq!(live["account"], "u1");
    assert_eq!(live["platform"], "web");
    assert!(live.get("exp").is_none());

    let jti = live["jti"].as_str().unwrap();
    let r = app.call(Method::DELETE, &format!("/v1/user-tokens/{jti}"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.introspect(&key, &token).await, json!({"active": false}));

    // Revoking twice is fine and keeps the token revoked.
    let r = app.call(Method::DELETE, &format!("/v1/user-tokens/{jti}"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn revoke_tokens_revokes_all_of_a_users_tokens_and_counts_them() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (permanent, user_id) = app.claimr_token(&key, "u1").await;
    let mut short = Vec::new();
    for ttl in [60, 3600] {
        let r = app.post("/v1/user-tokens", &key, json!({"user": user_id, "ttl_seconds": ttl})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert!(r.body["expires_at"].is_string());
        short.push(r.body["user_token"].as_str().unwrap().to_owned());
    }
    let (other, _) = app.claimr_token(&key, "u2").await;
    // Introspected once first, so this instance has the live rows in memory.
    for t in short.iter().chain([&permanent, &other]) {
        assert_eq!(app.introspect(&key, t).await["active"], true);
    }

    let r = app.post(&format!("/v1/users/{user_id}/revoke-tokens"), &key, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"revoked": 3}));
    for t in short.iter().chain([&permanent]) {
        assert_eq!(app.introspect(&key, t).await["active"], false);
    }
    assert_eq!(app.introspect(&key, &other).await["active"], true, "another user's token is untouched");

    let again = app.call(Method::POST, &format!("/v1/users/{user_id}/revoke-tokens"), Some(&key), None).await;
    assert_eq!(again.body, json!({"revoked": 0}));

    let future = app
        .post(&format!("/v1/users/{user_id}/revoke-tokens"), &key, json!({"issued_before": "2999-01-01T00:00:00Z"}))
        .await;
    future.assert_problem(422, "validation_failed");
    assert_eq!(future.body["errors"][0]["field"], "issued_before");
}

#[tokio::test]
async fn token_lists_filter_by_status_and_page_without_gaps() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (_, user_id) = app.claimr_token(&key, "u1").await;
    let mut issued = Vec::new();
    for _ in 0..4 {
        let r = app.post("/v1/user-tokens", &key, json!({"user": user_id})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        issued.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let revoked = &issued[0];
    app.call(Method::DELETE, &format!("/v1/user-tokens/{revoked}"), Some(&key), None).await;

    let mut seen = Vec::new();
    let mut uri = format!("/v1/users/{user_id}/tokens?limit=2");
    loop {
        let r = app.get(&uri, &key).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for t in r.body["data"].as_array().unwrap() {
            seen.push((t["id"].as_str().unwrap().to_owned(), t["status"].as_str().unwrap().to_owned()));
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/users/{user_id}/tokens?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "4 issued + the default token, each once: {seen:?}");
    assert_eq!(seen[0].0, issued[3], "newest first");
    assert!(seen.contains(&(revoked.clone(), "revoked".into())));

    let r = app.get(&format!("/v1/users/{user_id}/tokens?status=revoked"), &key).await;
    let ids: Vec<_> = r.body["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, vec![revoked.clone()]);
    let r = app.get(&format!("/v1/users/{user_id}/tokens?status=active"), &key).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 4);

    for (query, field) in
        [("limit=0", "limit"), ("limit=201", "limit"), ("cursor=nope", "cursor"), ("status=live", "status")]
    {
        let r = app.get(&format!("/v1/users/{user_id}/tokens?{query}"), &key).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn issuing_checks_lifetime_bounds_and_permanent() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (_, user_id) = app.claimr_token(&key, "u1").await;

    for ttl in [59, 365 * 24 * 3600 + 1, -5] {
        let r = app.post("/v1/user-tokens", &key, json!({"user": user_id, "ttl_seconds": ttl})).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "ttl_seconds");
    }
    let r = app.post("/v1/user-tokens", &key, json!({"user": user_id, "permanent": true})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.body["expires_at"].is_null());

    let r = app.post("/v1/user-tokens", &key, json!({"user": user_id})).await;
    let issued = time::OffsetDateTime::parse(
        r.body["issued_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        r.body["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!((expires - issued).whole_seconds(), 3600, "org default lifetime");
    let claims = app.introspect(&key, r.body["user_token"].as_str().unwrap()).await;
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
}

#[tokio::test]
async fn introspection_rejects_garbage_and_tampering() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (token, _) = app.claimr_token(&key, "u1").await;
    let mut tampered = token.clone().into_bytes();
    let mid = token.find('.').unwrap() + 5;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    for bad in ["", "garbage", "a.b.c", &String::from_utf8(tampered).unwrap(), &token[..token.len() - 2]] {
        assert_eq!(app.introspect(&key, bad).await, json!({"active": false}), "{bad}");
    }
}

#[tokio::test]
async fn introspection_refuses_an_expired_token() {
    use tessera_core::{NewUserToken, UserTokenClaims, UserTokenId};
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (_, user_id) = app.claimr_token(&key, "u1").await;
    let user = tessera_api::services::users::get(&app.state, org.id, user_id.parse().unwrap()).await.unwrap();

    // Tokens issued two hours ago, signed with the org's real key: minted through the key ring
    // and the store because the API never issues one that is already expired.
    let keys = app.state.keys.org_keys(app.state.store.as_ref(), org.id).await.unwrap();
    let issued_at = tessera_api::services::now() - time::Duration::hours(2);
    let mint = |lifetime_hours: i64| {
        let (app, org, keys, user) = (&app, &org, keys.clone(), user.clone());
        async move {
            let new = NewUserToken {
                id: UserTokenId(uuid::Uuid::now_v7()),
                user_id: user.id,
                signing_key_id: keys.active_key().unwrap(),
                issued_at,
                expires_at: Some(issued_at + time::Duration::hours(lifetime_hours)),
                is_default: false,
                issued_by: None,
            };
            let row = app.state.store.insert_user_token(org.id, &new).await.unwrap();
            let claims = UserTokenClaims {
                jti: row.id.to_string(),
                sub: user.id.to_string(),
                iss: app.state.config.issuer(&org.slug),
                aud: org.slug.to_string(),
                iat: row.iat(),
                exp: row.exp(),
                account: user.account.to_string(),
                platform: user.platform.to_string(),
            };
            (row.id, keys.sign(row.signing_key_id, &claims).unwrap())
        }
    };
    let (expired_id, expired) = mint(1).await;
    assert_eq!(app.introspect(&key, &expired).await, json!({"active": false}));
    // The same kind of token with a future `exp` is active: the refusal above is the expiry.
    let (_, live) = mint(3).await;
    assert_eq!(app.introspect(&key, &live).await["active"], true);
    let listed = app.get(&format!("/v1/users/{user_id}/tokens?status=expired"), &key).await;
    let ids: Vec<_> = listed.body["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![expired_id.to_string()]);
}

#[tokio::test]
async fn a_deleted_user_gets_no_new_token_even_after_being_looked_up() {
    // POST /v1/user-tokens remembers a user's identity; the row insert must still refuse a user
    // deleted since, and the user's other org must never see it.
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let other_key = {
        let beta = app.with_org("beta").await;
        app.with_api_key(&beta).await
    };
    let (_, user_id) = app.claimr_token(&key, "u1").await;
    let r = app.post("/v1/user-tokens", &key, json!({"user": user_id})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    app.post("/v1/user-tokens", &other_key, json!({"user": user_id})).await.assert_problem(404, "user_not_found");

    let r = app.call(Method::DELETE, &format!("/v1/users/{user_id}"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    app.post("/v1/user-tokens", &key, json!({"user": user_id})).await.assert_problem(404, "user_not_found");
}

#[tokio::test]
async fn a_revocation_by_another_instance_is_seen_within_the_token_row_ttl() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (token, _) = app.claimr_token(&key, "u1").await;
    let jti = app.introspect(&key, &token).await["jti"].as_str().unwrap().parse::<uuid::Uuid>().unwrap();

    // Another instance on the same database revokes it: straight in the store, so this
    // instance's services (which forget remembered rows on revocation) are not involved.
    let other_instance = tessera_store::open(&app.db_url).await.unwrap();
    other_instance
        .revoke_user_token(
            org.id,
            tessera_core::UserTokenId(jti),
            time::OffsetDateTime::now_utc(),
            &crate::helpers::audit(),
        )
        .await
        .unwrap();

    let deadline = std::time::Instant::now() + tessera_api::services::tokens::TOKEN_ROW_TTL;
    while app.introspect(&key, &token).await["active"] == true {
        assert!(std::time::Instant::now() < deadline, "still active after TOKEN_ROW_TTL");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // It stays inactive (a revocation is never undone by a stale row).
    assert_eq!(app.introspect(&key, &token).await, json!({"active": false}));
}

#[tokio::test]
async fn a_token_row_read_before_a_revocation_is_not_used_after_it() {
    use tessera_api::services::tokens::TokenRows;
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (token, _) = app.claimr_token(&key, "u1").await;
    let jti = app.introspect(&key, &token).await["jti"].as_str().unwrap().parse::<uuid::Uuid>().unwrap();
    let id = tessera_core::UserTokenId(jti);
    let store = app.state.store.as_ref();

    let rows = TokenRows::default();
    assert!(rows.get(store, org.id, id).await.unwrap().unwrap().revoked_at.is_none());
    store.revoke_user_token(org.id, id, time::OffsetDateTime::now_utc(), &crate::helpers::audit()).await.unwrap();
    assert!(
        rows.get(store, org.id, id).await.unwrap().unwrap().revoked_at.is_none(),
        "within the TTL and the same generation the remembered row is used (no read)"
    );
    rows.forget_all();
    assert!(rows.get(store, org.id, id).await.unwrap().unwrap().revoked_at.is_some(), "a new generation reads again");

    let other = tessera_core::OrgId(uuid::Uuid::now_v7());
    assert!(rows.get(store, other, id).await.unwrap().is_none(), "another org never gets the row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_token_writer_commits_every_row_handed_to_it_and_refuses_later_ones() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let user = app.post("/v1/users", &key, json!({"platform": "web", "account": "u1"})).await;
    let body = json!({"user": user.body["id"], "ttl_seconds": 3600});
    // `POST /v1/users` issued the user's first token; fewer requests than a page holds, so the
    // list below sees every row.
    let tokens_of_user = format!("/v1/users/{}/tokens?limit=200", user.body["id"].as_str().unwrap());
    let before = app.get(&tokens_of_user, &key).await.body["data"].as_array().unwrap().len();
    assert_eq!(before, 1);

    // Many issues in flight, then the writer is closed under them (as a shutdown does).
    let issues: Vec<_> = (0..150)
        .map(|_| {
            let (app, key, body) = (app.clone(), key.clone(), body.clone());
            tokio::spawn(async move { app.post("/v1/user-tokens", &key, body).await })
        })
        .collect();
    while !issues.iter().any(|issue| issue.is_finished()) {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    app.state.token_writer.close().await;
    // Once `close` returns, every batch is committed: nothing is added after it.
    let stored_at_close = app.get(&tokens_of_user, &key).await.body["data"].as_array().unwrap().len();
    let mut answered = Vec::new();
    for issue in issues {
        let r = issue.await.unwrap();
        match r.status {
            StatusCode::CREATED => answered.push(r.body["user_token"].as_str().unwrap().to_owned()),
            // Handed over after the close: refused, never half-done.
            _ => r.assert_problem(503, "storage_unavailable"),
        }
    }
    assert!(!answered.is_empty(), "some tokens were issued before the close");
    let stored = app.get(&tokens_of_user, &key).await.body["data"].as_array().unwrap().len();
    assert_eq!(
        (stored_at_close, stored),
        (before + answered.len(), before + answered.len()),
        "rows at the close, rows at the end, answered 201"
    );
    for token in &answered {
        assert_eq!(app.introspect(&key, token).await["active"], true, "an answered token is stored");
    }
    app.post("/v1/user-tokens", &key, body).await.assert_problem(503, "storage_unavailable");
    app.state.token_writer.close().await; // a second close returns at once
}
