-- Tessera schema, SQLite flavour. The store runs the SAME SQL text on PostgreSQL, so column names
-- and meanings match migrations/postgres/0001_init.sql exactly; only the types differ:
-- uuid -> blob (16 bytes), bytea -> blob, jsonb -> text (checked with json_valid),
-- boolean -> integer 0/1.
-- Every time is bigint microseconds since the Unix epoch (UTC): it orders and compares the same
-- way on both backends and keeps the microsecond precision of the domain's timestamps.
-- Primary keys say `not null` because SQLite otherwise accepts NULL in non-integer keys.
-- Tenant tables carry org_id and are referenced by (org_id, id), so a row can only point at a row
-- of its own org (enforced with `pragma foreign_keys = on`, which the store sets).

create table org (
    id blob primary key not null,
    slug text not null unique,
    name text not null,
    default_token_ttl_seconds bigint not null default 3600 check (default_token_ttl_seconds > 0),
    created_at bigint not null
);

create table member (
    id blob primary key not null,
    org_id blob not null references org (id),
    email text not null,
    role text not null check (role in ('owner', 'admin', 'viewer')),
    password_hash text not null,
    created_at bigint not null,
    unique (org_id, email),
    unique (org_id, id)
);

create table signing_key (
    id blob primary key not null,
    org_id blob not null references org (id),
    algorithm text not null,
    public_key blob not null,
    encrypted_private_key blob not null,
    active integer not null check (active in (0, 1)),
    created_at bigint not null,
    unique (org_id, id)
);

create table api_key (
    id blob primary key not null,
    org_id blob not null references org (id),
    name text not null,
    -- SHA-256 of the whole key; the unique constraint is also the lookup index of api_key_by_hash.
    hash blob not null unique check (length(hash) = 32),
    prefix text not null,
    created_by blob,
    created_at bigint not null,
    last_used_at bigint,
    expires_at bigint,
    revoked_at bigint,
    unique (org_id, prefix),
    unique (org_id, id),
    foreign key (org_id, created_by) references member (org_id, id)
);

create table end_user (
    id blob primary key not null,
    org_id blob not null references org (id),
    platform text not null,
    account text not null,
    display_name text,
    metadata text not null default '{}' check (json_valid(metadata)),
    created_at bigint not null,
    updated_at bigint not null,
    unique (org_id, platform, account),
    unique (org_id, id)
);

create index end_user_org_created_idx on end_user (org_id, created_at, id);

create table user_token (
    id blob primary key not null,
    org_id blob not null references org (id),
    user_id blob not null,
    signing_key_id blob not null,
    issued_at bigint not null,
    expires_at bigint,
    revoked_at bigint,
    is_default integer not null default 0 check (is_default in (0, 1)),
    issued_by_api_key_id blob,
    issued_by_member_id blob,
    check (issued_by_api_key_id is null or issued_by_member_id is null),
    foreign key (org_id, user_id) references end_user (org_id, id),
    foreign key (org_id, signing_key_id) references signing_key (org_id, id),
    foreign key (org_id, issued_by_api_key_id) references api_key (org_id, id),
    foreign key (org_id, issued_by_member_id) references member (org_id, id)
);

create index user_token_user_issued_idx on user_token (org_id, user_id, issued_at, id);

-- At most one live default (permanent, `GET /token`) token per user; a racing second insert fails
-- with a unique violation that the store reports as `default_token_exists`.
create unique index user_token_one_live_default_idx on user_token (user_id)
    where is_default and revoked_at is null;
