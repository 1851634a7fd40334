//! The dashboard's HTTP surface: Leptos options and the axum router that server-renders the
//! `tessera-app` pages and serves the client bundle (`/pkg/tessera.{js,wasm,css}`) built by
//! cargo-leptos.
//!
//! `main.rs` only wires this router next to the REST API; all dashboard serving logic lives here.

use std::{env, net::SocketAddr, path::PathBuf, sync::Arc};

mod audit_export;

use axum::{routing::get, Router};
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{file_and_error_handler, generate_route_list, LeptosRoutes};
use tessera_api::{services::sign_in::SignInGuard, AppState};
use tessera_app::{shell, App};

/// Name of the client bundle; must match `output-name` in the workspace's leptos metadata.
const OUTPUT_NAME: &str = "tessera";
/// Site root when neither cargo-leptos nor the operator says otherwise (cargo-leptos' default).
const DEFAULT_SITE_ROOT: &str = "target/site";

/// Leptos options for serving the dashboard.
///
/// The site root (the folder holding `pkg/` and the public assets) is, in order: `site_root`
/// (`--site-root` / `TESSERA_SITE_ROOT`, for deployments), `LEPTOS_SITE_ROOT` (set by
/// `cargo leptos serve`/`end-to-end`), else `target/site`. `LEPTOS_ENV` (`DEV`/`PROD`, default `PROD`) only
/// decides whether pages carry cargo-leptos' live-reload script; `LEPTOS_RELOAD_PORT` is honoured
/// when set, as cargo-leptos does. The site address is the address the server listens on (see
/// `config::listen_addr`, which honours `LEPTOS_SITE_ADDR`).
pub fn leptos_options(listen: SocketAddr, site_root: Option<PathBuf>) -> LeptosOptions {
    let site_root = match site_root {
        Some(dir) => dir.to_string_lossy().into_owned(),
        None => env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| DEFAULT_SITE_ROOT.to_owned()),
    };
    let env = env::var("LEPTOS_ENV").ok().and_then(|value| Env::try_from(value).ok()).unwrap_or(Env::PROD);
    let site_addr = listen;
    let reload_port = env::var("LEPTOS_RELOAD_PORT").ok().and_then(|value| value.parse::<u32>().ok()).unwrap_or(3001);

    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .env(env)
        .site_addr(site_addr)
        .reload_port(reload_port)
        .build()
}

/// The dashboard router: every route of `tessera_app::App` rendered on the server, its server
/// functions (under `/_fn/`, with `state` and `guard` in their context), plus a
/// streamed download of the audit log (`/audit/export`, see [`audit_export`]), plus a
/// fallback that serves files under the site root (`/pkg/…`, `/favicon.svg`) and renders the
/// app's 404 page (status 404) for anything else.
///
/// Merge it last: its fallback would otherwise shadow the REST API's own 404s.
pub fn router(options: LeptosOptions, state: AppState, guard: Arc<SignInGuard>) -> Router {
    let routes = generate_route_list(App);
    // Server functions and server rendering both get the services' state and the sign-in
    // limiter as Leptos context (see `tessera_app::server_fns`).
    let export = get(audit_export::audit_export).with_state(state.clone());
    let context = move || {
        provide_context(state.clone());
        provide_context(guard.clone());
    };
    Router::new()
        .route("/audit/export", export)
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler(shell))
        .with_state(options)
}
