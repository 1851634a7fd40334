//! API key authentication: 401 with `WWW-Authenticate: Bearer` for every failure (RFC 6750 §3).

use axum::http::{header, Method, StatusCode};
use tessera_api::services;

use crate::helpers::TestApp;

#[tokio::test]
async fn every_auth_failure_is_a_401_with_a_bearer_challenge() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let revoked = app.with_api_key(&org).await;
    services::api_keys::revoke(&app.state, org.id, &revoked[4..12], &crate::helpers::audit()).await.unwrap();
    let expired = services::api_keys::create(
        &app.state,
        org.id,
        "soon",
        None,
        Some(services::now() + time::Duration::milliseconds(300)),
        &crate::helpers::audit(),
    )
    .await
    .unwrap()
    .secret
    .expose()
    .to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;

    let mut checksum_typo = key.clone().into_bytes();
    checksum_typo[10] = if checksum_typo[10] == b'x' { b'y' } else { b'x' };
    let checksum_typo = String::from_utf8(checksum_typo).unwrap();
    let unknown = tessera_core::ApiKeySecret::generate(&mut rand::rngs::OsRng).expose().to_owned();

    let missing = app.call(Method::GET, "/token?account=a", None, None).await;
    missing.assert_problem(401, "api_key_missing");
    assert_eq!(missing.headers[header::WWW_AUTHENTICATE], r#"Bearer realm="tessera""#);

    for (presented, code) in [
        (checksum_typo.as_str(), "api_key_malformed"),
        ("tsk_short", "api_key_malformed"),
        (unknown.as_str(), "api_key_invalid"),
        (revoked.as_str(), "api_key_revoked"),
        (expired.as_str(), "api_key_expired"),
    ] {
        let r = app.get("/token?account=a", presented).await;
        r.assert_problem(401, code);
        let challenge = r.headers[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(challenge.starts_with("Bearer ") && challenge.contains(r#"error="invalid_token""#), "{challenge}");
        assert!(!r.body.to_string().contains(presented), "the key is never echoed");
    }

    let r = app.call(Method::GET, "/v1/users/00000000-0000-0000-0000-000000000000", None, None).await;
    r.assert_problem(401, "api_key_missing");
    let mut request = axum::http::Request::get("/token?account=a");
    request = request.header(header::AUTHORIZATION, format!("Basic {key}"));
    let r = app.send(request.body(axum::body::Body::empty()).unwrap()).await;
    r.assert_problem(401, "api_key_malformed");

    // The good key still works, and nothing above created a user.
    let ok = app.get("/token?account=a", &key).await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn a_key_failing_its_checksum_is_refused_without_a_database_lookup() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let mut typo = key.clone().into_bytes();
    typo[20] = if typo[20] == b'Q' { b'R' } else { b'Q' };
    let typo = String::from_utf8(typo).unwrap();

    // Break the key table under the running store: any lookup now fails with a storage error.
    let mut conn = app.connect_db().await;
    conn.execute("alter table api_key rename to api_key_gone").await;

    app.get("/token?account=a", &key).await.assert_problem(503, "storage_unavailable");
    app.get("/token?account=a", &typo).await.assert_problem(401, "api_key_malformed");
}

#[tokio::test]
async fn api_key_use_is_recorded_as_last_used_at() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    assert!(services::api_keys::list(&app.state, org.id).await.unwrap()[0].last_used_at.is_none());
    app.get("/token?account=a", &key).await;
    let mut recorded = None;
    for _ in 0..50 {
        recorded = services::api_keys::list(&app.state, org.id).await.unwrap()[0].last_used_at;
        if recorded.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(recorded.is_some(), "last_used_at is written in the background");
}
