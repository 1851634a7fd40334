//! Server-side plumbing shared by the server functions: the state the server provides, the
//! request's member (the [`OrgMember`] extractor) and origin, cookies, how a page rendered on the
//! server redirects, and how a plain (no-JavaScript) form post learns about its errors.

use std::sync::Arc;

use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tessera_api::{
    extract::OrgMember, extract::RequestInfo, member_auth, services::sessions::SignedInMember,
    services::sign_in::SignInGuard, ApiError, AppState,
};
use tessera_core::{Actor, AuditContext, Role};

use crate::error::AppError;

/// The services' state, provided by the server (`tessera-server`'s `web::router`).
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| missing("AppState"))
}

/// The sign-in limiter, provided by the server.
pub fn guard() -> Result<Arc<SignInGuard>, AppError> {
    use_context::<Arc<SignInGuard>>().ok_or_else(|| missing("SignInGuard"))
}

fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(|| missing("request parts"))
}

fn missing(what: &str) -> AppError {
    tracing::error!("dashboard: {what} was not provided to the server function");
    AppError::Internal
}

/// The signed-in member of this request, if any, with their email (for `get_viewer`).
pub async fn member() -> Result<Option<SignedInMember>, AppError> {
    let (state, parts) = (state()?, parts()?);
    Ok(member_auth::member(&state, &parts.headers).await?)
}

/// The signed-in member (the REST API's [`OrgMember`] extractor), if their role includes `role`.
/// For a read; a call that changes something uses [`change_by`].
///
/// # Errors
/// [`AppError::SignedOut`] without a live session; [`AppError::Forbidden`] for a weaker role.
pub async fn require(role: Role) -> Result<OrgMember, AppError> {
    let member = leptos_axum::extract_with_state::<Result<OrgMember, ApiError>, _>(&state()?)
        .await
        .map_err(|_| missing("request parts"))?
        .map_err(|e| match e {
            ApiError::Unauthorized { .. } => AppError::SignedOut,
            ApiError::Domain(e) => AppError::from(e),
            e => {
                tracing::error!(error = %e, "dashboard: unexpected rejection of the member's session");
                AppError::Internal
            }
        })?;
    member.require(role)?;
    Ok(member)
}

/// A state-changing call by a member with at least `role`: refuses a cross-site request (see
/// [`check_origin`]), then [`require`]s the role.
///
/// # Errors
/// [`AppError::Forbidden`] for a cross-site request or a weaker role; [`AppError::SignedOut`].
pub async fn change_by(role: Role) -> Result<OrgMember, AppError> {
    authorize_change(role, None).await
}

/// Like [`change_by`] for a call whose result is shown once, in a dialog (a new secret): a plain
/// form post (see [`plain_form`]) would make one nobody sees, so it is refused with the message
/// `needs_js` (after the `Origin` check, before the role check).
///
/// # Errors
/// As [`change_by`]; also [`AppError::Forbidden`] for a plain form post.
pub async fn js_change_by(role: Role, needs_js: &str) -> Result<OrgMember, AppError> {
    authorize_change(role, Some(needs_js)).await
}

async fn authorize_change(role: Role, needs_js: Option<&str>) -> Result<OrgMember, AppError> {
    check_origin()?;
    if let Some(message) = needs_js.filter(|_| plain_form()) {
        return Err(AppError::Forbidden(message.to_owned()));
    }
    require(role).await
}

/// Refuses a cross-site request (see [`member_auth::check_origin`]).
pub fn check_origin() -> Result<(), AppError> {
    let (state, parts) = (state()?, parts()?);
    member_auth::check_origin(&parts.headers, &state.config).map_err(|e| {
        tracing::warn!("dashboard: cross-site request refused");
        AppError::from(e)
    })
}

/// The session cookie of this request, if any.
pub fn session_cookie() -> Option<String> {
    parts().ok().and_then(|p| member_auth::session_token(&p.headers, secure_cookies()))
}

/// Where the request comes from (client address, user agent, request id), for audit events.
pub fn request_info() -> RequestInfo {
    match (state(), parts()) {
        (Ok(state), Ok(parts)) => RequestInfo::from_parts(&parts, &state),
        _ => RequestInfo::default(),
    }
}

/// The audit context of a change `member` makes through this request.
pub fn audit(member: &OrgMember) -> AuditContext {
    member.audit(&request_info())
}

/// The audit context of a change `actor` makes through this request.
pub fn audit_as(actor: Actor) -> AuditContext {
    request_info().context(actor)
}

/// Adds a `Set-Cookie` header to the response.
pub fn set_cookie(value: HeaderValue) {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.append_header(header::SET_COOKIE, value);
    }
}

/// Sets this page's `Content-Security-Policy` ([`tessera_api::security_headers::dashboard_policy`])
/// with the nonce Leptos puts on the page's inline scripts (a new one per response). Called by
/// the shell while it renders. Without a nonce (never seen) the page keeps the API's policy,
/// which lets no script run: safe, and visible at once.
pub fn set_content_security_policy() {
    let (Some(res), Some(nonce)) = (use_context::<ResponseOptions>(), leptos::nonce::use_nonce()) else {
        return;
    };
    // `cargo leptos watch` sets LEPTOS_WATCH; then the page also opens the live-reload socket.
    let live_reload = std::env::var_os("LEPTOS_WATCH").is_some();
    let policy = tessera_api::security_headers::dashboard_policy(&nonce, live_reload);
    match HeaderValue::from_str(&policy) {
        Ok(value) => res.insert_header(header::CONTENT_SECURITY_POLICY, value),
        Err(_) => tracing::error!("dashboard: the page's nonce is not a valid header value"),
    }
}

/// Whether `Secure` belongs on cookies.
pub fn secure_cookies() -> bool {
    state().map(|s| member_auth::secure_cookies(&s.config)).unwrap_or(true)
}

/// Whether this request is a plain HTML form post (JavaScript off): the browser then expects a
/// page, not data, so results travel by redirect.
pub fn plain_form() -> bool {
    parts()
        .ok()
        .and_then(|p| p.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(|v| v.contains("text/html")))
        .unwrap_or(false)
}

/// Finishes a form's server function: on success redirects to `success_to` (if given); on
/// failure of a plain form post, redirects back to `form_page` with the error in the query
/// (`?error=…&field_<name>=…`), which the page shows next to the fields. With JavaScript the
/// error is returned as is and shown by the form's action.
pub fn finish<T>(result: Result<T, AppError>, success_to: Option<&str>, form_page: &str) -> Result<T, AppError> {
    match &result {
        Ok(_) => {
            if let Some(to) = success_to {
                leptos_axum::redirect(to);
            }
        }
        Err(e) if plain_form() => leptos_axum::redirect(&error_url(form_page, e)),
        Err(e) => set_status(e),
    }
    result
}

/// How a page rendered on the server redirects (`<Redirect/>`, e.g. `/` → `/sign-in`): `303 See
/// Other` with `Location: path`, for every client. (leptos_axum's own redirect answers `200` with
/// a `Location` header unless the request accepts `text/html`, which leaves `curl -L` on a blank
/// page.) Server functions keep leptos_axum's redirect (see [`finish`]), whose `200` tells the
/// JavaScript client to navigate.
pub fn see_other(path: &str) {
    let Some(res) = use_context::<ResponseOptions>() else {
        tracing::error!("dashboard: no response options to redirect to {path}");
        return;
    };
    match HeaderValue::from_str(path) {
        Ok(location) => {
            res.set_status(StatusCode::SEE_OTHER);
            res.insert_header(header::LOCATION, location);
        }
        Err(_) => tracing::error!("dashboard: cannot redirect to {path:?}: not a header value"),
    }
}

/// Sets the response's HTTP status to the one of `e` (e.g. 404 for a page whose object does not
/// exist; a server function's own response gets it as well).
pub fn set_status(e: &AppError) {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(status(e));
        // RFC 9110 §10.2.3: when to try again, for a 429 or a 503 that knows.
        if let AppError::TooManyAttempts(seconds) | AppError::Busy(seconds) = e {
            res.insert_header(header::RETRY_AFTER, HeaderValue::from(*seconds));
        }
    }
}

/// The HTTP status of a failed (JavaScript) call: 4xx for what the caller can fix, 5xx otherwise.
fn status(e: &AppError) -> StatusCode {
    match e {
        AppError::SignedOut | AppError::WrongCredentials => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Request(_) => StatusCode::BAD_REQUEST,
        AppError::Unavailable | AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `page` with `error` and `field_<name>` query parameters describing `e`.
fn error_url(page: &str, e: &AppError) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let mut url = format!("{page}{}error={}", if page.contains('?') { '&' } else { '?' }, enc(&e.summary()));
    if let AppError::Invalid(fields) = e {
        for f in fields {
            url.push_str(&format!("&field_{}={}", enc(&f.field), enc(&f.message)));
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_travel_in_the_query() {
        let e = AppError::Invalid(vec![tessera_core::FieldError::new("name", "must not be empty")]);
        assert_eq!(
            error_url("/keys", &e),
            "/keys?error=Some%20fields%20need%20attention%2E&field_name=must%20not%20be%20empty"
        );
        assert_eq!(error_url("/a?x=1", &AppError::WrongCredentials), "/a?x=1&error=Wrong%20email%20or%20password%2E");
    }
}
