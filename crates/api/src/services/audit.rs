//! Reading the audit log: the filtered, paged list behind the dashboard's `/audit` (and, with
//! scopes, `GET /v1/audit-events`) and the streamed export of a filtered view. Recording is not
//! here: each audited store method writes its event in its own transaction (see
//! `tessera_store::sql::audit`).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use futures_util::{stream, Stream};
use tessera_core::{
    audit::ACTIONS, error::Validation, page::DEFAULT_LIMIT, page::MAX_LIMIT, AuditEvent, AuditQuery, Error, OrgId,
    Page, Result, Timestamp,
};
use time::{format_description::well_known::Rfc3339, Date, Duration, Time};

use crate::{crypto::CheckpointClaims, services::orgs, AppState};

/// Events read per query by [`export`]: the memory an export holds at once, whatever its size.
pub const EXPORT_PAGE: u32 = 1000;

/// Longest `actor` or `target` filter accepted (bytes): an email is at most 254, an id 36.
const MAX_FILTER_BYTES: usize = 320;

/// Raw filters of the audit log, as a URL carries them (each may be absent or empty), validated
/// by [`query`].
#[derive(Clone, Debug, Default)]
pub struct ListInput {
    /// An action (`api_key.revoked`), or a family of them (`api_key.*`).
    pub action: Option<String>,
    /// An actor's id, email or key prefix (`tsk_…`), or a CLI user.
    pub actor: Option<String>,
    /// A target's id.
    pub target: Option<String>,
    /// Events at or after this time: RFC 3339 (`2026-12-01T08:00:00Z`) or a UTC date
    /// (`2026-12-01`, from its start).
    pub since: Option<String>,
    /// Events before this time: RFC 3339, or a UTC date (`2026-12-01`: up to the end of that
    /// day, so `since` and `until` of one date select that day).
    pub until: Option<String>,
    /// Page size, 1–200, default 50.
    pub limit: Option<u32>,
    /// Opaque cursor from a previous page.
    pub cursor: Option<String>,
}

/// Validates `input` into a store query (its `limit` is the page size asked for).
///
/// # Errors
/// [`Error::Invalid`] naming each bad field: `action` (not an audit action or family),
/// `actor`/`target` (over 320 bytes or holding U+0000), `since`/`until` (neither RFC 3339 nor a
/// date, or `until` not after `since`), `limit` (not 1–200), `cursor` (not from this list).
pub fn query(input: ListInput) -> Result<AuditQuery> {
    let mut v = Validation::default();
    let given = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let action = v.check(given(input.action).map(|a| parse_action(&a)).transpose());
    let actor = v.check(given(input.actor).map(|a| parse_filter("actor", a)).transpose());
    let target = v.check(given(input.target).map(|t| parse_filter("target", t)).transpose());
    let since = v.check(given(input.since).map(|s| parse_time("since", &s, false)).transpose());
    let until = v.check(given(input.until).map(|s| parse_time("until", &s, true)).transpose());
    if let (Some(Some(since)), Some(Some(until))) = (since, until) {
        if until <= since {
            v.check::<()>(Err(Error::invalid("until", "must be after since")));
        }
    }
    let limit = v.check(match input.limit.unwrap_or(DEFAULT_LIMIT) {
        l @ 1..=MAX_LIMIT => Ok(l),
        _ => Err(Error::invalid("limit", format!("must be from 1 to {MAX_LIMIT}"))),
    });
    let before_seq = v.check(given(input.cursor).map(|c| decode_cursor(&c)).transpose());
    let (action, actor, target, since, until, (limit, before_seq)) =
        v.finish((action, actor, target, since, until, limit.zip(before_seq)))?;
    Ok(AuditQuery { action, actor, target, since, until, before_seq, limit })
}

/// One page of the org's audit events that pass `input`'s filters, newest first.
///
/// # Errors
/// As [`query`]; storage errors.
pub async fn list(state: &AppState, org_id: OrgId, input: ListInput) -> Result<Page<AuditEvent>> {
    let mut query = query(input)?;
    let limit = query.limit;
    // One more than the page proves that another page exists.
    query.limit += 1;
    let mut data = state.store.list_audit_events(org_id, &query).await?;
    let next_cursor = (data.len() > limit as usize).then(|| {
        data.truncate(limit as usize);
        data.last().map(|e| encode_cursor(e.seq))
    });
    Ok(Page { data, next_cursor: next_cursor.flatten() })
}

/// Every org event that passes `query`'s filters (its `limit` and `before_seq` are ignored),
/// newest first, read [`EXPORT_PAGE`] at a time as the stream is polled: an export of a million
/// events never holds more than one page. The stream ends after its first error.
pub fn export(state: AppState, org_id: OrgId, query: AuditQuery) -> impl Stream<Item = Result<Vec<AuditEvent>>> {
    let first = AuditQuery { before_seq: None, limit: EXPORT_PAGE, ..query };
    stream::unfold(Some(first), move |next| {
        let state = state.clone();
        async move {
            let mut query = next?;
            match state.store.list_audit_events(org_id, &query).await {
                Ok(page) if page.is_empty() => None,
                Ok(page) => {
                    let more = page.len() == EXPORT_PAGE as usize;
                    query.before_seq = page.last().map(|e| e.seq);
                    Some((Ok(page), more.then_some(query)))
                }
                Err(e) => Some((Err(e), None)),
            }
        }
    })
}

/// The org's signed audit checkpoint of today (UTC), a compact JWT of [`CheckpointClaims`]
/// signed by the org's active key: taken by the day's first call, the same token all day.
///
/// # Errors
/// `NotFound { entity: Org }` (also for a malformed slug); storage errors.
pub async fn checkpoint(state: &AppState, slug: &str) -> Result<String> {
    let org = orgs::by_slug(state, slug).await?;
    let taken = state.store.audit_checkpoint(org.id, super::now()).await?;
    let keys = state.keys.org_keys(state.store.as_ref(), org.id).await?;
    let claims = CheckpointClaims {
        iss: state.config.issuer(&org.slug),
        seq: taken.seq,
        hash: taken.hash,
        iat: taken.taken_at.unix_timestamp(),
    };
    keys.sign(keys.active_key()?, &claims)
}

/// The claims of `token` if it is an audit checkpoint signed by one of the org's keys, for an
/// issuer of the org (`…/o/{slug}`: under whichever public URL it was served).
///
/// # Errors
/// [`Error::Invalid`] on `checkpoint` for anything else (another org's, a user token, an
/// altered token); storage errors loading the keys.
pub async fn verify_checkpoint(state: &AppState, org: &tessera_core::Org, token: &str) -> Result<CheckpointClaims> {
    let keys = state.keys.org_keys(state.store.as_ref(), org.id).await?;
    let path = format!("/o/{}", org.slug);
    // The JWT alone, or the endpoint's whole answer `{"checkpoint": "…"}`.
    let token = token.trim();
    let token = match serde_json::from_str::<serde_json::Value>(token) {
        Ok(answer) => answer["checkpoint"].as_str().unwrap_or_default().to_owned(),
        Err(_) => token.to_owned(),
    };
    keys.verify_checkpoint(&token)
        .filter(|claims| claims.iss.ends_with(&path))
        .ok_or_else(|| Error::invalid("checkpoint", "is not an audit checkpoint signed by this org's keys"))
}

/// The cursor after the event at `seq` (opaque to clients: base64url of `s{seq}`).
fn encode_cursor(seq: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("s{seq}"))
}

fn decode_cursor(s: &str) -> Result<u64> {
    URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|raw| raw.strip_prefix('s')?.parse().ok())
        .ok_or_else(|| Error::invalid("cursor", "is not a cursor returned by this list"))
}

fn parse_action(a: &str) -> Result<String> {
    let family = a.strip_suffix(".*").or_else(|| a.strip_suffix('.'));
    let known = match family {
        Some(f) => ACTIONS.iter().any(|known| known.split_once('.').is_some_and(|(head, _)| head == f)),
        None => ACTIONS.contains(&a),
    };
    if known {
        Ok(a.to_owned())
    } else {
        Err(Error::invalid("action", "is not an audit action (e.g. api_key.revoked) or a family of them (api_key.*)"))
    }
}

fn parse_filter(field: &'static str, value: String) -> Result<String> {
    if value.len() > MAX_FILTER_BYTES {
        Err(Error::invalid(field, format!("must be at most {MAX_FILTER_BYTES} bytes")))
    } else if value.contains('\0') {
        Err(Error::invalid(field, "must not contain the character U+0000"))
    } else {
        Ok(value)
    }
}

/// RFC 3339, or a date in UTC: its start, or for `end_of_day` the start of the next day.
fn parse_time(field: &'static str, s: &str, end_of_day: bool) -> Result<Timestamp> {
    if let Ok(t) = Timestamp::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    match Date::parse(s, &date_format) {
        Ok(d) => {
            let start = d.with_time(Time::MIDNIGHT).assume_utc();
            Ok(if end_of_day { start + Duration::DAY } else { start })
        }
        Err(_) => Err(Error::invalid(field, "must be a time (2026-12-01T08:00:00Z) or a date (2026-12-01)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn input() -> ListInput {
        ListInput::default()
    }

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::Invalid(f) => f.into_iter().map(|f| f.field).collect(),
            other => panic!("not a validation error: {other}"),
        }
    }

    #[test]
    fn empty_filters_are_absent() {
        let q = query(ListInput { action: Some(" ".into()), actor: Some(String::new()), ..input() }).unwrap();
        assert_eq!((q.action, q.actor, q.limit, q.before_seq), (None, None, DEFAULT_LIMIT, None));
    }

    #[test]
    fn actions_and_families_must_exist() {
        for ok in ["api_key.revoked", "member.*", "user_token."] {
            assert_eq!(query(ListInput { action: Some(ok.into()), ..input() }).unwrap().action.as_deref(), Some(ok));
        }
        for bad in ["api_key", "api_key.stolen", "nope.*", "%.*"] {
            assert_eq!(fields(query(ListInput { action: Some(bad.into()), ..input() }).unwrap_err()), ["action"]);
        }
    }

    #[test]
    fn dates_cover_whole_days_and_until_must_follow_since() {
        let q =
            query(ListInput { since: Some("2026-12-01".into()), until: Some("2026-12-01".into()), ..input() }).unwrap();
        assert_eq!(q.since, Some(datetime!(2026-12-01 00:00 UTC)));
        assert_eq!(q.until, Some(datetime!(2026-12-02 00:00 UTC)));
        let q = query(ListInput { since: Some("2026-12-01T08:30:00+01:00".into()), ..input() }).unwrap();
        assert_eq!(q.since, Some(datetime!(2026-12-01 07:30 UTC)));
        let e = query(ListInput {
            since: Some("2026-12-02".into()),
            until: Some("2026-12-01T00:00:00Z".into()),
            ..input()
        })
        .unwrap_err();
        assert_eq!(fields(e), ["until"]);
        let e = query(ListInput { since: Some("yesterday".into()), until: Some("1/12/2026".into()), ..input() })
            .unwrap_err();
        assert_eq!(fields(e), ["since", "until"]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = query(ListInput {
            actor: Some("a\0b".into()),
            target: Some("x".repeat(321)),
            limit: Some(0),
            cursor: Some("not-a-cursor".into()),
            ..input()
        })
        .unwrap_err();
        assert_eq!(fields(e), ["actor", "target", "limit", "cursor"]);
        assert!(query(ListInput { limit: Some(201), ..input() }).is_err());
    }

    #[test]
    fn cursors_round_trip() {
        let q = query(ListInput { cursor: Some(encode_cursor(42)), limit: Some(200), ..input() }).unwrap();
        assert_eq!((q.before_seq, q.limit), (Some(42), 200));
    }
}
