//! REST routes, one module per resource, each with its own `router()`; and the wire types
//! (`…In` / `…Out`) they share.

mod audit;
mod claimr;
mod health;
mod introspection;
mod jwks;
mod user_tokens;
mod users;
pub mod wire;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::{openapi::ApiDoc, AppState};

/// Every REST route with its OpenAPI description (without middleware; see [`crate::router`]).
/// Routes and document come from the same `routes!` calls, so neither can miss the other.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(claimr::router())
        .merge(users::router())
        .merge(user_tokens::router())
        .merge(introspection::router())
        .merge(jwks::router())
        .merge(audit::router())
        .merge(health::router())
}
