-- The dashboard (SQLite flavour; same columns and meanings as migrations/postgres/0003_dashboard.sql).
--
-- member_session: one row per signed-in browser. Only the SHA-256 of the session token is stored
-- (the token lives in the member's HttpOnly cookie). A session ends at sign-out (row deleted),
-- when idle (last_seen_at too old; the limit is SESSION_IDLE_TIMEOUT_SECONDS in tessera-core) or
-- at expires_at (created_at + SESSION_ABSOLUTE_LIFETIME_SECONDS); ended rows are purged hourly.
create table member_session (
    hash blob primary key not null check (length(hash) = 32),
    org_id blob not null references org (id),
    member_id blob not null,
    created_at bigint not null,
    last_seen_at bigint not null,
    expires_at bigint not null,
    foreign key (org_id, member_id) references member (org_id, id)
);

create index member_session_member_idx on member_session (org_id, member_id);
create index member_session_last_seen_idx on member_session (last_seen_at);

-- first_run: at most one row (id = 1), written by the dashboard's first-run setup in the same
-- transaction as the org and its owner. Its primary key is what makes two concurrent setups yield
-- one org: the second insert waits for the first and then fails as a unique violation.
create table first_run (
    id integer primary key not null check (id = 1),
    org_id blob not null references org (id),
    completed_at bigint not null
);

-- The overview's tokens-per-day chart reads an org's tokens by issue time.
create index user_token_org_issued_idx on user_token (org_id, issued_at);
