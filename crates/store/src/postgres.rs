//! The PostgreSQL backend, for production and for several server instances sharing one database.

use std::collections::HashSet;
use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool};
use sqlx::{Postgres, Transaction};

use tessera_core::{NewUserToken, OrgId, RevocationEvent, RevocationNotice, Store, UserToken};
use uuid::Uuid;

use crate::convert::{is_foreign_key_violation, micros, micros_opt, storage};
use crate::open::{apply_migrations_on, pool_options, redact, OpenError, StoreOptions};

/// The sqlx database the storage methods in `sql/` run on here.
type Db = Postgres;
/// The store type the storage methods in `sql/` are implemented for here.
type Backend = PgStore;
/// PostgreSQL's write transactions run at read committed and take row locks as they write, so
/// a check that must hold until commit (the user exists, the org keeps an owner) locks its rows
/// with `select … for update`.
const ROW_LOCKS: bool = true;

#[path = "sql/mod.rs"]
mod sql;
use sql::user_tokens::{inserted_token, issuer_columns, new_token_columns};

/// The PostgreSQL schema, embedded at compile time.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// The `LISTEN`/`NOTIFY` channel on which migration `0005_revocation_notices` announces every
/// committed revocation (API key, user token) and deletion (user, token rows); the payload is the
/// table's name.
pub const REVOCATION_CHANNEL: &str = "tessera_revocation";

/// A listener on [`REVOCATION_CHANNEL`], on a connection of `pool`. It does not reconnect by
/// itself (`eager_reconnect` off): a lost connection is reported at once, and the caller opens a
/// new listener.
async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.eager_reconnect(false);
    listener.listen(REVOCATION_CHANNEL).await?;
    Ok(listener)
}

/// [`tessera_core::Store`] on a PostgreSQL database (or a PostgreSQL-compatible engine).
#[derive(Clone, Debug)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:5432/db` or `postgresql://…`) without
    /// migrating, with `options`' acquire timeout on the pool and statement timeout on every
    /// connection.
    ///
    /// # Errors
    /// [`OpenError`] if the URL is malformed or the server is unreachable (within the acquire
    /// timeout) or refuses the login. Messages never contain the URL's password.
    pub(crate) async fn connect(url: &str, options: StoreOptions) -> Result<Self, OpenError> {
        let mut connect =
            PgConnectOptions::from_str(url).map_err(|source| OpenError::InvalidUrl { url: redact(url), source })?;
        if !options.statement_timeout.is_zero() {
            // Sent with the startup packet, so it is each session's default (`reset` returns to it).
            let millis = options.statement_timeout.as_millis().to_string();
            connect = connect.options([("statement_timeout", millis.as_str())]);
        }
        let pool = pool_options::<Postgres>()
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(|source| OpenError::Connect { url: redact(url), source })?;
        Ok(Self { pool })
    }

    /// Applies pending migrations; returns how many were applied. Concurrent instances may do
    /// this at once: sqlx serializes migrations with an advisory lock. They run on one
    /// connection with the statement timeout lifted: a migration may take long on a big table.
    pub(crate) async fn migrate(&self) -> Result<usize, OpenError> {
        let mut conn = self.pool.acquire().await.map_err(|e| OpenError::Migrate(e.into()))?;
        sqlx::query("set statement_timeout = 0").execute(&mut *conn).await.map_err(|e| OpenError::Migrate(e.into()))?;
        let applied = apply_migrations_on(&MIGRATOR, &mut *conn).await;
        // Back to the session's default, the configured timeout; a connection that cannot is
        // not returned to the pool.
        if sqlx::query("reset statement_timeout").execute(&mut *conn).await.is_err() {
            conn.close_on_drop();
        }
        applied
    }

    /// Nothing to do: the triggers of migration `0005_revocation_notices` announce every
    /// revocation when its transaction commits.
    pub(crate) fn announce_revocation(&self) {}

    /// Starts a write transaction. PostgreSQL's default (read committed, row locks taken on
    /// write) already waits for conflicting writers, so no special `BEGIN` is needed.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Inserts a batch of token rows with one statement
    /// ([`INSERT_USER_TOKENS_UNNEST`], one array per column), outside any explicit
    /// transaction: a single statement is atomic and committed (with `synchronous_commit` on,
    /// flushed) before its reply, so the batch costs one round trip. Multi-row `VALUES` joined
    /// with the users measured much slower here on 2026-11-21 (100,000 users, 64 connections,
    /// `POST /v1/user-tokens`): 5,544 req/s with 1 row per statement, 2,439 with up to 256, 895
    /// with up to 8.
    ///
    /// Returns the inserted tokens (a row that would be a second live
    /// default token is skipped), or `None` when the statement failed with a foreign-key
    /// violation (SQLSTATE 23503: a row whose user is not in the org, or that names another
    /// org's signing key or API key): nothing was inserted, and the caller inserts the rows one
    /// by one to find out which.
    ///
    /// # Errors
    /// [`tessera_core::Error::Storage`] when no connection can be had, it fails, or the statement
    /// fails for any other reason; nothing was inserted then either.
    pub(crate) async fn insert_token_batch(
        &self,
        batch: &[(OrgId, NewUserToken)],
    ) -> tessera_core::Result<Option<Vec<UserToken>>> {
        let n = batch.len();
        let (mut ids, mut orgs, mut users, mut keys) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut issued, mut expires, mut defaults) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut by_keys, mut by_members) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for (org_id, new) in batch {
            let (by_key, by_member) = issuer_columns(new.issued_by);
            ids.push(new.id.0);
            orgs.push(org_id.0);
            users.push(new.user_id.0);
            keys.push(new.signing_key_id.0);
            issued.push(micros(new.issued_at));
            expires.push(micros_opt(new.expires_at));
            defaults.push(new.is_default);
            by_keys.push(by_key);
            by_members.push(by_member);
        }
        let result = sqlx::query_as::<_, (Uuid,)>(INSERT_USER_TOKENS_UNNEST)
            .bind(ids)
            .bind(orgs)
            .bind(users)
            .bind(keys)
            .bind(issued)
            .bind(expires)
            .bind(defaults)
            .bind(by_keys)
            .bind(by_members)
            .fetch_all(&self.pool)
            .await;
        match result {
            Ok(rows) => {
                // Built from what was bound, like SQLite's; only the ids of the inserted rows
                // come back.
                let inserted: HashSet<Uuid> = rows.into_iter().map(|(id,)| id).collect();
                batch
                    .iter()
                    .filter(|(_, new)| inserted.contains(&new.id.0))
                    .map(|(org_id, new)| inserted_token(*org_id, new))
                    .collect::<tessera_core::Result<_>>()
                    .map(Some)
            }
            // Only a row whose user (or key) is not of its org breaks the statement this way;
            // any other failure (a lock or statement timeout, a full disk, a lost connection)
            // fails the whole batch, rather than costing one more statement per row.
            Err(e) if is_foreign_key_violation(&e) => Ok(None),
            Err(e) => Err(storage(e)),
        }
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn ping(&self) -> tessera_core::Result<()> {
        sql::ping(&self.pool).await
    }

    fn pool_stats(&self) -> Option<tessera_core::store::PoolStats> {
        Some(crate::pool_stats(&self.pool))
    }

    /// Listens on [`REVOCATION_CHANNEL`] (filled by the triggers of migration
    /// `0005_revocation_notices`) from a task of its own, on one connection taken from the pool
    /// for as long as it runs, and calls `on_notice` with [`RevocationEvent::Listening`] once it
    /// listens, [`RevocationEvent::Notice`] for each notice, and [`RevocationEvent::Lost`] as soon
    /// as the connection is lost (the server restarted or went away). Then it opens one again,
    /// trying every [`LISTEN_RETRY`] (each try waits at most the pool's acquire timeout), and
    /// reports `Listening` again once it does (notices sent meanwhile are gone). It stops when
    /// `on_notice` returns `false` or the pool is closed. Returns `true`.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    fn watch_revocations(&self, on_notice: RevocationNotice) -> bool {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let mut listener: Option<PgListener> = None;
            loop {
                let Some(active) = listener.as_mut() else {
                    match listen(&pool).await {
                        Ok(new) => {
                            listener = Some(new);
                            // Whatever was revoked before this connection listened went unheard.
                            if !on_notice(RevocationEvent::Listening) {
                                return;
                            }
                        }
                        Err(sqlx::Error::PoolClosed) => return,
                        Err(e) => {
                            tracing::warn!(error = %e, retry_in = ?LISTEN_RETRY, "cannot listen for revocation notices");
                            tokio::time::sleep(LISTEN_RETRY).await;
                        }
                    }
                    continue;
                };
                let keep_going = match active.try_recv().await {
                    Ok(Some(_)) => on_notice(RevocationEvent::Notice),
                    Err(sqlx::Error::PoolClosed) => return,
                    // `None`: the connection was lost (with `eager_reconnect` off, reported at once
                    // rather than after a reconnection that may wait for the acquire timeout).
                    lost => {
                        if let Err(e) = lost {
                            tracing::warn!(error = %e, "lost the revocation notice connection; reconnecting");
                        } else {
                            tracing::warn!("lost the revocation notice connection; reconnecting");
                        }
                        listener = None;
                        on_notice(RevocationEvent::Lost)
                    }
                };
                if !keep_going {
                    return;
                }
            }
        });
        true
    }
}

/// How long the revocation listener waits between attempts to listen again after its connection
/// was lost: 200 ms, so notices resume within about that once the database is back.
const LISTEN_RETRY: std::time::Duration = std::time::Duration::from_millis(200);

/// A whole batch of token rows in one statement, one array per column, `$1`…`$9` in the order of
/// `new_token_columns!` (`uuid[]`, `int8[]` for the microsecond times, `bool[]`). One statement
/// costs one round trip whatever the batch size, and its text never changes, so it is prepared
/// once per connection.
///
/// Rows go in in array order (`with ordinality`), so of two default tokens for one user in a
/// batch the first wins; the second, like any row that would be a second live default token, is
/// skipped by `on conflict do nothing`. There is no join with `end_user`: the composite foreign
/// key `(org_id, user_id)` makes a row whose user is not in the org fail the whole statement
/// (atomic, nothing inserted), and the caller then inserts the rows one by one. A row naming a
/// signing key or API key of another org fails it the same way, through the statement-level
/// check of migration `0004_user_token_key_checks` (one query over the statement's rows instead
/// of a foreign-key trigger per row and key). A planner-chosen join is also what the multi-row
/// `VALUES` form has, and that form measured slower on PostgreSQL than one statement per row
/// (2026-11-21, cause not pinned down).
const INSERT_USER_TOKENS_UNNEST: &str = concat!(
    "insert into user_token (",
    new_token_columns!(),
    ") select id, org_id, user_id, signing_key_id, issued_at, expires_at, is_default, by_key, by_member ",
    "from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int8[], $6::int8[], $7::bool[], ",
    "$8::uuid[], $9::uuid[]) with ordinality ",
    "as v(id, org_id, user_id, signing_key_id, issued_at, expires_at, is_default, by_key, by_member, n) ",
    "order by n on conflict do nothing returning id"
);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// `statement_timeout` is each session's default on the pool's connections, also on the one
    /// the migrations ran on (their `set statement_timeout = 0` is undone), and a statement that
    /// runs longer is cancelled by the server (SQLSTATE 57014) instead of holding the call.
    #[tokio::test]
    async fn statements_time_out_but_the_migrations_connection_gets_its_timeout_back() {
        let Some(db) = tessera_testdb::TestDatabase::postgres() else {
            eprintln!("{} is unset: skipped", tessera_testdb::POSTGRES_URL_VAR);
            return;
        };
        let options = StoreOptions { statement_timeout: Duration::from_millis(300), ..StoreOptions::default() };
        let store = PgStore::connect(&db.url, options).await.unwrap();
        assert!(store.migrate().await.unwrap() > 0);
        let mut conns = Vec::new();
        for _ in 0..3 {
            let mut conn = store.pool.acquire().await.unwrap();
            let (timeout,): (String,) = sqlx::query_as("show statement_timeout").fetch_one(&mut *conn).await.unwrap();
            assert_eq!(timeout, "300ms");
            conns.push(conn);
        }
        drop(conns);
        let err = sqlx::query("select pg_sleep(5)").execute(&store.pool).await.unwrap_err();
        let code = err.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("57014"), "{err}");
    }
}
