//! Two servers on one database: what one revokes, the other stops accepting at once (revocation
//! notices: `NOTIFY` on PostgreSQL, the watched notice file on SQLite), although both cache API
//! keys and token rows.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use tessera_api::{
    crypto::{KeyRing, MasterKey},
    services::{self, api_keys::AuthError},
    ApiConfig, AppState,
};
use tessera_core::UserTokenId;
use uuid::Uuid;

use crate::helpers::{verify_with_jwks, TestApp, PUBLIC_URL};

/// How long the second instance trusts what it read: an hour, so that only a revocation notice
/// can make it read again within this test.
const LONG_TTL: Duration = Duration::from_secs(3600);

/// The longest wait for a notice: it is sent when the revoking transaction commits and usually
/// arrives within a millisecond; the deadline only keeps a broken build from hanging.
const NOTICE_DEADLINE: Duration = Duration::from_secs(10);

/// Waits until `check` holds, checking again at every turn of the runtime (a check answered from
/// the cache costs no database read), for at most [`NOTICE_DEADLINE`]; prints how long it took
/// (`cargo test -p tessera-api --test it instances -- --nocapture` shows it).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    while !check().await {
        assert!(start.elapsed() < NOTICE_DEADLINE, "{what}: not within {NOTICE_DEADLINE:?}");
        tokio::task::yield_now().await;
    }
    eprintln!("{what}: after {:?}", start.elapsed());
}

/// The id (`jti`) of a token of org `acme`, read from its verified claims.
async fn token_id(app: &TestApp, token: &str) -> UserTokenId {
    let claims = verify_with_jwks(app, "acme", token).await.expect("a valid token of acme");
    UserTokenId(Uuid::parse_str(claims["jti"].as_str().unwrap()).unwrap())
}

#[tokio::test]
async fn a_revocation_through_one_instance_reaches_the_caches_of_another() {
    let a = TestApp::new().await;
    let org = a.with_org("acme").await;
    let created =
        services::api_keys::create(&a.state, org.id, "test", None, None, &crate::helpers::audit()).await.unwrap();
    let key = created.secret.expose().to_owned();
    let store_b = tessera_store::open(&a.db_url).await.unwrap();
    let b = AppState::new(
        store_b,
        KeyRing::new(MasterKey::generate().unwrap()),
        ApiConfig { cache_ttl: LONG_TTL, ..ApiConfig::new(PUBLIC_URL) },
    );

    // B reads the key and a token row, and would trust both for an hour.
    let (token, _) = a.claimr_token(&key, "ada").await;
    let jti = token_id(&a, &token).await;
    assert!(services::api_keys::authenticate(&b, &key, None).await.unwrap().is_ok());
    let row = b.token_rows.get(b.store.as_ref(), org.id, jti).await.unwrap().unwrap();
    assert_eq!(row.revoked_at, None);

    // Revoked through A, the token's row is read again by B.
    let r = a.call(Method::DELETE, &format!("/v1/user-tokens/{}", jti.0), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    eventually("B sees the token revoked", || async {
        b.token_rows.get(b.store.as_ref(), org.id, jti).await.unwrap().unwrap().revoked_at.is_some()
    })
    .await;

    // A user deleted through A takes its token rows along, and B forgets them.
    let (token, user_id) = a.claimr_token(&key, "bob").await;
    let jti = token_id(&a, &token).await;
    assert!(b.token_rows.get(b.store.as_ref(), org.id, jti).await.unwrap().is_some());
    let r = a.call(Method::DELETE, &format!("/v1/users/{user_id}"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    eventually("B forgets the deleted user's token", || async {
        b.token_rows.get(b.store.as_ref(), org.id, jti).await.unwrap().is_none()
    })
    .await;

    // Revoked through A, the key is refused by B.
    assert!(services::api_keys::authenticate(&b, &key, None).await.unwrap().is_ok());
    services::api_keys::revoke(&a.state, org.id, &created.key.prefix, &crate::helpers::audit()).await.unwrap();
    eventually("B refuses the revoked key", || async {
        services::api_keys::authenticate(&b, &key, None).await.unwrap().err() == Some(AuthError::Revoked)
    })
    .await;
}
