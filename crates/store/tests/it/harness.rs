//! Per-test databases for both backends, and the `contract!` macro that runs one test body on
//! each.

use std::io::Write;
use std::sync::{Arc, Once};

use tessera_core::Store;
pub use tessera_testdb::{Backend, TestDatabase, POSTGRES_URL_VAR};

/// An empty database (no migrations applied) on `backend`, removed when the value drops, or
/// `None` (after a banner on stderr) if PostgreSQL is not configured.
pub fn fresh(backend: Backend) -> Option<TestDatabase> {
    let db = TestDatabase::new(backend);
    if db.is_none() {
        postgres_skipped_banner();
    }
    db
}

/// A migrated, open store of its own for one test.
pub struct TestDb {
    // Declared first so the pool closes before the database is removed.
    pub store: Arc<dyn Store>,
    pub backend: Backend,
    pub fresh: TestDatabase,
}

impl TestDb {
    /// A migrated store on `backend`, or `None` if PostgreSQL is not configured.
    pub async fn new(backend: Backend) -> Option<Self> {
        let fresh = fresh(backend)?;
        let store = tessera_store::open(&fresh.url).await.expect("open test database");
        Some(Self { store, backend, fresh })
    }

    /// The store as the trait object the server holds.
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }
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
