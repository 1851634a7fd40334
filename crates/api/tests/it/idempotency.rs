//! `Idempotency-Key`: replays keep the same response and token, conflicts are refused, and no
//! token is stored in plaintext.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tessera_api::idempotency::IN_FLIGHT_LEASE;

use crate::helpers::{DbConn, Response, TestApp};

async fn post_with_key(app: &TestApp, api_key: &str, uri: &str, idem: &str, body: &Value) -> Response {
    let request = Request::post(uri)
        .header("authorization", format!("Bearer {api_key}"))
        .header("content-type", "application/json")
        .header("idempotency-key", idem)
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(request).await
}

/// Whether `needle` is stored anywhere in the app's database: in the SQLite file or its WAL; on
/// PostgreSQL, in any column of any table (bytea columns searched as bytes, others as text).
async fn db_contains(app: &TestApp, needle: &str) -> bool {
    if let Some(path) = app.sqlite_path() {
        return [path.clone(), path.with_extension("db-wal")]
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()));
    }
    let DbConn::Postgres(mut conn) = app.connect_db().await else { unreachable!("not SQLite") };
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "select table_name::text, column_name::text, data_type::text from information_schema.columns \
         where table_schema = 'public' order by table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(columns.iter().any(|(t, c, _)| t == "idempotency_key" && c == "response_body"), "{columns:?}");
    for (table, column, data_type) in columns {
        let test = if data_type == "bytea" {
            format!(r#"position(convert_to($1, 'UTF8') in "{column}") > 0"#)
        } else {
            format!(r#"position($1 in "{column}"::text) > 0"#)
        };
        let sql = format!(r#"select count(*) from "{table}" where {test}"#);
        let (n,): (i64,) = sqlx::query_as(&sql).bind(needle).fetch_one(&mut conn).await.unwrap();
        if n > 0 {
            return true;
        }
    }
    false
}

async fn token_count(app: &TestApp, key: &str, user_id: &str) -> usize {
    app.get(&format!("/v1/users/{user_id}/tokens?limit=200"), key).await.body["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_retry_gets_the_same_response_and_the_same_token() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (_, user_id) = app.claimr_token(&key, "u1").await;
    let body = json!({"user": user_id, "ttl_seconds": 600});

    let first = post_with_key(&app, &key, "/v1/user-tokens", "retry-1", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let count = token_count(&app, &key, &user_id).await;

    let again = post_with_key(&app, &key, "/v1/user-tokens", "retry-1", &body).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body, "same id, same token, same times");
    assert_eq!(token_count(&app, &key, &user_id).await, count, "no second token");
    assert_eq!(app.introspect(&key, again.body["user_token"].as_str().unwrap()).await["active"], true);
    assert!(!db_contains(&app, first.body["user_token"].as_str().unwrap()).await, "the JWT is not stored");

    // Argyle's POST /users replays too, with `created: true` as the first time.
    let user = json!({"account": "new-user", "display_name": "Grace"});
    let created = post_with_key(&app, &key, "/v1/users", "create-grace", &user).await;
    let replayed = post_with_key(&app, &key, "/v1/users", "create-grace", &user).await;
    assert_eq!((created.status, replayed.status), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(replayed.body, created.body);
}

#[tokio::test]
async fn the_same_key_for_another_request_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (_, user_id) = app.claimr_token(&key, "u1").await;
    post_with_key(&app, &key, "/v1/user-tokens", "k", &json!({"user": user_id})).await;
    let count = token_count(&app, &key, &user_id).await;

    let other = post_with_key(&app, &key, "/v1/user-tokens", "k", &json!({"user": user_id, "permanent": true})).await;
    other.assert_problem(422, "idempotency_key_reused");
    let other_path = post_with_key(&app, &key, "/v1/users", "k", &json!({"account": "x"})).await;
    other_path.assert_problem(422, "idempotency_key_reused");
    assert_eq!(token_count(&app, &key, &user_id).await, count);
    assert_eq!(app.get("/v1/users?q=x", &key).await.body["data"], json!([]));

    // Keys belong to an org: another org may use the same string for its own request.
    let org_b = app.with_org("beta").await;
    let key_b = app.with_api_key(&org_b).await;
    let r = post_with_key(&app, &key_b, "/v1/users", "k", &json!({"account": "b1"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_failed_request_releases_its_key_and_bad_keys_are_refused() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (_, user_id) = app.claimr_token(&key, "u1").await;

    let failed =
        post_with_key(&app, &key, "/v1/user-tokens", "fix-me", &json!({"user": user_id, "ttl_seconds": 5})).await;
    failed.assert_problem(422, "validation_failed");
    let fixed =
        post_with_key(&app, &key, "/v1/user-tokens", "fix-me", &json!({"user": user_id, "ttl_seconds": 60})).await;
    assert_eq!(fixed.status, StatusCode::CREATED, "{}", fixed.body);

    for bad in ["", "has space", &"k".repeat(256), "tab\there"] {
        let r = post_with_key(&app, &key, "/v1/user-tokens", bad, &json!({"user": user_id})).await;
        r.assert_problem(400, "invalid_idempotency_key");
    }
    let unauthenticated = Request::post("/v1/users")
        .header("content-type", "application/json")
        .header("idempotency-key", "x")
        .body(Body::from(r#"{"account":"a"}"#))
        .unwrap();
    app.send(unauthenticated).await.assert_problem(401, "api_key_missing");
}

#[tokio::test]
async fn a_retry_while_the_first_request_runs_gets_409() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let body = json!({"account": "slow"});
    // Claim the key as the first request would, and leave it in flight.
    let mut h = Sha256::new();
    h.update(b"POST /v1/users\n");
    h.update(body.to_string().as_bytes());
    let fingerprint: [u8; 32] = h.finalize().into();
    let now = tessera_api::services::now();
    app.state
        .store
        .claim_idempotency_key(
            org.id,
            "busy",
            &fingerprint,
            now,
            now - time::Duration::hours(24),
            now - IN_FLIGHT_LEASE,
        )
        .await
        .unwrap();
    let r = post_with_key(&app, &key, "/v1/users", "busy", &body).await;
    r.assert_problem(409, "idempotency_key_in_use");
    assert_eq!(app.get("/v1/users", &key).await.body["data"], json!([]));
}

#[tokio::test]
async fn introspection_with_a_key_never_replays_and_sees_a_revocation() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (token, _) = app.claimr_token(&key, "u1").await;
    let body = json!({"token": token});

    let live = post_with_key(&app, &key, "/v1/tokens/introspect", "check-1", &body).await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.body);
    assert_eq!(live.body["active"], true);
    let jti = live.body["jti"].as_str().unwrap();
    let revoked = app.call(axum::http::Method::DELETE, &format!("/v1/user-tokens/{jti}"), Some(&key), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);

    let again = post_with_key(&app, &key, "/v1/tokens/introspect", "check-1", &body).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert!(again.headers.get("idempotent-replayed").is_none(), "not a replay: {}", again.body);
    assert_eq!(again.body, json!({"active": false}), "the revocation is seen");

    // The key is ignored, not claimed: it is free for a write, and a malformed one is no error.
    let user = post_with_key(&app, &key, "/v1/users", "check-1", &json!({"account": "u2"})).await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
    let odd = post_with_key(&app, &key, "/v1/tokens/introspect", "has space", &body).await;
    assert_eq!((odd.status, &odd.body), (StatusCode::OK, &json!({"active": false})));
}
