//! Problem details, request ids, health, unknown routes, oversized bodies.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

#[tokio::test]
async fn problems_carry_type_title_status_detail_code_and_request_id() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let r = app.get("/v1/users/0190f0f0-0000-7000-8000-000000000000", &key).await;
    r.assert_problem(404, "user_not_found");
    assert_eq!(r.body["type"], "about:blank");
    assert_eq!(r.body["title"], "Not Found");
    assert!(r.body["detail"].is_string());

    let mut request = axum::http::Request::get("/v1/users/not-a-uuid").header("authorization", format!("Bearer {key}"));
    request = request.header("x-request-id", "trace-me-123");
    let r = app.send(request.body(axum::body::Body::empty()).unwrap()).await;
    r.assert_problem(400, "invalid_path");
    assert_eq!(r.body["request_id"], "trace-me-123", "a caller's request id is kept");
}

#[tokio::test]
async fn unknown_routes_wrong_methods_and_bad_bodies_are_problems() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;

    app.get("/v1/nothing-here", &key).await.assert_problem(404, "route_not_found");
    app.call(Method::PUT, "/v1/tokens/introspect", Some(&key), None).await.assert_problem(405, "method_not_allowed");

    let big = json!({"token": "x".repeat(70 * 1024)});
    app.post("/v1/tokens/introspect", &key, big).await.assert_problem(413, "body_too_large");

    let r = app.post("/v1/tokens/introspect", &key, json!({"tokn": "x"})).await;
    r.assert_problem(422, "invalid_body");
    let r = app.post("/v1/tokens/introspect", &key, json!({"token": 5})).await;
    r.assert_problem(422, "invalid_body");
    assert_eq!(r.body["errors"][0]["field"], "token", "{}", r.body);

    let raw = axum::http::Request::post("/v1/tokens/introspect")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    app.send(raw).await.assert_problem(400, "malformed_json");
    let no_type = axum::http::Request::post("/v1/tokens/introspect")
        .header("authorization", format!("Bearer {key}"))
        .body(axum::body::Body::from(r#"{"token":"x"}"#))
        .unwrap();
    app.send(no_type).await.assert_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::new().await;
    let r = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!((r.status, r.body["database"].clone()), (StatusCode::OK, json!("ok")));
    let r = app.call(Method::GET, "/o/nobody/.well-known/jwks.json", None, None).await;
    r.assert_problem(404, "org_not_found");
}

#[tokio::test]
async fn jwks_publishes_the_org_key_in_rfc_8037_form() {
    let app = TestApp::new().await;
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (token, _) = app.claimr_token(&key, "u").await;
    let r = app.call(Method::GET, "/o/acme/.well-known/jwks.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["cache-control"].to_str().unwrap().contains("max-age"));
    let keys = r.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(
        (k["kty"].as_str(), k["crv"].as_str(), k["alg"].as_str(), k["use"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"), Some("sig"))
    );
    assert_eq!(k["x"].as_str().unwrap().len(), 43, "32 bytes in base64url");
    assert!(k.get("d").is_none(), "never the private half");
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), k["kid"].as_str());
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
}

async fn jwks(app: &TestApp, slug: &str) -> crate::helpers::Response {
    app.call(Method::GET, &format!("/o/{slug}/.well-known/jwks.json"), None, None).await
}

#[tokio::test]
async fn a_malformed_slug_on_the_jwks_path_is_an_unknown_org_without_a_query() {
    let app = TestApp::new().await;
    app.with_org("acme").await;
    let without_request_id = |mut body: Value| {
        body.as_object_mut().unwrap().remove("request_id");
        body
    };
    let unknown = jwks(&app, "nobody").await;
    unknown.assert_problem(404, "org_not_found");
    let long = "a".repeat(64);
    let malformed = ["a%00b", "acme%00", "ACME", "-acme", "a", long.as_str(), "ac%20me", "%C3%A9t%C3%A9"];
    for slug in malformed {
        let r = jwks(&app, slug).await;
        r.assert_problem(404, "org_not_found");
        assert_eq!(without_request_id(r.body), without_request_id(unknown.body.clone()), "{slug}: as an unknown org");
    }

    // With the org table gone, asking the store fails; a malformed slug is answered without asking.
    app.connect_db().await.execute("alter table org rename to org_gone").await;
    let asked = jwks(&app, "nobody").await;
    assert!(asked.status.is_server_error(), "a well-formed slug is looked up: {} {}", asked.status, asked.body);
    for slug in malformed {
        jwks(&app, slug).await.assert_problem(404, "org_not_found");
    }
}

#[tokio::test]
async fn a_request_past_the_request_timeout_is_answered_503_problem_json() {
    use axum::{body::Body, http::Request, routing::get, Router};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    // A test-only router: one handler that never finishes in time, one that answers at once.
    let routes = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                "late"
            }),
        )
        .route("/fast", get(|| async { "on time" }));
    let app = tessera_api::http_layers(tessera_api::request_timeout(routes, std::time::Duration::from_millis(300)));

    let fast = app.clone().oneshot(Request::get("/fast").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(fast.status(), StatusCode::OK, "a request within the timeout is answered as usual");

    let started = std::time::Instant::now();
    let slow = app.oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(slow.status(), StatusCode::SERVICE_UNAVAILABLE, "answered after {waited:?}");
    assert!(
        waited < std::time::Duration::from_secs(5),
        "answered when the timeout passed, not after the handler: {waited:?}"
    );
    let content_type = slow.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = slow.headers().get("x-request-id").expect("x-request-id").to_str().unwrap().to_owned();
    let body: Value = serde_json::from_slice(&slow.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["code"], "request_timeout", "{body}");
    assert_eq!(body["status"], 503);
    assert_eq!(body["request_id"], request_id.as_str());
}
