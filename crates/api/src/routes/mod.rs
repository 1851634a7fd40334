//! REST routes, one module per resource, each with its own `router()`; and the wire types
//! (`…In` / `…Out`) they share.

mod claimr;
mod health;
mod introspection;
mod jwks;
mod user_tokens;
mod users;
pub mod wire;

use axum::Router;

use crate::AppState;

/// Every REST route (without middleware; see [`crate::router`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(claimr::router())
        .merge(users::router())
        .merge(user_tokens::router())
        .merge(introspection::router())
        .merge(jwks::router())
        .merge(health::router())
}
