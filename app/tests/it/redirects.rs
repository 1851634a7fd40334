//! A page that sends the visitor elsewhere (no org yet, signed out, already signed in) answers a
//! real `303 See Other` with `Location`, whatever the client accepts, so a browser without
//! JavaScript and `curl -L` follow it.

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use leptos::{config::LeptosOptions, prelude::provide_context};
use leptos_axum::{generate_route_list, LeptosRoutes};
use secrecy::SecretString;
use tessera_api::{
    crypto::{KeyRing, MasterKey},
    services::{sessions, setup},
    ApiConfig, AppState,
};
use tessera_app::{shell, App};
use tower::ServiceExt;

/// The dashboard's routes over a fresh database, wired as `tessera-server`'s `web::router` does.
struct Dashboard {
    state: AppState,
    router: Router,
    _dir: tempfile::TempDir,
}

impl Dashboard {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store =
            tessera_store::open(&format!("sqlite://{}", dir.path().join("tessera.db").display())).await.unwrap();
        let state =
            AppState::new(store, KeyRing::new(MasterKey::generate().unwrap()), ApiConfig::new("http://tessera.test"));
        let options = LeptosOptions::builder().output_name("tessera").build();
        let context = {
            let state = state.clone();
            move || provide_context(state.clone())
        };
        let router = Router::new()
            .leptos_routes_with_context(&options, generate_route_list(App), context, {
                let options = options.clone();
                move || shell(options.clone())
            })
            .with_state(options);
        Self { state, router, _dir: dir }
    }

    /// `GET path` with `accept` and optionally a cookie: the status, the `Location` and the body.
    async fn get(&self, path: &str, accept: &str, cookie: Option<&str>) -> (StatusCode, Option<String>, String) {
        let mut request = Request::get(path).header(header::ACCEPT, accept);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = self.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let location = response.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, location, String::from_utf8_lossy(&body).into_owned())
    }

    async fn assert_redirect(&self, path: &str, cookie: Option<&str>, to: &str) {
        // curl's `*/*` and a browser's `text/html` alike.
        for accept in ["*/*", "text/html,application/xhtml+xml,*/*;q=0.8"] {
            let (status, location, _) = self.get(path, accept, cookie).await;
            assert_eq!(
                (status, location.as_deref()),
                (StatusCode::SEE_OTHER, Some(to)),
                "GET {path} (Accept: {accept})"
            );
        }
    }
}

#[tokio::test]
async fn pages_redirect_with_303_to_setup_then_sign_in_then_home() {
    let app = Dashboard::new().await;

    // A fresh server: every page leads to the first-run setup, which renders.
    for path in ["/", "/users", "/keys", "/members", "/sign-in"] {
        app.assert_redirect(path, None, "/setup").await;
    }
    let (status, _, body) = app.get("/setup", "text/html", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<form"), "{body}");

    // Set up: signed-out pages lead to the sign-in page, and the setup page home.
    let password = SecretString::from("correct horse battery".to_owned());
    let (_, owner) = setup::first_run(
        &app.state,
        "Acme Inc.",
        "acme",
        "owner@example.com",
        password,
        &tessera_core::AuditContext::new(tessera_core::Actor::cli("test"), time::OffsetDateTime::now_utc()),
    )
    .await
    .unwrap();
    for path in ["/", "/users", "/users/00000000-0000-7000-8000-000000000000", "/keys", "/members"] {
        app.assert_redirect(path, None, "/sign-in").await;
    }
    app.assert_redirect("/setup", None, "/").await;
    assert_eq!(app.get("/sign-in", "text/html", None).await.0, StatusCode::OK);

    // Signed in: the overview renders, and the sign-in page leads home.
    let (token, _) = sessions::start(
        &app.state,
        &owner,
        &tessera_core::AuditContext::new(tessera_core::Actor::cli("test"), time::OffsetDateTime::now_utc()),
    )
    .await
    .unwrap();
    let cookie = format!("{}={}", sessions::SESSION_COOKIE, token.expose());
    let (status, location, body) = app.get("/", "text/html", Some(&cookie)).await;
    assert_eq!((status, location), (StatusCode::OK, None));
    assert!(body.contains("Overview"), "{body}");
    app.assert_redirect("/sign-in", Some(&cookie), "/").await;
}
