//! Issue 14, findings 2 and 9: failed API-key authentications are limited per client address
//! (the client's own address, or the one a trusted proxy forwards), before any database lookup;
//! successful ones are never charged.

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, Request, StatusCode},
};

use tessera_api::{
    client_addr::{parse_network, TrustedProxies},
    ApiConfig,
};

use crate::helpers::{Response, TestApp, PUBLIC_URL};

/// Failures allowed from one address before it must wait.
const BURST: usize = tessera_api::services::api_keys::API_KEY_FAILURE_BURST as usize;

/// `GET /token?account=a` with `key`, as if sent from `peer` with `forwarded_for` as its
/// `X-Forwarded-For` header.
async fn token_from(app: &TestApp, peer: &str, forwarded_for: Option<&str>, key: &str) -> Response {
    let mut request = Request::get("/token?account=a").header(header::AUTHORIZATION, format!("Bearer {key}"));
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    let mut request = request.body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    app.send(request).await
}

fn unknown_key() -> String {
    tessera_core::ApiKeySecret::generate(&mut rand::rngs::OsRng).expose().to_owned()
}

#[tokio::test]
async fn failed_authentications_are_limited_per_address_before_any_lookup() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (attacker, other) = ("198.51.100.66:40000", "192.0.2.10:40000");

    // Successes are never charged.
    for _ in 0..2 * BURST {
        assert_eq!(token_from(&app, attacker, None, &key).await.status, StatusCode::OK);
    }
    // Unknown, malformed: each a failure.
    for i in 0..BURST {
        let presented = if i % 2 == 0 { unknown_key() } else { "tsk_malformed".to_owned() };
        let r = token_from(&app, attacker, None, &presented).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "failure {i}: {}", r.body);
    }
    let r = token_from(&app, attacker, None, &unknown_key()).await;
    r.assert_problem(429, "too_many_failed_authentications");
    let retry_after: u64 = r.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After: {retry_after}");

    // Refused before the database is asked: with the key table gone the address still gets 429,
    // not 503 (even with the good key), while another address reaches the (broken) database.
    app.connect_db().await.execute("alter table api_key rename to api_key_gone").await;
    token_from(&app, attacker, None, &key).await.assert_problem(429, "too_many_failed_authentications");
    token_from(&app, other, None, &unknown_key()).await.assert_problem(503, "storage_unavailable");

    // The contract says so for every operation that takes an API key.
    let doc = serde_json::to_value(tessera_api::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("security").is_some() {
                let r = &op["responses"]["429"];
                assert!(r["headers"]["Retry-After"].is_object(), "{method} {path} documents no 429: {op}");
            }
        }
    }
}

/// Settings with `127.0.0.0/8` as the trusted proxies (no request is sent anywhere: the peer
/// address is only set on the request).
fn behind_proxy() -> ApiConfig {
    ApiConfig {
        trusted_proxies: TrustedProxies { networks: vec![parse_network("127.0.0.0/8").unwrap()], ..Default::default() },
        ..ApiConfig::new(PUBLIC_URL)
    }
}

/// Fails `BURST` times with unknown keys as `(peer, forwarded_for)`, then expects 429.
async fn lock_out(app: &TestApp, peer: &str, forwarded_for: Option<&str>) {
    for i in 0..BURST {
        let r = token_from(app, peer, forwarded_for, &unknown_key()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "failure {i}: {}", r.body);
    }
    token_from(app, peer, forwarded_for, &unknown_key()).await.assert_problem(429, "too_many_failed_authentications");
}

/// Issue 14, finding 2: behind a trusted proxy every client is the proxy's peer, and each is
/// throttled by its own forwarded address.
#[tokio::test]
async fn behind_a_trusted_proxy_clients_are_throttled_by_their_forwarded_address() {
    let app = TestApp::with_config(behind_proxy()).await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let proxy = "127.0.0.1:50000";
    // The attacker forges an address on the left; the proxy appends the real one.
    lock_out(&app, proxy, Some("192.0.2.99, 198.51.100.66")).await;
    token_from(&app, proxy, Some("198.51.100.66"), &key).await.assert_problem(429, "too_many_failed_authentications");
    // Another client behind the same proxy is not affected.
    assert_eq!(token_from(&app, proxy, Some("192.0.2.10"), &key).await.status, StatusCode::OK);
    assert_eq!(token_from(&app, proxy, Some("192.0.2.10"), &unknown_key()).await.status, StatusCode::UNAUTHORIZED);
}

/// From a peer that is not a trusted proxy, `X-Forwarded-For` is the client's own claim and is
/// ignored: a new value each time does not get an attacker a new allowance.
#[tokio::test]
async fn from_an_untrusted_peer_x_forwarded_for_is_ignored() {
    for config in [ApiConfig::new(PUBLIC_URL), behind_proxy()] {
        let app = TestApp::with_config(config).await;
        let org = app.with_org("acme").await;
        let key = app.with_api_key(&org).await;
        let attacker = "198.51.100.66:40000";
        for i in 0..BURST {
            let forged = format!("192.0.2.{i}");
            let r = token_from(&app, attacker, Some(&forged), &unknown_key()).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "failure {i}: {}", r.body);
        }
        token_from(&app, attacker, Some("192.0.2.200"), &key)
            .await
            .assert_problem(429, "too_many_failed_authentications");
        // The address it pretended to be is not locked.
        assert_eq!(token_from(&app, "192.0.2.3:1", None, &key).await.status, StatusCode::OK);
    }
}
