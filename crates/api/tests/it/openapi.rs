//! The OpenAPI document and the router agree: every call of the REST surface
//! (`docs/architecture.md`) is documented, every documented operation is routed, and Swagger UI
//! is served without a CDN.

use axum::http::{Method, StatusCode};

use crate::helpers::TestApp;

/// docs/architecture.md "REST surface (v1)", plus the public endpoints.
const EXPECTED: &[(&str, &str)] = &[
    ("get", "/token"),
    ("post", "/v1/users"),
    ("get", "/v1/users"),
    ("get", "/v1/users/{id}"),
    ("patch", "/v1/users/{id}"),
    ("delete", "/v1/users/{id}"),
    ("post", "/v1/user-tokens"),
    ("get", "/v1/users/{id}/tokens"),
    ("delete", "/v1/user-tokens/{id}"),
    ("post", "/v1/users/{id}/revoke-tokens"),
    ("post", "/v1/tokens/introspect"),
    ("get", "/o/{slug}/.well-known/jwks.json"),
    ("get", "/healthz"),
    ("get", "/readyz"),
];

#[tokio::test]
async fn the_document_is_openapi_3_1_with_every_call_and_the_bearer_scheme() {
    let app = TestApp::new().await;
    let r = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert_eq!(doc["components"]["securitySchemes"]["api_key"]["scheme"], "bearer");
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in EXPECTED {
        let op = &paths.get(*path).unwrap_or_else(|| panic!("{path} is not documented"))[*method];
        assert!(op.is_object(), "{method} {path} is not documented");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has responses");
        let public = path.starts_with("/o/") || path.ends_with("z");
        assert_eq!(op.get("security").is_some(), !public, "{method} {path}: security");
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, EXPECTED.len(), "no undocumented extra or missing operations");
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::new().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await.body;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let uri = path.replace("{id}", "0193a5c4-7e1f-7c3a-9d2b-5f6e7a8b9c0d").replace("{slug}", "nobody");
            let method: Method = method.to_uppercase().parse().unwrap();
            let r = app.call(method.clone(), &uri, None, None).await;
            assert_ne!(r.body["code"], "route_not_found", "{method} {uri}");
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        }
    }
}

#[tokio::test]
async fn swagger_ui_is_served_by_tessera_itself() {
    let app = TestApp::new().await;
    let r = app.call(Method::GET, "/docs/", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.body.as_str().unwrap_or_default().to_owned();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("://unpkg.com") && !html.contains("cdn"), "no CDN");
    let init = app.call(Method::GET, "/docs/swagger-initializer.js", None, None).await;
    assert_eq!(init.status, StatusCode::OK);
    assert!(init.body.as_str().unwrap_or_default().contains("/openapi.json"));
}

#[tokio::test]
async fn only_posts_that_change_something_offer_an_idempotency_key() {
    let app = TestApp::new().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await.body;
    let has_key = |path: &str| {
        doc["paths"][path]["post"]["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"))
    };
    for path in ["/v1/users", "/v1/user-tokens", "/v1/users/{id}/revoke-tokens"] {
        assert!(has_key(path), "POST {path} documents Idempotency-Key");
    }
    assert!(!has_key("/v1/tokens/introspect"), "introspection ignores the header, so it does not list it");
}
