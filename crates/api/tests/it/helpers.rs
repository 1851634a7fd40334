//! `TestApp`: a router over a fresh SQLite file, plus request helpers.

use axum::{
    body::Body,
    http::{header, HeaderMap, Method, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use serde_json::Value;
use tempfile::TempDir;
use tessera_api::{
    crypto::{KeyRing, MasterKey},
    services, ApiConfig, AppState,
};
use tessera_core::Org;
use tower::ServiceExt;

pub const PUBLIC_URL: &str = "http://tessera.test";

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub db_path: std::path::PathBuf,
    _dir: TempDir,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Response {
    pub fn content_type(&self) -> &str {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.content_type(), "application/problem+json");
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["status"], status);
        let request_id = self.headers.get("x-request-id").expect("x-request-id header").to_str().unwrap();
        assert_eq!(self.body["request_id"], request_id);
    }
}

impl TestApp {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("tessera.db");
        let store = tessera_store::open(&format!("sqlite://{}", db_path.display())).await.unwrap();
        let state = AppState::new(store, KeyRing::new(MasterKey::generate().unwrap()), ApiConfig::new(PUBLIC_URL));
        let router = tessera_api::http_layers(tessera_api::router(state.clone()));
        Self { state, router, db_path, _dir: dir }
    }

    pub async fn with_org(&self, slug: &str) -> Org {
        services::orgs::create(&self.state, slug, &format!("{slug} Inc.")).await.unwrap()
    }

    pub async fn with_api_key(&self, org: &Org) -> String {
        let created = services::api_keys::create(&self.state, org.id, "test", None, None).await.unwrap();
        created.secret.expose().to_owned()
    }

    pub async fn send(&self, request: Request<Body>) -> Response {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Response { status, headers, body }
    }

    pub async fn call(&self, method: Method, uri: &str, key: Option<&str>, body: Option<Value>) -> Response {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(key) = key {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        let request = match body {
            Some(body) => builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub async fn get(&self, uri: &str, key: &str) -> Response {
        self.call(Method::GET, uri, Some(key), None).await
    }

    pub async fn post(&self, uri: &str, key: &str, body: Value) -> Response {
        self.call(Method::POST, uri, Some(key), Some(body)).await
    }

    /// `GET /token` for `account` on platform `web`; asserts 200 and returns `(token, user_id)`.
    pub async fn claimr_token(&self, key: &str, account: &str) -> (String, String) {
        let r = self.get(&format!("/token?account={account}&platform=web"), key).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        (r.body["token"].as_str().unwrap().to_owned(), r.body["user_id"].as_str().unwrap().to_owned())
    }

    pub async fn introspect(&self, key: &str, token: &str) -> Value {
        let r = self.post("/v1/tokens/introspect", key, serde_json::json!({ "token": token })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }
}

/// Verifies `token` with the JWKS served for `slug`, like an offline token consumer would.
pub async fn verify_with_jwks(app: &TestApp, slug: &str, token: &str) -> Option<Value> {
    let r = app.call(Method::GET, &format!("/o/{slug}/.well-known/jwks.json"), None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let header = jsonwebtoken::decode_header(token).ok()?;
    let jwk = r.body["keys"].as_array()?.iter().find(|k| k["kid"].as_str() == header.kid.as_deref())?;
    let key = jsonwebtoken::DecodingKey::from_ed_components(jwk["x"].as_str()?).ok()?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_required_spec_claims::<&str>(&[]);
    validation.set_audience(&[slug]);
    validation.set_issuer(&[format!("{PUBLIC_URL}/o/{slug}")]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).ok().map(|d| d.claims)
}
