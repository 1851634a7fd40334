//! [`AuditStore`]: the audit log (tables `audit_pending`, `audit_event`, `audit_head` and
//! `audit_checkpoint`), and [`append`], which every audited method of the other files calls
//! inside its own write transaction, after the change's statements, so that the change and its
//! event commit or roll back together.
//!
//! Recording is two steps. [`append`] inserts the event into `audit_pending`, in the change's
//! transaction: a plain insert, so concurrent changes do not wait for each other (on PostgreSQL
//! they share a WAL flush). Numbering ([`AuditStore::number_audit_events`]) then moves pending
//! events, oldest first, into `audit_event` with their `seq`, `prev_hash` and `hash`, hundreds per
//! transaction, one numberer at a time (an advisory lock on PostgreSQL, the write lock on SQLite).
//! `tessera serve` numbers every quarter second and every read of the log numbers
//! first, so no reader ever sees the log without an event whose change committed. Numbering
//! inside the change's transaction instead held the head row's lock through each commit's flush
//! and serialized every audited change of an org: revoking 10,000 tokens over REST took 98%
//! longer on PostgreSQL (docs/performance.md).
//!
//! Compiled once per backend (see the crate docs).

use async_trait::async_trait;
use tessera_core::audit::GENESIS_HASH;
use tessera_core::{
    Actor, ActorType, AuditCheckpoint, AuditContext, AuditEvent, AuditQuery, AuditRecord, AuditStore, Error, OrgId,
    Result, Target, Timestamp,
};
use uuid::Uuid;

use super::{Backend, Db, ROW_LOCKS};
use crate::convert::{micros, micros_opt, storage, timestamp};

macro_rules! event_columns {
    () => {
        "id, org_id, seq, occurred_at, actor_type, actor_id, actor_label, action, target_type, target_id, ip, \
         user_agent, request_id, changes, prev_hash, hash"
    };
}

/// Pending events moved per numbering transaction.
const NUMBERING_BATCH: i64 = 500;

/// The columns of a pending event: [`event_columns`] without `seq`, `prev_hash` and `hash`.
macro_rules! pending_columns {
    () => {
        "id, org_id, occurred_at, actor_type, actor_id, actor_label, action, target_type, target_id, ip, \
         user_agent, request_id, changes"
    };
}

/// `$1` … `$13` in [`pending_columns`]'s order.
const INSERT_PENDING: &str = concat!(
    "insert into audit_pending (",
    pending_columns!(),
    ") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
);

/// Whether anything waits to be numbered.
const ANY_PENDING: &str = "select 1 from audit_pending limit 1";

/// PostgreSQL only ([`ROW_LOCKS`]): one numberer at a time across every instance, until its
/// transaction ends. The key is arbitrary and fixed (`tessera.audit` as an `int8`).
const NUMBERING_LOCK: &str = "select pg_advisory_xact_lock(7451200212)";

/// `$1` batch size. Takes the oldest pending events out, as [`EventRow`]s without a place in the
/// chain yet.
const TAKE_PENDING: &str =
    "delete from audit_pending where id in (select id from audit_pending order by occurred_at, id limit $1) \
     returning id, org_id, cast(0 as bigint) as seq, occurred_at, actor_type, actor_id, actor_label, action, \
     target_type, target_id, ip, user_agent, request_id, changes, '' as prev_hash, '' as hash";

/// `$1` org_id, `$2` seq, `$3` hash of the org's latest event.
const SET_HEAD: &str = "insert into audit_head (org_id, seq, hash) values ($1, $2, $3) \
     on conflict (org_id) do update set seq = excluded.seq, hash = excluded.hash";

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

/// `$1` event id.
const EVENT_BY_ID: &str = concat!("select ", event_columns!(), " from audit_event where id = $1");

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

/// Records the event `record` of `org_id` through `conn`, inside the caller's write
/// transaction, as a pending event (numbered into the chain after the commit: module docs).
/// Returns the event, whose `seq`, `prev_hash` and `hash` are not known yet (0 and empty).
///
/// # Errors
/// [`Error::Storage`] if the insert fails; the caller's transaction must then roll back (it
/// does when dropped), which also undoes the change the event records.
pub(super) async fn append(
    conn: &mut <Db as sqlx::Database>::Connection,
    org_id: OrgId,
    context: &AuditContext,
    record: AuditRecord,
) -> Result<AuditEvent> {
    let mut event = AuditEvent::chained(Uuid::now_v7(), org_id, 0, GENESIS_HASH, context, record);
    (event.seq, event.prev_hash, event.hash) = (0, String::new(), String::new());
    let changes = serde_json::Value::Object(event.changes.clone()).to_string();
    sqlx::query(INSERT_PENDING)
        .bind(event.id)
        .bind(org_id.0)
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
        .execute(&mut *conn)
        .await
        .map_err(storage)?;
    Ok(event)
}

/// Inserts `event`, numbered and chained, into `audit_event`.
async fn insert_event(conn: &mut <Db as sqlx::Database>::Connection, event: &AuditEvent) -> Result<()> {
    let changes = serde_json::Value::Object(event.changes.clone()).to_string();
    sqlx::query(INSERT_EVENT)
        .bind(event.id)
        .bind(event.org_id.0)
        .bind(i64::try_from(event.seq).map_err(|_| Error::Internal("audit seq out of range".into()))?)
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
    Ok(())
}

impl Backend {
    /// Numbers one batch of pending events in one transaction; returns how many.
    async fn number_batch(&self) -> Result<usize> {
        let mut tx = self.begin_write().await.map_err(storage)?;
        if ROW_LOCKS {
            sqlx::query(NUMBERING_LOCK).execute(&mut *tx).await.map_err(storage)?;
        }
        let rows: Vec<EventRow> =
            sqlx::query_as(TAKE_PENDING).bind(NUMBERING_BATCH).fetch_all(&mut *tx).await.map_err(storage)?;
        let taken = rows.len();
        let mut events = rows.into_iter().map(EventRow::into_event).collect::<Result<Vec<_>>>()?;
        // `returning` keeps no order: oldest first, per org.
        events.sort_by_key(|e| (e.org_id.0, e.occurred_at, e.id));
        let mut head: Option<(OrgId, u64, String)> = None;
        for mut event in events {
            let (seq, prev) = match head.take() {
                Some((org, seq, hash)) if org == event.org_id => (seq, hash),
                other => {
                    if let Some((org, seq, hash)) = other {
                        set_head(&mut tx, org, seq, &hash).await?;
                    }
                    let row: Option<(i64, String)> =
                        sqlx::query_as(HEAD).bind(event.org_id.0).fetch_optional(&mut *tx).await.map_err(storage)?;
                    row.map_or((0, GENESIS_HASH.to_owned()), |(seq, hash)| (u64::try_from(seq).unwrap_or(0), hash))
                }
            };
            event.seq = seq + 1;
            event.prev_hash = prev;
            event.hash = tessera_core::audit::event_hash(&event);
            insert_event(&mut tx, &event).await?;
            head = Some((event.org_id, event.seq, event.hash));
        }
        if let Some((org, seq, hash)) = head {
            set_head(&mut tx, org, seq, &hash).await?;
        }
        tx.commit().await.map_err(storage)?;
        Ok(taken)
    }
}

async fn set_head(conn: &mut <Db as sqlx::Database>::Connection, org_id: OrgId, seq: u64, hash: &str) -> Result<()> {
    let seq = i64::try_from(seq).map_err(|_| Error::Internal("audit seq out of range".into()))?;
    sqlx::query(SET_HEAD).bind(org_id.0).bind(seq).bind(hash).execute(&mut *conn).await.map_err(storage)?;
    Ok(())
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
        let pending = append(&mut tx, org_id, context, record).await?;
        tx.commit().await.map_err(storage)?;
        self.number_audit_events().await?;
        let row: EventRow =
            sqlx::query_as(EVENT_BY_ID).bind(pending.id).fetch_one(&self.pool).await.map_err(storage)?;
        row.into_event()
    }

    async fn number_audit_events(&self) -> Result<u64> {
        let mut numbered = 0;
        loop {
            let any: Option<i32> = sqlx::query_scalar(ANY_PENDING).fetch_optional(&self.pool).await.map_err(storage)?;
            if any.is_none() {
                return Ok(numbered);
            }
            let n = self.number_batch().await?;
            numbered += n as u64;
            if n == 0 {
                return Ok(numbered);
            }
        }
    }

    async fn list_audit_events(&self, org_id: OrgId, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        self.number_audit_events().await?;
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
        self.number_audit_events().await?;
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
        self.number_audit_events().await?;
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
        self.number_audit_events().await?;
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
        self.number_audit_events().await?;
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
