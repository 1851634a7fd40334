//! `TestApp`: a router over a fresh database, plus request helpers.
//!
//! The backend comes from `TESSERA_TEST_API_DATABASE`: `sqlite` (the default) opens a SQLite file
//! in a temporary folder; `postgres` creates a database `tessera_test_<uuid>` through
//! `TESSERA_TEST_POSTGRES_URL` (with `tessera-testdb`, like the store's contract suite) and drops
//! it with the `TestApp`.

use axum::{
    body::Body,
    http::{header, HeaderMap, Method, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::{Connection, Executor};
use tessera_api::{
    crypto::{KeyRing, MasterKey},
    services, ApiConfig, AppState,
};
use tessera_core::Org;
pub use tessera_testdb::Backend;
use tessera_testdb::{TestDatabase, POSTGRES_URL_VAR};
use tower::ServiceExt;

pub const PUBLIC_URL: &str = "http://tessera.test";

/// Environment variable choosing the backend of every `TestApp`: `sqlite` (default) or `postgres`.
pub const DATABASE_VAR: &str = "TESSERA_TEST_API_DATABASE";
/// Who acts in tests that are not about the audit log: the CLI as `test`, now.
pub fn audit() -> tessera_core::AuditContext {
    tessera_core::AuditContext::new(tessera_core::Actor::cli("test"), time::OffsetDateTime::now_utc())
}

/// The backend named by `TESSERA_TEST_API_DATABASE`.
pub fn backend_from_env() -> Backend {
    let value = match std::env::var(DATABASE_VAR) {
        Err(std::env::VarError::NotPresent) => String::new(),
        other => other.unwrap_or_else(|e| panic!("{DATABASE_VAR}: {e}")),
    };
    match value.as_str() {
        "" | "sqlite" => Backend::Sqlite,
        "postgres" => Backend::Postgres,
        other => panic!("{DATABASE_VAR} must be `sqlite` or `postgres`, not {other:?}"),
    }
}

pub struct TestApp {
    // Declared first so the store is released before the database is removed.
    pub state: AppState,
    pub router: Router,
    pub backend: Backend,
    /// The URL the store was opened with (`sqlite://…` or `postgres://…/tessera_test_…`).
    pub db_url: String,
    _db: TestDatabase,
}

/// A plain connection to a `TestApp`'s database, beside the store's pool, for tests that look at
/// (or break) the tables directly.
pub enum DbConn {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl DbConn {
    /// Runs one statement without results.
    pub async fn execute(&mut self, sql: &str) {
        match self {
            DbConn::Sqlite(c) => c.execute(sql).await.map(drop),
            DbConn::Postgres(c) => c.execute(sql).await.map(drop),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[derive(Clone, Debug)]
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
    /// A router over a fresh, migrated database on the backend `TESSERA_TEST_API_DATABASE` names.
    pub async fn new() -> Self {
        Self::with_config(ApiConfig::new(PUBLIC_URL)).await
    }

    /// [`TestApp::new`] with other settings.
    pub async fn with_config(config: ApiConfig) -> Self {
        let backend = backend_from_env();
        let db = TestDatabase::new(backend).unwrap_or_else(|| {
            panic!(
                "{DATABASE_VAR}=postgres needs {POSTGRES_URL_VAR}, an admin URL of a PostgreSQL server that may \
                 create databases (e.g. postgres://postgres@127.0.0.1:5432/test)"
            )
        });
        let db_url = db.url.clone();
        let store = tessera_store::open(&db_url).await.unwrap();
        let state = AppState::new(store, KeyRing::new(MasterKey::generate().unwrap()), config);
        let router = tessera_api::http_layers(tessera_api::router(state.clone()));
        Self { state, router, backend, db_url, _db: db }
    }

    /// The SQLite file, on the SQLite backend.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self.db_url.strip_prefix("sqlite://").map(Into::into)
    }

    /// A connection of its own to this app's database.
    pub async fn connect_db(&self) -> DbConn {
        match self.backend {
            Backend::Sqlite => DbConn::Sqlite(sqlx::SqliteConnection::connect(&self.db_url).await.unwrap()),
            Backend::Postgres => DbConn::Postgres(sqlx::PgConnection::connect(&self.db_url).await.unwrap()),
        }
    }

    pub async fn with_org(&self, slug: &str) -> Org {
        services::orgs::create(&self.state, slug, &format!("{slug} Inc."), &crate::helpers::audit()).await.unwrap()
    }

    pub async fn with_api_key(&self, org: &Org) -> String {
        let created = services::api_keys::create(&self.state, org.id, "test", None, None, &crate::helpers::audit())
            .await
            .unwrap();
        created.secret.expose().to_owned()
    }

    pub async fn send(&self, request: Request<Body>) -> Response {
        send_to(&self.router, request).await
    }

    pub async fn call(&self, method: Method, uri: &str, key: Option<&str>, body: Option<Value>) -> Response {
        call_on(&self.router, method, uri, key, body).await
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

/// Sends `request` to `router` and reads the whole answer (a JSON body parsed, else kept as a string).
pub async fn send_to(router: &Router, request: Request<Body>) -> Response {
    let response = router.clone().oneshot(request).await.unwrap();
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

/// `method uri` on `router`, with `key` as a bearer token and `body` as JSON when given.
pub async fn call_on(router: &Router, method: Method, uri: &str, key: Option<&str>, body: Option<Value>) -> Response {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(key) = key {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let request = match body {
        Some(body) => builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    };
    send_to(router, request.unwrap()).await
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
