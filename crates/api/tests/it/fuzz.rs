//! Property-based fuzzing of the REST API with `proptest`: arbitrary JSON bodies (also shaped
//! from the real field names), query strings and path segments, sent with a valid API key.
//!
//! Every answer must be below 500; every 4xx must be a problem (`application/problem+json`
//! with `code`, `status` and the request id); a rejected request must leave the database
//! exactly as it was; and at the end, the users and tokens that exist (and the revoked ones)
//! must be exactly those that the accepted requests explain. Bounded for CI: a fixed number of
//! cases per endpoint group, no shrinking marathons, no persistence files.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
};

use axum::{
    body::Body,
    http::{header, Method, Request},
};
use base64::Engine;
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use serde_json::{json, Value};

use crate::{
    bad_input::DbDump,
    helpers::{Response, TestApp},
};

/// Cases per endpoint group.
const CASES: u32 = 512;

/// One request to send.
#[derive(Clone)]
struct Req {
    method: Method,
    uri: String,
    content_type: Option<&'static str>,
    idempotency_key: Option<String>,
    body: Vec<u8>,
}

impl std::fmt::Debug for Req {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body: String = String::from_utf8_lossy(&self.body).chars().take(600).collect();
        write!(
            f,
            "{} {} (content-type {:?}, idempotency-key {:?}) {body}",
            self.method, self.uri, self.content_type, self.idempotency_key
        )
    }
}

/// Objects made before the run: ids and tokens the generators mix in.
#[derive(Clone)]
struct Fixture {
    key: String,
    other_key: String,
    /// acme's users.
    users: Vec<String>,
    /// acme's token ids.
    tokens: Vec<String>,
    /// JWTs: acme's, the other org's, and a tampered one.
    jwts: Vec<String>,
    other_user: String,
    other_token: String,
}

/// What the accepted requests explain.
#[derive(Default)]
struct Model {
    sent: usize,
    accepted: usize,
    /// Users that existed at the start or were returned by an accepted request.
    users: BTreeSet<String>,
    /// Users deleted by an accepted `DELETE /v1/users/{id}`.
    deleted: BTreeSet<String>,
    /// Token id → user id, for tokens that existed at the start or were issued.
    tokens: BTreeMap<String, String>,
    /// Tokens revoked at the start or by an accepted `DELETE /v1/user-tokens/{id}`.
    revoked: BTreeSet<String>,
    /// Users whose tokens an accepted `revoke-tokens` call may have revoked.
    bulk_revoked: BTreeSet<String>,
}

struct Fuzz {
    rt: tokio::runtime::Runtime,
    app: TestApp,
    fx: Fixture,
    run: RefCell<Run>,
    other_before: Value,
}

/// The mutable part of a run, lent to each step.
struct Run {
    db: DbDump,
    model: Model,
}

/// Percent-encodes every byte but the unreserved ones (RFC 3986 §2.3), so any input makes a valid URI.
fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Undoes [`percent`] (lenient: a `%` without two hex digits stays as it is).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The canonical form of the UUID in a path segment, if it is one.
fn path_uuid(segment: &str) -> Option<String> {
    let decoded = String::from_utf8(percent_decode(segment)).ok()?;
    uuid::Uuid::parse_str(&decoded).ok().map(|u| u.to_string())
}

/// `(jti, sub)` of a JWT, read without verifying (the server made it).
fn jwt_ids(jwt: &str) -> Option<(String, String)> {
    let payload = jwt.split('.').nth(1)?;
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    Some((claims["jti"].as_str()?.to_owned(), claims["sub"].as_str()?.to_owned()))
}

/// Every page of a list.
async fn list_all(app: &TestApp, uri: &str, key: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if uri.contains('?') { '&' } else { '?' };
        let page_uri = match &cursor {
            Some(c) => format!("{uri}{sep}limit=200&cursor={c}"),
            None => format!("{uri}{sep}limit=200"),
        };
        let r = app.get(&page_uri, key).await;
        assert_eq!(r.status.as_u16(), 200, "{page_uri}: {}", r.body);
        out.extend(r.body["data"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// A user object that breaks the rules (docs/architecture.md) could only come from accepted bad input.
fn user_rule_break(u: &Value) -> Option<String> {
    let text_ok = |v: &Value| {
        v.as_str().is_some_and(|s| !s.trim().is_empty() && s.len() <= 255 && !s.chars().any(char::is_control))
    };
    if !text_ok(&u["account"]) || !text_ok(&u["platform"]) {
        return Some("account or platform breaks the text rules".into());
    }
    if !(u["display_name"].is_null() || text_ok(&u["display_name"])) {
        return Some("display_name breaks the text rules".into());
    }
    if !u["metadata"].is_object() || u["metadata"].to_string().len() > 16 * 1024 {
        return Some("metadata is not an object of at most 16 KiB".into());
    }
    None
}

impl Fuzz {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (app, fx, db, model, other_before) = rt.block_on(async {
            let app = TestApp::new().await;
            let acme = app.with_org("acme").await;
            let other = app.with_org("other").await;
            let key = app.with_api_key(&acme).await;
            let other_key = app.with_api_key(&other).await;
            let (alice_jwt, alice) = app.claimr_token(&key, "alice").await;
            let r =
                app.post("/v1/users", &key, json!({"account": "bob", "platform": "web", "metadata": {"n": 1}})).await;
            let bob = r.body["id"].as_str().unwrap().to_owned();
            let r = app.post("/v1/user-tokens", &key, json!({"user": alice, "ttl_seconds": 600})).await;
            let short_jwt = r.body["user_token"].as_str().unwrap().to_owned();
            let r = app.post("/v1/user-tokens", &key, json!({"user": bob})).await;
            let gone = r.body["id"].as_str().unwrap().to_owned();
            app.call(Method::DELETE, &format!("/v1/user-tokens/{gone}"), Some(&key), None).await;
            let (other_jwt, other_user) = app.claimr_token(&other_key, "carol").await;
            let other_token = jwt_ids(&other_jwt).unwrap().0;
            let mut tampered = short_jwt.clone().into_bytes();
            let n = tampered.len() - 5;
            tampered[n] = if tampered[n] == b'A' { b'B' } else { b'A' };

            let mut model = Model::default();
            for u in list_all(&app, "/v1/users", &key).await {
                let id = u["id"].as_str().unwrap().to_owned();
                for t in list_all(&app, &format!("/v1/users/{id}/tokens"), &key).await {
                    let tid = t["id"].as_str().unwrap().to_owned();
                    if t["status"] == "revoked" {
                        model.revoked.insert(tid.clone());
                    }
                    model.tokens.insert(tid, id.clone());
                }
                model.users.insert(id);
            }
            let fx = Fixture {
                tokens: model.tokens.keys().cloned().collect(),
                users: vec![alice, bob],
                jwts: vec![alice_jwt, short_jwt, other_jwt, String::from_utf8(tampered).unwrap()],
                key,
                other_key,
                other_user,
                other_token,
            };
            let other_before = json!([
                list_all(&app, "/v1/users", &fx.other_key).await,
                list_all(&app, &format!("/v1/users/{}/tokens", fx.other_user), &fx.other_key).await
            ]);
            let db = DbDump::open(&app).await;
            (app, fx, db, model, other_before)
        });
        Self { rt, app, fx, run: RefCell::new(Run { db, model }), other_before }
    }

    /// Sends `req` and checks the answer; on an accepted request, records what it explains.
    async fn step(&self, run: &mut Run, req: &Req) -> Result<(), String> {
        let Run { db, model } = run;
        let before = db.rows().await;
        let mut builder = Request::builder()
            .method(req.method.clone())
            .uri(&req.uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.fx.key));
        if let Some(ct) = req.content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        if let Some(k) = &req.idempotency_key {
            builder = builder.header("idempotency-key", k);
        }
        let Ok(request) = builder.body(Body::from(req.body.clone())) else {
            return Ok(()); // not a valid HTTP request (e.g. a bad header value): nothing to send
        };
        let r: Response = self.app.send(request).await;
        model.sent += 1;
        let status = r.status.as_u16();
        let fail = |why: &str| Err(format!("{why}\n  request: {req:?}\n  answer: {status} {}", r.body));
        if !(200..500).contains(&status) {
            return fail("a 5xx (or non-final) answer");
        }
        if status >= 400 {
            if r.content_type() != "application/problem+json" {
                return fail("a 4xx that is not application/problem+json");
            }
            let request_id = r.headers.get("x-request-id").and_then(|v| v.to_str().ok());
            if !r.body["code"].is_string() || r.body["status"] != status || r.body["request_id"].as_str() != request_id
            {
                return fail("a problem without code, status or the request id");
            }
            if db.rows().await != before {
                return fail("a rejected request changed the database");
            }
            return Ok(());
        }
        model.accepted += 1;
        if status == 204 {
            if !r.body.is_null() {
                return fail("a 204 with a body");
            }
        } else if !r.content_type().starts_with("application/json") {
            return fail("a 2xx that is not application/json");
        }
        let path = req.uri.split('?').next().unwrap_or("");
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let id_in_path = segments.get(2).and_then(|s| path_uuid(s));
        // A user object answered by POST or PATCH must follow the rules, whatever was sent.
        let writes_user = matches!(segments.as_slice(), ["v1", "users"] | ["v1", "users", _]);
        if writes_user && (req.method == Method::POST || req.method == Method::PATCH) {
            if let Some(why) = user_rule_break(&r.body) {
                return fail(&format!("an accepted request stored bad input: {why}"));
            }
        }
        match (&req.method, segments.as_slice()) {
            (&Method::POST, ["v1", "users"]) | (&Method::GET, ["token"]) => {
                let user = r.body["id"].as_str().or(r.body["user_id"].as_str()).unwrap_or_default().to_owned();
                let jwt = r.body["user_token"].as_str().or(r.body["token"].as_str()).unwrap_or_default();
                let Some((jti, sub)) = jwt_ids(jwt) else { return fail("no token in the answer") };
                if sub != user {
                    return fail("the token's sub is not the user");
                }
                model.users.insert(user.clone());
                model.tokens.insert(jti, user);
            }
            (&Method::POST, ["v1", "user-tokens"]) => {
                let Some((jti, sub)) = jwt_ids(r.body["user_token"].as_str().unwrap_or_default()) else {
                    return fail("no token in the answer");
                };
                if r.body["id"] != jti.as_str() {
                    return fail("id is not the token's jti");
                }
                model.tokens.insert(jti, sub);
            }
            (&Method::DELETE, ["v1", "users", _]) => {
                let Some(id) = id_in_path else { return fail("a DELETE without a user id succeeded") };
                model.deleted.insert(id);
            }
            (&Method::DELETE, ["v1", "user-tokens", _]) => {
                let Some(id) = id_in_path else { return fail("a DELETE without a token id succeeded") };
                model.revoked.insert(id);
            }
            (&Method::POST, ["v1", "users", _, "revoke-tokens"]) => {
                let Some(id) = id_in_path else { return fail("revoke-tokens without a user id succeeded") };
                model.bulk_revoked.insert(id);
            }
            _ => {}
        }
        Ok(())
    }

    /// Runs `CASES` cases of `strategy`, then checks the final state against the model.
    fn run(&self, group: &str, strategy: impl Strategy<Value = Req>) {
        let started = std::time::Instant::now();
        let config = Config { cases: CASES, failure_persistence: None, max_shrink_iters: 200, ..Config::default() };
        let mut runner = TestRunner::new(config);
        let result = runner.run(&strategy, |req| {
            let mut run = self.run.borrow_mut();
            self.rt.block_on(self.step(&mut run, &req)).map_err(TestCaseError::fail)
        });
        if let Err(e) = result {
            panic!("{group}: {e}");
        }
        let run = self.run.borrow();
        self.rt.block_on(self.check_final(&run.model));
        let model = &run.model;
        println!(
            "fuzz {group}: {} requests sent ({} accepted) in {:.2?}",
            model.sent,
            model.accepted,
            started.elapsed()
        );
    }

    /// The users and tokens that exist are exactly those the accepted requests explain.
    async fn check_final(&self, model: &Model) {
        let key = &self.fx.key;
        let mut users = BTreeSet::new();
        let mut tokens = BTreeMap::new();
        for u in list_all(&self.app, "/v1/users", key).await {
            let id = u["id"].as_str().unwrap().to_owned();
            assert_eq!(user_rule_break(&u), None, "{u}");
            for t in list_all(&self.app, &format!("/v1/users/{id}/tokens"), key).await {
                tokens.insert(
                    t["id"].as_str().unwrap().to_owned(),
                    (id.clone(), t["status"].as_str().unwrap().to_owned()),
                );
            }
            users.insert(id);
        }
        let expected_users: BTreeSet<String> = model.users.difference(&model.deleted).cloned().collect();
        assert_eq!(users, expected_users, "users: what exists vs what accepted requests explain");
        let expected_tokens: BTreeSet<&String> =
            model.tokens.iter().filter(|(_, user)| users.contains(*user)).map(|(t, _)| t).collect();
        assert_eq!(tokens.keys().collect::<BTreeSet<_>>(), expected_tokens, "tokens: what exists vs what is explained");
        for (token, (user, status)) in &tokens {
            assert_eq!(model.tokens.get(token), Some(user), "token {token} belongs to its issuing user");
            if status == "revoked" {
                assert!(
                    model.revoked.contains(token) || model.bulk_revoked.contains(user),
                    "token {token} was revoked without an accepted request revoking it"
                );
            }
        }
        let other_now = json!([
            list_all(&self.app, "/v1/users", &self.fx.other_key).await,
            list_all(&self.app, &format!("/v1/users/{}/tokens", self.fx.other_user), &self.fx.other_key).await
        ]);
        assert_eq!(other_now, self.other_before, "the other org is untouched");
    }
}

// ---------------------------------------------------------------- generators

/// Strings that hit the rules: blank, control characters, 255/256 bytes, multi-byte, ids, times.
fn arb_string() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter),
        3 => "[a-z0-9_.@ -]{1,12}",
        1 => prop::sample::select(vec![
            String::new(),
            " ".into(),
            "\t".into(),
            "\u{3000}".into(),
            "a\u{0}b".into(),
            "line\nbreak".into(),
            "\u{7f}".into(),
            "\u{85}".into(),
            "é".repeat(127),
            "é".repeat(128),
            "x".repeat(255),
            "x".repeat(256),
            "alice".into(),
            "bob".into(),
            "web".into(),
            "default".into(),
            "null".into(),
            "0".into(),
            "2020-01-01T00:00:00Z".into(),
            "2999-01-01T00:00:00Z".into(),
            "00000000-0000-0000-0000-000000000000".into(),
        ]),
    ]
    .boxed()
}

/// Arbitrary JSON: nested arrays and objects of strings (unicode, control characters), numbers,
/// booleans and null.
fn arb_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(arb_string(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// One of `values` as a JSON string.
fn one_of(values: &[String]) -> BoxedStrategy<Value> {
    prop::sample::select(values.to_vec()).prop_map(Value::String).boxed()
}

/// A plausible value for a field of the API, or anything at all.
fn field_value(field: &str, fx: &Fixture) -> BoxedStrategy<Value> {
    let anything = arb_json();
    let text = arb_string().prop_map(Value::String).boxed();
    let plausible: BoxedStrategy<Value> = match field {
        "account" | "platform" | "display_name" => text,
        "metadata" => prop_oneof![
            prop::collection::btree_map(arb_string(), arb_json(), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            (16_370usize..16_400).prop_map(|n| json!({"k": "x".repeat(n)})),
        ]
        .boxed(),
        "user" => {
            let mut ids = fx.users.clone();
            ids.extend(fx.tokens.iter().cloned());
            ids.push(fx.other_user.clone());
            ids.push("0190f0f0-0000-7000-8000-0000000000aa".into());
            ids.push(fx.users[0].to_uppercase());
            ids.push(fx.users[0].replace('-', ""));
            one_of(&ids)
        }
        "ttl_seconds" => prop_oneof![
            prop::sample::select(vec![0i64, -1, 59, 60, 3600, 31_536_000, 31_536_001, i64::MAX, i64::MIN])
                .prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (0.0f64..1e9).prop_map(Value::from),
        ]
        .boxed(),
        "permanent" => any::<bool>().prop_map(Value::Bool).boxed(),
        "issued_before" => {
            let now = tessera_api::services::now();
            let times: Vec<String> = [-86_400i64, -1, 0, 5, 3600, 86_400 * 365 * 100]
                .iter()
                .map(|s| {
                    (now + time::Duration::seconds(*s)).format(&time::format_description::well_known::Rfc3339).unwrap()
                })
                .collect();
            prop_oneof![one_of(&times), text].boxed()
        }
        "token" => prop_oneof![one_of(&fx.jwts), text].boxed(),
        _ => text,
    };
    prop_oneof![6 => plausible, 1 => anything].boxed()
}

/// JSON objects built from `fields` (each present or not) plus, sometimes, an unknown key.
fn shaped(fields: &[&str], fx: &Fixture) -> BoxedStrategy<Value> {
    let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = fields
        .iter()
        .map(|f| {
            let name = (*f).to_owned();
            let required = ["account", "user", "token"].contains(f);
            prop::option::weighted(if required { 0.95 } else { 0.6 }, field_value(f, fx))
                .prop_map(move |v| v.map(|v| (name.clone(), v)))
                .boxed()
        })
        .collect();
    let extra = prop::option::weighted(0.1, (arb_string(), arb_json()));
    (parts, extra)
        .prop_map(|(parts, extra)| {
            let mut map: serde_json::Map<String, Value> = parts.into_iter().flatten().collect();
            if let Some((k, v)) = extra {
                map.insert(k, v);
            }
            Value::Object(map)
        })
        .boxed()
}

/// A body: mostly JSON (shaped or arbitrary) as `application/json`; sometimes raw bytes, or
/// another content type.
fn body(fields: &[&str], fx: &Fixture) -> BoxedStrategy<(Option<&'static str>, Vec<u8>)> {
    let json_body = prop_oneof![4 => shaped(fields, fx), 1 => arb_json()].prop_map(|v| v.to_string().into_bytes());
    let content_type = prop::sample::select(vec![
        Some("application/json"),
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/json; charset=utf-8"),
    ]);
    prop_oneof![
        8 => json_body.clone().prop_map(|b| (Some("application/json"), b)),
        1 => (content_type, json_body),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| (Some("application/json"), b)),
    ]
    .boxed()
}

/// A path segment: a known id in some spelling, a random UUID, or arbitrary (percent-encoded)
/// text or bytes.
fn segment(fx: &Fixture) -> BoxedStrategy<String> {
    let mut ids = fx.users.clone();
    ids.extend(fx.tokens.iter().cloned());
    ids.push(fx.other_user.clone());
    ids.push(fx.other_token.clone());
    ids.push(fx.users[1].to_uppercase());
    ids.push(format!("%7B{}%7D", fx.users[1]));
    prop_oneof![
        3 => prop::sample::select(ids),
        1 => any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string()),
        2 => arb_string().prop_map(|s| percent(s.as_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..12).prop_map(|b| percent(&b)),
    ]
    .boxed()
}

/// A query string from `params` (and unknown names) with arbitrary values, or raw junk.
fn query(params: &'static [&'static str]) -> BoxedStrategy<String> {
    let name = prop_oneof![4 => prop::sample::select(params.to_vec()).prop_map(str::to_owned), 1 => arb_string()];
    let value = prop_oneof![
        3 => arb_string(),
        2 => prop::sample::select(vec!["0", "1", "-1", "200", "201", "50", "1.5", "4294967296", "active", "revoked", "expired", "zzz"]).prop_map(str::to_owned),
        1 => "[A-Za-z0-9_-]{0,40}",
    ];
    prop_oneof![
        6 => prop::collection::vec((name, value), 0..4).prop_map(|pairs| {
            pairs.iter().map(|(k, v)| format!("{}={}", percent(k.as_bytes()), percent(v.as_bytes()))).collect::<Vec<_>>().join("&")
        }),
        1 => "[a-z=&%+;0-9A-F]{0,24}",
    ]
    .boxed()
}

fn idempotency_key() -> BoxedStrategy<Option<String>> {
    prop::option::weighted(0.1, prop_oneof!["k[12]", "[ -~]{0,8}"]).boxed()
}

fn req(method: Method, uri: String, (content_type, body): (Option<&'static str>, Vec<u8>), key: Option<String>) -> Req {
    Req { method, uri, content_type, idempotency_key: key, body }
}

// ---------------------------------------------------------------- the tests, one per endpoint group

#[test]
fn fuzz_user_bodies() {
    let fuzz = Fuzz::new();
    let fx = fuzz.fx.clone();
    let upsert = (body(&["account", "platform", "display_name", "metadata"], &fx), idempotency_key())
        .prop_map(|(b, k)| req(Method::POST, "/v1/users".into(), b, k));
    let patch = (segment(&fx), body(&["display_name", "metadata"], &fx))
        .prop_map(|(s, b)| req(Method::PATCH, format!("/v1/users/{s}"), b, None));
    fuzz.run("POST /v1/users, PATCH /v1/users/{id}", prop_oneof![upsert, patch]);
}

#[test]
fn fuzz_token_bodies() {
    let fuzz = Fuzz::new();
    let fx = fuzz.fx.clone();
    let issue = (body(&["user", "ttl_seconds", "permanent"], &fx), idempotency_key())
        .prop_map(|(b, k)| req(Method::POST, "/v1/user-tokens".into(), b, k));
    let revoke_all = (segment(&fx), body(&["issued_before"], &fx))
        .prop_map(|(s, b)| req(Method::POST, format!("/v1/users/{s}/revoke-tokens"), b, None));
    let introspect = body(&["token"], &fx).prop_map(|b| req(Method::POST, "/v1/tokens/introspect".into(), b, None));
    fuzz.run("POST /v1/user-tokens, revoke-tokens, introspect", prop_oneof![issue, revoke_all, introspect]);
}

#[test]
fn fuzz_queries() {
    let fuzz = Fuzz::new();
    let fx = fuzz.fx.clone();
    let none = || (None, Vec::new());
    let claimr = query(&["account", "platform", "name"])
        .prop_map(move |q| req(Method::GET, format!("/token?{q}"), none(), None));
    let users = query(&["q", "platform", "limit", "cursor"])
        .prop_map(move |q| req(Method::GET, format!("/v1/users?{q}"), none(), None));
    let tokens = (segment(&fx), query(&["status", "limit", "cursor"]))
        .prop_map(move |(s, q)| req(Method::GET, format!("/v1/users/{s}/tokens?{q}"), none(), None));
    fuzz.run("GET /token, GET /v1/users, GET /v1/users/{id}/tokens", prop_oneof![claimr, users, tokens]);
}

#[test]
fn fuzz_paths() {
    let fuzz = Fuzz::new();
    let fx = fuzz.fx.clone();
    // No HEAD: its answers have no body to check.
    let methods = prop::sample::select(vec![
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ]);
    // Only paths under /v1/…: `/v1` and `/v1/` themselves answer a bare 404 (reported).
    let shapes = prop::sample::select(vec![
        "/v1/users/{}",
        "/v1/users/{}/tokens",
        "/v1/users/{}/revoke-tokens",
        "/v1/user-tokens/{}",
        "/v1/x{}",
        "/v1/{}/tokens",
        "/v1/users/{}/{}",
    ]);
    let strategy =
        (methods, shapes, segment(&fx), segment(&fx), body(&["display_name", "metadata", "issued_before"], &fx))
            .prop_map(|(m, shape, a, b, body)| {
                let uri = shape.replacen("{}", &a, 1).replacen("{}", &b, 1);
                // Only PATCH and POST carry a body; the others send none.
                let body = if m == Method::PATCH || m == Method::POST { body } else { (None, Vec::new()) };
                req(m, uri, body, None)
            });
    fuzz.run("every path with arbitrary segments and methods", strategy);
}
