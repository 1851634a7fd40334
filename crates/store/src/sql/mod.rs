//! The storage methods, one file per concern, each holding its SQL text, its private `…Row`
//! types and its `impl …Store for Backend` block:
//!
//! | file | trait |
//! | --- | --- |
//! | `orgs.rs` | [`tessera_core::OrgStore`]: orgs, signing keys, first-run setup |
//! | `members.rs` | [`tessera_core::MemberStore`]: members and sessions |
//! | `api_keys.rs` | [`tessera_core::ApiKeyStore`] |
//! | `users.rs` | [`tessera_core::UserStore`] |
//! | `user_tokens.rs` | [`tessera_core::TokenStore`] |
//! | `idempotency.rs` | [`tessera_core::IdempotencyStore`] |
//! | `overview.rs` | [`tessera_core::OverviewStore`] |
//! | `audit.rs` | [`tessera_core::AuditStore`], and `append`, which the audited methods call |
//!
//! This folder is written once and compiled once per backend: `sqlite.rs` and `postgres.rs`
//! each include it with `#[path = "sql/mod.rs"] mod sql;`, after defining the three names it
//! builds on, which it sees here as `super::…`:
//!
//! - `Db`: the sqlx database (`sqlx::Sqlite` / `sqlx::Postgres`);
//! - `Backend`: the store type the traits are implemented for (`SqliteStore` / `PgStore`), with
//!   a `pool: sqlx::Pool<Db>` field and the inherent methods that differ between backends:
//!   `begin_write` (how a write transaction starts), `announce_revocation` (how other
//!   processes learn of a committed revocation) and `insert_token_batch`;
//! - `ROW_LOCKS`: whether `select … for update` exists and is needed (PostgreSQL) or a write
//!   transaction already excludes every other writer (SQLite's `BEGIN IMMEDIATE`).
//!
//! Both backends run the same SQL text, with `$1…$n` placeholders, on schemas whose columns have
//! the same names and meanings.

use super::{Backend, Db, ROW_LOCKS};
use crate::convert::storage;

/// Checks that the database answers (`Store::ping`).
///
/// # Errors
/// [`tessera_core::Error::Storage`] if it does not.
pub(super) async fn ping(pool: &sqlx::Pool<Db>) -> tessera_core::Result<()> {
    sqlx::query("select 1").execute(pool).await.map_err(storage)?;
    Ok(())
}

mod api_keys;
mod audit;
mod idempotency;
mod members;
mod orgs;
mod overview;
pub(super) mod user_tokens;
mod users;
