-- audit_checkpoint (SQLite flavour; same columns and meanings as
-- migrations/postgres/0007_audit_checkpoint.sql): per org and UTC day (`YYYY-MM-DD`), the seq
-- and hash of the org's audit head when the day's first checkpoint was asked for
-- (GET {iss}/audit/checkpoint signs it). Taken once a day and kept, so every instance serves the
-- same checkpoint all day. taken_at is microseconds since the Unix epoch.
create table audit_checkpoint (
    org_id blob not null,
    day text not null,
    seq bigint not null check (seq >= 0),
    hash text not null check (length(hash) = 64),
    taken_at bigint not null,
    primary key (org_id, day)
);
