//! The SQLite backend: the embedded default, one database file (WAL) under `./data/`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

use tessera_core::{NewUserToken, OrgId, RevocationEvent, RevocationNotice, Store, UserToken};

use crate::convert::{is_foreign_key_violation, storage};
use crate::open::{apply_migrations, pool_options, redact, OpenError};

/// The sqlx database the storage methods in `sql/` run on here.
type Db = Sqlite;
/// The store type the storage methods in `sql/` are implemented for here.
type Backend = SqliteStore;
/// SQLite has no `select … for update`, nor needs it: a `BEGIN IMMEDIATE` transaction
/// ([`SqliteStore::begin_write`]) holds the database's write lock from its start.
const ROW_LOCKS: bool = false;

#[path = "sql/mod.rs"]
mod sql;
use sql::user_tokens::{bind_new_token, inserted_token, new_token_columns};

/// The SQLite schema, embedded at compile time.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How long a statement waits for another connection's write lock before failing with
/// `SQLITE_BUSY`: 5 seconds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// [`tessera_core::Store`] on a SQLite database file.
///
/// Connections use WAL (readers never block the writer), `synchronous = FULL` (a token row is on
/// disk before the call returns), foreign keys on, temporary storage in memory, and a 5-second
/// busy timeout. Write transactions
/// start with `BEGIN IMMEDIATE`.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// The revocation notice file beside the database ([`NOTICE_FILE_SUFFIX`]); `None` for an
    /// in-memory database or when it cannot be created.
    notices: Option<PathBuf>,
}

/// What is appended to the database file's name to name its revocation notice file
/// (`tessera.db` → `tessera.db-revocations`). SQLite cannot tell one process about another's
/// commits, so every process that commits a revocation through a [`SqliteStore`] (the server,
/// the CLI) rewrites this file afterwards, and servers watch it ([`notify`]: inotify on Linux)
/// to drop their caches at once. It holds only the time of the last revocation.
pub const NOTICE_FILE_SUFFIX: &str = "-revocations";

/// The notice file of the database at `db`, created if missing. `None` (with a warning) when it
/// cannot be: revocations by other processes are then seen when caches expire.
fn notice_file(db: &Path) -> Option<PathBuf> {
    let mut name = db.as_os_str().to_owned();
    name.push(NOTICE_FILE_SUFFIX);
    let path = PathBuf::from(name);
    match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
        Ok(_) => Some(path),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot create the revocation notice file");
            None
        }
    }
}

impl SqliteStore {
    /// Opens the database at `url` (`sqlite://data/tessera.db`, `sqlite:./x.db`,
    /// `sqlite::memory:`) without migrating, creating its folder and file if missing.
    ///
    /// # Errors
    /// [`OpenError`] if the URL is malformed, the folder cannot be created or the file cannot be
    /// opened.
    pub(crate) async fn connect(url: &str) -> Result<Self, OpenError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|source| OpenError::InvalidUrl { url: redact(url), source })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // Statement journals and sorts stay in memory instead of temporary files.
            .pragma("temp_store", "memory");
        let in_memory = is_in_memory(url);
        let mut pool = pool_options::<Sqlite>();
        if in_memory {
            // The database lives only while a connection is open: keep one forever.
            pool = pool.min_connections(1).idle_timeout(None).max_lifetime(None);
        } else if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| OpenError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        let notices = if in_memory { None } else { notice_file(options.get_filename()) };
        let pool =
            pool.connect_with(options).await.map_err(|source| OpenError::Connect { url: redact(url), source })?;
        Ok(Self { pool, notices })
    }

    /// Applies pending migrations; returns how many were applied.
    pub(crate) async fn migrate(&self) -> Result<usize, OpenError> {
        apply_migrations(&MIGRATOR, &self.pool).await
    }

    /// Tells processes watching this database that a revocation (or deletion of users or token
    /// rows) may just have committed, by rewriting the notice file. Called after every such
    /// write, whether or not it reported success (it may have committed anyway). A failure is
    /// only logged: watchers then see the change when their caches expire.
    pub(crate) fn announce_revocation(&self) {
        let Some(path) = &self.notices else { return };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        if let Err(e) = std::fs::write(path, now.as_micros().to_string()) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the revocation notice file");
        }
    }

    /// Starts a write transaction with `BEGIN IMMEDIATE`. A deferred transaction takes the write
    /// lock only at its first write, and if another connection wrote since its first read, SQLite
    /// fails it with `SQLITE_BUSY` at once instead of waiting for the busy timeout.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// Inserts a batch of token rows in one `BEGIN IMMEDIATE` transaction (one fsync), as
    /// multi-row statements of up to 256 rows ([`insert_user_tokens_values`]), and
    /// returns the inserted tokens. One multi-row statement costs one hop to the connection's
    /// worker thread instead of one per row (measured 2026-11-21, 100,000 users: 11,039 req/s
    /// against 9,275 with one row per statement), and no row comes back from it.
    ///
    /// All or nothing: when a statement fails with a foreign-key violation (a user not in the
    /// org) or a row is skipped (a second live default token), the transaction is rolled back
    /// and `None` says that nothing was inserted, so the caller can insert the rows one by one,
    /// each with its own result.
    ///
    /// # Errors
    /// [`tessera_core::Error::Storage`] when the transaction cannot start or commit, the
    /// connection fails, or a statement fails for any other reason (nothing is inserted).
    pub(crate) async fn insert_token_batch(
        &self,
        batch: &[(OrgId, NewUserToken)],
    ) -> tessera_core::Result<Option<Vec<UserToken>>> {
        let mut tx = self.begin_write().await.map_err(storage)?;
        let mut rest = batch;
        for size in statement_sizes(batch.len(), MAX_ROWS_PER_INSERT) {
            let (chunk, tail) = rest.split_at(size);
            rest = tail;
            let sql = insert_user_tokens_values(size);
            let mut query = sqlx::query(&sql);
            for (org_id, new) in chunk {
                query = bind_new_token(query, *org_id, new);
            }
            match query.execute(&mut *tx).await {
                Ok(done) if done.rows_affected() == size as u64 => {}
                // A row skipped (a second live default token) or one whose user is not in the org
                // (foreign key): the rows go in one by one, each with its own result.
                Ok(_) => {
                    tx.rollback().await.map_err(storage)?;
                    return Ok(None);
                }
                Err(e) if is_foreign_key_violation(&e) => {
                    tx.rollback().await.map_err(storage)?;
                    return Ok(None);
                }
                // Anything else (`SQLITE_BUSY` past the busy timeout, a full disk, I/O) fails the
                // batch; dropping the transaction rolls it back.
                Err(e) => return Err(storage(e)),
            }
        }
        tx.commit().await.map_err(storage)?;
        batch.iter().map(|(org_id, new)| inserted_token(*org_id, new)).collect::<tessera_core::Result<_>>().map(Some)
    }
}

/// Whether `url` names an in-memory database (`sqlite::memory:` or `mode=memory`).
fn is_in_memory(url: &str) -> bool {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    rest.trim_start_matches('/').starts_with(":memory:") || rest.contains("mode=memory")
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> tessera_core::Result<()> {
        sql::ping(&self.pool).await
    }

    fn pool_stats(&self) -> Option<tessera_core::store::PoolStats> {
        Some(crate::pool_stats(&self.pool))
    }

    /// Watches the notice file ([`NOTICE_FILE_SUFFIX`]) from a thread of its own, calls
    /// `on_notice` with [`RevocationEvent::Listening`] once the watch is set up and with
    /// [`RevocationEvent::Notice`] on every change to it (including its removal, after which nothing more
    /// comes), until `on_notice` returns `false`. Returns `false` for an in-memory database or
    /// when the file cannot be watched (the reason is logged).
    fn watch_revocations(&self, on_notice: RevocationNotice) -> bool {
        use notify::Watcher as _;
        let Some(path) = &self.notices else { return false };
        let (events, received) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
        let watcher = notify::recommended_watcher(events).and_then(|mut watcher| {
            watcher.watch(path, notify::RecursiveMode::NonRecursive)?;
            Ok(watcher)
        });
        let watcher = match watcher {
            Ok(watcher) => watcher,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot watch the revocation notice file");
                return false;
            }
        };
        // The watch is set up: changes from now on are queued for the thread.
        if !on_notice(RevocationEvent::Listening) {
            return true;
        }
        let spawned = std::thread::Builder::new().name("tessera-revocations".into()).spawn(move || {
            let _watching = watcher;
            // Every event is a change (or the end) of the file: each one is worth a notice.
            while received.recv().is_ok() {
                if !on_notice(RevocationEvent::Notice) {
                    return;
                }
            }
        });
        spawned.is_ok()
    }
}

/// Most rows one [`insert_user_tokens_values`] statement takes: 256 (2,304 parameters, far
/// below SQLite's limit of 32,766).
const MAX_ROWS_PER_INSERT: usize = 256;

/// SQLite's form of a batch insert: `rows` rows (1 to [`MAX_ROWS_PER_INSERT`]) in one plain
/// multi-row `insert … values`, each row's 9 values bound by [`bind_new_token`], inserted in
/// batch order. A row that would be a second live default token is skipped (`on conflict do
/// nothing`), which shows as fewer rows affected than `rows`; a row whose user is not in the org
/// fails the statement on the composite foreign key `(org_id, user_id)`, and nothing of it is
/// inserted. Nothing is returned: the caller builds the tokens from what it bound
/// ([`inserted_token`]), so no row travels back from SQLite's worker thread.
///
/// The parameters are anonymous `?`, not `$n`: sqlx asks SQLite for each parameter's name when
/// binding, and SQLite finds a name by a linear scan, so 2,304 named parameters cost millions of
/// steps per statement (it showed in profiles).
fn insert_user_tokens_values(rows: usize) -> String {
    debug_assert!((1..=MAX_ROWS_PER_INSERT).contains(&rows));
    let mut sql = String::with_capacity(200 + rows * 30);
    sql.push_str(concat!("insert into user_token (", new_token_columns!(), ") values "));
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    }
    sql.push_str(" on conflict do nothing");
    sql
}

/// Splits `len` rows into statement sizes that are powers of two of at most `max` rows (1 to
/// [`MAX_ROWS_PER_INSERT`]), largest first (37 rows, `max` 256 → 32, 4, 1), so that at most 9
/// distinct statements exist and each connection's prepared-statement cache keeps them all.
fn statement_sizes(mut len: usize, max: usize) -> impl Iterator<Item = usize> {
    let max = max.clamp(1, MAX_ROWS_PER_INSERT);
    std::iter::from_fn(move || {
        if len == 0 {
            return None;
        }
        let size = max.min(1 << len.ilog2());
        len -= size;
        Some(size)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_split_into_power_of_two_statements() {
        assert_eq!(statement_sizes(0, 256).collect::<Vec<_>>(), Vec::<usize>::new());
        assert_eq!(statement_sizes(1, 256).collect::<Vec<_>>(), [1]);
        assert_eq!(statement_sizes(37, 256).collect::<Vec<_>>(), [32, 4, 1]);
        assert_eq!(statement_sizes(512, 256).collect::<Vec<_>>(), [256, 256]);
        assert_eq!(statement_sizes(600, 256).collect::<Vec<_>>(), [256, 256, 64, 16, 8]);
        for n in 0..1100 {
            assert_eq!(statement_sizes(n, 256).sum::<usize>(), n);
            assert!(statement_sizes(n, 1).all(|size| size == 1));
        }
    }

    #[test]
    fn a_multi_row_insert_has_nine_anonymous_parameters_per_row() {
        let sql = insert_user_tokens_values(2);
        assert!(
            sql.ends_with("values (?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing"),
            "{sql}"
        );
        assert_eq!(insert_user_tokens_values(256).matches('?').count(), 2304);
        assert!(!sql.contains('$'));
    }

    #[test]
    fn in_memory_urls_are_recognised() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://:memory:"));
        assert!(is_in_memory("sqlite:x.db?mode=memory"));
        assert!(!is_in_memory("sqlite://data/tessera.db"));
    }

    /// The plan SQLite picks (`explain query plan`, the `detail` column of each step) for `sql`
    /// on the migrated schema of a fresh file.
    async fn plan(sql: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::connect(&format!("sqlite://{}", dir.path().join("plan.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("explain query plan {sql}")).fetch_all(&store.pool).await.unwrap();
        rows.into_iter().map(|(_, _, _, detail)| detail).collect()
    }

    /// A user's live default token is found through the unique partial index (one row), not by
    /// reading every token of the user (migration `0004_live_default_token_index`).
    #[tokio::test]
    async fn the_live_default_token_is_read_through_its_unique_index() {
        for sql in [sql::user_tokens::DEFAULT_USER_TOKEN, sql::user_tokens::USER_AND_DEFAULT_TOKEN] {
            let plan = plan(sql).await;
            let token_step = plan.iter().find(|step| step.contains("user_token")).expect("a step on user_token");
            assert!(
                token_step.contains("USING INDEX user_token_one_live_default_idx (org_id=? AND user_id=?)"),
                "{sql}\n=> {plan:?}"
            );
        }
    }
}
