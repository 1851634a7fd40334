//! SQLite and PostgreSQL implementations of [`tessera_core::Store`]; the only crate that names
//! sqlx.
//!
//! [`open()`] picks the backend from the database URL, connects and applies the embedded
//! migrations (`migrations/sqlite`, `migrations/postgres`), and returns an `Arc<dyn Store>`.
//!
//! Where things are:
//! - `sql/`: the storage methods, one file per concern (`users.rs` holds `UserStore`'s SQL, row
//!   type and method bodies, and so on). The folder is written once against three names and
//!   compiled once per backend; see `sql/mod.rs`.
//! - `sqlite.rs`, `postgres.rs`: each backend's store type, connection settings, migrations,
//!   revocation notices, and the few things that differ between the backends (how a write
//!   transaction starts, whether rows are locked, how a batch of token rows goes in).
//! - `open.rs`: choosing the backend by URL, pool settings, URL redaction.
//! - `convert.rs`: stored times (`bigint` microseconds since the Unix epoch, UTC) and sqlx
//!   errors to domain errors.
//!
//! Ids are UUIDs and metadata is JSON on both backends. Private `…Row` types convert rows into
//! domain types.

// `sql/` is included by both `sqlite.rs` and `postgres.rs` on purpose: one source, compiled once
// per backend (see `sql/mod.rs`).
#![allow(clippy::duplicate_mod)]

mod convert;
mod open;
mod postgres;
mod sqlite;

pub use open::redact as redact_url;
pub use open::{
    migrate, open, open_with, OpenError, StoreOptions, DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_DATABASE_URL,
    DEFAULT_STATEMENT_TIMEOUT,
};
pub use postgres::{PgStore, REVOCATION_CHANNEL};
pub use sqlite::SqliteStore;

/// The connection counts of `pool` ([`tessera_core::Store::pool_stats`]).
fn pool_stats<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> tessera_core::store::PoolStats {
    let size = pool.size();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(size);
    tessera_core::store::PoolStats { in_use: size - idle, idle, max: pool.options().get_max_connections() }
}
