//! The audit log (admins and owners): one filtered page of events, newest first. The export of
//! a filtered view is not a server function but a streamed download, `GET /audit/export` (see
//! `tessera-server`'s `web::audit_export`).

mod list;

use serde::{Deserialize, Serialize};

pub use list::{list_audit_events, ListAuditEvents, PAGE_SIZE};

/// One row of the audit table. Times are preformatted on the server (UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Position in the org's log (1, 2, 3, …).
    pub seq: u64,
    /// When it happened, e.g. `2026-11-21 15:04 UTC`.
    pub occurred: String,
    /// The exact time, RFC 3339 with microseconds.
    pub occurred_at: String,
    /// `member`, `api_key`, `cli` or `system`.
    pub actor_type: String,
    /// The actor's email, key prefix or OS user.
    pub actor_label: String,
    /// Dotted action name, e.g. `api_key.revoked`.
    pub action: String,
    /// What it is about: its type (`user`, `api_key`, …) and id.
    pub target_type: String,
    /// The target's id.
    pub target_id: String,
    /// The client's address, when there was a request.
    pub ip: Option<String>,
    /// The request's user agent.
    pub user_agent: Option<String>,
    /// The request's id (`X-Request-Id`).
    pub request_id: Option<String>,
    /// The event's `changes` as indented JSON.
    pub changes: String,
    /// The event's hash (hex SHA-256).
    pub hash: String,
}

/// One page of the audit table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditList {
    /// Newest first; at most the page size.
    pub events: Vec<AuditRow>,
    /// Cursor of the next (older) page, `None` on the last page.
    pub next_cursor: Option<String>,
}
