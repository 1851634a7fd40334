//! SQLite and PostgreSQL implementations of [`tessera_core::Store`]; the only crate that names
//! sqlx.
//!
//! [`open()`] picks the backend from the database URL, connects and applies the embedded
//! migrations (`migrations/sqlite`, `migrations/postgres`), and returns an `Arc<dyn Store>`.
//! Both backends run the same SQL text with `$1…$n` placeholders (except the batch insert of
//! token rows, which each backend does its own faster way) on a schema whose columns have the
//! same names and meanings: ids are UUIDs, times are `bigint` microseconds since the Unix
//! epoch (UTC), metadata is JSON. Private `…Row` types convert rows into domain types.

mod api_key;
mod convert;
mod dashboard;
mod dashboard_ops;
mod idempotency;
mod idempotency_ops;
mod member;
mod open;
mod org;
mod postgres;
mod sqlite;
mod store_impl;
mod user;
mod user_ops;
mod user_token;

pub use open::{migrate, open, OpenError, DEFAULT_DATABASE_URL};
pub use postgres::{PgStore, REVOCATION_CHANNEL};
pub use sqlite::SqliteStore;
