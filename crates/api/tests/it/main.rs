//! API integration tests: the real router over a real SQLite file, driven with `oneshot`.

mod auth;
mod claimr;
mod errors;
mod helpers;
mod idempotency;
mod isolation;
mod openapi;
mod tokens;
mod users;
