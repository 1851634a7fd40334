//! Server functions: one per file, grouped by area. Each gets the member from the REST API's
//! `OrgMember` extractor and checks their role (`context::require`; `context::change_by` for a
//! state-changing call, which also checks the `Origin` header), then calls the same services as
//! the REST API (`tessera_api::services`). They are served under [`PREFIX`].

// `#[server]` turns each function's parameters into the fields of a generated struct, and
// parameters cannot carry doc comments; each function's own doc says what they mean.
#[allow(missing_docs)]
pub mod audit;
#[allow(missing_docs)]
pub mod auth;
#[cfg(feature = "ssr")]
pub(crate) mod context;
#[allow(missing_docs)]
pub mod keys;
#[allow(missing_docs)]
pub mod members;
#[allow(missing_docs)]
pub mod overview;
#[allow(missing_docs)]
pub mod users;

/// URL prefix of every dashboard server function (kept apart from the REST API's paths).
pub const PREFIX: &str = "/_fn";

/// A time as the dashboard shows it, in UTC to the minute: `2026-11-21 15:04 UTC`. Formatted on
/// the server so the server-rendered and the hydrated page agree.
#[cfg(feature = "ssr")]
pub(crate) fn format_time(t: tessera_core::Timestamp) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// Parses an id taken from a URL or a form (a UUID); anything else is [`AppError::NotFound`] for
/// `entity`, as an unknown id would be. A parsed id prints as a hyphenated UUID, so it can go
/// back into a redirect path unescaped.
///
/// [`AppError::NotFound`]: crate::error::AppError::NotFound
#[cfg(feature = "ssr")]
pub(crate) fn parse_id<T: std::str::FromStr>(s: &str, entity: &str) -> Result<T, crate::error::AppError> {
    s.trim().parse().map_err(|_| crate::error::AppError::NotFound(entity.to_owned()))
}
