//! [`AuditStore`]: the audit log (tables `audit_event` and `audit_head`), and [`append`], which
//! every audited method of the other files calls inside its own write transaction, after the
//! change's statements, so that the change and its event commit or roll back together.
//!
//! Compiled once per backend (see the crate docs).

use async_trait::async_trait;
use tessera_core::audit::GENESIS_HASH;
use tessera_core::{
    Actor, ActorType, AuditCheckpoint, AuditContext, AuditEvent, AuditQuery, AuditRecord, AuditStore, Error, OrgId,
    Result, Target, Timestamp,
};
use uuid::Uuid;

use super::{Backend, Db};
use crate::convert::{micros, micros_opt, storage, timestamp};

macro_rules! event_columns {
    () => {
        "id, org_id, seq, occurred_at, actor_type, actor_id, actor_label, action, target_type, target_id, ip, \
         user_agent, request_id, changes, prev_hash, hash"
    };
}

/// `$1` org_id. Takes the org's next `seq` and returns it with the previous event's hash (`''`
/// before the first event). The upsert locks the head row until the transaction ends, so
/// appenders of one org queue here: on PostgreSQL a second one waits for the first to commit and
/// then reads its `seq` and `hash` (`ON CONFLICT DO UPDATE` acts on the latest committed row);
/// on SQLite the write transaction already excludes every other writer.
const ADVANCE_HEAD: &str = "insert into audit_head (org_id, seq, hash) values ($1, 1, '') \
     on conflict (org_id) do update set seq = audit_head.seq + 1 returning seq, hash";

/// `$1` org_id, `$2` hash of the event just appended.
const SET_HEAD_HASH: &str = "update audit_head set hash = $2 where org_id = $1";

/// `$1` … `$16` in [`event_columns`]'s order.
const INSERT_EVENT: &str = concat!(
    "insert into audit_event (",
    event_columns!(),
    ") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
);

/// `$1` org_id, `$2` exact action, `$3` action prefix pattern (`member.%`), `$4` actor label,
/// `$5` actor id, `$6` target id, `$7` since (µs, inclusive), `$8` until (µs, exclusive), `$9`
/// before seq, `$10` limit. Every filter is skipped when its parameter is null. Newest first.
const LIST_EVENTS: &str = concat!(
    "select ",
    event_columns!(),
    " from audit_event where org_id = $1",
    " and ($2 is null or action = $2) and ($3 is null or action like $3 escape '\\')",
    " and ($4 is null or actor_label = $4 or actor_id = $5)",
    " and ($6 is null or target_id = $6)",
    " and ($7 is null or occurred_at >= $7) and ($8 is null or occurred_at < $8)",
    " and ($9 is null or seq < $9)",
    " order by seq desc limit $10"
);

/// `$1` org_id, `$2` after seq, `$3` limit. Oldest first: export and verification.
const EVENTS_AFTER: &str =
    concat!("select ", event_columns!(), " from audit_event where org_id = $1 and seq > $2 order by seq limit $3");

/// `$1` org_id.
const HEAD: &str = "select seq, hash from audit_head where org_id = $1";

/// `$1` org_id, `$2` UTC day (`YYYY-MM-DD`).
const CHECKPOINT: &str = "select seq, hash, taken_at from audit_checkpoint where org_id = $1 and day = $2";

/// `$1` org_id, `$2` UTC day, `$3` the genesis hash, `$4` now (µs). The day's checkpoint from
/// the head, unless one exists (then it stays as it is).
const TAKE_CHECKPOINT: &str = "insert into audit_checkpoint (org_id, day, seq, hash, taken_at) values ($1, $2, \
     coalesce((select seq from audit_head where org_id = $1), 0), \
     coalesce((select nullif(hash, '') from audit_head where org_id = $1), $3), $4) \
     on conflict (org_id, day) do nothing";

/// `$1` cutoff (µs): events that occurred before it.
const PURGE: &str = "delete from audit_event where occurred_at < $1";

/// Appends the event `record` of `org_id` through `conn`, inside the caller's write
/// transaction: takes the next `seq`, chains the event to the previous one and inserts it.
///
/// # Errors
/// [`Error::Storage`] if a statement fails; the caller's transaction must then roll back (it
/// does when dropped), which also undoes the change the event records.
pub(super) async fn append(
    conn: &mut <Db as sqlx::Database>::Connection,
    org_id: OrgId,
    context: &AuditContext,
    record: AuditRecord,
) -> Result<AuditEvent> {
    let (seq, prev): (i64, String) =
        sqlx::query_as(ADVANCE_HEAD).bind(org_id.0).fetch_one(&mut *conn).await.map_err(storage)?;
    let prev = if prev.is_empty() { GENESIS_HASH.to_owned() } else { prev };
    let seq = u64::try_from(seq).map_err(|_| Error::Internal(format!("audit head of org {org_id} has seq {seq}")))?;
    let event = AuditEvent::chained(Uuid::now_v7(), org_id, seq, &prev, context, record);
    let changes = serde_json::Value::Object(event.changes.clone()).to_string();
    sqlx::query(INSERT_EVENT)
        .bind(event.id)
        .bind(org_id.0)
        .bind(seq as i64)
        .bind(micros(event.occurred_at))
        .bind(event.actor.type_.as_str())
        .bind(event.actor.id)
        .bind(&event.actor.label)
        .bind(&event.action)
        .bind(&event.target.type_)
        .bind(&event.target.id)
        .bind(&event.ip)
        .bind(&event.user_agent)
        .bind(&event.request_id)
        .bind(changes)
        .bind(&event.prev_hash)
        .bind(&event.hash)
        .execute(&mut *conn)
        .await
        .map_err(storage)?;
    sqlx::query(SET_HEAD_HASH).bind(org_id.0).bind(&event.hash).execute(&mut *conn).await.map_err(storage)?;
    Ok(event)
}

#[async_trait]
impl AuditStore for Backend {
    async fn record_audit_event(
        &self,
        org_id: OrgId,
        context: &AuditContext,
        record: AuditRecord,
    ) -> Result<AuditEvent> {
        let mut tx = self.begin_write().await.map_err(storage)?;
        let event = append(&mut tx, org_id, context, record).await?;
        tx.commit().await.map_err(storage)?;
        Ok(event)
    }

    async fn list_audit_events(&self, org_id: OrgId, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let (exact, prefix) = match query.action.as_deref() {
            Some(a) if a.ends_with(".*") => (None, Some(format!("{}.%", escape_like(&a[..a.len() - 2])))),
            Some(a) if a.ends_with('.') => (None, Some(format!("{}%", escape_like(a)))),
            Some(a) => (Some(a.to_owned()), None),
            None => (None, None),
        };
        let actor_id = query.actor.as_deref().and_then(|a| Uuid::parse_str(a).ok());
        sqlx::query_as::<_, EventRow>(LIST_EVENTS)
            .bind(org_id.0)
            .bind(exact)
            .bind(prefix)
            .bind(query.actor.as_deref())
            .bind(actor_id)
            .bind(query.target.as_deref())
            .bind(micros_opt(query.since))
            .bind(micros_opt(query.until))
            .bind(query.before_seq.map(|s| i64::try_from(s).unwrap_or(i64::MAX)))
            .bind(i64::from(query.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(storage)?
            .into_iter()
            .map(EventRow::into_event)
            .collect()
    }

    async fn audit_events_after(&self, org_id: OrgId, after_seq: u64, limit: u32) -> Result<Vec<AuditEvent>> {
        sqlx::query_as::<_, EventRow>(EVENTS_AFTER)
            .bind(org_id.0)
            .bind(i64::try_from(after_seq).unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(storage)?
            .into_iter()
            .map(EventRow::into_event)
            .collect()
    }

    async fn audit_head(&self, org_id: OrgId) -> Result<Option<(u64, String)>> {
        let row: Option<(i64, String)> =
            sqlx::query_as(HEAD).bind(org_id.0).fetch_optional(&self.pool).await.map_err(storage)?;
        Ok(row.map(|(seq, hash)| (u64::try_from(seq).unwrap_or(0), hash)))
    }

    async fn audit_checkpoint(&self, org_id: OrgId, now: Timestamp) -> Result<AuditCheckpoint> {
        let day = now.to_offset(time::UtcOffset::UTC).date().to_string();
        let read = |row: (i64, String, i64)| -> Result<AuditCheckpoint> {
            Ok(AuditCheckpoint { seq: u64::try_from(row.0).unwrap_or(0), hash: row.1, taken_at: timestamp(row.2)? })
        };
        // Read first: the endpoint is public, and only the day's first call needs the write lock.
        let found: Option<(i64, String, i64)> =
            sqlx::query_as(CHECKPOINT).bind(org_id.0).bind(&day).fetch_optional(&self.pool).await.map_err(storage)?;
        if let Some(row) = found {
            return read(row);
        }
        let mut tx = self.begin_write().await.map_err(storage)?;
        sqlx::query(TAKE_CHECKPOINT)
            .bind(org_id.0)
            .bind(&day)
            .bind(GENESIS_HASH)
            .bind(micros(now))
            .execute(&mut *tx)
            .await
            .map_err(storage)?;
        let row = sqlx::query_as(CHECKPOINT).bind(org_id.0).bind(&day).fetch_one(&mut *tx).await.map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        read(row)
    }

    async fn purge_audit_events(&self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query(PURGE).bind(micros(before)).execute(&self.pool).await.map_err(storage)?;
        Ok(done.rows_affected())
    }
}

/// `s` with `like`'s wildcards taken literally: action names hold neither `%` nor `_` but `_`
/// (`api_key.`), which `like` would read as "any character", so it is escaped.
fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// An `audit_event` row.
#[derive(sqlx::FromRow)]
struct EventRow {
    id: Uuid,
    org_id: Uuid,
    seq: i64,
    occurred_at: i64,
    actor_type: String,
    actor_id: Option<Uuid>,
    actor_label: String,
    action: String,
    target_type: String,
    target_id: String,
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    changes: String,
    prev_hash: String,
    hash: String,
}

impl EventRow {
    /// The domain event, as stored (its hash is not checked here: `tessera audit verify` does).
    ///
    /// # Errors
    /// [`Error::Internal`] if a column cannot be read back (a corrupted row).
    fn into_event(self) -> Result<AuditEvent> {
        let corrupt = |what: &str| Error::Internal(format!("audit event {} has an invalid {what}", self.id));
        let changes = match serde_json::from_str(&self.changes) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(corrupt("changes")),
        };
        Ok(AuditEvent {
            id: self.id,
            org_id: OrgId(self.org_id),
            seq: u64::try_from(self.seq).map_err(|_| corrupt("seq"))?,
            occurred_at: timestamp(self.occurred_at)?,
            actor: Actor {
                type_: ActorType::parse(&self.actor_type).map_err(|_| corrupt("actor_type"))?,
                id: self.actor_id,
                label: self.actor_label,
            },
            action: self.action,
            target: Target { type_: self.target_type, id: self.target_id },
            ip: self.ip,
            user_agent: self.user_agent,
            request_id: self.request_id,
            changes,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}
