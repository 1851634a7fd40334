//! A PostgreSQL outage, on a PostgreSQL server of this test's own (`tessera_testdb::PgServer`:
//! `initdb` in a temporary folder, its own port), which it stops and starts again while two
//! instances of the API (two stores, two routers on one database) keep running:
//!
//! - during the outage every call that needs the database answers 503 `storage_unavailable`
//!   (problem+json, `Retry-After`) and `/readyz` 503 `not_ready`, each within [`ANSWER_BOUND`]
//!   (none waits for sqlx's default 30 s acquire timeout);
//! - once the server is back, every call succeeds within [`RECOVERY_BOUND`], with no restart of
//!   either instance;
//! - revocation notices resume: a token revoked through the second instance after the outage is
//!   inactive at once on the first, although the first trusts what it read for an hour.
//!
//! Runs with the machine's PostgreSQL binaries (`/usr/lib/postgresql/15/bin`); skipped, with a
//! message, only where they are not installed.

use std::time::{Duration, Instant};

use axum::http::{header, Method, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tessera_api::{
    crypto::{KeyRing, MasterKey},
    services, ApiConfig, AppState,
};
use tessera_testdb::{PgServer, POSTGRES_BIN_VAR};

use crate::helpers::{call_on, Response, PUBLIC_URL};

/// The longest a call may take to answer while the database is down: a correctness bound for
/// "does not hang" (the pool gives up after its 3 s acquire timeout), not a speed target.
const ANSWER_BOUND: Duration = Duration::from_secs(5);

/// By when, after the server accepts connections again, every call must succeed.
const RECOVERY_BOUND: Duration = Duration::from_secs(2);

/// How long the first instance trusts what it read: an hour, so that within this test only a
/// revocation notice can make it read a token's row again.
const LONG_TTL: Duration = Duration::from_secs(3600);

/// The longest wait for a revocation notice (it usually takes a millisecond); only keeps a broken
/// build from hanging.
const NOTICE_DEADLINE: Duration = Duration::from_secs(2);

/// One instance of the API: its state (store, caches, token writer, notice listener) and router.
struct Instance {
    state: AppState,
    router: Router,
}

impl Instance {
    async fn open(url: &str, master: &MasterKey, cache_ttl: Duration) -> Self {
        let store = tessera_store::open(url).await.unwrap();
        let config = ApiConfig { cache_ttl, ..ApiConfig::new(PUBLIC_URL) };
        let state = AppState::new(store, KeyRing::new(MasterKey::from_base64(&master.to_base64()).unwrap()), config);
        let router = tessera_api::http_layers(tessera_api::router(state.clone()));
        Self { state, router }
    }

    async fn call(&self, method: Method, uri: &str, key: Option<&str>, body: Option<Value>) -> Response {
        call_on(&self.router, method, uri, key, body).await
    }
}

/// One call the outage is checked with.
#[derive(Clone)]
struct Call {
    what: &'static str,
    method: Method,
    uri: String,
    body: Option<Value>,
    /// Whether it goes to the second instance.
    on_b: bool,
}

/// Runs every call at once; returns each with its answer and how long that took.
async fn run_all(a: &Instance, b: &Instance, key: &str, calls: &[Call]) -> Vec<(Call, Response, Duration)> {
    futures_util::future::join_all(calls.iter().map(|call| async move {
        let instance = if call.on_b { b } else { a };
        let started = Instant::now();
        let r = instance.call(call.method.clone(), &call.uri, Some(key), call.body.clone()).await;
        (call.clone(), r, started.elapsed())
    }))
    .await
}

fn readyz(on_b: bool) -> Call {
    Call { what: "GET /readyz", method: Method::GET, uri: "/readyz".into(), body: None, on_b }
}

/// Runs `f` (a blocking `pg_ctl` command) off the runtime's workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_outage_answers_503_quickly_and_everything_recovers_without_a_restart() {
    let Some(server) = blocking(PgServer::start_new).await else {
        eprintln!(
            "\n!!! PostgreSQL's server binaries (initdb, pg_ctl) are not installed: the outage test is SKIPPED !!!\n\
             !!! install postgresql-15, or name their folder in {POSTGRES_BIN_VAR} !!!\n"
        );
        return;
    };
    let server = std::sync::Arc::new(server.unwrap_or_else(|e| panic!("start a PostgreSQL server of our own: {e}")));
    let url = server.url("postgres");
    let master = MasterKey::generate().unwrap();
    let a = Instance::open(&url, &master, LONG_TTL).await;
    let b = Instance::open(&url, &master, tessera_api::services::api_keys::KEY_CACHE_TTL).await;

    let org = services::orgs::create(&a.state, "acme", "Acme Inc.", &crate::helpers::audit()).await.unwrap();
    let key = services::api_keys::create(&a.state, org.id, "test", None, None, &crate::helpers::audit())
        .await
        .unwrap()
        .secret
        .expose()
        .to_owned();
    let r = a.call(Method::POST, "/v1/users", Some(&key), Some(json!({"account": "ada", "platform": "web"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let user_id = r.body["id"].as_str().unwrap().to_owned();

    let calls = vec![
        readyz(false),
        readyz(true),
        Call {
            what: "GET /token (claimr)",
            method: Method::GET,
            uri: "/token?account=ada&platform=web".into(),
            body: None,
            on_b: false,
        },
        Call {
            what: "POST /v1/user-tokens (the token writer)",
            method: Method::POST,
            uri: "/v1/user-tokens".into(),
            body: Some(json!({"user": user_id, "ttl_seconds": 600})),
            on_b: false,
        },
        Call {
            what: "POST /v1/users",
            method: Method::POST,
            uri: "/v1/users".into(),
            body: Some(json!({"account": "bob", "platform": "web"})),
            on_b: true,
        },
        Call { what: "GET /v1/users", method: Method::GET, uri: "/v1/users".into(), body: None, on_b: true },
    ];

    for mode in ["fast", "immediate"] {
        // A token, and A's introspection of it: A now trusts its row for an hour.
        let body = json!({"user": user_id, "ttl_seconds": 600});
        let r = a.call(Method::POST, "/v1/user-tokens", Some(&key), Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let (token, jti) =
            (r.body["user_token"].as_str().unwrap().to_owned(), r.body["id"].as_str().unwrap().to_owned());
        let introspect = Call {
            what: "POST /v1/tokens/introspect",
            method: Method::POST,
            uri: "/v1/tokens/introspect".into(),
            body: Some(json!({"token": token})),
            on_b: false,
        };
        let r = a.call(Method::POST, &introspect.uri, Some(&key), introspect.body.clone()).await;
        assert_eq!(r.body["active"], true, "{}", r.body);
        let r = a.call(Method::GET, "/readyz", None, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["revocation_notices"], "listening", "{}", r.body);
        assert_eq!(r.body["token_writer"], "ok", "{}", r.body);

        // The outage.
        let stopper = server.clone();
        blocking(move || stopper.stop(mode)).await.unwrap();
        let mut during = calls.clone();
        during.push(introspect.clone());
        let mut wrong = Vec::new();
        for (call, r, took) in run_all(&a, &b, &key, &during).await {
            let on = if call.on_b { "B" } else { "A" };
            let what = format!("{} on {on} during the outage (pg_ctl stop -m {mode})", call.what);
            eprintln!("{what}: {} {} after {took:?}", r.status, r.body["code"]);
            let code = if call.uri == "/readyz" { "not_ready" } else { "storage_unavailable" };
            let retry_after = r.headers.get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
            let retry_after_ok =
                retry_after.as_deref().and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| (1..=60).contains(&s));
            if took >= ANSWER_BOUND {
                wrong.push(format!("{what}: took {took:?}, more than {ANSWER_BOUND:?}"));
            }
            if r.status != StatusCode::SERVICE_UNAVAILABLE
                || r.content_type() != "application/problem+json"
                || r.body["code"] != code
            {
                wrong.push(format!(
                    "{what}: {} {} {}, not 503 {code} problem+json",
                    r.status,
                    r.content_type(),
                    r.body
                ));
            }
            if !retry_after_ok {
                wrong.push(format!("{what}: Retry-After {retry_after:?}, not a number of seconds"));
            }
            if call.uri == "/readyz"
                && (r.body["database"] != "unavailable"
                    || r.body["token_writer"] != "ok"
                    || r.body["revocation_notices"] == "listening")
            {
                wrong.push(format!(
                    "{what}: readiness should report the database down, the writer ok and notices not listening: {}",
                    r.body
                ));
            }
        }
        assert!(wrong.is_empty(), "during the outage:\n{}", wrong.join("\n"));

        // The server is back: every call succeeds within RECOVERY_BOUND, without a restart.
        let starter = server.clone();
        blocking(move || starter.start()).await.unwrap();
        let back = Instant::now();
        let mut after = calls.clone();
        after.push(introspect.clone());
        loop {
            let results = run_all(&a, &b, &key, &after).await;
            let failing: Vec<String> = results
                .iter()
                .filter(|(call, r, _)| {
                    !r.status.is_success() || (call.uri == "/readyz" && r.body["revocation_notices"] != "listening")
                })
                .map(|(call, r, took)| {
                    format!(
                        "{} on {}: {} {} ({took:?})",
                        call.what,
                        if call.on_b { "B" } else { "A" },
                        r.status,
                        r.body
                    )
                })
                .collect();
            if failing.is_empty() {
                eprintln!(
                    "after pg_ctl stop -m {mode}: every call succeeds {:?} after the server is back",
                    back.elapsed()
                );
                break;
            }
            assert!(
                back.elapsed() < RECOVERY_BOUND,
                "not every call succeeds {RECOVERY_BOUND:?} after the server is back (stop -m {mode}):\n{}",
                failing.join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // And they keep succeeding.
        for (call, r, _) in run_all(&a, &b, &key, &after).await {
            assert!(r.status.is_success(), "{} again after the outage: {} {}", call.what, r.status, r.body);
        }

        // Revocation notices resume: A read the token's row after the outage and would trust it for
        // an hour; revoked through B, A's very next introspections see it once the notice is in.
        let r = a.call(Method::POST, &introspect.uri, Some(&key), introspect.body.clone()).await;
        assert_eq!(r.body["active"], true, "{}", r.body);
        let r = b.call(Method::DELETE, &format!("/v1/user-tokens/{jti}"), Some(&key), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let revoked = Instant::now();
        loop {
            let r = a.call(Method::POST, &introspect.uri, Some(&key), introspect.body.clone()).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            if r.body["active"] == false {
                eprintln!("after pg_ctl stop -m {mode}: A sees B's revocation after {:?}", revoked.elapsed());
                break;
            }
            assert!(
                revoked.elapsed() < NOTICE_DEADLINE,
                "A still answers active {NOTICE_DEADLINE:?} after B revoked the token (stop -m {mode}): notices did not resume"
            );
            tokio::task::yield_now().await;
        }
    }
}
