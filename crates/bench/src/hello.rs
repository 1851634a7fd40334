//! `tessera-bench hello`: a bare axum 0.8 server answering `GET /` with `hello`, run as its own
//! process so that its figures are the ceiling of this machine for an HTTP/1.1 keep-alive call.

use std::net::SocketAddr;

use anyhow::Context;
use axum::{routing::get, Router};

/// The hello router: `GET /` → 200 `hello`.
pub fn router() -> Router {
    Router::new().route("/", get(|| async { "hello" }))
}

/// Serves [`router`] on `addr` until SIGINT or SIGTERM.
///
/// # Errors
/// The address cannot be bound.
pub async fn serve(addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    axum::serve(listener, router()).with_graceful_shutdown(tessera_shutdown::signal()).await?;
    Ok(())
}
