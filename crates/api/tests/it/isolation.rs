//! Tenant isolation: org B's key never sees or changes org A's users or tokens.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{verify_with_jwks, TestApp};

#[tokio::test]
async fn another_orgs_objects_are_not_found_and_unchanged() {
    let app = TestApp::new().await;
    let a = app.with_org("org-a").await;
    let b = app.with_org("org-b").await;
    let key_a = app.with_api_key(&a).await;
    let key_b = app.with_api_key(&b).await;
    let (token_a, user_a) = app.claimr_token(&key_a, "shared-account").await;
    let jti_a = app.introspect(&key_a, &token_a).await["jti"].as_str().unwrap().to_owned();

    app.get(&format!("/v1/users/{user_a}"), &key_b).await.assert_problem(404, "user_not_found");
    app.get(&format!("/v1/users/{user_a}/tokens"), &key_b).await.assert_problem(404, "user_not_found");
    app.call(Method::DELETE, &format!("/v1/user-tokens/{jti_a}"), Some(&key_b), None)
        .await
        .assert_problem(404, "user_token_not_found");
    app.post(&format!("/v1/users/{user_a}/revoke-tokens"), &key_b, json!({}))
        .await
        .assert_problem(404, "user_not_found");
    app.post("/v1/user-tokens", &key_b, json!({"user": user_a})).await.assert_problem(404, "user_not_found");
    assert_eq!(app.introspect(&key_b, &token_a).await, json!({"active": false}));
    app.call(Method::PATCH, &format!("/v1/users/{user_a}"), Some(&key_b), Some(json!({"display_name": "pwned"})))
        .await
        .assert_problem(404, "user_not_found");
    app.call(Method::DELETE, &format!("/v1/users/{user_a}"), Some(&key_b), None)
        .await
        .assert_problem(404, "user_not_found");
    assert_eq!(app.get("/v1/users", &key_b).await.body["data"], json!([]), "B lists none of A's users");
    assert_eq!(app.get("/v1/users?q=shared", &key_b).await.body["data"], json!([]));

    // Same (platform, account) in org B is a different user with a different token.
    let (token_b, user_b) = app.claimr_token(&key_b, "shared-account").await;
    assert_ne!(user_a, user_b);
    assert_ne!(token_a, token_b);

    // Org A's token is still live, and each org's JWKS verifies only its own tokens.
    assert_eq!(app.introspect(&key_a, &token_a).await["active"], true);
    assert!(verify_with_jwks(&app, "org-a", &token_a).await.is_some());
    assert!(verify_with_jwks(&app, "org-b", &token_a).await.is_none());
    assert!(verify_with_jwks(&app, "org-a", &token_b).await.is_none());
    let a_users = app.get("/v1/users", &key_a).await.body["data"].clone();
    assert_eq!(a_users.as_array().unwrap().len(), 1, "A lists only its own user: {a_users}");
    assert_eq!(a_users[0]["id"], user_a.as_str());
    assert_eq!(a_users[0]["display_name"], serde_json::Value::Null, "B's PATCH changed nothing");
    let listed = app.get(&format!("/v1/users/{user_a}/tokens"), &key_a).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["data"][0]["status"], "active");
}
