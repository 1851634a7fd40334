//! claimr's flow: `GET /token` creates the user, returns a permanent token, the same one again.

use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use crate::helpers::{verify_with_jwks, TestApp, PUBLIC_URL};

#[tokio::test]
async fn get_token_registers_the_user_and_returns_a_permanent_verifiable_token() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;

    let r = app.get("/token?account=user-42&platform=discord&name=Ada", &key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = r.body["token"].as_str().unwrap();
    let user_id = r.body["user_id"].as_str().unwrap();

    let claims = verify_with_jwks(&app, "acme", token).await.expect("token verifies with the org's JWKS");
    assert_eq!(claims["sub"], user_id);
    assert_eq!(claims["iss"], format!("{PUBLIC_URL}/o/acme"));
    assert_eq!(claims["aud"], "acme");
    assert_eq!(claims["account"], "user-42");
    assert_eq!(claims["platform"], "discord");
    assert!(claims.get("exp").is_none(), "claimr tokens are permanent: {claims}");
    assert!(claims["iat"].as_i64().unwrap() > 1_700_000_000);
    assert!(claims["jti"].as_str().unwrap().len() == 36);

    let user = app.get(&format!("/v1/users/{user_id}"), &key).await;
    assert_eq!(user.status, StatusCode::OK);
    assert_eq!(user.body["account"], "user-42");
    assert_eq!(user.body["platform"], "discord");
    assert_eq!(user.body["display_name"], "Ada");
    assert_eq!(user.body["metadata"], json!({}));
}

#[tokio::test]
async fn get_token_returns_the_same_token_until_it_is_revoked() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;

    let (first, user_id) = app.claimr_token(&key, "u1").await;
    let (second, same_user) = app.claimr_token(&key, "u1").await;
    assert_eq!(first, second);
    assert_eq!(user_id, same_user);

    let jti = app.introspect(&key, &first).await["jti"].as_str().unwrap().to_owned();
    let r = app.call(Method::DELETE, &format!("/v1/user-tokens/{jti}"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    let (third, _) = app.claimr_token(&key, "u1").await;
    assert_ne!(third, first, "a revoked token is never handed out again");
    assert_eq!(app.introspect(&key, &third).await["active"], true);
    assert_eq!(app.introspect(&key, &first).await["active"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_calls_yield_one_user_and_one_token() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let router = app.router.clone();
        let request = Request::get("/token?account=racer&platform=web")
            .header("authorization", format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap();
        calls.spawn(async move {
            let response = router.oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            (body["token"].as_str().unwrap().to_owned(), body["user_id"].as_str().unwrap().to_owned())
        });
    }
    let results = calls.join_all().await;
    assert_eq!(results.len(), 12);
    assert!(results.iter().all(|r| r == &results[0]), "all racing calls get the same user and token");
}

#[tokio::test]
async fn platform_defaults_and_field_errors_name_the_field() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;

    let r = app.get("/token?account=solo", &key).await;
    assert_eq!(r.status, StatusCode::OK);
    let claims = app.introspect(&key, r.body["token"].as_str().unwrap()).await;
    assert_eq!(claims["platform"], "default");

    let r = app.get("/token?platform=web", &key).await;
    r.assert_problem(400, "invalid_query");
    assert!(r.body["detail"].as_str().unwrap().contains("account"), "{}", r.body);

    let long = "a".repeat(256);
    let r = app.get(&format!("/token?account={long}"), &key).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "account");
}

#[tokio::test]
async fn a_returning_user_keeps_the_token_and_a_new_name_is_still_saved() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;

    let first = app.get("/token?account=u1&platform=web&name=Ada", &key).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let user_id = first.body["user_id"].as_str().unwrap().to_owned();
    // Same name, no name, a new name: the same permanent token every time.
    for query in ["name=Ada", "", "name=Ada%20L."] {
        let again = app.get(&format!("/token?account=u1&platform=web&{query}"), &key).await;
        assert_eq!(again.status, StatusCode::OK, "{query}: {}", again.body);
        assert_eq!(again.body, first.body, "{query}");
    }
    let user = app.get(&format!("/v1/users/{user_id}"), &key).await;
    assert_eq!(user.body["display_name"], "Ada L.", "the new name was saved");

    // Bad input of a returning user still gets its field error.
    let bad = app.get(&format!("/token?account=u1&platform=web&name={}", "x".repeat(300)), &key).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.body["errors"][0]["field"], "name");
}
