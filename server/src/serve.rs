//! `tessera serve`: the HTTP server with the REST API, the JWKS and the dashboard.

use anyhow::Context;

use crate::cli::{ServeArgs, StorageArgs};
use crate::{commands, config, web};

/// Opens the database (creating and migrating it if needed), then serves until SIGINT/SIGTERM,
/// finishing in-flight requests before exiting.
///
/// # Errors
/// Configuration, database or bind failures.
pub async fn run(args: ServeArgs, storage: StorageArgs) -> anyhow::Result<()> {
    let listen = config::listen_addr(args.listen, std::env::var("LEPTOS_SITE_ADDR").ok().as_deref())?;
    let public_url = config::public_url(args.public_url.as_deref(), listen)?;
    let state = commands::state(&storage, &public_url).await?;
    let guard = std::sync::Arc::new(tessera_api::services::sign_in::SignInGuard::new());
    tokio::spawn(purge_idempotency_keys(state.store.clone()));
    tokio::spawn(purge_sessions(state.clone(), guard.clone()));
    let dashboard = web::router(web::leptos_options(listen), state.clone(), guard);
    let app = tessera_api::http_layers(tessera_api::router(state).merge(dashboard));
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(%listen, %public_url, database = %redact(&storage.database_url), "tessera is serving");
    // Connect info gives the dashboard's sign-in throttle the client's address.
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(tessera_shutdown::signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Every hour, deletes idempotency records past their 24-hour window. With several instances each
/// does it; the deletes are idempotent.
async fn purge_idempotency_keys(store: std::sync::Arc<dyn tessera_core::Store>) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let before = tessera_api::services::now() - time::Duration::seconds(tessera_api::idempotency::WINDOW_SECONDS);
        match store.purge_idempotency_keys(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "expired idempotency keys removed"),
            Err(e) => tracing::warn!(error = %e, "could not purge expired idempotency keys"),
        }
    }
}

/// Every hour, deletes ended dashboard sessions and forgets stale sign-in throttle state.
async fn purge_sessions(
    state: tessera_api::AppState,
    guard: std::sync::Arc<tessera_api::services::sign_in::SignInGuard>,
) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        guard.forget_old();
        match tessera_api::services::sessions::purge_expired(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "ended dashboard sessions removed"),
            Err(e) => tracing::warn!(error = %e, "could not purge ended dashboard sessions"),
        }
    }
}

/// The database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => format!("{}://***{}", &url[..scheme_end], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(super::redact("postgres://u:secret@db:5432/t"), "postgres://***@db:5432/t");
        assert_eq!(super::redact("sqlite://data/tessera.db"), "sqlite://data/tessera.db");
    }
}
