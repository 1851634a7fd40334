//! `GET /audit/export?format=jsonl|csv&action=&actor=&target=&since=&until=`: the dashboard's
//! download of a filtered view of the audit log, for admins and owners (session cookie). Every
//! event that passes the filters, newest first, streamed as it is read from the store
//! (`services::audit::export`, 1,000 events at a time), so a million events never sit in memory.
//!
//! JSON Lines holds each event exactly as `tessera audit export` does; CSV has one column per
//! field (`changes` as JSON), quoted as RFC 4180, and a cell that a spreadsheet would read as a
//! formula (starting with `=`, `+`, `-`, `@`, tab or carriage return: user agents come from
//! anyone) gets a leading `'` (OWASP "CSV injection").

use std::io;

use axum::{
    body::{Body, Bytes},
    extract::{Query, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use futures_util::{stream, StreamExt};
use serde::Deserialize;
use tessera_api::{extract::OrgMember, services::audit, ApiError, AppState};
use tessera_core::{AuditEvent, Error, Role};

/// The export's query string; every filter as `services::audit::ListInput` takes it.
#[derive(Debug, Default, Deserialize)]
pub struct ExportParams {
    /// `jsonl` (default) or `csv`.
    format: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    target: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

#[derive(Clone, Copy)]
enum Format {
    JsonLines,
    Csv,
}

/// The CSV columns, in order.
const CSV_HEADER: [&str; 15] = [
    "seq",
    "id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "ip",
    "user_agent",
    "request_id",
    "changes",
    "prev_hash",
    "hash",
];

/// The handler. Answers 401 without a session, 403 for a viewer, 422 (problem+json naming the
/// field) for a bad filter or format, 503 when the store cannot be read at the start; a store
/// failure after the first page ends the download early (the client sees a truncated body).
pub async fn audit_export(
    State(state): State<AppState>,
    member: Result<OrgMember, ApiError>,
    Query(params): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let member = member?;
    member.require(Role::Admin)?;
    let format = match params.format.as_deref().map(str::trim) {
        None | Some("" | "jsonl") => Format::JsonLines,
        Some("csv") => Format::Csv,
        Some(_) => return Err(Error::invalid("format", "must be jsonl or csv").into()),
    };
    let input = audit::ListInput {
        action: params.action,
        actor: params.actor,
        target: params.target,
        since: params.since,
        until: params.until,
        limit: None,
        cursor: None,
    };
    let query = audit::query(input)?;
    let mut pages = Box::pin(audit::export(state, member.org.id, query));
    // The first page is read before answering, so an unreadable store is a 503, not a 200 with
    // an empty body.
    let first = pages.next().await.transpose()?.unwrap_or_default();
    let header_row = match format {
        Format::Csv => Some(csv_rows(&[], true)),
        Format::JsonLines => None,
    };
    let rest = pages.filter_map(|page| async move {
        match page {
            Ok(events) => Some(Ok(events)),
            Err(e) => {
                tracing::error!(error = %e, "audit export: the store failed part-way; the download ends early");
                Some(Err(io::Error::other("the audit log could not be read")))
            }
        }
    });
    let body = stream::iter(header_row.map(Ok::<_, io::Error>)).chain(
        stream::once(async { Ok(first) }).chain(rest).map(move |page| page.map(|events| encode(format, &events))),
    );
    let (content_type, extension) = match format {
        Format::JsonLines => ("application/jsonl", "jsonl"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let disposition = format!("attachment; filename=\"audit-{}.{extension}\"", member.org.slug);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|_| Error::Internal("slug".into()))?,
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

fn encode(format: Format, events: &[AuditEvent]) -> Bytes {
    match format {
        Format::JsonLines => {
            let mut out = Vec::with_capacity(events.len() * 512);
            for e in events {
                // An event is plain data (strings, numbers, a JSON object): it always serializes.
                if serde_json::to_writer(&mut out, e).is_ok() {
                    out.push(b'\n');
                }
            }
            Bytes::from(out)
        }
        Format::Csv => csv_rows(events, false),
    }
}

fn csv_rows(events: &[AuditEvent], header: bool) -> Bytes {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(events.len() * 512));
    let mut write = |record: &[&str]| -> Result<(), csv::Error> {
        w.write_record(record.iter().map(|c| neutralize(c).into_owned()))
    };
    let result: Result<(), csv::Error> = if header {
        write(&CSV_HEADER)
    } else {
        events.iter().try_for_each(|e| {
            let (seq, id, at) = (e.seq.to_string(), e.id.to_string(), tessera_core::audit::format_time(e.occurred_at));
            let actor_id = e.actor.id.map(|id| id.to_string()).unwrap_or_default();
            let changes = serde_json::Value::Object(e.changes.clone()).to_string();
            let opt = |s: &Option<String>| s.clone().unwrap_or_default();
            let (ip, ua, rid) = (opt(&e.ip), opt(&e.user_agent), opt(&e.request_id));
            write(&[
                &seq,
                &id,
                &at,
                e.actor.type_.as_str(),
                &actor_id,
                &e.actor.label,
                &e.action,
                &e.target.type_,
                &e.target.id,
                &ip,
                &ua,
                &rid,
                &changes,
                &e.prev_hash,
                &e.hash,
            ])
        })
    };
    // Writing to a Vec cannot fail; a failure would only drop rows, never corrupt one.
    if let Err(e) = result {
        tracing::error!(error = %e, "audit export: a CSV row could not be written");
    }
    Bytes::from(w.into_inner().unwrap_or_default())
}

/// `cell`, with a leading `'` when a spreadsheet would take it for a formula.
fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralized_and_others_kept() {
        assert_eq!(neutralize("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralize("-1+2"), "'-1+2");
        assert_eq!(neutralize("curl/8.5"), "curl/8.5");
        let header = String::from_utf8(csv_rows(&[], true).to_vec()).unwrap();
        assert_eq!(header.trim_end(), CSV_HEADER.join(","));
    }
}
