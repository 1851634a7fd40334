-- Announces revocations to every Tessera server on this database (PostgreSQL only).
--
-- Each server caches API keys and token rows for up to 1 s, and forgets them at once when the
-- revocation goes through itself. A revocation made through another server, or the CLI, used to
-- be seen only when the cache entry expired. These triggers send a notice on the channel
-- `tessera_revocation` (payload: the table's name) for every statement that revokes an API key
-- or a token, or deletes token rows or users; PostgreSQL delivers it to the listening servers
-- when the transaction commits (and not at all when it rolls back), and they drop their caches.
--
-- Statement-level triggers on UPDATE OF revoked_at and on DELETE only: inserting token rows (the
-- hot path) and writing last_used_at fire nothing. Identical notices of one transaction are
-- delivered once.

create function notify_revocation() returns trigger language plpgsql as $$
begin
    perform pg_notify('tessera_revocation', tg_table_name);
    return null;
end $$;

create trigger api_key_revocation_notice after update of revoked_at on api_key
    for each statement execute function notify_revocation();
create trigger user_token_revocation_notice after update of revoked_at or delete on user_token
    for each statement execute function notify_revocation();
create trigger end_user_deletion_notice after delete on end_user
    for each statement execute function notify_revocation();
