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
    ("get", "/o/{slug}/audit/checkpoint"),
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

/// Every status the router can answer for an operation is in its `responses`, as a problem
/// (issue 14, finding 10): a generated client must know each one.
#[tokio::test]
async fn every_operation_documents_each_status_it_can_answer() {
    let app = TestApp::new().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await.body;
    let statuses = |method: &str, path: &str| -> Vec<String> {
        doc["paths"][path][method]["responses"].as_object().unwrap().keys().cloned().collect()
    };
    let has = |method: &str, path: &str, wanted: &[&str]| {
        let documented = statuses(method, path);
        for status in wanted {
            assert!(documented.iter().any(|s| s == status), "{method} {path}: {status} not in {documented:?}");
            let content = &doc["paths"][path][method]["responses"][*status]["content"];
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
    };
    // Bodies: not JSON (400), too large (413), wrong media type (415), wrong shape (422).
    for path in ["/v1/users", "/v1/user-tokens", "/v1/tokens/introspect"] {
        has("post", path, &["400", "401", "413", "415", "422", "429", "503"]);
    }
    has("patch", "/v1/users/{id}", &["400", "401", "404", "413", "415", "422", "429", "503"]);
    // Path and query parameters: a malformed UUID or an unknown parameter is a 400.
    has("get", "/v1/users/{id}", &["400", "401", "404", "429", "503"]);
    has("delete", "/v1/user-tokens/{id}", &["400", "401", "404", "429", "503"]);
    has("get", "/v1/users", &["400", "401", "422", "429", "503"]);
    has("get", "/token", &["400", "401", "422", "429", "503"]);
    // Idempotency keys: malformed (400), still running (409), reused with another request (422).
    has("post", "/v1/users/{id}/revoke-tokens", &["400", "404", "409", "422"]);
    has("get", "/o/{slug}/.well-known/jwks.json", &["400", "404", "503"]);
    has("get", "/readyz", &["200", "503"]);
    assert_eq!(statuses("get", "/healthz"), ["200"], "liveness needs no database");
}

/// The header's schema is the rule the middleware applies: 1–255 printable ASCII characters.
#[tokio::test]
async fn the_idempotency_key_header_has_its_exact_pattern() {
    let app = TestApp::new().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await.body;
    let param = doc["paths"]["/v1/user-tokens"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .cloned()
        .unwrap();
    assert_eq!(param["schema"]["pattern"], "^[!-~]{1,255}$");
    assert_eq!((param["schema"]["minLength"].as_u64(), param["schema"]["maxLength"].as_u64()), (Some(1), Some(255)));
}

/// `{"active": false}` satisfies the documented answer of introspection, and so does an active
/// answer, each by exactly one branch: a generated client can read both.
#[tokio::test]
async fn introspections_documented_answer_admits_inactive_and_active_tokens() {
    let app = TestApp::new().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await.body;
    let schema =
        &doc["paths"]["/v1/tokens/introspect"]["post"]["responses"]["200"]["content"]["application/json"]["schema"];
    let name = schema["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
    let branches = doc["components"]["schemas"][name]["oneOf"].as_array().unwrap_or_else(|| panic!("{schema}"));
    let resolve = |b: &serde_json::Value| {
        let name = b["$ref"].as_str().map(|r| r.rsplit('/').next().unwrap().to_owned());
        name.map_or_else(|| b.clone(), |n| doc["components"]["schemas"][&n].clone())
    };
    let org = app.with_org("acme").await;
    let key = app.with_api_key(&org).await;
    let (token, _) = app.claimr_token(&key, "alice").await;
    for answer in [app.introspect(&key, &token).await, app.introspect(&key, "not-a-token").await] {
        let fits: Vec<_> = branches
            .iter()
            .map(resolve)
            .filter(|b| {
                let props = b["properties"].as_object().unwrap();
                let required = b["required"].as_array().unwrap();
                let allowed = &props["active"]["enum"];
                required.iter().all(|r| answer.get(r.as_str().unwrap()).is_some())
                    && answer.as_object().unwrap().keys().all(|k| props.contains_key(k))
                    && allowed.as_array().unwrap().contains(&answer["active"])
            })
            .collect();
        assert_eq!(fits.len(), 1, "{answer} fits exactly one of {branches:?}");
    }
}
