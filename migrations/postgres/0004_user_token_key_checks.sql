-- Cheaper integrity checks on user_token rows (PostgreSQL only; SQLite keeps its foreign keys,
-- which cost it an index probe each).
--
-- PostgreSQL checks each foreign key of each inserted row with a trigger of its own that runs a
-- query and locks the referenced row (FOR KEY SHARE). Issuing tokens inserts user_token rows by
-- the thousand a second, and on 2026-11-22 these per-row checks were about half of PostgreSQL's
-- CPU time while `POST /v1/user-tokens` ran (perf: AfterTriggerEndQuery 13.8 % of the whole
-- 2-core machine, PostgreSQL 31 %; 100,000 users). Three of the four can go with nothing lost:
--
-- * user_token.org_id → org: implied by (org_id, user_id) → end_user (org_id, id), which stays,
--   and end_user.org_id → org.
-- * (org_id, signing_key_id) → signing_key and (org_id, issued_by_api_key_id) → api_key: signing
--   keys and API keys are never deleted (revoking an API key sets revoked_at) and their id and
--   org never change. The triggers below now refuse such a delete or change, so no lock is
--   needed, and one check per statement, over all of its new rows, refuses a row naming a key
--   that is not of its own org, with the same error class as a foreign key (23503).
--
-- (org_id, user_id) → end_user stays a foreign key: users are deleted, and its lock is what keeps
-- a token from being committed for a user deleted at the same moment. The issuing member's key
-- stays too (members are removed); it is null, so not looked up, for tokens issued by API keys.

alter table user_token
    drop constraint user_token_org_id_fkey,
    drop constraint user_token_org_id_signing_key_id_fkey,
    drop constraint user_token_org_id_issued_by_api_key_id_fkey;

-- Statement level: `new_rows` holds every row the statement inserted.
create function user_token_check_keys() returns trigger language plpgsql as $$
begin
    if exists (
        select 1 from new_rows t
        where not exists (select 1 from signing_key k where k.org_id = t.org_id and k.id = t.signing_key_id)
           or (t.issued_by_api_key_id is not null and not exists (
                select 1 from api_key a where a.org_id = t.org_id and a.id = t.issued_by_api_key_id))
    ) then
        raise foreign_key_violation using
            message = 'a user_token row names a signing key or API key that is not of its org';
    end if;
    return null;
end $$;

create trigger user_token_keys_exist after insert on user_token
    referencing new table as new_rows for each statement execute function user_token_check_keys();

-- Row level, but fires only for an UPDATE that names one of these columns, which Tessera never does.
create function user_token_keys_unchanged() returns trigger language plpgsql as $$
begin
    if (new.org_id, new.signing_key_id, new.issued_by_api_key_id)
        is distinct from (old.org_id, old.signing_key_id, old.issued_by_api_key_id) then
        raise foreign_key_violation using
            message = 'the org, signing key and issuing API key of a user_token row never change';
    end if;
    return new;
end $$;

create trigger user_token_keys_unchanged before update of org_id, signing_key_id, issued_by_api_key_id
    on user_token for each row execute function user_token_keys_unchanged();

-- Signing keys and API keys are kept for good: user tokens refer to them.
create function refuse_removing_keys() returns trigger language plpgsql as $$
begin
    raise restrict_violation using
        message = format('%s rows are never deleted or truncated: user tokens refer to them', tg_table_name);
end $$;

create trigger signing_key_kept before delete or truncate on signing_key
    for each statement execute function refuse_removing_keys();
create trigger api_key_kept before delete or truncate on api_key
    for each statement execute function refuse_removing_keys();

create function key_identity_unchanged() returns trigger language plpgsql as $$
begin
    if (new.id, new.org_id) is distinct from (old.id, old.org_id) then
        raise restrict_violation using
            message = format('the id and org of %s rows never change: user tokens refer to them', tg_table_name);
    end if;
    return new;
end $$;

create trigger signing_key_identity_kept before update of id, org_id on signing_key
    for each row execute function key_identity_unchanged();
create trigger api_key_identity_kept before update of id, org_id on api_key
    for each row execute function key_identity_unchanged();
