//! Per-test databases for both backends, and the `contract!` macro that runs one test body on
//! each.

use std::io::Write;
use std::sync::{Arc, Once};

use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;
use tessera_core::Store;

/// Environment variable with an admin URL of a PostgreSQL server that may create databases.
pub const POSTGRES_URL_VAR: &str = "TESSERA_TEST_POSTGRES_URL";

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An empty database (no migrations applied) that is removed when this value drops.
pub struct Fresh {
    pub url: String,
    _cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin_url, name } = self else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop may run inside the test's runtime (or while unwinding from a failed assertion), where
        // blocking on a future is not allowed, so the best-effort cleanup gets a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin_url).await.ok()?;
                // `with (force)` ends the store's pooled connections that may still be closing.
                conn.execute(format!(r#"drop database if exists "{name}" with (force)"#).as_str()).await.ok()
            })
        })
        .join();
    }
}

impl Fresh {
    /// An empty database on `backend`, or `None` if PostgreSQL is not configured.
    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}/tessera.db", dir.path().display());
                Some(Self { url, _cleanup: Cleanup::Dir(dir) })
            }
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
                    postgres_skipped_banner();
                    return None;
                };
                let name = format!("tessera_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = PgConnection::connect(&admin_url).await.expect("connect to TESSERA_TEST_POSTGRES_URL");
                conn.execute(format!(r#"create database "{name}""#).as_str()).await.expect("create test database");
                let _ = conn.close().await;
                let url = with_database(&admin_url, &name);
                Some(Self { url, _cleanup: Cleanup::Postgres { admin_url, name } })
            }
        }
    }
}

/// A migrated, open store of its own for one test.
pub struct TestDb {
    // Declared first so the pool closes before the database is removed.
    pub store: Arc<dyn Store>,
    pub backend: Backend,
    pub fresh: Fresh,
}

impl TestDb {
    /// A migrated store on `backend`, or `None` if PostgreSQL is not configured.
    pub async fn new(backend: Backend) -> Option<Self> {
        let fresh = Fresh::new(backend).await?;
        let store = tessera_store::open(&fresh.url).await.expect("open test database");
        Some(Self { store, backend, fresh })
    }

    /// The store as the trait object the server holds.
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }
}

/// `url` with its database name replaced by `name` (query string kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[host_start..].find('/').map_or(base.len(), |i| host_start + i);
    format!("{}/{name}{query}", &base[..host_end])
}

fn postgres_skipped_banner() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Written to the real stderr, not through `eprintln!`, which the test harness captures.
        let _ = writeln!(
            std::io::stderr(),
            "\n!!! {POSTGRES_URL_VAR} is unset: PostgreSQL contract tests SKIPPED !!!\n\
             !!! e.g. {POSTGRES_URL_VAR}=postgres://postgres@127.0.0.1:5432/test cargo test -p tessera-store !!!\n"
        );
    });
}

/// Declares each `async fn name(db: &TestDb)` of the calling module as two tests,
/// `sqlite::name` and `postgres::name`.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = crate::harness::TestDb::new(crate::harness::Backend::Sqlite).await.unwrap();
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = crate::harness::TestDb::new(crate::harness::Backend::Postgres).await else {
                        return;
                    };
                    super::$name(&db).await;
                }
            )*
        }
    };
}

#[test]
fn database_names_are_swapped_into_urls() {
    assert_eq!(with_database("postgres://u@h:5432/test", "x"), "postgres://u@h:5432/x");
    assert_eq!(with_database("postgres://u@h/test?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}
