-- The audit log (PostgreSQL flavour; same columns and meanings as migrations/sqlite/0005_audit.sql).
--
-- audit_event: one row per recorded change, written in the same transaction as the change
-- (crates/store/src/sql/audit.rs). seq counts 1, 2, 3, ... per org without gaps; prev_hash is the
-- hash of the org's previous event (64 zeros for the first) and hash the SHA-256 of the event's
-- canonical form (crates/core/src/audit.rs). Times are microseconds since the Unix epoch.
-- actor_id is null for the CLI and the system; changes is a JSON object as text.
-- There is no foreign key to org: the log outlives what it records.
create table audit_event (
    id uuid primary key,
    org_id uuid not null,
    seq bigint not null check (seq >= 1),
    occurred_at bigint not null,
    actor_type text not null check (actor_type in ('member', 'api_key', 'cli', 'system')),
    actor_id uuid,
    actor_label text not null,
    action text not null,
    target_type text not null,
    target_id text not null,
    ip text,
    user_agent text,
    request_id text,
    changes text not null,
    prev_hash text not null check (length(prev_hash) = 64),
    hash text not null check (length(hash) = 64),
    unique (org_id, seq)
);

create index audit_event_org_time_idx on audit_event (org_id, occurred_at);

-- audit_head: per org, the seq and hash of its latest event. Appending an event updates this row
-- first, which makes concurrent appenders of one org queue (a row lock on PostgreSQL, the
-- database's write lock on SQLite), so that seq has no gaps and no two events share a prev_hash.
-- Retention deletes events, never the head.
create table audit_head (
    org_id uuid primary key,
    seq bigint not null,
    hash text not null
);
