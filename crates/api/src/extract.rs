//! Extractors that authenticate and authorize. A handler that takes [`OrgApiKey`] (REST) or
//! [`OrgMember`] (the dashboard's server functions) can only ever act on that org: the org is the
//! first argument of every service call it makes.
//!
//! Also the `App*` wrappers of axum's extractors, whose rejections become problem details.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts, StatusCode},
};
use serde::de::DeserializeOwned;
use tessera_core::{Actor, ActorType, ApiKeyId, AuditContext, Email, MemberId, Org, Role};

use crate::{
    client_addr::ClientAddr,
    error::ApiError,
    member_auth,
    services::{api_keys, api_keys::AuthError, sessions},
    AppState,
};

/// The org and key of a request authenticated with `Authorization: Bearer <API key>`
/// (RFC 6750 §2.1). Rejections are 401 with `WWW-Authenticate: Bearer`, or 429
/// `too_many_failed_authentications` with `Retry-After` while the client's address
/// ([`ClientAddr`]) has failed too often (see [`api_keys::authenticate`]).
#[derive(Clone, Debug)]
pub struct OrgApiKey {
    /// The key's org.
    pub org: Org,
    /// The key.
    pub key_id: ApiKeyId,
    /// The key's prefix (its label in audit events).
    pub prefix: String,
}

impl OrgApiKey {
    /// Who acts, for the audit event of a change this request makes: this key, from `request`.
    pub fn audit(&self, request: &RequestInfo) -> AuditContext {
        let actor = Actor { type_: ActorType::ApiKey, id: Some(self.key_id.0), label: self.prefix.clone() };
        request.context(actor)
    }
}

/// Where a request comes from, for the audit event of a change it makes: the client address
/// (after trusted proxies, [`ClientAddr`]), `User-Agent` and `x-request-id`. Never rejects; only
/// handlers that change something take it, so the hot calls pay nothing for it.
#[derive(Clone, Debug, Default)]
pub struct RequestInfo {
    /// The client's address.
    pub ip: Option<std::net::IpAddr>,
    /// The `User-Agent` header, when it is text.
    pub user_agent: Option<String>,
    /// The `x-request-id` header, when it is text.
    pub request_id: Option<String>,
}

impl RequestInfo {
    /// The request information of `parts`.
    pub fn from_parts(parts: &Parts, state: &AppState) -> Self {
        let text = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self {
            ip: ClientAddr::from_parts(parts, &state.config).0,
            user_agent: text(header::USER_AGENT.as_str()),
            request_id: text("x-request-id"),
        }
    }

    /// An audit context of `actor` acting through this request, now.
    pub fn context(&self, actor: Actor) -> AuditContext {
        AuditContext::new(actor, crate::services::now()).with_request(
            self.ip.map(|ip| ip.to_string()),
            self.user_agent.as_deref(),
            self.request_id.as_deref(),
        )
    }
}

impl From<Option<std::net::IpAddr>> for RequestInfo {
    /// A request from `ip`, with neither user agent nor request id (tests, tools).
    fn from(ip: Option<std::net::IpAddr>) -> Self {
        Self { ip, ..Self::default() }
    }
}

impl FromRequestParts<AppState> for RequestInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts, state))
    }
}

impl FromRequestParts<AppState> for OrgApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Already authenticated by a middleware of this request (idempotency keys).
        if let Some(done) = parts.extensions.get::<OrgApiKey>() {
            return Ok(done.clone());
        }
        let header = parts.headers.get(header::AUTHORIZATION).ok_or(ApiError::Unauthorized {
            code: "api_key_missing",
            detail: "send the API key as `Authorization: Bearer tsk_…`",
        })?;
        // Not a bearer credential at all: refused as a malformed key, a failure of the client's
        // address like any other.
        let bearer = header
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim());
        let client = ClientAddr::from_parts(parts, &state.config).0;
        let found = api_keys::authenticate(state, bearer.unwrap_or(""), client).await?.map_err(|e| {
            let (code, detail) = match e {
                AuthError::Throttled { retry_after_seconds } => {
                    return ApiError::TooManyRequests {
                        code: "too_many_failed_authentications",
                        detail: format!(
                            "too many failed authentications from this address; try again in {retry_after_seconds} \
                             seconds"
                        ),
                        retry_after_seconds,
                    }
                }
                AuthError::Malformed(_) if bearer.is_none() => {
                    ("api_key_malformed", "the Authorization header must be `Bearer <API key>`")
                }
                AuthError::Malformed(_) => {
                    ("api_key_malformed", "the API key is malformed (bad prefix, length or checksum)")
                }
                AuthError::Unknown => ("api_key_invalid", "the API key is not valid"),
                AuthError::Revoked => ("api_key_revoked", "the API key has been revoked"),
                AuthError::Expired => ("api_key_expired", "the API key has expired"),
            };
            ApiError::Unauthorized { code, detail }
        })?;
        tracing::Span::current().record("org_id", tracing::field::display(found.org.id));
        let api_keys::Authenticated { key, org } = found;
        Ok(Self { org, key_id: key.id, prefix: key.prefix })
    }
}

/// The org, member and role of a dashboard request, from its session cookie (see
/// [`member_auth`]; a live session is one that is neither signed out, idle too long nor past its
/// absolute lifetime, of a member who still exists). Records `org_id` and `member_id` on the
/// request's span. Rejections are 401: `session_missing` without the cookie, `session_ended` when
/// its session is not live; storage errors are 503.
///
/// Server functions get it with `leptos_axum::extract_with_state`; it does not check the role
/// (see [`OrgMember::require`]) nor, for a state-changing call, the `Origin`
/// ([`member_auth::check_origin`]).
#[derive(Clone, Debug)]
pub struct OrgMember {
    /// The member's org (its id is the request's `org_id`).
    pub org: Org,
    /// The member.
    pub member_id: MemberId,
    /// Their sign-in address.
    pub email: Email,
    /// Their role at the time of this request.
    pub role: Role,
}

impl OrgMember {
    /// Who acts, for the audit event of a change this request makes: this member, from
    /// `request`.
    pub fn audit(&self, request: &RequestInfo) -> AuditContext {
        let actor =
            Actor { type_: ActorType::Member, id: Some(self.member_id.0), label: self.email.as_str().to_owned() };
        request.context(actor)
    }

    /// `Ok` if the member's role includes `needed` (`viewer` < `admin` < `owner`).
    ///
    /// # Errors
    /// [`tessera_core::Error::Forbidden`] naming the role needed.
    pub fn require(&self, needed: Role) -> tessera_core::Result<()> {
        sessions::require_role(self.role, needed)
    }
}

impl FromRequestParts<AppState> for OrgMember {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = member_auth::session_token(&parts.headers, member_auth::secure_cookies(&state.config))
            .ok_or(ApiError::Unauthorized { code: "session_missing", detail: "sign in to the dashboard first" })?;
        let member = sessions::authenticate(state, &token)
            .await?
            .ok_or(ApiError::Unauthorized { code: "session_ended", detail: "the session has ended; sign in again" })?;
        let span = tracing::Span::current();
        span.record("org_id", tracing::field::display(member.org.id));
        span.record("member_id", tracing::field::display(member.member_id));
        Ok(Self { org: member.org, member_id: member.member_id, email: member.email, role: member.role })
    }
}

/// A JSON object body (`Content-Type: application/json` or `…+json`). Unlike `axum::Json`, it
/// refuses a JSON array in place of the object (serde would read a struct from a sequence), and
/// every rejection is a problem-details response: 415 without a JSON content type, 413 over
/// [`crate::MAX_BODY_BYTES`], 400 for malformed JSON, 422 naming the field for wrong content.
pub struct AppJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(request.headers()) {
            return Err(unsupported_media_type());
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|e| unreadable_body(e.status()))?;
        parse_object(&bytes).map(AppJson)
    }
}

/// Like [`AppJson`] for endpoints whose whole body is optional: an empty body is `T::default()`.
pub struct AppOptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for AppOptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = has_json_content_type(request.headers());
        let bytes = Bytes::from_request(request, state).await.map_err(|e| unreadable_body(e.status()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        if !json_type {
            return Err(unsupported_media_type());
        }
        parse_object(&bytes).map(AppOptionalJson)
    }
}

fn has_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn unsupported_media_type() -> ApiError {
    ApiError::BadRequest {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "unsupported_media_type",
        detail: "expected `Content-Type: application/json`".into(),
        errors: vec![],
    }
}

fn unreadable_body(status: StatusCode) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::BadRequest {
            status,
            code: "body_too_large",
            detail: format!("the body is larger than {} bytes", crate::MAX_BODY_BYTES),
            errors: vec![],
        }
    } else {
        ApiError::BadRequest {
            status,
            code: "invalid_body",
            detail: "the body could not be read".into(),
            errors: vec![],
        }
    }
}

fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let axum::Json(value) = axum::Json::<T>::from_bytes(bytes)?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::BadRequest {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_body",
            detail: "the body must be a JSON object".into(),
            errors: vec![],
        });
    }
    Ok(value)
}

/// `axum::extract::Query` whose rejections are problem details, and which refuses a query whose
/// percent-decoded bytes are not UTF-8 (axum would silently replace them with U+FFFD).
pub struct AppQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        if percent_encoding::percent_decode_str(raw).decode_utf8().is_err() {
            return Err(ApiError::BadRequest {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_query",
                detail: "the query string is not valid UTF-8 once percent-decoded".into(),
                errors: vec![],
            });
        }
        let axum::extract::Query(value) = axum::extract::Query::<T>::try_from_uri(&parts.uri)?;
        Ok(Self(value))
    }
}

/// `axum::extract::Path` whose rejections are problem details.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);
