//! Throwaway databases for Tessera's test suites and its benchmark: a fresh SQLite file in a
//! temporary folder, or a fresh PostgreSQL database named `<prefix>_<uuid>` created through an
//! admin URL ([`POSTGRES_URL_VAR`] for the suites, `--postgres-url` for `tessera-bench`). Either
//! is removed when its [`TestDatabase`] drops (or, reporting failures, by
//! [`TestDatabase::remove`]). Nothing is migrated here; opening the URL with
//! `tessera_store::open` (or starting the server on it) applies the migrations.
//!
//! Creating and dropping a PostgreSQL database runs on a thread with its own runtime, so the same
//! calls work from plain `#[test]`s, from async tests and while unwinding from a failed assertion
//! (from async code, call them in `spawn_blocking` to keep the runtime's worker free).
//!
//! [`PgServer`] is a whole PostgreSQL server of one test's own, for tests that stop and start it.

use std::path::Path;

use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;

mod server;
pub use server::{postgres_bin_dir, PgServer, ServerError, DEFAULT_BIN_DIRS, POSTGRES_BIN_VAR};

/// Environment variable with an admin URL of a PostgreSQL server that may create databases, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_URL_VAR: &str = "TESSERA_TEST_POSTGRES_URL";

/// Which backend a test database is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file, `tessera.db`, in a temporary folder.
    Sqlite,
    /// A database of its own on the server named by [`POSTGRES_URL_VAR`].
    Postgres,
}

/// An empty database of one test, removed (folder deleted, or `drop database … with (force)`) when
/// this value drops.
pub struct TestDatabase {
    /// The URL to open: `sqlite:///tmp/…/tessera.db` or `postgres://…/tessera_test_<uuid>`.
    pub url: String,
    /// The backend `url` is on.
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// [`TestDatabase::remove`] has dropped it already.
    Done,
}

impl TestDatabase {
    /// A fresh database on `backend`, or `None` for PostgreSQL when [`POSTGRES_URL_VAR`] is unset.
    ///
    /// # Panics
    /// When the temporary folder cannot be made, or the PostgreSQL server refuses the connection
    /// or the `create database`.
    pub fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => Self::postgres(),
        }
    }

    /// A fresh SQLite file in a temporary folder (the file itself is created on first open).
    ///
    /// # Panics
    /// When the temporary folder cannot be made.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder for a test database");
        let url = format!("sqlite://{}", dir.path().join("tessera.db").display());
        Self { url, backend: Backend::Sqlite, cleanup: Cleanup::Dir(dir) }
    }

    /// A fresh PostgreSQL database, or `None` when [`POSTGRES_URL_VAR`] is unset.
    ///
    /// # Panics
    /// When the server named by [`POSTGRES_URL_VAR`] refuses the connection or the
    /// `create database`.
    pub fn postgres() -> Option<Self> {
        let admin_url = std::env::var(POSTGRES_URL_VAR).ok()?;
        let db = Self::postgres_on(&admin_url, "tessera_test")
            .unwrap_or_else(|e| panic!("create a test database through {POSTGRES_URL_VAR}: {e}"));
        Some(db)
    }

    /// A fresh PostgreSQL database named `{prefix}_{uuid}` (`prefix`: lowercase letters, digits
    /// and `_`) on the server at `admin_url`, whose user may create databases. The returned
    /// [`url`](Self::url) is `admin_url` with its database name replaced.
    ///
    /// # Errors
    /// The server refuses the connection or the `create database`.
    pub fn postgres_on(admin_url: &str, prefix: &str) -> Result<Self, sqlx::Error> {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        admin_sql(admin_url, &format!(r#"create database "{name}""#))?;
        let url = with_database(admin_url, &name);
        Ok(Self {
            url,
            backend: Backend::Postgres,
            cleanup: Cleanup::Postgres { admin_url: admin_url.to_owned(), name },
        })
    }

    /// The PostgreSQL database's name (`None` on SQLite).
    pub fn postgres_name(&self) -> Option<&str> {
        match &self.cleanup {
            Cleanup::Postgres { name, .. } => Some(name),
            Cleanup::Dir(_) | Cleanup::Done => None,
        }
    }

    /// The temporary folder holding the SQLite file `tessera.db` and its `-wal`/`-shm` companions
    /// (`None` on PostgreSQL).
    pub fn sqlite_dir(&self) -> Option<&Path> {
        match &self.cleanup {
            Cleanup::Dir(dir) => Some(dir.path()),
            Cleanup::Postgres { .. } | Cleanup::Done => None,
        }
    }

    /// Removes the database now (`drop database … with (force)`, which also ends connections
    /// still open to it; or deletes the SQLite folder) and says whether that worked, where
    /// dropping the value only tries.
    ///
    /// # Errors
    /// The PostgreSQL server refuses the connection or the `drop database`; the SQLite folder
    /// cannot be deleted.
    pub fn remove(mut self) -> Result<(), sqlx::Error> {
        match std::mem::replace(&mut self.cleanup, Cleanup::Done) {
            Cleanup::Dir(dir) => dir.close().map_err(sqlx::Error::Io),
            Cleanup::Postgres { admin_url, name } => {
                admin_sql(&admin_url, &format!(r#"drop database if exists "{name}" with (force)"#))
            }
            Cleanup::Done => Ok(()),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            // Best effort: `with (force)` ends pooled connections that may still be closing.
            let _ = admin_sql(admin_url, &format!(r#"drop database if exists "{name}" with (force)"#));
        }
    }
}

/// Runs one statement on a new connection to `admin_url`, on a thread of its own.
fn admin_sql(admin_url: &str, sql: &str) -> Result<(), sqlx::Error> {
    let (admin_url, sql) = (admin_url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(async {
            let mut conn = PgConnection::connect(&admin_url).await?;
            conn.execute(sql.as_str()).await?;
            conn.close().await
        })
    })
    .join()
    .expect("the admin connection's thread panicked")
}

/// `url` with its database name replaced by `name` (scheme, user info, host, port and query string
/// kept), e.g. `postgres://u@h:5432/test?sslmode=disable` → `postgres://u@h:5432/{name}?sslmode=disable`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[host_start..].find('/').map_or(base.len(), |i| host_start + i);
    format!("{}/{name}{query}", &base[..host_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_swapped_into_urls() {
        assert_eq!(with_database("postgres://u@h:5432/test", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/test?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            with_database("postgres://u:p%2F@db/t?sslmode=disable", "x"),
            "postgres://u:p%2F@db/x?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://db:5433", "x"), "postgresql://db:5433/x");
    }

    #[test]
    fn a_sqlite_database_is_removed_on_drop() {
        let db = TestDatabase::sqlite();
        let path = std::path::PathBuf::from(db.url.strip_prefix("sqlite://").unwrap());
        std::fs::write(&path, b"x").unwrap();
        drop(db);
        assert!(!path.exists(), "{} is left behind", path.display());
        let db = TestDatabase::sqlite();
        let dir = db.sqlite_dir().unwrap().to_owned();
        assert!(dir.is_dir());
        db.remove().unwrap();
        assert!(!dir.exists(), "{} is left behind", dir.display());
    }

    #[test]
    fn a_postgres_database_exists_until_drop() {
        let Some(db) = TestDatabase::postgres() else {
            eprintln!("{POSTGRES_URL_VAR} is unset: skipped");
            return;
        };
        assert!(admin_sql(&db.url, "select 1").is_ok(), "cannot connect to {}", db.url);
        let url = db.url.clone();
        drop(db);
        assert!(admin_sql(&url, "select 1").is_err(), "{url} still exists");
        let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap();
        let db = TestDatabase::postgres_on(&admin_url, "tessera_testdb").unwrap();
        assert!(db.postgres_name().unwrap().starts_with("tessera_testdb_"));
        let url = db.url.clone();
        db.remove().unwrap();
        assert!(admin_sql(&url, "select 1").is_err(), "{url} still exists after remove()");
    }
}
