//! Issue 14, findings 1 and 2: sign-in under attack. Concurrent wrong sign-ins cannot all reach
//! argon2, an over-long email never enters the throttle's memory, successful sign-ins are never
//! throttled, and an attacker at one address cannot keep a member out who signs in from another.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    body::Body,
    extract::{ConnectInfo, Query, State},
    http::{Request, StatusCode},
    routing::get,
    Extension, Router,
};
use secrecy::SecretString;
use tessera_api::{
    client_addr::{parse_network, ClientAddr, TrustedProxies},
    services::{
        setup,
        sign_in::{self, SignInError, SignInGuard, EMAIL_FAILURE_BURST},
    },
    ApiConfig, AppState,
};
use tower::ServiceExt;

use crate::helpers::{TestApp, PUBLIC_URL};

const PASSWORD: &str = "correct horse battery";
const OWNER: &str = "owner@example.com";

fn pw(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

async fn set_up(app: &TestApp) {
    setup::first_run(&app.state, "Acme Inc.", "acme", OWNER, pw(PASSWORD), &crate::helpers::audit()).await.unwrap();
}

/// 200 wrong sign-ins for one email at once, from one address: only the email's allowance of
/// them runs argon2 (19 MiB and tens of milliseconds each); the others are throttled without
/// hashing.
#[tokio::test]
async fn concurrent_wrong_sign_ins_for_one_email_hash_at_most_the_allowance() {
    let app = TestApp::new().await;
    set_up(&app).await;
    let guard = Arc::new(SignInGuard::new());
    let attempts: Vec<_> = (0..200)
        .map(|_| {
            let (state, guard) = (app.state.clone(), guard.clone());
            tokio::spawn(async move {
                sign_in::sign_in(
                    &state,
                    &guard,
                    "",
                    OWNER,
                    pw("wrong password!"),
                    &tessera_api::extract::RequestInfo::from(Some(ip("203.0.113.7"))),
                )
                .await
            })
        })
        .collect();
    let (mut wrong, mut throttled) = (0, 0);
    for attempt in attempts {
        match attempt.await.unwrap() {
            Err(SignInError::WrongCredentials) => wrong += 1,
            Err(SignInError::TooManyAttempts { .. }) => throttled += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    let allowance = u64::from(EMAIL_FAILURE_BURST);
    assert!(
        guard.verifications() <= allowance,
        "{} of 200 concurrent attempts ran argon2; the allowance is {allowance}",
        guard.verifications()
    );
    assert_eq!((wrong, throttled), (allowance, 200 - allowance), "wrong, throttled");
}

/// An "email" of 2 MB is refused before the throttle sees it: nothing of it stays in memory.
#[tokio::test]
async fn an_overlong_email_leaves_nothing_in_the_throttle() {
    let app = TestApp::new().await;
    set_up(&app).await;
    let guard = SignInGuard::new();
    let huge = format!("{}@example.com", "a".repeat(2 * 1024 * 1024));
    let err = sign_in::sign_in(
        &app.state,
        &guard,
        "",
        &huge,
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(Some(ip("203.0.113.7"))),
    )
    .await;
    assert!(matches!(err, Err(SignInError::WrongCredentials)), "{err:?}");
    assert_eq!(guard.tracked_keys(), 0, "the 2 MB email (or its address) is held by the throttle");
    assert_eq!(guard.verifications(), 0, "no password is verified for an email no member can have");

    // 254 bytes (RFC 5321 §4.5.3.1.3's path limit less the angle brackets) is still an email.
    let longest = format!("{}@example.com", "a".repeat(254 - "@example.com".len()));
    let err = sign_in::sign_in(
        &app.state,
        &guard,
        "",
        &longest,
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(Some(ip("203.0.113.7"))),
    )
    .await;
    assert!(matches!(err, Err(SignInError::WrongCredentials)), "{err:?}");
    assert_eq!(guard.verifications(), 1, "a 254-byte email costs a verification like any other");
}

/// A member who signs in over and over, one after another and at once, from one address, is never
/// throttled: only failures count.
#[tokio::test]
async fn successful_sign_ins_are_never_throttled() {
    let app = TestApp::new().await;
    set_up(&app).await;
    let guard = Arc::new(SignInGuard::new());
    let from = Some(ip("203.0.113.7"));
    for i in 0..3 * EMAIL_FAILURE_BURST {
        let result = sign_in::sign_in(
            &app.state,
            &guard,
            "",
            OWNER,
            pw(PASSWORD),
            &tessera_api::extract::RequestInfo::from(from),
        )
        .await;
        assert!(result.is_ok(), "sign-in {i}: {result:?}");
    }
    let at_once: Vec<_> = (0..EMAIL_FAILURE_BURST)
        .map(|_| {
            let (state, guard) = (app.state.clone(), guard.clone());
            tokio::spawn(async move {
                sign_in::sign_in(
                    &state,
                    &guard,
                    "",
                    OWNER,
                    pw(PASSWORD),
                    &tessera_api::extract::RequestInfo::from(from),
                )
                .await
            })
        })
        .collect();
    for attempt in at_once {
        let result = attempt.await.unwrap();
        assert!(result.is_ok(), "{result:?}");
    }
    assert_eq!(guard.tracked_keys(), 0, "successes leave no throttle state behind");
}

/// The attacker hammers the owner's email from one address until it is throttled there; the
/// owner, from another address, still signs in.
#[tokio::test]
async fn the_owner_signs_in_from_another_address_while_the_attackers_is_locked() {
    let app = TestApp::new().await;
    set_up(&app).await;
    let guard = SignInGuard::new();
    let attacker = Some(ip("198.51.100.66"));
    let mut failures = 0;
    loop {
        match sign_in::sign_in(
            &app.state,
            &guard,
            "",
            OWNER,
            pw("guess"),
            &tessera_api::extract::RequestInfo::from(attacker),
        )
        .await
        {
            Err(SignInError::WrongCredentials) => failures += 1,
            Err(SignInError::TooManyAttempts { .. }) => break,
            other => panic!("unexpected {other:?}"),
        }
        assert!(failures <= 4 * EMAIL_FAILURE_BURST, "{failures} failures verified, and still not throttled");
    }

    let owner = sign_in::sign_in(
        &app.state,
        &guard,
        "",
        OWNER,
        pw(PASSWORD),
        &tessera_api::extract::RequestInfo::from(Some(ip("192.0.2.10"))),
    )
    .await;
    assert!(owner.is_ok(), "the owner is kept out: {owner:?}");
    assert_eq!(failures, EMAIL_FAILURE_BURST, "the allowance is verified, then the attacker's address is throttled");
}

/// A route that signs in with the [`ClientAddr`] of the request, as the dashboard's sign-in does:
/// `GET /sign-in?email=…&password=…` answers 200, 401 or 429.
fn sign_in_router(app: &TestApp, guard: Arc<SignInGuard>) -> Router {
    async fn handler(
        State(state): State<AppState>,
        ClientAddr(client): ClientAddr,
        Extension(guard): Extension<Arc<SignInGuard>>,
        Query(form): Query<HashMap<String, String>>,
    ) -> StatusCode {
        match sign_in::sign_in(
            &state,
            &guard,
            "",
            &form["email"],
            pw(&form["password"]),
            &tessera_api::extract::RequestInfo::from(client),
        )
        .await
        {
            Ok(_) => StatusCode::OK,
            Err(SignInError::WrongCredentials) => StatusCode::UNAUTHORIZED,
            Err(SignInError::TooManyAttempts { .. }) => StatusCode::TOO_MANY_REQUESTS,
            Err(e) => panic!("{e:?}"),
        }
    }
    Router::new().route("/sign-in", get(handler)).layer(Extension(guard)).with_state(app.state.clone())
}

/// Signs in through `router` as if from `peer` with `forwarded_for` as `X-Forwarded-For`.
async fn sign_in_from(router: &Router, peer: &str, forwarded_for: Option<&str>, password: &str) -> StatusCode {
    let uri = format!("/sign-in?email={OWNER}&password={}", password.replace(' ', "+"));
    let mut request = Request::get(uri);
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    let mut request = request.body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    router.clone().oneshot(request).await.unwrap().status()
}

/// Fails sign-ins as `(peer, forwarded_for)` until throttled; asserts that took the allowance.
async fn hammer(router: &Router, peer: &str, forwarded_for: Option<&str>) {
    for i in 0..EMAIL_FAILURE_BURST {
        // A new forged address on the left each time: it must not matter.
        let forged = forwarded_for.map(|xff| format!("192.0.2.{i}, {xff}"));
        let status = sign_in_from(router, peer, forged.as_deref().or(forwarded_for), "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "failure {i}");
    }
    assert_eq!(sign_in_from(router, peer, forwarded_for, "guess").await, StatusCode::TOO_MANY_REQUESTS);
}

/// Issue 14, finding 2: behind a trusted proxy, two clients with different `X-Forwarded-For` are
/// throttled separately: the attacker's address is locked, the owner's is not.
#[tokio::test]
async fn behind_a_trusted_proxy_sign_ins_are_throttled_per_forwarded_address() {
    let config = ApiConfig {
        trusted_proxies: TrustedProxies { networks: vec![parse_network("127.0.0.0/8").unwrap()], ..Default::default() },
        ..ApiConfig::new(PUBLIC_URL)
    };
    let app = TestApp::with_config(config).await;
    set_up(&app).await;
    let router = sign_in_router(&app, Arc::new(SignInGuard::new()));
    let proxy = "127.0.0.1:50000";
    hammer(&router, proxy, Some("198.51.100.66")).await;
    assert_eq!(sign_in_from(&router, proxy, Some("198.51.100.66"), PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sign_in_from(&router, proxy, Some("192.0.2.10"), PASSWORD).await, StatusCode::OK, "owner kept out");
}

/// From a peer that is no trusted proxy, `X-Forwarded-For` is ignored: the attacker cannot
/// escape its lock by forging one, nor lock the owner out by naming the owner's address.
#[tokio::test]
async fn from_an_untrusted_peer_sign_ins_ignore_x_forwarded_for() {
    let app = TestApp::new().await;
    set_up(&app).await;
    let router = sign_in_router(&app, Arc::new(SignInGuard::new()));
    let attacker = "198.51.100.66:40000";
    hammer(&router, attacker, Some("192.0.2.10")).await;
    assert_eq!(sign_in_from(&router, attacker, Some("192.0.2.77"), PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sign_in_from(&router, "192.0.2.10:40000", None, PASSWORD).await, StatusCode::OK, "owner kept out");
}
