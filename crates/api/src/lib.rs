//! Tessera's REST API: the axum router, the extractors that authenticate API keys and scope every
//! call to one org, problem-details errors (RFC 9457), and the services that hold the business
//! rules (shared with the dashboard's server functions and the CLI).

pub mod client_addr;
pub mod crypto;
pub mod error;
pub mod extract;
pub mod group_commit;
pub mod idempotency;
pub mod member_auth;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod security_headers;
pub mod services;
pub mod state;
pub mod throttle;

use axum::{
    extract::{DefaultBodyLimit, Request},
    http::header,
    middleware,
    routing::any,
    Router,
};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    sensitive_headers::SetSensitiveRequestHeadersLayer,
    trace::TraceLayer,
};

pub use error::ApiError;
pub use state::{ApiConfig, AppState};

/// Largest accepted request body: 64 KiB. Larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The OpenAPI 3.1 document of the REST API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = routes::routes().into_openapi();
    openapi::finish(&mut doc);
    doc
}

/// The REST API with its error middleware and body limit, plus `/openapi.json` and the Swagger UI
/// at `/docs`, ready to merge with the dashboard.
pub fn router(state: AppState) -> Router {
    let (api, mut doc) = routes::routes().split_for_parts();
    openapi::finish(&mut doc);
    api.route("/v1", any(error::route_not_found))
        .route("/v1/", any(error::route_not_found))
        .route("/v1/{*rest}", any(error::route_not_found))
        // One `layer` call for the three: axum wraps every route in a boxed service per call,
        // and a request clones each box it passes through.
        .layer(
            tower::ServiceBuilder::new()
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
                .layer(middleware::from_fn(error::problem_details))
                .layer(middleware::from_fn_with_state(state.clone(), idempotency::idempotency)),
        )
        .with_state(state)
        .merge(utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", doc))
}

/// Bounds how long a request of `router` may take, from its head's arrival to its answer
/// (reading the body included): past `timeout` its handler is cancelled (dropped) and the answer
/// is 503 `request_timeout` as problem details ([`error::request_deadline`]). Apply it to the
/// whole app inside [`http_layers`], so the answer carries the request id. Keep `timeout` below
/// [`idempotency::IN_FLIGHT_LEASE`] (60 s): a cancelled request leaves its idempotency claim
/// in flight, and a retry may take the claim over only once its handler is surely gone.
pub fn request_timeout(router: Router, timeout: std::time::Duration) -> Router {
    router.layer(middleware::from_fn_with_state(timeout, error::request_deadline))
}

/// Wraps the whole app (API and dashboard) in the HTTP layers every request goes through:
/// `Authorization` and cookies marked sensitive (never logged), an `x-request-id` (a UUID, or the
/// caller's) set on the request and echoed on the response, and a tracing span per request with
/// `method`, `path`, `request_id` and, once authenticated, `org_id` (and `member_id` for a
/// dashboard member), the caching and browser-protection headers of [`security_headers`], and
/// the request counter and latency histogram of [`metrics::track`] (outside a
/// [`request_timeout`] applied before, so timed-out requests are counted too).
pub fn http_layers(router: Router) -> Router {
    // Only the metrics need the matched route, so only they are a layer of every route; the rest
    // wrap the router once, as one service. (Each `Router::layer` call boxes every route again,
    // and a request clones every box on its way: with the eight layers applied one by one that
    // was 17% of an introspection's instructions, measured with callgrind on 2026-12-01.)
    let routed = router.layer(middleware::from_fn(metrics::track));
    let app = tower::ServiceBuilder::new()
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
                request_id = %request_id,
                org_id = tracing::field::Empty,
                member_id = tracing::field::Empty,
            )
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(middleware::from_fn(security_headers::security_headers))
        .service(routed);
    Router::new().fallback_service(app)
}
