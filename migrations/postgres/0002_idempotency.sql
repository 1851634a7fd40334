-- Idempotency keys of the REST API's POST calls (PostgreSQL flavour; same columns and meanings as
-- migrations/sqlite/0002_idempotency.sql). One row per (org, key): an in-flight claim has a
-- null status; a finished request has its status, body (the JWT removed by the API) and the id of
-- the token it issued. user_token_id has no foreign key: the token may be deleted later and the
-- record must still replay (or at least not block the delete).

create table idempotency_key (
    org_id uuid not null references org (id),
    key text not null,
    -- SHA-256 of the request's method, path and body.
    fingerprint bytea not null check (length(fingerprint) = 32),
    created_at bigint not null,
    status integer check (status between 100 and 599),
    response_body bytea,
    user_token_id uuid,
    -- In flight: no response columns; finished: status and body together.
    check ((status is null) = (response_body is null)),
    check (status is not null or user_token_id is null),
    primary key (org_id, key)
);

-- For purge_idempotency_keys, which deletes by age across orgs.
create index idempotency_key_created_idx on idempotency_key (created_at);
