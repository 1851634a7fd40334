//! Response headers that protect what the responses carry (issue 14, finding 8): secrets are never
//! kept by caches, and browsers get a Content-Security-Policy, `nosniff` and a referrer policy.

use axum::http::{header, Method, StatusCode};
use serde_json::json;

use crate::helpers::{Response, TestApp};

fn header_of<'a>(r: &'a Response, name: &str) -> &'a str {
    r.headers.get(name).map_or("", |v| v.to_str().unwrap())
}

/// `Cache-Control: no-store` (RFC 9111 §5.2.2.5): no cache, shared or private, keeps the response.
fn assert_not_stored(r: &Response, what: &str) {
    assert_eq!(header_of(r, "cache-control"), "no-store", "{what}: {:?}", r.headers);
}

fn assert_browser_protections(r: &Response, what: &str) {
    assert_eq!(header_of(r, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header_of(r, "referrer-policy"), "same-origin", "{what}");
    let csp = header_of(r, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp:?}");
}

#[tokio::test]
async fn responses_that_carry_tokens_or_user_data_are_never_stored_by_caches() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;

    let r = app.get("/token?account=alice&platform=web", &key).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_not_stored(&r, "claimr GET /token");
    let token = r.body["token"].as_str().unwrap().to_owned();
    let user_id = r.body["user_id"].as_str().unwrap().to_owned();

    let r = app.post("/v1/user-tokens", &key, json!({ "user": user_id })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_not_stored(&r, "POST /v1/user-tokens");

    let r = app.post("/v1/tokens/introspect", &key, json!({ "token": token })).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_not_stored(&r, "introspection");

    let r = app.get("/v1/users", &key).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_not_stored(&r, "GET /v1/users");

    // Errors too: a problem may echo what was sent.
    let r = app.get("/v1/users", "tsk_not-a-key").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_not_stored(&r, "401");
    assert_browser_protections(&r, "401");
}

#[tokio::test]
async fn public_documents_stay_cacheable_and_every_response_has_browser_protections() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    app.claimr_token(&key, "alice").await;

    let r = app.call(Method::GET, "/o/acme/.well-known/jwks.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(header_of(&r, "cache-control"), "public, max-age=300", "the JWKS keeps its own caching");
    assert_browser_protections(&r, "JWKS");

    for path in ["/healthz", "/openapi.json", "/v1/nothing-here"] {
        let r = app.call(Method::GET, path, None, None).await;
        assert_browser_protections(&r, path);
        // JSON is never a document: nothing may load from it.
        assert!(header_of(&r, "content-security-policy").starts_with("default-src 'none'"), "{path}");
    }
}

#[tokio::test]
async fn swagger_ui_gets_a_policy_that_lets_it_run_and_nothing_else() {
    let app = TestApp::new().await;
    let r = app.call(Method::GET, "/docs/", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(header_of(&r, header::CONTENT_TYPE.as_str()).starts_with("text/html"));
    assert_browser_protections(&r, "/docs/");
    let csp = header_of(&r, "content-security-policy");
    for directive in ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'"] {
        assert!(csp.contains(directive), "{directive} in {csp:?}");
    }
    assert!(!csp.contains("unsafe-eval"), "{csp:?}");
}
