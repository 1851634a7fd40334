//! Opening a store from a database URL: choosing the backend by scheme, connecting, and applying
//! the embedded migrations.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::pool::PoolOptions;
use sqlx::{Connection, Database, Pool};
use tessera_core::Store;

use crate::{PgStore, SqliteStore};

/// The database used when none is configured: a SQLite file `data/tessera.db` relative to the
/// working directory, created with its folder on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tessera.db";

/// Why a database could not be opened or migrated. Messages name the URL with its user info and
/// query string replaced by `***` / `…`, so a password never reaches a log.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL's scheme is not one Tessera supports.
    #[error(
        "unsupported database URL `{url}`: expected one starting with `postgres://`, `postgresql://` or `sqlite:` \
         (e.g. `sqlite://data/tessera.db`)"
    )]
    UnsupportedScheme {
        /// The URL, redacted.
        url: String,
    },
    /// The URL has a supported scheme but the rest does not parse.
    #[error("invalid database URL `{url}`: {source}")]
    InvalidUrl {
        /// The URL, redacted.
        url: String,
        /// What the driver rejected.
        #[source]
        source: sqlx::Error,
    },
    /// The folder of a SQLite file does not exist and cannot be created.
    #[error("cannot create database folder `{}`: {source}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The database cannot be reached or opened.
    #[error("cannot connect to database `{url}`: {source}")]
    Connect {
        /// The URL, redacted.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed (or the database has migrations this build does not know).
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[source] MigrateError),
}

/// The backend a URL selects.
enum Backend {
    Sqlite,
    Postgres,
}

fn backend(url: &str) -> Result<Backend, OpenError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else {
        Err(OpenError::UnsupportedScheme { url: redact(url) })
    }
}

/// How long a PostgreSQL query waits for a connection of the pool by default: 3 seconds
/// ([`StoreOptions::acquire_timeout`]).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// PostgreSQL's `statement_timeout` on the pool's connections by default: 30 seconds
/// ([`StoreOptions::statement_timeout`]).
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// How a store's connections behave when the database is slow or gone. Applies to PostgreSQL;
/// a SQLite file cannot be unreachable, and its writers wait for the file's lock for 5 s (its
/// busy timeout) instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long a query waits for a pooled connection, opening a new one included (sqlx retries
    /// a refused connection until then), before it fails as a storage error (503
    /// `storage_unavailable`): [`DEFAULT_ACQUIRE_TIMEOUT`] unless set. While the database is
    /// down, this is how long a call takes to be refused; sqlx's own default is 30 s. Also bounds
    /// the first connection when the store is opened.
    pub acquire_timeout: Duration,
    /// PostgreSQL's `statement_timeout` for every statement of the pool's connections, so a
    /// server that accepts but does not finish work (stuck I/O, a lock held forever) cannot hold
    /// a request and a connection for longer: [`DEFAULT_STATEMENT_TIMEOUT`] unless set;
    /// `Duration::ZERO` turns it off. Migrations run without it.
    pub statement_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT, statement_timeout: DEFAULT_STATEMENT_TIMEOUT }
    }
}

/// Connects to the database at `url` with the default [`StoreOptions`] and applies pending
/// migrations.
///
/// `postgres://…` or `postgresql://…` selects PostgreSQL; `sqlite:…` selects SQLite
/// (e.g. [`DEFAULT_DATABASE_URL`], `sqlite:./data/tessera.db`), whose folder and file are created
/// if missing.
///
/// # Errors
/// [`OpenError`] for an unsupported or malformed URL, an unreachable database, or a failed
/// migration.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, OpenError> {
    open_with(url, StoreOptions::default()).await
}

/// [`open`] with the given [`StoreOptions`].
///
/// # Errors
/// As [`open`].
pub async fn open_with(url: &str, options: StoreOptions) -> Result<Arc<dyn Store>, OpenError> {
    Ok(match backend(url)? {
        Backend::Sqlite => {
            let store = SqliteStore::connect(url).await?;
            store.migrate().await?;
            Arc::new(store)
        }
        Backend::Postgres => {
            let store = PgStore::connect(url, options).await?;
            store.migrate().await?;
            Arc::new(store)
        }
    })
}

/// Applies pending migrations to the database at `url` (same URLs as [`open`]) and returns how
/// many were newly applied: 0 when the schema is already current.
///
/// # Errors
/// As [`open`].
pub async fn migrate(url: &str) -> Result<usize, OpenError> {
    match backend(url)? {
        Backend::Sqlite => SqliteStore::connect(url).await?.migrate().await,
        Backend::Postgres => PgStore::connect(url, StoreOptions::default()).await?.migrate().await,
    }
}

/// A pooled connection idle for longer than this is pinged before it is handed out: 1 second.
pub(crate) const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Pool settings shared by both backends. By default sqlx pings every connection it hands out
/// (`test_before_acquire`): one more round trip to PostgreSQL, or one more hop to the connection's
/// worker thread on SQLite, for every query. Here only a connection idle for more than
/// [`PING_IF_IDLE_FOR`] is pinged first (HikariCP's `aliveBypassWindowMs` rule), so one broken
/// while idle (a database restart) is still replaced before use, and one in steady use costs
/// nothing extra. A failed ping discards the connection and the pool opens another.
pub(crate) fn pool_options<DB: Database>() -> PoolOptions<DB> {
    PoolOptions::new().test_before_acquire(false).before_acquire(|conn: &mut DB::Connection, meta| {
        Box::pin(async move {
            if meta.idle_for > PING_IF_IDLE_FOR {
                conn.ping().await?;
            }
            Ok(true)
        })
    })
}

/// Runs `migrator` on `pool` and returns how many migrations it applied, counted as the change in
/// sqlx's table of applied migrations (the migrator itself does not report it).
pub(crate) async fn apply_migrations<DB>(migrator: &Migrator, pool: &Pool<DB>) -> Result<usize, OpenError>
where
    DB: Database,
    DB::Connection: Migrate,
{
    let mut conn = pool.acquire().await.map_err(|e| OpenError::Migrate(e.into()))?;
    apply_migrations_on(migrator, &mut *conn).await
}

/// [`apply_migrations`] on one connection (PostgreSQL lifts its statement timeout on it first).
pub(crate) async fn apply_migrations_on<C: Migrate>(migrator: &Migrator, conn: &mut C) -> Result<usize, OpenError> {
    conn.ensure_migrations_table().await.map_err(OpenError::Migrate)?;
    let before = conn.list_applied_migrations().await.map_err(OpenError::Migrate)?.len();
    migrator.run_direct(conn).await.map_err(OpenError::Migrate)?;
    let after = conn.list_applied_migrations().await.map_err(OpenError::Migrate)?.len();
    Ok(after.saturating_sub(before))
}

/// `url` safe to show: user info (`user:password@`) becomes `***@` and any query string (which
/// may carry `password=`) becomes `?…`.
pub fn redact(url: &str) -> String {
    let (base, has_query) = match url.split_once(['?', '#']) {
        Some((base, _)) => (base, true),
        None => (url, false),
    };
    let start = base.find("://").map_or(0, |i| i + 3);
    // The last `@` ends the user info even if an unencoded password contains `/` or `@`.
    let mut out = match base[start..].rfind('@') {
        Some(at) => format!("{}***@{}", &base[..start], &base[start + at + 1..]),
        None => base.to_owned(),
    };
    if has_query {
        out.push_str("?…");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_user_info_and_query() {
        assert_eq!(redact("postgres://u:s3cret@db:5432/t"), "postgres://***@db:5432/t");
        assert_eq!(redact("postgres://u:pa/ss@db/t"), "postgres://***@db/t");
        assert_eq!(redact("postgres://db/t?password=s3cret"), "postgres://db/t?…");
        assert_eq!(redact("mysql://root:s3cret@h/db"), "mysql://***@h/db");
        assert_eq!(redact("root:s3cret@h"), "***@h");
        assert_eq!(redact("sqlite://data/tessera.db"), "sqlite://data/tessera.db");
    }

    #[test]
    fn schemes_select_backends() {
        assert!(matches!(backend("postgres://h/db"), Ok(Backend::Postgres)));
        assert!(matches!(backend("postgresql://h/db"), Ok(Backend::Postgres)));
        assert!(matches!(backend("sqlite:./x.db"), Ok(Backend::Sqlite)));
        let err = backend("mysql://root:s3cret@h/db").err().unwrap().to_string();
        assert!(!err.contains("s3cret") && err.contains("postgres://") && err.contains("sqlite:"), "{err}");
    }
}
