//! Every dashboard page sends a Content-Security-Policy whose nonce is the one its inline scripts
//! carry (issue 14, finding 8): the page's own scripts run, an injected one does not.

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tessera_app::{shell, App};
use tower::ServiceExt;

fn dashboard() -> Router {
    let options = LeptosOptions::builder().output_name("tessera").build();
    Router::new()
        .leptos_routes(&options, generate_route_list(App), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
}

/// The policy and body of `GET path`.
async fn page(router: &Router, path: &str) -> (StatusCode, String, String) {
    let request = Request::get(path).header(header::ACCEPT, "text/html").body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let policy = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, policy, String::from_utf8_lossy(&body).into_owned())
}

/// The `nonce="…"` values of the page's `<script>` elements.
fn script_nonces(body: &str) -> Vec<String> {
    body.split("<script")
        .skip(1)
        .filter_map(|tag| tag.split_once("nonce=\"").map(|(_, rest)| rest))
        .map(|rest| rest.split('"').next().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn a_page_allows_exactly_the_nonce_of_its_inline_scripts() {
    // Without a state the page renders its error view: still a page, still with a policy.
    let router = dashboard();
    let (_, first, body) = page(&router, "/sign-in").await;
    assert!(first.contains("frame-ancestors 'none'") && first.contains("'wasm-unsafe-eval'"), "{first:?}");
    assert!(!first.contains("unsafe-inline"), "{first:?}");
    let nonce = first.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce in the policy");
    assert!(nonce.len() >= 16, "a nonce of 128 bits or more: {nonce:?}");
    let nonces = script_nonces(&body);
    assert!(!nonces.is_empty(), "the hydration script is inline: {body}");
    assert!(nonces.iter().all(|n| n == nonce), "every inline script carries the policy's nonce: {nonces:?} vs {nonce}");
    assert_eq!(body.matches("<script").count(), nonces.len(), "no inline script without the nonce: {body}");

    // A new nonce per response.
    let (_, second, _) = page(&router, "/sign-in").await;
    assert_ne!(first, second);

    // The 404 page too.
    let (status, policy, _) = page(&router, "/no-such-page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(policy.contains("'nonce-"), "{policy:?}");
}
