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

/// A time as the dashboard shows it, in UTC to the minute: `2026-11-21 15:04 UTC`. Formatted on
/// the server so the server-rendered and the hydrated page agree.
#[cfg(feature = "ssr")]
pub(crate) fn format_time(t: tessera_core::Timestamp) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}
