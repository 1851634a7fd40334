//! Server functions: one per file, grouped by area. Each checks the member's session and role
//! and calls the same services as the REST API (`tessera_api::services`); state-changing ones
//! also check the `Origin` header. They are served under [`PREFIX`].

// `#[server]` turns each function's parameters into the fields of a generated struct, and
// parameters cannot carry doc comments; each function's own doc says what they mean.
#[allow(missing_docs)]
pub mod auth;
#[cfg(feature = "ssr")]
pub(crate) mod context;
#[allow(missing_docs)]
pub mod keys;
#[allow(missing_docs)]
pub mod overview;

/// URL prefix of every dashboard server function (kept apart from the REST API's paths).
pub const PREFIX: &str = "/_fn";
