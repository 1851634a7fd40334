//! Opening and migrating databases by URL.

use sqlx::Connection;
use tessera_store::{migrate, open, OpenError, DEFAULT_DATABASE_URL};

use crate::fixtures::*;
use crate::harness::TestDb;

contract!(migrate_counts_and_is_idempotent,);

async fn migrate_counts_and_is_idempotent(db: &TestDb) {
    // The test database was opened, so it is already current.
    assert_eq!(migrate(&db.fresh.url).await.unwrap(), 0);
    let empty = crate::harness::fresh(db.backend).unwrap();
    let folder = match db.backend {
        crate::harness::Backend::Sqlite => "sqlite",
        crate::harness::Backend::Postgres => "postgres",
    };
    let files = std::fs::read_dir(format!("{}/../../migrations/{folder}", env!("CARGO_MANIFEST_DIR"))).unwrap().count();
    assert!(files >= 3, "0001_init, 0002_idempotency, 0003_dashboard at least");
    assert_eq!(migrate(&empty.url).await.unwrap(), files, "every migration file is applied");
    assert_eq!(migrate(&empty.url).await.unwrap(), 0);
    let store = open(&empty.url).await.unwrap();
    org(&*store, "acme").await;
    assert_eq!(migrate(&empty.url).await.unwrap(), 0);
}

#[tokio::test]
async fn sqlite_open_creates_a_missing_folder_and_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested").join("deeper").join("tessera.db");
    // The `sqlite:` form without slashes, as in `sqlite:./data/tessera.db`.
    let url = format!("sqlite:{}", file.display());
    let store = open(&url).await.unwrap();
    store.ping().await.unwrap();
    org(&*store, "acme").await;
    assert!(file.is_file());

    // WAL is a property of the file, so a separate connection can check it.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (mode,): (String,) = sqlx::query_as("pragma journal_mode").fetch_one(&mut conn).await.unwrap();
    assert_eq!(mode, "wal");
    // Reopening an existing file keeps its data.
    drop(store);
    let again = open(&url).await.unwrap();
    assert!(again.org_by_slug("acme").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_memory_databases_work_across_pool_connections() {
    let store = open("sqlite::memory:").await.unwrap();
    org(&*store, "acme").await;
    // Concurrent reads use several pooled connections; all must see the same database.
    let reads: Vec<_> = (0..8)
        .map(|_| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move { store.org_by_slug("acme").await })
        })
        .collect();
    for read in reads {
        assert!(read.await.unwrap().unwrap().is_some());
    }
}

#[tokio::test]
async fn bad_urls_are_open_errors_without_secrets() {
    for url in ["mysql://root:s3cret@localhost/db", "", "tessera.db", "http://u:s3cret@h/"] {
        let err = open(url).await.err().unwrap_or_else(|| panic!("{url:?} opened"));
        assert!(matches!(err, OpenError::UnsupportedScheme { .. }), "{url:?}: {err:?}");
        let msg = err.to_string();
        assert!(!msg.contains("s3cret"), "{msg}");
        assert!(msg.contains("postgres://") && msg.contains("sqlite:"), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg}");
        assert!(migrate(url).await.is_err());
    }
    // A supported scheme with an unknown host names the URL, but never its password. (A refused
    // connection would be retried for the pool's 30-second acquire timeout: too slow for a test.)
    let err = open("postgres://tessera:s3cret@db.invalid:5432/tessera").await.err().unwrap();
    assert!(matches!(err, OpenError::Connect { .. }), "{err:?}");
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert!(err.to_string().contains("db.invalid:5432"), "{err}");
}

#[test]
fn the_default_database_is_a_sqlite_file_under_data() {
    assert_eq!(DEFAULT_DATABASE_URL, "sqlite://data/tessera.db");
}
