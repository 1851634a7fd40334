//! `GET /metrics` (issue 14, "Metrics"): request counts by route template and status, group
//! commit sizes, cache hits, pool gauges and sign-in throttling, as Prometheus text.
//!
//! The recorder is process-global and shared by every test of this binary (other tests' requests
//! are counted too), so each assertion compares a counter before and after its own calls: a
//! counter only grows.

use axum::http::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::json;
use tessera_api::{
    metrics::{self, MetricsState},
    services::{
        setup,
        sign_in::{self, SignInError, SignInGuard, EMAIL_FAILURE_BURST},
    },
};

use crate::helpers::{call_on, TestApp};

/// `app`'s router with `/metrics` merged in, as `tessera serve` does without `--metrics-listen`.
fn with_metrics(app: &TestApp) -> axum::Router {
    let state = MetricsState { handle: metrics::install(), store: app.state.store.clone() };
    tessera_api::http_layers(tessera_api::router(app.state.clone()).merge(metrics::router(state)))
}

/// The text of `GET /metrics`.
async fn scrape(router: &axum::Router) -> String {
    let r = call_on(router, Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let content_type = r.content_type().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    r.body.as_str().expect("a text body").to_owned()
}

/// The sum of the samples named `name` (a metric, or a histogram's `_count`) whose labels
/// include every `labels` pair; 0 when there is none.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(series, _)| {
            let (n, rest) = series.split_once('{').unwrap_or((series, ""));
            n == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, v)| v.parse::<f64>().unwrap())
        .sum()
}

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status() {
    let app = TestApp::new().await;
    let router = with_metrics(&app);
    let key = app.with_api_key(&app.with_org("metrics-routes").await).await;
    let (_, user_id) = app.claimr_token(&key, "metrics-1").await;
    let ok = [("method", "GET"), ("route", "/v1/users/{id}"), ("status", "200")];
    let missing = [("method", "GET"), ("route", "/v1/users/{id}"), ("status", "404")];
    let before = scrape(&router).await;
    for _ in 0..3 {
        assert_eq!(call_on(&router, Method::GET, &format!("/v1/users/{user_id}"), Some(&key), None).await.status, 200);
    }
    let unknown = uuid::Uuid::now_v7();
    assert_eq!(call_on(&router, Method::GET, &format!("/v1/users/{unknown}"), Some(&key), None).await.status, 404);
    assert_eq!(call_on(&router, Method::GET, "/no/such/page", None, None).await.status, 404);
    let after = scrape(&router).await;

    let counted = |text: &str, labels: &[(&str, &str)]| value(text, "http_requests_total", labels);
    assert!(counted(&after, &ok) >= counted(&before, &ok) + 3.0, "{after}");
    assert!(counted(&after, &missing) >= counted(&before, &missing) + 1.0, "{after}");
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert!(counted(&after, &unmatched) >= counted(&before, &unmatched) + 1.0, "{after}");
    assert!(!after.contains(&user_id), "a raw path (with the user's id) became a label: {after}");
    let latency = [("method", "GET"), ("route", "/v1/users/{id}")];
    assert!(
        value(&after, "http_request_duration_seconds_count", &latency)
            >= value(&before, "http_request_duration_seconds_count", &latency) + 4.0,
        "{after}"
    );
    assert!(after.contains("http_request_duration_seconds_bucket{"), "a histogram, not a summary: {after}");
}

#[tokio::test]
async fn group_commits_cache_hits_and_the_pool_are_measured() {
    let app = TestApp::new().await;
    let router = with_metrics(&app);
    let key = app.with_api_key(&app.with_org("metrics-commit").await).await;
    let before = scrape(&router).await;
    let (token, _) = app.claimr_token(&key, "metrics-2").await;
    let r = call_on(&router, Method::POST, "/v1/tokens/introspect", Some(&key), Some(json!({ "token": token }))).await;
    assert_eq!(r.body["active"], true);
    let middle = scrape(&router).await;
    let r = call_on(&router, Method::POST, "/v1/tokens/introspect", Some(&key), Some(json!({ "token": token }))).await;
    assert_eq!(r.body["active"], true);
    let after = scrape(&router).await;

    let batches = |text: &str| value(text, "token_writer_batch_rows_count", &[]);
    assert!(batches(&middle) >= batches(&before) + 1.0, "{middle}");
    assert!(value(&middle, "token_writer_commit_seconds_count", &[]) >= 1.0, "{middle}");
    for cache in ["token_rows", "api_keys"] {
        let hits = |text: &str| value(text, "cache_requests_total", &[("cache", cache), ("result", "hit")]);
        assert!(hits(&after) >= hits(&middle) + 1.0, "the repeated introspection hit the {cache} cache: {after}");
    }
    let misses = |text: &str| value(text, "cache_requests_total", &[("cache", "token_rows"), ("result", "miss")]);
    assert!(misses(&middle) >= misses(&before) + 1.0, "the first introspection read the row: {middle}");
    for state in ["in_use", "idle", "max"] {
        assert!(after.contains(&format!("db_pool_connections{{state=\"{state}\"}}")), "{state}: {after}");
    }
    assert!(value(&after, "db_pool_connections", &[("state", "max")]) >= 1.0, "{after}");
}

#[tokio::test]
async fn throttled_sign_ins_and_refused_api_keys_are_counted() {
    let app = TestApp::new().await;
    let router = with_metrics(&app);
    setup::first_run(
        &app.state,
        "Metrics Inc.",
        "metrics-sign-in",
        "owner@metrics.example",
        pw("a long password"),
        &crate::helpers::audit(),
    )
    .await
    .unwrap();
    let before = scrape(&router).await;
    let guard = SignInGuard::new();
    let from = Some("203.0.113.9".parse().unwrap());
    let mut throttled = 0;
    for _ in 0..=EMAIL_FAILURE_BURST {
        match sign_in::sign_in(
            &app.state,
            &guard,
            "",
            "owner@metrics.example",
            pw("wrong"),
            &tessera_api::extract::RequestInfo::from(from),
        )
        .await
        {
            Err(SignInError::WrongCredentials) => {}
            Err(SignInError::TooManyAttempts { .. }) => throttled += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(throttled >= 1, "the last attempt is throttled");
    let unknown_key = "not-a-key";
    assert_eq!(call_on(&router, Method::GET, "/v1/users", Some(unknown_key), None).await.status, 401);
    let after = scrape(&router).await;

    let refused = |text: &str| value(text, "sign_in_refused_total", &[("reason", "throttled")]);
    assert!(refused(&after) >= refused(&before) + f64::from(throttled), "{after}");
    let malformed = |text: &str| value(text, "api_key_auth_refused_total", &[("reason", "malformed")]);
    assert!(malformed(&after) >= malformed(&before) + 1.0, "{after}");
}

fn pw(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}
