//! `GET /metrics`: counters, gauges and histograms in the Prometheus text exposition format
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format>), recorded
//! with the `metrics` crate's macros and rendered by `metrics-exporter-prometheus`.
//!
//! The recorder is process-global ([`install`]); until one is installed every macro is a no-op.
//! What is recorded (README, "Metrics", lists the same):
//! - [`HTTP_REQUESTS`] (counter) and [`HTTP_REQUEST_DURATION`] (histogram, seconds), by
//!   `method` and `route` (and `status` for the counter), recorded by [`track`]. The route is the
//!   template axum matched (`/v1/users/{id}`), or `unmatched`, never the raw path: a label value
//!   per id would grow without bound.
//! - [`TOKEN_WRITER_BATCH_ROWS`] and [`TOKEN_WRITER_COMMIT_SECONDS`] (histograms): each group
//!   commit ([`crate::group_commit`]).
//! - [`CACHE_REQUESTS`] (counter) by `cache` (`api_keys`, `token_rows`) and `result` (`hit`,
//!   `miss`: a miss reads the database).
//! - [`DB_POOL_CONNECTIONS`] (gauge) by `state` (`in_use`, `idle`, `max`), sampled at each scrape
//!   ([`tessera_core::Store::pool_stats`]). sqlx does not expose how many tasks wait for a
//!   connection, so there is no gauge for them.
//! - [`SIGN_IN_REFUSED`] (counter) by `reason` (`throttled`, `busy`) and [`API_KEY_AUTH_REFUSED`]
//!   (counter) by `reason` (`throttled`, `malformed`, `unknown`, `revoked`, `expired`).
//!
//! `/metrics` is not part of REST API v1 and not in `/openapi.json`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, Method},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tessera_core::Store;

/// Counter of answered HTTP requests, by `method`, `route` and `status`.
pub const HTTP_REQUESTS: &str = "http_requests_total";
/// Histogram of the time from a request's arrival at the router to its answer's head, in
/// seconds, by `method` and `route`.
pub const HTTP_REQUEST_DURATION: &str = "http_request_duration_seconds";
/// Histogram of the rows per group commit of token rows.
pub const TOKEN_WRITER_BATCH_ROWS: &str = "token_writer_batch_rows";
/// Histogram of the time one group commit takes, in seconds.
pub const TOKEN_WRITER_COMMIT_SECONDS: &str = "token_writer_commit_seconds";
/// Counter of cache lookups, by `cache` and `result`.
pub const CACHE_REQUESTS: &str = "cache_requests_total";
/// Gauge of the database pool's connections, by `state`.
pub const DB_POOL_CONNECTIONS: &str = "db_pool_connections";
/// Counter of sign-ins refused before any password was verified, by `reason`.
pub const SIGN_IN_REFUSED: &str = "sign_in_refused_total";
/// Counter of refused API keys, by `reason`.
pub const API_KEY_AUTH_REFUSED: &str = "api_key_auth_refused_total";

/// Bucket bounds of [`HTTP_REQUEST_DURATION`], in seconds: 0.5 ms to 10 s.
pub const DURATION_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Bucket bounds of [`TOKEN_WRITER_BATCH_ROWS`]: 1 to [`crate::group_commit::MAX_BATCH`] (512).
pub const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
/// Bucket bounds of [`TOKEN_WRITER_COMMIT_SECONDS`], in seconds: 0.1 ms to 5 s.
pub const COMMIT_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// The Prometheus recorder of this process: installed as the global `metrics` recorder on the
/// first call, the same handle on every later one (so tests in one process share it).
///
/// # Panics
/// When another global `metrics` recorder was installed first.
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                (HTTP_REQUEST_DURATION, DURATION_BUCKETS),
                (TOKEN_WRITER_BATCH_ROWS, BATCH_BUCKETS),
                (TOKEN_WRITER_COMMIT_SECONDS, COMMIT_BUCKETS),
            ];
            let handle = buckets
                .into_iter()
                .try_fold(PrometheusBuilder::new(), |builder, (name, bounds)| {
                    builder.set_buckets_for_metric(Matcher::Full(name.to_owned()), bounds)
                })
                .and_then(PrometheusBuilder::install_recorder)
                .expect("the Prometheus recorder is the first global metrics recorder");
            describe();
            INSTALLED.store(true, Ordering::Relaxed);
            handle
        })
        .clone()
}

/// The `# HELP` lines.
fn describe() {
    use metrics::Unit;
    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by method, route template and status.");
    metrics::describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time from a request's arrival to its answer's head, by method and route template."
    );
    metrics::describe_histogram!(TOKEN_WRITER_BATCH_ROWS, Unit::Count, "Token rows per group commit.");
    metrics::describe_histogram!(TOKEN_WRITER_COMMIT_SECONDS, Unit::Seconds, "Duration of one group commit.");
    metrics::describe_counter!(CACHE_REQUESTS, "Cache lookups by cache (api_keys, token_rows) and result (hit, miss).");
    metrics::describe_gauge!(DB_POOL_CONNECTIONS, "Database pool connections by state (in_use, idle, max).");
    metrics::describe_counter!(SIGN_IN_REFUSED, "Sign-ins refused before verification, by reason (throttled, busy).");
    metrics::describe_counter!(API_KEY_AUTH_REFUSED, "API keys refused, by reason.");
}

/// Folds the samples the histograms buffered since the last scrape into their buckets, so that
/// memory does not grow when nobody scrapes: the server calls it every few seconds.
pub fn upkeep(handle: &PrometheusHandle) {
    handle.run_upkeep();
}

/// What the `/metrics` route needs: the recorder's handle and the store whose pool it samples.
#[derive(Clone)]
pub struct MetricsState {
    /// The global recorder's handle ([`install`]).
    pub handle: PrometheusHandle,
    /// The store whose [`Store::pool_stats`] become [`DB_POOL_CONNECTIONS`].
    pub store: Arc<dyn Store>,
}

/// `GET /metrics` alone, to merge into an app or to serve on a listener of its own.
pub fn router(state: MetricsState) -> Router {
    Router::new().route("/metrics", get(render)).with_state(state)
}

/// The current values in the text exposition format, version 0.0.4.
async fn render(State(state): State<MetricsState>) -> Response {
    if let Some(pool) = state.store.pool_stats() {
        metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(pool.in_use));
        metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(pool.idle));
        metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "max").set(f64::from(pool.max));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.handle.render()).into_response()
}

/// Middleware recording [`HTTP_REQUESTS`] and [`HTTP_REQUEST_DURATION`] for every request. Apply
/// it with `Router::layer` (it then runs after routing, where [`MatchedPath`] is known) outside
/// the request timeout, so that a timed-out request is counted with its 503.
pub async fn track(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    if INSTALLED.load(Ordering::Relaxed) {
        let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
        let (counter, histogram) = request_handles(&method, route, response.status().as_u16());
        counter.increment(1);
        histogram.record(start.elapsed().as_secs_f64());
    }
    response
}

/// Which cache [`cache_lookup`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cache {
    /// API keys by hash (`cache="api_keys"`).
    ApiKeys,
    /// Token rows by id (`cache="token_rows"`).
    TokenRows,
}

/// Counts one lookup of `cache` in [`CACHE_REQUESTS`], a `hit` or a `miss`, through handles
/// registered once (this runs on every authenticated request and every introspection).
pub fn cache_lookup(cache: Cache, hit: bool) {
    static HANDLES: OnceLock<[Counter; 4]> = OnceLock::new();
    if !INSTALLED.load(Ordering::Relaxed) {
        return;
    }
    let handles = HANDLES.get_or_init(|| {
        [("api_keys", "hit"), ("api_keys", "miss"), ("token_rows", "hit"), ("token_rows", "miss")]
            .map(|(cache, result)| metrics::counter!(CACHE_REQUESTS, "cache" => cache, "result" => result))
    });
    let index = match cache {
        Cache::ApiKeys => 0,
        Cache::TokenRows => 2,
    } + usize::from(!hit);
    handles[index].increment(1);
}

/// Set by [`install`]: before it there is no recorder, and handles taken then would stay no-ops.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// [`HTTP_REQUESTS`]' and [`HTTP_REQUEST_DURATION`]'s handles per route template, then per
/// method and status: made once (registering a metric builds its key and looks it up in the
/// recorder's registry, twice per request before this cache; callgrind put it at about 5% of an
/// introspection on 2026-12-01). Bounded: the routes are the app's, the methods and statuses
/// are bounded labels.
type RequestHandles = HashMap<Box<str>, HashMap<(&'static str, u16), (Counter, Histogram)>>;

fn request_handles(method: &Method, route: &str, status: u16) -> (Counter, Histogram) {
    static HANDLES: OnceLock<RwLock<RequestHandles>> = OnceLock::new();
    let handles = HANDLES.get_or_init(RwLock::default);
    let method = method_label(method);
    let known = handles
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(route)
        .and_then(|by_status| by_status.get(&(method, status)).cloned());
    if let Some(known) = known {
        return known;
    }
    let mut handles = handles.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    let by_status = handles.entry(route.into()).or_default();
    let route: &'static str = intern(route);
    by_status
        .entry((method, status))
        .or_insert_with(|| {
            let status = status_label(status);
            (
                metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status),
                metrics::histogram!(HTTP_REQUEST_DURATION, "method" => method, "route" => route),
            )
        })
        .clone()
}

/// The method as a static label; any other than the standard ones is `other` (bounded labels).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// The status code as a static label, without an allocation per request.
fn status_label(status: u16) -> &'static str {
    static LABELS: OnceLock<Vec<String>> = OnceLock::new();
    let labels = LABELS.get_or_init(|| (0..1000).map(|code| format!("{code:03}")).collect());
    labels.get(usize::from(status)).map_or("other", String::as_str)
}

/// A route template as a `'static` label. The templates are the app's routes, a fixed, small
/// set, so each is leaked once and reused by every later request.
fn intern(route: &str) -> &'static str {
    static ROUTES: OnceLock<RwLock<HashSet<&'static str>>> = OnceLock::new();
    let routes = ROUTES.get_or_init(RwLock::default);
    if let Some(known) = routes.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(route) {
        return known;
    }
    let mut routes = routes.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = routes.get(route) {
        return known;
    }
    let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
    routes.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_bounded_and_static() {
        assert_eq!(super::status_label(200), "200");
        assert_eq!(super::status_label(503), "503");
        assert_eq!(super::status_label(1000), "other");
        assert_eq!(super::method_label(&axum::http::Method::from_bytes(b"BREW").unwrap()), "other");
        let a = super::intern("/v1/users/{id}");
        assert!(std::ptr::eq(a, super::intern(&String::from("/v1/users/{id}"))), "interned once");
    }
}
