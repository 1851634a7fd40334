//! The storage contract suite: every behaviour of `tessera_core::Store` that callers rely on,
//! run against SQLite (always) and PostgreSQL (when `TESSERA_TEST_POSTGRES_URL` is set).
//!
//! Each test gets a database of its own: a fresh SQLite file in a temporary folder, or a fresh
//! PostgreSQL database created through `TESSERA_TEST_POSTGRES_URL` and dropped afterwards.
//! Test names end in `::sqlite::<name>` or `::postgres::<name>`, so either half can be filtered.

#[macro_use]
mod harness;
mod api_keys;
mod audit;
mod dashboard;
mod fixtures;
mod idempotency;
mod opening;
mod orgs;
mod token_lists;
mod tokens;
mod user_edits;
mod user_lists;
mod users;
