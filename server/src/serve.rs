//! `tessera serve`: the HTTP server with the REST API, the JWKS and the dashboard.

use std::time::Duration;

use anyhow::Context;

use crate::cli::{ServeArgs, StorageArgs};
use crate::{commands, config, http, web};

/// Opens the database (creating and migrating it if needed), then serves until SIGINT/SIGTERM
/// ([`http::serve`]: connection cap, header-read and idle timeouts; [`tessera_api::request_timeout`]).
/// On the signal it takes no new connection, answers the requests in flight and commits the
/// token rows handed to the writer ([`tessera_api::group_commit::TokenWriter::close`]), all
/// within `--shutdown-timeout-seconds`.
///
/// # Errors
/// Configuration, database or bind failures; the shutdown deadline passing with work left.
pub async fn run(args: ServeArgs, storage: StorageArgs) -> anyhow::Result<()> {
    let listen = config::listen_addr(args.listen, std::env::var("LEPTOS_SITE_ADDR").ok().as_deref())?;
    let public_url = config::public_url(args.public_url.as_deref(), listen)?;
    let api = tessera_api::ApiConfig {
        cache_ttl: std::time::Duration::from_secs(args.cache_ttl_seconds),
        trusted_proxies: tessera_api::client_addr::TrustedProxies {
            networks: args.trusted_proxies.clone(),
            header: args.forwarded_header.into(),
        },
        ..tessera_api::ApiConfig::new(&public_url)
    };
    let state = commands::state(&storage, api).await?;
    let guard = std::sync::Arc::new(tessera_api::services::sign_in::SignInGuard::new());
    tokio::spawn(purge_idempotency_keys(state.store.clone()));
    tokio::spawn(purge_sessions(state.clone(), guard.clone()));
    tokio::spawn(purge_audit_events(state.store.clone(), args.audit_retention_days));
    tokio::spawn(number_audit_events(state.store.clone()));
    let dashboard = web::router(web::leptos_options(listen, args.site_root), state.clone(), guard);
    let request_timeout = Duration::from_secs(args.request_timeout_seconds);
    let metrics = tessera_api::metrics::router(tessera_api::metrics::MetricsState {
        handle: tessera_api::metrics::install(),
        store: state.store.clone(),
    });
    tokio::spawn(metrics_upkeep());
    let mut app = tessera_api::router(state.clone()).merge(dashboard);
    match args.metrics_listen {
        None => app = app.merge(metrics),
        Some(addr) => serve_metrics(addr, metrics).await?,
    }
    let app = tessera_api::http_layers(tessera_api::request_timeout(app, request_timeout));
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    log_serving(listen, &public_url, &storage.database_url);
    let limits = http::Limits {
        header_read_timeout: Duration::from_secs(args.header_read_timeout_seconds),
        idle_timeout: Duration::from_secs(args.idle_timeout_seconds),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
    };
    // Each request carries `ConnectInfo<SocketAddr>`: the failure throttles (sign-in, API keys)
    // read the peer's address from it.
    let connections = http::serve(listener, app, limits, tessera_shutdown::signal()).await;
    let deadline = Duration::from_secs(args.shutdown_timeout_seconds);
    tracing::info!(
        connections = connections.count(),
        deadline_seconds = deadline.as_secs(),
        "shutting down: no new connections; finishing the requests in flight"
    );
    let finish = async {
        connections.shutdown().await;
        // No request is left to hand the writer a row; commit those it holds.
        state.token_writer.close().await;
    };
    if tokio::time::timeout(deadline, finish).await.is_err() {
        tracing::error!(
            deadline_seconds = deadline.as_secs(),
            "the shutdown deadline passed with requests or token rows unfinished; exiting anyway"
        );
        anyhow::bail!("shutdown deadline of {} s passed with work unfinished", deadline.as_secs());
    }
    tracing::info!("stopped");
    Ok(())
}

/// Serves `metrics` (`GET /metrics` alone) on a listener of its own at `addr`, in a task of its
/// own, until SIGINT/SIGTERM.
///
/// # Errors
/// When `addr` cannot be bound.
async fn serve_metrics(addr: std::net::SocketAddr, metrics: axum::Router) -> anyhow::Result<()> {
    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen for metrics on {addr}"))?;
    tracing::info!(metrics_listen = %addr, "serving /metrics on its own listener");
    tokio::spawn(async move {
        let serving = axum::serve(listener, tessera_api::http_layers(metrics))
            .with_graceful_shutdown(tessera_shutdown::signal())
            .await;
        if let Err(e) = serving {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    });
    Ok(())
}

/// Every 5 seconds, folds the histogram samples the recorder buffered into their buckets
/// ([`tessera_api::metrics::upkeep`]), so memory stays bounded when nobody scrapes `/metrics`.
async fn metrics_upkeep() {
    let handle = tessera_api::metrics::install();
    let mut every = tokio::time::interval(Duration::from_secs(5));
    loop {
        every.tick().await;
        tessera_api::metrics::upkeep(&handle);
    }
}

/// How often pending audit events are numbered into their org's chain. Readers of the log
/// number first, so this only bounds how long an event waits for its `seq` while nobody reads.
const AUDIT_NUMBERING_INTERVAL: Duration = Duration::from_millis(250);

/// Every [`AUDIT_NUMBERING_INTERVAL`], numbers the audit events recorded since (by this instance
/// or any other on the same database; see `AuditStore::number_audit_events`). A failing database
/// is logged once until it works again.
async fn number_audit_events(store: std::sync::Arc<dyn tessera_core::Store>) {
    let mut every = tokio::time::interval(AUDIT_NUMBERING_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        every.tick().await;
        match store.number_audit_events().await {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("audit events are numbered again");
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "could not number audit events; retrying every quarter second");
            }
            Err(_) => {}
        }
    }
}

/// Every hour, deletes audit events older than `retention_days` (`--audit-retention-days`). With
/// several instances each does it; the deletes are idempotent.
async fn purge_audit_events(store: std::sync::Arc<dyn tessera_core::Store>, retention_days: u32) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let before = tessera_api::services::now() - time::Duration::days(i64::from(retention_days));
        match store.purge_audit_events(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, retention_days, "audit events past their retention removed"),
            Err(e) => tracing::warn!(error = %e, "could not purge old audit events"),
        }
    }
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

/// Every hour, deletes ended dashboard sessions and forgets stale throttle state (sign-in, API
/// keys).
async fn purge_sessions(
    state: tessera_api::AppState,
    guard: std::sync::Arc<tessera_api::services::sign_in::SignInGuard>,
) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        guard.forget_old();
        state.api_key_failures.forget_old();
        match tessera_api::services::sessions::purge_expired(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "ended dashboard sessions removed"),
            Err(e) => tracing::warn!(error = %e, "could not purge ended dashboard sessions"),
        }
    }
}

/// Logs that the server is up, where, and on which database, its URL shown by
/// [`tessera_store::redact_url`] (no user info, no query string: either may hold a password).
fn log_serving(listen: std::net::SocketAddr, public_url: &str, database_url: &str) {
    tracing::info!(%listen, %public_url, database = %tessera_store::redact_url(database_url), "tessera is serving");
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    /// Log output collected in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The line `log_serving` writes for `database_url`.
    fn serving_line(database_url: &str) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        tracing::subscriber::with_default(subscriber, || {
            super::log_serving("127.0.0.1:3000".parse().unwrap(), "http://127.0.0.1:3000", database_url);
        });
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn the_startup_line_hides_database_passwords() {
        let line = serving_line("postgres://app@db/t?password=s3cret");
        assert!(line.contains("tessera is serving") && line.contains("database=postgres://***@db/t?…"), "{line}");
        assert!(!line.contains("s3cret") && !line.contains("password"), "{line}");
        let line = serving_line("postgres://app:s3cret@db:5432/t");
        assert!(line.contains("database=postgres://***@db:5432/t") && !line.contains("s3cret"), "{line}");
        assert!(serving_line("sqlite://data/tessera.db").contains("database=sqlite://data/tessera.db"));
    }
}
