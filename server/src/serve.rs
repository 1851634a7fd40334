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
    let public_url = config::public_url(args.public_url.as_deref(), args.listen)?;
    let state = commands::state(&storage, &public_url).await?;
    tokio::spawn(purge_idempotency_keys(state.store.clone()));
    let app = tessera_api::http_layers(tessera_api::router(state).merge(web::router(web::leptos_options())));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(listen = %args.listen, %public_url, database = %redact(&storage.database_url), "tessera is serving");
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
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

/// The database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => format!("{}://***{}", &url[..scheme_end], &url[at..]),
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
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
