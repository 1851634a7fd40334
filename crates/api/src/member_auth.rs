//! The HTTP side of dashboard sessions, shared by every server function: the session cookie
//! (`HttpOnly`, `SameSite=Lax`, `Path=/`; when the public URL is https also `Secure` and named
//! with the `__Host-` prefix) and the `Origin` check that refuses cross-site state-changing
//! requests.
//!
//! The `__Host-` prefix (RFC 6265bis §4.1.3.2) makes browsers accept the cookie only with
//! `Secure`, `Path=/` and no `Domain`, so a page on a sibling subdomain cannot plant or shadow a
//! session cookie for Tessera's host. Over plain http (local use) browsers refuse prefixed
//! cookies, so the cookie is then named [`SESSION_COOKIE`] without it.

use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use tessera_core::{session::SESSION_ABSOLUTE_LIFETIME_SECONDS, Error, Result, SessionToken};

use crate::{
    services::sessions::{self, SignedInMember, SESSION_COOKIE},
    ApiConfig, AppState,
};

/// Whether cookies get `Secure`: when the configured public URL is `https://`.
pub fn secure_cookies(config: &ApiConfig) -> bool {
    config.public_url.starts_with("https://")
}

/// The session cookie's name with the `__Host-` prefix, used when cookies are `Secure`.
pub const SECURE_SESSION_COOKIE: &str = "__Host-tessera_session";

/// The session cookie's name: [`SECURE_SESSION_COOKIE`] when `secure`, else [`SESSION_COOKIE`].
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The `Set-Cookie` value that stores `token` for [`SESSION_ABSOLUTE_LIFETIME_SECONDS`].
pub fn session_cookie(token: &SessionToken, secure: bool) -> HeaderValue {
    let cookie = Cookie::build((session_cookie_name(secure), token.expose()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure)
        .max_age(CookieDuration::seconds(SESSION_ABSOLUTE_LIFETIME_SECONDS))
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("base64url token and fixed attributes are valid in a header")
}

/// The `Set-Cookie` value that removes the session cookie (sign-out).
pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    let cookie = Cookie::build((session_cookie_name(secure), ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure)
        .max_age(CookieDuration::ZERO)
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("fixed attributes are valid in a header")
}

/// The session cookie's value from the request's `Cookie` headers, if any: the cookie named
/// [`session_cookie_name`]`(secure)`; over https one without the prefix is ignored (it may have
/// been planted by a sibling subdomain).
pub fn session_token(headers: &HeaderMap, secure: bool) -> Option<String> {
    let name = session_cookie_name(secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(std::result::Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The signed-in member of a request, from its session cookie (see [`sessions::authenticate`]).
///
/// # Errors
/// Storage errors.
pub async fn member(state: &AppState, headers: &HeaderMap) -> Result<Option<SignedInMember>> {
    match session_token(headers, secure_cookies(&state.config)) {
        Some(token) => sessions::authenticate(state, &token).await,
        None => Ok(None),
    }
}

/// Refuses a cross-site request: `Origin` must be present and be either the public URL's origin
/// or the origin of the `Host` the request was sent to. Browsers set `Origin` on every `POST`,
/// form posts included, and a page cannot forge it; together with `SameSite=Lax` cookies this
/// stops cross-site request forgery.
///
/// # Errors
/// [`Error::Forbidden`] when `Origin` is missing or foreign.
pub fn check_origin(headers: &HeaderMap, config: &ApiConfig) -> Result<()> {
    let refused = || Error::Forbidden("cross-site request refused".into());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).ok_or_else(refused)?;
    if origin.eq_ignore_ascii_case(origin_of(&config.public_url)) {
        return Ok(());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://");
    match (origin_host, host) {
        (Some(("http" | "https", origin_host)), Some(host)) if origin_host.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(refused()),
    }
}

/// `scheme://host[:port]` of `url` (everything before the path).
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(header::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn origins_must_be_ours() {
        let config = ApiConfig::new("https://tokens.example.com/base");
        let ok = |pairs: &[(&str, &str)]| check_origin(&headers(pairs), &config).is_ok();
        assert!(ok(&[("origin", "https://tokens.example.com")]));
        assert!(ok(&[("origin", "http://127.0.0.1:3100"), ("host", "127.0.0.1:3100")]));
        assert!(!ok(&[]), "no Origin");
        assert!(!ok(&[("origin", "https://evil.example"), ("host", "tokens.example.com")]));
        assert!(!ok(&[("origin", "null"), ("host", "tokens.example.com")]));
        assert!(!ok(&[("origin", "https://tokens.example.com.evil.example")]));
    }

    #[test]
    fn cookies_carry_the_security_attributes() {
        let token = SessionToken::generate(&mut rand::rngs::OsRng);
        let set = session_cookie(&token, true).to_str().unwrap().to_owned();
        for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure", "Max-Age=604800"] {
            assert!(set.contains(part), "{set}");
        }
        assert!(!session_cookie(&token, false).to_str().unwrap().contains("Secure"));
        assert!(clear_session_cookie(false).to_str().unwrap().contains("Max-Age=0"));
        let h = headers(&[("cookie", "a=b"), ("cookie", &format!("x=1; {SESSION_COOKIE}={}", token.expose()))]);
        assert_eq!(session_token(&h, false).as_deref(), Some(token.expose()));
        assert_eq!(session_token(&headers(&[("cookie", "a=b")]), false), None);
    }

    #[test]
    fn over_https_the_cookie_is_host_prefixed_and_an_unprefixed_one_is_ignored() {
        let token = SessionToken::generate(&mut rand::rngs::OsRng);
        let set = session_cookie(&token, true).to_str().unwrap().to_owned();
        assert!(set.starts_with(&format!("__Host-tessera_session={};", token.expose())), "{set}");
        assert!(!set.contains("Domain"), "{set}");
        assert!(clear_session_cookie(true).to_str().unwrap().starts_with("__Host-tessera_session=;"));
        assert!(session_cookie(&token, false).to_str().unwrap().starts_with("tessera_session="));

        // A sibling subdomain can set `tessera_session` for the parent domain; over https it is not
        // a session cookie.
        let planted = headers(&[("cookie", &format!("{SESSION_COOKIE}={}", token.expose()))]);
        assert_eq!(session_token(&planted, true), None);
        let h = headers(&[("cookie", &format!("{SESSION_COOKIE}=x; {SECURE_SESSION_COOKIE}={}", token.expose()))]);
        assert_eq!(session_token(&h, true).as_deref(), Some(token.expose()));
    }
}
