//! A battery of bad requests against every REST endpoint. Each case says what it sends and what it
//! must get back (status, stable `code`, the offending `errors[].field`s); every answer must also
//! be `application/problem+json` with the request id, and must leave both orgs exactly as they
//! were (docs/architecture.md, "Security rules": a clear 4xx, never a 500, never a partial write).
//!
//! The table also holds the answers this battery first found wrong (then fixed): a JSON array in
//! place of the body object, `GET /token?account=%FF` (invalid UTF-8), a 70 KiB body to
//! `revoke-tokens`, `GET /v1` and `GET /v1/`, the field name of claimr's `name`, and the field
//! names of `revoke-tokens`' body errors; and, found by fuzz.rs on PostgreSQL, a U+0000 in a
//! metadata key or string (a 503 there, since `jsonb` cannot hold it), and a U+0000 in `GET
//! /v1/users?q=` (also a 503 there: a text parameter cannot hold it); both now a 422 on every
//! backend.

use axum::{
    body::Body,
    http::{header, HeaderValue, Method, Request},
};
use serde_json::{json, Value};
use tessera_api::services;
use tessera_core::OrgId;

use crate::helpers::{DbConn, Response, TestApp};

/// Every table of the database, one line per row (`table: 'v1'|'v2'|…`), in a stable order.
/// `api_key.last_used_at` is left out: authenticating a request may touch it, by design; so are
/// sqlx's migration tables.
pub(crate) struct DbDump(DbConn);

impl DbDump {
    pub(crate) async fn open(app: &TestApp) -> Self {
        Self(app.connect_db().await)
    }

    pub(crate) async fn rows(&mut self) -> Vec<String> {
        match &mut self.0 {
            DbConn::Sqlite(conn) => sqlite_rows(conn).await,
            DbConn::Postgres(conn) => postgres_rows(conn).await,
        }
    }
}

/// Whether `column` of `table` is part of the dump.
fn dumped(table: &str, column: &str) -> bool {
    !(table == "api_key" && column == "last_used_at")
}

async fn sqlite_rows(conn: &mut sqlx::SqliteConnection) -> Vec<String> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "select name from sqlite_master where type = 'table' \
         and name not like 'sqlite_%' and name not like '_sqlx%' order by name",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut out = Vec::new();
    for (table,) in tables {
        let columns: Vec<(String,)> = sqlx::query_as(&format!("select name from pragma_table_info('{table}')"))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let kept: Vec<String> =
            columns.into_iter().filter(|(c,)| dumped(&table, c)).map(|(c,)| format!("quote(\"{c}\")")).collect();
        let sql = format!("select {} from \"{table}\" order by 1", kept.join(" || '|' || "));
        let rows: Vec<(String,)> = sqlx::query_as(&sql).fetch_all(&mut *conn).await.unwrap();
        out.extend(rows.into_iter().map(|(r,)| format!("{table}: {r}")));
    }
    out
}

/// The PostgreSQL twin of [`sqlite_rows`]: each value as its text form (`bytea` as hex, `jsonb`
/// normalized), quoted with `quote_nullable` so that NULL and the string 'NULL' differ, rows
/// ordered by their bytes (collation "C").
async fn postgres_rows(conn: &mut sqlx::PgConnection) -> Vec<String> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "select c.table_name::text, c.column_name::text from information_schema.columns c \
         join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name \
         where c.table_schema = current_schema() and t.table_type = 'BASE TABLE' \
         and c.table_name not like '\\_sqlx%' \
         order by c.table_name collate \"C\", c.ordinal_position",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut tables: Vec<(String, Vec<String>)> = Vec::new();
    for (table, column) in columns {
        if tables.last().is_none_or(|(t, _)| *t != table) {
            tables.push((table.clone(), Vec::new()));
        }
        if dumped(&table, &column) {
            tables.last_mut().unwrap().1.push(format!("quote_nullable(\"{column}\"::text)"));
        }
    }
    assert!(tables.iter().any(|(t, _)| t == "user_token"), "the dump sees the schema: {tables:?}");
    let mut out = Vec::new();
    for (table, kept) in tables {
        let sql = format!(
            "select r from (select concat_ws('|', {}) as r from \"{table}\") rows order by r collate \"C\"",
            kept.join(", ")
        );
        let rows: Vec<(String,)> = sqlx::query_as(&sql).fetch_all(&mut *conn).await.unwrap();
        out.extend(rows.into_iter().map(|(r,)| format!("{table}: {r}")));
    }
    out
}

/// What the API itself shows of an org: every user, every user's tokens, and its API keys
/// (without `last_used_at`).
async fn org_view(app: &TestApp, org: OrgId, key: &str) -> Value {
    let users = app.get("/v1/users?limit=200", key).await;
    assert_eq!(users.status.as_u16(), 200, "{}", users.body);
    assert!(users.body["next_cursor"].is_null(), "fixture fits in one page");
    let mut tokens = serde_json::Map::new();
    for user in users.body["data"].as_array().unwrap() {
        let id = user["id"].as_str().unwrap();
        let r = app.get(&format!("/v1/users/{id}/tokens?limit=200"), key).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        tokens.insert(id.to_owned(), r.body);
    }
    let mut keys = serde_json::to_value(services::api_keys::list(&app.state, org).await.unwrap()).unwrap();
    for k in keys.as_array_mut().unwrap() {
        k.as_object_mut().unwrap().remove("last_used_at");
    }
    json!({"users": users.body, "tokens": tokens, "api_keys": keys})
}

/// [`org_view`] of each `(org, key)`.
async fn views(app: &TestApp, orgs: &[(OrgId, &str)]) -> Vec<Value> {
    let mut out = Vec::new();
    for (org, key) in orgs {
        out.push(org_view(app, *org, key).await);
    }
    out
}

#[derive(Clone)]
enum Auth {
    /// `Bearer <the acme key>`.
    Key,
    /// No `Authorization` header.
    Missing,
    /// This exact header value.
    Header(Vec<u8>),
}

#[derive(Clone)]
enum Payload {
    Empty,
    /// Serialized, with `Content-Type: application/json`.
    Json(Value),
    /// These bytes with this content type (or none).
    Raw(Option<&'static str>, Vec<u8>),
}

struct Case {
    what: String,
    method: Method,
    uri: String,
    auth: Auth,
    payload: Payload,
    status: u16,
    code: &'static str,
    /// The `errors[].field`s expected (as a set); empty: not checked.
    fields: Vec<&'static str>,
}

fn case(what: impl Into<String>, method: Method, uri: impl Into<String>) -> Case {
    Case {
        what: what.into(),
        method,
        uri: uri.into(),
        auth: Auth::Key,
        payload: Payload::Empty,
        status: 0,
        code: "",
        fields: vec![],
    }
}

impl Case {
    fn json(mut self, body: Value) -> Self {
        self.payload = Payload::Json(body);
        self
    }
    fn raw(mut self, content_type: Option<&'static str>, bytes: impl Into<Vec<u8>>) -> Self {
        self.payload = Payload::Raw(content_type, bytes.into());
        self
    }
    fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }
    fn expect(mut self, status: u16, code: &'static str, fields: &[&'static str]) -> Self {
        self.status = status;
        self.code = code;
        self.fields = fields.to_vec();
        self
    }

    fn request(&self, key: &str) -> Request<Body> {
        let mut b = Request::builder().method(self.method.clone()).uri(&self.uri);
        match &self.auth {
            Auth::Key => b = b.header(header::AUTHORIZATION, format!("Bearer {key}")),
            Auth::Missing => {}
            Auth::Header(v) => b = b.header(header::AUTHORIZATION, HeaderValue::from_bytes(v).unwrap()),
        }
        let body = match &self.payload {
            Payload::Empty => Body::empty(),
            Payload::Json(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            Payload::Raw(ct, bytes) => {
                if let Some(ct) = ct {
                    b = b.header(header::CONTENT_TYPE, *ct);
                }
                Body::from(bytes.clone())
            }
        };
        b.body(body).unwrap()
    }

    /// Everything wrong with `r` as an answer to this case.
    fn check(&self, r: &Response, key: &str) -> Vec<String> {
        let mut wrong = Vec::new();
        if r.status.as_u16() != self.status {
            wrong.push(format!("status {} (want {})", r.status.as_u16(), self.status));
        }
        if r.content_type() != "application/problem+json" {
            wrong.push(format!("content-type {:?}", r.content_type()));
        }
        if r.body["code"] != self.code {
            wrong.push(format!("code {} (want {:?})", r.body["code"], self.code));
        }
        if r.body["status"] != self.status {
            wrong.push(format!("body status {}", r.body["status"]));
        }
        let request_id = r.headers.get("x-request-id").and_then(|v| v.to_str().ok());
        if request_id.is_none() || r.body["request_id"].as_str() != request_id {
            wrong.push(format!("request_id {} vs header {request_id:?}", r.body["request_id"]));
        }
        if !r.body["detail"].is_string() || !r.body["title"].is_string() {
            wrong.push("no title/detail".into());
        }
        if !self.fields.is_empty() {
            let mut got: Vec<&str> = r.body["errors"]
                .as_array()
                .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
                .unwrap_or_default();
            got.sort_unstable();
            got.dedup();
            let mut want = self.fields.clone();
            want.sort_unstable();
            if got != want {
                wrong.push(format!("errors[].field {got:?} (want {want:?})"));
            }
        }
        if self.status == 401 {
            let challenge = r.headers.get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !challenge.starts_with("Bearer ") {
                wrong.push(format!("WWW-Authenticate {challenge:?}"));
            }
        }
        if r.body.to_string().contains(key) {
            wrong.push("the API key is echoed".into());
        }
        wrong
    }
}

/// `n` bytes of `c` (ASCII) as a string.
fn long(c: char, n: usize) -> String {
    c.to_string().repeat(n)
}

/// A metadata object whose serialization is exactly `n` bytes: `{"k":"xxx…"}`.
fn metadata_of(n: usize) -> Value {
    json!({"k": long('x', n - 8)})
}

/// base64url (no padding) of `s`, as cursors are encoded.
fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn bad_requests_get_a_clear_4xx_problem_and_change_nothing() {
    let started = std::time::Instant::now();
    let app = TestApp::new().await;
    let acme = app.with_org("acme").await;
    let other = app.with_org("other").await;
    let key = app.with_api_key(&acme).await;
    let other_key = app.with_api_key(&other).await;

    // Fixture: users with tokens (permanent, default, short, revoked) in both orgs.
    let (_, u1) = app.claimr_token(&key, "alice").await;
    let r = app
        .post("/v1/users", &key, json!({"account": "bob", "display_name": "Bob", "metadata": {"plan": "pro"}}))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let u2 = r.body["id"].as_str().unwrap().to_owned();
    let r = app.post("/v1/user-tokens", &key, json!({"user": u1, "ttl_seconds": 600})).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let t1 = r.body["id"].as_str().unwrap().to_owned();
    let r = app.post("/v1/user-tokens", &key, json!({"user": u2})).await;
    let revoked_token = r.body["id"].as_str().unwrap().to_owned();
    let r = app.call(Method::DELETE, &format!("/v1/user-tokens/{revoked_token}"), Some(&key), None).await;
    assert_eq!(r.status.as_u16(), 204);
    let (_, ou) = app.claimr_token(&other_key, "carol").await;
    let r = app.post("/v1/user-tokens", &other_key, json!({"user": ou, "permanent": true})).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let ot = r.body["id"].as_str().unwrap().to_owned();

    // Keys that must all be refused.
    let revoked_key = app.with_api_key(&acme).await;
    services::api_keys::revoke(&app.state, acme.id, &revoked_key[4..12], &crate::helpers::audit()).await.unwrap();
    let expired_key = services::api_keys::create(
        &app.state,
        acme.id,
        "soon",
        None,
        Some(services::now() + time::Duration::milliseconds(300)),
        &crate::helpers::audit(),
    )
    .await
    .unwrap()
    .secret
    .expose()
    .to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let unknown_key = tessera_core::ApiKeySecret::generate(&mut rand::rngs::OsRng).expose().to_owned();
    let mut typo = key.clone().into_bytes();
    typo[10] = if typo[10] == b'x' { b'y' } else { b'x' };
    let typo_key = String::from_utf8(typo).unwrap();

    let random = "0190f0f0-0000-7000-8000-0000000000aa";
    let future =
        (services::now() + time::Duration::hours(1)).format(&time::format_description::well_known::Rfc3339).unwrap();
    let big_body = json!({"account": "huge", "metadata": {"k": long('x', 70 * 1024)}});

    use Method as M;
    let user1 = format!("/v1/users/{u1}");
    let user1_tokens = format!("/v1/users/{u1}/tokens");
    let user1_revoke = format!("/v1/users/{u1}/revoke-tokens");
    let t1_path = format!("/v1/user-tokens/{t1}");
    let mut cases: Vec<Case> = Vec::new();

    // ---- Authentication, on every endpoint (with otherwise valid requests: nothing may happen).
    let valid_requests: Vec<(Method, String, Option<Value>)> = vec![
        (M::GET, "/token?account=newcomer".into(), None),
        (M::POST, "/v1/users".into(), Some(json!({"account": "newcomer"}))),
        (M::GET, "/v1/users".into(), None),
        (M::GET, user1.clone(), None),
        (M::PATCH, user1.clone(), Some(json!({"display_name": "Mallory"}))),
        (M::DELETE, user1.clone(), None),
        (M::POST, "/v1/user-tokens".into(), Some(json!({"user": u1}))),
        (M::GET, user1_tokens.clone(), None),
        (M::DELETE, t1_path.clone(), None),
        (M::POST, user1_revoke.clone(), Some(json!({}))),
        (M::POST, "/v1/tokens/introspect".into(), Some(json!({"token": "x"}))),
    ];
    for (method, uri, body) in &valid_requests {
        let with = |c: Case| match body {
            Some(b) => c.json(b.clone()),
            None => c,
        };
        cases.push(
            with(case(format!("{method} {uri} without Authorization"), method.clone(), uri))
                .auth(Auth::Missing)
                .expect(401, "api_key_missing", &[]),
        );
        cases.push(
            with(case(format!("{method} {uri} with an unknown well-formed key"), method.clone(), uri))
                .auth(Auth::Header(format!("Bearer {unknown_key}").into_bytes()))
                .expect(401, "api_key_invalid", &[]),
        );
    }
    let bad_headers: Vec<(&str, Vec<u8>, &'static str)> = vec![
        ("`Bearer` and no key", b"Bearer".to_vec(), "api_key_malformed"),
        ("`Bearer ` and an empty key", b"Bearer ".to_vec(), "api_key_malformed"),
        ("the key without a scheme", key.clone().into_bytes(), "api_key_malformed"),
        ("`Basic <key>`", format!("Basic {key}").into_bytes(), "api_key_malformed"),
        ("`Token <key>`", format!("Token {key}").into_bytes(), "api_key_malformed"),
        ("`Bearer tsk_short`", b"Bearer tsk_short".to_vec(), "api_key_malformed"),
        (
            "`Bearer sk_live_…` (wrong prefix)",
            b"Bearer sk_live_0123456789abcdef0123456789abcdef".to_vec(),
            "api_key_malformed",
        ),
        ("a key with a checksum typo", format!("Bearer {typo_key}").into_bytes(), "api_key_malformed"),
        ("the key followed by junk", format!("Bearer {key} junk").into_bytes(), "api_key_malformed"),
        ("a key with non-ASCII bytes", b"Bearer tsk_\xc3\xa9\xc3\xa9".to_vec(), "api_key_malformed"),
        ("a revoked key", format!("Bearer {revoked_key}").into_bytes(), "api_key_revoked"),
        ("an expired key", format!("Bearer {expired_key}").into_bytes(), "api_key_expired"),
    ];
    for (what, header, code) in bad_headers {
        cases.push(
            case(format!("POST /v1/users with {what}"), M::POST, "/v1/users")
                .json(json!({"account": "newcomer"}))
                .auth(Auth::Header(header.clone()))
                .expect(401, code, &[]),
        );
        cases.push(
            case(format!("GET /token with {what}"), M::GET, "/token?account=newcomer")
                .auth(Auth::Header(header))
                .expect(401, code, &[]),
        );
    }
    cases.push(
        case("POST /v1/users with no key and a bad body: 401 first", M::POST, "/v1/users")
            .json(json!({"account": 5}))
            .auth(Auth::Missing)
            .expect(401, "api_key_missing", &[]),
    );

    // ---- GET /token (claimr).
    for (what, uri, status, code, fields) in [
        ("no query", "/token".to_owned(), 400, "invalid_query", &["account"][..]),
        ("no account", "/token?platform=web".into(), 400, "invalid_query", &["account"]),
        ("empty account", "/token?account=".into(), 422, "validation_failed", &["account"]),
        ("whitespace account", "/token?account=%20%20".into(), 422, "validation_failed", &["account"]),
        ("256-byte account", format!("/token?account={}", long('a', 256)), 422, "validation_failed", &["account"]),
        ("NUL in account", "/token?account=a%00b".into(), 422, "validation_failed", &["account"]),
        ("newline in account", "/token?account=a%0Ab".into(), 422, "validation_failed", &["account"]),
        ("empty platform", "/token?account=a&platform=".into(), 422, "validation_failed", &["platform"]),
        (
            "256-byte platform",
            format!("/token?account=a&platform={}", long('p', 256)),
            422,
            "validation_failed",
            &["platform"],
        ),
        ("tab in platform", "/token?account=a&platform=w%09b".into(), 422, "validation_failed", &["platform"]),
        (
            "bad account and platform",
            "/token?account=&platform=%01".into(),
            422,
            "validation_failed",
            &["account", "platform"],
        ),
        ("256-byte name", format!("/token?account=a&name={}", long('n', 256)), 422, "validation_failed", &["name"]),
        ("BEL in name", "/token?account=a&name=x%07".into(), 422, "validation_failed", &["name"]),
        ("whitespace name", "/token?account=a&name=%20".into(), 422, "validation_failed", &["name"]),
        ("invalid UTF-8 in account", "/token?account=%FF".into(), 400, "invalid_query", &[]),
        ("invalid UTF-8 in name", "/token?account=a&name=%C3%28".into(), 400, "invalid_query", &[]),
        ("unknown parameter", "/token?account=a&acount=b".into(), 400, "invalid_query", &["acount"]),
        ("account twice", "/token?account=a&account=b".into(), 400, "invalid_query", &[]),
    ] {
        cases.push(case(format!("GET /token: {what}"), M::GET, uri).expect(status, code, fields));
    }
    cases.push(case("POST /token", M::POST, "/token?account=a").expect(405, "method_not_allowed", &[]));
    cases.push(case("DELETE /token", M::DELETE, "/token?account=a").expect(405, "method_not_allowed", &[]));

    // ---- POST /v1/users.
    let upserts: Vec<(&str, Value, u16, &'static str, &[&'static str])> = vec![
        ("empty object", json!({}), 422, "invalid_body", &["account"]),
        ("no account", json!({"platform": "web"}), 422, "invalid_body", &["account"]),
        ("account a number", json!({"account": 5}), 422, "invalid_body", &["account"]),
        ("account null", json!({"account": null}), 422, "invalid_body", &["account"]),
        ("account a bool", json!({"account": true}), 422, "invalid_body", &["account"]),
        ("account an array", json!({"account": ["a"]}), 422, "invalid_body", &["account"]),
        ("account an object", json!({"account": {"id": "a"}}), 422, "invalid_body", &["account"]),
        ("platform a number", json!({"account": "n", "platform": 7}), 422, "invalid_body", &["platform"]),
        ("display_name a bool", json!({"account": "n", "display_name": false}), 422, "invalid_body", &["display_name"]),
        ("display_name an object", json!({"account": "n", "display_name": {}}), 422, "invalid_body", &["display_name"]),
        ("unknown field", json!({"account": "n", "extra": 1}), 422, "invalid_body", &["extra"]),
        ("misspelt field", json!({"acount": "n"}), 422, "invalid_body", &["acount"]),
        ("metadata a string", json!({"account": "n", "metadata": "plan=pro"}), 422, "validation_failed", &["metadata"]),
        ("metadata an array", json!({"account": "n", "metadata": [1, 2]}), 422, "validation_failed", &["metadata"]),
        ("metadata a number", json!({"account": "n", "metadata": 42}), 422, "validation_failed", &["metadata"]),
        (
            "NUL in a metadata string",
            json!({"account": "n", "metadata": {"k": ["a\u{0}"]}}),
            422,
            "validation_failed",
            &["metadata"],
        ),
        (
            "an existing user with a NUL in a nested metadata key (no partial write)",
            json!({"account": "bob", "display_name": "Robert", "metadata": {"a": {"\u{0}": null}}}),
            422,
            "validation_failed",
            &["metadata"],
        ),
        (
            "metadata 16 KiB + 1",
            json!({"account": "n", "metadata": metadata_of(16 * 1024 + 1)}),
            422,
            "validation_failed",
            &["metadata"],
        ),
        ("empty account", json!({"account": ""}), 422, "validation_failed", &["account"]),
        ("whitespace account", json!({"account": "   "}), 422, "validation_failed", &["account"]),
        ("256-byte account", json!({"account": long('a', 256)}), 422, "validation_failed", &["account"]),
        ("256-byte account of 128 'é'", json!({"account": "é".repeat(128)}), 422, "validation_failed", &["account"]),
        ("NUL in account", json!({"account": "a\u{0}b"}), 422, "validation_failed", &["account"]),
        ("US (0x1f) in account", json!({"account": "a\u{1f}b"}), 422, "validation_failed", &["account"]),
        ("DEL in account", json!({"account": "a\u{7f}b"}), 422, "validation_failed", &["account"]),
        ("NEL (C1) in account", json!({"account": "a\u{85}b"}), 422, "validation_failed", &["account"]),
        ("empty platform", json!({"account": "n", "platform": ""}), 422, "validation_failed", &["platform"]),
        ("whitespace platform", json!({"account": "n", "platform": " "}), 422, "validation_failed", &["platform"]),
        (
            "256-byte platform",
            json!({"account": "n", "platform": long('p', 256)}),
            422,
            "validation_failed",
            &["platform"],
        ),
        ("newline in platform", json!({"account": "n", "platform": "we\nb"}), 422, "validation_failed", &["platform"]),
        (
            "empty display_name",
            json!({"account": "n", "display_name": ""}),
            422,
            "validation_failed",
            &["display_name"],
        ),
        (
            "256-byte display_name",
            json!({"account": "n", "display_name": long('d', 256)}),
            422,
            "validation_failed",
            &["display_name"],
        ),
        (
            "CRLF in display_name",
            json!({"account": "n", "display_name": "Ada\r\nL"}),
            422,
            "validation_failed",
            &["display_name"],
        ),
        (
            "every field bad",
            json!({"account": "", "platform": "", "display_name": " ", "metadata": []}),
            422,
            "validation_failed",
            &["account", "platform", "display_name", "metadata"],
        ),
        (
            "an existing user with a new name and bad metadata (no partial write)",
            json!({"account": "bob", "display_name": "Robert", "metadata": "x"}),
            422,
            "validation_failed",
            &["metadata"],
        ),
        ("a JSON array", json!([{"account": "n"}]), 422, "invalid_body", &[]),
        ("a JSON string", json!("n"), 422, "invalid_body", &[]),
        ("JSON null", json!(null), 422, "invalid_body", &[]),
        ("a JSON number", json!(42), 422, "invalid_body", &[]),
    ];
    for (what, body, status, code, fields) in upserts {
        cases.push(
            case(format!("POST /v1/users: {what}"), M::POST, "/v1/users").json(body).expect(status, code, fields),
        );
    }
    let raw_bodies: Vec<(&str, &[u8])> = vec![
        ("truncated JSON", br#"{"account":"#),
        ("trailing garbage", br#"{"account":"n"} x"#),
        ("single quotes", b"{'account':'n'}"),
        ("an empty body", b""),
        ("invalid UTF-8", b"{\"account\":\"\xff\xfe\"}"),
        ("a lone surrogate escape", br#"{"account":"\ud800"}"#),
        ("a trailing comma", br#"{"account":"n",}"#),
        ("NaN", br#"{"account":"n","metadata":{"x":NaN}}"#),
    ];
    for (what, bytes) in raw_bodies {
        cases.push(
            case(format!("POST /v1/users: {what}"), M::POST, "/v1/users").raw(Some("application/json"), bytes).expect(
                400,
                "malformed_json",
                &[],
            ),
        );
    }
    let deep = format!("{{\"account\":\"n\",\"metadata\":{}1{}}}", "[".repeat(200), "]".repeat(200));
    cases.push(
        case("POST /v1/users: metadata nested 200 deep", M::POST, "/v1/users")
            .raw(Some("application/json"), deep)
            .expect(400, "malformed_json", &[]),
    );
    let dup = br#"{"account":"n","account":"m"}"#;
    cases.push(
        case("POST /v1/users: account twice", M::POST, "/v1/users").raw(Some("application/json"), &dup[..]).expect(
            422,
            "invalid_body",
            &[],
        ),
    );
    for (what, ct) in [
        ("no Content-Type", None),
        ("Content-Type text/plain", Some("text/plain")),
        ("Content-Type form-urlencoded", Some("application/x-www-form-urlencoded")),
        ("Content-Type application/xml", Some("application/xml")),
    ] {
        cases.push(
            case(format!("POST /v1/users: JSON with {what}"), M::POST, "/v1/users")
                .raw(ct, br#"{"account":"n"}"#)
                .expect(415, "unsupported_media_type", &[]),
        );
    }
    cases.push(case("POST /v1/users: a 70 KiB body", M::POST, "/v1/users").json(big_body.clone()).expect(
        413,
        "body_too_large",
        &[],
    ));

    // ---- GET /v1/users.
    for (what, query, status, code, fields) in [
        ("limit=0", "limit=0".to_owned(), 422, "validation_failed", &["limit"][..]),
        ("limit=201", "limit=201".into(), 422, "validation_failed", &["limit"]),
        ("limit=-1", "limit=-1".into(), 400, "invalid_query", &["limit"]),
        ("limit=ten", "limit=ten".into(), 400, "invalid_query", &["limit"]),
        ("limit=1.5", "limit=1.5".into(), 400, "invalid_query", &["limit"]),
        ("limit=2^32", "limit=4294967296".into(), 400, "invalid_query", &["limit"]),
        ("limit empty", "limit=".into(), 400, "invalid_query", &["limit"]),
        ("cursor garbage", "cursor=not!a!cursor".into(), 422, "validation_failed", &["cursor"]),
        ("cursor of another shape", format!("cursor={}", b64("hello")), 422, "validation_failed", &["cursor"]),
        (
            "cursor with a bad uuid",
            format!("cursor={}", b64("1700000000000000.nope")),
            422,
            "validation_failed",
            &["cursor"],
        ),
        (
            "cursor with a bad time",
            format!("cursor={}", b64(&format!("soon.{random}"))),
            422,
            "validation_failed",
            &["cursor"],
        ),
        ("limit=0 and a bad cursor", "limit=0&cursor=%%%".into(), 422, "validation_failed", &["limit", "cursor"]),
        ("256-byte q", format!("q={}", long('q', 256)), 422, "validation_failed", &["q"]),
        ("NUL in q", "q=a%00b".into(), 422, "validation_failed", &["q"]),
        ("NUL as q, with a bad limit", "q=%00&limit=0".into(), 422, "validation_failed", &["q", "limit"]),
        ("empty platform", "platform=".into(), 422, "validation_failed", &["platform"]),
        ("control char in platform", "platform=w%01".into(), 422, "validation_failed", &["platform"]),
        ("unknown parameter", "sort=name".into(), 400, "invalid_query", &["sort"]),
    ] {
        cases.push(
            case(format!("GET /v1/users?{what}"), M::GET, format!("/v1/users?{query}")).expect(status, code, fields),
        );
    }

    // ---- GET / PATCH / DELETE /v1/users/{id}: bad ids, ids not of this org.
    let bad_ids = ["not-a-uuid", "1234", "0190f0f0-0000-7000-8000-0000000000aaX", "%20", "%00"];
    for id in bad_ids {
        cases.push(case(format!("GET /v1/users/{id}"), M::GET, format!("/v1/users/{id}")).expect(
            400,
            "invalid_path",
            &["id"],
        ));
    }
    for (m, body) in [(M::PATCH, Some(json!({"display_name": "x"}))), (M::DELETE, None)] {
        let with = |c: Case| match &body {
            Some(b) => c.json(b.clone()),
            None => c,
        };
        cases.push(with(case(format!("{m} /v1/users/not-a-uuid"), m.clone(), "/v1/users/not-a-uuid")).expect(
            400,
            "invalid_path",
            &["id"],
        ));
        for (whose, id) in [("another org's user", ou.as_str()), ("an unknown id", random), ("a token id", t1.as_str())]
        {
            cases.push(with(case(format!("{m} /v1/users/{{{whose}}}"), m.clone(), format!("/v1/users/{id}"))).expect(
                404,
                "user_not_found",
                &[],
            ));
        }
    }
    for (whose, id) in [
        ("another org's user", ou.as_str()),
        ("an unknown id", random),
        ("the nil uuid", "00000000-0000-0000-0000-000000000000"),
    ] {
        cases.push(case(format!("GET /v1/users/{{{whose}}}"), M::GET, format!("/v1/users/{id}")).expect(
            404,
            "user_not_found",
            &[],
        ));
    }

    // ---- PATCH /v1/users/{id} bodies.
    let patches: Vec<(&str, Value, u16, &'static str, &[&'static str])> = vec![
        ("display_name a number", json!({"display_name": 5}), 422, "invalid_body", &["display_name"]),
        ("display_name an array", json!({"display_name": ["a"]}), 422, "invalid_body", &["display_name"]),
        ("empty display_name", json!({"display_name": ""}), 422, "validation_failed", &["display_name"]),
        (
            "whitespace display_name",
            json!({"display_name": "  \u{3000} "}),
            422,
            "validation_failed",
            &["display_name"],
        ),
        ("256-byte display_name", json!({"display_name": long('d', 256)}), 422, "validation_failed", &["display_name"]),
        ("NUL in display_name", json!({"display_name": "a\u{0}"}), 422, "validation_failed", &["display_name"]),
        ("metadata a string", json!({"metadata": "x"}), 422, "validation_failed", &["metadata"]),
        ("metadata an array", json!({"metadata": [1]}), 422, "validation_failed", &["metadata"]),
        ("metadata true", json!({"metadata": true}), 422, "validation_failed", &["metadata"]),
        (
            "NUL in a nested metadata key, with a good display_name (no partial write)",
            json!({"display_name": "Renamed", "metadata": {"": {"\u{0}": null}}}),
            422,
            "validation_failed",
            &["metadata"],
        ),
        ("NUL in a metadata string", json!({"metadata": {"k": "\u{0}"}}), 422, "validation_failed", &["metadata"]),
        (
            "metadata 16 KiB + 1",
            json!({"metadata": metadata_of(16 * 1024 + 1)}),
            422,
            "validation_failed",
            &["metadata"],
        ),
        (
            "a good display_name with bad metadata (no partial write)",
            json!({"display_name": "Renamed", "metadata": []}),
            422,
            "validation_failed",
            &["metadata"],
        ),
        (
            "both bad",
            json!({"display_name": "", "metadata": 1}),
            422,
            "validation_failed",
            &["display_name", "metadata"],
        ),
        ("account (not patchable)", json!({"account": "renamed"}), 422, "invalid_body", &["account"]),
        ("platform (not patchable)", json!({"platform": "web"}), 422, "invalid_body", &["platform"]),
        ("id (not patchable)", json!({"id": random}), 422, "invalid_body", &["id"]),
        ("a JSON array", json!([]), 422, "invalid_body", &[]),
        ("a JSON string", json!("Ada"), 422, "invalid_body", &[]),
    ];
    for (what, body, status, code, fields) in patches {
        cases.push(
            case(format!("PATCH /v1/users/{{id}}: {what}"), M::PATCH, &user1).json(body).expect(status, code, fields),
        );
    }
    cases.push(
        case("PATCH /v1/users/{id}: truncated JSON", M::PATCH, &user1)
            .raw(Some("application/json"), &br#"{"display_name":"#[..])
            .expect(400, "malformed_json", &[]),
    );
    cases.push(
        case("PATCH /v1/users/{id}: an empty body", M::PATCH, &user1).raw(Some("application/json"), &b""[..]).expect(
            400,
            "malformed_json",
            &[],
        ),
    );
    cases.push(
        case("PATCH /v1/users/{id}: JSON without Content-Type", M::PATCH, &user1)
            .raw(None, &br#"{"display_name":"x"}"#[..])
            .expect(415, "unsupported_media_type", &[]),
    );
    cases.push(
        case("PATCH /v1/users/{id}: a 70 KiB body", M::PATCH, &user1)
            .json(json!({"metadata": {"k": long('x', 70 * 1024)}}))
            .expect(413, "body_too_large", &[]),
    );

    // ---- POST /v1/user-tokens.
    let issues: Vec<(&str, Value, u16, &'static str, &[&'static str])> = vec![
        ("empty object", json!({}), 422, "invalid_body", &["user"]),
        ("no user", json!({"ttl_seconds": 600}), 422, "invalid_body", &["user"]),
        ("user a number", json!({"user": 5}), 422, "invalid_body", &["user"]),
        ("user not a UUID", json!({"user": "alice"}), 422, "invalid_body", &["user"]),
        ("user null", json!({"user": null}), 422, "invalid_body", &["user"]),
        ("user an array", json!({"user": [u1]}), 422, "invalid_body", &["user"]),
        ("user an object", json!({"user": {"id": u1}}), 422, "invalid_body", &["user"]),
        ("ttl_seconds 59", json!({"user": u1, "ttl_seconds": 59}), 422, "validation_failed", &["ttl_seconds"]),
        ("ttl_seconds 0", json!({"user": u1, "ttl_seconds": 0}), 422, "validation_failed", &["ttl_seconds"]),
        ("ttl_seconds -1", json!({"user": u1, "ttl_seconds": -1}), 422, "validation_failed", &["ttl_seconds"]),
        (
            "ttl_seconds 31536001",
            json!({"user": u1, "ttl_seconds": 31_536_001}),
            422,
            "validation_failed",
            &["ttl_seconds"],
        ),
        (
            "ttl_seconds i64::MAX",
            json!({"user": u1, "ttl_seconds": i64::MAX}),
            422,
            "validation_failed",
            &["ttl_seconds"],
        ),
        (
            "ttl_seconds i64::MIN",
            json!({"user": u1, "ttl_seconds": i64::MIN}),
            422,
            "validation_failed",
            &["ttl_seconds"],
        ),
        (
            "ttl_seconds 2^63",
            json!({"user": u1, "ttl_seconds": 9_223_372_036_854_775_808u64}),
            422,
            "invalid_body",
            &["ttl_seconds"],
        ),
        ("ttl_seconds 600.5", json!({"user": u1, "ttl_seconds": 600.5}), 422, "invalid_body", &["ttl_seconds"]),
        ("ttl_seconds 1e3", json!({"user": u1, "ttl_seconds": 1e3}), 422, "invalid_body", &["ttl_seconds"]),
        ("ttl_seconds a string", json!({"user": u1, "ttl_seconds": "600"}), 422, "invalid_body", &["ttl_seconds"]),
        ("ttl_seconds a bool", json!({"user": u1, "ttl_seconds": true}), 422, "invalid_body", &["ttl_seconds"]),
        ("permanent a string", json!({"user": u1, "permanent": "yes"}), 422, "invalid_body", &["permanent"]),
        ("permanent 1", json!({"user": u1, "permanent": 1}), 422, "invalid_body", &["permanent"]),
        (
            "ttl_seconds with permanent:true",
            json!({"user": u1, "ttl_seconds": 600, "permanent": true}),
            422,
            "validation_failed",
            &["permanent"],
        ),
        (
            "ttl_seconds 59 with permanent:false",
            json!({"user": u1, "ttl_seconds": 59, "permanent": false}),
            422,
            "validation_failed",
            &["ttl_seconds"],
        ),
        ("unknown field", json!({"user": u1, "ttl": 600}), 422, "invalid_body", &["ttl"]),
        ("another org's user", json!({"user": ou}), 404, "user_not_found", &[]),
        ("an unknown user", json!({"user": random}), 404, "user_not_found", &[]),
        ("a token id as user", json!({"user": t1}), 404, "user_not_found", &[]),
        ("a JSON array", json!([u1]), 422, "invalid_body", &[]),
    ];
    for (what, body, status, code, fields) in issues {
        cases.push(
            case(format!("POST /v1/user-tokens: {what}"), M::POST, "/v1/user-tokens")
                .json(body)
                .expect(status, code, fields),
        );
    }
    let big_u64 = format!(r#"{{"user":"{u1}","ttl_seconds":18446744073709551616}}"#);
    cases.push(
        case("POST /v1/user-tokens: ttl_seconds 2^64", M::POST, "/v1/user-tokens")
            .raw(Some("application/json"), big_u64)
            .expect(422, "invalid_body", &["ttl_seconds"]),
    );
    cases.push(
        case("POST /v1/user-tokens: truncated JSON", M::POST, "/v1/user-tokens")
            .raw(Some("application/json"), format!(r#"{{"user":"{u1}""#))
            .expect(400, "malformed_json", &[]),
    );
    cases.push(
        case("POST /v1/user-tokens: JSON as text/plain", M::POST, "/v1/user-tokens")
            .raw(Some("text/plain"), format!(r#"{{"user":"{u1}"}}"#))
            .expect(415, "unsupported_media_type", &[]),
    );
    cases.push(
        case("POST /v1/user-tokens: a 70 KiB body", M::POST, "/v1/user-tokens")
            .json(json!({"user": u1, "pad": long('x', 70 * 1024)}))
            .expect(413, "body_too_large", &[]),
    );

    // ---- GET /v1/users/{id}/tokens.
    for (what, query, status, code, fields) in [
        ("status=bogus", "status=bogus", 422, "validation_failed", &["status"][..]),
        ("status=ACTIVE", "status=ACTIVE", 422, "validation_failed", &["status"]),
        ("status empty", "status=", 422, "validation_failed", &["status"]),
        ("limit=0", "limit=0", 422, "validation_failed", &["limit"]),
        ("limit=201", "limit=201", 422, "validation_failed", &["limit"]),
        ("limit=-1", "limit=-1", 400, "invalid_query", &["limit"]),
        ("limit=all", "limit=all", 400, "invalid_query", &["limit"]),
        ("cursor garbage", "cursor=zzz", 422, "validation_failed", &["cursor"]),
        (
            "status, limit and cursor bad",
            "status=old&limit=999&cursor=x",
            422,
            "validation_failed",
            &["status", "limit", "cursor"],
        ),
        ("unknown parameter", "state=active", 400, "invalid_query", &["state"]),
    ] {
        cases.push(
            case(format!("GET /v1/users/{{id}}/tokens?{what}"), M::GET, format!("{user1_tokens}?{query}"))
                .expect(status, code, fields),
        );
    }
    cases.push(case("GET /v1/users/not-a-uuid/tokens", M::GET, "/v1/users/not-a-uuid/tokens").expect(
        400,
        "invalid_path",
        &["id"],
    ));
    for (whose, id) in [("another org's user", ou.as_str()), ("an unknown id", random)] {
        cases.push(case(format!("GET /v1/users/{{{whose}}}/tokens"), M::GET, format!("/v1/users/{id}/tokens")).expect(
            404,
            "user_not_found",
            &[],
        ));
    }

    // ---- DELETE /v1/user-tokens/{id}.
    cases.push(case("DELETE /v1/user-tokens/not-a-uuid", M::DELETE, "/v1/user-tokens/not-a-uuid").expect(
        400,
        "invalid_path",
        &["id"],
    ));
    cases.push(case("DELETE /v1/user-tokens/{v4 with junk}", M::DELETE, format!("/v1/user-tokens/{t1}-0")).expect(
        400,
        "invalid_path",
        &["id"],
    ));
    for (whose, id) in [("another org's token", ot.as_str()), ("an unknown id", random), ("a user id", u1.as_str())] {
        cases.push(
            case(format!("DELETE /v1/user-tokens/{{{whose}}}"), M::DELETE, format!("/v1/user-tokens/{id}")).expect(
                404,
                "user_token_not_found",
                &[],
            ),
        );
    }

    // ---- POST /v1/users/{id}/revoke-tokens.
    let revokes: Vec<(&str, Value, u16, &'static str, &[&'static str])> = vec![
        ("issued_before not a time", json!({"issued_before": "yesterday"}), 422, "invalid_body", &["issued_before"]),
        ("issued_before a date only", json!({"issued_before": "2024-01-01"}), 422, "invalid_body", &["issued_before"]),
        (
            "issued_before without offset",
            json!({"issued_before": "2024-01-01T00:00:00"}),
            422,
            "invalid_body",
            &["issued_before"],
        ),
        ("issued_before a number", json!({"issued_before": 1_700_000_000}), 422, "invalid_body", &["issued_before"]),
        ("issued_before in the future", json!({"issued_before": future}), 422, "validation_failed", &["issued_before"]),
        (
            "issued_before in 2999",
            json!({"issued_before": "2999-01-01T00:00:00Z"}),
            422,
            "validation_failed",
            &["issued_before"],
        ),
        ("unknown field", json!({"before": "2024-01-01T00:00:00Z"}), 422, "invalid_body", &["before"]),
        ("a JSON string", json!("now"), 422, "invalid_body", &[]),
        ("an empty JSON array", json!([]), 422, "invalid_body", &[]),
        ("a time in an array", json!(["2020-01-01T00:00:00Z"]), 422, "invalid_body", &[]),
    ];
    for (what, body, status, code, fields) in revokes {
        cases.push(
            case(format!("POST /v1/users/{{id}}/revoke-tokens: {what}"), M::POST, &user1_revoke)
                .json(body)
                .expect(status, code, fields),
        );
    }
    cases.push(
        case("POST /v1/users/{id}/revoke-tokens: truncated JSON", M::POST, &user1_revoke)
            .raw(Some("application/json"), &br#"{"issued_before":"#[..])
            .expect(400, "malformed_json", &[]),
    );
    cases.push(
        case("POST /v1/users/{id}/revoke-tokens: 70 KiB body", M::POST, &user1_revoke)
            .json(json!({"issued_before": long('x', 70 * 1024)}))
            .expect(413, "body_too_large", &[]),
    );
    cases.push(
        case("POST /v1/users/{id}/revoke-tokens: text/plain body", M::POST, &user1_revoke)
            .raw(Some("text/plain"), &br#"{}"#[..])
            .expect(415, "unsupported_media_type", &[]),
    );
    // serde reads a struct from a JSON array too; the API must not: each of these once wrote.
    for (what, method, uri, body) in [
        ("POST /v1/users", M::POST, "/v1/users".to_owned(), json!(["arr-user", null, null, null])),
        ("POST /v1/user-tokens", M::POST, "/v1/user-tokens".to_owned(), json!([u1.clone(), 600, null])),
        ("PATCH /v1/users/{id}", M::PATCH, user1.clone(), json!(["Arr Name", null])),
        ("POST /v1/tokens/introspect", M::POST, "/v1/tokens/introspect".to_owned(), json!(["x"])),
    ] {
        cases.push(case(format!("{what}: an array for the object"), method, uri).json(body).expect(
            422,
            "invalid_body",
            &[],
        ));
    }
    cases.push(case("PATCH /v1/users/{id}: metadata null", M::PATCH, &user1).json(json!({"metadata": null})).expect(
        422,
        "validation_failed",
        &["metadata"],
    ));
    for uri in ["/v1", "/v1/"] {
        cases.push(case(format!("GET {uri}"), M::GET, uri).expect(404, "route_not_found", &[]));
    }
    cases.push(
        case("POST /v1/users/not-a-uuid/revoke-tokens", M::POST, "/v1/users/not-a-uuid/revoke-tokens")
            .json(json!({}))
            .expect(400, "invalid_path", &["id"]),
    );
    for (whose, id) in [("another org's user", ou.as_str()), ("an unknown id", random)] {
        cases.push(
            case(format!("POST /v1/users/{{{whose}}}/revoke-tokens"), M::POST, format!("/v1/users/{id}/revoke-tokens"))
                .json(json!({}))
                .expect(404, "user_not_found", &[]),
        );
    }

    // ---- POST /v1/tokens/introspect.
    let introspects: Vec<(&str, Value, u16, &'static str, &[&'static str])> = vec![
        ("empty object", json!({}), 422, "invalid_body", &["token"]),
        ("token a number", json!({"token": 5}), 422, "invalid_body", &["token"]),
        ("token null", json!({"token": null}), 422, "invalid_body", &["token"]),
        ("token an array", json!({"token": ["a.b.c"]}), 422, "invalid_body", &["token"]),
        ("unknown field", json!({"token": "a.b.c", "extra": 1}), 422, "invalid_body", &["extra"]),
        ("jwt instead of token", json!({"jwt": "a.b.c"}), 422, "invalid_body", &["jwt"]),
        ("a JSON string", json!("a.b.c"), 422, "invalid_body", &[]),
    ];
    for (what, body, status, code, fields) in introspects {
        cases.push(
            case(format!("POST /v1/tokens/introspect: {what}"), M::POST, "/v1/tokens/introspect")
                .json(body)
                .expect(status, code, fields),
        );
    }
    cases.push(
        case("POST /v1/tokens/introspect: truncated JSON", M::POST, "/v1/tokens/introspect")
            .raw(Some("application/json"), &br#"{"token""#[..])
            .expect(400, "malformed_json", &[]),
    );
    cases.push(
        case("POST /v1/tokens/introspect: form-urlencoded (RFC 7662 style)", M::POST, "/v1/tokens/introspect")
            .raw(Some("application/x-www-form-urlencoded"), &b"token=a.b.c"[..])
            .expect(415, "unsupported_media_type", &[]),
    );
    cases.push(
        case("POST /v1/tokens/introspect: a 70 KiB body", M::POST, "/v1/tokens/introspect")
            .json(json!({"token": long('x', 70 * 1024)}))
            .expect(413, "body_too_large", &[]),
    );

    // ---- Unknown routes and wrong methods.
    for uri in [
        "/v1/nothing-here",
        "/v1/user",
        "/v1/tokens",
        "/v1/users/",
        &format!("{user1}/profile"),
        &format!("{user1_revoke}/now"),
        "/v1/users/a/b/c/d",
    ] {
        cases.push(case(format!("GET {uri}"), M::GET, uri).expect(404, "route_not_found", &[]));
    }
    cases.push(case("POST /v1/nothing-here without a key", M::POST, "/v1/nothing-here").auth(Auth::Missing).expect(
        404,
        "route_not_found",
        &[],
    ));
    for (m, uri) in [
        (M::PUT, "/v1/users".to_owned()),
        (M::DELETE, "/v1/users".into()),
        (M::PUT, user1.clone()),
        (M::POST, user1.clone()),
        (M::POST, user1_tokens.clone()),
        (M::GET, user1_revoke.clone()),
        (M::GET, "/v1/user-tokens".into()),
        (M::GET, t1_path.clone()),
        (M::PATCH, t1_path.clone()),
        (M::GET, "/v1/tokens/introspect".into()),
        (M::PUT, "/v1/tokens/introspect".into()),
    ] {
        cases.push(case(format!("{m} {uri}"), m, uri).expect(405, "method_not_allowed", &[]));
    }

    // ---- Run them all; every answer is checked, and the state compared after each case.
    let mut db = DbDump::open(&app).await;
    let orgs = [(acme.id, key.as_str()), (other.id, other_key.as_str())];
    let before_view = views(&app, &orgs).await;
    let before_db = db.rows().await;
    let mut failures = Vec::new();
    for c in &cases {
        assert!(c.status >= 400, "case without expectation: {}", c.what);
        let r = app.send(c.request(&key)).await;
        let mut wrong = c.check(&r, &key);
        if db.rows().await != before_db {
            wrong.push("the database changed".into());
        }
        if views(&app, &orgs).await != before_view {
            wrong.push("the org's users, tokens or keys changed".into());
        }
        if !wrong.is_empty() {
            let shown: String = r.body.to_string().chars().take(400).collect();
            failures.push(format!(
                "{} [{} {}]: {}\n    got {} {shown}",
                c.what,
                c.method,
                c.uri.chars().take(80).collect::<String>(),
                wrong.join("; "),
                r.status
            ));
        }
    }
    println!("bad_input: {} cases in {:.2?}", cases.len(), started.elapsed());
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
