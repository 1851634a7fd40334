-- audit_pending (sqlite flavour; same columns and meanings as migrations/postgres/0008_audit_pending.sql):
-- audit events written in the same transaction as their change, not yet numbered. A plain
-- insert, so concurrent changes of one org do not queue behind each other's commit. Numbering
-- (crates/store/src/sql/audit.rs) moves them, oldest first, into audit_event with their seq,
-- prev_hash and hash; `tessera serve` does it every quarter second and every read of the log
-- does it first. Columns as in audit_event.
create table audit_pending (
    id blob primary key not null,
    org_id blob not null,
    occurred_at bigint not null,
    actor_type text not null check (actor_type in ('member', 'api_key', 'cli', 'system')),
    actor_id blob,
    actor_label text not null,
    action text not null,
    target_type text not null,
    target_id text not null,
    ip text,
    user_agent text,
    request_id text,
    changes text not null
);

create index audit_pending_time_idx on audit_pending (occurred_at, id);
