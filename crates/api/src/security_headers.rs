//! Response headers that keep what Tessera answers out of caches and limit what a browser does
//! with it. One middleware, [`security_headers`], sets them on every response of the API and the
//! dashboard (see [`crate::http_layers`]):
//!
//! - `Cache-Control: no-store` (RFC 9111 §5.2.2.5) on every response that does not set its own
//!   and is not a public static file: API keys, user tokens, introspection answers, users and
//!   dashboard pages are never written to a browser's or a proxy's cache. The JWKS sets its own
//!   (`public, max-age=300`); the client bundle (`/pkg/…`), the favicon and the Swagger UI files
//!   (`/docs/…`) are left to the browser's default.
//! - `X-Content-Type-Options: nosniff` (Fetch standard §X-Content-Type-Options) and
//!   `Referrer-Policy: same-origin` (W3C Referrer Policy §3) everywhere: no response is read as a
//!   type it does not declare, and no URL of Tessera's (a user's id in a path) leaves for another
//!   site in a `Referer`. Not `no-referrer`: under it browsers send `Origin: null` with a plain
//!   form post (Fetch §3.1, "append a request `Origin` header"), and the dashboard's forms, which
//!   work without JavaScript, are checked by their `Origin` (`member_auth::check_origin`).
//! - `Content-Security-Policy` (W3C CSP Level 3), each with `frame-ancestors 'none'` so no page can
//!   be framed (clickjacking): dashboard pages set their own with the nonce of their inline
//!   scripts ([`dashboard_policy`]); the Swagger UI gets [`SWAGGER_UI_POLICY`]; everything else,
//!   JSON and problem details, gets [`API_POLICY`], which lets nothing load.
//! - `X-Frame-Options: DENY` (RFC 7034) for browsers that predate `frame-ancestors`.

use axum::{
    extract::Request,
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::Response,
};

/// The policy of responses that are not documents (JSON, problem details): nothing may load
/// from them and nothing may frame them.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The Swagger UI's policy (`/docs/`): its scripts, styles and images come from this server
/// (the UI is vendored), it calls only this server, and its components set inline styles, which
/// `'unsafe-inline'` in `style-src` allows (scripts stay restricted to files of this origin).
pub const SWAGGER_UI_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The dashboard's policy for one page whose inline scripts (Leptos' hydration and resource
/// scripts) carry `nonce`: scripts only from this origin or with that nonce, WebAssembly
/// compilation allowed (`'wasm-unsafe-eval'`, the client is WASM), styles, images and calls only
/// to this origin, forms post only here.
///
/// `live_reload` adds `ws:`/`wss:` to `connect-src` for cargo-leptos' reload socket (development
/// only: `cargo leptos watch` sets `LEPTOS_WATCH`).
pub fn dashboard_policy(nonce: &str, live_reload: bool) -> String {
    let connect = if live_reload { "'self' ws: wss:" } else { "'self'" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Whether `path` is a public static file: the client bundle, the favicon or a Swagger UI file.
fn is_static_file(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg" || is_swagger_ui(path)
}

fn is_swagger_ui(path: &str) -> bool {
    path == "/docs" || path.starts_with("/docs/")
}

/// Middleware that sets the headers this module describes on the response, leaving any of
/// `Cache-Control` and `Content-Security-Policy` that the handler set itself.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let (static_file, swagger_ui) = (is_static_file(path), is_swagger_ui(path));
    let mut response = next.run(request).await;
    apply(response.headers_mut(), static_file, swagger_ui);
    response
}

fn apply(headers: &mut HeaderMap, static_file: bool, swagger_ui: bool) {
    // Room for the five at once, rather than growing the map on the way.
    headers.reserve(5);
    if !static_file {
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    let policy = if swagger_ui { SWAGGER_UI_POLICY } else { API_POLICY };
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(policy));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handlers_own_caching_and_policy_are_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'self'"));
        apply(&mut headers, false, false);
        assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=300");
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], "default-src 'self'");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }

    #[test]
    fn static_files_are_not_marked_no_store() {
        assert!(is_static_file("/pkg/tessera.wasm") && is_static_file("/favicon.svg") && is_static_file("/docs/"));
        assert!(!is_static_file("/v1/users") && !is_static_file("/keys") && !is_static_file("/_fn/create_api_key"));
        let mut headers = HeaderMap::new();
        apply(&mut headers, true, false);
        assert!(headers.get(header::CACHE_CONTROL).is_none());
    }

    #[test]
    fn the_dashboard_policy_allows_only_its_nonce_for_inline_scripts() {
        let policy = dashboard_policy("abc", false);
        assert!(policy.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"), "{policy}");
        assert!(!policy.contains("unsafe-inline") && policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(dashboard_policy("abc", true).contains("connect-src 'self' ws: wss:"));
    }
}
