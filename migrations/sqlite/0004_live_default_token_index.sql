-- The live default (permanent, `GET /token`) token of a user is looked up by (org_id, user_id),
-- both for `GET /token` of a returning user (end_user left join user_token) and for the general
-- path. With the partial unique index on (user_id) alone, SQLite's planner (no statistics) chose
-- user_token_user_issued_idx (org_id, user_id, issued_at, id) instead, because it matches both
-- equalities, and then read every token of the user to find the default one: on 2026-11-22, with
-- 100,000 users and 1,000,000 token rows, `GET /token` cost 79 µs of CPU per request against
-- 56 µs for `POST /v1/user-tokens`, which signs and inserts. Keyed by (org_id, user_id), the
-- unique index matches both equalities too, and a unique index fully matched is SQLite's first
-- choice (one row). The rule it enforces is unchanged: a user's org never changes, so one live
-- default per (org_id, user_id) is one per user. PostgreSQL's planner picks its (user_id) index
-- from statistics, so its schema stays as it is.
drop index user_token_one_live_default_idx;

create unique index user_token_one_live_default_idx on user_token (org_id, user_id)
    where is_default and revoked_at is null;
