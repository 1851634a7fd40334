//! Problem details (RFC 9457) for every error the REST API returns.
//!
//! Handlers return [`ApiError`]. Its `IntoResponse` sets the status and stores a [`Problem`] in
//! the response extensions; the [`problem_details`] middleware then writes the
//! `application/problem+json` body with the request's `request_id`, and logs the cause of 5xx
//! responses once. 5xx bodies are generic: causes go to logs only, never to clients.

use axum::{
    extract::{
        rejection::{JsonRejection, PathRejection, QueryRejection},
        Request,
    },
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use tessera_core::{Entity, Error, FieldError};

/// The content type of error bodies (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The `Retry-After` (RFC 9110 §10.2.3) of every 503: 2 seconds. The database is unreachable or
/// restarting; a call refused now answers again about that soon after it is back.
pub const RETRY_AFTER_SECONDS: u32 = 2;

/// Every error a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A domain or storage error.
    #[error(transparent)]
    Domain(#[from] Error),
    /// Authentication failed (401 with `WWW-Authenticate: Bearer`, RFC 6750 §3).
    #[error("unauthorized: {detail}")]
    Unauthorized {
        /// Stable code, e.g. `"api_key_missing"`.
        code: &'static str,
        /// Human-readable reason (never contains the credential).
        detail: &'static str,
    },
    /// The request could not be read (bad JSON, wrong content type, bad query or path, too large).
    #[error("bad request: {detail}")]
    BadRequest {
        /// HTTP status: 400, 413, 415 or 422.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// Human-readable reason.
        detail: String,
        /// Offending fields, when known.
        errors: Vec<FieldError>,
    },
    /// Too many failed attempts from the client recently (429 with `Retry-After`, RFC 6585 §4).
    #[error("too many requests: {detail}")]
    TooManyRequests {
        /// Stable code, e.g. `"too_many_failed_authentications"`.
        code: &'static str,
        /// Human-readable reason.
        detail: String,
        /// Seconds until the client may try again (the `Retry-After` header, RFC 9110 §10.2.3).
        retry_after_seconds: u64,
    },
    /// No such route.
    #[error("route not found")]
    RouteNotFound,
    /// The request was not answered within the request timeout ([`crate::request_timeout`]):
    /// 503, the server being unable to handle it now (RFC 9110 §15.6.4). Not 408, which says
    /// the client did not finish sending its request in time (§15.5.9).
    #[error("the request was not answered within the request timeout")]
    RequestTimeout,
    /// `/readyz`: this instance cannot serve (503 `not_ready`). `checks` (what each part
    /// reported: `database`, `token_writer`, …) become extension members of the problem
    /// (RFC 9457 §3.2).
    #[error("not ready: {detail}")]
    NotReady {
        /// Which part is not ready.
        detail: String,
        /// Each part's state, as in the 200 answer.
        checks: serde_json::Map<String, serde_json::Value>,
    },
}

/// The body fields of a problem, kept in response extensions until the middleware renders them.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// Problem type URI; `about:blank` (the title is then the status phrase, RFC 9457 §4.2.1).
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// Short summary: the HTTP reason phrase.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence.
    pub detail: String,
    /// Stable machine-readable code, e.g. `"user_not_found"`.
    pub code: &'static str,
    /// The request id, also sent as `x-request-id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Field errors of a validation failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extension members (RFC 9457 §3.2), written beside the standard ones: `/readyz`'s checks.
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// The cause of a 5xx, kept in response extensions so the middleware logs it once.
#[derive(Clone, Debug)]
struct ServerFault(String);

impl ApiError {
    fn status_code_detail(&self) -> (StatusCode, &'static str, String, Vec<FieldError>) {
        match self {
            ApiError::Domain(e) => match e {
                Error::NotFound { entity } => {
                    (StatusCode::NOT_FOUND, not_found_code(*entity), format!("{entity} not found"), vec![])
                }
                Error::Conflict { code, message } => (StatusCode::CONFLICT, code, message.clone(), vec![]),
                Error::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone(), vec![]),
                Error::Invalid(errors) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "the request has invalid fields".into(),
                    errors.clone(),
                ),
                Error::Storage(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "the database is unavailable; retry later".into(),
                    vec![],
                ),
                Error::Internal(_) => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "an internal error occurred".into(), vec![])
                }
            },
            ApiError::Unauthorized { code, detail } => (StatusCode::UNAUTHORIZED, code, (*detail).into(), vec![]),
            ApiError::BadRequest { status, code, detail, errors } => (*status, code, detail.clone(), errors.clone()),
            ApiError::TooManyRequests { code, detail, .. } => {
                (StatusCode::TOO_MANY_REQUESTS, code, detail.clone(), vec![])
            }
            ApiError::RouteNotFound => (StatusCode::NOT_FOUND, "route_not_found", "no such route".into(), vec![]),
            ApiError::RequestTimeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                "request_timeout",
                "the request took too long and was cancelled; retry later".into(),
                vec![],
            ),
            ApiError::NotReady { detail, .. } => (StatusCode::SERVICE_UNAVAILABLE, "not_ready", detail.clone(), vec![]),
        }
    }
}

fn not_found_code(entity: Entity) -> &'static str {
    match entity {
        Entity::User => "user_not_found",
        Entity::UserToken => "user_token_not_found",
        Entity::Org => "org_not_found",
        Entity::ApiKey => "api_key_not_found",
        Entity::Member => "member_not_found",
        Entity::IdempotencyKey => "idempotency_key_not_found",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, detail, errors) = self.status_code_detail();
        let problem = Problem {
            type_: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code,
            request_id: None,
            errors,
            extensions: match &self {
                ApiError::NotReady { checks, .. } => checks.clone(),
                _ => serde_json::Map::new(),
            },
        };
        let mut response = (status, axum::Json(problem.clone())).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: no error code when the request carried no credentials at all.
            let challenge = if code == "api_key_missing" {
                r#"Bearer realm="tessera""#.to_owned()
            } else {
                format!(r#"Bearer realm="tessera", error="invalid_token", error_description="{}""#, problem.detail)
            };
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if let ApiError::TooManyRequests { retry_after_seconds, .. } = &self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
        }
        if status.is_server_error() {
            response.extensions_mut().insert(ServerFault(error_chain(&self)));
        }
        response.extensions_mut().insert(problem);
        response
    }
}

/// `error: cause: cause…`, for logs.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

/// Middleware that adds the request id to problem bodies and logs 5xx causes once.
/// Must run inside the layer that sets `x-request-id`.
pub async fn problem_details(request: Request, next: Next) -> Response {
    let request_id = request_id(request.headers());
    with_problem_body(next.run(request).await, request_id)
}

/// `x-request-id`, as a constant so that a lookup does not parse the name again.
static X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// The request's `x-request-id` header: its value is a reference count on the request's bytes,
/// read as text only when a problem body needs it ([`with_problem_body`]).
fn request_id(headers: &HeaderMap) -> Option<HeaderValue> {
    headers.get(&X_REQUEST_ID).cloned()
}

/// Middleware that bounds a request's handling to `timeout` ([`crate::request_timeout`]): past
/// it the handler is dropped and the answer is [`ApiError::RequestTimeout`] as problem details
/// with the request id, its cause logged once. Only the request id's header value (a reference
/// count) is kept aside for that answer, not the request's headers.
pub async fn request_deadline(
    axum::extract::State(timeout): axum::extract::State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = request_id(request.headers());
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => with_problem_body(ApiError::RequestTimeout.into_response(), request_id),
    }
}

/// Logs a 5xx's cause and renders the [`Problem`] a response carries (or a bare 405's) as its
/// `application/problem+json` body with `request_id`.
fn with_problem_body(mut response: Response, request_id: Option<HeaderValue>) -> Response {
    let request_id = request_id.as_ref().and_then(|v| v.to_str().ok());
    if let Some(fault) = response.extensions_mut().remove::<ServerFault>() {
        tracing::error!(request_id = request_id.unwrap_or("-"), cause = %fault.0, "request failed");
    }
    let problem = response.extensions_mut().remove::<Problem>();
    // axum answers a wrong method on a known route with a bare 405; give it a problem body too.
    let problem = problem.or_else(|| {
        (response.status() == StatusCode::METHOD_NOT_ALLOWED).then(|| Problem {
            type_: "about:blank",
            title: "Method Not Allowed".into(),
            status: 405,
            detail: "this route does not accept that method".into(),
            code: "method_not_allowed",
            request_id: None,
            errors: vec![],
            extensions: serde_json::Map::new(),
        })
    });
    let Some(mut problem) = problem else {
        return response;
    };
    problem.request_id = request_id.map(str::to_owned);
    let (mut parts, _) = response.into_parts();
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Response::from_parts(parts, axum::body::Body::from(body))
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let (code, detail) = match &rejection {
            JsonRejection::JsonDataError(e) => ("invalid_body", describe_serde(&e.body_text())),
            JsonRejection::JsonSyntaxError(_) => ("malformed_json", "the body is not valid JSON".to_owned()),
            JsonRejection::MissingJsonContentType(_) => {
                ("unsupported_media_type", "expected `Content-Type: application/json`".to_owned())
            }
            JsonRejection::BytesRejection(_) => ("body_too_large", "the body could not be read or is too large".into()),
            _ => ("invalid_body", "the body could not be read".to_owned()),
        };
        let status = rejection.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "body_too_large" } else { code };
        let errors = field_of(&detail).map(|f| vec![FieldError::new(f, detail.clone())]).unwrap_or_default();
        ApiError::BadRequest { status, code, detail, errors }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        let detail = describe_serde(&rejection.body_text());
        let errors = field_of(&detail).map(|f| vec![FieldError::new(f, detail.clone())]).unwrap_or_default();
        ApiError::BadRequest { status: StatusCode::BAD_REQUEST, code: "invalid_query", detail, errors }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        let detail = match &rejection {
            PathRejection::FailedToDeserializePathParams(_) => "the id in the path is not a valid UUID".to_owned(),
            _ => "the path could not be read".to_owned(),
        };
        ApiError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_path",
            errors: vec![FieldError::new("id", "must be a UUID")],
            detail,
        }
    }
}

/// axum's serde messages start with "Failed to deserialize …: "; keep what follows, which
/// starts with the field's path when serde knows it (`account: invalid type …`).
fn describe_serde(text: &str) -> String {
    text.split_once(": ").map(|(_, tail)| tail).unwrap_or(text).to_owned()
}

/// serde_path_to_error-style messages name the field first: `account: invalid type …`, or
/// serde's own `missing field `account``. Best effort: the field errors list is a convenience.
fn field_of(detail: &str) -> Option<String> {
    if let Some(rest) = detail.strip_prefix("missing field `") {
        return rest.split('`').next().map(str::to_owned);
    }
    if let Some(rest) = detail.strip_prefix("unknown field `") {
        return rest.split('`').next().map(str::to_owned);
    }
    let (path, _) = detail.split_once(": ")?;
    let looks_like_path = !path.is_empty() && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.[]".contains(&b));
    looks_like_path.then(|| path.to_owned())
}

/// Handler for unknown routes under the API prefixes.
pub async fn route_not_found() -> ApiError {
    ApiError::RouteNotFound
}
